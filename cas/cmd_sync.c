/*
 * Sync (MS-ASCMD 2.2.1.21), email class.  After the request pipeline
 * (cas/request.h) the body is decoded (cas/sync_req.h) and, for 12.1+,
 * completed from the device's cached previous request (empty and partial
 * Sync; Status 13 when this CAS has none).  Then, collection by
 * collection: the client's Commands go to the mailbox in one ApplyChanges
 * (Change of Read/Flag/Categories, Delete with DeletesAsMoves, Fetch),
 * the server's changes come back from GetChanges (the SyncKey is passed
 * exactly as the client sent it: the mailbox replays the previous key's
 * changes, reliability G4), and the collection is encoded into the
 * response at once (cas/sync_resp.h).
 *
 * The response is streamed (checklist ★): each collection, each item, is
 * flushed to the client as it is produced, and while a mailbox call is
 * outstanding a keep-alive timer sends a redundant WBXML SWITCH_PAGE every
 * sync_keepalive_s seconds (watch.h settings), so a client's read timeout
 * (Gmail: ~30 s) never fires on a slow mailbox.  The encoder is shared by
 * the mailbox loop thread (results) and the HTTP ticker (keep-alives):
 * one mutex per request serialises them.
 *
 * Sync with Wait (minutes) or HeartbeatInterval (seconds), when the
 * request carries no client commands: the mailbox is asked with PingCheck
 * first (no sync key is issued); with no change the request is held in
 * the watch table like a Ping, then synced normally when a change arrives,
 * or answered with an empty body at expiry (MS-ASCMD 2.2.3.198: the client
 * keeps its keys and re-sends).
 *
 * 16.0 drafts: an Email Add, or a Change carrying draft fields or Send,
 * goes to the mailbox with the draft (fill_draft), which accepts it only
 * in Drafts (elsewhere: Status 6).  Email Adds before 16.0 and Adds /
 * Changes of other classes are answered Status 6 without reaching the
 * mailbox: those encoders are not here yet.
 */
#include "cas/calendar_wbxml.h"
#include "cas/dispatch.h"
#include "cas/email_wbxml.h"
#include "cas/request.h"
#include "cas/sync_req.h"
#include "cas/sync_resp.h"
#include "cas/watch.h"
#include "cas/wbxml_resp.h"
#include "proto/log.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct sync_ctx {
	struct cas_request *r;
	struct cas_http *http;
	uint64_t user;
	char device_id[ASHTTP_MAX_DEVICE_ID_BYTES + 1];
	unsigned version;
	struct sync_request *req;
	size_t idx; /* collection being worked on */
	/* Results of the current collection's client commands. */
	struct sync_result *results;
	size_t n_results;
	Rpc__ApplyChangesReply *apply; /* owned copy (results point in) */
	/* Output; lock serialises the loop thread and the ticker. */
	pthread_mutex_t lock;
	struct cas_wbxml_stream stream;
	bool opened;
	bool finished;
	struct tw_timer ka;
	unsigned ka_s;
	/* The collection being written: its items may be written over
	 * several passes when the client reads slowly (pacing). */
	Rpc__GetChangesReply *changes; /* owned copy while paused */
	size_t item;
	bool cmds_open;
	char key[SYNC_MAX_KEY_BYTES + 1];
	struct tw_timer pace;
	/* PingCheckReply.folder_modseqs of a held Sync, or NULL. */
	uint64_t *since_modseqs;
	atomic_int refs; /* the flow + the keep-alive timer */
};

/* Pacing: a slow reader must not make the stream buffer a whole window
 * (cas_req_stream_write refuses more than CAS_STREAM_MAX_BUFFERED_BYTES).
 * Above this many unsent bytes the writer pauses between items and looks
 * again a tick later.  Trade-off: one item is written whole, so an item
 * larger than the gap to the hard bound (a huge untruncated MIME body)
 * still fails the stream; the 1 s tick bounds a paced stream at about
 * this many bytes per second. */
#define SYNC_STREAM_HIGH_WATER_BYTES (CAS_STREAM_MAX_BUFFERED_BYTES / 4u * 3u)

static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static struct sync_cache *cache;

static void
cache_init(void)
{
	cache = sync_cache_new(SYNC_CACHE_MAX_DEVICES);
}

static void
results_clear(struct sync_ctx *c)
{
	free(c->results);
	c->results = NULL;
	c->n_results = 0;
	if (c->apply != NULL)
		rpc__apply_changes_reply__free_unpacked(c->apply, NULL);
	c->apply = NULL;
}

/* Drop n references at once (one call per path keeps the ownership
 * visible to the static analyzer). */
