SELECT 1 + 2 * 3 - (4 - 5) / 6 % 7, (1 + 2) * 3, a || b || 'c', -x, - -x, -(-5), +a, NOT NOT a, NOT (a AND b), (a OR b) AND c, a OR b AND c;
