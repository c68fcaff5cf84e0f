/*
 * Autodiscover request parsing and response building; see autodiscover.h.
 * Network input arrives here as a POX body (parsed by a libxml2 SAX push
 * parser: no tree is built, every callback checks depth and field bounds
 * and stops the parser on the first violation) or as a v2 JSON request
 * target (split and percent-decoded by hand into fixed-size fields).  Output
 * goes into a caller's bounded struct buf; a builder that fails leaves the
 * buffer as it found it.
 */
#include "proto/autodiscover.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

/* ---------------------------------------------------------------- text */

/*
 * Length of the UTF-8 sequence at s (at most avail bytes) and its code
 * point, or 0 when it is not valid UTF-8: truncated, overlong, a UTF-16
 * surrogate or beyond U+10FFFF (RFC 3629 section 3).
 */
static size_t
ad_utf8_next(const unsigned char *s, size_t avail, uint32_t *cp_r)
{
	uint32_t cp, min;
	size_t n;

	if (avail == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp_r = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1fu;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0fu;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07u;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return n;
}

/* Undo a failed builder's partial output (buf.h keeps data NUL-ended). */
static void
ad_rollback(struct buf *out, size_t start)
{
	out->len = start;
	if (out->data != NULL)
		out->data[start] = 0;
}

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
static const char ad_replacement[] = "\xef\xbf\xbd";

int
autodiscover_xml_escape(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s), start = out->len;

	while (left > 0) {
		uint32_t cp = 0;
		size_t n = ad_utf8_next(p, left, &cp);
		const char *rep = NULL;
		int ret;

		if (n == 0) {
			/* one bad byte becomes one U+FFFD; go on after it */
			n = 1;
			rep = ad_replacement;
		} else if (cp == '&') {
			rep = "&amp;";
		} else if (cp == '<') {
			rep = "&lt;";
		} else if (cp == '>') {
			rep = "&gt;";
		} else if (cp == '"') {
			rep = "&quot;";
		} else if (cp == '\'') {
			rep = "&apos;";
		} else if (cp == '\r') {
			/* a raw CR would be normalised away by the reader */
			rep = "&#13;";
		} else if ((cp < 0x20 && cp != '\t' && cp != '\n') ||
			   cp == 0xfffe || cp == 0xffff) {
			/* XML 1.0 section 2.2 Char production */
			rep = ad_replacement;
		}
		if (rep != NULL)
			ret = buf_append_str(out, rep);
		else
			ret = buf_append(out, p, n);
		if (ret != 0) {
			ad_rollback(out, start);
			return -1;
		}
		p += n;
		left -= n;
	}
	return 0;
}

int
autodiscover_json_escape(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s), start = out->len;

	while (left > 0) {
		uint32_t cp = 0;
		size_t n = ad_utf8_next(p, left, &cp);
		int ret;

		if (n == 0) {
			n = 1;
			ret = buf_append_str(out, "\\ufffd");
		} else if (cp == '"') {
			ret = buf_append_str(out, "\\\"");
		} else if (cp == '\\') {
			ret = buf_append_str(out, "\\\\");
		} else if (cp == '\n') {
			ret = buf_append_str(out, "\\n");
		} else if (cp == '\r') {
			ret = buf_append_str(out, "\\r");
		} else if (cp == '\t') {
			ret = buf_append_str(out, "\\t");
		} else if (cp < 0x20 || cp == 0x7f || cp == '<' || cp == '>' ||
			   cp == '&' || cp == '\'') {
			/* RFC 8259 section 7 requires < 0x20; the HTML-special
			 * characters are escaped too so that a body sniffed as
			 * HTML cannot carry markup */
			ret = buf_printf(out, "\\u%04x", (unsigned)cp);
		} else {
			ret = buf_append(out, p, n);
		}
		if (ret != 0) {
			ad_rollback(out, start);
			return -1;
		}
		p += n;
		left -= n;
	}
	return 0;
}

/* ---------------------------------------------------------------- address */

/* A dot-atom-like part: 1..max bytes, no leading, trailing or double dot. */
static bool
ad_dotted_ok(const char *s, size_t len, size_t max)
{
	if (len == 0 || len > max || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i + 1 < len; i++)
		if (s[i] == '.' && s[i + 1] == '.')
			return false;
	return true;
}

