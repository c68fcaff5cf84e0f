/* Unit tests for cas/calendar_wbxml.c: a client's event decoded field for
 * field (compact and extended times, 16.0 Location and InstanceId, an
 * iOS ClientUid ending in NUL kept bit-exact), each CAL_MAX_* count and
 * bad value refused without a leak, and the encoder's output per protocol
 * version (2.5 calendar:Body, 12.0 attendee status, 14.x additions, 16.x
 * Location and InstanceId), decoded back to the same event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas/calendar_wbxml.h"
#include "proto/buf.h"
#include "proto/limits.h"
#include "proto/wbxml_tree.h"
#include "proto/wbxml_xml.h"
#include "tests/ref/wbxml_canon.h"

#define T0 INT64_C(1796115600) /* 2026-12-01T09:00:00Z */

static const char *argv0;
static struct buf scenario_wbxml;

struct doc {
	struct buf buf;
	struct wbxml_enc e;
	struct wbxml_tree *tree;
};

static void
doc_init(struct doc *d)
{
	buf_init(&d->buf, 64u << 20);
	wbxml_enc_init_buf(&d->e, &d->buf);
	d->tree = NULL;
	wbxml_enc_start(&d->e, EAS_AIRSYNC_APPLICATION_DATA);
}

static const struct wbxml_node *
doc_root(struct doc *d)
{
	wbxml_enc_end(&d->e);
	assert_int_equal(wbxml_enc_finish(&d->e), 0);
	assert_int_equal(
	    wbxml_tree_parse(d->buf.data, d->buf.len, &d->tree, NULL, NULL), 0);
	return wbxml_tree_root(d->tree);
}

static void
doc_free(struct doc *d)
{
	wbxml_tree_free(&d->tree);
	buf_free(&d->buf);
}

