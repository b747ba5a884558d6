/*
 * bench_server.c: a fast OpenAI-compatible mock model server for
 * bench_model (the Python mock in tests/servers cannot sustain thousands
 * of requests per second).
 *
 * One thread, epoll, HTTP/1.1 keep-alive (pipelined requests answered in
 * order), and a fixed latency: every request is answered --latency-ms after
 * it was read, through one FIFO of due times (fixed latency keeps it
 * sorted). /v1/chat/completions answers a short chat completion;
 * /v1/embeddings answers one 8-float embedding per input string. Prints
 * "listening on 127.0.0.1:PORT" when ready; SIGTERM stops it.
 *
 *   bench_server [--port N] [--latency-ms MS]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define MAX_CONNS   4096
#define RBUF_MAX    (1 << 20)
#define MAX_PENDING 65536

typedef struct conn {
    int fd;
    unsigned gen;
    char *rbuf;
    size_t rlen;
    sl_buf wbuf;
} conn;

typedef struct pending {
    int64_t due_us;
    int fd;
    unsigned gen;
    int kind; /* 0 chat, 1 embeddings, 2 not found */
    int n_inputs;
} pending;

static conn conns[MAX_CONNS];
static pending queue[MAX_PENDING];
static size_t q_head, q_len;
static volatile sig_atomic_t stop;
static unsigned long long served;

/* Times are in microseconds so the fixed latency is not rounded up to
 * whole milliseconds (epoll_pwait2 takes a timespec). */
static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static void close_conn(int epfd, conn *c)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    sl_free(c->rbuf);
    c->rbuf = NULL;
    c->rlen = 0;
    sl_buf_free(&c->wbuf);
    c->fd = -1;
    c->gen++;
}

