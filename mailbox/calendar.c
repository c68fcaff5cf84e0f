/*
 * Calendar items in the store (see calendar.h): validation of a client's
 * event against the CAL_MAX_* bounds, its stored form (one application
 * property: a version byte, then the packed rpc.Calendar), the FilterType
 * date of a series and the 16.0 instance model.  No SQL and no WBXML
 * here: rpc_sync.c calls these around store_sync_client_add / _change.
 */
#include "mailbox/calendar.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mailbox/ical.h"
#include "proto/buf.h"
#include "proto/limits.h"

/* The first byte of the stored property; a later incompatible form takes
 * the next value and this reader refuses it rather than misreading. */
#define CALENDAR_STORE_VERSION 1

#define DAY_S INT64_C(86400)

static bool
text_ok(const char *s)
{
	return s == NULL || strlen(s) <= CAL_MAX_TEXT_BYTES;
}

static bool
time_ok(int64_t t)
{
	return t >= 0 && t <= CALENDAR_DATE_FOREVER;
}

static bool
attendees_ok(Rpc__CalAttendee *const *a, size_t n)
{
	if (n > CAL_MAX_ATTENDEES)
		return false;
	for (size_t i = 0; i < n; i++) {
		/* MS-ASCAL 2.2.2.4 AttendeeStatus: 0, 2, 3, 4, 5. */
		if (!text_ok(a[i]->email) || !text_ok(a[i]->name) ||
		    (a[i]->has_status &&
		     (a[i]->status == 1 || a[i]->status > 5)) ||
		    (a[i]->has_type && (a[i]->type < 1 || a[i]->type > 3)))
			return false;
	}
	return true;
}

static bool
categories_ok(char *const *c, size_t n)
{
	if (n > CAL_MAX_CATEGORIES)
		return false;
	for (size_t i = 0; i < n; i++)
		if (c[i] == NULL || strlen(c[i]) > SYNC_MAX_CATEGORY_BYTES)
			return false;
	return true;
}

/* MS-ASCAL 2.2.2.29 MeetingStatus: 0, 1, 3, 5, 7, 9, 11, 13, 15. */
static bool
meeting_status_ok(uint32_t v)
{
	return v == 0 || (v <= 15 && (v & 1) != 0);
}

static bool
recurrence_ok(const Rpc__CalRecurrence *r)
{
	/* MS-ASCAL 2.2.2.44 Type: 0, 1, 2, 3, 5, 6. */
	if (r->type > 6 || r->type == 4 || r->interval > CAL_MAX_INTERVAL ||
	    r->occurrences > CAL_MAX_OCCURRENCES || r->week_of_month > 5 ||
	    r->day_of_week > 127 || r->day_of_month > 31 ||
	    r->month_of_year > 12 || !time_ok(r->until) ||
	    (r->has_first_day_of_week && r->first_day_of_week > 6) ||
	    (r->has_calendar_type && r->calendar_type > 23))
		return false;
	/* The rule needs its day: weekly a day mask, monthly a day of the
	 * month, nth forms a week and a day (MS-ASCAL 2.2.2.39). */
	switch (r->type) {
	case 1:
		return r->day_of_week != 0;
	case 2:
		return r->day_of_month != 0;
	case 3:
		return r->week_of_month != 0 && r->day_of_week != 0;
	case 5:
		return r->day_of_month != 0 && r->month_of_year != 0;
	case 6:
		return r->week_of_month != 0 && r->day_of_week != 0 &&
		       r->month_of_year != 0;
	default:
		return true;
	}
}

static bool
body_ok(const Rpc__Body *b)
{
	return b == NULL || b->data.len <= CAL_MAX_BODY_BYTES;
}

static bool
exception_ok(const Rpc__CalException *x)
{
	return x->exception_start_time > 0 &&
	       time_ok(x->exception_start_time) && text_ok(x->subject) &&
	       text_ok(x->location) && text_ok(x->online_meeting_conf_link) &&
	       text_ok(x->online_meeting_external_link) &&
	       time_ok(x->start_time) && time_ok(x->end_time) &&
	       (!x->has_start_time || !x->has_end_time ||
		x->end_time >= x->start_time) &&
	       x->sensitivity <= 3 && x->busy_status <= 4 &&
	       x->response_type <= 5 && meeting_status_ok(x->meeting_status) &&
	       attendees_ok(x->attendees, x->n_attendees) &&
	       categories_ok(x->categories, x->n_categories) &&
	       body_ok(x->body);
}

