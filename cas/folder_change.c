/*
 * The shared reply of the folder commands (see folder_change.h): map the
 * mailbox's status to the command's, then write the short document.
 */
#include "cas/folder_change.h"

static unsigned
map_status(const struct folder_change_cmd *cmd, Rpc__Status status)
{
	unsigned st = 0;

	switch (status) {
	case RPC__STATUS__STATUS_OK:
		st = cmd->success;
		break;
	case RPC__STATUS__STATUS_EXISTS:
		st = cmd->exists;
		break;
	case RPC__STATUS__STATUS_DENIED:
		st = cmd->denied;
		break;
	case RPC__STATUS__STATUS_NOT_FOUND:
		st = cmd->not_found;
		break;
	case RPC__STATUS__STATUS_INVALID_SYNC_KEY:
		st = cmd->invalid_key;
		break;
	case RPC__STATUS__STATUS_INVALID:
		st = cmd->bad_request;
		break;
	default:
		break;
	}
	return st != 0 ? st : cmd->server_error;
}

void
folder_change_reply(struct cas_request *r, const struct folder_change_cmd *cmd,
		    Rpc__Status status, const ProtobufCMessage *reply)
{
	const Rpc__FolderChangeReply *fr =
	    (const Rpc__FolderChangeReply *)reply;
	struct cas_wbxml_out out;
	unsigned st;

	if (status == RPC__STATUS__STATUS_DISCONNECTED ||
	    status == RPC__STATUS__STATUS_TIMEOUT ||
	    status == RPC__STATUS__STATUS_BUSY) {
		cas_request_respond_rpc_error(r, status);
		return;
	}
	st = map_status(cmd, status);
	if (st != cmd->success || fr == NULL) {
		cas_request_respond_status(
		    r, st != cmd->success ? st : cmd->server_error);
		return;
	}
	cas_wbxml_out_init(&out);
	(void)wbxml_enc_start(&out.enc, cmd->root_tag);
	(void)wbxml_enc_uint(&out.enc, EAS_FOLDERHIERARCHY_STATUS, st);
	(void)wbxml_enc_str(&out.enc, EAS_FOLDERHIERARCHY_SYNC_KEY,
			    fr->sync_key);
	if (cmd->with_server_id)
		(void)wbxml_enc_str(&out.enc, EAS_FOLDERHIERARCHY_SERVER_ID,
				    fr->server_id);
	(void)wbxml_enc_end(&out.enc);
	cas_request_send(r, &out);
}
