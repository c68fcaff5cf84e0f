/*
 * Fuzz target for mailbox/lmtp.c.  The first bytes choose the session's
 * limits, whether delivery completes inside the callback or later, the
 * per-recipient results and how the rest of the input is split into
 * reads; the rest is the client's byte stream.  Invariants checked after
 * every delivery: exactly one reply per accepted recipient, and 250 if and
 * only if that recipient's result was OK (reliability.md G1).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/lmtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz {
	uint8_t result_bits;
	bool async;
	bool pending;
	enum lmtp_result results[256];
	size_t n_results;
	size_t mark; /* output length before the replies */
	struct lmtp_session *s;
};

static enum lmtp_rcpt_status
fuzz_rcpt(void *ctx, const char *address)
{
	(void)ctx;
	switch (address[0] % 4) {
	case 1:
		return LMTP_RCPT_UNKNOWN;
	case 2:
		return LMTP_RCPT_TEMPFAIL;
	default:
		return LMTP_RCPT_OK;
	}
}

/* The n lines after mark are the per-recipient replies. */
static void
check_replies(struct fuzz *f)
{
	size_t len;
	const uint8_t *out = lmtp_output(f->s, &len);
	size_t pos = f->mark;

	for (size_t i = 0; i < f->n_results; i++) {
		const uint8_t *lf;
		bool ok;

		if (pos >= len)
			return; /* output bound hit: session closed */
		lf = memchr(out + pos, '\n', len - pos);
		if (lf == NULL)
			abort();
		ok = (size_t)(lf - (out + pos)) >= 4 &&
		     memcmp(out + pos, "250 ", 4) == 0;
		if (ok != (f->results[i] == LMTP_RESULT_OK))
			abort();
		pos = (size_t)(lf - out) + 1;
	}
}

static void
complete(struct fuzz *f)
{
	size_t len;

	lmtp_output(f->s, &len);
	f->mark = len;
	f->pending = false;
	if (lmtp_delivery_done(f->s, f->results, f->n_results) != 0)
		abort();
	check_replies(f);
}

static void
fuzz_deliver(void *ctx, struct lmtp_session *s, const struct lmtp_envelope *e)
{
	struct fuzz *f = ctx;

	(void)s;
	if (e->n_rcpts == 0 || e->n_rcpts > 256 || e->message == NULL ||
	    e->message_len < 16)
		abort();
	f->n_results = e->n_rcpts;
	for (size_t i = 0; i < e->n_rcpts; i++)
		f->results[i] = (enum lmtp_result)(
		    ((f->result_bits >> (i % 8)) & 1) != 0 ? (i % 5) : 0);
	f->pending = true;
	if (!f->async)
		complete(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz f = {0};
	struct lmtp_callbacks cb = {fuzz_rcpt, fuzz_deliver, &f};
	struct lmtp_config cfg = {"fuzz.test", 0, 0};
	size_t chunk;

	if (size < 4)
		return 0;
	cfg.max_message_bytes = 64 + (size_t)data[0] * 16;
	cfg.max_recipients = 1 + data[1] % 8;
	f.async = (data[2] & 1) != 0;
	chunk = 1 + (data[2] >> 1);
	f.result_bits = data[3];
	data += 4;
	size -= 4;
	f.s = lmtp_session_new(&cfg, &cb);
	if (f.s == NULL)
		return 0;
	while (size > 0) {
		size_t n = size < chunk ? size : chunk;
		size_t len;

		if (lmtp_feed(f.s, data, n) != 0 && !f.pending)
			break;
		data += n;
		size -= n;
		if (f.pending)
			complete(&f);
		lmtp_output(f.s, &len);
		lmtp_output_consume(f.s, len);
	}
	if (f.pending)
		complete(&f);
	lmtp_session_free(&f.s);
	return 0;
}
