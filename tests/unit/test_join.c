/*
 * test_join.c: stream-stream joins (window, interval and regular inner
 * joins) checked against a reference computation: SQLite over the whole
 * bounded input.
 *
 * The Nexmark queries that join (q3, q5, q7, q8) run in Sluice on 100k
 * generated events (100 s of event time at 1000 events/s, so windows
 * close many times while the job runs); the same events, read back from
 * the same seeded tables, are loaded into SQLite where the queries run in
 * plain SQL. Plan-time checks: outer joins and joins of updating inputs
 * are rejected with messages naming what is supported.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "op_join.h"
#include "sluice.h"

#define NX_OPTS "'events-num' = '100000', 'tps' = '1000', 'seed' = '7'"

#define NX_DDL                                                                 \
    "CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel "  \
    "STRING, url STRING, dateTime TIMESTAMP(3), extra STRING, WATERMARK FOR "  \
    "dateTime AS dateTime - INTERVAL '4' SECOND) WITH ('connector' = "         \
    "'nexmark', 'event.type' = 'bid', " NX_OPTS ");"                           \
    "CREATE TABLE person (id BIGINT, name STRING, emailAddress STRING, "       \
    "creditCard STRING, city STRING, state STRING, dateTime TIMESTAMP(3), "    \
    "extra STRING, WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND) " \
    "WITH ('connector' = 'nexmark', 'event.type' = 'person', " NX_OPTS ");"    \
    "CREATE TABLE auction (id BIGINT, itemName STRING, description STRING, "   \
    "initialBid BIGINT, reserve BIGINT, dateTime TIMESTAMP(3), expires "       \
    "TIMESTAMP(3), seller BIGINT, category BIGINT, extra STRING, WATERMARK "   \
    "FOR dateTime AS dateTime - INTERVAL '4' SECOND) WITH ('connector' = "     \
    "'nexmark', 'event.type' = 'auction', " NX_OPTS ");"

/* epoch ms of a 'YYYY-MM-DD HH:MM:SS.fff' text, and back */
#define MS(x)                                                                  \
    "CAST(round((julianday(" x ") - 2440587.5) * 86400000) AS INTEGER)"
#define TSX(x) "strftime('%Y-%m-%d %H:%M:%f', (" x ") / 1000.0, 'unixepoch')"

static void assert_same(sl_test_lines *got, sl_test_lines *want, int min_rows,
                        const char *what)
{
    sl_test_lines_sort(got);
    sl_test_lines_sort(want);
    cr_assert_geq(want->n, min_rows, "%s: reference too small (%d rows)", what,
                  want->n);
    cr_assert_eq(got->n, want->n, "%s: %d rows, reference %d", what, got->n,
                 want->n);
    for (int i = 0; i < got->n; i++)
        cr_assert_str_eq(got->v[i], want->v[i], "%s: row %d: %s vs %s", what, i,
                         got->v[i], want->v[i]);
}

/* Load a Sluice query's rows into a reference table (all as text; the
 * last column named `t` also gets its epoch ms in column `ms`). */
typedef struct loader {
    sqlite3_stmt *ins;
    int n;
} loader;

static int load_row(void *ctx, const sluice_row *row)
{
    loader *ld = ctx;
    for (int i = 0; i < ld->n; i++)
        sqlite3_bind_text(ld->ins, i + 1, sluice_row_text(row, i), -1,
                          SQLITE_TRANSIENT);
    cr_assert_eq(sqlite3_step(ld->ins), SQLITE_DONE);
    sqlite3_reset(ld->ins);
    return 0;
}

