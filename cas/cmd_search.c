/*
 * Search (MS-ASCMD 2.2.1.16).  The body is decoded (cas/search_req.h) and
 * sent to the mailbox as one call: store "Mailbox" as RPC Search, answered
 * from the full-text index (mailbox/store_search.c: cost follows the
 * matches, never a folder scan); store "GAL" as RPC GalSearch, answered
 * from the directory by prefix.  Store "DocumentLibrary" (UNC and
 * SharePoint shares, MS-ASDOC) is not served: Store Status 5, access
 * denied, which clients show as "not available" without retrying.
 *
 * The response (MS-ASCMD 2.2.3.153.4 Response):
 *   <Search><Status>1</Status><Response><Store><Status>1</Status>
 *     <Result> airsync:Class, LongId, airsync:CollectionId,
 *       <Properties> the email as in a Sync Add (cas/email_wbxml.h) </Result>
 *     or for the GAL <Result><Properties> the entry's names, phones,
 *       alias and address, gal:Picture when asked (cas/gal_wbxml.h)...
 *     <Range>m-n</Range><Total>N</Total></Store></Response></Search>
 * With no match one empty <Result/> and Total 0, as Exchange answers.
 *
 * Statuses: a body that is not a Search, or a query outside the schema,
 * Search Status 2; a query the index cannot run (an Or of words, or a
 * ConversationId anywhere but directly under And) Store Status 8; a Range of
 * more than 100 results or ending after SEARCH_MAX_RANGE_INDEX Store Status 12;
 * a CollectionId the user does not have (another user's included, invariant 6)
 * Store Status 11 (FolderSync required); a store failure Store Status 3, and a
 * mailbox that cannot be reached the common 111 / 503.  RebuildResults needs
 * nothing: no result set is cached, every search runs afresh.
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

/* Exchange's default Range for the Mailbox and GAL stores (MS-ASCMD
 * 2.2.3.143.3), and the page bound of both. */
#define SEARCH_DEFAULT_RANGE_END 99u
#define SEARCH_MAX_PAGE 100u

struct search_call {
	struct cas_request *r;
	struct search_req sr;
	uint32_t first, last;
};

/* <Search><Status>1</Status><Response><Store><Status>s</Status>... */
static void
open_store(struct wbxml_enc *e, unsigned store_status)
{
	wbxml_enc_start(e, EAS_SEARCH_SEARCH);
	wbxml_enc_uint(e, EAS_SEARCH_STATUS, SEARCH_REQ_OK);
	wbxml_enc_start(e, EAS_SEARCH_RESPONSE);
	wbxml_enc_start(e, EAS_SEARCH_STORE);
	wbxml_enc_uint(e, EAS_SEARCH_STATUS, store_status);
}

static void
close_store(struct wbxml_enc *e, uint32_t first, size_t count, uint32_t total)
{
	char range[32];

	if (count == 0) {
		wbxml_enc_empty(e, EAS_SEARCH_RESULT);
	} else {
		(void)snprintf(range, sizeof(range), "%u-%zu", (unsigned)first,
			       (size_t)first + count - 1);
		wbxml_enc_str(e, EAS_SEARCH_RANGE, range);
	}
	wbxml_enc_uint(e, EAS_SEARCH_TOTAL, total);
	wbxml_enc_end(e); /* Store */
	wbxml_enc_end(e); /* Response */
	wbxml_enc_end(e); /* Search */
}

/* A Store-level failure inside a successful Search. */
static void
respond_store_status(struct cas_request *r, unsigned store_status)
{
	struct cas_wbxml_out out;

	cas_wbxml_out_init(&out);
	open_store(&out.enc, store_status);
	wbxml_enc_end(&out.enc);
	wbxml_enc_end(&out.enc);
	wbxml_enc_end(&out.enc);
	cas_request_send(r, &out);
}

static bool
rpc_transient(Rpc__Status s)
{
	return s == RPC__STATUS__STATUS_DISCONNECTED ||
	       s == RPC__STATUS__STATUS_TIMEOUT ||
	       s == RPC__STATUS__STATUS_BUSY;
}

static unsigned
mailbox_store_status(const Rpc__SearchReply *reply)
{
	switch (reply->status) {
	case RPC__STATUS__STATUS_NOT_FOUND:
		return SEARCH_REQ_FOLDERSYNC_REQUIRED;
	case RPC__STATUS__STATUS_INVALID:
		switch (reply->error) {
		case RPC__SEARCH_ERROR__SEARCH_ERROR_TOO_COMPLEX:
			return SEARCH_REQ_TOO_COMPLEX;
		case RPC__SEARCH_ERROR__SEARCH_ERROR_RANGE:
			return SEARCH_REQ_RANGE;
		default:
			return SEARCH_REQ_PROTOCOL_ERROR;
		}
	default:
		return SEARCH_REQ_SERVER_ERROR;
	}
}

