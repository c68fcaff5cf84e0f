/*
 * The send queue runner (see sendq.h).  Loop-thread state: the users with
 * pending entries (a small array; bounded by the number of users) and a
 * periodic tick of SENDQ_TICK_MS.  A user is handed to its worker at most
 * once at a time; the worker relays every due entry and posts back
 * whether any remain.
 */
#include "mailbox/sendq.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mailbox/directory.h"
#include "mailbox/draft.h"
#include "mailbox/folders.h"
#include "mailbox/notify.h"
#include "mailbox/rpc_deliver.h"
#include "mailbox/rpc_server.h"
#include "mailbox/submit.h"
#include "proto/limits.h"
#include "proto/log.h"

/* How often the loop looks for due entries. */
#define SENDQ_TICK_MS 500u
/* Entries relayed per worker task, so one user's backlog cannot hold its
 * shard for long. */
#define SENDQ_BATCH 16
/* Bounce text built for a failed message (headers of the original are
 * quoted up to SUBMIT_BOUNCE_MAX_HEADER_BYTES). */
#define SENDQ_MAX_BOUNCE_BYTES (SUBMIT_BOUNCE_MAX_HEADER_BYTES + 16384u)

struct sendq_user {
	int64_t user;
	bool busy; /* handed to its worker */
};

struct sendq {
	struct mbox_ctx *ctx;
	struct submit_config relay;
	unsigned retry_s;
	unsigned max_attempts;
	struct sendq_user *users;
	size_t n_users, cap_users;
	struct loop_timer *tick;
};

struct sendq_task {
	struct sendq *q;
	int64_t user;
	bool remaining;
};

static void
sendq_add_user(struct sendq *q, int64_t user)
{
	struct sendq_user *grown;

	for (size_t i = 0; i < q->n_users; i++)
		if (q->users[i].user == user)
			return;
	if (q->n_users == q->cap_users) {
		size_t cap = q->cap_users == 0 ? 16 : q->cap_users * 2;

		grown = realloc(q->users, cap * sizeof(*grown));
		if (grown == NULL)
			return; /* retried at the next restart */
		q->users = grown;
		q->cap_users = cap;
	}
	q->users[q->n_users].user = user;
	q->users[q->n_users].busy = false;
	q->n_users++;
}

static int64_t
backoff_s(const struct sendq *q, int attempts)
{
	int64_t d = q->retry_s;

	for (int i = 1; i < attempts && d < (int64_t)q->retry_s * 64; i++)
		d *= 2;
	return d;
}

/*
 * Files the Sent Items copy: the saved bytes (with Bcc) when the entry has
 * them, and their Bcc list in the item's props, so the device sees to
 * whom it was blind-copied (MS-ASEMAIL 2.2.2.10 Bcc), for SendMail with
 * SaveInSent and a sent 16.0 draft alike.  An unreadable Bcc list costs
 * the Bcc field, not the copy.
 */
static int
sent_copy_store(struct store *st, int64_t user, int64_t folder,
		const struct store_queue_entry *e, int64_t now,
		struct store_delivery *d_r)
{
	const uint8_t *raw = e->saved != NULL ? e->saved : e->mime;
	size_t len = e->saved != NULL ? e->saved_len : e->mime_len;
	struct mbox_message msg;
	const char *error = NULL;
	char *bcc = NULL;
	int rc;

	if (mbox_message_prepare(raw, len, now, true, &msg, &error) < 0) {
		log_warn("user %" PRId64 ": message %" PRId64
			 " not copied to Sent Items: %s",
			 user, e->id, error);
		return -1;
	}
	if (draft_read_bcc(raw, len, &bcc, &error) < 0)
		log_warn("user %" PRId64 ": message %" PRId64 " Bcc lost: %s",
			 user, e->id, error);
	msg.props.bcc = bcc;
	rc = store_deliver(st, folder, &msg.item, d_r);
	mbox_message_clear(&msg);
	return rc;
}

/* Relays one entry and records the outcome; -1 on a store error. */
static int
relay_one(struct sendq *q, struct store *st, int64_t user,
	  struct store_queue_entry *e)
{
	struct submit_result res;
	const char *rcpts[LMTP_MAX_RECIPIENTS];
	size_t n = 0;
	char *list = strdup(e->rcpts != NULL ? e->rcpts : "");
	int64_t now = (int64_t)time(NULL);
	struct store_delivery d = {0};
	enum store_status status;
	int rc = -1;

