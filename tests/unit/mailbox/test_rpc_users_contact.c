/*
 * The mailbox's contact-field RPCs in process (mbox_harness.h): UserAdd
 * with a UserContact (and the older display_name field), refused with a
 * message naming the field and adding nobody; UserSetContact changing
 * and clearing fields by mask, refusing an empty or unknown mask, an
 * unknown user and a CAS peer; UserGet and UserList carrying the fields;
 * GalSearch returning them with the alias and display-name defaults and
 * Range 0-0 as one entry; UserSetPhoto and the GAL's picture statuses
 * (1 with the photo, 173, 174 MaxSize, 175 MaxPictures).
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

/* UserAdd; the reply (free with mbox_free) or NULL when refused. */
static Rpc__UserReply *
add_user(const char *login, const char *address, Rpc__UserContact *contact,
	 const char *legacy_name, Rpc__Status expect)
{
	Rpc__UserAddRequest q;
	ProtobufCMessage *rep;
	char *addrs[1] = {(char *)(uintptr_t)address};

	rpc__user_add_request__init(&q);
	q.login = (char *)(uintptr_t)login;
	q.password.data = (uint8_t *)"pw";
	q.password.len = 2;
	q.contact = contact;
	if (legacy_name != NULL)
		q.display_name = (char *)(uintptr_t)legacy_name;
	if (address != NULL) {
		q.addresses = addrs;
		q.n_addresses = 1;
	}
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_USER_ADD, &q.base, &rep),
	    expect);
	return (Rpc__UserReply *)(void *)rep;
}

static Rpc__UserReply *
set_contact(struct mbox_client *c, uint64_t user, Rpc__UserContact *contact,
	    uint32_t fields, Rpc__Status expect)
{
	Rpc__UserSetContactRequest q;
	ProtobufCMessage *rep;

	rpc__user_set_contact_request__init(&q);
	q.user = user;
	q.contact = contact;
	q.fields = fields;
	assert_int_equal(
	    mbox_call(c, RPC__MSG_TYPE__MSG_USER_SET_CONTACT, &q.base, &rep),
	    expect);
	return (Rpc__UserReply *)(void *)rep;
}

static Rpc__GalSearchReply *
gal(const char *query, uint32_t from, uint32_t to)
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
	    RPC__STATUS__STATUS_OK);
	return (Rpc__GalSearchReply *)(void *)rep;
}

static void
test_add_and_set(void **state)
{
	Rpc__UserContact c;
	Rpc__UserReply *r;
	Rpc__UserGetRequest g;
	ProtobufCMessage *rep;
	uint64_t ann;

	(void)state;
	rpc__user_contact__init(&c);
	c.display_name = "Ann Smith";
	c.first_name = "Ann";
	c.last_name = "Smith";
	c.phone = "+1 555 0101";
	r = add_user("ann", "ann@example.org", &c, NULL,
		     RPC__STATUS__STATUS_OK);
	ann = r->info->user;
	assert_string_equal(r->info->display_name, "Ann Smith");
	assert_string_equal(r->info->contact->phone, "+1 555 0101");
	assert_string_equal(r->info->contact->title, "");
	mbox_free(&r->base);

	/* A bad field: refused with its name, nobody added. */
	rpc__user_contact__init(&c);
	c.mobile_phone = "ring ring";
	r = add_user("zed", NULL, &c, NULL, RPC__STATUS__STATUS_INVALID);
	assert_non_null(strstr(r->error, "mobile phone"));
	mbox_free(&r->base);
	rpc__user_get_request__init(&g);
	g.login = "zed";
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_USER_GET, &g.base, &rep),
	    RPC__STATUS__STATUS_NOT_FOUND);
	mbox_free(rep);
	/* The older display_name field still names a user. */
	r = add_user("old", NULL, NULL, "Old Name", RPC__STATUS__STATUS_OK);
	assert_string_equal(r->info->contact->display_name, "Old Name");
	mbox_free(&r->base);

	/* Title set, display name cleared (in the mask, empty), the rest
	 * kept. */
	rpc__user_contact__init(&c);
	c.title = "Engineer";
	r = set_contact(&ADMIN, ann, &c, (1u << 0) | (1u << 3),
			RPC__STATUS__STATUS_OK);
	assert_string_equal(r->info->contact->title, "Engineer");
	assert_string_equal(r->info->contact->display_name, "");
	assert_string_equal(r->info->display_name, "");
	assert_string_equal(r->info->contact->first_name, "Ann");
	assert_string_equal(r->info->contact->phone, "+1 555 0101");
	mbox_free(&r->base);
	g.login = "ann@example.org";
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_USER_GET, &g.base, &rep),
	    RPC__STATUS__STATUS_OK);
	assert_string_equal(
	    ((Rpc__UserReply *)(void *)rep)->info->contact->title, "Engineer");
	mbox_free(rep);

	/* Refusals: no field, an unknown bit, a bad value, an unknown
	 * user, a CAS peer. */
	mbox_free(&set_contact(&ADMIN, ann, &c, 0, RPC__STATUS__STATUS_INVALID)
		       ->base);
	mbox_free(
	    &set_contact(&ADMIN, ann, &c, 1u << 10, RPC__STATUS__STATUS_INVALID)
		 ->base);
	c.alias = "two words";
	r = set_contact(&ADMIN, ann, &c, 1u << 9, RPC__STATUS__STATUS_INVALID);
	assert_non_null(strstr(r->error, "alias"));
	mbox_free(&r->base);
	mbox_free(&set_contact(&ADMIN, 9999, &c, 1u << 3,
			       RPC__STATUS__STATUS_NOT_FOUND)
		       ->base);
	mbox_free(
	    &set_contact(&CAS, ann, &c, 1u << 3, RPC__STATUS__STATUS_DENIED)
		 ->base);
}

