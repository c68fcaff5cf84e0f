/* Unit tests for cas/email_wbxml.c: an RPC Email encoded per protocol
 * version and body preference, decoded back with the WBXML tree API and
 * checked element by element (Gmail's HTML 200000, iOS's small previews,
 * AllOrNone, UTF-8-safe truncation, the 2.5 forms, attachments, MIME). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cas/email_wbxml.h"
#include "proto/buf.h"
#include "proto/wbxml_tree.h"

struct out {
	struct buf buf;
	struct wbxml_tree *tree;
	const struct wbxml_node *app;
};

static void
encode(struct out *o, const Rpc__Email *m, const struct email_wbxml_opts *opts)
{
	struct wbxml_enc e;

	buf_init(&o->buf, 1u << 22);
	wbxml_enc_init_buf(&e, &o->buf);
	wbxml_enc_start(&e, EAS_AIRSYNC_APPLICATION_DATA);
	assert_int_equal(email_wbxml_encode(&e, m, opts), 0);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(
	    wbxml_tree_parse(o->buf.data, o->buf.len, &o->tree, NULL, NULL), 0);
	o->app = wbxml_tree_root(o->tree);
}

static void
out_free(struct out *o)
{
	wbxml_tree_free(&o->tree);
	buf_free(&o->buf);
}

static const char *
child_str(const struct wbxml_node *n, uint16_t tag)
{
	const char *s;

	if (wbxml_child_str(n, tag, 1u << 22, &s, NULL, NULL) != 0)
		return NULL;
	return s;
}

static uint64_t
child_uint(const struct wbxml_node *n, uint16_t tag)
{
	uint64_t v = 0;

	assert_int_equal(wbxml_child_uint(n, tag, 0, UINT64_MAX, &v, NULL), 0);
	return v;
}

static void
sample(Rpc__Email *m, Rpc__Body *b, const char *data, uint32_t type)
{
	rpc__email__init(m);
	rpc__body__init(b);
	m->to = "\"Bob\" <bob@example.org>";
	m->from = "alice@example.org";
	m->subject = "Hello";
	m->date_received = 1795860000;
	m->display_to = "Bob";
	m->importance = 1;
	m->read = true;
	m->message_class = "IPM.Note";
	m->native_body_type = 2;
	b->type = type;
	b->data.data = (uint8_t *)(uintptr_t)data;
	b->data.len = strlen(data);
	b->preview = "A preview of the message body";
	m->body = b;
}

static void
test_gmail_html_full(void **state)
{
	Rpc__Email m;
	Rpc__Body b;
	struct sync_body_pref pref = {.type = 2, .truncation_size = 200000};
	struct email_wbxml_opts opts = {
	    .version = 141, .prefs = &pref, .n_prefs = 1};
	static char *cats[] = {"Red", "Blue"};
	static uint8_t conv[] = {1, 2, 0, 4};
	const struct wbxml_node *body, *n;
	struct out o;

	(void)state;
	sample(&m, &b, "<html><body>Hi</body></html>", 2);
	m.categories = cats;
	m.n_categories = 2;
	m.conversation_id.data = conv;
	m.conversation_id.len = sizeof(conv);
	encode(&o, &m, &opts);
	assert_string_equal(child_str(o.app, EAS_EMAIL_SUBJECT), "Hello");
	assert_string_equal(child_str(o.app, EAS_EMAIL_DATE_RECEIVED),
			    "2026-11-28T10:00:00.000Z");
	assert_int_equal(child_uint(o.app, EAS_EMAIL_IMPORTANCE), 1);
	assert_int_equal(child_uint(o.app, EAS_EMAIL_READ), 1);
	assert_string_equal(child_str(o.app, EAS_EMAIL_MESSAGE_CLASS),
			    "IPM.Note");
	assert_string_equal(child_str(o.app, EAS_EMAIL_CONTENT_CLASS),
			    "urn:content-classes:message");
	assert_int_equal(child_uint(o.app, EAS_AIRSYNCBASE_NATIVE_BODY_TYPE),
			 2);
	body = wbxml_node_child(o.app, EAS_AIRSYNCBASE_BODY);
	assert_non_null(body);
	assert_int_equal(child_uint(body, EAS_AIRSYNCBASE_TYPE), 2);
	assert_int_equal(child_uint(body, EAS_AIRSYNCBASE_ESTIMATED_DATA_SIZE),
			 strlen("<html><body>Hi</body></html>"));
	assert_false(wbxml_child_present(body, EAS_AIRSYNCBASE_TRUNCATED));
	assert_string_equal(child_str(body, EAS_AIRSYNCBASE_DATA),
			    "<html><body>Hi</body></html>");
	/* No Preview unless asked. */
	assert_false(wbxml_child_present(body, EAS_AIRSYNCBASE_PREVIEW));
	n = wbxml_node_child(o.app, EAS_EMAIL_CATEGORIES);
	assert_non_null(n);
	assert_int_equal(wbxml_node_count_children(n, EAS_EMAIL_CATEGORY), 2);
	n = wbxml_node_child(o.app, EAS_EMAIL2_CONVERSATION_ID);
	assert_non_null(n);
	assert_int_equal(n->len, sizeof(conv));
	assert_memory_equal(n->data, conv, sizeof(conv));
	/* Flag cleared: empty element; 14.1 has no IsDraft. */
	n = wbxml_node_child(o.app, EAS_EMAIL_FLAG);
	assert_non_null(n);
	assert_true(wbxml_node_is_empty(n));
	assert_false(wbxml_child_present(o.app, EAS_EMAIL2_IS_DRAFT));
	out_free(&o);
}

