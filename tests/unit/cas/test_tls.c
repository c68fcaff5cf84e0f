/* TLS tests: certificates made with the openssl command line in a temporary
 * directory (a root, an intermediate and a leaf; a self-signed leaf).
 * cas/tlsconf.c must accept a leaf + intermediate file and refuse a bare
 * leaf, a misordered chain and a foreign key; the HTTPS listener must
 * serve the chain (the client trusts only the root), negotiate TLS 1.2+
 * with an AEAD cipher, and refuse a CBC-only client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cas/http.h"
#include "cas/tlsconf.h"

static char dir[] = "/tmp/easd-tls-XXXXXX";

static const char gen_script[] =
    "set -e; cd '%s'\n"
    "o=openssl; q='-batch -nodes -days 30'\n"
    "$o req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 $q "
    "  -keyout root.key -out root.pem -subj /CN=easd-test-root "
    "  -addext basicConstraints=critical,CA:TRUE 2>/dev/null\n"
    "$o req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
    "  -keyout inter.key -out inter.csr -subj /CN=easd-test-inter "
    "  2>/dev/null\n"
    "printf 'basicConstraints=critical,CA:TRUE\\n' > ca.ext\n"
    "$o x509 -req -in inter.csr -CA root.pem -CAkey root.key "
    "  -CAcreateserial -days 30 -extfile ca.ext -out inter.pem "
    "  2>/dev/null\n"
    "$o req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
    "  -keyout leaf.key -out leaf.csr -subj /CN=localhost 2>/dev/null\n"
    "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > leaf.ext\n"
    "$o x509 -req -in leaf.csr -CA inter.pem -CAkey inter.key "
    "  -CAcreateserial -days 30 -extfile leaf.ext -out leaf.pem "
    "  2>/dev/null\n"
    "cat leaf.pem inter.pem > chain.pem\n"
    "cat inter.pem leaf.pem > reversed.pem\n"
    "$o req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 $q "
    "  -keyout self.key -out self.pem -subj /CN=localhost "
    "  -addext subjectAltName=IP:127.0.0.1 2>/dev/null\n";

static char *
path_of(const char *name)
{
	static char p[8][256];
	static int i;

	i = (i + 1) % 8;
	(void)snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static int
check(const char *cert, const char *key, bool self_ok, char **err)
{
	char *c = NULL, *k = NULL;
	size_t cl = 0, kl = 0;
	int rc;

	*err = NULL;
	assert_int_equal(cas_tls_read_file(path_of(cert), &c, &cl, err), 0);
	assert_int_equal(cas_tls_read_file(path_of(key), &k, &kl, err), 0);
	rc = cas_tls_check(c, cl, k, kl, self_ok, err);
	free(c);
	free(k);
	return rc;
}

static void
test_chain_check(void **state)
{
	char *err = NULL;

	(void)state;
	assert_int_equal(check("chain.pem", "leaf.key", false, &err), 0);
	assert_int_equal(check("leaf.pem", "leaf.key", false, &err), -1);
	assert_non_null(strstr(err, "intermediate"));
	free(err);
	assert_int_equal(check("leaf.pem", "leaf.key", true, &err), 0);
	assert_int_equal(check("self.pem", "self.key", false, &err), -1);
	assert_non_null(strstr(err, "self-signed"));
	free(err);
	assert_int_equal(check("self.pem", "self.key", true, &err), 0);
	assert_int_equal(check("reversed.pem", "leaf.key", false, &err), -1);
	assert_non_null(strstr(err, "not issued by"));
	free(err);
	assert_int_equal(check("chain.pem", "self.key", false, &err), -1);
	assert_non_null(strstr(err, "does not match"));
	free(err);
	assert_int_equal(check("leaf.key", "leaf.key", true, &err), -1);
	assert_non_null(strstr(err, "no PEM certificate"));
	free(err);
	assert_int_equal(cas_tls_read_file(path_of("missing.pem"),
					   &(char *){NULL}, &(size_t){0}, &err),
			 -1);
	free(err);
}

struct tls_seen {
	CURL *h;
	int version;
	int aead;
};

static size_t
on_header(char *data, size_t size, size_t n, void *ud)
{
	struct tls_seen *s = ud;
	struct curl_tlssessioninfo *info = NULL;

	(void)data;
	if (s->version == 0 &&
	    curl_easy_getinfo(s->h, CURLINFO_TLS_SSL_PTR, &info) == CURLE_OK &&
	    info != NULL && info->backend == CURLSSLBACKEND_OPENSSL &&
	    info->internals != NULL) {
		SSL *ssl = info->internals;

		s->version = SSL_version(ssl);
		s->aead = SSL_CIPHER_is_aead(SSL_get_current_cipher(ssl));
	}
	return size * n;
}

static size_t
discard(char *data, size_t size, size_t n, void *ud)
{
	(void)data;
	(void)ud;
	return size * n;
}

static CURLcode
https_options(uint16_t port, const char *cipher, long *status,
	      struct tls_seen *seen)
{
	CURL *h = curl_easy_init();
	char url[128];
	CURLcode rc;

	(void)snprintf(url, sizeof(url),
		       "https://127.0.0.1:%u/Microsoft-Server-ActiveSync",
		       port);
	memset(seen, 0, sizeof(*seen));
	seen->h = h;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "OPTIONS");
	curl_easy_setopt(h, CURLOPT_CAINFO, path_of("root.pem"));
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, seen);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (cipher != NULL) {
		curl_easy_setopt(h, CURLOPT_SSLVERSION,
				 (long)(CURL_SSLVERSION_TLSv1_2 |
					CURL_SSLVERSION_MAX_TLSv1_2));
		curl_easy_setopt(h, CURLOPT_SSL_CIPHER_LIST, cipher);
	}
	rc = curl_easy_perform(h);
	*status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	return rc;
}

static void
test_https(void **state)
{
	struct cas_listen listen;
	struct cas_http_config cfg;
	struct cas_http *http = NULL;
	struct cas_auth *auth = NULL;
	struct tls_seen seen;
	char *cert = NULL, *key = NULL, *err = NULL;
	size_t cl, kl;
	long status;

	(void)state;
	assert_int_equal(
	    cas_tls_read_file(path_of("chain.pem"), &cert, &cl, &err), 0);
	assert_int_equal(
	    cas_tls_read_file(path_of("leaf.key"), &key, &kl, &err), 0);
	assert_int_equal(cas_conf_parse_listen("127.0.0.1:0", &listen), 0);
	assert_int_equal(cas_auth_new(300, &auth), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.https = &listen;
	cfg.tls_cert_pem = cert;
	cfg.tls_key_pem = key;
	cfg.auth = auth;
	cfg.plain_auth = CAS_PLAIN_AUTH_NO;
	cfg.max_body_bytes = 1024;
	if (cas_http_start(&cfg, &http, &err) != 0) {
		fprintf(stderr, "%s\n", err);
		fail();
	}
	/* Trusting only the root works: the intermediate is served.  No
	 * credentials: 401 (TLS itself is what is checked here). */
	assert_int_equal(
	    https_options(cas_http_port(http, true), NULL, &status, &seen),
	    CURLE_OK);
	assert_int_equal(status, 401);
	assert_true(seen.version >= TLS1_2_VERSION);
	assert_int_equal(seen.aead, 1);
	/* A client offering only CBC suites cannot connect. */
	assert_int_not_equal(https_options(cas_http_port(http, true),
					   "ECDHE-ECDSA-AES128-SHA", &status,
					   &seen),
			     CURLE_OK);
	/* An AEAD TLS 1.2 suite can. */
	assert_int_equal(https_options(cas_http_port(http, true),
				       "ECDHE-ECDSA-AES128-GCM-SHA256", &status,
				       &seen),
			 CURLE_OK);
	assert_int_equal(seen.version, TLS1_2_VERSION);
	cas_http_free(&http);
	cas_auth_free(&auth);
	free(cert);
	free(key);
}

static int
setup(void **state)
{
	char cmd[sizeof(gen_script) + 64];

	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (mkdtemp(dir) == NULL)
		return -1;
	(void)snprintf(cmd, sizeof(cmd), gen_script, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)system(cmd);
	curl_global_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chain_check),
	    cmocka_unit_test(test_https),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
