/* Unit tests for mailbox/message.c: a parsed summary survives the blob
 * round trip field for field, and every truncation or corruption of a
 * blob is refused (or decodes consistently) without a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/message.h"
#include "mailbox/mime.h"

static struct message_summary *
parse_file(const char *name)
{
	char path[256];
	static uint8_t raw[64 * 1024];
	struct message_summary *s;
	const char *error;
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), "tests/unit/mailbox/data/%s", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	len = fread(raw, 1, sizeof(raw), f);
	fclose(f);
	assert_int_equal(mime_parse(raw, len, 42, &s, &error), 0);
	return s;
}

static void
assert_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void
assert_same(const struct message_summary *a, const struct message_summary *b)
{
	assert_str_eq(a->from, b->from);
	assert_str_eq(a->to, b->to);
	assert_str_eq(a->cc, b->cc);
	assert_str_eq(a->subject, b->subject);
	assert_str_eq(a->date_header, b->date_header);
	assert_str_eq(a->message_id, b->message_id);
	assert_str_eq(a->references, b->references);
	assert_str_eq(a->message_class, b->message_class);
	assert_str_eq(a->preview, b->preview);
	assert_str_eq(a->text, b->text);
	assert_str_eq(a->html, b->html);
	assert_int_equal(a->text_len, b->text_len);
	assert_int_equal(a->html_len, b->html_len);
	assert_int_equal(a->date, b->date);
	assert_int_equal(a->received, b->received);
	assert_int_equal(a->importance, b->importance);
	assert_int_equal(a->internet_cpid, b->internet_cpid);
	assert_memory_equal(a->conversation_id, b->conversation_id,
			    MESSAGE_CONVERSATION_ID_BYTES);
	assert_memory_equal(a->conversation_index, b->conversation_index,
			    MESSAGE_CONVERSATION_INDEX_BYTES);
	assert_int_equal(a->n_attachments, b->n_attachments);
	for (size_t i = 0; i < a->n_attachments; i++) {
		assert_int_equal(a->attachments[i].index,
				 b->attachments[i].index);
		assert_str_eq(a->attachments[i].name, b->attachments[i].name);
		assert_str_eq(a->attachments[i].content_id,
			      b->attachments[i].content_id);
		assert_int_equal(a->attachments[i].size,
				 b->attachments[i].size);
		assert_int_equal(a->attachments[i].is_inline,
				 b->attachments[i].is_inline);
	}
	assert_int_equal(a->meeting != NULL, b->meeting != NULL);
	if (a->meeting != NULL) {
		assert_str_eq(a->meeting->uid, b->meeting->uid);
		assert_str_eq(a->meeting->rrule, b->meeting->rrule);
		assert_int_equal(a->meeting->start, b->meeting->start);
		assert_int_equal(a->meeting->sequence, b->meeting->sequence);
		assert_int_equal(a->meeting->n_attendees,
				 b->meeting->n_attendees);
		for (size_t i = 0; i < a->meeting->n_attendees; i++) {
			assert_str_eq(a->meeting->attendees[i].email,
				      b->meeting->attendees[i].email);
			assert_int_equal(a->meeting->attendees[i].status,
					 b->meeting->attendees[i].status);
		}
	}
}

static void
round_trip(const char *name)
{
	struct message_summary *s = parse_file(name), *back = NULL;
	const char *error = NULL;
	struct buf b;

	buf_init(&b, 1u << 24);
	assert_int_equal(message_summary_encode(s, &b), 0);
	assert_int_equal(message_summary_decode(b.data, b.len, &back, &error),
			 0);
	assert_same(s, back);
	message_summary_free(&back);
	/* Every strict prefix is refused. */
	for (size_t n = 0; n < b.len; n++) {
		assert_int_equal(
		    message_summary_decode(b.data, n, &back, &error), -1);
		assert_null(back);
		assert_non_null(error);
	}
	/* Single-byte corruption never crashes; what decodes re-encodes. */
	for (size_t i = 0; i < b.len; i++) {
		uint8_t saved = b.data[i];

		b.data[i] ^= 0xa5;
		if (message_summary_decode(b.data, b.len, &back, &error) == 0) {
			struct buf again;

			buf_init(&again, 1u << 24);
			assert_int_equal(message_summary_encode(back, &again),
					 0);
			message_summary_free(&back);
			buf_free(&again);
		}
		b.data[i] = saved;
	}
	buf_free(&b);
	message_summary_free(&s);
}

static void
test_round_trip_meeting(void **state)
{
	(void)state;
	round_trip("meeting_request.eml");
}

static void
test_round_trip_attachments(void **state)
{
	(void)state;
	round_trip("mixed_alternative.eml");
	round_trip("related_inline.eml");
}

static void
test_bad_blobs(void **state)
{
	struct message_summary *s = NULL;
	const char *error = NULL;
	static const uint8_t wrong_version[] = {'E', 'M', 'S', 9};
	/* a string length far beyond the input */
	static const uint8_t long_string[] = {'E',  'M',  'S',  2,  0x7f,
					      0xff, 0xff, 0xff, 'a'};

	(void)state;
	assert_int_equal(
	    message_summary_decode((const uint8_t *)"XYZ1", 4, &s, &error), -1);
	assert_string_equal(error, "not a message summary blob");
	assert_int_equal(message_summary_decode(wrong_version, 4, &s, &error),
			 -1);
	assert_string_equal(error, "unknown summary blob version");
	assert_int_equal(message_summary_decode(
			     long_string, sizeof(long_string), &s, &error),
			 -1);
	assert_string_equal(error, "string longer than the blob");
	assert_null(s);
	message_summary_free(&s); /* accepts NULL */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_meeting),
	    cmocka_unit_test(test_round_trip_attachments),
	    cmocka_unit_test(test_bad_blobs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
