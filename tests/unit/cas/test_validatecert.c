/*
 * ValidateCert: request decoding (base64 with line breaks, limits,
 * malformed documents), the verifier's verdict per certificate against a
 * CA hierarchy made here with OpenSSL (good, no chain, untrusted root,
 * expired, wrong purpose, bad signature, revoked, CRL missing with and
 * without CheckCRL, garbage), and the command end to end through the CAS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cas/certverify.h"
#include "cas/validatecert_req.h"
#include "proto/base64.h"
#include "proto/buf.h"
#include "proto/wbxml.h"
#include "tests/unit/cas/cas_harness.h"

struct pki {
	EVP_PKEY *root_key, *inter_key, *leaf_key, *other_key;
	X509 *root, *inter, *leaf, *expired, *server, *forged, *revoked;
	X509 *other_root, *other_leaf;
	char dir[64], ca_file[96], crl_file[96];
};

static struct pki pki;

static void
ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* A certificate for key, issued by issuer (NULL: self-signed) and signed
 * with sign_key; valid from nb to na seconds from now. */
static X509 *
mk(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *sign_key, bool ca,
   const char *eku, long nb, long na, long serial)
{
	X509 *x = X509_new();
	X509_NAME *n;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), nb);
	X509_gmtime_adj(X509_getm_notAfter(x), na);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer)
					       : n);
	ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	ext(x, issuer != NULL ? issuer : x, NID_key_usage,
	    ca ? "critical,keyCertSign,cRLSign"
	       : "critical,digitalSignature,keyEncipherment");
	if (eku != NULL)
		ext(x, issuer != NULL ? issuer : x, NID_ext_key_usage, eku);
	if (!ca)
		ext(x, issuer, NID_subject_alt_name, "email:ann@example.org");
	assert_true(X509_sign(x, sign_key, EVP_sha256()) > 0);
	return x;
}

static void
write_pem_cert(FILE *f, X509 *x)
{
	assert_int_equal(PEM_write_X509(f, x), 1);
}

/* A CRL of issuer listing `revoked` serials. */
static void
write_crl(FILE *f, X509 *issuer, EVP_PKEY *key, const long *revoked, size_t n)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();

	assert_non_null(crl);
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	X509_gmtime_adj(t, -3600);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, 86400);
	X509_CRL_set1_nextUpdate(crl, t);
	for (size_t i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *serial = ASN1_INTEGER_new();

		ASN1_INTEGER_set(serial, revoked[i]);
		X509_REVOKED_set_serialNumber(r, serial);
		X509_gmtime_adj(t, -60);
		X509_REVOKED_set_revocationDate(r, t);
		X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(serial);
	}
	X509_CRL_sort(crl);
	assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	assert_int_equal(PEM_write_X509_CRL(f, crl), 1);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
}

static int
setup(void **state)
{
	FILE *f;
	const long revoked_serial = 7;

	(void)state;
	(void)snprintf(pki.dir, sizeof(pki.dir), "/tmp/easd-vc-XXXXXX");
	if (mkdtemp(pki.dir) == NULL)
		return -1;
	pki.root_key = EVP_EC_gen("P-256");
	pki.inter_key = EVP_EC_gen("P-256");
	pki.leaf_key = EVP_EC_gen("P-256");
	pki.other_key = EVP_EC_gen("P-256");
	pki.root = mk("Test Root", pki.root_key, NULL, pki.root_key, true, NULL,
		      -86400, 86400L * 3650, 1);
	pki.inter = mk("Test Intermediate", pki.inter_key, pki.root,
		       pki.root_key, true, NULL, -86400, 86400L * 1000, 2);
	pki.leaf = mk("Ann", pki.leaf_key, pki.inter, pki.inter_key, false,
		      "emailProtection", -3600, 86400L * 365, 3);
	pki.expired = mk("Old Ann", pki.leaf_key, pki.inter, pki.inter_key,
			 false, "emailProtection", -86400L * 30, -86400, 4);
	pki.server = mk("www.example.org", pki.leaf_key, pki.inter,
			pki.inter_key, false, "serverAuth", -3600, 86400, 5);
	/* Names the intermediate as issuer, signed by a stranger's key. */
	pki.forged = mk("Mallory", pki.leaf_key, pki.inter, pki.other_key,
			false, "emailProtection", -3600, 86400, 6);
	pki.revoked =
	    mk("Revoked Ann", pki.leaf_key, pki.inter, pki.inter_key, false,
	       "emailProtection", -3600, 86400, revoked_serial);
	pki.other_root = mk("Other Root", pki.other_key, NULL, pki.other_key,
			    true, NULL, -86400, 86400L * 3650, 1);
	pki.other_leaf = mk("Eve", pki.leaf_key, pki.other_root, pki.other_key,
			    false, "emailProtection", -3600, 86400, 8);
	(void)snprintf(pki.ca_file, sizeof(pki.ca_file), "%s/ca.pem", pki.dir);
	(void)snprintf(pki.crl_file, sizeof(pki.crl_file), "%s/crl.pem",
		       pki.dir);
	f = fopen(pki.ca_file, "w");
	if (f == NULL)
		return -1;
	write_pem_cert(f, pki.root);
	fclose(f);
	f = fopen(pki.crl_file, "w");
	if (f == NULL)
		return -1;
	write_crl(f, pki.root, pki.root_key, NULL, 0);
	write_crl(f, pki.inter, pki.inter_key, &revoked_serial, 1);
	fclose(f);
	return 0;
}

