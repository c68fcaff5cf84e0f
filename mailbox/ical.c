/*
 * libical wrapper: iCalendar text in, struct message_meeting out.  Only the
 * fields EAS shows for a meeting message are kept (MS-ASEMAIL 2.2.2.48
 * MeetingRequest: UID, start, end, all-day, location, organizer, recurrence,
 * time zone, sequence) plus the attendee list with PARTSTAT, which decides
 * a REPLY's message class.  Every string is copied out of libical's memory
 * before the component tree is freed.
 */
#include "mailbox/ical.h"

#include <libical/ical.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <stdint.h>

#include "proto/limits.h"
#include "proto/tzinfo.h"

static pthread_once_t ical_once = PTHREAD_ONCE_INIT;

static void
ical_init_once(void)
{
	/* A malformed calendar from the network must never abort(). */
	icalerror_set_errors_are_fatal(0);
}

void
ical_init(void)
{
	pthread_once(&ical_once, ical_init_once);
}

static int
dup_opt(const char *s, char **out_r)
{
	*out_r = NULL;
	if (s == NULL || *s == '\0')
		return 0;
	*out_r = strdup(s);
	return *out_r != NULL ? 0 : -1;
}

/* "mailto:a@b" -> "a@b" (RFC 5545 3.3.3 CAL-ADDRESS). */
static const char *
strip_mailto(const char *s)
{
	if (s != NULL && strncasecmp(s, "mailto:", 7) == 0)
		return s + 7;
	return s;
}

static enum message_meeting_method
method_of(icalproperty_method m)
{
	switch (m) {
	case ICAL_METHOD_REQUEST:
		return MESSAGE_METHOD_REQUEST;
	case ICAL_METHOD_CANCEL:
		return MESSAGE_METHOD_CANCEL;
	case ICAL_METHOD_REPLY:
		return MESSAGE_METHOD_REPLY;
	case ICAL_METHOD_PUBLISH:
		return MESSAGE_METHOD_PUBLISH;
	case ICAL_METHOD_COUNTER:
		return MESSAGE_METHOD_COUNTER;
	case ICAL_METHOD_NONE:
		return MESSAGE_METHOD_NONE;
	default:
		return MESSAGE_METHOD_OTHER;
	}
}

static enum message_attendee_status
status_of(icalparameter_partstat p)
{
	switch (p) {
	case ICAL_PARTSTAT_NEEDSACTION:
		return MESSAGE_ATTENDEE_NEEDS_ACTION;
	case ICAL_PARTSTAT_ACCEPTED:
		return MESSAGE_ATTENDEE_ACCEPTED;
	case ICAL_PARTSTAT_TENTATIVE:
		return MESSAGE_ATTENDEE_TENTATIVE;
	case ICAL_PARTSTAT_DECLINED:
		return MESSAGE_ATTENDEE_DECLINED;
	case ICAL_PARTSTAT_DELEGATED:
		return MESSAGE_ATTENDEE_DELEGATED;
	default:
		return MESSAGE_ATTENDEE_UNKNOWN;
	}
}

/* A time as UTC seconds: the zone libical resolved (VTIMEZONE in the
 * calendar or builtin), else the builtin zone named by TZID, else UTC
 * (floating times and dates). */
static int64_t
utc_of(struct icaltimetype t, const char *tzid)
{
	const icaltimezone *zone = t.zone;

	if (icaltime_is_null_time(t))
		return 0;
	if (zone == NULL && tzid != NULL && !icaltime_is_utc(t))
		zone = icaltimezone_get_builtin_timezone(tzid);
	if (zone == NULL || icaltime_is_date(t))
		zone = icaltimezone_get_utc_timezone();
	return (int64_t)icaltime_as_timet_with_zone(t, zone);
}

static int
get_attendees(icalcomponent *ev, struct message_meeting *m)
{
	size_t n = 0;
	icalproperty *p;

	for (p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
	     p != NULL && n < MIME_MAX_ATTENDEES;
	     p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY))
		n++;
	if (n == 0)
		return 0;
	m->attendees = calloc(n, sizeof(*m->attendees));
	if (m->attendees == NULL)
		return -1;
	p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
	for (; p != NULL && m->n_attendees < n;
	     p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY)) {
		struct message_attendee *a = &m->attendees[m->n_attendees];
		icalparameter *cn, *ps, *role, *rsvp;

		if (dup_opt(strip_mailto(icalproperty_get_attendee(p)),
			    &a->email) != 0)
			return -1;
		if (a->email == NULL)
			continue;
		m->n_attendees++;
		cn = icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER);
		if (cn != NULL && dup_opt(icalparameter_get_cn(cn), &a->name))
			return -1;
		ps = icalproperty_get_first_parameter(p,
						      ICAL_PARTSTAT_PARAMETER);
		a->status = ps != NULL
				? status_of(icalparameter_get_partstat(ps))
				: MESSAGE_ATTENDEE_NEEDS_ACTION;
		role = icalproperty_get_first_parameter(p, ICAL_ROLE_PARAMETER);
		a->required = role == NULL || icalparameter_get_role(role) !=
						  ICAL_ROLE_OPTPARTICIPANT;
		/* RFC 5545 3.2.17: the organizer asks for a reply. */
		rsvp = icalproperty_get_first_parameter(p, ICAL_RSVP_PARAMETER);
		if (rsvp != NULL &&
		    icalparameter_get_rsvp(rsvp) == ICAL_RSVP_TRUE)
			m->response_requested = true;
	}
	return 0;
}

/* ------------------------------------------------ MS-ASEMAIL extras */