int
calendar_validate(const Rpc__Calendar *c, const Rpc__Body *body,
		  const char **error_r)
{
	const char *error = NULL;

	if (c->time_zone.len != 0 && c->time_zone.len != CAL_TZ_BLOB_BYTES)
		error = "TimeZone is not a TIME_ZONE_INFORMATION";
	else if (!time_ok(c->start_time) || !time_ok(c->end_time) ||
		 !time_ok(c->dt_stamp) || c->end_time < c->start_time)
		error = "bad StartTime or EndTime";
	else if (!text_ok(c->subject) || !text_ok(c->location) ||
		 !text_ok(c->organizer_name) || !text_ok(c->organizer_email) ||
		 !text_ok(c->online_meeting_conf_link) ||
		 !text_ok(c->online_meeting_external_link) || !text_ok(c->tzid))
		error = "text field too long";
	else if (c->uid.len > CAL_MAX_UID_BYTES ||
		 c->client_uid.len > CAL_MAX_UID_BYTES)
		error = "UID too long";
	else if (c->sensitivity > 3 || c->busy_status > 4 ||
		 c->response_type > 5 || !meeting_status_ok(c->meeting_status))
		error = "value out of range";
	else if (!attendees_ok(c->attendees, c->n_attendees))
		error = "bad or too many attendees";
	else if (!categories_ok(c->categories, c->n_categories))
		error = "bad or too many categories";
	else if (c->recurrence != NULL && !recurrence_ok(c->recurrence))
		error = "bad recurrence";
	else if (c->n_exceptions > CAL_MAX_EXCEPTIONS ||
		 (c->n_exceptions > 0 && c->recurrence == NULL))
		error = "exceptions without a recurrence, or too many";
	else if (!body_ok(body))
		error = "body too large";
	for (size_t i = 0; error == NULL && i < c->n_exceptions; i++)
		if (!exception_ok(c->exceptions[i]))
			error = "bad exception";
	if (error != NULL) {
		if (error_r != NULL)
			*error_r = error;
		return -1;
	}
	return 0;
}

int
calendar_props_set(struct item_props *p, const Rpc__Calendar *c,
		   const Rpc__Body *body)
{
	size_t len = rpc__calendar__get_packed_size(c);
	uint8_t *blob;
	int ret = -1;

	if (len >= STORE_MAX_PROPS_BYTES)
		return -1;
	blob = malloc(len + 1);
	if (blob == NULL)
		return -1;
	blob[0] = CALENDAR_STORE_VERSION;
	(void)rpc__calendar__pack(c, blob + 1);
	if (item_props_add(p, CALENDAR_PROP_KEY, blob, len + 1) < 0)
		goto out;
	free(p->subject);
	p->subject = NULL;
	if (c->subject != NULL && *c->subject &&
	    (p->subject = strdup(c->subject)) == NULL)
		goto out;
	if (body != NULL && body->data.len > 0 &&
	    (body->type == 1 || body->type == 2)) {
		char **dst = body->type == 2 ? &p->body_html : &p->body_text;

		free(*dst);
		*dst = strndup((const char *)body->data.data, body->data.len);
		if (*dst == NULL)
			goto out;
	}
	ret = 0;
out:
	free(blob);
	return ret;
}

Rpc__Calendar *
calendar_from_props(const struct item_props *p, ProtobufCAllocator *alloc)
{
	const struct item_prop *prop = item_props_find(p, CALENDAR_PROP_KEY);

	if (prop == NULL || prop->value_len < 1 ||
	    prop->value[0] != CALENDAR_STORE_VERSION)
		return NULL;
	return rpc__calendar__unpack(alloc, prop->value_len - 1,
				     prop->value + 1);
}

