/*
 * Search (MS-ASCMD 2.2.1.16) and Find (MS-ASCMD 2.2.1.2) on the mailbox
 * side.  Store "Mailbox": the request is answered from the store's
 * full-text index (mailbox/search.h, SQLite FTS5 over subject, sender,
 * recipients and body), optionally within one or more folders (with
 * DeepTraversal, their subtrees) and a date window (GreaterThan /
 * LessThan), newest first, with the device's Range of results and the
 * exact Total.  With a ConversationId (MS-ASCMD 2.2.3.35.2) only that
 * conversation's emails, from the conversation index (words optional).
 * Cost follows the matches, never the mailbox size.  Results
 * carry the item id as LongId (Fetch FETCH_LONG_ID resolves it in the same
 * user's store).  Store "GAL": the directory's users matched by prefix
 * of their names, alias, login and addresses, with their contact fields
 * (directory.h store_dir_gal_search).
 */
#include "mailbox/rpc_server.h"

#include <stdlib.h>
#include <string.h>

#include "mailbox/directory.h"
#include "mailbox/items.h"
#include "mailbox/search.h"
#include "proto/limits.h"

/* MS-ASCMD 2.2.3.140 Range: at most SEARCH_MAILBOX_MAX_RESULTS (100)
 * results per response (proto/limits.h). */
#define MBOX_SEARCH_MAX_RESULTS SEARCH_MAILBOX_MAX_RESULTS

/* MS-ASCMD 2.2.3.177.13: the Status inside gal:Picture. */
enum gal_picture_status {
	GAL_PICTURE_STATUS_OK = 1,
	GAL_PICTURE_STATUS_NONE = 173,      /* NoPicture */
	GAL_PICTURE_STATUS_TOO_LARGE = 174, /* PictureTooLarge */
	GAL_PICTURE_STATUS_LIMIT = 175,     /* PictureLimitReached */
};

/* STATUS_INVALID with the reason the CAS turns into Store Status 2, 8 or
 * 12 (MS-ASCMD 2.2.3.177.13). */
static void
reply_invalid(struct mbox_req *r, Rpc__SearchError error)
{
	Rpc__SearchReply rep;

	rpc__search_reply__init(&rep);
	rep.status = RPC__STATUS__STATUS_INVALID;
	rep.error = error;
	mbox_reply(r, &rep.base);
}

static Rpc__SearchError
search_error(enum search_status s)
{
	switch (s) {
	case SEARCH_TOO_COMPLEX:
		return RPC__SEARCH_ERROR__SEARCH_ERROR_TOO_COMPLEX;
	case SEARCH_RANGE:
		return RPC__SEARCH_ERROR__SEARCH_ERROR_RANGE;
	default:
		return RPC__SEARCH_ERROR__SEARCH_ERROR_BAD_REQUEST;
	}
}

