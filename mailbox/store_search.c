/*
 * The store side of mailbox search (search.h): the SQL function that feeds
 * the FTS5 index from an item's property blob (called by the triggers of
 * schema.c v2, so the index commits with the item), the compiler that turns
 * the user's words into a MATCH expression nobody can inject syntax into,
 * and the query that answers one Range page of matches, newest first, with
 * the total.  Everything runs on the user's own database handle.
 *
 * Cost: a query is one FTS5 lookup per word (prefix indexes of 2 and 3
 * characters) plus the folder tokens of the scope, walked once in key
 * order (newest first, date bounds as a key range) to count the matches
 * and keep the page; then one primary-key look-up per hit of the page for
 * its folder.  No table row is read per match; the benchmark
 * (tests/bench/bench_search.c) measures it on 100,000 messages.
 */
#include "mailbox/search.h"
#include "mailbox/conversation.h"
#include "mailbox/store_int.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "proto/limits.h"

/*
 * Body text kept in the index per message.  The summary already cuts bodies
 * at MIME_MAX_BODY_BYTES (4 MB); the index keeps the first 256 KB, which
 * holds the whole text of nearly all mail.  Trade-off: words only found
 * past it (the tail of a huge log pasted into a message) are not found.
 */
#define SEARCH_INDEX_BODY_BYTES (256u * 1024u)
/* Longest HTML entity name looked at ("&thetasym;" is the longest). */
#define SEARCH_ENTITY_MAX 10

/* The index columns, in schema.c v2 order. */
enum search_column {
	SEARCH_COL_SUBJECT = 0,
	SEARCH_COL_SENDER = 1,
	SEARCH_COL_RECIPIENTS = 2,
	SEARCH_COL_BODY = 3,
};

const char *
search_status_name(enum search_status status)
{
	switch (status) {
	case SEARCH_OK:
		return "ok";
	case SEARCH_BAD_REQUEST:
		return "bad request";
	case SEARCH_TOO_COMPLEX:
		return "query too complex";
	case SEARCH_RANGE:
		return "range out of bounds";
	case SEARCH_NOT_FOUND:
		return "folder not found";
	case SEARCH_STORE_ERROR:
		return "store error";
	}
	return "unknown";
}

