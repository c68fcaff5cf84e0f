/* SendMail, SmartReply and SmartForward end to end through the real HTTP
 * server, request pipeline and mailbox client against the fake mailbox,
 * whose Submit handler records what it was asked and answers as the test
 * says: the 14.1/16.0 WBXML forms reach the mailbox field for field
 * (ClientId, SaveInSentItems, Source, ReplaceMime, Forwardees, AccountId)
 * and success is an empty 200, also for a ClientId already sent; the
 * mailbox's refusals become ComposeMail statuses 107, 115, 119, 120, 150,
 * 166 in the command's own envelope; malformed bodies 102/103; a busy
 * mailbox 111; the 12.1 raw-MIME form with SaveInSent/ItemId in the
 * query, answered with bare HTTP codes (200, 400, 500, 503).  Waits are
 * bounded (curl timeouts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "tests/unit/cas/cas_harness.h"

#define DEV14 "SENDDEV14"
#define DEV16 "SENDDEV16"
#define DEV12 "SENDDEV12"

static struct cas_harness h;
static char key14[24], key16[24], key12[24];

static const char MIME[] =
    "From: alice@example.org\r\nTo: rita@remote.test\r\nSubject: hi\r\n"
    "\r\nhello\r\n";

/* What the fake mailbox saw, and what it answers. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	unsigned calls;
	char client_id[80], device_id[80], item_id[80], folder_id[80];
	char long_id[80], instance_id[80], account_id[80];
	char fw_email[2][80], fw_name[2][80];
	size_t n_forwardees;
	size_t mime_len;
	bool mime_equal, save_in_sent, replace_mime;
	Rpc__SubmitCommand command;
} seen;
static Rpc__Status answer_status = RPC__STATUS__STATUS_OK;
static Rpc__SubmitError answer_reason;
static bool answer_duplicate;

static void
copy(char *dst, size_t size, const char *src)
{
	(void)snprintf(dst, size, "%s", src != NULL ? src : "");
}

static int
on_submit(void *arg, struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__SubmitRequest *q = (const Rpc__SubmitRequest *)req->msg;
	Rpc__SubmitReply rep;

	(void)arg;
	pthread_mutex_lock(&lock);
	seen.calls++;
	copy(seen.client_id, sizeof(seen.client_id), q->client_id);
	copy(seen.device_id, sizeof(seen.device_id), q->device_id);
	copy(seen.item_id, sizeof(seen.item_id), q->source_item_id);
	copy(seen.folder_id, sizeof(seen.folder_id), q->source_folder_id);
	copy(seen.long_id, sizeof(seen.long_id), q->source_long_id);
	copy(seen.instance_id, sizeof(seen.instance_id), q->source_instance_id);
	copy(seen.account_id, sizeof(seen.account_id), q->account_id);
	seen.n_forwardees = q->n_forwardees;
	for (size_t i = 0; i < q->n_forwardees && i < 2; i++) {
		copy(seen.fw_email[i], sizeof(seen.fw_email[i]),
		     q->forwardees[i]->email);
		copy(seen.fw_name[i], sizeof(seen.fw_name[i]),
		     q->forwardees[i]->name);
	}
	seen.mime_len = q->mime.len;
	seen.mime_equal = q->mime.len == strlen(MIME) &&
			  memcmp(q->mime.data, MIME, q->mime.len) == 0;
	seen.save_in_sent = q->save_in_sent;
	seen.replace_mime = q->replace_mime;
	seen.command = q->command;
	pthread_mutex_unlock(&lock);
	rpc__submit_reply__init(&rep);
	rep.status = answer_status;
	rep.reason = answer_reason;
	rep.duplicate = answer_duplicate;
	rep.error = "";
	return fake_mailbox_reply(fm, req, &rep.base);
}

static void
answer(Rpc__Status st, Rpc__SubmitError reason, bool duplicate)
{
	answer_status = st;
	answer_reason = reason;
	answer_duplicate = duplicate;
}

static int
setup(void **state)
{
	uint32_t k;

	(void)state;
	if (cas_harness_start(&h) != 0)
		return -1;
	if (cas_harness_provision(&h, DEV14, "14.1", &k) != 0)
		return -1;
	(void)snprintf(key14, sizeof(key14), "%u", (unsigned)k);
	if (cas_harness_provision(&h, DEV16, "16.0", &k) != 0)
		return -1;
	(void)snprintf(key16, sizeof(key16), "%u", (unsigned)k);
	if (cas_harness_provision(&h, DEV12, "12.1", &k) != 0)
		return -1;
	(void)snprintf(key12, sizeof(key12), "%u", (unsigned)k);
	fake_mailbox_set_handler(h.fm, RPC__MSG_TYPE__MSG_SUBMIT, on_submit,
				 NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cas_harness_stop(&h);
	return 0;
}

/* The body of a 14.0+ request of root with the given ClientId (NULL:
 * none) and a Source unless item and long_id are NULL. */