static void
ctx_put(struct sync_ctx *c, int n)
{
	if (atomic_fetch_sub(&c->refs, n) != n)
		return;
	results_clear(c);
	if (c->changes != NULL)
		rpc__get_changes_reply__free_unpacked(c->changes, NULL);
	sync_req_free(&c->req);
	free(c->since_modseqs);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Answer with a whole buffered document carrying a global status. */
static void
answer_status(struct sync_ctx *c, enum sync_status st, uint32_t limit)
{
	struct cas_wbxml_out out;

	cas_wbxml_out_init(&out);
	sync_resp_status_doc(&out.enc, st, limit);
	cas_request_send(c->r, &out);
	c->r = NULL;
	ctx_put(c, 1);
}

/* ---- keep-alive ------------------------------------------------------- */

static void
ka_tick(struct tw_timer *timer, void *arg)
{
	struct sync_ctx *c = arg;
	bool rearm = false;

	(void)timer;
	pthread_mutex_lock(&c->lock);
	if (!c->finished) {
		/* A redundant SWITCH_PAGE: a no-op for the decoder, bytes
		 * on the wire for the client's read timer. */
		if (wbxml_enc_keepalive(&c->stream.enc) == 0) {
			cas_http_timer_add(c->http, &c->ka, c->ka_s, ka_tick,
					   c);
			rearm = true;
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (!rearm)
		ctx_put(c, 1); /* the timer's reference */
}

/* ---- the end ------------------------------------------------------------ */

static void
finish(struct sync_ctx *c)
{
	int drop = 1; /* the flow's reference */

	pthread_mutex_lock(&c->lock);
	c->finished = true;
	if (!c->opened) {
		wbxml_enc_start(&c->stream.enc, EAS_AIRSYNC_SYNC);
		wbxml_enc_start(&c->stream.enc, EAS_AIRSYNC_COLLECTIONS);
		c->opened = true;
	}
	wbxml_enc_end(&c->stream.enc); /* Collections */
	wbxml_enc_end(&c->stream.enc); /* Sync */
	if (cas_wbxml_stream_finish(&c->stream) != 0)
		log_warn("sync: response for device %s not completed",
			 c->device_id);
	pthread_mutex_unlock(&c->lock);
	if (cas_http_timer_cancel(c->http, &c->ka))
		drop++; /* the keep-alive timer's reference */
	sync_req_free(&c->req);
	cas_request_done(c->r);
	c->r = NULL;
	ctx_put(c, drop);
}

static void next_collection(struct sync_ctx *c);

/* Collection idx is written: remember its key, go to the next. */
static void
collection_done(struct sync_ctx *c, bool ok_key)
{
	struct sync_collection *coll = &c->req->collections[c->idx];
	bool failed;

	pthread_mutex_lock(&c->lock);
	failed = wbxml_enc_error(&c->stream.enc) != WBXML_ERR_NONE;
	pthread_mutex_unlock(&c->lock);
	if (ok_key && c->key[0] != '\0' && cache != NULL)
		sync_cache_set_key(cache, c->user, c->device_id,
				   coll->collection_id, c->key);
	results_clear(c);
	if (c->changes != NULL)
		rpc__get_changes_reply__free_unpacked(c->changes, NULL);
	c->changes = NULL;
	c->item = 0;
	c->idx++;
	if (failed) {
		/* The client is gone or the encoder failed: stop asking. */
		c->idx = c->req->n_collections;
	}
	next_collection(c);
}

static void pace_tick(struct tw_timer *timer, void *arg);

/* Write items of changes from c->item on; pause when the client lags.
 * Returns true when the collection is complete. */
static bool
write_items(struct sync_ctx *c, const Rpc__GetChangesReply *changes)
{
	struct sync_collection *coll = &c->req->collections[c->idx];
	bool paused = false;

	pthread_mutex_lock(&c->lock);
	while (c->cmds_open && changes != NULL &&
	       c->item < changes->n_changes) {
		if (wbxml_enc_error(&c->stream.enc) != WBXML_ERR_NONE)
			break;
		if (c->stream.begun && cas_req_stream_pending(c->r->req) >
					   SYNC_STREAM_HIGH_WATER_BYTES) {
			paused = true;
			break;
		}
		sync_resp_item(&c->stream.enc, c->version, coll,
			       changes->changes[c->item]);
		c->item++;
	}
	if (!paused)
		sync_resp_collection_close(&c->stream.enc, c->cmds_open);
	wbxml_enc_flush(&c->stream.enc);
	pthread_mutex_unlock(&c->lock);
	return !paused;
}

/* Keep our own copy of a borrowed reply (it dies with its callback). */
static Rpc__GetChangesReply *
copy_changes(const Rpc__GetChangesReply *reply)
{
	size_t len = rpc__get_changes_reply__get_packed_size(reply);
	uint8_t *packed = malloc(len > 0 ? len : 1);
	Rpc__GetChangesReply *copy = NULL;

	if (packed == NULL)
		return NULL;
	rpc__get_changes_reply__pack(reply, packed);
	copy = rpc__get_changes_reply__unpack(NULL, len, packed);
	free(packed);
	return copy;
}

/* The pacing timer runs inside the flow (which cannot finish while it is
 * armed), so it takes no reference of its own. */
static void
pace(struct sync_ctx *c)
{
	cas_http_timer_add(c->http, &c->pace, 1, pace_tick, c);
}

static void
pace_tick(struct tw_timer *timer, void *arg)
{
	struct sync_ctx *c = arg;

	(void)timer;
	if (write_items(c, c->changes))
		collection_done(c, true);
	else
		pace(c);
}

/* Encode collection idx with its status and what the mailbox said. */
static void
emit(struct sync_ctx *c, enum sync_status st, const char *key,
     const Rpc__GetChangesReply *changes)
{
	struct sync_collection *coll = &c->req->collections[c->idx];

	c->key[0] = '\0';
	if (key != NULL && strlen(key) <= SYNC_MAX_KEY_BYTES)
		memcpy(c->key, key, strlen(key) + 1);
	c->item = 0;
	c->cmds_open = st == SYNC_STATUS_OK && sync_resp_has_commands(changes);
	pthread_mutex_lock(&c->lock);
	if (!c->opened) {
		wbxml_enc_start(&c->stream.enc, EAS_AIRSYNC_SYNC);
		wbxml_enc_start(&c->stream.enc, EAS_AIRSYNC_COLLECTIONS);
		c->opened = true;
	}
	sync_resp_collection_open(&c->stream.enc, c->version, coll, st, c->key,
				  c->results, c->n_results,
				  changes != NULL && changes->more_available,
				  c->cmds_open);
	pthread_mutex_unlock(&c->lock);
	if (!c->cmds_open || write_items(c, changes)) {
		if (!c->cmds_open) {
			pthread_mutex_lock(&c->lock);
			sync_resp_collection_close(&c->stream.enc, false);
			wbxml_enc_flush(&c->stream.enc);
			pthread_mutex_unlock(&c->lock);
		}
		collection_done(c, st == SYNC_STATUS_OK);
		return;
	}
	/* Paused: keep the rest of the reply for the next tick. */
	c->changes = copy_changes(changes);
	if (c->changes == NULL) {
		/* The new SyncKey is out but not all its items: break the
		 * document so the client retries with its old key, which
		 * replays the same changes (reliability G4). */
		pthread_mutex_lock(&c->lock);
		c->stream.failed = true;
		sync_resp_collection_close(&c->stream.enc, true);
		wbxml_enc_flush(&c->stream.enc);
		pthread_mutex_unlock(&c->lock);
		collection_done(c, false);
		return;
	}
	pace(c);
}

/* ---- GetChanges --------------------------------------------------------- */

static void
on_changes(void *arg, Rpc__Status status, const ProtobufCMessage *msg)
{
	struct sync_ctx *c = arg;
	const Rpc__GetChangesReply *reply = (const Rpc__GetChangesReply *)msg;

	if (reply == NULL || status != RPC__STATUS__STATUS_OK) {
		enum sync_status st = sync_resp_map_status(status);

		/* MS-ASCMD 2.2.3.177.17 Status 3: the client restarts at
		 * SyncKey 0; an unknown collection is a stale hierarchy. */
		if (st == SYNC_STATUS_NOT_FOUND)
			st = SYNC_STATUS_HIERARCHY_CHANGED;
		emit(c, st, st == SYNC_STATUS_INVALID_SYNC_KEY ? "0" : NULL,
		     NULL);
		return;
	}
	emit(c, SYNC_STATUS_OK, reply->sync_key,
	     sync_req_get_changes(&c->req->collections[c->idx]) ? reply : NULL);
}

static void
get_changes(struct sync_ctx *c)
{
	const struct sync_collection *coll = &c->req->collections[c->idx];
	Rpc__GetChangesRequest g;
	Rpc__BodyPreference prefs[SYNC_MAX_BODY_PREFS + 1];
	Rpc__BodyPreference *pp[SYNC_MAX_BODY_PREFS + 1];
	size_t n = 0;

	rpc__get_changes_request__init(&g);
	g.user = c->user;
	g.device_id = c->device_id;
	g.collection_id = (char *)(uintptr_t)coll->collection_id;
	g.sync_key = (char *)(uintptr_t)coll->sync_key;
	g.window_size = sync_req_window(c->req, coll);
	g.item_class =
	    (char *)(uintptr_t)(coll->class[0] != '\0' ? coll->class : "Email");
	g.get_changes = sync_req_get_changes(coll);
	g.conversation_mode =
	    coll->has_conversation_mode && coll->conversation_mode;
	if (coll->has_options) {
		const struct sync_options *o = &coll->options;

		g.filter_type = o->has_filter_type ? o->filter_type : 0;
		g.mime_support = o->has_mime_support ? o->mime_support : 0;
		g.mime_truncation =
		    o->has_mime_truncation ? o->mime_truncation : 0;
		for (size_t i = 0; i < o->n_body_prefs; i++) {
			rpc__body_preference__init(&prefs[n]);
			prefs[n].type = o->body_prefs[i].type;
			prefs[n].truncation_size =
			    o->body_prefs[i].truncation_size;
			prefs[n].all_or_none = o->body_prefs[i].all_or_none;
			prefs[n].preview = o->body_prefs[i].preview;
			pp[n] = &prefs[n];
			n++;
		}
		/* 2.5: plain text cut at the Truncation code's size. */
		if (n == 0 && o->has_truncation) {
			uint32_t t =
			    email_wbxml_truncation_bytes(o->truncation);

			rpc__body_preference__init(&prefs[n]);
			prefs[n].type = SYNC_BODY_PLAIN;
			prefs[n].truncation_size =
			    t == EMAIL_WBXML_NO_TRUNCATION ? 0 : t;
			pp[n] = &prefs[n];
			n++;
		}
	}
	g.body_preferences = pp;
	g.n_body_preferences = n;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_GET_CHANGES,
		      &g.base, 0, on_changes, c) != 0)
		emit(c, SYNC_STATUS_SERVER_ERROR, NULL, NULL);
}

/* ---- ApplyChanges -------------------------------------------------------- */

static void
on_apply(void *arg, Rpc__Status status, const ProtobufCMessage *msg)
{
	struct sync_ctx *c = arg;
	const Rpc__ApplyChangesReply *reply =
	    (const Rpc__ApplyChangesReply *)msg;
	enum sync_status fail_st = sync_resp_map_status(status);
	size_t next = 0;
	uint8_t *packed = NULL;
	size_t len;

	if (reply != NULL && status == RPC__STATUS__STATUS_OK) {
		/* Keep our own copy: the reply dies with this callback. */
		len = rpc__apply_changes_reply__get_packed_size(reply);
		packed = malloc(len > 0 ? len : 1);
		if (packed != NULL) {
			rpc__apply_changes_reply__pack(reply, packed);
			c->apply =
			    rpc__apply_changes_reply__unpack(NULL, len, packed);
		}
		free(packed);
		if (c->apply == NULL)
			fail_st = SYNC_STATUS_SERVER_ERROR;
	}
	/* Results of forwarded commands are in request order, after the
	 * ones answered locally (which already have a status). */
	for (size_t i = 0; i < c->n_results; i++) {
		struct sync_result *res = &c->results[i];

		if (res->status != 0)
			continue;
		if (c->apply == NULL || next >= c->apply->n_results) {
			res->status = fail_st == SYNC_STATUS_OK
					  ? SYNC_STATUS_SERVER_ERROR
					  : fail_st;
			continue;
		}
		res->status =
		    sync_resp_map_status(c->apply->results[next]->status);
		if (res->op == SYNC_OP_ADD &&
		    c->apply->results[next]->server_id != NULL)
			res->server_id = c->apply->results[next]->server_id;
		res->data = c->apply->results[next]->data;
		next++;
	}
	if (status == RPC__STATUS__STATUS_INVALID_SYNC_KEY) {
		emit(c, SYNC_STATUS_INVALID_SYNC_KEY, "0", NULL);
		return;
	}
	get_changes(c);
}

static bool
is_email_coll(const struct sync_collection *coll)
{
	return coll->class[0] == '\0' || strcmp(coll->class, "Email") == 0;
}

/* The Read, Flag and Categories the client set into m, with a property
 * per field present (appended to props/pp from n) so the mailbox can tell
 * "unset" from "false"; the new property count. */
static size_t
email_flag_fields(const struct sync_email_change *ec, Rpc__Email *m,
		  Rpc__EmailFlag *f, Rpc__Property *props, Rpc__Property **pp,
		  size_t n)
{
	static uint8_t one = '1', zero = '0';

	if (ec->read >= 0) {
		m->read = ec->read == 1;
		rpc__property__init(&props[n]);
		props[n].key = "Read";
		props[n].value.data = ec->read == 1 ? &one : &zero;
		props[n].value.len = 1;
		pp[n] = &props[n];
		n++;
	}
	if (ec->has_flag) {
		rpc__email_flag__init(f);
		f->status = ec->flag_cleared ? 0 : ec->flag_status;
		f->flag_type =
		    (char *)(uintptr_t)(ec->flag_type != NULL ? ec->flag_type
							      : "");
		f->start_date = ec->flag_start_s;
		f->due_date = ec->flag_due_s;
		f->complete_time = ec->flag_complete_s;
		m->flag = f;
		rpc__property__init(&props[n]);
		props[n].key = "Flag";
		pp[n] = &props[n];
		n++;
	}
	if (ec->has_categories) {
		m->categories = (char **)(uintptr_t)ec->categories;
		m->n_categories = ec->n_categories;
		rpc__property__init(&props[n]);
		props[n].key = "Categories";
		pp[n] = &props[n];
		n++;
	}
	return n;
}

/* Fill one email Change: the fields the client set. */
static void
fill_email_change(const struct sync_email_change *ec, Rpc__ItemData *d,
		  Rpc__Email *m, Rpc__EmailFlag *f, Rpc__Property *props,
		  Rpc__Property **pp)
{
	rpc__item_data__init(d);
	rpc__email__init(m);
	d->email = m;
	d->properties = pp;
	d->n_properties = email_flag_fields(ec, m, f, props, pp, 0);
}

/* Per forwarded command: the RPC pieces it points at. */
struct apply_parts {
	Rpc__ClientChange cc;
	Rpc__ItemData data;
	Rpc__Email email;
	Rpc__EmailFlag flag;
	Rpc__Property props[9]; /* 6 draft fields + Read, Flag, Categories */
	Rpc__Property *pp[9];
	Rpc__Body body;
	Rpc__Attachment *atts; /* draft attachments (owned) */
	Rpc__Attachment **patts;
	Rpc__Calendar *cal; /* calendar: a decoded event (owned) */
	Rpc__Body *cal_body;
};

/* A 16.0 draft: its fields, a property naming each one present (so the
 * mailbox tells "cleared" from "unchanged"), the attachments to add and
 * the FileReferences to delete.  -1 out of memory. */
static int
fill_draft(const struct sync_draft *dr, struct apply_parts *p)
{
	size_t n = 0;
	Rpc__Email *m = &p->email;
	const struct {
		const char *key;
		const char *value;
		char **dst;
	} fields[] = {{"To", dr->to, &m->to},
		      {"Cc", dr->cc, &m->cc},
		      {"Bcc", dr->bcc, &m->bcc},
		      {"Subject", dr->subject, &m->subject}};

	rpc__item_data__init(&p->data);
	rpc__email__init(m);
	p->data.email = m;
	p->data.draft = true;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (fields[i].value == NULL)
			continue;
		*fields[i].dst = (char *)(uintptr_t)fields[i].value;
		rpc__property__init(&p->props[n]);
		p->props[n].key = (char *)(uintptr_t)fields[i].key;
		p->pp[n] = &p->props[n];
		n++;
	}
	if (dr->importance >= 0) {
		m->importance = (uint32_t)dr->importance;
		rpc__property__init(&p->props[n]);
		p->props[n].key = "Importance";
		p->pp[n] = &p->props[n];
		n++;
	}
	if (dr->has_body) {
		rpc__body__init(&p->body);
		p->body.type = dr->body_type;
		p->body.data.data = (uint8_t *)(uintptr_t)dr->body;
		p->body.data.len = dr->body_len;
		m->body = &p->body;
		rpc__property__init(&p->props[n]);
		p->props[n].key = "Body";
		p->pp[n] = &p->props[n];
		n++;
	}
	p->data.properties = p->pp;
	p->data.n_properties = n;
	if (dr->n_add > 0) {
		p->atts = calloc(dr->n_add, sizeof(*p->atts));
		p->patts = calloc(dr->n_add, sizeof(*p->patts));
		if (p->atts == NULL || p->patts == NULL)
			return -1;
		for (size_t i = 0; i < dr->n_add; i++) {
			const struct sync_draft_att *a = &dr->add[i];
			Rpc__Attachment *r = &p->atts[i];

			rpc__attachment__init(r);
			r->client_id = (char *)(uintptr_t)a->client_id;
			if (a->display_name != NULL)
				r->display_name =
				    (char *)(uintptr_t)a->display_name;
			if (a->content_type != NULL)
				r->content_type =
				    (char *)(uintptr_t)a->content_type;
			if (a->content_id != NULL)
				r->content_id =
				    (char *)(uintptr_t)a->content_id;
			r->method = a->method;
			r->is_inline = a->is_inline;
			r->content.data = (uint8_t *)(uintptr_t)a->content;
			r->content.len = a->content_len;
			p->patts[i] = r;
		}
		m->attachments = p->patts;
		m->n_attachments = dr->n_add;
	}
	p->cc.send = dr->send;
	p->cc.delete_attachments = (char **)(uintptr_t)dr->del;
	p->cc.n_delete_attachments = dr->n_delete;
	p->cc.data = &p->data;
	return 0;
}

