/* Unit tests for policy/policy.c: the table is complete and consistent,
 * defaults demand nothing, administrator input is range-checked with
 * readable errors, the text form round-trips and the hash follows the
 * content. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

static void
test_table(void **state)
{
	const struct policy_setting *t = policy_settings();
	size_t i, in_doc = 0;

	(void)state;
	for (i = 0; i < POLICY_COUNT; i++) {
		assert_int_equal(t[i].id, i);
		assert_non_null(t[i].name);
		assert_ptr_equal(
		    policy_setting_by_name(t[i].name, strlen(t[i].name)),
		    &t[i]);
		if (t[i].since != EAS_VERSION_NONE)
			in_doc++;
		if (t[i].type == POLICY_TYPE_LIST)
			assert_non_null(t[i].item_name);
		if (t[i].optional)
			assert_non_null(t[i].empty_means);
		else
			assert_true(t[i].default_set);
	}
	/* every EASProvisionDoc child of MS-ASPROV 2.2.2.28 */
	assert_int_equal(in_doc, 42);
	assert_non_null(policy_setting_by_name("allowwifi", 9));
	assert_null(policy_setting_by_name("AllowWiFiX", 10));
}

static void
test_defaults_permissive(void **state)
{
	struct policy *p = policy_new();
	size_t n;

	(void)state;
	assert_non_null(p);
	assert_int_equal(policy_num(p, POLICY_DEVICE_PASSWORD_ENABLED), 0);
	assert_int_equal(policy_num(p, POLICY_REQUIRE_DEVICE_ENCRYPTION), 0);
	assert_int_equal(policy_num(p, POLICY_ALLOW_CAMERA), 1);
	assert_int_equal(policy_num(p, POLICY_ALLOW_BLUETOOTH), 2);
	assert_int_equal(policy_num(p, POLICY_ATTACHMENTS_ENABLED), 1);
	assert_int_equal(policy_num(p, POLICY_MAX_EMAIL_BODY_TRUNCATION_SIZE),
			 -1);
	assert_int_equal(policy_num(p, POLICY_MAX_EMAIL_AGE_FILTER), 0);
	assert_int_equal(
	    policy_num(p, POLICY_ALLOW_SMIME_ENCRYPTION_ALGORITHM_NEGOTIATION),
	    2);
	assert_false(policy_is_set(p, POLICY_MIN_DEVICE_PASSWORD_LENGTH));
	assert_false(policy_is_set(p, POLICY_MAX_ATTACHMENT_SIZE));
	assert_false(
	    policy_is_set(p, POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS));
	assert_int_equal(policy_num(p, POLICY_ALLOW_NON_PROVISIONABLE_DEVICES),
			 1);
	(void)policy_items(p, POLICY_APPROVED_APPLICATION_LIST, &n);
	assert_int_equal(n, 0);
	policy_free(&p);
	assert_null(p);
	policy_free(&p); /* accepts NULL */
}

static void
expect_error(struct policy *p, const char *pair, const char *message)
{
	struct policy_error err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(policy_set_pair(p, pair, &err), -1);
	assert_string_equal(err.message, message);
}

