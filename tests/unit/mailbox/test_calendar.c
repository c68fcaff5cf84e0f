/* Unit tests for mailbox/calendar.c and the calendar parts of
 * mailbox/ical.c: an event's props survive the item blob round trip field
 * for field (UID bytes with a trailing NUL included), validation refuses
 * each bound of CAL_MAX_*, the FilterType date of single, counted, bounded
 * and endless series, the 16.0 instance model, and TIME_ZONE_INFORMATION
 * blobs mapped to IANA zones and back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/calendar.h"
#include "mailbox/ical.h"
#include "proto/buf.h"
#include "proto/limits.h"
#include "proto/tzinfo.h"

/* 2026-12-01 09:00 / 10:00 UTC */
#define T0 INT64_C(1796115600)
#define T1 (T0 + 3600)
#define WEEK (7 * INT64_C(86400))

static Rpc__CalAttendee att_bob = {
    PROTOBUF_C_MESSAGE_INIT(&rpc__cal_attendee__descriptor),
    "bob@example.com",
    "Bob",
    3,
    1,
    true,
    true};
static Rpc__CalAttendee *atts[] = {&att_bob};
static char *cats[] = {"Work", "Blue"};

struct fixture {
	Rpc__Calendar c;
	Rpc__CalRecurrence rec;
	Rpc__CalException x;
	Rpc__CalException *xs[1];
	uint8_t tz[TZINFO_BLOB_BYTES];
};

static void
fixture(struct fixture *f)
{
	struct tzinfo tz = {.bias = -60};

	rpc__calendar__init(&f->c);
	rpc__cal_recurrence__init(&f->rec);
	rpc__cal_exception__init(&f->x);
	tzinfo_encode(&tz, f->tz);
	f->c.time_zone.data = f->tz;
	f->c.time_zone.len = sizeof(f->tz);
	f->c.start_time = T0;
	f->c.end_time = T1;
	f->c.dt_stamp = T0 - 86400;
	f->c.subject = "Weekly sync";
	f->c.location = "Room 7";
	/* iOS: a 33-character ClientUid ending in NUL, kept bit-exact. */
	f->c.client_uid.data = (uint8_t *)"0123456789ABCDEF0123456789ABCDEF";
	f->c.client_uid.len = 33;
	f->c.uid.data = (uint8_t *)"uid-1";
	f->c.uid.len = 5;
	f->c.organizer_email = "alice@example.org";
	f->c.reminder = 15;
	f->c.has_reminder = true;
	f->c.busy_status = 2;
	f->c.has_busy_status = true;
	f->c.attendees = atts;
	f->c.n_attendees = 1;
	f->c.categories = cats;
	f->c.n_categories = 2;
	f->rec.type = 1;
	f->rec.interval = 1;
	f->rec.occurrences = 10;
	f->rec.day_of_week = 4;
	f->c.recurrence = &f->rec;
	f->x.exception_start_time = T0 + WEEK;
	f->x.deleted = true;
	f->xs[0] = &f->x;
	f->c.exceptions = f->xs;
	f->c.n_exceptions = 1;
	f->c.has_exceptions = true;
}

