/*
 * The SQL schemas of the user database and the directory database, as
 * ordered migrations: migrations[i] brings PRAGMA user_version from i to
 * i+1 (store.c applies them at open, one transaction each).  Never edit a
 * released migration; append a new one.  Ids are AUTOINCREMENT so that an
 * id is never reused after a delete (G5).
 */
#include "mailbox/store_int.h"

/* MS-ASCMD 2.2.3.186.3 (FolderSync Type): 2 Inbox, 3 Drafts, 4 Deleted
 * Items, 5 Sent Items, 6 Outbox, 7 Tasks, 8 Calendar, 9 Contacts, 10 Notes;
 * Junk Email is a user mail folder (12) under the root, marked special so it
 * cannot be deleted.  Classes: 1 Email, 2 Calendar, 3 Contacts, 4 Tasks,
 * 5 Notes (enum item_class). */
static const char user_v1[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
    " WITHOUT ROWID;"
    "INSERT INTO meta VALUES('hier_modseq', 1);"
    /* A folder row is also its own hierarchy change record: hmodseq is the
     * hierarchy modseq of its last change, created_hmodseq of its
     * creation, deleted a tombstone kept for FolderSync. */
    "CREATE TABLE folders("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " parent_id INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " type INTEGER NOT NULL,"
    " class INTEGER NOT NULL,"
    " special INTEGER NOT NULL DEFAULT 0,"
    " modseq INTEGER NOT NULL DEFAULT 0,"
    " created_hmodseq INTEGER NOT NULL,"
    " hmodseq INTEGER NOT NULL,"
    " deleted INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX folders_name ON folders(parent_id,"
    " name COLLATE NOCASE) WHERE deleted = 0;"
    "CREATE INDEX folders_hmodseq ON folders(hmodseq);"
    "INSERT INTO folders(parent_id, name, type, class, special,"
    " created_hmodseq, hmodseq) VALUES"
    " (0, 'Inbox', 2, 1, 1, 1, 1),"
    " (0, 'Drafts', 3, 1, 1, 1, 1),"
    " (0, 'Deleted Items', 4, 1, 1, 1, 1),"
    " (0, 'Sent Items', 5, 1, 1, 1, 1),"
    " (0, 'Outbox', 6, 1, 1, 1, 1),"
    " (0, 'Tasks', 7, 4, 1, 1, 1),"
    " (0, 'Calendar', 8, 2, 1, 1, 1),"
    " (0, 'Contacts', 9, 3, 1, 1, 1),"
    " (0, 'Notes', 10, 5, 1, 1, 1),"
    " (0, 'Junk Email', 12, 1, 1, 1, 1);"
    /* Items of every class.  date is what FilterType compares (received
     * for mail, end time for calendar, ...); modseq is the folder modseq
     * of the item's last change. */
    "CREATE TABLE items("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " folder_id INTEGER NOT NULL REFERENCES folders(id),"
    " class INTEGER NOT NULL,"
    " modseq INTEGER NOT NULL,"
    " date INTEGER NOT NULL,"
    " read INTEGER NOT NULL DEFAULT 0,"
    " flag_status INTEGER NOT NULL DEFAULT 0,"
    " flag_start INTEGER NOT NULL DEFAULT 0,"
    " flag_due INTEGER NOT NULL DEFAULT 0,"
    " flag_complete INTEGER NOT NULL DEFAULT 0,"
    " categories TEXT,"
    " last_verb INTEGER NOT NULL DEFAULT 0,"
    " last_verb_time INTEGER NOT NULL DEFAULT 0,"
    " importance INTEGER NOT NULL DEFAULT 1,"
    " size INTEGER NOT NULL DEFAULT 0,"
    " props BLOB,"
    " mime BLOB);"
    "CREATE INDEX items_folder_date ON items(folder_id, date);"
    "CREATE TABLE attachments("
    " item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL,"
    " data BLOB NOT NULL,"
    " PRIMARY KEY(item_id, idx)) WITHOUT ROWID;"
    /* The change log, compacted: one row per (folder, item), holding the
     * item's latest change in that folder; kind 3 (delete) rows are the
     * tombstones.  "Changes since M" is a range scan of changes_modseq. */
    "CREATE TABLE changes("
    " folder_id INTEGER NOT NULL,"
    " item_id INTEGER NOT NULL,"
    " modseq INTEGER NOT NULL,"
    " kind INTEGER NOT NULL,"
    " PRIMARY KEY(folder_id, item_id)) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX changes_modseq ON changes(folder_id, modseq);"
    /* Per-device sync state (syncstate.h).  coll 0 is the folder
     * hierarchy (FolderSync); other colls are folder ids. */
    "CREATE TABLE sync_devices("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " device TEXT NOT NULL UNIQUE);"
    "CREATE TABLE sync_keys("
    " dev INTEGER NOT NULL REFERENCES sync_devices(id) ON DELETE CASCADE,"
    " coll INTEGER NOT NULL,"
    " key INTEGER NOT NULL,"
    " cursor INTEGER NOT NULL,"
    " cutoff INTEGER,"
    " fill_hi INTEGER,"
    " more INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL,"
    " PRIMARY KEY(dev, coll, key)) WITHOUT ROWID;"
    /* For tombstone compaction: the lowest cursor of a folder. */
    "CREATE INDEX sync_keys_coll ON sync_keys(coll, cursor);"
    "CREATE TABLE sync_view("
    " dev INTEGER NOT NULL,"
    " coll INTEGER NOT NULL,"
    " item_id INTEGER NOT NULL,"
    " sent_modseq INTEGER NOT NULL,"
    " PRIMARY KEY(dev, coll, item_id)) WITHOUT ROWID;"
    "CREATE TABLE sync_journal("
    " seq INTEGER PRIMARY KEY,"
    " dev INTEGER NOT NULL,"
    " coll INTEGER NOT NULL,"
    " key INTEGER NOT NULL,"
    " item_id INTEGER NOT NULL,"
    " op INTEGER NOT NULL,"
    " modseq INTEGER NOT NULL);"
    "CREATE INDEX sync_journal_key ON sync_journal(dev, coll, key);"
    "CREATE TABLE sync_clientids("
    " dev INTEGER NOT NULL,"
    " coll INTEGER NOT NULL,"
    " client_id TEXT NOT NULL,"
    " item_id INTEGER NOT NULL,"
    " PRIMARY KEY(dev, coll, client_id)) WITHOUT ROWID;"
    "CREATE TABLE send_queue("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " mail_from TEXT NOT NULL,"
    " rcpts TEXT NOT NULL,"
    " mime BLOB NOT NULL,"
    " save_in_sent INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt INTEGER NOT NULL,"
    " state INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL,"
    " last_error TEXT);"
    "CREATE INDEX send_queue_due ON send_queue(state, next_attempt);";

/*
 * v2: the full-text index of email items (search.h, store_search.c).  A
 * regular FTS5 table: it keeps its own copy of the text so that a delete
 * needs no old values (SQLite 3.40 has no contentless_delete); the price
 * is the indexed text stored twice.
 *
 * Its rowid is not the item id but a key that sorts by date:
 * (DateReceived clamped to 0..2^33-1) << 30 | item id.  FTS5 walks a
 * doclist in rowid order and honours rowid ranges, so "newest first, one
 * page, with the total" and the date bounds need no look-up of the items
 * table per match; only the page's hits are looked up (for their folder).
 * Items with ids of 2^30 and beyond (a billion items in one mailbox) are
 * not indexed: their key would collide.  The column folder holds the token
 * "f<folder id>", so that a folder scope is one more doclist to intersect;
 * the user's words are only ever matched against the four text columns.
 *
 * easd_search_field(props, column) is an application function that
 * store_search.c registers on every connection before migrations run: it
 * parses the props blob and returns subject, sender, recipients or body
 * text.  The triggers make the index commit with the item (G1) on every
 * path, including folder deletes and a Sync's client commands; new
 * properties re-index the item, a move or a new date copies its indexed
 * text under the new key.  Trade-off: a connection without the function
 * (the sqlite3 shell; every connection of an easd process has it) can read
 * this database, move and delete mail, but not add mail or change its
 * properties.  The last statement indexes the mail of a database created
 * before v2.  Prefix indexes of 2 and 3 characters keep short prefix
 * queries ("me*") from merging thousands of doclists.  The key expression
 * ((min(max(date, 0), 8589934591) << 30) | id) is repeated in each
 * trigger; store_search.c decodes it (SEARCH_KEY_*).
 */
static const char user_v2[] =
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    " subject, sender, recipients, body, folder,"
    " tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');"
    "CREATE TRIGGER search_items_add AFTER INSERT ON items"
    " WHEN new.class = 1 AND new.id < 1073741824 BEGIN"
    " INSERT INTO search_fts(rowid, subject, sender, recipients, body,"
    " folder) SELECT"
    " ((min(max(new.date, 0), 8589934591) << 30) | new.id),"
    " easd_search_field(new.props, 0), easd_search_field(new.props, 1),"
    " easd_search_field(new.props, 2), easd_search_field(new.props, 3),"
    " 'f' || new.folder_id;"
    " END;"
    "CREATE TRIGGER search_items_props AFTER UPDATE OF props ON items"
    " WHEN new.class = 1 AND new.id < 1073741824"
    " AND new.props IS NOT old.props BEGIN"
    " DELETE FROM search_fts WHERE rowid ="
    " ((min(max(old.date, 0), 8589934591) << 30) | old.id);"
    " INSERT INTO search_fts(rowid, subject, sender, recipients, body,"
    " folder) SELECT"
    " ((min(max(new.date, 0), 8589934591) << 30) | new.id),"
    " easd_search_field(new.props, 0), easd_search_field(new.props, 1),"
    " easd_search_field(new.props, 2), easd_search_field(new.props, 3),"
    " 'f' || new.folder_id;"
    " END;"
    /* A move or a new date with the same properties: the folder token
     * is updated in place; a new key gets a copy of the indexed text.
     * Neither parses the properties nor needs the function. */
    "CREATE TRIGGER search_items_place"
    " AFTER UPDATE OF date, folder_id ON items"
    " WHEN new.class = 1 AND new.id < 1073741824"
    " AND new.props IS old.props"
    " AND (new.date != old.date OR new.folder_id != old.folder_id)"
    " BEGIN UPDATE search_fts SET folder = 'f' || new.folder_id"
    " WHERE rowid = ((min(max(old.date, 0), 8589934591) << 30) | old.id)"
    " AND new.folder_id != old.folder_id;"
    " INSERT INTO search_fts(rowid, subject, sender, recipients, body,"
    " folder) SELECT"
    " ((min(max(new.date, 0), 8589934591) << 30) | new.id),"
    " subject, sender, recipients, body, folder FROM search_fts"
    " WHERE rowid = ((min(max(old.date, 0), 8589934591) << 30) | old.id)"
    " AND ((min(max(new.date, 0), 8589934591) << 30) | new.id)"
    " != ((min(max(old.date, 0), 8589934591) << 30) | old.id);"
    " DELETE FROM search_fts WHERE rowid ="
    " ((min(max(old.date, 0), 8589934591) << 30) | old.id)"
    " AND ((min(max(new.date, 0), 8589934591) << 30) | new.id)"
    " != ((min(max(old.date, 0), 8589934591) << 30) | old.id);"
    " END;"
    "CREATE TRIGGER search_items_delete AFTER DELETE ON items"
    " WHEN old.class = 1 AND old.id < 1073741824 BEGIN"
    " DELETE FROM search_fts WHERE rowid ="
    " ((min(max(old.date, 0), 8589934591) << 30) | old.id);"
    " END;"
    "INSERT INTO search_fts(rowid, subject, sender, recipients, body,"
    " folder) SELECT"
    " ((min(max(items.date, 0), 8589934591) << 30) | items.id),"
    " easd_search_field(items.props, 0), easd_search_field(items.props, 1),"
    " easd_search_field(items.props, 2), easd_search_field(items.props, 3),"
    " 'f' || items.folder_id"
    " FROM items WHERE class = 1 AND id < 1073741824;";

/*
 * v3: sync state that used to live only in the daemon's memory
 * (syncstate.h).  sync_outcomes: the outcome of a request's client
 * commands under the key the device sent (one row per key: a request
 * with other commands replaces it), so that a re-sent Sync is answered
 * the same after a restart.  sync_hier_own: the hierarchy modseqs of the
 * folder changes a device made itself (FolderCreate/Update/Delete), which
 * its FolderSync and Ping do not report back to it; pruned below the
 * cursors of its hierarchy keys.
 */
static const char user_v3[] = "CREATE TABLE sync_outcomes("
			      " dev INTEGER NOT NULL,"
			      " coll INTEGER NOT NULL,"
			      " key INTEGER NOT NULL,"
			      " digest BLOB NOT NULL,"
			      " outcome BLOB NOT NULL,"
			      " PRIMARY KEY(dev, coll, key)) WITHOUT ROWID;"
			      "CREATE TABLE sync_hier_own("
			      " dev INTEGER NOT NULL,"
			      " hmodseq INTEGER NOT NULL,"
			      " PRIMARY KEY(dev, hmodseq)) WITHOUT ROWID;";

/*
 * v4: Out-of-Office (mailbox/oof.h).  oof holds the one setting the user
 * made with Settings Oof Set (row id 1; no row: never set, i.e. off);
 * oof_replied remembers when each sender (lower-case address) was last
 * answered, for RFC 3834's once-per-period rule.  Setting Oof empties it.
 */
static const char user_v4[] =
    "CREATE TABLE oof("
    " id INTEGER PRIMARY KEY CHECK(id = 1),"
    " state INTEGER NOT NULL DEFAULT 0,"
    " start_time INTEGER NOT NULL DEFAULT 0,"
    " end_time INTEGER NOT NULL DEFAULT 0,"
    " int_enabled INTEGER NOT NULL DEFAULT 0, int_reply TEXT,"
    " int_html INTEGER NOT NULL DEFAULT 0,"
    " known_enabled INTEGER NOT NULL DEFAULT 0, known_reply TEXT,"
    " known_html INTEGER NOT NULL DEFAULT 0,"
    " unknown_enabled INTEGER NOT NULL DEFAULT 0, unknown_reply TEXT,"
    " unknown_html INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE oof_replied("
    " sender TEXT NOT NULL PRIMARY KEY,"
    " at INTEGER NOT NULL) WITHOUT ROWID;";

/*
 * v5 (send): the Sent Items copy of a queued message, which keeps its Bcc
 * while the relayed copy does not (NULL: save the relayed bytes), and the
 * ClientIds of submitted messages (MS-ASCMD 2.2.3.28.1), recorded in the
 * transaction that queues the message so that a device retrying after a
 * lost answer or a daemon restart is answered without a second send.
 * Rows older than STORE_SUBMIT_CLIENT_ID_KEEP_S are pruned on insert.
 */
static const char user_v5[] =
    "ALTER TABLE send_queue ADD COLUMN saved BLOB;"
    "CREATE TABLE submit_clientids("
    " device TEXT NOT NULL,"
    " client_id TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " PRIMARY KEY(device, client_id)) WITHOUT ROWID;"
    "CREATE INDEX submit_clientids_created ON submit_clientids(created);";

