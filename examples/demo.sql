-- demo.sql: the pipeline `make demo` runs, offline and without keys:
--   datagen -> Kafka topic 'transactions' (embedded broker in this process)
--   -> ML_PREDICT with an in-process XGBoost model -> Kafka topic 'scores'
--   -> flagged rows printed.
CREATE TABLE gen (id BIGINT, f0 DOUBLE, f1 DOUBLE, f2 DOUBLE, f3 DOUBLE) WITH (
  'connector' = 'datagen', 'number-of-rows' = '2000', 'seed' = '7',
  'rows-per-second' = '100000',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '2000',
  'fields.f0.min' = '-3', 'fields.f0.max' = '3', 'fields.f1.min' = '-3', 'fields.f1.max' = '3',
  'fields.f2.min' = '-3', 'fields.f2.max' = '3', 'fields.f3.min' = '-3', 'fields.f3.max' = '3'
);
CREATE TABLE transactions (id BIGINT, f0 DOUBLE, f1 DOUBLE, f2 DOUBLE, f3 DOUBLE) WITH (
  'connector' = 'kafka', 'topic' = 'transactions',
  'properties.bootstrap.servers' = 'embedded', 'properties.group.id' = 'scorer',
  'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset',
  'format' = 'json'
);
CREATE TABLE scores (id BIGINT, score DOUBLE) WITH (
  'connector' = 'kafka', 'topic' = 'scores',
  'properties.bootstrap.servers' = 'embedded', 'properties.group.id' = 'alerter',
  'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset',
  'format' = 'json'
);
CREATE MODEL fraud INPUT (f0 DOUBLE, f1 DOUBLE, f2 DOUBLE, f3 DOUBLE) OUTPUT (score DOUBLE)
  WITH ('provider' = 'xgboost', 'path' = 'tests/data/xgb_model.json');
CREATE TABLE alerts (id BIGINT, score DOUBLE) WITH ('connector' = 'print', 'print-identifier' = 'alert');

-- 1. produce 2000 generated transactions into Kafka
INSERT INTO transactions SELECT * FROM gen;
-- 2. score every transaction with the model, write the scores to Kafka
EXPLAIN INSERT INTO scores SELECT id, score FROM ML_PREDICT(TABLE transactions, MODEL fraud, DESCRIPTOR(f0, f1, f2, f3));
INSERT INTO scores SELECT id, score FROM ML_PREDICT(TABLE transactions, MODEL fraud, DESCRIPTOR(f0, f1, f2, f3));
-- 3. read the scores back from Kafka and print the suspicious ones
INSERT INTO alerts SELECT id, ROUND(score, 4) FROM scores WHERE score > 0.995;
