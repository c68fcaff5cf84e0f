/* Unit tests for conversations (mailbox/conversation.h, store_conv.c,
 * schema.c v6): the conversation index kept in step with item add,
 * property change, move, delete and folder delete, and built for mail
 * stored before it existed; the conversation Move answered from it
 * (Drafts, Outbox and Sent Items left alone, the device's own moves);
 * MoveAlways rules recorded with the move, applied by delivery to the
 * conversation's next message, kept across a restart, ended by the target
 * folder's deletion, by age and by the per-user bound; and Search by
 * ConversationId (search.h) with folder scope, words, dates and Range;
 * and a reply delivered later joining its thread's conversation however
 * its headers name the thread (store_conv_resolve). */
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

#include "mailbox/conversation.h"
#include "mailbox/folders.h"
#include "mailbox/items.h"
#include "mailbox/mime.h"
#include "mailbox/rpc_deliver.h"
#include "mailbox/search.h"
#include "mailbox/store.h"
#include "mailbox/store_int.h"
#include "proto/limits.h"

/* A fixed "now" for rules: 2026-11-27. */
#define NOW INT64_C(1795824000)

static const uint8_t conv_a[16] = {0xa0, 1, 2,  3,  4,  5,  6,  7,
				   8,    9, 10, 11, 12, 13, 14, 15};
static const uint8_t conv_b[16] = {0xb0, 1, 2,  3,  4,  5,  6,  7,
				   8,    9, 10, 11, 12, 13, 14, 15};

struct fixture {
	char dir[64];
	struct store *st;
	int64_t inbox, sent, drafts, deleted, archive;
};

