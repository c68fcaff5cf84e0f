/*
 * The Out-of-Office setting of a user, in the user's database (schema v3):
 * what Settings Oof Set stored (MS-ASCMD 2.2.1.18) -- the state, the time
 * window and one reply text per audience -- and the memory of which
 * senders were already answered, for the once-per-period rule of
 * mailbox/autoreply.h (RFC 3834 2).  rpc_oof.c serves OofGet/OofSet from
 * it; LMTP delivery (lmtp_server.c) reads it after every committed
 * delivery and records each reply it queues.
 *
 * Setting the Oof state forgets the reply memory in the same transaction,
 * so a new absence answers everybody once again (autoreply.h).
 */
#ifndef EASD_MAILBOX_OOF_H
#define EASD_MAILBOX_OOF_H

#include <stdbool.h>
#include <stdint.h>

#include "mailbox/autoreply.h"
#include "mailbox/store.h"

/* MS-ASCMD 2.2.3.8 / 2.2.3.9 / 2.2.3.10: the three audiences. */
enum oof_audience {
	OOF_INTERNAL = 0,
	OOF_EXTERNAL_KNOWN = 1,
	OOF_EXTERNAL_UNKNOWN = 2,
	OOF_AUDIENCES = 3,
};

struct oof_message {
	bool enabled;
	char *reply; /* NULL or UTF-8 text; owned */
	bool is_html;
};

struct oof_settings {
	enum autoreply_state state;
	int64_t start_time, end_time; /* UTC seconds */
	struct oof_message msg[OOF_AUDIENCES];
};

void oof_settings_clear(struct oof_settings *o);

/* The stored setting; never set: state OFF, no messages (0). */
int store_oof_get(struct store *st, struct oof_settings *o_r);
/* Replace the setting and forget every recorded reply (one
 * transaction).  Strings are copied; STORE_INVALID when a reply exceeds
 * AUTOREPLY_MAX_MESSAGE_BYTES. */
int store_oof_set(struct store *st, const struct oof_settings *o);

/*
 * The policy view of a setting (autoreply.h): the internal text, the
 * external text (Unknown when enabled, else Known), the text for known
 * senders when both are enabled, and the external audience (ALL when
 * Unknown is enabled, KNOWN when only Known is).  The strings are
 * borrowed from o.
 */
void oof_to_autoreply(const struct oof_settings *o,
		      struct autoreply_settings *s_r);

/* The reply memory (keys are lower-case addresses).  0 with *at_r, 1 when
 * never answered, -1 on error. */
int store_oof_last_replied(struct store *st, const char *sender, int64_t *at_r);
int store_oof_record_reply(struct store *st, const char *sender, int64_t at);

/*
 * AppliesToExternalKnown (MS-ASCMD 2.2.3.9).  Exchange means the senders
 * in the user's contacts; easd adds the people the user writes to, since
 * contacts do not sync yet:
 *  - store_oof_record_correspondents: every envelope recipient outside the
 *    sender's own domain of a message the user queues (called by
 *    store_queue_put, inside the queuing transaction; messages with the
 *    null sender, our automatic replies, are skipped).  At most
 *    STORE_MAX_OOF_CORRESPONDENTS addresses; the least recently written
 *    to goes first.  rcpts is newline-separated.
 *  - store_oof_is_known: sender (any case) is such a correspondent or an
 *    Email1..3Address of a contact item in a Contacts folder.
 */
int store_oof_record_correspondents(struct store *st, const char *mail_from,
				    const char *rcpts, int64_t now);
int store_oof_is_known(struct store *st, const char *sender, bool *known_r);
int store_oof_correspondent_count(struct store *st, int64_t *count_r);

/*
 * The delivery hook (lmtp_server.c, on the user's shard worker, after the
 * delivery's commit): when the user's Oof is active, decide with
 * autoreply_process whether this message gets a reply and, if so, queue
 * it in the send queue with the null envelope sender (RFC 3834 3.3) and
 * record the sender, in one transaction.  Senders in [mailbox] domain
 * (or, when unset, the domain of the user's first address) are internal.
 * Never changes the delivery's outcome: failures are logged.
 */
struct mbox_ctx;
void oof_after_delivery(const struct mbox_ctx *ctx, struct store *st,
			int64_t user, const char *mail_from, const uint8_t *raw,
			size_t len);
/* The same at a given time (the clock injected by tests); the reply period
 * is [mailbox] oof_reply_period. */
void oof_after_delivery_at(const struct mbox_ctx *ctx, struct store *st,
			   int64_t user, const char *mail_from,
			   const uint8_t *raw, size_t len, int64_t now);

#endif
