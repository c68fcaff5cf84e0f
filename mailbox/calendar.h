/*
 * Calendar items (MS-ASCAL) in the mailbox: between the RPC's
 * rpc.Calendar (proto/rpc.proto), which the CAS decodes from and encodes
 * into Sync ApplicationData, and the item's stored props.  The event is
 * kept as one application property "calendar" holding a version byte and
 * the packed rpc.Calendar: one schema for the wire and the store, whose
 * protobuf field rules version the stored form (a newer writer's fields
 * are skipped by an older reader).  The subject and body also go to the
 * ordinary props fields (subject, body_text / body_html), where search and
 * the forward composer find them.
 *
 * Also here: validation of a client's event with the bounds of
 * proto/limits.h (CAL_MAX_*), the date that FilterType compares (the end
 * of the last occurrence), and the 16.0 instance model (MS-ASAIRS
 * 2.2.2.25 InstanceId: a Change or Delete of one occurrence becomes an
 * Exception of the series).
 */
#ifndef EASD_MAILBOX_CALENDAR_H
#define EASD_MAILBOX_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

#include "mailbox/items.h"
#include "proto/rpc.pb-c.h"

/* The application property that holds the packed event. */
#define CALENDAR_PROP_KEY "calendar"

/* The date FilterType compares for an event that never ends (an endless
 * recurrence): 9999-12-31T23:59:59Z. */
#define CALENDAR_DATE_FOREVER INT64_C(253402300799)

/* 0 when c is a storable event; -1 with *error_r (a static string) when a
 * count, length or value is out of range (Sync Status 6). */
int calendar_validate(const Rpc__Calendar *c, const Rpc__Body *body,
		      const char **error_r);

/* Fills props from an event and its body (NULL: none).  c->uid must be
 * set (calendar_make_uid).  -1 out of memory or too large. */
int calendar_props_set(struct item_props *p, const Rpc__Calendar *c,
		       const Rpc__Body *body);

/* The event stored in props, unpacked with alloc (NULL: malloc; free with
 * rpc__calendar__free_unpacked).  NULL when props hold none or it does
 * not parse. */
Rpc__Calendar *calendar_from_props(const struct item_props *p,
				   ProtobufCAllocator *alloc);

/* A new random UID (32 hex digits) in out (at least 33 bytes). */
int calendar_make_uid(char *out, size_t size);

/* What FilterType compares (items.h item_new.date): the end of the last
 * occurrence; CALENDAR_DATE_FOREVER for an endless series. */
int64_t calendar_item_date(const Rpc__Calendar *c);

/*
 * 16.0 instance model: the occurrence of series c originally starting at
 * instance_start becomes an exception (replacing any for that instance):
 * deleted, or overridden by the fields of occ (its subject, times,
 * location, all-day flag, and each flagged scalar).  New arrays come from
 * alloc, which must be the allocator c was unpacked with.  -1 when c is
 * not recurring, the exception count would exceed CAL_MAX_EXCEPTIONS, or
 * out of memory.
 */
int calendar_set_instance(Rpc__Calendar *c, int64_t instance_start,
			  bool deleted, const Rpc__Calendar *occ,
			  ProtobufCAllocator *alloc, const char **error_r);

/* An InstanceId or Occurrence as the client sends it, extended
 * ("2026-12-01T09:00:00.000Z", MS-ASCMD 2.2.3.90) or compact
 * ("20261201T090000Z"), to Unix seconds; -1 when malformed. */
int calendar_parse_time(const char *text, int64_t *secs_r);

/*
 * SmartForward of a calendar item (MS-ASCMD 2.2.1.16 with an InstanceId
 * or none): the "original" message the forward is composed around, since
 * an event has no MIME of its own.  A multipart/mixed RFC 5322 message
 * from the organizer with the event's subject, a text/plain summary
 * (when, where, body) and the event (or the occurrence at instance_start,
 * 0 for the series) as a text/calendar; method=REQUEST attachment, which
 * the forward carries along.  Header values are stripped of line breaks.
 * *mime_r is malloc'd.  -1 with *error_r when the item holds no event or
 * has no such occurrence.
 */
int calendar_forward_original(const struct item *it, int64_t instance_start,
			      int64_t now, uint8_t **mime_r, size_t *len_r,
			      const char **error_r);

#endif