	if (list == NULL)
		return -1;
	for (char *p = list, *nl; *p && n < LMTP_MAX_RECIPIENTS; p = nl) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl++ = 0;
		else
			nl = p + strlen(p);
		if (*p)
			rcpts[n++] = p;
	}
	(void)submit_send(&q->relay, e->mail_from, rcpts, n, e->mime,
			  e->mime_len, &res);
	if (res.status == SUBMIT_OK) {
		int64_t sent = 0;

		/* Sent Items copy and "sent" mark: one transaction. */
		if (store_tx_begin(st) < 0)
			goto out;
		if (e->save_in_sent &&
		    (store_folder_by_type(st, FOLDER_TYPE_SENT, &sent) < 0 ||
		     sent_copy_store(st, user, sent, e, now, &d) < 0)) {
			store_tx_rollback(st);
			goto out;
		}
		if (store_queue_done(st, e->id) < 0 ||
		    store_tx_commit(st) < 0) {
			store_tx_rollback(st);
			goto out;
		}
		log_info("user %" PRId64 ": message %" PRId64 " relayed", user,
			 e->id);
		if (e->save_in_sent)
			notify_changed(q->ctx, user, d.folder_id, d.modseq);
		rc = 0;
		goto out;
	}
	if (res.status == SUBMIT_TEMPFAIL &&
	    e->attempts + 1 < (int)q->max_attempts) {
		log_warn("user %" PRId64 ": message %" PRId64 " deferred: %s",
			 user, e->id, res.text);
		rc = store_queue_failed(st, e->id, res.text,
					now + backoff_s(q, e->attempts + 1),
					false);
		goto out;
	}
	/* Permanent failure, or temporary ones for too long: bounce. */
	{
		struct buf bounce;

		buf_init(&bounce, SENDQ_MAX_BOUNCE_BYTES + e->mime_len);
		if (res.status == SUBMIT_TEMPFAIL)
			res.status = SUBMIT_PERMFAIL; /* give up */
		log_warn("user %" PRId64 ": message %" PRId64 " bounced: %s",
			 user, e->id, res.text);
		if (store_tx_begin(st) < 0) {
			buf_free(&bounce);
			goto out;
		}
		if (submit_build_bounce(q->ctx->conf->hostname, e->mail_from,
					rcpts, n, &res, e->mime, e->mime_len,
					now, &bounce) < 0 ||
		    mbox_message_store(st, 0, bounce.data, bounce.len, now,
				       false, &d, &status) < 0 ||
		    store_queue_failed(st, e->id, res.text, now, true) < 0 ||
		    store_tx_commit(st) < 0) {
			store_tx_rollback(st);
			buf_free(&bounce);
			goto out;
		}
		buf_free(&bounce);
		notify_changed(q->ctx, user, d.folder_id, d.modseq);
		rc = 0;
	}
out:
	free(list);
	return rc;
}

static void
sendq_done(void *arg)
{
	struct sendq_task *t = arg;
	struct sendq *q = t->q;

	for (size_t i = 0; i < q->n_users; i++) {
		if (q->users[i].user != t->user)
			continue;
		q->users[i].busy = false;
		if (!t->remaining)
			q->users[i] = q->users[--q->n_users];
		break;
	}
	free(t);
}

static void
sendq_run(void *arg)
{
	struct sendq_task *t = arg;
	struct store *st;
	enum store_status status;
	int64_t pending = 0;

	t->remaining = true;
	if (mbox_shard_store(t->q->ctx, t->user, &st, &status) < 0) {
		/* Deleted user: nothing left to send. */
		t->remaining = status != STORE_NOT_FOUND;
		goto out;
	}
	for (int i = 0; i < SENDQ_BATCH; i++) {
		struct store_queue_entry e = {0};

		if (store_queue_next_due(st, (int64_t)time(NULL), &e) < 0)
			break;
		if (relay_one(t->q, st, t->user, &e) < 0)
			log_error("user %" PRId64 ": send queue: %s", t->user,
				  store_last_error(st)->msg);
		store_queue_entry_clear(&e);
	}
	if (store_queue_count(st, &pending) == 0)
		t->remaining = pending > 0;
out:
	if (loop_post(t->q->ctx->loop, sendq_done, t) < 0)
		free(t);
}

static void
sendq_tick(void *arg)
{
	struct sendq *q = arg;

	q->tick = NULL;
	for (size_t i = 0; i < q->n_users; i++) {
		struct sendq_task *t;

		if (q->users[i].busy)
			continue;
		t = calloc(1, sizeof(*t));
		if (t == NULL)
			break;
		t->q = q;
		t->user = q->users[i].user;
		if (mbox_submit(q->ctx, t->user, sendq_run, t) < 0) {
			free(t);
			continue;
		}
		q->users[i].busy = true;
	}
	q->tick = loop_timer_add(q->ctx->loop, SENDQ_TICK_MS, sendq_tick, q);
}

struct sendq_kick_msg {
	struct sendq *q;
	int64_t user;
};

static void
sendq_kick_on_loop(void *arg)
{
	struct sendq_kick_msg *k = arg;

	sendq_add_user(k->q, k->user);
	free(k);
}

void
sendq_kick(struct sendq *q, int64_t user)
{
	struct sendq_kick_msg *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return; /* found again at the next restart */
	k->q = q;
	k->user = user;
	if (loop_post(q->ctx->loop, sendq_kick_on_loop, k) < 0)
		free(k);
}

int
sendq_new(struct mbox_ctx *ctx, unsigned retry_s, unsigned max_attempts,
	  struct sendq **q_r, const char **error_r)
{
	struct sendq *q = calloc(1, sizeof(*q));
	struct store_dir *dir;
	enum store_status status;
	struct dir_user *users = NULL;
	size_t n = 0;

	if (q == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	q->ctx = ctx;
	q->retry_s = retry_s;
	q->max_attempts = max_attempts;
	q->relay.url = ctx->conf->smtp_relay;
	q->relay.tls =
	    ctx->conf->smtp_starttls ? SUBMIT_TLS_REQUIRED : SUBMIT_TLS_TRY;
	q->relay.username =
	    *ctx->conf->smtp_user != 0 ? ctx->conf->smtp_user : NULL;
	q->relay.password = ctx->conf->smtp_password;
	/* Every user once: mail queued before a restart goes out. */
	dir = mbox_shard_dir(ctx, &status);
	if (dir != NULL && store_dir_user_list(dir, &users, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			sendq_add_user(q, users[i].id);
		dir_user_list_free(&users, n);
	}
	q->tick = loop_timer_add(ctx->loop, SENDQ_TICK_MS, sendq_tick, q);
	if (q->tick == NULL) {
		free(q->users);
		free(q);
		*error_r = "cannot add the send queue timer";
		return -1;
	}
	*q_r = q;
	return 0;
}

void
sendq_free(struct sendq **qp)
{
	struct sendq *q = *qp;

	if (q == NULL)
		return;
	loop_timer_cancel(&q->tick);
	free(q->users);
	free(q);
	*qp = NULL;
}
