/*
 * The ValidateCert command (MS-ASCMD 2.2.1.22): a phone that received
 * S/MIME mail asks whether the sender's certificate is good.  Each
 * certificate of the request is verified against the CAS's trust anchors
 * and local CRLs (cas/certverify.h) with the request's CertificateChain
 * as intermediates, and answered with its own Status; the command's
 * Status is 1 when the request was understood (each certificate carries
 * its verdict), 2 for a malformed request.  No mailbox call: the work is
 * CPU only, a few hundred microseconds per certificate, bounded by
 * VALIDATECERT_MAX_CERTS, and done on the HTTP thread.
 */
#include "cas/certverify.h"
#include "cas/dispatch.h"
#include "cas/request.h"
#include "cas/validatecert_req.h"
#include "cas/wbxml_resp.h"

#include <stdlib.h>
#include <time.h>

static void
respond(struct cas_request *r, enum validatecert_status status,
	const enum validatecert_status *statuses, size_t n)
{
	struct cas_wbxml_out out;

	cas_wbxml_out_init(&out);
	validatecert_resp_encode(&out.enc, status, statuses, n);
	cas_request_send(r, &out);
}

static void
validatecert_run(struct cas_request *r)
{
	const struct certverify *cv = certverify_default();
	struct validatecert_request q;
	enum validatecert_status *st;
	const uint8_t *body;
	size_t len;
	int64_t now = (int64_t)time(NULL);

	body = cas_req_body(r->req, &len);
	if (validatecert_req_decode(body, len, &q) != 0) {
		respond(r, VALIDATECERT_STATUS_PROTOCOL_ERROR, NULL, 0);
		return;
	}
	st = calloc(q.n_certs, sizeof(*st));
	if (st == NULL || cv == NULL) {
		free(st);
		validatecert_req_clear(&q);
		respond(r, VALIDATECERT_STATUS_SERVER_ERROR, NULL, 0);
		return;
	}
	for (size_t i = 0; i < q.n_certs; i++)
		st[i] = certverify_check(cv, q.certs[i].der, q.certs[i].len,
					 q.chain, q.n_chain, q.check_crl, now);
	respond(r, VALIDATECERT_STATUS_SUCCESS, st, q.n_certs);
	free(st);
	validatecert_req_clear(&q);
}

static void
validatecert_handler(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, validatecert_run);
}

/* MS-ASCMD 2.2.3.195: every protocol version. */
CAS_COMMAND(validatecert_command, .name = "ValidateCert", .min_version = 25,
	    .needs_policy_key = true, .handler = validatecert_handler)