static void
body14(struct buf *b, uint16_t root, const char *client_id, const char *item,
       const char *long_id, bool extras)
{
	struct wbxml_enc e;

	buf_init(b, 1u << 16);
	wbxml_enc_init_buf(&e, b);
	wbxml_enc_start(&e, root);
	if (client_id != NULL)
		wbxml_enc_str(&e, EAS_COMPOSEMAIL_CLIENT_ID, client_id);
	if (extras) {
		wbxml_enc_str(&e, EAS_COMPOSEMAIL_ACCOUNT_ID,
			      "alice@example.org");
		wbxml_enc_empty(&e, EAS_COMPOSEMAIL_SAVE_IN_SENT_ITEMS);
	}
	if (item != NULL || long_id != NULL) {
		wbxml_enc_start(&e, EAS_COMPOSEMAIL_SOURCE);
		if (item != NULL) {
			wbxml_enc_str(&e, EAS_COMPOSEMAIL_FOLDER_ID, "2");
			wbxml_enc_str(&e, EAS_COMPOSEMAIL_ITEM_ID, item);
		}
		if (long_id != NULL)
			wbxml_enc_str(&e, EAS_COMPOSEMAIL_LONG_ID, long_id);
		wbxml_enc_end(&e);
	}
	if (extras && root != EAS_COMPOSEMAIL_SEND_MAIL)
		wbxml_enc_empty(&e, EAS_COMPOSEMAIL_REPLACE_MIME);
	if (extras && root == EAS_COMPOSEMAIL_SMART_FORWARD) {
		wbxml_enc_start(&e, EAS_COMPOSEMAIL_FORWARDEES);
		wbxml_enc_start(&e, EAS_COMPOSEMAIL_FORWARDEE);
		wbxml_enc_str(&e, EAS_COMPOSEMAIL_NAME, "Dora");
		wbxml_enc_str(&e, EAS_COMPOSEMAIL_EMAIL, "dora@remote.test");
		wbxml_enc_end(&e);
		wbxml_enc_end(&e);
	}
	wbxml_enc_opaque(&e, EAS_COMPOSEMAIL_MIME, MIME, strlen(MIME));
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
}

/* POST a 14.0+ body; the reply in r. */
static void
post14(const char *cmd, const char *version, struct buf *b, struct cas_reply *r)
{
	char q[256];
	const char *dev = strcmp(version, "16.0") == 0 ? DEV16 : DEV14;
	const char *key = strcmp(version, "16.0") == 0 ? key16 : key14;

	cas_harness_query(q, sizeof(q), cmd, dev);
	assert_int_equal(cas_harness_post(&h, q, version, key, h.userpwd,
					  b->data, b->len, r),
			 0);
	buf_free(b);
}

/* The Status of a reply whose root is root, or -1. */
static long
status_of(const struct cas_reply *r, uint16_t root)
{
	static const uint16_t path[] = {EAS_COMPOSEMAIL_STATUS};

	if (r->tree == NULL || wbxml_node_tag(wbxml_tree_root(r->tree)) != root)
		return -1;
	return cas_reply_uint(r, path, 1);
}

