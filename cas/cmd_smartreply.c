/*
 * SmartReply (MS-ASCMD 2.2.1.20): a reply whose quoted original the
 * server adds, unless the client sent the whole message (ReplaceMime).
 * The request, the mailbox call and the answer are SendMail's
 * (cas/cmd_sendmail.c, compose_cmd_run); the mailbox quotes the source
 * item, threads the reply (In-Reply-To, References) and marks the source
 * LastVerbExecuted 1 or 2 (mailbox/rpc_submit.c).
 */
#include "cas/compose_req.h"
#include "cas/dispatch.h"
#include "cas/request.h"

static void
smartreply_run(struct cas_request *r)
{
	compose_cmd_run(r, COMPOSE_REQ_SMART_REPLY);
}

static void
cmd_smartreply(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, smartreply_run);
}

CAS_COMMAND(cas_cmd_smartreply, .name = "SmartReply", .min_version = 25,
	    .needs_policy_key = true, .handler = cmd_smartreply)
