/* Unit tests for mailbox search (mailbox/search.h, store_search.c): the
 * FTS5 index kept in step with item add, change, move and delete (and
 * folder delete), prefix and phrase matches over subject, sender,
 * recipients and body (HTML stripped), user input with FTS5 syntax taken
 * as text, the folder / DeepTraversal / date filters, Range paging with
 * the total, the request bounds, per-user isolation, and the migration
 * that indexes a database created before the index existed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailbox/folders.h"
#include "mailbox/items.h"
#include "mailbox/search.h"
#include "mailbox/store.h"
#include "mailbox/store_int.h"
#include "proto/limits.h"

struct fixture {
	char dir[64];
	struct store *st;
	int64_t inbox;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct store_error err;

	if (fx == NULL)
		return -1;
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/easd-search-XXXXXX");
	if (mkdtemp(fx->dir) == NULL ||
	    store_open(fx->dir, 1, &fx->st, &err) < 0 ||
	    store_folder_by_type(fx->st, FOLDER_TYPE_INBOX, &fx->inbox) < 0) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	store_close(&fx->st);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

struct mail {
	const char *subject, *from, *to, *cc, *text, *html;
	int64_t date;
};

static void
props_of(const struct mail *m, struct item_props *p)
{
	item_props_init(p);
	p->subject = m->subject != NULL ? strdup(m->subject) : NULL;
	p->from = m->from != NULL ? strdup(m->from) : NULL;
	p->to = m->to != NULL ? strdup(m->to) : NULL;
	p->cc = m->cc != NULL ? strdup(m->cc) : NULL;
	p->body_text = m->text != NULL ? strdup(m->text) : NULL;
	p->body_html = m->html != NULL ? strdup(m->html) : NULL;
	p->date = m->date;
}

static int64_t
add_mail(struct store *st, int64_t folder, const struct mail *m)
{
	static const char mime[] = "Subject: x\r\n\r\nx\r\n";
	struct item_props p;
	struct item_new n;
	int64_t id = 0;

	props_of(m, &p);
	memset(&n, 0, sizeof(n));
	n.cls = ITEM_CLASS_EMAIL;
	n.date = m->date;
	n.props = &p;
	n.mime = (const uint8_t *)mime;
	n.mime_len = sizeof(mime) - 1;
	assert_int_equal(store_item_add(st, folder, &n, &id, NULL), 0);
	item_props_clear(&p);
	return id;
}

static int64_t
add_word_mail(struct store *st, int64_t folder, const char *subject,
	      int64_t date)
{
	struct mail m = {.subject = subject, .date = date};

	return add_mail(st, folder, &m);
}

/* Runs a search over every folder, range 0-99; returns the hit count
 * and leaves the result in *r (cleared first). */
static size_t
search_all(struct store *st, const char *text, struct search_result *r)
{
	struct search_query q = {.text = text, .range_end = 99};
	enum search_status status = SEARCH_STORE_ERROR;

	search_result_clear(r);
	assert_int_equal(store_search(st, &q, r, &status), 0);
	assert_int_equal(status, SEARCH_OK);
	assert_int_equal(r->total, r->count);
	return r->count;
}

static size_t
count_all(struct store *st, const char *text)
{
	struct search_result r = {0};
	size_t n = search_all(st, text, &r);

	search_result_clear(&r);
	return n;
}

static const struct mail budget = {
    .subject = "Quarterly budget review",
    .from = "\"Alice Smith\" <alice@example.org>",
    .to = "Bob Jones <bob@example.com>",
    .cc = "carol@example.net",
    .text = "Please find the spreadsheet attached before Thursday.",
    .date = 1700000000,
};

static void
test_fields_indexed(void **state)
{
	struct fixture *fx = *state;
	struct search_result r = {0};
	int64_t id = add_mail(fx->st, fx->inbox, &budget);

	assert_int_equal(search_all(fx->st, "budget", &r), 1);
	assert_int_equal(r.hits[0].item_id, id);
	assert_int_equal(r.hits[0].folder_id, fx->inbox);
	search_result_clear(&r);
	/* Sender display name and address, recipients To and Cc, body. */
	assert_int_equal(count_all(fx->st, "Alice"), 1);
	assert_int_equal(count_all(fx->st, "alice@example.org"), 1);
	assert_int_equal(count_all(fx->st, "jones"), 1);
	assert_int_equal(count_all(fx->st, "carol"), 1);
	assert_int_equal(count_all(fx->st, "spreadsheet"), 1);
	/* Case-insensitive; every word must match (AND). */
	assert_int_equal(count_all(fx->st, "QUARTERLY Thursday"), 1);
	assert_int_equal(count_all(fx->st, "quarterly friday"), 0);
	assert_int_equal(count_all(fx->st, "dave"), 0);
}

