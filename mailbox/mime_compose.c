/*
 * GMime side of outgoing composition (API in mailbox/compose.h).  A
 * SendMail, SmartReply or SmartForward arrives from the CAS as the
 * client's raw MIME plus, for the smart commands, the source item's raw
 * MIME from the store; compose_message returns the message for the send
 * queue, the copy for Sent Items and the envelope.
 *
 * Steps: the client's header block is checked on the raw bytes (GMime
 * accepts anything; a phone's message must at least start with header
 * fields); the message is parsed; for SmartReply/SmartForward without
 * ReplaceMime the body is rebuilt from the client's new text and the
 * original (quoted for a reply, appended with a header block and the
 * original's attachments for a forward); then the SendMail header rules
 * apply to every mode: Date and Message-ID added when missing, From set to
 * the user when missing, Forwardees added to To, envelope recipients taken
 * from To, Cc and Bcc, validated, deduplicated and bounded; the saved copy
 * is written with Bcc and the wire copy without it.
 *
 * Body selection mirrors mailbox/mime.c: the first text/plain and the
 * first text/html leaf not marked as an attachment are the bodies; other
 * leaves (and embedded messages) are attachments, those with a Content-ID
 * and no attachment disposition are inline images kept next to the HTML
 * in multipart/related.  Composed bodies are UTF-8 with the transfer
 * encoding GMime finds best for 7-bit transport (quoted-printable or
 * base64); attachments are reused byte for byte.
 *
 * The quoted HTML is sanitized structurally, not semantically: scripts,
 * frames, embedded objects, forms and the original's <head> (with its
 * styles, which would restyle the whole reply) are dropped, as are event
 * handler attributes and javascript:/vbscript: URLs; everything else is
 * re-emitted tag by tag with attributes re-quoted, so markup of the
 * original cannot escape the blockquote's attribute context.
 */
#include "mailbox/compose.h"

#include <ctype.h>
#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mailbox/mime.h"
#include "proto/limits.h"

#define HDR_REPLY_PREFIX "RE: "
#define HDR_FORWARD_PREFIX "FW: "
#define FORWARD_SEPARATOR "---------- Forwarded message ----------"
#define QUOTE_STYLE \
	"margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex"

/* ----------------------------------------------------------- utilities */

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* Valid UTF-8 copy of s, cut on a character boundary at max bytes. */
static char *
utf8_cut(const char *s, size_t max)
{
	gchar *valid;
	size_t n;

	if (s == NULL)
		return g_strdup("");
	valid = g_utf8_make_valid(s, -1);
	n = strlen(valid);
	if (n > max) {
		const gchar *cut = g_utf8_find_prev_char(valid, valid + max);

		n = cut != NULL ? (size_t)(cut - valid) : 0;
		valid[n] = '\0';
	}
	return valid;
}

static bool
ascii_prefix(const char *s, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(end - s) >= n && g_ascii_strncasecmp(s, prefix, n) == 0;
}

/* needle (lower case) occurs in s[0..n) ignoring ASCII case. */
static bool
ascii_contains(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (g_ascii_strncasecmp(s + i, needle, k) == 0)
			return true;
	return false;
}

/*
 * An envelope address we are willing to hand to the relay: local@domain,
 * at most COMPOSE_MAX_ADDRESS_BYTES, no space, control character,
 * bracket, quote or second '@' (quoted local parts are refused: no phone
 * sends them and relays disagree about them).
 */
static bool
address_ok(const char *a)
{
	size_t n;
	const char *at;

	if (a == NULL)
		return false;
	n = strlen(a);
	at = strchr(a, '@');
	if (n == 0 || n > COMPOSE_MAX_ADDRESS_BYTES || at == NULL || at == a ||
	    at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return false;
	for (const unsigned char *p = (const unsigned char *)a; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f || strchr("<>()[],;:\\\"", *p))
			return false;
	return true;
}

bool
compose_address_is_user(const struct compose_user *user, const char *address)
{
	if (user == NULL || address == NULL)
		return false;
	if (user->address != NULL &&
	    g_ascii_strcasecmp(user->address, address) == 0)
		return true;
	for (size_t i = 0; i < user->n_aliases; i++)
		if (user->aliases[i] != NULL &&
		    g_ascii_strcasecmp(user->aliases[i], address) == 0)
			return true;
	return false;
}

/* -------------------------------------------------------- text and HTML */

static void
html_escape(GString *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '&':
			g_string_append(out, "&amp;");
			break;
		case '<':
			g_string_append(out, "&lt;");
			break;
		case '>':
			g_string_append(out, "&gt;");
			break;
		case '"':
			g_string_append(out, "&quot;");
			break;
		case '\r':
			break;
		case '\n':
			g_string_append(out, "<br>\n");
			break;
		default:
			g_string_append_c(out, s[i]);
		}
	}
}

/* Plain text as an HTML fragment. */
static void
text_to_html(GString *out, const char *text)
{
	g_string_append(out, "<div>");
	html_escape(out, text, strlen(text));
	g_string_append(out, "</div>");
}

/*
 * Quote text for a reply: every line gets "> " (">" before a line that is
 * already quoted or empty), CRLF normalized to LF.
 */
static void
quote_text(GString *out, const char *text)
{
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		g_string_append_c(out, '>');
		if (n > 0 && p[0] != '>')
			g_string_append_c(out, ' ');
		g_string_append_len(out, p, (gssize)n);
		g_string_append_c(out, '\n');
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* Tag name at p (letters and digits), its length in *n_r. */
static const char *
tag_name(const char *p, const char *end, size_t *n_r)
{
	const char *q = p;

	while (q < end && g_ascii_isalnum(*q))
		q++;
	*n_r = (size_t)(q - p);
	return p;
}

static bool
name_in(const char *name, size_t n, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strlen(list[i]) == n &&
		    g_ascii_strncasecmp(name, list[i], n) == 0)
			return true;
	return false;
}

/* Elements dropped with everything inside them.  Inline SVG and MathML
 * go too: their animation elements can set URLs after the fact, and mail
 * rarely carries them inline. */
static const char *const html_drop_content[] = {
    "script",   "iframe", "object",   "embed", "applet",   "frameset",
    "frame",    "head",   "noscript", "title", "template", "noembed",
    "textarea", "select", "xml",      "svg",   "math",     NULL};
/* Tags dropped while their content stays. */
static const char *const html_drop_tag[] = {
    "html",  "body",   "meta",   "link",    "base", "form",
    "input", "button", "option", "isindex", NULL};
/* Attributes holding a URL. */
static const char *const html_url_attrs[] = {
    "href",       "xlink:href", "src",      "action", "formaction",
    "background", "lowsrc",     "dynsrc",   "poster", "data",
    "codebase",   "cite",       "longdesc", "usemap", NULL};

/* End of a tag that starts at p ('<'): the '>' outside quotes, or NULL. */
static const char *
tag_end(const char *p, const char *end)
{
	char quote = 0;
	char prev = 0;

	for (const char *q = p + 1; q < end; q++) {
		if (quote != 0) {
			if (*q == quote)
				quote = 0;
			continue;
		}
		if ((*q == '"' || *q == '\'') && prev == '=')
			quote = *q;
		else if (*q == '>')
			return q;
		if (!g_ascii_isspace(*q))
			prev = *q;
	}
	return NULL;
}

