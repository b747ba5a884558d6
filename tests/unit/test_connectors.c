/*
 * test_connectors.c: the datagen, filesystem, print and blackhole
 * connectors opened through sl_connector_find with hand-built table info
 * and options, as the planner does: datagen determinism (against a
 * reference splitmix64), bounds, sequences and rate limiting; filesystem
 * round trips of every type through sink then source in json and csv,
 * malformed input (file:line: reason, or skip and count), directories,
 * long lines and multi-line csv records; print output captured from the
 * real stdout/stderr file descriptors; blackhole.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "connector.h"
#include "filesystem.h"
#include "harness.h"

typedef struct table {
    sl_arena arena;
    sl_schema *schema;
    sl_option items[32];
    sl_options opts;
    sl_table_info info;
    sl_err err;
} table;

static sl_type t_str = {.id = SL_TYPE_VARCHAR, .precision = SL_TYPE_MAX_LEN};
static sl_type t_dec = {.id = SL_TYPE_DECIMAL, .precision = 8, .scale = 3};
static sl_type t_ts = {.id = SL_TYPE_TIMESTAMP, .precision = 3};
static sl_type t_ltz = {.id = SL_TYPE_TIMESTAMP_LTZ, .precision = 3};
static sl_type t_bytes = {.id = SL_TYPE_VARBINARY,
                          .precision = SL_TYPE_MAX_LEN};
static sl_type t_int = {.id = SL_TYPE_INT};
static sl_type t_arr = {.id = SL_TYPE_ARRAY, .elem = &t_int};
static sl_type t_map = {.id = SL_TYPE_MAP, .elem = &t_str, .value = &t_int};
static sl_field row_fields[] = {{"x", &t_int}, {"y", &t_str}};
static sl_type t_row = {.id = SL_TYPE_ROW, .n_fields = 2, .fields = row_fields};

static void tb_init(table *tb, const char *name, int n, const char **names,
                    const sl_type **types)
{
    memset(tb, 0, sizeof(*tb));
    sl_arena_init(&tb->arena, 4096, 0);
    tb->schema = sl_schema_new(&tb->arena, n, names, types);
    tb->opts.items = tb->items;
    tb->info.name = name;
    tb->info.schema = tb->schema;
    tb->info.options = &tb->opts;
    tb->info.batch_rows = 256;
    sl_err_clear(&tb->err);
}

static void tb_opt(table *tb, const char *k, const char *v)
{
    tb->items[tb->opts.n++] = (sl_option){k, v, false};
}

static void tb_reset_used(table *tb)
{
    for (int i = 0; i < tb->opts.n; i++)
        tb->items[i].used = false;
}

static void tb_free(table *tb)
{
    sl_arena_free(&tb->arena);
}

static sl_source *open_source(table *tb, const char *connector)
{
    const sl_connector *c = sl_connector_find(connector);
    cr_assert_not_null(c, "%s", connector);
    cr_assert_not_null(c->open_source);
    sl_source *src = NULL;
    tb_reset_used(tb);
    int rc = c->open_source(&tb->info, &src, &tb->err);
    cr_assert_eq(rc, 0, "%s", tb->err.msg);
    return src;
}

static int try_open_source(table *tb, const char *connector)
{
    sl_source *src = NULL;
    tb_reset_used(tb);
    int rc =
        sl_connector_find(connector)->open_source(&tb->info, &src, &tb->err);
    if (src)
        src->ops->close(src);
    return rc;
}

static sl_sink *open_sink(table *tb, const char *connector)
{
    const sl_connector *c = sl_connector_find(connector);
    cr_assert_not_null(c);
    sl_sink *sink = NULL;
    tb_reset_used(tb);
    int rc = c->open_sink(&tb->info, &sink, &tb->err);
    cr_assert_eq(rc, 0, "%s", tb->err.msg);
    return sink;
}

/* Read until EOF (or max_rows) into one batch; returns the final status. */
static sl_read_status drain(sl_source *src, sl_batch *batch, table *tb)
{
    sl_read_status st = SL_READ_MORE;
    for (int i = 0; i < 100000 && st != SL_READ_EOF && !sl_batch_is_full(batch);
         i++) {
        int rc = src->ops->read(src, batch, &st, &tb->err);
        cr_assert_eq(rc, 0, "%s", tb->err.msg);
    }
    return st;
}

/* ---- registry ----------------------------------------------------------- */