void
search_result_clear(struct search_result *r)
{
	if (r == NULL)
		return;
	free(r->hits);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------ UTF-8 */

/* Length of the valid UTF-8 sequence at p (1-4), 0 if invalid (overlong
 * forms, surrogates, beyond U+10FFFF, truncated). */
static size_t
utf8_seq_len(const uint8_t *p, const uint8_t *end)
{
	size_t n, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1fu;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0fu;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07u;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3fu);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* Encodes a code point (valid, not a surrogate) into b; its length. */
static size_t
utf8_encode(uint32_t cp, uint8_t b[4])
{
	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | (cp >> 6));
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | (cp >> 12));
		b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (uint8_t)(0xf0 | (cp >> 18));
	b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	b[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* Length of s[0..len) cut back to a character boundary at most max. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((uint8_t)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* ---------------------------------------------------- query compiler */

static bool
query_space(uint8_t c)
{
	/* NUL and every ASCII control character separate words. */
	return c <= 0x20 || c == 0x7f;
}

static bool
ascii_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

/*
 * Appends one word (or phrase) [p, end) as an FTS5 string: '"' doubled,
 * control characters and invalid UTF-8 turned into spaces (separators for
 * the tokenizer as well).  Counts the runs of word characters (ASCII
 * letters and digits, any non-ASCII character: what unicode61 may keep in
 * a token) into *terms; a word without any is left out, as FTS5 itself
 * would ignore its empty phrase.
 */
static int
query_emit(const uint8_t *p, const uint8_t *end, bool phrase, size_t start_len,
	   struct buf *out, size_t *terms, enum search_status *status_r)
{
	struct buf w;
	size_t runs = 0, n;
	bool in_run = false;
	int ret = -1;

	/* Each input byte becomes at most two output bytes. */
	buf_init(&w, 2 * SEARCH_MAX_QUERY_BYTES + 8);
	while (p < end) {
		n = utf8_seq_len(p, end);
		if (n == 0 || (n == 1 && query_space(*p))) {
			if (buf_append_byte(&w, ' ') < 0)
				goto nomem;
			in_run = false;
			p++;
			continue;
		}
		if (n > 1 || ascii_alnum(*p)) {
			if (!in_run)
				runs++;
			in_run = true;
		} else {
			in_run = false;
		}
		if ((*p == '"' && buf_append_byte(&w, '"') < 0) ||
		    buf_append(&w, p, n) < 0)
			goto nomem;
		p += n;
	}
	if (runs == 0) {
		ret = 0;
		goto out;
	}
	*terms += runs;
	if (*terms > SEARCH_MAX_TERMS) {
		*status_r = SEARCH_TOO_COMPLEX;
		goto out;
	}
	if ((out->len > start_len && buf_append_byte(out, ' ') < 0) ||
	    buf_append_byte(out, '"') < 0 ||
	    buf_append(out, w.data, w.len) < 0 ||
	    buf_append_str(out, phrase ? "\"" : "\"*") < 0)
		goto nomem;
	ret = 0;
	goto out;
nomem:
	*status_r = SEARCH_STORE_ERROR;
out:
	buf_free(&w);
	return ret;
}

int
search_query_compile(const char *text, size_t len, struct buf *out,
		     size_t *terms_r, enum search_status *status_r)
{
	const uint8_t *pos = (const uint8_t *)text, *end, *start, *stop;
	size_t terms = 0, start_len = out->len;
	bool any = false, phrase;

	*terms_r = 0;
	*status_r = SEARCH_OK;
	if (len > SEARCH_MAX_QUERY_BYTES) {
		*status_r = SEARCH_TOO_COMPLEX;
		return -1;
	}
	end = pos + len;
	while (pos < end) {
		while (pos < end && query_space(*pos))
			pos++;
		if (pos == end)
			break;
		any = true;
		/* "a phrase": up to the next quote, or the end when the
		 * quote is left open. */
		phrase = *pos == '"';
		if (phrase)
			pos++;
		start = pos;
		while (
		    pos < end &&
		    (phrase ? *pos != '"' : !query_space(*pos) && *pos != '"'))
			pos++;
		stop = pos;
		if (phrase && pos < end)
			pos++;
		if (query_emit(start, stop, phrase, start_len, out, &terms,
			       status_r) < 0)
			return -1;
	}
	if (!any) {
		*status_r = SEARCH_BAD_REQUEST;
		return -1;
	}
	*terms_r = terms;
	return 0;
}

/* ------------------------------------------------------ HTML to text */

/* Case-insensitive: does [p, end) start with the ASCII word w? */
static bool
starts_with_ci(const uint8_t *p, const uint8_t *end, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(end - p) < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		if (c != (uint8_t)w[i])
			return false;
	}
	return true;
}

/* The first occurrence of the ASCII string w in [p, end), ignoring case;
 * end if none. */
static const uint8_t *
find_ci(const uint8_t *p, const uint8_t *end, const char *w)
{
	for (; p < end; p++)
		if (starts_with_ci(p, end, w))
			return p;
	return end;
}

static const uint8_t *
find_byte(const uint8_t *p, const uint8_t *end, uint8_t c)
{
	const uint8_t *q = memchr(p, c, (size_t)(end - p));

	return q != NULL ? q : end;
}

/*
 * Does the tag at p ('<') separate words?  Block tags (p, br, div, td...)
 * do; inline formatting (b, i, span, a, font...) may sit inside a word
 * ("<b>S</b>ale") and does not.  Unknown tags separate: an extra split
 * costs less than two words glued together.
 */
static bool
html_tag_separates(const uint8_t *p, const uint8_t *end)
{
	static const char *const inline_tags[] = {
	    "a",      "abbr",   "b",    "big", "code",  "em",
	    "font",   "i",      "mark", "s",   "small", "span",
	    "strike", "strong", "sub",  "sup", "u"};
	char name[8];
	size_t n = 0;

	p++;
	if (p < end && *p == '/')
		p++;
	while (p < end && n < sizeof(name) - 1 && ascii_alnum(*p)) {
		uint8_t c = *p++;

		name[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	name[n] = '\0';
	if (n == 0 || (p < end && ascii_alnum(*p)))
		return true;
	for (size_t i = 0; i < sizeof(inline_tags) / sizeof(inline_tags[0]);
	     i++)
		if (strcmp(name, inline_tags[i]) == 0)
			return false;
	return true;
}

/* Decodes the entity at p ('&'); *len_r gets its length, 0 if it is not
 * one we know (the '&' is then text). */
static uint32_t
html_entity(const uint8_t *p, const uint8_t *end, size_t *len_r)
{
	static const struct {
		const char *name;
		uint32_t cp;
	} named[] = {{"amp;", '&'},  {"lt;", '<'},    {"gt;", '>'},
		     {"quot;", '"'}, {"apos;", '\''}, {"nbsp;", ' '}};
	const uint8_t *q = p + 1;
	uint32_t cp = 0;
	size_t digits = 0;
	bool hex;

	*len_r = 0;
	if (q < end && *q == '#') {
		q++;
		hex = q < end && (*q == 'x' || *q == 'X');
		if (hex)
			q++;
		for (; q < end && digits < 8; q++, digits++) {
			uint8_t c = *q;

			if (c >= '0' && c <= '9')
				cp = cp * (hex ? 16 : 10) + (uint32_t)(c - '0');
			else if (hex && c >= 'a' && c <= 'f')
				cp = cp * 16 + (uint32_t)(c - 'a' + 10);
			else if (hex && c >= 'A' && c <= 'F')
				cp = cp * 16 + (uint32_t)(c - 'A' + 10);
			else
				break;
		}
		if (digits == 0 || q >= end || *q != ';' || cp == 0 ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		*len_r = (size_t)(q + 1 - p);
		return cp;
	}
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (starts_with_ci(q, end, named[i].name)) {
			*len_r = 1 + strlen(named[i].name);
			return named[i].cp;
		}
	}
	return 0;
}

int
search_html_text(const char *html, size_t len, size_t max_bytes,
		 struct buf *out)
{
	const uint8_t *p = (const uint8_t *)html, *end = p + len;
	size_t start_len = out->len, n, plen;
	bool space = true; /* collapse runs of white space */
	uint8_t piece[4];  /* one character */
	uint32_t cp;

	while (p < end && out->len - start_len < max_bytes) {
		if (*p == '<' && p + 1 < end &&
		    (p[1] == '/' || p[1] == '!' || p[1] == '?' ||
		     (ascii_alnum(p[1]) && !(p[1] >= '0' && p[1] <= '9')))) {
			if (starts_with_ci(p, end, "<!--")) {
				p = find_ci(p + 4, end, "-->");
				p = p < end ? p + 3 : end;
			} else if (starts_with_ci(p, end, "<script") ||
				   starts_with_ci(p, end, "<style")) {
				const char *close = p[2] == 'c' || p[2] == 'C'
							? "</script"
							: "</style";

				p = find_ci(p + 6, end, close);
				p = find_byte(p, end, '>');
				p = p < end ? p + 1 : end;
			} else if (!html_tag_separates(p, end)) {
				p = find_byte(p, end, '>');
				p = p < end ? p + 1 : end;
				continue;
			} else {
				p = find_byte(p, end, '>');
				p = p < end ? p + 1 : end;
			}
			/* A block tag separates words: "a<br>b" is two. */
			if (!space && buf_append_byte(out, ' ') < 0)
				return -1;
			space = true;
			continue;
		}
		/* One piece: an entity (as UTF-8), a space, or one
		 * character copied as it is (bad UTF-8 byte by byte: the
		 * tokenizer copes).  A piece that would cross the bound
		 * ends the text, so no character is ever cut. */
		n = 0;
		cp = *p == '&' ? html_entity(p, end, &n) : 0;
		if (n > 0) {
			plen = cp == ' ' ? 0 : utf8_encode(cp, piece);
		} else if (query_space(*p)) {
			n = 1;
			plen = 0;
		} else {
			n = utf8_seq_len(p, end);
			if (n == 0)
				n = 1;
			memcpy(piece, p, n);
			plen = n;
		}
		if (plen == 0) {
			if (!space && buf_append_byte(out, ' ') < 0)
				return -1;
			space = true;
		} else {
			if (out->len - start_len + plen > max_bytes)
				break;
			if (buf_append(out, piece, plen) < 0)
				return -1;
			space = false;
		}
		p += n;
	}
	return 0;
}

/* ------------------------------------------- index feed (triggers) */

/* Appends a header field, cut (on a character) to what the buffer's bound
 * leaves: a client's oversized Subject is indexed in part, never makes
 * the item's add fail. */
static int
append_field(struct buf *b, const char *s)
{
	size_t room;

	if (s == NULL || *s == '\0')
		return 0;
	if (b->len > 0 && buf_append_byte(b, '\n') < 0)
		return -1;
	room = b->max - b->len;
	return buf_append(b, s, utf8_cut(s, strnlen(s, room + 1), room));
}

/*
 * easd_search_field(props BLOB, column INTEGER) -> TEXT: the text of one
 * index column for an item's serialized properties.  NULL props, or a
 * blob that does not parse, give NULL: a damaged item is left out of the
 * index rather than failing its delivery (G8).
 */
static void
search_field_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct item_props p;
	struct buf b;
	const void *blob;
	const char *body;
	size_t len;
	uint8_t *text;
	int col;

	(void)argc;
	blob = sqlite3_value_blob(argv[0]);
	len = (size_t)sqlite3_value_bytes(argv[0]);
	col = sqlite3_value_int(argv[1]);
	if (blob == NULL || item_props_parse(blob, len, &p) < 0) {
		sqlite3_result_null(ctx);
		return;
	}
	/* Bodies are cut at SEARCH_INDEX_BODY_BYTES; header fields
	 * (MIME_MAX_HEADER_BYTES each from mail, unbounded from a client's
	 * Add) at this bound. */
	buf_init(&b, SEARCH_INDEX_BODY_BYTES + 2 * MIME_MAX_HEADER_BYTES);
	switch ((enum search_column)col) {
	case SEARCH_COL_SUBJECT:
		if (append_field(&b, p.subject) < 0)
			goto nomem;
		break;
	case SEARCH_COL_SENDER:
		if (append_field(&b, p.from) < 0)
			goto nomem;
		break;
	case SEARCH_COL_RECIPIENTS:
		if (append_field(&b, p.to) < 0 || append_field(&b, p.cc) < 0)
			goto nomem;
		break;
	case SEARCH_COL_BODY:
		body = p.body_text;
		if (body != NULL && *body != '\0') {
			len = utf8_cut(body, strlen(body),
				       SEARCH_INDEX_BODY_BYTES);
			if (buf_append(&b, body, len) < 0)
				goto nomem;
		} else if (p.body_html != NULL &&
			   search_html_text(p.body_html, strlen(p.body_html),
					    SEARCH_INDEX_BODY_BYTES, &b) < 0) {
			goto nomem;
		}
		break;
	default:
		sqlite3_result_error(ctx, "easd_search_field: bad column", -1);
		goto out;
	}
	text = buf_steal(&b, &len);
	if (text == NULL)
		sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
	else
		sqlite3_result_text64(ctx, (const char *)text, len, free,
				      SQLITE_UTF8);
	goto out;
nomem:
	sqlite3_result_error_nomem(ctx);
out:
	buf_free(&b);
	item_props_clear(&p);
}

/* Both functions of the user database's triggers: this file's, and the
 * conversation index's (schema.c v6, store_conv.c). */
static int
search_sql_create(sqlite3 *db)
{
	int rc = sqlite3_create_function_v2(
	    db, "easd_search_field", 2,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	    search_field_fn, NULL, NULL, NULL);

	return rc != SQLITE_OK ? rc : conv_sql_register(db);
}

/* sqlite3_auto_extension's entry point: every later connection of the
 * process gets the function too. */
static int
search_sql_auto(sqlite3 *db, const char **error_r,
		const struct sqlite3_api_routines *api)
{
	(void)error_r;
	(void)api;
	return search_sql_create(db);
}

/*
 * Registers on db, and (once per process: a repeated registration is a
 * no-op) as an automatic extension, so that any other connection this
 * process opens to a user database, a test's or a repair tool's raw
 * sqlite3_open included, can still add and change mail items.
 */
int
search_sql_register(struct sqlite3 *db)
{
	int rc = sqlite3_auto_extension((void (*)(void))search_sql_auto);

	if (rc != SQLITE_OK)
		return rc;
	return search_sql_create(db);
}

/* ------------------------------------------------------------ query */

/* The index key (schema.c v2): clamped date << 30 | item id. */
#define SEARCH_KEY_ID_BITS 30
#define SEARCH_KEY_ID_MASK ((INT64_C(1) << SEARCH_KEY_ID_BITS) - 1)
#define SEARCH_KEY_MAX_DATE ((INT64_C(1) << 33) - 1)

/*
 * The key range of the date bounds (exclusive, 0 = none).  Dates are
 * clamped to 0..2^33-1 in the key, so a message dated before 1970 sorts as
 * 1970 and a GreaterThan below 0 admits all.  False when nothing can
 * match.
 */
static bool
search_key_range(const struct search_query *q, int64_t *lo_r, int64_t *hi_r)
{
	*lo_r = 0;
	*hi_r = INT64_MAX;
	if (q->greater_than > 0) {
		if (q->greater_than >= SEARCH_KEY_MAX_DATE)
			return false;
		*lo_r = (q->greater_than + 1) << SEARCH_KEY_ID_BITS;
	}
	if (q->less_than != 0) {
		if (q->less_than <= 0)
			return false;
		if (q->less_than <= SEARCH_KEY_MAX_DATE)
			*hi_r = (q->less_than << SEARCH_KEY_ID_BITS) - 1;
	}
	return *lo_r <= *hi_r;
}

/*
 * Appends one root folder of the scope (and with DeepTraversal, MS-ASCMD
 * 2.2.3.41, its subtree, walked at most STORE_MAX_FOLDER_DEPTH levels
 * down) to the OR of folder tokens; *n_r counts the tokens of the whole
 * scope, bounded by SEARCH_MAX_SCOPE_FOLDERS.
 */
static int
search_scope_root(struct store *st, int64_t folder_id, bool deep,
		  struct buf *match, int64_t *ids, size_t *n_r,
		  enum search_status *status_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int cls, rc;

	*status_r = SEARCH_STORE_ERROR;
	if (folder_id <= 0 || folders_class_tx(st, folder_id, &cls) < 0) {
		if (folder_id <= 0 ||
		    store_last_error(st)->status == STORE_NOT_FOUND) {
			sdb_fail(s, STORE_NOT_FOUND, "no folder %lld",
				 (long long)folder_id);
			*status_r = SEARCH_NOT_FOUND;
		}
		return -1;
	}
	if (cls != ITEM_CLASS_EMAIL) {
		sdb_fail(s, STORE_INVALID, "folder %lld holds no mail",
			 (long long)folder_id);
		*status_r = SEARCH_NOT_FOUND;
		return -1;
	}
	stmt =
	    sdb_prepare(s, "WITH RECURSIVE scope(id, depth) AS (SELECT ?1, 0"
			   " UNION ALL SELECT f.id, s.depth + 1 FROM folders f"
			   " JOIN scope s ON f.parent_id = s.id"
			   " WHERE ?2 AND f.deleted = 0 AND s.depth < ?3)"
			   " SELECT id FROM scope LIMIT ?4");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, folder_id);
	sqlite3_bind_int(stmt, 2, deep);
	sqlite3_bind_int(stmt, 3, STORE_MAX_FOLDER_DEPTH);
	sqlite3_bind_int(stmt, 4, SEARCH_MAX_SCOPE_FOLDERS + 1);
	while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		if (++*n_r > SEARCH_MAX_SCOPE_FOLDERS) {
			sdb_reset(stmt);
			sdb_fail(s, STORE_INVALID,
				 "more than %d folders in scope",
				 SEARCH_MAX_SCOPE_FOLDERS);
			*status_r = SEARCH_TOO_COMPLEX;
			return -1;
		}
		ids[*n_r - 1] = sqlite3_column_int64(stmt, 0);
		if (buf_printf(match, "%s\"f%lld\"", *n_r > 1 ? " OR " : "",
			       (long long)ids[*n_r - 1]) < 0) {
			sdb_reset(stmt);
			sdb_fail(s, STORE_IO, "out of memory");
			return -1;
		}
	}
	return rc < 0 ? -1 : 0;
}

