SELECT * FROM ML_PREDICT(TABLE t, MODEL m, DESCRIPTOR(a, b), MAP['async', 'true', 'max-concurrent', '4']);
