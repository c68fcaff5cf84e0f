/*
 * Sync response encoding (see sync_resp.h).  Email and calendar items
 * have their encoders (email_wbxml.c, calendar_wbxml.c); contacts, tasks
 * and notes are sent as Adds and Changes with an empty ApplicationData
 * until theirs exist: the ids still reach the client.
 */
#include "cas/sync_resp.h"

#include "cas/calendar_wbxml.h"

#include <string.h>

enum sync_status
sync_resp_map_status(Rpc__Status status)
{
	switch (status) {
	case RPC__STATUS__STATUS_OK:
		return SYNC_STATUS_OK;
	case RPC__STATUS__STATUS_INVALID_SYNC_KEY:
		return SYNC_STATUS_INVALID_SYNC_KEY;
	case RPC__STATUS__STATUS_NOT_FOUND:
		return SYNC_STATUS_NOT_FOUND;
	case RPC__STATUS__STATUS_CONFLICT:
		return SYNC_STATUS_CONFLICT;
	case RPC__STATUS__STATUS_INVALID:
	case RPC__STATUS__STATUS_TOO_LARGE:
		return SYNC_STATUS_CONVERSION_ERROR;
	case RPC__STATUS__STATUS_STORAGE_FULL:
		return SYNC_STATUS_CANNOT_COMPLETE;
	case RPC__STATUS__STATUS_BUSY:
	case RPC__STATUS__STATUS_TIMEOUT:
	case RPC__STATUS__STATUS_DISCONNECTED:
		return SYNC_STATUS_RETRY;
	default:
		return SYNC_STATUS_SERVER_ERROR;
	}
}

void
sync_resp_email_opts(const struct sync_collection *c, unsigned version,
		     struct email_wbxml_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->version = version;
	o->truncation_bytes = EMAIL_WBXML_NO_TRUNCATION;
	o->mime_truncation_bytes = EMAIL_WBXML_NO_TRUNCATION;
	if (!c->has_options)
		return;
	o->prefs = c->options.body_prefs;
	o->n_prefs = c->options.n_body_prefs;
	if (c->options.has_truncation)
		o->truncation_bytes =
		    email_wbxml_truncation_bytes(c->options.truncation);
	if (c->options.has_mime_truncation)
		o->mime_truncation_bytes = email_wbxml_mime_truncation_bytes(
		    c->options.mime_truncation);
}

int
sync_resp_status_doc(struct wbxml_enc *e, enum sync_status status,
		     uint32_t limit)
{
	wbxml_enc_start(e, EAS_AIRSYNC_SYNC);
	wbxml_enc_uint(e, EAS_AIRSYNC_STATUS, status);
	/* MS-ASCMD 2.2.3.97: Limit goes with Status 14 and 15. */
	if ((status == SYNC_STATUS_INVALID_INTERVAL ||
	     status == SYNC_STATUS_INVALID_COMMAND) &&
	    limit > 0)
		wbxml_enc_uint(e, EAS_AIRSYNC_LIMIT, limit);
	return wbxml_enc_end(e);
}

static bool
is_email(const char *class)
{
	return class == NULL || class[0] == '\0' || strcmp(class, "Email") == 0;
}

static void
enc_app_data(struct wbxml_enc *e, const Rpc__ItemData *d, const char *class,
	     const struct email_wbxml_opts *opts)
{
	wbxml_enc_start(e, EAS_AIRSYNC_APPLICATION_DATA);
	if (d != NULL && d->email != NULL && is_email(class))
		email_wbxml_encode(e, d->email, opts);
	else if (d != NULL && d->calendar != NULL) /* calendar (MS-ASCAL) */
		calendar_wbxml_encode(e, d->calendar, d->body, opts->version);
	wbxml_enc_end(e);
}

/* A draft Add or Change that added attachments: the mailbox reports
 * their FileReferences by ClientId. */
static bool
has_new_attachments(const Rpc__ItemData *d)
{
	return d != NULL && d->email != NULL && d->email->n_attachments > 0;
}

