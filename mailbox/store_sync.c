/*
 * Per-device sync state (see syncstate.h for the contract).  Tables:
 * sync_keys (device, collection, key) -> change-log cursor, the FilterType
 * floor (no item of the view is dated before it), while a widened filter
 * is being filled in the top of the date range still to fill, and whether
 * its window ended with MoreAvailable; sync_view, the items the device
 * holds and the modseq it holds them at; sync_journal, the entries the
 * latest key sent (replayed when the previous key comes again);
 * sync_clientids, client Adds by ClientId; sync_outcomes, the outcome of
 * the client commands a key came with (replayed when the same request
 * comes again); sync_hier_own, the device's own folder changes.
 * Collection 0 is the folder hierarchy (FolderSync).  Only the last two
 * keys of a collection are kept.  Nothing a re-sent request needs lives
 * outside the database: a restart of the daemon between a request and
 * its retry changes nothing (G3, G4).
 */
#include "mailbox/syncstate.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mailbox/changes.h"
#include "mailbox/store_int.h"
#include "proto/limits.h"

/* Change-log rows read per query during a window scan: bounds memory while
 * the view is updated between batches. */
#define SYNC_SCAN_BATCH 256

struct store_sync {
	struct store *st;
	int64_t dev;
	int64_t coll;
	uint32_t key; /* the key the device sent */
	uint32_t new_key;
	int64_t cursor;  /* change-log modseq the new key starts from */
	bool has_cutoff; /* false until a first window sets one */
	int64_t cutoff;  /* floor: no view item is older; 0 = none */
	bool has_fill;   /* dates [cutoff, fill_hi) may lack items */
	int64_t fill_hi;
	bool more; /* the window's MoreAvailable, kept with the key */
	bool fetched;
	bool initial; /* key 0: no commands, no window */
	bool replay;  /* the previous key: answer what new_key sent */
};

void
sync_window_clear(struct sync_window *w)
{
	free(w->entries);
	memset(w, 0, sizeof(*w));
}

static bool
device_valid(const char *device)
{
	size_t len = device != NULL ? strlen(device) : 0;

	return len > 0 && len <= STORE_MAX_DEVICE_ID_BYTES;
}

/* The device's row id, created on first use. */
static int
device_row(struct store *st, const char *device, int64_t *dev_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;

	if (!device_valid(device)) {
		sdb_fail(s, STORE_INVALID, "bad device id");
		return -1;
	}
	stmt = sdb_prepare(s, "INSERT INTO sync_devices(device) VALUES(?)"
			      " ON CONFLICT(device) DO UPDATE SET"
			      " device = excluded.device RETURNING id");
	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, device);
	if (sdb_step(s, stmt) != SQLITE_ROW)
		return -1;
	*dev_r = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return 0;
}

/* Looks up without creating: STORE_INVALID when the device has no state
 * (so no valid key either). */
static int
device_find(struct store *st, const char *device, int64_t *dev_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	stmt = sdb_prepare(s, "SELECT id FROM sync_devices WHERE device = ?");
	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, device);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE) {
		sdb_fail(s, STORE_INVALID, "no sync state for the device");
		return -1;
	}
	if (rc != SQLITE_ROW)
		return -1;
	*dev_r = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return 0;
}

struct key_state {
	uint32_t key;
	int64_t cursor;
	bool has_cutoff;
	int64_t cutoff;
	bool has_fill;
	int64_t fill_hi;
	bool more;
};

/* The latest key of (dev, coll) (latest), or the given key; k_r->key is
 * 0 when there is none. */
static int
key_load(struct store *st, int64_t dev, int64_t coll, bool latest, uint32_t key,
	 struct key_state *k_r)
{
	static const char sql_latest[] =
	    "SELECT key, cursor, cutoff, fill_hi, more FROM sync_keys WHERE"
	    " dev = ?1 AND coll = ?2 ORDER BY key DESC LIMIT 1";
	static const char sql_key[] =
	    "SELECT key, cursor, cutoff, fill_hi, more FROM sync_keys WHERE"
	    " dev = ?1 AND coll = ?2 AND key = ?3";
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	memset(k_r, 0, sizeof(*k_r));
	stmt = sdb_prepare(s, latest ? sql_latest : sql_key);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, dev);
	sqlite3_bind_int64(stmt, 2, coll);
	if (!latest)
		sqlite3_bind_int64(stmt, 3, key);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	k_r->key = (uint32_t)sqlite3_column_int64(stmt, 0);
	k_r->cursor = sqlite3_column_int64(stmt, 1);
	k_r->has_cutoff = sqlite3_column_type(stmt, 2) != SQLITE_NULL;
	k_r->cutoff = sqlite3_column_int64(stmt, 2);
	k_r->has_fill = sqlite3_column_type(stmt, 3) != SQLITE_NULL;
	k_r->fill_hi = sqlite3_column_int64(stmt, 3);
	k_r->more = sqlite3_column_int(stmt, 4) != 0;
	sqlite3_reset(stmt);
	return 0;
}

static int
run_dc(struct store *st, const char *sql, int64_t dev, int64_t coll,
       int64_t key)
{
	sqlite3_stmt *stmt = sdb_prepare(&st->sdb, sql);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, dev);
	sqlite3_bind_int64(stmt, 2, coll);
	if (sqlite3_bind_parameter_count(stmt) >= 3)
		sqlite3_bind_int64(stmt, 3, key);
	return sdb_run(&st->sdb, stmt);
}

/* Key 0: the collection's view, journal and keys go; ClientIds stay, so
 * a late re-sent Add still finds its item (G4). */
