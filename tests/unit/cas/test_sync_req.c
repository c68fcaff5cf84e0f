/* Unit tests for cas/sync_req.c: every element of a Sync request, the
 * defaults (WindowSize, GetChanges, DeletesAsMoves), the MS-ASCMD limits
 * and their statuses (4, 14 and 15 with Limit), malformed bodies, and the
 * empty / partial Sync cache (Status 13 without it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas/sync_req.h"
#include "proto/buf.h"
#include "proto/wbxml.h"

#define MIN_HB 60
#define MAX_HB 3540

struct doc {
	struct buf buf;
	struct wbxml_enc e;
};

static void
doc_init(struct doc *d)
{
	buf_init(&d->buf, 1u << 20);
	wbxml_enc_init_buf(&d->e, &d->buf);
}

static void
doc_done(struct doc *d)
{
	assert_int_equal(wbxml_enc_finish(&d->e), 0);
}

static int
decode(struct doc *d, unsigned version, struct sync_request **r,
       enum sync_status *st, uint32_t *limit)
{
	return sync_req_decode(d->buf.data, d->buf.len, version, MIN_HB, MAX_HB,
			       r, st, limit);
}

/* <Collection> with key and id (left open). */
static void
coll_open(struct wbxml_enc *e, const char *key, const char *id)
{
	wbxml_enc_start(e, EAS_AIRSYNC_COLLECTION);
	wbxml_enc_str(e, EAS_AIRSYNC_SYNC_KEY, key);
	wbxml_enc_str(e, EAS_AIRSYNC_COLLECTION_ID, id);
}

