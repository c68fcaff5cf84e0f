/*
 * The GAL entry encoder of cas/gal_wbxml.h, used by Search and Find.
 */
#include "cas/gal_wbxml.h"

#include <stddef.h>

/* A field the directory does not hold ("" in the RPC) is left out. */
static void
opt_str(struct wbxml_enc *e, uint16_t tag, const char *s)
{
	if (s != NULL && s[0] != '\0')
		wbxml_enc_str(e, tag, s);
}

void
gal_wbxml_encode(struct wbxml_enc *e, const Rpc__GalEntry *g,
		 const struct gal_wbxml_opts *opts)
{
	wbxml_enc_start(e, opts->result_tag);
	wbxml_enc_start(e, opts->properties_tag);
	/* MS-ASCMD 2.2.3.49.7 / .2: DisplayName; the mailbox never sends
	 * an empty one, but an entry without it would be nameless. */
	wbxml_enc_str(e, EAS_GAL_DISPLAY_NAME,
		      g->display_name != NULL ? g->display_name : "");
	opt_str(e, EAS_GAL_PHONE, g->phone);
	opt_str(e, EAS_GAL_OFFICE, g->office);
	opt_str(e, EAS_GAL_TITLE, g->title);
	opt_str(e, EAS_GAL_COMPANY, g->company);
	opt_str(e, EAS_GAL_ALIAS, g->alias);
	opt_str(e, EAS_GAL_FIRST_NAME, g->first_name);
	opt_str(e, EAS_GAL_LAST_NAME, g->last_name);
	opt_str(e, EAS_GAL_HOME_PHONE, g->home_phone);
	opt_str(e, EAS_GAL_MOBILE_PHONE, g->mobile_phone);
	opt_str(e, EAS_GAL_EMAIL_ADDRESS, g->email_address);
	/* MS-ASCMD 2.2.3.135.3: asked for (the mailbox set a status). */
	if (g->picture_status != 0) {
		wbxml_enc_start(e, EAS_GAL_PICTURE);
		wbxml_enc_uint(e, EAS_GAL_STATUS, g->picture_status);
		if (g->picture_status == 1 && g->picture.len > 0)
			wbxml_enc_opaque(e, EAS_GAL_DATA, g->picture.data,
					 g->picture.len);
		wbxml_enc_end(e);
	}
	wbxml_enc_end(e); /* Properties */
	wbxml_enc_end(e); /* Result */
}

void
gal_wbxml_picture_request(const struct search_req *sr, bool allowed,
			  Rpc__GalSearchRequest *q)
{
	q->pictures = allowed && sr->picture;
	q->picture_max_bytes = sr->picture_max_bytes;
	q->has_max_pictures = sr->has_max_pictures;
	q->max_pictures = sr->max_pictures;
}
