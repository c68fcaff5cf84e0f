/* Tests of cas/http.c through a real server on 127.0.0.1 (port 0) with
 * libcurl as the client: OPTIONS, authentication (cache, charsets, user
 * forms), edge filtering, body limit, dispatch, a suspended request
 * answered from another thread, a streamed answer, a client that hangs up
 * while held, timeouts and shutdown.  Every wait is bounded. */
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
#include <time.h>
#include <unistd.h>

#include "cas/dispatch.h"
#include "cas/http.h"

static struct cas_http *server;
static struct cas_auth *auth;
static atomic_int verify_calls;
static char base_url[64];

/* ---- fake verifier: the mailbox's answer, synchronously ---- */
static int
fake_verify(void *ctx, const char *login, const char *password,
	    cas_auth_done_fn *done, void *cookie)
{
	bool ok = (strcmp(password, "secret") == 0 &&
		   (strcmp(login, "alice") == 0 ||
		    strcmp(login, "EXAMPLE\\alice") == 0 ||
		    strcmp(login, "alice@example.org") == 0)) ||
		  (strcmp(login, "j\xc3\xbcrgen") == 0 &&
		   strcmp(password, "p\xc3\xa4ss") == 0);

	(void)ctx;
	atomic_fetch_add(&verify_calls, 1);
	done(cookie, ok ? CAS_AUTH_OK : CAS_AUTH_DENIED);
	return 0;
}

/* ---- command handlers ---- */
static char last_user[64], last_domain[64];

static void
cmd_sync(struct cas_req *req, const struct cas_eas_request *eas)
{
	const struct cas_user *u = cas_req_user(req);
	size_t len;
	const uint8_t *body = cas_req_body(req, &len);
	char out[128];
	int n;

	(void)body;
	/* The request arena: small and large pieces, freed with req (ASan
	 * checks bounds and leaks). */
	for (size_t i = 1; i < 40; i++) {
		uint8_t *p = cas_req_alloc(req, i * 97);

		assert_non_null(p);
		memset(p, (int)i, i * 97);
	}
	assert_string_equal(cas_req_strdup(req, "kept"), "kept");
	assert_null(cas_req_alloc(req, 0));
	(void)snprintf(last_user, sizeof(last_user), "%s", u->user);
	(void)snprintf(last_domain, sizeof(last_domain), "%s", u->domain);
	n = snprintf(out, sizeof(out), "ok %u %zu", eas->version, len);
	assert_int_equal(cas_req_respond(req, 200, NULL, 0, out, (size_t)n), 0);
	assert_int_equal(cas_req_respond(req, 200, NULL, 0, "x", 1), -1);
}
CAS_COMMAND(test_sync_command, .name = "Sync", .min_version = 25,
	    .needs_policy_key = true, .handler = cmd_sync)

/* Ping: answered 100 ms later from another thread. */
static atomic_int ping_second_respond = 1;
static pthread_t ping_thread;

static void *
ping_later(void *arg)
{
	struct cas_req *req = arg;
	struct timespec ts = {0, 100 * 1000 * 1000};

	nanosleep(&ts, NULL);
	assert_int_equal(cas_req_respond(req, 200, NULL, 0, "pong", 4), 0);
	atomic_store(&ping_second_respond,
		     cas_req_respond(req, 200, NULL, 0, "again", 5));
	cas_req_unref(&req);
	return NULL;
}

static void
cmd_ping(struct cas_req *req, const struct cas_eas_request *eas)
{
	(void)eas;
	cas_req_ref(req);
	assert_int_equal(pthread_create(&ping_thread, NULL, ping_later, req),
			 0);
}
CAS_COMMAND(test_ping_command, .name = "Ping", .min_version = 120,
	    .handler = cmd_ping)

/* Search: streamed in three pieces, each written only after the client
 * has received the previous one (so delivery is provably incremental). */
static pthread_mutex_t stream_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stream_cond = PTHREAD_COND_INITIALIZER;
static size_t client_received;
static pthread_t stream_thread;
static atomic_int stream_pieces_seen_in_order;

static bool
wait_received(size_t n)
{
	struct timespec dl;
	bool ok = true;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 5;
	pthread_mutex_lock(&stream_lock);
	while (client_received < n && ok)
		ok = pthread_cond_timedwait(&stream_cond, &stream_lock, &dl) ==
		     0;
	pthread_mutex_unlock(&stream_lock);
	return client_received >= n;
}

