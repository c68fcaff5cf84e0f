/*
 * MoveItems (MS-ASCMD 2.2.1.12): move items between folders of the same
 * class.  The body is decoded (cas/moveitems_req.h); moves that cannot
 * succeed are answered here without asking anyone (a missing SrcMsgId or
 * SrcFldId: Status 1; a missing DstFldId: 2; source and destination the
 * same folder: 4); the rest go to the mailbox in one MoveItems call, which
 * moves each in its own transaction and records the move in the change
 * log (a Delete in the source, an Add in the destination for every other
 * device; the moving device's own view is updated so it is not told of
 * its own move).  The item keeps its id, which is the DstMsgId.
 *
 * Status mapping (MS-ASCMD 2.2.3.177.10): not found at the source -> 1,
 * unknown destination -> 2, destination of another class (email into
 * Calendar) -> 2 as well: that folder is no valid destination for the
 * item, and 2 sends the client to FolderSync rather than into a retry
 * loop; a busy store -> 7 (retry); any other store failure -> 5.  More
 * than MOVEITEMS_MAX_MOVES moves: Status 103 (MS-ASCMD 3.1.5.10) from
 * 14.0, HTTP 400 before.
 */
#include "cas/dispatch.h"
#include "cas/moveitems_req.h"
#include "cas/request.h"
#include "cas/wbxml_resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct moveitems_call {
	struct cas_request *r;
	struct moveitems_request mr;
	struct moveitems_result *results;
	size_t *sent; /* request index of each move sent to the mailbox */
	size_t n_sent;
};

static void
call_free(struct moveitems_call *c)
{
	moveitems_req_clear(&c->mr);
	free(c->results);
	free(c->sent);
	free(c);
}

static void
send_results(struct moveitems_call *c)
{
	struct cas_wbxml_out out;

	cas_wbxml_out_init(&out);
	moveitems_resp_encode(&out.enc, &c->mr, c->results);
	cas_request_send(c->r, &out);
	call_free(c);
}

static enum moveitems_status
map_result(const Rpc__MoveResult *res)
{
	switch (res->error) {
	case RPC__MOVE_ERROR__MOVE_ERROR_SOURCE:
		return MOVEITEMS_STATUS_INVALID_SOURCE;
	case RPC__MOVE_ERROR__MOVE_ERROR_DESTINATION:
	case RPC__MOVE_ERROR__MOVE_ERROR_CLASS:
		return MOVEITEMS_STATUS_INVALID_DESTINATION;
	case RPC__MOVE_ERROR__MOVE_ERROR_SAME:
		return MOVEITEMS_STATUS_SAME_FOLDER;
	default:
		break;
	}
	switch (res->status) {
	case RPC__STATUS__STATUS_OK:
		return MOVEITEMS_STATUS_SUCCESS;
	case RPC__STATUS__STATUS_NOT_FOUND:
		return MOVEITEMS_STATUS_INVALID_SOURCE;
	case RPC__STATUS__STATUS_BUSY:
		return MOVEITEMS_STATUS_LOCKED;
	default:
		return MOVEITEMS_STATUS_FAILURE;
	}
}

static void
on_moved(void *arg, Rpc__Status status, const ProtobufCMessage *msg)
{
	struct moveitems_call *c = arg;
	const Rpc__MoveItemsReply *reply = (const Rpc__MoveItemsReply *)msg;

	if (reply == NULL || status != RPC__STATUS__STATUS_OK) {
		cas_request_respond_rpc_error(
		    c->r,
		    reply == NULL ? status : RPC__STATUS__STATUS_INTERNAL);
		call_free(c);
		return;
	}
	/* One result per move sent, in order; a short reply leaves the
	 * missing moves at Status 5 (failure). */
	for (size_t k = 0; k < c->n_sent; k++) {
		struct moveitems_result *res = &c->results[c->sent[k]];
		const Rpc__MoveResult *m;

		if (k >= reply->n_results) {
			res->status = MOVEITEMS_STATUS_FAILURE;
			continue;
		}
		m = reply->results[k];
		res->status = map_result(m);
		if (res->status != MOVEITEMS_STATUS_SUCCESS)
			continue;
		if (m->dst_message_id == NULL || m->dst_message_id[0] == '\0' ||
		    strlen(m->dst_message_id) > MOVEITEMS_MAX_ID_BYTES) {
			res->status = MOVEITEMS_STATUS_FAILURE;
			continue;
		}
		(void)snprintf(res->dst_msg_id, sizeof(res->dst_msg_id), "%s",
			       m->dst_message_id);
	}
	send_results(c);
}

