/* Unit tests for mailbox/mime.c over the real-world-odd samples in
 * tests/unit/mailbox/data/: charsets, encoded words, missing and broken
 * dates, nesting, inline images, meeting invitations, huge headers, bad
 * transfer encodings; and attachment extraction by index.  Run from the
 * top of the source tree (as `make test` does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/mime.h"
#include "proto/limits.h"

#define DATA_DIR "tests/unit/mailbox/data/"
#define RECEIVED 1700000000

static uint8_t *
load(const char *name, size_t *len_r)
{
	char path[256];
	FILE *f;
	uint8_t *data;
	long len;

	snprintf(path, sizeof(path), DATA_DIR "%s", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	data = malloc((size_t)len);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*len_r = (size_t)len;
	return data;
}

static struct message_summary *
parse(const char *name, uint8_t **raw_r, size_t *len_r)
{
	struct message_summary *s = NULL;
	const char *error = NULL;
	size_t len;
	uint8_t *raw = load(name, &len);

	assert_int_equal(mime_parse(raw, len, RECEIVED, &s, &error), 0);
	assert_null(error);
	assert_non_null(s);
	assert_int_equal(s->internet_cpid, 65001);
	if (raw_r != NULL) {
		*raw_r = raw;
		*len_r = len;
	} else {
		free(raw);
	}
	return s;
}

struct collect {
	uint8_t *data;
	size_t len;
	int calls;
	int abort_after; /* 0: never */
};

static int
collect_sink(void *ctx, const uint8_t *data, size_t len)
{
	struct collect *c = ctx;
	uint8_t *p = realloc(c->data, c->len + len + 1);

	assert_non_null(p);
	c->data = p;
	memcpy(c->data + c->len, data, len);
	c->len += len;
	c->data[c->len] = '\0';
	c->calls++;
	return c->abort_after != 0 && c->calls >= c->abort_after ? -1 : 0;
}

/* No MIME-Version, no Date, raw ISO-8859-1 bytes in headers and body,
 * CRLF line ends. */
static void
test_plain_rfc822(void **state)
{
	struct message_summary *s = parse("plain_rfc822.eml", NULL, NULL);

	(void)state;
	assert_string_equal(s->from, "Jörg Müller <joerg@example.de>");
	assert_string_equal(s->subject, "Grüße aus Köln");
	assert_null(s->date_header);
	assert_int_equal(s->date, RECEIVED); /* falls back */
	assert_string_equal(s->message_id, "plain-1@example.de");
	assert_non_null(strstr(s->text, "viele Grüße."));
	assert_string_equal(s->preview, "Hallo Alice, viele Grüße.");
	assert_null(s->html);
	assert_int_equal(s->n_attachments, 0);
	assert_string_equal(s->message_class, "IPM.Note");
	assert_string_equal(s->content_class, "urn:content-classes:message");
	assert_int_equal(s->importance, MESSAGE_IMPORTANCE_NORMAL);
	message_summary_free(&s);
	assert_null(s);
}

/* An unknown charset label falls back to windows-1252; broken encoded
 * words stay as text; X-Priority 1 is high importance. */
static void
test_broken_charset(void **state)
{
	struct message_summary *s = parse("broken_charset.eml", NULL, NULL);

	(void)state;
	assert_string_equal(s->from, "René Dupont <rene@example.fr>");
	assert_string_equal(s->to, "Bob <bob@example.org>, carol@example.org");
	assert_string_equal(s->cc, "François <francois@example.fr>");
	assert_true(strncmp(s->subject, "été report", strlen("été report")) ==
		    0);
	assert_string_equal(s->text, "Café crème, naïve.\n");
	assert_int_equal(s->date, 1772529300); /* 09:15 UTC */
	assert_string_equal(s->date_header, "Tue, 3 Mar 2026 10:15:00 +0100");
	assert_int_equal(s->importance, MESSAGE_IMPORTANCE_HIGH);
	message_summary_free(&s);
}

