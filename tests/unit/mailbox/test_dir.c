/* Unit tests for the directory (mailbox/store_dir.c): users, addresses,
 * authentication, policies, access rules, devices and wipe states, and
 * that all of it survives reopening the database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/devices.h"
#include "mailbox/directory.h"

struct fixture {
	char dir[64];
	struct store_dir *d;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct store_error err;

	if (fx == NULL)
		return -1;
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/easd-dir-XXXXXX");
	if (mkdtemp(fx->dir) == NULL ||
	    store_dir_open(fx->dir, &fx->d, &err) < 0) {
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
reopen(struct fixture *fx)
{
	struct store_error err;

	store_dir_close(&fx->d);
	assert_null(fx->d);
	assert_int_equal(store_dir_open(fx->dir, &fx->d, &err), 0);
	assert_int_equal(store_dir_check(fx->d), 0);
}

static enum store_status
last(struct fixture *fx)
{
	return store_dir_last_error(fx->d)->status;
}

static void
test_users_and_addresses(void **state)
{
	struct fixture *fx = *state;
	struct dir_user u, *users = NULL;
	char **addrs = NULL;
	int64_t alice, bob, id;
	size_t n;

	assert_int_equal(
	    store_dir_user_add(fx->d, "alice", "pw-a", 100, &alice), 0);
	assert_int_equal(store_dir_user_add(fx->d, "bob", "pw-b", 200, &bob),
			 0);
	assert_int_equal(store_dir_user_add(fx->d, "ALICE", "x", 300, &id), -1);
	assert_int_equal(last(fx), STORE_EXISTS);
	assert_int_equal(store_dir_user_add(fx->d, "", "x", 300, &id), -1);
	assert_int_equal(last(fx), STORE_INVALID);

	assert_int_equal(
	    store_dir_address_add(fx->d, alice, "alice@example.org"), 0);
	assert_int_equal(
	    store_dir_address_add(fx->d, alice, "a.smith@example.org"), 0);
	assert_int_equal(store_dir_address_add(fx->d, bob, "Alice@Example.org"),
			 -1);
	assert_int_equal(last(fx), STORE_EXISTS);
	assert_int_equal(store_dir_address_add(fx->d, 999, "z@example.org"),
			 -1);
	assert_int_equal(last(fx), STORE_NOT_FOUND);
	assert_int_equal(store_dir_address_add(fx->d, bob, "no-at-sign"), -1);
	assert_int_equal(last(fx), STORE_INVALID);
	assert_int_equal(store_dir_address_list(fx->d, alice, &addrs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(addrs[0], "a.smith@example.org");
	dir_strings_free(&addrs, n);
	assert_null(addrs);

	reopen(fx);
	assert_int_equal(store_dir_user_find(fx->d, "A.SMITH@example.org", &u),
			 0);
	assert_int_equal(u.id, alice);
	assert_string_equal(u.login, "alice");
	assert_int_equal(u.created, 100);
	assert_false(u.disabled);
	dir_user_clear(&u);
	assert_int_equal(store_dir_user_find(fx->d, "Bob", &u), 0);
	assert_int_equal(u.id, bob);
	dir_user_clear(&u);
	assert_int_equal(store_dir_user_find(fx->d, "carol", &u), -1);
	assert_int_equal(last(fx), STORE_NOT_FOUND);
	assert_int_equal(store_dir_user_list(fx->d, &users, &n), 0);
	assert_int_equal(n, 2);
	dir_user_list_free(&users, n);

	assert_int_equal(store_dir_address_del(fx->d, "alice@example.org"), 0);
	assert_int_equal(store_dir_address_del(fx->d, "alice@example.org"), -1);
	assert_int_equal(last(fx), STORE_NOT_FOUND);
	/* Deleting a user frees its addresses. */
	assert_int_equal(store_dir_user_del(fx->d, alice), 0);
	assert_int_equal(store_dir_user_del(fx->d, alice), -1);
	assert_int_equal(
	    store_dir_address_add(fx->d, bob, "a.smith@example.org"), 0);
	/* Ids are never reused. */
	assert_int_equal(store_dir_user_add(fx->d, "alice", "pw", 400, &id), 0);
	assert_true(id > bob);
}

