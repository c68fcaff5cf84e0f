/*
 * ItemOperations (MS-ASCMD 2.2.1.10): Fetch of items, attachments and
 * Search results, EmptyFolderContents and conversation Move, answered in
 * request order with a status each (decoding: cas/itemops_req.h).
 *
 * The response is streamed.  Operations run one after the other, each an
 * asynchronous mailbox call on the mailbox client's loop thread, and each
 * answer is encoded as soon as it is known:
 *
 *  - inline (the default): attachment bytes go into ItemOperations:Data as
 *    one OPAQUE whose length comes from the first FetchReply frame, then
 *    pass through window by window (cas/itemops_xfer.h), so CAS memory
 *    does not grow with the attachment;
 *  - multipart (MS-ASCMD 2.2.1.10.1, MS-ASHTTP: MS-ASAcceptMultiPart: T or
 *    the AcceptMultiPart query option): the WBXML names each attachment's
 *    bytes by ItemOperations:Part, and the body is
 *      int32 part count, {int32 offset, int32 length} per part, the parts
 *    (little-endian, offsets from the start of the body), part 0 being
 *    the WBXML.  The layout needs every length up front, so the
 *    operations first run with size-only Fetches into a WBXML held in
 *    memory, then the header and the WBXML go out and each attachment is
 *    streamed in turn.  Item bodies stay inline in the WBXML part.
 *
 * Nothing is capped beyond what the client asked for: iOS and Nine fetch
 * the rest of a truncated body this way (checklist).  A failure before
 * any byte went out can still be answered whole (503 / Status 111 when
 * the mailbox is unreachable); once the stream has begun, a failure in
 * the middle of an attachment can only cut the response short.
 */
#include "cas/dispatch.h"
#include "cas/email_wbxml.h"
#include "cas/itemops_req.h"
#include "cas/itemops_xfer.h"
#include "cas/request.h"
#include "cas/wbxml_resp.h"
#include "proto/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEMOPS_MULTIPART_CONTENT_TYPE "application/vnd.ms-sync.multipart"

struct io_part {
	const char *file_reference; /* into the request */
	uint64_t first, last;
	uint64_t len;
};

struct io_ctx {
	struct cas_request *r;
	struct cas_req *req; /* our reference until the end */
	struct itemops_request q;
	bool multipart;
	size_t cur;
	struct wbxml_enc *enc;
	struct cas_wbxml_stream ws; /* inline */
	struct buf mp_buf;          /* multipart: the WBXML part */
	struct wbxml_enc mp_enc;
	struct io_part parts[ITEMOPS_MAX_OPERATIONS];
	size_t n_parts, part_cur;
	struct itemops_xfer x;
	bool xfer_active;
	bool data_open;       /* inside an inline Data OPAQUE */
	unsigned head_status; /* a status decided by the head callback */
	bool gone;
	bool done;
};

static void next_op(struct io_ctx *c);
static void stream_parts(struct io_ctx *c);

/* ---- the end ------------------------------------------------------------ */

static void
ctx_end(struct io_ctx *c)
{
	struct cas_req *req = c->req;

	c->done = true;
	itemops_req_clear(&c->q);
	buf_free(&c->mp_buf);
	cas_request_done(c->r);
	cas_req_unref(&req); /* c lives in its arena: last use above */
}

/* A failure after bytes went out: the response can only be cut short. */
static void
abort_stream(struct io_ctx *c, const char *why)
{
	char who[160];

	log_warn("itemoperations: %s: response cut short (%s)",
		 cas_request_describe(c->r, who, sizeof(who)), why);
	if (!c->gone)
		(void)cas_req_stream_end(c->req);
	ctx_end(c);
}

/* Whole-request answers before anything was sent. */
static void
answer_early(struct io_ctx *c, Rpc__Status status)
{
	struct cas_req *req = c->req;

	c->done = true;
	itemops_req_clear(&c->q);
	buf_free(&c->mp_buf);
	if (c->gone)
		cas_request_done(c->r);
	else
		cas_request_respond_rpc_error(c->r, status);
	cas_req_unref(&req);
}

static bool
local_failure(Rpc__Status s)
{
	return s == RPC__STATUS__STATUS_DISCONNECTED ||
	       s == RPC__STATUS__STATUS_TIMEOUT ||
	       s == RPC__STATUS__STATUS_BUSY;
}

