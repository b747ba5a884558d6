SELECT 1 + 2 * 3, (1 + 2) * 3, 1 - 2 - 3, 1 - (2 - 3), 8 / 4 / 2, 8 / (4 / 2), 7 % 3 * 2;
SELECT a OR b AND c, (a OR b) AND c, NOT a AND b, NOT (a AND b), NOT NOT a;
SELECT a = b, a <> b, a != b, a < b, a <= b, a > b, a >= b, a = b = c, a = (b = c);
SELECT -a, +a, -a * b, -(a * b), - -a, -(-1), a - -b, -a[1], (-a)[1];
SELECT 'a' || 'b' || c, 'x' || 1 + 2, 'x' || (1 + 2), ('x' || 1) + 2, a * b || c;
SELECT a + b > c AND NOT d OR e IS NULL;
SELECT (a = b) IS TRUE, a = b IS TRUE, a = (b IS TRUE), NOT a IS NULL, (NOT a) IS NULL;
SELECT a BETWEEN b AND c AND d, a BETWEEN (b AND c) AND d, a BETWEEN b + 1 AND c * 2;
SELECT (((a))), ((a + b)) * c;
