/*
 * Calendar ApplicationData codec (see calendar_wbxml.h).  Decoding copies
 * every value out of the tree into malloc'd RPC messages, so the result
 * can be freed with protobuf-c's own rpc__calendar__free_unpacked; fields
 * left unset keep protobuf-c's defaults, which that function skips.
 */
#include "cas/calendar_wbxml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cas/sync_req.h"
#include "proto/base64.h"
#include "proto/limits.h"

/* ---- times ------------------------------------------------------------- */

static int
digits(const char **p, int n, int *v_r)
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
calendar_wbxml_parse_time(const char *text, int64_t *secs_r)
{
	const char *p = text;
	struct tm tm;
	int y, mo, d, h, mi, s;

	/* MS-ASDTYPE 2.3: calendar times are compact; Outlook and some
	 * Android clients send the extended form instead. */
	if (strchr(text, '-') != NULL)
		return sync_parse_datetime(text, secs_r);
	if (digits(&p, 4, &y) != 0 || digits(&p, 2, &mo) != 0 ||
	    digits(&p, 2, &d) != 0 || *p++ != 'T' || digits(&p, 2, &h) != 0 ||
	    digits(&p, 2, &mi) != 0 || digits(&p, 2, &s) != 0 || *p != 'Z' ||
	    p[1] != '\0')
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || s > 60)
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

void
calendar_wbxml_format_time(int64_t secs, char *out)
{
	struct tm tm;
	time_t t = (time_t)secs;

	if (secs < 0 || gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999) {
		(void)snprintf(out, CALENDAR_WBXML_TIME_BYTES,
			       "19700101T000000Z");
		return;
	}
	(void)strftime(out, CALENDAR_WBXML_TIME_BYTES, "%Y%m%dT%H%M%SZ", &tm);
}

/* ---- decoding ---------------------------------------------------------- */

bool
calendar_wbxml_is_event(const struct wbxml_node *app)
{
	const struct wbxml_node *n;

	if (app == NULL)
		return false;
	WBXML_FOREACH_CHILD(n, app)
	{
		if ((wbxml_node_tag(n) >> 8) == (EAS_CALENDAR_SUBJECT >> 8))
			return true;
	}
	return false;
}

struct cdec {
	unsigned version;
	const char *error;
};

static int
bad(struct cdec *d, const char *error)
{
	if (d->error == NULL)
		d->error = error;
	return -1;
}

/* 0 absent, 1 present (*out malloc'd), -1 bad. */
static int
get_text(struct cdec *d, const struct wbxml_node *parent, uint16_t tag,
	 size_t max, char **out)
{
	const char *s;
	size_t len;
	enum wbxml_err err;

	if (wbxml_child_str(parent, tag, max, &s, &len, &err) != 0)
		return err == WBXML_ERR_MISSING ? 0 : bad(d, "bad text field");
	*out = strndup(s, len);
	return *out != NULL ? 1 : bad(d, "out of memory");
}

static int
get_blob(struct cdec *d, const struct wbxml_node *parent, uint16_t tag,
	 size_t max, ProtobufCBinaryData *out)
{
	const uint8_t *data;
	size_t len;
	enum wbxml_err err;

	if (wbxml_child_bytes(parent, tag, max, &data, &len, &err) != 0)
		return err == WBXML_ERR_MISSING ? 0
						: bad(d, "bad opaque field");
	out->data = malloc(len + 1);
	if (out->data == NULL)
		return bad(d, "out of memory");
	if (len > 0)
		memcpy(out->data, data, len);
	out->len = len;
	return 1;
}

static int
get_num(struct cdec *d, const struct wbxml_node *parent, uint16_t tag,
	uint32_t max, uint32_t *v_r)
{
	uint64_t v = 0;
	enum wbxml_err err;

	if (wbxml_child_uint(parent, tag, 0, max, &v, &err) != 0)
		return err == WBXML_ERR_MISSING ? 0 : bad(d, "bad number");
	*v_r = (uint32_t)v;
	return 1;
}

static int
get_flag(struct cdec *d, const struct wbxml_node *parent, uint16_t tag,
	 protobuf_c_boolean *v_r)
{
	uint32_t v = 0;
	int r = get_num(d, parent, tag, 1, &v);

	if (r == 1)
		*v_r = v == 1;
	return r;
}

static int
get_time(struct cdec *d, const struct wbxml_node *parent, uint16_t tag,
	 int64_t *v_r)
{
	const char *s;
	enum wbxml_err err;

	if (wbxml_child_str(parent, tag, 64, &s, NULL, &err) != 0)
		return err == WBXML_ERR_MISSING ? 0 : bad(d, "bad time");
	if (calendar_wbxml_parse_time(s, v_r) != 0)
		return bad(d, "bad time");
	return 1;
}

