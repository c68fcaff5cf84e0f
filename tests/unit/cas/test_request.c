/* The request pipeline (cas/request.c) and the mailbox client
 * (cas/mbox_client.c) against the fake mailbox over the real HTTP server:
 * authentication through the RPC verifier, device registration, policy
 * key verdicts (449 before 14.0, Status 142/144 from 14.0 in the
 * command's envelope), device access (403 / Status 129; quarantine lets
 * Provision and FolderSync through), the base64 query
 * form, mailbox failures, and the helpers' conversions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "proto/base64.h"
#include "tests/unit/cas/cas_harness.h"

static struct cas_harness h;

static const uint16_t FS_STATUS[] = {EAS_FOLDERHIERARCHY_STATUS};

static int
setup(void **state)
{
	(void)state;
	return cas_harness_start(&h);
}

static int
teardown(void **state)
{
	(void)state;
	cas_harness_stop(&h);
	return 0;
}

static long
foldersync_status(const char *dev, const char *version, const char *key,
		  long *http_r)
{
	struct cas_reply r;
	long st;

	assert_int_equal(cas_harness_foldersync(&h, dev, version, key, "0", &r),
			 0);
	*http_r = r.status;
	st = cas_reply_uint(&r, FS_STATUS, 1);
	if (r.tree != NULL)
		assert_int_equal(wbxml_node_tag(wbxml_tree_root(r.tree)),
				 EAS_FOLDERHIERARCHY_FOLDER_SYNC);
	cas_reply_free(&r);
	return st;
}

static void
test_request_bad_credentials(void **state)
{
	struct cas_reply r;
	char q[256];
	struct buf b;

	(void)state;
	cas_harness_query(q, sizeof(q), "FolderSync", "AUTHDEV");
	cas_harness_foldersync_body(&b, "0");
	assert_int_equal(cas_harness_post(&h, q, "14.1", "0", "alice:wrong",
					  b.data, b.len, &r),
			 0);
	assert_int_equal(r.status, 401);
	cas_reply_free(&r);
	assert_int_equal(cas_harness_post(&h, q, "14.1", "0", "mallory:secret",
					  b.data, b.len, &r),
			 0);
	assert_int_equal(r.status, 401);
	cas_reply_free(&r);
	buf_free(&b);
	/* Nothing was registered for a request that did not authenticate. */
	struct fake_device d;
	assert_int_equal(fake_mailbox_device(h.fm, h.user, "AUTHDEV", &d), -1);
}

/* MS-ASPROV 3.1.5.1: "0" says "I have no key". */
static void
test_request_not_provisioned(void **state)
{
	long http;

	(void)state;
	assert_int_equal(foldersync_status("NOKEY", "12.1", "0", &http), -1);
	assert_int_equal(http, 449);
	assert_int_equal(foldersync_status("NOKEY", "2.5", "0", &http), -1);
	assert_int_equal(http, 449);
	assert_int_equal(foldersync_status("NOKEY", "14.0", "0", &http), 142);
	assert_int_equal(http, 200);
	assert_int_equal(foldersync_status("NOKEY", "14.1", "0", &http), 142);
	assert_int_equal(foldersync_status("NOKEY", "16.1", "0", &http), 142);
}

/* Outlook desktop never provisions: with the default policy (which
 * allows non-provisionable devices) a request without any key passes;
 * with a strict policy it gets 142. */
static void
test_request_outlook_desktop_no_key(void **state)
{
	long http;

	(void)state;
	assert_int_equal(foldersync_status("OUTLOOK", "14.1", NULL, &http), 1);
	assert_int_equal(http, 200);
	assert_int_equal(
	    fake_mailbox_set_policy(h.fm, "strict",
				    "AllowNonProvisionableDevices=0\n"),
	    0);
	assert_int_equal(fake_mailbox_assign_policy(h.fm, h.user, "strict"), 0);
	assert_int_equal(foldersync_status("OUTLOOK", "14.1", NULL, &http),
			 142);
	assert_int_equal(foldersync_status("OUTLOOK", "12.1", NULL, &http), -1);
	assert_int_equal(http, 449);
	assert_int_equal(fake_mailbox_assign_policy(h.fm, h.user, ""), 0);
}

