/*
 * test_ai_http2.c: model calls over HTTP/2, checked from the server's side.
 *
 * tests/servers/h2_openai.js (node's built-in http2 module) serves an
 * OpenAI-compatible chat endpoint on 127.0.0.1, over TLS with a self-signed
 * certificate made here with openssl (ALPN offers h2 and http/1.1) or as
 * cleartext h2c. A query sends 200 rows through ML_PREDICT with up to 32
 * calls at once; the server's /stats must show that every request was
 * HTTP/2 and that they were multiplexed over few connections (for h2c
 * only with libcurl >= 8.0.0: Debian 12's 7.88.1 cannot reuse an h2c
 * connection, so the client opens one per request there). With
 * 'http2' = 'off' the same server sees HTTP/1.1, so the check has teeth.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define ROWS 200

typedef struct h2srv {
    sl_test_proc *proc;
    int port;
    char *dir;
    char cert[1024];
} h2srv;

static void h2_start_ex(h2srv *s, bool tls, bool http1_only)
{
    memset(s, 0, sizeof(*s));
    s->dir = sl_test_tmpdir();
    cr_assert_not_null(s->dir);
    char key[1024], script[1024];
    sl_snprintf(key, sizeof(key), "%s/key.pem", s->dir);
    sl_snprintf(s->cert, sizeof(s->cert), "%s/cert.pem", s->dir);
    sl_snprintf(script, sizeof(script), "%s/tests/servers/h2_openai.js",
                sl_test_source_dir());
    if (tls) {
        const char *gen[] = {"/usr/bin/openssl",
                             "req",
                             "-x509",
                             "-newkey",
                             "rsa:2048",
                             "-nodes",
                             "-keyout",
                             key,
                             "-out",
                             s->cert,
                             "-days",
                             "2",
                             "-subj",
                             "/CN=127.0.0.1",
                             "-addext",
                             "subjectAltName=IP:127.0.0.1",
                             NULL};
        sl_buf err;
        sl_buf_init(&err, 0);
        int st = sl_test_run(gen, NULL, NULL, &err, 30000);
        cr_assert_eq(st, 0, "openssl: %s", sl_buf_cstr(&err));
        sl_buf_free(&err);
    }
    const char *argv[] = {"/usr/bin/node",
                          script,
                          "--latency-ms",
                          "20",
                          tls ? "--tls" : NULL,
                          key,
                          s->cert,
                          http1_only ? "--http1-only" : NULL,
                          NULL};
    char line[256];
    s->proc =
        sl_test_proc_start(argv, "listening on", 10000, line, sizeof(line));
    cr_assert_not_null(s->proc, "node did not start");
    const char *colon = strrchr(line, ':');
    cr_assert_not_null(colon);
    int64_t port = 0;
    cr_assert_eq(sl_parse_int64(colon + 1, strlen(colon + 1), &port), 0);
    s->port = (int)port;
}

static void h2_start(h2srv *s, bool tls)
{
    h2_start_ex(s, tls, false);
}

static void h2_stop(h2srv *s)
{
    sl_test_proc_stop(s->proc, SIGTERM, 5000);
    sl_test_tmpdir_remove(s->dir);
}

/* The server's /stats, fetched with curl over the same protocol. */
static void h2_stats(h2srv *s, bool tls, sl_buf *out)
{
    char url[128];
    sl_snprintf(url, sizeof(url), "%s://127.0.0.1:%d/stats",
                tls ? "https" : "http", s->port);
    const char *argv_tls[] = {"/usr/bin/curl", "-s", "-S",
                              "--max-time",    "10", "--cacert",
                              s->cert,         url,  NULL};
    const char *argv_h2c[] = {
        "/usr/bin/curl",           "-s", "-S", "--max-time", "10",
        "--http2-prior-knowledge", url,  NULL};
    sl_buf err;
    sl_buf_init(&err, 0);
    int st = sl_test_run(tls ? argv_tls : argv_h2c, NULL, out, &err, 15000);
    cr_assert_eq(st, 0, "curl: %s", sl_buf_cstr(&err));
    sl_buf_free(&err);
}

