/*
 * The mailbox RPC server in process (tests/unit/mailbox/mbox_harness.h):
 * credentials, administrative authorization, FolderSync, GetChanges with
 * retried keys (G4), the ApplyChanges -> GetChanges contract with ClientId
 * de-duplication, Fetch (items, attachments, chunked MIME), events after a
 * commit, cross-user isolation (invariant 6), a store fault answered with
 * an error and nothing stored, devices and policies, folder commands,
 * Ping, Estimate, Search, and Submit without a relay.
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
add_user(const char *login, const char *password, const char *alias)
{
	uint64_t id = mbox_harness_add_user(&ADMIN, login, password, alias);

	assert_true(id != 0);
	return id;
}

static char *
import(uint64_t user, const char *mime)
{
	Rpc__ImportRequest q;
	ProtobufCMessage *rep;
	char *id;

	rpc__import_request__init(&q);
	q.user = user;
	q.mime.data = (uint8_t *)(uintptr_t)mime;
	q.mime.len = strlen(mime);
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_IMPORT, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	id = strdup(((Rpc__ImportReply *)(void *)rep)->server_id);
	mbox_free(rep);
	return id;
}

/* Folder id of a type, and its item count (FolderList). */
static char *
folder_of_type(uint64_t user, uint32_t type, uint64_t *items_r)
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
		if (l->folders[i]->folder->type == type) {
			id = strdup(l->folders[i]->folder->server_id);
			if (items_r != NULL)
				*items_r = l->folders[i]->items;
		}
	mbox_free(rep);
	assert_non_null(id);
	return id;
}

/* Item count of a folder by id (FolderList). */
static uint64_t
folder_items(uint64_t user, const char *id)
{
	Rpc__FolderListRequest q;
	ProtobufCMessage *rep;
	const Rpc__FolderListReply *l;
	uint64_t n = UINT64_MAX;

	rpc__folder_list_request__init(&q);
	q.user = user;
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_FOLDER_LIST, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	l = (const void *)rep;
	for (size_t i = 0; i < l->n_folders; i++)
		if (strcmp(l->folders[i]->folder->server_id, id) == 0)
			n = l->folders[i]->items;
	mbox_free(rep);
	return n;
}

static Rpc__Status
verify(const char *login, const char *password, uint64_t *user_r)
{
	Rpc__VerifyCredentialsRequest q;
	ProtobufCMessage *rep;
	Rpc__Status st;

	rpc__verify_credentials_request__init(&q);
	q.login = (char *)(uintptr_t)login;
	q.password.data = (uint8_t *)(uintptr_t)password;
	q.password.len = strlen(password);
	st = mbox_call(&CAS, RPC__MSG_TYPE__MSG_VERIFY_CREDENTIALS, &q.base,
		       &rep);
	if (st == RPC__STATUS__STATUS_OK && user_r != NULL)
		*user_r = ((Rpc__VerifyCredentialsReply *)(void *)rep)->user;
	mbox_free(rep);
	return st;
}

static void
test_credentials(void **state)
{
	uint64_t id = add_user("alice", "pw-alice", "a.smith@example.net");
	uint64_t got = 0;

	(void)state;
	assert_int_equal(verify("alice", "pw-alice", &got),
			 RPC__STATUS__STATUS_OK);
	assert_int_equal(got, id);
	assert_int_equal(verify("alice@example.org", "pw-alice", NULL),
			 RPC__STATUS__STATUS_OK);
	assert_int_equal(verify("a.smith@example.net", "pw-alice", NULL),
			 RPC__STATUS__STATUS_OK);
	assert_int_equal(verify("EXAMPLE\\alice", "pw-alice", NULL),
			 RPC__STATUS__STATUS_OK);
	/* Bad password and unknown user: the same answer. */
	assert_int_equal(verify("alice", "wrong", NULL),
			 RPC__STATUS__STATUS_DENIED);
	assert_int_equal(verify("nobody", "pw-alice", NULL),
			 RPC__STATUS__STATUS_DENIED);
	assert_int_equal(verify("alice", "", NULL), RPC__STATUS__STATUS_DENIED);
}

static void
test_admin_only(void **state)
{
	Rpc__UserAddRequest add;
	Rpc__UserListRequest list;
	Rpc__StatsRequest stats;
	ProtobufCMessage *rep;

	(void)state;
	rpc__user_add_request__init(&add);
	add.login = "mallory";
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_USER_ADD, &add.base, &rep),
	    RPC__STATUS__STATUS_DENIED);
	mbox_free(rep);
	rpc__user_list_request__init(&list);
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_USER_LIST, &list.base, &rep),
	    RPC__STATUS__STATUS_DENIED);
	mbox_free(rep);
	rpc__stats_request__init(&stats);
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_STATS, &stats.base, &rep),
	    RPC__STATUS__STATUS_DENIED);
	mbox_free(rep);
	/* Invalid logins are refused. */
	add.login = "has space";
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_USER_ADD, &add.base, &rep),
	    RPC__STATUS__STATUS_INVALID);
	mbox_free(rep);
}

static Rpc__GetChangesReply *
get_changes(uint64_t user, const char *device, const char *coll,
	    const char *key, uint32_t window, Rpc__Status expect)
{
	Rpc__GetChangesRequest q;
	ProtobufCMessage *rep;

	rpc__get_changes_request__init(&q);
	q.user = user;
	q.device_id = (char *)(uintptr_t)device;
	q.collection_id = (char *)(uintptr_t)coll;
	q.sync_key = (char *)(uintptr_t)key;
	q.window_size = window;
	q.get_changes = strcmp(key, "0") != 0;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_GET_CHANGES, &q.base, &rep),
	    expect);
	if (expect != RPC__STATUS__STATUS_OK) {
		mbox_free(rep);
		return NULL;
	}
	return (Rpc__GetChangesReply *)(void *)rep;
}

