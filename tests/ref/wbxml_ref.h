/*
 * The libwbxml2 reference decoder (tests only, never linked into a daemon:
 * Debian 12's libwbxml2 0.11.8 can abort() on hostile input, see
 * reliability.md "Known hazards").  It turns an ActiveSync WBXML document
 * into the neutral "canonical text" form that tests/ref/wbxml_canon.h also
 * produces from our own decoder's tree, so that a differential test is a
 * string comparison.
 *
 * Canonical text, one node a line, indented by one space per depth:
 *   an element     <name>@<namespace>          e.g. "Sync@AirSync:"
 *   character data "<escaped bytes>"           e.g. "\"0\""
 * All character data of an element (strings, entities and opaque data
 * alike) is merged into one text line written after its children; empty
 * text is dropped; an element with no
 * content and one with empty content are the same.  Escapes: backslash,
 * double quote and every byte outside 0x20..0x7e are written \xHH.
 *
 * libwbxml2 is driven through the only API Debian ships (WBXML -> XML
 * text); its compact XML output is then read by a small tolerant parser of
 * our own, because libwbxml2 writes opaque data and control characters raw,
 * which no conforming XML parser accepts.
 */
#ifndef EASD_TESTS_REF_WBXML_REF_H
#define EASD_TESTS_REF_WBXML_REF_H

#include "proto/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Canonical text of any document in the suite stays below this. */
#define WBXML_REF_MAX_CANON_BYTES (8u * 1024u * 1024u)
/* Nesting bound of the output parser (well above MS-ASCMD documents). */
#define WBXML_REF_MAX_DEPTH 128
/* The pages and tokens libwbxml2's table is probed for: EAS 16.1 uses
 * pages 0..25 and tokens 0x05..0x3f. */
#define WBXML_REF_PAGES 26
#define WBXML_REF_TOKENS 64

/* Decode with libwbxml2 in this process and append the canonical text to
 * out.  Only for trusted input (the scenario vectors): libwbxml2 may
 * abort().  Returns 0, or -1 with a static message in *error_r when
 * libwbxml2 rejects the document or its output cannot be read. */
int wbxml_ref_canon(const uint8_t *data, size_t len, struct buf *out,
		    const char **error_r);

/* The same in a child process, for hostile input: a crash or a timeout
 * of the child counts as a rejection ("libwbxml2 crashed (signal 6)").
 * The child lives across calls; wbxml_ref_shutdown() ends it. */
int wbxml_ref_canon_isolated(const uint8_t *data, size_t len, struct buf *out,
			     const char **error_r);
void wbxml_ref_shutdown(void);
/* Test hook: the child aborts on the next isolated decode, so that the
 * crash handling above is itself tested. */
void wbxml_ref_test_abort_next(void);

/* How libwbxml2 names the tag (page, token): copies namespace and name
 * into the caller's arrays and returns true, or returns false when
 * libwbxml2 lacks the token (it renders it as "unknown").  The table is
 * probed once, lazily, by decoding one-element documents. */
bool wbxml_ref_tag(unsigned page, unsigned token, const char **ns_r,
		   const char **name_r);

/* The canonical text writer, shared with tests/ref/wbxml_canon.c: feed it
 * start/text/end events; it merges the text of each element and writes it
 * after the element's children (EAS never mixes text and elements, and
 * our tree keeps an element's text in one piece, so mixed content is
 * compared as "children, then all text"). */
struct wbxml_ref_writer {
	struct buf *out;
	struct buf pending[WBXML_REF_MAX_DEPTH + 1]; /* text per open element */
	unsigned depth;
	bool overflow; /* nesting beyond WBXML_REF_MAX_DEPTH */
};

void wbxml_ref_writer_init(struct wbxml_ref_writer *w, struct buf *out);
int wbxml_ref_writer_start(struct wbxml_ref_writer *w, const char *ns,
			   const char *name);
int wbxml_ref_writer_text(struct wbxml_ref_writer *w, const uint8_t *text,
			  size_t len);
int wbxml_ref_writer_end(struct wbxml_ref_writer *w);
/* Flushes pending text; -1 when elements are still open. */
int wbxml_ref_writer_finish(struct wbxml_ref_writer *w);
void wbxml_ref_writer_free(struct wbxml_ref_writer *w);

#endif