static bool
begun(const struct io_ctx *c)
{
	return c->multipart ? false : cas_wbxml_stream_begun(&c->ws);
}

/* ---- status mapping (MS-ASCMD 2.2.3.177.8) ------------------------------- */

static enum itemops_status
fetch_status(const struct itemops_fetch *f, Rpc__Status s)
{
	switch (s) {
	case RPC__STATUS__STATUS_OK:
		return ITEMOPS_STATUS_OK;
	case RPC__STATUS__STATUS_NOT_FOUND:
		return f->by == ITEMOPS_BY_FILE_REF
			   ? ITEMOPS_STATUS_BAD_ATTACHMENT
			   : ITEMOPS_STATUS_NOT_FOUND;
	case RPC__STATUS__STATUS_INVALID:
		if (f->by == ITEMOPS_BY_FILE_REF)
			return f->has_range ? ITEMOPS_STATUS_BAD_RANGE
					    : ITEMOPS_STATUS_BAD_ATTACHMENT;
		return ITEMOPS_STATUS_PROTOCOL_ERROR;
	case RPC__STATUS__STATUS_TOO_LARGE:
		return ITEMOPS_STATUS_TOO_LARGE;
	case RPC__STATUS__STATUS_DENIED:
		return ITEMOPS_STATUS_BLOCKED;
	default:
		return ITEMOPS_STATUS_SERVER_ERROR;
	}
}

/* ---- encoding ------------------------------------------------------------ */

static void
enc_fetch_id(struct wbxml_enc *e, const struct itemops_fetch *f)
{
	switch (f->by) {
	case ITEMOPS_BY_FILE_REF:
		wbxml_enc_str(e, EAS_AIRSYNCBASE_FILE_REFERENCE, f->reference);
		break;
	case ITEMOPS_BY_LONG_ID:
		wbxml_enc_str(e, EAS_SEARCH_LONG_ID, f->reference);
		break;
	case ITEMOPS_BY_LINK:
		wbxml_enc_str(e, EAS_DOCUMENTLIBRARY_LINK_ID, f->reference);
		break;
	case ITEMOPS_BY_ITEM:
		wbxml_enc_str(e, EAS_AIRSYNC_COLLECTION_ID, f->collection_id);
		wbxml_enc_str(e, EAS_AIRSYNC_SERVER_ID, f->server_id);
		break;
	}
}

/* An operation answered with its status alone (and its identifiers). */
static void
enc_status_only(struct io_ctx *c, const struct itemops_op *op, unsigned status)
{
	struct wbxml_enc *e = c->enc;

	switch (op->kind) {
	case ITEMOPS_FETCH:
		wbxml_enc_start(e, EAS_ITEMOPERATIONS_FETCH);
		wbxml_enc_uint(e, EAS_ITEMOPERATIONS_STATUS, status);
		if (op->u.fetch.by != 0)
			enc_fetch_id(e, &op->u.fetch);
		break;
	case ITEMOPS_EMPTY_FOLDER:
		wbxml_enc_start(e, EAS_ITEMOPERATIONS_EMPTY_FOLDER_CONTENTS);
		wbxml_enc_uint(e, EAS_ITEMOPERATIONS_STATUS, status);
		if (op->u.empty.collection_id[0] != '\0')
			wbxml_enc_str(e, EAS_AIRSYNC_COLLECTION_ID,
				      op->u.empty.collection_id);
		break;
	case ITEMOPS_MOVE:
		wbxml_enc_start(e, EAS_ITEMOPERATIONS_MOVE);
		wbxml_enc_uint(e, EAS_ITEMOPERATIONS_STATUS, status);
		if (op->u.move.conversation_id_len > 0)
			wbxml_enc_opaque(e, EAS_ITEMOPERATIONS_CONVERSATION_ID,
					 op->u.move.conversation_id,
					 op->u.move.conversation_id_len);
		break;
	}
	wbxml_enc_end(e);
}

/* Properties head of an attachment: ContentType, and Range/Total when
 * the client asked for a range (MS-ASCMD 2.2.3.140.1, 2.2.3.181). */
