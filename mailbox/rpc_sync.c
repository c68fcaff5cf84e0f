/*
 * RPC handlers for item synchronization: GetChanges and ApplyChanges (the
 * two halves of MS-ASCMD 2.2.1.21 Sync), Estimate (GetItemEstimate,
 * 2.2.1.9), PingCheck (Ping, 2.2.1.13), Fetch (ItemOperations, 2.2.1.10)
 * and MoveItems (2.2.1.12), plus the mapping from a stored item to the
 * RPC's ItemData.
 *
 * One Sync of one collection is one store_sync (mailbox/syncstate.h): the
 * client's commands, the next window and the new key are one transaction
 * (G3); the same key asked again gives the same changes (G4).  Item ids
 * (ServerId) are the store's decimal ids: stable across moves (MoveItems
 * keeps them) and resolved within the request user's store only
 * (invariant 6).  FileReference is "<item id>:<attachment ref>", the ref
 * being the attachment's index in delivered mail and a draft's stable
 * attachment id (mailbox/items.h).
 *
 * Bodies follow the device's BodyPreference (MS-ASAIRS 2.2.2.7): the
 * first preferred type we hold, cut to its TruncationSize on a UTF-8
 * boundary with Truncated and EstimatedDataSize set; MIME (type 4) is the
 * raw message.  Raw content in Fetch is streamed in RPC_CHUNK_BYTES frames.
 */
#include "mailbox/rpc_server.h"

#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mailbox/changes.h"
#include "mailbox/folders.h"
#include "mailbox/items.h"
#include "mailbox/mime.h"
#include "mailbox/notify.h"
#include "mailbox/rpc_calendar.h"
#include "mailbox/rpc_drafts.h"
#include "mailbox/syncstate.h"
#include "proto/limits.h"
#include "proto/log.h"

static bool
parse_key(const char *text, uint32_t *key_r)
{
	char *end;
	unsigned long v;

	if (text == NULL || *text < '0' || *text > '9' ||
	    (text[0] == '0' && text[1] != 0))
		return false;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || *end != 0 || v > UINT32_MAX)
		return false;
	*key_r = (uint32_t)v;
	return true;
}

static bool
valid_device(const char *device)
{
	size_t len = strlen(device);

	return len > 0 && len <= STORE_MAX_DEVICE_ID_BYTES;
}

/* MS-ASCMD 2.2.3.71 FilterType -> oldest date kept (0: no filter).  Type 8
 * (incomplete tasks) is not a date filter. */
static int64_t
filter_cutoff(uint32_t filter_type)
{
	static const int days[] = {0, 1, 3, 7, 14, 31, 92, 183};

	if (filter_type == 0 || filter_type >= sizeof(days) / sizeof(days[0]))
		return 0;
	return (int64_t)time(NULL) - (int64_t)days[filter_type] * 86400;
}

static struct store *
open_store(struct mbox_req *r)
{
	struct store *st;
	enum store_status status;

	if (mbox_shard_store(r->ctx, r->user, &st, &status) < 0) {
		mbox_reply_store_error(r, status, "store unavailable");
		return NULL;
	}
	return st;
}

/* ----------------------------------------------------- item -> ItemData */

/* Length of s cut to at most max bytes on a UTF-8 character boundary. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

static Rpc__Body *
body_msg(struct mbox_req *r, const struct item *it, Rpc__BodyPreference **prefs,
	 size_t n_prefs, uint32_t mime_support)
{
	Rpc__Body *b = mbox_alloc(r, sizeof(*b));
	const Rpc__BodyPreference *pref = NULL;
	const char *data = NULL;
	size_t len = 0, cut;
	uint32_t type = 1;

	if (b == NULL)
		return NULL;
	rpc__body__init(b);
	for (size_t i = 0; i < n_prefs && pref == NULL; i++) {
		uint32_t t = prefs[i]->type;

		if ((t == 1 && it->props.body_text != NULL) ||
		    (t == 2 && it->props.body_html != NULL) ||
		    (t == 4 && it->mime != NULL))
			pref = prefs[i];
	}
	/* MS-ASCMD 2.2.3.108 MIMESupport 2: MIME for every message. */
	if (mime_support == 2 && it->mime != NULL &&
	    it->cls == ITEM_CLASS_EMAIL)
		type = 4;
	else if (pref != NULL)
		type = pref->type;
	else if (it->props.body_text == NULL && it->props.body_html != NULL)
		type = 2;
	if (type == 4) {
		data = (const char *)it->mime;
		len = it->mime_len;
	} else if (type == 2) {
		data = it->props.body_html;
		len = strlen(data);
	} else if (it->props.body_text != NULL) {
		data = it->props.body_text;
		len = strlen(data);
	}
	b->type = type;
	b->estimated_size = len;
	cut = len;
	if (pref != NULL && pref->type == type && pref->truncation_size > 0 &&
	    len > pref->truncation_size) {
		cut = type == 4 ? pref->truncation_size
				: utf8_cut(data, len, pref->truncation_size);
		b->truncated = true;
	}
	if (b->truncated && pref != NULL && pref->all_or_none)
		cut = 0; /* MS-ASAIRS 2.2.2.3 AllOrNone */
	if (cut > 0) {
		b->data.data = mbox_memdup(r, data, cut);
		if (b->data.data == NULL)
			return NULL;
		b->data.len = cut;
	}
	if (pref != NULL && pref->preview > 0 && it->props.preview != NULL) {
		size_t plen = strlen(it->props.preview);

		b->preview = (char *)mbox_memdup(
		    r, it->props.preview,
		    utf8_cut(it->props.preview, plen, pref->preview));
		if (b->preview == NULL)
			return NULL;
	}
	return b;
}

static char *
dup_or_empty(struct mbox_req *r, const char *s)
{
	return mbox_strdup(r, s != NULL ? s : "");
}

