/*
 * RPC client (contract in rpc_client.h).  The pending table is a hash of
 * request ids (RPC_CLIENT_BUCKETS chains) plus a list in call order, used
 * to send queued calls in order once the handshake is done and to fail
 * them all when the connection drops.  Failing takes the whole list first,
 * so callbacks may start new calls while it runs.
 */
#include "net/rpc_client.h"

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/conn.h"
#include "net/listen.h"
#include "proto/limits.h"
#include "proto/log.h"

#define RPC_CLIENT_BUCKETS 256u

enum client_state {
	CLIENT_CONNECTING, /* connect, TLS, or Hello under way */
	CLIENT_UP,
	CLIENT_WAITING, /* backoff before the next attempt */
	CLIENT_CLOSED,  /* failed, no reconnect */
};

struct pending {
	struct rpc_client *client;
	uint64_t id;
	uint16_t type;
	rpc_client_reply_fn *fn;
	void *arg;
	uint32_t timeout_ms;
	struct loop_timer *timer;
	struct pending *hnext;
	struct pending *prev, *next;
	struct buf frame; /* encoded, until sent */
};

struct rpc_client {
	struct loop *loop;
	struct net_addr addr;
	struct tls_ctx *tls;
	Rpc__Role role;
	char *software;
	uint32_t version;
	uint32_t handshake_timeout_ms;
	bool reconnect;
	rpc_client_state_fn *state_fn;
	void *state_arg;

	enum client_state state;
	struct conn *conn;
	struct loop_timer *connect_timer; /* start or retry */
	struct loop_timer *hello_timer;
	uint64_t backoff_ms;
	uint64_t next_id;

	struct pending *buckets[RPC_CLIENT_BUCKETS];
	struct pending *head, *tail;
	size_t n_pending;

	bool sub_set, sub_all;
	uint64_t *sub_users;
	size_t n_sub_users;
	rpc_client_event_fn *event_fn;
	void *event_arg;

	char error[256];
};

static void start_connect(void *arg);

static void
set_error(struct rpc_client *c, const char *reason)
{
	if (reason != c->error)
		(void)snprintf(c->error, sizeof(c->error), "%s", reason);
}

/* ---------------------------------------------------------- pending */

static void
pending_unlink(struct pending *p)
{
	struct rpc_client *c = p->client;
	struct pending **pp = &c->buckets[p->id % RPC_CLIENT_BUCKETS];

	while (*pp != p)
		pp = &(*pp)->hnext;
	*pp = p->hnext;
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		c->head = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	else
		c->tail = p->prev;
	c->n_pending--;
	loop_timer_cancel(&p->timer);
}

static void
pending_free(struct pending *p)
{
	/* An unsent frame may hold a password (VerifyCredentials). */
	if (p->frame.data != NULL)
		OPENSSL_cleanse(p->frame.data, p->frame.len);
	buf_free(&p->frame);
	free(p);
}

static struct pending *
pending_find(struct rpc_client *c, uint64_t id)
{
	struct pending *p = c->buckets[id % RPC_CLIENT_BUCKETS];

	while (p != NULL && p->id != id)
		p = p->hnext;
	return p;
}

static void
pending_expired(void *arg)
{
	struct pending *p = arg;

	p->timer = NULL;
	log_warn("rpc: %s request %llu timed out after %u ms",
		 rpc_msg_name(p->type), (unsigned long long)p->id,
		 p->timeout_ms);
	pending_unlink(p);
	p->fn(p->arg, RPC__STATUS__STATUS_TIMEOUT, NULL, true);
	pending_free(p);
}

/* Fail every call in flight; new calls made by the callbacks survive. */
static void
fail_all(struct rpc_client *c, Rpc__Status status)
{
	struct pending *list = c->head, *p;

	memset(c->buckets, 0, sizeof(c->buckets));
	c->head = c->tail = NULL;
	c->n_pending = 0;
	while (list != NULL) {
		p = list;
		list = p->next;
		loop_timer_cancel(&p->timer);
		p->fn(p->arg, status, NULL, true);
		pending_free(p);
	}
}