int
calendar_make_uid(char *out, size_t size)
{
	uint8_t raw[16];

	if (size < 2 * sizeof(raw) + 1 || RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	for (size_t i = 0; i < sizeof(raw); i++)
		(void)snprintf(out + 2 * i, 3, "%02X", raw[i]);
	return 0;
}

/* An upper bound of the span between the first and the last start of a
 * series of n occurrences: every period holds at least one occurrence. */
static int64_t
series_span(const Rpc__CalRecurrence *r, uint32_t n)
{
	int64_t period = DAY_S;

	switch (r->type) {
	case 1:
		period = 7 * DAY_S;
		break;
	case 2:
	case 3:
		period = 31 * DAY_S;
		break;
	case 5:
	case 6:
		period = 366 * DAY_S;
		break;
	default:
		break;
	}
	return period * (r->interval > 0 ? r->interval : 1) * (int64_t)n;
}

int64_t
calendar_item_date(const Rpc__Calendar *c)
{
	int64_t dur = c->end_time - c->start_time, last;
	const Rpc__CalRecurrence *r = c->recurrence;

	if (dur < 0)
		dur = 0;
	if (r == NULL)
		last = c->end_time;
	else if (r->until > 0)
		last = r->until + dur + DAY_S; /* Until may be a local date */
	else if (r->occurrences > 0)
		last = c->start_time + series_span(r, r->occurrences) + dur;
	else
		return CALENDAR_DATE_FOREVER;
	/* A moved occurrence may end after the series. */
	for (size_t i = 0; i < c->n_exceptions; i++)
		if (c->exceptions[i]->has_end_time &&
		    c->exceptions[i]->end_time > last)
			last = c->exceptions[i]->end_time;
	return last > CALENDAR_DATE_FOREVER ? CALENDAR_DATE_FOREVER : last;
}

int
calendar_set_instance(Rpc__Calendar *c, int64_t instance_start, bool deleted,
		      const Rpc__Calendar *occ, ProtobufCAllocator *alloc,
		      const char **error_r)
{
	Rpc__CalException *x, **list;
	size_t at = c->n_exceptions;

	if (c->recurrence == NULL || instance_start <= 0) {
		*error_r = "InstanceId names no occurrence of a series";
		return -1;
	}
	for (size_t i = 0; i < c->n_exceptions; i++)
		if (c->exceptions[i]->exception_start_time == instance_start)
			at = i;
	if (at == c->n_exceptions && at >= CAL_MAX_EXCEPTIONS) {
		*error_r = "too many exceptions";
		return -1;
	}
	x = alloc->alloc(alloc->allocator_data, sizeof(*x));
	if (x == NULL)
		goto oom;
	rpc__cal_exception__init(x);
	x->exception_start_time = instance_start;
	x->deleted = deleted;
	if (!deleted && occ != NULL) {
		x->subject = occ->subject;
		x->has_subject = true;
		x->start_time = occ->start_time;
		x->end_time = occ->end_time;
		x->has_start_time = x->has_end_time = true;
		x->location = occ->location;
		x->has_location = true;
		x->all_day_event = occ->all_day_event;
		x->has_all_day_event = true;
		x->busy_status = occ->busy_status;
		x->has_busy_status = occ->has_busy_status;
		x->sensitivity = occ->sensitivity;
		x->has_sensitivity = occ->has_sensitivity;
		x->reminder = occ->reminder;
		x->has_reminder = occ->has_reminder;
		x->meeting_status = occ->meeting_status;
		x->has_meeting_status = occ->has_meeting_status;
		x->response_type = occ->response_type;
		x->has_response_type = occ->has_response_type;
		if (occ->dt_stamp != 0) {
			x->dt_stamp = occ->dt_stamp;
			x->has_dt_stamp = true;
		}
		if (occ->n_attendees > 0) {
			x->attendees = occ->attendees;
			x->n_attendees = occ->n_attendees;
			x->has_attendees = true;
		}
		if (occ->n_categories > 0) {
			x->categories = occ->categories;
			x->n_categories = occ->n_categories;
			x->has_categories = true;
		}
	}
	if (at < c->n_exceptions) {
		c->exceptions[at] = x;
		return 0;
	}
	list = alloc->alloc(alloc->allocator_data,
			    (c->n_exceptions + 1) * sizeof(*list));
	if (list == NULL)
		goto oom;
	if (c->n_exceptions > 0)
		memcpy(list, c->exceptions, c->n_exceptions * sizeof(*list));
	list[c->n_exceptions] = x;
	c->exceptions = list;
	c->n_exceptions++;
	return 0;
oom:
	*error_r = "out of memory";
	return -1;
}

static int
digits2(const char **p, int n, int *v_r)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*v_r = v;
	return 0;
}

int
calendar_parse_time(const char *text, int64_t *secs_r)
{
	const char *p = text;
	bool ext = strchr(text, '-') != NULL;
	int y, mo, d, h, mi, s, ms;
	struct tm tm;

	if (digits2(&p, 4, &y) != 0 || (ext && *p++ != '-') ||
	    digits2(&p, 2, &mo) != 0 || (ext && *p++ != '-') ||
	    digits2(&p, 2, &d) != 0 || *p++ != 'T' || digits2(&p, 2, &h) != 0 ||
	    (ext && *p++ != ':') || digits2(&p, 2, &mi) != 0 ||
	    (ext && *p++ != ':') || digits2(&p, 2, &s) != 0)
		return -1;
	if (ext && *p == '.' && (p++, digits2(&p, 3, &ms) != 0))
		return -1;
	if (*p != 'Z' || p[1] != '\0' || y < 1970 || mo < 1 || mo > 12 ||
	    d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	*secs_r = (int64_t)timegm(&tm);
	return 0;
}

/* A header value on one line: CR and LF become spaces. */
static int
put_header(struct buf *b, const char *name, const char *value)
{
	if (buf_printf(b, "%s: ", name) != 0)
		return -1;
	for (const char *v = value; *v; v++)
		if (buf_append_byte(
			b, *v == '\r' || *v == '\n' ? ' ' : (uint8_t)*v) != 0)
			return -1;
	return buf_append(b, "\r\n", 2);
}

/* "2026-12-22 15:00 UTC" */
static void
when_text(int64_t t, char *out, size_t size)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		(void)snprintf(out, size, "?");
}

