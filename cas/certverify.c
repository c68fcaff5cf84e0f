/*
 * OpenSSL X509 verification mapped to ValidateCert statuses; see
 * certverify.h.
 */
#include "cas/certverify.h"
#include "proto/buf.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdlib.h>

struct certverify {
	X509_STORE *store;
	bool have_crls;
};

static char *
errorf(const char *what, const char *path)
{
	struct buf b;
	unsigned long e = ERR_get_error();
	char reason[256];

	ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	buf_init(&b, 256);
	(void)buf_printf(&b, "%s %s: %s", what, path,
			 e != 0 ? reason : "no usable entry");
	return (char *)buf_steal(&b, NULL);
}

int
certverify_new(const char *ca_file, const char *crl_file,
	       struct certverify **cv_r, char **error_r)
{
	struct certverify *cv = calloc(1, sizeof(*cv));

	*cv_r = NULL;
	if (cv == NULL || (cv->store = X509_STORE_new()) == NULL) {
		free(cv);
		*error_r = errorf("cannot create", "the certificate store");
		return -1;
	}
	/* Missing system paths are not an error: the store is then empty
	 * and every certificate is "untrusted" unless smime_ca_file says
	 * otherwise. */
	(void)X509_STORE_set_default_paths(cv->store);
	ERR_clear_error();
	if (ca_file != NULL && ca_file[0] != '\0' &&
	    X509_STORE_load_file(cv->store, ca_file) != 1) {
		*error_r = errorf("[cas] smime_ca_file: cannot load", ca_file);
		certverify_free(&cv);
		return -1;
	}
	if (crl_file != NULL && crl_file[0] != '\0') {
		X509_LOOKUP *lu =
		    X509_STORE_add_lookup(cv->store, X509_LOOKUP_file());

		if (lu == NULL ||
		    X509_load_crl_file(lu, crl_file, X509_FILETYPE_PEM) <= 0) {
			*error_r = errorf("[cas] smime_crl_file: cannot load",
					  crl_file);
			certverify_free(&cv);
			return -1;
		}
		cv->have_crls = true;
	}
	*cv_r = cv;
	return 0;
}

void
certverify_free(struct certverify **cv)
{
	if (cv == NULL || *cv == NULL)
		return;
	X509_STORE_free((*cv)->store);
	free(*cv);
	*cv = NULL;
}

/* X509_V_ERR_* at a depth to the MS-ASCMD 2.2.3.177.18 status. */
static enum validatecert_status
map_error(int err, int depth)
{
	switch (err) {
	case X509_V_OK:
		return VALIDATECERT_STATUS_SUCCESS;
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
	case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
		return VALIDATECERT_STATUS_BAD_SIGNATURE;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
		return VALIDATECERT_STATUS_UNTRUSTED;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:
		return VALIDATECERT_STATUS_BAD_CHAIN;
	case X509_V_ERR_INVALID_PURPOSE:
		return VALIDATECERT_STATUS_NOT_FOR_SIGNING;
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
	case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
		/* An expired CA makes the chain's periods not nest around
		 * the leaf's. */
		return depth == 0 ? VALIDATECERT_STATUS_NOT_VALID_NOW
				  : VALIDATECERT_STATUS_BAD_NESTING;
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
	case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
		return VALIDATECERT_STATUS_USED_INCORRECTLY;
	case X509_V_ERR_INVALID_CA:
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
		return VALIDATECERT_STATUS_BAD_CA_USE;
	case X509_V_ERR_CERT_REVOKED:
		return depth == 0 ? VALIDATECERT_STATUS_REVOKED
				  : VALIDATECERT_STATUS_CHAIN_REVOKED;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
		return VALIDATECERT_STATUS_REVOCATION_UNKNOWN;
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
		return VALIDATECERT_STATUS_REVOCATION_OFFLINE;
	default:
		return VALIDATECERT_STATUS_BAD_CHAIN;
	}
}

/* CheckCRL 0: a certificate whose issuer has no CRL here passes the
 * revocation step (every other error still counts). */
static int
ignore_missing_crl(int ok, X509_STORE_CTX *ctx)
{
	if (!ok &&
	    X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNABLE_TO_GET_CRL) {
		X509_STORE_CTX_set_error(ctx, X509_V_OK);
		return 1;
	}
	return ok;
}

static X509 *
parse_der(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;

	if (der == NULL || len == 0 || len > VALIDATECERT_MAX_CERT_BYTES)
		return NULL;
	x = d2i_X509(NULL, &p, (long)len);
	/* Trailing bytes after the certificate: not a certificate. */
	if (x != NULL && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	ERR_clear_error();
	return x;
}

enum validatecert_status
certverify_check(const struct certverify *cv, const uint8_t *der, size_t len,
		 const struct validatecert_cert *chain, size_t n_chain,
		 bool check_crl, int64_t now)
{
	enum validatecert_status st = VALIDATECERT_STATUS_SERVER_ERROR;
	X509 *leaf = parse_der(der, len);
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	int rc;

	if (leaf == NULL)
		return VALIDATECERT_STATUS_BAD_INFO;
	untrusted = sk_X509_new_null();
	ctx = X509_STORE_CTX_new();
	if (untrusted == NULL || ctx == NULL)
		goto out;
	for (size_t i = 0; i < n_chain; i++) {
		X509 *x = parse_der(chain[i].der, chain[i].len);

		if (x != NULL && sk_X509_push(untrusted, x) <= 0) {
			X509_free(x);
			goto out;
		}
	}
	if (X509_STORE_CTX_init(ctx, cv->store, leaf, untrusted) != 1)
		goto out;
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, (time_t)now);
	/* MS-ASCMD 2.2.1.22: a digital ID received in S/MIME mail. */
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SMIME_SIGN);
	/* 2.2.1.22: the server MUST check that nothing in the chain is
	 * revoked, so the local CRLs are always consulted; 2.2.3.26: with
	 * CheckCRL 0 an unverifiable status (no CRL for an issuer) SHOULD
	 * be ignored, with 1 it MUST NOT (Status 16). */
	if (cv->have_crls || check_crl) {
		X509_VERIFY_PARAM_set_flags(
		    param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
		if (!check_crl)
			X509_STORE_CTX_set_verify_cb(ctx, ignore_missing_crl);
	}
	rc = X509_verify_cert(ctx);
	st = rc == 1 ? VALIDATECERT_STATUS_SUCCESS
		     : map_error(X509_STORE_CTX_get_error(ctx),
				 X509_STORE_CTX_get_error_depth(ctx));
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	return st;
}

/* ------------------------------------------------------------ default */

static struct certverify *default_cv;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void
default_build(void)
{
	char *err = NULL;

	if (default_cv == NULL &&
	    certverify_new(NULL, NULL, &default_cv, &err) != 0)
		free(err);
}

void
certverify_set_default(struct certverify *cv)
{
	default_cv = cv;
}

const struct certverify *
certverify_default(void)
{
	(void)pthread_once(&default_once, default_build);
	return default_cv;
}
