/*
 * The Submit RPC's composition wiring (mailbox/rpc_submit.c) through the
 * in-process mailbox and tests/lib/smtp_sink: SmartReply without
 * ReplaceMime quotes the original and threads it (In-Reply-To,
 * References) and marks the original LastVerbExecuted 1 or 2; SmartForward
 * carries the original's attachment to the Forwardees and marks it 3; a
 * foreign From is rewritten; Bcc reaches the envelope and the Sent Items
 * copy but not the relayed header; refusals carry their reason (source
 * not found, foreign AccountId, no relay).  And the ClientId record
 * survives closing and reopening the store, so a retry after a restart is
 * not queued twice.  Every wait is bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "mailbox/folders.h"
#include "mailbox/items.h"
#include "mailbox/mime.h"
#include "tests/lib/smtp_sink.h"
#include "tests/unit/mailbox/mbox_harness.h"

static const char *const ORIGINAL =
    "From: Rita <rita@remote.test>\r\nTo: sam@example.org\r\n"
    "Cc: carl@remote.test\r\nSubject: lunch\r\n"
    "Message-ID: <orig-1@remote.test>\r\n"
    "References: <older@remote.test>\r\n"
    "Date: Wed, 25 Nov 2026 10:00:00 +0000\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "Shall we meet at noon?\r\n";

static const char *const WITH_ATTACHMENT =
    "From: rita@remote.test\r\nTo: sam@example.org\r\nSubject: report\r\n"
    "Message-ID: <orig-2@remote.test>\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
    "--b1\r\nContent-Type: text/plain\r\n\r\nThe report.\r\n"
    "--b1\r\nContent-Type: application/pdf; name=\"q3.pdf\"\r\n"
    "Content-Disposition: attachment; filename=\"q3.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
    "--b1--\r\n";

struct env {
	struct smtp_sink *sink;
	struct mbox_harness h;
	struct mbox_client admin, cas;
	uint64_t user;
};

static void
env_start(struct env *e, bool relay)
{
	struct smtp_sink_config cfg = {0};
	Rpc__UserAddRequest q;
	ProtobufCMessage *rep;

	memset(e, 0, sizeof(*e));
	if (relay) {
		e->sink = smtp_sink_start(&cfg);
		assert_non_null(e->sink);
	}
	assert_int_equal(mbox_harness_start(
			     &e->h, relay ? smtp_sink_port(e->sink) : 0, 1, 2),
			 0);
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

/* The original into the Inbox; its item id. */
static int64_t
import(struct env *e, const char *mime)
{
	Rpc__ImportRequest q;
	ProtobufCMessage *rep;
	int64_t id;

	rpc__import_request__init(&q);
	q.user = e->user;
	q.mime.data = (uint8_t *)(uintptr_t)mime;
	q.mime.len = strlen(mime);
	assert_int_equal(
	    mbox_call(&e->admin, RPC__MSG_TYPE__MSG_IMPORT, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	id = strtoll(((Rpc__ImportReply *)(void *)rep)->server_id, NULL, 10);
	mbox_free(rep);
	return id;
}

/* A Submit; the status, and the reply's reason into *reason_r. */
static Rpc__Status
submit(struct env *e, Rpc__SubmitRequest *q, Rpc__SubmitError *reason_r,
       bool *duplicate_r)
{
	ProtobufCMessage *rep;
	Rpc__Status st;

	q->user = e->user;
	if (*q->device_id == 0)
		q->device_id = "DEV";
	st = mbox_call(&e->cas, RPC__MSG_TYPE__MSG_SUBMIT, &q->base, &rep);
	if (reason_r != NULL)
		*reason_r = rep != NULL
				? ((Rpc__SubmitReply *)(void *)rep)->reason
				: RPC__SUBMIT_ERROR__SUBMIT_ERROR_NONE;
	if (duplicate_r != NULL)
		*duplicate_r =
		    rep != NULL && ((Rpc__SubmitReply *)(void *)rep)->duplicate;
	mbox_free(rep);
	return st;
}

static void
set_mime(Rpc__SubmitRequest *q, const char *mime)
{
	q->mime.data = (uint8_t *)(uintptr_t)mime;
	q->mime.len = strlen(mime);
}

/* Wait (bounded: 15 s) until the sink accepted n messages. */
static bool
wait_messages(struct env *e, int n)
{
	for (int i = 0; i < 300; i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};

		if (atomic_load(&e->sink->messages) >= n)
			return true;
		(void)nanosleep(&ts, NULL);
	}
	return false;
}

/* The stored item, read through a second connection to the database. */
static struct item *
stored(struct env *e, int64_t id)
{
	struct store *st = NULL;
	struct store_error err;
	struct item *it = NULL;

	assert_int_equal(store_open(e->h.dir, (int64_t)e->user, &st, &err), 0);
	assert_int_equal(store_item_get(st, id, STORE_GET_MIME, &it), 0);
	store_close(&st);
	return it;
}

static bool
has(const uint8_t *data, size_t len, const char *needle)
{
	return memmem(data, len, needle, strlen(needle)) != NULL;
}

static void
test_smart_reply_quotes_and_marks(void **state)
{
	struct env e;
	Rpc__SubmitRequest q;
	struct message_summary *s = NULL;
	const char *error;
	struct item *it;
	int64_t orig;
	char id[24];

	(void)state;
	env_start(&e, true);
	orig = import(&e, ORIGINAL);
	(void)snprintf(id, sizeof(id), "%lld", (long long)orig);
	rpc__submit_request__init(&q);
	q.command = RPC__SUBMIT_COMMAND__SUBMIT_SMART_REPLY;
	q.client_id = "r1";
	q.source_item_id = id;
	q.source_folder_id = "1";
	q.save_in_sent = true;
	set_mime(&q, "From: sam@example.org\r\nTo: rita@remote.test\r\n"
		     "Subject: RE: lunch\r\n\r\nNoon is fine.\r\n");
	assert_int_equal(submit(&e, &q, NULL, NULL), RPC__STATUS__STATUS_OK);
	assert_true(wait_messages(&e, 1));
	smtp_sink_stop(e.sink);
	assert_non_null(strstr(e.sink->mail_from, "sam@example.org"));
	assert_non_null(strstr(e.sink->rcpts, "rita@remote.test"));
	assert_true(has(e.sink->data, e.sink->data_len,
			"In-Reply-To: <orig-1@remote.test>"));
	assert_true(has(e.sink->data, e.sink->data_len,
			"<older@remote.test> <orig-1@remote.test>"));
	assert_int_equal(
	    mime_parse(e.sink->data, e.sink->data_len, 0, &s, &error), 0);
	assert_non_null(strstr(s->text, "Noon is fine."));
	assert_non_null(strstr(s->text, "> Shall we meet at noon?"));
	message_summary_free(&s);
	/* Only the sender: LastVerbExecuted 1 (MS-ASEMAIL 2.2.2.45). */
	it = stored(&e, orig);
	assert_int_equal(it->flags.last_verb, ITEM_VERB_REPLY_TO_SENDER);
	assert_true(it->flags.last_verb_time > 0);
	item_free(&it);
	env_stop(&e);
}

static void
test_reply_all_verb(void **state)
{
	struct env e;
	Rpc__SubmitRequest q;
	struct item *it;
	int64_t orig;
	char id[24];

	(void)state;
	env_start(&e, true);
	orig = import(&e, ORIGINAL);
	(void)snprintf(id, sizeof(id), "%lld", (long long)orig);
	rpc__submit_request__init(&q);
	q.command = RPC__SUBMIT_COMMAND__SUBMIT_SMART_REPLY;
	q.client_id = "r2";
	q.source_long_id = id; /* a Search result's LongId */
	set_mime(&q, "To: rita@remote.test\r\nCc: carl@remote.test\r\n"
		     "Subject: RE: lunch\r\n\r\nAll of us.\r\n");
	assert_int_equal(submit(&e, &q, NULL, NULL), RPC__STATUS__STATUS_OK);
	it = stored(&e, orig);
	assert_int_equal(it->flags.last_verb, ITEM_VERB_REPLY_TO_ALL);
	item_free(&it);
	assert_true(wait_messages(&e, 1));
	env_stop(&e);
}

static void
test_smart_forward_attachment_forwardees(void **state)
{
	struct env e;
	Rpc__SubmitRequest q;
	Rpc__Forwardee fw, *fws[1] = {&fw};
	struct message_summary *s = NULL;
	const char *error;
	struct item *it;
	int64_t orig;
	char id[24];

	(void)state;
	env_start(&e, true);
	orig = import(&e, WITH_ATTACHMENT);
	(void)snprintf(id, sizeof(id), "%lld", (long long)orig);
	rpc__submit_request__init(&q);
	rpc__forwardee__init(&fw);
	fw.name = "Dora";
	fw.email = "dora@remote.test";
	q.command = RPC__SUBMIT_COMMAND__SUBMIT_SMART_FORWARD;
	q.client_id = "f1";
	q.source_item_id = id;
	q.forwardees = fws;
	q.n_forwardees = 1;
	set_mime(&q, "From: Sam <sam@example.org>\r\nTo: carl@remote.test\r\n"
		     "Subject: FW: report\r\n\r\nFor you.\r\n");
	assert_int_equal(submit(&e, &q, NULL, NULL), RPC__STATUS__STATUS_OK);
	assert_true(wait_messages(&e, 1));
	smtp_sink_stop(e.sink);
	assert_non_null(strstr(e.sink->rcpts, "carl@remote.test"));
	assert_non_null(strstr(e.sink->rcpts, "dora@remote.test"));
	assert_false(has(e.sink->data, e.sink->data_len, "In-Reply-To"));
	assert_int_equal(
	    mime_parse(e.sink->data, e.sink->data_len, 0, &s, &error), 0);
	assert_non_null(strstr(s->text, "For you."));
	assert_non_null(strstr(s->text, "The report."));
	assert_int_equal(s->n_attachments, 1);
	assert_string_equal(s->attachments[0].name, "q3.pdf");
	assert_non_null(strstr(s->to, "dora@remote.test"));
	message_summary_free(&s);
	it = stored(&e, orig);
	assert_int_equal(it->flags.last_verb, ITEM_VERB_FORWARD);
	item_free(&it);
	env_stop(&e);
}

static void
test_from_rewritten_bcc_hidden(void **state)
{
	struct env e;
	Rpc__SubmitRequest q;
	struct store *st = NULL;
	struct store_error err;
	int64_t sent, ids[4];
	size_t n = 0;
	struct item *it;

	(void)state;
	env_start(&e, true);
	rpc__submit_request__init(&q);
	q.client_id = "s1";
	q.save_in_sent = true;
	set_mime(&q, "From: Boss <boss@elsewhere.test>\r\n"
		     "To: rita@remote.test\r\nBcc: hidden@remote.test\r\n"
		     "Subject: pay rise\r\n\r\nYes.\r\n");
	assert_int_equal(submit(&e, &q, NULL, NULL), RPC__STATUS__STATUS_OK);
	assert_true(wait_messages(&e, 1));
	smtp_sink_stop(e.sink);
	assert_non_null(strstr(e.sink->rcpts, "hidden@remote.test"));
	assert_false(has(e.sink->data, e.sink->data_len, "hidden@"));
	assert_false(has(e.sink->data, e.sink->data_len, "boss@"));
	assert_true(has(e.sink->data, e.sink->data_len,
			"From: Boss <sam@example.org>"));
	assert_true(has(e.sink->data, e.sink->data_len, "Message-Id: <"));
	assert_true(has(e.sink->data, e.sink->data_len, "Date: "));
	/* The Sent Items copy keeps the Bcc (bounded wait for the save,
	 * which commits right after the relay's answer). */
	assert_int_equal(store_open(e.h.dir, (int64_t)e.user, &st, &err), 0);
	assert_int_equal(store_folder_by_type(st, FOLDER_TYPE_SENT, &sent), 0);
	for (int i = 0; i < 200 && n == 0; i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};

		assert_int_equal(store_folder_items(st, sent, 0, 4, ids, &n),
				 0);
		if (n == 0)
			(void)nanosleep(&ts, NULL);
	}
	assert_int_equal(n, 1);
	assert_int_equal(store_item_get(st, ids[0], STORE_GET_MIME, &it), 0);
	assert_true(has(it->mime, it->mime_len, "hidden@remote.test"));
	item_free(&it);
	store_close(&st);
	env_stop(&e);
}

