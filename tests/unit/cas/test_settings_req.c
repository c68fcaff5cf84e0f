/* Unit tests for cas/settings_req.c: every operation of a Settings
 * request, the whole-request refusals (Status 2), the per-operation
 * statuses (2, 5, 6), the bounds, and the response pieces (Oof Get with
 * body conversion, UserInformation before and from 14.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas/settings_req.h"
#include "proto/buf.h"
#include "proto/wbxml.h"
#include "proto/wbxml_tree.h"

struct doc {
	struct buf buf;
	struct wbxml_enc e;
};

static void
doc_init(struct doc *d)
{
	buf_init(&d->buf, 1u << 20);
	wbxml_enc_init_buf(&d->e, &d->buf);
	wbxml_enc_start(&d->e, EAS_SETTINGS_SETTINGS);
}

/* Close <Settings> and decode; the return of settings_req_decode. */
static int
doc_decode(struct doc *d, struct settings_request *r)
{
	int rc;

	assert_int_equal(wbxml_enc_end(&d->e), 0);
	assert_int_equal(wbxml_enc_finish(&d->e), 0);
	rc = settings_req_decode(d->buf.data, d->buf.len, r);
	buf_free(&d->buf);
	return rc;
}

static void
oof_message(struct wbxml_enc *e, uint16_t audience, int enabled,
	    const char *reply, const char *body_type)
{
	wbxml_enc_start(e, EAS_SETTINGS_OOF_MESSAGE);
	wbxml_enc_empty(e, audience);
	if (enabled >= 0)
		wbxml_enc_uint(e, EAS_SETTINGS_ENABLED, (uint64_t)enabled);
	if (reply != NULL)
		wbxml_enc_str(e, EAS_SETTINGS_REPLY_MESSAGE, reply);
	if (body_type != NULL)
		wbxml_enc_str(e, EAS_SETTINGS_BODY_TYPE, body_type);
	wbxml_enc_end(e);
}

