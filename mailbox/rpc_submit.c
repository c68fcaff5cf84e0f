/*
 * The Submit RPC handler: what a device's SendMail, SmartReply or
 * SmartForward (MS-ASCMD 2.2.1.17, 2.2.1.20, 2.2.1.19) becomes in the
 * mailbox.  Runs on the user's shard worker:
 *
 *   ClientId seen before for this device -> success, nothing sent again
 *   -> the sender: the user's addresses (AccountId, when given, must be
 *      one of them or the user's id: else SUBMIT_ERROR_ACCOUNT)
 *   -> the source item of a smart command (ItemId or LongId; resolved in
 *      this user's store only), whose raw MIME mailbox/compose.h quotes
 *      (reply) or appends with its attachments (forward) unless the client
 *      sent the whole message (ReplaceMime)
 *   -> compose_message: Date and Message-ID when missing, a foreign From
 *      replaced by the user's address, Forwardees added, envelope from To,
 *      Cc and Bcc; the relayed copy loses Bcc, the Sent Items copy keeps it
 *   -> one transaction: the queue entry (both copies), the ClientId, and
 *      the source's LastVerbExecuted/LastVerbExecutionTime (MS-ASEMAIL
 *      2.2.2.45/2.2.2.46), a change the devices see on their next Sync
 *   -> the send queue is kicked (mailbox/sendq.h relays through libcurl).
 *
 * From policy.  Exchange refuses to send as an address the mailbox has no
 * right to, Gmail and most hosted services rewrite From to the account;
 * we rewrite (keeping the device's display name): a device configured
 * with a stale or mistyped address still sends, and nobody can send as
 * someone else.  The rewrite is logged.
 *
 * Without an smtp_relay the queue does not exist and Submit is refused
 * (SUBMIT_ERROR_NO_RELAY) rather than accepted and never sent.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mailbox/calendar.h"
#include "mailbox/compose.h"
#include "mailbox/directory.h"
#include "mailbox/items.h"
#include "mailbox/notify.h"
#include "mailbox/rpc_server.h"
#include "mailbox/sendq.h"
#include "proto/buf.h"
#include "proto/limits.h"
#include "proto/log.h"

struct submit_ctx {
	struct mbox_req *r;
	const Rpc__SubmitRequest *q;
	Rpc__SubmitReply rep;
	struct store *st;
	char **addrs;
	size_t n_addrs;
	struct item *source; /* with MIME; NULL for SendMail */
	struct compose_result *composed;
	struct compose_forwardee *forwardees;
	struct buf rcpts;
};

static void
refuse(struct submit_ctx *c, Rpc__Status status, Rpc__SubmitError reason,
       const char *error)
{
	c->rep.status = status;
	c->rep.reason = reason;
	c->rep.error = (char *)(uintptr_t)error;
	log_info("user %" PRId64 ": Submit refused: %s", c->r->user, error);
	mbox_reply(c->r, &c->rep.base);
}

/* AccountId (MS-ASCMD 2.2.3.3.1): one of the user's addresses or the
 * user's id in decimal (what Settings may announce as AccountId). */
static bool
account_ok(const struct submit_ctx *c, const char *account)
{
	char id[24];

	if (*account == 0)
		return true;
	(void)snprintf(id, sizeof(id), "%" PRId64, c->r->user);
	if (strcmp(account, id) == 0)
		return true;
	for (size_t i = 0; i < c->n_addrs; i++)
		if (strcasecmp(account, c->addrs[i]) == 0)
			return true;
	return false;
}

static Rpc__SubmitError
reason_from_compose(enum compose_status s)
{
	switch (s) {
	case COMPOSE_STATUS_MIME:
		return RPC__SUBMIT_ERROR__SUBMIT_ERROR_MIME;
	case COMPOSE_STATUS_NO_RECIPIENTS:
		return RPC__SUBMIT_ERROR__SUBMIT_ERROR_NO_RECIPIENTS;
	case COMPOSE_STATUS_BAD_ADDRESS:
		return RPC__SUBMIT_ERROR__SUBMIT_ERROR_BAD_ADDRESS;
	case COMPOSE_STATUS_TOO_MANY_RECIPIENTS:
		return RPC__SUBMIT_ERROR__SUBMIT_ERROR_TOO_MANY_RECIPIENTS;
	case COMPOSE_STATUS_TOO_LARGE:
		return RPC__SUBMIT_ERROR__SUBMIT_ERROR_TOO_LARGE;
	case COMPOSE_STATUS_ORIGINAL:
		return RPC__SUBMIT_ERROR__SUBMIT_ERROR_SOURCE;
	case COMPOSE_STATUS_OK:
	case COMPOSE_STATUS_INTERNAL:
	default:
		return RPC__SUBMIT_ERROR__SUBMIT_ERROR_NONE;
	}
}

