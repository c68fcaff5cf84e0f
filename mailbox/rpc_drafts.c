/*
 * Email extras and 16.0 drafts for the item RPCs (see rpc_drafts.h).
 *
 * A draft lives in Drafts as a stored message built by draft_build from
 * the device's fields; its props are those of the parsed message (so it
 * syncs back like any mail) plus the Bcc list, which a delivered message
 * never has.  A Change rebuilds the message: fields present in the Change
 * replace the stored ones (ItemData.properties names them, so an empty To
 * clears it), attachments stay unless deleted by FileReference, new ones
 * are appended.  Trade-off: a rebuild re-reads each kept attachment from
 * the stored MIME, so a Change costs O(draft size), bounded by
 * STORE_MAX_MIME_BYTES.  A Change that only flips Read, Flag or
 * Categories is no draft command and leaves the MIME alone (rpc_sync.c).
 *
 * Attachment references (MS-ASAIRS 2.2.2.24.1): a rebuild moves the kept
 * attachments to other MIME indexes, so FileReferences carry each
 * attachment's ref (items.h) instead: kept attachments keep theirs, added
 * ones take the next values of the draft's counter (props.next_att_ref),
 * which never goes back, so the reference of a deleted attachment never
 * names another one.  Refs and counter live in the props blob, written in
 * the transaction that writes the MIME they describe.  A draft stored
 * before refs existed has refs equal to its indexes: the references the
 * device already holds still resolve.
 *
 * Send (MS-ASEMAIL 2.2.2.69): the stored draft goes through
 * compose_message like a SendMail (Bcc to the envelope, stripped from the
 * wire copy), into the send queue in the same transaction that removes it
 * from Drafts; the queue relays it and files the copy in Sent Items.
 */
#include "mailbox/rpc_drafts.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mailbox/compose.h"
#include "mailbox/directory.h"
#include "mailbox/draft.h"
#include "mailbox/folders.h"
#include "mailbox/message.h"
#include "mailbox/mime.h"
#include "mailbox/rpc_deliver.h"
#include "mailbox/sendq.h"
#include "proto/limits.h"
#include "proto/log.h"

/* ------------------------------------------------------ email extras */

static Rpc__MeetingInfo *
meeting_msg(struct mbox_req *r, const struct message_meeting *m)
{
	Rpc__MeetingInfo *mi = mbox_alloc(r, sizeof(*mi));

	if (mi == NULL)
		return NULL;
	rpc__meeting_info__init(mi);
	mi->method = (uint32_t)m->method;
	mi->uid = mbox_strdup(r, m->uid != NULL ? m->uid : "");
	mi->location = mbox_strdup(r, m->location != NULL ? m->location : "");
	mi->organizer =
	    mbox_strdup(r, m->organizer != NULL ? m->organizer : "");
	if (mi->uid == NULL || mi->location == NULL || mi->organizer == NULL)
		return NULL;
	mi->start_time = m->start;
	mi->end_time = m->end;
	mi->dt_stamp = m->stamp;
	mi->all_day = m->all_day;
	mi->recurrence_id = m->recurrence_id;
	mi->reminder_mins = m->reminder_mins;
	mi->response_requested = m->response_requested;
	mi->sensitivity = m->sensitivity;
	mi->busy_status = (uint32_t)m->busy_status;
	mi->sequence = m->sequence;
	mi->proposed_start = m->proposed_start;
	mi->proposed_end = m->proposed_end;
	if (m->has_tz) {
		mi->time_zone.data = mbox_memdup(r, m->tz, sizeof(m->tz));
		if (mi->time_zone.data == NULL)
			return NULL;
		mi->time_zone.len = sizeof(m->tz);
	}
	/* MS-ASEMAIL 2.2.2.41 InstanceType: 1 a recurring master, 3 an
	 * exception (RECURRENCE-ID), 0 a single meeting. */
	mi->instance_type = m->recurrence_id != 0   ? 3
			    : m->recurrence.present ? 1
						    : 0;
	/* MS-ASEMAIL 2.2.2.50 MeetingMessageType: 1 the first request
	 * (SEQUENCE 0), 2 a full update; 0 for anything else. */
	if (m->method == MESSAGE_METHOD_REQUEST)
		mi->meeting_message_type = m->sequence == 0 ? 1 : 2;
	if (m->recurrence.present) {
		const struct message_recurrence *rc = &m->recurrence;
		Rpc__MeetingRecurrence *mr = mbox_alloc(r, sizeof(*mr));

		mi->recurrences = mbox_alloc(r, sizeof(*mi->recurrences));
		if (mr == NULL || mi->recurrences == NULL)
			return NULL;
		rpc__meeting_recurrence__init(mr);
		mr->type = (uint32_t)rc->type;
		mr->interval = rc->interval;
		mr->until = rc->until;
		mr->occurrences = rc->occurrences;
		mr->week_of_month = rc->week_of_month;
		mr->day_of_month = rc->day_of_month;
		mr->day_of_week = rc->day_of_week;
		mr->month_of_year = rc->month_of_year;
		mi->recurrences[0] = mr;
		mi->n_recurrences = 1;
	}
	return mi;
}

