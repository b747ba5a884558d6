SELECT s, t FROM MyTable, LATERAL TABLE(split(s)) AS T(t);