/*
 * The source item of a smart command: ItemId (the Sync ServerId) or
 * LongId (Search), both item ids of this user's store.  0 when found or
 * when there is none to find (*found_r false); -1 after a store error.
 */
static int
find_source(struct submit_ctx *c, bool *found_r)
{
	const char *text = *c->q->source_item_id != 0 ? c->q->source_item_id
						      : c->q->source_long_id;
	int64_t id;

	*found_r = false;
	if (*text == 0 || !mbox_parse_id(text, &id))
		return 0;
	if (store_item_get(c->st, id, STORE_GET_MIME, &c->source) < 0) {
		if (store_last_error(c->st)->status == STORE_NOT_FOUND)
			return 0;
		return -1;
	}
	*found_r = true;
	return 0;
}

/* calendar: the source event as a message to forward; -1 refused. */
static int
calendar_source(struct submit_ctx *c)
{
	int64_t instance = 0;
	uint8_t *mime = NULL;
	size_t len = 0;
	const char *error = NULL;

	if ((*c->q->source_instance_id != 0 &&
	     calendar_parse_time(c->q->source_instance_id, &instance) < 0) ||
	    calendar_forward_original(c->source, instance, (int64_t)time(NULL),
				      &mime, &len, &error) < 0) {
		refuse(c, RPC__STATUS__STATUS_NOT_FOUND,
		       RPC__SUBMIT_ERROR__SUBMIT_ERROR_SOURCE,
		       error != NULL ? error : "bad InstanceId");
		return -1;
	}
	free(c->source->mime);
	c->source->mime = mime;
	c->source->mime_len = len;
	return 0;
}

/*
 * MS-ASEMAIL 2.2.2.45 LastVerbExecuted of a SmartReply: 2 (reply to all)
 * when the reply goes to anyone, besides the original's sender and the
 * user, who was a To or Cc recipient of the original; else 1.
 */
static enum item_verb
reply_verb(const struct submit_ctx *c, const struct compose_user *user)
{
	struct compose_headers *h = NULL;
	const char *error;
	enum item_verb verb = ITEM_VERB_REPLY_TO_SENDER;

	if (compose_headers_read(c->source->mime, c->source->mime_len, &h,
				 &error) < 0)
		return verb;
	for (size_t i = 0; i < c->composed->n_rcpts; i++) {
		const char *a = c->composed->rcpts[i];

		if (compose_address_is_user(user, a) ||
		    (h->from_address != NULL &&
		     strcasecmp(a, h->from_address) == 0))
			continue;
		for (size_t j = 0; j < h->n_recipients; j++)
			if (strcasecmp(a, h->recipients[j]) == 0)
				verb = ITEM_VERB_REPLY_TO_ALL;
	}
	compose_headers_free(&h);
	return verb;
}

static int
compose(struct submit_ctx *c, const struct compose_user *user,
	enum compose_mode mode)
{
	const Rpc__SubmitRequest *q = c->q;
	struct compose_request req = {
	    .mode = mode,
	    .mime = q->mime.data,
	    .mime_len = q->mime.len,
	    .replace_mime = q->replace_mime,
	    .now = (int64_t)time(NULL),
	    .rewrite_foreign_from = true,
	};
	enum compose_status cs;
	const char *error = NULL;

	if (c->source != NULL) {
		req.original = c->source->mime;
		req.original_len = c->source->mime_len;
	}
	if (q->n_forwardees > 0) {
		c->forwardees = calloc(q->n_forwardees, sizeof(*c->forwardees));
		if (c->forwardees == NULL) {
			refuse(c, RPC__STATUS__STATUS_INTERNAL,
			       RPC__SUBMIT_ERROR__SUBMIT_ERROR_NONE,
			       "out of memory");
			return -1;
		}
		for (size_t i = 0; i < q->n_forwardees; i++) {
			c->forwardees[i].name = *q->forwardees[i]->name != 0
						    ? q->forwardees[i]->name
						    : NULL;
			c->forwardees[i].email = q->forwardees[i]->email;
		}
		req.forwardees = c->forwardees;
		req.n_forwardees = q->n_forwardees;
	}
	if (compose_message(user, &req, &c->composed, &cs, &error) < 0) {
		refuse(c,
		       cs == COMPOSE_STATUS_INTERNAL
			   ? RPC__STATUS__STATUS_INTERNAL
			   : (cs == COMPOSE_STATUS_TOO_LARGE
				  ? RPC__STATUS__STATUS_TOO_LARGE
				  : (cs == COMPOSE_STATUS_ORIGINAL
					 ? RPC__STATUS__STATUS_NOT_FOUND
					 : RPC__STATUS__STATUS_INVALID)),
		       reason_from_compose(cs), error);
		return -1;
	}
	/* A forward of a large original can outgrow what the queue keeps. */
	if (c->composed->wire_len > STORE_MAX_MIME_BYTES ||
	    c->composed->saved_len > STORE_MAX_MIME_BYTES) {
		refuse(c, RPC__STATUS__STATUS_TOO_LARGE,
		       RPC__SUBMIT_ERROR__SUBMIT_ERROR_TOO_LARGE,
		       "composed message too large");
		return -1;
	}
	if (c->composed->from_rewritten)
		log_info("user %" PRId64 ": From rewritten to %s", c->r->user,
			 user->address);
	for (size_t i = 0; i < c->composed->n_rcpts; i++)
		if (buf_append(&c->rcpts, c->composed->rcpts[i],
			       strlen(c->composed->rcpts[i])) != 0 ||
		    buf_append(&c->rcpts, "\n", 1) != 0) {
			refuse(
			    c, RPC__STATUS__STATUS_INVALID,
			    RPC__SUBMIT_ERROR__SUBMIT_ERROR_TOO_MANY_RECIPIENTS,
			    "envelope too large");
			return -1;
		}
	return 0;
}

