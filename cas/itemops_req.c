/*
 * ItemOperations request decoding (see itemops_req.h).  The tree is parsed
 * with the codec's bounds, the operation count is checked before any
 * allocation, and every string is copied into a fixed field after its
 * length was checked, so nothing here depends on the body after return.
 */
#include "cas/itemops_req.h"
#include "proto/wbxml_tree.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ITEMOPS_MAX_PREVIEW 255 /* MS-ASAIRS 2.2.2.37 */

/* Copy a string child (absent: "", 0); -1 when too long or not text. */
static int
copy_str(const struct wbxml_node *n, uint16_t tag, char *out, size_t max_len,
	 bool *present_r)
{
	const char *s;
	size_t len;
	enum wbxml_err err;

	out[0] = '\0';
	if (present_r != NULL)
		*present_r = false;
	if (wbxml_child_str(n, tag, max_len, &s, &len, &err) != 0)
		return err == WBXML_ERR_MISSING ? 0 : -1;
	memcpy(out, s, len + 1);
	if (present_r != NULL)
		*present_r = true;
	return 0;
}

/* 1 present, 0 absent, -1 invalid. */
static int
get_uint(const struct wbxml_node *n, uint16_t tag, uint64_t min, uint64_t max,
	 uint32_t *val_r)
{
	uint64_t v;
	enum wbxml_err err;

	if (wbxml_child_uint(n, tag, min, max, &v, &err) != 0)
		return err == WBXML_ERR_MISSING ? 0 : -1;
	*val_r = (uint32_t)v;
	return 1;
}

static int
parse_u64(const char *s, size_t len, uint64_t *v_r)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*v_r = v;
	return 0;
}

int
itemops_parse_range(const char *text, uint64_t *first_r, uint64_t *last_r)
{
	const char *dash = strchr(text, '-');

	if (dash == NULL ||
	    parse_u64(text, (size_t)(dash - text), first_r) != 0 ||
	    parse_u64(dash + 1, strlen(dash + 1), last_r) != 0 ||
	    *first_r > *last_r)
		return -1;
	return 0;
}

static int
decode_pref(const struct wbxml_node *n, unsigned version,
	    struct sync_body_pref *p)
{
	uint32_t v;
	int r;

	memset(p, 0, sizeof(*p));
	if (get_uint(n, EAS_AIRSYNCBASE_TYPE, SYNC_BODY_PLAIN, SYNC_BODY_MIME,
		     &p->type) != 1 ||
	    get_uint(n, EAS_AIRSYNCBASE_TRUNCATION_SIZE, 0, UINT32_MAX,
		     &p->truncation_size) < 0)
		return -1;
	r = get_uint(n, EAS_AIRSYNCBASE_ALL_OR_NONE, 0, 1, &v);
	if (r < 0)
		return -1;
	p->all_or_none = r == 1 && v == 1;
	if (get_uint(n, EAS_AIRSYNCBASE_PREVIEW, 0, ITEMOPS_MAX_PREVIEW,
		     &p->preview) < 0)
		return -1;
	if (version < 140)
		p->preview = 0;
	return 0;
}

static enum itemops_status
decode_fetch_options(const struct wbxml_node *opt, unsigned version,
		     struct itemops_fetch *f)
{
	const struct wbxml_node *n;
	char range[ITEMOPS_MAX_RANGE_BYTES + 1];
	char cred[ITEMOPS_MAX_CREDENTIAL_BYTES + 1];
	bool present, user, pass;
	int r;

