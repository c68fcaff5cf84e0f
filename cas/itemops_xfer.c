/*
 * Windowed, paced streaming of raw content from the mailbox (see
 * itemops_xfer.h).  One FetchRequest per window; the frames of a window
 * are handed to the owner as they arrive; between windows the transfer
 * waits for the HTTP stream to drain.  The owner's struct lives in the
 * HTTP request's arena, so a notification posted to the loop holds a
 * reference on the request while it is queued.
 */
#include "cas/itemops_xfer.h"

#include <string.h>

static void fetch_window(struct itemops_xfer *x);

uint64_t
itemops_xfer_length(const struct itemops_xfer *x, uint64_t total)
{
	uint64_t end =
	    x->last == UINT64_MAX || x->last >= total ? total : x->last + 1;

	return end > x->first ? end - x->first : 0;
}

static void
finish(struct itemops_xfer *x, Rpc__Status status)
{
	x->stop_ = true;
	x->on_end(x, status, x->head_seen_);
}

/* One frame of the current window (chunks and the final frame alike). */
static int
take_frame(struct itemops_xfer *x, const Rpc__FetchReply *f)
{
	if (!x->head_seen_) {
		x->head_seen_ = true;
		x->end_ = x->first + itemops_xfer_length(x, f->total_size);
		if (x->on_head(x, f->total_size,
			       f->content_type != NULL ? f->content_type
						       : "") != 0)
			return -1;
		if (x->size_only)
			return 0;
	}
	if (f->chunk.len == 0)
		return 0;
	/* Chunks come in order from the offset we asked for; anything else
	 * is a broken mailbox, not something to paper over. */
	if (f->offset != x->next_ || f->chunk.len > x->end_ - x->next_)
		return -1;
	x->next_ += f->chunk.len;
	return x->on_data(x, f->chunk.data, f->chunk.len);
}

static void
on_chunk(void *arg, const ProtobufCMessage *msg)
{
	struct itemops_xfer *x = arg;

	if (x->stop_)
		return;
	if (take_frame(x, (const Rpc__FetchReply *)msg) != 0)
		x->stop_ = true; /* the final frame ends it */
}

static void
drain_task(void *arg)
{
	struct itemops_xfer *x = arg;
	struct cas_req *req = x->req;

	if (x->waiting_ && !x->stop_) {
		x->waiting_ = false;
		fetch_window(x);
	}
	cas_req_unref(&req); /* taken in on_drain */
}

/* HTTP thread: hand over to the loop. */
static void
on_drain(struct cas_req *req, void *ctx)
{
	struct itemops_xfer *x = ctx;

	cas_req_ref(req);
	if (mbox_client_post(x->mc, drain_task, x) != 0)
		cas_req_unref(&req); /* out of memory: the client times out */
}

static void
on_window(void *arg, Rpc__Status status, const ProtobufCMessage *msg)
{
	struct itemops_xfer *x = arg;
	int armed;

	if (x->stop_) {
		finish(x, x->status_ != RPC__STATUS__STATUS_OK
			      ? x->status_
			      : RPC__STATUS__STATUS_INTERNAL);
		return;
	}
	if (msg == NULL || status != RPC__STATUS__STATUS_OK) {
		finish(x, msg == NULL ? status
				      : ((const Rpc__FetchReply *)msg)->status);
		return;
	}
	if (take_frame(x, (const Rpc__FetchReply *)msg) != 0) {
		finish(x, RPC__STATUS__STATUS_INTERNAL);
		return;
	}
	if (x->size_only || x->next_ >= x->end_) {
		finish(x, x->size_only || x->next_ == x->end_
			      ? RPC__STATUS__STATUS_OK
			      : RPC__STATUS__STATUS_INTERNAL);
		return;
	}
	if (x->req == NULL) {
		fetch_window(x);
		return;
	}
	armed = cas_req_stream_on_drain(x->req, ITEMOPS_XFER_LOW_BYTES,
					on_drain, x);
	if (armed == 1)
		fetch_window(x);
	else if (armed < 0)
		finish(x, RPC__STATUS__STATUS_DISCONNECTED);
	else
		x->waiting_ = true; /* on_drain continues */
}

void
itemops_xfer_cancel(struct itemops_xfer *x)
{
	if (x->waiting_ && !x->stop_) {
		x->waiting_ = false;
		finish(x, RPC__STATUS__STATUS_DISCONNECTED);
	} else {
		x->stop_ = true; /* the call in flight ends it */
	}
}

static void
fetch_window(struct itemops_xfer *x)
{
	Rpc__FetchRequest q;
	uint64_t end;

	rpc__fetch_request__init(&q);
	q.user = x->user;
	q.device_id = (char *)(uintptr_t)x->device_id;
	q.kind = RPC__FETCH_KIND__FETCH_ATTACHMENT;
	q.file_reference = (char *)(uintptr_t)x->file_reference;
	q.size_only = x->size_only;
	q.range_start = x->next_;
	/* Before the head the size is unknown: ask for one window from
	 * the first byte (the mailbox clamps it to the content). */
	end = x->head_seen_ ? x->end_ : UINT64_MAX;
	if (x->last != UINT64_MAX && x->last + 1 < end)
		end = x->last + 1;
	if (end - x->next_ > ITEMOPS_XFER_WINDOW_BYTES)
		end = x->next_ + ITEMOPS_XFER_WINDOW_BYTES;
	q.range_end = end;
	if (mbox_call_stream(x->mc, RPC__MSG_TYPE__MSG_FETCH, &q.base, 0,
			     on_chunk, on_window, x) != 0)
		finish(x, RPC__STATUS__STATUS_INTERNAL);
}

int
itemops_xfer_start(struct itemops_xfer *x)
{
	x->next_ = x->first;
	x->end_ = 0;
	x->head_seen_ = false;
	x->stop_ = false;
	x->waiting_ = false;
	x->status_ = RPC__STATUS__STATUS_OK;
	fetch_window(x);
	return 0;
}