static int
open_store(struct fixture *fx)
{
	struct store_error err;

	if (store_open(fx->dir, 1, &fx->st, &err) < 0 ||
	    store_folder_by_type(fx->st, FOLDER_TYPE_INBOX, &fx->inbox) < 0 ||
	    store_folder_by_type(fx->st, FOLDER_TYPE_SENT, &fx->sent) < 0 ||
	    store_folder_by_type(fx->st, FOLDER_TYPE_DRAFTS, &fx->drafts) < 0 ||
	    store_folder_by_type(fx->st, FOLDER_TYPE_DELETED, &fx->deleted) < 0)
		return -1;
	return 0;
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/easd-conv-XXXXXX");
	if (mkdtemp(fx->dir) == NULL || open_store(fx) < 0 ||
	    store_folder_create(fx->st, 0, "Archive", FOLDER_TYPE_USER_MAIL,
				&fx->archive) < 0) {
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

static void
props_with(struct item_props *p, const char *subject, const uint8_t *conv)
{
	item_props_init(p);
	p->subject = strdup(subject);
	p->body_text = strdup(subject);
	if (conv != NULL) {
		p->conversation_id = malloc(16);
		assert_non_null(p->conversation_id);
		memcpy(p->conversation_id, conv, 16);
		p->conversation_id_len = 16;
	}
}

static const char mime[] = "Subject: x\r\n\r\nx\r\n";

static void
item_of(struct item_new *n, const struct item_props *p, int64_t date)
{
	memset(n, 0, sizeof(*n));
	n->cls = ITEM_CLASS_EMAIL;
	n->date = date;
	n->props = p;
	n->mime = (const uint8_t *)mime;
	n->mime_len = sizeof(mime) - 1;
}

/* Adds a mail of conversation conv (NULL: none) to folder. */
static int64_t
add(struct store *st, int64_t folder, const char *subject, const uint8_t *conv,
    int64_t date)
{
	struct item_props p;
	struct item_new n;
	int64_t id = 0;

	props_with(&p, subject, conv);
	item_of(&n, &p, date);
	assert_int_equal(store_item_add(st, folder, &n, &id, NULL), 0);
	item_props_clear(&p);
	return id;
}

/* Delivers (folder 0: Inbox or the rule's folder) at date; the folder
 * it landed in. */
static int64_t
deliver(struct store *st, const char *subject, const uint8_t *conv,
	int64_t date, int64_t *id_r)
{
	struct item_props p;
	struct item_new n;
	struct store_delivery d;

	props_with(&p, subject, conv);
	item_of(&n, &p, date);
	assert_int_equal(store_deliver(st, 0, &n, &d), 0);
	item_props_clear(&p);
	if (id_r != NULL)
		*id_r = d.item_id;
	return d.folder_id;
}

static size_t
members(struct store *st, const uint8_t *conv)
{
	size_t n = 99;

	assert_int_equal(store_conv_count(st, conv, 16, &n), 0);
	return n;
}

static int64_t
folder_of(struct store *st, int64_t id)
{
	struct item *it = NULL;
	int64_t f;

	assert_int_equal(store_item_get(st, id, 0, &it), 0);
	f = it->folder_id;
	item_free(&it);
	return f;
}

/* The index follows add, props change, move, delete, folder delete. */
static void
test_index_follows_items(void **state)
{
	struct fixture *fx = *state;
	struct item_props p;
	struct item_change ch;
	int64_t a1, a2, b1, sub;

	a1 = add(fx->st, fx->inbox, "one", conv_a, 100);
	a2 = add(fx->st, fx->archive, "two", conv_a, 200);
	b1 = add(fx->st, fx->inbox, "three", conv_b, 300);
	(void)add(fx->st, fx->inbox, "no conversation", NULL, 400);
	assert_int_equal(members(fx->st, conv_a), 2);
	assert_int_equal(members(fx->st, conv_b), 1);
	/* A move keeps membership. */
	assert_int_equal(store_item_move(fx->st, a1, fx->deleted, NULL), 0);
	assert_int_equal(members(fx->st, conv_a), 2);
	/* New properties with another conversation re-index the item. */
	props_with(&p, "three again", conv_a);
	memset(&ch, 0, sizeof(ch));
	ch.mask = ITEM_CHANGE_PROPS;
	ch.props = &p;
	assert_int_equal(store_item_change(fx->st, b1, &ch, NULL), 0);
	item_props_clear(&p);
	assert_int_equal(members(fx->st, conv_a), 3);
	assert_int_equal(members(fx->st, conv_b), 0);
	/* A flag change (props untouched) changes nothing. */
	memset(&ch, 0, sizeof(ch));
	ch.mask = ITEM_CHANGE_READ;
	ch.flags.read = true;
	assert_int_equal(store_item_change(fx->st, b1, &ch, NULL), 0);
	assert_int_equal(members(fx->st, conv_a), 3);
	/* Delete, and a folder delete (subfolder included). */
	assert_int_equal(store_item_delete(fx->st, a1), 0);
	assert_int_equal(members(fx->st, conv_a), 2);
	assert_int_equal(store_folder_create(fx->st, fx->archive, "Sub",
					     FOLDER_TYPE_USER_MAIL, &sub),
			 0);
	(void)add(fx->st, sub, "four", conv_a, 500);
	assert_int_equal(members(fx->st, conv_a), 3);
	assert_int_equal(store_folder_delete(fx->st, fx->archive), 0);
	assert_int_equal(members(fx->st, conv_a), 1);
	(void)a2;
	/* Bad ids are refused, not looked up. */
	{
		size_t n;

		assert_int_equal(store_conv_count(fx->st, conv_a, 0, &n), -1);
		assert_int_equal(store_last_error(fx->st)->status,
				 STORE_INVALID);
		assert_int_equal(
		    store_conv_count(fx->st, conv_a, CONV_MAX_ID_BYTES + 1, &n),
		    -1);
	}
}

/* Move: every member outside dst, Drafts, Outbox and Sent Items. */
static void
test_move(void **state)
{
	struct fixture *fx = *state;
	struct conv_move m;
	struct conv_rule rule;
	int64_t in1, in2, arch, sent, draft, other;

	in1 = add(fx->st, fx->inbox, "a1", conv_a, 100);
	in2 = add(fx->st, fx->inbox, "a2", conv_a, 200);
	arch = add(fx->st, fx->archive, "a3", conv_a, 300);
	sent = add(fx->st, fx->sent, "a4", conv_a, 400);
	draft = add(fx->st, fx->drafts, "a5", conv_a, 500);
	other = add(fx->st, fx->inbox, "b1", conv_b, 600);
	assert_int_equal(store_conv_move(fx->st, "DEV", conv_a, 16, fx->deleted,
					 false, NOW, &m),
			 0);
	assert_int_equal(m.moved, 3);
	assert_int_equal(m.n_src, 2);
	assert_true(m.dst_modseq > 0);
	for (size_t i = 0; i < m.n_src; i++) {
		assert_true(m.src_folders[i] == fx->inbox ||
			    m.src_folders[i] == fx->archive);
		assert_true(m.src_modseqs[i] > 0);
	}
	conv_move_clear(&m);
	assert_int_equal(folder_of(fx->st, in1), fx->deleted);
	assert_int_equal(folder_of(fx->st, in2), fx->deleted);
	assert_int_equal(folder_of(fx->st, arch), fx->deleted);
	assert_int_equal(folder_of(fx->st, sent), fx->sent);
	assert_int_equal(folder_of(fx->st, draft), fx->drafts);
	assert_int_equal(folder_of(fx->st, other), fx->inbox);
	/* Without MoveAlways no rule. */
	assert_int_equal(store_conv_rule_get(fx->st, conv_a, 16, &rule), -1);
	assert_int_equal(store_last_error(fx->st)->status, STORE_NOT_FOUND);
	/* Again: nothing left to move, still a success. */
	assert_int_equal(store_conv_move(fx->st, "DEV", conv_a, 16, fx->deleted,
					 false, NOW, &m),
			 0);
	assert_int_equal(m.moved, 0);
	conv_move_clear(&m);
	/* Unknown conversation, bad destination. */
	assert_int_equal(store_conv_move(fx->st, "DEV",
					 (const uint8_t *)"nothing-of-ours", 15,
					 fx->deleted, true, NOW, &m),
			 -1);
	assert_int_equal(store_last_error(fx->st)->status, STORE_NOT_FOUND);
	conv_move_clear(&m);
	assert_int_equal(store_conv_rule_count(fx->st, &m.moved), 0);
	assert_int_equal(m.moved, 0);
	assert_int_equal(
	    store_conv_move(fx->st, "DEV", conv_a, 16, 9999, true, NOW, &m),
	    -1);
	assert_int_equal(store_last_error(fx->st)->status, STORE_NOT_FOUND);
	conv_move_clear(&m);
	{
		int64_t cal;

		assert_int_equal(
		    store_folder_by_type(fx->st, FOLDER_TYPE_CALENDAR, &cal),
		    0);
		assert_int_equal(store_conv_move(fx->st, "DEV", conv_a, 16, cal,
						 true, NOW, &m),
				 -1);
		assert_int_equal(store_last_error(fx->st)->status,
				 STORE_INVALID);
		conv_move_clear(&m);
	}
}

/* A conversation larger than one batch moves whole. */
static void
test_move_batches(void **state)
{
	struct fixture *fx = *state;
	struct conv_move m;
	int64_t first = 0, last = 0;

	assert_int_equal(store_tx_begin(fx->st), 0);
	for (int i = 0; i < 300; i++) {
		last = add(fx->st, fx->inbox, "bulk", conv_a, 1000 + i);
		if (i == 0)
			first = last;
	}
	assert_int_equal(store_tx_commit(fx->st), 0);
	assert_int_equal(store_conv_move(fx->st, "DEV", conv_a, 16, fx->archive,
					 false, NOW, &m),
			 0);
	assert_int_equal(m.moved, 300);
	assert_int_equal(m.n_src, 1);
	conv_move_clear(&m);
	assert_int_equal(folder_of(fx->st, first), fx->archive);
	assert_int_equal(folder_of(fx->st, last), fx->archive);
}

/* MoveAlways: the rule files the next delivery, survives a restart, ends
 * with its folder. */
static void
test_move_always(void **state)
{
	struct fixture *fx = *state;
	struct conv_move m;
	struct conv_rule rule;
	int64_t id;
	size_t n;

	(void)add(fx->st, fx->inbox, "root", conv_a, 100);
	assert_int_equal(store_conv_move(fx->st, "DEV", conv_a, 16, fx->archive,
					 true, NOW, &m),
			 0);
	assert_int_equal(m.moved, 1);
	conv_move_clear(&m);
	assert_int_equal(store_conv_rule_get(fx->st, conv_a, 16, &rule), 0);
	assert_int_equal(rule.folder_id, fx->archive);
	assert_int_equal(rule.created, NOW);
	assert_int_equal(rule.last_used, NOW);
	/* The next message of the conversation goes to Archive; another
	 * conversation, and mail with none, to the Inbox. */
	assert_int_equal(deliver(fx->st, "reply", conv_a, NOW + 60, &id),
			 fx->archive);
	assert_int_equal(folder_of(fx->st, id), fx->archive);
	assert_int_equal(deliver(fx->st, "other", conv_b, NOW + 60, NULL),
			 fx->inbox);
	assert_int_equal(deliver(fx->st, "none", NULL, NOW + 60, NULL),
			 fx->inbox);
	/* Applying it renewed it. */
	assert_int_equal(store_conv_rule_get(fx->st, conv_a, 16, &rule), 0);
	assert_int_equal(rule.last_used, NOW + 60);
	/* A restart keeps it. */
	store_close(&fx->st);
	assert_int_equal(open_store(fx), 0);
	assert_int_equal(deliver(fx->st, "reply 2", conv_a, NOW + 120, NULL),
			 fx->archive);
	/* An explicit folder (user+detail) is not redirected. */
	{
		struct item_props p;
		struct item_new in;
		struct store_delivery d;

		props_with(&p, "to drafts", conv_a);
		item_of(&in, &p, NOW);
		assert_int_equal(store_deliver(fx->st, fx->deleted, &in, &d),
				 0);
		assert_int_equal(d.folder_id, fx->deleted);
		item_props_clear(&p);
	}
	/* The folder deleted: the rule ends with it, mail goes to the
	 * Inbox. */
	assert_int_equal(store_folder_delete(fx->st, fx->archive), 0);
	assert_int_equal(store_conv_rule_get(fx->st, conv_a, 16, &rule), -1);
	assert_int_equal(store_conv_rule_count(fx->st, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(deliver(fx->st, "reply 3", conv_a, NOW + 180, NULL),
			 fx->inbox);
}

/* A rule to the Inbox is no rule; a new MoveAlways replaces the old. */
static void
test_rule_replace_and_inbox(void **state)
{
	struct fixture *fx = *state;
	struct conv_move m;
	struct conv_rule rule;

	(void)add(fx->st, fx->inbox, "root", conv_a, 100);
	assert_int_equal(store_conv_move(fx->st, "DEV", conv_a, 16, fx->archive,
					 true, NOW, &m),
			 0);
	conv_move_clear(&m);
	assert_int_equal(store_conv_move(fx->st, "DEV", conv_a, 16, fx->deleted,
					 true, NOW + 5, &m),
			 0);
	conv_move_clear(&m);
	assert_int_equal(store_conv_rule_get(fx->st, conv_a, 16, &rule), 0);
	assert_int_equal(rule.folder_id, fx->deleted);
	assert_int_equal(rule.created, NOW + 5);
	assert_int_equal(store_conv_move(fx->st, "DEV", conv_a, 16, fx->inbox,
					 true, NOW + 10, &m),
			 0);
	assert_int_equal(m.moved, 1);
	conv_move_clear(&m);
	assert_int_equal(store_conv_rule_get(fx->st, conv_a, 16, &rule), -1);
	assert_int_equal(deliver(fx->st, "reply", conv_a, NOW + 20, NULL),
			 fx->inbox);
}

/* Expiry: CONV_RULE_KEEP_S after its last use a rule no longer applies
 * and is deleted by the delivery that finds it stale. */
static void
test_rule_expires(void **state)
{
	struct fixture *fx = *state;
	struct conv_move m;
	struct conv_rule rule;

	(void)add(fx->st, fx->inbox, "root", conv_a, 100);
	assert_int_equal(store_conv_move(fx->st, "DEV", conv_a, 16, fx->archive,
					 true, NOW, &m),
			 0);
	conv_move_clear(&m);
	/* At the bound it still applies (and is renewed). */
	assert_int_equal(
	    deliver(fx->st, "in time", conv_a, NOW + CONV_RULE_KEEP_S, NULL),
	    fx->archive);
	assert_int_equal(deliver(fx->st, "late", conv_a,
				 NOW + 2 * CONV_RULE_KEEP_S + 1, NULL),
			 fx->inbox);
	assert_int_equal(store_conv_rule_get(fx->st, conv_a, 16, &rule), -1);
	assert_int_equal(store_last_error(fx->st)->status, STORE_NOT_FOUND);
}

/* At most CONV_MAX_RULES per user: the least recently used goes. */
static void
test_rule_bound(void **state)
{
	struct fixture *fx = *state;
	struct conv_move m;
	struct conv_rule rule;
	uint8_t conv[16];
	size_t n = 0;

	memset(conv, 0x55, sizeof(conv));
	assert_int_equal(store_tx_begin(fx->st), 0);
	for (uint32_t i = 0; i < CONV_MAX_RULES + 3; i++) {
		memcpy(conv, &i, sizeof(i));
		(void)add(fx->st, fx->inbox, "x", conv, 100);
		assert_int_equal(store_conv_move(fx->st, "DEV", conv, 16,
						 fx->archive, true, NOW + i,
						 &m),
				 0);
		conv_move_clear(&m);
	}
	assert_int_equal(store_tx_commit(fx->st), 0);
	assert_int_equal(store_conv_rule_count(fx->st, &n), 0);
	assert_int_equal(n, CONV_MAX_RULES);
	/* The three oldest went, the newest stayed. */
	for (uint32_t i = 0; i < 4; i++) {
		memcpy(conv, &i, sizeof(i));
		assert_int_equal(store_conv_rule_get(fx->st, conv, 16, &rule),
				 i < 3 ? -1 : 0);
	}
	/* Rules unused for CONV_RULE_KEEP_S are pruned when one is set. */
	memset(conv, 0x66, sizeof(conv));
	(void)add(fx->st, fx->inbox, "y", conv, 100);
	assert_int_equal(store_conv_move(fx->st, "DEV", conv, 16, fx->archive,
					 true, NOW + 2 * CONV_RULE_KEEP_S, &m),
			 0);
	conv_move_clear(&m);
	assert_int_equal(store_conv_rule_count(fx->st, &n), 0);
	assert_int_equal(n, 1);
}

static size_t
conv_search(struct store *st, const struct search_query *in,
	    struct search_result *r)
{
	struct search_query q = *in;
	enum search_status status = SEARCH_STORE_ERROR;

	if (q.range_end == 0)
		q.range_end = 99;
	q.conversation_id = conv_a;
	q.conversation_id_len = 16;
	search_result_clear(r);
	assert_int_equal(store_search(st, &q, r, &status), 0);
	assert_int_equal(status, SEARCH_OK);
	return r->count;
}

/* Search by ConversationId: every folder newest first, a folder scope,
 * words within the conversation, dates, Range with the total. */
static void
test_search_by_conversation(void **state)
{
	struct fixture *fx = *state;
	struct search_result r = {0};
	struct search_query q;
	enum search_status status;
	int64_t a1, a2, a3, a4;

	a1 = add(fx->st, fx->inbox, "budget draft", conv_a, 100);
	a2 = add(fx->st, fx->archive, "re budget", conv_a, 300);
	a3 = add(fx->st, fx->sent, "re re budget numbers", conv_a, 200);
	a4 = add(fx->st, fx->inbox, "unrelated numbers", conv_a, 400);
	(void)add(fx->st, fx->inbox, "budget elsewhere", conv_b, 500);
	memset(&q, 0, sizeof(q));
	assert_int_equal(conv_search(fx->st, &q, &r), 4);
	assert_int_equal(r.total, 4);
	assert_int_equal(r.hits[0].item_id, a4);
	assert_int_equal(r.hits[1].item_id, a2);
	assert_int_equal(r.hits[1].folder_id, fx->archive);
	assert_int_equal(r.hits[2].item_id, a3);
	assert_int_equal(r.hits[3].item_id, a1);
	/* Range 1-2 of 4. */
	q.range_start = 1;
	q.range_end = 2;
	assert_int_equal(conv_search(fx->st, &q, &r), 2);
	assert_int_equal(r.total, 4);
	assert_int_equal(r.hits[0].item_id, a2);
	assert_int_equal(r.hits[1].item_id, a3);
	/* One folder. */
	memset(&q, 0, sizeof(q));
	q.folder_id = fx->inbox;
	assert_int_equal(conv_search(fx->st, &q, &r), 2);
	assert_int_equal(r.hits[0].item_id, a4);
	assert_int_equal(r.hits[1].item_id, a1);
	/* Words and conversation: both must match. */
	memset(&q, 0, sizeof(q));
	q.text = "budget";
	assert_int_equal(conv_search(fx->st, &q, &r), 3);
	assert_int_equal(r.total, 3);
	assert_int_equal(r.hits[0].item_id, a2);
	q.text = "numbers";
	assert_int_equal(conv_search(fx->st, &q, &r), 2);
	assert_int_equal(r.hits[0].item_id, a4);
	assert_int_equal(r.hits[1].item_id, a3);
	/* Dates (exclusive). */
	memset(&q, 0, sizeof(q));
	q.greater_than = 100;
	q.less_than = 400;
	assert_int_equal(conv_search(fx->st, &q, &r), 2);
	assert_int_equal(r.hits[0].item_id, a2);
	/* Unknown conversation: nothing; a folder of another class: not
	 * found; an oversized id: bad request. */
	memset(&q, 0, sizeof(q));
	q.range_end = 9;
	q.conversation_id = (const uint8_t *)"nope";
	q.conversation_id_len = 4;
	assert_int_equal(store_search(fx->st, &q, &r, &status), 0);
	assert_int_equal(r.total, 0);
	q.conversation_id_len = CONV_MAX_ID_BYTES + 1;
	assert_int_equal(store_search(fx->st, &q, &r, &status), -1);
	assert_int_equal(status, SEARCH_BAD_REQUEST);
	search_result_clear(&r);
}

/* Delivers raw MIME as LMTP does (rpc_deliver.c); the stored item's
 * conversation id into conv (16 bytes) and its folder. */
static int64_t
deliver_raw(struct store *st, const char *raw, uint8_t conv[16])
{
	struct store_delivery d;
	enum store_status status;
	struct item *it = NULL;
	int64_t folder;

	assert_int_equal(mbox_message_store(st, 0, (const uint8_t *)raw,
					    strlen(raw), NOW, false, &d,
					    &status),
			 0);
	assert_int_equal(store_item_get(st, d.item_id, 0, &it), 0);
	assert_int_equal(it->props.conversation_id_len, 16);
	memcpy(conv, it->props.conversation_id, 16);
	/* A ConversationIndex we computed names the same id. */
	if (strstr(raw, "Thread-Index") == NULL)
		assert_memory_equal(it->props.conversation_index + 6, conv, 16);
	folder = it->folder_id;
	item_free(&it);
	return folder;
}

/*
 * A reply delivered later joins its thread's conversation however its
 * headers name the thread: References to the root, In-Reply-To to a
 * reply (no References), an Outlook reply with only a Thread-Index; and
 * so the MoveAlways rule of the thread files it.  Unrelated mail and an
 * Outlook thread of another GUID stay apart.
 */
static void
test_reply_joins_conversation(void **state)
{
	struct fixture *fx = *state;
	uint8_t root[16], c[16];
	struct conv_move m;

	mime_init();
	(void)deliver_raw(fx->st,
			  "From: bob@example.com\r\nSubject: Plans\r\n"
			  "Message-ID: <root@e>\r\n\r\nroot\r\n",
			  root);
	(void)deliver_raw(fx->st,
			  "From: carol@example.com\r\nSubject: Re: Plans\r\n"
			  "Message-ID: <r1@e>\r\nIn-Reply-To: <root@e>\r\n"
			  "References: <root@e>\r\n\r\nr1\r\n",
			  c);
	assert_memory_equal(c, root, 16);
	/* Deep in the thread, naming only its parent. */
	(void)deliver_raw(fx->st,
			  "From: bob@example.com\r\nSubject: Re: Plans\r\n"
			  "Message-ID: <r2@e>\r\nIn-Reply-To: <r1@e>\r\n\r\n"
			  "r2\r\n",
			  c);
	assert_memory_equal(c, root, 16);
	/* References trimmed of the root: the newest known id decides. */
	(void)deliver_raw(fx->st,
			  "From: bob@example.com\r\nSubject: Re: Plans\r\n"
			  "Message-ID: <r3@e>\r\nReferences: <lost@e> <r2@e>"
			  "\r\n\r\nr3\r\n",
			  c);
	assert_memory_equal(c, root, 16);
	/* Unrelated mail. */
	(void)deliver_raw(fx->st,
			  "From: bob@example.com\r\nSubject: Other\r\n"
			  "Message-ID: <other@e>\r\n\r\nx\r\n",
			  c);
	assert_memory_not_equal(c, root, 16);
	/* MoveAlways on the thread, then a reply to its newest message. */
	assert_int_equal(store_conv_move(fx->st, "DEV", root, 16, fx->archive,
					 true, NOW, &m),
			 0);
	assert_int_equal(m.moved, 4);
	conv_move_clear(&m);
	assert_int_equal(
	    deliver_raw(
		fx->st,
		"From: carol@example.com\r\nSubject: Re: Plans\r\n"
		"Message-ID: <r4@e>\r\nIn-Reply-To: <r3@e>\r\n\r\nr4\r\n",
		c),
	    fx->archive);
	assert_memory_equal(c, root, 16);
}

/* Outlook: the root and a reply without References share a Thread-Index
 * GUID; another GUID is another conversation. */
static void
test_outlook_thread_index(void **state)
{
	struct fixture *fx = *state;
	uint8_t root[16], c[16];

	mime_init();
	(void)deliver_raw(fx->st,
			  "From: bob@example.com\r\nSubject: Budget\r\n"
			  "Message-ID: <o1@e>\r\nThread-Topic: Budget\r\n"
			  "Thread-Index: AQHZSsdWMDEyMzQ1Njc4OTo7PD0+Pw==\r\n"
			  "\r\nroot\r\n",
			  root);
	(void)deliver_raw(
	    fx->st,
	    "From: carol@example.com\r\nSubject: RE: Budget\r\n"
	    "Message-ID: <o2@e>\r\nThread-Topic: Budget\r\n"
	    "Thread-Index: AQHZSsdWMDEyMzQ1Njc4OTo7PD0+PwAAABI0\r\n"
	    "\r\nreply\r\n",
	    c);
	assert_memory_equal(c, root, 16);
	(void)deliver_raw(
	    fx->st,
	    "From: carol@example.com\r\nSubject: RE: Budget\r\n"
	    "Message-ID: <o3@e>\r\nThread-Topic: Budget\r\n"
	    "Thread-Index: AQHZSsdWUFFSU1RVVldYWVpbXF1eXwAAABI0\r\n"
	    "\r\nanother thread\r\n",
	    c);
	assert_memory_not_equal(c, root, 16);
}

/* A database created before v6: opening it indexes its mail. */
static void
test_migration_indexes_old_mail(void **state)
{
	struct fixture *fx = *state;
	struct store *st = NULL;
	struct store_error err;
	struct item_props p;
	struct buf blob;
	char path[256], side[300];
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	size_t n = 0;
	int version = 0;

	assert_int_equal(store_open(fx->dir, 5, &st, &err), 0);
	store_close(&st);
	assert_int_equal(store_user_path(fx->dir, 5, path, sizeof(path)), 0);
	assert_int_equal(unlink(path), 0);
	(void)snprintf(side, sizeof(side), "%s-wal", path);
	(void)unlink(side);
	(void)snprintf(side, sizeof(side), "%s-shm", path);
	(void)unlink(side);
	/* v5 with the migrations before this one (the search function is
	 * registered for the process: the v2 triggers need it). */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(sqlite3_exec(db, schema_user_migrations[i],
					      NULL, NULL, NULL),
				 SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "PRAGMA user_version = 5", NULL, NULL, NULL),
	    SQLITE_OK);
	props_with(&p, "old", conv_a);
	buf_init(&blob, STORE_MAX_PROPS_BYTES);
	assert_int_equal(item_props_serialize(&p, &blob), 0);
	item_props_clear(&p);
	assert_int_equal(
	    sqlite3_prepare_v2(db,
			       "INSERT INTO items(folder_id, class, modseq,"
			       " date, props) VALUES(1, ?, 1, 5, ?)",
			       -1, &stmt, NULL),
	    SQLITE_OK);
	/* Two mails and a contact of the conversation, and a damaged
	 * blob (skipped, G8). */
	for (size_t i = 0; i < 3; i++) {
		sqlite3_bind_int(
		    stmt, 1, i < 2 ? ITEM_CLASS_EMAIL : ITEM_CLASS_CONTACTS);
		sqlite3_bind_blob(stmt, 2, blob.data, (int)blob.len,
				  SQLITE_STATIC);
		assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
		sqlite3_reset(stmt);
	}
	sqlite3_bind_int(stmt, 1, ITEM_CLASS_EMAIL);
	sqlite3_bind_blob(stmt, 2, "\x7f\x01", 2, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	sqlite3_finalize(stmt);
	buf_free(&blob);
	sqlite3_close(db);

	assert_int_equal(store_open(fx->dir, 5, &st, &err), 0);
	assert_int_equal(store_schema_version(st, &version), 0);
	assert_int_equal(version, (int)schema_user_migration_count);
	assert_int_equal(store_conv_count(st, conv_a, 16, &n), 0);
	assert_int_equal(n, 2);
	store_close(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_index_follows_items, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_move, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_move_batches, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_move_always, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule_replace_and_inbox, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_rule_expires, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_search_by_conversation, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_reply_joins_conversation,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outlook_thread_index, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_migration_indexes_old_mail,
					    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
