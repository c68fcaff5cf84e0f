/*
 * Find (MS-ASCMD 2.2.1.2, protocol 16.1 only): the successor of Search for
 * mail and the GAL.  The body is decoded (cas/search_req.h find_req_decode)
 * and answered by the same mailbox calls as Search: MailBoxSearchCriterion
 * from the full-text index (RPC Search), GALSearchCriterion from the
 * directory (RPC GalSearch).  No result set is kept per SearchId: each
 * Find runs afresh, so any Range a client pages to is served.
 *
 * The response (MS-ASCMD 2.2.3.153.2, code page 25):
 *   <Find><Status>1</Status><Response>
 *     <itemoperations:Store>Mailbox</itemoperations:Store><Status>1</Status>
 *     <Result> airsync:Class, airsync:ServerId, airsync:CollectionId,
 *       <Properties> email:Subject, email:DateReceived, email:DisplayTo,
 *       DisplayCc, DisplayBcc, email:Importance, email:Read,
 *       email2:IsDraft, Preview, HasAttachments, email:From
 *       </Properties></Result>...
 *     <Range>m-n</Range><Total>N</Total></Response></Find>
 * GAL results carry the entry's names, phones, alias and address, and
 * gal:Picture when asked (cas/gal_wbxml.h, shared with Search).
 *
 * Statuses (MS-ASCMD 2.2.3.177.2): a malformed request or a query the
 * index cannot run, 2; a CollectionId the user does not have, 3 (the
 * hierarchy is out of date: FolderSync); store failures the common 110,
 * an unreachable mailbox 111.  A Range of more than 100 results is served
 * as its first 100 (the response's Range says what came back).
 */
#include "cas/dispatch.h"
#include "cas/email_wbxml.h"
#include "cas/gal_wbxml.h"
#include "cas/request.h"
#include "cas/search_req.h"
#include "cas/wbxml_resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIND_DEFAULT_RANGE_END 99u
#define FIND_MAX_PAGE 100u
/* MS-ASCMD 2.2.3.135 Preview (Find): up to 255 characters of the body. */
#define FIND_PREVIEW_BYTES 255u

struct find_call {
	struct cas_request *r;
	struct search_req sr;
	uint32_t first, last;
};

static bool
rpc_transient(Rpc__Status s)
{
	return s == RPC__STATUS__STATUS_DISCONNECTED ||
	       s == RPC__STATUS__STATUS_TIMEOUT ||
	       s == RPC__STATUS__STATUS_BUSY;
}

static void
open_response(struct wbxml_enc *e, const char *store)
{
	wbxml_enc_start(e, EAS_FIND_FIND);
	wbxml_enc_uint(e, EAS_FIND_STATUS, FIND_STATUS_OK);
	wbxml_enc_start(e, EAS_FIND_RESPONSE);
	wbxml_enc_str(e, EAS_ITEMOPERATIONS_STORE, store);
	wbxml_enc_uint(e, EAS_FIND_STATUS, FIND_STATUS_OK);
}

static void
close_response(struct wbxml_enc *e, uint32_t first, size_t count,
	       uint32_t total)
{
	char range[32];

	if (count > 0) {
		(void)snprintf(range, sizeof(range), "%u-%zu", (unsigned)first,
			       (size_t)first + count - 1);
		wbxml_enc_str(e, EAS_FIND_RANGE, range);
	}
	wbxml_enc_uint(e, EAS_FIND_TOTAL, total);
	wbxml_enc_end(e); /* Response */
	wbxml_enc_end(e); /* Find */
}

static void
opt_str(struct wbxml_enc *e, uint16_t tag, const char *s)
{
	if (s != NULL && s[0] != '\0')
		wbxml_enc_str(e, tag, s);
}

