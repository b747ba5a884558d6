  price DECIMAL(10, 2),