static void
test_props_round_trip(void **state)
{
	struct fixture f;
	struct item_props p, q;
	struct buf b;
	Rpc__Body body;
	Rpc__Calendar *got;
	const char *error = NULL;

	(void)state;
	fixture(&f);
	rpc__body__init(&body);
	body.type = 2;
	body.data.data = (uint8_t *)"<p>agenda</p>";
	body.data.len = strlen("<p>agenda</p>");
	assert_int_equal(calendar_validate(&f.c, &body, &error), 0);
	item_props_init(&p);
	item_props_init(&q);
	assert_int_equal(calendar_props_set(&p, &f.c, &body), 0);
	assert_string_equal(p.subject, "Weekly sync");
	assert_string_equal(p.body_html, "<p>agenda</p>");
	buf_init(&b, STORE_MAX_PROPS_BYTES);
	assert_int_equal(item_props_serialize(&p, &b), 0);
	assert_int_equal(item_props_parse(b.data, b.len, &q), 0);
	got = calendar_from_props(&q, NULL);
	assert_non_null(got);
	assert_int_equal(got->start_time, T0);
	assert_int_equal(got->end_time, T1);
	assert_string_equal(got->subject, "Weekly sync");
	assert_string_equal(got->location, "Room 7");
	assert_int_equal(got->client_uid.len, 33);
	assert_memory_equal(got->client_uid.data, f.c.client_uid.data, 33);
	assert_int_equal(got->time_zone.len, TZINFO_BLOB_BYTES);
	assert_memory_equal(got->time_zone.data, f.tz, TZINFO_BLOB_BYTES);
	assert_true(got->has_reminder);
	assert_int_equal(got->reminder, 15);
	assert_false(got->has_sensitivity);
	assert_int_equal(got->n_attendees, 1);
	assert_string_equal(got->attendees[0]->email, "bob@example.com");
	assert_int_equal(got->attendees[0]->status, 3);
	assert_true(got->attendees[0]->has_type);
	assert_int_equal(got->n_categories, 2);
	assert_string_equal(got->categories[1], "Blue");
	assert_non_null(got->recurrence);
	assert_int_equal(got->recurrence->occurrences, 10);
	assert_int_equal(got->n_exceptions, 1);
	assert_true(got->exceptions[0]->deleted);
	assert_int_equal(got->exceptions[0]->exception_start_time, T0 + WEEK);
	rpc__calendar__free_unpacked(got, NULL);
	/* A blob of an unknown later version is not misread. */
	q.app[0].value[0] = 99;
	assert_null(calendar_from_props(&q, NULL));
	buf_free(&b);
	item_props_clear(&p);
	item_props_clear(&q);
}

static void
test_validate_bounds(void **state)
{
	struct fixture f;
	const char *error = NULL;
	Rpc__CalAttendee **many;
	Rpc__Body body;

	(void)state;
	fixture(&f);
	f.c.end_time = T0 - 1;
	assert_int_equal(calendar_validate(&f.c, NULL, &error), -1);
	assert_string_equal(error, "bad StartTime or EndTime");
	fixture(&f);
	f.c.time_zone.len = 171;
	assert_int_equal(calendar_validate(&f.c, NULL, &error), -1);
	fixture(&f);
	f.c.uid.len = CAL_MAX_UID_BYTES + 1;
	assert_int_equal(calendar_validate(&f.c, NULL, &error), -1);
	fixture(&f);
	f.c.busy_status = 5;
	assert_int_equal(calendar_validate(&f.c, NULL, &error), -1);
	fixture(&f);
	f.c.meeting_status = 2; /* MS-ASCAL 2.2.2.29: odd values only */
	assert_int_equal(calendar_validate(&f.c, NULL, &error), -1);
	fixture(&f);
	f.rec.type = 4;
	assert_int_equal(calendar_validate(&f.c, NULL, &error), -1);
	assert_string_equal(error, "bad recurrence");
	fixture(&f);
	f.rec.day_of_week = 0; /* weekly without a day */
	assert_int_equal(calendar_validate(&f.c, NULL, &error), -1);
	fixture(&f);
	f.c.recurrence = NULL; /* exceptions need a series */
	assert_int_equal(calendar_validate(&f.c, NULL, &error), -1);
	fixture(&f);
	f.x.exception_start_time = 0;
	assert_int_equal(calendar_validate(&f.c, NULL, &error), -1);
	assert_string_equal(error, "bad exception");
	fixture(&f);
	many = calloc(CAL_MAX_ATTENDEES + 1, sizeof(*many));
	assert_non_null(many);
	for (size_t i = 0; i <= CAL_MAX_ATTENDEES; i++)
		many[i] = &att_bob;
	f.c.attendees = many;
	f.c.n_attendees = CAL_MAX_ATTENDEES;
	assert_int_equal(calendar_validate(&f.c, NULL, &error), 0);
	f.c.n_attendees = CAL_MAX_ATTENDEES + 1;
	assert_int_equal(calendar_validate(&f.c, NULL, &error), -1);
	assert_string_equal(error, "bad or too many attendees");
	free(many);
	fixture(&f);
	rpc__body__init(&body);
	body.data.len = CAL_MAX_BODY_BYTES + 1;
	assert_int_equal(calendar_validate(&f.c, &body, &error), -1);
}

