SELECT a = b = c, a = (b = c), (a = b) IS NULL, a = b IS NULL, (a LIKE b) = c, a LIKE (b = c) FROM t;
