/*
 * The mailbox's MoveItems, Search and GalSearch handlers in process
 * (tests/unit/mailbox/mbox_harness.h): the reason of each failed move
 * (source, destination, same folder, another class, another user's item)
 * and the 1000-move bound; Search over several folders and a subtree
 * (DeepTraversal), with the reason of refused queries (too complex,
 * range); and the GAL by login and address prefix, paged, with LIKE's
 * pattern characters taken as text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mailbox/store.h"
#include "proto/limits.h"
#include "tests/unit/mailbox/mbox_harness.h"

static struct mbox_harness H;
static struct mbox_client ADMIN, CAS;

static int
setup(void **state)
{
	(void)state;
	return mbox_harness_start_clients(&H, &ADMIN, &CAS);
}

static int
teardown(void **state)
{
	(void)state;
	mbox_harness_stop_clients(&H, &ADMIN, &CAS);
	return 0;
}

static uint64_t
add_user(const char *login, const char *alias)
{
	uint64_t id = mbox_harness_add_user(&ADMIN, login, "pw", alias);

	assert_true(id != 0);
	return id;
}

static char *
import(uint64_t user, const char *folder, const char *mime)
{
	Rpc__ImportRequest q;
	ProtobufCMessage *rep;
	char *id;

	rpc__import_request__init(&q);
	q.user = user;
	q.folder_id = (char *)(uintptr_t)folder;
	q.mime.data = (uint8_t *)(uintptr_t)mime;
	q.mime.len = strlen(mime);
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_IMPORT, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	id = strdup(((Rpc__ImportReply *)(void *)rep)->server_id);
	mbox_free(rep);
	return id;
}

static char *
folder_of_type(uint64_t user, uint32_t type)
{
	Rpc__FolderListRequest q;
	ProtobufCMessage *rep;
	const Rpc__FolderListReply *l;
	char *id = NULL;

	rpc__folder_list_request__init(&q);
	q.user = user;
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_FOLDER_LIST, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	l = (const void *)rep;
	for (size_t i = 0; i < l->n_folders && id == NULL; i++)
		if (l->folders[i]->folder->type == type)
			id = strdup(l->folders[i]->folder->server_id);
	mbox_free(rep);
	assert_non_null(id);
	return id;
}

/* A mail folder under parent (FolderSync for the key, FolderCreate). */
static char *
create_folder(uint64_t user, const char *parent, const char *name)
{
	Rpc__FolderSyncRequest fs;
	Rpc__FolderCreateRequest fc;
	ProtobufCMessage *rep, *rep2;
	char *id;

	rpc__folder_sync_request__init(&fs);
	fs.user = user;
	fs.device_id = "SETUP";
	fs.sync_key = "0";
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FOLDER_SYNC, &fs.base, &rep),
	    RPC__STATUS__STATUS_OK);
	rpc__folder_create_request__init(&fc);
	fc.user = user;
	fc.device_id = "SETUP";
	fc.sync_key = ((Rpc__FolderSyncReply *)(void *)rep)->sync_key;
	fc.parent_id = (char *)(uintptr_t)parent;
	fc.display_name = (char *)(uintptr_t)name;
	fc.type = 12;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FOLDER_CREATE, &fc.base, &rep2),
	    RPC__STATUS__STATUS_OK);
	id = strdup(((Rpc__FolderChangeReply *)(void *)rep2)->server_id);
	mbox_free(rep);
	mbox_free(rep2);
	return id;
}