/* Oversized fields are indexed in part and never fail the add: a body
 * past its first 256 KB, a client's 300 KB subject. */
static void
test_index_bounds(void **state)
{
	struct fixture *fx = *state;
	size_t body_len = 300 * 1024;
	char *big = malloc(body_len + 1);
	struct mail m = {.date = 3};

	assert_non_null(big);
	memset(big, 'x', body_len);
	memcpy(big, "openingword ", 12);
	memcpy(big + body_len - 12, " closingword", 12);
	big[body_len] = '\0';
	m.text = big;
	m.subject = big;
	add_mail(fx->st, fx->inbox, &m);
	free(big);
	assert_int_equal(count_all(fx->st, "openingword"), 1);
	assert_int_equal(count_all(fx->st, "closingword"), 0);
}

static void
test_prefix_and_phrase(void **state)
{
	struct fixture *fx = *state;
	struct mail accented = {.subject = "Résumé of the Café meeting",
				.date = 1700000100};

	add_mail(fx->st, fx->inbox, &budget);
	add_mail(fx->st, fx->inbox, &accented);
	/* Each word is a prefix. */
	assert_int_equal(count_all(fx->st, "budg"), 1);
	assert_int_equal(count_all(fx->st, "qu bu"), 1);
	assert_int_equal(count_all(fx->st, "spreadsheets"), 0);
	/* Quotes make an exact phrase, in order, without prefix. */
	assert_int_equal(count_all(fx->st, "\"budget review\""), 1);
	assert_int_equal(count_all(fx->st, "\"review budget\""), 0);
	assert_int_equal(count_all(fx->st, "\"budg review\""), 0);
	assert_int_equal(count_all(fx->st, "quarterly \"budget review\""), 1);
	/* An open quote runs to the end. */
	assert_int_equal(count_all(fx->st, "\"budget review"), 1);
	/* Diacritics fold both ways. */
	assert_int_equal(count_all(fx->st, "resume cafe"), 1);
	assert_int_equal(count_all(fx->st, "RÉSUMÉ"), 1);
}

static void
test_index_follows_items(void **state)
{
	struct fixture *fx = *state;
	struct search_result r = {0};
	struct search_query q = {.text = "budget", .range_end = 9};
	enum search_status status;
	struct item_props p;
	struct item_change ch;
	struct mail renamed = budget;
	int64_t id, other, archive, sub;

	id = add_mail(fx->st, fx->inbox, &budget);
	assert_int_equal(store_folder_create(fx->st, 0, "Archive",
					     FOLDER_TYPE_USER_MAIL, &archive),
			 0);

	/* Move: found in the new folder, not in the old one. */
	assert_int_equal(store_item_move(fx->st, id, archive, NULL), 0);
	assert_int_equal(search_all(fx->st, "budget", &r), 1);
	assert_int_equal(r.hits[0].folder_id, archive);
	q.folder_id = fx->inbox;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 0);
	assert_int_equal(r.total, 0);

	/* A flag change keeps the entry; a property change replaces it. */
	memset(&ch, 0, sizeof(ch));
	ch.mask = ITEM_CHANGE_READ;
	ch.flags.read = true;
	assert_int_equal(store_item_change(fx->st, id, &ch, NULL), 0);
	assert_int_equal(count_all(fx->st, "budget"), 1);
	renamed.subject = "Annual forecast";
	props_of(&renamed, &p);
	ch.mask = ITEM_CHANGE_PROPS;
	ch.props = &p;
	assert_int_equal(store_item_change(fx->st, id, &ch, NULL), 0);
	item_props_clear(&p);
	assert_int_equal(count_all(fx->st, "budget"), 0);
	assert_int_equal(search_all(fx->st, "forecast", &r), 1);
	assert_int_equal(r.hits[0].item_id, id);

	/* Delete. */
	other = add_word_mail(fx->st, fx->inbox, "forecast draft", 1);
	assert_int_equal(store_item_delete(fx->st, id), 0);
	assert_int_equal(search_all(fx->st, "forecast", &r), 1);
	assert_int_equal(r.hits[0].item_id, other);

	/* Deleting a folder drops its subtree's items from the index. */
	assert_int_equal(store_folder_create(fx->st, archive, "Sub",
					     FOLDER_TYPE_USER_MAIL, &sub),
			 0);
	add_word_mail(fx->st, sub, "forecast nested", 2);
	assert_int_equal(count_all(fx->st, "forecast"), 2);
	assert_int_equal(store_folder_delete(fx->st, archive), 0);
	assert_int_equal(search_all(fx->st, "forecast", &r), 1);
	assert_int_equal(r.hits[0].item_id, other);
	search_result_clear(&r);
	assert_int_equal(store_check(fx->st), 0);
}

