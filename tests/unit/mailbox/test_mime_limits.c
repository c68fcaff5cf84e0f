/* Unit tests for mailbox/mime.c bounds and header tables: body
 * truncation on a character boundary, the importance headers in their
 * order of precedence, message classes of iTIP replies, and concurrent
 * parsing from several threads (each call owns its GMime objects). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/mime.h"
#include "proto/limits.h"

static struct message_summary *
parse_str(const char *raw)
{
	struct message_summary *s = NULL;
	const char *error = NULL;

	assert_int_equal(
	    mime_parse((const uint8_t *)raw, strlen(raw), 7, &s, &error), 0);
	return s;
}

/* A 5 MB body of 3-byte characters is cut below MIME_MAX_BODY_BYTES at
 * a character boundary and flagged. */
static void
test_body_truncation(void **state)
{
	static const char head[] = "Subject: big\r\nContent-Type: text/plain; "
				   "charset=utf-8\r\n\r\n";
	size_t n_chars = 5u * 1024u * 1024u / 3u;
	size_t len = strlen(head) + n_chars * 3;
	char *raw = malloc(len + 1);
	struct message_summary *s;
	const char *error;

	(void)state;
	assert_non_null(raw);
	memcpy(raw, head, strlen(head));
	for (size_t i = 0; i < n_chars; i++)
		memcpy(raw + strlen(head) + i * 3, "\xe2\x82\xac", 3); /* € */
	raw[len] = '\0';
	assert_int_equal(mime_parse((const uint8_t *)raw, len, 0, &s, &error),
			 0);
	assert_true(s->text_truncated);
	assert_int_equal(s->text_len, (MIME_MAX_BODY_BYTES / 3) * 3);
	assert_int_equal(strlen(s->text), s->text_len);
	assert_true(g_utf8_validate(s->text, (gssize)s->text_len, NULL));
	/* The preview is MIME_PREVIEW_CHARS characters. */
	assert_int_equal(g_utf8_strlen(s->preview, -1), MIME_PREVIEW_CHARS);
	message_summary_free(&s);
	free(raw);
}

static void
test_importance(void **state)
{
	static const struct {
		const char *header;
		enum message_importance want;
	} cases[] = {
	    {"Importance: High", MESSAGE_IMPORTANCE_HIGH},
	    {"Importance: low", MESSAGE_IMPORTANCE_LOW},
	    {"Importance: normal\r\nX-Priority: 1", MESSAGE_IMPORTANCE_NORMAL},
	    {"X-Priority: 5 (Lowest)", MESSAGE_IMPORTANCE_LOW},
	    {"X-Priority: 2", MESSAGE_IMPORTANCE_HIGH},
	    {"X-Priority: 3", MESSAGE_IMPORTANCE_NORMAL},
	    {"Priority: urgent", MESSAGE_IMPORTANCE_HIGH},
	    {"Priority: non-urgent", MESSAGE_IMPORTANCE_LOW},
	    {"X-Other: 1", MESSAGE_IMPORTANCE_NORMAL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char raw[256];
		struct message_summary *s;

		snprintf(raw, sizeof(raw), "Subject: x\r\n%s\r\n\r\nbody\r\n",
			 cases[i].header);
		s = parse_str(raw);
		assert_int_equal(s->importance, cases[i].want);
		message_summary_free(&s);
	}
}

static void
test_reply_classes(void **state)
{
	static const struct {
		const char *partstat;
		const char *want;
	} cases[] = {
	    {"ACCEPTED", "IPM.Schedule.Meeting.Resp.Pos"},
	    {"DECLINED", "IPM.Schedule.Meeting.Resp.Neg"},
	    {"TENTATIVE", "IPM.Schedule.Meeting.Resp.Tent"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char raw[512];
		struct message_summary *s;

		snprintf(raw, sizeof(raw),
			 "Subject: reply\r\n"
			 "Content-Type: text/calendar; method=REPLY\r\n\r\n"
			 "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n"
			 "UID:r1\r\nDTSTART:20260101T100000Z\r\n"
			 "ATTENDEE;PARTSTAT=%s:mailto:b@example.org\r\n"
			 "END:VEVENT\r\nEND:VCALENDAR\r\n",
			 cases[i].partstat);
		s = parse_str(raw);
		assert_non_null(s->meeting);
		assert_string_equal(s->message_class, cases[i].want);
		assert_string_equal(s->content_class,
				    "urn:content-classes:calendarmessage");
		message_summary_free(&s);
	}
}

/* A well-formed Thread-Index gives the ConversationIndex header block;
 * a malformed one is ignored. */
static void
test_thread_index(void **state)
{
	/* 0x01, 5 time bytes, 16 GUID bytes 0x10..0x1f, one child block */
	static const uint8_t want[22] = {
	    0x01, 0xd9, 0x10, 0x20, 0x30, 0x40, 0x10, 0x11, 0x12, 0x13, 0x14,
	    0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
	uint8_t full[27];
	gchar *b64;
	char raw[256];
	struct message_summary *s;

	(void)state;
	memcpy(full, want, sizeof(want));
	memcpy(full + 22, "\x00\x00\x01\x02\x03", 5);
	b64 = g_base64_encode(full, sizeof(full));
	snprintf(raw, sizeof(raw),
		 "Subject: t\r\nThread-Index: %s\r\n\r\nx\r\n", b64);
	g_free(b64);
	s = parse_str(raw);
	assert_memory_equal(s->conversation_index, want, sizeof(want));
	message_summary_free(&s);
	s = parse_str("Subject: t\r\nThread-Index: AQHZ\r\n\r\nx\r\n");
	assert_int_equal(s->conversation_index[0], 1);
	assert_memory_equal(s->conversation_index + 6, s->conversation_id,
			    MESSAGE_CONVERSATION_ID_BYTES);
	message_summary_free(&s);
}

static const char threaded_msg[] =
    "From: =?utf-8?q?J=C3=B6rg?= <j@example.org>\r\n"
    "Subject: threads\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    "--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n"
    "caf\xe9\r\n--b\r\nContent-Type: application/pdf; name=a.pdf\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nSGVsbG8=\r\n--b--\r\n";

static void *
parse_many(void *arg)
{
	int *bad = arg;

	for (int i = 0; i < 50; i++) {
		struct message_summary *s = NULL;
		const char *error;

		if (mime_parse((const uint8_t *)threaded_msg,
			       strlen(threaded_msg), 0, &s, &error) != 0 ||
		    strcmp(s->from, "Jörg <j@example.org>") != 0 ||
		    strcmp(s->text, "café") != 0 || s->n_attachments != 1 ||
		    s->attachments[0].size != 5)
			(*bad)++;
		message_summary_free(&s);
	}
	return NULL;
}

/* Four threads parse at once: same results as one. */
static void
test_threads(void **state)
{
	pthread_t t[4];
	int bad[4] = {0};

	(void)state;
	mime_init();
	for (int i = 0; i < 4; i++)
		assert_int_equal(
		    pthread_create(&t[i], NULL, parse_many, &bad[i]), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(bad[i], 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_body_truncation),
	    cmocka_unit_test(test_importance),
	    cmocka_unit_test(test_reply_classes),
	    cmocka_unit_test(test_thread_index),
	    cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
