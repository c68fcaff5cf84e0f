/*
 * In-process easd-mailbox for the RPC server tests: the daemon's pieces
 * (mbox_ctx, shard workers, RPC server on a Unix socket in a scratch
 * directory, optionally the send queue) with the loop on its own thread,
 * as main.c wires them, plus a blocking RPC client on the test thread.
 * Static inline: each test binary takes what it uses.
 */
#ifndef EASD_TESTS_MBOX_HARNESS_H
#define EASD_TESTS_MBOX_HARNESS_H

#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailbox/mime.h"
#include "mailbox/rpc_server.h"
#include "mailbox/secret.h"
#include "mailbox/sendq.h"
#include "net/rpc_client.h"

struct mbox_harness {
	char dir[64];
	char listen[128];
	char relay[64];
	struct mbox_conf conf;
	struct mbox_ctx ctx;
	pthread_t thread;
	bool running;
	/* The secret key (data_dir/secret.key), as main.c loads it. */
	struct secret_key *secret_key;
};

static inline void *
mbox_harness_main(void *arg)
{
	struct mbox_harness *h = arg;

	(void)loop_run(h->ctx.loop);
	return NULL;
}

/* Starts the daemon's pieces on the data directory h->dir. */
static inline int
mbox_harness_boot(struct mbox_harness *h, int relay_port, unsigned retry_s,
		  unsigned max_attempts)
{
	const char *error = NULL;

	(void)snprintf(h->listen, sizeof(h->listen), "unix:%s/mb.sock", h->dir);
	h->conf.data_dir = h->dir;
	h->conf.rpc_listen = h->listen;
	h->conf.lmtp_listen = "";
	h->conf.smtp_relay = "";
	h->conf.smtp_user = "";
	h->conf.smtp_password = "";
	h->conf.tls_cert = h->conf.tls_key = h->conf.tls_ca = "";
	h->conf.tls_clients = "";
	h->conf.domain = "example.org";
	h->conf.hostname = "mbx.test";
	h->conf.workers = 2;
	h->conf.max_message_bytes = 8u * 1024 * 1024;
	h->conf.log_level = LOG_LEVEL_WARN;
	if (relay_port > 0) {
		(void)snprintf(h->relay, sizeof(h->relay),
			       "smtp://127.0.0.1:%d", relay_port);
		h->conf.smtp_relay = h->relay;
	}
	log_init("test", LOG_LEVEL_WARN);
	mime_init();
	{
		char key_path[96], *kerr = NULL;

		(void)snprintf(key_path, sizeof(key_path), "%s/secret.key",
			       h->dir);
		if (secret_key_load(key_path, true, &h->secret_key, &kerr) <
		    0) {
			free(kerr);
			return -1;
		}
		h->ctx.secret_key = h->secret_key;
	}
	h->ctx.conf = &h->conf;
	h->ctx.loop = loop_new(&error);
	if (h->ctx.loop == NULL ||
	    workers_new(h->conf.workers, &h->ctx.workers) < 0 ||
	    mbox_rpc_start(&h->ctx, &error) < 0)
		return -1;
	if (relay_port > 0 && sendq_new(&h->ctx, retry_s, max_attempts,
					&h->ctx.sendq, &error) < 0)
		return -1;
	if (pthread_create(&h->thread, NULL, mbox_harness_main, h) != 0)
		return -1;
	h->running = true;
	return 0;
}

/* relay_port 0: no send queue. */
static inline int
mbox_harness_start(struct mbox_harness *h, int relay_port, unsigned retry_s,
		   unsigned max_attempts)
{
	memset(h, 0, sizeof(*h));
	(void)snprintf(h->dir, sizeof(h->dir), "/tmp/easd-mbx-test-XXXXXX");
	if (mkdtemp(h->dir) == NULL)
		return -1;
	return mbox_harness_boot(h, relay_port, retry_s, max_attempts);
}

