/*
 * WBXML <-> XML text for people (see wbxml_xml.h for the XML form).
 *
 * decode: WBXML bytes -> streaming decoder events (wbxml_dec) -> a libxml2
 * document built node by node -> layout whitespace added where only
 * elements are nested -> serialized by libxml2 (which escapes <, &, > and
 * CR).  Text that XML cannot carry is split out into wbxml-hex processing
 * instructions before it reaches libxml2, opaque data into wbxml-opaque
 * instructions, folded into the opaque="base64" attribute form when it is
 * an element's whole content.
 *
 * encode: XML text -> libxml2 parser (no DTD, no network, errors collected
 * rather than printed) -> a walk of the tree driving the streaming encoder
 * (wbxml_enc).  Adjacent text and wbxml-hex pieces are coalesced into one
 * STR_I so that decode-then-encode reproduces canonical WBXML exactly.
 */
#include "proto/wbxml_xml.h"

#include "proto/limits.h"
#include "proto/wbxml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WX_PI_HEX "wbxml-hex"
#define WX_PI_OPAQUE "wbxml-opaque"
#define WX_ATTR_OPAQUE "opaque"
#define WX_UNKNOWN_PREFIX "wbxml-token-0x"
/* Longest element or namespace name we build ("wbxml-token-0x3f", page
 * names are shorter than 20 characters). */
#define WX_NAME_BYTES 64

static void wx_error(struct wbxml_xml_error *error_r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
wx_error(struct wbxml_xml_error *error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(error_r->msg, sizeof(error_r->msg), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ base64 */

static const char wx_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
wx_b64_encode(struct buf *out, const uint8_t *data, size_t len)
{
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16 |
			     (uint32_t)data[i + 1] << 8 | data[i + 2];
		char q[4] = {wx_b64[v >> 18], wx_b64[(v >> 12) & 63],
			     wx_b64[(v >> 6) & 63], wx_b64[v & 63]};

		if (buf_append(out, q, 4) != 0)
			return -1;
	}
	if (i < len) {
		uint32_t v = (uint32_t)data[i] << 16;
		char q[4];

		if (i + 1 < len)
			v |= (uint32_t)data[i + 1] << 8;
		q[0] = wx_b64[v >> 18];
		q[1] = wx_b64[(v >> 12) & 63];
		q[2] = i + 1 < len ? wx_b64[(v >> 6) & 63] : '=';
		q[3] = '=';
		if (buf_append(out, q, 4) != 0)
			return -1;
	}
	return 0;
}

static int
wx_b64_value(uint8_t c)
{
	const char *p;

	if (c == 0)
		return -1;
	p = strchr(wx_b64, c);
	return p != NULL ? (int)(p - wx_b64) : -1;
}

/* Strict base64 (RFC 4648 alphabet, padding required); XML whitespace
 * between characters is ignored. */
static int
wx_b64_decode(struct buf *out, const uint8_t *s, size_t len)
{
	uint32_t acc = 0;
	unsigned n = 0, pad = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = s[i];
		int v;

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c == '=') {
			pad++;
			v = 0;
		} else {
			if (pad > 0)
				return -1;
			v = wx_b64_value(c);
			if (v < 0)
				return -1;
		}
		acc = acc << 6 | (uint32_t)v;
		if (++n < 4)
			continue;
		if (pad > 2)
			return -1;
		uint8_t b[3] = {(uint8_t)(acc >> 16), (uint8_t)(acc >> 8),
				(uint8_t)acc};
		if (buf_append(out, b, 3 - pad) != 0)
			return -1;
		if (pad > 0 && i + 1 < len) {
			/* only whitespace may follow the padding */
			for (size_t j = i + 1; j < len; j++)
				if (!isspace(s[j]))
					return -1;
			return 0;
		}
		acc = 0;
		n = 0;
	}
	return n == 0 ? 0 : -1;
}

/* ------------------------------------------------------- WBXML -> XML */

