/*
 * ActiveSync WBXML codec: code-page tables, a bounded streaming decoder
 * (pull parser) and a streaming encoder.  The CAS decodes every request
 * body with wbxml_dec (usually through the typed tree in wbxml_tree.h) and
 * writes every response with wbxml_enc, which can flush to the HTTP layer
 * while the response is still being produced.
 *
 * Tags.  A tag is a uint16_t: code page << 8 | token (token without the
 * WBXML content/attribute bits).  The constants come from codepages.def and
 * are named EAS_<PAGE>_<ELEMENT>: the page's namespace in upper case without
 * separators, then the element name in UPPER_SNAKE, e.g. EAS_AIRSYNC_SYNC_KEY,
 * EAS_AIRSYNCBASE_BODY_PREFERENCE, EAS_FOLDERHIERARCHY_SERVER_ID,
 * EAS_PROVISION_ACCOUNT_ONLY_REMOTE_WIPE.  Handlers use only these names.
 *
 * Decisions on input EAS never produces (MS-ASWBXML 2.1.1 restricts EAS to
 * WBXML 1.3, UTF-8, no string table, no attributes):
 *  - header: version 0x03, public id 1, charset 106 (UTF-8) and string table
 *    length 0 are required; anything else is an error;
 *  - ENTITY, LITERAL*, EXT_*, PI, STR_T and tags with the attribute bit are
 *    rejected (WBXML_ERR_UNSUPPORTED / WBXML_ERR_ATTRIBUTES);
 *  - a SWITCH_PAGE to a page above WBXML_PAGE_MAX is an error; a redundant
 *    SWITCH_PAGE (to the current page, the encoder's keep-alive) is a no-op
 *    and is accepted anywhere a tag may appear, before the root included;
 *  - an unknown token in a known page is decoded as a tag like any other
 *    (wbxml_tag_name() returns NULL for it, wbxml_tag_describe() renders
 *    "Namespace:0xNN"); the typed layer never matches it, so handlers
 *    ignore it.  Failing the request would punish a client for a token a
 *    later protocol version added;
 *  - string bytes are passed through unchanged, control characters
 *    included (clients do send them; the XML renderer escapes them).  The
 *    decoder does not validate UTF-8 (it would fail a whole Sync for one bad
 *    subject); the typed string accessors of wbxml_tree.h do, and a handler
 *    that needs raw bytes reads them as data instead;
 *  - the body is exactly one root element: content outside it, a second
 *    root or trailing bytes are errors, so every strict prefix of a valid
 *    document fails to decode.
 * Every violation is an enum wbxml_err plus the byte offset where it was
 * found; the decoder never reads past the end of its input and never aborts.
 */
#ifndef EASD_PROTO_WBXML_H
#define EASD_PROTO_WBXML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/limits.h"

/* ---- code pages and tags (proto/wbxml_pages.c) ----------------------- */

/* Highest code page defined by MS-ASWBXML through 16.1 (25, Find). */
#define WBXML_PAGE_MAX 25

enum wbxml_page {
#define WBXML_PAGE(num, id, ns) WBXML_PAGE_##id = (num),
#define WBXML_TAG(page, tok, id, name)
#include "proto/codepages.def"
#undef WBXML_PAGE
#undef WBXML_TAG
};

enum wbxml_tag {
#define WBXML_PAGE(num, id, ns)
#define WBXML_TAG(page, tok, id, name) EAS_##id = ((page) << 8) | (tok),
#include "proto/codepages.def"
#undef WBXML_PAGE
#undef WBXML_TAG
};

#define WBXML_TAG_MAKE(page, token) \
	((uint16_t)(((unsigned)(page) << 8) | ((unsigned)(token)&0x3fu)))
#define WBXML_TAG_PAGE(tag) ((uint8_t)((unsigned)(tag) >> 8))
#define WBXML_TAG_TOKEN(tag) ((uint8_t)((unsigned)(tag)&0xffu))

