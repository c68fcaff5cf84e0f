/*
 * Benchmark of conversations (mailbox/conversation.h): one user's database
 * with 100,000 messages in 20,000 conversations of five, delivered in bulk
 * (store_deliver_batch, one transaction per 10,000 messages) into the
 * Inbox.  Then prints the build rate, the p50 and p99 latency of 200
 * Searches by ConversationId (Range 0-99 with the total), of 200
 * conversation Moves with MoveAlways (five members each, fsync included)
 * and of 200 deliveries that a rule files (look-up, renewal, insert),
 * beside the time of one pass over every email, which is what a
 * conversation Move cost before the index (it read each item's props).
 * Figures only: `make bench` runs it, `make test` does not.
 * BENCH_CONV_MESSAGES overrides the message count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mailbox/conversation.h"
#include "mailbox/folders.h"
#include "mailbox/items.h"
#include "mailbox/search.h"
#include "mailbox/store.h"

#define PER_CONV 5
#define BATCH 250
#define TX_MESSAGES 10000
#define QUERIES 200
#define SCAN_PAGE 512

static int messages = 100000;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
report(const char *what, double *ms, size_t n)
{
	qsort(ms, n, sizeof(*ms), cmp_double);
	printf("%-40s p50 %8.3f ms  p99 %8.3f ms\n", what, ms[n / 2],
	       ms[(n * 99) / 100]);
}

static void
conv_of(int c, uint8_t out[16])
{
	memset(out, 0, 16);
	memcpy(out, &c, sizeof(c));
	out[15] = 0xc0;
}

static int
props_of(struct item_props *p, int i)
{
	char subject[64], body[128];
	uint8_t conv[16];

	item_props_init(p);
	(void)snprintf(subject, sizeof(subject), "thread %d message %d",
		       i / PER_CONV, i % PER_CONV);
	(void)snprintf(body, sizeof(body),
		       "the body of message %d of the thread %d", i,
		       i / PER_CONV);
	conv_of(i / PER_CONV, conv);
	p->subject = strdup(subject);
	p->body_text = strdup(body);
	p->conversation_id = malloc(16);
	if (p->subject == NULL || p->body_text == NULL ||
	    p->conversation_id == NULL)
		return -1;
	memcpy(p->conversation_id, conv, 16);
	p->conversation_id_len = 16;
	return 0;
}

static const char mime[] = "Subject: x\r\n\r\nx\r\n";

static int
build(struct store *st)
{
	static struct item_props props[BATCH];
	static struct item_new items[BATCH];
	static struct store_delivery res[BATCH];
	double t0 = now_ms();

	for (int i = 0; i < messages; i += BATCH) {
		int n = messages - i < BATCH ? messages - i : BATCH;

		if (i % TX_MESSAGES == 0 && store_tx_begin(st) < 0)
			return -1;
		for (int k = 0; k < n; k++) {
			if (props_of(&props[k], i + k) < 0)
				return -1;
			memset(&items[k], 0, sizeof(items[k]));
			items[k].cls = ITEM_CLASS_EMAIL;
			items[k].date = 1700000000 + i + k;
			items[k].props = &props[k];
			items[k].mime = (const uint8_t *)mime;
			items[k].mime_len = sizeof(mime) - 1;
		}
		if (store_deliver_batch(st, 0, items, (size_t)n, res) < 0)
			return -1;
		for (int k = 0; k < n; k++)
			item_props_clear(&props[k]);
		if (((i + n) % TX_MESSAGES == 0 || i + n == messages) &&
		    store_tx_commit(st) < 0)
			return -1;
	}
	printf("%-40s %8.0f messages/s\n", "build (index triggers included)",
	       messages / ((now_ms() - t0) / 1e3));
	return 0;
}

/* The cost of the old conversation Move: read every email once. */
static int
scan_all(struct store *st, int64_t folder)
{
	int64_t ids[SCAN_PAGE];
	size_t offset = 0, n, seen = 0;
	double t0 = now_ms();

	do {
		if (store_folder_items(st, folder, offset, SCAN_PAGE, ids, &n) <
		    0)
			return -1;
		offset += n;
		for (size_t i = 0; i < n; i++) {
			struct item *it = NULL;

			if (store_item_get(st, ids[i], 0, &it) == 0)
				seen++;
			item_free(&it);
		}
	} while (n == SCAN_PAGE);
	printf("%-40s %8.1f ms (%zu emails)\n",
	       "one pass over every email (old Move)", now_ms() - t0, seen);
	return 0;
}

int
main(void)
{
	char dir[] = "/tmp/easd-bench-conv-XXXXXX", cmd[128];
	struct store_error err;
	struct store *st = NULL;
	struct search_result r = {0};
	double *ms = calloc(QUERIES, sizeof(*ms));
	int64_t inbox, archive;
	int convs, rc = 1;
	const char *env = getenv("BENCH_CONV_MESSAGES");

	if (env != NULL && strtol(env, NULL, 10) >= PER_CONV * QUERIES)
		messages = (int)strtol(env, NULL, 10);
	convs = messages / PER_CONV;
	if (ms == NULL || mkdtemp(dir) == NULL ||
	    store_open(dir, 1, &st, &err) < 0 ||
	    store_folder_by_type(st, FOLDER_TYPE_INBOX, &inbox) < 0 ||
	    store_folder_create(st, 0, "Archive", FOLDER_TYPE_USER_MAIL,
				&archive) < 0 ||
	    build(st) < 0)
		goto out;
	if (scan_all(st, inbox) < 0)
		goto out;
	for (int q = 0; q < QUERIES; q++) {
		struct search_query sq = {.range_end = 99};
		enum search_status status;
		uint8_t conv[16];
		double t0;

		conv_of((int)(((long)q * 7919) % convs), conv);
		sq.conversation_id = conv;
		sq.conversation_id_len = 16;
		t0 = now_ms();
		if (store_search(st, &sq, &r, &status) < 0 ||
		    r.total != PER_CONV)
			goto out;
		ms[q] = now_ms() - t0;
	}
	report("Search by ConversationId", ms, QUERIES);
	for (int q = 0; q < QUERIES; q++) {
		struct conv_move m;
		uint8_t conv[16];
		double t0;

		conv_of(q, conv);
		t0 = now_ms();
		if (store_conv_move(st, "BENCH", conv, 16, archive, true,
				    1800000000, &m) < 0 ||
		    m.moved != PER_CONV)
			goto out;
		conv_move_clear(&m);
		ms[q] = now_ms() - t0;
	}
	report("conversation Move with MoveAlways", ms, QUERIES);
	for (int q = 0; q < QUERIES; q++) {
		struct item_props p;
		struct item_new in;
		struct store_delivery d;
		double t0;

		if (props_of(&p, q * PER_CONV) < 0)
			goto out;
		memset(&in, 0, sizeof(in));
		in.cls = ITEM_CLASS_EMAIL;
		in.date = 1800000100;
		in.props = &p;
		in.mime = (const uint8_t *)mime;
		in.mime_len = sizeof(mime) - 1;
		t0 = now_ms();
		if (store_deliver(st, 0, &in, &d) < 0 ||
		    d.folder_id != archive) {
			item_props_clear(&p);
			goto out;
		}
		ms[q] = now_ms() - t0;
		item_props_clear(&p);
	}
	report("delivery filed by a rule (with fsync)", ms, QUERIES);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "bench_conversation: failed: %s\n",
			st != NULL ? store_last_error(st)->msg : err.msg);
	search_result_clear(&r);
	store_close(&st);
	free(ms);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