/* calendar: an event Add or Change (MS-ASCAL).  1 filled, 0 the event
 * does not decode (the command's Status 6), -1 out of memory. */
static int
fill_event(struct sync_ctx *c, const struct sync_command *cmd,
	   struct apply_parts *p)
{
	const char *error = NULL;

	if (cmd->op != SYNC_OP_ADD && cmd->op != SYNC_OP_CHANGE)
		return 0;
	if (calendar_wbxml_decode(cmd->app_data, c->version, &p->cal,
				  &p->cal_body, &error) != 0) {
		log_info("user %" PRIu64 " device %s: calendar item refused: "
			 "%s",
			 c->user, c->device_id, error);
		return strcmp(error, "out of memory") == 0 ? -1 : 0;
	}
	rpc__client_change__init(&p->cc);
	rpc__item_data__init(&p->data);
	p->data.calendar = p->cal;
	p->data.body = p->cal_body;
	p->cc.data = &p->data;
	p->cc.server_id =
	    (char *)(uintptr_t)(cmd->server_id != NULL ? cmd->server_id : "");
	p->cc.client_id =
	    (char *)(uintptr_t)(cmd->client_id != NULL ? cmd->client_id : "");
	p->cc.instance_start = cmd->instance_start;
	p->cc.op = cmd->op == SYNC_OP_ADD ? RPC__APPLY_OP__APPLY_ADD
					  : RPC__APPLY_OP__APPLY_CHANGE;
	return 1;
}

