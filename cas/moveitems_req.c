/*
 * MoveItems request decoding and response encoding (see moveitems_req.h).
 * The Move count is checked before allocation; each id is copied into a
 * fixed field with its bound checked.
 */
#include "cas/moveitems_req.h"
#include "proto/wbxml_tree.h"

#include <stdlib.h>
#include <string.h>

/* An id child; absent or empty leaves "" (the move's own status). */
static int
copy_id(const struct wbxml_node *n, uint16_t tag, char *out)
{
	const char *s;
	size_t len;
	enum wbxml_err err;

	if (wbxml_child_str(n, tag, MOVEITEMS_MAX_ID_BYTES, &s, &len, &err) ==
	    0) {
		memcpy(out, s, len + 1);
		return 0;
	}
	return err == WBXML_ERR_MISSING ? 0 : -1;
}

int
moveitems_req_decode(const uint8_t *body, size_t len,
		     struct moveitems_request *r, enum moveitems_error *error_r)
{
	struct wbxml_tree *tree = NULL;
	const struct wbxml_node *root, *n;
	size_t count;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	*error_r = MOVEITEMS_ERR_MALFORMED;
	if (len == 0 || wbxml_tree_parse(body, len, &tree, NULL, NULL) != 0)
		goto out;
	root = wbxml_tree_root(tree);
	if (root == NULL || wbxml_node_tag(root) != EAS_MOVE_MOVE_ITEMS)
		goto out;
	count = wbxml_node_count_children(root, EAS_MOVE_MOVE);
	/* MS-ASCMD 3.1.5.10: at most 1000 Move elements. */
	if (count > MOVEITEMS_MAX_MOVES) {
		*error_r = MOVEITEMS_ERR_TOO_MANY;
		goto out;
	}
	if (count == 0)
		goto out;
	r->moves = calloc(count, sizeof(*r->moves));
	if (r->moves == NULL)
		goto out;
	WBXML_FOREACH(n, root, EAS_MOVE_MOVE)
	{
		struct moveitems_move *m = &r->moves[r->n_moves];

		if (copy_id(n, EAS_MOVE_SRC_MSG_ID, m->src_msg_id) != 0 ||
		    copy_id(n, EAS_MOVE_SRC_FLD_ID, m->src_fld_id) != 0 ||
		    copy_id(n, EAS_MOVE_DST_FLD_ID, m->dst_fld_id) != 0)
			goto out;
		r->n_moves++;
	}
	ret = 0;
out:
	wbxml_tree_free(&tree);
	if (ret != 0)
		moveitems_req_clear(r);
	return ret;
}

void
moveitems_req_clear(struct moveitems_request *r)
{
	free(r->moves);
	memset(r, 0, sizeof(*r));
}

int
moveitems_resp_encode(struct wbxml_enc *e, const struct moveitems_request *r,
		      const struct moveitems_result *results)
{
	wbxml_enc_start(e, EAS_MOVE_MOVE_ITEMS);
	for (size_t i = 0; i < r->n_moves; i++) {
		wbxml_enc_start(e, EAS_MOVE_RESPONSE);
		wbxml_enc_str(e, EAS_MOVE_SRC_MSG_ID, r->moves[i].src_msg_id);
		wbxml_enc_uint(e, EAS_MOVE_STATUS, results[i].status);
		/* MS-ASCMD 2.2.3.52: DstMsgId only when the move succeeded. */
		if (results[i].status == MOVEITEMS_STATUS_SUCCESS)
			wbxml_enc_str(e, EAS_MOVE_DST_MSG_ID,
				      results[i].dst_msg_id);
		wbxml_enc_end(e);
	}
	return wbxml_enc_end(e);
}