static void
test_sync(void **state)
{
	uint64_t bob = add_user("bob", "pw-bob", NULL);
	Rpc__FolderSyncRequest fs;
	ProtobufCMessage *rep;
	Rpc__GetChangesReply *g, *again;
	char *inbox = folder_of_type(bob, 2, NULL);
	char key1[16], key2[16];
	bool found = false;

	(void)state;
	free(import(bob,
		    "Subject: one\r\nMessage-ID: <s1@t>\r\n\r\nbody 1\r\n"));
	free(import(bob,
		    "Subject: two\r\nMessage-ID: <s2@t>\r\n\r\nbody 2\r\n"));
	free(import(bob, "Subject: three\r\n\r\nbody 3\r\n"));

	rpc__folder_sync_request__init(&fs);
	fs.user = bob;
	fs.device_id = "DEV1";
	fs.sync_key = "0";
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FOLDER_SYNC, &fs.base, &rep),
	    RPC__STATUS__STATUS_OK);
	for (size_t i = 0; i < ((Rpc__FolderSyncReply *)(void *)rep)->n_adds;
	     i++) {
		const Rpc__Folder *f =
		    ((Rpc__FolderSyncReply *)(void *)rep)->adds[i];

		if (f->type == 2 && strcmp(f->server_id, inbox) == 0 &&
		    strcmp(f->display_name, "Inbox") == 0)
			found = true;
	}
	assert_true(found);
	mbox_free(rep);
	fs.sync_key = "junk";
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FOLDER_SYNC, &fs.base, &rep),
	    RPC__STATUS__STATUS_INVALID_SYNC_KEY);
	mbox_free(rep);

	/* MS-ASCMD 2.2.3.166.4: key 0 issues key 1 with no items. */
	g = get_changes(bob, "DEV1", inbox, "0", 0, RPC__STATUS__STATUS_OK);
	assert_int_equal(g->n_changes, 0);
	(void)snprintf(key1, sizeof(key1), "%s", g->sync_key);
	mbox_free(&g->base);

	g = get_changes(bob, "DEV1", inbox, key1, 2, RPC__STATUS__STATUS_OK);
	assert_int_equal(g->n_changes, 2);
	assert_true(g->more_available);
	assert_int_equal(g->changes[0]->op, RPC__CHANGE_OP__OP_ADD);
	assert_non_null(g->changes[0]->data->email);
	assert_non_null(g->changes[0]->data->email->body);
	(void)snprintf(key2, sizeof(key2), "%s", g->sync_key);

	/* The answer was lost: the same key gives the same changes (G4). */
	again =
	    get_changes(bob, "DEV1", inbox, key1, 2, RPC__STATUS__STATUS_OK);
	assert_int_equal(again->n_changes, 2);
	for (size_t i = 0; i < 2; i++)
		assert_string_equal(again->changes[i]->server_id,
				    g->changes[i]->server_id);
	(void)snprintf(key2, sizeof(key2), "%s", again->sync_key);
	mbox_free(&again->base);
	mbox_free(&g->base);

	g = get_changes(bob, "DEV1", inbox, key2, 10, RPC__STATUS__STATUS_OK);
	assert_int_equal(g->n_changes, 1);
	assert_false(g->more_available);
	assert_string_equal(g->changes[0]->data->email->subject, "three");
	mbox_free(&g->base);

	(void)get_changes(bob, "DEV1", inbox, "99", 10,
			  RPC__STATUS__STATUS_INVALID_SYNC_KEY);
	(void)get_changes(bob, "DEV1", inbox, "x1", 10,
			  RPC__STATUS__STATUS_INVALID_SYNC_KEY);
	free(inbox);
}

static Rpc__ApplyChangesReply *
apply_add(uint64_t user, const char *coll, const char *key,
	  const char *client_id)
{
	Rpc__ApplyChangesRequest q;
	Rpc__ClientChange c, *cp = &c;
	Rpc__ItemData d;
	Rpc__Property p, *pp = &p;
	ProtobufCMessage *rep;

	rpc__apply_changes_request__init(&q);
	rpc__client_change__init(&c);
	rpc__item_data__init(&d);
	rpc__property__init(&p);
	p.key = "Subject";
	p.value.data = (uint8_t *)"dentist";
	p.value.len = 7;
	d.properties = &pp;
	d.n_properties = 1;
	c.op = RPC__APPLY_OP__APPLY_ADD;
	c.client_id = (char *)(uintptr_t)client_id;
	c.data = &d;
	q.user = user;
	q.device_id = "DEV2";
	q.collection_id = (char *)(uintptr_t)coll;
	q.sync_key = (char *)(uintptr_t)key;
	q.changes = &cp;
	q.n_changes = 1;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_APPLY_CHANGES, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	return (Rpc__ApplyChangesReply *)(void *)rep;
}

static void
test_apply_changes(void **state)
{
	uint64_t carl = add_user("carl", "pw", NULL);
	/* Contacts: a class still carried as a generic property list
	 * (calendar folders take typed events, test_rpc_calendar.c). */
	char *cal = folder_of_type(carl, 9, NULL);
	Rpc__GetChangesReply *g;
	Rpc__ApplyChangesReply *a;
	char key1[16], key2[16], sid[32];
	uint64_t count = 0;

	(void)state;
	g = get_changes(carl, "DEV2", cal, "0", 0, RPC__STATUS__STATUS_OK);
	(void)snprintf(key1, sizeof(key1), "%s", g->sync_key);
	mbox_free(&g->base);

	/* One Sync: ApplyChanges(key1) then GetChanges(key1). */
	a = apply_add(carl, cal, key1, "c-1");
	assert_int_equal(a->n_results, 1);
	assert_int_equal(a->results[0]->status, RPC__STATUS__STATUS_OK);
	assert_string_equal(a->sync_key, key1); /* no key issued */
	(void)snprintf(sid, sizeof(sid), "%s", a->results[0]->server_id);
	mbox_free(&a->base);
	g = get_changes(carl, "DEV2", cal, key1, 10, RPC__STATUS__STATUS_OK);
	assert_int_equal(g->n_changes, 0); /* our own Add is not echoed */
	(void)snprintf(key2, sizeof(key2), "%s", g->sync_key);
	mbox_free(&g->base);

	/* The whole Sync retried (answer lost): same id, still no echo,
	 * one item only (G4). */
	a = apply_add(carl, cal, key1, "c-1");
	assert_string_equal(a->results[0]->server_id, sid);
	assert_string_equal(a->sync_key, key1);
	mbox_free(&a->base);
	g = get_changes(carl, "DEV2", cal, key1, 10, RPC__STATUS__STATUS_OK);
	assert_int_equal(g->n_changes, 0);
	assert_string_equal(g->sync_key, key2); /* the same key again */
	mbox_free(&g->base);
	free(folder_of_type(carl, 9, &count));
	assert_int_equal(count, 1);

	/* Another device sees the item as an Add, with its property. */
	g = get_changes(carl, "DEV3", cal, "0", 0, RPC__STATUS__STATUS_OK);
	(void)snprintf(key2, sizeof(key2), "%s", g->sync_key);
	mbox_free(&g->base);
	g = get_changes(carl, "DEV3", cal, key2, 10, RPC__STATUS__STATUS_OK);
	assert_int_equal(g->n_changes, 1);
	assert_string_equal(g->changes[0]->server_id, sid);
	assert_int_equal(g->changes[0]->data->n_properties, 1);
	assert_string_equal(g->changes[0]->data->properties[0]->key, "Subject");
	mbox_free(&g->base);
	free(cal);
}

