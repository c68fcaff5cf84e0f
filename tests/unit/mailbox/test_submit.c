/* Unit tests for mailbox/submit.c against tests/lib/smtp_sink on
 * 127.0.0.1: delivery with AUTH and dot-stuffing, classification of 4xx,
 * 5xx at MAIL, RCPT and after the dot, refused connections, timeouts and a
 * required STARTTLS the relay lacks; partial recipient refusal; and the
 * RFC 3464 bounce, checked by parsing it with mime_parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mailbox/mime.h"
#include "mailbox/submit.h"
#include "tests/lib/smtp_sink.h"

static const char message[] = "From: alice@example.org\r\n"
			      "To: bob@example.net\r\n"
			      "Subject: hello\r\n"
			      "Message-ID: <m1@example.org>\r\n"
			      "\r\n"
			      "line one\r\n"
			      ".starts with a dot\r\n"
			      "last\r\n";

struct run {
	struct smtp_sink *sink;
	struct submit_result res;
	int ret;
};

static void
run(struct run *r, const struct smtp_sink_config *sc, enum submit_tls tls,
    const char *const *rcpts, size_t n)
{
	char url[64];
	struct submit_config cfg = {0};

	r->sink = smtp_sink_start(sc);
	assert_non_null(r->sink);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d/easd.test",
		 smtp_sink_port(r->sink));
	cfg.url = url;
	cfg.tls = tls;
	cfg.connect_timeout_ms = 2000;
	cfg.timeout_ms = 5000;
	if (sc->auth) {
		cfg.username = "alice";
		cfg.password = "s3cret";
	}
	r->ret =
	    submit_send(&cfg, "alice@example.org", rcpts, n,
			(const uint8_t *)message, strlen(message), &r->res);
	smtp_sink_stop(r->sink);
}

static void
test_delivered_with_auth(void **state)
{
	struct smtp_sink_config sc = {.auth = true};
	const char *rcpts[] = {"bob@example.net", "carol@example.net"};
	struct run r;

	(void)state;
	run(&r, &sc, SUBMIT_TLS_TRY, rcpts, 2);
	assert_int_equal(r.ret, 0);
	assert_int_equal(r.res.status, SUBMIT_OK);
	assert_int_equal(r.res.n_failed, 0);
	assert_string_equal(r.sink->mail_from, "<alice@example.org>");
	assert_string_equal(r.sink->rcpts,
			    "<bob@example.net>,<carol@example.net>");
	assert_string_equal(r.sink->auth, "|alice|s3cret");
	/* Dot-stuffed by libcurl, unstuffed by the sink: identical. */
	assert_int_equal(r.sink->data_len, strlen(message));
	assert_memory_equal(r.sink->data, message, strlen(message));
	smtp_sink_free(&r.sink);
}

static void
test_rcpt_rejected(void **state)
{
	struct smtp_sink_config sc = {.rcpt_code = 550};
	const char *rcpts[] = {"nobody@example.net"};
	struct run r;

	(void)state;
	run(&r, &sc, SUBMIT_TLS_NONE, rcpts, 1);
	assert_int_equal(r.ret, -1);
	assert_int_equal(r.res.status, SUBMIT_PERMFAIL);
	assert_int_equal(r.res.code, 550);
	assert_non_null(strstr(r.res.text, "5.1.1 no such user here"));
	smtp_sink_free(&r.sink);
}

/* One recipient refused, the other accepted: delivered, failure kept. */
static void
test_partial_rcpt(void **state)
{
	struct smtp_sink_config sc = {.reject_rcpt = "nobody@",
				      .reject_code = 550};
	const char *rcpts[] = {"nobody@example.net", "bob@example.net"};
	struct run r;
	struct buf bounce;
	struct message_summary *s;
	const char *error;

	(void)state;
	run(&r, &sc, SUBMIT_TLS_NONE, rcpts, 2);
	assert_int_equal(r.ret, 0);
	assert_int_equal(r.res.status, SUBMIT_OK);
	assert_string_equal(r.sink->rcpts, "<bob@example.net>");
	assert_int_equal(r.res.n_failed, 1);
	assert_string_equal(r.res.failed[0].address, "nobody@example.net");
	assert_int_equal(r.res.failed[0].code, 550);
	/* The bounce names only the refused recipient. */
	buf_init(&bounce, 1 << 20);
	assert_int_equal(
	    submit_build_bounce("mx.easd.test", "alice@example.org", rcpts, 2,
				&r.res, (const uint8_t *)message,
				strlen(message), 1767323045, &bounce),
	    0);
	assert_non_null(
	    strstr(buf_str(&bounce), "Final-Recipient: rfc822; nobody@"));
	assert_null(strstr(buf_str(&bounce), "rfc822; bob@"));
	assert_non_null(strstr(buf_str(&bounce), "Status: 5.1.1\r\n"));
	assert_int_equal(mime_parse(bounce.data, bounce.len, 0, &s, &error), 0);
	assert_string_equal(s->subject, "Undelivered Mail Returned to Sender");
	assert_non_null(strstr(s->text, "could not be delivered"));
	message_summary_free(&s);
	buf_free(&bounce);
	smtp_sink_free(&r.sink);
}

static void
test_mail_tempfail(void **state)
{
	struct smtp_sink_config sc = {.mail_code = 451};
	const char *rcpts[] = {"bob@example.net"};
	struct run r;
	struct buf bounce;

	(void)state;
	run(&r, &sc, SUBMIT_TLS_NONE, rcpts, 1);
	assert_int_equal(r.ret, -1);
	assert_int_equal(r.res.status, SUBMIT_TEMPFAIL);
	assert_int_equal(r.res.code, 451);
	/* Nothing failed permanently: no bounce. */
	buf_init(&bounce, 1 << 20);
	assert_int_equal(submit_build_bounce("h", "a@b", rcpts, 1, &r.res,
					     (const uint8_t *)message,
					     strlen(message), 0, &bounce),
			 -1);
	buf_free(&bounce);
	smtp_sink_free(&r.sink);
}