/* Namespace name of a page ("AirSync"), NULL when above WBXML_PAGE_MAX. */
const char *wbxml_page_name(unsigned page);
/* Element name of a tag ("SyncKey"), NULL when the token is unassigned. */
const char *wbxml_tag_name(uint16_t tag);
/* Namespace and element name to tag; -1 when either is unknown. */
int wbxml_tag_lookup(const char *ns, const char *name, uint16_t *tag_r);
/* Namespace name to page number; -1 when unknown. */
int wbxml_page_lookup(const char *ns, uint8_t *page_r);
/*
 * "Namespace:Element", or "Namespace:0xNN" for an unassigned token, into
 * out (always NUL-terminated when size > 0).  Returns the length it needed,
 * like snprintf.
 */
size_t wbxml_tag_describe(uint16_t tag, char *out, size_t size);

/* ---- errors ------------------------------------------------------------ */

/*
 * Success is WBXML_ERR_NONE, not WBXML_OK: libwbxml2's <wbxml/wbxml.h>
 * defines WBXML_OK, and the differential tests include both headers.
 */
enum wbxml_err {
	WBXML_ERR_NONE = 0,
	WBXML_ERR_TRUNCATED,     /* input ended inside a token or element */
	WBXML_ERR_VERSION,       /* header: not WBXML 1.3 */
	WBXML_ERR_PUBLIC_ID,     /* header: public id is not 1 */
	WBXML_ERR_CHARSET,       /* header: charset is not UTF-8 (106) */
	WBXML_ERR_STRING_TABLE,  /* header: non-empty string table */
	WBXML_ERR_MB_OVERFLOW,   /* mb_u_int32 longer than 5 bytes / 32 bits */
	WBXML_ERR_UNKNOWN_PAGE,  /* SWITCH_PAGE above WBXML_PAGE_MAX */
	WBXML_ERR_UNSUPPORTED,   /* ENTITY, LITERAL, EXT_*, PI, STR_T */
	WBXML_ERR_ATTRIBUTES,    /* tag with the attribute bit set */
	WBXML_ERR_DEPTH,         /* nesting deeper than WBXML_MAX_DEPTH */
	WBXML_ERR_DOC_TOO_LARGE, /* input over WBXML_MAX_DOC_BYTES */
	WBXML_ERR_STRING_TOO_LONG, /* STR_I over WBXML_MAX_STRING_BYTES */
	WBXML_ERR_OPAQUE_TOO_LONG, /* OPAQUE over WBXML_MAX_OPAQUE_BYTES */
	WBXML_ERR_UNBALANCED,      /* END with no open element */
	WBXML_ERR_OUTSIDE_ROOT,    /* content before/after the root element */
	WBXML_ERR_TRAILING,        /* bytes after the end of the root */
	WBXML_ERR_NO_ROOT,         /* header but no element */
	WBXML_ERR_TOO_MANY_NODES,  /* tree: over WBXML_MAX_NODES */
	WBXML_ERR_NOMEM,           /* allocation failed */
	/* typed accessors (wbxml_tree.h) */
	WBXML_ERR_MISSING,       /* required element absent */
	WBXML_ERR_NOT_TEXT,      /* element has children where text expected */
	WBXML_ERR_BAD_INTEGER,   /* not a plain decimal unsigned integer */
	WBXML_ERR_RANGE,         /* integer outside the caller's bounds */
	WBXML_ERR_TOO_LONG,      /* value longer than the caller's maximum */
	WBXML_ERR_INVALID_UTF8,  /* string accessor: bytes are not UTF-8 */
	WBXML_ERR_NUL_IN_STRING, /* string holds a NUL byte */
	/* encoder */
	WBXML_ERR_OUTPUT_FULL, /* output buffer maximum reached */
	WBXML_ERR_SINK,        /* the sink callback failed */
	WBXML_ERR_USAGE,       /* encoder misuse: END without start, ... */
	WBXML_ERR_COUNT_
};

/* Short English description ("truncated input"); never NULL. */
const char *wbxml_strerror(enum wbxml_err err);

