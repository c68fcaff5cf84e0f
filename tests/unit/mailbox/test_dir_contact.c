/* Unit tests for the directory's contact fields and the global address
 * list (mailbox/store_dir.c): validation with readable messages, set and
 * clear by mask, the GAL's prefix matching of names, alias, login and
 * addresses (with "first last" / "last first"), the display name
 * fallback, ordering and paging, disabled users left out, photos
 * (format and size checked, stored, sized in the GAL entry), and a v2
 * directory upgraded in place with its users intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/directory.h"
#include "mailbox/store_int.h"
#include "proto/limits.h"

struct fixture {
	char dir[64];
	struct store_dir *d;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/easd-dirc-XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
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
	char cmd[128];

	store_dir_close(&fx->d);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	(void)system(cmd);
	free(fx);
	return 0;
}

static void
open_dir(struct fixture *fx)
{
	struct store_error err;

	store_dir_close(&fx->d);
	assert_int_equal(store_dir_open(fx->dir, &fx->d, &err), 0);
}

static int64_t
add_user(struct fixture *fx, const char *login, const char *address)
{
	int64_t id;

	assert_int_equal(store_dir_user_add(fx->d, login, "pw", 1, &id), 0);
	if (address != NULL)
		assert_int_equal(store_dir_address_add(fx->d, id, address), 0);
	return id;
}

/* Sets one field (NULL clears it). */
static int
set1(struct fixture *fx, int64_t id, enum dir_contact_field f, const char *v)
{
	struct dir_contact c;

	memset(&c, 0, sizeof(c));
	c.f[f] = (char *)(uintptr_t)v;
	return store_dir_user_set_contact(fx->d, id, &c, 1u << f);
}

static void
test_validate(void **state)
{
	struct dir_contact c;
	struct store_error err;
	char long_name[DIR_MAX_NAME_BYTES + 2];

	(void)state;
	memset(&c, 0, sizeof(c));
	c.f[DIR_CONTACT_DISPLAY_NAME] = "Zoë Ørsted-Łukasz";
	c.f[DIR_CONTACT_PHONE] = "+49 (30) 1234-5678 x12";
	c.f[DIR_CONTACT_ALIAS] = "zoe.o";
	c.f[DIR_CONTACT_TITLE] = "";
	assert_int_equal(dir_contact_validate(&c, DIR_CONTACT_ALL, &err), 0);

	c.f[DIR_CONTACT_PHONE] = "call me";
	assert_int_equal(dir_contact_validate(&c, DIR_CONTACT_ALL, &err), -1);
	assert_int_equal(err.status, STORE_INVALID);
	assert_non_null(strstr(err.msg, "phone: only digits"));
	/* Not in the mask: not checked. */
	assert_int_equal(
	    dir_contact_validate(&c, 1u << DIR_CONTACT_DISPLAY_NAME, &err), 0);
	c.f[DIR_CONTACT_PHONE] = "+-()";
	assert_int_equal(dir_contact_validate(&c, DIR_CONTACT_ALL, &err), -1);
	assert_string_equal(err.msg, "phone: holds no digit");
	c.f[DIR_CONTACT_PHONE] = NULL;

	c.f[DIR_CONTACT_ALIAS] = "zoe o";
	assert_int_equal(dir_contact_validate(&c, DIR_CONTACT_ALL, &err), -1);
	assert_non_null(strstr(err.msg, "alias: "));
	c.f[DIR_CONTACT_ALIAS] = "zoe@x";
	assert_int_equal(dir_contact_validate(&c, DIR_CONTACT_ALL, &err), -1);
	c.f[DIR_CONTACT_ALIAS] = NULL;

	c.f[DIR_CONTACT_OFFICE] = "a\tb";
	assert_int_equal(dir_contact_validate(&c, DIR_CONTACT_ALL, &err), -1);
	assert_string_equal(err.msg, "office: holds a control character");
	c.f[DIR_CONTACT_OFFICE] = "\xc3\x28";
	assert_int_equal(dir_contact_validate(&c, DIR_CONTACT_ALL, &err), -1);
	assert_string_equal(err.msg, "office: not valid UTF-8");
	c.f[DIR_CONTACT_OFFICE] = "\xed\xa0\x80"; /* a surrogate */
	assert_int_equal(dir_contact_validate(&c, DIR_CONTACT_ALL, &err), -1);
	c.f[DIR_CONTACT_OFFICE] = "\xe2\x82"; /* cut short */
	assert_int_equal(dir_contact_validate(&c, DIR_CONTACT_ALL, &err), -1);
	c.f[DIR_CONTACT_OFFICE] = NULL;

	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[DIR_MAX_NAME_BYTES] = '\0';
	c.f[DIR_CONTACT_COMPANY] = long_name; /* exactly the bound */
	assert_int_equal(dir_contact_validate(&c, DIR_CONTACT_ALL, &err), 0);
	long_name[DIR_MAX_NAME_BYTES] = 'n';
	long_name[DIR_MAX_NAME_BYTES + 1] = '\0';
	assert_int_equal(dir_contact_validate(&c, DIR_CONTACT_ALL, &err), -1);
	assert_string_equal(err.msg, "company longer than 256 bytes");
	assert_string_equal(dir_contact_field_label(DIR_CONTACT_MOBILE_PHONE),
			    "mobile phone");
}

