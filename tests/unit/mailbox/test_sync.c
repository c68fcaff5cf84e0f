/* Unit tests for per-device sync state (mailbox/store_sync.c): windowed
 * initial sync, replay of the previous key, the lost-response loop with
 * concurrent changes (G4, G6), FilterType soft-deletes and widening,
 * ClientId de-duplication, no echo of client changes, GetItemEstimate,
 * Ping and FolderSync keys.  A simulated device applies each response to
 * its own view and asserts that no item is ever added twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/changes.h"
#include "mailbox/folders.h"
#include "mailbox/items.h"
#include "mailbox/store.h"
#include "mailbox/store_int.h"
#include "mailbox/syncstate.h"
#include <unistd.h>

#define MAX_ID 4096

struct fixture {
	char dir[64];
	struct store *st;
	int64_t inbox;
};

/* The device's own view: which item ids it holds. */
struct device_sim {
	const char *id;
	uint32_t key;
	bool have[MAX_ID];
	int adds, changes, deletes, soft_deletes;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct store_error err;

	if (fx == NULL)
		return -1;
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/easd-sync-XXXXXX");
	if (mkdtemp(fx->dir) == NULL ||
	    store_open(fx->dir, 7, &fx->st, &err) < 0 ||
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
	(void)system(cmd);
	free(fx);
	return 0;
}

static const char msg_text[] = "Subject: x\r\n\r\nbody\r\n";

static struct item_new
mail(int64_t date)
{
	struct item_new n;

	memset(&n, 0, sizeof(n));
	n.cls = ITEM_CLASS_EMAIL;
	n.date = date;
	n.mime = (const uint8_t *)msg_text;
	n.mime_len = sizeof(msg_text) - 1;
	return n;
}

/* Adds count messages dated date0, date0+1, ... in batches. */
static void
fill(struct store *st, int64_t folder, int count, int64_t date0)
{
	struct item_new msgs[64];
	struct store_delivery r[64];

	for (int done = 0; done < count;) {
		int n = count - done < 64 ? count - done : 64;

		for (int i = 0; i < n; i++)
			msgs[i] = mail(date0 + done + i);
		assert_int_equal(
		    store_deliver_batch(st, folder, msgs, (size_t)n, r), 0);
		done += n;
	}
}

/* Applies a window to the simulated device (the response arrived). */
static void
apply(struct device_sim *d, const struct sync_window *w)
{
	for (size_t i = 0; i < w->count; i++) {
		int64_t id = w->entries[i].item_id;

		assert_true(id > 0 && id < MAX_ID);
		switch (w->entries[i].op) {
		case SYNC_OP_ADD:
			/* G6: never an Add of an item the device has. */
			assert_false(d->have[id]);
			d->have[id] = true;
			d->adds++;
			break;
		case SYNC_OP_CHANGE:
			assert_true(d->have[id]);
			d->changes++;
			break;
		case SYNC_OP_DELETE:
			assert_true(d->have[id]);
			d->have[id] = false;
			d->deletes++;
			break;
		case SYNC_OP_SOFT_DELETE:
			assert_true(d->have[id]);
			d->have[id] = false;
			d->soft_deletes++;
			break;
		}
	}
}

/* One Sync round trip without client commands; returns 0 or -1 and the
 * status of a failure. */
static int
sync_once(struct store *st, const char *device, int64_t coll, uint32_t key,
	  uint32_t window, int64_t cutoff, struct sync_window *w,
	  uint32_t *new_key)
{
	struct store_sync *ss = NULL;

	memset(w, 0, sizeof(*w));
	if (store_sync_begin(st, device, coll, key, &ss) < 0)
		return -1;
	if (key != 0 && store_sync_fetch(ss, window, cutoff, w) < 0) {
		store_sync_abort(&ss);
		return -1;
	}
	return store_sync_commit(&ss, new_key);
}

/* Syncs (no drops) until MoreAvailable is false. */
static void
drain(struct store *st, struct device_sim *d, int64_t coll, uint32_t window,
      int64_t cutoff)
{
	struct sync_window w;
	bool more = true;

	for (int rounds = 0; more; rounds++) {
		assert_true(rounds < 10000);
		assert_int_equal(sync_once(st, d->id, coll, d->key, window,
					   cutoff, &w, &d->key),
				 0);
		apply(d, &w);
		more = w.more_available;
		sync_window_clear(&w);
	}
}

/* The device's view equals the folder's (within the filter). */
static void
assert_view_is_folder(struct store *st, const struct device_sim *d,
		      int64_t coll, int64_t cutoff)
{
	bool in_folder[MAX_ID];
	struct change ch[512];
	int64_t since = 0;
	size_t n;
	bool more = true;

	memset(in_folder, 0, sizeof(in_folder));
	while (more) {
		assert_int_equal(
		    store_changes_since(st, coll, since, ch, 512, &n, &more),
		    0);
		for (size_t i = 0; i < n; i++) {
			struct item *it = NULL;

			since = ch[i].modseq;
			if (ch[i].kind == CHANGE_DELETE)
				continue;
			assert_int_equal(
			    store_item_get(st, ch[i].item_id, 0, &it), 0);
			in_folder[ch[i].item_id] =
			    cutoff == 0 || it->date >= cutoff;
			item_free(&it);
		}
	}
	for (int64_t id = 0; id < MAX_ID; id++)
		if (in_folder[id] != d->have[id])
			fail_msg("item %lld: folder %d device %d",
				 (long long)id, in_folder[id], d->have[id]);
}

static void
test_initial_sync_windowed(void **state)
{
	struct fixture *fx = *state;
	struct device_sim *d = calloc(1, sizeof(*d));
	struct sync_window w;

	d->id = "DEV1";
	fill(fx->st, fx->inbox, 300, 1000);
	/* SyncKey 0: no items, key 1. */
	assert_int_equal(
	    sync_once(fx->st, d->id, fx->inbox, 0, 0, 0, &w, &d->key), 0);
	assert_int_equal(d->key, 1);
	drain(fx->st, d, fx->inbox, 37, 0);
	assert_int_equal(d->adds, 300);
	assert_int_equal(d->changes + d->deletes, 0);
	assert_int_equal(d->key, 1 + 9); /* ceil(300 / 37) windows */
	assert_view_is_folder(fx->st, d, fx->inbox, 0);
	/* Nothing new: an empty window. */
	assert_int_equal(
	    sync_once(fx->st, d->id, fx->inbox, d->key, 37, 0, &w, &d->key), 0);
	assert_int_equal(w.count, 0);
	assert_false(w.more_available);
	sync_window_clear(&w);
	free(d);
}

static void
test_replay_previous_key(void **state)
{
	struct fixture *fx = *state;
	struct sync_window w1, w2, w3;
	uint32_t k1, k2, k2b, k;
	struct item_change c;

	fill(fx->st, fx->inbox, 20, 1000);
	assert_int_equal(sync_once(fx->st, "D", fx->inbox, 0, 0, 0, &w1, &k1),
			 0);
	assert_int_equal(sync_once(fx->st, "D", fx->inbox, k1, 8, 0, &w1, &k2),
			 0);
	assert_int_equal(w1.count, 8);
	assert_true(w1.more_available);
	/* The response was lost: the same key again gives the same items
	 * under the same new key. */
	assert_int_equal(sync_once(fx->st, "D", fx->inbox, k1, 8, 0, &w2, &k2b),
			 0);
	assert_int_equal(k2b, k2);
	assert_int_equal(w2.count, w1.count);
	for (size_t i = 0; i < w1.count; i++) {
		assert_int_equal(w2.entries[i].item_id, w1.entries[i].item_id);
		assert_int_equal(w2.entries[i].op, SYNC_OP_ADD);
	}
	/* A change to an item of the lost window, a new message and a
	 * deleted item: the replay is the same window (the changed item
	 * still an Add, with its current data), minus the deleted item;
	 * nothing newer. */
	memset(&c, 0, sizeof(c));
	c.mask = ITEM_CHANGE_READ;
	c.flags.read = true;
	assert_int_equal(
	    store_item_change(fx->st, w1.entries[0].item_id, &c, NULL), 0);
	assert_int_equal(store_item_delete(fx->st, w1.entries[3].item_id), 0);
	fill(fx->st, fx->inbox, 1, 5000);
	assert_int_equal(sync_once(fx->st, "D", fx->inbox, k1, 8, 0, &w3, &k2b),
			 0);
	assert_int_equal(k2b, k2);
	assert_int_equal(w3.count, 7);
	assert_true(w3.more_available);
	for (size_t i = 0, j = 0; i < w1.count; i++) {
		if (i == 3)
			continue;
		assert_int_equal(w3.entries[j].op, SYNC_OP_ADD);
		assert_int_equal(w3.entries[j].item_id, w1.entries[i].item_id);
		j++;
	}
	sync_window_clear(&w3);
	/* The estimate from the previous key counts the replay and what
	 * follows: 12 older items and the new one as Adds, the changed item
	 * as a Change, the deleted one as a Delete. */
	{
		int64_t est;

		assert_int_equal(
		    store_sync_estimate(fx->st, "D", fx->inbox, k1, 0, &est),
		    0);
		assert_int_equal(est, 7 + 12 + 1 + 1 + 1);
	}
	/* Invalid keys: too old, from the future, never issued. */
	assert_int_equal(
	    sync_once(fx->st, "D", fx->inbox, k2 + 1, 8, 0, &w3, &k), -1);
	assert_int_equal(store_last_error(fx->st)->status, STORE_INVALID);
	assert_int_equal(sync_once(fx->st, "D", fx->inbox, k2, 8, 0, &w3, &k),
			 0);
	sync_window_clear(&w3);
	assert_int_equal(sync_once(fx->st, "D", fx->inbox, k1, 8, 0, &w3, &k),
			 -1);
	assert_int_equal(store_last_error(fx->st)->status, STORE_INVALID);
	assert_int_equal(
	    sync_once(fx->st, "OTHER", fx->inbox, 1, 8, 0, &w3, &k), -1);
	assert_int_equal(store_last_error(fx->st)->status, STORE_INVALID);
	assert_int_equal(sync_once(fx->st, "D", 9999, 0, 8, 0, &w3, &k), -1);
	assert_int_equal(store_last_error(fx->st)->status, STORE_NOT_FOUND);
	sync_window_clear(&w1);
	sync_window_clear(&w2);
}

/* Deterministic pseudo-random numbers (no libc state). */
static uint32_t
rnd(uint64_t *seed)
{
	*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*seed >> 33);
}

