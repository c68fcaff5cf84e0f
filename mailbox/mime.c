/*
 * GMime wrapper: the one place where raw mail becomes structured data.
 * mime_parse builds a GMime tree over a private copy of the raw bytes,
 * reads the envelope headers, walks the MIME tree once (walk()) to pick
 * the text and HTML bodies, the calendar part and the attachments, and
 * fills a struct message_summary with UTF-8 text only.
 * mime_attachment_extract repeats the same walk (same decisions, no body
 * decoding) to find attachment N and streams its decoded bytes.
 *
 * Body selection (the order EAS clients and Exchange agree on): the first
 * text/plain and the first text/html part that are not marked
 * "Content-Disposition: attachment" are the bodies, wherever they are in
 * multipart/mixed, /alternative or /related; a text/calendar part that is
 * not an attachment is the meeting; every other leaf is an attachment,
 * and so is an embedded message/rfc822 (named after its Subject, ".eml",
 * not descended into).  Attachment indexes count leaves in tree order and
 * are therefore stable for the same raw bytes.
 *
 * Charsets: the part's charset label is canonicalized by GMime and
 * converted with g_convert; an unknown label or invalid bytes fall back to
 * "valid UTF-8 as is", then windows-1252, then ISO-8859-1 (which maps every
 * byte), so text is never lost and never invalid UTF-8.  Headers use
 * GMime's loose RFC 2047 mode with the same fallback list for raw 8-bit
 * bytes.  The HTML <meta charset> is not consulted.
 */
#include "mailbox/mime.h"

#include <ctype.h>
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mailbox/ical.h"
#include "proto/limits.h"

/* Encoded bytes read per step when decoding an attachment. */
#define MIME_CHUNK_BYTES 65536
/* Seconds between 1601-01-01 (FILETIME epoch) and 1970-01-01. */
#define MIME_FILETIME_EPOCH_S 11644473600LL

static pthread_once_t mime_once = PTHREAD_ONCE_INIT;

static void
mime_init_once(void)
{
	g_mime_init();
}

void
mime_init(void)
{
	pthread_once(&mime_once, mime_init_once);
}

/* ----------------------------------------------------------- utilities */

/* g_utf8_next_char without its cast away from const. */
static const char *
utf8_next(const char *p)
{
	return p + g_utf8_skip[*(const unsigned char *)p];
}

/*
 * Copy text as valid UTF-8 of at most max bytes, cut on a character
 * boundary; NUL bytes are dropped (the summary holds C strings).
 * *truncated_r (optional) tells whether it was cut.  NULL in, NULL out.
 */
static char *
utf8_dup(const char *s, size_t len, size_t max, bool *truncated_r,
	 size_t *len_r)
{
	gchar *valid;
	size_t n, j = 0;
	char *out;

	if (truncated_r != NULL)
		*truncated_r = false;
	if (len_r != NULL)
		*len_r = 0;
	if (s == NULL)
		return NULL;
	valid = g_utf8_make_valid(s, (gssize)len);
	n = strlen(valid); /* make_valid replaced NULs with U+FFFD */
	if (n > max) {
		const gchar *cut = g_utf8_find_prev_char(valid, valid + max);

		n = cut != NULL ? (size_t)(cut - valid) : 0;
		/* find_prev_char gives the start of the char at max - 1
		 * or before; include it if it ends by max. */
		if (cut != NULL) {
			const gchar *next = utf8_next(cut);

			if ((size_t)(next - valid) <= max)
				n = (size_t)(next - valid);
		}
		if (truncated_r != NULL)
			*truncated_r = true;
	}
	out = malloc(n + 1);
	if (out != NULL) {
		for (size_t i = 0; i < n; i++)
			if (valid[i] != '\0')
				out[j++] = valid[i];
		out[j] = '\0';
		if (len_r != NULL)
			*len_r = j;
	}
	g_free(valid);
	return out;
}

static char *
header_dup(const char *s)
{
	return s != NULL
		   ? utf8_dup(s, strlen(s), MIME_MAX_HEADER_BYTES, NULL, NULL)
		   : NULL;
}

/* Decoded address list as display text, NULL if empty. */
static char *
addresses(GMimeMessage *msg, GMimeAddressType type)
{
	InternetAddressList *list = g_mime_message_get_addresses(msg, type);
	char *text, *out;

	if (list == NULL || internet_address_list_length(list) == 0)
		return NULL;
	text = internet_address_list_to_string(list, NULL, FALSE);
	out = header_dup(text);
	g_free(text);
	return out;
}