/* The weekly meeting of the integration test, as a 14.1 phone sends it. */
static void
put_event(struct wbxml_enc *e, unsigned version)
{
	/* 172 zero bytes (UTC) */
	static const char tz[] =
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

	wbxml_enc_str(e, EAS_CALENDAR_TIME_ZONE, tz);
	wbxml_enc_uint(e, EAS_CALENDAR_ALL_DAY_EVENT, 0);
	wbxml_enc_start(e, EAS_AIRSYNCBASE_BODY);
	wbxml_enc_uint(e, EAS_AIRSYNCBASE_TYPE, 1);
	wbxml_enc_str(e, EAS_AIRSYNCBASE_DATA, "Agenda");
	wbxml_enc_end(e);
	wbxml_enc_uint(e, EAS_CALENDAR_BUSY_STATUS, 2);
	wbxml_enc_str(e, EAS_CALENDAR_ORGANIZER_EMAIL, "alice@example.org");
	wbxml_enc_str(e, EAS_CALENDAR_DT_STAMP, "20261120T080000Z");
	wbxml_enc_str(e, EAS_CALENDAR_END_TIME, "2026-12-01T10:00:00.000Z");
	if (version >= 160) {
		wbxml_enc_start(e, EAS_AIRSYNCBASE_LOCATION);
		wbxml_enc_str(e, EAS_AIRSYNCBASE_DISPLAY_NAME, "Room 7");
		wbxml_enc_end(e);
	} else {
		wbxml_enc_str(e, EAS_CALENDAR_LOCATION, "Room 7");
	}
	wbxml_enc_uint(e, EAS_CALENDAR_REMINDER, 15);
	wbxml_enc_str(e, EAS_CALENDAR_SUBJECT, "Weekly sync");
	wbxml_enc_str(e, EAS_CALENDAR_START_TIME, "20261201T090000Z");
	wbxml_enc_str(e, EAS_CALENDAR_UID, "uid-1");
	wbxml_enc_uint(e, EAS_CALENDAR_MEETING_STATUS, 1);
	wbxml_enc_start(e, EAS_CALENDAR_ATTENDEES);
	wbxml_enc_start(e, EAS_CALENDAR_ATTENDEE);
	wbxml_enc_str(e, EAS_CALENDAR_EMAIL, "bob@example.com");
	wbxml_enc_str(e, EAS_CALENDAR_NAME, "Bob");
	wbxml_enc_uint(e, EAS_CALENDAR_ATTENDEE_STATUS, 3);
	wbxml_enc_uint(e, EAS_CALENDAR_ATTENDEE_TYPE, 1);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
	wbxml_enc_start(e, EAS_CALENDAR_CATEGORIES);
	wbxml_enc_str(e, EAS_CALENDAR_CATEGORY, "Work");
	wbxml_enc_end(e);
	wbxml_enc_start(e, EAS_CALENDAR_RECURRENCE);
	wbxml_enc_uint(e, EAS_CALENDAR_TYPE, 1);
	wbxml_enc_uint(e, EAS_CALENDAR_INTERVAL, 1);
	wbxml_enc_uint(e, EAS_CALENDAR_OCCURRENCES, 10);
	wbxml_enc_uint(e, EAS_CALENDAR_DAY_OF_WEEK, 4);
	wbxml_enc_uint(e, EAS_CALENDAR_FIRST_DAY_OF_WEEK, 1);
	wbxml_enc_uint(e, EAS_CALENDAR_CALENDAR_TYPE, 1);
	wbxml_enc_end(e);
	wbxml_enc_start(e, EAS_CALENDAR_EXCEPTIONS);
	wbxml_enc_start(e, EAS_CALENDAR_EXCEPTION);
	wbxml_enc_uint(e, EAS_CALENDAR_DELETED, 1);
	wbxml_enc_str(e,
		      version >= 160 ? EAS_AIRSYNCBASE_INSTANCE_ID
				     : EAS_CALENDAR_EXCEPTION_START_TIME,
		      "20261208T090000Z");
	wbxml_enc_end(e);
	wbxml_enc_start(e, EAS_CALENDAR_EXCEPTION);
	wbxml_enc_str(e, EAS_CALENDAR_EXCEPTION_START_TIME, "20261215T090000Z");
	wbxml_enc_str(e, EAS_CALENDAR_SUBJECT, "Moved");
	wbxml_enc_str(e, EAS_CALENDAR_START_TIME, "20261216T130000Z");
	wbxml_enc_str(e, EAS_CALENDAR_END_TIME, "20261216T140000Z");
	wbxml_enc_start(e, EAS_CALENDAR_CATEGORIES);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
	wbxml_enc_uint(e, EAS_CALENDAR_RESPONSE_REQUESTED, 1);
	wbxml_enc_uint(e, EAS_CALENDAR_DISALLOW_NEW_TIME_PROPOSAL, 0);
}

static void
check_event(const Rpc__Calendar *c, const Rpc__Body *body)
{
	assert_int_equal(c->time_zone.len, CAL_TZ_BLOB_BYTES);
	assert_int_equal(c->start_time, T0);
	assert_int_equal(c->end_time, T0 + 3600);
	assert_int_equal(c->dt_stamp, T0 - 11 * 86400 - 3600);
	assert_string_equal(c->subject, "Weekly sync");
	assert_string_equal(c->location, "Room 7");
	assert_int_equal(c->uid.len, 5);
	assert_memory_equal(c->uid.data, "uid-1", 5);
	assert_string_equal(c->organizer_email, "alice@example.org");
	assert_true(c->has_busy_status);
	assert_int_equal(c->busy_status, 2);
	assert_true(c->has_reminder);
	assert_int_equal(c->reminder, 15);
	assert_false(c->has_sensitivity);
	assert_true(c->has_meeting_status);
	assert_int_equal(c->n_attendees, 1);
	assert_string_equal(c->attendees[0]->email, "bob@example.com");
	assert_string_equal(c->attendees[0]->name, "Bob");
	assert_int_equal(c->n_categories, 1);
	assert_string_equal(c->categories[0], "Work");
	assert_non_null(c->recurrence);
	assert_int_equal(c->recurrence->type, 1);
	assert_int_equal(c->recurrence->occurrences, 10);
	assert_int_equal(c->recurrence->day_of_week, 4);
	assert_true(c->has_exceptions);
	assert_int_equal(c->n_exceptions, 2);
	assert_true(c->exceptions[0]->deleted);
	assert_int_equal(c->exceptions[0]->exception_start_time,
			 T0 + 7 * 86400);
	assert_false(c->exceptions[1]->deleted);
	assert_true(c->exceptions[1]->has_subject);
	assert_string_equal(c->exceptions[1]->subject, "Moved");
	assert_int_equal(c->exceptions[1]->start_time,
			 T0 + 15 * 86400 + 4 * 3600);
	assert_true(c->exceptions[1]->has_categories); /* empty: cleared */
	assert_int_equal(c->exceptions[1]->n_categories, 0);
	assert_false(c->exceptions[1]->has_location);
	assert_true(c->has_response_requested);
	assert_true(c->response_requested);
	assert_true(c->has_disallow_new_time_proposal);
	assert_false(c->disallow_new_time_proposal);
	assert_non_null(body);
	assert_int_equal(body->type, 1);
	assert_int_equal(body->data.len, 6);
	assert_memory_equal(body->data.data, "Agenda", 6);
}