static void
test_other_classes_not_indexed(void **state)
{
	struct fixture *fx = *state;
	struct item_props p;
	struct item_new n;
	int64_t contacts, id;
	struct search_query q = {.text = "budget", .range_end = 9};
	struct search_result r = {0};
	enum search_status status;

	assert_int_equal(
	    store_folder_by_type(fx->st, FOLDER_TYPE_CONTACTS, &contacts), 0);
	item_props_init(&p);
	p.subject = strdup("budget contact");
	memset(&n, 0, sizeof(n));
	n.cls = ITEM_CLASS_CONTACTS;
	n.props = &p;
	assert_int_equal(store_item_add(fx->st, contacts, &n, &id, NULL), 0);
	item_props_clear(&p);
	assert_int_equal(count_all(fx->st, "budget"), 0);
	assert_int_equal(store_item_delete(fx->st, id), 0);

	/* A non-mail folder or class is refused, not silently empty. */
	q.folder_id = contacts;
	assert_int_equal(store_search(fx->st, &q, &r, &status), -1);
	assert_int_equal(status, SEARCH_NOT_FOUND);
	q.folder_id = 0;
	q.cls = ITEM_CLASS_CALENDAR;
	assert_int_equal(store_search(fx->st, &q, &r, &status), -1);
	assert_int_equal(status, SEARCH_BAD_REQUEST);
	assert_null(r.hits);
}

static void
test_hostile_queries(void **state)
{
	struct fixture *fx = *state;
	static const char *const hostile[] = {"\"",
					      "*",
					      "\"\"",
					      "(",
					      ")",
					      "budget)",
					      "(budget",
					      "budget*",
					      "budget\"",
					      "^budget",
					      "-budget",
					      "budget +",
					      "{subject}:",
					      "subject:",
					      "NOT",
					      "AND OR",
					      "NEAR(",
					      "budget NEAR/2",
					      "\"\"budget\"",
					      "a\"b\"c\"",
					      "'; DROP TABLE items; --",
					      "\\\"budget",
					      "budget\x01x",
					      "\xff\xfe budget",
					      "\xc3 bud",
					      "\xed\xa0\x80"};
	struct mail ops = {.subject = "Meet NEAR the AND gate", .date = 2};

	add_mail(fx->st, fx->inbox, &budget);
	add_mail(fx->st, fx->inbox, &ops);
	/* None of these is an error or reaches FTS5 as syntax. */
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		(void)count_all(fx->st, hostile[i]);
	/* Operators are words: as syntax these would match "budget". */
	assert_int_equal(count_all(fx->st, "budget OR zebra"), 0);
	assert_int_equal(count_all(fx->st, "NEAR(budget review)"), 0);
	assert_int_equal(count_all(fx->st, "subject:budget"), 0);
	assert_int_equal(count_all(fx->st, "budget NOT review"), 0);
	/* ... and are found as words. */
	assert_int_equal(count_all(fx->st, "NEAR AND"), 1);
	assert_int_equal(count_all(fx->st, "\"near the and\""), 1);
	/* Punctuation around a word is no obstacle. */
	assert_int_equal(count_all(fx->st, "(budget)"), 1);
	assert_int_equal(count_all(fx->st, "budget*"), 1);
	assert_int_equal(count_all(fx->st, "-budget,"), 1);
	assert_int_equal(count_all(fx->st, "\xff budget \xfe"), 1);
	/* Only punctuation: valid, nothing matches. */
	assert_int_equal(count_all(fx->st, "*** (( \"\" ))"), 0);
	assert_int_equal(store_check(fx->st), 0);
}