/* A Sync with client commands whose answer was lost, resent with the
 * same key: ApplyChanges(k) + GetChanges(k) again must replay the window
 * the lost answer carried, not continue after it (found through the CAS
 * by tests/integration/test_cas_lost_responses.sh: the window's Adds were
 * lost for good). */
static void
test_apply_retry_replays_window(void **state)
{
	uint64_t dana = add_user("dana", "pw", NULL);
	char *inbox = folder_of_type(dana, 2, NULL);
	Rpc__ApplyChangesRequest q;
	Rpc__ClientChange c, *cp = &c;
	ProtobufCMessage *rep;
	Rpc__GetChangesReply *g;
	char k1[16], k2[16], k3[16], first[32], added[32];

	(void)state;
	free(import(dana, "Subject: a\r\nMessage-ID: <ra@t>\r\n\r\na\r\n"));
	g = get_changes(dana, "DEV4", inbox, "0", 0, RPC__STATUS__STATUS_OK);
	(void)snprintf(k1, sizeof(k1), "%s", g->sync_key);
	mbox_free(&g->base);
	g = get_changes(dana, "DEV4", inbox, k1, 10, RPC__STATUS__STATUS_OK);
	assert_int_equal(g->n_changes, 1);
	(void)snprintf(first, sizeof(first), "%s", g->changes[0]->server_id);
	(void)snprintf(k2, sizeof(k2), "%s", g->sync_key);
	mbox_free(&g->base);
	free(import(dana, "Subject: b\r\nMessage-ID: <rb@t>\r\n\r\nb\r\n"));

	rpc__apply_changes_request__init(&q);
	rpc__client_change__init(&c);
	c.op = RPC__APPLY_OP__APPLY_FETCH;
	c.server_id = first;
	q.user = dana;
	q.device_id = "DEV4";
	q.collection_id = inbox;
	q.sync_key = k2;
	q.changes = &cp;
	q.n_changes = 1;
	for (int attempt = 0; attempt < 2; attempt++) {
		assert_int_equal(mbox_call(&CAS,
					   RPC__MSG_TYPE__MSG_APPLY_CHANGES,
					   &q.base, &rep),
				 RPC__STATUS__STATUS_OK);
		mbox_free(rep);
		g = get_changes(dana, "DEV4", inbox, k2, 10,
				RPC__STATUS__STATUS_OK);
		/* Both times: b's Add under the same new key. */
		assert_int_equal(g->n_changes, 1);
		assert_int_equal(g->changes[0]->op, RPC__CHANGE_OP__OP_ADD);
		if (attempt == 0) {
			(void)snprintf(added, sizeof(added), "%s",
				       g->changes[0]->server_id);
			(void)snprintf(k3, sizeof(k3), "%s", g->sync_key);
		} else {
			assert_string_equal(g->changes[0]->server_id, added);
			assert_string_equal(g->sync_key, k3);
		}
		mbox_free(&g->base);
	}
	/* And the client that kept the second answer goes on from k3. */
	g = get_changes(dana, "DEV4", inbox, k3, 10, RPC__STATUS__STATUS_OK);
	assert_int_equal(g->n_changes, 0);
	mbox_free(&g->base);
	free(inbox);
}

struct chunks {
	int frames;
	size_t bytes;
	uint64_t total;
	bool done;
	Rpc__Status status;
};

static void
on_chunk(void *arg, Rpc__Status status, ProtobufCMessage *reply, bool last)
{
	struct chunks *c = arg;

	c->status = status;
	if (reply != NULL) {
		const Rpc__FetchReply *f = (const void *)reply;

		c->frames++;
		c->bytes += f->chunk.len;
		if (f->total_size != 0)
			c->total = f->total_size;
		c->status = f->status;
		protobuf_c_message_free_unpacked(reply, NULL);
	}
	if (last)
		c->done = true;
}

static void
test_fetch(void **state)
{
	uint64_t dora = add_user("dora", "pw", NULL);
	size_t big = RPC_CHUNK_BYTES * 2 + 1000;
	char *mime = malloc(big + 64);
	char *id;
	Rpc__FetchRequest q;
	ProtobufCMessage *rep;
	struct chunks c = {0};

	(void)state;
	assert_non_null(mime);
	memcpy(mime, "Subject: big\r\n\r\n", 16);
	memset(mime + 16, 'x', big - 16);
	mime[big] = 0;
	id = import(dora, mime);

	rpc__fetch_request__init(&q);
	q.user = dora;
	q.device_id = "DEV4";
	q.kind = RPC__FETCH_KIND__FETCH_ITEM;
	q.server_id = id;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FETCH, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	assert_string_equal(
	    ((Rpc__FetchReply *)(void *)rep)->data->email->subject, "big");
	mbox_free(rep);

	q.kind = RPC__FETCH_KIND__FETCH_MIME;
	assert_int_equal(rpc_client_call(CAS.rpc, RPC__MSG_TYPE__MSG_FETCH,
					 &q.base, 10000, on_chunk, &c),
			 0);
	for (int i = 0; i < 400 && !c.done; i++)
		(void)loop_run_once(CAS.loop, 50);
	assert_true(c.done);
	assert_int_equal(c.status, RPC__STATUS__STATUS_OK);
	assert_true(c.frames >= 3);
	assert_int_equal(c.bytes, big);
	assert_int_equal(c.total, big);

	q.kind = RPC__FETCH_KIND__FETCH_ITEM;
	q.server_id = "999";
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FETCH, &q.base, &rep),
	    RPC__STATUS__STATUS_NOT_FOUND);
	mbox_free(rep);
	free(id);
	free(mime);
}

