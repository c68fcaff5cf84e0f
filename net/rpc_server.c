/*
 * Generic RPC server (contract in rpc_server.h): listener, per-connection
 * handshake state, subscriptions, and the cross-thread reply path.
 * Connections live in a doubly linked list scanned by id for replies: the
 * RPC has a handful of peers (CAS instances, easctl), so a scan of at most
 * RPC_MAX_CONNECTIONS is cheaper than keeping a hash in sync.
 */
#include "net/rpc_server.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/conn.h"
#include "net/listen.h"
#include "proto/limits.h"
#include "proto/log.h"

/* A worker thread waiting in rpc_server_wait_output().  Shared by the
 * worker and the loop; whoever drops the last reference frees it. */
struct srv_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs;
	bool done;
	int result;
	struct rpc_server *server;
	uint64_t conn_id;
	size_t below;
	struct srv_wait *next; /* in srv_conn.waiters (loop thread) */
};

struct srv_conn {
	struct rpc_server *server;
	struct srv_conn *prev, *next;
	uint64_t id;
	struct conn *conn;
	struct loop_timer *handshake_timer;
	bool hello_done;
	Rpc__Role role;
	/* Subscription: all users, or a sorted list. */
	bool sub_all;
	uint64_t *sub_users;
	size_t n_sub_users;
	struct srv_wait *waiters; /* woken when the output drains */
};

struct rpc_server {
	struct loop *loop;
	struct net_addr addr;
	int listen_fd;
	struct loop_watch *listen_watch;
	struct tls_ctx *tls;
	char *software;
	uint32_t version;
	uint32_t handshake_timeout_ms;
	rpc_server_request_fn *fn;
	void *arg;
	struct srv_conn *conns;
	uint64_t next_conn_id;
	struct rpc_server_stats stats;
};

/* A packed frame travelling from a worker thread to the loop. */
struct srv_out {
	struct rpc_server *server;
	uint64_t conn_id; /* 0: an event for subscribers */
	uint64_t user;    /* event: whose */
	struct buf frame;
};

static void
wait_unref(struct srv_wait *w)
{
	bool last;

	pthread_mutex_lock(&w->lock);
	last = --w->refs == 0;
	pthread_mutex_unlock(&w->lock);
	if (last) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		free(w);
	}
}

/* Loop thread: wake a waiter with its result and drop the loop's ref. */
static void
wait_finish(struct srv_wait *w, int result)
{
	pthread_mutex_lock(&w->lock);
	w->done = true;
	w->result = result;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	wait_unref(w);
}

static void
wake_waiters(struct srv_conn *sc, int result)
{
	while (sc->waiters != NULL) {
		struct srv_wait *w = sc->waiters;

		sc->waiters = w->next;
		wait_finish(w, result);
	}
}

/* Unlink and release one connection (s is sc->server). */
static void
srv_conn_free(struct rpc_server *s, struct srv_conn *sc)
{
	if (sc->prev != NULL)
		sc->prev->next = sc->next;
	else
		s->conns = sc->next;
	if (sc->next != NULL)
		sc->next->prev = sc->prev;
	s->stats.connections--;
	/* Every connection that ends without a completed Hello (TLS failure,
	 * refused or missing Hello) counts once as refused. */
	if (!sc->hello_done)
		s->stats.refused++;
	loop_timer_cancel(&sc->handshake_timer);
	wake_waiters(sc, -1);
	conn_free(&sc->conn);
	free(sc->sub_users);
	free(sc);
}

static void
on_ready(void *arg)
{
	(void)arg; /* the client speaks first */
}

static void
on_closed(void *arg, const char *reason)
{
	struct srv_conn *sc = arg;

	if (!sc->hello_done) {
		log_info("rpc: connection %llu closed before handshake: %s",
			 (unsigned long long)sc->id, reason);
	} else {
		log_debug("rpc: connection %llu closed: %s",
			  (unsigned long long)sc->id, reason);
	}
	srv_conn_free(sc->server, sc);
}

