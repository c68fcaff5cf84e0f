/*
 * The LMTP listener of easd-mailbox: sockets on the event loop feeding the
 * protocol engine (mailbox/lmtp.h), deliveries run on each recipient's
 * shard worker and answered back on the loop.
 *
 * Group commit: every recipient of a transaction becomes one task on its
 * user's shard, queued with workers_submit_batch; the worker takes every
 * queued delivery at once and stores each user's messages in one
 * transaction, so concurrent senders share one fsync.  A recipient gets
 * 250 only after that commit returned (reliability.md G1); a failed commit
 * answers 451 (I/O) or 452 (disk full) to every message of the batch, and
 * nothing of it stays in the store.  Each commit publishes Changed(user,
 * folder, modseq) (notify.h).
 *
 * Recipients: any address of a user, or the bare login name; a
 * "+detail" in the local part (user+Lists@example.org) delivers into the
 * top-level folder of that name when it exists, else the Inbox.
 */
#ifndef EASD_MAILBOX_LMTP_SERVER_H
#define EASD_MAILBOX_LMTP_SERVER_H

#include <stdbool.h>

struct mbox_ctx;
struct lmtp_server;

/* Listen on "HOST:PORT" or "unix:PATH" (loop thread). */
int lmtp_server_new(struct mbox_ctx *ctx, const char *listen,
		    struct lmtp_server **s_r, const char **error_r);
/* Close the listener; open sessions continue (SIGTERM, step 1). */
void lmtp_server_stop_accepting(struct lmtp_server *s);
/* Close every session after writing what is queued (best effort) and
 * free; call after workers_free and loop_run_posted, so deliveries in
 * flight have answered. */
void lmtp_server_free(struct lmtp_server **s);

#endif
