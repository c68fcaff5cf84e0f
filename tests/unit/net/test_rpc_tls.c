/* End-to-end tests of the RPC over TCP with mutual TLS 1.3 on 127.0.0.1.
 * The setup makes a throwaway PKI with the OpenSSL API (two CAs, server
 * and client certificates, an expired client certificate) in a temporary
 * directory.  Then: mutual TLS works; a client without a certificate, with
 * one from another CA, or with an expired one is refused; a server whose
 * name does not match is refused by the client; a client name outside the
 * server's allowed_names is refused; TLS 1.2 is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/net/rpc_harness.h"

#define DAY_S (24L * 3600L)

struct pki {
	char *dir;
	char path[16][400];
};

enum pki_file {
	CA_CRT,
	CA_KEY,
	SRV_CRT,
	SRV_KEY,
	CLI_CRT,
	CLI_KEY,
	OTHER_CA_CRT,
	OTHER_CA_KEY,
	OTHER_CLI_CRT,
	OTHER_CLI_KEY,
	OLD_CLI_CRT,
	OLD_CLI_KEY,
	PKI_FILES,
};

static const char *const pki_names[] = {
    "ca.crt",
    "ca.key",
    "server.crt",
    "server.key",
    "client.crt",
    "client.key",
    "other-ca.crt",
    "other-ca.key",
    "other-cli.crt",
    "other-cli.key",
    "expired-cli.crt",
    "expired-cli.key",
    NULL,
};

static struct pki pki;

static void
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* A certificate for key, signed by (issuer, issuer_key) or self-signed. */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
	  long from_s, long until_s)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX ctx;
	char san[300];

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from_s);
	X509_gmtime_adj(X509_getm_notAfter(x), until_s);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer)
					       : name);
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if (issuer == NULL) {
		add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
		add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	} else {
		add_ext(x, &ctx, NID_basic_constraints, "CA:FALSE");
		/* The server is also reachable by its address. */
		(void)snprintf(san, sizeof(san), "DNS:%s%s", cn,
			       strcmp(cn, "mailbox.test") == 0 ? ",IP:127.0.0.1"
							       : "");
		add_ext(x, &ctx, NID_subject_alt_name, san);
		add_ext(x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
	}
	assert_true(X509_sign(x, issuer_key != NULL ? issuer_key : key,
			      EVP_sha256()) > 0);
	return x;
}

static void
save(enum pki_file crt, X509 *x, EVP_PKEY *key)
{
	FILE *f = fopen(pki.path[crt], "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
	f = fopen(pki.path[crt + 1], "w");
	assert_non_null(f);
	assert_int_equal(
	    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
}

static void
issue(enum pki_file crt, const char *cn, X509 *ca, EVP_PKEY *ca_key,
      long from_s, long until_s)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x;

	assert_non_null(key);
	x = make_cert(key, cn, ca, ca_key, from_s, until_s);
	save(crt, x, key);
	X509_free(x);
	EVP_PKEY_free(key);
}

static int
pki_setup(void **state)
{
	EVP_PKEY *ca_key, *other_key;
	X509 *ca, *other;
	int i;

	(void)state;
	pki.dir = harness_tmpdir();
	if (pki.dir == NULL)
		return -1;
	for (i = 0; i < PKI_FILES; i++)
		(void)snprintf(pki.path[i], sizeof(pki.path[i]), "%s/%s",
			       pki.dir, pki_names[i]);
	ca_key = EVP_EC_gen("P-256");
	other_key = EVP_EC_gen("P-256");
	ca = make_cert(ca_key, "easd test CA", NULL, NULL, -DAY_S, DAY_S);
	other = make_cert(other_key, "other CA", NULL, NULL, -DAY_S, DAY_S);
	save(CA_CRT, ca, ca_key);
	save(OTHER_CA_CRT, other, other_key);
	issue(SRV_CRT, "mailbox.test", ca, ca_key, -DAY_S, DAY_S);
	issue(CLI_CRT, "cas1.test", ca, ca_key, -DAY_S, DAY_S);
	issue(OTHER_CLI_CRT, "cas1.test", other, other_key, -DAY_S, DAY_S);
	/* Valid from two days ago until yesterday. */
	issue(OLD_CLI_CRT, "cas1.test", ca, ca_key, -2 * DAY_S, -DAY_S);
	X509_free(ca);
	X509_free(other);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_key);
	return 0;
}