static int
get_timezone(struct cdec *d, const struct wbxml_node *app,
	     ProtobufCBinaryData *out)
{
	const char *s;
	size_t len, n;
	uint8_t raw[BASE64_DECODED_MAX(4 * CAL_TZ_BLOB_BYTES)];
	enum wbxml_err err;

	if (wbxml_child_str(app, EAS_CALENDAR_TIME_ZONE, 4 * CAL_TZ_BLOB_BYTES,
			    &s, &len, &err) != 0)
		return err == WBXML_ERR_MISSING ? 0 : bad(d, "bad TimeZone");
	/* MS-ASDTYPE 2.7: base64 of exactly 172 bytes. */
	if (base64_decode((const uint8_t *)s, len, raw, sizeof(raw), &n) != 0 ||
	    n != CAL_TZ_BLOB_BYTES)
		return bad(d, "TimeZone is not a TIME_ZONE_INFORMATION");
	out->data = malloc(n);
	if (out->data == NULL)
		return bad(d, "out of memory");
	memcpy(out->data, raw, n);
	out->len = n;
	return 1;
}

static int
get_body(struct cdec *d, const struct wbxml_node *app, Rpc__Body **body_r)
{
	const struct wbxml_node *b;
	Rpc__Body *body;
	uint32_t type = 1;
	int r;

	b = wbxml_node_child(app, EAS_AIRSYNCBASE_BODY);
	if (b == NULL && wbxml_node_child(app, EAS_CALENDAR_BODY) == NULL)
		return 0;
	body = malloc(sizeof(*body));
	if (body == NULL)
		return bad(d, "out of memory");
	rpc__body__init(body);
	*body_r = body;
	if (b == NULL) /* 2.5: calendar:Body, plain text */
		return get_blob(d, app, EAS_CALENDAR_BODY, CAL_MAX_BODY_BYTES,
				&body->data) < 0
			   ? -1
			   : 1;
	/* MS-ASAIRS 2.2.2.22 Type: 1 plain, 2 HTML, 3 RTF. */
	if (get_num(d, b, EAS_AIRSYNCBASE_TYPE, 3, &type) < 0 || type == 0)
		return bad(d, "bad body type");
	body->type = type;
	r = get_blob(d, b, EAS_AIRSYNCBASE_DATA, CAL_MAX_BODY_BYTES,
		     &body->data);
	return r < 0 ? -1 : 1;
}

static int
get_location(struct cdec *d, const struct wbxml_node *app, char **out)
{
	const struct wbxml_node *loc;
	int r =
	    get_text(d, app, EAS_CALENDAR_LOCATION, CAL_MAX_TEXT_BYTES, out);

	if (r != 0)
		return r;
	/* 16.0+: airsyncbase:Location with DisplayName (MS-ASAIRS
	 * 2.2.2.27); a bare text Location is taken as the name. */
	loc = wbxml_node_child(app, EAS_AIRSYNCBASE_LOCATION);
	if (loc == NULL)
		return 0;
	if (wbxml_node_first(loc) != NULL)
		return get_text(d, loc, EAS_AIRSYNCBASE_DISPLAY_NAME,
				CAL_MAX_TEXT_BYTES, out);
	return get_text(d, app, EAS_AIRSYNCBASE_LOCATION, CAL_MAX_TEXT_BYTES,
			out);
}

static int
get_attendees(struct cdec *d, const struct wbxml_node *parent,
	      Rpc__CalAttendee ***list_r, size_t *n_r)
{
	const struct wbxml_node *atts = wbxml_node_child(
				    parent, EAS_CALENDAR_ATTENDEES),
				*a;
	size_t n;

	if (atts == NULL)
		return 0;
	n = wbxml_node_count_children(atts, EAS_CALENDAR_ATTENDEE);
	if (n > CAL_MAX_ATTENDEES)
		return bad(d, "too many attendees");
	*list_r = calloc(n + 1, sizeof(**list_r));
	if (*list_r == NULL)
		return bad(d, "out of memory");
	WBXML_FOREACH(a, atts, EAS_CALENDAR_ATTENDEE)
	{
		Rpc__CalAttendee *m = malloc(sizeof(*m));
		int r;

		if (m == NULL)
			return bad(d, "out of memory");
		rpc__cal_attendee__init(m);
		(*list_r)[(*n_r)++] = m;
		/* MS-ASCAL 2.2.2.3: Email and Name are required; phones
		 * omit the name of an address-only attendee. */
		if (get_text(d, a, EAS_CALENDAR_EMAIL, CAL_MAX_TEXT_BYTES,
			     &m->email) < 0 ||
		    get_text(d, a, EAS_CALENDAR_NAME, CAL_MAX_TEXT_BYTES,
			     &m->name) < 0)
			return -1;
		if ((r = get_num(d, a, EAS_CALENDAR_ATTENDEE_STATUS, 5,
				 &m->status)) < 0)
			return -1;
		m->has_status = r == 1;
		if ((r = get_num(d, a, EAS_CALENDAR_ATTENDEE_TYPE, 3,
				 &m->type)) < 0)
			return -1;
		m->has_type = r == 1;
	}
	return 1;
}

