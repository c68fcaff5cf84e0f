/* Unit tests for mailbox/lmtp.c: a Postfix-style pipelined transcript,
 * per-recipient delivery results (never 250 for a failure, G1), the size
 * limits, asynchronous completion with pipelined input held back, line
 * limits, dot-unstuffing and command sequencing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/lmtp.h"
#include "proto/limits.h"

struct fake {
	enum lmtp_result results[8];
	bool async; /* do not answer from the callback */
	int deliveries;
	char from[300];
	char rcpts[8][300];
	size_t n_rcpts;
	char *message;
	size_t message_len;
	bool body_8bit;
};

static enum lmtp_rcpt_status
fake_rcpt(void *ctx, const char *address)
{
	(void)ctx;
	if (strcmp(address, "temp@example.org") == 0)
		return LMTP_RCPT_TEMPFAIL;
	if (strncmp(address, "unknown", 7) == 0)
		return LMTP_RCPT_UNKNOWN;
	return LMTP_RCPT_OK;
}

static void
fake_deliver(void *ctx, struct lmtp_session *s, const struct lmtp_envelope *e)
{
	struct fake *f = ctx;

	f->deliveries++;
	snprintf(f->from, sizeof(f->from), "%s", e->mail_from);
	f->n_rcpts = e->n_rcpts;
	for (size_t i = 0; i < e->n_rcpts && i < 8; i++)
		snprintf(f->rcpts[i], sizeof(f->rcpts[i]), "%s", e->rcpts[i]);
	free(f->message);
	f->message = malloc(e->message_len + 1);
	assert_non_null(f->message);
	memcpy(f->message, e->message, e->message_len);
	f->message[e->message_len] = '\0';
	f->message_len = e->message_len;
	f->body_8bit = e->body_8bit;
	if (!f->async)
		assert_int_equal(lmtp_delivery_done(s, f->results, e->n_rcpts),
				 0);
}

static struct lmtp_session *
session(struct fake *f, size_t max_bytes, size_t max_rcpts)
{
	struct lmtp_config cfg = {"mx.test", max_bytes, max_rcpts};
	struct lmtp_callbacks cb = {fake_rcpt, fake_deliver, f};
	struct lmtp_session *s = lmtp_session_new(&cfg, &cb);

	assert_non_null(s);
	return s;
}

/* Everything queued so far, as a string; the output is consumed. */
static char *
drain(struct lmtp_session *s)
{
	size_t len;
	const uint8_t *p = lmtp_output(s, &len);
	char *out = malloc(len + 1);

	assert_non_null(out);
	if (len > 0)
		memcpy(out, p, len);
	out[len] = '\0';
	lmtp_output_consume(s, len);
	return out;
}

static void
feed(struct lmtp_session *s, const char *text)
{
	assert_int_equal(lmtp_feed(s, (const uint8_t *)text, strlen(text)), 0);
}

static void
expect_output(struct lmtp_session *s, const char *expected)
{
	char *out = drain(s);

	assert_string_equal(out, expected);
	free(out);
}

static const char postfix_transcript[] =
    "LHLO mail.example.org\r\n"
    "MAIL FROM:<sender@example.net> SIZE=83 BODY=8BITMIME\r\n"
    "RCPT TO:<alice@example.org>\r\n"
    "RCPT TO:<unknown@example.org>\r\n"
    "DATA\r\n"
    "Subject: hi\r\n"
    "\r\n"
    "..leading dot\r\n"
    ".\r\n"
    "QUIT\r\n";

