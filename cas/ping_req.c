/*
 * Ping request decoding, the parameter cache and the response (see
 * ping_req.h).  The cache is a fixed hash of LRU-ordered entries under one
 * mutex; each entry holds one device's folders (at most max_folders of
 * ~82 bytes), so PING_CACHE_MAX_DEVICES bounds its memory.
 */
#include "cas/ping_req.h"
#include "proto/wbxml_tree.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static int
decode_folders(const struct wbxml_node *folders, unsigned max_folders,
	       struct ping_request *r, enum ping_status *status_r,
	       uint32_t *limit_r)
{
	const struct wbxml_node *f;
	size_t count = wbxml_node_count_children(folders, EAS_PING_FOLDER);

	if (count > max_folders) {
		/* MS-ASCMD 2.2.3.100: Status 6 with MaxFolders. */
		*status_r = PING_STATUS_TOO_MANY_FOLDERS;
		*limit_r = max_folders;
		return -1;
	}
	if (count == 0) {
		*status_r = PING_STATUS_PROTOCOL_ERROR;
		return -1;
	}
	r->folders = calloc(count, sizeof(*r->folders));
	if (r->folders == NULL) {
		*status_r = PING_STATUS_SERVER_ERROR;
		return -1;
	}
	WBXML_FOREACH(f, folders, EAS_PING_FOLDER)
	{
		struct ping_folder *pf = &r->folders[r->n_folders];
		const char *id, *class = "";
		size_t id_len, class_len = 0;
		enum wbxml_err err = WBXML_ERR_NONE;

		if (wbxml_child_str(f, EAS_PING_ID, SYNC_MAX_ID_BYTES, &id,
				    &id_len, NULL) != 0 ||
		    id_len == 0) {
			*status_r = PING_STATUS_PROTOCOL_ERROR;
			return -1;
		}
		/* Class is required by the schema; some clients omit it, and
		 * the folder id alone is enough to watch. */
		if (wbxml_child_str(f, EAS_PING_CLASS, SYNC_MAX_CLASS_BYTES,
				    &class, &class_len, &err) != 0 &&
		    err != WBXML_ERR_MISSING) {
			*status_r = PING_STATUS_PROTOCOL_ERROR;
			return -1;
		}
		if (err == WBXML_ERR_MISSING) {
			class = "";
			class_len = 0;
		}
		memcpy(pf->id, id, id_len + 1);
		memcpy(pf->class, class, class_len + 1);
		r->n_folders++;
	}
	r->has_folders = true;
	return 0;
}

int
ping_req_decode(const uint8_t *body, size_t len, unsigned min_heartbeat_s,
		unsigned max_heartbeat_s, unsigned max_folders,
		struct ping_request *r, enum ping_status *status_r,
		uint32_t *limit_r)
{
	struct wbxml_tree *tree = NULL;
	const struct wbxml_node *root, *folders;
	uint64_t hb;
	enum wbxml_err err;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	*status_r = PING_STATUS_EXPIRED;
	*limit_r = 0;
	if (len == 0)
		return 0; /* empty Ping: everything from the cache */
	if (wbxml_tree_parse(body, len, &tree, NULL, NULL) != 0) {
		*status_r = PING_STATUS_PROTOCOL_ERROR;
		goto out;
	}
	root = wbxml_tree_root(tree);
	if (root == NULL || wbxml_node_tag(root) != EAS_PING_PING) {
		*status_r = PING_STATUS_PROTOCOL_ERROR;
		goto out;
	}
	if (wbxml_child_uint(root, EAS_PING_HEARTBEAT_INTERVAL, 0, UINT32_MAX,
			     &hb, &err) == 0) {
		/* MS-ASCMD 2.2.3.88.1: out of range -> Status 5 with the
		 * nearest allowed value. */
		if (hb < min_heartbeat_s || hb > max_heartbeat_s) {
			*status_r = PING_STATUS_BAD_HEARTBEAT;
			*limit_r = hb < min_heartbeat_s ? min_heartbeat_s
							: max_heartbeat_s;
			goto out;
		}
		r->has_heartbeat = true;
		r->heartbeat_s = (uint32_t)hb;
	} else if (err != WBXML_ERR_MISSING) {
		*status_r = PING_STATUS_PROTOCOL_ERROR;
		goto out;
	}
	folders = wbxml_node_child(root, EAS_PING_FOLDERS);
	if (folders != NULL &&
	    decode_folders(folders, max_folders, r, status_r, limit_r) != 0)
		goto out;
	ret = 0;
out:
	wbxml_tree_free(&tree);
	if (ret != 0)
		ping_req_clear(r);
	return ret;
}

void
ping_req_clear(struct ping_request *r)
{
	free(r->folders);
	memset(r, 0, sizeof(*r));
}

/* ---- cache ------------------------------------------------------------ */

#define PING_CACHE_BUCKETS 4096u

struct pc_entry {
	struct pc_entry *hnext, *prev, *next;
	uint64_t user;
	char device_id[ASHTTP_MAX_DEVICE_ID_BYTES + 1];
	uint32_t heartbeat_s;
	size_t n_folders;
	struct ping_folder *folders;
};