/* RFC 5545 weekday (libical: 1 Sunday .. 7 Saturday) to the EAS mask
 * (MS-ASEMAIL 2.2.2.22 DayOfWeek: 1 Sunday, 2 Monday .. 64 Saturday). */
static uint8_t
dow_bit(short day)
{
	int wd = (int)icalrecurrencetype_day_day_of_week(day);

	return wd >= 1 && wd <= 7 ? (uint8_t)(1u << (wd - 1)) : 0;
}

/* RRULE -> MS-ASEMAIL 2.2.2.65 Recurrence.  Rules EAS cannot say (by
 * hour, several month days) keep their main period; the UTC start time
 * fills what the rule leaves implicit (RFC 5545 3.3.10). */
static void
get_recurrence(icalproperty *p, int64_t start, const char *tzid,
	       struct message_recurrence *rc)
{
	struct icalrecurrencetype r = icalproperty_get_rrule(p);
	time_t t = (time_t)start;
	struct tm tm;
	bool by_day = r.by_day[0] != ICAL_RECURRENCE_ARRAY_MAX;
	int pos = 0;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	memset(rc, 0, sizeof(*rc));
	rc->present = true;
	rc->interval = r.interval > 1 ? (uint32_t)r.interval : 0;
	rc->occurrences = r.count > 0 ? (uint32_t)r.count : 0;
	if (!icaltime_is_null_time(r.until))
		rc->until = utc_of(r.until, tzid);
	for (size_t i = 0;
	     i < ICAL_BY_DAY_SIZE && r.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX;
	     i++) {
		rc->day_of_week |= dow_bit(r.by_day[i]);
		if (pos == 0)
			pos = icalrecurrencetype_day_position(r.by_day[i]);
	}
	if (pos == 0 && r.by_set_pos[0] != ICAL_RECURRENCE_ARRAY_MAX)
		pos = r.by_set_pos[0];
	/* MS-ASEMAIL 2.2.2.90 WeekOfMonth: 1..4, 5 = the last. */
	rc->week_of_month = pos < 0 || pos > 4 ? 5 : (uint8_t)pos;
	rc->day_of_month = r.by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX &&
				   r.by_month_day[0] > 0
			       ? (uint8_t)r.by_month_day[0]
			       : (uint8_t)tm.tm_mday;
	rc->month_of_year = r.by_month[0] != ICAL_RECURRENCE_ARRAY_MAX &&
				    r.by_month[0] >= 1 && r.by_month[0] <= 12
				? (uint8_t)r.by_month[0]
				: (uint8_t)(tm.tm_mon + 1);
	switch (r.freq) {
	case ICAL_DAILY_RECURRENCE:
		rc->type = MESSAGE_RECUR_DAILY;
		rc->week_of_month = 0;
		rc->day_of_month = 0;
		break;
	case ICAL_WEEKLY_RECURRENCE:
		rc->type = MESSAGE_RECUR_WEEKLY;
		if (rc->day_of_week == 0)
			rc->day_of_week = (uint8_t)(1u << tm.tm_wday);
		rc->week_of_month = 0;
		rc->day_of_month = 0;
		break;
	case ICAL_MONTHLY_RECURRENCE:
		rc->type =
		    by_day ? MESSAGE_RECUR_MONTHLY_NTH : MESSAGE_RECUR_MONTHLY;
		break;
	case ICAL_YEARLY_RECURRENCE:
		rc->type =
		    by_day ? MESSAGE_RECUR_YEARLY_NTH : MESSAGE_RECUR_YEARLY;
		break;
	default: /* secondly .. hourly: nothing EAS can express */
		rc->present = false;
		return;
	}
	if (rc->type == MESSAGE_RECUR_MONTHLY ||
	    rc->type == MESSAGE_RECUR_YEARLY) {
		rc->week_of_month = 0;
		rc->day_of_week = 0;
	} else if (rc->type == MESSAGE_RECUR_MONTHLY_NTH ||
		   rc->type == MESSAGE_RECUR_YEARLY_NTH) {
		rc->day_of_month = 0;
	}
	if (rc->type != MESSAGE_RECUR_YEARLY &&
	    rc->type != MESSAGE_RECUR_YEARLY_NTH)
		rc->month_of_year = 0;
}

static void
put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put_le32(uint8_t *p, int32_t v)
{
	uint32_t u = (uint32_t)v;

	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(u >> (8 * i));
}

/* One observance (STANDARD or DAYLIGHT) of a VTIMEZONE: its UTC offset
 * and the yearly rule of its onset as a SYSTEMTIME "day-in-month" date
 * (MS-ASDTYPE 2.6.4: wYear 0, wMonth, wDayOfWeek 0 = Sunday, wDay 1..5
 * with 5 = the last, wHour, wMinute). */
struct tz_rule {
	bool present;
	int offset_s;
	uint16_t month, dow, week, hour, minute;
	struct icaltimetype onset;
};

