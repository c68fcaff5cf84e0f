/*
 * The easctl side of the internal RPC, shared by every subcommand that
 * talks to easd-mailbox: read the configuration, connect (Unix socket, or
 * TCP with mutual TLS), say Hello as ROLE_ADMIN, and make blocking calls.
 * easctl is single-threaded, so the rpc client's loop runs on its only
 * thread inside each call (net/rpc_client.h rpc_client_call_sync).
 *
 * The mailbox address is [easctl] mailbox, else [mailbox] rpc_listen,
 * else [cas] mailbox, else unix:/run/easd/mailbox.sock; the TLS files
 * tls_ca, tls_cert and tls_key are looked up in the same order of
 * sections, and [easctl] server_name overrides the name checked in the
 * mailbox's certificate (default: the host of the address).  Errors are
 * printed to stderr in one readable line, prefixed "easctl: ".
 */
#ifndef EASD_TOOLS_EASCTL_RPC_H
#define EASD_TOOLS_EASCTL_RPC_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/rpc_frame.h"
#include "tools/easctl.h"

/* How long connecting and each call may take. */
#define EASCTL_RPC_TIMEOUT_MS 10000

/* Exit codes (easctl.h). */
#define EASCTL_EXIT_OK 0
#define EASCTL_EXIT_FAIL 1
#define EASCTL_EXIT_USAGE 2

struct easctl_rpc;

/* Connect; -1 after printing why. */
int easctl_rpc_open(const struct easctl_ctx *ctx, struct easctl_rpc **rpc_r);
void easctl_rpc_close(struct easctl_rpc **rpc);

/*
 * Blocking call.  Returns the reply's status (or the local failure), and
 * *reply_r (free with protobuf_c_message_free_unpacked) when the mailbox
 * answered.  Prints nothing: callers word their own errors.
 */
Rpc__Status easctl_rpc_call(struct easctl_rpc *rpc, Rpc__MsgType type,
			    const ProtobufCMessage *msg,
			    ProtobufCMessage **reply_r);

/* The user id of a login or address (UserGet); -1 after printing
 * "no such user" or the failure. */
int easctl_rpc_user_id(struct easctl_rpc *rpc, const char *login,
		       uint64_t *user_r);

/* "not found", "mailbox unreachable", ... for messages. */
const char *easctl_rpc_status_text(Rpc__Status status);

#endif
