/*
 * Storing raw messages: the one path from RFC 5322 bytes to a stored item,
 * shared by LMTP delivery (lmtp_server.c), easctl import (Import RPC), the
 * Sent Items copy and bounces of the send queue (sendq.c).  mime_parse
 * extracts the summary (mailbox/message.h); it is mapped here onto the
 * store's struct item_props (mailbox/items.h) and stored with the raw bytes
 * kept exact.  Also the Submit RPC, which queues a device's message.
 */
#ifndef EASD_MAILBOX_RPC_DELIVER_H
#define EASD_MAILBOX_RPC_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox/items.h"
#include "mailbox/store.h"

/* A parsed message ready for store_deliver. */
struct mbox_message {
	struct item_props props;
	struct item_new item;
	/* The ids it answers (space-separated, no brackets; NULL: none),
	 * for store_conv_resolve (mailbox/conversation.h). */
	char *in_reply_to;
	char *references;
};

/* Parse raw (kept by reference: it must outlive msg) received at
 * `received`; -1 with *error_r for an empty or oversized message. */
int mbox_message_prepare(const uint8_t *raw, size_t len, int64_t received,
			 bool read, struct mbox_message *msg,
			 const char **error_r);
void mbox_message_clear(struct mbox_message *msg);
/* Parse and deliver durably into folder (0: Inbox); -1 with the store's
 * error (or STORE_INVALID for a message that cannot be parsed). */
int mbox_message_store(struct store *st, int64_t folder, const uint8_t *raw,
		       size_t len, int64_t received, bool read,
		       struct store_delivery *d_r, enum store_status *status_r);

/* LMTP delivery: like mbox_message_store (unread), and ReceivedAsBcc
 * (MS-ASEMAIL 2.2.2.60) set when none of the user's addresses (addrs,
 * "+detail" ignored) is in the message's To or Cc. */
int mbox_message_store_rcpt(struct store *st, int64_t folder,
			    const uint8_t *raw, size_t len, int64_t received,
			    const char *const *addrs, size_t n_addrs,
			    struct store_delivery *d_r,
			    enum store_status *status_r);
/* True when none of addrs is among the To and Cc addresses of raw. */
bool mbox_message_is_bcc(const uint8_t *raw, size_t len,
			 const char *const *addrs, size_t n_addrs);

/* Envelope recipients of a message to send: the addresses of its To, Cc
 * and Bcc header fields, newline-separated (the send queue's format).
 * -1 if there are none or the header block is malformed. */
int mbox_message_recipients(const uint8_t *raw, size_t len, struct buf *out);

#endif
