/*
 * LMTP server engine (RFC 2033 over the RFC 5321 command set).  Bytes from
 * the connection go into `in`; process() answers complete command lines,
 * streams DATA content into `msg` (dot-unstuffed, CRLF or bare LF line
 * ends kept as received) and stops while a delivery is in flight, so
 * pipelined commands that follow the final dot are answered in order
 * after the per-recipient DATA replies.  See mailbox/lmtp.h for the
 * contract with the daemon.
 *
 * Bounds: a command line is at most LMTP_MAX_COMMAND_LINE_BYTES (longer
 * ones are skipped to their LF and answered 500); DATA is never buffered
 * per line, only the message as a whole, up to the configured size, past
 * which content is discarded until the final dot and every recipient gets
 * 552 (the session stays in sync); `in` holds at most
 * LMTP_MAX_PENDING_INPUT_BYTES plus one command line; `out` at most
 * LMTP_MAX_OUTPUT_BYTES (a client that never reads is cut off).
 */
#include "mailbox/lmtp.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/buf.h"
#include "proto/limits.h"

/* Room for the Return-Path line put in front of the message. */
#define LMTP_RETURN_PATH_BYTES (LMTP_MAX_ADDRESS_BYTES + 32)

enum lmtp_state {
	LMTP_STATE_COMMAND, /* reading command lines */
	LMTP_STATE_DATA,    /* reading message content */
	LMTP_STATE_WAITING, /* delivery callback pending */
	LMTP_STATE_CLOSED,  /* QUIT answered or fatal error */
};

struct lmtp_session {
	struct lmtp_callbacks cb;
	char *hostname;
	size_t max_message_bytes;
	size_t max_recipients;

	enum lmtp_state state;
	bool lhlo_done;
	bool in_transaction; /* MAIL accepted */
	bool body_8bit;
	bool discarding_line; /* skipping an over-long command line */
	bool processing;      /* inside process(): no re-entry */

	char *mail_from;
	char **rcpts;
	size_t n_rcpts;

	/* DATA reader */
	bool at_line_start;
	bool data_overflow;
	size_t data_bytes;

	struct buf in;
	struct buf out;
	struct buf msg;
};

static void process(struct lmtp_session *s);

/* ------------------------------------------------------------- replies */

static void reply(struct lmtp_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Queue one reply line.  If the client does not read its replies, the
 * output bound is hit and the session is closed. */
static void
reply(struct lmtp_session *s, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = buf_vprintf(&s->out, fmt, ap);
	va_end(ap);
	if (ret == 0)
		ret = buf_append(&s->out, "\r\n", 2);
	if (ret != 0)
		s->state = LMTP_STATE_CLOSED;
}

/* ---------------------------------------------------------- life cycle */

static void
transaction_reset(struct lmtp_session *s)
{
	free(s->mail_from);
	s->mail_from = NULL;
	for (size_t i = 0; i < s->n_rcpts; i++)
		free(s->rcpts[i]);
	s->n_rcpts = 0;
	s->in_transaction = false;
	s->body_8bit = false;
	s->data_overflow = false;
	s->data_bytes = 0;
	buf_free(&s->msg);
	buf_init(&s->msg, s->max_message_bytes + LMTP_RETURN_PATH_BYTES);
}

struct lmtp_session *
lmtp_session_new(const struct lmtp_config *cfg, const struct lmtp_callbacks *cb)
{
	struct lmtp_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->cb = *cb;
	s->hostname =
	    strdup(cfg->hostname != NULL ? cfg->hostname : "localhost");
	s->max_message_bytes = cfg->max_message_bytes != 0
				   ? cfg->max_message_bytes
				   : LMTP_MAX_MESSAGE_BYTES;
	s->max_recipients = cfg->max_recipients != 0 ? cfg->max_recipients
						     : LMTP_MAX_RECIPIENTS;
	s->rcpts = calloc(s->max_recipients, sizeof(*s->rcpts));
	if (s->hostname == NULL || s->rcpts == NULL) {
		free(s->hostname);
		free(s->rcpts);
		free(s);
		return NULL;
	}
	buf_init(&s->in,
		 LMTP_MAX_PENDING_INPUT_BYTES + LMTP_MAX_COMMAND_LINE_BYTES);
	buf_init(&s->out, LMTP_MAX_OUTPUT_BYTES);
	buf_init(&s->msg, s->max_message_bytes + LMTP_RETURN_PATH_BYTES);
	s->state = LMTP_STATE_COMMAND;
	/* RFC 2033 4.1 / RFC 5321 4.3.1: greeting */
	reply(s, "220 %s LMTP easd ready", s->hostname);
	return s;
}

void
lmtp_session_free(struct lmtp_session **session)
{
	struct lmtp_session *s = *session;

	if (s == NULL)
		return;
	transaction_reset(s);
	buf_free(&s->in);
	buf_free(&s->out);
	buf_free(&s->msg);
	free(s->rcpts);
	free(s->hostname);
	free(s);
	*session = NULL;
}

/* ------------------------------------------------------------- parsing */

/* Case-insensitive prefix match; returns the rest or NULL. */
static const char *
skip_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncasecmp(s, prefix, n) == 0 ? s + n : NULL;
}

