/*
 * The calendar class on the wire (MS-ASCAL 2.2.2): an RPC Calendar
 * (proto/rpc.proto) to and from the children of a Sync ApplicationData,
 * per protocol version:
 *
 *  - 2.5: calendar:Body / BodyTruncated; attendees without status or type;
 *  - 12.0+: airsyncbase:Body; AttendeeStatus, AttendeeType;
 *  - 14.0+: ResponseRequested, AppointmentReplyTime, ResponseType,
 *    DisallowNewTimeProposal, Recurrence CalendarType and IsLeapMonth;
 *  - 14.1+: FirstDayOfWeek, OnlineMeetingConfLink / ExternalLink;
 *  - 16.0+: airsyncbase:Location (DisplayName) instead of calendar:Location,
 *    exceptions named by airsyncbase:InstanceId instead of
 *    ExceptionStartTime, ClientUid from the client (never sent back).
 *
 * Times are the compact form "20261127T100000Z" (MS-ASDTYPE 2.3); the
 * decoder also takes the extended form that some clients send.  TimeZone
 * is the base64 TIME_ZONE_INFORMATION, kept as the raw 172 bytes.
 *
 * The decoder reads client ApplicationData (network input): every count
 * is checked against CAL_MAX_* of proto/limits.h before allocating, every
 * value against its MS-ASCAL range; a violation is -1 (Sync Status 6 for
 * that command, never a crash).
 */
#ifndef EASD_CAS_CALENDAR_WBXML_H
#define EASD_CAS_CALENDAR_WBXML_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/rpc.pb-c.h"
#include "proto/wbxml.h"
#include "proto/wbxml_tree.h"

/* True when ApplicationData holds a calendar item: a child element of the
 * Calendar code page (4).  At 12.0+ Sync names no class, so this is how
 * the CAS tells an event from email data. */
bool calendar_wbxml_is_event(const struct wbxml_node *app);

/*
 * Decode ApplicationData into *cal_r and *body_r (NULL when no body).
 * Everything is malloc'd and copied out of the tree; release with
 * calendar_wbxml_free.  -1 with *error_r (static) on bad or oversized
 * input or out of memory.
 */
int calendar_wbxml_decode(const struct wbxml_node *app, unsigned version,
			  Rpc__Calendar **cal_r, Rpc__Body **body_r,
			  const char **error_r);
void calendar_wbxml_free(Rpc__Calendar **cal, Rpc__Body **body);

/* Write the ApplicationData children of an event (body may be NULL).
 * 0, or -1 when the encoder failed (sticky in e). */
int calendar_wbxml_encode(struct wbxml_enc *e, const Rpc__Calendar *c,
			  const Rpc__Body *body, unsigned version);

/* "20261127T100000Z" (compact) or "2026-11-27T10:00:00.000Z" to Unix
 * seconds; -1 when malformed. */
int calendar_wbxml_parse_time(const char *text, int64_t *secs_r);
/* Unix seconds to the compact form; out holds CALENDAR_WBXML_TIME_BYTES. */
#define CALENDAR_WBXML_TIME_BYTES 17
void calendar_wbxml_format_time(int64_t secs, char *out);

#endif
