/*
 * RPC handlers for the folder hierarchy: FolderSync (MS-ASCMD 2.2.1.5),
 * FolderCreate/Update/Delete (2.2.1.3, 2.2.1.6, 2.2.1.4), the
 * administrator's FolderList with item counts and ItemOperations
 * EmptyFolderContents (2.2.3.57).  Folder ids travel as decimal strings;
 * the root is "0".  Everything is resolved in the request user's own
 * store, so another user's folder id is not found (invariant 6).
 *
 * Hierarchy sync keys are the store's counters as decimal text ("0" is the
 * initial FolderSync).  A folder change and the device's next key are one
 * transaction: the change is recorded as the device's own
 * (store_hier_own_change), so its FolderSync and Ping do not report it
 * back, while other devices' changes since its key still are.  Then a
 * HierarchyChanged event tells the CAS, whose held Pings answer Status 7.
 */
#include "mailbox/rpc_server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/changes.h"
#include "mailbox/folders.h"
#include "mailbox/notify.h"
#include "mailbox/syncstate.h"
#include "proto/limits.h"

/* A sync key as sent: decimal uint32, "0" included. */
static bool
parse_key(const char *text, uint32_t *key_r)
{
	char *end;
	unsigned long v;

	if (text == NULL || *text < '0' || *text > '9' ||
	    (text[0] == '0' && text[1] != 0))
		return false;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || *end != 0 || v > UINT32_MAX)
		return false;
	*key_r = (uint32_t)v;
	return true;
}

/* Folder id of a request: "0" is the root (when allowed). */
static bool
parse_folder(const char *text, bool root_ok, int64_t *id_r)
{
	if (root_ok && text != NULL && strcmp(text, "0") == 0) {
		*id_r = 0;
		return true;
	}
	return mbox_parse_id(text, id_r);
}

static bool
valid_device(const char *device)
{
	size_t len = strlen(device);

	return len > 0 && len <= STORE_MAX_DEVICE_ID_BYTES;
}

static Rpc__Folder *
folder_msg(struct mbox_req *r, const struct folder *f)
{
	Rpc__Folder *m = mbox_alloc(r, sizeof(*m));

	if (m == NULL)
		return NULL;
	rpc__folder__init(m);
	m->server_id = mbox_id_str(r, f->id);
	m->parent_id = mbox_id_str(r, f->parent_id);
	if (f->parent_id == 0)
		m->parent_id = mbox_strdup(r, "0");
	m->display_name = mbox_strdup(r, f->name != NULL ? f->name : "");
	m->type = (uint32_t)f->type;
	if (m->server_id == NULL || m->parent_id == NULL ||
	    m->display_name == NULL)
		return NULL;
	return m;
}

static struct store *
open_store(struct mbox_req *r)
{
	struct store *st;
	enum store_status status;

	if (mbox_shard_store(r->ctx, r->user, &st, &status) < 0) {
		mbox_reply_store_error(r, status, "store unavailable");
		return NULL;
	}
	return st;
}

/* Store error of a keyed call: STORE_INVALID there means the key. */
static void
reply_keyed_error(struct mbox_req *r, struct store *st)
{
	const struct store_error *e = store_last_error(st);

	if (e->status == STORE_INVALID)
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID_SYNC_KEY,
				  e->msg);
	else
		mbox_reply_store_error(r, e->status, e->msg);
}

void
mbox_rpc_folder_sync(struct mbox_req *r)
{
	Rpc__FolderSyncRequest *q = (void *)r->msg;
	Rpc__FolderSyncReply rep;
	rpc__folder_sync_reply__init(&rep);
	struct folder_changes *ch = NULL;
	struct store *st;
	uint32_t key, new_key;
	char text[16];

	if (!valid_device(q->device_id)) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "device id missing or too long");
		return;
	}
	if (!parse_key(q->sync_key, &key)) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID_SYNC_KEY,
				  "malformed sync key");
		return;
	}
	st = open_store(r);
	if (st == NULL)
		return;
	if (store_foldersync(st, q->device_id, key, &ch, &new_key) < 0) {
		reply_keyed_error(r, st);
		return;
	}
	rep.adds = mbox_alloc(r, (ch->count + 1) * sizeof(Rpc__Folder *));
	rep.updates = mbox_alloc(r, (ch->count + 1) * sizeof(Rpc__Folder *));
	rep.deletes = mbox_alloc(r, (ch->count + 1) * sizeof(char *));
	if (rep.adds == NULL || rep.updates == NULL || rep.deletes == NULL)
		goto out;
	for (size_t i = 0; i < ch->count; i++) {
		const struct folder_change *c = &ch->changes[i];
		Rpc__Folder *f;

		if (c->kind == FOLDER_CHANGE_DELETE) {
			rep.deletes[rep.n_deletes] =
			    mbox_id_str(r, c->folder.id);
			if (rep.deletes[rep.n_deletes++] == NULL)
				goto out;
			continue;
		}
		f = folder_msg(r, &c->folder);
		if (f == NULL)
			goto out;
		if (c->kind == FOLDER_CHANGE_ADD)
			rep.adds[rep.n_adds++] = f;
		else
			rep.updates[rep.n_updates++] = f;
	}
	(void)snprintf(text, sizeof(text), "%" PRIu32, new_key);
	rep.sync_key = text;
	rep.status = RPC__STATUS__STATUS_OK;
	mbox_reply(r, &rep.base);