static void
parts_free(struct apply_parts *parts, size_t n)
{
	for (size_t i = 0; parts != NULL && i < n; i++) {
		free(parts[i].atts);
		free(parts[i].patts);
		calendar_wbxml_free(&parts[i].cal, &parts[i].cal_body);
	}
	free(parts);
}

static void
apply_commands(struct sync_ctx *c)
{
	struct sync_collection *coll = &c->req->collections[c->idx];
	struct apply_parts *parts = NULL;
	Rpc__ClientChange **ccs = NULL;
	Rpc__ApplyChangesRequest a;
	Rpc__BodyPreference prefs[SYNC_MAX_BODY_PREFS];
	Rpc__BodyPreference *pp[SYNC_MAX_BODY_PREFS];
	size_t n = 0;
	bool email = is_email_coll(coll);

	c->results = calloc(coll->n_commands, sizeof(*c->results));
	parts = calloc(coll->n_commands, sizeof(*parts));
	ccs = calloc(coll->n_commands, sizeof(*ccs));
	if (c->results == NULL || parts == NULL || ccs == NULL)
		goto fail;
	c->n_results = coll->n_commands;
	for (size_t i = 0; i < coll->n_commands; i++) {
		const struct sync_command *cmd = &coll->commands[i];
		struct sync_result *res = &c->results[i];
		struct apply_parts *p = &parts[n];

		res->op = cmd->op;
		res->client_id = cmd->client_id;
		res->server_id = cmd->server_id;
		/* calendar: events of any folder go to the mailbox, which
		 * refuses them outside Calendar folders (Status 6). */
		if (calendar_wbxml_is_event(cmd->app_data)) {
			int rc = fill_event(c, cmd, p);

			if (rc < 0)
				goto fail;
			if (rc == 0) {
				res->status = SYNC_STATUS_CONVERSION_ERROR;
				continue;
			}
			ccs[n++] = &p->cc;
			continue;
		}
		/* Email Adds are 16.0 drafts; other classes' items need
		 * their own encoders: Status 6 (conversion error). */
		if ((cmd->op == SYNC_OP_ADD &&
		     !(email && cmd->draft.present)) ||
		    (cmd->op == SYNC_OP_CHANGE && !email)) {
			res->status = SYNC_STATUS_CONVERSION_ERROR;
			continue;
		}
		rpc__client_change__init(&p->cc);
		p->cc.server_id = (char *)(uintptr_t)cmd->server_id;
		if (email && cmd->draft.present) {
			p->cc.op = cmd->op == SYNC_OP_ADD
				       ? RPC__APPLY_OP__APPLY_ADD
				       : RPC__APPLY_OP__APPLY_CHANGE;
			p->cc.client_id =
			    (char *)(uintptr_t)(cmd->client_id != NULL
						    ? cmd->client_id
						    : "");
			n++; /* parts[n - 1] now owns its attachments */
			if (fill_draft(&cmd->draft, p) != 0)
				goto fail;
			/* Read, Flag, Categories in the same Change. */
			if (cmd->op == SYNC_OP_CHANGE)
				p->data.n_properties = email_flag_fields(
				    &cmd->email, &p->email, &p->flag, p->props,
				    p->pp, p->data.n_properties);
			ccs[n - 1] = &p->cc;
			continue;
		}
		switch (cmd->op) {
		case SYNC_OP_CHANGE:
			p->cc.op = RPC__APPLY_OP__APPLY_CHANGE;
			fill_email_change(&cmd->email, &p->data, &p->email,
					  &p->flag, p->props, p->pp);
			p->cc.data = &p->data;
			break;
		case SYNC_OP_DELETE:
			p->cc.op = RPC__APPLY_OP__APPLY_DELETE;
			/* calendar: 16.0 delete of one occurrence. */
			p->cc.instance_start = cmd->instance_start;
			break;
		default:
			p->cc.op = RPC__APPLY_OP__APPLY_FETCH;
			break;
		}
		ccs[n++] = &p->cc;
	}
	if (n == 0) {
		parts_free(parts, n);
		free(ccs);
		get_changes(c);
		return;
	}
	rpc__apply_changes_request__init(&a);
	a.user = c->user;
	a.device_id = c->device_id;
	a.collection_id = coll->collection_id;
	a.sync_key = coll->sync_key;
	a.item_class = (char *)(uintptr_t)(email ? "Email" : coll->class);
	a.deletes_as_moves = sync_req_deletes_as_moves(coll);
	a.changes = ccs;
	a.n_changes = n;
	/* MS-ASCMD 2.2.3.34: Conflict defaults to 1 (server wins). */
	a.conflict = 1;
	if (coll->has_options) {
		const struct sync_options *o = &coll->options;

		a.mime_support = o->mime_support;
		if (o->has_conflict)
			a.conflict = o->conflict;
		for (size_t i = 0; i < o->n_body_prefs; i++) {
			rpc__body_preference__init(&prefs[i]);
			prefs[i].type = o->body_prefs[i].type;
			prefs[i].truncation_size =
			    o->body_prefs[i].truncation_size;
			prefs[i].all_or_none = o->body_prefs[i].all_or_none;
			prefs[i].preview = o->body_prefs[i].preview;
			pp[i] = &prefs[i];
		}
		/* Fetched items come with the collection's preferences. */
		a.body_preferences = pp;
		a.n_body_preferences = o->n_body_prefs;
	}
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_APPLY_CHANGES,
		      &a.base, 0, on_apply, c) != 0)
		goto fail;
	parts_free(parts, n);
	free(ccs);
	return;
