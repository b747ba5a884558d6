/*
 * harness.c: processes, brokers and scratch space for the test suite.
 *
 * See harness.h. Child processes get PR_SET_PDEATHSIG so that a crashed or
 * killed test never leaves a server behind; every server binds 127.0.0.1.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "harness.h"

const char *sl_test_sluice_bin(void)
{
    return SLUICE_TEST_BIN;
}

const char *sl_test_source_dir(void)
{
    return SLUICE_SOURCE_DIR;
}

const char *sl_test_python(void)
{
    return "/usr/bin/python3";
}

static int status_of(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

static pid_t spawn(const char *const argv[], int *in_fd, int *out_fd,
                   int *err_fd)
{
    int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
    if ((in_fd && pipe(pin)) || (out_fd && pipe(pout)) ||
        (err_fd && pipe(perr)))
        return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        setpgid(0, 0);
        int devnull = open("/dev/null", O_RDWR);
        dup2(in_fd ? pin[0] : devnull, 0);
        dup2(out_fd ? pout[1] : devnull, 1);
        dup2(err_fd ? perr[1] : devnull, 2);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (in_fd) {
        close(pin[0]);
        *in_fd = pin[1];
    }
    if (out_fd) {
        close(pout[1]);
        *out_fd = pout[0];
    }
    if (err_fd) {
        close(perr[1]);
        *err_fd = perr[0];
    }
    return pid;
}

int sl_test_run(const char *const argv[], const char *stdin_text, sl_buf *out,
                sl_buf *err, int timeout_ms)
{
    int in_fd = -1, out_fd = -1, err_fd = -1;
    signal(SIGPIPE, SIG_IGN);
    pid_t pid = spawn(argv, &in_fd, &out_fd, &err_fd);
    if (pid < 0)
        return -1;
    size_t in_len = stdin_text ? strlen(stdin_text) : 0, in_off = 0;
    if (!in_len) {
        close(in_fd);
        in_fd = -1;
    }
    int64_t deadline = sl_mono_ns() + (int64_t)timeout_ms * 1000000;
    bool timed_out = false;
    while (out_fd >= 0 || err_fd >= 0) {
        struct pollfd p[3];
        int n = 0;
        if (out_fd >= 0)
            p[n++] = (struct pollfd){out_fd, POLLIN, 0};
        if (err_fd >= 0)
            p[n++] = (struct pollfd){err_fd, POLLIN, 0};
        if (in_fd >= 0)
            p[n++] = (struct pollfd){in_fd, POLLOUT, 0};
        int64_t left = (deadline - sl_mono_ns()) / 1000000;
        if (left <= 0) {
            timed_out = true;
            break;
        }
        if (poll(p, (nfds_t)n, (int)left) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            if (!p[i].revents)
                continue;
            if (p[i].fd == in_fd) {
                ssize_t w = write(in_fd, stdin_text + in_off, in_len - in_off);
                if (w > 0)
                    in_off += (size_t)w;
                if (w < 0 || in_off == in_len) {
                    close(in_fd);
                    in_fd = -1;
                }
                continue;
            }
            char chunk[8192];
            ssize_t r = read(p[i].fd, chunk, sizeof(chunk));
            bool is_out = p[i].fd == out_fd;
            if (r <= 0) {
                close(p[i].fd);
                if (is_out)
                    out_fd = -1;
                else
                    err_fd = -1;
                continue;
            }
            sl_buf *dst = is_out ? out : err;
            if (dst)
                sl_buf_append(dst, chunk, (size_t)r);
        }
    }
    if (in_fd >= 0)
        close(in_fd);
    if (out_fd >= 0)
        close(out_fd);
    if (err_fd >= 0)
        close(err_fd);
    int st = 0;
    if (timed_out) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        return -1;
    }
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return status_of(st);
}

struct sl_test_proc {
    pid_t pid;
    int out_fd;
};

sl_test_proc *sl_test_proc_start(const char *const argv[], const char *ready,
                                 int timeout_ms, char *line, size_t line_size)
{
    sl_test_proc *proc = sl_calloc(1, sizeof(*proc));
    if (!proc)
        return NULL;
    proc->pid = spawn(argv, NULL, &proc->out_fd, NULL);
    if (proc->pid < 0) {
        sl_free(proc);
        return NULL;
    }
    if (!ready)
        return proc;
    char acc[4096];
    size_t len = 0;
    int64_t deadline = sl_mono_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        int64_t left = (deadline - sl_mono_ns()) / 1000000;
        struct pollfd p = {proc->out_fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        ssize_t r = read(proc->out_fd, acc + len, sizeof(acc) - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        acc[len] = '\0';
        char *hit = strstr(acc, ready);
        if (hit) {
            char *start = hit;
            while (start > acc && start[-1] != '\n')
                start--;
            char *end = strchr(hit, '\n');
            if (line && line_size) {
                size_t n = end ? (size_t)(end - start) : strlen(start);
                if (n >= line_size)
                    n = line_size - 1;
                memcpy(line, start, n);
                line[n] = '\0';
            }
            return proc;
        }
        if (len == sizeof(acc) - 1) {
            /* keep the tail: a ready line may straddle */
            memmove(acc, acc + len / 2, len - len / 2);
            len -= len / 2;
        }
    }
    sl_test_proc_stop(proc, SIGKILL, 1000);
    return NULL;
}