Test(registry, finds_connectors_and_formats)
{
    cr_assert_not_null(sl_connector_find("DataGen"));
    cr_assert_not_null(sl_connector_find("filesystem"));
    cr_assert_not_null(sl_connector_find("print"));
    cr_assert_not_null(sl_connector_find("blackhole"));
    cr_assert_null(sl_connector_find("nope"));
    cr_assert(sl_connector_find("print")->sink_accepts_updates);
    cr_assert_not(sl_connector_find("filesystem")->sink_accepts_updates);
    cr_assert_null(sl_connector_find("print")->open_source);
}

/* ---- datagen ------------------------------------------------------------ */

static uint64_t ref_splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

Test(datagen, deterministic_against_reference)
{
    const char *names[] = {"a", "b"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_BIGINT),
                              sl_type_simple(SL_TYPE_BOOLEAN)};
    table tb;
    tb_init(&tb, "g", 2, names, types);
    tb_opt(&tb, "connector", "datagen");
    tb_opt(&tb, "seed", "42");
    tb_opt(&tb, "number-of-rows", "50");
    tb_opt(&tb, "rows-per-second", "1000000000");
    sl_source *src = open_source(&tb, "datagen");
    cr_assert(src->is_bounded);
    sl_batch *batch = sl_batch_new(tb.schema, 100);
    cr_assert_eq(drain(src, batch, &tb), SL_READ_EOF);
    cr_assert_eq(batch->n_rows, 50);
    uint64_t s = 42;
    for (int r = 0; r < 50; r++) {
        const sl_value *row = sl_batch_crow(batch, r);
        cr_assert_eq(row[0].u.i, (int64_t)ref_splitmix(&s), "row %d", r);
        cr_assert_eq(row[1].u.i, (int64_t)(ref_splitmix(&s) >> 63));
        cr_assert_eq(batch->kinds[r], SLUICE_ROW_INSERT);
    }
    cr_assert_float_eq(src->ops->progress(src), 1.0, 1e-9);
    src->ops->close(src);
    sl_batch_free(batch);
    tb_free(&tb);
}

Test(datagen, sequences_bounds_and_nulls)
{
    const char *names[] = {"id", "v", "d", "s", "n", "ts", "name"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_INT),
                              sl_type_simple(SL_TYPE_SMALLINT),
                              sl_type_simple(SL_TYPE_DOUBLE),
                              &t_str,
                              sl_type_simple(SL_TYPE_BIGINT),
                              &t_ts,
                              &t_str};
    table tb;
    tb_init(&tb, "g", 7, names, types);
    tb_opt(&tb, "fields.id.kind", "sequence");
    tb_opt(&tb, "fields.id.start", "5");
    tb_opt(&tb, "fields.id.end", "304");
    tb_opt(&tb, "fields.v.min", "-3");
    tb_opt(&tb, "fields.v.max", "3");
    tb_opt(&tb, "fields.d.min", "1.5");
    tb_opt(&tb, "fields.d.max", "2.5");
    tb_opt(&tb, "fields.s.length", "7");
    tb_opt(&tb, "fields.n.null-rate", "1");
    tb_opt(&tb, "fields.ts.max-past", "10 s");
    tb_opt(&tb, "fields.name.kind", "sequence");
    tb_opt(&tb, "fields.name.start", "1");
    tb_opt(&tb, "fields.name.end", "1000");
    tb_opt(&tb, "rows-per-second", "100000000");
    tb_opt(&tb, "seed", "7");
    sl_source *src = open_source(&tb, "datagen");
    cr_assert_float_eq(src->ops->progress(src), 0.0, 1e-9);
    sl_batch *batch = sl_batch_new(tb.schema, 1000);
    cr_assert_eq(drain(src, batch, &tb), SL_READ_EOF);
    cr_assert_eq(batch->n_rows, 300);
    for (int r = 0; r < 300; r++) {
        const sl_value *row = sl_batch_crow(batch, r);
        cr_assert_eq(row[0].u.i, 5 + r);
        cr_assert(row[1].u.i >= -3 && row[1].u.i <= 3);
        cr_assert(row[2].u.d >= 1.5 && row[2].u.d <= 2.5);
        cr_assert_eq(row[3].len, 7);
        cr_assert_eq(strspn(row[3].u.s, "0123456789abcdef"), 7);
        cr_assert_eq(row[4].kind, SL_V_NULL);
        int64_t now = 1704067200000LL + r * 1000 / 100000000;
        cr_assert(row[5].u.i <= now && row[5].u.i >= now - 10000);
        char want[16];
        sl_snprintf(want, sizeof(want), "%d", r + 1);
        cr_assert_str_eq(row[6].u.s, want);
    }
    src->ops->close(src);
    sl_batch_free(batch);
    tb_free(&tb);
}

