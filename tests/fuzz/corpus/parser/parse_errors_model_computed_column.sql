CREATE MODEL m INPUT (p AS 1) OUTPUT (a STRING) WITH ('provider' = 'openai')