/* The Find properties of one message (MS-ASCMD 2.2.3.137.1). */
static void
encode_email(struct wbxml_enc *e, const Rpc__Email *m)
{
	char date[EMAIL_WBXML_DATE_BYTES];
	const Rpc__Body *b = m->body;

	opt_str(e, EAS_EMAIL_SUBJECT, m->subject);
	email_wbxml_format_date(m->date_received, date);
	wbxml_enc_str(e, EAS_EMAIL_DATE_RECEIVED, date);
	opt_str(e, EAS_EMAIL_DISPLAY_TO, m->display_to);
	opt_str(e, EAS_FIND_DISPLAY_CC, m->cc);
	/* MS-ASCMD 2.2.3.47: the Bcc the mailbox keeps (drafts and sent
	 * copies; a received message has none). */
	opt_str(e, EAS_FIND_DISPLAY_BCC, m->bcc);
	wbxml_enc_uint(e, EAS_EMAIL_IMPORTANCE, m->importance);
	wbxml_enc_uint(e, EAS_EMAIL_READ, m->read ? 1 : 0);
	/* MS-ASEMAIL 2.2.2.42: the message is in Drafts. */
	wbxml_enc_uint(e, EAS_EMAIL2_IS_DRAFT, m->is_draft ? 1 : 0);
	if (b != NULL && b->preview != NULL && b->preview[0] != '\0') {
		wbxml_enc_str(e, EAS_FIND_PREVIEW, b->preview);
	} else if (b != NULL && b->type == 1 && b->data.len > 0) {
		size_t cut = email_wbxml_utf8_cut(b->data.data, b->data.len,
						  FIND_PREVIEW_BYTES);

		wbxml_enc_str_n(e, EAS_FIND_PREVIEW, (const char *)b->data.data,
				cut);
	}
	wbxml_enc_uint(e, EAS_FIND_HAS_ATTACHMENTS,
		       m->n_attachments > 0 ? 1 : 0);
	opt_str(e, EAS_EMAIL_FROM, m->from);
}

static void
on_mailbox(void *arg, Rpc__Status status, const ProtobufCMessage *msg)
{
	struct find_call *c = arg;
	const Rpc__SearchReply *reply = (const Rpc__SearchReply *)msg;
	struct cas_wbxml_out out;
	size_t count = 0;

	if (reply == NULL || rpc_transient(reply->status)) {
		cas_request_respond_rpc_error(
		    c->r, reply == NULL ? status : reply->status);
		goto out;
	}
	switch (reply->status) {
	case RPC__STATUS__STATUS_OK:
		break;
	case RPC__STATUS__STATUS_NOT_FOUND:
		cas_request_respond_status(c->r,
					   FIND_STATUS_FOLDERSYNC_REQUIRED);
		goto out;
	case RPC__STATUS__STATUS_INVALID:
		cas_request_respond_status(c->r, FIND_STATUS_INVALID_REQUEST);
		goto out;
	default:
		cas_request_respond_status(c->r, CAS_STATUS_SERVER_ERROR);
		goto out;
	}
	cas_wbxml_out_init(&out);
	open_response(&out.enc, "Mailbox");
	for (size_t i = 0; i < reply->n_results; i++) {
		const Rpc__SearchResult *res = reply->results[i];

		if (res->data == NULL || res->data->email == NULL)
			continue;
		wbxml_enc_start(&out.enc, EAS_FIND_RESULT);
		wbxml_enc_str(&out.enc, EAS_AIRSYNC_CLASS, "Email");
		wbxml_enc_str(&out.enc, EAS_AIRSYNC_SERVER_ID, res->long_id);
		wbxml_enc_str(&out.enc, EAS_AIRSYNC_COLLECTION_ID,
			      res->collection_id);
		wbxml_enc_start(&out.enc, EAS_FIND_PROPERTIES);
		encode_email(&out.enc, res->data->email);
		wbxml_enc_end(&out.enc);
		wbxml_enc_end(&out.enc);
		count++;
	}
	close_response(&out.enc, c->first, count, reply->total);
	cas_request_send(c->r, &out);
out:
	free(c);
}

