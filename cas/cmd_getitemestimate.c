/*
 * GetItemEstimate (MS-ASCMD 2.2.1.9): how many changes a Sync would bring
 * for each collection.  After the request pipeline the body is decoded
 * (cas/estimate_req.h); collections still at SyncKey 0 are answered
 * Status 3 ("sync state not primed") without asking anyone; the others go
 * to the mailbox in one Estimate call, answered from its change log in
 * O(changes).  The mailbox's per-collection status maps to 2 (unknown
 * collection) and 4 (sync key the device does not hold).
 */
#include "cas/dispatch.h"
#include "cas/estimate_req.h"
#include "cas/request.h"
#include "cas/wbxml_resp.h"

#include <stdlib.h>
#include <string.h>

struct estimate_call {
	struct cas_request *r;
	struct estimate_request er;
	struct estimate_result *results;
};

static void
call_free(struct estimate_call *c)
{
	estimate_req_clear(&c->er);
	free(c->results);
	free(c);
}

static void
send_results(struct estimate_call *c)
{
	struct cas_wbxml_out out;

	cas_wbxml_out_init(&out);
	estimate_resp_encode(&out.enc, c->r->version, &c->er, c->results);
	cas_request_send(c->r, &out);
	call_free(c);
}

static enum estimate_status
map_status(Rpc__Status s)
{
	switch (s) {
	case RPC__STATUS__STATUS_OK:
		return ESTIMATE_STATUS_OK;
	case RPC__STATUS__STATUS_INVALID_SYNC_KEY:
		return ESTIMATE_STATUS_INVALID_SYNC_KEY;
	default:
		return ESTIMATE_STATUS_INVALID_COLLECTION;
	}
}

static void
on_estimate(void *arg, Rpc__Status status, const ProtobufCMessage *msg)
{
	struct estimate_call *c = arg;
	const Rpc__EstimateReply *reply = (const Rpc__EstimateReply *)msg;

	if (reply == NULL || status != RPC__STATUS__STATUS_OK) {
		cas_request_respond_rpc_error(
		    c->r,
		    reply == NULL ? status : RPC__STATUS__STATUS_INTERNAL);
		call_free(c);
		return;
	}
	for (size_t i = 0; i < c->er.n_collections; i++) {
		if (c->results[i].status == ESTIMATE_STATUS_NOT_PRIMED)
			continue;
		c->results[i].status = ESTIMATE_STATUS_INVALID_COLLECTION;
		for (size_t j = 0; j < reply->n_results; j++) {
			const Rpc__EstimateResult *res = reply->results[j];

			if (res->collection_id == NULL ||
			    strcmp(res->collection_id,
				   c->er.collections[i].collection_id) != 0)
				continue;
			c->results[i].status = map_status(res->status);
			c->results[i].estimate = res->estimate;
			break;
		}
	}
	send_results(c);
}

static void
estimate_run(struct cas_request *r)
{
	struct estimate_call *c = calloc(1, sizeof(*c));
	Rpc__EstimateRequest req;
	Rpc__EstimateCollection *colls = NULL, **ptrs = NULL;
	enum estimate_status st;
	const uint8_t *body;
	size_t len, n = 0;

	if (c == NULL) {
		cas_request_respond_status(r, CAS_STATUS_SERVER_ERROR);
		return;
	}
	c->r = r;
	body = cas_req_body(r->req, &len);
	if (estimate_req_decode(body, len, &c->er, &st) != 0) {
		/* MS-ASCMD 3.1.5.10: too many collections is the common
		 * Status 103 (14.0+); before, only Status 2 exists. */
		if (st == ESTIMATE_STATUS_TOO_MANY && r->version < 140)
			st = ESTIMATE_STATUS_INVALID_COLLECTION;
		cas_request_respond_status(r, st);
		call_free(c);
		return;
	}
	c->results = calloc(c->er.n_collections, sizeof(*c->results));
	colls = calloc(c->er.n_collections, sizeof(*colls));
	ptrs = calloc(c->er.n_collections, sizeof(*ptrs));
	if (c->results == NULL || colls == NULL || ptrs == NULL)
		goto fail;
	rpc__estimate_request__init(&req);
	req.user = r->user;
	req.device_id = r->ash.device_id;
	for (size_t i = 0; i < c->er.n_collections; i++) {
		struct estimate_collection *ec = &c->er.collections[i];

		/* MS-ASCMD 2.2.3.177.7 Status 3: SyncKey 0 is not primed. */
		if (strcmp(ec->sync_key, "0") == 0) {
			c->results[i].status = ESTIMATE_STATUS_NOT_PRIMED;
			continue;
		}
		rpc__estimate_collection__init(&colls[n]);
		colls[n].collection_id = ec->collection_id;
		colls[n].sync_key = ec->sync_key;
		colls[n].filter_type = ec->filter_type;
		colls[n].item_class = ec->class;
		colls[n].conversation_mode = ec->conversation_mode;
		ptrs[n] = &colls[n];
		n++;
	}
	if (n == 0) {
		free(colls);
		free(ptrs);
		send_results(c);
		return;
	}
	req.collections = ptrs;
	req.n_collections = n;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_ESTIMATE,
		      &req.base, 0, on_estimate, c) != 0)
		goto fail;
	free(colls);
	free(ptrs);
	return;
fail:
	free(colls);
	free(ptrs);
	cas_request_respond_status(r, CAS_STATUS_SERVER_ERROR);
	call_free(c);
}

static void
estimate_handler(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, estimate_run);
}

CAS_COMMAND(estimate_command, .name = "GetItemEstimate", .min_version = 25,
	    .needs_policy_key = true, .handler = estimate_handler)
