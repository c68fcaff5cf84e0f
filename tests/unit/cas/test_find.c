/* End-to-end tests of cas/cmd_find.c against the fake mailbox: Find is a
 * 16.1 command (400 at 14.1); a MailBoxSearchCriterion is asked of the
 * index with the Range and DeepTraversal and answered with the Find
 * page's Result (Class, ServerId, CollectionId, Properties with Subject,
 * DateReceived, DisplayBcc, IsDraft, Preview, HasAttachments...), Range
 * and Total; a Range of
 * more than 100 is served as its first 100; statuses 2 (malformed, too
 * complex) and 3 (unknown folder); and a GALSearchCriterion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/cas/cas_harness.h"

#define DEV "FINDDEV"
#define VER "16.1"

static struct cas_harness h;
static char key[24];

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char query[256];
	char collection[64];
	uint32_t first, last;
	bool deep;
	uint32_t pref_type;
	unsigned gal_calls;
} seen;

static const uint16_t STATUS[] = {EAS_FIND_STATUS};
static const uint16_t RESP_STATUS[] = {EAS_FIND_RESPONSE, EAS_FIND_STATUS};
static const uint16_t STORE[] = {EAS_FIND_RESPONSE, EAS_ITEMOPERATIONS_STORE};
static const uint16_t TOTAL[] = {EAS_FIND_RESPONSE, EAS_FIND_TOTAL};
static const uint16_t RANGE[] = {EAS_FIND_RESPONSE, EAS_FIND_RANGE};

static int
on_search(void *arg, struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__SearchRequest *q = (const Rpc__SearchRequest *)req->msg;
	Rpc__SearchReply r;
	Rpc__SearchResult res, *rp = &res;
	Rpc__ItemData d;
	Rpc__Email m;
	Rpc__Body body;
	Rpc__Attachment att, *ap = &att;

	(void)arg;
	pthread_mutex_lock(&seen_lock);
	(void)snprintf(seen.query, sizeof(seen.query), "%s", q->query);
	(void)snprintf(seen.collection, sizeof(seen.collection), "%s",
		       q->collection_id);
	seen.first = q->range_start;
	seen.last = q->range_end;
	seen.deep = q->deep_traversal;
	seen.pref_type =
	    q->n_body_preferences > 0 ? q->body_preferences[0]->type : 0;
	pthread_mutex_unlock(&seen_lock);
	rpc__search_reply__init(&r);
	if (strcmp(q->collection_id, "99") == 0) {
		r.status = RPC__STATUS__STATUS_NOT_FOUND;
		return fake_mailbox_reply(fm, req, &r.base);
	}
	rpc__search_result__init(&res);
	rpc__item_data__init(&d);
	rpc__email__init(&m);
	rpc__body__init(&body);
	rpc__attachment__init(&att);
	body.type = 1;
	body.preview = "Figures for the third quarter";
	m.subject = "Invoice 7";
	m.from = "carol@example.org";
	m.display_to = "Alice";
	m.date_received = 1767225600;
	m.importance = 2;
	m.read = true;
	m.is_draft = true;
	m.bcc = "dave@example.org";
	m.body = &body;
	m.attachments = &ap;
	m.n_attachments = 1;
	d.email = &m;
	res.long_id = "401";
	res.collection_id = "2";
	res.item_class = "Email";
	res.data = &d;
	r.status = RPC__STATUS__STATUS_OK;
	r.results = &rp;
	r.n_results = 1;
	r.total = 7;
	return fake_mailbox_reply(fm, req, &r.base);
}

static int
on_gal(void *arg, struct fake_mailbox *fm, const struct rpc_request *req)
{
	Rpc__GalSearchReply r;
	Rpc__GalEntry e, *ep = &e;

	(void)arg;
	pthread_mutex_lock(&seen_lock);
	seen.gal_calls++;
	pthread_mutex_unlock(&seen_lock);
	rpc__gal_search_reply__init(&r);
	rpc__gal_entry__init(&e);
	e.display_name = "carol";
	e.alias = "carol";
	e.email_address = "carol@example.org";
	e.mobile_phone = "+1 555 0199";
	r.status = RPC__STATUS__STATUS_OK;
	r.entries = &ep;
	r.n_entries = 1;
	r.total = 1;
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
	fake_mailbox_set_handler(h.fm, RPC__MSG_TYPE__MSG_SEARCH, on_search,
				 NULL);
	fake_mailbox_set_handler(h.fm, RPC__MSG_TYPE__MSG_GAL_SEARCH, on_gal,
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

struct doc {
	struct buf buf;
	struct wbxml_enc e;
};

static void
find_doc(struct doc *d, bool gal, const char *words, const char *folder,
	 const char *range)
{
	buf_init(&d->buf, 1u << 16);
	wbxml_enc_init_buf(&d->e, &d->buf);
	wbxml_enc_start(&d->e, EAS_FIND_FIND);
	wbxml_enc_str(&d->e, EAS_FIND_SEARCH_ID,
		      "6f1a9d2e-0b3c-4d5e-8f70-a1b2c3d4e5f6");
	wbxml_enc_start(&d->e, EAS_FIND_EXECUTE_SEARCH);
	wbxml_enc_start(&d->e, gal ? EAS_FIND_GAL_SEARCH_CRITERION
				   : EAS_FIND_MAIL_BOX_SEARCH_CRITERION);
	wbxml_enc_start(&d->e, EAS_FIND_QUERY);
	if (!gal)
		wbxml_enc_str(&d->e, EAS_AIRSYNC_CLASS, "Email");
	if (folder != NULL)
		wbxml_enc_str(&d->e, EAS_AIRSYNC_COLLECTION_ID, folder);
	if (words != NULL)
		wbxml_enc_str(&d->e, EAS_FIND_FREE_TEXT, words);
	wbxml_enc_end(&d->e);
	wbxml_enc_start(&d->e, EAS_FIND_OPTIONS);
	if (range != NULL)
		wbxml_enc_str(&d->e, EAS_FIND_RANGE, range);
	if (!gal)
		wbxml_enc_empty(&d->e, EAS_FIND_DEEP_TRAVERSAL);
	wbxml_enc_end(&d->e);
	wbxml_enc_end(&d->e);
	wbxml_enc_end(&d->e);
	wbxml_enc_end(&d->e);
	assert_int_equal(wbxml_enc_finish(&d->e), 0);
}

static void
post(struct doc *d, const char *version, struct cas_reply *r)
{
	char q[256];

	cas_harness_query(q, sizeof(q), "Find", DEV);
	assert_int_equal(cas_harness_post(&h, q, version, key, h.userpwd,
					  d->buf.data, d->buf.len, r),
			 0);
	buf_free(&d->buf);
}

static void
test_mailbox(void **state)
{
	static const uint16_t RES[] = {EAS_FIND_RESPONSE, EAS_FIND_RESULT};
	struct doc d;
	struct cas_reply r;
	const struct wbxml_node *res, *props;
	const char *s;
	uint64_t v;

	(void)state;
	find_doc(&d, false, "invoice", "2", "0-9");
	post(&d, VER, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(cas_reply_uint(&r, STATUS, 1), 1);
	assert_int_equal(cas_reply_uint(&r, RESP_STATUS, 2), 1);
	assert_string_equal(cas_reply_str(&r, STORE, 2), "Mailbox");
	assert_int_equal(cas_reply_uint(&r, TOTAL, 2), 7);
	assert_string_equal(cas_reply_str(&r, RANGE, 2), "0-0");
	res = wbxml_node_path(wbxml_tree_root(r.tree), RES, 2);
	assert_non_null(res);
	assert_int_equal(
	    wbxml_child_str(res, EAS_AIRSYNC_SERVER_ID, 64, &s, NULL, NULL), 0);
	assert_string_equal(s, "401");
	assert_int_equal(
	    wbxml_child_str(res, EAS_AIRSYNC_COLLECTION_ID, 64, &s, NULL, NULL),
	    0);
	assert_string_equal(s, "2");
	props = wbxml_node_child(res, EAS_FIND_PROPERTIES);
	assert_non_null(props);
	assert_int_equal(
	    wbxml_child_str(props, EAS_EMAIL_SUBJECT, 64, &s, NULL, NULL), 0);
	assert_string_equal(s, "Invoice 7");
	assert_int_equal(
	    wbxml_child_str(props, EAS_EMAIL_DATE_RECEIVED, 64, &s, NULL, NULL),
	    0);
	assert_string_equal(s, "2026-01-01T00:00:00.000Z");
	assert_int_equal(
	    wbxml_child_str(props, EAS_FIND_PREVIEW, 300, &s, NULL, NULL), 0);
	assert_string_equal(s, "Figures for the third quarter");
	assert_int_equal(
	    wbxml_child_uint(props, EAS_FIND_HAS_ATTACHMENTS, 0, 1, &v, NULL),
	    0);
	assert_int_equal(v, 1);
	assert_int_equal(
	    wbxml_child_uint(props, EAS_EMAIL_IMPORTANCE, 0, 2, &v, NULL), 0);
	assert_int_equal(v, 2);
	assert_int_equal(
	    wbxml_child_uint(props, EAS_EMAIL_READ, 0, 1, &v, NULL), 0);
	assert_int_equal(v, 1);
	assert_int_equal(
	    wbxml_child_str(props, EAS_EMAIL_FROM, 64, &s, NULL, NULL), 0);
	assert_string_equal(s, "carol@example.org");
	/* MS-ASCMD 2.2.3.139.1: IsDraft and DisplayBcc of a draft. */
	assert_int_equal(
	    wbxml_child_uint(props, EAS_EMAIL2_IS_DRAFT, 0, 1, &v, NULL), 0);
	assert_int_equal(v, 1);
	assert_int_equal(
	    wbxml_child_str(props, EAS_FIND_DISPLAY_BCC, 64, &s, NULL, NULL),
	    0);
	assert_string_equal(s, "dave@example.org");
	cas_reply_free(&r);
	pthread_mutex_lock(&seen_lock);
	assert_string_equal(seen.query, "invoice");
	assert_string_equal(seen.collection, "2");
	assert_int_equal(seen.first, 0);
	assert_int_equal(seen.last, 9);
	assert_true(seen.deep);
	assert_int_equal(seen.pref_type, 1);
	pthread_mutex_unlock(&seen_lock);
	/* A page of more than 100 is served as its first 100. */
	find_doc(&d, false, "invoice", NULL, "100-399");
	post(&d, VER, &r);
	assert_int_equal(cas_reply_uint(&r, STATUS, 1), 1);
	cas_reply_free(&r);
	pthread_mutex_lock(&seen_lock);
	assert_int_equal(seen.first, 100);
	assert_int_equal(seen.last, 199);
	pthread_mutex_unlock(&seen_lock);
}