/*
 * v6 (conv): the conversation index and the MoveAlways rules
 * (mailbox/conversation.h).
 *
 * conv_items maps every email item to its ConversationId (MS-ASEMAIL
 * 2.2.2.14), and keeps beside it the item's Message-ID and the thread GUID
 * of its ConversationIndex (bytes 6-21, MS-OXOMSG 2.2.1.3), by which
 * delivery finds the conversation of a reply's parent (store_conv_resolve).
 * easd_conversation_id(props, what) reads them from the props blob (what:
 * 0 id, 1 Message-ID, 2 thread GUID), an application function registered
 * beside easd_search_field (and with the same trade-off: without it a
 * connection cannot add mail).  The triggers keep the index in the item's
 * own transaction on every path: an add, a new property set (a draft saved
 * again), a delete, and a folder delete (its items are deleted row by
 * row).  A move changes only items.folder_id, which the index does not
 * copy: members are joined to items by primary key for folder and date.
 * The INSERT at the end indexes the mail of a database created before v6.
 *
 * conv_rules holds the "always move" rules of ItemOperations Move with
 * MoveAlways (MS-ASCMD 2.2.3.118, MS-ASCON 2.2.2.8): one per conversation,
 * the target folder, and when it was last applied (unix seconds) for the
 * expiry (CONV_RULE_KEEP_S, proto/limits.h).  Deleting the target folder
 * ends its rules in the same transaction (the trigger on folders.deleted).
 */