static void
test_request_invalid_key(void **state)
{
	uint32_t key;
	char k[24];
	long http;

	(void)state;
	assert_int_equal(cas_harness_provision(&h, "BADKEY", "14.1", &key), 0);
	(void)snprintf(k, sizeof(k), "%u", (unsigned)(key ^ 0x5a5au));
	assert_int_equal(foldersync_status("BADKEY", "14.1", k, &http), 144);
	assert_int_equal(foldersync_status("BADKEY", "12.1", k, &http), -1);
	assert_int_equal(http, 449);
	(void)snprintf(k, sizeof(k), "%u", (unsigned)key);
	assert_int_equal(foldersync_status("BADKEY", "14.1", k, &http), 1);
}

/* The first request creates the device record; later ones update it
 * when something changed or the registration is older than a minute. */
static void
test_request_device_register(void **state)
{
	struct fake_device d;
	long http;
	unsigned verified =
	    fake_mailbox_count(h.fm, RPC__MSG_TYPE__MSG_VERIFY_CREDENTIALS);

	(void)state;
	(void)foldersync_status("NEWDEV", "16.1", "0", &http);
	assert_int_equal(fake_mailbox_device(h.fm, h.user, "NEWDEV", &d), 0);
	assert_string_equal(d.device_type, "TestPhone");
	assert_string_equal(d.user_agent, "Harness/1.0");
	assert_string_equal(d.protocol_version, "16.1");
	assert_true(d.last_seen > 0);
	assert_int_equal(d.registrations, 1);
	/* Same version and user agent at once: no new DeviceRegister. */
	(void)foldersync_status("NEWDEV", "16.1", "0", &http);
	assert_int_equal(fake_mailbox_device(h.fm, h.user, "NEWDEV", &d), 0);
	assert_int_equal(d.registrations, 1);
	/* Another protocol version: registered again. */
	(void)foldersync_status("NEWDEV", "14.1", "0", &http);
	assert_int_equal(fake_mailbox_device(h.fm, h.user, "NEWDEV", &d), 0);
	assert_int_equal(d.registrations, 2);
	assert_string_equal(d.protocol_version, "14.1");
	/* The record removed meanwhile: the next request recreates it. */
	assert_int_equal(fake_mailbox_forget_device(h.fm, h.user, "NEWDEV"), 0);
	assert_int_equal(foldersync_status("NEWDEV", "14.1", "0", &http), 142);
	assert_int_equal(fake_mailbox_device(h.fm, h.user, "NEWDEV", &d), 0);
	assert_int_equal(d.registrations, 1);
	/* Credentials were checked by an earlier test; these requests come
	 * from the cache, and the user id from the verifier's memory. */
	assert_true(verified >= 1);
	assert_int_equal(
	    fake_mailbox_count(h.fm, RPC__MSG_TYPE__MSG_VERIFY_CREDENTIALS),
	    verified);
	assert_int_equal(fake_mailbox_count(h.fm, RPC__MSG_TYPE__MSG_USER_GET),
			 0);
}

/* Blocked and quarantined devices: 403 before 14.0, Status 129 after. */
static void
test_request_blocked_device(void **state)
{
	uint32_t key;
	char k[24];
	long http;
	struct cas_reply r;
	struct buf b;
	char q[256];

	(void)state;
	assert_int_equal(cas_harness_provision(&h, "BLOCKED", "14.1", &key), 0);
	(void)snprintf(k, sizeof(k), "%u", (unsigned)key);
	assert_int_equal(
	    fake_mailbox_set_access(h.fm, h.user, "BLOCKED",
				    RPC__DEVICE_ACCESS__ACCESS_BLOCK),
	    0);
	assert_int_equal(foldersync_status("BLOCKED", "12.1", k, &http), -1);
	assert_int_equal(http, 403);
	assert_int_equal(foldersync_status("BLOCKED", "14.1", k, &http), 129);
	assert_int_equal(http, 200);
	/* Provision too: a block is not escaped by re-provisioning. */
	cas_harness_query(q, sizeof(q), "Provision", "BLOCKED");
	cas_harness_provision_body(&b, "MS-EAS-Provisioning-WBXML", 0, 0,
				   false);
	assert_int_equal(cas_harness_post(&h, q, "12.1", "0", HARNESS_USERPWD,
					  b.data, b.len, &r),
			 0);
	buf_free(&b);
	assert_int_equal(r.status, 403);
	cas_reply_free(&r);
	assert_int_equal(
	    fake_mailbox_set_access(h.fm, h.user, "BLOCKED",
				    RPC__DEVICE_ACCESS__ACCESS_ALLOW),
	    0);
	assert_int_equal(foldersync_status("BLOCKED", "14.1", k, &http), 1);
}