static void
enc_att_head(struct wbxml_enc *e, const struct itemops_fetch *f,
	     const char *content_type, uint64_t total, uint64_t len)
{
	char range[ITEMOPS_MAX_RANGE_BYTES + 1];

	wbxml_enc_start(e, EAS_ITEMOPERATIONS_FETCH);
	wbxml_enc_uint(e, EAS_ITEMOPERATIONS_STATUS, ITEMOPS_STATUS_OK);
	enc_fetch_id(e, f);
	wbxml_enc_start(e, EAS_ITEMOPERATIONS_PROPERTIES);
	if (content_type[0] != '\0')
		wbxml_enc_str(e, EAS_AIRSYNCBASE_CONTENT_TYPE, content_type);
	if (f->has_range) {
		(void)snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64,
			       f->range_first,
			       f->range_first + (len > 0 ? len - 1 : 0));
		wbxml_enc_str(e, EAS_ITEMOPERATIONS_RANGE, range);
		wbxml_enc_uint(e, EAS_ITEMOPERATIONS_TOTAL, total);
	}
}

/* ---- operations ------------------------------------------------------------
 */

static void
op_done(struct io_ctx *c)
{
	c->cur++;
	if (wbxml_enc_error(c->enc) != WBXML_ERR_NONE) {
		if (begun(c))
			abort_stream(c,
				     wbxml_strerror(wbxml_enc_error(c->enc)));
		else
			answer_early(c, RPC__STATUS__STATUS_INTERNAL);
		return;
	}
	/* Each answer leaves as soon as it is encoded. */
	(void)wbxml_enc_flush(c->enc);
	next_op(c);
}

/* A mailbox call's common failure handling; true when it ended c. */
static bool
rpc_failed(struct io_ctx *c, Rpc__Status status)
{
	if (c->gone) {
		if (begun(c))
			abort_stream(c, "client gone");
		else
			answer_early(c, status);
		return true;
	}
	if (local_failure(status) && !begun(c)) {
		answer_early(c, status);
		return true;
	}
	return false;
}

static void
on_item(void *arg, Rpc__Status status, const ProtobufCMessage *msg)
{
	struct io_ctx *c = arg;
	const struct itemops_op *op = &c->q.ops[c->cur];
	const struct itemops_fetch *f = &op->u.fetch;
	const Rpc__FetchReply *rep = (const Rpc__FetchReply *)msg;
	struct email_wbxml_opts opts;
	struct wbxml_enc *e = c->enc;

	if (rpc_failed(c, status))
		return;
	if (rep == NULL || status != RPC__STATUS__STATUS_OK ||
	    rep->data == NULL) {
		enc_status_only(
		    c, op,
		    fetch_status(f, rep == NULL || rep->data != NULL
					? status
					: RPC__STATUS__STATUS_NOT_FOUND));
		op_done(c);
		return;
	}
	wbxml_enc_start(e, EAS_ITEMOPERATIONS_FETCH);
	wbxml_enc_uint(e, EAS_ITEMOPERATIONS_STATUS, ITEMOPS_STATUS_OK);
	enc_fetch_id(e, f);
	if (rep->data->email != NULL)
		wbxml_enc_str(e, EAS_AIRSYNC_CLASS, "Email");
	wbxml_enc_start(e, EAS_ITEMOPERATIONS_PROPERTIES);
	if (rep->data->email != NULL) {
		/* No cap beyond the client's own TruncationSize. */
		memset(&opts, 0, sizeof(opts));
		opts.version = c->r->version;
		opts.prefs =
		    f->n_body_prefs > 0 ? f->body_prefs : f->body_part_prefs;
		opts.n_prefs = f->n_body_prefs > 0 ? f->n_body_prefs
						   : f->n_body_part_prefs;
		opts.truncation_bytes = EMAIL_WBXML_NO_TRUNCATION;
		opts.mime_truncation_bytes = EMAIL_WBXML_NO_TRUNCATION;
		(void)email_wbxml_encode(e, rep->data->email, &opts);
	}
	wbxml_enc_end(e); /* Properties */
	wbxml_enc_end(e); /* Fetch */
	op_done(c);
}

