/*
 * The extracted-message structure's life cycle and its blob format.  The
 * store writes the blob produced here beside each message's raw MIME and
 * hands it back on every Sync or ItemOperations, so decoding is on the
 * read path of untrusted-derived data: every length is checked against the
 * bytes that remain and against a named limit before anything is
 * allocated, and any inconsistency is an error, never a crash.
 *
 * Layout (all integers big-endian): "EMS" + version byte, then the fields
 * in the order of put_summary below.  Strings: u32 length or 0xffffffff
 * for NULL, then the bytes (no NUL).  The format is versioned as a whole:
 * a new field means a new version byte and a decoder for both.
 */
#include "mailbox/message.h"

#include <stdlib.h>
#include <string.h>

#include "proto/limits.h"

#define MESSAGE_BLOB_MAGIC "EMS"
#define MESSAGE_BLOB_VERSION 2 /* 2: meeting fields of MS-ASEMAIL 2.2.2.48 */
#define MEETING_BLOB_MAGIC "EMM"
#define MEETING_BLOB_VERSION 1
#define MESSAGE_BLOB_NULL 0xffffffffu

struct message_summary *
message_summary_new(void)
{
	return calloc(1, sizeof(struct message_summary));
}

struct message_meeting *
message_meeting_new(void)
{
	struct message_meeting *m = calloc(1, sizeof(*m));

	if (m != NULL) {
		m->reminder_mins = -1;
		m->busy_status = MESSAGE_BUSY_BUSY;
	}
	return m;
}

void
message_meeting_free(struct message_meeting **meeting)
{
	struct message_meeting *m = *meeting;

	if (m == NULL)
		return;
	free(m->uid);
	free(m->summary);
	free(m->location);
	free(m->organizer);
	free(m->rrule);
	free(m->tzid);
	for (size_t i = 0; m->attendees != NULL && i < m->n_attendees; i++) {
		free(m->attendees[i].email);
		free(m->attendees[i].name);
	}
	free(m->attendees);
	free(m);
	*meeting = NULL;
}

void
message_summary_free(struct message_summary **summary)
{
	struct message_summary *s = *summary;

	if (s == NULL)
		return;
	free(s->from);
	free(s->to);
	free(s->cc);
	free(s->reply_to);
	free(s->sender);
	free(s->subject);
	free(s->date_header);
	free(s->message_id);
	free(s->in_reply_to);
	free(s->references);
	free(s->thread_topic);
	free(s->content_class);
	free(s->message_class);
	free(s->text);
	free(s->html);
	free(s->preview);
	for (size_t i = 0; i < s->n_attachments; i++) {
		free(s->attachments[i].name);
		free(s->attachments[i].content_type);
		free(s->attachments[i].content_id);
		free(s->attachments[i].content_location);
	}
	free(s->attachments);
	message_meeting_free(&s->meeting);
	free(s);
	*summary = NULL;
}

/* ------------------------------------------------------------ encoding */

static int
put_u32(struct buf *out, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
			(uint8_t)(v >> 8), (uint8_t)v};

	return buf_append(out, b, sizeof(b));
}

static int
put_u64(struct buf *out, uint64_t v)
{
	if (put_u32(out, (uint32_t)(v >> 32)) != 0)
		return -1;
	return put_u32(out, (uint32_t)v);
}

static int
put_bytes(struct buf *out, const char *s, size_t len)
{
	if (s == NULL)
		return put_u32(out, MESSAGE_BLOB_NULL);
	if (len >= MESSAGE_BLOB_NULL)
		return -1;
	if (put_u32(out, (uint32_t)len) != 0)
		return -1;
	return buf_append(out, s, len);
}

static int
put_str(struct buf *out, const char *s)
{
	return put_bytes(out, s, s != NULL ? strlen(s) : 0);
}

