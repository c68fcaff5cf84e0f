/* Unit tests for cas/search_req.c: Search Mailbox queries (And of
 * FreeText, Class, several CollectionIds, GreaterThan/LessThan on
 * DateReceived), Options (Range, DeepTraversal, RebuildResults,
 * BodyPreference, MIMESupport), an Or of folders, ConversationId under
 * And (and its misplaced or repeated forms), the queries the index cannot
 * run (Status 8), GAL and DocumentLibrary stores, malformed bodies
 * (Status 2), Range parsing, and the Find request in both criteria. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas/search_req.h"
#include "proto/buf.h"
#include "proto/wbxml_tree.h"

struct doc {
	struct buf buf;
	struct wbxml_enc e;
};

static void
begin(struct doc *d, const char *store)
{
	buf_init(&d->buf, 1u << 16);
	wbxml_enc_init_buf(&d->e, &d->buf);
	wbxml_enc_start(&d->e, EAS_SEARCH_SEARCH);
	wbxml_enc_start(&d->e, EAS_SEARCH_STORE);
	wbxml_enc_str(&d->e, EAS_SEARCH_NAME, store);
}

static void
date(struct doc *d, uint16_t tag, const char *value)
{
	wbxml_enc_start(&d->e, tag);
	wbxml_enc_empty(&d->e, EAS_EMAIL_DATE_RECEIVED);
	wbxml_enc_str(&d->e, EAS_SEARCH_VALUE, value);
	wbxml_enc_end(&d->e);
}

/* Close Store and Search. */
static void
finish(struct doc *d)
{
	wbxml_enc_end(&d->e);
	wbxml_enc_end(&d->e);
	assert_int_equal(wbxml_enc_finish(&d->e), 0);
}

static int
decode(struct doc *d, struct search_req *r, enum search_req_status *st)
{
	int rc = search_req_decode(d->buf.data, d->buf.len, r, st);

	buf_free(&d->buf);
	return rc;
}

static void
test_mailbox_full(void **state)
{
	struct doc d;
	struct search_req r;
	enum search_req_status st;

	(void)state;
	begin(&d, "Mailbox");
	wbxml_enc_start(&d.e, EAS_SEARCH_QUERY);
	wbxml_enc_start(&d.e, EAS_SEARCH_AND);
	wbxml_enc_str(&d.e, EAS_AIRSYNC_CLASS, "Email");
	wbxml_enc_str(&d.e, EAS_AIRSYNC_COLLECTION_ID, "2");
	wbxml_enc_str(&d.e, EAS_AIRSYNC_COLLECTION_ID, "12");
	wbxml_enc_str(&d.e, EAS_SEARCH_FREE_TEXT, "quarterly report");
	date(&d, EAS_SEARCH_GREATER_THAN, "2026-01-01T00:00:00.000Z");
	date(&d, EAS_SEARCH_LESS_THAN, "2026-02-01T00:00:00.000Z");
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	wbxml_enc_start(&d.e, EAS_SEARCH_OPTIONS);
	wbxml_enc_str(&d.e, EAS_SEARCH_RANGE, "10-19");
	wbxml_enc_empty(&d.e, EAS_SEARCH_DEEP_TRAVERSAL);
	wbxml_enc_empty(&d.e, EAS_SEARCH_REBUILD_RESULTS);
	wbxml_enc_start(&d.e, EAS_AIRSYNCBASE_BODY_PREFERENCE);
	wbxml_enc_uint(&d.e, EAS_AIRSYNCBASE_TYPE, 2);
	wbxml_enc_uint(&d.e, EAS_AIRSYNCBASE_TRUNCATION_SIZE, 5120);
	wbxml_enc_uint(&d.e, EAS_AIRSYNCBASE_PREVIEW, 100);
	wbxml_enc_end(&d.e);
	wbxml_enc_uint(&d.e, EAS_AIRSYNC_MIME_SUPPORT, 2);
	wbxml_enc_end(&d.e);
	finish(&d);
	assert_int_equal(decode(&d, &r, &st), 0);
	assert_int_equal(st, SEARCH_REQ_OK);
	assert_int_equal(r.store, SEARCH_REQ_STORE_MAILBOX);
	assert_string_equal(r.text, "quarterly report");
	assert_int_equal(r.n_collections, 2);
	assert_string_equal(r.collections[0], "2");
	assert_string_equal(r.collections[1], "12");
	assert_int_equal(r.greater_than, 1767225600);
	assert_int_equal(r.less_than, 1769904000);
	assert_true(r.has_range);
	assert_int_equal(r.range_start, 10);
	assert_int_equal(r.range_end, 19);
	assert_true(r.deep_traversal);
	assert_true(r.rebuild_results);
	assert_int_equal(r.n_body_prefs, 1);
	assert_int_equal(r.body_prefs[0].type, 2);
	assert_int_equal(r.body_prefs[0].truncation_size, 5120);
	assert_int_equal(r.body_prefs[0].preview, 100);
	assert_true(r.has_mime_support);
	assert_int_equal(r.mime_support, 2);
}