static void
test_fetch_attachment(void **state)
{
	uint64_t ida = add_user("ida", "pw", NULL);
	const char *mime =
	    "From: a@b\r\nSubject: with file\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
	    "--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
	    "--XX\r\nContent-Type: application/octet-stream; name=a.bin\r\n"
	    "Content-Disposition: attachment; filename=a.bin\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"
	    "aGVsbG8gYXR0YWNobWVudA==\r\n--XX--\r\n";
	char *id = import(ida, mime);
	Rpc__FetchRequest q;
	ProtobufCMessage *rep;
	const Rpc__Email *e;
	char ref[64];
	struct chunks c = {0};

	(void)state;
	rpc__fetch_request__init(&q);
	q.user = ida;
	q.device_id = "DEV6";
	q.kind = RPC__FETCH_KIND__FETCH_ITEM;
	q.server_id = id;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FETCH, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	e = ((Rpc__FetchReply *)(void *)rep)->data->email;
	assert_int_equal(e->n_attachments, 1);
	assert_string_equal(e->attachments[0]->display_name, "a.bin");
	(void)snprintf(ref, sizeof(ref), "%s",
		       e->attachments[0]->file_reference);
	mbox_free(rep);

	q.kind = RPC__FETCH_KIND__FETCH_ATTACHMENT;
	q.file_reference = ref;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FETCH, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	assert_int_equal(((Rpc__FetchReply *)(void *)rep)->total_size, 16);
	assert_memory_equal(((Rpc__FetchReply *)(void *)rep)->chunk.data,
			    "hello attachment", 16);
	mbox_free(rep);
	/* MS-ASCMD 2.2.3.140 Range: bytes 6..15. */
	q.range_start = 6;
	q.range_end = 16;
	assert_int_equal(rpc_client_call(CAS.rpc, RPC__MSG_TYPE__MSG_FETCH,
					 &q.base, 10000, on_chunk, &c),
			 0);
	for (int i = 0; i < 200 && !c.done; i++)
		(void)loop_run_once(CAS.loop, 20);
	assert_true(c.done);
	assert_int_equal(c.bytes, 10);
	q.range_start = q.range_end = 0;
	q.file_reference = "1:99";
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FETCH, &q.base, &rep),
	    RPC__STATUS__STATUS_NOT_FOUND);
	mbox_free(rep);
	q.file_reference = "junk";
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FETCH, &q.base, &rep),
	    RPC__STATUS__STATUS_NOT_FOUND);
	mbox_free(rep);
	free(id);
}

struct events {
	int changed;
	uint64_t user;
};

static void
on_event(void *arg, const Rpc__Event *ev)
{
	struct events *e = arg;

	if (ev->kind_case == RPC__EVENT__KIND_CHANGED) {
		e->changed++;
		e->user = ev->user;
	}
}

static void
test_events(void **state)
{
	uint64_t erin = add_user("erin", "pw", NULL);
	/* Static: the subscription outlives this test. */
	static struct events e;

	(void)state;
	assert_int_equal(
	    rpc_client_subscribe(CAS.rpc, true, NULL, 0, on_event, &e), 0);
	/* Let the subscription land before the commit. */
	for (int i = 0; i < 10; i++)
		(void)loop_run_once(CAS.loop, 20);
	free(import(erin, "Subject: ping\r\n\r\nx\r\n"));
	for (int i = 0; i < 200 && e.changed == 0; i++)
		(void)loop_run_once(CAS.loop, 20);
	assert_int_equal(e.changed, 1);
	assert_int_equal(e.user, erin);
}

/* Invariant 6: user B names user A's folder, item, attachment and device
 * ids; everything is not found and A's data is unchanged. */
