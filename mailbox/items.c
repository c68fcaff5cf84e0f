/*
 * Item properties in memory and their serialized form (the `props` blob of
 * an item row); no SQL here.  The blob is a version byte followed by
 * records of tag (1 byte), length (4 bytes little-endian) and bytes;
 * attachments and application properties are records whose bytes are
 * themselves records.  Unknown tags are skipped, so a newer writer's blob
 * still parses.  The parser checks every length against the remaining input
 * and the limits of proto/limits.h before allocating.
 */
#include "mailbox/items.h"

#include <stdlib.h>
#include <string.h>

#include "proto/limits.h"

#define PROPS_VERSION 1

enum props_tag {
	TAG_FROM = 1,
	TAG_TO,
	TAG_CC,
	TAG_REPLY_TO,
	TAG_SUBJECT,
	TAG_MESSAGE_ID,
	TAG_MESSAGE_CLASS,
	TAG_BODY_TEXT,
	TAG_BODY_HTML,
	TAG_PREVIEW,
	TAG_DATE,
	TAG_IMPORTANCE,
	TAG_CONVERSATION_ID,
	TAG_CONVERSATION_INDEX,
	TAG_MEETING,
	TAG_ATTACHMENT,
	TAG_APP,
	TAG_CONTENT_CLASS, /* later tags: an older reader skips them */
	TAG_BCC,
	TAG_RECEIVED_AS_BCC,
	TAG_NEXT_ATT_REF, /* drafts: item_props.next_att_ref */
};

enum att_tag {
	ATT_NAME = 1,
	ATT_CONTENT_TYPE,
	ATT_CONTENT_ID,
	ATT_SIZE,
	ATT_INLINE,
	ATT_REF, /* absent (older blobs): the ref is the index */
};

enum app_tag {
	APP_KEY = 1,
	APP_VALUE,
};

const char *
item_class_name(enum item_class cls)
{
	switch (cls) {
	case ITEM_CLASS_EMAIL:
		return "Email";
	case ITEM_CLASS_CALENDAR:
		return "Calendar";
	case ITEM_CLASS_CONTACTS:
		return "Contacts";
	case ITEM_CLASS_TASKS:
		return "Tasks";
	case ITEM_CLASS_NOTES:
		return "Notes";
	}
	return NULL;
}

void
item_props_init(struct item_props *p)
{
	memset(p, 0, sizeof(*p));
	p->importance = 1;
}

void
item_attachment_clear(struct item_attachment *att)
{
	free(att->name);
	free(att->content_type);
	free(att->content_id);
	free(att->data);
	memset(att, 0, sizeof(*att));
}

void
item_props_clear(struct item_props *p)
{
	char **strs[] = {&p->from,          &p->to,        &p->cc,
			 &p->reply_to,      &p->subject,   &p->message_id,
			 &p->message_class, &p->body_text, &p->body_html,
			 &p->preview};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]);
	free(p->conversation_id);
	free(p->conversation_index);
	free(p->meeting);
	free(p->content_class);
	free(p->bcc);
	for (size_t i = 0; i < p->attachment_count; i++)
		item_attachment_clear(&p->attachments[i]);
	free(p->attachments);
	for (size_t i = 0; i < p->app_count; i++) {
		free(p->app[i].key);
		free(p->app[i].value);
	}
	free(p->app);
	item_props_init(p);
}

