/*
 * The request side of Search (MS-ASCMD 2.2.1.16) and Find (MS-ASCMD
 * 2.2.1.2, 16.1), without I/O: both are decoded into one struct
 * search_req that cas/cmd_search.c and cas/cmd_find.c hand to the mailbox
 * (store "Mailbox": the full-text index; store "GAL": the directory).
 *
 * Search Mailbox queries are a tree of And / Or over FreeText,
 * airsync:Class, airsync:CollectionId, ConversationId and GreaterThan /
 * LessThan on email:DateReceived (MS-ASCMD 2.2.3.128 Query).  The index
 * answers one conjunction: the words of every FreeText, within the union
 * of the CollectionIds, within the date window.  So And nodes flatten; an
 * Or whose branches are only CollectionId or Class widens the scope; any
 * other Or (of words or dates) and trees deeper than SEARCH_MAX_QUERY_DEPTH
 * or with more than SEARCH_MAX_CONDITIONS leaves are "too complex" (Store
 * Status 8), the status Exchange gives for queries it cannot run.
 * ConversationId (MS-ASCMD 2.2.3.35.2, 14.0+) narrows the conjunction to
 * one conversation, answered from the mailbox's conversation index; words
 * are then optional.  It is allowed only as a child of And (elsewhere
 * Status 8, as the spec says) and once (a second one: Status 2).
 * Everything else that is not the schema is a protocol error (Status 2).
 */
#ifndef EASD_CAS_SEARCH_REQ_H
#define EASD_CAS_SEARCH_REQ_H

#include "cas/sync_req.h"
#include "proto/limits.h"
#include "proto/rpc.pb-c.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MS-ASCMD 2.2.3.177.13 Search Status (of Search and of its Store). */
enum search_req_status {
	SEARCH_REQ_OK = 1,
	SEARCH_REQ_PROTOCOL_ERROR = 2,
	SEARCH_REQ_SERVER_ERROR = 3,
	SEARCH_REQ_ACCESS_DENIED = 5,
	SEARCH_REQ_TOO_COMPLEX = 8,
	SEARCH_REQ_FOLDERSYNC_REQUIRED = 11,
	SEARCH_REQ_RANGE = 12, /* end of retrievable range exceeded */
};

/* MS-ASCMD 2.2.3.177.2 Find Status. */
enum find_status {
	FIND_STATUS_OK = 1,
	FIND_STATUS_INVALID_REQUEST = 2,
	FIND_STATUS_FOLDERSYNC_REQUIRED = 3,
};

enum search_req_store {
	SEARCH_REQ_STORE_MAILBOX = 1,
	SEARCH_REQ_STORE_GAL,
	SEARCH_REQ_STORE_DOCUMENT_LIBRARY,
};

struct search_req {
	enum search_req_store store;
	/* Mailbox: the words of every FreeText, space-separated (each
	 * word must match).  GAL: the Query text. */
	char text[SEARCH_MAX_QUERY_BYTES + 1];
	size_t n_collections;
	char collections[SEARCH_MAX_COLLECTIONS][SYNC_MAX_ID_BYTES + 1];
	/* DateReceived bounds, Unix seconds, exclusive; 0 = none. */
	int64_t greater_than;
	int64_t less_than;
	/* Range "m-n" (MS-ASCMD 2.2.3.143); absent: the store's default. */
	bool has_range;
	uint32_t range_start;
	uint32_t range_end;
	bool deep_traversal;
	bool rebuild_results; /* nothing is cached: every search is fresh */
	size_t n_body_prefs;
	struct sync_body_pref body_prefs[SYNC_MAX_BODY_PREFS];
	size_t n_body_part_prefs;
	struct sync_body_pref body_part_prefs[SYNC_MAX_BODY_PREFS];
	bool has_mime_support;
	uint32_t mime_support;
	/* Mailbox: ConversationId as sent (opaque or string bytes), 0 bytes
	 * when absent. */
	size_t conversation_id_len;
	uint8_t conversation_id[SEARCH_MAX_CONVERSATION_ID_BYTES];
	/* Find only: the client's SearchId, echoed nowhere but logged. */
	char search_id[FIND_MAX_SEARCH_ID_BYTES + 1];
	/* GAL: Options/Picture (MS-ASCMD 2.2.3.135.3 / .1, 14.1+) with
	 * MaxSize (bytes; 0: none given) and MaxPictures. */
	bool picture;
	uint32_t picture_max_bytes;
	bool has_max_pictures;
	uint32_t max_pictures;
};

/* Search: 0, or -1 with *status_r (2, 8; the whole command's status). */
int search_req_decode(const uint8_t *body, size_t len, struct search_req *r,
		      enum search_req_status *status_r);
/* Find: 0, or -1 with *status_r (FIND_STATUS_INVALID_REQUEST; a query
 * Find cannot run is invalid too: Find has no "too complex"). */
int find_req_decode(const uint8_t *body, size_t len, struct search_req *r,
		    enum find_status *status_r);
/* The mailbox's SearchRequest for a Mailbox search or Find of page
 * [first, last]; it points into r and into this struct, which must
 * outlive the mbox_call (that packs it). */
struct search_req_rpc {
	Rpc__SearchRequest msg;
	Rpc__BodyPreference prefs[SYNC_MAX_BODY_PREFS];
	Rpc__BodyPreference *pref_ptrs[SYNC_MAX_BODY_PREFS];
	char *more[SEARCH_MAX_COLLECTIONS];
};

void search_req_to_rpc(const struct search_req *r, uint64_t user,
		       const char *device_id, uint32_t first, uint32_t last,
		       struct search_req_rpc *out);

/* "m-n" with 0 <= m <= n, both decimal of at most 9 digits; -1 else. */
int search_req_parse_range(const char *text, uint32_t *start_r,
			   uint32_t *end_r);

#endif
