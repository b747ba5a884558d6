  tags ARRAY<STRING>,
