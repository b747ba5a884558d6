) COMMENT 'orders' WITH ('connector' = 'kafka', 'topic' = 'orders', 'format' = 'json');