static int64_t
random_item(struct store *st, int64_t folder, uint64_t *seed)
{
	struct change ch[512];
	int64_t live[512];
	size_t n, nlive = 0;
	bool more;

	assert_int_equal(store_changes_since(st, folder, 0, ch, 512, &n, &more),
			 0);
	for (size_t i = 0; i < n; i++)
		if (ch[i].kind != CHANGE_DELETE)
			live[nlive++] = ch[i].item_id;
	return nlive > 0 ? live[rnd(seed) % nlive] : 0;
}

/*
 * G6: drop 30% of responses (the client resends its previous key), with
 * adds, changes, moves and deletes between rounds and client Adds in some
 * requests; at the end the device's view equals the folder and no item
 * was added twice.
 */
static void
test_lost_response_loop(void **state)
{
	struct fixture *fx = *state;
	struct device_sim *d = calloc(1, sizeof(*d));
	int64_t trash;
	uint64_t seed = 42;
	struct sync_window w;
	int dropped = 0, client_adds = 0;
	char client_id[32];
	int next_client = 0;
	bool add_pending = false;
	static const int64_t cutoffs[] = {0, 1050, 2100};
	int64_t cutoff = 0;

	assert_int_equal(
	    store_folder_by_type(fx->st, FOLDER_TYPE_DELETED, &trash), 0);
	d->id = "LOSSY";
	fill(fx->st, fx->inbox, 120, 1000);
	assert_int_equal(
	    sync_once(fx->st, d->id, fx->inbox, 0, 0, 0, &w, &d->key), 0);
	for (int round = 0; round < 300; round++) {
		struct store_sync *ss = NULL;
		uint32_t new_key;
		int64_t client_item = 0, victim;
		bool drop = rnd(&seed) % 10 < 3;
		bool with_add = rnd(&seed) % 5 == 0 || add_pending;
		struct item_change c;

		/* Server-side activity between rounds. */
		switch (rnd(&seed) % 5) {
		case 0:
			fill(fx->st, fx->inbox, 1 + (int)(rnd(&seed) % 4),
			     2000 + round);
			break;
		case 1:
			victim = random_item(fx->st, fx->inbox, &seed);
			if (victim != 0)
				assert_int_equal(
				    store_item_delete(fx->st, victim), 0);
			break;
		case 2:
			victim = random_item(fx->st, fx->inbox, &seed);
			memset(&c, 0, sizeof(c));
			c.mask = ITEM_CHANGE_READ;
			c.flags.read = rnd(&seed) % 2;
			if (victim != 0)
				assert_int_equal(
				    store_item_change(fx->st, victim, &c, NULL),
				    0);
			break;
		case 3:
			victim = random_item(fx->st, fx->inbox, &seed);
			if (victim != 0)
				assert_int_equal(store_item_move(fx->st, victim,
								 trash, NULL),
						 0);
			break;
		default:
			break;
		}
		/* A request with a client Add re-sends the same ClientId
		 * until its response arrives. */
		if (with_add)
			(void)snprintf(client_id, sizeof(client_id), "c%d",
				       next_client);
		assert_int_equal(
		    store_sync_begin(fx->st, d->id, fx->inbox, d->key, &ss), 0);
		if (with_add) {
			struct item_new n = mail(5000 + round);

			assert_int_equal(store_sync_client_add(
					     ss, client_id, &n, &client_item),
					 0);
		}
		/* The device changes its FilterType now and then. */
		if (round % 20 == 0)
			cutoff = cutoffs[rnd(&seed) % 3];
		assert_int_equal(store_sync_fetch(ss, 10, cutoff, &w), 0);
		assert_int_equal(store_sync_commit(&ss, &new_key), 0);
		if (drop) {
			dropped++;
			/* The client re-sends its Add until answered. */
			add_pending = with_add;
		} else {
			add_pending = false;
			if (with_add) {
				assert_false(d->have[client_item]);
				d->have[client_item] = true;
				next_client++;
				client_adds++;
			}
			apply(d, &w);
			d->key = new_key;
		}
		sync_window_clear(&w);
	}
	drain(fx->st, d, fx->inbox, 10, cutoff);
	assert_view_is_folder(fx->st, d, fx->inbox, cutoff);
	drain(fx->st, d, fx->inbox, 10, 0);
	assert_view_is_folder(fx->st, d, fx->inbox, 0);
	assert_true(d->soft_deletes > 0);
	assert_true(dropped > 50);
	assert_true(client_adds > 20);
	assert_true(d->deletes > 0);
	assert_true(d->changes > 0);
	assert_int_equal(store_check(fx->st), 0);
	free(d);
}

