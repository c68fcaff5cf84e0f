/*
 * The email class on the wire: an RPC Email (proto/rpc.proto, as the
 * mailbox returns it in GetChanges, ApplyChanges fetches and
 * ItemOperations) becomes the children of an AirSync ApplicationData
 * element, per protocol version (MS-ASEMAIL 2.2.2, MS-ASAIRS 2.2.2):
 *
 *  - 2.5: Email-page Body / BodyTruncated / BodySize, Email-page
 *    Attachments (AttName is the file reference), MIMEData for MIMESupport;
 *  - 12.0+: AirSyncBase Body (Type, EstimatedDataSize, Truncated, Data),
 *    Attachments, NativeBodyType, Flag, ContentClass;
 *  - 14.0+: Preview, Categories, ConversationId / ConversationIndex,
 *    LastVerbExecuted;
 *  - 14.0+ also: ReceivedAsBcc, MeetingRequest's MeetingMessageType;
 *  - 16.0+: IsDraft (items in Drafts) with Bcc, airsyncbase:Location in
 *    MeetingRequest; 16.1: ProposedStartTime / ProposedEndTime.
 *
 * A meeting message (MS-ASEMAIL 2.2.2.48) carries MeetingRequest after
 * MessageClass: times, InstanceType, Organizer, Reminder (seconds),
 * Recurrences, Sensitivity, BusyStatus, TimeZone (the base64
 * TIME_ZONE_INFORMATION) and GlobalObjId (base64, built from the UID).
 *
 * Importance is always sent (clients treat a missing one as "low" on some
 * builds).  The body honours exactly what the client asked: the
 * BodyPreference of the body's type gives TruncationSize (cut at a UTF-8
 * character boundary for text) and AllOrNone (no Data at all when it would
 * be cut); Preview is cut to the asked size.  Nothing is capped beyond what
 * was asked (iOS re-fetches with ItemOperations, Gmail never does).
 */
#ifndef EASD_CAS_EMAIL_WBXML_H
#define EASD_CAS_EMAIL_WBXML_H

#include "cas/sync_req.h"
#include "proto/rpc.pb-c.h"
#include "proto/wbxml.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* No truncation. */
#define EMAIL_WBXML_NO_TRUNCATION UINT32_MAX

struct email_wbxml_opts {
	unsigned version; /* x10 */
	/* BodyPreferences of the request (12.0+); may be empty. */
	const struct sync_body_pref *prefs;
	size_t n_prefs;
	/* 2.5: body size limit from airsync:Truncation (bytes). */
	uint32_t truncation_bytes;
	/* MIME size limit from MIMETruncation (bytes), for 2.5 MIMEData and
	 * a 12.x MIME body without a type-4 BodyPreference. */
	uint32_t mime_truncation_bytes;
	/* A Change (not an Add): empty Categories are sent so a removal
	 * reaches the client. */
	bool is_change;
};

/* Write the ApplicationData children for m.  0, or -1 when the encoder
 * failed (its error is sticky in e). */
int email_wbxml_encode(struct wbxml_enc *e, const Rpc__Email *m,
		       const struct email_wbxml_opts *opts);

/* airsync:Truncation code (2.5, 0..9) to bytes (MS-ASCMD 2.2.3.185). */
uint32_t email_wbxml_truncation_bytes(uint32_t code);
/* MIMETruncation code (0..8) to bytes (MS-ASCMD 2.2.3.109). */
uint32_t email_wbxml_mime_truncation_bytes(uint32_t code);
/*
 * MIMESupport (MS-ASCMD 2.2.3.108): should this message go as MIME?
 * 0 never, 1 only S/MIME messages (MessageClass IPM.Note.SMIME*), 2 all.
 */
bool email_wbxml_wants_mime(uint32_t mime_support, const char *message_class);
/* Unix seconds to "2026-11-27T10:00:00.000Z" (MS-ASDTYPE 2.3); out must
 * hold EMAIL_WBXML_DATE_BYTES. */
#define EMAIL_WBXML_DATE_BYTES 25
void email_wbxml_format_date(int64_t secs, char *out);
/* Length of the longest prefix of s[0..len) that is at most max bytes and
 * does not split a UTF-8 sequence. */
size_t email_wbxml_utf8_cut(const uint8_t *s, size_t len, size_t max);

#endif
