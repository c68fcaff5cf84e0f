/*
 * The requests of SendMail, SmartReply and SmartForward (MS-ASCMD
 * 2.2.1.17, 2.2.1.20, 2.2.1.19), decoded without I/O into one struct the
 * three command files (cas/cmd_sendmail.c, cmd_smartreply.c,
 * cmd_smartforward.c) hand to the mailbox as a Submit RPC.
 *
 * Two shapes.  From 14.0 the body is WBXML in the ComposeMail code page:
 * ClientId, AccountId, SaveInSentItems, ReplaceMime, Source (FolderId +
 * ItemId, or LongId, with an optional InstanceId), Mime, and from 16.0
 * Forwardees.  Before 14.0 the body is the client's RFC 822 message
 * itself (Content-Type message/rfc822) and the query carries SaveInSent,
 * ItemId, CollectionId, LongId and Occurrence, in the plain or the base64
 * form (proto/ashttp.h parses both).  Every field is bounded by the
 * ComposeMail section of proto/limits.h.
 *
 * Strings and the MIME point into the decoded tree or the request (they
 * live as long as the request); only the Forwardee array is allocated
 * (compose_req_clear).
 */
#ifndef EASD_CAS_COMPOSE_REQ_H
#define EASD_CAS_COMPOSE_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/ashttp.h"
#include "proto/eas_cmd.h"
#include "proto/wbxml_tree.h"

enum compose_req_kind {
	COMPOSE_REQ_SEND_MAIL = 0,
	COMPOSE_REQ_SMART_REPLY = 1,
	COMPOSE_REQ_SMART_FORWARD = 2,
};

/* MS-ASCMD 2.2.2 statuses of the ComposeMail commands (14.0+). */
#define COMPOSE_REQ_STATUS_INVALID_XML 103u
#define COMPOSE_REQ_STATUS_INVALID_MIME 107u
#define COMPOSE_REQ_STATUS_SERVER_ERROR 110u
#define COMPOSE_REQ_STATUS_MAILBOX_QUOTA 113u
#define COMPOSE_REQ_STATUS_SEND_QUOTA 115u
#define COMPOSE_REQ_STATUS_RECIPIENT_UNRESOLVED 116u
#define COMPOSE_REQ_STATUS_NO_RECIPIENT 119u
#define COMPOSE_REQ_STATUS_SUBMISSION_FAILED 120u
#define COMPOSE_REQ_STATUS_ITEM_NOT_FOUND 150u
#define COMPOSE_REQ_STATUS_ACCOUNT_INVALID 166u

struct compose_req_forwardee {
	const char *name; /* "" when absent */
	const char *email;
};

struct compose_req {
	enum compose_req_kind kind;
	const char *client_id;  /* "" before 14.0 (no de-duplication) */
	const char *account_id; /* "" when absent */
	bool save_in_sent;
	bool replace_mime;
	/* The source of a smart command; "" when absent.  SendMail has
	 * none (a Source in its body is ignored). */
	const char *folder_id;
	const char *item_id;
	const char *long_id;
	const char *instance_id;
	const uint8_t *mime;
	size_t mime_len;
	struct compose_req_forwardee *forwardees; /* owned */
	size_t n_forwardees;
};

/*
 * 14.0+: the decoded body (root is SendMail, SmartReply or SmartForward,
 * as kind says).  0, or -1 with *status_r = 103 InvalidXML for a request
 * the schema refuses (no ClientId or Mime, a smart command without a
 * usable Source, an over-long value, too many Forwardees) or 107
 * InvalidMIME for an empty Mime.
 */
int compose_req_from_tree(enum compose_req_kind kind,
			  const struct wbxml_node *root, struct compose_req *r,
			  unsigned *status_r);

/*
 * Before 14.0: the raw body and the parsed query.  0, or -1 with
 * *http_status_r: 400 for an empty body or a smart command without
 * ItemId/LongId, 413 for a message over COMPOSE_MAX_CLIENT_MIME_BYTES.
 */
int compose_req_from_raw(enum compose_req_kind kind,
			 const struct ashttp_request *ash, const uint8_t *body,
			 size_t len, struct compose_req *r,
			 unsigned *http_status_r);

void compose_req_clear(struct compose_req *r);

/* The WBXML root tag of a kind (ComposeMail page). */
uint16_t compose_req_root(enum compose_req_kind kind);

/* ---- command side (cas/cmd_sendmail.c) --------------------------- */
struct cas_request;
/* Decode r's body in the shape of its version, ask the mailbox (Submit)
 * and answer: 200 without a body on success (and for a ClientId already
 * sent), else the ComposeMail status (14.0+) or an HTTP status. */
void compose_cmd_run(struct cas_request *r, enum compose_req_kind kind);

#endif
