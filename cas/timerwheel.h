/*
 * Hashed timing wheel (Varghese and Lauck) for the CAS's timers: held
 * request expiry (Ping and Sync heartbeats up to about an hour), periodic
 * sweeps of the authentication tables.  One-second resolution, O(1) add and
 * cancel, and an advance whose cost is the number of slots crossed (at most
 * TW_SLOTS) plus the timers in them.  Timers are intrusive: the owner embeds
 * a struct tw_timer and keeps it alive while armed.  The wheel itself is not
 * locked: one thread drives it (in easd-cas the HTTP server's ticker, under
 * the server's timer lock); time is passed in, so tests use a fake clock.
 */
#ifndef EASD_CAS_TIMERWHEEL_H
#define EASD_CAS_TIMERWHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Slots of one second: larger than the longest heartbeat (3540 s), so a
 * held request's timer is normally visited once, when it is due. */
#define TW_SLOTS 4096u

struct tw_timer;
typedef void tw_fn(struct tw_timer *timer, void *ctx);

struct tw_timer {
	struct tw_timer *next, *prev; /* slot list; NULL when not armed */
	uint64_t expires_s;
	tw_fn *fn;
	void *ctx;
	bool armed;
};

struct tw {
	struct tw_timer slots[TW_SLOTS]; /* list heads (sentinels) */
	uint64_t now_s;
	size_t count;
};

void tw_init(struct tw *tw, uint64_t now_s);
/* Arm timer to fire delay_s seconds after the wheel's current time (0
 * means at the next advance).  An armed timer is re-armed. */
void tw_add(struct tw *tw, struct tw_timer *timer, uint64_t delay_s, tw_fn *fn,
	    void *ctx);
/* Disarm; true when the timer was armed (so its callback will not run). */
bool tw_cancel(struct tw *tw, struct tw_timer *timer);
/* Move the wheel to now_s and unlink every timer due by then; they are
 * returned as a list through ->next (disarmed, in no particular order) so
 * a caller holding a lock can run them after releasing it. */
struct tw_timer *tw_expire(struct tw *tw, uint64_t now_s);
/* tw_expire and run the callbacks; returns how many fired.  Callbacks may
 * add and cancel timers. */
size_t tw_advance(struct tw *tw, uint64_t now_s);
/* Seconds until the next timer is due, scanning at most limit_s slots;
 * limit_s when none is due sooner (for sizing a poll timeout). */
uint64_t tw_next_due(const struct tw *tw, uint64_t limit_s);

#endif
