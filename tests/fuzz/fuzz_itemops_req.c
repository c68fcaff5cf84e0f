/*
 * libFuzzer target for cas/itemops_req.c, the ItemOperations request
 * decoder.  The first input byte picks the protocol version (12.0 ...
 * 16.1), the rest is the WBXML body, copied to an exact-size heap buffer
 * so that ASan sees any read past its end.  A decoded request must keep
 * the limits it promises (operation count, field lengths, a range with
 * first <= last, a known kind and status); a refused one must carry a
 * whole-request status.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cas/itemops_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned versions[] = {120, 121, 140, 141, 160, 161};

static void
check(const struct itemops_request *r)
{
	if (r->n_ops == 0 || r->n_ops > ITEMOPS_MAX_OPERATIONS)
		abort();
	for (size_t i = 0; i < r->n_ops; i++) {
		const struct itemops_op *op = &r->ops[i];

		switch (op->kind) {
		case ITEMOPS_FETCH:
			if (strlen(op->u.fetch.reference) >
				ITEMOPS_MAX_REFERENCE_BYTES ||
			    strlen(op->u.fetch.server_id) > SYNC_MAX_ID_BYTES ||
			    op->u.fetch.n_body_prefs > SYNC_MAX_BODY_PREFS ||
			    op->u.fetch.n_body_part_prefs >
				SYNC_MAX_BODY_PREFS ||
			    (op->u.fetch.has_range &&
			     op->u.fetch.range_first > op->u.fetch.range_last))
				abort();
			break;
		case ITEMOPS_EMPTY_FOLDER:
			if (strlen(op->u.empty.collection_id) >
			    SYNC_MAX_ID_BYTES)
				abort();
			break;
		case ITEMOPS_MOVE:
			if (op->u.move.conversation_id_len >
			    ITEMOPS_MAX_CONVERSATION_ID_BYTES)
				abort();
			break;
		default:
			abort();
		}
		if (op->status == 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct itemops_request r;
	enum itemops_status st;
	uint8_t *body;

	if (size == 0)
		return 0;
	body = malloc(size - 1 > 0 ? size - 1 : 1);
	if (body == NULL)
		return 0;
	memcpy(body, data + 1, size - 1);
	if (itemops_req_decode(
		body, size - 1,
		versions[data[0] % (sizeof(versions) / sizeof(versions[0]))],
		&r, &st) == 0) {
		check(&r);
		itemops_req_clear(&r);
	} else if (st != ITEMOPS_STATUS_PROTOCOL_ERROR &&
		   st != ITEMOPS_STATUS_TOO_MANY &&
		   st != ITEMOPS_STATUS_SERVER_ERROR) {
		abort();
	}
	free(body);
	return 0;
}
