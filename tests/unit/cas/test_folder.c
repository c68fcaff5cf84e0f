/* FolderSync, FolderCreate, FolderUpdate and FolderDelete end to end
 * against the fake mailbox: the initial hierarchy, incremental changes,
 * an unknown key (Status 9), Gmail's SyncKey 0 refresh (same ids, no
 * item state touched), each command's status values, and malformed
 * bodies (Status 10) with the server still serving afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/cas/cas_harness.h"

#define DEV "FOLDERDEV"
#define VER "14.1"

static struct cas_harness h;
static char key[24];

static const uint16_t FS_STATUS[] = {EAS_FOLDERHIERARCHY_STATUS};
static const uint16_t FS_KEY[] = {EAS_FOLDERHIERARCHY_SYNC_KEY};
static const uint16_t FS_COUNT[] = {EAS_FOLDERHIERARCHY_CHANGES,
				    EAS_FOLDERHIERARCHY_COUNT};
static const uint16_t FC_SERVER_ID[] = {EAS_FOLDERHIERARCHY_SERVER_ID};

static int
setup(void **state)
{
	uint32_t k;

	(void)state;
	if (cas_harness_start(&h) != 0 ||
	    cas_harness_provision(&h, DEV, VER, &k) != 0)
		return -1;
	(void)snprintf(key, sizeof(key), "%u", (unsigned)k);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cas_harness_stop(&h);
	return 0;
}

static void
foldersync(const char *sync_key, struct cas_reply *r)
{
	assert_int_equal(cas_harness_foldersync(&h, DEV, VER, key, sync_key, r),
			 0);
	assert_int_equal(r->status, 200);
	assert_non_null(r->tree);
}

static size_t
count_children(const struct cas_reply *r, uint16_t tag)
{
	const struct wbxml_node *ch = wbxml_node_child(
	    wbxml_tree_root(r->tree), EAS_FOLDERHIERARCHY_CHANGES);

	return ch != NULL ? wbxml_node_count_children(ch, tag) : 0;
}

/* Server ids of the Adds, joined with ',' in document order. */
static void
add_ids(const struct cas_reply *r, char *out, size_t size)
{
	const struct wbxml_node *ch = wbxml_node_child(
	    wbxml_tree_root(r->tree), EAS_FOLDERHIERARCHY_CHANGES);
	const struct wbxml_node *add;
	size_t n = 0;

	out[0] = 0;
	WBXML_FOREACH(add, ch, EAS_FOLDERHIERARCHY_ADD)
	{
		const char *id = NULL;

		assert_int_equal(wbxml_child_str(add,
						 EAS_FOLDERHIERARCHY_SERVER_ID,
						 64, &id, NULL, NULL),
				 0);
		n += (size_t)snprintf(out + n, size - n, "%s,", id);
		assert_true(n < size);
	}
}

static void
test_foldersync_initial_and_incremental(void **state)
{
	struct cas_reply r;
	const struct wbxml_node *add;
	char k1[64];
	const char *name = NULL;

	(void)state;
	foldersync("0", &r);
	assert_int_equal(cas_reply_uint(&r, FS_STATUS, 1), 1);
	assert_int_equal(cas_reply_uint(&r, FS_COUNT, 2), 9);
	assert_int_equal(count_children(&r, EAS_FOLDERHIERARCHY_ADD), 9);
	add = wbxml_node_child(wbxml_node_child(wbxml_tree_root(r.tree),
						EAS_FOLDERHIERARCHY_CHANGES),
			       EAS_FOLDERHIERARCHY_ADD);
	assert_int_equal(wbxml_child_str(add, EAS_FOLDERHIERARCHY_DISPLAY_NAME,
					 64, &name, NULL, NULL),
			 0);
	assert_string_equal(name, "Inbox");
	assert_true(wbxml_child_present(add, EAS_FOLDERHIERARCHY_PARENT_ID));
	assert_true(wbxml_child_present(add, EAS_FOLDERHIERARCHY_TYPE));
	(void)snprintf(k1, sizeof(k1), "%s", cas_reply_str(&r, FS_KEY, 1));
	cas_reply_free(&r);

	/* Nothing changed: Count 0. */
	foldersync(k1, &r);
	assert_int_equal(cas_reply_uint(&r, FS_STATUS, 1), 1);
	assert_int_equal(cas_reply_uint(&r, FS_COUNT, 2), 0);
	cas_reply_free(&r);

	/* Changes made elsewhere: one add, one update, one delete. */
	assert_int_equal(fake_mailbox_add_folder(h.fm, h.user, "proj", "inbox",
						 "Projects", 12),
			 0);
	assert_int_equal(
	    fake_mailbox_add_folder(h.fm, h.user, "old", "0", "Old", 1), 0);
	foldersync(k1, &r);
	(void)snprintf(k1, sizeof(k1), "%s", cas_reply_str(&r, FS_KEY, 1));
	assert_int_equal(cas_reply_uint(&r, FS_COUNT, 2), 2);
	cas_reply_free(&r);
	assert_int_equal(
	    fake_mailbox_rename_folder(h.fm, h.user, "proj", "Projects 2026"),
	    0);
	assert_int_equal(fake_mailbox_delete_folder(h.fm, h.user, "old"), 0);
	assert_int_equal(
	    fake_mailbox_add_folder(h.fm, h.user, "new", "0", "New", 1), 0);
	foldersync(k1, &r);
	assert_int_equal(cas_reply_uint(&r, FS_STATUS, 1), 1);
	assert_int_equal(cas_reply_uint(&r, FS_COUNT, 2), 3);
	assert_int_equal(count_children(&r, EAS_FOLDERHIERARCHY_ADD), 1);
	assert_int_equal(count_children(&r, EAS_FOLDERHIERARCHY_UPDATE), 1);
	assert_int_equal(count_children(&r, EAS_FOLDERHIERARCHY_DELETE), 1);
	cas_reply_free(&r);
}

