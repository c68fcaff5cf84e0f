/*
 * The send queue runner: relays the messages devices submitted (SendMail,
 * SmartReply, SmartForward; queued by the Submit RPC in the user's store)
 * through the configured SMTP relay with mailbox/submit.c.  Relaying runs
 * on the user's shard worker (submit_send blocks up to its timeouts, so a
 * slow relay delays only that shard's other work); the loop thread keeps
 * the set of users with pending mail and a tick that hands them to their
 * workers.
 *
 * Outcomes: accepted -> the entry is marked sent and, when asked, the
 * message (its saved copy with Bcc when the entry holds one) is saved in
 * Sent Items in the same transaction; temporary
 * failure -> retried with exponential backoff (retry_s doubling, capped
 * at 64 x retry_s) up to max_attempts; permanent failure or attempts
 * exhausted -> an RFC 3464 bounce lands in the sender's Inbox and the
 * entry is marked failed.  An entry stays queued in SQLite until marked, so
 * a daemon killed mid-send relays it again after restart (at worst a
 * duplicate, G2), never loses it.
 */
#ifndef EASD_MAILBOX_SENDQ_H
#define EASD_MAILBOX_SENDQ_H

#include <stdint.h>

struct mbox_ctx;
struct sendq;

/* Loop thread; enumerates users at start so mail queued before a crash
 * is sent. */
int sendq_new(struct mbox_ctx *ctx, unsigned retry_s, unsigned max_attempts,
	      struct sendq **q_r, const char **error_r);
/* After workers_free (no task may still refer to the queue). */
void sendq_free(struct sendq **q);
/* A message was queued for user (any thread). */
void sendq_kick(struct sendq *q, int64_t user);

#endif