static void
test_truncation_utf8_and_preview(void **state)
{
	Rpc__Email m;
	Rpc__Body b;
	/* "caf\xc3\xa9 ..." : a cut at 4 would split the e-acute. */
	struct sync_body_pref pref = {
	    .type = 1, .truncation_size = 4, .preview = 9};
	struct email_wbxml_opts opts = {
	    .version = 161, .prefs = &pref, .n_prefs = 1};
	const struct wbxml_node *body;
	struct out o;

	(void)state;
	sample(&m, &b, "caf\xc3\xa9 au lait", 1);
	encode(&o, &m, &opts);
	body = wbxml_node_child(o.app, EAS_AIRSYNCBASE_BODY);
	assert_int_equal(child_uint(body, EAS_AIRSYNCBASE_TRUNCATED), 1);
	assert_string_equal(child_str(body, EAS_AIRSYNCBASE_DATA), "caf");
	assert_int_equal(child_uint(body, EAS_AIRSYNCBASE_ESTIMATED_DATA_SIZE),
			 strlen("caf\xc3\xa9 au lait"));
	/* iOS: Preview cut to what was asked. */
	assert_string_equal(child_str(body, EAS_AIRSYNCBASE_PREVIEW),
			    "A preview");
	/* 16.x: IsDraft is sent. */
	assert_int_equal(child_uint(o.app, EAS_EMAIL2_IS_DRAFT), 0);
	out_free(&o);

	/* 12.1 knows no Preview. */
	opts.version = 121;
	encode(&o, &m, &opts);
	body = wbxml_node_child(o.app, EAS_AIRSYNCBASE_BODY);
	assert_false(wbxml_child_present(body, EAS_AIRSYNCBASE_PREVIEW));
	assert_false(wbxml_child_present(o.app, EAS_EMAIL_CATEGORIES));
	out_free(&o);
}

static void
test_all_or_none(void **state)
{
	Rpc__Email m;
	Rpc__Body b;
	struct sync_body_pref pref = {
	    .type = 2, .truncation_size = 10, .all_or_none = true};
	struct email_wbxml_opts opts = {
	    .version = 140, .prefs = &pref, .n_prefs = 1};
	const struct wbxml_node *body;
	struct out o;

	(void)state;
	sample(&m, &b, "<p>longer than ten bytes</p>", 2);
	encode(&o, &m, &opts);
	body = wbxml_node_child(o.app, EAS_AIRSYNCBASE_BODY);
	/* MS-ASAIRS 2.2.2.3: too large with AllOrNone -> no Data. */
	assert_int_equal(child_uint(body, EAS_AIRSYNCBASE_TRUNCATED), 1);
	assert_false(wbxml_child_present(body, EAS_AIRSYNCBASE_DATA));
	out_free(&o);
	/* Fits: sent whole, not truncated. */
	pref.truncation_size = 1000;
	encode(&o, &m, &opts);
	body = wbxml_node_child(o.app, EAS_AIRSYNCBASE_BODY);
	assert_false(wbxml_child_present(body, EAS_AIRSYNCBASE_TRUNCATED));
	assert_string_equal(child_str(body, EAS_AIRSYNCBASE_DATA),
			    "<p>longer than ten bytes</p>");
	out_free(&o);
}

