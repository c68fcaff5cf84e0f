/* End-to-end tests of cas/cmd_search.c against the fake mailbox: a
 * Mailbox search (what the mailbox is asked: words, folders, Range, dates,
 * DeepTraversal, body preferences, MIMESupport; what the device gets:
 * Result with Class, LongId, CollectionId and the email Properties, Range
 * and Total), no match (an empty Result, Total 0), the Store statuses 8,
 * 11, 12, 3 and 5, Search Status 2 for a malformed body, and a GAL search
 * answered from the directory. */
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

#define DEV "SEARCHDEV"
#define VER "14.1"

static struct cas_harness h;
static char key[24];

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char query[256];
	char collection[64];
	size_t n_more;
	char more0[64];
	uint32_t first, last;
	bool deep;
	int64_t gt, lt;
	size_t n_prefs;
	uint32_t pref_type, pref_trunc;
	uint32_t mime_support;
	char gal_query[256];
	uint32_t gal_first, gal_last;
} seen;

static const uint16_t STORE_STATUS[] = {EAS_SEARCH_RESPONSE, EAS_SEARCH_STORE,
					EAS_SEARCH_STATUS};
static const uint16_t TOTAL[] = {EAS_SEARCH_RESPONSE, EAS_SEARCH_STORE,
				 EAS_SEARCH_TOTAL};
static const uint16_t RANGE[] = {EAS_SEARCH_RESPONSE, EAS_SEARCH_STORE,
				 EAS_SEARCH_RANGE};
static const uint16_t STATUS[] = {EAS_SEARCH_STATUS};

/* Words "complex": too complex; "broken": a store failure; folder "99":
 * unknown; "nothing": no match; else two hits of 42. */
static int
on_search(void *arg, struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__SearchRequest *q = (const Rpc__SearchRequest *)req->msg;
	Rpc__SearchReply r;
	Rpc__SearchResult res[2], *rp[2];
	Rpc__ItemData d[2];
	Rpc__Email m[2];
	Rpc__Body body;
	static const char *ids[2] = {"301", "302"};
	static const char *subjects[2] = {"Quarterly report", "Report draft"};

	(void)arg;
	pthread_mutex_lock(&seen_lock);
	(void)snprintf(seen.query, sizeof(seen.query), "%s", q->query);
	(void)snprintf(seen.collection, sizeof(seen.collection), "%s",
		       q->collection_id);
	seen.n_more = q->n_more_collection_ids;
	(void)snprintf(seen.more0, sizeof(seen.more0), "%s",
		       q->n_more_collection_ids > 0 ? q->more_collection_ids[0]
						    : "");
	seen.first = q->range_start;
	seen.last = q->range_end;
	seen.deep = q->deep_traversal;
	seen.gt = q->greater_than;
	seen.lt = q->less_than;
	seen.n_prefs = q->n_body_preferences;
	seen.pref_type =
	    q->n_body_preferences > 0 ? q->body_preferences[0]->type : 0;
	seen.pref_trunc = q->n_body_preferences > 0
			      ? q->body_preferences[0]->truncation_size
			      : 0;
	seen.mime_support = q->mime_support;
	pthread_mutex_unlock(&seen_lock);
	rpc__search_reply__init(&r);
	r.status = RPC__STATUS__STATUS_OK;
	if (strcmp(q->query, "complex") == 0) {
		r.status = RPC__STATUS__STATUS_INVALID;
		r.error = RPC__SEARCH_ERROR__SEARCH_ERROR_TOO_COMPLEX;
	} else if (strcmp(q->query, "broken") == 0) {
		r.status = RPC__STATUS__STATUS_STORAGE_ERROR;
	} else if (strcmp(q->collection_id, "99") == 0) {
		r.status = RPC__STATUS__STATUS_NOT_FOUND;
	} else if (strcmp(q->query, "nothing") != 0) {
		rpc__body__init(&body);
		body.type = 1;
		body.data.data = (uint8_t *)"the figures";
		body.data.len = 11;
		body.estimated_size = 11;
		for (int i = 0; i < 2; i++) {
			rpc__search_result__init(&res[i]);
			rpc__item_data__init(&d[i]);
			rpc__email__init(&m[i]);
			m[i].subject = (char *)(uintptr_t)subjects[i];
			m[i].from = "bob@example.org";
			m[i].importance = 1;
			m[i].date_received = 1767225600 + i;
			m[i].body = &body;
			d[i].email = &m[i];
			res[i].long_id = (char *)(uintptr_t)ids[i];
			res[i].collection_id = "2";
			res[i].item_class = "Email";
			res[i].data = &d[i];
			rp[i] = &res[i];
		}
		r.results = rp;
		r.n_results = 2;
		r.total = 42;
	}
	return fake_mailbox_reply(fm, req, &r.base);
}

