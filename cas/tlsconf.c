/*
 * Certificate chain checks at start-up; see tlsconf.h.  The chain is
 * checked link by link (issuer name and signature of each certificate
 * against the next one); trust in the root is the client's business, so no
 * trust store is consulted.
 */
#include "cas/tlsconf.h"

#include "proto/buf.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A certificate file with more certificates than this is not a chain. */
#define TLS_MAX_CHAIN 10
/* PEM files larger than this are refused (a chain of 10 is ~20 KB). */
#define TLS_MAX_FILE_BYTES (1024u * 1024u)

static char *tls_errorf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *
tls_errorf(const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b, 1024);
	va_start(ap, fmt);
	if (buf_vprintf(&b, fmt, ap) != 0) {
		va_end(ap);
		buf_free(&b);
		return strdup("TLS configuration error");
	}
	va_end(ap);
	return (char *)buf_steal(&b, NULL);
}

int
cas_tls_read_file(const char *path, char **data_r, size_t *len_r,
		  char **error_r)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	uint8_t chunk[4096];
	size_t n;
	int ret = -1;

	buf_init(&b, TLS_MAX_FILE_BYTES);
	*data_r = NULL;
	if (f == NULL) {
		*error_r =
		    tls_errorf("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) != 0) {
			*error_r = tls_errorf("%s: file too large", path);
			goto out;
		}
	}
	if (ferror(f)) {
		*error_r = tls_errorf("cannot read %s", path);
		goto out;
	}
	if (b.len == 0 && buf_append(&b, "", 0) != 0)
		goto out;
	*data_r = (char *)buf_steal(&b, len_r);
	if (*data_r == NULL) {
		*error_r = tls_errorf("%s: empty file", path);
		goto out;
	}
	ret = 0;
out:
	/* The key file passes through here: wipe what we did not hand out. */
	OPENSSL_cleanse(chunk, sizeof(chunk));
	if (b.data != NULL)
		OPENSSL_cleanse(b.data, b.cap);
	buf_free(&b);
	fclose(f);
	return ret;
}

static char *
subject_str(X509 *cert)
{
	char *s = X509_NAME_oneline(X509_get_subject_name(cert), NULL, 0);
	char *copy = strdup(s != NULL ? s : "?");

	OPENSSL_free(s);
	return copy;
}

int
cas_tls_check(const char *cert_pem, size_t cert_len, const char *key_pem,
	      size_t key_len, bool self_signed_ok, char **error_r)
{
	X509 *chain[TLS_MAX_CHAIN];
	size_t n = 0, i;
	BIO *bio = NULL;
	EVP_PKEY *key = NULL;
	char *name = NULL;
	int ret = -1;

	*error_r = NULL;
	if (cert_len > TLS_MAX_FILE_BYTES || key_len > TLS_MAX_FILE_BYTES) {
		*error_r = tls_errorf("certificate or key too large");
		return -1;
	}
	bio = BIO_new_mem_buf(cert_pem, (int)cert_len);
	if (bio == NULL)
		goto out;
	for (;;) {
		X509 *c = PEM_read_bio_X509(bio, NULL, NULL, NULL);

		if (c == NULL)
			break;
		if (n == TLS_MAX_CHAIN) {
			X509_free(c);
			*error_r = tls_errorf("more than %d certificates",
					      TLS_MAX_CHAIN);
			goto out;
		}
		chain[n++] = c;
	}
	ERR_clear_error();
	BIO_free(bio);
	bio = NULL;
	if (n == 0) {
		*error_r = tls_errorf("no PEM certificate found");
		goto out;
	}
	/* Each certificate must be issued and signed by the next one. */
	for (i = 0; i + 1 < n; i++) {
		EVP_PKEY *issuer_key = X509_get0_pubkey(chain[i + 1]);

		if (X509_check_issued(chain[i + 1], chain[i]) != X509_V_OK ||
		    issuer_key == NULL ||
		    X509_verify(chain[i], issuer_key) != 1) {
			name = subject_str(chain[i]);
			*error_r = tls_errorf(
			    "certificate %zu (%s) is not issued by the next "
			    "one in the file: order leaf, intermediates",
			    i + 1, name);
			goto out;
		}
	}
	if (n == 1 && !self_signed_ok) {
		name = subject_str(chain[0]);
		if (X509_check_issued(chain[0], chain[0]) == X509_V_OK)
			*error_r =
			    tls_errorf("certificate %s is self-signed: set "
				       "tls_self_signed = yes to use it",
				       name);
		else
			*error_r = tls_errorf(
			    "certificate file holds only the leaf %s: append "
			    "the intermediate certificates (phones do not "
			    "fetch them), or set tls_self_signed = yes",
			    name);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(chain[0])) <= 0 ||
	    X509_cmp_current_time(X509_get0_notBefore(chain[0])) >= 0) {
		name = subject_str(chain[0]);
		*error_r = tls_errorf("certificate %s is not valid now", name);
		goto out;
	}
	bio = BIO_new_mem_buf(key_pem, (int)key_len);
	if (bio == NULL)
		goto out;
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (key == NULL) {
		*error_r = tls_errorf("no PEM private key found");
		goto out;
	}
	if (X509_check_private_key(chain[0], key) != 1) {
		*error_r = tls_errorf("private key does not match the "
				      "certificate");
		goto out;
	}
	ret = 0;
out:
	if (ret != 0 && *error_r == NULL)
		*error_r = tls_errorf("out of memory");
	ERR_clear_error();
	free(name);
	EVP_PKEY_free(key);
	BIO_free(bio);
	for (i = 0; i < n; i++)
		X509_free(chain[i]);
	return ret;
}
