/*
 * Sync request decoding and the partial-Sync cache (see sync_req.h).  The
 * decoder walks the typed WBXML tree once; each element is read with a
 * bounded accessor, each count checked before anything is allocated.  The
 * cache (cas/device_cache.h) is keyed by device, least recently used
 * evicted first: Sync handlers on any HTTP thread store and read it, each
 * operation is O(1) plus the copy of one device's collections.
 */
#include "cas/sync_req.h"

#include "cas/calendar_wbxml.h"
#include "cas/device_cache.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SYNC_MAX_FILTER_TYPE 8 /* MS-ASCMD 2.2.3.68.2 */
#define SYNC_MAX_TRUNCATION 9  /* 2.5 airsync:Truncation codes */
#define SYNC_MAX_MIME_TRUNC 8  /* MS-ASCMD 2.2.3.109 */
#define SYNC_MAX_PREVIEW 255   /* MS-ASAIRS 2.2.2.37 */
#define SYNC_MAX_FLAG_STATUS 2 /* MS-ASEMAIL 2.2.2.46 */
#define SYNC_TRUNCATION_MAX_BYTES 0xffffffffu

struct dec {
	unsigned version;
	size_t n_commands; /* across the request */
	enum sync_status status;
	uint32_t limit;
};

static int
fail(struct dec *d, enum sync_status status)
{
	d->status = status;
	return -1;
}

/* Copy a bounded string child into a fixed array; absent leaves "". */
static int
copy_str(struct dec *d, const struct wbxml_node *parent, uint16_t tag,
	 char *out, size_t max_len, bool required)
{
	const char *s;
	size_t len;
	enum wbxml_err err;

	if (wbxml_child_str(parent, tag, max_len, &s, &len, &err) != 0) {
		if (err == WBXML_ERR_MISSING && !required)
			return 0;
		return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
	}
	memcpy(out, s, len + 1);
	return 0;
}

/* Optional unsigned child: 0 absent, 1 present, -1 bad. */
static int
get_uint(struct dec *d, const struct wbxml_node *parent, uint16_t tag,
	 uint64_t min, uint64_t max, uint32_t *val_r)
{
	uint64_t v;
	enum wbxml_err err;

	if (wbxml_child_uint(parent, tag, min, max, &v, &err) != 0) {
		if (err == WBXML_ERR_MISSING)
			return 0;
		return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
	}
	*val_r = (uint32_t)v;
	return 1;
}

/* A boolean element: "0"/"1" text, or empty meaning true (GetChanges,
 * DeletesAsMoves and ConversationMode are sent both ways by clients). */
static int
get_bool(struct dec *d, const struct wbxml_node *parent, uint16_t tag,
	 bool *has_r, bool *val_r)
{
	const struct wbxml_node *n = wbxml_node_child(parent, tag);
	uint64_t v;

	if (n == NULL)
		return 0;
	*has_r = true;
	if (wbxml_node_is_empty(n)) {
		*val_r = true;
		return 0;
	}
	if (wbxml_node_uint(n, 0, 1, &v, NULL) != 0)
		return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
	*val_r = v == 1;
	return 0;
}

static int
decode_pref(struct dec *d, const struct wbxml_node *n, struct sync_body_pref *p)
{
	uint32_t v;
	int r;

	memset(p, 0, sizeof(*p));
	if (get_uint(d, n, EAS_AIRSYNCBASE_TYPE, SYNC_BODY_PLAIN,
		     SYNC_BODY_MIME, &p->type) != 1)
		return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
	if (get_uint(d, n, EAS_AIRSYNCBASE_TRUNCATION_SIZE, 0,
		     SYNC_TRUNCATION_MAX_BYTES, &p->truncation_size) < 0)
		return -1;
	r = get_uint(d, n, EAS_AIRSYNCBASE_ALL_OR_NONE, 0, 1, &v);
	if (r < 0)
		return -1;
	p->all_or_none = r == 1 && v == 1;
	/* MS-ASAIRS 2.2.2.37: Preview is 14.0+ and at most 255. */
	if (get_uint(d, n, EAS_AIRSYNCBASE_PREVIEW, 0, SYNC_MAX_PREVIEW,
		     &p->preview) < 0)
		return -1;
	if (d->version < 140)
		p->preview = 0;
	return 0;
}

static int
decode_options(struct dec *d, const struct wbxml_node *opt,
	       struct sync_options *o)
{
	const struct wbxml_node *n;
	int r;