static void
test_compile(void **state)
{
	static const struct {
		const char *in, *out;
		size_t terms;
	} cases[] = {
	    {"foo", "\"foo\"*", 1},
	    {"  foo   bar ", "\"foo\"* \"bar\"*", 2},
	    {"foo \"bar baz\"", "\"foo\"* \"bar baz\"", 3},
	    {"a\"b", "\"a\"* \"b\"", 2},
	    {"x.y", "\"x.y\"*", 2},
	    {"NEAR(a", "\"NEAR(a\"*", 2},
	    {"*", "", 0},
	    {"\"", "", 0},
	    {"\"say \"\"hi\"", "\"say \" \"hi\"", 2},
	    {"caf\xc3\xa9", "\"caf\xc3\xa9\"*", 1},
	    {"a\xffz", "\"a z\"*", 2},
	};
	enum search_status status;
	struct buf out;
	size_t terms;
	char many[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&out, 4096);
		assert_int_equal(search_query_compile(cases[i].in,
						      strlen(cases[i].in), &out,
						      &terms, &status),
				 0);
		assert_string_equal(buf_str(&out), cases[i].out);
		assert_int_equal(terms, cases[i].terms);
		buf_free(&out);
	}
	/* A NUL byte in the middle separates words, never ends the read. */
	buf_init(&out, 4096);
	assert_int_equal(
	    search_query_compile("ab\0cd", 5, &out, &terms, &status), 0);
	assert_string_equal(buf_str(&out), "\"ab\"* \"cd\"*");
	buf_free(&out);

	/* Bounds: words and bytes. */
	for (int i = 0; i < SEARCH_MAX_TERMS; i++)
		(void)snprintf(many + 2 * i, sizeof(many) - 2 * (size_t)i,
			       "w ");
	buf_init(&out, 4096);
	assert_int_equal(
	    search_query_compile(many, strlen(many), &out, &terms, &status), 0);
	assert_int_equal(terms, SEARCH_MAX_TERMS);
	buf_reset(&out);
	(void)snprintf(many + 2 * SEARCH_MAX_TERMS,
		       sizeof(many) - 2 * SEARCH_MAX_TERMS, "w");
	assert_int_equal(
	    search_query_compile(many, strlen(many), &out, &terms, &status),
	    -1);
	assert_int_equal(status, SEARCH_TOO_COMPLEX);
	buf_reset(&out);
	assert_int_equal(search_query_compile("\"a b c d e f g h i j k l m n o"
					      " p q\"",
					      35, &out, &terms, &status),
			 -1);
	assert_int_equal(status, SEARCH_TOO_COMPLEX);
	buf_reset(&out);
	assert_int_equal(
	    search_query_compile(" \t\r\n", 4, &out, &terms, &status), -1);
	assert_int_equal(status, SEARCH_BAD_REQUEST);
	buf_free(&out);
}

static void
test_request_bounds(void **state)
{
	struct fixture *fx = *state;
	struct search_query q = {.text = "budget", .range_end = 9};
	struct search_result r = {0};
	enum search_status status;
	char *long_text = malloc(SEARCH_MAX_QUERY_BYTES + 2);

	assert_non_null(long_text);
	add_mail(fx->st, fx->inbox, &budget);
	memset(long_text, 'a', SEARCH_MAX_QUERY_BYTES + 1);
	long_text[SEARCH_MAX_QUERY_BYTES + 1] = '\0';
	q.text = long_text;
	assert_int_equal(store_search(fx->st, &q, &r, &status), -1);
	assert_int_equal(status, SEARCH_TOO_COMPLEX);
	long_text[SEARCH_MAX_QUERY_BYTES] = '\0';
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(status, SEARCH_OK);
	free(long_text);

	q.text = "budget";
	q.range_start = 5;
	q.range_end = 4;
	assert_int_equal(store_search(fx->st, &q, &r, &status), -1);
	assert_int_equal(status, SEARCH_BAD_REQUEST);
	q.range_start = 0;
	q.range_end = SEARCH_MAX_RANGE_INDEX + 1;
	assert_int_equal(store_search(fx->st, &q, &r, &status), -1);
	assert_int_equal(status, SEARCH_RANGE);
	q.range_end = SEARCH_MAX_RANGE_INDEX;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 1);
	search_result_clear(&r);
	q.text = "   ";
	assert_int_equal(store_search(fx->st, &q, &r, &status), -1);
	assert_int_equal(status, SEARCH_BAD_REQUEST);
	q.text = NULL;
	assert_int_equal(store_search(fx->st, &q, &r, &status), -1);
	assert_int_equal(status, SEARCH_BAD_REQUEST);
	q.text = "budget";
	q.folder_id = 999999;
	assert_int_equal(store_search(fx->st, &q, &r, &status), -1);
	assert_int_equal(status, SEARCH_NOT_FOUND);
	assert_int_equal(store_last_error(fx->st)->status, STORE_NOT_FOUND);
	q.folder_id = -3;
	assert_int_equal(store_search(fx->st, &q, &r, &status), -1);
	assert_int_equal(status, SEARCH_NOT_FOUND);
	assert_string_equal(search_status_name(SEARCH_TOO_COMPLEX),
			    "query too complex");
}