/* Convert a body to UTF-8 (see the charset policy at the top). */
static gchar *
to_utf8(const char *data, size_t len, const char *charset, size_t *len_r)
{
	gsize written = 0;
	gchar *out = NULL;

	if (len == 0) {
		*len_r = 0;
		return g_strdup("");
	}
	if (charset != NULL) {
		const char *name = g_mime_charset_iconv_name(charset);

		if (name != NULL && g_ascii_strcasecmp(name, "UTF-8") != 0 &&
		    g_ascii_strcasecmp(name, "us-ascii") != 0 &&
		    g_ascii_strcasecmp(name, "ASCII") != 0)
			out = g_convert(data, (gssize)len, "UTF-8", name, NULL,
					&written, NULL);
	}
	if (out == NULL && g_utf8_validate(data, (gssize)len, NULL)) {
		out = g_strndup(data, len);
		written = strlen(out);
	}
	if (out == NULL)
		out = g_convert(data, (gssize)len, "UTF-8", "windows-1252",
				NULL, &written, NULL);
	if (out == NULL)
		out = g_convert(data, (gssize)len, "UTF-8", "ISO-8859-1", NULL,
				&written, NULL);
	*len_r = out != NULL ? written : 0;
	return out;
}

/* Lower-case "type/subtype" of an object (g_free). */
static char *
mime_type_of(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *t = ct != NULL ? g_mime_content_type_get_mime_type(ct)
			     : g_strdup("text/plain");

	for (char *p = t; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return t;
}

static bool
is_attachment_disposition(GMimeObject *obj)
{
	GMimeContentDisposition *d = g_mime_object_get_content_disposition(obj);

	return d != NULL && g_mime_content_disposition_is_attachment(d);
}

/*
 * Decode a part's content in chunks into sink (the transfer encoding is
 * undone with GMime's incremental decoders).  Returns the decoded size,
 * or -1 if the sink aborted.
 */
static int64_t
decode_part(GMimePart *part, int (*sink)(void *, const uint8_t *, size_t),
	    void *ctx)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	GMimeStream *stream;
	GMimeContentEncoding enc;
	GMimeEncoding state;
	char *in = NULL, *out = NULL;
	int64_t total = 0;
	bool decode;

	if (content == NULL)
		return 0;
	stream = g_mime_data_wrapper_get_stream(content);
	if (stream == NULL)
		return 0;
	enc = g_mime_data_wrapper_get_encoding(content);
	decode = enc == GMIME_CONTENT_ENCODING_BASE64 ||
		 enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
		 enc == GMIME_CONTENT_ENCODING_UUENCODE;
	g_mime_encoding_init_decode(&state, enc);
	in = g_malloc(MIME_CHUNK_BYTES);
	out = g_malloc(g_mime_encoding_outlen(&state, MIME_CHUNK_BYTES) + 16);
	g_mime_stream_reset(stream);
	for (;;) {
		ssize_t n = g_mime_stream_read(stream, in, MIME_CHUNK_BYTES);
		size_t m;
		const char *p;

		if (n <= 0)
			break;
		if (decode) {
			m = g_mime_encoding_step(&state, in, (size_t)n, out);
			p = out;
		} else {
			m = (size_t)n;
			p = in;
		}
		total += (int64_t)m;
		if (sink != NULL && m > 0 &&
		    sink(ctx, (const uint8_t *)p, m) != 0) {
			total = -1;
			break;
		}
	}
	g_free(in);
	g_free(out);
	return total;
}

struct mem_sink {
	GByteArray *bytes;
};

static int
mem_sink_append(void *ctx, const uint8_t *data, size_t len)
{
	struct mem_sink *m = ctx;

	g_byte_array_append(m->bytes, data, (guint)len);
	return 0;
}

/* ------------------------------------------------------------ the walk */

enum walk_mode {
	WALK_SUMMARY, /* fill the summary */
	WALK_EXTRACT, /* find one attachment and stream it */
};

struct walk {
	enum walk_mode mode;
	struct message_summary *s;
	bool have_text, have_html, have_calendar;
	uint32_t next_index; /* attachment counter (both modes) */
	size_t cap_attachments;
	/* extraction */
	uint32_t target;
	bool found;
	int extract_ret;
	int (*sink)(void *ctx, const uint8_t *data, size_t len);
	void *sink_ctx;
};

