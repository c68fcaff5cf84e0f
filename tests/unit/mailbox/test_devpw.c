/*
 * The DevicePassword recovery password at rest (mailbox/secret.h,
 * rpc_oof.c, store_dir.c): set through the RPC as a CAS does, it is read
 * back by DevicePasswordGet for an administrator only, never appears in
 * the directory's files, does not open under another key, and "" clears
 * it.  And the upgrade: a directory of schema v2 holding a plain value is
 * migrated -- sealed, the plain column emptied, the text gone from the
 * database file -- and a second start finds nothing left to seal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "mailbox/devices.h"
#include "mailbox/directory.h"
#include "mailbox/store_int.h"
#include "tests/unit/mailbox/mbox_harness.h"

/* Whether a file holds the bytes of needle (a missing file holds none). */
static bool
file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0, n;
	bool found;

	if (f == NULL)
		return false;
	do {
		if (len == cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			data = realloc(data, cap);
			assert_non_null(data);
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	found = memmem(data, len, needle, strlen(needle)) != NULL;
	free(data);
	return found;
}

/* The directory's database and its WAL. */
static bool
dir_files_have(const char *dir, const char *needle)
{
	char path[256];
	bool found;

	(void)snprintf(path, sizeof(path), "%s/directory.db", dir);
	found = file_has(path, needle);
	(void)snprintf(path, sizeof(path), "%s/directory.db-wal", dir);
	return found || file_has(path, needle);
}

struct env {
	struct mbox_harness h;
	struct mbox_client admin, cas;
	uint64_t user;
};

static void
env_start(struct env *e)
{
	Rpc__UserAddRequest q;
	Rpc__DeviceRegisterRequest dq;
	Rpc__Device d;
	ProtobufCMessage *rep;

	memset(e, 0, sizeof(*e));
	assert_int_equal(mbox_harness_start(&e->h, 0, 1, 1), 0);
	assert_int_equal(
	    mbox_client_open(&e->admin, &e->h, RPC__ROLE__ROLE_ADMIN), 0);
	assert_int_equal(mbox_client_open(&e->cas, &e->h, RPC__ROLE__ROLE_CAS),
			 0);
	rpc__user_add_request__init(&q);
	q.login = "sam";
	assert_int_equal(
	    mbox_call(&e->admin, RPC__MSG_TYPE__MSG_USER_ADD, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	e->user = ((Rpc__UserReply *)(void *)rep)->info->user;
	mbox_free(rep);
	for (int i = 0; i < 2; i++) {
		rpc__device_register_request__init(&dq);
		rpc__device__init(&d);
		d.device_id = i == 0 ? "PHONE1" : "PHONE2";
		d.device_type = "iPhone";
		dq.user = e->user;
		dq.device = &d;
		assert_int_equal(mbox_call(&e->cas,
					   RPC__MSG_TYPE__MSG_DEVICE_REGISTER,
					   &dq.base, &rep),
				 RPC__STATUS__STATUS_OK);
		mbox_free(rep);
	}
}

static void
env_stop(struct env *e)
{
	mbox_client_close(&e->cas);
	mbox_client_close(&e->admin);
	mbox_harness_stop(&e->h);
}

static Rpc__Status
set_pw(struct env *e, const char *device, const char *password)
{
	Rpc__DevicePasswordRequest q;
	ProtobufCMessage *rep;
	Rpc__Status st;

	rpc__device_password_request__init(&q);
	q.user = e->user;
	q.device_id = (char *)(uintptr_t)device;
	q.password = (char *)(uintptr_t)password;
	st = mbox_call(&e->cas, RPC__MSG_TYPE__MSG_DEVICE_PASSWORD, &q.base,
		       &rep);
	mbox_free(rep);
	return st;
}

/* DevicePasswordGet as c; the status, the password into out. */
static Rpc__Status
get_pw(struct env *e, struct mbox_client *c, const char *device, char *out,
       size_t size)
{
	Rpc__DevicePasswordGetRequest q;
	ProtobufCMessage *rep;
	Rpc__Status st;

	rpc__device_password_get_request__init(&q);
	q.user = e->user;
	q.device_id = (char *)(uintptr_t)device;
	out[0] = 0;
	st =
	    mbox_call(c, RPC__MSG_TYPE__MSG_DEVICE_PASSWORD_GET, &q.base, &rep);
	if (st == RPC__STATUS__STATUS_OK)
		(void)snprintf(
		    out, size, "%s",
		    ((Rpc__DevicePasswordGetReply *)(void *)rep)->password);
	mbox_free(rep);
	return st;
}

static void
test_sealed_and_read_back(void **state)
{
	struct env e;
	char pw[300];

	(void)state;
	env_start(&e);
	assert_int_equal(set_pw(&e, "PHONE1", "Recover-4711-xyzzy"),
			 RPC__STATUS__STATUS_OK);
	assert_int_equal(set_pw(&e, "PHONE2", "Other-0815-plugh"),
			 RPC__STATUS__STATUS_OK);
	assert_int_equal(set_pw(&e, "NOSUCH", "x"),
			 RPC__STATUS__STATUS_NOT_FOUND);
	assert_int_equal(get_pw(&e, &e.admin, "PHONE1", pw, sizeof(pw)),
			 RPC__STATUS__STATUS_OK);
	assert_string_equal(pw, "Recover-4711-xyzzy");
	assert_int_equal(get_pw(&e, &e.admin, "PHONE2", pw, sizeof(pw)),
			 RPC__STATUS__STATUS_OK);
	assert_string_equal(pw, "Other-0815-plugh");
	/* Administrators only: a CAS peer is refused. */
	assert_int_equal(get_pw(&e, &e.cas, "PHONE1", pw, sizeof(pw)),
			 RPC__STATUS__STATUS_DENIED);
	assert_int_equal(get_pw(&e, &e.admin, "NOSUCH", pw, sizeof(pw)),
			 RPC__STATUS__STATUS_NOT_FOUND);
	/* Nowhere in the directory's files, committed or in the WAL. */
	assert_false(dir_files_have(e.h.dir, "Recover-4711-xyzzy"));
	assert_false(dir_files_have(e.h.dir, "Other-0815-plugh"));
	/* "" clears: nothing to read any more. */
	assert_int_equal(set_pw(&e, "PHONE1", ""), RPC__STATUS__STATUS_OK);
	assert_int_equal(get_pw(&e, &e.admin, "PHONE1", pw, sizeof(pw)),
			 RPC__STATUS__STATUS_NOT_FOUND);
	assert_int_equal(get_pw(&e, &e.admin, "PHONE2", pw, sizeof(pw)),
			 RPC__STATUS__STATUS_OK);
	env_stop(&e);
}

/* A value sealed under another key (a replaced key file) does not open:
 * a clean refusal, the stored value left alone. */
static void
test_other_key(void **state)
{
	static const uint8_t other[SECRET_KEY_BYTES] = {42};
	struct env e;
	struct secret_key *k = NULL;
	char pw[300];

	(void)state;
	env_start(&e);
	assert_int_equal(set_pw(&e, "PHONE1", "Recover-4711-xyzzy"),
			 RPC__STATUS__STATUS_OK);
	assert_int_equal(secret_key_from_bytes(other, sizeof(other), &k), 0);
	e.h.ctx.secret_key = k;
	assert_int_equal(get_pw(&e, &e.admin, "PHONE1", pw, sizeof(pw)),
			 RPC__STATUS__STATUS_INTERNAL);
	assert_string_equal(pw, "");
	e.h.ctx.secret_key = e.h.secret_key;
	assert_int_equal(get_pw(&e, &e.admin, "PHONE1", pw, sizeof(pw)),
			 RPC__STATUS__STATUS_OK);
	assert_string_equal(pw, "Recover-4711-xyzzy");
	/* No key at all: refused, not stored in clear. */
	e.h.ctx.secret_key = NULL;
	assert_int_equal(set_pw(&e, "PHONE2", "Never-Stored-1"),
			 RPC__STATUS__STATUS_UNSUPPORTED);
	e.h.ctx.secret_key = e.h.secret_key;
	assert_false(dir_files_have(e.h.dir, "Never-Stored-1"));
	secret_key_free(&k);
	env_stop(&e);
}

static int
seal_cb(void *ctx, int64_t user, const char *device, const char *plain,
	uint8_t **sealed_r, size_t *len_r)
{
	uint8_t aad[SECRET_DEVPW_AAD_MAX];
	size_t aad_len = secret_devpw_aad(user, device, aad, sizeof(aad));

	return secret_seal(ctx, aad, aad_len, (const uint8_t *)plain,
			   strlen(plain), sealed_r, len_r);
}

/* A directory written by the previous version (schema v2, plain value). */
static void
test_upgrade_seals_plain_values(void **state)
{
	static const uint8_t kb[SECRET_KEY_BYTES] = {9, 9, 9};
	char dir[64], path[128];
	struct store_dir *d = NULL;
	struct store_error err;
	struct secret_key *key = NULL;
	struct dir_device dev;
	uint8_t aad[SECRET_DEVPW_AAD_MAX], *plain = NULL;
	size_t aad_len, plain_len = 0, n = 99;
	sqlite3 *db;

	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/easd-devpw-XXXXXX");
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/directory.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(sqlite3_exec(db, schema_dir_migrations[i],
					      NULL, NULL, NULL),
				 SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db,
			 "PRAGMA user_version = 2;"
			 "INSERT INTO users(id, login, password_hash, created)"
			 " VALUES(5, 'old', 'x', 0);"
			 "INSERT INTO devices(user_id, device_id,"
			 " recovery_password) VALUES(5, 'OLDPHONE',"
			 " 'Legacy-Plain-31337');"
			 "INSERT INTO devices(user_id, device_id)"
			 " VALUES(5, 'NOPW');",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_true(dir_files_have(dir, "Legacy-Plain-31337"));

	assert_int_equal(secret_key_from_bytes(kb, sizeof(kb), &key), 0);
	assert_int_equal(store_dir_open(dir, &d, &err), 0);
	assert_int_equal(store_dir_devpw_migrate(d, seal_cb, key, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_dir_device_get(d, 5, "OLDPHONE", &dev), 0);
	assert_non_null(dev.recovery_sealed);
	aad_len = secret_devpw_aad(5, "OLDPHONE", aad, sizeof(aad));
	assert_int_equal(secret_open(key, aad, aad_len, dev.recovery_sealed,
				     dev.recovery_sealed_len, &plain,
				     &plain_len),
			 0);
	assert_string_equal((const char *)plain, "Legacy-Plain-31337");
	secret_plain_free(&plain, plain_len);
	dir_device_clear(&dev);
	assert_int_equal(store_dir_device_get(d, 5, "NOPW", &dev), 0);
	assert_null(dev.recovery_sealed);
	dir_device_clear(&dev);
	/* Gone from the files while the directory is still open... */
	assert_false(dir_files_have(dir, "Legacy-Plain-31337"));
	/* ...and a later start has nothing to do. */
	assert_int_equal(store_dir_devpw_migrate(d, seal_cb, key, &n), 0);
	assert_int_equal(n, 0);
	store_dir_close(&d);
	assert_false(dir_files_have(dir, "Legacy-Plain-31337"));

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	{
		sqlite3_stmt *st;

		assert_int_equal(
		    sqlite3_prepare_v2(db,
				       "SELECT count(*) FROM devices WHERE"
				       " recovery_password IS NOT NULL",
				       -1, &st, NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	secret_key_free(&key);
	(void)nftw(dir, mbox_harness_rm, 8, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sealed_and_read_back),
	    cmocka_unit_test(test_other_key),
	    cmocka_unit_test(test_upgrade_seals_plain_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
