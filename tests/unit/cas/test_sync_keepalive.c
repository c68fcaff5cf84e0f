/* [cas] keepalive_interval from the configuration text to the wire: the
 * key is parsed and range-checked (cas/cas_conf.c), turned into the watch
 * settings exactly as easd-cas's main() does (cas_conf_watch_settings),
 * and a Sync answered by a fake mailbox that takes 2.5 s then carries
 * at least two redundant SWITCH_PAGE keep-alives with a 1 s interval, and
 * none with a 25 s interval.  Waits are bounded (curl's 10 s timeout). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "cas/watch.h"
#include "proto/conf.h"
#include "tests/unit/cas/cas_harness.h"

#define DEV "KADEV"
#define VER "14.1"
#define INBOX "2"
/* The fake mailbox's GetChanges delay: between 2 and 3 intervals of 1 s,
 * far below one of 25 s. */
#define SLOW_MAILBOX_MS 2500u

static struct cas_harness h;
static char key[24];

static int
on_get_changes(void *arg, struct fake_mailbox *fm,
	       const struct rpc_request *req)
{
	Rpc__GetChangesReply r;

	(void)arg;
	usleep(SLOW_MAILBOX_MS * 1000u);
	rpc__get_changes_reply__init(&r);
	r.status = RPC__STATUS__STATUS_OK;
	r.sync_key = "2";
	return fake_mailbox_reply(fm, req, &r.base);
}

static int
setup(void **state)
{
	uint32_t k;

	(void)state;
	if (cas_harness_start(&h) != 0 ||
	    cas_harness_provision(&h, DEV, VER, &k) != 0)
		return -1;
	(void)snprintf(key, sizeof(key), "%u", (unsigned)k);
	fake_mailbox_set_handler(h.fm, RPC__MSG_TYPE__MSG_GET_CHANGES,
				 on_get_changes, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cas_harness_stop(&h);
	return 0;
}

/* Load "[cas]\n" + lines; -1 (and *error_r) when cas_conf_load refuses. */
static int
load(const char *lines, struct cas_conf **cc_r, char **error_r)
{
	struct conf *c = NULL;
	char text[256];
	int rc;

	(void)snprintf(text, sizeof(text), "[cas]\n%s", lines);
	assert_int_equal(conf_parse(text, "t", &c, error_r), 0);
	rc = cas_conf_load(c, cc_r, error_r);
	conf_free(&c);
	return rc;
}

static void
test_conf_bounds(void **state)
{
	struct cas_conf *cc = NULL;
	struct watch_settings ws;
	char *err = NULL;

	(void)state;
	assert_int_equal(load("", &cc, &err), 0);
	assert_int_equal(cc->keepalive_interval_s, CAS_KEEPALIVE_DEFAULT_S);
	cas_conf_watch_settings(cc, &ws);
	assert_int_equal(ws.sync_keepalive_s, CAS_KEEPALIVE_DEFAULT_S);
	assert_int_equal(ws.min_heartbeat_s, cc->min_heartbeat_s);
	assert_int_equal(ws.max_heartbeat_s, cc->max_heartbeat_s);
	cas_conf_free(&cc);

	assert_int_equal(load("keepalive_interval = 3\n", &cc, &err), 0);
	cas_conf_watch_settings(cc, &ws);
	assert_int_equal(ws.sync_keepalive_s, 3);
	cas_conf_free(&cc);

	assert_int_equal(load("keepalive_interval = 0\n", &cc, &err), -1);
	assert_non_null(strstr(err, "keepalive_interval"));
	free(err);
	err = NULL;
	assert_int_equal(load("keepalive_interval = 26\n", &cc, &err), -1);
	assert_non_null(strstr(err, "keepalive_interval"));
	free(err);
	err = NULL;
	assert_int_equal(load("keepalive_interval = soon\n", &cc, &err), -1);
	free(err);
	err = NULL;

	/* [cas] http_threads (same parser, read with the other tunables):
	 * 0 means one per online CPU, 1..64 as given. */
	assert_int_equal(load("http_threads = 0\n", &cc, &err), 0);
	assert_true(cc->http_threads >= 1 &&
		    cc->http_threads <= CAS_HTTP_THREADS_MAX);
	assert_int_equal(cc->http_threads,
			 (unsigned)sysconf(_SC_NPROCESSORS_ONLN) >
				 CAS_HTTP_THREADS_MAX
			     ? CAS_HTTP_THREADS_MAX
			     : (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	cas_conf_free(&cc);
	assert_int_equal(load("http_threads = 3\n", &cc, &err), 0);
	assert_int_equal(cc->http_threads, 3);
	cas_conf_free(&cc);
	assert_int_equal(load("http_threads = 65\n", &cc, &err), -1);
	assert_non_null(strstr(err, "http_threads"));
	free(err);
}

/* A Sync of the Inbox with key 1, answered by the slow mailbox under the
 * configured interval; returns the number of keep-alives (SWITCH_PAGE 0
 * pairs) between the WBXML header and the document. */
static unsigned
sync_keepalives(const char *conf_line)
{
	struct cas_conf *cc = NULL;
	struct watch_settings ws;
	struct cas_reply r;
	struct wbxml_enc e;
	struct buf b;
	char *err = NULL;
	char q[256];
	unsigned n = 0;
	size_t pos;

	assert_int_equal(load(conf_line, &cc, &err), 0);
	cas_conf_watch_settings(cc, &ws);
	watch_configure(&ws);
	cas_conf_free(&cc);

	buf_init(&b, 4096);
	wbxml_enc_init_buf(&e, &b);
	wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTIONS);
	wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTION);
	wbxml_enc_str(&e, EAS_AIRSYNC_SYNC_KEY, "1");
	wbxml_enc_str(&e, EAS_AIRSYNC_COLLECTION_ID, INBOX);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	cas_harness_query(q, sizeof(q), "Sync", DEV);
	assert_int_equal(cas_harness_post(&h, q, VER, key, HARNESS_USERPWD,
					  b.data, b.len, &r),
			 0);
	assert_int_equal(r.status, 200);
	/* Still one decodable document whatever the keep-alives. */
	assert_non_null(r.tree);
	assert_true(r.body.len > 4);
	assert_memory_equal(r.body.data, "\x03\x01\x6a\x00", 4);
	for (pos = 4; pos + 1 < r.body.len; pos += 2) {
		if (r.body.data[pos] != 0x00 || r.body.data[pos + 1] != 0x00)
			break;
		n++;
	}
	cas_reply_free(&r);
	buf_free(&b);
	return n;
}

static void
test_short_interval_keepalives(void **state)
{
	(void)state;
	assert_true(sync_keepalives("keepalive_interval = 1\n") >= 2);
}

static void
test_long_interval_silent(void **state)
{
	(void)state;
	assert_int_equal(sync_keepalives("keepalive_interval = 25\n"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conf_bounds),
	    cmocka_unit_test(test_short_interval_keepalives),
	    cmocka_unit_test(test_long_interval_silent),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