static const char user_v6[] =
    "CREATE TABLE conv_items("
    " item_id INTEGER PRIMARY KEY,"
    " conv BLOB NOT NULL,"
    " msgid TEXT,"
    " thread BLOB);"
    "CREATE INDEX conv_items_conv ON conv_items(conv);"
    "CREATE INDEX conv_items_msgid ON conv_items(msgid)"
    " WHERE msgid IS NOT NULL;"
    "CREATE INDEX conv_items_thread ON conv_items(thread)"
    " WHERE thread IS NOT NULL;"
    "CREATE TRIGGER conv_items_add AFTER INSERT ON items"
    " WHEN new.class = 1 BEGIN"
    " INSERT INTO conv_items(item_id, conv, msgid, thread)"
    " SELECT new.id, c, easd_conversation_id(new.props, 1),"
    " easd_conversation_id(new.props, 2) FROM"
    " (SELECT easd_conversation_id(new.props, 0) AS c)"
    " WHERE c IS NOT NULL;"
    " END;"
    "CREATE TRIGGER conv_items_props AFTER UPDATE OF props ON items"
    " WHEN new.class = 1 AND new.props IS NOT old.props BEGIN"
    " DELETE FROM conv_items WHERE item_id = old.id;"
    " INSERT INTO conv_items(item_id, conv, msgid, thread)"
    " SELECT new.id, c, easd_conversation_id(new.props, 1),"
    " easd_conversation_id(new.props, 2) FROM"
    " (SELECT easd_conversation_id(new.props, 0) AS c)"
    " WHERE c IS NOT NULL;"
    " END;"
    "CREATE TRIGGER conv_items_delete AFTER DELETE ON items"
    " WHEN old.class = 1 BEGIN"
    " DELETE FROM conv_items WHERE item_id = old.id;"
    " END;"
    "INSERT INTO conv_items(item_id, conv, msgid, thread)"
    " SELECT id, c, easd_conversation_id(props, 1),"
    " easd_conversation_id(props, 2) FROM"
    " (SELECT id, props, easd_conversation_id(props, 0) AS c"
    " FROM items WHERE class = 1) WHERE c IS NOT NULL;"
    "CREATE TABLE conv_rules("
    " conv BLOB NOT NULL PRIMARY KEY,"
    " folder_id INTEGER NOT NULL,"
    " created INTEGER NOT NULL,"
    " last_used INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX conv_rules_used ON conv_rules(last_used);"
    "CREATE INDEX conv_rules_folder ON conv_rules(folder_id);"
    "CREATE TRIGGER conv_rules_folder_gone AFTER UPDATE OF deleted"
    " ON folders WHEN new.deleted != 0 BEGIN"
    " DELETE FROM conv_rules WHERE folder_id = new.id;"
    " END;";

