/*
 * Full-text search over one user's mail, for EAS Search with Store=Mailbox
 * (MS-ASCMD 2.2.1.16) and Find (MS-ASCMD 2.2.1.2, 16.1).  The index is an
 * SQLite FTS5 table in the user's own database (schema.c, user migration
 * v2) over four columns of every email item: subject, sender (From display
 * name and address), recipients (To and Cc) and body (the text part, or the
 * HTML part stripped to text).  Triggers on the items table keep it in step
 * with every add, move, date or property change and delete, in the same
 * transaction as the item (reliability.md G1).
 *
 * A search answers item ids with their folder ids, newest DateReceived
 * first, one Range page at a time with the total number of matches; the
 * CAS fetches the properties through the item API (items.h).  It runs in
 * the user's database only (invariant 6).  The mapping of enum
 * search_status to rpc.proto's Status and to the EAS Search/Find Status
 * values is given beside each value.
 *
 * The user's words never reach FTS5 as syntax: search_query_compile builds
 * the MATCH expression itself, every term a quoted string, so quotes,
 * '*', NEAR, AND/OR/NOT, column filters and parentheses in the input are
 * only text.
 */
#ifndef EASD_MAILBOX_SEARCH_H
#define EASD_MAILBOX_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox/items.h"
#include "mailbox/store.h"
#include "proto/buf.h"

enum search_status {
	SEARCH_OK = 0,
	/* Malformed request: no words, Range start after end, a class
	 * that is not searchable.  EAS Search Status 2 (protocol error),
	 * Find Status 2; rpc STATUS_INVALID. */
	SEARCH_BAD_REQUEST,
	/* Query longer than SEARCH_MAX_QUERY_BYTES, with more than
	 * SEARCH_MAX_TERMS words, or a DeepTraversal scope of more than
	 * SEARCH_MAX_SCOPE_FOLDERS folders.  MS-ASCMD 2.2.3.177.13 Store Status
	 * 8 (the search query is too complex); rpc STATUS_INVALID. */
	SEARCH_TOO_COMPLEX,
	/* Range end beyond SEARCH_MAX_RANGE_INDEX.  Store Status 12 (end
	 * of retrievable range); rpc STATUS_INVALID. */
	SEARCH_RANGE,
	/* CollectionId names no live email folder of this user (another
	 * user's folder included, invariant 6); rpc STATUS_NOT_FOUND. */
	SEARCH_NOT_FOUND,
	/* The store failed: store_last_error has the storage status.
	 * Status 3 (server error); rpc STATUS_STORAGE_ERROR / BUSY. */
	SEARCH_STORE_ERROR,
};

/* "ok", "bad request", ...: for logs and easctl. */
const char *search_status_name(enum search_status status);

/* One search, as SearchRequest (proto/rpc.proto) carries it. */
struct search_query {
	/* The user's words (Search FreeText / Find FreeText), UTF-8.  Each
	 * word matches as a prefix; "double quotes" make an exact phrase. */
	const char *text;
	/* 0: every email folder; else that folder, and with deep_traversal
	 * its subfolders too (MS-ASCMD 2.2.3.41 DeepTraversal). */
	int64_t folder_id;
	/* More folders besides folder_id (several CollectionIds in one
	 * query), each with its subtree under deep_traversal; the whole
	 * scope is at most SEARCH_MAX_SCOPE_FOLDERS folders.  Ignored when
	 * folder_id is 0. */
	const int64_t *more_folder_ids;
	size_t n_more_folder_ids;
	bool deep_traversal;
	/* 0 or ITEM_CLASS_EMAIL: only email is indexed. */
	enum item_class cls;
	/* DateReceived bounds, unix seconds, exclusive; 0 = none
	 * (MS-ASCMD 2.2.3.79 GreaterThan, 2.2.3.93 LessThan). */
	int64_t greater_than;
	int64_t less_than;
	/* Range "m-n", both inclusive and zero-based (MS-ASCMD 2.2.3.143):
	 * 0 <= m <= n <= SEARCH_MAX_RANGE_INDEX. */
	uint32_t range_start;
	uint32_t range_end;
	/* MS-ASCMD 2.2.3.35.2 ConversationId: only the emails of this
	 * conversation (the index of mailbox/conversation.h), at most
	 * CONV_MAX_ID_BYTES; NULL: any.  With it, text may be NULL or empty:
	 * every member matches, newest first like words' matches, within the
	 * same folder scope and dates; with words, both must match. */
	const uint8_t *conversation_id;
	size_t conversation_id_len;
};

struct search_hit {
	int64_t item_id;
	int64_t folder_id;
};

/* A page of matches, owned by the caller (search_result_clear). */
struct search_result {
	struct search_hit *hits; /* newest first */
	size_t count;            /* hits returned, <= n - m + 1 */
	uint32_t total;          /* every match (Search/Find Total) */
};

void search_result_clear(struct search_result *r);

/*
 * Runs a query in st's database.  *result_r must be zeroed or hold an
 * earlier result, which is cleared first.  On 0, *result_r holds the hits of
 * the requested Range (none when m >= total) and the total; on -1, *status_r
 * says why (SEARCH_STORE_ERROR: see store_last_error) and *result_r is empty.
 * A query whose words hold no indexable character (only punctuation) is valid
 * and matches nothing.  There is no cached result set: every call searches
 * afresh, so RebuildResults (MS-ASCMD 2.2.3.151) needs nothing from the store.
 */
int store_search(struct store *st, const struct search_query *q,
		 struct search_result *result_r, enum search_status *status_r);

/*
 * Builds the FTS5 MATCH expression for the user's words text[0..len) into
 * out (appended): one quoted string per word, '*' after each word outside
 * quotes, a "phrase" for double-quoted words; '"' inside a word is
 * doubled and bytes that are not valid UTF-8 separate words.  *terms_r
 * gets the number of words emitted (0: nothing indexable).  Fails with
 * SEARCH_BAD_REQUEST when text holds nothing but spaces, and with
 * SEARCH_TOO_COMPLEX past SEARCH_MAX_QUERY_BYTES or SEARCH_MAX_TERMS.
 * Never reads past text + len; NUL bytes are spaces.
 */
int search_query_compile(const char *text, size_t len, struct buf *out,
			 size_t *terms_r, enum search_status *status_r);

/*
 * The text the index keeps for an HTML body: tags, comments, <script> and
 * <style> contents dropped, a few entities decoded, at most max_bytes
 * appended to out.  Bounded by the input; exposed for tests.
 */
int search_html_text(const char *html, size_t len, size_t max_bytes,
		     struct buf *out);

#endif
