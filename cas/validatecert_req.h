/*
 * The ValidateCert command's request and response (MS-ASCMD 2.2.1.22),
 * without I/O or cryptography.  The request carries the certificates to
 * validate (Certificates/Certificate, base64 DER, at most
 * VALIDATECERT_MAX_CERTS), optionally the intermediates to build their
 * chains from (CertificateChain/Certificate, at most
 * VALIDATECERT_MAX_CHAIN) and CheckCRL.  The response has the command's
 * Status and one Certificate/Status per certificate, in request order
 * (MS-ASCMD 2.2.3.177.18).  cas/certverify.c does the verification.
 */
#ifndef EASD_CAS_VALIDATECERT_REQ_H
#define EASD_CAS_VALIDATECERT_REQ_H

#include "proto/limits.h"
#include "proto/wbxml.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MS-ASCMD 2.2.3.177.18 Status (ValidateCert). */
enum validatecert_status {
	VALIDATECERT_STATUS_SUCCESS = 1,
	VALIDATECERT_STATUS_PROTOCOL_ERROR = 2,
	VALIDATECERT_STATUS_BAD_SIGNATURE = 3,    /* signature invalid */
	VALIDATECERT_STATUS_UNTRUSTED = 4,        /* issuer not trusted */
	VALIDATECERT_STATUS_BAD_CHAIN = 5,        /* chain not built */
	VALIDATECERT_STATUS_NOT_FOR_SIGNING = 6,  /* not for S/MIME */
	VALIDATECERT_STATUS_NOT_VALID_NOW = 7,    /* expired, not yet */
	VALIDATECERT_STATUS_BAD_NESTING = 8,      /* chain validity periods */
	VALIDATECERT_STATUS_USED_INCORRECTLY = 9, /* key usage */
	VALIDATECERT_STATUS_BAD_INFO = 10,        /* undecodable, missing */
	VALIDATECERT_STATUS_BAD_CA_USE = 11,      /* a CA misused in chain */
	VALIDATECERT_STATUS_EMAIL_MISMATCH = 12,
	VALIDATECERT_STATUS_REVOKED = 13,
	VALIDATECERT_STATUS_REVOCATION_OFFLINE = 14,
	VALIDATECERT_STATUS_CHAIN_REVOKED = 15, /* a CA of the chain */
	VALIDATECERT_STATUS_REVOCATION_UNKNOWN = 16,
	VALIDATECERT_STATUS_SERVER_ERROR = 17,
};

/* One certificate as sent: DER bytes, or empty when the base64 text did
 * not decode (that certificate gets Status 10, the others are checked). */
struct validatecert_cert {
	uint8_t *der; /* owned; NULL when undecodable */
	size_t len;
};

struct validatecert_request {
	struct validatecert_cert *certs; /* owned */
	size_t n_certs;
	struct validatecert_cert *chain; /* owned */
	size_t n_chain;
	bool check_crl;
};

/* -1 when the body is not a ValidateCert document: no Certificates or no
 * certificate in it, more than the limits, a certificate text longer than
 * a VALIDATECERT_MAX_CERT_BYTES DER can be, a CheckCRL other than 0/1.
 * The caller answers Status 2. */
int validatecert_req_decode(const uint8_t *body, size_t len,
			    struct validatecert_request *r);
void validatecert_req_clear(struct validatecert_request *r);

/* The response: Status, then a Certificate/Status per statuses[i]
 * (n == 0 for a whole-request failure). */
void validatecert_resp_encode(struct wbxml_enc *e,
			      enum validatecert_status status,
			      const enum validatecert_status *statuses,
			      size_t n);

#endif