static void
test_all_operations(void **state)
{
	struct doc d;
	struct wbxml_enc *e = &d.e;
	struct settings_request r;
	const struct settings_op *op;

	(void)state;
	doc_init(&d);
	wbxml_enc_start(e, EAS_SETTINGS_RIGHTS_MANAGEMENT_INFORMATION);
	wbxml_enc_empty(e, EAS_SETTINGS_GET);
	wbxml_enc_end(e);
	wbxml_enc_start(e, EAS_SETTINGS_OOF);
	wbxml_enc_start(e, EAS_SETTINGS_SET);
	wbxml_enc_uint(e, EAS_SETTINGS_OOF_STATE, 2);
	wbxml_enc_str(e, EAS_SETTINGS_START_TIME, "2026-12-01T08:00:00.000Z");
	wbxml_enc_str(e, EAS_SETTINGS_END_TIME, "2026-12-15T17:00:00.000Z");
	oof_message(e, EAS_SETTINGS_APPLIES_TO_INTERNAL, 1, "Away", "Text");
	oof_message(e, EAS_SETTINGS_APPLIES_TO_EXTERNAL_UNKNOWN, 1,
		    "<p>Away</p>", "HTML");
	wbxml_enc_end(e);
	wbxml_enc_end(e);
	wbxml_enc_start(e, EAS_SETTINGS_DEVICE_PASSWORD);
	wbxml_enc_start(e, EAS_SETTINGS_SET);
	wbxml_enc_str(e, EAS_SETTINGS_PASSWORD, "1234");
	wbxml_enc_end(e);
	wbxml_enc_end(e);
	wbxml_enc_start(e, EAS_SETTINGS_DEVICE_INFORMATION);
	wbxml_enc_start(e, EAS_SETTINGS_SET);
	wbxml_enc_str(e, EAS_SETTINGS_MODEL, "Pixel 8");
	wbxml_enc_str(e, EAS_SETTINGS_IMEI, "490154203237518");
	wbxml_enc_str(e, EAS_SETTINGS_FRIENDLY_NAME, "Work phone");
	wbxml_enc_str(e, EAS_SETTINGS_OS, "Android 14");
	wbxml_enc_str(e, EAS_SETTINGS_OS_LANGUAGE, "English");
	wbxml_enc_str(e, EAS_SETTINGS_PHONE_NUMBER, "+15551234567");
	wbxml_enc_str(e, EAS_SETTINGS_MOBILE_OPERATOR, "Operator");
	wbxml_enc_str(e, EAS_SETTINGS_USER_AGENT, "Android-Mail/2024");
	wbxml_enc_uint(e, EAS_SETTINGS_ENABLE_OUTBOUND_SMS, 1);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
	wbxml_enc_start(e, EAS_SETTINGS_USER_INFORMATION);
	wbxml_enc_empty(e, EAS_SETTINGS_GET);
	wbxml_enc_end(e);
	assert_int_equal(doc_decode(&d, &r), 0);
	assert_int_equal(r.n_ops, 5);

	assert_int_equal(r.ops[0].kind, SETTINGS_RIGHTS_MANAGEMENT);
	op = &r.ops[1];
	assert_int_equal(op->kind, SETTINGS_OOF_SET);
	assert_int_equal(op->status, SETTINGS_STATUS_SUCCESS);
	assert_true(op->oof.has_state);
	assert_int_equal(op->oof.state, 2);
	assert_true(op->oof.has_start && op->oof.has_end);
	assert_int_equal(op->oof.start_time, 1796112000); /* 2026-12-01 08Z */
	assert_int_equal(op->oof.end_time - op->oof.start_time,
			 14 * 86400 + 9 * 3600);
	assert_true(op->oof.msg[SETTINGS_AUDIENCE_INTERNAL].present);
	assert_true(op->oof.msg[SETTINGS_AUDIENCE_INTERNAL].enabled);
	assert_string_equal(op->oof.msg[SETTINGS_AUDIENCE_INTERNAL].reply,
			    "Away");
	assert_false(op->oof.msg[SETTINGS_AUDIENCE_INTERNAL].is_html);
	assert_false(op->oof.msg[SETTINGS_AUDIENCE_EXTERNAL_KNOWN].present);
	assert_true(op->oof.msg[SETTINGS_AUDIENCE_EXTERNAL_UNKNOWN].is_html);

	op = &r.ops[2];
	assert_int_equal(op->kind, SETTINGS_DEVICE_PASSWORD);
	assert_string_equal(op->password, "1234");
	op = &r.ops[3];
	assert_int_equal(op->kind, SETTINGS_DEVICE_INFORMATION);
	assert_string_equal(op->info.model, "Pixel 8");
	assert_string_equal(op->info.os_language, "English");
	assert_string_equal(op->info.mobile_operator, "Operator");
	assert_string_equal(op->info.user_agent, "Android-Mail/2024");
	assert_true(op->info.enable_outbound_sms);
	assert_int_equal(r.ops[4].kind, SETTINGS_USER_INFORMATION);
	settings_req_clear(&r);
	assert_null(r.tree);
}

static void
test_oof_get_body_type(void **state)
{
	static const struct {
		const char *type;
		bool html;
		enum settings_status st;
	} cases[] = {
	    {"HTML", true, SETTINGS_STATUS_SUCCESS},
	    {"html", true, SETTINGS_STATUS_SUCCESS},
	    {"Text", false, SETTINGS_STATUS_SUCCESS},
	    {NULL, false, SETTINGS_STATUS_SUCCESS},
	    {"RTF", false, SETTINGS_STATUS_PROTOCOL_ERROR},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct doc d;
		struct settings_request r;

		doc_init(&d);
		wbxml_enc_start(&d.e, EAS_SETTINGS_OOF);
		wbxml_enc_start(&d.e, EAS_SETTINGS_GET);
		if (cases[i].type != NULL)
			wbxml_enc_str(&d.e, EAS_SETTINGS_BODY_TYPE,
				      cases[i].type);
		wbxml_enc_end(&d.e);
		wbxml_enc_end(&d.e);
		assert_int_equal(doc_decode(&d, &r), 0);
		assert_int_equal(r.ops[0].kind, SETTINGS_OOF_GET);
		assert_int_equal(r.ops[0].status, cases[i].st);
		if (cases[i].st == SETTINGS_STATUS_SUCCESS)
			assert_int_equal(r.ops[0].get_html, cases[i].html);
		settings_req_clear(&r);
	}
}