static void
handshake_expired(void *arg)
{
	struct srv_conn *sc = arg;

	sc->handshake_timer = NULL;
	log_warn("rpc: connection %llu: no Hello within %u ms",
		 (unsigned long long)sc->id, sc->server->handshake_timeout_ms);
	srv_conn_free(sc->server, sc);
}

/* A peer that breaks the protocol is closed (style rule 9). */
static void
drop(struct srv_conn *sc, const char *why)
{
	log_warn("rpc: closing connection %llu from %s: %s",
		 (unsigned long long)sc->id, conn_peer_name(sc->conn), why);
	srv_conn_free(sc->server, sc);
}

static void
send_status(struct srv_conn *sc, const struct rpc_frame *f, Rpc__Status st,
	    const char *error)
{
	Rpc__StatusReply rep;

	rpc__status_reply__init(&rep);
	rep.status = st;
	rep.error = (char *)(uintptr_t)error;
	(void)conn_send(sc->conn, f->type, RPC_FLAG_REPLY | RPC_FLAG_LAST,
			f->id, &rep.base);
}

static void
handle_hello(struct srv_conn *sc, const struct rpc_frame *f)
{
	struct rpc_server *s = sc->server;
	Rpc__HelloReply rep;
	Rpc__Hello *hello;
	char error[160];

	if (f->type != RPC__MSG_TYPE__MSG_HELLO || f->flags != 0) {
		drop(sc, "first frame is not Hello");
		return;
	}
	hello = (Rpc__Hello *)protobuf_c_message_unpack(
	    &rpc__hello__descriptor, NULL, f->payload_len, f->payload);
	if (hello == NULL) {
		drop(sc, "malformed Hello");
		return;
	}
	rpc__hello_reply__init(&rep);
	rep.protocol_version = s->version;
	rep.role = RPC__ROLE__ROLE_MAILBOX;
	rep.software = s->software;
	if (hello->protocol_version != s->version) {
		/* smtpd IMSG_VERSION: refuse, say both versions, close. */
		(void)snprintf(error, sizeof(error),
			       "rpc: protocol version %u refused: this "
			       "server speaks version %u",
			       hello->protocol_version, s->version);
		log_warn("rpc: connection %llu (%s): %s",
			 (unsigned long long)sc->id, conn_peer_name(sc->conn),
			 error);
		rep.status = RPC__STATUS__STATUS_VERSION_MISMATCH;
		rep.error = error;
	} else if (hello->role == RPC__ROLE__ROLE_UNSPECIFIED ||
		   hello->role == RPC__ROLE__ROLE_MAILBOX) {
		(void)snprintf(error, sizeof(error),
			       "rpc: peer role %d refused", (int)hello->role);
		rep.status = RPC__STATUS__STATUS_DENIED;
		rep.error = error;
	} else {
		rep.status = RPC__STATUS__STATUS_OK;
	}
	sc->role = hello->role;
	protobuf_c_message_free_unpacked(&hello->base, NULL);
	if (conn_send(sc->conn, RPC__MSG_TYPE__MSG_HELLO,
		      RPC_FLAG_REPLY | RPC_FLAG_LAST, f->id, &rep.base) < 0) {
		drop(sc, "cannot send HelloReply");
		return;
	}
	if (rep.status != RPC__STATUS__STATUS_OK) {
		loop_timer_cancel(&sc->handshake_timer);
		conn_close_after_flush(sc->conn, "rpc: handshake refused");
		return;
	}
	sc->hello_done = true;
	s->stats.handshakes++;
	loop_timer_cancel(&sc->handshake_timer);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
handle_subscribe(struct srv_conn *sc, const struct rpc_frame *f,
		 Rpc__SubscribeRequest *req)
{
	uint64_t *users = NULL;

	if (req->n_users > RPC_MAX_SUBSCRIBED_USERS) {
		send_status(sc, f, RPC__STATUS__STATUS_INVALID,
			    "more users than RPC_MAX_SUBSCRIBED_USERS");
		return;
	}
	if (req->n_users > 0) {
		users = calloc(req->n_users, sizeof(*users));
		if (users == NULL) {
			send_status(sc, f, RPC__STATUS__STATUS_BUSY,
				    "out of memory");
			return;
		}
		memcpy(users, req->users, req->n_users * sizeof(*users));
		qsort(users, req->n_users, sizeof(*users), cmp_u64);
	}
	free(sc->sub_users);
	sc->sub_users = users;
	sc->n_sub_users = req->n_users;
	sc->sub_all = req->all;
	send_status(sc, f, RPC__STATUS__STATUS_OK, NULL);
}

static void
on_frame(void *arg, const struct rpc_frame *f)
{
	struct srv_conn *sc = arg;
	struct rpc_server *s = sc->server;
	struct rpc_request req;
	ProtobufCMessage *msg;

	if (!sc->hello_done) {
		handle_hello(sc, f);
		return;
	}
	if (f->flags != 0) {
		/* Clients send requests only: no replies, events, chunks. */
		drop(sc, "unexpected flags on a request");
		return;
	}
	if (f->type == RPC__MSG_TYPE__MSG_HELLO ||
	    f->type == RPC__MSG_TYPE__MSG_EVENT) {
		drop(sc, "Hello or Event after the handshake");
		return;
	}
	if (rpc_msg_descriptor(f->type, false) == NULL) {
		/* A newer client may know more types: refuse this one and
		 * keep the connection. */
		send_status(sc, f, RPC__STATUS__STATUS_UNSUPPORTED,
			    "unknown message type");
		return;
	}
	msg = rpc_msg_unpack(f);
	if (msg == NULL) {
		drop(sc, "malformed request payload");
		return;
	}
	if (f->type == RPC__MSG_TYPE__MSG_SUBSCRIBE) {
		handle_subscribe(sc, f, (Rpc__SubscribeRequest *)msg);
		protobuf_c_message_free_unpacked(msg, NULL);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.conn_id = sc->id;
	req.id = f->id;
	req.type = f->type;
	req.role = sc->role;
	req.peer = conn_peer_name(sc->conn);
	req.msg = msg;
	s->stats.requests++;
	s->fn(s->arg, &req);
}

static void
on_drained(void *arg)
{
	struct srv_conn *sc = arg;
	struct srv_wait **pp = &sc->waiters;
	size_t lowest = SIZE_MAX;

	/* Wake those whose level is reached; re-arm for the rest. */
	while (*pp != NULL) {
		struct srv_wait *w = *pp;

		if (conn_output_pending(sc->conn) <= w->below) {
			*pp = w->next;
			wait_finish(w, 0);
		} else {
			if (w->below < lowest)
				lowest = w->below;
			pp = &w->next;
		}
	}
	if (sc->waiters != NULL && conn_notify_drained(sc->conn, lowest))
		wake_waiters(sc, 0);
}

static const struct conn_ops srv_conn_ops = {
    .ready = on_ready,
    .frame = on_frame,
    .closed = on_closed,
    .drained = on_drained,
};

static void
on_accept(void *arg, unsigned events)
{
	struct rpc_server *s = arg;
	int budget = 64; /* accepts per pass */

	(void)events;
	while (budget-- > 0) {
		struct srv_conn *sc;
		struct ssl_st *ssl = NULL;
		const char *error = NULL;
		int fd = net_accept(s->listen_fd);

		if (fd < 0)
			return;
		s->stats.accepted++;
		if (s->stats.connections >= RPC_MAX_CONNECTIONS) {
			log_warn("rpc: RPC_MAX_CONNECTIONS reached, refusing");
			s->stats.refused++; /* never became a srv_conn */
			close(fd);
			continue;
		}
		if (s->tls != NULL) {
			ssl = tls_ssl_new(s->tls, fd, &error);
			if (ssl == NULL) {
				log_error("%s", error);
				close(fd);
				continue;
			}
		}
		sc = calloc(1, sizeof(*sc));
		if (sc == NULL) {
			if (ssl != NULL)
				SSL_free(ssl);
			close(fd);
			continue;
		}
		sc->server = s;
		sc->id = ++s->next_conn_id;
		sc->conn = conn_new(s->loop, fd, ssl, false, &srv_conn_ops, sc);
		if (sc->conn == NULL) {
			free(sc);
			continue;
		}
		sc->handshake_timer = loop_timer_add(
		    s->loop, s->handshake_timeout_ms, handshake_expired, sc);
		sc->next = s->conns;
		if (s->conns != NULL)
			s->conns->prev = sc;
		s->conns = sc;
		s->stats.connections++;
	}
}

struct rpc_server *
rpc_server_new(struct loop *loop, const struct rpc_server_config *config,
	       rpc_server_request_fn *fn, void *arg, const char **error_r)
{
	struct rpc_server *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		*error_r = "rpc_listen: out of memory";
		return NULL;
	}
	s->loop = loop;
	s->listen_fd = -1;
	s->fn = fn;
	s->arg = arg;
	s->handshake_timeout_ms = config->handshake_timeout_ms != 0
				      ? config->handshake_timeout_ms
				      : RPC_HANDSHAKE_TIMEOUT_MS;
	s->version = config->protocol_version != 0 ? config->protocol_version
						   : RPC_PROTOCOL_VERSION;
	s->software =
	    strdup(config->software != NULL ? config->software : "easd");
	if (s->software == NULL) {
		*error_r = "rpc_listen: out of memory";
		goto fail;
	}
	if (config->listen == NULL ||
	    net_addr_parse(config->listen, &s->addr, error_r) < 0) {
		if (config->listen == NULL)
			*error_r = "rpc_listen: expected unix:PATH or "
				   "tcp:HOST:PORT";
		goto fail;
	}
	if (s->addr.kind == NET_ADDR_TCP) {
		/* No plaintext TCP, ever. */
		if (config->tls == NULL) {
			*error_r = "rpc_listen: tcp requires TLS settings "
				   "(ca_file, cert_file, key_file)";
			goto fail;
		}
		s->tls = tls_ctx_new(config->tls, true, error_r);
		if (s->tls == NULL)
			goto fail;
	}
	s->listen_fd = net_listen(&s->addr, error_r);
	if (s->listen_fd < 0)
		goto fail;
	s->listen_watch =
	    loop_watch_add(loop, s->listen_fd, LOOP_READ, on_accept, s);
	if (s->listen_watch == NULL) {
		*error_r = "rpc_listen: cannot watch the listener";
		goto fail;
	}
	return s;
fail:
	rpc_server_free(&s);
	return NULL;
}

void
rpc_server_free(struct rpc_server **sp)
{
	struct rpc_server *s = *sp;
	struct srv_conn *sc, *next;

	if (s == NULL)
		return;
	*sp = NULL;
	if (s->listen_fd >= 0)
		loop_run_posted(s->loop);
	for (sc = s->conns; sc != NULL; sc = next) {
		next = sc->next;
		srv_conn_free(s, sc);
	}
	loop_watch_free(&s->listen_watch);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		if (s->addr.kind == NET_ADDR_UNIX)
			(void)unlink(s->addr.path);
	}
	tls_ctx_free(&s->tls);
	free(s->software);
	free(s);
}

