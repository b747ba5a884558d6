  total AS price * 2,
