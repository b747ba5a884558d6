-- demo.sql: the pipeline `make demo` runs, offline: generated card
-- transactions scored by an in-process XGBoost model, flagged ones printed.
CREATE TABLE transactions (
  id BIGINT, f0 DOUBLE, f1 DOUBLE, f2 DOUBLE, f3 DOUBLE
) WITH (
  'connector' = 'datagen', 'number-of-rows' = '2000', 'seed' = '7',
  'rows-per-second' = '5000',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '2000',
  'fields.f0.min' = '-3', 'fields.f0.max' = '3', 'fields.f1.min' = '-3', 'fields.f1.max' = '3',
  'fields.f2.min' = '-3', 'fields.f2.max' = '3', 'fields.f3.min' = '-3', 'fields.f3.max' = '3'
);
CREATE MODEL fraud INPUT (f0 DOUBLE, f1 DOUBLE, f2 DOUBLE, f3 DOUBLE) OUTPUT (score DOUBLE)
  WITH ('provider' = 'xgboost', 'path' = 'tests/data/xgb_model.json');
CREATE TABLE alerts (id BIGINT, score DOUBLE) WITH ('connector' = 'print', 'print-identifier' = 'alert');
EXPLAIN INSERT INTO alerts SELECT id, ROUND(score, 4) FROM ML_PREDICT(TABLE transactions, MODEL fraud, DESCRIPTOR(f0, f1, f2, f3)) WHERE score > 0.995;
INSERT INTO alerts SELECT id, ROUND(score, 4) FROM ML_PREDICT(TABLE transactions, MODEL fraud, DESCRIPTOR(f0, f1, f2, f3)) WHERE score > 0.995;
