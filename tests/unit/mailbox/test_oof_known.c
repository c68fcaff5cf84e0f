/*
 * Out-of-Office audiences and reply period with the real mailbox pieces
 * (in-process harness, the Submit RPC, the delivery hook with an injected
 * clock):
 *  - an outside sender the user wrote to (SendMail through Submit) gets
 *    the AppliesToExternalKnown text, a stranger the Unknown text, an
 *    internal sender the internal text; with only Known enabled a
 *    stranger gets nothing, and being answered by our own auto-reply does
 *    not make anyone known;
 *  - [mailbox] oof_reply_period: a second message within the period gets
 *    no reply, one at the period's end gets one;
 *  - the correspondents table (store level): outside recipients only,
 *    none for the null sender, bounded by STORE_MAX_OOF_CORRESPONDENTS
 *    with the least recently written-to evicted first;
 *  - a contact item's Email1Address makes its sender known.
 * Replies are read from the send queue: the relay answers 451 and the
 * retry is an hour away, so every queued reply stays there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <time.h>

#include "mailbox/folders.h"
#include "mailbox/items.h"
#include "mailbox/oof.h"
#include "tests/lib/smtp_sink.h"
#include "tests/unit/mailbox/mbox_harness.h"

struct env {
	struct smtp_sink *relay;
	struct mbox_harness h;
	struct mbox_client admin, cas;
	uint64_t user;
	int submits;
};

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	Rpc__UserAddRequest q;
	ProtobufCMessage *rep;
	struct smtp_sink_config relay = {.mail_code = 451};

	/* A relay that always answers 451: every queued reply stays queued
	 * (the next try an hour away), to be read from the queue. */
	if (e == NULL || (e->relay = smtp_sink_start(&relay)) == NULL ||
	    mbox_harness_start(&e->h, smtp_sink_port(e->relay), 3600, 100) !=
		0 ||
	    mbox_client_open(&e->admin, &e->h, RPC__ROLE__ROLE_ADMIN) != 0 ||
	    mbox_client_open(&e->cas, &e->h, RPC__ROLE__ROLE_CAS) != 0)
		return -1;
	rpc__user_add_request__init(&q);
	q.login = "sam";
	if (mbox_call(&e->admin, RPC__MSG_TYPE__MSG_USER_ADD, &q.base, &rep) !=
	    RPC__STATUS__STATUS_OK)
		return -1;
	e->user = ((Rpc__UserReply *)(void *)rep)->info->user;
	mbox_free(rep);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;

	mbox_client_close(&e->cas);
	mbox_client_close(&e->admin);
	mbox_harness_stop(&e->h);
	smtp_sink_free(&e->relay);
	free(e);
	return 0;
}