static void *
stream_producer(void *arg)
{
	struct cas_req *req = arg;
	static const char *const pieces[] = {"<one>", "<two>", "<three>"};
	size_t total = 0;

	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(
		    cas_req_stream_write(req, pieces[i], strlen(pieces[i])), 0);
		total += strlen(pieces[i]);
		if (wait_received(total))
			atomic_fetch_add(&stream_pieces_seen_in_order, 1);
	}
	/* Over the buffering bound: refused, the stream goes on. */
	{
		size_t big_len = CAS_STREAM_MAX_BUFFERED_BYTES + 1;
		char *big = calloc(1, big_len);

		assert_non_null(big);
		assert_int_equal(cas_req_stream_write(req, big, big_len), -1);
		free(big);
	}
	assert_int_equal(cas_req_stream_end(req), 0);
	assert_int_equal(cas_req_stream_end(req), -1);
	assert_int_equal(cas_req_stream_write(req, "late", 4), -1);
	cas_req_unref(&req);
	return NULL;
}

static void
cmd_search(struct cas_req *req, const struct cas_eas_request *eas)
{
	const struct cas_header h = {"Content-Type",
				     "application/vnd.ms-sync.wbxml"};

	(void)eas;
	assert_int_equal(cas_req_stream_begin(req, 200, &h, 1), 0);
	assert_int_equal(cas_req_respond(req, 200, NULL, 0, NULL, 0), -1);
	cas_req_ref(req);
	assert_int_equal(
	    pthread_create(&stream_thread, NULL, stream_producer, req), 0);
}
CAS_COMMAND(test_search_command, .name = "Search", .min_version = 120,
	    .handler = cmd_search)

/* FolderSync: never answers; records how it was cancelled. */
static atomic_int cancel_why;
static atomic_int cancel_count;
static atomic_int foldersync_entered;

static void
on_cancel(struct cas_req *req, enum cas_req_end why, void *ctx)
{
	(void)req;
	(void)ctx;
	atomic_store(&cancel_why, (int)why);
	atomic_fetch_add(&cancel_count, 1);
}

static void
cmd_foldersync(struct cas_req *req, const struct cas_eas_request *eas)
{
	(void)eas;
	cas_req_on_cancel(req, on_cancel, NULL);
	atomic_fetch_add(&foldersync_entered, 1);
}
CAS_COMMAND(test_foldersync_command, .name = "FolderSync", .min_version = 25,
	    .handler = cmd_foldersync)

/* ResolveRecipients answers 451, ValidateCert 449 (status helpers). */
static void
cmd_redirect(struct cas_req *req, const struct cas_eas_request *eas)
{
	(void)eas;
	assert_int_equal(
	    cas_req_respond_redirect(req, "https://other.example/eas"), 0);
}
CAS_COMMAND(test_redirect_command, .name = "ResolveRecipients",
	    .min_version = 120, .handler = cmd_redirect)

static void
cmd_provision_first(struct cas_req *req, const struct cas_eas_request *eas)
{
	(void)eas;
	assert_int_equal(cas_req_respond_status(req, 449), 0);
}
CAS_COMMAND(test_449_command, .name = "ValidateCert", .min_version = 120,
	    .handler = cmd_provision_first)

/* GetItemEstimate: parked in a table like held Pings; the test answers
 * them all at once from another thread (a batch wake-up). */
#define HELD_N 40
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cas_req *held[HELD_N];
static size_t held_count;

static void
cmd_park(struct cas_req *req, const struct cas_eas_request *eas)
{
	(void)eas;
	cas_req_ref(req);
	pthread_mutex_lock(&held_lock);
	assert_true(held_count < HELD_N);
	held[held_count++] = req;
	pthread_mutex_unlock(&held_lock);
}
CAS_COMMAND(test_park_command, .name = "GetItemEstimate", .min_version = 120,
	    .handler = cmd_park)

static atomic_int batch_ok, batch_refused;

