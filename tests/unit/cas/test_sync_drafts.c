/* Unit tests for the 16.0 draft part of cas/sync_req.c (MS-ASCMD 2.2.1.21
 * email Add / Change, MS-ASEMAIL Email2 Bcc / Send, MS-ASAIRS attachment
 * Add / Delete): fields decoded, absent vs empty, attachments and
 * deletes, Send as a child of Change, the attachment limit (Status 4),
 * and nothing of it before 16.0. */
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
#include "proto/wbxml_xml.h"

#define NS                                                                    \
	"xmlns=\"AirSync:\" xmlns:email=\"Email:\" xmlns:email2=\"Email2:\" " \
	"xmlns:airsyncbase=\"AirSyncBase:\""

/* The decoded request points into the body: it lives until the next
 * decode (or body_free). */
static struct buf body;

static void
body_free(void)
{
	buf_free(&body);
}

static int
decode_xml(const char *xml, unsigned version, struct sync_request **r,
	   enum sync_status *st)
{
	struct wbxml_xml_error err;
	uint32_t limit = 0;

	body_free();
	buf_init(&body, 1u << 22);
	assert_int_equal(
	    wbxml_xml_encode((const uint8_t *)xml, strlen(xml), &body, &err),
	    0);
	return sync_req_decode(body.data, body.len, version, 60, 3540, r, st,
			       &limit);
}

static const char add_doc[] =
    "<Sync " NS "><Collections><Collection><SyncKey>3</SyncKey>"
    "<CollectionId>5</CollectionId><Commands><Add><ClientId>d1</ClientId>"
    "<ApplicationData><email:To>bob@example.com</email:To><email:Cc/>"
    "<email2:Bcc>carol@example.net</email2:Bcc>"
    "<email:Subject>Draft</email:Subject>"
    "<email:Importance>2</email:Importance><airsyncbase:Body>"
    "<airsyncbase:Type>2</airsyncbase:Type>"
    "<airsyncbase:Data>&lt;p&gt;hi&lt;/p&gt;</airsyncbase:Data>"
    "</airsyncbase:Body><airsyncbase:Attachments><airsyncbase:Add>"
    "<airsyncbase:ClientId>a1</airsyncbase:ClientId>"
    "<airsyncbase:DisplayName>a.txt</airsyncbase:DisplayName>"
    "<airsyncbase:Content>bytes</airsyncbase:Content>"
    "<airsyncbase:ContentType>text/plain</airsyncbase:ContentType>"
    "<airsyncbase:Method>1</airsyncbase:Method>"
    "<airsyncbase:IsInline>1</airsyncbase:IsInline></airsyncbase:Add>"
    "</airsyncbase:Attachments></ApplicationData></Add></Commands>"
    "</Collection></Collections></Sync>";

static void
test_add(void **state)
{
	struct sync_request *r = NULL;
	enum sync_status st;
	const struct sync_draft *d;

	(void)state;
	assert_int_equal(decode_xml(add_doc, 161, &r, &st), 0);
	assert_int_equal(r->collections[0].n_commands, 1);
	d = &r->collections[0].commands[0].draft;
	assert_true(d->present);
	assert_false(d->send);
	assert_string_equal(d->to, "bob@example.com");
	assert_string_equal(d->cc, ""); /* empty: clears */
	assert_string_equal(d->bcc, "carol@example.net");
	assert_string_equal(d->subject, "Draft");
	assert_int_equal(d->importance, 2);
	assert_true(d->has_body);
	assert_int_equal(d->body_type, 2);
	assert_int_equal(d->body_len, strlen("<p>hi</p>"));
	assert_memory_equal(d->body, "<p>hi</p>", d->body_len);
	assert_int_equal(d->n_add, 1);
	assert_string_equal(d->add[0].client_id, "a1");
	assert_string_equal(d->add[0].display_name, "a.txt");
	assert_string_equal(d->add[0].content_type, "text/plain");
	assert_null(d->add[0].content_id);
	assert_int_equal(d->add[0].content_len, 5);
	assert_memory_equal(d->add[0].content, "bytes", 5);
	assert_int_equal(d->add[0].method, 1);
	assert_true(d->add[0].is_inline);
	assert_int_equal(d->n_delete, 0);
	sync_req_free(&r);

	/* Before 16.0 an email Add is no draft (the CAS answers 6). */
	assert_int_equal(decode_xml(add_doc, 141, &r, &st), 0);
	assert_false(r->collections[0].commands[0].draft.present);
	assert_int_equal(r->collections[0].commands[0].draft.n_add, 0);
	sync_req_free(&r);
}

