/* Unit tests for cas/watch.c with a timer wheel on a fake clock: wake by
 * a Changed event (batched: events mark, one pass answers), expiry,
 * a newer request of the device ending the older, device events,
 * disconnect cleanup, reconnect (all changed), shutdown, and the memory
 * accounting of held entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas/watch.h"

struct fired {
	int calls;
	enum watch_end why;
	size_t n_changed;
	char changed[4][16];
};

static struct tw wheel;
static int schedules;

static void
t_add(void *ctx, struct tw_timer *timer, uint64_t delay_s, tw_fn *fn, void *arg)
{
	(void)ctx;
	tw_add(&wheel, timer, delay_s, fn, arg);
}

static bool
t_cancel(void *ctx, struct tw_timer *timer)
{
	(void)ctx;
	return tw_cancel(&wheel, timer);
}

static void
on_schedule(void *ctx)
{
	(void)ctx;
	schedules++;
}

static void
on_fire(void *ctx, enum watch_end why, const char *const *changed,
	size_t n_changed)
{
	struct fired *f = ctx;

	f->calls++;
	f->why = why;
	f->n_changed = n_changed;
	for (size_t i = 0; i < n_changed && i < 4; i++)
		snprintf(f->changed[i], sizeof(f->changed[i]), "%s",
			 changed[i]);
}

static struct watch *
setup(void)
{
	struct watch_timers t = {.add = t_add, .cancel = t_cancel};
	struct watch *w;

	tw_init(&wheel, 1000);
	schedules = 0;
	w = watch_new(&t, on_schedule, NULL);
	assert_non_null(w);
	return w;
}

static uint64_t
hold(struct watch *w, uint64_t user, const char *dev,
     const char *const *folders, size_t n, unsigned hb, struct fired *f)
{
	struct watch_params p = {.user = user,
				 .device_id = dev,
				 .folders = folders,
				 .n_folders = n,
				 .heartbeat_s = hb,
				 .fn = on_fire,
				 .ctx = f};
	uint64_t id;

	memset(f, 0, sizeof(*f));
	assert_int_equal(watch_add(w, &p, &id), 0);
	return id;
}

static void
test_wake_by_event(void **state)
{
	struct watch *w = setup();
	static const char *const folders[] = {"inbox", "cal", "contacts"};
	struct fired a, b;

	(void)state;
	hold(w, 7, "phoneA", folders, 3, 470, &a);
	hold(w, 7, "phoneB", folders, 1, 470, &b);
	assert_int_equal(watch_count(w), 2);
	/* Another user's and an unwatched folder's events do nothing. */
	watch_changed(w, 8, "inbox", 0);
	watch_changed(w, 7, "notes", 0);
	assert_int_equal(schedules, 0);
	/* Events only mark; one pass answers (batched). */
	watch_changed(w, 7, "cal", 0);
	watch_changed(w, 7, "inbox", 0);
	watch_changed(w, 7, "inbox", 0);
	assert_int_equal(schedules, 1);
	assert_int_equal(a.calls, 0);
	assert_int_equal(watch_run(w), 2);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.why, WATCH_CHANGED);
	assert_int_equal(a.n_changed, 2);
	assert_string_equal(a.changed[0], "inbox");
	assert_string_equal(a.changed[1], "cal");
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.n_changed, 1);
	assert_int_equal(watch_count(w), 0);
	assert_int_equal(watch_bytes(w), 0);
	/* Their timers were cancelled: nothing fires later. */
	assert_int_equal(tw_advance(&wheel, 5000), 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(watch_run(w), 0);
	watch_free(&w);
	assert_null(w);
}