/*
 * v7 (oofpw): the user's correspondents, for Oof AppliesToExternalKnown
 * (mailbox/oof.h): every envelope recipient outside the sender's domain of
 * each message the user queues (SendMail, SmartReply, SmartForward, draft
 * Send), recorded by store_queue_put in the transaction that queues it.
 * The rowid orders rows by last use (a re-sent address is re-inserted),
 * so eviction beyond STORE_MAX_OOF_CORRESPONDENTS drops the oldest first.
 */
static const char user_v7[] = "CREATE TABLE oof_correspondents("
			      " id INTEGER PRIMARY KEY,"
			      " address TEXT NOT NULL UNIQUE COLLATE NOCASE,"
			      " last_sent INTEGER NOT NULL);";

const char *const schema_user_migrations[] = {
    user_v1, user_v2, user_v3, user_v4, user_v5, user_v6, user_v7};
const size_t schema_user_migration_count =
    sizeof(schema_user_migrations) / sizeof(schema_user_migrations[0]);

static const char dir_v1[] =
    "CREATE TABLE policies("
    " name TEXT PRIMARY KEY,"
    " body TEXT NOT NULL,"
    " is_default INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE users("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " login TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    " password_hash TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " disabled INTEGER NOT NULL DEFAULT 0,"
    " policy TEXT REFERENCES policies(name) ON DELETE SET NULL);"
    "CREATE TABLE addresses("
    " address TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,"
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE)"
    " WITHOUT ROWID;"
    "CREATE INDEX addresses_user ON addresses(user_id);"
    "CREATE TABLE devices("
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " device_id TEXT NOT NULL,"
    " device_type TEXT, model TEXT, imei TEXT, os TEXT,"
    " user_agent TEXT, friendly_name TEXT, protocol_version TEXT,"
    " first_sync INTEGER NOT NULL DEFAULT 0,"
    " last_sync INTEGER NOT NULL DEFAULT 0,"
    " policy_key INTEGER NOT NULL DEFAULT 0,"
    " policy_key_state INTEGER NOT NULL DEFAULT 0,"
    " policy_hash TEXT,"
    " access_state INTEGER NOT NULL DEFAULT 0,"
    " access_reason TEXT,"
    " wipe_state INTEGER NOT NULL DEFAULT 0,"
    " wipe_requested INTEGER NOT NULL DEFAULT 0,"
    " wipe_acked INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(user_id, device_id)) WITHOUT ROWID;"
    "CREATE TABLE access_rules("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kind INTEGER NOT NULL,"
    " pattern TEXT NOT NULL,"
    " level INTEGER NOT NULL);"
    "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
    " WITHOUT ROWID;"
    "INSERT INTO settings VALUES('default_access', '0');";

