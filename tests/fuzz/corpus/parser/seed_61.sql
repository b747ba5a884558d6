SELECT ARRAY[1, 2, 3], MAP['a', 1, 'b', 2], ROW(1, 'x'), (1, 2), arr[1], m['k'], r.f, t.r.f, (r).f, f(x).g, a[1].b, ARRAY[1][1], ARRAY[] FROM t;