static void *
answer_batch(void *arg)
{
	(void)arg;
	for (int spin = 0; spin < 1000; spin++) {
		size_t n;

		pthread_mutex_lock(&held_lock);
		n = held_count;
		pthread_mutex_unlock(&held_lock);
		if (n == HELD_N)
			break;
		usleep(10 * 1000);
	}
	pthread_mutex_lock(&held_lock);
	for (size_t i = 0; i < held_count; i++) {
		char body[16];
		int len = snprintf(body, sizeof(body), "n%zu", i);

		if (cas_req_respond(held[i], 200, NULL, 0, body, (size_t)len) ==
		    0)
			atomic_fetch_add(&batch_ok, 1);
		/* A second answer is always refused. */
		if (cas_req_respond(held[i], 200, NULL, 0, "x", 1) != 0)
			atomic_fetch_add(&batch_refused, 1);
		cas_req_unref(&held[i]);
	}
	pthread_mutex_unlock(&held_lock);
	return NULL;
}

/* Settings: held with a 1 s timeout that answers. */
static void
settings_expired(struct cas_req *req, void *ctx)
{
	(void)ctx;
	assert_int_equal(cas_req_respond(req, 200, NULL, 0, "expired", 7), 0);
}

static void
cmd_settings(struct cas_req *req, const struct cas_eas_request *eas)
{
	(void)eas;
	assert_int_equal(cas_req_set_timeout(req, 1, settings_expired, NULL),
			 0);
}
CAS_COMMAND(test_settings_command, .name = "Settings", .min_version = 120,
	    .handler = cmd_settings)

/* ---- client ---- */
struct reply {
	long status;
	char headers[4096];
	size_t hlen;
	char body[4096];
	size_t blen;
	unsigned body_calls;
};

static size_t
on_body(char *data, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t len = size * n;
	size_t room = sizeof(r->body) - 1 - r->blen;

	memcpy(r->body + r->blen, data, len < room ? len : room);
	r->blen += len < room ? len : room;
	r->body[r->blen] = 0;
	r->body_calls++;
	pthread_mutex_lock(&stream_lock);
	client_received += len;
	pthread_cond_broadcast(&stream_cond);
	pthread_mutex_unlock(&stream_lock);
	return len;
}

static size_t
on_header(char *data, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t len = size * n;
	size_t room = sizeof(r->headers) - 1 - r->hlen;

	memcpy(r->headers + r->hlen, data, len < room ? len : room);
	r->hlen += len < room ? len : room;
	r->headers[r->hlen] = 0;
	return len;
}

struct call {
	const char *method;
	const char *path_query;
	const char *userpwd; /* NULL: none */
	const char *authz;   /* raw Authorization value */
	const char *version; /* MS-ASProtocolVersion */
	const char *body;
	size_t body_len;
	bool chunked;
	long timeout_ms;
	const char *extra_header; /* one more "Name: value" line */
};

static CURLcode
call(const struct call *c, struct reply *r)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[8192], line[512];
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	(void)snprintf(url, sizeof(url), "%s%s", base_url, c->path_query);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
			 c->timeout_ms > 0 ? c->timeout_ms : 10000L);
	if (c->userpwd != NULL) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERPWD, c->userpwd);
	}
	if (c->authz != NULL) {
		(void)snprintf(line, sizeof(line), "Authorization: %s",
			       c->authz);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (c->version != NULL) {
		(void)snprintf(line, sizeof(line), "MS-ASProtocolVersion: %s",
			       c->version);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (c->body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)c->body_len);
		if (c->chunked)
			hdrs = curl_slist_append(hdrs,
						 "Transfer-Encoding: chunked");
	}
	if (c->extra_header != NULL)
		hdrs = curl_slist_append(hdrs, c->extra_header);
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return rc;
}

static bool
has_header(const struct reply *r, const char *line)
{
	return strcasestr(r->headers, line) != NULL;
}

/* ---- tests ---- */

static void
test_options(void **state)
{
	struct call c = {.method = "OPTIONS",
			 .path_query = "/Microsoft-Server-ActiveSync"};
	struct reply r;
	int before;

	(void)state;
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 401);
	assert_true(has_header(&r, "WWW-Authenticate: Basic realm=\"easd\""));
	c.userpwd = "alice:secret";
	before = atomic_load(&verify_calls);
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_true(has_header(
	    &r, "MS-ASProtocolVersions: 2.5,12.0,12.1,14.0,14.1,16.0,16.1"));
	assert_true(has_header(&r, "MS-ASProtocolCommands: Sync,SendMail,"));
	assert_true(has_header(&r, ",ValidateCert,Find\r\n"));
	assert_true(has_header(&r, "MS-Server-ActiveSync: 15.1"));
	assert_true(has_header(&r, "Allow: OPTIONS,POST"));
	assert_true(has_header(&r, "Public: OPTIONS,POST"));
	assert_false(has_header(&r, "Content-Encoding"));
	assert_int_equal(r.blen, 0);
	/* A storm of requests: the cache answers, not the verifier. */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(call(&c, &r), CURLE_OK);
		assert_int_equal(r.status, 200);
	}
	assert_int_equal(atomic_load(&verify_calls), before + 1);
	/* Password change: dropped, so verified again. */
	assert_int_equal(cas_auth_drop_user(auth, "alice"), 1);
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(atomic_load(&verify_calls), before + 2);
}