static void
test_foldersync_invalid_key(void **state)
{
	struct cas_reply r;

	(void)state;
	foldersync("999999", &r);
	assert_int_equal(cas_reply_uint(&r, FS_STATUS, 1), 9);
	assert_null(wbxml_node_child(wbxml_tree_root(r.tree),
				     EAS_FOLDERHIERARCHY_SYNC_KEY));
	cas_reply_free(&r);
	foldersync("not-a-key", &r);
	assert_int_equal(cas_reply_uint(&r, FS_STATUS, 1), 9);
	cas_reply_free(&r);
}

/* Gmail for Android: SyncKey 0 on every refresh; the ids must be the
 * same, and FolderSync must not touch item sync state (no other RPC). */
static void
test_foldersync_gmail_refresh_key0(void **state)
{
	struct cas_reply r;
	char first[1024], second[1024];
	unsigned changes =
	    fake_mailbox_count(h.fm, RPC__MSG_TYPE__MSG_GET_CHANGES);
	unsigned applies =
	    fake_mailbox_count(h.fm, RPC__MSG_TYPE__MSG_APPLY_CHANGES);

	(void)state;
	foldersync("0", &r);
	add_ids(&r, first, sizeof(first));
	cas_reply_free(&r);
	foldersync("0", &r);
	assert_int_equal(cas_reply_uint(&r, FS_STATUS, 1), 1);
	add_ids(&r, second, sizeof(second));
	cas_reply_free(&r);
	assert_string_equal(first, second);
	assert_non_null(strstr(first, "inbox,"));
	assert_int_equal(
	    fake_mailbox_count(h.fm, RPC__MSG_TYPE__MSG_GET_CHANGES), changes);
	assert_int_equal(
	    fake_mailbox_count(h.fm, RPC__MSG_TYPE__MSG_APPLY_CHANGES),
	    applies);
}

/* ---- FolderCreate / FolderUpdate / FolderDelete ---- */

static void
current_key(char *out, size_t size)
{
	struct cas_reply r;

	foldersync("0", &r);
	(void)snprintf(out, size, "%s", cas_reply_str(&r, FS_KEY, 1));
	cas_reply_free(&r);
}

struct folder_args {
	const char *sync_key, *server_id, *parent_id, *name;
	long type; /* < 0: absent */
};

static void
folder_cmd(const char *cmd, uint16_t root, const struct folder_args *a,
	   struct cas_reply *r)
{
	struct buf b;
	struct wbxml_enc e;
	char q[256];

	buf_init(&b, 4096);
	wbxml_enc_init_buf(&e, &b);
	(void)wbxml_enc_start(&e, root);
	if (a->sync_key != NULL)
		(void)wbxml_enc_str(&e, EAS_FOLDERHIERARCHY_SYNC_KEY,
				    a->sync_key);
	if (a->server_id != NULL)
		(void)wbxml_enc_str(&e, EAS_FOLDERHIERARCHY_SERVER_ID,
				    a->server_id);
	if (a->parent_id != NULL)
		(void)wbxml_enc_str(&e, EAS_FOLDERHIERARCHY_PARENT_ID,
				    a->parent_id);
	if (a->name != NULL)
		(void)wbxml_enc_str(&e, EAS_FOLDERHIERARCHY_DISPLAY_NAME,
				    a->name);
	if (a->type >= 0)
		(void)wbxml_enc_uint(&e, EAS_FOLDERHIERARCHY_TYPE,
				     (uint64_t)a->type);
	(void)wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	cas_harness_query(q, sizeof(q), cmd, DEV);
	assert_int_equal(cas_harness_post(&h, q, VER, key, HARNESS_USERPWD,
					  b.data, b.len, r),
			 0);
	buf_free(&b);
	assert_int_equal(r->status, 200);
	assert_non_null(r->tree);
	assert_int_equal(wbxml_node_tag(wbxml_tree_root(r->tree)), root);
}

