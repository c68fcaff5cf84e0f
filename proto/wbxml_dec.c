/*
 * The streaming WBXML decoder: a pull parser over one request body held in
 * memory.  It checks the EAS header, then yields one event per start tag,
 * end tag, inline string or opaque blob, never copying content (events
 * point into the input).  It is the only code that reads WBXML bytes from
 * the network: every read is checked against the end of the input, every
 * length against the remaining input and a limit from proto/limits.h, and
 * every violation becomes an enum wbxml_err with its byte offset.  The
 * rules it enforces are listed in proto/wbxml.h.
 */
#include "proto/wbxml.h"

#include <string.h>

enum dec_state {
	DEC_BEFORE_ROOT, /* header read, no element yet */
	DEC_IN_ROOT,     /* inside the root element */
	DEC_DONE,        /* root closed at the end of the input */
	DEC_FAILED,
};

static int
dec_fail(struct wbxml_dec *d, enum wbxml_err err, size_t offset)
{
	d->err = err;
	d->err_offset = offset;
	d->state = DEC_FAILED;
	return -1;
}

int
wbxml_read_mb_u32(const uint8_t **pos, const uint8_t *end, uint32_t *val_r,
		  enum wbxml_err *err_r)
{
	const uint8_t *p = *pos;
	uint64_t val = 0;

	/* WAP-192-WBXML 5.1: 7 bits a byte, high bit = more bytes follow.
	 * 32 bits need at most 5 bytes. */
	for (unsigned i = 0; i < 5; i++) {
		if (p >= end) {
			*err_r = WBXML_ERR_TRUNCATED;
			return -1;
		}
		val = (val << 7) | (*p & 0x7fu);
		if ((*p++ & 0x80u) == 0) {
			if (val > UINT32_MAX) {
				*err_r = WBXML_ERR_MB_OVERFLOW;
				return -1;
			}
			*val_r = (uint32_t)val;
			*pos = p;
			return 0;
		}
	}
	*err_r = WBXML_ERR_MB_OVERFLOW;
	return -1;
}

/* Read an mb_u_int32 header field that must equal want. */
static int
dec_header_field(struct wbxml_dec *d, uint32_t want, enum wbxml_err mismatch)
{
	size_t offset = (size_t)(d->pos - d->begin);
	enum wbxml_err err;
	uint32_t val;

	if (wbxml_read_mb_u32(&d->pos, d->end, &val, &err) < 0)
		return dec_fail(d, err, offset);
	if (val != want)
		return dec_fail(d, mismatch, offset);
	return 0;
}

int
wbxml_dec_init(struct wbxml_dec *d, const uint8_t *data, size_t len)
{
	memset(d, 0, offsetof(struct wbxml_dec, stack));
	d->begin = data;
	d->pos = data;
	/* An empty HTTP body may come as (NULL, 0): no arithmetic on NULL. */
	d->end = len > 0 ? data + len : data;
	d->state = DEC_BEFORE_ROOT;

	if (len > WBXML_MAX_DOC_BYTES)
		return dec_fail(d, WBXML_ERR_DOC_TOO_LARGE, 0);
	/* MS-ASWBXML 2.1.1: version 1.3, public id 1 ("unknown"),
	 * charset UTF-8 (IANA MIBenum 106), no string table. */
	if (len < 1)
		return dec_fail(d, WBXML_ERR_TRUNCATED, 0);
	if (*d->pos != WBXML_HEADER_VERSION)
		return dec_fail(d, WBXML_ERR_VERSION, 0);
	d->pos++;
	if (dec_header_field(d, WBXML_HEADER_PUBLIC_ID, WBXML_ERR_PUBLIC_ID) <
		0 ||
	    dec_header_field(d, WBXML_HEADER_CHARSET_UTF8, WBXML_ERR_CHARSET) <
		0 ||
	    dec_header_field(d, 0, WBXML_ERR_STRING_TABLE) < 0)
		return -1;
	return 0;
}

/* The root element just ended: the input must end here too. */
static int
dec_root_closed(struct wbxml_dec *d)
{
	if (d->pos != d->end)
		return dec_fail(d, WBXML_ERR_TRAILING,
				(size_t)(d->pos - d->begin));
	d->state = DEC_DONE;
	return 0;
}