static void
test_mixed_alternative(void **state)
{
	uint8_t *raw;
	size_t len;
	struct message_summary *s = parse("mixed_alternative.eml", &raw, &len);
	struct message_summary *root;
	struct collect c = {0};
	const char *error;
	static const char root_msg[] =
	    "From: a@example.org\r\n"
	    "Message-ID: <orig-1@example.org>\r\n"
	    "Subject: Quarterly numbers\r\n\r\nx\r\n";

	(void)state;
	assert_non_null(strstr(s->text, "Naïve € sign. Soft break."));
	assert_string_equal(
	    s->html,
	    "<html><body><p>Hello Bob,</p><p>the numbers</p></body></html>");
	assert_string_equal(s->in_reply_to, "orig-1@example.org");
	assert_string_equal(s->references,
			    "orig-1@example.org fwd-1@example.org");
	assert_string_equal(s->thread_topic, "Quarterly numbers");
	assert_int_equal(s->importance, MESSAGE_IMPORTANCE_LOW);
	assert_int_equal(s->n_attachments, 2);
	/* RFC 2231 encoded file name */
	assert_string_equal(s->attachments[0].name, "Bericht über Q1.pdf");
	assert_string_equal(s->attachments[0].content_type, "application/pdf");
	assert_int_equal(s->attachments[0].size, 260);
	assert_false(s->attachments[0].is_inline);
	/* TNEF is just an attachment */
	assert_string_equal(s->attachments[1].name, "winmail.dat");
	assert_string_equal(s->attachments[1].content_type,
			    "application/ms-tnef");
	assert_int_equal(s->attachments[1].size, 64);
	/* ConversationId: the thread root is the first References id, so
	 * the reply shares it with the original message. */
	assert_int_equal(mime_parse((const uint8_t *)root_msg, strlen(root_msg),
				    RECEIVED, &root, &error),
			 0);
	assert_memory_equal(root->conversation_id, s->conversation_id,
			    MESSAGE_CONVERSATION_ID_BYTES);
	message_summary_free(&root);
	/* ConversationIndex header block: 0x01, FILETIME >> 24, the id. */
	assert_int_equal(s->conversation_index[0], 1);
	{
		uint64_t ft = ((uint64_t)s->date + 11644473600ull) * 10000000u;

		for (int i = 0; i < 5; i++)
			assert_int_equal(s->conversation_index[1 + i],
					 (uint8_t)(ft >> (24 + 8 * (4 - i))));
	}
	assert_memory_equal(s->conversation_index + 6, s->conversation_id,
			    MESSAGE_CONVERSATION_ID_BYTES);
	/* Extraction streams the decoded PDF. */
	assert_int_equal(mime_attachment_extract(raw, len,
						 s->attachments[0].index,
						 collect_sink, &c, &error),
			 0);
	assert_int_equal(c.len, 260);
	assert_memory_equal(c.data, "%PDF-1.4 fake pdf content\n", 26);
	free(c.data);
	memset(&c, 0, sizeof(c));
	assert_int_equal(
	    mime_attachment_extract(raw, len, 7, collect_sink, &c, &error), -1);
	assert_string_equal(error, "no such attachment");
	assert_int_equal(c.calls, 0);
	c.abort_after = 1;
	assert_int_equal(
	    mime_attachment_extract(raw, len, 1, collect_sink, &c, &error), -1);
	assert_string_equal(error, "aborted by sink");
	free(c.data);
	free(raw);
	message_summary_free(&s);
}

/* HTML-only multipart/related: preview from the HTML, the referenced
 * image is inline, the unreferenced one is not. */
