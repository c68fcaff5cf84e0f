/*
 * Outgoing message composition: what the mailbox does with SendMail,
 * SmartReply and SmartForward (MS-ASCMD 2.2.1.15, 2.2.1.17, 2.2.1.16)
 * before the message enters the send queue (mailbox/submit.h) and the
 * Sent Items folder.  The CAS hands over the client's raw MIME and, for
 * the smart commands, the stored raw MIME of the source item; this module
 * returns the message to transmit, the copy to save, and the SMTP
 * envelope.  Implemented in mailbox/mime_compose.c (GMime); no I/O, no
 * store access, no global state besides GMime's one-time init, so calls
 * on different threads are independent.
 *
 * Also here: two small GMime services that mailbox/autoreply.c builds on
 * (reading the headers an auto-reply decision needs, and building a simple
 * one-body message), because only mailbox/mime*.c may include GMime.
 */
#ifndef EASD_MAILBOX_COMPOSE_H
#define EASD_MAILBOX_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"

/* The authenticated user on whose behalf the message is sent. */
struct compose_user {
	const char *address;      /* primary address: MAIL FROM, default From */
	const char *display_name; /* for a From we add; may be NULL */
	/* The user's other addresses, for compose_address_is_user. */
	const char *const *aliases;
	size_t n_aliases;
	/* Right-hand side of generated Message-IDs; NULL: the address's
	 * domain. */
	const char *message_id_domain;
};

enum compose_mode {
	COMPOSE_SENDMAIL = 0, /* MS-ASCMD 2.2.1.15: the client's MIME as is */
	COMPOSE_REPLY = 1,    /* MS-ASCMD 2.2.1.17 SmartReply */
	COMPOSE_FORWARD = 2,  /* MS-ASCMD 2.2.1.16 SmartForward */
};

/* MS-ASCMD 2.2.3.76 Forwardees (16.0+): extra forward recipients. */
struct compose_forwardee {
	const char *name; /* may be NULL */
	const char *email;
};

struct compose_request {
	enum compose_mode mode;
	const uint8_t *mime; /* the client's raw RFC 5322 message */
	size_t mime_len;
	/* The source item's stored raw MIME (REPLY and FORWARD without
	 * replace_mime); ignored for SENDMAIL. */
	const uint8_t *original;
	size_t original_len;
	/* MS-ASCMD 2.2.3.151 ReplaceMime: the client's MIME already holds
	 * the whole message; only the SendMail header handling applies. */
	bool replace_mime;
	/* Added to To and to the envelope (any mode; EAS sends them with
	 * SmartForward only). */
	const struct compose_forwardee *forwardees;
	size_t n_forwardees;
	int64_t now; /* UTC seconds, for a missing Date */
	/* A From that is none of the user's addresses gets the user's
	 * primary address instead (its display name is kept), so a device
	 * cannot send as someone else; from_rewritten tells it happened. */
	bool rewrite_foreign_from;
};

/*
 * Why a message was refused.  The mailbox knows no EAS status codes; the
 * CAS maps these to ComposeMail statuses (MS-ASCMD 2.2.2 common status
 * codes), e.g. MIME -> 107 InvalidMIME, NO_RECIPIENTS -> 119
 * MessageHasNoRecipient, INTERNAL -> 110 ServerError; the others to the
 * closest recipient, size or item-not-found status of the version spoken.
 */
enum compose_status {
	COMPOSE_STATUS_OK = 0,
	COMPOSE_STATUS_MIME = 1, /* empty, too big or unparsable MIME */
	COMPOSE_STATUS_NO_RECIPIENTS = 2,
	COMPOSE_STATUS_BAD_ADDRESS = 3, /* a recipient that is no address */
	COMPOSE_STATUS_TOO_MANY_RECIPIENTS = 4,
	COMPOSE_STATUS_TOO_LARGE = 5, /* composed message over the bound */
	COMPOSE_STATUS_ORIGINAL = 6,  /* source item missing or unparsable */
	COMPOSE_STATUS_INTERNAL = 7,  /* out of memory, bad arguments */
};

/* The outcome; owned by the caller, free with compose_result_free. */
struct compose_result {
	uint8_t *wire; /* to transmit: no Bcc header, CRLF line ends */
	size_t wire_len;
	uint8_t *saved; /* for Sent Items: same message with its Bcc */
	size_t saved_len;
	char *mail_from; /* the envelope sender: the user's address */
	char **rcpts;    /* envelope recipients, deduplicated */
	size_t n_rcpts;
	char *from_address; /* the From header's (first) address */
	/* From is one of the user's addresses (or was added by us).  When
	 * false the caller decides: refuse, or keep From and add Sender. */
	bool from_is_user;
	bool from_rewritten; /* rewrite_foreign_from replaced it */
	char *message_id;    /* Message-ID without angle brackets */
};

/*
 * Compose the outgoing message.  0 and *result_r on success; -1 with
 * *status_r and a static *error_r otherwise (never a crash on any input).
 */
int compose_message(const struct compose_user *user,
		    const struct compose_request *req,
		    struct compose_result **result_r,
		    enum compose_status *status_r, const char **error_r);
void compose_result_free(struct compose_result **result);

/* address equals (ASCII case-insensitively) the user's primary address or
 * one of the aliases. */
bool compose_address_is_user(const struct compose_user *user,
			     const char *address);

/*
 * The headers of an incoming message that the Out-of-Office logic
 * (mailbox/autoreply.h) looks at, decoded to UTF-8.  Absent: NULL.
 */
struct compose_headers {
	char *from_address;    /* first From mailbox address */
	char *return_path;     /* Return-Path address; "" for <> */
	char **recipients;     /* To and Cc mailbox addresses */
	size_t n_recipients;   /* at most COMPOSE_MAX_ADDRESS_ENTRIES */
	char *auto_submitted;  /* RFC 3834 Auto-Submitted value, trimmed */
	char *precedence;      /* Precedence value, trimmed */
	bool has_list_headers; /* any List-* header (RFC 2369, RFC 2919) */
	char *message_id;      /* without angle brackets */
	char *references;      /* "<a> <b>" as sent, bounded */
	char *subject;
};

/* Read the header block of a raw message.  -1 with *error_r if empty,
 * too big or unparsable. */
int compose_headers_read(const uint8_t *raw, size_t len,
			 struct compose_headers **headers_r,
			 const char **error_r);
void compose_headers_free(struct compose_headers **headers);

/* A message with one body, built from plain strings (UTF-8). */
struct compose_simple {
	const char *from_name; /* may be NULL */
	const char *from_address;
	const char *to_address;
	const char *subject;
	const char *in_reply_to; /* message id without brackets, or NULL */
	/* References to continue (as in compose_headers.references) or NULL;
	 * in_reply_to is appended to it. */
	const char *references;
	const char *body; /* cut at AUTOREPLY_MAX_MESSAGE_BYTES */
	bool body_is_html;
	/* Auto-Submitted value (RFC 3834 5), or NULL for none. */
	const char *auto_submitted;
	const char *message_id_domain;
	int64_t now;
};

/* Append the raw message (CRLF line ends) to out.  -1 with *error_r on a
 * bad argument or if out's maximum is reached. */
int compose_simple_build(const struct compose_simple *msg, struct buf *out,
			 const char **error_r);

#endif
