/* Unit tests for proto/wbxml_dec.c: header checks, events of known
 * MS-ASCMD example bytes, every rejection with its error code and offset,
 * limits, keep-alives, and that every strict prefix of a valid document
 * fails cleanly (each prefix lives in its own exact-size allocation, so
 * AddressSanitizer catches any read past the end). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto/wbxml.h"

/* The initial FolderSync request (SyncKey 0). */
static const uint8_t folder_sync[] = {0x03, 0x01, 0x6a, 0x00, 0x00, 0x07, 0x56,
				      0x52, 0x03, 0x30, 0x00, 0x01, 0x01};

/* A Sync request touching three pages, with an empty element, an opaque
 * piece, keep-alives and a redundant switch. */
static const uint8_t sync_doc[] = {
    0x03, 0x01, 0x6a, 0x00, 0x00, 0x00,       /* keep-alive before the root */
    0x45,                                     /* Sync */
    0x5c,                                     /* Collections */
    0x4f,                                     /* Collection */
    0x4b, 0x03, '1',  '2',  0x00, 0x01,       /* SyncKey 12 */
    0x52, 0x03, '5',  0x00, 0x01,             /* CollectionId 5 */
    0x1e,                                     /* DeletesAsMoves/ */
    0x57,                                     /* Options */
    0x00, 0x11, 0x45,                         /* AirSyncBase:BodyPreference */
    0x46, 0xc3, 0x01, '2',  0x01,             /* Type opaque "2" */
    0x00, 0x11,                               /* redundant switch */
    0x47, 0x03, '5',  '1',  '2',  0x00, 0x01, /* TruncationSize */
    0x01,                                     /* /BodyPreference */
    0x00, 0x00, 0x00, 0x00,                   /* back to AirSync, twice */
    0x01,                                     /* /Options */
    0x01, 0x01, 0x01, /* /Collection /Collections /Sync */
};

static uint8_t *
dup_bytes(const uint8_t *data, size_t len)
{
	uint8_t *p = malloc(len > 0 ? len : 1);

	assert_non_null(p);
	if (len > 0)
		memcpy(p, data, len);
	return p;
}

/* Pull every event; returns the number of events (EOD included) or -1,
 * with the error in *err_r and its offset in *offset_r. */
static int
drain(const uint8_t *data, size_t len, enum wbxml_err *err_r, size_t *offset_r)
{
	struct wbxml_dec d;
	struct wbxml_event ev;
	int count = 0;

	*err_r = WBXML_ERR_NONE;
	*offset_r = 0;
	if (wbxml_dec_init(&d, data, len) < 0) {
		*err_r = wbxml_dec_error(&d, offset_r);
		return -1;
	}
	/* Bounded: each event consumes at least one byte. */
	for (size_t i = 0; i <= len + 1; i++) {
		if (wbxml_dec_next(&d, &ev) < 0) {
			*err_r = wbxml_dec_error(&d, offset_r);
			assert_int_not_equal(*err_r, WBXML_ERR_NONE);
			/* Errors are sticky. */
			assert_int_equal(wbxml_dec_next(&d, &ev), -1);
			return -1;
		}
		count++;
		if (ev.type == WBXML_EV_EOD)
			return count;
	}
	fail_msg("decoder did not terminate");
	return -1;
}

static void
expect_error(const uint8_t *data, size_t len, enum wbxml_err want,
	     size_t want_offset)
{
	uint8_t *copy = dup_bytes(data, len);
	enum wbxml_err err;
	size_t offset;

	assert_int_equal(drain(copy, len, &err, &offset), -1);
	assert_int_equal(err, want);
	assert_int_equal(offset, want_offset);
	free(copy);
}

