/*
 * 16.0 drafts through the mailbox RPC (mailbox/rpc_drafts.c), with the
 * in-process daemon of mbox_harness.h and tests/lib/smtp_sink as relay:
 *  - stable FileReferences: a draft with three attachments, the first
 *    deleted; the references of the others still fetch their own bytes
 *    (also past the per-worker decode cache), the deleted one is not
 *    found, before and after a restart of the daemon; new attachments
 *    never reuse a spent reference, and a Delete naming one fails the
 *    Change (Status 8) without touching the draft;
 *  - a Change that only flips Read or Flag leaves the MIME byte-exact;
 *  - a resent Sync (same key, same commands) is answered from the
 *    recorded outcome with the same bytes, FileReferences included;
 *  - Send: the relay's copy has no Bcc header, the Sent Items copy keeps
 *    Bcc and shows it in Email.bcc.
 * Every wait is bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "tests/lib/smtp_sink.h"
#include "tests/unit/mailbox/mbox_harness.h"

struct env {
	struct smtp_sink *sink;
	struct mbox_harness h;
	struct mbox_client admin, cas;
	uint64_t user;
	char drafts[16], sent[16];
	char key[16];      /* the Drafts sync key to send next */
	char sent_key[16]; /* the Sent Items sync key to send next */
};

static void
clients_open(struct env *e)
{
	assert_int_equal(
	    mbox_client_open(&e->admin, &e->h, RPC__ROLE__ROLE_ADMIN), 0);
	assert_int_equal(mbox_client_open(&e->cas, &e->h, RPC__ROLE__ROLE_CAS),
			 0);
}

static void
clients_close(struct env *e)
{
	mbox_client_close(&e->cas);
	mbox_client_close(&e->admin);
}

