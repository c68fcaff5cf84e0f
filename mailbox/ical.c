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
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/limits.h"

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
		icalparameter *cn, *ps, *role;

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
	}
	return 0;
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