static struct srv_conn *
find_conn(struct rpc_server *s, uint64_t id)
{
	struct srv_conn *sc;

	for (sc = s->conns; sc != NULL; sc = sc->next) {
		if (sc->id == id)
			return sc;
	}
	return NULL;
}

static bool
subscribed(const struct srv_conn *sc, uint64_t user)
{
	if (!sc->hello_done)
		return false;
	if (sc->sub_all)
		return true;
	return sc->n_sub_users > 0 &&
	       bsearch(&user, sc->sub_users, sc->n_sub_users, sizeof(uint64_t),
		       cmp_u64) != NULL;
}

/* Loop thread: deliver one packed frame. */
static void
deliver_out(void *arg)
{
	struct srv_out *o = arg;
	struct rpc_server *s = o->server;
	struct srv_conn *sc, *next;

	if (o->conn_id != 0) {
		sc = find_conn(s, o->conn_id);
		if (sc != NULL)
			(void)conn_send_raw(sc->conn, o->frame.data,
					    o->frame.len);
	} else {
		for (sc = s->conns; sc != NULL; sc = next) {
			next = sc->next;
			if (subscribed(sc, o->user))
				(void)conn_send_raw(sc->conn, o->frame.data,
						    o->frame.len);
		}
	}
	buf_free(&o->frame);
	free(o);
}

