/*
 * broker.c: `sluice broker`, a local Kafka-protocol broker for development,
 * demos and tests.
 *
 * It runs librdkafka's mock cluster (in-memory, 127.0.0.1 only, small
 * retention; not for production), prints "bootstrap: HOST:PORT" on stdout
 * and serves until SIGINT or SIGTERM, then exits 0. The mock cluster of
 * librdkafka 2.0 always listens on ephemeral ports, so a fixed --port is
 * served by a small TCP forwarder on 127.0.0.1:PORT to the first mock
 * broker; clients bootstrap through it and then talk to the brokers at the
 * addresses the cluster advertises (also on 127.0.0.1). The mock cluster
 * is the one part of librdkafka the CLI uses directly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "cli.h"

#define MAX_TOPICS 64
#define MAX_CONNS  128
#define CONN_BUF   65536

typedef struct conn {
    int fd[2]; /* client, upstream */
    char buf[2][CONN_BUF];
    size_t len[2]; /* bytes buffered from fd[i] waiting for fd[1-i] */
} conn;

typedef struct forwarder {
    int listen_fd;
    int stop_fd[2];
    struct sockaddr_in upstream;
    conn *conns[MAX_CONNS];
} forwarder;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: sluice broker [--port N] [--partitions N] [--brokers N]\n"
            "                     [--topic NAME]...\n"
            "\n"
            "Runs a local Kafka-protocol broker (librdkafka's mock cluster)\n"
            "on 127.0.0.1, prints 'bootstrap: HOST:PORT', and serves until\n"
            "SIGINT or SIGTERM. Data lives in memory only; retention per\n"
            "partition is small. For development and tests, not production.\n"
            "\n"
            "  --port N        bootstrap port (default: a free port)\n"
            "  --brokers N     number of brokers (default 1)\n"
            "  --partitions N  partitions of the --topic topics (default 1)\n"
            "  --topic NAME    create topic NAME at start (may repeat);\n"
            "                  other topics are created on first use\n");
}