static int
collection_reset(struct store *st, int64_t dev, int64_t coll)
{
	static const char *const sqls[] = {
	    "DELETE FROM sync_view WHERE dev = ?1 AND coll = ?2",
	    "DELETE FROM sync_journal WHERE dev = ?1 AND coll = ?2",
	    "DELETE FROM sync_keys WHERE dev = ?1 AND coll = ?2",
	    "DELETE FROM sync_outcomes WHERE dev = ?1 AND coll = ?2",
	};

	for (size_t i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++)
		if (run_dc(st, sqls[i], dev, coll, 0) < 0)
			return -1;
	return 0;
}

/*
 * The key rules shared by Sync and FolderSync; inside the caller's
 * transaction.  *from_r is the state the new key continues from.  With
 * can_replay (Sync), the previous key is answered by replaying what the
 * latest key sent (*replay_r): the same entries under the same key, so
 * that whichever of two copies of a response the client keeps matches
 * the server's state (a duplicated request, or a lost response).  Without
 * it (FolderSync), the latest key is dropped and recomputed.
 */
static int
key_advance(struct store *st, int64_t dev, int64_t coll, uint32_t key,
	    bool can_replay, struct key_state *from_r, uint32_t *new_key_r,
	    bool *replay_r)
{
	struct key_state latest, prev;

	memset(from_r, 0, sizeof(*from_r));
	*replay_r = false;
	if (key == 0) {
		if (collection_reset(st, dev, coll) < 0)
			return -1;
		*new_key_r = 1;
		return 0;
	}
	if (key_load(st, dev, coll, true, 0, &latest) < 0)
		return -1;
	if (latest.key != 0 && key == latest.key) {
		/* The client has key's response: older state is useless. */
		if (run_dc(st,
			   "DELETE FROM sync_journal WHERE dev = ?1 AND"
			   " coll = ?2 AND key <= ?3",
			   dev, coll, key) < 0 ||
		    run_dc(st,
			   "DELETE FROM sync_keys WHERE dev = ?1 AND"
			   " coll = ?2 AND key < ?3",
			   dev, coll, key) < 0 ||
		    run_dc(st,
			   "DELETE FROM sync_outcomes WHERE dev = ?1 AND"
			   " coll = ?2 AND key < ?3",
			   dev, coll, key) < 0)
			return -1;
		*from_r = latest;
		*new_key_r = key + 1;
		return 0;
	}
	if (latest.key > 1 && key == latest.key - 1) {
		if (key_load(st, dev, coll, false, key, &prev) < 0)
			return -1;
		if (prev.key == key && can_replay) {
			/* G4: the response for latest was lost (or this is
			 * a duplicate of the request that produced it). */
			*from_r = latest;
			*new_key_r = latest.key;
			*replay_r = true;
			return 0;
		}
		if (prev.key == key) {
			if (run_dc(st,
				   "DELETE FROM sync_keys WHERE dev = ?1 AND"
				   " coll = ?2 AND key = ?3",
				   dev, coll, latest.key) < 0)
				return -1;
			*from_r = prev;
			*new_key_r = latest.key;
			return 0;
		}
	}
	/* MS-ASCMD 2.2.1.21 Sync Status 3, 2.2.1.5 FolderSync Status 9:
	 * invalid synchronization key. */
	sdb_fail(&st->sdb, STORE_INVALID, "invalid sync key %u", key);
	return -1;
}

static int
key_insert(struct store *st, int64_t dev, int64_t coll, uint32_t key,
	   int64_t cursor, const struct key_state *f)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;

	stmt = sdb_prepare(s, "INSERT OR REPLACE INTO sync_keys(dev, coll, key,"
			      " cursor, cutoff, fill_hi, more, created)"
			      " VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, dev);
	sqlite3_bind_int64(stmt, 2, coll);
	sqlite3_bind_int64(stmt, 3, key);
	sqlite3_bind_int64(stmt, 4, cursor);
	if (f != NULL && f->has_cutoff)
		sqlite3_bind_int64(stmt, 5, f->cutoff);
	if (f != NULL && f->has_fill)
		sqlite3_bind_int64(stmt, 6, f->fill_hi);
	sqlite3_bind_int(stmt, 7, f != NULL && f->more);
	sqlite3_bind_int64(stmt, 8, (int64_t)time(NULL));
	return sdb_run(s, stmt);
}

int
store_sync_begin(struct store *st, const char *device, int64_t collection,
		 uint32_t key, struct store_sync **ss_r)
{
	struct store_sync *ss;
	struct key_state from;
	int cls;

	*ss_r = NULL;
	if (collection <= 0) {
		sdb_fail(&st->sdb, STORE_NOT_FOUND, "no collection %lld",
			 (long long)collection);
		return -1;
	}
	ss = calloc(1, sizeof(*ss));
	if (ss == NULL) {
		sdb_fail(&st->sdb, STORE_IO, "out of memory");
		return -1;
	}
	if (sdb_begin(&st->sdb) < 0) {
		free(ss);
		return -1;
	}
	ss->st = st;
	ss->coll = collection;
	if (device_row(st, device, &ss->dev) < 0 ||
	    folders_class_tx(st, collection, &cls) < 0 ||
	    key_advance(st, ss->dev, collection, key, true, &from, &ss->new_key,
			&ss->replay) < 0) {
		store_sync_abort(&ss);
		return -1;
	}
	ss->initial = key == 0;
	ss->key = key;
	ss->cursor = from.cursor;
	ss->has_cutoff = from.has_cutoff;
	ss->cutoff = from.cutoff;
	ss->has_fill = from.has_fill;
	ss->fill_hi = from.fill_hi;
	ss->more = ss->replay && from.more;
	*ss_r = ss;
	return 0;
}

void
store_sync_abort(struct store_sync **ss)
{
	if (ss == NULL || *ss == NULL)
		return;
	sdb_rollback(&(*ss)->st->sdb);
	free(*ss);
	*ss = NULL;
}