static int
post_frame(struct rpc_server *s, uint64_t conn_id, uint64_t user, uint16_t type,
	   uint8_t flags, uint64_t id, const ProtobufCMessage *msg)
{
	struct srv_out *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return -1;
	o->server = s;
	o->conn_id = conn_id;
	o->user = user;
	buf_init(&o->frame, RPC_FRAME_LENGTH_BYTES + RPC_MAX_FRAME_BYTES);
	if (rpc_frame_encode_msg(&o->frame, type, flags, id, msg) < 0 ||
	    loop_post(s->loop, deliver_out, o) < 0) {
		buf_free(&o->frame);
		free(o);
		return -1;
	}
	return 0;
}

int
rpc_server_reply(struct rpc_server *s, uint64_t conn_id, uint64_t id,
		 uint16_t type, const ProtobufCMessage *msg, bool last)
{
	uint8_t flags = RPC_FLAG_REPLY | (last ? RPC_FLAG_LAST : 0);

	if (conn_id == 0)
		return -1;
	return post_frame(s, conn_id, 0, type, flags, id, msg);
}

/* Loop thread: the replies posted before this task are queued now. */
static void
check_output(void *arg)
{
	struct srv_wait *w = arg;
	struct srv_conn *sc = find_conn(w->server, w->conn_id);

	if (sc == NULL) {
		wait_finish(w, -1);
		return;
	}
	if (conn_notify_drained(sc->conn, w->below)) {
		wait_finish(w, 0);
		return;
	}
	w->next = sc->waiters;
	sc->waiters = w;
}