/*
 * Parse "<path>" at *p (RFC 5321 4.1.2 Path), drop a source route, copy
 * the address to addr (at most LMTP_MAX_ADDRESS_BYTES) and leave *p after
 * the '>'.  Control characters are refused: addresses are echoed in
 * replies and logs.
 */
static int
parse_path(const char **p, char *addr, size_t addr_size)
{
	const char *s = *p, *close;
	size_t len;

	while (*s == ' ')
		s++;
	if (*s != '<')
		return -1;
	s++;
	close = strchr(s, '>');
	if (close == NULL)
		return -1;
	if (*s == '@') { /* "@a,@b:user@domain": obsolete source route */
		const char *colon = memchr(s, ':', (size_t)(close - s));

		if (colon == NULL)
			return -1;
		s = colon + 1;
	}
	len = (size_t)(close - s);
	if (len >= addr_size || len > LMTP_MAX_ADDRESS_BYTES)
		return -1;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '<')
			return -1;
	memcpy(addr, s, len);
	addr[len] = '\0';
	*p = close + 1;
	return 0;
}

/* Next space-separated ESMTP parameter (RFC 5321 4.1.2 Mail-parameters)
 * into param; 0 when found, 1 at the end. */
static int
next_param(const char **p, char *param, size_t size)
{
	const char *s = *p;
	size_t len = 0;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return 1;
	while (s[len] != '\0' && s[len] != ' ')
		len++;
	if (len >= size)
		len = size - 1;
	memcpy(param, s, len);
	param[len] = '\0';
	while (*s != '\0' && *s != ' ')
		s++;
	*p = s;
	return 0;
}

/* SIZE=<digits> (RFC 1870 3): the declared size, bounded. */
static int
parse_size(const char *v, size_t *size_r)
{
	unsigned long long n = 0;

	if (*v == '\0' || strlen(v) > 20)
		return -1;
	for (; *v != '\0'; v++) {
		if (!isdigit((unsigned char)*v))
			return -1;
		if (n > (~0ull - 9) / 10)
			return -1;
		n = n * 10 + (unsigned long long)(*v - '0');
	}
	*size_r = n > (unsigned long long)SIZE_MAX ? SIZE_MAX : (size_t)n;
	return 0;
}

/* ------------------------------------------------------------ commands */

static void
cmd_lhlo(struct lmtp_session *s, const char *arg)
{
	if (*arg == '\0') {
		reply(s, "501 5.5.4 LHLO needs a domain");
		return;
	}
	transaction_reset(s);
	s->lhlo_done = true;
	/* RFC 2033 4.1; RFC 2920 PIPELINING; RFC 2034; RFC 6152; RFC 1870 */
	reply(s, "250-%s", s->hostname);
	reply(s, "250-PIPELINING");
	reply(s, "250-ENHANCEDSTATUSCODES");
	reply(s, "250-8BITMIME");
	reply(s, "250 SIZE %zu", s->max_message_bytes);
}