/* One Sync request of the simulated device, with an optional client Add. */
static void
request(struct store *st, struct device_sim *d, int64_t coll,
	const char *client_id, int64_t date, struct sync_window *w,
	uint32_t *new_key, int64_t *client_item)
{
	struct store_sync *ss = NULL;

	assert_int_equal(store_sync_begin(st, d->id, coll, d->key, &ss), 0);
	if (client_id != NULL) {
		struct item_new n = mail(date);

		assert_int_equal(
		    store_sync_client_add(ss, client_id, &n, client_item), 0);
	}
	assert_int_equal(store_sync_fetch(ss, 6, 0, w), 0);
	assert_int_equal(store_sync_commit(&ss, new_key), 0);
}

/*
 * reliability.md: requests sent twice concurrently.  The second copy of a
 * request arrives after the first was answered, with server changes in
 * between; the client keeps either response at random.  Both copies must
 * carry the same key and entries, so that the device never misses an item
 * or gets an Add twice (G4, G6).
 */
static void
test_duplicate_requests(void **state)
{
	struct fixture *fx = *state;
	struct device_sim *d = calloc(1, sizeof(*d));
	uint64_t seed = 99;
	struct sync_window wa, wb;
	int dups = 0;

	d->id = "TWICE";
	fill(fx->st, fx->inbox, 40, 1000);
	assert_int_equal(
	    sync_once(fx->st, d->id, fx->inbox, 0, 0, 0, &wa, &d->key), 0);
	for (int round = 0; round < 80; round++) {
		char cid[16];
		const char *client_id = NULL;
		int64_t item_a = 0, item_b = 0, victim;
		uint32_t ka, kb;
		bool dup = rnd(&seed) % 3 == 0;

		if (rnd(&seed) % 4 == 0) {
			(void)snprintf(cid, sizeof(cid), "t%d", round);
			client_id = cid;
		}
		request(fx->st, d, fx->inbox, client_id, 3000 + round, &wa, &ka,
			&item_a);
		if (!dup) {
			if (client_id != NULL)
				d->have[item_a] = true;
			apply(d, &wa);
			d->key = ka;
			sync_window_clear(&wa);
			fill(fx->st, fx->inbox, 1, 2000 + round);
			continue;
		}
		dups++;
		/* Changes land between the two copies. */
		fill(fx->st, fx->inbox, 1, 2000 + round);
		victim = random_item(fx->st, fx->inbox, &seed);
		if (victim != 0)
			assert_int_equal(store_item_delete(fx->st, victim), 0);
		request(fx->st, d, fx->inbox, client_id, 3000 + round, &wb, &kb,
			&item_b);
		assert_int_equal(ka, kb);
		assert_int_equal(item_a, item_b);
		if (client_id != NULL)
			d->have[item_a] = true;
		apply(d, rnd(&seed) % 2 ? &wa : &wb);
		d->key = ka;
		sync_window_clear(&wa);
		sync_window_clear(&wb);
	}
	drain(fx->st, d, fx->inbox, 6, 0);
	assert_view_is_folder(fx->st, d, fx->inbox, 0);
	assert_true(dups > 15);
	free(d);
}

static void
test_filter_window(void **state)
{
	struct fixture *fx = *state;
	struct device_sim *d = calloc(1, sizeof(*d));
	struct sync_window w;
	int64_t est = -1;

	d->id = "FILTER";
	fill(fx->st, fx->inbox, 100, 100); /* dates 100..199 */
	assert_int_equal(
	    sync_once(fx->st, d->id, fx->inbox, 0, 0, 0, &w, &d->key), 0);
	drain(fx->st, d, fx->inbox, 7, 150);
	assert_int_equal(d->adds, 50);
	assert_view_is_folder(fx->st, d, fx->inbox, 150);
	/* The window narrows: 20 items leave as SoftDelete. */
	assert_int_equal(
	    store_sync_estimate(fx->st, d->id, fx->inbox, d->key, 170, &est),
	    0);
	assert_int_equal(est, 20);
	drain(fx->st, d, fx->inbox, 7, 170);
	assert_int_equal(d->soft_deletes, 20);
	assert_view_is_folder(fx->st, d, fx->inbox, 170);
	/* A new old message is not sent; a new recent one is. */
	fill(fx->st, fx->inbox, 1, 50);
	fill(fx->st, fx->inbox, 1, 500);
	drain(fx->st, d, fx->inbox, 7, 170);
	assert_int_equal(d->adds, 51);
	assert_view_is_folder(fx->st, d, fx->inbox, 170);
	/* No filter: every older item arrives, each once. */
	assert_int_equal(
	    store_sync_estimate(fx->st, d->id, fx->inbox, d->key, 0, &est), 0);
	assert_int_equal(est, 71);
	drain(fx->st, d, fx->inbox, 7, 0);
	assert_int_equal(d->adds, 51 + 71);
	assert_view_is_folder(fx->st, d, fx->inbox, 0);
	/* And narrower again from no filter. */
	drain(fx->st, d, fx->inbox, 7, 190);
	assert_view_is_folder(fx->st, d, fx->inbox, 190);
	/* The filter changes in the middle of a widening: one window of
	 * the wider filter, then a narrower one, then the widest. */
	{
		struct sync_window w1;

		assert_int_equal(sync_once(fx->st, d->id, fx->inbox, d->key, 7,
					   0, &w1, &d->key),
				 0);
		assert_true(w1.more_available);
		apply(d, &w1);
		sync_window_clear(&w1);
	}
	/* The 7 added were dated 183..189 (newest first): some are now
	 * outside the window and must leave. */
	drain(fx->st, d, fx->inbox, 7, 187);
	assert_view_is_folder(fx->st, d, fx->inbox, 187);
	drain(fx->st, d, fx->inbox, 5, 0);
	assert_view_is_folder(fx->st, d, fx->inbox, 0);
	free(d);
}