fail:
	parts_free(parts, n);
	free(ccs);
	for (size_t i = 0; c->results != NULL && i < c->n_results; i++)
		if (c->results[i].status == 0)
			c->results[i].status = SYNC_STATUS_SERVER_ERROR;
	get_changes(c);
}

static void
next_collection(struct sync_ctx *c)
{
	const struct sync_collection *coll;

	if (c->req == NULL || c->idx >= c->req->n_collections) {
		finish(c);
		return;
	}
	coll = &c->req->collections[c->idx];
	if (coll->n_commands > 0 && strcmp(coll->sync_key, "0") != 0)
		apply_commands(c);
	else
		get_changes(c);
}

static void
start_sync(struct sync_ctx *c)
{
	cas_wbxml_stream_init(&c->stream, c->r->req);
	atomic_fetch_add(&c->refs, 1); /* the keep-alive timer */
	cas_http_timer_add(c->http, &c->ka, c->ka_s, ka_tick, c);
	next_collection(c);
}

/* ---- held Sync (Wait / HeartbeatInterval) ------------------------------- */

static void
on_hold_end(void *ctx, enum watch_end why, const char *const *changed,
	    size_t n_changed)
{
	struct sync_ctx *c = ctx;

	(void)changed;
	(void)n_changed;
	switch (why) {
	case WATCH_CHANGED:
		start_sync(c);
		break;
	case WATCH_HIERARCHY:
		answer_status(c, SYNC_STATUS_HIERARCHY_CHANGED, 0);
		break;
	default:
		/* Nothing changed: an empty response, the client keeps its
		 * keys (MS-ASCMD 2.2.3.198). */
		cas_request_respond_empty(c->r);
		c->r = NULL;
		ctx_put(c, 1);
		break;
	}
}

