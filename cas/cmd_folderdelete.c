/*
 * The FolderDelete command (MS-ASCMD 2.2.1.4): delete a user folder (and,
 * in the mailbox, everything under it).  Default folders cannot be
 * deleted (Status 3).  The reply carries the new hierarchy SyncKey.
 */
#include "cas/dispatch.h"
#include "cas/folder_change.h"
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

static const struct folder_change_cmd folderdelete_cmd = {
    .root_tag = EAS_FOLDERHIERARCHY_FOLDER_DELETE,
    .with_server_id = false,
    .success = FOLDERDELETE_STATUS_SUCCESS,
    .exists = 0,
    .denied = FOLDERDELETE_STATUS_SPECIAL,
    .not_found = FOLDERDELETE_STATUS_NOT_FOUND,
    .invalid_key = FOLDERDELETE_STATUS_INVALID_KEY,
    .bad_request = FOLDERDELETE_STATUS_BAD_REQUEST,
    .server_error = FOLDERDELETE_STATUS_SERVER_ERROR,
};

static void
folderdelete_done(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	folder_change_reply(arg, &folderdelete_cmd, status, reply);
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