int
rpc_server_wait_output(struct rpc_server *s, uint64_t conn_id,
		       size_t below_bytes, int timeout_ms)
{
	struct srv_wait *w = calloc(1, sizeof(*w));
	struct timespec until;
	int ret = -1, r = 0;

	if (w == NULL)
		return -1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->refs = 2; /* this thread and the loop */
	w->server = s;
	w->conn_id = conn_id;
	w->below = below_bytes;
	if (loop_post(s->loop, check_output, w) < 0) {
		w->refs = 1;
		wait_unref(w);
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while (!w->done && r == 0)
		r = pthread_cond_timedwait(&w->cond, &w->lock, &until);
	if (w->done)
		ret = w->result;
	pthread_mutex_unlock(&w->lock);
	/* On timeout the loop still holds its reference; it frees the wait
	 * when the connection drains or closes. */
	wait_unref(w);
	return ret;
}

int
rpc_server_publish(struct rpc_server *s, const Rpc__Event *ev)
{
	return post_frame(s, 0, ev->user, RPC__MSG_TYPE__MSG_EVENT,
			  RPC_FLAG_EVENT, 0, &ev->base);
}

void
rpc_server_get_stats(const struct rpc_server *s,
		     struct rpc_server_stats *stats_r)
{
	*stats_r = s->stats;
}
