/*
 * Calendar parts of incoming mail (text/calendar, RFC 5545 / iTIP RFC 5546)
 * turned into the neutral struct message_meeting that the CAS renders as a
 * MeetingRequest (MS-ASEMAIL 2.2.2.48).  The only includer of libical.
 * mime.c calls it for each text/calendar part; a calendar that fails to
 * parse is simply not a meeting (the mail is still delivered).
 *
 * Threads: libical keeps its error state per thread and the parse uses no
 * shared objects, but its "errors are fatal" switch is process-global:
 * ical_init (called by ical_parse_meeting through pthread_once) turns it
 * off before any parse.
 */
#ifndef EASD_MAILBOX_ICAL_H
#define EASD_MAILBOX_ICAL_H

#include <stddef.h>
#include <stdint.h>

#include "mailbox/message.h"
#include "proto/buf.h"
#include "proto/rpc.pb-c.h"

/* Idempotent and thread-safe; done implicitly by ical_parse_meeting. */
void ical_init(void);

/*
 * Parse the first VEVENT of an iCalendar text (at most
 * MIME_MAX_CALENDAR_BYTES; need not be NUL-terminated).  Times are
 * converted to UTC using the calendar's own VTIMEZONE or libical's builtin
 * zone for the TZID; floating times are taken as UTC.  -1 with *error_r set
 * when there is no usable event.
 */
int ical_parse_meeting(const char *text, size_t len,
		       struct message_meeting **meeting_r,
		       const char **error_r);

/* ---- calendar items (MS-ASCAL): time zones and iCalendar export ---- */

/*
 * The IANA name of libical's builtin zone whose offsets and yearly rules
 * match a TIME_ZONE_INFORMATION blob (MS-ASDTYPE 2.7, 172 bytes): the
 * blob's own StandardName when it is such a zone, else a common zone of
 * that offset, else the first builtin zone that matches; "UTC" for a
 * zero offset without daylight saving.  -1 when none matches.
 */
int ical_tz_name_from_blob(const uint8_t *blob, char *name, size_t size);
/* The blob of a builtin zone (both names are the IANA name); -1 when
 * unknown. */
int ical_tz_blob_from_name(const char *name, uint8_t *blob);

/*
 * An iCalendar rendering (RFC 5545, iTIP method) of a calendar item: a
 * VCALENDAR with the event's VTIMEZONE (the builtin zone named by
 * c->tzid, its TZID the IANA name), one VEVENT with RRULE, EXDATE for
 * deleted occurrences, ORGANIZER, ATTENDEE, VALARM, and one VEVENT with
 * RECURRENCE-ID per modified occurrence.  With instance_start (Unix
 * seconds, the occurrence's original start) only that occurrence is
 * rendered, as a VEVENT with RECURRENCE-ID; -1 when the series has no
 * such occurrence or it was deleted.  description becomes DESCRIPTION
 * (may be NULL).  The text is appended to out.
 */
int ical_export_event(const Rpc__Calendar *c, const char *description,
		      int64_t instance_start, const char *method,
		      struct buf *out, const char **error_r);

#endif