static void
test_change_send_delete(void **state)
{
	struct sync_request *r = NULL;
	enum sync_status st;
	const struct sync_command *c;

	(void)state;
	assert_int_equal(
	    decode_xml("<Sync " NS "><Collections><Collection><SyncKey>4"
		       "</SyncKey><CollectionId>5</CollectionId><Commands>"
		       "<Change><ServerId>7</ServerId><ApplicationData>"
		       "<airsyncbase:Attachments><airsyncbase:Delete>"
		       "<airsyncbase:FileReference>7:1</airsyncbase:"
		       "FileReference></airsyncbase:Delete></airsyncbase:"
		       "Attachments></ApplicationData></Change>"
		       "<Change><ServerId>8</ServerId><email2:Send/>"
		       "<ApplicationData/></Change>"
		       "<Change><ServerId>9</ServerId><ApplicationData>"
		       "<email:Read>1</email:Read></ApplicationData></Change>"
		       "</Commands></Collection></Collections></Sync>",
		       160, &r, &st),
	    0);
	assert_int_equal(r->collections[0].n_commands, 3);
	c = r->collections[0].commands;
	assert_true(c[0].draft.present);
	assert_false(c[0].draft.send);
	assert_null(c[0].draft.to); /* absent: unchanged */
	assert_null(c[0].draft.subject);
	assert_int_equal(c[0].draft.importance, -1);
	assert_false(c[0].draft.has_body);
	assert_int_equal(c[0].draft.n_delete, 1);
	assert_string_equal(c[0].draft.del[0], "7:1");
	assert_true(c[1].draft.present);
	assert_true(c[1].draft.send);
	/* A Read change is a flag change, not a draft. */
	assert_false(c[2].draft.present);
	assert_int_equal(c[2].email.read, 1);
	sync_req_free(&r);
}

static void
test_limits(void **state)
{
	struct sync_request *r = NULL;
	enum sync_status st;
	struct buf x;

	(void)state;
	buf_init(&x, 1u << 22);
	buf_append_str(&x, "<Sync " NS "><Collections><Collection><SyncKey>3"
			   "</SyncKey><CollectionId>5</CollectionId><Commands>"
			   "<Add><ClientId>d1</ClientId><ApplicationData>"
			   "<airsyncbase:Attachments>");
	for (int i = 0; i <= SYNC_MAX_DRAFT_ATTACHMENTS; i++)
		buf_printf(&x,
			   "<airsyncbase:Add><airsyncbase:ClientId>a%d"
			   "</airsyncbase:ClientId><airsyncbase:Content>x"
			   "</airsyncbase:Content></airsyncbase:Add>",
			   i);
	buf_append_str(&x, "</airsyncbase:Attachments></ApplicationData></Add>"
			   "</Commands></Collection></Collections></Sync>");
	assert_int_equal(decode_xml(buf_str(&x), 161, &r, &st), -1);
	assert_int_equal(st, SYNC_STATUS_PROTOCOL_ERROR);
	assert_null(r);
	buf_free(&x);
	/* An attachment Add without Content, a Body of type 4: Status 4. */
	assert_int_equal(
	    decode_xml("<Sync " NS "><Collections><Collection><SyncKey>3"
		       "</SyncKey><CollectionId>5</CollectionId><Commands>"
		       "<Add><ClientId>d1</ClientId><ApplicationData>"
		       "<airsyncbase:Attachments><airsyncbase:Add>"
		       "<airsyncbase:ClientId>a</airsyncbase:ClientId>"
		       "</airsyncbase:Add></airsyncbase:Attachments>"
		       "</ApplicationData></Add></Commands></Collection>"
		       "</Collections></Sync>",
		       161, &r, &st),
	    -1);
	assert_int_equal(st, SYNC_STATUS_PROTOCOL_ERROR);
	assert_int_equal(
	    decode_xml("<Sync " NS "><Collections><Collection><SyncKey>3"
		       "</SyncKey><CollectionId>5</CollectionId><Commands>"
		       "<Add><ClientId>d1</ClientId><ApplicationData>"
		       "<airsyncbase:Body><airsyncbase:Type>4</airsyncbase:"
		       "Type></airsyncbase:Body></ApplicationData></Add>"
		       "</Commands></Collection></Collections></Sync>",
		       161, &r, &st),
	    -1);
	assert_int_equal(st, SYNC_STATUS_PROTOCOL_ERROR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add),
	    cmocka_unit_test(test_change_send_delete),
	    cmocka_unit_test(test_limits),
	};

	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	body_free();
	return rc;
}
