/*
 * Fuzz target for mailbox/mime.c and mailbox/message.c: parse arbitrary
 * bytes as mail, round-trip the summary through its blob (encode, decode,
 * encode again: both blobs must be identical), extract every attachment
 * (the streamed size must equal the listed size) and decode the input
 * itself as a blob (must fail cleanly or succeed, never crash).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/message.h"
#include "mailbox/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
count_sink(void *ctx, const uint8_t *data, size_t len)
{
	uint64_t *n = ctx;

	(void)data;
	*n += len;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct message_summary *s = NULL, *back = NULL;
	const char *error;
	struct buf a, b;

	if (message_summary_decode(data, size, &back, &error) == 0)
		message_summary_free(&back);
	if (mime_parse(data, size, 1700000000, &s, &error) != 0)
		return 0;
	buf_init(&a, 1u << 26);
	buf_init(&b, 1u << 26);
	if (message_summary_encode(s, &a) != 0 ||
	    message_summary_decode(a.data, a.len, &back, &error) != 0 ||
	    message_summary_encode(back, &b) != 0 || a.len != b.len ||
	    memcmp(a.data, b.data, a.len) != 0)
		abort();
	for (size_t i = 0; i < s->n_attachments; i++) {
		uint64_t n = 0;

		if (mime_attachment_extract(data, size, s->attachments[i].index,
					    count_sink, &n, &error) != 0 ||
		    n != s->attachments[i].size)
			abort();
	}
	buf_free(&a);
	buf_free(&b);
	message_summary_free(&back);
	message_summary_free(&s);
	return 0;
}
