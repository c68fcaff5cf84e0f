/*
 * The SQLite boundary of easd-mailbox: opening a database with the
 * durability pragmas (WAL, synchronous=FULL, foreign keys, busy timeout),
 * applying schema migrations in order under PRAGMA user_version, a cache of
 * prepared statements, step/exec wrappers that turn SQLite result codes
 * into enum store_status, and the fault-injection hook that lets tests make
 * the Nth step fail.  Also the user database's open/close/check and the
 * send queue.  Folders, items and the change log are in store_items.c,
 * sync state in store_sync.c, the directory in store_dir.c.
 */
#include "mailbox/store_int.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/limits.h"

/*
 * Busy timeout: a handle is thread-confined and one worker owns a user, so
 * contention only comes from tools (easctl, backups); wait that long
 * before answering STORE_BUSY.
 */
#define SDB_BUSY_TIMEOUT_MS 5000

/* Fault injection state: process-global, tests arm it from one thread. */
static int fault_countdown;
static int fault_code;

void
store_fault_inject(int nth_step, int sqlite_error)
{
	fault_countdown = nth_step > 0 ? nth_step : 0;
	fault_code = sqlite_error;
}

/* True when this step is the one chosen to fail; *rc_r gets the code. */
static bool
fault_fire(int *rc_r)
{
	if (fault_countdown <= 0)
		return false;
	if (--fault_countdown > 0)
		return false;
	*rc_r = fault_code;
	return true;
}

const char *
store_status_name(enum store_status status)
{
	switch (status) {
	case STORE_OK:
		return "ok";
	case STORE_NOT_FOUND:
		return "not found";
	case STORE_EXISTS:
		return "exists";
	case STORE_INVALID:
		return "invalid";
	case STORE_DENIED:
		return "denied";
	case STORE_FULL:
		return "disk full";
	case STORE_IO:
		return "i/o error";
	case STORE_BUSY:
		return "busy";
	case STORE_CORRUPT:
		return "corrupt";
	}
	return "unknown";
}

static enum store_status
status_of_sqlite(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return STORE_OK;
	case SQLITE_FULL:
		return STORE_FULL;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_BUSY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return STORE_CORRUPT;
	case SQLITE_CONSTRAINT:
		return STORE_EXISTS;
	case SQLITE_NOTFOUND:
		return STORE_NOT_FOUND;
	case SQLITE_MISUSE:
	case SQLITE_RANGE:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
		return STORE_INVALID;
	default:
		return STORE_IO;
	}
}