bool
autodiscover_address_valid(const char *address)
{
	const unsigned char *p = (const unsigned char *)address;
	size_t len, left, at = 0, ats = 0;

	if (address == NULL)
		return false;
	len = strnlen(address, AUTODISCOVER_MAX_ADDRESS_BYTES + 1);
	if (len < 3 || len > AUTODISCOVER_MAX_ADDRESS_BYTES)
		return false;
	left = len;
	while (left > 0) {
		uint32_t cp = 0;
		size_t n = ad_utf8_next(p, left, &cp);

		if (n == 0 || cp < 0x21 || cp == 0x7f ||
		    (cp < 0x80 && strchr("\"(),:;<>[\\]", (int)cp) != NULL))
			return false;
		if (cp == '@') {
			at = len - left;
			ats++;
		}
		p += n;
		left -= n;
	}
	if (ats != 1)
		return false;
	return ad_dotted_ok(address, at, AUTODISCOVER_MAX_LOCAL_PART_BYTES) &&
	       ad_dotted_ok(address + at + 1, len - at - 1, len);
}

int
autodiscover_pick_address(const char *body_address, const char *http_user,
			  const char *default_domain, char *address_r,
			  size_t address_size)
{
	const char *user, *slash;
	int n;

	if (address_r == NULL || address_size == 0)
		return -1;
	address_r[0] = '\0';
	if (body_address != NULL && body_address[0] != '\0') {
		if (!autodiscover_address_valid(body_address))
			return -1;
		n = snprintf(address_r, address_size, "%s", body_address);
		goto check;
	}
	if (http_user == NULL || http_user[0] == '\0')
		return -1;
	/* "DOMAIN\user" from Windows-style clients: keep the user */
	user = http_user;
	slash = strrchr(user, '\\');
	if (slash != NULL)
		user = slash + 1;
	if (strchr(user, '@') != NULL) {
		if (!autodiscover_address_valid(user))
			return -1;
		n = snprintf(address_r, address_size, "%s", user);
		goto check;
	}
	if (user[0] == '\0' || default_domain == NULL ||
	    default_domain[0] == '\0')
		return -1;
	n = snprintf(address_r, address_size, "%s@%s", user, default_domain);
check:
	if (n < 0 || (size_t)n >= address_size ||
	    !autodiscover_address_valid(address_r)) {
		address_r[0] = '\0';
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- POX parse */

/* Which request element's text is being collected. */
enum ad_field {
	AD_FIELD_NONE,
	AD_FIELD_EMAIL,
	AD_FIELD_SCHEMA,
};

/*
 * Raw text of one field, before white space is trimmed: the longer field
 * bound plus room for the indentation of a pretty-printed request.  Text
 * beyond it is refused, so a field never costs more than this.
 */
#define AD_TEXT_MAX_BYTES (AUTODISCOVER_MAX_SCHEMA_BYTES + 256)

/* SAX parser state; lives on autodiscover_request_parse's stack. */
struct ad_sax {
	struct autodiscover_request *req;
	xmlParserCtxtPtr ctxt;
	unsigned depth;
	/* the root's namespace, copied: children must share it */
	char ns[AUTODISCOVER_MAX_SCHEMA_BYTES + 1];
	bool has_ns;
	bool seen_request, seen_email, seen_schema;
	/* depth of the Request element while inside it, else 0 */
	unsigned request_depth;
	enum ad_field field;
	char text[AD_TEXT_MAX_BYTES];
	size_t text_len;
	/* our own refusal (status in req); libxml2 errors come separately */
	bool failed;
	/* first libxml2 error, for req->error */
	bool xml_error;
	int xml_error_line;
	char xml_error_msg[120];
};

static void
ad_fail(struct ad_sax *st, enum autodiscover_status status, const char *msg)
{
	if (st->failed)
		return;
	st->failed = true;
	st->req->status = status;
	snprintf(st->req->error, sizeof(st->req->error), "%s", msg);
	if (st->ctxt != NULL)
		xmlStopParser(st->ctxt);
}

static bool
ad_same_ns(const struct ad_sax *st, const xmlChar *uri)
{
	if (uri == NULL)
		return !st->has_ns;
	return st->has_ns && strcmp((const char *)uri, st->ns) == 0;
}

/* Outlook's response schemas (…/2006 and …/2006a) share this prefix. */
static const char ad_outlook_response_prefix[] =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/"
    "responseschema/";

static enum autodiscover_schema
ad_classify_schema(const char *schema)
{
	/* MS-ASCMD 2.2.3.1: the value MUST be the mobilesync response
	 * schema; desktop Outlook asks for its own (…/2006a). */
	if (strcmp(schema, AUTODISCOVER_NS_MOBILESYNC_RESPONSE) == 0)
		return AUTODISCOVER_SCHEMA_MOBILESYNC;
	if (strncmp(schema, ad_outlook_response_prefix,
		    sizeof(ad_outlook_response_prefix) - 1) == 0)
		return AUTODISCOVER_SCHEMA_OUTLOOK;
	return AUTODISCOVER_SCHEMA_OTHER;
}

static void
ad_sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
	     const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
	     int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	struct ad_sax *st = ctx;
	const char *name = (const char *)localname;

	(void)prefix;
	(void)nb_namespaces;
	(void)namespaces;
	(void)nb_attributes;
	(void)nb_defaulted;
	(void)attributes;
	if (st->failed)
		return;
	st->depth++;
	if (st->depth > AUTODISCOVER_MAX_DEPTH) {
		ad_fail(st, AUTODISCOVER_ERR_DEPTH,
			"elements nested too deeply");
		return;
	}
	if (st->field != AD_FIELD_NONE) {
		ad_fail(st, AUTODISCOVER_ERR_SCHEMA,
			st->field == AD_FIELD_EMAIL
			    ? "EMailAddress holds an element"
			    : "AcceptableResponseSchema holds an element");
		return;
	}
	if (st->depth == 1) {
		/* MS-ASCMD 6.3: the root is Autodiscover.  Its namespace is
		 * recorded, not enforced: the answer depends on
		 * AcceptableResponseSchema alone. */
		if (strcmp(name, "Autodiscover") != 0) {
			ad_fail(st, AUTODISCOVER_ERR_SCHEMA,
				"the root element is not Autodiscover");
			return;
		}
		if (uri != NULL) {
			if (strlen((const char *)uri) >= sizeof(st->ns)) {
				ad_fail(st, AUTODISCOVER_ERR_SCHEMA,
					"namespace name too long");
				return;
			}
			snprintf(st->ns, sizeof(st->ns), "%s",
				 (const char *)uri);
			st->has_ns = true;
			st->req->outlook_request =
			    strcmp(st->ns, AUTODISCOVER_NS_OUTLOOK_REQUEST) ==
			    0;
		}
		return;
	}
	if (!ad_same_ns(st, uri))
		return; /* foreign elements are skipped (depth still counts) */
	if (st->depth == 2 && strcmp(name, "Request") == 0) {
		/* MS-ASCMD 2.2.3.150.1: several Requests get error 600 */
		if (st->seen_request) {
			ad_fail(st, AUTODISCOVER_ERR_SCHEMA,
				"more than one Request element");
			return;
		}
		st->seen_request = true;
		st->request_depth = st->depth;
		return;
	}
	if (st->request_depth == 0 || st->depth != st->request_depth + 1)
		return;
	if (strcmp(name, "EMailAddress") == 0) {
		if (st->seen_email) {
			ad_fail(st, AUTODISCOVER_ERR_SCHEMA,
				"more than one EMailAddress element");
			return;
		}
		st->seen_email = true;
		st->field = AD_FIELD_EMAIL;
	} else if (strcmp(name, "AcceptableResponseSchema") == 0) {
		if (st->seen_schema) {
			ad_fail(st, AUTODISCOVER_ERR_SCHEMA,
				"more than one AcceptableResponseSchema");
			return;
		}
		st->seen_schema = true;
		st->field = AD_FIELD_SCHEMA;
	}
	/* other children (LegacyDN from Outlook) are ignored */
	st->text_len = 0;
}

static bool
ad_is_xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The collected text, white space trimmed, into dst (size dst_size); false
 * when it does not fit. */
static bool
ad_take_text(struct ad_sax *st, char *dst, size_t dst_size)
{
	size_t b = 0, e = st->text_len;

	while (b < e && ad_is_xml_space(st->text[b]))
		b++;
	while (e > b && ad_is_xml_space(st->text[e - 1]))
		e--;
	if (e - b >= dst_size)
		return false;
	memcpy(dst, st->text + b, e - b);
	dst[e - b] = '\0';
	return true;
}

static void
ad_sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
	   const xmlChar *uri)
{
	struct ad_sax *st = ctx;
	struct autodiscover_request *req = st->req;

	(void)localname;
	(void)prefix;
	(void)uri;
	if (st->failed || st->depth == 0)
		return;
	if (st->field == AD_FIELD_EMAIL) {
		if (!ad_take_text(st, req->email, sizeof(req->email))) {
			ad_fail(st, AUTODISCOVER_ERR_ADDRESS,
				"EMailAddress is too long");
			return;
		}
		/* MS-ASCMD 2.2.3.56: an SMTP address (an empty one means
		 * "use the HTTP user", see autodiscover_pick_address) */
		if (req->email[0] != '\0' &&
		    !autodiscover_address_valid(req->email)) {
			ad_fail(st, AUTODISCOVER_ERR_ADDRESS,
				"EMailAddress is not a valid address");
			return;
		}
	} else if (st->field == AD_FIELD_SCHEMA) {
		if (!ad_take_text(st, req->response_schema,
				  sizeof(req->response_schema))) {
			ad_fail(st, AUTODISCOVER_ERR_SCHEMA,
				"AcceptableResponseSchema is too long");
			return;
		}
	}
	st->field = AD_FIELD_NONE;
	if (st->depth == st->request_depth)
		st->request_depth = 0;
	st->depth--;
}