static void
test_decode_full(void **state)
{
	static const unsigned versions[] = {141, 161};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct doc d;
		Rpc__Calendar *c;
		Rpc__Body *body;
		const char *error = NULL;
		const struct wbxml_node *root;

		doc_init(&d);
		put_event(&d.e, versions[i]);
		root = doc_root(&d);
		assert_true(calendar_wbxml_is_event(root));
		assert_int_equal(
		    calendar_wbxml_decode(root, versions[i], &c, &body, &error),
		    0);
		check_event(c, body);
		assert_int_equal(c->attendees[0]->status, 3);
		assert_true(c->recurrence->has_first_day_of_week);
		calendar_wbxml_free(&c, &body);
		assert_null(c);
		assert_null(body);
		doc_free(&d);
	}
}

/* iOS (16.1): a 33-character ClientUid whose last byte is NUL, as
 * OPAQUE; kept byte for byte. */
static void
test_ios_client_uid(void **state)
{
	static const uint8_t uid[33] = "A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6";
	struct doc d;
	Rpc__Calendar *c;
	Rpc__Body *body;
	const char *error = NULL;

	(void)state;
	doc_init(&d);
	wbxml_enc_str(&d.e, EAS_CALENDAR_SUBJECT, "x");
	wbxml_enc_str(&d.e, EAS_CALENDAR_START_TIME, "20261201T090000Z");
	wbxml_enc_opaque(&d.e, EAS_CALENDAR_CLIENT_UID, uid, sizeof(uid));
	assert_int_equal(
	    calendar_wbxml_decode(doc_root(&d), 161, &c, &body, &error), 0);
	assert_int_equal(c->client_uid.len, 33);
	assert_memory_equal(c->client_uid.data, uid, 33);
	assert_int_equal(c->end_time, c->start_time); /* EndTime absent */
	assert_null(body);
	calendar_wbxml_free(&c, &body);
	doc_free(&d);
}

/* Decoding must fail with an error and nothing allocated. */
static void
refused(struct doc *d, const char *want)
{
	Rpc__Calendar *c = (Rpc__Calendar *)1;
	Rpc__Body *body = (Rpc__Body *)1;
	const char *error = NULL;

	assert_int_equal(
	    calendar_wbxml_decode(doc_root(d), 141, &c, &body, &error), -1);
	assert_null(c);
	assert_null(body);
	assert_non_null(error);
	if (want != NULL)
		assert_string_equal(error, want);
	doc_free(d);
}