static inline int
mbox_harness_rm(const char *path, const struct stat *st, int flag,
		struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The daemon's stop sequence (main.c); the data directory stays. */
static inline void
mbox_harness_halt(struct mbox_harness *h)
{
	if (h->running) {
		loop_stop(h->ctx.loop);
		pthread_join(h->thread, NULL);
		h->running = false;
	}
	workers_free(&h->ctx.workers);
	if (h->ctx.loop != NULL)
		loop_run_posted(h->ctx.loop);
	rpc_server_free(&h->ctx.rpc);
	sendq_free(&h->ctx.sendq);
	mbox_shard_release();
	loop_free(&h->ctx.loop);
	secret_key_free(&h->secret_key);
}

/* A restart of the daemon on the same data (clients must reconnect):
 * what survives it is what the store made durable. */
static inline int
mbox_harness_restart(struct mbox_harness *h, int relay_port, unsigned retry_s,
		     unsigned max_attempts)
{
	char dir[sizeof(h->dir)];

	mbox_harness_halt(h);
	memcpy(dir, h->dir, sizeof(dir));
	memset(h, 0, sizeof(*h));
	memcpy(h->dir, dir, sizeof(dir));
	return mbox_harness_boot(h, relay_port, retry_s, max_attempts);
}

/* The daemon's stop sequence, then the scratch directory. */
static inline void
mbox_harness_stop(struct mbox_harness *h)
{
	mbox_harness_halt(h);
	(void)nftw(h->dir, mbox_harness_rm, 16, FTW_DEPTH | FTW_PHYS);
}

struct mbox_client {
	struct loop *loop;
	struct rpc_client *rpc;
};

static inline int
mbox_client_open(struct mbox_client *c, const struct mbox_harness *h,
		 Rpc__Role role)
{
	struct rpc_client_config cfg = {
	    .addr = h->listen,
	    .role = role,
	    .software = "test",
	};
	const char *error = NULL;

	c->loop = loop_new(&error);
	if (c->loop == NULL)
		return -1;
	c->rpc = rpc_client_connect(c->loop, &cfg, &error);
	if (c->rpc == NULL || rpc_client_wait_ready(c->rpc, 5000, &error) < 0)
		return -1;
	return 0;
}

static inline void
mbox_client_close(struct mbox_client *c)
{
	rpc_client_free(&c->rpc);
	loop_free(&c->loop);
}

/* A blocking call; the reply's status (or the local one).  *reply_r is
 * set whenever the mailbox answered; free with mbox_free. */
static inline Rpc__Status
mbox_call(struct mbox_client *c, uint16_t type, const ProtobufCMessage *msg,
	  ProtobufCMessage **reply_r)
{
	Rpc__Status st;

	*reply_r = NULL;
	st = rpc_client_call_sync(c->rpc, type, msg, 10000, reply_r);
	if (st != RPC__STATUS__STATUS_OK || *reply_r == NULL)
		return st;
	return rpc_msg_status(*reply_r);
}

static inline void
mbox_free(ProtobufCMessage *m)
{
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
}

/* The usual fixture: a daemon without a relay, an administrator's and a
 * CAS's connection. */
static inline int
mbox_harness_start_clients(struct mbox_harness *h, struct mbox_client *admin,
			   struct mbox_client *cas)
{
	if (mbox_harness_start(h, 0, 0, 0) < 0 ||
	    mbox_client_open(admin, h, RPC__ROLE__ROLE_ADMIN) < 0 ||
	    mbox_client_open(cas, h, RPC__ROLE__ROLE_CAS) < 0)
		return -1;
	return 0;
}

static inline void
mbox_harness_stop_clients(struct mbox_harness *h, struct mbox_client *admin,
			  struct mbox_client *cas)
{
	mbox_client_close(cas);
	mbox_client_close(admin);
	mbox_harness_stop(h);
}

/* UserAdd through the administrator's connection, with an optional extra
 * address; the new user's id, 0 when the mailbox refused. */
static inline uint64_t
mbox_harness_add_user(struct mbox_client *admin, const char *login,
		      const char *password, const char *alias)
{
	Rpc__UserAddRequest q;
	ProtobufCMessage *rep;
	char *addrs[1] = {(char *)(uintptr_t)alias};
	uint64_t id = 0;

	rpc__user_add_request__init(&q);
	q.login = (char *)(uintptr_t)login;
	q.password.data = (uint8_t *)(uintptr_t)password;
	q.password.len = strlen(password);
	if (alias != NULL) {
		q.addresses = addrs;
		q.n_addresses = 1;
	}
	if (mbox_call(admin, RPC__MSG_TYPE__MSG_USER_ADD, &q.base, &rep) ==
		RPC__STATUS__STATUS_OK &&
	    ((Rpc__UserReply *)(void *)rep)->info != NULL)
		id = ((Rpc__UserReply *)(void *)rep)->info->user;
	mbox_free(rep);
	return id;
}

#endif