/* ---------------------------------------------------------- connection */

static void
went_down(struct rpc_client *c, const char *reason)
{
	/* Once per connection: a failed send reports through the closed
	 * callback and through its return value. */
	if (c->state == CLIENT_WAITING || c->state == CLIENT_CLOSED)
		return;
	set_error(c, reason);
	conn_free(&c->conn);
	loop_timer_cancel(&c->hello_timer);
	if (c->reconnect) {
		c->state = CLIENT_WAITING;
		log_warn("rpc: connection to mailbox lost (%s); retrying in "
			 "%llu ms",
			 c->error, (unsigned long long)c->backoff_ms);
		c->connect_timer =
		    loop_timer_add(c->loop, c->backoff_ms, start_connect, c);
		c->backoff_ms *= 2;
		if (c->backoff_ms > RPC_RECONNECT_MAX_MS)
			c->backoff_ms = RPC_RECONNECT_MAX_MS;
	} else {
		c->state = CLIENT_CLOSED;
	}
	fail_all(c, RPC__STATUS__STATUS_DISCONNECTED);
	if (c->state_fn != NULL)
		c->state_fn(c->state_arg, false, c->error);
}

static void
hello_expired(void *arg)
{
	struct rpc_client *c = arg;

	c->hello_timer = NULL;
	went_down(c, "rpc: handshake timed out");
}

static void
on_ready(void *arg)
{
	struct rpc_client *c = arg;
	Rpc__Hello hello;

	rpc__hello__init(&hello);
	hello.protocol_version = c->version;
	hello.role = c->role;
	hello.software = c->software;
	if (conn_send(c->conn, RPC__MSG_TYPE__MSG_HELLO, 0, 0, &hello.base) < 0)
		went_down(c, "rpc: cannot send Hello");
}

static void
on_closed(void *arg, const char *reason)
{
	went_down(arg, reason);
}

static void
subscribe_done(void *arg, Rpc__Status status, ProtobufCMessage *reply,
	       bool last)
{
	Rpc__Status st = status;

	(void)arg;
	(void)last;
	if (reply != NULL) {
		st = rpc_msg_status(reply);
		protobuf_c_message_free_unpacked(reply, NULL);
	}
	if (st != RPC__STATUS__STATUS_OK)
		log_error("rpc: Subscribe failed (status %d)", (int)st);
}

static int
send_subscribe(struct rpc_client *c)
{
	Rpc__SubscribeRequest req;

	rpc__subscribe_request__init(&req);
	req.all = c->sub_all;
	req.users = c->sub_users;
	req.n_users = c->n_sub_users;
	return rpc_client_call(c, RPC__MSG_TYPE__MSG_SUBSCRIBE, &req.base, 0,
			       subscribe_done, NULL);
}