	if (copy_str(opt, EAS_ITEMOPERATIONS_RANGE, range,
		     ITEMOPS_MAX_RANGE_BYTES, &present) != 0)
		return ITEMOPS_STATUS_BAD_RANGE;
	if (present) {
		if (itemops_parse_range(range, &f->range_first,
					&f->range_last) != 0)
			return ITEMOPS_STATUS_BAD_RANGE;
		f->has_range = true;
	}
	if (copy_str(opt, EAS_ITEMOPERATIONS_USER_NAME, cred,
		     ITEMOPS_MAX_CREDENTIAL_BYTES, &user) != 0 ||
	    copy_str(opt, EAS_ITEMOPERATIONS_PASSWORD, cred,
		     ITEMOPS_MAX_CREDENTIAL_BYTES, &pass) != 0)
		return ITEMOPS_STATUS_PROTOCOL_ERROR;
	f->has_credentials = user || pass;
	r = get_uint(opt, EAS_AIRSYNC_MIME_SUPPORT, 0, 2, &f->mime_support);
	if (r < 0)
		return ITEMOPS_STATUS_PROTOCOL_ERROR;
	f->has_mime_support = r == 1;
	WBXML_FOREACH(n, opt, EAS_AIRSYNCBASE_BODY_PREFERENCE)
	{
		if (f->n_body_prefs == SYNC_MAX_BODY_PREFS ||
		    decode_pref(n, version,
				&f->body_prefs[f->n_body_prefs++]) != 0)
			return ITEMOPS_STATUS_PROTOCOL_ERROR;
	}
	/* MS-ASAIRS 2.2.2.8: BodyPartPreference is 14.1+; older clients
	 * do not send it and it is ignored from them. */
	if (version < 141)
		return ITEMOPS_STATUS_OK;
	WBXML_FOREACH(n, opt, EAS_AIRSYNCBASE_BODY_PART_PREFERENCE)
	{
		if (f->n_body_part_prefs == SYNC_MAX_BODY_PREFS ||
		    decode_pref(n, version,
				&f->body_part_prefs[f->n_body_part_prefs++]) !=
			0)
			return ITEMOPS_STATUS_PROTOCOL_ERROR;
	}
	return ITEMOPS_STATUS_OK;
}

static bool
is_mailbox_store(const char *store)
{
	return strcasecmp(store, "Mailbox") == 0;
}

static enum itemops_status
decode_fetch(const struct wbxml_node *n, unsigned version,
	     struct itemops_fetch *f)
{
	const struct wbxml_node *opt;
	bool has_store, has_coll, has_sid, has_ref, has_long, has_link;
	enum itemops_status st;

	if (copy_str(n, EAS_ITEMOPERATIONS_STORE, f->store,
		     ITEMOPS_MAX_STORE_BYTES, &has_store) != 0 ||
	    copy_str(n, EAS_AIRSYNC_COLLECTION_ID, f->collection_id,
		     SYNC_MAX_ID_BYTES, &has_coll) != 0 ||
	    copy_str(n, EAS_AIRSYNC_SERVER_ID, f->server_id, SYNC_MAX_ID_BYTES,
		     &has_sid) != 0)
		return ITEMOPS_STATUS_PROTOCOL_ERROR;
	/* Exactly one way of naming the object. */
	if (copy_str(n, EAS_AIRSYNCBASE_FILE_REFERENCE, f->reference,
		     ITEMOPS_MAX_REFERENCE_BYTES, &has_ref) != 0)
		return ITEMOPS_STATUS_BAD_ATTACHMENT;
	if (has_ref) {
		f->by = ITEMOPS_BY_FILE_REF;
	} else if (copy_str(n, EAS_SEARCH_LONG_ID, f->reference,
			    ITEMOPS_MAX_REFERENCE_BYTES, &has_long) != 0) {
		return ITEMOPS_STATUS_NOT_FOUND;
	} else if (has_long) {
		f->by = ITEMOPS_BY_LONG_ID;
	} else if (copy_str(n, EAS_DOCUMENTLIBRARY_LINK_ID, f->reference,
			    ITEMOPS_MAX_REFERENCE_BYTES, &has_link) != 0) {
		return ITEMOPS_STATUS_DL_BAD_URI;
	} else if (has_link) {
		f->by = ITEMOPS_BY_LINK;
	} else if (has_sid && has_coll && f->server_id[0] != '\0' &&
		   f->collection_id[0] != '\0') {
		f->by = ITEMOPS_BY_ITEM;
	} else {
		return ITEMOPS_STATUS_PROTOCOL_ERROR;
	}
	if (!has_store || f->store[0] == '\0')
		return ITEMOPS_STATUS_PROTOCOL_ERROR;
	opt = wbxml_node_child(n, EAS_ITEMOPERATIONS_OPTIONS);
	if (opt != NULL) {
		st = decode_fetch_options(opt, version, f);
		if (st != ITEMOPS_STATUS_OK)
			return st;
	}
	/* MS-ASCMD 2.2.3.178.2: "Mailbox" holds items and attachments;
	 * document libraries (SharePoint, UNC) are not served here. */
	if (!is_mailbox_store(f->store) || f->by == ITEMOPS_BY_LINK)
		return ITEMOPS_STATUS_STORE_UNKNOWN;
	return ITEMOPS_STATUS_OK;
}