/* A content command's top-level Status (-1 without one) and HTTP code. */
static long
command_status(const char *cmd, uint16_t root, uint16_t status_tag,
	       const char *dev, const char *version, const char *key,
	       long *http_r)
{
	const uint16_t path[] = {status_tag};
	struct cas_reply r;
	struct wbxml_enc e;
	struct buf b;
	char q[256];
	long st;

	buf_init(&b, 4096);
	wbxml_enc_init_buf(&e, &b);
	wbxml_enc_start(&e, root);
	if (root == EAS_AIRSYNC_SYNC) {
		wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTIONS);
		wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTION);
		wbxml_enc_str(&e, EAS_AIRSYNC_SYNC_KEY, "0");
		wbxml_enc_str(&e, EAS_AIRSYNC_COLLECTION_ID, "2");
		wbxml_enc_end(&e);
		wbxml_enc_end(&e);
	} else {
		wbxml_enc_uint(&e, EAS_PING_HEARTBEAT_INTERVAL, 60);
	}
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	cas_harness_query(q, sizeof(q), cmd, dev);
	assert_int_equal(cas_harness_post(&h, q, version, key, HARNESS_USERPWD,
					  b.data, b.len, &r),
			 0);
	buf_free(&b);
	*http_r = r.status;
	st = cas_reply_uint(&r, path, 1);
	cas_reply_free(&r);
	return st;
}

/* Quarantine (Exchange's device access rules): Provision, FolderSync and
 * Settings still work, so the device's partnership and details reach the
 * administrator; Sync and Ping (content) get Status 129 from 14.0, 403
 * before; allowing the device lifts it. */
static void
test_request_quarantined_device(void **state)
{
	uint32_t key;
	char k[24];
	long http;
	struct cas_reply r;
	struct buf b;
	char q[256];

	(void)state;
	assert_int_equal(cas_harness_provision(&h, "QUAR", "14.1", &key), 0);
	(void)snprintf(k, sizeof(k), "%u", (unsigned)key);
	assert_int_equal(
	    fake_mailbox_set_access(h.fm, h.user, "QUAR",
				    RPC__DEVICE_ACCESS__ACCESS_QUARANTINE),
	    0);
	/* The hierarchy, in 14.1 and 16.1. */
	assert_int_equal(foldersync_status("QUAR", "16.1", k, &http), 1);
	assert_int_equal(http, 200);
	/* Content: refused like a block. */
	assert_int_equal(command_status("Sync", EAS_AIRSYNC_SYNC,
					EAS_AIRSYNC_STATUS, "QUAR", "14.1", k,
					&http),
			 129);
	assert_int_equal(http, 200);
	assert_int_equal(command_status("Ping", EAS_PING_PING, EAS_PING_STATUS,
					"QUAR", "16.1", k, &http),
			 129);
	(void)command_status("Sync", EAS_AIRSYNC_SYNC, EAS_AIRSYNC_STATUS,
			     "QUAR", "12.1", k, &http);
	assert_int_equal(http, 403);
	/* Provision still runs (a 12.1 device gets its document, not 403). */
	cas_harness_query(q, sizeof(q), "Provision", "QUAR");
	cas_harness_provision_body(&b, "MS-EAS-Provisioning-WBXML", 0, 0, true);
	assert_int_equal(cas_harness_post(&h, q, "12.1", "0", HARNESS_USERPWD,
					  b.data, b.len, &r),
			 0);
	buf_free(&b);
	assert_int_equal(r.status, 200);
	assert_non_null(r.tree);
	cas_reply_free(&r);
	/* Allowed: content flows (the Sync reaches the mailbox). */
	assert_int_equal(
	    fake_mailbox_set_access(h.fm, h.user, "QUAR",
				    RPC__DEVICE_ACCESS__ACCESS_ALLOW),
	    0);
	assert_int_not_equal(command_status("Sync", EAS_AIRSYNC_SYNC,
					    EAS_AIRSYNC_STATUS, "QUAR", "14.1",
					    k, &http),
			     129);
	assert_int_equal(http, 200);
}