Test(datagen, every_type_and_valid_nested_json)
{
    sl_type t_char = {.id = SL_TYPE_CHAR, .precision = 4};
    const char *names[] = {"b",  "ti",  "si", "i",   "bi", "f",
                           "d",  "dec", "c",  "s",   "by", "dt",
                           "tm", "ts",  "lt", "arr", "m",  "r"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_BOOLEAN),
                              sl_type_simple(SL_TYPE_TINYINT),
                              sl_type_simple(SL_TYPE_SMALLINT),
                              sl_type_simple(SL_TYPE_INT),
                              sl_type_simple(SL_TYPE_BIGINT),
                              sl_type_simple(SL_TYPE_FLOAT),
                              sl_type_simple(SL_TYPE_DOUBLE),
                              &t_dec,
                              &t_char,
                              &t_str,
                              &t_bytes,
                              sl_type_simple(SL_TYPE_DATE),
                              sl_type_simple(SL_TYPE_TIME),
                              &t_ts,
                              &t_ltz,
                              &t_arr,
                              &t_map,
                              &t_row};
    table tb;
    tb_init(&tb, "g", 18, names, types);
    tb_opt(&tb, "number-of-rows", "200");
    tb_opt(&tb, "rows-per-second", "100000000");
    tb_opt(&tb, "fields.s.var-len", "true");
    tb_opt(&tb, "fields.arr.length", "5");
    sl_source *src = open_source(&tb, "datagen");
    sl_batch *batch = sl_batch_new(tb.schema, 256);
    cr_assert_eq(drain(src, batch, &tb), SL_READ_EOF);
    cr_assert_eq(batch->n_rows, 200);
    for (int r = 0; r < 200; r++) {
        const sl_value *row = sl_batch_crow(batch, r);
        cr_assert(fabs(row[7].u.d) < 100000);
        cr_assert_eq(row[8].len, 4);
        cr_assert(row[9].len >= 1 && row[9].len <= 100);
        cr_assert_eq(row[10].kind, SL_V_BLOB);
        cr_assert(row[12].u.i >= 0 && row[12].u.i < 86400000);
        for (int c = 15; c < 18; c++) {
            json_error_t je;
            json_t *j = json_loadb(row[c].u.s, row[c].len, 0, &je);
            cr_assert_not_null(j, "%s", row[c].u.s);
            if (c == 15)
                cr_assert_eq(json_array_size(j), 5);
            json_decref(j);
        }
    }
    src->ops->close(src);
    sl_batch_free(batch);
    tb_free(&tb);
}

Test(datagen, rate_limit_without_sleeping)
{
    const char *names[] = {"a"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_INT)};
    table tb;
    tb_init(&tb, "g", 1, names, types);
    tb_opt(&tb, "rows-per-second", "100");
    sl_source *src = open_source(&tb, "datagen");
    cr_assert_not(src->is_bounded);
    cr_assert_float_eq(src->ops->progress(src), -1.0, 1e-9);
    sl_batch *batch = sl_batch_new(tb.schema, 1000);
    int64_t t0 = sl_mono_ns();
    sl_read_status st;
    cr_assert_eq(src->ops->read(src, batch, &st, &tb.err), 0);
    cr_assert_eq(st, SL_READ_IDLE);
    cr_assert(batch->n_rows >= 1 && batch->n_rows <= 2);
    int fd;
    int64_t wake;
    src->ops->wait_hint(src, &fd, &wake);
    cr_assert_eq(fd, -1);
    cr_assert(wake * 1000000 >= t0 && wake * 1000000 <= t0 + 50000000,
              "wake %lld", (long long)wake);
    /* reading again at once yields nothing more */
    int n = batch->n_rows;
    cr_assert_eq(src->ops->read(src, batch, &st, &tb.err), 0);
    cr_assert(batch->n_rows <= n + 1);
    struct timespec ts = {0, 300 * 1000000};
    nanosleep(&ts, NULL);
    cr_assert_eq(src->ops->read(src, batch, &st, &tb.err), 0);
    int64_t elapsed_ms = (sl_mono_ns() - t0) / 1000000;
    cr_assert(batch->n_rows >= 25, "%d rows", batch->n_rows);
    cr_assert(batch->n_rows <= elapsed_ms / 10 + 2, "%d rows in %lld ms",
              batch->n_rows, (long long)elapsed_ms);
    src->ops->close(src);
    sl_batch_free(batch);
    tb_free(&tb);
}