static void
test_set_and_ranges(void **state)
{
	struct policy *p = policy_new();
	struct policy_error err;
	const char *const *items;
	size_t n;

	(void)state;
	assert_int_equal(policy_set_pair(p, "MinDevicePasswordLength=6", &err),
			 0);
	assert_true(policy_is_set(p, POLICY_MIN_DEVICE_PASSWORD_LENGTH));
	assert_int_equal(policy_num(p, POLICY_MIN_DEVICE_PASSWORD_LENGTH), 6);
	expect_error(p, "MinDevicePasswordLength=17",
		     "MinDevicePasswordLength must be 1..16 (or empty for no "
		     "minimum)");
	expect_error(p, "MinDevicePasswordLength=0",
		     "MinDevicePasswordLength must be 1..16 (or empty for no "
		     "minimum)");
	expect_error(p, "MinDevicePasswordLength=6x",
		     "MinDevicePasswordLength must be 1..16 (or empty for no "
		     "minimum)");
	/* a failed set leaves the old value */
	assert_int_equal(policy_num(p, POLICY_MIN_DEVICE_PASSWORD_LENGTH), 6);
	assert_int_equal(policy_set_pair(p, "MinDevicePasswordLength=", &err),
			 0);
	assert_false(policy_is_set(p, POLICY_MIN_DEVICE_PASSWORD_LENGTH));
	expect_error(p, "MaxDevicePasswordFailedAttempts=3",
		     "MaxDevicePasswordFailedAttempts must be 4..16 (or empty "
		     "for no maximum)");
	expect_error(p, "DevicePasswordEnabled=2",
		     "DevicePasswordEnabled must be 0 or 1");
	expect_error(p, "DevicePasswordEnabled=",
		     "DevicePasswordEnabled must be 0 or 1");
	assert_int_equal(policy_set_pair(p, "devicepasswordenabled=TRUE", &err),
			 0);
	assert_int_equal(policy_num(p, POLICY_DEVICE_PASSWORD_ENABLED), 1);
	expect_error(p, "MaxCalendarAgeFilter=3",
		     "MaxCalendarAgeFilter must be one of 0, 4, 5, 6, 7");
	assert_int_equal(policy_set_pair(p, "MaxCalendarAgeFilter=6", &err), 0);
	expect_error(p, "MaxEmailBodyTruncationSize=-2",
		     "MaxEmailBodyTruncationSize must be -1..2147483647");
	expect_error(p, "MinDevicePasswordComplexCharacters=5",
		     "MinDevicePasswordComplexCharacters must be 1..4");
	expect_error(p, "AllowBluetooth=99999999999999999999",
		     "AllowBluetooth must be 0..2");
	expect_error(p, "NoSuchSetting=1",
		     "unknown policy setting \"NoSuchSetting\"");
	expect_error(p, "MinDevicePasswordLength",
		     "expected Name=value, got "
		     "\"MinDevicePasswordLength\"");
	/* lists */
	assert_int_equal(
	    policy_set_pair(p,
			    "UnapprovedInROMApplicationList=Solitaire"
			    ".exe,Internet Explorer",
			    &err),
	    0);
	items = policy_items(p, POLICY_UNAPPROVED_IN_ROM_APPLICATION_LIST, &n);
	assert_int_equal(n, 2);
	assert_string_equal(items[0], "Solitaire.exe");
	assert_string_equal(items[1], "Internet Explorer");
	expect_error(p, "ApprovedApplicationList=a,,b",
		     "ApprovedApplicationList items must be 1..128 characters");
	expect_error(p, "ApprovedApplicationList=a\tb",
		     "ApprovedApplicationList items must not contain control "
		     "characters");
	assert_int_equal(
	    policy_set_pair(p, "UnapprovedInROMApplicationList=", &err), 0);
	(void)policy_items(p, POLICY_UNAPPROVED_IN_ROM_APPLICATION_LIST, &n);
	assert_int_equal(n, 0);
	policy_free(&p);
}

static void
test_list_bounds(void **state)
{
	struct policy *p = policy_new();
	struct policy_error err;
	char text[POLICY_MAX_LINE_BYTES + 64];
	size_t n = 0, k;
	int i;

	(void)state;
	n += (size_t)snprintf(text, sizeof(text), "ApprovedApplicationList=");
	for (i = 0; i <= POLICY_MAX_LIST_ITEMS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%sh%d",
				      i > 0 ? "," : "", i);
	expect_error(p, text,
		     "ApprovedApplicationList has more than 128 items");
	/* exactly the maximum of maximal items loads, and round-trips */
	n = (size_t)snprintf(text, sizeof(text), "ApprovedApplicationList=");
	for (i = 0; i < POLICY_MAX_LIST_ITEMS; i++) {
		if (i > 0)
			text[n++] = ',';
		for (k = 0; k < POLICY_MAX_ITEM_BYTES; k++)
			text[n++] = (char)('a' + i % 26);
	}
	text[n] = '\0';
	assert_int_equal(policy_set_pair(p, text, &err), 0);
	{
		struct buf b;
		struct policy *q = NULL;
		uint8_t h1[POLICY_HASH_BYTES], h2[POLICY_HASH_BYTES];

		buf_init(&b, POLICY_MAX_TEXT_BYTES);
		assert_int_equal(policy_to_text(p, &b), 0);
		assert_int_equal(policy_from_text(buf_str(&b), b.len, &q, &err),
				 0);
		assert_int_equal(policy_hash(p, h1), 0);
		assert_int_equal(policy_hash(q, h2), 0);
		assert_memory_equal(h1, h2, sizeof(h1));
		policy_free(&q);
		buf_free(&b);
	}
	policy_free(&p);
}

