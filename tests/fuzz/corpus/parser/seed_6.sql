  attrs MAP<STRING, INT>,