int
calendar_forward_original(const struct item *it, int64_t instance_start,
			  int64_t now, uint8_t **mime_r, size_t *len_r,
			  const char **error_r)
{
	Rpc__Calendar *c = calendar_from_props(&it->props, NULL);
	const Rpc__CalException *occ = NULL;
	struct buf b, ics;
	char bound[40], when[2][64], date[64];
	uint8_t raw[12];
	int64_t start, end;
	struct tm tm;
	time_t tnow = (time_t)now;
	const char *subject, *location;
	int ret = -1;

	buf_init(&b, STORE_MAX_MIME_BYTES);
	buf_init(&ics, STORE_MAX_MIME_BYTES);
	if (c == NULL) {
		*error_r = "the item holds no event";
		goto out;
	}
	if (ical_export_event(c, it->props.body_text, instance_start, "REQUEST",
			      &ics, error_r) < 0)
		goto out;
	for (size_t i = 0; instance_start != 0 && i < c->n_exceptions; i++)
		if (c->exceptions[i]->exception_start_time == instance_start)
			occ = c->exceptions[i];
	start = instance_start == 0                  ? c->start_time
		: occ != NULL && occ->has_start_time ? occ->start_time
						     : instance_start;
	end = occ != NULL && occ->has_end_time
		  ? occ->end_time
		  : start + (c->end_time - c->start_time);
	subject = occ != NULL && occ->has_subject ? occ->subject : c->subject;
	location =
	    occ != NULL && occ->has_location ? occ->location : c->location;
	when_text(start, when[0], sizeof(when[0]));
	when_text(end, when[1], sizeof(when[1]));
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		goto oom;
	(void)snprintf(bound, sizeof(bound), "=_easd_cal_");
	for (size_t i = 0; i < sizeof(raw); i++)
		(void)snprintf(bound + 11 + 2 * i, 3, "%02x", raw[i]);
	if (gmtime_r(&tnow, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm) ==
		0)
		goto oom;
	if (c->organizer_email != NULL && *c->organizer_email) {
		char from[2 * CAL_MAX_TEXT_BYTES + 8];

		if (c->organizer_name != NULL && *c->organizer_name)
			(void)snprintf(from, sizeof(from), "%s <%s>",
				       c->organizer_name, c->organizer_email);
		else
			(void)snprintf(from, sizeof(from), "<%s>",
				       c->organizer_email);
		if (put_header(&b, "From", from) != 0)
			goto oom;
	}
	if (put_header(&b, "Subject", subject != NULL ? subject : "") != 0 ||
	    put_header(&b, "Date", date) != 0 ||
	    buf_printf(&b,
		       "MIME-Version: 1.0\r\n"
		       "Content-Type: multipart/mixed; boundary=\"%s\"\r\n"
		       "\r\n--%s\r\n"
		       "Content-Type: text/plain; charset=utf-8\r\n"
		       "Content-Transfer-Encoding: 8bit\r\n\r\n"
		       "When: %s - %s\r\n",
		       bound, bound, when[0], when[1]) != 0 ||
	    (location != NULL && *location &&
	     buf_printf(&b, "Where: %s\r\n", location) != 0) ||
	    (it->props.body_text != NULL &&
	     buf_printf(&b, "\r\n%s\r\n", it->props.body_text) != 0) ||
	    /* RFC 6047 2.4: the iTIP method rides on the Content-Type. */
	    buf_printf(&b,
		       "\r\n--%s\r\n"
		       "Content-Type: text/calendar; method=REQUEST; "
		       "charset=utf-8; name=\"invite.ics\"\r\n"
		       "Content-Disposition: attachment; "
		       "filename=\"invite.ics\"\r\n"
		       "Content-Transfer-Encoding: 8bit\r\n\r\n",
		       bound) != 0 ||
	    buf_append(&b, ics.data, ics.len) != 0 ||
	    buf_printf(&b, "\r\n--%s--\r\n", bound) != 0)
		goto oom;
	*mime_r = buf_steal(&b, len_r);
	if (*mime_r == NULL)
		goto oom;
	ret = 0;
	goto out;
oom:
	*error_r = "out of memory or too large";
out:
	buf_free(&b);
	buf_free(&ics);
	if (c != NULL)
		rpc__calendar__free_unpacked(c, NULL);
	return ret;
}
