/*
 * easctl's blocking connection to easd-mailbox: the address comes from the
 * same INI file as the daemon's ([mailbox] rpc_listen; for tcp: the client
 * certificate in [easctl] tls_cert/tls_key, the CA in [mailbox] tls_ca).
 * One loop on easctl's only thread; each call runs it until the reply.
 */
#ifndef EASD_TOOLS_EASCTL_CONN_H
#define EASD_TOOLS_EASCTL_CONN_H

#include <stdint.h>

#include "net/rpc_client.h"
#include "tools/easctl.h"

/* How long easctl waits for the mailbox (connect, and each call). */
#define EASCTL_CONN_TIMEOUT_MS 30000

struct easctl_conn;

/* Connect and say Hello as ROLE_ADMIN; NULL after printing why. */
struct easctl_conn *easctl_conn_open(const struct easctl_ctx *ctx);
void easctl_conn_close(struct easctl_conn **c);
/* A blocking call; the reply's own status (or a local failure status),
 * *reply_r set only on STATUS_OK (free with
 * protobuf_c_message_free_unpacked). Non-OK replies are freed here. */
Rpc__Status easctl_call(struct easctl_conn *c, uint16_t type,
			const ProtobufCMessage *msg, ProtobufCMessage **reply_r,
			const char **error_r);
/* A user's id by login or address; -1 after printing why. */
int easctl_user_id(struct easctl_conn *c, const char *login, uint64_t *id_r);
/* Read a password from stdin (first line, without the newline) into buf;
 * -1 if empty or too long. */
int easctl_read_password(char *buf, size_t size);
/* Human text for a status. */
const char *easctl_status_name(Rpc__Status status);

#endif