/* Bodies that break the schema: refused whole. */
static void
test_refused_whole(void **state)
{
	struct settings_request r;
	struct doc d;
	static const uint8_t junk[] = {0x03, 0x01, 0x6a, 0x00, 0x45, 0x99};

	(void)state;
	/* empty, not WBXML, another root */
	assert_int_equal(settings_req_decode(NULL, 0, &r), -1);
	assert_int_equal(settings_req_decode(junk, sizeof(junk), &r), -1);
	buf_init(&d.buf, 4096);
	wbxml_enc_init_buf(&d.e, &d.buf);
	wbxml_enc_start(&d.e, EAS_PING_PING);
	assert_int_equal(doc_decode(&d, &r), -1);
	/* <Settings/> with no operation */
	doc_init(&d);
	assert_int_equal(doc_decode(&d, &r), -1);
	/* Oof twice (a Get and a Set count as one element kind) */
	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_SETTINGS_OOF);
	wbxml_enc_empty(&d.e, EAS_SETTINGS_GET);
	wbxml_enc_end(&d.e);
	wbxml_enc_start(&d.e, EAS_SETTINGS_OOF);
	wbxml_enc_start(&d.e, EAS_SETTINGS_SET);
	wbxml_enc_uint(&d.e, EAS_SETTINGS_OOF_STATE, 0);
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	assert_int_equal(doc_decode(&d, &r), -1);
	/* Get and Set together */
	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_SETTINGS_OOF);
	wbxml_enc_empty(&d.e, EAS_SETTINGS_GET);
	wbxml_enc_empty(&d.e, EAS_SETTINGS_SET);
	wbxml_enc_end(&d.e);
	assert_int_equal(doc_decode(&d, &r), -1);
	/* DeviceInformation has no Get; UserInformation no Set */
	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_SETTINGS_DEVICE_INFORMATION);
	wbxml_enc_empty(&d.e, EAS_SETTINGS_GET);
	wbxml_enc_end(&d.e);
	assert_int_equal(doc_decode(&d, &r), -1);
	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_SETTINGS_USER_INFORMATION);
	wbxml_enc_empty(&d.e, EAS_SETTINGS_SET);
	wbxml_enc_end(&d.e);
	assert_int_equal(doc_decode(&d, &r), -1);
	/* an element that is no operation */
	doc_init(&d);
	wbxml_enc_str(&d.e, EAS_SETTINGS_MODEL, "x");
	assert_int_equal(doc_decode(&d, &r), -1);
	/* more than SETTINGS_MAX_OPERATIONS children */
	doc_init(&d);
	for (int i = 0; i < SETTINGS_MAX_OPERATIONS + 1; i++) {
		wbxml_enc_start(&d.e,
				EAS_SETTINGS_RIGHTS_MANAGEMENT_INFORMATION);
		wbxml_enc_empty(&d.e, EAS_SETTINGS_GET);
		wbxml_enc_end(&d.e);
	}
	assert_int_equal(doc_decode(&d, &r), -1);
	assert_null(r.tree);
}

/* One Oof Set body with a customisable middle; the op's status. */
static enum settings_status
oof_set_status(void (*fill)(struct wbxml_enc *e))
{
	struct doc d;
	struct settings_request r;
	enum settings_status st;

	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_SETTINGS_OOF);
	wbxml_enc_start(&d.e, EAS_SETTINGS_SET);
	fill(&d.e);
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	assert_int_equal(doc_decode(&d, &r), 0);
	assert_int_equal(r.ops[0].kind, SETTINGS_OOF_SET);
	st = r.ops[0].status;
	settings_req_clear(&r);
	return st;
}

static void
fill_bad_state(struct wbxml_enc *e)
{
	wbxml_enc_uint(e, EAS_SETTINGS_OOF_STATE, 3);
}

