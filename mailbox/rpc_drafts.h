/*
 * The email-specific parts of the item RPCs that rpc_sync.c delegates:
 * the Email fields derived from a stored item beyond the summary
 * (MeetingRequest data, IsDraft, ContentClass, ReceivedAsBcc, Bcc), and
 * the 16.0 draft commands (a client Add or Change of a message in Drafts,
 * and Send).  See mailbox/draft.h for the draft model.
 */
#ifndef EASD_MAILBOX_RPC_DRAFTS_H
#define EASD_MAILBOX_RPC_DRAFTS_H

#include "mailbox/items.h"
#include "mailbox/rpc_server.h"
#include "mailbox/syncstate.h"

/* Fill e's meeting, is_draft, content_class, received_as_bcc and bcc
 * from it.  -1 out of memory (allocations in r's arena). */
int mbox_email_extras(struct mbox_req *r, const struct item *it, Rpc__Email *e);

/* FileReference "<item>:<ref>" (items.h: ref is the index in delivered
 * mail, a stable id in a draft).  Parse: false when malformed or ref is
 * not below STORE_MAX_ATTACHMENT_REF.  Format: in r's arena, NULL out of
 * memory. */
bool mbox_parse_file_ref(const char *ref, int64_t *item_r, uint32_t *ref_r);
char *mbox_file_ref(struct mbox_req *r, int64_t item, uint32_t ref);

/* A copy in r's arena of what a draft command's result carries in data
 * (the FileReference of each added attachment by ClientId), for the
 * replay of a recorded Sync outcome; NULL for NULL, and out of memory
 * (*oom_r set). */
Rpc__ItemData *mbox_draft_result_copy(struct mbox_req *r,
				      const Rpc__ItemData *d, bool *oom_r);

/*
 * The Read, Flag and Categories of an email Change into f and *mask: only
 * those named in d->properties (the CAS names every field it sends); with
 * unnamed_all and no names at all (an older CAS), Read and a given Flag.
 * Categories are joined newline-separated in r's arena.  STATUS_INVALID
 * for a category holding a newline or a list over
 * STORE_MAX_CATEGORIES_BYTES, STATUS_INTERNAL out of memory.
 */
Rpc__Status mbox_email_flags(struct mbox_req *r, const Rpc__ItemData *d,
			     bool unnamed_all, struct item_flags *f,
			     unsigned *mask);

/* True when c is a draft command: an Email Add, or a Change carrying
 * draft content or Send (ItemData.draft / ClientChange.send). */
bool mbox_draft_command(const Rpc__ClientChange *c);

/*
 * Apply a draft command to folder (which must be Drafts, else
 * STATUS_INVALID, the CAS's Status 6) inside the open sync ss: build the
 * message, add or replace it, report the ServerId and the attachments'
 * FileReferences by ClientId in res->data; with Send, queue it for the
 * relay (Bcc only in the envelope) and remove it from Drafts.
 */
Rpc__Status mbox_draft_apply(struct mbox_req *r, struct store *st,
			     struct store_sync *ss, int64_t folder,
			     const Rpc__ClientChange *c,
			     Rpc__ClientChangeResult *res);

#endif