static void
test_auth_failures_and_forms(void **state)
{
	struct call c = {.method = "POST",
			 .path_query = "/Microsoft-Server-ActiveSync?Cmd=Sync"
				       "&User=alice&DeviceId=abc&DeviceType=t",
			 .version = "14.1",
			 .body = "",
			 .body_len = 0};
	struct reply r;
	int before = atomic_load(&verify_calls);

	(void)state;
	c.userpwd = "alice:wrong";
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 401);
	c.userpwd = "nobody:wrong";
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 401);
	assert_int_equal(atomic_load(&verify_calls), before + 2);
	c.userpwd = "EXAMPLE\\alice:secret";
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok 141 0");
	assert_string_equal(last_user, "alice");
	assert_string_equal(last_domain, "EXAMPLE");
	c.userpwd = "alice@example.org:secret";
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(last_domain, "example.org");
	/* ISO-8859-1 "jürgen:päss" (Outlook) and its UTF-8 form. */
	c.userpwd = NULL;
	c.authz = "Basic avxyZ2VuOnDkc3M=";
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(last_user, "j\xc3\xbcrgen");
	c.authz = "Basic asO8cmdlbjpww6Rzcw==";
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	c.authz = "Basic !!notbase64";
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 401);
}

static void
test_edge_filtering(void **state)
{
	struct call c = {.method = "GET",
			 .path_query = "/Microsoft-Server-ActiveSync",
			 .userpwd = "alice:secret"};
	struct reply r;

	(void)state;
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 405);
	c.method = "PUT";
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 405);
	c.method = "POST";
	c.path_query = "/owa/";
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 404);
	/* Oversized query (ours) and header block (libmicrohttpd's pool). */
	{
		static char longq[6000], bigh[40000];

		(void)snprintf(longq, sizeof(longq),
			       "%s?Cmd=Sync&x=", CAS_HTTP_EAS_PATH);
		memset(longq + strlen(longq), 'q',
		       sizeof(longq) - strlen(longq) - 1);
		c.path_query = longq;
		assert_int_equal(call(&c, &r), CURLE_OK);
		assert_int_equal(r.status, 414);
		memcpy(bigh, "X-Big: ", 7);
		memset(bigh + 7, 'h', sizeof(bigh) - 8);
		c.path_query = CAS_HTTP_EAS_PATH;
		c.extra_header = bigh;
		assert_int_equal(call(&c, &r), CURLE_OK);
		assert_int_equal(r.status, 431);
		c.extra_header = NULL;
	}
	c.path_query = "/autodiscover/autodiscover.xml";
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 404); /* no handler registered */
	/* Unknown or unregistered command, missing version: 400. */
	c.path_query = "/Microsoft-Server-ActiveSync?Cmd=Frobnicate";
	c.version = "14.1";
	c.body = "";
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 400);
	c.path_query = "/Microsoft-Server-ActiveSync?Cmd=MoveItems";
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 400);
	c.path_query = "/Microsoft-Server-ActiveSync?Cmd=Sync";
	c.version = NULL;
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 400);
	c.version = "12.1";
	c.path_query = "/Microsoft-Server-ActiveSync?Cmd=ResolveRecipients";
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 451);
	assert_true(has_header(&r, "X-MS-Location: https://other.example/eas"));
	c.path_query = "/Microsoft-Server-ActiveSync?Cmd=ValidateCert";
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 449);
	c.path_query = "/Microsoft-Server-ActiveSync?Cmd=Search";
	c.version = "2.5"; /* Search registered from 12.0 on */
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 400);
}

static void
test_body_limit(void **state)
{
	static char big[4096];
	struct call c = {.method = "POST",
			 .path_query = "/Microsoft-Server-ActiveSync?Cmd=Sync",
			 .userpwd = "alice:secret",
			 .version = "14.1",
			 .body = big};
	struct reply r;

	(void)state;
	memset(big, 'x', sizeof(big));
	c.body_len = 1000; /* under the 1024-byte test limit */
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok 141 1000");
	c.body_len = sizeof(big); /* declared: refused before reading */
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 413);
	c.chunked = true; /* undeclared: counted while reading */
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 413);
}

