/*
 * LMTP sockets and delivery (see lmtp_server.h).
 *
 * Loop thread: accept, read into the engine, write its output, resolve
 * recipients (a directory read on this thread's own handle; SQLite WAL
 * readers do not wait for writers).  While a delivery is in flight the
 * connection stops reading (the engine buffers what was pipelined).
 *
 * Worker thread: deliver_batch gets a run of queued deliveries of its
 * shard, parses each message's MIME, stores every user's share in one
 * transaction, and posts each result back to the loop.
 *
 * A connection that closes while its delivery is in flight is kept as a
 * zombie until the results arrive, so no worker result points at freed
 * memory.
 */
#include "mailbox/lmtp_server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mailbox/directory.h"
#include "mailbox/folders.h"
#include "mailbox/lmtp.h"
#include "mailbox/notify.h"
#include "mailbox/oof.h"
#include "mailbox/rpc_deliver.h"
#include "mailbox/rpc_server.h"
#include "net/listen.h"
#include "proto/limits.h"
#include "proto/log.h"

/* Concurrent LMTP connections; more are closed at accept (Postfix's
 * default lmtp concurrency is 20 per destination). */
#define LMTP_SERVER_MAX_CONNECTIONS 256
/* Bytes read per pass. */
#define LMTP_SERVER_READ_BYTES 65536

struct lmtp_conn;

struct lmtp_server {
	struct mbox_ctx *ctx;
	int listen_fd;
	char *unix_path;
	struct loop_watch *listen_watch;
	struct lmtp_conn *conns;
	unsigned n_conns;
};

struct lmtp_txn;

struct lmtp_conn {
	struct lmtp_server *server;
	struct lmtp_conn *prev, *next;
	int fd;
	struct loop_watch *watch;
	struct lmtp_session *session;
	struct lmtp_txn *txn; /* delivery in flight */
	bool dead;            /* socket gone; freed when txn completes */
};

/* One transaction's delivery: one task per recipient. */
struct lmtp_txn {
	struct lmtp_conn *conn;
	size_t n;
	size_t pending;
	enum lmtp_result *results;
	const uint8_t *message; /* the engine's; valid until done */
	size_t message_len;
	char *mail_from; /* copy of the envelope sender ("" for <>) */
};

struct lmtp_task {
	struct lmtp_txn *txn;
	struct mbox_ctx *ctx;
	size_t index;
	int64_t user;
	char *folder; /* "+detail" name, NULL for the Inbox */
	enum lmtp_result result;
	int64_t folder_id, modseq;
};

static void conn_update(struct lmtp_conn *c);

static void
conn_free(struct lmtp_conn *c)
{
	struct lmtp_server *s = c->server;

	loop_watch_free(&c->watch);
	if (c->fd >= 0)
		(void)close(c->fd);
	lmtp_session_free(&c->session);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->n_conns--;
	free(c);
}

/* The socket is done: close now, or once the delivery answers. */
static void
conn_close(struct lmtp_conn *c)
{
	if (c->txn != NULL) {
		c->dead = true;
		loop_watch_free(&c->watch);
		if (c->fd >= 0)
			(void)close(c->fd);
		c->fd = -1;
		return;
	}
	conn_free(c);
}

static int
conn_flush(struct lmtp_conn *c)
{
	size_t len;
	const uint8_t *out = lmtp_output(c->session, &len);

	while (len > 0) {
		ssize_t n = send(c->fd, out, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		lmtp_output_consume(c->session, (size_t)n);
		out = lmtp_output(c->session, &len);
	}
	return 0;
}

static void
conn_event(void *arg, unsigned events)
{
	struct lmtp_conn *c = arg;
	uint8_t buf[LMTP_SERVER_READ_BYTES];

	if ((events & LOOP_READ) != 0 && !lmtp_session_waiting(c->session)) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR &&
			       errno != EWOULDBLOCK)) {
			conn_close(c);
			return;
		}
		if (n > 0 && lmtp_feed(c->session, buf, (size_t)n) < 0) {
			(void)conn_flush(c);
			conn_close(c);
			return;
		}
	} else if ((events & LOOP_ERROR) != 0) {
		conn_close(c);
		return;
	}
	conn_update(c);
}

