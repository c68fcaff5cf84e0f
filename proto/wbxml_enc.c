/*
 * The streaming WBXML encoder every command handler writes its response
 * with.  Output goes either into a bounded struct buf or, in chunks of
 * WBXML_ENC_CHUNK_BYTES, to a sink callback (the HTTP layer), so a long
 * Sync or ItemOperations response leaves while it is produced and slow
 * responses can send keep-alives.  Errors are sticky: the first one is
 * kept and every later call is a no-op returning -1, so a handler checks
 * once, at wbxml_enc_finish().  The encoder refuses to produce what our
 * decoder would reject (depth, string and opaque limits, NUL in STR_I).
 */
#include "proto/wbxml.h"

#include <string.h>

static int
enc_fail(struct wbxml_enc *e, enum wbxml_err err)
{
	if (e->err == WBXML_ERR_NONE)
		e->err = err;
	return -1;
}

static int
enc_flush_chunk(struct wbxml_enc *e)
{
	if (e->sink == NULL || e->chunk_len == 0)
		return 0;
	if (e->sink(e->sink_ctx, e->chunk, e->chunk_len) < 0)
		return enc_fail(e, WBXML_ERR_SINK);
	e->chunk_len = 0;
	return 0;
}

static int
enc_emit(struct wbxml_enc *e, const void *data, size_t len)
{
	if (e->err != WBXML_ERR_NONE)
		return -1;
	if (len > WBXML_MAX_DOC_BYTES - e->total)
		return enc_fail(e, WBXML_ERR_DOC_TOO_LARGE);
	e->total += len;
	if (e->sink == NULL) {
		if (len > e->out->max - e->out->len)
			return enc_fail(e, WBXML_ERR_OUTPUT_FULL);
		if (buf_append(e->out, data, len) < 0)
			return enc_fail(e, WBXML_ERR_NOMEM);
		return 0;
	}
	if (e->chunk_len + len > sizeof(e->chunk) && enc_flush_chunk(e) < 0)
		return -1;
	if (len >= sizeof(e->chunk)) {
		/* Large content goes straight through, not via the chunk. */
		if (e->sink(e->sink_ctx, data, len) < 0)
			return enc_fail(e, WBXML_ERR_SINK);
		return 0;
	}
	memcpy(e->chunk + e->chunk_len, data, len);
	e->chunk_len += len;
	return 0;
}

static void
enc_init(struct wbxml_enc *e)
{
	memset(e, 0, offsetof(struct wbxml_enc, stack));
}

void
wbxml_enc_init_buf(struct wbxml_enc *e, struct buf *out)
{
	enc_init(e);
	e->out = out;
}

void
wbxml_enc_init_sink(struct wbxml_enc *e,
		    int (*sink)(void *ctx, const uint8_t *data, size_t len),
		    void *ctx)
{
	enc_init(e);
	e->sink = sink;
	e->sink_ctx = ctx;
}

int
wbxml_enc_header(struct wbxml_enc *e)
{
	/* MS-ASWBXML 2.1.1: WBXML 1.3, public id 1, UTF-8, no strings. */
	static const uint8_t header[WBXML_HEADER_BYTES] = {
	    WBXML_HEADER_VERSION,
	    WBXML_HEADER_PUBLIC_ID,
	    WBXML_HEADER_CHARSET_UTF8,
	    0x00,
	};

	if (e->err != WBXML_ERR_NONE)
		return -1;
	if (e->opaque_left > 0)
		return enc_fail(e, WBXML_ERR_USAGE);
	if (e->header_done)
		return 0;
	e->header_done = true;
	e->page = 0;
	return enc_emit(e, header, sizeof(header));
}

/* Write the pending start tag, with or without the content bit. */
static int
enc_write_pending(struct wbxml_enc *e, bool content)
{
	uint16_t tag = e->stack[e->depth - 1];
	uint8_t bytes[3];
	size_t n = 0;

	if (WBXML_TAG_PAGE(tag) != e->page) {
		e->page = WBXML_TAG_PAGE(tag);
		bytes[n++] = WBXML_TOK_SWITCH_PAGE;
		bytes[n++] = e->page;
	}
	bytes[n++] = (uint8_t)(WBXML_TAG_TOKEN(tag) |
			       (content ? WBXML_TOK_CONTENT_BIT : 0));
	e->pending = false;
	if (!content && --e->depth == 0)
		e->root_done = true;
	return enc_emit(e, bytes, n);
}

int
wbxml_enc_start(struct wbxml_enc *e, uint16_t tag)
{
	unsigned token = WBXML_TAG_TOKEN(tag);

	if (wbxml_enc_header(e) < 0)
		return -1;
	if (e->root_done || WBXML_TAG_PAGE(tag) > WBXML_PAGE_MAX ||
	    token <= WBXML_TOK_LITERAL || token > 0x3fu)
		return enc_fail(e, WBXML_ERR_USAGE);
	if (e->pending && enc_write_pending(e, true) < 0)
		return -1;
	if (e->depth >= WBXML_MAX_DEPTH)
		return enc_fail(e, WBXML_ERR_DEPTH);
	e->stack[e->depth++] = tag;
	e->pending = true;
	return 0;
}

int
wbxml_enc_end(struct wbxml_enc *e)
{
	static const uint8_t end = WBXML_TOK_END;

	if (e->err != WBXML_ERR_NONE)
		return -1;
	if (e->depth == 0 || e->opaque_left > 0)
		return enc_fail(e, WBXML_ERR_USAGE);
	if (e->pending)
		return enc_write_pending(e, false);
	if (--e->depth == 0)
		e->root_done = true;
	return enc_emit(e, &end, 1);
}

int
wbxml_enc_empty(struct wbxml_enc *e, uint16_t tag)
{
	if (wbxml_enc_start(e, tag) < 0)
		return -1;
	return wbxml_enc_end(e);
}