static void
test_importance_always(void **state)
{
	Rpc__Email m;
	struct email_wbxml_opts opts = {.version = 25};
	struct out o;
	static const unsigned versions[] = {25, 120, 121, 140, 141, 160, 161};

	(void)state;
	rpc__email__init(&m);
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		opts.version = versions[i];
		encode(&o, &m, &opts);
		assert_int_equal(child_uint(o.app, EAS_EMAIL_IMPORTANCE), 0);
		assert_string_equal(child_str(o.app, EAS_EMAIL_MESSAGE_CLASS),
				    "IPM.Note");
		out_free(&o);
	}
}

static void
test_v25_forms(void **state)
{
	Rpc__Email m;
	Rpc__Body b;
	Rpc__Attachment a, *atts[1] = {&a};
	struct email_wbxml_opts opts = {
	    .version = 25, .truncation_bytes = email_wbxml_truncation_bytes(1)};
	const struct wbxml_node *n;
	char big[2000];
	struct out o;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sample(&m, &b, big, 1);
	rpc__attachment__init(&a);
	a.file_reference = "5:1:0";
	a.display_name = "report.pdf";
	a.size = 12345;
	a.method = 1;
	m.attachments = atts;
	m.n_attachments = 1;
	encode(&o, &m, &opts);
	/* 2.5: Email-page body, cut to the Truncation code's 512 bytes. */
	assert_false(wbxml_child_present(o.app, EAS_AIRSYNCBASE_BODY));
	assert_int_equal(strlen(child_str(o.app, EAS_EMAIL_BODY)), 512);
	assert_int_equal(child_uint(o.app, EAS_EMAIL_BODY_TRUNCATED), 1);
	assert_int_equal(child_uint(o.app, EAS_EMAIL_BODY_SIZE),
			 sizeof(big) - 1);
	n = wbxml_node_child(o.app, EAS_EMAIL_ATTACHMENTS);
	assert_non_null(n);
	n = wbxml_node_child(n, EAS_EMAIL_ATTACHMENT);
	assert_string_equal(child_str(n, EAS_EMAIL_ATT_NAME), "5:1:0");
	assert_string_equal(child_str(n, EAS_EMAIL_DISPLAY_NAME), "report.pdf");
	assert_int_equal(child_uint(n, EAS_EMAIL_ATT_SIZE), 12345);
	assert_false(wbxml_child_present(o.app, EAS_EMAIL_FLAG));
	assert_false(wbxml_child_present(o.app, EAS_EMAIL_CONTENT_CLASS));
	out_free(&o);
}

static void
test_attachments(void **state)
{
	Rpc__Email m;
	Rpc__Attachment a, e, *atts[2] = {&a, &e};
	struct email_wbxml_opts opts = {.version = 161};
	const struct wbxml_node *n, *att;
	struct out o;

	(void)state;
	rpc__email__init(&m);
	rpc__attachment__init(&a);
	rpc__attachment__init(&e);
	a.file_reference = "5:1:1";
	a.display_name = "logo.png";
	a.size = 2048;
	a.method = 1;
	a.content_id = "logo@x";
	a.is_inline = true;
	e.file_reference = "5:1:2";
	e.display_name = "Forwarded";
	e.size = 999;
	e.method = 5;
	m.attachments = atts;
	m.n_attachments = 2;
	encode(&o, &m, &opts);
	n = wbxml_node_child(o.app, EAS_AIRSYNCBASE_ATTACHMENTS);
	assert_non_null(n);
	assert_int_equal(
	    wbxml_node_count_children(n, EAS_AIRSYNCBASE_ATTACHMENT), 2);
	att = wbxml_node_child(n, EAS_AIRSYNCBASE_ATTACHMENT);
	assert_string_equal(child_str(att, EAS_AIRSYNCBASE_FILE_REFERENCE),
			    "5:1:1");
	assert_string_equal(child_str(att, EAS_AIRSYNCBASE_DISPLAY_NAME),
			    "logo.png");
	assert_string_equal(child_str(att, EAS_AIRSYNCBASE_CONTENT_ID),
			    "logo@x");
	assert_int_equal(child_uint(att, EAS_AIRSYNCBASE_IS_INLINE), 1);
	assert_int_equal(child_uint(att, EAS_AIRSYNCBASE_ESTIMATED_DATA_SIZE),
			 2048);
	/* An embedded message is named .eml. */
	att = wbxml_node_next_same(att);
	assert_string_equal(child_str(att, EAS_AIRSYNCBASE_DISPLAY_NAME),
			    "Forwarded.eml");
	assert_int_equal(child_uint(att, EAS_AIRSYNCBASE_METHOD), 5);
	out_free(&o);
}

