CREATE TABLE t (id INT, PRIMARY KEY (id)) WITH ('connector' = 'print')