static int
get_categories(struct cdec *d, const struct wbxml_node *parent, char ***list_r,
	       size_t *n_r)
{
	const struct wbxml_node *cats = wbxml_node_child(
				    parent, EAS_CALENDAR_CATEGORIES),
				*c;
	size_t n;

	if (cats == NULL)
		return 0;
	n = wbxml_node_count_children(cats, EAS_CALENDAR_CATEGORY);
	if (n > CAL_MAX_CATEGORIES)
		return bad(d, "too many categories");
	*list_r = calloc(n + 1, sizeof(**list_r));
	if (*list_r == NULL)
		return bad(d, "out of memory");
	WBXML_FOREACH(c, cats, EAS_CALENDAR_CATEGORY)
	{
		const char *s;
		size_t len;
		enum wbxml_err err;

		if (wbxml_node_str(c, SYNC_MAX_CATEGORY_BYTES, &s, &len,
				   &err) != 0)
			return bad(d, "bad category");
		(*list_r)[*n_r] = strndup(s, len);
		if ((*list_r)[*n_r] == NULL)
			return bad(d, "out of memory");
		(*n_r)++;
	}
	return 1;
}

static int
get_recurrence(struct cdec *d, const struct wbxml_node *app,
	       Rpc__CalRecurrence **rec_r)
{
	const struct wbxml_node *n =
	    wbxml_node_child(app, EAS_CALENDAR_RECURRENCE);
	Rpc__CalRecurrence *r;
	int x;

	if (n == NULL)
		return 0;
	r = malloc(sizeof(*r));
	if (r == NULL)
		return bad(d, "out of memory");
	rpc__cal_recurrence__init(r);
	*rec_r = r;
	/* MS-ASCAL 2.2.2.39: Type is required. */
	if (get_num(d, n, EAS_CALENDAR_TYPE, 6, &r->type) != 1 ||
	    get_num(d, n, EAS_CALENDAR_INTERVAL, CAL_MAX_INTERVAL,
		    &r->interval) < 0 ||
	    get_time(d, n, EAS_CALENDAR_UNTIL, &r->until) < 0 ||
	    get_num(d, n, EAS_CALENDAR_OCCURRENCES, CAL_MAX_OCCURRENCES,
		    &r->occurrences) < 0 ||
	    get_num(d, n, EAS_CALENDAR_WEEK_OF_MONTH, 5, &r->week_of_month) <
		0 ||
	    get_num(d, n, EAS_CALENDAR_DAY_OF_WEEK, 127, &r->day_of_week) < 0 ||
	    get_num(d, n, EAS_CALENDAR_DAY_OF_MONTH, 31, &r->day_of_month) <
		0 ||
	    get_num(d, n, EAS_CALENDAR_MONTH_OF_YEAR, 12, &r->month_of_year) <
		0 ||
	    get_flag(d, n, EAS_CALENDAR_IS_LEAP_MONTH, &r->is_leap_month) < 0)
		return bad(d, "bad recurrence");
	if ((x = get_num(d, n, EAS_CALENDAR_FIRST_DAY_OF_WEEK, 6,
			 &r->first_day_of_week)) < 0)
		return -1;
	r->has_first_day_of_week = x == 1;
	if ((x = get_num(d, n, EAS_CALENDAR_CALENDAR_TYPE, 23,
			 &r->calendar_type)) < 0)
		return -1;
	r->has_calendar_type = x == 1;
	return 1;
}

/* The scalar fields an event and an exception share, with presence. */
struct common {
	uint32_t *sensitivity, *busy_status, *reminder, *meeting_status,
	    *response_type;
	protobuf_c_boolean *has_sensitivity, *has_busy_status, *has_reminder,
	    *has_meeting_status, *has_response_type;
};

