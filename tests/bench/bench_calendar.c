/*
 * Calendar benchmark (`make bench`, release build): the costs a phone's
 * calendar sync adds on top of mail.  Measures, each for about a second
 * (at least 3 rounds): decoding a client's recurring meeting (20
 * attendees, 10 exceptions) from its WBXML tree, encoding it back at
 * 16.1, packing it to the stored form and back, and rendering it as
 * iCalendar; then the one-time cost of libical's zone table behind the
 * TIME_ZONE_INFORMATION -> IANA mapping (first call in a process) and a
 * lookup after it.  Prints operations per second; never fails on a figure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cas/calendar_wbxml.h"
#include "mailbox/calendar.h"
#include "mailbox/ical.h"
#include "proto/buf.h"
#include "proto/tzinfo.h"
#include "proto/wbxml_tree.h"

#define BENCH_MIN_NS 1000000000.0

int main(void);

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
build_event(struct buf *out)
{
	struct wbxml_enc e;
	char s[64];

	wbxml_enc_init_buf(&e, out);
	wbxml_enc_start(&e, EAS_AIRSYNC_APPLICATION_DATA);
	wbxml_enc_str(&e, EAS_CALENDAR_SUBJECT, "Weekly planning meeting");
	wbxml_enc_str(&e, EAS_CALENDAR_START_TIME, "20261201T090000Z");
	wbxml_enc_str(&e, EAS_CALENDAR_END_TIME, "20261201T100000Z");
	wbxml_enc_str(&e, EAS_CALENDAR_LOCATION, "Building 4, room 217");
	wbxml_enc_str(&e, EAS_CALENDAR_UID, "040000008200E00074C5B7101A82E008");
	wbxml_enc_str(&e, EAS_CALENDAR_ORGANIZER_EMAIL, "alice@example.org");
	wbxml_enc_uint(&e, EAS_CALENDAR_REMINDER, 15);
	wbxml_enc_start(&e, EAS_AIRSYNCBASE_BODY);
	wbxml_enc_uint(&e, EAS_AIRSYNCBASE_TYPE, 1);
	wbxml_enc_str(&e, EAS_AIRSYNCBASE_DATA,
		      "Agenda: status of each team, risks, next steps.");
	wbxml_enc_end(&e);
	wbxml_enc_start(&e, EAS_CALENDAR_ATTENDEES);
	for (int i = 0; i < 20; i++) {
		wbxml_enc_start(&e, EAS_CALENDAR_ATTENDEE);
		(void)snprintf(s, sizeof(s), "person%d@example.com", i);
		wbxml_enc_str(&e, EAS_CALENDAR_EMAIL, s);
		(void)snprintf(s, sizeof(s), "Person %d", i);
		wbxml_enc_str(&e, EAS_CALENDAR_NAME, s);
		wbxml_enc_uint(&e, EAS_CALENDAR_ATTENDEE_TYPE, 1);
		wbxml_enc_end(&e);
	}
	wbxml_enc_end(&e);
	wbxml_enc_start(&e, EAS_CALENDAR_RECURRENCE);
	wbxml_enc_uint(&e, EAS_CALENDAR_TYPE, 1);
	wbxml_enc_uint(&e, EAS_CALENDAR_INTERVAL, 1);
	wbxml_enc_uint(&e, EAS_CALENDAR_DAY_OF_WEEK, 4);
	wbxml_enc_end(&e);
	wbxml_enc_start(&e, EAS_CALENDAR_EXCEPTIONS);
	for (int i = 1; i <= 10; i++) {
		wbxml_enc_start(&e, EAS_CALENDAR_EXCEPTION);
		(void)snprintf(s, sizeof(s), "2027%02d%02dT090000Z", 1 + i / 4,
			       1 + (i * 7) % 28);
		wbxml_enc_str(&e, EAS_CALENDAR_EXCEPTION_START_TIME, s);
		wbxml_enc_uint(&e, EAS_CALENDAR_DELETED, 1);
		wbxml_enc_end(&e);
	}
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	if (wbxml_enc_finish(&e) != 0)
		abort();
}

/* Runs op until BENCH_MIN_NS have passed; returns operations/s. */
#define MEASURE(rate, body)                                                \
	do {                                                               \
		double m_t0 = now_ns(), m_t;                               \
		long n = 0;                                                \
		do {                                                       \
			body;                                              \
			n++;                                               \
		} while ((m_t = now_ns() - m_t0) < BENCH_MIN_NS || n < 3); \
		(rate) = (double)n * 1e9 / m_t;                            \
	} while (0)