Test(datagen, option_errors)
{
    const char *names[] = {"a", "s"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_INT), &t_str};
    table tb;
    tb_init(&tb, "g", 2, names, types);
    tb_opt(&tb, "rows-per-secnd", "5");
    cr_assert_eq(try_open_source(&tb, "datagen"), SL_SQL);
    cr_assert_str_eq(tb.err.msg,
                     "unsupported option 'rows-per-secnd' for connector "
                     "'datagen' (did you mean 'rows-per-second'?)");
    tb_free(&tb);
    tb_init(&tb, "g", 2, names, types);
    tb_opt(&tb, "fields.a.kind", "sequence");
    tb_opt(&tb, "fields.a.start", "1");
    cr_assert_eq(try_open_source(&tb, "datagen"), SL_SQL);
    cr_assert(strstr(tb.err.msg, "fields.a.end"), "%s", tb.err.msg);
    tb_free(&tb);
    tb_init(&tb, "g", 2, names, types);
    tb_opt(&tb, "fields.a.max", "99999999999");
    cr_assert_eq(try_open_source(&tb, "datagen"), SL_SQL);
    tb_free(&tb);
    tb_init(&tb, "g", 2, names, types);
    tb_opt(&tb, "fields.zz.kind", "random");
    cr_assert_eq(try_open_source(&tb, "datagen"), SL_SQL);
    cr_assert(strstr(tb.err.msg, "fields.zz.kind"), "%s", tb.err.msg);
    tb_free(&tb);
}

/* ---- filesystem --------------------------------------------------------- */

static const char *all_names[] = {"b",  "ti",  "si",  "i",  "bi", "f",
                                  "d",  "dec", "s",   "by", "dt", "tm",
                                  "ts", "lt",  "arr", "m",  "r"};
static const sl_type *all_types[17];

static void init_all_types(void)
{
    const sl_type *t[] = {sl_type_simple(SL_TYPE_BOOLEAN),
                          sl_type_simple(SL_TYPE_TINYINT),
                          sl_type_simple(SL_TYPE_SMALLINT),
                          sl_type_simple(SL_TYPE_INT),
                          sl_type_simple(SL_TYPE_BIGINT),
                          sl_type_simple(SL_TYPE_FLOAT),
                          sl_type_simple(SL_TYPE_DOUBLE),
                          &t_dec,
                          &t_str,
                          &t_bytes,
                          sl_type_simple(SL_TYPE_DATE),
                          sl_type_simple(SL_TYPE_TIME),
                          &t_ts,
                          &t_ltz,
                          &t_arr,
                          &t_map,
                          &t_row};
    memcpy(all_types, t, sizeof(t));
}