static int
get_common(struct cdec *d, const struct wbxml_node *n, const struct common *c)
{
	static const uint16_t tags[] = {
	    EAS_CALENDAR_SENSITIVITY, EAS_CALENDAR_BUSY_STATUS,
	    EAS_CALENDAR_REMINDER, EAS_CALENDAR_MEETING_STATUS,
	    EAS_CALENDAR_RESPONSE_TYPE};
	/* MS-ASCAL 2.2.2.42, 2.2.2.7, 2.2.2.38 (minutes), 2.2.2.29,
	 * 2.2.2.41. */
	static const uint32_t max[] = {3, 4, 60 * 24 * 365, 15, 5};
	uint32_t *v[] = {c->sensitivity, c->busy_status, c->reminder,
			 c->meeting_status, c->response_type};
	protobuf_c_boolean *has[] = {c->has_sensitivity, c->has_busy_status,
				     c->has_reminder, c->has_meeting_status,
				     c->has_response_type};

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		int r = get_num(d, n, tags[i], max[i], v[i]);

		if (r < 0)
			return -1;
		*has[i] = r == 1;
	}
	return 0;
}

static int
get_exception(struct cdec *d, const struct wbxml_node *n, Rpc__CalException *x)
{
	const struct common c = {&x->sensitivity,        &x->busy_status,
				 &x->reminder,           &x->meeting_status,
				 &x->response_type,      &x->has_sensitivity,
				 &x->has_busy_status,    &x->has_reminder,
				 &x->has_meeting_status, &x->has_response_type};
	Rpc__Body *body = NULL;
	int r;

	/* MS-ASCAL 2.2.2.23 ExceptionStartTime; 16.0+ InstanceId. */
	r = get_time(d, n, EAS_CALENDAR_EXCEPTION_START_TIME,
		     &x->exception_start_time);
	if (r == 0)
		r = get_time(d, n, EAS_AIRSYNCBASE_INSTANCE_ID,
			     &x->exception_start_time);
	if (r != 1)
		return bad(d, "exception without its start time");
	if (get_flag(d, n, EAS_CALENDAR_DELETED, &x->deleted) < 0 ||
	    get_common(d, n, &c) < 0)
		return -1;
	if ((r = get_text(d, n, EAS_CALENDAR_SUBJECT, CAL_MAX_TEXT_BYTES,
			  &x->subject)) < 0)
		return -1;
	x->has_subject = r == 1;
	if ((r = get_time(d, n, EAS_CALENDAR_START_TIME, &x->start_time)) < 0)
		return -1;
	x->has_start_time = r == 1;
	if ((r = get_time(d, n, EAS_CALENDAR_END_TIME, &x->end_time)) < 0)
		return -1;
	x->has_end_time = r == 1;
	if ((r = get_time(d, n, EAS_CALENDAR_DT_STAMP, &x->dt_stamp)) < 0)
		return -1;
	x->has_dt_stamp = r == 1;
	if ((r = get_time(d, n, EAS_CALENDAR_APPOINTMENT_REPLY_TIME,
			  &x->appointment_reply_time)) < 0)
		return -1;
	x->has_appointment_reply_time = r == 1;
	if ((r = get_location(d, n, &x->location)) < 0)
		return -1;
	x->has_location = r == 1;
	if ((r = get_flag(d, n, EAS_CALENDAR_ALL_DAY_EVENT,
			  &x->all_day_event)) < 0)
		return -1;
	x->has_all_day_event = r == 1;
	if ((r = get_categories(d, n, &x->categories, &x->n_categories)) < 0)
		return -1;
	x->has_categories = r == 1;
	if ((r = get_attendees(d, n, &x->attendees, &x->n_attendees)) < 0)
		return -1;
	x->has_attendees = r == 1;
	if ((r = get_text(d, n, EAS_CALENDAR_ONLINE_MEETING_CONF_LINK,
			  CAL_MAX_TEXT_BYTES, &x->online_meeting_conf_link)) <
	    0)
		return -1;
	x->has_online_meeting_conf_link = r == 1;
	if ((r = get_text(d, n, EAS_CALENDAR_ONLINE_MEETING_EXTERNAL_LINK,
			  CAL_MAX_TEXT_BYTES,
			  &x->online_meeting_external_link)) < 0)
		return -1;
	x->has_online_meeting_external_link = r == 1;
	if (get_body(d, n, &body) < 0) {
		if (body != NULL)
			rpc__body__free_unpacked(body, NULL);
		return -1;
	}
	x->body = body;
	return 0;
}

static int
get_exceptions(struct cdec *d, const struct wbxml_node *app, Rpc__Calendar *cal)
{
	const struct wbxml_node *xs = wbxml_node_child(app,
						       EAS_CALENDAR_EXCEPTIONS),
				*n;
	size_t count;

	if (xs == NULL)
		return 0;
	cal->has_exceptions = true;
	count = wbxml_node_count_children(xs, EAS_CALENDAR_EXCEPTION);
	if (count > CAL_MAX_EXCEPTIONS)
		return bad(d, "too many exceptions");
	cal->exceptions = calloc(count + 1, sizeof(*cal->exceptions));
	if (cal->exceptions == NULL)
		return bad(d, "out of memory");
	WBXML_FOREACH(n, xs, EAS_CALENDAR_EXCEPTION)
	{
		Rpc__CalException *x = malloc(sizeof(*x));

		if (x == NULL)
			return bad(d, "out of memory");
		rpc__cal_exception__init(x);
		cal->exceptions[cal->n_exceptions++] = x;
		if (get_exception(d, n, x) < 0)
			return -1;
	}
	return 0;
}

