/*
 * Code-page tables built from codepages.def: token -> element name per page,
 * page -> namespace, and the reverse lookups used when XML (traces, easctl,
 * tests) is turned back into WBXML.  The forward lookups are array indexing
 * (the decoder and renderer call them per element); the reverse lookups
 * scan one page (at most 59 tokens) and are not on any hot path.
 */
#include "proto/wbxml.h"

#include <stdio.h>
#include <string.h>

/* A token is 6 bits once the content and attribute bits are removed. */
#define TOKENS_PER_PAGE 64

static const char *const page_names[WBXML_PAGE_MAX + 1] = {
#define WBXML_PAGE(num, id, ns) [num] = ns,
#define WBXML_TAG(page, tok, id, name)
#include "proto/codepages.def"
#undef WBXML_PAGE
#undef WBXML_TAG
};

static const char *const tag_names[WBXML_PAGE_MAX + 1][TOKENS_PER_PAGE] = {
#define WBXML_PAGE(num, id, ns)
#define WBXML_TAG(page, tok, id, name) [page][tok] = name,
#include "proto/codepages.def"
#undef WBXML_PAGE
#undef WBXML_TAG
};

const char *
wbxml_page_name(unsigned page)
{
	if (page > WBXML_PAGE_MAX)
		return NULL;
	return page_names[page];
}

const char *
wbxml_tag_name(uint16_t tag)
{
	unsigned page = WBXML_TAG_PAGE(tag);
	unsigned token = WBXML_TAG_TOKEN(tag);

	if (page > WBXML_PAGE_MAX || token >= TOKENS_PER_PAGE)
		return NULL;
	return tag_names[page][token];
}

int
wbxml_page_lookup(const char *ns, uint8_t *page_r)
{
	for (unsigned page = 0; page <= WBXML_PAGE_MAX; page++) {
		if (strcmp(page_names[page], ns) == 0) {
			*page_r = (uint8_t)page;
			return 0;
		}
	}
	return -1;
}

int
wbxml_tag_lookup(const char *ns, const char *name, uint16_t *tag_r)
{
	uint8_t page;

	if (wbxml_page_lookup(ns, &page) < 0)
		return -1;
	for (unsigned token = 0; token < TOKENS_PER_PAGE; token++) {
		const char *n = tag_names[page][token];

		if (n != NULL && strcmp(n, name) == 0) {
			*tag_r = WBXML_TAG_MAKE(page, token);
			return 0;
		}
	}
	return -1;
}

size_t
wbxml_tag_describe(uint16_t tag, char *out, size_t size)
{
	const char *ns = wbxml_page_name(WBXML_TAG_PAGE(tag));
	const char *name = wbxml_tag_name(tag);
	int n;

	if (ns == NULL)
		n = snprintf(out, size, "%u:0x%02X", WBXML_TAG_PAGE(tag),
			     WBXML_TAG_TOKEN(tag));
	else if (name == NULL)
		n = snprintf(out, size, "%s:0x%02X", ns, WBXML_TAG_TOKEN(tag));
	else
		n = snprintf(out, size, "%s:%s", ns, name);
	return n < 0 ? 0 : (size_t)n;
}

static const char *const err_names[WBXML_ERR_COUNT_] = {
    [WBXML_ERR_NONE] = "no error",
    [WBXML_ERR_TRUNCATED] = "truncated input",
    [WBXML_ERR_VERSION] = "not WBXML version 1.3",
    [WBXML_ERR_PUBLIC_ID] = "public identifier is not 1",
    [WBXML_ERR_CHARSET] = "charset is not UTF-8",
    [WBXML_ERR_STRING_TABLE] = "string table not empty",
    [WBXML_ERR_MB_OVERFLOW] = "mb_u_int32 overflow",
    [WBXML_ERR_UNKNOWN_PAGE] = "unknown code page",
    [WBXML_ERR_UNSUPPORTED] = "unsupported WBXML token",
    [WBXML_ERR_ATTRIBUTES] = "attributes are not used by EAS",
    [WBXML_ERR_DEPTH] = "elements nested too deep",
    [WBXML_ERR_DOC_TOO_LARGE] = "document too large",
    [WBXML_ERR_STRING_TOO_LONG] = "inline string too long",
    [WBXML_ERR_OPAQUE_TOO_LONG] = "opaque data too long",
    [WBXML_ERR_UNBALANCED] = "end tag without open element",
    [WBXML_ERR_OUTSIDE_ROOT] = "content outside the root element",
    [WBXML_ERR_TRAILING] = "bytes after the root element",
    [WBXML_ERR_NO_ROOT] = "no root element",
    [WBXML_ERR_TOO_MANY_NODES] = "too many elements",
    [WBXML_ERR_NOMEM] = "out of memory",
    [WBXML_ERR_MISSING] = "required element missing",
    [WBXML_ERR_NOT_TEXT] = "element has children, text expected",
    [WBXML_ERR_BAD_INTEGER] = "not an unsigned decimal integer",
    [WBXML_ERR_RANGE] = "integer out of range",
    [WBXML_ERR_TOO_LONG] = "value too long",
    [WBXML_ERR_INVALID_UTF8] = "invalid UTF-8",
    [WBXML_ERR_NUL_IN_STRING] = "NUL byte in string",
    [WBXML_ERR_OUTPUT_FULL] = "output buffer full",
    [WBXML_ERR_SINK] = "output sink failed",
    [WBXML_ERR_USAGE] = "encoder misuse",
};

const char *
wbxml_strerror(enum wbxml_err err)
{
	if ((unsigned)err >= WBXML_ERR_COUNT_ || err_names[err] == NULL)
		return "unknown error";
	return err_names[err];
}
