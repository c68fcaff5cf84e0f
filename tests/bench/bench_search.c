/*
 * Benchmark of mailbox search (mailbox/search.h): one user's database with
 * 100,000 messages (subjects of 3-9 words and bodies of 40-200 words drawn
 * from a word list with a Zipf-like skew, senders and recipients from a
 * name list), delivered in bulk with store_deliver_batch inside one
 * transaction per 10,000 messages.  Then 200 one-word searches of varying
 * words (from the most common to the rarest, Range 0-99 with the total,
 * every folder) and prints their p50 and p99 latency (target p99 <=
 * 100 ms), plus the build time and a few other query shapes.  Figures
 * only: `make bench` runs it, `make test` does not.  BENCH_SEARCH_MESSAGES
 * overrides the message count; BENCH_SEARCH_KEEP keeps the database (its
 * directory is printed) for inspection with the sqlite3 shell.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mailbox/folders.h"
#include "mailbox/items.h"
#include "mailbox/search.h"
#include "mailbox/store.h"
#include "proto/buf.h"

static int messages = 100000;
#define MESSAGES messages
#define BATCH 256
#define TX_MESSAGES 10000
#define QUERIES 200

static const char *const words[] = {
    "meeting",
    "project",
    "report",
    "update",
    "team",
    "review",
    "budget",
    "schedule",
    "client",
    "proposal",
    "contract",
    "invoice",
    "deadline",
    "quarter",
    "sales",
    "customer",
    "product",
    "release",
    "design",
    "feedback",
    "question",
    "request",
    "approval",
    "document",
    "draft",
    "agenda",
    "minutes",
    "summary",
    "plan",
    "strategy",
    "market",
    "analysis",
    "data",
    "results",
    "numbers",
    "forecast",
    "revenue",
    "cost",
    "price",
    "order",
    "delivery",
    "shipping",
    "warehouse",
    "supplier",
    "vendor",
    "partner",
    "office",
    "building",
    "room",
    "floor",
    "travel",
    "flight",
    "hotel",
    "booking",
    "trip",
    "conference",
    "workshop",
    "training",
    "session",
    "webinar",
    "call",
    "phone",
    "video",
    "email",
    "message",
    "reply",
    "thanks",
    "please",
    "today",
    "tomorrow",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "morning",
    "afternoon",
    "evening",
    "week",
    "month",
    "year",
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "holiday",
    "vacation",
    "leave",
    "office",
    "server",
    "network",
    "database",
    "backup",
    "security",
    "password",
    "account",
    "access",
    "login",
    "software",
    "hardware",
    "laptop",
    "printer",
    "license",
    "upgrade",
    "migration",
    "outage",
    "incident",
    "ticket",
    "support",
    "issue",
    "problem",
    "solution",
    "fix",
    "test",
    "testing",
    "quality",
    "audit",
    "compliance",
    "policy",
    "legal",
    "finance",
    "accounting",
    "payroll",
    "salary",
    "benefits",
    "insurance",
    "health",
    "safety",
    "hiring",
    "interview",
    "candidate",
    "position",
    "offer",
    "onboarding",
    "welcome",
    "farewell",
    "party",
    "lunch",
    "dinner",
    "coffee",
    "kitchen",
    "parking",
    "garage",
    "marketing",
    "campaign",
    "newsletter",
    "website",
    "blog",
    "social",
    "media",
    "press",
    "launch",
    "event",
    "booth",
    "exhibition",
    "sponsor",
    "donation",
    "charity",
    "volunteer",
    "community",
    "research",
    "prototype",
    "patent",
    "engineering",
    "architecture",
    "roadmap",
    "milestone",
    "sprint",
    "backlog",
    "estimate",
    "priority",
    "risk",
    "dependency",
    "inventory",
    "stock",
    "shares",
    "investor",
    "board",
    "director",
    "manager",
    "assistant",
    "intern",
    "contractor",
    "consultant",
    "lawyer",
    "accountant",
    "auditor",
    "architect",
    "translation",
    "localization",
    "german",
    "french",
    "spanish",
    "invoice",
    "receipt",
    "refund",
    "discount",
    "coupon",
    "subscription",
    "renewal",
    "cancellation",
    "complaint",
    "apology",
    "congratulations",
    "birthday",
    "anniversary",
    "promotion",
    "bonus",
    "zeppelin",
    "quokka",
    "xylophone",
    "kumquat",
    "fjord",
    "juxtaposition",
    "quixotic",
    "zephyr",
    "ephemeral",
    "labyrinth",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static const char *const names[] = {
    "Alice Smith", "Bob Jones",    "Carol White",   "Dave Brown",
    "Erin Taylor", "Frank Miller", "Grace Wilson",  "Heidi Moore",
    "Ivan Clark",  "Judy Lewis",   "Mallory Hall",  "Niaj Young",
    "Olivia King", "Peggy Wright", "Rupert Scott",  "Sybil Green",
    "Trent Baker", "Uma Adams",    "Victor Nelson", "Wendy Hill",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(struct store *st, const char *what)
{
	fprintf(stderr, "bench_search: %s: %s\n", what,
		st != NULL ? store_last_error(st)->msg : "");
	exit(1);
}

/* xorshift64: a fixed seed, so every run builds the same mailbox. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A word with a Zipf-like skew: the cube of a uniform draw picks the
 * head of the list far more often than its tail. */