static void
test_move_reasons(void **state)
{
	uint64_t al = add_user("al", NULL), bea = add_user("bea", NULL);
	char *inbox = folder_of_type(al, 2), *cal = folder_of_type(al, 8);
	char *archive = create_folder(al, inbox, "Archive");
	char *a = import(al, NULL, "Subject: a\r\n\r\nx\r\n");
	char *b = import(al, NULL, "Subject: b\r\n\r\nx\r\n");
	char *theirs = import(bea, NULL, "Subject: bea's\r\n\r\nx\r\n");
	char *bea_inbox = folder_of_type(bea, 2);
	static const struct {
		Rpc__Status status;
		Rpc__MoveError error;
	} want[] = {
	    {RPC__STATUS__STATUS_OK, RPC__MOVE_ERROR__MOVE_ERROR_NONE},
	    {RPC__STATUS__STATUS_NOT_FOUND, RPC__MOVE_ERROR__MOVE_ERROR_SOURCE},
	    {RPC__STATUS__STATUS_INVALID, RPC__MOVE_ERROR__MOVE_ERROR_SAME},
	    {RPC__STATUS__STATUS_INVALID, RPC__MOVE_ERROR__MOVE_ERROR_CLASS},
	    {RPC__STATUS__STATUS_NOT_FOUND,
	     RPC__MOVE_ERROR__MOVE_ERROR_DESTINATION},
	    {RPC__STATUS__STATUS_NOT_FOUND, RPC__MOVE_ERROR__MOVE_ERROR_SOURCE},
	};
	Rpc__MoveItem m[6], *mp[6];
	Rpc__MoveItemsRequest q;
	const Rpc__MoveItemsReply *r;
	ProtobufCMessage *rep;

	(void)state;
	for (int i = 0; i < 6; i++) {
		rpc__move_item__init(&m[i]);
		mp[i] = &m[i];
	}
	m[0] = (Rpc__MoveItem){m[0].base, a, inbox, archive};
	/* a has left the Inbox by now: its second move is a stale source */
	m[1] = (Rpc__MoveItem){m[1].base, a, inbox, archive};
	m[2] = (Rpc__MoveItem){m[2].base, b, inbox, inbox};
	m[3] = (Rpc__MoveItem){m[3].base, b, inbox, cal};
	m[4] = (Rpc__MoveItem){m[4].base, b, inbox, "424242"};
	/* bea's item named by its ids in al's request (invariant 6). */
	m[5] = (Rpc__MoveItem){m[5].base, theirs, bea_inbox, archive};
	rpc__move_items_request__init(&q);
	q.user = al;
	q.device_id = "PHONE";
	q.moves = mp;
	q.n_moves = 6;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_MOVE_ITEMS, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	r = (const void *)rep;
	assert_int_equal(r->n_results, 6);
	for (size_t i = 0; i < 6; i++) {
		if (r->results[i]->status != want[i].status ||
		    r->results[i]->error != want[i].error)
			fail_msg("move %zu: status %d error %d", i,
				 (int)r->results[i]->status,
				 (int)r->results[i]->error);
	}
	assert_string_equal(r->results[0]->dst_message_id, a);
	mbox_free(rep);
	/* More than MS-ASCMD's 1000 moves: refused as a whole. */
	{
		Rpc__MoveItem **many =
		    calloc(MOVEITEMS_MAX_MOVES + 1, sizeof(*many));

		assert_non_null(many);
		for (size_t i = 0; i <= MOVEITEMS_MAX_MOVES; i++)
			many[i] = &m[2];
		q.moves = many;
		q.n_moves = MOVEITEMS_MAX_MOVES + 1;
		assert_int_equal(mbox_call(&CAS, RPC__MSG_TYPE__MSG_MOVE_ITEMS,
					   &q.base, &rep),
				 RPC__STATUS__STATUS_INVALID);
		mbox_free(rep);
		/* 1000 are served, one result each. */
		q.n_moves = MOVEITEMS_MAX_MOVES;
		assert_int_equal(mbox_call(&CAS, RPC__MSG_TYPE__MSG_MOVE_ITEMS,
					   &q.base, &rep),
				 RPC__STATUS__STATUS_OK);
		assert_int_equal(
		    ((const Rpc__MoveItemsReply *)(void *)rep)->n_results,
		    MOVEITEMS_MAX_MOVES);
		mbox_free(rep);
		free(many);
	}
	free(inbox);
	free(cal);
	free(archive);
	free(a);
	free(b);
	free(theirs);
	free(bea_inbox);
}

static Rpc__SearchReply *
search(uint64_t user, const char *query, const char *coll, char **more,
       size_t n_more, bool deep, uint32_t from, uint32_t to, Rpc__Status expect)
{
	Rpc__SearchRequest q;
	ProtobufCMessage *rep;

	rpc__search_request__init(&q);
	q.user = user;
	q.device_id = "PHONE";
	q.query = (char *)(uintptr_t)query;
	q.collection_id = (char *)(uintptr_t)coll;
	q.more_collection_ids = more;
	q.n_more_collection_ids = n_more;
	q.deep_traversal = deep;
	q.range_start = from;
	q.range_end = to;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_SEARCH, &q.base, &rep), expect);
	return (Rpc__SearchReply *)(void *)rep;
}

