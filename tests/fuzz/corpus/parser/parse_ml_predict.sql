SELECT id, label, score FROM ML_PREDICT(TABLE reviews, MODEL sentiment, DESCRIPTOR(text));
SELECT * FROM ML_PREDICT(TABLE reviews, MODEL sentiment, DESCRIPTOR(title, body), MAP['async', 'true', 'max-concurrent-operations', '8']);
SELECT * FROM ML_PREDICT(INPUT => TABLE reviews, MODEL => MODEL cat.db.sentiment, ARGS => DESCRIPTOR(text), CONFIG => MAP['timeout', '10s']);
SELECT * FROM TABLE(ML_PREDICT(TABLE reviews, MODEL sentiment, DESCRIPTOR(text))) AS p;
select * from ml_predict(table reviews, model `Sentiment`, descriptor(`text`));
SELECT LLM_CALL('summarizer', 'Summarize: ' || body) AS summary FROM docs;