static void
on_hold_cancel(struct cas_req *req, enum cas_req_end why, void *ctx)
{
	struct watch *w = watch_shared(NULL, NULL);
	void *owned = NULL;
	struct sync_ctx *c;

	(void)req;
	if (w == NULL || !watch_remove(w, (uint64_t)(uintptr_t)ctx, &owned))
		return;
	c = owned;
	if (why == CAS_REQ_SHUTDOWN)
		cas_request_respond_empty(c->r);
	else
		cas_request_done(c->r);
	c->r = NULL;
	ctx_put(c, 1);
}

static void
hold(struct sync_ctx *c)
{
	struct cas_req *req = c->r->req;
	struct watch *w = watch_shared(c->http, cas_request_mbox());
	const char **folders = calloc(c->req->n_collections, sizeof(char *));
	struct watch_params p;
	uint64_t id;

	if (w == NULL || folders == NULL) {
		free(folders);
		answer_status(c, SYNC_STATUS_SERVER_ERROR, 0);
		return;
	}
	for (size_t i = 0; i < c->req->n_collections; i++)
		folders[i] = c->req->collections[i].collection_id;
	memset(&p, 0, sizeof(p));
	p.user = c->user;
	p.device_id = c->device_id;
	p.folders = folders;
	p.n_folders = c->req->n_collections;
	p.heartbeat_s = sync_req_hold_s(c->req);
	p.since_modseqs = c->since_modseqs;
	p.fn = on_hold_end;
	p.ctx = c;
	cas_req_ref(req);
	if (watch_add(w, &p, &id) != 0) {
		free(folders);
		cas_req_unref(&req);
		answer_status(c, SYNC_STATUS_SERVER_ERROR, 0);
		return;
	}
	free(folders);
	cas_req_on_cancel(req, on_hold_cancel, (void *)(uintptr_t)id);
	cas_req_unref(&req);
}

