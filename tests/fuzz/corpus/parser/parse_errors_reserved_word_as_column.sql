SELECT t.from FROM t
