/* Unit tests for net/loop.c: timers fire in order and can be cancelled,
 * tasks posted from several threads all run on the loop thread, watchers
 * can be freed from their own callback, and SIGTERM stops the loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/loop.h"

static struct loop *
new_loop(void)
{
	const char *error = NULL;
	struct loop *loop = loop_new(&error);

	assert_non_null(loop);
	return loop;
}

/* Timers record the order they fired in. */
struct tick {
	struct loop *loop;
	int order[8];
	int n;
	int stop_at;
};

struct tick_arg {
	struct tick *t;
	int value;
};

static void
tick(void *arg)
{
	struct tick_arg *ta = arg;

	ta->t->order[ta->t->n++] = ta->value;
	if (ta->t->n == ta->t->stop_at)
		loop_stop(ta->t->loop);
}

static void
test_timers(void **state)
{
	struct tick t;
	struct tick_arg a = {&t, 1}, b = {&t, 2}, c = {&t, 3}, x = {&t, 9};
	struct loop_timer *cancel;
	uint64_t start;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.loop = new_loop();
	t.stop_at = 3;
	start = loop_now_ms();
	assert_non_null(loop_timer_add(t.loop, 30, tick, &c));
	assert_non_null(loop_timer_add(t.loop, 10, tick, &a));
	cancel = loop_timer_add(t.loop, 5, tick, &x);
	assert_non_null(loop_timer_add(t.loop, 20, tick, &b));
	loop_timer_cancel(&cancel);
	assert_null(cancel);
	loop_timer_cancel(&cancel); /* NULL is fine */
	assert_int_equal(loop_run(t.loop), 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.order[0], 1);
	assert_int_equal(t.order[1], 2);
	assert_int_equal(t.order[2], 3);
	/* Not early: the last timer was due 30 ms after start. */
	assert_true(loop_now_ms() - start >= 30);
	loop_free(&t.loop);
}

#define POSTERS 4
#define POSTS_PER_THREAD 2000

struct post_state {
	struct loop *loop;
	pthread_t loop_thread;
	int count; /* touched only on the loop thread */
	bool wrong_thread;
};

static void
count_task(void *arg)
{
	struct post_state *ps = arg;

	if (!pthread_equal(pthread_self(), ps->loop_thread))
		ps->wrong_thread = true;
	if (++ps->count == POSTERS * POSTS_PER_THREAD)
		loop_stop(ps->loop);
}

static void *
poster(void *arg)
{
	struct post_state *ps = arg;
	int i;

	for (i = 0; i < POSTS_PER_THREAD; i++)
		assert_int_equal(loop_post(ps->loop, count_task, ps), 0);
	return NULL;
}

static void
test_post_from_threads(void **state)
{
	struct post_state ps;
	pthread_t th[POSTERS];
	int i;

	(void)state;
	memset(&ps, 0, sizeof(ps));
	ps.loop = new_loop();
	ps.loop_thread = pthread_self();
	for (i = 0; i < POSTERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, poster, &ps), 0);
	assert_int_equal(loop_run(ps.loop), 0);
	for (i = 0; i < POSTERS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(ps.count, POSTERS * POSTS_PER_THREAD);
	assert_false(ps.wrong_thread);
	loop_free(&ps.loop);
}

struct pipe_state {
	struct loop *loop;
	struct loop_watch *w1, *w2;
	int fds1[2], fds2[2];
	int calls1, calls2;
};

/* Frees both watchers from the first one's callback: the second must not
 * be called afterwards even if its event was already fetched. */
static void
on_pipe1(void *arg, unsigned events)
{
	struct pipe_state *ps = arg;

	assert_true(events & LOOP_READ);
	ps->calls1++;
	loop_watch_free(&ps->w1);
	loop_watch_free(&ps->w2);
	loop_stop(ps->loop);
}

static void
on_pipe2(void *arg, unsigned events)
{
	struct pipe_state *ps = arg;

	(void)events;
	ps->calls2++;
	loop_watch_free(&ps->w1);
	loop_watch_free(&ps->w2);
	loop_stop(ps->loop);
}

static void
test_watch_free_in_callback(void **state)
{
	struct pipe_state ps;

	(void)state;
	memset(&ps, 0, sizeof(ps));
	ps.loop = new_loop();
	assert_int_equal(pipe(ps.fds1), 0);
	assert_int_equal(pipe(ps.fds2), 0);
	ps.w1 = loop_watch_add(ps.loop, ps.fds1[0], LOOP_READ, on_pipe1, &ps);
	ps.w2 = loop_watch_add(ps.loop, ps.fds2[0], LOOP_READ, on_pipe2, &ps);
	assert_non_null(ps.w1);
	assert_non_null(ps.w2);
	assert_int_equal(write(ps.fds1[1], "x", 1), 1);
	assert_int_equal(write(ps.fds2[1], "y", 1), 1);
	assert_int_equal(loop_run(ps.loop), 0);
	/* Exactly one of them ran. */
	assert_int_equal(ps.calls1 + ps.calls2, 1);
	assert_null(ps.w1);
	assert_null(ps.w2);
	close(ps.fds1[0]);
	close(ps.fds1[1]);
	close(ps.fds2[0]);
	close(ps.fds2[1]);
	loop_free(&ps.loop);
}

static void *
stopper(void *arg)
{
	usleep(20 * 1000);
	loop_stop(arg);
	return NULL;
}

static void
test_stop_from_thread(void **state)
{
	struct loop *loop = new_loop();
	pthread_t th;

	(void)state;
	assert_false(loop_stopped(loop));
	assert_int_equal(pthread_create(&th, NULL, stopper, loop), 0);
	assert_int_equal(loop_run(loop), 0);
	pthread_join(th, NULL);
	assert_true(loop_stopped(loop));
	loop_free(&loop);
}

static void
send_term(void *arg)
{
	(void)arg;
	(void)raise(SIGTERM);
}

static void
test_sigterm_stops(void **state)
{
	struct loop *loop = new_loop();
	const char *error = NULL;
	sigset_t set, old;

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, NULL, &old);
	assert_int_equal(loop_handle_signals(loop, &error), 0);
	assert_non_null(loop_timer_add(loop, 1, send_term, NULL));
	/* Without the signalfd, SIGTERM would kill the test. */
	assert_int_equal(loop_run(loop), 0);
	assert_true(loop_stopped(loop));
	loop_free(&loop);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
test_posted_tasks_dropped_or_drained(void **state)
{
	struct post_state ps;

	(void)state;
	memset(&ps, 0, sizeof(ps));
	ps.loop = new_loop();
	ps.loop_thread = pthread_self();
	assert_int_equal(loop_post(ps.loop, count_task, &ps), 0);
	assert_int_equal(loop_post(ps.loop, count_task, &ps), 0);
	loop_run_posted(ps.loop);
	assert_int_equal(ps.count, 2);
	/* Queued but never run: loop_free releases without running. */
	assert_int_equal(loop_post(ps.loop, count_task, &ps), 0);
	loop_free(&ps.loop);
	assert_int_equal(ps.count, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timers),
	    cmocka_unit_test(test_post_from_threads),
	    cmocka_unit_test(test_watch_free_in_callback),
	    cmocka_unit_test(test_stop_from_thread),
	    cmocka_unit_test(test_sigterm_stops),
	    cmocka_unit_test(test_posted_tasks_dropped_or_drained),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