static void
handle_hello_reply(struct rpc_client *c, const struct rpc_frame *f)
{
	Rpc__HelloReply *rep;
	struct pending *p;
	char error[256];

	if (f->type != RPC__MSG_TYPE__MSG_HELLO ||
	    (f->flags & RPC_FLAG_REPLY) == 0 || f->id != 0) {
		went_down(c, "rpc: server did not answer Hello");
		return;
	}
	rep = (Rpc__HelloReply *)protobuf_c_message_unpack(
	    &rpc__hello_reply__descriptor, NULL, f->payload_len, f->payload);
	if (rep == NULL) {
		went_down(c, "rpc: malformed HelloReply");
		return;
	}
	if (rep->status != RPC__STATUS__STATUS_OK) {
		(void)snprintf(error, sizeof(error),
			       "rpc: server refused the handshake: %s",
			       rep->error[0] != '\0' ? rep->error
						     : "no reason given");
	} else if (rep->protocol_version != c->version) {
		(void)snprintf(error, sizeof(error),
			       "rpc: server speaks protocol version %u, this "
			       "client speaks version %u: refused",
			       rep->protocol_version, c->version);
	} else {
		error[0] = '\0';
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	if (error[0] != '\0') {
		log_error("%s", error);
		went_down(c, error);
		return;
	}
	loop_timer_cancel(&c->hello_timer);
	c->state = CLIENT_UP;
	c->backoff_ms = RPC_RECONNECT_MIN_MS;
	c->error[0] = '\0';
	/* Calls queued while connecting go out in call order. */
	for (p = c->head; p != NULL; p = p->next) {
		if (p->frame.len == 0)
			continue;
		if (conn_send_raw(c->conn, p->frame.data, p->frame.len) < 0)
			break;
		OPENSSL_cleanse(p->frame.data, p->frame.len);
		buf_free(&p->frame);
	}
	if (c->state != CLIENT_UP)
		return; /* the connection failed while sending */
	if (c->sub_set && send_subscribe(c) < 0)
		log_error("rpc: cannot renew the subscription");
	if (c->state_fn != NULL)
		c->state_fn(c->state_arg, true, "");
}

static void
handle_event(struct rpc_client *c, const struct rpc_frame *f)
{
	Rpc__Event *ev;

	if (f->type != RPC__MSG_TYPE__MSG_EVENT) {
		went_down(c, "rpc: event frame of a non-event type");
		return;
	}
	ev = rpc__event__unpack(NULL, f->payload_len, f->payload);
	if (ev == NULL) {
		went_down(c, "rpc: malformed event");
		return;
	}
	if (c->event_fn != NULL)
		c->event_fn(c->event_arg, ev);
	rpc__event__free_unpacked(ev, NULL);
}

static void
on_frame(void *arg, const struct rpc_frame *f)
{
	struct rpc_client *c = arg;
	struct pending *p;
	ProtobufCMessage *msg;
	bool last;

	if (c->state == CLIENT_CONNECTING) {
		handle_hello_reply(c, f);
		return;
	}
	if (f->flags & RPC_FLAG_EVENT) {
		handle_event(c, f);
		return;
	}
	if ((f->flags & RPC_FLAG_REPLY) == 0) {
		went_down(c, "rpc: server sent a request");
		return;
	}
	p = pending_find(c, f->id);
	if (p == NULL) {
		/* Timed out and forgotten: drop the late reply. */
		log_debug("rpc: reply to unknown request %llu dropped",
			  (unsigned long long)f->id);
		return;
	}
	if (p->type != f->type) {
		went_down(c, "rpc: reply type does not match the request");
		return;
	}
	msg = rpc_msg_unpack(f);
	if (msg == NULL) {
		went_down(c, "rpc: malformed reply payload");
		return;
	}
	last = (f->flags & RPC_FLAG_LAST) != 0;
	if (last) {
		pending_unlink(p);
		p->fn(p->arg, RPC__STATUS__STATUS_OK, msg, true);
		pending_free(p);
		return;
	}
	/* A streamed reply: each chunk restarts the deadline. */
	loop_timer_cancel(&p->timer);
	p->timer = loop_timer_add(c->loop, p->timeout_ms, pending_expired, p);
	p->fn(p->arg, RPC__STATUS__STATUS_OK, msg, false);
}

static const struct conn_ops client_conn_ops = {
    .ready = on_ready,
    .frame = on_frame,
    .closed = on_closed,
};

static void
start_connect(void *arg)
{
	struct rpc_client *c = arg;
	struct ssl_st *ssl = NULL;
	const char *error = NULL;
	bool in_progress;
	int fd;

	c->connect_timer = NULL;
	c->state = CLIENT_CONNECTING;
	fd = net_connect(&c->addr, &in_progress, &error);
	if (fd < 0) {
		went_down(c, error);
		return;
	}
	if (c->tls != NULL) {
		ssl = tls_ssl_new(c->tls, fd, &error);
		if (ssl == NULL) {
			close(fd);
			went_down(c, error);
			return;
		}
	}
	c->conn = conn_new(c->loop, fd, ssl, in_progress, &client_conn_ops, c);
	if (c->conn == NULL) {
		went_down(c, "rpc: out of memory");
		return;
	}
	c->hello_timer =
	    loop_timer_add(c->loop, c->handshake_timeout_ms, hello_expired, c);
}

struct rpc_client *
rpc_client_connect(struct loop *loop, const struct rpc_client_config *config,
		   const char **error_r)
{
	struct rpc_client *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		*error_r = "rpc_connect: out of memory";
		return NULL;
	}
	c->loop = loop;
	c->role = config->role;
	c->reconnect = config->reconnect;
	c->state_fn = config->state_fn;
	c->state_arg = config->state_arg;
	c->version = config->protocol_version != 0 ? config->protocol_version
						   : RPC_PROTOCOL_VERSION;
	c->handshake_timeout_ms = config->handshake_timeout_ms != 0
				      ? config->handshake_timeout_ms
				      : RPC_HANDSHAKE_TIMEOUT_MS;
	c->backoff_ms = RPC_RECONNECT_MIN_MS;
	c->next_id = 1;
	c->state = CLIENT_CONNECTING;
	c->software =
	    strdup(config->software != NULL ? config->software : "easd");
	if (c->software == NULL) {
		*error_r = "rpc_connect: out of memory";
		goto fail;
	}
	if (config->addr == NULL) {
		*error_r = "rpc_connect: expected unix:PATH or tcp:HOST:PORT";
		goto fail;
	}
	if (net_addr_parse(config->addr, &c->addr, error_r) < 0)
		goto fail;
	if (c->addr.kind == NET_ADDR_TCP) {
		if (config->tls == NULL) {
			*error_r = "rpc_connect: tcp requires TLS settings "
				   "(ca_file, cert_file, key_file, "
				   "server_name)";
			goto fail;
		}
		c->tls = tls_ctx_new(config->tls, false, error_r);
		if (c->tls == NULL)
			goto fail;
	}
	/* Connect from the loop: every callback then runs from it. */
	c->connect_timer = loop_timer_add(loop, 0, start_connect, c);
	if (c->connect_timer == NULL) {
		*error_r = "rpc_connect: out of memory";
		goto fail;
	}
	return c;
fail:
	rpc_client_free(&c);
	return NULL;
}

