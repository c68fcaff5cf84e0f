/*
 * Streaming one attachment (or any raw content the mailbox serves by
 * FetchRequest) from easd-mailbox to the phone with bounded memory, for
 * ItemOperations (inline Data or a multipart part) and GetAttachment.
 *
 * The mailbox sends raw content as FetchReply chunks of RPC_CHUNK_BYTES.
 * Rather than ask for the whole and buffer what the phone has not read
 * yet, the transfer asks for ITEMOPS_XFER_WINDOW_BYTES at a time (a
 * FetchRequest Range) and asks for the next window only when the HTTP
 * stream has drained below ITEMOPS_XFER_LOW_BYTES (cas_req_stream_on_drain).
 * CAS memory per transfer is therefore about one window, whatever the
 * attachment's size; the cost is one mailbox round trip per window.
 *
 * Everything runs on the mailbox client's loop thread: the RPC callbacks,
 * and the drain and cancel notifications, which are posted there.  The
 * owner (a command) embeds struct itemops_xfer, fills it and calls
 * itemops_xfer_start(); the callbacks it gave get each piece of data and,
 * exactly once, the end.
 */
#ifndef EASD_CAS_ITEMOPS_XFER_H
#define EASD_CAS_ITEMOPS_XFER_H

#include "cas/http.h"
#include "cas/mbox_client.h"
#include "proto/limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes asked of the mailbox per FetchRequest: four RPC chunks.  Larger
 * windows mean fewer round trips (and, for attachments decoded from the
 * raw MIME, fewer decodes); smaller ones mean less CAS memory. */
#define ITEMOPS_XFER_WINDOW_BYTES (4u * RPC_CHUNK_BYTES)
/* The next window is asked for once the phone has read the stream down
 * to this many pending bytes, so the pipe rarely runs dry. */
#define ITEMOPS_XFER_LOW_BYTES (RPC_CHUNK_BYTES)

struct itemops_xfer;

/* The first frame arrived: total size of the whole content and its type.
 * Return 0 to go on, -1 to stop (end runs with failed = true). */
typedef int itemops_xfer_head_fn(struct itemops_xfer *x, uint64_t total,
				 const char *content_type);
/* Bytes of the range, in order.  0, or -1 to stop. */
typedef int itemops_xfer_data_fn(struct itemops_xfer *x, const uint8_t *data,
				 size_t len);
/* The end, exactly once: status is STATUS_OK when every byte of the range
 * was delivered, else the mailbox's or a local failure; head_seen tells
 * whether the head callback ran (bytes may have gone out). */
typedef void itemops_xfer_end_fn(struct itemops_xfer *x, Rpc__Status status,
				 bool head_seen);

struct itemops_xfer {
	/* set by the owner */
	struct mbox_client *mc;
	struct cas_req *req; /* the HTTP stream to pace against */
	uint64_t user;
	const char *device_id;
	const char *file_reference;
	uint64_t first; /* first byte wanted */
	uint64_t last;  /* last byte wanted (inclusive); UINT64_MAX: end */
	bool size_only; /* only the head (total, content type) */
	itemops_xfer_head_fn *on_head;
	itemops_xfer_data_fn *on_data;
	itemops_xfer_end_fn *on_end;
	void *owner;
	/* private */
	uint64_t next_; /* next byte to ask for */
	uint64_t end_;  /* exclusive end, known after the head */
	bool head_seen_;
	bool stop_;
	bool waiting_; /* for the stream to drain */
	Rpc__Status status_;
};

/* Begin (loop thread or any thread: the first call is posted).  -1 when
 * the call cannot be made at all (end does not run). */
int itemops_xfer_start(struct itemops_xfer *x);

/* The client left (loop thread, from the owner's cancel hook): end now
 * if waiting for the stream to drain, else when the call in flight
 * returns.  No-op after the end. */
void itemops_xfer_cancel(struct itemops_xfer *x);

/* Bytes this many of the range will carry once the head is known:
 * min(last + 1, total) - first. */
uint64_t itemops_xfer_length(const struct itemops_xfer *x, uint64_t total);

#endif