/*
 * v2: the rest of Settings DeviceInformation (MS-ASCMD 2.2.3.45) and the
 * DevicePassword recovery password (2.2.3.46), stored as the device sent
 * it: the spec has the server keep it so the user can recover it, so it
 * is not hashed.  Since v3 it is sealed instead (recovery_password_sealed)
 * and this column stays empty.
 */
static const char dir_v2[] =
    "ALTER TABLE devices ADD COLUMN phone_number TEXT;"
    "ALTER TABLE devices ADD COLUMN os_language TEXT;"
    "ALTER TABLE devices ADD COLUMN mobile_operator TEXT;"
    "ALTER TABLE devices ADD COLUMN enable_outbound_sms"
    " INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE devices ADD COLUMN recovery_password TEXT;";

/*
 * v3 (oofpw): the recovery password sealed with the mailbox's secret key
 * (mailbox/secret.h: AES-256-GCM, the user and device ids as associated
 * data).  The plain column of v2 stays (SQLite 3.40 cannot drop it
 * cheaply) but is emptied: values stored before this version are sealed
 * at the daemon's first start with a key (store_dir_devpw_migrate), which
 * needs the key and so cannot be SQL here.
 */
static const char dir_v3[] =
    "ALTER TABLE devices ADD COLUMN recovery_password_sealed BLOB;";

