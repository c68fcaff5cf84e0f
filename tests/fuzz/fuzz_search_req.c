/*
 * libFuzzer target for cas/search_req.c, the Search and Find request
 * decoders.  The first input byte picks the decoder (even: Search, odd:
 * Find), the rest is the WBXML body, copied to an exact-size heap buffer
 * so that ASan sees any read past its end.  A decoded request must keep
 * its promises (NUL-terminated fields within their bounds, at most
 * SEARCH_MAX_COLLECTIONS folders, a Range with start <= end, a Mailbox
 * query with words or a ConversationId within its bound) and must turn
 * into an RPC request that packs; a refused one must carry a failure
 * status.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cas/search_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct search_req *r)
{
	struct search_req_rpc q;
	uint8_t *packed;
	size_t len;

	if (strnlen(r->text, sizeof(r->text)) == sizeof(r->text) ||
	    r->n_collections > SEARCH_MAX_COLLECTIONS ||
	    r->n_body_prefs > SYNC_MAX_BODY_PREFS ||
	    r->n_body_part_prefs > SYNC_MAX_BODY_PREFS ||
	    (r->has_range && r->range_start > r->range_end) ||
	    r->conversation_id_len > sizeof(r->conversation_id) ||
	    (r->store == SEARCH_REQ_STORE_MAILBOX && r->text[0] == '\0' &&
	     r->conversation_id_len == 0))
		abort();
	for (size_t i = 0; i < r->n_collections; i++)
		if (strnlen(r->collections[i], sizeof(r->collections[i])) ==
			sizeof(r->collections[i]) ||
		    r->collections[i][0] == '\0')
			abort();
	search_req_to_rpc(r, 1, "FUZZ", r->range_start, r->range_end, &q);
	len = protobuf_c_message_get_packed_size(&q.msg.base);
	packed = malloc(len + 1);
	if (packed == NULL)
		abort();
	if (protobuf_c_message_pack(&q.msg.base, packed) != len)
		abort();
	free(packed);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct search_req *r;
	uint8_t *body = NULL;

	if (size < 1)
		return 0;
	r = malloc(sizeof(*r));
	if (r == NULL)
		return 0;
	if (size > 1) {
		body = malloc(size - 1);
		if (body == NULL) {
			free(r);
			return 0;
		}
		memcpy(body, data + 1, size - 1);
	}
	if (data[0] % 2 == 0) {
		enum search_req_status st;

		if (search_req_decode(body, size - 1, r, &st) == 0) {
			if (st != SEARCH_REQ_OK)
				abort();
			check(r);
		} else if (st == SEARCH_REQ_OK) {
			abort();
		}
	} else {
		enum find_status st;

		if (find_req_decode(body, size - 1, r, &st) == 0) {
			if (st != FIND_STATUS_OK ||
			    r->store == SEARCH_REQ_STORE_DOCUMENT_LIBRARY ||
			    r->text[0] == '\0')
				abort();
			check(r);
		} else if (st == FIND_STATUS_OK) {
			abort();
		}
	}
	free(body);
	free(r);
	return 0;
}
