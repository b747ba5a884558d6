/*
 * test_runtime_loop.c: the job thread's event loop: timer ordering (by due
 * time, ties in insertion order), repeating timers and cancellation, fd
 * readiness through a real pipe, removal of an fd inside a callback, the
 * timer bound, and wakeups from another thread and from a signal handler.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "loop.h"

typedef struct rec {
    int order[32];
    int n;
} rec;

typedef struct tctx {
    rec *rec;
    int tag;
} tctx;

static void on_timer(sl_loop *loop, uint64_t id, void *ctx)
{
    SL_UNUSED(loop);
    SL_UNUSED(id);
    tctx *t = ctx;
    if (t->rec->n < 32)
        t->rec->order[t->rec->n++] = t->tag;
}

static void run_for(sl_loop *loop, int ms)
{
    int64_t end = sl_mono_ns() + (int64_t)ms * 1000000;
    while (sl_mono_ns() < end) {
        int left = (int)((end - sl_mono_ns()) / 1000000) + 1;
        cr_assert_eq(sl_loop_run_once(loop, left, NULL, NULL), SL_OK);
    }
}

Test(loop, timers_fire_in_due_order)
{
    sl_loop *loop;
    cr_assert_eq(sl_loop_new(&loop, NULL), SL_OK);
    rec r = {0};
    tctx t[5] = {{&r, 0}, {&r, 1}, {&r, 2}, {&r, 3}, {&r, 4}};
    int64_t delays[5] = {30, 10, 20, 10, 0};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(
            sl_loop_add_timer(loop, delays[i], 0, on_timer, &t[i], NULL, NULL),
            SL_OK);
    uint64_t cancel_id;
    tctx never = {&r, 99};
    sl_loop_add_timer(loop, 15, 0, on_timer, &never, &cancel_id, NULL);
    cr_assert_neq(cancel_id, 0);
    sl_loop_cancel_timer(loop, cancel_id);
    sl_loop_cancel_timer(loop, cancel_id); /* stale: ignored */
    int64_t start = sl_mono_ns();
    run_for(loop, 60);
    cr_assert_eq(r.n, 5);
    int want[5] = {4, 1, 3, 2, 0};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(r.order[i], want[i], "position %d: %d", i, r.order[i]);
    cr_assert_geq(sl_mono_ns() - start, 30 * 1000000);
    cr_assert_eq(sl_loop_next_timer_ms(loop), -1);
    sl_loop_free(loop);
}

typedef struct rep {
    int fired;
    uint64_t id;
} rep;

static void on_repeat(sl_loop *loop, uint64_t id, void *ctx)
{
    rep *p = ctx;
    cr_assert_eq(id, p->id);
    if (++p->fired == 3)
        sl_loop_cancel_timer(loop, id);
}

Test(loop, repeating_timer_until_cancelled)
{
    sl_loop *loop;
    cr_assert_eq(sl_loop_new(&loop, NULL), SL_OK);
    rep p = {0};
    cr_assert_eq(sl_loop_add_timer(loop, 1, 5, on_repeat, &p, &p.id, NULL),
                 SL_OK);
    run_for(loop, 60);
    cr_assert_eq(p.fired, 3);
    sl_loop_free(loop);
}

Test(loop, timer_bound)
{
    sl_loop *loop;
    cr_assert_eq(sl_loop_new(&loop, NULL), SL_OK);
    rec r = {0};
    tctx t = {&r, 0};
    for (int i = 0; i < SL_LOOP_MAX_TIMERS; i++)
        cr_assert_eq(
            sl_loop_add_timer(loop, 100000 + i, 0, on_timer, &t, NULL, NULL),
            SL_OK);
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_loop_add_timer(loop, 1, 0, on_timer, &t, NULL, &err),
                 SL_LIMIT);
    sl_loop_free(loop);
}

typedef struct fdctx {
    int reads;
    int other_fd;
    bool del_other;
    unsigned events;
} fdctx;

static void on_fd(sl_loop *loop, int fd, unsigned events, void *ctx)
{
    fdctx *c = ctx;
    c->reads++;
    c->events = events;
    char buf[16];
    ssize_t n = read(fd, buf, sizeof(buf));
    SL_UNUSED(n);
    if (c->del_other)
        sl_loop_del_fd(loop, c->other_fd);
}