static int
teardown(void **state)
{
	X509 *all[] = {pki.root,    pki.inter,      pki.leaf,
		       pki.expired, pki.server,     pki.forged,
		       pki.revoked, pki.other_root, pki.other_leaf};
	char cmd[128];

	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		X509_free(all[i]);
	EVP_PKEY_free(pki.root_key);
	EVP_PKEY_free(pki.inter_key);
	EVP_PKEY_free(pki.leaf_key);
	EVP_PKEY_free(pki.other_key);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* DER of x in a validatecert_cert (owned by the caller). */
static struct validatecert_cert
der_of(X509 *x)
{
	struct validatecert_cert c = {0};
	unsigned char *p = NULL;
	int n = i2d_X509(x, &p);

	assert_true(n > 0);
	c.der = malloc((size_t)n);
	assert_non_null(c.der);
	memcpy(c.der, p, (size_t)n);
	c.len = (size_t)n;
	OPENSSL_free(p);
	return c;
}

static enum validatecert_status
check(const struct certverify *cv, X509 *x, X509 *intermediate, bool check_crl)
{
	struct validatecert_cert leaf = der_of(x), chain = {0};
	enum validatecert_status st;

	if (intermediate != NULL)
		chain = der_of(intermediate);
	st = certverify_check(cv, leaf.der, leaf.len, &chain,
			      intermediate != NULL ? 1 : 0, check_crl,
			      (int64_t)time(NULL));
	free(leaf.der);
	free(chain.der);
	return st;
}

static void
test_verdicts(void **state)
{
	struct certverify *cv = NULL, *crl = NULL;
	char *err = NULL;
	static const uint8_t garbage[] = {0x30, 0x03, 0x02, 0x01, 0x01};

	(void)state;
	assert_int_equal(certverify_new(pki.ca_file, NULL, &cv, &err), 0);
	assert_int_equal(check(cv, pki.leaf, pki.inter, false),
			 VALIDATECERT_STATUS_SUCCESS);
	/* No intermediate sent and none known: the issuer is unknown. */
	assert_int_equal(check(cv, pki.leaf, NULL, false),
			 VALIDATECERT_STATUS_UNTRUSTED);
	assert_int_equal(check(cv, pki.other_leaf, pki.other_root, false),
			 VALIDATECERT_STATUS_UNTRUSTED);
	assert_int_equal(check(cv, pki.expired, pki.inter, false),
			 VALIDATECERT_STATUS_NOT_VALID_NOW);
	assert_int_equal(check(cv, pki.server, pki.inter, false),
			 VALIDATECERT_STATUS_NOT_FOR_SIGNING);
	assert_int_equal(check(cv, pki.forged, pki.inter, false),
			 VALIDATECERT_STATUS_BAD_SIGNATURE);
	assert_int_equal(certverify_check(cv, garbage, sizeof(garbage), NULL, 0,
					  false, (int64_t)time(NULL)),
			 VALIDATECERT_STATUS_BAD_INFO);
	/* No CRL here: CheckCRL 1 may not ignore it, CheckCRL 0 does. */
	assert_int_equal(check(cv, pki.revoked, pki.inter, true),
			 VALIDATECERT_STATUS_REVOCATION_UNKNOWN);
	assert_int_equal(check(cv, pki.revoked, pki.inter, false),
			 VALIDATECERT_STATUS_SUCCESS);
	/* With the CRLs the revoked one is caught either way. */
	assert_int_equal(certverify_new(pki.ca_file, pki.crl_file, &crl, &err),
			 0);
	assert_int_equal(check(crl, pki.revoked, pki.inter, false),
			 VALIDATECERT_STATUS_REVOKED);
	assert_int_equal(check(crl, pki.revoked, pki.inter, true),
			 VALIDATECERT_STATUS_REVOKED);
	assert_int_equal(check(crl, pki.leaf, pki.inter, true),
			 VALIDATECERT_STATUS_SUCCESS);
	certverify_free(&crl);
	certverify_free(&cv);
	/* A file that is not there is a start-up error naming it. */
	assert_int_equal(certverify_new("/nonexistent/ca.pem", NULL, &cv, &err),
			 -1);
	assert_non_null(strstr(err, "/nonexistent/ca.pem"));
	free(err);
	assert_null(cv);
}

/* ---- the request ------------------------------------------------------- */

/* base64 of x's DER, broken into 64-character lines when wrap. */
static void
b64_of(X509 *x, bool wrap, struct buf *out)
{
	struct validatecert_cert c = der_of(x);
	char *text = malloc(c.len * 2 + 8);
	size_t n;

	assert_non_null(text);
	assert_int_equal(base64_encode(c.der, c.len, text, c.len * 2 + 8), 0);
	n = strlen(text);
	buf_init(out, n * 2 + 8);
	for (size_t i = 0; i < n; i++) {
		if (wrap && i > 0 && i % 64 == 0)
			assert_int_equal(buf_append(out, "\r\n", 2), 0);
		assert_int_equal(buf_append(out, &text[i], 1), 0);
	}
	free(text);
	free(c.der);
}

/* <ValidateCert>[<CertificateChain>chain</>]<Certificates>certs</>
 * [<CheckCRL>crl</>] */
static void
doc(struct buf *b, X509 *const *certs, size_t n, X509 *chain, const char *crl,
    bool wrap)
{
	struct wbxml_enc e;
	struct buf t;

	buf_init(b, 64 * 1024);
	wbxml_enc_init_buf(&e, b);
	wbxml_enc_start(&e, EAS_VALIDATECERT_VALIDATE_CERT);
	if (chain != NULL) {
		wbxml_enc_start(&e, EAS_VALIDATECERT_CERTIFICATE_CHAIN);
		b64_of(chain, wrap, &t);
		wbxml_enc_str_n(&e, EAS_VALIDATECERT_CERTIFICATE,
				(const char *)t.data, t.len);
		buf_free(&t);
		wbxml_enc_end(&e);
	}
	wbxml_enc_start(&e, EAS_VALIDATECERT_CERTIFICATES);
	for (size_t i = 0; i < n; i++) {
		if (certs[i] == NULL) {
			wbxml_enc_str(&e, EAS_VALIDATECERT_CERTIFICATE,
				      "not*base64");
			continue;
		}
		b64_of(certs[i], wrap, &t);
		wbxml_enc_str_n(&e, EAS_VALIDATECERT_CERTIFICATE,
				(const char *)t.data, t.len);
		buf_free(&t);
	}
	wbxml_enc_end(&e);
	if (crl != NULL)
		wbxml_enc_str(&e, EAS_VALIDATECERT_CHECK_CRL, crl);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
}

static void
test_decode(void **state)
{
	struct validatecert_request q;
	X509 *certs[VALIDATECERT_MAX_CERTS + 1];
	struct buf b;

	(void)state;
	certs[0] = pki.leaf;
	certs[1] = NULL;
	doc(&b, certs, 2, pki.inter, "1", true);
	assert_int_equal(validatecert_req_decode(b.data, b.len, &q), 0);
	assert_int_equal(q.n_certs, 2);
	assert_int_equal(q.n_chain, 1);
	assert_true(q.check_crl);
	assert_non_null(q.certs[0].der);
	assert_null(q.certs[1].der); /* undecodable: Status 10 later */
	validatecert_req_clear(&q);
	buf_free(&b);

	doc(&b, certs, 1, NULL, NULL, false);
	assert_int_equal(validatecert_req_decode(b.data, b.len, &q), 0);
	assert_false(q.check_crl);
	validatecert_req_clear(&q);
	buf_free(&b);

	doc(&b, certs, 1, NULL, "2", false); /* CheckCRL is 0 or 1 */
	assert_int_equal(validatecert_req_decode(b.data, b.len, &q), -1);
	buf_free(&b);
	doc(&b, certs, 0, NULL, NULL, false); /* nothing to validate */
	assert_int_equal(validatecert_req_decode(b.data, b.len, &q), -1);
	buf_free(&b);
	for (size_t i = 0; i <= VALIDATECERT_MAX_CERTS; i++)
		certs[i] = pki.leaf;
	doc(&b, certs, VALIDATECERT_MAX_CERTS + 1, NULL, NULL, false);
	assert_int_equal(validatecert_req_decode(b.data, b.len, &q), -1);
	buf_free(&b);
	assert_int_equal(validatecert_req_decode((const uint8_t *)"x", 1, &q),
			 -1);
}

/* ---- through the CAS ---------------------------------------------------- */

static void
test_command(void **state)
{
	struct cas_harness h;
	struct certverify *cv = NULL;
	struct cas_reply r;
	X509 *certs[3] = {pki.leaf, NULL, pki.expired};
	char q[256], key[16], *err = NULL;
	uint32_t k;
	struct buf b;
	size_t n = 0;

	(void)state;
	assert_int_equal(certverify_new(pki.ca_file, NULL, &cv, &err), 0);
	certverify_set_default(cv);
	assert_int_equal(cas_harness_start(&h), 0);
	assert_int_equal(cas_harness_provision(&h, "VCDEV1", "14.1", &k), 0);
	(void)snprintf(key, sizeof(key), "%u", (unsigned)k);
	cas_harness_query(q, sizeof(q), "ValidateCert", "VCDEV1");
	doc(&b, certs, 3, pki.inter, "0", true);
	assert_int_equal(
	    cas_harness_post(&h, q, "14.1", key, h.userpwd, b.data, b.len, &r),
	    0);
	assert_int_equal(r.status, 200);
	assert_int_equal(
	    cas_reply_uint(&r, (const uint16_t[]){EAS_VALIDATECERT_STATUS}, 1),
	    1);
	/* One Certificate/Status per certificate, in order. */
	{
		const struct wbxml_node *root, *c;
		const unsigned want[] = {VALIDATECERT_STATUS_SUCCESS,
					 VALIDATECERT_STATUS_BAD_INFO,
					 VALIDATECERT_STATUS_NOT_VALID_NOW};

		assert_non_null(r.tree);
		root = wbxml_tree_root(r.tree);
		WBXML_FOREACH(c, root, EAS_VALIDATECERT_CERTIFICATE)
		{
			uint64_t v;
			enum wbxml_err we;

			assert_true(n < 3);
			assert_int_equal(
			    wbxml_child_uint(c, EAS_VALIDATECERT_STATUS, 1, 17,
					     &v, &we),
			    0);
			assert_int_equal(v, want[n]);
			n++;
		}
	}
	assert_int_equal(n, 3);
	cas_reply_free(&r);
	buf_free(&b);
	/* A malformed request: the command's Status 2. */
	assert_int_equal(cas_harness_post(&h, q, "14.1", key, h.userpwd,
					  (const uint8_t *)"\x03\x01\x6a\x00",
					  4, &r),
			 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(
	    cas_reply_uint(&r, (const uint16_t[]){EAS_VALIDATECERT_STATUS}, 1),
	    2);
	cas_reply_free(&r);
	cas_harness_stop(&h);
	certverify_set_default(NULL);
	certverify_free(&cv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verdicts),
	    cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_command),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
