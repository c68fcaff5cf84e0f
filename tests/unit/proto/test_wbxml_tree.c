/* Unit tests for proto/wbxml_tree.c: encode -> parse -> typed accessors
 * round trip, content split in pieces, every accessor error, iteration,
 * the node limit, failure on every strict prefix, and re-encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto/wbxml_tree.h"

/* A Sync request as a client sends it: two collections, options,
 * a client Add with an opaque field and flags. */
static void
encode_sync_request(struct buf *out)
{
	struct wbxml_enc e;

	buf_init(out, 1 << 16);
	wbxml_enc_init_buf(&e, out);
	wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTIONS);
	for (unsigned i = 0; i < 3; i++) {
		wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTION);
		wbxml_enc_uint(&e, EAS_AIRSYNC_SYNC_KEY, 100 + i);
		wbxml_enc_uint(&e, EAS_AIRSYNC_COLLECTION_ID, i + 1);
		if (i == 0) {
			wbxml_enc_empty(&e, EAS_AIRSYNC_DELETES_AS_MOVES);
			wbxml_enc_empty(&e, EAS_AIRSYNC_GET_CHANGES);
			wbxml_enc_uint(&e, EAS_AIRSYNC_WINDOW_SIZE, 512);
			wbxml_enc_start(&e, EAS_AIRSYNC_OPTIONS);
			wbxml_enc_uint(&e, EAS_AIRSYNC_FILTER_TYPE, 3);
			wbxml_enc_start(&e, EAS_AIRSYNCBASE_BODY_PREFERENCE);
			wbxml_enc_uint(&e, EAS_AIRSYNCBASE_TYPE, 2);
			wbxml_enc_uint(&e, EAS_AIRSYNCBASE_TRUNCATION_SIZE,
				       51200);
			wbxml_enc_end(&e);
			wbxml_enc_end(&e);
			wbxml_enc_start(&e, EAS_AIRSYNC_COMMANDS);
			wbxml_enc_start(&e, EAS_AIRSYNC_ADD);
			wbxml_enc_str(&e, EAS_AIRSYNC_CLIENT_ID, "c-1");
			wbxml_enc_start(&e, EAS_AIRSYNC_APPLICATION_DATA);
			wbxml_enc_str(&e, EAS_EMAIL_SUBJECT,
				      "Gr\xc3\xbc\xc3\x9f"
				      "e");
			wbxml_enc_opaque(&e, EAS_EMAIL2_CONVERSATION_INDEX,
					 "\x01\x00\x02", 3);
			wbxml_enc_empty(&e, EAS_EMAIL2_SEND);
			wbxml_enc_end(&e);
			wbxml_enc_end(&e);
			wbxml_enc_end(&e);
		}
		wbxml_enc_end(&e);
	}
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
}