static void
fill_bad_date(struct wbxml_enc *e)
{
	wbxml_enc_uint(e, EAS_SETTINGS_OOF_STATE, 2);
	wbxml_enc_str(e, EAS_SETTINGS_START_TIME, "next tuesday");
}

static void
fill_end_before_start(struct wbxml_enc *e)
{
	wbxml_enc_uint(e, EAS_SETTINGS_OOF_STATE, 2);
	wbxml_enc_str(e, EAS_SETTINGS_START_TIME, "2026-12-15T08:00:00.000Z");
	wbxml_enc_str(e, EAS_SETTINGS_END_TIME, "2026-12-01T08:00:00.000Z");
}

static void
fill_two_audiences(struct wbxml_enc *e)
{
	wbxml_enc_start(e, EAS_SETTINGS_OOF_MESSAGE);
	wbxml_enc_empty(e, EAS_SETTINGS_APPLIES_TO_INTERNAL);
	wbxml_enc_empty(e, EAS_SETTINGS_APPLIES_TO_EXTERNAL_KNOWN);
	wbxml_enc_end(e);
}

static void
fill_same_audience_twice(struct wbxml_enc *e)
{
	oof_message(e, EAS_SETTINGS_APPLIES_TO_INTERNAL, 1, "a", NULL);
	oof_message(e, EAS_SETTINGS_APPLIES_TO_INTERNAL, 1, "b", NULL);
}

static void
fill_long_reply(struct wbxml_enc *e)
{
	char *big = malloc(AUTOREPLY_MAX_MESSAGE_BYTES + 2);

	memset(big, 'x', AUTOREPLY_MAX_MESSAGE_BYTES + 1);
	big[AUTOREPLY_MAX_MESSAGE_BYTES + 1] = 0;
	oof_message(e, EAS_SETTINGS_APPLIES_TO_INTERNAL, 1, big, "Text");
	free(big);
}

static void
fill_bad_enabled(struct wbxml_enc *e)
{
	oof_message(e, EAS_SETTINGS_APPLIES_TO_INTERNAL, 7, "a", NULL);
}

static void
fill_state_only(struct wbxml_enc *e)
{
	wbxml_enc_uint(e, EAS_SETTINGS_OOF_STATE, 0);
}

static void
test_oof_set_statuses(void **state)
{
	(void)state;
	assert_int_equal(oof_set_status(fill_state_only),
			 SETTINGS_STATUS_SUCCESS);
	assert_int_equal(oof_set_status(fill_bad_state),
			 SETTINGS_STATUS_PROTOCOL_ERROR);
	assert_int_equal(oof_set_status(fill_bad_date),
			 SETTINGS_STATUS_PROTOCOL_ERROR);
	assert_int_equal(oof_set_status(fill_end_before_start),
			 SETTINGS_STATUS_CONFLICTING_ARGUMENTS);
	assert_int_equal(oof_set_status(fill_two_audiences),
			 SETTINGS_STATUS_PROTOCOL_ERROR);
	assert_int_equal(oof_set_status(fill_same_audience_twice),
			 SETTINGS_STATUS_PROTOCOL_ERROR);
	assert_int_equal(oof_set_status(fill_long_reply),
			 SETTINGS_STATUS_INVALID_ARGUMENTS);
	assert_int_equal(oof_set_status(fill_bad_enabled),
			 SETTINGS_STATUS_PROTOCOL_ERROR);
}

static void
test_device_password(void **state)
{
	struct doc d;
	struct settings_request r;
	char big[SETTINGS_MAX_PASSWORD_BYTES + 2];

	(void)state;
	/* no Password: protocol error for the operation */
	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_SETTINGS_DEVICE_PASSWORD);
	wbxml_enc_empty(&d.e, EAS_SETTINGS_SET);
	wbxml_enc_end(&d.e);
	assert_int_equal(doc_decode(&d, &r), 0);
	assert_int_equal(r.ops[0].status, SETTINGS_STATUS_PROTOCOL_ERROR);
	settings_req_clear(&r);
	/* over the bound: invalid arguments */
	memset(big, '9', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_SETTINGS_DEVICE_PASSWORD);
	wbxml_enc_start(&d.e, EAS_SETTINGS_SET);
	wbxml_enc_str(&d.e, EAS_SETTINGS_PASSWORD, big);
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	assert_int_equal(doc_decode(&d, &r), 0);
	assert_int_equal(r.ops[0].status, SETTINGS_STATUS_INVALID_ARGUMENTS);
	settings_req_clear(&r);
}