static enum itemops_status
decode_empty(const struct wbxml_node *n, struct itemops_empty *e)
{
	const struct wbxml_node *opt;
	bool has_coll;

	if (copy_str(n, EAS_AIRSYNC_COLLECTION_ID, e->collection_id,
		     SYNC_MAX_ID_BYTES, &has_coll) != 0 ||
	    !has_coll || e->collection_id[0] == '\0')
		return ITEMOPS_STATUS_PROTOCOL_ERROR;
	opt = wbxml_node_child(n, EAS_ITEMOPERATIONS_OPTIONS);
	e->delete_subfolders =
	    opt != NULL &&
	    wbxml_child_present(opt, EAS_ITEMOPERATIONS_DELETE_SUB_FOLDERS);
	return ITEMOPS_STATUS_OK;
}

static enum itemops_status
decode_move(const struct wbxml_node *n, unsigned version,
	    struct itemops_move *m)
{
	const struct wbxml_node *opt;
	const uint8_t *id;
	bool has_dst;

	/* MS-ASCMD 2.2.3.117.1: Move is 14.0+. */
	if (version < 140)
		return ITEMOPS_STATUS_PROTOCOL_ERROR;
	if (wbxml_child_bytes(n, EAS_ITEMOPERATIONS_CONVERSATION_ID,
			      ITEMOPS_MAX_CONVERSATION_ID_BYTES, &id,
			      &m->conversation_id_len, NULL) != 0 ||
	    m->conversation_id_len == 0)
		return ITEMOPS_STATUS_PROTOCOL_ERROR;
	memcpy(m->conversation_id, id, m->conversation_id_len);
	if (copy_str(n, EAS_ITEMOPERATIONS_DST_FLD_ID, m->dst_folder_id,
		     SYNC_MAX_ID_BYTES, &has_dst) != 0 ||
	    !has_dst || m->dst_folder_id[0] == '\0')
		return ITEMOPS_STATUS_PROTOCOL_ERROR;
	opt = wbxml_node_child(n, EAS_ITEMOPERATIONS_OPTIONS);
	m->move_always =
	    opt != NULL &&
	    wbxml_child_present(opt, EAS_ITEMOPERATIONS_MOVE_ALWAYS);
	return ITEMOPS_STATUS_OK;
}

int
itemops_req_decode(const uint8_t *body, size_t len, unsigned version,
		   struct itemops_request *r, enum itemops_status *status_r)
{
	struct wbxml_tree *tree = NULL;
	const struct wbxml_node *root, *n;
	size_t count = 0;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	*status_r = ITEMOPS_STATUS_PROTOCOL_ERROR;
	if (len == 0 || wbxml_tree_parse(body, len, &tree, NULL, NULL) != 0)
		goto out;
	root = wbxml_tree_root(tree);
	if (root == NULL ||
	    wbxml_node_tag(root) != EAS_ITEMOPERATIONS_ITEM_OPERATIONS)
		goto out;
	WBXML_FOREACH_CHILD(n, root)
	{
		uint16_t tag = wbxml_node_tag(n);

		if (tag != EAS_ITEMOPERATIONS_FETCH &&
		    tag != EAS_ITEMOPERATIONS_EMPTY_FOLDER_CONTENTS &&
		    tag != EAS_ITEMOPERATIONS_MOVE)
			goto out;
		if (++count > ITEMOPS_MAX_OPERATIONS) {
			*status_r = ITEMOPS_STATUS_TOO_MANY;
			goto out;
		}
	}
	if (count == 0)
		goto out;
	r->ops = calloc(count, sizeof(*r->ops));
	if (r->ops == NULL) {
		*status_r = ITEMOPS_STATUS_SERVER_ERROR;
		goto out;
	}
	WBXML_FOREACH_CHILD(n, root)
	{
		struct itemops_op *op = &r->ops[r->n_ops++];

		switch (wbxml_node_tag(n)) {
		case EAS_ITEMOPERATIONS_FETCH:
			op->kind = ITEMOPS_FETCH;
			op->status = decode_fetch(n, version, &op->u.fetch);
			break;
		case EAS_ITEMOPERATIONS_EMPTY_FOLDER_CONTENTS:
			op->kind = ITEMOPS_EMPTY_FOLDER;
			op->status = decode_empty(n, &op->u.empty);
			break;
		default:
			op->kind = ITEMOPS_MOVE;
			op->status = decode_move(n, version, &op->u.move);
			break;
		}
	}
	*status_r = ITEMOPS_STATUS_OK;
	ret = 0;
out:
	wbxml_tree_free(&tree);
	if (ret != 0)
		itemops_req_clear(r);
	return ret;
}

void
itemops_req_clear(struct itemops_request *r)
{
	free(r->ops);
	memset(r, 0, sizeof(*r));
}
