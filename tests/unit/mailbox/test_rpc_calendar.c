/*
 * Calendar commands through the mailbox RPC in process
 * (tests/unit/mailbox/mbox_harness.h): an event Added by one device
 * reaches another as ItemData.calendar with a server-made UID and the
 * ClientUid kept; email or generic data in a Calendar folder and events
 * elsewhere are refused (the CAS's Status 6) and store nothing; a Change
 * keeps the UID and the exceptions it does not resend; 16.0 InstanceId
 * Changes and Deletes become exceptions (refused on a single event); the
 * FilterType date of an event (Estimate).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mailbox/store.h"
#include "proto/limits.h"
#include "tests/unit/mailbox/mbox_harness.h"

#define T0 INT64_C(1796115600) /* 2026-12-01T09:00:00Z, a Tuesday */
#define WEEK (7 * INT64_C(86400))

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
add_user(const char *login)
{
	uint64_t id = mbox_harness_add_user(&ADMIN, login, "pw", NULL);

	assert_true(id != 0);
	return id;
}

/* Folder id of a type and its item count. */
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

/* GetChanges; the reply (free with mbox_free). */
static Rpc__GetChangesReply *
changes(uint64_t user, const char *device, const char *coll, const char *key,
	uint32_t filter)
{
	Rpc__GetChangesRequest q;
	ProtobufCMessage *rep;

	rpc__get_changes_request__init(&q);
	q.user = user;
	q.device_id = (char *)(uintptr_t)device;
	q.collection_id = (char *)(uintptr_t)coll;
	q.sync_key = (char *)(uintptr_t)key;
	q.window_size = 100;
	q.filter_type = filter;
	q.get_changes = strcmp(key, "0") != 0;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_GET_CHANGES, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	return (Rpc__GetChangesReply *)(void *)rep;
}

/* A device's key after a first Sync of coll. */
static void
first_key(uint64_t user, const char *device, const char *coll, char *key)
{
	Rpc__GetChangesReply *g = changes(user, device, coll, "0", 0);

	(void)snprintf(key, 16, "%s", g->sync_key);
	mbox_free(&g->base);
}

/* One command through ApplyChanges: its status and assigned id. */
static Rpc__Status
apply(uint64_t user, const char *coll, const char *key, Rpc__ClientChange *c,
      char *server_id_r)
{
	Rpc__ApplyChangesRequest q;
	ProtobufCMessage *rep;
	const Rpc__ApplyChangesReply *a;
	Rpc__Status st;

	rpc__apply_changes_request__init(&q);
	q.user = user;
	q.device_id = "DEVA";
	q.collection_id = (char *)(uintptr_t)coll;
	q.sync_key = (char *)(uintptr_t)key;
	q.changes = &c;
	q.n_changes = 1;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_APPLY_CHANGES, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	a = (const void *)rep;
	assert_int_equal(a->n_results, 1);
	st = a->results[0]->status;
	if (server_id_r != NULL && a->results[0]->server_id != NULL)
		(void)snprintf(server_id_r, 32, "%s", a->results[0]->server_id);
	mbox_free(rep);
	return st;
}

struct event {
	Rpc__ClientChange cc;
	Rpc__ItemData d;
	Rpc__Calendar c;
	Rpc__CalRecurrence r;
};

static void
event(struct event *e, Rpc__ApplyOp op, const char *id)
{
	rpc__client_change__init(&e->cc);
	rpc__item_data__init(&e->d);
	rpc__calendar__init(&e->c);
	rpc__cal_recurrence__init(&e->r);
	e->cc.op = op;
	if (op == RPC__APPLY_OP__APPLY_ADD)
		e->cc.client_id = (char *)(uintptr_t)id;
	else
		e->cc.server_id = (char *)(uintptr_t)id;
	e->cc.data = &e->d;
	e->d.calendar = &e->c;
	e->c.subject = "Weekly";
	e->c.start_time = T0;
	e->c.end_time = T0 + 3600;
	e->r.type = 1;
	e->r.interval = 1;
	e->r.occurrences = 10;
	e->r.day_of_week = 4; /* Tuesday */
	e->c.recurrence = &e->r;
	/* iOS: 32 hex digits and a NUL. */
	e->c.client_uid.data = (uint8_t *)"0123456789ABCDEF0123456789ABCDEF";
	e->c.client_uid.len = 33;
}

/* The one event another device gets from coll. */
static Rpc__GetChangesReply *
seen_by_other(uint64_t user, const char *device, const char *coll,
	      const Rpc__Calendar **c_r)
{
	char key[16];
	Rpc__GetChangesReply *g;

	first_key(user, device, coll, key);
	g = changes(user, device, coll, key, 0);
	assert_int_equal(g->n_changes, 1);
	assert_non_null(g->changes[0]->data);
	*c_r = g->changes[0]->data->calendar;
	assert_non_null(*c_r);
	/* The packed form is not also sent as a generic property. */
	for (size_t i = 0; i < g->changes[0]->data->n_properties; i++)
		assert_string_not_equal(g->changes[0]->data->properties[i]->key,
					"calendar");
	return g;
}

