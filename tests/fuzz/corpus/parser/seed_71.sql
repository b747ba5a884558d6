SELECT a - (b - c), a - b - c, a / (b * c), -a * b, -(a * b), (-a)[1], 'x' || (1 + 2), ('x' || 1) + 2 FROM t;
