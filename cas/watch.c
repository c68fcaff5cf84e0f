/*
 * The watch table of held Ping / Sync-with-Wait requests (see watch.h).
 * Entries are indexed twice, by id (for watch_remove) and by user (for
 * events and for "a newer request of the device replaces the older"), in
 * fixed hash tables of WATCH_BUCKETS chains: with 10,000 held requests a
 * chain holds a few entries.  An entry ends exactly once: whoever unlinks
 * it under the lock (event pass, timer, replacement, device event,
 * shutdown) owns the call of its callback, made after the lock is
 * released.  The timer holds its own reference, so an entry whose timer
 * could not be cancelled stays allocated until the timer has run; a timer
 * of an ended entry touches nothing but the entry.
 */
#include "cas/watch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define WATCH_BUCKETS 4096u

struct watch_entry {
	struct watch *w;
	struct watch_entry *id_next;               /* id chain */
	struct watch_entry *user_prev, *user_next; /* user chain */
	struct watch_entry *ready_next;            /* ready or ended list */
	uint64_t id;
	uint64_t user;
	atomic_int refs;   /* table membership + armed timer */
	atomic_bool ended; /* unlinked; the callback belongs to the ender */
	bool ready;
	enum watch_end why;
	watch_fire_fn *fn;
	void *ctx;
	struct tw_timer timer;
	size_t n_folders;
	size_t n_changed;
	const char **folders; /* into the block after the entry */
	uint8_t *changed;     /* one flag per folder */
	char *device_id;
	size_t bytes;
};

/* A recent Changed event (folder ids longer than this are not kept:
 * such entries simply wait for the next event). */
#define WATCH_RECENT_ID_BYTES 64u
struct recent_event {
	uint64_t user;
	uint64_t modseq;
	char folder[WATCH_RECENT_ID_BYTES + 1];
};

struct watch {
	pthread_mutex_t lock;
	struct recent_event recent[WATCH_RECENT_EVENTS]; /* ring */
	size_t recent_next;
	struct watch_timers timers;
	watch_schedule_fn *schedule;
	void *schedule_ctx;
	uint64_t next_id;
	size_t count;
	size_t bytes;
	struct watch_entry *ready; /* entries marked by events */
	struct watch_entry *by_id[WATCH_BUCKETS];
	struct watch_entry *by_user[WATCH_BUCKETS];
};

static size_t
hash_u64(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdull;
	v ^= v >> 33;
	return (size_t)(v % WATCH_BUCKETS);
}

/* Drop n references at once (one call per path keeps the ownership
 * visible to the static analyzer). */
static void
entry_put(struct watch_entry *e, int n)
{
	if (atomic_fetch_sub(&e->refs, n) == n)
		free(e);
}

/* Unlink from both indexes (lock held) and mark ended. */
static void
unlink_entry(struct watch *w, struct watch_entry *e, enum watch_end why)
{
	struct watch_entry **pp = &w->by_id[hash_u64(e->id)];

	while (*pp != e)
		pp = &(*pp)->id_next;
	*pp = e->id_next;
	if (e->user_prev != NULL)
		e->user_prev->user_next = e->user_next;
	else
		w->by_user[hash_u64(e->user)] = e->user_next;
	if (e->user_next != NULL)
		e->user_next->user_prev = e->user_prev;
	e->why = why;
	atomic_store(&e->ended, true);
	w->count--;
	w->bytes -= e->bytes;
}

/* Cancel the timer, run the callback, drop the table's reference.  No
 * lock held. */
static void
finish(struct watch *w, struct watch_entry *e)
{
	const char **changed = NULL;
	size_t n = 0;
	int drop = 1; /* the table's reference */

	if (w->timers.cancel != NULL &&
	    w->timers.cancel(w->timers.ctx, &e->timer))
		drop++; /* and the timer's */
	if (e->why == WATCH_CHANGED) {
		/* Changed folders first, in the entry's own array. */
		for (size_t i = 0; i < e->n_folders; i++) {
			if (e->changed[i]) {
				const char *t = e->folders[n];

				e->folders[n] = e->folders[i];
				e->folders[i] = t;
				n++;
			}
		}
		changed = e->folders;
	}
	e->fn(e->ctx, e->why, changed, n);
	entry_put(e, drop);
}