static int
on_gal(void *arg, struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__GalSearchRequest *q =
	    (const Rpc__GalSearchRequest *)req->msg;
	Rpc__GalSearchReply r;
	Rpc__GalEntry e, *ep = &e;

	(void)arg;
	pthread_mutex_lock(&seen_lock);
	(void)snprintf(seen.gal_query, sizeof(seen.gal_query), "%s", q->query);
	seen.gal_first = q->range_start;
	seen.gal_last = q->range_end;
	pthread_mutex_unlock(&seen_lock);
	rpc__gal_search_reply__init(&r);
	rpc__gal_entry__init(&e);
	e.display_name = "bob";
	e.alias = "bob";
	e.email_address = "bob@example.org";
	/* The directory's answer to Options/Picture: no photo. */
	if (q->pictures)
		e.picture_status = 173;
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

/* A Mailbox search for words in folder (NULL: none), with an optional
 * Range and, with full, every option. */
static void
mailbox_doc(struct doc *d, const char *words, const char *folder,
	    const char *range, bool full)
{
	buf_init(&d->buf, 1u << 16);
	wbxml_enc_init_buf(&d->e, &d->buf);
	wbxml_enc_start(&d->e, EAS_SEARCH_SEARCH);
	wbxml_enc_start(&d->e, EAS_SEARCH_STORE);
	wbxml_enc_str(&d->e, EAS_SEARCH_NAME, "Mailbox");
	wbxml_enc_start(&d->e, EAS_SEARCH_QUERY);
	wbxml_enc_start(&d->e, EAS_SEARCH_AND);
	wbxml_enc_str(&d->e, EAS_AIRSYNC_CLASS, "Email");
	if (folder != NULL)
		wbxml_enc_str(&d->e, EAS_AIRSYNC_COLLECTION_ID, folder);
	if (full)
		wbxml_enc_str(&d->e, EAS_AIRSYNC_COLLECTION_ID, "12");
	wbxml_enc_str(&d->e, EAS_SEARCH_FREE_TEXT, words);
	if (full) {
		wbxml_enc_start(&d->e, EAS_SEARCH_GREATER_THAN);
		wbxml_enc_empty(&d->e, EAS_EMAIL_DATE_RECEIVED);
		wbxml_enc_str(&d->e, EAS_SEARCH_VALUE,
			      "2026-01-01T00:00:00.000Z");
		wbxml_enc_end(&d->e);
	}
	wbxml_enc_end(&d->e);
	wbxml_enc_end(&d->e);
	wbxml_enc_start(&d->e, EAS_SEARCH_OPTIONS);
	if (range != NULL)
		wbxml_enc_str(&d->e, EAS_SEARCH_RANGE, range);
	if (full) {
		wbxml_enc_empty(&d->e, EAS_SEARCH_DEEP_TRAVERSAL);
		wbxml_enc_empty(&d->e, EAS_SEARCH_REBUILD_RESULTS);
		wbxml_enc_start(&d->e, EAS_AIRSYNCBASE_BODY_PREFERENCE);
		wbxml_enc_uint(&d->e, EAS_AIRSYNCBASE_TYPE, 1);
		wbxml_enc_uint(&d->e, EAS_AIRSYNCBASE_TRUNCATION_SIZE, 5);
		wbxml_enc_end(&d->e);
		wbxml_enc_uint(&d->e, EAS_AIRSYNC_MIME_SUPPORT, 1);
	}
	wbxml_enc_end(&d->e);
	wbxml_enc_end(&d->e);
	wbxml_enc_end(&d->e);
	assert_int_equal(wbxml_enc_finish(&d->e), 0);
}

static void
post(struct doc *d, struct cas_reply *r)
{
	char q[256];

	cas_harness_query(q, sizeof(q), "Search", DEV);
	assert_int_equal(cas_harness_post(&h, q, VER, key, h.userpwd,
					  d->buf.data, d->buf.len, r),
			 0);
	buf_free(&d->buf);
	assert_int_equal(r->status, 200);
	assert_non_null(r->tree);
}

static void
test_mailbox(void **state)
{
	struct doc d;
	struct cas_reply r;
	const struct wbxml_node *store, *res, *props;
	const char *s;
	size_t n = 0;

	(void)state;
	mailbox_doc(&d, "report", "2", "10-19", true);
	post(&d, &r);
	assert_int_equal(cas_reply_uint(&r, STATUS, 1), 1);
	assert_int_equal(cas_reply_uint(&r, STORE_STATUS, 3), 1);
	assert_int_equal(cas_reply_uint(&r, TOTAL, 3), 42);
	assert_string_equal(cas_reply_str(&r, RANGE, 3), "10-11");
	store = wbxml_node_path(wbxml_tree_root(r.tree), STORE_STATUS, 2);
	WBXML_FOREACH(res, store, EAS_SEARCH_RESULT)
	{
		assert_int_equal(
		    wbxml_child_str(res, EAS_AIRSYNC_CLASS, 16, &s, NULL, NULL),
		    0);
		assert_string_equal(s, "Email");
		assert_int_equal(wbxml_child_str(res, EAS_SEARCH_LONG_ID, 64,
						 &s, NULL, NULL),
				 0);
		assert_string_equal(s, n == 0 ? "301" : "302");
		assert_int_equal(wbxml_child_str(res, EAS_AIRSYNC_COLLECTION_ID,
						 64, &s, NULL, NULL),
				 0);
		assert_string_equal(s, "2");
		props = wbxml_node_child(res, EAS_SEARCH_PROPERTIES);
		assert_non_null(props);
		assert_int_equal(wbxml_child_str(props, EAS_EMAIL_SUBJECT, 256,
						 &s, NULL, NULL),
				 0);
		assert_string_equal(s, n == 0 ? "Quarterly report"
					      : "Report draft");
		/* The body cut to the asked TruncationSize. */
		assert_non_null(wbxml_node_child(props, EAS_AIRSYNCBASE_BODY));
		n++;
	}
	assert_int_equal(n, 2);
	cas_reply_free(&r);
	pthread_mutex_lock(&seen_lock);
	assert_string_equal(seen.query, "report");
	assert_string_equal(seen.collection, "2");
	assert_int_equal(seen.n_more, 1);
	assert_string_equal(seen.more0, "12");
	assert_int_equal(seen.first, 10);
	assert_int_equal(seen.last, 19);
	assert_true(seen.deep);
	assert_int_equal(seen.gt, 1767225600);
	assert_int_equal(seen.lt, 0);
	assert_int_equal(seen.n_prefs, 1);
	assert_int_equal(seen.pref_type, 1);
	assert_int_equal(seen.pref_trunc, 5);
	assert_int_equal(seen.mime_support, 1);
	pthread_mutex_unlock(&seen_lock);
	/* Without a Range: Exchange's default 0-99, every folder. */
	mailbox_doc(&d, "report", NULL, NULL, false);
	post(&d, &r);
	assert_string_equal(cas_reply_str(&r, RANGE, 3), "0-1");
	cas_reply_free(&r);
	pthread_mutex_lock(&seen_lock);
	assert_string_equal(seen.collection, "");
	assert_int_equal(seen.first, 0);
	assert_int_equal(seen.last, 99);
	assert_false(seen.deep);
	pthread_mutex_unlock(&seen_lock);
}

static void
test_no_match(void **state)
{
	struct doc d;
	struct cas_reply r;
	const struct wbxml_node *store, *res;

	(void)state;
	mailbox_doc(&d, "nothing", "2", NULL, false);
	post(&d, &r);
	assert_int_equal(cas_reply_uint(&r, STORE_STATUS, 3), 1);
	assert_int_equal(cas_reply_uint(&r, TOTAL, 3), 0);
	assert_null(cas_reply_str(&r, RANGE, 3));
	store = wbxml_node_path(wbxml_tree_root(r.tree), STORE_STATUS, 2);
	res = wbxml_node_child(store, EAS_SEARCH_RESULT);
	assert_non_null(res);
	assert_true(wbxml_node_is_empty(res));
	assert_null(wbxml_node_next_same(res));
	cas_reply_free(&r);
}

static void
test_store_statuses(void **state)
{
	static const struct {
		const char *words, *folder, *range;
		long status;
	} cases[] = {
	    {"complex", "2", NULL, 8},       {"report", "99", NULL, 11},
	    {"broken", "2", NULL, 3},        {"report", "2", "0-100", 12},
	    {"report", "2", "995-1000", 12},
	};
	struct doc d;
	struct cas_reply r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mailbox_doc(&d, cases[i].words, cases[i].folder, cases[i].range,
			    false);
		post(&d, &r);
		assert_int_equal(cas_reply_uint(&r, STATUS, 1), 1);
		if (cas_reply_uint(&r, STORE_STATUS, 3) != cases[i].status)
			fail_msg("case %zu: store status %ld, want %ld", i,
				 cas_reply_uint(&r, STORE_STATUS, 3),
				 cases[i].status);
		assert_null(cas_reply_str(&r, TOTAL, 3));
		cas_reply_free(&r);
	}
}