static void
test_mailbox_or_and_words(void **state)
{
	struct doc d;
	struct search_req r;
	enum search_req_status st;

	(void)state;
	/* An Or of folders widens the scope; two FreeTexts are one
	 * conjunction; a one-branch Or is an And. */
	begin(&d, "Mailbox");
	wbxml_enc_start(&d.e, EAS_SEARCH_QUERY);
	wbxml_enc_start(&d.e, EAS_SEARCH_AND);
	wbxml_enc_start(&d.e, EAS_SEARCH_OR);
	wbxml_enc_str(&d.e, EAS_AIRSYNC_COLLECTION_ID, "5");
	wbxml_enc_str(&d.e, EAS_AIRSYNC_COLLECTION_ID, "6");
	wbxml_enc_end(&d.e);
	wbxml_enc_start(&d.e, EAS_SEARCH_OR);
	wbxml_enc_str(&d.e, EAS_SEARCH_FREE_TEXT, "alpha");
	wbxml_enc_end(&d.e);
	wbxml_enc_str(&d.e, EAS_SEARCH_FREE_TEXT, "beta");
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	finish(&d);
	assert_int_equal(decode(&d, &r, &st), 0);
	assert_int_equal(r.n_collections, 2);
	assert_string_equal(r.text, "alpha beta");
	assert_false(r.has_range);
	assert_false(r.deep_traversal);
}

/* A one-leaf mailbox query: <Query><And>leaf...</And></Query>. */
static int
decode_leafs(void (*leafs)(struct doc *d), enum search_req_status *st)
{
	struct doc d;
	struct search_req r;

	begin(&d, "Mailbox");
	wbxml_enc_start(&d.e, EAS_SEARCH_QUERY);
	wbxml_enc_start(&d.e, EAS_SEARCH_AND);
	leafs(&d);
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	finish(&d);
	return decode(&d, &r, st);
}

static void
or_words(struct doc *d)
{
	wbxml_enc_start(&d->e, EAS_SEARCH_OR);
	wbxml_enc_str(&d->e, EAS_SEARCH_FREE_TEXT, "alpha");
	wbxml_enc_str(&d->e, EAS_SEARCH_FREE_TEXT, "beta");
	wbxml_enc_end(&d->e);
}

/* MS-ASCMD 2.2.3.35.2: two ConversationIds are undefined (Status 2);
 * one under an Or is not under And (Status 8). */
static void
two_conversations(struct doc *d)
{
	wbxml_enc_opaque(&d->e, EAS_SEARCH_CONVERSATION_ID, "0123456789abcdef",
			 16);
	wbxml_enc_opaque(&d->e, EAS_SEARCH_CONVERSATION_ID, "fedcba9876543210",
			 16);
}

static void
conversation_in_or(struct doc *d)
{
	wbxml_enc_str(&d->e, EAS_SEARCH_FREE_TEXT, "x");
	wbxml_enc_start(&d->e, EAS_SEARCH_OR);
	wbxml_enc_opaque(&d->e, EAS_SEARCH_CONVERSATION_ID, "0123456789abcdef",
			 16);
	wbxml_enc_end(&d->e);
}

static void
empty_conversation(struct doc *d)
{
	wbxml_enc_opaque(&d->e, EAS_SEARCH_CONVERSATION_ID, "", 0);
}