static void
test_item_date(void **state)
{
	struct fixture f;

	(void)state;
	fixture(&f);
	f.c.recurrence = NULL;
	f.c.n_exceptions = 0;
	assert_int_equal(calendar_item_date(&f.c), T1);
	fixture(&f);
	/* Ten weekly occurrences: at least until the tenth one ends. */
	assert_true(calendar_item_date(&f.c) >= T1 + 9 * WEEK);
	assert_true(calendar_item_date(&f.c) <= T1 + 10 * WEEK);
	f.rec.occurrences = 0;
	f.rec.until = T0 + 20 * WEEK;
	assert_true(calendar_item_date(&f.c) >= T1 + 20 * WEEK);
	f.rec.until = 0;
	assert_int_equal(calendar_item_date(&f.c), CALENDAR_DATE_FOREVER);
	/* An occurrence moved past the series' end extends it. */
	fixture(&f);
	f.x.deleted = false;
	f.x.has_end_time = true;
	f.x.end_time = T0 + 52 * WEEK;
	assert_int_equal(calendar_item_date(&f.c), T0 + 52 * WEEK);
}

/* An allocator whose blocks are freed at the end of a test, as the
 * request arena frees them in the daemon. */
struct pool {
	void *blocks[16];
	size_t n;
};

static void *
pool_alloc(void *data, size_t size)
{
	struct pool *pl = data;

	if (pl->n >= sizeof(pl->blocks) / sizeof(pl->blocks[0]))
		return NULL;
	return pl->blocks[pl->n++] = calloc(1, size);
}

static void
pool_free(void *data, void *ptr)
{
	(void)data;
	(void)ptr;
}

