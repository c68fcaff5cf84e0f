/* Unit tests for proto/wbxml_enc.c: exact bytes for the MS-ASCMD FolderSync
 * example, minimal page switching, empty elements, integers and opaque
 * lengths, sticky errors, buffer bounds, and sink mode (same bytes as
 * buffer mode, keep-alives flushed at once and decoded transparently). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto/wbxml.h"
#include "proto/wbxml_tree.h"

static void
test_folder_sync_bytes(void **state)
{
	/* The initial FolderSync request (SyncKey 0), tokens of
	 * MS-ASWBXML 2.1.2.1.8 (FolderHierarchy). */
	static const uint8_t want[] = {0x03, 0x01, 0x6a, 0x00, 0x00, 0x07, 0x56,
				       0x52, 0x03, 0x30, 0x00, 0x01, 0x01};
	struct wbxml_enc e;
	struct buf out;

	(void)state;
	buf_init(&out, 1024);
	wbxml_enc_init_buf(&e, &out);
	assert_int_equal(wbxml_enc_start(&e, EAS_FOLDERHIERARCHY_FOLDER_SYNC),
			 0);
	assert_int_equal(wbxml_enc_str(&e, EAS_FOLDERHIERARCHY_SYNC_KEY, "0"),
			 0);
	assert_int_equal(wbxml_enc_end(&e), 0);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.data, want, sizeof(want));
	buf_free(&out);
}

/*
 * The MS-ASWBXML section 4 example: a Sync response adding a contact,
 * with its byte-by-byte encoding (three pages, switches only when needed).
 */
static const uint8_t contact_sync[] = {
    0x03, 0x01, 0x6a, 0x00, 0x45, 0x5c, 0x4f, 0x50, 0x03, 'C',  'o',  'n',
    't',  'a',  'c',  't',  's',  0x00, 0x01, 0x4b, 0x03, '2',  0x00, 0x01,
    0x52, 0x03, '2',  0x00, 0x01, 0x4e, 0x03, '1',  0x00, 0x01, 0x56, 0x47,
    0x4d, 0x03, '2',  ':',  '1',  0x00, 0x01, 0x5d, 0x00, 0x11, 0x4a, 0x46,
    0x03, '1',  0x00, 0x01, 0x4c, 0x03, '0',  0x00, 0x01, 0x4d, 0x03, '1',
    0x00, 0x01, 0x01, 0x00, 0x01, 0x5e, 0x03, 'F',  'u',  'n',  'k',  ',',
    ' ',  'D',  'o',  'n',  0x00, 0x01, 0x5f, 0x03, 'D',  'o',  'n',  0x00,
    0x01, 0x69, 0x03, 'F',  'u',  'n',  'k',  0x00, 0x01, 0x00, 0x11, 0x56,
    0x03, '1',  0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01};

