/* Unit tests for proto/eas_cmd.c: the command table agrees with the
 * OPTIONS string, codes and names resolve both ways, and version bounds
 * and parsing behave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "proto/eas_cmd.h"

static void
test_table_matches_options_string(void **state)
{
	const struct eas_cmd *t = eas_cmd_table();
	char joined[1024] = "";
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < EAS_CMD_COUNT; i++) {
		assert_int_equal(t[i].id, i);
		n += (size_t)snprintf(joined + n, sizeof(joined) - n, "%s%s",
				      i > 0 ? "," : "", t[i].name);
		assert_true(n < sizeof(joined));
	}
	assert_string_equal(joined, EAS_PROTOCOL_COMMANDS);
}

static void
test_by_name_and_code(void **state)
{
	const struct eas_cmd *c;
	size_t i;

	(void)state;
	c = eas_cmd_by_name("Sync", 4);
	assert_non_null(c);
	assert_int_equal(c->code, 0);
	c = eas_cmd_by_name("Provision", 9);
	assert_non_null(c);
	assert_int_equal(c->code, 20);
	assert_false(c->needs_policy_key);
	assert_true(eas_cmd_by_name("Ping", 4)->needs_policy_key);
	assert_int_equal(eas_cmd_by_code(9)->id, EAS_CMD_FOLDERSYNC);
	assert_int_equal(eas_cmd_by_code(23)->id, EAS_CMD_FIND);
	assert_int_equal(eas_cmd_by_code(22)->id, EAS_CMD_VALIDATECERT);
	assert_null(eas_cmd_by_code(24));
	assert_null(eas_cmd_by_code(-1));
	assert_null(eas_cmd_by_code(255));
	/* exact spelling only; a prefix is not a command */
	assert_null(eas_cmd_by_name("sync", 4));
	assert_null(eas_cmd_by_name("Syn", 3));
	assert_null(eas_cmd_by_name("SyncX", 5));
	assert_null(eas_cmd_by_name("", 0));
	/* every row round-trips through its name and code */
	for (i = 0; i < EAS_CMD_COUNT; i++) {
		const struct eas_cmd *r = eas_cmd_by_id((enum eas_cmd_id)i);

		assert_ptr_equal(eas_cmd_by_name(r->name, strlen(r->name)), r);
		if (r->code >= 0)
			assert_ptr_equal(eas_cmd_by_code(r->code), r);
	}
	assert_null(eas_cmd_by_id(EAS_CMD_COUNT));
}

static void
test_versions(void **state)
{
	enum eas_version v;

	(void)state;
	assert_int_equal(eas_version_parse("2.5", 3, &v), 0);
	assert_int_equal(v, EAS_VERSION_2_5);
	assert_int_equal(eas_version_parse("16.1", 4, &v), 0);
	assert_int_equal(v, EAS_VERSION_16_1);
	assert_int_equal(eas_version_parse("16.2", 4, &v), -1);
	assert_int_equal(eas_version_parse("1.0", 3, &v), -1);
	assert_int_equal(eas_version_parse("14", 2, &v), -1);
	assert_int_equal(eas_version_parse("14.0 ", 5, &v), -1);
	assert_int_equal(eas_version_from_byte(141, &v), 0);
	assert_int_equal(v, EAS_VERSION_14_1);
	assert_int_equal(eas_version_from_byte(142, &v), -1);
	assert_string_equal(eas_version_str(EAS_VERSION_12_1), "12.1");
	assert_string_equal(eas_version_str(EAS_VERSION_NONE), "?");
	assert_true(eas_version_at_least(EAS_VERSION_14_0, EAS_VERSION_12_1));
	assert_false(eas_version_at_least(EAS_VERSION_2_5, EAS_VERSION_12_0));
	assert_false(eas_version_at_least(EAS_VERSION_NONE, EAS_VERSION_NONE));
	assert_true(eas_cmd_in_version(eas_cmd_by_id(EAS_CMD_GETATTACHMENT),
				       EAS_VERSION_12_1));
	assert_false(eas_cmd_in_version(eas_cmd_by_id(EAS_CMD_GETATTACHMENT),
					EAS_VERSION_14_0));
	assert_false(
	    eas_cmd_in_version(eas_cmd_by_id(EAS_CMD_FIND), EAS_VERSION_16_0));
	assert_true(
	    eas_cmd_in_version(eas_cmd_by_id(EAS_CMD_FIND), EAS_VERSION_16_1));
	assert_false(eas_cmd_in_version(eas_cmd_by_id(EAS_CMD_SETTINGS),
					EAS_VERSION_2_5));
	assert_false(
	    eas_cmd_in_version(eas_cmd_by_id(EAS_CMD_SYNC), EAS_VERSION_NONE));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_matches_options_string),
	    cmocka_unit_test(test_by_name_and_code),
	    cmocka_unit_test(test_versions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