	memset(o, 0, sizeof(*o));
	if (copy_str(d, opt, EAS_AIRSYNC_CLASS, o->class, SYNC_MAX_CLASS_BYTES,
		     false) != 0)
		return -1;
	r = get_uint(d, opt, EAS_AIRSYNC_FILTER_TYPE, 0, SYNC_MAX_FILTER_TYPE,
		     &o->filter_type);
	if (r < 0)
		return -1;
	o->has_filter_type = r == 1;
	WBXML_FOREACH(n, opt, EAS_AIRSYNCBASE_BODY_PREFERENCE)
	{
		if (o->n_body_prefs == SYNC_MAX_BODY_PREFS)
			return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
		if (decode_pref(d, n, &o->body_prefs[o->n_body_prefs++]) != 0)
			return -1;
	}
	WBXML_FOREACH(n, opt, EAS_AIRSYNCBASE_BODY_PART_PREFERENCE)
	{
		if (o->n_body_part_prefs == SYNC_MAX_BODY_PREFS)
			return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
		if (decode_pref(
			d, n, &o->body_part_prefs[o->n_body_part_prefs++]) != 0)
			return -1;
	}
	r = get_uint(d, opt, EAS_AIRSYNC_MIME_SUPPORT, 0, 2, &o->mime_support);
	if (r < 0)
		return -1;
	o->has_mime_support = r == 1;
	r = get_uint(d, opt, EAS_AIRSYNC_MIME_TRUNCATION, 0,
		     SYNC_MAX_MIME_TRUNC, &o->mime_truncation);
	if (r < 0)
		return -1;
	o->has_mime_truncation = r == 1;
	r = get_uint(d, opt, EAS_AIRSYNC_TRUNCATION, 0, SYNC_MAX_TRUNCATION,
		     &o->truncation);
	if (r < 0)
		return -1;
	o->has_truncation = r == 1;
	r = get_uint(d, opt, EAS_AIRSYNC_CONFLICT, 0, 1, &o->conflict);
	if (r < 0)
		return -1;
	o->has_conflict = r == 1;
	return 0;
}

static int
opt_datetime(struct dec *d, const struct wbxml_node *parent, uint16_t tag,
	     int64_t *secs_r)
{
	const char *s;
	enum wbxml_err err;

	if (wbxml_child_str(parent, tag, SYNC_MAX_SHORT_TEXT_BYTES, &s, NULL,
			    &err) != 0)
		return err == WBXML_ERR_MISSING
			   ? 0
			   : fail(d, SYNC_STATUS_PROTOCOL_ERROR);
	if (sync_parse_datetime(s, secs_r) != 0)
		return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
	return 0;
}

/* MS-ASEMAIL 2.2.2.34 Flag, 2.2.2.15 Categories, 2.2.2.58 Read. */
static int
decode_email_change(struct dec *d, struct wbxml_tree *tree,
		    const struct wbxml_node *app, struct sync_email_change *e)
{
	const struct wbxml_node *n, *cats, *c;
	uint32_t v;
	enum wbxml_err err;
	int r;

	(void)tree;
	e->read = -1;
	r = get_uint(d, app, EAS_EMAIL_READ, 0, 1, &v);
	if (r < 0)
		return -1;
	if (r == 1)
		e->read = (int)v;
	n = wbxml_node_child(app, EAS_EMAIL_FLAG);
	if (n != NULL) {
		e->has_flag = true;
		if (wbxml_node_is_empty(n)) {
			e->flag_cleared = true;
		} else {
			r = get_uint(d, n, EAS_EMAIL_FLAG_STATUS, 0,
				     SYNC_MAX_FLAG_STATUS, &e->flag_status);
			if (r < 0)
				return -1;
			if (wbxml_child_str(n, EAS_EMAIL_FLAG_TYPE,
					    SYNC_MAX_SHORT_TEXT_BYTES,
					    &e->flag_type, NULL, &err) != 0) {
				if (err != WBXML_ERR_MISSING)
					return fail(d,
						    SYNC_STATUS_PROTOCOL_ERROR);
				e->flag_type = NULL;
			}
			/* MS-ASEMAIL 2.2.2.34: dates from the Tasks page. */
			if (opt_datetime(d, n, EAS_TASKS_UTC_START_DATE,
					 &e->flag_start_s) != 0 ||
			    opt_datetime(d, n, EAS_TASKS_UTC_DUE_DATE,
					 &e->flag_due_s) != 0 ||
			    opt_datetime(d, n, EAS_EMAIL_COMPLETE_TIME,
					 &e->flag_complete_s) != 0)
				return -1;
		}
	}
	cats = wbxml_node_child(app, EAS_EMAIL_CATEGORIES);
	if (cats != NULL) {
		size_t count =
		    wbxml_node_count_children(cats, EAS_EMAIL_CATEGORY);

		e->has_categories = true;
		if (count > SYNC_MAX_CATEGORIES)
			return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
		if (count > 0) {
			e->categories = calloc(count, sizeof(*e->categories));
			if (e->categories == NULL)
				return fail(d, SYNC_STATUS_SERVER_ERROR);
		}
		WBXML_FOREACH(c, cats, EAS_EMAIL_CATEGORY)
		{
			if (wbxml_node_str(c, SYNC_MAX_CATEGORY_BYTES,
					   &e->categories[e->n_categories],
					   NULL, NULL) != 0)
				return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
			e->n_categories++;
		}
	}
	return 0;
}