out:
	folder_changes_free(&ch);
}

/* A folder change failed inside the handler's transaction. */
static void
fail_folder_change(struct mbox_req *r, struct store *st)
{
	store_tx_rollback(st);
	mbox_reply_store_error(r, store_last_error(st)->status,
			       store_last_error(st)->msg);
}

/* After a folder change, in the handler's transaction: the device's next
 * hierarchy key with the change as its own, commit, tell the
 * subscribers, answer. */
static void
reply_folder_change(struct mbox_req *r, struct store *st, const char *device,
		    uint32_t key, int64_t folder)
{
	Rpc__FolderChangeReply rep;
	rpc__folder_change_reply__init(&rep);
	uint32_t new_key = 0;
	int64_t hmodseq = 0;
	char text[16];

	if (store_hier_modseq(st, &hmodseq) < 0 ||
	    store_hier_own_change(st, device, key, hmodseq, &new_key) < 0) {
		store_tx_rollback(st);
		reply_keyed_error(r, st);
		return;
	}
	if (store_tx_commit(st) < 0) {
		mbox_reply_store_error(r, store_last_error(st)->status,
				       store_last_error(st)->msg);
		return;
	}
	notify_hierarchy_from(r->ctx, r->user, hmodseq, device);
	(void)snprintf(text, sizeof(text), "%" PRIu32, new_key);
	rep.status = RPC__STATUS__STATUS_OK;
	rep.sync_key = text;
	rep.server_id = folder > 0 ? mbox_id_str(r, folder) : "";
	if (rep.server_id == NULL)
		return;
	mbox_reply(r, &rep.base);
}

/* The checks every folder change shares; the store or NULL (replied). */
static struct store *
folder_change_begin(struct mbox_req *r, const char *device,
		    const char *sync_key, uint32_t *key_r)
{
	struct store *st;

	if (!valid_device(device)) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "device id missing or too long");
		return NULL;
	}
	if (!parse_key(sync_key, key_r) || *key_r == 0) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID_SYNC_KEY,
				  "malformed sync key");
		return NULL;
	}
	st = open_store(r);
	if (st == NULL)
		return NULL;
	/* MS-ASCMD 2.2.3.177.3: a bad key fails the command before any
	 * change.  The check runs the key's FolderSync in a transaction that
	 * is rolled back, so no key is issued by it. */
	{
		struct folder_changes *ch = NULL;
		uint32_t unused;
		int rc;

		if (store_tx_begin(st) < 0) {
			mbox_reply_store_error(r, store_last_error(st)->status,
					       store_last_error(st)->msg);
			return NULL;
		}
		rc = store_foldersync(st, device, *key_r, &ch, &unused);
		folder_changes_free(&ch);
		if (rc < 0) {
			reply_keyed_error(r, st);
			store_tx_rollback(st);
			return NULL;
		}
		store_tx_rollback(st);
	}
	return st;
}

void
mbox_rpc_folder_create(struct mbox_req *r)
{
	Rpc__FolderCreateRequest *q = (void *)r->msg;
	struct store *st;
	uint32_t key;
	int64_t parent, id;

	st = folder_change_begin(r, q->device_id, q->sync_key, &key);
	if (st == NULL)
		return;
	if (!parse_folder(q->parent_id, true, &parent)) {
		mbox_reply_status(r, RPC__STATUS__STATUS_NOT_FOUND,
				  "no such parent folder");
		return;
	}
	if (strlen(q->display_name) == 0 ||
	    strlen(q->display_name) > STORE_MAX_FOLDER_NAME_BYTES) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "folder name empty or too long");
		return;
	}
	if (store_tx_begin(st) < 0 ||
	    store_folder_create(st, parent, q->display_name,
				(enum folder_type)q->type, &id) < 0) {
		fail_folder_change(r, st);
		return;
	}
	reply_folder_change(r, st, q->device_id, key, id);
}