static void
test_refusals(void **state)
{
	struct env e;
	Rpc__SubmitRequest q;
	Rpc__SubmitError reason;
	bool dup;

	(void)state;
	env_start(&e, true);
	rpc__submit_request__init(&q);
	q.command = RPC__SUBMIT_COMMAND__SUBMIT_SMART_REPLY;
	q.client_id = "x1";
	q.source_item_id = "999";
	set_mime(&q, "To: rita@remote.test\r\nSubject: RE\r\n\r\nhi\r\n");
	assert_int_equal(submit(&e, &q, &reason, NULL),
			 RPC__STATUS__STATUS_NOT_FOUND);
	assert_int_equal(reason, RPC__SUBMIT_ERROR__SUBMIT_ERROR_SOURCE);
	/* With ReplaceMime the message is whole: a vanished source does
	 * not stop it. */
	q.replace_mime = true;
	assert_int_equal(submit(&e, &q, &reason, NULL), RPC__STATUS__STATUS_OK);
	/* The same ClientId again: answered, not queued again. */
	assert_int_equal(submit(&e, &q, &reason, &dup), RPC__STATUS__STATUS_OK);
	assert_true(dup);
	/* Another device's ClientId "x1" is another message. */
	q.device_id = "OTHERDEV";
	assert_int_equal(submit(&e, &q, &reason, &dup), RPC__STATUS__STATUS_OK);
	assert_false(dup);

	rpc__submit_request__init(&q);
	q.client_id = "x2";
	q.account_id = "someone@else.test";
	set_mime(&q, "To: rita@remote.test\r\nSubject: hi\r\n\r\nhi\r\n");
	assert_int_equal(submit(&e, &q, &reason, NULL),
			 RPC__STATUS__STATUS_DENIED);
	assert_int_equal(reason, RPC__SUBMIT_ERROR__SUBMIT_ERROR_ACCOUNT);
	q.account_id = "SAM@example.org";
	assert_int_equal(submit(&e, &q, &reason, NULL), RPC__STATUS__STATUS_OK);

	rpc__submit_request__init(&q);
	q.client_id = "x3";
	set_mime(&q, "Subject: nobody\r\n\r\nhi\r\n");
	assert_int_equal(submit(&e, &q, &reason, NULL),
			 RPC__STATUS__STATUS_INVALID);
	assert_int_equal(reason, RPC__SUBMIT_ERROR__SUBMIT_ERROR_NO_RECIPIENTS);
	set_mime(&q, "not a header line at all\r\n\r\n");
	assert_int_equal(submit(&e, &q, &reason, NULL),
			 RPC__STATUS__STATUS_INVALID);
	assert_int_equal(reason, RPC__SUBMIT_ERROR__SUBMIT_ERROR_MIME);
	assert_true(wait_messages(&e, 3));
	env_stop(&e);

	/* No relay: refused, not accepted and dropped. */
	env_start(&e, false);
	rpc__submit_request__init(&q);
	q.client_id = "x4";
	set_mime(&q, "To: rita@remote.test\r\nSubject: hi\r\n\r\nhi\r\n");
	assert_int_equal(submit(&e, &q, &reason, NULL),
			 RPC__STATUS__STATUS_UNSUPPORTED);
	assert_int_equal(reason, RPC__SUBMIT_ERROR__SUBMIT_ERROR_NO_RELAY);
	env_stop(&e);
}

