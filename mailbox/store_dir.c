/*
 * The SQL behind directory.h and devices.h: users, addresses, policies,
 * device access rules and devices in data_dir/directory.db.  Each public
 * call is one statement or one transaction.  Passwords are hashed with
 * password.c before they reach SQL; plaintext never touches the database.
 */
#include "mailbox/devices.h"
#include "mailbox/directory.h"
#include "mailbox/password.h"
#include "mailbox/secret.h"
#include "mailbox/store_int.h"

#include <fnmatch.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <errno.h>

#include "proto/limits.h"

struct store_dir {
	struct sdb sdb;
	/* A yescrypt hash of a fixed password, made on the first
	 * authentication (hashing costs tens of milliseconds: not at every
	 * open): unknown users are verified against it so that they cost
	 * the same as known ones. */
	char dummy_hash[PASSWORD_HASH_MAX];
};

int
store_dir_open(const char *data_dir, struct store_dir **dir_r,
	       struct store_error *error_r)
{
	char path[PATH_MAX];
	struct store_dir *dir;
	int n;

	*dir_r = NULL;
	n = snprintf(path, sizeof(path), "%s/directory.db", data_dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		if (error_r != NULL) {
			error_r->status = STORE_INVALID;
			(void)snprintf(error_r->msg, sizeof(error_r->msg),
				       "data_dir too long");
		}
		return -1;
	}
	if (mkdir(data_dir, 0700) < 0 && errno != EEXIST) {
		if (error_r != NULL) {
			error_r->status = STORE_IO;
			(void)snprintf(error_r->msg, sizeof(error_r->msg),
				       "mkdir %s: %s", data_dir,
				       strerror(errno));
		}
		return -1;
	}
	dir = calloc(1, sizeof(*dir));
	if (dir == NULL)
		return -1;
	if (sdb_open(&dir->sdb, path, schema_dir_migrations,
		     schema_dir_migration_count, error_r) < 0) {
		free(dir);
		return -1;
	}
	*dir_r = dir;
	return 0;
}

void
store_dir_close(struct store_dir **dir)
{
	if (dir == NULL || *dir == NULL)
		return;
	sdb_close(&(*dir)->sdb);
	free(*dir);
	*dir = NULL;
}

const struct store_error *
store_dir_last_error(const struct store_dir *dir)
{
	return &dir->sdb.err;
}

int
store_dir_check(struct store_dir *dir)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt = sdb_prepare(s, "PRAGMA integrity_check");
	const unsigned char *t;
	int ret = -1;

	if (stmt == NULL || sdb_step(s, stmt) != SQLITE_ROW)
		return -1;
	t = sqlite3_column_text(stmt, 0);
	if (t != NULL && strcmp((const char *)t, "ok") == 0)
		ret = 0;
	else
		sdb_fail(s, STORE_CORRUPT, "integrity_check failed");
	sqlite3_reset(stmt);
	return ret;
}

/* ---------------------------------------------------------- contact */

/* Per field: its column (in enum order), its label for messages, its
 * length bound and its character class. */
enum contact_kind { CONTACT_NAME, CONTACT_PHONE, CONTACT_ALIAS };

static const struct {
	const char *column;
	const char *label;
	size_t max;
	enum contact_kind kind;
} contact_fields[DIR_CONTACT_FIELDS] = {
    [DIR_CONTACT_DISPLAY_NAME] = {"display_name", "display name",
				  DIR_MAX_NAME_BYTES, CONTACT_NAME},
    [DIR_CONTACT_FIRST_NAME] = {"first_name", "first name", DIR_MAX_NAME_BYTES,
				CONTACT_NAME},
    [DIR_CONTACT_LAST_NAME] = {"last_name", "last name", DIR_MAX_NAME_BYTES,
			       CONTACT_NAME},
    [DIR_CONTACT_TITLE] = {"title", "title", DIR_MAX_NAME_BYTES, CONTACT_NAME},
    [DIR_CONTACT_COMPANY] = {"company", "company", DIR_MAX_NAME_BYTES,
			     CONTACT_NAME},
    [DIR_CONTACT_OFFICE] = {"office", "office", DIR_MAX_NAME_BYTES,
			    CONTACT_NAME},
    [DIR_CONTACT_PHONE] = {"phone", "phone", DIR_MAX_PHONE_BYTES,
			   CONTACT_PHONE},
    [DIR_CONTACT_MOBILE_PHONE] = {"mobile_phone", "mobile phone",
				  DIR_MAX_PHONE_BYTES, CONTACT_PHONE},
    [DIR_CONTACT_HOME_PHONE] = {"home_phone", "home phone", DIR_MAX_PHONE_BYTES,
				CONTACT_PHONE},
    [DIR_CONTACT_ALIAS] = {"alias", "alias", DIR_MAX_NAME_BYTES, CONTACT_ALIAS},
};

/* The contact columns in enum order, for SELECTs ("u." prefixed). */
#define CONTACT_COLS                                                     \
	"u.display_name, u.first_name, u.last_name, u.title, u.company," \
	" u.office, u.phone, u.mobile_phone, u.home_phone, u.alias"

void
dir_contact_clear(struct dir_contact *c)
{
	for (size_t i = 0; i < DIR_CONTACT_FIELDS; i++)
		free(c->f[i]);
	memset(c, 0, sizeof(*c));
}

const char *
dir_contact_field_label(enum dir_contact_field field)
{
	return (unsigned)field < DIR_CONTACT_FIELDS
		   ? contact_fields[field].label
		   : "?";
}

/* Length of the UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t left)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* NULL or a reason the value does not fit its kind. */
static const char *
contact_value_problem(enum contact_kind kind, const char *v, size_t len)
{
	const unsigned char *p = (const unsigned char *)v;
	bool digit = false;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(p + i, len - i);

		if (n == 0)
			return "not valid UTF-8";
		if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f))
			return "holds a control character";
		switch (kind) {
		case CONTACT_NAME:
			break;
		case CONTACT_PHONE:
			if (p[i] >= '0' && p[i] <= '9')
				digit = true;
			else if (n > 1 || strchr(" +-()./#*,;xX", p[i]) == NULL)
				return "only digits, spaces and + - ( ) . / # "
				       "* , ; x are allowed";
			break;
		case CONTACT_ALIAS:
			/* RFC 5322 3.2.3 atext, and dots: a mail nickname. */
			if (n > 1 ||
			    (!((p[i] >= 'a' && p[i] <= 'z') ||
			       (p[i] >= 'A' && p[i] <= 'Z') ||
			       (p[i] >= '0' && p[i] <= '9')) &&
			     strchr("!#$%&'*+-/=?^_`{|}~.", p[i]) == NULL))
				return "only letters, digits and . - _ and the "
				       "other RFC 5322 atom characters are "
				       "allowed (no spaces, no @)";
			break;
		}
		i += n;
	}
	if (kind == CONTACT_PHONE && !digit)
		return "holds no digit";
	return NULL;
}