/* ---------------------------------------------------------- responses */

static struct wbxml_tree *
encode_and_parse(struct buf *b)
{
	struct wbxml_tree *t = NULL;

	assert_int_equal(wbxml_tree_parse(b->data, b->len, &t, NULL, NULL), 0);
	return t;
}

static void
test_oof_get_response(void **state)
{
	struct settings_oof_get o = {
	    .state = 2,
	    .start_time = 1796112000,
	    .end_time = 1796112000 + 86400,
	    .msg = {{true, "Back on <Monday>\nThanks", false},
		    {false, NULL, false},
		    {true, "<p>Out &amp; about</p>", true}},
	};
	struct buf b;
	struct wbxml_enc e;
	struct wbxml_tree *t;
	const struct wbxml_node *get, *m;
	const char *s;
	int i = 0;

	(void)state;
	buf_init(&b, 1u << 20);
	wbxml_enc_init_buf(&e, &b);
	assert_int_equal(
	    settings_resp_oof_get(&e, SETTINGS_STATUS_SUCCESS, &o, true), 0);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	t = encode_and_parse(&b);
	assert_int_equal(wbxml_node_tag(wbxml_tree_root(t)), EAS_SETTINGS_OOF);
	get = wbxml_node_child(wbxml_tree_root(t), EAS_SETTINGS_GET);
	assert_non_null(get);
	assert_int_equal(
	    wbxml_child_str(get, EAS_SETTINGS_START_TIME, 64, &s, NULL, NULL),
	    0);
	assert_string_equal(s, "2026-12-01T08:00:00.000Z");
	WBXML_FOREACH(m, get, EAS_SETTINGS_OOF_MESSAGE)
	{
		if (i == 0) {
			assert_true(wbxml_child_present(
			    m, EAS_SETTINGS_APPLIES_TO_INTERNAL));
			/* text converted to the HTML asked for */
			assert_int_equal(
			    wbxml_child_str(m, EAS_SETTINGS_REPLY_MESSAGE, 4096,
					    &s, NULL, NULL),
			    0);
			assert_string_equal(
			    s, "Back on &lt;Monday&gt;<br>\nThanks");
			assert_int_equal(wbxml_child_str(m,
							 EAS_SETTINGS_BODY_TYPE,
							 16, &s, NULL, NULL),
					 0);
			assert_string_equal(s, "HTML");
		} else if (i == 1) {
			assert_false(
			    wbxml_child_present(m, EAS_SETTINGS_REPLY_MESSAGE));
		}
		i++;
	}
	assert_int_equal(i, 3);
	wbxml_tree_free(&t);

	/* The HTML one asked for as text. */
	buf_reset(&b);
	wbxml_enc_init_buf(&e, &b);
	assert_int_equal(
	    settings_resp_oof_get(&e, SETTINGS_STATUS_SUCCESS, &o, false), 0);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	t = encode_and_parse(&b);
	get = wbxml_node_child(wbxml_tree_root(t), EAS_SETTINGS_GET);
	m = wbxml_node_child(get, EAS_SETTINGS_OOF_MESSAGE);
	m = wbxml_node_next_same(wbxml_node_next_same(m));
	assert_int_equal(wbxml_child_str(m, EAS_SETTINGS_REPLY_MESSAGE, 4096,
					 &s, NULL, NULL),
			 0);
	assert_string_equal(s, "Out & about\n");
	wbxml_tree_free(&t);
	buf_free(&b);
}