static void
test_list_and_gal(void **state)
{
	Rpc__UserContact c;
	Rpc__UserListRequest lq;
	const Rpc__UserListReply *l;
	Rpc__GalSearchReply *g;
	ProtobufCMessage *rep;
	bool seen = false;

	(void)state;
	rpc__user_contact__init(&c);
	c.display_name = "Carol King";
	c.alias = "cking";
	c.office = "B2 101";
	c.company = "Example";
	c.home_phone = "555 0123";
	c.mobile_phone = "555 0199";
	mbox_free(&add_user("carol", "carol@example.org", &c, NULL,
			    RPC__STATUS__STATUS_OK)
		       ->base);
	mbox_free(&add_user("carl", "karl@example.org", NULL, NULL,
			    RPC__STATUS__STATUS_OK)
		       ->base);

	rpc__user_list_request__init(&lq);
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_USER_LIST, &lq.base, &rep),
	    RPC__STATUS__STATUS_OK);
	l = (const void *)rep;
	for (size_t i = 0; i < l->n_users; i++) {
		if (strcmp(l->users[i]->login, "carol") != 0)
			continue;
		assert_string_equal(l->users[i]->contact->alias, "cking");
		assert_string_equal(l->users[i]->display_name, "Carol King");
		seen = true;
	}
	assert_true(seen);
	mbox_free(rep);

	/* "car": carl (no name: his primary address's local part, the
	 * domain's carl@ before karl@) and Carol King, by display name. */
	g = gal("CAR", 0, 9);
	assert_int_equal(g->total, 2);
	assert_int_equal(g->n_entries, 2);
	assert_string_equal(g->entries[0]->display_name, "carl");
	assert_string_equal(g->entries[0]->alias, "carl");
	assert_string_equal(g->entries[0]->email_address, "carl@example.org");
	assert_string_equal(g->entries[1]->display_name, "Carol King");
	assert_string_equal(g->entries[1]->alias, "cking");
	assert_string_equal(g->entries[1]->email_address, "carol@example.org");
	assert_string_equal(g->entries[1]->office, "B2 101");
	assert_string_equal(g->entries[1]->company, "Example");
	assert_string_equal(g->entries[1]->home_phone, "555 0123");
	assert_string_equal(g->entries[1]->mobile_phone, "555 0199");
	assert_string_equal(g->entries[1]->phone, "");
	assert_string_equal(g->entries[1]->first_name, "");
	mbox_free(&g->base);
	/* karl@ is found by its own prefix. */
	g = gal("karl", 0, 9);
	assert_int_equal(g->total, 1);
	assert_string_equal(g->entries[0]->alias, "carl");
	mbox_free(&g->base);
	/* Range 0-0 is one entry; the alias matches. */
	g = gal("car", 0, 0);
	assert_int_equal(g->total, 2);
	assert_int_equal(g->n_entries, 1);
	mbox_free(&g->base);
	g = gal("ckin", 0, 9);
	assert_int_equal(g->total, 1);
	assert_string_equal(g->entries[0]->display_name, "Carol King");
	mbox_free(&g->base);
}