int
dir_contact_validate(const struct dir_contact *c, unsigned mask,
		     struct store_error *error_r)
{
	for (size_t i = 0; i < DIR_CONTACT_FIELDS; i++) {
		const char *v = c->f[i], *why;
		size_t len;

		if ((mask & (1u << i)) == 0 || v == NULL || v[0] == '\0')
			continue;
		len = strnlen(v, contact_fields[i].max + 1);
		if (len > contact_fields[i].max) {
			error_r->status = STORE_INVALID;
			(void)snprintf(error_r->msg, sizeof(error_r->msg),
				       "%s longer than %zu bytes",
				       contact_fields[i].label,
				       contact_fields[i].max);
			return -1;
		}
		why = contact_value_problem(contact_fields[i].kind, v, len);
		if (why != NULL) {
			error_r->status = STORE_INVALID;
			(void)snprintf(error_r->msg, sizeof(error_r->msg),
				       "%s: %s", contact_fields[i].label, why);
			return -1;
		}
	}
	return 0;
}

/* Reads the DIR_CONTACT_FIELDS columns starting at col; -1 out of
 * memory (c cleared). */
static int
contact_from_row(sqlite3_stmt *stmt, int col, struct dir_contact *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < DIR_CONTACT_FIELDS; i++) {
		if (sqlite3_column_type(stmt, col + i) == SQLITE_NULL)
			continue;
		c->f[i] = sdb_col_strdup(stmt, col + i);
		if (c->f[i] == NULL) {
			dir_contact_clear(c);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ users */

void
dir_user_clear(struct dir_user *u)
{
	free(u->login);
	free(u->policy);
	dir_contact_clear(&u->contact);
	memset(u, 0, sizeof(*u));
}

void
dir_user_list_free(struct dir_user **users, size_t count)
{
	if (users == NULL || *users == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		dir_user_clear(&(*users)[i]);
	free(*users);
	*users = NULL;
}

void
dir_strings_free(char ***strs, size_t count)
{
	if (strs == NULL || *strs == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free((*strs)[i]);
	free(*strs);
	*strs = NULL;
}

static bool
text_valid(const char *s, size_t max)
{
	size_t len = s != NULL ? strlen(s) : 0;

	return len > 0 && len <= max;
}

/* Steps a statement expected to change exactly one row. */
static int
run_one(struct sdb *s, sqlite3_stmt *stmt, const char *what)
{
	if (sdb_run(s, stmt) < 0)
		return -1;
	if (sdb_changes(s) == 0) {
		sdb_fail(s, STORE_NOT_FOUND, "no such %s", what);
		return -1;
	}
	return 0;
}

int
store_dir_user_add(struct store_dir *dir, const char *login,
		   const char *password, int64_t now, int64_t *id_r)
{
	struct sdb *s = &dir->sdb;
	char hash[PASSWORD_HASH_MAX];
	sqlite3_stmt *stmt;
	int ret = -1;

	if (!text_valid(login, STORE_MAX_LOGIN_BYTES)) {
		sdb_fail(s, STORE_INVALID, "bad login name");
		return -1;
	}
	if (password_hash(password, hash, sizeof(hash)) < 0) {
		sdb_fail(s, STORE_INVALID, "cannot hash the password");
		return -1;
	}
	stmt = sdb_prepare(s, "INSERT INTO users(login, password_hash,"
			      " created) VALUES(?, ?, ?)");
	if (stmt == NULL)
		goto out;
	sdb_bind_text(stmt, 1, login);
	sdb_bind_text(stmt, 2, hash);
	sqlite3_bind_int64(stmt, 3, now);
	if (sdb_run(s, stmt) < 0)
		goto out;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(s->db);
	ret = 0;
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	return ret;
}

int
store_dir_user_del(struct store_dir *dir, int64_t id)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt = sdb_prepare(s, "DELETE FROM users WHERE id = ?");

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	return run_one(s, stmt, "user");
}

static int
user_from_row(struct sdb *s, sqlite3_stmt *stmt, struct dir_user *u)
{
	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(stmt, 0);
	u->login = sdb_col_strdup(stmt, 1);
	u->created = sqlite3_column_int64(stmt, 2);
	u->disabled = sqlite3_column_int(stmt, 3) != 0;
	u->policy = sdb_col_strdup(stmt, 4);
	u->photo_bytes =
	    (size_t)sqlite3_column_int64(stmt, 5 + DIR_CONTACT_FIELDS);
	if (u->login == NULL || contact_from_row(stmt, 5, &u->contact) < 0) {
		dir_user_clear(u);
		sdb_fail(s, STORE_IO, "out of memory");
		return -1;
	}
	return 0;
}

#define USER_COLS                                                       \
	"u.id, u.login, u.created, u.disabled, u.policy, " CONTACT_COLS \
	", coalesce(length(u.photo), 0)"

static int
user_query(struct store_dir *dir, const char *sql, int64_t id, const char *name,
	   struct dir_user *u_r)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;
	int rc, ret;

	memset(u_r, 0, sizeof(*u_r));
	stmt = sdb_prepare(s, sql);
	if (stmt == NULL)
		return -1;
	if (name != NULL)
		sdb_bind_text(stmt, 1, name);
	else
		sqlite3_bind_int64(stmt, 1, id);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE) {
		sdb_fail(s, STORE_NOT_FOUND, "no such user");
		return -1;
	}
	if (rc != SQLITE_ROW)
		return -1;
	ret = user_from_row(s, stmt, u_r);
	sqlite3_reset(stmt);
	return ret;
}

int
store_dir_user_get(struct store_dir *dir, int64_t id, struct dir_user *u_r)
{
	return user_query(dir,
			  "SELECT " USER_COLS " FROM users u WHERE u.id = ?",
			  id, NULL, u_r);
}

int
store_dir_user_find(struct store_dir *dir, const char *name,
		    struct dir_user *u_r)
{
	if (name == NULL) {
		sdb_fail(&dir->sdb, STORE_INVALID, "no name");
		return -1;
	}
	return user_query(dir,
			  "SELECT " USER_COLS " FROM users u WHERE u.login = ?1"
			  " UNION ALL SELECT " USER_COLS " FROM users u JOIN"
			  " addresses a ON a.user_id = u.id WHERE"
			  " a.address = ?1 LIMIT 1",
			  0, name, u_r);
}

int
store_dir_user_list(struct store_dir *dir, struct dir_user **users_r,
		    size_t *count_r)
{
	struct sdb *s = &dir->sdb;
	struct dir_user *users = NULL, *n;
	size_t count = 0;
	sqlite3_stmt *stmt;
	int rc;

	*users_r = NULL;
	*count_r = 0;
	stmt =
	    sdb_prepare(s, "SELECT " USER_COLS " FROM users u ORDER BY u.id");
	if (stmt == NULL)
		return -1;
	while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		n = realloc(users, (count + 1) * sizeof(*n));
		if (n == NULL || user_from_row(s, stmt, &n[count]) < 0) {
			if (n != NULL)
				users = n;
			sqlite3_reset(stmt);
			sdb_fail(s, STORE_IO, "out of memory");
			dir_user_list_free(&users, count);
			return -1;
		}
		users = n;
		count++;
	}
	if (rc < 0) {
		dir_user_list_free(&users, count);
		return -1;
	}
	*users_r = users;
	*count_r = count;
	return 0;
}

