/*
 * 16.0 drafts (MS-ASCMD 2.2.1.21 Sync in the Drafts folder, MS-ASEMAIL
 * 2.2.2 Email2 Bcc / Send, MS-ASAIRS 2.2.2.2 Add / 2.2.2.21 Delete): a
 * device creates or edits a message in Drafts field by field, and the
 * mailbox keeps it as a real RFC 5322 message so that every other path
 * (Sync bodies, attachments by FileReference, MIME fetch, Search) treats
 * it like any stored mail.
 *
 * draft_build (mailbox/mime_draft.c, GMime) turns the fields and the
 * attachments' bytes into that message (draft_read_bcc reads the Bcc back
 * from a sent copy); rpc_drafts.c applies a client Add
 * or Change through it, and sends a draft through the send queue when the
 * Change carries Send.  No I/O and no store access here.
 */
#ifndef EASD_MAILBOX_DRAFT_H
#define EASD_MAILBOX_DRAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"

/* One attachment of a draft, with its decoded bytes. */
struct draft_attachment {
	const char *name;         /* file name; "attachment" if NULL */
	const char *content_type; /* "type/subtype"; octet-stream if NULL */
	const char *content_id;   /* without brackets, or NULL */
	bool is_inline;
	const uint8_t *data;
	size_t len;
};

struct draft_spec {
	const char *from; /* the user's address (and name): "N <a@b>" */
	const char *to, *cc, *bcc; /* address lists as the device wrote them */
	const char *subject;
	int importance; /* 0 low, 1 normal, 2 high (MS-ASEMAIL 2.2.2.39) */
	bool html;      /* body is text/html (Body Type 2), else plain */
	const char *body;
	size_t body_len;
	const struct draft_attachment *attachments;
	size_t n_attachments;
	int64_t date; /* UTC seconds */
	/* The Message-ID to keep across edits (without brackets), or NULL to
	 * generate one in message_id_domain. */
	const char *message_id;
	const char *message_id_domain;
};

/*
 * Append the message (CRLF line ends; Bcc header kept: the send path
 * strips it) to out.  -1 with a static *error_r on a bad argument, an
 * unparsable address list, or when out's maximum is reached.
 */
int draft_build(const struct draft_spec *spec, struct buf *out,
		const char **error_r);

/*
 * The Bcc addresses of a stored message as display text ("Name <a@b>,
 * c@d", UTF-8), for the Sent Items copy of a sent message, which keeps
 * its Bcc header (MS-ASEMAIL 2.2.2.10 Bcc).  *bcc_r is NULL when the
 * message has none, or when the list is not valid UTF-8 or longer than
 * SYNC_MAX_DRAFT_ADDRESS_BYTES (what a draft's Bcc may be).  -1 with a
 * static *error_r when raw is no message or out of memory.
 */
int draft_read_bcc(const uint8_t *raw, size_t len, char **bcc_r,
		   const char **error_r);

#endif
