SELECT * FROM order