struct wx_dec {
	xmlDocPtr doc;
	xmlNodePtr root;
	xmlNodePtr cur;
	uint8_t root_page;
	xmlNsPtr ns[WBXML_PAGE_MAX + 1];
	struct buf scratch;
	/* Elements, texts and instructions made so far: a document of
	 * WBXML_MAX_DOC_BYTES could otherwise become gigabytes of libxml2
	 * nodes (one byte per empty element, one instruction per control
	 * character). */
	size_t nodes;
	bool too_many;
};

/* Counts one more node against WBXML_MAX_NODES, as the tree does. */
static int
wx_count(struct wx_dec *d)
{
	if (++d->nodes > WBXML_MAX_NODES) {
		d->too_many = true;
		return -1;
	}
	return 0;
}

/* Length of the valid XML 1.0 character (UTF-8) at p (XML 1.0 section
 * 2.2, production Char), 0 if there is none (control character, invalid or
 * overlong UTF-8, surrogate, U+FFFE/U+FFFF, above U+10FFFF). */
static size_t
wx_xml_char_len(const uint8_t *p, const uint8_t *end)
{
	uint32_t cp;
	size_t n;

	if (p[0] < 0x80)
		return (p[0] >= 0x20 || p[0] == '\t' || p[0] == '\n' ||
			p[0] == '\r')
			   ? 1
			   : 0;
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
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
	    cp == 0xffff)
		return 0;
	return n;
}

static int
wx_add_pi(struct wx_dec *d, const char *target, const struct buf *content)
{
	xmlNodePtr pi;

	if (wx_count(d) != 0)
		return -1;
	pi = xmlNewDocPI(d->doc, (const xmlChar *)target,
			 (const xmlChar *)buf_str(content));
	if (pi == NULL)
		return -1;
	if (xmlAddChild(d->cur, pi) == NULL) {
		xmlFreeNode(pi);
		return -1;
	}
	return 0;
}

static int
wx_add_text(struct wx_dec *d, const uint8_t *p, size_t len)
{
	xmlNodePtr t;

	if (len == 0)
		return 0;
	if (len > INT_MAX || wx_count(d) != 0)
		return -1;
	t = xmlNewDocTextLen(d->doc, (const xmlChar *)p, (int)len);
	if (t == NULL)
		return -1;
	/* xmlAddChild merges adjacent text nodes (and frees t then). */
	return xmlAddChild(d->cur, t) != NULL ? 0 : -1;
}

/* A STR_I piece: runs of XML characters become text, every other byte
 * goes into a wbxml-hex instruction. */
static int
wx_dec_str(struct wx_dec *d, const uint8_t *data, size_t len)
{
	const uint8_t *p = data, *end = data + len, *run = data;

	while (p < end) {
		size_t n = wx_xml_char_len(p, end);

		if (n > 0) {
			p += n;
			continue;
		}
		if (wx_add_text(d, run, (size_t)(p - run)) != 0)
			return -1;
		buf_reset(&d->scratch);
		while (p < end && wx_xml_char_len(p, end) == 0) {
			if (buf_printf(&d->scratch, "%s%02x",
				       d->scratch.len > 0 ? " " : "", *p) != 0)
				return -1;
			p++;
		}
		if (wx_add_pi(d, WX_PI_HEX, &d->scratch) != 0)
			return -1;
		run = p;
	}
	return wx_add_text(d, run, (size_t)(p - run));
}

static int
wx_dec_opaque(struct wx_dec *d, const uint8_t *data, size_t len)
{
	/* An empty OPAQUE carries nothing (our encoder never writes one). */
	if (len == 0)
		return 0;
	buf_reset(&d->scratch);
	if (wx_b64_encode(&d->scratch, data, len) != 0)
		return -1;
	return wx_add_pi(d, WX_PI_OPAQUE, &d->scratch);
}