int
store_sync_commit(struct store_sync **ssp, uint32_t *new_key_r)
{
	struct store_sync *ss = *ssp;
	struct store *st = ss->st;
	int ret = -1;

	struct key_state f;

	memset(&f, 0, sizeof(f));
	f.has_cutoff = ss->has_cutoff;
	f.cutoff = ss->cutoff;
	f.has_fill = ss->has_fill;
	f.fill_hi = ss->fill_hi;
	f.more = ss->more;
	/* A replay re-issues the key as it stands. */
	if (!ss->replay && key_insert(st, ss->dev, ss->coll, ss->new_key,
				      ss->cursor, &f) < 0) {
		sdb_rollback(&st->sdb);
		goto out;
	}
	if (sdb_commit(&st->sdb) < 0)
		goto out;
	if (new_key_r != NULL)
		*new_key_r = ss->new_key;
	ret = 0;
out:
	free(ss);
	*ssp = NULL;
	return ret;
}

int
store_sync_commit_commands(struct store_sync **ssp)
{
	struct store_sync *ss = *ssp;
	int ret;

	/* No key row: the device's key stays the latest (or, on a replay,
	 * the previous) one, and its view already holds its own changes. */
	ret = sdb_commit(&ss->st->sdb);
	free(ss);
	*ssp = NULL;
	return ret;
}