static void round_trip(const char *format)
{
    init_all_types();
    char *dir = sl_test_tmpdir();
    char *path = sl_asprintf("%s/out.%s", dir, format);
    table tb;
    tb_init(&tb, "t", 17, all_names, all_types);
    tb_opt(&tb, "connector", "filesystem");
    tb_opt(&tb, "path", path);
    tb_opt(&tb, "format", format);
    /* rows from a seeded datagen: every type, some NULLs */
    table gt;
    tb_init(&gt, "g", 17, all_names, all_types);
    gt.info.schema = tb.schema;
    tb_opt(&gt, "seed", "3");
    tb_opt(&gt, "number-of-rows", "300");
    tb_opt(&gt, "rows-per-second", "1000000000");
    tb_opt(&gt, "fields.i.null-rate", "0.3");
    tb_opt(&gt, "fields.dt.null-rate", "0.3");
    tb_opt(&gt, "fields.f.min", "-100");
    tb_opt(&gt, "fields.f.max", "100");
    tb_opt(&gt, "fields.d.min", "-1e6");
    tb_opt(&gt, "fields.d.max", "1e6");
    tb_opt(&gt, "fields.s.var-len", "true");
    sl_source *gen = open_source(&gt, "datagen");
    sl_batch *in = sl_batch_new(tb.schema, 512);
    cr_assert_eq(drain(gen, in, &gt), SL_READ_EOF);
    gen->ops->close(gen);
    /* write in two batches */
    sl_sink *sink = open_sink(&tb, "filesystem");
    cr_assert_eq(sink->ops->write(sink, in, 1, &tb.err), 0, "%s", tb.err.msg);
    cr_assert_eq(sink->ops->acked(sink), 1);
    cr_assert_eq(sink->ops->write(sink, in, 2, &tb.err), 0);
    cr_assert_eq(sink->ops->flush(sink, 1000, &tb.err), 0);
    sink->ops->close(sink);
    /* and read back */
    sl_source *src = open_source(&tb, "filesystem");
    cr_assert(src->is_bounded);
    sl_batch *out = sl_batch_new(tb.schema, 1024);
    cr_assert_eq(drain(src, out, &tb), SL_READ_EOF);
    cr_assert_eq(out->n_rows, 600);
    cr_assert_float_eq(src->ops->progress(src), 1.0, 1e-9);
    cr_assert_eq(sl_filesystem_skipped(src), 0);
    for (int r = 0; r < 600; r++) {
        const sl_value *a = sl_batch_crow(in, r % 300);
        const sl_value *b = sl_batch_crow(out, r);
        cr_assert_eq(out->pos[r].split, 0);
        cr_assert_eq(out->pos[r].offset, r + 1);
        for (int c = 0; c < 17; c++) {
            const sl_value *x = &a[c], *y = &b[c];
            cr_assert_eq(y->kind, x->kind, "%s row %d col %s", format, r,
                         all_names[c]);
            if (x->kind == SL_V_INT) {
                int64_t want = x->u.i;
                if (c == 11) /* TIME(0) keeps whole seconds */
                    want -= want % 1000;
                cr_assert_eq(y->u.i, want, "%s row %d col %s", format, r,
                             all_names[c]);
            } else if (x->kind == SL_V_REAL) {
                double tol = c == 7 ? 1e-9 : fabs(x->u.d) * 1e-15;
                cr_assert_float_eq(y->u.d, x->u.d, tol, "%s col %s %.17g",
                                   format, all_names[c], x->u.d);
            } else if (x->kind != SL_V_NULL) {
                cr_assert(x->len == y->len && !memcmp(x->u.s, y->u.s, x->len),
                          "%s row %d col %s", format, r, all_names[c]);
            }
        }
    }
    src->ops->close(src);
    sl_batch_free(in);
    sl_batch_free(out);
    tb_free(&tb);
    tb_free(&gt);
    sl_free(path);
    sl_test_tmpdir_remove(dir);
}

Test(filesystem, round_trip_json)
{
    round_trip("json");
}

Test(filesystem, round_trip_csv)
{
    round_trip("csv");
}

static const char *ui_names[] = {"user_id", "name"};
static const sl_type *ui_types[] = {&(sl_type){.id = SL_TYPE_BIGINT}, &t_str};

Test(filesystem, json_error_names_file_and_line)
{
    char *dir = sl_test_tmpdir();
    char *path = sl_asprintf("%s/out.jsonl", dir);
    sl_test_write_file(path, "{\"user_id\": 1, \"name\": \"a\"}\n"
                             "\n"
                             "{\"user_id\": 2}\r\n"
                             "{\"user_id\": \"x\"}\n"
                             "{\"user_id\": 4}");
    table tb;
    tb_init(&tb, "t", 2, ui_names, ui_types);
    tb_opt(&tb, "path", path);
    tb_opt(&tb, "format", "json");
    sl_source *src = open_source(&tb, "filesystem");
    sl_batch *batch = sl_batch_new(tb.schema, 16);
    sl_read_status st;
    int rc = src->ops->read(src, batch, &st, &tb.err);
    cr_assert_neq(rc, 0);
    char *want = sl_asprintf("%s:4: field 'user_id': expected BIGINT, got "
                             "string \"x\"",
                             path);
    cr_assert_str_eq(tb.err.msg, want);
    sl_free(want);
    src->ops->close(src);
    /* ignore-parse-errors: skip and count */
    tb_opt(&tb, "json.ignore-parse-errors", "true");
    sl_err_clear(&tb.err);
    src = open_source(&tb, "filesystem");
    sl_batch_clear(batch);
    cr_assert_eq(drain(src, batch, &tb), SL_READ_EOF);
    cr_assert_eq(batch->n_rows, 3);
    cr_assert_eq(sl_filesystem_skipped(src), 1);
    cr_assert_eq(batch->pos[0].offset, 1);
    cr_assert_eq(batch->pos[1].offset, 3);
    cr_assert_eq(batch->pos[2].offset, 5);
    cr_assert_eq(sl_batch_crow(batch, 2)[0].u.i, 4);
    cr_assert_eq(sl_batch_crow(batch, 1)[1].kind, SL_V_NULL);
    cr_assert_eq(sl_filesystem_skipped(NULL), -1);
    src->ops->close(src);
    sl_batch_free(batch);
    tb_free(&tb);
    sl_free(path);
    sl_test_tmpdir_remove(dir);
}