static void
test_refused(void **state)
{
	struct doc d;

	(void)state;
	doc_init(&d);
	wbxml_enc_str(&d.e, EAS_CALENDAR_TIME_ZONE, "AAAA");
	refused(&d, "TimeZone is not a TIME_ZONE_INFORMATION");
	doc_init(&d);
	wbxml_enc_str(&d.e, EAS_CALENDAR_START_TIME, "20261301T090000Z");
	refused(&d, "bad time");
	doc_init(&d);
	wbxml_enc_str(&d.e, EAS_CALENDAR_START_TIME, "20261201T0900Z");
	refused(&d, "bad time");
	doc_init(&d);
	wbxml_enc_uint(&d.e, EAS_CALENDAR_BUSY_STATUS, 5);
	refused(&d, "bad number");
	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_CALENDAR_RECURRENCE);
	wbxml_enc_uint(&d.e, EAS_CALENDAR_INTERVAL, 2);
	wbxml_enc_end(&d.e);
	refused(&d, "bad recurrence"); /* no Type */
	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_CALENDAR_EXCEPTIONS);
	wbxml_enc_start(&d.e, EAS_CALENDAR_EXCEPTION);
	wbxml_enc_str(&d.e, EAS_CALENDAR_SUBJECT, "no start");
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	refused(&d, "exception without its start time");
	/* Counts: one past each limit. */
	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_CALENDAR_ATTENDEES);
	for (size_t i = 0; i <= CAL_MAX_ATTENDEES; i++) {
		wbxml_enc_start(&d.e, EAS_CALENDAR_ATTENDEE);
		wbxml_enc_str(&d.e, EAS_CALENDAR_EMAIL, "a@b");
		wbxml_enc_end(&d.e);
	}
	wbxml_enc_end(&d.e);
	refused(&d, "too many attendees");
	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_CALENDAR_CATEGORIES);
	for (size_t i = 0; i <= CAL_MAX_CATEGORIES; i++)
		wbxml_enc_str(&d.e, EAS_CALENDAR_CATEGORY, "c");
	wbxml_enc_end(&d.e);
	refused(&d, "too many categories");
	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_CALENDAR_EXCEPTIONS);
	for (size_t i = 0; i <= CAL_MAX_EXCEPTIONS; i++) {
		wbxml_enc_start(&d.e, EAS_CALENDAR_EXCEPTION);
		wbxml_enc_str(&d.e, EAS_CALENDAR_EXCEPTION_START_TIME,
			      "20261208T090000Z");
		wbxml_enc_end(&d.e);
	}
	wbxml_enc_end(&d.e);
	refused(&d, "too many exceptions");
	/* A bad attendee after good ones frees them all (LeakSanitizer). */
	doc_init(&d);
	wbxml_enc_start(&d.e, EAS_CALENDAR_ATTENDEES);
	wbxml_enc_start(&d.e, EAS_CALENDAR_ATTENDEE);
	wbxml_enc_str(&d.e, EAS_CALENDAR_EMAIL, "a@b");
	wbxml_enc_end(&d.e);
	wbxml_enc_start(&d.e, EAS_CALENDAR_ATTENDEE);
	wbxml_enc_uint(&d.e, EAS_CALENDAR_ATTENDEE_TYPE, 9);
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	refused(&d, "bad number");
}

/* Encode at version, parse, return the tree's root (for element checks)
 * and the event decoded back. */
static const struct wbxml_node *
encode(struct doc *out, const Rpc__Calendar *c, const Rpc__Body *body,
       unsigned version)
{
	doc_init(out);
	assert_int_equal(calendar_wbxml_encode(&out->e, c, body, version), 0);
	return doc_root(out);
}

