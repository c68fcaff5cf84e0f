/* Unit tests for mailbox/ical.c: iTIP methods, time zones (builtin TZID,
 * UTC, floating, all-day), DURATION instead of DTEND, attendee status,
 * and refusal of calendars without a usable VEVENT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/ical.h"
#include "proto/limits.h"

static struct message_meeting *
parse_ok(const char *text)
{
	struct message_meeting *m = NULL;
	const char *error = NULL;

	assert_int_equal(ical_parse_meeting(text, strlen(text), &m, &error), 0);
	assert_null(error);
	assert_non_null(m);
	return m;
}

static void
test_reply_builtin_zone(void **state)
{
	struct message_meeting *m =
	    parse_ok("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REPLY\r\n"
		     "BEGIN:VEVENT\r\nUID:abc-1\r\n"
		     "DTSTART;TZID=Europe/Berlin:20260701T120000\r\n"
		     "DURATION:PT90M\r\n"
		     "ATTENDEE;PARTSTAT=DECLINED:MAILTO:bob@example.org\r\n"
		     "ORGANIZER:mailto:org@example.com\r\n"
		     "SEQUENCE:0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");

	(void)state;
	assert_int_equal(m->method, MESSAGE_METHOD_REPLY);
	assert_string_equal(m->uid, "abc-1");
	/* 12:00 CEST = 10:00 UTC on 2026-07-01 */
	assert_int_equal(m->start, 1782900000);
	assert_int_equal(m->end, 1782900000 + 90 * 60);
	assert_string_equal(m->tzid, "Europe/Berlin");
	assert_int_equal(m->n_attendees, 1);
	assert_string_equal(m->attendees[0].email, "bob@example.org");
	assert_int_equal(m->attendees[0].status, MESSAGE_ATTENDEE_DECLINED);
	assert_null(m->rrule);
	message_meeting_free(&m);
	assert_null(m);
}

static void
test_utc_and_floating(void **state)
{
	struct message_meeting *m =
	    parse_ok("BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nUID:u2\n"
		     "DTSTART:20260102T030405Z\nDTEND:20260102T040405\n"
		     "END:VEVENT\nEND:VCALENDAR\n");

	(void)state;
	assert_int_equal(m->method, MESSAGE_METHOD_REQUEST);
	assert_int_equal(m->start, 1767323045);
	assert_int_equal(m->end, 1767323045 + 3600); /* floating as UTC */
	assert_null(m->tzid);
	assert_false(m->all_day);
	message_meeting_free(&m);
}

static void
test_bare_vevent_and_errors(void **state)
{
	struct message_meeting *m = NULL;
	const char *error = NULL;
	static const char no_uid[] = "BEGIN:VCALENDAR\nBEGIN:VEVENT\n"
				     "DTSTART:20260101T000000Z\n"
				     "END:VEVENT\nEND:VCALENDAR\n";
	static const char todo[] = "BEGIN:VCALENDAR\nBEGIN:VTODO\nUID:x\n"
				   "END:VTODO\nEND:VCALENDAR\n";
	char *big;

	(void)state;
	m = parse_ok("BEGIN:VEVENT\nUID:bare\nDTSTART;VALUE=DATE:20260301\n"
		     "END:VEVENT\n");
	assert_int_equal(m->method, MESSAGE_METHOD_NONE);
	assert_true(m->all_day);
	message_meeting_free(&m);
	assert_int_equal(ical_parse_meeting(no_uid, strlen(no_uid), &m, &error),
			 -1);
	assert_string_equal(error, "VEVENT without UID");
	assert_int_equal(ical_parse_meeting(todo, strlen(todo), &m, &error),
			 -1);
	assert_string_equal(error, "no VEVENT in the calendar");
	assert_int_equal(ical_parse_meeting("garbage\x01\xff", 9, &m, &error),
			 -1);
	/* An empty calendar part (found by fuzz_mime). */
	assert_int_equal(ical_parse_meeting(NULL, 0, &m, &error), -1);
	assert_null(m);
	big = calloc(1, MIME_MAX_CALENDAR_BYTES + 2);
	assert_non_null(big);
	assert_int_equal(
	    ical_parse_meeting(big, MIME_MAX_CALENDAR_BYTES + 1, &m, &error),
	    -1);
	assert_string_equal(error, "calendar too large");
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reply_builtin_zone),
	    cmocka_unit_test(test_utc_and_floating),
	    cmocka_unit_test(test_bare_vevent_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