static void
tz_rule_of(icalcomponent *obs, struct tz_rule *t)
{
	icalproperty *p;
	struct icaltimetype onset;

	p = icalcomponent_get_first_property(obs, ICAL_TZOFFSETTO_PROPERTY);
	if (p == NULL)
		return;
	onset = icalcomponent_get_dtstart(obs);
	/* Several observances of one kind: the latest onset rules now. */
	if (t->present && icaltime_compare(onset, t->onset) < 0)
		return;
	memset(t, 0, sizeof(*t));
	t->present = true;
	t->onset = onset;
	t->offset_s = icalproperty_get_tzoffsetto(p);
	t->hour = onset.hour >= 0 ? (uint16_t)onset.hour : 0;
	t->minute = onset.minute >= 0 ? (uint16_t)onset.minute : 0;
	p = icalcomponent_get_first_property(obs, ICAL_RRULE_PROPERTY);
	if (p != NULL) {
		struct icalrecurrencetype r = icalproperty_get_rrule(p);
		int pos;

		if (r.by_month[0] >= 1 && r.by_month[0] <= 12)
			t->month = (uint16_t)r.by_month[0];
		if (r.by_day[0] != ICAL_RECURRENCE_ARRAY_MAX) {
			int wd = (int)icalrecurrencetype_day_day_of_week(
			    r.by_day[0]);

			pos = icalrecurrencetype_day_position(r.by_day[0]);
			t->dow = wd >= 1 ? (uint16_t)(wd - 1) : 0;
			t->week = pos < 0 || pos > 4 ? 5 : (uint16_t)pos;
		}
	}
}

static void
put_systemtime(uint8_t *p, const struct tz_rule *t)
{
	/* wYear 0: a yearly rule, not an absolute date. */
	put_le16(p + 2, t->month);
	put_le16(p + 4, t->dow);
	put_le16(p + 6, t->week);
	put_le16(p + 8, t->hour);
	put_le16(p + 10, t->minute);
}

/* A name as UTF-16LE in a 32-unit array, ASCII only (TZIDs are). */
static void
put_tz_name(uint8_t *p, const char *name)
{
	for (size_t i = 0; name != NULL && name[i] != '\0' && i < 31; i++)
		put_le16(p + 2 * i, (unsigned char)name[i] < 0x80
					? (unsigned char)name[i]
					: '?');
}

/* The DTSTART zone as a TIME_ZONE_INFORMATION (MS-ASDTYPE 2.6.4): Bias is
 * minutes to add to local standard time to get UTC; DaylightBias the
 * extra minutes in summer (negative east of a DST shift forward). */
static bool
get_tz_blob(const icaltimezone *zone, const char *tzid, uint8_t *out)
{
	icalcomponent *vtz, *obs;
	struct tz_rule std = {0}, dst = {0};

	if (zone == NULL)
		return false;
	vtz = icaltimezone_get_component((icaltimezone *)(uintptr_t)zone);
	if (vtz == NULL)
		return false;
	for (obs = icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT);
	     obs != NULL;
	     obs = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
		if (icalcomponent_isa(obs) == ICAL_XSTANDARD_COMPONENT)
			tz_rule_of(obs, &std);
		else if (icalcomponent_isa(obs) == ICAL_XDAYLIGHT_COMPONENT)
			tz_rule_of(obs, &dst);
	}
	if (!std.present)
		return false;
	memset(out, 0, MESSAGE_TZ_BLOB_BYTES);
	put_le32(out, -std.offset_s / 60);
	put_tz_name(out + 4, tzid);
	/* A zone without a yearly DST rule has no transition dates. */
	if (dst.present && dst.month != 0 && std.month != 0) {
		put_systemtime(out + 68, &std);
		put_tz_name(out + 88, tzid);
		put_systemtime(out + 152, &dst);
		put_le32(out + 168, -(dst.offset_s - std.offset_s) / 60);
	}
	return true;
}

/* First VALARM with a trigger relative to the start: minutes before. */
static int32_t
get_reminder(icalcomponent *ev)
{
	icalcomponent *al;

	for (al = icalcomponent_get_first_component(ev, ICAL_VALARM_COMPONENT);
	     al != NULL;
	     al = icalcomponent_get_next_component(ev, ICAL_VALARM_COMPONENT)) {
		icalproperty *p =
		    icalcomponent_get_first_property(al, ICAL_TRIGGER_PROPERTY);
		struct icaltriggertype tr;
		int secs;

		if (p == NULL)
			continue;
		tr = icalproperty_get_trigger(p);
		if (icaldurationtype_is_null_duration(tr.duration) &&
		    !icaltime_is_null_time(tr.time))
			continue; /* an absolute trigger */
		secs = icaldurationtype_as_int(tr.duration);
		return secs <= 0 ? -secs / 60 : 0;
	}
	return -1;
}

/* MS-ASEMAIL 2.2.2.11 BusyStatus: Outlook's intended status if given,
 * else TRANSP (RFC 5545 3.8.2.7); a cancellation frees the time. */
static enum message_busy
get_busy(icalcomponent *ev, enum message_meeting_method method)
{
	static const struct {
		const char *name;
		enum message_busy busy;
	} names[] = {{"FREE", MESSAGE_BUSY_FREE},
		     {"TENTATIVE", MESSAGE_BUSY_TENTATIVE},
		     {"BUSY", MESSAGE_BUSY_BUSY},
		     {"OOF", MESSAGE_BUSY_OOF},
		     {"WORKINGELSEWHERE", MESSAGE_BUSY_ELSEWHERE}};
	const char *want[] = {"X-MICROSOFT-CDO-INTENDEDSTATUS",
			      "X-MICROSOFT-CDO-BUSYSTATUS"};
	icalproperty *p;

	if (method == MESSAGE_METHOD_CANCEL)
		return MESSAGE_BUSY_FREE;
	for (size_t w = 0; w < 2; w++)
		for (p = icalcomponent_get_first_property(ev, ICAL_X_PROPERTY);
		     p != NULL;
		     p = icalcomponent_get_next_property(ev, ICAL_X_PROPERTY)) {
			const char *n = icalproperty_get_x_name(p);
			const char *v = icalproperty_get_x(p);

			if (n == NULL || v == NULL || strcasecmp(n, want[w]))
				continue;
			for (size_t i = 0; i < sizeof(names) / sizeof(names[0]);
			     i++)
				if (strcasecmp(v, names[i].name) == 0)
					return names[i].busy;
		}
	p = icalcomponent_get_first_property(ev, ICAL_TRANSP_PROPERTY);
	if (p != NULL && icalproperty_get_transp(p) == ICAL_TRANSP_TRANSPARENT)
		return MESSAGE_BUSY_FREE;
	return MESSAGE_BUSY_BUSY;
}

