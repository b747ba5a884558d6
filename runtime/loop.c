/*
 * loop.c: the epoll event loop of a job thread (see loop.h).
 *
 * fds: a table indexed by fd holding callback, context, requested events
 * and a generation that rides in epoll's data field, so an event collected
 * for an fd removed (or re-added) by an earlier callback of the same round
 * is dropped. Timers: a fixed slot table (SL_LOOP_MAX_TIMERS) plus a binary
 * min-heap of slot indexes ordered by (due time, insertion sequence); a
 * timer id carries its slot and a generation so stale ids are ignored.
 * Wakeup: an eventfd, written by sl_loop_wakeup from any thread or signal
 * handler, read (drained) by the loop.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop.h"

#define MAX_EVENTS 64

typedef struct fd_entry {
    sl_loop_fd_cb cb;
    void *ctx;
    unsigned events;
    uint32_t gen; /* 0: not watched */
} fd_entry;

typedef struct timer_slot {
    int64_t due_ns;
    int64_t interval_ns;
    uint64_t seq; /* insertion order, breaks ties */
    sl_loop_timer_cb cb;
    void *ctx;
    uint32_t gen;
    int heap_idx; /* -1: free */
} timer_slot;

struct sl_loop {
    int epfd;
    int wakefd;
    fd_entry *fds;
    int n_fds_cap;
    uint32_t next_gen;
    timer_slot *timers;
    int *heap;
    int n_heap;
    int *free_slots;
    int n_free;
    uint64_t timer_seq;
    sl_loop_wakeup_cb wake_cb;
    void *wake_ctx;
    bool woken;
};

#define WAKE_TAG UINT64_MAX

/* Errors are reported through err when the caller gave one. */
static int loop_err(sl_err *err, int code, const char *fmt, ...)
    SL_PRINTF(3, 4);
static int loop_err(sl_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        sl_err_vset(err, code, fmt, ap);
        va_end(ap);
    }
    return code;
}

int sl_loop_new(sl_loop **out, sl_err *err)
{
    *out = NULL;
    sl_loop *loop = sl_calloc(1, sizeof(*loop));
    if (!loop)
        return loop_err(err, SL_NOMEM, "out of memory");
    loop->epfd = -1;
    loop->wakefd = -1;
    loop->timers = sl_calloc(SL_LOOP_MAX_TIMERS, sizeof(*loop->timers));
    loop->heap = sl_calloc(SL_LOOP_MAX_TIMERS, sizeof(int));
    loop->free_slots = sl_calloc(SL_LOOP_MAX_TIMERS, sizeof(int));
    if (!loop->timers || !loop->heap || !loop->free_slots) {
        sl_loop_free(loop);
        return loop_err(err, SL_NOMEM, "out of memory");
    }
    for (int i = 0; i < SL_LOOP_MAX_TIMERS; i++) {
        loop->timers[i].heap_idx = -1;
        loop->timers[i].gen = 1;
        loop->free_slots[i] = SL_LOOP_MAX_TIMERS - 1 - i;
    }
    loop->n_free = SL_LOOP_MAX_TIMERS;
    loop->next_gen = 1;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (loop->epfd < 0 || loop->wakefd < 0) {
        int e = errno;
        sl_loop_free(loop);
        return loop_err(err, SL_IO, "cannot create the event loop: %s",
                        strerror(e));
    }
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.u64 = WAKE_TAG;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev) < 0) {
        int e = errno;
        sl_loop_free(loop);
        return loop_err(err, SL_IO, "cannot watch the wakeup fd: %s",
                        strerror(e));
    }
    *out = loop;
    return SL_OK;
}

void sl_loop_free(sl_loop *loop)
{
    if (!loop)
        return;
    if (loop->epfd >= 0)
        close(loop->epfd);
    if (loop->wakefd >= 0)
        close(loop->wakefd);
    sl_free(loop->fds);
    sl_free(loop->timers);
    sl_free(loop->heap);
    sl_free(loop->free_slots);
    sl_free(loop);
}

/* ---- fds ------------------------------------------------------------- */

static uint32_t to_epoll(unsigned events)
{
    uint32_t e = 0;
    if (events & SL_LOOP_READ)
        e |= EPOLLIN;
    if (events & SL_LOOP_WRITE)
        e |= EPOLLOUT;
    return e;
}

static int grow_fds(sl_loop *loop, int fd, sl_err *err)
{
    if (fd < loop->n_fds_cap)
        return SL_OK;
    int cap = loop->n_fds_cap ? loop->n_fds_cap : 64;
    while (cap <= fd)
        cap *= 2;
    if (cap > SL_LOOP_MAX_FDS)
        cap = SL_LOOP_MAX_FDS;
    fd_entry *f = sl_realloc(loop->fds, (size_t)cap * sizeof(*f));
    if (!f)
        return loop_err(err, SL_NOMEM, "out of memory");
    memset(f + loop->n_fds_cap, 0,
           (size_t)(cap - loop->n_fds_cap) * sizeof(*f));
    loop->fds = f;
    loop->n_fds_cap = cap;
    return SL_OK;
}

