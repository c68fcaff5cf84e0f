/*
 * The server side of the internal RPC, generic over what the requests
 * mean: easd-mailbox builds mailbox/rpc_server.c on it.  It listens on
 * unix:PATH or tcp:HOST:PORT (mutual TLS 1.3, net/tls.h), runs the Hello
 * handshake (refusing another protocol version with a readable error),
 * answers Subscribe itself, refuses unknown message types with
 * STATUS_UNSUPPORTED, and hands every other request to one callback on the
 * loop thread.  A malformed frame or payload from a peer is a broken peer
 * (style rule 9): the connection is closed.
 *
 * Replies and events may be sent from any thread (the mailbox answers from
 * its SQLite workers): they are packed on the calling thread and queued to
 * the loop with loop_post(), which keeps their order per thread.  A
 * connection is named by its id, never by a pointer, so a reply to a
 * connection that went away is dropped safely.
 *
 * Isolation is the handler's duty: every request carries the authenticated
 * user id in its `user` field and every id in it must be resolved within
 * that user (proto/rpc.proto).
 */
#ifndef EASD_NET_RPC_SERVER_H
#define EASD_NET_RPC_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "net/loop.h"
#include "net/tls.h"
#include "proto/rpc_frame.h"

struct rpc_server;

struct rpc_server_config {
	const char *listen;           /* unix:PATH or tcp:HOST:PORT */
	const struct tls_config *tls; /* required for tcp: */
	const char *software;         /* sent in HelloReply */
	/* 0: RPC_PROTOCOL_VERSION.  Anything else only in tests. */
	uint32_t protocol_version;
	/* TLS + Hello deadline; 0: RPC_HANDSHAKE_TIMEOUT_MS. */
	uint32_t handshake_timeout_ms;
};

/* One request, valid during the callback: copy the fields you need.  The
 * message is the handler's: free it with
 * protobuf_c_message_free_unpacked(msg, NULL) when done. */
struct rpc_request {
	uint64_t conn_id;
	uint64_t id;
	uint16_t type;         /* Rpc__MsgType */
	Rpc__Role role;        /* what the peer said in Hello */
	const char *peer;      /* certificate name or "unix", for logs */
	ProtobufCMessage *msg; /* the request message of `type` */
};

typedef void rpc_server_request_fn(void *arg, struct rpc_request *req);

struct rpc_server_stats {
	uint64_t accepted;    /* connections accepted */
	uint64_t handshakes;  /* Hello exchanges that succeeded */
	uint64_t refused;     /* TLS or Hello failures */
	uint64_t requests;    /* requests handed to the callback */
	unsigned connections; /* open now */
};

struct rpc_server *rpc_server_new(struct loop *loop,
				  const struct rpc_server_config *config,
				  rpc_server_request_fn *fn, void *arg,
				  const char **error_r);
/* Closes every connection and the listener (and removes the Unix socket
 * file).  Runs the loop's queued tasks first so replies already posted are
 * not lost; stop the threads that reply before calling this. */
void rpc_server_free(struct rpc_server **server);

/* Send a reply (thread-safe).  last = false for a chunk of a streamed
 * reply (FetchReply); the final frame has last = true.  The message is
 * packed before the call returns: the caller may free it at once.
 * -1 if it cannot be packed (over RPC_MAX_FRAME_BYTES) or out of memory;
 * a reply to a closed connection is dropped silently. */
int rpc_server_reply(struct rpc_server *server, uint64_t conn_id, uint64_t id,
		     uint16_t type, const ProtobufCMessage *msg, bool last);
/*
 * Flow control for streamed replies, from a worker thread (never the loop
 * thread: it would wait for itself).  Blocks until the output queued for
 * the connection -- including every reply this thread posted before -- is
 * at most below_bytes, then returns 0.  -1 if the connection is gone or
 * timeout_ms passed (the peer stopped reading: abandon the stream).  A
 * worker streaming an attachment calls it before each chunk, so memory
 * stays bounded by below_bytes + one chunk instead of the whole file and
 * the connection is never dropped for passing RPC_MAX_OUTPUT_BYTES.
 */
int rpc_server_wait_output(struct rpc_server *server, uint64_t conn_id,
			   size_t below_bytes, int timeout_ms);
/* Push an event to every connection subscribed to ev->user
 * (thread-safe).  Called by the mailbox after every commit. */
int rpc_server_publish(struct rpc_server *server, const Rpc__Event *ev);
/* Counters for tests and `easctl stats` (loop thread). */
void rpc_server_get_stats(const struct rpc_server *server,
			  struct rpc_server_stats *stats_r);

#endif