/* Skip past the closing tag </name ...>; end if there is none. */
static const char *
skip_element(const char *p, const char *end, const char *name, size_t n)
{
	for (const char *q = p; q + 1 < end; q++) {
		if (q[0] == '<' && q[1] == '/' && (size_t)(end - q - 2) >= n &&
		    g_ascii_strncasecmp(q + 2, name, n) == 0 &&
		    (q + 2 + n == end || !g_ascii_isalnum(q[2 + n]))) {
			const char *e = memchr(q, '>', (size_t)(end - q));

			return e != NULL ? e + 1 : end;
		}
	}
	return end;
}

/*
 * A URL value that would run script when followed.  Browsers decode
 * character references in attribute values and ignore whitespace and
 * control bytes inside the scheme, so both are undone on the first bytes
 * before the scheme is compared ("jav&#x61;script:" is javascript:).
 */
static bool
url_is_script(const char *v, size_t n)
{
	char buf[24];
	size_t k = 0, i = 0;

	while (i < n && k < sizeof(buf) - 1) {
		unsigned long c = (unsigned char)v[i];

		if (v[i] == '&' && i + 1 < n && v[i + 1] == '#') {
			bool hex =
			    i + 2 < n && (v[i + 2] == 'x' || v[i + 2] == 'X');
			size_t j = i + (hex ? 3 : 2), digits = 0;

			c = 0;
			while (j < n && digits < 7 &&
			       (hex ? g_ascii_isxdigit(v[j])
				    : g_ascii_isdigit(v[j]))) {
				c = c * (hex ? 16 : 10) +
				    (unsigned long)(hex ? g_ascii_xdigit_value(
							      v[j])
							: g_ascii_digit_value(
							      v[j]));
				j++;
				digits++;
			}
			if (j < n && v[j] == ';')
				j++;
			i = j;
		} else if (v[i] == '&' &&
			   ascii_prefix(v + i, v + n, "&colon;")) {
			c = ':';
			i += 7;
		} else if (v[i] == '&' &&
			   (ascii_prefix(v + i, v + n, "&tab;") ||
			    ascii_prefix(v + i, v + n, "&newline;"))) {
			i += v[i + 1] == 't' || v[i + 1] == 'T' ? 5 : 9;
			continue;
		} else {
			i++;
		}
		if (c > ' ' && c < 0x7f)
			buf[k++] = (char)g_ascii_tolower((char)c);
	}
	buf[k] = '\0';
	return strncmp(buf, "javascript:", 11) == 0 ||
	       strncmp(buf, "vbscript:", 9) == 0 ||
	       strncmp(buf, "data:text/html", 14) == 0 ||
	       strncmp(buf, "livescript:", 11) == 0;
}

/* Re-emit the attributes in [p, end) that are safe, double-quoted. */
static void
emit_attributes(GString *out, const char *p, const char *end)
{
	while (p < end) {
		const char *name, *val = NULL;
		size_t n, vn = 0;
		bool safe = true;

		while (p < end && (g_ascii_isspace(*p) || *p == '/'))
			p++;
		name = p;
		while (p < end && !g_ascii_isspace(*p) && *p != '=' &&
		       *p != '/' && *p != '"' && *p != '\'')
			p++;
		n = (size_t)(p - name);
		if (n == 0) {
			if (p < end)
				p++; /* a stray quote */
			continue;
		}
		while (p < end && g_ascii_isspace(*p))
			p++;
		if (p < end && *p == '=') {
			p++;
			while (p < end && g_ascii_isspace(*p))
				p++;
			if (p < end && (*p == '"' || *p == '\'')) {
				const char *q =
				    memchr(p + 1, *p, (size_t)(end - p - 1));

				val = p + 1;
				vn = q != NULL ? (size_t)(q - val)
					       : (size_t)(end - val);
				p = q != NULL ? q + 1 : end;
			} else {
				val = p;
				while (p < end && !g_ascii_isspace(*p))
					p++;
				vn = (size_t)(p - val);
			}
		}
		for (size_t i = 0; i < n; i++)
			if (!g_ascii_isalnum(name[i]) && name[i] != '-' &&
			    name[i] != '_' && name[i] != ':')
				safe = false;
		if (n >= 2 && g_ascii_strncasecmp(name, "on", 2) == 0)
			safe = false; /* event handlers */
		if (safe && val != NULL && name_in(name, n, html_url_attrs) &&
		    url_is_script(val, vn))
			safe = false;
		if (safe && val != NULL && n == 5 &&
		    g_ascii_strncasecmp(name, "style", 5) == 0 &&
		    (ascii_contains(val, vn, "expression") ||
		     ascii_contains(val, vn, "script:") ||
		     ascii_contains(val, vn, "&#") ||
		     ascii_contains(val, vn, "\\")))
			safe =
			    false; /* IE CSS expressions, escapes hiding them */
		if (!safe)
			continue;
		g_string_append_c(out, ' ');
		g_string_append_len(out, name, (gssize)n);
		if (val == NULL)
			continue;
		g_string_append(out, "=\"");
		for (size_t i = 0; i < vn; i++) {
			if (val[i] == '"')
				g_string_append(out, "&quot;");
			else if (val[i] == '<')
				g_string_append(out, "&lt;");
			else if (val[i] == '>')
				g_string_append(out, "&gt;");
			else
				g_string_append_c(out, val[i]);
		}
		g_string_append_c(out, '"');
	}
}

/* Append a structurally sanitized copy of html (see the top comment). */
static void
html_sanitize(GString *out, const char *html)
{
	const char *p = html, *end = html + strlen(html);

	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		const char *te, *name;
		bool closing;
		size_t n;

		if (lt == NULL) {
			g_string_append_len(out, p, (gssize)(end - p));
			break;
		}
		g_string_append_len(out, p, (gssize)(lt - p));
		p = lt;
		if (ascii_prefix(p, end, "<!--")) {
			const char *c =
			    g_strstr_len(p + 4, (gssize)(end - p - 4), "-->");

			p = c != NULL ? c + 3 : end;
			continue;
		}
		if (p + 1 < end && (p[1] == '!' || p[1] == '?')) {
			const char *c = memchr(p, '>', (size_t)(end - p));

			p = c != NULL ? c + 1 : end;
			continue;
		}
		closing = p + 1 < end && p[1] == '/';
		name = tag_name(p + 1 + closing, end, &n);
		if (n == 0) {
			g_string_append(out, "&lt;");
			p++;
			continue;
		}
		te = tag_end(p, end);
		if (te == NULL)
			break; /* an unfinished tag: drop the rest */
		if (name_in(name, n, html_drop_content)) {
			p = closing ? te + 1
				    : skip_element(te + 1, end, name, n);
			continue;
		}
		if (name_in(name, n, html_drop_tag)) {
			p = te + 1;
			continue;
		}
		g_string_append_c(out, '<');
		if (closing)
			g_string_append_c(out, '/');
		g_string_append_len(out, name, (gssize)n);
		if (!closing)
			emit_attributes(out, name + n, te);
		if (te > name + n && te[-1] == '/')
			g_string_append(out, " /");
		g_string_append_c(out, '>');
		p = te + 1;
	}
}

