/* Unit tests for proto/conf.c: sections, comments, overrides, typed
 * getters and error messages with line numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto/conf.h"

static void
test_parse(void **state)
{
	struct conf *c = NULL;
	char *err = NULL;
	int64_t v;
	bool flag;

	(void)state;
	assert_int_equal(conf_parse("# comment\n[mailbox]\n data_dir = /var/x "
				    "\n; other\nworkers=4\n[cas]\ntls=yes\n"
				    "workers = 9\n[mailbox]\nworkers = 5\n",
				    "t", &c, &err),
			 0);
	assert_string_equal(conf_get(c, "mailbox", "data_dir", NULL), "/var/x");
	assert_int_equal(
	    conf_get_int(c, "mailbox", "workers", 1, 1, 64, &v, &err), 0);
	assert_int_equal(v, 5);
	assert_int_equal(conf_get_int(c, "cas", "workers", 1, 1, 8, &v, &err),
			 -1);
	assert_non_null(strstr(err, "workers"));
	free(err);
	assert_int_equal(conf_get_bool(c, "cas", "tls", false, &flag, &err), 0);
	assert_true(flag);
	assert_null(conf_get(c, "cas", "missing", NULL));
	conf_free(&c);
	assert_null(c);
}

static void
test_errors(void **state)
{
	struct conf *c = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(conf_parse("[a]\nnovalue\n", "f.conf", &c, &err), -1);
	assert_string_equal(err, "f.conf:2: expected 'key = value'");
	free(err);
	assert_int_equal(conf_parse("[a\n", "f.conf", &c, &err), -1);
	assert_non_null(strstr(err, "f.conf:1"));
	free(err);
	assert_int_equal(conf_load("/nonexistent/easd.conf", &c, &err), -1);
	assert_non_null(strstr(err, "/nonexistent/easd.conf"));
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