static void
test_set_get(void **state)
{
	struct fixture *fx = *state;
	struct dir_contact c;
	struct dir_user u;
	int64_t id, other;

	open_dir(fx);
	id = add_user(fx, "ann", "ann@example.org");
	other = add_user(fx, "bob", NULL);
	memset(&c, 0, sizeof(c));
	c.f[DIR_CONTACT_DISPLAY_NAME] = "Ann Smith";
	c.f[DIR_CONTACT_FIRST_NAME] = "Ann";
	c.f[DIR_CONTACT_LAST_NAME] = "Smith";
	c.f[DIR_CONTACT_PHONE] = "555 1";
	c.f[DIR_CONTACT_TITLE] = "ignored: not in the mask";
	assert_int_equal(
	    store_dir_user_set_contact(fx->d, id, &c,
				       (1u << DIR_CONTACT_DISPLAY_NAME) |
					   (1u << DIR_CONTACT_FIRST_NAME) |
					   (1u << DIR_CONTACT_LAST_NAME) |
					   (1u << DIR_CONTACT_PHONE)),
	    0);
	/* Survives reopening; other users untouched. */
	open_dir(fx);
	assert_int_equal(store_dir_user_get(fx->d, id, &u), 0);
	assert_string_equal(u.contact.f[DIR_CONTACT_DISPLAY_NAME], "Ann Smith");
	assert_string_equal(u.contact.f[DIR_CONTACT_LAST_NAME], "Smith");
	assert_string_equal(u.contact.f[DIR_CONTACT_PHONE], "555 1");
	assert_null(u.contact.f[DIR_CONTACT_TITLE]);
	assert_null(u.contact.f[DIR_CONTACT_ALIAS]);
	dir_user_clear(&u);
	assert_int_equal(store_dir_user_get(fx->d, other, &u), 0);
	for (size_t i = 0; i < DIR_CONTACT_FIELDS; i++)
		assert_null(u.contact.f[i]);
	dir_user_clear(&u);

	/* One field changed, "" clears another, the rest stay. */
	assert_int_equal(set1(fx, id, DIR_CONTACT_TITLE, "Engineer"), 0);
	assert_int_equal(set1(fx, id, DIR_CONTACT_PHONE, ""), 0);
	assert_int_equal(store_dir_user_find(fx->d, "ANN@example.org", &u), 0);
	assert_string_equal(u.contact.f[DIR_CONTACT_TITLE], "Engineer");
	assert_null(u.contact.f[DIR_CONTACT_PHONE]);
	assert_string_equal(u.contact.f[DIR_CONTACT_FIRST_NAME], "Ann");
	dir_user_clear(&u);

	/* A refused value changes nothing; an unknown user is NOT_FOUND. */
	memset(&c, 0, sizeof(c));
	c.f[DIR_CONTACT_FIRST_NAME] = "Anna";
	c.f[DIR_CONTACT_MOBILE_PHONE] = "none";
	assert_int_equal(
	    store_dir_user_set_contact(fx->d, id, &c, DIR_CONTACT_ALL), -1);
	assert_int_equal(store_dir_last_error(fx->d)->status, STORE_INVALID);
	assert_non_null(
	    strstr(store_dir_last_error(fx->d)->msg, "mobile phone"));
	assert_int_equal(store_dir_user_get(fx->d, id, &u), 0);
	assert_string_equal(u.contact.f[DIR_CONTACT_FIRST_NAME], "Ann");
	assert_string_equal(u.contact.f[DIR_CONTACT_TITLE], "Engineer");
	dir_user_clear(&u);
	assert_int_equal(set1(fx, 9999, DIR_CONTACT_TITLE, "x"), -1);
	assert_int_equal(store_dir_last_error(fx->d)->status, STORE_NOT_FOUND);
}