static void
test_request_bad_request_line(void **state)
{
	struct cas_reply r;
	struct buf b;

	(void)state;
	cas_harness_foldersync_body(&b, "0");
	/* DeviceId with a character outside [A-Za-z0-9]. */
	assert_int_equal(cas_harness_post(&h,
					  "Cmd=FolderSync&User=alice&DeviceId="
					  "a%2Fb&DeviceType=X",
					  "14.1", "0", HARNESS_USERPWD, b.data,
					  b.len, &r),
			 0);
	assert_int_equal(r.status, 400);
	cas_reply_free(&r);
	/* No protocol version. */
	assert_int_equal(cas_harness_post(&h,
					  "Cmd=FolderSync&User=alice&DeviceId="
					  "ABC&DeviceType=X",
					  NULL, "0", HARNESS_USERPWD, b.data,
					  b.len, &r),
			 0);
	assert_int_equal(r.status, 400);
	cas_reply_free(&r);
	buf_free(&b);
}

/* Windows Mail's base64 query: version, command code, locale, device id,
 * policy key and device type in one token (MS-ASHTTP 2.2.1.1.1.1). */
static void
test_request_base64_query(void **state)
{
	uint32_t key;
	uint8_t raw[64];
	char q[128], esc[256];
	size_t n = 0, e = 0;
	struct cas_reply r;
	struct buf b;
	const uint8_t dev[] = {0xB6, 0x4E, 0x01, 0x22};

	(void)state;
	/* Provision over the plain form under the hex device id. */
	assert_int_equal(cas_harness_provision(&h, "B64E0122", "14.1", &key),
			 0);
	raw[n++] = 141;
	raw[n++] = (uint8_t)eas_cmd_by_id(EAS_CMD_FOLDERSYNC)->code;
	raw[n++] = 0x09;
	raw[n++] = 0x04;
	raw[n++] = sizeof(dev);
	memcpy(raw + n, dev, sizeof(dev));
	n += sizeof(dev);
	raw[n++] = 4;
	memcpy(raw + n, &key, 4); /* little-endian, as x86 stores it */
	n += 4;
	raw[n++] = 9;
	memcpy(raw + n, "TestPhone", 9);
	n += 9;
	assert_int_equal(base64_encode(raw, n, q, sizeof(q)), 0);
	for (size_t i = 0; q[i] != 0 && e + 4 < sizeof(esc); i++) {
		if (q[i] == '+' || q[i] == '/' || q[i] == '=')
			e += (size_t)snprintf(esc + e, sizeof(esc) - e,
					      "%%%02X", (unsigned char)q[i]);
		else
			esc[e++] = q[i];
	}
	esc[e] = 0;
	cas_harness_foldersync_body(&b, "0");
	assert_int_equal(cas_harness_post(&h, esc, NULL, NULL, HARNESS_USERPWD,
					  b.data, b.len, &r),
			 0);
	buf_free(&b);
	assert_int_equal(r.status, 200);
	assert_int_equal(cas_reply_uint(&r, FS_STATUS, 1), 1);
	cas_reply_free(&r);
}

