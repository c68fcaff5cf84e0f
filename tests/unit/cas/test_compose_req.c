/* Unit tests for cas/compose_req.c: the 14.0+ WBXML forms of SendMail,
 * SmartReply (Source by ItemId, LongId, InstanceId) and SmartForward with
 * 16.0 Forwardees; Mime as OPAQUE or inline string; the schema violations
 * that are Status 103 (no ClientId, no Mime, no Source, an over-long
 * ClientId, a Forwardee without Email, too many Forwardees) and 107 (empty
 * Mime); and the raw pre-14.0 form from the plain and base64 queries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas/compose_req.h"
#include "proto/base64.h"
#include "proto/buf.h"
#include "proto/limits.h"
#include "proto/wbxml_tree.h"

static const char MIME[] =
    "To: rita@remote.test\r\nSubject: hi\r\n\r\nhello\r\n";

struct doc {
	struct buf b;
	struct wbxml_enc e;
	struct wbxml_tree *tree;
};

static void
doc_begin(struct doc *d, uint16_t root)
{
	memset(d, 0, sizeof(*d));
	buf_init(&d->b, 1u << 20);
	wbxml_enc_init_buf(&d->e, &d->b);
	wbxml_enc_start(&d->e, root);
}

static const struct wbxml_node *
doc_end(struct doc *d)
{
	wbxml_enc_end(&d->e);
	assert_int_equal(wbxml_enc_finish(&d->e), 0);
	assert_int_equal(
	    wbxml_tree_parse(d->b.data, d->b.len, &d->tree, NULL, NULL), 0);
	return wbxml_tree_root(d->tree);
}

static void
doc_free(struct doc *d)
{
	wbxml_tree_free(&d->tree);
	buf_free(&d->b);
}

static void
test_sendmail(void **state)
{
	struct doc d;
	struct compose_req r;
	unsigned st = 0;

	(void)state;
	doc_begin(&d, EAS_COMPOSEMAIL_SEND_MAIL);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_CLIENT_ID, "633916348086136194");
	wbxml_enc_empty(&d.e, EAS_COMPOSEMAIL_SAVE_IN_SENT_ITEMS);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_ACCOUNT_ID, "sam@example.org");
	wbxml_enc_opaque(&d.e, EAS_COMPOSEMAIL_MIME, MIME, strlen(MIME));
	assert_int_equal(
	    compose_req_from_tree(COMPOSE_REQ_SEND_MAIL, doc_end(&d), &r, &st),
	    0);
	assert_string_equal(r.client_id, "633916348086136194");
	assert_string_equal(r.account_id, "sam@example.org");
	assert_true(r.save_in_sent);
	assert_false(r.replace_mime);
	assert_int_equal(r.mime_len, strlen(MIME));
	assert_memory_equal(r.mime, MIME, r.mime_len);
	assert_string_equal(r.item_id, "");
	compose_req_clear(&r);
	doc_free(&d);

	/* Mime as an inline string (some clients), no SaveInSentItems. */
	doc_begin(&d, EAS_COMPOSEMAIL_SEND_MAIL);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_CLIENT_ID, "7");
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_MIME, MIME);
	assert_int_equal(
	    compose_req_from_tree(COMPOSE_REQ_SEND_MAIL, doc_end(&d), &r, &st),
	    0);
	assert_false(r.save_in_sent);
	assert_int_equal(r.mime_len, strlen(MIME));
	compose_req_clear(&r);
	doc_free(&d);
}

static void
test_smart_forms(void **state)
{
	struct doc d;
	struct compose_req r;
	unsigned st = 0;

	(void)state;
	/* SmartReply by FolderId + ItemId, ReplaceMime. */
	doc_begin(&d, EAS_COMPOSEMAIL_SMART_REPLY);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_CLIENT_ID, "r1");
	wbxml_enc_start(&d.e, EAS_COMPOSEMAIL_SOURCE);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_FOLDER_ID, "2");
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_ITEM_ID, "17");
	wbxml_enc_end(&d.e);
	wbxml_enc_empty(&d.e, EAS_COMPOSEMAIL_REPLACE_MIME);
	wbxml_enc_opaque(&d.e, EAS_COMPOSEMAIL_MIME, MIME, strlen(MIME));
	assert_int_equal(compose_req_from_tree(COMPOSE_REQ_SMART_REPLY,
					       doc_end(&d), &r, &st),
			 0);
	assert_string_equal(r.folder_id, "2");
	assert_string_equal(r.item_id, "17");
	assert_true(r.replace_mime);
	compose_req_clear(&r);
	doc_free(&d);

	/* SmartForward by LongId with an InstanceId and two Forwardees. */
	doc_begin(&d, EAS_COMPOSEMAIL_SMART_FORWARD);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_CLIENT_ID, "f1");
	wbxml_enc_start(&d.e, EAS_COMPOSEMAIL_SOURCE);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_LONG_ID, "42");
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_INSTANCE_ID,
		      "2026-11-30T09:00:00.000Z");
	wbxml_enc_end(&d.e);
	wbxml_enc_start(&d.e, EAS_COMPOSEMAIL_FORWARDEES);
	wbxml_enc_start(&d.e, EAS_COMPOSEMAIL_FORWARDEE);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_NAME, "Dora");
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_EMAIL, "dora@remote.test");
	wbxml_enc_end(&d.e);
	wbxml_enc_start(&d.e, EAS_COMPOSEMAIL_FORWARDEE);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_EMAIL, "eve@remote.test");
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	wbxml_enc_opaque(&d.e, EAS_COMPOSEMAIL_MIME, MIME, strlen(MIME));
	assert_int_equal(compose_req_from_tree(COMPOSE_REQ_SMART_FORWARD,
					       doc_end(&d), &r, &st),
			 0);
	assert_string_equal(r.long_id, "42");
	assert_string_equal(r.item_id, "");
	assert_string_equal(r.instance_id, "2026-11-30T09:00:00.000Z");
	assert_false(r.replace_mime);
	assert_int_equal(r.n_forwardees, 2);
	assert_string_equal(r.forwardees[0].name, "Dora");
	assert_string_equal(r.forwardees[0].email, "dora@remote.test");
	assert_string_equal(r.forwardees[1].name, "");
	assert_string_equal(r.forwardees[1].email, "eve@remote.test");
	compose_req_clear(&r);
	doc_free(&d);
}