/* Appends the folder scope to the MATCH expression: every root folder of
 * the query with its subtree when asked, as one OR of folder tokens. */
/* The scope's folder ids: at most SEARCH_MAX_SCOPE_FOLDERS, sorted for
 * the conversation search's look-ups. */
struct search_scope_ids {
	int64_t ids[SEARCH_MAX_SCOPE_FOLDERS];
	size_t n;
};

static int
scope_id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int
search_scope(struct store *st, const struct search_query *q, struct buf *match,
	     struct search_scope_ids *scope, enum search_status *status_r)
{
	size_t n = 0;

	*status_r = SEARCH_STORE_ERROR;
	if (buf_append_str(match, " AND folder : (") < 0)
		goto nomem;
	if (search_scope_root(st, q->folder_id, q->deep_traversal, match,
			      scope->ids, &n, status_r) < 0)
		return -1;
	for (size_t i = 0; i < q->n_more_folder_ids; i++)
		if (search_scope_root(st, q->more_folder_ids[i],
				      q->deep_traversal, match, scope->ids, &n,
				      status_r) < 0)
			return -1;
	if (buf_append_byte(match, ')') < 0)
		goto nomem;
	scope->n = n;
	qsort(scope->ids, n, sizeof(scope->ids[0]), scope_id_cmp);
	return 0;
nomem:
	sdb_fail(&st->sdb, STORE_IO, "out of memory");
	return -1;
}

