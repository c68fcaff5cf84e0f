/*
 * The Settings command (MS-ASCMD 2.2.1.18): Out-of-Office get and set,
 * device information and recovery password, the user's addresses, and
 * the (empty) rights-management template list.  After the request
 * pipeline the body is decoded (cas/settings_req.h) into at most five
 * operations, which run one after the other, each with at most two
 * mailbox calls (the chain continues in the RPC callbacks, so no HTTP
 * thread waits); then one response lists every operation's Status, in
 * request order.
 *
 *  - Oof Get: RPC OofGet; ReplyMessage converted to the BodyType asked.
 *  - Oof Set: RPC OofGet, the sent elements laid over the stored setting
 *    (a Set naming only OofState keeps the messages), then RPC OofSet.
 *    A time-based state without a window, or an end before its start,
 *    is Status 6 without asking the mailbox.
 *  - DeviceInformation Set: RPC DeviceRegister with the sent fields.
 *  - DevicePassword Set: RPC DevicePassword (the mailbox seals it).
 *  - UserInformation Get: RPC UserGet; SMTPAddress per address, primary
 *    first (14.1+: inside Accounts/Account with PrimarySmtpAddress).
 *  - RightsManagementInformation Get: Status 1 and an empty
 *    RightsManagementTemplates: easd has no IRM server, so no template
 *    applies (MS-ASCMD 2.2.3.155).
 */
#include "cas/dispatch.h"
#include "cas/request.h"
#include "cas/settings_req.h"
#include "cas/wbxml_resp.h"
#include "proto/log.h"

#include <stdlib.h>
#include <string.h>

/* What an operation produced, for the response. */
struct settings_result {
	enum settings_status status;
	struct settings_oof_get oof; /* Oof Get; strings owned */
	char *display_name;          /* UserInformation; owned */
	char **addresses;            /* owned */
	size_t n_addresses;
};

struct settings_call {
	struct cas_request *r;
	struct settings_request req;
	size_t next; /* the operation running */
	struct settings_result res[SETTINGS_MAX_OPERATIONS];
	struct settings_oof_get stored; /* Oof Set: the setting read first */
};

static void settings_step(struct settings_call *c);

static void
oof_get_clear(struct settings_oof_get *o)
{
	for (size_t i = 0; i < SETTINGS_MAX_OOF_MESSAGES; i++)
		free((char *)(uintptr_t)o->msg[i].reply);
	memset(o, 0, sizeof(*o));
}

static void
call_free(struct settings_call *c)
{
	for (size_t i = 0; i < SETTINGS_MAX_OPERATIONS; i++) {
		struct settings_result *res = &c->res[i];

		oof_get_clear(&res->oof);
		free(res->display_name);
		for (size_t j = 0; j < res->n_addresses; j++)
			free(res->addresses[j]);
		free(res->addresses);
	}
	oof_get_clear(&c->stored);
	settings_req_clear(&c->req);
	free(c);
}

static enum settings_status
map_status(Rpc__Status s)
{
	switch (s) {
	case RPC__STATUS__STATUS_OK:
		return SETTINGS_STATUS_SUCCESS;
	case RPC__STATUS__STATUS_INVALID:
	case RPC__STATUS__STATUS_TOO_LARGE:
	case RPC__STATUS__STATUS_NOT_FOUND:
		return SETTINGS_STATUS_INVALID_ARGUMENTS;
	case RPC__STATUS__STATUS_DENIED:
		return SETTINGS_STATUS_ACCESS_DENIED;
	default:
		/* Disconnected, timeout, busy, storage errors. */
		return SETTINGS_STATUS_SERVER_UNAVAILABLE;
	}
}

/* ---------------------------------------------------------- response */

static void
enc_status_only(struct wbxml_enc *e, uint16_t tag, enum settings_status st)
{
	(void)wbxml_enc_start(e, tag);
	(void)wbxml_enc_uint(e, EAS_SETTINGS_STATUS, st);
	(void)wbxml_enc_end(e);
}

