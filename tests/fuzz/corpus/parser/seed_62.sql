SELECT COUNT(*), COUNT(DISTINCT x), COUNT(1) FILTER (WHERE x > 0), db.myfunc(1), `my func`(1), upper(s), LEFT(s, 2), RIGHT(s, 1) FROM t;