static void
test_encode_versions(void **state)
{
	struct doc in, out;
	Rpc__Calendar *c, *back;
	Rpc__Body *body, *bback;
	const char *error = NULL;
	const struct wbxml_node *root, *n;
	static const uint16_t exc[] = {EAS_CALENDAR_EXCEPTIONS,
				       EAS_CALENDAR_EXCEPTION};

	(void)state;
	doc_init(&in);
	put_event(&in.e, 141);
	assert_int_equal(
	    calendar_wbxml_decode(doc_root(&in), 141, &c, &body, &error), 0);

	/* 14.1 decodes back to the same event. */
	root = encode(&out, c, body, 141);
	assert_int_equal(
	    calendar_wbxml_decode(root, 141, &back, &bback, &error), 0);
	check_event(back, bback);
	calendar_wbxml_free(&back, &bback);
	assert_true(wbxml_child_present(root, EAS_CALENDAR_LOCATION));
	assert_true(wbxml_child_present(root, EAS_CALENDAR_RESPONSE_REQUESTED));
	n = wbxml_node_path(root, exc, 2);
	assert_non_null(n);
	assert_true(wbxml_child_present(n, EAS_CALENDAR_EXCEPTION_START_TIME));
	doc_free(&out);

	/* 16.1: Location as airsyncbase:Location, InstanceId; back again. */
	root = encode(&out, c, body, 161);
	assert_false(wbxml_child_present(root, EAS_CALENDAR_LOCATION));
	assert_true(wbxml_child_present(root, EAS_AIRSYNCBASE_LOCATION));
	n = wbxml_node_path(root, exc, 2);
	assert_true(wbxml_child_present(n, EAS_AIRSYNCBASE_INSTANCE_ID));
	assert_false(wbxml_child_present(n, EAS_CALENDAR_EXCEPTION_START_TIME));
	assert_int_equal(
	    calendar_wbxml_decode(root, 161, &back, &bback, &error), 0);
	check_event(back, bback);
	calendar_wbxml_free(&back, &bback);
	doc_free(&out);

	/* 12.0: no 14.x elements; attendees keep status and type. */
	root = encode(&out, c, body, 120);
	assert_false(
	    wbxml_child_present(root, EAS_CALENDAR_RESPONSE_REQUESTED));
	assert_false(
	    wbxml_child_present(root, EAS_CALENDAR_DISALLOW_NEW_TIME_PROPOSAL));
	assert_true(wbxml_child_present(root, EAS_AIRSYNCBASE_BODY));
	n = wbxml_node_child(wbxml_node_child(root, EAS_CALENDAR_ATTENDEES),
			     EAS_CALENDAR_ATTENDEE);
	assert_true(wbxml_child_present(n, EAS_CALENDAR_ATTENDEE_STATUS));
	n = wbxml_node_child(root, EAS_CALENDAR_RECURRENCE);
	assert_false(wbxml_child_present(n, EAS_CALENDAR_FIRST_DAY_OF_WEEK));
	assert_false(wbxml_child_present(n, EAS_CALENDAR_CALENDAR_TYPE));
	doc_free(&out);

	/* 2.5: calendar:Body, attendees without status. */
	root = encode(&out, c, body, 25);
	assert_false(wbxml_child_present(root, EAS_AIRSYNCBASE_BODY));
	assert_true(wbxml_child_present(root, EAS_CALENDAR_BODY));
	assert_true(wbxml_child_present(root, EAS_CALENDAR_BODY_TRUNCATED));
	n = wbxml_node_child(wbxml_node_child(root, EAS_CALENDAR_ATTENDEES),
			     EAS_CALENDAR_ATTENDEE);
	assert_false(wbxml_child_present(n, EAS_CALENDAR_ATTENDEE_STATUS));
	assert_int_equal(calendar_wbxml_decode(root, 25, &back, &bback, &error),
			 0);
	assert_int_equal(bback->data.len, 6);
	calendar_wbxml_free(&back, &bback);
	doc_free(&out);

	/* No TimeZone stored: UTC is sent; a UID with NUL goes opaque. */
	c->time_zone.len = 0;
	memcpy(c->uid.data, "ab\0cd", 5);
	root = encode(&out, c, NULL, 161);
	assert_true(wbxml_child_present(root, EAS_CALENDAR_TIME_ZONE));
	assert_false(wbxml_child_present(root, EAS_AIRSYNCBASE_BODY));
	assert_int_equal(
	    calendar_wbxml_decode(root, 161, &back, &bback, &error), 0);
	assert_int_equal(back->time_zone.len, CAL_TZ_BLOB_BYTES);
	assert_memory_equal(back->uid.data, "ab\0cd", 5);
	calendar_wbxml_free(&back, &bback);
	doc_free(&out);
	c->time_zone.len = CAL_TZ_BLOB_BYTES;

	calendar_wbxml_free(&c, &body);
	doc_free(&in);
}

