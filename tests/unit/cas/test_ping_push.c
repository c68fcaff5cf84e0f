/* Ping end to end (Direct Push) against the fake mailbox: heartbeat
 * bounds (Status 5 with the bound), MaxFolders (Status 6), the empty Ping
 * with and without cached parameters (Status 3), changes found by
 * PingCheck (Status 2 at once), unknown folders (Status 7), a held Ping
 * woken by a Changed event (Status 2 with the folder), expiry (Status 1,
 * with a 1 s heartbeat allowed by the test settings), Gmail's two Pings
 * (the newer ends the older), a wipe event releasing the held Ping, a
 * hierarchy change (Status 7), and a client that disconnects (its watch
 * entry goes).  Every wait is bounded by generous timeouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>

#include "cas/watch.h"
#include "tests/unit/cas/cas_harness.h"

#define VER "14.1"
#define MAX_HB 600
#define MAX_FOLDERS 5

static struct cas_harness h;
static char key_a[24], key_b[24], key_c[24];
static bool check_changed, check_unknown;
static bool check_hierarchy; /* PingCheckReply.hierarchy_changed */

static const uint16_t P_STATUS[] = {EAS_PING_STATUS};
static const uint16_t P_HB[] = {EAS_PING_HEARTBEAT_INTERVAL};
static const uint16_t P_MAX[] = {EAS_PING_MAX_FOLDERS};
static const uint16_t P_FOLDER[] = {EAS_PING_FOLDERS, EAS_PING_FOLDER};

static int
on_ping_check(void *arg, struct fake_mailbox *fm, const struct rpc_request *req)
{
	Rpc__PingCheckReply r;
	char *ids[1] = {"2"};

	(void)arg;
	rpc__ping_check_reply__init(&r);
	r.status = RPC__STATUS__STATUS_OK;
	if (check_changed) {
		r.changed = ids;
		r.n_changed = 1;
	}
	if (check_unknown) {
		r.not_found = ids;
		r.n_not_found = 1;
	}
	r.hierarchy_changed = check_hierarchy;
	return fake_mailbox_reply(fm, req, &r.base);
}

static int
provision(const char *dev, char *key, size_t size)
{
	uint32_t k;

	if (cas_harness_provision(&h, dev, VER, &k) != 0)
		return -1;
	(void)snprintf(key, size, "%u", (unsigned)k);
	return 0;
}