static void
fetch_item(struct io_ctx *c, const struct itemops_fetch *f)
{
	Rpc__FetchRequest q;
	Rpc__BodyPreference prefs[SYNC_MAX_BODY_PREFS];
	Rpc__BodyPreference *pp[SYNC_MAX_BODY_PREFS];
	const struct sync_body_pref *src =
	    f->n_body_prefs > 0 ? f->body_prefs : f->body_part_prefs;
	size_t n = f->n_body_prefs > 0 ? f->n_body_prefs : f->n_body_part_prefs;

	rpc__fetch_request__init(&q);
	q.user = c->r->user;
	q.device_id = c->r->ash.device_id;
	if (f->by == ITEMOPS_BY_LONG_ID) {
		q.kind = RPC__FETCH_KIND__FETCH_LONG_ID;
		q.long_id = (char *)(uintptr_t)f->reference;
	} else {
		q.kind = RPC__FETCH_KIND__FETCH_ITEM;
		q.collection_id = (char *)(uintptr_t)f->collection_id;
		q.server_id = (char *)(uintptr_t)f->server_id;
	}
	for (size_t i = 0; i < n; i++) {
		rpc__body_preference__init(&prefs[i]);
		/* The whole body: the client truncates by its own options,
		 * applied in the encoder. */
		prefs[i].type = src[i].type;
		prefs[i].all_or_none = src[i].all_or_none;
		prefs[i].preview = src[i].preview;
		pp[i] = &prefs[i];
	}
	q.body_preferences = pp;
	q.n_body_preferences = n;
	q.mime_support = f->has_mime_support ? f->mime_support : 0;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_FETCH, &q.base, 0,
		      on_item, c) != 0) {
		enc_status_only(c, &c->q.ops[c->cur],
				ITEMOPS_STATUS_SERVER_ERROR);
		op_done(c);
	}
}

/* -- attachments, inline or sized for multipart -- */

static int
att_head(struct itemops_xfer *x, uint64_t total, const char *content_type)
{
	struct io_ctx *c = x->owner;
	const struct itemops_fetch *f = &c->q.ops[c->cur].u.fetch;
	uint64_t len = itemops_xfer_length(x, total);

	if (c->gone)
		return -1;
	if (c->multipart) {
		struct io_part *p = &c->parts[c->n_parts];

		p->file_reference = f->reference;
		p->first = x->first;
		p->last = x->last;
		p->len = len;
		enc_att_head(c->enc, f, content_type, total, len);
		/* MS-ASCMD 2.2.3.129: Part is the index of the body part. */
		wbxml_enc_uint(c->enc, EAS_ITEMOPERATIONS_PART,
			       (uint64_t)++c->n_parts);
		wbxml_enc_end(c->enc); /* Properties */
		wbxml_enc_end(c->enc); /* Fetch */
		return 0;
	}
	if (len > WBXML_MAX_OPAQUE_BYTES) {
		/* Inline Data is one OPAQUE: larger content needs Range or
		 * multipart (MS-ASCMD 2.2.3.177.8 Status 11). */
		c->head_status = ITEMOPS_STATUS_TOO_LARGE;
		return -1;
	}
	enc_att_head(c->enc, f, content_type, total, len);
	wbxml_enc_start(c->enc, EAS_ITEMOPERATIONS_DATA);
	if (wbxml_enc_opaque_begin(c->enc, (size_t)len) != 0)
		return -1;
	c->data_open = true;
	return 0;
}

static int
att_data(struct itemops_xfer *x, const uint8_t *data, size_t len)
{
	struct io_ctx *c = x->owner;

	if (c->gone)
		return -1;
	/* Flushed at once: the stream must have begun before the transfer
	 * waits for it to drain. */
	if (wbxml_enc_opaque_part(c->enc, data, len) != 0)
		return -1;
	return wbxml_enc_flush(c->enc);
}

static void
att_end(struct itemops_xfer *x, Rpc__Status status, bool head_seen)
{
	struct io_ctx *c = x->owner;
	const struct itemops_op *op = &c->q.ops[c->cur];

	(void)head_seen;
	c->xfer_active = false;
	if (c->data_open) {
		c->data_open = false;
		if (status != RPC__STATUS__STATUS_OK || c->gone) {
			abort_stream(c, c->gone ? "client gone"
						: "attachment stream failed");
			return;
		}
		wbxml_enc_end(c->enc); /* Data */
		wbxml_enc_end(c->enc); /* Properties */
		wbxml_enc_end(c->enc); /* Fetch */
		op_done(c);
		return;
	}
	if (c->multipart && status == RPC__STATUS__STATUS_OK) {
		op_done(c); /* head written by att_head */
		return;
	}
	if (rpc_failed(c, status))
		return;
	if (c->head_status != 0) {
		enc_status_only(c, op, c->head_status);
		c->head_status = 0;
	} else {
		enc_status_only(c, op, fetch_status(&op->u.fetch, status));
	}
	op_done(c);
}

