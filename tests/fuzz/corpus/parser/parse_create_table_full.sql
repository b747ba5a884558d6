CREATE TEMPORARY TABLE IF NOT EXISTS cat.db.orders (
    order_id   BIGINT NOT NULL COMMENT 'the id',
    user_id    STRING,
    price      DECIMAL(10, 2),
    quantity   INT,
    total      AS price * quantity COMMENT 'computed',
    proc       AS PROCTIME(),
    event_time TIMESTAMP(3) METADATA FROM 'timestamp',
    part       INT METADATA FROM 'partition' VIRTUAL,
    `offset`   BIGINT METADATA VIRTUAL,
    headers    MAP<STRING, BYTES> METADATA,
    WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND,
    PRIMARY KEY (order_id, user_id) NOT ENFORCED
) COMMENT 'all orders'
PARTITIONED BY (user_id)
WITH (
    'connector' = 'kafka',
    'topic' = 'orders',
    'properties.bootstrap.servers' = 'embedded',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'json',
    'json.ignore-parse-errors' = 'true'
);