static void
take_body(struct walk *w, GMimePart *part, bool html)
{
	GByteArray *bytes = g_byte_array_new();
	struct mem_sink ms = {bytes};
	const char *charset = g_mime_object_get_content_type_parameter(
	    GMIME_OBJECT(part), "charset");
	gchar *utf8;
	size_t len = 0;
	bool truncated = false;
	char *text;

	decode_part(part, mem_sink_append, &ms);
	utf8 = to_utf8((const char *)bytes->data, bytes->len, charset, &len);
	g_byte_array_unref(bytes);
	text = utf8_dup(utf8, len, MIME_MAX_BODY_BYTES, &truncated, &len);
	g_free(utf8);
	if (html) {
		w->s->html = text;
		w->s->html_len = len;
		w->s->html_truncated = truncated;
	} else {
		w->s->text = text;
		w->s->text_len = len;
		w->s->text_truncated = truncated;
	}
}

static void
take_calendar(struct walk *w, GMimePart *part)
{
	GByteArray *bytes = g_byte_array_new();
	struct mem_sink ms = {bytes};
	const char *error;

	decode_part(part, mem_sink_append, &ms);
	/* A broken calendar is not a meeting; the mail still delivers. */
	(void)ical_parse_meeting((const char *)bytes->data, bytes->len,
				 &w->s->meeting, &error);
	g_byte_array_unref(bytes);
}

/* A file name safe to show and to save: no path separators or controls. */
static char *
safe_name(const char *name, const char *fallback_ext, uint32_t index)
{
	char *out;

	if (name == NULL || *name == '\0') {
		char tmp[64];

		snprintf(tmp, sizeof(tmp), "attachment-%u%s", index,
			 fallback_ext);
		return strdup(tmp);
	}
	out = header_dup(name);
	if (out == NULL)
		return NULL;
	for (char *p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == '/' || *p == '\\' ||
		    *p == 0x7f)
			*p = '_';
	return out;
}

static const char *
ext_for(const char *type)
{
	if (strcmp(type, "text/calendar") == 0)
		return ".ics";
	if (strncmp(type, "text/", 5) == 0)
		return ".txt";
	if (strncmp(type, "image/", 6) == 0)
		return strcmp(type, "image/png") == 0 ? ".png" : ".jpg";
	return ".bin";
}

/* The message/rfc822 content written out as MIME text. */
static int64_t
write_message(GMimeMessagePart *mp,
	      int (*sink)(void *, const uint8_t *, size_t), void *ctx)
{
	GMimeMessage *inner = g_mime_message_part_get_message(mp);
	GMimeStream *mem;
	GByteArray *bytes;
	int64_t total;

	if (inner == NULL)
		return 0;
	if (sink == NULL) { /* size only: count, keep nothing */
		GMimeStream *null = g_mime_stream_null_new();
		int64_t n;

		/* Count what reaches the stream: the return value of
		 * write_to_stream can differ from it (found by fuzz_mime). */
		g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, null);
		n = (int64_t)GMIME_STREAM_NULL(null)->written;
		g_object_unref(null);
		return n;
	}
	mem = g_mime_stream_mem_new();
	g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	total = (int64_t)bytes->len;
	for (size_t off = 0; off < bytes->len;) {
		size_t n = bytes->len - off;

		if (n > MIME_CHUNK_BYTES)
			n = MIME_CHUNK_BYTES;
		if (sink(ctx, bytes->data + off, n) != 0) {
			total = -1;
			break;
		}
		off += n;
	}
	g_object_unref(mem);
	return total;
}

static void
add_attachment(struct walk *w, GMimeObject *obj, const char *type)
{
	uint32_t index = w->next_index++;
	struct message_attachment *a;
	const char *cid, *loc;

	if (w->mode == WALK_EXTRACT) {
		int64_t n;

		if (index != w->target || w->found)
			return;
		w->found = true;
		if (GMIME_IS_MESSAGE_PART(obj))
			n = write_message(GMIME_MESSAGE_PART(obj), w->sink,
					  w->sink_ctx);
		else
			n = decode_part(GMIME_PART(obj), w->sink, w->sink_ctx);
		w->extract_ret = n < 0 ? -1 : 0;
		return;
	}
	if (w->s->n_attachments >= MIME_MAX_ATTACHMENTS) {
		w->s->n_attachments_dropped++;
		return;
	}
	if (w->s->n_attachments == w->cap_attachments) {
		size_t cap = w->cap_attachments ? w->cap_attachments * 2 : 4;
		void *p = realloc(w->s->attachments, cap * sizeof(*a));

		if (p == NULL) {
			w->s->n_attachments_dropped++;
			return;
		}
		w->s->attachments = p;
		w->cap_attachments = cap;
	}
	a = &w->s->attachments[w->s->n_attachments++];
	memset(a, 0, sizeof(*a));
	a->index = index;
	a->content_type = strdup(type);
	cid = g_mime_object_get_content_id(obj);
	loc = g_mime_object_get_header(obj, "Content-Location");
	a->content_id = header_dup(cid);
	a->content_location = header_dup(loc);
	/* Tentative: confirmed against the HTML body after the walk. */
	a->is_inline = cid != NULL && !is_attachment_disposition(obj);
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner =
		    g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		const char *subject =
		    inner != NULL ? g_mime_message_get_subject(inner) : NULL;
		char *name = g_strdup_printf(
		    "%s.eml",
		    subject != NULL && *subject != '\0' ? subject : "message");

		a->is_message = true;
		a->name = safe_name(name, ".eml", index);
		g_free(name);
		a->size = (uint64_t)write_message(GMIME_MESSAGE_PART(obj), NULL,
						  NULL);
	} else {
		GMimePart *part = GMIME_PART(obj);

		a->name = safe_name(g_mime_part_get_filename(part),
				    ext_for(type), index);
		a->size = (uint64_t)decode_part(part, NULL, NULL);
	}
}

