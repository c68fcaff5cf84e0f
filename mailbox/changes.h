/*
 * The per-folder change log.  Every add, change (flags and read state
 * included), move (a delete in the source and an add in the target) and
 * delete takes the folder's next modseq and records (folder, item, modseq,
 * kind).  The log is compacted to one row per (folder, item), the item's
 * latest change there; a delete row is the item's tombstone.  "Changes
 * since M" is a range scan of the (folder, modseq) index: its cost follows
 * the number of changes since M, never the folder's size (invariant 3).
 */
#ifndef EASD_MAILBOX_CHANGES_H
#define EASD_MAILBOX_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox/store.h"

enum change_kind {
	CHANGE_ADD = 1,
	CHANGE_MODIFY = 2,
	CHANGE_DELETE = 3, /* tombstone: deleted or moved out */
};

struct change {
	int64_t item_id;
	int64_t modseq;
	enum change_kind kind;
};

/* Changes of a folder with modseq > since, oldest first, at most limit
 * into out[]; *more_r tells whether more remain after the last. */
int store_changes_since(struct store *st, int64_t folder_id, int64_t since,
			struct change *out, size_t limit, size_t *count_r,
			bool *more_r);
/* The folder's current modseq (its last change); Ping compares it. */
int store_folder_modseq(struct store *st, int64_t folder_id, int64_t *modseq_r);

/*
 * Drops tombstones no device can still need: in each folder, those at or
 * below the lowest cursor of any sync key of the folder (a device starting
 * over from key 0 has an empty view, so tombstones mean nothing to it); in
 * a folder no device syncs, all of them.  Cost O(tombstones).  A device
 * that never comes back holds its folder's tombstones until its state is
 * forgotten (store_sync_forget_device).
 */
int store_changes_compact(struct store *st, int64_t *removed_r);

#endif