/* The ClientId record is durable: committed with the queue entry, found
 * again after the store is closed and reopened (a daemon restart). */
static void
test_client_id_survives_reopen(void **state)
{
	char dir[] = "/tmp/easd-submit-XXXXXX";
	static const uint8_t msg[] = "To: a@b.test\r\n\r\nx\r\n";
	const struct store_queue_msg m = {
	    .mail_from = "sam@example.org",
	    .rcpts = "a@b.test",
	    .mime = msg,
	    .mime_len = sizeof(msg) - 1,
	    .saved = msg,
	    .saved_len = sizeof(msg) - 1,
	    .save_in_sent = true,
	};
	struct store *st = NULL;
	struct store_error err;
	struct store_queue_entry qe;
	bool seen = true;
	int64_t qid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, 7, &st, &err), 0);
	assert_int_equal(store_submit_seen(st, "DEV", "c-1", &seen), 0);
	assert_false(seen);
	assert_int_equal(store_tx_begin(st), 0);
	assert_int_equal(store_queue_put(st, &m, 1000, &qid), 0);
	assert_int_equal(store_submit_record(st, "DEV", "c-1", 1000), 0);
	assert_int_equal(store_tx_commit(st), 0);
	/* Recording the pair twice is refused (the caller checks first). */
	assert_int_equal(store_submit_record(st, "DEV", "c-1", 1001), -1);
	assert_int_equal(store_last_error(st)->status, STORE_EXISTS);
	store_close(&st);

	assert_int_equal(store_open(dir, 7, &st, &err), 0);
	assert_int_equal(store_submit_seen(st, "DEV", "c-1", &seen), 0);
	assert_true(seen);
	assert_int_equal(store_submit_seen(st, "DEV2", "c-1", &seen), 0);
	assert_false(seen);
	assert_int_equal(store_queue_next_due(st, 1000, &qe), 0);
	assert_int_equal(qe.id, qid);
	assert_non_null(qe.saved);
	assert_int_equal(qe.saved_len, sizeof(msg) - 1);
	store_queue_entry_clear(&qe);
	/* Records expire after STORE_SUBMIT_CLIENT_ID_KEEP_S. */
	assert_int_equal(
	    store_submit_record(st, "DEV", "c-2",
				1000 + STORE_SUBMIT_CLIENT_ID_KEEP_S + 1),
	    0);
	assert_int_equal(store_submit_seen(st, "DEV", "c-1", &seen), 0);
	assert_false(seen);
	store_close(&st);
	(void)nftw(dir, mbox_harness_rm, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_smart_reply_quotes_and_marks),
	    cmocka_unit_test(test_reply_all_verb),
	    cmocka_unit_test(test_smart_forward_attachment_forwardees),
	    cmocka_unit_test(test_from_rewritten_bcc_hidden),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_client_id_survives_reopen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