static void
test_round_trip(void **state)
{
	static const uint16_t path[] = {
	    EAS_AIRSYNC_COLLECTIONS, EAS_AIRSYNC_COLLECTION,
	    EAS_AIRSYNC_OPTIONS, EAS_AIRSYNCBASE_BODY_PREFERENCE};
	const struct wbxml_node *root, *coll, *pref, *data;
	struct wbxml_tree *tree;
	enum wbxml_err err;
	const uint8_t *bytes;
	const char *s;
	uint64_t v;
	size_t len;
	unsigned i = 0;
	struct buf out;

	(void)state;
	encode_sync_request(&out);
	assert_int_equal(wbxml_tree_parse(out.data, out.len, &tree, &err, NULL),
			 0);
	root = wbxml_tree_root(tree);
	assert_int_equal(wbxml_node_tag(root), EAS_AIRSYNC_SYNC);
	assert_int_equal(wbxml_node_count_children(
			     wbxml_node_child(root, EAS_AIRSYNC_COLLECTIONS),
			     EAS_AIRSYNC_COLLECTION),
			 3);
	WBXML_FOREACH(coll, wbxml_node_child(root, EAS_AIRSYNC_COLLECTIONS),
		      EAS_AIRSYNC_COLLECTION)
	{
		assert_int_equal(wbxml_child_uint(coll, EAS_AIRSYNC_SYNC_KEY, 0,
						  UINT32_MAX, &v, &err),
				 0);
		assert_int_equal(v, 100 + i);
		assert_int_equal(wbxml_child_str(coll,
						 EAS_AIRSYNC_COLLECTION_ID, 64,
						 &s, &len, &err),
				 0);
		assert_int_equal(len, 1);
		assert_int_equal(s[0], (char)('1' + i));
		assert_int_equal(s[1], 0);
		assert_int_equal(
		    wbxml_child_present(coll, EAS_AIRSYNC_DELETES_AS_MOVES),
		    i == 0);
		i++;
	}
	assert_int_equal(i, 3);
	pref = wbxml_node_path(root, path, 4);
	assert_non_null(pref);
	assert_int_equal(wbxml_child_uint(pref, EAS_AIRSYNCBASE_TRUNCATION_SIZE,
					  0, 1 << 20, &v, &err),
			 0);
	assert_int_equal(v, 51200);
	coll = wbxml_node_child(wbxml_node_child(root, EAS_AIRSYNC_COLLECTIONS),
				EAS_AIRSYNC_COLLECTION);
	data = wbxml_node_child(
	    wbxml_node_child(wbxml_node_child(coll, EAS_AIRSYNC_COMMANDS),
			     EAS_AIRSYNC_ADD),
	    EAS_AIRSYNC_APPLICATION_DATA);
	assert_non_null(data);
	assert_int_equal(
	    wbxml_child_str(data, EAS_EMAIL_SUBJECT, 64, &s, NULL, &err), 0);
	assert_string_equal(s, "Gr\xc3\xbc\xc3\x9f"
			       "e");
	/* Opaque bytes with a NUL: fine as bytes, refused as a string. */
	assert_int_equal(wbxml_child_bytes(data, EAS_EMAIL2_CONVERSATION_INDEX,
					   16, &bytes, &len, &err),
			 0);
	assert_int_equal(len, 3);
	assert_memory_equal(bytes, "\x01\x00\x02", 3);
	assert_int_equal(wbxml_child_str(data, EAS_EMAIL2_CONVERSATION_INDEX,
					 16, &s, NULL, &err),
			 -1);
	assert_int_equal(err, WBXML_ERR_NUL_IN_STRING);
	assert_true(wbxml_child_present(data, EAS_EMAIL2_SEND));
	assert_true(
	    wbxml_node_is_empty(wbxml_node_child(data, EAS_EMAIL2_SEND)));
	/* Not present: a distinct error. */
	assert_int_equal(wbxml_child_uint(data, EAS_EMAIL_READ, 0, 1, &v, &err),
			 -1);
	assert_int_equal(err, WBXML_ERR_MISSING);
	assert_null(wbxml_node_path(root, path + 1, 3));
	wbxml_tree_free(&tree);
	assert_null(tree);
	wbxml_tree_free(&tree); /* NULL is accepted */
	buf_free(&out);
}

static void
test_pieces_concatenated(void **state)
{
	/* Subject = STR "ab" + OPAQUE "cd" + STR "" + STR "ef" */
	static const uint8_t doc[] = {
	    0x03, 0x01, 0x6a, 0x00, 0x00, 0x02, 0x54, 0x03, 'a', 'b',  0x00,
	    0xc3, 0x02, 'c',  'd',  0x03, 0x00, 0x03, 'e',  'f', 0x00, 0x01};
	struct wbxml_tree *tree;
	const char *s;
	size_t len;

	(void)state;
	assert_int_equal(wbxml_tree_parse(doc, sizeof(doc), &tree, NULL, NULL),
			 0);
	assert_int_equal(
	    wbxml_node_str(wbxml_tree_root(tree), 6, &s, &len, NULL), 0);
	assert_int_equal(len, 6);
	assert_string_equal(s, "abcdef");
	assert_int_equal(
	    wbxml_node_str(wbxml_tree_root(tree), 5, &s, &len, NULL), -1);
	wbxml_tree_free(&tree);
}