static void
walk(struct walk *w, GMimeObject *obj, unsigned depth)
{
	char *type;

	/* MIME_MAX_DEPTH bounds recursion; deeper parts are ignored. */
	if (obj == NULL || depth > MIME_MAX_DEPTH)
		return;
	if (w->mode == WALK_EXTRACT && w->found)
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);

		for (int i = 0; i < n; i++)
			walk(w, g_mime_multipart_get_part(mp, i), depth + 1);
		return;
	}
	type = mime_type_of(obj);
	if (GMIME_IS_MESSAGE_PART(obj)) {
		add_attachment(w, obj, type);
	} else if (GMIME_IS_PART(obj)) {
		bool attach = is_attachment_disposition(obj);

		if (!attach && !w->have_text &&
		    strcmp(type, "text/plain") == 0) {
			w->have_text = true;
			if (w->mode == WALK_SUMMARY)
				take_body(w, GMIME_PART(obj), false);
		} else if (!attach && !w->have_html &&
			   strcmp(type, "text/html") == 0) {
			w->have_html = true;
			if (w->mode == WALK_SUMMARY)
				take_body(w, GMIME_PART(obj), true);
		} else if (!attach && strcmp(type, "text/calendar") == 0) {
			if (w->mode == WALK_SUMMARY && !w->have_calendar)
				take_calendar(w, GMIME_PART(obj));
			w->have_calendar = true;
		} else {
			add_attachment(w, obj, type);
		}
	}
	g_free(type);
}

/* ------------------------------------------------------ summary fields */

static enum message_importance
importance_of(GMimeObject *obj)
{
	const char *v;

	/* RFC 2156 Importance; X-Priority (1-2 high, 4-5 low); RFC 2156
	 * Priority (urgent / non-urgent). */
	if ((v = g_mime_object_get_header(obj, "Importance")) != NULL) {
		while (*v == ' ')
			v++;
		if (g_ascii_strncasecmp(v, "high", 4) == 0)
			return MESSAGE_IMPORTANCE_HIGH;
		if (g_ascii_strncasecmp(v, "low", 3) == 0)
			return MESSAGE_IMPORTANCE_LOW;
		return MESSAGE_IMPORTANCE_NORMAL;
	}
	if ((v = g_mime_object_get_header(obj, "X-Priority")) != NULL) {
		while (*v == ' ')
			v++;
		if (*v == '1' || *v == '2')
			return MESSAGE_IMPORTANCE_HIGH;
		if (*v == '4' || *v == '5')
			return MESSAGE_IMPORTANCE_LOW;
		return MESSAGE_IMPORTANCE_NORMAL;
	}
	if ((v = g_mime_object_get_header(obj, "Priority")) != NULL) {
		while (*v == ' ')
			v++;
		if (g_ascii_strncasecmp(v, "urgent", 6) == 0)
			return MESSAGE_IMPORTANCE_HIGH;
		if (g_ascii_strncasecmp(v, "non-urgent", 10) == 0)
			return MESSAGE_IMPORTANCE_LOW;
	}
	return MESSAGE_IMPORTANCE_NORMAL;
}

/* Message ids of an In-Reply-To or References header, space separated
 * without brackets; NULL if none. */
