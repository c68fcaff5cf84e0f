/*
 * Items of every class (email, calendar, contact, task, note) in one
 * user's store, and their properties.  struct item_props is the contract
 * between the MIME extractor (mime.c fills it from a message), the store
 * (which serializes it into the item row) and the CAS (which encodes it
 * as AirSyncBase/Email elements).  For non-email classes the CAS's property
 * set travels as the generic key/value list `app`.
 *
 * Every item change bumps the folder's modseq and rewrites the item's row
 * in the compacted change log (see changes.h), so Sync can answer "what
 * changed since M" from an index range scan.  Ids come from AUTOINCREMENT:
 * stable, never reused (G5), and resolved only within the store's user
 * (invariant 6).
 */
#ifndef EASD_MAILBOX_ITEMS_H
#define EASD_MAILBOX_ITEMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox/store.h"
#include "proto/buf.h"

/* The class of a folder and of the items it holds (MS-ASCMD Class). */
enum item_class {
	ITEM_CLASS_EMAIL = 1,
	ITEM_CLASS_CALENDAR = 2,
	ITEM_CLASS_CONTACTS = 3,
	ITEM_CLASS_TASKS = 4,
	ITEM_CLASS_NOTES = 5,
};

/* "Email", "Calendar", "Contacts", "Tasks", "Notes"; NULL if invalid. */
const char *item_class_name(enum item_class cls);

/*
 * One attachment (MS-ASAIRS Attachment).  index is its position in the
 * item's list (0-based): the leaf mime_attachment_extract finds and the
 * key of its stored data.  ref is its id, which with the item id forms
 * the FileReference "<item>:<ref>" (MS-ASAIRS 2.2.2.24.1).  For delivered
 * mail ref equals index (the MIME never changes, and references handed
 * out before refs existed stay valid); a 16.0 draft's attachments get
 * refs from item_props.next_att_ref when added and keep them while other
 * attachments come and go, so a reference the device holds never names
 * another attachment (rpc_drafts.c).
 */
struct item_attachment {
	char *name;
	char *content_type;
	char *content_id; /* NULL if none */
	int64_t size;     /* decoded size in bytes */
	bool is_inline;
	uint32_t index;
	uint32_t ref; /* < STORE_MAX_ATTACHMENT_REF */
	/* Optional decoded content, stored apart from the props (NULL: the
	 * caller extracts it from the raw MIME by index). */
	uint8_t *data;
	size_t data_len;
};

/* One application property (non-email classes): name -> bytes. */
struct item_prop {
	char *key;
	uint8_t *value;
	size_t value_len;
};

struct item_props {
	char *from, *to, *cc, *reply_to, *subject, *message_id;
	char *message_class; /* "IPM.Note", "IPM.Schedule.Meeting.Request" */
	char *body_text, *body_html, *preview;
	int64_t date;   /* Date header, unix seconds */
	int importance; /* 0 low, 1 normal, 2 high (MS-ASEMAIL Importance) */
	uint8_t *conversation_id;
	size_t conversation_id_len;
	uint8_t *conversation_index;
	size_t conversation_index_len;
	uint8_t *meeting; /* message_meeting_encode blob (message.h) */
	size_t meeting_len;
	/* MS-ASEMAIL 2.2.2.17 ContentClass as delivered; NULL: "message" */
	char *content_class;
	char *bcc;            /* drafts (16.0): Bcc kept until sent */
	bool received_as_bcc; /* MS-ASEMAIL 2.2.2.60, set at delivery */
	struct item_attachment *attachments;
	size_t attachment_count;
	/* Drafts: the ref the next added attachment gets; refs below it are
	 * spent, even those of deleted attachments.  0 when never recorded:
	 * then the refs are the indexes and the next is attachment_count. */
	uint32_t next_att_ref;
	struct item_prop *app;
	size_t app_count;
};

void item_props_init(struct item_props *p);
void item_props_clear(struct item_props *p);
/* Appends a copy of att (its index and ref are set to its position). */
int item_props_add_attachment(struct item_props *p,
			      const struct item_attachment *att);
/* Appends a copy of an application property. */
int item_props_add(struct item_props *p, const char *key, const void *value,
		   size_t value_len);
const struct item_prop *item_props_find(const struct item_props *p,
					const char *key);
/* Serialized form stored in the item row (attachment data excluded):
 * a version byte, then tag / u32 length / bytes records. */
int item_props_serialize(const struct item_props *p, struct buf *out);
/* Parses a serialized blob; bounded, never reads past data + len. */
int item_props_parse(const uint8_t *data, size_t len, struct item_props *p_r);

/* MS-ASEMAIL 2.2.2.43 LastVerbExecuted. */
enum item_verb {
	ITEM_VERB_NONE = 0,
	ITEM_VERB_REPLY_TO_SENDER = 1,
	ITEM_VERB_REPLY_TO_ALL = 2,
	ITEM_VERB_FORWARD = 3,
};