static void
deep(struct doc *d)
{
	for (int i = 0; i <= SEARCH_MAX_QUERY_DEPTH; i++)
		wbxml_enc_start(&d->e, EAS_SEARCH_AND);
	wbxml_enc_str(&d->e, EAS_SEARCH_FREE_TEXT, "x");
	for (int i = 0; i <= SEARCH_MAX_QUERY_DEPTH; i++)
		wbxml_enc_end(&d->e);
}

static void
many_folders(struct doc *d)
{
	char id[16];

	wbxml_enc_str(&d->e, EAS_SEARCH_FREE_TEXT, "x");
	for (int i = 0; i <= SEARCH_MAX_COLLECTIONS; i++) {
		snprintf(id, sizeof(id), "%d", i + 1);
		wbxml_enc_str(&d->e, EAS_AIRSYNC_COLLECTION_ID, id);
	}
}

static void
long_text(struct doc *d)
{
	char *t = malloc(SEARCH_MAX_QUERY_BYTES + 2);

	assert_non_null(t);
	memset(t, 'w', SEARCH_MAX_QUERY_BYTES + 1);
	t[SEARCH_MAX_QUERY_BYTES + 1] = '\0';
	wbxml_enc_str(&d->e, EAS_SEARCH_FREE_TEXT, t);
	free(t);
}

static void
no_words(struct doc *d)
{
	wbxml_enc_str(&d->e, EAS_AIRSYNC_COLLECTION_ID, "2");
}

static void
calendar_class(struct doc *d)
{
	wbxml_enc_str(&d->e, EAS_SEARCH_FREE_TEXT, "x");
	wbxml_enc_str(&d->e, EAS_AIRSYNC_CLASS, "Calendar");
}

static void
bad_date(struct doc *d)
{
	wbxml_enc_str(&d->e, EAS_SEARCH_FREE_TEXT, "x");
	date(d, EAS_SEARCH_GREATER_THAN, "yesterday");
}

static void
date_other_property(struct doc *d)
{
	wbxml_enc_str(&d->e, EAS_SEARCH_FREE_TEXT, "x");
	wbxml_enc_start(&d->e, EAS_SEARCH_LESS_THAN);
	wbxml_enc_empty(&d->e, EAS_EMAIL_SUBJECT);
	wbxml_enc_str(&d->e, EAS_SEARCH_VALUE, "2026-01-01T00:00:00.000Z");
	wbxml_enc_end(&d->e);
}

static void
equal_to(struct doc *d)
{
	wbxml_enc_str(&d->e, EAS_SEARCH_FREE_TEXT, "x");
	wbxml_enc_start(&d->e, EAS_SEARCH_EQUAL_TO);
	wbxml_enc_str(&d->e, EAS_SEARCH_VALUE, "\\\\server\\share");
	wbxml_enc_end(&d->e);
}

static void
test_mailbox_refused(void **state)
{
	static const struct {
		void (*leafs)(struct doc *d);
		enum search_req_status status;
	} cases[] = {
	    {or_words, SEARCH_REQ_TOO_COMPLEX},
	    {two_conversations, SEARCH_REQ_PROTOCOL_ERROR},
	    {conversation_in_or, SEARCH_REQ_TOO_COMPLEX},
	    {empty_conversation, SEARCH_REQ_PROTOCOL_ERROR},
	    {deep, SEARCH_REQ_TOO_COMPLEX},
	    {many_folders, SEARCH_REQ_TOO_COMPLEX},
	    {long_text, SEARCH_REQ_TOO_COMPLEX},
	    {no_words, SEARCH_REQ_PROTOCOL_ERROR},
	    {calendar_class, SEARCH_REQ_PROTOCOL_ERROR},
	    {bad_date, SEARCH_REQ_PROTOCOL_ERROR},
	    {date_other_property, SEARCH_REQ_PROTOCOL_ERROR},
	    {equal_to, SEARCH_REQ_PROTOCOL_ERROR},
	};
	enum search_req_status st;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		st = SEARCH_REQ_OK;
		assert_int_equal(decode_leafs(cases[i].leafs, &st), -1);
		if (st != cases[i].status)
			fail_msg("case %zu: status %d, want %d", i, (int)st,
				 (int)cases[i].status);
	}
}

/* ConversationId under And (MS-ASCMD 2.2.3.35.2): no words needed, the
 * bytes reach the RPC as sent; directly under Query it is Status 8. */
