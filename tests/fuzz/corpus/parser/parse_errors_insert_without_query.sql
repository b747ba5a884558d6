INSERT INTO sink (a, b)