static void error_set(struct store_error *e, enum store_status status,
		      const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
error_set(struct store_error *e, enum store_status status, const char *fmt,
	  va_list ap)
{
	if (e == NULL)
		return;
	e->status = status;
	(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

static void error_setf(struct store_error *e, enum store_status status,
		       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
error_setf(struct store_error *e, enum store_status status, const char *fmt,
	   ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_set(e, status, fmt, ap);
	va_end(ap);
}

void
sdb_fail(struct sdb *s, enum store_status status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_set(&s->err, status, fmt, ap);
	va_end(ap);
}

void
sdb_fail_sqlite(struct sdb *s, int rc, const char *what)
{
	const char *msg = s->db != NULL ? sqlite3_errmsg(s->db) : "";

	if (rc == fault_code && fault_countdown == 0 && fault_code != 0)
		msg = sqlite3_errstr(rc);
	error_setf(&s->err, status_of_sqlite(rc), "%s: %s", what, msg);
}

struct sqlite3_stmt *
sdb_prepare(struct sdb *s, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	size_t i;
	int rc;

	for (i = 0; i < s->cache_len; i++) {
		if (s->cache[i].sql == sql) {
			stmt = s->cache[i].stmt;
			sqlite3_reset(stmt);
			sqlite3_clear_bindings(stmt);
			return stmt;
		}
	}
	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				&stmt, NULL);
	if (rc != SQLITE_OK) {
		sdb_fail_sqlite(s, rc, "prepare");
		return NULL;
	}
	if (s->cache_len == SDB_CACHE_SIZE) {
		/* Evict the oldest idle statement: correct, only slower. */
		for (i = 0; i < s->cache_len; i++)
			if (!sqlite3_stmt_busy(s->cache[i].stmt))
				break;
		if (i == s->cache_len) {
			sqlite3_finalize(stmt);
			sdb_fail(s, STORE_IO, "statement cache exhausted");
			return NULL;
		}
		sqlite3_finalize(s->cache[i].stmt);
		memmove(&s->cache[i], &s->cache[i + 1],
			sizeof(s->cache[0]) * (s->cache_len - i - 1));
		s->cache_len--;
	}
	s->cache[s->cache_len].sql = sql;
	s->cache[s->cache_len].stmt = stmt;
	s->cache_len++;
	return stmt;
}

int
sdb_step(struct sdb *s, struct sqlite3_stmt *stmt)
{
	int rc;

	if (fault_fire(&rc)) {
		sqlite3_reset(stmt);
		error_setf(&s->err, status_of_sqlite(rc),
			   "step: injected fault: %s", sqlite3_errstr(rc));
		return -1;
	}
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return SQLITE_ROW;
	if (rc == SQLITE_DONE) {
		sqlite3_reset(stmt);
		return SQLITE_DONE;
	}
	sqlite3_reset(stmt);
	sdb_fail_sqlite(s, rc, "step");
	return -1;
}

int
sdb_run(struct sdb *s, struct sqlite3_stmt *stmt)
{
	int rc = sdb_step(s, stmt);

	if (rc == SQLITE_ROW) {
		sqlite3_reset(stmt);
		return 0;
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

void
sdb_reset(struct sqlite3_stmt *stmt)
{
	if (stmt != NULL)
		sqlite3_reset(stmt);
}

int
sdb_exec(struct sdb *s, const char *sql)
{
	char *msg = NULL;
	int rc;

	if (fault_fire(&rc)) {
		error_setf(&s->err, status_of_sqlite(rc),
			   "exec: injected fault: %s", sqlite3_errstr(rc));
		return -1;
	}
	rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		error_setf(&s->err, status_of_sqlite(rc), "exec: %s",
			   msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/*
 * Transactions nest: the outermost level is BEGIN IMMEDIATE (the write
 * lock taken up front, so a transaction never fails half-way with
 * SQLITE_BUSY on its first write) and COMMIT; inner levels are savepoints,
 * so a failed inner call undoes only its own part while the caller's
 * transaction (store_tx_begin, a Sync) goes on.
 */
int
sdb_begin(struct sdb *s)
{
	if (sdb_exec(s, s->tx_depth == 0 ? "BEGIN IMMEDIATE"
					 : "SAVEPOINT nest") < 0)
		return -1;
	s->tx_depth++;
	return 0;
}

int
sdb_commit(struct sdb *s)
{
	if (s->tx_depth == 0) {
		sdb_fail(s, STORE_INVALID, "commit without a transaction");
		return -1;
	}
	if (sdb_exec(s, s->tx_depth == 1 ? "COMMIT" : "RELEASE nest") < 0) {
		sdb_rollback(s);
		return -1;
	}
	s->tx_depth--;
	return 0;
}

void
sdb_rollback(struct sdb *s)
{
	/* Not through sdb_exec: a rollback must not consume an injected
	 * fault. */
	if (s->db == NULL)
		return;
	if (s->tx_depth > 1) {
		(void)sqlite3_exec(s->db, "ROLLBACK TO nest; RELEASE nest",
				   NULL, NULL, NULL);
		s->tx_depth--;
		return;
	}
	if (!sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->tx_depth = 0;
}

int64_t
sdb_changes(struct sdb *s)
{
	return sqlite3_changes64(s->db);
}

char *
sdb_col_strdup(struct sqlite3_stmt *stmt, int col)
{
	const unsigned char *t = sqlite3_column_text(stmt, col);

	return t != NULL ? strdup((const char *)t) : NULL;
}

int
sdb_col_blobdup(struct sdb *s, struct sqlite3_stmt *stmt, int col,
		uint8_t **data_r, size_t *len_r)
{
	const void *p = sqlite3_column_blob(stmt, col);
	int n = sqlite3_column_bytes(stmt, col);

	*data_r = NULL;
	*len_r = 0;
	if (p == NULL || n <= 0)
		return 0;
	*data_r = malloc((size_t)n);
	if (*data_r == NULL) {
		sdb_fail(s, STORE_IO, "out of memory");
		return -1;
	}
	memcpy(*data_r, p, (size_t)n);
	*len_r = (size_t)n;
	return 0;
}

int
sdb_bind_text(struct sqlite3_stmt *stmt, int idx, const char *text)
{
	if (text == NULL)
		return sqlite3_bind_null(stmt, idx);
	return sqlite3_bind_text(stmt, idx, text, -1, SQLITE_TRANSIENT);
}

static int
sdb_user_version(struct sdb *s, int *version_r)
{
	sqlite3_stmt *stmt = sdb_prepare(s, "PRAGMA user_version");

	if (stmt == NULL || sdb_step(s, stmt) != SQLITE_ROW)
		return -1;
	*version_r = sqlite3_column_int(stmt, 0);
	sqlite3_reset(stmt);
	return 0;
}

/*
 * Migration i (0-based) brings the schema from version i to i+1; each runs
 * in its own transaction together with the user_version bump, so a crash
 * mid-migration leaves the previous version intact.  The version is read
 * inside the write transaction (BEGIN IMMEDIATE holds the write lock), so
 * two connections opening the same new database at once take turns: the
 * second sees the first one's version and skips what is already done,
 * instead of running the same CREATE TABLE twice.
 */
static int
sdb_migrate(struct sdb *s, const char *const *migrations, size_t count)
{
	char sql[64];
	int version;

	/* Fast path without the write lock: already current. */
	if (sdb_user_version(s, &version) < 0)
		return -1;
	if (version >= 0 && (size_t)version == count)
		return 0;
	for (;;) {
		if (sdb_begin(s) < 0)
			return -1;
		if (sdb_user_version(s, &version) < 0) {
			sdb_rollback(s);
			return -1;
		}
		if (version < 0 || (size_t)version > count) {
			sdb_rollback(s);
			sdb_fail(s, STORE_CORRUPT,
				 "schema version %d is newer than this "
				 "program (%zu)",
				 version, count);
			return -1;
		}
		if ((size_t)version == count)
			return sdb_commit(s);
		(void)snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
			       version + 1);
		if (sdb_exec(s, migrations[version]) < 0 ||
		    sdb_exec(s, sql) < 0) {
			sdb_rollback(s);
			return -1;
		}
		if (sdb_commit(s) < 0)
			return -1;
	}
}

int
sdb_open(struct sdb *s, const char *path, const char *const *migrations,
	 size_t migration_count, struct store_error *error_r)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		error_setf(error_r, status_of_sqlite(rc), "open %s: %s", path,
			   s->db != NULL ? sqlite3_errmsg(s->db)
					 : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, SDB_BUSY_TIMEOUT_MS);
	/* search: the index triggers (schema.c v2) call these functions,
	 * from the migration that builds the index onwards. */
	rc = search_sql_register(s->db);
	if (rc != SQLITE_OK) {
		error_setf(error_r, status_of_sqlite(rc),
			   "register search functions: %s", sqlite3_errstr(rc));
		goto fail;
	}
	/* G1: WAL + synchronous=FULL makes every commit durable (fsync of
	 * the WAL) before it returns. */
	if (sdb_exec(s, "PRAGMA journal_mode = WAL") < 0 ||
	    sdb_exec(s, "PRAGMA synchronous = FULL") < 0 ||
	    sdb_exec(s, "PRAGMA foreign_keys = ON") < 0 ||
	    sdb_migrate(s, migrations, migration_count) < 0) {
		if (error_r != NULL)
			*error_r = s->err;
		goto fail;
	}
	return 0;
fail:
	sdb_close(s);
	return -1;
}

void
sdb_close(struct sdb *s)
{
	for (size_t i = 0; i < s->cache_len; i++)
		sqlite3_finalize(s->cache[i].stmt);
	s->cache_len = 0;
	if (s->db != NULL)
		sqlite3_close(s->db);
	s->db = NULL;
}

/* ------------------------------------------------------------------ */

/* FNV-1a of the decimal id: a stable shard name independent of the host. */
static unsigned
user_shard(int64_t user_id)
{
	char text[32];
	uint32_t h = 2166136261u;
	int n = snprintf(text, sizeof(text), "%lld", (long long)user_id);

	for (int i = 0; i < n; i++) {
		h ^= (uint8_t)text[i];
		h *= 16777619u;
	}
	return h & 0xff;
}

int
store_user_path(const char *data_dir, int64_t user_id, char *path, size_t size)
{
	int n = snprintf(path, size, "%s/users/%02x/%lld.db", data_dir,
			 user_shard(user_id), (long long)user_id);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int
mkdir_one(const char *dir, struct store_error *error_r)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		error_setf(error_r, errno == ENOSPC ? STORE_FULL : STORE_IO,
			   "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
store_open(const char *data_dir, int64_t user_id, struct store **st_r,
	   struct store_error *error_r)
{
	char path[PATH_MAX], dir[PATH_MAX];
	struct store *st = NULL;
	int n;

	*st_r = NULL;
	if (user_id <= 0 ||
	    store_user_path(data_dir, user_id, path, sizeof(path)) < 0) {
		error_setf(error_r, STORE_INVALID, "bad user id or data_dir");
		return -1;
	}
	n = snprintf(dir, sizeof(dir), "%s/users", data_dir);
	if (n < 0 || (size_t)n >= sizeof(dir) ||
	    mkdir_one(data_dir, error_r) < 0 || mkdir_one(dir, error_r) < 0)
		return -1;
	n = snprintf(dir, sizeof(dir), "%s/users/%02x", data_dir,
		     user_shard(user_id));
	if (n < 0 || (size_t)n >= sizeof(dir) || mkdir_one(dir, error_r) < 0)
		return -1;
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		error_setf(error_r, STORE_IO, "out of memory");
		return -1;
	}
	if (sdb_open(&st->sdb, path, schema_user_migrations,
		     schema_user_migration_count, error_r) < 0) {
		free(st);
		return -1;
	}
	st->user_id = user_id;
	*st_r = st;
	return 0;
}

void
store_close(struct store **st)
{
	if (st == NULL || *st == NULL)
		return;
	sdb_close(&(*st)->sdb);
	free(*st);
	*st = NULL;
}

const struct store_error *
store_last_error(const struct store *st)
{
	return &st->sdb.err;
}

int64_t
store_user_id(const struct store *st)
{
	return st->user_id;
}

int
store_schema_version(struct store *st, int *version_r)
{
	return sdb_user_version(&st->sdb, version_r);
}

int
store_tx_begin(struct store *st)
{
	return sdb_begin(&st->sdb);
}

int
store_tx_commit(struct store *st)
{
	return sdb_commit(&st->sdb);
}

void
store_tx_rollback(struct store *st)
{
	sdb_rollback(&st->sdb);
}

int
store_check(struct store *st)
{
	sqlite3_stmt *stmt = sdb_prepare(&st->sdb, "PRAGMA integrity_check");
	const unsigned char *t;
	int rc;

	if (stmt == NULL)
		return -1;
	rc = sdb_step(&st->sdb, stmt);
	if (rc != SQLITE_ROW)
		return -1;
	t = sqlite3_column_text(stmt, 0);
	if (t == NULL || strcmp((const char *)t, "ok") != 0) {
		sdb_fail(&st->sdb, STORE_CORRUPT, "integrity_check: %s",
			 t != NULL ? (const char *)t : "?");
		sqlite3_reset(stmt);
		return -1;
	}
	sqlite3_reset(stmt);
	return 0;
}

int
store_user_remove(const char *data_dir, int64_t user_id,
		  struct store_error *error_r)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	char path[PATH_MAX], file[PATH_MAX + 8];

	if (store_user_path(data_dir, user_id, path, sizeof(path)) < 0) {
		error_setf(error_r, STORE_INVALID, "path too long");
		return -1;
	}
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		(void)snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
		if (unlink(file) < 0 && errno != ENOENT) {
			error_setf(error_r, STORE_IO, "unlink %s: %s", file,
				   strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ queue */

int
store_queue_add(struct store *st, const char *mail_from, const char *rcpts,
		const uint8_t *mime, size_t mime_len, bool save_in_sent,
		int64_t now, int64_t *id_r)
{
	const struct store_queue_msg msg = {
	    .mail_from = mail_from,
	    .rcpts = rcpts,
	    .mime = mime,
	    .mime_len = mime_len,
	    .save_in_sent = save_in_sent,
	};

	return store_queue_put(st, &msg, now, id_r);
}

int
store_queue_put(struct store *st, const struct store_queue_msg *m, int64_t now,
		int64_t *id_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;

	if (m->mail_from == NULL || m->rcpts == NULL || m->rcpts[0] == 0 ||
	    m->mime == NULL || m->mime_len == 0 ||
	    m->mime_len > STORE_MAX_MIME_BYTES ||
	    (m->saved != NULL &&
	     (m->saved_len == 0 || m->saved_len > STORE_MAX_MIME_BYTES))) {
		sdb_fail(s, STORE_INVALID, "queue: bad envelope or message");
		return -1;
	}
	stmt = sdb_prepare(s, "INSERT INTO send_queue(mail_from, rcpts, mime,"
			      " save_in_sent, next_attempt, created, saved)"
			      " VALUES(?, ?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, m->mail_from);
	sdb_bind_text(stmt, 2, m->rcpts);
	sqlite3_bind_blob64(stmt, 3, m->mime, m->mime_len, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 4, m->save_in_sent);
	sqlite3_bind_int64(stmt, 5, now);
	sqlite3_bind_int64(stmt, 6, now);
	if (m->saved != NULL)
		sqlite3_bind_blob64(stmt, 7, m->saved, m->saved_len,
				    SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 7);
	if (sdb_run(s, stmt) < 0)
		return -1;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_submit_seen(struct store *st, const char *device, const char *client_id,
		  bool *seen_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	*seen_r = false;
	stmt = sdb_prepare(s, "SELECT 1 FROM submit_clientids"
			      " WHERE device = ? AND client_id = ?");
	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, device);
	sdb_bind_text(stmt, 2, client_id);
	rc = sdb_step(s, stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	*seen_r = rc == SQLITE_ROW;
	return 0;
}

int
store_submit_record(struct store *st, const char *device, const char *client_id,
		    int64_t now)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;

	if (device == NULL || client_id == NULL || client_id[0] == 0 ||
	    strlen(device) > STORE_MAX_DEVICE_ID_BYTES ||
	    strlen(client_id) > STORE_MAX_CLIENT_ID_BYTES) {
		sdb_fail(s, STORE_INVALID, "submit: bad device or client id");
		return -1;
	}
	stmt = sdb_prepare(s, "DELETE FROM submit_clientids WHERE created < ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, now - STORE_SUBMIT_CLIENT_ID_KEEP_S);
	if (sdb_run(s, stmt) < 0)
		return -1;
	stmt = sdb_prepare(s, "INSERT INTO submit_clientids(device, client_id,"
			      " created) VALUES(?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, device);
	sdb_bind_text(stmt, 2, client_id);
	sqlite3_bind_int64(stmt, 3, now);
	return sdb_run(s, stmt);
}

int
store_queue_next_due(struct store *st, int64_t now,
		     struct store_queue_entry *entry_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc, ret = -1;

	memset(entry_r, 0, sizeof(*entry_r));
	stmt = sdb_prepare(s, "SELECT id, mail_from, rcpts, mime, save_in_sent,"
			      " attempts, next_attempt, state, last_error,"
			      " saved FROM send_queue WHERE state = 0 AND"
			      " next_attempt <= ? ORDER BY next_attempt, id"
			      " LIMIT 1");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, now);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE) {
		sdb_fail(s, STORE_NOT_FOUND, "queue: nothing due");
		return -1;
	}
	if (rc != SQLITE_ROW)
		return -1;
	entry_r->id = sqlite3_column_int64(stmt, 0);
	entry_r->mail_from = sdb_col_strdup(stmt, 1);
	entry_r->rcpts = sdb_col_strdup(stmt, 2);
	if (sdb_col_blobdup(s, stmt, 3, &entry_r->mime, &entry_r->mime_len) < 0)
		goto out;
	entry_r->save_in_sent = sqlite3_column_int(stmt, 4) != 0;
	entry_r->attempts = sqlite3_column_int(stmt, 5);
	entry_r->next_attempt = sqlite3_column_int64(stmt, 6);
	entry_r->state = (enum store_queue_state)sqlite3_column_int(stmt, 7);
	entry_r->last_error = sdb_col_strdup(stmt, 8);
	if (sqlite3_column_type(stmt, 9) != SQLITE_NULL &&
	    sdb_col_blobdup(s, stmt, 9, &entry_r->saved, &entry_r->saved_len) <
		0)
		goto out;
	if (entry_r->mail_from == NULL || entry_r->rcpts == NULL) {
		sdb_fail(s, STORE_IO, "out of memory");
		goto out;
	}
	ret = 0;
out:
	sqlite3_reset(stmt);
	if (ret < 0)
		store_queue_entry_clear(entry_r);
	return ret;
}

int
store_queue_done(struct store *st, int64_t id)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt =
	    sdb_prepare(s, "DELETE FROM send_queue WHERE id = ?");

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	if (sdb_run(s, stmt) < 0)
		return -1;
	if (sdb_changes(s) == 0) {
		sdb_fail(s, STORE_NOT_FOUND, "queue: no entry %lld",
			 (long long)id);
		return -1;
	}
	return 0;
}

int
store_queue_failed(struct store *st, int64_t id, const char *error,
		   int64_t next_attempt, bool give_up)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;

	stmt = sdb_prepare(s, "UPDATE send_queue SET attempts = attempts + 1,"
			      " last_error = ?, next_attempt = ?, state = ?"
			      " WHERE id = ?");
	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, error);
	sqlite3_bind_int64(stmt, 2, next_attempt);
	sqlite3_bind_int(stmt, 3,
			 give_up ? STORE_QUEUE_FAILED : STORE_QUEUE_PENDING);
	sqlite3_bind_int64(stmt, 4, id);
	if (sdb_run(s, stmt) < 0)
		return -1;
	if (sdb_changes(s) == 0) {
		sdb_fail(s, STORE_NOT_FOUND, "queue: no entry %lld",
			 (long long)id);
		return -1;
	}
	return 0;
}

int
store_queue_count(struct store *st, int64_t *pending_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt =
	    sdb_prepare(s, "SELECT count(*) FROM send_queue WHERE state = 0");

	if (stmt == NULL || sdb_step(s, stmt) != SQLITE_ROW)
		return -1;
	*pending_r = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return 0;
}

void
store_queue_entry_clear(struct store_queue_entry *entry)
{
	free(entry->mail_from);
	free(entry->rcpts);
	free(entry->mime);
	free(entry->last_error);
	free(entry->saved);
	memset(entry, 0, sizeof(*entry));
}