/*
 * v4 (gal): a user's contact fields for the global address list (MS-ASCMD
 * Search GAL and Find; easctl user add/set) and photo (GAL Picture, a
 * JPEG or PNG of at most DIR_MAX_PHOTO_BYTES).  NULL: not set.  The names
 * and the alias match GAL queries by prefix, so each has a NOCASE index
 * (LIKE is case-insensitive and can use exactly those).
 */
static const char dir_v4[] =
    "ALTER TABLE users ADD COLUMN display_name TEXT COLLATE NOCASE;"
    "ALTER TABLE users ADD COLUMN first_name TEXT COLLATE NOCASE;"
    "ALTER TABLE users ADD COLUMN last_name TEXT COLLATE NOCASE;"
    "ALTER TABLE users ADD COLUMN title TEXT;"
    "ALTER TABLE users ADD COLUMN company TEXT;"
    "ALTER TABLE users ADD COLUMN office TEXT;"
    "ALTER TABLE users ADD COLUMN phone TEXT;"
    "ALTER TABLE users ADD COLUMN mobile_phone TEXT;"
    "ALTER TABLE users ADD COLUMN home_phone TEXT;"
    "ALTER TABLE users ADD COLUMN alias TEXT COLLATE NOCASE;"
    "ALTER TABLE users ADD COLUMN photo BLOB;"
    "CREATE INDEX users_display_name ON users(display_name);"
    "CREATE INDEX users_first_name ON users(first_name);"
    "CREATE INDEX users_last_name ON users(last_name);"
    "CREATE INDEX users_alias ON users(alias);";

const char *const schema_dir_migrations[] = {dir_v1, dir_v2, dir_v3, dir_v4};
const size_t schema_dir_migration_count =
    sizeof(schema_dir_migrations) / sizeof(schema_dir_migrations[0]);
