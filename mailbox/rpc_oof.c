/*
 * RPC handlers of the Settings command's mailbox side: OofGet and OofSet
 * (the Out-of-Office setting in the user's database, mailbox/oof.h) and
 * DevicePassword (the recovery password on the device record in the
 * directory, mailbox/devices.h, sealed with the mailbox's secret key,
 * mailbox/secret.h), plus DevicePasswordGet, which opens it for `easctl
 * device password`.  The CAS decodes the WBXML and maps the statuses
 * (cas/cmd_settings.c); here values are checked again with
 * autoreply_settings_validate, since any RPC peer could send them.  Last,
 * the Out-of-Office delivery hook LMTP calls after each commit.
 */
#include "mailbox/rpc_server.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mailbox/autoreply.h"
#include "mailbox/devices.h"
#include "mailbox/directory.h"
#include "mailbox/oof.h"
#include "mailbox/secret.h"
#include "mailbox/sendq.h"
#include "proto/buf.h"
#include "proto/limits.h"
#include "proto/log.h"

static Rpc__OofMessage *
message_to_rpc(struct mbox_req *r, const struct oof_message *m)
{
	Rpc__OofMessage *out = mbox_alloc(r, sizeof(*out));

	if (out == NULL)
		return NULL;
	rpc__oof_message__init(out);
	out->enabled = m->enabled;
	out->is_html = m->is_html;
	if (m->reply != NULL) {
		out->reply = mbox_strdup(r, m->reply);
		if (out->reply == NULL)
			return NULL;
	}
	return out;
}

void
mbox_rpc_oof_get(struct mbox_req *r)
{
	Rpc__OofReply rep;
	Rpc__OofSettings oof;
	struct oof_settings o;
	struct store *st;
	enum store_status status;

	rpc__oof_reply__init(&rep);
	rpc__oof_settings__init(&oof);
	if (mbox_shard_store(r->ctx, r->user, &st, &status) < 0) {
		mbox_reply_store_error(r, status, "store unavailable");
		return;
	}
	if (store_oof_get(st, &o) < 0) {
		mbox_reply_store_error(r, store_last_error(st)->status,
				       store_last_error(st)->msg);
		return;
	}
	oof.state = (uint32_t)o.state;
	oof.start_time = o.start_time;
	oof.end_time = o.end_time;
	oof.internal = message_to_rpc(r, &o.msg[OOF_INTERNAL]);
	oof.external_known = message_to_rpc(r, &o.msg[OOF_EXTERNAL_KNOWN]);
	oof.external_unknown = message_to_rpc(r, &o.msg[OOF_EXTERNAL_UNKNOWN]);
	oof_settings_clear(&o);
	if (oof.internal == NULL || oof.external_known == NULL ||
	    oof.external_unknown == NULL)
		return; /* out of memory: the dispatcher answers */
	rep.status = RPC__STATUS__STATUS_OK;
	rep.oof = &oof;
	mbox_reply(r, &rep.base);
}

static void
message_from_rpc(const Rpc__OofMessage *in, struct oof_message *out)
{
	memset(out, 0, sizeof(*out));
	if (in == NULL)
		return;
	out->enabled = in->enabled;
	out->is_html = in->is_html;
	/* Borrowed from the request: store_oof_set copies. */
	out->reply = in->reply != NULL && in->reply[0] != 0
			 ? (char *)(uintptr_t)in->reply
			 : NULL;
}

void
mbox_rpc_oof_set(struct mbox_req *r)
{
	Rpc__OofSetRequest *q = (void *)r->msg;
	struct oof_settings o;
	struct autoreply_settings as;
	struct store *st;
	enum store_status status;
	const char *error = NULL;

	if (q->oof == NULL) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID, "no setting");
		return;
	}
	memset(&o, 0, sizeof(o));
	if (q->oof->state > AUTOREPLY_SCHEDULED) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "OofState out of range");
		return;
	}
	o.state = (enum autoreply_state)q->oof->state;
	o.start_time = q->oof->start_time;
	o.end_time = q->oof->end_time;
	message_from_rpc(q->oof->internal, &o.msg[OOF_INTERNAL]);
	message_from_rpc(q->oof->external_known, &o.msg[OOF_EXTERNAL_KNOWN]);
	message_from_rpc(q->oof->external_unknown,
			 &o.msg[OOF_EXTERNAL_UNKNOWN]);
	for (int i = 0; i < OOF_AUDIENCES; i++)
		if (o.msg[i].reply != NULL &&
		    strlen(o.msg[i].reply) > AUTOREPLY_MAX_MESSAGE_BYTES) {
			mbox_reply_status(r, RPC__STATUS__STATUS_TOO_LARGE,
					  "reply message too long");
			return;
		}
	oof_to_autoreply(&o, &as);
	if (autoreply_settings_validate(&as, &error) < 0) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID, error);
		return;
	}
	if (mbox_shard_store(r->ctx, r->user, &st, &status) < 0) {
		mbox_reply_store_error(r, status, "store unavailable");
		return;
	}
	if (store_oof_set(st, &o) < 0) {
		mbox_reply_store_error(r, store_last_error(st)->status,
				       store_last_error(st)->msg);
		return;
	}
	mbox_reply_status(r, RPC__STATUS__STATUS_OK, NULL);
}

