CREATE MODEL sentiment INPUT (text STRING) OUTPUT (label STRING, score DOUBLE) COMMENT 'm' WITH ('provider' = 'openai', 'task' = 'classification');
