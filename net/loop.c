/*
 * epoll event loop (interface and ownership rules in loop.h).  Watchers
 * freed during a dispatch pass are only marked dead and released at the end
 * of the pass, so an event already fetched for them is skipped rather than
 * delivered to freed memory.  Cross-thread tasks are a mutex-protected FIFO;
 * posting writes the eventfd only when the queue was empty, so a burst of
 * replies from workers costs one wake-up (style rule 19).
 */
#include "net/loop.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

/* Events fetched per epoll_wait; more simply wait for the next pass. */
#define LOOP_MAX_EVENTS 64

struct loop_watch {
	struct loop *loop;
	int fd;
	unsigned events;
	loop_fd_fn *fn;
	void *arg;
	bool dead;
	struct loop_watch *next_dead;
};

struct loop_timer {
	struct loop *loop;
	uint64_t due_ms;
	loop_task_fn *fn;
	void *arg;
	struct loop_timer *next;
};

struct loop_task {
	loop_task_fn *fn;
	void *arg;
	struct loop_task *next;
};

struct loop {
	int epfd;
	int wakefd; /* eventfd for loop_post and loop_stop */
	int sigfd;  /* -1 unless loop_handle_signals() */
	struct loop_watch *wake_watch;
	struct loop_watch *sig_watch;
	struct loop_watch *dead;   /* freed at the end of a pass */
	struct loop_timer *timers; /* sorted by due_ms */
	pthread_mutex_t lock;      /* protects tasks_* */
	struct loop_task *tasks_head, *tasks_tail;
	atomic_bool stop;
};

uint64_t
loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t
to_epoll(unsigned events)
{
	uint32_t ev = 0;

	if (events & LOOP_READ)
		ev |= EPOLLIN;
	if (events & LOOP_WRITE)
		ev |= EPOLLOUT;
	return ev;
}

static void
wake_read(void *arg, unsigned events)
{
	struct loop *loop = arg;
	uint64_t v;

	(void)events;
	/* Non-blocking: EAGAIN when another pass already consumed it. */
	if (read(loop->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
}

static void
signal_read(void *arg, unsigned events)
{
	struct loop *loop = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(loop->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			atomic_store(&loop->stop, true);
	}
}

struct loop *
loop_new(const char **error_r)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (loop == NULL) {
		*error_r = "loop: out of memory";
		return NULL;
	}
	loop->sigfd = -1;
	loop->wakefd = -1;
	pthread_mutex_init(&loop->lock, NULL);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		*error_r = "loop: epoll_create1 failed";
		goto fail;
	}
	loop->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->wakefd < 0) {
		*error_r = "loop: eventfd failed";
		goto fail;
	}
	loop->wake_watch =
	    loop_watch_add(loop, loop->wakefd, LOOP_READ, wake_read, loop);
	if (loop->wake_watch == NULL) {
		*error_r = "loop: cannot watch the eventfd";
		goto fail;
	}
	return loop;
fail:
	loop_free(&loop);
	return NULL;
}

static void
reap_dead(struct loop *loop)
{
	while (loop->dead != NULL) {
		struct loop_watch *w = loop->dead;

		loop->dead = w->next_dead;
		free(w);
	}
}

void
loop_free(struct loop **loopp)
{
	struct loop *loop = *loopp;

	if (loop == NULL)
		return;
	*loopp = NULL;
	loop_watch_free(&loop->wake_watch);
	loop_watch_free(&loop->sig_watch);
	reap_dead(loop);
	while (loop->timers != NULL) {
		struct loop_timer *t = loop->timers;

		loop->timers = t->next;
		free(t);
	}
	while (loop->tasks_head != NULL) {
		struct loop_task *t = loop->tasks_head;

		loop->tasks_head = t->next;
		free(t);
	}
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	if (loop->wakefd >= 0)
		close(loop->wakefd);
	if (loop->epfd >= 0)
		close(loop->epfd);
	pthread_mutex_destroy(&loop->lock);
	free(loop);
}

struct loop_watch *
loop_watch_add(struct loop *loop, int fd, unsigned events, loop_fd_fn *fn,
	       void *arg)
{
	struct loop_watch *w = calloc(1, sizeof(*w));
	struct epoll_event ev;

	if (w == NULL)
		return NULL;
	w->loop = loop;
	w->fd = fd;
	w->events = events;
	w->fn = fn;
	w->arg = arg;
	memset(&ev, 0, sizeof(ev));
	ev.events = to_epoll(events);
	ev.data.ptr = w;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(w);
		return NULL;
	}
	return w;
}