static void
settings_respond(struct settings_call *c)
{
	struct cas_wbxml_out out;
	struct wbxml_enc *e = &out.enc;
	int rc = 0;

	cas_wbxml_out_init(&out);
	(void)wbxml_enc_start(e, EAS_SETTINGS_SETTINGS);
	(void)wbxml_enc_uint(e, EAS_SETTINGS_STATUS, SETTINGS_STATUS_SUCCESS);
	for (size_t i = 0; i < c->req.n_ops; i++) {
		const struct settings_op *op = &c->req.ops[i];
		const struct settings_result *res = &c->res[i];
		struct settings_user_info ui;

		switch (op->kind) {
		case SETTINGS_OOF_GET:
			rc |= settings_resp_oof_get(e, res->status, &res->oof,
						    op->get_html);
			break;
		case SETTINGS_OOF_SET:
			enc_status_only(e, EAS_SETTINGS_OOF, res->status);
			break;
		case SETTINGS_DEVICE_INFORMATION:
			enc_status_only(e, EAS_SETTINGS_DEVICE_INFORMATION,
					res->status);
			break;
		case SETTINGS_DEVICE_PASSWORD:
			enc_status_only(e, EAS_SETTINGS_DEVICE_PASSWORD,
					res->status);
			break;
		case SETTINGS_USER_INFORMATION:
			ui.display_name = res->display_name;
			ui.addresses = (const char *const *)res->addresses;
			ui.n_addresses = res->n_addresses;
			rc |= settings_resp_user_info(e, res->status,
						      c->r->version, &ui);
			break;
		case SETTINGS_RIGHTS_MANAGEMENT:
			(void)wbxml_enc_start(
			    e, EAS_SETTINGS_RIGHTS_MANAGEMENT_INFORMATION);
			(void)wbxml_enc_uint(e, EAS_SETTINGS_STATUS,
					     res->status);
			(void)wbxml_enc_start(e, EAS_SETTINGS_GET);
			(void)wbxml_enc_empty(
			    e,
			    EAS_RIGHTSMANAGEMENT_RIGHTS_MANAGEMENT_TEMPLATES);
			(void)wbxml_enc_end(e);
			(void)wbxml_enc_end(e);
			break;
		}
	}
	(void)wbxml_enc_end(e);
	if (rc != 0) {
		cas_wbxml_out_free(&out);
		cas_request_respond_status(c->r, CAS_STATUS_SERVER_ERROR);
	} else {
		cas_request_send(c->r, &out);
	}
	call_free(c);
}

/* ---------------------------------------------------------- operations */

/* The operation is done with this status: go on with the next. */
static void
op_done(struct settings_call *c, enum settings_status st)
{
	c->res[c->next].status = st;
	c->next++;
	settings_step(c);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL && s[0] != 0 ? strdup(s) : NULL;
}

/* Copy a stored setting out of a reply (borrowed) into o. */
static int
oof_from_rpc(const Rpc__OofSettings *in, struct settings_oof_get *o)
{
	const Rpc__OofMessage *msgs[SETTINGS_MAX_OOF_MESSAGES];

	memset(o, 0, sizeof(*o));
	if (in == NULL)
		return 0;
	o->state = in->state;
	o->start_time = in->start_time;
	o->end_time = in->end_time;
	msgs[SETTINGS_AUDIENCE_INTERNAL] = in->internal;
	msgs[SETTINGS_AUDIENCE_EXTERNAL_KNOWN] = in->external_known;
	msgs[SETTINGS_AUDIENCE_EXTERNAL_UNKNOWN] = in->external_unknown;
	for (size_t i = 0; i < SETTINGS_MAX_OOF_MESSAGES; i++) {
		if (msgs[i] == NULL)
			continue;
		o->msg[i].enabled = msgs[i]->enabled;
		o->msg[i].is_html = msgs[i]->is_html;
		if (msgs[i]->reply != NULL && msgs[i]->reply[0] != 0) {
			o->msg[i].reply = strdup(msgs[i]->reply);
			if (o->msg[i].reply == NULL)
				return -1;
		}
	}
	return 0;
}

static void
on_status_reply(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	(void)reply;
	op_done(arg, map_status(status));
}

static void
on_oof_get(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	struct settings_call *c = arg;
	const Rpc__OofReply *rep = (const Rpc__OofReply *)reply;

	if (status != RPC__STATUS__STATUS_OK || rep == NULL) {
		op_done(c, map_status(status));
		return;
	}
	if (oof_from_rpc(rep->oof, &c->res[c->next].oof) != 0) {
		op_done(c, SETTINGS_STATUS_SERVER_UNAVAILABLE);
		return;
	}
	op_done(c, SETTINGS_STATUS_SUCCESS);
}

