/*
 * MIME extraction: a raw RFC 5322 message (kept byte-exact by the store)
 * in, a struct message_summary (mailbox/message.h) out, plus on-demand
 * extraction of one attachment's decoded bytes.  The only includer of
 * GMime.  LMTP delivery calls mime_parse once per message before storing
 * it; ItemOperations/Fetch of an attachment calls mime_attachment_extract.
 *
 * Threads: mime_init (g_mime_init) runs once per process; after it, any
 * thread may call mime_parse and mime_attachment_extract concurrently,
 * because each call builds its own stream, parser and object tree and
 * shares no GMime object with another call (GMime is not documented as
 * safe for objects shared across threads; we never share them).
 *
 * Robustness: broken charsets, broken encoded words, bad base64 or
 * quoted-printable, missing headers and odd structure never fail a
 * message; only an input that is empty or over MIME_MAX_MESSAGE_BYTES is
 * refused.  Nesting is walked to MIME_MAX_DEPTH.
 */
#ifndef EASD_MAILBOX_MIME_H
#define EASD_MAILBOX_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "mailbox/message.h"

/* Initialize GMime once for the process; idempotent and thread-safe.
 * mime_parse and mime_attachment_extract call it too. */
void mime_init(void);

/*
 * Parse raw MIME.  received is the delivery time (UTC seconds) used when
 * the Date header is missing or unparsable.  On success *summary_r is a
 * new summary (free with message_summary_free).
 */
int mime_parse(const uint8_t *raw, size_t len, int64_t received,
	       struct message_summary **summary_r, const char **error_r);

/*
 * Stream the decoded content of attachment `index` (the index field of a
 * struct message_attachment from mime_parse on the same bytes) into sink,
 * in chunks, so a large attachment is never held decoded in full.  An
 * embedded message/rfc822 attachment yields the message as MIME text.
 * sink returns 0 to continue, -1 to abort (then this returns -1 with
 * *error_r "aborted by sink").  -1 with *error_r if there is no such
 * attachment.
 */
int mime_attachment_extract(const uint8_t *raw, size_t len, uint32_t index,
			    int (*sink)(void *ctx, const uint8_t *data,
					size_t len),
			    void *ctx, const char **error_r);

#endif
