/*
 * libFuzzer target for cas/compose_req.c, the SendMail / SmartReply /
 * SmartForward request decoder.  The first input byte picks the command
 * (low two bits) and the form (bit 2: the raw pre-14.0 form, whose query
 * is the input up to the first NUL byte and whose body is the rest; else
 * the rest is a WBXML body).  Inputs are copied to exact-size heap
 * buffers so that ASan sees any read past their end.  A decoded request
 * must respect every bound it promises (ClientId, ids, Forwardees, MIME
 * size, a source for smart commands); a refused one must carry one of the
 * documented statuses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cas/compose_req.h"
#include "proto/limits.h"
#include "proto/wbxml_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct compose_req *r, enum compose_req_kind kind, bool raw)
{
	if (r->mime == NULL || r->mime_len == 0 ||
	    r->mime_len > COMPOSE_MAX_CLIENT_MIME_BYTES)
		abort();
	if (strlen(r->client_id) > COMPOSE_MAX_CLIENT_ID_BYTES ||
	    strlen(r->account_id) > COMPOSE_MAX_ACCOUNT_ID_BYTES ||
	    strlen(r->long_id) > COMPOSE_MAX_LONG_ID_BYTES ||
	    strlen(r->item_id) > COMPOSE_MAX_SOURCE_ID_BYTES ||
	    strlen(r->folder_id) > COMPOSE_MAX_SOURCE_ID_BYTES)
		abort();
	if (!raw && r->client_id[0] == 0)
		abort();
	if (kind != COMPOSE_REQ_SEND_MAIL && r->item_id[0] == 0 &&
	    r->long_id[0] == 0)
		abort();
	if (r->n_forwardees > COMPOSE_MAX_FORWARDEES ||
	    (r->n_forwardees > 0 && kind != COMPOSE_REQ_SMART_FORWARD))
		abort();
	for (size_t i = 0; i < r->n_forwardees; i++)
		if (r->forwardees[i].email[0] == 0 ||
		    strlen(r->forwardees[i].email) > COMPOSE_MAX_ADDRESS_BYTES)
			abort();
}

static void
run_raw(enum compose_req_kind kind, const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t qlen = nul != NULL ? (size_t)(nul - data) : size;
	size_t blen = nul != NULL ? size - qlen - 1 : 0;
	uint8_t *query = malloc(qlen + 1), *body = malloc(blen + 1);
	struct ashttp_headers hd = {.protocol_version = "12.1",
				    .policy_key = "1"};
	struct ashttp_request ash;
	struct ashttp_error err;
	struct compose_req r;
	unsigned st = 0;

	if (query == NULL || body == NULL)
		goto out;
	memcpy(query, data, qlen);
	if (blen > 0)
		memcpy(body, nul + 1, blen);
	if (ashttp_parse(query, qlen, &hd, &ash, &err) != 0)
		goto out;
	if (compose_req_from_raw(kind, &ash, blen > 0 ? body : NULL, blen, &r,
				 &st) == 0) {
		check(&r, kind, true);
		compose_req_clear(&r);
	} else if (st != 400 && st != 413) {
		abort();
	}
out:
	free(query);
	free(body);
}

static void
run_wbxml(enum compose_req_kind kind, const uint8_t *data, size_t size)
{
	uint8_t *body = malloc(size > 0 ? size : 1);
	struct wbxml_tree *tree = NULL;
	struct compose_req r;
	unsigned st = 0;

	if (body == NULL)
		return;
	if (size > 0)
		memcpy(body, data, size);
	if (wbxml_tree_parse(body, size, &tree, NULL, NULL) == 0) {
		if (compose_req_from_tree(kind, wbxml_tree_root(tree), &r,
					  &st) == 0) {
			check(&r, kind, false);
			compose_req_clear(&r);
		} else if (st != 103 && st != 107) {
			abort();
		}
	}
	wbxml_tree_free(&tree);
	free(body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum compose_req_kind kind;

	if (size < 1)
		return 0;
	kind = (enum compose_req_kind)((data[0] & 3) % 3);
	if (data[0] & 4)
		run_raw(kind, data + 1, size - 1);
	else
		run_wbxml(kind, data + 1, size - 1);
	return 0;
}