static void flush_conn(int epfd, conn *c)
{
    size_t off = 0;
    while (off < c->wbuf.len) {
        ssize_t n = write(c->fd, c->wbuf.data + off, c->wbuf.len - off);
        if (n < 0) {
            if (errno == EAGAIN)
                break;
            close_conn(epfd, c);
            return;
        }
        off += (size_t)n;
    }
    if (off) {
        memmove(c->wbuf.data, c->wbuf.data + off, c->wbuf.len - off);
        c->wbuf.len -= off;
    }
    struct epoll_event ev = {.events = EPOLLIN | (c->wbuf.len ? EPOLLOUT : 0),
                             .data.fd = c->fd};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void respond(conn *c, const pending *p)
{
    char body[65536];
    int len;
    int status = 200;
    if (p->kind == 0) {
        len = sl_snprintf(body, sizeof(body),
                          "{\"id\":\"b\",\"object\":\"chat.completion\","
                          "\"choices\":[{\"index\":0,\"finish_reason\":"
                          "\"stop\",\"message\":{\"role\":\"assistant\","
                          "\"content\":\"ok\"}}],\"usage\":{"
                          "\"prompt_tokens\":5,\"completion_tokens\":1}}");
    } else if (p->kind == 1) {
        sl_buf b;
        sl_buf_init(&b, sizeof(body) - 1);
        sl_buf_puts(&b, "{\"object\":\"list\",\"data\":[");
        for (int i = 0; i < p->n_inputs; i++)
            sl_buf_printf(&b,
                          "%s{\"index\":%d,\"embedding\":[0.1,-0.2,0.3,-0.4,"
                          "0.5,-0.6,0.7,-0.8]}",
                          i ? "," : "", i);
        sl_buf_puts(&b, "],\"usage\":{\"prompt_tokens\":1}}");
        len = (int)b.len;
        memcpy(body, sl_buf_cstr(&b), b.len);
        sl_buf_free(&b);
    } else {
        status = 404;
        len = sl_snprintf(body, sizeof(body),
                          "{\"error\":{\"message\":\"not found\"}}");
    }
    sl_buf_printf(&c->wbuf,
                  "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                  "Content-Length: %d\r\n\r\n",
                  status, status == 200 ? "OK" : "Not Found", len);
    sl_buf_append(&c->wbuf, body, (size_t)len);
    served++;
}

/* Count the strings of the "input" array (our client sends plain ones). */
static int count_inputs(const char *body, size_t len)
{
    const char *p = memmem(body, len, "\"input\"", 7);
    if (!p)
        return 1;
    p += 7;
    const char *end = body + len;
    while (p < end && *p != '[' && *p != '"')
        p++;
    if (p >= end || *p == '"')
        return 1;
    int quotes = 0;
    for (p++; p < end && *p != ']'; p++) {
        if (*p == '\\') {
            p++;
            continue;
        }
        if (*p == '"')
            quotes++;
    }
    return quotes / 2 ? quotes / 2 : 1;
}

/* Parse complete requests in c->rbuf; queue their answers. */
static int parse_requests(conn *c, int latency)
{
    size_t off = 0;
    for (;;) {
        char *start = c->rbuf + off;
        size_t avail = c->rlen - off;
        char *hend = memmem(start, avail, "\r\n\r\n", 4);
        if (!hend)
            break;
        size_t hlen = (size_t)(hend - start) + 4;
        size_t clen = 0;
        for (char *l = start; l < hend; l++) {
            if ((*l == 'C' || *l == 'c') &&
                !strncasecmp(l, "content-length:", 15)) {
                clen = (size_t)strtoul(l + 15, NULL, 10);
                break;
            }
        }
        if (avail < hlen + clen)
            break;
        if (q_len == MAX_PENDING)
            return -1;
        pending *p = &queue[(q_head + q_len++) % MAX_PENDING];
        p->due_us = now_us() + (int64_t)latency * 1000;
        p->fd = c->fd;
        p->gen = c->gen;
        p->n_inputs = 1;
        if (!strncmp(start, "POST /v1/chat/completions", 25)) {
            p->kind = 0;
        } else if (!strncmp(start, "POST /v1/embeddings", 19)) {
            p->kind = 1;
            p->n_inputs = count_inputs(start + hlen, clen);
        } else {
            p->kind = 2;
        }
        off += hlen + clen;
    }
    if (off) {
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int port = 0, latency = 50;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port"))
            port = (int)strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--latency-ms"))
            latency = (int)strtol(argv[i + 1], NULL, 10);
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 4096)) {
        perror("bench_server: bind/listen");
        return 1;
    }
    socklen_t al = sizeof(a);
    getsockname(ls, (struct sockaddr *)&a, &al);
    int epfd = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    epoll_ctl(epfd, EPOLL_CTL_ADD, ls, &ev);
    for (int i = 0; i < MAX_CONNS; i++)
        conns[i].fd = -1;
    printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
    fflush(stdout);
    struct epoll_event evs[256];
    while (!stop) {
        int64_t now = now_us();
        struct timespec ts, *tsp = NULL;
        if (q_len) {
            int64_t d = queue[q_head].due_us - now;
            if (d < 0)
                d = 0;
            ts.tv_sec = d / 1000000;
            ts.tv_nsec = (d % 1000000) * 1000;
            tsp = &ts;
        }
        int n = epoll_pwait2(epfd, evs, 256, tsp, NULL);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int cfd;
                while ((cfd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (cfd >= MAX_CONNS) {
                        close(cfd);
                        continue;
                    }
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one,
                               sizeof(one));
                    conn *c = &conns[cfd];
                    c->fd = cfd;
                    c->rbuf = sl_malloc(RBUF_MAX);
                    c->rlen = 0;
                    sl_buf_init(&c->wbuf, 64u << 20);
                    struct epoll_event cev = {.events = EPOLLIN,
                                              .data.fd = cfd};
                    epoll_ctl(epfd, EPOLL_CTL_ADD, cfd, &cev);
                }
                continue;
            }
            conn *c = &conns[fd];
            if (c->fd < 0)
                continue;
            if (evs[i].events & EPOLLOUT)
                flush_conn(epfd, c);
            if (c->fd < 0 || !(evs[i].events & (EPOLLIN | EPOLLHUP)))
                continue;
            for (;;) {
                if (c->rlen == RBUF_MAX) {
                    close_conn(epfd, c);
                    break;
                }
                ssize_t r = read(fd, c->rbuf + c->rlen, RBUF_MAX - c->rlen);
                if (r > 0) {
                    c->rlen += (size_t)r;
                    continue;
                }
                if (r == 0 || errno != EAGAIN)
                    close_conn(epfd, c);
                break;
            }
            if (c->fd >= 0 && parse_requests(c, latency))
                close_conn(epfd, c);
        }
        now = now_us();
        while (q_len && queue[q_head].due_us <= now) {
            pending *p = &queue[q_head];
            q_head = (q_head + 1) % MAX_PENDING;
            q_len--;
            conn *c = &conns[p->fd];
            if (c->fd != p->fd || c->gen != p->gen)
                continue;
            respond(c, p);
            /* write now; flush whatever is due on this conn together */
            if (!q_len || queue[q_head].fd != p->fd ||
                queue[q_head].due_us > now)
                flush_conn(epfd, c);
        }
    }
    fprintf(stderr, "bench_server: served %llu requests\n", served);
    return 0;
}