static void
on_check(void *arg, Rpc__Status status, const ProtobufCMessage *msg)
{
	struct sync_ctx *c = arg;
	const Rpc__PingCheckReply *reply = (const Rpc__PingCheckReply *)msg;

	/* Anything but a clean "nothing changed" syncs at once: the sync
	 * itself reports errors per collection. */
	if (reply == NULL || status != RPC__STATUS__STATUS_OK ||
	    reply->n_changed > 0 || reply->n_not_found > 0 ||
	    reply->hierarchy_changed) {
		start_sync(c);
		return;
	}
	free(c->since_modseqs);
	c->since_modseqs =
	    watch_since_copy(reply->folder_modseqs, reply->n_folder_modseqs,
			     c->req->n_collections);
	hold(c);
}

/* Hold only a request that asks nothing but changes of primed keys. */
static bool
may_hold(const struct sync_request *req)
{
	if (sync_req_hold_s(req) == 0 || req->n_collections == 0)
		return false;
	for (size_t i = 0; i < req->n_collections; i++) {
		const struct sync_collection *coll = &req->collections[i];

		if (coll->n_commands > 0 || !sync_req_get_changes(coll))
			return false;
	}
	return true;
}

static void
check_then_hold(struct sync_ctx *c)
{
	Rpc__PingCheckRequest pc;
	Rpc__PingCollection *colls;
	Rpc__PingCollection **pp;
	size_t n = c->req->n_collections;

	colls = calloc(n, sizeof(*colls));
	pp = calloc(n, sizeof(*pp));
	if (colls == NULL || pp == NULL)
		goto fail;
	rpc__ping_check_request__init(&pc);
	pc.user = c->user;
	pc.device_id = c->device_id;
	for (size_t i = 0; i < n; i++) {
		struct sync_collection *coll = &c->req->collections[i];

		rpc__ping_collection__init(&colls[i]);
		colls[i].collection_id = coll->collection_id;
		colls[i].item_class = coll->class;
		pp[i] = &colls[i];
	}
	pc.collections = pp;
	pc.n_collections = n;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_PING_CHECK,
		      &pc.base, 0, on_check, c) != 0)
		goto fail;
	free(colls);
	free(pp);
	return;