void
rpc_client_free(struct rpc_client **cp)
{
	struct rpc_client *c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	loop_timer_cancel(&c->connect_timer);
	loop_timer_cancel(&c->hello_timer);
	conn_free(&c->conn);
	c->state = CLIENT_CLOSED;
	fail_all(c, RPC__STATUS__STATUS_DISCONNECTED);
	tls_ctx_free(&c->tls);
	free(c->sub_users);
	free(c->software);
	free(c);
}

bool
rpc_client_is_up(const struct rpc_client *c)
{
	return c->state == CLIENT_UP;
}

const char *
rpc_client_error(const struct rpc_client *c)
{
	return c->error;
}

int
rpc_client_wait_ready(struct rpc_client *c, int timeout_ms,
		      const char **error_r)
{
	uint64_t deadline = loop_now_ms() + (uint64_t)timeout_ms;

	while (c->state == CLIENT_CONNECTING) {
		uint64_t now = loop_now_ms();

		if (now >= deadline) {
			*error_r = "rpc_connect: timed out";
			return -1;
		}
		if (loop_run_once(c->loop, (int)(deadline - now)) < 0) {
			*error_r = "rpc_connect: event loop failed";
			return -1;
		}
	}
	if (c->state != CLIENT_UP) {
		*error_r =
		    c->error[0] != '\0' ? c->error : "rpc_connect: failed";
		return -1;
	}
	return 0;
}