/* ---- WBXML global tokens (WAP-192-WBXML 7.1) --------------------------- */

enum wbxml_token {
	WBXML_TOK_SWITCH_PAGE = 0x00,
	WBXML_TOK_END = 0x01,
	WBXML_TOK_ENTITY = 0x02,
	WBXML_TOK_STR_I = 0x03,
	WBXML_TOK_LITERAL = 0x04,
	WBXML_TOK_PI = 0x43,
	WBXML_TOK_STR_T = 0x83,
	WBXML_TOK_OPAQUE = 0xc3,
	WBXML_TOK_CONTENT_BIT = 0x40, /* on a tag: element has content */
	WBXML_TOK_ATTR_BIT = 0x80,    /* on a tag: attributes follow */
};

/* The four header bytes every EAS document starts with. */
#define WBXML_HEADER_VERSION 0x03
#define WBXML_HEADER_PUBLIC_ID 0x01
#define WBXML_HEADER_CHARSET_UTF8 106
#define WBXML_HEADER_BYTES 4

/* ---- decoder (proto/wbxml_dec.c) --------------------------------------- */

enum wbxml_ev_type {
	WBXML_EV_START,  /* start tag: tag, has_content */
	WBXML_EV_END,    /* end of the element tag (only if has_content) */
	WBXML_EV_STR,    /* STR_I: data/len, data[len] == 0 */
	WBXML_EV_OPAQUE, /* OPAQUE: data/len (any bytes) */
	WBXML_EV_EOD,    /* end of document: root closed, input consumed */
};

struct wbxml_event {
	enum wbxml_ev_type type;
	uint16_t tag;        /* START and END */
	bool has_content;    /* START: false = empty element, no END follows */
	unsigned depth;      /* START/END: depth of the element (root = 1) */
	const uint8_t *data; /* STR/OPAQUE: points into the input */
	size_t len;
	size_t offset; /* byte offset of the token in the input */
};

/*
 * Decoder state; lives on the caller's stack, allocates nothing.  Events
 * point into the input, which must outlive them.
 */
struct wbxml_dec {
	const uint8_t *begin;
	const uint8_t *pos;
	const uint8_t *end;
	uint8_t page;
	unsigned depth;
	uint8_t state; /* private */
	enum wbxml_err err;
	size_t err_offset;
	uint16_t stack[WBXML_MAX_DEPTH];
};

/*
 * Check the header and prepare to pull events.  Returns -1 (the error is in
 * d->err / wbxml_dec_error()) on a bad header or an input larger than
 * WBXML_MAX_DOC_BYTES.
 */
int wbxml_dec_init(struct wbxml_dec *d, const uint8_t *data, size_t len);
/*
 * Next event into ev_r: 0, or -1 on an error.  Errors are sticky: after one,
 * every call returns -1.  After WBXML_EV_EOD further calls return EOD.
 */
int wbxml_dec_next(struct wbxml_dec *d, struct wbxml_event *ev_r);
/* The error and the byte offset where it was detected. */
enum wbxml_err wbxml_dec_error(const struct wbxml_dec *d, size_t *offset_r);

/*
 * Read one mb_u_int32 (WAP-192-WBXML 5.1) at *pos, advancing *pos.  At most
 * 5 bytes and 32 bits; -1 with WBXML_ERR_TRUNCATED / WBXML_ERR_MB_OVERFLOW.
 */
int wbxml_read_mb_u32(const uint8_t **pos, const uint8_t *end, uint32_t *val_r,
		      enum wbxml_err *err_r);

/* ---- encoder (proto/wbxml_enc.c) --------------------------------------- */

/* Bytes staged before the sink is called (sink mode only). */
#define WBXML_ENC_CHUNK_BYTES 8192

/*
 * Encoder state, on the caller's stack or in the request.  Every call
 * returns 0 or -1; the first error is kept (sticky) and later calls do
 * nothing and return -1, so a handler may check once, at wbxml_enc_finish().
 * A start tag is written lazily: if its END comes next, the element is
 * written as an empty element (no content bit, no END).
 */