pid_t sl_test_proc_pid(const sl_test_proc *proc)
{
    return proc->pid;
}

int sl_test_proc_stop(sl_test_proc *proc, int sig, int timeout_ms)
{
    if (!proc)
        return -1;
    kill(proc->pid, sig);
    int st = 0, rc = -1;
    int64_t deadline = sl_mono_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        pid_t w = waitpid(proc->pid, &st, WNOHANG);
        if (w == proc->pid) {
            rc = status_of(st);
            break;
        }
        if (sl_mono_ns() > deadline) {
            kill(-proc->pid, SIGKILL);
            kill(proc->pid, SIGKILL);
            waitpid(proc->pid, &st, 0);
            rc = status_of(st);
            break;
        }
        usleep(10000);
    }
    close(proc->out_fd);
    sl_free(proc);
    return rc;
}

sl_test_proc *sl_test_http_start(const char *const extra_args[], int *port)
{
    char script[1024];
    sl_snprintf(script, sizeof(script), "%s/tests/servers/mock_openai.py",
                sl_test_source_dir());
    const char *argv[64] = {sl_test_python(), script, "--port", "0"};
    int n = 4;
    for (int i = 0; extra_args && extra_args[i] && n < 63; i++)
        argv[n++] = extra_args[i];
    argv[n] = NULL;
    char line[256];
    sl_test_proc *proc =
        sl_test_proc_start(argv, "listening on", 10000, line, sizeof(line));
    if (!proc)
        return NULL;
    const char *colon = strrchr(line, ':');
    int64_t p = 0;
    if (!colon || sl_parse_int64(colon + 1, strlen(colon + 1), &p)) {
        sl_test_proc_stop(proc, SIGKILL, 1000);
        return NULL;
    }
    *port = (int)p;
    return proc;
}

struct sl_test_broker {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mcluster;
};

sl_test_broker *sl_test_broker_start(int n_brokers)
{
    sl_test_broker *broker = sl_calloc(1, sizeof(*broker));
    if (!broker)
        return NULL;
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
    broker->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!broker->rk) {
        rd_kafka_conf_destroy(conf);
        sl_free(broker);
        return NULL;
    }
    broker->mcluster =
        rd_kafka_mock_cluster_new(broker->rk, n_brokers > 0 ? n_brokers : 1);
    if (!broker->mcluster) {
        rd_kafka_destroy(broker->rk);
        sl_free(broker);
        return NULL;
    }
    return broker;
}

const char *sl_test_broker_bootstraps(const sl_test_broker *broker)
{
    return rd_kafka_mock_cluster_bootstraps(broker->mcluster);
}

rd_kafka_mock_cluster_t *sl_test_broker_cluster(sl_test_broker *broker)
{
    return broker->mcluster;
}

void sl_test_broker_stop(sl_test_broker *broker)
{
    if (!broker)
        return;
    rd_kafka_mock_cluster_destroy(broker->mcluster);
    rd_kafka_destroy(broker->rk);
    sl_free(broker);
}

