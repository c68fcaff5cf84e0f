/* Unit tests for cas/estimate_req.c: the 14.x request form (Options with
 * FilterType and Class, ConversationMode) and the 12.0 form, the
 * 1000-collection limit (Status 103), malformed bodies (Status 2), and the
 * response with per-collection statuses 1, 2, 3 and 4. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas/estimate_req.h"
#include "proto/buf.h"
#include "proto/wbxml_tree.h"

static void
coll14(struct wbxml_enc *e, const char *key, const char *id)
{
	wbxml_enc_start(e, EAS_GETITEMESTIMATE_COLLECTION);
	wbxml_enc_str(e, EAS_AIRSYNC_SYNC_KEY, key);
	wbxml_enc_str(e, EAS_GETITEMESTIMATE_COLLECTION_ID, id);
	wbxml_enc_empty(e, EAS_AIRSYNC_CONVERSATION_MODE);
	wbxml_enc_start(e, EAS_AIRSYNC_OPTIONS);
	wbxml_enc_str(e, EAS_AIRSYNC_CLASS, "Email");
	wbxml_enc_uint(e, EAS_AIRSYNC_FILTER_TYPE, 3);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
}

static void
test_decode_forms(void **state)
{
	struct buf b;
	struct wbxml_enc e;
	struct estimate_request r;
	enum estimate_status st;

	(void)state;
	buf_init(&b, 1u << 16);
	wbxml_enc_init_buf(&e, &b);
	wbxml_enc_start(&e, EAS_GETITEMESTIMATE_GET_ITEM_ESTIMATE);
	wbxml_enc_start(&e, EAS_GETITEMESTIMATE_COLLECTIONS);
	coll14(&e, "785971245", "5");
	/* 12.0 form: Class, CollectionId, FilterType, SyncKey. */
	wbxml_enc_start(&e, EAS_GETITEMESTIMATE_COLLECTION);
	wbxml_enc_str(&e, EAS_GETITEMESTIMATE_CLASS, "Email");
	wbxml_enc_str(&e, EAS_GETITEMESTIMATE_COLLECTION_ID, "6");
	wbxml_enc_uint(&e, EAS_AIRSYNC_FILTER_TYPE, 2);
	wbxml_enc_str(&e, EAS_AIRSYNC_SYNC_KEY, "0");
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(estimate_req_decode(b.data, b.len, &r, &st), 0);
	assert_int_equal(r.n_collections, 2);
	assert_string_equal(r.collections[0].sync_key, "785971245");
	assert_string_equal(r.collections[0].collection_id, "5");
	assert_string_equal(r.collections[0].class, "Email");
	assert_true(r.collections[0].has_filter_type);
	assert_int_equal(r.collections[0].filter_type, 3);
	assert_true(r.collections[0].conversation_mode);
	assert_string_equal(r.collections[1].sync_key, "0");
	assert_int_equal(r.collections[1].filter_type, 2);
	assert_false(r.collections[1].conversation_mode);
	estimate_req_clear(&r);
	buf_free(&b);
}

static void
build_n(struct buf *b, int n)
{
	struct wbxml_enc e;
	char id[16];

	buf_init(b, 1u << 20);
	wbxml_enc_init_buf(&e, b);
	wbxml_enc_start(&e, EAS_GETITEMESTIMATE_GET_ITEM_ESTIMATE);
	wbxml_enc_start(&e, EAS_GETITEMESTIMATE_COLLECTIONS);
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%d", i);
		coll14(&e, "1", id);
	}
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
}

static void
test_limit(void **state)
{
	struct buf b;
	struct estimate_request r;
	enum estimate_status st;

	(void)state;
	build_n(&b, GIE_MAX_COLLECTIONS);
	assert_int_equal(estimate_req_decode(b.data, b.len, &r, &st), 0);
	assert_int_equal(r.n_collections, GIE_MAX_COLLECTIONS);
	estimate_req_clear(&r);
	buf_free(&b);
	/* MS-ASCMD 3.1.5.10: more than 1000 -> Status 103. */
	build_n(&b, GIE_MAX_COLLECTIONS + 1);
	assert_int_equal(estimate_req_decode(b.data, b.len, &r, &st), -1);
	assert_int_equal(st, ESTIMATE_STATUS_TOO_MANY);
	assert_null(r.collections);
	buf_free(&b);
}

