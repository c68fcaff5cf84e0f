/*
 * The neutral extracted-message structure: what mime_parse (mailbox/mime.c)
 * learns from one raw RFC 5322 message, in plain C types with no GMime or
 * libical type in sight.  The store keeps it next to the byte-exact raw
 * MIME as a compact blob (message_summary_encode/_decode) so that a Sync
 * never re-parses MIME; the CAS turns it into Email, AirSyncBase and
 * MeetingRequest elements.  All text is UTF-8 and NUL-terminated; a string
 * field that is absent is NULL.  A summary owns all its memory; free it with
 * message_summary_free.
 */
#ifndef EASD_MAILBOX_MESSAGE_H
#define EASD_MAILBOX_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proto/buf.h"

/* MS-ASEMAIL 2.2.2.39 Importance */
enum message_importance {
	MESSAGE_IMPORTANCE_LOW = 0,
	MESSAGE_IMPORTANCE_NORMAL = 1,
	MESSAGE_IMPORTANCE_HIGH = 2,
};

/* iCalendar METHOD (RFC 5546 1.4) of the calendar part, if any. */
enum message_meeting_method {
	MESSAGE_METHOD_NONE = 0,
	MESSAGE_METHOD_REQUEST = 1,
	MESSAGE_METHOD_CANCEL = 2,
	MESSAGE_METHOD_REPLY = 3,
	MESSAGE_METHOD_PUBLISH = 4,
	MESSAGE_METHOD_OTHER = 5,
	MESSAGE_METHOD_COUNTER = 6, /* an attendee proposes a new time */
};

/* RFC 5545 3.2.12 PARTSTAT, as far as EAS shows it. */
enum message_attendee_status {
	MESSAGE_ATTENDEE_UNKNOWN = 0,
	MESSAGE_ATTENDEE_NEEDS_ACTION = 1,
	MESSAGE_ATTENDEE_ACCEPTED = 2,
	MESSAGE_ATTENDEE_TENTATIVE = 3,
	MESSAGE_ATTENDEE_DECLINED = 4,
	MESSAGE_ATTENDEE_DELEGATED = 5,
};

/* Bytes of the EAS ConversationId (MS-ASEMAIL 2.2.2.21). */
#define MESSAGE_CONVERSATION_ID_BYTES 16
/* ConversationIndex header block (MS-OXOMSG 2.2.1.3): one reserved byte,
 * five bytes of FILETIME, sixteen bytes of conversation GUID. */
#define MESSAGE_CONVERSATION_INDEX_BYTES 22
/* InternetCPID of every text we keep: UTF-8 (MS-ASEMAIL 2.2.2.40). */
#define MESSAGE_CPID_UTF8 65001u

struct message_attendee {
	char *email;
	char *name; /* CN parameter, may be NULL */
	enum message_attendee_status status;
	bool required; /* ROLE=REQ-PARTICIPANT (the default) vs optional */
};

/* Bytes of a Windows TIME_ZONE_INFORMATION structure (MS-ASDTYPE 2.6.4):
 * Bias, StandardName[32], StandardDate, StandardBias, DaylightName[32],
 * DaylightDate, DaylightBias, little-endian. */
#define MESSAGE_TZ_BLOB_BYTES 172

/* The RRULE of a meeting in MS-ASEMAIL 2.2.2.65 Recurrence terms. */
enum message_recurrence_type {
	MESSAGE_RECUR_DAILY = 0,
	MESSAGE_RECUR_WEEKLY = 1,
	MESSAGE_RECUR_MONTHLY = 2,     /* on day_of_month */
	MESSAGE_RECUR_MONTHLY_NTH = 3, /* week_of_month, day_of_week */
	MESSAGE_RECUR_YEARLY = 5,      /* month_of_year, day_of_month */
	MESSAGE_RECUR_YEARLY_NTH = 6,  /* month, week, day of week */
};

struct message_recurrence {
	bool present;
	enum message_recurrence_type type;
	uint32_t interval;     /* 0: absent (every period) */
	int64_t until;         /* UTC seconds, 0: absent */
	uint32_t occurrences;  /* COUNT, 0: absent */
	uint8_t week_of_month; /* 1..5, 5 = last */
	uint8_t day_of_month;  /* 1..31 */
	uint8_t day_of_week;   /* mask: 1 Sunday, 2 Monday .. 64 Saturday */
	uint8_t month_of_year; /* 1..12 */
};

/* MS-ASEMAIL 2.2.2.11 BusyStatus (from TRANSP and the Microsoft
 * X-MICROSOFT-CDO-INTENDEDSTATUS / BUSYSTATUS properties). */
enum message_busy {
	MESSAGE_BUSY_FREE = 0,
	MESSAGE_BUSY_TENTATIVE = 1,
	MESSAGE_BUSY_BUSY = 2,
	MESSAGE_BUSY_OOF = 3,
	MESSAGE_BUSY_ELSEWHERE = 4,
};