static void
finish_list(struct watch *w, struct watch_entry *list)
{
	while (list != NULL) {
		struct watch_entry *next = list->ready_next;

		finish(w, list);
		list = next;
	}
}

static void
on_timer(struct tw_timer *timer, void *arg)
{
	struct watch_entry *e = arg;
	struct watch *w = e->w;
	bool mine = false;
	int drop = 1; /* the timer's reference */

	(void)timer;
	if (!atomic_load(&e->ended)) {
		pthread_mutex_lock(&w->lock);
		if (!atomic_load(&e->ended)) {
			/* A ready entry stays on the ready list: it is
			 * answered with its changes by the next pass. */
			if (!e->ready) {
				unlink_entry(w, e, WATCH_EXPIRED);
				mine = true;
			}
		}
		pthread_mutex_unlock(&w->lock);
	}
	if (mine) {
		e->fn(e->ctx, WATCH_EXPIRED, NULL, 0);
		drop++; /* and the table's */
	}
	entry_put(e, drop);
}

struct watch *
watch_new(const struct watch_timers *timers, watch_schedule_fn *schedule,
	  void *schedule_ctx)
{
	struct watch *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	pthread_mutex_init(&w->lock, NULL);
	if (timers != NULL)
		w->timers = *timers;
	w->schedule = schedule;
	w->schedule_ctx = schedule_ctx;
	w->next_id = 1;
	return w;
}

void
watch_free(struct watch **wp)
{
	struct watch *w = *wp;
	struct watch_entry *list = NULL;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	for (size_t b = 0; b < WATCH_BUCKETS; b++) {
		while (w->by_id[b] != NULL) {
			struct watch_entry *e = w->by_id[b];

			unlink_entry(w, e, WATCH_SHUTDOWN);
			e->ready_next = list;
			list = e;
		}
	}
	w->ready = NULL;
	pthread_mutex_unlock(&w->lock);
	finish_list(w, list);
	pthread_mutex_destroy(&w->lock);
	free(w);
	*wp = NULL;
}

static struct watch_entry *
entry_new(const struct watch_params *p)
{
	size_t dev_len = strlen(p->device_id) + 1;
	size_t size = sizeof(struct watch_entry) + dev_len +
		      p->n_folders * (sizeof(char *) + 1);
	struct watch_entry *e;
	char *s;

	for (size_t i = 0; i < p->n_folders; i++)
		size += strlen(p->folders[i]) + 1;
	e = calloc(1, size);
	if (e == NULL)
		return NULL;
	e->bytes = size;
	e->folders = (const char **)(void *)(e + 1);
	e->changed = (uint8_t *)(e->folders + p->n_folders);
	s = (char *)(e->changed + p->n_folders);
	e->device_id = s;
	memcpy(s, p->device_id, dev_len);
	s += dev_len;
	for (size_t i = 0; i < p->n_folders; i++) {
		size_t len = strlen(p->folders[i]) + 1;

		memcpy(s, p->folders[i], len);
		e->folders[i] = s;
		s += len;
	}
	e->n_folders = p->n_folders;
	e->user = p->user;
	e->fn = p->fn;
	e->ctx = p->ctx;
	atomic_init(&e->refs, 2); /* table + timer */
	atomic_init(&e->ended, false);
	return e;
}

/* Drop e from the ready list (lock held). */
static void
unready(struct watch *w, struct watch_entry *e)
{
	struct watch_entry **pp = &w->ready;

	if (!e->ready)
		return;
	while (*pp != NULL && *pp != e)
		pp = &(*pp)->ready_next;
	if (*pp == e)
		*pp = e->ready_next;
	e->ready = false;
	e->ready_next = NULL;
}

static bool mark(struct watch *w, struct watch_entry *e, size_t i);
static void maybe_schedule(struct watch *w, bool was_empty, bool now_ready);

/* Events seen before e existed but after the mailbox's check (lock
 * held); true when e became ready.  O(WATCH_RECENT_EVENTS). */