/* Tags after which text breaks to a new line. */
static const char *const html_block_tags[] = {
    "br", "p",  "div",        "tr",    "li", "h1", "h2",  "h3", "h4",
    "h5", "h6", "blockquote", "table", "ul", "ol", "pre", "hr", NULL};
/* Elements whose content is not text. */
static const char *const html_skip_tags[] = {"script", "style",    "head",
					     "title",  "template", NULL};

static void
text_put_unichar(GString *out, gunichar c)
{
	char u[8];
	int n;

	if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		c = 0xfffd;
	if (c == 0xa0)
		c = ' ';
	n = g_unichar_to_utf8(c, u);
	g_string_append_len(out, u, n);
}

/* Decode the entity at p ('&'); returns the bytes consumed. */
static size_t
text_entity(GString *out, const char *p, const char *end)
{
	static const struct {
		const char *name;
		gunichar c;
	} named[] = {{"amp;", '&'},  {"lt;", '<'},    {"gt;", '>'},
		     {"quot;", '"'}, {"apos;", '\''}, {"nbsp;", 0xa0}};
	const char *q = p + 1;

	if (q < end && *q == '#') {
		gunichar c = 0;
		bool hex = q + 1 < end && (q[1] == 'x' || q[1] == 'X');
		size_t digits = 0;

		q += hex ? 2 : 1;
		while (q < end && digits < 8 &&
		       (hex ? g_ascii_isxdigit(*q) : g_ascii_isdigit(*q))) {
			c = c * (hex ? 16 : 10) +
			    (gunichar)(hex ? g_ascii_xdigit_value(*q)
					   : g_ascii_digit_value(*q));
			q++;
			digits++;
		}
		if (digits > 0) {
			if (q < end && *q == ';')
				q++;
			text_put_unichar(out, c);
			return (size_t)(q - p);
		}
	}
	for (size_t i = 0; i < G_N_ELEMENTS(named); i++)
		if (ascii_prefix(p + 1, end, named[i].name)) {
			text_put_unichar(out, named[i].c);
			return 1 + strlen(named[i].name);
		}
	g_string_append_c(out, '&');
	return 1;
}

/* A readable plain-text rendering of HTML (for a text alternative). */
static char *
html_to_text(const char *html)
{
	GString *out = g_string_new(NULL);
	const char *p = html, *end = html + strlen(html);

	while (p < end) {
		if (*p == '<') {
			const char *te = tag_end(p, end), *name;
			bool closing = p + 1 < end && p[1] == '/';
			size_t n;

			if (te == NULL)
				break;
			name = tag_name(p + 1 + closing, end, &n);
			if (!closing && name_in(name, n, html_skip_tags))
				p = skip_element(te + 1, end, name, n);
			else
				p = te + 1;
			if (n > 0 && name_in(name, n, html_block_tags) &&
			    out->len > 0 && !g_str_has_suffix(out->str, "\n\n"))
				g_string_append_c(out, '\n');
			continue;
		}
		if (*p == '&') {
			p += text_entity(out, p, end);
			continue;
		}
		if (g_ascii_isspace(*p)) {
			if (out->len > 0 && out->str[out->len - 1] != ' ' &&
			    out->str[out->len - 1] != '\n')
				g_string_append_c(out, ' ');
			p++;
			continue;
		}
		g_string_append_c(out, *p++);
	}
	return g_string_free(out, FALSE);
}

/* ------------------------------------------------------ GMime plumbing */

static GMimeParserOptions *
parser_options(void)
{
	/* Raw 8-bit header bytes: try UTF-8, then windows-1252 (as
	 * mailbox/mime.c does, so both read the same message alike). */
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

/*
 * The client's header block must be header fields (RFC 5322 2.2: a name
 * of printable ASCII but ':', then ':') or folded continuations, with no
 * NUL, ending at an empty line or the end, within the size bound.
 */
static int
check_header_block(const uint8_t *raw, size_t len, const char **error_r)
{
	const uint8_t *p = raw, *end = raw + len;
	size_t fields = 0;

	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		const uint8_t *le = nl != NULL ? nl : end;
		const uint8_t *q = p;

		if ((size_t)(le - raw) > COMPOSE_MAX_HEADER_BLOCK_BYTES) {
			*error_r = "header block too large";
			return -1;
		}
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p)
			break; /* the empty line before the body */
		if (memchr(p, '\0', (size_t)(le - p)) != NULL) {
			*error_r = "NUL byte in the header block";
			return -1;
		}
		if (*p == ' ' || *p == '\t') {
			if (fields == 0) {
				*error_r = "message starts with a folded line";
				return -1;
			}
		} else {
			while (q<le && * q> ' ' && *q < 0x7f && *q != ':')
				q++;
			if (q == p || q == le || *q != ':') {
				*error_r = "header block has a line that is "
					   "not a header field";
				return -1;
			}
			fields++;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (fields == 0) {
		*error_r = "no header fields";
		return -1;
	}
	return 0;
}

static GMimeMessage *
construct(const uint8_t *raw, size_t len)
{
	GMimeParserOptions *opts = parser_options();
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	stream = g_mime_stream_mem_new_with_buffer((const char *)raw, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, opts);
	g_object_unref(parser);
	g_object_unref(stream);
	g_mime_parser_options_free(opts);
	return msg;
}

/* Serialize with CRLF line ends; -1 if over COMPOSE_MAX_OUTPUT_BYTES. */
static int
serialize(GMimeObject *obj, uint8_t **out_r, size_t *len_r)
{
	GMimeStream *stream = g_mime_stream_mem_new();
	GMimeFormatOptions *fo = g_mime_format_options_new();
	GByteArray *ba;
	ssize_t n;
	int ret = -1;

	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	n = g_mime_object_write_to_stream(obj, fo, stream);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
	if (n < 0 || ba == NULL || ba->len > COMPOSE_MAX_OUTPUT_BYTES)
		goto out;
	*out_r = malloc((size_t)ba->len + 1);
	if (*out_r == NULL)
		goto out;
	memcpy(*out_r, ba->data, ba->len);
	(*out_r)[ba->len] = '\0';
	*len_r = ba->len;
	ret = 0;
out:
	g_mime_format_options_free(fo);
	g_object_unref(stream);
	return ret;
}

static char *
lower_mime_type(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *t = ct != NULL ? g_mime_content_type_get_mime_type(ct)
			     : g_strdup("text/plain");
	char *l = g_ascii_strdown(t, -1);

	g_free(t);
	return l;
}

/* Bodies and other parts of one message (references owned by the tree). */
struct parts {
	GMimeTextPart *text;
	GMimeTextPart *html;
	GPtrArray *inlines;     /* GMimeObject with a Content-ID */
	GPtrArray *attachments; /* every other leaf */
	bool skip_calendar;     /* drop the meeting part (of an original) */
	bool calendar_seen;
	bool too_deep;
};

static void
parts_init(struct parts *p, bool skip_calendar)
{
	memset(p, 0, sizeof(*p));
	p->inlines = g_ptr_array_new();
	p->attachments = g_ptr_array_new();
	p->skip_calendar = skip_calendar;
}

static void
parts_clear(struct parts *p)
{
	g_ptr_array_free(p->inlines, TRUE);
	g_ptr_array_free(p->attachments, TRUE);
}

/* Sort the leaves (see the body selection rules at the top). */
static void
walk(struct parts *p, GMimeObject *obj, unsigned depth)
{
	GMimeContentDisposition *d;
	bool attachment;
	char *type;

	if (obj == NULL)
		return;
	/* MIME_MAX_DEPTH bounds the recursion, as in mailbox/mime.c. */
	if (depth > MIME_MAX_DEPTH) {
		p->too_deep = true;
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);

		for (int i = 0; i < n; i++)
			walk(p, g_mime_multipart_get_part(mp, i), depth + 1);
		return;
	}
	if (!GMIME_IS_PART(obj) && !GMIME_IS_MESSAGE_PART(obj))
		return;
	d = g_mime_object_get_content_disposition(obj);
	attachment = d != NULL && g_mime_content_disposition_is_attachment(d);
	type = lower_mime_type(obj);
	if (!attachment && GMIME_IS_TEXT_PART(obj) &&
	    strcmp(type, "text/plain") == 0 && p->text == NULL)
		p->text = GMIME_TEXT_PART(obj);
	else if (!attachment && GMIME_IS_TEXT_PART(obj) &&
		 strcmp(type, "text/html") == 0 && p->html == NULL)
		p->html = GMIME_TEXT_PART(obj);
	else if (!attachment && strcmp(type, "text/calendar") == 0 &&
		 p->skip_calendar && !p->calendar_seen)
		p->calendar_seen = true;
	else if (!attachment && GMIME_IS_PART(obj) &&
		 g_mime_object_get_content_id(obj) != NULL)
		g_ptr_array_add(p->inlines, obj);
	else
		g_ptr_array_add(p->attachments, obj);
	g_free(type);
}