static void
test_cross_user(void **state)
{
	uint64_t a = add_user("usera", "pw", NULL);
	uint64_t b = add_user("userb", "pw", NULL);
	Rpc__FolderCreateRequest fc;
	Rpc__FolderSyncRequest fs;
	Rpc__DeviceRegisterRequest dr;
	Rpc__Device dev;
	ProtobufCMessage *rep;
	char *a_folder, *a_item, *b_inbox;
	char ref[48];
	uint64_t before = 0, after = 0;

	(void)state;
	for (int i = 0; i < 5; i++)
		free(import(a, "Subject: secret\r\n\r\nA's mail\r\n"));
	a_item = import(a, "Subject: last\r\n\r\nA's mail\r\n");
	b_inbox = folder_of_type(b, 2, NULL);
	free(folder_of_type(a, 2, &before));

	/* A: a folder of its own and a device. */
	rpc__folder_sync_request__init(&fs);
	fs.user = a;
	fs.device_id = "DEVA";
	fs.sync_key = "0";
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FOLDER_SYNC, &fs.base, &rep),
	    RPC__STATUS__STATUS_OK);
	rpc__folder_create_request__init(&fc);
	fc.user = a;
	fc.device_id = "DEVA";
	fc.sync_key = ((Rpc__FolderSyncReply *)(void *)rep)->sync_key;
	fc.parent_id = "0";
	fc.display_name = "Private";
	fc.type = 12;
	{
		ProtobufCMessage *rep2;

		assert_int_equal(mbox_call(&CAS,
					   RPC__MSG_TYPE__MSG_FOLDER_CREATE,
					   &fc.base, &rep2),
				 RPC__STATUS__STATUS_OK);
		a_folder =
		    strdup(((Rpc__FolderChangeReply *)(void *)rep2)->server_id);
		mbox_free(rep2);
	}
	mbox_free(rep);
	rpc__device_register_request__init(&dr);
	rpc__device__init(&dev);
	dev.device_id = "DEVA";
	dev.device_type = "iPhone";
	dr.user = a;
	dr.device = &dev;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_DEVICE_REGISTER, &dr.base, &rep),
	    RPC__STATUS__STATUS_OK);
	mbox_free(rep);

	/* B replays A's ids. */
	{
		Rpc__FetchRequest q;

		rpc__fetch_request__init(&q);
		q.user = b;
		q.device_id = "DEVB";
		q.kind = RPC__FETCH_KIND__FETCH_ITEM;
		q.server_id = a_item;
		assert_int_equal(
		    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FETCH, &q.base, &rep),
		    RPC__STATUS__STATUS_NOT_FOUND);
		mbox_free(rep);
		(void)snprintf(ref, sizeof(ref), "%s:0", a_item);
		q.kind = RPC__FETCH_KIND__FETCH_ATTACHMENT;
		q.file_reference = ref;
		assert_int_equal(
		    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FETCH, &q.base, &rep),
		    RPC__STATUS__STATUS_NOT_FOUND);
		mbox_free(rep);
	}
	{
		Rpc__MoveItemsRequest q;
		Rpc__MoveItem m, *mp = &m;
		const Rpc__MoveItemsReply *mr;

		rpc__move_items_request__init(&q);
		rpc__move_item__init(&m);
		m.src_message_id = a_item;
		m.src_folder_id = b_inbox;
		m.dst_folder_id = a_folder;
		q.user = b;
		q.device_id = "DEVB";
		q.moves = &mp;
		q.n_moves = 1;
		assert_int_equal(mbox_call(&CAS, RPC__MSG_TYPE__MSG_MOVE_ITEMS,
					   &q.base, &rep),
				 RPC__STATUS__STATUS_OK);
		mr = (const void *)rep;
		assert_int_equal(mr->results[0]->status,
				 RPC__STATUS__STATUS_NOT_FOUND);
		mbox_free(rep);
	}
	{
		Rpc__EmptyFolderRequest q;

		rpc__empty_folder_request__init(&q);
		q.user = b;
		q.device_id = "DEVB";
		q.collection_id = a_folder;
		assert_int_equal(mbox_call(&CAS,
					   RPC__MSG_TYPE__MSG_EMPTY_FOLDER,
					   &q.base, &rep),
				 RPC__STATUS__STATUS_NOT_FOUND);
		mbox_free(rep);
	}
	{
		Rpc__GetChangesReply *g;

		(void)get_changes(b, "DEVB", a_folder, "0", 0,
				  RPC__STATUS__STATUS_NOT_FOUND);
		g = get_changes(b, "DEVB", b_inbox, "0", 0,
				RPC__STATUS__STATUS_OK);
		{
			Rpc__ApplyChangesRequest q;
			Rpc__ClientChange c, *cp = &c;
			const Rpc__ApplyChangesReply *ar;
			ProtobufCMessage *r2;

			rpc__apply_changes_request__init(&q);
			rpc__client_change__init(&c);
			c.op = RPC__APPLY_OP__APPLY_DELETE;
			c.server_id = a_item;
			q.user = b;
			q.device_id = "DEVB";
			q.collection_id = b_inbox;
			q.sync_key = g->sync_key;
			q.changes = &cp;
			q.n_changes = 1;
			assert_int_equal(
			    mbox_call(&CAS, RPC__MSG_TYPE__MSG_APPLY_CHANGES,
				      &q.base, &r2),
			    RPC__STATUS__STATUS_OK);
			ar = (const void *)r2;
			assert_int_equal(ar->results[0]->status,
					 RPC__STATUS__STATUS_NOT_FOUND);
			mbox_free(r2);
		}
		mbox_free(&g->base);
	}
	{
		Rpc__ProvisionGetRequest q;
		Rpc__DeviceWipeAckRequest w;

		rpc__provision_get_request__init(&q);
		q.user = b;
		q.device_id = "DEVA";
		assert_int_equal(mbox_call(&CAS,
					   RPC__MSG_TYPE__MSG_PROVISION_GET,
					   &q.base, &rep),
				 RPC__STATUS__STATUS_NOT_FOUND);
		mbox_free(rep);
		rpc__device_wipe_ack_request__init(&w);
		w.user = b;
		w.device_id = "DEVA";
		assert_int_equal(mbox_call(&CAS,
					   RPC__MSG_TYPE__MSG_DEVICE_WIPE_ACK,
					   &w.base, &rep),
				 RPC__STATUS__STATUS_NOT_FOUND);
		mbox_free(rep);
	}
	{
		Rpc__FolderDeleteRequest q;

		rpc__folder_delete_request__init(&q);
		q.user = b;
		q.device_id = "DEVB";
		q.sync_key = "1";
		q.server_id = a_folder;
		(void)mbox_call(&CAS, RPC__MSG_TYPE__MSG_FOLDER_DELETE, &q.base,
				&rep);
		assert_int_not_equal(rpc_msg_status(rep),
				     RPC__STATUS__STATUS_OK);
		mbox_free(rep);
	}
	/* A's data is intact. */
	free(folder_of_type(a, 2, &after));
	assert_int_equal(before, after);
	assert_int_not_equal(folder_items(a, a_folder), UINT64_MAX);
	{
		Rpc__ProvisionGetRequest q;

		rpc__provision_get_request__init(&q);
		q.user = a;
		q.device_id = "DEVA";
		assert_int_equal(mbox_call(&CAS,
					   RPC__MSG_TYPE__MSG_PROVISION_GET,
					   &q.base, &rep),
				 RPC__STATUS__STATUS_OK);
		mbox_free(rep);
	}
	free(a_folder);
	free(a_item);
	free(b_inbox);
}

/* A store failure during an import answers an error and stores nothing
 * (the store's fault hook: reliability.md "injected SQLite I/O errors"). */
static void
test_store_fault(void **state)
{
	uint64_t fay = add_user("fay", "pw", NULL);
	Rpc__ImportRequest q;
	ProtobufCMessage *rep;
	uint64_t before = 0, after = 0;
	int failures = 0;

	(void)state;
	free(folder_of_type(fay, 2, &before));
	rpc__import_request__init(&q);
	q.user = fay;
	q.mime.data = (uint8_t *)"Subject: f\r\n\r\nx\r\n";
	q.mime.len = strlen((const char *)q.mime.data);
	/* Fail each of the first steps of the delivery in turn. */
	for (int step = 1; step <= 6; step++) {
		Rpc__Status st;

		store_fault_inject(step, 10 /* SQLITE_IOERR */);
		st =
		    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_IMPORT, &q.base, &rep);
		store_fault_inject(0, 0);
		mbox_free(rep);
		if (st != RPC__STATUS__STATUS_OK) {
			assert_int_equal(st, RPC__STATUS__STATUS_STORAGE_ERROR);
			failures++;
		} else {
			before++; /* the fault hit after the commit */
		}
	}
	assert_true(failures >= 3);
	free(folder_of_type(fay, 2, &after));
	assert_int_equal(before, after);
}

