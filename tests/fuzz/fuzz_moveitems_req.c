/*
 * libFuzzer target for cas/moveitems_req.c, the MoveItems request decoder.
 * The input is the WBXML body, copied to an exact-size heap buffer so that
 * ASan sees any read past its end.  A decoded request must keep its
 * promises (1..MOVEITEMS_MAX_MOVES moves, ids within their bound) and its
 * response must encode; a refused one must leave nothing allocated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cas/moveitems_req.h"
#include "proto/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct moveitems_request r;
	struct moveitems_result *res;
	enum moveitems_error err;
	uint8_t *body = NULL;
	struct wbxml_enc e;
	struct buf b;

	if (size > 0) {
		body = malloc(size);
		if (body == NULL)
			return 0;
		memcpy(body, data, size);
	}
	if (moveitems_req_decode(body, size, &r, &err) != 0) {
		if (r.moves != NULL || r.n_moves != 0 ||
		    (err != MOVEITEMS_ERR_MALFORMED &&
		     err != MOVEITEMS_ERR_TOO_MANY))
			abort();
		free(body);
		return 0;
	}
	if (r.n_moves == 0 || r.n_moves > MOVEITEMS_MAX_MOVES)
		abort();
	res = calloc(r.n_moves, sizeof(*res));
	if (res == NULL)
		abort();
	for (size_t i = 0; i < r.n_moves; i++) {
		if (strlen(r.moves[i].src_msg_id) > MOVEITEMS_MAX_ID_BYTES ||
		    strlen(r.moves[i].src_fld_id) > MOVEITEMS_MAX_ID_BYTES ||
		    strlen(r.moves[i].dst_fld_id) > MOVEITEMS_MAX_ID_BYTES)
			abort();
		res[i].status = i % 2 ? MOVEITEMS_STATUS_SUCCESS
				      : MOVEITEMS_STATUS_INVALID_SOURCE;
		memcpy(res[i].dst_msg_id, r.moves[i].src_msg_id,
		       sizeof(res[i].dst_msg_id));
	}
	buf_init(&b, 1u << 20);
	wbxml_enc_init_buf(&e, &b);
	if (moveitems_resp_encode(&e, &r, res) != 0 ||
	    wbxml_enc_finish(&e) != 0)
		abort();
	buf_free(&b);
	free(res);
	moveitems_req_clear(&r);
	free(body);
	return 0;
}