static int
pki_teardown(void **state)
{
	(void)state;
	harness_rmdir(pki.dir, pki_names);
	return 0;
}

/* ------------------------------------------------------------ server */

static struct rpc_server *the_server;

/* Fetch: one reply of range_end bytes; Submit: the size received. */
static void
big_replies(struct rpc_request *req)
{
	if (req->type == RPC__MSG_TYPE__MSG_FETCH) {
		Rpc__FetchRequest *r = (Rpc__FetchRequest *)req->msg;
		Rpc__FetchReply rep;
		uint8_t *data = malloc(r->range_end);
		uint64_t i;

		assert_non_null(data);
		for (i = 0; i < r->range_end; i++)
			data[i] = (uint8_t)(i * 13u);
		rpc__fetch_reply__init(&rep);
		rep.status = RPC__STATUS__STATUS_OK;
		rep.chunk.data = data;
		rep.chunk.len = r->range_end;
		(void)rpc_server_reply(the_server, req->conn_id, req->id,
				       req->type, &rep.base, true);
		free(data);
	} else {
		Rpc__SubmitRequest *r = (Rpc__SubmitRequest *)req->msg;
		Rpc__SubmitReply rep;
		char text[32];

		(void)snprintf(text, sizeof(text), "%zu", r->mime.len);
		rpc__submit_reply__init(&rep);
		rep.status = RPC__STATUS__STATUS_OK;
		rep.sent_item_id = text;
		(void)rpc_server_reply(the_server, req->conn_id, req->id,
				       req->type, &rep.base, true);
	}
	protobuf_c_message_free_unpacked(req->msg, NULL);
}

static void
handler(void *arg, struct rpc_request *req)
{
	Rpc__UserReply rep;
	Rpc__UserInfo info;

	(void)arg;
	if (req->type == RPC__MSG_TYPE__MSG_FETCH ||
	    req->type == RPC__MSG_TYPE__MSG_SUBMIT) {
		big_replies(req);
		return;
	}
	rpc__user_reply__init(&rep);
	rpc__user_info__init(&info);
	rep.status = RPC__STATUS__STATUS_OK;
	info.login = (char *)(uintptr_t)req->peer; /* who TLS says it is */
	info.user = ((Rpc__UserGetRequest *)req->msg)->user;
	rep.info = &info;
	(void)rpc_server_reply(the_server, req->conn_id, req->id, req->type,
			       &rep.base, true);
	protobuf_c_message_free_unpacked(req->msg, NULL);
}

struct fixture {
	struct harness_server hs;
	struct loop *loop;
	char addr[64];
	int port;
};