int
loop_watch_set(struct loop_watch *w, unsigned events)
{
	struct epoll_event ev;

	if (w->events == events)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = to_epoll(events);
	ev.data.ptr = w;
	if (epoll_ctl(w->loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -1;
	w->events = events;
	return 0;
}

void
loop_watch_free(struct loop_watch **wp)
{
	struct loop_watch *w = *wp;

	if (w == NULL)
		return;
	*wp = NULL;
	/* The fd may already be closed by its owner: errors are fine. */
	(void)epoll_ctl(w->loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->dead = true;
	w->next_dead = w->loop->dead;
	w->loop->dead = w;
}

struct loop_timer *
loop_timer_add(struct loop *loop, uint64_t delay_ms, loop_task_fn *fn,
	       void *arg)
{
	struct loop_timer *t = calloc(1, sizeof(*t));
	struct loop_timer **pp;

	if (t == NULL)
		return NULL;
	t->loop = loop;
	t->due_ms = loop_now_ms() + delay_ms;
	t->fn = fn;
	t->arg = arg;
	/* Insert after timers due at the same time: they fire in order. */
	for (pp = &loop->timers; *pp != NULL && (*pp)->due_ms <= t->due_ms;
	     pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	return t;
}

void
loop_timer_cancel(struct loop_timer **tp)
{
	struct loop_timer *t = *tp;
	struct loop_timer **pp;

	if (t == NULL)
		return;
	*tp = NULL;
	for (pp = &t->loop->timers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			free(t);
			return;
		}
	}
}

static void
wake(struct loop *loop)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already non-zero: awake anyway. */
	(void)!write(loop->wakefd, &one, sizeof(one));
}

int
loop_post(struct loop *loop, loop_task_fn *fn, void *arg)
{
	struct loop_task *t = calloc(1, sizeof(*t));
	bool was_empty;

	if (t == NULL)
		return -1;
	t->fn = fn;
	t->arg = arg;
	pthread_mutex_lock(&loop->lock);
	was_empty = loop->tasks_head == NULL;
	if (loop->tasks_tail != NULL)
		loop->tasks_tail->next = t;
	else
		loop->tasks_head = t;
	loop->tasks_tail = t;
	pthread_mutex_unlock(&loop->lock);
	if (was_empty)
		wake(loop);
	return 0;
}

void
loop_run_posted(struct loop *loop)
{
	struct loop_task *list;

	/* Take the whole queue at once: tasks posted while these run wait
	 * for the next pass, so a busy poster cannot starve the sockets. */
	pthread_mutex_lock(&loop->lock);
	list = loop->tasks_head;
	loop->tasks_head = NULL;
	loop->tasks_tail = NULL;
	pthread_mutex_unlock(&loop->lock);
	while (list != NULL) {
		struct loop_task *t = list;

		list = t->next;
		t->fn(t->arg);
		free(t);
	}
}

int
loop_handle_signals(struct loop *loop, const char **error_r)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		*error_r = "loop: cannot block SIGTERM/SIGINT";
		return -1;
	}
	loop->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop->sigfd < 0) {
		*error_r = "loop: signalfd failed";
		return -1;
	}
	loop->sig_watch =
	    loop_watch_add(loop, loop->sigfd, LOOP_READ, signal_read, loop);
	if (loop->sig_watch == NULL) {
		*error_r = "loop: cannot watch the signalfd";
		return -1;
	}
	return 0;
}

static void
run_timers(struct loop *loop)
{
	uint64_t now = loop_now_ms();

	/* Only timers due now: a timer re-armed with delay 0 by its own
	 * callback is due now too, so bound the pass by count. */
	size_t budget = 1024;

	while (loop->timers != NULL && loop->timers->due_ms <= now &&
	       budget-- > 0) {
		struct loop_timer *t = loop->timers;

		loop->timers = t->next;
		t->fn(t->arg);
		free(t);
	}
}

static int
next_timeout(struct loop *loop, int timeout_ms)
{
	uint64_t now, due;
	bool tasks;

	pthread_mutex_lock(&loop->lock);
	tasks = loop->tasks_head != NULL;
	pthread_mutex_unlock(&loop->lock);
	if (tasks || atomic_load(&loop->stop))
		return 0;
	if (loop->timers == NULL)
		return timeout_ms;
	now = loop_now_ms();
	due = loop->timers->due_ms;
	if (due <= now)
		return 0;
	if (timeout_ms >= 0 && due - now > (uint64_t)timeout_ms)
		return timeout_ms;
	return due - now > INT32_MAX ? INT32_MAX : (int)(due - now);
}

int
loop_run_once(struct loop *loop, int timeout_ms)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	int n, i;

	n = epoll_wait(loop->epfd, evs, LOOP_MAX_EVENTS,
		       next_timeout(loop, timeout_ms));
	if (n < 0) {
		if (errno != EINTR)
			return -1;
		n = 0;
	}
	for (i = 0; i < n; i++) {
		struct loop_watch *w = evs[i].data.ptr;
		unsigned events = 0;

		if (w->dead)
			continue;
		if (evs[i].events & (EPOLLIN | EPOLLRDHUP))
			events |= LOOP_READ;
		if (evs[i].events & EPOLLOUT)
			events |= LOOP_WRITE;
		if (evs[i].events & (EPOLLERR | EPOLLHUP))
			events |= LOOP_ERROR | (w->events & LOOP_READ);
		w->fn(w->arg, events);
	}
	run_timers(loop);
	loop_run_posted(loop);
	reap_dead(loop);
	return 0;
}

int
loop_run(struct loop *loop)
{
	while (!atomic_load(&loop->stop)) {
		if (loop_run_once(loop, -1) < 0)
			return -1;
	}
	return 0;
}

void
loop_stop(struct loop *loop)
{
	atomic_store(&loop->stop, true);
	wake(loop);
}

bool
loop_stopped(const struct loop *loop)
{
	return atomic_load(&loop->stop);
}