/* Parse <Email:Subject>text</Email:Subject> with text given in bytes. */
static struct wbxml_tree *
parse_text(const char *text, size_t len)
{
	uint8_t doc[128];
	struct wbxml_tree *tree;

	assert_true(len + 9 <= sizeof(doc));
	memcpy(doc, "\x03\x01\x6a\x00\x00\x02\x54\x03", 8);
	memcpy(doc + 8, text, len);
	doc[8 + len] = 0x00;
	doc[9 + len] = 0x01;
	assert_int_equal(wbxml_tree_parse(doc, len + 10, &tree, NULL, NULL), 0);
	return tree;
}

static void
expect_uint(const char *text, uint64_t min, uint64_t max, int ret,
	    enum wbxml_err want, uint64_t want_v)
{
	struct wbxml_tree *tree = parse_text(text, strlen(text));
	enum wbxml_err err;
	uint64_t v = 0;

	assert_int_equal(
	    wbxml_node_uint(wbxml_tree_root(tree), min, max, &v, &err), ret);
	assert_int_equal(err, want);
	if (ret == 0)
		assert_int_equal(v, want_v);
	wbxml_tree_free(&tree);
}

static void
test_uint(void **state)
{
	(void)state;
	expect_uint("0", 0, 10, 0, WBXML_ERR_NONE, 0);
	expect_uint("10", 0, 10, 0, WBXML_ERR_NONE, 10);
	expect_uint("007", 0, 10, 0, WBXML_ERR_NONE, 7);
	expect_uint("11", 0, 10, -1, WBXML_ERR_RANGE, 0);
	expect_uint("4", 5, 10, -1, WBXML_ERR_RANGE, 0);
	expect_uint("18446744073709551615", 0, UINT64_MAX, 0, WBXML_ERR_NONE,
		    UINT64_MAX);
	expect_uint("18446744073709551616", 0, UINT64_MAX, -1, WBXML_ERR_RANGE,
		    0);
	expect_uint("000000000000000000001", 0, 10, -1, WBXML_ERR_BAD_INTEGER,
		    0);
	expect_uint("", 0, 10, -1, WBXML_ERR_BAD_INTEGER, 0);
	expect_uint("+1", 0, 10, -1, WBXML_ERR_BAD_INTEGER, 0);
	expect_uint("-1", 0, 10, -1, WBXML_ERR_BAD_INTEGER, 0);
	expect_uint(" 1", 0, 10, -1, WBXML_ERR_BAD_INTEGER, 0);
	expect_uint("1a", 0, 10, -1, WBXML_ERR_BAD_INTEGER, 0);
	expect_uint("0x1", 0, 10, -1, WBXML_ERR_BAD_INTEGER, 0);
}

static void
expect_str(const char *text, size_t len, int ret, enum wbxml_err want)
{
	struct wbxml_tree *tree = parse_text(text, len);
	enum wbxml_err err;
	const char *s;

	assert_int_equal(
	    wbxml_node_str(wbxml_tree_root(tree), 64, &s, NULL, &err), ret);
	assert_int_equal(err, want);
	wbxml_tree_free(&tree);
}