static void
test_expiry(void **state)
{
	struct watch *w = setup();
	static const char *const folders[] = {"inbox"};
	struct fired a, b;

	(void)state;
	hold(w, 1, "d1", folders, 1, 60, &a);
	hold(w, 2, "d2", folders, 1, 470, &b);
	assert_int_equal(tw_advance(&wheel, 1059), 0);
	assert_int_equal(tw_advance(&wheel, 1060), 1);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.why, WATCH_EXPIRED);
	assert_int_equal(a.n_changed, 0);
	assert_int_equal(b.calls, 0);
	assert_int_equal(watch_count(w), 1);
	/* A change that arrived just before expiry wins over it. */
	watch_changed(w, 2, "inbox", 0);
	assert_int_equal(tw_advance(&wheel, 1470), 1);
	assert_int_equal(b.calls, 0);
	assert_int_equal(watch_run(w), 1);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.why, WATCH_CHANGED);
	watch_free(&w);
}

static void
test_newer_replaces_older(void **state)
{
	struct watch *w = setup();
	static const char *const folders[] = {"inbox"};
	struct fired older, newer, other;

	(void)state;
	/* Gmail: two near-simultaneous Pings of one device. */
	hold(w, 3, "gmail", folders, 1, 470, &older);
	hold(w, 3, "tablet", folders, 1, 470, &other);
	hold(w, 3, "gmail", folders, 1, 470, &newer);
	assert_int_equal(older.calls, 1);
	assert_int_equal(older.why, WATCH_REPLACED);
	assert_int_equal(newer.calls, 0);
	assert_int_equal(other.calls, 0);
	assert_int_equal(watch_count(w), 2);
	watch_changed(w, 3, "inbox", 0);
	assert_int_equal(watch_run(w), 2);
	assert_int_equal(older.calls, 1);
	assert_int_equal(newer.calls, 1);
	watch_free(&w);
}

static void
test_device_event_and_remove(void **state)
{
	struct watch *w = setup();
	static const char *const folders[] = {"inbox"};
	struct fired a, b, c;
	uint64_t id_b;
	void *ctx = NULL;

	(void)state;
	hold(w, 4, "wiped", folders, 1, 470, &a);
	id_b = hold(w, 4, "gone", folders, 1, 470, &b);
	hold(w, 5, "wiped", folders, 1, 470, &c);
	/* A wipe releases the device's held request at once. */
	assert_int_equal(watch_device(w, 4, "wiped"), 1);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.why, WATCH_DEVICE);
	assert_int_equal(c.calls, 0);
	/* Client disconnect: removed, callback never runs. */
	assert_true(watch_remove(w, id_b, &ctx));
	assert_ptr_equal(ctx, &b);
	assert_false(watch_remove(w, id_b, NULL));
	watch_changed(w, 4, "inbox", 0);
	assert_int_equal(watch_run(w), 0);
	assert_int_equal(b.calls, 0);
	assert_int_equal(watch_count(w), 1);
	/* A ready entry that is removed is not answered either. */
	watch_changed(w, 5, "inbox", 0);
	assert_int_equal(watch_device(w, 5, NULL), 1);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.why, WATCH_DEVICE);
	assert_int_equal(watch_run(w), 0);
	assert_int_equal(tw_advance(&wheel, 9000), 0);
	watch_free(&w);
}

static void
test_all_changed_and_shutdown(void **state)
{
	struct watch *w = setup();
	static const char *const folders[] = {"a", "b"};
	struct fired x, y;

	(void)state;
	hold(w, 6, "d1", folders, 2, 470, &x);
	hold(w, 9, "d2", folders, 1, 470, &y);
	/* RPC reconnect: events may have been missed. */
	watch_all_changed(w);
	assert_int_equal(watch_run(w), 2);
	assert_int_equal(x.n_changed, 2);
	assert_int_equal(y.n_changed, 1);
	hold(w, 6, "d1", folders, 2, 470, &x);
	watch_free(&w);
	assert_int_equal(x.calls, 1);
	assert_int_equal(x.why, WATCH_SHUTDOWN);
	/* The cancelled timer never fires into freed memory. */
	assert_int_equal(tw_advance(&wheel, 9000), 0);
}