void
mbox_rpc_device_password(struct mbox_req *r)
{
	Rpc__DevicePasswordRequest *q = (void *)r->msg;
	struct store_dir *dir;
	enum store_status status;
	uint8_t aad[SECRET_DEVPW_AAD_MAX], *sealed = NULL;
	size_t len = strlen(q->device_id), plain_len = strlen(q->password);
	size_t aad_len, sealed_len = 0;

	if (len == 0 || len > STORE_MAX_DEVICE_ID_BYTES) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "device id missing or too long");
		return;
	}
	if (plain_len > STORE_MAX_DEVICE_TEXT_BYTES) {
		mbox_reply_status(r, RPC__STATUS__STATUS_TOO_LARGE,
				  "recovery password too long");
		return;
	}
	if (r->ctx->secret_key == NULL) {
		mbox_reply_status(r, RPC__STATUS__STATUS_UNSUPPORTED,
				  "no secret key");
		return;
	}
	dir = mbox_shard_dir(r->ctx, &status);
	if (dir == NULL) {
		mbox_reply_store_error(r, status, "directory unavailable");
		return;
	}
	/* Sealed here, bound to this user and device (secret.h): the
	 * directory never holds it in clear.  "" clears it. */
	aad_len =
	    secret_devpw_aad((int64_t)r->user, q->device_id, aad, sizeof(aad));
	if (plain_len > 0 &&
	    (aad_len == 0 ||
	     secret_seal(r->ctx->secret_key, aad, aad_len,
			 (const uint8_t *)q->password, plain_len, &sealed,
			 &sealed_len) < 0)) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INTERNAL,
				  "sealing the recovery password failed");
		return;
	}
	if (store_dir_device_set_recovery_sealed(
		dir, (int64_t)r->user, q->device_id, sealed, sealed_len) < 0) {
		free(sealed);
		mbox_reply_store_error(r, store_dir_last_error(dir)->status,
				       store_dir_last_error(dir)->msg);
		return;
	}
	free(sealed);
	mbox_reply_status(r, RPC__STATUS__STATUS_OK, NULL);
}

void
mbox_rpc_device_password_get(struct mbox_req *r)
{
	Rpc__DevicePasswordGetRequest *q = (void *)r->msg;
	Rpc__DevicePasswordGetReply rep;
	struct dir_device d;
	struct store_dir *dir;
	enum store_status status;
	uint8_t aad[SECRET_DEVPW_AAD_MAX], *plain = NULL;
	size_t len = strlen(q->device_id), aad_len, plain_len = 0;

	rpc__device_password_get_reply__init(&rep);
	if (len == 0 || len > STORE_MAX_DEVICE_ID_BYTES) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "device id missing or too long");
		return;
	}
	if (r->ctx->secret_key == NULL) {
		mbox_reply_status(r, RPC__STATUS__STATUS_UNSUPPORTED,
				  "no secret key");
		return;
	}
	dir = mbox_shard_dir(r->ctx, &status);
	if (dir == NULL) {
		mbox_reply_store_error(r, status, "directory unavailable");
		return;
	}
	if (store_dir_device_get(dir, (int64_t)r->user, q->device_id, &d) < 0) {
		mbox_reply_store_error(r, store_dir_last_error(dir)->status,
				       store_dir_last_error(dir)->msg);
		return;
	}
	if (d.recovery_sealed == NULL) {
		dir_device_clear(&d);
		mbox_reply_status(r, RPC__STATUS__STATUS_NOT_FOUND,
				  "no recovery password stored");
		return;
	}
	aad_len =
	    secret_devpw_aad((int64_t)r->user, q->device_id, aad, sizeof(aad));
	if (aad_len == 0 ||
	    secret_open(r->ctx->secret_key, aad, aad_len, d.recovery_sealed,
			d.recovery_sealed_len, &plain, &plain_len) < 0) {
		dir_device_clear(&d);
		log_warn("user %" PRId64 " device %s: the recovery password "
			 "does not open (another secret key?)",
			 r->user, q->device_id);
		mbox_reply_status(r, RPC__STATUS__STATUS_INTERNAL,
				  "the stored recovery password does not open "
				  "with this secret key");
		return;
	}
	dir_device_clear(&d);
	/* style.md 11: who read it is logged, never the value. */
	log_info("user %" PRId64 " device %s: recovery password read by an "
		 "administrator",
		 r->user, q->device_id);
	rep.status = RPC__STATUS__STATUS_OK;
	rep.error = "";
	rep.password = (char *)plain;
	mbox_reply(r, &rep.base);
	secret_plain_free(&plain, plain_len);
}