static void
test_full_request(void **state)
{
	struct doc d;
	struct wbxml_enc *e = &d.e;
	struct sync_request *r;
	enum sync_status st;
	uint32_t limit;
	const struct sync_collection *c;
	const struct sync_options *o;

	(void)state;
	doc_init(&d);
	wbxml_enc_start(e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(e, EAS_AIRSYNC_COLLECTIONS);
	coll_open(e, "7", "5");
	wbxml_enc_empty(e, EAS_AIRSYNC_DELETES_AS_MOVES);
	wbxml_enc_uint(e, EAS_AIRSYNC_GET_CHANGES, 0);
	wbxml_enc_uint(e, EAS_AIRSYNC_WINDOW_SIZE, 50);
	wbxml_enc_start(e, EAS_AIRSYNC_OPTIONS);
	wbxml_enc_uint(e, EAS_AIRSYNC_FILTER_TYPE, 3);
	wbxml_enc_start(e, EAS_AIRSYNCBASE_BODY_PREFERENCE);
	wbxml_enc_uint(e, EAS_AIRSYNCBASE_TYPE, 2);
	wbxml_enc_uint(e, EAS_AIRSYNCBASE_TRUNCATION_SIZE, 200000);
	wbxml_enc_end(e);
	wbxml_enc_start(e, EAS_AIRSYNCBASE_BODY_PREFERENCE);
	wbxml_enc_uint(e, EAS_AIRSYNCBASE_TYPE, 1);
	wbxml_enc_uint(e, EAS_AIRSYNCBASE_TRUNCATION_SIZE, 500);
	wbxml_enc_uint(e, EAS_AIRSYNCBASE_ALL_OR_NONE, 1);
	wbxml_enc_uint(e, EAS_AIRSYNCBASE_PREVIEW, 100);
	wbxml_enc_end(e);
	wbxml_enc_start(e, EAS_AIRSYNCBASE_BODY_PART_PREFERENCE);
	wbxml_enc_uint(e, EAS_AIRSYNCBASE_TYPE, 2);
	wbxml_enc_end(e);
	wbxml_enc_uint(e, EAS_AIRSYNC_MIME_SUPPORT, 2);
	wbxml_enc_uint(e, EAS_AIRSYNC_MIME_TRUNCATION, 8);
	wbxml_enc_uint(e, EAS_AIRSYNC_CONFLICT, 1);
	wbxml_enc_end(e); /* Options */
	wbxml_enc_start(e, EAS_AIRSYNC_COMMANDS);
	wbxml_enc_start(e, EAS_AIRSYNC_CHANGE);
	wbxml_enc_str(e, EAS_AIRSYNC_SERVER_ID, "5:1");
	wbxml_enc_start(e, EAS_AIRSYNC_APPLICATION_DATA);
	wbxml_enc_uint(e, EAS_EMAIL_READ, 1);
	wbxml_enc_start(e, EAS_EMAIL_FLAG);
	wbxml_enc_uint(e, EAS_EMAIL_FLAG_STATUS, 2);
	wbxml_enc_str(e, EAS_EMAIL_FLAG_TYPE, "Follow up");
	wbxml_enc_str(e, EAS_TASKS_UTC_DUE_DATE, "2026-11-28T10:00:00.000Z");
	wbxml_enc_end(e);
	wbxml_enc_start(e, EAS_EMAIL_CATEGORIES);
	wbxml_enc_str(e, EAS_EMAIL_CATEGORY, "Red");
	wbxml_enc_str(e, EAS_EMAIL_CATEGORY, "Blue");
	wbxml_enc_end(e);
	wbxml_enc_end(e); /* ApplicationData */
	wbxml_enc_end(e); /* Change */
	wbxml_enc_start(e, EAS_AIRSYNC_DELETE);
	wbxml_enc_str(e, EAS_AIRSYNC_SERVER_ID, "5:2");
	wbxml_enc_end(e);
	wbxml_enc_start(e, EAS_AIRSYNC_FETCH);
	wbxml_enc_str(e, EAS_AIRSYNC_SERVER_ID, "5:3");
	wbxml_enc_end(e);
	wbxml_enc_start(e, EAS_AIRSYNC_ADD);
	wbxml_enc_str(e, EAS_AIRSYNC_CLIENT_ID, "c1");
	wbxml_enc_start(e, EAS_AIRSYNC_APPLICATION_DATA);
	wbxml_enc_str(e, EAS_EMAIL_SUBJECT, "draft");
	wbxml_enc_end(e);
	wbxml_enc_end(e); /* Add */
	wbxml_enc_end(e); /* Commands */
	wbxml_enc_end(e); /* Collection */
	coll_open(e, "0", "6");
	wbxml_enc_end(e);
	wbxml_enc_end(e); /* Collections */
	wbxml_enc_uint(e, EAS_AIRSYNC_WINDOW_SIZE, 200);
	wbxml_enc_end(e);
	doc_done(&d);

	assert_int_equal(decode(&d, 161, &r, &st, &limit), 0);
	assert_int_equal(st, SYNC_STATUS_OK);
	assert_int_equal(r->n_collections, 2);
	assert_true(r->has_window_size);
	assert_int_equal(r->window_size, 200);
	c = &r->collections[0];
	assert_string_equal(c->sync_key, "7");
	assert_string_equal(c->collection_id, "5");
	assert_true(sync_req_deletes_as_moves(c));
	assert_false(sync_req_get_changes(c));
	assert_int_equal(sync_req_window(r, c), 50);
	assert_true(c->has_options);
	o = &c->options;
	assert_true(o->has_filter_type);
	assert_int_equal(o->filter_type, 3);
	assert_int_equal(o->n_body_prefs, 2);
	assert_int_equal(o->body_prefs[0].type, 2);
	assert_int_equal(o->body_prefs[0].truncation_size, 200000);
	assert_false(o->body_prefs[0].all_or_none);
	assert_int_equal(o->body_prefs[1].type, 1);
	assert_true(o->body_prefs[1].all_or_none);
	assert_int_equal(o->body_prefs[1].preview, 100);
	assert_int_equal(o->n_body_part_prefs, 1);
	assert_int_equal(o->mime_support, 2);
	assert_int_equal(o->mime_truncation, 8);
	assert_int_equal(o->conflict, 1);
	assert_int_equal(c->n_commands, 4);
	assert_int_equal(c->commands[0].op, SYNC_OP_CHANGE);
	assert_string_equal(c->commands[0].server_id, "5:1");
	assert_int_equal(c->commands[0].email.read, 1);
	assert_true(c->commands[0].email.has_flag);
	assert_int_equal(c->commands[0].email.flag_status, 2);
	assert_string_equal(c->commands[0].email.flag_type, "Follow up");
	assert_int_equal(c->commands[0].email.flag_due_s, 1795860000);
	assert_int_equal(c->commands[0].email.n_categories, 2);
	assert_string_equal(c->commands[0].email.categories[1], "Blue");
	assert_int_equal(c->commands[1].op, SYNC_OP_DELETE);
	assert_int_equal(c->commands[2].op, SYNC_OP_FETCH);
	assert_string_equal(c->commands[2].server_id, "5:3");
	assert_int_equal(c->commands[3].op, SYNC_OP_ADD);
	assert_string_equal(c->commands[3].client_id, "c1");
	assert_non_null(c->commands[3].app_data);
	/* The second collection: SyncKey 0 never gets changes, and the
	 * global WindowSize applies. */
	c = &r->collections[1];
	assert_false(sync_req_get_changes(c));
	assert_int_equal(sync_req_window(r, c), 200);
	assert_int_equal(sync_req_hold_s(r), 0);
	sync_req_free(&r);
	assert_null(r);
	buf_free(&d.buf);
}

static void
test_defaults(void **state)
{
	struct doc d;
	struct sync_request *r;
	enum sync_status st;
	uint32_t limit;

	(void)state;
	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(&d.e, EAS_AIRSYNC_COLLECTIONS);
	coll_open(&d.e, "3", "9");
	wbxml_enc_uint(&d.e, EAS_AIRSYNC_WINDOW_SIZE, 5000);
	wbxml_enc_end(&d.e);
	coll_open(&d.e, "4", "10");
	wbxml_enc_uint(&d.e, EAS_AIRSYNC_DELETES_AS_MOVES, 0);
	wbxml_enc_end(&d.e);
	coll_open(&d.e, "5", "11");
	wbxml_enc_uint(&d.e, EAS_AIRSYNC_WINDOW_SIZE, 0);
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	wbxml_enc_uint(&d.e, EAS_AIRSYNC_WAIT, 5);
	wbxml_enc_end(&d.e);
	doc_done(&d);
	assert_int_equal(decode(&d, 140, &r, &st, &limit), 0);
	/* MS-ASCMD 2.2.3.199: above 512 is served as 512; default 100. */
	assert_int_equal(sync_req_window(r, &r->collections[0]), 512);
	assert_int_equal(sync_req_window(r, &r->collections[1]), 100);
	/* ... and 0 is served as 512 too. */
	assert_int_equal(sync_req_window(r, &r->collections[2]), 512);
	assert_true(sync_req_get_changes(&r->collections[0]));
	assert_true(sync_req_deletes_as_moves(&r->collections[0]));
	assert_false(sync_req_deletes_as_moves(&r->collections[1]));
	assert_false(r->collections[0].has_options);
	assert_int_equal(sync_req_hold_s(r), 300);
	sync_req_free(&r);
	buf_free(&d.buf);
}

static void
build_commands(struct doc *d, size_t n)
{
	wbxml_enc_start(&d->e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(&d->e, EAS_AIRSYNC_COLLECTIONS);
	coll_open(&d->e, "3", "9");
	wbxml_enc_start(&d->e, EAS_AIRSYNC_COMMANDS);
	for (size_t i = 0; i < n; i++) {
		wbxml_enc_start(&d->e, EAS_AIRSYNC_DELETE);
		wbxml_enc_str(&d->e, EAS_AIRSYNC_SERVER_ID, "9:1");
		wbxml_enc_end(&d->e);
	}
	wbxml_enc_end(&d->e);
	wbxml_enc_end(&d->e);
	wbxml_enc_end(&d->e);
	wbxml_enc_end(&d->e);
	doc_done(d);
}

static void
test_command_limit(void **state)
{
	struct doc d;
	struct sync_request *r;
	enum sync_status st;
	uint32_t limit;

	(void)state;
	doc_init(&d);
	build_commands(&d, SYNC_MAX_COMMANDS);
	assert_int_equal(decode(&d, 141, &r, &st, &limit), 0);
	assert_int_equal(r->collections[0].n_commands, SYNC_MAX_COMMANDS);
	sync_req_free(&r);
	buf_free(&d.buf);

	/* MS-ASCMD 3.1.5.10: one more than 200 is Status 4. */
	doc_init(&d);
	build_commands(&d, SYNC_MAX_COMMANDS + 1);
	assert_int_equal(decode(&d, 141, &r, &st, &limit), -1);
	assert_null(r);
	assert_int_equal(st, SYNC_STATUS_PROTOCOL_ERROR);
	buf_free(&d.buf);
}

static void
test_collection_limit(void **state)
{
	struct doc d;
	struct sync_request *r;
	enum sync_status st;
	uint32_t limit;
	char id[16];

	(void)state;
	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(&d.e, EAS_AIRSYNC_COLLECTIONS);
	for (int i = 0; i <= SYNC_MAX_COLLECTIONS; i++) {
		snprintf(id, sizeof(id), "%d", i);
		coll_open(&d.e, "1", id);
		wbxml_enc_end(&d.e);
	}
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	doc_done(&d);
	assert_int_equal(decode(&d, 141, &r, &st, &limit), -1);
	assert_int_equal(st, SYNC_STATUS_INVALID_COMMAND);
	assert_int_equal(limit, SYNC_MAX_COLLECTIONS);
	buf_free(&d.buf);
}

static void
interval_case(uint16_t tag, uint64_t value, enum sync_status want,
	      uint32_t want_limit)
{
	struct doc d;
	struct sync_request *r;
	enum sync_status st;
	uint32_t limit;

	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(&d.e, EAS_AIRSYNC_COLLECTIONS);
	coll_open(&d.e, "1", "2");
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	wbxml_enc_uint(&d.e, tag, value);
	wbxml_enc_end(&d.e);
	doc_done(&d);
	if (want == SYNC_STATUS_OK) {
		assert_int_equal(decode(&d, 141, &r, &st, &limit), 0);
		sync_req_free(&r);
	} else {
		assert_int_equal(decode(&d, 141, &r, &st, &limit), -1);
		assert_int_equal(st, want);
		assert_int_equal(limit, want_limit);
	}
	buf_free(&d.buf);
}

static void
test_intervals(void **state)
{
	(void)state;
	/* MS-ASCMD 2.2.3.97: Status 14 with the nearest bound. */
	interval_case(EAS_AIRSYNC_WAIT, 0, SYNC_STATUS_INVALID_INTERVAL, 1);
	interval_case(EAS_AIRSYNC_WAIT, 60, SYNC_STATUS_INVALID_INTERVAL, 59);
	interval_case(EAS_AIRSYNC_WAIT, 59, SYNC_STATUS_OK, 0);
	interval_case(EAS_AIRSYNC_HEARTBEAT_INTERVAL, 30,
		      SYNC_STATUS_INVALID_INTERVAL, MIN_HB);
	interval_case(EAS_AIRSYNC_HEARTBEAT_INTERVAL, 4000,
		      SYNC_STATUS_INVALID_INTERVAL, MAX_HB);
	interval_case(EAS_AIRSYNC_HEARTBEAT_INTERVAL, 470, SYNC_STATUS_OK, 0);
}

static void
expect_status(const uint8_t *body, size_t len, unsigned version,
	      enum sync_status want)
{
	struct sync_request *r;
	enum sync_status st;
	uint32_t limit;

	assert_int_equal(sync_req_decode(body, len, version, MIN_HB, MAX_HB, &r,
					 &st, &limit),
			 -1);
	assert_null(r);
	assert_int_equal(st, want);
}

/* A one-collection request with one extra element written by fn. */
static void
malformed_case(void (*fn)(struct wbxml_enc *e))
{
	struct doc d;

	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(&d.e, EAS_AIRSYNC_COLLECTIONS);
	fn(&d.e);
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	doc_done(&d);
	expect_status(d.buf.data, d.buf.len, 141, SYNC_STATUS_PROTOCOL_ERROR);
	buf_free(&d.buf);
}

static void
no_sync_key(struct wbxml_enc *e)
{
	wbxml_enc_start(e, EAS_AIRSYNC_COLLECTION);
	wbxml_enc_str(e, EAS_AIRSYNC_COLLECTION_ID, "1");
	wbxml_enc_end(e);
}

static void
bad_filter(struct wbxml_enc *e)
{
	coll_open(e, "1", "2");
	wbxml_enc_start(e, EAS_AIRSYNC_OPTIONS);
	wbxml_enc_uint(e, EAS_AIRSYNC_FILTER_TYPE, 9);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
}

static void
bad_body_type(struct wbxml_enc *e)
{
	coll_open(e, "1", "2");
	wbxml_enc_start(e, EAS_AIRSYNC_OPTIONS);
	wbxml_enc_start(e, EAS_AIRSYNCBASE_BODY_PREFERENCE);
	wbxml_enc_uint(e, EAS_AIRSYNCBASE_TYPE, 7);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
}

static void
change_without_id(struct wbxml_enc *e)
{
	coll_open(e, "1", "2");
	wbxml_enc_start(e, EAS_AIRSYNC_COMMANDS);
	wbxml_enc_start(e, EAS_AIRSYNC_CHANGE);
	wbxml_enc_start(e, EAS_AIRSYNC_APPLICATION_DATA);
	wbxml_enc_uint(e, EAS_EMAIL_READ, 1);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
}

static void
duplicate_collection(struct wbxml_enc *e)
{
	coll_open(e, "1", "2");
	wbxml_enc_end(e);
	coll_open(e, "1", "2");
	wbxml_enc_end(e);
}

static void
long_key(struct wbxml_enc *e)
{
	char key[SYNC_MAX_KEY_BYTES + 2];

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	coll_open(e, key, "2");
	wbxml_enc_end(e);
}

static void
bad_read(struct wbxml_enc *e)
{
	coll_open(e, "1", "2");
	wbxml_enc_start(e, EAS_AIRSYNC_COMMANDS);
	wbxml_enc_start(e, EAS_AIRSYNC_CHANGE);
	wbxml_enc_str(e, EAS_AIRSYNC_SERVER_ID, "2:1");
	wbxml_enc_start(e, EAS_AIRSYNC_APPLICATION_DATA);
	wbxml_enc_uint(e, EAS_EMAIL_READ, 7);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
}

static void
test_malformed(void **state)
{
	static const uint8_t garbage[] = {0x03, 0x01, 0x6a, 0x00, 0x45, 0x4b};
	static const uint8_t not_wbxml[] = "<Sync/>";
	struct doc d;

	(void)state;
	expect_status(garbage, sizeof(garbage), 141,
		      SYNC_STATUS_PROTOCOL_ERROR);
	expect_status(not_wbxml, sizeof(not_wbxml) - 1, 141,
		      SYNC_STATUS_PROTOCOL_ERROR);
	/* Another command's root element. */
	doc_init(&d);
	wbxml_enc_empty(&d.e, EAS_PING_PING);
	doc_done(&d);
	expect_status(d.buf.data, d.buf.len, 141, SYNC_STATUS_PROTOCOL_ERROR);
	buf_free(&d.buf);
	/* Wait and HeartbeatInterval together. */
	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_AIRSYNC_SYNC);
	wbxml_enc_uint(&d.e, EAS_AIRSYNC_WAIT, 5);
	wbxml_enc_uint(&d.e, EAS_AIRSYNC_HEARTBEAT_INTERVAL, 300);
	wbxml_enc_end(&d.e);
	doc_done(&d);
	expect_status(d.buf.data, d.buf.len, 141, SYNC_STATUS_PROTOCOL_ERROR);
	buf_free(&d.buf);
	malformed_case(no_sync_key);
	malformed_case(bad_filter);
	malformed_case(bad_body_type);
	malformed_case(change_without_id);
	malformed_case(duplicate_collection);
	malformed_case(long_key);
	malformed_case(bad_read);
	/* The empty Sync is 12.1+ (MS-ASCMD 2.2.1.21). */
	expect_status(NULL, 0, 120, SYNC_STATUS_PROTOCOL_ERROR);
}

static struct sync_request *
one_collection(unsigned version, const char *key, const char *id, bool options,
	       bool partial)
{
	struct doc d;
	struct sync_request *r;
	enum sync_status st;
	uint32_t limit;

	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(&d.e, EAS_AIRSYNC_COLLECTIONS);
	coll_open(&d.e, key, id);
	if (options) {
		wbxml_enc_start(&d.e, EAS_AIRSYNC_OPTIONS);
		wbxml_enc_uint(&d.e, EAS_AIRSYNC_FILTER_TYPE, 4);
		wbxml_enc_end(&d.e);
	}
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	if (partial)
		wbxml_enc_empty(&d.e, EAS_AIRSYNC_PARTIAL);
	else
		wbxml_enc_uint(&d.e, EAS_AIRSYNC_HEARTBEAT_INTERVAL, 600);
	wbxml_enc_end(&d.e);
	doc_done(&d);
	assert_int_equal(decode(&d, version, &r, &st, &limit), 0);
	/* The tree points into the body only for single-piece strings;
	 * the fixed fields were copied, so the body can go. */
	r->collections[0].n_commands = 0;
	buf_free(&d.buf);
	return r;
}

static void
test_cache_merge(void **state)
{
	struct sync_cache *cache = sync_cache_new(2);
	struct sync_request *full, *r;
	enum sync_status st;
	uint32_t limit;

	(void)state;
	assert_non_null(cache);
	/* Empty Sync without anything cached: Status 13. */
	assert_int_equal(
	    sync_req_decode(NULL, 0, 141, MIN_HB, MAX_HB, &r, &st, &limit), 0);
	assert_true(r->empty);
	assert_int_equal(sync_req_merge(cache, 1, "dev", 141, r, &st), -1);
	assert_int_equal(st, SYNC_STATUS_INCOMPLETE);
	sync_req_free(&r);

	/* A full request is cached... */
	full = one_collection(141, "5", "inbox", true, false);
	assert_int_equal(sync_req_merge(cache, 1, "dev", 141, full, &st), 0);
	assert_int_equal(sync_cache_store(cache, 1, "dev", full), 0);
	sync_req_free(&full);
	sync_cache_set_key(cache, 1, "dev", "inbox", "6");

	/* ... and an empty one takes all of it, with the newest key. */
	assert_int_equal(
	    sync_req_decode(NULL, 0, 141, MIN_HB, MAX_HB, &r, &st, &limit), 0);
	assert_int_equal(sync_req_merge(cache, 1, "dev", 141, r, &st), 0);
	assert_int_equal(r->n_collections, 1);
	assert_string_equal(r->collections[0].sync_key, "6");
	assert_true(r->collections[0].has_options);
	assert_int_equal(r->collections[0].options.filter_type, 4);
	assert_true(r->has_heartbeat);
	assert_int_equal(sync_req_hold_s(r), 600);
	sync_req_free(&r);

	/* Partial: a named collection without Options takes the cached
	 * ones; the cached collections not named are added. */
	r = one_collection(141, "2", "sent", false, true);
	assert_int_equal(sync_req_merge(cache, 1, "dev", 141, r, &st), 0);
	assert_int_equal(r->n_collections, 2);
	assert_string_equal(r->collections[0].collection_id, "sent");
	assert_string_equal(r->collections[1].collection_id, "inbox");
	sync_req_free(&r);
	r = one_collection(141, "7", "inbox", false, true);
	assert_int_equal(sync_req_merge(cache, 1, "dev", 141, r, &st), 0);
	assert_int_equal(r->n_collections, 1);
	assert_string_equal(r->collections[0].sync_key, "7");
	assert_int_equal(r->collections[0].options.filter_type, 4);
	sync_req_free(&r);

	/* Another device of the same user has no cache. */
	r = one_collection(141, "7", "inbox", false, true);
	assert_int_equal(sync_req_merge(cache, 1, "other", 141, r, &st), -1);
	assert_int_equal(st, SYNC_STATUS_INCOMPLETE);
	sync_req_free(&r);

	/* Bounded: the least recently used device is evicted. */
	full = one_collection(141, "1", "x", true, false);
	assert_int_equal(sync_cache_store(cache, 2, "a", full), 0);
	assert_int_equal(sync_cache_store(cache, 3, "b", full), 0);
	sync_req_free(&full);
	assert_int_equal(sync_cache_count(cache), 2);
	assert_int_equal(
	    sync_req_decode(NULL, 0, 141, MIN_HB, MAX_HB, &r, &st, &limit), 0);
	assert_int_equal(sync_req_merge(cache, 1, "dev", 141, r, &st), -1);
	assert_int_equal(st, SYNC_STATUS_INCOMPLETE);
	sync_req_free(&r);
	sync_cache_free(&cache);
	assert_null(cache);
}

static void
test_datetime(void **state)
{
	int64_t s;

	(void)state;
	assert_int_equal(sync_parse_datetime("1970-01-01T00:00:00.000Z", &s),
			 0);
	assert_int_equal(s, 0);
	assert_int_equal(sync_parse_datetime("2026-11-28T10:00:00Z", &s), 0);
	assert_int_equal(s, 1795860000);
	assert_int_equal(sync_parse_datetime("2026-13-28T10:00:00Z", &s), -1);
	assert_int_equal(sync_parse_datetime("2026-11-28T10:00:00", &s), -1);
	assert_int_equal(sync_parse_datetime("2026-11-28", &s), -1);
	assert_int_equal(sync_parse_datetime("", &s), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_request),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_command_limit),
	    cmocka_unit_test(test_collection_limit),
	    cmocka_unit_test(test_intervals),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_cache_merge),
	    cmocka_unit_test(test_datetime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
