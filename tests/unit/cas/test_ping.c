/* Unit tests for cas/ping_req.c: HeartbeatInterval bounds (Status 5 with
 * the bound), MaxFolders (Status 6 with the limit), malformed bodies
 * (Status 4), the empty Ping with and without cached parameters (Status
 * 3), Android's 470 s heartbeat, and the response documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas/ping_req.h"
#include "proto/buf.h"
#include "proto/wbxml_tree.h"

#define MIN_HB 60
#define MAX_HB 1740
#define MAX_FOLDERS 5

struct doc {
	struct buf buf;
	struct wbxml_enc e;
};

/* <Ping>[<HeartbeatInterval>][<Folders> n folders]</Ping>. */
static void
build(struct doc *d, long hb, int n_folders)
{
	char id[16];

	buf_init(&d->buf, 1u << 16);
	wbxml_enc_init_buf(&d->e, &d->buf);
	wbxml_enc_start(&d->e, EAS_PING_PING);
	if (hb >= 0)
		wbxml_enc_uint(&d->e, EAS_PING_HEARTBEAT_INTERVAL,
			       (uint64_t)hb);
	if (n_folders >= 0) {
		wbxml_enc_start(&d->e, EAS_PING_FOLDERS);
		for (int i = 0; i < n_folders; i++) {
			snprintf(id, sizeof(id), "f%d", i);
			wbxml_enc_start(&d->e, EAS_PING_FOLDER);
			wbxml_enc_str(&d->e, EAS_PING_ID, id);
			wbxml_enc_str(&d->e, EAS_PING_CLASS, "Email");
			wbxml_enc_end(&d->e);
		}
		wbxml_enc_end(&d->e);
	}
	wbxml_enc_end(&d->e);
	assert_int_equal(wbxml_enc_finish(&d->e), 0);
}

static int
decode(struct doc *d, struct ping_request *r, enum ping_status *st,
       uint32_t *limit)
{
	return ping_req_decode(d->buf.data, d->buf.len, MIN_HB, MAX_HB,
			       MAX_FOLDERS, r, st, limit);
}

static void
test_decode_ok(void **state)
{
	struct doc d;
	struct ping_request r;
	enum ping_status st;
	uint32_t limit;

	(void)state;
	/* Android's default heartbeat is about 470 s. */
	build(&d, 470, 3);
	assert_int_equal(decode(&d, &r, &st, &limit), 0);
	assert_true(r.has_heartbeat);
	assert_int_equal(r.heartbeat_s, 470);
	assert_true(r.has_folders);
	assert_int_equal(r.n_folders, 3);
	assert_string_equal(r.folders[2].id, "f2");
	assert_string_equal(r.folders[2].class, "Email");
	ping_req_clear(&r);
	buf_free(&d.buf);
}

static void
test_heartbeat_bounds(void **state)
{
	struct doc d;
	struct ping_request r;
	enum ping_status st;
	uint32_t limit;

	(void)state;
	build(&d, 59, 1);
	assert_int_equal(decode(&d, &r, &st, &limit), -1);
	assert_int_equal(st, PING_STATUS_BAD_HEARTBEAT);
	assert_int_equal(limit, MIN_HB);
	buf_free(&d.buf);
	/* Above the cap (min(max_heartbeat, proxy_idle_timeout - 60)). */
	build(&d, 3540, 1);
	assert_int_equal(decode(&d, &r, &st, &limit), -1);
	assert_int_equal(st, PING_STATUS_BAD_HEARTBEAT);
	assert_int_equal(limit, MAX_HB);
	buf_free(&d.buf);
	build(&d, MAX_HB, 1);
	assert_int_equal(decode(&d, &r, &st, &limit), 0);
	ping_req_clear(&r);
	buf_free(&d.buf);
}

