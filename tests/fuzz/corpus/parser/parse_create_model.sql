CREATE MODEL sentiment
INPUT (text STRING)
OUTPUT (label STRING, score DOUBLE)
COMMENT 'classifies review sentiment'
WITH (
  'provider' = 'openai',
  'endpoint' = 'http://127.0.0.1:8080/v1/chat/completions',
  'api-key' = '${OPENAI_API_KEY}',
  'model' = 'gpt-4o-mini',
  'system-prompt' = 'Answer with one word: it''s positive or negative.'
);
CREATE TEMPORARY MODEL IF NOT EXISTS db.embedder INPUT (doc STRING COMMENT 'the text') OUTPUT (embedding ARRAY<FLOAT>) WITH ('provider' = 'openai', 'task' = 'embedding');
ALTER MODEL sentiment SET ('temperature' = '0.2', 'max-tokens' = '16');
ALTER MODEL IF EXISTS sentiment RESET ('temperature');
ALTER MODEL sentiment RENAME TO sentiment_v2;