static bool
is_email_class(const char *class)
{
	return class[0] == '\0' || strcmp(class, "Email") == 0;
}

/* An optional string child: 0 absent (*s_r NULL), 1 present, -1 bad. */
static int
opt_text(struct dec *d, const struct wbxml_node *parent, uint16_t tag,
	 size_t max, const char **s_r)
{
	enum wbxml_err err;
	const struct wbxml_node *n = wbxml_node_child(parent, tag);

	*s_r = NULL;
	if (n == NULL)
		return 0;
	if (wbxml_node_is_empty(n)) {
		*s_r = "";
		return 1;
	}
	if (wbxml_node_str(n, max, s_r, NULL, &err) != 0)
		return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
	return 1;
}

/* MS-ASAIRS 2.2.2.2 Add: ClientId, DisplayName, Content, Method
 * required; ContentType, ContentId, IsInline optional. */
static int
decode_draft_add(struct dec *d, const struct wbxml_node *n,
		 struct sync_draft_att *a)
{
	enum wbxml_err err;
	uint32_t v;
	int r;

	if (wbxml_child_str(n, EAS_AIRSYNCBASE_CLIENT_ID, SYNC_MAX_ID_BYTES,
			    &a->client_id, NULL, &err) != 0 ||
	    wbxml_child_bytes(n, EAS_AIRSYNCBASE_CONTENT,
			      SYNC_MAX_DRAFT_DATA_BYTES, &a->content,
			      &a->content_len, &err) != 0)
		return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
	if (opt_text(d, n, EAS_AIRSYNCBASE_DISPLAY_NAME,
		     SYNC_MAX_SHORT_TEXT_BYTES, &a->display_name) < 0 ||
	    opt_text(d, n, EAS_AIRSYNCBASE_CONTENT_TYPE,
		     SYNC_MAX_SHORT_TEXT_BYTES, &a->content_type) < 0 ||
	    opt_text(d, n, EAS_AIRSYNCBASE_CONTENT_ID,
		     SYNC_MAX_SHORT_TEXT_BYTES, &a->content_id) < 0)
		return -1;
	/* MS-ASAIRS 2.2.2.31.1 Method: 1 normal .. 6 OLE. */
	a->method = 1;
	if (get_uint(d, n, EAS_AIRSYNCBASE_METHOD, 1, 6, &a->method) < 0)
		return -1;
	r = get_uint(d, n, EAS_AIRSYNCBASE_IS_INLINE, 0, 1, &v);
	if (r < 0)
		return -1;
	a->is_inline = r == 1 && v == 1;
	return 0;
}

static int
decode_draft_attachments(struct dec *d, const struct wbxml_node *atts,
			 struct sync_draft *dr)
{
	const struct wbxml_node *n;
	size_t n_add = wbxml_node_count_children(atts, EAS_AIRSYNCBASE_ADD);
	size_t n_del = wbxml_node_count_children(atts, EAS_AIRSYNCBASE_DELETE);

	if (n_add > SYNC_MAX_DRAFT_ATTACHMENTS ||
	    n_del > SYNC_MAX_DRAFT_ATTACHMENTS)
		return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
	if (n_add > 0 && (dr->add = calloc(n_add, sizeof(*dr->add))) == NULL)
		return fail(d, SYNC_STATUS_SERVER_ERROR);
	if (n_del > 0 && (dr->del = calloc(n_del, sizeof(*dr->del))) == NULL)
		return fail(d, SYNC_STATUS_SERVER_ERROR);
	WBXML_FOREACH(n, atts, EAS_AIRSYNCBASE_ADD)
	{
		if (decode_draft_add(d, n, &dr->add[dr->n_add]) != 0)
			return -1;
		dr->n_add++;
	}
	WBXML_FOREACH(n, atts, EAS_AIRSYNCBASE_DELETE)
	{
		enum wbxml_err err;

		if (wbxml_child_str(n, EAS_AIRSYNCBASE_FILE_REFERENCE,
				    SYNC_MAX_SHORT_TEXT_BYTES,
				    &dr->del[dr->n_delete], NULL, &err) != 0)
			return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
		dr->n_delete++;
	}
	return 0;
}

/*
 * A 16.0 draft (MS-ASCMD 2.2.1.21: email Adds and Changes in Drafts).
 * cmd is the Add or Change element (email2:Send is its child; accepted
 * inside ApplicationData too), app its ApplicationData.
 */
