/*
 * loop.h: the event loop of a job thread (epoll).
 *
 * One loop per job thread multiplexes everything the job waits on: source
 * fds (librdkafka queue fds, files), libcurl multi sockets and timers of
 * async model operators, sink delivery fds, and a wakeup fd. The loop never
 * blocks on I/O: callbacks must not block either.
 *
 *   - fds: sl_loop_add_fd/mod_fd/del_fd with a callback per fd; events are
 *     SL_LOOP_READ / SL_LOOP_WRITE (level-triggered); the callback gets the
 *     ready events (plus SL_LOOP_ERROR on EPOLLERR/EPOLLHUP). This maps
 *     one-to-one on CURLMOPT_SOCKETFUNCTION (CURL_POLL_IN/OUT/INOUT/REMOVE).
 *   - timers: one-shot (interval_ms 0) or repeating, on the monotonic clock,
 *     kept in a bounded min-heap (SL_LOOP_MAX_TIMERS). Timers due at the
 *     same time fire in the order they were added. CURLMOPT_TIMERFUNCTION
 *     maps onto add/cancel of a one-shot timer.
 *   - wakeup: sl_loop_wakeup() writes an eventfd; it is safe from any thread
 *     and from signal handlers (async-signal-safe). The wakeup callback (if
 *     set) runs on the loop thread; sl_loop_take_wakeup() reports and clears
 *     whether one arrived.
 *
 * Threads: the loop's owner thread calls everything except sl_loop_wakeup
 * and sl_loop_wakeup_fd, which any thread may call. Every `err` argument
 * may be NULL.
 */
#ifndef SL_LOOP_H
#define SL_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

#define SL_LOOP_READ  0x1u
#define SL_LOOP_WRITE 0x2u
#define SL_LOOP_ERROR 0x4u /* error or hang-up; reported, never requested */

#define SL_LOOP_MAX_TIMERS 4096
#define SL_LOOP_MAX_FDS    65536 /* fds must be below this */

typedef struct sl_loop sl_loop;

/* fd became ready: events is a mask of SL_LOOP_*. */
typedef void (*sl_loop_fd_cb)(sl_loop *loop, int fd, unsigned events,
                              void *ctx);
/* A timer fired. For a one-shot timer the id is already invalid. */
typedef void (*sl_loop_timer_cb)(sl_loop *loop, uint64_t timer_id, void *ctx);
/* The wakeup fd was signalled. */
typedef void (*sl_loop_wakeup_cb)(sl_loop *loop, void *ctx);

int sl_loop_new(sl_loop **loop, sl_err *err);
/* Close the epoll and wakeup fds (registered fds are not closed). */
void sl_loop_free(sl_loop *loop);

/* Watch fd (0 <= fd < SL_LOOP_MAX_FDS) for events. Replaces the callback
 * and events when fd is already watched. */
int sl_loop_add_fd(sl_loop *loop, int fd, unsigned events, sl_loop_fd_cb cb,
                   void *ctx, sl_err *err);
/* Change the events of a watched fd (0: keep it registered, report
 * nothing). */
int sl_loop_mod_fd(sl_loop *loop, int fd, unsigned events, sl_err *err);
/* (err may be NULL.) */
/* Stop watching fd (no-op when not watched). Safe inside callbacks: an event
 * already collected for fd is not delivered. Call before closing fd. */
void sl_loop_del_fd(sl_loop *loop, int fd);
bool sl_loop_has_fd(const sl_loop *loop, int fd);

/* Add a timer firing after delay_ms (>= 0) and then every interval_ms
 * (0: once). *timer_id (never 0) identifies it for cancel. SL_LIMIT when
 * SL_LOOP_MAX_TIMERS are active. */
int sl_loop_add_timer(sl_loop *loop, int64_t delay_ms, int64_t interval_ms,
                      sl_loop_timer_cb cb, void *ctx, uint64_t *timer_id,
                      sl_err *err);
/* Cancel a timer; a stale or 0 id is ignored. Safe inside callbacks. */
void sl_loop_cancel_timer(sl_loop *loop, uint64_t timer_id);
/* Milliseconds until the next timer is due (0 if overdue), or -1. */
int64_t sl_loop_next_timer_ms(const sl_loop *loop);

/* The callback run on the loop thread when the wakeup fd fires. */
void sl_loop_set_wakeup_cb(sl_loop *loop, sl_loop_wakeup_cb cb, void *ctx);
/* Signal the loop. Any thread; async-signal-safe. */
void sl_loop_wakeup(sl_loop *loop);
/* The eventfd behind sl_loop_wakeup (to signal it with write(2)). */
int sl_loop_wakeup_fd(const sl_loop *loop);
/* True when a wakeup arrived since the last call (clears it). */
bool sl_loop_take_wakeup(sl_loop *loop);

/* Wait up to timeout_ms (-1: until something happens; 0: poll) for fds,
 * timers or a wakeup, then dispatch: fd callbacks, due timers, the wakeup
 * callback. The wait is shortened to the next timer. *n_dispatched (may be
 * NULL) receives the number of callbacks run and wakeups seen. EINTR is not
 * an error. Returns SL_OK or SL_IO. */
int sl_loop_run_once(sl_loop *loop, int timeout_ms, int *n_dispatched,
                     sl_err *err);

#endif
