/* Unit tests for the Email properties and MeetingRequest of
 * cas/email_wbxml.c, per protocol version (2.5, 12.1, 14.1, 16.1): each
 * RPC Email is encoded, decoded back with the WBXML tree API and checked
 * element by element, including the GlobalObjId blob (MS-ASEMAIL 2.2.2.37)
 * and the TIME_ZONE_INFORMATION blob, decoded from base64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cas/email_wbxml.h"
#include "proto/base64.h"
#include "proto/buf.h"
#include "proto/wbxml_tree.h"

struct out {
	struct buf buf;
	struct wbxml_tree *tree;
	const struct wbxml_node *app;
};

static void
encode(struct out *o, const Rpc__Email *m, unsigned version)
{
	struct email_wbxml_opts opts;
	struct wbxml_enc e;

	memset(&opts, 0, sizeof(opts));
	opts.version = version;
	opts.truncation_bytes = EMAIL_WBXML_NO_TRUNCATION;
	opts.mime_truncation_bytes = EMAIL_WBXML_NO_TRUNCATION;
	buf_init(&o->buf, 1u << 20);
	wbxml_enc_init_buf(&e, &o->buf);
	wbxml_enc_start(&e, EAS_AIRSYNC_APPLICATION_DATA);
	assert_int_equal(email_wbxml_encode(&e, m, &opts), 0);
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
str(const struct wbxml_node *n, uint16_t tag)
{
	const char *s;

	if (wbxml_child_str(n, tag, 1u << 20, &s, NULL, NULL) != 0)
		return NULL;
	return s;
}

static uint64_t
num(const struct wbxml_node *n, uint16_t tag)
{
	uint64_t v = 0;

	assert_int_equal(wbxml_child_uint(n, tag, 0, UINT64_MAX, &v, NULL), 0);
	return v;
}

/* base64 child -> bytes in out; returns the length. */
static size_t
b64(const struct wbxml_node *n, uint16_t tag, uint8_t *out, size_t cap)
{
	const char *s = str(n, tag);
	size_t len = 0;

	assert_non_null(s);
	assert_int_equal(
	    base64_decode((const uint8_t *)s, strlen(s), out, cap, &len), 0);
	return len;
}

static void
plain(Rpc__Email *m)
{
	rpc__email__init(m);
	m->to = "bob@example.org";
	m->from = "carol@example.org";
	m->subject = "Hi";
	m->date_received = 1795860000;
	m->importance = 2;
	m->message_class = "IPM.Note";
	m->content_class = "urn:content-classes:message";
	m->native_body_type = 1;
}

