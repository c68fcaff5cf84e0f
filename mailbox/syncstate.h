/*
 * Per-device sync state (reliability.md G3, G4, G6; architecture
 * invariant 2).  For each (device, collection) the store keeps the
 * device's view (which items it holds, at which modseq), the issued sync
 * keys (a counter; the last two are kept, each with its change-log cursor,
 * FilterType state and MoreAvailable) and, for the latest key, the window
 * it sent.
 *
 * A Sync request is one store_sync: begin validates the key and opens a
 * transaction; client commands and the next window are recorded in the
 * view; commit issues the new key in the same transaction (G3).
 *   key 0            reset the collection's state; commit issues key 1
 *   key N (latest)   continue from N; commit issues N+1
 *   key N-1          the client lost our response N, or sent the request
 *                    twice: the window N sent is replayed, under key N
 *                    again (items deleted since are left out; nothing
 *                    newer is added).  Both copies of the response are
 *                    then the same, so whichever the client keeps matches
 *                    the server: nothing lost, no Add twice.  The client's
 *                    commands in it are applied again idempotently (Adds
 *                    by ClientId, deletes of gone items succeed).
 *   anything else    STORE_INVALID "invalid sync key" (MS-ASCMD 2.2.1.21
 *                    Sync Status 3)
 * The window walks the folder's change log from the key's cursor (cost
 * follows the changes, invariant 3) and the (folder, date) index for
 * FilterType changes.  Client-originated changes are recorded in the view
 * directly, so they are never echoed back to the device that made them.
 */
#ifndef EASD_MAILBOX_SYNCSTATE_H
#define EASD_MAILBOX_SYNCSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox/folders.h"
#include "mailbox/items.h"
#include "mailbox/store.h"

enum sync_op {
	SYNC_OP_ADD = 1,
	SYNC_OP_CHANGE = 2,
	SYNC_OP_DELETE = 3,
	SYNC_OP_SOFT_DELETE = 4, /* left the FilterType window */
};

struct sync_entry {
	enum sync_op op;
	int64_t item_id; /* fetch Add/Change data with store_item_get */
	int64_t modseq;
};

struct sync_window {
	struct sync_entry *entries;
	size_t count;
	bool more_available; /* MS-ASCMD 2.2.1.21 MoreAvailable */
};

void sync_window_clear(struct sync_window *w);

/* One Sync of one collection: an open transaction on the store. */
struct store_sync;

/* device: the MS-ASHTTP DeviceId; collection: a folder id.  Errors:
 * STORE_INVALID (invalid sync key), STORE_NOT_FOUND (no such folder). */
int store_sync_begin(struct store *st, const char *device, int64_t collection,
		     uint32_t key, struct store_sync **ss_r);
/* Client Add (MS-ASCMD 2.2.1.21 Sync, Add with ClientId): the ClientId
 * de-duplicates, so a re-sent Add returns the item created the first time (G4).
 */
int store_sync_client_add(struct store_sync *ss, const char *client_id,
			  const struct item_new *item, int64_t *id_r);
int store_sync_client_change(struct store_sync *ss, int64_t item_id,
			     const struct item_change *change);
/* Client Delete: deleted for good, or moved to trash_folder_id when not 0
 * (DeletesAsMoves).  A re-sent delete of a gone item succeeds;
 * STORE_NOT_FOUND for an item the device never had. */
int store_sync_client_delete(struct store_sync *ss, int64_t item_id,
			     int64_t trash_folder_id);
/* The next window: at most window_size (1..STORE_MAX_WINDOW_SIZE)
 * entries; filter_cutoff is the oldest date in the FilterType window (unix
 * seconds), 0 for no filter.  At most once per store_sync.  On a replay
 * (previous key) the window sent the first time, whatever the size. */
int store_sync_fetch(struct store_sync *ss, uint32_t window_size,
		     int64_t filter_cutoff, struct sync_window *w_r);
