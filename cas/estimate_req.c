/*
 * GetItemEstimate request decoding and response encoding (see
 * estimate_req.h).  Every string is copied into fixed fields with its
 * bound checked; the collection count is checked before allocation.
 */
#include "cas/estimate_req.h"
#include "proto/wbxml_tree.h"

#include <stdlib.h>
#include <string.h>

#define ESTIMATE_MAX_FILTER_TYPE 8 /* MS-ASCMD 2.2.3.68.1 */

/* A string child of either tag (the first found); absent leaves "". */
static int
copy_either(const struct wbxml_node *n, uint16_t tag_a, uint16_t tag_b,
	    char *out, size_t max_len)
{
	const char *s;
	size_t len;
	enum wbxml_err err;

	if (wbxml_child_str(n, tag_a, max_len, &s, &len, &err) == 0) {
		memcpy(out, s, len + 1);
		return 0;
	}
	if (err != WBXML_ERR_MISSING)
		return -1;
	if (tag_b == 0)
		return 0;
	if (wbxml_child_str(n, tag_b, max_len, &s, &len, &err) == 0) {
		memcpy(out, s, len + 1);
		return 0;
	}
	return err == WBXML_ERR_MISSING ? 0 : -1;
}

static int
filter(const struct wbxml_node *n, struct estimate_collection *c)
{
	uint64_t v;
	enum wbxml_err err;

	if (wbxml_child_uint(n, EAS_AIRSYNC_FILTER_TYPE, 0,
			     ESTIMATE_MAX_FILTER_TYPE, &v, &err) == 0) {
		c->has_filter_type = true;
		c->filter_type = (uint32_t)v;
		return 0;
	}
	return err == WBXML_ERR_MISSING ? 0 : -1;
}

static int
decode_collection(const struct wbxml_node *n, struct estimate_collection *c)
{
	const struct wbxml_node *opt;

	if (copy_either(n, EAS_AIRSYNC_SYNC_KEY, 0, c->sync_key,
			SYNC_MAX_KEY_BYTES) != 0 ||
	    copy_either(n, EAS_GETITEMESTIMATE_COLLECTION_ID, 0,
			c->collection_id, SYNC_MAX_ID_BYTES) != 0 ||
	    copy_either(n, EAS_GETITEMESTIMATE_CLASS, EAS_AIRSYNC_CLASS,
			c->class, SYNC_MAX_CLASS_BYTES) != 0 ||
	    filter(n, c) != 0)
		return -1;
	if (c->sync_key[0] == '\0' || c->collection_id[0] == '\0')
		return -1;
	c->conversation_mode =
	    wbxml_child_present(n, EAS_AIRSYNC_CONVERSATION_MODE);
	/* 12.1+: the filter lives in Options (up to two: Email and SMS;
	 * the one naming no class or this class wins). */
	WBXML_FOREACH(opt, n, EAS_AIRSYNC_OPTIONS)
	{
		struct estimate_collection o;

		memset(&o, 0, sizeof(o));
		if (copy_either(opt, EAS_AIRSYNC_CLASS, 0, o.class,
				SYNC_MAX_CLASS_BYTES) != 0 ||
		    filter(opt, &o) != 0)
			return -1;
		if (strcmp(o.class, "SMS") == 0)
			continue;
		if (o.has_filter_type) {
			c->has_filter_type = true;
			c->filter_type = o.filter_type;
		}
		if (c->class[0] == '\0')
			memcpy(c->class, o.class, sizeof(c->class));
	}
	return 0;
}

int
estimate_req_decode(const uint8_t *body, size_t len, struct estimate_request *r,
		    enum estimate_status *status_r)
{
	struct wbxml_tree *tree = NULL;
	const struct wbxml_node *root, *colls, *n;
	size_t count;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	*status_r = ESTIMATE_STATUS_INVALID_COLLECTION;
	if (len == 0 || wbxml_tree_parse(body, len, &tree, NULL, NULL) != 0)
		goto out;
	root = wbxml_tree_root(tree);
	if (root == NULL ||
	    wbxml_node_tag(root) != EAS_GETITEMESTIMATE_GET_ITEM_ESTIMATE)
		goto out;
	colls = wbxml_node_child(root, EAS_GETITEMESTIMATE_COLLECTIONS);
	if (colls == NULL)
		goto out;
	count =
	    wbxml_node_count_children(colls, EAS_GETITEMESTIMATE_COLLECTION);
	if (count > GIE_MAX_COLLECTIONS) {
		*status_r = ESTIMATE_STATUS_TOO_MANY;
		goto out;
	}
	if (count == 0)
		goto out;
	r->collections = calloc(count, sizeof(*r->collections));
	if (r->collections == NULL)
		goto out;
	WBXML_FOREACH(n, colls, EAS_GETITEMESTIMATE_COLLECTION)
	{
		if (decode_collection(n, &r->collections[r->n_collections]) !=
		    0)
			goto out;
		r->n_collections++;
	}
	*status_r = ESTIMATE_STATUS_OK;
	ret = 0;
out:
	wbxml_tree_free(&tree);
	if (ret != 0)
		estimate_req_clear(r);
	return ret;
}

void
estimate_req_clear(struct estimate_request *r)
{
	free(r->collections);
	memset(r, 0, sizeof(*r));
}

int
estimate_resp_encode(struct wbxml_enc *e, unsigned version,
		     const struct estimate_request *r,
		     const struct estimate_result *results)
{
	wbxml_enc_start(e, EAS_GETITEMESTIMATE_GET_ITEM_ESTIMATE);
	for (size_t i = 0; i < r->n_collections; i++) {
		wbxml_enc_start(e, EAS_GETITEMESTIMATE_RESPONSE);
		wbxml_enc_uint(e, EAS_GETITEMESTIMATE_STATUS,
			       results[i].status);
		wbxml_enc_start(e, EAS_GETITEMESTIMATE_COLLECTION);
		if (version < 121 && r->collections[i].class[0] != '\0')
			wbxml_enc_str(e, EAS_GETITEMESTIMATE_CLASS,
				      r->collections[i].class);
		wbxml_enc_str(e, EAS_GETITEMESTIMATE_COLLECTION_ID,
			      r->collections[i].collection_id);
		if (results[i].status == ESTIMATE_STATUS_OK)
			wbxml_enc_uint(e, EAS_GETITEMESTIMATE_ESTIMATE,
				       results[i].estimate);
		wbxml_enc_end(e);
		wbxml_enc_end(e);
	}
	return wbxml_enc_end(e);
}
