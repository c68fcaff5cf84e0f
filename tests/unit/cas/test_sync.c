/* Sync and GetItemEstimate end to end: the real HTTP server, pipeline and
 * mailbox client against the fake mailbox with canned GetChanges /
 * ApplyChanges / PingCheck / Estimate replies.  Initial SyncKey 0 -> 1
 * (no Commands), a window with MoreAvailable and the body preference
 * passed through, client Change / Delete / Fetch / Add responses, an
 * invalid key (Status 3), a malformed body (Status 4), the keep-alive
 * stream with a slow mailbox, Sync with Wait held then woken by an event,
 * and the empty Sync reusing the cached request.  Waits are bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>

#include "cas/watch.h"
#include "tests/unit/cas/cas_harness.h"

#define DEV "SYNCDEV"
#define VER "14.1"
#define INBOX "2"

static struct cas_harness h;
static char key[24];

/* What the fake mailbox saw and does. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned seen_window;
static unsigned seen_pref_type, seen_pref_trunc;
static bool seen_get_changes;
static unsigned seen_apply_n;
static unsigned slow_ms;
static bool check_changed;

static const uint16_t COLL[] = {EAS_AIRSYNC_COLLECTIONS,
				EAS_AIRSYNC_COLLECTION};

static Rpc__Change *
mk_add(Rpc__Change *c, Rpc__ItemData *d, Rpc__Email *m, const char *id,
       const char *subject)
{
	rpc__change__init(c);
	rpc__item_data__init(d);
	rpc__email__init(m);
	c->op = RPC__CHANGE_OP__OP_ADD;
	c->server_id = (char *)(uintptr_t)id;
	c->item_class = "Email";
	c->data = d;
	d->email = m;
	m->subject = (char *)(uintptr_t)subject;
	m->from = "bob@example.org";
	m->importance = 1;
	return c;
}

#define BIG_ITEMS 28
#define BIG_BODY_BYTES (500u * 1024u)

/* A window far larger than the stream's buffer bound (14 MB). */
static int
reply_big(struct fake_mailbox *fm, const struct rpc_request *req)
{
	static Rpc__Change c[BIG_ITEMS];
	static Rpc__Change *cp[BIG_ITEMS];
	static Rpc__ItemData d[BIG_ITEMS];
	static Rpc__Email m[BIG_ITEMS];
	static Rpc__Body body;
	static char ids[BIG_ITEMS][16];
	Rpc__GetChangesReply r;
	char *html = malloc(BIG_BODY_BYTES);
	int rc;

	assert_non_null(html);
	memset(html, 'h', BIG_BODY_BYTES);
	rpc__body__init(&body);
	body.type = 2;
	body.data.data = (uint8_t *)html;
	body.data.len = BIG_BODY_BYTES;
	for (int i = 0; i < BIG_ITEMS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "2:%d", 100 + i);
		cp[i] = mk_add(&c[i], &d[i], &m[i], ids[i], "big");
		m[i].body = &body;
	}
	rpc__get_changes_reply__init(&r);
	r.status = RPC__STATUS__STATUS_OK;
	r.sync_key = "big2";
	r.changes = cp;
	r.n_changes = BIG_ITEMS;
	rc = fake_mailbox_reply(fm, req, &r.base);
	free(html);
	return rc;
}

static int
on_get_changes(void *arg, struct fake_mailbox *fm,
	       const struct rpc_request *req)
{
	const Rpc__GetChangesRequest *g =
	    (const Rpc__GetChangesRequest *)req->msg;
	Rpc__GetChangesReply r;
	Rpc__Change c[3], *cp[3];
	Rpc__ItemData d[3];
	Rpc__Email m[3];

	(void)arg;
	pthread_mutex_lock(&seen_lock);
	seen_window = g->window_size;
	seen_get_changes = g->get_changes;
	if (g->n_body_preferences > 0) {
		seen_pref_type = g->body_preferences[0]->type;
		seen_pref_trunc = g->body_preferences[0]->truncation_size;
	}
	pthread_mutex_unlock(&seen_lock);
	if (slow_ms > 0)
		usleep(slow_ms * 1000u);
	rpc__get_changes_reply__init(&r);
	r.status = RPC__STATUS__STATUS_OK;
	if (strcmp(g->sync_key, "0") == 0) {
		r.sync_key = "1";
	} else if (strcmp(g->sync_key, "1") == 0 ||
		   strcmp(g->sync_key, "2") == 0) {
		r.sync_key = strcmp(g->sync_key, "1") == 0 ? "2" : "3";
		cp[0] = mk_add(&c[0], &d[0], &m[0], "2:1", "first");
		cp[1] = mk_add(&c[1], &d[1], &m[1], "2:2", "second");
		rpc__change__init(&c[2]);
		c[2].op = RPC__CHANGE_OP__OP_SOFT_DELETE;
		c[2].server_id = "2:0";
		cp[2] = &c[2];
		r.changes = cp;
		r.n_changes = g->window_size < 3 ? g->window_size : 3;
		r.more_available = g->window_size < 3;
	} else if (strcmp(g->sync_key, "big") == 0) {
		return reply_big(fm, req);
	} else {
		r.status = RPC__STATUS__STATUS_INVALID_SYNC_KEY;
	}
	return fake_mailbox_reply(fm, req, &r.base);
}