static char *
ids_of(GMimeParserOptions *opts, const char *header, char **first_r)
{
	GMimeReferences *refs;
	GString *all;
	char *out;
	int n;

	if (first_r != NULL)
		*first_r = NULL;
	if (header == NULL)
		return NULL;
	refs = g_mime_references_parse(opts, header);
	if (refs == NULL)
		return NULL;
	n = g_mime_references_length(refs);
	all = g_string_new(NULL);
	for (int i = 0; i < n; i++) {
		const char *id = g_mime_references_get_message_id(refs, i);

		if (id == NULL)
			continue;
		if (all->len > 0)
			g_string_append_c(all, ' ');
		g_string_append(all, id);
		if (first_r != NULL && *first_r == NULL)
			*first_r = header_dup(id);
	}
	g_mime_references_free(refs);
	out = all->len > 0 ? header_dup(all->str) : NULL;
	g_string_free(all, TRUE);
	return out;
}

/* The subject without reply and forward prefixes (Re:, Fwd:, AW: ...). */
static char *
thread_topic(const char *subject)
{
	static const char *const prefixes[] = {
	    "re:", "fwd:", "fw:", "aw:", "wg:", "sv:", "tr:", "antw:"};
	const char *p = subject != NULL ? subject : "";
	bool again = true;

	while (again) {
		again = false;
		while (*p == ' ' || *p == '\t')
			p++;
		for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes);
		     i++) {
			size_t n = strlen(prefixes[i]);

			if (g_ascii_strncasecmp(p, prefixes[i], n) == 0) {
				p += n;
				again = true;
				break;
			}
		}
	}
	return strdup(p);
}

/*
 * ConversationId (MS-ASEMAIL 2.2.2.21): 16 bytes, the MD5 of the thread
 * root: the first References id, else In-Reply-To, else the own
 * Message-ID, else "subject:" + the lower-cased thread topic.  Every reply
 * that keeps References therefore lands in its root's conversation; MD5
 * is used for spreading, not for security.  Delivery then settles it
 * against the user's mailbox (store_conv_resolve, mailbox/conversation.h):
 * a reply naming only its parent, or only an Outlook Thread-Index, joins
 * the conversation of the message it answers.
 *
 * ConversationIndex: the 22-byte header block of MS-OXOMSG 2.2.1.3 (byte
 * 0x01, FILETIME >> 24 of the Date in five big-endian bytes, then the
 * ConversationId as GUID); no child blocks, since the date of the root is
 * not known from a single message.  thread_index() may replace it.
 */
static void
conversation(struct message_summary *s, const char *first_ref,
	     const char *first_reply)
{
	GChecksum *md5 = g_checksum_new(G_CHECKSUM_MD5);
	gsize n = MESSAGE_CONVERSATION_ID_BYTES;
	uint64_t ft;

	if (first_ref != NULL)
		g_checksum_update(md5, (const guchar *)first_ref, -1);
	else if (first_reply != NULL)
		g_checksum_update(md5, (const guchar *)first_reply, -1);
	else if (s->message_id != NULL)
		g_checksum_update(md5, (const guchar *)s->message_id, -1);
	else {
		gchar *lower = g_utf8_strdown(
		    s->thread_topic != NULL ? s->thread_topic : "", -1);

		g_checksum_update(md5, (const guchar *)"subject:", -1);
		g_checksum_update(md5, (const guchar *)lower, -1);
		g_free(lower);
	}
	g_checksum_get_digest(md5, s->conversation_id, &n);
	g_checksum_free(md5);
	ft = s->date > -MIME_FILETIME_EPOCH_S
		 ? ((uint64_t)(s->date + MIME_FILETIME_EPOCH_S)) * 10000000u
		 : 0;
	s->conversation_index[0] = 0x01;
	for (int i = 0; i < 5; i++)
		s->conversation_index[1 + i] =
		    (uint8_t)(ft >> (24 + 8 * (4 - i)));
	memcpy(s->conversation_index + 6, s->conversation_id,
	       MESSAGE_CONVERSATION_ID_BYTES);
}

/*
 * Outlook and Exchange send the thread's own index as "Thread-Index"
 * (base64 of PidTagConversationIndex, MS-OXOMSG 2.2.1.3).  Its 22-byte
 * header block is the same for the whole thread and dates its start, so
 * it orders better than our per-message one: use it when it is well
 * formed (22 bytes plus whole 5-byte child blocks).  ConversationId stays
 * References-based so threads mixing Outlook and other clients do not
 * split.
 */
