/*
 * A tiny SMTP server for tests: listens on 127.0.0.1 on a kernel-chosen
 * port, serves connections one after another in its own thread, answers
 * each stage with a configured code and records the envelope and data of
 * the last transaction.  Used by tests/unit/mailbox/test_submit.c to drive
 * mailbox/submit.c (libcurl) through accept, 4xx and 5xx paths.  Every
 * wait is bounded (poll and receive timeouts), so a confused client can
 * never hang a test.
 */
#ifndef EASD_TESTS_SMTP_SINK_H
#define EASD_TESTS_SMTP_SINK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct smtp_sink_config {
	int mail_code;           /* reply to MAIL (0: 250) */
	int rcpt_code;           /* reply to RCPT (0: 250) */
	const char *reject_rcpt; /* this address gets reject_code */
	int reject_code;
	int data_code;      /* reply to DATA (0: 354) */
	int dot_code;       /* reply after the final dot (0: 250) */
	bool auth;          /* advertise and accept AUTH PLAIN */
	int greet_delay_ms; /* wait before the greeting (timeouts) */
	/* When set, every accepted message is also written to
	 * spool_dir/msg-<n>.eml (n from 1; written to a temporary name and
	 * renamed), preceded by X-Sink-Mail-From: and X-Sink-Rcpts: lines. */
	const char *spool_dir;
};

struct smtp_sink {
	/* recorded (read after smtp_sink_stop) */
	char mail_from[300];
	char rcpts[1024]; /* accepted recipients, comma separated */
	char auth[300];   /* decoded AUTH PLAIN response, NUL -> '|' */
	uint8_t *data;    /* unstuffed message of the last DATA */
	size_t data_len;
	int sessions;
	atomic_int messages; /* accepted (final dot answered 2xx) */
	/* private */
	struct smtp_sink_config cfg;
	int listen_fd;
	int port;
	atomic_int stop;
	pthread_t thread;
};

/* Start listening; NULL on failure.  cfg is copied. */
struct smtp_sink *smtp_sink_start(const struct smtp_sink_config *cfg);
int smtp_sink_port(const struct smtp_sink *sink);
/* Stop and join the thread; the recorded fields are then stable. */
void smtp_sink_stop(struct smtp_sink *sink);
void smtp_sink_free(struct smtp_sink **sink);

#endif