static int
search_validate(struct store *st, const struct search_query *q,
		enum search_status *status_r)
{
	const char *why = NULL;

	*status_r = SEARCH_BAD_REQUEST;
	if (q->conversation_id_len > CONV_MAX_ID_BYTES ||
	    (q->conversation_id == NULL && q->conversation_id_len > 0))
		why = "bad conversation id";
	else if (q->text == NULL && q->conversation_id_len == 0)
		why = "no query text";
	else if (q->cls != 0 && q->cls != ITEM_CLASS_EMAIL)
		why = "only Email items are searchable";
	else if (q->range_start > q->range_end)
		why = "range start after range end";
	else if (q->range_end > SEARCH_MAX_RANGE_INDEX) {
		*status_r = SEARCH_RANGE;
		why = "range beyond the retrievable results";
	}
	if (why != NULL) {
		sdb_fail(&st->sdb, STORE_INVALID, "search: %s", why);
		return -1;
	}
	return 0;
}

/*
 * One pass over the matches, newest first (descending key): counts them
 * all for the total and keeps those whose position falls in the Range.
 * Cost: one doclist walk, no table look-up per match.
 */
static int
search_walk(struct store *st, const struct buf *match, int64_t lo, int64_t hi,
	    const struct search_query *q, struct search_result *r)
{
	struct sdb *s = &st->sdb;
	size_t want = (size_t)(q->range_end - q->range_start) + 1;
	sqlite3_stmt *stmt;
	int64_t n = 0;
	int rc;

	r->hits = calloc(want, sizeof(*r->hits));
	if (r->hits == NULL) {
		sdb_fail(s, STORE_IO, "out of memory");
		return -1;
	}
	if (q->conversation_id_len == 0)
		stmt = sdb_prepare(s, "SELECT rowid FROM search_fts"
				      " WHERE search_fts MATCH ?1"
				      " AND rowid >= ?2 AND rowid <= ?3"
				      " ORDER BY rowid DESC");
	else
		/* Words within a conversation: the members' ids are a small
		 * set the doclist walk is checked against. */
		stmt = sdb_prepare(
		    s, "SELECT rowid FROM search_fts"
		       " WHERE search_fts MATCH ?1"
		       " AND rowid >= ?2 AND rowid <= ?3"
		       " AND (rowid & 1073741823) IN (SELECT item_id FROM"
		       " conv_items WHERE conv = ?4) ORDER BY rowid DESC");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, buf_str(match), (int)match->len,
			  SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, lo);
	sqlite3_bind_int64(stmt, 3, hi);
	if (q->conversation_id_len > 0)
		sqlite3_bind_blob64(stmt, 4, q->conversation_id,
				    q->conversation_id_len, SQLITE_STATIC);
	while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		if (n >= (int64_t)q->range_start && r->count < want) {
			r->hits[r->count].item_id =
			    sqlite3_column_int64(stmt, 0) & SEARCH_KEY_ID_MASK;
			r->count++;
		}
		n++;
	}
	if (rc < 0)
		return -1;
	r->total = n > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	return 0;
}

