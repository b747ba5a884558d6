/*
 * test_harness.c: the test harness itself against real peers: the mock
 * Kafka cluster over TCP (produced to by librdkafka, read back by kcat, an
 * independent client) and the mock model server over HTTP.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include "harness.h"

Test(harness, broker_roundtrip_with_kcat, .timeout = 120)
{
    sl_test_broker *broker = sl_test_broker_start(1);
    cr_assert_not_null(broker);
    const char *bootstrap = sl_test_broker_bootstraps(broker);
    cr_assert(strstr(bootstrap, "127.0.0.1:") == bootstrap, "%s", bootstrap);
    cr_assert_eq(
        rd_kafka_mock_topic_create(sl_test_broker_cluster(broker), "t1", 1, 1),
        RD_KAFKA_RESP_ERR_NO_ERROR);

    /* Produce with kcat, over TCP. */
    const char *produce[] = {
        "/usr/bin/kcat", "-b", bootstrap, "-t", "t1", "-P", "-K", ":", NULL};
    cr_assert_eq(
        sl_test_run(produce, "k1:hello\nk2:world\n", NULL, NULL, 30000), 0);
    /* Consume with kcat. */
    sl_buf out;
    sl_buf_init(&out, 0);
    const char *consume[] = {
        "/usr/bin/kcat", "-b", bootstrap, "-t", "t1", "-C", "-e", "-o",
        "beginning",     "-f", "%k=%s\n", NULL};
    cr_assert_eq(sl_test_run(consume, NULL, &out, NULL, 30000), 0);
    cr_assert_str_eq(sl_buf_cstr(&out), "k1=hello\nk2=world\n");
    sl_buf_free(&out);
    sl_test_broker_stop(broker);
}

Test(harness, http_server_answers, .timeout = 60)
{
    int port = 0;
    sl_test_proc *srv = sl_test_http_start(NULL, &port);
    cr_assert_not_null(srv);
    cr_assert(port > 0);
    char url[128];
    sl_snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/chat/completions",
                port);
    sl_buf out;
    sl_buf_init(&out, 0);
    const char *argv[] = {
        "/usr/bin/curl",
        "-sS",
        "-H",
        "Content-Type: application/json",
        "-d",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
        url,
        NULL};
    cr_assert_eq(sl_test_run(argv, NULL, &out, NULL, 30000), 0);
    cr_assert(strstr(sl_buf_cstr(&out), "\"echo: hi\""), "%s",
              sl_buf_cstr(&out));
    sl_buf_free(&out);
    cr_assert_eq(sl_test_proc_stop(srv, SIGTERM, 5000), 0);
}

Test(harness, run_reports_exit_status)
{
    const char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 7",
                          NULL};
    sl_buf out, err;
    sl_buf_init(&out, 0);
    sl_buf_init(&err, 0);
    cr_assert_eq(sl_test_run(argv, NULL, &out, &err, 10000), 7);
    cr_assert_str_eq(sl_buf_cstr(&out), "out\n");
    cr_assert_str_eq(sl_buf_cstr(&err), "err\n");
    sl_buf_free(&out);
    sl_buf_free(&err);
}