static int
setup(void **state)
{
	struct watch_settings ws = {.min_heartbeat_s = 1,
				    .max_heartbeat_s = MAX_HB,
				    .max_folders = MAX_FOLDERS,
				    .sync_keepalive_s = 1};

	(void)state;
	watch_configure(&ws);
	if (cas_harness_start(&h) != 0 ||
	    provision("PINGA", key_a, sizeof(key_a)) != 0 ||
	    provision("PINGB", key_b, sizeof(key_b)) != 0 ||
	    provision("PINGC", key_c, sizeof(key_c)) != 0)
		return -1;
	fake_mailbox_set_handler(h.fm, RPC__MSG_TYPE__MSG_PING_CHECK,
				 on_ping_check, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cas_harness_stop(&h);
	return 0;
}

/* <Ping> with heartbeat (< 0: none) and n folders "2", "3", ... */
static void
ping_body(struct buf *b, long hb, int n)
{
	struct wbxml_enc e;
	char id[16];

	buf_init(b, 1u << 16);
	wbxml_enc_init_buf(&e, b);
	wbxml_enc_start(&e, EAS_PING_PING);
	if (hb >= 0)
		wbxml_enc_uint(&e, EAS_PING_HEARTBEAT_INTERVAL, (uint64_t)hb);
	if (n > 0) {
		wbxml_enc_start(&e, EAS_PING_FOLDERS);
		for (int i = 0; i < n; i++) {
			snprintf(id, sizeof(id), "%d", i + 2);
			wbxml_enc_start(&e, EAS_PING_FOLDER);
			wbxml_enc_str(&e, EAS_PING_ID, id);
			wbxml_enc_str(&e, EAS_PING_CLASS, "Email");
			wbxml_enc_end(&e);
		}
		wbxml_enc_end(&e);
	}
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
}

static const char *
key_of(const char *dev)
{
	if (strcmp(dev, "PINGA") == 0)
		return key_a;
	return strcmp(dev, "PINGB") == 0 ? key_b : key_c;
}

static void
ping(const char *dev, long hb, int n, struct cas_reply *r)
{
	struct buf b;
	char q[256];

	if (hb == -2) {
		b.data = NULL;
		b.len = 0;
	} else {
		ping_body(&b, hb, n);
	}
	cas_harness_query(q, sizeof(q), "Ping", dev);
	assert_int_equal(cas_harness_post(&h, q, VER, key_of(dev),
					  HARNESS_USERPWD, b.data, b.len, r),
			 0);
	assert_int_equal(r->status, 200);
	if (hb != -2)
		buf_free(&b);
}

struct bg {
	pthread_t t;
	const char *dev;
	long hb;
	int n;
	struct cas_reply r;
};

static void *
bg_run(void *arg)
{
	struct bg *bg = arg;

	ping(bg->dev, bg->hb, bg->n, &bg->r);
	return NULL;
}

static void
bg_start(struct bg *bg, const char *dev, long hb, int n)
{
	memset(bg, 0, sizeof(*bg));
	bg->dev = dev;
	bg->hb = hb;
	bg->n = n;
	assert_int_equal(pthread_create(&bg->t, NULL, bg_run, bg), 0);
}

static bool
wait_held(size_t n)
{
	for (int i = 0; i < 1000; i++) {
		struct watch *w = watch_shared(NULL, NULL);

		/* No table yet: nothing was ever held. */
		if ((w == NULL && n == 0) || (w != NULL && watch_count(w) == n))
			return true;
		usleep(10000);
	}
	return false;
}

static void
publish_changed(const char *folder)
{
	Rpc__Event ev;
	Rpc__ChangedEvent ch;

	rpc__event__init(&ev);
	rpc__changed_event__init(&ch);
	ch.folder_id = (char *)(uintptr_t)folder;
	ev.user = h.user;
	ev.kind_case = RPC__EVENT__KIND_CHANGED;
	ev.changed = &ch;
	assert_int_equal(fake_mailbox_publish(h.fm, &ev), 0);
}

static void
test_bounds(void **state)
{
	struct cas_reply r;

	(void)state;
	ping("PINGA", MAX_HB + 1, 1, &r);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 5);
	assert_int_equal(cas_reply_uint(&r, P_HB, 1), MAX_HB);
	cas_reply_free(&r);
	ping("PINGA", 0, 1, &r);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 5);
	assert_int_equal(cas_reply_uint(&r, P_HB, 1), 1);
	cas_reply_free(&r);
	ping("PINGA", 60, MAX_FOLDERS + 1, &r);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 6);
	assert_int_equal(cas_reply_uint(&r, P_MAX, 1), MAX_FOLDERS);
	cas_reply_free(&r);
	/* Nothing cached for PINGC yet: Status 3. */
	ping("PINGC", -2, 0, &r);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 3);
	cas_reply_free(&r);
	assert_true(wait_held(0));
}

static void
test_changes_before_ping(void **state)
{
	struct cas_reply r;

	(void)state;
	check_changed = true;
	ping("PINGA", 60, 2, &r);
	check_changed = false;
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 2);
	assert_string_equal(cas_reply_str(&r, P_FOLDER, 2), "2");
	cas_reply_free(&r);
	check_unknown = true;
	ping("PINGA", 60, 2, &r);
	check_unknown = false;
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 7);
	cas_reply_free(&r);
}

/* MS-ASCMD 2.2.3.177.10 Status 7: the mailbox says the hierarchy changed
 * since the device's last FolderSync (issue 3): the Ping is answered at
 * once, even with folder changes pending, and not held. */