Test(filesystem, csv_multiline_directory_and_skip)
{
    char *dir = sl_test_tmpdir();
    char *p1 = sl_asprintf("%s/b.csv", dir);
    char *p2 = sl_asprintf("%s/a.csv", dir);
    char *p3 = sl_asprintf("%s/.hidden", dir);
    sl_test_write_file(p1, "3,\"multi\nline\"\nbad,x\n4,d\n");
    sl_test_write_file(p2, "1,a\n2,\"b,c\"\n");
    sl_test_write_file(p3, "garbage\n");
    table tb;
    tb_init(&tb, "t", 2, ui_names, ui_types);
    tb_opt(&tb, "path", dir);
    tb_opt(&tb, "format", "csv");
    sl_source *src = open_source(&tb, "filesystem");
    sl_batch *batch = sl_batch_new(tb.schema, 16);
    sl_read_status st = SL_READ_MORE;
    int rc = 0;
    while (!rc && st != SL_READ_EOF)
        rc = src->ops->read(src, batch, &st, &tb.err);
    cr_assert_neq(rc, 0);
    char *want = sl_asprintf("%s:3: field 'user_id': expected BIGINT, got "
                             "\"bad\"",
                             p1);
    cr_assert_str_eq(tb.err.msg, want);
    sl_free(want);
    src->ops->close(src);
    tb_opt(&tb, "csv.ignore-parse-errors", "true");
    src = open_source(&tb, "filesystem");
    sl_batch_clear(batch);
    cr_assert_eq(drain(src, batch, &tb), SL_READ_EOF);
    cr_assert_eq(batch->n_rows, 4);
    cr_assert_eq(sl_filesystem_skipped(src), 1);
    int64_t ids[] = {1, 2, 3, 4};
    int32_t splits[] = {0, 0, 1, 1};
    int64_t lines[] = {1, 2, 1, 4};
    for (int r = 0; r < 4; r++) {
        cr_assert_eq(sl_batch_crow(batch, r)[0].u.i, ids[r]);
        cr_assert_eq(batch->pos[r].split, splits[r]);
        cr_assert_eq(batch->pos[r].offset, lines[r], "row %d", r);
    }
    cr_assert_str_eq(sl_batch_crow(batch, 2)[1].u.s, "multi\nline");
    cr_assert_str_eq(sl_batch_crow(batch, 1)[1].u.s, "b,c");
    src->ops->close(src);
    sl_batch_free(batch);
    tb_free(&tb);
    sl_free(p1);
    sl_free(p2);
    sl_free(p3);
    sl_test_tmpdir_remove(dir);
}

Test(filesystem, long_line_limit)
{
    char *dir = sl_test_tmpdir();
    char *path = sl_asprintf("%s/long.json", dir);
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_buf_puts(&b, "{\"user_id\": 1}\n{\"name\": \"");
    for (int i = 0; i < 300000; i++)
        sl_buf_putc(&b, 'x');
    sl_buf_puts(&b, "\"}\n");
    sl_test_write_file(path, sl_buf_cstr(&b));
    table tb;
    tb_init(&tb, "t", 2, ui_names, ui_types);
    tb_opt(&tb, "path", path);
    tb_opt(&tb, "format", "json");
    sl_source *src = open_source(&tb, "filesystem");
    sl_batch *batch = sl_batch_new(tb.schema, 16);
    cr_assert_eq(drain(src, batch, &tb), SL_READ_EOF);
    cr_assert_eq(batch->n_rows, 2);
    cr_assert_eq(sl_batch_crow(batch, 1)[1].len, 300000);
    src->ops->close(src);
    tb_opt(&tb, "source.max-line-length", "100kb");
    src = open_source(&tb, "filesystem");
    sl_batch_clear(batch);
    sl_read_status st = SL_READ_MORE;
    int rc = 0;
    while (!rc && st != SL_READ_EOF)
        rc = src->ops->read(src, batch, &st, &tb.err);
    cr_assert_eq(rc, SL_LIMIT);
    char *want = sl_asprintf("%s:2: record longer than 102400 bytes (raise "
                             "'source.max-line-length')",
                             path);
    cr_assert_str_eq(tb.err.msg, want);
    sl_free(want);
    src->ops->close(src);
    sl_buf_free(&b);
    sl_batch_free(batch);
    tb_free(&tb);
    sl_free(path);
    sl_test_tmpdir_remove(dir);
}

