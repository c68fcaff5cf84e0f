/*
 * S/MIME certificate validation for the ValidateCert command (MS-ASCMD
 * 2.2.1.22), on OpenSSL's X509 verifier.  Trust anchors are the system's
 * (OpenSSL's default paths, /etc/ssl/certs on Debian) plus an optional
 * PEM file ([cas] smime_ca_file); revocation is checked, when the client
 * asks with CheckCRL, against CRLs from [cas] smime_crl_file.  The CAS
 * never fetches a CRL or asks an OCSP responder itself: a handler must
 * not block an HTTP thread on the network, and a phone that wants an
 * online check gets an honest "revocation status not validated"
 * (Status 16) for an issuer with no local CRL.
 *
 * Threads: the verifier is read-only once built and shared by all HTTP
 * threads (X509_STORE lookups take OpenSSL's own locks).
 */
#ifndef EASD_CAS_CERTVERIFY_H
#define EASD_CAS_CERTVERIFY_H

#include "cas/validatecert_req.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct certverify;

/* ca_file and crl_file may be NULL.  -1 with a malloc'd *error_r naming
 * the file that could not be read. */
int certverify_new(const char *ca_file, const char *crl_file,
		   struct certverify **cv_r, char **error_r);
void certverify_free(struct certverify **cv);

/*
 * Validate one DER certificate for S/MIME signing at time `now` (Unix
 * seconds), building its chain from the trust anchors and the given
 * intermediates (entries with der == NULL are skipped).  Returns the
 * MS-ASCMD 2.2.3.177.18 status of that certificate.
 */
enum validatecert_status certverify_check(const struct certverify *cv,
					  const uint8_t *der, size_t len,
					  const struct validatecert_cert *chain,
					  size_t n_chain, bool check_crl,
					  int64_t now);

/* The process-wide verifier used by the ValidateCert command: set once
 * at start-up (cas/main.c); when never set, the first request builds one
 * with the system's anchors only. */
void certverify_set_default(struct certverify *cv);
const struct certverify *certverify_default(void);

#endif
