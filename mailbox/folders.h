/*
 * Folders of one user's store and the hierarchy change log FolderSync
 * reads.  A folder id is stable and never reused (G5); deleted folders stay
 * as tombstones so a device can be told.  Default folders (Inbox, Drafts,
 * Deleted Items, Sent Items, Outbox, Tasks, Calendar, Contacts, Notes, Junk
 * Email) exist from creation and are special: they cannot be renamed,
 * moved or deleted.  Types are MS-ASCMD 2.2.3.186.3 FolderSync Type values.
 */
#ifndef EASD_MAILBOX_FOLDERS_H
#define EASD_MAILBOX_FOLDERS_H

#include <stdbool.h>
#include <stdint.h>

#include "mailbox/items.h"
#include "mailbox/store.h"

/* MS-ASCMD 2.2.3.186.3 folder types. */
enum folder_type {
	FOLDER_TYPE_USER_GENERIC = 1,
	FOLDER_TYPE_INBOX = 2,
	FOLDER_TYPE_DRAFTS = 3,
	FOLDER_TYPE_DELETED = 4,
	FOLDER_TYPE_SENT = 5,
	FOLDER_TYPE_OUTBOX = 6,
	FOLDER_TYPE_TASKS = 7,
	FOLDER_TYPE_CALENDAR = 8,
	FOLDER_TYPE_CONTACTS = 9,
	FOLDER_TYPE_NOTES = 10,
	FOLDER_TYPE_JOURNAL = 11,
	FOLDER_TYPE_USER_MAIL = 12,
	FOLDER_TYPE_USER_CALENDAR = 13,
	FOLDER_TYPE_USER_CONTACTS = 14,
	FOLDER_TYPE_USER_TASKS = 15,
	FOLDER_TYPE_USER_JOURNAL = 16,
	FOLDER_TYPE_USER_NOTES = 17,
};

struct folder {
	int64_t id;
	int64_t parent_id; /* 0: the root */
	char *name;
	enum folder_type type;
	enum item_class cls;
	bool special;
	int64_t modseq; /* of the folder's last item change */
	int64_t items;  /* with counts only */
	int64_t unread; /* with counts only */
};

struct folder_list {
	struct folder *folders;
	size_t count;
};

void folder_clear(struct folder *f);
void folder_list_free(struct folder_list **list);

int store_folder_get(struct store *st, int64_t id, struct folder *f_r);
/* The (first) live folder of a type, e.g. FOLDER_TYPE_INBOX. */
int store_folder_by_type(struct store *st, enum folder_type type,
			 int64_t *id_r);
/* A live folder by parent and display name (case-insensitive), e.g. the
 * target of an LMTP "user+folder" delivery. */
int store_folder_by_name(struct store *st, int64_t parent_id, const char *name,
			 int64_t *id_r);
/* Live folders, parents before children; with_counts adds item and unread
 * counts (one grouped scan of the items table). */
int store_folder_list(struct store *st, bool with_counts,
		      struct folder_list **list_r);
/*
 * FolderCreate (MS-ASCMD 2.2.1.3): type must be a user type (12..15, 17;
 * journals are not kept); the
 * parent must be the root or a live folder of the same class.  Errors:
 * STORE_EXISTS (name taken under parent), STORE_NOT_FOUND (parent missing),
 * STORE_INVALID (type, name, class mismatch).
 */
int store_folder_create(struct store *st, int64_t parent_id, const char *name,
			enum folder_type type, int64_t *id_r);
/* FolderUpdate (MS-ASCMD 2.2.1.6): rename and/or move.  STORE_DENIED for a
 * special folder, STORE_NOT_FOUND for a missing folder or parent,
 * STORE_INVALID for a move under itself, STORE_EXISTS for a taken name. */
int store_folder_update(struct store *st, int64_t id, int64_t new_parent_id,
			const char *new_name);
/* FolderDelete (MS-ASCMD 2.2.1.4): the folder, its subfolders and their
 * items; STORE_DENIED for a special folder. */
int store_folder_delete(struct store *st, int64_t id);
/* ItemOperations EmptyFolderContents: deletes the items (tombstones in the
 * change log) and, with subfolders, the subfolders. */
int store_folder_empty(struct store *st, int64_t id, bool subfolders);

/* The hierarchy modseq: bumped by every folder create/update/delete. */
int store_hier_modseq(struct store *st, int64_t *hmodseq_r);

enum folder_change_kind {
	FOLDER_CHANGE_ADD = 1,
	FOLDER_CHANGE_UPDATE = 2,
	FOLDER_CHANGE_DELETE = 3,
};

struct folder_change {
	enum folder_change_kind kind;
	struct folder folder; /* for DELETE only id is meaningful */
};

struct folder_changes {
	struct folder_change *changes;
	size_t count;
	int64_t hmodseq; /* the state these changes lead to */
};

/* Hierarchy changes since a hierarchy modseq (0: every live folder as an
 * add).  A folder created and deleted since then is not reported. */
int store_folder_changes(struct store *st, int64_t since_hmodseq,
			 struct folder_changes **ch_r);
void folder_changes_free(struct folder_changes **ch);

#endif