/* The status of a move decided without the mailbox, or 0. */
static enum moveitems_status
local_status(const struct moveitems_move *m)
{
	if (m->src_msg_id[0] == '\0' || m->src_fld_id[0] == '\0')
		return MOVEITEMS_STATUS_INVALID_SOURCE;
	if (m->dst_fld_id[0] == '\0')
		return MOVEITEMS_STATUS_INVALID_DESTINATION;
	if (strcmp(m->src_fld_id, m->dst_fld_id) == 0)
		return MOVEITEMS_STATUS_SAME_FOLDER;
	return 0;
}

static void
moveitems_run(struct cas_request *r)
{
	struct moveitems_call *c = calloc(1, sizeof(*c));
	Rpc__MoveItemsRequest req;
	Rpc__MoveItem *items = NULL, **ptrs = NULL;
	enum moveitems_error err;
	const uint8_t *body;
	size_t len;

	if (c == NULL) {
		cas_request_respond_status(r, CAS_STATUS_SERVER_ERROR);
		return;
	}
	c->r = r;
	body = cas_req_body(r->req, &len);
	if (moveitems_req_decode(body, len, &c->mr, &err) != 0) {
		/* MS-ASCMD 2.2.2 / 3.1.5.10: Status 103 from 14.0. */
		if (r->version >= 140)
			cas_request_respond_status(r, CAS_STATUS_INVALID_XML);
		else
			cas_request_respond_http(r, 400);
		call_free(c);
		return;
	}
	c->results = calloc(c->mr.n_moves, sizeof(*c->results));
	c->sent = calloc(c->mr.n_moves, sizeof(*c->sent));
	items = calloc(c->mr.n_moves, sizeof(*items));
	ptrs = calloc(c->mr.n_moves, sizeof(*ptrs));
	if (c->results == NULL || c->sent == NULL || items == NULL ||
	    ptrs == NULL)
		goto fail;
	rpc__move_items_request__init(&req);
	req.user = r->user;
	req.device_id = r->ash.device_id;
	for (size_t i = 0; i < c->mr.n_moves; i++) {
		struct moveitems_move *m = &c->mr.moves[i];
		Rpc__MoveItem *it = &items[c->n_sent];

		c->results[i].status = local_status(m);
		if (c->results[i].status != 0)
			continue;
		rpc__move_item__init(it);
		it->src_message_id = m->src_msg_id;
		it->src_folder_id = m->src_fld_id;
		it->dst_folder_id = m->dst_fld_id;
		ptrs[c->n_sent] = it;
		c->sent[c->n_sent++] = i;
	}
	if (c->n_sent == 0) {
		free(items);
		free(ptrs);
		send_results(c);
		return;
	}
	req.moves = ptrs;
	req.n_moves = c->n_sent;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_MOVE_ITEMS,
		      &req.base, 0, on_moved, c) != 0)
		goto fail;
	free(items);
	free(ptrs);
	return;
fail:
	free(items);
	free(ptrs);
	cas_request_respond_status(r, CAS_STATUS_SERVER_ERROR);
	call_free(c);
}

static void
moveitems_handler(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, moveitems_run);
}

CAS_COMMAND(moveitems_command, .name = "MoveItems", .min_version = 25,
	    .needs_policy_key = true, .handler = moveitems_handler)
