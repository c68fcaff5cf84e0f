/*
 * RPC Email -> WBXML ApplicationData (see email_wbxml.h).  Called once per
 * item while a Sync response streams, so it allocates nothing: every value
 * goes straight to the encoder.  Element order follows Exchange's
 * responses (MS-ASEMAIL 4.x examples), which clients are known to accept.
 */
#include "cas/email_wbxml.h"

#include "proto/base64.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>
#include <string.h>
#include <time.h>

#define EMAIL_DEFAULT_CLASS "IPM.Note"
#define EMAIL_CONTENT_CLASS "urn:content-classes:message"
#define EMAIL_DEFAULT_CPID "65001" /* UTF-8 */
#define EMAIL_MAX_IMPORTANCE 2
#define EMAIL_ATT_EMBEDDED 5 /* MS-ASAIRS 2.2.2.30: embedded message */
#define EMAIL_TZ_BYTES 172   /* TIME_ZONE_INFORMATION, MS-ASDTYPE 2.6.4 */

uint32_t
email_wbxml_truncation_bytes(uint32_t code)
{
	/* MS-ASCMD 2.2.3.185 (2.5 Truncation codes). */
	static const uint32_t sizes[] = {0,     512,   1024,  2048,  5120,
					 10240, 20480, 51200, 102400};

	if (code < sizeof(sizes) / sizeof(sizes[0]))
		return sizes[code];
	return EMAIL_WBXML_NO_TRUNCATION;
}

uint32_t
email_wbxml_mime_truncation_bytes(uint32_t code)
{
	/* MS-ASCMD 2.2.3.109: 0 truncate all, ..., 8 no truncation. */
	static const uint32_t sizes[] = {0,     4096,  5120,  7168,
					 10240, 20480, 51200, 102400};

	if (code < sizeof(sizes) / sizeof(sizes[0]))
		return sizes[code];
	return EMAIL_WBXML_NO_TRUNCATION;
}

bool
email_wbxml_wants_mime(uint32_t mime_support, const char *message_class)
{
	if (mime_support == 2)
		return true;
	if (mime_support == 1 && message_class != NULL)
		return strncmp(message_class, "IPM.Note.SMIME",
			       strlen("IPM.Note.SMIME")) == 0;
	return false;
}