Test(loop, fd_readiness_and_removal_inside_callback)
{
    sl_loop *loop;
    cr_assert_eq(sl_loop_new(&loop, NULL), SL_OK);
    int p1[2], p2[2];
    cr_assert_eq(pipe(p1), 0);
    cr_assert_eq(pipe(p2), 0);
    fdctx a = {.other_fd = p2[0], .del_other = true};
    fdctx b = {.other_fd = p1[0], .del_other = true};
    cr_assert_eq(sl_loop_add_fd(loop, p1[0], SL_LOOP_READ, on_fd, &a, NULL),
                 SL_OK);
    cr_assert_eq(sl_loop_add_fd(loop, p2[0], SL_LOOP_READ, on_fd, &b, NULL),
                 SL_OK);
    cr_assert_eq(write(p1[1], "x", 1), 1);
    cr_assert_eq(write(p2[1], "y", 1), 1);
    int n = 0;
    cr_assert_eq(sl_loop_run_once(loop, 100, &n, NULL), SL_OK);
    /* whichever ran first removed the other: exactly one callback */
    cr_assert_eq(a.reads + b.reads, 1);
    cr_assert_eq(n, 1);
    int left = sl_loop_has_fd(loop, p1[0]) ? p1[0] : p2[0];
    cr_assert(sl_loop_has_fd(loop, left));
    sl_loop_del_fd(loop, left);
    cr_assert_eq(sl_loop_run_once(loop, 0, &n, NULL), SL_OK);
    cr_assert_eq(n, 0);
    /* writable */
    fdctx w = {0};
    cr_assert_eq(sl_loop_add_fd(loop, p1[1], SL_LOOP_WRITE, on_fd, &w, NULL),
                 SL_OK);
    cr_assert_eq(sl_loop_run_once(loop, 100, &n, NULL), SL_OK);
    cr_assert_eq(w.reads, 1);
    cr_assert(w.events & SL_LOOP_WRITE);
    cr_assert_eq(sl_loop_mod_fd(loop, p1[1], 0, NULL), SL_OK);
    cr_assert_eq(sl_loop_run_once(loop, 0, &n, NULL), SL_OK);
    cr_assert_eq(w.reads, 1);
    sl_loop_del_fd(loop, p1[1]);
    close(p1[0]);
    close(p1[1]);
    close(p2[0]);
    close(p2[1]);
    sl_loop_free(loop);
}

static void *wake_later(void *arg)
{
    usleep(20000);
    sl_loop_wakeup(arg);
    return NULL;
}

static void on_wake(sl_loop *loop, void *ctx)
{
    SL_UNUSED(loop);
    (*(int *)ctx)++;
}

Test(loop, wakeup_from_another_thread)
{
    sl_loop *loop;
    cr_assert_eq(sl_loop_new(&loop, NULL), SL_OK);
    int woken = 0;
    sl_loop_set_wakeup_cb(loop, on_wake, &woken);
    pthread_t th;
    pthread_create(&th, NULL, wake_later, loop);
    int64_t start = sl_mono_ns();
    int n = 0;
    cr_assert_eq(sl_loop_run_once(loop, 5000, &n, NULL), SL_OK);
    int64_t waited_ms = (sl_mono_ns() - start) / 1000000;
    pthread_join(th, NULL);
    cr_assert_eq(woken, 1);
    cr_assert_eq(n, 1);
    cr_assert(sl_loop_take_wakeup(loop));
    cr_assert_not(sl_loop_take_wakeup(loop));
    cr_assert_lt(waited_ms, 2000);
    /* several wakeups before the loop runs collapse into one */
    sl_loop_wakeup(loop);
    sl_loop_wakeup(loop);
    cr_assert_eq(sl_loop_run_once(loop, 100, &n, NULL), SL_OK);
    cr_assert_eq(woken, 2);
    sl_loop_free(loop);
}

static sl_loop *signal_loop;

static void on_sigusr1(int sig)
{
    SL_UNUSED(sig);
    sl_loop_wakeup(signal_loop);
}

Test(loop, wakeup_from_signal_handler)
{
    cr_assert_eq(sl_loop_new(&signal_loop, NULL), SL_OK);
    struct sigaction sa = {0};
    sa.sa_handler = on_sigusr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    int n = 0;
    cr_assert_eq(sl_loop_run_once(signal_loop, 1000, &n, NULL), SL_OK);
    cr_assert(sl_loop_take_wakeup(signal_loop));
    signal(SIGUSR1, SIG_DFL);
    sl_loop_free(signal_loop);
}