static void
test_event_before_registration(void **state)
{
	struct watch *w = setup();
	static const char *const folders[] = {"inbox"};
	static const uint64_t since5[] = {5}, since10[] = {10};
	struct watch_params p = {.user = 7,
				 .device_id = "late",
				 .folders = folders,
				 .n_folders = 1,
				 .heartbeat_s = 470,
				 .fn = on_fire};
	struct fired a, b;
	uint64_t id;

	(void)state;
	/* The event overtook the PingCheck answer (modseq 10 > 5): the new
	 * entry is ready at once. */
	watch_changed(w, 7, "inbox", 10);
	memset(&a, 0, sizeof(a));
	p.ctx = &a;
	p.since_modseqs = since5;
	assert_int_equal(watch_add(w, &p, &id), 0);
	assert_int_equal(schedules, 1);
	assert_int_equal(watch_run(w), 1);
	assert_int_equal(a.why, WATCH_CHANGED);
	/* Already covered by the check (modseq 10 <= 10): keeps waiting. */
	memset(&b, 0, sizeof(b));
	p.ctx = &b;
	p.since_modseqs = since10;
	assert_int_equal(watch_add(w, &p, &id), 0);
	assert_int_equal(watch_run(w), 0);
	assert_int_equal(b.calls, 0);
	watch_free(&w);
	assert_int_equal(b.why, WATCH_SHUTDOWN);
}

/* Modseqs count per folder: an old event of a busy folder (modseq 300)
 * must not wake a Ping whose check saw that folder at 300, even when
 * another watched folder is at a lower modseq.  (The check used to carry
 * one user-wide number, so old events woke every new Ping: a loop.) */
static void
test_event_replay_is_per_folder(void **state)
{
	struct watch *w = setup();
	static const char *const folders[] = {"inbox", "cal"};
	static const uint64_t since[] = {300, 4};
	struct watch_params p = {.user = 7,
				 .device_id = "dev",
				 .folders = folders,
				 .n_folders = 2,
				 .heartbeat_s = 470,
				 .since_modseqs = since,
				 .fn = on_fire};
	struct fired a;
	uint64_t id;

	(void)state;
	watch_changed(w, 7, "inbox", 300);
	watch_changed(w, 7, "cal", 4);
	memset(&a, 0, sizeof(a));
	p.ctx = &a;
	assert_int_equal(watch_add(w, &p, &id), 0);
	assert_int_equal(watch_run(w), 0);
	assert_int_equal(a.calls, 0);
	watch_free(&w);
	assert_int_equal(a.why, WATCH_SHUTDOWN);

	/* A Calendar event newer than its check wakes it. */
	w = setup();
	watch_changed(w, 7, "cal", 5);
	memset(&a, 0, sizeof(a));
	p.ctx = &a;
	assert_int_equal(watch_add(w, &p, &id), 0);
	assert_int_equal(watch_run(w), 1);
	assert_int_equal(a.why, WATCH_CHANGED);
	assert_string_equal(a.changed[0], "cal");
	watch_free(&w);
}

static void
test_memory_bound(void **state)
{
	struct watch *w = setup();
	static const char *const folders[] = {"1", "2", "3", "4", "5",
					      "6", "7", "8", "9", "10"};
	struct fired f[100];
	char dev[16];
	size_t per;

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(dev, sizeof(dev), "dev%d", i);
		hold(w, 1, dev, folders, 10, 470, &f[i]);
	}
	assert_int_equal(watch_count(w), 100);
	per = watch_bytes(w) / 100;
	/* watch.h documents about 500 bytes for 10 folders. */
	assert_true(per > 10 * sizeof(char *));
	assert_true(per < 600);
	watch_free(&w);
	for (int i = 0; i < 100; i++)
		assert_int_equal(f[i].why, WATCH_SHUTDOWN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wake_by_event),
	    cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_newer_replaces_older),
	    cmocka_unit_test(test_device_event_and_remove),
	    cmocka_unit_test(test_all_changed_and_shutdown),
	    cmocka_unit_test(test_event_before_registration),
	    cmocka_unit_test(test_event_replay_is_per_folder),
	    cmocka_unit_test(test_memory_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