static void
test_add_and_refusals(void **state)
{
	uint64_t u = add_user("cal1");
	char *cal = folder_of_type(u, 8, NULL),
	     *inbox = folder_of_type(u, 2, NULL);
	char key[16], ikey[16], sid[32] = "";
	struct event e;
	Rpc__Email email;
	Rpc__Property prop, *pp = &prop;
	Rpc__GetChangesReply *g;
	const Rpc__Calendar *c;
	uint64_t n = 0;

	(void)state;
	first_key(u, "DEVA", cal, key);
	first_key(u, "DEVA", inbox, ikey);
	event(&e, RPC__APPLY_OP__APPLY_ADD, "a1");
	assert_int_equal(apply(u, cal, key, &e.cc, sid),
			 RPC__STATUS__STATUS_OK);
	assert_true(sid[0] != '\0');
	g = seen_by_other(u, "DEVB", cal, &c);
	assert_string_equal(g->changes[0]->item_class, "Calendar");
	assert_string_equal(c->subject, "Weekly");
	assert_int_equal(c->start_time, T0);
	assert_int_equal(c->client_uid.len, 33);
	assert_memory_equal(c->client_uid.data,
			    "0123456789ABCDEF0123456789ABCDEF", 33);
	/* MS-ASCAL 2.2.2.46: no UID from a 16.x phone: the server's. */
	assert_int_equal(c->uid.len, 32);
	assert_non_null(c->recurrence);
	mbox_free(&g->base);

	/* An event into the Inbox, email and generic data into the
	 * Calendar, a bad event: refused, nothing stored. */
	event(&e, RPC__APPLY_OP__APPLY_ADD, "a2");
	assert_int_equal(apply(u, inbox, ikey, &e.cc, NULL),
			 RPC__STATUS__STATUS_INVALID);
	rpc__email__init(&email);
	email.subject = "mail";
	e.d.calendar = NULL;
	e.d.email = &email;
	assert_int_equal(apply(u, cal, key, &e.cc, NULL),
			 RPC__STATUS__STATUS_INVALID);
	rpc__property__init(&prop);
	prop.key = "Subject";
	e.d.email = NULL;
	e.d.properties = &pp;
	e.d.n_properties = 1;
	assert_int_equal(apply(u, cal, key, &e.cc, NULL),
			 RPC__STATUS__STATUS_INVALID);
	event(&e, RPC__APPLY_OP__APPLY_ADD, "a3");
	e.c.end_time = T0 - 1;
	assert_int_equal(apply(u, cal, key, &e.cc, NULL),
			 RPC__STATUS__STATUS_INVALID);
	event(&e, RPC__APPLY_OP__APPLY_ADD, "a4");
	e.r.type = 4; /* MS-ASCAL 2.2.2.44: no such type */
	assert_int_equal(apply(u, cal, key, &e.cc, NULL),
			 RPC__STATUS__STATUS_INVALID);
	free(folder_of_type(u, 8, &n));
	assert_int_equal(n, 1);
	free(folder_of_type(u, 2, &n));
	assert_int_equal(n, 0);
	free(cal);
	free(inbox);
}

