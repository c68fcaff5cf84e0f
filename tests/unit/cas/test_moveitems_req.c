/* Unit tests for cas/moveitems_req.c: a request of several moves, a move
 * missing its ids (kept empty for its own status), the 1000-move limit of
 * MS-ASCMD 3.1.5.10, malformed bodies, and the response (DstMsgId only
 * with Status 3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas/moveitems_req.h"
#include "proto/buf.h"
#include "proto/wbxml_tree.h"

static void
move(struct wbxml_enc *e, const char *msg, const char *src, const char *dst)
{
	wbxml_enc_start(e, EAS_MOVE_MOVE);
	if (msg != NULL)
		wbxml_enc_str(e, EAS_MOVE_SRC_MSG_ID, msg);
	if (src != NULL)
		wbxml_enc_str(e, EAS_MOVE_SRC_FLD_ID, src);
	if (dst != NULL)
		wbxml_enc_str(e, EAS_MOVE_DST_FLD_ID, dst);
	wbxml_enc_end(e);
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
test_decode(void **state)
{
	struct buf b;
	struct wbxml_enc e;
	struct moveitems_request r;
	enum moveitems_error err;

	(void)state;
	buf_init(&b, 4096);
	wbxml_enc_init_buf(&e, &b);
	wbxml_enc_start(&e, EAS_MOVE_MOVE_ITEMS);
	move(&e, "17", "2", "12");
	move(&e, NULL, "2", "12");
	move(&e, "18", "2", NULL);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(moveitems_req_decode(b.data, b.len, &r, &err), 0);
	assert_int_equal(r.n_moves, 3);
	assert_string_equal(r.moves[0].src_msg_id, "17");
	assert_string_equal(r.moves[0].src_fld_id, "2");
	assert_string_equal(r.moves[0].dst_fld_id, "12");
	assert_string_equal(r.moves[1].src_msg_id, "");
	assert_string_equal(r.moves[2].dst_fld_id, "");
	moveitems_req_clear(&r);
	assert_null(r.moves);
	buf_free(&b);
}

static void
test_limit(void **state)
{
	struct buf b;
	struct moveitems_request r;
	enum moveitems_error err;

	(void)state;
	build_n(&b, MOVEITEMS_MAX_MOVES);
	assert_int_equal(moveitems_req_decode(b.data, b.len, &r, &err), 0);
	assert_int_equal(r.n_moves, MOVEITEMS_MAX_MOVES);
	moveitems_req_clear(&r);
	buf_free(&b);
	build_n(&b, MOVEITEMS_MAX_MOVES + 1);
	assert_int_equal(moveitems_req_decode(b.data, b.len, &r, &err), -1);
	assert_int_equal(err, MOVEITEMS_ERR_TOO_MANY);
	assert_null(r.moves);
	buf_free(&b);
}

static void
test_malformed(void **state)
{
	static const uint8_t junk[] = {0x03, 0x01, 0x6a, 0x00, 0x45};
	char long_id[MOVEITEMS_MAX_ID_BYTES + 2];
	struct buf b;
	struct wbxml_enc e;
	struct moveitems_request r;
	enum moveitems_error err;

	(void)state;
	assert_int_equal(moveitems_req_decode(junk, sizeof(junk), &r, &err),
			 -1);
	assert_int_equal(err, MOVEITEMS_ERR_MALFORMED);
	assert_int_equal(moveitems_req_decode(NULL, 0, &r, &err), -1);
	/* No Move at all. */
	build_n(&b, 0);
	assert_int_equal(moveitems_req_decode(b.data, b.len, &r, &err), -1);
	assert_int_equal(err, MOVEITEMS_ERR_MALFORMED);
	buf_free(&b);
	/* Another root. */
	buf_init(&b, 4096);
	wbxml_enc_init_buf(&e, &b);
	wbxml_enc_start(&e, EAS_PING_PING);
	move(&e, "1", "2", "3");
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(moveitems_req_decode(b.data, b.len, &r, &err), -1);
	buf_free(&b);
	/* An id over 64 bytes. */
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	buf_init(&b, 4096);
	wbxml_enc_init_buf(&e, &b);
	wbxml_enc_start(&e, EAS_MOVE_MOVE_ITEMS);
	move(&e, long_id, "2", "3");
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(moveitems_req_decode(b.data, b.len, &r, &err), -1);
	assert_int_equal(err, MOVEITEMS_ERR_MALFORMED);
	assert_null(r.moves);
	buf_free(&b);
}

static void
test_response(void **state)
{
	struct moveitems_move moves[2] = {{"17", "2", "12"}, {"9", "2", "2"}};
	struct moveitems_request r = {.n_moves = 2, .moves = moves};
	struct moveitems_result res[2] = {
	    {MOVEITEMS_STATUS_SUCCESS, "17"},
	    {MOVEITEMS_STATUS_SAME_FOLDER, ""},
	};
	struct buf b;
	struct wbxml_enc e;
	struct wbxml_tree *t = NULL;
	const struct wbxml_node *resp;
	const char *s;
	uint64_t v;

	(void)state;
	buf_init(&b, 4096);
	wbxml_enc_init_buf(&e, &b);
	assert_int_equal(moveitems_resp_encode(&e, &r, res), 0);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(wbxml_tree_parse(b.data, b.len, &t, NULL, NULL), 0);
	resp = wbxml_node_child(wbxml_tree_root(t), EAS_MOVE_RESPONSE);
	assert_non_null(resp);
	assert_int_equal(
	    wbxml_child_str(resp, EAS_MOVE_SRC_MSG_ID, 64, &s, NULL, NULL), 0);
	assert_string_equal(s, "17");
	assert_int_equal(
	    wbxml_child_uint(resp, EAS_MOVE_STATUS, 0, 99, &v, NULL), 0);
	assert_int_equal(v, 3);
	assert_int_equal(
	    wbxml_child_str(resp, EAS_MOVE_DST_MSG_ID, 64, &s, NULL, NULL), 0);
	assert_string_equal(s, "17");
	resp = wbxml_node_next_same(resp);
	assert_non_null(resp);
	assert_int_equal(
	    wbxml_child_uint(resp, EAS_MOVE_STATUS, 0, 99, &v, NULL), 0);
	assert_int_equal(v, 4);
	assert_false(wbxml_child_present(resp, EAS_MOVE_DST_MSG_ID));
	assert_null(wbxml_node_next_same(resp));
	wbxml_tree_free(&t);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_limit),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_response),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