/* The display names of a GAL page, joined by '|'. */
static char *
gal_names(struct fixture *fx, const char *prefix, size_t first, size_t max,
	  size_t *total_r)
{
	struct dir_gal_entry *e = NULL;
	size_t count = 0;
	static char out[512];
	size_t used = 0;

	assert_int_equal(store_dir_gal_search(fx->d, prefix, first, max, &e,
					      &count, total_r),
			 0);
	out[0] = '\0';
	for (size_t i = 0; i < count; i++)
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s",
					 i > 0 ? "|" : "", e[i].display_name);
	dir_gal_entries_free(&e, count);
	return out;
}

static void
test_gal(void **state)
{
	struct fixture *fx = *state;
	struct dir_gal_entry *e = NULL;
	int64_t ann, annette, andy, bob, off;
	size_t count, total;

	open_dir(fx);
	ann = add_user(fx, "ann", "ann@example.org");
	annette = add_user(fx, "annette", "nette@example.org");
	andy = add_user(fx, "andy", "andy@example.org");
	bob = add_user(fx, "bob", NULL);
	off = add_user(fx, "annoff", "annoff@example.org");
	assert_int_equal(set1(fx, ann, DIR_CONTACT_DISPLAY_NAME, "Ann Smith"),
			 0);
	assert_int_equal(set1(fx, ann, DIR_CONTACT_FIRST_NAME, "Ann"), 0);
	assert_int_equal(set1(fx, ann, DIR_CONTACT_LAST_NAME, "Smith"), 0);
	assert_int_equal(set1(fx, ann, DIR_CONTACT_OFFICE, "B2"), 0);
	assert_int_equal(
	    set1(fx, andy, DIR_CONTACT_DISPLAY_NAME, "Andrew Anderson"), 0);
	assert_int_equal(set1(fx, andy, DIR_CONTACT_ALIAS, "aanderson"), 0);
	assert_int_equal(set1(fx, bob, DIR_CONTACT_LAST_NAME, "Annan"), 0);
	assert_int_equal(set1(fx, off, DIR_CONTACT_DISPLAY_NAME, "Ann Off"), 0);
	assert_int_equal(store_dir_user_set_disabled(fx->d, off, true), 0);

	/* Login, display name, last name ("Annan"); the disabled user is
	 * left out; ordered by display name: "Ann Smith", "bob" (no
	 * address: the login), "nette" (the address's local part). */
	assert_string_equal(gal_names(fx, "ANN", 0, 10, &total),
			    "Ann Smith|bob|nette");
	assert_int_equal(total, 3);
	/* Paging keeps the order and the total. */
	assert_string_equal(gal_names(fx, "ann", 1, 1, &total), "bob");
	assert_int_equal(total, 3);
	assert_string_equal(gal_names(fx, "ann", 3, 5, &total), "");
	assert_int_equal(total, 3);
	/* Last name alone, "first last", "last first", partial words. */
	assert_string_equal(gal_names(fx, "smi", 0, 10, &total), "Ann Smith");
	assert_string_equal(gal_names(fx, "ann smith", 0, 10, &total),
			    "Ann Smith");
	assert_string_equal(gal_names(fx, "Smith A", 0, 10, &total),
			    "Ann Smith");
	assert_string_equal(gal_names(fx, "  ann   smi ", 0, 10, &total),
			    "Ann Smith");
	assert_string_equal(gal_names(fx, "smith b", 0, 10, &total), "");
	assert_int_equal(total, 0);
	/* Alias and address prefixes. */
	assert_string_equal(gal_names(fx, "aand", 0, 10, &total),
			    "Andrew Anderson");
	assert_string_equal(gal_names(fx, "nette@", 0, 10, &total), "nette");
	/* LIKE's wildcards are text. */
	assert_string_equal(gal_names(fx, "a_n", 0, 10, &total), "");
	assert_string_equal(gal_names(fx, "%", 0, 10, &total), "");
	(void)annette;

	/* The entry carries the stored fields and the address. */
	assert_int_equal(
	    store_dir_gal_search(fx->d, "Ann S", 0, 10, &e, &count, &total), 0);
	assert_int_equal(count, 1);
	assert_string_equal(e[0].login, "ann");
	assert_string_equal(e[0].address, "ann@example.org");
	assert_string_equal(e[0].contact.f[DIR_CONTACT_OFFICE], "B2");
	assert_null(e[0].contact.f[DIR_CONTACT_PHONE]);
	dir_gal_entries_free(&e, count);
	/* An empty or blank query is refused. */
	assert_int_equal(
	    store_dir_gal_search(fx->d, "", 0, 10, &e, &count, &total), -1);
	assert_int_equal(store_dir_last_error(fx->d)->status, STORE_INVALID);
	assert_int_equal(
	    store_dir_gal_search(fx->d, "   ", 0, 10, &e, &count, &total), -1);
	assert_int_equal(store_dir_last_error(fx->d)->status, STORE_INVALID);
}

