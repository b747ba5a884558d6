SELECT NOT a = b, NOT (a = b) = c, a AND NOT b, a BETWEEN b AND c AND d FROM t;