/* RFC 5545 3.8.1.3 CLASS -> MS-ASEMAIL 2.2.2.66 Sensitivity. */
static uint8_t
get_sensitivity(icalcomponent *ev)
{
	icalproperty *p =
	    icalcomponent_get_first_property(ev, ICAL_CLASS_PROPERTY);

	if (p == NULL)
		return 0;
	switch (icalproperty_get_class(p)) {
	case ICAL_CLASS_PRIVATE:
		return 2;
	case ICAL_CLASS_CONFIDENTIAL:
		return 3;
	default:
		return 0;
	}
}

static int
fill_meeting(icalcomponent *root, icalcomponent *ev, struct message_meeting *m)
{
	icalproperty *p;
	const char *tzid = NULL;
	struct icaltimetype start, end;

	m->method = root != ev ? method_of(icalcomponent_get_method(root))
			       : MESSAGE_METHOD_NONE;
	if (dup_opt(icalcomponent_get_uid(ev), &m->uid) != 0 ||
	    dup_opt(icalcomponent_get_summary(ev), &m->summary) != 0 ||
	    dup_opt(icalcomponent_get_location(ev), &m->location) != 0)
		return -1;
	p = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
	if (p != NULL) {
		icalparameter *tz =
		    icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);

		if (tz != NULL)
			tzid = icalparameter_get_tzid(tz);
	}
	if (dup_opt(tzid, &m->tzid) != 0)
		return -1;
	start = icalcomponent_get_dtstart(ev);
	end = icalcomponent_get_dtend(ev);
	m->all_day = !icaltime_is_null_time(start) && icaltime_is_date(start);
	m->start = utc_of(start, tzid);
	m->end = icaltime_is_null_time(end) ? m->start : utc_of(end, tzid);
	if (icalcomponent_get_first_property(ev, ICAL_DTSTAMP_PROPERTY))
		m->stamp = utc_of(icalcomponent_get_dtstamp(ev), NULL);
	{
		int seq = icalcomponent_get_sequence(ev);

		m->sequence = seq > 0 ? (uint32_t)seq : 0;
	}
	p = icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY);
	if (p != NULL && dup_opt(strip_mailto(icalproperty_get_organizer(p)),
				 &m->organizer) != 0)
		return -1;
	p = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY);
	if (p != NULL) {
		char *rule = icalproperty_get_value_as_string_r(p);
		int ret = dup_opt(rule, &m->rrule);

		free(rule);
		if (ret != 0)
			return -1;
		get_recurrence(p, m->start, tzid, &m->recurrence);
	}
	p = icalcomponent_get_first_property(ev, ICAL_RECURRENCEID_PROPERTY);
	if (p != NULL) {
		icalparameter *tz =
		    icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);

		m->recurrence_id =
		    utc_of(icalproperty_get_recurrenceid(p),
			   tz != NULL ? icalparameter_get_tzid(tz) : tzid);
	}
	m->reminder_mins = get_reminder(ev);
	m->sensitivity = get_sensitivity(ev);
	m->busy_status = get_busy(ev, m->method);
	if (tzid != NULL && !m->all_day) {
		const icaltimezone *zone = start.zone;

		if (zone == NULL)
			zone = icaltimezone_get_builtin_timezone(tzid);
		m->has_tz = get_tz_blob(zone, tzid, m->tz);
	}
	/* RFC 5546 3.2.7 COUNTER: the event carries the proposed time. */
	if (m->method == MESSAGE_METHOD_COUNTER) {
		m->proposed_start = m->start;
		m->proposed_end = m->end;
	}
	return get_attendees(ev, m);
}

int
ical_parse_meeting(const char *text, size_t len,
		   struct message_meeting **meeting_r, const char **error_r)
{
	struct message_meeting *m = NULL;
	icalcomponent *root = NULL, *ev;
	char *copy = NULL;
	int ret = -1;

	*meeting_r = NULL;
	*error_r = NULL;
	ical_init();
	if (len > MIME_MAX_CALENDAR_BYTES) {
		*error_r = "calendar too large";
		goto out;
	}
	/* libical wants a C string; an embedded NUL just ends it. */
	copy = malloc(len + 1);
	if (copy == NULL) {
		*error_r = "out of memory";
		goto out;
	}
	if (len > 0)
		memcpy(copy, text, len);
	copy[len] = '\0';
	root = icalparser_parse_string(copy);
	if (root == NULL) {
		*error_r = "not an iCalendar object";
		goto out;
	}
	ev = icalcomponent_isa(root) == ICAL_VEVENT_COMPONENT
		 ? root
		 : icalcomponent_get_first_component(root,
						     ICAL_VEVENT_COMPONENT);
	if (ev == NULL) {
		*error_r = "no VEVENT in the calendar";
		goto out;
	}
	m = message_meeting_new();
	if (m == NULL || fill_meeting(root, ev, m) != 0) {
		*error_r = "out of memory";
		goto out;
	}
	if (m->uid == NULL) { /* RFC 5546 requires UID in every method */
		*error_r = "VEVENT without UID";
		goto out;
	}
	*meeting_r = m;
	m = NULL;
	ret = 0;
out:
	message_meeting_free(&m);
	if (root != NULL)
		icalcomponent_free(root);
	free(copy);
	return ret;
}

