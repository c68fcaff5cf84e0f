/*
 * The client side of the internal RPC, used by easd-cas (asynchronously,
 * from its loop) and by easctl (blocking).  It connects to unix:PATH or
 * tcp:HOST:PORT (mutual TLS 1.3), says Hello with its role, and checks the
 * server's version: a mismatch is refused on this side too, with a
 * readable error.  Many calls share the connection; each gets a request id
 * and a slot in the pending table, and replies are matched by id in
 * whatever order they come.
 *
 * Every callback runs on the loop thread, and every function here must be
 * called on it (other threads post to the loop).  A call's callback runs
 * exactly once per reply frame: once for an ordinary reply, once per chunk
 * for a streamed one (last = true on the final frame), or once with a
 * local status: STATUS_DISCONNECTED when the connection dropped before the
 * reply, STATUS_TIMEOUT when its deadline passed.
 *
 * With reconnect set, a lost connection is retried with exponential
 * backoff (RPC_RECONNECT_MIN_MS doubling to RPC_RECONNECT_MAX_MS), the
 * subscription is renewed, and the state callback tells the owner; a CAS
 * must assume it missed events while down and treat watched folders as
 * changed.  Calls made while the client waits to reconnect fail at once.
 */
#ifndef EASD_NET_RPC_CLIENT_H
#define EASD_NET_RPC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/loop.h"
#include "net/tls.h"
#include "proto/rpc_frame.h"

struct rpc_client;

/* up: handshake done; !up: connection lost or refused (reason). */
typedef void rpc_client_state_fn(void *arg, bool up, const char *reason);
/* A reply frame.  status is STATUS_OK with reply set (the callee owns it:
 * protobuf_c_message_free_unpacked(reply, NULL)), or a local failure
 * status with reply NULL.  last is true on the final call for the id. */
typedef void rpc_client_reply_fn(void *arg, Rpc__Status status,
				 ProtobufCMessage *reply, bool last);
/* An event; borrowed for the duration of the call. */
typedef void rpc_client_event_fn(void *arg, const Rpc__Event *ev);

struct rpc_client_config {
	const char *addr;             /* unix:PATH or tcp:HOST:PORT */
	const struct tls_config *tls; /* required for tcp */
	Rpc__Role role;
	const char *software; /* for the server's logs */
	bool reconnect;
	rpc_client_state_fn *state_fn;
	void *state_arg;
	/* 0: RPC_PROTOCOL_VERSION.  Anything else only in tests. */
	uint32_t protocol_version;
	/* Connect + TLS + Hello deadline; 0: RPC_HANDSHAKE_TIMEOUT_MS. */
	uint32_t handshake_timeout_ms;
};

/* Start connecting; returns at once (calls made before the handshake are
 * queued and sent after it).  NULL with error_r on a bad address or TLS
 * settings. */
struct rpc_client *rpc_client_connect(struct loop *loop,
				      const struct rpc_client_config *config,
				      const char **error_r);
/* Fails every pending call with STATUS_DISCONNECTED, then closes.  Not
 * from inside one of this client's own callbacks. */
void rpc_client_free(struct rpc_client **c);

/* Run the loop until the handshake is done (0) or has failed or
 * timeout_ms passed (-1, error_r readable).  For easctl. */
int rpc_client_wait_ready(struct rpc_client *c, int timeout_ms,
			  const char **error_r);
bool rpc_client_is_up(const struct rpc_client *c);
/* The last connection error, readable ("" when none). */
const char *rpc_client_error(const struct rpc_client *c);

/* Send a request; fn runs later on the loop thread.  timeout_ms 0 means
 * RPC_DEFAULT_TIMEOUT_MS.  -1 (fn never runs) when the client is down and
 * waiting to reconnect, RPC_MAX_PENDING calls are in flight, the message
 * is over RPC_MAX_FRAME_BYTES, or the type is unknown. */
int rpc_client_call(struct rpc_client *c, uint16_t type,
		    const ProtobufCMessage *msg, uint32_t timeout_ms,
		    rpc_client_reply_fn *fn, void *arg);

/* Blocking call for easctl: runs the loop (which no other thread may run)
 * until the final reply or the timeout.  Returns the local status
 * (STATUS_OK with *reply_r set, to be freed by the caller); chunks before
 * the final frame of a streamed reply are discarded. */
Rpc__Status rpc_client_call_sync(struct rpc_client *c, uint16_t type,
				 const ProtobufCMessage *msg,
				 uint32_t timeout_ms,
				 ProtobufCMessage **reply_r);

/* Subscribe to events of all users, or of users[0..n_users); replaces any
 * earlier subscription and is renewed after each reconnect.  -1 if too many
 * users or out of memory. */
int rpc_client_subscribe(struct rpc_client *c, bool all, const uint64_t *users,
			 size_t n_users, rpc_client_event_fn *fn, void *arg);

#endif