/* The folder of each hit: at most SEARCH_MAX_RANGE_INDEX + 1 look-ups. */
static int
search_hit_folders(struct store *st, struct search_result *r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	for (size_t i = 0; i < r->count; i++) {
		stmt =
		    sdb_prepare(s, "SELECT folder_id FROM items WHERE id = ?");
		if (stmt == NULL)
			return -1;
		sqlite3_bind_int64(stmt, 1, r->hits[i].item_id);
		rc = sdb_step(s, stmt);
		if (rc == SQLITE_DONE) {
			/* The triggers make this impossible. */
			sdb_fail(s, STORE_CORRUPT,
				 "search index names missing item %lld",
				 (long long)r->hits[i].item_id);
			return -1;
		}
		if (rc != SQLITE_ROW)
			return -1;
		r->hits[i].folder_id = sqlite3_column_int64(stmt, 0);
		sdb_reset(stmt);
	}
	return 0;
}

/*
 * A conversation without words (MS-ASCMD 2.2.3.35.2): its members from the
 * conversation index, newest first in the index key's order (the order of
 * every other search), within the date keys [lo, hi] and, when scoped, the
 * scope's folders.  Cost: the conversation's members, never the mailbox.
 */
static int
search_conv_walk(struct store *st, const struct search_query *q, int64_t lo,
		 int64_t hi, const struct search_scope_ids *scope,
		 struct search_result *r)
{
	struct sdb *s = &st->sdb;
	size_t want = (size_t)(q->range_end - q->range_start) + 1;
	sqlite3_stmt *stmt;
	int64_t n = 0, folder;
	int rc;