int
store_sync_outcome_get(struct store_sync *ss, const uint8_t *digest,
		       uint8_t **outcome_r, size_t *len_r)
{
	struct sdb *s = &ss->st->sdb;
	sqlite3_stmt *stmt;
	int rc, ret = -1;

	*outcome_r = NULL;
	*len_r = 0;
	stmt = sdb_prepare(s, "SELECT digest, outcome FROM sync_outcomes"
			      " WHERE dev = ? AND coll = ? AND key = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, ss->dev);
	sqlite3_bind_int64(stmt, 2, ss->coll);
	sqlite3_bind_int64(stmt, 3, ss->key);
	rc = sdb_step(s, stmt);
	if (rc < 0)
		return -1;
	if (rc == SQLITE_ROW &&
	    sqlite3_column_bytes(stmt, 0) == STORE_SYNC_DIGEST_BYTES &&
	    memcmp(sqlite3_column_blob(stmt, 0), digest,
		   STORE_SYNC_DIGEST_BYTES) == 0) {
		ret = sdb_col_blobdup(s, stmt, 1, outcome_r, len_r);
		sqlite3_reset(stmt);
		return ret;
	}
	if (rc == SQLITE_ROW)
		sqlite3_reset(stmt);
	sdb_fail(s, STORE_NOT_FOUND, "no outcome recorded for key %u", ss->key);
	return -1;
}

int
store_sync_outcome_put(struct store_sync *ss, const uint8_t *digest,
		       const uint8_t *outcome, size_t len)
{
	struct sdb *s = &ss->st->sdb;
	sqlite3_stmt *stmt;

	if (ss->initial || len > STORE_SYNC_OUTCOME_MAX) {
		sdb_fail(s, STORE_INVALID, "no outcome for this sync");
		return -1;
	}
	stmt = sdb_prepare(s, "INSERT OR REPLACE INTO sync_outcomes(dev, coll,"
			      " key, digest, outcome) VALUES(?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, ss->dev);
	sqlite3_bind_int64(stmt, 2, ss->coll);
	sqlite3_bind_int64(stmt, 3, ss->key);
	sqlite3_bind_blob(stmt, 4, digest, STORE_SYNC_DIGEST_BYTES,
			  SQLITE_STATIC);
	/* An empty outcome is a zero-length blob, never NULL. */
	sqlite3_bind_blob(stmt, 5, len > 0 ? (const void *)outcome : "",
			  (int)len, SQLITE_STATIC);
	return sdb_run(s, stmt);
}

/* ------------------------------------------------------------ view */

/* Records one entry of the window sent under the new key, for a replay. */
static int
journal_add(struct store_sync *ss, enum sync_op op, int64_t item_id,
	    int64_t modseq)
{
	struct sdb *s = &ss->st->sdb;
	sqlite3_stmt *stmt;

	stmt = sdb_prepare(s, "INSERT INTO sync_journal(dev, coll, key,"
			      " item_id, op, modseq)"
			      " VALUES(?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, ss->dev);
	sqlite3_bind_int64(stmt, 2, ss->coll);
	sqlite3_bind_int64(stmt, 3, ss->new_key);
	sqlite3_bind_int64(stmt, 4, item_id);
	sqlite3_bind_int(stmt, 5, (int)op);
	sqlite3_bind_int64(stmt, 6, modseq);
	return sdb_run(s, stmt);
}

/* Whether the item is in the view, and at which modseq. */
static int
view_get(struct store_sync *ss, int64_t item_id, bool *present_r,
	 int64_t *sent_r)
{
	struct sdb *s = &ss->st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	stmt = sdb_prepare(s, "SELECT sent_modseq FROM sync_view WHERE"
			      " dev = ? AND coll = ? AND item_id = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, ss->dev);
	sqlite3_bind_int64(stmt, 2, ss->coll);
	sqlite3_bind_int64(stmt, 3, item_id);
	rc = sdb_step(s, stmt);
	if (rc < 0)
		return -1;
	*present_r = rc == SQLITE_ROW;
	*sent_r = *present_r ? sqlite3_column_int64(stmt, 0) : 0;
	sqlite3_reset(stmt);
	return 0;
}

static int
view_add(struct store_sync *ss, int64_t item_id, int64_t sent)
{
	struct sdb *s = &ss->st->sdb;
	sqlite3_stmt *stmt;

	stmt = sdb_prepare(s, "INSERT INTO sync_view(dev, coll, item_id,"
			      " sent_modseq) VALUES(?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, ss->dev);
	sqlite3_bind_int64(stmt, 2, ss->coll);
	sqlite3_bind_int64(stmt, 3, item_id);
	sqlite3_bind_int64(stmt, 4, sent);
	return sdb_run(s, stmt);
}

static int
view_remove(struct store_sync *ss, int64_t item_id)
{
	return run_dc(ss->st,
		      "DELETE FROM sync_view WHERE dev = ?1 AND coll = ?2 AND"
		      " item_id = ?3",
		      ss->dev, ss->coll, item_id);
}

static int
view_set_sent(struct store_sync *ss, int64_t item_id, int64_t sent)
{
	struct sdb *s = &ss->st->sdb;
	sqlite3_stmt *stmt;

	stmt = sdb_prepare(s, "UPDATE sync_view SET sent_modseq = ? WHERE"
			      " dev = ? AND coll = ? AND item_id = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, sent);
	sqlite3_bind_int64(stmt, 2, ss->dev);
	sqlite3_bind_int64(stmt, 3, ss->coll);
	sqlite3_bind_int64(stmt, 4, item_id);
	return sdb_run(s, stmt);
}

/* ------------------------------------------------- client commands */

static int
client_op_allowed(struct store_sync *ss)
{
	if (ss->initial) {
		/* MS-ASCMD 2.2.1.21: no Commands with SyncKey 0. */
		sdb_fail(&ss->st->sdb, STORE_INVALID,
			 "client commands with sync key 0");
		return -1;
	}
	return 0;
}

/* The current modseq of an item in this collection; *found_r false if
 * it is not (or no longer) there. */
static int
item_in_coll(struct store_sync *ss, int64_t item_id, bool *found_r,
	     int64_t *modseq_r)
{
	struct sdb *s = &ss->st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	stmt = sdb_prepare(s, "SELECT modseq FROM items WHERE id = ? AND"
			      " folder_id = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, item_id);
	sqlite3_bind_int64(stmt, 2, ss->coll);
	rc = sdb_step(s, stmt);
	if (rc < 0)
		return -1;
	*found_r = rc == SQLITE_ROW;
	*modseq_r = *found_r ? sqlite3_column_int64(stmt, 0) : 0;
	sqlite3_reset(stmt);
	return 0;
}

int
store_sync_client_add(struct store_sync *ss, const char *client_id,
		      const struct item_new *item, int64_t *id_r)
{
	struct sdb *s = &ss->st->sdb;
	sqlite3_stmt *stmt;
	size_t len = client_id != NULL ? strlen(client_id) : 0;
	int64_t id, modseq, sent;
	bool found, present;
	int rc;

	if (client_op_allowed(ss) < 0)
		return -1;
	if (len == 0 || len > STORE_MAX_CLIENT_ID_BYTES) {
		sdb_fail(s, STORE_INVALID, "bad ClientId");
		return -1;
	}
	stmt = sdb_prepare(s, "SELECT item_id FROM sync_clientids WHERE"
			      " dev = ? AND coll = ? AND client_id = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, ss->dev);
	sqlite3_bind_int64(stmt, 2, ss->coll);
	sdb_bind_text(stmt, 3, client_id);
	rc = sdb_step(s, stmt);
	if (rc < 0)
		return -1;
	if (rc == SQLITE_ROW) {
		/* G4: the same Add again; answer with the first item. */
		id = sqlite3_column_int64(stmt, 0);
		sqlite3_reset(stmt);
		if (item_in_coll(ss, id, &found, &modseq) < 0 ||
		    view_get(ss, id, &present, &sent) < 0)
			return -1;
		if (found && !present && view_add(ss, id, modseq) < 0)
			return -1;
		*id_r = id;
		return 0;
	}
	if (items_add_tx(ss->st, ss->coll, item, &id, &modseq) < 0)
		return -1;
	stmt = sdb_prepare(s, "INSERT INTO sync_clientids(dev, coll,"
			      " client_id, item_id) VALUES(?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, ss->dev);
	sqlite3_bind_int64(stmt, 2, ss->coll);
	sdb_bind_text(stmt, 3, client_id);
	sqlite3_bind_int64(stmt, 4, id);
	if (sdb_run(s, stmt) < 0 || view_add(ss, id, modseq) < 0)
		return -1;
	*id_r = id;
	return 0;
}

int
store_sync_client_change(struct store_sync *ss, int64_t item_id,
			 const struct item_change *change)
{
	int64_t before, modseq, sent;
	bool found, present;

	if (client_op_allowed(ss) < 0 ||
	    item_in_coll(ss, item_id, &found, &before) < 0)
		return -1;
	if (!found) {
		/* MS-ASCMD 2.2.1.21 Sync Status 8: object not found. */
		sdb_fail(&ss->st->sdb, STORE_NOT_FOUND,
			 "no item %lld in collection", (long long)item_id);
		return -1;
	}
	if (view_get(ss, item_id, &present, &sent) < 0 ||
	    items_change_tx(ss->st, item_id, change, NULL, &modseq) < 0)
		return -1;
	/*
	 * Not echoed back when the device was up to date: it now holds the
	 * item as changed.  If a server-side change was still unsent, the
	 * item stays behind in the view and the next window sends the
	 * merged item as a Change (the server's copy wins, MS-ASCMD
	 * Conflict default).
	 */
	if (present && sent >= before)
		return view_set_sent(ss, item_id, modseq);
	return 0;
}

int
store_sync_client_delete(struct store_sync *ss, int64_t item_id,
			 int64_t trash_folder_id)
{
	int64_t modseq, sent;
	bool found, present;

	if (client_op_allowed(ss) < 0 ||
	    item_in_coll(ss, item_id, &found, &modseq) < 0 ||
	    view_get(ss, item_id, &present, &sent) < 0)
		return -1;
	if (!found && !present) {
		if (ss->replay)
			return 0; /* the re-sent request's delete: done */
		sdb_fail(&ss->st->sdb, STORE_NOT_FOUND,
			 "no item %lld in collection", (long long)item_id);
		return -1;
	}
	if (found && trash_folder_id != 0 && trash_folder_id != ss->coll) {
		if (items_move_tx(ss->st, item_id, trash_folder_id, NULL,
				  NULL) < 0)
			return -1;
	} else if (found) {
		if (items_delete_tx(ss->st, item_id, NULL) < 0)
			return -1;
	}
	return present ? view_remove(ss, item_id) : 0;
}

/* ----------------------------------------------------------- window */

struct window_ctx {
	struct store_sync *ss;
	size_t limit;
	struct sync_entry *entries; /* NULL when only counting */
	size_t count;
	bool more;
};

/* One entry of the window: the view follows, the journal remembers. */
static int
window_emit(struct window_ctx *w, enum sync_op op, int64_t item_id,
	    int64_t modseq)
{
	int rc;

	switch (op) {
	case SYNC_OP_ADD:
		rc = view_add(w->ss, item_id, modseq);
		break;
	case SYNC_OP_CHANGE:
		rc = view_set_sent(w->ss, item_id, modseq);
		break;
	default:
		rc = view_remove(w->ss, item_id);
		break;
	}
	if (rc < 0 || journal_add(w->ss, op, item_id, modseq) < 0)
		return -1;
	if (w->entries != NULL) {
		w->entries[w->count].op = op;
		w->entries[w->count].item_id = item_id;
		w->entries[w->count].modseq = modseq;
	}
	w->count++;
	return 0;
}

struct range_row {
	int64_t item_id;
	int64_t modseq;
	int64_t sent;
};

/*
 * One date range of the (folder, date) index: O(items in the range), not
 * the folder.  narrow: items of the view dated in [lo, hi) leave as
 * SoftDelete; otherwise items dated in [lo, hi) missing from the view
 * arrive as Add.  Returns 1 when the whole range was applied, 0 when the
 * window filled first (MoreAvailable).
 */
static int
window_range(struct window_ctx *w, bool narrow, int64_t lo, int64_t hi)
{
	static const char sql_narrow[] =
	    "SELECT i.id, i.modseq, v.sent_modseq FROM items i JOIN sync_view v"
	    " ON v.dev = ?1 AND v.coll = ?2 AND v.item_id = i.id"
	    " WHERE i.folder_id = ?2 AND i.date >= ?3 AND i.date < ?4"
	    " ORDER BY i.date LIMIT ?5";
	static const char sql_widen[] =
	    "SELECT i.id, i.modseq, 0 FROM items i WHERE i.folder_id = ?2"
	    " AND i.date >= ?3 AND i.date < ?4 AND NOT EXISTS (SELECT 1"
	    " FROM sync_view v WHERE v.dev = ?1 AND v.coll = ?2 AND"
	    " v.item_id = i.id) ORDER BY i.date DESC LIMIT ?5";
	struct sdb *s = &w->ss->st->sdb;
	struct range_row *rows = NULL;
	size_t n = 0, cap = 0, room = w->limit - w->count;
	sqlite3_stmt *stmt;
	int rc, ret = -1;

	stmt = sdb_prepare(s, narrow ? sql_narrow : sql_widen);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, w->ss->dev);
	sqlite3_bind_int64(stmt, 2, w->ss->coll);
	sqlite3_bind_int64(stmt, 3, lo);
	sqlite3_bind_int64(stmt, 4, hi);
	/* room + 1 rows tell whether the range fits in the window. */
	sqlite3_bind_int64(stmt, 5,
			   room >= (size_t)INT64_MAX ? -1 : (int64_t)room + 1);
	while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		struct range_row *nr;

		if (n == cap) {
			cap = cap == 0 ? 64 : 2 * cap;
			nr = realloc(rows, cap * sizeof(*rows));
			if (nr == NULL) {
				sqlite3_reset(stmt);
				sdb_fail(s, STORE_IO, "out of memory");
				goto out;
			}
			rows = nr;
		}
		rows[n].item_id = sqlite3_column_int64(stmt, 0);
		rows[n].modseq = sqlite3_column_int64(stmt, 1);
		rows[n].sent = sqlite3_column_int64(stmt, 2);
		n++;
	}
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < n && i < room; i++)
		if (window_emit(w, narrow ? SYNC_OP_SOFT_DELETE : SYNC_OP_ADD,
				rows[i].item_id, rows[i].modseq) < 0)
			goto out;
	if (n > room) {
		w->more = true;
		ret = 0;
	} else {
		ret = 1;
	}
out:
	free(rows);
	return ret;
}

/* A FilterType cutoff as the lower bound of a date range (0: none). */
static int64_t
range_lo(int64_t cutoff)
{
	return cutoff == 0 ? INT64_MIN : cutoff;
}

/* Whether cutoff a keeps fewer dates than cutoff b. */
static bool
narrower(int64_t a, int64_t b)
{
	return a != 0 && (b == 0 || a > b);
}

/*
 * FilterType changes, before the change log is walked.  The key keeps a
 * floor (no item of the view is older) and, after a widening, the range
 * [floor, fill_hi) that may still lack items.  Narrowing to f soft-deletes
 * the view's items in [floor, f); widening to f moves the floor down and
 * extends the range to fill; filling adds the missing items.  Each step
 * is a date range; if the window fills during one, the state recorded so
 * far stays true and the next Sync resumes.  Returns 1 when done, 0 when
 * the window is full.
 */
static int
window_filter(struct window_ctx *w, int64_t f)
{
	struct store_sync *ss = w->ss;
	int rc;

	if (narrower(f, ss->cutoff)) {
		rc = window_range(w, true, range_lo(ss->cutoff), f);
		if (rc <= 0)
			return rc;
		ss->cutoff = f;
		if (ss->has_fill && !narrower(ss->fill_hi, f))
			ss->has_fill = false; /* the gap is out of window */
	} else if (narrower(ss->cutoff, f)) {
		if (!ss->has_fill) {
			ss->has_fill = true;
			ss->fill_hi = ss->cutoff;
		}
		ss->cutoff = f;
	}
	if (ss->has_fill) {
		rc = window_range(w, false, range_lo(ss->cutoff), ss->fill_hi);
		if (rc <= 0)
			return rc;
		ss->has_fill = false;
	}
	return 1;
}

struct scan_row {
	int64_t item_id;
	int64_t modseq;
	bool exists;
	int64_t date;
	bool in_view;
	int64_t sent;
};

static bool
in_window(int64_t date, int64_t cutoff)
{
	return cutoff == 0 || date >= cutoff;
}

static enum sync_op
classify(const struct scan_row *r, int64_t cutoff)
{
	if (r->exists && in_window(r->date, cutoff)) {
		if (!r->in_view)
			return SYNC_OP_ADD;
		return r->modseq > r->sent ? SYNC_OP_CHANGE : 0;
	}
	if (!r->in_view)
		return 0;
	return r->exists ? SYNC_OP_SOFT_DELETE : SYNC_OP_DELETE;
}

/*
 * Walks the change log from the cursor, in batches: each change is an Add,
 * Change, Delete or SoftDelete against the view, or nothing (already
 * known, or outside the window and not held).  The cursor advances only
 * over changes that were included or skipped, so MoreAvailable resumes
 * exactly there.
 */
static int
window_scan(struct window_ctx *w, int64_t cutoff)
{
	struct sdb *s = &w->ss->st->sdb;
	struct scan_row rows[SYNC_SCAN_BATCH];
	sqlite3_stmt *stmt;
	size_t n;
	int rc;

	for (;;) {
		stmt = sdb_prepare(
		    s, "SELECT c.item_id, c.modseq, i.id IS NOT NULL, i.date,"
		       " v.item_id IS NOT NULL, v.sent_modseq FROM changes c"
		       " LEFT JOIN items i ON i.id = c.item_id AND"
		       " i.folder_id = c.folder_id"
		       " LEFT JOIN sync_view v ON v.dev = ?1 AND v.coll = ?2"
		       " AND v.item_id = c.item_id"
		       " WHERE c.folder_id = ?2 AND c.modseq > ?3"
		       " ORDER BY c.modseq LIMIT ?4");
		if (stmt == NULL)
			return -1;
		sqlite3_bind_int64(stmt, 1, w->ss->dev);
		sqlite3_bind_int64(stmt, 2, w->ss->coll);
		sqlite3_bind_int64(stmt, 3, w->ss->cursor);
		sqlite3_bind_int(stmt, 4, SYNC_SCAN_BATCH);
		n = 0;
		while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
			rows[n].item_id = sqlite3_column_int64(stmt, 0);
			rows[n].modseq = sqlite3_column_int64(stmt, 1);
			rows[n].exists = sqlite3_column_int(stmt, 2) != 0;
			rows[n].date = sqlite3_column_int64(stmt, 3);
			rows[n].in_view = sqlite3_column_int(stmt, 4) != 0;
			rows[n].sent = sqlite3_column_int64(stmt, 5);
			n++;
		}
		if (rc < 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			enum sync_op op = classify(&rows[i], cutoff);

			if (op != 0) {
				if (w->count == w->limit) {
					w->more = true;
					return 0;
				}
				if (window_emit(w, op, rows[i].item_id,
						rows[i].modseq) < 0)
					return -1;
			}
			w->ss->cursor = rows[i].modseq;
		}
		if (n < SYNC_SCAN_BATCH)
			return 0;
	}
}

/* The window computation shared by fetch and estimate. */
static int
window_compute(struct window_ctx *w, int64_t f)
{
	struct store_sync *ss = w->ss;
	int rc;

	if (f < 0)
		f = 0;
	if (!ss->has_cutoff) {
		/* First window: the change log from 0 covers every item. */
		ss->has_cutoff = true;
		ss->cutoff = f;
	}
	rc = window_filter(w, f);
	if (rc <= 0)
		return rc; /* error, or the window is full */
	return window_scan(w, f);
}

/*
 * The window a key already sent, again: its journal in order.  An Add or
 * Change of an item no longer in the collection (deleted or moved since)
 * is left out: there is nothing to send, and the device's view, which
 * holds it, gets its Delete from the next window.
 */
static int
window_replay(struct window_ctx *w)
{
	struct store_sync *ss = w->ss;
	struct sdb *s = &ss->st->sdb;
	struct sync_entry *e = NULL, *n;
	size_t count = 0, cap = 0;
	sqlite3_stmt *stmt;
	int rc, ret = -1;

	stmt = sdb_prepare(s, "SELECT op, item_id, modseq FROM sync_journal"
			      " WHERE dev = ? AND coll = ? AND key = ?"
			      " ORDER BY seq");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, ss->dev);
	sqlite3_bind_int64(stmt, 2, ss->coll);
	sqlite3_bind_int64(stmt, 3, ss->new_key);
	while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap == 0 ? 64 : 2 * cap;
			n = realloc(e, cap * sizeof(*e));
			if (n == NULL) {
				sqlite3_reset(stmt);
				sdb_fail(s, STORE_IO, "out of memory");
				goto out;
			}
			e = n;
		}
		e[count].op = (enum sync_op)sqlite3_column_int(stmt, 0);
		e[count].item_id = sqlite3_column_int64(stmt, 1);
		e[count].modseq = sqlite3_column_int64(stmt, 2);
		count++;
	}
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < count; i++) {
		int64_t modseq;
		bool found = true;

		if ((e[i].op == SYNC_OP_ADD || e[i].op == SYNC_OP_CHANGE) &&
		    item_in_coll(ss, e[i].item_id, &found, &modseq) < 0)
			goto out;
		if (!found)
			continue;
		if (w->entries != NULL && w->count < w->limit)
			w->entries[w->count] = e[i];
		w->count++;
	}
	w->more = ss->more;
	ret = 0;
out:
	free(e);
	return ret;
}

int
store_sync_fetch(struct store_sync *ss, uint32_t window_size,
		 int64_t filter_cutoff, struct sync_window *w_r)
{
	struct sdb *s = &ss->st->sdb;
	struct window_ctx w;

	memset(w_r, 0, sizeof(*w_r));
	if (ss->initial || ss->fetched || window_size == 0 ||
	    window_size > STORE_MAX_WINDOW_SIZE) {
		sdb_fail(s, STORE_INVALID, "no window for this sync");
		return -1;
	}
	memset(&w, 0, sizeof(w));
	w.ss = ss;
	/* A replay answers the whole window sent the first time, whatever
	 * the size asked now (a re-sent request asks the same). */
	w.limit = ss->replay ? STORE_MAX_WINDOW_SIZE : window_size;
	w.entries = calloc(w.limit, sizeof(*w.entries));
	if (w.entries == NULL) {
		sdb_fail(s, STORE_IO, "out of memory");
		return -1;
	}
	ss->fetched = true;
	if (ss->replay) {
		if (window_replay(&w) < 0) {
			free(w.entries);
			return -1;
		}
	} else if (window_compute(&w, filter_cutoff) < 0) {
		free(w.entries);
		return -1;
	}
	ss->more = w.more;
	w_r->entries = w.entries;
	w_r->count = w.count;
	w_r->more_available = w.more;
	return 0;
}

/* --------------------------------------------- estimate, ping, misc */

int
store_sync_estimate(struct store *st, const char *device, int64_t collection,
		    uint32_t key, int64_t filter_cutoff, int64_t *count_r)
{
	struct store_sync *ss = NULL;
	struct window_ctx w;
	int64_t dev;
	int ret = -1;

	/* MS-ASCMD 2.2.1.9: an estimate needs a synced collection. */
	if (key == 0 || device_find(st, device, &dev) < 0) {
		sdb_fail(&st->sdb, STORE_INVALID, "invalid sync key %u", key);
		return -1;
	}
	if (store_sync_begin(st, device, collection, key, &ss) < 0)
		return -1;
	memset(&w, 0, sizeof(w));
	w.ss = ss;
	w.limit = SIZE_MAX;
	/* From the previous key: the replayed window, then what follows. */
	if (ss->replay && window_replay(&w) < 0)
		goto out;
	if (window_compute(&w, filter_cutoff) < 0)
		goto out;
	*count_r = (int64_t)w.count;
	ret = 0;
out:
	/* Computed as a real window from the key's state, then undone: the
	 * estimate is exactly what the next Sync with this key sends. */
	store_sync_abort(&ss);
	return ret;
}

int
store_sync_pending(struct store *st, const char *device, int64_t collection,
		   bool *pending_r)
{
	struct key_state k;
	int64_t dev, modseq, count;

	*pending_r = false;
	if (device_find(st, device, &dev) < 0 ||
	    key_load(st, dev, collection, true, 0, &k) < 0 ||
	    store_folder_modseq(st, collection, &modseq) < 0)
		return -1;
	if (k.key == 0) {
		*pending_r = true; /* never synced: the client should */
		return 0;
	}
	if (modseq <= k.cursor)
		return 0;
	/* Something was logged since: is it news to this device (not its
	 * own change)?  O(changes since the cursor). */
	if (store_sync_estimate(st, device, collection, k.key,
				k.has_cutoff ? k.cutoff : 0, &count) < 0)
		return -1;
	*pending_r = count > 0;
	return 0;
}

int
store_sync_client_move(struct store *st, const char *device, int64_t item_id,
		       int64_t dst_folder_id, int64_t *modseq_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int64_t dev, src, modseq;

	if (sdb_begin(s) < 0)
		return -1;
	if (device_row(st, device, &dev) < 0 ||
	    items_move_tx(st, item_id, dst_folder_id, &src, &modseq) < 0)
		goto fail;
	/* Outside any key's journal: this is the device's own state, which
	 * no re-sent key can take back. */
	if (run_dc(st,
		   "DELETE FROM sync_view WHERE dev = ?1 AND coll = ?2 AND"
		   " item_id = ?3",
		   dev, src, item_id) < 0)
		goto fail;
	stmt = sdb_prepare(s, "INSERT OR REPLACE INTO sync_view(dev, coll,"
			      " item_id, sent_modseq) SELECT ?1, ?2, ?3, ?4"
			      " WHERE EXISTS (SELECT 1 FROM sync_keys WHERE"
			      " dev = ?1 AND coll = ?2)");
	if (stmt == NULL)
		goto fail;
	sqlite3_bind_int64(stmt, 1, dev);
	sqlite3_bind_int64(stmt, 2, dst_folder_id);
	sqlite3_bind_int64(stmt, 3, item_id);
	sqlite3_bind_int64(stmt, 4, modseq);
	if (sdb_run(s, stmt) < 0)
		goto fail;
	if (sdb_commit(s) < 0)
		return -1;
	if (modseq_r != NULL)
		*modseq_r = modseq;
	return 0;
fail:
	sdb_rollback(s);
	return -1;
}

int
store_changes_compact(struct store *st, int64_t *removed_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;

	stmt = sdb_prepare(
	    s, "DELETE FROM changes WHERE kind = 3 AND modseq <= coalesce("
	       "(SELECT min(k.cursor) FROM sync_keys k WHERE"
	       " k.coll = changes.folder_id), 9223372036854775807)");
	if (stmt == NULL)
		return -1;
	if (sdb_run(s, stmt) < 0)
		return -1;
	if (removed_r != NULL)
		*removed_r = sdb_changes(s);
	return 0;
}

int
store_sync_forget_device(struct store *st, const char *device)
{
	static const char *const sqls[] = {
	    "DELETE FROM sync_view WHERE dev = ?1",
	    "DELETE FROM sync_journal WHERE dev = ?1",
	    "DELETE FROM sync_clientids WHERE dev = ?1",
	    "DELETE FROM sync_outcomes WHERE dev = ?1",
	    "DELETE FROM sync_hier_own WHERE dev = ?1",
	    "DELETE FROM sync_keys WHERE dev = ?1",
	    "DELETE FROM sync_devices WHERE id = ?1",
	};
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int64_t dev;

	if (sdb_begin(s) < 0)
		return -1;
	if (device_find(st, device, &dev) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++) {
		stmt = sdb_prepare(s, sqls[i]);
		if (stmt == NULL)
			goto fail;
		sqlite3_bind_int64(stmt, 1, dev);
		if (sdb_run(s, stmt) < 0)
			goto fail;
	}
	return sdb_commit(s);
fail:
	sdb_rollback(s);
	return -1;
}

/* Own changes at or below the cursor of every hierarchy key the device
 * may still send are part of those keys' state: no longer needed. */
static int
hier_own_prune(struct store *st, int64_t dev)
{
	return run_dc(st,
		      "DELETE FROM sync_hier_own WHERE dev = ?1 AND hmodseq <="
		      " (SELECT min(cursor) FROM sync_keys WHERE dev = ?1 AND"
		      " coll = ?2)",
		      dev, 0, 0);
}

int
store_hier_own_change(struct store *st, const char *device, uint32_t key,
		      int64_t hmodseq, uint32_t *new_key_r)
{
	struct sdb *s = &st->sdb;
	struct key_state from;
	sqlite3_stmt *stmt;
	uint32_t new_key;
	int64_t dev;
	bool replay;

	if (sdb_begin(s) < 0)
		return -1;
	if (device_row(st, device, &dev) < 0 ||
	    key_advance(st, dev, 0, key, false, &from, &new_key, &replay) < 0)
		goto fail;
	stmt = sdb_prepare(s, "INSERT OR IGNORE INTO sync_hier_own(dev,"
			      " hmodseq) VALUES(?, ?)");
	if (stmt == NULL)
		goto fail;
	sqlite3_bind_int64(stmt, 1, dev);
	sqlite3_bind_int64(stmt, 2, hmodseq);
	/* The new key continues from the old key's cursor: changes made by
	 * others in between are still reported to this device. */
	if (sdb_run(s, stmt) < 0 ||
	    key_insert(st, dev, 0, new_key, from.cursor, NULL) < 0 ||
	    hier_own_prune(st, dev) < 0)
		goto fail;
	if (sdb_commit(s) < 0)
		return -1;
	*new_key_r = new_key;
	return 0;
fail:
	sdb_rollback(s);
	return -1;
}

int
store_hier_pending(struct store *st, const char *device, bool *changed_r)
{
	struct sdb *s = &st->sdb;
	struct key_state k;
	sqlite3_stmt *stmt;
	int64_t dev;
	int rc;

	*changed_r = true;
	if (device_find(st, device, &dev) < 0) {
		/* No state at all: the device has not run FolderSync. */
		return store_last_error(st)->status == STORE_INVALID ? 0 : -1;
	}
	if (key_load(st, dev, 0, true, 0, &k) < 0)
		return -1;
	if (k.key == 0)
		return 0;
	/* What its next FolderSync would report, without building it:
	 * O(hierarchy changes since the cursor), on the hmodseq index. */
	stmt = sdb_prepare(
	    s, "SELECT EXISTS (SELECT 1 FROM folders f WHERE f.hmodseq > ?1"
	       " AND NOT EXISTS (SELECT 1 FROM sync_hier_own o WHERE"
	       " o.dev = ?2 AND o.hmodseq = f.hmodseq) AND (f.deleted = 0"
	       " OR f.created_hmodseq <= ?1 OR EXISTS (SELECT 1 FROM"
	       " sync_hier_own o WHERE o.dev = ?2 AND"
	       " o.hmodseq = f.created_hmodseq)))");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, k.cursor);
	sqlite3_bind_int64(stmt, 2, dev);
	rc = sdb_step(s, stmt);
	if (rc != SQLITE_ROW)
		return -1;
	*changed_r = sqlite3_column_int(stmt, 0) != 0;
	sqlite3_reset(stmt);
	return 0;
}

int
store_foldersync(struct store *st, const char *device, uint32_t key,
		 struct folder_changes **ch_r, uint32_t *new_key_r)
{
	struct key_state from;
	struct folder_changes *ch = NULL;
	uint32_t new_key;
	int64_t dev;
	bool replay;

	*ch_r = NULL;
	if (sdb_begin(&st->sdb) < 0)
		return -1;
	if (device_row(st, device, &dev) < 0 ||
	    key_advance(st, dev, 0, key, false, &from, &new_key, &replay) < 0 ||
	    folder_changes_for(st, dev, from.cursor, &ch) < 0 ||
	    key_insert(st, dev, 0, new_key, ch->hmodseq, NULL) < 0 ||
	    hier_own_prune(st, dev) < 0) {
		sdb_rollback(&st->sdb);
		folder_changes_free(&ch);
		return -1;
	}
	if (sdb_commit(&st->sdb) < 0) {
		folder_changes_free(&ch);
		return -1;
	}
	*ch_r = ch;
	*new_key_r = new_key;
	return 0;
}