/* Queue, record the ClientId and mark the source: one transaction. */
static int
enqueue(struct submit_ctx *c, enum item_verb verb, int64_t *modseq_r)
{
	const Rpc__SubmitRequest *q = c->q;
	const struct store_queue_msg m = {
	    .mail_from = c->composed->mail_from,
	    .rcpts = buf_str(&c->rcpts),
	    .mime = c->composed->wire,
	    .mime_len = c->composed->wire_len,
	    .saved = c->composed->saved,
	    .saved_len = c->composed->saved_len,
	    .save_in_sent = q->save_in_sent,
	};
	int64_t now = (int64_t)time(NULL), qid;

	*modseq_r = 0;
	if (store_tx_begin(c->st) < 0)
		return -1;
	if (store_queue_put(c->st, &m, now, &qid) < 0 ||
	    (*q->client_id != 0 &&
	     store_submit_record(c->st, q->device_id, q->client_id, now) < 0))
		goto fail;
	if (c->source != NULL && verb != ITEM_VERB_NONE) {
		struct item_change ch = {.mask = ITEM_CHANGE_VERB};

		ch.flags.last_verb = verb;
		ch.flags.last_verb_time = now;
		if (store_item_change(c->st, c->source->id, &ch, modseq_r) < 0)
			goto fail;
	}
	if (store_tx_commit(c->st) < 0)
		goto fail;
	log_info("user %" PRId64 ": message %" PRId64 " queued (%s)",
		 c->r->user, qid, c->composed->message_id);
	return 0;
fail:
	store_tx_rollback(c->st);
	return -1;
}