void
mbox_rpc_folder_update(struct mbox_req *r)
{
	Rpc__FolderUpdateRequest *q = (void *)r->msg;
	struct store *st;
	uint32_t key;
	int64_t id, parent;

	st = folder_change_begin(r, q->device_id, q->sync_key, &key);
	if (st == NULL)
		return;
	if (!mbox_parse_id(q->server_id, &id) ||
	    !parse_folder(q->parent_id, true, &parent)) {
		mbox_reply_status(r, RPC__STATUS__STATUS_NOT_FOUND,
				  "no such folder");
		return;
	}
	if (strlen(q->display_name) > STORE_MAX_FOLDER_NAME_BYTES) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "folder name too long");
		return;
	}
	if (store_tx_begin(st) < 0 ||
	    store_folder_update(st, id, parent,
				*q->display_name ? q->display_name : NULL) <
		0) {
		fail_folder_change(r, st);
		return;
	}
	reply_folder_change(r, st, q->device_id, key, id);
}

void
mbox_rpc_folder_delete(struct mbox_req *r)
{
	Rpc__FolderDeleteRequest *q = (void *)r->msg;
	struct store *st;
	uint32_t key;
	int64_t id;

	st = folder_change_begin(r, q->device_id, q->sync_key, &key);
	if (st == NULL)
		return;
	if (!mbox_parse_id(q->server_id, &id)) {
		mbox_reply_status(r, RPC__STATUS__STATUS_NOT_FOUND,
				  "no such folder");
		return;
	}
	if (store_tx_begin(st) < 0 || store_folder_delete(st, id) < 0) {
		fail_folder_change(r, st);
		return;
	}
	reply_folder_change(r, st, q->device_id, key, 0);
}

void
mbox_rpc_folder_list(struct mbox_req *r)
{
	Rpc__FolderListReply rep;
	rpc__folder_list_reply__init(&rep);
	struct folder_list *fl = NULL;
	struct store *st;

	st = open_store(r);
	if (st == NULL)
		return;
	if (store_folder_list(st, true, &fl) < 0) {
		mbox_reply_store_error(r, store_last_error(st)->status,
				       store_last_error(st)->msg);
		return;
	}
	rep.folders = mbox_alloc(r, (fl->count + 1) * sizeof(*rep.folders));
	if (rep.folders == NULL)
		goto out;
	for (size_t i = 0; i < fl->count; i++) {
		Rpc__FolderInfo *fi = mbox_alloc(r, sizeof(*fi));

		if (fi == NULL)
			goto out;
		rpc__folder_info__init(fi);
		fi->folder = folder_msg(r, &fl->folders[i]);
		if (fi->folder == NULL)
			goto out;
		fi->items = (uint64_t)fl->folders[i].items;
		fi->unread = (uint64_t)fl->folders[i].unread;
		rep.folders[rep.n_folders++] = fi;
	}
	rep.status = RPC__STATUS__STATUS_OK;
	mbox_reply(r, &rep.base);
out:
	folder_list_free(&fl);
}

void
mbox_rpc_empty_folder(struct mbox_req *r)
{
	Rpc__EmptyFolderRequest *q = (void *)r->msg;
	struct store *st;
	int64_t id, modseq = 0;

	if (!mbox_parse_id(q->collection_id, &id)) {
		mbox_reply_status(r, RPC__STATUS__STATUS_NOT_FOUND,
				  "no such folder");
		return;
	}
	st = open_store(r);
	if (st == NULL)
		return;
	if (store_folder_empty(st, id, q->delete_subfolders) < 0) {
		mbox_reply_store_error(r, store_last_error(st)->status,
				       store_last_error(st)->msg);
		return;
	}
	if (store_folder_modseq(st, id, &modseq) == 0)
		notify_changed(r->ctx, r->user, id, modseq);
	if (q->delete_subfolders && store_hier_modseq(st, &modseq) == 0)
		notify_hierarchy(r->ctx, r->user, modseq);
	mbox_reply_status(r, RPC__STATUS__STATUS_OK, NULL);
}