/* Listen on an ephemeral port: find one by binding port 0 first. */
static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static int
start(struct fixture *fx, const char *allowed_names)
{
	struct rpc_server_config cfg;
	struct tls_config tls;
	const char *error = NULL;

	memset(fx, 0, sizeof(*fx));
	fx->loop = loop_new(&error);
	fx->port = free_port();
	(void)snprintf(fx->addr, sizeof(fx->addr), "tcp:127.0.0.1:%d",
		       fx->port);
	memset(&tls, 0, sizeof(tls));
	tls.ca_file = pki.path[CA_CRT];
	tls.cert_file = pki.path[SRV_CRT];
	tls.key_file = pki.path[SRV_KEY];
	tls.allowed_names = allowed_names;
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = fx->addr;
	cfg.tls = &tls;
	if (harness_server_start(&fx->hs, &cfg, handler, NULL, &error) < 0) {
		fprintf(stderr, "server: %s\n", error);
		return -1;
	}
	the_server = fx->hs.server;
	return 0;
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL || start(fx, NULL) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int
setup_allowed(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	/* cas1.test is not on the list. */
	if (fx == NULL || start(fx, "cas2.test, cas9.test") < 0)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	harness_server_stop(&fx->hs, NULL);
	loop_free(&fx->loop);
	free(fx);
	return 0;
}

/* Connect with the given client files; 0 if the handshake and a call
 * succeed, -1 if refused (error_r says why). */
static int
try_client(struct fixture *fx, const char *crt, const char *key,
	   const char *server_name, const char **error_r)
{
	struct rpc_client_config cfg;
	struct tls_config tls;
	struct rpc_client *c;
	Rpc__UserGetRequest req;
	ProtobufCMessage *rep = NULL;
	Rpc__Status st;
	int ret = -1;

	memset(&tls, 0, sizeof(tls));
	tls.ca_file = pki.path[CA_CRT];
	tls.cert_file = crt;
	tls.key_file = key;
	tls.server_name = server_name;
	memset(&cfg, 0, sizeof(cfg));
	cfg.addr = fx->addr;
	cfg.tls = &tls;
	cfg.role = RPC__ROLE__ROLE_CAS;
	c = rpc_client_connect(fx->loop, &cfg, error_r);
	if (c == NULL)
		return -1;
	if (rpc_client_wait_ready(c, 3000, error_r) < 0)
		goto out;
	/* In TLS 1.3 the client finishes its handshake before the server
	 * has judged its certificate: only a round trip proves access. */
	rpc__user_get_request__init(&req);
	st = rpc_client_call_sync(c, RPC__MSG_TYPE__MSG_USER_GET, &req.base,
				  3000, &rep);
	if (st != RPC__STATUS__STATUS_OK) {
		*error_r = "call failed";
		goto out;
	}
	assert_string_equal(((Rpc__UserReply *)rep)->info->login, "cas1.test");
	protobuf_c_message_free_unpacked(rep, NULL);
	ret = 0;
out:
	/* The error text lives in the client: keep a copy. */
	if (ret < 0) {
		static char copy[256];

		(void)snprintf(copy, sizeof(copy), "%s", *error_r);
		*error_r = copy;
	}
	rpc_client_free(&c);
	return ret;
}

static void
expect_refused(struct fixture *fx, const char *crt, const char *key,
	       const char *server_name)
{
	struct rpc_server_stats st;
	const char *error = NULL;

	assert_int_equal(try_client(fx, crt, key, server_name, &error), -1);
	harness_server_stop(&fx->hs, &st);
	assert_true(st.accepted >= 1);
	assert_true(st.handshakes == 0);
	assert_true(st.requests == 0);
	assert_true(st.refused >= 1);
}

static void
test_mutual_tls13_works(void **state)
{
	struct fixture *fx = *state;
	struct rpc_server_stats st;
	const char *error = NULL;

	assert_int_equal(try_client(fx, pki.path[CLI_CRT], pki.path[CLI_KEY],
				    "mailbox.test", &error),
			 0);
	harness_server_stop(&fx->hs, &st);
	assert_true(st.handshakes == 1);
	assert_true(st.requests == 1);
}

struct tally {
	int done, bad;
	bool all;
	bool big_done;
};

static void
tally_user(void *arg, Rpc__Status status, ProtobufCMessage *reply, bool last)
{
	struct tally *t = arg;

	(void)last;
	if (status != RPC__STATUS__STATUS_OK ||
	    ((Rpc__UserReply *)reply)->info->user != (uint64_t)t->done + 1u)
		t->bad++;
	t->done++;
	t->all = t->done == 300 && t->big_done;
	protobuf_c_message_free_unpacked(reply, NULL);
}

static void
tally_big(void *arg, Rpc__Status status, ProtobufCMessage *reply, bool last)
{
	struct tally *t = arg;
	Rpc__FetchReply *fr = (Rpc__FetchReply *)reply;
	size_t i;

	(void)last;
	if (status != RPC__STATUS__STATUS_OK ||
	    fr->chunk.len != 3u * 1024u * 1024u)
		t->bad++;
	for (i = 0; fr != NULL && i < fr->chunk.len; i++) {
		if (fr->chunk.data[i] != (uint8_t)(i * 13u)) {
			t->bad++;
			break;
		}
	}
	t->big_done = true;
	t->all = t->done == 300;
	protobuf_c_message_free_unpacked(reply, NULL);
}

/* Many calls in flight and multi-megabyte frames both ways over TLS:
 * partial SSL_write and SSL_read across many records. */
static void
test_tls_many_calls_and_large_frames(void **state)
{
	struct fixture *fx = *state;
	struct rpc_client_config cfg;
	struct tls_config tls;
	const char *error = NULL;
	struct rpc_client *c;
	Rpc__UserGetRequest req;
	Rpc__FetchRequest fetch;
	Rpc__SubmitRequest sub;
	ProtobufCMessage *rep = NULL;
	struct tally t;
	uint8_t *mime;
	int i;

	memset(&tls, 0, sizeof(tls));
	tls.ca_file = pki.path[CA_CRT];
	tls.cert_file = pki.path[CLI_CRT];
	tls.key_file = pki.path[CLI_KEY];
	tls.server_name = "mailbox.test";
	memset(&cfg, 0, sizeof(cfg));
	cfg.addr = fx->addr;
	cfg.tls = &tls;
	cfg.role = RPC__ROLE__ROLE_CAS;
	c = rpc_client_connect(fx->loop, &cfg, &error);
	assert_non_null(c);
	memset(&t, 0, sizeof(t));
	rpc__user_get_request__init(&req);
	rpc__fetch_request__init(&fetch);
	fetch.range_end = 3u * 1024u * 1024u;
	for (i = 0; i < 300; i++) {
		req.user = (uint64_t)i + 1u;
		assert_int_equal(rpc_client_call(c, RPC__MSG_TYPE__MSG_USER_GET,
						 &req.base, 5000, tally_user,
						 &t),
				 0);
		if (i == 150)
			assert_int_equal(
			    rpc_client_call(c, RPC__MSG_TYPE__MSG_FETCH,
					    &fetch.base, 5000, tally_big, &t),
			    0);
	}
	assert_true(harness_pump(fx->loop, &t.all, 10000));
	assert_int_equal(t.bad, 0);
	mime = calloc(1, 6u * 1024u * 1024u);
	assert_non_null(mime);
	rpc__submit_request__init(&sub);
	sub.mime.data = mime;
	sub.mime.len = 6u * 1024u * 1024u;
	assert_int_equal(rpc_client_call_sync(c, RPC__MSG_TYPE__MSG_SUBMIT,
					      &sub.base, 5000, &rep),
			 RPC__STATUS__STATUS_OK);
	assert_string_equal(((Rpc__SubmitReply *)rep)->sent_item_id, "6291456");
	protobuf_c_message_free_unpacked(rep, NULL);
	free(mime);
	rpc_client_free(&c);
}

static void
test_client_without_certificate_refused(void **state)
{
	struct fixture *fx = *state;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct rpc_server_stats st;
	struct sockaddr_in sin;
	SSL *ssl;
	char byte;
	int fd, r;

	/* rpc_client cannot even be configured without a certificate: */
	{
		struct tls_config tls;
		const char *error = NULL;

		memset(&tls, 0, sizeof(tls));
		tls.ca_file = pki.path[CA_CRT];
		tls.server_name = "mailbox.test";
		assert_null(tls_ctx_new(&tls, false, &error));
	}
	/* ...so a raw OpenSSL client tries: the server refuses it. */
	assert_non_null(ctx);
	assert_int_equal(
	    SSL_CTX_load_verify_locations(ctx, pki.path[CA_CRT], NULL), 1);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)fx->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	r = SSL_connect(ssl);
	if (r == 1) {
		/* TLS 1.3: the refusal arrives as an alert on first read. */
		(void)SSL_write(ssl, "x", 1);
		r = SSL_read(ssl, &byte, 1);
	}
	assert_true(r <= 0);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	harness_server_stop(&fx->hs, &st);
	assert_true(st.handshakes == 0);
	assert_true(st.refused == 1);
	ERR_clear_error();
}

