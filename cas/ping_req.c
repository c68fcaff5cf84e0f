/*
 * Ping request decoding, the parameter cache and the response (see
 * ping_req.h).  The cache (cas/device_cache.h) holds one entry per
 * device, least recently used evicted first; each entry holds one device's
 * folders (at most max_folders of ~82 bytes), so PING_CACHE_MAX_DEVICES
 * bounds its memory.
 */
#include "cas/ping_req.h"
#include "cas/device_cache.h"
#include "proto/wbxml_tree.h"

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

/* One device's last complete parameters. */
struct ping_cached {
	uint32_t heartbeat_s;
	size_t n_folders;
	struct ping_folder *folders;
};

struct ping_cache {
	struct device_cache *devices;
};

static void
ping_cached_free(void *value)
{
	struct ping_cached *pc = value;

	if (pc != NULL)
		free(pc->folders);
	free(pc);
}

struct ping_cache *
ping_cache_new(size_t max_devices)
{
	struct ping_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->devices = device_cache_new(max_devices, ping_cached_free);
	if (c->devices == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
ping_cache_free(struct ping_cache **cache)
{
	struct ping_cache *c = *cache;

	if (c == NULL)
		return;
	device_cache_free(&c->devices);
	free(c);
	*cache = NULL;
}

size_t
ping_cache_count(struct ping_cache *c)
{
	return device_cache_count(c->devices);
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
	struct ping_cached *e, *fresh = NULL;
	int ret = -1;

	if (strlen(device_id) > ASHTTP_MAX_DEVICE_ID_BYTES) {
		*status_r = PING_STATUS_PROTOCOL_ERROR;
		return -1;
	}
	device_cache_lock(c->devices);
	e = device_cache_get(c->devices, user, device_id);
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
	fresh = calloc(1, sizeof(*fresh));
	if (fresh == NULL ||
	    (fresh->folders = copy_folders(r->folders, r->n_folders)) == NULL) {
		*status_r = PING_STATUS_SERVER_ERROR;
		goto out;
	}
	fresh->heartbeat_s = r->heartbeat_s;
	fresh->n_folders = r->n_folders;
	if (device_cache_put(c->devices, user, device_id, fresh) != 0) {
		*status_r = PING_STATUS_SERVER_ERROR;
		goto out;
	}
	fresh = NULL;
	ret = 0;
out:
	device_cache_unlock(c->devices);
	ping_cached_free(fresh);
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