static int
decode_draft(struct dec *d, const struct wbxml_node *cmd,
	     const struct wbxml_node *app, bool is_add, struct sync_draft *dr)
{
	const struct wbxml_node *body, *atts;
	uint32_t v;
	int r, any = 0;

	dr->importance = -1;
	dr->send = wbxml_child_present(cmd, EAS_EMAIL2_SEND) ||
		   wbxml_child_present(app, EAS_EMAIL2_SEND);
	if ((r = opt_text(d, app, EAS_EMAIL_TO, SYNC_MAX_DRAFT_ADDRESS_BYTES,
			  &dr->to)) < 0)
		return -1;
	any |= r;
	if ((r = opt_text(d, app, EAS_EMAIL_CC, SYNC_MAX_DRAFT_ADDRESS_BYTES,
			  &dr->cc)) < 0)
		return -1;
	any |= r;
	if ((r = opt_text(d, app, EAS_EMAIL2_BCC, SYNC_MAX_DRAFT_ADDRESS_BYTES,
			  &dr->bcc)) < 0)
		return -1;
	any |= r;
	if ((r = opt_text(d, app, EAS_EMAIL_SUBJECT, SYNC_MAX_SHORT_TEXT_BYTES,
			  &dr->subject)) < 0)
		return -1;
	any |= r;
	r = get_uint(d, app, EAS_EMAIL_IMPORTANCE, 0, 2, &v);
	if (r < 0)
		return -1;
	if (r == 1) {
		dr->importance = (int)v;
		any = 1;
	}
	body = wbxml_node_child(app, EAS_AIRSYNCBASE_BODY);
	if (body != NULL) {
		enum wbxml_err err;

		/* Plain or HTML; RTF and MIME bodies are not drafts. */
		if (get_uint(d, body, EAS_AIRSYNCBASE_TYPE, 1, 2,
			     &dr->body_type) != 1)
			return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
		if (wbxml_child_bytes(body, EAS_AIRSYNCBASE_DATA,
				      SYNC_MAX_DRAFT_DATA_BYTES, &dr->body,
				      &dr->body_len, &err) != 0) {
			if (err != WBXML_ERR_MISSING)
				return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
			dr->body = (const uint8_t *)"";
			dr->body_len = 0;
		}
		dr->has_body = true;
		any = 1;
	}
	atts = wbxml_node_child(app, EAS_AIRSYNCBASE_ATTACHMENTS);
	if (atts != NULL) {
		if (decode_draft_attachments(d, atts, dr) != 0)
			return -1;
		any = 1;
	}
	dr->present = is_add || any || dr->send;
	return 0;
}

/* calendar: 16.0+ InstanceId of a Change or Delete (MS-ASAIRS 2.2.2.25). */
static int
decode_instance(struct dec *d, const struct wbxml_node *n,
		struct sync_command *cmd)
{
	const char *s;
	enum wbxml_err err;

	if (cmd->op != SYNC_OP_CHANGE && cmd->op != SYNC_OP_DELETE)
		return 0;
	if (wbxml_child_str(n, EAS_AIRSYNCBASE_INSTANCE_ID, 64, &s, NULL,
			    &err) != 0)
		return err == WBXML_ERR_MISSING
			   ? 0
			   : fail(d, SYNC_STATUS_PROTOCOL_ERROR);
	if (calendar_wbxml_parse_time(s, &cmd->instance_start) != 0 ||
	    cmd->instance_start <= 0)
		return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
	return 0;
}

