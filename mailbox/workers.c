/*
 * Shard worker threads with FIFO queues; see workers.h.  Each worker owns
 * its queue under its own mutex: submitters (the loop thread) only append,
 * the worker only removes.  Shutdown drains the queues first, so a task that
 * was accepted is always run (a queued LMTP delivery is never dropped).
 */
#include "mailbox/workers.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct workers_task {
	struct workers_task *next;
	workers_task_fn *fn;
	workers_batch_fn *batch_fn;
	void *arg;
};

struct workers_shard {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct workers_task *head; /* owned by the shard */
	struct workers_task *tail;
	bool stopping;
	bool started;
};

struct workers {
	unsigned count;
	struct workers_shard *shards;
};

/* FNV-1a: stable across runs and platforms, good enough for spreading. */
static uint32_t
workers_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != 0; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

static void
workers_run_batch(struct workers_task *first)
{
	void *args[WORKERS_MAX_BATCH];
	size_t n = 0;
	workers_batch_fn *fn = first->batch_fn;

	for (struct workers_task *t = first; t != NULL; t = t->next)
		args[n++] = t->arg;
	fn(args, n);
}

static void *
workers_main(void *arg)
{
	struct workers_shard *s = arg;

	for (;;) {
		struct workers_task *first, *last, *t, *next;
		size_t n = 1;

		pthread_mutex_lock(&s->lock);
		while (s->head == NULL && !s->stopping)
			pthread_cond_wait(&s->cond, &s->lock);
		if (s->head == NULL) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		/* Take the head task, and with a batch function every
		 * directly following task of the same function. */
		first = last = s->head;
		if (first->batch_fn != NULL) {
			while (last->next != NULL &&
			       last->next->batch_fn == first->batch_fn &&
			       n < WORKERS_MAX_BATCH) {
				last = last->next;
				n++;
			}
		}
		s->head = last->next;
		if (s->head == NULL)
			s->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&s->lock);

		if (first->batch_fn != NULL)
			workers_run_batch(first);
		else
			first->fn(first->arg);
		for (t = first; t != NULL; t = next) {
			next = t->next;
			free(t);
		}
	}
	return NULL;
}

int
workers_new(unsigned nthreads, struct workers **workers_r)
{
	struct workers *w;

	if (nthreads == 0 || nthreads > WORKERS_MAX_THREADS)
		return -1;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -1;
	w->shards = calloc(nthreads, sizeof(*w->shards));
	if (w->shards == NULL) {
		free(w);
		return -1;
	}
	w->count = nthreads;
	for (unsigned i = 0; i < nthreads; i++) {
		struct workers_shard *s = &w->shards[i];

		pthread_mutex_init(&s->lock, NULL);
		pthread_cond_init(&s->cond, NULL);
		if (pthread_create(&s->thread, NULL, workers_main, s) != 0) {
			workers_free(&w);
			return -1;
		}
		s->started = true;
	}
	*workers_r = w;
	return 0;
}

void
workers_free(struct workers **workers)
{
	struct workers *w = *workers;

	if (w == NULL)
		return;
	for (unsigned i = 0; i < w->count; i++) {
		struct workers_shard *s = &w->shards[i];

		pthread_mutex_lock(&s->lock);
		s->stopping = true;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->lock);
	}
	for (unsigned i = 0; i < w->count; i++) {
		struct workers_shard *s = &w->shards[i];

		if (s->started)
			pthread_join(s->thread, NULL);
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->cond);
	}
	free(w->shards);
	free(w);
	*workers = NULL;
}

unsigned
workers_count(const struct workers *w)
{
	return w->count;
}

unsigned
workers_shard_of(const struct workers *w, const char *user_id)
{
	return workers_hash(user_id) % w->count;
}

static int
workers_enqueue(struct workers *w, const char *user_id, workers_task_fn *fn,
		workers_batch_fn *batch_fn, void *arg)
{
	struct workers_shard *s = &w->shards[workers_shard_of(w, user_id)];
	struct workers_task *t = calloc(1, sizeof(*t));
	int ret = -1;

	if (t == NULL)
		return -1;
	t->fn = fn;
	t->batch_fn = batch_fn;
	t->arg = arg;
	pthread_mutex_lock(&s->lock);
	if (!s->stopping) {
		if (s->tail != NULL)
			s->tail->next = t;
		else
			s->head = t;
		s->tail = t;
		pthread_cond_signal(&s->cond);
		ret = 0;
	}
	pthread_mutex_unlock(&s->lock);
	if (ret != 0)
		free(t);
	return ret;
}

int
workers_submit(struct workers *w, const char *user_id, workers_task_fn *fn,
	       void *arg)
{
	return workers_enqueue(w, user_id, fn, NULL, arg);
}

int
workers_submit_batch(struct workers *w, const char *user_id,
		     workers_batch_fn *fn, void *arg)
{
	return workers_enqueue(w, user_id, NULL, fn, arg);
}
