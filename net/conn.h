/*
 * A framed, non-blocking RPC connection on the event loop: a Unix or TCP
 * socket, plain (Unix only: the callers never build a plaintext TCP
 * connection) or under TLS.  It finishes a pending connect and the TLS
 * handshake, then delivers every complete frame (proto/rpc_frame.h) to its
 * owner and writes queued frames as the socket drains.  Input is bounded by
 * RPC_MAX_FRAME_BYTES per frame, output by RPC_MAX_OUTPUT_BYTES: a peer
 * that sends an oversize frame or stops reading is dropped.
 *
 * Callbacks run on the loop thread.  `closed` is the last callback of a
 * connection and says why; the owner then calls conn_free(), which is safe
 * from inside any callback (the release is deferred until it returns).
 */
#ifndef EASD_NET_CONN_H
#define EASD_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/loop.h"
#include "proto/rpc_frame.h"

struct ssl_st;
struct conn;

struct conn_ops {
	/* Connected, and the TLS handshake (if any) done. */
	void (*ready)(void *arg);
	/* One frame; its payload is valid only during the call. */
	void (*frame)(void *arg, const struct rpc_frame *frame);
	/* The connection is dead (EOF, error, protocol error, closed after
	 * flush).  No callback follows. */
	void (*closed)(void *arg, const char *reason);
	/* Optional: queued output fell to the level asked for with
	 * conn_notify_drained().  Called once per request. */
	void (*drained)(void *arg);
};

/* Take ownership of fd (and of ssl, when not NULL: already bound to fd).
 * connecting: a non-blocking connect is in progress. */
struct conn *conn_new(struct loop *loop, int fd, struct ssl_st *ssl,
		      bool connecting, const struct conn_ops *ops, void *arg);
/* Close at once; no callback runs.  Sets *c to NULL; accepts NULL. */
void conn_free(struct conn **c);

/* Queue a frame carrying msg (NULL: empty payload).  -1 if the frame is
 * over the limit; if the output queue would pass RPC_MAX_OUTPUT_BYTES the
 * connection is failed (closed callback, later) and -1 returned. */
int conn_send(struct conn *c, uint16_t type, uint8_t flags, uint64_t id,
	      const ProtobufCMessage *msg);
/* Queue already encoded frames. */
int conn_send_raw(struct conn *c, const uint8_t *data, size_t len);
/* Write what is queued, then close and report reason via `closed`. */
void conn_close_after_flush(struct conn *c, const char *reason);
/* Ask for ops->drained once queued output is at most low_water bytes.
 * Returns true (and asks nothing) if it already is. */
bool conn_notify_drained(struct conn *c, size_t low_water);
/* Bytes waiting to be written. */
size_t conn_output_pending(const struct conn *c);
bool conn_is_ready(const struct conn *c);
/* The peer's certificate subject (first DNS SAN or CN) for logs, or
 * "unix" for a Unix socket peer. */
const char *conn_peer_name(struct conn *c);

#endif