/* Write what is queued, then watch for what comes next. */
static void
conn_update(struct lmtp_conn *c)
{
	size_t pending;
	unsigned want = 0;

	if (conn_flush(c) < 0) {
		conn_close(c);
		return;
	}
	(void)lmtp_output(c->session, &pending);
	if (lmtp_session_closed(c->session) && pending == 0) {
		conn_close(c);
		return;
	}
	if (!lmtp_session_waiting(c->session) &&
	    !lmtp_session_closed(c->session) && pending < LMTP_MAX_OUTPUT_BYTES)
		want |= LOOP_READ;
	if (pending > 0)
		want |= LOOP_WRITE;
	(void)loop_watch_set(c->watch, want);
}

/* ----------------------------------------------------- recipients */

/* Resolve an address to a user and an optional "+detail" folder name.
 * 0 found, 1 unknown, 2 disabled, -1 lookup failure. */
static int
resolve(struct mbox_ctx *ctx, const char *address, int64_t *user_r,
	char *detail, size_t detail_size)
{
	struct store_dir *dir;
	enum store_status status;
	struct dir_user u = {0};
	char base[LMTP_MAX_ADDRESS_BYTES + 1];
	const char *plus, *at;
	int rc;

	detail[0] = 0;
	dir = mbox_shard_dir(ctx, &status);
	if (dir == NULL)
		return -1;
	rc = store_dir_user_find(dir, address, &u);
	if (rc < 0 && store_dir_last_error(dir)->status == STORE_NOT_FOUND) {
		/* user+detail@domain -> user@domain, folder "detail". */
		plus = strchr(address, '+');
		at = strrchr(address, '@');
		if (plus == NULL || (at != NULL && plus > at))
			return 1;
		if (at == NULL)
			at = address + strlen(address);
		(void)snprintf(base, sizeof(base), "%.*s%s",
			       (int)(plus - address), address, at);
		(void)snprintf(detail, detail_size, "%.*s",
			       (int)(at - plus - 1), plus + 1);
		rc = store_dir_user_find(dir, base, &u);
	}
	if (rc < 0) {
		detail[0] = 0;
		return store_dir_last_error(dir)->status == STORE_NOT_FOUND
			   ? 1
			   : -1;
	}
	*user_r = u.id;
	rc = u.disabled ? 2 : 0;
	dir_user_clear(&u);
	return rc;
}

static enum lmtp_rcpt_status
on_rcpt(void *arg, const char *address)
{
	struct lmtp_conn *c = arg;
	char detail[STORE_MAX_FOLDER_NAME_BYTES + 1];
	int64_t user;

	switch (
	    resolve(c->server->ctx, address, &user, detail, sizeof(detail))) {
	case 0:
		return LMTP_RCPT_OK;
	case 1:
		return LMTP_RCPT_UNKNOWN;
	case 2:
		return LMTP_RCPT_DISABLED;
	default:
		return LMTP_RCPT_TEMPFAIL;
	}
}

/* ------------------------------------------------------- delivery */

static void
txn_finish(struct lmtp_txn *t)
{
	struct lmtp_conn *c = t->conn;

	c->txn = NULL;
	if (c->dead) {
		conn_free(c);
	} else {
		(void)lmtp_delivery_done(c->session, t->results, t->n);
		conn_update(c);
	}
	free(t->mail_from);
	free(t->results);
	free(t);
}

static void
task_done_on_loop(void *arg)
{
	struct lmtp_task *k = arg;
	struct lmtp_txn *t = k->txn;

	t->results[k->index] = k->result;
	if (k->result == LMTP_RESULT_OK)
		atomic_fetch_add(&k->ctx->delivered, 1);
	else
		atomic_fetch_add(&k->ctx->delivery_failures, 1);
	free(k->folder);
	free(k);
	if (--t->pending == 0)
		txn_finish(t);
}