static char *
dup_str(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* A copy of len bytes, NUL-terminated so text values are C strings. */
static uint8_t *
dup_bytes(const void *data, size_t len)
{
	uint8_t *p = malloc(len + 1);

	if (p == NULL)
		return NULL;
	if (len > 0)
		memcpy(p, data, len);
	p[len] = 0;
	return p;
}

int
item_props_add_attachment(struct item_props *p,
			  const struct item_attachment *att)
{
	struct item_attachment *n, *a;

	if (p->attachment_count >= STORE_MAX_ATTACHMENTS)
		return -1;
	n = realloc(p->attachments, (p->attachment_count + 1) * sizeof(*n));
	if (n == NULL)
		return -1;
	p->attachments = n;
	a = &n[p->attachment_count];
	memset(a, 0, sizeof(*a));
	a->name = dup_str(att->name);
	a->content_type = dup_str(att->content_type);
	a->content_id = dup_str(att->content_id);
	a->size = att->size;
	a->is_inline = att->is_inline;
	a->index = (uint32_t)p->attachment_count;
	a->ref = a->index;
	if (att->data != NULL) {
		a->data = dup_bytes(att->data, att->data_len);
		a->data_len = att->data_len;
	}
	if ((att->name != NULL && a->name == NULL) ||
	    (att->content_type != NULL && a->content_type == NULL) ||
	    (att->content_id != NULL && a->content_id == NULL) ||
	    (att->data != NULL && a->data == NULL)) {
		item_attachment_clear(a);
		return -1;
	}
	p->attachment_count++;
	return 0;
}

int
item_props_add(struct item_props *p, const char *key, const void *value,
	       size_t value_len)
{
	struct item_prop *n;
	char *k;
	uint8_t *v;

	if (key == NULL || p->app_count >= STORE_MAX_APP_PROPS ||
	    value_len > STORE_MAX_PROPS_BYTES)
		return -1;
	n = realloc(p->app, (p->app_count + 1) * sizeof(*n));
	if (n == NULL)
		return -1;
	p->app = n;
	k = strdup(key);
	v = dup_bytes(value, value_len);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		return -1;
	}
	n[p->app_count].key = k;
	n[p->app_count].value = v;
	n[p->app_count].value_len = value_len;
	p->app_count++;
	return 0;
}

uint32_t
item_props_next_att_ref(const struct item_props *p)
{
	uint32_t next = p->next_att_ref;

	/* Never below a ref in use, whatever the blob said. */
	if (next < p->attachment_count)
		next = (uint32_t)p->attachment_count;
	for (size_t i = 0; i < p->attachment_count; i++)
		if (p->attachments[i].ref >= next)
			next = p->attachments[i].ref + 1;
	return next;
}

const struct item_prop *
item_props_find(const struct item_props *p, const char *key)
{
	for (size_t i = 0; i < p->app_count; i++)
		if (strcmp(p->app[i].key, key) == 0)
			return &p->app[i];
	return NULL;
}

/* ------------------------------------------------------- serialize */

static int
put_record(struct buf *out, uint8_t tag, const void *data, size_t len)
{
	uint8_t hdr[5];

	if (len > UINT32_MAX)
		return -1;
	hdr[0] = tag;
	for (int i = 0; i < 4; i++)
		hdr[1 + i] = (uint8_t)(len >> (8 * i));
	if (buf_append(out, hdr, sizeof(hdr)) < 0)
		return -1;
	return len > 0 ? buf_append(out, data, len) : 0;
}

static int
put_str(struct buf *out, uint8_t tag, const char *s)
{
	return s != NULL ? put_record(out, tag, s, strlen(s)) : 0;
}

static int
put_i64(struct buf *out, uint8_t tag, int64_t v)
{
	uint8_t b[8];
	uint64_t u = (uint64_t)v;

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(u >> (8 * i));
	return put_record(out, tag, b, sizeof(b));
}

static int
put_bytes(struct buf *out, uint8_t tag, const uint8_t *d, size_t len)
{
	return d != NULL ? put_record(out, tag, d, len) : 0;
}