static void
test_spec_contact_example(void **state)
{
	const struct wbxml_node *data;
	struct wbxml_tree *tree;
	struct wbxml_enc e;
	const char *s;
	struct buf out;

	(void)state;
	buf_init(&out, 1024);
	wbxml_enc_init_buf(&e, &out);
	wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTIONS);
	wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTION);
	wbxml_enc_str(&e, EAS_AIRSYNC_CLASS, "Contacts");
	wbxml_enc_str(&e, EAS_AIRSYNC_SYNC_KEY, "2");
	wbxml_enc_str(&e, EAS_AIRSYNC_COLLECTION_ID, "2");
	wbxml_enc_uint(&e, EAS_AIRSYNC_STATUS, 1);
	wbxml_enc_start(&e, EAS_AIRSYNC_COMMANDS);
	wbxml_enc_start(&e, EAS_AIRSYNC_ADD);
	wbxml_enc_str(&e, EAS_AIRSYNC_SERVER_ID, "2:1");
	wbxml_enc_start(&e, EAS_AIRSYNC_APPLICATION_DATA);
	wbxml_enc_start(&e, EAS_AIRSYNCBASE_BODY);
	wbxml_enc_uint(&e, EAS_AIRSYNCBASE_TYPE, 1);
	wbxml_enc_uint(&e, EAS_AIRSYNCBASE_ESTIMATED_DATA_SIZE, 0);
	wbxml_enc_uint(&e, EAS_AIRSYNCBASE_TRUNCATED, 1);
	wbxml_enc_end(&e);
	wbxml_enc_str(&e, EAS_CONTACTS_FILE_AS, "Funk, Don");
	wbxml_enc_str(&e, EAS_CONTACTS_FIRST_NAME, "Don");
	wbxml_enc_str(&e, EAS_CONTACTS_LAST_NAME, "Funk");
	wbxml_enc_uint(&e, EAS_AIRSYNCBASE_NATIVE_BODY_TYPE, 1);
	for (int i = 0; i < 6; i++)
		wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(out.len, sizeof(contact_sync));
	assert_memory_equal(out.data, contact_sync, sizeof(contact_sync));

	/* And the typed layer reads the spec bytes back. */
	assert_int_equal(wbxml_tree_parse(contact_sync, sizeof(contact_sync),
					  &tree, NULL, NULL),
			 0);
	{
		static const uint16_t path[] = {
		    EAS_AIRSYNC_COLLECTIONS, EAS_AIRSYNC_COLLECTION,
		    EAS_AIRSYNC_COMMANDS, EAS_AIRSYNC_ADD,
		    EAS_AIRSYNC_APPLICATION_DATA};

		data = wbxml_node_path(wbxml_tree_root(tree), path, 5);
	}
	assert_non_null(data);
	assert_int_equal(
	    wbxml_child_str(data, EAS_CONTACTS_FILE_AS, 64, &s, NULL, NULL), 0);
	assert_string_equal(s, "Funk, Don");
	wbxml_tree_free(&tree);
	buf_free(&out);
}

static void
test_switch_only_when_needed(void **state)
{
	static const uint8_t want[] = {
	    0x03, 0x01, 0x6a, 0x00, 0x45, /* Sync */
	    0x00, 0x11, 0x05,             /* AirSyncBase:BodyPreference/ */
	    0x06,                         /* AirSyncBase:Type/ (same page) */
	    0x00, 0x00, 0x4b, 0x03, '7',  0x00, 0x01, /* SyncKey 7 */
	    0x1e,                                     /* DeletesAsMoves/ */
	    0x4f, 0x03, '1',  '8',  '4',  '4',  '6',  '7', '4',
	    '4',  '0',  '7',  '3',  '7',  '0',  '9',  '5', '5',
	    '1',  '6',  '1',  '5',  0x00, 0x01, /* Collection: UINT64_MAX */
	    0x01};
	struct wbxml_enc e;
	struct buf out;

	(void)state;
	buf_init(&out, 1024);
	wbxml_enc_init_buf(&e, &out);
	wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
	wbxml_enc_empty(&e, EAS_AIRSYNCBASE_BODY_PREFERENCE);
	/* start immediately followed by end: an empty element */
	wbxml_enc_start(&e, EAS_AIRSYNCBASE_TYPE);
	wbxml_enc_end(&e);
	wbxml_enc_uint(&e, EAS_AIRSYNC_SYNC_KEY, 7);
	wbxml_enc_str(&e, EAS_AIRSYNC_DELETES_AS_MOVES, "");
	wbxml_enc_uint(&e, EAS_AIRSYNC_COLLECTION, UINT64_MAX);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.data, want, sizeof(want));
	buf_free(&out);
}

static void
test_opaque_lengths(void **state)
{
	static const size_t lens[] = {1, 127, 128, 16383, 16384, 300000};
	uint8_t *data = malloc(300000);
	struct wbxml_tree *tree;
	const uint8_t *got;
	size_t got_len;
	struct wbxml_enc e;
	struct buf out;

	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < 300000; i++)
		data[i] = (uint8_t)(i * 7);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		buf_init(&out, 1 << 20);
		wbxml_enc_init_buf(&e, &out);
		wbxml_enc_opaque(&e, EAS_COMPOSEMAIL_MIME, data, lens[i]);
		assert_int_equal(wbxml_enc_finish(&e), 0);
		/* 128 needs two mb_u_int32 bytes: 0x81 0x00 */
		if (lens[i] == 128)
			assert_memory_equal(out.data + 7, "\xc3\x81\x00", 3);
		assert_int_equal(
		    wbxml_tree_parse(out.data, out.len, &tree, NULL, NULL), 0);
		assert_int_equal(wbxml_node_bytes(wbxml_tree_root(tree),
						  SIZE_MAX, &got, &got_len,
						  NULL),
				 0);
		assert_int_equal(got_len, lens[i]);
		assert_memory_equal(got, data, lens[i]);
		assert_true(wbxml_tree_root(tree)->has_opaque);
		wbxml_tree_free(&tree);
		buf_free(&out);
	}
	free(data);
}

