/*
 * GetAttachment (MS-ASCMD 2.2.1.7, protocol 12.1 and older; the command
 * table of proto/eas_cmd.c refuses it from 14.0, where ItemOperations
 * replaces it): the AttachmentName query parameter is the FileReference
 * the client saw in a Sync, and the answer is the attachment's raw bytes
 * with its Content-Type, no WBXML.
 *
 * The bytes are streamed from the mailbox window by window
 * (cas/itemops_xfer.h), so CAS memory does not grow with the attachment.
 * The HTTP status is decided by the first frame: an unknown attachment
 * is HTTP 500 (the command has no status element), an unreachable
 * mailbox 503 with Retry-After.  A failure after the first bytes can only
 * cut the body short.
 */
#include "cas/dispatch.h"
#include "cas/itemops_xfer.h"
#include "cas/request.h"
#include "proto/log.h"

#include <string.h>

struct ga_ctx {
	struct cas_request *r;
	struct cas_req *req; /* our reference until the end */
	struct itemops_xfer x;
	bool begun;
	bool gone;
	bool done;
};

static void
ga_end_ctx(struct ga_ctx *c)
{
	struct cas_req *req = c->req;

	c->done = true;
	cas_request_done(c->r);
	cas_req_unref(&req); /* c lives in its arena: last use above */
}

static int
ga_head(struct itemops_xfer *x, uint64_t total, const char *content_type)
{
	struct ga_ctx *c = x->owner;
	const struct cas_header h[] = {
	    {"Content-Type", content_type[0] != '\0'
				 ? content_type
				 : "application/octet-stream"},
	};

	(void)total;
	if (c->gone || cas_req_stream_begin(c->req, 200, h, 1) != 0)
		return -1;
	c->begun = true;
	return 0;
}

static int
ga_data(struct itemops_xfer *x, const uint8_t *data, size_t len)
{
	struct ga_ctx *c = x->owner;

	return c->gone ? -1 : cas_req_stream_write(c->req, data, len);
}

static void
ga_end(struct itemops_xfer *x, Rpc__Status status, bool head_seen)
{
	struct ga_ctx *c = x->owner;
	char who[160];

	(void)head_seen;
	if (c->begun) {
		if (status != RPC__STATUS__STATUS_OK)
			log_warn("getattachment: %s: body cut short",
				 cas_request_describe(c->r, who, sizeof(who)));
		if (!c->gone)
			(void)cas_req_stream_end(c->req);
		ga_end_ctx(c);
		return;
	}
	if (!c->gone) {
		if (status == RPC__STATUS__STATUS_DISCONNECTED ||
		    status == RPC__STATUS__STATUS_TIMEOUT ||
		    status == RPC__STATUS__STATUS_BUSY)
			(void)cas_req_respond_retry(c->req, 503, 30);
		else
			(void)cas_req_respond_status(c->req, 500);
	}
	ga_end_ctx(c);
}

static void
ga_cancel_task(void *arg)
{
	struct ga_ctx *c = arg;
	struct cas_req *req = c->req;

	if (!c->done) {
		c->gone = true;
		itemops_xfer_cancel(&c->x);
	}
	cas_req_unref(&req); /* taken by ga_on_cancel */
}

static void
ga_on_cancel(struct cas_req *req, enum cas_req_end why, void *ctx)
{
	(void)why;
	cas_req_ref(req);
	if (mbox_client_post(cas_request_mbox(), ga_cancel_task, ctx) != 0)
		cas_req_unref(&req);
}

static void
getattachment_run(struct cas_request *r)
{
	struct ga_ctx *c;

	/* MS-ASCMD 2.2.1.7: AttachmentName is required. */
	if (r->ash.attachment_name[0] == '\0') {
		cas_request_respond_http(r, 400);
		return;
	}
	c = cas_req_alloc(r->req, sizeof(*c));
	if (c == NULL) {
		cas_request_respond_http(r, 500);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->req = r->req;
	cas_req_ref(c->req);
	c->x.mc = cas_request_mbox();
	c->x.req = r->req;
	c->x.user = r->user;
	c->x.device_id = r->ash.device_id;
	c->x.file_reference = r->ash.attachment_name;
	c->x.first = 0;
	c->x.last = UINT64_MAX;
	c->x.on_head = ga_head;
	c->x.on_data = ga_data;
	c->x.on_end = ga_end;
	c->x.owner = c;
	cas_req_on_cancel(r->req, ga_on_cancel, c);
	(void)itemops_xfer_start(&c->x);
}

static void
getattachment_handler(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, getattachment_run);
}

CAS_COMMAND(getattachment_command, .name = "GetAttachment", .min_version = 25,
	    .needs_policy_key = true, .handler = getattachment_handler)
