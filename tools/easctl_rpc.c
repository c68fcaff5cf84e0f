/*
 * Blocking RPC helper for easctl subcommands; see easctl_rpc.h.
 */
#include "tools/easctl_rpc.h"

#include "net/loop.h"
#include "net/rpc_client.h"
#include "proto/conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct easctl_rpc {
	struct conf *conf;
	struct loop *loop;
	struct rpc_client *client;
	struct tls_config tls;
	char *server_name;
};

/* [easctl] key, else [mailbox] mkey, else [cas] ckey, else def (the same
 * order as mbxd's tools/easctl_conn.c, so one file serves both). */
static const char *
conf_key(const struct conf *conf, const char *key, const char *mkey,
	 const char *ckey, const char *def)
{
	const char *v = conf_get(conf, "easctl", key, NULL);

	if (v == NULL && mkey != NULL)
		v = conf_get(conf, "mailbox", mkey, NULL);
	if (v == NULL && ckey != NULL)
		v = conf_get(conf, "cas", ckey, NULL);
	return v != NULL ? v : def;
}

/* "tcp:HOST:PORT" -> HOST (without brackets). */
static char *
host_of(const char *addr)
{
	const char *h = addr + 4, *colon = strrchr(h, ':');
	size_t len;

	if (colon == NULL)
		return NULL;
	len = (size_t)(colon - h);
	if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
		h++;
		len -= 2;
	}
	return strndup(h, len);
}

int
easctl_rpc_open(const struct easctl_ctx *ctx, struct easctl_rpc **rpc_r)
{
	struct easctl_rpc *rpc = calloc(1, sizeof(*rpc));
	struct rpc_client_config cfg;
	const char *addr, *error = NULL;
	char *cerr = NULL;

	*rpc_r = NULL;
	if (rpc == NULL) {
		fprintf(stderr, "easctl: out of memory\n");
		return -1;
	}
	if (conf_load(ctx->config_path, &rpc->conf, &cerr) != 0) {
		fprintf(stderr, "easctl: %s\n", cerr != NULL ? cerr : "config");
		free(cerr);
		goto fail;
	}
	addr = conf_key(rpc->conf, "mailbox", "rpc_listen", "mailbox",
			"unix:/run/easd/mailbox.sock");
	memset(&cfg, 0, sizeof(cfg));
	cfg.addr = addr;
	cfg.role = RPC__ROLE__ROLE_ADMIN;
	cfg.software = "easctl";
	if (strncmp(addr, "tcp:", 4) == 0) {
		const char *name =
		    conf_get(rpc->conf, "easctl", "mailbox_name", NULL);

		rpc->server_name = name != NULL ? strdup(name) : host_of(addr);
		rpc->tls.ca_file =
		    conf_key(rpc->conf, "tls_ca", "tls_ca", "tls_ca", NULL);
		rpc->tls.cert_file = conf_key(rpc->conf, "tls_cert", "tls_cert",
					      "tls_cert", NULL);
		rpc->tls.key_file =
		    conf_key(rpc->conf, "tls_key", "tls_key", "tls_key", NULL);
		rpc->tls.server_name = rpc->server_name;
		cfg.tls = &rpc->tls;
	}
	rpc->loop = loop_new(&error);
	if (rpc->loop == NULL)
		goto fail_msg;
	rpc->client = rpc_client_connect(rpc->loop, &cfg, &error);
	if (rpc->client == NULL)
		goto fail_msg;
	if (rpc_client_wait_ready(rpc->client, EASCTL_RPC_TIMEOUT_MS, &error) !=
	    0)
		goto fail_msg;
	*rpc_r = rpc;
	return 0;
fail_msg:
	fprintf(stderr, "easctl: cannot reach the mailbox at %s: %s\n", addr,
		error != NULL ? error : "unknown error");
fail:
	easctl_rpc_close(&rpc);
	return -1;
}

void
easctl_rpc_close(struct easctl_rpc **rpcp)
{
	struct easctl_rpc *rpc = *rpcp;

	if (rpc == NULL)
		return;
	*rpcp = NULL;
	rpc_client_free(&rpc->client);
	loop_free(&rpc->loop);
	conf_free(&rpc->conf);
	free(rpc->server_name);
	free(rpc);
}

Rpc__Status
easctl_rpc_call(struct easctl_rpc *rpc, Rpc__MsgType type,
		const ProtobufCMessage *msg, ProtobufCMessage **reply_r)
{
	Rpc__Status st;

	st = rpc_client_call_sync(rpc->client, (uint16_t)type, msg,
				  EASCTL_RPC_TIMEOUT_MS, reply_r);
	if (st == RPC__STATUS__STATUS_OK && *reply_r != NULL)
		st = rpc_msg_status(*reply_r);
	return st;
}

int
easctl_rpc_user_id(struct easctl_rpc *rpc, const char *login, uint64_t *user_r)
{
	Rpc__UserGetRequest m;
	ProtobufCMessage *reply = NULL;
	Rpc__Status st;
	int rc = -1;

	rpc__user_get_request__init(&m);
	m.login = (char *)(uintptr_t)login;
	st = easctl_rpc_call(rpc, RPC__MSG_TYPE__MSG_USER_GET, &m.base, &reply);
	if (st == RPC__STATUS__STATUS_OK && reply != NULL &&
	    ((Rpc__UserReply *)reply)->info != NULL) {
		*user_r = ((Rpc__UserReply *)reply)->info->user;
		rc = 0;
	} else if (st == RPC__STATUS__STATUS_NOT_FOUND) {
		fprintf(stderr, "easctl: no such user: %s\n", login);
	} else {
		fprintf(stderr, "easctl: looking up %s: %s\n", login,
			easctl_rpc_status_text(st));
	}
	if (reply != NULL)
		protobuf_c_message_free_unpacked(reply, NULL);
	return rc;
}

const char *
easctl_rpc_status_text(Rpc__Status status)
{
	switch (status) {
	case RPC__STATUS__STATUS_OK:
		return "ok";
	case RPC__STATUS__STATUS_NOT_FOUND:
		return "not found";
	case RPC__STATUS__STATUS_EXISTS:
		return "already exists";
	case RPC__STATUS__STATUS_INVALID:
		return "invalid request";
	case RPC__STATUS__STATUS_DENIED:
		return "permission denied";
	case RPC__STATUS__STATUS_STORAGE_FULL:
		return "storage full";
	case RPC__STATUS__STATUS_STORAGE_ERROR:
		return "storage error";
	case RPC__STATUS__STATUS_BUSY:
		return "mailbox busy, try again";
	case RPC__STATUS__STATUS_DISCONNECTED:
		return "mailbox connection lost";
	case RPC__STATUS__STATUS_TIMEOUT:
		return "mailbox did not answer in time";
	case RPC__STATUS__STATUS_UNSUPPORTED:
		return "not supported by this mailbox";
	case RPC__STATUS__STATUS_VERSION_MISMATCH:
		return "RPC version mismatch";
	default:
		return "mailbox error";
	}
}