static void
test_folder_sync_example(void **state)
{
	struct wbxml_dec d;
	struct wbxml_event ev;

	(void)state;
	assert_int_equal(wbxml_dec_init(&d, folder_sync, sizeof(folder_sync)),
			 0);
	assert_int_equal(wbxml_dec_next(&d, &ev), 0);
	assert_int_equal(ev.type, WBXML_EV_START);
	assert_int_equal(ev.tag, EAS_FOLDERHIERARCHY_FOLDER_SYNC);
	assert_true(ev.has_content);
	assert_int_equal(ev.depth, 1);
	assert_int_equal(ev.offset, 6);
	assert_int_equal(wbxml_dec_next(&d, &ev), 0);
	assert_int_equal(ev.tag, EAS_FOLDERHIERARCHY_SYNC_KEY);
	assert_int_equal(ev.depth, 2);
	assert_int_equal(wbxml_dec_next(&d, &ev), 0);
	assert_int_equal(ev.type, WBXML_EV_STR);
	assert_int_equal(ev.len, 1);
	assert_memory_equal(ev.data, "0", 2); /* NUL-terminated in place */
	assert_int_equal(wbxml_dec_next(&d, &ev), 0);
	assert_int_equal(ev.type, WBXML_EV_END);
	assert_int_equal(ev.tag, EAS_FOLDERHIERARCHY_SYNC_KEY);
	assert_int_equal(wbxml_dec_next(&d, &ev), 0);
	assert_int_equal(ev.type, WBXML_EV_END);
	assert_int_equal(ev.tag, EAS_FOLDERHIERARCHY_FOLDER_SYNC);
	assert_int_equal(ev.depth, 1);
	assert_int_equal(wbxml_dec_next(&d, &ev), 0);
	assert_int_equal(ev.type, WBXML_EV_EOD);
	/* EOD repeats. */
	assert_int_equal(wbxml_dec_next(&d, &ev), 0);
	assert_int_equal(ev.type, WBXML_EV_EOD);
}

static void
test_sync_doc_events(void **state)
{
	static const struct {
		enum wbxml_ev_type type;
		uint16_t tag;
		const char *data;
	} want[] = {
	    {WBXML_EV_START, EAS_AIRSYNC_SYNC, NULL},
	    {WBXML_EV_START, EAS_AIRSYNC_COLLECTIONS, NULL},
	    {WBXML_EV_START, EAS_AIRSYNC_COLLECTION, NULL},
	    {WBXML_EV_START, EAS_AIRSYNC_SYNC_KEY, NULL},
	    {WBXML_EV_STR, 0, "12"},
	    {WBXML_EV_END, EAS_AIRSYNC_SYNC_KEY, NULL},
	    {WBXML_EV_START, EAS_AIRSYNC_COLLECTION_ID, NULL},
	    {WBXML_EV_STR, 0, "5"},
	    {WBXML_EV_END, EAS_AIRSYNC_COLLECTION_ID, NULL},
	    {WBXML_EV_START, EAS_AIRSYNC_DELETES_AS_MOVES, NULL},
	    {WBXML_EV_START, EAS_AIRSYNC_OPTIONS, NULL},
	    {WBXML_EV_START, EAS_AIRSYNCBASE_BODY_PREFERENCE, NULL},
	    {WBXML_EV_START, EAS_AIRSYNCBASE_TYPE, NULL},
	    {WBXML_EV_OPAQUE, 0, "2"},
	    {WBXML_EV_END, EAS_AIRSYNCBASE_TYPE, NULL},
	    {WBXML_EV_START, EAS_AIRSYNCBASE_TRUNCATION_SIZE, NULL},
	    {WBXML_EV_STR, 0, "512"},
	    {WBXML_EV_END, EAS_AIRSYNCBASE_TRUNCATION_SIZE, NULL},
	    {WBXML_EV_END, EAS_AIRSYNCBASE_BODY_PREFERENCE, NULL},
	    {WBXML_EV_END, EAS_AIRSYNC_OPTIONS, NULL},
	    {WBXML_EV_END, EAS_AIRSYNC_COLLECTION, NULL},
	    {WBXML_EV_END, EAS_AIRSYNC_COLLECTIONS, NULL},
	    {WBXML_EV_END, EAS_AIRSYNC_SYNC, NULL},
	    {WBXML_EV_EOD, 0, NULL},
	};
	struct wbxml_dec d;
	struct wbxml_event ev;

	(void)state;
	assert_int_equal(wbxml_dec_init(&d, sync_doc, sizeof(sync_doc)), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(wbxml_dec_next(&d, &ev), 0);
		assert_int_equal(ev.type, want[i].type);
		if (want[i].tag != 0)
			assert_int_equal(ev.tag, want[i].tag);
		if (want[i].data != NULL) {
			assert_int_equal(ev.len, strlen(want[i].data));
			assert_memory_equal(ev.data, want[i].data, ev.len);
		}
		if (want[i].tag == EAS_AIRSYNC_DELETES_AS_MOVES)
			assert_false(ev.has_content);
	}
}

