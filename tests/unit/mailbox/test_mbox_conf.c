/* Unit tests for the [mailbox] settings (mailbox/mbox_conf.c): the default
 * number of shard threads (4 per core, at least 8, at most
 * WORKERS_MAX_THREADS) and an explicit workers setting overriding it;
 * oof_reply_period (durations, default, bounds, a readable error) and
 * secret_key_file (default inside data_dir). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
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

/* The conf the last read_text parsed: mc borrows its strings, so it
 * lives until the next call (or the end: read_text(NULL, ...)). */
static struct conf *last_conf;

/* mbox_conf_read on one [mailbox] body; 0 or -1 with *error_r. */
static int
read_text(const char *body, struct mbox_conf *mc, char **error_r)
{
	char text[512];
	int rc;

	conf_free(&last_conf);
	if (body == NULL)
		return 0;
	(void)snprintf(text, sizeof(text), "[mailbox]\n%s", body);
	assert_int_equal(conf_parse(text, "test", &last_conf, error_r), 0);
	rc = mbox_conf_read(last_conf, mc, error_r);
	if (rc == 0)
		assert_non_null(mc->secret_key_file);
	return rc;
}

static void
test_oof_reply_period(void **state)
{
	static const struct {
		const char *text;
		int64_t seconds;
	} good[] = {{"3600", 3600},       {"1h", 3600},
		    {"90m", 5400},        {"36h", 36 * 3600},
		    {"7d", 7 * 86400},    {" 30d ", 30 * 86400},
		    {"2592000s", 2592000}};
	static const char *const bad[] = {
	    "59m", "3599", "31d", "0",   "",
	    "h",   "7 d",  "7w",  "-1h", "99999999999999999999",
	    "1.5h"};
	struct mbox_conf mc;
	char *error = NULL, line[64];
	int64_t v;

	(void)state;
	assert_int_equal(read_text("", &mc, &error), 0);
	assert_int_equal(mc.oof_reply_period_s, 7 * 86400);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		(void)snprintf(line, sizeof(line), "oof_reply_period = %s\n",
			       good[i].text);
		assert_int_equal(read_text(line, &mc, &error), 0);
		assert_int_equal(mc.oof_reply_period_s, good[i].seconds);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(line, sizeof(line), "oof_reply_period = %s\n",
			       bad[i]);
		assert_int_equal(read_text(line, &mc, &error), -1);
		assert_non_null(strstr(error, "[mailbox] oof_reply_period"));
		assert_non_null(strstr(error, "1h to 30d"));
		free(error);
		error = NULL;
	}
	assert_int_equal(mbox_conf_parse_duration("12d", &v), 0);
	assert_int_equal(v, 12 * 86400);
	assert_int_equal(mbox_conf_parse_duration("12x", &v), -1);
	(void)read_text(NULL, &mc, &error);
}

static void
test_secret_key_file(void **state)
{
	struct mbox_conf mc;
	char *error = NULL;

	(void)state;
	assert_int_equal(read_text("data_dir = /srv/easd\n", &mc, &error), 0);
	assert_string_equal(mc.secret_key_file, "/srv/easd/secret.key");
	assert_int_equal(
	    read_text("secret_key_file = /etc/easd/k\n", &mc, &error), 0);
	assert_string_equal(mc.secret_key_file, "/etc/easd/k");
	assert_int_equal(read_text("secret_key_file =\n", &mc, &error), -1);
	assert_non_null(strstr(error, "secret_key_file"));
	free(error);
	(void)read_text(NULL, &mc, &error);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_workers),
	    cmocka_unit_test(test_workers_setting),
	    cmocka_unit_test(test_oof_reply_period),
	    cmocka_unit_test(test_secret_key_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