Test(filesystem, options_and_sink_rules)
{
    char *dir = sl_test_tmpdir();
    table tb;
    tb_init(&tb, "t", 2, ui_names, ui_types);
    tb_opt(&tb, "path", dir);
    cr_assert_eq(try_open_source(&tb, "filesystem"), SL_SQL);
    cr_assert(strstr(tb.err.msg, "'format'"), "%s", tb.err.msg);
    tb_opt(&tb, "format", "avro");
    sl_err_clear(&tb.err);
    cr_assert_eq(try_open_source(&tb, "filesystem"), SL_SQL);
    cr_assert(strstr(tb.err.msg, "unsupported format 'avro'"));
    tb.items[1].value = "json";
    tb_opt(&tb, "json.ignore-parse-error", "true");
    sl_err_clear(&tb.err);
    cr_assert_eq(try_open_source(&tb, "filesystem"), SL_SQL);
    cr_assert_str_eq(tb.err.msg,
                     "unsupported option 'json.ignore-parse-error' for "
                     "connector 'filesystem' (did you mean "
                     "'json.ignore-parse-errors'?)");
    tb.opts.n--;
    /* a directory path on a sink gets a part file; updates are refused */
    sl_err_clear(&tb.err);
    sl_sink *sink = open_sink(&tb, "filesystem");
    sl_batch *batch = sl_batch_new(tb.schema, 4);
    sl_value *row = sl_batch_append_row(batch);
    row[0] = sl_value_int(1);
    cr_assert_eq(sink->ops->write(sink, batch, 1, &tb.err), 0);
    batch->kinds[0] = SLUICE_ROW_UPDATE_BEFORE;
    cr_assert_eq(sink->ops->write(sink, batch, 2, &tb.err), SL_RUNTIME);
    cr_assert(strstr(tb.err.msg, "accepts only inserts (+I), got a -U row"),
              "%s", tb.err.msg);
    cr_assert_eq(sink->ops->acked(sink), 1);
    sink->ops->close(sink);
    /* the part file reads back */
    sl_err_clear(&tb.err);
    sl_source *src = open_source(&tb, "filesystem");
    sl_batch_clear(batch);
    cr_assert_eq(drain(src, batch, &tb), SL_READ_EOF);
    cr_assert_eq(batch->n_rows, 1);
    src->ops->close(src);
    sl_batch_free(batch);
    tb_free(&tb);
    sl_test_tmpdir_remove(dir);
}

/* ---- print and blackhole ------------------------------------------------ */

/* Run the print sink with fd (1 or 2) redirected to a file; return what
 * was printed. */
static char *capture_print(table *tb, int fd, sl_batch *batch)
{
    char *dir = sl_test_tmpdir();
    char *path = sl_asprintf("%s/out.txt", dir);
    fflush(stdout);
    fflush(stderr);
    int saved = dup(fd);
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert(f >= 0);
    dup2(f, fd);
    close(f);
    sl_sink *sink = open_sink(tb, "print");
    int rc = sink->ops->write(sink, batch, 7, &tb->err);
    cr_assert_eq(sink->ops->acked(sink), 7);
    cr_assert_eq(sink->ops->flush(sink, 100, &tb->err), 0);
    sink->ops->close(sink);
    fflush(stdout);
    fflush(stderr);
    dup2(saved, fd);
    close(saved);
    cr_assert_eq(rc, 0, "%s", tb->err.msg);
    char *text = sl_test_read_file(path, NULL);
    sl_free(path);
    sl_test_tmpdir_remove(dir);
    return text;
}