static const char *
word(void)
{
	double u = (double)(rng() % 1000000) / 1000000.0;

	return words[(size_t)(u * u * u * (double)NWORDS)];
}

static char *
text_of(size_t nwords, bool sentence)
{
	struct buf b;

	buf_init(&b, 64 * 1024);
	for (size_t i = 0; i < nwords; i++) {
		if (i > 0)
			(void)buf_append_str(
			    &b, sentence && rng() % 12 == 0 ? ". " : " ");
		(void)buf_append_str(&b, word());
	}
	return (char *)buf_steal(&b, NULL);
}

static char *
address_of(size_t n)
{
	struct buf b;
	const char *name = names[n % NNAMES];
	const char *sp = strchr(name, ' ');

	buf_init(&b, 256);
	(void)buf_printf(&b, "\"%s\" <%.*s@example.org>", name,
			 (int)(sp - name), name);
	return (char *)buf_steal(&b, NULL);
}

static void
build(struct store *st, int64_t *folders, size_t nfolders)
{
	static struct item_new n[BATCH];
	static struct item_props p[BATCH];
	static struct store_delivery r[BATCH];
	static const char mime[] = "Subject: bench\r\n\r\nbody\r\n";

	for (int done = 0; done < MESSAGES;) {
		int k = MESSAGES - done < BATCH ? MESSAGES - done : BATCH;
		int64_t folder = folders[(size_t)(done / BATCH) % nfolders];

		if (done % TX_MESSAGES == 0 && store_tx_begin(st) < 0)
			die(st, "begin");
		for (int i = 0; i < k; i++) {
			item_props_init(&p[i]);
			p[i].subject = text_of(3 + rng() % 7, false);
			p[i].from = address_of(rng());
			p[i].to = address_of(rng());
			if (rng() % 3 == 0)
				p[i].cc = address_of(rng());
			p[i].body_text = text_of(40 + rng() % 160, true);
			memset(&n[i], 0, sizeof(n[i]));
			n[i].cls = ITEM_CLASS_EMAIL;
			/* One message every ~5 minutes, slightly shuffled. */
			n[i].date = 1600000000 + (int64_t)(done + i) * 300 +
				    (int64_t)(rng() % 600);
			n[i].props = &p[i];
			n[i].mime = (const uint8_t *)mime;
			n[i].mime_len = sizeof(mime) - 1;
		}
		if (store_deliver_batch(st, folder, n, (size_t)k, r) < 0)
			die(st, "deliver");
		for (int i = 0; i < k; i++)
			item_props_clear(&p[i]);
		done += k;
		if ((done % TX_MESSAGES == 0 || done == MESSAGES) &&
		    store_tx_commit(st) < 0)
			die(st, "commit");
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Runs q, returns its latency in ms; *total_r gets the total. */
static double
timed(struct store *st, struct search_query *q, uint32_t *total_r)
{
	struct search_result r = {0};
	enum search_status status;
	double t0 = now_s();

	if (store_search(st, q, &r, &status) < 0)
		die(st, search_status_name(status));
	t0 = (now_s() - t0) * 1000.0;
	*total_r = r.total;
	search_result_clear(&r);
	return t0;
}

static void
report(const char *what, double *ms, size_t n, double total_matches)
{
	qsort(ms, n, sizeof(ms[0]), cmp_double);
	printf("%-34s p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms"
	       "  (%zu queries, %.0f matches on average)\n",
	       what, ms[n / 2], ms[(n * 99) / 100], ms[n - 1], n,
	       total_matches / (double)n);
}

int
main(void)
{
	static double ms[QUERIES];
	char dir[64];
	struct store *st = NULL;
	struct store_error err;
	struct search_query q;
	int64_t folders[8];
	double t0, build_s, matches;
	uint32_t total;
	char cmd[128];

	if (getenv("BENCH_SEARCH_MESSAGES") != NULL)
		messages =
		    (int)strtol(getenv("BENCH_SEARCH_MESSAGES"), NULL, 10);
	(void)snprintf(dir, sizeof(dir), "/tmp/easd-bench-search-XXXXXX");
	if (mkdtemp(dir) == NULL || store_open(dir, 1, &st, &err) < 0) {
		fprintf(stderr, "bench_search: open: %s\n", err.msg);
		return 1;
	}
	if (store_folder_by_type(st, FOLDER_TYPE_INBOX, &folders[0]) < 0)
		die(st, "inbox");
	for (size_t i = 1; i < 8; i++) {
		char name[16];

		(void)snprintf(name, sizeof(name), "Folder %zu", i);
		if (store_folder_create(st, i < 5 ? 0 : folders[1], name,
					FOLDER_TYPE_USER_MAIL, &folders[i]) < 0)
			die(st, "folder");
	}

	t0 = now_s();
	build(st, folders, 8);
	build_s = now_s() - t0;
	printf("built %d messages (indexed) in %.1f s (%.0f messages/s)\n",
	       MESSAGES, build_s, MESSAGES / build_s);

	/* One word each, walking the list so that the most common words
	 * (matching most of the mailbox) and the rarest are all there. */
	memset(&q, 0, sizeof(q));
	q.range_end = 99;
	matches = 0;
	for (size_t i = 0; i < QUERIES; i++) {
		q.text = words[(i * 7) % NWORDS];
		ms[i] = timed(st, &q, &total);
		matches += total;
	}
	report("one word, all folders, 0-99", ms, QUERIES, matches);

	/* Prefixes of 3 letters. */
	matches = 0;
	for (size_t i = 0; i < QUERIES; i++) {
		char prefix[4];

		(void)snprintf(prefix, sizeof(prefix), "%s",
			       words[(i * 11) % NWORDS]);
		q.text = prefix;
		ms[i] = timed(st, &q, &total);
		matches += total;
	}
	report("3-letter prefix, all folders", ms, QUERIES, matches);

	/* Two words, in one folder subtree, with a date bound. */
	q.folder_id = folders[1];
	q.deep_traversal = true;
	q.greater_than = 1600000000 + (int64_t)MESSAGES * 150;
	matches = 0;
	for (size_t i = 0; i < QUERIES; i++) {
		char two[96];

		(void)snprintf(two, sizeof(two), "%s %s",
			       words[(i * 13) % NWORDS],
			       words[(i * 17 + 5) % NWORDS]);
		q.text = two;
		ms[i] = timed(st, &q, &total);
		matches += total;
	}
	report("two words, subtree, date bound", ms, QUERIES, matches);

	store_close(&st);
	if (getenv("BENCH_SEARCH_KEEP") != NULL) {
		printf("kept %s\n", dir);
		return 0;
	}
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