int
mbox_email_extras(struct mbox_req *r, const struct item *it, Rpc__Email *e)
{
	const struct item_props *p = &it->props;
	struct store *st;
	enum store_status status;
	int64_t drafts = 0;

	e->content_class = mbox_strdup(r, p->content_class != NULL
					      ? p->content_class
					      : "urn:content-classes:message");
	e->bcc = mbox_strdup(r, p->bcc != NULL ? p->bcc : "");
	if (e->content_class == NULL || e->bcc == NULL)
		return -1;
	e->received_as_bcc = p->received_as_bcc;
	/* MS-ASEMAIL 2.2.2.42 IsDraft: the item is in the Drafts folder. */
	if (mbox_shard_store(r->ctx, r->user, &st, &status) == 0 &&
	    store_folder_by_type(st, FOLDER_TYPE_DRAFTS, &drafts) == 0)
		e->is_draft = drafts == it->folder_id;
	if (p->meeting != NULL && p->meeting_len > 0) {
		struct message_meeting *m = NULL;
		const char *error;

		/* A damaged meeting blob costs the meeting, not the mail. */
		if (message_meeting_decode(p->meeting, p->meeting_len, &m,
					   &error) < 0) {
			log_warn("user %" PRId64 ": item %" PRId64
				 " meeting data unreadable: %s",
				 r->user, it->id, error);
			return 0;
		}
		e->meeting = meeting_msg(r, m);
		message_meeting_free(&m);
		if (e->meeting == NULL)
			return -1;
	}
	return 0;
}

/* ----------------------------------------------------------- drafts */

bool
mbox_draft_command(const Rpc__ClientChange *c)
{
	if (c->op == RPC__APPLY_OP__APPLY_ADD)
		return c->data != NULL && c->data->email != NULL;
	if (c->op == RPC__APPLY_OP__APPLY_CHANGE)
		return c->send || c->n_delete_attachments > 0 ||
		       (c->data != NULL && c->data->draft);
	return false;
}

/* Was the named field present in the client's command? */
static bool
has_field(const Rpc__ItemData *d, const char *key)
{
	for (size_t i = 0; d != NULL && i < d->n_properties; i++)
		if (d->properties[i]->key != NULL &&
		    strcmp(d->properties[i]->key, key) == 0)
			return true;
	return false;
}

static const char *
pick(const Rpc__ItemData *d, const char *key, const char *new_value,
     const char *old_value)
{
	return has_field(d, key) ? new_value : old_value;
}

/*
 * An email Change (MS-ASCMD 2.2.3.24, MS-ASEMAIL Read, Flag, Categories):
 * only the fields the device sent change.  The CAS names them in
 * d->properties; without names (an older CAS) Read changes, and Flag
 * when given.  Flags only: the MIME is not touched (a draft too).
 */
Rpc__Status
mbox_email_flags(struct mbox_req *r, const Rpc__ItemData *d, bool unnamed_all,
		 struct item_flags *f, unsigned *mask)
{
	const Rpc__Email *e = d->email;
	bool all = unnamed_all && d->n_properties == 0;
	size_t len = 0;
	char *cats;