static void
cmd_mail(struct lmtp_session *s, const char *arg)
{
	char addr[LMTP_MAX_ADDRESS_BYTES + 1];
	char param[64];
	const char *p = skip_prefix(arg, "FROM:");
	bool body_8bit = false;

	if (!s->lhlo_done) {
		reply(s, "503 5.5.1 Send LHLO first");
		return;
	}
	if (s->in_transaction) {
		reply(s, "503 5.5.1 Nested MAIL command");
		return;
	}
	if (p == NULL || parse_path(&p, addr, sizeof(addr)) != 0) {
		reply(s, "501 5.1.7 Bad sender address syntax");
		return;
	}
	while (next_param(&p, param, sizeof(param)) == 0) {
		const char *v;
		size_t size;

		if ((v = skip_prefix(param, "SIZE=")) != NULL) {
			if (parse_size(v, &size) != 0) {
				reply(s, "501 5.5.4 Bad SIZE parameter");
				return;
			}
			if (size > s->max_message_bytes) { /* RFC 1870 6.1 */
				reply(s, "552 5.3.4 Message size exceeds "
					 "fixed limit");
				return;
			}
		} else if ((v = skip_prefix(param, "BODY=")) != NULL) {
			if (strcasecmp(v, "8BITMIME") == 0)
				body_8bit = true;
			else if (strcasecmp(v, "7BIT") != 0) {
				reply(s, "501 5.5.4 Bad BODY parameter");
				return;
			}
		} else {
			reply(s, "555 5.5.4 Unsupported MAIL parameter");
			return;
		}
	}
	s->mail_from = strdup(addr);
	if (s->mail_from == NULL) {
		reply(s, "451 4.3.0 Out of memory");
		return;
	}
	s->in_transaction = true;
	s->body_8bit = body_8bit;
	reply(s, "250 2.1.0 Sender ok");
}

