SET parallelism = 2