struct wbxml_enc {
	struct buf *out; /* buffer mode */
	/* sink mode: receives encoded bytes; returns 0, or -1 to fail */
	int (*sink)(void *ctx, const uint8_t *data, size_t len);
	void *sink_ctx;
	enum wbxml_err err;
	uint8_t page;
	bool header_done;
	bool root_done;
	bool pending;   /* a start tag not yet written */
	unsigned depth; /* open elements, the pending one included */
	size_t total;   /* bytes produced so far */
	size_t chunk_len;
	/* Bytes still owed to an OPAQUE opened by wbxml_enc_opaque_begin();
	 * every other call is a usage error until they are written. */
	size_t opaque_left;
	uint16_t stack[WBXML_MAX_DEPTH];
	uint8_t chunk[WBXML_ENC_CHUNK_BYTES];
};

/* Encode by appending to out (its maximum bounds the document). */
void wbxml_enc_init_buf(struct wbxml_enc *e, struct buf *out);
/* Encode by passing chunks to sink(ctx, ...). */
void wbxml_enc_init_sink(struct wbxml_enc *e,
			 int (*sink)(void *ctx, const uint8_t *data,
				     size_t len),
			 void *ctx);
/* Write the header; implied by the first element, idempotent. */
int wbxml_enc_header(struct wbxml_enc *e);
/* Open an element (switching page only when needed). */
int wbxml_enc_start(struct wbxml_enc *e, uint16_t tag);
/* Close the innermost open element. */
int wbxml_enc_end(struct wbxml_enc *e);
/* <tag/> */
int wbxml_enc_empty(struct wbxml_enc *e, uint16_t tag);
/* <tag>s</tag> (STR_I); "" gives <tag/>.  A NUL inside is an error. */
int wbxml_enc_str(struct wbxml_enc *e, uint16_t tag, const char *s);
int wbxml_enc_str_n(struct wbxml_enc *e, uint16_t tag, const char *s,
		    size_t len);
/* <tag>decimal v</tag> (EAS integers are decimal text, MS-ASDTYPE 2.6). */
int wbxml_enc_uint(struct wbxml_enc *e, uint16_t tag, uint64_t v);
/* <tag>OPAQUE</tag>: binary data (MIME, ConversationIndex, ...). */
int wbxml_enc_opaque(struct wbxml_enc *e, uint16_t tag, const void *data,
		     size_t len);
/*
 * One OPAQUE written in pieces (an attachment streamed from the mailbox):
 * begin writes the token and the total length inside the current element,
 * then wbxml_enc_opaque_part() passes exactly `total` bytes through, in any
 * number of calls, before anything else may be encoded (else
 * WBXML_ERR_USAGE).  In sink mode large parts bypass the staging chunk, so
 * memory does not grow with the total.
 */
int wbxml_enc_opaque_begin(struct wbxml_enc *e, size_t total);
int wbxml_enc_opaque_part(struct wbxml_enc *e, const void *data, size_t len);
/* Text / opaque content inside the current element (in pieces). */
int wbxml_enc_text(struct wbxml_enc *e, const char *s, size_t len);
int wbxml_enc_data(struct wbxml_enc *e, const void *data, size_t len);
/*
 * Keep-alive: a redundant SWITCH_PAGE to the current page, a valid no-op
 * for any decoder, flushed at once in sink mode.  Lets a slow response
 * send bytes before the client's read timeout (Gmail: about 30 s).
 */
int wbxml_enc_keepalive(struct wbxml_enc *e);
/* Sink mode: pass staged bytes to the sink now.  Buffer mode: no-op. */
int wbxml_enc_flush(struct wbxml_enc *e);
/*
 * End of document: checks that the root element was written and closed,
 * flushes, and returns -1 if any error happened on the way.
 */
int wbxml_enc_finish(struct wbxml_enc *e);
enum wbxml_err wbxml_enc_error(const struct wbxml_enc *e);

#endif
