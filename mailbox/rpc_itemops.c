/*
 * ItemOperations Move (MS-ASCMD 2.2.3.117.1, 14.0+): move every email of
 * one conversation to a folder.  Reached through MoveItemsRequest with
 * conversation_id set (rpc_sync.c's MoveItems handler hands it here);
 * the reply carries one MoveResult with the status.
 *
 * The conversation id lives in each email's serialized properties
 * (mailbox/items.h), not in an indexed column, so finding the members
 * reads every email of the user's mail folders: O(emails), bounded by
 * the mailbox, acceptable for an operation a user triggers by hand.  An
 * index is the upgrade when conversation commands become frequent.
 * Drafts and the Outbox are left alone (a message being written or sent
 * is not part of what the user filed).  MoveAlways, the "and future
 * messages" rule, applies to the messages present now: later deliveries
 * are not redirected.
 */
#include "mailbox/rpc_server.h"

#include <stdlib.h>
#include <string.h>

#include "mailbox/changes.h"
#include "mailbox/folders.h"
#include "mailbox/items.h"
#include "mailbox/notify.h"
#include "mailbox/syncstate.h"

/* Ids read per page of a folder. */
#define CONV_PAGE_ITEMS 256

static bool
same_conversation(const struct item *it, const ProtobufCBinaryData *id)
{
	return it->cls == ITEM_CLASS_EMAIL &&
	       it->props.conversation_id_len == id->len &&
	       memcmp(it->props.conversation_id, id->data, id->len) == 0;
}

/* Move the conversation's members out of one folder.  -1 with
 * *status_r on a store failure. */
static int
move_from(struct mbox_req *r, struct store *st, const char *device,
	  int64_t folder, int64_t dst, const ProtobufCBinaryData *conv,
	  size_t *moved_r, Rpc__Status *status_r)
{
	int64_t ids[CONV_PAGE_ITEMS];
	int64_t modseq = 0;
	size_t offset = 0, n, moved = 0;

	do {
		if (store_folder_items(st, folder, offset, CONV_PAGE_ITEMS, ids,
				       &n) < 0) {
			*status_r = mbox_status_from_store(
			    store_last_error(st)->status);
			return -1;
		}
		offset += n;
		for (size_t i = 0; i < n; i++) {
			struct item *it = NULL;
			bool member;

			if (store_item_get(st, ids[i], 0, &it) < 0)
				continue; /* gone meanwhile */
			member = same_conversation(it, conv);
			item_free(&it);
			if (!member)
				continue;
			if (store_sync_client_move(st, device, ids[i], dst,
						   &modseq) < 0) {
				*status_r = mbox_status_from_store(
				    store_last_error(st)->status);
				return -1;
			}
			/* The moved item left the folder: the next page
			 * starts one earlier. */
			offset--;
			moved++;
		}
	} while (n == CONV_PAGE_ITEMS);
	if (moved > 0) {
		notify_changed(r->ctx, r->user, dst, modseq);
		if (store_folder_modseq(st, folder, &modseq) == 0)
			notify_changed(r->ctx, r->user, folder, modseq);
	}
	*moved_r += moved;
	return 0;
}

void
mbox_rpc_move_conversation(struct mbox_req *r)
{
	Rpc__MoveItemsRequest *q = (void *)r->msg;
	Rpc__MoveItemsReply rep;
	Rpc__MoveResult res, *resp = &res;
	struct folder_list *fl = NULL;
	struct folder dstf;
	struct store *st;
	enum store_status ss;
	int64_t dst;
	size_t moved = 0;

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
	memset(&dstf, 0, sizeof(dstf));
	if (store_folder_get(st, dst, &dstf) < 0 ||
	    dstf.cls != ITEM_CLASS_EMAIL) {
		folder_clear(&dstf);
		res.status = RPC__STATUS__STATUS_NOT_FOUND;
		mbox_reply(r, &rep.base);
		return;
	}
	folder_clear(&dstf);
	if (store_folder_list(st, false, &fl) < 0) {
		mbox_reply_store_error(r, store_last_error(st)->status,
				       store_last_error(st)->msg);
		return;
	}
	res.status = RPC__STATUS__STATUS_OK;
	for (size_t i = 0; i < fl->count; i++) {
		const struct folder *f = &fl->folders[i];

		if (f->cls != ITEM_CLASS_EMAIL || f->id == dst ||
		    f->type == FOLDER_TYPE_DRAFTS ||
		    f->type == FOLDER_TYPE_OUTBOX)
			continue;
		if (move_from(r, st, q->device_id, f->id, dst,
			      &q->conversation_id, &moved, &res.status) < 0)
			break;
	}
	/* MS-ASCMD 2.2.3.177.8: a conversation with no message found. */
	if (res.status == RPC__STATUS__STATUS_OK && moved == 0)
		res.status = RPC__STATUS__STATUS_NOT_FOUND;
	folder_list_free(&fl);
	mbox_reply(r, &rep.base);
}