static void
test_client_commands(void **state)
{
	struct fixture *fx = *state;
	struct store_sync *ss = NULL;
	struct sync_window w;
	struct item_change c;
	struct item_new n = mail(3000);
	int64_t trash, id, id2, m0, m1, count;
	uint32_t k, k2, k3;
	bool pending;

	assert_int_equal(
	    store_folder_by_type(fx->st, FOLDER_TYPE_DELETED, &trash), 0);
	assert_int_equal(sync_once(fx->st, "C", fx->inbox, 0, 0, 0, &w, &k), 0);
	/* No commands with key 0. */
	assert_int_equal(store_sync_begin(fx->st, "C", fx->inbox, 0, &ss), 0);
	assert_int_equal(store_sync_client_add(ss, "x", &n, &id), -1);
	assert_int_equal(store_last_error(fx->st)->status, STORE_INVALID);
	store_sync_abort(&ss);
	assert_int_equal(sync_once(fx->st, "C", fx->inbox, 0, 0, 0, &w, &k), 0);

	assert_int_equal(store_sync_begin(fx->st, "C", fx->inbox, k, &ss), 0);
	assert_int_equal(store_sync_client_add(ss, "cid-1", &n, &id), 0);
	assert_int_equal(store_sync_client_add(ss, "", &n, &id2), -1);
	assert_int_equal(store_sync_fetch(ss, 10, 0, &w), 0);
	assert_int_equal(w.count, 0); /* not echoed */
	sync_window_clear(&w);
	assert_int_equal(store_sync_commit(&ss, &k2), 0);
	/* The response was lost: same key, same ClientId, same item. */
	assert_int_equal(store_folder_modseq(fx->st, fx->inbox, &m0), 0);
	assert_int_equal(store_sync_begin(fx->st, "C", fx->inbox, k, &ss), 0);
	assert_int_equal(store_sync_client_add(ss, "cid-1", &n, &id2), 0);
	assert_int_equal(id2, id);
	assert_int_equal(store_sync_fetch(ss, 10, 0, &w), 0);
	assert_int_equal(w.count, 0);
	sync_window_clear(&w);
	assert_int_equal(store_sync_commit(&ss, &k2), 0);
	assert_int_equal(store_folder_modseq(fx->st, fx->inbox, &m1), 0);
	assert_int_equal(m1, m0); /* no second item */

	/* A client change is stored but not echoed; Ping stays quiet. */
	memset(&c, 0, sizeof(c));
	c.mask = ITEM_CHANGE_READ;
	c.flags.read = true;
	assert_int_equal(store_sync_begin(fx->st, "C", fx->inbox, k2, &ss), 0);
	assert_int_equal(store_sync_client_change(ss, id, &c), 0);
	assert_int_equal(store_sync_client_change(ss, 99999, &c), -1);
	assert_int_equal(store_last_error(fx->st)->status, STORE_NOT_FOUND);
	assert_int_equal(store_sync_fetch(ss, 10, 0, &w), 0);
	assert_int_equal(w.count, 0);
	sync_window_clear(&w);
	assert_int_equal(store_sync_commit(&ss, &k3), 0);
	assert_int_equal(store_sync_pending(fx->st, "C", fx->inbox, &pending),
			 0);
	assert_false(pending);
	/* A change from elsewhere not yet sent to C, then C changes the
	 * item too: C gets the merged item back as a Change. */
	{
		struct item_change other;
		struct item *it = NULL;

		memset(&other, 0, sizeof(other));
		other.mask = ITEM_CHANGE_CATEGORIES;
		other.flags.categories = "Blue";
		assert_int_equal(store_item_change(fx->st, id, &other, NULL),
				 0);
		c.flags.read = false;
		assert_int_equal(
		    store_sync_begin(fx->st, "C", fx->inbox, k3, &ss), 0);
		assert_int_equal(store_sync_client_change(ss, id, &c), 0);
		assert_int_equal(store_sync_fetch(ss, 10, 0, &w), 0);
		assert_int_equal(w.count, 1);
		assert_int_equal(w.entries[0].op, SYNC_OP_CHANGE);
		sync_window_clear(&w);
		assert_int_equal(store_sync_commit(&ss, &k3), 0);
		assert_int_equal(store_item_get(fx->st, id, 0, &it), 0);
		assert_string_equal(it->flags.categories, "Blue");
		assert_false(it->flags.read);
		item_free(&it);
	}
	/* Another device sees the item (with its change) as an Add. */
	assert_int_equal(sync_once(fx->st, "OTHER", fx->inbox, 0, 0, 0, &w, &k),
			 0);
	assert_int_equal(
	    sync_once(fx->st, "OTHER", fx->inbox, k, 10, 0, &w, &k), 0);
	assert_int_equal(w.count, 1);
	assert_int_equal(w.entries[0].item_id, id);
	sync_window_clear(&w);

	/* New mail: Ping fires, the estimate counts it. */
	fill(fx->st, fx->inbox, 2, 4000);
	assert_int_equal(store_sync_pending(fx->st, "C", fx->inbox, &pending),
			 0);
	assert_true(pending);
	assert_int_equal(
	    store_sync_estimate(fx->st, "C", fx->inbox, k3, 0, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(
	    store_sync_estimate(fx->st, "C", fx->inbox, k3 + 1, 0, &count), -1);
	assert_int_equal(store_last_error(fx->st)->status, STORE_INVALID);
	assert_int_equal(
	    store_sync_estimate(fx->st, "C", fx->inbox, 0, 0, &count), -1);
	/* The estimate issued nothing: k3 is still the key. */
	assert_int_equal(sync_once(fx->st, "C", fx->inbox, k3, 10, 0, &w, &k),
			 0);
	assert_int_equal(w.count, 2);
	sync_window_clear(&w);
	assert_int_equal(store_sync_pending(fx->st, "C", fx->inbox, &pending),
			 0);
	assert_false(pending);

	/* Client delete with DeletesAsMoves; a re-sent delete succeeds, an
	 * unknown one does not. */
	assert_int_equal(store_sync_begin(fx->st, "C", fx->inbox, k, &ss), 0);
	assert_int_equal(store_sync_client_delete(ss, id, trash), 0);
	assert_int_equal(store_sync_client_delete(ss, 99999, 0), -1);
	assert_int_equal(store_sync_fetch(ss, 10, 0, &w), 0);
	assert_int_equal(w.count, 0);
	sync_window_clear(&w);
	assert_int_equal(store_sync_commit(&ss, &k2), 0);
	assert_int_equal(store_sync_begin(fx->st, "C", fx->inbox, k, &ss), 0);
	assert_int_equal(store_sync_client_delete(ss, id, trash), 0);
	assert_int_equal(store_sync_commit(&ss, &k2), 0);
	{
		struct item *it = NULL;

		assert_int_equal(store_item_get(fx->st, id, 0, &it), 0);
		assert_int_equal(it->folder_id, trash);
		item_free(&it);
	}
	assert_int_equal(
	    store_sync_estimate(fx->st, "NOBODY", fx->inbox, 1, 0, &count), -1);
	assert_int_equal(store_sync_forget_device(fx->st, "C"), 0);
	assert_int_equal(sync_once(fx->st, "C", fx->inbox, k2, 10, 0, &w, &k),
			 -1);
	assert_int_equal(store_last_error(fx->st)->status, STORE_INVALID);
}

static void
test_client_move(void **state)
{
	struct fixture *fx = *state;
	struct sync_window w;
	uint32_t ki, kt, ko, kot;
	int64_t trash, id;
	struct change ch[4];
	size_t n;
	bool more;

	assert_int_equal(
	    store_folder_by_type(fx->st, FOLDER_TYPE_DELETED, &trash), 0);
	fill(fx->st, fx->inbox, 3, 1000);
	/* Device M and device O have both folders synced. */
	assert_int_equal(sync_once(fx->st, "M", fx->inbox, 0, 0, 0, &w, &ki),
			 0);
	assert_int_equal(sync_once(fx->st, "M", fx->inbox, ki, 10, 0, &w, &ki),
			 0);
	assert_int_equal(w.count, 3);
	id = w.entries[1].item_id;
	sync_window_clear(&w);
	assert_int_equal(sync_once(fx->st, "M", trash, 0, 0, 0, &w, &kt), 0);
	assert_int_equal(sync_once(fx->st, "O", fx->inbox, 0, 0, 0, &w, &ko),
			 0);
	assert_int_equal(sync_once(fx->st, "O", fx->inbox, ko, 10, 0, &w, &ko),
			 0);
	sync_window_clear(&w);
	assert_int_equal(sync_once(fx->st, "O", trash, 0, 0, 0, &w, &kot), 0);

	assert_int_equal(store_sync_client_move(fx->st, "M", id, trash, NULL),
			 0);
	assert_int_equal(
	    store_changes_since(fx->st, trash, 0, ch, 4, &n, &more), 0);
	assert_int_equal(n, 1);
	/* M made the move: nothing to tell it. */
	assert_int_equal(sync_once(fx->st, "M", fx->inbox, ki, 10, 0, &w, &ki),
			 0);
	assert_int_equal(w.count, 0);
	sync_window_clear(&w);
	assert_int_equal(sync_once(fx->st, "M", trash, kt, 10, 0, &w, &kt), 0);
	assert_int_equal(w.count, 0);
	sync_window_clear(&w);
	/* O learns both halves. */
	assert_int_equal(sync_once(fx->st, "O", fx->inbox, ko, 10, 0, &w, &ko),
			 0);
	assert_int_equal(w.count, 1);
	assert_int_equal(w.entries[0].op, SYNC_OP_DELETE);
	sync_window_clear(&w);
	assert_int_equal(sync_once(fx->st, "O", trash, kot, 10, 0, &w, &kot),
			 0);
	assert_int_equal(w.count, 1);
	assert_int_equal(w.entries[0].op, SYNC_OP_ADD);
	assert_int_equal(w.entries[0].item_id, id);
	sync_window_clear(&w);
	/* Same folder: refused (MoveItems Status 4). */
	assert_int_equal(store_sync_client_move(fx->st, "M", id, trash, NULL),
			 -1);
	assert_int_equal(store_last_error(fx->st)->status, STORE_INVALID);
}

static void
test_tombstone_compaction(void **state)
{
	struct fixture *fx = *state;
	struct device_sim *d = calloc(1, sizeof(*d));
	struct sync_window w;
	struct change ch[64];
	int64_t removed, victim;
	uint64_t seed = 7;
	size_t n;
	bool more;

	d->id = "GC";
	fill(fx->st, fx->inbox, 20, 1000);
	assert_int_equal(
	    sync_once(fx->st, d->id, fx->inbox, 0, 0, 0, &w, &d->key), 0);
	drain(fx->st, d, fx->inbox, 50, 0);
	for (int i = 0; i < 5; i++) {
		victim = random_item(fx->st, fx->inbox, &seed);
		assert_int_equal(store_item_delete(fx->st, victim), 0);
	}
	/* The device has not seen the deletes: nothing may go. */
	assert_int_equal(store_changes_compact(fx->st, &removed), 0);
	assert_int_equal(removed, 0);
	drain(fx->st, d, fx->inbox, 50, 0);
	assert_int_equal(d->deletes, 5);
	/* Its previous key is still valid and predates the deletes. */
	assert_int_equal(store_changes_compact(fx->st, &removed), 0);
	assert_int_equal(removed, 0);
	drain(fx->st, d, fx->inbox, 50, 0);
	assert_int_equal(store_changes_compact(fx->st, &removed), 0);
	assert_int_equal(removed, 5);
	assert_int_equal(
	    store_changes_since(fx->st, fx->inbox, 0, ch, 64, &n, &more), 0);
	assert_int_equal(n, 15);
	/* Still exact afterwards, for this device and for a new one. */
	assert_view_is_folder(fx->st, d, fx->inbox, 0);
	drain(fx->st, d, fx->inbox, 50, 0);
	assert_int_equal(d->adds, 20);
	memset(d, 0, sizeof(*d));
	d->id = "GC2";
	assert_int_equal(
	    sync_once(fx->st, d->id, fx->inbox, 0, 0, 0, &w, &d->key), 0);
	drain(fx->st, d, fx->inbox, 4, 0);
	assert_int_equal(d->adds, 15);
	assert_int_equal(d->deletes, 0);
	assert_view_is_folder(fx->st, d, fx->inbox, 0);
	free(d);
}

/* G8: an item whose stored properties are damaged fails alone (its fetch
 * answers STORE_CORRUPT); the folder still syncs. */
static void
test_poison_item(void **state)
{
	struct fixture *fx = *state;
	struct sync_window w;
	struct item *it = NULL;
	char path[256], sql[128];
	sqlite3 *db = NULL;
	uint32_t k;
	int64_t ids[3];
	size_t n, corrupt = 0;

	fill(fx->st, fx->inbox, 3, 1000);
	assert_int_equal(store_folder_items(fx->st, fx->inbox, 0, 3, ids, &n),
			 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_user_path(fx->dir, 7, path, sizeof(path)), 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	(void)snprintf(sql, sizeof(sql),
		       "UPDATE items SET props = x'01100500' WHERE id = %lld",
		       (long long)ids[1]);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(sync_once(fx->st, "P", fx->inbox, 0, 0, 0, &w, &k), 0);
	assert_int_equal(sync_once(fx->st, "P", fx->inbox, k, 10, 0, &w, &k),
			 0);
	assert_int_equal(w.count, 3);
	for (size_t i = 0; i < w.count; i++) {
		if (store_item_get(fx->st, w.entries[i].item_id, 0, &it) < 0) {
			assert_int_equal(store_last_error(fx->st)->status,
					 STORE_CORRUPT);
			assert_int_equal(w.entries[i].item_id, ids[1]);
			corrupt++;
			continue;
		}
		item_free(&it);
	}
	assert_int_equal(corrupt, 1);
	sync_window_clear(&w);
}

/* G3: if issuing the new key fails (disk full, I/O error at any step),
 * nothing of the window is recorded and the old key still works. */
static void
test_sync_commit_faults(void **state)
{
	struct fixture *fx = *state;
	struct store_sync *ss = NULL;
	struct sync_window w;
	uint32_t k, k2;
	int failures = 0;

	fill(fx->st, fx->inbox, 5, 1000);
	assert_int_equal(sync_once(fx->st, "G3", fx->inbox, 0, 0, 0, &w, &k),
			 0);
	for (int nth = 1; nth < 200; nth++) {
		int rc;

		store_fault_inject(nth, nth % 2 ? 13 /* SQLITE_FULL */
						: 10 /* SQLITE_IOERR */);
		rc = store_sync_begin(fx->st, "G3", fx->inbox, k, &ss);
		if (rc == 0) {
			rc = store_sync_fetch(ss, 10, 0, &w);
			if (rc == 0)
				sync_window_clear(&w);
			if (rc == 0)
				rc = store_sync_commit(&ss, &k2);
			else
				store_sync_abort(&ss);
		}
		store_fault_inject(0, 0);
		if (rc == 0)
			break;
		failures++;
		assert_true(store_last_error(fx->st)->status == STORE_FULL ||
			    store_last_error(fx->st)->status == STORE_IO);
		/* Nothing was issued: the next key is still unknown... */
		assert_int_equal(
		    sync_once(fx->st, "G3", fx->inbox, k + 1, 10, 0, &w, &k2),
		    -1);
		assert_int_equal(store_last_error(fx->st)->status,
				 STORE_INVALID);
	}
	assert_true(failures > 10);
	/* ...and the window that finally went through holds all five. */
	assert_int_equal(sync_once(fx->st, "G3", fx->inbox, k, 10, 0, &w, &k2),
			 0);
	assert_int_equal(w.count, 5);
	for (size_t i = 0; i < w.count; i++)
		assert_int_equal(w.entries[i].op, SYNC_OP_ADD);
	sync_window_clear(&w);
}

static void
test_foldersync_keys(void **state)
{
	struct fixture *fx = *state;
	struct folder_changes *ch = NULL;
	uint32_t k1, k2, k3, k3b;
	int64_t id;

	assert_int_equal(store_foldersync(fx->st, "F", 0, &ch, &k1), 0);
	assert_int_equal(k1, 1);
	assert_int_equal(ch->count, 10);
	folder_changes_free(&ch);
	assert_int_equal(store_foldersync(fx->st, "F", k1, &ch, &k2), 0);
	assert_int_equal(ch->count, 0);
	folder_changes_free(&ch);
	assert_int_equal(store_folder_create(fx->st, fx->inbox, "Sub",
					     FOLDER_TYPE_USER_MAIL, &id),
			 0);
	assert_int_equal(store_foldersync(fx->st, "F", k2, &ch, &k3), 0);
	assert_int_equal(ch->count, 1);
	assert_int_equal(ch->changes[0].kind, FOLDER_CHANGE_ADD);
	assert_int_equal(ch->changes[0].folder.id, id);
	folder_changes_free(&ch);
	/* Lost response: the previous key again. */
	assert_int_equal(store_foldersync(fx->st, "F", k2, &ch, &k3b), 0);
	assert_int_equal(ch->count, 1);
	assert_int_equal(k3b, k3);
	folder_changes_free(&ch);
	assert_int_equal(store_foldersync(fx->st, "F", k1, &ch, &k3b), -1);
	assert_int_equal(store_last_error(fx->st)->status, STORE_INVALID);
	assert_null(ch);
	/* Deleting a synced folder: the collection is gone. */
	{
		struct sync_window w;
		uint32_t k;

		assert_int_equal(sync_once(fx->st, "F", id, 0, 0, 0, &w, &k),
				 0);
		assert_int_equal(store_folder_delete(fx->st, id), 0);
		assert_int_equal(sync_once(fx->st, "F", id, k, 5, 0, &w, &k),
				 -1);
		assert_int_equal(store_last_error(fx->st)->status,
				 STORE_NOT_FOUND);
	}
	assert_int_equal(store_foldersync(fx->st, "F", k3, &ch, &k1), 0);
	assert_int_equal(ch->count, 1);
	assert_int_equal(ch->changes[0].kind, FOLDER_CHANGE_DELETE);
	folder_changes_free(&ch);
}

/* Items in a folder, from the folder list's counts. */
static int64_t
folder_items(struct store *st, int64_t folder)
{
	struct folder_list *fl = NULL;
	int64_t n = -1;

	assert_int_equal(store_folder_list(st, true, &fl), 0);
	for (size_t i = 0; i < fl->count; i++)
		if (fl->folders[i].id == folder)
			n = fl->folders[i].items;
	folder_list_free(&fl);
	return n;
}

/* The outcome bytes of a request, as rpc_sync.c would record them: here
 * the ids the commands got and their statuses, as text. */
struct cmd_outcome {
	int64_t add_id;
	int add_rc;
	int del_rc;
	int change_rc;
};

/* ApplyChanges(key, commands) the first time: apply, record, commit
 * without a key. */
static void
apply_commands(struct store *st, uint32_t key, const uint8_t *digest,
	       int64_t change_id, struct cmd_outcome *o)
{
	struct store_sync *ss = NULL;
	struct item_new n = mail(5000);
	struct item_change c;
	uint8_t *rec = NULL;
	size_t len;

	memset(&c, 0, sizeof(c));
	c.mask = ITEM_CHANGE_READ;
	c.flags.read = true;
	assert_int_equal(store_sync_begin(st, "R", 1, key, &ss), 0);
	assert_int_equal(store_sync_outcome_get(ss, digest, &rec, &len), -1);
	assert_int_equal(store_last_error(st)->status, STORE_NOT_FOUND);
	memset(o, 0, sizeof(*o));
	o->add_rc = store_sync_client_add(ss, "cid-r1", &n, &o->add_id);
	o->del_rc = store_sync_client_delete(ss, 987654, 0);
	o->change_rc = store_sync_client_change(ss, change_id, &c);
	assert_int_equal(
	    store_sync_outcome_put(ss, digest, (const void *)o, sizeof(*o)), 0);
	assert_int_equal(store_sync_commit_commands(&ss), 0);
	assert_null(ss);
}

/* GetChanges(key): the window and the new key. */
static void
get_changes(struct store *st, uint32_t key, struct sync_window *w,
	    uint32_t *new_key_r)
{
	struct store_sync *ss = NULL;

	assert_int_equal(store_sync_begin(st, "R", 1, key, &ss), 0);
	assert_int_equal(store_sync_fetch(ss, 50, 0, w), 0);
	assert_int_equal(store_sync_commit(&ss, new_key_r), 0);
}

static void
reopen(struct fixture *fx)
{
	struct store_error err;

	store_close(&fx->st);
	assert_int_equal(store_open(fx->dir, 7, &fx->st, &err), 0);
}

/*
 * Issue 3: a Sync with client commands in two requests (ApplyChanges(K)
 * then GetChanges(K)), its answer lost, the daemon restarted (the handle
 * closed and reopened), the same Sync again: the recorded outcome, the
 * same key K2 and the same window; no second item, commands not applied
 * twice.  Then the device moves on and the record goes.
 */
static void
test_commands_replay_after_restart(void **state)
{
	struct fixture *fx = *state;
	struct store_sync *ss = NULL;
	struct sync_window w1, w2;
	struct cmd_outcome o1, *o2;
	uint8_t digest[STORE_SYNC_DIGEST_BYTES], other[STORE_SYNC_DIGEST_BYTES];
	uint8_t *rec = NULL;
	size_t len = 0;
	uint32_t k, k2, k2b, k3;
	int64_t before, m0, m1, first_id;
	struct device_sim d = {.id = "R"};

	assert_int_equal(fx->inbox, 1);
	memset(digest, 0xd1, sizeof(digest));
	memset(other, 0xd2, sizeof(other));
	fill(fx->st, fx->inbox, 3, 1000);
	assert_int_equal(sync_once(fx->st, "R", fx->inbox, 0, 0, 0, &w1, &k),
			 0);
	d.key = k;
	drain(fx->st, &d, fx->inbox, 50, 0);
	k = d.key;
	first_id = 1;
	fill(fx->st, fx->inbox, 2, 2000); /* news for the window */

	apply_commands(fx->st, k, digest, first_id, &o1);
	assert_int_equal(o1.add_rc, 0);
	assert_int_equal(o1.del_rc, -1); /* never had it: not found */
	assert_int_equal(o1.change_rc, 0);
	get_changes(fx->st, k, &w1, &k2);
	assert_int_equal(k2, k + 1); /* one Sync, one key */
	assert_int_equal(w1.count, 2);
	before = folder_items(fx->st, fx->inbox);
	assert_int_equal(store_folder_modseq(fx->st, fx->inbox, &m0), 0);

	reopen(fx);

	/* The same ApplyChanges(K): the recorded outcome, nothing applied. */
	assert_int_equal(store_sync_begin(fx->st, "R", 1, k, &ss), 0);
	assert_int_equal(store_sync_outcome_get(ss, other, &rec, &len), -1);
	assert_int_equal(store_last_error(fx->st)->status, STORE_NOT_FOUND);
	assert_int_equal(store_sync_outcome_get(ss, digest, &rec, &len), 0);
	assert_int_equal(len, sizeof(o1));
	o2 = (struct cmd_outcome *)(void *)rec;
	assert_int_equal(o2->add_id, o1.add_id);
	assert_int_equal(o2->del_rc, -1);
	free(rec);
	assert_int_equal(store_sync_commit_commands(&ss), 0);
	/* The same GetChanges(K): key K2 and the window again. */
	get_changes(fx->st, k, &w2, &k2b);
	assert_int_equal(k2b, k2);
	assert_int_equal(w2.count, w1.count);
	for (size_t i = 0; i < w1.count; i++) {
		assert_int_equal(w2.entries[i].op, w1.entries[i].op);
		assert_int_equal(w2.entries[i].item_id, w1.entries[i].item_id);
	}
	sync_window_clear(&w2);
	sync_window_clear(&w1);
	assert_int_equal(folder_items(fx->st, fx->inbox), before);
	assert_int_equal(store_folder_modseq(fx->st, fx->inbox, &m1), 0);
	assert_int_equal(m1, m0); /* no command ran twice */

	/* The device shows K2: the record of K is dropped, K is invalid. */
	get_changes(fx->st, k2, &w1, &k3);
	sync_window_clear(&w1);
	assert_int_equal(store_sync_begin(fx->st, "R", 1, k, &ss), -1);
	assert_int_equal(store_sync_begin(fx->st, "R", 1, k3, &ss), 0);
	assert_int_equal(store_sync_outcome_get(ss, digest, &rec, &len), -1);
	store_sync_abort(&ss);
}

/*
 * Upgrade from schema v2 (before sync_outcomes and sync_hier_own): a
 * device with a hierarchy key and an Inbox key written by v2 keeps both;
 * after the open at v3 its Sync with commands records an outcome and its
 * Ping sees a folder created since its FolderSync.
 */
static void
test_upgrade_from_v2(void **state)
{
	struct fixture *fx = *state;
	struct store *st = NULL;
	struct store_sync *ss = NULL;
	struct store_error err;
	struct sync_window w;
	struct item_new n = mail(100);
	uint8_t digest[STORE_SYNC_DIGEST_BYTES], *rec = NULL;
	char path[256], side[300];
	sqlite3 *db = NULL;
	size_t len = 0;
	uint32_t k;
	int64_t id, folder;
	int version = 0;
	bool changed = true;

	assert_int_equal(store_open(fx->dir, 9, &st, &err), 0);
	store_close(&st);
	assert_int_equal(store_user_path(fx->dir, 9, path, sizeof(path)), 0);
	assert_int_equal(unlink(path), 0);
	(void)snprintf(side, sizeof(side), "%s-wal", path);
	(void)unlink(side);
	(void)snprintf(side, sizeof(side), "%s-shm", path);
	(void)unlink(side);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(search_sql_register(db), SQLITE_OK);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(sqlite3_exec(db, schema_user_migrations[i],
					      NULL, NULL, NULL),
				 SQLITE_OK);
	/* Device "OLD": hierarchy key 4 at the current hierarchy modseq,
	 * Inbox (folder 1) key 7 at cursor 0. */
	assert_int_equal(
	    sqlite3_exec(
		db,
		"PRAGMA user_version = 2;"
		"INSERT INTO sync_devices(id, device) VALUES(1, 'OLD');"
		"INSERT INTO sync_keys(dev, coll, key, cursor, cutoff,"
		" created) SELECT 1, 0, 4, value, NULL, 0 FROM meta"
		" WHERE key = 'hier_modseq';"
		"INSERT INTO sync_keys(dev, coll, key, cursor, cutoff,"
		" created) VALUES(1, 1, 7, 0, 0, 0);",
		NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_open(fx->dir, 9, &st, &err), 0);
	assert_int_equal(store_schema_version(st, &version), 0);
	assert_true(version >= 3); /* and any later migrations */
	assert_int_equal(store_hier_pending(st, "OLD", &changed), 0);
	assert_false(changed);
	memset(digest, 7, sizeof(digest));
	assert_int_equal(store_sync_begin(st, "OLD", 1, 7, &ss), 0);
	assert_int_equal(store_sync_client_add(ss, "x-1", &n, &id), 0);
	assert_int_equal(
	    store_sync_outcome_put(ss, digest, (const void *)"r", 1), 0);
	assert_int_equal(store_sync_commit_commands(&ss), 0);
	assert_int_equal(store_sync_begin(st, "OLD", 1, 7, &ss), 0);
	assert_int_equal(store_sync_outcome_get(ss, digest, &rec, &len), 0);
	assert_int_equal(len, 1);
	free(rec);
	assert_int_equal(store_sync_fetch(ss, 10, 0, &w), 0);
	assert_int_equal(w.count, 0); /* its own Add is not echoed */
	sync_window_clear(&w);
	assert_int_equal(store_sync_commit(&ss, &k), 0);
	assert_int_equal(k, 8);
	assert_int_equal(
	    store_folder_create(st, 0, "After", FOLDER_TYPE_USER_MAIL, &folder),
	    0);
	assert_int_equal(store_hier_pending(st, "OLD", &changed), 0);
	assert_true(changed);
	store_close(&st);
}

/*
 * Hierarchy marks: A's own folder change is not news to A, B's is, and
 * a change by B made before A's own is still reported to A (the new key
 * of A's change does not fold it in).  A FolderSync clears the mark.
 */
static void
test_hierarchy_marks(void **state)
{
	struct fixture *fx = *state;
	struct folder_changes *ch = NULL;
	uint32_t ka, kb, k;
	int64_t fb, fa, h;
	bool changed;

	assert_int_equal(store_hier_pending(fx->st, "A", &changed), 0);
	assert_true(changed); /* never ran FolderSync */
	assert_int_equal(store_foldersync(fx->st, "A", 0, &ch, &ka), 0);
	folder_changes_free(&ch);
	assert_int_equal(store_foldersync(fx->st, "B", 0, &ch, &kb), 0);
	folder_changes_free(&ch);
	assert_int_equal(store_hier_pending(fx->st, "A", &changed), 0);
	assert_false(changed);
	/* B creates a folder, then A creates one. */
	assert_int_equal(store_tx_begin(fx->st), 0);
	assert_int_equal(
	    store_folder_create(fx->st, 0, "ByB", FOLDER_TYPE_USER_MAIL, &fb),
	    0);
	assert_int_equal(store_hier_modseq(fx->st, &h), 0);
	assert_int_equal(store_hier_own_change(fx->st, "B", kb, h, &kb), 0);
	assert_int_equal(store_tx_commit(fx->st), 0);
	assert_int_equal(store_tx_begin(fx->st), 0);
	assert_int_equal(
	    store_folder_create(fx->st, 0, "ByA", FOLDER_TYPE_USER_MAIL, &fa),
	    0);
	assert_int_equal(store_hier_modseq(fx->st, &h), 0);
	assert_int_equal(store_hier_own_change(fx->st, "A", ka, h, &ka), 0);
	assert_int_equal(store_tx_commit(fx->st), 0);
	assert_int_equal(store_hier_pending(fx->st, "A", &changed), 0);
	assert_true(changed); /* B's folder */
	assert_int_equal(store_hier_pending(fx->st, "B", &changed), 0);
	assert_true(changed); /* A's folder */
	assert_int_equal(store_foldersync(fx->st, "A", ka, &ch, &k), 0);
	assert_int_equal(ch->count, 1);
	assert_int_equal(ch->changes[0].kind, FOLDER_CHANGE_ADD);
	assert_int_equal(ch->changes[0].folder.id, fb);
	folder_changes_free(&ch);
	assert_int_equal(store_hier_pending(fx->st, "A", &changed), 0);
	assert_false(changed);
	/* B renames A's folder: an update for A (it created it), not an
	 * add. */
	assert_int_equal(store_folder_update(fx->st, fa, 0, "ByA2"), 0);
	assert_int_equal(store_foldersync(fx->st, "A", k, &ch, &k), 0);
	assert_int_equal(ch->count, 1);
	assert_int_equal(ch->changes[0].kind, FOLDER_CHANGE_UPDATE);
	folder_changes_free(&ch);
	assert_int_equal(store_foldersync(fx->st, "B", kb, &ch, &kb), 0);
	assert_int_equal(ch->count, 1); /* ByA2, as an add */
	assert_int_equal(ch->changes[0].kind, FOLDER_CHANGE_ADD);
	folder_changes_free(&ch);
	assert_int_equal(store_hier_pending(fx->st, "B", &changed), 0);
	assert_false(changed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_initial_sync_windowed, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_replay_previous_key, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_lost_response_loop, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_duplicate_requests, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_filter_window, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_client_commands, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_client_move, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tombstone_compaction, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_poison_item, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sync_commit_faults, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_foldersync_keys, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_commands_replay_after_restart,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upgrade_from_v2, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_hierarchy_marks, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
