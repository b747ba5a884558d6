CREATE MODEL m INPUT (prompt STRING) WITH ('provider' = 'openai')