static void
test_related_inline(void **state)
{
	uint8_t *raw;
	size_t len;
	struct message_summary *s = parse("related_inline.eml", &raw, &len);
	struct collect c = {0};
	const char *error;

	(void)state;
	assert_null(s->text);
	assert_non_null(strstr(s->html, "Spécial")); /* ISO-8859-1 -> UTF-8 */
	assert_string_equal(s->preview, "Spécial offer Café & more €5");
	assert_int_equal(s->n_attachments, 2);
	assert_string_equal(s->attachments[0].content_id, "logo@example.com");
	assert_true(s->attachments[0].is_inline);
	assert_string_equal(s->attachments[0].name, "attachment-0.png");
	assert_int_equal(s->attachments[0].size, 1024);
	assert_false(s->attachments[1].is_inline);
	assert_string_equal(s->attachments[1].name, "unused.png");
	assert_int_equal(
	    mime_attachment_extract(raw, len, 0, collect_sink, &c, &error), 0);
	assert_int_equal(c.len, 1024);
	for (size_t i = 0; i < c.len; i++)
		assert_int_equal(c.data[i], (uint8_t)(i & 0xff));
	free(c.data);
	free(raw);
	message_summary_free(&s);
}

/* Preview from HTML: text after a comment survives, entities decode. */
static void
test_html_preview(void **state)
{
	static const char html_msg[] =
	    "Subject: h\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
	    "<p><!-- note -->Hello <b>W</b>orld &lt;3&gt; &#x41;&#66;"
	    "</p>\r\n\r\n<div>\tnext&nbsp;&nbsp;line</div>";
	struct message_summary *s;
	const char *error;

	(void)state;
	assert_int_equal(mime_parse((const uint8_t *)html_msg, strlen(html_msg),
				    RECEIVED, &s, &error),
			 0);
	assert_null(s->text);
	assert_string_equal(s->preview, "Hello World <3> AB next line");
	message_summary_free(&s);
}

static void
test_nested_rfc822(void **state)
{
	uint8_t *raw;
	size_t len;
	struct message_summary *s = parse("nested_rfc822.eml", &raw, &len);
	struct message_summary *inner;
	struct collect c = {0};
	const char *error;

	(void)state;
	assert_string_equal(s->text, "See the forwarded message.");
	assert_int_equal(s->n_attachments, 1);
	assert_true(s->attachments[0].is_message);
	assert_string_equal(s->attachments[0].name, "The original é.eml");
	assert_string_equal(s->attachments[0].content_type, "message/rfc822");
	assert_int_equal(
	    mime_attachment_extract(raw, len, 0, collect_sink, &c, &error), 0);
	assert_int_equal(c.len, s->attachments[0].size);
	/* The extracted message parses on its own. */
	assert_int_equal(mime_parse(c.data, c.len, 0, &inner, &error), 0);
	assert_string_equal(inner->from, "Dave <dave@example.net>");
	assert_string_equal(inner->text, "Inner body.");
	message_summary_free(&inner);
	free(c.data);
	free(raw);
	message_summary_free(&s);
}

/* Broken QP escapes are kept, bad base64 decodes what it can, an
 * unparsable Date falls back to the received time. */
static void
test_bad_encodings(void **state)
{
	uint8_t *raw;
	size_t len;
	struct message_summary *s = parse("bad_encodings.eml", &raw, &len);
	struct collect c = {0};
	const char *error;

	(void)state;
	assert_string_equal(s->date_header, "not a date at all");
	assert_int_equal(s->date, RECEIVED);
	assert_non_null(strstr(s->text, "broken =ZZ qp"));
	assert_int_equal(s->n_attachments, 1);
	assert_string_equal(s->attachments[0].name, "data.bin");
	assert_int_equal(
	    mime_attachment_extract(raw, len, 0, collect_sink, &c, &error), 0);
	assert_int_equal(c.len, s->attachments[0].size);
	assert_memory_equal(c.data, "Hello World", 11);
	free(c.data);
	free(raw);
	message_summary_free(&s);
}