/* The mailbox busy or broken: 503 / Status 111, 500 / Status 110. */
static void
test_request_mailbox_failures(void **state)
{
	struct cas_reply r;
	long http;

	(void)state;
	fake_mailbox_fail(h.fm, RPC__MSG_TYPE__MSG_DEVICE_REGISTER,
			  RPC__STATUS__STATUS_BUSY);
	assert_int_equal(foldersync_status("FAILDEV", "14.1", "0", &http), 111);
	assert_int_equal(
	    cas_harness_foldersync(&h, "FAILDEV", "12.1", "0", "0", &r), 0);
	assert_int_equal(r.status, 503);
	cas_reply_free(&r);
	fake_mailbox_fail(h.fm, RPC__MSG_TYPE__MSG_DEVICE_REGISTER,
			  RPC__STATUS__STATUS_INTERNAL);
	assert_int_equal(foldersync_status("FAILDEV", "14.1", "0", &http), 110);
	assert_int_equal(foldersync_status("FAILDEV", "12.1", "0", &http), -1);
	assert_int_equal(http, 500);
	fake_mailbox_fail(h.fm, RPC__MSG_TYPE__MSG_DEVICE_REGISTER,
			  RPC__STATUS__STATUS_UNSPECIFIED);
	/* A corrupt policy text in the mailbox is a server error too. */
	assert_int_equal(
	    fake_mailbox_set_policy(h.fm, "broken", "Nonsense=1\n"), 0);
	assert_int_equal(fake_mailbox_assign_policy(h.fm, h.user, "broken"), 0);
	assert_int_equal(foldersync_status("FAILDEV", "14.1", "0", &http), 110);
	assert_int_equal(fake_mailbox_assign_policy(h.fm, h.user, ""), 0);
	assert_int_equal(foldersync_status("FAILDEV", "14.1", "0", &http), 142);
}

/* ---- mailbox client ---- */

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t ev_user;
static char ev_folder[32];
static atomic_int ev_count;
static atomic_int ev_resets;

static void
on_event(void *arg, const Rpc__Event *ev)
{
	(void)arg;
	if (ev == NULL) {
		atomic_fetch_add(&ev_resets, 1);
		return;
	}
	pthread_mutex_lock(&ev_lock);
	ev_user = ev->user;
	if (ev->kind_case == RPC__EVENT__KIND_CHANGED)
		(void)snprintf(ev_folder, sizeof(ev_folder), "%s",
			       ev->changed->folder_id);
	pthread_mutex_unlock(&ev_lock);
	atomic_fetch_add(&ev_count, 1);
}

static void
test_mbox_events(void **state)
{
	Rpc__Event ev;
	Rpc__ChangedEvent ch;
	struct timespec ts = {0, 10 * 1000 * 1000};

	(void)state;
	assert_int_equal(mbox_client_on_event(h.mc, on_event, NULL), 0);
	rpc__event__init(&ev);
	rpc__changed_event__init(&ch);
	ch.folder_id = "inbox";
	ch.modseq = 7;
	ev.user = h.user;
	ev.kind_case = RPC__EVENT__KIND_CHANGED;
	ev.changed = &ch;
	assert_int_equal(fake_mailbox_publish(h.fm, &ev), 0);
	for (int i = 0; i < 300 && atomic_load(&ev_count) == 0; i++)
		nanosleep(&ts, NULL);
	assert_int_equal(atomic_load(&ev_count), 1);
	pthread_mutex_lock(&ev_lock);
	assert_int_equal(ev_user, h.user);
	assert_string_equal(ev_folder, "inbox");
	pthread_mutex_unlock(&ev_lock);
	mbox_client_off_event(h.mc, on_event, NULL);
	assert_int_equal(fake_mailbox_publish(h.fm, &ev), 0);
	for (int i = 0; i < 20; i++)
		nanosleep(&ts, NULL);
	assert_int_equal(atomic_load(&ev_count), 1);
}

static bool
wait_count(atomic_int *counter, int want)
{
	struct timespec ts = {0, 10 * 1000 * 1000};

	for (int i = 0; i < 500 && atomic_load(counter) < want; i++)
		nanosleep(&ts, NULL);
	return atomic_load(counter) >= want;
}

/* easd-mailbox restarts: listeners get a NULL event (events may have been
 * missed), the subscription is renewed, and requests work again. */