/* Issues the new key and commits everything; frees *ss either way. */
int store_sync_commit(struct store_sync **ss, uint32_t *new_key_r);
/*
 * Commits the client commands of a request that carries only them (RPC
 * ApplyChanges, before the GetChanges of the same Sync) WITHOUT issuing a
 * key: the device keeps the key it sent, and the store_sync that follows
 * with that key issues the next one and sends the window.  A re-sent Sync
 * (same key after that) is then an ordinary replay of the previous key.
 * Frees *ss either way.
 */
int store_sync_commit_commands(struct store_sync **ss);

/*
 * The outcome of a request's client commands, recorded durably in the
 * Sync's own transaction under the key the client sent (G3), so that the
 * same request sent again (its answer was lost, possibly across a restart
 * of the daemon) is answered from the record, not by applying the
 * commands a second time (G4): same ServerIds, same statuses.  digest
 * (STORE_SYNC_DIGEST_BYTES) identifies the commands; the outcome is the
 * caller's bytes, opaque to the store (at most STORE_SYNC_OUTCOME_MAX).
 * A record lives until the device shows it holds a later key, or the
 * collection restarts at key 0.  get: STORE_NOT_FOUND when this key has
 * no record for these commands; *outcome_r is malloc'd.
 */
#define STORE_SYNC_DIGEST_BYTES 32
#define STORE_SYNC_OUTCOME_MAX (1024u * 1024u)
int store_sync_outcome_get(struct store_sync *ss, const uint8_t *digest,
			   uint8_t **outcome_r, size_t *len_r);
int store_sync_outcome_put(struct store_sync *ss, const uint8_t *digest,
			   const uint8_t *outcome, size_t len);
/* Rolls back; frees *ss. */
void store_sync_abort(struct store_sync **ss);

/* GetItemEstimate: the number of entries a Sync with this key and filter
 * would send if the window were unbounded, without issuing a key (computed
 * in a transaction that is rolled back: cost O(changes)).  STORE_INVALID
 * for a key that Sync would refuse. */
int store_sync_estimate(struct store *st, const char *device,
			int64_t collection, uint32_t key, int64_t filter_cutoff,
			int64_t *count_r);
/* Ping: anything for the device in this collection since its latest key?
 * O(1) when nothing changed (folder modseq vs cursor). */
int store_sync_pending(struct store *st, const char *device, int64_t collection,
		       bool *pending_r);
/*
 * MoveItems from a device (MS-ASCMD 2.2.1.12): moves the item and records
 * in that device's views that it already knows, so its next Syncs send
 * neither the Delete in the source nor the Add in the destination (other
 * devices get both).  The item keeps its id (DstMsgId = SrcMsgId).
 */
int store_sync_client_move(struct store *st, const char *device,
			   int64_t item_id, int64_t dst_folder_id,
			   int64_t *modseq_r);
/* Forgets every sync state of a device (device removed or wiped). */
int store_sync_forget_device(struct store *st, const char *device);

/* FolderSync (MS-ASCMD 2.2.1.5) with the same key rules (0, latest,
 * previous); the changes lead from the key's hierarchy state to now. */
int store_foldersync(struct store *st, const char *device, uint32_t key,
		     struct folder_changes **ch_r, uint32_t *new_key_r);

/*
 * A folder change the device made itself (MS-ASCMD FolderCreate 2.2.1.3,
 * FolderUpdate 2.2.1.6, FolderDelete 2.2.1.4), at hierarchy modseq
 * hmodseq: issues the device's next hierarchy key after key (the new
 * SyncKey of the command's response) and records the change as known to
 * the device, so neither its FolderSync nor its Ping reports it back,
 * while changes made by others since its key still are.  Call it in the
 * transaction that made the change (store_tx_begin).
 */
int store_hier_own_change(struct store *st, const char *device, uint32_t key,
			  int64_t hmodseq, uint32_t *new_key_r);
/*
 * Ping (MS-ASCMD 2.2.3.177.10 Status 7): would the device's next
 * FolderSync report anything?  Compares the hierarchy as of the device's
 * latest hierarchy key (durable, in sync_keys) with the current one,
 * leaving out the device's own changes.  A device that has not run
 * FolderSync here is told to (*changed_r true).
 */
int store_hier_pending(struct store *st, const char *device, bool *changed_r);

#endif