int
store_dir_user_set_password_hash(struct store_dir *dir, int64_t id,
				 const char *hash)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;

	if (!text_valid(hash, PASSWORD_HASH_MAX - 1)) {
		sdb_fail(s, STORE_INVALID, "bad password hash");
		return -1;
	}
	stmt =
	    sdb_prepare(s, "UPDATE users SET password_hash = ? WHERE id = ?");
	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, hash);
	sqlite3_bind_int64(stmt, 2, id);
	return run_one(s, stmt, "user");
}

int
store_dir_user_set_password(struct store_dir *dir, int64_t id,
			    const char *password)
{
	char hash[PASSWORD_HASH_MAX];
	int ret;

	if (password_hash(password, hash, sizeof(hash)) < 0) {
		sdb_fail(&dir->sdb, STORE_INVALID, "cannot hash the password");
		return -1;
	}
	ret = store_dir_user_set_password_hash(dir, id, hash);
	OPENSSL_cleanse(hash, sizeof(hash));
	return ret;
}

int
store_dir_user_set_disabled(struct store_dir *dir, int64_t id, bool disabled)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt =
	    sdb_prepare(s, "UPDATE users SET disabled = ? WHERE id = ?");

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int(stmt, 1, disabled);
	sqlite3_bind_int64(stmt, 2, id);
	return run_one(s, stmt, "user");
}

int
store_dir_user_set_contact(struct store_dir *dir, int64_t id,
			   const struct dir_contact *c, unsigned mask)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;

	if (dir_contact_validate(c, mask, &s->err) < 0)
		return -1;
	/* ?1: the mask; ?2..?11 the values in enum order (NULL clears). */
	stmt = sdb_prepare(
	    s, "UPDATE users SET"
	       " display_name = CASE WHEN ?1 & 1 THEN ?2 ELSE display_name END,"
	       " first_name = CASE WHEN ?1 & 2 THEN ?3 ELSE first_name END,"
	       " last_name = CASE WHEN ?1 & 4 THEN ?4 ELSE last_name END,"
	       " title = CASE WHEN ?1 & 8 THEN ?5 ELSE title END,"
	       " company = CASE WHEN ?1 & 16 THEN ?6 ELSE company END,"
	       " office = CASE WHEN ?1 & 32 THEN ?7 ELSE office END,"
	       " phone = CASE WHEN ?1 & 64 THEN ?8 ELSE phone END,"
	       " mobile_phone = CASE WHEN ?1 & 128 THEN ?9"
	       " ELSE mobile_phone END,"
	       " home_phone = CASE WHEN ?1 & 256 THEN ?10 ELSE home_phone END,"
	       " alias = CASE WHEN ?1 & 512 THEN ?11 ELSE alias END"
	       " WHERE id = ?12");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, (int64_t)(mask & DIR_CONTACT_ALL));
	for (int i = 0; i < DIR_CONTACT_FIELDS; i++)
		sdb_bind_text(stmt, i + 2,
			      c->f[i] != NULL && c->f[i][0] != '\0' ? c->f[i]
								    : NULL);
	sqlite3_bind_int64(stmt, 12, id);
	return run_one(s, stmt, "user");
}

/* JPEG (SOI marker) or PNG (signature): what phones can show. */
static bool
photo_format_ok(const uint8_t *d, size_t len)
{
	static const uint8_t png[] = {0x89, 'P',  'N',  'G',
				      '\r', '\n', 0x1a, '\n'};

	return (len >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) ||
	       (len >= sizeof(png) && memcmp(d, png, sizeof(png)) == 0);
}

int
store_dir_user_set_photo(struct store_dir *dir, int64_t id, const uint8_t *data,
			 size_t len)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;

	if (len > DIR_MAX_PHOTO_BYTES) {
		sdb_fail(s, STORE_INVALID, "photo larger than %u bytes",
			 DIR_MAX_PHOTO_BYTES);
		return -1;
	}
	if (len > 0 && !photo_format_ok(data, len)) {
		sdb_fail(s, STORE_INVALID, "photo: not a JPEG or PNG image");
		return -1;
	}
	stmt = sdb_prepare(s, "UPDATE users SET photo = ? WHERE id = ?");
	if (stmt == NULL)
		return -1;
	if (len > 0)
		sqlite3_bind_blob(stmt, 1, data, (int)len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, 1);
	sqlite3_bind_int64(stmt, 2, id);
	return run_one(s, stmt, "user");
}

int
store_dir_user_photo(struct store_dir *dir, int64_t id, uint8_t **data_r,
		     size_t *len_r)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;
	const void *blob;
	int rc, n, ret = -1;

	*data_r = NULL;
	*len_r = 0;
	stmt = sdb_prepare(s, "SELECT photo FROM users WHERE id = ?"
			      " AND photo IS NOT NULL");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE) {
		sdb_fail(s, STORE_NOT_FOUND, "no photo");
		return -1;
	}
	if (rc != SQLITE_ROW)
		return -1;
	blob = sqlite3_column_blob(stmt, 0);
	n = sqlite3_column_bytes(stmt, 0);
	if (blob == NULL || n <= 0)
		sdb_fail(s, STORE_NOT_FOUND, "no photo");
	else if ((*data_r = malloc((size_t)n)) == NULL)
		sdb_fail(s, STORE_IO, "out of memory");
	else {
		memcpy(*data_r, blob, (size_t)n);
		*len_r = (size_t)n;
		ret = 0;
	}
	sqlite3_reset(stmt);
	return ret;
}

int
store_dir_authenticate(struct store_dir *dir, const char *login,
		       const char *password, int64_t *id_r)
{
	struct sdb *s = &dir->sdb;
	char *hash = NULL;
	sqlite3_stmt *stmt;
	int64_t id = 0;
	bool known = false, disabled = false, ok;
	int rc;

	if (login == NULL || password == NULL) {
		sdb_fail(s, STORE_DENIED, "authentication failed");
		return -1;
	}
	if (dir->dummy_hash[0] == 0 &&
	    password_hash("easd-dummy-password", dir->dummy_hash,
			  sizeof(dir->dummy_hash)) < 0) {
		sdb_fail(s, STORE_IO, "cannot hash");
		return -1;
	}
	stmt = sdb_prepare(s, "SELECT id, password_hash, disabled FROM users"
			      " WHERE login = ?");
	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, login);
	rc = sdb_step(s, stmt);
	if (rc < 0)
		return -1;
	if (rc == SQLITE_ROW) {
		known = true;
		id = sqlite3_column_int64(stmt, 0);
		hash = sdb_col_strdup(stmt, 1);
		disabled = sqlite3_column_int(stmt, 2) != 0;
		sqlite3_reset(stmt);
	}
	/* The same hashing work whether or not the user exists. */
	ok = password_verify(password, hash != NULL ? hash : dir->dummy_hash);
	if (hash != NULL) {
		OPENSSL_cleanse(hash, strlen(hash));
		free(hash);
	}
	if (!known || !ok || disabled) {
		sdb_fail(s, STORE_DENIED, "authentication failed");
		return -1;
	}
	if (id_r != NULL)
		*id_r = id;
	return 0;
}