static int
decode_commands(struct dec *d, struct wbxml_tree *tree,
		const struct wbxml_node *cmds, struct sync_collection *c)
{
	const struct wbxml_node *n;
	size_t count = 0, i = 0;
	enum wbxml_err err;

	WBXML_FOREACH_CHILD(n, cmds)
	{
		uint16_t tag = wbxml_node_tag(n);

		if (tag == EAS_AIRSYNC_ADD || tag == EAS_AIRSYNC_CHANGE ||
		    tag == EAS_AIRSYNC_DELETE || tag == EAS_AIRSYNC_FETCH)
			count++;
	}
	/* MS-ASCMD 3.1.5.10: Add + Change + Delete + Fetch <= 200. */
	if (count > SYNC_MAX_COMMANDS - d->n_commands) {
		d->limit = SYNC_MAX_COMMANDS;
		return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
	}
	d->n_commands += count;
	if (count == 0)
		return 0;
	c->commands = calloc(count, sizeof(*c->commands));
	if (c->commands == NULL)
		return fail(d, SYNC_STATUS_SERVER_ERROR);
	WBXML_FOREACH_CHILD(n, cmds)
	{
		struct sync_command *cmd = &c->commands[i];
		uint16_t tag = wbxml_node_tag(n);

		/* Counted before decoding, so a failure frees what this
		 * and the earlier commands allocated. */
		c->n_commands = i + 1;
		switch (tag) {
		case EAS_AIRSYNC_ADD:
			cmd->op = SYNC_OP_ADD;
			if (wbxml_child_str(n, EAS_AIRSYNC_CLIENT_ID,
					    SYNC_MAX_ID_BYTES, &cmd->client_id,
					    NULL, &err) != 0)
				return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
			break;
		case EAS_AIRSYNC_CHANGE:
			cmd->op = SYNC_OP_CHANGE;
			break;
		case EAS_AIRSYNC_DELETE:
			cmd->op = SYNC_OP_DELETE;
			break;
		case EAS_AIRSYNC_FETCH:
			cmd->op = SYNC_OP_FETCH;
			break;
		default:
			continue; /* unknown token: ignored (wbxml.h) */
		}
		if (cmd->op != SYNC_OP_ADD &&
		    wbxml_child_str(n, EAS_AIRSYNC_SERVER_ID, SYNC_MAX_ID_BYTES,
				    &cmd->server_id, NULL, &err) != 0)
			return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
		cmd->email.read = -1;
		if (cmd->op == SYNC_OP_ADD || cmd->op == SYNC_OP_CHANGE) {
			cmd->app_data =
			    wbxml_node_child(n, EAS_AIRSYNC_APPLICATION_DATA);
			if (cmd->app_data == NULL)
				return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
		}
		/* calendar: events are decoded by cmd_sync.c (a bad one is
		 * that command's Status 6), never as email or drafts. */
		if (decode_instance(d, n, cmd) != 0)
			return -1;
		if (calendar_wbxml_is_event(cmd->app_data)) {
			i++;
			continue;
		}
		if (cmd->op == SYNC_OP_CHANGE && is_email_class(c->class) &&
		    decode_email_change(d, tree, cmd->app_data, &cmd->email) !=
			0) {
			c->n_commands = i + 1;
			return -1;
		}
		/* 16.0 drafts (MS-ASCMD 2.2.1.21, MS-ASEMAIL 2.2.2.69). */
		if (d->version >= 160 && is_email_class(c->class) &&
		    (cmd->op == SYNC_OP_ADD || cmd->op == SYNC_OP_CHANGE) &&
		    decode_draft(d, n, cmd->app_data, cmd->op == SYNC_OP_ADD,
				 &cmd->draft) != 0) {
			c->n_commands = i + 1;
			return -1;
		}
		i++;
	}
	c->n_commands = i;
	return 0;
}

static int
decode_collection(struct dec *d, struct wbxml_tree *tree,
		  const struct wbxml_node *n, struct sync_collection *c)
{
	const struct wbxml_node *opt, *cmds;
	int r;

	if (copy_str(d, n, EAS_AIRSYNC_CLASS, c->class, SYNC_MAX_CLASS_BYTES,
		     false) != 0 ||
	    copy_str(d, n, EAS_AIRSYNC_SYNC_KEY, c->sync_key,
		     SYNC_MAX_KEY_BYTES, true) != 0 ||
	    copy_str(d, n, EAS_AIRSYNC_COLLECTION_ID, c->collection_id,
		     SYNC_MAX_ID_BYTES, true) != 0)
		return -1;
	if (c->sync_key[0] == '\0' || c->collection_id[0] == '\0')
		return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
	if (get_bool(d, n, EAS_AIRSYNC_GET_CHANGES, &c->has_get_changes,
		     &c->get_changes) != 0 ||
	    get_bool(d, n, EAS_AIRSYNC_DELETES_AS_MOVES,
		     &c->has_deletes_as_moves, &c->deletes_as_moves) != 0 ||
	    get_bool(d, n, EAS_AIRSYNC_CONVERSATION_MODE,
		     &c->has_conversation_mode, &c->conversation_mode) != 0)
		return -1;
	r = get_uint(d, n, EAS_AIRSYNC_WINDOW_SIZE, 0, UINT32_MAX,
		     &c->window_size);
	if (r < 0)
		return -1;
	c->has_window_size = r == 1;
	/* MS-ASCMD 2.2.3.199: 0 and values above 512 are served as 512. */
	if (c->has_window_size &&
	    (c->window_size == 0 || c->window_size > SYNC_MAX_WINDOW_SIZE))
		c->window_size = SYNC_MAX_WINDOW_SIZE;
	/* Options may appear twice (Email and SMS, MS-ASCMD 2.2.3.125.5):
	 * the one for this collection's class is kept. */
	WBXML_FOREACH(opt, n, EAS_AIRSYNC_OPTIONS)
	{
		struct sync_options o;

		if (decode_options(d, opt, &o) != 0)
			return -1;
		if (!c->has_options || is_email_class(o.class) ||
		    strcmp(o.class, c->class) == 0) {
			if (!c->has_options || strcmp(o.class, "SMS") != 0)
				c->options = o;
			c->has_options = true;
		}
	}
	cmds = wbxml_node_child(n, EAS_AIRSYNC_COMMANDS);
	if (cmds != NULL && decode_commands(d, tree, cmds, c) != 0)
		return -1;
	return 0;
}