static void
test_mbox_reconnect(void **state)
{
	Rpc__Event ev;
	Rpc__HierarchyChangedEvent hc;
	int resets, events;
	long http;

	(void)state;
	atomic_store(&ev_resets, 0);
	assert_int_equal(mbox_client_on_event(h.mc, on_event, NULL), 0);
	assert_int_equal(fake_mailbox_bounce(h.fm), 0);
	assert_true(wait_count(&ev_resets, 1));
	resets = atomic_load(&ev_resets);
	assert_true(resets >= 1);
	/* The renewed subscription delivers events again (the Subscribe may
	 * still be in flight: publish until one arrives, bounded). */
	rpc__event__init(&ev);
	rpc__hierarchy_changed_event__init(&hc);
	hc.modseq = 9;
	ev.user = h.user;
	ev.kind_case = RPC__EVENT__KIND_HIERARCHY_CHANGED;
	ev.hierarchy_changed = &hc;
	events = atomic_load(&ev_count);
	for (int i = 0; i < 50 && atomic_load(&ev_count) == events; i++) {
		struct timespec ts = {0, 20 * 1000 * 1000};

		assert_int_equal(fake_mailbox_publish(h.fm, &ev), 0);
		nanosleep(&ts, NULL);
	}
	assert_true(atomic_load(&ev_count) > events);
	mbox_client_off_event(h.mc, on_event, NULL);
	/* Requests flow again over the new connections. */
	for (int i = 0; i < 50; i++) {
		if (foldersync_status("RECONN", "14.1", "0", &http) == 142)
			break;
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	assert_int_equal(foldersync_status("RECONN", "14.1", "0", &http), 142);
}

struct sync_call {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int calls;
	Rpc__Status status;
};

static void
call_done(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	struct sync_call *c = arg;

	(void)reply;
	pthread_mutex_lock(&c->lock);
	c->calls++;
	c->status = status;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* A mailbox that is not there: each call completes exactly once, with
 * STATUS_DISCONNECTED, and freeing the client is clean. */
static void
test_mbox_unreachable(void **state)
{
	struct mbox_client_config cfg;
	struct mbox_client *mc = NULL;
	struct sync_call c = {PTHREAD_MUTEX_INITIALIZER,
			      PTHREAD_COND_INITIALIZER, 0, 0};
	Rpc__UserGetRequest m;
	char *error = NULL;
	struct timespec dl;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.addr = "unix:/nonexistent/easd-test.sock";
	cfg.connections = 1;
	assert_int_equal(mbox_client_start(&cfg, &mc, &error), 0);
	assert_false(mbox_client_is_up(mc));
	rpc__user_get_request__init(&m);
	m.login = "alice";
	assert_int_equal(mbox_call(mc, RPC__MSG_TYPE__MSG_USER_GET, &m.base,
				   1000, call_done, &c),
			 0);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 5;
	pthread_mutex_lock(&c.lock);
	while (c.calls == 0 &&
	       pthread_cond_timedwait(&c.cond, &c.lock, &dl) == 0)
		;
	pthread_mutex_unlock(&c.lock);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.status, RPC__STATUS__STATUS_DISCONNECTED);
	/* A message of the wrong type for the frame type is refused. */
	assert_int_equal(mbox_call(mc, RPC__MSG_TYPE__MSG_FOLDER_SYNC, &m.base,
				   0, call_done, &c),
			 -1);
	mbox_client_free(&mc);
	assert_null(mc);
	assert_int_equal(c.calls, 1);
	/* tcp without TLS files is a configuration error. */
	cfg.addr = "tcp:127.0.0.1:1";
	assert_int_equal(mbox_client_start(&cfg, &mc, &error), -1);
	assert_non_null(error);
	free(error);
}

/* ---- streamed WBXML answers (cas/wbxml_resp.h) ---- */

#define STREAM_ITEMS 3000

/* Writes a ValidateCert response of STREAM_ITEMS Status elements through
 * the streaming encoder, with keep-alives between chunks. */
static void
stream_run(struct cas_request *r)
{
	struct cas_wbxml_stream s;
	struct wbxml_enc *e = &s.enc;

	cas_wbxml_stream_init(&s, r->req);
	assert_false(cas_wbxml_stream_begun(&s));
	(void)wbxml_enc_start(e, EAS_VALIDATECERT_VALIDATE_CERT);
	(void)wbxml_enc_uint(e, EAS_VALIDATECERT_STATUS, 1);
	for (unsigned i = 0; i < STREAM_ITEMS; i++) {
		(void)wbxml_enc_start(e, EAS_VALIDATECERT_CERTIFICATE);
		(void)wbxml_enc_uint(e, EAS_VALIDATECERT_STATUS, i);
		(void)wbxml_enc_end(e);
		if (i % 1000 == 999)
			assert_int_equal(wbxml_enc_keepalive(e), 0);
	}
	assert_true(cas_wbxml_stream_begun(&s));
	(void)wbxml_enc_end(e);
	assert_int_equal(cas_wbxml_stream_finish(&s), 0);
	cas_request_done(r);
}

static void
stream_handler(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, stream_run);
}