static void
enc_add_attachments(struct wbxml_enc *e, const Rpc__ItemData *d)
{
	if (!has_new_attachments(d))
		return;
	wbxml_enc_start(e, EAS_AIRSYNC_APPLICATION_DATA);
	wbxml_enc_start(e, EAS_AIRSYNCBASE_ATTACHMENTS);
	for (size_t i = 0; i < d->email->n_attachments; i++) {
		const Rpc__Attachment *a = d->email->attachments[i];

		wbxml_enc_start(e, EAS_AIRSYNCBASE_ATTACHMENT);
		wbxml_enc_str(e, EAS_AIRSYNCBASE_CLIENT_ID,
			      a->client_id != NULL ? a->client_id : "");
		wbxml_enc_str(e, EAS_AIRSYNCBASE_FILE_REFERENCE,
			      a->file_reference != NULL ? a->file_reference
							: "");
		wbxml_enc_end(e);
	}
	wbxml_enc_end(e);
	wbxml_enc_end(e);
}

static void
enc_results(struct wbxml_enc *e, const struct sync_collection *c,
	    const struct sync_result *res, size_t n,
	    const struct email_wbxml_opts *opts)
{
	bool open = false;

	for (size_t i = 0; i < n; i++) {
		const struct sync_result *r = &res[i];
		uint16_t tag;

		switch (r->op) {
		case SYNC_OP_ADD:
			tag = EAS_AIRSYNC_ADD;
			break;
		case SYNC_OP_CHANGE:
			tag = EAS_AIRSYNC_CHANGE;
			break;
		case SYNC_OP_DELETE:
			tag = EAS_AIRSYNC_DELETE;
			break;
		default:
			tag = EAS_AIRSYNC_FETCH;
			break;
		}
		/* Exchange answers a successful Change or Delete with
		 * nothing (MS-ASCMD 2.2.3.24, 2.2.3.42.2). */
		if ((r->op == SYNC_OP_CHANGE || r->op == SYNC_OP_DELETE) &&
		    r->status == SYNC_STATUS_OK &&
		    !(r->op == SYNC_OP_CHANGE && opts->version >= 160 &&
		      has_new_attachments(r->data)))
			continue;
		if (!open) {
			wbxml_enc_start(e, EAS_AIRSYNC_RESPONSES);
			open = true;
		}
		wbxml_enc_start(e, tag);
		if (r->op == SYNC_OP_ADD && r->client_id != NULL)
			wbxml_enc_str(e, EAS_AIRSYNC_CLIENT_ID, r->client_id);
		if (r->server_id != NULL && r->server_id[0] != '\0')
			wbxml_enc_str(e, EAS_AIRSYNC_SERVER_ID, r->server_id);
		/* 16.0 draft Add: each new attachment's FileReference by
		 * its ClientId (MS-ASAIRS 2.2.2.7, 2.2.2.14), in
		 * ApplicationData before Status (MS-ASCMD 2.2.3.7.2). */
		if ((r->op == SYNC_OP_ADD || r->op == SYNC_OP_CHANGE) &&
		    r->status == SYNC_STATUS_OK && opts->version >= 160)
			enc_add_attachments(e, r->data);
		wbxml_enc_uint(e, EAS_AIRSYNC_STATUS, r->status);
		if (r->op == SYNC_OP_FETCH && r->status == SYNC_STATUS_OK)
			enc_app_data(e, r->data, c->class, opts);
		wbxml_enc_end(e);
	}
	if (open)
		wbxml_enc_end(e);
}

static uint16_t
change_tag(Rpc__ChangeOp op)
{
	switch (op) {
	case RPC__CHANGE_OP__OP_ADD:
		return EAS_AIRSYNC_ADD;
	case RPC__CHANGE_OP__OP_CHANGE:
		return EAS_AIRSYNC_CHANGE;
	case RPC__CHANGE_OP__OP_DELETE:
		return EAS_AIRSYNC_DELETE;
	case RPC__CHANGE_OP__OP_SOFT_DELETE:
		/* MS-ASCMD 2.2.3.162: left the FilterType window. */
		return EAS_AIRSYNC_SOFT_DELETE;
	default:
		return 0;
	}
}