static void
test_change_and_instances(void **state)
{
	uint64_t u = add_user("cal2");
	char *cal = folder_of_type(u, 8, NULL);
	char key[16], sid[32] = "", single[32] = "";
	struct event e;
	Rpc__CalException x, *xs[1] = {&x};
	Rpc__GetChangesReply *g;
	const Rpc__Calendar *c;

	(void)state;
	first_key(u, "DEVA", cal, key);
	event(&e, RPC__APPLY_OP__APPLY_ADD, "b1");
	e.c.uid.data = (uint8_t *)"uid-b1";
	e.c.uid.len = 6;
	rpc__cal_exception__init(&x);
	x.exception_start_time = T0 + WEEK;
	x.deleted = true;
	e.c.exceptions = xs;
	e.c.n_exceptions = 1;
	e.c.has_exceptions = true;
	assert_int_equal(apply(u, cal, key, &e.cc, sid),
			 RPC__STATUS__STATUS_OK);

	/* A Change without UID or Exceptions keeps both. */
	event(&e, RPC__APPLY_OP__APPLY_CHANGE, sid);
	e.c.subject = "Weekly v2";
	e.c.client_uid.len = 0;
	assert_int_equal(apply(u, cal, key, &e.cc, NULL),
			 RPC__STATUS__STATUS_OK);
	/* 16.0: move the third occurrence, delete the fourth. */
	event(&e, RPC__APPLY_OP__APPLY_CHANGE, sid);
	e.c.recurrence = NULL;
	e.c.subject = "Moved";
	e.c.start_time = T0 + 2 * WEEK + 7200;
	e.c.end_time = T0 + 2 * WEEK + 10800;
	e.cc.instance_start = T0 + 2 * WEEK;
	assert_int_equal(apply(u, cal, key, &e.cc, NULL),
			 RPC__STATUS__STATUS_OK);
	rpc__client_change__init(&e.cc);
	e.cc.op = RPC__APPLY_OP__APPLY_DELETE;
	e.cc.server_id = sid;
	e.cc.instance_start = T0 + 3 * WEEK;
	assert_int_equal(apply(u, cal, key, &e.cc, NULL),
			 RPC__STATUS__STATUS_OK);

	g = seen_by_other(u, "DEVB", cal, &c);
	assert_string_equal(c->subject, "Weekly v2");
	assert_int_equal(c->uid.len, 6);
	assert_memory_equal(c->uid.data, "uid-b1", 6);
	assert_int_equal(c->client_uid.len, 33); /* kept from the Add */
	assert_int_equal(c->n_exceptions, 3);
	assert_true(c->exceptions[0]->deleted);
	assert_int_equal(c->exceptions[1]->exception_start_time, T0 + 2 * WEEK);
	assert_string_equal(c->exceptions[1]->subject, "Moved");
	assert_int_equal(c->exceptions[1]->start_time, T0 + 2 * WEEK + 7200);
	assert_true(c->exceptions[2]->deleted);
	assert_int_equal(c->exceptions[2]->exception_start_time, T0 + 3 * WEEK);
	mbox_free(&g->base);

	/* InstanceId on a single event: refused. */
	event(&e, RPC__APPLY_OP__APPLY_ADD, "b2");
	e.c.recurrence = NULL;
	assert_int_equal(apply(u, cal, key, &e.cc, single),
			 RPC__STATUS__STATUS_OK);
	rpc__client_change__init(&e.cc);
	e.cc.op = RPC__APPLY_OP__APPLY_DELETE;
	e.cc.server_id = single;
	e.cc.instance_start = T0;
	assert_int_equal(apply(u, cal, key, &e.cc, NULL),
			 RPC__STATUS__STATUS_INVALID);
	/* A whole Delete works. */
	e.cc.instance_start = 0;
	assert_int_equal(apply(u, cal, key, &e.cc, NULL),
			 RPC__STATUS__STATUS_OK);
	free(cal);
}

/* FilterType compares the end of the last occurrence (Estimate). */
static void
test_filter_date(void **state)
{
	uint64_t u = add_user("cal3");
	char *cal = folder_of_type(u, 8, NULL);
	char key[16], bkey[16];
	struct event e;
	Rpc__EstimateRequest q;
	Rpc__EstimateCollection ec, *ecp = &ec;
	ProtobufCMessage *rep;

	(void)state;
	first_key(u, "DEVA", cal, key);
	/* 2020, single: outside two weeks; 2020, endless weekly: inside. */
	event(&e, RPC__APPLY_OP__APPLY_ADD, "c1");
	e.c.recurrence = NULL;
	e.c.start_time = T0 - 7 * 52 * WEEK;
	e.c.end_time = e.c.start_time + 3600;
	assert_int_equal(apply(u, cal, key, &e.cc, NULL),
			 RPC__STATUS__STATUS_OK);
	event(&e, RPC__APPLY_OP__APPLY_ADD, "c2");
	e.c.start_time = T0 - 7 * 52 * WEEK;
	e.c.end_time = e.c.start_time + 3600;
	e.r.occurrences = 0;
	assert_int_equal(apply(u, cal, key, &e.cc, NULL),
			 RPC__STATUS__STATUS_OK);
	first_key(u, "DEVB", cal, bkey);
	rpc__estimate_request__init(&q);
	rpc__estimate_collection__init(&ec);
	q.user = u;
	q.device_id = "DEVB";
	q.collections = &ecp;
	q.n_collections = 1;
	ec.collection_id = cal;
	ec.sync_key = bkey;
	ec.filter_type = 4; /* MS-ASCMD 2.2.3.68.2: two weeks */
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_ESTIMATE, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	assert_int_equal(
	    ((Rpc__EstimateReply *)(void *)rep)->results[0]->estimate, 1);
	mbox_free(rep);
	ec.filter_type = 0;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_ESTIMATE, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	assert_int_equal(
	    ((Rpc__EstimateReply *)(void *)rep)->results[0]->estimate, 2);
	mbox_free(rep);
	free(cal);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_and_refusals),
	    cmocka_unit_test(test_change_and_instances),
	    cmocka_unit_test(test_filter_date),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