static void
thread_index(struct message_summary *s, GMimeObject *obj)
{
	const char *v = g_mime_object_get_header(obj, "Thread-Index");
	gchar *text;
	guchar *raw;
	gsize len = 0;

	if (v == NULL || strlen(v) > 1024)
		return;
	text = g_strstrip(g_strdup(v));
	raw = g_base64_decode(text, &len);
	if (raw != NULL && len >= MESSAGE_CONVERSATION_INDEX_BYTES &&
	    (len - MESSAGE_CONVERSATION_INDEX_BYTES) % 5 == 0 && raw[0] == 1)
		memcpy(s->conversation_index, raw,
		       MESSAGE_CONVERSATION_INDEX_BYTES);
	g_free(raw);
	g_free(text);
}

/* Append one code point as UTF-8. */
static void
put_unichar(GString *out, gunichar c)
{
	char tmp[8];
	int n;

	if (c == 0 || !g_unichar_validate(c))
		c = 0xfffd;
	n = g_unichar_to_utf8(c, tmp);
	g_string_append_len(out, tmp, n);
}

/* Inline (phrasing) tags do not separate words: "<b>W</b>orld". */
static bool
inline_tag(const char *t, size_t len)
{
	static const char *const names[] = {
	    "a",     "b",   "i",   "u",   "em",   "strong", "span",  "font",
	    "small", "big", "sub", "sup", "code", "s",      "strike"};
	size_t n = 0;

	if (len > 0 && *t == '/') {
		t++;
		len--;
	}
	while (n < len && g_ascii_isalnum(t[n]))
		n++;
	for (size_t k = 0; k < sizeof(names) / sizeof(*names); k++)
		if (strlen(names[k]) == n &&
		    g_ascii_strncasecmp(t, names[k], n) == 0)
			return true;
	return false;
}

/* HTML to plain text for the preview: tags dropped (block tags become a
 * space, inline ones nothing), script/style/comments skipped, common
 * entities decoded. */
static GString *
html_to_text(const char *h, size_t len)
{
	GString *out = g_string_new(NULL);
	size_t i = 0;

	while (i < len && out->len < 4 * MIME_PREVIEW_CHARS * 4) {
		if (h[i] == '<') {
			const char *skip_to = NULL;
			const char *end;

			if (len - i >= 4 && memcmp(h + i, "<!--", 4) == 0)
				skip_to = "-->";
			else if (len - i >= 7 &&
				 g_ascii_strncasecmp(h + i, "<script", 7) == 0)
				skip_to = "</script";
			else if (len - i >= 6 &&
				 g_ascii_strncasecmp(h + i, "<style", 6) == 0)
				skip_to = "</style";
			if (skip_to != NULL) {
				end = g_strstr_len(h + i, (gssize)(len - i),
						   skip_to);
				if (end == NULL)
					break;
				i = (size_t)(end - h) + strlen(skip_to);
				if (skip_to[0] == '-') { /* comment done */
					g_string_append_c(out, ' ');
					continue;
				}
			}
			end = memchr(h + i, '>', len - i);
			if (end == NULL)
				break;
			if (!inline_tag(h + i + 1, (size_t)(end - h - i - 1)))
				g_string_append_c(out, ' ');
			i = (size_t)(end - h) + 1;
		} else if (h[i] == '&') {
			static const struct {
				const char *name;
				gunichar c;
			} ents[] = {{"amp;", '&'},   {"lt;", '<'},
				    {"gt;", '>'},    {"quot;", '"'},
				    {"apos;", '\''}, {"nbsp;", ' '},
				    {"#39;", '\''}};
			bool done = false;

			for (size_t e = 0; e < sizeof(ents) / sizeof(*ents);
			     e++) {
				size_t n = strlen(ents[e].name);

				if (len - i - 1 >= n &&
				    g_ascii_strncasecmp(h + i + 1, ents[e].name,
							n) == 0) {
					put_unichar(out, ents[e].c);
					i += 1 + n;
					done = true;
					break;
				}
			}
			if (!done && len - i > 2 && h[i + 1] == '#') {
				size_t j = i + 2;
				unsigned long c = 0;
				bool hex =
				    j < len && (h[j] == 'x' || h[j] == 'X');

				if (hex)
					j++;
				while (j < len && j - i < 10 &&
				       (hex ? isxdigit((unsigned char)h[j])
					    : isdigit((unsigned char)h[j]))) {
					c = c * (hex ? 16 : 10) +
					    (unsigned long)g_ascii_xdigit_value(
						h[j]);
					j++;
				}
				if (j < len && h[j] == ';' && c <= 0x10ffff) {
					put_unichar(out, (gunichar)c);
					i = j + 1;
					done = true;
				}
			}
			if (!done)
				g_string_append_c(out, h[i++]);
		} else {
			g_string_append_c(out, h[i++]);
		}
	}
	return out;
}