static void
test_times(void **state)
{
	int64_t t;
	char out[CALENDAR_WBXML_TIME_BYTES];

	(void)state;
	assert_int_equal(calendar_wbxml_parse_time("20261201T090000Z", &t), 0);
	assert_int_equal(t, T0);
	assert_int_equal(
	    calendar_wbxml_parse_time("2026-12-01T09:00:00.000Z", &t), 0);
	assert_int_equal(t, T0);
	calendar_wbxml_format_time(T0, out);
	assert_string_equal(out, "20261201T090000Z");
	assert_int_equal(calendar_wbxml_parse_time("20261201T090000", &t), -1);
	assert_int_equal(calendar_wbxml_parse_time("20261201T090000Zx", &t),
			 -1);
	assert_int_equal(calendar_wbxml_parse_time("19691231T235959Z", &t), -1);
	assert_int_equal(calendar_wbxml_parse_time("", &t), -1);
}

/* The ApplicationData of the first Add of a scenario file (the XML form
 * of tests/scenarios), decoded at version. */
static int
decode_scenario(const char *rel, unsigned version, struct wbxml_tree **tree_r,
		Rpc__Calendar **c, Rpc__Body **body)
{
	static const uint16_t path[] = {EAS_AIRSYNC_COLLECTIONS,
					EAS_AIRSYNC_COLLECTION,
					EAS_AIRSYNC_COMMANDS, EAS_AIRSYNC_ADD,
					EAS_AIRSYNC_APPLICATION_DATA};
	char dir[4000], file[4096 + 200];
	struct buf xml, wb;
	struct wbxml_xml_error xerr;
	const struct wbxml_node *app;
	const char *error = NULL;
	int rc;

	assert_int_equal(
	    wbxml_canon_find("tests/scenarios", argv0, dir, sizeof(dir)), 0);
	(void)snprintf(file, sizeof(file), "%s/%s", dir, rel);
	buf_init(&xml, 1u << 20);
	buf_init(&wb, 1u << 20);
	assert_int_equal(wbxml_canon_read_file(file, &xml), 0);
	assert_int_equal(wbxml_xml_encode(xml.data, xml.len, &wb, &xerr), 0);
	assert_int_equal(wbxml_tree_parse(wb.data, wb.len, tree_r, NULL, NULL),
			 0);
	app = wbxml_node_path(wbxml_tree_root(*tree_r), path, 5);
	assert_non_null(app);
	assert_true(calendar_wbxml_is_event(app));
	rc = calendar_wbxml_decode(app, version, c, body, &error);
	buf_free(&xml);
	/* The tree points into wb: kept until the caller is done. */
	scenario_wbxml = wb;
	return rc;
}

/* iOS 16.1 (tests/scenarios/quirks): ClientUid 32 hex digits + NUL. */
static void
test_scenario_ios(void **state)
{
	struct wbxml_tree *tree = NULL;
	Rpc__Calendar *c;
	Rpc__Body *body;

	(void)state;
	assert_int_equal(
	    decode_scenario("quirks/ios-calendar-clientuid-request.xml", 161,
			    &tree, &c, &body),
	    0);
	assert_int_equal(c->client_uid.len, 33);
	assert_memory_equal(c->client_uid.data,
			    "A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6", 33);
	assert_int_equal(c->uid.len, 0);
	assert_string_equal(c->location, "Main Street 4");
	assert_string_equal(c->subject, "Dentist");
	assert_int_equal(c->reminder, 30);
	assert_int_equal(c->start_time, T0);
	calendar_wbxml_free(&c, &body);
	wbxml_tree_free(&tree);
	buf_free(&scenario_wbxml);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_full),
	    cmocka_unit_test(test_ios_client_uid),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_encode_versions),
	    cmocka_unit_test(test_times),
	    cmocka_unit_test(test_scenario_ios),
	};

	(void)argc;
	argv0 = argv[0];

	return cmocka_run_group_tests(tests, NULL, NULL);
}
