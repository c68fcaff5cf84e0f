/*
 * The GetItemEstimate command's request and response (MS-ASCMD 2.2.1.9),
 * without I/O.  Both request shapes are read: 12.1+ (airsync:SyncKey,
 * CollectionId, airsync:ConversationMode, airsync:Options with FilterType
 * and Class) and 2.5/12.0 (Class, CollectionId, airsync:FilterType and
 * airsync:SyncKey directly in the Collection).  At most
 * GIE_MAX_COLLECTIONS collections (MS-ASCMD 3.1.5.10: Status 103).
 * cmd_getitemestimate.c asks the mailbox for the numbers.
 */
#ifndef EASD_CAS_ESTIMATE_REQ_H
#define EASD_CAS_ESTIMATE_REQ_H

#include "proto/limits.h"
#include "proto/wbxml.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MS-ASCMD 2.2.3.177.7 GetItemEstimate status. */
enum estimate_status {
	ESTIMATE_STATUS_OK = 1,
	ESTIMATE_STATUS_INVALID_COLLECTION = 2, /* also invalid XML */
	ESTIMATE_STATUS_NOT_PRIMED = 3,         /* SyncKey 0: Sync first */
	ESTIMATE_STATUS_INVALID_SYNC_KEY = 4,
	ESTIMATE_STATUS_TOO_MANY = 103, /* common status: MS-ASCMD 3.1.5.10 */
};

struct estimate_collection {
	char sync_key[SYNC_MAX_KEY_BYTES + 1];
	char collection_id[SYNC_MAX_ID_BYTES + 1];
	char class[SYNC_MAX_CLASS_BYTES + 1];
	bool has_filter_type;
	uint32_t filter_type;
	bool conversation_mode;
};

struct estimate_request {
	size_t n_collections;
	struct estimate_collection *collections; /* owned */
};

/* -1 with *status_r (2 malformed, 103 too many collections). */
int estimate_req_decode(const uint8_t *body, size_t len,
			struct estimate_request *r,
			enum estimate_status *status_r);
void estimate_req_clear(struct estimate_request *r);

struct estimate_result {
	enum estimate_status status;
	uint32_t estimate;
};

/* The whole response: one Response per collection, in request order;
 * before 12.1 each Collection also names its Class (MS-ASCMD 2.2.3.27.3). */
int estimate_resp_encode(struct wbxml_enc *e, unsigned version,
			 const struct estimate_request *r,
			 const struct estimate_result *results);

#endif
