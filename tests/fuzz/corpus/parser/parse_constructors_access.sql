SELECT ARRAY[1, 2, 3], ARRAY['a'], ARRAY[], ARRAY[ARRAY[1], ARRAY[2, 3]];
SELECT MAP['a', 1, 'b', 2], MAP[], MAP['k', ARRAY[1]];
SELECT ROW(1, 'x', TRUE), ROW(), (1, 2);
SELECT arr[1], m['key'], arr[i + 1], nested[1][2], ARRAY[10, 20][1] FROM t;
SELECT r.f, t.r.f, cat.db.t.c, (r).f, r.f.g, f(x).g, arr[1].name, m['k'].x, (a + b).c FROM t;
SELECT `user`.`address`.`city` FROM t;