static void
test_postfix_pipelined(void **state)
{
	struct fake f = {0};
	struct lmtp_session *s = session(&f, 0, 0);

	(void)state;
	f.results[0] = LMTP_RESULT_OK;
	assert_int_equal(lmtp_feed(s, (const uint8_t *)postfix_transcript,
				   strlen(postfix_transcript)),
			 -1); /* closed by QUIT */
	expect_output(s, "220 mx.test LMTP easd ready\r\n"
			 "250-mx.test\r\n"
			 "250-PIPELINING\r\n"
			 "250-ENHANCEDSTATUSCODES\r\n"
			 "250-8BITMIME\r\n"
			 "250 SIZE 67108864\r\n"
			 "250 2.1.0 Sender ok\r\n"
			 "250 2.1.5 Recipient ok\r\n"
			 "550 5.1.1 <unknown@example.org> User unknown\r\n"
			 "354 Start mail input; end with <CRLF>.<CRLF>\r\n"
			 "250 2.0.0 <alice@example.org> delivered\r\n"
			 "221 2.0.0 mx.test closing connection\r\n");
	assert_true(lmtp_session_closed(s));
	assert_int_equal(f.deliveries, 1);
	assert_int_equal(f.n_rcpts, 1);
	assert_string_equal(f.rcpts[0], "alice@example.org");
	assert_string_equal(f.from, "sender@example.net");
	assert_true(f.body_8bit);
	assert_string_equal(f.message, "Return-Path: <sender@example.net>\r\n"
				       "Subject: hi\r\n"
				       "\r\n"
				       ".leading dot\r\n");
	free(f.message);
	lmtp_session_free(&s);
	assert_null(s);
}

/* Byte-at-a-time feeding gives the same replies and message. */
static void
test_byte_at_a_time(void **state)
{
	struct fake f = {0};
	struct lmtp_session *s = session(&f, 0, 0);
	size_t n = strlen(postfix_transcript);

	(void)state;
	for (size_t i = 0; i + 1 < n; i++)
		assert_int_equal(
		    lmtp_feed(s, (const uint8_t *)postfix_transcript + i, 1),
		    0);
	assert_int_equal(
	    lmtp_feed(s, (const uint8_t *)postfix_transcript + n - 1, 1), -1);
	assert_int_equal(f.deliveries, 1);
	assert_string_equal(f.message, "Return-Path: <sender@example.net>\r\n"
				       "Subject: hi\r\n"
				       "\r\n"
				       ".leading dot\r\n");
	free(f.message);
	lmtp_session_free(&s);
}

static void
test_failures_per_recipient(void **state)
{
	struct fake f = {0};
	struct lmtp_session *s = session(&f, 0, 0);

	(void)state;
	f.results[0] = LMTP_RESULT_TEMPFAIL;
	f.results[1] = LMTP_RESULT_DISK_FULL;
	f.results[2] = LMTP_RESULT_OK;
	f.results[3] = LMTP_RESULT_PERMFAIL;
	feed(s, "LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<a@x>\r\nRCPT TO:<b@x>\r\n"
		"RCPT TO:<temp@example.org>\r\nRCPT TO:<c@x>\r\n"
		"RCPT TO:<d@x>\r\nDATA\r\nbody\n.\n");
	{
		char *out = drain(s);

		assert_non_null(strstr(out, "451 4.3.0 <temp@example.org> "
					    "Temporary lookup failure\r\n"));
		assert_non_null(strstr(
		    out, "451 4.3.0 <a@x> temporary failure, try again "
			 "later\r\n452 4.3.1 <b@x> insufficient system "
			 "storage\r\n250 2.0.0 <c@x> delivered\r\n550 5.2.0 "
			 "<d@x> mailbox unavailable\r\n"));
		free(out);
	}
	assert_string_equal(f.from, "");
	assert_string_equal(f.message, "Return-Path: <>\r\nbody\n");
	free(f.message);
	lmtp_session_free(&s);
}

/* Asynchronous delivery: pipelined commands after the dot wait. */
static void
test_async_delivery(void **state)
{
	struct fake f = {0};
	struct lmtp_session *s = session(&f, 0, 0);
	enum lmtp_result res[2] = {LMTP_RESULT_OK, LMTP_RESULT_REJECTED};
	char *out;

	(void)state;
	f.async = true;
	feed(s, "LHLO x\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@x>\r\n"
		"RCPT TO:<b@x>\r\nDATA\r\nhello\r\n.\r\nNOOP\r\n");
	assert_true(lmtp_session_waiting(s));
	out = drain(s);
	assert_null(strstr(out, "<a@x>"));
	assert_null(strstr(out, "250 2.0.0 Ok"));
	free(out);
	feed(s, "RSET\r\n"); /* buffered, not answered yet */
	expect_output(s, "");
	assert_int_equal(lmtp_delivery_done(s, res, 2), 0);
	assert_false(lmtp_session_waiting(s));
	expect_output(s, "250 2.0.0 <a@x> delivered\r\n"
			 "554 5.6.0 <b@x> message rejected\r\n"
			 "250 2.0.0 Ok\r\n"
			 "250 2.0.0 Ok\r\n");
	/* No delivery pending any more. */
	assert_int_equal(lmtp_delivery_done(s, res, 2), -1);
	free(f.message);
	lmtp_session_free(&s);
}