static Rpc__Email *
email_msg(struct mbox_req *r, const struct item *it)
{
	const struct item_props *p = &it->props;
	Rpc__Email *e = mbox_alloc(r, sizeof(*e));

	if (e == NULL)
		return NULL;
	rpc__email__init(e);
	e->to = dup_or_empty(r, p->to);
	e->cc = dup_or_empty(r, p->cc);
	e->from = dup_or_empty(r, p->from);
	e->reply_to = dup_or_empty(r, p->reply_to);
	e->subject = dup_or_empty(r, p->subject);
	e->thread_topic = e->subject;
	e->display_to = e->to;
	e->message_id = dup_or_empty(r, p->message_id);
	e->message_class = mbox_strdup(
	    r, p->message_class != NULL ? p->message_class : "IPM.Note");
	e->internet_cpid = "65001"; /* MS-ASEMAIL 2.2.2.40: UTF-8 */
	e->date_received = it->date;
	e->importance = (uint32_t)it->flags.importance;
	e->read = it->flags.read;
	e->last_verb_executed = (uint32_t)it->flags.last_verb;
	e->last_verb_time = it->flags.last_verb_time;
	if (p->conversation_id_len > 0) {
		e->conversation_id.data = p->conversation_id;
		e->conversation_id.len = p->conversation_id_len;
	}
	if (p->conversation_index_len > 0) {
		e->conversation_index.data = p->conversation_index;
		e->conversation_index.len = p->conversation_index_len;
	}
	if (it->flags.flag_status != ITEM_FLAG_CLEARED) {
		e->flag = mbox_alloc(r, sizeof(*e->flag));
		if (e->flag == NULL)
			return NULL;
		rpc__email_flag__init(e->flag);
		e->flag->status = (uint32_t)it->flags.flag_status;
		e->flag->flag_type = "for Follow Up";
		e->flag->start_date = it->flags.flag_start;
		e->flag->due_date = it->flags.flag_due;
		e->flag->complete_time = it->flags.flag_complete;
	}
	if (it->flags.categories != NULL) {
		char *cats = mbox_strdup(r, it->flags.categories);
		size_t n = 1;

		for (const char *c = cats; c != NULL && *c; c++)
			n += *c == '\n';
		e->categories = mbox_alloc(r, n * sizeof(char *));
		if (cats == NULL || e->categories == NULL)
			return NULL;
		for (char *c = cats, *nl; c != NULL && *c; c = nl) {
			nl = strchr(c, '\n');
			if (nl != NULL)
				*nl++ = 0;
			e->categories[e->n_categories++] = c;
		}
	}
	e->attachments =
	    mbox_alloc(r, (p->attachment_count + 1) * sizeof(*e->attachments));
	if (e->attachments == NULL)
		return NULL;
	for (size_t i = 0; i < p->attachment_count; i++) {
		const struct item_attachment *a = &p->attachments[i];
		Rpc__Attachment *m = mbox_alloc(r, sizeof(*m));

		if (m == NULL)
			return NULL;
		rpc__attachment__init(m);
		m->file_reference = mbox_file_ref(r, it->id, a->ref);
		m->display_name = dup_or_empty(r, a->name);
		m->content_type = dup_or_empty(r, a->content_type);
		m->content_id = dup_or_empty(r, a->content_id);
		m->content_location = "";
		m->size = (uint64_t)a->size;
		m->method = 1; /* MS-ASAIRS 2.2.2.30: normal attachment */
		m->is_inline = a->is_inline;
		e->attachments[e->n_attachments++] = m;
	}
	if (mbox_email_extras(r, it, e) < 0)
		return NULL;
	return e;
}

/* ItemData of a stored item (Email or the generic property list). */
Rpc__ItemData *
mbox_item_data(struct mbox_req *r, const struct item *it,
	       Rpc__BodyPreference **prefs, size_t n_prefs,
	       uint32_t mime_support)
{
	Rpc__ItemData *d = mbox_alloc(r, sizeof(*d));
	Rpc__Body *body;

	if (d == NULL)
		return NULL;
	rpc__item_data__init(d);
	body = body_msg(r, it, prefs, n_prefs, mime_support);
	if (body == NULL)
		return NULL;
	if (it->cls == ITEM_CLASS_EMAIL) {
		d->email = email_msg(r, it);
		if (d->email == NULL)
			return NULL;
		d->email->body = body;
		d->email->native_body_type =
		    it->props.body_html != NULL ? 2 : 1;
		return d;
	}
	if (it->cls == ITEM_CLASS_CALENDAR &&
	    mbox_calendar_item_data(r, it, d) < 0)
		return NULL;
	d->properties =
	    mbox_alloc(r, (it->props.app_count + 1) * sizeof(*d->properties));
	if (d->properties == NULL)
		return NULL;
	for (size_t i = 0; i < it->props.app_count; i++) {
		Rpc__Property *p = mbox_alloc(r, sizeof(*p));

		/* The packed event travels as d->calendar. */
		if (d->calendar != NULL &&
		    strcmp(it->props.app[i].key, "calendar") == 0)
			continue;

		if (p == NULL)
			return NULL;
		rpc__property__init(p);
		p->key = it->props.app[i].key;
		p->value.data = it->props.app[i].value;
		p->value.len = it->props.app[i].value_len;
		d->properties[d->n_properties++] = p;
	}
	if (body->data.len > 0)
		d->body = body;
	return d;
}

/* Items fetched for a reply stay alive until the request is freed. */
struct item_hold {
	struct item_hold *next;
	struct item *item;
};

static void
hold_free(struct item_hold **h)
{
	while (*h != NULL) {
		struct item_hold *next = (*h)->next;

		item_free(&(*h)->item);
		free(*h);
		*h = next;
	}
}

static bool
wants_mime(Rpc__BodyPreference **prefs, size_t n, uint32_t mime_support)
{
	if (mime_support == 2)
		return true;
	for (size_t i = 0; i < n; i++)
		if (prefs[i]->type == 4)
			return true;
	return false;
}

/* Get an item and keep it for the reply; NULL with the store's error. */
static struct item *
get_item(struct store *st, int64_t id, bool mime, struct item_hold **hold)
{
	struct item_hold *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	if (store_item_get(st, id, mime ? STORE_GET_MIME : 0, &h->item) < 0) {
		free(h);
		return NULL;
	}
	h->next = *hold;
	*hold = h;
	return h->item;
}

/* ------------------------------------------------- client commands */

static const char *const class_names[] = {"",         "Email", "Calendar",
					  "Contacts", "Tasks", "Notes"};

/* Props of a client Add or Change; -1 out of memory. */
static int
props_from_data(const Rpc__ItemData *d, struct item_props *p)
{
	const Rpc__Email *e = d->email;

	item_props_init(p);
	if (e != NULL) {
		const char *src[] = {e->from,         e->to,      e->cc,
				     e->reply_to,     e->subject, e->message_id,
				     e->message_class};
		char **dst[] = {&p->from,         &p->to,      &p->cc,
				&p->reply_to,     &p->subject, &p->message_id,
				&p->message_class};

		for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++)
			if (src[i] != NULL && *src[i] &&
			    (*dst[i] = strdup(src[i])) == NULL)
				return -1;
		p->date = e->date_received;
		p->importance = (int)e->importance;
		if (e->body != NULL && e->body->data.len > 0) {
			char **b =
			    e->body->type == 2 ? &p->body_html : &p->body_text;

			*b = strndup((const char *)e->body->data.data,
				     e->body->data.len);
			if (*b == NULL)
				return -1;
		}
		return 0;
	}
	if (d->n_properties > STORE_MAX_APP_PROPS)
		return -1;
	for (size_t i = 0; i < d->n_properties; i++)
		if (item_props_add(p, d->properties[i]->key,
				   d->properties[i]->value.data,
				   d->properties[i]->value.len) < 0)
			return -1;
	if (d->body != NULL && d->body->data.len > 0) {
		p->body_text = strndup((const char *)d->body->data.data,
				       d->body->data.len);
		if (p->body_text == NULL)
			return -1;
	}
	return 0;
}

struct sync_args {
	const char *device;
	const char *collection;
	const char *sync_key;
	const char *item_class;
	Rpc__ClientChange **commands;
	size_t n_commands;
	bool deletes_as_moves;
	bool get_changes;
	bool apply_only; /* ApplyChanges: keep the client's key */
	uint32_t window_size;
	uint32_t filter_type;
	Rpc__BodyPreference **prefs;
	size_t n_prefs;
	uint32_t mime_support;
};

