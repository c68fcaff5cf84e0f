/*
 * One global address list entry on the wire, shared by Search Store
 * "GAL" (cas/cmd_search.c) and Find GALSearchCriterion (cas/cmd_find.c):
 * an RPC GalEntry (the mailbox's directory match, proto/rpc.proto)
 * becomes a Result holding Properties with the GAL code page's fields
 * (MS-ASCMD 2.2.3.139.3 Properties (Search), 2.2.3.139.1 Properties
 * (Find)).  The two commands differ only in the Result and Properties
 * elements' code page (Search or Find), which the caller names.
 *
 * Fields come in the order the spec lists them: DisplayName (always: the
 * mailbox falls back to the address's local part), Phone, Office, Title,
 * Company, Alias, FirstName, LastName, HomePhone, MobilePhone,
 * EmailAddress; a field the directory does not hold is left out.  When
 * the client asked for contact photos (Options/Picture, 14.1+), the
 * mailbox gives each entry a picture status and each entry carries
 * gal:Picture: Status 1 with gal:Data (the JPEG or PNG as WBXML opaque
 * data, MS-ASDTYPE 2.7.1 byte array), or 173 no photo, 174 larger than
 * MaxSize, 175 MaxPictures reached (MS-ASCMD 2.2.3.104.3, 2.2.3.177.13).
 * Status is the GAL code page's own element (MS-ASWBXML 2.1.2.1.17 token
 * 0x11, introduced with Picture), which is what Exchange and Z-Push put
 * inside gal:Picture.
 */
#ifndef EASD_CAS_GAL_WBXML_H
#define EASD_CAS_GAL_WBXML_H

#include <stdbool.h>
#include <stdint.h>

#include "cas/search_req.h"
#include "proto/rpc.pb-c.h"
#include "proto/wbxml.h"

struct gal_wbxml_opts {
	uint16_t result_tag;     /* EAS_SEARCH_RESULT or EAS_FIND_RESULT */
	uint16_t properties_tag; /* EAS_SEARCH_PROPERTIES / _FIND_ */
};

/* <Result><Properties>...</Properties></Result> for g; the encoder's
 * error state carries any failure (wbxml_enc_finish reports it). */
void gal_wbxml_encode(struct wbxml_enc *e, const Rpc__GalEntry *g,
		      const struct gal_wbxml_opts *opts);

/* The request's Picture option into the mailbox's GalSearchRequest, when
 * the protocol version has the element (allowed). */
void gal_wbxml_picture_request(const struct search_req *sr, bool allowed,
			       Rpc__GalSearchRequest *q);

#endif