struct message_meeting {
	enum message_meeting_method method;
	char *uid;
	char *summary;
	char *location;
	char *organizer; /* e-mail address without "mailto:" */
	char *rrule;     /* RRULE as RFC 5545 text, NULL if not recurring */
	char *tzid;      /* TZID of DTSTART, NULL for UTC or floating */
	int64_t start;   /* DTSTART as UTC seconds since the epoch */
	int64_t end;     /* DTEND (or DTSTART + DURATION) */
	int64_t stamp;   /* DTSTAMP, 0 if absent */
	uint32_t sequence;
	bool all_day;
	struct message_attendee *attendees;
	size_t n_attendees;
	/* Blob version 2 (MS-ASEMAIL 2.2.2.48 elements). */
	int64_t recurrence_id; /* RECURRENCE-ID (UTC): an exception, or 0 */
	int32_t reminder_mins; /* first VALARM's minutes before; -1 none */
	uint8_t sensitivity;   /* CLASS: 0 normal, 2 private, 3 confidential */
	enum message_busy busy_status;
	bool response_requested; /* some attendee has RSVP=TRUE */
	struct message_recurrence recurrence;
	bool has_tz;
	uint8_t tz[MESSAGE_TZ_BLOB_BYTES]; /* DTSTART's zone; UTC if !has_tz */
	int64_t proposed_start; /* COUNTER: the time proposed, 0 absent */
	int64_t proposed_end;
};

struct message_attachment {
	uint32_t index; /* position for mime_attachment_extract */
	char *name;     /* never NULL: a name is made up if the part has none */
	char *content_type; /* "type/subtype", lower case */
	char *content_id;   /* without angle brackets, may be NULL */
	char *content_location;
	uint64_t size;   /* decoded size in bytes */
	bool is_inline;  /* shown in the HTML body (MS-ASAIRS IsInline) */
	bool is_message; /* an embedded message/rfc822 (named .eml) */
};

struct message_summary {
	/* Address lists as decoded display text ("Name <a@b>, c@d"). */
	char *from;
	char *to;
	char *cc;
	char *reply_to;
	char *sender;
	char *subject;
	char *date_header; /* original Date header text, NULL if missing */
	int64_t date;      /* Date as UTC seconds, or the received time */
	int64_t received;  /* the received time given to mime_parse */
	char *message_id;  /* without angle brackets */
	char *in_reply_to;
	char *references; /* space separated ids, without brackets */
	char *thread_topic;
	uint8_t conversation_id[MESSAGE_CONVERSATION_ID_BYTES];
	uint8_t conversation_index[MESSAGE_CONVERSATION_INDEX_BYTES];
	enum message_importance importance;
	char *content_class; /* "urn:content-classes:message" ... */
	char *message_class; /* "IPM.Note" ... */
	char *text;          /* text/plain body in UTF-8, NULL if none */
	size_t text_len;
	char *html; /* text/html body in UTF-8, NULL if none */
	size_t html_len;
	bool text_truncated;
	bool html_truncated;
	char *preview; /* at most MIME_PREVIEW_CHARS characters */
	uint32_t internet_cpid;
	struct message_attachment *attachments;
	size_t n_attachments;
	size_t n_attachments_dropped;    /* over MIME_MAX_ATTACHMENTS */
	struct message_meeting *meeting; /* NULL unless a calendar part */
};

struct message_summary *message_summary_new(void);
void message_summary_free(struct message_summary **summary);
struct message_meeting *message_meeting_new(void);
void message_meeting_free(struct message_meeting **meeting);

/*
 * Append the summary's compact blob to out: a 4-byte magic and version,
 * then each field in a fixed order, strings as a 32-bit big-endian length
 * (0xffffffff for NULL) and bytes.  -1 if out's maximum is reached.
 */
int message_summary_encode(const struct message_summary *summary,
			   struct buf *out);
/*
 * Rebuild a summary from a blob.  Every length is checked against the
 * remaining input and the limits in proto/limits.h; a corrupt, truncated or
 * over-long blob gives -1 with *error_r set, never a crash.
 */
int message_summary_decode(const uint8_t *blob, size_t len,
			   struct message_summary **summary_r,
			   const char **error_r);

/*
 * The meeting alone, as the store keeps it in an item's properties
 * (item_props.meeting): a 4-byte magic and version, then the fields as in
 * the summary blob.  Decoding checks every length and range like
 * message_summary_decode.
 */
int message_meeting_encode(const struct message_meeting *meeting,
			   struct buf *out);
int message_meeting_decode(const uint8_t *blob, size_t len,
			   struct message_meeting **meeting_r,
			   const char **error_r);

#endif