static void
test_client_from_other_ca_refused(void **state)
{
	expect_refused(*state, pki.path[OTHER_CLI_CRT], pki.path[OTHER_CLI_KEY],
		       "mailbox.test");
}

static void
test_expired_client_refused(void **state)
{
	expect_refused(*state, pki.path[OLD_CLI_CRT], pki.path[OLD_CLI_KEY],
		       "mailbox.test");
}

static void
test_server_name_mismatch_refused(void **state)
{
	struct fixture *fx = *state;
	const char *error = NULL;

	/* The client checks the name: it hangs up during the handshake. */
	assert_int_equal(try_client(fx, pki.path[CLI_CRT], pki.path[CLI_KEY],
				    "other.test", &error),
			 -1);
	assert_non_null(strstr(error, "certificate"));
}

static void
test_server_ip_name_checked(void **state)
{
	struct fixture *fx = *state;
	const char *error = NULL;

	/* An IP literal is matched against the IP subjectAltName. */
	assert_int_equal(try_client(fx, pki.path[CLI_CRT], pki.path[CLI_KEY],
				    "127.0.0.1", &error),
			 0);
	assert_int_equal(try_client(fx, pki.path[CLI_CRT], pki.path[CLI_KEY],
				    "127.0.0.2", &error),
			 -1);
	assert_non_null(strstr(error, "certificate"));
}

