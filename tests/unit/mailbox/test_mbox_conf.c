/* Unit tests for the [mailbox] settings (mailbox/mbox_conf.c): the default
 * number of shard threads (4 per core, at least 8, at most
 * WORKERS_MAX_THREADS) and an explicit workers setting overriding it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/mbox_conf.h"
#include "mailbox/workers.h"
#include "proto/conf.h"

static void
test_default_workers(void **state)
{
	(void)state;
	assert_int_equal(mbox_default_workers(1), MBOX_MIN_WORKERS);
	assert_int_equal(mbox_default_workers(2), 8);
	assert_int_equal(mbox_default_workers(4), 16);
	assert_int_equal(mbox_default_workers(1000), WORKERS_MAX_THREADS);
}

static void
test_workers_setting(void **state)
{
	static const char text[] = "[mailbox]\ndomain = example.org\n"
				   "workers = 3\n";
	struct conf *conf = NULL;
	struct mbox_conf mc;
	char *error = NULL;

	(void)state;
	assert_int_equal(conf_parse(text, "test", &conf, &error), 0);
	assert_int_equal(mbox_conf_read(conf, &mc, &error), 0);
	assert_int_equal(mc.workers, 3);
	conf_free(&conf);
	assert_int_equal(conf_parse("[mailbox]\n", "test", &conf, &error), 0);
	assert_int_equal(mbox_conf_read(conf, &mc, &error), 0);
	assert_true(mc.workers >= MBOX_MIN_WORKERS);
	conf_free(&conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_workers),
	    cmocka_unit_test(test_workers_setting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