static int epoll_set(sl_loop *loop, int op, int fd, unsigned events,
                     uint32_t gen)
{
    struct epoll_event ev = {.events = to_epoll(events)};
    ev.data.u64 = ((uint64_t)gen << 32) | (uint32_t)fd;
    return epoll_ctl(loop->epfd, op, fd, &ev);
}

int sl_loop_add_fd(sl_loop *loop, int fd, unsigned events, sl_loop_fd_cb cb,
                   void *ctx, sl_err *err)
{
    if (fd < 0 || fd >= SL_LOOP_MAX_FDS || !cb)
        return loop_err(err, SL_MISUSE, "sl_loop_add_fd: bad fd %d", fd);
    int rc = grow_fds(loop, fd, err);
    if (rc)
        return rc;
    fd_entry *e = &loop->fds[fd];
    bool had = e->gen != 0;
    uint32_t gen = had ? e->gen : loop->next_gen++;
    if (loop->next_gen == 0)
        loop->next_gen = 1;
    if (epoll_set(loop, had ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, events, gen) <
        0)
        return loop_err(err, SL_IO, "cannot watch fd %d: %s", fd,
                        strerror(errno));
    e->cb = cb;
    e->ctx = ctx;
    e->events = events;
    e->gen = gen;
    return SL_OK;
}

int sl_loop_mod_fd(sl_loop *loop, int fd, unsigned events, sl_err *err)
{
    if (!sl_loop_has_fd(loop, fd))
        return loop_err(err, SL_MISUSE, "fd %d is not watched", fd);
    fd_entry *e = &loop->fds[fd];
    if (e->events == events)
        return SL_OK;
    if (epoll_set(loop, EPOLL_CTL_MOD, fd, events, e->gen) < 0)
        return loop_err(err, SL_IO, "cannot change fd %d: %s", fd,
                        strerror(errno));
    e->events = events;
    return SL_OK;
}

void sl_loop_del_fd(sl_loop *loop, int fd)
{
    if (!sl_loop_has_fd(loop, fd))
        return;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    loop->fds[fd].gen = 0;
    loop->fds[fd].cb = NULL;
}

bool sl_loop_has_fd(const sl_loop *loop, int fd)
{
    return fd >= 0 && fd < loop->n_fds_cap && loop->fds[fd].gen != 0;
}

/* ---- timers ---------------------------------------------------------- */

static bool timer_less(const sl_loop *loop, int a, int b)
{
    const timer_slot *x = &loop->timers[a], *y = &loop->timers[b];
    return x->due_ns < y->due_ns || (x->due_ns == y->due_ns && x->seq < y->seq);
}

static void heap_place(sl_loop *loop, int i, int slot)
{
    loop->heap[i] = slot;
    loop->timers[slot].heap_idx = i;
}