struct sync_out {
	Rpc__Status status;
	const char *error;
	char sync_key[16];
	bool more;
	Rpc__Change **changes;
	size_t n_changes;
	Rpc__ClientChangeResult **results;
	size_t n_results;
};

static Rpc__Status
apply_one(struct mbox_req *r, struct store *st, struct store_sync *ss,
	  const struct sync_args *a, int64_t folder, enum item_class cls,
	  const Rpc__ClientChange *c, Rpc__ClientChangeResult *res,
	  struct item_hold **hold)
{
	struct item_props props;
	int64_t id = 0;
	Rpc__Status status = RPC__STATUS__STATUS_OK;

	res->op = c->op;
	res->client_id = c->client_id;
	res->server_id = c->server_id;
	item_props_init(&props);
	/* 16.0 drafts: Email Adds and draft Changes (rpc_drafts.c). */
	if (cls == ITEM_CLASS_EMAIL && mbox_draft_command(c)) {
		status = mbox_draft_apply(r, st, ss, folder, c, res);
		res->status = status;
		return status;
	}
	/* Calendar folders' commands and events (rpc_calendar.c). */
	if (mbox_calendar_command(cls, c)) {
		status = mbox_calendar_apply(r, st, ss, folder, cls, c, res);
		res->status = status;
		return status;
	}
	switch (c->op) {
	case RPC__APPLY_OP__APPLY_ADD: {
		struct item_new n = {.cls = cls};

		if (*c->client_id == 0 ||
		    strlen(c->client_id) > STORE_MAX_CLIENT_ID_BYTES ||
		    c->data == NULL) {
			status = RPC__STATUS__STATUS_INVALID;
			break;
		}
		if (props_from_data(c->data, &props) < 0) {
			status = RPC__STATUS__STATUS_INVALID;
			break;
		}
		n.props = &props;
		n.date = props.date != 0 ? props.date : (int64_t)time(NULL);
		if (c->data->email != NULL)
			n.flags.read = c->data->email->read;
		n.flags.importance = 1;
		if (store_sync_client_add(ss, c->client_id, &n, &id) < 0) {
			status = mbox_status_from_store(
			    store_last_error(st)->status);
			break;
		}
		res->server_id = mbox_id_str(r, id);
		break;
	}
	case RPC__APPLY_OP__APPLY_CHANGE: {
		struct item_change ch = {0};

		if (!mbox_parse_id(c->server_id, &id) || c->data == NULL) {
			status = RPC__STATUS__STATUS_NOT_FOUND;
			break;
		}
		if (c->data->email != NULL) {
			status = mbox_email_flags(r, c->data, true, &ch.flags,
						  &ch.mask);
			if (status != RPC__STATUS__STATUS_OK)
				break;
		} else {
			if (props_from_data(c->data, &props) < 0) {
				status = RPC__STATUS__STATUS_INVALID;
				break;
			}
			ch.props = &props;
			ch.mask = ITEM_CHANGE_PROPS;
		}
		if (store_sync_client_change(ss, id, &ch) < 0)
			status = mbox_status_from_store(
			    store_last_error(st)->status);
		break;
	}
	case RPC__APPLY_OP__APPLY_DELETE: {
		int64_t trash = 0;

		if (!mbox_parse_id(c->server_id, &id)) {
			status = RPC__STATUS__STATUS_NOT_FOUND;
			break;
		}
		/* MS-ASCMD 2.2.3.42 DeletesAsMoves: into Deleted Items,
		 * unless this is Deleted Items. */
		if (a->deletes_as_moves && cls == ITEM_CLASS_EMAIL &&
		    (store_folder_by_type(st, FOLDER_TYPE_DELETED, &trash) <
			 0 ||
		     trash == folder))
			trash = 0;
		if (store_sync_client_delete(ss, id, trash) < 0)
			status = mbox_status_from_store(
			    store_last_error(st)->status);
		break;
	}
	case RPC__APPLY_OP__APPLY_FETCH: {
		struct item *it;

		if (!mbox_parse_id(c->server_id, &id) ||
		    (it = get_item(
			 st, id,
			 wants_mime(a->prefs, a->n_prefs, a->mime_support),
			 hold)) == NULL ||
		    it->folder_id != folder) {
			status = RPC__STATUS__STATUS_NOT_FOUND;
			break;
		}
		res->data = mbox_item_data(r, it, a->prefs, a->n_prefs,
					   a->mime_support);
		if (res->data == NULL)
			status = RPC__STATUS__STATUS_INTERNAL;
		break;
	}
	default:
		status = RPC__STATUS__STATUS_INVALID;
		break;
	}
	item_props_clear(&props);
	res->status = status;
	return status;
}

static void
log_warn_item(const struct mbox_req *r, int64_t item)
{
	log_warn("user %" PRId64 ": item %" PRId64 " unreadable, skipped",
		 r->user, item);
}

/* ------------------------------------------------- recorded outcomes
 *
 * One EAS Sync of a collection reaches the mailbox in one of two forms
 * (proto/rpc.proto): GetChanges(key N) carrying the client's commands, or,
 * what cas/cmd_sync.c sends, ApplyChanges(N) then GetChanges(N).  In the
 * second form ApplyChanges commits the commands under N without issuing
 * a key (store_sync_commit_commands) and GetChanges issues N+1 with the
 * window, so both forms leave the same durable state, and a Sync re-sent
 * with N after N+1 was issued is the store's replay of the previous key:
 * the same key N+1 and the same window, from the database alone.
 *
 * The results of the commands are recorded in the transaction that
 * applies them, under N and a SHA-256 of the commands
 * (store_sync_outcome_put).  The same commands under N again are answered
 * from that record and not applied a second time: the same ServerIds for
 * the same ClientIds, the same statuses (a Change that failed fails again,
 * a Delete that worked is not "not found" the second time), no second
 * item, however many times and across however many restarts of this
 * daemon the request comes.  Fetches are read-only and run again.  An
 * outcome with a transient status (busy, storage error) is not recorded,
 * so its retry applies the commands again, idempotently (ClientIds).
 *
 * Why this and not "the CAS sends its commands inside GetChanges": that
 * form needs the same record to answer a retry exactly (replaying the
 * commands is idempotent but not exact), and with the record both forms
 * are exact, so the CAS stays as it is and any CAS build, old or new,
 * gets exact replays.  The cost is one row per (device, collection, key),
 * a few bytes per command, dropped when the device shows a later key.
 */

struct digest_sink {
	ProtobufCBuffer base;
	EVP_MD_CTX *md;
	bool failed;
};

static void
digest_append(ProtobufCBuffer *buffer, size_t len, const uint8_t *data)
{
	struct digest_sink *d = (struct digest_sink *)(void *)buffer;

	if (EVP_DigestUpdate(d->md, data, len) != 1)
		d->failed = true;
}

/* SHA-256 of the commands as they travel (each packed message behind its
 * length) and of DeletesAsMoves, which changes what a Delete does. */