/* Whitespace collapsed, trimmed, at most MIME_PREVIEW_CHARS characters. */
static char *
preview_of(const char *text, size_t len)
{
	GString *out = g_string_new(NULL);
	const char *p = text, *end = text + len;
	size_t chars = 0;
	bool space = false;
	char *ret;

	while (p < end && chars < MIME_PREVIEW_CHARS) {
		gunichar c = g_utf8_get_char_validated(p, end - p);
		const char *next;

		if (c == (gunichar)-1 || c == (gunichar)-2)
			break;
		next = utf8_next(p);
		if (g_unichar_isspace(c) || c == 0xa0 || g_unichar_iscntrl(c)) {
			space = out->len > 0;
		} else {
			if (space) {
				g_string_append_c(out, ' ');
				chars++;
				space = false;
				if (chars >= MIME_PREVIEW_CHARS)
					break;
			}
			g_string_append_len(out, p, next - p);
			chars++;
		}
		p = next;
	}
	ret = strdup(out->str);
	g_string_free(out, TRUE);
	return ret;
}

/* MS-ASEMAIL 2.2.2.49 MessageClass; MS-ASEMAIL 2.2.2.15 ContentClass. */
static void
classify(struct message_summary *s, const char *top_type)
{
	const char *mc = "IPM.Note";
	const struct message_meeting *m = s->meeting;

	if (m != NULL && m->method == MESSAGE_METHOD_REQUEST)
		mc = "IPM.Schedule.Meeting.Request";
	else if (m != NULL && m->method == MESSAGE_METHOD_CANCEL)
		mc = "IPM.Schedule.Meeting.Canceled";
	else if (m != NULL && (m->method == MESSAGE_METHOD_REPLY ||
			       m->method == MESSAGE_METHOD_COUNTER)) {
		enum message_attendee_status st =
		    m->n_attendees > 0 ? m->attendees[0].status
				       : MESSAGE_ATTENDEE_UNKNOWN;

		mc = st == MESSAGE_ATTENDEE_ACCEPTED ? "IPM.Schedule.Meeting."
						       "Resp.Pos"
		     : st == MESSAGE_ATTENDEE_DECLINED
			 ? "IPM.Schedule.Meeting.Resp.Neg"
			 : "IPM.Schedule.Meeting.Resp.Tent";
	} else if (strcmp(top_type, "multipart/signed") == 0)
		mc = "IPM.Note.SMIME.MultipartSigned";
	else if (strcmp(top_type, "application/pkcs7-mime") == 0 ||
		 strcmp(top_type, "application/x-pkcs7-mime") == 0)
		mc = "IPM.Note.SMIME";
	s->message_class = strdup(mc);
	s->content_class = strdup(strncmp(mc, "IPM.Schedule", 12) == 0
				      ? "urn:content-classes:calendarmessage"
				      : "urn:content-classes:message");
}

/* --------------------------------------------------------- entry points */