static long
folder_status(const char *cmd, uint16_t root, const struct folder_args *a,
	      char *id_r, size_t id_size, char *key_r, size_t key_size)
{
	struct cas_reply r;
	long st;

	folder_cmd(cmd, root, a, &r);
	st = cas_reply_uint(&r, FS_STATUS, 1);
	if (id_r != NULL) {
		const char *id = cas_reply_str(&r, FC_SERVER_ID, 1);

		(void)snprintf(id_r, id_size, "%s", id != NULL ? id : "");
	}
	if (key_r != NULL) {
		const char *k = cas_reply_str(&r, FS_KEY, 1);

		(void)snprintf(key_r, key_size, "%s", k != NULL ? k : "");
	}
	cas_reply_free(&r);
	return st;
}

#define CREATE(a, id, k)                                                      \
	folder_status("FolderCreate", EAS_FOLDERHIERARCHY_FOLDER_CREATE, (a), \
		      (id), sizeof(id), (k), sizeof(k))
#define UPDATE(a)                                                             \
	folder_status("FolderUpdate", EAS_FOLDERHIERARCHY_FOLDER_UPDATE, (a), \
		      NULL, 0, NULL, 0)
#define DELETE(a)                                                             \
	folder_status("FolderDelete", EAS_FOLDERHIERARCHY_FOLDER_DELETE, (a), \
		      NULL, 0, NULL, 0)

static void
test_foldercreate_statuses(void **state)
{
	char k[64], id[64], newkey[64], id2[64];
	struct cas_reply r;

	(void)state;
	current_key(k, sizeof(k));
	struct folder_args ok = {k, NULL, "inbox", "Receipts", 12};
	assert_int_equal(CREATE(&ok, id, newkey), 1);
	assert_true(id[0] != 0);
	assert_true(strcmp(newkey, k) != 0);
	/* The new folder shows up in an incremental FolderSync. */
	foldersync(k, &r);
	assert_int_equal(count_children(&r, EAS_FOLDERHIERARCHY_ADD), 1);
	cas_reply_free(&r);
	/* Same name under the same parent: 2. */
	ok.sync_key = newkey;
	assert_int_equal(CREATE(&ok, id2, k), 2);
	/* Parent not found: 5. */
	struct folder_args orphan = {newkey, NULL, "nope", "X", 12};
	assert_int_equal(CREATE(&orphan, id2, k), 5);
	/* Unknown sync key: 9. */
	struct folder_args badkey = {"424242", NULL, "0", "Y", 1};
	assert_int_equal(CREATE(&badkey, id2, k), 9);
	/* Missing DisplayName, Type out of range: 10. */
	struct folder_args noname = {newkey, NULL, "0", NULL, 1};
	assert_int_equal(CREATE(&noname, id2, k), 10);
	struct folder_args badtype = {newkey, NULL, "0", "Z", 99};
	assert_int_equal(CREATE(&badtype, id2, k), 10);
}

static void
test_folderupdate_statuses(void **state)
{
	char k[64], id[64], nk[64], id2[64];

	(void)state;
	current_key(k, sizeof(k));
	struct folder_args mk = {k, NULL, "0", "Travel", 1};
	assert_int_equal(CREATE(&mk, id, nk), 1);
	struct folder_args mk2 = {nk, NULL, "0", "Trips", 1};
	assert_int_equal(CREATE(&mk2, id2, k), 1);
	struct folder_args ren = {k, id, "0", "Travel 2027", -1};
	assert_int_equal(UPDATE(&ren), 1);
	current_key(k, sizeof(k));
	/* Renaming onto an existing name: 2. */
	struct folder_args clash = {k, id, "0", "Trips", -1};
	assert_int_equal(UPDATE(&clash), 2);
	/* A default folder: 3. */
	struct folder_args inbox = {k, "inbox", "0", "Mail", -1};
	assert_int_equal(UPDATE(&inbox), 3);
	/* Unknown folder: 4. */
	struct folder_args none = {k, "ghost", "0", "Boo", -1};
	assert_int_equal(UPDATE(&none), 4);
	struct folder_args badkey = {"777777", id, "0", "Q", -1};
	assert_int_equal(UPDATE(&badkey), 9);
	struct folder_args noid = {k, NULL, "0", "Q", -1};
	assert_int_equal(UPDATE(&noid), 10);
}

