  user_id STRING,