/* ---------------------------------------------------- delivery hook */

static int
history_last(void *ctx, const char *sender, int64_t *at_r)
{
	return store_oof_last_replied(ctx, sender, at_r);
}

static int
history_record(void *ctx, const char *sender, int64_t at)
{
	return store_oof_record_reply(ctx, sender, at);
}

static int
history_is_known(void *ctx, const char *sender)
{
	bool known = false;

	if (store_oof_is_known(ctx, sender, &known) < 0)
		return -1;
	return known ? 1 : 0;
}

void
oof_after_delivery(const struct mbox_ctx *ctx, struct store *st, int64_t user,
		   const char *mail_from, const uint8_t *raw, size_t len)
{
	oof_after_delivery_at(ctx, st, user, mail_from, raw, len,
			      (int64_t)time(NULL));
}

void
oof_after_delivery_at(const struct mbox_ctx *ctx, struct store *st,
		      int64_t user, const char *mail_from, const uint8_t *raw,
		      size_t len, int64_t now)
{
	struct oof_settings o;
	struct autoreply_settings as;
	struct autoreply_user au;
	struct autoreply_decision d;
	struct autoreply_history h = {
	    .last_replied = history_last,
	    .record = history_record,
	    .is_known = history_is_known,
	    .ctx = st,
	};
	struct compose_headers *in = NULL;
	struct store_dir *dir;
	enum store_status status;
	char **addrs = NULL;
	size_t n_addrs = 0;
	const char *domains[1];
	const char *error = NULL;
	struct buf out;
	int64_t qid;

	buf_init(&out, AUTOREPLY_MAX_MESSAGE_BYTES * 2 + 64 * 1024);
	if (store_oof_get(st, &o) < 0) {
		log_warn("user %" PRId64 ": oof: %s", user,
			 store_last_error(st)->msg);
		goto out_free;
	}
	oof_to_autoreply(&o, &as);
	/* RFC 3834 2: once per sender per [mailbox] oof_reply_period. */
	as.period_s = ctx->conf->oof_reply_period_s;
	if (!autoreply_active(&as, now))
		goto out;
	if (ctx->sendq == NULL) {
		log_warn("user %" PRId64 ": oof active but no smtp_relay: "
			 "no automatic reply",
			 user);
		goto out;
	}
	dir = mbox_shard_dir(ctx, &status);
	if (dir == NULL ||
	    store_dir_address_list(dir, user, &addrs, &n_addrs) < 0 ||
	    n_addrs == 0)
		goto out;
	if (compose_headers_read(raw, len, &in, &error) < 0) {
		log_info("user %" PRId64 ": oof: headers unreadable: %s", user,
			 error);
		goto out;
	}
	memset(&au, 0, sizeof(au));
	au.address = addrs[0];
	au.aliases = (const char *const *)addrs;
	au.n_aliases = n_addrs;
	if (ctx->conf->domain != NULL && ctx->conf->domain[0] != 0) {
		domains[0] = ctx->conf->domain;
		au.internal_domains = domains;
		au.n_internal_domains = 1;
	}
	au.message_id_domain =
	    ctx->conf->hostname != NULL && ctx->conf->hostname[0] != 0
		? ctx->conf->hostname
		: NULL;
	if (store_tx_begin(st) < 0)
		goto out;
	if (autoreply_process(&as, &au, in, mail_from, now, &h, &d, &out,
			      &error) < 0) {
		store_tx_rollback(st);
		log_warn("user %" PRId64 ": oof: %s", user, error);
		goto out;
	}
	if (d.reason != AUTOREPLY_REPLY) {
		store_tx_rollback(st);
		log_debug("user %" PRId64 ": oof: no reply (%s)", user,
			  autoreply_reason_name(d.reason));
		goto out;
	}
	/* RFC 3834 3.3: MAIL FROM:<> so that nothing answers the reply. */
	if (store_queue_add(st, "", d.recipient, out.data, out.len, false, now,
			    &qid) < 0 ||
	    store_tx_commit(st) < 0) {
		log_warn("user %" PRId64 ": oof: queuing the reply failed: %s",
			 user, store_last_error(st)->msg);
		store_tx_rollback(st);
		goto out;
	}
	log_info("user %" PRId64 ": oof reply %" PRId64 " queued (%s)", user,
		 qid,
		 d.internal ? "internal"
			    : (d.known ? "external, known" : "external"));
	sendq_kick(ctx->sendq, user);
out:
	oof_settings_clear(&o);
out_free:
	compose_headers_free(&in);
	dir_strings_free(&addrs, n_addrs);
	buf_free(&out);
}
