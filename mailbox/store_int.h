/*
 * Private to mailbox/store*.c: the database handle shared by the user
 * store and the directory, a small prepared-statement cache, and step and
 * transaction wrappers that map SQLite result codes to enum store_status
 * and honour fault injection.  SQLite's types are forward-declared so that
 * this header does not include sqlite3.h (layering rule: only store*.c do).
 */
#ifndef EASD_MAILBOX_STORE_INT_H
#define EASD_MAILBOX_STORE_INT_H

#include "mailbox/store.h"

struct sqlite3;
struct sqlite3_stmt;

/* Distinct SQL strings a handle prepares once and reuses.  The user store
 * has about 80; past the bound the oldest idle statement is finalized (a
 * statement being stepped is never evicted). */
#define SDB_CACHE_SIZE 128

struct sdb {
	struct sqlite3 *db;
	struct store_error err;
	struct {
		const char *sql; /* identity of a string literal */
		struct sqlite3_stmt *stmt;
	} cache[SDB_CACHE_SIZE];
	size_t cache_len;
	/* Open transaction levels: 1 is BEGIN, deeper ones SAVEPOINTs. */
	int tx_depth;
};

struct store {
	struct sdb sdb;
	int64_t user_id;
};

int sdb_open(struct sdb *s, const char *path, const char *const *migrations,
	     size_t migration_count, struct store_error *error_r);
void sdb_close(struct sdb *s);
void sdb_fail(struct sdb *s, enum store_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records the connection's current SQLite error in s->err. */
void sdb_fail_sqlite(struct sdb *s, int rc, const char *what);
/* A cached, reset statement for a string literal; NULL on error. */
struct sqlite3_stmt *sdb_prepare(struct sdb *s, const char *sql);
/* SQLITE_ROW, SQLITE_DONE (statement reset), or -1 (reset, error set). */
int sdb_step(struct sdb *s, struct sqlite3_stmt *stmt);
/* Steps a statement that returns no row: 0 or -1. */
int sdb_run(struct sdb *s, struct sqlite3_stmt *stmt);
void sdb_reset(struct sqlite3_stmt *stmt);
int sdb_exec(struct sdb *s, const char *sql);
int sdb_begin(struct sdb *s);
int sdb_commit(struct sdb *s);
void sdb_rollback(struct sdb *s);
int64_t sdb_changes(struct sdb *s);
/* A malloc'd copy of a text column, NULL for SQL NULL (or no memory). */
char *sdb_col_strdup(struct sqlite3_stmt *stmt, int col);
/* A malloc'd copy of a blob column; *len_r 0 and NULL for NULL. */
int sdb_col_blobdup(struct sdb *s, struct sqlite3_stmt *stmt, int col,
		    uint8_t **data_r, size_t *len_r);
/* Binds text or NULL. */
int sdb_bind_text(struct sqlite3_stmt *stmt, int idx, const char *text);

/*
 * Item and folder operations without their own transaction (store_items.c),
 * for callers that already hold one: the public wrappers and a Sync's
 * client commands (store_sync.c).  *folder_r gets the item's folder before
 * the operation.
 */
struct item_new;
struct item_change;
int items_add_tx(struct store *st, int64_t folder_id,
		 const struct item_new *item, int64_t *id_r, int64_t *modseq_r);
int items_change_tx(struct store *st, int64_t id,
		    const struct item_change *change, int64_t *folder_r,
		    int64_t *modseq_r);
int items_move_tx(struct store *st, int64_t id, int64_t dst_folder_id,
		  int64_t *src_r, int64_t *modseq_r);
int items_delete_tx(struct store *st, int64_t id, int64_t *folder_r);
/* Hierarchy changes since since_hmodseq as device row dev (0: none) sees
 * them: its own changes left out (store_items.c). */
struct folder_changes;
int folder_changes_for(struct store *st, int64_t dev, int64_t since_hmodseq,
		       struct folder_changes **ch_r);
/* Class of a live folder; STORE_NOT_FOUND if missing or deleted. */
int folders_class_tx(struct store *st, int64_t folder_id, int *cls_r);

/* search: registers the SQL function the search index's triggers call
 * (easd_search_field, see schema.c v2) on a new connection, before its
 * migrations run, and for every later connection of the process
 * (store_search.c).  SQLite result code. */
int search_sql_register(struct sqlite3 *db);

/* Migrations for the two kinds of database (schema.c). */
extern const char *const schema_user_migrations[];
extern const size_t schema_user_migration_count;
extern const char *const schema_dir_migrations[];
extern const size_t schema_dir_migration_count;

#endif