	r->hits = calloc(want, sizeof(*r->hits));
	if (r->hits == NULL) {
		sdb_fail(s, STORE_IO, "out of memory");
		return -1;
	}
	stmt = sdb_prepare(
	    s, "SELECT id, folder_id FROM (SELECT i.id, i.folder_id,"
	       " ((min(max(i.date, 0), 8589934591) << 30) | i.id) AS k"
	       " FROM conv_items c JOIN items i ON i.id = c.item_id"
	       " WHERE c.conv = ?1) WHERE k >= ?2 AND k <= ?3"
	       " ORDER BY k DESC, id DESC");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_blob64(stmt, 1, q->conversation_id, q->conversation_id_len,
			    SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, lo);
	sqlite3_bind_int64(stmt, 3, hi);
	while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		folder = sqlite3_column_int64(stmt, 1);
		if (scope != NULL &&
		    bsearch(&folder, scope->ids, scope->n,
			    sizeof(scope->ids[0]), scope_id_cmp) == NULL)
			continue;
		if (n >= (int64_t)q->range_start && r->count < want) {
			r->hits[r->count].item_id =
			    sqlite3_column_int64(stmt, 0);
			r->hits[r->count].folder_id = folder;
			r->count++;
		}
		n++;
	}
	if (rc < 0)
		return -1;
	r->total = n > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	return 0;
}