/* Oof on with the three texts (NULL: that audience disabled). */
static void
oof_on(struct env *e, const char *internal, const char *known,
       const char *unknown)
{
	Rpc__OofSetRequest q;
	Rpc__OofSettings s;
	Rpc__OofMessage m[3];
	const char *texts[3] = {internal, known, unknown};
	ProtobufCMessage *rep;

	rpc__oof_set_request__init(&q);
	rpc__oof_settings__init(&s);
	for (int i = 0; i < 3; i++) {
		rpc__oof_message__init(&m[i]);
		m[i].enabled = texts[i] != NULL;
		m[i].reply =
		    (char *)(uintptr_t)(texts[i] != NULL ? texts[i] : "");
	}
	s.state = AUTOREPLY_ON;
	s.internal = &m[0];
	s.external_known = &m[1];
	s.external_unknown = &m[2];
	q.user = e->user;
	q.oof = &s;
	assert_int_equal(
	    mbox_call(&e->cas, RPC__MSG_TYPE__MSG_OOF_SET, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	mbox_free(rep);
}

/* The user sends mail to `to` as a phone does (SendMail). */
static void
send_mail(struct env *e, const char *to)
{
	Rpc__SubmitRequest q;
	ProtobufCMessage *rep;
	char mime[512], client_id[16];

	(void)snprintf(mime, sizeof(mime),
		       "From: sam@example.org\r\nTo: %s\r\n"
		       "Cc: bob@example.org\r\nSubject: hello\r\n\r\n"
		       "Hello there.\r\n",
		       to);
	(void)snprintf(client_id, sizeof(client_id), "c%d", ++e->submits);
	rpc__submit_request__init(&q);
	q.user = e->user;
	q.device_id = "DEV";
	q.client_id = client_id;
	q.command = RPC__SUBMIT_COMMAND__SUBMIT_SEND_MAIL;
	q.mime.data = (uint8_t *)mime;
	q.mime.len = strlen(mime);
	assert_int_equal(
	    mbox_call(&e->cas, RPC__MSG_TYPE__MSG_SUBMIT, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	mbox_free(rep);
}

/* A message from `from` delivered at `now`: the hook LMTP runs after
 * its commit, with the clock injected. */
static void
deliver(struct env *e, const char *from, int64_t now)
{
	struct store *st = NULL;
	struct store_error err;
	char raw[512];

	(void)snprintf(raw, sizeof(raw),
		       "From: %s\r\nTo: sam@example.org\r\nSubject: ping\r\n"
		       "Message-ID: <%lld.%s>\r\n\r\nAre you there?\r\n",
		       from, (long long)now, from);
	assert_int_equal(store_open(e->h.dir, (int64_t)e->user, &st, &err), 0);
	oof_after_delivery_at(&e->h.ctx, st, (int64_t)e->user, from,
			      (const uint8_t *)raw, strlen(raw), now);
	store_close(&st);
}

/* Automatic replies queued to `to` (MAIL FROM:<>) whose message holds
 * `text` (NULL: any). */
static int
replies(struct env *e, const char *to, const char *text)
{
	char path[256];
	sqlite3 *db;
	sqlite3_stmt *stmt;
	int n;

	assert_int_equal(
	    store_user_path(e->h.dir, (int64_t)e->user, path, sizeof(path)), 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(
	    sqlite3_prepare_v2(db,
			       "SELECT count(*) FROM send_queue"
			       " WHERE mail_from = '' AND rcpts = ?1"
			       " AND (?2 IS NULL OR instr(mime, ?2) > 0)",
			       -1, &stmt, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(stmt, 1, to, -1, SQLITE_STATIC);
	if (text != NULL)
		sqlite3_bind_blob(stmt, 2, text, (int)strlen(text),
				  SQLITE_STATIC);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	n = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

static void
test_known_unknown_internal(void **state)
{
	struct env *e = *state;
	int64_t now = (int64_t)time(NULL);

	send_mail(e, "Carol <Carol@Partner.example>");
	oof_on(e, "InternalText1", "KnownText1", "UnknownText1");
	/* Written to: the Known text (any case of the address). */
	deliver(e, "carol@partner.example", now);
	assert_int_equal(replies(e, "carol@partner.example", "KnownText1"), 1);
	assert_int_equal(replies(e, "carol@partner.example", NULL), 1);
	/* A stranger: the Unknown text. */
	deliver(e, "dave@elsewhere.example", now);
	assert_int_equal(replies(e, "dave@elsewhere.example", "UnknownText1"),
			 1);
	assert_int_equal(replies(e, "dave@elsewhere.example", NULL), 1);
	/* Internal (also a recipient of the user's mail): internal text. */
	deliver(e, "bob@example.org", now);
	assert_int_equal(replies(e, "bob@example.org", "InternalText1"), 1);
	assert_int_equal(replies(e, "bob@example.org", NULL), 1);

	/* Known only: strangers get nothing, even dave, whom our own
	 * auto-reply wrote to. */
	oof_on(e, "InternalText2", "KnownText2", NULL);
	deliver(e, "carol@partner.example", now + 1);
	assert_int_equal(replies(e, "carol@partner.example", "KnownText2"), 1);
	deliver(e, "erin@elsewhere.example", now + 1);
	assert_int_equal(replies(e, "erin@elsewhere.example", NULL), 0);
	deliver(e, "dave@elsewhere.example", now + 1);
	assert_int_equal(replies(e, "dave@elsewhere.example", NULL), 1);
	deliver(e, "bob@example.org", now + 1);
	assert_int_equal(replies(e, "bob@example.org", "InternalText2"), 1);
}

static void
test_reply_period(void **state)
{
	struct env *e = *state;
	int64_t t0 = (int64_t)time(NULL);

	e->h.conf.oof_reply_period_s = 3600;
	oof_on(e, NULL, NULL, "PeriodText");
	deliver(e, "fred@far.example", t0);
	assert_int_equal(replies(e, "fred@far.example", "PeriodText"), 1);
	deliver(e, "fred@far.example", t0 + 1800);
	deliver(e, "fred@far.example", t0 + 3599);
	assert_int_equal(replies(e, "fred@far.example", NULL), 1);
	/* The period is over: one more, then quiet again. */
	deliver(e, "fred@far.example", t0 + 3600);
	assert_int_equal(replies(e, "fred@far.example", NULL), 2);
	deliver(e, "fred@far.example", t0 + 3601);
	assert_int_equal(replies(e, "fred@far.example", NULL), 2);
	/* A longer period keeps the second one away. */
	e->h.conf.oof_reply_period_s = 7 * 24 * 3600;
	deliver(e, "fred@far.example", t0 + 3600 + 3600);
	assert_int_equal(replies(e, "fred@far.example", NULL), 2);
	e->h.conf.oof_reply_period_s = 0;
}

static bool
known(struct store *st, const char *a)
{
	bool k = true;

	assert_int_equal(store_oof_is_known(st, a, &k), 0);
	return k;
}

static void
queue(struct store *st, const char *from, const char *rcpts, int64_t now)
{
	static const char mime[] = "Subject: x\r\n\r\nx\r\n";

	assert_int_equal(store_queue_add(st, from, rcpts, (const uint8_t *)mime,
					 sizeof(mime) - 1, false, now, NULL),
			 0);
}

static void
test_correspondents_bounded(void **state)
{
	struct env *e = *state;
	struct store *st = NULL;
	struct store_error err;
	struct buf rcpts;
	int64_t count;
	char a[64];

	assert_int_equal(store_open(e->h.dir, 777, &st, &err), 0);
	/* Null sender (an auto-reply), own domain: not recorded. */
	queue(st, "", "nobody@far.example", 1);
	queue(st, "me@home.example", "Mate@HOME.example", 1);
	assert_false(known(st, "nobody@far.example"));
	assert_false(known(st, "mate@home.example"));
	assert_int_equal(store_oof_correspondent_count(st, &count), 0);
	assert_int_equal(count, 0);
	/* One message to the bound plus three: the first three go. */
	buf_init(&rcpts, 1u << 20);
	for (int i = 0; i < STORE_MAX_OOF_CORRESPONDENTS + 3; i++)
		assert_int_equal(buf_printf(&rcpts, "u%d@far.example\n", i), 0);
	queue(st, "me@home.example", buf_str(&rcpts), 2);
	buf_free(&rcpts);
	assert_int_equal(store_oof_correspondent_count(st, &count), 0);
	assert_int_equal(count, STORE_MAX_OOF_CORRESPONDENTS);
	for (int i = 0; i < 6; i++) {
		(void)snprintf(a, sizeof(a), "U%d@far.example", i);
		assert_int_equal(known(st, a), i >= 3);
	}
	/* Writing again to u3 makes it recent: the next new address evicts
	 * u4, not u3. */
	queue(st, "me@home.example", "u3@far.example", 3);
	queue(st, "me@home.example", "new@far.example", 4);
	assert_true(known(st, "u3@far.example"));
	assert_false(known(st, "u4@far.example"));
	assert_true(known(st, "u5@far.example"));
	assert_true(known(st, "new@far.example"));
	assert_int_equal(store_oof_correspondent_count(st, &count), 0);
	assert_int_equal(count, STORE_MAX_OOF_CORRESPONDENTS);
	/* Not an address at all. */
	assert_false(known(st, "no-at-sign"));
	store_close(&st);
}

static void
test_contact_is_known(void **state)
{
	struct env *e = *state;
	struct store *st = NULL;
	struct store_error err;
	struct item_props p;
	struct item_new n;
	int64_t contacts, id;
	static const char email[] = "\"Zed Z\" <Zed@Contact.Example>";

	assert_int_equal(store_open(e->h.dir, 778, &st, &err), 0);
	assert_int_equal(
	    store_folder_by_type(st, FOLDER_TYPE_CONTACTS, &contacts), 0);
	item_props_init(&p);
	assert_int_equal(item_props_add(&p, "FileAs", "Zed", 3), 0);
	assert_int_equal(
	    item_props_add(&p, "Email2Address", email, sizeof(email) - 1), 0);
	memset(&n, 0, sizeof(n));
	n.cls = ITEM_CLASS_CONTACTS;
	n.props = &p;
	assert_int_equal(store_item_add(st, contacts, &n, &id, NULL), 0);
	item_props_clear(&p);
	assert_true(known(st, "zed@contact.example"));
	assert_false(known(st, "zed@other.example"));
	/* Deleted: no longer known. */
	assert_int_equal(store_item_delete(st, id), 0);
	assert_false(known(st, "zed@contact.example"));
	store_close(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_unknown_internal),
	    cmocka_unit_test(test_reply_period),
	    cmocka_unit_test(test_correspondents_bounded),
	    cmocka_unit_test(test_contact_is_known),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
