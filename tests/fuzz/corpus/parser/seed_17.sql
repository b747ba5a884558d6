ALTER MODEL sentiment SET ('temperature' = '0.1');
