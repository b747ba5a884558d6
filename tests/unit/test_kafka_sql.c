/*
 * test_kafka_sql.c: Kafka through whole `sluice` processes running SQL:
 * two processes in one consumer group split a topic's partitions, and an
 * INSERT job keeps running through a broker outage without losing rows.
 * The broker is the harness's mock cluster over TCP; kcat produces the
 * input and reads the output as an independent client.
 */
#include <signal.h>
#include <stdio.h>

#include "test_kafka_util.h"

static void kcat_produce_part(const char *bs, const char *topic, int part,
                              int from, int to)
{
    sl_buf in;
    sl_buf_init(&in, 0);
    for (int i = from; i < to; i++)
        sl_buf_printf(&in, "{\"id\":%d}\n", i);
    char p[16];
    sl_snprintf(p, sizeof(p), "%d", part);
    const char *argv[] = {
        "/usr/bin/kcat", "-b", bs, "-t", topic, "-P", "-p", p, NULL};
    cr_assert_eq(sl_test_run(argv, sl_buf_cstr(&in), NULL, NULL, 30000), 0);
    sl_buf_free(&in);
}

static char *kcat_all(const char *bs, const char *topic)
{
    sl_buf out;
    sl_buf_init(&out, 0);
    const char *argv[] = {
        "/usr/bin/kcat", "-b", bs, "-t", topic, "-C", "-e", "-q", "-o",
        "beginning",     NULL};
    cr_assert_eq(sl_test_run(argv, NULL, &out, NULL, 30000), 0);
    return sl_buf_steal(&out);
}

static sl_test_proc *start_job(const char *sql)
{
    const char *argv[] = {sl_test_sluice_bin(), "-e", sql, NULL};
    sl_test_proc *p = sl_test_proc_start(argv, NULL, 0, NULL, 0);
    cr_assert_not_null(p);
    return p;
}

/* Count records of out whose text holds needle. */
static int count_with(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

Test(kafka_sql, two_processes_in_one_group_split_partitions, .timeout = 240)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    kt_topic(b, "in", 4);
    kt_topic(b, "out", 1);
    char sql[2][2048];
    const char *who[] = {"A", "B"};
    sl_test_proc *procs[2];
    for (int k = 0; k < 2; k++) {
        sl_snprintf(sql[k], sizeof(sql[k]),
                    "CREATE TABLE i (id BIGINT, p INT METADATA FROM "
                    "'partition' VIRTUAL) WITH ('connector'='kafka', "
                    "'topic'='in', 'properties.bootstrap.servers'='%s', "
                    "'properties.group.id'='split', "
                    "'properties.session.timeout.ms'='6000', "
                    "'scan.startup.mode'='group-offsets', "
                    "'properties.auto.offset.reset'='earliest', "
                    "'format'='json');"
                    "CREATE TABLE o (id BIGINT, p INT, who STRING) WITH "
                    "('connector'='kafka', 'topic'='out', "
                    "'properties.bootstrap.servers'='%s', 'format'='json');"
                    "INSERT INTO o SELECT id, p, '%s' FROM i;",
                    bs, bs, who[k]);
        procs[k] = start_job(sql[k]);
    }
    /* Both join during the group's initial delay; then feed 4 partitions. */
    usleep(8000000);
    for (int part = 0; part < 4; part++)
        kcat_produce_part(bs, "in", part, part * 100, part * 100 + 25);
    char *out = NULL;
    int64_t deadline = sl_now_ms() + 60000;
    for (;;) {
        out = kcat_all(bs, "out");
        if (count_with(out, "\"id\"") >= 100 || sl_now_ms() > deadline)
            break;
        sl_free(out);
        usleep(500000);
    }
    for (int k = 0; k < 2; k++)
        cr_assert_eq(sl_test_proc_stop(procs[k], SIGTERM, 30000), 0);
    /* Every id arrived; each partition was read by exactly one process. */
    for (int part = 0; part < 4; part++) {
        for (int i = part * 100; i < part * 100 + 25; i++) {
            char needle[32];
            sl_snprintf(needle, sizeof(needle), "\"id\":%d,", i);
            cr_assert(strstr(out, needle), "id %d missing:\n%s", i, out);
        }
        char pa[48], pb[48];
        sl_snprintf(pa, sizeof(pa), "\"p\":%d,\"who\":\"A\"", part);
        sl_snprintf(pb, sizeof(pb), "\"p\":%d,\"who\":\"B\"", part);
        int na = count_with(out, pa), nb = count_with(out, pb);
        cr_assert((na == 0) != (nb == 0), "partition %d: A %d, B %d rows", part,
                  na, nb);
    }
    cr_assert(count_with(out, "\"who\":\"A\"") > 0 &&
                  count_with(out, "\"who\":\"B\"") > 0,
              "one process read everything:\n%s", out);
    sl_free(out);
    sl_test_broker_stop(b);
}

Test(kafka_sql, insert_job_survives_broker_down, .timeout = 300)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    rd_kafka_mock_cluster_t *mc = sl_test_broker_cluster(b);
    kt_topic(b, "in", 1);
    kt_topic(b, "out", 1);
    char sql[2048];
    sl_snprintf(sql, sizeof(sql),
                "CREATE TABLE i (id BIGINT) WITH ('connector'='kafka', "
                "'topic'='in', 'properties.bootstrap.servers'='%s', "
                "'scan.startup.mode'='earliest-offset', 'format'='json');"
                "CREATE TABLE o (id BIGINT) WITH ('connector'='kafka', "
                "'topic'='out', 'properties.bootstrap.servers'='%s', "
                "'properties.message.timeout.ms'='3000', 'format'='json');"
                "INSERT INTO o SELECT id FROM i;",
                bs, bs);
    sl_test_proc *job = start_job(sql);
    kcat_produce_part(bs, "in", 0, 0, 50);
    usleep(5000000);
    cr_assert_eq(rd_kafka_mock_broker_set_down(mc, 1), 0);
    usleep(10000000);
    cr_assert_eq(rd_kafka_mock_broker_set_up(mc, 1), 0);
    kcat_produce_part(bs, "in", 0, 50, 100);
    char *out = NULL;
    int64_t deadline = sl_now_ms() + 90000;
    bool all = false;
    while (!all) {
        out = kcat_all(bs, "out");
        all = true;
        for (int i = 0; i < 100 && all; i++) {
            char needle[32];
            sl_snprintf(needle, sizeof(needle), "{\"id\":%d}", i);
            all = strstr(out, needle) != NULL;
        }
        if (all || sl_now_ms() > deadline)
            break;
        sl_free(out);
        usleep(500000);
    }
    cr_assert(all, "rows missing after the outage:\n%s", out);
    sl_free(out);
    cr_assert_eq(sl_test_proc_stop(job, SIGTERM, 30000), 0);
    sl_test_broker_stop(b);
}
