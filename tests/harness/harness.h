/*
 * harness.h: what tests use to reach real peers.
 *
 * Start and stop processes (the sluice binary, the mock model server) and a
 * Kafka-protocol broker (librdkafka's mock cluster, listening on 127.0.0.1
 * over real TCP), capture output, and make scratch directories. Everything
 * started here is torn down by the matching stop call; processes are also
 * killed if the test process dies (PR_SET_PDEATHSIG).
 */
#ifndef SL_TEST_HARNESS_H
#define SL_TEST_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "util.h"

/* xorshift64: the tests' reproducible pseudo-random numbers; *state must
 * start non-zero. Returns the new state. */
static inline uint64_t sl_test_xorshift(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* Paths fixed at build time. */
const char *sl_test_sluice_bin(void); /* the built `sluice` program */
const char *sl_test_source_dir(void); /* repository root */
const char *sl_test_python(void);     /* Debian's /usr/bin/python3 */

/* Run argv to completion, feeding stdin_text (may be NULL) and capturing
 * stdout/stderr into out/err (either may be NULL). Kills it after
 * timeout_ms. Returns the exit status, 128+signal if signalled, or -1 if it
 * could not start or timed out. */
int sl_test_run(const char *const argv[], const char *stdin_text, sl_buf *out,
                sl_buf *err, int timeout_ms);

/* A background process whose stdout we read until a ready line. */
typedef struct sl_test_proc sl_test_proc;
/* Start argv; wait up to timeout_ms for a stdout line containing ready
 * (NULL: do not wait). The ready line is copied to line (if non-NULL).
 * Returns NULL on failure. */
sl_test_proc *sl_test_proc_start(const char *const argv[], const char *ready,
                                 int timeout_ms, char *line, size_t line_size);
pid_t sl_test_proc_pid(const sl_test_proc *proc);
/* Send sig (SIGTERM for a graceful stop), wait up to timeout_ms, then
 * SIGKILL. Returns the exit status as sl_test_run does. Frees proc. */
int sl_test_proc_stop(sl_test_proc *proc, int sig, int timeout_ms);

/* The mock OpenAI-compatible server (tests/servers/mock_openai.py) on
 * 127.0.0.1 with a free port; extra_args are passed through (NULL-ended
 * list, may be NULL). *port receives the port. */
sl_test_proc *sl_test_http_start(const char *const extra_args[], int *port);

/* An in-process Kafka-protocol broker cluster on 127.0.0.1. */
typedef struct sl_test_broker sl_test_broker;
sl_test_broker *sl_test_broker_start(int n_brokers);
const char *sl_test_broker_bootstraps(const sl_test_broker *broker);
rd_kafka_mock_cluster_t *sl_test_broker_cluster(sl_test_broker *broker);
void sl_test_broker_stop(sl_test_broker *broker);

/* A fresh directory under $TMPDIR (or /tmp); removed with its contents by
 * sl_test_tmpdir_remove. Returns a malloc'd path (sl_free). */
char *sl_test_tmpdir(void);
void sl_test_tmpdir_remove(char *path);

/* Read or write a whole file. read returns malloc'd text or NULL. */
char *sl_test_read_file(const char *path, size_t *len);
int sl_test_write_file(const char *path, const char *text);

/* A growable list of text lines: query results and reference rows to
 * compare. Zero-initialise; lines are copied; OOM fails the test. */
typedef struct sl_test_lines {
    char **v;
    int n, cap;
} sl_test_lines;
void sl_test_lines_add(sl_test_lines *l, const char *s);
void sl_test_lines_sort(sl_test_lines *l); /* strcmp order */
void sl_test_lines_free(sl_test_lines *l);
/* Compare two sorted lists: lines of got equal to the line before
 * (*dups), lines of want not in got (*missing), lines of got not in want
 * (*extra); the first 20 of the last two are printed to stderr after
 * what. */
void sl_test_lines_diff(const char *what, const sl_test_lines *got,
                        const sl_test_lines *want, int *dups, int *missing,
                        int *extra);
/* A sluice_exec row callback (ctx: sl_test_lines): asserts the row is +I
 * and adds it as "c0|c1|..." (NULL as "NULL"). */
struct sluice_row;
int sl_test_collect_inserts(void *ctx, const struct sluice_row *row);
/* Run a query on a SQLite database (a reference computation) and add its
 * rows in the same "c0|c1|..." form. */
struct sqlite3;
void sl_test_query_lines(struct sqlite3 *db, const char *sql,
                         sl_test_lines *out);

#endif
