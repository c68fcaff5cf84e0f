/*
 * The LMTP protocol engine (RFC 2033), as Postfix's `lmtp:` transport
 * speaks it.  Pure protocol: no sockets, no threads, no clock.  The daemon
 * owns one struct lmtp_session per accepted connection on its event loop,
 * feeds it the bytes it reads (lmtp_feed), writes out what the engine
 * queued (lmtp_output / lmtp_output_consume) and closes the connection
 * once lmtp_session_closed() is true and the output is drained.
 *
 * Recipients are resolved through a synchronous callback (a user lookup).
 * After DATA's final dot the delivery callback is called ONCE for the
 * transaction with the message and the accepted recipients; it may answer
 * at once or later from another thread (through the loop), by calling
 * lmtp_delivery_done with one result per recipient.  Until then the session
 * is "waiting": pipelined input is buffered (up to
 * LMTP_MAX_PENDING_INPUT_BYTES; the daemon should stop reading while
 * lmtp_session_waiting() is true) and processed when delivery completes.
 * A session is not thread-safe: all calls for one session must come from
 * one thread at a time (the loop thread).
 *
 * Invariant (reliability.md G1): a recipient gets 250 after DATA only if
 * its result is LMTP_RESULT_OK.
 *
 * Headers: the engine prepends `Return-Path: <sender>` to the message
 * handed to the delivery callback (RFC 5321 4.4: the final delivery agent
 * records the envelope sender).  It adds no Received line: Postfix
 * already added one when it accepted the mail, and the LMTP hop on the same
 * host would only repeat it.
 */
#ifndef EASD_MAILBOX_LMTP_H
#define EASD_MAILBOX_LMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Outcome of resolving one RCPT TO address. */
enum lmtp_rcpt_status {
	LMTP_RCPT_OK = 0,       /* 250 2.1.5 */
	LMTP_RCPT_UNKNOWN = 1,  /* 550 5.1.1 unknown user */
	LMTP_RCPT_TEMPFAIL = 2, /* 451 4.3.0 lookup failed, retry */
	LMTP_RCPT_DISABLED = 3, /* 550 5.2.1 mailbox disabled */
};

/* Outcome of delivering the message to one recipient. */
enum lmtp_result {
	LMTP_RESULT_OK = 0,        /* 250 2.0.0: committed durably */
	LMTP_RESULT_TEMPFAIL = 1,  /* 451 4.3.0 */
	LMTP_RESULT_DISK_FULL = 2, /* 452 4.3.1 */
	LMTP_RESULT_PERMFAIL = 3,  /* 550 5.2.0 mailbox unavailable */
	LMTP_RESULT_REJECTED = 4,  /* 554 5.6.0 message content rejected */
};

struct lmtp_session;

/* The transaction handed to the delivery callback; valid until
 * lmtp_delivery_done is called. */
struct lmtp_envelope {
	const char *mail_from; /* "" for the null reverse-path */
	const char *const *rcpts;
	size_t n_rcpts;
	const uint8_t *message; /* Return-Path line + message as received */
	size_t message_len;
	bool body_8bit; /* BODY=8BITMIME was given */
};

struct lmtp_callbacks {
	/* Resolve a recipient address (already stripped of <>). */
	enum lmtp_rcpt_status (*rcpt)(void *ctx, const char *address);
	/* Deliver; must eventually call lmtp_delivery_done(session, ...),
	 * possibly before returning. */
	void (*deliver)(void *ctx, struct lmtp_session *session,
			const struct lmtp_envelope *envelope);
	void *ctx;
};

struct lmtp_config {
	const char *hostname;     /* in the greeting and LHLO reply */
	size_t max_message_bytes; /* 0: LMTP_MAX_MESSAGE_BYTES */
	size_t max_recipients;    /* 0: LMTP_MAX_RECIPIENTS */
};

/* A new session; the 220 greeting is already queued in its output.
 * cfg and cb are copied (hostname too). NULL on out of memory. */
struct lmtp_session *lmtp_session_new(const struct lmtp_config *cfg,
				      const struct lmtp_callbacks *cb);
void lmtp_session_free(struct lmtp_session **session);

/*
 * Feed bytes read from the connection.  Complete commands are answered at
 * once; DATA content streams into the message buffer.  -1 if the session
 * is closed (QUIT, or the output bound was hit) or the pending input bound
 * is exceeded: the daemon then writes out what lmtp_output still holds
 * (the 221 reply, say) and closes the connection.  0 otherwise.
 */
int lmtp_feed(struct lmtp_session *session, const uint8_t *data, size_t len);

/* Complete the delivery started by the callback: results[i] is the
 * outcome for envelope->rcpts[i].  Queues one reply per recipient and
 * resumes processing buffered input.  -1 if no delivery is pending. */
int lmtp_delivery_done(struct lmtp_session *session,
		       const enum lmtp_result *results, size_t n_results);

/* Queued reply bytes, to be written to the connection. */
const uint8_t *lmtp_output(const struct lmtp_session *session, size_t *len_r);
void lmtp_output_consume(struct lmtp_session *session, size_t n);

/* A delivery is in flight: stop reading until it completes. */
bool lmtp_session_waiting(const struct lmtp_session *session);
/* QUIT was answered (or the session failed): write out and close. */
bool lmtp_session_closed(const struct lmtp_session *session);

#endif