uint64_t *
watch_since_copy(const uint64_t *modseqs, size_t n, size_t n_folders)
{
	uint64_t *copy;

	if (modseqs == NULL || n == 0 || n != n_folders)
		return NULL;
	copy = malloc(n * sizeof(*copy));
	if (copy != NULL)
		memcpy(copy, modseqs, n * sizeof(*copy));
	return copy;
}

static bool
replay_recent(struct watch *w, struct watch_entry *e, const uint64_t *since)
{
	bool any = false;

	if (since == NULL)
		return false;
	for (size_t k = 0; k < WATCH_RECENT_EVENTS; k++) {
		const struct recent_event *r = &w->recent[k];

		if (r->user != e->user || r->modseq == 0)
			continue;
		/* Modseqs count per folder: compare with that folder's. */
		for (size_t i = 0; i < e->n_folders; i++)
			if (r->modseq > since[i] &&
			    strcmp(e->folders[i], r->folder) == 0)
				any |= mark(w, e, i);
	}
	return any;
}

int
watch_add(struct watch *w, const struct watch_params *p, uint64_t *id_r)
{
	struct watch_entry *e = entry_new(p), *old, *list = NULL;
	bool was_empty, ready;
	size_t b;

	if (e == NULL)
		return -1;
	e->w = w;
	pthread_mutex_lock(&w->lock);
	/* A newer held request of the device ends the older one. */
	old = w->by_user[hash_u64(p->user)];
	while (old != NULL) {
		struct watch_entry *next = old->user_next;

		if (old->user == p->user &&
		    strcmp(old->device_id, p->device_id) == 0) {
			unready(w, old);
			unlink_entry(w, old, WATCH_REPLACED);
			old->ready_next = list;
			list = old;
		}
		old = next;
	}
	e->id = w->next_id++;
	b = hash_u64(e->id);
	e->id_next = w->by_id[b];
	w->by_id[b] = e;
	b = hash_u64(e->user);
	e->user_next = w->by_user[b];
	if (e->user_next != NULL)
		e->user_next->user_prev = e;
	w->by_user[b] = e;
	w->count++;
	w->bytes += e->bytes;
	*id_r = e->id;
	was_empty = w->ready == NULL;
	ready = replay_recent(w, e, p->since_modseqs);
	pthread_mutex_unlock(&w->lock);
	finish_list(w, list);
	maybe_schedule(w, was_empty, ready);
	if (w->timers.add != NULL)
		w->timers.add(w->timers.ctx, &e->timer, p->heartbeat_s,
			      on_timer, e);
	else
		entry_put(e, 1); /* no timers: no timer reference */
	return 0;
}

static struct watch_entry *
find_id(struct watch *w, uint64_t id)
{
	struct watch_entry *e = w->by_id[hash_u64(id)];

	while (e != NULL && e->id != id)
		e = e->id_next;
	return e;
}

bool
watch_remove(struct watch *w, uint64_t id, void **ctx_r)
{
	struct watch_entry *e;
	int drop;

	pthread_mutex_lock(&w->lock);
	e = find_id(w, id);
	if (e != NULL) {
		unready(w, e);
		unlink_entry(w, e, WATCH_SHUTDOWN);
	}
	pthread_mutex_unlock(&w->lock);
	if (e == NULL)
		return false;
	if (ctx_r != NULL)
		*ctx_r = e->ctx;
	drop = 1;
	if (w->timers.cancel != NULL &&
	    w->timers.cancel(w->timers.ctx, &e->timer))
		drop++;
	entry_put(e, drop);
	return true;
}

/* Mark folder i of e changed (lock held); true when e became ready. */
static bool
mark(struct watch *w, struct watch_entry *e, size_t i)
{
	if (!e->changed[i]) {
		e->changed[i] = 1;
		e->n_changed++;
	}
	if (e->ready)
		return false;
	e->ready = true;
	e->ready_next = w->ready;
	w->ready = e;
	return true;
}

static void
maybe_schedule(struct watch *w, bool was_empty, bool now_ready)
{
	if (was_empty && now_ready && w->schedule != NULL)
		w->schedule(w->schedule_ctx);
}