void
mbox_rpc_search(struct mbox_req *r)
{
	Rpc__SearchRequest *q = (void *)r->msg;
	Rpc__SearchReply rep;
	struct search_query sq;
	struct search_result res = {0};
	/* The reply borrows strings from the items: freed after sending. */
	struct item *items[MBOX_SEARCH_MAX_RESULTS] = {0};
	int64_t more[SEARCH_MAX_COLLECTIONS];
	size_t n_items = 0;
	enum search_status sstatus;
	enum store_status status;
	struct store *st;
	int64_t only = 0;
	uint32_t first = q->range_start, last = q->range_end;
	unsigned get_flags = 0;

	rpc__search_reply__init(&rep);
	if (*q->collection_id != 0 && !mbox_parse_id(q->collection_id, &only)) {
		mbox_reply_status(r, RPC__STATUS__STATUS_NOT_FOUND,
				  "bad folder");
		return;
	}
	if (q->n_more_collection_ids > SEARCH_MAX_COLLECTIONS) {
		reply_invalid(r, RPC__SEARCH_ERROR__SEARCH_ERROR_TOO_COMPLEX);
		return;
	}
	for (size_t i = 0; i < q->n_more_collection_ids; i++) {
		if (only == 0 ||
		    !mbox_parse_id(q->more_collection_ids[i], &more[i])) {
			mbox_reply_status(r, RPC__STATUS__STATUS_NOT_FOUND,
					  "bad folder");
			return;
		}
	}
	if (*q->item_class != 0 && strcmp(q->item_class, "Email") != 0) {
		reply_invalid(r, RPC__SEARCH_ERROR__SEARCH_ERROR_BAD_REQUEST);
		return;
	}
	if (last == 0 && first == 0)
		last = MBOX_SEARCH_MAX_RESULTS - 1;
	if (last < first) {
		reply_invalid(r, RPC__SEARCH_ERROR__SEARCH_ERROR_BAD_REQUEST);
		return;
	}
	if (last - first >= MBOX_SEARCH_MAX_RESULTS) {
		reply_invalid(r, RPC__SEARCH_ERROR__SEARCH_ERROR_RANGE);
		return;
	}
	if (mbox_shard_store(r->ctx, r->user, &st, &status) < 0) {
		mbox_reply_store_error(r, status, "store unavailable");
		return;
	}
	/* MIME bodies (MIMESupport 2, a type-4 BodyPreference) need the
	 * raw message loaded with the item. */
	if (q->mime_support == 2)
		get_flags = STORE_GET_MIME;
	for (size_t i = 0; i < q->n_body_preferences; i++)
		if (q->body_preferences[i]->type == 4)
			get_flags = STORE_GET_MIME;
	memset(&sq, 0, sizeof(sq));
	sq.text = q->query;
	sq.folder_id = only;
	sq.more_folder_ids = more;
	sq.n_more_folder_ids = q->n_more_collection_ids;
	sq.deep_traversal = q->deep_traversal;
	sq.cls = ITEM_CLASS_EMAIL;
	sq.greater_than = q->greater_than;
	sq.less_than = q->less_than;
	sq.range_start = first;
	sq.range_end = last;
	/* MS-ASCMD 2.2.3.35.2: one conversation, from its index. */
	if (q->conversation_id.len > 0) {
		sq.conversation_id = q->conversation_id.data;
		sq.conversation_id_len = q->conversation_id.len;
	}
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
			reply_invalid(r, search_error(sstatus));
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
		if (store_item_get(st, res.hits[i].item_id, get_flags, &it) < 0)
			continue;
		rpc__search_result__init(out);
		out->long_id = mbox_id_str(r, it->id);
		out->collection_id = mbox_id_str(r, res.hits[i].folder_id);
		out->item_class = "Email";
		items[n_items++] = it;
		out->data =
		    mbox_item_data(r, it, q->body_preferences,
				   q->n_body_preferences, q->mime_support);
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

/* A directory GAL entry as the RPC's (MS-ASCMD 2.2.3.139.3 GAL
 * properties): the alias defaults to the login; -1 out of memory. */
static int
gal_entry_rpc(struct mbox_req *r, const struct dir_gal_entry *g,
	      Rpc__GalEntry *e)
{
	const char *const *f = (const char *const *)g->contact.f;
	const char *alias =
	    f[DIR_CONTACT_ALIAS] != NULL ? f[DIR_CONTACT_ALIAS] : g->login;
	struct {
		char **slot;
		const char *value;
	} map[] = {
	    {&e->display_name, g->display_name},
	    {&e->email_address, g->address},
	    {&e->alias, alias},
	    {&e->phone, f[DIR_CONTACT_PHONE]},
	    {&e->office, f[DIR_CONTACT_OFFICE]},
	    {&e->title, f[DIR_CONTACT_TITLE]},
	    {&e->company, f[DIR_CONTACT_COMPANY]},
	    {&e->first_name, f[DIR_CONTACT_FIRST_NAME]},
	    {&e->last_name, f[DIR_CONTACT_LAST_NAME]},
	    {&e->home_phone, f[DIR_CONTACT_HOME_PHONE]},
	    {&e->mobile_phone, f[DIR_CONTACT_MOBILE_PHONE]},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		*map[i].slot =
		    mbox_strdup(r, map[i].value != NULL ? map[i].value : "");
		if (*map[i].slot == NULL)
			return -1;
	}
	return 0;
}

/*
 * Options/Picture: each entry's Status and photo (MS-ASCMD 2.2.3.104.3
 * MaxPictures, 2.2.3.105.3 MaxSize): 173 without a photo, 174 above
 * MaxSize, 175 once MaxPictures photos (or GAL_MAX_PICTURE_REPLY_BYTES of
 * them) are in the reply, else 1 with the photo, loaded only then.  -1
 * on a store error other than a photo gone meanwhile, -2 out of memory.
 */
static int
gal_pictures(struct mbox_req *r, struct store_dir *dir,
	     const Rpc__GalSearchRequest *q, const struct dir_gal_entry *g,
	     Rpc__GalEntry **e, size_t n)
{
	size_t sent = 0, bytes = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t *data = NULL;
		size_t len = 0;

		if (g[i].photo_bytes == 0) {
			e[i]->picture_status = GAL_PICTURE_STATUS_NONE;
		} else if (q->picture_max_bytes > 0 &&
			   g[i].photo_bytes > q->picture_max_bytes) {
			e[i]->picture_status = GAL_PICTURE_STATUS_TOO_LARGE;
		} else if ((q->has_max_pictures && sent >= q->max_pictures) ||
			   bytes + g[i].photo_bytes >
			       GAL_MAX_PICTURE_REPLY_BYTES) {
			e[i]->picture_status = GAL_PICTURE_STATUS_LIMIT;
		} else if (store_dir_user_photo(dir, g[i].id, &data, &len) <
			   0) {
			if (store_dir_last_error(dir)->status !=
			    STORE_NOT_FOUND)
				return -1;
			e[i]->picture_status = GAL_PICTURE_STATUS_NONE;
		} else if ((q->picture_max_bytes > 0 &&
			    len > q->picture_max_bytes) ||
			   bytes + len > GAL_MAX_PICTURE_REPLY_BYTES) {
			/* Replaced by a larger one since the search. */
			free(data);
			e[i]->picture_status = GAL_PICTURE_STATUS_TOO_LARGE;
		} else {
			e[i]->picture.data = mbox_alloc(r, len);
			if (e[i]->picture.data == NULL) {
				free(data);
				return -2;
			}
			memcpy(e[i]->picture.data, data, len);
			e[i]->picture.len = len;
			free(data);
			e[i]->picture_status = GAL_PICTURE_STATUS_OK;
			sent++;
			bytes += len;
		}
	}
	return 0;
}