/* A body's text as valid UTF-8, at most max bytes; "" if none (g_free). */
static char *
body_text(GMimeTextPart *tp, size_t max)
{
	char *raw, *out;

	if (tp == NULL)
		return g_strdup("");
	raw = g_mime_text_part_get_text(tp);
	out = utf8_cut(raw, max);
	g_free(raw);
	return out;
}

static GMimeObject *
new_text_part(const char *subtype, const char *text)
{
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype(subtype);
	GMimePart *part = GMIME_PART(tp);

	g_mime_text_part_set_text(tp, text);
	g_mime_text_part_set_charset(tp, "utf-8");
	/* Long lines or 8-bit text: GMime picks quoted-printable or base64. */
	g_mime_part_set_content_encoding(
	    part, g_mime_part_get_best_content_encoding(
		      part, GMIME_ENCODING_CONSTRAINT_7BIT));
	return GMIME_OBJECT(tp);
}

/* The original's headers for attribution and the forward block. */
struct orig_info {
	char *from;    /* display text */
	char *to;      /* display text */
	char *date;    /* the Date header as sent, or "" */
	char *subject; /* decoded, or "" */
};

static char *
address_text(GMimeMessage *msg, GMimeAddressType type)
{
	InternetAddressList *l = g_mime_message_get_addresses(msg, type);
	char *s, *out;

	if (l == NULL || internet_address_list_length(l) == 0)
		return g_strdup("");
	s = internet_address_list_to_string(l, NULL, FALSE);
	out = utf8_cut(s, MIME_MAX_HEADER_BYTES);
	g_free(s);
	return out;
}

static void
orig_info_fill(struct orig_info *o, GMimeMessage *orig)
{
	const char *date = g_mime_object_get_header(GMIME_OBJECT(orig), "Date");

	o->from = address_text(orig, GMIME_ADDRESS_TYPE_FROM);
	o->to = address_text(orig, GMIME_ADDRESS_TYPE_TO);
	o->date = g_strstrip(utf8_cut(date, MIME_MAX_HEADER_BYTES));
	o->subject =
	    utf8_cut(g_mime_message_get_subject(orig), MIME_MAX_HEADER_BYTES);
}

static void
orig_info_clear(struct orig_info *o)
{
	g_free(o->from);
	g_free(o->to);
	g_free(o->date);
	g_free(o->subject);
}

/* "On <date>, <from> wrote:" (without the date if there was none). */
static char *
attribution(const struct orig_info *o)
{
	if (o->date[0] != '\0')
		return g_strdup_printf("On %s, %s wrote:", o->date, o->from);
	return g_strdup_printf("%s wrote:", o->from);
}

static void
forward_block_text(GString *out, const struct orig_info *o)
{
	g_string_append_printf(out,
			       FORWARD_SEPARATOR "\nFrom: %s\nDate: %s\n"
						 "Subject: %s\nTo: %s\n\n",
			       o->from, o->date, o->subject, o->to);
}

static void
forward_block_html(GString *out, const struct orig_info *o)
{
	const char *names[] = {"From", "Date", "Subject", "To"};
	const char *vals[] = {o->from, o->date, o->subject, o->to};

	g_string_append(out, "<div>" FORWARD_SEPARATOR "<br>\n");
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		g_string_append_printf(out, "%s: ", names[i]);
		html_escape(out, vals[i], strlen(vals[i]));
		g_string_append(out, "<br>\n");
	}
	g_string_append(out, "</div><br>\n");
}

/*
 * Insert the quoted fragment into the client's HTML before its </body>
 * (or at the end when there is none), so the client's document stays one
 * document.
 */
static char *
html_with_fragment(const char *client_html, const char *fragment)
{
	const char *end = client_html + strlen(client_html);
	const char *at = end;
	GString *out;

	for (const char *q = client_html; q + 7 <= end; q++)
		if (q[0] == '<' && g_ascii_strncasecmp(q, "</body", 6) == 0)
			at = q;
	out = g_string_sized_new((gsize)(end - client_html) + strlen(fragment));
	g_string_append_len(out, client_html, at - client_html);
	g_string_append(out, fragment);
	g_string_append(out, at);
	return g_string_free(out, FALSE);
}

/*
 * Build the SmartReply/SmartForward body: the client's parts plus the
 * original's content, as
 *   mixed( alternative( text, related( html, inline images ) ),
 *          attachments )
 * with each level present only when it has more than one child.
 */