static int
commands_digest(const struct sync_args *a, uint8_t *digest)
{
	struct digest_sink d = {.base = {.append = digest_append}};
	uint8_t head[9];
	unsigned int len = 0;
	int ret = -1;

	d.md = EVP_MD_CTX_new();
	if (d.md == NULL || EVP_DigestInit_ex(d.md, EVP_sha256(), NULL) != 1)
		goto out;
	head[0] = a->deletes_as_moves;
	for (size_t i = 0; i < a->n_commands; i++) {
		uint64_t n =
		    rpc__client_change__get_packed_size(a->commands[i]);

		for (size_t k = 0; k < 8; k++)
			head[1 + k] = (uint8_t)(n >> (8 * k));
		digest_append(&d.base, i == 0 ? 9 : 8,
			      i == 0 ? head : head + 1);
		(void)rpc__client_change__pack_to_buffer(a->commands[i],
							 &d.base);
	}
	if (a->n_commands == 0)
		digest_append(&d.base, 1, head);
	if (d.failed || EVP_DigestFinal_ex(d.md, digest, &len) != 1 ||
	    len != STORE_SYNC_DIGEST_BYTES)
		goto out;
	ret = 0;
out:
	EVP_MD_CTX_free(d.md);
	return ret;
}

/* Statuses that the same commands would get again: worth recording. */
static bool
status_final(Rpc__Status s)
{
	return s == RPC__STATUS__STATUS_OK ||
	       s == RPC__STATUS__STATUS_NOT_FOUND ||
	       s == RPC__STATUS__STATUS_EXISTS ||
	       s == RPC__STATUS__STATUS_INVALID ||
	       s == RPC__STATUS__STATUS_DENIED ||
	       s == RPC__STATUS__STATUS_TOO_LARGE;
}

/* Records the results (without fetched data, with the FileReferences a
 * draft command assigned: the device must get the same ones) in the
 * Sync's transaction;
 * -1 with the store's error.  Out of memory records nothing (the retry
 * applies the commands again). */
static int
outcome_record(struct store_sync *ss, const uint8_t *digest,
	       const struct sync_out *o)
{
	Rpc__ApplyChangesReply rec;
	rpc__apply_changes_reply__init(&rec);
	Rpc__ClientChangeResult *res = NULL, **ptrs = NULL;
	uint8_t *packed = NULL;
	size_t len;
	int ret = -1;

	for (size_t i = 0; i < o->n_results; i++)
		if (!status_final(o->results[i]->status))
			return 0; /* the retry applies them again */
	res = calloc(o->n_results + 1, sizeof(*res));
	ptrs = calloc(o->n_results + 1, sizeof(*ptrs));
	if (res == NULL || ptrs == NULL)
		goto skip;
	for (size_t i = 0; i < o->n_results; i++) {
		rpc__client_change_result__init(&res[i]);
		res[i].op = o->results[i]->op;
		res[i].status = o->results[i]->status;
		res[i].server_id = o->results[i]->server_id;
		if (o->results[i]->op != RPC__APPLY_OP__APPLY_FETCH)
			res[i].data = o->results[i]->data;
		ptrs[i] = &res[i];
	}
	rec.status = RPC__STATUS__STATUS_OK;
	rec.results = ptrs;
	rec.n_results = o->n_results;
	len = rpc__apply_changes_reply__get_packed_size(&rec);
	packed = malloc(len + 1);
	if (packed == NULL)
		goto skip;
	(void)rpc__apply_changes_reply__pack(&rec, packed);
	ret = store_sync_outcome_put(ss, digest, packed, len);
	goto out;
skip:
	ret = 0;
out:
	free(packed);
	free(ptrs);
	free(res);
	return ret;
}

/* The results of the commands from the record of their first application
 * (fetches run again): 0 answered, 1 no record for these commands (apply
 * them), -1 out of memory. */
static int
outcome_replay(struct mbox_req *r, struct store *st, struct store_sync *ss,
	       const struct sync_args *a, const uint8_t *digest, int64_t folder,
	       enum item_class cls, struct sync_out *o, struct item_hold **hold)
{
	Rpc__ApplyChangesReply *rec;
	uint8_t *data = NULL;
	size_t len = 0;
	int ret = 1;

	if (store_sync_outcome_get(ss, digest, &data, &len) < 0)
		return 1; /* none; a read error shows again when applying */
	rec = rpc__apply_changes_reply__unpack(NULL, len, data);
	free(data);
	if (rec == NULL || rec->n_results != a->n_commands)
		goto out;
	for (size_t i = 0; i < a->n_commands; i++)
		if (rec->results[i]->op != a->commands[i]->op)
			goto out;
	ret = -1;
	for (size_t i = 0; i < a->n_commands; i++) {
		const Rpc__ClientChange *c = a->commands[i];
		const Rpc__ClientChangeResult *was = rec->results[i];
		Rpc__ClientChangeResult *res = mbox_alloc(r, sizeof(*res));

		if (res == NULL)
			goto out;
		rpc__client_change_result__init(res);
		if (c->op == RPC__APPLY_OP__APPLY_FETCH) {
			(void)apply_one(r, st, ss, a, folder, cls, c, res,
					hold);
		} else {
			bool oom;

			res->op = c->op;
			res->client_id = c->client_id;
			res->server_id = mbox_strdup(r, was->server_id);
			res->status = was->status;
			res->data = mbox_draft_result_copy(r, was->data, &oom);
			if (res->server_id == NULL || oom)
				goto out;
		}
		o->results[o->n_results++] = res;
	}
	ret = 0;
out:
	if (rec != NULL)
		rpc__apply_changes_reply__free_unpacked(rec, NULL);
	return ret;
}

/* One Sync of one collection: commands, window, new key. */
static void
sync_collection(struct mbox_req *r, const struct sync_args *a,
		struct sync_out *o, struct item_hold **hold)
{
	struct store *st;
	struct store_sync *ss = NULL;
	struct sync_window w = {0};
	struct folder f = {0};
	int64_t folder, modseq = 0;
	uint32_t key, new_key;
	enum store_status status;
	uint8_t digest[STORE_SYNC_DIGEST_BYTES];
	bool recorded = false;