static void
test_devices_and_policies(void **state)
{
	uint64_t gil = add_user("gil", "pw", NULL);
	Rpc__DeviceRegisterRequest dr;
	Rpc__Device dev;
	Rpc__ProvisionSetRequest ps;
	Rpc__ProvisionGetRequest pg;
	Rpc__DeviceWipeRequest dw;
	Rpc__DeviceWipeAckRequest wa;
	Rpc__DeviceListRequest dl;
	Rpc__PolicySetRequest pset;
	Rpc__PolicyAssignRequest pa;
	Rpc__PolicyGetRequest pget;
	ProtobufCMessage *rep;
	const Rpc__ProvisionReply *pr;
	uint8_t hash[4] = {0xde, 0xad, 0x00, 0x01};
	bool listed = false;

	(void)state;
	rpc__device_register_request__init(&dr);
	rpc__device__init(&dev);
	dev.device_id = "PHONE1";
	dev.device_type = "Android";
	dev.model = "Pixel";
	dr.user = gil;
	dr.device = &dev;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_DEVICE_REGISTER, &dr.base, &rep),
	    RPC__STATUS__STATUS_OK);
	assert_string_equal(((Rpc__DeviceReply *)(void *)rep)->device->model,
			    "Pixel");
	mbox_free(rep);

	/* MS-ASPROV two-step Provision: temporary key, then final. */
	rpc__provision_set_request__init(&ps);
	ps.user = gil;
	ps.device_id = "PHONE1";
	ps.policy_key = "1234567";
	ps.key_state = RPC__POLICY_KEY_STATE__KEY_TEMPORARY;
	ps.policy_hash.data = hash;
	ps.policy_hash.len = sizeof(hash);
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_PROVISION_SET, &ps.base, &rep),
	    RPC__STATUS__STATUS_OK);
	mbox_free(rep);
	rpc__provision_get_request__init(&pg);
	pg.user = gil;
	pg.device_id = "PHONE1";
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_PROVISION_GET, &pg.base, &rep),
	    RPC__STATUS__STATUS_OK);
	pr = (const void *)rep;
	assert_string_equal(pr->policy_key, "1234567");
	assert_int_equal(pr->key_state, RPC__POLICY_KEY_STATE__KEY_TEMPORARY);
	assert_int_equal(pr->policy_hash.len, sizeof(hash));
	assert_memory_equal(pr->policy_hash.data, hash, sizeof(hash));
	assert_int_equal(pr->wipe, RPC__WIPE_STATE__WIPE_NONE);
	mbox_free(rep);

	/* Remote wipe: admin only; pending until the device acknowledges. */
	rpc__device_wipe_request__init(&dw);
	dw.user = gil;
	dw.device_id = "PHONE1";
	dw.wipe = RPC__WIPE_STATE__WIPE_REQUESTED;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_DEVICE_WIPE, &dw.base, &rep),
	    RPC__STATUS__STATUS_DENIED);
	mbox_free(rep);
	rpc__device_wipe_ack_request__init(&wa);
	wa.user = gil;
	wa.device_id = "PHONE1";
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_DEVICE_WIPE_ACK, &wa.base, &rep),
	    RPC__STATUS__STATUS_INVALID); /* nothing pending */
	mbox_free(rep);
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_DEVICE_WIPE, &dw.base, &rep),
	    RPC__STATUS__STATUS_OK);
	assert_int_equal(((Rpc__DeviceReply *)(void *)rep)->device->wipe,
			 RPC__WIPE_STATE__WIPE_REQUESTED);
	mbox_free(rep);
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_DEVICE_WIPE_ACK, &wa.base, &rep),
	    RPC__STATUS__STATUS_OK);
	assert_int_equal(((Rpc__DeviceReply *)(void *)rep)->device->wipe,
			 RPC__WIPE_STATE__WIPE_DONE);
	mbox_free(rep);

	rpc__device_list_request__init(&dl);
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_DEVICE_LIST, &dl.base, &rep),
	    RPC__STATUS__STATUS_DENIED); /* every user's: admin only */
	mbox_free(rep);
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_DEVICE_LIST, &dl.base, &rep),
	    RPC__STATUS__STATUS_OK);
	for (size_t i = 0; i < ((Rpc__DeviceListReply *)(void *)rep)->n_devices;
	     i++) {
		const Rpc__DeviceListEntry *e =
		    ((Rpc__DeviceListReply *)(void *)rep)->devices[i];

		if (e->user == gil &&
		    strcmp(e->device->device_id, "PHONE1") == 0)
			listed = true;
	}
	assert_true(listed);
	mbox_free(rep);

	/* Policies: the defaults under a name, assigned to the user. */
	rpc__policy_set_request__init(&pset);
	pset.name = "strict";
	pset.text = "";
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_POLICY_SET, &pset.base, &rep),
	    RPC__STATUS__STATUS_OK);
	assert_int_equal(((Rpc__PolicyReply *)(void *)rep)->hash.len, 32);
	mbox_free(rep);
	pset.text = "NoSuchSetting = 1\n";
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_POLICY_SET, &pset.base, &rep),
	    RPC__STATUS__STATUS_INVALID);
	mbox_free(rep);
	rpc__policy_assign_request__init(&pa);
	pa.user = gil;
	pa.name = "strict";
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_POLICY_ASSIGN, &pa.base, &rep),
	    RPC__STATUS__STATUS_OK);
	mbox_free(rep);
	rpc__policy_get_request__init(&pget);
	pget.user = gil;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_POLICY_GET, &pget.base, &rep),
	    RPC__STATUS__STATUS_OK);
	assert_string_equal(((Rpc__PolicyReply *)(void *)rep)->name, "strict");
	mbox_free(rep);
}

static char *
folder_sync_key(uint64_t user, const char *device, const char *key)
{
	Rpc__FolderSyncRequest fs;
	ProtobufCMessage *rep;
	char *out;

	rpc__folder_sync_request__init(&fs);
	fs.user = user;
	fs.device_id = (char *)(uintptr_t)device;
	fs.sync_key = (char *)(uintptr_t)key;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FOLDER_SYNC, &fs.base, &rep),
	    RPC__STATUS__STATUS_OK);
	out = strdup(((Rpc__FolderSyncReply *)(void *)rep)->sync_key);
	mbox_free(rep);
	return out;
}