static GMimeObject *
build_body(GMimeMessage *client, GMimeMessage *orig, bool forward)
{
	struct parts cp, op;
	struct orig_info oi;
	GMimeObject *text_obj, *html_obj = NULL, *top;
	GString *text = g_string_new(NULL), *frag = g_string_new(NULL);
	char *ct, *ch = NULL, *ot, *oh = NULL, *attr, *html;
	GPtrArray *inlines = g_ptr_array_new();
	GPtrArray *atts = g_ptr_array_new();

	parts_init(&cp, false);
	parts_init(&op, true);
	walk(&cp, g_mime_message_get_mime_part(client), 0);
	walk(&op, g_mime_message_get_mime_part(orig), 0);
	orig_info_fill(&oi, orig);

	/* The client's own text is kept whole (it is bounded by
	 * COMPOSE_MAX_CLIENT_MIME_BYTES); derived and quoted text is cut. */
	if (cp.html != NULL)
		ch = body_text(cp.html, COMPOSE_MAX_CLIENT_MIME_BYTES);
	if (cp.text != NULL) {
		ct = body_text(cp.text, COMPOSE_MAX_CLIENT_MIME_BYTES);
	} else if (ch != NULL) {
		char *cut = utf8_cut(ch, COMPOSE_MAX_QUOTE_BYTES);

		ct = html_to_text(cut);
		g_free(cut);
	} else {
		ct = g_strdup("");
	}
	if (op.html != NULL)
		oh = body_text(op.html, COMPOSE_MAX_QUOTE_BYTES);
	if (op.text != NULL)
		ot = body_text(op.text, COMPOSE_MAX_QUOTE_BYTES);
	else if (oh != NULL)
		ot = html_to_text(oh);
	else
		ot = g_strdup("");

	/* Plain text: new text, then the quote or the forwarded block. */
	attr = attribution(&oi);
	g_string_append(text, ct);
	if (text->len > 0 && text->str[text->len - 1] != '\n')
		g_string_append_c(text, '\n');
	g_string_append_c(text, '\n');
	if (forward) {
		forward_block_text(text, &oi);
		g_string_append(text, ot);
	} else {
		g_string_append(text, attr);
		g_string_append_c(text, '\n');
		quote_text(text, ot);
	}
	text_obj = new_text_part("plain", text->str);

	/* HTML when either side has it. */
	if (ch != NULL || oh != NULL) {
		GString *orig_html = g_string_new(NULL);

		if (oh != NULL)
			html_sanitize(orig_html, oh);
		else
			text_to_html(orig_html, ot);
		g_string_append(frag, "<div><br>\n");
		if (forward) {
			forward_block_html(frag, &oi);
			g_string_append(frag, orig_html->str);
		} else {
			html_escape(frag, attr, strlen(attr));
			g_string_append(frag, "<br>\n<blockquote type=\"cite\" "
					      "style=\"" QUOTE_STYLE "\">\n");
			g_string_append(frag, orig_html->str);
			g_string_append(frag, "\n</blockquote>");
		}
		g_string_append(frag, "</div>\n");
		g_string_free(orig_html, TRUE);
		if (ch == NULL) {
			GString *h = g_string_new(NULL);
			char *cut = utf8_cut(ct, COMPOSE_MAX_QUOTE_BYTES);

			text_to_html(h, cut);
			g_free(cut);
			ch = g_string_free(h, FALSE);
		}
		html = html_with_fragment(ch, frag->str);
		html_obj = new_text_part("html", html);
		g_free(html);
	}

	/* Parts: the client's own always; the original's inline images
	 * with the quoted HTML (reply and forward), its other attachments
	 * for a forward only. */
	for (guint i = 0; i < cp.inlines->len; i++)
		g_ptr_array_add(inlines, cp.inlines->pdata[i]);
	for (guint i = 0; i < cp.attachments->len; i++)
		g_ptr_array_add(atts, cp.attachments->pdata[i]);
	if (html_obj != NULL && oh != NULL)
		for (guint i = 0; i < op.inlines->len; i++)
			g_ptr_array_add(inlines, op.inlines->pdata[i]);
	else if (forward)
		for (guint i = 0; i < op.inlines->len; i++)
			g_ptr_array_add(atts, op.inlines->pdata[i]);
	if (forward)
		for (guint i = 0; i < op.attachments->len; i++)
			g_ptr_array_add(atts, op.attachments->pdata[i]);

	if (html_obj != NULL && inlines->len > 0) {
		GMimeMultipart *rel =
		    g_mime_multipart_new_with_subtype("related");

		/* RFC 2387 3.1: type names the root part's type. */
		g_mime_content_type_set_parameter(
		    g_mime_object_get_content_type(GMIME_OBJECT(rel)), "type",
		    "text/html");
		g_mime_multipart_add(rel, html_obj);
		g_object_unref(html_obj);
		for (guint i = 0; i < inlines->len; i++)
			g_mime_multipart_add(rel, inlines->pdata[i]);
		html_obj = GMIME_OBJECT(rel);
	} else {
		/* No HTML to show them in: plain attachments. */
		for (guint i = 0; i < inlines->len; i++)
			g_ptr_array_add(atts, inlines->pdata[i]);
	}
	if (html_obj != NULL) {
		GMimeMultipart *alt =
		    g_mime_multipart_new_with_subtype("alternative");

		g_mime_multipart_add(alt, text_obj);
		g_mime_multipart_add(alt, html_obj);
		g_object_unref(text_obj);
		g_object_unref(html_obj);
		top = GMIME_OBJECT(alt);
	} else {
		top = text_obj;
	}
	if (atts->len > 0) {
		GMimeMultipart *mixed =
		    g_mime_multipart_new_with_subtype("mixed");

		g_mime_multipart_add(mixed, top);
		g_object_unref(top);
		for (guint i = 0; i < atts->len; i++)
			g_mime_multipart_add(mixed, atts->pdata[i]);
		top = GMIME_OBJECT(mixed);
	}

	g_free(attr);
	g_free(ct);
	g_free(ch);
	g_free(ot);
	g_free(oh);
	g_string_free(text, TRUE);
	g_string_free(frag, TRUE);
	g_ptr_array_free(inlines, TRUE);
	g_ptr_array_free(atts, TRUE);
	orig_info_clear(&oi);
	parts_clear(&cp);
	parts_clear(&op);
	return top;
}

/* ------------------------------------------------------------- headers */

/* "<id>" for each id of header text, in order (at most max+1 read). */
static void
ids_append(GPtrArray *ids, const char *text)
{
	GMimeReferences *refs;

	if (text == NULL)
		return;
	refs = g_mime_references_parse(NULL, text);
	if (refs == NULL)
		return;
	for (int i = 0; i < g_mime_references_length(refs); i++)
		g_ptr_array_add(
		    ids, g_strdup(g_mime_references_get_message_id(refs, i)));
	g_mime_references_free(refs);
}

/*
 * RFC 5322 3.6.4: In-Reply-To is the parent's Message-ID; References is
 * the parent's References (or its In-Reply-To) followed by its
 * Message-ID.  A client that set them itself is left alone.
 */