static enum lmtp_result
result_of(enum store_status status)
{
	switch (status) {
	case STORE_FULL:
		return LMTP_RESULT_DISK_FULL;
	case STORE_NOT_FOUND:
		return LMTP_RESULT_PERMFAIL; /* user deleted meanwhile */
	default:
		return LMTP_RESULT_TEMPFAIL;
	}
}

#ifdef __SANITIZE_ADDRESS__
/* Test builds only (make test builds with ASan): EASD_TEST_FAULT=N:CODE
 * arms the store's fault injection before every delivery transaction, so
 * an integration test can prove that a failed commit answers 4xx and
 * leaves nothing behind.  Release builds have no such switch. */
static void
arm_test_fault(void)
{
	const char *env = getenv("EASD_TEST_FAULT");
	int step, code;

	if (env != NULL && sscanf(env, "%d:%d", &step, &code) == 2)
		store_fault_inject(step, code);
}

static void
disarm_test_fault(void)
{
	if (getenv("EASD_TEST_FAULT") != NULL)
		store_fault_inject(0, 0);
}
#else
static void
arm_test_fault(void)
{
}

static void
disarm_test_fault(void)
{
}
#endif

/* All tasks of args[] for tasks[first].user, in one transaction. */
static void
deliver_user(struct lmtp_task **tasks, size_t n, int64_t user)
{
	struct mbox_ctx *ctx = tasks[0]->ctx;
	struct store *st;
	struct store_dir *dir;
	enum store_status status;
	bool any = false;
	char **addrs = NULL; /* the user's, for ReceivedAsBcc */
	size_t n_addrs = 0;

	if (mbox_shard_store(ctx, user, &st, &status) < 0) {
		for (size_t i = 0; i < n; i++)
			if (tasks[i]->user == user)
				tasks[i]->result = result_of(status);
		return;
	}
	dir = mbox_shard_dir(ctx, &status);
	if (dir == NULL ||
	    store_dir_address_list(dir, user, &addrs, &n_addrs) < 0)
		n_addrs = 0; /* ReceivedAsBcc stays false */
	arm_test_fault();
	if (store_tx_begin(st) < 0) {
		status = store_last_error(st)->status;
		for (size_t i = 0; i < n; i++)
			if (tasks[i]->user == user)
				tasks[i]->result = result_of(status);
		disarm_test_fault();
		dir_strings_free(&addrs, n_addrs);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct lmtp_task *k = tasks[i];
		struct store_delivery d;
		int64_t folder = 0;

		if (k->user != user)
			continue;
		if (k->folder != NULL &&
		    store_folder_by_name(st, 0, k->folder, &folder) < 0)
			folder = 0; /* no such folder: the Inbox */
		if (mbox_message_store_rcpt(
			st, folder, k->txn->message, k->txn->message_len,
			(int64_t)time(NULL), (const char *const *)addrs,
			n_addrs, &d, &status) < 0) {
			k->result = status == STORE_INVALID
					? LMTP_RESULT_REJECTED
					: result_of(status);
			continue;
		}
		k->result = LMTP_RESULT_OK;
		k->folder_id = d.folder_id;
		k->modseq = d.modseq;
		any = true;
	}
	/* G1: nothing is acknowledged before this commit returned. */
	if (any && store_tx_commit(st) < 0) {
		status = store_last_error(st)->status;
		log_error("user %" PRId64 ": delivery commit failed: %s", user,
			  store_last_error(st)->msg);
		store_tx_rollback(st);
		for (size_t i = 0; i < n; i++)
			if (tasks[i]->user == user &&
			    tasks[i]->result == LMTP_RESULT_OK)
				tasks[i]->result = result_of(status);
		any = false;
	} else if (!any) {
		store_tx_rollback(st);
	}
	disarm_test_fault();
	dir_strings_free(&addrs, n_addrs);
	for (size_t i = 0; any && i < n; i++)
		if (tasks[i]->user == user &&
		    tasks[i]->result == LMTP_RESULT_OK)
			notify_changed(ctx, user, tasks[i]->folder_id,
				       tasks[i]->modseq);
	/* Out-of-Office replies, only for what was committed (and after the
	 * commit: a reply never goes out for mail that was not kept). */
	for (size_t i = 0; any && i < n; i++)
		if (tasks[i]->user == user &&
		    tasks[i]->result == LMTP_RESULT_OK)
			oof_after_delivery(
			    ctx, st, user, tasks[i]->txn->mail_from,
			    tasks[i]->txn->message, tasks[i]->txn->message_len);
}