static void
test_search_scope(void **state)
{
	uint64_t cy = add_user("cy", NULL);
	char *inbox = folder_of_type(cy, 2), *sent = folder_of_type(cy, 5);
	char *sub = create_folder(cy, inbox, "Projects");
	char *more[SEARCH_MAX_COLLECTIONS + 1];
	Rpc__SearchReply *r;

	(void)state;
	free(import(cy, inbox, "Subject: zephyr one\r\n\r\nx\r\n"));
	free(import(cy, sub, "Subject: zephyr two\r\n\r\nx\r\n"));
	free(import(cy, sent, "Subject: zephyr three\r\n\r\nx\r\n"));
	/* The Inbox alone; with its subtree; with Sent Items too. */
	r = search(cy, "zephyr", inbox, NULL, 0, false, 0, 9,
		   RPC__STATUS__STATUS_OK);
	assert_int_equal(r->total, 1);
	mbox_free(&r->base);
	r = search(cy, "zephyr", inbox, NULL, 0, true, 0, 9,
		   RPC__STATUS__STATUS_OK);
	assert_int_equal(r->total, 2);
	mbox_free(&r->base);
	more[0] = sent;
	r = search(cy, "zephyr", inbox, more, 1, false, 0, 9,
		   RPC__STATUS__STATUS_OK);
	assert_int_equal(r->total, 2);
	for (size_t i = 0; i < r->n_results; i++)
		assert_string_not_equal(r->results[i]->collection_id, sub);
	mbox_free(&r->base);
	r = search(cy, "zephyr", inbox, more, 1, true, 0, 9,
		   RPC__STATUS__STATUS_OK);
	assert_int_equal(r->total, 3);
	mbox_free(&r->base);
	/* An unknown extra folder; too many; a page over 100. */
	more[0] = "424242";
	mbox_free(&search(cy, "zephyr", inbox, more, 1, false, 0, 9,
			  RPC__STATUS__STATUS_NOT_FOUND)
		       ->base);
	for (size_t i = 0; i <= SEARCH_MAX_COLLECTIONS; i++)
		more[i] = inbox;
	r = search(cy, "zephyr", inbox, more, SEARCH_MAX_COLLECTIONS + 1, false,
		   0, 9, RPC__STATUS__STATUS_INVALID);
	assert_int_equal(r->error, RPC__SEARCH_ERROR__SEARCH_ERROR_TOO_COMPLEX);
	mbox_free(&r->base);
	r = search(cy, "zephyr", inbox, NULL, 0, false, 0, 100,
		   RPC__STATUS__STATUS_INVALID);
	assert_int_equal(r->error, RPC__SEARCH_ERROR__SEARCH_ERROR_RANGE);
	mbox_free(&r->base);
	r = search(cy, "", inbox, NULL, 0, false, 0, 9,
		   RPC__STATUS__STATUS_INVALID);
	assert_int_equal(r->error, RPC__SEARCH_ERROR__SEARCH_ERROR_BAD_REQUEST);
	mbox_free(&r->base);
	free(inbox);
	free(sent);
	free(sub);
}

static Rpc__GalSearchReply *
gal(const char *query, uint32_t from, uint32_t to, Rpc__Status expect)
{
	Rpc__GalSearchRequest q;
	ProtobufCMessage *rep;

	rpc__gal_search_request__init(&q);
	q.user = 1;
	q.query = (char *)(uintptr_t)query;
	q.range_start = from;
	q.range_end = to;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_GAL_SEARCH, &q.base, &rep),
	    expect);
	return (Rpc__GalSearchReply *)(void *)rep;
}

static void
test_gal(void **state)
{
	Rpc__GalSearchReply *r;

	(void)state;
	(void)add_user("bob", "bob@example.org");
	(void)add_user("bobby", "rob@example.org");
	(void)add_user("carol", "carol.king@example.org");
	/* Login prefix, case-insensitive, ordered by login. */
	r = gal("BO", 0, 9, RPC__STATUS__STATUS_OK);
	assert_int_equal(r->total, 2);
	assert_int_equal(r->n_entries, 2);
	assert_string_equal(r->entries[0]->alias, "bob");
	assert_string_equal(r->entries[0]->email_address, "bob@example.org");
	assert_string_equal(r->entries[0]->display_name, "bob");
	assert_string_equal(r->entries[1]->alias, "bobby");
	mbox_free(&r->base);
	/* Address prefix; a page of one. */
	r = gal("rob@", 0, 9, RPC__STATUS__STATUS_OK);
	assert_int_equal(r->total, 1);
	assert_string_equal(r->entries[0]->alias, "bobby");
	mbox_free(&r->base);
	r = gal("bo", 1, 1, RPC__STATUS__STATUS_OK);
	assert_int_equal(r->total, 2);
	assert_int_equal(r->n_entries, 1);
	assert_string_equal(r->entries[0]->alias, "bobby");
	mbox_free(&r->base);
	/* LIKE's pattern characters are text; a middle is no prefix. */
	r = gal("b_b", 0, 9, RPC__STATUS__STATUS_OK);
	assert_int_equal(r->total, 0);
	mbox_free(&r->base);
	r = gal("%", 0, 9, RPC__STATUS__STATUS_OK);
	assert_int_equal(r->total, 0);
	mbox_free(&r->base);
	r = gal("king", 0, 9, RPC__STATUS__STATUS_OK);
	assert_int_equal(r->total, 0);
	mbox_free(&r->base);
	/* Empty query; a page over GAL_MAX_RESULTS. */
	mbox_free(&gal("", 0, 9, RPC__STATUS__STATUS_INVALID)->base);
	mbox_free(
	    &gal("b", 0, GAL_MAX_RESULTS, RPC__STATUS__STATUS_INVALID)->base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_move_reasons),
	    cmocka_unit_test(test_search_scope),
	    cmocka_unit_test(test_gal),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