static int
put_meeting_v2(struct buf *out, const struct message_meeting *m)
{
	const struct message_recurrence *rc = &m->recurrence;
	uint8_t rec[6] = {rc->present ? 1 : 0, (uint8_t)rc->type,
			  rc->week_of_month,   rc->day_of_month,
			  rc->day_of_week,     rc->month_of_year};

	if (put_u64(out, (uint64_t)m->recurrence_id) != 0 ||
	    put_u32(out, (uint32_t)m->reminder_mins) != 0 ||
	    buf_append_byte(out, m->sensitivity) != 0 ||
	    buf_append_byte(out, (uint8_t)m->busy_status) != 0 ||
	    buf_append_byte(out, m->response_requested ? 1 : 0) != 0 ||
	    buf_append(out, rec, sizeof(rec)) != 0 ||
	    put_u32(out, rc->interval) != 0 ||
	    put_u64(out, (uint64_t)rc->until) != 0 ||
	    put_u32(out, rc->occurrences) != 0 ||
	    buf_append_byte(out, m->has_tz ? 1 : 0) != 0 ||
	    (m->has_tz && buf_append(out, m->tz, sizeof(m->tz)) != 0) ||
	    put_u64(out, (uint64_t)m->proposed_start) != 0 ||
	    put_u64(out, (uint64_t)m->proposed_end) != 0)
		return -1;
	return 0;
}

static int
put_meeting(struct buf *out, const struct message_meeting *m)
{
	if (put_u32(out, (uint32_t)m->method) != 0 ||
	    put_str(out, m->uid) != 0 || put_str(out, m->summary) != 0 ||
	    put_str(out, m->location) != 0 || put_str(out, m->organizer) != 0 ||
	    put_str(out, m->rrule) != 0 || put_str(out, m->tzid) != 0 ||
	    put_u64(out, (uint64_t)m->start) ||
	    put_u64(out, (uint64_t)m->end) != 0 ||
	    put_u64(out, (uint64_t)m->stamp) != 0 ||
	    put_u32(out, m->sequence) != 0 ||
	    buf_append_byte(out, m->all_day ? 1 : 0) != 0 ||
	    put_u32(out, (uint32_t)m->n_attendees) != 0)
		return -1;
	for (size_t i = 0; i < m->n_attendees; i++) {
		const struct message_attendee *a = &m->attendees[i];

		if (put_str(out, a->email) != 0 || put_str(out, a->name) != 0 ||
		    buf_append_byte(out, (uint8_t)a->status) != 0 ||
		    buf_append_byte(out, a->required ? 1 : 0) != 0)
			return -1;
	}
	return put_meeting_v2(out, m);
}