static void
deliver_batch(void **args, size_t n)
{
	struct lmtp_task **tasks = (struct lmtp_task **)args;

	/* A shard serves several users: one transaction per user, in the
	 * order their first message came. */
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = tasks[j]->user == tasks[i]->user;
		if (!seen)
			deliver_user(tasks, n, tasks[i]->user);
	}
	for (size_t i = 0; i < n; i++)
		if (loop_post(tasks[i]->ctx->loop, task_done_on_loop,
			      tasks[i]) < 0)
			/* Out of memory on the loop queue: nothing sane
			 * is left; the session would wait forever. */
			abort();
}

static void
on_deliver(void *arg, struct lmtp_session *session,
	   const struct lmtp_envelope *env)
{
	struct lmtp_conn *c = arg;
	struct mbox_ctx *ctx = c->server->ctx;
	struct lmtp_txn *t = calloc(1, sizeof(*t));
	enum lmtp_result *now = NULL;
	size_t queued = 0;

	if (t == NULL || env->n_rcpts == 0 ||
	    (t->results = calloc(env->n_rcpts, sizeof(*t->results))) == NULL)
		goto fail;
	t->conn = c;
	t->n = env->n_rcpts;
	t->message = env->message;
	t->message_len = env->message_len;
	t->mail_from = strdup(env->mail_from != NULL ? env->mail_from : "");
	if (t->mail_from == NULL)
		goto fail;
	if (env->message_len > ctx->conf->max_message_bytes) {
		for (size_t i = 0; i < t->n; i++)
			t->results[i] = LMTP_RESULT_REJECTED;
		(void)lmtp_delivery_done(session, t->results, t->n);
		free(t->mail_from);
		free(t->results);
		free(t);
		return;
	}
	c->txn = t;
	t->pending = t->n + 1; /* +1: held until every task is queued */
	for (size_t i = 0; i < t->n; i++) {
		struct lmtp_task *k = calloc(1, sizeof(*k));
		char detail[STORE_MAX_FOLDER_NAME_BYTES + 1];
		char key[24];
		int rc;

		if (k == NULL) {
			t->results[i] = LMTP_RESULT_TEMPFAIL;
			t->pending--;
			continue;
		}
		k->txn = t;
		k->ctx = ctx;
		k->index = i;
		rc = resolve(ctx, env->rcpts[i], &k->user, detail,
			     sizeof(detail));
		if (rc != 0) {
			t->results[i] = rc == 1 || rc == 2
					    ? LMTP_RESULT_PERMFAIL
					    : LMTP_RESULT_TEMPFAIL;
			free(k);
			t->pending--;
			continue;
		}
		if (detail[0] != 0)
			k->folder = strdup(detail);
		mbox_user_key(k->user, key, sizeof(key));
		if (workers_submit_batch(ctx->workers, key, deliver_batch, k) <
		    0) {
			t->results[i] = LMTP_RESULT_TEMPFAIL;
			free(k->folder);
			free(k);
			t->pending--;
			continue;
		}
		queued++;
	}
	(void)queued;
	if (--t->pending == 0)
		txn_finish(t);
	return;
fail:
	if (t != NULL) {
		free(t->mail_from);
		free(t->results);
	}
	free(t);
	now = calloc(env->n_rcpts > 0 ? env->n_rcpts : 1, sizeof(*now));
	if (now != NULL) {
		for (size_t i = 0; i < env->n_rcpts; i++)
			now[i] = LMTP_RESULT_TEMPFAIL;
		(void)lmtp_delivery_done(session, now, env->n_rcpts);
		free(now);
	}
}

