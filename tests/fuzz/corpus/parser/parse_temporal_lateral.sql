SELECT o.order_id, o.price * r.rate AS converted
FROM orders AS o
JOIN currency_rates FOR SYSTEM_TIME AS OF o.order_time AS r
ON o.currency = r.currency;
SELECT * FROM orders o LEFT JOIN customers FOR SYSTEM_TIME AS OF o.proc_time c ON o.cid = c.id;
SELECT s, word FROM docs, LATERAL TABLE(split_words(s)) AS T(word);
SELECT s, word, len FROM docs LEFT JOIN LATERAL TABLE(split_words(s)) AS T(word, len) ON TRUE;
SELECT * FROM docs CROSS JOIN LATERAL TABLE(gen(3));
SELECT * FROM t, LATERAL (SELECT x FROM u WHERE u.k = t.k) AS l;
SELECT id, tag FROM posts CROSS JOIN UNNEST(tags) AS t (tag);