/* -------------------------------------------------------- addresses */

int
store_dir_address_add(struct store_dir *dir, int64_t user_id,
		      const char *address)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;

	if (!text_valid(address, STORE_MAX_LOGIN_BYTES) ||
	    strchr(address, '@') == NULL) {
		sdb_fail(s, STORE_INVALID, "bad address");
		return -1;
	}
	stmt = sdb_prepare(s, "INSERT INTO addresses(address, user_id)"
			      " VALUES(?, ?)");
	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, address);
	sqlite3_bind_int64(stmt, 2, user_id);
	if (sdb_run(s, stmt) < 0) {
		/* A missing user is a foreign-key failure, also a
		 * constraint: tell them apart for the caller. */
		struct dir_user u;

		if (store_dir_user_get(dir, user_id, &u) == 0) {
			dir_user_clear(&u);
			sdb_fail(s, STORE_EXISTS, "address %s is taken",
				 address);
		} else if (store_dir_last_error(dir)->status ==
			   STORE_NOT_FOUND) {
			sdb_fail(s, STORE_NOT_FOUND, "no user %lld",
				 (long long)user_id);
		}
		return -1;
	}
	return 0;
}

int
store_dir_address_del(struct store_dir *dir, const char *address)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt =
	    sdb_prepare(s, "DELETE FROM addresses WHERE address = ?");

	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, address);
	return run_one(s, stmt, "address");
}

/* The text column 0 of every row of a one-parameter query. */
static int
string_query(struct sdb *s, const char *sql, int64_t param, char ***strs_r,
	     size_t *count_r)
{
	char **strs = NULL, **n;
	size_t count = 0;
	sqlite3_stmt *stmt;
	int rc;

	*strs_r = NULL;
	*count_r = 0;
	stmt = sdb_prepare(s, sql);
	if (stmt == NULL)
		return -1;
	if (sqlite3_bind_parameter_count(stmt) > 0)
		sqlite3_bind_int64(stmt, 1, param);
	while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		n = realloc(strs, (count + 1) * sizeof(*n));
		if (n != NULL) {
			strs = n;
			strs[count] = sdb_col_strdup(stmt, 0);
		}
		if (n == NULL || strs[count] == NULL) {
			sqlite3_reset(stmt);
			sdb_fail(s, STORE_IO, "out of memory");
			dir_strings_free(&strs, count);
			return -1;
		}
		count++;
	}
	if (rc < 0) {
		dir_strings_free(&strs, count);
		return -1;
	}
	*strs_r = strs;
	*count_r = count;
	return 0;
}

int
store_dir_address_list(struct store_dir *dir, int64_t user_id, char ***addrs_r,
		       size_t *count_r)
{
	return string_query(&dir->sdb,
			    "SELECT address FROM addresses WHERE user_id = ?"
			    " ORDER BY address",
			    user_id, addrs_r, count_r);
}

/* --------------------------------------------------------- policies */

int
store_dir_policy_set(struct store_dir *dir, const char *name, const char *body)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;

	if (!text_valid(name, STORE_MAX_LOGIN_BYTES) || body == NULL) {
		sdb_fail(s, STORE_INVALID, "bad policy");
		return -1;
	}
	stmt = sdb_prepare(s, "INSERT INTO policies(name, body) VALUES(?1, ?2)"
			      " ON CONFLICT(name) DO UPDATE SET body = ?2");
	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, name);
	sdb_bind_text(stmt, 2, body);
	return sdb_run(s, stmt);
}

static int
text_row(struct sdb *s, sqlite3_stmt *stmt, const char *what, char **a_r,
	 char **b_r)
{
	int rc = sdb_step(s, stmt);

	if (rc == SQLITE_DONE) {
		sdb_fail(s, STORE_NOT_FOUND, "no %s", what);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return -1;
	*a_r = sdb_col_strdup(stmt, 0);
	if (b_r != NULL)
		*b_r = sdb_col_strdup(stmt, 1);
	sqlite3_reset(stmt);
	if (*a_r == NULL || (b_r != NULL && *b_r == NULL)) {
		free(*a_r);
		*a_r = NULL;
		if (b_r != NULL) {
			free(*b_r);
			*b_r = NULL;
		}
		sdb_fail(s, STORE_IO, "out of memory");
		return -1;
	}
	return 0;
}

int
store_dir_policy_get(struct store_dir *dir, const char *name, char **body_r)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt =
	    sdb_prepare(s, "SELECT body FROM policies WHERE name = ?");

	*body_r = NULL;
	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, name);
	return text_row(s, stmt, "policy", body_r, NULL);
}

int
store_dir_policy_del(struct store_dir *dir, const char *name)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt =
	    sdb_prepare(s, "DELETE FROM policies WHERE name = ?");

	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, name);
	return run_one(s, stmt, "policy");
}

int
store_dir_policy_list(struct store_dir *dir, char ***names_r, size_t *count_r)
{
	return string_query(&dir->sdb,
			    "SELECT name FROM policies ORDER BY name", 0,
			    names_r, count_r);
}

int
store_dir_policy_set_default(struct store_dir *dir, const char *name)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;

	if (sdb_begin(s) < 0)
		return -1;
	if (sdb_exec(s, "UPDATE policies SET is_default = 0") < 0)
		goto fail;
	if (name != NULL) {
		stmt = sdb_prepare(
		    s, "UPDATE policies SET is_default = 1 WHERE name = ?");
		if (stmt == NULL)
			goto fail;
		sdb_bind_text(stmt, 1, name);
		if (run_one(s, stmt, "policy") < 0)
			goto fail;
	}
	return sdb_commit(s);
fail:
	sdb_rollback(s);
	return -1;
}

int
store_dir_user_set_policy(struct store_dir *dir, int64_t user_id,
			  const char *name)
{
	struct sdb *s = &dir->sdb;
	char *body = NULL;
	sqlite3_stmt *stmt;

	if (name != NULL && store_dir_policy_get(dir, name, &body) < 0)
		return -1;
	free(body);
	stmt = sdb_prepare(s, "UPDATE users SET policy = ? WHERE id = ?");
	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, name);
	sqlite3_bind_int64(stmt, 2, user_id);
	return run_one(s, stmt, "user");
}

int
store_dir_policy_for_user(struct store_dir *dir, int64_t user_id, char **name_r,
			  char **body_r)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;

	*name_r = NULL;
	*body_r = NULL;
	stmt = sdb_prepare(
	    s, "SELECT p.name, p.body FROM policies p WHERE p.name ="
	       " (SELECT policy FROM users WHERE id = ?1) UNION ALL"
	       " SELECT name, body FROM policies WHERE is_default = 1"
	       " LIMIT 1");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, user_id);
	return text_row(s, stmt, "policy", name_r, body_r);
}

/* ----------------------------------------------------- access rules */

