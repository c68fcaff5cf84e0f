/*
 * Hashed timing wheel; see timerwheel.h.  A timer lives in slot
 * expires_s % TW_SLOTS.  Advancing visits each slot crossed once (at most
 * TW_SLOTS slots however far time jumps) and unlinks the timers whose
 * expiry has passed; timers more than one revolution away stay in their
 * slot until a later visit (the "rounds" of a hashed wheel are implied by
 * comparing expires_s).
 */
#include "cas/timerwheel.h"

#include <assert.h>

static void
tw_unlink(struct tw *tw, struct tw_timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = t->prev = NULL;
	t->armed = false;
	tw->count--;
}

void
tw_init(struct tw *tw, uint64_t now_s)
{
	for (size_t i = 0; i < TW_SLOTS; i++) {
		tw->slots[i].next = &tw->slots[i];
		tw->slots[i].prev = &tw->slots[i];
	}
	tw->now_s = now_s;
	tw->count = 0;
}

void
tw_add(struct tw *tw, struct tw_timer *timer, uint64_t delay_s, tw_fn *fn,
       void *ctx)
{
	struct tw_timer *head;

	if (timer->armed)
		tw_unlink(tw, timer);
	/* Due "now" means at the next advance, which visits now_s + 1. */
	if (delay_s == 0)
		delay_s = 1;
	timer->expires_s = tw->now_s + delay_s;
	timer->fn = fn;
	timer->ctx = ctx;
	head = &tw->slots[timer->expires_s % TW_SLOTS];
	timer->next = head->next;
	timer->prev = head;
	head->next->prev = timer;
	head->next = timer;
	timer->armed = true;
	tw->count++;
}

bool
tw_cancel(struct tw *tw, struct tw_timer *timer)
{
	if (!timer->armed)
		return false;
	tw_unlink(tw, timer);
	return true;
}

struct tw_timer *
tw_expire(struct tw *tw, uint64_t now_s)
{
	struct tw_timer *fired = NULL;
	uint64_t steps, tick;

	if (now_s <= tw->now_s)
		return NULL;
	steps = now_s - tw->now_s;
	if (steps > TW_SLOTS)
		steps = TW_SLOTS;
	/* Visit the slots of ticks now_s - steps + 1 .. now_s: when time
	 * jumped more than a revolution this is every slot once. */
	for (tick = now_s - steps + 1; tick <= now_s && tw->count > 0; tick++) {
		struct tw_timer *head = &tw->slots[tick % TW_SLOTS];
		struct tw_timer *t = head->next;

		while (t != head) {
			struct tw_timer *next = t->next;

			if (t->expires_s <= now_s) {
				tw_unlink(tw, t);
				t->next = fired;
				fired = t;
			}
			t = next;
		}
	}
	tw->now_s = now_s;
	return fired;
}

size_t
tw_advance(struct tw *tw, uint64_t now_s)
{
	struct tw_timer *t = tw_expire(tw, now_s);
	size_t n = 0;

	while (t != NULL) {
		struct tw_timer *next = t->next;

		t->next = NULL;
		assert(t->fn != NULL);
		t->fn(t, t->ctx);
		n++;
		t = next;
	}
	return n;
}

uint64_t
tw_next_due(const struct tw *tw, uint64_t limit_s)
{
	if (limit_s > TW_SLOTS)
		limit_s = TW_SLOTS;
	if (tw->count == 0)
		return limit_s;
	for (uint64_t d = 1; d <= limit_s; d++) {
		const struct tw_timer *head =
		    &tw->slots[(tw->now_s + d) % TW_SLOTS];

		for (const struct tw_timer *t = head->next; t != head;
		     t = t->next) {
			if (t->expires_s <= tw->now_s + d)
				return d;
		}
	}
	return limit_s;
}