/* Oof Set, second half: overlay what was sent on what is stored. */
static void
on_oof_get_for_set(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	struct settings_call *c = arg;
	const Rpc__OofReply *rep = (const Rpc__OofReply *)reply;
	const struct settings_oof_set *set = &c->req.ops[c->next].oof;
	struct settings_oof_get *o = &c->stored;
	Rpc__OofSetRequest m;
	Rpc__OofSettings s;
	Rpc__OofMessage msgs[SETTINGS_MAX_OOF_MESSAGES];

	if (status != RPC__STATUS__STATUS_OK || rep == NULL) {
		op_done(c, map_status(status));
		return;
	}
	if (oof_from_rpc(rep->oof, o) != 0) {
		op_done(c, SETTINGS_STATUS_SERVER_UNAVAILABLE);
		return;
	}
	if (set->has_state)
		o->state = set->state;
	if (set->has_start)
		o->start_time = set->start_time;
	if (set->has_end)
		o->end_time = set->end_time;
	rpc__oof_settings__init(&s);
	for (size_t i = 0; i < SETTINGS_MAX_OOF_MESSAGES; i++) {
		const struct settings_oof_message *in = &set->msg[i];
		struct settings_oof_get_message *cur = &o->msg[i];

		if (in->present) {
			if (in->has_enabled)
				cur->enabled = in->enabled;
			if (in->reply != NULL) {
				/* Borrowed from the request tree, which
				 * outlives the call; the stored copy goes. */
				free((char *)(uintptr_t)cur->reply);
				cur->reply = dup_or_null(in->reply);
				if (in->reply[0] != 0 && cur->reply == NULL) {
					op_done(
					    c,
					    SETTINGS_STATUS_SERVER_UNAVAILABLE);
					return;
				}
			}
			if (in->has_body_type)
				cur->is_html = in->is_html;
		}
		rpc__oof_message__init(&msgs[i]);
		msgs[i].enabled = cur->enabled;
		msgs[i].is_html = cur->is_html;
		msgs[i].reply =
		    (char *)(uintptr_t)(cur->reply != NULL ? cur->reply : "");
	}
	/* MS-ASCMD 2.2.3.119: state 2 is bounded by StartTime and EndTime. */
	if (o->state == 2 &&
	    (o->start_time <= 0 || o->end_time <= o->start_time)) {
		op_done(c, SETTINGS_STATUS_CONFLICTING_ARGUMENTS);
		return;
	}
	s.state = o->state;
	s.start_time = o->start_time;
	s.end_time = o->end_time;
	s.internal = &msgs[SETTINGS_AUDIENCE_INTERNAL];
	s.external_known = &msgs[SETTINGS_AUDIENCE_EXTERNAL_KNOWN];
	s.external_unknown = &msgs[SETTINGS_AUDIENCE_EXTERNAL_UNKNOWN];
	rpc__oof_set_request__init(&m);
	m.user = c->r->user;
	m.oof = &s;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_OOF_SET, &m.base,
		      0, on_status_reply, c) != 0)
		op_done(c, SETTINGS_STATUS_SERVER_UNAVAILABLE);
}

static void
on_user_get(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	struct settings_call *c = arg;
	const Rpc__UserReply *rep = (const Rpc__UserReply *)reply;
	struct settings_result *res = &c->res[c->next];
	const Rpc__UserInfo *info;
	size_t n;

	if (status != RPC__STATUS__STATUS_OK || rep == NULL ||
	    rep->info == NULL) {
		op_done(c, rep != NULL && rep->info == NULL &&
				   status == RPC__STATUS__STATUS_OK
			       ? SETTINGS_STATUS_SERVER_UNAVAILABLE
			       : map_status(status));
		return;
	}
	info = rep->info;
	n = info->n_addresses;
	if (n == 0 && info->primary_address != NULL &&
	    info->primary_address[0] != 0)
		n = 1;
	res->addresses = calloc(n + 1, sizeof(*res->addresses));
	if (res->addresses == NULL)
		goto oom;
	if (info->n_addresses == 0 && n == 1) {
		res->addresses[0] = strdup(info->primary_address);
		if (res->addresses[0] == NULL)
			goto oom;
		res->n_addresses = 1;
	}
	/* UserInfo.addresses lists the primary first (rpc.proto). */
	for (size_t i = 0; i < info->n_addresses; i++) {
		res->addresses[i] = strdup(info->addresses[i]);
		if (res->addresses[i] == NULL)
			goto oom;
		res->n_addresses = i + 1;
	}
	res->display_name = dup_or_null(info->display_name);
	op_done(c, SETTINGS_STATUS_SUCCESS);
	return;
oom:
	op_done(c, SETTINGS_STATUS_SERVER_UNAVAILABLE);
}