	o->status = RPC__STATUS__STATUS_OK;
	if (!valid_device(a->device)) {
		o->status = RPC__STATUS__STATUS_INVALID;
		o->error = "device id missing or too long";
		return;
	}
	if (!parse_key(a->sync_key, &key)) {
		o->status = RPC__STATUS__STATUS_INVALID_SYNC_KEY;
		o->error = "malformed sync key";
		return;
	}
	if (!mbox_parse_id(a->collection, &folder)) {
		o->status = RPC__STATUS__STATUS_NOT_FOUND;
		o->error = "no such collection";
		return;
	}
	if (a->window_size > STORE_MAX_WINDOW_SIZE ||
	    a->n_commands > STORE_MAX_WINDOW_SIZE * 2) {
		o->status = RPC__STATUS__STATUS_INVALID;
		o->error = "window or command count over the limit";
		return;
	}
	if (mbox_shard_store(r->ctx, r->user, &st, &status) < 0) {
		o->status = mbox_status_from_store(status);
		o->error = "store unavailable";
		return;
	}
	if (store_folder_get(st, folder, &f) < 0) {
		o->status =
		    mbox_status_from_store(store_last_error(st)->status);
		o->error = "no such collection";
		return;
	}
	if (store_sync_begin(st, a->device, folder, key, &ss) < 0)
		goto store_fail;
	o->results = mbox_alloc(r, (a->n_commands + 1) * sizeof(*o->results));
	if (o->results == NULL)
		goto oom;
	if (a->n_commands > 0 && key != 0) {
		int rc;

		if (commands_digest(a, digest) < 0)
			goto oom;
		rc = outcome_replay(r, st, ss, a, digest, folder, f.cls, o,
				    hold);
		if (rc < 0)
			goto oom;
		recorded = rc == 0;
	}
	for (size_t i = 0; !recorded && i < a->n_commands; i++) {
		Rpc__ClientChangeResult *res = mbox_alloc(r, sizeof(*res));

		if (res == NULL)
			goto oom;
		rpc__client_change_result__init(res);
		(void)apply_one(r, st, ss, a, folder, f.cls, a->commands[i],
				res, hold);
		o->results[o->n_results++] = res;
	}
	if (!recorded && a->n_commands > 0 && key != 0 &&
	    outcome_record(ss, digest, o) < 0)
		goto store_fail;
	if (!a->apply_only && (a->get_changes || a->n_commands == 0)) {
		uint32_t ws = a->window_size == 0 ? 100 : a->window_size;

		if (!a->get_changes)
			ws = 1;
		if (a->get_changes && key != 0 &&
		    store_sync_fetch(ss, ws, filter_cutoff(a->filter_type),
				     &w) < 0)
			goto store_fail;
	}
	if (a->apply_only) {
		/* No key for the device yet: GetChanges(key) issues it. */
		if (store_sync_commit_commands(&ss) < 0)
			goto store_fail;
		new_key = key;
	} else if (store_sync_commit(&ss, &new_key) < 0) {
		goto store_fail;
	}
	(void)snprintf(o->sync_key, sizeof(o->sync_key), "%" PRIu32, new_key);
	o->more = w.more_available;
	o->changes = mbox_alloc(r, (w.count + 1) * sizeof(*o->changes));
	if (o->changes == NULL)
		goto oom;
	for (size_t i = 0; i < w.count; i++) {
		const struct sync_entry *e = &w.entries[i];
		Rpc__Change *c = mbox_alloc(r, sizeof(*c));

		if (c == NULL)
			goto oom;
		rpc__change__init(c);
		c->server_id = mbox_id_str(r, e->item_id);
		c->item_class = (char *)(uintptr_t)class_names[f.cls];
		switch (e->op) {
		case SYNC_OP_ADD:
		case SYNC_OP_CHANGE: {
			struct item *it = get_item(
			    st, e->item_id,
			    wants_mime(a->prefs, a->n_prefs, a->mime_support),
			    hold);

			c->op = e->op == SYNC_OP_ADD
				    ? RPC__CHANGE_OP__OP_ADD
				    : RPC__CHANGE_OP__OP_CHANGE;
			if (it == NULL) {
				/* G8: an item that cannot be read is set
				 * aside, logged, and the folder goes on. */
				log_warn_item(r, e->item_id);
				continue;
			}
			c->data = mbox_item_data(r, it, a->prefs, a->n_prefs,
						 a->mime_support);
			if (c->data == NULL)
				goto oom;
			break;
		}
		case SYNC_OP_DELETE:
			c->op = RPC__CHANGE_OP__OP_DELETE;
			break;
		case SYNC_OP_SOFT_DELETE:
			c->op = RPC__CHANGE_OP__OP_SOFT_DELETE;
			break;
		}
		o->changes[o->n_changes++] = c;
	}
	/* Client changes are news for the user's other devices. */
	if (a->n_commands > 0 && store_folder_modseq(st, folder, &modseq) == 0)
		notify_changed(r->ctx, r->user, folder, modseq);
	goto out;
store_fail:
	status = store_last_error(st)->status;
	o->status = status == STORE_INVALID
			? RPC__STATUS__STATUS_INVALID_SYNC_KEY
			: mbox_status_from_store(status);
	o->error = mbox_strdup(r, store_last_error(st)->msg);
	store_sync_abort(&ss);
	goto out;
oom:
	store_sync_abort(&ss);
	o->status = RPC__STATUS__STATUS_INTERNAL;
	o->error = "out of memory";
out:
	sync_window_clear(&w);
	folder_clear(&f);
}

void
mbox_rpc_get_changes(struct mbox_req *r)
{
	Rpc__GetChangesRequest *q = (void *)r->msg;
	Rpc__GetChangesReply rep;
	rpc__get_changes_reply__init(&rep);
	struct sync_args a = {
	    .device = q->device_id,
	    .collection = q->collection_id,
	    .sync_key = q->sync_key,
	    .item_class = q->item_class,
	    .commands = q->commands,
	    .n_commands = q->n_commands,
	    .deletes_as_moves = q->deletes_as_moves,
	    .get_changes = q->get_changes,
	    .window_size = q->window_size,
	    .filter_type = q->filter_type,
	    .prefs = q->body_preferences,
	    .n_prefs = q->n_body_preferences,
	    .mime_support = q->mime_support,
	};
	struct sync_out o = {0};
	struct item_hold *hold = NULL;

	sync_collection(r, &a, &o, &hold);
	if (o.status != RPC__STATUS__STATUS_OK) {
		mbox_reply_status(r, o.status, o.error);
		goto out;
	}
	rep.status = o.status;
	rep.sync_key = o.sync_key;
	rep.more_available = o.more;
	rep.changes = o.changes;
	rep.n_changes = o.n_changes;
	rep.results = o.results;
	rep.n_results = o.n_results;
	mbox_reply(r, &rep.base);
out:
	hold_free(&hold);
}

void
mbox_rpc_apply_changes(struct mbox_req *r)
{
	Rpc__ApplyChangesRequest *q = (void *)r->msg;
	Rpc__ApplyChangesReply rep;
	rpc__apply_changes_reply__init(&rep);
	struct sync_args a = {
	    .device = q->device_id,
	    .collection = q->collection_id,
	    .sync_key = q->sync_key,
	    .item_class = q->item_class,
	    .commands = q->changes,
	    .n_commands = q->n_changes,
	    .deletes_as_moves = q->deletes_as_moves,
	    .prefs = q->body_preferences,
	    .n_prefs = q->n_body_preferences,
	    .mime_support = q->mime_support,
	    .apply_only = true,
	};
	struct sync_out o = {0};
	struct item_hold *hold = NULL;

	sync_collection(r, &a, &o, &hold);
	if (o.status != RPC__STATUS__STATUS_OK) {
		mbox_reply_status(r, o.status, o.error);
		goto out;
	}
	rep.status = o.status;
	rep.sync_key = o.sync_key;
	rep.results = o.results;
	rep.n_results = o.n_results;
	mbox_reply(r, &rep.base);
out:
	hold_free(&hold);
}

