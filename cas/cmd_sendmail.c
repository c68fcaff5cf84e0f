/*
 * SendMail (MS-ASCMD 2.2.1.17) and the runner the smart commands share
 * (cmd_smartreply.c, cmd_smartforward.c): after the request pipeline the
 * body is decoded in the shape of the version (cas/compose_req.h: WBXML
 * from 14.0, the raw message with query parameters before), the mailbox
 * composes and queues the message (Submit RPC, mailbox/rpc_submit.c) and
 * the answer is an empty 200 on success -- also for a ClientId the
 * mailbox already queued, the answer the device missed the first time.
 *
 * Why success and not Status 118 (MessagePreviouslySent) for a repeated
 * ClientId: the device repeats a request whose answer it lost; the
 * message went out, and an empty 200 is what that first answer said.
 * 118 is listed among the failure codes, and a client that shows it as a
 * failure keeps the message in its Outbox and retries forever.
 *
 * Failures from 14.0 carry the ComposeMail status (MS-ASCMD 2.2.2): 103
 * schema violations, 107 unparsable MIME, 113 mailbox full, 115 message
 * too large, 116 a recipient that is no address, 119 no recipient, 120
 * no relay or too many recipients, 150 source item not found, 166
 * AccountId not the user's, 110/111 server errors.  Before 14.0 there is
 * no body: 413 too large, 503 retry later, 500 otherwise.
 */
#include "cas/compose_req.h"
#include "cas/dispatch.h"
#include "cas/request.h"
#include "proto/log.h"

#include <stdint.h>
#include <stdlib.h>

/* The ComposeMail status of a failed Submit (14.0+). */
static unsigned
status_for(Rpc__Status st, Rpc__SubmitError reason)
{
	switch (reason) {
	case RPC__SUBMIT_ERROR__SUBMIT_ERROR_MIME:
		return COMPOSE_REQ_STATUS_INVALID_MIME;
	case RPC__SUBMIT_ERROR__SUBMIT_ERROR_NO_RECIPIENTS:
		return COMPOSE_REQ_STATUS_NO_RECIPIENT;
	case RPC__SUBMIT_ERROR__SUBMIT_ERROR_BAD_ADDRESS:
		return COMPOSE_REQ_STATUS_RECIPIENT_UNRESOLVED;
	case RPC__SUBMIT_ERROR__SUBMIT_ERROR_TOO_MANY_RECIPIENTS:
	case RPC__SUBMIT_ERROR__SUBMIT_ERROR_NO_RELAY:
		return COMPOSE_REQ_STATUS_SUBMISSION_FAILED;
	case RPC__SUBMIT_ERROR__SUBMIT_ERROR_TOO_LARGE:
		return COMPOSE_REQ_STATUS_SEND_QUOTA;
	case RPC__SUBMIT_ERROR__SUBMIT_ERROR_SOURCE:
		return COMPOSE_REQ_STATUS_ITEM_NOT_FOUND;
	case RPC__SUBMIT_ERROR__SUBMIT_ERROR_ACCOUNT:
		return COMPOSE_REQ_STATUS_ACCOUNT_INVALID;
	case RPC__SUBMIT_ERROR__SUBMIT_ERROR_NONE:
	default:
		break;
	}
	switch (st) {
	case RPC__STATUS__STATUS_TOO_LARGE:
		return COMPOSE_REQ_STATUS_SEND_QUOTA;
	case RPC__STATUS__STATUS_STORAGE_FULL:
		return COMPOSE_REQ_STATUS_MAILBOX_QUOTA;
	case RPC__STATUS__STATUS_NOT_FOUND:
		return COMPOSE_REQ_STATUS_ITEM_NOT_FOUND;
	default:
		return COMPOSE_REQ_STATUS_SERVER_ERROR;
	}
}

static void
submit_done(void *arg, Rpc__Status status, const ProtobufCMessage *msg)
{
	struct cas_request *r = arg;
	const Rpc__SubmitReply *rep = (const Rpc__SubmitReply *)msg;
	Rpc__SubmitError reason =
	    rep != NULL ? rep->reason : RPC__SUBMIT_ERROR__SUBMIT_ERROR_NONE;
	char who[160];

	if (status == RPC__STATUS__STATUS_OK) {
		if (rep != NULL && rep->duplicate)
			log_info("%s: ClientId already sent",
				 cas_request_describe(r, who, sizeof(who)));
		cas_request_respond_empty(r);
		return;
	}
	log_info("%s: not sent (%d/%d: %s)",
		 cas_request_describe(r, who, sizeof(who)), (int)status,
		 (int)reason,
		 rep != NULL && rep->error != NULL ? rep->error : "");
	switch (status) {
	case RPC__STATUS__STATUS_DISCONNECTED:
	case RPC__STATUS__STATUS_TIMEOUT:
	case RPC__STATUS__STATUS_BUSY:
	case RPC__STATUS__STATUS_STORAGE_ERROR:
		cas_request_respond_rpc_error(r, status);
		return;
	default:
		break;
	}
	if (r->version >= EAS_VERSION_14_0)
		cas_request_respond_status(r, status_for(status, reason));
	else
		cas_request_respond_http(r,
					 status_for(status, reason) ==
						 COMPOSE_REQ_STATUS_SEND_QUOTA
					     ? 413
					     : 500);
}

