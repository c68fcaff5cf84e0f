/*
 * The send queue through the RPC (Submit) to tests/lib/smtp_sink: a
 * message relayed and copied into Sent Items; a relay answering 451 is
 * retried (queue_retry_s 1, 2 attempts) and then bounced into the Inbox; a
 * 550 recipient bounces at once.  Every wait is bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "tests/lib/smtp_sink.h"
#include "tests/unit/mailbox/mbox_harness.h"

static const char *const MESSAGE =
    "From: sam@example.org\r\nTo: Rita <rita@remote.test>\r\n"
    "Cc: carl@remote.test\r\nBcc: hidden@remote.test\r\n"
    "Subject: outgoing\r\nMessage-ID: <out-1@test>\r\n\r\nhello\r\n";

struct env {
	struct smtp_sink *sink;
	struct mbox_harness h;
	struct mbox_client admin, cas;
	uint64_t user;
};

static void
env_start(struct env *e, const struct smtp_sink_config *cfg)
{
	Rpc__UserAddRequest q;
	ProtobufCMessage *rep;

	memset(e, 0, sizeof(*e));
	e->sink = smtp_sink_start(cfg);
	assert_non_null(e->sink);
	assert_int_equal(
	    mbox_harness_start(&e->h, smtp_sink_port(e->sink), 1, 2), 0);
	assert_int_equal(
	    mbox_client_open(&e->admin, &e->h, RPC__ROLE__ROLE_ADMIN), 0);
	assert_int_equal(mbox_client_open(&e->cas, &e->h, RPC__ROLE__ROLE_CAS),
			 0);
	rpc__user_add_request__init(&q);
	q.login = "sam";
	assert_int_equal(
	    mbox_call(&e->admin, RPC__MSG_TYPE__MSG_USER_ADD, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	e->user = ((Rpc__UserReply *)(void *)rep)->info->user;
	mbox_free(rep);
}

static void
env_stop(struct env *e)
{
	mbox_client_close(&e->cas);
	mbox_client_close(&e->admin);
	mbox_harness_stop(&e->h);
	smtp_sink_free(&e->sink);
}

static void
submit(struct env *e, bool save_in_sent)
{
	Rpc__SubmitRequest q;
	ProtobufCMessage *rep;

	rpc__submit_request__init(&q);
	q.user = e->user;
	q.device_id = "DEV";
	q.client_id = "c1";
	q.mime.data = (uint8_t *)(uintptr_t)MESSAGE;
	q.mime.len = strlen(MESSAGE);
	q.save_in_sent = save_in_sent;
	assert_int_equal(
	    mbox_call(&e->cas, RPC__MSG_TYPE__MSG_SUBMIT, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	mbox_free(rep);
}

/* Items in the folder of a type. */
static uint64_t
count(struct env *e, uint32_t type)
{
	Rpc__FolderListRequest q;
	ProtobufCMessage *rep;
	const Rpc__FolderListReply *l;
	uint64_t n = 0;

	rpc__folder_list_request__init(&q);
	q.user = e->user;
	assert_int_equal(
	    mbox_call(&e->admin, RPC__MSG_TYPE__MSG_FOLDER_LIST, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	l = (const void *)rep;
	for (size_t i = 0; i < l->n_folders; i++)
		if (l->folders[i]->folder->type == type)
			n = l->folders[i]->items;
	mbox_free(rep);
	return n;
}

static uint64_t
queued(struct env *e)
{
	Rpc__StatsRequest q;
	ProtobufCMessage *rep;
	uint64_t n;

	rpc__stats_request__init(&q);
	assert_int_equal(
	    mbox_call(&e->admin, RPC__MSG_TYPE__MSG_STATS, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	n = ((Rpc__StatsReply *)(void *)rep)->queued;
	mbox_free(rep);
	return n;
}

/* Poll (bounded: 15 s) until the folder of type holds want items and the
 * queue is empty. */
static bool
wait_for(struct env *e, uint32_t type, uint64_t want)
{
	for (int i = 0; i < 300; i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};

		if (count(e, type) == want && queued(e) == 0)
			return true;
		(void)nanosleep(&ts, NULL);
	}
	return false;
}

static void
test_relayed(void **state)
{
	struct smtp_sink_config cfg = {0};
	struct env e;

	(void)state;
	env_start(&e, &cfg);
	submit(&e, true);
	/* The device lost our answer and sends the same ClientId again:
	 * it goes out once. */
	submit(&e, true);
	assert_true(wait_for(&e, 5 /* Sent Items */, 1));
	assert_int_equal(count(&e, 2), 0); /* no bounce */
	smtp_sink_stop(e.sink);
	assert_int_equal(e.sink->sessions, 1);
	assert_non_null(strstr(e.sink->mail_from, "sam@example.org"));
	assert_non_null(strstr(e.sink->rcpts, "rita@remote.test"));
	assert_non_null(strstr(e.sink->rcpts, "carl@remote.test"));
	assert_non_null(strstr(e.sink->rcpts, "hidden@remote.test"));
	assert_non_null(e.sink->data);
	assert_non_null(
	    memmem(e.sink->data, e.sink->data_len, "Subject: outgoing", 17));
	env_stop(&e);
}

static void
test_not_saved(void **state)
{
	struct smtp_sink_config cfg = {0};
	struct env e;

	(void)state;
	env_start(&e, &cfg);
	submit(&e, false);
	for (int i = 0; i < 300 && queued(&e) != 0; i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};

		(void)nanosleep(&ts, NULL);
	}
	assert_int_equal(queued(&e), 0);
	assert_int_equal(count(&e, 5), 0);
	smtp_sink_stop(e.sink);
	assert_int_equal(e.sink->sessions, 1);
	env_stop(&e);
}

static void
test_tempfail_retried_then_bounced(void **state)
{
	struct smtp_sink_config cfg = {.mail_code = 451};
	struct env e;

	(void)state;
	env_start(&e, &cfg);
	submit(&e, true);
	/* Two attempts a second apart, then the bounce in the Inbox. */
	assert_true(wait_for(&e, 2 /* Inbox */, 1));
	assert_int_equal(count(&e, 5), 0);
	smtp_sink_stop(e.sink);
	assert_int_equal(e.sink->sessions, 2);
	env_stop(&e);
}

static void
test_permfail_bounced(void **state)
{
	struct smtp_sink_config cfg = {.rcpt_code = 550};
	struct env e;

	(void)state;
	env_start(&e, &cfg);
	submit(&e, true);
	assert_true(wait_for(&e, 2 /* Inbox */, 1));
	assert_int_equal(count(&e, 5), 0);
	smtp_sink_stop(e.sink);
	assert_int_equal(e.sink->sessions, 1);
	env_stop(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_relayed),
	    cmocka_unit_test(test_not_saved),
	    cmocka_unit_test(test_tempfail_retried_then_bounced),
	    cmocka_unit_test(test_permfail_bounced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