static xmlNsPtr
wx_ns(struct wx_dec *d, uint8_t page)
{
	char href[WX_NAME_BYTES], prefix[WX_NAME_BYTES];
	const char *name = wbxml_page_name(page);
	size_t i;

	if (page > WBXML_PAGE_MAX || name == NULL)
		return NULL;
	if (d->ns[page] != NULL)
		return d->ns[page];
	snprintf(href, sizeof(href), "%s:", name);
	for (i = 0; name[i] != 0 && i + 1 < sizeof(prefix); i++)
		prefix[i] = (char)tolower((unsigned char)name[i]);
	prefix[i] = 0;
	d->ns[page] =
	    xmlNewNs(d->root, (const xmlChar *)href,
		     page == d->root_page ? NULL : (const xmlChar *)prefix);
	return d->ns[page];
}

static int
wx_dec_start(struct wx_dec *d, uint16_t tag)
{
	uint8_t page = WBXML_TAG_PAGE(tag);
	const char *name = wbxml_tag_name(tag);
	char unknown[WX_NAME_BYTES];
	xmlNodePtr node;
	xmlNsPtr ns;

	if (wx_count(d) != 0)
		return -1;
	if (name == NULL) {
		snprintf(unknown, sizeof(unknown), WX_UNKNOWN_PREFIX "%02x",
			 WBXML_TAG_TOKEN(tag));
		name = unknown;
	}
	node = xmlNewDocNode(d->doc, NULL, (const xmlChar *)name, NULL);
	if (node == NULL)
		return -1;
	if (d->root == NULL) {
		d->root = node;
		d->root_page = page;
		xmlDocSetRootElement(d->doc, node);
	} else if (xmlAddChild(d->cur, node) == NULL) {
		xmlFreeNode(node);
		return -1;
	}
	ns = wx_ns(d, page);
	if (ns == NULL)
		return -1;
	xmlSetNs(node, ns);
	d->cur = node;
	return 0;
}

/* End of an element: fold a lone wbxml-opaque instruction into the
 * opaque="base64" attribute form. */
static int
wx_dec_end(struct wx_dec *d)
{
	xmlNodePtr node = d->cur, pi = node->children;

	if (pi != NULL && pi == node->last && pi->type == XML_PI_NODE &&
	    strcmp((const char *)pi->name, WX_PI_OPAQUE) == 0) {
		xmlNodePtr text = xmlNewDocText(d->doc, pi->content);

		if (text == NULL)
			return -1;
		xmlUnlinkNode(pi);
		xmlFreeNode(pi);
		if (xmlAddChild(node, text) == NULL) {
			xmlFreeNode(text);
			return -1;
		}
		if (xmlNewProp(node, (const xmlChar *)WX_ATTR_OPAQUE,
			       (const xmlChar *)"base64") == NULL)
			return -1;
	}
	d->cur = node->parent;
	return 0;
}

/* Layout: newline and indentation between the children of elements that
 * hold only elements; elements with any text or instruction stay as they
 * are, so content is never touched. */
static int
wx_indent(xmlDocPtr doc, xmlNodePtr node, unsigned depth)
{
	char pad[2 + 2 * WBXML_MAX_DEPTH];
	bool only_elements = node->children != NULL;
	xmlNodePtr c;

	for (c = node->children; c != NULL; c = c->next)
		if (c->type != XML_ELEMENT_NODE)
			only_elements = false;
	if (!only_elements)
		return 0;
	for (c = node->children; c != NULL; c = c->next)
		if (wx_indent(doc, c, depth + 1) != 0)
			return -1;
	pad[0] = '\n';
	for (unsigned i = 0; i < 2 * (depth + 1) && i + 2 < sizeof(pad); i++)
		pad[i + 1] = ' ';
	for (c = node->children; c != NULL; c = c->next) {
		size_t n = 1 + 2 * (size_t)(depth + 1);
		xmlNodePtr ws;

		if (n + 1 > sizeof(pad))
			n = sizeof(pad) - 1;
		ws = xmlNewDocTextLen(doc, (const xmlChar *)pad, (int)n);
		if (ws == NULL || xmlAddPrevSibling(c, ws) == NULL) {
			xmlFreeNode(ws);
			return -1;
		}
	}
	{
		size_t n = 1 + 2 * (size_t)depth;
		xmlNodePtr ws;

		if (n + 1 > sizeof(pad))
			n = sizeof(pad) - 1;
		ws = xmlNewDocTextLen(doc, (const xmlChar *)pad, (int)n);
		if (ws == NULL || xmlAddChild(node, ws) == NULL) {
			xmlFreeNode(ws);
			return -1;
		}
	}
	return 0;
}