static void
test_user_info_versions(void **state)
{
	static const char *const addrs[] = {"alice@example.org",
					    "a.smith@example.org"};
	struct settings_user_info u = {"Alice Smith", addrs, 2};
	struct buf b;
	struct wbxml_enc e;
	struct wbxml_tree *t;
	const struct wbxml_node *get, *ea, *n;
	const char *s;
	size_t count;

	(void)state;
	buf_init(&b, 1u << 16);
	/* 14.0: SMTPAddress list directly under EmailAddresses */
	wbxml_enc_init_buf(&e, &b);
	assert_int_equal(
	    settings_resp_user_info(&e, SETTINGS_STATUS_SUCCESS, 140, &u), 0);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	t = encode_and_parse(&b);
	get = wbxml_node_child(wbxml_tree_root(t), EAS_SETTINGS_GET);
	ea = wbxml_node_child(get, EAS_SETTINGS_EMAIL_ADDRESSES);
	assert_non_null(ea);
	assert_null(wbxml_node_child(get, EAS_SETTINGS_ACCOUNTS));
	assert_int_equal(
	    wbxml_node_count_children(ea, EAS_SETTINGS_SMTP_ADDRESS), 2);
	assert_false(
	    wbxml_child_present(ea, EAS_SETTINGS_PRIMARY_SMTP_ADDRESS));
	wbxml_tree_free(&t);
	/* 16.1: Accounts/Account with the display name and primary */
	buf_reset(&b);
	wbxml_enc_init_buf(&e, &b);
	assert_int_equal(
	    settings_resp_user_info(&e, SETTINGS_STATUS_SUCCESS, 161, &u), 0);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	t = encode_and_parse(&b);
	get = wbxml_node_child(wbxml_tree_root(t), EAS_SETTINGS_GET);
	n = wbxml_node_child(wbxml_node_child(get, EAS_SETTINGS_ACCOUNTS),
			     EAS_SETTINGS_ACCOUNT);
	assert_non_null(n);
	assert_int_equal(wbxml_child_str(n, EAS_SETTINGS_USER_DISPLAY_NAME, 64,
					 &s, NULL, NULL),
			 0);
	assert_string_equal(s, "Alice Smith");
	ea = wbxml_node_child(n, EAS_SETTINGS_EMAIL_ADDRESSES);
	assert_int_equal(wbxml_child_str(ea, EAS_SETTINGS_PRIMARY_SMTP_ADDRESS,
					 64, &s, NULL, NULL),
			 0);
	assert_string_equal(s, "alice@example.org");
	count = wbxml_node_count_children(ea, EAS_SETTINGS_SMTP_ADDRESS);
	assert_int_equal(count, 2);
	assert_int_equal(
	    wbxml_child_str(ea, EAS_SETTINGS_SMTP_ADDRESS, 64, &s, NULL, NULL),
	    0);
	assert_string_equal(s, "alice@example.org");
	wbxml_tree_free(&t);
	buf_free(&b);
}

static void
test_conversions(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(settings_text_to_html("a & b\r\n\"c\" <d>", &b), 0);
	assert_string_equal(buf_str(&b),
			    "a &amp; b<br>\n&quot;c&quot; &lt;d&gt;");
	buf_reset(&b);
	assert_int_equal(settings_html_to_text("<html><body><p>Hi &lt;you&gt;"
					       "</p><div>x&nbsp;y</div>"
					       "<br/>z &unknown; <b",
					       &b),
			 0);
	assert_string_equal(buf_str(&b), "Hi <you>\nx y\n\nz &unknown; ");
	/* a bounded buffer refuses what does not fit */
	buf_free(&b);
	buf_init(&b, 8);
	assert_int_equal(settings_text_to_html("&&&&&&", &b), -1);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_operations),
	    cmocka_unit_test(test_oof_get_body_type),
	    cmocka_unit_test(test_refused_whole),
	    cmocka_unit_test(test_oof_set_statuses),
	    cmocka_unit_test(test_device_password),
	    cmocka_unit_test(test_oof_get_response),
	    cmocka_unit_test(test_user_info_versions),
	    cmocka_unit_test(test_conversions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