void
email_wbxml_format_date(int64_t secs, char *out)
{
	struct tm tm;
	time_t t = (time_t)secs;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 1601) {
		snprintf(out, EMAIL_WBXML_DATE_BYTES,
			 "1601-01-01T00:00:00.000Z");
		return;
	}
	/* Years 1601-9999 (checked above) always print as four digits. */
	strftime(out, EMAIL_WBXML_DATE_BYTES, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

size_t
email_wbxml_utf8_cut(const uint8_t *s, size_t len, size_t max)
{
	size_t n;

	if (len <= max)
		return len;
	n = max;
	/* Back off continuation bytes (10xxxxxx) to a sequence start. */
	while (n > 0 && (s[n] & 0xc0u) == 0x80u)
		n--;
	return n;
}

static int
opt_str(struct wbxml_enc *e, uint16_t tag, const char *s)
{
	if (s == NULL || s[0] == '\0')
		return 0;
	return wbxml_enc_str(e, tag, s);
}

static int
enc_date(struct wbxml_enc *e, uint16_t tag, int64_t secs)
{
	char date[EMAIL_WBXML_DATE_BYTES];

	email_wbxml_format_date(secs, date);
	return wbxml_enc_str(e, tag, date);
}

/* Body bytes as text, or OPAQUE when they hold a NUL (binary MIME). */
static int
enc_data(struct wbxml_enc *e, uint16_t tag, const uint8_t *data, size_t len)
{
	if (memchr(data, 0, len) != NULL)
		return wbxml_enc_opaque(e, tag, data, len);
	return wbxml_enc_str_n(e, tag, (const char *)data, len);
}

static const struct sync_body_pref *
find_pref(const struct email_wbxml_opts *o, uint32_t type)
{
	for (size_t i = 0; i < o->n_prefs; i++)
		if (o->prefs[i].type == type)
			return &o->prefs[i];
	return NULL;
}

/* The part of the body sent: truncation and AllOrNone applied. */
struct body_cut {
	size_t len;
	bool truncated;
	bool omit_data;
};

static void
cut_body(const Rpc__Body *b, uint32_t limit, bool all_or_none,
	 struct body_cut *c)
{
	size_t len = b->data.len;

	c->len = len;
	c->truncated = b->truncated;
	c->omit_data = false;
	if (limit == EMAIL_WBXML_NO_TRUNCATION || len <= limit)
		return;
	c->truncated = true;
	/* MS-ASAIRS 2.2.2.3: AllOrNone and too large -> no data at all. */
	if (all_or_none) {
		c->len = 0;
		c->omit_data = true;
		return;
	}
	if (b->type == SYNC_BODY_MIME)
		c->len = limit;
	else
		c->len = email_wbxml_utf8_cut(b->data.data, len, limit);
}

static uint64_t
estimated_size(const Rpc__Body *b)
{
	return b->estimated_size > 0 ? b->estimated_size : b->data.len;
}

/* MS-ASAIRS 2.2.2.9 Body (12.0+). */
static int
enc_body_asb(struct wbxml_enc *e, const Rpc__Body *b,
	     const struct email_wbxml_opts *o)
{
	const struct sync_body_pref *p = find_pref(o, b->type);
	uint32_t limit = EMAIL_WBXML_NO_TRUNCATION;
	struct body_cut c;

	if (p != NULL && p->truncation_size > 0)
		limit = p->truncation_size;
	else if (p == NULL && b->type == SYNC_BODY_MIME)
		limit = o->mime_truncation_bytes;
	cut_body(b, limit, p != NULL && p->all_or_none, &c);
	wbxml_enc_start(e, EAS_AIRSYNCBASE_BODY);
	wbxml_enc_uint(e, EAS_AIRSYNCBASE_TYPE, b->type);
	wbxml_enc_uint(e, EAS_AIRSYNCBASE_ESTIMATED_DATA_SIZE,
		       estimated_size(b));
	if (c.truncated)
		wbxml_enc_uint(e, EAS_AIRSYNCBASE_TRUNCATED, 1);
	if (!c.omit_data && c.len > 0)
		enc_data(e, EAS_AIRSYNCBASE_DATA, b->data.data, c.len);
	/* MS-ASAIRS 2.2.2.37: Preview (14.0+) only when asked, cut to the
	 * asked size. */
	if (o->version >= 140 && p != NULL && p->preview > 0 &&
	    b->preview != NULL && b->preview[0] != '\0') {
		size_t plen = strlen(b->preview);

		plen = email_wbxml_utf8_cut((const uint8_t *)b->preview, plen,
					    p->preview);
		if (plen > 0)
			wbxml_enc_str_n(e, EAS_AIRSYNCBASE_PREVIEW, b->preview,
					plen);
	}
	return wbxml_enc_end(e);
}

/* 2.5: Email:Body is plain text, BodyTruncated / BodySize beside it;
 * MIME goes as MIMEData / MIMETruncated / MIMESize. */
static int
enc_body_25(struct wbxml_enc *e, const Rpc__Body *b,
	    const struct email_wbxml_opts *o)
{
	struct body_cut c;
	bool mime = b->type == SYNC_BODY_MIME;

	cut_body(b, mime ? o->mime_truncation_bytes : o->truncation_bytes,
		 false, &c);
	if (mime) {
		if (c.truncated)
			wbxml_enc_uint(e, EAS_EMAIL_MIME_TRUNCATED, 1);
		wbxml_enc_uint(e, EAS_EMAIL_MIME_SIZE, estimated_size(b));
		if (c.len > 0)
			enc_data(e, EAS_EMAIL_MIME_DATA, b->data.data, c.len);
		return 0;
	}
	if (c.truncated) {
		wbxml_enc_uint(e, EAS_EMAIL_BODY_TRUNCATED, 1);
		wbxml_enc_uint(e, EAS_EMAIL_BODY_SIZE, estimated_size(b));
	}
	if (c.len > 0)
		enc_data(e, EAS_EMAIL_BODY, b->data.data, c.len);
	else
		wbxml_enc_empty(e, EAS_EMAIL_BODY);
	return 0;
}

/* An embedded message gets a ".eml" name so phones open it as mail. */
static void
enc_att_name(struct wbxml_enc *e, uint16_t tag, const Rpc__Attachment *a)
{
	const char *name = a->display_name != NULL ? a->display_name : "";
	size_t len = strlen(name);

	if (a->method == EMAIL_ATT_EMBEDDED &&
	    (len < 4 || strcasecmp(name + len - 4, ".eml") != 0)) {
		wbxml_enc_start(e, tag);
		wbxml_enc_text(e, name[0] != '\0' ? name : "message",
			       name[0] != '\0' ? len : strlen("message"));
		wbxml_enc_text(e, ".eml", 4);
		wbxml_enc_end(e);
		return;
	}
	wbxml_enc_str(e, tag, name);
}

static int
enc_attachments(struct wbxml_enc *e, const Rpc__Email *m, unsigned version)
{
	if (m->n_attachments == 0)
		return 0;
	if (version < 120) {
		/* MS-ASEMAIL 2.2.2.7 (2.5 form). */
		wbxml_enc_start(e, EAS_EMAIL_ATTACHMENTS);
		for (size_t i = 0; i < m->n_attachments; i++) {
			const Rpc__Attachment *a = m->attachments[i];

			wbxml_enc_start(e, EAS_EMAIL_ATTACHMENT);
			wbxml_enc_uint(e, EAS_EMAIL_ATT_METHOD,
				       a->method ? a->method : 1);
			wbxml_enc_uint(e, EAS_EMAIL_ATT_SIZE, a->size);
			enc_att_name(e, EAS_EMAIL_DISPLAY_NAME, a);
			opt_str(e, EAS_EMAIL_ATT_NAME, a->file_reference);
			wbxml_enc_end(e);
		}
		return wbxml_enc_end(e);
	}
	/* MS-ASAIRS 2.2.2.8 Attachments. */
	wbxml_enc_start(e, EAS_AIRSYNCBASE_ATTACHMENTS);
	for (size_t i = 0; i < m->n_attachments; i++) {
		const Rpc__Attachment *a = m->attachments[i];

		wbxml_enc_start(e, EAS_AIRSYNCBASE_ATTACHMENT);
		enc_att_name(e, EAS_AIRSYNCBASE_DISPLAY_NAME, a);
		opt_str(e, EAS_AIRSYNCBASE_FILE_REFERENCE, a->file_reference);
		wbxml_enc_uint(e, EAS_AIRSYNCBASE_METHOD,
			       a->method ? a->method : 1);
		wbxml_enc_uint(e, EAS_AIRSYNCBASE_ESTIMATED_DATA_SIZE, a->size);
		opt_str(e, EAS_AIRSYNCBASE_CONTENT_ID, a->content_id);
		opt_str(e, EAS_AIRSYNCBASE_CONTENT_LOCATION,
			a->content_location);
		if (a->is_inline)
			wbxml_enc_uint(e, EAS_AIRSYNCBASE_IS_INLINE, 1);
		wbxml_enc_end(e);
	}
	return wbxml_enc_end(e);
}

/* MS-ASEMAIL 2.2.2.34 Flag: empty when cleared. */
static int
enc_flag(struct wbxml_enc *e, const Rpc__EmailFlag *f)
{
	if (f == NULL || f->status == 0)
		return wbxml_enc_empty(e, EAS_EMAIL_FLAG);
	wbxml_enc_start(e, EAS_EMAIL_FLAG);
	wbxml_enc_uint(e, EAS_EMAIL_FLAG_STATUS, f->status);
	opt_str(e, EAS_EMAIL_FLAG_TYPE,
		f->flag_type != NULL && f->flag_type[0] != '\0' ? f->flag_type
								: "Follow up");
	if (f->status == 1 && f->complete_time != 0) {
		enc_date(e, EAS_EMAIL_COMPLETE_TIME, f->complete_time);
		enc_date(e, EAS_TASKS_DATE_COMPLETED, f->complete_time);
	}
	if (f->start_date != 0) {
		enc_date(e, EAS_TASKS_START_DATE, f->start_date);
		enc_date(e, EAS_TASKS_UTC_START_DATE, f->start_date);
	}
	if (f->due_date != 0) {
		enc_date(e, EAS_TASKS_DUE_DATE, f->due_date);
		enc_date(e, EAS_TASKS_UTC_DUE_DATE, f->due_date);
	}
	return wbxml_enc_end(e);
}

/* ------------------------------------------------ MeetingRequest */

/* Base64 written as WBXML text in pieces, so a value of any length (a
 * GlobalObjId carries the whole iCalendar UID) needs no allocation: at
 * most two input bytes wait for their group of three. */
struct b64_out {
	struct wbxml_enc *e;
	uint8_t carry[3];
	size_t n_carry;
};

static void
b64_flush(struct b64_out *b, const uint8_t *in, size_t len)
{
	char text[4 * 64 + 1];

	if (len > 0 && base64_encode(in, len, text, sizeof(text)) == 0)
		wbxml_enc_text(b->e, text, strlen(text));
}

static void
b64_put(struct b64_out *b, const uint8_t *in, size_t len)
{
	while (len > 0) {
		if (b->n_carry > 0 || len < 3) {
			b->carry[b->n_carry++] = *in++;
			len--;
			if (b->n_carry == 3) {
				b64_flush(b, b->carry, 3);
				b->n_carry = 0;
			}
			continue;
		}
		{
			size_t take = len / 3 * 3;

			if (take > 3 * 64)
				take = 3 * 64;
			b64_flush(b, in, take);
			in += take;
			len -= take;
		}
	}
}

static void
b64_end(struct b64_out *b)
{
	b64_flush(b, b->carry, b->n_carry);
	b->n_carry = 0;
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The Byte Array ID that opens every GlobalObjId (MS-ASEMAIL 2.2.2.37). */
static const uint8_t goid_class[16] = {0x04, 0x00, 0x00, 0x00, 0x82, 0x00,
				       0xE0, 0x00, 0x74, 0xC5, 0xB7, 0x10,
				       0x1A, 0x82, 0xE0, 0x08};
#define GOID_HEX_PREFIX "040000008200E00074C5B7101A82E008"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* An Outlook UID is the GlobalObjId in hex (MS-OXCICAL 2.1.3.1.1.20.26). */
static bool
uid_is_outlook(const char *uid)
{
	size_t len = strlen(uid);

	if (len < 80 || len % 2 != 0 ||
	    strncasecmp(uid, GOID_HEX_PREFIX, strlen(GOID_HEX_PREFIX)) != 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (hexval(uid[i]) < 0)
			return false;
	return true;
}

/*
 * MS-ASEMAIL 2.2.2.37 GlobalObjId: CLASSID, the instance date of an
 * exception (YH YL M D) or zeros, creation time and reserved bytes (zero),
 * the data size, then an Outlook id as it was, or "vCal-Uid", version 1,
 * the UID and a NUL for any other UID.
 */
static void
enc_global_obj_id(struct wbxml_enc *e, const Rpc__MeetingInfo *mi)
{
	struct b64_out b = {.e = e};
	uint8_t head[40];
	uint8_t inst[4] = {0, 0, 0, 0};
	const char *uid = mi->uid != NULL ? mi->uid : "";
	static const uint8_t vcal[12] = {'v', 'C', 'a', 'l', '-', 'U',
					 'i', 'd', 1,   0,   0,   0};

	if (mi->recurrence_id != 0) {
		time_t t = (time_t)mi->recurrence_id;
		struct tm tm;

		if (gmtime_r(&t, &tm) != NULL) {
			unsigned year = (unsigned)tm.tm_year + 1900u;

			inst[0] = (uint8_t)(year >> 8);
			inst[1] = (uint8_t)year;
			inst[2] = (uint8_t)(tm.tm_mon + 1);
			inst[3] = (uint8_t)tm.tm_mday;
		}
	}
	wbxml_enc_start(e, EAS_EMAIL_GLOBAL_OBJ_ID);
	if (uid_is_outlook(uid)) {
		size_t n = strlen(uid) / 2;

		for (size_t i = 0; i < n; i++) {
			/* uid_is_outlook checked every digit. */
			int hi = hexval(uid[2 * i]),
			    lo = hexval(uid[2 * i + 1]);
			uint8_t byte =
			    hi < 0 || lo < 0
				? 0
				: (uint8_t)((unsigned)hi << 4 | (unsigned)lo);

			/* An exception names its instance (bytes 16-19). */
			if (i >= 16 && i < 20 && mi->recurrence_id != 0)
				byte = inst[i - 16];
			b64_put(&b, &byte, 1);
		}
	} else {
		size_t ulen = strlen(uid);

		memset(head, 0, sizeof(head));
		memcpy(head, goid_class, sizeof(goid_class));
		memcpy(head + 16, inst, sizeof(inst));
		put_le32(head + 36, (uint32_t)(sizeof(vcal) + ulen + 1));
		b64_put(&b, head, sizeof(head));
		b64_put(&b, vcal, sizeof(vcal));
		b64_put(&b, (const uint8_t *)uid, ulen);
		b64_put(&b, (const uint8_t *)"", 1);
	}
	b64_end(&b);
	wbxml_enc_end(e);
}

/* MS-ASEMAIL 2.2.2.78 TimeZone: base64 TIME_ZONE_INFORMATION; all zero
 * (UTC) when the meeting named no zone. */
static void
enc_time_zone(struct wbxml_enc *e, const Rpc__MeetingInfo *mi)
{
	struct b64_out b = {.e = e};
	static const uint8_t utc[EMAIL_TZ_BYTES];

	wbxml_enc_start(e, EAS_EMAIL_TIME_ZONE);
	if (mi->time_zone.len == EMAIL_TZ_BYTES)
		b64_put(&b, mi->time_zone.data, mi->time_zone.len);
	else
		b64_put(&b, utc, sizeof(utc));
	b64_end(&b);
	wbxml_enc_end(e);
}

/* MS-ASEMAIL 2.2.2.65 Recurrence. */
static void
enc_recurrences(struct wbxml_enc *e, const Rpc__MeetingInfo *mi)
{
	if (mi->n_recurrences == 0)
		return;
	wbxml_enc_start(e, EAS_EMAIL_RECURRENCES);
	for (size_t i = 0; i < mi->n_recurrences; i++) {
		const Rpc__MeetingRecurrence *r = mi->recurrences[i];

		wbxml_enc_start(e, EAS_EMAIL_RECURRENCE);
		wbxml_enc_uint(e, EAS_EMAIL_TYPE, r->type);
		wbxml_enc_uint(e, EAS_EMAIL_INTERVAL,
			       r->interval > 0 ? r->interval : 1);
		if (r->until != 0)
			enc_date(e, EAS_EMAIL_UNTIL, r->until);
		if (r->occurrences != 0)
			wbxml_enc_uint(e, EAS_EMAIL_OCCURRENCES,
				       r->occurrences);
		if (r->week_of_month != 0)
			wbxml_enc_uint(e, EAS_EMAIL_WEEK_OF_MONTH,
				       r->week_of_month);
		if (r->day_of_month != 0)
			wbxml_enc_uint(e, EAS_EMAIL_DAY_OF_MONTH,
				       r->day_of_month);
		if (r->day_of_week != 0)
			wbxml_enc_uint(e, EAS_EMAIL_DAY_OF_WEEK,
				       r->day_of_week);
		if (r->month_of_year != 0)
			wbxml_enc_uint(e, EAS_EMAIL_MONTH_OF_YEAR,
				       r->month_of_year);
		wbxml_enc_end(e);
	}
	wbxml_enc_end(e);
}

/* MS-ASEMAIL 2.2.2.48 MeetingRequest, children in the spec's order. */
static void
enc_meeting(struct wbxml_enc *e, const Rpc__MeetingInfo *mi, unsigned v)
{
	wbxml_enc_start(e, EAS_EMAIL_MEETING_REQUEST);
	wbxml_enc_uint(e, EAS_EMAIL_ALL_DAY_EVENT, mi->all_day ? 1 : 0);
	if (mi->start_time != 0)
		enc_date(e, EAS_EMAIL_START_TIME, mi->start_time);
	enc_date(e, EAS_EMAIL_DT_STAMP,
		 mi->dt_stamp != 0 ? mi->dt_stamp : mi->start_time);
	if (mi->end_time != 0)
		enc_date(e, EAS_EMAIL_END_TIME, mi->end_time);
	wbxml_enc_uint(e, EAS_EMAIL_INSTANCE_TYPE, mi->instance_type);
	if (mi->location != NULL && mi->location[0] != '\0') {
		/* 16.0+: airsyncbase:Location replaces email:Location. */
		if (v >= 160) {
			wbxml_enc_start(e, EAS_AIRSYNCBASE_LOCATION);
			wbxml_enc_str(e, EAS_AIRSYNCBASE_DISPLAY_NAME,
				      mi->location);
			wbxml_enc_end(e);
		} else {
			wbxml_enc_str(e, EAS_EMAIL_LOCATION, mi->location);
		}
	}
	opt_str(e, EAS_EMAIL_ORGANIZER, mi->organizer);
	if (mi->recurrence_id != 0)
		enc_date(e, EAS_EMAIL_RECURRENCE_ID, mi->recurrence_id);
	if (mi->reminder_mins >= 0)
		wbxml_enc_uint(e, EAS_EMAIL_REMINDER,
			       (uint64_t)mi->reminder_mins * 60u);
	wbxml_enc_uint(e, EAS_EMAIL_RESPONSE_REQUESTED,
		       mi->response_requested ? 1 : 0);
	enc_recurrences(e, mi);
	wbxml_enc_uint(e, EAS_EMAIL_SENSITIVITY,
		       mi->sensitivity <= 3 ? mi->sensitivity : 0);
	wbxml_enc_uint(e, EAS_EMAIL_BUSY_STATUS,
		       mi->busy_status <= 4 ? mi->busy_status : 2);
	enc_time_zone(e, mi);
	enc_global_obj_id(e, mi);
	if (v >= 140)
		wbxml_enc_uint(e, EAS_EMAIL2_MEETING_MESSAGE_TYPE,
			       mi->meeting_message_type);
	/* 16.1 new-time proposals (MS-ASCMD 2.2.3.140-141): page 8 tokens. */
	if (v >= 161 && mi->proposed_start != 0 && mi->proposed_end != 0) {
		enc_date(e, EAS_MEETINGRESPONSE_PROPOSED_START_TIME,
			 mi->proposed_start);
		enc_date(e, EAS_MEETINGRESPONSE_PROPOSED_END_TIME,
			 mi->proposed_end);
	}
	wbxml_enc_end(e);
}

int
email_wbxml_encode(struct wbxml_enc *e, const Rpc__Email *m,
		   const struct email_wbxml_opts *o)
{
	unsigned v = o->version;

	opt_str(e, EAS_EMAIL_TO, m->to);
	opt_str(e, EAS_EMAIL_CC, m->cc);
	opt_str(e, EAS_EMAIL_FROM, m->from);
	opt_str(e, EAS_EMAIL_SUBJECT, m->subject);
	opt_str(e, EAS_EMAIL_REPLY_TO, m->reply_to);
	if (m->date_received != 0)
		enc_date(e, EAS_EMAIL_DATE_RECEIVED, m->date_received);
	opt_str(e, EAS_EMAIL_DISPLAY_TO, m->display_to);
	opt_str(e, EAS_EMAIL_THREAD_TOPIC, m->thread_topic);
	/* Importance is always sent (eas-checklist.md). */
	wbxml_enc_uint(e, EAS_EMAIL_IMPORTANCE,
		       m->importance > EMAIL_MAX_IMPORTANCE
			   ? EMAIL_MAX_IMPORTANCE
			   : m->importance);
	wbxml_enc_uint(e, EAS_EMAIL_READ, m->read ? 1 : 0);
	if (v < 120) {
		enc_attachments(e, m, v);
		if (m->body != NULL)
			enc_body_25(e, m->body, o);
	} else {
		enc_attachments(e, m, v);
		if (m->body != NULL)
			enc_body_asb(e, m->body, o);
	}
	wbxml_enc_str(e, EAS_EMAIL_MESSAGE_CLASS,
		      m->message_class != NULL && m->message_class[0] != '\0'
			  ? m->message_class
			  : EMAIL_DEFAULT_CLASS);
	if (m->meeting != NULL)
		enc_meeting(e, m->meeting, v);
	wbxml_enc_str(e, EAS_EMAIL_INTERNET_CPID,
		      m->internet_cpid != NULL && m->internet_cpid[0] != '\0'
			  ? m->internet_cpid
			  : EMAIL_DEFAULT_CPID);
	if (v >= 120) {
		enc_flag(e, m->flag);
		/* MS-ASEMAIL 2.2.2.17: calendarmessage for meetings. */
		wbxml_enc_str(e, EAS_EMAIL_CONTENT_CLASS,
			      m->content_class != NULL &&
				      m->content_class[0] != '\0'
				  ? m->content_class
				  : EMAIL_CONTENT_CLASS);
		if (m->native_body_type != 0)
			wbxml_enc_uint(e, EAS_AIRSYNCBASE_NATIVE_BODY_TYPE,
				       m->native_body_type);
	}
	if (v >= 140) {
		if (m->conversation_id.len > 0)
			wbxml_enc_opaque(e, EAS_EMAIL2_CONVERSATION_ID,
					 m->conversation_id.data,
					 m->conversation_id.len);
		if (m->conversation_index.len > 0)
			wbxml_enc_opaque(e, EAS_EMAIL2_CONVERSATION_INDEX,
					 m->conversation_index.data,
					 m->conversation_index.len);
		if (m->n_categories > 0) {
			wbxml_enc_start(e, EAS_EMAIL_CATEGORIES);
			for (size_t i = 0; i < m->n_categories; i++)
				wbxml_enc_str(e, EAS_EMAIL_CATEGORY,
					      m->categories[i]);
			wbxml_enc_end(e);
		} else if (o->is_change) {
			wbxml_enc_empty(e, EAS_EMAIL_CATEGORIES);
		}
		if (m->last_verb_executed != 0) {
			wbxml_enc_uint(e, EAS_EMAIL2_LAST_VERB_EXECUTED,
				       m->last_verb_executed);
			if (m->last_verb_time != 0)
				enc_date(e, EAS_EMAIL2_LAST_VERB_EXECUTION_TIME,
					 m->last_verb_time);
		}
	}
	/* MS-ASEMAIL 2.2.2.60 ReceivedAsBcc (14.0+): only when true. */
	if (v >= 140 && m->received_as_bcc)
		wbxml_enc_uint(e, EAS_EMAIL2_RECEIVED_AS_BCC, 1);
	if (v >= 160) {
		/* MS-ASEMAIL 2.2.2.42 IsDraft; 2.2.2.10 Bcc: a draft's, and
		 * the Sent Items copy's of a message the user sent (the
		 * mailbox knows no other). */
		wbxml_enc_uint(e, EAS_EMAIL2_IS_DRAFT, m->is_draft ? 1 : 0);
		opt_str(e, EAS_EMAIL2_BCC, m->bcc);
	}
	return wbxml_enc_error(e) == WBXML_ERR_NONE ? 0 : -1;
}