static void
reply_headers(GMimeMessage *client, GMimeMessage *orig)
{
	GMimeObject *c = GMIME_OBJECT(client), *o = GMIME_OBJECT(orig);
	const char *oid = g_mime_message_get_message_id(orig);
	GPtrArray *ids;
	GString *refs;
	guint first;

	if (oid == NULL || *oid == '\0')
		return;
	if (g_mime_object_get_header(c, "In-Reply-To") == NULL) {
		char *v = g_strdup_printf("<%s>", oid);

		g_mime_object_set_header(c, "In-Reply-To", v, NULL);
		g_free(v);
	}
	if (g_mime_object_get_header(c, "References") != NULL)
		return;
	ids = g_ptr_array_new_with_free_func(g_free);
	ids_append(ids, g_mime_object_get_header(o, "References"));
	if (ids->len == 0)
		ids_append(ids, g_mime_object_get_header(o, "In-Reply-To"));
	g_ptr_array_add(ids, g_strdup(oid));
	/* Keep the thread's root and the newest ids within the bound. */
	refs = g_string_new(NULL);
	first = ids->len > COMPOSE_MAX_REFERENCES
		    ? ids->len - (COMPOSE_MAX_REFERENCES - 1)
		    : 1;
	g_string_append_printf(refs, "<%s>", (char *)ids->pdata[0]);
	for (guint i = first; i < ids->len; i++)
		g_string_append_printf(refs, " <%s>", (char *)ids->pdata[i]);
	g_mime_object_set_header(c, "References", refs->str, NULL);
	g_string_free(refs, TRUE);
	g_ptr_array_free(ids, TRUE);
}

/* Subject "RE: x" / "FW: x" when the client sent none. */
static void
smart_subject(GMimeMessage *client, GMimeMessage *orig, bool forward)
{
	const char *prefix = forward ? HDR_FORWARD_PREFIX : HDR_REPLY_PREFIX;
	const char *os = g_mime_message_get_subject(orig);
	char *s;

	if (g_mime_message_get_subject(client) != NULL || os == NULL)
		return;
	if (g_ascii_strncasecmp(os, prefix, strlen(prefix)) == 0)
		s = g_strdup(os);
	else
		s = g_strconcat(prefix, os, NULL);
	g_mime_message_set_subject(client, s, "utf-8");
	g_free(s);
}

static const char *
id_domain(const struct compose_user *user)
{
	const char *at;

	if (user->message_id_domain != NULL && *user->message_id_domain)
		return user->message_id_domain;
	at = strrchr(user->address, '@');
	return at != NULL && at[1] != '\0' ? at + 1 : "localhost";
}

static void
set_date(GMimeMessage *msg, int64_t now)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(now);

	if (dt == NULL)
		dt = g_date_time_new_now_utc();
	g_mime_message_set_date(msg, dt);
	g_date_time_unref(dt);
}

/* ------------------------------------------------------------ envelope */

struct envelope {
	GPtrArray *rcpts; /* char * (g_free) */
	size_t entries;   /* before deduplication */
	enum compose_status status;
	const char *error;
};

static bool
envelope_has(const struct envelope *env, const char *addr)
{
	for (guint i = 0; i < env->rcpts->len; i++)
		if (g_ascii_strcasecmp(env->rcpts->pdata[i], addr) == 0)
			return true;
	return false;
}

/*
 * Add one address.  Deduplication ignores ASCII case in the local part
 * too: RFC 5321 lets a server tell "Bob" from "bob", no real one does,
 * and a phone that lists a person twice should not send twice.
 */
static int
envelope_add(struct envelope *env, const char *addr)
{
	if (++env->entries > COMPOSE_MAX_ADDRESS_ENTRIES) {
		env->status = COMPOSE_STATUS_TOO_MANY_RECIPIENTS;
		env->error = "too many recipient entries";
		return -1;
	}
	if (!address_ok(addr)) {
		env->status = COMPOSE_STATUS_BAD_ADDRESS;
		env->error = "a recipient is not a valid address";
		return -1;
	}
	if (envelope_has(env, addr))
		return 0;
	if (env->rcpts->len >= COMPOSE_MAX_RECIPIENTS) {
		env->status = COMPOSE_STATUS_TOO_MANY_RECIPIENTS;
		env->error = "too many recipients";
		return -1;
	}
	g_ptr_array_add(env->rcpts, g_strdup(addr));
	return 0;
}

/* Every mailbox of a list, groups flattened (RFC 5322 3.4). */
static int
envelope_add_list(struct envelope *env, InternetAddressList *list,
		  unsigned depth)
{
	int n = list != NULL ? internet_address_list_length(list) : 0;

	for (int i = 0; i < n; i++) {
		InternetAddress *ia =
		    internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *a = internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(ia));

			if (envelope_add(env, a) != 0)
				return -1;
		} else if (INTERNET_ADDRESS_IS_GROUP(ia) && depth == 0) {
			/* Groups do not nest in RFC 5322; one level. */
			if (envelope_add_list(
				env,
				internet_address_group_get_members(
				    INTERNET_ADDRESS_GROUP(ia)),
				depth + 1) != 0)
				return -1;
		}
	}
	return 0;
}

/* Forwardees: validated, added to To unless already a recipient. */
static int
add_forwardees(GMimeMessage *msg, const struct compose_request *req,
	       struct envelope *env)
{
	InternetAddressList *to =
	    g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO);

	for (size_t i = 0; i < req->n_forwardees; i++) {
		const struct compose_forwardee *f = &req->forwardees[i];

		if (!address_ok(f->email)) {
			env->status = COMPOSE_STATUS_BAD_ADDRESS;
			env->error = "a forwardee is not a valid address";
			return -1;
		}
		if (envelope_has(env, f->email))
			continue;
		if (envelope_add(env, f->email) != 0)
			return -1;
		internet_address_list_add(
		    to, internet_address_mailbox_new(f->name, f->email));
	}
	return 0;
}

/* -------------------------------------------------------- compose_message */

void
compose_result_free(struct compose_result **result)
{
	struct compose_result *r;

	if (result == NULL || *result == NULL)
		return;
	r = *result;
	free(r->wire);
	free(r->saved);
	free(r->mail_from);
	for (size_t i = 0; i < r->n_rcpts; i++)
		free(r->rcpts[i]);
	free(r->rcpts);
	free(r->from_address);
	free(r->message_id);
	free(r);
	*result = NULL;
}

static int
fail(enum compose_status *status_r, const char **error_r,
     enum compose_status status, const char *error)
{
	*status_r = status;
	*error_r = error;
	return -1;
}

/* Fill r's From fields, adding From when the client left it out (and
 * replacing a foreign one when asked). */
static int
from_header(GMimeMessage *msg, const struct compose_user *user, bool rewrite,
	    struct compose_result *r)
{
	InternetAddressList *from = g_mime_message_get_from(msg);
	const char *addr = NULL;
	char *name = NULL;

	for (int i = 0; from != NULL && i < internet_address_list_length(from);
	     i++) {
		InternetAddress *ia =
		    internet_address_list_get_address(from, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			addr = internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(ia));
			if (internet_address_get_name(ia) != NULL)
				name = g_strdup(internet_address_get_name(ia));
			break;
		}
	}
	if (addr != NULL && rewrite && !compose_address_is_user(user, addr)) {
		/* The device's display name, the user's address. */
		while (g_mime_object_remove_header(GMIME_OBJECT(msg), "From"))
			;
		from = g_mime_message_get_from(msg);
		internet_address_list_add(
		    from, internet_address_mailbox_new(
			      name != NULL ? name : user->display_name,
			      user->address));
		addr = user->address;
		r->from_rewritten = true;
	}
	g_free(name);
	if (addr == NULL) {
		/* Drop an empty or group-only From before adding ours. */
		g_mime_object_remove_header(GMIME_OBJECT(msg), "From");
		from = g_mime_message_get_from(msg);
		internet_address_list_add(
		    from, internet_address_mailbox_new(user->display_name,
						       user->address));
		addr = user->address;
	}
	r->from_address = strdup(addr);
	r->from_is_user = compose_address_is_user(user, addr);
	return r->from_address != NULL ? 0 : -1;
}