int
wbxml_enc_text(struct wbxml_enc *e, const char *s, size_t len)
{
	static const uint8_t str_i = WBXML_TOK_STR_I;
	static const uint8_t nul = 0;

	if (e->err != WBXML_ERR_NONE)
		return -1;
	if (e->depth == 0 || e->opaque_left > 0)
		return enc_fail(e, WBXML_ERR_USAGE);
	if (len == 0)
		return 0;
	/* STR_I is NUL-terminated: binary content must use OPAQUE. */
	if (memchr(s, 0, len) != NULL)
		return enc_fail(e, WBXML_ERR_NUL_IN_STRING);
	if (len > WBXML_MAX_STRING_BYTES)
		return enc_fail(e, WBXML_ERR_STRING_TOO_LONG);
	if (e->pending && enc_write_pending(e, true) < 0)
		return -1;
	if (enc_emit(e, &str_i, 1) < 0 || enc_emit(e, s, len) < 0)
		return -1;
	return enc_emit(e, &nul, 1);
}

/* OPAQUE token and mb_u_int32 length, after the pending start tag. */
static int
enc_opaque_head(struct wbxml_enc *e, size_t len)
{
	uint8_t head[6];
	size_t n = 0;
	uint8_t mb[5];
	size_t mb_len = 0;
	uint32_t v = (uint32_t)len;

	if (e->err != WBXML_ERR_NONE)
		return -1;
	if (e->depth == 0 || e->opaque_left > 0)
		return enc_fail(e, WBXML_ERR_USAGE);
	if (len > WBXML_MAX_OPAQUE_BYTES)
		return enc_fail(e, WBXML_ERR_OPAQUE_TOO_LONG);
	if (e->pending && enc_write_pending(e, true) < 0)
		return -1;
	/* mb_u_int32: 7 bits a byte, most significant first. */
	do {
		mb[mb_len++] = (uint8_t)(v & 0x7fu);
		v >>= 7;
	} while (v != 0);
	head[n++] = WBXML_TOK_OPAQUE;
	while (mb_len > 0) {
		mb_len--;
		head[n++] = (uint8_t)(mb[mb_len] | (mb_len > 0 ? 0x80u : 0));
	}
	return enc_emit(e, head, n);
}

int
wbxml_enc_data(struct wbxml_enc *e, const void *data, size_t len)
{
	if (e->err != WBXML_ERR_NONE)
		return -1;
	if (len == 0)
		return e->depth == 0 || e->opaque_left > 0
			   ? enc_fail(e, WBXML_ERR_USAGE)
			   : 0;
	if (enc_opaque_head(e, len) < 0)
		return -1;
	return enc_emit(e, data, len);
}

int
wbxml_enc_opaque_begin(struct wbxml_enc *e, size_t total)
{
	if (enc_opaque_head(e, total) < 0)
		return -1;
	e->opaque_left = total;
	return 0;
}

int
wbxml_enc_opaque_part(struct wbxml_enc *e, const void *data, size_t len)
{
	if (e->err != WBXML_ERR_NONE)
		return -1;
	if (len > e->opaque_left)
		return enc_fail(e, WBXML_ERR_USAGE);
	e->opaque_left -= len;
	return len == 0 ? 0 : enc_emit(e, data, len);
}

int
wbxml_enc_str_n(struct wbxml_enc *e, uint16_t tag, const char *s, size_t len)
{
	if (wbxml_enc_start(e, tag) < 0 || wbxml_enc_text(e, s, len) < 0)
		return -1;
	return wbxml_enc_end(e);
}

int
wbxml_enc_str(struct wbxml_enc *e, uint16_t tag, const char *s)
{
	return wbxml_enc_str_n(e, tag, s, strlen(s));
}

int
wbxml_enc_uint(struct wbxml_enc *e, uint16_t tag, uint64_t v)
{
	char digits[20]; /* UINT64_MAX has 20 digits */
	size_t n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return wbxml_enc_str_n(e, tag, digits + n, sizeof(digits) - n);
}

int
wbxml_enc_opaque(struct wbxml_enc *e, uint16_t tag, const void *data,
		 size_t len)
{
	if (wbxml_enc_start(e, tag) < 0 || wbxml_enc_data(e, data, len) < 0)
		return -1;
	return wbxml_enc_end(e);
}

int
wbxml_enc_keepalive(struct wbxml_enc *e)
{
	uint8_t bytes[2];

	if (wbxml_enc_header(e) < 0)
		return -1;
	if (e->root_done)
		return enc_fail(e, WBXML_ERR_USAGE);
	/* An open start tag gets its content bit: more follows. */
	if (e->pending && enc_write_pending(e, true) < 0)
		return -1;
	/* A SWITCH_PAGE to the page already current changes nothing for
	 * the decoder (WAP-192-WBXML 5.8.1), but it is a byte on the wire. */
	bytes[0] = WBXML_TOK_SWITCH_PAGE;
	bytes[1] = e->page;
	if (enc_emit(e, bytes, sizeof(bytes)) < 0)
		return -1;
	return wbxml_enc_flush(e);
}

int
wbxml_enc_flush(struct wbxml_enc *e)
{
	if (e->err != WBXML_ERR_NONE)
		return -1;
	return enc_flush_chunk(e);
}

int
wbxml_enc_finish(struct wbxml_enc *e)
{
	if (e->err != WBXML_ERR_NONE)
		return -1;
	if (!e->root_done || e->opaque_left > 0)
		return enc_fail(e, WBXML_ERR_USAGE);
	return enc_flush_chunk(e);
}

enum wbxml_err
wbxml_enc_error(const struct wbxml_enc *e)
{
	return e->err;
}
