/* Unit tests for cas/timerwheel.c with a fake clock: expiry at the right
 * tick, cancel, re-arm, jumps longer than one revolution, far timers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cas/timerwheel.h"

static int fired_count[8];

static void
on_fire(struct tw_timer *t, void *ctx)
{
	(void)t;
	fired_count[(intptr_t)ctx]++;
}

static struct tw *
new_wheel(uint64_t now)
{
	struct tw *tw = malloc(sizeof(*tw));

	assert_non_null(tw);
	tw_init(tw, now);
	memset(fired_count, 0, sizeof(fired_count));
	return tw;
}

static void
test_expiry_and_cancel(void **state)
{
	struct tw *tw = new_wheel(1000);
	struct tw_timer a = {0}, b = {0}, c = {0};

	(void)state;
	tw_add(tw, &a, 5, on_fire, (void *)0);
	tw_add(tw, &b, 10, on_fire, (void *)1);
	tw_add(tw, &c, 10, on_fire, (void *)2);
	assert_int_equal(tw_next_due(tw, 60), 5);
	assert_int_equal(tw_advance(tw, 1004), 0);
	assert_int_equal(tw_advance(tw, 1005), 1);
	assert_int_equal(fired_count[0], 1);
	assert_false(a.armed);
	assert_true(tw_cancel(tw, &b));
	assert_false(tw_cancel(tw, &b));
	assert_int_equal(tw_advance(tw, 1010), 1);
	assert_int_equal(fired_count[1], 0);
	assert_int_equal(fired_count[2], 1);
	assert_int_equal(tw->count, 0);
	free(tw);
}

static void
test_rearm_and_zero_delay(void **state)
{
	struct tw *tw = new_wheel(0);
	struct tw_timer a = {0};

	(void)state;
	tw_add(tw, &a, 3, on_fire, (void *)0);
	tw_add(tw, &a, 7, on_fire, (void *)0); /* re-arm moves it */
	assert_int_equal(tw->count, 1);
	assert_int_equal(tw_advance(tw, 6), 0);
	assert_int_equal(tw_advance(tw, 7), 1);
	tw_add(tw, &a, 0, on_fire, (void *)0);
	assert_int_equal(tw_advance(tw, 8), 1);
	assert_int_equal(fired_count[0], 2);
	free(tw);
}

static void
test_long_and_far(void **state)
{
	struct tw *tw = new_wheel(50);
	struct tw_timer hour = {0}, far = {0}, soon = {0};

	(void)state;
	/* A held Ping of 3540 s and a timer two revolutions away share
	 * the wheel; a jump over many slots fires only what is due. */
	tw_add(tw, &hour, 3540, on_fire, (void *)0);
	tw_add(tw, &far, 2 * TW_SLOTS + 7, on_fire, (void *)1);
	tw_add(tw, &soon, 1, on_fire, (void *)2);
	assert_int_equal(tw_advance(tw, 50 + 3539), 1);
	assert_int_equal(fired_count[2], 1);
	assert_int_equal(tw_advance(tw, 50 + 3540), 1);
	assert_int_equal(fired_count[0], 1);
	/* Jump far beyond one revolution but before the far timer. */
	assert_int_equal(tw_advance(tw, 50 + 2 * TW_SLOTS), 0);
	assert_true(far.armed);
	assert_int_equal(tw_advance(tw, 50 + 2 * TW_SLOTS + 7), 1);
	assert_int_equal(fired_count[1], 1);
	/* Time going backwards fires nothing. */
	assert_int_equal(tw_advance(tw, 10), 0);
	free(tw);
}

static struct tw *chain_wheel;
static struct tw_timer chain_timer;

static void
chain_fire(struct tw_timer *t, void *ctx)
{
	(void)ctx;
	fired_count[3]++;
	if (fired_count[3] < 3)
		tw_add(chain_wheel, t, 2, chain_fire, NULL);
}

static void
test_callback_rearms(void **state)
{
	(void)state;
	chain_wheel = new_wheel(0);
	tw_add(chain_wheel, &chain_timer, 2, chain_fire, NULL);
	for (uint64_t now = 1; now <= 10; now++)
		(void)tw_advance(chain_wheel, now);
	assert_int_equal(fired_count[3], 3);
	assert_int_equal(chain_wheel->count, 0);
	free(chain_wheel);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_expiry_and_cancel),
	    cmocka_unit_test(test_rearm_and_zero_delay),
	    cmocka_unit_test(test_long_and_far),
	    cmocka_unit_test(test_callback_rearms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