fail:
	free(colls);
	free(pp);
	start_sync(c);
}

/* ---- entry ------------------------------------------------------------- */

static void
sync_run(struct cas_request *r)
{
	struct watch_settings ws;
	struct sync_ctx *c;
	enum sync_status st;
	uint32_t limit = 0;
	const uint8_t *body;
	size_t len;

	pthread_once(&cache_once, cache_init);
	watch_settings_get(&ws);
	c = calloc(1, sizeof(*c));
	if (c == NULL || cache == NULL) {
		free(c);
		cas_request_respond_status(r, SYNC_STATUS_SERVER_ERROR);
		return;
	}
	pthread_mutex_init(&c->lock, NULL);
	atomic_init(&c->refs, 1);
	c->r = r;
	c->http = cas_req_server(r->req);
	c->user = r->user;
	memcpy(c->device_id, r->ash.device_id, sizeof(c->device_id));
	c->version = r->version;
	c->ka_s = ws.sync_keepalive_s > 0 ? ws.sync_keepalive_s
					  : WATCH_DEFAULT_KEEPALIVE_S;
	body = cas_req_body(r->req, &len);
	if (sync_req_decode(body, len, c->version, ws.min_heartbeat_s,
			    ws.max_heartbeat_s, &c->req, &st, &limit) != 0 ||
	    sync_req_merge(cache, c->user, c->device_id, c->version, c->req,
			   &st) != 0) {
		answer_status(c, st, limit);
		return;
	}
	if (c->req->n_collections == 0) {
		/* Partial or heartbeat-only with nothing to sync. */
		answer_status(c, SYNC_STATUS_INCOMPLETE, 0);
		return;
	}
	if (c->version >= 121 &&
	    sync_cache_store(cache, c->user, c->device_id, c->req) != 0)
		log_warn("sync: cannot cache the request of device %s",
			 c->device_id);
	if (may_hold(c->req))
		check_then_hold(c);
	else
		start_sync(c);
}

static void
sync_handler(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, sync_run);
}

CAS_COMMAND(sync_command, .name = "Sync", .min_version = 25,
	    .needs_policy_key = true, .handler = sync_handler)