static void
test_sticky_errors(void **state)
{
	struct wbxml_enc e;
	struct buf out;
	size_t len;

	(void)state;
	buf_init(&out, 1024);
	wbxml_enc_init_buf(&e, &out);
	wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
	assert_int_equal(wbxml_enc_str_n(&e, EAS_AIRSYNC_SYNC_KEY, "a\0b", 3),
			 -1);
	assert_int_equal(wbxml_enc_error(&e), WBXML_ERR_NUL_IN_STRING);
	len = out.len;
	/* Every later call is a no-op that fails; the first error stays. */
	assert_int_equal(wbxml_enc_str(&e, EAS_AIRSYNC_STATUS, "1"), -1);
	assert_int_equal(wbxml_enc_end(&e), -1);
	assert_int_equal(wbxml_enc_end(&e), -1);
	assert_int_equal(wbxml_enc_keepalive(&e), -1);
	assert_int_equal(wbxml_enc_finish(&e), -1);
	assert_int_equal(wbxml_enc_error(&e), WBXML_ERR_NUL_IN_STRING);
	assert_int_equal(out.len, len);
	buf_free(&out);
}

static void
expect_usage(void (*misuse)(struct wbxml_enc *), enum wbxml_err want)
{
	struct wbxml_enc e;
	struct buf out;

	buf_init(&out, 1024);
	wbxml_enc_init_buf(&e, &out);
	misuse(&e);
	assert_int_equal(wbxml_enc_finish(&e), -1);
	assert_int_equal(wbxml_enc_error(&e), want);
	buf_free(&out);
}

static void
end_without_start(struct wbxml_enc *e)
{
	wbxml_enc_end(e);
}

static void
second_root(struct wbxml_enc *e)
{
	wbxml_enc_empty(e, EAS_PING_PING);
	wbxml_enc_empty(e, EAS_PING_PING);
}

static void
unclosed(struct wbxml_enc *e)
{
	wbxml_enc_start(e, EAS_PING_PING);
	wbxml_enc_start(e, EAS_PING_FOLDERS);
	wbxml_enc_end(e);
}

static void
nothing(struct wbxml_enc *e)
{
	wbxml_enc_header(e);
}

static void
text_outside(struct wbxml_enc *e)
{
	wbxml_enc_text(e, "x", 1);
}

static void
bad_tag(struct wbxml_enc *e)
{
	wbxml_enc_start(e, WBXML_TAG_MAKE(0, 0x03)); /* STR_I's code */
}

static void
bad_page(struct wbxml_enc *e)
{
	wbxml_enc_start(e, 0x1a05);
}

static void
too_deep(struct wbxml_enc *e)
{
	for (unsigned i = 0; i <= WBXML_MAX_DEPTH; i++)
		wbxml_enc_start(e, EAS_AIRSYNC_ADD);
}

static void
keepalive_after_root(struct wbxml_enc *e)
{
	wbxml_enc_empty(e, EAS_PING_PING);
	wbxml_enc_keepalive(e);
}

static void
test_usage_errors(void **state)
{
	(void)state;
	expect_usage(end_without_start, WBXML_ERR_USAGE);
	expect_usage(second_root, WBXML_ERR_USAGE);
	expect_usage(unclosed, WBXML_ERR_USAGE);
	expect_usage(nothing, WBXML_ERR_USAGE);
	expect_usage(text_outside, WBXML_ERR_USAGE);
	expect_usage(bad_tag, WBXML_ERR_USAGE);
	expect_usage(bad_page, WBXML_ERR_USAGE);
	expect_usage(too_deep, WBXML_ERR_DEPTH);
	expect_usage(keepalive_after_root, WBXML_ERR_USAGE);
}