static void
cmd_rcpt(struct lmtp_session *s, const char *arg)
{
	char addr[LMTP_MAX_ADDRESS_BYTES + 1];
	char param[64];
	const char *p = skip_prefix(arg, "TO:");
	enum lmtp_rcpt_status st;

	if (!s->in_transaction) {
		reply(s, "503 5.5.1 Need MAIL before RCPT");
		return;
	}
	if (p == NULL || parse_path(&p, addr, sizeof(addr)) != 0 ||
	    addr[0] == '\0') {
		reply(s, "501 5.1.3 Bad recipient address syntax");
		return;
	}
	if (next_param(&p, param, sizeof(param)) == 0) {
		reply(s, "555 5.5.4 Unsupported RCPT parameter");
		return;
	}
	if (s->n_rcpts >= s->max_recipients) { /* RFC 5321 4.5.3.1.10 */
		reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	st = s->cb.rcpt(s->cb.ctx, addr);
	switch (st) {
	case LMTP_RCPT_OK:
		s->rcpts[s->n_rcpts] = strdup(addr);
		if (s->rcpts[s->n_rcpts] == NULL) {
			reply(s, "451 4.3.0 Out of memory");
			return;
		}
		s->n_rcpts++;
		reply(s, "250 2.1.5 Recipient ok");
		return;
	case LMTP_RCPT_UNKNOWN:
		reply(s, "550 5.1.1 <%s> User unknown", addr);
		return;
	case LMTP_RCPT_DISABLED:
		reply(s, "550 5.2.1 <%s> Mailbox disabled", addr);
		return;
	case LMTP_RCPT_TEMPFAIL:
		break;
	}
	reply(s, "451 4.3.0 <%s> Temporary lookup failure", addr);
}

static void
cmd_data(struct lmtp_session *s, const char *arg)
{
	if (*arg != '\0') {
		reply(s, "501 5.5.4 DATA takes no argument");
		return;
	}
	if (!s->in_transaction) {
		reply(s, "503 5.5.1 Need MAIL command");
		return;
	}
	if (s->n_rcpts == 0) { /* RFC 2033 4.2 */
		reply(s, "503 5.5.1 No valid recipients");
		return;
	}
	buf_reset(&s->msg);
	/* RFC 5321 4.4: the delivery agent records the reverse-path. */
	if (buf_printf(&s->msg, "Return-Path: <%s>\r\n", s->mail_from) != 0) {
		reply(s, "451 4.3.0 Out of memory");
		return;
	}
	s->data_bytes = 0;
	s->data_overflow = false;
	s->at_line_start = true;
	s->state = LMTP_STATE_DATA;
	reply(s, "354 Start mail input; end with <CRLF>.<CRLF>");
}

static void
command(struct lmtp_session *s, char *line)
{
	char *arg = strchr(line, ' ');

	if (arg != NULL)
		*arg++ = '\0';
	else
		arg = line + strlen(line);
	if (strcasecmp(line, "LHLO") == 0)
		cmd_lhlo(s, arg);
	else if (strcasecmp(line, "MAIL") == 0)
		cmd_mail(s, arg);
	else if (strcasecmp(line, "RCPT") == 0)
		cmd_rcpt(s, arg);
	else if (strcasecmp(line, "DATA") == 0)
		cmd_data(s, arg);
	else if (strcasecmp(line, "RSET") == 0) {
		transaction_reset(s);
		reply(s, "250 2.0.0 Ok");
	} else if (strcasecmp(line, "NOOP") == 0)
		reply(s, "250 2.0.0 Ok");
	else if (strcasecmp(line, "QUIT") == 0) {
		reply(s, "221 2.0.0 %s closing connection", s->hostname);
		s->state = LMTP_STATE_CLOSED;
	} else if (strcasecmp(line, "VRFY") == 0)
		reply(s, "252 2.5.2 Cannot VRFY user, but will accept "
			 "message");
	else if (strcasecmp(line, "HELP") == 0)
		reply(s, "214 2.0.0 Commands: LHLO MAIL RCPT DATA RSET NOOP "
			 "QUIT VRFY HELP");
	else if (strcasecmp(line, "HELO") == 0 || strcasecmp(line, "EHLO") == 0)
		reply(s, "500 5.5.1 This is LMTP: use LHLO"); /* RFC 2033 4.1 */
	else
		reply(s, "500 5.5.2 Command unrecognized");
}

/* --------------------------------------------------------------- DATA */

/* Message content after unstuffing; past the size limit it is dropped. */
static void
data_append(struct lmtp_session *s, const uint8_t *p, size_t n)
{
	if (s->data_overflow)
		return;
	if (n > s->max_message_bytes - s->data_bytes ||
	    buf_append(&s->msg, p, n) != 0) {
		s->data_overflow = true;
		buf_free(&s->msg);
		buf_init(&s->msg,
			 s->max_message_bytes + LMTP_RETURN_PATH_BYTES);
		return;
	}
	s->data_bytes += n;
}

static const char *
result_reply(enum lmtp_result r)
{
	switch (r) {
	case LMTP_RESULT_OK:
		return "250 2.0.0";
	case LMTP_RESULT_DISK_FULL:
		return "452 4.3.1";
	case LMTP_RESULT_PERMFAIL:
		return "550 5.2.0";
	case LMTP_RESULT_REJECTED:
		return "554 5.6.0";
	case LMTP_RESULT_TEMPFAIL:
		break;
	}
	return "451 4.3.0";
}

static const char *
result_text(enum lmtp_result r)
{
	switch (r) {
	case LMTP_RESULT_OK:
		return "delivered";
	case LMTP_RESULT_DISK_FULL:
		return "insufficient system storage";
	case LMTP_RESULT_PERMFAIL:
		return "mailbox unavailable";
	case LMTP_RESULT_REJECTED:
		return "message rejected";
	case LMTP_RESULT_TEMPFAIL:
		break;
	}
	return "temporary failure, try again later";
}

/* The final dot: hand the transaction over, or refuse an over-size one
 * for every recipient (RFC 2033 4.2: one reply per accepted RCPT). */
static void
data_end(struct lmtp_session *s)
{
	struct lmtp_envelope env;

	if (s->data_overflow) {
		for (size_t i = 0; i < s->n_rcpts; i++)
			reply(s, "552 5.3.4 <%s> Message too big", s->rcpts[i]);
		transaction_reset(s);
		s->state = LMTP_STATE_COMMAND;
		return;
	}
	s->state = LMTP_STATE_WAITING;
	env.mail_from = s->mail_from;
	env.rcpts = (const char *const *)s->rcpts;
	env.n_rcpts = s->n_rcpts;
	env.message = s->msg.data;
	env.message_len = s->msg.len;
	env.body_8bit = s->body_8bit;
	s->cb.deliver(s->cb.ctx, s, &env);
}

/* Consume DATA content from `in`; returns false when more input is
 * needed to decide. */
static bool
data_step(struct lmtp_session *s)
{
	const uint8_t *p = s->in.data;
	size_t n = s->in.len;
	const uint8_t *lf;
	size_t take;

	if (n == 0)
		return false;
	if (s->at_line_start && p[0] == '.') {
		/* RFC 5321 4.5.2: "." alone ends; a leading dot is dropped */
		if (n < 2)
			return false;
		if (p[1] == '\n') {
			buf_consume(&s->in, 2);
			data_end(s);
			return true;
		}
		if (p[1] == '\r') {
			if (n < 3)
				return false;
			if (p[2] == '\n') {
				buf_consume(&s->in, 3);
				data_end(s);
				return true;
			}
		}
		buf_consume(&s->in, 1);
		s->at_line_start = false;
		return true;
	}
	lf = memchr(p, '\n', n);
	take = lf != NULL ? (size_t)(lf - p) + 1 : n;
	data_append(s, p, take);
	s->at_line_start = lf != NULL;
	buf_consume(&s->in, take);
	return true;
}

/* ------------------------------------------------------------ commands */

/* Answer one complete command line from `in`; false if none is
 * complete yet. */
static bool
command_step(struct lmtp_session *s)
{
	uint8_t *p = s->in.data;
	uint8_t *lf = s->in.len > 0 ? memchr(p, '\n', s->in.len) : NULL;
	size_t len;
	char line[LMTP_MAX_COMMAND_LINE_BYTES + 1];

	if (lf == NULL) {
		/* No end yet: an over-long line is skipped as it comes. */
		if (s->in.len > LMTP_MAX_COMMAND_LINE_BYTES ||
		    (s->discarding_line && s->in.len > 0)) {
			s->discarding_line = true;
			buf_consume(&s->in, s->in.len);
		}
		return false;
	}
	len = (size_t)(lf - p) + 1;
	if (s->discarding_line || len > LMTP_MAX_COMMAND_LINE_BYTES) {
		s->discarding_line = false;
		buf_consume(&s->in, len);
		reply(s, "500 5.5.2 Line too long");
		return true;
	}
	len--; /* LF */
	if (len > 0 && p[len - 1] == '\r')
		len--;
	memcpy(line, p, len);
	line[len] = '\0';
	buf_consume(&s->in, (size_t)(lf - p) + 1);
	if (memchr(line, '\0', len) != NULL)
		reply(s, "500 5.5.2 NUL in command");
	else
		command(s, line);
	return true;
}

static void
process(struct lmtp_session *s)
{
	if (s->processing)
		return;
	s->processing = true;
	for (;;) {
		bool progress = false;

		if (s->state == LMTP_STATE_COMMAND)
			progress = command_step(s);
		else if (s->state == LMTP_STATE_DATA)
			progress = data_step(s);
		if (!progress)
			break;
	}
	s->processing = false;
}

/* --------------------------------------------------------------- API */

int
lmtp_feed(struct lmtp_session *s, const uint8_t *data, size_t len)
{
	while (len > 0) {
		size_t room = s->in.max - s->in.len;
		size_t take = len < room ? len : room;

		if (s->state == LMTP_STATE_CLOSED)
			return -1;
		if (take == 0)
			return -1; /* waiting and the client keeps sending */
		if (buf_append(&s->in, data, take) != 0) {
			s->state = LMTP_STATE_CLOSED;
			return -1;
		}
		data += take;
		len -= take;
		process(s);
	}
	return s->state == LMTP_STATE_CLOSED ? -1 : 0;
}

int
lmtp_delivery_done(struct lmtp_session *s, const enum lmtp_result *results,
		   size_t n_results)
{
	if (s->state != LMTP_STATE_WAITING)
		return -1;
	/* G1: only an explicit OK result earns 250; a missing result is a
	 * temporary failure. */
	for (size_t i = 0; i < s->n_rcpts; i++) {
		enum lmtp_result r =
		    i < n_results ? results[i] : LMTP_RESULT_TEMPFAIL;

		reply(s, "%s <%s> %s", result_reply(r), s->rcpts[i],
		      result_text(r));
	}
	transaction_reset(s);
	if (s->state == LMTP_STATE_WAITING)
		s->state = LMTP_STATE_COMMAND;
	process(s);
	return 0;
}

const uint8_t *
lmtp_output(const struct lmtp_session *s, size_t *len_r)
{
	*len_r = s->out.len;
	return s->out.data;
}

void
lmtp_output_consume(struct lmtp_session *s, size_t n)
{
	buf_consume(&s->out, n < s->out.len ? n : s->out.len);
}

bool
lmtp_session_waiting(const struct lmtp_session *s)
{
	return s->state == LMTP_STATE_WAITING;
}

bool
lmtp_session_closed(const struct lmtp_session *s)
{
	return s->state == LMTP_STATE_CLOSED;
}
