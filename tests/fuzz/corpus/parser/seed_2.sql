  order_id BIGINT NOT NULL,