static void
test_buffer_bound(void **state)
{
	struct wbxml_enc e;
	struct buf out;

	(void)state;
	buf_init(&out, 16);
	wbxml_enc_init_buf(&e, &out);
	wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
	wbxml_enc_str(&e, EAS_AIRSYNC_SYNC_KEY, "0123456789abcdef");
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), -1);
	assert_int_equal(wbxml_enc_error(&e), WBXML_ERR_OUTPUT_FULL);
	assert_true(out.len <= 16);
	buf_free(&out);
}

struct sink_log {
	struct buf got;
	unsigned calls;
	unsigned fail_at; /* 0: never */
};

static int
sink(void *ctx, const uint8_t *data, size_t len)
{
	struct sink_log *log = ctx;

	log->calls++;
	if (log->fail_at != 0 && log->calls >= log->fail_at)
		return -1;
	assert_true(len > 0);
	return buf_append(&log->got, data, len);
}

/* A Sync response with n items; keep-alives every 10 items if asked. */
static void
encode_response(struct wbxml_enc *e, unsigned n, bool keepalives)
{
	static char body[3000];

	memset(body, 'x', sizeof(body) - 1);
	wbxml_enc_start(e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(e, EAS_AIRSYNC_COLLECTIONS);
	wbxml_enc_start(e, EAS_AIRSYNC_COLLECTION);
	wbxml_enc_str(e, EAS_AIRSYNC_SYNC_KEY, "2");
	wbxml_enc_start(e, EAS_AIRSYNC_COMMANDS);
	for (unsigned i = 0; i < n; i++) {
		if (keepalives && i % 10 == 0)
			wbxml_enc_keepalive(e);
		wbxml_enc_start(e, EAS_AIRSYNC_ADD);
		wbxml_enc_uint(e, EAS_AIRSYNC_SERVER_ID, i);
		wbxml_enc_start(e, EAS_AIRSYNC_APPLICATION_DATA);
		wbxml_enc_str(e, EAS_EMAIL_SUBJECT, "hello");
		wbxml_enc_start(e, EAS_AIRSYNCBASE_BODY);
		wbxml_enc_str(e, EAS_AIRSYNCBASE_DATA, body);
		wbxml_enc_end(e);
		wbxml_enc_end(e);
		wbxml_enc_end(e);
	}
	wbxml_enc_end(e);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
}

static void
test_sink_mode(void **state)
{
	struct sink_log log = {.calls = 0};
	struct wbxml_tree *plain, *alive;
	struct wbxml_enc e;
	struct buf out;

	(void)state;
	buf_init(&out, 1 << 20);
	wbxml_enc_init_buf(&e, &out);
	encode_response(&e, 50, false);
	assert_int_equal(wbxml_enc_finish(&e), 0);

	buf_init(&log.got, 1 << 20);
	wbxml_enc_init_sink(&e, sink, &log);
	encode_response(&e, 50, false);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_true(log.calls > 1); /* streamed in chunks */
	assert_int_equal(log.got.len, out.len);
	assert_memory_equal(log.got.data, out.data, out.len);

	/* With keep-alives: more bytes, same tree. */
	buf_reset(&log.got);
	log.calls = 0;
	wbxml_enc_init_sink(&e, sink, &log);
	encode_response(&e, 50, true);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(log.got.len, out.len + 5 * 2);
	assert_int_equal(
	    wbxml_tree_parse(out.data, out.len, &plain, NULL, NULL), 0);
	assert_int_equal(
	    wbxml_tree_parse(log.got.data, log.got.len, &alive, NULL, NULL), 0);
	assert_true(
	    wbxml_node_equal(wbxml_tree_root(plain), wbxml_tree_root(alive)));
	wbxml_tree_free(&plain);
	wbxml_tree_free(&alive);
	buf_free(&out);
	buf_free(&log.got);
}

static void
test_keepalive_flushes(void **state)
{
	struct sink_log log = {.calls = 0};
	struct wbxml_enc e;

	(void)state;
	buf_init(&log.got, 1024);
	wbxml_enc_init_sink(&e, sink, &log);
	/* Before the root: header and a switch reach the client at once. */
	assert_int_equal(wbxml_enc_keepalive(&e), 0);
	assert_int_equal(log.calls, 1);
	assert_int_equal(log.got.len, 6);
	assert_memory_equal(log.got.data, "\x03\x01\x6a\x00\x00\x00", 6);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_ITEM_OPERATIONS);
	/* The pending start is written with its content bit. */
	assert_int_equal(wbxml_enc_keepalive(&e), 0);
	assert_int_equal(log.calls, 2);
	assert_memory_equal(log.got.data + 6, "\x00\x14\x45\x00\x14", 5);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(log.got.data[log.got.len - 1], 0x01);
	buf_free(&log.got);
}