/* One malformed body of kind: -1 with status want. */
static void
expect_refused(enum compose_req_kind kind, struct doc *d, unsigned want)
{
	struct compose_req r;
	unsigned st = 0;

	assert_int_equal(compose_req_from_tree(kind, doc_end(d), &r, &st), -1);
	assert_int_equal(st, want);
	assert_null(r.forwardees);
	doc_free(d);
}

static void
test_malformed(void **state)
{
	struct doc d;
	char long_id[COMPOSE_MAX_CLIENT_ID_BYTES + 2];

	(void)state;
	/* No ClientId. */
	doc_begin(&d, EAS_COMPOSEMAIL_SEND_MAIL);
	wbxml_enc_opaque(&d.e, EAS_COMPOSEMAIL_MIME, MIME, strlen(MIME));
	expect_refused(COMPOSE_REQ_SEND_MAIL, &d, 103);
	/* No Mime. */
	doc_begin(&d, EAS_COMPOSEMAIL_SEND_MAIL);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_CLIENT_ID, "1");
	expect_refused(COMPOSE_REQ_SEND_MAIL, &d, 103);
	/* Empty Mime: InvalidMIME. */
	doc_begin(&d, EAS_COMPOSEMAIL_SEND_MAIL);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_CLIENT_ID, "1");
	wbxml_enc_empty(&d.e, EAS_COMPOSEMAIL_MIME);
	expect_refused(COMPOSE_REQ_SEND_MAIL, &d, 107);
	/* A ClientId over the bound. */
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = 0;
	doc_begin(&d, EAS_COMPOSEMAIL_SEND_MAIL);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_CLIENT_ID, long_id);
	wbxml_enc_opaque(&d.e, EAS_COMPOSEMAIL_MIME, MIME, strlen(MIME));
	expect_refused(COMPOSE_REQ_SEND_MAIL, &d, 103);
	/* A smart command without Source, and with an empty one. */
	doc_begin(&d, EAS_COMPOSEMAIL_SMART_REPLY);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_CLIENT_ID, "1");
	wbxml_enc_opaque(&d.e, EAS_COMPOSEMAIL_MIME, MIME, strlen(MIME));
	expect_refused(COMPOSE_REQ_SMART_REPLY, &d, 103);
	doc_begin(&d, EAS_COMPOSEMAIL_SMART_FORWARD);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_CLIENT_ID, "1");
	wbxml_enc_start(&d.e, EAS_COMPOSEMAIL_SOURCE);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_FOLDER_ID, "2");
	wbxml_enc_end(&d.e);
	wbxml_enc_opaque(&d.e, EAS_COMPOSEMAIL_MIME, MIME, strlen(MIME));
	expect_refused(COMPOSE_REQ_SMART_FORWARD, &d, 103);
	/* A Forwardee without Email. */
	doc_begin(&d, EAS_COMPOSEMAIL_SMART_FORWARD);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_CLIENT_ID, "1");
	wbxml_enc_start(&d.e, EAS_COMPOSEMAIL_SOURCE);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_ITEM_ID, "5");
	wbxml_enc_end(&d.e);
	wbxml_enc_start(&d.e, EAS_COMPOSEMAIL_FORWARDEES);
	wbxml_enc_start(&d.e, EAS_COMPOSEMAIL_FORWARDEE);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_NAME, "Nobody");
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	wbxml_enc_opaque(&d.e, EAS_COMPOSEMAIL_MIME, MIME, strlen(MIME));
	expect_refused(COMPOSE_REQ_SMART_FORWARD, &d, 103);
	/* More Forwardees than COMPOSE_MAX_FORWARDEES. */
	doc_begin(&d, EAS_COMPOSEMAIL_SMART_FORWARD);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_CLIENT_ID, "1");
	wbxml_enc_start(&d.e, EAS_COMPOSEMAIL_SOURCE);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_ITEM_ID, "5");
	wbxml_enc_end(&d.e);
	wbxml_enc_start(&d.e, EAS_COMPOSEMAIL_FORWARDEES);
	for (int i = 0; i <= COMPOSE_MAX_FORWARDEES; i++) {
		wbxml_enc_start(&d.e, EAS_COMPOSEMAIL_FORWARDEE);
		wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_EMAIL, "x@y.test");
		wbxml_enc_end(&d.e);
	}
	wbxml_enc_end(&d.e);
	wbxml_enc_opaque(&d.e, EAS_COMPOSEMAIL_MIME, MIME, strlen(MIME));
	expect_refused(COMPOSE_REQ_SMART_FORWARD, &d, 103);
	/* The wrong root for the command. */
	doc_begin(&d, EAS_COMPOSEMAIL_SMART_REPLY);
	wbxml_enc_str(&d.e, EAS_COMPOSEMAIL_CLIENT_ID, "1");
	wbxml_enc_opaque(&d.e, EAS_COMPOSEMAIL_MIME, MIME, strlen(MIME));
	expect_refused(COMPOSE_REQ_SEND_MAIL, &d, 103);
}