int
message_summary_encode(const struct message_summary *s, struct buf *out)
{
	const char *strs[] = {
	    s->from,          s->to,         s->cc,           s->reply_to,
	    s->sender,        s->subject,    s->date_header,  s->message_id,
	    s->in_reply_to,   s->references, s->thread_topic, s->content_class,
	    s->message_class, s->preview};
	uint8_t flags = (uint8_t)((s->text_truncated ? 1 : 0) |
				  (s->html_truncated ? 2 : 0));

	if (buf_append(out, MESSAGE_BLOB_MAGIC, 3) != 0 ||
	    buf_append_byte(out, MESSAGE_BLOB_VERSION) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (put_str(out, strs[i]) != 0)
			return -1;
	if (put_u64(out, (uint64_t)s->date) != 0 ||
	    put_u64(out, (uint64_t)s->received) != 0 ||
	    buf_append(out, s->conversation_id, sizeof(s->conversation_id)) ||
	    buf_append(out, s->conversation_index,
		       sizeof(s->conversation_index)) != 0 ||
	    buf_append_byte(out, (uint8_t)s->importance) != 0 ||
	    put_u32(out, s->internet_cpid) != 0 ||
	    buf_append_byte(out, flags) != 0 ||
	    put_bytes(out, s->text, s->text_len) != 0 ||
	    put_bytes(out, s->html, s->html_len) != 0 ||
	    put_u32(out, (uint32_t)s->n_attachments_dropped) != 0 ||
	    put_u32(out, (uint32_t)s->n_attachments) != 0)
		return -1;
	for (size_t i = 0; i < s->n_attachments; i++) {
		const struct message_attachment *a = &s->attachments[i];
		uint8_t aflags =
		    (uint8_t)((a->is_inline ? 1 : 0) | (a->is_message ? 2 : 0));

		if (put_u32(out, a->index) != 0 || put_str(out, a->name) != 0 ||
		    put_str(out, a->content_type) != 0 ||
		    put_str(out, a->content_id) != 0 ||
		    put_str(out, a->content_location) != 0 ||
		    put_u64(out, a->size) != 0 ||
		    buf_append_byte(out, aflags) != 0)
			return -1;
	}
	if (s->meeting == NULL)
		return buf_append_byte(out, 0);
	if (buf_append_byte(out, 1) != 0)
		return -1;
	return put_meeting(out, s->meeting);
}

/* ------------------------------------------------------------ decoding */

struct reader {
	const uint8_t *pos;
	const uint8_t *end;
	const char *error;
};

static int
fail(struct reader *r, const char *error)
{
	if (r->error == NULL)
		r->error = error;
	return -1;
}

static int
get_u8(struct reader *r, uint8_t *v_r)
{
	if (r->end - r->pos < 1)
		return fail(r, "truncated blob");
	*v_r = *r->pos++;
	return 0;
}

static int
get_u32(struct reader *r, uint32_t *v_r)
{
	if (r->end - r->pos < 4)
		return fail(r, "truncated blob");
	*v_r = (uint32_t)r->pos[0] << 24 | (uint32_t)r->pos[1] << 16 |
	       (uint32_t)r->pos[2] << 8 | (uint32_t)r->pos[3];
	r->pos += 4;
	return 0;
}

static int
get_u64(struct reader *r, uint64_t *v_r)
{
	uint32_t hi = 0, lo = 0;

	if (get_u32(r, &hi) != 0 || get_u32(r, &lo) != 0)
		return -1;
	*v_r = (uint64_t)hi << 32 | lo;
	return 0;
}

static int
get_i64(struct reader *r, int64_t *v_r)
{
	uint64_t v;

	if (get_u64(r, &v) != 0)
		return -1;
	*v_r = (int64_t)v;
	return 0;
}

static int
get_bool(struct reader *r, bool *v_r)
{
	uint8_t v = 0;

	if (get_u8(r, &v) != 0)
		return -1;
	if (v > 1)
		return fail(r, "bad boolean");
	*v_r = v == 1;
	return 0;
}

/* A string field: checked against the remaining input before allocating;
 * an embedded NUL is refused so the C string is the whole field. */
static int
get_bytes(struct reader *r, char **s_r, size_t *len_r)
{
	uint32_t len;
	char *s;

	*s_r = NULL;
	if (len_r != NULL)
		*len_r = 0;
	if (get_u32(r, &len) != 0)
		return -1;
	if (len == MESSAGE_BLOB_NULL)
		return 0;
	if (len > (size_t)(r->end - r->pos))
		return fail(r, "string longer than the blob");
	if (memchr(r->pos, '\0', len) != NULL)
		return fail(r, "NUL inside a string");
	s = malloc((size_t)len + 1);
	if (s == NULL)
		return fail(r, "out of memory");
	memcpy(s, r->pos, len);
	s[len] = '\0';
	r->pos += len;
	*s_r = s;
	if (len_r != NULL)
		*len_r = len;
	return 0;
}

static int
get_str(struct reader *r, char **s_r)
{
	return get_bytes(r, s_r, NULL);
}

static int
get_meeting_v2(struct reader *r, struct message_meeting *m)
{
	struct message_recurrence *rc = &m->recurrence;
	uint8_t sens, busy, rec[6];
	uint32_t reminder;

	if (get_i64(r, &m->recurrence_id) != 0 || get_u32(r, &reminder) != 0 ||
	    get_u8(r, &sens) != 0 || get_u8(r, &busy) != 0 ||
	    get_bool(r, &m->response_requested) != 0)
		return -1;
	if ((size_t)(r->end - r->pos) < sizeof(rec))
		return fail(r, "truncated blob");
	memcpy(rec, r->pos, sizeof(rec));
	r->pos += sizeof(rec);
	if (get_u32(r, &rc->interval) != 0 || get_i64(r, &rc->until) != 0 ||
	    get_u32(r, &rc->occurrences) != 0 || get_bool(r, &m->has_tz) != 0)
		return -1;
	/* Ranges of MS-ASEMAIL 2.2.2.66, 2.2.2.11, 2.2.2.65.x. */
	if (sens > 3 || busy > MESSAGE_BUSY_ELSEWHERE || rec[0] > 1 ||
	    rec[1] > MESSAGE_RECUR_YEARLY_NTH || rec[2] > 5 || rec[3] > 31 ||
	    rec[4] > 127 || rec[5] > 12)
		return fail(r, "bad meeting field");
	m->reminder_mins = (int32_t)reminder;
	m->sensitivity = sens;
	m->busy_status = (enum message_busy)busy;
	rc->present = rec[0] == 1;
	rc->type = (enum message_recurrence_type)rec[1];
	rc->week_of_month = rec[2];
	rc->day_of_month = rec[3];
	rc->day_of_week = rec[4];
	rc->month_of_year = rec[5];
	if (m->has_tz) {
		if ((size_t)(r->end - r->pos) < sizeof(m->tz))
			return fail(r, "truncated blob");
		memcpy(m->tz, r->pos, sizeof(m->tz));
		r->pos += sizeof(m->tz);
	}
	return get_i64(r, &m->proposed_start) != 0 ||
		       get_i64(r, &m->proposed_end) != 0
		   ? -1
		   : 0;
}

static int
get_meeting(struct reader *r, struct message_meeting **meeting_r)
{
	struct message_meeting *m = message_meeting_new();
	uint32_t method, n;
	int ret = -1;

	if (m == NULL)
		return fail(r, "out of memory");
	if (get_u32(r, &method) != 0)
		goto out;
	if (method > MESSAGE_METHOD_COUNTER) {
		fail(r, "bad meeting method");
		goto out;
	}
	m->method = (enum message_meeting_method)method;
	if (get_str(r, &m->uid) != 0 || get_str(r, &m->summary) != 0 ||
	    get_str(r, &m->location) != 0 || get_str(r, &m->organizer) != 0 ||
	    get_str(r, &m->rrule) != 0 || get_str(r, &m->tzid) != 0 ||
	    get_i64(r, &m->start) != 0 || get_i64(r, &m->end) != 0 ||
	    get_i64(r, &m->stamp) != 0 || get_u32(r, &m->sequence) != 0 ||
	    get_bool(r, &m->all_day) != 0 || get_u32(r, &n) != 0)
		goto out;
	/* Each attendee takes at least 10 bytes: bound n by the input. */
	if (n > MIME_MAX_ATTENDEES || n > (size_t)(r->end - r->pos) / 10) {
		fail(r, "bad attendee count");
		goto out;
	}
	if (n > 0) {
		m->attendees = calloc(n, sizeof(*m->attendees));
		if (m->attendees == NULL) {
			fail(r, "out of memory");
			goto out;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		struct message_attendee *a = &m->attendees[i];
		uint8_t status;

		m->n_attendees = i + 1;
		if (get_str(r, &a->email) != 0 || get_str(r, &a->name) != 0 ||
		    get_u8(r, &status) != 0 || get_bool(r, &a->required) != 0)
			goto out;
		if (status > MESSAGE_ATTENDEE_DELEGATED) {
			fail(r, "bad attendee status");
			goto out;
		}
		a->status = (enum message_attendee_status)status;
	}
	if (get_meeting_v2(r, m) != 0)
		goto out;
	*meeting_r = m;
	m = NULL;
	ret = 0;
out:
	message_meeting_free(&m);
	return ret;
}

static int
get_attachments(struct reader *r, struct message_summary *s)
{
	uint32_t n, dropped;

	if (get_u32(r, &dropped) != 0 || get_u32(r, &n) != 0)
		return -1;
	s->n_attachments_dropped = dropped;
	/* Each attachment takes at least 29 bytes: bound n by the input. */
	if (n > MIME_MAX_ATTACHMENTS || n > (size_t)(r->end - r->pos) / 29)
		return fail(r, "bad attachment count");
	if (n == 0)
		return 0;
	s->attachments = calloc(n, sizeof(*s->attachments));
	if (s->attachments == NULL)
		return fail(r, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		struct message_attachment *a = &s->attachments[i];
		uint8_t aflags;

		s->n_attachments = i + 1;
		if (get_u32(r, &a->index) != 0 || get_str(r, &a->name) != 0 ||
		    get_str(r, &a->content_type) != 0 ||
		    get_str(r, &a->content_id) != 0 ||
		    get_str(r, &a->content_location) != 0 ||
		    get_u64(r, &a->size) != 0 || get_u8(r, &aflags) != 0)
			return -1;
		if (a->name == NULL || (aflags & ~3u) != 0)
			return fail(r, "bad attachment");
		a->is_inline = (aflags & 1) != 0;
		a->is_message = (aflags & 2) != 0;
	}
	return 0;
}

int
message_summary_decode(const uint8_t *blob, size_t len,
		       struct message_summary **summary_r, const char **error_r)
{
	struct reader r = {blob, blob + len, NULL};
	struct message_summary *s = NULL;
	uint8_t importance, flags, has_meeting;
	int ret = -1;

	*summary_r = NULL;
	if (len > MESSAGE_MAX_BLOB_BYTES) {
		fail(&r, "blob too large");
		goto out;
	}
	if (len < 4 || memcmp(blob, MESSAGE_BLOB_MAGIC, 3) != 0) {
		fail(&r, "not a message summary blob");
		goto out;
	}
	if (blob[3] != MESSAGE_BLOB_VERSION) {
		fail(&r, "unknown summary blob version");
		goto out;
	}
	r.pos += 4;
	s = message_summary_new();
	if (s == NULL) {
		fail(&r, "out of memory");
		goto out;
	}
	if (get_str(&r, &s->from) != 0 || get_str(&r, &s->to) != 0 ||
	    get_str(&r, &s->cc) != 0 || get_str(&r, &s->reply_to) != 0 ||
	    get_str(&r, &s->sender) != 0 || get_str(&r, &s->subject) != 0 ||
	    get_str(&r, &s->date_header) != 0 ||
	    get_str(&r, &s->message_id) != 0 ||
	    get_str(&r, &s->in_reply_to) != 0 ||
	    get_str(&r, &s->references) != 0 ||
	    get_str(&r, &s->thread_topic) != 0 ||
	    get_str(&r, &s->content_class) != 0 ||
	    get_str(&r, &s->message_class) != 0 ||
	    get_str(&r, &s->preview) != 0 || get_i64(&r, &s->date) != 0 ||
	    get_i64(&r, &s->received) != 0)
		goto out;
	if ((size_t)(r.end - r.pos) <
	    MESSAGE_CONVERSATION_ID_BYTES + MESSAGE_CONVERSATION_INDEX_BYTES) {
		fail(&r, "truncated blob");
		goto out;
	}
	memcpy(s->conversation_id, r.pos, MESSAGE_CONVERSATION_ID_BYTES);
	r.pos += MESSAGE_CONVERSATION_ID_BYTES;
	memcpy(s->conversation_index, r.pos, MESSAGE_CONVERSATION_INDEX_BYTES);
	r.pos += MESSAGE_CONVERSATION_INDEX_BYTES;
	if (get_u8(&r, &importance) != 0 ||
	    get_u32(&r, &s->internet_cpid) != 0 || get_u8(&r, &flags) != 0)
		goto out;
	if (importance > MESSAGE_IMPORTANCE_HIGH || (flags & ~3u) != 0) {
		fail(&r, "bad importance or flags");
		goto out;
	}
	s->importance = (enum message_importance)importance;
	s->text_truncated = (flags & 1) != 0;
	s->html_truncated = (flags & 2) != 0;
	if (get_bytes(&r, &s->text, &s->text_len) != 0 ||
	    get_bytes(&r, &s->html, &s->html_len) != 0 ||
	    get_attachments(&r, s) != 0 || get_u8(&r, &has_meeting) != 0)
		goto out;
	if (has_meeting > 1) {
		fail(&r, "bad meeting flag");
		goto out;
	}
	if (has_meeting == 1 && get_meeting(&r, &s->meeting) != 0)
		goto out;
	if (r.pos != r.end) {
		fail(&r, "trailing bytes after the summary");
		goto out;
	}
	*summary_r = s;
	s = NULL;
	ret = 0;
out:
	message_summary_free(&s);
	if (ret != 0 && error_r != NULL)
		*error_r = r.error;
	return ret;
}

int
message_meeting_encode(const struct message_meeting *m, struct buf *out)
{
	if (buf_append(out, MEETING_BLOB_MAGIC, 3) != 0 ||
	    buf_append_byte(out, MEETING_BLOB_VERSION) != 0)
		return -1;
	return put_meeting(out, m);
}

int
message_meeting_decode(const uint8_t *blob, size_t len,
		       struct message_meeting **meeting_r, const char **error_r)
{
	struct reader r = {blob, blob + len, NULL};
	int ret = -1;

	*meeting_r = NULL;
	if (len > MESSAGE_MAX_BLOB_BYTES || len < 4 ||
	    memcmp(blob, MEETING_BLOB_MAGIC, 3) != 0 ||
	    blob[3] != MEETING_BLOB_VERSION) {
		fail(&r, "not a meeting blob");
		goto out;
	}
	r.pos += 4;
	if (get_meeting(&r, meeting_r) != 0)
		goto out;
	if (r.pos != r.end) {
		fail(&r, "trailing bytes after the meeting");
		message_meeting_free(meeting_r);
		goto out;
	}
	ret = 0;
out:
	if (ret != 0 && error_r != NULL)
		*error_r = r.error;
	return ret;
}