void
dir_rule_list_free(struct dir_rule **rules, size_t count)
{
	if (rules == NULL || *rules == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free((*rules)[i].pattern);
	free(*rules);
	*rules = NULL;
}

static bool
access_valid(int level)
{
	return level >= DIR_ACCESS_ALLOW && level <= DIR_ACCESS_QUARANTINE;
}

int
store_dir_rule_add(struct store_dir *dir, enum dir_rule_kind kind,
		   const char *pattern, enum dir_access level, int64_t *id_r)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;

	if (kind < DIR_RULE_DEVICE_TYPE || kind > DIR_RULE_USER_AGENT ||
	    !access_valid((int)level) ||
	    !text_valid(pattern, STORE_MAX_LOGIN_BYTES)) {
		sdb_fail(s, STORE_INVALID, "bad access rule");
		return -1;
	}
	stmt = sdb_prepare(s, "INSERT INTO access_rules(kind, pattern, level)"
			      " VALUES(?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int(stmt, 1, (int)kind);
	sdb_bind_text(stmt, 2, pattern);
	sqlite3_bind_int(stmt, 3, (int)level);
	if (sdb_run(s, stmt) < 0)
		return -1;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_dir_rule_del(struct store_dir *dir, int64_t id)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt =
	    sdb_prepare(s, "DELETE FROM access_rules WHERE id = ?");

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	return run_one(s, stmt, "rule");
}

int
store_dir_rule_list(struct store_dir *dir, struct dir_rule **rules_r,
		    size_t *count_r)
{
	struct sdb *s = &dir->sdb;
	struct dir_rule *rules = NULL, *n;
	size_t count = 0;
	sqlite3_stmt *stmt;
	int rc;

	*rules_r = NULL;
	*count_r = 0;
	stmt = sdb_prepare(s, "SELECT id, kind, pattern, level FROM"
			      " access_rules ORDER BY id");
	if (stmt == NULL)
		return -1;
	while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		n = realloc(rules, (count + 1) * sizeof(*n));
		if (n != NULL) {
			rules = n;
			rules[count].id = sqlite3_column_int64(stmt, 0);
			rules[count].kind =
			    (enum dir_rule_kind)sqlite3_column_int(stmt, 1);
			rules[count].pattern = sdb_col_strdup(stmt, 2);
			rules[count].level =
			    (enum dir_access)sqlite3_column_int(stmt, 3);
		}
		if (n == NULL || rules[count].pattern == NULL) {
			sqlite3_reset(stmt);
			sdb_fail(s, STORE_IO, "out of memory");
			dir_rule_list_free(&rules, count);
			return -1;
		}
		count++;
	}
	if (rc < 0) {
		dir_rule_list_free(&rules, count);
		return -1;
	}
	*rules_r = rules;
	*count_r = count;
	return 0;
}

int
store_dir_default_access_set(struct store_dir *dir, enum dir_access level)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;

	if (!access_valid((int)level)) {
		sdb_fail(s, STORE_INVALID, "bad access level");
		return -1;
	}
	stmt = sdb_prepare(s, "INSERT OR REPLACE INTO settings(key, value)"
			      " VALUES('default_access', ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int(stmt, 1, (int)level);
	return sdb_run(s, stmt);
}

int
store_dir_default_access_get(struct store_dir *dir, enum dir_access *level_r)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;
	int rc;

	*level_r = DIR_ACCESS_ALLOW;
	stmt = sdb_prepare(s, "SELECT CAST(value AS INTEGER) FROM settings"
			      " WHERE key = 'default_access'");
	if (stmt == NULL)
		return -1;
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_ROW) {
		int v = sqlite3_column_int(stmt, 0);

		sqlite3_reset(stmt);
		if (access_valid(v))
			*level_r = (enum dir_access)v;
		return 0;
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_dir_access_evaluate(struct store_dir *dir, const struct dir_device *d,
			  enum dir_access *level_r)
{
	struct dir_rule *rules = NULL;
	size_t count;

	if (store_dir_rule_list(dir, &rules, &count) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		const char *value = NULL;

		switch (rules[i].kind) {
		case DIR_RULE_DEVICE_TYPE:
			value = d->device_type;
			break;
		case DIR_RULE_MODEL:
			value = d->model;
			break;
		case DIR_RULE_OS:
			value = d->os;
			break;
		case DIR_RULE_USER_AGENT:
			value = d->user_agent;
			break;
		}
		if (value != NULL &&
		    fnmatch(rules[i].pattern, value, FNM_CASEFOLD) == 0) {
			*level_r = rules[i].level;
			dir_rule_list_free(&rules, count);
			return 0;
		}
	}
	dir_rule_list_free(&rules, count);
	return store_dir_default_access_get(dir, level_r);
}

/* ---------------------------------------------------------- devices */

void
dir_device_clear(struct dir_device *d)
{
	char **strs[] = {&d->device_id,
			 &d->device_type,
			 &d->model,
			 &d->imei,
			 &d->os,
			 &d->user_agent,
			 &d->friendly_name,
			 &d->protocol_version,
			 &d->policy_hash,
			 &d->access_reason,
			 &d->phone_number,
			 &d->os_language,
			 &d->mobile_operator};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]);
	free(d->recovery_sealed);
	memset(d, 0, sizeof(*d));
}

void
dir_device_list_free(struct dir_device **devs, size_t count)
{
	if (devs == NULL || *devs == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		dir_device_clear(&(*devs)[i]);
	free(*devs);
	*devs = NULL;
}

/* NULL (not given) or within the limit. */
static bool
device_text_valid(const char *s)
{
	return s == NULL || strnlen(s, STORE_MAX_DEVICE_TEXT_BYTES + 1) <=
				STORE_MAX_DEVICE_TEXT_BYTES;
}

#define DEVICE_COLS                                                     \
	"user_id, device_id, device_type, model, imei, os, user_agent," \
	" friendly_name, protocol_version, first_sync, last_sync,"      \
	" policy_key, policy_key_state, policy_hash, access_state,"     \
	" access_reason, wipe_state, wipe_requested, wipe_acked,"       \
	" phone_number, os_language, mobile_operator,"                  \
	" enable_outbound_sms, recovery_password_sealed"

static int
device_from_row(struct sdb *s, sqlite3_stmt *stmt, struct dir_device *d)
{
	char **strs[] = {&d->device_id,
			 &d->device_type,
			 &d->model,
			 &d->imei,
			 &d->os,
			 &d->user_agent,
			 &d->friendly_name,
			 &d->protocol_version};

	memset(d, 0, sizeof(*d));
	d->user_id = sqlite3_column_int64(stmt, 0);
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		*strs[i] = sdb_col_strdup(stmt, (int)i + 1);
	d->first_sync = sqlite3_column_int64(stmt, 9);
	d->last_sync = sqlite3_column_int64(stmt, 10);
	d->policy_key = (uint32_t)sqlite3_column_int64(stmt, 11);
	d->policy_state = (enum dev_policy_state)sqlite3_column_int(stmt, 12);
	d->policy_hash = sdb_col_strdup(stmt, 13);
	d->access = (enum dir_access)sqlite3_column_int(stmt, 14);
	d->access_reason = sdb_col_strdup(stmt, 15);
	d->wipe = (enum dev_wipe)sqlite3_column_int(stmt, 16);
	d->wipe_requested = sqlite3_column_int64(stmt, 17);
	d->wipe_acked = sqlite3_column_int64(stmt, 18);
	d->phone_number = sdb_col_strdup(stmt, 19);
	d->os_language = sdb_col_strdup(stmt, 20);
	d->mobile_operator = sdb_col_strdup(stmt, 21);
	d->enable_outbound_sms = sqlite3_column_int(stmt, 22) != 0;
	if (d->device_id == NULL ||
	    sdb_col_blobdup(s, stmt, 23, &d->recovery_sealed,
			    &d->recovery_sealed_len) < 0) {
		sdb_fail(s, STORE_IO, "out of memory");
		dir_device_clear(d);
		return -1;
	}
	return 0;
}

int
store_dir_device_get(struct store_dir *dir, int64_t user_id,
		     const char *device_id, struct dir_device *d_r)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;
	int rc, ret;

	memset(d_r, 0, sizeof(*d_r));
	stmt = sdb_prepare(s, "SELECT " DEVICE_COLS " FROM devices WHERE"
			      " user_id = ? AND device_id = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, user_id);
	sdb_bind_text(stmt, 2, device_id);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE) {
		sdb_fail(s, STORE_NOT_FOUND, "no such device");
		return -1;
	}
	if (rc != SQLITE_ROW)
		return -1;
	ret = device_from_row(s, stmt, d_r);
	sqlite3_reset(stmt);
	return ret;
}