static void
on_mailbox(void *arg, Rpc__Status status, const ProtobufCMessage *msg)
{
	struct search_call *c = arg;
	const Rpc__SearchReply *reply = (const Rpc__SearchReply *)msg;
	struct email_wbxml_opts opts;
	struct cas_wbxml_out out;
	size_t count = 0;

	if (reply == NULL || rpc_transient(reply->status)) {
		cas_request_respond_rpc_error(
		    c->r, reply == NULL ? status : reply->status);
		goto out;
	}
	if (reply->status != RPC__STATUS__STATUS_OK) {
		respond_store_status(c->r, mailbox_store_status(reply));
		goto out;
	}
	memset(&opts, 0, sizeof(opts));
	opts.version = c->r->version;
	opts.prefs =
	    c->sr.n_body_prefs > 0 ? c->sr.body_prefs : c->sr.body_part_prefs;
	opts.n_prefs = c->sr.n_body_prefs > 0 ? c->sr.n_body_prefs
					      : c->sr.n_body_part_prefs;
	opts.truncation_bytes = EMAIL_WBXML_NO_TRUNCATION;
	opts.mime_truncation_bytes = EMAIL_WBXML_NO_TRUNCATION;
	cas_wbxml_out_init(&out);
	open_store(&out.enc, SEARCH_REQ_OK);
	for (size_t i = 0; i < reply->n_results; i++) {
		const Rpc__SearchResult *res = reply->results[i];

		if (res->data == NULL || res->data->email == NULL)
			continue;
		wbxml_enc_start(&out.enc, EAS_SEARCH_RESULT);
		wbxml_enc_str(&out.enc, EAS_AIRSYNC_CLASS, "Email");
		wbxml_enc_str(&out.enc, EAS_SEARCH_LONG_ID, res->long_id);
		wbxml_enc_str(&out.enc, EAS_AIRSYNC_COLLECTION_ID,
			      res->collection_id);
		wbxml_enc_start(&out.enc, EAS_SEARCH_PROPERTIES);
		(void)email_wbxml_encode(&out.enc, res->data->email, &opts);
		wbxml_enc_end(&out.enc);
		wbxml_enc_end(&out.enc);
		count++;
	}
	close_store(&out.enc, c->first, count, reply->total);
	cas_request_send(c->r, &out);
out:
	free(c);
}

static void
on_gal(void *arg, Rpc__Status status, const ProtobufCMessage *msg)
{
	struct search_call *c = arg;
	const Rpc__GalSearchReply *reply = (const Rpc__GalSearchReply *)msg;
	const struct gal_wbxml_opts opts = {
	    .result_tag = EAS_SEARCH_RESULT,
	    .properties_tag = EAS_SEARCH_PROPERTIES,
	};
	struct cas_wbxml_out out;

	if (reply == NULL || rpc_transient(reply->status)) {
		cas_request_respond_rpc_error(
		    c->r, reply == NULL ? status : reply->status);
		goto out;
	}
	if (reply->status != RPC__STATUS__STATUS_OK) {
		respond_store_status(c->r, reply->status ==
						   RPC__STATUS__STATUS_INVALID
					       ? SEARCH_REQ_PROTOCOL_ERROR
					       : SEARCH_REQ_SERVER_ERROR);
		goto out;
	}
	cas_wbxml_out_init(&out);
	open_store(&out.enc, SEARCH_REQ_OK);
	for (size_t i = 0; i < reply->n_entries; i++) {
		const Rpc__GalEntry *g = reply->entries[i];

		gal_wbxml_encode(&out.enc, g, &opts);
	}
	close_store(&out.enc, c->first, reply->n_entries, reply->total);
	cas_request_send(c->r, &out);
out:
	free(c);
}

static void
search_run(struct cas_request *r)
{
	struct search_call *c = calloc(1, sizeof(*c));
	enum search_req_status st;
	const uint8_t *body;
	size_t len;
	int rc;

	if (c == NULL) {
		cas_request_respond_status(r, CAS_STATUS_SERVER_ERROR);
		return;
	}
	c->r = r;
	body = cas_req_body(r->req, &len);
	if (search_req_decode(body, len, &c->sr, &st) != 0) {
		if (st == SEARCH_REQ_PROTOCOL_ERROR)
			cas_request_respond_status(r, st);
		else
			respond_store_status(r, st);
		free(c);
		return;
	}
	if (c->sr.store == SEARCH_REQ_STORE_DOCUMENT_LIBRARY) {
		respond_store_status(r, SEARCH_REQ_ACCESS_DENIED);
		free(c);
		return;
	}
	c->first = c->sr.has_range ? c->sr.range_start : 0;
	c->last = c->sr.has_range ? c->sr.range_end : SEARCH_DEFAULT_RANGE_END;
	/* MS-ASCMD 2.2.3.143.3: at most 100 results per response; the
	 * index serves positions up to SEARCH_MAX_RANGE_INDEX. */
	if (c->last - c->first >= SEARCH_MAX_PAGE ||
	    c->last > SEARCH_MAX_RANGE_INDEX) {
		respond_store_status(r, SEARCH_REQ_RANGE);
		free(c);
		return;
	}
	if (c->sr.store == SEARCH_REQ_STORE_GAL) {
		Rpc__GalSearchRequest q;

		rpc__gal_search_request__init(&q);
		q.user = r->user;
		q.query = c->sr.text;
		q.range_start = c->first;
		q.range_end = c->last;
		/* Picture is a 14.1 element (MS-ASCMD 2.2.3.135.3). */
		gal_wbxml_picture_request(&c->sr, r->version >= 141, &q);
		rc =
		    mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_GAL_SEARCH,
			      &q.base, 0, on_gal, c);
	} else {
		struct search_req_rpc q;

		search_req_to_rpc(&c->sr, r->user, r->ash.device_id, c->first,
				  c->last, &q);
		rc = mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_SEARCH,
			       &q.msg.base, 0, on_mailbox, c);
	}
	if (rc != 0) {
		cas_request_respond_status(r, CAS_STATUS_SERVER_ERROR);
		free(c);
	}
}

static void
search_handler(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, search_run);
}

CAS_COMMAND(search_command, .name = "Search", .min_version = 25,
	    .needs_policy_key = true, .handler = search_handler)