static void
test_photo(void **state)
{
	struct fixture *fx = *state;
	static uint8_t big[DIR_MAX_PHOTO_BYTES + 1];
	static const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J'};
	static const uint8_t png[] = {0x89, 'P',  'N',  'G', '\r',
				      '\n', 0x1a, '\n', 0,   0};
	struct dir_gal_entry *e = NULL;
	struct dir_user u;
	uint8_t *data;
	size_t len, count, total;
	int64_t id;

	open_dir(fx);
	id = add_user(fx, "pat", "pat@example.org");
	/* Refused: not an image, too large; nothing stored. */
	assert_int_equal(
	    store_dir_user_set_photo(fx->d, id, (const uint8_t *)"GIF89a", 6),
	    -1);
	assert_string_equal(store_dir_last_error(fx->d)->msg,
			    "photo: not a JPEG or PNG image");
	big[0] = 0xff, big[1] = 0xd8, big[2] = 0xff;
	assert_int_equal(store_dir_user_set_photo(fx->d, id, big, sizeof(big)),
			 -1);
	assert_int_equal(store_dir_last_error(fx->d)->status, STORE_INVALID);
	assert_int_equal(store_dir_user_photo(fx->d, id, &data, &len), -1);
	assert_int_equal(store_dir_last_error(fx->d)->status, STORE_NOT_FOUND);
	/* The largest accepted; a PNG; the user, the GAL entry know the
	 * size. */
	assert_int_equal(
	    store_dir_user_set_photo(fx->d, id, big, DIR_MAX_PHOTO_BYTES), 0);
	assert_int_equal(store_dir_user_set_photo(fx->d, id, png, sizeof(png)),
			 0);
	assert_int_equal(
	    store_dir_user_set_photo(fx->d, id, jpeg, sizeof(jpeg)), 0);
	open_dir(fx);
	assert_int_equal(store_dir_user_photo(fx->d, id, &data, &len), 0);
	assert_int_equal(len, sizeof(jpeg));
	assert_memory_equal(data, jpeg, len);
	free(data);
	assert_int_equal(store_dir_user_get(fx->d, id, &u), 0);
	assert_int_equal(u.photo_bytes, sizeof(jpeg));
	dir_user_clear(&u);
	assert_int_equal(
	    store_dir_gal_search(fx->d, "pat", 0, 10, &e, &count, &total), 0);
	assert_int_equal(count, 1);
	assert_int_equal(e[0].id, id);
	assert_int_equal(e[0].photo_bytes, sizeof(jpeg));
	dir_gal_entries_free(&e, count);
	/* Removed. */
	assert_int_equal(store_dir_user_set_photo(fx->d, id, NULL, 0), 0);
	assert_int_equal(store_dir_user_photo(fx->d, id, &data, &len), -1);
	assert_int_equal(store_dir_last_error(fx->d)->status, STORE_NOT_FOUND);
	assert_int_equal(
	    store_dir_user_set_photo(fx->d, 999, jpeg, sizeof(jpeg)), -1);
	assert_int_equal(store_dir_last_error(fx->d)->status, STORE_NOT_FOUND);
}

/* A directory made by the v2 schema gets the contact columns on open and
 * keeps its users. */
static void
test_upgrade(void **state)
{
	struct fixture *fx = *state;
	char path[128];
	sqlite3 *db = NULL;
	struct dir_user u;
	size_t total;

	(void)snprintf(path, sizeof(path), "%s/directory.db", fx->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(sqlite3_exec(db, schema_dir_migrations[i],
					      NULL, NULL, NULL),
				 SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db,
			 "PRAGMA user_version = 2;"
			 "INSERT INTO users(login, password_hash, created)"
			 " VALUES('old', 'x', 1);",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);

	open_dir(fx);
	assert_int_equal(store_dir_user_find(fx->d, "old", &u), 0);
	assert_null(u.contact.f[DIR_CONTACT_DISPLAY_NAME]);
	assert_int_equal(set1(fx, u.id, DIR_CONTACT_DISPLAY_NAME, "Old Timer"),
			 0);
	dir_user_clear(&u);
	assert_string_equal(gal_names(fx, "old t", 0, 10, &total), "Old Timer");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_validate),
	    cmocka_unit_test_setup_teardown(test_set_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_photo, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
