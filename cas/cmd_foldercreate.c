/*
 * The FolderCreate command (MS-ASCMD 2.2.1.3): a user folder under a
 * parent (ParentId 0: the root), of a user-creatable Type.  The reply
 * carries the new hierarchy SyncKey and the folder's ServerId.
 */
#include "cas/dispatch.h"
#include "cas/folder_change.h"
#include "cas/request.h"

#include "proto/limits.h"

#include <string.h>

/* MS-ASCMD 2.2.3.177.3 Status (FolderCreate). */
#define FOLDERCREATE_STATUS_SUCCESS 1u
#define FOLDERCREATE_STATUS_EXISTS 2u
#define FOLDERCREATE_STATUS_SPECIAL_PARENT 3u
#define FOLDERCREATE_STATUS_PARENT_NOT_FOUND 5u
#define FOLDERCREATE_STATUS_SERVER_ERROR 6u
#define FOLDERCREATE_STATUS_INVALID_KEY 9u
#define FOLDERCREATE_STATUS_BAD_REQUEST 10u
/* MS-ASCMD 2.2.3.186.2: folder types run from 1 to 19. */
#define FOLDER_TYPE_MAX 19u

static const struct folder_change_cmd foldercreate_cmd = {
    .root_tag = EAS_FOLDERHIERARCHY_FOLDER_CREATE,
    .with_server_id = true,
    .success = FOLDERCREATE_STATUS_SUCCESS,
    .exists = FOLDERCREATE_STATUS_EXISTS,
    .denied = FOLDERCREATE_STATUS_SPECIAL_PARENT,
    .not_found = FOLDERCREATE_STATUS_PARENT_NOT_FOUND,
    .invalid_key = FOLDERCREATE_STATUS_INVALID_KEY,
    .bad_request = FOLDERCREATE_STATUS_BAD_REQUEST,
    .server_error = FOLDERCREATE_STATUS_SERVER_ERROR,
};

static void
foldercreate_done(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	folder_change_reply(arg, &foldercreate_cmd, status, reply);
}

static void
foldercreate_run(struct cas_request *r)
{
	const struct wbxml_node *root;
	const char *key = NULL, *parent = NULL, *name = NULL;
	uint64_t type = 0;
	Rpc__FolderCreateRequest m;

	if (cas_request_parse_body(r, EAS_FOLDERHIERARCHY_FOLDER_CREATE, false,
				   FOLDERCREATE_STATUS_BAD_REQUEST) != 0)
		return;
	root = wbxml_tree_root(r->tree);
	if (wbxml_child_str(root, EAS_FOLDERHIERARCHY_SYNC_KEY,
			    CAS_FOLDER_MAX_SYNC_KEY_BYTES, &key, NULL,
			    NULL) != 0 ||
	    wbxml_child_str(root, EAS_FOLDERHIERARCHY_PARENT_ID,
			    CAS_FOLDER_MAX_ID_BYTES, &parent, NULL,
			    NULL) != 0 ||
	    wbxml_child_str(root, EAS_FOLDERHIERARCHY_DISPLAY_NAME,
			    CAS_FOLDER_MAX_NAME_BYTES, &name, NULL,
			    NULL) != 0 ||
	    wbxml_child_uint(root, EAS_FOLDERHIERARCHY_TYPE, 1, FOLDER_TYPE_MAX,
			     &type, NULL) != 0 ||
	    key[0] == 0 || parent[0] == 0 || name[0] == 0) {
		cas_request_respond_status(r, FOLDERCREATE_STATUS_BAD_REQUEST);
		return;
	}
	rpc__folder_create_request__init(&m);
	m.user = r->user;
	m.device_id = r->ash.device_id;
	m.sync_key = (char *)(uintptr_t)key;
	m.parent_id = (char *)(uintptr_t)parent;
	m.display_name = (char *)(uintptr_t)name;
	m.type = (uint32_t)type;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_FOLDER_CREATE,
		      &m.base, 0, foldercreate_done, r) != 0)
		cas_request_respond_http(r, 500);
}

static void
cmd_foldercreate(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, foldercreate_run);
}

CAS_REQUEST_COMMAND(cas_cmd_foldercreate, .name = "FolderCreate",
		    .min_version = 25, .needs_policy_key = true,
		    .handler = cmd_foldercreate)
