SELECT (price * quantity
FROM orders