static int
decode(struct cdec *d, const struct wbxml_node *app, Rpc__Calendar *cal,
       Rpc__Body **body_r)
{
	const struct common c = {
	    &cal->sensitivity,        &cal->busy_status,
	    &cal->reminder,           &cal->meeting_status,
	    &cal->response_type,      &cal->has_sensitivity,
	    &cal->has_busy_status,    &cal->has_reminder,
	    &cal->has_meeting_status, &cal->has_response_type};
	int r;

	if (get_timezone(d, app, &cal->time_zone) < 0 ||
	    get_flag(d, app, EAS_CALENDAR_ALL_DAY_EVENT, &cal->all_day_event) <
		0 ||
	    get_time(d, app, EAS_CALENDAR_START_TIME, &cal->start_time) < 0 ||
	    get_time(d, app, EAS_CALENDAR_END_TIME, &cal->end_time) < 0 ||
	    get_time(d, app, EAS_CALENDAR_DT_STAMP, &cal->dt_stamp) < 0 ||
	    get_text(d, app, EAS_CALENDAR_SUBJECT, CAL_MAX_TEXT_BYTES,
		     &cal->subject) < 0 ||
	    get_location(d, app, &cal->location) < 0 ||
	    get_blob(d, app, EAS_CALENDAR_UID, CAL_MAX_UID_BYTES, &cal->uid) <
		0 ||
	    get_blob(d, app, EAS_CALENDAR_CLIENT_UID, CAL_MAX_UID_BYTES,
		     &cal->client_uid) < 0 ||
	    get_text(d, app, EAS_CALENDAR_ORGANIZER_NAME, CAL_MAX_TEXT_BYTES,
		     &cal->organizer_name) < 0 ||
	    get_text(d, app, EAS_CALENDAR_ORGANIZER_EMAIL, CAL_MAX_TEXT_BYTES,
		     &cal->organizer_email) < 0 ||
	    get_common(d, app, &c) < 0 ||
	    get_attendees(d, app, &cal->attendees, &cal->n_attendees) < 0 ||
	    get_categories(d, app, &cal->categories, &cal->n_categories) < 0 ||
	    get_recurrence(d, app, &cal->recurrence) < 0 ||
	    get_exceptions(d, app, cal) < 0 ||
	    get_time(d, app, EAS_CALENDAR_APPOINTMENT_REPLY_TIME,
		     &cal->appointment_reply_time) < 0 ||
	    get_text(d, app, EAS_CALENDAR_ONLINE_MEETING_CONF_LINK,
		     CAL_MAX_TEXT_BYTES, &cal->online_meeting_conf_link) < 0 ||
	    get_text(d, app, EAS_CALENDAR_ONLINE_MEETING_EXTERNAL_LINK,
		     CAL_MAX_TEXT_BYTES,
		     &cal->online_meeting_external_link) < 0 ||
	    get_body(d, app, body_r) < 0)
		return -1;
	if ((r = get_flag(d, app, EAS_CALENDAR_RESPONSE_REQUESTED,
			  &cal->response_requested)) < 0)
		return -1;
	cal->has_response_requested = r == 1;
	if ((r = get_flag(d, app, EAS_CALENDAR_DISALLOW_NEW_TIME_PROPOSAL,
			  &cal->disallow_new_time_proposal)) < 0)
		return -1;
	cal->has_disallow_new_time_proposal = r == 1;
	/* A Change may omit EndTime: MS-ASCAL 2.2.2.20 makes it required
	 * on an Add only; an event ending before it starts is refused by
	 * the mailbox. */
	if (cal->end_time == 0)
		cal->end_time = cal->start_time;
	return 0;
}