static void
test_meeting_request(void **state)
{
	struct message_summary *s = parse("meeting_request.eml", NULL, NULL);
	const struct message_meeting *m = s->meeting;

	(void)state;
	assert_string_equal(s->message_class, "IPM.Schedule.Meeting.Request");
	assert_string_equal(s->content_class,
			    "urn:content-classes:calendarmessage");
	assert_string_equal(s->text, "Let's sync.");
	assert_int_equal(s->n_attachments, 0); /* the invitation body */
	assert_non_null(m);
	assert_int_equal(m->method, MESSAGE_METHOD_REQUEST);
	assert_string_equal(m->uid, "040000008200E00074C5B7101A82E008");
	/* 10:00 in the calendar's own zone (+0100 in March) = 09:00 UTC */
	assert_int_equal(m->start, 1773651600);
	assert_int_equal(m->end, 1773655200);
	assert_false(m->all_day);
	assert_string_equal(m->tzid, "W. Europe Standard Time");
	assert_string_equal(m->rrule, "FREQ=WEEKLY;COUNT=4;BYDAY=MO");
	assert_int_equal(m->sequence, 2);
	assert_string_equal(m->organizer, "org@example.com");
	assert_string_equal(m->location, "Room 4");
	assert_string_equal(m->summary, "Project sync");
	assert_int_equal(m->n_attendees, 2);
	assert_string_equal(m->attendees[0].email, "bob@example.org");
	assert_string_equal(m->attendees[0].name, "Bob");
	assert_int_equal(m->attendees[0].status, MESSAGE_ATTENDEE_NEEDS_ACTION);
	assert_true(m->attendees[0].required);
	assert_int_equal(m->attendees[1].status, MESSAGE_ATTENDEE_ACCEPTED);
	assert_false(m->attendees[1].required);
	message_summary_free(&s);
}

static void
test_meeting_cancel_and_broken(void **state)
{
	struct message_summary *s = parse("meeting_cancel.eml", NULL, NULL);

	(void)state;
	assert_string_equal(s->message_class, "IPM.Schedule.Meeting.Canceled");
	assert_non_null(s->meeting);
	assert_true(s->meeting->all_day);
	assert_int_equal(s->meeting->start, 1775001600);
	assert_int_equal(s->meeting->end, 1775088000);
	message_summary_free(&s);
	/* A broken calendar is ignored; the mail is an ordinary note. */
	s = parse("meeting_broken.eml", NULL, NULL);
	assert_null(s->meeting);
	assert_string_equal(s->message_class, "IPM.Note");
	assert_string_equal(s->text, "body text");
	message_summary_free(&s);
}

/* One 100 KB Subject and a 100 KB folded header: cut, not failed. */
static void
test_huge_header(void **state)
{
	struct message_summary *s = parse("huge_header.eml", NULL, NULL);

	(void)state;
	assert_int_equal(strlen(s->subject), MIME_MAX_HEADER_BYTES);
	assert_string_equal(s->text, "body\n");
	message_summary_free(&s);
}

/* Parts nested deeper than MIME_MAX_DEPTH are ignored, without crash. */
static void
test_deep_nesting(void **state)
{
	struct message_summary *s = parse("deep_nesting.eml", NULL, NULL);
	char *deep;
	size_t n = 0, cap = 2 * 1024 * 1024;
	const char *error;

	(void)state;
	assert_null(s->text);
	assert_int_equal(s->n_attachments, 0);
	message_summary_free(&s);
	/* 20000 levels of message/rfc822: GMime and our walk survive. */
	deep = malloc(cap);
	assert_non_null(deep);
	n += (size_t)snprintf(deep, cap, "Subject: deep\n");
	for (int i = 0; i < 20000; i++)
		n += (size_t)snprintf(deep + n, cap - n,
				      "Content-Type: message/rfc822\n\n");
	n += (size_t)snprintf(deep + n, cap - n, "x\n");
	assert_int_equal(
	    mime_parse((const uint8_t *)deep, n, RECEIVED, &s, &error), 0);
	assert_int_equal(s->n_attachments, 1);
	message_summary_free(&s);
	free(deep);
}