/* The elements of each version: MS-ASEMAIL 2.2.2 version tables. */
static void
test_props_per_version(void **state)
{
	static const unsigned versions[] = {25, 121, 141, 161};
	static uint8_t conv_id[16] = {1, 2, 3}, conv_index[22] = {4, 5};
	static char *cats[] = {"Red", "Blue"};
	Rpc__Email m;

	(void)state;
	plain(&m);
	m.conversation_id.data = conv_id;
	m.conversation_id.len = sizeof(conv_id);
	m.conversation_index.data = conv_index;
	m.conversation_index.len = sizeof(conv_index);
	m.categories = cats;
	m.n_categories = 2;
	m.last_verb_executed = 2;
	m.last_verb_time = 1795860100;
	m.received_as_bcc = true;
	m.is_draft = true;
	m.bcc = "dave@example.org";
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		unsigned v = versions[i];
		struct out o;

		encode(&o, &m, v);
		/* Always: Importance, MessageClass, InternetCPID 65001. */
		assert_int_equal(num(o.app, EAS_EMAIL_IMPORTANCE), 2);
		assert_string_equal(str(o.app, EAS_EMAIL_MESSAGE_CLASS),
				    "IPM.Note");
		assert_string_equal(str(o.app, EAS_EMAIL_INTERNET_CPID),
				    "65001");
		/* 12.0+: ContentClass, NativeBodyType, Flag. */
		assert_int_equal(
		    wbxml_child_present(o.app, EAS_EMAIL_CONTENT_CLASS),
		    v >= 120);
		assert_int_equal(wbxml_child_present(
				     o.app, EAS_AIRSYNCBASE_NATIVE_BODY_TYPE),
				 v >= 120);
		assert_int_equal(wbxml_child_present(o.app, EAS_EMAIL_FLAG),
				 v >= 120);
		/* 14.0+: conversation, categories, verbs, ReceivedAsBcc. */
		assert_int_equal(
		    wbxml_child_present(o.app, EAS_EMAIL2_CONVERSATION_ID),
		    v >= 140);
		assert_int_equal(
		    wbxml_child_present(o.app, EAS_EMAIL2_CONVERSATION_INDEX),
		    v >= 140);
		assert_int_equal(
		    wbxml_child_present(o.app, EAS_EMAIL_CATEGORIES), v >= 140);
		assert_int_equal(
		    wbxml_child_present(o.app, EAS_EMAIL2_LAST_VERB_EXECUTED),
		    v >= 140);
		assert_int_equal(
		    wbxml_child_present(o.app, EAS_EMAIL2_RECEIVED_AS_BCC),
		    v >= 140);
		/* 16.0+: IsDraft and a draft's Bcc. */
		assert_int_equal(
		    wbxml_child_present(o.app, EAS_EMAIL2_IS_DRAFT), v >= 160);
		assert_int_equal(wbxml_child_present(o.app, EAS_EMAIL2_BCC),
				 v >= 160);
		if (v >= 140) {
			assert_int_equal(
			    num(o.app, EAS_EMAIL2_LAST_VERB_EXECUTED), 2);
			assert_int_equal(num(o.app, EAS_EMAIL2_RECEIVED_AS_BCC),
					 1);
			assert_int_equal(
			    wbxml_node_count_children(
				wbxml_node_child(o.app, EAS_EMAIL_CATEGORIES),
				EAS_EMAIL_CATEGORY),
			    2);
		}
		if (v >= 160) {
			assert_int_equal(num(o.app, EAS_EMAIL2_IS_DRAFT), 1);
			assert_string_equal(str(o.app, EAS_EMAIL2_BCC),
					    "dave@example.org");
		}
		assert_false(
		    wbxml_child_present(o.app, EAS_EMAIL_MEETING_REQUEST));
		out_free(&o);
	}
}

/* Not a draft, not Bcc: IsDraft 0, no Bcc, no ReceivedAsBcc; the
 * default content class when the mailbox gave none.  A message that is
 * no draft but has a Bcc list (the Sent Items copy of a message the user
 * sent: the mailbox keeps no other) shows it. */
static void
test_defaults(void **state)
{
	Rpc__Email m;
	struct out o;

	(void)state;
	plain(&m);
	m.content_class = NULL;
	m.bcc = "";
	encode(&o, &m, 161);
	assert_int_equal(num(o.app, EAS_EMAIL2_IS_DRAFT), 0);
	assert_false(wbxml_child_present(o.app, EAS_EMAIL2_BCC));
	assert_false(wbxml_child_present(o.app, EAS_EMAIL2_RECEIVED_AS_BCC));
	assert_string_equal(str(o.app, EAS_EMAIL_CONTENT_CLASS),
			    "urn:content-classes:message");
	out_free(&o);
	m.bcc = "x@example.org";
	encode(&o, &m, 161);
	assert_int_equal(num(o.app, EAS_EMAIL2_IS_DRAFT), 0);
	assert_string_equal(str(o.app, EAS_EMAIL2_BCC), "x@example.org");
	out_free(&o);
	/* Before 16.0 there is no Email2 Bcc. */
	encode(&o, &m, 141);
	assert_false(wbxml_child_present(o.app, EAS_EMAIL2_BCC));
	out_free(&o);
}

static void
meeting(Rpc__Email *m, Rpc__MeetingInfo *mi, Rpc__MeetingRecurrence *rec,
	Rpc__MeetingRecurrence **recs)
{
	plain(m);
	m->message_class = "IPM.Schedule.Meeting.Request";
	m->content_class = "urn:content-classes:calendarmessage";
	rpc__meeting_info__init(mi);
	rpc__meeting_recurrence__init(rec);
	mi->method = 1;
	mi->uid = "abc-123";
	mi->start_time = 1796115600; /* 2026-12-01T09:00:00Z */
	mi->end_time = 1796119200;
	mi->dt_stamp = 1795680000;
	mi->location = "Room 1";
	mi->organizer = "bob@example.com";
	mi->reminder_mins = 15;
	mi->response_requested = true;
	mi->busy_status = 2;
	mi->sensitivity = 2;
	mi->instance_type = 1;
	mi->meeting_message_type = 1;
	rec->type = 3;
	rec->interval = 2;
	rec->week_of_month = 5;
	rec->day_of_week = 2;
	rec->until = 1800000000;
	recs[0] = rec;
	mi->recurrences = recs;
	mi->n_recurrences = 1;
	m->meeting = mi;
}