static void
test_utf8(void **state)
{
	(void)state;
	expect_str("plain \x01\x1f control", 16, 0, WBXML_ERR_NONE);
	expect_str("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, 0,
		   WBXML_ERR_NONE);
	expect_str("\xef\xbf\xbf", 3, 0, WBXML_ERR_NONE);     /* U+FFFF */
	expect_str("\xf4\x8f\xbf\xbf", 4, 0, WBXML_ERR_NONE); /* U+10FFFF */
	expect_str("\xff", 1, -1, WBXML_ERR_INVALID_UTF8);
	expect_str("\xc0\xaf", 2, -1, WBXML_ERR_INVALID_UTF8); /* overlong */
	expect_str("\xe0\x80\xaf", 3, -1, WBXML_ERR_INVALID_UTF8);
	expect_str("\xf0\x80\x80\xaf", 4, -1, WBXML_ERR_INVALID_UTF8);
	expect_str("\xed\xa0\x80", 3, -1, WBXML_ERR_INVALID_UTF8); /* D800 */
	expect_str("\xf4\x90\x80\x80", 4, -1, WBXML_ERR_INVALID_UTF8);
	expect_str("\xc3", 1, -1, WBXML_ERR_INVALID_UTF8); /* cut */
	expect_str("\xe2\x82", 2, -1, WBXML_ERR_INVALID_UTF8);
	expect_str("a\x80", 2, -1, WBXML_ERR_INVALID_UTF8);
	expect_str("\xc3\x28", 2, -1, WBXML_ERR_INVALID_UTF8);
}

static void
test_not_text(void **state)
{
	static const uint8_t doc[] = {0x03, 0x01, 0x6a, 0x00, 0x45, 0x4b,
				      0x03, '1',  0x00, 0x01, 0x01};
	struct wbxml_tree *tree;
	enum wbxml_err err;
	const uint8_t *b;
	const char *s;
	uint64_t v;
	size_t len;

	(void)state;
	assert_int_equal(wbxml_tree_parse(doc, sizeof(doc), &tree, NULL, NULL),
			 0);
	assert_int_equal(
	    wbxml_node_str(wbxml_tree_root(tree), 64, &s, NULL, &err), -1);
	assert_int_equal(err, WBXML_ERR_NOT_TEXT);
	assert_int_equal(wbxml_node_uint(wbxml_tree_root(tree), 0, 9, &v, &err),
			 -1);
	assert_int_equal(err, WBXML_ERR_NOT_TEXT);
	assert_int_equal(
	    wbxml_node_bytes(wbxml_tree_root(tree), 64, &b, &len, &err), -1);
	assert_int_equal(err, WBXML_ERR_NOT_TEXT);
	assert_int_equal(wbxml_child_bytes(wbxml_tree_root(tree),
					   EAS_AIRSYNC_SYNC_KEY, 0, &b, &len,
					   &err),
			 -1);
	assert_int_equal(err, WBXML_ERR_TOO_LONG);
	assert_false(wbxml_node_is_empty(wbxml_tree_root(tree)));
	wbxml_tree_free(&tree);
}

static void
test_unknown_tokens_kept(void **state)
{
	/* Sync { 0x3F/, SyncKey "1" } */
	static const uint8_t doc[] = {0x03, 0x01, 0x6a, 0x00, 0x45, 0x3f,
				      0x4b, 0x03, '1',  0x00, 0x01, 0x01};
	struct wbxml_tree *tree;
	const struct wbxml_node *n;
	unsigned count = 0;

	(void)state;
	assert_int_equal(wbxml_tree_parse(doc, sizeof(doc), &tree, NULL, NULL),
			 0);
	WBXML_FOREACH_CHILD(n, wbxml_tree_root(tree))
	count++;
	assert_int_equal(count, 2);
	n = wbxml_node_first(wbxml_tree_root(tree));
	assert_int_equal(wbxml_node_tag(n), 0x003f);
	assert_true(
	    wbxml_child_present(wbxml_tree_root(tree), EAS_AIRSYNC_SYNC_KEY));
	wbxml_tree_free(&tree);
}

static void
test_every_prefix_fails(void **state)
{
	struct wbxml_tree *tree;
	enum wbxml_err err;
	size_t offset;
	struct buf out;

	(void)state;
	encode_sync_request(&out);
	for (size_t n = 0; n < out.len; n++) {
		uint8_t *copy = malloc(n > 0 ? n : 1);

		assert_non_null(copy);
		memcpy(copy, out.data, n);
		assert_int_equal(
		    wbxml_tree_parse(copy, n, &tree, &err, &offset), -1);
		assert_null(tree);
		assert_true(err == WBXML_ERR_TRUNCATED ||
			    err == WBXML_ERR_NO_ROOT);
		assert_true(offset <= n);
		free(copy);
	}
	buf_free(&out);
}