/* ---- calendar items: time zones ----------------------------------------
 *
 * The table of builtin zones with their rules as TIME_ZONE_INFORMATION is
 * built once (about 400 zones, read from the system's zoneinfo by libical)
 * and then read by every worker without locks.
 */

struct tz_entry {
	const char *name; /* a copy, kept as long as the process */
	struct tzinfo tz;
};

static pthread_once_t tz_once = PTHREAD_ONCE_INIT;
static struct tz_entry *tz_table;
static size_t tz_count;

static void
tz_table_build(void)
{
	icalarray *zones;

	ical_init();
	zones = icaltimezone_get_builtin_timezones();
	if (zones == NULL || zones->num_elements == 0)
		return;
	tz_table = calloc(zones->num_elements, sizeof(*tz_table));
	if (tz_table == NULL)
		return;
	for (size_t i = 0; i < zones->num_elements; i++) {
		icaltimezone *z = icalarray_element_at(zones, i);
		const char *loc;
		char *name;
		uint8_t blob[MESSAGE_TZ_BLOB_BYTES];

		/* Loading the zone replaces its location string: load
		 * first, then copy the name (kept for the process). */
		if (icaltimezone_get_component(z) == NULL ||
		    (loc = icaltimezone_get_location(z)) == NULL ||
		    (name = strdup(loc)) == NULL)
			continue;
		if (!get_tz_blob(z, name, blob) ||
		    tzinfo_decode(blob, sizeof(blob), &tz_table[tz_count].tz) <
			0) {
			free(name);
			continue;
		}
		tz_table[tz_count++].name = name;
	}
}

static const struct tz_entry *
tz_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < tz_count; i++)
		if (strcmp(tz_table[i].name, name) == 0)
			return &tz_table[i];
	return NULL;
}

int
ical_tz_name_from_blob(const uint8_t *blob, char *name, size_t size)
{
	/* Zones people name for an offset, tried before the alphabetical
	 * first match (which would turn Berlin into Africa/Ceuta). */
	static const char *const common[] = {
	    "Europe/London",       "Europe/Berlin",    "Europe/Helsinki",
	    "Europe/Moscow",       "America/New_York", "America/Chicago",
	    "America/Denver",      "America/Phoenix",  "America/Los_Angeles",
	    "America/Anchorage",   "Pacific/Honolulu", "America/Sao_Paulo",
	    "Asia/Dubai",          "Asia/Kolkata",     "Asia/Shanghai",
	    "Asia/Tokyo",          "Asia/Singapore",   "Australia/Sydney",
	    "Australia/Brisbane",  "Pacific/Auckland", "America/Halifax",
	    "Africa/Johannesburg", "Asia/Jerusalem",   "Europe/Istanbul"};
	struct tzinfo tz;
	const struct tz_entry *e = NULL;
	const char *found = NULL;

	if (tzinfo_decode(blob, MESSAGE_TZ_BLOB_BYTES, &tz) < 0)
		return -1;
	if (!tzinfo_has_dst(&tz) && tz.bias + tz.std_bias == 0) {
		found = "UTC";
		goto done;
	}
	pthread_once(&tz_once, tz_table_build);
	e = tz_find(tz.std_name);
	if (e != NULL && tzinfo_same_rules(&e->tz, &tz))
		found = e->name;
	for (size_t i = 0;
	     found == NULL && i < sizeof(common) / sizeof(*common); i++) {
		e = tz_find(common[i]);
		if (e != NULL && tzinfo_same_rules(&e->tz, &tz))
			found = e->name;
	}
	for (size_t i = 0; found == NULL && i < tz_count; i++)
		if (tzinfo_same_rules(&tz_table[i].tz, &tz))
			found = tz_table[i].name;
	if (found == NULL)
		return -1;
done:
	if (strlen(found) >= size)
		return -1;
	memcpy(name, found, strlen(found) + 1);
	return 0;
}

int
ical_tz_blob_from_name(const char *name, uint8_t *blob)
{
	const struct tz_entry *e;
	struct tzinfo tz;

	pthread_once(&tz_once, tz_table_build);
	e = tz_find(name);
	if (e == NULL)
		return -1;
	tz = e->tz;
	/* Both names are the IANA name: a reader of our blob (and we, on
	 * the way back) find the zone by name. */
	(void)snprintf(tz.std_name, sizeof(tz.std_name), "%s", e->name);
	(void)snprintf(tz.dst_name, sizeof(tz.dst_name), "%s", e->name);
	tzinfo_encode(&tz, blob);
	return 0;
}

/* ---- calendar items: iCalendar export ------------------------------------
 *
 * Times are rendered in the event's IANA zone when it has one (so the
 * recurrence follows that zone's daylight saving rules, as the phone
 * meant), else in UTC.  All-day events use DATE values of the local day
 * (local to the event's TIME_ZONE_INFORMATION).
 */

/* Bound on the occurrences walked to check an InstanceId. */
#define ICAL_MAX_WALK 100000

struct export
{
	const Rpc__Calendar *c;
	icaltimezone *zone; /* NULL: UTC */
	const char *tzid;   /* the IANA name of zone */
	struct tzinfo tz;   /* the blob, for all-day dates */
	bool has_tz;
};

