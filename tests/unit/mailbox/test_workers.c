/* Unit tests for mailbox/workers.c: per-user order, same thread per user,
 * batches of consecutive batchable tasks, and drain on shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailbox/workers.h"

#define NUSERS 8
#define PER_USER 500

struct rec {
	pthread_mutex_t lock;
	int next[NUSERS]; /* next expected sequence number per user */
	pthread_t owner[NUSERS];
	int seen_owner[NUSERS];
	int errors;
	int done;
	size_t batches;
	size_t batched;
	size_t max_batch;
};

struct task {
	struct rec *rec;
	int user;
	int seq;
};

static void
record(struct task *t)
{
	struct rec *r = t->rec;

	pthread_mutex_lock(&r->lock);
	if (r->next[t->user] != t->seq)
		r->errors++;
	r->next[t->user] = t->seq + 1;
	if (!r->seen_owner[t->user]) {
		r->owner[t->user] = pthread_self();
		r->seen_owner[t->user] = 1;
	} else if (!pthread_equal(r->owner[t->user], pthread_self())) {
		r->errors++;
	}
	r->done++;
	pthread_mutex_unlock(&r->lock);
	free(t);
}

static void
task_fn(void *arg)
{
	record(arg);
}

static void
batch_fn(void **args, size_t n)
{
	struct rec *r = ((struct task *)args[0])->rec;

	pthread_mutex_lock(&r->lock);
	r->batches++;
	r->batched += n;
	if (n > r->max_batch)
		r->max_batch = n;
	pthread_mutex_unlock(&r->lock);
	for (size_t i = 0; i < n; i++)
		record(args[i]);
}

static void
test_order_and_affinity(void **state)
{
	struct workers *w = NULL;
	struct rec r;
	char user[16];

	(void)state;
	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.lock, NULL);
	assert_int_equal(workers_new(3, &w), 0);
	for (int i = 0; i < PER_USER; i++) {
		for (int u = 0; u < NUSERS; u++) {
			struct task *t = malloc(sizeof(*t));

			assert_non_null(t);
			t->rec = &r;
			t->user = u;
			t->seq = i;
			snprintf(user, sizeof(user), "user%d", u);
			if (i % 3 == 0)
				assert_int_equal(
				    workers_submit_batch(w, user, batch_fn, t),
				    0);
			else
				assert_int_equal(
				    workers_submit(w, user, task_fn, t), 0);
		}
	}
	/* Shutdown drains every accepted task. */
	workers_free(&w);
	assert_null(w);
	assert_int_equal(r.done, NUSERS * PER_USER);
	assert_int_equal(r.errors, 0);
	assert_true(r.batched > 0);
	assert_true(r.max_batch <= WORKERS_MAX_BATCH);
	pthread_mutex_destroy(&r.lock);
}

static void
block_fn(void *arg)
{
	/* Holds the shard so following batch tasks queue up behind it. */
	pthread_mutex_t *gate = arg;

	pthread_mutex_lock(gate);
	pthread_mutex_unlock(gate);
}

static void
test_batches_group(void **state)
{
	struct workers *w = NULL;
	struct rec r;
	pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

	(void)state;
	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.lock, NULL);
	assert_int_equal(workers_new(1, &w), 0);
	pthread_mutex_lock(&gate);
	assert_int_equal(workers_submit(w, "u", block_fn, &gate), 0);
	for (int i = 0; i < 100; i++) {
		struct task *t = malloc(sizeof(*t));

		assert_non_null(t);
		t->rec = &r;
		t->user = 0;
		t->seq = i;
		assert_int_equal(workers_submit_batch(w, "u", batch_fn, t), 0);
	}
	pthread_mutex_unlock(&gate);
	workers_free(&w);
	assert_int_equal(r.done, 100);
	assert_int_equal(r.errors, 0);
	/* 100 queued behind the gate: two runs, 64 + 36. */
	assert_int_equal(r.batches, 2);
	assert_int_equal(r.max_batch, WORKERS_MAX_BATCH);
	pthread_mutex_destroy(&r.lock);
}

static void
test_bounds(void **state)
{
	struct workers *w = NULL;

	(void)state;
	assert_int_equal(workers_new(0, &w), -1);
	assert_int_equal(workers_new(WORKERS_MAX_THREADS + 1, &w), -1);
	assert_int_equal(workers_new(4, &w), 0);
	assert_int_equal(workers_count(w), 4);
	assert_int_equal(workers_shard_of(w, "alice"),
			 workers_shard_of(w, "alice"));
	assert_true(workers_shard_of(w, "bob") < 4);
	workers_free(&w);
	workers_free(&w); /* accepts NULL */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_and_affinity),
	    cmocka_unit_test(test_batches_group),
	    cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