static void
ad_sax_text(void *ctx, const xmlChar *ch, int len)
{
	struct ad_sax *st = ctx;

	if (st->failed || st->field == AD_FIELD_NONE || len <= 0)
		return;
	if ((size_t)len > sizeof(st->text) - st->text_len) {
		ad_fail(st,
			st->field == AD_FIELD_EMAIL ? AUTODISCOVER_ERR_ADDRESS
						    : AUTODISCOVER_ERR_SCHEMA,
			st->field == AD_FIELD_EMAIL
			    ? "EMailAddress is too long"
			    : "AcceptableResponseSchema is too long");
		return;
	}
	memcpy(st->text + st->text_len, ch, (size_t)len);
	st->text_len += (size_t)len;
}

/* Any DOCTYPE: refused before its internal subset is even read, so no
 * entity can be declared (billion laughs) or fetched (XXE). */
static void
ad_sax_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
	       const xmlChar *system_id)
{
	(void)name;
	(void)external_id;
	(void)system_id;
	ad_fail(ctx, AUTODISCOVER_ERR_DTD, "a DOCTYPE is not allowed");
}

/* Belt and braces: entity declarations only occur inside a DOCTYPE. */
static void
ad_sax_entity_decl(void *ctx, const xmlChar *name, int type,
		   const xmlChar *public_id, const xmlChar *system_id,
		   xmlChar *content)
{
	(void)name;
	(void)type;
	(void)public_id;
	(void)system_id;
	(void)content;
	ad_fail(ctx, AUTODISCOVER_ERR_DTD, "an entity declaration");
}

