/*
 * easctl's blocking RPC connection (see easctl_conn.h), shared by the user,
 * folder, stats and import subcommands.
 */
#include "tools/easctl_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "proto/conf.h"

struct easctl_conn {
	struct loop *loop;
	struct rpc_client *client;
	struct conf *conf;
	char server_name[256];
};

struct easctl_conn *
easctl_conn_open(const struct easctl_ctx *ctx)
{
	struct easctl_conn *c = calloc(1, sizeof(*c));
	struct tls_config tls = {0};
	struct rpc_client_config cfg = {0};
	const char *error = NULL;
	char *cerr = NULL;
	const char *addr;

	if (c == NULL)
		return NULL;
	if (conf_load(ctx->config_path, &c->conf, &cerr) < 0) {
		fprintf(stderr, "easctl: %s\n", cerr);
		free(cerr);
		goto fail;
	}
	addr = conf_get(c->conf, "mailbox", "rpc_listen",
			"unix:/run/easd/mailbox.sock");
	cfg.addr = addr;
	cfg.role = RPC__ROLE__ROLE_ADMIN;
	cfg.software = "easctl 0.1";
	if (strncmp(addr, "tcp:", 4) == 0) {
		const char *host = addr + 4;
		const char *colon = strrchr(host, ':');
		size_t len = colon != NULL ? (size_t)(colon - host) : 0;

		if (len >= sizeof(c->server_name))
			len = 0;
		memcpy(c->server_name, host, len);
		c->server_name[len] = 0;
		tls.ca_file = conf_get(c->conf, "mailbox", "tls_ca", "");
		tls.cert_file =
		    conf_get(c->conf, "easctl", "tls_cert",
			     conf_get(c->conf, "mailbox", "tls_cert", ""));
		tls.key_file =
		    conf_get(c->conf, "easctl", "tls_key",
			     conf_get(c->conf, "mailbox", "tls_key", ""));
		tls.server_name =
		    conf_get(c->conf, "easctl", "server_name", c->server_name);
		cfg.tls = &tls;
	}
	c->loop = loop_new(&error);
	if (c->loop == NULL) {
		fprintf(stderr, "easctl: %s\n", error);
		goto fail;
	}
	c->client = rpc_client_connect(c->loop, &cfg, &error);
	if (c->client == NULL ||
	    rpc_client_wait_ready(c->client, EASCTL_CONN_TIMEOUT_MS, &error) <
		0) {
		fprintf(stderr, "easctl: cannot reach the mailbox at %s: %s\n",
			addr, error != NULL ? error : "?");
		goto fail;
	}
	return c;
fail:
	easctl_conn_close(&c);
	return NULL;
}

void
easctl_conn_close(struct easctl_conn **cp)
{
	struct easctl_conn *c = *cp;

	if (c == NULL)
		return;
	rpc_client_free(&c->client);
	loop_free(&c->loop);
	conf_free(&c->conf);
	free(c);
	*cp = NULL;
}

const char *
easctl_status_name(Rpc__Status status)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &rpc__status__descriptor, (int)status);

	return v != NULL ? v->name : "unknown status";
}

Rpc__Status
easctl_call(struct easctl_conn *c, uint16_t type, const ProtobufCMessage *msg,
	    ProtobufCMessage **reply_r, const char **error_r)
{
	ProtobufCMessage *reply = NULL;
	Rpc__Status st;
	static char error[512];

	*reply_r = NULL;
	*error_r = "";
	st = rpc_client_call_sync(c->client, type, msg, EASCTL_CONN_TIMEOUT_MS,
				  &reply);
	if (st != RPC__STATUS__STATUS_OK)
		return st;
	if (reply == NULL)
		return RPC__STATUS__STATUS_INTERNAL;
	st = rpc_msg_status(reply);
	if (st != RPC__STATUS__STATUS_OK) {
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field_by_name(
			reply->descriptor, "error");

		error[0] = 0;
		if (f != NULL && f->type == PROTOBUF_C_TYPE_STRING) {
			const char *text =
			    *(const char *const *)(const void *)((const char *)
								     reply +
								 f->offset);

			if (text != NULL)
				(void)snprintf(error, sizeof(error), "%s",
					       text);
		}
		*error_r = error;
		protobuf_c_message_free_unpacked(reply, NULL);
		return st;
	}
	*reply_r = reply;
	return st;
}

int
easctl_user_id(struct easctl_conn *c, const char *login, uint64_t *id_r)
{
	Rpc__UserGetRequest q;
	ProtobufCMessage *reply;
	const char *error;
	Rpc__Status st;

	rpc__user_get_request__init(&q);
	q.login = (char *)(uintptr_t)login;
	st = easctl_call(c, RPC__MSG_TYPE__MSG_USER_GET, &q.base, &reply,
			 &error);
	if (st != RPC__STATUS__STATUS_OK) {
		fprintf(stderr, "easctl: user %s: %s%s%s\n", login,
			easctl_status_name(st), *error ? ": " : "", error);
		return -1;
	}
	*id_r = ((Rpc__UserReply *)(void *)reply)->info->user;
	protobuf_c_message_free_unpacked(reply, NULL);
	return 0;
}

int
easctl_read_password(char *buf, size_t size)
{
	size_t len;

	if (fgets(buf, (int)size, stdin) == NULL)
		return -1;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = 0;
	else if (len == size - 1) {
		OPENSSL_cleanse(buf, size);
		return -1; /* longer than the buffer */
	}
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = 0;
	return len == 0 ? -1 : 0;
}