static void
test_suspend_resume(void **state)
{
	struct call c = {.method = "POST",
			 .path_query = "/Microsoft-Server-ActiveSync?Cmd=Ping",
			 .userpwd = "alice:secret",
			 .version = "14.1",
			 .body = "",
			 .body_len = 0};
	struct reply r;

	(void)state;
	assert_int_equal(call(&c, &r), CURLE_OK);
	pthread_join(ping_thread, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "pong");
	assert_int_equal(atomic_load(&ping_second_respond), -1);
}

static void
test_streaming(void **state)
{
	struct call c = {.method = "POST",
			 .path_query =
			     "/Microsoft-Server-ActiveSync?Cmd=Search",
			 .userpwd = "alice:secret",
			 .version = "16.1",
			 .body = "",
			 .body_len = 0};
	struct reply r;

	(void)state;
	pthread_mutex_lock(&stream_lock);
	client_received = 0;
	pthread_mutex_unlock(&stream_lock);
	assert_int_equal(call(&c, &r), CURLE_OK);
	pthread_join(stream_thread, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "<one><two><three>");
	/* Each piece reached the client before the next was written. */
	assert_int_equal(atomic_load(&stream_pieces_seen_in_order), 3);
	assert_true(r.body_calls >= 3);
	assert_true(has_header(&r, "Transfer-Encoding: chunked"));
}

static void
test_many_held(void **state)
{
	CURLM *multi = curl_multi_init();
	CURL *h[HELD_N];
	struct reply *r = calloc(HELD_N, sizeof(*r));
	struct curl_slist *hdrs = NULL;
	char url[128];
	pthread_t t;
	int running = 1, done_ok = 0;

	(void)state;
	assert_non_null(r);
	(void)snprintf(url, sizeof(url),
		       "%s/Microsoft-Server-ActiveSync?Cmd=GetItemEstimate",
		       base_url);
	hdrs = curl_slist_append(hdrs, "MS-ASProtocolVersion: 14.1");
	for (int i = 0; i < HELD_N; i++) {
		h[i] = curl_easy_init();
		curl_easy_setopt(h[i], CURLOPT_URL, url);
		curl_easy_setopt(h[i], CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h[i], CURLOPT_USERPWD, "alice:secret");
		curl_easy_setopt(h[i], CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h[i], CURLOPT_WRITEDATA, &r[i]);
		curl_easy_setopt(h[i], CURLOPT_TIMEOUT, 20L);
		curl_multi_add_handle(multi, h[i]);
	}
	assert_int_equal(pthread_create(&t, NULL, answer_batch, NULL), 0);
	for (int loops = 0; running > 0 && loops < 20000; loops++) {
		curl_multi_perform(multi, &running);
		curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	pthread_join(t, NULL);
	for (int i = 0; i < HELD_N; i++) {
		long status = 0;

		curl_easy_getinfo(h[i], CURLINFO_RESPONSE_CODE, &status);
		if (status == 200 && r[i].body[0] == 'n')
			done_ok++;
		curl_multi_remove_handle(multi, h[i]);
		curl_easy_cleanup(h[i]);
	}
	curl_slist_free_all(hdrs);
	curl_multi_cleanup(multi);
	free(r);
	assert_int_equal(done_ok, HELD_N);
	assert_int_equal(atomic_load(&batch_ok), HELD_N);
	assert_int_equal(atomic_load(&batch_refused), HELD_N);
}

static bool
wait_until(bool (*pred)(void))
{
	for (int i = 0; i < 500; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};

		if (pred())
			return true;
		nanosleep(&ts, NULL);
	}
	return pred();
}

static bool
cancelled(void)
{
	return atomic_load(&cancel_count) > 0;
}

static bool
no_live(void)
{
	return cas_http_live_requests(server) == 0;
}