/* libxml2's errors are recorded, never printed (the first one wins). */
static void
ad_sax_error(void *ctx, xmlErrorPtr err)
{
	struct ad_sax *st = ctx;
	size_t n;

	if (err == NULL || err->level < XML_ERR_ERROR || st->xml_error)
		return;
	st->xml_error = true;
	st->xml_error_line = err->line;
	snprintf(st->xml_error_msg, sizeof(st->xml_error_msg), "%s",
		 err->message != NULL ? err->message : "XML error");
	n = strlen(st->xml_error_msg);
	while (n > 0 && ad_is_xml_space(st->xml_error_msg[n - 1]))
		st->xml_error_msg[--n] = '\0';
	/* some messages span lines ("Bytes: 0x.."): keep the log one line */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)st->xml_error_msg[i] < 0x20)
			st->xml_error_msg[i] = ' ';
}

void
autodiscover_init(void)
{
	xmlInitParser();
}

static void
ad_request_reset(struct autodiscover_request *req)
{
	memset(req, 0, sizeof(*req));
	req->schema = AUTODISCOVER_SCHEMA_OTHER;
	req->status = AUTODISCOVER_OK;
}

int
autodiscover_request_parse(const uint8_t *body, size_t len,
			   struct autodiscover_request *req_r)
{
	xmlSAXHandler sax;
	struct ad_sax st;
	xmlStructuredErrorFunc prev_handler;
	void *prev_context;
	size_t first;
	int rc;