static void
test_every_prefix_fails(void **state)
{
	const uint8_t *docs[] = {folder_sync, sync_doc};
	size_t lens[] = {sizeof(folder_sync), sizeof(sync_doc)};

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		enum wbxml_err err;
		size_t offset;
		uint8_t *full = dup_bytes(docs[k], lens[k]);

		assert_true(drain(full, lens[k], &err, &offset) > 0);
		free(full);
		for (size_t n = 0; n < lens[k]; n++) {
			uint8_t *copy = dup_bytes(docs[k], n);

			assert_int_equal(drain(copy, n, &err, &offset), -1);
			assert_true(err == WBXML_ERR_TRUNCATED ||
				    err == WBXML_ERR_NO_ROOT);
			assert_true(offset <= n);
			free(copy);
		}
	}
}

static void
test_header(void **state)
{
	static const uint8_t v12[] = {0x02, 0x01, 0x6a, 0x00, 0x45, 0x01};
	static const uint8_t pub[] = {0x03, 0x05, 0x6a, 0x00, 0x45, 0x01};
	static const uint8_t pub0[] = {0x03, 0x00, 0x00, 0x6a, 0x00, 0x05};
	static const uint8_t latin1[] = {0x03, 0x01, 0x04, 0x00, 0x05};
	static const uint8_t strtbl[] = {0x03, 0x01, 0x6a, 0x02,
					 'a',  0x00, 0x05};
	/* Charset 106 written in a longer (still valid) mb_u_int32 form. */
	static const uint8_t long_mb[] = {0x03, 0x80, 0x01, 0x80,
					  0x6a, 0x80, 0x00, 0x05};
	static const uint8_t header_only[] = {0x03, 0x01, 0x6a, 0x00};
	static const uint8_t mb_long[] = {0x03, 0x81, 0x81, 0x81,
					  0x81, 0x81, 0x01};
	enum wbxml_err err;
	size_t offset;
	uint8_t *copy;

	(void)state;
	expect_error(v12, sizeof(v12), WBXML_ERR_VERSION, 0);
	expect_error(pub, sizeof(pub), WBXML_ERR_PUBLIC_ID, 1);
	expect_error(pub0, sizeof(pub0), WBXML_ERR_PUBLIC_ID, 1);
	expect_error(latin1, sizeof(latin1), WBXML_ERR_CHARSET, 2);
	expect_error(strtbl, sizeof(strtbl), WBXML_ERR_STRING_TABLE, 3);
	expect_error(header_only, sizeof(header_only), WBXML_ERR_NO_ROOT, 4);
	expect_error(mb_long, sizeof(mb_long), WBXML_ERR_MB_OVERFLOW, 1);
	expect_error(header_only, 0, WBXML_ERR_TRUNCATED, 0);
	copy = dup_bytes(long_mb, sizeof(long_mb));
	assert_int_equal(drain(copy, sizeof(long_mb), &err, &offset), 2);
	free(copy);
}