static GMimeParserOptions *
parser_options(void)
{
	/* Raw 8-bit header bytes: try UTF-8, then windows-1252. */
	static const char *fallback[] = {"UTF-8", "windows-1252", NULL};
	GMimeParserOptions *opts = g_mime_parser_options_new();

	g_mime_parser_options_set_rfc2047_compliance_mode(
	    opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(
	    opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(
	    opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_fallback_charsets(opts, fallback);
	return opts;
}

/* Parse raw bytes into a GMime message (caller unrefs). */
static GMimeMessage *
construct(const uint8_t *raw, size_t len, GMimeParserOptions *opts,
	  const char **error_r)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	if (len == 0) {
		*error_r = "empty message";
		return NULL;
	}
	if (len > MIME_MAX_MESSAGE_BYTES) {
		*error_r = "message too large";
		return NULL;
	}
	/* One copy of the raw bytes: GMime streams own their buffer. */
	stream = g_mime_stream_mem_new_with_buffer((const char *)raw, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, opts);
	g_object_unref(parser);
	g_object_unref(stream);
	if (msg == NULL)
		*error_r = "not an RFC 5322 message";
	return msg;
}

static void
fill_headers(struct message_summary *s, GMimeMessage *msg,
	     GMimeParserOptions *opts, char **first_ref_r, char **first_reply_r)
{
	GMimeObject *obj = GMIME_OBJECT(msg);
	GDateTime *date = g_mime_message_get_date(msg);

	s->from = addresses(msg, GMIME_ADDRESS_TYPE_FROM);
	s->to = addresses(msg, GMIME_ADDRESS_TYPE_TO);
	s->cc = addresses(msg, GMIME_ADDRESS_TYPE_CC);
	s->reply_to = addresses(msg, GMIME_ADDRESS_TYPE_REPLY_TO);
	s->sender = addresses(msg, GMIME_ADDRESS_TYPE_SENDER);
	s->subject = header_dup(g_mime_message_get_subject(msg));
	s->date_header = header_dup(g_mime_object_get_header(obj, "Date"));
	s->date =
	    date != NULL ? (int64_t)g_date_time_to_unix(date) : s->received;
	s->message_id = header_dup(g_mime_message_get_message_id(msg));
	s->in_reply_to = ids_of(
	    opts, g_mime_object_get_header(obj, "In-Reply-To"), first_reply_r);
	s->references = ids_of(
	    opts, g_mime_object_get_header(obj, "References"), first_ref_r);
	s->thread_topic = thread_topic(s->subject);
	s->importance = importance_of(obj);
	s->internet_cpid = MESSAGE_CPID_UTF8;
}

/* Inline = has a Content-ID, not "Content-Disposition: attachment", and
 * referenced as "cid:" from the HTML body (what EAS clients render). */
static void
resolve_inline(struct message_summary *s)
{
	for (size_t i = 0; i < s->n_attachments; i++) {
		struct message_attachment *a = &s->attachments[i];
		char *ref;

		if (!a->is_inline)
			continue;
		a->is_inline = false;
		if (s->html == NULL || a->content_id == NULL)
			continue;
		ref = g_strconcat("cid:", a->content_id, NULL);
		a->is_inline = strstr(s->html, ref) != NULL;
		g_free(ref);
	}
}

int
mime_parse(const uint8_t *raw, size_t len, int64_t received,
	   struct message_summary **summary_r, const char **error_r)
{
	GMimeParserOptions *opts;
	GMimeMessage *msg;
	struct message_summary *s = NULL;
	struct walk w;
	char *first_ref = NULL, *first_reply = NULL, *top_type = NULL;

	*summary_r = NULL;
	*error_r = NULL;
	mime_init();
	opts = parser_options();
	msg = construct(raw, len, opts, error_r);
	if (msg == NULL)
		goto out;
	s = message_summary_new();
	if (s == NULL) {
		*error_r = "out of memory";
		goto out;
	}
	s->received = received;
	fill_headers(s, msg, opts, &first_ref, &first_reply);
	memset(&w, 0, sizeof(w));
	w.mode = WALK_SUMMARY;
	w.s = s;
	walk(&w, g_mime_message_get_mime_part(msg), 0);
	resolve_inline(s);
	if (s->text != NULL && s->text_len > 0)
		s->preview = preview_of(s->text, s->text_len);
	else if (s->html != NULL) {
		GString *t = html_to_text(s->html, s->html_len);

		s->preview = preview_of(t->str, t->len);
		g_string_free(t, TRUE);
	}
	top_type = g_mime_message_get_mime_part(msg) != NULL
		       ? mime_type_of(g_mime_message_get_mime_part(msg))
		       : g_strdup("text/plain");
	classify(s, top_type);
	conversation(s, first_ref, first_reply);
	thread_index(s, GMIME_OBJECT(msg));
	if (s->message_class == NULL || s->content_class == NULL ||
	    s->thread_topic == NULL) {
		*error_r = "out of memory";
		message_summary_free(&s);
		goto out;
	}
	*summary_r = s;
out:
	g_free(top_type);
	free(first_ref);
	free(first_reply);
	if (msg != NULL)
		g_object_unref(msg);
	g_mime_parser_options_free(opts);
	return *summary_r != NULL ? 0 : -1;
}

int
mime_attachment_extract(const uint8_t *raw, size_t len, uint32_t index,
			int (*sink)(void *ctx, const uint8_t *data, size_t len),
			void *ctx, const char **error_r)
{
	GMimeParserOptions *opts;
	GMimeMessage *msg;
	struct walk w;
	int ret = -1;

	*error_r = NULL;
	mime_init();
	opts = parser_options();
	msg = construct(raw, len, opts, error_r);
	if (msg == NULL)
		goto out;
	memset(&w, 0, sizeof(w));
	w.mode = WALK_EXTRACT;
	w.target = index;
	w.sink = sink;
	w.sink_ctx = ctx;
	walk(&w, g_mime_message_get_mime_part(msg), 0);
	if (!w.found)
		*error_r = "no such attachment";
	else if (w.extract_ret != 0)
		*error_r = "aborted by sink";
	else
		ret = 0;
	g_object_unref(msg);
out:
	g_mime_parser_options_free(opts);
	return ret;
}