	if (all || has_field(d, "Read")) {
		f->read = e->read;
		*mask |= ITEM_CHANGE_READ;
	}
	if (e->flag != NULL && (all || has_field(d, "Flag"))) {
		f->flag_status = (enum item_flag_status)e->flag->status;
		f->flag_start = e->flag->start_date;
		f->flag_due = e->flag->due_date;
		f->flag_complete = e->flag->complete_time;
		*mask |= ITEM_CHANGE_FLAG;
	}
	if (all || !has_field(d, "Categories"))
		return RPC__STATUS__STATUS_OK;
	/* Stored newline-separated (items.h); an empty list clears.  The
	 * store bounds the total (STORE_MAX_CATEGORIES_BYTES). */
	*mask |= ITEM_CHANGE_CATEGORIES;
	f->categories = NULL;
	for (size_t i = 0; i < e->n_categories; i++) {
		if (strchr(e->categories[i], '\n') != NULL ||
		    strlen(e->categories[i]) > STORE_MAX_CATEGORIES_BYTES)
			return RPC__STATUS__STATUS_INVALID;
		len += strlen(e->categories[i]) + 1;
	}
	if (len == 0 || len > STORE_MAX_CATEGORIES_BYTES + 1)
		return len == 0 ? RPC__STATUS__STATUS_OK
				: RPC__STATUS__STATUS_INVALID;
	cats = mbox_alloc(r, len);
	if (cats == NULL)
		return RPC__STATUS__STATUS_INTERNAL;
	len = 0;
	for (size_t i = 0; i < e->n_categories; i++) {
		size_t n = strlen(e->categories[i]);

		memcpy(cats + len, e->categories[i], n);
		len += n;
		cats[len++] = i + 1 < e->n_categories ? '\n' : '\0';
	}
	f->categories = cats;
	return RPC__STATUS__STATUS_OK;
}

struct kept {
	struct buf *bufs; /* extracted bytes of kept attachments */
	size_t n;
};

static int
sink_buf(void *ctx, const uint8_t *data, size_t len)
{
	return buf_append(ctx, data, len);
}

bool
mbox_parse_file_ref(const char *ref, int64_t *item_r, uint32_t *ref_r)
{
	char copy[48];
	char *colon, *end;
	unsigned long v;
	size_t len = strnlen(ref, sizeof(copy));

	if (len >= sizeof(copy))
		return false;
	memcpy(copy, ref, len + 1);
	colon = strchr(copy, ':');
	if (colon == NULL)
		return false;
	*colon = 0;
	if (!mbox_parse_id(copy, item_r) || colon[1] < '0' || colon[1] > '9')
		return false;
	errno = 0;
	v = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != 0 || v >= STORE_MAX_ATTACHMENT_REF)
		return false;
	*ref_r = (uint32_t)v;
	return true;
}

char *
mbox_file_ref(struct mbox_req *r, int64_t item, uint32_t ref)
{
	char text[48];

	(void)snprintf(text, sizeof(text), "%" PRId64 ":%" PRIu32, item, ref);
	return mbox_strdup(r, text);
}

static bool
deleted(const Rpc__ClientChange *c, int64_t item, uint32_t ref)
{
	int64_t id;
	uint32_t del;

	for (size_t i = 0; i < c->n_delete_attachments; i++)
		if (mbox_parse_file_ref(c->delete_attachments[i], &id, &del) &&
		    id == item && del == ref)
			return true;
	return false;
}

/* MS-ASAIRS 2.2.2.21 Delete: every FileReference must name an attachment
 * the draft has now.  One that does not (deleted before, another item's,
 * malformed) fails the Change as "not found" (Sync Status 8) rather than
 * being ignored or resolved to whatever sits at that position. */
static bool
deletes_known(const Rpc__ClientChange *c, const struct item *old)
{
	for (size_t i = 0; i < c->n_delete_attachments; i++) {
		bool found = false;
		int64_t id;
		uint32_t ref;

		if (old == NULL ||
		    !mbox_parse_file_ref(c->delete_attachments[i], &id, &ref) ||
		    id != old->id)
			return false;
		for (size_t k = 0; !found && k < old->props.attachment_count;
		     k++)
			found = old->props.attachments[k].ref == ref;
		if (!found)
			return false;
	}
	return true;
}

