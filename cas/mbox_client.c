/*
 * easd-cas's RPC client to easd-mailbox; see mbox_client.h.  One loop
 * thread owns the net/ rpc_client connections.  A call crosses threads as
 * bytes: the caller packs the message (so it may point at its stack or
 * its request arena), the loop thread unpacks it into a message of its
 * own and hands it to rpc_client_call(), which frames it at once.  The
 * extra pack/unpack costs microseconds against a mailbox round trip and
 * removes every question of who owns the caller's message.
 *
 * Exactly-once: after mbox_call() returned 0, its callback runs once --
 * with the reply, with the rpc_client's local failure, with
 * STATUS_DISCONNECTED when no connection could take it, or, at shutdown,
 * from mbox_client_free() with STATUS_DISCONNECTED.
 */
#include "cas/mbox_client.h"

#include "net/rpc_client.h"
#include "proto/limits.h"
#include "proto/log.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MBOX_USER_BUCKETS 4096u

struct mbox_conn {
	struct mbox_client *mc;
	struct rpc_client *rpc;
	unsigned index;
	bool up; /* loop thread */
};

struct mbox_listener {
	mbox_event_fn *fn; /* NULL: free slot */
	void *arg;
};

struct mbox_user {
	struct mbox_user *next;
	uint64_t user;
	char login[]; /* NUL-terminated */
};

struct mbox_client {
	struct loop *loop;
	pthread_t thread;
	bool thread_started;
	atomic_bool closing;
	atomic_uint n_up;
	struct mbox_conn conns[MBOX_MAX_CONNECTIONS];
	unsigned n_conns;
	unsigned next_conn; /* loop thread: round robin */
	uint32_t default_timeout_ms;
	struct tls_config tls;
	char *server_name;

	/* Listeners: recursive so that a listener may remove itself. */
	pthread_mutex_t listeners_lock;
	struct mbox_listener listeners[MBOX_MAX_EVENT_LISTENERS];

	pthread_mutex_t users_lock;
	struct mbox_user *users[MBOX_USER_BUCKETS];
	size_t n_users;
};

/* A call on its way to and back from the loop thread. */
struct mbox_pending {
	struct mbox_client *mc;
	Rpc__MsgType type;
	uint8_t *payload;
	size_t len;
	uint32_t timeout_ms;
	mbox_reply_fn *fn;
	mbox_chunk_fn *chunk_fn; /* NULL: chunks are dropped */
	void *arg;
};

static void
pending_free(struct mbox_pending *p)
{
	if (p->payload != NULL) {
		/* Payloads may hold a password (VerifyCredentials). */
		OPENSSL_cleanse(p->payload, p->len);
		free(p->payload);
	}
	free(p);
}

/* ---------------------------------------------------------- events */

static void
dispatch_event(struct mbox_client *mc, const Rpc__Event *ev)
{
	pthread_mutex_lock(&mc->listeners_lock);
	for (size_t i = 0; i < MBOX_MAX_EVENT_LISTENERS; i++) {
		struct mbox_listener l = mc->listeners[i];

		if (l.fn != NULL)
			l.fn(l.arg, ev);
	}
	pthread_mutex_unlock(&mc->listeners_lock);
}

static void
on_event(void *arg, const Rpc__Event *ev)
{
	struct mbox_conn *conn = arg;

	dispatch_event(conn->mc, ev);
}

static void
on_state(void *arg, bool up, const char *reason)
{
	struct mbox_conn *conn = arg;
	struct mbox_client *mc = conn->mc;

	if (up == conn->up)
		return;
	conn->up = up;
	if (up) {
		atomic_fetch_add(&mc->n_up, 1);
		log_info("mailbox connection %u up", conn->index);
		/* The subscription is renewed by the rpc client; whatever
		 * happened while it was down is unknown to the watchers. */
		if (conn->index == 0)
			dispatch_event(mc, NULL);
	} else {
		atomic_fetch_sub(&mc->n_up, 1);
		log_warn("mailbox connection %u down: %s", conn->index,
			 reason != NULL ? reason : "");
	}
}