/* MS-ASEMAIL 2.2.2.48 with a vCal UID, 14.1 and 16.1 forms. */
static void
test_meeting_request(void **state)
{
	Rpc__Email m;
	Rpc__MeetingInfo mi;
	Rpc__MeetingRecurrence rec, *recs[1];
	const struct wbxml_node *mr, *r;
	uint8_t blob[512];
	size_t len;
	struct out o;
	static const uint8_t head[16] = {0x04, 0x00, 0x00, 0x00, 0x82, 0x00,
					 0xE0, 0x00, 0x74, 0xC5, 0xB7, 0x10,
					 0x1A, 0x82, 0xE0, 0x08};

	(void)state;
	meeting(&m, &mi, &rec, recs);
	encode(&o, &m, 141);
	assert_string_equal(str(o.app, EAS_EMAIL_CONTENT_CLASS),
			    "urn:content-classes:calendarmessage");
	mr = wbxml_node_child(o.app, EAS_EMAIL_MEETING_REQUEST);
	assert_non_null(mr);
	assert_int_equal(num(mr, EAS_EMAIL_ALL_DAY_EVENT), 0);
	assert_string_equal(str(mr, EAS_EMAIL_START_TIME),
			    "2026-12-01T09:00:00.000Z");
	assert_string_equal(str(mr, EAS_EMAIL_END_TIME),
			    "2026-12-01T10:00:00.000Z");
	assert_non_null(str(mr, EAS_EMAIL_DT_STAMP));
	assert_int_equal(num(mr, EAS_EMAIL_INSTANCE_TYPE), 1);
	assert_string_equal(str(mr, EAS_EMAIL_LOCATION), "Room 1");
	assert_false(wbxml_child_present(mr, EAS_AIRSYNCBASE_LOCATION));
	assert_string_equal(str(mr, EAS_EMAIL_ORGANIZER), "bob@example.com");
	assert_int_equal(num(mr, EAS_EMAIL_REMINDER), 900); /* seconds */
	assert_int_equal(num(mr, EAS_EMAIL_RESPONSE_REQUESTED), 1);
	assert_int_equal(num(mr, EAS_EMAIL_SENSITIVITY), 2);
	assert_int_equal(num(mr, EAS_EMAIL_BUSY_STATUS), 2);
	assert_int_equal(num(mr, EAS_EMAIL2_MEETING_MESSAGE_TYPE), 1);
	assert_false(wbxml_child_present(mr, EAS_EMAIL_RECURRENCE_ID));
	r = wbxml_node_path(
	    mr, (const uint16_t[]){EAS_EMAIL_RECURRENCES, EAS_EMAIL_RECURRENCE},
	    2);
	assert_non_null(r);
	assert_int_equal(num(r, EAS_EMAIL_TYPE), 3);
	assert_int_equal(num(r, EAS_EMAIL_INTERVAL), 2);
	assert_int_equal(num(r, EAS_EMAIL_WEEK_OF_MONTH), 5);
	assert_int_equal(num(r, EAS_EMAIL_DAY_OF_WEEK), 2);
	assert_non_null(str(r, EAS_EMAIL_UNTIL));
	assert_false(wbxml_child_present(r, EAS_EMAIL_OCCURRENCES));
	/* No zone from the mailbox: the all-zero (UTC) structure. */
	len = b64(mr, EAS_EMAIL_TIME_ZONE, blob, sizeof(blob));
	assert_int_equal(len, 172);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(blob[i], 0);
	/* GlobalObjId: class id, zeros, size, "vCal-Uid", 1, UID, NUL. */
	len = b64(mr, EAS_EMAIL_GLOBAL_OBJ_ID, blob, sizeof(blob));
	assert_int_equal(len, 40 + 12 + 7 + 1);
	assert_memory_equal(blob, head, 16);
	for (size_t i = 16; i < 36; i++)
		assert_int_equal(blob[i], 0);
	assert_int_equal(blob[36], 12 + 7 + 1);
	assert_memory_equal(blob + 40, "vCal-Uid\x01\0\0\0abc-123\0", 20);
	out_free(&o);

	/* 16.1: airsyncbase:Location; a COUNTER's proposed times. */
	mi.proposed_start = 1796119200;
	mi.proposed_end = 1796122800;
	encode(&o, &m, 161);
	mr = wbxml_node_child(o.app, EAS_EMAIL_MEETING_REQUEST);
	assert_false(wbxml_child_present(mr, EAS_EMAIL_LOCATION));
	assert_string_equal(str(wbxml_node_child(mr, EAS_AIRSYNCBASE_LOCATION),
				EAS_AIRSYNCBASE_DISPLAY_NAME),
			    "Room 1");
	assert_string_equal(str(mr, EAS_MEETINGRESPONSE_PROPOSED_START_TIME),
			    "2026-12-01T10:00:00.000Z");
	assert_string_equal(str(mr, EAS_MEETINGRESPONSE_PROPOSED_END_TIME),
			    "2026-12-01T11:00:00.000Z");
	out_free(&o);

	/* 2.5 and 12.1: no Email2 MeetingMessageType. */
	encode(&o, &m, 121);
	mr = wbxml_node_child(o.app, EAS_EMAIL_MEETING_REQUEST);
	assert_non_null(mr);
	assert_false(wbxml_child_present(mr, EAS_EMAIL2_MEETING_MESSAGE_TYPE));
	assert_false(
	    wbxml_child_present(mr, EAS_MEETINGRESPONSE_PROPOSED_START_TIME));
	out_free(&o);
}