static void
free_collections(struct sync_collection *colls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < colls[i].n_commands; j++) {
			free(colls[i].commands[j].email.categories);
			free(colls[i].commands[j].draft.add);
			free(colls[i].commands[j].draft.del);
		}
		free(colls[i].commands);
	}
	free(colls);
}

static int
decode_root(struct dec *d, struct sync_request *r)
{
	const struct wbxml_node *root = wbxml_tree_root(r->tree);
	const struct wbxml_node *colls, *n;
	size_t count;
	uint32_t v;
	int got;

	if (root == NULL || wbxml_node_tag(root) != EAS_AIRSYNC_SYNC)
		return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
	r->partial = wbxml_child_present(root, EAS_AIRSYNC_PARTIAL);
	got = get_uint(d, root, EAS_AIRSYNC_WAIT, 0, UINT32_MAX, &v);
	if (got < 0)
		return -1;
	if (got == 1) {
		/* MS-ASCMD 2.2.3.97: out of range -> 14 with the bound. */
		if (v < SYNC_MIN_WAIT_MIN || v > SYNC_MAX_WAIT_MIN) {
			d->limit = v < SYNC_MIN_WAIT_MIN ? SYNC_MIN_WAIT_MIN
							 : SYNC_MAX_WAIT_MIN;
			return fail(d, SYNC_STATUS_INVALID_INTERVAL);
		}
		r->has_wait = true;
		r->wait_min = v;
	}
	got = get_uint(d, root, EAS_AIRSYNC_HEARTBEAT_INTERVAL, 0, UINT32_MAX,
		       &v);
	if (got < 0)
		return -1;
	if (got == 1) {
		r->has_heartbeat = true;
		r->heartbeat_s = v;
	}
	/* Wait and HeartbeatInterval together are a protocol error
	 * (MS-ASCMD 2.2.3.88.2). */
	if (r->has_wait && r->has_heartbeat)
		return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
	got = get_uint(d, root, EAS_AIRSYNC_WINDOW_SIZE, 0, UINT32_MAX, &v);
	if (got < 0)
		return -1;
	if (got == 1) {
		r->has_window_size = true;
		r->window_size = v == 0 || v > SYNC_MAX_WINDOW_SIZE
				     ? SYNC_MAX_WINDOW_SIZE
				     : v;
	}
	colls = wbxml_node_child(root, EAS_AIRSYNC_COLLECTIONS);
	if (colls == NULL)
		return 0; /* partial or heartbeat-only: merged later */
	count = wbxml_node_count_children(colls, EAS_AIRSYNC_COLLECTION);
	if (count > SYNC_MAX_COLLECTIONS) {
		d->limit = SYNC_MAX_COLLECTIONS;
		return fail(d, SYNC_STATUS_INVALID_COMMAND);
	}
	if (count == 0)
		return 0;
	r->collections = calloc(count, sizeof(*r->collections));
	if (r->collections == NULL)
		return fail(d, SYNC_STATUS_SERVER_ERROR);
	WBXML_FOREACH(n, colls, EAS_AIRSYNC_COLLECTION)
	{
		struct sync_collection *c = &r->collections[r->n_collections];

		r->n_collections++;
		if (decode_collection(d, r->tree, n, c) != 0)
			return -1;
		for (size_t i = 0; i + 1 < r->n_collections; i++)
			if (strcmp(r->collections[i].collection_id,
				   c->collection_id) == 0)
				return fail(d, SYNC_STATUS_PROTOCOL_ERROR);
	}
	return 0;
}

int
sync_req_decode(const uint8_t *body, size_t len, unsigned version,
		unsigned min_heartbeat_s, unsigned max_heartbeat_s,
		struct sync_request **req_r, enum sync_status *status_r,
		uint32_t *limit_r)
{
	struct dec d = {.version = version, .status = SYNC_STATUS_OK};
	struct sync_request *r;
	int ret = -1;

	*req_r = NULL;
	*limit_r = 0;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		d.status = SYNC_STATUS_SERVER_ERROR;
		goto out;
	}
	if (len == 0) {
		/* MS-ASCMD 2.2.1.21: the empty Sync is 12.1+. */
		if (version < 121) {
			d.status = SYNC_STATUS_PROTOCOL_ERROR;
			goto out;
		}
		r->empty = true;
		ret = 0;
		goto out;
	}
	if (wbxml_tree_parse(body, len, &r->tree, NULL, NULL) != 0) {
		d.status = SYNC_STATUS_PROTOCOL_ERROR;
		goto out;
	}
	if (decode_root(&d, r) != 0)
		goto out;
	if (r->has_heartbeat && (r->heartbeat_s < min_heartbeat_s ||
				 r->heartbeat_s > max_heartbeat_s)) {
		d.limit = r->heartbeat_s < min_heartbeat_s ? min_heartbeat_s
							   : max_heartbeat_s;
		d.status = SYNC_STATUS_INVALID_INTERVAL;
		goto out;
	}
	/* Without Partial, a request that names no collection is only
	 * valid as a heartbeat-only request of 12.1+ (merged from cache). */
	if (r->n_collections == 0 && !r->partial && version < 121) {
		d.status = SYNC_STATUS_PROTOCOL_ERROR;
		goto out;
	}
	ret = 0;
