/*
 * ItemOperations Move (MS-ASCMD 2.2.3.117.1, 14.0+): move every email of
 * one conversation to a folder.  Reached through MoveItemsRequest with
 * conversation_id set (rpc_sync.c's MoveItems handler hands it here);
 * the reply carries one MoveResult with the status.
 *
 * The members come from the conversation index (mailbox/conversation.h,
 * schema.c v6): the cost follows the conversation, not the mailbox.
 * Drafts, the Outbox and Sent Items are left alone.  With MoveAlways
 * (MS-ASCMD 2.2.3.118) the move also records the durable rule
 * "conversation -> folder" that LMTP delivery applies to the
 * conversation's future messages.  A Move without MoveAlways, which the
 * spec answers with Status 155, is served as a one-time move: older
 * clients send it so.
 */
#include "mailbox/rpc_server.h"

#include <string.h>
#include <time.h>

#include "mailbox/conversation.h"
#include "mailbox/notify.h"

/* Publishes the changes of the committed moves: the destination and every
 * source folder. */
static void
publish(struct mbox_req *r, int64_t dst, const struct conv_move *m)
{
	if (m->moved == 0)
		return;
	notify_changed(r->ctx, r->user, dst, m->dst_modseq);
	for (size_t i = 0; i < m->n_src; i++)
		if (m->src_modseqs[i] > 0)
			notify_changed(r->ctx, r->user, m->src_folders[i],
				       m->src_modseqs[i]);
}

void
mbox_rpc_move_conversation(struct mbox_req *r)
{
	Rpc__MoveItemsRequest *q = (void *)r->msg;
	Rpc__MoveItemsReply rep;
	Rpc__MoveResult res, *resp = &res;
	struct conv_move m;
	struct store *st;
	enum store_status ss;
	int64_t dst;

	rpc__move_items_reply__init(&rep);
	rpc__move_result__init(&res);
	res.src_message_id = "";
	res.dst_message_id = "";
	rep.results = &resp;
	rep.n_results = 1;
	rep.status = RPC__STATUS__STATUS_OK;
	if (q->conversation_id.len == 0 ||
	    !mbox_parse_id(q->conversation_dst_id, &dst)) {
		res.status = RPC__STATUS__STATUS_NOT_FOUND;
		mbox_reply(r, &rep.base);
		return;
	}
	if (mbox_shard_store(r->ctx, r->user, &st, &ss) < 0) {
		mbox_reply_store_error(r, ss, "store unavailable");
		return;
	}
	res.status = RPC__STATUS__STATUS_OK;
	if (store_conv_move(st, q->device_id, q->conversation_id.data,
			    q->conversation_id.len, dst, q->move_always,
			    (int64_t)time(NULL), &m) < 0) {
		ss = store_last_error(st)->status;
		/* MS-ASCMD 2.2.3.177.8: an unknown conversation, a
		 * destination that is not one of the user's mail folders,
		 * or an id too long to be one: Status 6 (not found). */
		res.status = ss == STORE_NOT_FOUND || ss == STORE_INVALID
				 ? RPC__STATUS__STATUS_NOT_FOUND
				 : mbox_status_from_store(ss);
	}
	publish(r, dst, &m);
	conv_move_clear(&m);
	mbox_reply(r, &rep.base);
}