static void
test_protocol_errors(void **state)
{
	static const uint8_t junk[] = {0x03, 0x01, 0x6a, 0x00, 0x45};
	struct doc d;
	struct cas_reply r;
	char q[256];

	(void)state;
	cas_harness_query(q, sizeof(q), "Search", DEV);
	assert_int_equal(cas_harness_post(&h, q, VER, key, h.userpwd, junk,
					  sizeof(junk), &r),
			 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(cas_reply_uint(&r, STATUS, 1), 2);
	cas_reply_free(&r);
	/* DocumentLibrary: not served, Store Status 5. */
	buf_init(&d.buf, 4096);
	wbxml_enc_init_buf(&d.e, &d.buf);
	wbxml_enc_start(&d.e, EAS_SEARCH_SEARCH);
	wbxml_enc_start(&d.e, EAS_SEARCH_STORE);
	wbxml_enc_str(&d.e, EAS_SEARCH_NAME, "DocumentLibrary");
	wbxml_enc_start(&d.e, EAS_SEARCH_QUERY);
	wbxml_enc_start(&d.e, EAS_SEARCH_EQUAL_TO);
	wbxml_enc_str(&d.e, EAS_SEARCH_VALUE, "\\\\srv\\share");
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	assert_int_equal(wbxml_enc_finish(&d.e), 0);
	post(&d, &r);
	assert_int_equal(cas_reply_uint(&r, STATUS, 1), 1);
	assert_int_equal(cas_reply_uint(&r, STORE_STATUS, 3), 5);
	cas_reply_free(&r);
}

static void
test_gal(void **state)
{
	static const uint16_t NAME[] = {
	    EAS_SEARCH_RESPONSE, EAS_SEARCH_STORE, EAS_SEARCH_RESULT,
	    EAS_SEARCH_PROPERTIES, EAS_GAL_DISPLAY_NAME};
	static const uint16_t ADDR[] = {
	    EAS_SEARCH_RESPONSE, EAS_SEARCH_STORE, EAS_SEARCH_RESULT,
	    EAS_SEARCH_PROPERTIES, EAS_GAL_EMAIL_ADDRESS};
	struct doc d;
	struct cas_reply r;

	(void)state;
	buf_init(&d.buf, 4096);
	wbxml_enc_init_buf(&d.e, &d.buf);
	wbxml_enc_start(&d.e, EAS_SEARCH_SEARCH);
	wbxml_enc_start(&d.e, EAS_SEARCH_STORE);
	wbxml_enc_str(&d.e, EAS_SEARCH_NAME, "GAL");
	wbxml_enc_str(&d.e, EAS_SEARCH_QUERY, "bo");
	wbxml_enc_start(&d.e, EAS_SEARCH_OPTIONS);
	wbxml_enc_str(&d.e, EAS_SEARCH_RANGE, "0-9");
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	wbxml_enc_end(&d.e);
	assert_int_equal(wbxml_enc_finish(&d.e), 0);
	post(&d, &r);
	assert_int_equal(cas_reply_uint(&r, STORE_STATUS, 3), 1);
	assert_string_equal(cas_reply_str(&r, NAME, 5), "bob");
	assert_string_equal(cas_reply_str(&r, ADDR, 5), "bob@example.org");
	assert_string_equal(cas_reply_str(&r, RANGE, 3), "0-0");
	assert_int_equal(cas_reply_uint(&r, TOTAL, 3), 1);
	cas_reply_free(&r);
	pthread_mutex_lock(&seen_lock);
	assert_string_equal(seen.gal_query, "bo");
	assert_int_equal(seen.gal_first, 0);
	assert_int_equal(seen.gal_last, 9);
	pthread_mutex_unlock(&seen_lock);
}

/* Options/Picture reaches the mailbox, and gal:Picture its answer, at
 * 14.1; not at 14.0, which has no such element (MS-ASCMD 2.2.3.135.3). */
static void
test_gal_picture(void **state)
{
	static const uint16_t PIC_STATUS[] = {
	    EAS_SEARCH_RESPONSE,   EAS_SEARCH_STORE, EAS_SEARCH_RESULT,
	    EAS_SEARCH_PROPERTIES, EAS_GAL_PICTURE,  EAS_GAL_STATUS};
	static const char *const versions[] = {"14.1", "14.0"};
	struct doc d;
	struct cas_reply r;
	char q[256];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		buf_init(&d.buf, 4096);
		wbxml_enc_init_buf(&d.e, &d.buf);
		wbxml_enc_start(&d.e, EAS_SEARCH_SEARCH);
		wbxml_enc_start(&d.e, EAS_SEARCH_STORE);
		wbxml_enc_str(&d.e, EAS_SEARCH_NAME, "GAL");
		wbxml_enc_str(&d.e, EAS_SEARCH_QUERY, "bo");
		wbxml_enc_start(&d.e, EAS_SEARCH_OPTIONS);
		wbxml_enc_start(&d.e, EAS_SEARCH_PICTURE);
		wbxml_enc_uint(&d.e, EAS_SEARCH_MAX_PICTURES, 10);
		wbxml_enc_end(&d.e);
		wbxml_enc_end(&d.e);
		wbxml_enc_end(&d.e);
		wbxml_enc_end(&d.e);
		assert_int_equal(wbxml_enc_finish(&d.e), 0);
		cas_harness_query(q, sizeof(q), "Search", DEV);
		assert_int_equal(cas_harness_post(&h, q, versions[i], key,
						  h.userpwd, d.buf.data,
						  d.buf.len, &r),
				 0);
		buf_free(&d.buf);
		assert_int_equal(r.status, 200);
		assert_int_equal(cas_reply_uint(&r, STORE_STATUS, 3), 1);
		if (i == 0)
			assert_int_equal(cas_reply_uint(&r, PIC_STATUS, 6),
					 173);
		else
			assert_null(wbxml_node_path(wbxml_tree_root(r.tree),
						    PIC_STATUS, 5));
		cas_reply_free(&r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mailbox),
	    cmocka_unit_test(test_no_match),
	    cmocka_unit_test(test_store_statuses),
	    cmocka_unit_test(test_protocol_errors),
	    cmocka_unit_test(test_gal),
	    cmocka_unit_test(test_gal_picture),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