static void
test_max_folders(void **state)
{
	struct doc d;
	struct ping_request r;
	enum ping_status st;
	uint32_t limit;

	(void)state;
	build(&d, 300, MAX_FOLDERS + 1);
	assert_int_equal(decode(&d, &r, &st, &limit), -1);
	assert_int_equal(st, PING_STATUS_TOO_MANY_FOLDERS);
	assert_int_equal(limit, MAX_FOLDERS);
	assert_null(r.folders);
	buf_free(&d.buf);
	build(&d, 300, MAX_FOLDERS);
	assert_int_equal(decode(&d, &r, &st, &limit), 0);
	ping_req_clear(&r);
	buf_free(&d.buf);
}

static void
test_malformed(void **state)
{
	static const uint8_t junk[] = {0x03, 0x01, 0x6a, 0x00, 0x00,
				       0x0d, 0x45, 0x48, 0x03, 0x31};
	struct doc d;
	struct ping_request r;
	enum ping_status st;
	uint32_t limit;

	(void)state;
	assert_int_equal(ping_req_decode(junk, sizeof(junk), MIN_HB, MAX_HB,
					 MAX_FOLDERS, &r, &st, &limit),
			 -1);
	assert_int_equal(st, PING_STATUS_PROTOCOL_ERROR);
	/* Empty Folders, a folder without Id, a wrong root. */
	build(&d, 300, 0);
	assert_int_equal(decode(&d, &r, &st, &limit), -1);
	assert_int_equal(st, PING_STATUS_PROTOCOL_ERROR);
	buf_free(&d.buf);
	buf_init(&d.buf, 1024);
	wbxml_enc_init_buf(&d.e, &d.buf);
	wbxml_enc_start(&d.e, EAS_PING_PING);
	wbxml_enc_start(&d.e, EAS_PING_FOLDERS);
	wbxml_enc_start(&d.e, EAS_PING_FOLDER);
	wbxml_enc_str(&d.e, EAS_PING_CLASS, "Email");
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	assert_int_equal(wbxml_enc_finish(&d.e), 0);
	assert_int_equal(decode(&d, &r, &st, &limit), -1);
	assert_int_equal(st, PING_STATUS_PROTOCOL_ERROR);
	buf_free(&d.buf);
	buf_init(&d.buf, 1024);
	wbxml_enc_init_buf(&d.e, &d.buf);
	wbxml_enc_empty(&d.e, EAS_AIRSYNC_SYNC);
	assert_int_equal(wbxml_enc_finish(&d.e), 0);
	assert_int_equal(decode(&d, &r, &st, &limit), -1);
	assert_int_equal(st, PING_STATUS_PROTOCOL_ERROR);
	buf_free(&d.buf);
}

static void
test_empty_ping_cache(void **state)
{
	struct ping_cache *c = ping_cache_new(2);
	struct ping_request r;
	enum ping_status st;
	uint32_t limit;
	struct doc d;

	(void)state;
	/* Empty Ping, nothing cached: Status 3. */
	assert_int_equal(ping_req_decode(NULL, 0, MIN_HB, MAX_HB, MAX_FOLDERS,
					 &r, &st, &limit),
			 0);
	assert_int_equal(ping_cache_merge(c, 1, "dev", &r, &st), -1);
	assert_int_equal(st, PING_STATUS_MISSING_PARAMS);
	ping_req_clear(&r);
	/* Heartbeat without folders and nothing cached: Status 3 too. */
	build(&d, 300, -1);
	assert_int_equal(decode(&d, &r, &st, &limit), 0);
	assert_int_equal(ping_cache_merge(c, 1, "dev", &r, &st), -1);
	assert_int_equal(st, PING_STATUS_MISSING_PARAMS);
	ping_req_clear(&r);
	buf_free(&d.buf);
	/* A full Ping is remembered... */
	build(&d, 470, 2);
	assert_int_equal(decode(&d, &r, &st, &limit), 0);
	assert_int_equal(ping_cache_merge(c, 1, "dev", &r, &st), 0);
	ping_req_clear(&r);
	buf_free(&d.buf);
	/* ... and an empty one reuses it. */
	assert_int_equal(ping_req_decode(NULL, 0, MIN_HB, MAX_HB, MAX_FOLDERS,
					 &r, &st, &limit),
			 0);
	assert_int_equal(ping_cache_merge(c, 1, "dev", &r, &st), 0);
	assert_int_equal(r.heartbeat_s, 470);
	assert_int_equal(r.n_folders, 2);
	assert_string_equal(r.folders[1].id, "f1");
	ping_req_clear(&r);
	/* Only the heartbeat changes: folders from the cache. */
	build(&d, 600, -1);
	assert_int_equal(decode(&d, &r, &st, &limit), 0);
	assert_int_equal(ping_cache_merge(c, 1, "dev", &r, &st), 0);
	assert_int_equal(r.heartbeat_s, 600);
	assert_int_equal(r.n_folders, 2);
	ping_req_clear(&r);
	buf_free(&d.buf);
	/* Other devices: no cache; bounded by LRU eviction. */
	assert_int_equal(ping_req_decode(NULL, 0, MIN_HB, MAX_HB, MAX_FOLDERS,
					 &r, &st, &limit),
			 0);
	assert_int_equal(ping_cache_merge(c, 1, "other", &r, &st), -1);
	ping_req_clear(&r);
	for (int i = 0; i < 3; i++) {
		char dev[16];

		snprintf(dev, sizeof(dev), "d%d", i);
		build(&d, 300, 1);
		assert_int_equal(decode(&d, &r, &st, &limit), 0);
		assert_int_equal(ping_cache_merge(c, 2, dev, &r, &st), 0);
		ping_req_clear(&r);
		buf_free(&d.buf);
	}
	assert_int_equal(ping_cache_count(c), 2);
	ping_cache_free(&c);
	assert_null(c);
}