int
mbox_client_on_event(struct mbox_client *mc, mbox_event_fn *fn, void *arg)
{
	int rc = -1;

	pthread_mutex_lock(&mc->listeners_lock);
	for (size_t i = 0; i < MBOX_MAX_EVENT_LISTENERS; i++) {
		if (mc->listeners[i].fn == NULL) {
			mc->listeners[i].fn = fn;
			mc->listeners[i].arg = arg;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&mc->listeners_lock);
	return rc;
}

void
mbox_client_off_event(struct mbox_client *mc, mbox_event_fn *fn, void *arg)
{
	/* Taking the lock waits for a dispatch in progress on the loop
	 * thread (or re-enters it from a listener). */
	pthread_mutex_lock(&mc->listeners_lock);
	for (size_t i = 0; i < MBOX_MAX_EVENT_LISTENERS; i++) {
		if (mc->listeners[i].fn == fn && mc->listeners[i].arg == arg) {
			mc->listeners[i].fn = NULL;
			mc->listeners[i].arg = NULL;
		}
	}
	pthread_mutex_unlock(&mc->listeners_lock);
}

/* ---------------------------------------------------------- calls */

static void
call_done(void *arg, Rpc__Status status, ProtobufCMessage *reply, bool last)
{
	struct mbox_pending *p = arg;
	Rpc__Status st = status;

	if (!last) {
		/* A chunk of a streamed reply: only the final frame counts
		 * here (mbox_call's contract), unless the caller asked for
		 * the chunks (mbox_call_stream). */
		if (reply != NULL && p->chunk_fn != NULL)
			p->chunk_fn(p->arg, reply);
		if (reply != NULL)
			protobuf_c_message_free_unpacked(reply, NULL);
		return;
	}
	if (reply != NULL)
		st = rpc_msg_status(reply);
	p->fn(p->arg, st, reply);
	if (reply != NULL)
		protobuf_c_message_free_unpacked(reply, NULL);
	pending_free(p);
}

/* Wipe secrets in an unpacked request before it is freed. */
static void
cleanse_request(Rpc__MsgType type, ProtobufCMessage *msg)
{
	if (type == RPC__MSG_TYPE__MSG_VERIFY_CREDENTIALS) {
		Rpc__VerifyCredentialsRequest *v =
		    (Rpc__VerifyCredentialsRequest *)msg;

		if (v->password.data != NULL)
			OPENSSL_cleanse(v->password.data, v->password.len);
	}
}

static struct mbox_conn *
pick_conn(struct mbox_client *mc)
{
	/* Round robin over connections that are up; when none is, the
	 * first (its call fails at once while it waits to reconnect). */
	for (unsigned i = 0; i < mc->n_conns; i++) {
		struct mbox_conn *c =
		    &mc->conns[(mc->next_conn + i) % mc->n_conns];

		if (c->up) {
			mc->next_conn = (c->index + 1) % mc->n_conns;
			return c;
		}
	}
	return &mc->conns[0];
}

static void
call_task(void *arg)
{
	struct mbox_pending *p = arg;
	struct mbox_client *mc = p->mc;
	const ProtobufCMessageDescriptor *desc;
	ProtobufCMessage *msg;
	struct mbox_conn *conn;
	int rc;

	if (atomic_load(&mc->closing)) {
		p->fn(p->arg, RPC__STATUS__STATUS_DISCONNECTED, NULL);
		pending_free(p);
		return;
	}
	desc = rpc_msg_descriptor((uint16_t)p->type, false);
	msg = desc != NULL
		  ? protobuf_c_message_unpack(desc, NULL, p->len, p->payload)
		  : NULL;
	if (msg == NULL) {
		/* We packed it ourselves: only memory can fail here. */
		p->fn(p->arg, RPC__STATUS__STATUS_INTERNAL, NULL);
		pending_free(p);
		return;
	}
	conn = pick_conn(mc);
	rc = rpc_client_call(conn->rpc, (uint16_t)p->type, msg, p->timeout_ms,
			     call_done, p);
	cleanse_request(p->type, msg);
	protobuf_c_message_free_unpacked(msg, NULL);
	if (rc != 0) {
		p->fn(p->arg,
		      conn->up ? RPC__STATUS__STATUS_BUSY
			       : RPC__STATUS__STATUS_DISCONNECTED,
		      NULL);
		pending_free(p);
	}
}

int
mbox_call(struct mbox_client *mc, Rpc__MsgType type,
	  const ProtobufCMessage *msg, uint32_t timeout_ms, mbox_reply_fn *fn,
	  void *arg)
{
	return mbox_call_stream(mc, type, msg, timeout_ms, NULL, fn, arg);
}

int
mbox_call_stream(struct mbox_client *mc, Rpc__MsgType type,
		 const ProtobufCMessage *msg, uint32_t timeout_ms,
		 mbox_chunk_fn *chunk_fn, mbox_reply_fn *fn, void *arg)
{
	struct mbox_pending *p;
	size_t len;

	if (rpc_msg_descriptor((uint16_t)type, false) != msg->descriptor)
		return -1;
	len = protobuf_c_message_get_packed_size(msg);
	if (len > RPC_MAX_FRAME_BYTES - RPC_FRAME_HEADER_BYTES)
		return -1;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -1;
	p->payload = malloc(len > 0 ? len : 1);
	if (p->payload == NULL) {
		free(p);
		return -1;
	}
	p->len = protobuf_c_message_pack(msg, p->payload);
	p->mc = mc;
	p->type = type;
	p->timeout_ms = timeout_ms != 0 ? timeout_ms : mc->default_timeout_ms;
	p->fn = fn;
	p->chunk_fn = chunk_fn;
	p->arg = arg;
	if (loop_post(mc->loop, call_task, p) != 0) {
		pending_free(p);
		return -1;
	}
	return 0;
}

int
mbox_client_post(struct mbox_client *mc, loop_task_fn *fn, void *arg)
{
	return loop_post(mc->loop, fn, arg);
}

bool
mbox_client_is_up(struct mbox_client *mc)
{
	return atomic_load(&mc->n_up) > 0;
}

/* ---------------------------------------------------------- users */

static size_t
user_bucket(const char *login)
{
	/* FNV-1a; logins are not secret and the table is bounded. */
	uint32_t h = 2166136261u;

	for (const unsigned char *s = (const unsigned char *)login; *s; s++) {
		h ^= *s;
		h *= 16777619u;
	}
	return h % MBOX_USER_BUCKETS;
}

static void
users_clear_locked(struct mbox_client *mc)
{
	for (size_t i = 0; i < MBOX_USER_BUCKETS; i++) {
		while (mc->users[i] != NULL) {
			struct mbox_user *u = mc->users[i];

			mc->users[i] = u->next;
			free(u);
		}
	}
	mc->n_users = 0;
}

bool
mbox_user_lookup(struct mbox_client *mc, const char *login, uint64_t *user_r)
{
	bool found = false;

	pthread_mutex_lock(&mc->users_lock);
	for (struct mbox_user *u = mc->users[user_bucket(login)]; u != NULL;
	     u = u->next) {
		if (strcmp(u->login, login) == 0) {
			*user_r = u->user;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&mc->users_lock);
	return found;
}

void
mbox_user_remember(struct mbox_client *mc, const char *login, uint64_t user)
{
	size_t b = user_bucket(login), len = strlen(login);
	struct mbox_user *u;

	if (len > CAS_AUTH_MAX_LOGIN_BYTES)
		return;
	pthread_mutex_lock(&mc->users_lock);
	for (u = mc->users[b]; u != NULL; u = u->next) {
		if (strcmp(u->login, login) == 0) {
			u->user = user;
			goto out;
		}
	}
	if (mc->n_users >= MBOX_USER_CACHE_MAX_ENTRIES)
		users_clear_locked(mc);
	u = malloc(sizeof(*u) + len + 1);
	if (u == NULL)
		goto out;
	memcpy(u->login, login, len + 1);
	u->user = user;
	u->next = mc->users[b];
	mc->users[b] = u;
	mc->n_users++;
out:
	pthread_mutex_unlock(&mc->users_lock);
}

/* ---------------------------------------------------------- verifier */

struct verify_call {
	struct mbox_client *mc;
	cas_auth_done_fn *done;
	void *cookie;
	char login[];
};

static void
verify_done(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	struct verify_call *v = arg;
	const Rpc__VerifyCredentialsReply *r =
	    (const Rpc__VerifyCredentialsReply *)reply;
	enum cas_auth_result result;

	if (status == RPC__STATUS__STATUS_OK && r != NULL && r->user != 0) {
		mbox_user_remember(v->mc, v->login, r->user);
		result = CAS_AUTH_OK;
	} else if (status == RPC__STATUS__STATUS_DENIED ||
		   status == RPC__STATUS__STATUS_NOT_FOUND) {
		result = CAS_AUTH_DENIED;
	} else {
		result = CAS_AUTH_UNAVAILABLE;
	}
	v->done(v->cookie, result);
	free(v);
}

static int
verify(void *ctx, const char *login, const char *password,
       cas_auth_done_fn *done, void *cookie)
{
	struct mbox_client *mc = ctx;
	Rpc__VerifyCredentialsRequest req;
	struct verify_call *v;
	size_t len = strlen(login);

	v = malloc(sizeof(*v) + len + 1);
	if (v == NULL)
		return -1;
	v->mc = mc;
	v->done = done;
	v->cookie = cookie;
	memcpy(v->login, login, len + 1);
	rpc__verify_credentials_request__init(&req);
	req.login = v->login;
	/* protobuf-c does not write through this pointer. */
	req.password.data = (uint8_t *)(uintptr_t)password;
	req.password.len = strlen(password);
	if (mbox_call(mc, RPC__MSG_TYPE__MSG_VERIFY_CREDENTIALS, &req.base, 0,
		      verify_done, v) != 0) {
		free(v);
		return -1;
	}
	return 0;
}

struct cas_auth_verifier
mbox_client_verifier(struct mbox_client *mc)
{
	struct cas_auth_verifier vf = {.verify = verify, .ctx = mc};

	return vf;
}

/* ---------------------------------------------------------- lifetime */

static void *
loop_main(void *arg)
{
	struct mbox_client *mc = arg;

	(void)loop_run(mc->loop);
	return NULL;
}

static char *errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
errorf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
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
mbox_client_start(const struct mbox_client_config *config,
		  struct mbox_client **mc_r, char **error_r)
{
	struct mbox_client *mc;
	pthread_mutexattr_t ma;
	const char *error = NULL;
	bool tcp;
	unsigned n;

	*mc_r = NULL;
	*error_r = NULL;
	if (config->addr == NULL) {
		*error_r = errorf("[cas] mailbox is not set");
		return -1;
	}
	tcp = strncmp(config->addr, "tcp:", 4) == 0;
	if (tcp && (config->tls_ca == NULL || config->tls_cert == NULL ||
		    config->tls_key == NULL)) {
		*error_r = errorf("[cas] mailbox = %s: tcp needs tls_ca, "
				  "tls_cert and tls_key",
				  config->addr);
		return -1;
	}
	mc = calloc(1, sizeof(*mc));
	if (mc == NULL)
		return -1;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&mc->listeners_lock, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_mutex_init(&mc->users_lock, NULL);
	mc->default_timeout_ms = config->default_timeout_ms != 0
				     ? config->default_timeout_ms
				     : RPC_DEFAULT_TIMEOUT_MS;
	if (tcp) {
		mc->server_name = config->server_name != NULL
				      ? strdup(config->server_name)
				      : host_of(config->addr);
		mc->tls.ca_file = config->tls_ca;
		mc->tls.cert_file = config->tls_cert;
		mc->tls.key_file = config->tls_key;
		mc->tls.server_name = mc->server_name;
	}
	mc->loop = loop_new(&error);
	if (mc->loop == NULL)
		goto fail;
	n = config->connections != 0 ? config->connections
				     : MBOX_DEFAULT_CONNECTIONS;
	if (n > MBOX_MAX_CONNECTIONS)
		n = MBOX_MAX_CONNECTIONS;
	for (unsigned i = 0; i < n; i++) {
		struct mbox_conn *c = &mc->conns[i];
		struct rpc_client_config rc = {
		    .addr = config->addr,
		    .tls = tcp ? &mc->tls : NULL,
		    .role = RPC__ROLE__ROLE_CAS,
		    .software = config->software != NULL ? config->software
							 : "easd-cas",
		    .reconnect = true,
		    .state_fn = on_state,
		    .state_arg = c,
		};

		c->mc = mc;
		c->index = i;
		c->rpc = rpc_client_connect(mc->loop, &rc, &error);
		if (c->rpc == NULL)
			goto fail;
		mc->n_conns++;
	}
	/* The first connection carries the subscription to every user's
	 * events (architecture: a CAS subscribes "all"). */
	if (rpc_client_subscribe(mc->conns[0].rpc, true, NULL, 0, on_event,
				 &mc->conns[0]) != 0) {
		error = "cannot subscribe to mailbox events";
		goto fail;
	}
	if (pthread_create(&mc->thread, NULL, loop_main, mc) != 0) {
		error = "cannot start the mailbox client thread";
		goto fail;
	}
	mc->thread_started = true;
	for (unsigned waited = 0;
	     waited < MBOX_START_WAIT_MS && !mbox_client_is_up(mc);
	     waited += 10) {
		struct timespec ts = {0, 10 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
	if (!mbox_client_is_up(mc))
		log_warn("mailbox %s not reachable yet; retrying in the "
			 "background",
			 config->addr);
	*mc_r = mc;
	return 0;
fail:
	*error_r = errorf("mailbox client %s: %s", config->addr,
			  error != NULL ? error : "out of memory");
	mbox_client_free(&mc);
	return -1;
}

void
mbox_client_free(struct mbox_client **mcp)
{
	struct mbox_client *mc = *mcp;

	if (mc == NULL)
		return;
	*mcp = NULL;
	if (mc->thread_started) {
		loop_stop(mc->loop);
		pthread_join(mc->thread, NULL);
	}
	/* The loop thread is gone: this thread owns everything now.  Calls
	 * still queued or in flight get STATUS_DISCONNECTED. */
	atomic_store(&mc->closing, true);
	for (unsigned i = 0; i < mc->n_conns; i++)
		rpc_client_free(&mc->conns[i].rpc);
	if (mc->loop != NULL) {
		loop_run_posted(mc->loop);
		loop_free(&mc->loop);
	}
	pthread_mutex_lock(&mc->users_lock);
	users_clear_locked(mc);
	pthread_mutex_unlock(&mc->users_lock);
	pthread_mutex_destroy(&mc->users_lock);
	pthread_mutex_destroy(&mc->listeners_lock);
	free(mc->server_name);
	free(mc);
}