struct ping_cache {
	pthread_mutex_t lock;
	size_t max, count;
	struct pc_entry *head, *tail;
	struct pc_entry *buckets[PING_CACHE_BUCKETS];
};

static size_t
pc_hash(uint64_t user, const char *device_id)
{
	uint64_t h = 1469598103934665603ull ^ user;

	for (const char *p = device_id; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return (size_t)(h % PING_CACHE_BUCKETS);
}

struct ping_cache *
ping_cache_new(size_t max_devices)
{
	struct ping_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->max = max_devices > 0 ? max_devices : 1;
	return c;
}

static void
pc_unlink(struct ping_cache *c, struct pc_entry *e)
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
pc_push(struct ping_cache *c, struct pc_entry *e)
{
	e->next = c->head;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

static void
pc_remove(struct ping_cache *c, struct pc_entry *e)
{
	struct pc_entry **pp = &c->buckets[pc_hash(e->user, e->device_id)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	pc_unlink(c, e);
	free(e->folders);
	free(e);
	c->count--;
}

void
ping_cache_free(struct ping_cache **cache)
{
	struct ping_cache *c = *cache;

	if (c == NULL)
		return;
	while (c->head != NULL)
		pc_remove(c, c->head);
	pthread_mutex_destroy(&c->lock);
	free(c);
	*cache = NULL;
}

size_t
ping_cache_count(struct ping_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}

static struct ping_folder *
copy_folders(const struct ping_folder *f, size_t n)
{
	struct ping_folder *copy = calloc(n > 0 ? n : 1, sizeof(*copy));

	if (copy != NULL && n > 0)
		memcpy(copy, f, n * sizeof(*copy));
	return copy;
}

int
ping_cache_merge(struct ping_cache *c, uint64_t user, const char *device_id,
		 struct ping_request *r, enum ping_status *status_r)
{
	struct pc_entry *e = NULL;
	struct ping_folder *copy = NULL;
	size_t b;
	int ret = -1;

	if (strlen(device_id) > ASHTTP_MAX_DEVICE_ID_BYTES) {
		*status_r = PING_STATUS_PROTOCOL_ERROR;
		return -1;
	}
	b = pc_hash(user, device_id);
	pthread_mutex_lock(&c->lock);
	for (e = c->buckets[b]; e != NULL; e = e->hnext)
		if (e->user == user && strcmp(e->device_id, device_id) == 0)
			break;
	/* MS-ASCMD 2.2.1.13: omitted elements reuse the last request's. */
	if (!r->has_heartbeat && e != NULL) {
		r->has_heartbeat = true;
		r->heartbeat_s = e->heartbeat_s;
	}
	if (!r->has_folders && e != NULL) {
		r->folders = copy_folders(e->folders, e->n_folders);
		if (r->folders == NULL) {
			*status_r = PING_STATUS_SERVER_ERROR;
			goto out;
		}
		r->n_folders = e->n_folders;
		r->has_folders = true;
	}
	if (!r->has_heartbeat || !r->has_folders) {
		*status_r = PING_STATUS_MISSING_PARAMS;
		goto out;
	}
	copy = copy_folders(r->folders, r->n_folders);
	if (copy == NULL) {
		*status_r = PING_STATUS_SERVER_ERROR;
		goto out;
	}
	if (e == NULL) {
		if (c->count >= c->max)
			pc_remove(c, c->tail);
		e = calloc(1, sizeof(*e));
		if (e == NULL) {
			*status_r = PING_STATUS_SERVER_ERROR;
			goto out;
		}
		e->user = user;
		memcpy(e->device_id, device_id, strlen(device_id) + 1);
		e->hnext = c->buckets[b];
		c->buckets[b] = e;
		c->count++;
	} else {
		pc_unlink(c, e);
		free(e->folders);
	}
	pc_push(c, e);
	e->heartbeat_s = r->heartbeat_s;
	e->folders = copy;
	e->n_folders = r->n_folders;
	copy = NULL;
	ret = 0;
out:
	pthread_mutex_unlock(&c->lock);
	free(copy);
	return ret;
}

int
ping_resp_encode(struct wbxml_enc *e, enum ping_status status,
		 const char *const *changed, size_t n_changed, uint32_t limit)
{
	wbxml_enc_start(e, EAS_PING_PING);
	wbxml_enc_uint(e, EAS_PING_STATUS, status);
	if (status == PING_STATUS_CHANGES) {
		wbxml_enc_start(e, EAS_PING_FOLDERS);
		for (size_t i = 0; i < n_changed; i++)
			wbxml_enc_str(e, EAS_PING_FOLDER, changed[i]);
		wbxml_enc_end(e);
	} else if (status == PING_STATUS_BAD_HEARTBEAT) {
		wbxml_enc_uint(e, EAS_PING_HEARTBEAT_INTERVAL, limit);
	} else if (status == PING_STATUS_TOO_MANY_FOLDERS) {
		wbxml_enc_uint(e, EAS_PING_MAX_FOLDERS, limit);
	}
	return wbxml_enc_end(e);
}