/* An Outlook UID is the GlobalObjId in hex; an exception names its
 * instance date in bytes 16-19; a zone blob is passed through. */
static void
test_outlook_uid_exception(void **state)
{
	Rpc__Email m;
	Rpc__MeetingInfo mi;
	Rpc__MeetingRecurrence rec, *recs[1];
	const struct wbxml_node *mr;
	uint8_t blob[512], tz[172];
	size_t len;
	struct out o;

	(void)state;
	meeting(&m, &mi, &rec, recs);
	mi.uid = "040000008200E00074C5B7101A82E00800000000E040C9C12685C4010000"
		 "000000000000100000000BF0ED4B6E4EE94E9E39E3867B378EF3";
	mi.recurrence_id = 1796115600; /* 2026-12-01T09:00Z */
	mi.instance_type = 3;
	mi.n_recurrences = 0;
	for (size_t i = 0; i < sizeof(tz); i++)
		tz[i] = (uint8_t)i;
	mi.time_zone.data = tz;
	mi.time_zone.len = sizeof(tz);
	encode(&o, &m, 141);
	mr = wbxml_node_child(o.app, EAS_EMAIL_MEETING_REQUEST);
	assert_int_equal(num(mr, EAS_EMAIL_INSTANCE_TYPE), 3);
	assert_string_equal(str(mr, EAS_EMAIL_RECURRENCE_ID),
			    "2026-12-01T09:00:00.000Z");
	assert_false(wbxml_child_present(mr, EAS_EMAIL_RECURRENCES));
	len = b64(mr, EAS_EMAIL_GLOBAL_OBJ_ID, blob, sizeof(blob));
	assert_int_equal(len, 56);
	assert_int_equal(blob[16], 0x07); /* 2026 = 0x07EA */
	assert_int_equal(blob[17], 0xEA);
	assert_int_equal(blob[18], 12);
	assert_int_equal(blob[19], 1);
	assert_int_equal(blob[20], 0xE0); /* the rest as it was */
	assert_int_equal(blob[55], 0xF3);
	len = b64(mr, EAS_EMAIL_TIME_ZONE, blob, sizeof(blob));
	assert_int_equal(len, sizeof(tz));
	assert_memory_equal(blob, tz, sizeof(tz));
	out_free(&o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_props_per_version),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_meeting_request),
	    cmocka_unit_test(test_outlook_uid_exception),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