static void
test_mb_u32(void **state)
{
	static const uint8_t max[] = {0x8f, 0xff, 0xff, 0xff, 0x7f};
	static const uint8_t over[] = {0x90, 0x80, 0x80, 0x80, 0x00};
	static const uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
	static const uint8_t two[] = {0x81, 0x00};
	const uint8_t *p;
	enum wbxml_err err = WBXML_ERR_NONE;
	uint32_t v;

	(void)state;
	p = max;
	assert_int_equal(wbxml_read_mb_u32(&p, max + sizeof(max), &v, &err), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_ptr_equal(p, max + sizeof(max));
	p = over;
	assert_int_equal(wbxml_read_mb_u32(&p, over + sizeof(over), &v, &err),
			 -1);
	assert_int_equal(err, WBXML_ERR_MB_OVERFLOW);
	assert_ptr_equal(p, over); /* not advanced on failure */
	p = six;
	assert_int_equal(wbxml_read_mb_u32(&p, six + sizeof(six), &v, &err),
			 -1);
	assert_int_equal(err, WBXML_ERR_MB_OVERFLOW);
	p = two;
	assert_int_equal(wbxml_read_mb_u32(&p, two + 1, &v, &err), -1);
	assert_int_equal(err, WBXML_ERR_TRUNCATED);
	assert_int_equal(wbxml_read_mb_u32(&p, two + 2, &v, &err), 0);
	assert_int_equal(v, 128);
}

static void
test_rejected_tokens(void **state)
{
	/* header, Sync with content, then the token under test */
	static const uint8_t unsupported[] = {
	    0x02, 0x04, 0x40, 0x41, 0x42, 0x43, 0x44, 0x80,
	    0x81, 0x82, 0x83, 0x84, 0xc0, 0xc1, 0xc2, 0xc4};
	uint8_t doc[] = {0x03, 0x01, 0x6a, 0x00, 0x45, 0x00, 0x00, 0x01};

	(void)state;
	for (size_t i = 0; i < sizeof(unsupported); i++) {
		doc[5] = unsupported[i];
		expect_error(doc, sizeof(doc), WBXML_ERR_UNSUPPORTED, 5);
	}
	/* Attributes: the 0x80 bit on a tag, with or without content. */
	doc[5] = 0xcb;
	expect_error(doc, sizeof(doc), WBXML_ERR_ATTRIBUTES, 5);
	doc[5] = 0x8b;
	expect_error(doc, sizeof(doc), WBXML_ERR_ATTRIBUTES, 5);
	/* Attributes on the root. */
	doc[4] = 0xc5;
	expect_error(doc, sizeof(doc), WBXML_ERR_ATTRIBUTES, 4);
}

static void
test_pages_switching(void **state)
{
	static const uint8_t unknown_page[] = {0x03, 0x01, 0x6a, 0x00, 0x45,
					       0x00, 0x1a, 0x05, 0x01};
	static const uint8_t page_255[] = {0x03, 0x01, 0x6a, 0x00,
					   0x00, 0xff, 0x05};
	static const uint8_t switch_at_end[] = {0x03, 0x01, 0x6a,
						0x00, 0x45, 0x00};
	static const uint8_t find_page[] = {0x03, 0x01, 0x6a, 0x00, 0x00,
					    0x19, 0x45, 0x00, 0x19, 0x00,
					    0x19, 0x22, 0x01};
	/* unknown token 0x3F in AirSync: kept as a tag */
	static const uint8_t unknown_tok[] = {0x03, 0x01, 0x6a, 0x00,
					      0x45, 0x3f, 0x01};
	struct wbxml_dec d;
	struct wbxml_event ev;

	(void)state;
	expect_error(unknown_page, sizeof(unknown_page), WBXML_ERR_UNKNOWN_PAGE,
		     5);
	expect_error(page_255, sizeof(page_255), WBXML_ERR_UNKNOWN_PAGE, 4);
	expect_error(switch_at_end, sizeof(switch_at_end), WBXML_ERR_TRUNCATED,
		     5);
	assert_int_equal(wbxml_dec_init(&d, find_page, sizeof(find_page)), 0);
	assert_int_equal(wbxml_dec_next(&d, &ev), 0);
	assert_int_equal(ev.tag, EAS_FIND_FIND);
	assert_int_equal(wbxml_dec_next(&d, &ev), 0);
	assert_int_equal(ev.tag, EAS_FIND_PICTURE);
	assert_false(ev.has_content);
	assert_int_equal(wbxml_dec_init(&d, unknown_tok, sizeof(unknown_tok)),
			 0);
	assert_int_equal(wbxml_dec_next(&d, &ev), 0);
	assert_int_equal(wbxml_dec_next(&d, &ev), 0);
	assert_int_equal(ev.type, WBXML_EV_START);
	assert_int_equal(ev.tag, 0x003f);
	assert_null(wbxml_tag_name(ev.tag));
}

static void
test_structure_errors(void **state)
{
	static const uint8_t end_first[] = {0x03, 0x01, 0x6a, 0x00, 0x01};
	static const uint8_t str_first[] = {0x03, 0x01, 0x6a, 0x00, 0x03,
					    'a',  0x00, 0x45, 0x01};
	static const uint8_t opq_first[] = {0x03, 0x01, 0x6a, 0x00,
					    0xc3, 0x00, 0x05};
	static const uint8_t trailing[] = {0x03, 0x01, 0x6a, 0x00,
					   0x45, 0x01, 0x00};
	static const uint8_t two_roots[] = {0x03, 0x01, 0x6a, 0x00, 0x05, 0x05};
	static const uint8_t keepalive_after[] = {0x03, 0x01, 0x6a, 0x00,
						  0x45, 0x01, 0x00, 0x00};
	static const uint8_t opq_past_end[] = {0x03, 0x01, 0x6a, 0x00, 0x45,
					       0xc3, 0x05, 'a',  0x01};
	static const uint8_t str_unterminated[] = {0x03, 0x01, 0x6a, 0x00, 0x45,
						   0x03, 'a',  'b',  0x01};
	static const uint8_t opq_overflow[] = {0x03, 0x01, 0x6a, 0x00, 0x45,
					       0xc3, 0x80, 0x80, 0x80, 0x80,
					       0x80, 0x01, 0x01};

	(void)state;
	expect_error(end_first, sizeof(end_first), WBXML_ERR_UNBALANCED, 4);
	expect_error(str_first, sizeof(str_first), WBXML_ERR_OUTSIDE_ROOT, 4);
	expect_error(opq_first, sizeof(opq_first), WBXML_ERR_OUTSIDE_ROOT, 4);
	expect_error(trailing, sizeof(trailing), WBXML_ERR_TRAILING, 6);
	expect_error(two_roots, sizeof(two_roots), WBXML_ERR_TRAILING, 5);
	expect_error(keepalive_after, sizeof(keepalive_after),
		     WBXML_ERR_TRAILING, 6);
	expect_error(opq_past_end, sizeof(opq_past_end), WBXML_ERR_TRUNCATED,
		     5);
	/* The END byte 0x01 is not a NUL: the string runs to the end. */
	expect_error(str_unterminated, sizeof(str_unterminated),
		     WBXML_ERR_TRUNCATED, 5);
	expect_error(opq_overflow, sizeof(opq_overflow), WBXML_ERR_MB_OVERFLOW,
		     5);
}

static void
test_control_chars_kept(void **state)
{
	static const uint8_t doc[] = {0x03, 0x01, 0x6a, 0x00, 0x00,
				      0x02, 0x54, 0x03, 0x01, 0x1f,
				      0x0b, 0xff, 'x',  0x00, 0x01};
	struct wbxml_dec d;
	struct wbxml_event ev;

	(void)state;
	assert_int_equal(wbxml_dec_init(&d, doc, sizeof(doc)), 0);
	assert_int_equal(wbxml_dec_next(&d, &ev), 0);
	assert_int_equal(ev.tag, EAS_EMAIL_SUBJECT);
	assert_int_equal(wbxml_dec_next(&d, &ev), 0);
	assert_int_equal(ev.type, WBXML_EV_STR);
	assert_int_equal(ev.len, 5);
	assert_memory_equal(ev.data, "\x01\x1f\x0b\xffx", 5);
}

static void
test_depth_limit(void **state)
{
	uint8_t doc[4 + 2 * (WBXML_MAX_DEPTH + 1)];
	size_t n = 4;
	enum wbxml_err err;
	size_t offset;

	(void)state;
	memcpy(doc, "\x03\x01\x6a\x00", 4);
	for (unsigned i = 0; i < WBXML_MAX_DEPTH; i++)
		doc[n++] = 0x45;
	for (unsigned i = 0; i < WBXML_MAX_DEPTH; i++)
		doc[n++] = 0x01;
	assert_int_equal(drain(doc, n, &err, &offset), 2 * WBXML_MAX_DEPTH + 1);
	/* One more level, empty or not, is refused. */
	n = 4;
	for (unsigned i = 0; i < WBXML_MAX_DEPTH; i++)
		doc[n++] = 0x45;
	doc[n++] = 0x05;
	for (unsigned i = 0; i < WBXML_MAX_DEPTH; i++)
		doc[n++] = 0x01;
	expect_error(doc, n, WBXML_ERR_DEPTH, 4 + WBXML_MAX_DEPTH);
}

static void
test_size_limits(void **state)
{
	static const uint8_t big_opaque[] = {0x03, 0x01, 0x6a, 0x00, 0x45, 0xc3,
					     0x90, 0x80, 0x80, 0x01, 0x00};
	size_t len = 4 + 2 + (size_t)WBXML_MAX_STRING_BYTES + 2;
	uint8_t *doc;

	(void)state;
	/* 32 MiB + 1: over WBXML_MAX_OPAQUE_BYTES, rejected before any
	 * comparison with the (short) remaining input. */
	expect_error(big_opaque, sizeof(big_opaque), WBXML_ERR_OPAQUE_TOO_LONG,
		     5);

	/* An unterminated string longer than the limit. */
	doc = malloc(len);
	assert_non_null(doc);
	memcpy(doc, "\x03\x01\x6a\x00\x45\x03", 6);
	memset(doc + 6, 'a', len - 6);
	expect_error(doc, len, WBXML_ERR_STRING_TOO_LONG, 5);
	/* Exactly at the limit it decodes. */
	doc[6 + WBXML_MAX_STRING_BYTES] = 0x00;
	doc[7 + WBXML_MAX_STRING_BYTES] = 0x01;
	{
		enum wbxml_err err;
		size_t offset;

		assert_int_equal(drain(doc, len, &err, &offset), 4);
	}
	free(doc);

	/* A document over WBXML_MAX_DOC_BYTES is refused up front. */
	len = (size_t)WBXML_MAX_DOC_BYTES + 1;
	doc = calloc(1, len);
	assert_non_null(doc);
	expect_error(doc, len, WBXML_ERR_DOC_TOO_LARGE, 0);
	free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_folder_sync_example),
	    cmocka_unit_test(test_sync_doc_events),
	    cmocka_unit_test(test_every_prefix_fails),
	    cmocka_unit_test(test_header),
	    cmocka_unit_test(test_mb_u32),
	    cmocka_unit_test(test_rejected_tokens),
	    cmocka_unit_test(test_pages_switching),
	    cmocka_unit_test(test_structure_errors),
	    cmocka_unit_test(test_control_chars_kept),
	    cmocka_unit_test(test_depth_limit),
	    cmocka_unit_test(test_size_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