static void
test_sendmail_ok(void **state)
{
	struct buf b;
	struct cas_reply r;

	(void)state;
	answer(RPC__STATUS__STATUS_OK, 0, false);
	body14(&b, EAS_COMPOSEMAIL_SEND_MAIL, "c-1", NULL, NULL, true);
	post14("SendMail", "14.1", &b, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0); /* MS-ASCMD 2.2.3.177.14 */
	cas_reply_free(&r);
	pthread_mutex_lock(&lock);
	assert_string_equal(seen.client_id, "c-1");
	assert_string_equal(seen.device_id, DEV14);
	assert_string_equal(seen.account_id, "alice@example.org");
	assert_true(seen.mime_equal);
	assert_true(seen.save_in_sent);
	assert_false(seen.replace_mime);
	assert_int_equal(seen.command, RPC__SUBMIT_COMMAND__SUBMIT_SEND_MAIL);
	pthread_mutex_unlock(&lock);

	/* The same ClientId again: the mailbox says it is a duplicate,
	 * the device gets the success it missed. */
	answer(RPC__STATUS__STATUS_OK, 0, true);
	body14(&b, EAS_COMPOSEMAIL_SEND_MAIL, "c-1", NULL, NULL, false);
	post14("SendMail", "14.1", &b, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	cas_reply_free(&r);
}

static void
test_smart_commands(void **state)
{
	struct buf b;
	struct cas_reply r;

	(void)state;
	answer(RPC__STATUS__STATUS_OK, 0, false);
	body14(&b, EAS_COMPOSEMAIL_SMART_REPLY, "c-2", "17", NULL, false);
	post14("SmartReply", "14.1", &b, &r);
	assert_int_equal(r.status, 200);
	cas_reply_free(&r);
	pthread_mutex_lock(&lock);
	assert_int_equal(seen.command, RPC__SUBMIT_COMMAND__SUBMIT_SMART_REPLY);
	assert_string_equal(seen.item_id, "17");
	assert_string_equal(seen.folder_id, "2");
	assert_false(seen.replace_mime);
	assert_false(seen.save_in_sent);
	pthread_mutex_unlock(&lock);

	body14(&b, EAS_COMPOSEMAIL_SMART_FORWARD, "c-3", NULL, "99", true);
	post14("SmartForward", "16.0", &b, &r);
	assert_int_equal(r.status, 200);
	cas_reply_free(&r);
	pthread_mutex_lock(&lock);
	assert_int_equal(seen.command,
			 RPC__SUBMIT_COMMAND__SUBMIT_SMART_FORWARD);
	assert_string_equal(seen.long_id, "99");
	assert_string_equal(seen.item_id, "");
	assert_true(seen.replace_mime);
	assert_int_equal(seen.n_forwardees, 1);
	assert_string_equal(seen.fw_email[0], "dora@remote.test");
	assert_string_equal(seen.fw_name[0], "Dora");
	assert_string_equal(seen.device_id, DEV16);
	pthread_mutex_unlock(&lock);
}

static void
test_refusal_statuses(void **state)
{
	static const struct {
		Rpc__Status st;
		Rpc__SubmitError reason;
		long want;
	} cases[] = {
	    {RPC__STATUS__STATUS_INVALID, RPC__SUBMIT_ERROR__SUBMIT_ERROR_MIME,
	     107},
	    {RPC__STATUS__STATUS_INVALID,
	     RPC__SUBMIT_ERROR__SUBMIT_ERROR_NO_RECIPIENTS, 119},
	    {RPC__STATUS__STATUS_INVALID,
	     RPC__SUBMIT_ERROR__SUBMIT_ERROR_BAD_ADDRESS, 116},
	    {RPC__STATUS__STATUS_TOO_LARGE,
	     RPC__SUBMIT_ERROR__SUBMIT_ERROR_TOO_LARGE, 115},
	    {RPC__STATUS__STATUS_UNSUPPORTED,
	     RPC__SUBMIT_ERROR__SUBMIT_ERROR_NO_RELAY, 120},
	    {RPC__STATUS__STATUS_NOT_FOUND,
	     RPC__SUBMIT_ERROR__SUBMIT_ERROR_SOURCE, 150},
	    {RPC__STATUS__STATUS_DENIED,
	     RPC__SUBMIT_ERROR__SUBMIT_ERROR_ACCOUNT, 166},
	    {RPC__STATUS__STATUS_STORAGE_FULL,
	     RPC__SUBMIT_ERROR__SUBMIT_ERROR_NONE, 113},
	    {RPC__STATUS__STATUS_INTERNAL, RPC__SUBMIT_ERROR__SUBMIT_ERROR_NONE,
	     110},
	};
	struct buf b;
	struct cas_reply r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		answer(cases[i].st, cases[i].reason, false);
		body14(&b, EAS_COMPOSEMAIL_SMART_REPLY, "c-4", "17", NULL,
		       false);
		post14("SmartReply", "14.1", &b, &r);
		assert_int_equal(r.status, 200);
		assert_int_equal(status_of(&r, EAS_COMPOSEMAIL_SMART_REPLY),
				 cases[i].want);
		cas_reply_free(&r);
	}
	/* A busy mailbox: retry later. */
	answer(RPC__STATUS__STATUS_BUSY, 0, false);
	body14(&b, EAS_COMPOSEMAIL_SEND_MAIL, "c-5", NULL, NULL, false);
	post14("SendMail", "14.1", &b, &r);
	assert_int_equal(status_of(&r, EAS_COMPOSEMAIL_SEND_MAIL), 111);
	cas_reply_free(&r);
	answer(RPC__STATUS__STATUS_OK, 0, false);
}