static double field(const char *json, const char *key)
{
    char k[64];
    sl_snprintf(k, sizeof(k), "\"%s\":", key);
    const char *p = strstr(json, k);
    return p ? strtod(p + strlen(k), NULL) : -1;
}

typedef struct counted {
    int n, bad;
} counted;

static int count_rows(void *ctx, const sluice_row *row)
{
    counted *c = ctx;
    const char *a = sluice_row_text(row, 1);
    if (!a || strncmp(a, "echo: row ", 10))
        c->bad++;
    c->n++;
    return 0;
}

/* Run ROWS model calls against the server; returns sluice_exec's code. */
static int run_calls(h2srv *s, bool tls, const char *http2, const char *ca,
                     counted *c, char *errmsg, size_t errlen)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    char sql[4096];
    char ca_opt[1200] = "";
    if (ca)
        sl_snprintf(ca_opt, sizeof(ca_opt), ", 'tls.ca-file' = '%s'", ca);
    sl_snprintf(
        sql, sizeof(sql),
        "CREATE TABLE t (id BIGINT) WITH ('connector' = 'datagen', "
        "'number-of-rows' = '%d', 'fields.id.kind' = 'sequence', "
        "'fields.id.start' = '1', 'fields.id.end' = '%d');"
        "CREATE VIEW v AS SELECT id, 'row ' || CAST(id AS STRING) AS body "
        "FROM t;"
        "CREATE MODEL chat INPUT (prompt STRING) OUTPUT (answer STRING) "
        "WITH ('provider' = 'openai', 'endpoint' = "
        "'%s://127.0.0.1:%d/v1/chat/completions', 'model' = 'mock', "
        "'api-key' = 'k', 'http2' = '%s', 'retry-num' = '0'%s);",
        ROWS, ROWS, tls ? "https" : "http", s->port, http2, ca_opt);
    int rc = sluice_exec(db, sql, NULL, NULL);
    cr_assert_eq(rc, SLUICE_OK, "%s", sluice_errmsg(db));
    rc = sluice_exec(db,
                     "SELECT id, answer FROM ML_PREDICT(TABLE v, MODEL chat, "
                     "DESCRIPTOR(body), MAP['max-concurrent-operations', "
                     "'32'])",
                     count_rows, c);
    sl_strlcpy(errmsg, sluice_errmsg(db), errlen);
    sluice_close(db);
    return rc;
}

static void check_multiplexed(const char *stats)
{
    cr_assert_eq(field(stats, "HTTP/2.0"), ROWS, "%s", stats);
    cr_assert_null(strstr(stats, "HTTP/1.1"), "%s", stats);
    /* the stats request itself is one more connection */
    cr_assert_leq(field(stats, "h2_sessions"), 5, "%s", stats);
    cr_assert_gt(field(stats, "max_open_streams"), 1, "%s", stats);
    cr_assert_geq(field(stats, "max_streams_per_session"), ROWS / 5, "%s",
                  stats);
}

Test(ai_http2, tls_alpn_negotiates_h2_and_multiplexes, .timeout = 60)
{
    h2srv s;
    h2_start(&s, true);
    counted c = {0};
    char msg[512];
    int rc = run_calls(&s, true, "auto", s.cert, &c, msg, sizeof(msg));
    cr_assert_eq(rc, SLUICE_OK, "%s", msg);
    cr_assert_eq(c.n, ROWS);
    cr_assert_eq(c.bad, 0);
    sl_buf st;
    sl_buf_init(&st, 0);
    h2_stats(&s, true, &st);
    check_multiplexed(sl_buf_cstr(&st));
    sl_buf_free(&st);
    h2_stop(&s);
}

