/* Unit tests for meeting data and drafts in the store: an invitation
 * parsed by mime.c / ical.c keeps its MS-ASEMAIL 2.2.2.48 fields
 * (recurrence, reminder, sensitivity, busy status, RSVP, the zone as
 * TIME_ZONE_INFORMATION, a COUNTER's proposal) through
 * message_meeting_encode into a stored item and back, with ContentClass
 * and ReceivedAsBcc; a corrupt meeting blob is refused; a draft built by
 * draft_build is stored in Drafts with its Bcc and attachment and
 * replaced by a Change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/draft.h"
#include "mailbox/folders.h"
#include "mailbox/items.h"
#include "mailbox/message.h"
#include "mailbox/mime.h"
#include "mailbox/rpc_deliver.h"
#include "mailbox/store.h"

struct fixture {
	char dir[64];
	struct store *st;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct store_error err;

	if (fx == NULL)
		return -1;
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/easd-meet-XXXXXX");
	if (mkdtemp(fx->dir) == NULL ||
	    store_open(fx->dir, 1, &fx->st, &err) < 0) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	store_close(&fx->st);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	(void)system(cmd);
	free(fx);
	return 0;
}

static const char invite[] =
    "From: bob@example.com\r\nTo: team@example.org\r\n"
    "Subject: Planning\r\nMessage-ID: <inv@test>\r\nMIME-Version: 1.0\r\n"
    "Content-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n"
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:meeting-1@example.com\r\nSUMMARY:Planning\r\n"
    "DTSTART;TZID=America/New_York:20261201T100000\r\n"
    "DTEND;TZID=America/New_York:20261201T110000\r\n"
    "DTSTAMP:20261120T080000Z\r\nSEQUENCE:2\r\n"
    "RRULE:FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270601T000000Z\r\n"
    "CLASS:PRIVATE\r\nTRANSP:TRANSPARENT\r\n"
    "ORGANIZER:mailto:bob@example.com\r\n"
    "ATTENDEE;RSVP=TRUE:mailto:alice@example.org\r\n"
    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT30M\r\nEND:VALARM\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n";

static int32_t
le32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
			 (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void
test_meeting_kept(void **state)
{
	struct fixture *fx = *state;
	static const char *const addrs[] = {"alice@example.org"};
	struct store_delivery d;
	enum store_status status;
	struct item *it = NULL;
	struct message_meeting *m = NULL;
	const char *error;

	/* alice is in neither To nor Cc: ReceivedAsBcc. */
	assert_int_equal(mbox_message_store_rcpt(
			     fx->st, 0, (const uint8_t *)invite, strlen(invite),
			     1795860000, addrs, 1, &d, &status),
			 0);
	assert_int_equal(store_item_get(fx->st, d.item_id, 0, &it), 0);
	assert_true(it->props.received_as_bcc);
	assert_string_equal(it->props.message_class,
			    "IPM.Schedule.Meeting.Request");
	assert_string_equal(it->props.content_class,
			    "urn:content-classes:calendarmessage");
	assert_non_null(it->props.meeting);
	assert_int_equal(message_meeting_decode(it->props.meeting,
						it->props.meeting_len, &m,
						&error),
			 0);
	assert_int_equal(m->method, MESSAGE_METHOD_REQUEST);
	assert_string_equal(m->uid, "meeting-1@example.com");
	assert_int_equal(m->start, 1796137200); /* 15:00Z (EST -5) */
	assert_int_equal(m->sequence, 2);
	assert_int_equal(m->reminder_mins, 30);
	assert_int_equal(m->sensitivity, 2);
	assert_int_equal(m->busy_status, MESSAGE_BUSY_FREE);
	assert_true(m->response_requested);
	assert_true(m->recurrence.present);
	assert_int_equal(m->recurrence.type, MESSAGE_RECUR_MONTHLY_NTH);
	assert_int_equal(m->recurrence.week_of_month, 5);
	assert_int_equal(m->recurrence.day_of_week, 32); /* Friday */
	assert_int_equal(m->recurrence.until, 1811808000);
	assert_int_equal(m->recurrence.day_of_month, 0);
	/* New York: Bias 300, DST from the 2nd Sunday of March at 2:00,
	 * back on the 1st Sunday of November, DaylightBias -60. */
	assert_true(m->has_tz);
	assert_int_equal(le32(m->tz), 300);
	assert_int_equal(le16(m->tz + 68 + 2), 11);
	assert_int_equal(le16(m->tz + 68 + 4), 0);
	assert_int_equal(le16(m->tz + 68 + 6), 1);
	assert_int_equal(le16(m->tz + 68 + 8), 2);
	assert_int_equal(le16(m->tz + 152 + 2), 3);
	assert_int_equal(le16(m->tz + 152 + 6), 2);
	assert_int_equal(le32(m->tz + 168), -60);
	message_meeting_free(&m);
	item_free(&it);

	/* Named in To (case and "+detail" aside): not Bcc. */
	{
		static const char *const mine[] = {"Team+x@Example.org"};

		assert_int_equal(
		    mbox_message_store_rcpt(fx->st, 0, (const uint8_t *)invite,
					    strlen(invite), 1795860000, mine, 1,
					    &d, &status),
		    0);
		assert_int_equal(store_item_get(fx->st, d.item_id, 0, &it), 0);
		assert_false(it->props.received_as_bcc);
		item_free(&it);
	}
}

