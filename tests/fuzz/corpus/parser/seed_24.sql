SET 'table.exec.state.ttl' = '1 h'; SET; RESET 'x'; RESET;
