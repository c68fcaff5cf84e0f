/* End-to-end tests of cas/cmd_moveitems.c against the fake mailbox: the
 * per-move statuses of MS-ASCMD 2.2.3.177.10 (3 with DstMsgId, 1 unknown
 * source, 2 unknown destination and another class, 4 same folder, 7 busy),
 * moves decided without the mailbox, the 1000-move limit (Status 103 from
 * 14.0, HTTP 400 before), malformed bodies and a failing mailbox. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/cas/cas_harness.h"

#define DEV "MOVEDEV"
#define VER "14.1"

static struct cas_harness h;
static char key[24];

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t seen_moves;
static char seen_device[64];

/* Source "404": not there; destination "99": no such folder; "8": the
 * Calendar; source "777": the store is busy; everything else moves. */
static int
on_move(void *arg, struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__MoveItemsRequest *q =
	    (const Rpc__MoveItemsRequest *)req->msg;
	Rpc__MoveItemsReply r;
	Rpc__MoveResult *res, **rp;
	int rc;

	(void)arg;
	pthread_mutex_lock(&seen_lock);
	seen_moves += q->n_moves;
	(void)snprintf(seen_device, sizeof(seen_device), "%s", q->device_id);
	pthread_mutex_unlock(&seen_lock);
	res = calloc(q->n_moves + 1, sizeof(*res));
	rp = calloc(q->n_moves + 1, sizeof(*rp));
	assert_non_null(res);
	assert_non_null(rp);
	rpc__move_items_reply__init(&r);
	r.status = RPC__STATUS__STATUS_OK;
	for (size_t i = 0; i < q->n_moves; i++) {
		const Rpc__MoveItem *m = q->moves[i];

		rpc__move_result__init(&res[i]);
		res[i].src_message_id = m->src_message_id;
		res[i].dst_message_id = "";
		res[i].status = RPC__STATUS__STATUS_OK;
		if (strcmp(m->src_message_id, "404") == 0) {
			res[i].status = RPC__STATUS__STATUS_NOT_FOUND;
			res[i].error = RPC__MOVE_ERROR__MOVE_ERROR_SOURCE;
		} else if (strcmp(m->dst_folder_id, "99") == 0) {
			res[i].status = RPC__STATUS__STATUS_NOT_FOUND;
			res[i].error = RPC__MOVE_ERROR__MOVE_ERROR_DESTINATION;
		} else if (strcmp(m->dst_folder_id, "8") == 0) {
			res[i].status = RPC__STATUS__STATUS_INVALID;
			res[i].error = RPC__MOVE_ERROR__MOVE_ERROR_CLASS;
		} else if (strcmp(m->src_message_id, "777") == 0) {
			res[i].status = RPC__STATUS__STATUS_BUSY;
		} else {
			res[i].dst_message_id = m->src_message_id;
		}
		rp[i] = &res[i];
	}
	r.results = rp;
	r.n_results = q->n_moves;
	rc = fake_mailbox_reply(fm, req, &r.base);
	free(res);
	free(rp);
	return rc;
}