static int
on_apply(void *arg, struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__ApplyChangesRequest *a =
	    (const Rpc__ApplyChangesRequest *)req->msg;
	Rpc__ApplyChangesReply r;
	Rpc__ClientChangeResult res[8], *rp[8];
	Rpc__ItemData d;
	Rpc__Email m;
	size_t n = a->n_changes < 8 ? a->n_changes : 8;

	(void)arg;
	pthread_mutex_lock(&seen_lock);
	seen_apply_n = (unsigned)a->n_changes;
	pthread_mutex_unlock(&seen_lock);
	rpc__apply_changes_reply__init(&r);
	rpc__item_data__init(&d);
	rpc__email__init(&m);
	d.email = &m;
	m.subject = "fetched";
	r.status = RPC__STATUS__STATUS_OK;
	for (size_t i = 0; i < n; i++) {
		const Rpc__ClientChange *cc = a->changes[i];

		rpc__client_change_result__init(&res[i]);
		res[i].op = cc->op;
		res[i].server_id = cc->server_id;
		res[i].status = strcmp(cc->server_id, "2:404") == 0
				    ? RPC__STATUS__STATUS_NOT_FOUND
				    : RPC__STATUS__STATUS_OK;
		if (cc->op == RPC__APPLY_OP__APPLY_FETCH)
			res[i].data = &d;
		/* The Change carries Read = 1 and says so. */
		if (cc->op == RPC__APPLY_OP__APPLY_CHANGE &&
		    (cc->data == NULL || cc->data->email == NULL ||
		     !cc->data->email->read || cc->data->n_properties != 1))
			res[i].status = RPC__STATUS__STATUS_INVALID;
		rp[i] = &res[i];
	}
	r.results = rp;
	r.n_results = n;
	return fake_mailbox_reply(fm, req, &r.base);
}

static int
on_ping_check(void *arg, struct fake_mailbox *fm, const struct rpc_request *req)
{
	Rpc__PingCheckReply r;
	char *changed[1] = {INBOX};

	(void)arg;
	rpc__ping_check_reply__init(&r);
	r.status = RPC__STATUS__STATUS_OK;
	if (check_changed) {
		r.changed = changed;
		r.n_changed = 1;
	}
	return fake_mailbox_reply(fm, req, &r.base);
}

static int
on_estimate(void *arg, struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__EstimateRequest *e = (const Rpc__EstimateRequest *)req->msg;
	Rpc__EstimateReply r;
	Rpc__EstimateResult res[4], *rp[4];
	size_t n = e->n_collections < 4 ? e->n_collections : 4;

	(void)arg;
	rpc__estimate_reply__init(&r);
	r.status = RPC__STATUS__STATUS_OK;
	for (size_t i = 0; i < n; i++) {
		const Rpc__EstimateCollection *c = e->collections[i];

		rpc__estimate_result__init(&res[i]);
		res[i].collection_id = c->collection_id;
		res[i].status = RPC__STATUS__STATUS_OK;
		res[i].estimate = 7;
		if (strcmp(c->collection_id, "99") == 0)
			res[i].status = RPC__STATUS__STATUS_NOT_FOUND;
		if (strcmp(c->sync_key, "bad") == 0)
			res[i].status = RPC__STATUS__STATUS_INVALID_SYNC_KEY;
		rp[i] = &res[i];
	}
	r.results = rp;
	r.n_results = n;
	return fake_mailbox_reply(fm, req, &r.base);
}