Test(print, flink_row_format)
{
    const char *names[] = {"id", "name", "ok", "ts", "score"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_INT), &t_str,
                              sl_type_simple(SL_TYPE_BOOLEAN), &t_ts,
                              sl_type_simple(SL_TYPE_DOUBLE)};
    table tb;
    tb_init(&tb, "p", 5, names, types);
    sl_batch *batch = sl_batch_new(tb.schema, 4);
    for (int k = 0; k < 4; k++) {
        sl_value *row = sl_batch_append_row(batch);
        row[0] = sl_value_int(k);
        sl_batch_set_text(batch, &row[1], "al, ice", 7);
        row[2] = sl_value_int(k & 1);
        row[3] = sl_value_int(1704164645678LL);
        batch->kinds[k] = (uint8_t)k;
    }
    sl_batch_row(batch, 3)[4] = sl_value_real(2.5);
    char *out = capture_print(&tb, 1, batch);
    cr_assert_str_eq(out,
                     "+I[0, al, ice, FALSE, 2024-01-02 03:04:05.678, null]\n"
                     "-U[1, al, ice, TRUE, 2024-01-02 03:04:05.678, null]\n"
                     "+U[2, al, ice, FALSE, 2024-01-02 03:04:05.678, null]\n"
                     "-D[3, al, ice, TRUE, 2024-01-02 03:04:05.678, 2.5]\n");
    sl_free(out);
    tb_opt(&tb, "print-identifier", "orders");
    tb_opt(&tb, "standard-error", "true");
    batch->n_rows = 1;
    out = capture_print(&tb, 2, batch);
    cr_assert_str_eq(
        out, "orders> +I[0, al, ice, FALSE, 2024-01-02 03:04:05.678, null]\n");
    sl_free(out);
    /* misspelt option */
    tb_opt(&tb, "print-identifer", "x");
    sl_sink *sink = NULL;
    tb_reset_used(&tb);
    cr_assert_eq(
        sl_connector_find("print")->open_sink(&tb.info, &sink, &tb.err),
        SL_SQL);
    cr_assert(strstr(tb.err.msg, "did you mean 'print-identifier'"), "%s",
              tb.err.msg);
    sl_batch_free(batch);
    tb_free(&tb);
}

Test(blackhole, accepts_everything)
{
    const char *names[] = {"a"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_INT)};
    table tb;
    tb_init(&tb, "b", 1, names, types);
    tb_opt(&tb, "connector", "blackhole");
    sl_sink *sink = open_sink(&tb, "blackhole");
    sl_batch *batch = sl_batch_new(tb.schema, 4);
    sl_batch_append_row(batch);
    batch->kinds[0] = SLUICE_ROW_DELETE;
    cr_assert_eq(sink->ops->write(sink, batch, 9, &tb.err), 0);
    cr_assert_eq(sink->ops->acked(sink), 9);
    cr_assert_eq(sink->ops->flush(sink, 0, &tb.err), 0);
    sink->ops->close(sink);
    tb_opt(&tb, "foo", "bar");
    tb_reset_used(&tb);
    sink = NULL;
    cr_assert_eq(
        sl_connector_find("blackhole")->open_sink(&tb.info, &sink, &tb.err),
        SL_SQL);
    sl_batch_free(batch);
    tb_free(&tb);
}

/* Every allocation failing in turn while opening and reading: SL_NOMEM
 * (or success), never a crash or a leak. */
Test(connectors, allocation_failures)
{
    char *dir = sl_test_tmpdir();
    char *path = sl_asprintf("%s/in.json", dir);
    sl_test_write_file(path, "{\"user_id\": 1, \"name\": \"a\"}\n");
    const char *which[] = {"datagen", "filesystem", "print", "blackhole"};
    for (int w = 0; w < 4; w++) {
        for (long n = 0; n < 40; n++) {
            table tb;
            tb_init(&tb, "t", 2, ui_names, ui_types);
            sl_batch *batch = sl_batch_new(tb.schema, 8);
            if (w == 1) {
                tb_opt(&tb, "path", path);
                tb_opt(&tb, "format", "json");
            }
            const sl_connector *c = sl_connector_find(which[w]);
            sl_alloc_fail_after(n);
            int rc;
            if (c->open_source) {
                sl_source *src = NULL;
                rc = c->open_source(&tb.info, &src, &tb.err);
                if (!rc) {
                    sl_read_status st;
                    rc = src->ops->read(src, batch, &st, &tb.err);
                    src->ops->close(src);
                }
            } else {
                sl_sink *sink = NULL;
                rc = c->open_sink(&tb.info, &sink, &tb.err);
                if (!rc)
                    sink->ops->close(sink);
            }
            sl_alloc_fail_after(-1);
            cr_assert(rc == SL_OK || rc == SL_NOMEM, "%s n=%ld rc=%d: %s",
                      which[w], n, rc, tb.err.msg);
            sl_batch_free(batch);
            tb_free(&tb);
        }
    }
    sl_free(path);
    sl_test_tmpdir_remove(dir);
}