void
watch_changed(struct watch *w, uint64_t user, const char *folder_id,
	      uint64_t modseq)
{
	struct watch_entry *e;
	bool was_empty, any = false;
	size_t len = strlen(folder_id);

	pthread_mutex_lock(&w->lock);
	if (modseq > 0 && len <= WATCH_RECENT_ID_BYTES) {
		struct recent_event *r = &w->recent[w->recent_next];

		r->user = user;
		r->modseq = modseq;
		memcpy(r->folder, folder_id, len + 1);
		w->recent_next = (w->recent_next + 1) % WATCH_RECENT_EVENTS;
	}
	was_empty = w->ready == NULL;
	for (e = w->by_user[hash_u64(user)]; e != NULL; e = e->user_next) {
		if (e->user != user)
			continue;
		for (size_t i = 0; i < e->n_folders; i++)
			if (strcmp(e->folders[i], folder_id) == 0)
				any |= mark(w, e, i);
	}
	pthread_mutex_unlock(&w->lock);
	maybe_schedule(w, was_empty, any);
}

void
watch_all_changed(struct watch *w)
{
	bool was_empty, any = false;

	pthread_mutex_lock(&w->lock);
	was_empty = w->ready == NULL;
	for (size_t b = 0; b < WATCH_BUCKETS; b++)
		for (struct watch_entry *e = w->by_id[b]; e != NULL;
		     e = e->id_next)
			for (size_t i = 0; i < e->n_folders; i++)
				any |= mark(w, e, i);
	pthread_mutex_unlock(&w->lock);
	maybe_schedule(w, was_empty, any);
}

size_t
watch_run(struct watch *w)
{
	struct watch_entry *list = NULL, *e;
	size_t n = 0;

	pthread_mutex_lock(&w->lock);
	while ((e = w->ready) != NULL) {
		w->ready = e->ready_next;
		e->ready = false;
		unlink_entry(w, e, WATCH_CHANGED);
		e->ready_next = list;
		list = e;
		n++;
	}
	pthread_mutex_unlock(&w->lock);
	finish_list(w, list);
	return n;
}

size_t
watch_device(struct watch *w, uint64_t user, const char *device_id)
{
	return watch_end_user(w, user, device_id, WATCH_DEVICE);
}

size_t
watch_end_user(struct watch *w, uint64_t user, const char *device_id,
	       enum watch_end why)
{
	struct watch_entry *e, *next, *list = NULL;
	size_t n = 0;

	pthread_mutex_lock(&w->lock);
	for (e = w->by_user[hash_u64(user)]; e != NULL; e = next) {
		next = e->user_next;
		if (e->user != user ||
		    (device_id != NULL && strcmp(e->device_id, device_id) != 0))
			continue;
		unready(w, e);
		unlink_entry(w, e, why);
		e->ready_next = list;
		list = e;
		n++;
	}
	pthread_mutex_unlock(&w->lock);
	finish_list(w, list);
	return n;
}

size_t
watch_hierarchy(struct watch *w, uint64_t user, const char *except_device)
{
	struct watch_entry *e, *next, *list = NULL;
	size_t n = 0;

	pthread_mutex_lock(&w->lock);
	for (e = w->by_user[hash_u64(user)]; e != NULL; e = next) {
		next = e->user_next;
		if (e->user != user ||
		    (except_device != NULL &&
		     strcmp(e->device_id, except_device) == 0))
			continue;
		unready(w, e);
		unlink_entry(w, e, WATCH_HIERARCHY);
		e->ready_next = list;
		list = e;
		n++;
	}
	pthread_mutex_unlock(&w->lock);
	finish_list(w, list);
	return n;
}

size_t
watch_count(struct watch *w)
{
	size_t n;

	pthread_mutex_lock(&w->lock);
	n = w->count;
	pthread_mutex_unlock(&w->lock);
	return n;
}

size_t
watch_bytes(struct watch *w)
{
	size_t n;

	pthread_mutex_lock(&w->lock);
	n = w->bytes;
	pthread_mutex_unlock(&w->lock);
	return n;
}
