/*
 * The per-device LRU cache (see device_cache.h).  A fixed array of hash
 * chains plus one doubly linked LRU list: lookup, insert and eviction are
 * O(1).  Memory: one entry of ~170 bytes per device plus the caller's
 * value; max_devices bounds both.
 */
#include "cas/device_cache.h"
#include "proto/limits.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DEVICE_CACHE_BUCKETS 4096u

struct dc_entry {
	struct dc_entry *hnext;       /* hash chain */
	struct dc_entry *prev, *next; /* LRU, most recent first */
	uint64_t user;
	char device_id[ASHTTP_MAX_DEVICE_ID_BYTES + 1];
	void *value;
};

struct device_cache {
	pthread_mutex_t lock;
	size_t max, count;
	void (*free_value)(void *value);
	struct dc_entry *head, *tail;
	struct dc_entry *buckets[DEVICE_CACHE_BUCKETS];
};

/* FNV-1a over the device id, seeded with the user id. */
static size_t
dc_hash(uint64_t user, const char *device_id)
{
	uint64_t h = 1469598103934665603ull ^ user;

	for (const char *p = device_id; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return (size_t)(h % DEVICE_CACHE_BUCKETS);
}

struct device_cache *
device_cache_new(size_t max_devices, void (*free_value)(void *value))
{
	struct device_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->max = max_devices > 0 ? max_devices : 1;
	c->free_value = free_value;
	return c;
}

static void
dc_unlink(struct device_cache *c, struct dc_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
dc_push(struct device_cache *c, struct dc_entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

static void
dc_remove(struct device_cache *c, struct dc_entry *e)
{
	struct dc_entry **pp = &c->buckets[dc_hash(e->user, e->device_id)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	dc_unlink(c, e);
	if (c->free_value != NULL)
		c->free_value(e->value);
	free(e);
	c->count--;
}

void
device_cache_free(struct device_cache **cache)
{
	struct device_cache *c = *cache;

	if (c == NULL)
		return;
	while (c->head != NULL)
		dc_remove(c, c->head);
	pthread_mutex_destroy(&c->lock);
	free(c);
	*cache = NULL;
}

void
device_cache_lock(struct device_cache *c)
{
	pthread_mutex_lock(&c->lock);
}

void
device_cache_unlock(struct device_cache *c)
{
	pthread_mutex_unlock(&c->lock);
}

static struct dc_entry *
dc_find(struct device_cache *c, uint64_t user, const char *device_id)
{
	struct dc_entry *e = c->buckets[dc_hash(user, device_id)];

	for (; e != NULL; e = e->hnext)
		if (e->user == user && strcmp(e->device_id, device_id) == 0)
			return e;
	return NULL;
}

void *
device_cache_get(struct device_cache *c, uint64_t user, const char *device_id)
{
	struct dc_entry *e = dc_find(c, user, device_id);

	if (e == NULL)
		return NULL;
	dc_unlink(c, e);
	dc_push(c, e);
	return e->value;
}

int
device_cache_put(struct device_cache *c, uint64_t user, const char *device_id,
		 void *value)
{
	size_t len = strlen(device_id);
	struct dc_entry *e;

	if (len > ASHTTP_MAX_DEVICE_ID_BYTES)
		return -1;
	e = dc_find(c, user, device_id);
	if (e != NULL) {
		if (c->free_value != NULL && e->value != value)
			c->free_value(e->value);
		e->value = value;
		dc_unlink(c, e);
		dc_push(c, e);
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -1;
	if (c->count >= c->max)
		dc_remove(c, c->tail);
	e->user = user;
	memcpy(e->device_id, device_id, len + 1);
	e->value = value;
	e->hnext = c->buckets[dc_hash(user, device_id)];
	c->buckets[dc_hash(user, device_id)] = e;
	dc_push(c, e);
	c->count++;
	return 0;
}

size_t
device_cache_count(struct device_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}