void
mbox_rpc_submit(struct mbox_req *r)
{
	const Rpc__SubmitRequest *q = (const void *)r->msg;
	struct submit_ctx c = {.r = r, .q = q};
	struct store_dir *dir;
	enum store_status status;
	struct compose_user user = {0};
	enum compose_mode mode = COMPOSE_SENDMAIL;
	enum item_verb verb = ITEM_VERB_NONE;
	bool seen = false, found = false;
	int64_t modseq = 0;

	rpc__submit_reply__init(&c.rep);
	c.rep.error = "";
	c.rep.sent_item_id = "";
	c.rep.message_id = "";
	buf_init(&c.rcpts,
		 COMPOSE_MAX_RECIPIENTS * (COMPOSE_MAX_ADDRESS_BYTES + 1));
	if (q->command == RPC__SUBMIT_COMMAND__SUBMIT_SMART_REPLY ||
	    (q->command == RPC__SUBMIT_COMMAND__SUBMIT_SEND_MAIL && q->reply &&
	     *q->source_item_id != 0)) {
		mode = COMPOSE_REPLY;
	} else if (q->command == RPC__SUBMIT_COMMAND__SUBMIT_SMART_FORWARD ||
		   (q->command == RPC__SUBMIT_COMMAND__SUBMIT_SEND_MAIL &&
		    (*q->source_item_id != 0 || *q->source_long_id != 0))) {
		mode = COMPOSE_FORWARD;
	}
	if (r->ctx->sendq == NULL) {
		refuse(&c, RPC__STATUS__STATUS_UNSUPPORTED,
		       RPC__SUBMIT_ERROR__SUBMIT_ERROR_NO_RELAY,
		       "no smtp_relay configured");
		goto out;
	}
	if (q->mime.len == 0 || q->mime.len > r->ctx->conf->max_message_bytes ||
	    q->mime.len > COMPOSE_MAX_CLIENT_MIME_BYTES) {
		refuse(&c,
		       q->mime.len == 0 ? RPC__STATUS__STATUS_INVALID
					: RPC__STATUS__STATUS_TOO_LARGE,
		       q->mime.len == 0
			   ? RPC__SUBMIT_ERROR__SUBMIT_ERROR_MIME
			   : RPC__SUBMIT_ERROR__SUBMIT_ERROR_TOO_LARGE,
		       "empty or over max_message_bytes");
		goto out;
	}
	dir = mbox_shard_dir(r->ctx, &status);
	if (dir == NULL ||
	    store_dir_address_list(dir, r->user, &c.addrs, &c.n_addrs) < 0) {
		mbox_reply_store_error(r, dir == NULL ? status : STORE_IO,
				       "directory unavailable");
		goto out;
	}
	if (c.n_addrs == 0) {
		refuse(&c, RPC__STATUS__STATUS_DENIED,
		       RPC__SUBMIT_ERROR__SUBMIT_ERROR_ACCOUNT,
		       "the user has no address to send from");
		goto out;
	}
	if (!account_ok(&c, q->account_id)) {
		refuse(&c, RPC__STATUS__STATUS_DENIED,
		       RPC__SUBMIT_ERROR__SUBMIT_ERROR_ACCOUNT,
		       "AccountId is not the user's");
		goto out;
	}
	if (mbox_shard_store(r->ctx, r->user, &c.st, &status) < 0) {
		mbox_reply_store_error(r, status, "store unavailable");
		goto out;
	}
	if (*q->client_id != 0 &&
	    store_submit_seen(c.st, q->device_id, q->client_id, &seen) < 0) {
		mbox_reply_store_error(r, store_last_error(c.st)->status,
				       store_last_error(c.st)->msg);
		goto out;
	}
	if (seen) {
		log_info("user %" PRId64 ": Submit %s from %s already queued",
			 r->user, q->client_id, q->device_id);
		c.rep.status = RPC__STATUS__STATUS_OK;
		c.rep.duplicate = true;
		mbox_reply(r, &c.rep.base);
		goto out;
	}
	if (mode != COMPOSE_SENDMAIL && find_source(&c, &found) < 0) {
		mbox_reply_store_error(r, store_last_error(c.st)->status,
				       store_last_error(c.st)->msg);
		goto out;
	}
	/* calendar: an event has no MIME; its forward (of the series or of
	 * the occurrence at InstanceId) is composed around one made from
	 * it (mailbox/calendar.h). */
	if (found && mode == COMPOSE_FORWARD && !q->replace_mime &&
	    c.source->cls == ITEM_CLASS_CALENDAR && calendar_source(&c) < 0)
		goto out;
	/* Without ReplaceMime the original is part of the message; with it
	 * the client's MIME is complete and only the verb needs the item. */
	if (mode != COMPOSE_SENDMAIL && !q->replace_mime &&
	    (!found || c.source->mime_len == 0)) {
		refuse(&c, RPC__STATUS__STATUS_NOT_FOUND,
		       RPC__SUBMIT_ERROR__SUBMIT_ERROR_SOURCE,
		       found ? "the source item has no message to quote"
			     : "source item not found");
		goto out;
	}
	user.address = c.addrs[0];
	user.aliases = (const char *const *)c.addrs;
	user.n_aliases = c.n_addrs;
	if (compose(&c, &user, mode) < 0)
		goto out;
	/* MS-ASEMAIL LastVerbExecuted exists on mail only (a meeting
	 * occurrence forwarded by InstanceId keeps its calendar item as is). */
	if (found && c.source->cls == ITEM_CLASS_EMAIL)
		verb = mode == COMPOSE_FORWARD  ? ITEM_VERB_FORWARD
		       : c.source->mime_len > 0 ? reply_verb(&c, &user)
						: ITEM_VERB_REPLY_TO_SENDER;
	if (enqueue(&c, verb, &modseq) < 0) {
		mbox_reply_store_error(r, store_last_error(c.st)->status,
				       store_last_error(c.st)->msg);
		goto out;
	}
	if (modseq > 0)
		notify_changed(r->ctx, r->user, c.source->folder_id, modseq);
	sendq_kick(r->ctx->sendq, r->user);
	c.rep.status = RPC__STATUS__STATUS_OK;
	c.rep.message_id = c.composed->message_id;
	mbox_reply(r, &c.rep.base);
out:
	buf_free(&c.rcpts);
	free(c.forwardees);
	compose_result_free(&c.composed);
	item_free(&c.source);
	dir_strings_free(&c.addrs, c.n_addrs);
}