static int
setup(void **state)
{
	struct watch_settings ws = {.min_heartbeat_s = 1,
				    .max_heartbeat_s = 3540,
				    .sync_keepalive_s = 1};
	uint32_t k;

	(void)state;
	watch_configure(&ws);
	if (cas_harness_start(&h) != 0 ||
	    cas_harness_provision(&h, DEV, VER, &k) != 0)
		return -1;
	(void)snprintf(key, sizeof(key), "%u", (unsigned)k);
	fake_mailbox_set_handler(h.fm, RPC__MSG_TYPE__MSG_GET_CHANGES,
				 on_get_changes, NULL);
	fake_mailbox_set_handler(h.fm, RPC__MSG_TYPE__MSG_APPLY_CHANGES,
				 on_apply, NULL);
	fake_mailbox_set_handler(h.fm, RPC__MSG_TYPE__MSG_PING_CHECK,
				 on_ping_check, NULL);
	fake_mailbox_set_handler(h.fm, RPC__MSG_TYPE__MSG_ESTIMATE, on_estimate,
				 NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cas_harness_stop(&h);
	return 0;
}

struct body {
	struct buf buf;
	struct wbxml_enc e;
};

static void
sync_begin(struct body *b, const char *sync_key, unsigned window)
{
	buf_init(&b->buf, 1u << 16);
	wbxml_enc_init_buf(&b->e, &b->buf);
	wbxml_enc_start(&b->e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(&b->e, EAS_AIRSYNC_COLLECTIONS);
	wbxml_enc_start(&b->e, EAS_AIRSYNC_COLLECTION);
	wbxml_enc_str(&b->e, EAS_AIRSYNC_SYNC_KEY, sync_key);
	wbxml_enc_str(&b->e, EAS_AIRSYNC_COLLECTION_ID, INBOX);
	if (window > 0)
		wbxml_enc_uint(&b->e, EAS_AIRSYNC_WINDOW_SIZE, window);
	/* Gmail: HTML with TruncationSize 200000. */
	wbxml_enc_start(&b->e, EAS_AIRSYNC_OPTIONS);
	wbxml_enc_uint(&b->e, EAS_AIRSYNC_FILTER_TYPE, 3);
	wbxml_enc_start(&b->e, EAS_AIRSYNCBASE_BODY_PREFERENCE);
	wbxml_enc_uint(&b->e, EAS_AIRSYNCBASE_TYPE, 2);
	wbxml_enc_uint(&b->e, EAS_AIRSYNCBASE_TRUNCATION_SIZE, 200000);
	wbxml_enc_end(&b->e);
	wbxml_enc_end(&b->e);
}

/* Close Collection, Collections (and add `wait_min` when > 0), Sync. */
static void
sync_end(struct body *b, unsigned wait_min)
{
	wbxml_enc_end(&b->e);
	wbxml_enc_end(&b->e);
	if (wait_min > 0)
		wbxml_enc_uint(&b->e, EAS_AIRSYNC_WAIT, wait_min);
	wbxml_enc_end(&b->e);
	assert_int_equal(wbxml_enc_finish(&b->e), 0);
}

static void
post(const char *cmd, const void *body, size_t len, struct cas_reply *r)
{
	char q[256];

	cas_harness_query(q, sizeof(q), cmd, DEV);
	assert_int_equal(
	    cas_harness_post(&h, q, VER, key, HARNESS_USERPWD, body, len, r),
	    0);
	assert_int_equal(r->status, 200);
}

static const struct wbxml_node *
collection(const struct cas_reply *r)
{
	assert_non_null(r->tree);
	return wbxml_node_path(wbxml_tree_root(r->tree), COLL, 2);
}

static long
child_uint(const struct wbxml_node *n, uint16_t tag)
{
	uint64_t v;

	if (n == NULL || wbxml_child_uint(n, tag, 0, UINT32_MAX, &v, NULL) != 0)
		return -1;
	return (long)v;
}

static const char *
child_str(const struct wbxml_node *n, uint16_t tag)
{
	const char *s;

	if (n == NULL || wbxml_child_str(n, tag, 4096, &s, NULL, NULL) != 0)
		return NULL;
	return s;
}

static void
test_initial_sync(void **state)
{
	struct body b;
	struct cas_reply r;
	const struct wbxml_node *c;

	(void)state;
	sync_begin(&b, "0", 0);
	sync_end(&b, 0);
	post("Sync", b.buf.data, b.buf.len, &r);
	c = collection(&r);
	assert_non_null(c);
	assert_string_equal(child_str(c, EAS_AIRSYNC_SYNC_KEY), "1");
	assert_string_equal(child_str(c, EAS_AIRSYNC_COLLECTION_ID), INBOX);
	assert_int_equal(child_uint(c, EAS_AIRSYNC_STATUS), 1);
	/* MS-ASCMD: the SyncKey 0 response carries no Commands. */
	assert_false(wbxml_child_present(c, EAS_AIRSYNC_COMMANDS));
	assert_false(seen_get_changes);
	cas_reply_free(&r);
	buf_free(&b.buf);
}

static void
test_window_more_available(void **state)
{
	struct body b;
	struct cas_reply r;
	const struct wbxml_node *c, *cmds, *add, *app;

	(void)state;
	sync_begin(&b, "1", 2);
	sync_end(&b, 0);
	post("Sync", b.buf.data, b.buf.len, &r);
	c = collection(&r);
	assert_string_equal(child_str(c, EAS_AIRSYNC_SYNC_KEY), "2");
	assert_true(wbxml_child_present(c, EAS_AIRSYNC_MORE_AVAILABLE));
	cmds = wbxml_node_child(c, EAS_AIRSYNC_COMMANDS);
	assert_non_null(cmds);
	assert_int_equal(wbxml_node_count_children(cmds, EAS_AIRSYNC_ADD), 2);
	add = wbxml_node_child(cmds, EAS_AIRSYNC_ADD);
	assert_string_equal(child_str(add, EAS_AIRSYNC_SERVER_ID), "2:1");
	app = wbxml_node_child(add, EAS_AIRSYNC_APPLICATION_DATA);
	assert_string_equal(child_str(app, EAS_EMAIL_SUBJECT), "first");
	assert_int_equal(child_uint(app, EAS_EMAIL_IMPORTANCE), 1);
	pthread_mutex_lock(&seen_lock);
	assert_int_equal(seen_window, 2);
	assert_true(seen_get_changes);
	assert_int_equal(seen_pref_type, 2);
	assert_int_equal(seen_pref_trunc, 200000);
	pthread_mutex_unlock(&seen_lock);
	cas_reply_free(&r);
	buf_free(&b.buf);

	/* The whole window: SoftDelete too, no MoreAvailable. */
	sync_begin(&b, "2", 0);
	sync_end(&b, 0);
	post("Sync", b.buf.data, b.buf.len, &r);
	c = collection(&r);
	assert_false(wbxml_child_present(c, EAS_AIRSYNC_MORE_AVAILABLE));
	cmds = wbxml_node_child(c, EAS_AIRSYNC_COMMANDS);
	assert_int_equal(
	    wbxml_node_count_children(cmds, EAS_AIRSYNC_SOFT_DELETE), 1);
	assert_int_equal(seen_window, SYNC_DEFAULT_WINDOW_SIZE);
	cas_reply_free(&r);
	buf_free(&b.buf);
}

static void
test_client_commands(void **state)
{
	struct body b;
	struct cas_reply r;
	const struct wbxml_node *c, *resp, *n;

	(void)state;
	sync_begin(&b, "1", 0);
	wbxml_enc_start(&b.e, EAS_AIRSYNC_COMMANDS);
	wbxml_enc_start(&b.e, EAS_AIRSYNC_CHANGE);
	wbxml_enc_str(&b.e, EAS_AIRSYNC_SERVER_ID, "2:1");
	wbxml_enc_start(&b.e, EAS_AIRSYNC_APPLICATION_DATA);
	wbxml_enc_uint(&b.e, EAS_EMAIL_READ, 1);
	wbxml_enc_end(&b.e);
	wbxml_enc_end(&b.e);
	wbxml_enc_start(&b.e, EAS_AIRSYNC_DELETE);
	wbxml_enc_str(&b.e, EAS_AIRSYNC_SERVER_ID, "2:404");
	wbxml_enc_end(&b.e);
	wbxml_enc_start(&b.e, EAS_AIRSYNC_FETCH);
	wbxml_enc_str(&b.e, EAS_AIRSYNC_SERVER_ID, "2:2");
	wbxml_enc_end(&b.e);
	wbxml_enc_start(&b.e, EAS_AIRSYNC_ADD);
	wbxml_enc_str(&b.e, EAS_AIRSYNC_CLIENT_ID, "c1");
	wbxml_enc_start(&b.e, EAS_AIRSYNC_APPLICATION_DATA);
	wbxml_enc_str(&b.e, EAS_EMAIL_SUBJECT, "draft");
	wbxml_enc_end(&b.e);
	wbxml_enc_end(&b.e);
	wbxml_enc_end(&b.e); /* Commands */
	sync_end(&b, 0);
	post("Sync", b.buf.data, b.buf.len, &r);
	c = collection(&r);
	assert_int_equal(child_uint(c, EAS_AIRSYNC_STATUS), 1);
	resp = wbxml_node_child(c, EAS_AIRSYNC_RESPONSES);
	assert_non_null(resp);
	/* A successful Change gets no response (Exchange). */
	assert_null(wbxml_node_child(resp, EAS_AIRSYNC_CHANGE));
	n = wbxml_node_child(resp, EAS_AIRSYNC_DELETE);
	assert_string_equal(child_str(n, EAS_AIRSYNC_SERVER_ID), "2:404");
	assert_int_equal(child_uint(n, EAS_AIRSYNC_STATUS), 8);
	n = wbxml_node_child(resp, EAS_AIRSYNC_FETCH);
	assert_int_equal(child_uint(n, EAS_AIRSYNC_STATUS), 1);
	assert_string_equal(
	    child_str(wbxml_node_child(n, EAS_AIRSYNC_APPLICATION_DATA),
		      EAS_EMAIL_SUBJECT),
	    "fetched");
	/* Email Adds (16.0 drafts) are refused with Status 6. */
	n = wbxml_node_child(resp, EAS_AIRSYNC_ADD);
	assert_string_equal(child_str(n, EAS_AIRSYNC_CLIENT_ID), "c1");
	assert_int_equal(child_uint(n, EAS_AIRSYNC_STATUS), 6);
	/* Change, Delete and Fetch went to the mailbox in one call. */
	assert_int_equal(seen_apply_n, 3);
	assert_non_null(wbxml_node_child(c, EAS_AIRSYNC_COMMANDS));
	cas_reply_free(&r);
	buf_free(&b.buf);
}

static void
test_invalid_key_and_malformed(void **state)
{
	static const uint8_t junk[] = {0x03, 0x01, 0x6a, 0x00, 0x45, 0x5c};
	static const uint16_t status[] = {EAS_AIRSYNC_STATUS};
	struct body b;
	struct cas_reply r;
	const struct wbxml_node *c;

	(void)state;
	sync_begin(&b, "77", 0);
	sync_end(&b, 0);
	post("Sync", b.buf.data, b.buf.len, &r);
	c = collection(&r);
	/* MS-ASCMD 2.2.3.177.17 Status 3: restart at SyncKey 0. */
	assert_int_equal(child_uint(c, EAS_AIRSYNC_STATUS), 3);
	assert_string_equal(child_str(c, EAS_AIRSYNC_SYNC_KEY), "0");
	cas_reply_free(&r);
	buf_free(&b.buf);

	post("Sync", junk, sizeof(junk), &r);
	assert_int_equal(cas_reply_uint(&r, status, 1), 4);
	cas_reply_free(&r);
}

static void
test_keepalive_stream(void **state)
{
	struct body b;
	struct cas_reply r;

	(void)state;
	/* A mailbox slower than three keep-alive periods. */
	slow_ms = 3500;
	sync_begin(&b, "1", 0);
	sync_end(&b, 0);
	post("Sync", b.buf.data, b.buf.len, &r);
	slow_ms = 0;
	/* The header, then at least one redundant SWITCH_PAGE sent while
	 * the mailbox worked, then the document, still decodable. */
	assert_true(r.body.len > 8);
	assert_memory_equal(r.body.data, "\x03\x01\x6a\x00\x00\x00", 6);
	assert_non_null(r.tree);
	assert_int_equal(child_uint(collection(&r), EAS_AIRSYNC_STATUS), 1);
	cas_reply_free(&r);
	buf_free(&b.buf);
}

struct bg {
	pthread_t t;
	const void *body;
	size_t len;
	struct cas_reply r;
	int rc;
};

static void *
bg_post(void *arg)
{
	struct bg *bg = arg;
	char q[256];

	cas_harness_query(q, sizeof(q), "Sync", DEV);
	bg->rc = cas_harness_post(&h, q, VER, key, HARNESS_USERPWD, bg->body,
				  bg->len, &bg->r);
	return NULL;
}

static bool
wait_held(size_t n)
{
	for (int i = 0; i < 500; i++) {
		struct watch *w = watch_shared(NULL, NULL);

		if (w != NULL && watch_count(w) == n)
			return true;
		usleep(10000);
	}
	return false;
}

static void
test_wait_held_and_woken(void **state)
{
	struct body b;
	struct bg bg;
	Rpc__Event ev;
	Rpc__ChangedEvent ch;
	const struct wbxml_node *c;
	unsigned before;

	(void)state;
	check_changed = false;
	sync_begin(&b, "1", 0);
	sync_end(&b, 5);
	memset(&bg, 0, sizeof(bg));
	bg.body = b.buf.data;
	bg.len = b.buf.len;
	before = fake_mailbox_count(h.fm, RPC__MSG_TYPE__MSG_GET_CHANGES);
	assert_int_equal(pthread_create(&bg.t, NULL, bg_post, &bg), 0);
	assert_true(wait_held(1));
	/* Held: no key was issued. */
	assert_int_equal(
	    fake_mailbox_count(h.fm, RPC__MSG_TYPE__MSG_GET_CHANGES), before);
	rpc__event__init(&ev);
	rpc__changed_event__init(&ch);
	ch.folder_id = INBOX;
	ch.modseq = 42;
	ev.user = h.user;
	ev.kind_case = RPC__EVENT__KIND_CHANGED;
	ev.changed = &ch;
	assert_int_equal(fake_mailbox_publish(h.fm, &ev), 0);
	pthread_join(bg.t, NULL);
	assert_int_equal(bg.rc, 0);
	assert_int_equal(bg.r.status, 200);
	c = collection(&bg.r);
	assert_int_equal(child_uint(c, EAS_AIRSYNC_STATUS), 1);
	assert_non_null(wbxml_node_child(c, EAS_AIRSYNC_COMMANDS));
	assert_true(wait_held(0));
	cas_reply_free(&bg.r);

	/* Nothing arrives: an empty response at expiry (1 minute is too
	 * long for a test, so a change found by PingCheck instead answers
	 * at once). */
	check_changed = true;
	post("Sync", b.buf.data, b.buf.len, &bg.r);
	assert_non_null(
	    wbxml_node_child(collection(&bg.r), EAS_AIRSYNC_COMMANDS));
	check_changed = false;
	cas_reply_free(&bg.r);
	buf_free(&b.buf);
}

static void
test_heartbeat_expiry_empty(void **state)
{
	struct body b;
	struct cas_reply r;

	(void)state;
	check_changed = false;
	/* HeartbeatInterval 1 s (this test's lower bound): nothing changes,
	 * the answer is an empty body and the client keeps its keys. */
	sync_begin(&b, "1", 0);
	wbxml_enc_end(&b.e);
	wbxml_enc_end(&b.e);
	wbxml_enc_uint(&b.e, EAS_AIRSYNC_HEARTBEAT_INTERVAL, 1);
	wbxml_enc_end(&b.e);
	assert_int_equal(wbxml_enc_finish(&b.e), 0);
	post("Sync", b.buf.data, b.buf.len, &r);
	assert_int_equal(r.body.len, 0);
	assert_null(r.tree);
	assert_true(wait_held(0));
	cas_reply_free(&r);
	buf_free(&b.buf);
}

static void
test_samsung_heartbeat_only_sync(void **state)
{
	struct body b;
	struct buf hb;
	struct wbxml_enc e;
	struct cas_reply r;

	(void)state;
	check_changed = false;
	/* A full request first (cached for the device)... */
	sync_begin(&b, "1", 0);
	sync_end(&b, 0);
	post("Sync", b.buf.data, b.buf.len, &r);
	cas_reply_free(&r);
	buf_free(&b.buf);
	/* ... then Android/Samsung's heartbeat Sync without Collections:
	 * held on the cached collections, empty answer at expiry. */
	buf_init(&hb, 1024);
	wbxml_enc_init_buf(&e, &hb);
	wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
	wbxml_enc_uint(&e, EAS_AIRSYNC_HEARTBEAT_INTERVAL, 1);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	post("Sync", hb.data, hb.len, &r);
	assert_int_equal(r.body.len, 0);
	cas_reply_free(&r);
	/* A change found by the check answers at once instead. */
	check_changed = true;
	post("Sync", hb.data, hb.len, &r);
	check_changed = false;
	assert_string_equal(
	    child_str(collection(&r), EAS_AIRSYNC_COLLECTION_ID), INBOX);
	cas_reply_free(&r);
	buf_free(&hb);
}

static void
test_v25_sync(void **state)
{
	struct body b;
	struct cas_reply r;
	const struct wbxml_node *c, *add, *app;
	char q[256], k25[24];
	uint32_t k;

	(void)state;
	assert_int_equal(cas_harness_provision(&h, "SYNC25", "2.5", &k), 0);
	(void)snprintf(k25, sizeof(k25), "%u", (unsigned)k);
	buf_init(&b.buf, 4096);
	wbxml_enc_init_buf(&b.e, &b.buf);
	wbxml_enc_start(&b.e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(&b.e, EAS_AIRSYNC_COLLECTIONS);
	wbxml_enc_start(&b.e, EAS_AIRSYNC_COLLECTION);
	wbxml_enc_str(&b.e, EAS_AIRSYNC_CLASS, "Email");
	wbxml_enc_str(&b.e, EAS_AIRSYNC_SYNC_KEY, "1");
	wbxml_enc_str(&b.e, EAS_AIRSYNC_COLLECTION_ID, INBOX);
	wbxml_enc_start(&b.e, EAS_AIRSYNC_OPTIONS);
	wbxml_enc_uint(&b.e, EAS_AIRSYNC_TRUNCATION, 4);
	wbxml_enc_end(&b.e);
	wbxml_enc_end(&b.e);
	wbxml_enc_end(&b.e);
	wbxml_enc_end(&b.e);
	assert_int_equal(wbxml_enc_finish(&b.e), 0);
	cas_harness_query(q, sizeof(q), "Sync", "SYNC25");
	assert_int_equal(cas_harness_post(&h, q, "2.5", k25, HARNESS_USERPWD,
					  b.buf.data, b.buf.len, &r),
			 0);
	assert_int_equal(r.status, 200);
	c = collection(&r);
	/* 2.5: Class first; the Truncation code became a plain-text
	 * preference of 5120 bytes for the mailbox. */
	assert_string_equal(child_str(c, EAS_AIRSYNC_CLASS), "Email");
	pthread_mutex_lock(&seen_lock);
	assert_int_equal(seen_pref_type, 1);
	assert_int_equal(seen_pref_trunc, 5120);
	pthread_mutex_unlock(&seen_lock);
	add = wbxml_node_child(wbxml_node_child(c, EAS_AIRSYNC_COMMANDS),
			       EAS_AIRSYNC_ADD);
	app = wbxml_node_child(add, EAS_AIRSYNC_APPLICATION_DATA);
	assert_int_equal(child_uint(app, EAS_EMAIL_IMPORTANCE), 1);
	assert_false(wbxml_child_present(app, EAS_EMAIL_CONTENT_CLASS));
	cas_reply_free(&r);
	buf_free(&b.buf);
}

static void
test_empty_sync_uses_cache(void **state)
{
	struct body b;
	struct cas_reply r;
	const struct wbxml_node *c;

	(void)state;
	sync_begin(&b, "2", 0);
	sync_end(&b, 0);
	post("Sync", b.buf.data, b.buf.len, &r);
	cas_reply_free(&r);
	buf_free(&b.buf);
	/* 12.1+: an empty body repeats the cached request; the cached key
	 * is the one the last response issued ("3"), which the fake
	 * answers with Status 3. */
	post("Sync", NULL, 0, &r);
	c = collection(&r);
	assert_non_null(c);
	assert_string_equal(child_str(c, EAS_AIRSYNC_COLLECTION_ID), INBOX);
	assert_int_equal(child_uint(c, EAS_AIRSYNC_STATUS), 3);
	cas_reply_free(&r);
}

static size_t
on_slow_body(char *data, size_t size, size_t n, void *ud)
{
	return buf_append(ud, data, size * n) == 0 ? size * n : 0;
}

static void
test_slow_reader_large_window(void **state)
{
	struct buf b, out;
	struct wbxml_enc e;
	struct wbxml_tree *tree = NULL;
	const struct wbxml_node *c, *cmds, *add, *body, *data;
	struct curl_slist *hdrs = NULL;
	char url[512], line[64];
	CURL *cu = curl_easy_init();
	long status = 0;
	size_t n = 0;

	(void)state;
	buf_init(&b, 4096);
	wbxml_enc_init_buf(&e, &b);
	wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTIONS);
	wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTION);
	wbxml_enc_str(&e, EAS_AIRSYNC_SYNC_KEY, "big");
	wbxml_enc_str(&e, EAS_AIRSYNC_COLLECTION_ID, INBOX);
	wbxml_enc_start(&e, EAS_AIRSYNC_OPTIONS);
	wbxml_enc_start(&e, EAS_AIRSYNCBASE_BODY_PREFERENCE);
	wbxml_enc_uint(&e, EAS_AIRSYNCBASE_TYPE, 2);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	buf_init(&out, 64u * 1024u * 1024u);
	(void)snprintf(url, sizeof(url),
		       "%s/Microsoft-Server-ActiveSync?Cmd=Sync&User=alice&"
		       "DeviceId=" DEV "&DeviceType=TestPhone",
		       h.base_url);
	(void)snprintf(line, sizeof(line), "X-MS-PolicyKey: %s", key);
	hdrs = curl_slist_append(hdrs, "MS-ASProtocolVersion: " VER);
	hdrs = curl_slist_append(hdrs, line);
	curl_easy_setopt(cu, CURLOPT_URL, url);
	curl_easy_setopt(cu, CURLOPT_POSTFIELDS, b.data);
	curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE, (long)b.len);
	curl_easy_setopt(cu, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
	curl_easy_setopt(cu, CURLOPT_USERPWD, HARNESS_USERPWD);
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_slow_body);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, &out);
	/* A reader slower than the server writes: 14 MB at 4 MB/s. */
	curl_easy_setopt(cu, CURLOPT_MAX_RECV_SPEED_LARGE,
			 (curl_off_t)(4 * 1024 * 1024));
	curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, 60000L);
	assert_int_equal(curl_easy_perform(cu), CURLE_OK);
	curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(cu);
	assert_int_equal(status, 200);
	/* Every item arrived whole, in one valid document. */
	assert_int_equal(wbxml_tree_parse(out.data, out.len, &tree, NULL, NULL),
			 0);
	c = wbxml_node_path(wbxml_tree_root(tree), COLL, 2);
	assert_string_equal(child_str(c, EAS_AIRSYNC_SYNC_KEY), "big2");
	cmds = wbxml_node_child(c, EAS_AIRSYNC_COMMANDS);
	WBXML_FOREACH(add, cmds, EAS_AIRSYNC_ADD)
	{
		body = wbxml_node_child(
		    wbxml_node_child(add, EAS_AIRSYNC_APPLICATION_DATA),
		    EAS_AIRSYNCBASE_BODY);
		data = wbxml_node_child(body, EAS_AIRSYNCBASE_DATA);
		assert_non_null(data);
		assert_int_equal(data->len, BIG_BODY_BYTES);
		n++;
	}
	assert_int_equal(n, BIG_ITEMS);
	wbxml_tree_free(&tree);
	buf_free(&out);
	buf_free(&b);
}