char *sl_test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[1024];
    sl_snprintf(tmpl, sizeof(tmpl), "%s/sluice-test-XXXXXX",
                base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl))
        return NULL;
    return sl_strdup(tmpl);
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char child[2048];
            sl_snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
            struct stat st;
            if (!lstat(child, &st) && S_ISDIR(st.st_mode))
                remove_tree(child);
            else
                unlink(child);
        }
        closedir(d);
    }
    rmdir(path);
}

void sl_test_tmpdir_remove(char *path)
{
    if (!path)
        return;
    remove_tree(path);
    sl_free(path);
}

char *sl_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    sl_buf b;
    sl_buf_init(&b, 0);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        sl_buf_append(&b, chunk, n);
    fclose(f);
    if (b.rc) {
        sl_buf_free(&b);
        return NULL;
    }
    if (len)
        *len = b.len;
    return sl_buf_steal(&b);
}

int sl_test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return SL_IO;
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, f) == n ? SL_OK : SL_IO;
    if (fclose(f))
        rc = SL_IO;
    return rc;
}

/* ---- lines ---------------------------------------------------------- */

void sl_test_lines_add(sl_test_lines *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = sl_realloc(l->v, (size_t)l->cap * sizeof(char *));
        cr_assert(l->v, "out of memory");
    }
    l->v[l->n] = sl_strdup(s);
    cr_assert(l->v[l->n], "out of memory");
    l->n++;
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void sl_test_lines_sort(sl_test_lines *l)
{
    if (l->n > 1)
        qsort(l->v, (size_t)l->n, sizeof(char *), cmp_line);
}

void sl_test_lines_diff(const char *what, const sl_test_lines *got,
                        const sl_test_lines *want, int *dups, int *missing,
                        int *extra)
{
    *dups = *missing = *extra = 0;
    int j = 0;
    for (int i = 0; i < got->n; i++) {
        if (i && !strcmp(got->v[i], got->v[i - 1])) {
            (*dups)++;
            continue;
        }
        while (j < want->n && strcmp(want->v[j], got->v[i]) < 0) {
            if ((*missing)++ < 20)
                fprintf(stderr, "%s: missing: %s\n", what, want->v[j]);
            j++;
        }
        if (j < want->n && !strcmp(want->v[j], got->v[i]))
            j++;
        else if ((*extra)++ < 20)
            fprintf(stderr, "%s: not in the reference: %s\n", what, got->v[i]);
    }
    for (; j < want->n; j++)
        if ((*missing)++ < 20)
            fprintf(stderr, "%s: missing: %s\n", what, want->v[j]);
}

void sl_test_lines_free(sl_test_lines *l)
{
    for (int i = 0; i < l->n; i++)
        sl_free(l->v[i]);
    sl_free(l->v);
    memset(l, 0, sizeof(*l));
}

int sl_test_collect_inserts(void *ctx, const struct sluice_row *row)
{
    sl_test_lines *l = ctx;
    cr_assert_eq(sluice_row_kind(row), SLUICE_ROW_INSERT);
    sl_buf b;
    sl_buf_init(&b, 0);
    for (int i = 0; i < sluice_row_column_count(row); i++) {
        const char *t = sluice_row_text(row, i);
        sl_buf_printf(&b, "%s%s", i ? "|" : "", t ? t : "NULL");
    }
    sl_test_lines_add(l, sl_buf_cstr(&b));
    sl_buf_free(&b);
    return 0;
}

void sl_test_query_lines(sqlite3 *db, const char *sql, sl_test_lines *out)
{
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK,
                 "%s: %s", sql, sqlite3_errmsg(db));
    while (sqlite3_step(st) == SQLITE_ROW) {
        sl_buf b;
        sl_buf_init(&b, 0);
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *t = (const char *)sqlite3_column_text(st, i);
            sl_buf_printf(&b, "%s%s", i ? "|" : "", t ? t : "NULL");
        }
        sl_test_lines_add(out, sl_buf_cstr(&b));
        sl_buf_free(&b);
    }
    sqlite3_finalize(st);
}