static int
dec_string(struct wbxml_dec *d, struct wbxml_event *ev, size_t offset)
{
	size_t avail = (size_t)(d->end - d->pos);
	size_t scan = avail;
	const uint8_t *nul;

	/* Look no further than the longest string allowed (plus its NUL). */
	if (scan > (size_t)WBXML_MAX_STRING_BYTES + 1)
		scan = (size_t)WBXML_MAX_STRING_BYTES + 1;
	nul = memchr(d->pos, 0, scan);
	if (nul == NULL)
		return dec_fail(d,
				scan < avail ? WBXML_ERR_STRING_TOO_LONG
					     : WBXML_ERR_TRUNCATED,
				offset);
	ev->type = WBXML_EV_STR;
	ev->data = d->pos;
	ev->len = (size_t)(nul - d->pos);
	d->pos = nul + 1;
	return 0;
}

static int
dec_opaque(struct wbxml_dec *d, struct wbxml_event *ev, size_t offset)
{
	enum wbxml_err err;
	uint32_t len;

	if (wbxml_read_mb_u32(&d->pos, d->end, &len, &err) < 0)
		return dec_fail(d, err, offset);
	if (len > WBXML_MAX_OPAQUE_BYTES)
		return dec_fail(d, WBXML_ERR_OPAQUE_TOO_LONG, offset);
	if (len > (size_t)(d->end - d->pos))
		return dec_fail(d, WBXML_ERR_TRUNCATED, offset);
	ev->type = WBXML_EV_OPAQUE;
	ev->data = d->pos;
	ev->len = len;
	d->pos += len;
	return 0;
}

static int
dec_tag(struct wbxml_dec *d, struct wbxml_event *ev, uint8_t byte,
	size_t offset)
{
	uint16_t tag = WBXML_TAG_MAKE(d->page, byte & 0x3fu);

	if (byte & WBXML_TOK_ATTR_BIT)
		return dec_fail(d, WBXML_ERR_ATTRIBUTES, offset);
	if (d->depth >= WBXML_MAX_DEPTH)
		return dec_fail(d, WBXML_ERR_DEPTH, offset);
	d->state = DEC_IN_ROOT;
	ev->type = WBXML_EV_START;
	ev->tag = tag;
	ev->depth = d->depth + 1;
	ev->has_content = (byte & WBXML_TOK_CONTENT_BIT) != 0;
	if (ev->has_content) {
		d->stack[d->depth++] = tag;
		return 0;
	}
	if (d->depth == 0)
		return dec_root_closed(d);
	return 0;
}

int
wbxml_dec_next(struct wbxml_dec *d, struct wbxml_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	for (;;) {
		size_t offset = (size_t)(d->pos - d->begin);
		uint8_t byte;

		ev->offset = offset;
		if (d->state == DEC_FAILED)
			return -1;
		if (d->state == DEC_DONE) {
			ev->type = WBXML_EV_EOD;
			return 0;
		}
		if (d->pos >= d->end)
			return dec_fail(d,
					d->state == DEC_BEFORE_ROOT
					    ? WBXML_ERR_NO_ROOT
					    : WBXML_ERR_TRUNCATED,
					offset);
		byte = *d->pos++;
		switch (byte) {
		case WBXML_TOK_SWITCH_PAGE:
			/* Redundant switches are the encoder's keep-alive:
			 * accepted anywhere a tag may appear. */
			if (d->pos >= d->end)
				return dec_fail(d, WBXML_ERR_TRUNCATED, offset);
			if (*d->pos > WBXML_PAGE_MAX)
				return dec_fail(d, WBXML_ERR_UNKNOWN_PAGE,
						offset);
			d->page = *d->pos++;
			continue;
		case WBXML_TOK_END:
			if (d->depth == 0)
				return dec_fail(d, WBXML_ERR_UNBALANCED,
						offset);
			ev->type = WBXML_EV_END;
			ev->depth = d->depth;
			ev->tag = d->stack[--d->depth];
			if (d->depth == 0)
				return dec_root_closed(d);
			return 0;
		case WBXML_TOK_STR_I:
			if (d->depth == 0)
				return dec_fail(d, WBXML_ERR_OUTSIDE_ROOT,
						offset);
			return dec_string(d, ev, offset);
		case WBXML_TOK_OPAQUE:
			if (d->depth == 0)
				return dec_fail(d, WBXML_ERR_OUTSIDE_ROOT,
						offset);
			return dec_opaque(d, ev, offset);
		default:
			break;
		}
		/* The remaining global tokens (WAP-192-WBXML 7.1): ENTITY,
		 * LITERAL*, EXT_*, PI, STR_T; EAS uses none of them. */
		if ((byte & 0x3fu) <= WBXML_TOK_LITERAL)
			return dec_fail(d, WBXML_ERR_UNSUPPORTED, offset);
		return dec_tag(d, ev, byte, offset);
	}
}

enum wbxml_err
wbxml_dec_error(const struct wbxml_dec *d, size_t *offset_r)
{
	if (offset_r != NULL)
		*offset_r = d->err_offset;
	return d->err;
}
