/*
 * Shard workers: the threads that run SQLite work for easd-mailbox.
 *
 * Users are partitioned into shards by a hash of the user id; each shard has
 * one worker thread and a FIFO queue, so a user's work always runs on the
 * same thread, in submission order, and a slow fsync for one user stalls
 * only that shard (style.md rule 18).  Socket I/O stays on the loop thread:
 * a task posts its result back itself.
 *
 * Group commit: tasks submitted with a batch function are handed over in
 * runs — every queued task of the same batch function (up to
 * WORKERS_MAX_BATCH) is taken at once — so concurrent LMTP deliveries to one
 * user can share one transaction and one fsync.
 */
#ifndef EASD_MAILBOX_WORKERS_H
#define EASD_MAILBOX_WORKERS_H

#include <stddef.h>
#include <stdint.h>

/* Largest run handed to one batch call. */
#define WORKERS_MAX_BATCH 64
/* Bound on the number of shard threads. */
#define WORKERS_MAX_THREADS 256

struct workers;

/* A single task: runs on the shard's thread. */
typedef void workers_task_fn(void *arg);
/* A batch: args[0..n-1] are consecutive queued tasks of this function. */
typedef void workers_batch_fn(void **args, size_t n);

int workers_new(unsigned nthreads, struct workers **workers_r);
/* Finish every queued task, then join the threads and free. */
void workers_free(struct workers **workers);

unsigned workers_count(const struct workers *w);
/* The shard of a user id (stable for a given thread count). */
unsigned workers_shard_of(const struct workers *w, const char *user_id);

/* Queue fn(arg) on the shard of user_id.  -1 only when out of memory or
 * after workers_free began. */
int workers_submit(struct workers *w, const char *user_id, workers_task_fn *fn,
		   void *arg);
int workers_submit_batch(struct workers *w, const char *user_id,
			 workers_batch_fn *fn, void *arg);

#endif