static int parse_num(const char *opt, const char *v, long min, long max,
                     long *out)
{
    char *end = NULL;
    errno = 0;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || n < min || n > max) {
        fprintf(stderr, "sluice broker: %s needs a number from %ld to %ld\n",
                opt, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

static void close_conn(forwarder *fw, int i)
{
    conn *c = fw->conns[i];
    close(c->fd[0]);
    close(c->fd[1]);
    free(c);
    fw->conns[i] = NULL;
}

static void accept_conn(forwarder *fw)
{
    int cfd = accept4(fw->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    int slot = -1;
    for (int i = 0; i < MAX_CONNS && slot < 0; i++)
        if (!fw->conns[i])
            slot = i;
    int ufd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (slot < 0 || ufd < 0 ||
        connect(ufd, (struct sockaddr *)&fw->upstream, sizeof(fw->upstream))) {
        close(cfd);
        if (ufd >= 0)
            close(ufd);
        return;
    }
    fcntl(ufd, F_SETFL, fcntl(ufd, F_GETFL) | O_NONBLOCK);
    conn *c = calloc(1, sizeof(*c));
    if (!c) {
        close(cfd);
        close(ufd);
        return;
    }
    c->fd[0] = cfd;
    c->fd[1] = ufd;
    fw->conns[slot] = c;
}

/* Move bytes between the two sides of a connection; 0 when it closed. */
static int pump(conn *c, const short *revents)
{
    for (int i = 0; i < 2; i++) {
        if ((revents[i] & (POLLIN | POLLHUP | POLLERR)) &&
            c->len[i] < CONN_BUF) {
            ssize_t r =
                read(c->fd[i], c->buf[i] + c->len[i], CONN_BUF - c->len[i]);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                return 0;
            if (r > 0)
                c->len[i] += (size_t)r;
        }
        if (c->len[i]) {
            ssize_t w = write(c->fd[1 - i], c->buf[i], c->len[i]);
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                return 0;
            if (w > 0) {
                memmove(c->buf[i], c->buf[i] + w, c->len[i] - (size_t)w);
                c->len[i] -= (size_t)w;
            }
        }
    }
    return 1;
}

static void *forward_main(void *arg)
{
    forwarder *fw = arg;
    struct pollfd p[2 + 2 * MAX_CONNS];
    int idx[MAX_CONNS];
    for (;;) {
        int n = 0;
        p[n++] = (struct pollfd){fw->stop_fd[0], POLLIN, 0};
        p[n++] = (struct pollfd){fw->listen_fd, POLLIN, 0};
        int n_conn = 0;
        for (int i = 0; i < MAX_CONNS; i++) {
            conn *c = fw->conns[i];
            if (!c)
                continue;
            idx[n_conn++] = i;
            for (int s = 0; s < 2; s++) {
                short ev = c->len[s] < CONN_BUF ? POLLIN : 0;
                if (c->len[1 - s])
                    ev |= POLLOUT;
                p[n++] = (struct pollfd){c->fd[s], ev, 0};
            }
        }
        if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            break;
        if (p[1].revents & POLLIN)
            accept_conn(fw);
        for (int k = 0; k < n_conn; k++) {
            short rev[2] = {p[2 + 2 * k].revents, p[3 + 2 * k].revents};
            if (!pump(fw->conns[idx[k]], rev))
                close_conn(fw, idx[k]);
        }
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (fw->conns[i])
            close_conn(fw, i);
    return NULL;
}

static int start_forwarder(forwarder *fw, long port, const char *bootstraps)
{
    /* Upstream: the first "127.0.0.1:PORT" of the cluster. */
    const char *colon = strchr(bootstraps, ':');
    long up_port = colon ? strtol(colon + 1, NULL, 10) : 0;
    memset(&fw->upstream, 0, sizeof(fw->upstream));
    fw->upstream.sin_family = AF_INET;
    fw->upstream.sin_port = htons((uint16_t)up_port);
    fw->upstream.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fw->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fw->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = fw->upstream;
    a.sin_port = htons((uint16_t)port);
    if (fw->listen_fd < 0 ||
        bind(fw->listen_fd, (struct sockaddr *)&a, sizeof(a)) ||
        listen(fw->listen_fd, 64) || pipe(fw->stop_fd)) {
        fprintf(stderr, "sluice broker: cannot listen on 127.0.0.1:%ld: %s\n",
                port, strerror(errno));
        if (fw->listen_fd >= 0)
            close(fw->listen_fd);
        return -1;
    }
    return 0;
}

int cli_broker_main(int argc, char **argv)
{
    long port = 0, partitions = 1, brokers = 1;
    const char *topics[MAX_TOPICS];
    int n_topics = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(a, "--port")) {
            if (parse_num(a, v, 1, 65535, &port))
                return CLI_EXIT_USAGE;
            i++;
        } else if (!strcmp(a, "--partitions")) {
            if (parse_num(a, v, 1, 10000, &partitions))
                return CLI_EXIT_USAGE;
            i++;
        } else if (!strcmp(a, "--brokers")) {
            if (parse_num(a, v, 1, 32, &brokers))
                return CLI_EXIT_USAGE;
            i++;
        } else if (!strcmp(a, "--topic")) {
            if (!v || n_topics == MAX_TOPICS) {
                fprintf(stderr,
                        "sluice broker: --topic needs a name (at "
                        "most %d)\n",
                        MAX_TOPICS);
                return CLI_EXIT_USAGE;
            }
            topics[n_topics++] = v;
            i++;
        } else {
            fprintf(stderr, "sluice broker: unknown argument '%s'\n", a);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }

    /* Block the stop signals in every thread; the main thread waits. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof(errstr));
    rd_kafka_t *rk =
        rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "sluice broker: %s\n", errstr);
        return CLI_EXIT_RUNTIME;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, (int)brokers);
    if (!mc) {
        fprintf(stderr, "sluice broker: cannot start the mock cluster\n");
        rd_kafka_destroy(rk);
        return CLI_EXIT_RUNTIME;
    }
    for (int i = 0; i < n_topics; i++) {
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(
            mc, topics[i], (int)partitions, (int)(brokers < 3 ? brokers : 3));
        if (e)
            fprintf(stderr, "sluice broker: topic '%s': %s\n", topics[i],
                    rd_kafka_err2str(e));
    }
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    forwarder fw = {.listen_fd = -1, .stop_fd = {-1, -1}};
    pthread_t thread;
    bool forwarding = false;
    int status = CLI_EXIT_OK;
    if (port) {
        if (start_forwarder(&fw, port, bootstraps) ||
            pthread_create(&thread, NULL, forward_main, &fw)) {
            status = CLI_EXIT_RUNTIME;
            goto done;
        }
        forwarding = true;
        printf("bootstrap: 127.0.0.1:%ld\n", port);
    } else {
        printf("bootstrap: %s\n", bootstraps);
    }
    fflush(stdout);
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "sluice broker: stopping (%s)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
done:
    if (forwarding) {
        if (write(fw.stop_fd[1], "x", 1) < 0) {
            /* the thread also exits when the process does */
        }
        pthread_join(thread, NULL);
    }
    if (fw.listen_fd >= 0)
        close(fw.listen_fd);
    if (fw.stop_fd[0] >= 0) {
        close(fw.stop_fd[0]);
        close(fw.stop_fd[1]);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return status;
}