static void
test_set_instance(void **state)
{
	struct fixture f;
	Rpc__Calendar occ;
	struct pool pl = {0};
	ProtobufCAllocator alloc = {pool_alloc, pool_free, &pl};
	const char *error = NULL;

	(void)state;
	fixture(&f);
	rpc__calendar__init(&occ);
	occ.subject = "Moved";
	occ.start_time = T0 + 2 * WEEK + 3600;
	occ.end_time = T0 + 2 * WEEK + 7200;
	occ.busy_status = 1;
	occ.has_busy_status = true;
	/* MS-ASAIRS 2.2.2.25: a Change of one occurrence adds an exception. */
	assert_int_equal(calendar_set_instance(&f.c, T0 + 2 * WEEK, false, &occ,
					       &alloc, &error),
			 0);
	assert_int_equal(f.c.n_exceptions, 2);
	assert_true(f.c.exceptions[0]->deleted); /* the earlier one stays */
	assert_int_equal(f.c.exceptions[1]->exception_start_time,
			 T0 + 2 * WEEK);
	assert_false(f.c.exceptions[1]->deleted);
	assert_true(f.c.exceptions[1]->has_subject);
	assert_string_equal(f.c.exceptions[1]->subject, "Moved");
	assert_int_equal(f.c.exceptions[1]->start_time, T0 + 2 * WEEK + 3600);
	assert_true(f.c.exceptions[1]->has_busy_status);
	assert_false(f.c.exceptions[1]->has_reminder);
	/* Deleting that occurrence replaces its exception. */
	assert_int_equal(calendar_set_instance(&f.c, T0 + 2 * WEEK, true, NULL,
					       &alloc, &error),
			 0);
	assert_int_equal(f.c.n_exceptions, 2);
	assert_true(f.c.exceptions[1]->deleted);
	assert_false(f.c.exceptions[1]->has_subject);
	assert_int_equal(calendar_validate(&f.c, NULL, &error), 0);
	/* A single event has no occurrences to name. */
	f.c.recurrence = NULL;
	assert_int_equal(
	    calendar_set_instance(&f.c, T0, true, NULL, &alloc, &error), -1);
	assert_non_null(error);
	for (size_t i = 0; i < pl.n; i++)
		free(pl.blocks[i]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
test_tz_to_iana(void **state)
{
	struct tzinfo tz = {0};
	uint8_t blob[TZINFO_BLOB_BYTES];
	char name[64];

	(void)state;
	/* Berlin as Windows names it: no IANA name inside. */
	tz.bias = -60;
	snprintf(tz.std_name, sizeof(tz.std_name), "W. Europe Standard Time");
	tz.std_date.month = 10;
	tz.std_date.day = 5;
	tz.std_date.hour = 3;
	tz.dst_date.month = 3;
	tz.dst_date.day = 5;
	tz.dst_date.hour = 2;
	tz.dst_bias = -60;
	tzinfo_encode(&tz, blob);
	assert_int_equal(ical_tz_name_from_blob(blob, name, sizeof(name)), 0);
	assert_string_equal(name, "Europe/Berlin");
	/* New York: +300, second Sunday of March to first of November. */
	memset(&tz, 0, sizeof(tz));
	tz.bias = 300;
	tz.std_date.month = 11;
	tz.std_date.day = 1;
	tz.std_date.hour = 2;
	tz.dst_date.month = 3;
	tz.dst_date.day = 2;
	tz.dst_date.hour = 2;
	tz.dst_bias = -60;
	tzinfo_encode(&tz, blob);
	assert_int_equal(ical_tz_name_from_blob(blob, name, sizeof(name)), 0);
	assert_string_equal(name, "America/New_York");
	/* All zero: UTC. */
	memset(blob, 0, sizeof(blob));
	assert_int_equal(ical_tz_name_from_blob(blob, name, sizeof(name)), 0);
	assert_string_equal(name, "UTC");
	/* An offset no zone has. */
	memset(&tz, 0, sizeof(tz));
	tz.bias = -47;
	tzinfo_encode(&tz, blob);
	assert_int_equal(ical_tz_name_from_blob(blob, name, sizeof(name)), -1);
	/* Broken blob. */
	put16(blob + 70, 13);
	assert_int_equal(ical_tz_name_from_blob(blob, name, sizeof(name)), -1);
	/* A zone's own blob names it, even among zones of equal rules. */
	assert_int_equal(ical_tz_blob_from_name("Europe/Paris", blob), 0);
	assert_int_equal(ical_tz_name_from_blob(blob, name, sizeof(name)), 0);
	assert_string_equal(name, "Europe/Paris");
	assert_int_equal(ical_tz_blob_from_name("Australia/Sydney", blob), 0);
	assert_int_equal(tzinfo_decode(blob, sizeof(blob), &tz), 0);
	assert_int_equal(tz.bias, -600);
	assert_int_equal(tz.dst_date.month, 10);
	assert_int_equal(ical_tz_name_from_blob(blob, name, 5), -1); /* size */
	assert_int_equal(ical_tz_blob_from_name("Mars/Olympus", blob), -1);
}

/* The event of the fixture with its zone named (as rpc_calendar.c does). */
static void
berlin_fixture(struct fixture *f)
{
	fixture(f);
	assert_int_equal(ical_tz_blob_from_name("Europe/Berlin", f->tz), 0);
	f->c.tzid = "Europe/Berlin";
}

static char *export(const Rpc__Calendar *c, int64_t instance, int want)
{
	struct buf b;
	const char *error = NULL;
	int rc;

	buf_init(&b, 1u << 20);
	rc = ical_export_event(c, "agenda, first; then\nmore", instance,
			       "REQUEST", &b, &error);
	assert_int_equal(rc, want);
	if (rc != 0) {
		assert_non_null(error);
		buf_free(&b);
		return NULL;
	}
	return (char *)buf_steal(&b, NULL);
}

static void
test_export_series(void **state)
{
	struct fixture f;
	Rpc__CalException moved;
	Rpc__CalException *xs[2];
	char *t;

	(void)state;
	berlin_fixture(&f);
	rpc__cal_exception__init(&moved);
	moved.exception_start_time = T0 + 2 * WEEK;
	moved.has_start_time = moved.has_end_time = true;
	moved.start_time = T0 + 2 * WEEK + 86400;
	moved.end_time = T0 + 2 * WEEK + 86400 + 3600;
	moved.has_subject = true;
	moved.subject = "Moved";
	xs[0] = &f.x;
	xs[1] = &moved;
	f.c.exceptions = xs;
	f.c.n_exceptions = 2;
	f.rec.has_first_day_of_week = true;
	f.rec.first_day_of_week = 0; /* Sunday; Monday is RFC 5545's default */
	t = export(&f.c, 0, 0);
	/* 09:00 UTC in December is 10:00 in Berlin. */
	assert_non_null(strstr(t, "METHOD:REQUEST"));
	assert_non_null(strstr(t, "TZID:Europe/Berlin"));
	assert_non_null(
	    strstr(t, "DTSTART;TZID=Europe/Berlin:20261201T100000"));
	assert_non_null(strstr(t, "DTEND;TZID=Europe/Berlin:20261201T110000"));
	assert_non_null(
	    strstr(t, "RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=TU;WKST=SU"));
	assert_non_null(strstr(t, "EXDATE;TZID=Europe/Berlin:20261208T100000"));
	assert_non_null(
	    strstr(t, "RECURRENCE-ID;TZID=Europe/Berlin:20261215T100000"));
	assert_non_null(
	    strstr(t, "DTSTART;TZID=Europe/Berlin:20261216T100000"));
	assert_non_null(strstr(t, "SUMMARY:Moved"));
	assert_non_null(strstr(t, "UID:uid-1"));
	assert_non_null(strstr(t, "LOCATION:Room 7"));
	/* RFC 5545 3.3.11: commas, semicolons and newlines escaped. */
	assert_non_null(strstr(t, "DESCRIPTION:agenda\\, first\\; then"));
	assert_non_null(strstr(t, "ORGANIZER:mailto:alice@example.org"));
	assert_non_null(strstr(t, "PARTSTAT=ACCEPTED"));
	assert_non_null(strstr(t, "ROLE=REQ-PARTICIPANT"));
	assert_non_null(strstr(t, "CATEGORIES:Work"));
	assert_non_null(strstr(t, "TRIGGER:-PT15M"));
	free(t);

	/* The occurrence of 2026-12-15: moved; one VEVENT, no RRULE. */
	t = export(&f.c, T0 + 2 * WEEK, 0);
	assert_null(strstr(t, "RRULE:FREQ=WEEKLY"));
	assert_null(strstr(t, "EXDATE"));
	assert_non_null(
	    strstr(t, "RECURRENCE-ID;TZID=Europe/Berlin:20261215T100000"));
	assert_non_null(strstr(t, "SUMMARY:Moved"));
	assert_null(strstr(strstr(t, "BEGIN:VEVENT") + 1, "BEGIN:VEVENT"));
	/* No 'Z' after a local time with TZID (RFC 5545 3.3.5). */
	assert_null(strstr(t, "20261216T100000Z"));
	free(t);
	/* An unmoved occurrence: the series' fields at that time. */
	t = export(&f.c, T0 + 3 * WEEK, 0);
	assert_non_null(
	    strstr(t, "DTSTART;TZID=Europe/Berlin:20261222T100000"));
	assert_non_null(strstr(t, "SUMMARY:Weekly sync"));
	free(t);
	/* Deleted, off the rule, past the count: no such occurrence. */
	assert_null(export(&f.c, T0 + WEEK, -1));
	assert_null(export(&f.c, T0 + 3 * WEEK + 60, -1));
	assert_null(export(&f.c, T0 + 10 * WEEK, -1));
	/* A single event has no occurrences. */
	f.c.recurrence = NULL;
	assert_null(export(&f.c, T0, -1));
}

static void
test_export_forms(void **state)
{
	struct fixture f;
	char *t;
	struct buf b;
	const char *error = NULL;

	(void)state;
	/* No zone: UTC times. */
	fixture(&f);
	f.c.n_exceptions = 0;
	t = export(&f.c, 0, 0);
	assert_non_null(strstr(t, "DTSTART:20261201T090000Z"));
	assert_null(strstr(t, "VTIMEZONE"));
	free(t);
	/* Monthly on the last Friday, until a date; all-day in Berlin: the
	 * local date, as DATE values. */
	berlin_fixture(&f);
	f.c.n_exceptions = 0;
	f.c.all_day_event = true;
	f.c.start_time = T0 - 10 * 3600; /* 2026-11-30T23:00Z = 1 Dec local */
	f.c.end_time = f.c.start_time + 86400;
	f.rec.type = 3;
	f.rec.week_of_month = 5;
	f.rec.day_of_week = 32;
	f.rec.occurrences = 0;
	f.rec.until = T0 + 365 * INT64_C(86400);
	t = export(&f.c, 0, 0);
	assert_non_null(strstr(t, "DTSTART;VALUE=DATE:20261201"));
	assert_non_null(strstr(t, "FREQ=MONTHLY"));
	assert_non_null(strstr(t, "BYDAY=-1FR"));
	assert_non_null(strstr(t, "UNTIL=2027"));
	free(t);
	/* Yearly on 24 December. */
	fixture(&f);
	f.c.n_exceptions = 0;
	f.rec.type = 5;
	f.rec.day_of_month = 24;
	f.rec.month_of_year = 12;
	t = export(&f.c, 0, 0);
	assert_non_null(strstr(t, "FREQ=YEARLY"));
	assert_non_null(strstr(t, "BYMONTHDAY=24"));
	assert_non_null(strstr(t, "BYMONTH=12"));
	free(t);
	buf_init(&b, 1024);
	assert_int_equal(ical_export_event(&f.c, NULL, 0, "NOSUCH", &b, &error),
			 -1);
	buf_free(&b);
}

static void
test_forward_original(void **state)
{
	struct fixture f;
	struct item it;
	uint8_t *mime = NULL;
	size_t len = 0;
	const char *error = NULL;
	int64_t t;
	char *text;

	(void)state;
	berlin_fixture(&f);
	f.c.subject = "Evil\r\nBcc: victim@example.com";
	memset(&it, 0, sizeof(it));
	item_props_init(&it.props);
	assert_int_equal(calendar_props_set(&it.props, &f.c, NULL), 0);
	assert_int_equal(calendar_forward_original(&it, T0 + 3 * WEEK, T0,
						   &mime, &len, &error),
			 0);
	text = (char *)mime;
	assert_int_equal(strlen(text), len);
	/* The subject stays on its line: no injected header. */
	assert_non_null(
	    strstr(text, "Subject: Evil  Bcc: victim@example.com\r\n"));
	assert_null(strstr(text, "\r\nBcc:"));
	assert_non_null(strstr(text, "From: <alice@example.org>"));
	assert_non_null(
	    strstr(text, "Content-Type: text/calendar; method=REQUEST"));
	assert_non_null(strstr(text, "When: 2026-12-22 09:00 UTC"));
	assert_non_null(strstr(text, "RECURRENCE-ID;TZID=Europe/Berlin"));
	free(mime);
	/* A deleted occurrence, or an item without an event: refused. */
	assert_int_equal(
	    calendar_forward_original(&it, T0 + WEEK, T0, &mime, &len, &error),
	    -1);
	item_props_clear(&it.props);
	assert_int_equal(
	    calendar_forward_original(&it, 0, T0, &mime, &len, &error), -1);
	assert_string_equal(error, "the item holds no event");
	/* InstanceId forms (MS-ASCMD 2.2.3.90 and the compact one). */
	assert_int_equal(calendar_parse_time("2026-12-01T09:00:00.000Z", &t),
			 0);
	assert_int_equal(t, T0);
	assert_int_equal(calendar_parse_time("20261201T090000Z", &t), 0);
	assert_int_equal(t, T0);
	assert_int_equal(calendar_parse_time("2026-12-01T09:00:00", &t), -1);
	assert_int_equal(calendar_parse_time("2026-13-01T09:00:00Z", &t), -1);
	assert_int_equal(calendar_parse_time("", &t), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_props_round_trip),
	    cmocka_unit_test(test_validate_bounds),
	    cmocka_unit_test(test_item_date),
	    cmocka_unit_test(test_set_instance),
	    cmocka_unit_test(test_tz_to_iana),
	    cmocka_unit_test(test_export_series),
	    cmocka_unit_test(test_export_forms),
	    cmocka_unit_test(test_forward_original),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