static void
fetch_attachment(struct io_ctx *c, const struct itemops_fetch *f)
{
	struct itemops_xfer *x = &c->x;

	memset(x, 0, sizeof(*x));
	x->mc = cas_request_mbox();
	x->req = c->multipart ? NULL : c->req;
	x->user = c->r->user;
	x->device_id = c->r->ash.device_id;
	x->file_reference = f->reference;
	x->first = f->has_range ? f->range_first : 0;
	x->last = f->has_range ? f->range_last : UINT64_MAX;
	x->size_only = c->multipart;
	x->on_head = att_head;
	x->on_data = att_data;
	x->on_end = att_end;
	x->owner = c;
	c->xfer_active = true;
	(void)itemops_xfer_start(x);
}

/* -- EmptyFolderContents (MS-ASCMD 2.2.3.58) and Move (2.2.3.117.1) -- */

static void
on_empty(void *arg, Rpc__Status status, const ProtobufCMessage *msg)
{
	struct io_ctx *c = arg;
	const struct itemops_op *op = &c->q.ops[c->cur];
	unsigned st;

	(void)msg;
	if (rpc_failed(c, status))
		return;
	switch (status) {
	case RPC__STATUS__STATUS_OK:
		st = ITEMOPS_STATUS_OK;
		break;
	case RPC__STATUS__STATUS_NOT_FOUND:
	case RPC__STATUS__STATUS_INVALID:
		st = ITEMOPS_STATUS_NOT_FOUND;
		break;
	case RPC__STATUS__STATUS_DENIED:
		st = ITEMOPS_STATUS_BLOCKED;
		break;
	default:
		st = ITEMOPS_STATUS_SERVER_ERROR;
		break;
	}
	enc_status_only(c, op, st);
	op_done(c);
}

static void
empty_folder(struct io_ctx *c, const struct itemops_empty *ef)
{
	Rpc__EmptyFolderRequest q;

	rpc__empty_folder_request__init(&q);
	q.user = c->r->user;
	q.device_id = c->r->ash.device_id;
	q.collection_id = (char *)(uintptr_t)ef->collection_id;
	q.delete_subfolders = ef->delete_subfolders;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_EMPTY_FOLDER,
		      &q.base, 0, on_empty, c) != 0) {
		enc_status_only(c, &c->q.ops[c->cur],
				ITEMOPS_STATUS_SERVER_ERROR);
		op_done(c);
	}
}

static void
on_move(void *arg, Rpc__Status status, const ProtobufCMessage *msg)
{
	struct io_ctx *c = arg;
	const struct itemops_op *op = &c->q.ops[c->cur];
	const Rpc__MoveItemsReply *rep = (const Rpc__MoveItemsReply *)msg;
	Rpc__Status s = status;
	unsigned st;

	if (rpc_failed(c, status))
		return;
	if (rep != NULL && status == RPC__STATUS__STATUS_OK)
		s = rep->n_results == 1 ? rep->results[0]->status
					: RPC__STATUS__STATUS_INTERNAL;
	switch (s) {
	case RPC__STATUS__STATUS_OK:
		st = ITEMOPS_STATUS_OK;
		break;
	case RPC__STATUS__STATUS_NOT_FOUND:
		st = ITEMOPS_STATUS_NOT_FOUND;
		break;
	case RPC__STATUS__STATUS_INVALID:
		st = ITEMOPS_STATUS_PROTOCOL_ERROR;
		break;
	default:
		st = ITEMOPS_STATUS_SERVER_ERROR;
		break;
	}
	enc_status_only(c, op, st);
	op_done(c);
}