int
store_dir_device_list(struct store_dir *dir, int64_t user_id,
		      struct dir_device **devs_r, size_t *count_r)
{
	struct sdb *s = &dir->sdb;
	struct dir_device *devs = NULL, *n;
	size_t count = 0;
	sqlite3_stmt *stmt;
	int rc;

	*devs_r = NULL;
	*count_r = 0;
	stmt = sdb_prepare(s, "SELECT " DEVICE_COLS " FROM devices WHERE"
			      " ?1 = 0 OR user_id = ?1"
			      " ORDER BY user_id, device_id");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, user_id);
	while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		n = realloc(devs, (count + 1) * sizeof(*n));
		if (n == NULL) {
			sqlite3_reset(stmt);
			sdb_fail(s, STORE_IO, "out of memory");
			dir_device_list_free(&devs, count);
			return -1;
		}
		devs = n;
		if (device_from_row(s, stmt, &devs[count]) < 0) {
			sqlite3_reset(stmt);
			dir_device_list_free(&devs, count);
			return -1;
		}
		count++;
	}
	if (rc < 0) {
		dir_device_list_free(&devs, count);
		return -1;
	}
	*devs_r = devs;
	*count_r = count;
	return 0;
}

int
store_dir_device_seen(struct store_dir *dir, int64_t user_id,
		      const char *device_id, const char *device_type,
		      const char *user_agent, const char *protocol_version,
		      int64_t now, struct dir_device *d_r)
{
	struct sdb *s = &dir->sdb;
	struct dir_device probe;
	enum dir_access level;
	sqlite3_stmt *stmt;

	if (!text_valid(device_id, STORE_MAX_DEVICE_ID_BYTES) ||
	    !device_text_valid(device_type) || !device_text_valid(user_agent) ||
	    !device_text_valid(protocol_version)) {
		sdb_fail(s, STORE_INVALID, "bad device id or description");
		return -1;
	}
	if (sdb_begin(s) < 0)
		return -1;
	/* The access level only matters for a new partnership; existing
	 * devices keep theirs (an administrator may have changed it). */
	memset(&probe, 0, sizeof(probe));
	probe.device_type = (char *)(uintptr_t)device_type;
	probe.user_agent = (char *)(uintptr_t)user_agent;
	if (store_dir_access_evaluate(dir, &probe, &level) < 0)
		goto fail;
	stmt = sdb_prepare(
	    s, "INSERT INTO devices(user_id, device_id, device_type,"
	       " user_agent, protocol_version, first_sync, last_sync,"
	       " access_state, access_reason)"
	       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7,"
	       " CASE WHEN ?7 != 0 THEN 'access rule' END)"
	       " ON CONFLICT(user_id, device_id) DO UPDATE SET"
	       " device_type = coalesce(?3, device_type),"
	       " user_agent = coalesce(?4, user_agent),"
	       " protocol_version = coalesce(?5, protocol_version),"
	       " last_sync = ?6");
	if (stmt == NULL)
		goto fail;
	sqlite3_bind_int64(stmt, 1, user_id);
	sdb_bind_text(stmt, 2, device_id);
	sdb_bind_text(stmt, 3, device_type);
	sdb_bind_text(stmt, 4, user_agent);
	sdb_bind_text(stmt, 5, protocol_version);
	sqlite3_bind_int64(stmt, 6, now);
	sqlite3_bind_int(stmt, 7, (int)level);
	if (sdb_run(s, stmt) < 0)
		goto fail;
	if (sdb_commit(s) < 0)
		return -1;
	if (d_r != NULL)
		return store_dir_device_get(dir, user_id, device_id, d_r);
	return 0;
fail:
	sdb_rollback(s);
	return -1;
}

int
store_dir_device_set_info(struct store_dir *dir, int64_t user_id,
			  const char *device_id, const struct dir_device *info)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;

	if (!device_text_valid(info->model) || !device_text_valid(info->imei) ||
	    !device_text_valid(info->os) ||
	    !device_text_valid(info->friendly_name) ||
	    !device_text_valid(info->user_agent) ||
	    !device_text_valid(info->device_type) ||
	    !device_text_valid(info->phone_number) ||
	    !device_text_valid(info->os_language) ||
	    !device_text_valid(info->mobile_operator)) {
		sdb_fail(s, STORE_INVALID, "device description too long");
		return -1;
	}
	/* EnableOutboundSMS travels only inside a DeviceInformation, so it
	 * changes only when some text field came with it (?12). */
	stmt = sdb_prepare(s, "UPDATE devices SET"
			      " model = coalesce(?3, model),"
			      " imei = coalesce(?4, imei),"
			      " os = coalesce(?5, os),"
			      " friendly_name = coalesce(?6, friendly_name),"
			      " user_agent = coalesce(?7, user_agent),"
			      " device_type = coalesce(?8, device_type),"
			      " phone_number = coalesce(?9, phone_number),"
			      " os_language = coalesce(?10, os_language),"
			      " mobile_operator = coalesce(?11,"
			      " mobile_operator),"
			      " enable_outbound_sms = CASE WHEN ?12 THEN ?13"
			      " ELSE enable_outbound_sms END"
			      " WHERE user_id = ?1 AND device_id = ?2");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, user_id);
	sdb_bind_text(stmt, 2, device_id);
	sdb_bind_text(stmt, 3, info->model);
	sdb_bind_text(stmt, 4, info->imei);
	sdb_bind_text(stmt, 5, info->os);
	sdb_bind_text(stmt, 6, info->friendly_name);
	sdb_bind_text(stmt, 7, info->user_agent);
	sdb_bind_text(stmt, 8, info->device_type);
	sdb_bind_text(stmt, 9, info->phone_number);
	sdb_bind_text(stmt, 10, info->os_language);
	sdb_bind_text(stmt, 11, info->mobile_operator);
	sqlite3_bind_int(
	    stmt, 12,
	    info->model != NULL || info->imei != NULL || info->os != NULL ||
		info->friendly_name != NULL || info->user_agent != NULL ||
		info->phone_number != NULL || info->os_language != NULL ||
		info->mobile_operator != NULL);
	sqlite3_bind_int(stmt, 13, info->enable_outbound_sms);
	return run_one(s, stmt, "device");
}

