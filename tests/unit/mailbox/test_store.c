/* Unit tests for the user store (mailbox/store*.c): schema and migrations,
 * default folders, folder create/update/delete and hierarchy changes,
 * items and the change log, delivery with injected faults, cross-user
 * isolation, the send queue and the property blob parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mailbox/changes.h"
#include "mailbox/folders.h"
#include "mailbox/items.h"
#include "mailbox/store.h"
#include "mailbox/store_int.h"
#include "proto/limits.h"

struct fixture {
	char dir[64];
	struct store *st;
};

static int
rm_tree(const char *dir)
{
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct store_error err;

	if (fx == NULL)
		return -1;
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/easd-store-XXXXXX");
	if (mkdtemp(fx->dir) == NULL ||
	    store_open(fx->dir, 1, &fx->st, &err) < 0) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	store_close(&fx->st);
	store_fault_inject(0, 0);
	(void)rm_tree(fx->dir);
	free(fx);
	return 0;
}

static int64_t
folder_of_type(struct store *st, enum folder_type type)
{
	int64_t id = 0;

	assert_int_equal(store_folder_by_type(st, type, &id), 0);
	return id;
}

static const char msg_text[] = "From: a@example.org\r\nTo: b@example.org\r\n"
			       "Subject: hello\r\n\r\nbody\r\n";

static int64_t
add_mail(struct store *st, int64_t folder, int64_t date, const char *subject)
{
	struct item_props p;
	struct item_new n;
	int64_t id = 0, modseq = 0;

	item_props_init(&p);
	p.subject = strdup(subject);
	memset(&n, 0, sizeof(n));
	n.cls = ITEM_CLASS_EMAIL;
	n.date = date;
	n.props = &p;
	n.mime = (const uint8_t *)msg_text;
	n.mime_len = sizeof(msg_text) - 1;
	assert_int_equal(store_item_add(st, folder, &n, &id, &modseq), 0);
	assert_true(id > 0);
	assert_true(modseq > 0);
	item_props_clear(&p);
	return id;
}

static void
test_schema_and_defaults(void **state)
{
	struct fixture *fx = *state;
	struct folder_list *list = NULL;
	struct store_error err;
	int version = 0;
	static const int types[] = {2, 3, 4, 5, 6, 7, 8, 9, 10, 12};

	assert_int_equal(store_schema_version(fx->st, &version), 0);
	assert_int_equal(version, (int)schema_user_migration_count);
	assert_int_equal(store_folder_list(fx->st, true, &list), 0);
	assert_int_equal(list->count, 10);
	for (size_t i = 0; i < 10; i++) {
		assert_int_equal(list->folders[i].type, types[i]);
		assert_true(list->folders[i].special);
		assert_int_equal(list->folders[i].parent_id, 0);
		assert_int_equal(list->folders[i].items, 0);
	}
	assert_string_equal(list->folders[9].name, "Junk Email");
	assert_int_equal(list->folders[7].cls, ITEM_CLASS_CONTACTS);
	folder_list_free(&list);
	assert_null(list);
	assert_int_equal(store_check(fx->st), 0);

	/* Reopening applies no migration twice and keeps the folders. */
	store_close(&fx->st);
	assert_int_equal(store_open(fx->dir, 1, &fx->st, &err), 0);
	assert_int_equal(store_schema_version(fx->st, &version), 0);
	assert_int_equal(version, (int)schema_user_migration_count);
	assert_int_equal(store_folder_list(fx->st, false, &list), 0);
	assert_int_equal(list->count, 10);
	folder_list_free(&list);

	/* data_dir itself is created when missing. */
	{
		struct store *fresh = NULL;
		char sub[96];

		(void)snprintf(sub, sizeof(sub), "%s/new-data", fx->dir);
		assert_int_equal(store_open(sub, 3, &fresh, &err), 0);
		store_close(&fresh);
	}
	/* A bad user id is refused before touching the disk. */
	{
		struct store *bad = NULL;

		assert_int_equal(store_open(fx->dir, 0, &bad, &err), -1);
		assert_int_equal(err.status, STORE_INVALID);
		assert_null(bad);
	}
}