out:
	*status_r = d.status;
	if (ret != 0) {
		*limit_r = d.limit;
		sync_req_free(&r);
	}
	*req_r = r;
	return ret;
}

void
sync_req_free(struct sync_request **req)
{
	struct sync_request *r = *req;

	if (r == NULL)
		return;
	free_collections(r->collections, r->n_collections);
	wbxml_tree_free(&r->tree);
	free(r);
	*req = NULL;
}

uint32_t
sync_req_window(const struct sync_request *req,
		const struct sync_collection *coll)
{
	/* MS-ASCMD 2.2.3.199.2: a collection's WindowSize wins, then the
	 * global one, then the default. */
	if (coll->has_window_size)
		return coll->window_size;
	if (req->has_window_size)
		return req->window_size;
	return SYNC_DEFAULT_WINDOW_SIZE;
}

bool
sync_req_get_changes(const struct sync_collection *coll)
{
	/* MS-ASCMD 2.2.3.79: default true, except with SyncKey 0 where the
	 * server never returns changes. */
	if (strcmp(coll->sync_key, "0") == 0)
		return false;
	return coll->has_get_changes ? coll->get_changes : true;
}

bool
sync_req_deletes_as_moves(const struct sync_collection *coll)
{
	/* MS-ASCMD 2.2.3.42.2: absent means true. */
	return coll->has_deletes_as_moves ? coll->deletes_as_moves : true;
}

unsigned
sync_req_hold_s(const struct sync_request *req)
{
	if (req->has_wait)
		return req->wait_min * 60u;
	if (req->has_heartbeat)
		return req->heartbeat_s;
	return 0;
}

static int
parse_digits(const char **p, unsigned n, int *val_r)
{
	int v = 0;

	for (unsigned i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*val_r = v;
	return 0;
}

int
sync_parse_datetime(const char *text, int64_t *secs_r)
{
	const char *p = text;
	struct tm tm;
	int y, mo, d, h, mi, s, ms;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (parse_digits(&p, 4, &y) != 0 || *p++ != '-' ||
	    parse_digits(&p, 2, &mo) != 0 || *p++ != '-' ||
	    parse_digits(&p, 2, &d) != 0 || *p++ != 'T' ||
	    parse_digits(&p, 2, &h) != 0 || *p++ != ':' ||
	    parse_digits(&p, 2, &mi) != 0 || *p++ != ':' ||
	    parse_digits(&p, 2, &s) != 0)
		return -1;
	if (*p == '.') {
		p++;
		if (parse_digits(&p, 3, &ms) != 0)
			return -1;
	}
	if (*p != 'Z' || p[1] != '\0')
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    s > 60 || y < 1601)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm);
	*secs_r = (int64_t)t;
	return 0;
}

/* ---- cache ------------------------------------------------------------- */

/* One device's last full request, without its commands. */
struct sync_cached {
	bool has_wait, has_heartbeat, has_window_size;
	uint32_t wait_min, heartbeat_s, window_size;
	size_t n_collections;
	struct sync_collection *collections; /* commands always empty */
};

struct sync_cache {
	struct device_cache *devices;
};

static void
sync_cached_free(void *value)
{
	struct sync_cached *sc = value;

	if (sc != NULL)
		free(sc->collections);
	free(sc);
}