static void
test_folders_and_dates(void **state)
{
	struct fixture *fx = *state;
	struct search_query q = {.text = "report", .range_end = 99};
	struct search_result r = {0};
	enum search_status status;
	int64_t parent, child, grandchild, in_inbox, in_parent, in_child,
	    in_grand;

	assert_int_equal(store_folder_create(fx->st, 0, "Projects",
					     FOLDER_TYPE_USER_MAIL, &parent),
			 0);
	assert_int_equal(store_folder_create(fx->st, parent, "Alpha",
					     FOLDER_TYPE_USER_MAIL, &child),
			 0);
	assert_int_equal(store_folder_create(fx->st, child, "Old",
					     FOLDER_TYPE_USER_MAIL,
					     &grandchild),
			 0);
	in_inbox = add_word_mail(fx->st, fx->inbox, "report one", 1000);
	in_parent = add_word_mail(fx->st, parent, "report two", 2000);
	in_child = add_word_mail(fx->st, child, "report three", 3000);
	in_grand = add_word_mail(fx->st, grandchild, "report four", 4000);

	/* All folders, newest first. */
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 4);
	assert_int_equal(r.hits[0].item_id, in_grand);
	assert_int_equal(r.hits[0].folder_id, grandchild);
	assert_int_equal(r.hits[3].item_id, in_inbox);

	/* One folder, then its subtree (DeepTraversal). */
	q.folder_id = parent;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.hits[0].item_id, in_parent);
	q.deep_traversal = true;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 3);
	assert_int_equal(r.total, 3);
	assert_int_equal(r.hits[0].item_id, in_grand);
	assert_int_equal(r.hits[1].item_id, in_child);
	assert_int_equal(r.hits[2].item_id, in_parent);
	q.folder_id = child;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 2);

	/* Dates: exclusive bounds on DateReceived. */
	q.folder_id = 0;
	q.deep_traversal = false;
	q.greater_than = 1000;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 3);
	q.less_than = 4000;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 2);
	assert_int_equal(r.hits[0].item_id, in_child);
	assert_int_equal(r.hits[1].item_id, in_parent);
	q.greater_than = 0;
	q.less_than = 2000;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.hits[0].item_id, in_inbox);
	q.greater_than = 3000;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 0);
	assert_int_equal(r.total, 0);
	/* Bounds that nothing can meet, and dates before 1970. */
	q.greater_than = 0;
	q.less_than = -5;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.total, 0);
	q.less_than = 0;
	q.greater_than = INT64_MAX;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.total, 0);
	q.greater_than = -100;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.total, 4);

	/* A new date moves the item in the order (and the date bounds). */
	{
		struct item_change ch;

		memset(&ch, 0, sizeof(ch));
		ch.mask = ITEM_CHANGE_DATE;
		ch.date = 9000;
		assert_int_equal(store_item_change(fx->st, in_inbox, &ch, NULL),
				 0);
	}
	q.greater_than = 0;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 4);
	assert_int_equal(r.hits[0].item_id, in_inbox);
	assert_int_equal(r.hits[0].folder_id, fx->inbox);
	q.greater_than = 4000;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.hits[0].item_id, in_inbox);
	search_result_clear(&r);
}

/* Past SEARCH_MAX_SCOPE_FOLDERS folders in a DeepTraversal scope the
 * search is too complex; at the bound it runs. */