/* The user's address as From, and a Message-ID domain. */
static int
user_from(struct mbox_req *r, char ***addrs_r, size_t *n_r)
{
	enum store_status status;
	struct store_dir *dir = mbox_shard_dir(r->ctx, &status);

	*addrs_r = NULL;
	*n_r = 0;
	if (dir == NULL ||
	    store_dir_address_list(dir, r->user, addrs_r, n_r) < 0 ||
	    *n_r == 0) {
		dir_strings_free(addrs_r, *n_r);
		return -1;
	}
	return 0;
}

/* The refs of the attachments draft_build wrote, in their order, and the
 * draft's counter after them. */
struct draft_refs {
	uint32_t *refs;
	size_t n;
	uint32_t next;
};

/* Build the draft's message from the old item (NULL for an Add) and the
 * command; *mime_r holds it, *refs_r the refs of its attachments. */
static Rpc__Status
build(struct mbox_req *r, const struct item *old, const Rpc__ClientChange *c,
      const char *from, struct buf *mime_r, char **bcc_r,
      struct draft_refs *refs_r)
{
	const Rpc__ItemData *d = c->data;
	const Rpc__Email *e = d != NULL ? d->email : NULL;
	const struct item_props *op = old != NULL ? &old->props : NULL;
	struct draft_attachment *atts = NULL;
	struct buf *kept = NULL;
	size_t n_atts = 0, n_kept = 0, cap;
	struct draft_spec spec;
	const char *error, *at;
	Rpc__Status status = RPC__STATUS__STATUS_INVALID;
	bool body_given = e != NULL && e->body != NULL && has_field(d, "Body");

	memset(&spec, 0, sizeof(spec));
	cap = (op != NULL ? op->attachment_count : 0) +
	      (e != NULL ? e->n_attachments : 0);
	if (cap > STORE_MAX_ATTACHMENTS)
		return RPC__STATUS__STATUS_TOO_LARGE;
	refs_r->next = op != NULL ? item_props_next_att_ref(op) : 0;
	if (e != NULL &&
	    e->n_attachments > STORE_MAX_ATTACHMENT_REF - refs_r->next)
		return RPC__STATUS__STATUS_TOO_LARGE; /* counter spent */
	/* One more than needed: never a zero-size allocation. */
	atts = calloc(cap + 1, sizeof(*atts));
	kept = calloc(cap + 1, sizeof(*kept));
	refs_r->refs = calloc(cap + 1, sizeof(*refs_r->refs));
	if (atts == NULL || kept == NULL || refs_r->refs == NULL) {
		status = RPC__STATUS__STATUS_INTERNAL;
		goto out;
	}
	for (size_t i = 0; op != NULL && i < op->attachment_count; i++) {
		const struct item_attachment *a = &op->attachments[i];
		struct buf *b = &kept[n_kept];

		if (deleted(c, old->id, a->ref))
			continue;
		buf_init(b, STORE_MAX_MIME_BYTES);
		n_kept++;
		if (mime_attachment_extract(old->mime, old->mime_len, a->index,
					    sink_buf, b, &error) < 0) {
			log_warn("user %" PRId64 ": draft %" PRId64
				 " attachment %" PRIu32 " lost: %s",
				 r->user, old->id, a->ref, error);
			continue;
		}
		refs_r->refs[n_atts] = a->ref;
		atts[n_atts++] = (struct draft_attachment){
		    .name = a->name,
		    .content_type = a->content_type,
		    .content_id = a->content_id,
		    .is_inline = a->is_inline,
		    .data = b->data,
		    .len = b->len,
		};
	}
	for (size_t i = 0; e != NULL && i < e->n_attachments; i++) {
		const Rpc__Attachment *a = e->attachments[i];

		refs_r->refs[n_atts] = refs_r->next++;
		atts[n_atts++] = (struct draft_attachment){
		    .name = a->display_name,
		    .content_type = a->content_type,
		    .content_id = a->content_id,
		    .is_inline = a->is_inline,
		    .data = a->content.data,
		    .len = a->content.len,
		};
	}
	spec.from = from;
	spec.to =
	    pick(d, "To", e != NULL ? e->to : NULL, op != NULL ? op->to : NULL);
	spec.cc =
	    pick(d, "Cc", e != NULL ? e->cc : NULL, op != NULL ? op->cc : NULL);
	spec.bcc = pick(d, "Bcc", e != NULL ? e->bcc : NULL,
			op != NULL ? op->bcc : NULL);
	spec.subject = pick(d, "Subject", e != NULL ? e->subject : NULL,
			    op != NULL ? op->subject : NULL);
	spec.importance = has_field(d, "Importance") && e != NULL
			      ? (int)e->importance
			  : old != NULL ? old->flags.importance
					: 1;
	if (body_given) {
		spec.html = e->body->type == 2;
		spec.body = (const char *)e->body->data.data;
		spec.body_len = e->body->data.len;
	} else if (op != NULL) {
		spec.html = op->body_text == NULL && op->body_html != NULL;
		spec.body = spec.html ? op->body_html : op->body_text;
		spec.body_len = spec.body != NULL ? strlen(spec.body) : 0;
	}
	spec.attachments = atts;
	spec.n_attachments = n_atts;
	spec.date = (int64_t)time(NULL);
	spec.message_id = op != NULL ? op->message_id : NULL;
	at = strrchr(from, '@');
	spec.message_id_domain = at != NULL ? at + 1 : NULL;
	if (draft_build(&spec, mime_r, &error) < 0) {
		log_info("user %" PRId64 ": draft refused: %s", r->user, error);
		goto out;
	}
	*bcc_r =
	    spec.bcc != NULL && spec.bcc[0] != '\0' ? strdup(spec.bcc) : NULL;
	refs_r->n = n_atts;
	status = RPC__STATUS__STATUS_OK;
out:
	for (size_t i = 0; i < n_kept; i++)
		buf_free(&kept[i]);
	free(kept);
	free(atts);
	return status;
}

