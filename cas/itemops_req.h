/*
 * The ItemOperations request (MS-ASCMD 2.2.1.10) decoded into plain
 * structures before cmd_itemoperations.c asks the mailbox anything.  The
 * body is a list of operations, answered in order, each with its own
 * status:
 *
 *  - Fetch (2.2.3.67.1): Store, then what to fetch -- an item by
 *    airsync:CollectionId + airsync:ServerId, an attachment by
 *    airsyncbase:FileReference, a Search result by search:LongId, or a
 *    documentlibrary:LinkId -- and Options (Schema, Range, UserName,
 *    Password, airsync:MIMESupport, airsyncbase:BodyPreference,
 *    airsyncbase:BodyPartPreference for 14.1+, rm:RightsManagementSupport);
 *  - EmptyFolderContents (2.2.3.58): airsync:CollectionId and
 *    Options/DeleteSubFolders;
 *  - Move (2.2.3.117.1, 14.0+): ConversationId, DstFldId and
 *    Options/MoveAlways.
 *
 * Failures are per operation where the spec allows (a Fetch with a bad
 * Range gets Status 8 and the others still run); a body that is not an
 * ItemOperations document, or more than ITEMOPS_MAX_OPERATIONS operations,
 * fails the whole request.  Every string is copied into a bounded field,
 * so the request does not keep the tree.
 */
#ifndef EASD_CAS_ITEMOPS_REQ_H
#define EASD_CAS_ITEMOPS_REQ_H

#include "cas/sync_req.h"
#include "proto/limits.h"
#include "proto/wbxml.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MS-ASCMD 2.2.3.177.8 Status (ItemOperations). */
enum itemops_status {
	ITEMOPS_STATUS_OK = 1,
	ITEMOPS_STATUS_PROTOCOL_ERROR = 2,
	ITEMOPS_STATUS_SERVER_ERROR = 3,
	ITEMOPS_STATUS_DL_BAD_URI = 4,
	ITEMOPS_STATUS_DL_ACCESS_DENIED = 5,
	ITEMOPS_STATUS_NOT_FOUND = 6, /* object not found or access denied */
	ITEMOPS_STATUS_DL_CONNECT_FAILED = 7,
	ITEMOPS_STATUS_BAD_RANGE = 8, /* byte range invalid or too large */
	ITEMOPS_STATUS_STORE_UNKNOWN = 9,
	ITEMOPS_STATUS_EMPTY_FILE = 10,
	ITEMOPS_STATUS_TOO_LARGE = 11,
	ITEMOPS_STATUS_IO_FAILURE = 12,
	ITEMOPS_STATUS_CONVERSION_FAILED = 14,
	ITEMOPS_STATUS_BAD_ATTACHMENT = 15, /* attachment id invalid */
	ITEMOPS_STATUS_BLOCKED = 16,
	ITEMOPS_STATUS_PARTIAL = 17, /* EmptyFolderContents partly done */
	ITEMOPS_STATUS_CREDENTIALS = 18,
	ITEMOPS_STATUS_MISSING_ELEMENTS = 155, /* protocol error */
	ITEMOPS_STATUS_NOT_SUPPORTED = 156,    /* action not supported */
	/* More than ITEMOPS_MAX_OPERATIONS: MS-ASCMD 3.1.5.10 names this
	 * command's own Status 11 (not the common 103 that GetItemEstimate
	 * and MoveItems use), so every version gets it. */
	ITEMOPS_STATUS_TOO_MANY = ITEMOPS_STATUS_TOO_LARGE,
};

enum itemops_kind {
	ITEMOPS_FETCH = 1,
	ITEMOPS_EMPTY_FOLDER,
	ITEMOPS_MOVE,
};

enum itemops_fetch_by {
	ITEMOPS_BY_ITEM = 1, /* CollectionId + ServerId */
	ITEMOPS_BY_FILE_REF, /* airsyncbase:FileReference */
	ITEMOPS_BY_LONG_ID,  /* search:LongId */
	ITEMOPS_BY_LINK,     /* documentlibrary:LinkId */
};

struct itemops_fetch {
	enum itemops_fetch_by by;
	char store[ITEMOPS_MAX_STORE_BYTES + 1];
	char collection_id[SYNC_MAX_ID_BYTES + 1];
	char server_id[SYNC_MAX_ID_BYTES + 1];
	char reference[ITEMOPS_MAX_REFERENCE_BYTES + 1]; /* FileReference,
							    LongId or LinkId */
	/* Options/Range (MS-ASCMD 2.2.3.140.1): inclusive byte offsets. */
	bool has_range;
	uint64_t range_first, range_last;
	bool has_mime_support;
	uint32_t mime_support;
	size_t n_body_prefs;
	struct sync_body_pref body_prefs[SYNC_MAX_BODY_PREFS];
	size_t n_body_part_prefs;
	struct sync_body_pref body_part_prefs[SYNC_MAX_BODY_PREFS];
	bool has_credentials; /* UserName / Password (document library) */
};

struct itemops_empty {
	char collection_id[SYNC_MAX_ID_BYTES + 1];
	bool delete_subfolders;
};

struct itemops_move {
	uint8_t conversation_id[ITEMOPS_MAX_CONVERSATION_ID_BYTES];
	size_t conversation_id_len;
	char dst_folder_id[SYNC_MAX_ID_BYTES + 1];
	bool move_always;
};

struct itemops_op {
	enum itemops_kind kind;
	/* ITEMOPS_STATUS_OK, or what decoding found wrong with this one
	 * operation (answered without asking the mailbox). */
	enum itemops_status status;
	union {
		struct itemops_fetch fetch;
		struct itemops_empty empty;
		struct itemops_move move;
	} u;
};

struct itemops_request {
	size_t n_ops;
	struct itemops_op *ops; /* owned */
};

/*
 * Decode body[0..len) for protocol version (x10).  -1 with *status_r when
 * the whole request fails: 2 (not an ItemOperations document, no
 * operation, unknown operation element) or ITEMOPS_STATUS_TOO_MANY.
 */
int itemops_req_decode(const uint8_t *body, size_t len, unsigned version,
		       struct itemops_request *r,
		       enum itemops_status *status_r);
void itemops_req_clear(struct itemops_request *r);

/* "m-n" (MS-ASCMD 2.2.3.140.1: m <= n, decimal) into inclusive bounds;
 * -1 when malformed. */
int itemops_parse_range(const char *text, uint64_t *first_r, uint64_t *last_r);

#endif