static void
test_text_round_trip(void **state)
{
	struct policy *p = policy_new(), *q = NULL, *c = NULL;
	struct policy_error err;
	struct buf a, b;

	(void)state;
	buf_init(&a, POLICY_MAX_TEXT_BYTES);
	buf_init(&b, POLICY_MAX_TEXT_BYTES);
	assert_int_equal(policy_set_pair(p, "DevicePasswordEnabled=1", &err),
			 0);
	assert_int_equal(
	    policy_set_pair(p, "MaxAttachmentSize=4294967295", &err), 0);
	assert_int_equal(
	    policy_set_pair(p, "ApprovedApplicationList=ab,cd", &err), 0);
	assert_int_equal(policy_to_text(p, &a), 0);
	/* one line per setting, in table order, stable */
	assert_non_null(strstr(buf_str(&a), "DevicePasswordEnabled=1\n"
					    "AlphanumericDevicePasswordRequired"
					    "=0\n"));
	assert_non_null(strstr(buf_str(&a), "\nMinDevicePasswordLength=\n"));
	assert_non_null(
	    strstr(buf_str(&a), "\nMaxAttachmentSize=4294967295\n"));
	assert_non_null(
	    strstr(buf_str(&a), "\nApprovedApplicationList=ab,cd\n"));
	assert_int_equal(policy_from_text(buf_str(&a), a.len, &q, &err), 0);
	assert_int_equal(policy_to_text(q, &b), 0);
	assert_string_equal(buf_str(&a), buf_str(&b));
	assert_int_equal(policy_copy(q, &c), 0);
	buf_reset(&b);
	assert_int_equal(policy_to_text(c, &b), 0);
	assert_string_equal(buf_str(&a), buf_str(&b));
	policy_free(&q);
	/* older text with fewer settings loads with defaults for the rest */
	assert_int_equal(policy_from_text("AllowCamera=0\n\n", 15, &q, &err),
			 0);
	assert_int_equal(policy_num(q, POLICY_ALLOW_CAMERA), 0);
	assert_int_equal(policy_num(q, POLICY_ALLOW_WIFI), 1);
	policy_free(&q);
	/* errors name the line */
	assert_int_equal(
	    policy_from_text("AllowCamera=0\nAllowWiFi=7\n", 26, &q, &err), -1);
	assert_string_equal(err.message, "line 2: AllowWiFi must be 0 or 1");
	assert_null(q);
	assert_int_equal(
	    policy_from_text("AllowCamera=0\nallowcamera=1\n", 28, &q, &err),
	    -1);
	assert_string_equal(err.message, "line 2: AllowCamera repeated");
	assert_int_equal(policy_from_text("Bogus=1", 7, &q, &err), -1);
	assert_string_equal(err.message,
			    "line 1: unknown policy setting \"Bogus\"");
	assert_int_equal(policy_from_text("AllowCamera=0\0x", 15, &q, &err),
			 -1);
	assert_string_equal(err.message, "line 1: too long or binary");
	policy_free(&p);
	policy_free(&c);
	buf_free(&a);
	buf_free(&b);
}

static void
test_hash_follows_content(void **state)
{
	struct policy *p = policy_new(), *q = policy_new();
	struct policy_error err;
	uint8_t h1[POLICY_HASH_BYTES], h2[POLICY_HASH_BYTES];
	char hex[2 * POLICY_HASH_BYTES + 1];

	(void)state;
	assert_int_equal(policy_hash(p, h1), 0);
	assert_int_equal(policy_hash(q, h2), 0);
	assert_memory_equal(h1, h2, sizeof(h1));
	assert_int_equal(policy_set_pair(q, "AllowCamera=0", &err), 0);
	assert_int_equal(policy_hash(q, h2), 0);
	assert_memory_not_equal(h1, h2, sizeof(h1));
	/* setting it back restores the hash */
	assert_int_equal(policy_set_pair(q, "AllowCamera=true", &err), 0);
	assert_int_equal(policy_hash(q, h2), 0);
	assert_memory_equal(h1, h2, sizeof(h1));
	/* empty vs a value is a change too */
	assert_int_equal(policy_set_pair(q, "MaxAttachmentSize=1", &err), 0);
	assert_int_equal(policy_hash(q, h2), 0);
	assert_memory_not_equal(h1, h2, sizeof(h1));
	/* a server-side setting is not part of what devices receive */
	assert_int_equal(policy_set_pair(q, "MaxAttachmentSize=", &err), 0);
	assert_int_equal(
	    policy_set_pair(q, "AllowNonProvisionableDevices=0", &err), 0);
	assert_int_equal(policy_hash(q, h2), 0);
	assert_memory_equal(h1, h2, sizeof(h1));
	assert_int_equal(policy_hash_hex(p, hex), 0);
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(strspn(hex, "0123456789abcdef"), 64);
	policy_free(&p);
	policy_free(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_defaults_permissive),
	    cmocka_unit_test(test_set_and_ranges),
	    cmocka_unit_test(test_list_bounds),
	    cmocka_unit_test(test_text_round_trip),
	    cmocka_unit_test(test_hash_follows_content),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
