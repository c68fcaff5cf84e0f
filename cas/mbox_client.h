/*
 * The CAS side of the internal RPC: easd-cas's connections to easd-mailbox.
 * One thread of ours runs a net/ event loop that owns a few rpc_client
 * connections (unix:PATH, or tcp:HOST:PORT with mutual TLS 1.3 from the
 * [cas] mailbox, tls_ca, tls_cert and tls_key keys), reconnecting with
 * backoff when the mailbox goes away.  HTTP threads never block on it:
 * mbox_call() packs the request on the caller's thread, posts it to the
 * loop and returns; the callback runs later on the loop thread, exactly
 * once, and typically answers (and thereby resumes) the suspended HTTP
 * request.
 *
 * Also here, because both live on the loop thread with the connections:
 *  - the password verifier of cas/auth.h (RPC VerifyCredentials), which
 *    remembers login -> user id so that requests authenticated from the
 *    credential cache still know their user (mbox_user_lookup());
 *  - the change-event registry: the Ping/watch code registers a callback
 *    and gets every Event the mailbox publishes, plus a NULL event after a
 *    reconnect ("you may have missed events: treat everything as
 *    changed", net/rpc_client.h).
 *
 * Owner: main.c creates one struct mbox_client at start-up and frees it
 * after the HTTP server has stopped; everything else borrows it.
 */
#ifndef EASD_CAS_MBOX_CLIENT_H
#define EASD_CAS_MBOX_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cas/auth.h"
#include "net/loop.h"
#include "proto/rpc_frame.h"

/* Connections to one mailbox: calls are spread round robin so a large
 * reply on one does not hold up small ones; the first carries the event
 * subscription.  Four is plenty for one host (the mailbox is bounded by
 * its SQLite workers, not by sockets). */
#define MBOX_MAX_CONNECTIONS 8u
#define MBOX_DEFAULT_CONNECTIONS 2u
/* Event listeners (the watch table, statistics); a small fixed array. */
#define MBOX_MAX_EVENT_LISTENERS 8u
/* login -> user id entries remembered from VerifyCredentials; when full
 * the table is emptied and refilled (each entry costs one UserGet after
 * that), which keeps memory bounded under a spray of distinct logins. */
#define MBOX_USER_CACHE_MAX_ENTRIES 65536u
/* How long start-up waits for the first connection (it continues anyway:
 * requests get 503 until the mailbox is reachable). */
#define MBOX_START_WAIT_MS 2000u

struct mbox_client;

struct mbox_client_config {
	const char *addr;     /* "unix:PATH" or "tcp:HOST:PORT" */
	const char *tls_ca;   /* tcp: the private CA (required) */
	const char *tls_cert; /* tcp: our client certificate (required) */
	const char *tls_key;  /* tcp: its key (required) */
	/* tcp: the name the mailbox certificate must carry; NULL: HOST. */
	const char *server_name;
	unsigned connections; /* 0: MBOX_DEFAULT_CONNECTIONS */
	const char *software; /* for the mailbox's logs; NULL: "easd-cas" */
	/* 0: RPC_DEFAULT_TIMEOUT_MS; the deadline of calls passing 0 */
	uint32_t default_timeout_ms;
};

/* Start the loop thread and begin connecting.  Returns once the first
 * handshake is done or MBOX_START_WAIT_MS passed (a mailbox that is down
 * at start is not fatal).  -1 with a malloc'd *error_r on a bad address
 * or TLS files. */
int mbox_client_start(const struct mbox_client_config *config,
		      struct mbox_client **mc_r, char **error_r);
/* Stop the loop thread; pending calls get STATUS_DISCONNECTED first. */
void mbox_client_free(struct mbox_client **mc);
/* At least one connection has completed its handshake (any thread). */
bool mbox_client_is_up(struct mbox_client *mc);

/*
 * A reply.  status is the reply's own Status field when the mailbox
 * answered (reply != NULL), or the local failure (STATUS_DISCONNECTED,
 * STATUS_TIMEOUT, STATUS_BUSY) with reply NULL.  The reply is borrowed:
 * it is freed when the callback returns (copy what must outlive it).
 * Runs on the mailbox loop thread; it must not block.
 */
typedef void mbox_reply_fn(void *arg, Rpc__Status status,
			   const ProtobufCMessage *reply);

/*
 * Send a request from any thread.  msg is packed before the call returns
 * (it may live on the caller's stack).  fn runs exactly once, later, on
 * the loop thread -- never inside mbox_call().  timeout_ms 0: the
 * configured default.  Streamed replies (Fetch) deliver only the final
 * frame here.  -1 (fn never runs) only when msg cannot be packed or
 * memory is exhausted.
 */
int mbox_call(struct mbox_client *mc, Rpc__MsgType type,
	      const ProtobufCMessage *msg, uint32_t timeout_ms,
	      mbox_reply_fn *fn, void *arg);

/*
 * The same for a streamed reply (FetchReply chunks): chunk_fn(arg, frame)
 * runs on the loop thread for every frame before the final one, in order
 * (the frame is borrowed for the call); fn then runs exactly once with
 * the final frame or the local failure, as for mbox_call().
 */
typedef void mbox_chunk_fn(void *arg, const ProtobufCMessage *frame);
int mbox_call_stream(struct mbox_client *mc, Rpc__MsgType type,
		     const ProtobufCMessage *msg, uint32_t timeout_ms,
		     mbox_chunk_fn *chunk_fn, mbox_reply_fn *fn, void *arg);

/* Run fn(arg) on the loop thread (serialises with callbacks and events).
 * -1 when out of memory. */
int mbox_client_post(struct mbox_client *mc, loop_task_fn *fn, void *arg);

/* ---- events ----------------------------------------------------------- */

/* ev is borrowed for the call.  ev == NULL: the subscription was
 * (re)established after a loss; events may have been missed. */
typedef void mbox_event_fn(void *arg, const Rpc__Event *ev);
/* Register a listener (any thread); -1 when MBOX_MAX_EVENT_LISTENERS are
 * taken.  Listeners run on the loop thread, in registration order. */
int mbox_client_on_event(struct mbox_client *mc, mbox_event_fn *fn, void *arg);
/* Remove it; after return fn is not running and will not run again
 * (unless called from the loop thread itself, where it simply stops). */
void mbox_client_off_event(struct mbox_client *mc, mbox_event_fn *fn,
			   void *arg);

/* ---- users ------------------------------------------------------------ */

/* The password verifier for cas_http_config.verifier (cas/auth.h). */
struct cas_auth_verifier mbox_client_verifier(struct mbox_client *mc);
/* The user id remembered for a login (as typed) by a successful
 * verification; false when unknown (ask UserGet). Any thread. */
bool mbox_user_lookup(struct mbox_client *mc, const char *login,
		      uint64_t *user_r);
/* Remember login -> user (after a UserGet). */
void mbox_user_remember(struct mbox_client *mc, const char *login,
			uint64_t user);

#endif