static void
test_authenticate(void **state)
{
	struct fixture *fx = *state;
	int64_t id, got = 0;

	assert_int_equal(store_dir_user_add(fx->d, "carol", "s3cret", 1, &id),
			 0);
	assert_int_equal(store_dir_authenticate(fx->d, "carol", "s3cret", &got),
			 0);
	assert_int_equal(got, id);
	assert_int_equal(store_dir_authenticate(fx->d, "carol", "wrong", &got),
			 -1);
	assert_int_equal(last(fx), STORE_DENIED);
	assert_int_equal(
	    store_dir_authenticate(fx->d, "nobody", "s3cret", &got), -1);
	assert_int_equal(last(fx), STORE_DENIED);
	assert_int_equal(store_dir_user_set_disabled(fx->d, id, true), 0);
	assert_int_equal(store_dir_authenticate(fx->d, "carol", "s3cret", &got),
			 -1);
	assert_int_equal(last(fx), STORE_DENIED);
	assert_int_equal(store_dir_user_set_disabled(fx->d, id, false), 0);
	assert_int_equal(store_dir_user_set_password(fx->d, id, "new"), 0);
	assert_int_equal(store_dir_authenticate(fx->d, "carol", "s3cret", &got),
			 -1);
	assert_int_equal(store_dir_authenticate(fx->d, "carol", "new", &got),
			 0);
	/* An imported SHA-512 crypt hash of "password". */
	assert_int_equal(
	    store_dir_user_set_password_hash(
		fx->d, id,
		"$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/"
		"jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/"),
	    0);
	assert_int_equal(
	    store_dir_authenticate(fx->d, "carol", "password", &got), 0);
	assert_int_equal(store_dir_user_set_password(fx->d, 999, "x"), -1);
	assert_int_equal(last(fx), STORE_NOT_FOUND);
}

static void
test_policies(void **state)
{
	struct fixture *fx = *state;
	char *name = NULL, *body = NULL, **names = NULL;
	int64_t id;
	size_t n;

	assert_int_equal(store_dir_user_add(fx->d, "dave", "pw", 1, &id), 0);
	assert_int_equal(store_dir_policy_for_user(fx->d, id, &name, &body),
			 -1);
	assert_int_equal(last(fx), STORE_NOT_FOUND);
	assert_int_equal(store_dir_policy_set(fx->d, "default", "pin=0"), 0);
	assert_int_equal(store_dir_policy_set(fx->d, "strict", "pin=6"), 0);
	assert_int_equal(store_dir_policy_set(fx->d, "strict", "pin=8"), 0);
	assert_int_equal(store_dir_policy_set_default(fx->d, "default"), 0);
	assert_int_equal(store_dir_policy_set_default(fx->d, "nope"), -1);
	reopen(fx);
	assert_int_equal(store_dir_policy_for_user(fx->d, id, &name, &body), 0);
	assert_string_equal(name, "default");
	assert_string_equal(body, "pin=0");
	free(name);
	free(body);
	assert_int_equal(store_dir_user_set_policy(fx->d, id, "strict"), 0);
	assert_int_equal(store_dir_user_set_policy(fx->d, id, "missing"), -1);
	assert_int_equal(last(fx), STORE_NOT_FOUND);
	assert_int_equal(store_dir_policy_for_user(fx->d, id, &name, &body), 0);
	assert_string_equal(name, "strict");
	assert_string_equal(body, "pin=8");
	free(name);
	free(body);
	assert_int_equal(store_dir_policy_list(fx->d, &names, &n), 0);
	assert_int_equal(n, 2);
	dir_strings_free(&names, n);
	/* Deleting the assigned policy falls back to the default. */
	assert_int_equal(store_dir_policy_del(fx->d, "strict"), 0);
	assert_int_equal(store_dir_policy_for_user(fx->d, id, &name, &body), 0);
	assert_string_equal(name, "default");
	free(name);
	free(body);
	assert_int_equal(store_dir_policy_set_default(fx->d, NULL), 0);
	assert_int_equal(store_dir_policy_for_user(fx->d, id, &name, &body),
			 -1);
}