static void
test_newer_schema_refused(void **state)
{
	struct fixture *fx = *state;
	struct store_error err;
	char path[256];
	sqlite3 *db = NULL;

	store_close(&fx->st);
	assert_int_equal(store_user_path(fx->dir, 1, path, sizeof(path)), 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	/* A database from a newer easd is not touched. */
	assert_int_equal(store_open(fx->dir, 1, &fx->st, &err), -1);
	assert_int_equal(err.status, STORE_CORRUPT);
	assert_null(fx->st);
}

static void
test_user_path_sharded(void **state)
{
	char a[256], b[256];

	(void)state;
	assert_int_equal(store_user_path("/d", 42, a, sizeof(a)), 0);
	assert_int_equal(store_user_path("/d", 42, b, sizeof(b)), 0);
	assert_string_equal(a, b);
	assert_memory_equal(a, "/d/users/", 9);
	assert_non_null(strstr(a, "/42.db"));
	assert_int_equal(strlen(a), strlen("/d/users/xx/42.db"));
	assert_int_equal(store_user_path("/d", 42, a, 8), -1);
}

static void
test_folder_ops(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	int64_t inbox = folder_of_type(st, FOLDER_TYPE_INBOX);
	int64_t cal = folder_of_type(st, FOLDER_TYPE_CALENDAR);
	int64_t a, b, c, h0, h1;
	struct folder f;

	assert_int_equal(store_hier_modseq(st, &h0), 0);
	assert_int_equal(
	    store_folder_create(st, inbox, "Work", FOLDER_TYPE_USER_MAIL, &a),
	    0);
	assert_int_equal(
	    store_folder_create(st, a, "Old", FOLDER_TYPE_USER_MAIL, &b), 0);
	assert_int_equal(store_hier_modseq(st, &h1), 0);
	assert_int_equal(h1, h0 + 2);
	/* Errors FolderCreate needs. */
	assert_int_equal(
	    store_folder_create(st, inbox, "work", FOLDER_TYPE_USER_MAIL, &c),
	    -1);
	assert_int_equal(store_last_error(st)->status, STORE_EXISTS);
	assert_int_equal(
	    store_folder_create(st, 9999, "X", FOLDER_TYPE_USER_MAIL, &c), -1);
	assert_int_equal(store_last_error(st)->status, STORE_NOT_FOUND);
	assert_int_equal(
	    store_folder_create(st, cal, "X", FOLDER_TYPE_USER_MAIL, &c), -1);
	assert_int_equal(store_last_error(st)->status, STORE_INVALID);
	assert_int_equal(store_folder_create(st, 0, "X", FOLDER_TYPE_INBOX, &c),
			 -1);
	assert_int_equal(store_last_error(st)->status, STORE_INVALID);
	assert_int_equal(
	    store_folder_create(st, 0, "", FOLDER_TYPE_USER_MAIL, &c), -1);
	assert_int_equal(store_last_error(st)->status, STORE_INVALID);
	assert_int_equal(
	    store_folder_create(st, cal, "Team", FOLDER_TYPE_USER_CALENDAR, &c),
	    0);
	/* MS-ASCMD 2.2.3.186.3: 17 is a user notes folder, 16 a journal
	 * (not kept). */
	assert_int_equal(
	    store_folder_create(st, 0, "Ideas", FOLDER_TYPE_USER_NOTES, &c), 0);
	assert_int_equal(store_folder_get(st, c, &f), 0);
	assert_int_equal(f.cls, ITEM_CLASS_NOTES);
	assert_int_equal(f.type, 17);
	folder_clear(&f);
	assert_int_equal(
	    store_folder_create(st, 0, "Log", FOLDER_TYPE_USER_JOURNAL, &c),
	    -1);
	assert_int_equal(store_last_error(st)->status, STORE_INVALID);

	/* Special folders cannot be renamed, moved or deleted. */
	assert_int_equal(store_folder_update(st, inbox, 0, "In"), -1);
	assert_int_equal(store_last_error(st)->status, STORE_DENIED);
	assert_int_equal(store_folder_delete(st, inbox), -1);
	assert_int_equal(store_last_error(st)->status, STORE_DENIED);
	/* No cycles, no missing parent, no taken name. */
	assert_int_equal(store_folder_update(st, a, b, "Work"), -1);
	assert_int_equal(store_last_error(st)->status, STORE_INVALID);
	assert_int_equal(store_folder_update(st, a, a, "Work"), -1);
	assert_int_equal(store_last_error(st)->status, STORE_INVALID);
	assert_int_equal(store_folder_update(st, a, 4242, "Work"), -1);
	assert_int_equal(store_last_error(st)->status, STORE_NOT_FOUND);
	assert_int_equal(store_folder_update(st, b, 0, "INBOX"), -1);
	assert_int_equal(store_last_error(st)->status, STORE_EXISTS);
	/* Rename and move. */
	assert_int_equal(store_folder_update(st, b, 0, "Archive"), 0);
	assert_int_equal(store_folder_get(st, b, &f), 0);
	assert_string_equal(f.name, "Archive");
	assert_int_equal(f.parent_id, 0);
	assert_false(f.special);
	folder_clear(&f);
	/* Deleting a folder deletes its subtree. */
	assert_int_equal(store_folder_update(st, b, a, "Archive"), 0);
	add_mail(st, b, 100, "in archive");
	assert_int_equal(store_folder_delete(st, a), 0);
	assert_int_equal(store_folder_get(st, b, &f), -1);
	assert_int_equal(store_last_error(st)->status, STORE_NOT_FOUND);
	assert_int_equal(store_folder_delete(st, a), -1);
	/* By name, for LMTP user+folder deliveries. */
	assert_int_equal(store_folder_by_name(st, 0, "junk email", &c), 0);
	assert_int_equal(c, folder_of_type(st, FOLDER_TYPE_USER_MAIL));
	assert_int_equal(store_folder_by_name(st, inbox, "Work", &c), -1);
	assert_int_equal(store_last_error(st)->status, STORE_NOT_FOUND);
	/* Ids are never reused (G5). */
	assert_int_equal(
	    store_folder_create(st, inbox, "Work", FOLDER_TYPE_USER_MAIL, &c),
	    0);
	assert_true(c > b);
}

static void
test_hierarchy_changes(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	struct folder_changes *ch = NULL;
	int64_t h, a, b, gone;

	assert_int_equal(store_folder_changes(st, 0, &ch), 0);
	assert_int_equal(ch->count, 10);
	for (size_t i = 0; i < ch->count; i++)
		assert_int_equal(ch->changes[i].kind, FOLDER_CHANGE_ADD);
	h = ch->hmodseq;
	folder_changes_free(&ch);

	assert_int_equal(
	    store_folder_create(st, 0, "A", FOLDER_TYPE_USER_MAIL, &a), 0);
	assert_int_equal(
	    store_folder_create(st, a, "B", FOLDER_TYPE_USER_MAIL, &b), 0);
	assert_int_equal(
	    store_folder_create(st, 0, "Gone", FOLDER_TYPE_USER_MAIL, &gone),
	    0);
	assert_int_equal(store_folder_delete(st, gone), 0);
	assert_int_equal(store_folder_changes(st, h, &ch), 0);
	/* Gone was created and deleted since h: never reported. */
	assert_int_equal(ch->count, 2);
	assert_int_equal(ch->changes[0].kind, FOLDER_CHANGE_ADD);
	assert_int_equal(ch->changes[0].folder.id, a);
	assert_int_equal(ch->changes[1].folder.id, b);
	assert_int_equal(ch->changes[1].folder.parent_id, a);
	h = ch->hmodseq;
	folder_changes_free(&ch);

	assert_int_equal(store_folder_update(st, b, 0, "B2"), 0);
	assert_int_equal(store_folder_delete(st, a), 0);
	assert_int_equal(store_folder_changes(st, h, &ch), 0);
	assert_int_equal(ch->count, 2);
	for (size_t i = 0; i < 2; i++) {
		if (ch->changes[i].folder.id == a)
			assert_int_equal(ch->changes[i].kind,
					 FOLDER_CHANGE_DELETE);
		else
			assert_int_equal(ch->changes[i].kind,
					 FOLDER_CHANGE_UPDATE);
	}
	folder_changes_free(&ch);
}

static void
test_items_and_changes(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	int64_t inbox = folder_of_type(st, FOLDER_TYPE_INBOX);
	int64_t trash = folder_of_type(st, FOLDER_TYPE_DELETED);
	int64_t cal = folder_of_type(st, FOLDER_TYPE_CALENDAR);
	struct change ch[16];
	struct item_change c;
	struct item *it = NULL;
	int64_t a, b, m0, m, mt;
	size_t n;
	bool more;

	assert_int_equal(store_folder_modseq(st, inbox, &m0), 0);
	a = add_mail(st, inbox, 1000, "one");
	b = add_mail(st, inbox, 2000, "two");
	assert_true(b > a);

	memset(&c, 0, sizeof(c));
	c.mask = ITEM_CHANGE_READ | ITEM_CHANGE_FLAG | ITEM_CHANGE_CATEGORIES |
		 ITEM_CHANGE_VERB;
	c.flags.read = true;
	c.flags.flag_status = ITEM_FLAG_ACTIVE;
	c.flags.flag_due = 5000;
	c.flags.categories = "Red\nBlue";
	c.flags.last_verb = ITEM_VERB_REPLY_TO_ALL;
	c.flags.last_verb_time = 3000;
	assert_int_equal(store_item_change(st, a, &c, &m), 0);

	assert_int_equal(store_item_get(st, a, STORE_GET_MIME, &it), 0);
	assert_true(it->flags.read);
	assert_int_equal(it->flags.flag_status, ITEM_FLAG_ACTIVE);
	assert_int_equal(it->flags.flag_due, 5000);
	assert_string_equal(it->flags.categories, "Red\nBlue");
	assert_int_equal(it->flags.last_verb, ITEM_VERB_REPLY_TO_ALL);
	assert_int_equal(it->modseq, m);
	assert_int_equal(it->date, 1000);
	assert_string_equal(it->props.subject, "one");
	assert_int_equal(it->mime_len, sizeof(msg_text) - 1);
	assert_memory_equal(it->mime, msg_text, sizeof(msg_text) - 1);
	item_free(&it);
	assert_null(it);

	/* The log is compacted: a's add then change is one row, the
	 * change; order is by modseq. */
	assert_int_equal(store_changes_since(st, inbox, m0, ch, 16, &n, &more),
			 0);
	assert_int_equal(n, 2);
	assert_false(more);
	assert_int_equal(ch[0].item_id, b);
	assert_int_equal(ch[0].kind, CHANGE_ADD);
	assert_int_equal(ch[1].item_id, a);
	assert_int_equal(ch[1].kind, CHANGE_MODIFY);
	assert_int_equal(store_changes_since(st, inbox, m0, ch, 1, &n, &more),
			 0);
	assert_int_equal(n, 1);
	assert_true(more);

	/* Move = tombstone in the source, add in the target. */
	assert_int_equal(store_item_move(st, a, cal, &mt), -1);
	assert_int_equal(store_last_error(st)->status, STORE_INVALID);
	assert_int_equal(store_item_move(st, a, inbox, &mt), -1);
	assert_int_equal(store_item_move(st, a, trash, &mt), 0);
	assert_int_equal(store_changes_since(st, inbox, m, ch, 16, &n, &more),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(ch[0].item_id, a);
	assert_int_equal(ch[0].kind, CHANGE_DELETE);
	assert_int_equal(store_changes_since(st, trash, 0, ch, 16, &n, &more),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(ch[0].kind, CHANGE_ADD);
	assert_int_equal(ch[0].modseq, mt);
	assert_int_equal(store_item_get(st, a, 0, &it), 0);
	assert_int_equal(it->folder_id, trash);
	assert_null(it->mime);
	item_free(&it);

	/* Delete leaves a tombstone; the id is then not found. */
	assert_int_equal(store_item_delete(st, b), 0);
	assert_int_equal(store_item_get(st, b, 0, &it), -1);
	assert_int_equal(store_last_error(st)->status, STORE_NOT_FOUND);
	assert_int_equal(store_item_delete(st, b), -1);
	assert_int_equal(store_changes_since(st, inbox, m, ch, 16, &n, &more),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(ch[1].item_id, b);
	assert_int_equal(ch[1].kind, CHANGE_DELETE);

	/* Paging through the folder, newest first. */
	{
		int64_t ids[4];
		size_t count;

		add_mail(st, inbox, 500, "older");
		b = add_mail(st, inbox, 9000, "newest");
		assert_int_equal(
		    store_folder_items(st, inbox, 0, 4, ids, &count), 0);
		assert_int_equal(count, 2);
		assert_int_equal(ids[0], b);
		assert_int_equal(
		    store_folder_items(st, inbox, 1, 4, ids, &count), 0);
		assert_int_equal(count, 1);
		assert_int_equal(
		    store_folder_items(st, 9999, 0, 4, ids, &count), -1);
	}
	/* Oversized categories are refused before any write. */
	{
		char *big = malloc(STORE_MAX_CATEGORIES_BYTES + 2);

		memset(big, 'x', STORE_MAX_CATEGORIES_BYTES + 1);
		big[STORE_MAX_CATEGORIES_BYTES + 1] = 0;
		memset(&c, 0, sizeof(c));
		c.mask = ITEM_CHANGE_CATEGORIES;
		c.flags.categories = big;
		assert_int_equal(store_item_change(st, a, &c, NULL), -1);
		assert_int_equal(store_last_error(st)->status, STORE_INVALID);
		free(big);
	}
	/* A calendar item in a mail folder is refused. */
	{
		struct item_new bad;

		memset(&bad, 0, sizeof(bad));
		bad.cls = ITEM_CLASS_CALENDAR;
		assert_int_equal(store_item_add(st, inbox, &bad, NULL, NULL),
				 -1);
		assert_int_equal(store_last_error(st)->status, STORE_INVALID);
		assert_int_equal(store_item_add(st, cal, &bad, NULL, NULL), 0);
	}
}

static void
test_props_and_attachments(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	int64_t contacts = folder_of_type(st, FOLDER_TYPE_CONTACTS);
	int64_t inbox = folder_of_type(st, FOLDER_TYPE_INBOX);
	struct item_attachment att, got;
	struct item_props p;
	struct item_new n;
	struct item *it = NULL;
	int64_t id, cid;
	static const uint8_t conv[] = {0, 1, 2, 0xff};

	item_props_init(&p);
	p.from = strdup("Alice <a@example.org>");
	p.to = strdup("b@example.org");
	p.subject = strdup("report");
	p.body_text = strdup("see attached");
	p.preview = strdup("see");
	p.message_class = strdup("IPM.Note");
	p.importance = 2;
	p.date = 1700000000;
	p.conversation_id = malloc(sizeof(conv));
	memcpy(p.conversation_id, conv, sizeof(conv));
	p.conversation_id_len = sizeof(conv);
	memset(&att, 0, sizeof(att));
	att.name = "a.pdf";
	att.content_type = "application/pdf";
	att.size = 4;
	att.data = (uint8_t *)(uintptr_t) "%PDF";
	att.data_len = 4;
	assert_int_equal(item_props_add_attachment(&p, &att), 0);
	att.name = "logo.png";
	att.content_type = "image/png";
	att.content_id = "logo@x";
	att.is_inline = true;
	att.data = NULL;
	att.data_len = 0;
	assert_int_equal(item_props_add_attachment(&p, &att), 0);
	memset(&n, 0, sizeof(n));
	n.cls = ITEM_CLASS_EMAIL;
	n.date = 1700000000;
	n.props = &p;
	n.mime = (const uint8_t *)msg_text;
	n.mime_len = sizeof(msg_text) - 1;
	assert_int_equal(store_item_add(st, inbox, &n, &id, NULL), 0);
	item_props_clear(&p);

	assert_int_equal(store_item_get(st, id, 0, &it), 0);
	assert_string_equal(it->props.from, "Alice <a@example.org>");
	assert_string_equal(it->props.message_class, "IPM.Note");
	assert_int_equal(it->props.importance, 2);
	assert_int_equal(it->flags.importance, 2);
	assert_int_equal(it->props.conversation_id_len, sizeof(conv));
	assert_memory_equal(it->props.conversation_id, conv, sizeof(conv));
	assert_int_equal(it->props.attachment_count, 2);
	assert_string_equal(it->props.attachments[1].content_id, "logo@x");
	assert_true(it->props.attachments[1].is_inline);
	assert_int_equal(it->props.attachments[1].index, 1);
	item_free(&it);

	assert_int_equal(store_attachment_get(st, id, 0, &got), 0);
	assert_string_equal(got.name, "a.pdf");
	assert_int_equal(got.data_len, 4);
	assert_memory_equal(got.data, "%PDF", 4);
	item_attachment_clear(&got);
	assert_int_equal(store_attachment_get(st, id, 1, &got), 0);
	assert_null(got.data); /* to be extracted from the MIME */
	item_attachment_clear(&got);
	assert_int_equal(store_attachment_get(st, id, 2, &got), -1);
	assert_int_equal(store_last_error(st)->status, STORE_NOT_FOUND);

	/* A contact: application properties only. */
	item_props_init(&p);
	assert_int_equal(item_props_add(&p, "FileAs", "Doe, Jane", 9), 0);
	assert_int_equal(item_props_add(&p, "Picture", "\0\1\2", 3), 0);
	memset(&n, 0, sizeof(n));
	n.cls = ITEM_CLASS_CONTACTS;
	n.props = &p;
	assert_int_equal(store_item_add(st, contacts, &n, &cid, NULL), 0);
	item_props_clear(&p);
	assert_int_equal(store_item_get(st, cid, 0, &it), 0);
	assert_int_equal(it->props.app_count, 2);
	assert_string_equal(
	    (const char *)item_props_find(&it->props, "FileAs")->value,
	    "Doe, Jane");
	assert_int_equal(item_props_find(&it->props, "Picture")->value_len, 3);
	assert_null(item_props_find(&it->props, "Nope"));
	item_free(&it);
}

static void
test_props_parse_bounds(void **state)
{
	struct item_props p, q;
	struct buf b;

	(void)state;
	item_props_init(&p);
	p.subject = strdup("subject");
	assert_int_equal(item_props_add(&p, "k", "v", 1), 0);
	buf_init(&b, 1 << 20);
	assert_int_equal(item_props_serialize(&p, &b), 0);
	assert_int_equal(item_props_parse(b.data, b.len, &q), 0);
	assert_string_equal(q.subject, "subject");
	item_props_clear(&q);
	/* Every truncation either parses a prefix or fails: never reads
	 * past the end (ASan would catch it). */
	for (size_t len = 1; len < b.len; len++) {
		uint8_t *copy = malloc(len);

		memcpy(copy, b.data, len);
		if (item_props_parse(copy, len, &q) == 0)
			item_props_clear(&q);
		free(copy);
	}
	/* A record claiming more than remains. */
	{
		static const uint8_t bad[] = {1,    5,    0xff, 0xff,
					      0xff, 0x7f, 'x'};

		assert_int_equal(item_props_parse(bad, sizeof(bad), &q), -1);
	}
	/* Unknown version. */
	b.data[0] = 9;
	assert_int_equal(item_props_parse(b.data, b.len, &q), -1);
	buf_free(&b);
	item_props_clear(&p);
}

static void
test_folder_empty_and_counts(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	int64_t trash = folder_of_type(st, FOLDER_TYPE_DELETED);
	struct folder_list *list = NULL;
	struct item_change c;
	struct change ch[8];
	int64_t sub, m, a;
	size_t n;
	bool more;

	a = add_mail(st, trash, 1, "x");
	add_mail(st, trash, 2, "y");
	memset(&c, 0, sizeof(c));
	c.mask = ITEM_CHANGE_READ;
	c.flags.read = true;
	assert_int_equal(store_item_change(st, a, &c, NULL), 0);
	assert_int_equal(
	    store_folder_create(st, trash, "Sub", FOLDER_TYPE_USER_MAIL, &sub),
	    0);
	add_mail(st, sub, 3, "z");
	assert_int_equal(store_folder_list(st, true, &list), 0);
	for (size_t i = 0; i < list->count; i++) {
		if (list->folders[i].id == trash) {
			assert_int_equal(list->folders[i].items, 2);
			assert_int_equal(list->folders[i].unread, 1);
		}
	}
	/* Parents come before children. */
	assert_int_equal(list->folders[list->count - 1].id, sub);
	folder_list_free(&list);

	assert_int_equal(store_folder_modseq(st, trash, &m), 0);
	assert_int_equal(store_folder_empty(st, trash, false), 0);
	assert_int_equal(store_changes_since(st, trash, m, ch, 8, &n, &more),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(ch[0].kind, CHANGE_DELETE);
	assert_int_equal(ch[1].kind, CHANGE_DELETE);
	assert_int_equal(store_folder_modseq(st, sub, &m), 0);
	assert_int_equal(store_folder_empty(st, trash, true), 0);
	assert_int_equal(store_folder_modseq(st, sub, &m), -1);
}

static void
test_isolation(void **state)
{
	struct fixture *fx = *state;
	struct store *other = NULL;
	struct store_error err;
	struct item *it = NULL;
	struct item_change c;
	int64_t inbox = folder_of_type(fx->st, FOLDER_TYPE_INBOX);
	int64_t id, work, oinbox;

	id = add_mail(fx->st, inbox, 10, "secret");
	assert_int_equal(store_folder_create(fx->st, inbox, "Private",
					     FOLDER_TYPE_USER_MAIL, &work),
			 0);
	assert_int_equal(store_open(fx->dir, 2, &other, &err), 0);
	oinbox = folder_of_type(other, FOLDER_TYPE_INBOX);
	/* User B's store resolves nothing of A's. */
	assert_int_equal(store_item_get(other, id, STORE_GET_MIME, &it), -1);
	assert_int_equal(store_last_error(other)->status, STORE_NOT_FOUND);
	memset(&c, 0, sizeof(c));
	c.mask = ITEM_CHANGE_READ;
	assert_int_equal(store_item_change(other, id, &c, NULL), -1);
	assert_int_equal(store_item_delete(other, id), -1);
	assert_int_equal(store_item_move(other, id, oinbox, NULL), -1);
	assert_int_equal(store_folder_delete(other, work), -1);
	assert_int_equal(store_last_error(other)->status, STORE_NOT_FOUND);
	store_close(&other);
	/* A's item is intact. */
	assert_int_equal(store_item_get(fx->st, id, 0, &it), 0);
	assert_string_equal(it->props.subject, "secret");
	item_free(&it);
	assert_int_equal(store_user_remove(fx->dir, 2, &err), 0);
}

static int64_t
count_items(struct store *st)
{
	struct folder_list *list = NULL;
	int64_t total = 0;

	assert_int_equal(store_folder_list(st, true, &list), 0);
	for (size_t i = 0; i < list->count; i++)
		total += list->folders[i].items;
	folder_list_free(&list);
	return total;
}

static void
test_delivery_faults(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	struct store_delivery r[3];
	struct item_new msgs[3];
	struct item_props p;
	int64_t inbox = folder_of_type(st, FOLDER_TYPE_INBOX);
	int64_t m_before, m_after, m;
	struct change ch[4];
	size_t n;
	bool more;
	int failures = 0;

	item_props_init(&p);
	p.subject = strdup("delivered");
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < 3; i++) {
		msgs[i].cls = ITEM_CLASS_EMAIL;
		msgs[i].date = 100 + i;
		msgs[i].props = &p;
		msgs[i].mime = (const uint8_t *)msg_text;
		msgs[i].mime_len = sizeof(msg_text) - 1;
	}
	assert_int_equal(store_deliver(st, 0, &msgs[0], &r[0]), 0);
	assert_int_equal(r[0].folder_id, inbox);
	assert_int_equal(store_folder_modseq(st, inbox, &m), 0);
	assert_int_equal(r[0].modseq, m);

	/* Fail each step of a batch delivery in turn, with disk full and
	 * I/O errors: nothing of the batch may remain. */
	for (int nth = 1; nth < 40; nth++) {
		int code = nth % 2 ? SQLITE_FULL : SQLITE_IOERR;
		int64_t items = count_items(st);
		int rc;

		assert_int_equal(store_folder_modseq(st, inbox, &m_before), 0);
		store_fault_inject(nth, code);
		rc = store_deliver_batch(st, 0, msgs, 3, r);
		store_fault_inject(0, 0);
		if (rc == 0) {
			assert_int_equal(count_items(st), items + 3);
			break;
		}
		failures++;
		assert_int_equal(store_last_error(st)->status,
				 code == SQLITE_FULL ? STORE_FULL : STORE_IO);
		assert_int_equal(count_items(st), items);
		assert_int_equal(store_folder_modseq(st, inbox, &m_after), 0);
		assert_int_equal(m_after, m_before);
		assert_int_equal(
		    store_changes_since(st, inbox, m_before, ch, 4, &n, &more),
		    0);
		assert_int_equal(n, 0);
	}
	assert_true(failures > 5); /* the batch has many steps */
	assert_int_equal(store_check(st), 0);
	item_props_clear(&p);

	assert_int_equal(store_deliver_batch(st, 0, msgs, 0, r), -1);
	assert_int_equal(store_last_error(st)->status, STORE_INVALID);
}

static void
test_group_transactions(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	int64_t inbox = folder_of_type(st, FOLDER_TYPE_INBOX);
	struct item *it = NULL;
	struct item_new bad;
	int64_t a, b;

	/* A rolled-back group leaves nothing. */
	assert_int_equal(store_tx_begin(st), 0);
	a = add_mail(st, inbox, 1, "a");
	store_tx_rollback(st);
	assert_int_equal(store_item_get(st, a, 0, &it), -1);
	assert_int_equal(count_items(st), 0);
	/* A failed call inside a group undoes only itself. */
	assert_int_equal(store_tx_begin(st), 0);
	a = add_mail(st, inbox, 1, "a");
	memset(&bad, 0, sizeof(bad));
	bad.cls = ITEM_CLASS_EMAIL;
	store_fault_inject(3, SQLITE_IOERR);
	assert_int_equal(store_item_add(st, inbox, &bad, NULL, NULL), -1);
	store_fault_inject(0, 0);
	b = add_mail(st, inbox, 2, "b");
	assert_int_equal(store_tx_commit(st), 0);
	assert_int_equal(count_items(st), 2);
	assert_int_equal(store_item_get(st, b, 0, &it), 0);
	item_free(&it);
	assert_int_equal(store_tx_commit(st), -1); /* none open */
	assert_int_equal(store_check(st), 0);
}

/*
 * G1/G7: a child delivers messages and reports each acknowledged one on a
 * pipe; it is killed with SIGKILL mid-stream.  Every acknowledged message
 * must be there after reopening, and integrity_check must pass.
 */
static void
test_kill9_durability(void **state)
{
	struct fixture *fx = *state;
	struct store *st = NULL;
	struct store_error err;
	struct item *it = NULL;
	int64_t acked[4096];
	size_t nacked = 0;
	int fds[2], status;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store_delivery r;
		struct item_new n;

		close(fds[0]);
		if (store_open(fx->dir, 5, &st, &err) < 0)
			_exit(1);
		memset(&n, 0, sizeof(n));
		n.cls = ITEM_CLASS_EMAIL;
		n.mime = (const uint8_t *)msg_text;
		n.mime_len = sizeof(msg_text) - 1;
		for (int i = 0; i < 4096; i++) {
			n.date = i;
			if (store_deliver(st, 0, &n, &r) < 0)
				_exit(1);
			/* "250 OK" only after the commit returned. */
			if (write(fds[1], &r.item_id, sizeof(r.item_id)) !=
			    (ssize_t)sizeof(r.item_id))
				_exit(1);
		}
		_exit(0);
	}
	close(fds[1]);
	while (nacked < 20 && read(fds[0], &acked[nacked], sizeof(acked[0])) ==
				  (ssize_t)sizeof(acked[0]))
		nacked++;
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	while (nacked < 4096 &&
	       read(fds[0], &acked[nacked], sizeof(acked[0])) ==
		   (ssize_t)sizeof(acked[0]))
		nacked++;
	close(fds[0]);
	assert_true(nacked >= 20);

	assert_int_equal(store_open(fx->dir, 5, &st, &err), 0);
	assert_int_equal(store_check(st), 0);
	for (size_t i = 0; i < nacked; i++) {
		assert_int_equal(
		    store_item_get(st, acked[i], STORE_GET_MIME, &it), 0);
		assert_int_equal(it->mime_len, sizeof(msg_text) - 1);
		item_free(&it);
	}
	store_close(&st);
}

static void
test_send_queue(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	struct store_queue_entry e;
	int64_t id, id2, pending;

	assert_int_equal(store_queue_next_due(st, 1000, &e), -1);
	assert_int_equal(store_last_error(st)->status, STORE_NOT_FOUND);
	assert_int_equal(store_queue_add(st, "a@x", "b@y\nc@z",
					 (const uint8_t *)msg_text,
					 sizeof(msg_text) - 1, true, 1000, &id),
			 0);
	assert_int_equal(
	    store_queue_add(st, "a@x", "d@y", (const uint8_t *)msg_text,
			    sizeof(msg_text) - 1, false, 1001, &id2),
	    0);
	assert_int_equal(store_queue_add(st, "a@x", "", (const uint8_t *)"x", 1,
					 false, 1, NULL),
			 -1);
	assert_int_equal(store_queue_next_due(st, 1000, &e), 0);
	assert_int_equal(e.id, id);
	assert_string_equal(e.rcpts, "b@y\nc@z");
	assert_true(e.save_in_sent);
	assert_int_equal(e.mime_len, sizeof(msg_text) - 1);
	store_queue_entry_clear(&e);
	/* A failed attempt is retried later; the other one is due first. */
	assert_int_equal(store_queue_failed(st, id, "451 later", 2000, false),
			 0);
	assert_int_equal(store_queue_next_due(st, 1500, &e), 0);
	assert_int_equal(e.id, id2);
	store_queue_entry_clear(&e);
	assert_int_equal(store_queue_done(st, id2), 0);
	assert_int_equal(store_queue_done(st, id2), -1);
	assert_int_equal(store_queue_next_due(st, 2000, &e), 0);
	assert_int_equal(e.attempts, 1);
	assert_string_equal(e.last_error, "451 later");
	store_queue_entry_clear(&e);
	assert_int_equal(store_queue_failed(st, id, "550 no", 3000, true), 0);
	assert_int_equal(store_queue_next_due(st, 5000, &e), -1);
	assert_int_equal(store_queue_count(st, &pending), 0);
	assert_int_equal(pending, 0);
}

/* Several threads open the same brand-new user database at once (a
 * delivery and a device's first request for a new user): every open
 * succeeds and the schema is built exactly once.  Before the version was
 * read under the write lock, the loser ran v1 again ("table meta already
 * exists"). */
#define RACE_THREADS 4
#define RACE_USERS 12

struct race_arg {
	const char *dir;
	int64_t user;
	pthread_barrier_t *start;
	int rc;
	int version;
};

static void *
race_open(void *p)
{
	struct race_arg *a = p;
	struct store *st = NULL;
	struct store_error err;

	(void)pthread_barrier_wait(a->start);
	a->rc = store_open(a->dir, a->user, &st, &err);
	if (a->rc == 0) {
		if (store_schema_version(st, &a->version) < 0)
			a->rc = -1;
		store_close(&st);
	} else {
		fprintf(stderr, "open raced: %s\n", err.msg);
	}
	return NULL;
}

static void
test_concurrent_first_open(void **state)
{
	struct fixture *fx = *state;

	for (int64_t user = 100; user < 100 + RACE_USERS; user++) {
		pthread_t th[RACE_THREADS];
		struct race_arg args[RACE_THREADS];
		pthread_barrier_t start;

		assert_int_equal(
		    pthread_barrier_init(&start, NULL, RACE_THREADS), 0);
		for (int i = 0; i < RACE_THREADS; i++) {
			args[i] = (struct race_arg){.dir = fx->dir,
						    .user = user,
						    .start = &start,
						    .rc = -1};
			assert_int_equal(
			    pthread_create(&th[i], NULL, race_open, &args[i]),
			    0);
		}
		for (int i = 0; i < RACE_THREADS; i++) {
			assert_int_equal(pthread_join(th[i], NULL), 0);
			assert_int_equal(args[i].rc, 0);
			assert_int_equal(args[i].version,
					 (int)schema_user_migration_count);
		}
		(void)pthread_barrier_destroy(&start);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_schema_and_defaults, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup,
					    teardown),
	    cmocka_unit_test(test_user_path_sharded),
	    cmocka_unit_test_setup_teardown(test_folder_ops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hierarchy_changes, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_items_and_changes, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_props_and_attachments, setup,
					    teardown),
	    cmocka_unit_test(test_props_parse_bounds),
	    cmocka_unit_test_setup_teardown(test_folder_empty_and_counts, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_isolation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delivery_faults, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_group_transactions, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_kill9_durability, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_send_queue, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_first_open, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
