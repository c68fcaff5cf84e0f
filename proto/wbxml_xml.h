/*
 * WBXML <-> XML text for people: `easctl wbxml decode|encode`, protocol
 * traces and the scenario files of tests/scenarios/.  Never on a request
 * path: the CAS works on events and typed trees (wbxml.h, wbxml_tree.h).
 * The XML side is libxml2 (proto/wbxml_xml.c is its only user in proto/).
 *
 * The XML form (as in the examples of MS-ASCMD section 4):
 *  - every element is in the namespace of its code page with a colon, e.g.
 *    <Sync xmlns="AirSync:">; the root's page is the default namespace and
 *    every other page gets a prefix, the page name in lower case, declared
 *    on the root: xmlns:airsyncbase="AirSyncBase:".  Encoding accepts any
 *    prefixes, the namespace with or without the trailing colon, in any
 *    letter case ("Gal:" is GAL);
 *  - a token the code page does not assign is named wbxml-token-0xNN;
 *  - an element whose whole content is one OPAQUE blob is written
 *    <Data opaque="base64">SGVsbG8=</Data>; an opaque piece among other
 *    content is the processing instruction <?wbxml-opaque SGVsbG8=?>;
 *  - string bytes that XML 1.0 cannot carry (control characters other than
 *    tab, LF and CR, invalid UTF-8, U+FFFE/U+FFFF) become the processing
 *    instruction <?wbxml-hex 01 1f?> in place; CR is written &#13;, so all
 *    of these survive a round trip (clients do send them);
 *  - indentation is added only inside elements that hold child elements
 *    and nothing else, so text content is always exact.  On encode,
 *    whitespace-only text in an element that has child elements is layout
 *    and dropped; in an element without child elements, text is content.
 *    Comments are ignored; DTDs are refused (no entity expansion, no
 *    network: XML_PARSE_NONET); input is read as UTF-8 whatever its XML
 *    declaration says.
 *
 * Round trip.  encode(decode(w)) == w byte for byte when w is canonical,
 * i.e. what our encoder produces (page switches only when needed, one
 * STR_I per text run, empty elements without the content bit).
 *
 * Errors are a one-line message: "offset 12: truncated input" for WBXML,
 * "line 3: unknown element Foo in namespace AirSync:" for XML.
 */
#ifndef EASD_PROTO_WBXML_XML_H
#define EASD_PROTO_WBXML_XML_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"

/*
 * Bound on an XML document read or written here: a WBXML document of
 * WBXML_MAX_DOC_BYTES grows by a third in base64 plus markup and
 * indentation.  Inputs are files given by an administrator or test data.
 */
#define WBXML_XML_MAX_BYTES (128u * 1024u * 1024u)
#define WBXML_XML_ERROR_BYTES 256

struct wbxml_xml_error {
	char msg[WBXML_XML_ERROR_BYTES];
};

/* WBXML -> XML text (UTF-8, with an XML declaration), appended to out. */
int wbxml_xml_decode(const uint8_t *wbxml, size_t len, struct buf *out,
		     struct wbxml_xml_error *error_r);

/* XML text -> WBXML, appended to out (out's maximum bounds the result). */
int wbxml_xml_encode(const uint8_t *xml, size_t len, struct buf *out,
		     struct wbxml_xml_error *error_r);

#endif
