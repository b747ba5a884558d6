INSERT INTO sink (a, b) SELECT a, b FROM src;
