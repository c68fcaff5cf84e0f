/*
 * Benchmark of invariant 3 (cost follows changes, not folder size): a
 * 100,000-item folder and a 100-item folder, each fully synced by a
 * device, then 10 new changes in each (5 adds, 5 flag changes).  Measures
 * the latency of computing the next Sync window ("changes since the
 * device's state": begin, fetch, abort so it can be repeated) on each, and
 * prints the medians and their ratio (target <= 1.2).  The setup runs in
 * one transaction per phase, so building 100,000 items takes seconds.
 * Figures only: `make bench` runs it, `make test` does not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mailbox/folders.h"
#include "mailbox/items.h"
#include "mailbox/store.h"
#include "mailbox/syncstate.h"

#define BIG_ITEMS 100000
#define SMALL_ITEMS 100
#define NEW_CHANGES 10
#define ROUNDS 400

static const char msg_text[] = "From: a@example.org\r\nSubject: bench\r\n"
			       "\r\nbody\r\n";

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
die(struct store *st, const char *what)
{
	fprintf(stderr, "bench_changes: %s: %s\n", what,
		st != NULL ? store_last_error(st)->msg : "");
	exit(1);
}

/* Adds count messages in batches of 256 (inside the caller's
 * transaction: the batches are savepoints, the commit is one). */
static void
fill(struct store *st, int64_t folder, int count, int64_t *first_r)
{
	static struct item_new n[256];
	static struct store_delivery r[256];

	for (int done = 0; done < count;) {
		int k = count - done < 256 ? count - done : 256;

		for (int i = 0; i < k; i++) {
			memset(&n[i], 0, sizeof(n[i]));
			n[i].cls = ITEM_CLASS_EMAIL;
			n[i].date = 1700000000 + done + i;
			n[i].mime = (const uint8_t *)msg_text;
			n[i].mime_len = sizeof(msg_text) - 1;
		}
		if (store_deliver_batch(st, folder, n, (size_t)k, r) < 0)
			die(st, "deliver");
		if (done == 0 && first_r != NULL)
			*first_r = r[0].item_id;
		done += k;
	}
}

/* Syncs the device to the end of the folder; returns its key. */
static uint32_t
full_sync(struct store *st, const char *device, int64_t folder)
{
	struct store_sync *ss = NULL;
	struct sync_window w;
	uint32_t key = 0;
	bool more = true;

	if (store_sync_begin(st, device, folder, 0, &ss) < 0 ||
	    store_sync_commit(&ss, &key) < 0)
		die(st, "sync key 0");
	while (more) {
		if (store_sync_begin(st, device, folder, key, &ss) < 0 ||
		    store_sync_fetch(ss, 512, 0, &w) < 0 ||
		    store_sync_commit(&ss, &key) < 0)
			die(st, "sync");
		more = w.more_available;
		sync_window_clear(&w);
	}
	return key;
}

static void
changes(struct store *st, int64_t folder, int64_t first)
{
	struct item_change c;

	fill(st, folder, NEW_CHANGES / 2, NULL);
	memset(&c, 0, sizeof(c));
	c.mask = ITEM_CHANGE_READ;
	c.flags.read = true;
	for (int i = 0; i < NEW_CHANGES / 2; i++)
		if (store_item_change(st, first + i * 7, &c, NULL) < 0)
			die(st, "change");
}

/* One "changes since state" computation; returns seconds. */
static double
window_once(struct store *st, const char *device, int64_t folder, uint32_t key)
{
	struct store_sync *ss = NULL;
	struct sync_window w;
	double t0 = now_s(), t1;

	if (store_sync_begin(st, device, folder, key, &ss) < 0 ||
	    store_sync_fetch(ss, 512, 0, &w) < 0)
		die(st, "window");
	t1 = now_s();
	if (w.count != NEW_CHANGES)
		die(NULL, "window size differs from the changes made");
	sync_window_clear(&w);
	store_sync_abort(&ss);
	return t1 - t0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(void)
{
	char dir[] = "/tmp/easd-bench-XXXXXX", cmd[64];
	static double t_big[ROUNDS], t_small[ROUNDS];
	struct store_error err;
	struct store *st = NULL;
	int64_t inbox, big, small, first_big = 0, first_small = 0;
	uint32_t key_big, key_small;
	double t0, med_big, med_small;

	if (mkdtemp(dir) == NULL || store_open(dir, 1, &st, &err) < 0) {
		fprintf(stderr, "bench_changes: open failed\n");
		return 1;
	}
	if (store_folder_by_type(st, FOLDER_TYPE_INBOX, &inbox) < 0 ||
	    store_folder_create(st, inbox, "Big", FOLDER_TYPE_USER_MAIL, &big) <
		0 ||
	    store_folder_create(st, inbox, "Small", FOLDER_TYPE_USER_MAIL,
				&small) < 0)
		die(st, "folders");

	t0 = now_s();
	if (store_tx_begin(st) < 0)
		die(st, "begin");
	fill(st, big, BIG_ITEMS, &first_big);
	fill(st, small, SMALL_ITEMS, &first_small);
	if (store_tx_commit(st) < 0)
		die(st, "commit");
	printf("build %d + %d items (one transaction): %.2f s\n", BIG_ITEMS,
	       SMALL_ITEMS, now_s() - t0);

	t0 = now_s();
	if (store_tx_begin(st) < 0)
		die(st, "begin");
	key_big = full_sync(st, "BENCHDEV", big);
	key_small = full_sync(st, "BENCHDEV", small);
	if (store_tx_commit(st) < 0)
		die(st, "commit");
	printf("initial sync of both folders, window 512: %.2f s\n",
	       now_s() - t0);

	changes(st, big, first_big);
	changes(st, small, first_small);

	/* Interleaved so that drift (cache, CPU frequency) hits both. */
	for (int i = 0; i < ROUNDS; i++) {
		t_big[i] = window_once(st, "BENCHDEV", big, key_big);
		t_small[i] = window_once(st, "BENCHDEV", small, key_small);
	}
	qsort(t_big, ROUNDS, sizeof(double), cmp_double);
	qsort(t_small, ROUNDS, sizeof(double), cmp_double);
	med_big = t_big[ROUNDS / 2];
	med_small = t_small[ROUNDS / 2];
	printf("next window, %d changes, %d-item folder: median %.1f us\n",
	       NEW_CHANGES, BIG_ITEMS, med_big * 1e6);
	printf("next window, %d changes, %d-item folder: median %.1f us\n",
	       NEW_CHANGES, SMALL_ITEMS, med_small * 1e6);
	printf("ratio big/small: %.2f (target <= 1.2)\n", med_big / med_small);

	store_close(&st);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