	ad_request_reset(req_r);
	if (len > AUTODISCOVER_MAX_BODY_BYTES) {
		req_r->status = AUTODISCOVER_ERR_TOO_LARGE;
		snprintf(req_r->error, sizeof(req_r->error),
			 "body of %zu bytes exceeds %u", len,
			 (unsigned)AUTODISCOVER_MAX_BODY_BYTES);
		return -1;
	}
	if (len == 0) {
		req_r->status = AUTODISCOVER_ERR_XML;
		snprintf(req_r->error, sizeof(req_r->error), "empty body");
		return -1;
	}
	memset(&st, 0, sizeof(st));
	st.req = req_r;
	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = ad_sax_start;
	sax.endElementNs = ad_sax_end;
	sax.characters = ad_sax_text;
	sax.cdataBlock = ad_sax_text;
	sax.internalSubset = ad_sax_doctype;
	sax.externalSubset = ad_sax_doctype;
	sax.entityDecl = ad_sax_entity_decl;
	sax.serror = ad_sax_error;
	/* no getEntity: any reference beyond the five predefined entities
	 * is an undeclared-entity error */

	xmlInitParser();
	/* Encoding and I/O errors are raised without the parser context and
	 * would go to stderr: route them to this parse's state too.  The
	 * handler is per thread in libxml2, and restored below. */
	prev_handler = xmlStructuredError;
	prev_context = xmlStructuredErrorContext;
	xmlSetStructuredErrorFunc(&st, ad_sax_error);
	/* The first 4 bytes let libxml2 detect the encoding (UTF-16 BOMs). */
	first = len < 4 ? len : 4;
	st.ctxt = xmlCreatePushParserCtxt(&sax, &st, (const char *)body,
					  (int)first, NULL);
	if (st.ctxt == NULL) {
		xmlSetStructuredErrorFunc(prev_context, prev_handler);
		req_r->status = AUTODISCOVER_ERR_XML;
		snprintf(req_r->error, sizeof(req_r->error), "out of memory");
		return -1;
	}
	/* NONET: never fetch anything; no NOENT, no DTDLOAD, no HUGE. */
	xmlCtxtUseOptions(st.ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR |
				       XML_PARSE_NOWARNING);
	/* len <= AUTODISCOVER_MAX_BODY_BYTES, so the int cast is exact */
	rc = xmlParseChunk(st.ctxt, (const char *)body + first,
			   (int)(len - first), 1);
	if (!st.failed && (rc != 0 || !st.ctxt->wellFormed || st.xml_error)) {
		req_r->status = AUTODISCOVER_ERR_XML;
		if (st.xml_error && st.xml_error_line > 0)
			snprintf(req_r->error, sizeof(req_r->error),
				 "XML line %d: %s", st.xml_error_line,
				 st.xml_error_msg);
		else if (st.xml_error) /* encoding errors carry no line */
			snprintf(req_r->error, sizeof(req_r->error), "XML: %s",
				 st.xml_error_msg);
		else
			snprintf(req_r->error, sizeof(req_r->error),
				 "malformed XML");
		st.failed = true;
	}
	xmlFreeParserCtxt(st.ctxt);
	st.ctxt = NULL;
	xmlSetStructuredErrorFunc(prev_context, prev_handler);
	if (st.failed)
		goto fail;
	if (!st.seen_request) {
		ad_fail(&st, AUTODISCOVER_ERR_SCHEMA, "no Request element");
		goto fail;
	}
	/* MS-ASCMD 2.2.3.1: AcceptableResponseSchema is required */
	if (!st.seen_schema || req_r->response_schema[0] == '\0') {
		ad_fail(&st, AUTODISCOVER_ERR_SCHEMA,
			"no AcceptableResponseSchema");
		goto fail;
	}
	req_r->schema = ad_classify_schema(req_r->response_schema);
	return 0;
fail:
	/* no half-parsed values escape */
	req_r->email[0] = '\0';
	req_r->response_schema[0] = '\0';
	return -1;
}

unsigned
autodiscover_status_http(enum autodiscover_status status)
{
	switch (status) {
	case AUTODISCOVER_ERR_TOO_LARGE:
		return 413;
	case AUTODISCOVER_ERR_DTD:
	case AUTODISCOVER_ERR_DEPTH:
		return 400;
	case AUTODISCOVER_OK:
	case AUTODISCOVER_ERR_XML:
	case AUTODISCOVER_ERR_SCHEMA:
	case AUTODISCOVER_ERR_ADDRESS:
		break;
	}
	return 200;
}

