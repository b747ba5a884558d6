ALTER MODEL IF EXISTS sentiment RESET ('temperature', 'x');
