/*
 * The FolderDelete command (MS-ASCMD 2.2.1.4): delete a user folder (and,
 * in the mailbox, everything under it).  Default folders cannot be
 * deleted (Status 3).  The reply carries the new hierarchy SyncKey.
 */
#include "cas/dispatch.h"
#include "cas/request.h"

#include "proto/limits.h"

#include <string.h>

/* MS-ASCMD 2.2.3.177.4 Status (FolderDelete). */
#define FOLDERDELETE_STATUS_SUCCESS 1u
#define FOLDERDELETE_STATUS_SPECIAL 3u
#define FOLDERDELETE_STATUS_NOT_FOUND 4u
#define FOLDERDELETE_STATUS_SERVER_ERROR 6u
#define FOLDERDELETE_STATUS_INVALID_KEY 9u
#define FOLDERDELETE_STATUS_BAD_REQUEST 10u

static void
folderdelete_done(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	struct cas_request *r = arg;
	const Rpc__FolderChangeReply *fr =
	    (const Rpc__FolderChangeReply *)reply;
	struct cas_wbxml_out out;
	unsigned st;

	switch (status) {
	case RPC__STATUS__STATUS_OK:
		st = FOLDERDELETE_STATUS_SUCCESS;
		break;
	case RPC__STATUS__STATUS_DENIED:
		st = FOLDERDELETE_STATUS_SPECIAL;
		break;
	case RPC__STATUS__STATUS_NOT_FOUND:
		st = FOLDERDELETE_STATUS_NOT_FOUND;
		break;
	case RPC__STATUS__STATUS_INVALID_SYNC_KEY:
		st = FOLDERDELETE_STATUS_INVALID_KEY;
		break;
	case RPC__STATUS__STATUS_INVALID:
		st = FOLDERDELETE_STATUS_BAD_REQUEST;
		break;
	case RPC__STATUS__STATUS_DISCONNECTED:
	case RPC__STATUS__STATUS_TIMEOUT:
	case RPC__STATUS__STATUS_BUSY:
		cas_request_respond_rpc_error(r, status);
		return;
	default:
		st = FOLDERDELETE_STATUS_SERVER_ERROR;
		break;
	}
	if (st != FOLDERDELETE_STATUS_SUCCESS) {
		cas_request_respond_status(r, st);
		return;
	}
	cas_wbxml_out_init(&out);
	(void)wbxml_enc_start(&out.enc, EAS_FOLDERHIERARCHY_FOLDER_DELETE);
	(void)wbxml_enc_uint(&out.enc, EAS_FOLDERHIERARCHY_STATUS, st);
	(void)wbxml_enc_str(&out.enc, EAS_FOLDERHIERARCHY_SYNC_KEY,
			    fr->sync_key);
	(void)wbxml_enc_end(&out.enc);
	cas_request_send(r, &out);
}

static void
folderdelete_run(struct cas_request *r)
{
	const struct wbxml_node *root;
	const char *key = NULL, *id = NULL;
	Rpc__FolderDeleteRequest m;

	if (cas_request_parse_body(r, EAS_FOLDERHIERARCHY_FOLDER_DELETE, false,
				   FOLDERDELETE_STATUS_BAD_REQUEST) != 0)
		return;
	root = wbxml_tree_root(r->tree);
	if (wbxml_child_str(root, EAS_FOLDERHIERARCHY_SYNC_KEY,
			    CAS_FOLDER_MAX_SYNC_KEY_BYTES, &key, NULL,
			    NULL) != 0 ||
	    wbxml_child_str(root, EAS_FOLDERHIERARCHY_SERVER_ID,
			    CAS_FOLDER_MAX_ID_BYTES, &id, NULL, NULL) != 0 ||
	    key[0] == 0 || id[0] == 0) {
		cas_request_respond_status(r, FOLDERDELETE_STATUS_BAD_REQUEST);
		return;
	}
	rpc__folder_delete_request__init(&m);
	m.user = r->user;
	m.device_id = r->ash.device_id;
	m.sync_key = (char *)(uintptr_t)key;
	m.server_id = (char *)(uintptr_t)id;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_FOLDER_DELETE,
		      &m.base, 0, folderdelete_done, r) != 0)
		cas_request_respond_http(r, 500);
}

static void
cmd_folderdelete(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, folderdelete_run);
}

CAS_REQUEST_COMMAND(cas_cmd_folderdelete, .name = "FolderDelete",
		    .min_version = 25, .needs_policy_key = true,
		    .handler = cmd_folderdelete)