int
main(void)
{
	struct buf doc, out, ics;
	struct wbxml_tree *tree = NULL;
	Rpc__Calendar *cal = NULL, *back;
	Rpc__Body *body = NULL;
	const char *error = NULL;
	struct item_props p;
	struct tzinfo tz = {.bias = -60};
	uint8_t blob[TZINFO_BLOB_BYTES];
	char name[64];
	double rate, t0;

	buf_init(&doc, 1u << 20);
	buf_init(&out, 1u << 20);
	buf_init(&ics, 1u << 20);
	build_event(&doc);
	if (wbxml_tree_parse(doc.data, doc.len, &tree, NULL, NULL) != 0)
		abort();
	printf("event: %zu bytes of WBXML, 20 attendees, 10 exceptions\n",
	       doc.len);
	MEASURE(rate, {
		if (calendar_wbxml_decode(wbxml_tree_root(tree), 141, &cal,
					  &body, &error) != 0)
			abort();
		calendar_wbxml_free(&cal, &body);
	});
	printf("decode (tree -> rpc.Calendar):  %10.0f events/s\n", rate);
	if (calendar_wbxml_decode(wbxml_tree_root(tree), 141, &cal, &body,
				  &error) != 0)
		abort();
	MEASURE(rate, {
		struct wbxml_enc e;

		buf_reset(&out);
		wbxml_enc_init_buf(&e, &out);
		wbxml_enc_start(&e, EAS_AIRSYNC_APPLICATION_DATA);
		(void)calendar_wbxml_encode(&e, cal, body, 161);
		wbxml_enc_end(&e);
		if (wbxml_enc_finish(&e) != 0)
			abort();
	});
	printf("encode at 16.1 (-> WBXML):      %10.0f events/s\n", rate);
	MEASURE(rate, {
		item_props_init(&p);
		if (calendar_props_set(&p, cal, body) != 0)
			abort();
		back = calendar_from_props(&p, NULL);
		if (back == NULL)
			abort();
		rpc__calendar__free_unpacked(back, NULL);
		item_props_clear(&p);
	});
	printf("store form (pack + unpack):     %10.0f events/s\n", rate);
	/* The zone table: built once per process, on the first lookup. */
	tz.std_date.month = 10;
	tz.std_date.day = 5;
	tz.std_date.hour = 3;
	tz.dst_date.month = 3;
	tz.dst_date.day = 5;
	tz.dst_date.hour = 2;
	tz.dst_bias = -60;
	tzinfo_encode(&tz, blob);
	t0 = now_ns();
	if (ical_tz_name_from_blob(blob, name, sizeof(name)) != 0)
		abort();
	printf("zone table, first lookup:       %10.1f ms (-> %s)\n",
	       (now_ns() - t0) / 1e6, name);
	MEASURE(rate, {
		if (ical_tz_name_from_blob(blob, name, sizeof(name)) != 0)
			abort();
	});
	printf("blob -> IANA zone, later:       %10.0f lookups/s\n", rate);
	cal->tzid = name;
	MEASURE(rate, {
		buf_reset(&ics);
		if (ical_export_event(cal, NULL, 0, "REQUEST", &ics, &error) !=
		    0)
			abort();
	});
	printf(
	    "iCalendar export (with VTIMEZONE): %7.0f events/s (%zu bytes)\n",
	    rate, ics.len);
	cal->tzid = NULL;
	calendar_wbxml_free(&cal, &body);
	wbxml_tree_free(&tree);
	buf_free(&doc);
	buf_free(&out);
	buf_free(&ics);
	return 0;
}