static void
test_hierarchy_changed_at_once(void **state)
{
	struct cas_reply r;

	(void)state;
	check_hierarchy = true;
	check_changed = true;
	ping("PINGA", 300, 2, &r);
	check_changed = false;
	check_hierarchy = false;
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 7);
	assert_null(cas_reply_str(&r, P_FOLDER, 2));
	cas_reply_free(&r);
	assert_true(wait_held(0));
}

static void
test_wake_by_event(void **state)
{
	struct bg bg;

	(void)state;
	bg_start(&bg, "PINGA", 300, 3);
	assert_true(wait_held(1));
	publish_changed("9"); /* not watched */
	publish_changed("3");
	pthread_join(bg.t, NULL);
	assert_int_equal(cas_reply_uint(&bg.r, P_STATUS, 1), 2);
	assert_string_equal(cas_reply_str(&bg.r, P_FOLDER, 2), "3");
	cas_reply_free(&bg.r);
	assert_true(wait_held(0));

	/* An empty Ping reuses the cached heartbeat and folders. */
	bg_start(&bg, "PINGA", -2, 0);
	assert_true(wait_held(1));
	publish_changed("4");
	pthread_join(bg.t, NULL);
	assert_int_equal(cas_reply_uint(&bg.r, P_STATUS, 1), 2);
	assert_string_equal(cas_reply_str(&bg.r, P_FOLDER, 2), "4");
	cas_reply_free(&bg.r);
}

static void
test_ios_pings_unsynced_folders(void **state)
{
	struct bg bg;

	(void)state;
	/* iOS Pings folders it has not synced yet: the mailbox reports them
	 * neither changed nor unknown, and the Ping is held like any other
	 * (no Status 7), then woken by their first change. */
	bg_start(&bg, "PINGC", 300, 4);
	assert_true(wait_held(1));
	publish_changed("5");
	pthread_join(bg.t, NULL);
	assert_int_equal(cas_reply_uint(&bg.r, P_STATUS, 1), 2);
	assert_string_equal(cas_reply_str(&bg.r, P_FOLDER, 2), "5");
	cas_reply_free(&bg.r);
	assert_true(wait_held(0));
}

static void
test_expiry(void **state)
{
	struct cas_reply r;

	(void)state;
	/* A 1 s heartbeat (allowed by this test's settings). */
	ping("PINGB", 1, 1, &r);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 1);
	assert_null(
	    wbxml_node_child(wbxml_tree_root(r.tree), EAS_PING_FOLDERS));
	cas_reply_free(&r);
	assert_true(wait_held(0));
}

static void
test_newer_ping_ends_older(void **state)
{
	struct bg older, newer;

	(void)state;
	/* Gmail: two Pings of one device almost together. */
	bg_start(&older, "PINGB", 300, 1);
	assert_true(wait_held(1));
	bg_start(&newer, "PINGB", 300, 1);
	pthread_join(older.t, NULL);
	assert_int_equal(cas_reply_uint(&older.r, P_STATUS, 1), 1);
	assert_true(wait_held(1));
	publish_changed("2");
	pthread_join(newer.t, NULL);
	assert_int_equal(cas_reply_uint(&newer.r, P_STATUS, 1), 2);
	cas_reply_free(&older.r);
	cas_reply_free(&newer.r);
}

static void
test_wipe_and_hierarchy_release(void **state)
{
	struct bg bg;
	Rpc__Event ev;
	Rpc__DeviceChangedEvent dc;
	Rpc__HierarchyChangedEvent hc;

	(void)state;
	bg_start(&bg, "PINGB", 300, 1);
	assert_true(wait_held(1));
	rpc__event__init(&ev);
	rpc__device_changed_event__init(&dc);
	dc.device_id = "PINGB";
	dc.what = RPC__DEVICE_CHANGE__DEVICE_CHANGE_WIPE_REQUESTED;
	ev.user = h.user;
	ev.kind_case = RPC__EVENT__KIND_DEVICE_CHANGED;
	ev.device_changed = &dc;
	assert_int_equal(fake_mailbox_publish(h.fm, &ev), 0);
	pthread_join(bg.t, NULL);
	assert_int_equal(cas_reply_uint(&bg.r, P_STATUS, 1), 1);
	cas_reply_free(&bg.r);
	assert_true(wait_held(0));

	bg_start(&bg, "PINGB", 300, 1);
	assert_true(wait_held(1));
	rpc__event__init(&ev);
	rpc__hierarchy_changed_event__init(&hc);
	ev.user = h.user;
	ev.kind_case = RPC__EVENT__KIND_HIERARCHY_CHANGED;
	ev.hierarchy_changed = &hc;
	assert_int_equal(fake_mailbox_publish(h.fm, &ev), 0);
	pthread_join(bg.t, NULL);
	assert_int_equal(cas_reply_uint(&bg.r, P_STATUS, 1), 7);
	cas_reply_free(&bg.r);
	assert_true(wait_held(0));
}

