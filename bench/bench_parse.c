/*
 * bench_parse.c: parse speed of the SQL front end (parser/) on a typical
 * 30-line job (a Kafka source with a watermark, a model, a sink and an
 * INSERT with ML_PREDICT and a window aggregate).
 *
 * Prints statements/s and MB/s for sl_parse, the same for lexing alone
 * (the reference limit: a parser cannot beat its lexer) and the unparse
 * rate. Usage: bench_parse [seconds per measurement, default 2].
 * Figures and the command go in bench/RESULTS.md, section "Parser".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser_int.h"

static const char job[] =
    "-- a typical streaming job\n"
    "CREATE TABLE reviews (\n"
    "  review_id BIGINT,\n"
    "  product_id STRING,\n"
    "  body STRING,\n"
    "  rating INT,\n"
    "  ts TIMESTAMP(3) METADATA FROM 'timestamp',\n"
    "  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND\n"
    ") WITH (\n"
    "  'connector' = 'kafka', 'topic' = 'reviews',\n"
    "  'properties.bootstrap.servers' = 'localhost:9092',\n"
    "  'scan.startup.mode' = 'earliest-offset', 'format' = 'json'\n"
    ");\n"
    "CREATE MODEL sentiment INPUT (body STRING)\n"
    "  OUTPUT (label STRING, score DOUBLE)\n"
    "  WITH ('provider' = 'openai', 'model' = 'gpt-4o-mini');\n"
    "CREATE TABLE sentiment_by_product (\n"
    "  product_id STRING, window_start TIMESTAMP(3), n BIGINT,\n"
    "  positive BIGINT, avg_rating DOUBLE,\n"
    "  PRIMARY KEY (product_id, window_start) NOT ENFORCED\n"
    ") WITH ('connector' = 'upsert-kafka', 'topic' = 'out');\n"
    "CREATE TEMPORARY VIEW scored AS SELECT * FROM ML_PREDICT(\n"
    "  TABLE reviews, MODEL sentiment, DESCRIPTOR(body));\n"
    "INSERT INTO sentiment_by_product\n"
    "SELECT product_id, window_start, COUNT(*) AS n,\n"
    "  COUNT(*) FILTER (WHERE label = 'positive') AS positive,\n"
    "  AVG(CAST(rating AS DOUBLE)) AS avg_rating\n"
    "FROM TABLE(TUMBLE(TABLE scored, DESCRIPTOR(ts), INTERVAL '1' MINUTE))\n"
    "WHERE rating BETWEEN 1 AND 5 AND body IS NOT NULL\n"
    "GROUP BY product_id, window_start, window_end;\n";

static double now_s(void)
{
    return (double)sl_mono_ns() / 1e9;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? strtod(argv[1], NULL) : 2.0;
    if (secs <= 0)
        secs = 2.0;
    const char *text = job;
    size_t len = strlen(text);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';

    sl_arena arena;
    sl_arena_init(&arena, 1 << 16, 0);
    sl_err err;
    sl_err_clear(&err);
    sl_stmt_list list;
    if (sl_parse(text, len, &arena, &list, &err) != SL_OK) {
        fprintf(stderr, "bench_parse: %s\n", err.msg);
        return 1;
    }
    int n_stmts = list.n;

    /* reference: lexing alone */
    long lex_runs = 0;
    size_t tokens = 0;
    double t0 = now_s(), t1;
    do {
        for (int k = 0; k < 100; k++) {
            sl_lexer lx;
            sl_token tok;
            sl_lex_init(&lx, text, len);
            do {
                if (sl_lex_next(&lx, &tok, &err))
                    return 1;
                tokens++;
            } while (tok.kind != TK_EOF);
            lex_runs++;
        }
        t1 = now_s();
    } while (t1 - t0 < secs);
    double lex_s = t1 - t0;

    /* parse */
    long parse_runs = 0;
    t0 = now_s();
    do {
        for (int k = 0; k < 100; k++) {
            sl_arena_reset(&arena);
            if (sl_parse(text, len, &arena, &list, &err) != SL_OK)
                return 1;
            parse_runs++;
        }
        t1 = now_s();
    } while (t1 - t0 < secs);
    double parse_s = t1 - t0;

    /* unparse */
    sl_arena_reset(&arena);
    sl_parse(text, len, &arena, &list, &err);
    sl_buf out;
    sl_buf_init(&out, 0);
    long unparse_runs = 0;
    t0 = now_s();
    do {
        for (int k = 0; k < 100; k++) {
            for (int i = 0; i < list.n; i++) {
                sl_buf_reset(&out);
                sl_unparse_stmt(list.items[i], &out);
            }
            unparse_runs++;
        }
        t1 = now_s();
    } while (t1 - t0 < secs);
    double unparse_s = t1 - t0;

    printf("job: %d lines, %d statements, %zu bytes, %zu tokens\n", lines,
           n_stmts, len, tokens / (size_t)lex_runs);
    printf("parse:   %10.0f statements/s  %8.0f jobs/s  %7.1f MB/s\n",
           parse_runs * n_stmts / parse_s, parse_runs / parse_s,
           parse_runs * (double)len / parse_s / 1e6);
    printf("lex only (limit): %.0f statements/s  %.0f jobs/s  %.1f MB/s\n",
           lex_runs * n_stmts / lex_s, lex_runs / lex_s,
           lex_runs * (double)len / lex_s / 1e6);
    printf("unparse: %10.0f statements/s\n",
           unparse_runs * n_stmts / unparse_s);
    sl_buf_free(&out);
    sl_arena_free(&arena);
    return 0;
}