/* ---------------------------------------------------------------- POX build */

#define AD_XML_DECL "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"

/* Append "<indent><name>escaped text</name>\n". */
static int
ad_xml_leaf(struct buf *out, unsigned indent, const char *name,
	    const char *text)
{
	if (buf_printf(out, "%*s<%s>", (int)(indent * 2), "", name) != 0 ||
	    autodiscover_xml_escape(out, text) != 0 ||
	    buf_printf(out, "</%s>\n", name) != 0)
		return -1;
	return 0;
}

/* A configured URL: http(s), no white space or control characters. */
static bool
ad_url_valid(const char *url)
{
	size_t len;

	if (url == NULL)
		return false;
	len = strnlen(url, AUTODISCOVER_MAX_TARGET_BYTES + 1);
	if (len > AUTODISCOVER_MAX_TARGET_BYTES ||
	    (strncasecmp(url, "https://", 8) != 0 &&
	     strncasecmp(url, "http://", 7) != 0))
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 ||
		    (unsigned char)url[i] == 0x7f)
			return false;
	return true;
}

/* Autodiscover, Response, Culture and User: the head shared by the
 * settings and redirect forms (MS-ASCMD 6.2 element order). */
static int
ad_xml_head(struct buf *out, const struct autodiscover_user *user)
{
	const char *culture;

	if (buf_append_str(
		out, AD_XML_DECL
		"<Autodiscover xmlns=\"" AUTODISCOVER_NS_RESPONSE "\">\n"
		"  <Response xmlns=\"" AUTODISCOVER_NS_MOBILESYNC_RESPONSE
		"\">\n") != 0)
		return -1;
	if (user == NULL)
		return 0;
	culture = user->culture != NULL && user->culture[0] != '\0'
		      ? user->culture
		      : AUTODISCOVER_DEFAULT_CULTURE;
	if (ad_xml_leaf(out, 2, "Culture", culture) != 0 ||
	    buf_append_str(out, "    <User>\n") != 0)
		return -1;
	if (user->display_name != NULL && user->display_name[0] != '\0' &&
	    ad_xml_leaf(out, 3, "DisplayName", user->display_name) != 0)
		return -1;
	/* MS-ASCMD 2.2.3.56: EMailAddress is required inside User */
	if (ad_xml_leaf(out, 3, "EMailAddress", user->email) != 0 ||
	    buf_append_str(out, "    </User>\n") != 0)
		return -1;
	return 0;
}

static const char ad_xml_tail[] = "  </Response>\n</Autodiscover>\n";

int
autodiscover_build_settings(struct buf *out,
			    const struct autodiscover_user *user,
			    const char *url)
{
	size_t start = out->len;

	if (user == NULL || !autodiscover_address_valid(user->email) ||
	    !ad_url_valid(url))
		return -1;
	/* MS-ASCMD 4.2.4: Type MobileSync; Url and Name both carry the URL
	 * (2.2.3.120.1, 2.2.3.188) */
	if (ad_xml_head(out, user) != 0 ||
	    buf_append_str(out, "    <Action>\n"
				"      <Settings>\n"
				"        <Server>\n") != 0 ||
	    ad_xml_leaf(out, 5, "Type", "MobileSync") != 0 ||
	    ad_xml_leaf(out, 5, "Url", url) != 0 ||
	    ad_xml_leaf(out, 5, "Name", url) != 0 ||
	    buf_append_str(out, "        </Server>\n"
				"      </Settings>\n"
				"    </Action>\n") != 0 ||
	    buf_append_str(out, ad_xml_tail) != 0) {
		ad_rollback(out, start);
		return -1;
	}
	return 0;
}

int
autodiscover_build_redirect(struct buf *out,
			    const struct autodiscover_user *user,
			    const char *redirect_address)
{
	size_t start = out->len;

	if ((user != NULL && !autodiscover_address_valid(user->email)) ||
	    !autodiscover_address_valid(redirect_address))
		return -1;
	/* MS-ASCMD 2.2.3.147: Redirect holds the address to retry with */
	if (ad_xml_head(out, user) != 0 ||
	    buf_append_str(out, "    <Action>\n") != 0 ||
	    ad_xml_leaf(out, 3, "Redirect", redirect_address) != 0 ||
	    buf_append_str(out, "    </Action>\n") != 0 ||
	    buf_append_str(out, ad_xml_tail) != 0) {
		ad_rollback(out, start);
		return -1;
	}
	return 0;
}

