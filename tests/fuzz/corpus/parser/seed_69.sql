 comment */ FROM t;
