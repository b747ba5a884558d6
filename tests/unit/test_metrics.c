/*
 * test_metrics.c: the metrics export end to end: jobs publish their figures,
 * sluice_metrics renders them as Prometheus text, SHOW METRICS as a table,
 * and SET 'metrics.port' serves them over HTTP. A job calls the mock
 * OpenAI server (tests/servers/mock_openai.py) with injected 429s and the
 * endpoint is scraped with curl over a real socket: request, retry, token
 * and cache counters must match what the server saw. Malformed requests
 * get 4xx answers and the endpoint keeps serving.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static void exec_ok(sluice *db, const char *sql)
{
    int rc = sluice_exec(db, sql, NULL, NULL);
    cr_assert_eq(rc, SLUICE_OK, "%s: %s", sql, sluice_errmsg(db));
}

static void set_port(sluice *db, int port)
{
    char sql[128];
    sl_snprintf(sql, sizeof(sql), "SET 'metrics.port' = '%d'", port);
    exec_ok(db, sql);
}

/* GET url with curl; the body into out. */
static void curl_get(const char *url, sl_buf *out)
{
    const char *argv[] = {
        "/usr/bin/curl", "-s", "-S", "--max-time", "10", url, NULL};
    sl_buf err;
    sl_buf_init(&err, 0);
    int st = sl_test_run(argv, NULL, out, &err, 15000);
    cr_assert_eq(st, 0, "curl %s: %s", url, sl_buf_cstr(&err));
    sl_buf_free(&err);
}

/* The value of the first sample line that starts with name and contains
 * every one of the label fragments (NULL-ended); -1 when absent. */
static double sample(const char *text, const char *name, const char *l1,
                     const char *l2)
{
    size_t nl = strlen(name);
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[1024];
        if (len < sizeof(line) && !strncmp(p, name, nl) &&
            (p[nl] == '{' || p[nl] == ' ')) {
            memcpy(line, p, len);
            line[len] = '\0';
            if ((!l1 || strstr(line, l1)) && (!l2 || strstr(line, l2))) {
                const char *sp = strrchr(line, ' ');
                return sp ? strtod(sp + 1, NULL) : -1;
            }
        }
        p = eol ? eol + 1 : NULL;
    }
    return -1;
}

/* A number field of the mock server's /stats JSON. */
static double stat_field(const char *json, const char *key)
{
    char k[64];
    sl_snprintf(k, sizeof(k), "\"%s\": ", key);
    const char *p = strstr(json, k);
    cr_assert_not_null(p, "no %s in %s", key, json);
    return strtod(p + strlen(k), NULL);
}

static void wait_finished(sluice *db)
{
    for (int i = 0; i < 600; i++) {
        char *text = NULL;
        cr_assert_eq(sluice_metrics(db, &text, NULL), SLUICE_OK);
        bool done = strstr(text, "state=\"FINISHED\"") != NULL;
        cr_assert_null(strstr(text, "state=\"FAILED\""), "%s", text);
        sluice_free(text);
        if (done)
            return;
        usleep(50 * 1000);
    }
    cr_assert_fail("the job did not finish");
}

