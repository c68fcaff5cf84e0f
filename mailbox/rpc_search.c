/*
 * Search (MS-ASCMD 2.2.1.16, Store "Mailbox") over a user's mail folders:
 * a case-insensitive substring match of the query on subject, sender,
 * recipients, preview and text body, optionally within one folder and a
 * date window (GreaterThan/LessThan), with the device's Range of results.
 * The store has no text index, so this walks items newest first, folder
 * by folder, and stops after MBOX_SEARCH_MAX_SCAN items: cost O(items
 * scanned), bounded, and a mailbox larger than the bound is searched in
 * its newest part only (Total counts what was scanned).  Results carry
 * the item id as LongId (Fetch FETCH_LONG_ID resolves it in the same
 * user's store).
 */
#include "mailbox/rpc_server.h"

#include <string.h>

#include "mailbox/folders.h"
#include "mailbox/items.h"

/* Items examined per Search request. */
#define MBOX_SEARCH_MAX_SCAN 5000
/* Items read per page of a folder. */
#define MBOX_SEARCH_PAGE 128
/* MS-ASCMD 2.2.3.140 Range: at most 100 results per response. */
#define MBOX_SEARCH_MAX_RESULTS 100
/* Query text accepted (MS-ASCMD FreeText is short; this bounds the
 * per-item match cost). */
#define MBOX_SEARCH_MAX_QUERY_BYTES 256

static bool
contains(const char *hay, const char *needle)
{
	return hay != NULL && strcasestr(hay, needle) != NULL;
}

static bool
matches(const struct item *it, const char *query, int64_t after, int64_t before)
{
	const struct item_props *p = &it->props;

	if ((after != 0 && it->date <= after) ||
	    (before != 0 && it->date >= before))
		return false;
	return contains(p->subject, query) || contains(p->from, query) ||
	       contains(p->to, query) || contains(p->cc, query) ||
	       contains(p->preview, query) || contains(p->body_text, query);
}

struct search_hit {
	struct item *item;
	int64_t folder;
};

void
mbox_rpc_search(struct mbox_req *r)
{
	Rpc__SearchRequest *q = (void *)r->msg;
	Rpc__SearchReply rep;
	struct folder_list *fl = NULL;
	struct search_hit hits[MBOX_SEARCH_MAX_RESULTS];
	size_t n_hits = 0, scanned = 0;
	uint32_t total = 0, first = q->range_start, last = q->range_end;
	int64_t only = 0;
	enum store_status status;
	struct store *st;

	rpc__search_reply__init(&rep);
	if (*q->query == 0 || strlen(q->query) > MBOX_SEARCH_MAX_QUERY_BYTES ||
	    (*q->collection_id != 0 &&
	     !mbox_parse_id(q->collection_id, &only))) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "empty or too long query, or bad folder");
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
	if (store_folder_list(st, false, &fl) < 0) {
		mbox_reply_store_error(r, store_last_error(st)->status,
				       store_last_error(st)->msg);
		return;
	}
	for (size_t f = 0; f < fl->count && scanned < MBOX_SEARCH_MAX_SCAN;
	     f++) {
		const struct folder *fo = &fl->folders[f];
		int64_t ids[MBOX_SEARCH_PAGE];
		size_t offset = 0, n;

		if (fo->cls != ITEM_CLASS_EMAIL ||
		    (only != 0 && fo->id != only))
			continue;
		do {
			if (store_folder_items(st, fo->id, offset,
					       MBOX_SEARCH_PAGE, ids, &n) < 0)
				break;
			offset += n;
			for (size_t i = 0;
			     i < n && scanned < MBOX_SEARCH_MAX_SCAN; i++) {
				struct item *it = NULL;

				scanned++;
				if (store_item_get(st, ids[i], 0, &it) < 0)
					continue; /* G8: skip, go on */
				if (!matches(it, q->query, q->greater_than,
					     q->less_than)) {
					item_free(&it);
					continue;
				}
				if (total >= first && total <= last &&
				    n_hits < MBOX_SEARCH_MAX_RESULTS) {
					hits[n_hits].item = it;
					hits[n_hits++].folder = fo->id;
				} else {
					item_free(&it);
				}
				total++;
			}
		} while (n == MBOX_SEARCH_PAGE &&
			 scanned < MBOX_SEARCH_MAX_SCAN);
	}
	if (only != 0 && total == 0) {
		bool found = false;

		for (size_t f = 0; f < fl->count; f++)
			found |= fl->folders[f].id == only;
		if (!found) {
			mbox_reply_status(r, RPC__STATUS__STATUS_NOT_FOUND,
					  "no such folder");
			goto out;
		}
	}
	rep.results = mbox_alloc(r, (n_hits + 1) * sizeof(*rep.results));
	if (rep.results == NULL)
		goto out;
	for (size_t i = 0; i < n_hits; i++) {
		Rpc__SearchResult *res = mbox_alloc(r, sizeof(*res));

		if (res == NULL)
			goto out;
		rpc__search_result__init(res);
		res->long_id = mbox_id_str(r, hits[i].item->id);
		res->collection_id = mbox_id_str(r, hits[i].folder);
		res->item_class = "Email";
		res->data = mbox_item_data(r, hits[i].item, q->body_preferences,
					   q->n_body_preferences, 0);
		if (res->long_id == NULL || res->collection_id == NULL ||
		    res->data == NULL)
			goto out;
		rep.results[rep.n_results++] = res;
	}
	rep.total = total;
	rep.status = RPC__STATUS__STATUS_OK;
	mbox_reply(r, &rep.base);
out:
	for (size_t i = 0; i < n_hits; i++)
		item_free(&hits[i].item);
	folder_list_free(&fl);
}