/* FileReferences of the attachments the command added, by ClientId
 * (MS-ASAIRS 2.2.2.7 in a Responses Add): they were appended last. */
static Rpc__Status
report_attachments(struct mbox_req *r, const Rpc__ClientChange *c,
		   const struct item_props *p, int64_t id,
		   Rpc__ClientChangeResult *res)
{
	const Rpc__Email *e = c->data != NULL ? c->data->email : NULL;
	size_t n_new = e != NULL ? e->n_attachments : 0, first;
	Rpc__ItemData *d;
	Rpc__Email *m;

	if (n_new == 0 || p->attachment_count < n_new)
		return RPC__STATUS__STATUS_OK;
	first = p->attachment_count - n_new;
	d = mbox_alloc(r, sizeof(*d));
	m = mbox_alloc(r, sizeof(*m));
	if (d == NULL || m == NULL)
		return RPC__STATUS__STATUS_INTERNAL;
	rpc__item_data__init(d);
	rpc__email__init(m);
	d->email = m;
	m->attachments = mbox_alloc(r, n_new * sizeof(*m->attachments));
	if (m->attachments == NULL)
		return RPC__STATUS__STATUS_INTERNAL;
	for (size_t i = 0; i < n_new; i++) {
		Rpc__Attachment *a = mbox_alloc(r, sizeof(*a));

		if (a == NULL)
			return RPC__STATUS__STATUS_INTERNAL;
		rpc__attachment__init(a);
		a->file_reference =
		    mbox_file_ref(r, id, p->attachments[first + i].ref);
		a->client_id = e->attachments[i]->client_id;
		if (a->file_reference == NULL)
			return RPC__STATUS__STATUS_INTERNAL;
		m->attachments[m->n_attachments++] = a;
	}
	res->data = d;
	return RPC__STATUS__STATUS_OK;
}