int
autodiscover_build_error(struct buf *out,
			 const struct autodiscover_error *error)
{
	size_t start = out->len;
	const char *message;
	struct tm tm;

	if (error == NULL)
		return -1;
	switch (error->code) {
	case AUTODISCOVER_ERROR_INVALID_REQUEST:
		message = "Invalid Request";
		break;
	case AUTODISCOVER_ERROR_NO_PROVIDER:
		message = "Provider is not available";
		break;
	default:
		return -1;
	}
	/* MS-ASCMD 6.4: the Response is either the mobilesync one or the
	 * generic one of the response schema (for Outlook and for requests
	 * we could not read) */
	if (buf_append_str(out, AD_XML_DECL
			   "<Autodiscover xmlns=\"" AUTODISCOVER_NS_RESPONSE
			   "\">\n") != 0)
		goto fail;
	if (error->schema == AUTODISCOVER_SCHEMA_MOBILESYNC) {
		if (buf_append_str(
			out, "  <Response "
			     "xmlns=\"" AUTODISCOVER_NS_MOBILESYNC_RESPONSE
			     "\">\n") != 0)
			goto fail;
	} else if (buf_append_str(out, "  <Response>\n") != 0) {
		goto fail;
	}
	if (buf_append_str(out, "    <Error") != 0)
		goto fail;
	/* MS-ASCMD 2.2.3.63: Time is hh:mm:ss, Id identifies the server */
	if (error->time != (time_t)-1 && gmtime_r(&error->time, &tm) != NULL &&
	    buf_printf(out, " Time=\"%02d:%02d:%02d\"", tm.tm_hour, tm.tm_min,
		       tm.tm_sec) != 0)
		goto fail;
	if (error->server_id != 0 &&
	    buf_printf(out, " Id=\"%u\"", (unsigned)error->server_id) != 0)
		goto fail;
	if (buf_printf(out, ">\n      <ErrorCode>%d</ErrorCode>\n",
		       (int)error->code) != 0 ||
	    ad_xml_leaf(out, 3, "Message", message) != 0)
		goto fail;
	if (error->debug_data != NULL && error->debug_data[0] != '\0') {
		if (ad_xml_leaf(out, 3, "DebugData", error->debug_data) != 0)
			goto fail;
	} else if (buf_append_str(out, "      <DebugData />\n") != 0) {
		goto fail;
	}
	if (buf_append_str(out, "    </Error>\n") != 0 ||
	    buf_append_str(out, ad_xml_tail) != 0)
		goto fail;
	return 0;
fail:
	ad_rollback(out, start);
	return -1;
}

/* ---------------------------------------------------------------- v2 JSON */

static int
ad_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s[0..len) into dst (size dst_size, NUL-terminated).  '+'
 * stays '+': it is legal in addresses (user+tag@…) and clients do not
 * encode it, while a space is never valid in what we read.
 */
static int
ad_pct_decode(const char *s, size_t len, char *dst, size_t dst_size,
	      const char **error_r)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3 || (hi = ad_hex(s[i + 1])) < 0 ||
			    (lo = ad_hex(s[i + 2])) < 0) {
				*error_r = "malformed percent escape";
				return -1;
			}
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0) {
			*error_r = "NUL byte in a value";
			return -1;
		}
		if (o + 1 >= dst_size) {
			*error_r = "value too long";
			return -1;
		}
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

static const char ad_json_path[] = "/autodiscover.json";

/* Bounded case-insensitive search (memmem has no case-folding twin). */
static const char *
ad_find_nocase(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (strncasecmp(s + i, needle, n) == 0)
			return s + i;
	return NULL;
}