/* MS-ASEMAIL 2.2.2.35 Flag Status. */
enum item_flag_status {
	ITEM_FLAG_CLEARED = 0,
	ITEM_FLAG_COMPLETE = 1,
	ITEM_FLAG_ACTIVE = 2,
};

struct item_flags {
	bool read;
	enum item_flag_status flag_status;
	int64_t flag_start, flag_due, flag_complete; /* unix seconds, 0 */
	char *categories; /* newline-separated; NULL for none */
	enum item_verb last_verb;
	int64_t last_verb_time;
	int importance;
};

/* A new item.  date is what FilterType compares: DateReceived for mail,
 * the end time for calendar items, due date for tasks... */
struct item_new {
	enum item_class cls;
	int64_t date;
	struct item_flags flags; /* categories not owned */
	const struct item_props *props;
	const uint8_t *mime; /* raw RFC 5322 message, kept byte-exact */
	size_t mime_len;
};

/* Which parts of an item a change replaces. */
enum item_change_mask {
	ITEM_CHANGE_READ = 1 << 0,
	ITEM_CHANGE_FLAG = 1 << 1, /* status and its three dates */
	ITEM_CHANGE_CATEGORIES = 1 << 2,
	ITEM_CHANGE_VERB = 1 << 3,
	ITEM_CHANGE_IMPORTANCE = 1 << 4,
	ITEM_CHANGE_PROPS = 1 << 5, /* replaces the whole property set */
	ITEM_CHANGE_DATE = 1 << 6,
	ITEM_CHANGE_MIME = 1 << 7,
};

struct item_change {
	unsigned mask; /* enum item_change_mask bits */
	struct item_flags flags;
	const struct item_props *props;
	int64_t date;
	const uint8_t *mime;
	size_t mime_len;
};

/* A stored item as fetched; owned by the caller, freed by item_free. */
struct item {
	int64_t id;
	int64_t folder_id;
	enum item_class cls;
	int64_t modseq;
	int64_t date;
	int64_t size; /* bytes of raw MIME */
	struct item_flags flags;
	struct item_props props;
	uint8_t *mime; /* only with STORE_GET_MIME */
	size_t mime_len;
};

void item_free(struct item **item);

enum store_get_flags {
	STORE_GET_MIME = 1 << 0,
};

/* Adds an item to a folder of its class; *modseq_r is the folder modseq of
 * the add (the change event the daemon publishes). */
int store_item_add(struct store *st, int64_t folder_id,
		   const struct item_new *item, int64_t *id_r,
		   int64_t *modseq_r);
int store_item_change(struct store *st, int64_t id,
		      const struct item_change *change, int64_t *modseq_r);
/* Moves to a folder of the same class: a delete (tombstone) in the source
 * and an add in the target; the id is kept. */
int store_item_move(struct store *st, int64_t id, int64_t dst_folder_id,
		    int64_t *modseq_r);
/* Deletes for good; DeletesAsMoves is the caller's store_item_move. */
int store_item_delete(struct store *st, int64_t id);
int store_item_get(struct store *st, int64_t id, unsigned get_flags,
		   struct item **item_r);
/* Item ids of a live folder, newest date first, skipping offset, at most
 * limit into ids[] (paging through the (folder, date) index). */
int store_folder_items(struct store *st, int64_t folder_id, size_t offset,
		       size_t limit, int64_t *ids, size_t *count_r);
/* The attachment (item id, ref) of a FileReference: metadata plus stored
 * data if any; att_r->index says where it is in the MIME.  STORE_NOT_FOUND
 * when the item has no attachment with that ref (a deleted draft
 * attachment's ref is never given to another one). */
int store_attachment_get(struct store *st, int64_t item_id, uint32_t ref,
			 struct item_attachment *att_r);
/* The ref the next attachment added to a draft with props p gets. */
uint32_t item_props_next_att_ref(const struct item_props *p);
void item_attachment_clear(struct item_attachment *att);

/* LMTP delivery. */
struct store_delivery {
	int64_t item_id;
	int64_t folder_id;
	int64_t modseq;
};

/* Delivers one message durably (one transaction, committed with
 * synchronous=FULL before returning): folder_id 0 means the Inbox, or the
 * folder of the conversation's MoveAlways rule (mailbox/conversation.h);
 * r->folder_id says which. */
int store_deliver(struct store *st, int64_t folder_id,
		  const struct item_new *msg, struct store_delivery *r);
/* Group commit: count messages for this user in one transaction; all or
 * nothing. */
int store_deliver_batch(struct store *st, int64_t folder_id,
			const struct item_new *msgs, size_t count,
			struct store_delivery *results);

#endif