int
store_dir_device_set_recovery_sealed(struct store_dir *dir, int64_t user_id,
				     const char *device_id,
				     const uint8_t *sealed, size_t sealed_len)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;

	if (sealed != NULL &&
	    (sealed_len == 0 ||
	     sealed_len > STORE_MAX_DEVICE_TEXT_BYTES + SECRET_OVERHEAD)) {
		sdb_fail(s, STORE_INVALID, "recovery password too long");
		return -1;
	}
	stmt =
	    sdb_prepare(s, "UPDATE devices SET recovery_password_sealed = ?3,"
			   " recovery_password = NULL"
			   " WHERE user_id = ?1 AND device_id = ?2");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, user_id);
	sdb_bind_text(stmt, 2, device_id);
	if (sealed != NULL)
		sqlite3_bind_blob64(stmt, 3, sealed, sealed_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 3);
	return run_one(s, stmt, "device");
}

struct plain_pw {
	int64_t user_id;
	char *device_id, *plain;
};

static void
plain_pw_free(struct plain_pw *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].device_id);
		if (list[i].plain != NULL) {
			OPENSSL_cleanse(list[i].plain, strlen(list[i].plain));
			free(list[i].plain);
		}
	}
	free(list);
}

int
store_dir_devpw_migrate(struct store_dir *dir, store_dir_seal_fn *seal,
			void *ctx, size_t *count_r)
{
	struct sdb *s = &dir->sdb;
	struct plain_pw *list = NULL, *grown;
	size_t n = 0, cap = 0;
	sqlite3_stmt *stmt;
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	int rc, ret = -1;

	*count_r = 0;
	stmt =
	    sdb_prepare(s, "SELECT user_id, device_id, recovery_password"
			   " FROM devices WHERE recovery_password IS NOT NULL");
	if (stmt == NULL)
		return -1;
	while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			grown = realloc(list, cap * sizeof(*list));
			if (grown == NULL) {
				sqlite3_reset(stmt);
				sdb_fail(s, STORE_IO, "out of memory");
				goto out;
			}
			list = grown;
		}
		list[n].user_id = sqlite3_column_int64(stmt, 0);
		list[n].device_id = sdb_col_strdup(stmt, 1);
		list[n].plain = sdb_col_strdup(stmt, 2);
		n++;
		if (list[n - 1].device_id == NULL ||
		    list[n - 1].plain == NULL) {
			sqlite3_reset(stmt);
			sdb_fail(s, STORE_IO, "out of memory");
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		goto out;
	if (n == 0) {
		ret = 0;
		goto out;
	}
	/* Zero what the updates free, so the old text leaves the file. */
	if (sdb_exec(s, "PRAGMA secure_delete = ON") < 0 || sdb_begin(s) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (seal(ctx, list[i].user_id, list[i].device_id, list[i].plain,
			 &sealed, &sealed_len) < 0) {
			sdb_fail(s, STORE_IO, "sealing a recovery password");
			sdb_rollback(s);
			goto out;
		}
		if (store_dir_device_set_recovery_sealed(
			dir, list[i].user_id, list[i].device_id, sealed,
			sealed_len) < 0) {
			sdb_rollback(s);
			goto out;
		}
		free(sealed);
		sealed = NULL;
	}
	if (sdb_commit(s) < 0)
		goto out;
	/* The WAL held the new pages only, but may still hold frames of
	 * the old ones from before: copy everything back and empty it. */
	if (sdb_exec(s, "PRAGMA wal_checkpoint(TRUNCATE)") < 0)
		goto out;
	*count_r = n;
	ret = 0;
out:
	free(sealed);
	plain_pw_free(list, n);
	return ret;
}

int
store_dir_device_del(struct store_dir *dir, int64_t user_id,
		     const char *device_id)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt = sdb_prepare(
	    s, "DELETE FROM devices WHERE user_id = ? AND device_id = ?");

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, user_id);
	sdb_bind_text(stmt, 2, device_id);
	return run_one(s, stmt, "device");
}

int
store_dir_device_set_policy(struct store_dir *dir, int64_t user_id,
			    const char *device_id, uint32_t policy_key,
			    enum dev_policy_state state,
			    const char *policy_hash)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;

	stmt = sdb_prepare(s, "UPDATE devices SET policy_key = ?3,"
			      " policy_key_state = ?4, policy_hash = ?5"
			      " WHERE user_id = ?1 AND device_id = ?2");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, user_id);
	sdb_bind_text(stmt, 2, device_id);
	sqlite3_bind_int64(stmt, 3, policy_key);
	sqlite3_bind_int(stmt, 4, (int)state);
	sdb_bind_text(stmt, 5, policy_hash);
	return run_one(s, stmt, "device");
}

int
store_dir_device_set_access(struct store_dir *dir, int64_t user_id,
			    const char *device_id, enum dir_access level,
			    const char *reason)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt;

	if (!access_valid((int)level)) {
		sdb_fail(s, STORE_INVALID, "bad access level");
		return -1;
	}
	stmt = sdb_prepare(s, "UPDATE devices SET access_state = ?3,"
			      " access_reason = ?4"
			      " WHERE user_id = ?1 AND device_id = ?2");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, user_id);
	sdb_bind_text(stmt, 2, device_id);
	sqlite3_bind_int(stmt, 3, (int)level);
	sdb_bind_text(stmt, 4, reason);
	return run_one(s, stmt, "device");
}

static int
device_wipe_set(struct store_dir *dir, int64_t user_id, const char *device_id,
		const char *sql, int state, int64_t now)
{
	struct sdb *s = &dir->sdb;
	sqlite3_stmt *stmt = sdb_prepare(s, sql);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, user_id);
	sdb_bind_text(stmt, 2, device_id);
	sqlite3_bind_int(stmt, 3, state);
	sqlite3_bind_int64(stmt, 4, now);
	return run_one(s, stmt, "device");
}

int
store_dir_device_wipe_request(struct store_dir *dir, int64_t user_id,
			      const char *device_id, bool account_only,
			      int64_t now)
{
	return device_wipe_set(
	    dir, user_id, device_id,
	    "UPDATE devices SET wipe_state = ?3, wipe_requested = ?4,"
	    " wipe_acked = 0 WHERE user_id = ?1 AND device_id = ?2",
	    account_only ? DEV_WIPE_PENDING_ACCOUNT_ONLY : DEV_WIPE_PENDING,
	    now);
}

int
store_dir_device_wipe_ack(struct store_dir *dir, int64_t user_id,
			  const char *device_id, int64_t now)
{
	/* Only a pending wipe can be acknowledged. */
	return device_wipe_set(
	    dir, user_id, device_id,
	    "UPDATE devices SET wipe_state = ?3, wipe_acked = ?4,"
	    " access_state = 1, access_reason = 'wiped'"
	    " WHERE user_id = ?1 AND device_id = ?2 AND wipe_state IN (1, 2)",
	    DEV_WIPE_ACKNOWLEDGED, now);
}