static void
test_mailbox_conversation(void **state)
{
	static const uint8_t conv[16] = {0xde, 0xad, 0, 0xbe, 0xef, 1, 2,  3,
					 4,    5,    6, 7,    8,    9, 10, 11};
	struct doc d;
	struct search_req r;
	struct search_req_rpc rpc;
	enum search_req_status st;

	(void)state;
	begin(&d, "Mailbox");
	wbxml_enc_start(&d.e, EAS_SEARCH_QUERY);
	wbxml_enc_start(&d.e, EAS_SEARCH_AND);
	wbxml_enc_str(&d.e, EAS_AIRSYNC_CLASS, "Email");
	wbxml_enc_opaque(&d.e, EAS_SEARCH_CONVERSATION_ID, conv, sizeof(conv));
	wbxml_enc_str(&d.e, EAS_AIRSYNC_COLLECTION_ID, "7");
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	finish(&d);
	assert_int_equal(decode(&d, &r, &st), 0);
	assert_string_equal(r.text, "");
	assert_int_equal(r.conversation_id_len, sizeof(conv));
	assert_memory_equal(r.conversation_id, conv, sizeof(conv));
	search_req_to_rpc(&r, 42, "DEV", 0, 9, &rpc);
	assert_int_equal(rpc.msg.conversation_id.len, sizeof(conv));
	assert_memory_equal(rpc.msg.conversation_id.data, conv, sizeof(conv));
	assert_string_equal(rpc.msg.collection_id, "7");
	/* Words too: both go to the mailbox. */
	begin(&d, "Mailbox");
	wbxml_enc_start(&d.e, EAS_SEARCH_QUERY);
	wbxml_enc_start(&d.e, EAS_SEARCH_AND);
	wbxml_enc_str(&d.e, EAS_SEARCH_FREE_TEXT, "budget");
	wbxml_enc_opaque(&d.e, EAS_SEARCH_CONVERSATION_ID, conv, sizeof(conv));
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	finish(&d);
	assert_int_equal(decode(&d, &r, &st), 0);
	assert_string_equal(r.text, "budget");
	assert_int_equal(r.conversation_id_len, sizeof(conv));
	/* Outside And: too complex. */
	begin(&d, "Mailbox");
	wbxml_enc_start(&d.e, EAS_SEARCH_QUERY);
	wbxml_enc_opaque(&d.e, EAS_SEARCH_CONVERSATION_ID, conv, sizeof(conv));
	wbxml_enc_end(&d.e);
	finish(&d);
	assert_int_equal(decode(&d, &r, &st), -1);
	assert_int_equal(st, SEARCH_REQ_TOO_COMPLEX);
}

static void
test_gal_and_doclib(void **state)
{
	struct doc d;
	struct search_req r;
	enum search_req_status st;

	(void)state;
	begin(&d, "GAL");
	wbxml_enc_str(&d.e, EAS_SEARCH_QUERY, "bo");
	wbxml_enc_start(&d.e, EAS_SEARCH_OPTIONS);
	wbxml_enc_str(&d.e, EAS_SEARCH_RANGE, "0-4");
	wbxml_enc_end(&d.e);
	finish(&d);
	assert_int_equal(decode(&d, &r, &st), 0);
	assert_int_equal(r.store, SEARCH_REQ_STORE_GAL);
	assert_string_equal(r.text, "bo");
	assert_int_equal(r.range_end, 4);
	/* An empty GAL query is a protocol error. */
	begin(&d, "GAL");
	wbxml_enc_str(&d.e, EAS_SEARCH_QUERY, "");
	finish(&d);
	assert_int_equal(decode(&d, &r, &st), -1);
	assert_int_equal(st, SEARCH_REQ_PROTOCOL_ERROR);
	/* DocumentLibrary decodes (the command refuses it). */
	begin(&d, "DocumentLibrary");
	wbxml_enc_start(&d.e, EAS_SEARCH_QUERY);
	wbxml_enc_start(&d.e, EAS_SEARCH_EQUAL_TO);
	wbxml_enc_str(&d.e, EAS_SEARCH_VALUE, "\\\\server\\share");
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	finish(&d);
	assert_int_equal(decode(&d, &r, &st), 0);
	assert_int_equal(r.store, SEARCH_REQ_STORE_DOCUMENT_LIBRARY);
	/* An unknown store. */
	begin(&d, "Contacts");
	wbxml_enc_str(&d.e, EAS_SEARCH_QUERY, "x");
	finish(&d);
	assert_int_equal(decode(&d, &r, &st), -1);
	assert_int_equal(st, SEARCH_REQ_PROTOCOL_ERROR);
}