int
store_search(struct store *st, const struct search_query *q,
	     struct search_result *result_r, enum search_status *status_r)
{
	struct search_result r = {0};
	struct search_scope_ids scope;
	struct buf match;
	int64_t lo, hi;
	size_t terms;
	int ret = -1;

	search_result_clear(result_r);
	buf_init(&match, 4 * SEARCH_MAX_QUERY_BYTES +
			     32 * SEARCH_MAX_SCOPE_FOLDERS + 64);
	if (search_validate(st, q, status_r) < 0)
		goto out;
	if (q->conversation_id_len > 0 &&
	    (q->text == NULL || q->text[0] == '\0')) {
		/* No words: the conversation index alone answers. */
		if (q->folder_id != 0 &&
		    search_scope(st, q, &match, &scope, status_r) < 0)
			goto out;
		*status_r = SEARCH_OK;
		if (!search_key_range(q, &lo, &hi)) {
			ret = 0;
			goto out;
		}
		*status_r = SEARCH_STORE_ERROR;
		if (search_conv_walk(st, q, lo, hi,
				     q->folder_id != 0 ? &scope : NULL, &r) < 0)
			goto out;
		*status_r = SEARCH_OK;
		ret = 0;
		goto out;
	}
	/* The user's words only ever meet the four text columns. */
	if (buf_append_str(&match, "{subject sender recipients body} : (") <
	    0) {
		*status_r = SEARCH_STORE_ERROR;
		sdb_fail(&st->sdb, STORE_IO, "out of memory");
		goto out;
	}
	/* Past the bound the length is all that matters (too complex). */
	if (search_query_compile(q->text,
				 strnlen(q->text, SEARCH_MAX_QUERY_BYTES + 1),
				 &match, &terms, status_r) < 0) {
		sdb_fail(&st->sdb, STORE_INVALID, "search: %s",
			 search_status_name(*status_r));
		goto out;
	}
	if (buf_append_byte(&match, ')') < 0) {
		*status_r = SEARCH_STORE_ERROR;
		sdb_fail(&st->sdb, STORE_IO, "out of memory");
		goto out;
	}
	if (q->folder_id != 0 &&
	    search_scope(st, q, &match, &scope, status_r) < 0)
		goto out;
	*status_r = SEARCH_OK;
	if (terms == 0 || !search_key_range(q, &lo, &hi)) {
		/* Only punctuation, or empty dates: nothing can match. */
		ret = 0;
		goto out;
	}
	*status_r = SEARCH_STORE_ERROR;
	if (search_walk(st, &match, lo, hi, q, &r) < 0 ||
	    search_hit_folders(st, &r) < 0)
		goto out;
	*status_r = SEARCH_OK;
	ret = 0;
out:
	buf_free(&match);
	if (ret == 0)
		*result_r = r;
	else
		search_result_clear(&r);
	return ret;
}