static void
test_rejected_after_dot(void **state)
{
	struct smtp_sink_config sc = {.dot_code = 554};
	const char *rcpts[] = {"bob@example.net"};
	struct run r;
	struct buf bounce;
	struct message_summary *s;
	const char *error;

	(void)state;
	run(&r, &sc, SUBMIT_TLS_NONE, rcpts, 1);
	assert_int_equal(r.ret, -1);
	assert_int_equal(r.res.status, SUBMIT_PERMFAIL);
	assert_int_equal(r.res.code, 554);
	buf_init(&bounce, 1 << 20);
	assert_int_equal(
	    submit_build_bounce("mx.easd.test", "alice@example.org", rcpts, 1,
				&r.res, (const uint8_t *)message,
				strlen(message), 1767323045, &bounce),
	    0);
	assert_non_null(strstr(buf_str(&bounce),
			       "Content-Type: multipart/report; "
			       "report-type=delivery-status;"));
	assert_non_null(strstr(buf_str(&bounce),
			       "Final-Recipient: rfc822; bob@example.net"));
	assert_non_null(strstr(buf_str(&bounce), "Action: failed\r\n"));
	assert_non_null(
	    strstr(buf_str(&bounce), "Date: Fri, 02 Jan 2026 03:04:05"));
	assert_int_equal(mime_parse(bounce.data, bounce.len, 0, &s, &error), 0);
	assert_string_equal(s->to, "alice@example.org");
	/* delivery-status and the quoted headers are the two attachments */
	assert_int_equal(s->n_attachments, 2);
	assert_string_equal(s->attachments[0].content_type,
			    "message/delivery-status");
	assert_string_equal(s->attachments[1].content_type,
			    "text/rfc822-headers");
	message_summary_free(&s);
	buf_free(&bounce);
	smtp_sink_free(&r.sink);
}

static void
test_connection_refused(void **state)
{
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char url[64];
	struct submit_config cfg = {0};
	struct submit_result res;
	const char *rcpts[] = {"bob@example.net"};

	(void)state;
	/* A port that was just free: bound, then closed without listen. */
	assert_true(fd >= 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", ntohs(sa.sin_port));
	close(fd);
	cfg.url = url;
	cfg.connect_timeout_ms = 2000;
	cfg.timeout_ms = 3000;
	assert_int_equal(submit_send(&cfg, "a@example.org", rcpts, 1,
				     (const uint8_t *)message, strlen(message),
				     &res),
			 -1);
	assert_int_equal(res.status, SUBMIT_TEMPFAIL);
	assert_int_equal(res.code, 0);
	assert_true(strlen(res.text) > 0);
}

static void
test_timeout_and_tls_required(void **state)
{
	struct smtp_sink_config slow = {.greet_delay_ms = 800};
	struct smtp_sink_config plain = {0};
	const char *rcpts[] = {"bob@example.net"};
	struct submit_config cfg = {0};
	struct run r;
	char url[64];

	(void)state;
	r.sink = smtp_sink_start(&slow);
	assert_non_null(r.sink);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d",
		 smtp_sink_port(r.sink));
	cfg.url = url;
	cfg.timeout_ms = 200;
	assert_int_equal(submit_send(&cfg, "a@example.org", rcpts, 1,
				     (const uint8_t *)message, strlen(message),
				     &r.res),
			 -1);
	assert_int_equal(r.res.status, SUBMIT_TEMPFAIL);
	smtp_sink_free(&r.sink);
	/* STARTTLS required but not offered: temporary, never sent. */
	run(&r, &plain, SUBMIT_TLS_REQUIRED, rcpts, 1);
	assert_int_equal(r.ret, -1);
	assert_int_equal(r.res.status, SUBMIT_TEMPFAIL);
	assert_null(r.sink->data);
	smtp_sink_free(&r.sink);
}

/* Addresses with CR/LF never reach a command line or a header. */
static void
test_bad_addresses(void **state)
{
	struct submit_config cfg = {
	    "smtp://127.0.0.1:1", SUBMIT_TLS_NONE, NULL, NULL, NULL, 100, 100};
	const char *evil[] = {"bob@example.net>\r\nDATA"};
	const char *good[] = {"bob@example.net"};
	struct submit_result res;
	struct buf out;

	(void)state;
	assert_int_equal(submit_send(&cfg, "a@example.org", evil, 1,
				     (const uint8_t *)message, strlen(message),
				     &res),
			 -1);
	assert_int_equal(res.status, SUBMIT_PERMFAIL);
	assert_int_equal(res.code, 550);
	buf_init(&out, 1 << 16);
	assert_int_equal(submit_build_bounce("h", "x@y\r\nBcc: z@w", good, 1,
					     &res, (const uint8_t *)message,
					     strlen(message), 0, &out),
			 -1);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_delivered_with_auth),
	    cmocka_unit_test(test_rcpt_rejected),
	    cmocka_unit_test(test_partial_rcpt),
	    cmocka_unit_test(test_mail_tempfail),
	    cmocka_unit_test(test_rejected_after_dot),
	    cmocka_unit_test(test_connection_refused),
	    cmocka_unit_test(test_timeout_and_tls_required),
	    cmocka_unit_test(test_bad_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