struct sync_cache *
sync_cache_new(size_t max_devices)
{
	struct sync_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->devices = device_cache_new(max_devices, sync_cached_free);
	if (c->devices == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
sync_cache_free(struct sync_cache **cache)
{
	struct sync_cache *c = *cache;

	if (c == NULL)
		return;
	device_cache_free(&c->devices);
	free(c);
	*cache = NULL;
}

int
sync_cache_store(struct sync_cache *c, uint64_t user, const char *device_id,
		 const struct sync_request *req)
{
	struct sync_cached *e;
	int ret;

	if (strlen(device_id) > ASHTTP_MAX_DEVICE_ID_BYTES)
		return -1;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -1;
	if (req->n_collections > 0) {
		e->collections =
		    calloc(req->n_collections, sizeof(*e->collections));
		if (e->collections == NULL) {
			sync_cached_free(e);
			return -1;
		}
		for (size_t i = 0; i < req->n_collections; i++) {
			e->collections[i] = req->collections[i];
			e->collections[i].n_commands = 0;
			e->collections[i].commands = NULL;
		}
	}
	e->n_collections = req->n_collections;
	e->has_wait = req->has_wait;
	e->wait_min = req->wait_min;
	e->has_heartbeat = req->has_heartbeat;
	e->heartbeat_s = req->heartbeat_s;
	e->has_window_size = req->has_window_size;
	e->window_size = req->window_size;
	device_cache_lock(c->devices);
	ret = device_cache_put(c->devices, user, device_id, e);
	device_cache_unlock(c->devices);
	if (ret != 0)
		sync_cached_free(e);
	return ret;
}

void
sync_cache_set_key(struct sync_cache *c, uint64_t user, const char *device_id,
		   const char *collection_id, const char *sync_key)
{
	struct sync_cached *e;
	size_t len = strlen(sync_key);

	if (len > SYNC_MAX_KEY_BYTES)
		return;
	device_cache_lock(c->devices);
	e = device_cache_get(c->devices, user, device_id);
	for (size_t i = 0; e != NULL && i < e->n_collections; i++)
		if (strcmp(e->collections[i].collection_id, collection_id) == 0)
			memcpy(e->collections[i].sync_key, sync_key, len + 1);
	device_cache_unlock(c->devices);
}

size_t
sync_cache_count(struct sync_cache *c)
{
	return device_cache_count(c->devices);
}

static const struct sync_collection *
find_coll(const struct sync_collection *colls, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(colls[i].collection_id, id) == 0)
			return &colls[i];
	return NULL;
}

int
sync_req_merge(struct sync_cache *c, uint64_t user, const char *device_id,
	       unsigned version, struct sync_request *req,
	       enum sync_status *status_r)
{
	struct sync_cached *e;
	struct sync_collection *colls = NULL;
	size_t n = 0, extra = 0;
	bool needs_cache =
	    req->empty || req->partial || req->n_collections == 0;
	int ret = -1;

	*status_r = SYNC_STATUS_OK;
	if (version < 121) {
		/* No empty or partial Sync before 12.1. */
		if (needs_cache) {
			*status_r = SYNC_STATUS_PROTOCOL_ERROR;
			return -1;
		}
		return 0;
	}
	device_cache_lock(c->devices);
	e = device_cache_get(c->devices, user, device_id);
	if (e == NULL) {
		if (needs_cache) {
			/* MS-ASCMD 2.2.3.177.17 Status 13: the client sends
			 * the full request again. */
			*status_r = SYNC_STATUS_INCOMPLETE;
			goto out;
		}
		ret = 0;
		goto out;
	}
	/* Omitted intervals and window reuse the cached ones. */
	if (needs_cache && !req->has_wait && !req->has_heartbeat) {
		req->has_wait = e->has_wait;
		req->wait_min = e->wait_min;
		req->has_heartbeat = e->has_heartbeat;
		req->heartbeat_s = e->heartbeat_s;
	}
	/* WindowSize carries over only into empty and partial requests; a
	 * full request without one gets the default.  Options carry over
	 * into any 12.1+ request that omits them (as Z-Push keeps them). */
	if (needs_cache && !req->has_window_size && e->has_window_size) {
		req->has_window_size = true;
		req->window_size = e->window_size;
	}
	for (size_t i = 0; i < req->n_collections; i++) {
		struct sync_collection *rc = &req->collections[i];
		const struct sync_collection *cc = find_coll(
		    e->collections, e->n_collections, rc->collection_id);

		if (cc == NULL)
			continue;
		if (!rc->has_options && cc->has_options) {
			rc->has_options = true;
			rc->options = cc->options;
		}
		if (needs_cache && !rc->has_window_size &&
		    cc->has_window_size) {
			rc->has_window_size = true;
			rc->window_size = cc->window_size;
		}
		if (rc->class[0] == '\0')
			memcpy(rc->class, cc->class, sizeof(rc->class));
	}
	if (!needs_cache) {
		ret = 0;
		goto out;
	}
	/* Empty or partial: add the cached collections not named. */
	for (size_t i = 0; i < e->n_collections; i++)
		if (find_coll(req->collections, req->n_collections,
			      e->collections[i].collection_id) == NULL)
			extra++;
	if (extra == 0) {
		ret = 0;
		goto out;
	}
	if (req->n_collections + extra > SYNC_MAX_COLLECTIONS) {
		*status_r = SYNC_STATUS_INVALID_COMMAND;
		goto out;
	}
	colls = calloc(req->n_collections + extra, sizeof(*colls));
	if (colls == NULL) {
		*status_r = SYNC_STATUS_SERVER_ERROR;
		goto out;
	}
	if (req->n_collections > 0)
		memcpy(colls, req->collections,
		       req->n_collections * sizeof(*colls));
	n = req->n_collections;
	for (size_t i = 0; i < e->n_collections; i++)
		if (find_coll(req->collections, req->n_collections,
			      e->collections[i].collection_id) == NULL)
			colls[n++] = e->collections[i];
	free(req->collections);
	req->collections = colls;
	req->n_collections = n;
	ret = 0;
out:
	device_cache_unlock(c->devices);
	return ret;
}