static void
test_wbxml_stream(void **state)
{
	/* A command name no module of this branch serves; if
	 * ResolveRecipients gets a real handler, pick another unserved name
	 * here. */
	static const struct cas_command cmd = {.name = "ResolveRecipients",
					       .min_version = 25,
					       .needs_policy_key = true,
					       .handler = stream_handler};
	struct cas_reply r;
	char q[256];
	const struct wbxml_node *root;

	(void)state;
	assert_int_equal(cas_dispatch_register(&cmd), 0);
	cas_harness_query(q, sizeof(q), "ResolveRecipients", "STREAMDEV");
	assert_int_equal(
	    cas_harness_post(&h, q, "14.1", NULL, HARNESS_USERPWD, NULL, 0, &r),
	    0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, CAS_WBXML_CONTENT_TYPE);
	assert_true(r.body.len > WBXML_ENC_CHUNK_BYTES);
	assert_non_null(r.tree);
	root = wbxml_tree_root(r.tree);
	assert_int_equal(wbxml_node_tag(root), EAS_VALIDATECERT_VALIDATE_CERT);
	assert_int_equal(
	    wbxml_node_count_children(root, EAS_VALIDATECERT_CERTIFICATE),
	    STREAM_ITEMS);
	cas_reply_free(&r);
}

/* ---- pure helpers ---- */