static void
publish_hierarchy(const char *origin)
{
	Rpc__Event ev;
	Rpc__HierarchyChangedEvent hc;

	rpc__event__init(&ev);
	rpc__hierarchy_changed_event__init(&hc);
	hc.origin_device_id = (char *)(uintptr_t)origin;
	ev.user = h.user;
	ev.kind_case = RPC__EVENT__KIND_HIERARCHY_CHANGED;
	ev.hierarchy_changed = &hc;
	assert_int_equal(fake_mailbox_publish(h.fm, &ev), 0);
}

/* A folder change made by the Pinging device itself (FolderCreate on
 * another connection) does not end its held Ping: the next event does,
 * so the first was seen and skipped.  Another device's change answers
 * Status 7. */
static void
test_own_hierarchy_change(void **state)
{
	struct bg bg;

	(void)state;
	bg_start(&bg, "PINGB", 300, 2);
	assert_true(wait_held(1));
	publish_hierarchy("PINGB");
	publish_changed("2");
	pthread_join(bg.t, NULL);
	assert_int_equal(cas_reply_uint(&bg.r, P_STATUS, 1), 2);
	cas_reply_free(&bg.r);
	assert_true(wait_held(0));

	bg_start(&bg, "PINGB", 300, 2);
	assert_true(wait_held(1));
	publish_hierarchy("OTHERDEVICE");
	pthread_join(bg.t, NULL);
	assert_int_equal(cas_reply_uint(&bg.r, P_STATUS, 1), 7);
	cas_reply_free(&bg.r);
	assert_true(wait_held(0));
}

static size_t
discard(char *data, size_t size, size_t n, void *ud)
{
	(void)data;
	(void)ud;
	return size * n;
}

static void
test_disconnect_cleans_up(void **state)
{
	struct buf b;
	char url[512];
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char line[64];

	(void)state;
	ping_body(&b, 300, 2);
	(void)snprintf(url, sizeof(url),
		       "%s/Microsoft-Server-ActiveSync?Cmd=Ping&User=alice&"
		       "DeviceId=PINGC&DeviceType=TestPhone",
		       h.base_url);
	(void)snprintf(line, sizeof(line), "X-MS-PolicyKey: %s", key_c);
	hdrs = curl_slist_append(hdrs, "MS-ASProtocolVersion: " VER);
	hdrs = curl_slist_append(hdrs, line);
	hdrs = curl_slist_append(hdrs,
				 "Content-Type: application/vnd.ms-sync.wbxml");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, b.data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)b.len);
	curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
	curl_easy_setopt(c, CURLOPT_USERPWD, HARNESS_USERPWD);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	/* The client gives up long before the heartbeat. */
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1500L);
	assert_int_equal(curl_easy_perform(c), CURLE_OPERATION_TIMEDOUT);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	buf_free(&b);
	/* The held entry is dropped without an answer. */
	assert_true(wait_held(0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_changes_before_ping),
	    cmocka_unit_test(test_hierarchy_changed_at_once),
	    cmocka_unit_test(test_wake_by_event),
	    cmocka_unit_test(test_ios_pings_unsynced_folders),
	    cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_newer_ping_ends_older),
	    cmocka_unit_test(test_wipe_and_hierarchy_release),
	    cmocka_unit_test(test_own_hierarchy_change),
	    cmocka_unit_test(test_disconnect_cleans_up),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, setup, teardown);
}
