/*
 * Search (MS-ASCMD 2.2.1.16, Store "Mailbox") over a user's mail: the
 * request is answered from the store's full-text index (mailbox/search.h,
 * SQLite FTS5 over subject, sender, recipients and body), optionally within
 * one folder (with DeepTraversal, its subtree) and a date window
 * (GreaterThan/LessThan), newest first, with the device's Range of results
 * and the exact Total.  Cost follows the matches, never the mailbox size.
 * Results carry the item id as LongId (Fetch FETCH_LONG_ID resolves it in
 * the same user's store).
 */
#include "mailbox/rpc_server.h"

#include <string.h>

#include "mailbox/items.h"
#include "mailbox/search.h"
#include "proto/limits.h"

/* MS-ASCMD 2.2.3.140 Range: at most SEARCH_MAILBOX_MAX_RESULTS (100)
 * results per response (proto/limits.h). */
#define MBOX_SEARCH_MAX_RESULTS SEARCH_MAILBOX_MAX_RESULTS

void
mbox_rpc_search(struct mbox_req *r)
{
	Rpc__SearchRequest *q = (void *)r->msg;
	Rpc__SearchReply rep;
	struct search_query sq;
	struct search_result res = {0};
	/* The reply borrows strings from the items: freed after sending. */
	struct item *items[MBOX_SEARCH_MAX_RESULTS] = {0};
	size_t n_items = 0;
	enum search_status sstatus;
	enum store_status status;
	struct store *st;
	int64_t only = 0;
	uint32_t first = q->range_start, last = q->range_end;

	rpc__search_reply__init(&rep);
	if (*q->collection_id != 0 && !mbox_parse_id(q->collection_id, &only)) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID, "bad folder");
		return;
	}
	if (*q->item_class != 0 && strcmp(q->item_class, "Email") != 0) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "only Email is searchable");
		return;
	}
	if (last == 0 && first == 0)
		last = MBOX_SEARCH_MAX_RESULTS - 1;
	if (last < first || last - first >= MBOX_SEARCH_MAX_RESULTS) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID, "range");
		return;
	}
	if (mbox_shard_store(r->ctx, r->user, &st, &status) < 0) {
		mbox_reply_store_error(r, status, "store unavailable");
		return;
	}
	memset(&sq, 0, sizeof(sq));
	sq.text = q->query;
	sq.folder_id = only;
	sq.deep_traversal = q->deep_traversal;
	sq.cls = ITEM_CLASS_EMAIL;
	sq.greater_than = q->greater_than;
	sq.less_than = q->less_than;
	sq.range_start = first;
	sq.range_end = last;
	if (store_search(st, &sq, &res, &sstatus) < 0) {
		switch (sstatus) {
		case SEARCH_NOT_FOUND:
			mbox_reply_status(r, RPC__STATUS__STATUS_NOT_FOUND,
					  "no such mail folder");
			break;
		case SEARCH_STORE_ERROR:
			mbox_reply_store_error(r, store_last_error(st)->status,
					       store_last_error(st)->msg);
			break;
		default:
			mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
					  search_status_name(sstatus));
			break;
		}
		goto out;
	}
	rep.results = mbox_alloc(r, (res.count + 1) * sizeof(*rep.results));
	if (rep.results == NULL)
		goto out;
	for (size_t i = 0; i < res.count; i++) {
		Rpc__SearchResult *out = mbox_alloc(r, sizeof(*out));
		struct item *it = NULL;

		if (out == NULL)
			goto out;
		/* G8: an item that fails to load is left out, not fatal. */
		if (store_item_get(st, res.hits[i].item_id, 0, &it) < 0)
			continue;
		rpc__search_result__init(out);
		out->long_id = mbox_id_str(r, it->id);
		out->collection_id = mbox_id_str(r, res.hits[i].folder_id);
		out->item_class = "Email";
		items[n_items++] = it;
		out->data = mbox_item_data(r, it, q->body_preferences,
					   q->n_body_preferences, 0);
		if (out->long_id == NULL || out->collection_id == NULL ||
		    out->data == NULL)
			goto out;
		rep.results[rep.n_results++] = out;
	}
	rep.total = res.total;
	rep.status = RPC__STATUS__STATUS_OK;
	mbox_reply(r, &rep.base);
out:
	for (size_t i = 0; i < n_items; i++)
		item_free(&items[i]);
	search_result_clear(&res);
}