void
mbox_rpc_estimate(struct mbox_req *r)
{
	Rpc__EstimateRequest *q = (void *)r->msg;
	Rpc__EstimateReply rep;
	rpc__estimate_reply__init(&rep);
	struct store *st;

	if (!valid_device(q->device_id) ||
	    q->n_collections > STORE_MAX_WINDOW_SIZE) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "bad device id or too many collections");
		return;
	}
	st = open_store(r);
	if (st == NULL)
		return;
	rep.results =
	    mbox_alloc(r, (q->n_collections + 1) * sizeof(*rep.results));
	if (rep.results == NULL)
		return;
	for (size_t i = 0; i < q->n_collections; i++) {
		const Rpc__EstimateCollection *c = q->collections[i];
		Rpc__EstimateResult *res = mbox_alloc(r, sizeof(*res));
		int64_t folder, count = 0;
		uint32_t key;

		if (res == NULL)
			return;
		rpc__estimate_result__init(res);
		res->collection_id = c->collection_id;
		if (!mbox_parse_id(c->collection_id, &folder))
			res->status = RPC__STATUS__STATUS_NOT_FOUND;
		else if (!parse_key(c->sync_key, &key))
			res->status = RPC__STATUS__STATUS_INVALID_SYNC_KEY;
		else if (store_sync_estimate(st, q->device_id, folder, key,
					     filter_cutoff(c->filter_type),
					     &count) < 0)
			res->status =
			    store_last_error(st)->status == STORE_INVALID
				? RPC__STATUS__STATUS_INVALID_SYNC_KEY
				: mbox_status_from_store(
				      store_last_error(st)->status);
		else
			res->status = RPC__STATUS__STATUS_OK;
		res->estimate =
		    count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
		rep.results[rep.n_results++] = res;
	}
	rep.status = RPC__STATUS__STATUS_OK;
	mbox_reply(r, &rep.base);
}

void
mbox_rpc_ping_check(struct mbox_req *r)
{
	Rpc__PingCheckRequest *q = (void *)r->msg;
	Rpc__PingCheckReply rep;
	rpc__ping_check_reply__init(&rep);
	struct store *st;
	int64_t hmodseq = 0;
	bool hier = false;

	/* MS-ASCMD 2.2.3.115: at most 300 folders per Ping by default. */
	if (!valid_device(q->device_id) ||
	    q->n_collections > STORE_MAX_WINDOW_SIZE) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "bad device id or too many collections");
		return;
	}
	st = open_store(r);
	if (st == NULL)
		return;
	rep.changed = mbox_alloc(r, (q->n_collections + 1) * sizeof(char *));
	rep.not_found = mbox_alloc(r, (q->n_collections + 1) * sizeof(char *));
	rep.folder_modseqs =
	    mbox_alloc(r, (q->n_collections + 1) * sizeof(uint64_t));
	if (rep.changed == NULL || rep.not_found == NULL ||
	    rep.folder_modseqs == NULL)
		return;
	rep.n_folder_modseqs = q->n_collections;
	for (size_t i = 0; i < q->n_collections; i++) {
		const char *id = q->collections[i]->collection_id;
		int64_t folder = 0, modseq = 0;
		bool pending = false;

		rep.folder_modseqs[i] = 0;
		/* MS-ASCMD 2.2.3.177.12 Ping Status 7: a folder that does not
		 * exist (for this user) is reported, not an error. */
		if (!mbox_parse_id(id, &folder) ||
		    store_folder_modseq(st, folder, &modseq) < 0) {
			if (folder > 0 &&
			    store_last_error(st)->status != STORE_NOT_FOUND) {
				mbox_reply_store_error(
				    r, store_last_error(st)->status,
				    store_last_error(st)->msg);
				return;
			}
			rep.not_found[rep.n_not_found++] =
			    (char *)(uintptr_t)id;
			continue;
		}
		rep.folder_modseqs[i] = (uint64_t)modseq;
		if (store_sync_pending(st, q->device_id, folder, &pending) <
		    0) {
			enum store_status s = store_last_error(st)->status;

			if (s == STORE_NOT_FOUND) {
				rep.not_found[rep.n_not_found++] =
				    (char *)(uintptr_t)id;
				continue;
			}
			/* No sync state yet (never synced): changed, so
			 * the device syncs it (MS-ASCMD Ping Status 2). */
			if (s != STORE_INVALID) {
				mbox_reply_store_error(
				    r, s, store_last_error(st)->msg);
				return;
			}
			pending = true;
		}
		if (pending)
			rep.changed[rep.n_changed++] = (char *)(uintptr_t)id;
	}
	/* MS-ASCMD 2.2.3.177.10 Status 7: the hierarchy changed since the
	 * device's last FolderSync (its own folder changes aside). */
	if (store_hier_pending(st, q->device_id, &hier) < 0) {
		mbox_reply_store_error(r, store_last_error(st)->status,
				       store_last_error(st)->msg);
		return;
	}
	rep.hierarchy_changed = hier;
	(void)store_hier_modseq(st, &hmodseq);
	rep.modseq = (uint64_t)hmodseq;
	rep.status = RPC__STATUS__STATUS_OK;
	mbox_reply(r, &rep.base);
}

/* ---------------------------------------------------------------- fetch */

/*
 * Raw content (an attachment, a message's MIME) leaves as FetchReply
 * chunks of at most RPC_CHUNK_BYTES: the first frame carries total_size
 * and content_type, the last one the last-chunk flag.  Only the requested
 * Range [start, end) is sent (MS-ASCMD 2.2.3.140.1; the CAS asks for its
 * stream window by window, which is its flow control).  The output queue
 * towards the CAS is kept below RAW_QUEUE_BYTES with
 * rpc_server_wait_output, so a stream costs one chunk of staging plus
 * that queue on top of the content itself.
 */
#define RAW_QUEUE_BYTES (2u * RPC_CHUNK_BYTES)
#define RAW_WAIT_MS 30000

struct raw_stream {
	struct mbox_req *r;
	uint64_t start, end; /* of the whole; end exclusive */
	uint64_t pos;        /* bytes of the whole seen so far */
	uint64_t total;
	const char *content_type;
	bool first_sent;
	bool failed; /* the connection is gone: stop */
	struct buf chunk;
};

/* 0, or -1 when the range is not inside [0, total] (Status 8 at the CAS:
 * an empty range is valid only for empty content). */
static int
raw_range(const Rpc__FetchRequest *q, uint64_t total, uint64_t *start_r,
	  uint64_t *end_r)
{
	uint64_t end =
	    q->range_end == 0 || q->range_end > total ? total : q->range_end;

	if (q->range_start > end || (q->range_start == end && total > 0))
		return -1;
	*start_r = q->range_start;
	*end_r = end;
	return 0;
}

