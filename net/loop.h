/*
 * The event loop of the RPC (and of the mailbox daemon): epoll fd watchers,
 * one-shot monotonic timers, a thread-safe task queue woken by an eventfd,
 * and a clean stop on SIGTERM/SIGINT through a signalfd.  One thread runs
 * the loop and owns everything registered on it; other threads talk to it
 * only through loop_post() and loop_stop() (style rule 18).  The mailbox
 * runs socket I/O here and SQLite on worker threads that post their
 * replies back; easctl drives a loop from its only thread with
 * loop_run_once().
 *
 * Timers are a sorted list: O(n) insertion, fine for the few timers of a
 * mailbox (handshake deadlines, reconnects, call deadlines); the CAS keeps
 * its own timer wheel for held requests.
 */
#ifndef EASD_NET_LOOP_H
#define EASD_NET_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#define LOOP_READ 0x1u
#define LOOP_WRITE 0x2u
/* Reported only: error or hang-up on the descriptor. */
#define LOOP_ERROR 0x4u

struct loop;
struct loop_watch;
struct loop_timer;

typedef void loop_fd_fn(void *arg, unsigned events);
typedef void loop_task_fn(void *arg);

struct loop *loop_new(const char **error_r);
/* Closes the loop's own descriptors; watchers and timers still registered
 * are released (their callbacks never run); tasks still queued are dropped
 * without running: drain with loop_run_posted() first. */
void loop_free(struct loop **loop);

/* Watch fd for events (LOOP_READ|LOOP_WRITE).  The loop does not own fd. */
struct loop_watch *loop_watch_add(struct loop *loop, int fd, unsigned events,
				  loop_fd_fn *fn, void *arg);
int loop_watch_set(struct loop_watch *w, unsigned events);
/* Stop watching; safe from inside any callback, including w's own. */
void loop_watch_free(struct loop_watch **w);

/* One-shot timer in delay_ms.  After it fires the handle is gone: the
 * callback's owner must forget it (set its pointer to NULL). */
struct loop_timer *loop_timer_add(struct loop *loop, uint64_t delay_ms,
				  loop_task_fn *fn, void *arg);
/* Cancel a timer that has not fired; sets *t to NULL; accepts NULL. */
void loop_timer_cancel(struct loop_timer **t);

/* Queue fn(arg) to run on the loop thread.  Safe from any thread; tasks
 * run in the order posted.  -1 only when out of memory. */
int loop_post(struct loop *loop, loop_task_fn *fn, void *arg);
/* Run the tasks queued so far (loop thread). */
void loop_run_posted(struct loop *loop);

/* Make SIGTERM and SIGINT stop the loop (blocks them in the calling
 * thread, which must be the first thread: call before starting others). */
int loop_handle_signals(struct loop *loop, const char **error_r);

/* Run until loop_stop(); 0 on a clean stop, -1 if epoll fails. */
int loop_run(struct loop *loop);
/* One iteration: wait at most timeout_ms (-1: no limit) for events, then
 * dispatch them, due timers and posted tasks. */
int loop_run_once(struct loop *loop, int timeout_ms);
/* Ask loop_run() to return; safe from any thread and from signal context
 * is not required (signals come through the signalfd). */
void loop_stop(struct loop *loop);
bool loop_stopped(const struct loop *loop);

/* Monotonic clock in milliseconds. */
uint64_t loop_now_ms(void);

#endif
