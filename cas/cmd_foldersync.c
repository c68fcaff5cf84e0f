/*
 * The FolderSync command (MS-ASCMD 2.2.1.5): the folder hierarchy since
 * the client's hierarchy SyncKey.  SyncKey 0 asks for the whole hierarchy
 * as Adds; the mailbox keeps folder ids stable across such resets (Gmail
 * for Android sends 0 on every manual refresh and must find the same ids;
 * its item sync state is not touched, because FolderSync only ever sends
 * the hierarchy key to the mailbox).  An unknown key is Status 9, after
 * which the client starts again from 0.
 */
#include "cas/dispatch.h"
#include "cas/request.h"

#include "proto/limits.h"
#include "proto/log.h"

#include <string.h>

/* MS-ASCMD 2.2.3.177.5 Status (FolderSync). */
#define FOLDERSYNC_STATUS_SUCCESS 1u
#define FOLDERSYNC_STATUS_SERVER_ERROR 6u
#define FOLDERSYNC_STATUS_INVALID_KEY 9u
#define FOLDERSYNC_STATUS_BAD_REQUEST 10u

static void
encode_folder(struct wbxml_enc *e, uint16_t tag, const Rpc__Folder *f)
{
	(void)wbxml_enc_start(e, tag);
	(void)wbxml_enc_str(e, EAS_FOLDERHIERARCHY_SERVER_ID, f->server_id);
	(void)wbxml_enc_str(e, EAS_FOLDERHIERARCHY_PARENT_ID,
			    f->parent_id[0] != 0 ? f->parent_id : "0");
	(void)wbxml_enc_str(e, EAS_FOLDERHIERARCHY_DISPLAY_NAME,
			    f->display_name);
	(void)wbxml_enc_uint(e, EAS_FOLDERHIERARCHY_TYPE, f->type);
	(void)wbxml_enc_end(e);
}

static void
foldersync_done(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	struct cas_request *r = arg;
	const Rpc__FolderSyncReply *fr = (const Rpc__FolderSyncReply *)reply;
	struct cas_wbxml_out out;
	struct wbxml_enc *e = &out.enc;

	switch (status) {
	case RPC__STATUS__STATUS_OK:
		break;
	case RPC__STATUS__STATUS_INVALID_SYNC_KEY:
	case RPC__STATUS__STATUS_NOT_FOUND:
		cas_request_respond_status(r, FOLDERSYNC_STATUS_INVALID_KEY);
		return;
	case RPC__STATUS__STATUS_INVALID:
		cas_request_respond_status(r, FOLDERSYNC_STATUS_BAD_REQUEST);
		return;
	case RPC__STATUS__STATUS_DISCONNECTED:
	case RPC__STATUS__STATUS_TIMEOUT:
	case RPC__STATUS__STATUS_BUSY:
		cas_request_respond_rpc_error(r, status);
		return;
	default:
		cas_request_respond_status(r, FOLDERSYNC_STATUS_SERVER_ERROR);
		return;
	}
	cas_wbxml_out_init(&out);
	(void)wbxml_enc_start(e, EAS_FOLDERHIERARCHY_FOLDER_SYNC);
	(void)wbxml_enc_uint(e, EAS_FOLDERHIERARCHY_STATUS,
			     FOLDERSYNC_STATUS_SUCCESS);
	(void)wbxml_enc_str(e, EAS_FOLDERHIERARCHY_SYNC_KEY, fr->sync_key);
	/* MS-ASCMD 2.2.3.25: Count, then the changes. */
	(void)wbxml_enc_start(e, EAS_FOLDERHIERARCHY_CHANGES);
	(void)wbxml_enc_uint(e, EAS_FOLDERHIERARCHY_COUNT,
			     fr->n_adds + fr->n_updates + fr->n_deletes);
	for (size_t i = 0; i < fr->n_deletes; i++) {
		(void)wbxml_enc_start(e, EAS_FOLDERHIERARCHY_DELETE);
		(void)wbxml_enc_str(e, EAS_FOLDERHIERARCHY_SERVER_ID,
				    fr->deletes[i]);
		(void)wbxml_enc_end(e);
	}
	for (size_t i = 0; i < fr->n_adds; i++)
		encode_folder(e, EAS_FOLDERHIERARCHY_ADD, fr->adds[i]);
	for (size_t i = 0; i < fr->n_updates; i++)
		encode_folder(e, EAS_FOLDERHIERARCHY_UPDATE, fr->updates[i]);
	(void)wbxml_enc_end(e);
	(void)wbxml_enc_end(e);
	cas_request_send(r, &out);
}

static void
foldersync_run(struct cas_request *r)
{
	const char *key = NULL;
	enum wbxml_err err = WBXML_ERR_NONE;
	Rpc__FolderSyncRequest m;

	if (cas_request_parse_body(r, EAS_FOLDERHIERARCHY_FOLDER_SYNC, false,
				   FOLDERSYNC_STATUS_BAD_REQUEST) != 0)
		return;
	if (wbxml_child_str(
		wbxml_tree_root(r->tree), EAS_FOLDERHIERARCHY_SYNC_KEY,
		CAS_FOLDER_MAX_SYNC_KEY_BYTES, &key, NULL, &err) != 0 ||
	    key[0] == 0) {
		cas_request_respond_status(r, FOLDERSYNC_STATUS_BAD_REQUEST);
		return;
	}
	rpc__folder_sync_request__init(&m);
	m.user = r->user;
	m.device_id = r->ash.device_id;
	m.sync_key = (char *)(uintptr_t)key;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_FOLDER_SYNC,
		      &m.base, 0, foldersync_done, r) != 0)
		cas_request_respond_http(r, 500);
}

static void
cmd_foldersync(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, foldersync_run);
}

CAS_REQUEST_COMMAND(cas_cmd_foldersync, .name = "FolderSync", .min_version = 25,
		    .needs_policy_key = true, .handler = cmd_foldersync)