static void
raw_send(struct raw_stream *s, bool last)
{
	Rpc__FetchReply rep;
	rpc__fetch_reply__init(&rep);

	if (s->failed)
		return;
	if (s->r->ctx->rpc != NULL &&
	    rpc_server_wait_output(s->r->ctx->rpc, s->r->conn_id,
				   RAW_QUEUE_BYTES, RAW_WAIT_MS) < 0) {
		/* The CAS stopped reading or went away: nobody to tell. */
		s->failed = true;
		s->r->replied = true;
		return;
	}
	rep.status = RPC__STATUS__STATUS_OK;
	if (!s->first_sent) {
		rep.total_size = s->total;
		rep.content_type = (char *)(uintptr_t)s->content_type;
		s->first_sent = true;
	}
	rep.offset = s->pos - s->chunk.len;
	rep.chunk.data = s->chunk.data;
	rep.chunk.len = s->chunk.len;
	mbox_reply_chunk(s->r, &rep.base, last);
	buf_reset(&s->chunk);
}

/* Sink for content in pieces; -1 (stop) once the range is complete. */
static int
raw_sink(void *ctx, const uint8_t *data, size_t len)
{
	struct raw_stream *s = ctx;

	while (len > 0 && !s->failed) {
		uint64_t skip = s->pos < s->start ? s->start - s->pos : 0;
		size_t n;

		if (s->pos >= s->end)
			return -1;
		if (skip > 0) {
			n = skip < len ? (size_t)skip : len;
		} else {
			uint64_t want = s->end - s->pos;

			n = RPC_CHUNK_BYTES - s->chunk.len;
			if (n > len)
				n = len;
			if (n > want)
				n = (size_t)want;
			if (buf_append(&s->chunk, data, n) < 0)
				return -1;
		}
		s->pos += n;
		data += n;
		len -= n;
		if (s->chunk.len == RPC_CHUNK_BYTES && s->pos < s->end)
			raw_send(s, false);
	}
	return s->failed || s->pos >= s->end ? -1 : 0;
}

static void
raw_init(struct raw_stream *s, struct mbox_req *r, uint64_t total,
	 uint64_t start, uint64_t end, const char *content_type)
{
	memset(s, 0, sizeof(*s));
	s->r = r;
	s->total = total;
	s->start = start;
	s->end = end;
	s->content_type = content_type != NULL ? content_type : "";
	buf_init(&s->chunk, RPC_CHUNK_BYTES);
}

/* The final frame; content that ended before the range did is an error
 * (the stored size was wrong), reported in a last frame of its own. */
static void
raw_finish(struct raw_stream *s)
{
	if (s->pos < s->end && !s->failed) {
		buf_reset(&s->chunk);
		if (s->first_sent) {
			mbox_reply_status(s->r, RPC__STATUS__STATUS_INTERNAL,
					  "content shorter than its size");
			goto out;
		}
	}
	raw_send(s, true);
out:
	buf_free(&s->chunk);
}

/* FetchRequest.size_only: the first frame's fields and nothing else. */
static void
raw_size_only(struct mbox_req *r, uint64_t total, const char *content_type)
{
	Rpc__FetchReply rep;
	rpc__fetch_reply__init(&rep);

	rep.status = RPC__STATUS__STATUS_OK;
	rep.total_size = total;
	rep.content_type =
	    (char *)(uintptr_t)(content_type ? content_type : "");
	mbox_reply(r, &rep.base);
}

/* Bytes held in memory (stored attachment data, a message's MIME). */
static void
send_raw(struct mbox_req *r, const Rpc__FetchRequest *q, const uint8_t *data,
	 size_t len, const char *content_type)
{
	struct raw_stream s;
	uint64_t start, end;

	if (raw_range(q, len, &start, &end) != 0) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "range outside the content");
		return;
	}
	if (q->size_only) {
		raw_size_only(r, len, content_type);
		return;
	}
	raw_init(&s, r, len, start, end, content_type);
	s.pos = start;
	(void)raw_sink(&s, data + start, (size_t)(end - start));
	raw_finish(&s);
}

/*
 * The last attachment decoded from raw MIME, per worker thread.  The CAS
 * fetches a large attachment window by window (one FetchRequest per
 * ITEMOPS_XFER_WINDOW_BYTES, its flow control), and decoding the message
 * again for every window would make a fetch quadratic in the attachment's
 * size.  A user always maps to the same worker, so the windows of one
 * fetch find the decoded bytes here.  Cost: one decoded attachment per
 * worker (at most STORE_MAX_MIME_BYTES) until the next fetch of another
 * attachment, or FETCH_CACHE_S seconds; the entry is checked against the
 * stored size, and freed when the worker exits.  Keyed by the attachment's
 * ref, not its index: a draft edit moves attachments to other indexes,
 * while a ref names the same bytes for the life of the item (items.h).
 */
#define FETCH_CACHE_S 60

struct fetch_cache {
	int64_t user, item;
	uint32_t ref;
	int64_t size;
	time_t at;
	bool valid;
	struct buf data;
};

/* One per worker thread, behind a key whose destructor frees it when the
 * thread exits (whoever created the thread). */
static pthread_key_t fetch_cache_key;
static pthread_once_t fetch_cache_once = PTHREAD_ONCE_INIT;

static void
fetch_cache_destroy(void *arg)
{
	struct fetch_cache *c = arg;

	buf_free(&c->data);
	free(c);
}

static void
fetch_cache_key_init(void)
{
	(void)pthread_key_create(&fetch_cache_key, fetch_cache_destroy);
}

/* This thread's cache, created on first use; NULL when out of memory. */
static struct fetch_cache *
fetch_cache_get(void)
{
	struct fetch_cache *c;

	(void)pthread_once(&fetch_cache_once, fetch_cache_key_init);
	c = pthread_getspecific(fetch_cache_key);
	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c != NULL && pthread_setspecific(fetch_cache_key, c) != 0) {
			free(c);
			c = NULL;
		}
	}
	return c;
}

static void
fetch_cache_clear(struct fetch_cache *c)
{
	buf_free(&c->data);
	memset(c, 0, sizeof(*c));
}

static int
sink_buf(void *ctx, const uint8_t *data, size_t len)
{
	return buf_append(ctx, data, len);
}

/* The decoded attachment att (by ref) of item id, from the cache or
 * decoded now at its index; NULL with *error_r when it cannot be
 * extracted. */
static const struct buf *
cached_attachment(struct mbox_req *r, struct store *st, int64_t id,
		  const struct item_attachment *att, struct item_hold **hold,
		  const char **error_r)
{
	struct fetch_cache *c = fetch_cache_get();
	int64_t size = att->size;
	time_t now = time(NULL);
	struct item *it;

	if (c == NULL)
		return NULL;
	if (c->valid && c->user == r->user && c->item == id &&
	    c->ref == att->ref && c->size == size &&
	    now - c->at < FETCH_CACHE_S && now >= c->at)
		return &c->data;
	fetch_cache_clear(c);
	it = get_item(st, id, true, hold);
	if (it == NULL || it->mime == NULL)
		return NULL;
	buf_init(&c->data, STORE_MAX_MIME_BYTES);
	if (mime_attachment_extract(it->mime, it->mime_len, att->index,
				    sink_buf, &c->data, error_r) < 0 ||
	    (int64_t)c->data.len != size) {
		fetch_cache_clear(c);
		return NULL;
	}
	c->user = r->user;
	c->item = id;
	c->ref = att->ref;
	c->size = size;
	c->at = now;
	c->valid = true;
	return &c->data;
}