/* More than MIME_MAX_ATTACHMENTS leaves: the list is capped and the rest
 * counted, yet indexes stay those of the tree, so the last one still
 * extracts. */
static void
test_attachment_cap(void **state)
{
	size_t cap = 256 * 1024, n = 0;
	char *raw = malloc(cap);
	unsigned total = MIME_MAX_ATTACHMENTS + 10;
	struct message_summary *s;
	struct collect c = {0};
	const char *error;

	(void)state;
	assert_non_null(raw);
	n += (size_t)snprintf(raw, cap,
			      "Subject: many\nMIME-Version: 1.0\n"
			      "Content-Type: multipart/mixed; boundary=B\n\n");
	for (unsigned i = 0; i < total; i++)
		n += (size_t)snprintf(raw + n, cap - n,
				      "--B\nContent-Type: application/x-n\n"
				      "Content-Disposition: attachment\n\n"
				      "part %u\n",
				      i);
	n += (size_t)snprintf(raw + n, cap - n, "--B--\n");
	assert_true(n < cap);
	assert_int_equal(mime_parse((const uint8_t *)raw, n, 0, &s, &error), 0);
	assert_int_equal(s->n_attachments, MIME_MAX_ATTACHMENTS);
	assert_int_equal(s->n_attachments_dropped, 10);
	assert_string_equal(s->attachments[3].name, "attachment-3.bin");
	assert_int_equal(mime_attachment_extract((const uint8_t *)raw, n,
						 total - 1, collect_sink, &c,
						 &error),
			 0);
	assert_string_equal((const char *)c.data, "part 521");
	free(c.data);
	message_summary_free(&s);
	free(raw);
}

static void
test_smime_signed(void **state)
{
	struct message_summary *s = parse("smime_signed.eml", NULL, NULL);

	(void)state;
	assert_string_equal(s->message_class, "IPM.Note.SMIME.MultipartSigned");
	assert_string_equal(s->text, "signed text");
	assert_int_equal(s->n_attachments, 1);
	assert_string_equal(s->attachments[0].name, "smime.p7s");
	message_summary_free(&s);
}

static void
test_refused_input(void **state)
{
	struct message_summary *s = NULL;
	const char *error = NULL;

	(void)state;
	assert_int_equal(mime_parse((const uint8_t *)"", 0, 0, &s, &error), -1);
	assert_null(s);
	assert_string_equal(error, "empty message");
	/* Bytes without any header are not a message. */
	assert_int_equal(mime_parse((const uint8_t *)"\x01\x02\xff garbage", 11,
				    5, &s, &error),
			 -1);
	assert_null(s);
	assert_string_equal(error, "not an RFC 5322 message");
	/* A header block alone is a message with no body. */
	assert_int_equal(
	    mime_parse((const uint8_t *)"X-A: b\n", 7, 5, &s, &error), 0);
	assert_int_equal(s->date, 5);
	assert_string_equal(s->text, "");
	assert_null(s->preview);
	message_summary_free(&s);
	mime_init(); /* idempotent */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_rfc822),
	    cmocka_unit_test(test_broken_charset),
	    cmocka_unit_test(test_mixed_alternative),
	    cmocka_unit_test(test_related_inline),
	    cmocka_unit_test(test_html_preview),
	    cmocka_unit_test(test_nested_rfc822),
	    cmocka_unit_test(test_bad_encodings),
	    cmocka_unit_test(test_meeting_request),
	    cmocka_unit_test(test_meeting_cancel_and_broken),
	    cmocka_unit_test(test_huge_header),
	    cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_attachment_cap),
	    cmocka_unit_test(test_smime_signed),
	    cmocka_unit_test(test_refused_input),
	};

	mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