static void
test_blob_bounds(void **state)
{
	struct message_meeting *m = message_meeting_new(), *back = NULL;
	struct buf b;
	const char *error;

	(void)state;
	m->method = MESSAGE_METHOD_COUNTER;
	m->uid = strdup("u");
	m->proposed_start = 100;
	m->proposed_end = 200;
	m->has_tz = true;
	memset(m->tz, 7, sizeof(m->tz));
	buf_init(&b, 1u << 20);
	assert_int_equal(message_meeting_encode(m, &b), 0);
	assert_int_equal(message_meeting_decode(b.data, b.len, &back, &error),
			 0);
	assert_int_equal(back->method, MESSAGE_METHOD_COUNTER);
	assert_int_equal(back->proposed_end, 200);
	assert_int_equal(back->reminder_mins, -1);
	assert_memory_equal(back->tz, m->tz, sizeof(m->tz));
	message_meeting_free(&back);
	/* Every truncation is refused, never read past. */
	for (size_t n = 0; n < b.len; n++) {
		uint8_t *cut = malloc(n > 0 ? n : 1);

		memcpy(cut, b.data, n);
		assert_int_equal(message_meeting_decode(cut, n, &back, &error),
				 -1);
		assert_null(back);
		free(cut);
	}
	/* An out-of-range field (busy status) is refused. */
	b.data[b.len - 16 - 1 - 172 - 4 - 8 - 4 - 6 - 2] = 9;
	assert_int_equal(message_meeting_decode(b.data, b.len, &back, &error),
			 -1);
	buf_free(&b);
	message_meeting_free(&m);
}

/* A COUNTER (Outlook's "propose new time") carries the proposal. */
static void
test_counter(void **state)
{
	static const char counter[] =
	    "From: carol@example.com\r\nTo: alice@example.org\r\n"
	    "Subject: New time\r\nContent-Type: text/calendar; "
	    "method=COUNTER\r\n\r\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
	    "PRODID:-//t//EN\r\nMETHOD:COUNTER\r\nBEGIN:VEVENT\r\n"
	    "UID:m2\r\nDTSTART:20261201T120000Z\r\nDTEND:20261201T130000Z\r\n"
	    "DTSTAMP:20261120T080000Z\r\nATTENDEE;PARTSTAT=TENTATIVE:"
	    "mailto:carol@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
	struct message_summary *s = NULL;
	const char *error;

	(void)state;
	assert_int_equal(mime_parse((const uint8_t *)counter, strlen(counter),
				    0, &s, &error),
			 0);
	assert_non_null(s->meeting);
	assert_int_equal(s->meeting->method, MESSAGE_METHOD_COUNTER);
	assert_int_equal(s->meeting->proposed_start, 1796126400);
	assert_int_equal(s->meeting->proposed_end, 1796130000);
	assert_false(s->meeting->has_tz);
	assert_string_equal(s->message_class, "IPM.Schedule.Meeting.Resp.Tent");
	message_summary_free(&s);
}

static int
sink(void *ctx, const uint8_t *data, size_t len)
{
	return buf_append(ctx, data, len);
}

static void
test_draft_stored(void **state)
{
	struct fixture *fx = *state;
	struct draft_attachment att = {
	    .name = "note.txt",
	    .content_type = "text/plain",
	    .data = (const uint8_t *)"attached bytes",
	    .len = 14,
	};
	struct draft_spec spec = {
	    .from = "alice@example.org",
	    .to = "Bob <bob@example.com>",
	    .bcc = "carol@example.net",
	    .subject = "Draft \xc3\xa9t\xc3\xa9",
	    .importance = 2,
	    .body = "hello",
	    .body_len = 5,
	    .attachments = &att,
	    .n_attachments = 1,
	    .date = 1795860000,
	    .message_id_domain = "example.org",
	};
	struct mbox_message msg;
	struct buf mime, got;
	struct item *it = NULL;
	const char *error;
	int64_t drafts = 0, id = 0, modseq;

	assert_int_equal(
	    store_folder_by_type(fx->st, FOLDER_TYPE_DRAFTS, &drafts), 0);
	buf_init(&mime, 1u << 20);
	assert_int_equal(draft_build(&spec, &mime, &error), 0);
	assert_non_null(strstr(buf_str(&mime), "Bcc: carol@example.net"));
	assert_non_null(strstr(buf_str(&mime), "Importance: high"));
	assert_int_equal(mbox_message_prepare(mime.data, mime.len, 1795860000,
					      true, &msg, &error),
			 0);
	msg.props.bcc = strdup(spec.bcc);
	assert_int_equal(
	    store_item_add(fx->st, drafts, &msg.item, &id, &modseq), 0);
	mbox_message_clear(&msg);
	assert_int_equal(store_item_get(fx->st, id, STORE_GET_MIME, &it), 0);
	assert_string_equal(it->props.subject, "Draft \xc3\xa9t\xc3\xa9");
	assert_string_equal(it->props.bcc, "carol@example.net");
	assert_string_equal(it->props.body_text, "hello");
	assert_int_equal(it->props.importance, 2);
	assert_int_equal(it->props.attachment_count, 1);
	assert_string_equal(it->props.attachments[0].name, "note.txt");
	buf_init(&got, 1u << 20);
	assert_int_equal(mime_attachment_extract(it->mime, it->mime_len,
						 it->props.attachments[0].index,
						 sink, &got, &error),
			 0);
	assert_int_equal(got.len, 14);
	assert_memory_equal(got.data, "attached bytes", 14);
	item_free(&it);
	buf_free(&got);
	buf_free(&mime);

	/* An address list with no address is refused. */
	spec.to = "not an address";
	buf_init(&mime, 1u << 20);
	assert_int_equal(draft_build(&spec, &mime, &error), -1);
	assert_non_null(error);
	buf_free(&mime);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_meeting_kept, setup, teardown),
	    cmocka_unit_test(test_blob_bounds),
	    cmocka_unit_test(test_counter),
	    cmocka_unit_test_setup_teardown(test_draft_stored, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