/* --------------------------------------------------------- listener */

static void
on_accept(void *arg, unsigned events)
{
	struct lmtp_server *s = arg;

	(void)events;
	for (int budget = 64; budget > 0; budget--) {
		struct lmtp_config cfg = {
		    .hostname = s->ctx->conf->hostname,
		    .max_message_bytes = s->ctx->conf->max_message_bytes,
		};
		struct lmtp_callbacks cb = {
		    .rcpt = on_rcpt,
		    .deliver = on_deliver,
		};
		struct lmtp_conn *c;
		int fd = net_accept(s->listen_fd);

		if (fd < 0)
			return;
		if (s->n_conns >= LMTP_SERVER_MAX_CONNECTIONS ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			log_warn("lmtp: connection refused (limit)");
			(void)close(fd);
			continue;
		}
		/* Replies are small and answer a waiting client: no Nagle
		 * delay (fails harmlessly on a Unix socket). */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1},
				 sizeof(int));
		c->server = s;
		c->fd = fd;
		cb.ctx = c;
		c->session = lmtp_session_new(&cfg, &cb);
		c->watch =
		    loop_watch_add(s->ctx->loop, fd, LOOP_READ, conn_event, c);
		c->next = s->conns;
		if (s->conns != NULL)
			s->conns->prev = c;
		s->conns = c;
		s->n_conns++;
		if (c->session == NULL || c->watch == NULL) {
			conn_free(c);
			continue;
		}
		conn_update(c); /* the 220 greeting */
	}
}

int
lmtp_server_new(struct mbox_ctx *ctx, const char *listen,
		struct lmtp_server **s_r, const char **error_r)
{
	struct lmtp_server *s = calloc(1, sizeof(*s));
	struct net_addr addr;
	char text[NET_HOST_MAX + NET_PORT_MAX + 8];

	if (s == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	s->ctx = ctx;
	s->listen_fd = -1;
	if (strncmp(listen, "unix:", 5) == 0)
		(void)snprintf(text, sizeof(text), "%s", listen);
	else
		(void)snprintf(text, sizeof(text), "tcp:%s", listen);
	if (net_addr_parse(text, &addr, error_r) < 0)
		goto fail;
	if (addr.kind == NET_ADDR_UNIX)
		s->unix_path = strdup(addr.path);
	s->listen_fd = net_listen(&addr, error_r);
	if (s->listen_fd < 0)
		goto fail;
	s->listen_watch =
	    loop_watch_add(ctx->loop, s->listen_fd, LOOP_READ, on_accept, s);
	if (s->listen_watch == NULL) {
		*error_r = "cannot watch the LMTP socket";
		goto fail;
	}
	*s_r = s;
	return 0;
fail:
	if (s->listen_fd >= 0)
		(void)close(s->listen_fd);
	free(s->unix_path);
	free(s);
	return -1;
}

void
lmtp_server_stop_accepting(struct lmtp_server *s)
{
	loop_watch_free(&s->listen_watch);
	if (s->listen_fd >= 0)
		(void)close(s->listen_fd);
	s->listen_fd = -1;
	if (s->unix_path != NULL)
		(void)unlink(s->unix_path);
}

void
lmtp_server_free(struct lmtp_server **sp)
{
	struct lmtp_server *s = *sp;

	if (s == NULL)
		return;
	lmtp_server_stop_accepting(s);
	for (struct lmtp_conn *c = s->conns, *next; c != NULL; c = next) {
		next = c->next;
		/* Deliveries have answered (workers are gone): flush the
		 * replies once, best effort, then close. */
		if (c->fd >= 0)
			(void)conn_flush(c);
		if (c->txn != NULL) {
			free(c->txn->results);
			free(c->txn);
			c->txn = NULL;
		}
		conn_free(c);
	}
	free(s->unix_path);
	free(s);
	*sp = NULL;
}