int
autodiscover_json_parse(const char *target, size_t len,
			struct autodiscover_json_request *req_r,
			const char **error_r)
{
	const char *q, *p, *path_end, *end;
	bool seen_email = false, seen_protocol = false;
	unsigned params = 0;

	memset(req_r, 0, sizeof(*req_r));
	*error_r = NULL;
	if (len > AUTODISCOVER_MAX_TARGET_BYTES) {
		*error_r = "request target too long";
		return -1;
	}
	if (memchr(target, '\0', len) != NULL) {
		*error_r = "NUL byte in the request target";
		return -1;
	}
	end = target + len;
	q = memchr(target, '?', len);
	path_end = q != NULL ? q : end;
	p = ad_find_nocase(target, (size_t)(path_end - target), ad_json_path);
	if (p == NULL) {
		*error_r = "not an autodiscover.json request";
		return -1;
	}
	p += sizeof(ad_json_path) - 1;
	if (p < path_end) {
		/* ".../autodiscover.json/v1.0/<address>" (Outlook mobile) */
		if ((size_t)(path_end - p) < 6 ||
		    strncasecmp(p, "/v1.0/", 6) != 0) {
			*error_r = "unexpected path after autodiscover.json";
			return -1;
		}
		p += 6;
		if (ad_pct_decode(p, (size_t)(path_end - p), req_r->email,
				  sizeof(req_r->email), error_r) != 0)
			return -1;
		seen_email = req_r->email[0] != '\0';
	}
	for (p = q != NULL ? q + 1 : end; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pend = amp != NULL ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pend - p));
		const char *vstart = eq != NULL ? eq + 1 : pend;
		char key[32];
		char *dst = NULL;
		size_t dst_size = 0;

		if (pend > p && ++params > AUTODISCOVER_MAX_QUERY_PARAMS) {
			*error_r = "too many query parameters";
			return -1;
		}
		if (pend > p &&
		    ad_pct_decode(p, (size_t)((eq != NULL ? eq : pend) - p),
				  key, sizeof(key), error_r) == 0) {
			if (strcasecmp(key, "Email") == 0) {
				if (seen_email) {
					*error_r = "Email given twice";
					return -1;
				}
				seen_email = true;
				dst = req_r->email;
				dst_size = sizeof(req_r->email);
			} else if (strcasecmp(key, "Protocol") == 0) {
				if (seen_protocol) {
					*error_r = "Protocol given twice";
					return -1;
				}
				seen_protocol = true;
				dst = req_r->protocol;
				dst_size = sizeof(req_r->protocol);
			}
		}
		/* a key we cannot decode is not one of ours: skip it */
		*error_r = NULL;
		if (dst != NULL &&
		    ad_pct_decode(vstart, (size_t)(pend - vstart), dst,
				  dst_size, error_r) != 0)
			return -1;
		p = amp != NULL ? amp + 1 : end;
	}
	return 0;
}

/* {"ErrorCode":"<code>","ErrorMessage":"<message>"} */
static int
ad_json_error(struct buf *out, const char *code, const char *message)
{
	if (buf_append_str(out, "{\"ErrorCode\":\"") != 0 ||
	    autodiscover_json_escape(out, code) != 0 ||
	    buf_append_str(out, "\",\"ErrorMessage\":\"") != 0 ||
	    autodiscover_json_escape(out, message) != 0 ||
	    buf_append_str(out, "\"}") != 0)
		return -1;
	return 0;
}

int
autodiscover_json_build(struct buf *out, const char *email,
			const char *protocol, const char *url,
			unsigned *http_status_r)
{
	size_t start = out->len;
	int ret;

	if (!ad_url_valid(url))
		return -1;
	if (email == NULL || email[0] == '\0' || protocol == NULL ||
	    protocol[0] == '\0') {
		*http_status_r = 400;
		ret = ad_json_error(out, "InvalidRequest",
				    "The Email and Protocol parameters are "
				    "required");
	} else if (strcasecmp(protocol, "ActiveSync") != 0) {
		char msg[AUTODISCOVER_MAX_PROTOCOL_BYTES + 96];

		/* the echoed value is bounded here and escaped below */
		snprintf(msg, sizeof(msg),
			 "The given protocol value '%.*s' is invalid. "
			 "Supported values are 'ActiveSync'",
			 AUTODISCOVER_MAX_PROTOCOL_BYTES, protocol);
		*http_status_r = 400;
		ret = ad_json_error(out, "InvalidProtocol", msg);
	} else if (!autodiscover_address_valid(email)) {
		*http_status_r = 400;
		ret = ad_json_error(out, "InvalidUser",
				    "The given email address is invalid");
	} else {
		*http_status_r = 200;
		ret = buf_append_str(out,
				     "{\"Protocol\":\"ActiveSync\",\"Url\":\"");
		if (ret == 0)
			ret = autodiscover_json_escape(out, url);
		if (ret == 0)
			ret = buf_append_str(out, "\"}");
	}
	if (ret != 0)
		ad_rollback(out, start);
	return ret;
}
