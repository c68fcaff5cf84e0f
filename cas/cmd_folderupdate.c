/*
 * The FolderUpdate command (MS-ASCMD 2.2.1.6): rename and/or move a user
 * folder.  Default folders cannot be changed (Status 3).  The RPC answers
 * NOT_FOUND for both a missing folder and a missing new parent; both are
 * Status 4 here, the spec's "folder does not exist" (Status 5, parent not
 * found, would need the mailbox to say which one was missing).
 */
#include "cas/dispatch.h"
#include "cas/folder_change.h"
#include "cas/request.h"

#include "proto/limits.h"

#include <string.h>

/* MS-ASCMD 2.2.3.177.6 Status (FolderUpdate). */
#define FOLDERUPDATE_STATUS_SUCCESS 1u
#define FOLDERUPDATE_STATUS_EXISTS 2u
#define FOLDERUPDATE_STATUS_SPECIAL 3u
#define FOLDERUPDATE_STATUS_NOT_FOUND 4u
#define FOLDERUPDATE_STATUS_SERVER_ERROR 6u
#define FOLDERUPDATE_STATUS_INVALID_KEY 9u
#define FOLDERUPDATE_STATUS_BAD_REQUEST 10u

static const struct folder_change_cmd folderupdate_cmd = {
    .root_tag = EAS_FOLDERHIERARCHY_FOLDER_UPDATE,
    .with_server_id = false,
    .success = FOLDERUPDATE_STATUS_SUCCESS,
    .exists = FOLDERUPDATE_STATUS_EXISTS,
    .denied = FOLDERUPDATE_STATUS_SPECIAL,
    .not_found = FOLDERUPDATE_STATUS_NOT_FOUND,
    .invalid_key = FOLDERUPDATE_STATUS_INVALID_KEY,
    .bad_request = FOLDERUPDATE_STATUS_BAD_REQUEST,
    .server_error = FOLDERUPDATE_STATUS_SERVER_ERROR,
};

static void
folderupdate_done(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	folder_change_reply(arg, &folderupdate_cmd, status, reply);
}

static void
folderupdate_run(struct cas_request *r)
{
	const struct wbxml_node *root;
	const char *key = NULL, *id = NULL, *parent = NULL, *name = NULL;
	Rpc__FolderUpdateRequest m;

	if (cas_request_parse_body(r, EAS_FOLDERHIERARCHY_FOLDER_UPDATE, false,
				   FOLDERUPDATE_STATUS_BAD_REQUEST) != 0)
		return;
	root = wbxml_tree_root(r->tree);
	if (wbxml_child_str(root, EAS_FOLDERHIERARCHY_SYNC_KEY,
			    CAS_FOLDER_MAX_SYNC_KEY_BYTES, &key, NULL,
			    NULL) != 0 ||
	    wbxml_child_str(root, EAS_FOLDERHIERARCHY_SERVER_ID,
			    CAS_FOLDER_MAX_ID_BYTES, &id, NULL, NULL) != 0 ||
	    wbxml_child_str(root, EAS_FOLDERHIERARCHY_PARENT_ID,
			    CAS_FOLDER_MAX_ID_BYTES, &parent, NULL,
			    NULL) != 0 ||
	    wbxml_child_str(root, EAS_FOLDERHIERARCHY_DISPLAY_NAME,
			    CAS_FOLDER_MAX_NAME_BYTES, &name, NULL,
			    NULL) != 0 ||
	    key[0] == 0 || id[0] == 0 || parent[0] == 0 || name[0] == 0) {
		cas_request_respond_status(r, FOLDERUPDATE_STATUS_BAD_REQUEST);
		return;
	}
	rpc__folder_update_request__init(&m);
	m.user = r->user;
	m.device_id = r->ash.device_id;
	m.sync_key = (char *)(uintptr_t)key;
	m.server_id = (char *)(uintptr_t)id;
	m.parent_id = (char *)(uintptr_t)parent;
	m.display_name = (char *)(uintptr_t)name;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_FOLDER_UPDATE,
		      &m.base, 0, folderupdate_done, r) != 0)
		cas_request_respond_http(r, 500);
}

static void
cmd_folderupdate(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, folderupdate_run);
}

CAS_REQUEST_COMMAND(cas_cmd_folderupdate, .name = "FolderUpdate",
		    .min_version = 25, .needs_policy_key = true,
		    .handler = cmd_folderupdate)
