/*
 * Fuzz target for mailbox/mime_compose.c and mailbox/autoreply.c.  Input:
 * one flag byte (bits 0-1 the mode, bit 2 ReplaceMime, bit 3 two
 * Forwardees), then the client's MIME, then optionally the marker
 * "\n--ORIGINAL--\n" and the source item's MIME.  Every composition must
 * succeed or fail with a status; on success the wire copy is no longer
 * than the saved copy, the envelope is within its bound, and both copies
 * parse again.  The client's headers also go through the auto-reply
 * policy and, when it says so, the reply builder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/autoreply.h"
#include "mailbox/compose.h"
#include "mailbox/mime.h"
#include "proto/limits.h"

#define MARKER "\n--ORIGINAL--\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
no_history(void *ctx, const char *sender, int64_t *at_r)
{
	(void)ctx;
	(void)sender;
	(void)at_r;
	return 1;
}

static void
autoreply_round(const uint8_t *raw, size_t len)
{
	static const struct autoreply_user user = {
	    .name = "Bob", .address = "bob@example.com"};
	struct autoreply_settings s = {0};
	struct autoreply_history h = {no_history, NULL, NULL, NULL};
	struct compose_headers *in = NULL;
	struct autoreply_decision d;
	const char *error;
	struct buf out;

	if (compose_headers_read(raw, len, &in, &error) != 0)
		return;
	s.state = AUTOREPLY_ON;
	s.internal.body = "away";
	s.external.body = "<p>away</p>";
	s.external.is_html = true;
	s.external_audience = AUTOREPLY_EXTERNAL_ALL;
	buf_init(&out, 1u << 20);
	if (autoreply_process(&s, &user, in, NULL, 1700000000, &h, &d, &out,
			      &error) == 0 &&
	    d.reason == AUTOREPLY_REPLY && out.len == 0)
		abort();
	buf_free(&out);
	compose_headers_free(&in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct compose_forwardee fw[] = {
	    {"Fwd One", "one@example.net"}, {NULL, "two@example.net"}};
	static const struct compose_user user = {.address = "bob@example.com",
						 .display_name = "Bob"};
	struct compose_request req = {0};
	struct compose_result *r = NULL;
	struct message_summary *sum = NULL;
	enum compose_status st;
	const char *error;
	const uint8_t *mark;

	if (size < 1)
		return 0;
	req.mode = (enum compose_mode)(data[0] % 3);
	req.replace_mime = (data[0] & 4) != 0;
	if (data[0] & 8) {
		req.forwardees = fw;
		req.n_forwardees = 2;
	}
	req.now = 1700000000;
	req.mime = data + 1;
	req.mime_len = size - 1;
	mark = memmem(data + 1, size - 1, MARKER, strlen(MARKER));
	if (mark != NULL) {
		req.mime_len = (size_t)(mark - (data + 1));
		req.original = mark + strlen(MARKER);
		req.original_len = size - (size_t)(req.original - data);
	}
	if (compose_message(&user, &req, &r, &st, &error) == 0) {
		if (st != COMPOSE_STATUS_OK || r->wire_len > r->saved_len ||
		    r->n_rcpts == 0 || r->n_rcpts > COMPOSE_MAX_RECIPIENTS)
			abort();
		if (mime_parse(r->wire, r->wire_len, 1, &sum, &error) != 0)
			abort();
		message_summary_free(&sum);
		compose_result_free(&r);
	} else if (st == COMPOSE_STATUS_OK || error == NULL || r != NULL) {
		abort();
	}
	autoreply_round(req.mime, req.mime_len);
	return 0;
}
