/*
 * SmartForward (MS-ASCMD 2.2.1.19): a forward to which the server appends
 * the original message and its attachments, unless the client sent the
 * whole message (ReplaceMime); from 16.0 Forwardees add recipients.  The
 * request, the mailbox call and the answer are SendMail's
 * (cas/cmd_sendmail.c, compose_cmd_run); the mailbox marks the source
 * LastVerbExecuted 3 (mailbox/rpc_submit.c).
 */
#include "cas/compose_req.h"
#include "cas/dispatch.h"
#include "cas/request.h"

static void
smartforward_run(struct cas_request *r)
{
	compose_cmd_run(r, COMPOSE_REQ_SMART_FORWARD);
}

static void
cmd_smartforward(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, smartforward_run);
}

CAS_COMMAND(cas_cmd_smartforward, .name = "SmartForward", .min_version = 25,
	    .needs_policy_key = true, .handler = cmd_smartforward)
