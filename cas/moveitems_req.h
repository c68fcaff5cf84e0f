/*
 * The MoveItems command's request and response (MS-ASCMD 2.2.1.12),
 * without I/O.  A request is a list of Move elements, each with SrcMsgId,
 * SrcFldId and DstFldId (Move code page); at most MOVEITEMS_MAX_MOVES of
 * them (MS-ASCMD 3.1.5.10: Status 103 above).  A Move that lacks an id
 * keeps it empty: the command answers that one move with its own Status
 * and still performs the others.  cas/cmd_moveitems.c asks the mailbox to
 * move.
 */
#ifndef EASD_CAS_MOVEITEMS_REQ_H
#define EASD_CAS_MOVEITEMS_REQ_H

#include "proto/limits.h"
#include "proto/wbxml.h"

#include <stddef.h>
#include <stdint.h>

/* MS-ASCMD 2.2.3.177.10 MoveItems status, per Response. */
enum moveitems_status {
	MOVEITEMS_STATUS_INVALID_SOURCE = 1,
	MOVEITEMS_STATUS_INVALID_DESTINATION = 2,
	MOVEITEMS_STATUS_SUCCESS = 3,
	MOVEITEMS_STATUS_SAME_FOLDER = 4,
	MOVEITEMS_STATUS_FAILURE = 5,
	MOVEITEMS_STATUS_LOCKED = 7, /* retry */
};

/* Whole-request failures of the decoder.  From 14.0 both are answered
 * with the MoveItems element's own Status 103 (MS-ASCMD 2.2.2 InvalidXML,
 * and 3.1.5.10 for the limit); before 14.0 with HTTP 400. */
enum moveitems_error {
	MOVEITEMS_ERR_MALFORMED = 1, /* not a MoveItems document */
	MOVEITEMS_ERR_TOO_MANY = 2,  /* more than MOVEITEMS_MAX_MOVES */
};

struct moveitems_move {
	char src_msg_id[MOVEITEMS_MAX_ID_BYTES + 1];
	char src_fld_id[MOVEITEMS_MAX_ID_BYTES + 1];
	char dst_fld_id[MOVEITEMS_MAX_ID_BYTES + 1];
};

struct moveitems_request {
	size_t n_moves;
	struct moveitems_move *moves; /* owned */
};

/* -1 with *error_r when the body is not a MoveItems document (no Move, an
 * id longer than MOVEITEMS_MAX_ID_BYTES) or holds too many moves. */
int moveitems_req_decode(const uint8_t *body, size_t len,
			 struct moveitems_request *r,
			 enum moveitems_error *error_r);
void moveitems_req_clear(struct moveitems_request *r);

struct moveitems_result {
	enum moveitems_status status;
	char dst_msg_id[MOVEITEMS_MAX_ID_BYTES + 1]; /* with SUCCESS */
};

/* The response: one Response per Move, in request order, SrcMsgId
 * echoed, DstMsgId with Status 3 only. */
int moveitems_resp_encode(struct wbxml_enc *e,
			  const struct moveitems_request *r,
			  const struct moveitems_result *results);

#endif
