/*
 * Per-thread SQLite handles of easd-mailbox.  A store handle is confined to
 * the thread that opened it (mailbox/store.h), and a user's work always
 * runs on the same shard worker, so each thread keeps its own directory
 * handle and a small LRU cache of the user stores it serves.  The bound
 * (MBOX_SHARD_STORES per thread) trades file descriptors and page cache
 * for re-open cost: opening a store is a few system calls plus SQLite's
 * schema read, cheap next to an fsync.  Worker threads close their handles
 * at exit through a pthread key destructor; the loop thread calls
 * mbox_shard_release itself.
 */
#include "mailbox/rpc_server.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "mailbox/directory.h"
#include "proto/log.h"

struct shard_slot {
	int64_t user;
	struct store *st;
	uint64_t used; /* LRU clock */
};

struct shard_state {
	struct store_dir *dir;
	struct shard_slot slots[MBOX_SHARD_STORES];
	uint64_t clock;
};

static pthread_key_t shard_key;
static pthread_once_t shard_once = PTHREAD_ONCE_INIT;

static void
shard_state_free(void *p)
{
	struct shard_state *s = p;

	if (s == NULL)
		return;
	for (size_t i = 0; i < MBOX_SHARD_STORES; i++)
		store_close(&s->slots[i].st);
	store_dir_close(&s->dir);
	free(s);
}

static void
shard_key_init(void)
{
	(void)pthread_key_create(&shard_key, shard_state_free);
}

static struct shard_state *
shard_state(void)
{
	struct shard_state *s;

	(void)pthread_once(&shard_once, shard_key_init);
	s = pthread_getspecific(shard_key);
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return NULL;
		if (pthread_setspecific(shard_key, s) != 0) {
			free(s);
			return NULL;
		}
	}
	return s;
}

struct store_dir *
mbox_shard_dir(const struct mbox_ctx *ctx, enum store_status *status_r)
{
	struct shard_state *s = shard_state();
	struct store_error err;

	if (s == NULL) {
		*status_r = STORE_IO;
		return NULL;
	}
	if (s->dir == NULL &&
	    store_dir_open(ctx->conf->data_dir, &s->dir, &err) < 0) {
		log_error("directory: %s", err.msg);
		*status_r = err.status;
		return NULL;
	}
	*status_r = STORE_OK;
	return s->dir;
}

int
mbox_shard_store(const struct mbox_ctx *ctx, int64_t user, struct store **st_r,
		 enum store_status *status_r)
{
	struct shard_state *s = shard_state();
	struct shard_slot *victim;
	struct store_error err;
	struct store_dir *dir;
	struct dir_user u = {0};

	*st_r = NULL;
	if (s == NULL) {
		*status_r = STORE_IO;
		return -1;
	}
	victim = &s->slots[0];
	for (size_t i = 0; i < MBOX_SHARD_STORES; i++) {
		struct shard_slot *slot = &s->slots[i];

		if (slot->st != NULL && slot->user == user) {
			slot->used = ++s->clock;
			*st_r = slot->st;
			*status_r = STORE_OK;
			return 0;
		}
		if (slot->st == NULL ||
		    (victim->st != NULL && slot->used < victim->used))
			victim = slot;
	}
	store_close(&victim->st);
	/* Opening creates a store: only for users the directory knows, so
	 * a stale or forged id makes no file (and is simply not found). */
	dir = mbox_shard_dir(ctx, status_r);
	if (dir == NULL)
		return -1;
	if (store_dir_user_get(dir, user, &u) < 0) {
		*status_r = store_dir_last_error(dir)->status;
		return -1;
	}
	dir_user_clear(&u);
	if (store_open(ctx->conf->data_dir, user, &victim->st, &err) < 0) {
		log_error("user %" PRId64 ": open store: %s", user, err.msg);
		*status_r = err.status;
		return -1;
	}
	victim->user = user;
	victim->used = ++s->clock;
	*st_r = victim->st;
	*status_r = STORE_OK;
	return 0;
}

void
mbox_shard_forget(int64_t user)
{
	struct shard_state *s = shard_state();

	if (s == NULL)
		return;
	for (size_t i = 0; i < MBOX_SHARD_STORES; i++)
		if (s->slots[i].st != NULL && s->slots[i].user == user)
			store_close(&s->slots[i].st);
}

void
mbox_shard_release(void)
{
	struct shard_state *s;

	(void)pthread_once(&shard_once, shard_key_init);
	s = pthread_getspecific(shard_key);
	if (s != NULL) {
		(void)pthread_setspecific(shard_key, NULL);
		shard_state_free(s);
	}
}

void
mbox_user_key(int64_t user, char *key, size_t size)
{
	(void)snprintf(key, size, "%" PRId64, user);
}

int
mbox_submit(const struct mbox_ctx *ctx, int64_t user, workers_task_fn *fn,
	    void *arg)
{
	char key[24];

	mbox_user_key(user, key, sizeof(key));
	return workers_submit(ctx->workers, key, fn, arg);
}