void
mbox_rpc_gal_search(struct mbox_req *r)
{
	Rpc__GalSearchRequest *q = (void *)r->msg;
	Rpc__GalSearchReply rep;
	struct dir_gal_entry *entries = NULL;
	enum store_status status;
	struct store_dir *dir;
	size_t count = 0, total = 0;
	uint32_t first = q->range_start, last = q->range_end;

	rpc__gal_search_reply__init(&rep);
	/* The range is inclusive and always given (the CAS applies the
	 * default): 0-0 is one entry, not "unset". */
	if (last < first || last - first >= GAL_MAX_RESULTS ||
	    q->query[0] == '\0' || strlen(q->query) > GAL_MAX_QUERY_BYTES) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "bad GAL query or range");
		return;
	}
	dir = mbox_shard_dir(r->ctx, &status);
	if (dir == NULL) {
		mbox_reply_store_error(r, status, "directory unavailable");
		return;
	}
	if (store_dir_gal_search(dir, q->query, first, last - first + 1,
				 &entries, &count, &total) < 0) {
		mbox_reply_store_error(r, store_dir_last_error(dir)->status,
				       store_dir_last_error(dir)->msg);
		return;
	}
	rep.entries = mbox_alloc(r, (count + 1) * sizeof(*rep.entries));
	if (rep.entries == NULL)
		goto out;
	for (size_t i = 0; i < count; i++) {
		Rpc__GalEntry *e = mbox_alloc(r, sizeof(*e));

		if (e == NULL)
			goto out;
		rpc__gal_entry__init(e);
		if (gal_entry_rpc(r, &entries[i], e) < 0)
			goto out;
		rep.entries[rep.n_entries++] = e;
	}
	if (q->pictures) {
		int rc = gal_pictures(r, dir, q, entries, rep.entries,
				      rep.n_entries);

		if (rc == -1)
			mbox_reply_store_error(
			    r, store_dir_last_error(dir)->status, "GAL photos");
		if (rc < 0)
			goto out;
	}
	rep.total = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
	rep.status = RPC__STATUS__STATUS_OK;
	mbox_reply(r, &rep.base);
out:
	/* Out of memory: run_request answers STATUS_INTERNAL. */
	dir_gal_entries_free(&entries, count);
}