static void
test_mime_and_flag(void **state)
{
	Rpc__Email m;
	Rpc__Body b;
	Rpc__EmailFlag f;
	static const uint8_t mime[] = "MIME-Version: 1.0\r\n\r\nbin\0ary";
	struct email_wbxml_opts opts = {.version = 121,
					.mime_truncation_bytes =
					    EMAIL_WBXML_NO_TRUNCATION,
					.is_change = true};
	const struct wbxml_node *body, *n;
	struct out o;

	(void)state;
	sample(&m, &b, "", 4);
	b.data.data = (uint8_t *)(uintptr_t)mime;
	b.data.len = sizeof(mime) - 1;
	rpc__email_flag__init(&f);
	f.status = 2;
	f.due_date = 1795860000;
	m.flag = &f;
	encode(&o, &m, &opts);
	body = wbxml_node_child(o.app, EAS_AIRSYNCBASE_BODY);
	assert_int_equal(child_uint(body, EAS_AIRSYNCBASE_TYPE), 4);
	n = wbxml_node_child(body, EAS_AIRSYNCBASE_DATA);
	/* Binary MIME goes as OPAQUE, byte for byte. */
	assert_true(n->has_opaque);
	assert_int_equal(n->len, sizeof(mime) - 1);
	assert_memory_equal(n->data, mime, sizeof(mime) - 1);
	n = wbxml_node_child(o.app, EAS_EMAIL_FLAG);
	assert_int_equal(child_uint(n, EAS_EMAIL_FLAG_STATUS), 2);
	assert_string_equal(child_str(n, EAS_EMAIL_FLAG_TYPE), "Follow up");
	assert_string_equal(child_str(n, EAS_TASKS_UTC_DUE_DATE),
			    "2026-11-28T10:00:00.000Z");
	out_free(&o);

	/* MIMESupport (MS-ASCMD 2.2.3.108). */
	assert_false(email_wbxml_wants_mime(0, "IPM.Note.SMIME"));
	assert_true(
	    email_wbxml_wants_mime(1, "IPM.Note.SMIME.MultipartSigned"));
	assert_false(email_wbxml_wants_mime(1, "IPM.Note"));
	assert_true(email_wbxml_wants_mime(2, "IPM.Note"));
	assert_int_equal(email_wbxml_mime_truncation_bytes(1), 4096);
	assert_int_equal(email_wbxml_mime_truncation_bytes(8),
			 EMAIL_WBXML_NO_TRUNCATION);
	assert_int_equal(email_wbxml_truncation_bytes(9),
			 EMAIL_WBXML_NO_TRUNCATION);
}

static void
test_utf8_cut(void **state)
{
	const uint8_t s[] = "a\xe2\x82\xac"; /* a + euro sign */

	(void)state;
	assert_int_equal(email_wbxml_utf8_cut(s, 4, 10), 4);
	assert_int_equal(email_wbxml_utf8_cut(s, 4, 3), 1);
	assert_int_equal(email_wbxml_utf8_cut(s, 4, 2), 1);
	assert_int_equal(email_wbxml_utf8_cut(s, 4, 1), 1);
	assert_int_equal(email_wbxml_utf8_cut(s, 4, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gmail_html_full),
	    cmocka_unit_test(test_truncation_utf8_and_preview),
	    cmocka_unit_test(test_all_or_none),
	    cmocka_unit_test(test_importance_always),
	    cmocka_unit_test(test_v25_forms),
	    cmocka_unit_test(test_attachments),
	    cmocka_unit_test(test_mime_and_flag),
	    cmocka_unit_test(test_utf8_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