int
store_dir_device_wipe_clear(struct store_dir *dir, int64_t user_id,
			    const char *device_id)
{
	return device_wipe_set(
	    dir, user_id, device_id,
	    "UPDATE devices SET wipe_state = ?3, wipe_requested = ?4,"
	    " wipe_acked = 0, access_state = 0, access_reason = NULL"
	    " WHERE user_id = ?1 AND device_id = ?2",
	    DEV_WIPE_NONE, 0);
}

/* ------------------------------------------------------------- GAL */

void
dir_gal_entries_free(struct dir_gal_entry **entries, size_t count)
{
	if (*entries == NULL)
		return;
	for (size_t i = 0; i < count; i++) {
		free((*entries)[i].login);
		free((*entries)[i].address);
		free((*entries)[i].display_name);
		dir_contact_clear(&(*entries)[i].contact);
	}
	free(*entries);
	*entries = NULL;
}

/* "prefix%" for LIKE (len bytes of prefix), with the pattern characters
 * of the prefix escaped by '\' so that "a_b" matches only itself. */
static char *
gal_like_pattern(const char *prefix, size_t len)
{
	char *p = malloc(2 * len + 2), *o = p;

	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (prefix[i] == '%' || prefix[i] == '_' || prefix[i] == '\\')
			*o++ = '\\';
		*o++ = prefix[i];
	}
	*o++ = '%';
	*o = '\0';
	return p;
}

/* One GAL row: login, primary address, effective display name, then the
 * contact columns. */
static int
gal_from_row(sqlite3_stmt *stmt, struct dir_gal_entry *e)
{
	e->login = sdb_col_strdup(stmt, 0);
	e->address = sqlite3_column_type(stmt, 1) == SQLITE_NULL
			 ? strdup("")
			 : sdb_col_strdup(stmt, 1);
	e->display_name = sdb_col_strdup(stmt, 2);
	e->id = sqlite3_column_int64(stmt, 3 + DIR_CONTACT_FIELDS);
	e->photo_bytes =
	    (size_t)sqlite3_column_int64(stmt, 4 + DIR_CONTACT_FIELDS);
	if (e->login == NULL || e->address == NULL || e->display_name == NULL ||
	    contact_from_row(stmt, 3, &e->contact) < 0)
		return -1;
	return 0;
}

int
store_dir_gal_search(struct store_dir *dir, const char *prefix, size_t first,
		     size_t max, struct dir_gal_entry **entries_r,
		     size_t *count_r, size_t *total_r)
{
	struct sdb *s = &dir->sdb;
	struct dir_gal_entry *e = NULL;
	sqlite3_stmt *stmt;
	size_t count = 0, total = 0, len;
	char *like = NULL, *w1 = NULL, *w2 = NULL;
	const char *space, *rest;
	int rc, ret = -1;

	*entries_r = NULL;
	*count_r = 0;
	*total_r = 0;
	if (!text_valid(prefix, STORE_MAX_LOGIN_BYTES)) {
		sdb_fail(s, STORE_INVALID, "bad GAL query");
		return -1;
	}
	/* As typed on a phone: surrounding blanks are not part of a name. */
	while (*prefix == ' ')
		prefix++;
	len = strlen(prefix);
	while (len > 0 && prefix[len - 1] == ' ')
		len--;
	if (len == 0) {
		sdb_fail(s, STORE_INVALID, "blank GAL query");
		return -1;
	}
	like = gal_like_pattern(prefix, len);
	/* "Ann Sm" (or "Smith A"): first and last name by their prefixes,
	 * split at the first space. */
	space = memchr(prefix, ' ', len);
	if (space != NULL) {
		rest = space;
		while (*rest == ' ')
			rest++;
		w1 = gal_like_pattern(prefix, (size_t)(space - prefix));
		w2 = gal_like_pattern(rest, len - (size_t)(rest - prefix));
		if (w1 == NULL || w2 == NULL)
			goto oom;
	}
	e = max > 0 ? calloc(max, sizeof(*e)) : NULL;
	if (like == NULL || (max > 0 && e == NULL))
		goto oom;
	/* Prefix look-ups on the NOCASE indexes of login, names, alias and
	 * address (LIKE is case-insensitive there), so the cost follows
	 * the matches, not the directory's size.  The display name falls
	 * back to the primary address's local part, then the login. */
	stmt = sdb_prepare(
	    s, "WITH m(id) AS ("
	       "SELECT id FROM users WHERE login LIKE ?1 ESCAPE '\\'"
	       " UNION SELECT id FROM users WHERE display_name LIKE ?1"
	       " ESCAPE '\\'"
	       " UNION SELECT id FROM users WHERE first_name LIKE ?1"
	       " ESCAPE '\\'"
	       " UNION SELECT id FROM users WHERE last_name LIKE ?1"
	       " ESCAPE '\\'"
	       " UNION SELECT id FROM users WHERE alias LIKE ?1 ESCAPE '\\'"
	       " UNION SELECT user_id FROM addresses WHERE"
	       " address LIKE ?1 ESCAPE '\\'"
	       " UNION SELECT id FROM users WHERE ?2 IS NOT NULL AND"
	       " first_name LIKE ?2 ESCAPE '\\' AND last_name LIKE ?3"
	       " ESCAPE '\\'"
	       " UNION SELECT id FROM users WHERE ?2 IS NOT NULL AND"
	       " last_name LIKE ?2 ESCAPE '\\' AND first_name LIKE ?3"
	       " ESCAPE '\\'),"
	       " g AS (SELECT u.*, (SELECT min(address) FROM addresses"
	       " WHERE user_id = u.id) AS addr FROM m JOIN users u"
	       " ON u.id = m.id WHERE u.disabled = 0)"
	       " SELECT u.login, u.addr, coalesce(u.display_name,"
	       " CASE WHEN instr(u.addr, '@') > 1 THEN"
	       " substr(u.addr, 1, instr(u.addr, '@') - 1) END, u.login)"
	       " AS dn, " CONTACT_COLS ", u.id,"
	       " coalesce(length(u.photo), 0) FROM g u"
	       " ORDER BY dn COLLATE NOCASE, u.login");
	if (stmt == NULL)
		goto out;
	sdb_bind_text(stmt, 1, like);
	sdb_bind_text(stmt, 2, w1);
	sdb_bind_text(stmt, 3, w2);
	while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		if (total >= first && count < max) {
			if (gal_from_row(stmt, &e[count++]) < 0) {
				sqlite3_reset(stmt);
				goto oom;
			}
		}
		total++;
	}
	if (rc < 0)
		goto out;
	*entries_r = e;
	*count_r = count;
	*total_r = total;
	e = NULL;
	ret = 0;
	goto out;
oom:
	sdb_fail(s, STORE_IO, "out of memory");
out:
	dir_gal_entries_free(&e, count);
	free(like);
	free(w1);
	free(w2);
	return ret;
}
