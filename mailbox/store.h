/*
 * The mailbox store: the durable heart of easd-mailbox.  One SQLite
 * database per user (data_dir/users/<shard>/<user id>.db) holds that user's
 * folders, items, change log, per-device sync state and send queue; one
 * directory database (data_dir/directory.db, see directory.h) holds users,
 * addresses, devices, policies and access rules.  Every database runs in
 * WAL mode with synchronous=FULL, so a commit is durable before any caller
 * acknowledges it (reliability.md G1), and foreign keys on.
 *
 * Threading: a handle is confined to the thread that opened it (one worker
 * per shard of users); nothing here locks.  Errors: every fallible call
 * returns 0 or -1; after -1 the handle's last error (store_last_error) holds
 * a small status enum and a message.  Open functions, which have no handle
 * yet, fill a caller's struct store_error.
 *
 * The API of the user database is split by concept: folders.h, items.h,
 * syncstate.h (per-device sync keys and views), and the send queue below.
 * All SQL lives in mailbox/store*.c, the only files that include sqlite3.h.
 */
#ifndef EASD_MAILBOX_STORE_H
#define EASD_MAILBOX_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_status {
	STORE_OK = 0,
	STORE_NOT_FOUND, /* no such user, folder, item, device, key */
	STORE_EXISTS,    /* a name or id that must be unique already is */
	STORE_INVALID,   /* bad argument, wrong class, invalid sync key */
	STORE_DENIED,    /* special folder, disabled user, bad password */
	STORE_FULL,      /* disk full (SQLITE_FULL) */
	STORE_IO,        /* I/O error or out of memory */
	STORE_BUSY,      /* database locked past the busy timeout */
	STORE_CORRUPT,   /* the database file is damaged */
};

struct store_error {
	enum store_status status;
	char msg[256];
};

/* "ok", "not found", ...: for logs and easctl. */
const char *store_status_name(enum store_status status);

/*
 * Fault injection (style.md, reliability.md "injected SQLite I/O errors"):
 * make the nth_step-th following sqlite3_step or exec fail with the given
 * SQLite result code (SQLITE_FULL = 13 or SQLITE_IOERR = 10); 0 disarms.
 * Process-global and inert unless armed; tests only.
 */
void store_fault_inject(int nth_step, int sqlite_error);

/* One user's database. */
struct store;

/*
 * Opens (creating if needed, with the default folders) the database of
 * user_id under data_dir and applies pending schema migrations in order.
 * No integrity check at open: WAL recovery is automatic (G7).
 */
int store_open(const char *data_dir, int64_t user_id, struct store **st_r,
	       struct store_error *error_r);
void store_close(struct store **st);
const struct store_error *store_last_error(const struct store *st);
int64_t store_user_id(const struct store *st);
/* The schema version (PRAGMA user_version) of the open database. */
int store_schema_version(struct store *st, int *version_r);
/*
 * Groups several calls into one transaction and one durable commit (bulk
 * import, group commit of several operations).  Calls inside keep their
 * all-or-nothing behaviour (they become savepoints); nothing is durable
 * before store_tx_commit.  Keep groups short: the user's database is
 * locked for writers meanwhile.
 */
int store_tx_begin(struct store *st);
int store_tx_commit(struct store *st);
void store_tx_rollback(struct store *st);
/* PRAGMA integrity_check: 0 when "ok", -1 with STORE_CORRUPT otherwise. */
int store_check(struct store *st);
/* The path of a user's database: data_dir/users/<2 hex of a hash>/<id>.db */
int store_user_path(const char *data_dir, int64_t user_id, char *path,
		    size_t size);
/* Deletes a user's database files (after store_dir_user_del). */
int store_user_remove(const char *data_dir, int64_t user_id,
		      struct store_error *error_r);

/*
 * Send queue (in the user's database, so that queuing a message and saving
 * its copy in Sent Items are one transaction).  The daemon relays due
 * entries and marks them sent or failed; an entry survives a crash until it
 * is marked sent, so a crash mid-send means at worst a duplicate (G2).
 */
enum store_queue_state {
	STORE_QUEUE_PENDING = 0,
	STORE_QUEUE_FAILED = 1, /* gave up: bounced to the user */
};

struct store_queue_entry {
	int64_t id;
	char *mail_from;
	char *rcpts; /* newline-separated envelope recipients */
	uint8_t *mime;
	size_t mime_len;
	bool save_in_sent;
	int attempts;
	int64_t next_attempt; /* unix seconds */
	enum store_queue_state state;
	char *last_error;
	/* The Sent Items copy when it differs from mime (it keeps Bcc);
	 * NULL: save mime. */
	uint8_t *saved;
	size_t saved_len;
};

int store_queue_add(struct store *st, const char *mail_from, const char *rcpts,
		    const uint8_t *mime, size_t mime_len, bool save_in_sent,
		    int64_t now, int64_t *id_r);
/* The oldest pending entry due at now; STORE_NOT_FOUND when none. */
int store_queue_next_due(struct store *st, int64_t now,
			 struct store_queue_entry *entry_r);
int store_queue_done(struct store *st, int64_t id);
/* Records a failed attempt: retry at next_attempt, or give up (FAILED). */
int store_queue_failed(struct store *st, int64_t id, const char *error,
		       int64_t next_attempt, bool give_up);
int store_queue_count(struct store *st, int64_t *pending_r);
void store_queue_entry_clear(struct store_queue_entry *entry);

/* A message to queue with its own Sent Items copy (mailbox/compose.h
 * composes both: the relayed bytes without Bcc, the saved ones with it). */
struct store_queue_msg {
	const char *mail_from;
	const char *rcpts; /* newline-separated */
	const uint8_t *mime;
	size_t mime_len;
	const uint8_t *saved; /* NULL: save mime */
	size_t saved_len;
	bool save_in_sent;
};
/* Both record, in the same transaction, the outside recipients of a
 * message with a non-null sender as the user's correspondents (Oof
 * AppliesToExternalKnown, mailbox/oof.h). */
int store_queue_put(struct store *st, const struct store_queue_msg *msg,
		    int64_t now, int64_t *id_r);

/*
 * Submit de-duplication (MS-ASCMD 2.2.3.28.1 ClientId): the (device,
 * ClientId) pairs of queued messages, kept STORE_SUBMIT_CLIENT_ID_KEEP_S
 * after queuing.  Record them in the transaction that queues the message
 * (store_tx_begin ... store_queue_put, store_submit_record ... commit), so
 * that a retry after a lost answer or a restart finds them.  Keyed by
 * device: ClientIds are per-device counters, and two devices' counters
 * colliding must never suppress a message.
 */
#define STORE_SUBMIT_CLIENT_ID_KEEP_S (30 * 24 * 3600)
int store_submit_seen(struct store *st, const char *device,
		      const char *client_id, bool *seen_r);
/* Records the pair (STORE_EXISTS if present) and prunes expired ones. */
int store_submit_record(struct store *st, const char *device,
			const char *client_id, int64_t now);

#endif