int
compose_message(const struct compose_user *user,
		const struct compose_request *req,
		struct compose_result **result_r, enum compose_status *status_r,
		const char **error_r)
{
	GMimeMessage *msg = NULL, *orig = NULL;
	struct compose_result *r = NULL;
	struct envelope env = {0};
	struct parts check;
	bool smart;
	int ret = -1;

	*result_r = NULL;
	*status_r = COMPOSE_STATUS_OK;
	*error_r = NULL;
	if (user == NULL || req == NULL || !address_ok(user->address))
		return fail(status_r, error_r, COMPOSE_STATUS_INTERNAL,
			    "bad user or request");
	if (req->mime == NULL || req->mime_len == 0)
		return fail(status_r, error_r, COMPOSE_STATUS_MIME,
			    "empty message");
	if (req->mime_len > COMPOSE_MAX_CLIENT_MIME_BYTES)
		return fail(status_r, error_r, COMPOSE_STATUS_TOO_LARGE,
			    "message too large");
	if (check_header_block(req->mime, req->mime_len, error_r) != 0) {
		*status_r = COMPOSE_STATUS_MIME;
		return -1;
	}
	smart = req->mode != COMPOSE_SENDMAIL && !req->replace_mime;
	if (smart && (req->original == NULL || req->original_len == 0 ||
		      req->original_len > MIME_MAX_MESSAGE_BYTES))
		return fail(status_r, error_r, COMPOSE_STATUS_ORIGINAL,
			    "no usable source item");

	mime_init();
	env.rcpts = g_ptr_array_new_with_free_func(g_free);
	msg = construct(req->mime, req->mime_len);
	if (msg == NULL) {
		fail(status_r, error_r, COMPOSE_STATUS_MIME,
		     "not an RFC 5322 message");
		goto out;
	}
	parts_init(&check, false);
	walk(&check, g_mime_message_get_mime_part(msg), 0);
	parts_clear(&check);
	if (check.too_deep) {
		fail(status_r, error_r, COMPOSE_STATUS_MIME,
		     "MIME nesting too deep");
		goto out;
	}

	if (smart) {
		orig = construct(req->original, req->original_len);
		if (orig == NULL) {
			fail(status_r, error_r, COMPOSE_STATUS_ORIGINAL,
			     "source item is not a message");
			goto out;
		}
		GMimeObject *body =
		    build_body(msg, orig, req->mode == COMPOSE_FORWARD);

		g_mime_message_set_mime_part(msg, body);
		g_object_unref(body);
		if (req->mode == COMPOSE_REPLY)
			reply_headers(msg, orig);
		smart_subject(msg, orig, req->mode == COMPOSE_FORWARD);
	}

	/* The SendMail rules, for every mode (MS-ASCMD 2.2.1.15). */
	if (g_mime_message_get_date(msg) == NULL)
		set_date(msg, req->now);
	if (g_mime_message_get_message_id(msg) == NULL) {
		char *id = g_mime_utils_generate_message_id(id_domain(user));

		g_mime_message_set_message_id(msg, id);
		g_free(id);
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL ||
	    from_header(msg, user, req->rewrite_foreign_from, r) != 0) {
		fail(status_r, error_r, COMPOSE_STATUS_INTERNAL,
		     "out of memory");
		goto out;
	}
	if (envelope_add_list(
		&env, g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO),
		0) != 0 ||
	    envelope_add_list(
		&env, g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC),
		0) != 0 ||
	    envelope_add_list(
		&env, g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_BCC),
		0) != 0 ||
	    add_forwardees(msg, req, &env) != 0) {
		fail(status_r, error_r, env.status, env.error);
		goto out;
	}
	if (env.rcpts->len == 0) {
		fail(status_r, error_r, COMPOSE_STATUS_NO_RECIPIENTS,
		     "message has no recipient");
		goto out;
	}

	/* Sent Items keeps Bcc; the wire copy must not reveal it. */
	if (serialize(GMIME_OBJECT(msg), &r->saved, &r->saved_len) != 0) {
		fail(status_r, error_r, COMPOSE_STATUS_TOO_LARGE,
		     "composed message too large");
		goto out;
	}
	/* remove_header drops one field; a message may repeat Bcc. */
	while (g_mime_object_remove_header(GMIME_OBJECT(msg), "Bcc"))
		;
	while (g_mime_object_remove_header(GMIME_OBJECT(msg), "Resent-Bcc"))
		;
	if (serialize(GMIME_OBJECT(msg), &r->wire, &r->wire_len) != 0) {
		fail(status_r, error_r, COMPOSE_STATUS_TOO_LARGE,
		     "composed message too large");
		goto out;
	}
	r->mail_from = strdup(user->address);
	r->message_id = dup_or_null(g_mime_message_get_message_id(msg));
	r->rcpts = calloc(env.rcpts->len, sizeof(*r->rcpts));
	if (r->mail_from == NULL || r->message_id == NULL || r->rcpts == NULL) {
		fail(status_r, error_r, COMPOSE_STATUS_INTERNAL,
		     "out of memory");
		goto out;
	}
	for (guint i = 0; i < env.rcpts->len; i++) {
		r->rcpts[i] = strdup(env.rcpts->pdata[i]);
		if (r->rcpts[i] == NULL) {
			fail(status_r, error_r, COMPOSE_STATUS_INTERNAL,
			     "out of memory");
			goto out;
		}
		r->n_rcpts++;
	}
	*result_r = r;
	r = NULL;
	ret = 0;
out:
	compose_result_free(&r);
	g_ptr_array_free(env.rcpts, TRUE);
	if (orig != NULL)
		g_object_unref(orig);
	if (msg != NULL)
		g_object_unref(msg);
	return ret;
}

/* ------------------------------------------------- auto-reply services */

void
compose_headers_free(struct compose_headers **headers)
{
	struct compose_headers *h;

	if (headers == NULL || *headers == NULL)
		return;
	h = *headers;
	free(h->from_address);
	free(h->return_path);
	for (size_t i = 0; i < h->n_recipients; i++)
		free(h->recipients[i]);
	free(h->recipients);
	free(h->auto_submitted);
	free(h->precedence);
	free(h->message_id);
	free(h->references);
	free(h->subject);
	free(h);
	*headers = NULL;
}

/* A header value trimmed, valid UTF-8, bounded; NULL if absent. */
static char *
header_value(GMimeObject *obj, const char *name)
{
	const char *v = g_mime_object_get_header(obj, name);
	char *g, *out;

	if (v == NULL)
		return NULL;
	g = g_strstrip(utf8_cut(v, MIME_MAX_HEADER_BYTES));
	out = strdup(g);
	g_free(g);
	return out;
}