static void sift_up(sl_loop *loop, int i)
{
    int slot = loop->heap[i];
    while (i > 0) {
        int parent = (i - 1) / 2;
        if (!timer_less(loop, slot, loop->heap[parent]))
            break;
        heap_place(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_place(loop, i, slot);
}

static void sift_down(sl_loop *loop, int i)
{
    int slot = loop->heap[i];
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        int best = slot;
        if (l < loop->n_heap && timer_less(loop, loop->heap[l], best)) {
            m = l;
            best = loop->heap[l];
        }
        if (r < loop->n_heap && timer_less(loop, loop->heap[r], best))
            m = r;
        if (m == i)
            break;
        heap_place(loop, i, loop->heap[m]);
        i = m;
    }
    heap_place(loop, i, slot);
}

static void heap_remove(sl_loop *loop, int i)
{
    int slot = loop->heap[i];
    loop->timers[slot].heap_idx = -1;
    loop->n_heap--;
    if (i < loop->n_heap) {
        heap_place(loop, i, loop->heap[loop->n_heap]);
        sift_down(loop, i);
        sift_up(loop, loop->timers[loop->heap[i]].heap_idx);
    }
}

static void heap_push(sl_loop *loop, int slot)
{
    int i = loop->n_heap++;
    heap_place(loop, i, slot);
    sift_up(loop, i);
}

static uint64_t timer_id(const sl_loop *loop, int slot)
{
    return ((uint64_t)loop->timers[slot].gen << 16) | (uint64_t)slot;
}

int sl_loop_add_timer(sl_loop *loop, int64_t delay_ms, int64_t interval_ms,
                      sl_loop_timer_cb cb, void *ctx, uint64_t *id, sl_err *err)
{
    if (!cb || delay_ms < 0 || interval_ms < 0)
        return loop_err(err, SL_MISUSE, "sl_loop_add_timer: bad arguments");
    if (loop->n_free == 0)
        return loop_err(err, SL_LIMIT, "more than %d timers",
                        SL_LOOP_MAX_TIMERS);
    int slot = loop->free_slots[--loop->n_free];
    timer_slot *t = &loop->timers[slot];
    t->due_ns = sl_mono_ns() + delay_ms * 1000000;
    t->interval_ns = interval_ms * 1000000;
    t->seq = loop->timer_seq++;
    t->cb = cb;
    t->ctx = ctx;
    heap_push(loop, slot);
    if (id)
        *id = timer_id(loop, slot);
    return SL_OK;
}

static void free_slot(sl_loop *loop, int slot)
{
    timer_slot *t = &loop->timers[slot];
    t->gen = (t->gen + 1) & 0xffffffffu;
    if (t->gen == 0)
        t->gen = 1;
    t->cb = NULL;
    loop->free_slots[loop->n_free++] = slot;
}

void sl_loop_cancel_timer(sl_loop *loop, uint64_t id)
{
    uint64_t slot = id & 0xffff;
    if (id == 0 || slot >= SL_LOOP_MAX_TIMERS)
        return;
    timer_slot *t = &loop->timers[slot];
    if ((id >> 16) != t->gen || t->heap_idx < 0)
        return;
    heap_remove(loop, t->heap_idx);
    free_slot(loop, (int)slot);
}

int64_t sl_loop_next_timer_ms(const sl_loop *loop)
{
    if (loop->n_heap == 0)
        return -1;
    int64_t d = loop->timers[loop->heap[0]].due_ns - sl_mono_ns();
    if (d <= 0)
        return 0;
    return (d + 999999) / 1000000;
}

/* Fire timers due by now. A repeating timer is rescheduled before its
 * callback runs (the callback may cancel it); timers added by callbacks for
 * "now" wait for the next round. */
static int run_timers(sl_loop *loop)
{
    int n = 0;
    int64_t now = sl_mono_ns();
    uint64_t seq_limit = loop->timer_seq;
    while (loop->n_heap > 0) {
        int slot = loop->heap[0];
        timer_slot *t = &loop->timers[slot];
        if (t->due_ns > now || t->seq >= seq_limit)
            break;
        uint64_t id = timer_id(loop, slot);
        sl_loop_timer_cb cb = t->cb;
        void *ctx = t->ctx;
        heap_remove(loop, 0);
        if (t->interval_ns > 0) {
            t->due_ns += t->interval_ns;
            if (t->due_ns <= now)
                t->due_ns = now + t->interval_ns;
            t->seq = loop->timer_seq++;
            heap_push(loop, slot);
        } else {
            free_slot(loop, slot);
        }
        cb(loop, id, ctx);
        n++;
    }
    return n;
}

/* ---- wakeup ---------------------------------------------------------- */

void sl_loop_set_wakeup_cb(sl_loop *loop, sl_loop_wakeup_cb cb, void *ctx)
{
    loop->wake_cb = cb;
    loop->wake_ctx = ctx;
}

void sl_loop_wakeup(sl_loop *loop)
{
    uint64_t one = 1;
    ssize_t n = write(loop->wakefd, &one, sizeof(one));
    SL_UNUSED(n); /* EAGAIN: the counter is already non-zero */
}

int sl_loop_wakeup_fd(const sl_loop *loop)
{
    return loop->wakefd;
}

bool sl_loop_take_wakeup(sl_loop *loop)
{
    bool w = loop->woken;
    loop->woken = false;
    return w;
}

/* ---- run ------------------------------------------------------------- */

int sl_loop_run_once(sl_loop *loop, int timeout_ms, int *n_dispatched,
                     sl_err *err)
{
    int64_t next = sl_loop_next_timer_ms(loop);
    int wait = timeout_ms;
    if (next >= 0 && (wait < 0 || next < wait))
        wait = next > 0x7fffffff ? 0x7fffffff : (int)next;
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(loop->epfd, evs, MAX_EVENTS, wait);
    int done = 0;
    if (n < 0) {
        if (errno != EINTR)
            return loop_err(err, SL_IO, "epoll_wait: %s", strerror(errno));
        n = 0;
    }
    bool woke = false;
    for (int i = 0; i < n; i++) {
        uint64_t tag = evs[i].data.u64;
        if (tag == WAKE_TAG) {
            uint64_t v;
            while (read(loop->wakefd, &v, sizeof(v)) > 0)
                ;
            woke = true;
            continue;
        }
        int fd = (int)(uint32_t)tag;
        uint32_t gen = (uint32_t)(tag >> 32);
        if (!sl_loop_has_fd(loop, fd) || loop->fds[fd].gen != gen)
            continue; /* removed by an earlier callback */
        unsigned ev = 0;
        if (evs[i].events & EPOLLIN)
            ev |= SL_LOOP_READ;
        if (evs[i].events & EPOLLOUT)
            ev |= SL_LOOP_WRITE;
        if (evs[i].events & (EPOLLERR | EPOLLHUP))
            ev |= SL_LOOP_ERROR;
        fd_entry *e = &loop->fds[fd];
        e->cb(loop, fd, ev, e->ctx);
        done++;
    }
    done += run_timers(loop);
    if (woke) {
        loop->woken = true;
        done++;
        if (loop->wake_cb)
            loop->wake_cb(loop, loop->wake_ctx);
    }
    if (n_dispatched)
        *n_dispatched = done;
    return SL_OK;
}