static void
test_sink_failure(void **state)
{
	struct sink_log log = {.calls = 0, .fail_at = 2};
	struct wbxml_enc e;

	(void)state;
	buf_init(&log.got, 1 << 20);
	wbxml_enc_init_sink(&e, sink, &log);
	encode_response(&e, 50, false);
	assert_int_equal(wbxml_enc_finish(&e), -1);
	assert_int_equal(wbxml_enc_error(&e), WBXML_ERR_SINK);
	assert_int_equal(log.calls, 2); /* nothing after the failure */
	buf_free(&log.got);
}

/* An OPAQUE written in pieces equals the one written whole; in sink mode
 * the large pieces pass straight through; misuse is refused. */
static void
test_opaque_in_pieces(void **state)
{
	enum { TOTAL = 100000 };
	uint8_t *data = malloc(TOTAL);
	struct sink_log log = {.calls = 0};
	struct wbxml_enc e;
	struct buf whole, out;

	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < TOTAL; i++)
		data[i] = (uint8_t)(i * 13 + 1);
	buf_init(&whole, 1 << 20);
	wbxml_enc_init_buf(&e, &whole);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_PROPERTIES);
	wbxml_enc_opaque(&e, EAS_ITEMOPERATIONS_DATA, data, TOTAL);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);

	buf_init(&log.got, 1 << 20);
	wbxml_enc_init_sink(&e, sink, &log);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_PROPERTIES);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_DATA);
	assert_int_equal(wbxml_enc_opaque_begin(&e, TOTAL), 0);
	for (size_t off = 0; off < TOTAL;) {
		size_t n = off == 0 ? 7 : 30000;

		if (n > TOTAL - off)
			n = TOTAL - off;
		assert_int_equal(wbxml_enc_opaque_part(&e, data + off, n), 0);
		off += n;
	}
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(log.got.len, whole.len);
	assert_memory_equal(log.got.data, whole.data, whole.len);

	/* Closing the element with bytes still owed is a usage error. */
	buf_init(&out, 1 << 20);
	wbxml_enc_init_buf(&e, &out);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_DATA);
	assert_int_equal(wbxml_enc_opaque_begin(&e, 10), 0);
	assert_int_equal(wbxml_enc_opaque_part(&e, data, 4), 0);
	assert_int_equal(wbxml_enc_end(&e), -1);
	assert_int_equal(wbxml_enc_error(&e), WBXML_ERR_USAGE);
	buf_free(&out);
	/* More bytes than announced, and a keep-alive inside: refused. */
	buf_init(&out, 1 << 20);
	wbxml_enc_init_buf(&e, &out);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_DATA);
	assert_int_equal(wbxml_enc_opaque_begin(&e, 3), 0);
	assert_int_equal(wbxml_enc_opaque_part(&e, data, 4), -1);
	buf_free(&out);
	buf_init(&out, 1 << 20);
	wbxml_enc_init_buf(&e, &out);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_DATA);
	assert_int_equal(wbxml_enc_opaque_begin(&e, 3), 0);
	assert_int_equal(wbxml_enc_keepalive(&e), -1);
	buf_free(&out);
	/* A zero-length opaque is fine and owes nothing. */
	buf_init(&out, 1 << 20);
	wbxml_enc_init_buf(&e, &out);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_DATA);
	assert_int_equal(wbxml_enc_opaque_begin(&e, 0), 0);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	buf_free(&out);
	buf_free(&log.got);
	buf_free(&whole);
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_folder_sync_bytes),
	    cmocka_unit_test(test_spec_contact_example),
	    cmocka_unit_test(test_switch_only_when_needed),
	    cmocka_unit_test(test_opaque_lengths),
	    cmocka_unit_test(test_sticky_errors),
	    cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_buffer_bound),
	    cmocka_unit_test(test_sink_mode),
	    cmocka_unit_test(test_keepalive_flushes),
	    cmocka_unit_test(test_sink_failure),
	    cmocka_unit_test(test_opaque_in_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