Rpc__ItemData *
mbox_draft_result_copy(struct mbox_req *r, const Rpc__ItemData *d, bool *oom_r)
{
	const Rpc__Email *e = d != NULL ? d->email : NULL;
	Rpc__ItemData *nd;
	Rpc__Email *ne;

	*oom_r = false;
	if (e == NULL || e->n_attachments == 0)
		return NULL;
	nd = mbox_alloc(r, sizeof(*nd));
	ne = mbox_alloc(r, sizeof(*ne));
	if (nd == NULL || ne == NULL)
		goto oom;
	rpc__item_data__init(nd);
	rpc__email__init(ne);
	nd->email = ne;
	ne->attachments =
	    mbox_alloc(r, e->n_attachments * sizeof(*ne->attachments));
	if (ne->attachments == NULL)
		goto oom;
	for (size_t i = 0; i < e->n_attachments; i++) {
		Rpc__Attachment *a = mbox_alloc(r, sizeof(*a));

		if (a == NULL)
			goto oom;
		rpc__attachment__init(a);
		a->file_reference =
		    mbox_strdup(r, e->attachments[i]->file_reference);
		a->client_id = mbox_strdup(r, e->attachments[i]->client_id);
		if (a->file_reference == NULL || a->client_id == NULL)
			goto oom;
		ne->attachments[ne->n_attachments++] = a;
	}
	return nd;
oom:
	*oom_r = true;
	return NULL;
}

/* MS-ASEMAIL 2.2.2.69 Send: queue the stored draft, remove it. */
static Rpc__Status
send_draft(struct mbox_req *r, struct store *st, struct store_sync *ss,
	   int64_t id, char **addrs, size_t n_addrs)
{
	struct compose_user user = {
	    .address = addrs[0],
	    .aliases = (const char *const *)addrs + 1,
	    .n_aliases = n_addrs - 1,
	};
	struct compose_request req = {.mode = COMPOSE_SENDMAIL};
	struct compose_result *res = NULL;
	struct store_queue_msg msg;
	enum compose_status cst;
	struct item *it = NULL;
	struct buf rcpts;
	const char *error;
	Rpc__Status status = RPC__STATUS__STATUS_INVALID;
	int64_t qid;

	buf_init(&rcpts, LMTP_MAX_RECIPIENTS * (STORE_MAX_LOGIN_BYTES + 1));
	if (r->ctx->sendq == NULL) {
		status = RPC__STATUS__STATUS_UNSUPPORTED;
		goto out;
	}
	if (store_item_get(st, id, STORE_GET_MIME, &it) < 0) {
		status = mbox_status_from_store(store_last_error(st)->status);
		goto out;
	}
	req.mime = it->mime;
	req.mime_len = it->mime_len;
	req.now = (int64_t)time(NULL);
	if (compose_message(&user, &req, &res, &cst, &error) < 0) {
		log_info("user %" PRId64 ": draft %" PRId64 " not sent: %s",
			 r->user, id, error);
		goto out;
	}
	for (size_t i = 0; i < res->n_rcpts; i++)
		if (buf_append_str(&rcpts, res->rcpts[i]) < 0 ||
		    buf_append_byte(&rcpts, '\n') < 0) {
			status = RPC__STATUS__STATUS_TOO_LARGE;
			goto out;
		}
	/* Queue and removal commit with the sync (one transaction).  Like
	 * SendMail with SaveInSent (rpc_submit.c): the relay gets the wire
	 * copy without Bcc, Sent Items the saved one with it. */
	msg = (struct store_queue_msg){
	    .mail_from = res->mail_from,
	    .rcpts = buf_str(&rcpts),
	    .mime = res->wire,
	    .mime_len = res->wire_len,
	    .saved = res->saved,
	    .saved_len = res->saved_len,
	    .save_in_sent = true,
	};
	if (store_queue_put(st, &msg, req.now, &qid) < 0 ||
	    store_sync_client_delete(ss, id, 0) < 0) {
		status = mbox_status_from_store(store_last_error(st)->status);
		goto out;
	}
	log_info("user %" PRId64 ": draft %" PRId64 " queued as %" PRId64,
		 r->user, id, qid);
	/* The runner works on this shard's thread, after this commit. */
	sendq_kick(r->ctx->sendq, r->user);
	status = RPC__STATUS__STATUS_OK;
out:
	buf_free(&rcpts);
	compose_result_free(&res);
	item_free(&it);
	return status;
}

