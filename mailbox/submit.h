/*
 * Outgoing mail: SendMail/SmartReply/SmartForward messages leave through a
 * configured SMTP relay.  The mailbox's send queue calls submit_send on a
 * worker thread (it blocks for up to the configured timeouts) and acts on
 * the classification: OK -> done; temporary -> keep queued and retry;
 * permanent -> build a bounce with submit_build_bounce and store it in the
 * sender's Inbox.  The only includer of libcurl (SMTP, STARTTLS, AUTH).
 *
 * Threads: curl_global_init runs once (submit_init, through pthread_once);
 * each submit_send uses its own easy handle, so calls on different threads
 * are independent.
 */
#ifndef EASD_MAILBOX_SUBMIT_H
#define EASD_MAILBOX_SUBMIT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"

/* Longest envelope address accepted (RFC 5321 4.5.3.1.3 path: 256). */
#define SUBMIT_MAX_ADDRESS_BYTES 254
/* Server reply text kept per result (longer replies are cut). */
#define SUBMIT_TEXT_BYTES 512
/* Rejected recipients recorded individually; more are only counted. */
#define SUBMIT_MAX_FAILED 16
/* Bytes of the original header block quoted in a bounce. */
#define SUBMIT_BOUNCE_MAX_HEADER_BYTES (64u * 1024u)

enum submit_tls {
	SUBMIT_TLS_NONE = 0,     /* plain smtp:// (loopback relays only) */
	SUBMIT_TLS_TRY = 1,      /* STARTTLS if offered (CURLUSESSL_TRY) */
	SUBMIT_TLS_REQUIRED = 2, /* STARTTLS or fail (CURLUSESSL_ALL) */
};

struct submit_config {
	const char *url; /* "smtp://relay:587" or "smtps://relay:465" */
	enum submit_tls tls;
	const char *username; /* NULL: no AUTH */
	const char *password;
	const char *ca_file;     /* NULL: the system store */
	long connect_timeout_ms; /* 0: 10 s */
	long timeout_ms;         /* whole transaction; 0: 120 s */
};

enum submit_status {
	SUBMIT_OK = 0,       /* accepted for at least one recipient */
	SUBMIT_TEMPFAIL = 1, /* retry later: network, timeout, 4xx, TLS */
	SUBMIT_PERMFAIL = 2, /* bounce: 5xx on MAIL, RCPT or DATA */
};

struct submit_failure {
	char address[SUBMIT_MAX_ADDRESS_BYTES + 6];
	long code; /* SMTP reply code, 0 if none */
	char text[SUBMIT_TEXT_BYTES];
};

struct submit_result {
	enum submit_status status;
	long code;                    /* last SMTP reply code, 0 if none */
	char text[SUBMIT_TEXT_BYTES]; /* server reply or local error */
	/* Recipients the relay refused while others were accepted. */
	struct submit_failure failed[SUBMIT_MAX_FAILED];
	size_t n_failed;
	size_t n_failed_total;
};

/* Once per process; thread-safe and idempotent (submit_send calls it). */
void submit_init(void);

/*
 * Send raw MIME (already with CRLF or LF line ends; libcurl converts and
 * dot-stuffs) from mail_from to rcpts through the relay.  Always fills
 * *res.  0 if the relay accepted the message for at least one recipient
 * (refused ones are in res->failed), -1 otherwise.
 */
int submit_send(const struct submit_config *relay, const char *mail_from,
		const char *const *rcpts, size_t n_rcpts, const uint8_t *mime,
		size_t len, struct submit_result *res);

/*
 * Build an RFC 3464 delivery status notification (multipart/report;
 * report-type=delivery-status, RFC 6522) for the recipients that failed
 * permanently: every rcpt if res->status is SUBMIT_PERMFAIL, else those in
 * res->failed with a 5xx code.  The original's header block is attached as
 * text/rfc822-headers.  Appends the raw message to out; -1 if out is full
 * or no recipient failed permanently.
 */
int submit_build_bounce(const char *reporting_host, const char *to,
			const char *const *rcpts, size_t n_rcpts,
			const struct submit_result *res,
			const uint8_t *original, size_t original_len,
			int64_t now, struct buf *out);

#endif