static char *
pb(const char *s)
{
	return (char *)(uintptr_t)(s != NULL ? s : "");
}

void
compose_cmd_run(struct cas_request *r, enum compose_req_kind kind)
{
	struct compose_req cr;
	Rpc__SubmitRequest m;
	Rpc__Forwardee *fw = NULL, **fwp = NULL;
	unsigned st = 0;
	char who[160];

	if (r->version >= EAS_VERSION_14_0) {
		if (cas_request_parse_body(r, compose_req_root(kind), false,
					   0) != 0)
			return;
		if (compose_req_from_tree(kind, wbxml_tree_root(r->tree), &cr,
					  &st) != 0) {
			log_info("%s: malformed request (%u)",
				 cas_request_describe(r, who, sizeof(who)), st);
			cas_request_respond_status(r, st);
			return;
		}
	} else {
		size_t len = 0;
		const uint8_t *body = cas_req_body(r->req, &len);

		if (compose_req_from_raw(kind, &r->ash, body, len, &cr, &st) !=
		    0) {
			log_info("%s: malformed request (HTTP %u)",
				 cas_request_describe(r, who, sizeof(who)), st);
			cas_request_respond_http(r, st);
			return;
		}
	}
	rpc__submit_request__init(&m);
	m.user = r->user;
	m.device_id = r->ash.device_id;
	m.client_id = pb(cr.client_id);
	m.mime.data = (uint8_t *)(uintptr_t)cr.mime;
	m.mime.len = cr.mime_len;
	m.save_in_sent = cr.save_in_sent;
	m.source_folder_id = pb(cr.folder_id);
	m.source_item_id = pb(cr.item_id);
	m.source_long_id = pb(cr.long_id);
	m.source_instance_id = pb(cr.instance_id);
	m.account_id = pb(cr.account_id);
	m.replace_mime = cr.replace_mime;
	m.reply = kind == COMPOSE_REQ_SMART_REPLY;
	m.command = kind == COMPOSE_REQ_SMART_REPLY
			? RPC__SUBMIT_COMMAND__SUBMIT_SMART_REPLY
		    : kind == COMPOSE_REQ_SMART_FORWARD
			? RPC__SUBMIT_COMMAND__SUBMIT_SMART_FORWARD
			: RPC__SUBMIT_COMMAND__SUBMIT_SEND_MAIL;
	if (cr.n_forwardees > 0) {
		fw = calloc(cr.n_forwardees, sizeof(*fw));
		fwp = calloc(cr.n_forwardees, sizeof(*fwp));
		if (fw == NULL || fwp == NULL) {
			free(fw);
			free(fwp);
			compose_req_clear(&cr);
			cas_request_respond_status(
			    r, COMPOSE_REQ_STATUS_SERVER_ERROR);
			return;
		}
		for (size_t i = 0; i < cr.n_forwardees; i++) {
			rpc__forwardee__init(&fw[i]);
			fw[i].name = pb(cr.forwardees[i].name);
			fw[i].email = pb(cr.forwardees[i].email);
			fwp[i] = &fw[i];
		}
		m.forwardees = fwp;
		m.n_forwardees = cr.n_forwardees;
	}
	/* mbox_call packs the message now: nothing above must outlive it. */
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_SUBMIT, &m.base, 0,
		      submit_done, r) != 0)
		cas_request_respond_http(r, 500);
	free(fw);
	free(fwp);
	compose_req_clear(&cr);
}

static void
sendmail_run(struct cas_request *r)
{
	compose_cmd_run(r, COMPOSE_REQ_SEND_MAIL);
}

static void
cmd_sendmail(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, sendmail_run);
}

CAS_COMMAND(cas_cmd_sendmail, .name = "SendMail", .min_version = 25,
	    .needs_policy_key = true, .handler = cmd_sendmail)