static void
move_conversation(struct io_ctx *c, const struct itemops_move *m)
{
	Rpc__MoveItemsRequest q;

	rpc__move_items_request__init(&q);
	q.user = c->r->user;
	q.device_id = c->r->ash.device_id;
	q.conversation_id.data = (uint8_t *)(uintptr_t)m->conversation_id;
	q.conversation_id.len = m->conversation_id_len;
	q.conversation_dst_id = (char *)(uintptr_t)m->dst_folder_id;
	q.move_always = m->move_always;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_MOVE_ITEMS,
		      &q.base, 0, on_move, c) != 0) {
		enc_status_only(c, &c->q.ops[c->cur],
				ITEMOPS_STATUS_SERVER_ERROR);
		op_done(c);
	}
}

/* ---- the sequence ----------------------------------------------------------
 */

static void
finish_inline(struct io_ctx *c)
{
	wbxml_enc_end(&c->ws.enc); /* Response */
	wbxml_enc_end(&c->ws.enc); /* ItemOperations */
	if (cas_wbxml_stream_finish(&c->ws) != 0 && !c->gone) {
		if (!cas_wbxml_stream_begun(&c->ws)) {
			answer_early(c, RPC__STATUS__STATUS_INTERNAL);
			return;
		}
		abort_stream(c, "encoding failed");
		return;
	}
	ctx_end(c);
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* MS-ASCMD 2.2.1.10.1: the multipart header, then the WBXML part. */
static void
finish_multipart_head(struct io_ctx *c)
{
	static const struct cas_header h[] = {
	    {"Content-Type", ITEMOPS_MULTIPART_CONTENT_TYPE},
	};
	size_t count = 1 + c->n_parts;
	size_t head_len = 4 + 8 * count;
	uint8_t head[4 + 8 * (1 + ITEMOPS_MAX_OPERATIONS)];
	uint64_t off = head_len;

	wbxml_enc_end(&c->mp_enc); /* Response */
	wbxml_enc_end(&c->mp_enc); /* ItemOperations */
	if (wbxml_enc_finish(&c->mp_enc) != 0) {
		answer_early(c, RPC__STATUS__STATUS_INTERNAL);
		return;
	}
	put_le32(head, (uint32_t)count);
	put_le32(head + 4, (uint32_t)off);
	put_le32(head + 8, (uint32_t)c->mp_buf.len);
	off += c->mp_buf.len;
	for (size_t i = 0; i < c->n_parts; i++) {
		/* Offsets are int32: a body past 2 GB cannot be described. */
		if (off + c->parts[i].len > INT32_MAX) {
			answer_early(c, RPC__STATUS__STATUS_TOO_LARGE);
			return;
		}
		put_le32(head + 12 + 8 * i, (uint32_t)off);
		put_le32(head + 16 + 8 * i, (uint32_t)c->parts[i].len);
		off += c->parts[i].len;
	}
	if (c->gone || cas_req_stream_begin(c->req, 200, h, 1) != 0 ||
	    cas_req_stream_write(c->req, head, head_len) != 0 ||
	    cas_req_stream_write(c->req, c->mp_buf.data, c->mp_buf.len) != 0) {
		if (!c->gone)
			(void)cas_req_stream_end(c->req);
		ctx_end(c);
		return;
	}
	buf_free(&c->mp_buf);
	c->part_cur = 0;
	stream_parts(c);
}

static int
part_head(struct itemops_xfer *x, uint64_t total, const char *content_type)
{
	struct io_ctx *c = x->owner;

	(void)content_type;
	/* The layout promised this length; content that changed size
	 * since cannot be sent under it. */
	return c->gone || itemops_xfer_length(x, total) !=
			      c->parts[c->part_cur].len
		   ? -1
		   : 0;
}

static int
part_data(struct itemops_xfer *x, const uint8_t *data, size_t len)
{
	struct io_ctx *c = x->owner;

	return c->gone ? -1 : cas_req_stream_write(c->req, data, len);
}

static void
part_end(struct itemops_xfer *x, Rpc__Status status, bool head_seen)
{
	struct io_ctx *c = x->owner;

	(void)head_seen;
	c->xfer_active = false;
	if (status != RPC__STATUS__STATUS_OK || c->gone) {
		abort_stream(c, c->gone ? "client gone" : "part stream failed");
		return;
	}
	c->part_cur++;
	stream_parts(c);
}

static void
stream_parts(struct io_ctx *c)
{
	struct itemops_xfer *x = &c->x;
	const struct io_part *p;

	/* Empty parts need no bytes; skip them. */
	while (c->part_cur < c->n_parts && c->parts[c->part_cur].len == 0)
		c->part_cur++;
	if (c->part_cur == c->n_parts) {
		(void)cas_req_stream_end(c->req);
		ctx_end(c);
		return;
	}
	p = &c->parts[c->part_cur];
	memset(x, 0, sizeof(*x));
	x->mc = cas_request_mbox();
	x->req = c->req;
	x->user = c->r->user;
	x->device_id = c->r->ash.device_id;
	x->file_reference = p->file_reference;
	x->first = p->first;
	x->last = p->last;
	x->on_head = part_head;
	x->on_data = part_data;
	x->on_end = part_end;
	x->owner = c;
	c->xfer_active = true;
	(void)itemops_xfer_start(x);
}

static void
next_op(struct io_ctx *c)
{
	while (c->cur < c->q.n_ops) {
		const struct itemops_op *op = &c->q.ops[c->cur];

		if (c->gone) {
			if (begun(c))
				abort_stream(c, "client gone");
			else
				answer_early(c,
					     RPC__STATUS__STATUS_DISCONNECTED);
			return;
		}
		if (op->status != ITEMOPS_STATUS_OK) {
			enc_status_only(c, op, op->status);
			c->cur++;
			continue;
		}
		switch (op->kind) {
		case ITEMOPS_FETCH:
			if (op->u.fetch.by == ITEMOPS_BY_FILE_REF)
				fetch_attachment(c, &op->u.fetch);
			else
				fetch_item(c, &op->u.fetch);
			return;
		case ITEMOPS_EMPTY_FOLDER:
			empty_folder(c, &op->u.empty);
			return;
		case ITEMOPS_MOVE:
			move_conversation(c, &op->u.move);
			return;
		}
	}
	if (c->multipart)
		finish_multipart_head(c);
	else
		finish_inline(c);
}

/* ---- cancellation ----------------------------------------------------------
 */

static void
cancel_task(void *arg)
{
	struct io_ctx *c = arg;
	struct cas_req *req = c->req;

	if (!c->done) {
		c->gone = true;
		if (c->xfer_active)
			itemops_xfer_cancel(&c->x);
	}
	cas_req_unref(&req); /* taken by on_cancel */
}

/* Internal thread: hand over to the loop, keeping c's arena alive. */
static void
on_cancel(struct cas_req *req, enum cas_req_end why, void *ctx)
{
	(void)why;
	cas_req_ref(req);
	if (mbox_client_post(cas_request_mbox(), cancel_task, ctx) != 0)
		cas_req_unref(&req);
}

/* ---- entry
 * ------------------------------------------------------------------- */

static void
itemops_run(struct cas_request *r)
{
	struct itemops_request q;
	enum itemops_status st;
	struct io_ctx *c;
	const uint8_t *body;
	size_t len;

	body = cas_req_body(r->req, &len);
	if (itemops_req_decode(body, len, r->version, &q, &st) != 0) {
		cas_request_respond_status(r, st);
		return;
	}
	c = cas_req_alloc(r->req, sizeof(*c));
	if (c == NULL) {
		itemops_req_clear(&q);
		cas_request_respond_status(r, ITEMOPS_STATUS_SERVER_ERROR);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->q = q;
	c->req = r->req;
	cas_req_ref(c->req);
	c->multipart = r->ash.accept_multipart;
	buf_init(&c->mp_buf, CAS_WBXML_MAX_RESPONSE_BYTES);
	if (c->multipart) {
		wbxml_enc_init_buf(&c->mp_enc, &c->mp_buf);
		c->enc = &c->mp_enc;
	} else {
		cas_wbxml_stream_init(&c->ws, r->req);
		c->enc = &c->ws.enc;
	}
	cas_req_on_cancel(r->req, on_cancel, c);
	wbxml_enc_start(c->enc, EAS_ITEMOPERATIONS_ITEM_OPERATIONS);
	wbxml_enc_uint(c->enc, EAS_ITEMOPERATIONS_STATUS, ITEMOPS_STATUS_OK);
	wbxml_enc_start(c->enc, EAS_ITEMOPERATIONS_RESPONSE);
	next_op(c);
}

static void
itemops_handler(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, itemops_run);
}

CAS_COMMAND(itemops_command, .name = "ItemOperations", .min_version = 120,
	    .needs_policy_key = true, .handler = itemops_handler)