int
rpc_client_call(struct rpc_client *c, uint16_t type,
		const ProtobufCMessage *msg, uint32_t timeout_ms,
		rpc_client_reply_fn *fn, void *arg)
{
	struct pending *p;
	size_t b;

	if (c->state == CLIENT_WAITING || c->state == CLIENT_CLOSED) {
		set_error(c, c->error[0] != '\0' ? c->error
						 : "rpc: not connected");
		return -1;
	}
	if (type == RPC__MSG_TYPE__MSG_HELLO ||
	    type == RPC__MSG_TYPE__MSG_EVENT ||
	    rpc_msg_descriptor(type, false) == NULL)
		return -1;
	if (c->n_pending >= RPC_MAX_PENDING) {
		log_warn("rpc: RPC_MAX_PENDING calls in flight, refusing");
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -1;
	p->client = c;
	p->id = c->next_id++;
	p->type = type;
	p->fn = fn;
	p->arg = arg;
	p->timeout_ms = timeout_ms != 0 ? timeout_ms : RPC_DEFAULT_TIMEOUT_MS;
	buf_init(&p->frame, RPC_FRAME_LENGTH_BYTES + RPC_MAX_FRAME_BYTES);
	if (rpc_frame_encode_msg(&p->frame, type, 0, p->id, msg) < 0)
		goto fail;
	if (c->state == CLIENT_UP) {
		if (conn_send_raw(c->conn, p->frame.data, p->frame.len) < 0)
			goto fail;
		OPENSSL_cleanse(p->frame.data, p->frame.len);
		buf_free(&p->frame);
	}
	p->timer = loop_timer_add(c->loop, p->timeout_ms, pending_expired, p);
	if (p->timer == NULL)
		goto fail;
	b = p->id % RPC_CLIENT_BUCKETS;
	p->hnext = c->buckets[b];
	c->buckets[b] = p;
	p->prev = c->tail;
	if (c->tail != NULL)
		c->tail->next = p;
	else
		c->head = p;
	c->tail = p;
	c->n_pending++;
	return 0;
fail:
	/* A frame already queued on the connection will get a reply that
	 * finds no pending entry and is dropped. */
	pending_free(p);
	return -1;
}

struct sync_result {
	bool done;
	Rpc__Status status;
	ProtobufCMessage *reply;
};

static void
sync_done(void *arg, Rpc__Status status, ProtobufCMessage *reply, bool last)
{
	struct sync_result *r = arg;

	if (!last) {
		protobuf_c_message_free_unpacked(reply, NULL);
		return;
	}
	r->done = true;
	r->status = status;
	r->reply = reply;
}

Rpc__Status
rpc_client_call_sync(struct rpc_client *c, uint16_t type,
		     const ProtobufCMessage *msg, uint32_t timeout_ms,
		     ProtobufCMessage **reply_r)
{
	struct sync_result r;
	uint64_t id = c->next_id;
	struct pending *p;

	memset(&r, 0, sizeof(r));
	*reply_r = NULL;
	if (rpc_client_call(c, type, msg, timeout_ms, sync_done, &r) < 0)
		return c->n_pending >= RPC_MAX_PENDING
			   ? RPC__STATUS__STATUS_BUSY
			   : RPC__STATUS__STATUS_DISCONNECTED;
	/* The call's own timer bounds this loop. */
	while (!r.done) {
		if (loop_run_once(c->loop, -1) < 0) {
			p = pending_find(c, id);
			if (p != NULL) {
				pending_unlink(p);
				pending_free(p);
			}
			return RPC__STATUS__STATUS_INTERNAL;
		}
	}
	*reply_r = r.reply;
	return r.status;
}

int
rpc_client_subscribe(struct rpc_client *c, bool all, const uint64_t *users,
		     size_t n_users, rpc_client_event_fn *fn, void *arg)
{
	uint64_t *copy = NULL;

	if (n_users > RPC_MAX_SUBSCRIBED_USERS)
		return -1;
	if (n_users > 0) {
		copy = calloc(n_users, sizeof(*copy));
		if (copy == NULL)
			return -1;
		memcpy(copy, users, n_users * sizeof(*copy));
	}
	free(c->sub_users);
	c->sub_users = copy;
	c->n_sub_users = n_users;
	c->sub_all = all;
	c->sub_set = true;
	c->event_fn = fn;
	c->event_arg = arg;
	/* While connecting, the handshake sends it. */
	if (c->state == CLIENT_UP)
		return send_subscribe(c);
	return 0;
}
