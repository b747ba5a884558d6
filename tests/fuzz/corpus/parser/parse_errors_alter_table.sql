ALTER TABLE t SET ('a' = 'b')