static void
test_malformed(void **state)
{
	static const uint8_t junk[] = {0x03, 0x01, 0x6a, 0x00, 0x45};
	struct doc d;
	struct search_req r;
	enum search_req_status st;

	(void)state;
	assert_int_equal(search_req_decode(junk, sizeof(junk), &r, &st), -1);
	assert_int_equal(st, SEARCH_REQ_PROTOCOL_ERROR);
	assert_int_equal(search_req_decode(NULL, 0, &r, &st), -1);
	/* No Query. */
	begin(&d, "Mailbox");
	finish(&d);
	assert_int_equal(decode(&d, &r, &st), -1);
	assert_int_equal(st, SEARCH_REQ_PROTOCOL_ERROR);
	/* A bad Range; a bad BodyPreference type. */
	begin(&d, "GAL");
	wbxml_enc_str(&d.e, EAS_SEARCH_QUERY, "bo");
	wbxml_enc_start(&d.e, EAS_SEARCH_OPTIONS);
	wbxml_enc_str(&d.e, EAS_SEARCH_RANGE, "9-3");
	wbxml_enc_end(&d.e);
	finish(&d);
	assert_int_equal(decode(&d, &r, &st), -1);
	assert_int_equal(st, SEARCH_REQ_PROTOCOL_ERROR);
	begin(&d, "Mailbox");
	wbxml_enc_start(&d.e, EAS_SEARCH_QUERY);
	wbxml_enc_str(&d.e, EAS_SEARCH_FREE_TEXT, "x");
	wbxml_enc_end(&d.e);
	wbxml_enc_start(&d.e, EAS_SEARCH_OPTIONS);
	wbxml_enc_start(&d.e, EAS_AIRSYNCBASE_BODY_PREFERENCE);
	wbxml_enc_uint(&d.e, EAS_AIRSYNCBASE_TYPE, 9);
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	finish(&d);
	assert_int_equal(decode(&d, &r, &st), -1);
	assert_int_equal(st, SEARCH_REQ_PROTOCOL_ERROR);
}

static void
test_range_parse(void **state)
{
	uint32_t a, b;

	(void)state;
	assert_int_equal(search_req_parse_range("0-9", &a, &b), 0);
	assert_int_equal(a, 0);
	assert_int_equal(b, 9);
	assert_int_equal(search_req_parse_range("100-100", &a, &b), 0);
	assert_int_equal(a, 100);
	assert_int_equal(search_req_parse_range("5-4", &a, &b), -1);
	assert_int_equal(search_req_parse_range("-4", &a, &b), -1);
	assert_int_equal(search_req_parse_range("4-", &a, &b), -1);
	assert_int_equal(search_req_parse_range("4", &a, &b), -1);
	assert_int_equal(search_req_parse_range("0-9 ", &a, &b), -1);
	assert_int_equal(search_req_parse_range("+1-9", &a, &b), -1);
	assert_int_equal(search_req_parse_range("0-1234567890", &a, &b), -1);
}

static void
find_begin(struct doc *d, bool gal)
{
	buf_init(&d->buf, 1u << 16);
	wbxml_enc_init_buf(&d->e, &d->buf);
	wbxml_enc_start(&d->e, EAS_FIND_FIND);
	wbxml_enc_str(&d->e, EAS_FIND_SEARCH_ID,
		      "0f5c1a3e-21b4-4a8e-9d7c-5e2f8a9b1c3d");
	wbxml_enc_start(&d->e, EAS_FIND_EXECUTE_SEARCH);
	wbxml_enc_start(&d->e, gal ? EAS_FIND_GAL_SEARCH_CRITERION
				   : EAS_FIND_MAIL_BOX_SEARCH_CRITERION);
}

static void
find_end(struct doc *d)
{
	wbxml_enc_end(&d->e);
	wbxml_enc_end(&d->e);
	wbxml_enc_end(&d->e);
	assert_int_equal(wbxml_enc_finish(&d->e), 0);
}