static void
folder_ids(struct env *e)
{
	Rpc__FolderListRequest q;
	ProtobufCMessage *rep;
	const Rpc__FolderListReply *l;

	rpc__folder_list_request__init(&q);
	q.user = e->user;
	assert_int_equal(
	    mbox_call(&e->admin, RPC__MSG_TYPE__MSG_FOLDER_LIST, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	l = (const void *)rep;
	for (size_t i = 0; i < l->n_folders; i++) {
		const Rpc__Folder *f = l->folders[i]->folder;

		if (f->type == 3)
			(void)snprintf(e->drafts, sizeof(e->drafts), "%s",
				       f->server_id);
		if (f->type == 5)
			(void)snprintf(e->sent, sizeof(e->sent), "%s",
				       f->server_id);
	}
	mbox_free(rep);
	assert_true(e->drafts[0] != 0 && e->sent[0] != 0);
}

/* One Sync of coll with key *key (updated to the key issued). */
static Rpc__GetChangesReply *
sync_with(struct env *e, const char *coll, char *key, Rpc__ClientChange **cmds,
	  size_t n, Rpc__Status expect)
{
	Rpc__GetChangesRequest q;
	Rpc__BodyPreference pref, *pp = &pref;
	ProtobufCMessage *rep;
	Rpc__GetChangesReply *g;

	rpc__get_changes_request__init(&q);
	rpc__body_preference__init(&pref);
	pref.type = 1;
	q.user = e->user;
	q.device_id = "DRAFTDEV";
	q.collection_id = (char *)(uintptr_t)coll;
	q.sync_key = key;
	q.window_size = 50;
	q.get_changes = strcmp(key, "0") != 0;
	q.commands = cmds;
	q.n_commands = n;
	q.body_preferences = &pp;
	q.n_body_preferences = 1;
	assert_int_equal(
	    mbox_call(&e->cas, RPC__MSG_TYPE__MSG_GET_CHANGES, &q.base, &rep),
	    expect);
	g = (Rpc__GetChangesReply *)(void *)rep;
	(void)snprintf(key, 16, "%s", g->sync_key);
	return g;
}

static void
env_start(struct env *e)
{
	struct smtp_sink_config cfg = {0};
	Rpc__UserAddRequest q;
	ProtobufCMessage *rep;

	memset(e, 0, sizeof(*e));
	e->sink = smtp_sink_start(&cfg);
	assert_non_null(e->sink);
	assert_int_equal(
	    mbox_harness_start(&e->h, smtp_sink_port(e->sink), 1, 2), 0);
	clients_open(e);
	rpc__user_add_request__init(&q);
	q.login = "sam";
	assert_int_equal(
	    mbox_call(&e->admin, RPC__MSG_TYPE__MSG_USER_ADD, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	e->user = ((Rpc__UserReply *)(void *)rep)->info->user;
	mbox_free(rep);
	folder_ids(e);
	(void)snprintf(e->key, sizeof(e->key), "0");
	mbox_free(
	    &sync_with(e, e->drafts, e->key, NULL, 0, RPC__STATUS__STATUS_OK)
		 ->base);
}

static void
env_restart(struct env *e)
{
	clients_close(e);
	assert_int_equal(
	    mbox_harness_restart(&e->h, smtp_sink_port(e->sink), 1, 2), 0);
	clients_open(e);
}

static void
env_stop(struct env *e)
{
	clients_close(e);
	mbox_harness_stop(&e->h);
	smtp_sink_free(&e->sink);
}

/* ---------------------------------------------------- draft commands */

struct draft_cmd {
	Rpc__ClientChange cc;
	Rpc__ItemData data;
	Rpc__Email email;
	Rpc__Property props[4];
	Rpc__Property *pp[4];
	Rpc__Attachment atts[4];
	Rpc__Attachment *pa[4];
};

static void
draft_init(struct draft_cmd *d, Rpc__ApplyOp op, const char *id)
{
	memset(d, 0, sizeof(*d));
	rpc__client_change__init(&d->cc);
	rpc__item_data__init(&d->data);
	rpc__email__init(&d->email);
	d->cc.op = op;
	if (op == RPC__APPLY_OP__APPLY_ADD)
		d->cc.client_id = (char *)(uintptr_t)id;
	else
		d->cc.server_id = (char *)(uintptr_t)id;
	d->data.email = &d->email;
	d->data.draft = true;
	d->data.properties = d->pp;
	d->email.attachments = d->pa;
	d->cc.data = &d->data;
}

static void
draft_field(struct draft_cmd *d, const char *key, const char *value)
{
	Rpc__Property *p = &d->props[d->data.n_properties];

	rpc__property__init(p);
	p->key = (char *)(uintptr_t)key;
	d->pp[d->data.n_properties++] = p;
	if (strcmp(key, "To") == 0)
		d->email.to = (char *)(uintptr_t)value;
	else if (strcmp(key, "Bcc") == 0)
		d->email.bcc = (char *)(uintptr_t)value;
	else if (strcmp(key, "Subject") == 0)
		d->email.subject = (char *)(uintptr_t)value;
}

static void
draft_attach(struct draft_cmd *d, const char *client_id, const char *name,
	     const char *content)
{
	Rpc__Attachment *a = &d->atts[d->email.n_attachments];

	rpc__attachment__init(a);
	a->client_id = (char *)(uintptr_t)client_id;
	a->display_name = (char *)(uintptr_t)name;
	a->content_type = "application/octet-stream";
	a->method = 1;
	a->content.data = (uint8_t *)(uintptr_t)content;
	a->content.len = strlen(content);
	d->pa[d->email.n_attachments++] = a;
}

/* One command in Drafts; its result's status, FileReferences of the
 * added attachments by position into refs (if any). */
static Rpc__Status
drafts_apply(struct env *e, Rpc__ClientChange *c, char *server_id,
	     char refs[][32], size_t n_refs)
{
	Rpc__GetChangesReply *g =
	    sync_with(e, e->drafts, e->key, &c, 1, RPC__STATUS__STATUS_OK);
	const Rpc__ClientChangeResult *res;
	Rpc__Status st;

	assert_int_equal(g->n_results, 1);
	res = g->results[0];
	st = res->status;
	if (server_id != NULL)
		(void)snprintf(server_id, 16, "%s", res->server_id);
	if (n_refs > 0) {
		assert_non_null(res->data);
		assert_non_null(res->data->email);
		assert_int_equal(res->data->email->n_attachments, n_refs);
		for (size_t i = 0; i < n_refs; i++)
			(void)snprintf(
			    refs[i], 32, "%s",
			    res->data->email->attachments[i]->file_reference);
	}
	mbox_free(&g->base);
	return st;
}

/* Fetch an attachment by FileReference: its status; the bytes must be
 * want (when OK). */
static Rpc__Status
fetch_ref(struct env *e, const char *ref, const char *want)
{
	Rpc__FetchRequest q;
	ProtobufCMessage *rep;
	Rpc__Status st;

	rpc__fetch_request__init(&q);
	q.user = e->user;
	q.device_id = "DRAFTDEV";
	q.kind = RPC__FETCH_KIND__FETCH_ATTACHMENT;
	q.file_reference = (char *)(uintptr_t)ref;
	st = mbox_call(&e->cas, RPC__MSG_TYPE__MSG_FETCH, &q.base, &rep);
	if (st == RPC__STATUS__STATUS_OK) {
		const Rpc__FetchReply *f = (const void *)rep;

		assert_non_null(want);
		assert_int_equal(f->total_size, strlen(want));
		assert_int_equal(f->chunk.len, strlen(want));
		assert_memory_equal(f->chunk.data, want, strlen(want));
	}
	mbox_free(rep);
	return st;
}

/* The item as the Fetch RPC serves it (NULL if not found). */
static Rpc__FetchReply *
fetch_item(struct env *e, const char *id)
{
	Rpc__FetchRequest q;
	ProtobufCMessage *rep;

	rpc__fetch_request__init(&q);
	q.user = e->user;
	q.device_id = "DRAFTDEV";
	q.kind = RPC__FETCH_KIND__FETCH_ITEM;
	q.server_id = (char *)(uintptr_t)id;
	if (mbox_call(&e->cas, RPC__MSG_TYPE__MSG_FETCH, &q.base, &rep) !=
	    RPC__STATUS__STATUS_OK) {
		mbox_free(rep);
		return NULL;
	}
	return (Rpc__FetchReply *)(void *)rep;
}

/* The stored MIME of a (small) item, malloc'd, NUL-terminated. */
static char *
fetch_mime(struct env *e, const char *id, size_t *len_r)
{
	Rpc__FetchRequest q;
	ProtobufCMessage *rep;
	const Rpc__FetchReply *f;
	char *copy;

	rpc__fetch_request__init(&q);
	q.user = e->user;
	q.device_id = "DRAFTDEV";
	q.kind = RPC__FETCH_KIND__FETCH_MIME;
	q.server_id = (char *)(uintptr_t)id;
	assert_int_equal(
	    mbox_call(&e->cas, RPC__MSG_TYPE__MSG_FETCH, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	f = (const void *)rep;
	assert_int_equal(f->chunk.len, f->total_size); /* one frame */
	copy = malloc(f->chunk.len + 1);
	assert_non_null(copy);
	memcpy(copy, f->chunk.data, f->chunk.len);
	copy[f->chunk.len] = 0;
	*len_r = f->chunk.len;
	mbox_free(rep);
	return copy;
}

/* The FileReferences the item lists, in order, as "a b c". */
static void
listed_refs(struct env *e, const char *id, char *out, size_t size)
{
	Rpc__FetchReply *f = fetch_item(e, id);
	size_t off = 0;

	assert_non_null(f);
	out[0] = 0;
	for (size_t i = 0; i < f->data->email->n_attachments; i++)
		off += (size_t)snprintf(
		    out + off, size - off, "%s%s", i ? " " : "",
		    f->data->email->attachments[i]->file_reference);
	mbox_free(&f->base);
}

/* Same length on purpose: the fetch cache checks the size, so only its
 * key (the ref) tells B's bytes from C's once C moved to B's index. */
#define BYTES_A "alpha-1"
#define BYTES_B "bravo-2"
#define BYTES_C "charl-3"

static void
test_stable_refs(void **state)
{
	struct env e;
	struct draft_cmd d;
	char id[16], refs[3][32], more[1][32], list[256], want[256];

	(void)state;
	env_start(&e);
	draft_init(&d, RPC__APPLY_OP__APPLY_ADD, "d1");
	draft_field(&d, "To", "rita@remote.test");
	draft_field(&d, "Subject", "three files");
	draft_attach(&d, "a1", "a.bin", BYTES_A);
	draft_attach(&d, "a2", "b.bin", BYTES_B);
	draft_attach(&d, "a3", "c.bin", BYTES_C);
	assert_int_equal(drafts_apply(&e, &d.cc, id, refs, 3),
			 RPC__STATUS__STATUS_OK);
	assert_string_not_equal(refs[0], refs[1]);
	assert_string_not_equal(refs[1], refs[2]);
	assert_int_equal(fetch_ref(&e, refs[0], BYTES_A),
			 RPC__STATUS__STATUS_OK);
	/* B is now the cached decode of this worker. */
	assert_int_equal(fetch_ref(&e, refs[1], BYTES_B),
			 RPC__STATUS__STATUS_OK);

	/* Delete the first: B and C move down one index in the MIME. */
	draft_init(&d, RPC__APPLY_OP__APPLY_CHANGE, id);
	d.data.draft = false;
	d.cc.delete_attachments = (char *[]){refs[0]};
	d.cc.n_delete_attachments = 1;
	assert_int_equal(drafts_apply(&e, &d.cc, NULL, NULL, 0),
			 RPC__STATUS__STATUS_OK);
	assert_int_equal(fetch_ref(&e, refs[2], BYTES_C),
			 RPC__STATUS__STATUS_OK);
	assert_int_equal(fetch_ref(&e, refs[1], BYTES_B),
			 RPC__STATUS__STATUS_OK);
	assert_int_equal(fetch_ref(&e, refs[0], NULL),
			 RPC__STATUS__STATUS_NOT_FOUND);
	(void)snprintf(want, sizeof(want), "%s %s", refs[1], refs[2]);
	listed_refs(&e, id, list, sizeof(list));
	assert_string_equal(list, want);

	/* Durable: the same after a restart. */
	env_restart(&e);
	assert_int_equal(fetch_ref(&e, refs[0], NULL),
			 RPC__STATUS__STATUS_NOT_FOUND);
	assert_int_equal(fetch_ref(&e, refs[2], BYTES_C),
			 RPC__STATUS__STATUS_OK);
	assert_int_equal(fetch_ref(&e, refs[1], BYTES_B),
			 RPC__STATUS__STATUS_OK);
	listed_refs(&e, id, list, sizeof(list));
	assert_string_equal(list, want);

	/* Deleting the spent reference again: not found, nothing changes
	 * (the subject edit in the same Change is not applied either). */
	draft_init(&d, RPC__APPLY_OP__APPLY_CHANGE, id);
	draft_field(&d, "Subject", "must not stick");
	d.cc.delete_attachments = (char *[]){refs[0]};
	d.cc.n_delete_attachments = 1;
	assert_int_equal(drafts_apply(&e, &d.cc, NULL, NULL, 0),
			 RPC__STATUS__STATUS_NOT_FOUND);
	{
		Rpc__FetchReply *f = fetch_item(&e, id);

		assert_non_null(f);
		assert_string_equal(f->data->email->subject, "three files");
		mbox_free(&f->base);
	}

	/* Delete the last one and add another: the new one gets a fresh
	 * reference, never the spent ones. */
	draft_init(&d, RPC__APPLY_OP__APPLY_CHANGE, id);
	draft_attach(&d, "a4", "d.bin", "delta-4");
	d.cc.delete_attachments = (char *[]){refs[2]};
	d.cc.n_delete_attachments = 1;
	assert_int_equal(drafts_apply(&e, &d.cc, NULL, more, 1),
			 RPC__STATUS__STATUS_OK);
	for (size_t i = 0; i < 3; i++)
		assert_string_not_equal(more[0], refs[i]);
	assert_int_equal(fetch_ref(&e, more[0], "delta-4"),
			 RPC__STATUS__STATUS_OK);
	assert_int_equal(fetch_ref(&e, refs[2], NULL),
			 RPC__STATUS__STATUS_NOT_FOUND);
	assert_int_equal(fetch_ref(&e, refs[1], BYTES_B),
			 RPC__STATUS__STATUS_OK);
	(void)snprintf(want, sizeof(want), "%s %s", refs[1], more[0]);
	listed_refs(&e, id, list, sizeof(list));
	assert_string_equal(list, want);
	env_stop(&e);
}

/* Text attachments, inline ones too, stay attachments: none is read
 * back as the draft's body or as a meeting, each keeps its reference. */
static void
test_text_attachments(void **state)
{
	struct env e;
	struct draft_cmd d;
	char id[16], refs[3][32];

	(void)state;
	env_start(&e);
	draft_init(&d, RPC__APPLY_OP__APPLY_ADD, "d1");
	draft_field(&d, "Subject", "text files");
	draft_attach(&d, "a1", "page.html", "<p>page</p>");
	d.atts[0].content_type = "text/html";
	d.atts[0].is_inline = true;
	d.atts[0].content_id = "page@x";
	draft_attach(&d, "a2", "invite.ics", "BEGIN:VCALENDAR");
	d.atts[1].content_type = "text/calendar";
	d.atts[1].is_inline = true;
	draft_attach(&d, "a3", "notes.txt", "plain notes");
	d.atts[2].content_type = "text/plain";
	d.atts[2].is_inline = true;
	assert_int_equal(drafts_apply(&e, &d.cc, id, refs, 3),
			 RPC__STATUS__STATUS_OK);
	assert_int_equal(fetch_ref(&e, refs[0], "<p>page</p>"),
			 RPC__STATUS__STATUS_OK);
	assert_int_equal(fetch_ref(&e, refs[1], "BEGIN:VCALENDAR"),
			 RPC__STATUS__STATUS_OK);
	assert_int_equal(fetch_ref(&e, refs[2], "plain notes"),
			 RPC__STATUS__STATUS_OK);
	{
		Rpc__FetchReply *f = fetch_item(&e, id);

		assert_non_null(f);
		assert_int_equal(f->data->email->n_attachments, 3);
		assert_null(f->data->email->meeting);
		assert_string_equal(
		    f->data->email->attachments[0]->display_name, "page.html");
		mbox_free(&f->base);
	}
	env_stop(&e);
}

/* Read / Flag / Categories on a draft: a flag change, the MIME stays
 * byte-exact, and a field not sent keeps its value. */
static void
test_flags_keep_mime(void **state)
{
	struct env e;
	struct draft_cmd d;
	Rpc__ClientChange c, *cp = &c;
	Rpc__ItemData data;
	Rpc__Email email;
	Rpc__EmailFlag flag;
	Rpc__Property prop, *pprop = &prop;
	Rpc__GetChangesReply *g;
	Rpc__FetchReply *f;
	char id[16], refs[1][32], *before, *after, list[128];
	size_t before_len, after_len;

	(void)state;
	env_start(&e);
	draft_init(&d, RPC__APPLY_OP__APPLY_ADD, "d1");
	draft_field(&d, "Subject", "flag me");
	draft_attach(&d, "a1", "a.bin", BYTES_A);
	assert_int_equal(drafts_apply(&e, &d.cc, id, refs, 1),
			 RPC__STATUS__STATUS_OK);
	before = fetch_mime(&e, id, &before_len);

	rpc__client_change__init(&c);
	rpc__item_data__init(&data);
	rpc__email__init(&email);
	rpc__email_flag__init(&flag);
	flag.status = 2;
	flag.flag_type = "Follow up";
	email.read = true;
	email.flag = &flag;
	data.email = &email;
	c.op = RPC__APPLY_OP__APPLY_CHANGE;
	c.server_id = id;
	c.data = &data;
	g = sync_with(&e, e.drafts, e.key, &cp, 1, RPC__STATUS__STATUS_OK);
	assert_int_equal(g->results[0]->status, RPC__STATUS__STATUS_OK);
	mbox_free(&g->base);

	after = fetch_mime(&e, id, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	f = fetch_item(&e, id);
	assert_non_null(f);
	assert_true(f->data->email->read);
	assert_non_null(f->data->email->flag);
	assert_int_equal(f->data->email->flag->status, 2);
	mbox_free(&f->base);
	free(after);

	/* Categories alone, named as the CAS names the fields it sends:
	 * Read and Flag stay, the MIME too. */
	rpc__email__init(&email);
	email.categories = (char *[]){"Red", "Blue"};
	email.n_categories = 2;
	rpc__property__init(&prop);
	prop.key = "Categories";
	data.properties = &pprop;
	data.n_properties = 1;
	g = sync_with(&e, e.drafts, e.key, &cp, 1, RPC__STATUS__STATUS_OK);
	assert_int_equal(g->results[0]->status, RPC__STATUS__STATUS_OK);
	mbox_free(&g->base);
	after = fetch_mime(&e, id, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	f = fetch_item(&e, id);
	assert_non_null(f);
	assert_true(f->data->email->read);
	assert_int_equal(f->data->email->flag->status, 2);
	assert_int_equal(f->data->email->n_categories, 2);
	assert_string_equal(f->data->email->categories[0], "Red");
	assert_string_equal(f->data->email->categories[1], "Blue");
	mbox_free(&f->base);
	/* An empty list clears them; still the same MIME. */
	email.n_categories = 0;
	g = sync_with(&e, e.drafts, e.key, &cp, 1, RPC__STATUS__STATUS_OK);
	assert_int_equal(g->results[0]->status, RPC__STATUS__STATUS_OK);
	mbox_free(&g->base);
	f = fetch_item(&e, id);
	assert_non_null(f);
	assert_int_equal(f->data->email->n_categories, 0);
	assert_true(f->data->email->read);
	mbox_free(&f->base);
	listed_refs(&e, id, list, sizeof(list));
	assert_string_equal(list, refs[0]);

	/* An edit with Read and Categories in the same Change: all three
	 * apply (the MIME is rebuilt for the subject), Flag stays. */
	draft_init(&d, RPC__APPLY_OP__APPLY_CHANGE, id);
	draft_field(&d, "Subject", "edited");
	d.email.read = false;
	rpc__property__init(&d.props[d.data.n_properties]);
	d.props[d.data.n_properties].key = "Read";
	d.pp[d.data.n_properties] = &d.props[d.data.n_properties];
	d.data.n_properties++;
	d.email.categories = (char *[]){"Green"};
	d.email.n_categories = 1;
	rpc__property__init(&d.props[d.data.n_properties]);
	d.props[d.data.n_properties].key = "Categories";
	d.pp[d.data.n_properties] = &d.props[d.data.n_properties];
	d.data.n_properties++;
	assert_int_equal(drafts_apply(&e, &d.cc, NULL, NULL, 0),
			 RPC__STATUS__STATUS_OK);
	f = fetch_item(&e, id);
	assert_non_null(f);
	assert_string_equal(f->data->email->subject, "edited");
	assert_false(f->data->email->read);
	assert_int_equal(f->data->email->flag->status, 2);
	assert_int_equal(f->data->email->n_categories, 1);
	assert_string_equal(f->data->email->categories[0], "Green");
	mbox_free(&f->base);
	listed_refs(&e, id, list, sizeof(list));
	assert_string_equal(list, refs[0]);
	free(before);
	free(after);
	env_stop(&e);
}

/* The results of a reply, packed: what the CAS turns into Responses. */
static uint8_t *
packed_results(const Rpc__GetChangesReply *g, size_t *len_r)
{
	Rpc__GetChangesReply only;
	uint8_t *out;

	rpc__get_changes_reply__init(&only);
	only.status = g->status;
	only.sync_key = g->sync_key;
	only.results = g->results;
	only.n_results = g->n_results;
	*len_r = rpc__get_changes_reply__get_packed_size(&only);
	out = malloc(*len_r + 1);
	assert_non_null(out);
	(void)rpc__get_changes_reply__pack(&only, out);
	return out;
}

/* A Sync resent with the same key and commands (the answer was lost) is
 * answered from the recorded outcome: the same bytes, the same
 * FileReferences, no second draft and no second attachment. */
static void
test_replay(void **state)
{
	struct env e;
	struct draft_cmd d;
	Rpc__ClientChange *cp = &d.cc;
	Rpc__GetChangesReply *g;
	char key[16], id[16], list[256];
	uint8_t *first, *again;
	size_t first_len, again_len;

	(void)state;
	env_start(&e);
	draft_init(&d, RPC__APPLY_OP__APPLY_ADD, "d1");
	draft_field(&d, "Subject", "replayed");
	draft_attach(&d, "a1", "a.bin", BYTES_A);
	draft_attach(&d, "a2", "b.bin", BYTES_B);
	(void)snprintf(key, sizeof(key), "%s", e.key);
	g = sync_with(&e, e.drafts, e.key, &cp, 1, RPC__STATUS__STATUS_OK);
	assert_int_equal(g->results[0]->status, RPC__STATUS__STATUS_OK);
	assert_int_equal(g->results[0]->data->email->n_attachments, 2);
	(void)snprintf(id, sizeof(id), "%s", g->results[0]->server_id);
	first = packed_results(g, &first_len);
	mbox_free(&g->base);
	env_restart(&e);
	g = sync_with(&e, e.drafts, key, &cp, 1, RPC__STATUS__STATUS_OK);
	again = packed_results(g, &again_len);
	mbox_free(&g->base);
	assert_int_equal(again_len, first_len);
	assert_memory_equal(again, first, first_len);
	free(first);
	free(again);

	/* A Change adding an attachment after deleting one, resent. */
	listed_refs(&e, id, list, sizeof(list));
	draft_init(&d, RPC__APPLY_OP__APPLY_CHANGE, id);
	draft_attach(&d, "a3", "c.bin", BYTES_C);
	*strchr(list, ' ') = 0; /* the first reference */
	d.cc.delete_attachments = (char *[]){list};
	d.cc.n_delete_attachments = 1;
	(void)snprintf(key, sizeof(key), "%s", e.key);
	g = sync_with(&e, e.drafts, e.key, &cp, 1, RPC__STATUS__STATUS_OK);
	assert_int_equal(g->results[0]->status, RPC__STATUS__STATUS_OK);
	assert_int_equal(g->results[0]->data->email->n_attachments, 1);
	first = packed_results(g, &first_len);
	mbox_free(&g->base);
	g = sync_with(&e, e.drafts, key, &cp, 1, RPC__STATUS__STATUS_OK);
	again = packed_results(g, &again_len);
	mbox_free(&g->base);
	assert_int_equal(again_len, first_len);
	assert_memory_equal(again, first, first_len);
	free(first);
	free(again);
	listed_refs(&e, id, list, sizeof(list));
	assert_int_equal(strchr(list, ' ') != NULL, 1); /* two, not three */
	assert_null(strchr(strchr(list, ' ') + 1, ' '));
	env_stop(&e);
}

static uint64_t
queued(struct env *e)
{
	Rpc__StatsRequest q;
	ProtobufCMessage *rep;
	uint64_t n;

	rpc__stats_request__init(&q);
	assert_int_equal(
	    mbox_call(&e->admin, RPC__MSG_TYPE__MSG_STATS, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	n = ((Rpc__StatsReply *)(void *)rep)->queued;
	mbox_free(rep);
	return n;
}

/* Send: Bcc in the envelope only; Sent Items keeps it. */
static void
test_send_keeps_bcc_in_sent(void **state)
{
	struct env e;
	struct draft_cmd d;
	Rpc__GetChangesReply *g;
	const Rpc__Email *m = NULL;
	char id[16], refs[1][32], *mime;
	size_t len;
	bool got = false;

	(void)state;
	env_start(&e);
	draft_init(&d, RPC__APPLY_OP__APPLY_ADD, "d1");
	draft_field(&d, "To", "Rita <rita@remote.test>");
	draft_field(&d, "Bcc", "hidden@remote.test");
	draft_field(&d, "Subject", "blind");
	draft_attach(&d, "a1", "a.bin", BYTES_A);
	assert_int_equal(drafts_apply(&e, &d.cc, id, refs, 1),
			 RPC__STATUS__STATUS_OK);
	draft_init(&d, RPC__APPLY_OP__APPLY_CHANGE, id);
	d.data.draft = false;
	d.cc.send = true;
	assert_int_equal(drafts_apply(&e, &d.cc, NULL, NULL, 0),
			 RPC__STATUS__STATUS_OK);

	(void)snprintf(e.sent_key, sizeof(e.sent_key), "0");
	mbox_free(
	    &sync_with(&e, e.sent, e.sent_key, NULL, 0, RPC__STATUS__STATUS_OK)
		 ->base);
	for (int i = 0; i < 300 && !got; i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};

		g = sync_with(&e, e.sent, e.sent_key, NULL, 0,
			      RPC__STATUS__STATUS_OK);
		if (g->n_changes > 0) {
			got = true;
			assert_int_equal(g->n_changes, 1);
			(void)snprintf(id, sizeof(id), "%s",
				       g->changes[0]->server_id);
		}
		mbox_free(&g->base);
		if (!got)
			(void)nanosleep(&ts, NULL);
	}
	assert_true(got);
	for (int i = 0; i < 300 && queued(&e) != 0; i++) {
		struct timespec ts = {0, 20 * 1000 * 1000};

		(void)nanosleep(&ts, NULL);
	}
	{
		Rpc__FetchReply *f = fetch_item(&e, id);

		assert_non_null(f);
		m = f->data->email;
		assert_string_equal(m->subject, "blind");
		assert_non_null(strstr(m->bcc, "hidden@remote.test"));
		assert_false(m->is_draft);
		assert_int_equal(m->n_attachments, 1);
		mbox_free(&f->base);
	}
	mime = fetch_mime(&e, id, &len);
	assert_non_null(strstr(mime, "\nBcc: hidden@remote.test"));
	free(mime);

	smtp_sink_stop(e.sink);
	assert_int_equal(e.sink->sessions, 1);
	assert_non_null(strstr(e.sink->rcpts, "hidden@remote.test"));
	assert_non_null(strstr(e.sink->rcpts, "rita@remote.test"));
	assert_non_null(e.sink->data);
	assert_null(memmem(e.sink->data, e.sink->data_len, "Bcc:", 4));
	assert_null(memmem(e.sink->data, e.sink->data_len, "hidden@", 7));
	assert_non_null(
	    memmem(e.sink->data, e.sink->data_len, "Subject: blind", 14));
	env_stop(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stable_refs),
	    cmocka_unit_test(test_text_attachments),
	    cmocka_unit_test(test_flags_keep_mime),
	    cmocka_unit_test(test_replay),
	    cmocka_unit_test(test_send_keeps_bcc_in_sent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