static void
on_gal(void *arg, Rpc__Status status, const ProtobufCMessage *msg)
{
	struct find_call *c = arg;
	const Rpc__GalSearchReply *reply = (const Rpc__GalSearchReply *)msg;
	const struct gal_wbxml_opts opts = {
	    .result_tag = EAS_FIND_RESULT,
	    .properties_tag = EAS_FIND_PROPERTIES,
	};
	struct cas_wbxml_out out;

	if (reply == NULL || rpc_transient(reply->status)) {
		cas_request_respond_rpc_error(
		    c->r, reply == NULL ? status : reply->status);
		goto out;
	}
	if (reply->status != RPC__STATUS__STATUS_OK) {
		cas_request_respond_status(
		    c->r, reply->status == RPC__STATUS__STATUS_INVALID
			      ? FIND_STATUS_INVALID_REQUEST
			      : CAS_STATUS_SERVER_ERROR);
		goto out;
	}
	cas_wbxml_out_init(&out);
	open_response(&out.enc, "GAL");
	for (size_t i = 0; i < reply->n_entries; i++) {
		const Rpc__GalEntry *g = reply->entries[i];

		gal_wbxml_encode(&out.enc, g, &opts);
	}
	close_response(&out.enc, c->first, reply->n_entries, reply->total);
	cas_request_send(c->r, &out);
out:
	free(c);
}

static void
find_run(struct cas_request *r)
{
	struct find_call *c = calloc(1, sizeof(*c));
	enum find_status st;
	const uint8_t *body;
	size_t len;
	int rc;

	if (c == NULL) {
		cas_request_respond_status(r, CAS_STATUS_SERVER_ERROR);
		return;
	}
	c->r = r;
	body = cas_req_body(r->req, &len);
	if (find_req_decode(body, len, &c->sr, &st) != 0) {
		cas_request_respond_status(r, st);
		free(c);
		return;
	}
	c->first = c->sr.has_range ? c->sr.range_start : 0;
	c->last = c->sr.has_range ? c->sr.range_end : FIND_DEFAULT_RANGE_END;
	/* MS-ASCMD 2.2.3.143.1: 0 <= m <= n <= 999. */
	if (c->last > SEARCH_MAX_RANGE_INDEX) {
		cas_request_respond_status(r, FIND_STATUS_INVALID_REQUEST);
		free(c);
		return;
	}
	if (c->last - c->first >= FIND_MAX_PAGE)
		c->last = c->first + FIND_MAX_PAGE - 1;
	if (c->sr.store == SEARCH_REQ_STORE_GAL) {
		Rpc__GalSearchRequest q;

		rpc__gal_search_request__init(&q);
		q.user = r->user;
		q.query = c->sr.text;
		q.range_start = c->first;
		q.range_end = c->last;
		gal_wbxml_picture_request(&c->sr, true, &q);
		rc =
		    mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_GAL_SEARCH,
			      &q.base, 0, on_gal, c);
	} else {
		struct search_req_rpc q;
		Rpc__BodyPreference pref, *pp = &pref;

		search_req_to_rpc(&c->sr, r->user, r->ash.device_id, c->first,
				  c->last, &q);
		/* The text body cut to the Preview (MS-ASAIRS 2.2.2.37). */
		rpc__body_preference__init(&pref);
		pref.type = 1;
		pref.truncation_size = FIND_PREVIEW_BYTES;
		pref.preview = FIND_PREVIEW_BYTES;
		q.msg.body_preferences = &pp;
		q.msg.n_body_preferences = 1;
		rc = mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_SEARCH,
			       &q.msg.base, 0, on_mailbox, c);
	}
	if (rc != 0) {
		cas_request_respond_status(r, CAS_STATUS_SERVER_ERROR);
		free(c);
	}
}

static void
find_handler(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, find_run);
}

CAS_COMMAND(find_command, .name = "Find", .min_version = 161,
	    .needs_policy_key = true, .handler = find_handler)