static void
test_folderdelete_statuses(void **state)
{
	char k[64], id[64], nk[64];
	struct cas_reply r;

	(void)state;
	current_key(k, sizeof(k));
	struct folder_args mk = {k, NULL, "0", "Scratch", 1};
	assert_int_equal(CREATE(&mk, id, nk), 1);
	struct folder_args del = {nk, id, NULL, NULL, -1};
	assert_int_equal(DELETE(&del), 1);
	/* The delete is seen by the next incremental FolderSync. */
	foldersync(nk, &r);
	assert_int_equal(count_children(&r, EAS_FOLDERHIERARCHY_DELETE), 1);
	cas_reply_free(&r);
	current_key(k, sizeof(k));
	del.sync_key = k;
	assert_int_equal(DELETE(&del), 4);
	struct folder_args inbox = {k, "inbox", NULL, NULL, -1};
	assert_int_equal(DELETE(&inbox), 3);
	struct folder_args badkey = {"31337", "sent", NULL, NULL, -1};
	assert_int_equal(DELETE(&badkey), 9);
	struct folder_args nokey = {NULL, "sent", NULL, NULL, -1};
	assert_int_equal(DELETE(&nokey), 10);
}

/* Broken WBXML and wrong roots: the command's Status 10 in every
 * version, and the next request is served normally. */
static void
test_folder_malformed(void **state)
{
	static const uint8_t truncated[] = {0x03, 0x01, 0x6a, 0x00,
					    0x00, 0x07, 0x56, 0x52};
	static const uint8_t ping_root[] = {0x03, 0x01, 0x6a, 0x00,
					    0x00, 0x0d, 0x45, 0x01};
	static const uint8_t bad_header[] = {0x02, 0x01, 0x6a, 0x00, 0x45};
	const struct {
		const void *body;
		size_t len;
	} bodies[] = {
	    {truncated, sizeof(truncated)},
	    {ping_root, sizeof(ping_root)},
	    {bad_header, sizeof(bad_header)},
	    {"", 0},
	};
	const char *versions[] = {"12.1", "14.1"};
	struct cas_reply r;
	char q[256];

	(void)state;
	cas_harness_query(q, sizeof(q), "FolderSync", DEV);
	for (size_t v = 0; v < 2; v++) {
		for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]);
		     i++) {
			assert_int_equal(cas_harness_post(&h, q, versions[v],
							  key, HARNESS_USERPWD,
							  bodies[i].body,
							  bodies[i].len, &r),
					 0);
			assert_int_equal(r.status, 200);
			assert_int_equal(cas_reply_uint(&r, FS_STATUS, 1), 10);
			cas_reply_free(&r);
		}
	}
	/* A SyncKey longer than MS-ASCMD allows. */
	char longkey[CAS_FOLDER_MAX_SYNC_KEY_BYTES + 2];
	memset(longkey, '7', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = 0;
	foldersync(longkey, &r);
	assert_int_equal(cas_reply_uint(&r, FS_STATUS, 1), 10);
	cas_reply_free(&r);
	foldersync("0", &r);
	assert_int_equal(cas_reply_uint(&r, FS_STATUS, 1), 1);
	cas_reply_free(&r);
}

/* The mailbox failing mid-command: Status 6 / Status 111. */
static void
test_folder_mailbox_errors(void **state)
{
	struct cas_reply r;

	(void)state;
	fake_mailbox_fail(h.fm, RPC__MSG_TYPE__MSG_FOLDER_SYNC,
			  RPC__STATUS__STATUS_INTERNAL);
	foldersync("0", &r);
	assert_int_equal(cas_reply_uint(&r, FS_STATUS, 1), 6);
	cas_reply_free(&r);
	fake_mailbox_fail(h.fm, RPC__MSG_TYPE__MSG_FOLDER_SYNC,
			  RPC__STATUS__STATUS_BUSY);
	foldersync("0", &r);
	assert_int_equal(cas_reply_uint(&r, FS_STATUS, 1), 111);
	cas_reply_free(&r);
	fake_mailbox_fail(h.fm, RPC__MSG_TYPE__MSG_FOLDER_SYNC,
			  RPC__STATUS__STATUS_UNSPECIFIED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_foldersync_initial_and_incremental),
	    cmocka_unit_test(test_foldersync_invalid_key),
	    cmocka_unit_test(test_foldersync_gmail_refresh_key0),
	    cmocka_unit_test(test_foldercreate_statuses),
	    cmocka_unit_test(test_folderupdate_statuses),
	    cmocka_unit_test(test_folderdelete_statuses),
	    cmocka_unit_test(test_folder_malformed),
	    cmocka_unit_test(test_folder_mailbox_errors),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