int
wbxml_xml_decode(const uint8_t *wbxml, size_t len, struct buf *out,
		 struct wbxml_xml_error *error_r)
{
	struct wbxml_dec dec;
	struct wbxml_event ev;
	struct wx_dec d;
	xmlChar *mem = NULL;
	int mem_len = 0, ret = -1;
	size_t offset = 0;

	memset(&d, 0, sizeof(d));
	buf_init(&d.scratch, WBXML_XML_MAX_BYTES);
	d.doc = xmlNewDoc((const xmlChar *)"1.0");
	if (d.doc == NULL) {
		wx_error(error_r, "out of memory");
		goto out;
	}
	if (wbxml_dec_init(&dec, wbxml, len) != 0)
		goto bad_wbxml;
	for (;;) {
		int r = 0;

		if (wbxml_dec_next(&dec, &ev) != 0)
			goto bad_wbxml;
		if (ev.type == WBXML_EV_EOD)
			break;
		switch (ev.type) {
		case WBXML_EV_START:
			r = wx_dec_start(&d, ev.tag);
			if (r == 0 && !ev.has_content)
				r = wx_dec_end(&d);
			break;
		case WBXML_EV_END:
			r = wx_dec_end(&d);
			break;
		case WBXML_EV_STR:
			r = wx_dec_str(&d, ev.data, ev.len);
			break;
		case WBXML_EV_OPAQUE:
			r = wx_dec_opaque(&d, ev.data, ev.len);
			break;
		case WBXML_EV_EOD:
			break;
		}
		if (r != 0 && d.too_many) {
			wx_error(
			    error_r,
			    "offset %zu: more than %u XML nodes (elements, "
			    "texts, marks)",
			    ev.offset, (unsigned)WBXML_MAX_NODES);
			goto out;
		}
		if (r != 0) {
			wx_error(error_r, "offset %zu: out of memory",
				 ev.offset);
			goto out;
		}
	}
	if (d.root == NULL || wx_indent(d.doc, d.root, 0) != 0) {
		wx_error(error_r, "out of memory");
		goto out;
	}
	xmlDocDumpFormatMemoryEnc(d.doc, &mem, &mem_len, "UTF-8", 0);
	if (mem == NULL || mem_len < 0 ||
	    (size_t)mem_len > WBXML_XML_MAX_BYTES ||
	    buf_append(out, mem, (size_t)mem_len) != 0 ||
	    (mem_len > 0 && mem[mem_len - 1] != '\n' &&
	     buf_append_byte(out, '\n') != 0)) {
		wx_error(error_r, "XML output too large");
		goto out;
	}
	ret = 0;
	goto out;
bad_wbxml : {
	enum wbxml_err err = wbxml_dec_error(&dec, &offset);

	wx_error(error_r, "offset %zu: %s", offset, wbxml_strerror(err));
}
out:
	xmlFree(mem);
	if (d.doc != NULL)
		xmlFreeDoc(d.doc);
	buf_free(&d.scratch);
	return ret;
}

/* ------------------------------------------------------- XML -> WBXML */

struct wx_enc {
	struct wbxml_enc *e;
	struct buf text; /* pending text of the current element */
	struct buf scratch;
	struct wbxml_xml_error *error_r;
};

