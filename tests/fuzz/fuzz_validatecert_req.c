/*
 * libFuzzer target for cas/validatecert_req.c, the ValidateCert request
 * decoder, and the verifier behind it (cas/certverify.c: DER parsing and
 * chain building on whatever decoded).  The input is the WBXML body,
 * copied to an exact-size heap buffer so that ASan sees any read past its
 * end.  A decoded request must keep its promises (1..VALIDATECERT_MAX_CERTS
 * certificates, at most VALIDATECERT_MAX_CHAIN intermediates, each DER
 * within its bound), every verdict must be a status of the table, and the
 * response must encode; a refused one must leave nothing allocated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cas/certverify.h"
#include "cas/validatecert_req.h"
#include "proto/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct certverify *cv = certverify_default();
	struct validatecert_request r;
	enum validatecert_status *st;
	uint8_t *body = NULL;
	struct wbxml_enc e;
	struct buf b;

	if (cv == NULL)
		abort();
	if (size > 0) {
		body = malloc(size);
		if (body == NULL)
			return 0;
		memcpy(body, data, size);
	}
	if (validatecert_req_decode(body, size, &r) != 0) {
		if (r.certs != NULL || r.n_certs != 0 || r.chain != NULL ||
		    r.n_chain != 0)
			abort();
		free(body);
		return 0;
	}
	if (r.n_certs == 0 || r.n_certs > VALIDATECERT_MAX_CERTS ||
	    r.n_chain > VALIDATECERT_MAX_CHAIN)
		abort();
	st = calloc(r.n_certs, sizeof(*st));
	if (st == NULL)
		abort();
	for (size_t i = 0; i < r.n_certs; i++) {
		if (r.certs[i].len > VALIDATECERT_MAX_CERT_BYTES ||
		    (r.certs[i].der == NULL) != (r.certs[i].len == 0))
			abort();
		/* A fixed time keeps runs reproducible. */
		st[i] = certverify_check(cv, r.certs[i].der, r.certs[i].len,
					 r.chain, r.n_chain, r.check_crl,
					 1800000000);
		if (st[i] < VALIDATECERT_STATUS_SUCCESS ||
		    st[i] > VALIDATECERT_STATUS_SERVER_ERROR)
			abort();
	}
	buf_init(&b, 1u << 16);
	wbxml_enc_init_buf(&e, &b);
	validatecert_resp_encode(&e, VALIDATECERT_STATUS_SUCCESS, st,
				 r.n_certs);
	if (wbxml_enc_finish(&e) != 0)
		abort();
	buf_free(&b);
	free(st);
	validatecert_req_clear(&r);
	free(body);
	return 0;
}