static int
setup(void **state)
{
	uint32_t k;

	(void)state;
	if (cas_harness_start(&h) != 0 ||
	    cas_harness_provision(&h, DEV, VER, &k) != 0)
		return -1;
	(void)snprintf(key, sizeof(key), "%u", (unsigned)k);
	fake_mailbox_set_handler(h.fm, RPC__MSG_TYPE__MSG_MOVE_ITEMS, on_move,
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

static void
move(struct wbxml_enc *e, const char *msg, const char *src, const char *dst)
{
	wbxml_enc_start(e, EAS_MOVE_MOVE);
	if (msg != NULL)
		wbxml_enc_str(e, EAS_MOVE_SRC_MSG_ID, msg);
	wbxml_enc_str(e, EAS_MOVE_SRC_FLD_ID, src);
	wbxml_enc_str(e, EAS_MOVE_DST_FLD_ID, dst);
	wbxml_enc_end(e);
}

static void
post(const char *version, const char *device, const char *pk,
     const struct buf *b, struct cas_reply *r)
{
	char q[256];

	cas_harness_query(q, sizeof(q), "MoveItems", device);
	assert_int_equal(
	    cas_harness_post(&h, q, version, pk, h.userpwd, b->data, b->len, r),
	    0);
}

struct expect {
	const char *src;
	long status;
	const char *dst;
};

static void
test_statuses(void **state)
{
	static const struct expect want[] = {
	    {"17", 3, "17"},  {"", 1, NULL},   {"18", 4, NULL},
	    {"19", 2, NULL},  {"20", 2, NULL}, {"404", 1, NULL},
	    {"777", 7, NULL},
	};
	struct buf b;
	struct wbxml_enc e;
	struct cas_reply r;
	const struct wbxml_node *resp;
	size_t i = 0;

	(void)state;
	buf_init(&b, 4096);
	wbxml_enc_init_buf(&e, &b);
	wbxml_enc_start(&e, EAS_MOVE_MOVE_ITEMS);
	move(&e, "17", "2", "12");
	move(&e, NULL, "2", "12");  /* no SrcMsgId: 1, locally */
	move(&e, "18", "2", "2");   /* same folder: 4, locally */
	move(&e, "19", "2", "8");   /* into the Calendar: 2 */
	move(&e, "20", "2", "99");  /* no such destination: 2 */
	move(&e, "404", "2", "12"); /* not in the source: 1 */
	move(&e, "777", "2", "12"); /* busy: 7, retry */
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	pthread_mutex_lock(&seen_lock);
	seen_moves = 0;
	pthread_mutex_unlock(&seen_lock);
	post(VER, DEV, key, &b, &r);
	buf_free(&b);
	assert_int_equal(r.status, 200);
	assert_non_null(r.tree);
	assert_int_equal(wbxml_node_tag(wbxml_tree_root(r.tree)),
			 EAS_MOVE_MOVE_ITEMS);
	WBXML_FOREACH(resp, wbxml_tree_root(r.tree), EAS_MOVE_RESPONSE)
	{
		const char *s;
		uint64_t v;

		assert_true(i < sizeof(want) / sizeof(want[0]));
		assert_int_equal(wbxml_child_str(resp, EAS_MOVE_SRC_MSG_ID, 64,
						 &s, NULL, NULL),
				 0);
		assert_string_equal(s, want[i].src);
		assert_int_equal(
		    wbxml_child_uint(resp, EAS_MOVE_STATUS, 0, 999, &v, NULL),
		    0);
		if ((long)v != want[i].status)
			fail_msg("move %zu: status %lu, want %ld", i,
				 (unsigned long)v, want[i].status);
		if (want[i].dst != NULL) {
			assert_int_equal(wbxml_child_str(resp,
							 EAS_MOVE_DST_MSG_ID,
							 64, &s, NULL, NULL),
					 0);
			assert_string_equal(s, want[i].dst);
		} else {
			assert_false(
			    wbxml_child_present(resp, EAS_MOVE_DST_MSG_ID));
		}
		i++;
	}
	assert_int_equal(i, sizeof(want) / sizeof(want[0]));
	cas_reply_free(&r);
	/* The two moves decided locally never reached the mailbox; the
	 * device id travels for the device's own sync view. */
	pthread_mutex_lock(&seen_lock);
	assert_int_equal(seen_moves, 5);
	assert_string_equal(seen_device, DEV);
	pthread_mutex_unlock(&seen_lock);
}

static void
build_n(struct buf *b, int n)
{
	struct wbxml_enc e;
	char id[16];

	buf_init(b, 1u << 20);
	wbxml_enc_init_buf(&e, b);
	wbxml_enc_start(&e, EAS_MOVE_MOVE_ITEMS);
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%d", i + 1);
		move(&e, id, "2", "12");
	}
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
}

static void
test_limit(void **state)
{
	static const uint16_t status_path[] = {EAS_MOVE_STATUS};
	struct buf b;
	struct cas_reply r;
	uint32_t k;
	char old_key[24];

	(void)state;
	/* 1000 moves are served, each with its Response. */
	build_n(&b, MOVEITEMS_MAX_MOVES);
	post(VER, DEV, key, &b, &r);
	buf_free(&b);
	assert_int_equal(r.status, 200);
	assert_int_equal(wbxml_node_count_children(wbxml_tree_root(r.tree),
						   EAS_MOVE_RESPONSE),
			 MOVEITEMS_MAX_MOVES);
	cas_reply_free(&r);
	/* MS-ASCMD 3.1.5.10: one more is Status 103. */
	build_n(&b, MOVEITEMS_MAX_MOVES + 1);
	post(VER, DEV, key, &b, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(cas_reply_uint(&r, status_path, 1), 103);
	assert_int_equal(wbxml_node_count_children(wbxml_tree_root(r.tree),
						   EAS_MOVE_RESPONSE),
			 0);
	cas_reply_free(&r);
	/* Before 14.0 there is no common status: HTTP 400. */
	assert_int_equal(cas_harness_provision(&h, "MOVEOLD", "12.1", &k), 0);
	(void)snprintf(old_key, sizeof(old_key), "%u", (unsigned)k);
	post("12.1", "MOVEOLD", old_key, &b, &r);
	assert_int_equal(r.status, 400);
	cas_reply_free(&r);
	buf_free(&b);
}

static void
test_malformed_and_failure(void **state)
{
	static const uint16_t status_path[] = {EAS_MOVE_STATUS};
	static const uint8_t junk[] = {0x03, 0x01, 0x6a, 0x00, 0x45};
	struct buf b;
	struct cas_reply r;
	char q[256];

	(void)state;
	cas_harness_query(q, sizeof(q), "MoveItems", DEV);
	assert_int_equal(cas_harness_post(&h, q, VER, key, h.userpwd, junk,
					  sizeof(junk), &r),
			 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(cas_reply_uint(&r, status_path, 1), 103);
	cas_reply_free(&r);
	/* The mailbox fails the whole call: the common 110. */
	fake_mailbox_fail(h.fm, RPC__MSG_TYPE__MSG_MOVE_ITEMS,
			  RPC__STATUS__STATUS_STORAGE_ERROR);
	build_n(&b, 2);
	post(VER, DEV, key, &b, &r);
	fake_mailbox_fail(h.fm, RPC__MSG_TYPE__MSG_MOVE_ITEMS,
			  RPC__STATUS__STATUS_UNSPECIFIED);
	assert_int_equal(r.status, 200);
	assert_int_equal(cas_reply_uint(&r, status_path, 1), 110);
	cas_reply_free(&r);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_statuses),
	    cmocka_unit_test(test_limit),
	    cmocka_unit_test(test_malformed_and_failure),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