static const struct wbxml_node *
encode(struct buf *b, struct wbxml_tree **tree, enum ping_status st,
       const char *const *changed, size_t n, uint32_t limit)
{
	struct wbxml_enc e;

	buf_init(b, 4096);
	wbxml_enc_init_buf(&e, b);
	assert_int_equal(ping_resp_encode(&e, st, changed, n, limit), 0);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(wbxml_tree_parse(b->data, b->len, tree, NULL, NULL),
			 0);
	return wbxml_tree_root(*tree);
}

static void
test_responses(void **state)
{
	static const char *const changed[] = {"inbox", "cal"};
	struct wbxml_tree *tree;
	const struct wbxml_node *root, *f;
	struct buf b;
	uint64_t v;
	const char *s;

	(void)state;
	root = encode(&b, &tree, PING_STATUS_CHANGES, changed, 2, 0);
	assert_int_equal(
	    wbxml_child_uint(root, EAS_PING_STATUS, 0, 10, &v, NULL), 0);
	assert_int_equal(v, 2);
	f = wbxml_node_child(root, EAS_PING_FOLDERS);
	assert_int_equal(wbxml_node_count_children(f, EAS_PING_FOLDER), 2);
	assert_int_equal(
	    wbxml_child_str(f, EAS_PING_FOLDER, 64, &s, NULL, NULL), 0);
	assert_string_equal(s, "inbox");
	wbxml_tree_free(&tree);
	buf_free(&b);
	root = encode(&b, &tree, PING_STATUS_BAD_HEARTBEAT, NULL, 0, 1740);
	assert_int_equal(wbxml_child_uint(root, EAS_PING_HEARTBEAT_INTERVAL, 0,
					  9999, &v, NULL),
			 0);
	assert_int_equal(v, 1740);
	wbxml_tree_free(&tree);
	buf_free(&b);
	root = encode(&b, &tree, PING_STATUS_TOO_MANY_FOLDERS, NULL, 0, 300);
	assert_int_equal(
	    wbxml_child_uint(root, EAS_PING_MAX_FOLDERS, 0, 9999, &v, NULL), 0);
	assert_int_equal(v, 300);
	wbxml_tree_free(&tree);
	buf_free(&b);
	root = encode(&b, &tree, PING_STATUS_EXPIRED, NULL, 0, 0);
	assert_false(wbxml_child_present(root, EAS_PING_FOLDERS));
	wbxml_tree_free(&tree);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_ok),
	    cmocka_unit_test(test_heartbeat_bounds),
	    cmocka_unit_test(test_max_folders),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_empty_ping_cache),
	    cmocka_unit_test(test_responses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