static void
test_client_gone(void **state)
{
	struct call c = {.method = "POST",
			 .path_query =
			     "/Microsoft-Server-ActiveSync?Cmd=FolderSync",
			 .userpwd = "alice:secret",
			 .version = "14.1",
			 .body = "",
			 .body_len = 0,
			 .timeout_ms = 300};
	struct reply r;

	(void)state;
	atomic_store(&cancel_count, 0);
	assert_int_equal(call(&c, &r), CURLE_OPERATION_TIMEDOUT);
	assert_true(wait_until(cancelled));
	assert_int_equal(atomic_load(&cancel_why), CAS_REQ_GONE);
	assert_true(wait_until(no_live));
	assert_int_equal(atomic_load(&cancel_count), 1);
}

static void
test_timeout(void **state)
{
	struct call c = {.method = "POST",
			 .path_query =
			     "/Microsoft-Server-ActiveSync?Cmd=Settings",
			 .userpwd = "alice:secret",
			 .version = "14.1",
			 .body = "",
			 .body_len = 0};
	struct reply r;

	(void)state;
	assert_int_equal(call(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "expired");
}

static struct reply held_reply;
static CURLcode held_rc;

static void *
held_client(void *arg)
{
	struct call c = {.method = "POST",
			 .path_query =
			     "/Microsoft-Server-ActiveSync?Cmd=FolderSync",
			 .userpwd = "alice:secret",
			 .version = "14.1",
			 .body = "",
			 .body_len = 0};

	(void)arg;
	held_rc = call(&c, &held_reply);
	return NULL;
}

static bool
held_in_handler(void)
{
	return atomic_load(&foldersync_entered) > 0;
}

/* Last: shutdown answers the held request. */
static void
test_shutdown(void **state)
{
	pthread_t t;

	(void)state;
	atomic_store(&cancel_count, 0);
	atomic_store(&foldersync_entered, 0);
	assert_int_equal(pthread_create(&t, NULL, held_client, NULL), 0);
	assert_true(wait_until(held_in_handler));
	cas_http_shutdown(server, 2000);
	pthread_join(t, NULL);
	assert_int_equal(held_rc, CURLE_OK);
	assert_int_equal(held_reply.status, 503);
	assert_true(has_header(&held_reply, "Retry-After: 5"));
	assert_int_equal(atomic_load(&cancel_why), CAS_REQ_SHUTDOWN);
	assert_int_equal(atomic_load(&cancel_count), 1);
}

/* Polling threads of the server under test: the whole group runs with
 * MHD's single internal thread and again with a pool of workers, where
 * callbacks for different connections run concurrently and each worker
 * suspends and resumes its own connections. */
static unsigned pool_threads;

static int
setup(void **state)
{
	static struct cas_listen listen;
	struct cas_http_config cfg;
	char *err = NULL;

	(void)state;
	/* The group runs twice: start each run from the same state. */
	atomic_store(&verify_calls, 0);
	atomic_store(&ping_second_respond, 1);
	atomic_store(&stream_pieces_seen_in_order, 0);
	atomic_store(&cancel_why, 0);
	atomic_store(&cancel_count, 0);
	atomic_store(&foldersync_entered, 0);
	atomic_store(&batch_ok, 0);
	atomic_store(&batch_refused, 0);
	held_count = 0;
	memset(held, 0, sizeof(held));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	assert_int_equal(cas_conf_parse_listen("127.0.0.1:0", &listen), 0);
	assert_int_equal(cas_auth_new(300, &auth), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.http = &listen;
	cfg.auth = auth;
	cfg.verifier.verify = fake_verify;
	cfg.plain_auth = CAS_PLAIN_AUTH_LOOPBACK;
	cfg.max_body_bytes = 1024;
	cfg.server_version = "15.1";
	cfg.threads = pool_threads;
	if (cas_http_start(&cfg, &server, &err) != 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return -1;
	}
	(void)snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%u",
		       cas_http_port(server, false));
	return cas_http_port(server, false) != 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	cas_http_free(&server);
	cas_auth_free(&auth);
	curl_global_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_options),
	    cmocka_unit_test(test_auth_failures_and_forms),
	    cmocka_unit_test(test_edge_filtering),
	    cmocka_unit_test(test_body_limit),
	    cmocka_unit_test(test_suspend_resume),
	    cmocka_unit_test(test_streaming),
	    cmocka_unit_test(test_many_held),
	    cmocka_unit_test(test_client_gone),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_shutdown),
	};

	int failed;

	pool_threads = 0;
	failed = cmocka_run_group_tests_name("one polling thread", tests, setup,
					     teardown);
	pool_threads = 3;
	failed += cmocka_run_group_tests_name("pool of 3 polling threads",
					      tests, setup, teardown);
	return failed;
}