Test(metrics, scrape_matches_the_mock_server, .timeout = 90)
{
    const char *args[] = {"--rate-429", "0.2", "--retry-after", "0", NULL};
    int port = 0;
    sl_test_proc *srv = sl_test_http_start(args, &port);
    cr_assert_not_null(srv);
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    int mport = free_port();
    set_port(db, mport);
    char sql[2048];
    sl_snprintf(
        sql, sizeof(sql),
        "SET 'table.dml-sync' = 'false';"
        "CREATE TABLE reviews (id BIGINT) WITH ('connector' = 'datagen', "
        "'number-of-rows' = '300', 'fields.id.kind' = 'sequence', "
        "'fields.id.start' = '1', 'fields.id.end' = '300');"
        "CREATE TABLE out_t (id BIGINT, a STRING) WITH ('connector' = "
        "'blackhole');"
        "CREATE MODEL chat INPUT (prompt STRING) OUTPUT (answer STRING) "
        "WITH ('provider' = 'openai', 'endpoint' = "
        "'http://127.0.0.1:%d/v1/chat/completions', 'model' = 'mock', "
        "'api-key' = 'k', 'retry-backoff-base-interval' = '5 ms', "
        "'cache.size' = '1000');",
        port);
    exec_ok(db, sql);
    exec_ok(db, "INSERT INTO out_t SELECT id, LLM_CALL('chat', 'word ' || "
                "CAST(id % 40 AS STRING) || ' more') FROM reviews");
    wait_finished(db);

    char url[128];
    sl_snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", mport);
    sl_buf m, st;
    sl_buf_init(&m, 0);
    sl_buf_init(&st, 0);
    curl_get(url, &m);
    sl_snprintf(url, sizeof(url), "http://127.0.0.1:%d/stats", port);
    curl_get(url, &st);
    const char *t = sl_buf_cstr(&m);
    const char *s = sl_buf_cstr(&st);

    cr_assert(strstr(t, "# TYPE sluice_model_requests_total counter\n"), "%s",
              t);
    cr_assert(strstr(t, "# TYPE sluice_model_latency_seconds histogram\n"));
    double requests = sample(t, "sluice_model_requests_total", NULL, NULL);
    double r429 =
        sample(t, "sluice_model_retries_total", "cause=\"429\"", NULL);
    double prompt =
        sample(t, "sluice_model_tokens_total", "kind=\"prompt\"", NULL);
    double completion =
        sample(t, "sluice_model_tokens_total", "kind=\"completion\"", NULL);
    double hits = sample(t, "sluice_model_cache_hits_total", NULL, NULL);
    double joins =
        sample(t, "sluice_model_singleflight_joins_total", NULL, NULL);
    double rows_in = sample(t, "sluice_model_rows_in_total", NULL, NULL);
    double lat_count =
        sample(t, "sluice_model_latency_seconds_count", NULL, NULL);
    double lat_inf =
        sample(t, "sluice_model_latency_seconds_bucket", "le=\"+Inf\"", NULL);
    cr_assert_eq(requests, stat_field(s, "requests"), "%s\n%s", t, s);
    cr_assert_eq(r429, stat_field(s, "faults"), "%s\n%s", t, s);
    cr_assert_gt(r429, 0, "no 429 was injected: %s", s);
    cr_assert_eq(prompt, stat_field(s, "prompt_tokens"), "%s\n%s", t, s);
    cr_assert_eq(completion, stat_field(s, "completion_tokens"), "%s\n%s", t,
                 s);
    /* 40 distinct prompts: the others are cache hits or joined a call in
     * flight; every successful request was one chat answer */
    cr_assert_eq(stat_field(s, "chat"), 40, "%s", s);
    cr_assert_eq(hits + joins, 300 - 40, "%s", t);
    cr_assert_eq(rows_in, 300);
    cr_assert_eq(lat_inf, lat_count);
    cr_assert_gt(lat_count, 0);
    /* job, source and operator figures */
    cr_assert_eq(sample(t, "sluice_job_rows_read_total", NULL, NULL), 300);
    cr_assert_eq(sample(t, "sluice_job_rows_written_total", NULL, NULL), 300);
    cr_assert_eq(
        sample(t, "sluice_source_rows_read_total", "source=\"reviews\"", NULL),
        300, "%s", t);
    cr_assert_eq(
        sample(t, "sluice_operator_rows_out_total", "operator=\"chat\"", NULL),
        300, "%s", t);
    cr_assert(strstr(t, "sluice_job_info{job=\""), "%s", t);
    sl_buf_free(&m);
    sl_buf_free(&st);
    sluice_close(db);
    sl_test_proc_stop(srv, SIGTERM, 5000);
}

/* Send raw bytes, return the status line's code (0: no answer). */
static int raw_request(int port, const char *data, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    size_t off = 0;
    while (off < len) {
        ssize_t w = send(fd, data + off, len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server may answer and close early */
        off += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    char buf[4096];
    size_t got = 0;
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 5000) <= 0)
            break;
        ssize_t r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
        if (got >= sizeof(buf) - 1)
            break;
    }
    buf[got] = '\0';
    close(fd);
    int code = 0;
    if (sscanf(buf, "HTTP/1.1 %d", &code) != 1)
        code = 0;
    return code;
}

static int raw(int port, const char *s)
{
    return raw_request(port, s, strlen(s));
}