bool
sync_resp_has_commands(const Rpc__GetChangesReply *changes)
{
	if (changes == NULL)
		return false;
	for (size_t i = 0; i < changes->n_changes; i++)
		if (change_tag(changes->changes[i]->op) != 0 &&
		    changes->changes[i]->server_id != NULL &&
		    changes->changes[i]->server_id[0] != '\0')
			return true;
	return false;
}

int
sync_resp_item(struct wbxml_enc *e, unsigned version,
	       const struct sync_collection *c, const Rpc__Change *ch)
{
	struct email_wbxml_opts opts;
	uint16_t tag = change_tag(ch->op);

	if (tag == 0 || ch->server_id == NULL || ch->server_id[0] == '\0')
		return 0;
	sync_resp_email_opts(c, version, &opts);
	wbxml_enc_start(e, tag);
	wbxml_enc_str(e, EAS_AIRSYNC_SERVER_ID, ch->server_id);
	if (tag == EAS_AIRSYNC_ADD || tag == EAS_AIRSYNC_CHANGE) {
		opts.is_change = tag == EAS_AIRSYNC_CHANGE;
		enc_app_data(e, ch->data, ch->item_class, &opts);
	}
	wbxml_enc_end(e);
	/* Each item leaves as soon as it is encoded. */
	return wbxml_enc_flush(e);
}

int
sync_resp_collection_open(struct wbxml_enc *e, unsigned version,
			  const struct sync_collection *c,
			  enum sync_status status, const char *sync_key,
			  const struct sync_result *results, size_t n_results,
			  bool more_available, bool has_commands)
{
	struct email_wbxml_opts opts;

	sync_resp_email_opts(c, version, &opts);
	wbxml_enc_start(e, EAS_AIRSYNC_COLLECTION);
	/* 2.5 responses carry the Class first (MS-ASCMD 2.2.3.27.5). */
	if (version < 120)
		wbxml_enc_str(e, EAS_AIRSYNC_CLASS,
			      c->class[0] != '\0' ? c->class : "Email");
	wbxml_enc_str(e, EAS_AIRSYNC_SYNC_KEY,
		      sync_key != NULL && sync_key[0] != '\0' ? sync_key
							      : c->sync_key);
	wbxml_enc_str(e, EAS_AIRSYNC_COLLECTION_ID, c->collection_id);
	wbxml_enc_uint(e, EAS_AIRSYNC_STATUS, status);
	if (status == SYNC_STATUS_OK) {
		enc_results(e, c, results, n_results, &opts);
		if (more_available)
			wbxml_enc_empty(e, EAS_AIRSYNC_MORE_AVAILABLE);
		if (has_commands)
			wbxml_enc_start(e, EAS_AIRSYNC_COMMANDS);
	}
	return wbxml_enc_error(e) == WBXML_ERR_NONE ? 0 : -1;
}

int
sync_resp_collection_close(struct wbxml_enc *e, bool has_commands)
{
	if (has_commands)
		wbxml_enc_end(e);
	return wbxml_enc_end(e);
}

int
sync_resp_collection(struct wbxml_enc *e, unsigned version,
		     const struct sync_collection *c, enum sync_status status,
		     const char *sync_key, const struct sync_result *results,
		     size_t n_results, const Rpc__GetChangesReply *changes)
{
	bool cmds = status == SYNC_STATUS_OK && sync_resp_has_commands(changes);

	sync_resp_collection_open(
	    e, version, c, status, sync_key, results, n_results,
	    changes != NULL && changes->more_available, cmds);
	for (size_t i = 0; cmds && changes != NULL && i < changes->n_changes;
	     i++)
		sync_resp_item(e, version, c, changes->changes[i]);
	sync_resp_collection_close(e, cmds);
	return wbxml_enc_error(e) == WBXML_ERR_NONE ? 0 : -1;
}