/* Missing results count as temporary failures, never 250. */
static void
test_short_results(void **state)
{
	struct fake f = {0};
	struct lmtp_session *s = session(&f, 0, 0);
	enum lmtp_result res[1] = {LMTP_RESULT_OK};

	(void)state;
	f.async = true;
	feed(s, "LHLO x\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@x>\r\n"
		"RCPT TO:<b@x>\r\nDATA\r\n.\r\n");
	free(drain(s));
	assert_int_equal(lmtp_delivery_done(s, res, 1), 0);
	expect_output(s, "250 2.0.0 <a@x> delivered\r\n"
			 "451 4.3.0 <b@x> temporary failure, try again "
			 "later\r\n");
	free(f.message);
	lmtp_session_free(&s);
}

static void
test_size_limits(void **state)
{
	struct fake f = {0};
	struct lmtp_session *s = session(&f, 64, 0);
	char big[200];

	(void)state;
	feed(s, "LHLO x\r\nMAIL FROM:<s@x> SIZE=65\r\n");
	expect_output(s, "220 mx.test LMTP easd ready\r\n250-mx.test\r\n"
			 "250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n"
			 "250-8BITMIME\r\n250 SIZE 64\r\n"
			 "552 5.3.4 Message size exceeds fixed limit\r\n");
	/* Declared small, but the content is too big: 552 per recipient
	 * after the dot, nothing delivered, session still in sync. */
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	feed(s, "MAIL FROM:<s@x> SIZE=10\r\nRCPT TO:<a@x>\r\n"
		"RCPT TO:<b@x>\r\nDATA\r\n");
	feed(s, big);
	feed(s, "\r\n.\r\nNOOP\r\n");
	expect_output(s, "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n"
			 "250 2.1.5 Recipient ok\r\n"
			 "354 Start mail input; end with <CRLF>.<CRLF>\r\n"
			 "552 5.3.4 <a@x> Message too big\r\n"
			 "552 5.3.4 <b@x> Message too big\r\n"
			 "250 2.0.0 Ok\r\n");
	assert_int_equal(f.deliveries, 0);
	/* Exactly at the limit is accepted. */
	f.results[0] = LMTP_RESULT_OK;
	feed(s, "MAIL FROM:<s@x>\r\nRCPT TO:<a@x>\r\nDATA\r\n");
	memset(big, 'y', 62);
	memcpy(big + 62, "\r\n.\r\n", 6);
	feed(s, big);
	assert_int_equal(f.deliveries, 1);
	assert_int_equal(f.message_len, strlen("Return-Path: <s@x>\r\n") + 64);
	free(f.message);
	lmtp_session_free(&s);
}

static void
test_recipient_cap(void **state)
{
	struct fake f = {0};
	struct lmtp_session *s = session(&f, 0, 2);
	char *out;

	(void)state;
	feed(s, "LHLO x\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@x>\r\n"
		"RCPT TO:<b@x>\r\nRCPT TO:<c@x>\r\n");
	out = drain(s);
	assert_non_null(strstr(out, "452 4.5.3 Too many recipients\r\n"));
	free(out);
	lmtp_session_free(&s);
}