static void
test_estimate(void **state)
{
	struct buf b;
	struct wbxml_enc e;
	struct cas_reply r;
	const struct wbxml_node *resp;
	static const char *const keys[] = {"1", "0", "bad", "5"};
	static const char *const ids[] = {INBOX, "3", "4", "99"};
	static const long want[] = {1, 3, 4, 2};
	int i = 0;

	(void)state;
	buf_init(&b, 4096);
	wbxml_enc_init_buf(&e, &b);
	wbxml_enc_start(&e, EAS_GETITEMESTIMATE_GET_ITEM_ESTIMATE);
	wbxml_enc_start(&e, EAS_GETITEMESTIMATE_COLLECTIONS);
	for (int k = 0; k < 4; k++) {
		wbxml_enc_start(&e, EAS_GETITEMESTIMATE_COLLECTION);
		wbxml_enc_str(&e, EAS_AIRSYNC_SYNC_KEY, keys[k]);
		wbxml_enc_str(&e, EAS_GETITEMESTIMATE_COLLECTION_ID, ids[k]);
		wbxml_enc_end(&e);
	}
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	post("GetItemEstimate", b.data, b.len, &r);
	assert_non_null(r.tree);
	WBXML_FOREACH(resp, wbxml_tree_root(r.tree),
		      EAS_GETITEMESTIMATE_RESPONSE)
	{
		const struct wbxml_node *c =
		    wbxml_node_child(resp, EAS_GETITEMESTIMATE_COLLECTION);

		assert_int_equal(child_uint(resp, EAS_GETITEMESTIMATE_STATUS),
				 want[i]);
		assert_string_equal(
		    child_str(c, EAS_GETITEMESTIMATE_COLLECTION_ID), ids[i]);
		assert_int_equal(child_uint(c, EAS_GETITEMESTIMATE_ESTIMATE),
				 i == 0 ? 7 : -1);
		i++;
	}
	assert_int_equal(i, 4);
	cas_reply_free(&r);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_initial_sync),
	    cmocka_unit_test(test_window_more_available),
	    cmocka_unit_test(test_client_commands),
	    cmocka_unit_test(test_invalid_key_and_malformed),
	    cmocka_unit_test(test_keepalive_stream),
	    cmocka_unit_test(test_wait_held_and_woken),
	    cmocka_unit_test(test_heartbeat_expiry_empty),
	    cmocka_unit_test(test_samsung_heartbeat_only_sync),
	    cmocka_unit_test(test_v25_sync),
	    cmocka_unit_test(test_empty_sync_uses_cache),
	    cmocka_unit_test(test_estimate),
	    cmocka_unit_test(test_slow_reader_large_window),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, setup, teardown);
}