static bool
wx_is_blank(const xmlChar *s)
{
	if (s == NULL)
		return true;
	for (; *s != 0; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

/* Page of an XML namespace: "AirSyncBase:" or "AirSyncBase", any case. */
static int
wx_page_of(const xmlChar *href, uint8_t *page_r)
{
	size_t n = strlen((const char *)href);

	if (n > 0 && href[n - 1] == ':')
		n--;
	for (unsigned p = 0; p <= WBXML_PAGE_MAX; p++) {
		const char *name = wbxml_page_name(p);

		if (name != NULL && strlen(name) == n &&
		    strncasecmp(name, (const char *)href, n) == 0) {
			*page_r = (uint8_t)p;
			return 0;
		}
	}
	return -1;
}

static int
wx_tag_of(struct wx_enc *x, xmlNodePtr node, uint16_t *tag_r)
{
	const char *name = (const char *)node->name;
	uint8_t page;

	if (node->ns == NULL || node->ns->href == NULL) {
		wx_error(x->error_r, "line %ld: element %s has no namespace",
			 xmlGetLineNo(node), name);
		return -1;
	}
	if (wx_page_of(node->ns->href, &page) != 0) {
		wx_error(x->error_r,
			 "line %ld: namespace %s is not an ActiveSync code "
			 "page",
			 xmlGetLineNo(node), (const char *)node->ns->href);
		return -1;
	}
	if (strncmp(name, WX_UNKNOWN_PREFIX, strlen(WX_UNKNOWN_PREFIX)) == 0) {
		const char *hex = name + strlen(WX_UNKNOWN_PREFIX);
		char *endp;
		unsigned long tok = strtoul(hex, &endp, 16);

		if (endp == hex + 2 && *endp == 0 &&
		    isxdigit((uint8_t)hex[0]) && tok >= 0x05 && tok <= 0x3f) {
			*tag_r = WBXML_TAG_MAKE(page, tok);
			return 0;
		}
	} else if (wbxml_tag_lookup(wbxml_page_name(page), name, tag_r) == 0) {
		return 0;
	}
	wx_error(x->error_r, "line %ld: unknown element %s in namespace %s:",
		 xmlGetLineNo(node), name, wbxml_page_name(page));
	return -1;
}

static int
wx_flush_text(struct wx_enc *x, xmlNodePtr node)
{
	if (x->text.len == 0)
		return 0;
	if (memchr(x->text.data, 0, x->text.len) != NULL) {
		wx_error(x->error_r,
			 "line %ld: a NUL byte cannot be in a string (use "
			 "opaque data)",
			 xmlGetLineNo(node));
		return -1;
	}
	if (wbxml_enc_text(x->e, (const char *)x->text.data, x->text.len) !=
	    0) {
		wx_error(x->error_r, "line %ld: %s", xmlGetLineNo(node),
			 wbxml_strerror(wbxml_enc_error(x->e)));
		return -1;
	}
	buf_reset(&x->text);
	return 0;
}

/* "01 1f" (pairs of hex digits separated by optional whitespace). */
static int
wx_hex_decode(struct buf *out, const xmlChar *s)
{
	int hi = -1;

	for (; s != NULL && *s != 0; s++) {
		int v;

		if (isspace(*s)) {
			if (hi >= 0)
				return -1;
			continue;
		}
		if (!isxdigit(*s))
			return -1;
		v = isdigit(*s) ? *s - '0' : tolower(*s) - 'a' + 10;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (buf_append_byte(out, (uint8_t)(hi << 4 | v)) != 0)
			return -1;
		hi = -1;
	}
	return hi < 0 ? 0 : -1;
}

static int
wx_opaque(struct wx_enc *x, xmlNodePtr where, const xmlChar *b64)
{
	buf_reset(&x->scratch);
	if (wx_b64_decode(&x->scratch, b64,
			  b64 != NULL ? strlen((const char *)b64) : 0) != 0) {
		wx_error(x->error_r, "line %ld: opaque data is not base64",
			 xmlGetLineNo(where));
		return -1;
	}
	if (wbxml_enc_data(x->e, x->scratch.data, x->scratch.len) != 0) {
		wx_error(x->error_r, "line %ld: %s", xmlGetLineNo(where),
			 wbxml_strerror(wbxml_enc_error(x->e)));
		return -1;
	}
	return 0;
}

static int wx_enc_element(struct wx_enc *x, xmlNodePtr node, unsigned depth);

static int
wx_enc_children(struct wx_enc *x, xmlNodePtr node, unsigned depth)
{
	bool has_elements = false;
	xmlNodePtr c;

	for (c = node->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			has_elements = true;
	for (c = node->children; c != NULL; c = c->next) {
		switch (c->type) {
		case XML_ELEMENT_NODE:
			if (wx_flush_text(x, c) != 0 ||
			    wx_enc_element(x, c, depth + 1) != 0)
				return -1;
			break;
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			if (has_elements && wx_is_blank(c->content))
				break;
			if (buf_append_str(&x->text,
					   (const char *)c->content) != 0) {
				wx_error(x->error_r, "text too large");
				return -1;
			}
			break;
		case XML_PI_NODE:
			if (strcmp((const char *)c->name, WX_PI_HEX) == 0) {
				if (wx_hex_decode(&x->text, c->content) != 0) {
					wx_error(x->error_r,
						 "line %ld: bad <?" WX_PI_HEX
						 "?>: want hex byte pairs",
						 xmlGetLineNo(c));
					return -1;
				}
			} else if (strcmp((const char *)c->name,
					  WX_PI_OPAQUE) == 0) {
				if (wx_flush_text(x, c) != 0 ||
				    wx_opaque(x, c, c->content) != 0)
					return -1;
			} else {
				wx_error(x->error_r,
					 "line %ld: unknown processing "
					 "instruction <?%s?>",
					 xmlGetLineNo(c),
					 (const char *)c->name);
				return -1;
			}
			break;
		case XML_COMMENT_NODE:
			break;
		default:
			wx_error(x->error_r, "line %ld: unexpected XML node",
				 xmlGetLineNo(c));
			return -1;
		}
	}
	return wx_flush_text(x, node);
}

static int
wx_enc_element(struct wx_enc *x, xmlNodePtr node, unsigned depth)
{
	bool opaque = false;
	uint16_t tag;

	if (depth > WBXML_MAX_DEPTH) {
		wx_error(x->error_r, "line %ld: nesting deeper than %d",
			 xmlGetLineNo(node), WBXML_MAX_DEPTH);
		return -1;
	}
	if (wx_tag_of(x, node, &tag) != 0)
		return -1;
	for (xmlAttrPtr a = node->properties; a != NULL; a = a->next) {
		xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);
		bool ok = a->ns == NULL &&
			  strcmp((const char *)a->name, WX_ATTR_OPAQUE) == 0 &&
			  v != NULL && strcmp((const char *)v, "base64") == 0;

		xmlFree(v);
		if (!ok) {
			wx_error(x->error_r,
				 "line %ld: attribute %s not allowed (only "
				 "opaque=\"base64\")",
				 xmlGetLineNo(node), (const char *)a->name);
			return -1;
		}
		opaque = true;
	}
	if (wbxml_enc_start(x->e, tag) != 0) {
		wx_error(x->error_r, "line %ld: %s", xmlGetLineNo(node),
			 wbxml_strerror(wbxml_enc_error(x->e)));
		return -1;
	}
	if (opaque) {
		xmlChar *content;
		int r;

		for (xmlNodePtr c = node->children; c != NULL; c = c->next)
			if (c->type != XML_TEXT_NODE &&
			    c->type != XML_CDATA_SECTION_NODE &&
			    c->type != XML_COMMENT_NODE) {
				wx_error(x->error_r,
					 "line %ld: an opaque element holds "
					 "only base64 text",
					 xmlGetLineNo(node));
				return -1;
			}
		content = xmlNodeGetContent(node);
		r = wx_opaque(x, node, content);
		xmlFree(content);
		if (r != 0)
			return -1;
	} else if (wx_enc_children(x, node, depth) != 0) {
		return -1;
	}
	if (wbxml_enc_end(x->e) != 0) {
		wx_error(x->error_r, "line %ld: %s", xmlGetLineNo(node),
			 wbxml_strerror(wbxml_enc_error(x->e)));
		return -1;
	}
	return 0;
}

static size_t
wx_count_byte(const uint8_t *p, size_t len, uint8_t c)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += p[i] == c;
	return n;
}

static const void *
wx_memmem(const uint8_t *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return hay + i;
	return NULL;
}

int
wbxml_xml_encode(const uint8_t *xml, size_t len, struct buf *out,
		 struct wbxml_xml_error *error_r)
{
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	struct wbxml_enc *e = NULL;
	struct wx_enc x;
	int ret = -1;

	memset(&x, 0, sizeof(x));
	buf_init(&x.text, WBXML_MAX_STRING_BYTES);
	buf_init(&x.scratch, WBXML_MAX_OPAQUE_BYTES);
	x.error_r = error_r;
	if (len > WBXML_XML_MAX_BYTES || len > INT_MAX) {
		wx_error(error_r, "XML input larger than %u bytes",
			 WBXML_XML_MAX_BYTES);
		goto out;
	}
	/* Bound the libxml2 tree before building it: every element,
	 * comment and instruction starts with '<'. */
	if (wx_count_byte(xml, len, '<') > 2 * (size_t)WBXML_MAX_NODES) {
		wx_error(error_r, "more than %u tags",
			 2 * (unsigned)WBXML_MAX_NODES);
		goto out;
	}
	/* No DTD: no entity declarations to expand, nothing to fetch. */
	if (wx_memmem(xml, len, "<!DOCTYPE") != NULL) {
		wx_error(error_r, "DTDs are not accepted");
		goto out;
	}
	ctxt = xmlNewParserCtxt();
	e = malloc(sizeof(*e));
	if (ctxt == NULL || e == NULL) {
		wx_error(error_r, "out of memory");
		goto out;
	}
	/* UTF-8 is forced so that the DOCTYPE check above sees the text. */
	doc =
	    xmlCtxtReadMemory(ctxt, (const char *)xml, (int)len, NULL, "UTF-8",
			      XML_PARSE_NONET | XML_PARSE_NOERROR |
				  XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (doc == NULL) {
		const xmlError *err = xmlCtxtGetLastError(ctxt);
		char msg[WBXML_XML_ERROR_BYTES];
		size_t n;

		snprintf(msg, sizeof(msg), "%s",
			 err != NULL && err->message != NULL ? err->message
							     : "not XML");
		n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = 0;
		wx_error(error_r, "line %d: %s", err != NULL ? err->line : 0,
			 msg);
		goto out;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		wx_error(error_r, "DTDs are not accepted");
		goto out;
	}
	if (xmlDocGetRootElement(doc) == NULL) {
		wx_error(error_r, "no root element");
		goto out;
	}
	wbxml_enc_init_buf(e, out);
	x.e = e;
	if (wx_enc_element(&x, xmlDocGetRootElement(doc), 1) != 0)
		goto out;
	if (wbxml_enc_finish(e) != 0) {
		wx_error(error_r, "%s", wbxml_strerror(wbxml_enc_error(e)));
		goto out;
	}
	ret = 0;
out:
	free(e);
	if (doc != NULL)
		xmlFreeDoc(doc);
	if (ctxt != NULL)
		xmlFreeParserCtxt(ctxt);
	buf_free(&x.scratch);
	buf_free(&x.text);
	return ret;
}
