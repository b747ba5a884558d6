  kts TIMESTAMP(3) METADATA FROM 'timestamp',