static void
test_scope_bound(void **state)
{
	struct fixture *fx = *state;
	struct search_query q = {
	    .text = "deep", .range_end = 9, .deep_traversal = true};
	struct search_result r = {0};
	enum search_status status;
	int64_t root, id, last = 0;
	char name[32];

	assert_int_equal(store_folder_create(fx->st, 0, "Root",
					     FOLDER_TYPE_USER_MAIL, &root),
			 0);
	assert_int_equal(store_tx_begin(fx->st), 0);
	for (int i = 1; i < SEARCH_MAX_SCOPE_FOLDERS; i++) {
		(void)snprintf(name, sizeof(name), "F%d", i);
		assert_int_equal(store_folder_create(fx->st, root, name,
						     FOLDER_TYPE_USER_MAIL,
						     &last),
				 0);
	}
	assert_int_equal(store_tx_commit(fx->st), 0);
	add_word_mail(fx->st, last, "deep one", 10);
	q.folder_id = root;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.hits[0].folder_id, last);
	assert_int_equal(store_folder_create(fx->st, root, "One too many",
					     FOLDER_TYPE_USER_MAIL, &id),
			 0);
	assert_int_equal(store_search(fx->st, &q, &r, &status), -1);
	assert_int_equal(status, SEARCH_TOO_COMPLEX);
	/* The subfolder alone is still searchable. */
	q.folder_id = last;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 1);
	search_result_clear(&r);
}

static void
test_paging(void **state)
{
	struct fixture *fx = *state;
	struct search_query q = {.text = "invoice", .range_end = 9};
	struct search_result r = {0};
	enum search_status status;
	int64_t ids[25];

	/* 25 matches with distinct dates and 5 that do not match. */
	for (int i = 0; i < 25; i++)
		ids[i] = add_word_mail(fx->st, fx->inbox, "invoice", 100 + i);
	for (int i = 0; i < 5; i++)
		add_word_mail(fx->st, fx->inbox, "receipt", 200 + i);

	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 10);
	assert_int_equal(r.total, 25);
	for (int i = 0; i < 10; i++)
		assert_int_equal(r.hits[i].item_id, ids[24 - i]);
	q.range_start = 20;
	q.range_end = 29;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 5);
	assert_int_equal(r.total, 25);
	assert_int_equal(r.hits[4].item_id, ids[0]);
	/* Past the end: no hits, still the total. */
	q.range_start = 30;
	q.range_end = 39;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 0);
	assert_int_equal(r.total, 25);
	q.range_start = 7;
	q.range_end = 7;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.hits[0].item_id, ids[17]);
	search_result_clear(&r);
}

static void
test_html_body(void **state)
{
	struct fixture *fx = *state;
	struct mail m = {.subject = "newsletter",
			 .html =
			     "<html><head><style>.hidden{color:red}</style>"
			     "<script>var secretword = 1;</script></head><body>"
			     "<p>Big <b>S</b>ale today</p><!-- commentword -->"
			     "<div>caf&#233; &amp; cr&egrave;me</div>x &lt; y"
			     "<br>tomorrow</body></html>",
			 .date = 5};
	const char *html;
	struct buf out;

	(void)state;
	add_mail(fx->st, fx->inbox, &m);
	assert_int_equal(count_all(fx->st, "sale"), 1);
	assert_int_equal(count_all(fx->st, "cafe"), 1);
	assert_int_equal(count_all(fx->st, "tomorrow"), 1);
	assert_int_equal(count_all(fx->st, "secretword"), 0);
	assert_int_equal(count_all(fx->st, "hidden"), 0);
	assert_int_equal(count_all(fx->st, "commentword"), 0);

	buf_init(&out, 1024);
	html = "<p>a</p><p>b&#x41;&#0;&#xD800;&bogus;</p>1 < 2 <i>x</i>y"
	       "<unclosed";
	assert_int_equal(search_html_text(html, strlen(html), 100, &out), 0);
	assert_string_equal(buf_str(&out), "a bA&#0;&#xD800;&bogus; 1 < 2 xy ");
	buf_reset(&out);
	/* The bound holds and never splits a character. */
	assert_int_equal(
	    search_html_text("\xc3\xa9\xc3\xa9\xc3\xa9", 6, 3, &out), 0);
	assert_string_equal(buf_str(&out), "\xc3\xa9");
	buf_free(&out);
}