int
calendar_wbxml_decode(const struct wbxml_node *app, unsigned version,
		      Rpc__Calendar **cal_r, Rpc__Body **body_r,
		      const char **error_r)
{
	struct cdec d = {.version = version};
	Rpc__Calendar *cal = malloc(sizeof(*cal));

	*cal_r = NULL;
	*body_r = NULL;
	if (cal == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	rpc__calendar__init(cal);
	if (decode(&d, app, cal, body_r) < 0) {
		calendar_wbxml_free(&cal, body_r);
		*error_r = d.error != NULL ? d.error : "bad calendar item";
		return -1;
	}
	*cal_r = cal;
	return 0;
}

void
calendar_wbxml_free(Rpc__Calendar **cal, Rpc__Body **body)
{
	if (cal != NULL && *cal != NULL) {
		rpc__calendar__free_unpacked(*cal, NULL);
		*cal = NULL;
	}
	if (body != NULL && *body != NULL) {
		rpc__body__free_unpacked(*body, NULL);
		*body = NULL;
	}
}

/* ---- encoding ---------------------------------------------------------- */

static void
put_time(struct wbxml_enc *e, uint16_t tag, int64_t secs)
{
	char t[CALENDAR_WBXML_TIME_BYTES];

	calendar_wbxml_format_time(secs, t);
	wbxml_enc_str(e, tag, t);
}

static void
put_text(struct wbxml_enc *e, uint16_t tag, const char *s)
{
	if (s != NULL && *s != '\0')
		wbxml_enc_str(e, tag, s);
}

/* Bytes as stored: a string, or opaque when they hold a NUL or are longer
 * than a WBXML string may be.  UID (MS-ASCAL 2.2.2.46) goes back exactly
 * as the client sent it, a trailing NUL included. */
static void
put_bytes(struct wbxml_enc *e, uint16_t tag, const uint8_t *data, size_t len)
{
	if (len > 0 &&
	    (memchr(data, 0, len) != NULL || len > WBXML_MAX_STRING_BYTES))
		wbxml_enc_opaque(e, tag, data, len);
	else
		wbxml_enc_str_n(e, tag, (const char *)data, len);
}

static void
put_location(struct wbxml_enc *e, const char *loc, unsigned version)
{
	if (loc == NULL || *loc == '\0')
		return;
	if (version >= 160) {
		/* MS-ASAIRS 2.2.2.27: 16.0 Location is a container. */
		wbxml_enc_start(e, EAS_AIRSYNCBASE_LOCATION);
		wbxml_enc_str(e, EAS_AIRSYNCBASE_DISPLAY_NAME, loc);
		wbxml_enc_end(e);
	} else {
		wbxml_enc_str(e, EAS_CALENDAR_LOCATION, loc);
	}
}

static void
put_body(struct wbxml_enc *e, const Rpc__Body *b, unsigned version)
{
	if (b == NULL)
		return;
	if (version < 120) {
		/* 2.5: calendar:Body and BodyTruncated (MS-ASCAL 2.2.2.9). */
		put_bytes(e, EAS_CALENDAR_BODY, b->data.data, b->data.len);
		wbxml_enc_uint(e, EAS_CALENDAR_BODY_TRUNCATED,
			       b->truncated ? 1 : 0);
		return;
	}
	wbxml_enc_start(e, EAS_AIRSYNCBASE_BODY);
	wbxml_enc_uint(e, EAS_AIRSYNCBASE_TYPE, b->type != 0 ? b->type : 1);
	wbxml_enc_uint(e, EAS_AIRSYNCBASE_ESTIMATED_DATA_SIZE,
		       b->estimated_size != 0 ? b->estimated_size
					      : b->data.len);
	if (b->truncated)
		wbxml_enc_uint(e, EAS_AIRSYNCBASE_TRUNCATED, 1);
	if (b->data.len > 0)
		put_bytes(e, EAS_AIRSYNCBASE_DATA, b->data.data, b->data.len);
	wbxml_enc_end(e);
}

static void
put_attendees(struct wbxml_enc *e, Rpc__CalAttendee *const *a, size_t n,
	      unsigned version, bool always)
{
	if (n == 0 && !always)
		return;
	wbxml_enc_start(e, EAS_CALENDAR_ATTENDEES);
	for (size_t i = 0; i < n; i++) {
		wbxml_enc_start(e, EAS_CALENDAR_ATTENDEE);
		wbxml_enc_str(e, EAS_CALENDAR_EMAIL,
			      a[i]->email != NULL ? a[i]->email : "");
		wbxml_enc_str(e, EAS_CALENDAR_NAME,
			      a[i]->name != NULL && *a[i]->name
				  ? a[i]->name
				  : (a[i]->email != NULL ? a[i]->email : ""));
		/* MS-ASCAL 2.2.2.4-5: 12.0+. */
		if (version >= 120 && a[i]->has_status)
			wbxml_enc_uint(e, EAS_CALENDAR_ATTENDEE_STATUS,
				       a[i]->status);
		if (version >= 120 && a[i]->has_type)
			wbxml_enc_uint(e, EAS_CALENDAR_ATTENDEE_TYPE,
				       a[i]->type);
		wbxml_enc_end(e);
	}
	wbxml_enc_end(e);
}

static void
put_categories(struct wbxml_enc *e, char *const *c, size_t n, bool always)
{
	if (n == 0 && !always)
		return;
	wbxml_enc_start(e, EAS_CALENDAR_CATEGORIES);
	for (size_t i = 0; i < n; i++)
		wbxml_enc_str(e, EAS_CALENDAR_CATEGORY, c[i]);
	wbxml_enc_end(e);
}

static void
put_recurrence(struct wbxml_enc *e, const Rpc__CalRecurrence *r,
	       unsigned version)
{
	wbxml_enc_start(e, EAS_CALENDAR_RECURRENCE);
	wbxml_enc_uint(e, EAS_CALENDAR_TYPE, r->type);
	if (r->occurrences > 0)
		wbxml_enc_uint(e, EAS_CALENDAR_OCCURRENCES, r->occurrences);
	if (r->interval > 0)
		wbxml_enc_uint(e, EAS_CALENDAR_INTERVAL, r->interval);
	if (r->week_of_month > 0)
		wbxml_enc_uint(e, EAS_CALENDAR_WEEK_OF_MONTH, r->week_of_month);
	if (r->day_of_week > 0)
		wbxml_enc_uint(e, EAS_CALENDAR_DAY_OF_WEEK, r->day_of_week);
	if (r->month_of_year > 0)
		wbxml_enc_uint(e, EAS_CALENDAR_MONTH_OF_YEAR, r->month_of_year);
	if (r->until > 0)
		put_time(e, EAS_CALENDAR_UNTIL, r->until);
	if (r->day_of_month > 0)
		wbxml_enc_uint(e, EAS_CALENDAR_DAY_OF_MONTH, r->day_of_month);
	/* MS-ASCAL 2.2.2.10, 2.2.2.27: 14.0+; 2.2.2.25: 14.1+. */
	if (version >= 140 && r->has_calendar_type)
		wbxml_enc_uint(e, EAS_CALENDAR_CALENDAR_TYPE, r->calendar_type);
	if (version >= 140 && r->is_leap_month)
		wbxml_enc_uint(e, EAS_CALENDAR_IS_LEAP_MONTH, 1);
	if (version >= 141 && r->has_first_day_of_week)
		wbxml_enc_uint(e, EAS_CALENDAR_FIRST_DAY_OF_WEEK,
			       r->first_day_of_week);
	wbxml_enc_end(e);
}

static void
put_exception(struct wbxml_enc *e, const Rpc__CalException *x, unsigned version)
{
	wbxml_enc_start(e, EAS_CALENDAR_EXCEPTION);
	if (x->deleted)
		wbxml_enc_uint(e, EAS_CALENDAR_DELETED, 1);
	/* MS-ASAIRS 2.2.2.25: 16.0 names the occurrence by InstanceId. */
	put_time(e,
		 version >= 160 ? EAS_AIRSYNCBASE_INSTANCE_ID
				: EAS_CALENDAR_EXCEPTION_START_TIME,
		 x->exception_start_time);
	if (x->has_subject)
		wbxml_enc_str(e, EAS_CALENDAR_SUBJECT,
			      x->subject != NULL ? x->subject : "");
	if (x->has_start_time)
		put_time(e, EAS_CALENDAR_START_TIME, x->start_time);
	if (x->has_end_time)
		put_time(e, EAS_CALENDAR_END_TIME, x->end_time);
	if (x->body != NULL)
		put_body(e, x->body, version);
	if (x->has_location)
		put_location(e, x->location, version);
	if (x->has_categories)
		put_categories(e, x->categories, x->n_categories, true);
	if (x->has_sensitivity)
		wbxml_enc_uint(e, EAS_CALENDAR_SENSITIVITY, x->sensitivity);
	if (x->has_busy_status)
		wbxml_enc_uint(e, EAS_CALENDAR_BUSY_STATUS, x->busy_status);
	if (x->has_all_day_event)
		wbxml_enc_uint(e, EAS_CALENDAR_ALL_DAY_EVENT,
			       x->all_day_event ? 1 : 0);
	if (x->has_reminder)
		wbxml_enc_uint(e, EAS_CALENDAR_REMINDER, x->reminder);
	if (x->has_dt_stamp)
		put_time(e, EAS_CALENDAR_DT_STAMP, x->dt_stamp);
	if (x->has_meeting_status)
		wbxml_enc_uint(e, EAS_CALENDAR_MEETING_STATUS,
			       x->meeting_status);
	if (x->has_attendees && version >= 120)
		put_attendees(e, x->attendees, x->n_attendees, version, true);
	if (version >= 140 && x->has_appointment_reply_time)
		put_time(e, EAS_CALENDAR_APPOINTMENT_REPLY_TIME,
			 x->appointment_reply_time);
	if (version >= 140 && x->has_response_type)
		wbxml_enc_uint(e, EAS_CALENDAR_RESPONSE_TYPE, x->response_type);
	if (version >= 141 && x->has_online_meeting_conf_link)
		put_text(e, EAS_CALENDAR_ONLINE_MEETING_CONF_LINK,
			 x->online_meeting_conf_link);
	if (version >= 141 && x->has_online_meeting_external_link)
		put_text(e, EAS_CALENDAR_ONLINE_MEETING_EXTERNAL_LINK,
			 x->online_meeting_external_link);
	wbxml_enc_end(e);
}

int
calendar_wbxml_encode(struct wbxml_enc *e, const Rpc__Calendar *c,
		      const Rpc__Body *body, unsigned version)
{
	char tz[4 * ((CAL_TZ_BLOB_BYTES + 2) / 3) + 1];
	uint8_t utc[CAL_TZ_BLOB_BYTES] = {0};

	/* Every event carries a TimeZone (MS-ASCAL 2.2.2.46): UTC (all
	 * zero) when the client gave none. */
	if (base64_encode(
		c->time_zone.len == CAL_TZ_BLOB_BYTES ? c->time_zone.data : utc,
		CAL_TZ_BLOB_BYTES, tz, sizeof(tz)) == 0)
		wbxml_enc_str(e, EAS_CALENDAR_TIME_ZONE, tz);
	wbxml_enc_uint(e, EAS_CALENDAR_ALL_DAY_EVENT, c->all_day_event ? 1 : 0);
	put_body(e, body, version);
	if (c->has_busy_status)
		wbxml_enc_uint(e, EAS_CALENDAR_BUSY_STATUS, c->busy_status);
	put_text(e, EAS_CALENDAR_ORGANIZER_NAME, c->organizer_name);
	put_text(e, EAS_CALENDAR_ORGANIZER_EMAIL, c->organizer_email);
	put_time(e, EAS_CALENDAR_DT_STAMP,
		 c->dt_stamp != 0 ? c->dt_stamp : c->start_time);
	put_time(e, EAS_CALENDAR_END_TIME, c->end_time);
	put_location(e, c->location, version);
	if (c->has_reminder)
		wbxml_enc_uint(e, EAS_CALENDAR_REMINDER, c->reminder);
	if (c->has_sensitivity)
		wbxml_enc_uint(e, EAS_CALENDAR_SENSITIVITY, c->sensitivity);
	wbxml_enc_str(e, EAS_CALENDAR_SUBJECT,
		      c->subject != NULL ? c->subject : "");
	put_time(e, EAS_CALENDAR_START_TIME, c->start_time);
	if (c->uid.len > 0)
		put_bytes(e, EAS_CALENDAR_UID, c->uid.data, c->uid.len);
	if (c->has_meeting_status)
		wbxml_enc_uint(e, EAS_CALENDAR_MEETING_STATUS,
			       c->meeting_status);
	put_attendees(e, c->attendees, c->n_attendees, version, false);
	put_categories(e, c->categories, c->n_categories, false);
	if (c->recurrence != NULL)
		put_recurrence(e, c->recurrence, version);
	if (c->n_exceptions > 0) {
		wbxml_enc_start(e, EAS_CALENDAR_EXCEPTIONS);
		for (size_t i = 0; i < c->n_exceptions; i++)
			put_exception(e, c->exceptions[i], version);
		wbxml_enc_end(e);
	}
	/* MS-ASCAL 2.2.2.40, 2.2.2.6, 2.2.2.41, 2.2.2.19: 14.0+. */
	if (version >= 140) {
		if (c->has_response_requested)
			wbxml_enc_uint(e, EAS_CALENDAR_RESPONSE_REQUESTED,
				       c->response_requested ? 1 : 0);
		if (c->appointment_reply_time != 0)
			put_time(e, EAS_CALENDAR_APPOINTMENT_REPLY_TIME,
				 c->appointment_reply_time);
		if (c->has_response_type)
			wbxml_enc_uint(e, EAS_CALENDAR_RESPONSE_TYPE,
				       c->response_type);
		if (c->has_disallow_new_time_proposal)
			wbxml_enc_uint(e,
				       EAS_CALENDAR_DISALLOW_NEW_TIME_PROPOSAL,
				       c->disallow_new_time_proposal ? 1 : 0);
	}
	if (version >= 141) {
		put_text(e, EAS_CALENDAR_ONLINE_MEETING_CONF_LINK,
			 c->online_meeting_conf_link);
		put_text(e, EAS_CALENDAR_ONLINE_MEETING_EXTERNAL_LINK,
			 c->online_meeting_external_link);
	}
	return wbxml_enc_error(e) == WBXML_ERR_NONE ? 0 : -1;
}