static Rpc__PingCheckReply *
ping(uint64_t user, const char *device, const char *coll)
{
	Rpc__PingCheckRequest q;
	Rpc__PingCollection c, *cp = &c;
	ProtobufCMessage *rep;

	rpc__ping_check_request__init(&q);
	rpc__ping_collection__init(&c);
	c.collection_id = (char *)(uintptr_t)coll;
	q.user = user;
	q.device_id = (char *)(uintptr_t)device;
	q.collections = &cp;
	q.n_collections = 1;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_PING_CHECK, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	return (Rpc__PingCheckReply *)(void *)rep;
}

static void
test_folders_moves_ping(void **state)
{
	uint64_t hal = add_user("hal", "pw", NULL);
	char *inbox = folder_of_type(hal, 2, NULL);
	char *trash = folder_of_type(hal, 4, NULL);
	char *key = folder_sync_key(hal, "DEV5", "0");
	char *item, *folder, key1[16];
	Rpc__FolderCreateRequest fc;
	Rpc__FolderUpdateRequest fu;
	Rpc__FolderDeleteRequest fd;
	Rpc__MoveItemsRequest mq;
	Rpc__MoveItem m, *mp = &m;
	Rpc__EmptyFolderRequest ef;
	Rpc__EstimateRequest eq;
	Rpc__EstimateCollection ec, *ecp = &ec;
	Rpc__GetChangesReply *g;
	Rpc__PingCheckReply *p;
	ProtobufCMessage *rep;
	uint64_t quiet_modseq;

	(void)state;
	/* FolderCreate, rename, and a name clash. */
	rpc__folder_create_request__init(&fc);
	fc.user = hal;
	fc.device_id = "DEV5";
	fc.sync_key = key;
	fc.parent_id = "0";
	fc.display_name = "Projects";
	fc.type = 12;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FOLDER_CREATE, &fc.base, &rep),
	    RPC__STATUS__STATUS_OK);
	folder = strdup(((Rpc__FolderChangeReply *)(void *)rep)->server_id);
	free(key);
	key = strdup(((Rpc__FolderChangeReply *)(void *)rep)->sync_key);
	mbox_free(rep);
	fc.sync_key = key;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FOLDER_CREATE, &fc.base, &rep),
	    RPC__STATUS__STATUS_EXISTS);
	mbox_free(rep);
	rpc__folder_update_request__init(&fu);
	fu.user = hal;
	fu.device_id = "DEV5";
	fu.sync_key = key;
	fu.server_id = folder;
	fu.parent_id = "0";
	fu.display_name = "Archive";
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FOLDER_UPDATE, &fu.base, &rep),
	    RPC__STATUS__STATUS_OK);
	free(key);
	key = strdup(((Rpc__FolderChangeReply *)(void *)rep)->sync_key);
	mbox_free(rep);
	fu.sync_key = key;
	fu.server_id = inbox; /* special folders stay */
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FOLDER_UPDATE, &fu.base, &rep),
	    RPC__STATUS__STATUS_DENIED);
	mbox_free(rep);

	/* Ping: never synced -> changed; synced -> quiet; new mail ->
	 * changed; unknown folder -> not found. */
	p = ping(hal, "DEV5", inbox);
	assert_int_equal(p->n_changed, 1);
	mbox_free(&p->base);
	g = get_changes(hal, "DEV5", inbox, "0", 0, RPC__STATUS__STATUS_OK);
	(void)snprintf(key1, sizeof(key1), "%s", g->sync_key);
	mbox_free(&g->base);
	g = get_changes(hal, "DEV5", inbox, key1, 10, RPC__STATUS__STATUS_OK);
	(void)snprintf(key1, sizeof(key1), "%s", g->sync_key);
	mbox_free(&g->base);
	p = ping(hal, "DEV5", inbox);
	assert_int_equal(p->n_changed, 0);
	/* The folder's own modseq, for the CAS's replay of early events. */
	assert_int_equal(p->n_folder_modseqs, 1);
	quiet_modseq = p->folder_modseqs[0];
	mbox_free(&p->base);
	item = import(hal, "Subject: move me\r\n\r\nx\r\n");
	p = ping(hal, "DEV5", inbox);
	assert_int_equal(p->n_changed, 1);
	assert_string_equal(p->changed[0], inbox);
	assert_int_equal(p->n_folder_modseqs, 1);
	assert_true(p->folder_modseqs[0] > quiet_modseq);
	mbox_free(&p->base);
	p = ping(hal, "DEV5", "424242");
	assert_int_equal(p->n_not_found, 1);
	assert_int_equal(p->folder_modseqs[0], 0);
	mbox_free(&p->base);

	/* GetItemEstimate: one new item since key1. */
	rpc__estimate_request__init(&eq);
	rpc__estimate_collection__init(&ec);
	ec.collection_id = inbox;
	ec.sync_key = key1;
	eq.user = hal;
	eq.device_id = "DEV5";
	eq.collections = &ecp;
	eq.n_collections = 1;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_ESTIMATE, &eq.base, &rep),
	    RPC__STATUS__STATUS_OK);
	assert_int_equal(
	    ((Rpc__EstimateReply *)(void *)rep)->results[0]->status,
	    RPC__STATUS__STATUS_OK);
	assert_int_equal(
	    ((Rpc__EstimateReply *)(void *)rep)->results[0]->estimate, 1);
	mbox_free(rep);

	/* MoveItems into the new folder keeps the id. */
	rpc__move_items_request__init(&mq);
	rpc__move_item__init(&m);
	m.src_message_id = item;
	m.src_folder_id = inbox;
	m.dst_folder_id = folder;
	mq.user = hal;
	mq.device_id = "DEV5";
	mq.moves = &mp;
	mq.n_moves = 1;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_MOVE_ITEMS, &mq.base, &rep),
	    RPC__STATUS__STATUS_OK);
	assert_int_equal(
	    ((Rpc__MoveItemsReply *)(void *)rep)->results[0]->status,
	    RPC__STATUS__STATUS_OK);
	assert_string_equal(
	    ((Rpc__MoveItemsReply *)(void *)rep)->results[0]->dst_message_id,
	    item);
	mbox_free(rep);
	assert_int_equal(folder_items(hal, folder), 1);
	assert_int_equal(folder_items(hal, inbox), 0);

	/* EmptyFolderContents, then FolderDelete. */
	rpc__empty_folder_request__init(&ef);
	ef.user = hal;
	ef.device_id = "DEV5";
	ef.collection_id = folder;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_EMPTY_FOLDER, &ef.base, &rep),
	    RPC__STATUS__STATUS_OK);
	mbox_free(rep);
	assert_int_equal(folder_items(hal, folder), 0);
	rpc__folder_delete_request__init(&fd);
	fd.user = hal;
	fd.device_id = "DEV5";
	fd.sync_key = key;
	fd.server_id = folder;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FOLDER_DELETE, &fd.base, &rep),
	    RPC__STATUS__STATUS_OK);
	mbox_free(rep);
	/* Special folders stay; a bad key fails before any change. */
	fd.server_id = trash;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FOLDER_DELETE, &fd.base, &rep),
	    RPC__STATUS__STATUS_DENIED);
	mbox_free(rep);
	fc.sync_key = "77";
	fc.display_name = "Never";
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FOLDER_CREATE, &fc.base, &rep),
	    RPC__STATUS__STATUS_INVALID_SYNC_KEY);
	mbox_free(rep);
	{
		Rpc__FolderListRequest q;
		const Rpc__FolderListReply *l;

		rpc__folder_list_request__init(&q);
		q.user = hal;
		assert_int_equal(mbox_call(&ADMIN,
					   RPC__MSG_TYPE__MSG_FOLDER_LIST,
					   &q.base, &rep),
				 RPC__STATUS__STATUS_OK);
		l = (const void *)rep;
		for (size_t i = 0; i < l->n_folders; i++)
			assert_string_not_equal(
			    l->folders[i]->folder->display_name, "Never");
		mbox_free(rep);
	}
	free(key);
	free(item);
	free(folder);
	free(trash);
	free(inbox);
}