static void
fetch_attachment(struct mbox_req *r, struct store *st,
		 const Rpc__FetchRequest *q, struct item_hold **hold)
{
	struct item_attachment att = {0};
	const struct buf *data;
	const char *error = NULL;
	uint64_t start, end;
	int64_t id;
	uint32_t ref;

	/* A ref never passes to another attachment: a deleted draft
	 * attachment's reference is not found (ItemOperations Status 15). */
	if (!mbox_parse_file_ref(q->file_reference, &id, &ref) ||
	    store_attachment_get(st, id, ref, &att) < 0) {
		mbox_reply_status(r, RPC__STATUS__STATUS_NOT_FOUND,
				  "no such attachment");
		goto out;
	}
	if (att.data != NULL) {
		send_raw(r, q, att.data, att.data_len, att.content_type);
		goto out;
	}
	/* Decoded from the raw MIME; the size recorded at delivery came
	 * from the same decoder, so Range and size-only need no decode. */
	if (att.size < 0 ||
	    raw_range(q, (uint64_t)att.size, &start, &end) != 0) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "range outside the attachment");
		goto out;
	}
	if (q->size_only) {
		raw_size_only(r, (uint64_t)att.size, att.content_type);
		goto out;
	}
	data = cached_attachment(r, st, id, &att, hold, &error);
	if (data == NULL) {
		mbox_reply_status(r, RPC__STATUS__STATUS_NOT_FOUND,
				  error ? error : "no such attachment");
		goto out;
	}
	send_raw(r, q, data->data, data->len, att.content_type);
out:
	item_attachment_clear(&att);
}

void
mbox_rpc_fetch(struct mbox_req *r)
{
	Rpc__FetchRequest *q = (void *)r->msg;
	Rpc__FetchReply rep;
	rpc__fetch_reply__init(&rep);
	struct item_hold *hold = NULL;
	struct store *st;
	struct item *it;
	int64_t id, folder = 0;

	st = open_store(r);
	if (st == NULL)
		return;
	switch (q->kind) {
	case RPC__FETCH_KIND__FETCH_ITEM:
	case RPC__FETCH_KIND__FETCH_MIME:
	case RPC__FETCH_KIND__FETCH_LONG_ID:
		/* A Search LongId is the item id (rpc_search.c). */
		if (!mbox_parse_id(q->kind == RPC__FETCH_KIND__FETCH_LONG_ID
				       ? q->long_id
				       : q->server_id,
				   &id) ||
		    (*q->collection_id &&
		     !mbox_parse_id(q->collection_id, &folder)) ||
		    (it = get_item(st, id,
				   q->kind == RPC__FETCH_KIND__FETCH_MIME ||
				       wants_mime(q->body_preferences,
						  q->n_body_preferences,
						  q->mime_support),
				   &hold)) == NULL ||
		    (folder != 0 && it->folder_id != folder)) {
			mbox_reply_status(r, RPC__STATUS__STATUS_NOT_FOUND,
					  "no such item");
			break;
		}
		if (q->kind == RPC__FETCH_KIND__FETCH_MIME) {
			send_raw(r, q, it->mime, it->mime_len,
				 "message/rfc822");
			break;
		}
		rep.data =
		    mbox_item_data(r, it, q->body_preferences,
				   q->n_body_preferences, q->mime_support);
		if (rep.data == NULL)
			break;
		rep.status = RPC__STATUS__STATUS_OK;
		mbox_reply(r, &rep.base);
		break;
	case RPC__FETCH_KIND__FETCH_ATTACHMENT:
		fetch_attachment(r, st, q, &hold);
		break;
	default:
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "unknown fetch kind");
		break;
	}
	hold_free(&hold);
}

void
mbox_rpc_move_items(struct mbox_req *r)
{
	Rpc__MoveItemsRequest *q = (void *)r->msg;
	Rpc__MoveItemsReply rep;
	rpc__move_items_reply__init(&rep);
	struct store *st;

	/* ItemOperations Move of a conversation (rpc_itemops.c). */
	if (q->conversation_id.len > 0 && q->n_moves == 0 &&
	    valid_device(q->device_id)) {
		mbox_rpc_move_conversation(r);
		return;
	}
	/* MS-ASCMD 3.1.5.10: at most MOVEITEMS_MAX_MOVES (the CAS answers
	 * Status 103 above it; this bounds the reply for any peer). */
	if (!valid_device(q->device_id) || q->n_moves > MOVEITEMS_MAX_MOVES) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "bad device id or too many moves");
		return;
	}
	st = open_store(r);
	if (st == NULL)
		return;
	rep.results = mbox_alloc(r, (q->n_moves + 1) * sizeof(*rep.results));
	if (rep.results == NULL)
		return;
	for (size_t i = 0; i < q->n_moves; i++) {
		const Rpc__MoveItem *m = q->moves[i];
		Rpc__MoveResult *res = mbox_alloc(r, sizeof(*res));
		struct item *it = NULL;
		struct folder f;
		int64_t id, src, dst, modseq = 0;
		bool dst_ok;

		if (res == NULL)
			return;
		rpc__move_result__init(res);
		res->src_message_id = m->src_message_id;
		res->dst_message_id = "";
		rep.results[rep.n_results++] = res;
		/* MS-ASCMD 2.2.3.177.10: the source must be where the item
		 * is; everything resolved in this user's store. */
		res->status = RPC__STATUS__STATUS_NOT_FOUND;
		dst_ok = mbox_parse_id(m->dst_folder_id, &dst) &&
			 store_folder_get(st, dst, &f) == 0;
		if (dst_ok)
			folder_clear(&f);
		if (!mbox_parse_id(m->src_message_id, &id) ||
		    !mbox_parse_id(m->src_folder_id, &src) ||
		    store_item_get(st, id, 0, &it) < 0 ||
		    it->folder_id != src) {
			item_free(&it);
			res->error = RPC__MOVE_ERROR__MOVE_ERROR_SOURCE;
			continue;
		}
		item_free(&it);
		if (!dst_ok) {
			res->error = RPC__MOVE_ERROR__MOVE_ERROR_DESTINATION;
			continue;
		}
		if (src == dst) {
			res->status = RPC__STATUS__STATUS_INVALID;
			res->error = RPC__MOVE_ERROR__MOVE_ERROR_SAME;
			continue;
		}
		if (store_sync_client_move(st, q->device_id, id, dst, &modseq) <
		    0) {
			res->status = mbox_status_from_store(
			    store_last_error(st)->status);
			/* The only STORE_INVALID left: another class. */
			if (res->status == RPC__STATUS__STATUS_INVALID)
				res->error = RPC__MOVE_ERROR__MOVE_ERROR_CLASS;
			continue;
		}
		res->status = RPC__STATUS__STATUS_OK;
		res->dst_message_id = (char *)(uintptr_t)m->src_message_id;
		notify_changed(r->ctx, r->user, dst, modseq);
		if (store_folder_modseq(st, src, &modseq) == 0)
			notify_changed(r->ctx, r->user, src, modseq);
	}
	rep.status = RPC__STATUS__STATUS_OK;
	mbox_reply(r, &rep.base);
}