static void
set_photo(uint64_t user, const uint8_t *data, size_t len, Rpc__Status expect)
{
	Rpc__UserSetPhotoRequest q;
	ProtobufCMessage *rep;

	rpc__user_set_photo_request__init(&q);
	q.user = user;
	q.photo.data = (uint8_t *)(uintptr_t)data;
	q.photo.len = len;
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_USER_SET_PHOTO, &q.base, &rep),
	    expect);
	if (expect == RPC__STATUS__STATUS_OK)
		assert_int_equal(
		    ((Rpc__UserReply *)(void *)rep)->info->photo_bytes, len);
	mbox_free(rep);
}

static Rpc__GalSearchReply *
gal_pictures(const char *query, uint32_t max_bytes, bool has_max,
	     uint32_t max_pictures)
{
	Rpc__GalSearchRequest q;
	ProtobufCMessage *rep;

	rpc__gal_search_request__init(&q);
	q.user = 1;
	q.query = (char *)(uintptr_t)query;
	q.range_end = 9;
	q.pictures = true;
	q.picture_max_bytes = max_bytes;
	q.has_max_pictures = has_max;
	q.max_pictures = max_pictures;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_GAL_SEARCH, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	return (Rpc__GalSearchReply *)(void *)rep;
}

/* The statuses of a GAL page's pictures, as "1,173,...". */
static const char *
statuses(const Rpc__GalSearchReply *g)
{
	static char out[128];
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < g->n_entries; i++)
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%u",
					 i > 0 ? "," : "",
					 g->entries[i]->picture_status);
	return out;
}

/* MS-ASCMD 2.2.3.104.3 / 2.2.3.105.3: Status 1 with the photo, 173 none,
 * 174 above MaxSize, 175 past MaxPictures; nothing when not asked. */
static void
test_gal_pictures(void **state)
{
	static uint8_t small[10] = {0xff, 0xd8, 0xff, 1, 2, 3, 4, 5, 6, 7};
	static uint8_t large[20] = {0xff, 0xd8, 0xff, 9};
	Rpc__GalSearchReply *g;
	uint64_t id[4];
	char login[16];

	(void)state;
	for (int i = 0; i < 4; i++) {
		Rpc__UserReply *r;

		(void)snprintf(login, sizeof(login), "pic%d", i + 1);
		r = add_user(login, NULL, NULL, NULL, RPC__STATUS__STATUS_OK);
		id[i] = r->info->user;
		mbox_free(&r->base);
	}
	set_photo(id[0], small, sizeof(small), RPC__STATUS__STATUS_OK);
	set_photo(id[1], large, sizeof(large), RPC__STATUS__STATUS_OK);
	set_photo(id[3], small, sizeof(small), RPC__STATUS__STATUS_OK);
	/* Not an image: refused, the message says why. */
	set_photo(id[2], (const uint8_t *)"hello", 5,
		  RPC__STATUS__STATUS_INVALID);

	g = gal_pictures("pic", 0, false, 0);
	assert_string_equal(statuses(g), "1,1,173,1");
	assert_int_equal(g->entries[0]->picture.len, sizeof(small));
	assert_memory_equal(g->entries[0]->picture.data, small, sizeof(small));
	assert_int_equal(g->entries[1]->picture.len, sizeof(large));
	assert_int_equal(g->entries[2]->picture.len, 0);
	mbox_free(&g->base);
	g = gal_pictures("pic", 15, false, 0);
	assert_string_equal(statuses(g), "1,174,173,1");
	assert_int_equal(g->entries[1]->picture.len, 0);
	mbox_free(&g->base);
	g = gal_pictures("pic", 0, true, 1);
	assert_string_equal(statuses(g), "1,175,173,175");
	assert_int_equal(g->entries[3]->picture.len, 0);
	mbox_free(&g->base);
	g = gal_pictures("pic", 0, true, 0);
	assert_string_equal(statuses(g), "175,175,173,175");
	mbox_free(&g->base);
	/* Not asked: no status, no photo. */
	g = gal("pic", 0, 9);
	assert_string_equal(statuses(g), "0,0,0,0");
	assert_int_equal(g->entries[0]->picture.len, 0);
	mbox_free(&g->base);
	/* Removed: no photo again. */
	set_photo(id[0], NULL, 0, RPC__STATUS__STATUS_OK);
	g = gal_pictures("pic1", 0, false, 0);
	assert_string_equal(statuses(g), "173");
	mbox_free(&g->base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_and_set),
	    cmocka_unit_test(test_list_and_gal),
	    cmocka_unit_test(test_gal_pictures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