static void
test_request_helpers(void **state)
{
	struct policykey_device pk, back;
	char text[32];
	uint8_t hash[POLICY_HASH_BYTES];
	uint16_t root, st;

	(void)state;
	memset(&pk, 0, sizeof(pk));
	memset(hash, 0xab, sizeof(hash));
	pk.state = POLICYKEY_STATE_FINAL;
	pk.key = 4000000000u;
	pk.acked_key = 17;
	memcpy(pk.policy_hash, hash, sizeof(hash));
	cas_request_pk_to_text(&pk, text, sizeof(text));
	/* The RPC record is the key alone (mailbox/rpc_devices.c parses a
	 * decimal u32); acked_key stays on the CAS. */
	assert_string_equal(text, "4000000000");
	assert_int_equal(
	    cas_request_pk_from_rpc(text, RPC__POLICY_KEY_STATE__KEY_FINAL,
				    hash, sizeof(hash), &back),
	    0);
	pk.acked_key = 0;
	assert_memory_equal(&pk, &back, sizeof(pk));
	pk.state = POLICYKEY_STATE_NONE;
	cas_request_pk_to_text(&pk, text, sizeof(text));
	assert_string_equal(text, "");
	assert_int_equal(
	    cas_request_pk_from_rpc("12", RPC__POLICY_KEY_STATE__KEY_TEMPORARY,
				    NULL, 0, &back),
	    0);
	assert_int_equal(back.state, POLICYKEY_STATE_TEMPORARY);
	assert_int_equal(back.key, 12);
	assert_int_equal(back.acked_key, 0);
	/* Unreadable records read as "not provisioned". */
	assert_int_equal(
	    cas_request_pk_from_rpc("12/7", RPC__POLICY_KEY_STATE__KEY_FINAL,
				    NULL, 0, &back),
	    -1);
	assert_int_equal(back.state, POLICYKEY_STATE_NONE);
	assert_int_equal(
	    cas_request_pk_from_rpc("", RPC__POLICY_KEY_STATE__KEY_FINAL, NULL,
				    0, &back),
	    -1);
	for (int w = WIPE_STATE_NONE; w <= WIPE_STATE_PENDING_ACCOUNT_ONLY; w++)
		assert_int_equal(
		    cas_request_wipe_from_rpc(
			cas_request_wipe_to_rpc((enum wipe_state)w)),
		    w);
	assert_int_equal(cas_request_wipe_from_rpc(
			     cas_request_wipe_to_rpc(WIPE_STATE_ACCOUNT_WIPED)),
			 WIPE_STATE_WIPED);
	/* Every command with a WBXML answer has its envelope. */
	for (int id = 0; id < EAS_CMD_COUNT; id++) {
		bool legacy = id == EAS_CMD_GETATTACHMENT ||
			      id == EAS_CMD_GETHIERARCHY ||
			      id == EAS_CMD_CREATECOLLECTION ||
			      id == EAS_CMD_DELETECOLLECTION ||
			      id == EAS_CMD_MOVECOLLECTION;

		assert_int_equal(
		    cas_request_envelope((enum eas_cmd_id)id, &root, &st),
		    legacy ? -1 : 0);
		if (!legacy)
			assert_int_equal(WBXML_TAG_PAGE(root),
					 WBXML_TAG_PAGE(st));
	}
	assert_int_equal(cas_request_envelope(EAS_CMD_PING, &root, &st), 0);
	assert_int_equal(root, EAS_PING_PING);
	assert_int_equal(st, EAS_PING_STATUS);
}

static void
test_wbxml_parse_statuses(void **state)
{
	static const uint8_t ok[] = {0x03, 0x01, 0x6a, 0x00,
				     0x00, 0x07, 0x56, 0x01};
	struct wbxml_tree *t = NULL;
	unsigned st = 0;

	(void)state;
	assert_int_equal(
	    cas_wbxml_parse(NULL, 0, EAS_FOLDERHIERARCHY_FOLDER_SYNC, &t, &st),
	    0);
	assert_null(t);
	assert_int_equal(cas_wbxml_parse(ok, sizeof(ok),
					 EAS_FOLDERHIERARCHY_FOLDER_SYNC, &t,
					 &st),
			 0);
	assert_non_null(t);
	wbxml_tree_free(&t);
	assert_int_equal(
	    cas_wbxml_parse(ok, sizeof(ok), EAS_PING_PING, &t, &st), -1);
	assert_int_equal(st, CAS_STATUS_INVALID_XML);
	assert_null(t);
	for (size_t len = 1; len < sizeof(ok); len++) {
		assert_int_equal(
		    cas_wbxml_parse(ok, len, EAS_FOLDERHIERARCHY_FOLDER_SYNC,
				    &t, &st),
		    -1);
		assert_int_equal(st, CAS_STATUS_INVALID_WBXML);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_bad_credentials),
	    cmocka_unit_test(test_request_not_provisioned),
	    cmocka_unit_test(test_request_outlook_desktop_no_key),
	    cmocka_unit_test(test_request_invalid_key),
	    cmocka_unit_test(test_request_device_register),
	    cmocka_unit_test(test_request_blocked_device),
	    cmocka_unit_test(test_request_quarantined_device),
	    cmocka_unit_test(test_request_bad_request_line),
	    cmocka_unit_test(test_request_base64_query),
	    cmocka_unit_test(test_request_mailbox_failures),
	    cmocka_unit_test(test_wbxml_stream),
	    cmocka_unit_test(test_mbox_events),
	    cmocka_unit_test(test_mbox_reconnect),
	    cmocka_unit_test(test_mbox_unreachable),
	    cmocka_unit_test(test_request_helpers),
	    cmocka_unit_test(test_wbxml_parse_statuses),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