static void
test_malformed(void **state)
{
	static const uint8_t junk[] = {0x03, 0x01, 0x6a, 0x00, 0x45, 0x55};
	struct buf b;
	struct cas_reply r;
	unsigned before;
	char q[256];

	(void)state;
	pthread_mutex_lock(&lock);
	before = seen.calls;
	pthread_mutex_unlock(&lock);
	/* No ClientId: InvalidXML in the SendMail envelope. */
	body14(&b, EAS_COMPOSEMAIL_SEND_MAIL, NULL, NULL, NULL, false);
	post14("SendMail", "14.1", &b, &r);
	assert_int_equal(status_of(&r, EAS_COMPOSEMAIL_SEND_MAIL), 103);
	cas_reply_free(&r);
	/* A SmartForward without Source. */
	body14(&b, EAS_COMPOSEMAIL_SMART_FORWARD, "c-6", NULL, NULL, false);
	post14("SmartForward", "14.1", &b, &r);
	assert_int_equal(status_of(&r, EAS_COMPOSEMAIL_SMART_FORWARD), 103);
	cas_reply_free(&r);
	/* Not WBXML at all. */
	cas_harness_query(q, sizeof(q), "SendMail", DEV14);
	assert_int_equal(cas_harness_post(&h, q, "14.1", key14, h.userpwd, junk,
					  sizeof(junk), &r),
			 0);
	assert_true(status_of(&r, EAS_COMPOSEMAIL_SEND_MAIL) == 102 ||
		    status_of(&r, EAS_COMPOSEMAIL_SEND_MAIL) == 103);
	cas_reply_free(&r);
	pthread_mutex_lock(&lock);
	assert_int_equal(seen.calls, before); /* the mailbox never asked */
	pthread_mutex_unlock(&lock);
}

static void
post12(const char *query, struct cas_reply *r)
{
	assert_int_equal(cas_harness_post(&h, query, "12.1", key12, h.userpwd,
					  MIME, strlen(MIME), r),
			 0);
}

static void
test_raw_pre14(void **state)
{
	struct cas_reply r;

	(void)state;
	answer(RPC__STATUS__STATUS_OK, 0, false);
	post12("Cmd=SendMail&User=alice&DeviceId=" DEV12
	       "&DeviceType=TestPhone&SaveInSent=T",
	       &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	cas_reply_free(&r);
	pthread_mutex_lock(&lock);
	assert_true(seen.mime_equal);
	assert_true(seen.save_in_sent);
	assert_string_equal(seen.client_id, "");
	assert_int_equal(seen.command, RPC__SUBMIT_COMMAND__SUBMIT_SEND_MAIL);
	pthread_mutex_unlock(&lock);

	post12("Cmd=SmartForward&User=alice&DeviceId=" DEV12
	       "&DeviceType=TestPhone&ItemId=17&CollectionId=2",
	       &r);
	assert_int_equal(r.status, 200);
	cas_reply_free(&r);
	pthread_mutex_lock(&lock);
	assert_string_equal(seen.item_id, "17");
	assert_string_equal(seen.folder_id, "2");
	assert_false(seen.save_in_sent);
	assert_int_equal(seen.command,
			 RPC__SUBMIT_COMMAND__SUBMIT_SMART_FORWARD);
	pthread_mutex_unlock(&lock);

	/* No ItemId: 400.  Refused by the mailbox: 500.  Busy: 503. */
	post12("Cmd=SmartReply&User=alice&DeviceId=" DEV12
	       "&DeviceType=TestPhone&CollectionId=2",
	       &r);
	assert_int_equal(r.status, 400);
	cas_reply_free(&r);
	answer(RPC__STATUS__STATUS_INVALID,
	       RPC__SUBMIT_ERROR__SUBMIT_ERROR_NO_RECIPIENTS, false);
	post12("Cmd=SendMail&User=alice&DeviceId=" DEV12
	       "&DeviceType=TestPhone",
	       &r);
	assert_int_equal(r.status, 500);
	cas_reply_free(&r);
	answer(RPC__STATUS__STATUS_BUSY, 0, false);
	post12("Cmd=SendMail&User=alice&DeviceId=" DEV12
	       "&DeviceType=TestPhone",
	       &r);
	assert_int_equal(r.status, 503);
	cas_reply_free(&r);
	answer(RPC__STATUS__STATUS_OK, 0, false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sendmail_ok),
	    cmocka_unit_test(test_smart_commands),
	    cmocka_unit_test(test_refusal_statuses),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_raw_pre14),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, setup, teardown);
}