static void
test_client_name_not_allowed_refused(void **state)
{
	expect_refused(*state, pki.path[CLI_CRT], pki.path[CLI_KEY],
		       "mailbox.test");
}

static void
test_tls12_refused(void **state)
{
	struct fixture *fx = *state;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct rpc_server_stats st;
	struct sockaddr_in sin;
	SSL *ssl;
	int fd;

	assert_non_null(ctx);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	assert_int_equal(
	    SSL_CTX_load_verify_locations(ctx, pki.path[CA_CRT], NULL), 1);
	assert_int_equal(SSL_CTX_use_certificate_file(ctx, pki.path[CLI_CRT],
						      SSL_FILETYPE_PEM),
			 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, pki.path[CLI_KEY],
						     SSL_FILETYPE_PEM),
			 1);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)fx->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	/* A valid client certificate, but TLS 1.2: no handshake. */
	assert_true(SSL_connect(ssl) <= 0);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	harness_server_stop(&fx->hs, &st);
	assert_true(st.handshakes == 0);
	assert_true(st.refused == 1);
	ERR_clear_error();
}

static void
test_bad_tls_settings(void **state)
{
	struct tls_config tls;
	const char *error = NULL;

	(void)state;
	memset(&tls, 0, sizeof(tls));
	tls.ca_file = pki.path[CA_CRT];
	tls.cert_file = pki.path[CLI_CRT];
	tls.key_file = pki.path[SRV_KEY]; /* does not match */
	tls.server_name = "mailbox.test";
	assert_null(tls_ctx_new(&tls, false, &error));
	assert_non_null(strstr(error, "key_file"));
	tls.key_file = pki.path[CLI_KEY];
	tls.server_name = NULL;
	assert_null(tls_ctx_new(&tls, false, &error));
	assert_non_null(strstr(error, "server_name"));
	tls.ca_file = "/nonexistent/ca.crt";
	tls.server_name = "mailbox.test";
	assert_null(tls_ctx_new(&tls, false, &error));
	assert_non_null(strstr(error, "ca_file"));
	ERR_clear_error();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_mutual_tls13_works, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_tls_many_calls_and_large_frames, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_client_without_certificate_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_from_other_ca_refused,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expired_client_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_server_name_mismatch_refused,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_server_ip_name_checked, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_client_name_not_allowed_refused, setup_allowed, teardown),
	    cmocka_unit_test_setup_teardown(test_tls12_refused, setup,
					    teardown),
	    cmocka_unit_test(test_bad_tls_settings),
	};

	return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