static int
recipients_add(struct compose_headers *h, InternetAddressList *list,
	       unsigned depth)
{
	int n = list != NULL ? internet_address_list_length(list) : 0;

	for (int i = 0; i < n; i++) {
		InternetAddress *ia =
		    internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_GROUP(ia) && depth == 0) {
			if (recipients_add(h,
					   internet_address_group_get_members(
					       INTERNET_ADDRESS_GROUP(ia)),
					   depth + 1) != 0)
				return -1;
		} else if (INTERNET_ADDRESS_IS_MAILBOX(ia) &&
			   h->n_recipients < COMPOSE_MAX_ADDRESS_ENTRIES) {
			const char *a = internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(ia));

			if (a == NULL || *a == '\0')
				continue;
			h->recipients[h->n_recipients] = strdup(a);
			if (h->recipients[h->n_recipients] == NULL)
				return -1;
			h->n_recipients++;
		}
	}
	return 0;
}

int
compose_headers_read(const uint8_t *raw, size_t len,
		     struct compose_headers **headers_r, const char **error_r)
{
	struct compose_headers *h = NULL;
	GMimeMessage *msg = NULL;
	GMimeObject *obj;
	GMimeHeaderList *hl;
	InternetAddressList *from;
	int ret = -1;

	*headers_r = NULL;
	*error_r = NULL;
	if (raw == NULL || len == 0 || len > MIME_MAX_MESSAGE_BYTES) {
		*error_r = "empty or oversized message";
		return -1;
	}
	mime_init();
	msg = construct(raw, len);
	if (msg == NULL) {
		*error_r = "not an RFC 5322 message";
		return -1;
	}
	obj = GMIME_OBJECT(msg);
	h = calloc(1, sizeof(*h));
	if (h != NULL)
		h->recipients =
		    calloc(COMPOSE_MAX_ADDRESS_ENTRIES, sizeof(*h->recipients));
	if (h == NULL || h->recipients == NULL)
		goto oom;
	from = g_mime_message_get_from(msg);
	for (int i = 0; from != NULL && i < internet_address_list_length(from);
	     i++) {
		InternetAddress *ia =
		    internet_address_list_get_address(from, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			h->from_address =
			    dup_or_null(internet_address_mailbox_get_addr(
				INTERNET_ADDRESS_MAILBOX(ia)));
			break;
		}
	}
	h->return_path = header_value(obj, "Return-Path");
	if (h->return_path != NULL) {
		/* "<a@b>" -> "a@b"; "<>" -> "" (RFC 5321 4.4). */
		char *rp = h->return_path;
		size_t n = strlen(rp);

		if (n >= 2 && rp[0] == '<' && rp[n - 1] == '>') {
			memmove(rp, rp + 1, n - 2);
			rp[n - 2] = '\0';
		}
	}
	if (recipients_add(
		h, g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO),
		0) != 0 ||
	    recipients_add(
		h, g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC),
		0) != 0)
		goto oom;
	h->auto_submitted = header_value(obj, "Auto-Submitted");
	h->precedence = header_value(obj, "Precedence");
	hl = g_mime_object_get_header_list(obj);
	for (int i = 0; hl != NULL && i < g_mime_header_list_get_count(hl);
	     i++) {
		const char *name = g_mime_header_get_name(
		    g_mime_header_list_get_header_at(hl, i));

		/* RFC 2369 List-Help, -Unsubscribe, ...; RFC 2919 List-Id. */
		if (name != NULL && g_ascii_strncasecmp(name, "List-", 5) == 0)
			h->has_list_headers = true;
	}
	h->message_id = dup_or_null(g_mime_message_get_message_id(msg));
	h->references = header_value(obj, "References");
	if (g_mime_message_get_subject(msg) != NULL) {
		char *s = utf8_cut(g_mime_message_get_subject(msg),
				   MIME_MAX_HEADER_BYTES);

		h->subject = strdup(s);
		g_free(s);
		if (h->subject == NULL)
			goto oom;
	}
	*headers_r = h;
	h = NULL;
	ret = 0;
	goto out;
oom:
	*error_r = "out of memory";
out:
	compose_headers_free(&h);
	g_object_unref(msg);
	return ret;
}

int
compose_simple_build(const struct compose_simple *m, struct buf *out,
		     const char **error_r)
{
	GMimeMessage *msg;
	GMimeObject *obj, *body;
	GPtrArray *ids;
	char *id;
	uint8_t *raw = NULL;
	size_t len = 0;
	int ret = -1;

	*error_r = NULL;
	if (m == NULL || !address_ok(m->from_address) ||
	    !address_ok(m->to_address) || m->body == NULL) {
		*error_r = "bad sender, recipient or body";
		return -1;
	}
	mime_init();
	msg = g_mime_message_new(TRUE);
	obj = GMIME_OBJECT(msg);
	internet_address_list_add(
	    g_mime_message_get_from(msg),
	    internet_address_mailbox_new(m->from_name, m->from_address));
	internet_address_list_add(
	    g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO),
	    internet_address_mailbox_new(NULL, m->to_address));
	g_mime_message_set_subject(msg, m->subject != NULL ? m->subject : "",
				   "utf-8");
	set_date(msg, m->now);
	id = g_mime_utils_generate_message_id(
	    m->message_id_domain != NULL && *m->message_id_domain
		? m->message_id_domain
		: strrchr(m->from_address, '@') + 1);
	g_mime_message_set_message_id(msg, id);
	g_free(id);
	if (m->in_reply_to != NULL && *m->in_reply_to != '\0') {
		GString *refs = g_string_new(NULL);
		char *irt = g_strdup_printf("<%s>", m->in_reply_to);
		guint first;

		g_mime_object_set_header(obj, "In-Reply-To", irt, NULL);
		g_free(irt);
		ids = g_ptr_array_new_with_free_func(g_free);
		ids_append(ids, m->references);
		g_ptr_array_add(ids, g_strdup(m->in_reply_to));
		first = ids->len > COMPOSE_MAX_REFERENCES
			    ? ids->len - (COMPOSE_MAX_REFERENCES - 1)
			    : 1;
		g_string_append_printf(refs, "<%s>", (char *)ids->pdata[0]);
		for (guint i = first; i < ids->len; i++)
			g_string_append_printf(refs, " <%s>",
					       (char *)ids->pdata[i]);
		g_mime_object_set_header(obj, "References", refs->str, NULL);
		g_string_free(refs, TRUE);
		g_ptr_array_free(ids, TRUE);
	}
	if (m->auto_submitted != NULL)
		g_mime_object_set_header(obj, "Auto-Submitted",
					 m->auto_submitted, NULL);
	{
		char *text = utf8_cut(m->body, AUTOREPLY_MAX_MESSAGE_BYTES);

		body = new_text_part(m->body_is_html ? "html" : "plain", text);
		g_free(text);
	}
	g_mime_message_set_mime_part(msg, body);
	g_object_unref(body);
	if (serialize(obj, &raw, &len) != 0 || buf_append(out, raw, len) != 0)
		*error_r = "message too large";
	else
		ret = 0;
	free(raw);
	g_object_unref(msg);
	return ret;
}