static void
test_node_limit(void **state)
{
	size_t len = 4 + 1 + WBXML_MAX_NODES + 1;
	uint8_t *doc = malloc(len);
	struct wbxml_tree *tree;
	enum wbxml_err err;
	size_t offset;

	(void)state;
	assert_non_null(doc);
	memcpy(doc, "\x03\x01\x6a\x00\x45", 5);
	/* Root + (WBXML_MAX_NODES - 1) empty children: exactly the limit. */
	memset(doc + 5, 0x07, WBXML_MAX_NODES - 1);
	doc[5 + WBXML_MAX_NODES - 1] = 0x01;
	assert_int_equal(wbxml_tree_parse(doc, len - 1, &tree, &err, NULL), 0);
	assert_int_equal(wbxml_tree_node_count(tree), WBXML_MAX_NODES);
	wbxml_tree_free(&tree);
	/* One more is refused. */
	doc[5 + WBXML_MAX_NODES - 1] = 0x07;
	doc[5 + WBXML_MAX_NODES] = 0x01;
	assert_int_equal(wbxml_tree_parse(doc, len, &tree, &err, &offset), -1);
	assert_int_equal(err, WBXML_ERR_TOO_MANY_NODES);
	assert_int_equal(offset, 5 + WBXML_MAX_NODES - 1);
	free(doc);
}

static void
test_decoder_errors_pass_through(void **state)
{
	static const uint8_t doc[] = {0x03, 0x01, 0x6a, 0x00, 0x45, 0xc5, 0x01};
	struct wbxml_tree *tree;
	enum wbxml_err err;
	size_t offset;

	(void)state;
	assert_int_equal(
	    wbxml_tree_parse(doc, sizeof(doc), &tree, &err, &offset), -1);
	assert_int_equal(err, WBXML_ERR_ATTRIBUTES);
	assert_int_equal(offset, 5);
	assert_int_equal(wbxml_tree_parse(doc, 0, &tree, NULL, NULL), -1);
	/* An empty body, as an HTTP layer may pass it. */
	assert_int_equal(wbxml_tree_parse(NULL, 0, &tree, &err, &offset), -1);
	assert_int_equal(err, WBXML_ERR_TRUNCATED);
	assert_null(tree);
}

static void
test_reencode(void **state)
{
	struct wbxml_tree *a, *b;
	struct wbxml_enc e;
	struct buf out, again;

	(void)state;
	encode_sync_request(&out);
	assert_int_equal(wbxml_tree_parse(out.data, out.len, &a, NULL, NULL),
			 0);
	buf_init(&again, 1 << 16);
	wbxml_enc_init_buf(&e, &again);
	assert_int_equal(wbxml_tree_encode(wbxml_tree_root(a), &e), 0);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	/* The encoder is deterministic: same bytes as the original. */
	assert_int_equal(again.len, out.len);
	assert_memory_equal(again.data, out.data, out.len);
	assert_int_equal(
	    wbxml_tree_parse(again.data, again.len, &b, NULL, NULL), 0);
	assert_true(wbxml_node_equal(wbxml_tree_root(a), wbxml_tree_root(b)));
	/* A subtree is not equal to the whole. */
	assert_false(wbxml_node_equal(wbxml_tree_root(a),
				      wbxml_node_first(wbxml_tree_root(b))));
	wbxml_tree_free(&a);
	wbxml_tree_free(&b);
	buf_free(&out);
	buf_free(&again);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_pieces_concatenated),
	    cmocka_unit_test(test_uint),
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_not_text),
	    cmocka_unit_test(test_unknown_tokens_kept),
	    cmocka_unit_test(test_every_prefix_fails),
	    cmocka_unit_test(test_node_limit),
	    cmocka_unit_test(test_decoder_errors_pass_through),
	    cmocka_unit_test(test_reencode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
