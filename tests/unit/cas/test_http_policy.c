/* Tests of the transport and login policy of cas/http.c through a server
 * with allow_plain_auth = no, a trusted proxy on 127.0.0.1, a verifier that
 * answers from another thread, and an injected clock: Basic refused over
 * plain HTTP unless the trusted proxy says https, X-Forwarded-For selects
 * the throttled address, failed logins back off with 503 + Retry-After
 * while other addresses and cached credentials pass, and a verifier that
 * cannot start gives 503. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas/dispatch.h"
#include "cas/http.h"

static struct cas_http *server;
static struct cas_auth *auth;
static struct cas_proxies *proxies;
static atomic_int verify_calls;
static atomic_int verifier_down;
static atomic_ullong fake_now = 1000;
static char base_url[64];

static uint64_t
fake_clock(void)
{
	return atomic_load(&fake_now);
}

struct pending {
	cas_auth_done_fn *done;
	void *cookie;
	bool ok;
};

static void *
answer_later(void *arg)
{
	struct pending *p = arg;

	p->done(p->cookie, p->ok ? CAS_AUTH_OK : CAS_AUTH_DENIED);
	free(p);
	return NULL;
}

/* The mailbox's answer arrives on another thread, after verify returned. */
static int
async_verify(void *ctx, const char *login, const char *password,
	     cas_auth_done_fn *done, void *cookie)
{
	struct pending *p;
	pthread_t t;

	(void)ctx;
	if (atomic_load(&verifier_down))
		return -1;
	p = malloc(sizeof(*p));
	if (p == NULL)
		return -1;
	atomic_fetch_add(&verify_calls, 1);
	p->done = done;
	p->cookie = cookie;
	p->ok = strcmp(login, "alice") == 0 && strcmp(password, "secret") == 0;
	if (pthread_create(&t, NULL, answer_later, p) != 0) {
		free(p);
		return -1;
	}
	pthread_detach(t);
	return 0;
}

static char seen_client[64];

static void
cmd_sync(struct cas_req *req, const struct cas_eas_request *eas)
{
	(void)eas;
	(void)snprintf(seen_client, sizeof(seen_client), "%s",
		       cas_req_client_addr(req));
	(void)cas_req_respond(req, 200, NULL, 0, "ok", 2);
}
CAS_COMMAND(policy_sync_command, .name = "Sync", .min_version = 25,
	    .handler = cmd_sync)

struct reply {
	long status;
	char headers[2048];
	size_t hlen;
};

static size_t
on_header(char *data, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t len = size * n, room = sizeof(r->headers) - 1 - r->hlen;

	memcpy(r->headers + r->hlen, data, len < room ? len : room);
	r->hlen += len < room ? len : room;
	r->headers[r->hlen] = 0;
	return len;
}

static size_t
discard(char *data, size_t size, size_t n, void *ud)
{
	(void)data;
	(void)ud;
	return size * n;
}

static long
post(const char *userpwd, const char *xff, const char *xfp, struct reply *r)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[160], line[256];

	memset(r, 0, sizeof(*r));
	(void)snprintf(url, sizeof(url),
		       "%s/Microsoft-Server-ActiveSync?Cmd=Sync", base_url);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
	curl_easy_setopt(h, CURLOPT_USERPWD, userpwd);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	hdrs = curl_slist_append(hdrs, "MS-ASProtocolVersion: 14.1");
	if (xff != NULL) {
		(void)snprintf(line, sizeof(line), "X-Forwarded-For: %s", xff);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (xfp != NULL) {
		(void)snprintf(line, sizeof(line), "X-Forwarded-Proto: %s",
			       xfp);
		hdrs = curl_slist_append(hdrs, line);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return r->status;
}

static void
test_transport_rule(void **state)
{
	struct reply r;

	(void)state;
	/* Plain HTTP, no proxy header: Basic refused (allow_plain_auth=no). */
	assert_int_equal(post("alice:secret", NULL, NULL, &r), 403);
	/* The trusted proxy terminated TLS. */
	assert_int_equal(post("alice:secret", "198.51.100.20", "https", &r),
			 200);
	assert_string_equal(seen_client, "198.51.100.20");
	/* The proxy saw plain HTTP: refused. */
	assert_int_equal(post("alice:secret", "198.51.100.20", "http", &r),
			 403);
	/* Spoofed entries left of the proxy's own are ignored. */
	assert_int_equal(
	    post("alice:secret", "10.0.0.1, 198.51.100.21", "https", &r), 200);
	assert_string_equal(seen_client, "198.51.100.21");
}

static void
test_throttle(void **state)
{
	struct reply r;
	int calls;
	unsigned i;

	(void)state;
	for (i = 0; i < CAS_AUTH_FREE_FAILURES_USER_IP + 1; i++)
		assert_int_equal(post("bob:wrong", "203.0.113.50", "https", &r),
				 401);
	calls = atomic_load(&verify_calls);
	/* In backoff: 503 with Retry-After, the verifier is not asked. */
	assert_int_equal(post("bob:wrong", "203.0.113.50", "https", &r), 503);
	assert_non_null(strcasestr(r.headers, "Retry-After: 1"));
	assert_int_equal(atomic_load(&verify_calls), calls);
	/* Another client address is unaffected. */
	assert_int_equal(post("bob:wrong", "203.0.113.51", "https", &r), 401);
	/* Time passes (injected): allowed again, and the next failure
	 * doubles the backoff. */
	atomic_fetch_add(&fake_now, 1);
	assert_int_equal(post("bob:wrong", "203.0.113.50", "https", &r), 401);
	assert_int_equal(post("bob:wrong", "203.0.113.50", "https", &r), 503);
	assert_non_null(strcasestr(r.headers, "Retry-After: 2"));
	/* Cached good credentials are not throttled. */
	assert_int_equal(post("alice:secret", "203.0.113.50", "https", &r),
			 200);
}

static void
test_verifier_down(void **state)
{
	struct reply r;

	(void)state;
	atomic_store(&verifier_down, 1);
	assert_int_equal(post("carol:pw", "192.0.2.77", "https", &r), 503);
	assert_non_null(strcasestr(r.headers, "Retry-After:"));
	/* Cached credentials still work while the mailbox is away. */
	assert_int_equal(post("alice:secret", "192.0.2.77", "https", &r), 200);
	atomic_store(&verifier_down, 0);
}

static int
setup(void **state)
{
	static struct cas_listen listen;
	struct cas_http_config cfg;
	char *err = NULL;

	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	assert_int_equal(cas_conf_parse_listen("127.0.0.1:0", &listen), 0);
	assert_int_equal(cas_auth_new(300, &auth), 0);
	assert_int_equal(cas_proxies_parse("127.0.0.1", &proxies, &err), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.http = &listen;
	cfg.auth = auth;
	cfg.proxies = proxies;
	cfg.verifier.verify = async_verify;
	cfg.plain_auth = CAS_PLAIN_AUTH_NO;
	cfg.max_body_bytes = 1024;
	cfg.clock_s = fake_clock;
	if (cas_http_start(&cfg, &server, &err) != 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return -1;
	}
	(void)snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%u",
		       cas_http_port(server, false));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cas_http_free(&server);
	cas_proxies_free(&proxies);
	cas_auth_free(&auth);
	curl_global_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_transport_rule),
	    cmocka_unit_test(test_throttle),
	    cmocka_unit_test(test_verifier_down),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