static void
test_isolation(void **state)
{
	struct fixture *fx = *state;
	struct store *other = NULL;
	struct store_error err;
	struct search_result r = {0};
	struct search_query q = {.text = "budget", .range_end = 9};
	enum search_status status;
	int64_t other_inbox, archive;

	assert_int_equal(store_open(fx->dir, 2, &other, &err), 0);
	assert_int_equal(
	    store_folder_by_type(other, FOLDER_TYPE_INBOX, &other_inbox), 0);
	add_mail(other, other_inbox, &budget);
	assert_int_equal(store_folder_create(other, 0, "Private",
					     FOLDER_TYPE_USER_MAIL, &archive),
			 0);
	assert_int_equal(count_all(other, "budget"), 1);
	assert_int_equal(count_all(fx->st, "budget"), 0);
	/* User 2's folder id means nothing in user 1's store. */
	q.folder_id = archive;
	assert_int_equal(store_search(fx->st, &q, &r, &status), -1);
	assert_int_equal(status, SEARCH_NOT_FOUND);
	store_close(&other);
}

/* A database at schema v1 (before the index), with mail in it, gets its
 * mail indexed by the migration at the next open. */
static void
test_migration_indexes_old_mail(void **state)
{
	struct fixture *fx = *state;
	struct store *st = NULL;
	struct store_error err;
	struct item_props p;
	struct search_result r = {0};
	struct buf blob;
	char path[256], side[300];
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	int version = 0;

	/* Create user 5's directories, then replace the file by a v1
	 * database written with the v1 schema alone. */
	assert_int_equal(store_open(fx->dir, 5, &st, &err), 0);
	store_close(&st);
	assert_int_equal(store_user_path(fx->dir, 5, path, sizeof(path)), 0);
	assert_int_equal(unlink(path), 0);
	(void)snprintf(side, sizeof(side), "%s-wal", path);
	(void)unlink(side);
	(void)snprintf(side, sizeof(side), "%s-shm", path);
	(void)unlink(side);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, schema_user_migrations[0], NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "PRAGMA user_version = 1", NULL, NULL, NULL),
	    SQLITE_OK);
	props_of(&budget, &p);
	buf_init(&blob, STORE_MAX_PROPS_BYTES);
	assert_int_equal(item_props_serialize(&p, &blob), 0);
	item_props_clear(&p);
	assert_int_equal(
	    sqlite3_prepare_v2(db,
			       "INSERT INTO items(folder_id, class, modseq,"
			       " date, props) VALUES(1, ?, 1, 5, ?)",
			       -1, &stmt, NULL),
	    SQLITE_OK);
	/* One mail and one contact with the same words. */
	for (size_t i = 0; i < 2; i++) {
		sqlite3_bind_int(
		    stmt, 1, i == 0 ? ITEM_CLASS_EMAIL : ITEM_CLASS_CONTACTS);
		sqlite3_bind_blob(stmt, 2, blob.data, (int)blob.len,
				  SQLITE_STATIC);
		assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
		sqlite3_reset(stmt);
	}
	/* And a mail whose blob is damaged: skipped, not fatal (G8). */
	sqlite3_bind_int(stmt, 1, ITEM_CLASS_EMAIL);
	sqlite3_bind_blob(stmt, 2, "\x7f\x01", 2, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	sqlite3_finalize(stmt);
	buf_free(&blob);
	sqlite3_close(db);

	assert_int_equal(store_open(fx->dir, 5, &st, &err), 0);
	assert_int_equal(store_schema_version(st, &version), 0);
	assert_int_equal(version, (int)schema_user_migration_count);
	assert_int_equal(search_all(st, "budget spreadsheet", &r), 1);
	assert_int_equal(r.hits[0].item_id, 1);
	assert_int_equal(r.hits[0].folder_id, 1);
	search_result_clear(&r);
	/* New mail keeps being indexed after the migration. */
	add_word_mail(st, 1, "budget", 6);
	assert_int_equal(count_all(st, "budget"), 2);
	assert_int_equal(store_check(st), 0);
	store_close(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fields_indexed, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_index_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prefix_and_phrase, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_index_follows_items, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_other_classes_not_indexed,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_queries, setup,
					    teardown),
	    cmocka_unit_test(test_compile),
	    cmocka_unit_test_setup_teardown(test_request_bounds, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_folders_and_dates, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_scope_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_html_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_isolation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migration_indexes_old_mail,
					    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