int
item_props_serialize(const struct item_props *p, struct buf *out)
{
	const char *strs[] = {p->from,          p->to,        p->cc,
			      p->reply_to,      p->subject,   p->message_id,
			      p->message_class, p->body_text, p->body_html,
			      p->preview};
	struct buf sub;
	int ret = -1;

	buf_init(&sub, STORE_MAX_PROPS_BYTES);
	if (buf_append_byte(out, PROPS_VERSION) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (put_str(out, (uint8_t)(TAG_FROM + i), strs[i]) < 0)
			goto out;
	if (put_i64(out, TAG_DATE, p->date) < 0 ||
	    put_i64(out, TAG_IMPORTANCE, p->importance) < 0 ||
	    put_bytes(out, TAG_CONVERSATION_ID, p->conversation_id,
		      p->conversation_id_len) < 0 ||
	    put_bytes(out, TAG_CONVERSATION_INDEX, p->conversation_index,
		      p->conversation_index_len) < 0 ||
	    put_bytes(out, TAG_MEETING, p->meeting, p->meeting_len) < 0 ||
	    put_str(out, TAG_CONTENT_CLASS, p->content_class) < 0 ||
	    put_str(out, TAG_BCC, p->bcc) < 0 ||
	    (p->received_as_bcc && put_i64(out, TAG_RECEIVED_AS_BCC, 1) < 0) ||
	    (p->next_att_ref != 0 &&
	     put_i64(out, TAG_NEXT_ATT_REF, p->next_att_ref) < 0))
		goto out;
	for (size_t i = 0; i < p->attachment_count; i++) {
		const struct item_attachment *a = &p->attachments[i];

		buf_reset(&sub);
		if (put_str(&sub, ATT_NAME, a->name) < 0 ||
		    put_str(&sub, ATT_CONTENT_TYPE, a->content_type) < 0 ||
		    put_str(&sub, ATT_CONTENT_ID, a->content_id) < 0 ||
		    put_i64(&sub, ATT_SIZE, a->size) < 0 ||
		    put_i64(&sub, ATT_INLINE, a->is_inline) < 0 ||
		    /* Only when it differs from what a reader assumes. */
		    (a->ref != (uint32_t)i &&
		     put_i64(&sub, ATT_REF, a->ref) < 0) ||
		    put_record(out, TAG_ATTACHMENT, sub.data, sub.len) < 0)
			goto out;
	}
	for (size_t i = 0; i < p->app_count; i++) {
		buf_reset(&sub);
		if (put_str(&sub, APP_KEY, p->app[i].key) < 0 ||
		    put_record(&sub, APP_VALUE, p->app[i].value,
			       p->app[i].value_len) < 0 ||
		    put_record(out, TAG_APP, sub.data, sub.len) < 0)
			goto out;
	}
	ret = 0;
out:
	buf_free(&sub);
	return ret;
}

/* ----------------------------------------------------------- parse */

/* Reads one record header; -1 if it does not fit in the input. */
static int
get_record(const uint8_t **pos, const uint8_t *end, uint8_t *tag_r,
	   const uint8_t **data_r, size_t *len_r)
{
	uint32_t len = 0;

	if (end - *pos < 5)
		return -1;
	*tag_r = (*pos)[0];
	for (int i = 0; i < 4; i++)
		len |= (uint32_t)(*pos)[1 + i] << (8 * i);
	*pos += 5;
	if ((size_t)(end - *pos) < len)
		return -1;
	*data_r = *pos;
	*len_r = len;
	*pos += len;
	return 0;
}

static int
get_i64(const uint8_t *d, size_t len, int64_t *v_r)
{
	uint64_t u = 0;

	if (len != 8)
		return -1;
	for (int i = 0; i < 8; i++)
		u |= (uint64_t)d[i] << (8 * i);
	*v_r = (int64_t)u;
	return 0;
}

/* A text value: its own copy, NUL-terminated; a duplicate replaces. */
static int
get_str(char **dst, const uint8_t *d, size_t len)
{
	free(*dst);
	*dst = (char *)dup_bytes(d, len);
	return *dst != NULL ? 0 : -1;
}

static int
get_blob(uint8_t **dst, size_t *dst_len, const uint8_t *d, size_t len)
{
	free(*dst);
	*dst = dup_bytes(d, len);
	*dst_len = len;
	return *dst != NULL ? 0 : -1;
}

static int
parse_attachment(struct item_props *p, const uint8_t *pos, const uint8_t *end)
{
	struct item_attachment a;
	const uint8_t *d;
	size_t len;
	uint8_t tag;
	int64_t v, ref = -1;
	int ret = -1;

	memset(&a, 0, sizeof(a));
	while (pos < end) {
		if (get_record(&pos, end, &tag, &d, &len) < 0)
			goto out;
		switch (tag) {
		case ATT_NAME:
			if (get_str(&a.name, d, len) < 0)
				goto out;
			break;
		case ATT_CONTENT_TYPE:
			if (get_str(&a.content_type, d, len) < 0)
				goto out;
			break;
		case ATT_CONTENT_ID:
			if (get_str(&a.content_id, d, len) < 0)
				goto out;
			break;
		case ATT_SIZE:
			if (get_i64(d, len, &a.size) < 0)
				goto out;
			break;
		case ATT_INLINE:
			if (get_i64(d, len, &v) < 0)
				goto out;
			a.is_inline = v != 0;
			break;
		case ATT_REF:
			if (get_i64(d, len, &ref) < 0 || ref < 0 ||
			    ref >= STORE_MAX_ATTACHMENT_REF)
				goto out;
			break;
		default:
			break;
		}
	}
	ret = item_props_add_attachment(p, &a);
	if (ret == 0 && ref >= 0)
		p->attachments[p->attachment_count - 1].ref = (uint32_t)ref;
out:
	item_attachment_clear(&a);
	return ret;
}

static int
parse_app(struct item_props *p, const uint8_t *pos, const uint8_t *end)
{
	const uint8_t *d, *value = NULL;
	size_t len, value_len = 0;
	char *key = NULL;
	uint8_t tag;
	int ret = -1;

	while (pos < end) {
		if (get_record(&pos, end, &tag, &d, &len) < 0)
			goto out;
		if (tag == APP_KEY && get_str(&key, d, len) < 0)
			goto out;
		if (tag == APP_VALUE) {
			value = d;
			value_len = len;
		}
	}
	if (key != NULL)
		ret = item_props_add(p, key, value != NULL ? value : pos,
				     value_len);
out:
	free(key);
	return ret;
}

int
item_props_parse(const uint8_t *data, size_t len, struct item_props *p_r)
{
	char **strs[] = {&p_r->from,          &p_r->to,        &p_r->cc,
			 &p_r->reply_to,      &p_r->subject,   &p_r->message_id,
			 &p_r->message_class, &p_r->body_text, &p_r->body_html,
			 &p_r->preview};
	const uint8_t *pos = data, *end = data + len, *d;
	size_t dlen;
	uint8_t tag;
	int64_t v;

	item_props_init(p_r);
	if (len == 0)
		return 0; /* no properties at all */
	if (len > STORE_MAX_PROPS_BYTES || data[0] != PROPS_VERSION)
		return -1;
	pos++;
	while (pos < end) {
		if (get_record(&pos, end, &tag, &d, &dlen) < 0)
			goto fail;
		if (tag >= TAG_FROM && tag <= TAG_PREVIEW) {
			if (get_str(strs[tag - TAG_FROM], d, dlen) < 0)
				goto fail;
			continue;
		}
		switch (tag) {
		case TAG_DATE:
			if (get_i64(d, dlen, &p_r->date) < 0)
				goto fail;
			break;
		case TAG_IMPORTANCE:
			if (get_i64(d, dlen, &v) < 0 || v < 0 || v > 2)
				goto fail;
			p_r->importance = (int)v;
			break;
		case TAG_CONVERSATION_ID:
			if (get_blob(&p_r->conversation_id,
				     &p_r->conversation_id_len, d, dlen) < 0)
				goto fail;
			break;
		case TAG_CONVERSATION_INDEX:
			if (get_blob(&p_r->conversation_index,
				     &p_r->conversation_index_len, d, dlen) < 0)
				goto fail;
			break;
		case TAG_MEETING:
			if (get_blob(&p_r->meeting, &p_r->meeting_len, d,
				     dlen) < 0)
				goto fail;
			break;
		case TAG_CONTENT_CLASS:
			if (get_str(&p_r->content_class, d, dlen) < 0)
				goto fail;
			break;
		case TAG_BCC:
			if (get_str(&p_r->bcc, d, dlen) < 0)
				goto fail;
			break;
		case TAG_RECEIVED_AS_BCC:
			if (get_i64(d, dlen, &v) < 0)
				goto fail;
			p_r->received_as_bcc = v != 0;
			break;
		case TAG_NEXT_ATT_REF:
			if (get_i64(d, dlen, &v) < 0 || v < 0 ||
			    v > STORE_MAX_ATTACHMENT_REF)
				goto fail;
			p_r->next_att_ref = (uint32_t)v;
			break;
		case TAG_ATTACHMENT:
			if (parse_attachment(p_r, d, d + dlen) < 0)
				goto fail;
			break;
		case TAG_APP:
			if (parse_app(p_r, d, d + dlen) < 0)
				goto fail;
			break;
		default:
			break; /* a newer writer's field */
		}
	}
	return 0;
fail:
	item_props_clear(p_r);
	return -1;
}

void
item_free(struct item **item)
{
	if (item == NULL || *item == NULL)
		return;
	free((*item)->flags.categories);
	item_props_clear(&(*item)->props);
	free((*item)->mime);
	free(*item);
	*item = NULL;
}