static Rpc__SearchReply *
search(uint64_t user, const char *query, const char *coll, uint32_t from,
       uint32_t to, Rpc__Status expect)
{
	Rpc__SearchRequest q;
	ProtobufCMessage *rep;

	rpc__search_request__init(&q);
	q.user = user;
	q.device_id = "DEV7";
	q.query = (char *)(uintptr_t)query;
	q.collection_id = (char *)(uintptr_t)coll;
	q.range_start = from;
	q.range_end = to;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_SEARCH, &q.base, &rep), expect);
	if (expect != RPC__STATUS__STATUS_OK) {
		mbox_free(rep);
		return NULL;
	}
	return (Rpc__SearchReply *)(void *)rep;
}

static void
test_search(void **state)
{
	uint64_t jo = add_user("jo", "pw", NULL);
	uint64_t other = add_user("kim", "pw", NULL);
	char *inbox = folder_of_type(jo, 2, NULL);
	Rpc__SearchReply *sr;
	Rpc__FetchRequest f;
	ProtobufCMessage *rep;

	(void)state;
	free(import(jo, "From: Ann <ann@x>\r\nSubject: Quarterly report\r\n"
			"\r\nnumbers\r\n"));
	free(import(jo, "Subject: lunch\r\n\r\nthe REPORT is late\r\n"));
	free(import(jo, "Subject: unrelated\r\n\r\nnothing\r\n"));
	free(import(other, "Subject: report of kim\r\n\r\nx\r\n"));

	sr = search(jo, "report", "", 0, 0, RPC__STATUS__STATUS_OK);
	assert_int_equal(sr->total, 2); /* kim's is not jo's */
	assert_int_equal(sr->n_results, 2);
	assert_string_equal(sr->results[0]->collection_id, inbox);
	assert_non_null(sr->results[0]->data->email);
	/* The LongId fetches the item. */
	rpc__fetch_request__init(&f);
	f.user = jo;
	f.device_id = "DEV7";
	f.kind = RPC__FETCH_KIND__FETCH_LONG_ID;
	f.long_id = sr->results[0]->long_id;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FETCH, &f.base, &rep),
	    RPC__STATUS__STATUS_OK);
	mbox_free(rep);
	f.user = other; /* not kim's item */
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FETCH, &f.base, &rep),
	    RPC__STATUS__STATUS_NOT_FOUND);
	mbox_free(rep);
	mbox_free(&sr->base);

	sr = search(jo, "ann@x", inbox, 0, 0, RPC__STATUS__STATUS_OK);
	assert_int_equal(sr->total, 1);
	mbox_free(&sr->base);
	sr = search(jo, "report", "", 1, 1, RPC__STATUS__STATUS_OK);
	assert_int_equal(sr->total, 2);
	assert_int_equal(sr->n_results, 1);
	mbox_free(&sr->base);
	(void)search(jo, "", "", 0, 0, RPC__STATUS__STATUS_INVALID);
	(void)search(jo, "x", "424242", 0, 0, RPC__STATUS__STATUS_NOT_FOUND);
	(void)search(jo, "x", "", 5, 2, RPC__STATUS__STATUS_INVALID);
	free(inbox);
}

/* Without smtp_relay, Submit says so. */
static void
test_unsupported(void **state)
{
	Rpc__SubmitRequest q;
	ProtobufCMessage *rep;

	(void)state;
	rpc__submit_request__init(&q);
	q.user = 1;
	q.mime.data = (uint8_t *)"To: a@b\r\n\r\nx";
	q.mime.len = strlen((const char *)q.mime.data);
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_SUBMIT, &q.base, &rep),
	    RPC__STATUS__STATUS_UNSUPPORTED);
	mbox_free(rep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_credentials),
	    cmocka_unit_test(test_admin_only),
	    cmocka_unit_test(test_sync),
	    cmocka_unit_test(test_apply_changes),
	    cmocka_unit_test(test_apply_retry_replays_window),
	    cmocka_unit_test(test_fetch),
	    cmocka_unit_test(test_fetch_attachment),
	    cmocka_unit_test(test_events),
	    cmocka_unit_test(test_cross_user),
	    cmocka_unit_test(test_store_fault),
	    cmocka_unit_test(test_devices_and_policies),
	    cmocka_unit_test(test_folders_moves_ping),
	    cmocka_unit_test(test_search),
	    cmocka_unit_test(test_unsupported),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