static void
test_malformed(void **state)
{
	struct buf b;
	struct wbxml_enc e;
	struct estimate_request r;
	enum estimate_status st;
	static const uint8_t junk[] = {0x03, 0x01, 0x6a, 0x00, 0x45};

	(void)state;
	assert_int_equal(estimate_req_decode(junk, sizeof(junk), &r, &st), -1);
	assert_int_equal(st, ESTIMATE_STATUS_INVALID_COLLECTION);
	assert_int_equal(estimate_req_decode(NULL, 0, &r, &st), -1);
	assert_int_equal(st, ESTIMATE_STATUS_INVALID_COLLECTION);
	/* A collection without a SyncKey; a FilterType out of range. */
	buf_init(&b, 4096);
	wbxml_enc_init_buf(&e, &b);
	wbxml_enc_start(&e, EAS_GETITEMESTIMATE_GET_ITEM_ESTIMATE);
	wbxml_enc_start(&e, EAS_GETITEMESTIMATE_COLLECTIONS);
	wbxml_enc_start(&e, EAS_GETITEMESTIMATE_COLLECTION);
	wbxml_enc_str(&e, EAS_GETITEMESTIMATE_COLLECTION_ID, "5");
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(estimate_req_decode(b.data, b.len, &r, &st), -1);
	assert_int_equal(st, ESTIMATE_STATUS_INVALID_COLLECTION);
	buf_free(&b);
	buf_init(&b, 4096);
	wbxml_enc_init_buf(&e, &b);
	wbxml_enc_start(&e, EAS_GETITEMESTIMATE_GET_ITEM_ESTIMATE);
	wbxml_enc_start(&e, EAS_GETITEMESTIMATE_COLLECTIONS);
	wbxml_enc_start(&e, EAS_GETITEMESTIMATE_COLLECTION);
	wbxml_enc_str(&e, EAS_AIRSYNC_SYNC_KEY, "3");
	wbxml_enc_str(&e, EAS_GETITEMESTIMATE_COLLECTION_ID, "5");
	wbxml_enc_start(&e, EAS_AIRSYNC_OPTIONS);
	wbxml_enc_uint(&e, EAS_AIRSYNC_FILTER_TYPE, 9);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(estimate_req_decode(b.data, b.len, &r, &st), -1);
	buf_free(&b);
}

static void
test_response(void **state)
{
	struct estimate_collection colls[4];
	struct estimate_request r = {.n_collections = 4, .collections = colls};
	struct estimate_result res[4] = {
	    {ESTIMATE_STATUS_OK, 12},
	    {ESTIMATE_STATUS_INVALID_COLLECTION, 0},
	    {ESTIMATE_STATUS_NOT_PRIMED, 0},
	    {ESTIMATE_STATUS_INVALID_SYNC_KEY, 0},
	};
	struct buf b;
	struct wbxml_enc e;
	struct wbxml_tree *tree;
	const struct wbxml_node *root, *resp, *coll;
	uint64_t v;
	unsigned i = 0;

	(void)state;
	memset(colls, 0, sizeof(colls));
	for (int k = 0; k < 4; k++)
		snprintf(colls[k].collection_id, sizeof(colls[k].collection_id),
			 "c%d", k);
	buf_init(&b, 4096);
	wbxml_enc_init_buf(&e, &b);
	assert_int_equal(estimate_resp_encode(&e, 141, &r, res), 0);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(wbxml_tree_parse(b.data, b.len, &tree, NULL, NULL), 0);
	root = wbxml_tree_root(tree);
	WBXML_FOREACH(resp, root, EAS_GETITEMESTIMATE_RESPONSE)
	{
		assert_int_equal(wbxml_child_uint(resp,
						  EAS_GETITEMESTIMATE_STATUS, 0,
						  10, &v, NULL),
				 0);
		assert_int_equal(v, res[i].status);
		coll = wbxml_node_child(resp, EAS_GETITEMESTIMATE_COLLECTION);
		assert_non_null(coll);
		assert_int_equal(
		    wbxml_child_present(coll, EAS_GETITEMESTIMATE_ESTIMATE),
		    i == 0);
		i++;
	}
	assert_int_equal(i, 4);
	wbxml_tree_free(&tree);
	buf_free(&b);

	/* 12.0 names the Class in each Collection; 14.1 did not. */
	snprintf(colls[0].class, sizeof(colls[0].class), "Email");
	buf_init(&b, 4096);
	wbxml_enc_init_buf(&e, &b);
	assert_int_equal(estimate_resp_encode(&e, 120, &r, res), 0);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(wbxml_tree_parse(b.data, b.len, &tree, NULL, NULL), 0);
	resp = wbxml_node_child(wbxml_tree_root(tree),
				EAS_GETITEMESTIMATE_RESPONSE);
	coll = wbxml_node_child(resp, EAS_GETITEMESTIMATE_COLLECTION);
	assert_true(wbxml_child_present(coll, EAS_GETITEMESTIMATE_CLASS));
	wbxml_tree_free(&tree);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_forms),
	    cmocka_unit_test(test_limit),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_response),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
