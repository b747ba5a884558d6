/*
 * bench_decode.c: how fast records become batch rows, next to the limits
 * measured in the same run.
 *
 *   split    the ceiling: finding the line ends of the same buffer (memchr)
 *   json     Sluice's json decoder: every line decoded into a batch of 1024
 *            rows (7 declared fields incl. a timestamp and an array)
 *   jansson  jansson's DOM parse of each line (json_loadb + json_decref),
 *            the comparison DESIGN.md cites
 *   csv      Sluice's csv decoder on the same rows written as csv
 *   datagen  the datagen source producing 5-column rows (BIGINT, INT,
 *            DOUBLE, STRING(10), TIMESTAMP) into batches, unthrottled
 *
 * Usage: bench_decode [records [only]]   (default 200000 ~200-byte records;
 * only = json|csv|jansson|datagen runs that one after split, for profiling).
 * Each figure is the best of 5 passes. Results go in bench/RESULTS.md.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connector.h"
#include "format_int.h"

#define PASSES 5

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double secs(int64_t ns)
{
    return (double)ns / 1e9;
}

static void report(const char *what, long n, size_t bytes, int64_t best_ns,
                   double ceiling)
{
    double rps = (double)n / secs(best_ns);
    printf("%-8s %8.2f M records/s %8.1f MB/s", what, rps / 1e6,
           (double)bytes / secs(best_ns) / 1e6);
    if (ceiling > 0)
        printf("   (%4.1f%% of split)", 100.0 * rps / ceiling);
    printf("\n");
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    const char *only = argc > 2 ? argv[2] : NULL;
    if (n < 1)
        n = 1;
    sl_buf json, csv;
    sl_buf_init(&json, 0);
    sl_buf_init(&csv, 0);
    static const char *const paths[] = {"home", "cart", "product/detail",
                                        "search", "checkout/confirm"};
    for (long i = 0; i < n; i++) {
        uint64_t r = next();
        char session[17];
        for (int k = 0; k < 16; k++)
            session[k] = "0123456789abcdef"[(r >> (k * 4)) & 15];
        session[16] = '\0';
        long uid = (long)(r % 10000000);
        const char *path = paths[r % 5];
        int ms = (int)(r % 1000), sec = (int)(r / 1000 % 60);
        double price = (double)(r % 100000) / 100.0;
        const char *ok = (r >> 40) & 1 ? "true" : "false";
        sl_buf_printf(&json,
                      "{\"user_id\":%ld,\"session\":\"%s\",\"url\":"
                      "\"https://shop.example.com/%s?ref=campaign-%04ld\","
                      "\"ts\":\"2024-03-05 10:11:%02d.%03d\",\"price\":%.2f,"
                      "\"ok\":%s,\"tags\":[\"new\",\"mobile\"]}\n",
                      uid, session, path, uid % 10000, sec, ms, price, ok);
        sl_buf_printf(&csv,
                      "%ld,%s,https://shop.example.com/%s?ref=campaign-%04ld,"
                      "2024-03-05 10:11:%02d.%03d,%.2f,%s,\"[\"\"new\"\","
                      "\"\"mobile\"\"]\"\n",
                      uid, session, path, uid % 10000, sec, ms, price, ok);
    }
    if (json.rc || csv.rc) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    printf("%ld records, %.0f bytes/record (json), %.0f (csv)\n", n,
           (double)json.len / (double)n, (double)csv.len / (double)n);

    sl_arena arena;
    sl_arena_init(&arena, 4096, 0);
    sl_type t_str = {.id = SL_TYPE_VARCHAR, .precision = SL_TYPE_MAX_LEN};
    sl_type t_ts = {.id = SL_TYPE_TIMESTAMP, .precision = 3};
    sl_type t_arr = {.id = SL_TYPE_ARRAY, .elem = &t_str};
    const char *names[] = {"user_id", "session", "url", "ts",
                           "price",   "ok",      "tags"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_BIGINT),
                              &t_str,
                              &t_str,
                              &t_ts,
                              sl_type_simple(SL_TYPE_DOUBLE),
                              sl_type_simple(SL_TYPE_BOOLEAN),
                              &t_arr};
    sl_schema *schema = sl_schema_new(&arena, 7, names, types);
    sl_batch *batch = sl_batch_new(schema, 1024);
    sl_options opts = {0, NULL};
    sl_err err;
    sl_err_clear(&err);

    /* split: the ceiling */
    int64_t best = INT64_MAX;
    long lines = 0;
    for (int pass = 0; pass < PASSES; pass++) {
        int64_t t0 = sl_mono_ns();
        const char *p = json.data, *end = json.data + json.len;
        lines = 0;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl)
                break;
            lines++;
            p = nl + 1;
        }
        int64_t dt = sl_mono_ns() - t0;
        if (dt < best)
            best = dt;
    }
    double ceiling = (double)lines / secs(best);
    report("split", lines, json.len, best, 0);

    /* json: Sluice's decoder */
    for (int f = 0; f < 2; f++) {
        const char *fmt_name = f ? "csv" : "json";
        sl_buf *data = f ? &csv : &json;
        sl_format_info info = {schema, NULL, &opts, f ? "csv." : "json."};
        sl_decoder *dec = NULL;
        if (only && strcmp(only, fmt_name) &&
            !(f == 0 && !strcmp(only, "jansson")))
            continue;
        if (sl_format_find(fmt_name)->open_decoder(&info, &dec, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        best = INT64_MAX;
        for (int pass = 0;
             pass < PASSES && !(only && f == 0 && !strcmp(only, "jansson"));
             pass++) {
            int64_t t0 = sl_mono_ns();
            const char *p = data->data, *end = data->data + data->len;
            sl_batch_clear(batch);
            while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl)
                    break;
                if (sl_batch_is_full(batch))
                    sl_batch_clear(batch);
                sl_value *row = sl_batch_append_row(batch);
                if (dec->decode(dec, p, (size_t)(nl - p), batch, row, &err)) {
                    fprintf(stderr, "%s: %s\n", fmt_name, err.msg);
                    return 1;
                }
                p = nl + 1;
            }
            int64_t dt = sl_mono_ns() - t0;
            if (dt < best)
                best = dt;
        }
        if (best != INT64_MAX)
            report(fmt_name, n, data->len, best, ceiling);
        dec->close(dec);
        if (f == 0 && (!only || !strcmp(only, "jansson"))) {
            /* jansson DOM parse of the same lines */
            best = INT64_MAX;
            for (int pass = 0; pass < PASSES; pass++) {
                int64_t t0 = sl_mono_ns();
                const char *p = json.data, *end = json.data + json.len;
                while (p < end) {
                    const char *nl = memchr(p, '\n', (size_t)(end - p));
                    if (!nl)
                        break;
                    json_error_t je;
                    json_t *j = json_loadb(p, (size_t)(nl - p), 0, &je);
                    if (!j) {
                        fprintf(stderr, "jansson: %s\n", je.text);
                        return 1;
                    }
                    json_decref(j);
                    p = nl + 1;
                }
                int64_t dt = sl_mono_ns() - t0;
                if (dt < best)
                    best = dt;
            }
            report("jansson", n, json.len, best, ceiling);
        }
    }

    /* datagen: 5 columns, unthrottled */
    if (!only || !strcmp(only, "datagen")) {
        const char *dn[] = {"id", "n", "x", "s", "ts"};
        sl_type t_s10 = {.id = SL_TYPE_VARCHAR, .precision = 10};
        const sl_type *dt[] = {sl_type_simple(SL_TYPE_BIGINT),
                               sl_type_simple(SL_TYPE_INT),
                               sl_type_simple(SL_TYPE_DOUBLE), &t_s10, &t_ts};
        sl_schema *ds = sl_schema_new(&arena, 5, dn, dt);
        sl_batch *db = sl_batch_new(ds, 1024);
        sl_option items[] = {{"rows-per-second", "1000000000000", false},
                             {"seed", "1", false}};
        sl_options dopts = {2, items};
        sl_table_info ti = {.name = "g", .schema = ds, .options = &dopts};
        long rows = n * 10;
        best = INT64_MAX;
        for (int pass = 0; pass < PASSES; pass++) {
            for (int i = 0; i < 2; i++)
                items[i].used = false;
            sl_source *src = NULL;
            if (sl_connector_find("datagen")->open_source(&ti, &src, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            int64_t t0 = sl_mono_ns();
            long got = 0;
            while (got < rows) {
                sl_batch_clear(db);
                sl_read_status st;
                if (src->ops->read(src, db, &st, &err)) {
                    fprintf(stderr, "%s\n", err.msg);
                    return 1;
                }
                got += db->n_rows;
            }
            int64_t d = sl_mono_ns() - t0;
            if (d < best)
                best = d;
            src->ops->close(src);
        }
        printf("%-8s %8.2f M rows/s (5 columns: BIGINT, INT, DOUBLE, "
               "VARCHAR(10), TIMESTAMP)\n",
               "datagen", (double)rows / secs(best) / 1e6);
        sl_batch_free(db);
    }

    sl_batch_free(batch);
    sl_arena_free(&arena);
    sl_buf_free(&json);
    sl_buf_free(&csv);
    return 0;
}