static void
test_access_rules(void **state)
{
	struct fixture *fx = *state;
	struct dir_rule *rules = NULL;
	struct dir_device probe;
	enum dir_access level;
	int64_t r1, r2;
	size_t n;

	memset(&probe, 0, sizeof(probe));
	probe.device_type = "iPhone";
	probe.user_agent = "Apple-iPhone13C2/2006.101";
	assert_int_equal(store_dir_access_evaluate(fx->d, &probe, &level), 0);
	assert_int_equal(level, DIR_ACCESS_ALLOW);
	assert_int_equal(store_dir_rule_add(fx->d, DIR_RULE_USER_AGENT,
					    "apple-iphone*",
					    DIR_ACCESS_QUARANTINE, &r1),
			 0);
	assert_int_equal(store_dir_rule_add(fx->d, DIR_RULE_DEVICE_TYPE, "*",
					    DIR_ACCESS_BLOCK, &r2),
			 0);
	assert_int_equal(
	    store_dir_rule_add(fx->d, 9, "*", DIR_ACCESS_BLOCK, NULL), -1);
	assert_int_equal(store_dir_access_evaluate(fx->d, &probe, &level), 0);
	assert_int_equal(level, DIR_ACCESS_QUARANTINE); /* first match */
	probe.user_agent = "Android/12";
	assert_int_equal(store_dir_access_evaluate(fx->d, &probe, &level), 0);
	assert_int_equal(level, DIR_ACCESS_BLOCK);
	assert_int_equal(store_dir_rule_list(fx->d, &rules, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rules[0].id, r1);
	dir_rule_list_free(&rules, n);
	assert_int_equal(store_dir_rule_del(fx->d, r2), 0);
	assert_int_equal(
	    store_dir_default_access_set(fx->d, DIR_ACCESS_QUARANTINE), 0);
	reopen(fx);
	assert_int_equal(store_dir_access_evaluate(fx->d, &probe, &level), 0);
	assert_int_equal(level, DIR_ACCESS_QUARANTINE);
	probe.device_type = NULL;
	probe.user_agent = NULL;
	assert_int_equal(store_dir_default_access_set(fx->d, 7), -1);
}

static void
test_devices(void **state)
{
	struct fixture *fx = *state;
	struct dir_device d, info, *devs = NULL;
	int64_t uid, uid2;
	size_t n;

	assert_int_equal(store_dir_user_add(fx->d, "erin", "pw", 1, &uid), 0);
	assert_int_equal(store_dir_user_add(fx->d, "finn", "pw", 1, &uid2), 0);
	assert_int_equal(store_dir_rule_add(fx->d, DIR_RULE_DEVICE_TYPE,
					    "Evil*", DIR_ACCESS_BLOCK, NULL),
			 0);
	assert_int_equal(store_dir_device_seen(fx->d, uid, "ABC123", "iPhone",
					       "Apple-iPhone/1", "16.1", 1000,
					       &d),
			 0);
	assert_int_equal(d.first_sync, 1000);
	assert_int_equal(d.last_sync, 1000);
	assert_int_equal(d.access, DIR_ACCESS_ALLOW);
	assert_string_equal(d.protocol_version, "16.1");
	dir_device_clear(&d);
	assert_int_equal(store_dir_device_seen(fx->d, uid, "ABC123", NULL, NULL,
					       "14.1", 2000, &d),
			 0);
	assert_int_equal(d.first_sync, 1000);
	assert_int_equal(d.last_sync, 2000);
	assert_string_equal(d.device_type, "iPhone");
	assert_string_equal(d.protocol_version, "14.1");
	dir_device_clear(&d);
	assert_int_equal(store_dir_device_seen(fx->d, uid, "EVIL1", "EvilPhone",
					       NULL, NULL, 3000, &d),
			 0);
	assert_int_equal(d.access, DIR_ACCESS_BLOCK);
	dir_device_clear(&d);
	assert_int_equal(
	    store_dir_device_seen(fx->d, uid, "", NULL, NULL, NULL, 1, NULL),
	    -1);
	assert_int_equal(last(fx), STORE_INVALID);

	{
		char big[2048];

		memset(big, 'm', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		memset(&info, 0, sizeof(info));
		info.model = big;
		assert_int_equal(
		    store_dir_device_set_info(fx->d, uid, "ABC123", &info), -1);
		assert_int_equal(last(fx), STORE_INVALID);
	}
	memset(&info, 0, sizeof(info));
	info.model = "iPhone15,2";
	info.imei = "356938035643809";
	info.os = "iOS 17.1";
	info.friendly_name = "Erin's phone";
	assert_int_equal(store_dir_device_set_info(fx->d, uid, "ABC123", &info),
			 0);
	assert_int_equal(
	    store_dir_device_set_policy(fx->d, uid, "ABC123", 123456789,
					DEV_POLICY_ACKNOWLEDGED, "hash1"),
	    0);
	assert_int_equal(store_dir_device_set_access(fx->d, uid, "ABC123",
						     DIR_ACCESS_QUARANTINE,
						     "admin"),
			 0);
	/* Isolation: another user's device id is not found. */
	assert_int_equal(store_dir_device_get(fx->d, uid2, "ABC123", &d), -1);
	assert_int_equal(last(fx), STORE_NOT_FOUND);
	assert_int_equal(store_dir_device_set_access(fx->d, uid2, "ABC123",
						     DIR_ACCESS_ALLOW, NULL),
			 -1);

	/* G9: policy key and wipe states survive a restart. */
	assert_int_equal(store_dir_device_wipe_ack(fx->d, uid, "ABC123", 5),
			 -1); /* nothing pending */
	assert_int_equal(
	    store_dir_device_wipe_request(fx->d, uid, "ABC123", true, 4000), 0);
	reopen(fx);
	assert_int_equal(store_dir_device_get(fx->d, uid, "ABC123", &d), 0);
	assert_string_equal(d.model, "iPhone15,2");
	assert_string_equal(d.friendly_name, "Erin's phone");
	assert_int_equal(d.policy_key, 123456789);
	assert_int_equal(d.policy_state, DEV_POLICY_ACKNOWLEDGED);
	assert_string_equal(d.policy_hash, "hash1");
	assert_int_equal(d.access, DIR_ACCESS_QUARANTINE);
	assert_string_equal(d.access_reason, "admin");
	assert_int_equal(d.wipe, DEV_WIPE_PENDING_ACCOUNT_ONLY);
	assert_int_equal(d.wipe_requested, 4000);
	dir_device_clear(&d);
	assert_int_equal(store_dir_device_wipe_ack(fx->d, uid, "ABC123", 4100),
			 0);
	assert_int_equal(store_dir_device_get(fx->d, uid, "ABC123", &d), 0);
	assert_int_equal(d.wipe, DEV_WIPE_ACKNOWLEDGED);
	assert_int_equal(d.access, DIR_ACCESS_BLOCK);
	assert_int_equal(d.wipe_acked, 4100);
	dir_device_clear(&d);
	assert_int_equal(store_dir_device_wipe_clear(fx->d, uid, "ABC123"), 0);
	assert_int_equal(store_dir_device_get(fx->d, uid, "ABC123", &d), 0);
	assert_int_equal(d.wipe, DEV_WIPE_NONE);
	assert_int_equal(d.access, DIR_ACCESS_ALLOW);
	dir_device_clear(&d);

	assert_int_equal(store_dir_device_list(fx->d, uid, &devs, &n), 0);
	assert_int_equal(n, 2);
	dir_device_list_free(&devs, n);
	assert_int_equal(store_dir_device_del(fx->d, uid, "EVIL1"), 0);
	assert_int_equal(store_dir_device_del(fx->d, uid, "EVIL1"), -1);
	/* Deleting the user deletes its devices. */
	assert_int_equal(store_dir_user_del(fx->d, uid), 0);
	assert_int_equal(store_dir_device_list(fx->d, 0, &devs, &n), 0);
	assert_int_equal(n, 0);
	dir_device_list_free(&devs, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_users_and_addresses, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_authenticate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_access_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_devices, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