/* libcurl before 8.0.0 breaks on reusing an h2c connection (curl issue
 * 10634); the client then opens one connection per request. */
static bool h2c_reuse_broken(void)
{
    return curl_version_info(CURLVERSION_NOW)->version_num < 0x080000;
}

Test(ai_http2, h2c_prior_knowledge, .timeout = 60)
{
    h2srv s;
    h2_start(&s, false);
    counted c = {0};
    char msg[512];
    int rc =
        run_calls(&s, false, "prior-knowledge", NULL, &c, msg, sizeof(msg));
    cr_assert_eq(rc, SLUICE_OK, "%s", msg);
    cr_assert_eq(c.n, ROWS);
    cr_assert_eq(c.bad, 0);
    sl_buf st;
    sl_buf_init(&st, 0);
    h2_stats(&s, false, &st);
    const char *t = sl_buf_cstr(&st);
    if (h2c_reuse_broken()) {
        cr_assert_eq(field(t, "HTTP/2.0"), ROWS, "%s", t);
        cr_assert_eq(field(t, "h2_sessions"), ROWS + 1, "%s", t);
        cr_assert_eq(field(t, "max_streams_per_session"), 1, "%s", t);
    } else {
        check_multiplexed(t);
    }
    sl_buf_free(&st);
    h2_stop(&s);
}

Test(ai_http2, off_uses_http1_and_unknown_ca_fails, .timeout = 60)
{
    h2srv s;
    h2_start(&s, true);
    counted c = {0};
    char msg[512];
    int rc = run_calls(&s, true, "off", s.cert, &c, msg, sizeof(msg));
    cr_assert_eq(rc, SLUICE_OK, "%s", msg);
    cr_assert_eq(c.n, ROWS);
    sl_buf st;
    sl_buf_init(&st, 0);
    h2_stats(&s, true, &st);
    const char *t = sl_buf_cstr(&st);
    cr_assert_eq(field(t, "HTTP/1.1"), ROWS, "%s", t);
    cr_assert_eq(field(t, "HTTP/2.0"), -1, "%s", t);
    sl_buf_free(&st);
    /* without the CA the self-signed certificate is refused */
    counted c2 = {0};
    rc = run_calls(&s, true, "auto", NULL, &c2, msg, sizeof(msg));
    cr_assert_neq(rc, SLUICE_OK);
    cr_assert(strstr(msg, "certificate") || strstr(msg, "SSL"), "%s", msg);
    h2_stop(&s);
}

/* 'auto' against an HTTPS server without h2: after the first connection's
 * ALPN answer the client opens parallel HTTP/1.1 connections (PIPEWAIT
 * must not serialize the calls). */
Test(ai_http2, auto_falls_back_to_parallel_http1, .timeout = 60)
{
    h2srv s;
    h2_start_ex(&s, true, true);
    counted c = {0};
    char msg[512];
    int rc = run_calls(&s, true, "auto", s.cert, &c, msg, sizeof(msg));
    cr_assert_eq(rc, SLUICE_OK, "%s", msg);
    cr_assert_eq(c.n, ROWS);
    cr_assert_eq(c.bad, 0);
    sl_buf st;
    sl_buf_init(&st, 0);
    char url[128];
    sl_snprintf(url, sizeof(url), "https://127.0.0.1:%d/stats", s.port);
    const char *argv[] = {"/usr/bin/curl", "-s",   "-S", "--max-time", "10",
                          "--cacert",      s.cert, url,  NULL};
    cr_assert_eq(sl_test_run(argv, NULL, &st, NULL, 15000), 0);
    const char *t = sl_buf_cstr(&st);
    cr_assert_eq(field(t, "HTTP/1.1"), ROWS, "%s", t);
    cr_assert_gt(field(t, "max_open_requests"), 8, "%s", t);
    sl_buf_free(&st);
    h2_stop(&s);
}