static void
parse_query(const char *query, const char *version, struct ashttp_request *ash)
{
	struct ashttp_headers hd = {.protocol_version = version,
				    .policy_key = "1"};
	struct ashttp_error err;

	assert_int_equal(
	    ashttp_parse((const uint8_t *)query, strlen(query), &hd, ash, &err),
	    0);
}

static void
test_raw(void **state)
{
	struct ashttp_request ash;
	struct compose_req r;
	unsigned http = 0;

	(void)state;
	parse_query("Cmd=SendMail&User=sam&DeviceId=OLD1&DeviceType=PPC"
		    "&SaveInSent=T",
		    "12.1", &ash);
	assert_int_equal(compose_req_from_raw(COMPOSE_REQ_SEND_MAIL, &ash,
					      (const uint8_t *)MIME,
					      strlen(MIME), &r, &http),
			 0);
	assert_true(r.save_in_sent);
	assert_string_equal(r.client_id, "");
	assert_int_equal(r.mime_len, strlen(MIME));
	compose_req_clear(&r);

	parse_query("Cmd=SmartForward&User=sam&DeviceId=OLD1&DeviceType=PPC"
		    "&ItemId=17&CollectionId=2&Occurrence=x",
		    "2.5", &ash);
	assert_int_equal(compose_req_from_raw(COMPOSE_REQ_SMART_FORWARD, &ash,
					      (const uint8_t *)MIME,
					      strlen(MIME), &r, &http),
			 0);
	assert_false(r.save_in_sent);
	assert_string_equal(r.item_id, "17");
	assert_string_equal(r.folder_id, "2");
	assert_string_equal(r.instance_id, "x");
	compose_req_clear(&r);

	/* A smart command without ItemId or LongId, an empty body. */
	parse_query("Cmd=SmartReply&User=sam&DeviceId=OLD1&DeviceType=PPC"
		    "&CollectionId=2",
		    "12.1", &ash);
	assert_int_equal(compose_req_from_raw(COMPOSE_REQ_SMART_REPLY, &ash,
					      (const uint8_t *)MIME,
					      strlen(MIME), &r, &http),
			 -1);
	assert_int_equal(http, 400);
	assert_int_equal(compose_req_from_raw(COMPOSE_REQ_SEND_MAIL, &ash, NULL,
					      0, &r, &http),
			 -1);
	assert_int_equal(http, 400);
}

/* MS-ASHTTP 2.2.1.1.1.1: the base64 query of a SmartReply (command code
 * 3) with ItemId (tag 3), CollectionId (tag 1) and SaveInSent (Options
 * bit 0x01). */
static void
test_raw_base64(void **state)
{
	static const uint8_t q[] = {
	    121,  3,                    /* 12.1, SmartReply */
	    0x00, 0x00,                 /* locale */
	    4,    'D',  'E',  'V', '1', /* device id bytes */
	    0,                          /* policy key: none */
	    3,    'P',  'P',  'C',      /* device type */
	    3,    2,    '1',  '7',      /* ItemId */
	    1,    1,    '2',            /* CollectionId */
	    7,    1,    0x01,           /* Options: SaveInSent */
	};
	char b64[128];
	struct ashttp_request ash;
	struct compose_req r;
	unsigned http = 0;

	(void)state;
	assert_int_equal(base64_encode(q, sizeof(q), b64, sizeof(b64)), 0);
	parse_query(b64, NULL, &ash);
	assert_int_equal(ash.cmd->id, EAS_CMD_SMARTREPLY);
	assert_int_equal(compose_req_from_raw(COMPOSE_REQ_SMART_REPLY, &ash,
					      (const uint8_t *)MIME,
					      strlen(MIME), &r, &http),
			 0);
	assert_string_equal(r.item_id, "17");
	assert_string_equal(r.folder_id, "2");
	assert_true(r.save_in_sent);
	compose_req_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sendmail),
	    cmocka_unit_test(test_smart_forms),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_raw),
	    cmocka_unit_test(test_raw_base64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