static void load(sluice *db, sqlite3 *ref, const char *table, int n_cols,
                 const char *cols, const char *query)
{
    char sql[1024];
    sl_snprintf(sql, sizeof(sql), "CREATE TABLE %s(%s, ms INTEGER)", table,
                cols);
    cr_assert_eq(sqlite3_exec(ref, sql, NULL, NULL, NULL), SQLITE_OK, "%s",
                 sqlite3_errmsg(ref));
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_buf_printf(&b, "INSERT INTO %s VALUES (", table);
    for (int i = 0; i < n_cols; i++)
        sl_buf_printf(&b, "?%d, ", i + 1);
    sl_buf_printf(&b, MS("?%d") ")", n_cols);
    loader ld = {NULL, n_cols};
    cr_assert_eq(sqlite3_prepare_v2(ref, sl_buf_cstr(&b), -1, &ld.ins, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(ref));
    sl_buf_free(&b);
    sqlite3_exec(ref, "BEGIN", NULL, NULL, NULL);
    cr_assert_eq(sluice_exec(db, query, load_row, &ld), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    sqlite3_exec(ref, "COMMIT", NULL, NULL, NULL);
    sqlite3_finalize(ld.ins);
}

static sluice *db;
static sqlite3 *ref;

static void setup(void)
{
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    cr_assert_eq(sluice_exec(db, NX_DDL, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    cr_assert_eq(sqlite3_open(":memory:", &ref), SQLITE_OK);
}

static void teardown(void)
{
    sluice_close(db);
    sqlite3_close(ref);
}

static void load_bids(void)
{
    load(db, ref, "b", 4, "auction INTEGER, bidder INTEGER, price INTEGER, t",
         "SELECT auction, bidder, price, dateTime FROM bid");
}

static void load_persons(void)
{
    load(db, ref, "p", 4, "id INTEGER, name, state, t",
         "SELECT id, name, state, dateTime FROM person");
}

static void load_auctions(void)
{
    load(db, ref, "a", 5,
         "id INTEGER, seller INTEGER, category INTEGER, expires, t",
         "SELECT id, seller, category, expires, dateTime FROM auction");
}

static void check(const char *query, const char *reference, int min_rows)
{
    sl_test_lines got = {0}, want = {0};
    cr_assert_eq(sluice_exec(db, query, sl_test_collect_inserts, &got),
                 SLUICE_OK, "%s: %s", query, sluice_errmsg(db));
    sl_test_query_lines(ref, reference, &want);
    assert_same(&got, &want, min_rows, query);
    sl_test_lines_free(&got);
    sl_test_lines_free(&want);
}

TestSuite(nexmark_join, .init = setup, .fini = teardown, .timeout = 120);

/* q3: regular join (state kept), filters on both sides */
Test(nexmark_join, q3_regular_join)
{
    load_persons();
    load_auctions();
    check("SELECT P.name, P.state, A.id FROM auction AS A INNER JOIN person "
          "AS P ON A.seller = P.id WHERE A.category = 10 AND (P.state = 'OR' "
          "OR P.state = 'ID' OR P.state = 'CA')",
          "SELECT p.name, p.state, a.id FROM a JOIN p ON a.seller = p.id "
          "WHERE a.category = 10 AND p.state IN ('OR', 'ID', 'CA')",
          40);
    /* the same as a comma join with the condition in WHERE */
    check("SELECT P.name, A.id FROM auction A, person P WHERE A.seller = "
          "P.id AND A.category = 12",
          "SELECT p.name, a.id FROM a JOIN p ON a.seller = p.id WHERE "
          "a.category = 12",
          40);
}

/* q7: interval join of the bids with the per-window maximum */
Test(nexmark_join, q7_interval_join)
{
    load_bids();
    sl_join_op_peak_state_bytes(true);
    check("SELECT B.auction, B.price, B.bidder, B.dateTime FROM bid B JOIN "
          "(SELECT MAX(price) AS maxprice, window_end AS dateTime FROM "
          "TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' "
          "SECOND)) GROUP BY window_start, window_end) B1 ON B.price = "
          "B1.maxprice WHERE B.dateTime BETWEEN B1.dateTime - INTERVAL '10' "
          "SECOND AND B1.dateTime",
          "SELECT b.auction, b.price, b.bidder, b.t FROM b JOIN (SELECT "
          "max(price) AS maxprice, ws + 10000 AS we FROM (SELECT price, ms - "
          "ms % 10000 AS ws FROM b) GROUP BY ws) m ON b.price = m.maxprice "
          "WHERE b.ms BETWEEN m.we - 10000 AND m.we",
          10);
    /* state expired by watermark while the job ran: the bids of about
     * 14 s (the bound plus the watermark delay) of 100 s, not all 92k
     * (about 21 MB) */
    int64_t peak = sl_join_op_peak_state_bytes(true);
    cr_assert_gt(peak, 0);
    cr_assert_lt(peak, 10 * 1000 * 1000, "join state peaked at %lld bytes",
                 (long long)peak);
    /* a plain interval join: earlier bids of the same price within 2 s
     * (both bounds in one BETWEEN, offsets on both ends) */
    sqlite3_exec(ref, "CREATE INDEX b_price ON b(price)", NULL, NULL, NULL);
    check("SELECT X.auction, Y.auction, X.dateTime FROM bid X JOIN bid Y ON "
          "X.price = Y.price AND X.dateTime BETWEEN Y.dateTime - INTERVAL "
          "'2' SECOND AND Y.dateTime - INTERVAL '0.001' SECOND",
          "SELECT x.auction, y.auction, x.t FROM b x JOIN b y ON x.price = "
          "y.price AND x.ms BETWEEN y.ms - 2000 AND y.ms - 1",
          40);
}

/* q8: window join of two window aggregates */
Test(nexmark_join, q8_window_join)
{
    load_persons();
    load_auctions();
    check("SELECT P.id, P.name, P.starttime FROM (SELECT id, name, "
          "window_start AS starttime, window_end AS endtime FROM "
          "TABLE(TUMBLE(TABLE person, DESCRIPTOR(dateTime), INTERVAL '10' "
          "SECOND)) GROUP BY id, name, window_start, window_end) P JOIN "
          "(SELECT seller, window_start AS starttime, window_end AS endtime "
          "FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(dateTime), INTERVAL "
          "'10' SECOND)) GROUP BY seller, window_start, window_end) A ON "
          "P.id = A.seller AND P.starttime = A.starttime AND P.endtime = "
          "A.endtime",
          "SELECT p.id, p.name, " TSX(
              "p.ws") " FROM (SELECT DISTINCT id, name, ms - ms % 10000 AS ws "
                      "FROM p) p JOIN (SELECT DISTINCT seller, ms - ms % "
                      "10000 AS ws FROM a) a ON p.id = a.seller AND p.ws = "
                      "a.ws",
          40);
}

/* q5: window join of a window aggregate with a window aggregate over a
 * window aggregate, with a residual condition */
Test(nexmark_join, q5_hot_items)
{
    load_bids();
    check("SELECT AuctionBids.auction, AuctionBids.num, AuctionBids.starttime "
          "FROM (SELECT auction, COUNT(*) AS num, window_start AS starttime, "
          "window_end AS endtime FROM TABLE(HOP(TABLE bid, "
          "DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND)) "
          "GROUP BY auction, window_start, window_end) AS AuctionBids JOIN "
          "(SELECT MAX(CountBids.num) AS maxn, CountBids.starttime, "
          "CountBids.endtime FROM (SELECT COUNT(*) AS num, window_start AS "
          "starttime, window_end AS endtime FROM TABLE(HOP(TABLE bid, "
          "DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND)) "
          "GROUP BY auction, window_start, window_end) AS CountBids GROUP BY "
          "CountBids.starttime, CountBids.endtime) AS MaxBids ON "
          "AuctionBids.starttime = MaxBids.starttime AND AuctionBids.endtime "
          "= MaxBids.endtime AND AuctionBids.num >= MaxBids.maxn",
          "WITH w AS (SELECT auction, ms - ms % 2000 - j * 2000 AS ws FROM b, "
          "(SELECT 0 AS j UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL "
          "SELECT 3 UNION ALL SELECT 4)), ab AS (SELECT auction, count(*) AS "
          "num, ws FROM w GROUP BY auction, ws), mb AS (SELECT max(num) AS "
          "maxn, ws FROM ab GROUP BY ws) SELECT ab.auction, ab.num, " TSX(
              "ab.ws") " FROM ab JOIN mb ON ab.ws = mb.ws AND ab.num >= "
                       "mb.maxn",
          40);
}

/* Applies a changelog to a multiset of row texts: +I/+U add a row, -U/-D
 * take back one equal row, which must be there. */
static int apply(void *ctx, const sluice_row *row)
{
    sqlite3 *r = ctx;
    sl_buf b;
    sl_buf_init(&b, 0);
    for (int i = 0; i < sluice_row_column_count(row); i++) {
        const char *t = sluice_row_text(row, i);
        sl_buf_printf(&b, "%s%s", i ? "|" : "", t ? t : "NULL");
    }
    sqlite3_stmt *st = NULL;
    int kind = sluice_row_kind(row);
    bool add = kind == SLUICE_ROW_INSERT || kind == SLUICE_ROW_UPDATE_AFTER;
    cr_assert_eq(sqlite3_prepare_v2(r,
                                    add ? "INSERT INTO got VALUES (?1)"
                                        : "DELETE FROM got WHERE rowid = "
                                          "(SELECT min(rowid) FROM got WHERE "
                                          "v = ?1)",
                                    -1, &st, NULL),
                 SQLITE_OK);
    sqlite3_bind_text(st, 1, sl_buf_cstr(&b), -1, SQLITE_TRANSIENT);
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    if (!add)
        cr_assert_eq(sqlite3_changes(r), 1, "retraction of %s not emitted",
                     sl_buf_cstr(&b));
    sl_buf_free(&b);
    return 0;
}

static void check_changelog(const char *query, const char *reference,
                            int min_rows)
{
    cr_assert_eq(sqlite3_exec(ref,
                              "DROP TABLE IF EXISTS got; CREATE TABLE "
                              "got(v TEXT)",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    cr_assert_eq(sluice_exec(db, query, apply, ref), SLUICE_OK, "%s: %s", query,
                 sluice_errmsg(db));
    sl_test_lines got = {0}, want = {0};
    sl_test_query_lines(ref, "SELECT v FROM got", &got);
    sl_test_query_lines(ref, reference, &want);
    assert_same(&got, &want, min_rows, query);
    sl_test_lines_free(&got);
    sl_test_lines_free(&want);
}

/* q4: join, an updating GROUP BY over it, and an updating GROUP BY over
 * that (AVG takes back the retracted maxima) */
Test(nexmark_join, q4_aggregates_over_join)
{
    load_bids();
    load_auctions();
    sqlite3_exec(ref, "CREATE INDEX b_auction ON b(auction)", NULL, NULL, NULL);
    const char *inner_ref =
        "SELECT max(b.price) AS final, a.id, a.category FROM a JOIN b ON a.id "
        "= b.auction AND b.ms BETWEEN a.ms AND " MS(
            "a.expires") " GROUP BY a.id, a.category";
    char sql[2048];
    check_changelog(
        "SELECT A.id, MAX(B.price) FROM auction A, bid B WHERE "
        "A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND "
        "A.expires GROUP BY A.id, A.category",
        (sl_snprintf(sql, sizeof(sql), "SELECT id, final FROM (%s)", inner_ref),
         sql),
        40);
    char ref_sql[2048];
    sl_snprintf(ref_sql, sizeof(ref_sql),
                "SELECT category, sum(final) / count(final) FROM (%s) GROUP BY "
                "category",
                inner_ref);
    check_changelog("SELECT Q.category, AVG(Q.final) FROM (SELECT "
                    "MAX(B.price) AS final, A.category FROM auction A, bid B "
                    "WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime "
                    "AND A.expires GROUP BY A.id, A.category) Q GROUP BY "
                    "Q.category",
                    ref_sql, 5);
}

/* q6's closest form: the average final price per seller over all its
 * auctions (Flink's q6 averages the last 10 with an OVER window over an
 * updating input, which neither Flink nor Sluice runs) */
Test(nexmark_join, q6_average_per_seller)
{
    load_bids();
    load_auctions();
    sqlite3_exec(ref, "CREATE INDEX b_auction ON b(auction)", NULL, NULL, NULL);
    check_changelog(
        "SELECT Q.seller, AVG(Q.final) FROM (SELECT MAX(B.price) AS final, "
        "A.seller FROM auction A, bid B WHERE A.id = B.auction AND "
        "B.dateTime BETWEEN A.dateTime AND A.expires GROUP BY A.id, "
        "A.seller) Q GROUP BY Q.seller",
        "SELECT seller, sum(final) / count(final) FROM (SELECT max(b.price) "
        "AS final, a.seller FROM a JOIN b ON a.id = b.auction AND b.ms "
        "BETWEEN a.ms AND " MS("a.expires") " GROUP BY a.id, a.seller) GROUP "
                                            "BY seller",
        40);
}

Test(nexmark_join, rejected_at_plan_time)
{
    sl_test_lines got = {0};
    cr_assert_neq(sluice_exec(db,
                              "SELECT P.name FROM person P LEFT JOIN auction "
                              "A ON A.seller = P.id",
                              sl_test_collect_inserts, &got),
                  SLUICE_OK);
    cr_assert(strstr(sluice_errmsg(db), "LEFT OUTER joins"), "%s",
              sluice_errmsg(db));
    cr_assert(strstr(sluice_errmsg(db), "interval joins"), "%s",
              sluice_errmsg(db));
    cr_assert_neq(sluice_exec(db,
                              "SELECT P.name FROM person P JOIN (SELECT "
                              "seller, COUNT(*) AS n FROM auction GROUP BY "
                              "seller) A ON A.seller = P.id",
                              sl_test_collect_inserts, &got),
                  SLUICE_OK);
    cr_assert(strstr(sluice_errmsg(db), "updating"), "%s", sluice_errmsg(db));
    cr_assert_eq(got.n, 0);
    sl_test_lines_free(&got);
}

/* ---- the operator alone: snapshot and restore of its state ------------ */

static const sl_schema *schema_of(sl_arena *a, int n, const char *const *names,
                                  sl_type_id id)
{
    const sl_type *types[8];
    for (int i = 0; i < n; i++)
        types[i] = sl_type_simple(id);
    sl_schema *s = sl_schema_new(a, n, names, types);
    cr_assert_not_null(s);
    return s;
}

/* push one tagged row (side, key, value) */
static void push_row(sl_operator *op, int side, int64_t key, int64_t v)
{
    sl_batch *b = sl_batch_new(op->in_schema, 4);
    sl_value *row = sl_batch_append_row(b);
    row[0] = sl_value_int(side);
    row[1 + side * 2] = sl_value_int(key);
    row[2 + side * 2] = sl_value_int(v);
    sl_err err;
    sl_err_clear(&err);
    bool accepted = false;
    cr_assert_eq(op->ops->push(op, b, &accepted, &err), SL_OK, "%s", err.msg);
    cr_assert(accepted);
    sl_batch_free(b);
}

static int pull_rows(sl_operator *op, int64_t *last_left, int64_t *last_right)
{
    sl_batch *out = sl_batch_new(op->out_schema, 64);
    sl_err err;
    sl_err_clear(&err);
    sl_op_status st;
    cr_assert_eq(op->ops->pull(op, out, &st, &err), SL_OK, "%s", err.msg);
    int n = out->n_rows;
    if (n) {
        *last_left = sl_batch_crow(out, n - 1)[1].u.i;
        *last_right = sl_batch_crow(out, n - 1)[3].u.i;
    }
    sl_batch_free(out);
    return n;
}

Test(join_op, snapshot_and_restore, .timeout = 30)
{
    sl_arena a;
    sl_arena_init(&a, 4096, 1u << 20);
    static const char *const side_names[] = {"k", "v"};
    static const char *const tag_names[] = {"side", "k0", "v0", "k1", "v1"};
    static const char *const out_names[] = {"k0", "v0", "k1", "v1"};
    const sl_schema *side = schema_of(&a, 2, side_names, SL_TYPE_BIGINT);
    const sl_schema *tag = schema_of(&a, 5, tag_names, SL_TYPE_BIGINT);
    const sl_schema *out = schema_of(&a, 4, out_names, SL_TYPE_BIGINT);
    sl_join_op_def def;
    memset(&def, 0, sizeof(def));
    def.mode = SL_JOIN_MODE_REGULAR;
    def.n_keys = 1;
    def.time_col[0] = def.time_col[1] = -1;
    sl_operator *op = NULL;
    sl_err err;
    sl_err_clear(&err);
    sl_join_side sides[2] = {{side, side, 0, NULL}, {side, side, 0, NULL}};
    cr_assert_eq(sl_join_op_new(tag, out, sides, &def, &op, &err), SL_OK, "%s",
                 err.msg);
    push_row(op, 0, 7, 100);
    push_row(op, 0, 8, 200);
    int64_t l = 0, r = 0;
    cr_assert_eq(pull_rows(op, &l, &r), 0);
    cr_assert_gt(op->ops->buffered(op), 0); /* state held: no snapshot */
    sqlite3 *state = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &state), SQLITE_OK);
    cr_assert_eq(op->ops->snapshot(op, state, "op0_", &err), SL_OK, "%s",
                 err.msg);
    cr_assert_eq(op->ops->buffered(op), 0); /* checkpoints keep it now */
    op->ops->close(op);
    /* a new operator resumes from the snapshot */
    sides[0] = (sl_join_side){side, side, 0, NULL};
    sides[1] = (sl_join_side){side, side, 0, NULL};
    cr_assert_eq(sl_join_op_new(tag, out, sides, &def, &op, &err), SL_OK);
    cr_assert_eq(op->ops->restore(op, state, "op0_", &err), SL_OK, "%s",
                 err.msg);
    push_row(op, 1, 8, 5);
    cr_assert_eq(pull_rows(op, &l, &r), 1);
    cr_assert_eq(l, 200);
    cr_assert_eq(r, 5);
    push_row(op, 1, 9, 6);
    cr_assert_eq(pull_rows(op, &l, &r), 0);
    op->ops->close(op);
    /* restoring where no snapshot was taken starts empty */
    sides[0] = (sl_join_side){side, side, 0, NULL};
    sides[1] = (sl_join_side){side, side, 0, NULL};
    cr_assert_eq(sl_join_op_new(tag, out, sides, &def, &op, &err), SL_OK);
    cr_assert_eq(op->ops->restore(op, state, "op1_", &err), SL_OK, "%s",
                 err.msg);
    push_row(op, 1, 8, 5);
    cr_assert_eq(pull_rows(op, &l, &r), 0);
    op->ops->close(op);
    sqlite3_close(state);
    sl_arena_free(&a);
}

/* ---- a join job stopped with a savepoint and resumed ------------------ */

static int grab_first(void *ctx, const sluice_row *row)
{
    const char *t = sluice_row_text(row, 0);
    sl_strlcpy(ctx, t ? t : "", 512);
    return 0;
}

/* ids found in the CSV part files of dir: seen[id] counts */
static void read_ids(const char *dir, int n, int *seen)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024];
        sl_snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        size_t len = 0;
        char *text = sl_test_read_file(path, &len);
        if (!text)
            continue;
        for (char *p = text; p < text + len;) {
            char *nl = memchr(p, '\n', (size_t)(text + len - p));
            if (!nl)
                break;
            int64_t id = 0;
            if (sl_parse_int64(p, (size_t)(nl - p), &id) == SL_OK && id >= 1 &&
                id <= n)
                seen[id]++;
            p = nl + 1;
        }
        sl_free(text);
    }
    closedir(d);
}

/* All of `a` is read (and its positions acknowledged) before the stop;
 * `b` trickles: after the resume its rows find their partners only in
 * the join state restored from the savepoint. */
Test(join_job, savepoint_keeps_join_state, .timeout = 60)
{
    char *tmp = sl_test_tmpdir();
    cr_assert_not_null(tmp);
    const int n = 3000;
    char tables[2048], sql[4096];
    sl_snprintf(tables, sizeof(tables),
                "CREATE TABLE a (id BIGINT) WITH ('connector'='datagen', "
                "'rows-per-second'='1000000', 'fields.id.kind'='sequence', "
                "'fields.id.start'='1', 'fields.id.end'='%d');"
                "CREATE TABLE b (id BIGINT) WITH ('connector'='datagen', "
                "'rows-per-second'='3000', 'fields.id.kind'='sequence', "
                "'fields.id.start'='1', 'fields.id.end'='%d');"
                "CREATE TABLE dst (id BIGINT) WITH ('connector'='filesystem', "
                "'path'='%s/out/', 'format'='csv');",
                n, n, tmp);
    const char *insert = "INSERT INTO dst SELECT a.id FROM a JOIN b ON a.id "
                         "= b.id";
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    sl_snprintf(sql, sizeof(sql),
                "SET 'state.dir' = '%s/state'; SET 'table.dml-sync' = "
                "'false'; SET 'pipeline.name' = 'join-job';%s",
                tmp, tables);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    char id[512] = "", path[512] = "";
    cr_assert_eq(sluice_exec(db, insert, grab_first, id), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    struct timespec ts = {0, 400 * 1000000L};
    nanosleep(&ts, NULL);
    sl_snprintf(sql, sizeof(sql), "STOP JOB '%s' WITH SAVEPOINT", id);
    cr_assert_eq(sluice_exec(db, sql, grab_first, path), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    sluice_close(db);
    int *seen = sl_calloc((size_t)n + 1, sizeof(int));
    cr_assert_not_null(seen);
    char out[1024];
    sl_snprintf(out, sizeof(out), "%s/out", tmp);
    read_ids(out, n, seen);
    int mid = 0;
    for (int i = 1; i <= n; i++)
        mid += seen[i] > 0;
    cr_assert(mid > 0 && mid < n, "%d of %d joined before the stop", mid, n);
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    sl_snprintf(sql, sizeof(sql),
                "SET 'state.dir' = '%s/state2'; SET 'pipeline.name' = "
                "'join-job'; SET 'execution.savepoint.path' = '%s';%s%s;",
                tmp, path, tables, insert);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    sluice_close(db);
    memset(seen, 0, sizeof(int) * ((size_t)n + 1));
    read_ids(out, n, seen);
    int missing = 0, dups = 0;
    for (int i = 1; i <= n; i++) {
        missing += seen[i] == 0;
        dups += seen[i] > 1 ? seen[i] - 1 : 0;
    }
    cr_assert_eq(missing, 0, "%d ids missing after the resume (%d dups)",
                 missing, dups);
    sl_free(seen);
    sl_test_tmpdir_remove(tmp);
}