static struct icaltimetype
ex_time(const struct export *x, int64_t t, bool all_day)
{
	if (all_day) {
		int64_t local = t;

		if (x->has_tz)
			local += (int64_t)tzinfo_utc_offset_min(&x->tz, t) * 60;
		return icaltime_from_timet_with_zone((time_t)local, 1, NULL);
	}
	if (x->zone == NULL)
		return icaltime_from_timet_with_zone(
		    (time_t)t, 0, icaltimezone_get_utc_timezone());
	/* The local time, written without a zone: the TZID parameter
	 * names it (libical 3.0 would print a 'Z' after a zoned time). */
	struct icaltimetype lt =
	    icaltime_from_timet_with_zone((time_t)t, 0, x->zone);

	lt.zone = NULL;
	return lt;
}

/* A date-time property with its TZID parameter (none for UTC / dates). */
static void
ex_add_time(icalcomponent *ev, const struct export *x,
	    icalproperty *(*make)(struct icaltimetype), int64_t t, bool all_day)
{
	icalproperty *p = make(ex_time(x, t, all_day));

	if (!all_day && x->zone != NULL)
		icalproperty_add_parameter(p, icalparameter_new_tzid(x->tzid));
	icalcomponent_add_property(ev, p);
}

static icalproperty *
ex_attendee(const Rpc__CalAttendee *a, bool rsvp)
{
	char addr[CAL_MAX_TEXT_BYTES + 8];
	icalproperty *p;

	(void)snprintf(addr, sizeof(addr), "mailto:%s",
		       a->email != NULL ? a->email : "");
	p = icalproperty_new_attendee(addr);
	if (a->name != NULL && *a->name)
		icalproperty_add_parameter(p, icalparameter_new_cn(a->name));
	/* MS-ASCAL 2.2.2.5 AttendeeType -> RFC 5545 ROLE / CUTYPE. */
	switch (a->has_type ? a->type : 1) {
	case 2:
		icalproperty_add_parameter(
		    p, icalparameter_new_role(ICAL_ROLE_OPTPARTICIPANT));
		break;
	case 3:
		icalproperty_add_parameter(
		    p, icalparameter_new_role(ICAL_ROLE_NONPARTICIPANT));
		icalproperty_add_parameter(
		    p, icalparameter_new_cutype(ICAL_CUTYPE_RESOURCE));
		break;
	default:
		icalproperty_add_parameter(
		    p, icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
		break;
	}
	/* MS-ASCAL 2.2.2.4 AttendeeStatus -> PARTSTAT. */
	switch (a->has_status ? a->status : 0) {
	case 2:
		icalproperty_add_parameter(
		    p, icalparameter_new_partstat(ICAL_PARTSTAT_TENTATIVE));
		break;
	case 3:
		icalproperty_add_parameter(
		    p, icalparameter_new_partstat(ICAL_PARTSTAT_ACCEPTED));
		break;
	case 4:
		icalproperty_add_parameter(
		    p, icalparameter_new_partstat(ICAL_PARTSTAT_DECLINED));
		break;
	default:
		icalproperty_add_parameter(
		    p, icalparameter_new_partstat(ICAL_PARTSTAT_NEEDSACTION));
		break;
	}
	if (rsvp)
		icalproperty_add_parameter(
		    p, icalparameter_new_rsvp(ICAL_RSVP_TRUE));
	return p;
}

/* libical's BYDAY encoding (libical 3.0 has no encoder): the weekday
 * (1 Sunday .. 7) plus 8 times the position, negated for "from the end". */
static short
encode_day(int weekday, int pos)
{
	int v = weekday + 8 * (pos < 0 ? -pos : pos);

	return (short)(pos < 0 ? -v : v);
}

/* MS-ASCAL 2.2.2.39 Recurrence -> RFC 5545 RRULE. */
static struct icalrecurrencetype
ex_rrule(const struct export *x, bool all_day)
{
	const Rpc__CalRecurrence *r = x->c->recurrence;
	struct icalrecurrencetype rr;
	size_t n = 0;
	int pos = 0;

	icalrecurrencetype_clear(&rr);
	switch (r->type) {
	case 1:
		rr.freq = ICAL_WEEKLY_RECURRENCE;
		break;
	case 2:
	case 3:
		rr.freq = ICAL_MONTHLY_RECURRENCE;
		break;
	case 5:
	case 6:
		rr.freq = ICAL_YEARLY_RECURRENCE;
		break;
	default:
		rr.freq = ICAL_DAILY_RECURRENCE;
		break;
	}
	rr.interval = (short)(r->interval > 0 ? r->interval : 1);
	if (r->occurrences > 0)
		rr.count = (int)r->occurrences;
	else if (r->until > 0)
		rr.until = all_day ? ex_time(x, r->until, true)
				   : icaltime_from_timet_with_zone(
					 (time_t)r->until, 0,
					 icaltimezone_get_utc_timezone());
	if (r->type == 3 || r->type == 6)
		pos = r->week_of_month >= 5 ? -1 : (int)r->week_of_month;
	/* Weekly, daily with a day mask, and the nth forms: BYDAY. */
	for (int d = 0; d < 7 && r->type != 2 && r->type != 5; d++)
		if ((r->day_of_week & (1u << d)) != 0 &&
		    n < ICAL_BY_DAY_SIZE - 1)
			rr.by_day[n++] =
			    encode_day(ICAL_SUNDAY_WEEKDAY + d, pos);
	rr.by_day[n] = ICAL_RECURRENCE_ARRAY_MAX;
	if ((r->type == 2 || r->type == 5) && r->day_of_month > 0) {
		rr.by_month_day[0] = (short)r->day_of_month;
		rr.by_month_day[1] = ICAL_RECURRENCE_ARRAY_MAX;
	}
	if ((r->type == 5 || r->type == 6) && r->month_of_year > 0) {
		rr.by_month[0] = (short)r->month_of_year;
		rr.by_month[1] = ICAL_RECURRENCE_ARRAY_MAX;
	}
	if (r->has_first_day_of_week)
		rr.week_start =
		    (icalrecurrencetype_weekday)(ICAL_SUNDAY_WEEKDAY +
						 r->first_day_of_week);
	return rr;
}

/* Does the series have an occurrence originally starting at t? */
static bool
ex_is_occurrence(const struct export *x, int64_t t)
{
	const Rpc__Calendar *c = x->c;
	struct icalrecurrencetype rr = ex_rrule(x, c->all_day_event);
	struct icaltimetype start = ex_time(x, c->start_time, c->all_day_event);
	icalrecur_iterator *it;
	bool found = false;

	for (size_t i = 0; i < c->n_exceptions; i++)
		if (c->exceptions[i]->exception_start_time == t)
			return true;
	it = icalrecur_iterator_new(rr, start);
	if (it == NULL)
		return false;
	for (size_t i = 0; i < ICAL_MAX_WALK; i++) {
		struct icaltimetype o = icalrecur_iterator_next(it);
		int64_t ot;

		if (icaltime_is_null_time(o))
			break;
		ot = c->all_day_event
			 ? (int64_t)icaltime_as_timet(o) -
			       (x->has_tz ? (int64_t)tzinfo_utc_offset_min(
						&x->tz,
						(int64_t)icaltime_as_timet(o)) *
						60
					  : 0)
			 : (int64_t)icaltime_as_timet_with_zone(
			       o, x->zone != NULL
				      ? x->zone
				      : icaltimezone_get_utc_timezone());
		if (ot == t || (c->all_day_event && ot / 86400 == t / 86400)) {
			found = true;
			break;
		}
		if (ot > t)
			break;
	}
	icalrecur_iterator_free(it);
	return found;
}

/* The fields of one VEVENT: the series, or an occurrence x overriding
 * some of them (NULL: the series). */
static icalcomponent *
ex_vevent(const struct export *x, const Rpc__CalException *o, int64_t instance,
	  const char *description)
{
	const Rpc__Calendar *c = x->c;
	icalcomponent *ev = icalcomponent_new_vevent();
	bool all_day = o != NULL && o->has_all_day_event ? o->all_day_event
							 : c->all_day_event;
	int64_t dur = c->end_time - c->start_time;
	int64_t start = c->start_time, end = c->end_time;
	const char *subject = c->subject, *location = c->location;
	char uid[CAL_MAX_UID_BYTES + 1];
	size_t ulen = strnlen((const char *)c->uid.data, c->uid.len);
	Rpc__CalAttendee *const *atts = c->attendees;
	size_t n_atts = c->n_attendees;
	uint32_t reminder = c->reminder;
	bool has_reminder = c->has_reminder;

	if (instance != 0) {
		start =
		    o != NULL && o->has_start_time ? o->start_time : instance;
		end = o != NULL && o->has_end_time ? o->end_time : start + dur;
		if (o != NULL && o->has_subject)
			subject = o->subject;
		if (o != NULL && o->has_location)
			location = o->location;
		if (o != NULL && o->has_attendees) {
			atts = o->attendees;
			n_atts = o->n_attendees;
		}
		if (o != NULL && o->has_reminder) {
			reminder = o->reminder;
			has_reminder = true;
		}
	}
	/* UID as text up to a NUL (the iOS ClientUid's trailing one). */
	memcpy(uid, c->uid.data, ulen);
	uid[ulen] = '\0';
	icalcomponent_add_property(ev, icalproperty_new_uid(uid));
	icalcomponent_add_property(
	    ev, icalproperty_new_dtstamp(icaltime_from_timet_with_zone(
		    (time_t)(c->dt_stamp != 0 ? c->dt_stamp : time(NULL)), 0,
		    icaltimezone_get_utc_timezone())));
	ex_add_time(ev, x, icalproperty_new_dtstart, start, all_day);
	ex_add_time(ev, x, icalproperty_new_dtend, end, all_day);
	if (instance != 0)
		ex_add_time(ev, x, icalproperty_new_recurrenceid, instance,
			    c->all_day_event);
	icalcomponent_add_property(
	    ev, icalproperty_new_summary(subject != NULL ? subject : ""));
	if (location != NULL && *location)
		icalcomponent_add_property(ev,
					   icalproperty_new_location(location));
	if (description != NULL && *description)
		icalcomponent_add_property(
		    ev, icalproperty_new_description(description));
	icalcomponent_add_property(ev, icalproperty_new_sequence(0));
	/* MS-ASCAL 2.2.2.42 Sensitivity, 2.2.2.7 BusyStatus. */
	if (c->sensitivity == 2 || c->sensitivity == 3)
		icalcomponent_add_property(
		    ev, icalproperty_new_class(c->sensitivity == 2
						   ? ICAL_CLASS_PRIVATE
						   : ICAL_CLASS_CONFIDENTIAL));
	icalcomponent_add_property(
	    ev,
	    icalproperty_new_transp(c->has_busy_status && c->busy_status == 0
					? ICAL_TRANSP_TRANSPARENT
					: ICAL_TRANSP_OPAQUE));
	/* MS-ASCAL 2.2.2.29: bit 2 (4) is "cancelled". */
	icalcomponent_add_property(
	    ev, icalproperty_new_status((c->meeting_status & 4) != 0
					    ? ICAL_STATUS_CANCELLED
					    : ICAL_STATUS_CONFIRMED));
	if (c->organizer_email != NULL && *c->organizer_email) {
		char addr[CAL_MAX_TEXT_BYTES + 8];
		icalproperty *p;

		(void)snprintf(addr, sizeof(addr), "mailto:%s",
			       c->organizer_email);
		p = icalproperty_new_organizer(addr);
		if (c->organizer_name != NULL && *c->organizer_name)
			icalproperty_add_parameter(
			    p, icalparameter_new_cn(c->organizer_name));
		icalcomponent_add_property(ev, p);
	}
	for (size_t i = 0; i < n_atts; i++)
		icalcomponent_add_property(
		    ev, ex_attendee(atts[i], !c->has_response_requested ||
						 c->response_requested));
	for (size_t i = 0; i < c->n_categories; i++)
		icalcomponent_add_property(
		    ev, icalproperty_new_categories(c->categories[i]));
	if (has_reminder) {
		icalcomponent *al = icalcomponent_new_valarm();
		struct icaltriggertype tr = icaltriggertype_from_int(0);

		tr.duration = icaldurationtype_from_int(-(int)reminder * 60);
		icalcomponent_add_property(
		    al, icalproperty_new_action(ICAL_ACTION_DISPLAY));
		icalcomponent_add_property(al, icalproperty_new_trigger(tr));
		icalcomponent_add_property(
		    al, icalproperty_new_description("Reminder"));
		icalcomponent_add_component(ev, al);
	}
	return ev;
}

int
ical_export_event(const Rpc__Calendar *c, const char *description,
		  int64_t instance_start, const char *method, struct buf *out,
		  const char **error_r)
{
	struct export x = {.c = c};
	icalcomponent *cal = NULL, *ev;
	icalproperty_method m = icalproperty_string_to_method(method);
	const Rpc__CalException *occ = NULL;
	char *text = NULL;
	int ret = -1;

	ical_init();
	if (m == ICAL_METHOD_NONE || m == ICAL_METHOD_X) {
		*error_r = "unknown iTIP method";
		return -1;
	}
	x.has_tz =
	    c->time_zone.len == TZINFO_BLOB_BYTES &&
	    tzinfo_decode(c->time_zone.data, c->time_zone.len, &x.tz) == 0;
	if (c->tzid != NULL && *c->tzid && strcmp(c->tzid, "UTC") != 0) {
		x.zone = icaltimezone_get_builtin_timezone(c->tzid);
		x.tzid = c->tzid;
	}
	if (instance_start != 0) {
		if (c->recurrence == NULL ||
		    !ex_is_occurrence(&x, instance_start)) {
			*error_r = "no such occurrence";
			return -1;
		}
		for (size_t i = 0; i < c->n_exceptions; i++)
			if (c->exceptions[i]->exception_start_time ==
			    instance_start)
				occ = c->exceptions[i];
		if (occ != NULL && occ->deleted) {
			*error_r = "the occurrence was deleted";
			return -1;
		}
	}
	cal = icalcomponent_new_vcalendar();
	icalcomponent_add_property(
	    cal, icalproperty_new_prodid("-//easd//Exchange ActiveSync//EN"));
	icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
	icalcomponent_add_property(cal, icalproperty_new_method(m));
	if (x.zone != NULL) {
		icalcomponent *vtz =
		    icalcomponent_new_clone(icaltimezone_get_component(x.zone));
		icalproperty *id = vtz != NULL
				       ? icalcomponent_get_first_property(
					     vtz, ICAL_TZID_PROPERTY)
				       : NULL;

		if (id == NULL) {
			if (vtz != NULL)
				icalcomponent_free(vtz);
			x.zone = NULL; /* UTC after all */
		} else {
			/* The IANA name as TZID, not libical's prefixed
			 * one: what other clients recognize. */
			icalproperty_set_tzid(id, x.tzid);
			/* Only the rules from the event on (a zone's whole
			 * history is ~5 KB); Outlook-compatible form. */
			icaltimezone_truncate_vtimezone(
			    vtz,
			    icaltime_from_timet_with_zone(
				(time_t)(instance_start != 0 ? instance_start
							     : c->start_time),
				0, icaltimezone_get_utc_timezone()),
			    icaltime_null_time(), 1);
			icalcomponent_add_component(cal, vtz);
		}
	}
	if (instance_start != 0) {
		icalcomponent_add_component(
		    cal, ex_vevent(&x, occ, instance_start, description));
	} else {
		ev = ex_vevent(&x, NULL, 0, description);
		if (c->recurrence != NULL) {
			icalcomponent_add_property(
			    ev, icalproperty_new_rrule(
				    ex_rrule(&x, c->all_day_event)));
			for (size_t i = 0; i < c->n_exceptions; i++)
				if (c->exceptions[i]->deleted)
					ex_add_time(ev, &x,
						    icalproperty_new_exdate,
						    c->exceptions[i]
							->exception_start_time,
						    c->all_day_event);
		}
		icalcomponent_add_component(cal, ev);
		for (size_t i = 0; c->recurrence != NULL && i < c->n_exceptions;
		     i++)
			if (!c->exceptions[i]->deleted)
				icalcomponent_add_component(
				    cal,
				    ex_vevent(
					&x, c->exceptions[i],
					c->exceptions[i]->exception_start_time,
					NULL));
	}
	text = icalcomponent_as_ical_string_r(cal);
	if (text == NULL || buf_append_str(out, text) != 0) {
		*error_r = "out of memory";
		goto out;
	}
	ret = 0;
out:
	free(text);
	icalcomponent_free(cal);
	return ret;
}
