/*
 * Conversations of one user's mail (MS-ASCON): the index from each email
 * item to its ConversationId (MS-ASEMAIL 2.2.2.14, computed at delivery by
 * mime.c, kept in the item's props), the conversation Move of
 * ItemOperations (MS-ASCMD 2.2.3.117.1) answered from it, and the durable
 * "always move" rules that MoveAlways (MS-ASCMD 2.2.3.118) leaves for the
 * conversation's future messages, which LMTP delivery applies.
 *
 * The index (schema.c v6, table conv_items) is maintained by triggers on
 * the items table, in the transaction of the item change itself (G1), on
 * every path: delivery, a Sync's client Add, a draft saved again, a move
 * (nothing to do: the index keeps no folder), a delete, a folder delete.
 * Search by ConversationId (search.h) reads the same index.  Everything
 * runs on the user's own database (invariant 6): a conversation id names
 * only this user's items.
 */
#ifndef EASD_MAILBOX_CONVERSATION_H
#define EASD_MAILBOX_CONVERSATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox/items.h"
#include "mailbox/store.h"

/* What a conversation Move did, for the change notifications the daemon
 * publishes after it returns.  Owned by the caller (conv_move_clear). */
struct conv_move {
	size_t moved;         /* items that changed folder */
	int64_t dst_modseq;   /* the destination's modseq after the move */
	int64_t *src_folders; /* distinct source folders, with their */
	int64_t *src_modseqs; /* modseqs after the move */
	size_t n_src;
};

void conv_move_clear(struct conv_move *m);

/*
 * Moves every email of conversation conv[0..len) to the mail folder dst,
 * as device's own moves (store_sync_client_move: its next Sync does not
 * echo them).  Left where they are: the members already in dst, and those
 * in Drafts and the Outbox (a message being written or sent is not filed)
 * and in Sent Items (MS-ASCON 2.2.2.8: MoveAlways moves "from all folders
 * except the Sent Items folder").
 *
 * With always, the rule "conv -> dst" is recorded at now (unix seconds) in
 * the same transaction as the first moves, replacing an older rule of the
 * conversation; a rule to the Inbox is the default and removes the rule
 * instead.  Rules past CONV_RULE_KEEP_S are pruned then, and past
 * CONV_MAX_RULES the least recently applied one goes (proto/limits.h).
 *
 * Members move in transactions of at most CONV_MOVE_BATCH (256) items, so a
 * conversation of thousands of messages does not hold the user's database
 * for one long write.  -1 with the store's error: STORE_NOT_FOUND when dst
 * is no live folder or the user has no email of the conversation (MS-ASCMD
 * 2.2.3.177.8; no rule is recorded then), STORE_INVALID when dst holds no
 * mail or the id is empty or too long; after a failure *m_r still reports
 * the batches committed before it, whose changes the caller publishes.
 * Success with m_r->moved 0: every member is in dst or left alone.
 */
int store_conv_move(struct store *st, const char *device, const uint8_t *conv,
		    size_t len, int64_t dst, bool always, int64_t now,
		    struct conv_move *m_r);

/* The number of emails in a conversation (any folder). */
int store_conv_count(struct store *st, const uint8_t *conv, size_t len,
		     size_t *count_r);

/* One MoveAlways rule, as stored. */
struct conv_rule {
	int64_t folder_id;
	int64_t created;   /* unix seconds */
	int64_t last_used; /* set, or last applied to a delivery */
};

/* The rule of a conversation; STORE_NOT_FOUND when none (expired rules
 * included: they are pruned lazily, see store_conv_rule_target). */
int store_conv_rule_get(struct store *st, const uint8_t *conv, size_t len,
			struct conv_rule *rule_r);
/* The number of rules the user holds. */
int store_conv_rule_count(struct store *st, size_t *count_r);

/*
 * Inside a delivery's transaction (store_items.c deliver_tx, for a message
 * headed for the Inbox): the folder the conversation's rule files it into,
 * or 0 for none.  A rule past CONV_RULE_KEEP_S at now, or whose folder is
 * gone or holds no mail (cannot happen while the folder-delete trigger
 * holds, but a delivery never goes into a missing folder), is deleted and
 * gives 0; a rule applied has its last_used moved to now.
 */
int store_conv_rule_target(struct store *st, const struct item_props *props,
			   int64_t now, int64_t *folder_r);

/*
 * At delivery, before a message is stored: the ConversationId mime.c
 * computed (MD5 of the thread's root Message-ID, mime.c conversation())
 * misses threads whose root it cannot see: a reply that names only its
 * parent (In-Reply-To without References, deep in a thread), a thread
 * whose References were trimmed, an Outlook reply that carries only a
 * Thread-Index.  So the user's own mailbox decides first: the message
 * takes the conversation of the message it answers when that one is here
 * (In-Reply-To, then References from the newest back to the root, at most
 * CONV_MAX_REFERENCE_LOOKUPS look-ups), else, for an Outlook Thread-Index,
 * that of the thread's first message here with the same thread GUID.
 * in_reply_to and references are space-separated ids without brackets
 * (struct message_summary); NULL for none.  props' conversation id (and
 * the id inside a ConversationIndex mime.c computed) is replaced when a
 * parent is found.  Run inside the delivery's transaction.
 */
int store_conv_resolve(struct store *st, const char *in_reply_to,
		       const char *references, struct item_props *props);

/* Registers easd_conversation_id(props, what), the function the index triggers
 * call (schema.c v6), on a new connection (store_search.c does, beside
 * its own function).  SQLite result code. */
struct sqlite3;
int conv_sql_register(struct sqlite3 *db);

#endif