static void
run_device_info(struct settings_call *c, const struct settings_op *op)
{
	Rpc__DeviceRegisterRequest m;
	Rpc__Device dev;
	const struct settings_device_info *d = &op->info;

	rpc__device_register_request__init(&m);
	cas_request_device_fill(c->r, &dev);
	dev.model = (char *)(uintptr_t)(d->model != NULL ? d->model : "");
	dev.imei = (char *)(uintptr_t)(d->imei != NULL ? d->imei : "");
	dev.friendly_name =
	    (char *)(uintptr_t)(d->friendly_name != NULL ? d->friendly_name
							 : "");
	dev.os = (char *)(uintptr_t)(d->os != NULL ? d->os : "");
	dev.os_language =
	    (char *)(uintptr_t)(d->os_language != NULL ? d->os_language : "");
	dev.phone_number =
	    (char *)(uintptr_t)(d->phone_number != NULL ? d->phone_number : "");
	dev.mobile_operator =
	    (char *)(uintptr_t)(d->mobile_operator != NULL ? d->mobile_operator
							   : "");
	if (d->user_agent != NULL && d->user_agent[0] != 0)
		dev.user_agent = (char *)(uintptr_t)d->user_agent;
	dev.enable_outbound_sms = d->enable_outbound_sms;
	m.user = c->r->user;
	m.device = &dev;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_DEVICE_REGISTER,
		      &m.base, 0, on_status_reply, c) != 0)
		op_done(c, SETTINGS_STATUS_SERVER_UNAVAILABLE);
}

/* Run operation c->next, or answer when all ran. */
static void
settings_step(struct settings_call *c)
{
	const struct settings_op *op;
	Rpc__OofGetRequest og;
	Rpc__DevicePasswordRequest dp;
	Rpc__UserGetRequest ug;
	int rc = 0;

	if (c->next >= c->req.n_ops) {
		settings_respond(c);
		return;
	}
	op = &c->req.ops[c->next];
	if (op->status != SETTINGS_STATUS_SUCCESS) {
		op_done(c, op->status);
		return;
	}
	switch (op->kind) {
	case SETTINGS_OOF_GET:
	case SETTINGS_OOF_SET:
		rpc__oof_get_request__init(&og);
		og.user = c->r->user;
		rc = mbox_call(
		    cas_request_mbox(), RPC__MSG_TYPE__MSG_OOF_GET, &og.base, 0,
		    op->kind == SETTINGS_OOF_GET ? on_oof_get
						 : on_oof_get_for_set,
		    c);
		break;
	case SETTINGS_DEVICE_INFORMATION:
		run_device_info(c, op);
		return;
	case SETTINGS_DEVICE_PASSWORD:
		rpc__device_password_request__init(&dp);
		dp.user = c->r->user;
		dp.device_id = c->r->ash.device_id;
		dp.password = (char *)(uintptr_t)op->password;
		rc = mbox_call(cas_request_mbox(),
			       RPC__MSG_TYPE__MSG_DEVICE_PASSWORD, &dp.base, 0,
			       on_status_reply, c);
		break;
	case SETTINGS_USER_INFORMATION:
		rpc__user_get_request__init(&ug);
		ug.user = c->r->user;
		rc = mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_USER_GET,
			       &ug.base, 0, on_user_get, c);
		break;
	case SETTINGS_RIGHTS_MANAGEMENT:
		op_done(c, SETTINGS_STATUS_SUCCESS);
		return;
	}
	if (rc != 0)
		op_done(c, SETTINGS_STATUS_SERVER_UNAVAILABLE);
}

static void
settings_run(struct cas_request *r)
{
	struct settings_call *c = calloc(1, sizeof(*c));
	const uint8_t *body;
	size_t len;

	if (c == NULL) {
		cas_request_respond_status(r, CAS_STATUS_SERVER_ERROR);
		return;
	}
	c->r = r;
	body = cas_req_body(r->req, &len);
	if (settings_req_decode(body, len, &c->req) != 0) {
		char who[160];

		log_info("%s: malformed Settings request",
			 cas_request_describe(r, who, sizeof(who)));
		cas_request_respond_status(r, SETTINGS_STATUS_PROTOCOL_ERROR);
		call_free(c);
		return;
	}
	settings_step(c);
}

static void
settings_handler(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, settings_run);
}

/* MS-ASCMD 2.2.1.18: Settings exists from 12.0. */
CAS_COMMAND(settings_command, .name = "Settings", .min_version = 120,
	    .needs_policy_key = true, .handler = settings_handler)