static void
test_find(void **state)
{
	struct doc d;
	struct search_req r;
	enum find_status st;

	(void)state;
	find_begin(&d, false);
	wbxml_enc_start(&d.e, EAS_FIND_QUERY);
	wbxml_enc_str(&d.e, EAS_AIRSYNC_CLASS, "Email");
	wbxml_enc_str(&d.e, EAS_AIRSYNC_COLLECTION_ID, "2");
	wbxml_enc_str(&d.e, EAS_FIND_FREE_TEXT, "invoice");
	wbxml_enc_end(&d.e);
	wbxml_enc_start(&d.e, EAS_FIND_OPTIONS);
	wbxml_enc_str(&d.e, EAS_FIND_RANGE, "0-24");
	wbxml_enc_empty(&d.e, EAS_FIND_DEEP_TRAVERSAL);
	wbxml_enc_end(&d.e);
	find_end(&d);
	assert_int_equal(find_req_decode(d.buf.data, d.buf.len, &r, &st), 0);
	buf_free(&d.buf);
	assert_int_equal(st, FIND_STATUS_OK);
	assert_int_equal(r.store, SEARCH_REQ_STORE_MAILBOX);
	assert_string_equal(r.text, "invoice");
	assert_int_equal(r.n_collections, 1);
	assert_string_equal(r.collections[0], "2");
	assert_true(r.deep_traversal);
	assert_int_equal(r.range_end, 24);
	assert_string_equal(r.search_id,
			    "0f5c1a3e-21b4-4a8e-9d7c-5e2f8a9b1c3d");
	/* GAL. */
	find_begin(&d, true);
	wbxml_enc_start(&d.e, EAS_FIND_QUERY);
	wbxml_enc_str(&d.e, EAS_FIND_FREE_TEXT, "car");
	wbxml_enc_end(&d.e);
	find_end(&d);
	assert_int_equal(find_req_decode(d.buf.data, d.buf.len, &r, &st), 0);
	buf_free(&d.buf);
	assert_int_equal(r.store, SEARCH_REQ_STORE_GAL);
	assert_string_equal(r.text, "car");
	assert_false(r.has_range);
	/* No FreeText; a Search-page element in a Find query. */
	find_begin(&d, false);
	wbxml_enc_start(&d.e, EAS_FIND_QUERY);
	wbxml_enc_str(&d.e, EAS_AIRSYNC_COLLECTION_ID, "2");
	wbxml_enc_end(&d.e);
	find_end(&d);
	assert_int_equal(find_req_decode(d.buf.data, d.buf.len, &r, &st), -1);
	buf_free(&d.buf);
	assert_int_equal(st, FIND_STATUS_INVALID_REQUEST);
	find_begin(&d, false);
	wbxml_enc_start(&d.e, EAS_FIND_QUERY);
	wbxml_enc_str(&d.e, EAS_SEARCH_FREE_TEXT, "x");
	wbxml_enc_end(&d.e);
	find_end(&d);
	assert_int_equal(find_req_decode(d.buf.data, d.buf.len, &r, &st), -1);
	buf_free(&d.buf);
	/* No SearchId. */
	buf_init(&d.buf, 4096);
	wbxml_enc_init_buf(&d.e, &d.buf);
	wbxml_enc_start(&d.e, EAS_FIND_FIND);
	wbxml_enc_start(&d.e, EAS_FIND_EXECUTE_SEARCH);
	wbxml_enc_start(&d.e, EAS_FIND_MAIL_BOX_SEARCH_CRITERION);
	wbxml_enc_start(&d.e, EAS_FIND_QUERY);
	wbxml_enc_str(&d.e, EAS_FIND_FREE_TEXT, "x");
	wbxml_enc_end(&d.e);
	find_end(&d);
	assert_int_equal(find_req_decode(d.buf.data, d.buf.len, &r, &st), -1);
	buf_free(&d.buf);
	assert_int_equal(st, FIND_STATUS_INVALID_REQUEST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mailbox_full),
	    cmocka_unit_test(test_mailbox_or_and_words),
	    cmocka_unit_test(test_mailbox_refused),
	    cmocka_unit_test(test_mailbox_conversation),
	    cmocka_unit_test(test_gal_and_doclib),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_range_parse),
	    cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