Rpc__Status
mbox_draft_apply(struct mbox_req *r, struct store *st, struct store_sync *ss,
		 int64_t folder, const Rpc__ClientChange *c,
		 Rpc__ClientChangeResult *res)
{
	struct mbox_message msg;
	struct draft_refs refs = {0};
	struct item *old = NULL;
	struct buf mime;
	char **addrs = NULL, *bcc = NULL;
	size_t n_addrs = 0;
	int64_t drafts = 0, id = 0;
	const char *error;
	Rpc__Status status;

	memset(&msg, 0, sizeof(msg));
	buf_init(&mime, STORE_MAX_MIME_BYTES);
	if (store_folder_by_type(st, FOLDER_TYPE_DRAFTS, &drafts) < 0 ||
	    drafts != folder) {
		status = RPC__STATUS__STATUS_INVALID; /* Sync Status 6 */
		goto out;
	}
	if (user_from(r, &addrs, &n_addrs) < 0) {
		status = RPC__STATUS__STATUS_INVALID;
		goto out;
	}
	if (c->op == RPC__APPLY_OP__APPLY_CHANGE) {
		if (!mbox_parse_id(c->server_id, &id) ||
		    store_item_get(st, id, STORE_GET_MIME, &old) < 0 ||
		    old->folder_id != folder) {
			status = RPC__STATUS__STATUS_NOT_FOUND;
			goto out;
		}
	} else if (*c->client_id == 0 ||
		   strlen(c->client_id) > STORE_MAX_CLIENT_ID_BYTES) {
		status = RPC__STATUS__STATUS_INVALID;
		goto out;
	}
	if (!deletes_known(c, old)) {
		status = RPC__STATUS__STATUS_NOT_FOUND;
		goto out;
	}
	/* A Change with only Send leaves the content as it is. */
	if (c->op == RPC__APPLY_OP__APPLY_ADD ||
	    (c->data != NULL && c->data->draft) ||
	    c->n_delete_attachments > 0) {
		status = build(r, old, c, addrs[0], &mime, &bcc, &refs);
		if (status != RPC__STATUS__STATUS_OK)
			goto out;
		if (mbox_message_prepare(mime.data, mime.len, time(NULL), true,
					 &msg, &error) < 0) {
			status = RPC__STATUS__STATUS_INVALID;
			goto out;
		}
		/* The parser must find the attachments we wrote, in order,
		 * or the refs would name the wrong ones; a part it reads as
		 * a body instead (an inline text part) refuses the draft. */
		if (msg.props.attachment_count != refs.n) {
			log_info("user %" PRId64 ": draft refused: %zu of %zu"
				 " attachments read back",
				 r->user, msg.props.attachment_count, refs.n);
			status = RPC__STATUS__STATUS_INVALID;
			goto out;
		}
		for (size_t i = 0; i < refs.n; i++)
			msg.props.attachments[i].ref = refs.refs[i];
		msg.props.next_att_ref = refs.next;
		msg.props.bcc = bcc;
		bcc = NULL;
		if (c->op == RPC__APPLY_OP__APPLY_ADD) {
			if (store_sync_client_add(ss, c->client_id, &msg.item,
						  &id) < 0) {
				status = mbox_status_from_store(
				    store_last_error(st)->status);
				goto out;
			}
			res->server_id = mbox_id_str(r, id);
		} else {
			struct item_change ch = {
			    .mask = ITEM_CHANGE_PROPS | ITEM_CHANGE_MIME |
				    ITEM_CHANGE_IMPORTANCE | ITEM_CHANGE_DATE,
			    .props = &msg.props,
			    .mime = mime.data,
			    .mime_len = mime.len,
			    .date = msg.item.date,
			};

			ch.flags.importance = msg.item.flags.importance;
			/* Read, Flag, Categories sent with the edit. */
			if (c->data != NULL && c->data->email != NULL) {
				status = mbox_email_flags(r, c->data, false,
							  &ch.flags, &ch.mask);
				if (status != RPC__STATUS__STATUS_OK)
					goto out;
			}
			if (store_sync_client_change(ss, id, &ch) < 0) {
				status = mbox_status_from_store(
				    store_last_error(st)->status);
				goto out;
			}
		}
		status = report_attachments(r, c, &msg.props, id, res);
		if (status != RPC__STATUS__STATUS_OK)
			goto out;
	}
	status = RPC__STATUS__STATUS_OK;
	if (c->send)
		status = send_draft(r, st, ss, id, addrs, n_addrs);
out:
	free(refs.refs);
	free(bcc);
	mbox_message_clear(&msg);
	buf_free(&mime);
	item_free(&old);
	dir_strings_free(&addrs, n_addrs);
	return status;
}