static void
test_sequence_and_syntax(void **state)
{
	struct fake f = {0};
	struct lmtp_session *s = session(&f, 0, 0);

	(void)state;
	free(drain(s));
	feed(s, "MAIL FROM:<a@x>\r\nHELO x\r\nEHLO x\r\nLHLO\r\nLHLO x\r\n");
	free(drain(s));
	feed(s, "RCPT TO:<a@x>\r\nDATA\r\nMAIL FROM:a@x\r\n"
		"MAIL FROM:<a@x> FOO=1\r\nMAIL FROM:<a@x>\r\n"
		"MAIL FROM:<b@x>\r\nDATA\r\nRCPT TO:<>\r\n"
		"RCPT TO:<a@x> NOTIFY=NEVER\r\nVRFY a\r\nHELP\r\nBOGUS\r\n"
		"\r\nRCPT TO:<@relay.example:user@x>\r\n");
	expect_output(s, "503 5.5.1 Need MAIL before RCPT\r\n"
			 "503 5.5.1 Need MAIL command\r\n"
			 "501 5.1.7 Bad sender address syntax\r\n"
			 "555 5.5.4 Unsupported MAIL parameter\r\n"
			 "250 2.1.0 Sender ok\r\n"
			 "503 5.5.1 Nested MAIL command\r\n"
			 "503 5.5.1 No valid recipients\r\n"
			 "501 5.1.3 Bad recipient address syntax\r\n"
			 "555 5.5.4 Unsupported RCPT parameter\r\n"
			 "252 2.5.2 Cannot VRFY user, but will accept "
			 "message\r\n"
			 "214 2.0.0 Commands: LHLO MAIL RCPT DATA RSET NOOP "
			 "QUIT VRFY HELP\r\n"
			 "500 5.5.2 Command unrecognized\r\n"
			 "500 5.5.2 Command unrecognized\r\n"
			 "250 2.1.5 Recipient ok\r\n");
	lmtp_session_free(&s);
}

static void
test_long_lines(void **state)
{
	struct fake f = {0};
	struct lmtp_session *s = session(&f, 0, 0);
	size_t n = LMTP_MAX_COMMAND_LINE_BYTES * 3;
	char *line = malloc(n + 1);
	char *body = malloc(5000);

	(void)state;
	assert_non_null(line);
	assert_non_null(body);
	memset(line, 'A', n);
	line[n] = '\0';
	free(drain(s));
	feed(s, line);
	feed(s, "\r\nNOOP\r\n");
	expect_output(s, "500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n");
	/* Text lines longer than 1000 bytes are tolerated in DATA. */
	f.results[0] = LMTP_RESULT_OK;
	feed(s, "LHLO x\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@x>\r\nDATA\r\n");
	memset(body, 'b', 4999);
	body[4999] = '\0';
	feed(s, body);
	feed(s, "\r\n.\r\n");
	assert_int_equal(f.deliveries, 1);
	assert_int_equal(f.message_len,
			 strlen("Return-Path: <s@x>\r\n") + 4999 + 2);
	free(line);
	free(body);
	free(f.message);
	lmtp_session_free(&s);
}

/* A client that keeps sending while delivery is pending is cut off at
 * the pending-input bound. */
static void
test_pending_input_bound(void **state)
{
	struct fake f = {0};
	struct lmtp_session *s = session(&f, 0, 0);
	static uint8_t junk[LMTP_MAX_PENDING_INPUT_BYTES * 2];

	(void)state;
	f.async = true;
	feed(s, "LHLO x\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@x>\r\nDATA\r\n"
		".\r\n");
	assert_true(lmtp_session_waiting(s));
	memset(junk, 'N', sizeof(junk));
	assert_int_equal(lmtp_feed(s, junk, sizeof(junk)), -1);
	free(f.message);
	lmtp_session_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_postfix_pipelined),
	    cmocka_unit_test(test_byte_at_a_time),
	    cmocka_unit_test(test_failures_per_recipient),
	    cmocka_unit_test(test_async_delivery),
	    cmocka_unit_test(test_short_results),
	    cmocka_unit_test(test_size_limits),
	    cmocka_unit_test(test_recipient_cap),
	    cmocka_unit_test(test_sequence_and_syntax),
	    cmocka_unit_test(test_long_lines),
	    cmocka_unit_test(test_pending_input_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