Test(metrics, endpoint_answers_bad_requests_and_keeps_serving, .timeout = 60)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    int mport = free_port();
    set_port(db, mport);
    cr_assert_eq(raw(mport, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
    cr_assert_eq(raw(mport, "HEAD /metrics HTTP/1.0\r\n\r\n"), 200);
    cr_assert_eq(raw(mport, "GET /metrics?x=1 HTTP/1.1\r\n\r\n"), 200);
    cr_assert_eq(raw(mport, "GET / HTTP/1.1\r\n\r\n"), 404);
    cr_assert_eq(raw(mport, "GET /metricsX HTTP/1.1\r\n\r\n"), 404);
    cr_assert_eq(raw(mport, "POST /metrics HTTP/1.1\r\n\r\n"), 405);
    cr_assert_eq(raw(mport, "HELLO\r\n\r\n"), 400);
    cr_assert_eq(raw(mport, "GET /metrics HTTP/9.9\r\n\r\n"), 400);
    cr_assert_eq(raw(mport, "GET  /metrics HTTP/1.1\r\n\r\n"), 400);
    cr_assert_eq(raw(mport, "get /metrics HTTP/1.1\r\n\r\n"), 400);
    cr_assert_eq(raw(mport, "GET metrics HTTP/1.1\r\n\r\n"), 400);
    cr_assert_eq(raw(mport, "\r\n\r\n"), 400);
    cr_assert_eq(raw_request(mport, "GET /\0metrics HTTP/1.1\r\n\r\n", 26),
                 400);
    cr_assert_eq(raw(mport, "GET /metrics HTTP/1.1\r\nHost"), 400);
    cr_assert_eq(raw(mport, ""), 0); /* nothing sent: closed silently */
    /* a head too large, and binary noise */
    char *big = malloc(20000);
    memset(big, 'A', 20000);
    cr_assert_eq(raw_request(mport, big, 20000), 431);
    for (int i = 0; i < 20000; i++)
        big[i] = (char)(i * 7919 % 251);
    int code = raw_request(mport, big, 20000);
    cr_assert(code == 400 || code == 431, "%d", code);
    free(big);
    /* random requests: noise, and valid heads cut or mutated at random */
    static const char *const seeds[] = {
        "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", "HEAD / HTTP/1.0\r\n\r\n",
        "GET /metrics HTTP/1.1\n\n", "PUT /x HTTP/1.1\r\n\r\n"};
    uint64_t x = 88172645463325252ull;
    char req[600];
    for (int i = 0; i < 300; i++) {
        const char *seed = seeds[i % 4];
        size_t n = strlen(seed);
        memcpy(req, seed, n);
        sl_test_xorshift(&x);
        int flips = (int)(x % 4);
        for (int k = 0; k < flips; k++)
            req[(x >> (8 + k * 8)) % n] = (char)(x >> (k * 5));
        size_t len = i % 3 == 0 ? (size_t)(x % (n + 1)) : n;
        if (i % 7 == 0) { /* pure noise */
            len = (size_t)(x % sizeof(req));
            for (size_t k = 0; k < len; k++)
                req[k] = (char)((x >> (k % 57)) + k * 31);
        }
        int c = raw_request(mport, req, len);
        cr_assert(c == 0 || c == 200 || c == 400 || c == 404 || c == 405 ||
                      c == 431,
                  "request %d: %d", i, c);
    }
    cr_assert_eq(raw(mport, "GET /metrics HTTP/1.1\r\n\r\n"), 200);
    /* a client that sends nothing does not block the endpoint for long */
    int idle = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)mport);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(idle, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(raw(mport, "GET /metrics HTTP/1.1\r\n\r\n"), 200);
    close(idle);
    /* curl still gets the exposition */
    char url[128];
    sl_snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", mport);
    sl_buf b;
    sl_buf_init(&b, 0);
    curl_get(url, &b);
    sl_buf_free(&b);
    /* bad settings are refused; 0 turns the endpoint off */
    cr_assert_neq(sluice_exec(db, "SET 'metrics.port' = 'abc'", NULL, NULL),
                  SLUICE_OK);
    cr_assert(strstr(sluice_errmsg(db), "metrics.port"), "%s",
              sluice_errmsg(db));
    set_port(db, mport);
    cr_assert_eq(raw(mport, "GET /metrics HTTP/1.1\r\n\r\n"), 200);
    set_port(db, 0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_neq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    close(fd);
    sluice_close(db);
}

Test(metrics, port_in_use_is_an_error)
{
    sluice *a = NULL, *b = NULL;
    cr_assert_eq(sluice_open(&a), SLUICE_OK);
    cr_assert_eq(sluice_open(&b), SLUICE_OK);
    int port = free_port();
    set_port(a, port);
    char sql[128];
    sl_snprintf(sql, sizeof(sql), "SET 'metrics.port' = '%d'", port);
    cr_assert_eq(sluice_exec(b, sql, NULL, NULL), SLUICE_IO);
    cr_assert(strstr(sluice_errmsg(b), "cannot listen"), "%s",
              sluice_errmsg(b));
    sluice_close(b);
    sluice_close(a);
}

typedef struct shown {
    int n;
    bool saw_rows_in, saw_job;
} shown;

static int on_row(void *ctx, const sluice_row *row)
{
    shown *s = ctx;
    cr_assert_eq(sluice_row_column_count(row), 4);
    cr_assert_str_eq(sluice_row_column_name(row, 1), "metric");
    const char *metric = sluice_row_text(row, 1);
    const char *labels = sluice_row_text(row, 2);
    if (!strcmp(metric, "sluice_operator_rows_in_total") &&
        strstr(labels, "operator="))
        s->saw_rows_in = true;
    if (!strcmp(metric, "sluice_job_rows_read_total") &&
        !strcmp(sluice_row_text(row, 3), "1000"))
        s->saw_job = true;
    s->n++;
    return 0;
}

Test(metrics, show_metrics_lists_every_sample, .timeout = 30)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    exec_ok(db, "SET 'table.dml-sync' = 'false';"
                "CREATE TABLE g (id BIGINT) WITH ('connector' = 'datagen', "
                "'number-of-rows' = '1000');"
                "CREATE TABLE o (id BIGINT) WITH ('connector' = 'blackhole');"
                "INSERT INTO o SELECT id FROM g WHERE id > 0 OR id <= 0");
    wait_finished(db);
    shown s = {0};
    cr_assert_eq(sluice_exec(db, "SHOW METRICS", on_row, &s), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    cr_assert_gt(s.n, 5);
    cr_assert(s.saw_rows_in);
    cr_assert(s.saw_job);
    sluice_stmt *st = NULL;
    cr_assert_eq(sluice_prepare(db, "SHOW METRICS", NULL, &st), SLUICE_OK);
    cr_assert_eq(sluice_stmt_column_count(st), 4);
    cr_assert_str_eq(sluice_stmt_column_name(st, 3), "value");
    sluice_stmt_finalize(st);
    sluice_close(db);
}

typedef struct reader {
    sluice *db;
    volatile int stop;
    int reads;
    bool saw_foreground;
} reader;

static void *read_loop(void *arg)
{
    reader *r = arg;
    while (!r->stop) {
        char *text = NULL;
        size_t len = 0;
        if (sluice_metrics(r->db, &text, &len) == SLUICE_OK) {
            if (strstr(text, "job=\"foreground\""))
                r->saw_foreground = true;
            if (strlen(text) != len)
                r->reads = -1000000;
            sluice_free(text);
            r->reads++;
        }
        usleep(200);
    }
    return NULL;
}

/* sluice_metrics on another thread while the engine starts, runs and frees
 * jobs (run under ASan in the suite; TSan-clean by design: a lock). */
Test(metrics, concurrent_readers_while_jobs_come_and_go, .timeout = 60)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    exec_ok(db, "CREATE TABLE g (id BIGINT) WITH ('connector' = 'datagen', "
                "'number-of-rows' = '20000', 'rows-per-second' = '10000000');"
                "CREATE TABLE o (id BIGINT) WITH ('connector' = 'blackhole');");
    reader r = {db, 0, 0, false};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, read_loop, &r), 0);
    for (int i = 0; i < 10; i++)
        exec_ok(db, "INSERT INTO o SELECT id FROM g");
    exec_ok(db, "SET 'table.dml-sync' = 'false'");
    for (int i = 0; i < 3; i++)
        exec_ok(db, "INSERT INTO o SELECT id FROM g");
    r.stop = 1;
    pthread_join(th, NULL);
    cr_assert_gt(r.reads, 0);
    cr_assert(r.saw_foreground);
    char *text = NULL;
    cr_assert_eq(sluice_metrics(NULL, &text, NULL), SLUICE_MISUSE);
    cr_assert_eq(sluice_metrics(db, NULL, NULL), SLUICE_MISUSE);
    sluice_free(NULL);
    sluice_close(db);
}
