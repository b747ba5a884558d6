CREATE TABLE a (id INT, PRIMARY KEY (id) NOT ENFORCED) WITH ('connector' = 'print');
CREATE TABLE b (id INT, CONSTRAINT pk_b PRIMARY KEY (id) NOT ENFORCED) WITH ('connector' = 'print');
CREATE TABLE c (id INT PRIMARY KEY NOT ENFORCED, v STRING) WITH ('connector' = 'print');
CREATE TABLE d (id INT CONSTRAINT pk_d PRIMARY KEY NOT ENFORCED) WITH ('connector' = 'print');
CREATE TABLE e (
  WATERMARK FOR ts AS ts,
  ts TIMESTAMP(3)
);
CREATE TABLE f (x INT);
CREATE TABLE g WITH ('connector' = 'blackhole') AS SELECT a, b FROM src;
CREATE TABLE h (a INT) WITH ();