static void
test_statuses(void **state)
{
	struct doc d;
	struct cas_reply r;

	(void)state;
	/* Unknown folder: 3, FolderSync. */
	find_doc(&d, false, "invoice", "99", NULL);
	post(&d, VER, &r);
	assert_int_equal(cas_reply_uint(&r, STATUS, 1), 3);
	cas_reply_free(&r);
	/* No words; a Range past 999: 2. */
	find_doc(&d, false, NULL, "2", NULL);
	post(&d, VER, &r);
	assert_int_equal(cas_reply_uint(&r, STATUS, 1), 2);
	cas_reply_free(&r);
	find_doc(&d, false, "invoice", "2", "990-1000");
	post(&d, VER, &r);
	assert_int_equal(cas_reply_uint(&r, STATUS, 1), 2);
	cas_reply_free(&r);
	/* Find does not exist before 16.1 (MS-ASHTTP: 400). */
	find_doc(&d, false, "invoice", "2", NULL);
	post(&d, "14.1", &r);
	assert_int_equal(r.status, 400);
	cas_reply_free(&r);
}

static void
test_gal(void **state)
{
	static const uint16_t NAME[] = {EAS_FIND_RESPONSE, EAS_FIND_RESULT,
					EAS_FIND_PROPERTIES,
					EAS_GAL_DISPLAY_NAME};
	static const uint16_t MOBILE[] = {EAS_FIND_RESPONSE, EAS_FIND_RESULT,
					  EAS_FIND_PROPERTIES,
					  EAS_GAL_MOBILE_PHONE};
	static const uint16_t PHONE[] = {EAS_FIND_RESPONSE, EAS_FIND_RESULT,
					 EAS_FIND_PROPERTIES, EAS_GAL_PHONE};
	struct doc d;
	struct cas_reply r;

	(void)state;
	find_doc(&d, true, "car", NULL, "0-4");
	post(&d, VER, &r);
	assert_int_equal(cas_reply_uint(&r, STATUS, 1), 1);
	assert_string_equal(cas_reply_str(&r, STORE, 2), "GAL");
	assert_string_equal(cas_reply_str(&r, NAME, 4), "carol");
	/* The shared GAL encoder: set fields sent, unset ones left out. */
	assert_string_equal(cas_reply_str(&r, MOBILE, 4), "+1 555 0199");
	assert_null(wbxml_node_path(wbxml_tree_root(r.tree), PHONE, 4));
	assert_int_equal(cas_reply_uint(&r, TOTAL, 2), 1);
	cas_reply_free(&r);
	pthread_mutex_lock(&seen_lock);
	assert_int_equal(seen.gal_calls, 1);
	pthread_mutex_unlock(&seen_lock);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mailbox),
	    cmocka_unit_test(test_statuses),
	    cmocka_unit_test(test_gal),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
