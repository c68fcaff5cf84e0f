/*
 * Settings request decoding and response pieces (see settings_req.h).
 * The decoder works on the typed tree (proto/wbxml_tree.h): every string
 * is read with its bound, every count is checked before the loop that
 * uses it, and nothing is allocated besides the tree.
 */
#include "cas/settings_req.h"
#include "cas/sync_req.h"
#include "cas/email_wbxml.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Largest text produced by a body conversion: escaping can grow text
 * six times ("&quot;"), plus a <br> per line. */
#define SETTINGS_MAX_CONVERTED_BYTES (AUTOREPLY_MAX_MESSAGE_BYTES * 6u + 64u)

/* An optional string child: 0 (absent leaves *s NULL), or -1 when it is
 * present but not a string within max. */
static int
opt_str(const struct wbxml_node *parent, uint16_t tag, size_t max,
	const char **s)
{
	enum wbxml_err err = WBXML_ERR_NONE;

	*s = NULL;
	if (wbxml_child_str(parent, tag, max, s, NULL, &err) == 0)
		return 0;
	*s = NULL;
	return err == WBXML_ERR_MISSING ? 0 : -1;
}

/* MS-ASCMD 2.2.3.16.2 BodyType (Settings): "Text" or "HTML", any case.
 * 0 absent, 1 present (*html set), -1 invalid. */
static int
body_type(const struct wbxml_node *parent, bool *html)
{
	const char *s;

	if (opt_str(parent, EAS_SETTINGS_BODY_TYPE,
		    SETTINGS_MAX_BODY_TYPE_BYTES, &s) != 0)
		return -1;
	if (s == NULL)
		return 0;
	if (strcasecmp(s, "HTML") == 0)
		*html = true;
	else if (strcasecmp(s, "Text") == 0)
		*html = false;
	else
		return -1;
	return 1;
}

/* An optional date child; 0 absent, 1 present, -1 malformed. */
static int
opt_date(const struct wbxml_node *parent, uint16_t tag, int64_t *secs)
{
	const char *s;

	if (opt_str(parent, tag, SETTINGS_MAX_DATE_BYTES, &s) != 0)
		return -1;
	if (s == NULL)
		return 0;
	return sync_parse_datetime(s, secs) == 0 ? 1 : -1;
}

/* One OofMessage (MS-ASCMD 2.2.3.120); the operation's status on error. */
static enum settings_status
decode_oof_message(const struct wbxml_node *n, struct settings_oof_set *o)
{
	static const uint16_t audience_tags[SETTINGS_MAX_OOF_MESSAGES] = {
	    EAS_SETTINGS_APPLIES_TO_INTERNAL,
	    EAS_SETTINGS_APPLIES_TO_EXTERNAL_KNOWN,
	    EAS_SETTINGS_APPLIES_TO_EXTERNAL_UNKNOWN,
	};
	struct settings_oof_message *m = NULL;
	enum wbxml_err err = WBXML_ERR_NONE;
	const char *reply;
	uint64_t v;
	int rc;

	for (size_t i = 0; i < SETTINGS_MAX_OOF_MESSAGES; i++) {
		if (!wbxml_child_present(n, audience_tags[i]))
			continue;
		if (m != NULL)
			return SETTINGS_STATUS_PROTOCOL_ERROR; /* two */
		m = &o->msg[i];
	}
	/* Exactly one audience, and each audience once per Set. */
	if (m == NULL || m->present)
		return SETTINGS_STATUS_PROTOCOL_ERROR;
	m->present = true;
	if (wbxml_child_uint(n, EAS_SETTINGS_ENABLED, 0, 1, &v, &err) == 0) {
		m->has_enabled = true;
		m->enabled = v == 1;
	} else if (err != WBXML_ERR_MISSING) {
		return SETTINGS_STATUS_PROTOCOL_ERROR;
	}
	err = WBXML_ERR_NONE;
	if (wbxml_child_str(n, EAS_SETTINGS_REPLY_MESSAGE,
			    AUTOREPLY_MAX_MESSAGE_BYTES, &reply, NULL,
			    &err) == 0)
		m->reply = reply;
	else if (err == WBXML_ERR_TOO_LONG)
		return SETTINGS_STATUS_INVALID_ARGUMENTS;
	else if (err != WBXML_ERR_MISSING)
		return SETTINGS_STATUS_PROTOCOL_ERROR;
	rc = body_type(n, &m->is_html);
	if (rc < 0)
		return SETTINGS_STATUS_PROTOCOL_ERROR;
	m->has_body_type = rc == 1;
	return SETTINGS_STATUS_SUCCESS;
}

/* MS-ASCMD 2.2.3.167.3 Set (Oof). */
static enum settings_status
decode_oof_set(const struct wbxml_node *set, struct settings_oof_set *o)
{
	const struct wbxml_node *n;
	enum wbxml_err err = WBXML_ERR_NONE;
	enum settings_status st;
	uint64_t v;
	int rc;

	if (wbxml_child_uint(set, EAS_SETTINGS_OOF_STATE, 0, 2, &v, &err) ==
	    0) {
		o->has_state = true;
		o->state = (unsigned)v;
	} else if (err != WBXML_ERR_MISSING) {
		return SETTINGS_STATUS_PROTOCOL_ERROR;
	}
	rc = opt_date(set, EAS_SETTINGS_START_TIME, &o->start_time);
	if (rc < 0)
		return SETTINGS_STATUS_PROTOCOL_ERROR;
	o->has_start = rc == 1;
	rc = opt_date(set, EAS_SETTINGS_END_TIME, &o->end_time);
	if (rc < 0)
		return SETTINGS_STATUS_PROTOCOL_ERROR;
	o->has_end = rc == 1;
	if (wbxml_node_count_children(set, EAS_SETTINGS_OOF_MESSAGE) >
	    SETTINGS_MAX_OOF_MESSAGES)
		return SETTINGS_STATUS_PROTOCOL_ERROR;
	WBXML_FOREACH(n, set, EAS_SETTINGS_OOF_MESSAGE)
	{
		st = decode_oof_message(n, o);
		if (st != SETTINGS_STATUS_SUCCESS)
			return st;
	}
	/* MS-ASCMD 2.2.3.176.2 / 2.2.3.63.3: a time-based Oof names its
	 * window; an end before its start conflicts. */
	if (o->has_start && o->has_end && o->end_time <= o->start_time)
		return SETTINGS_STATUS_CONFLICTING_ARGUMENTS;
	return SETTINGS_STATUS_SUCCESS;
}

/* The single Get or Set child of an operation: -1 when both, neither, or
 * a second one is present. */
static int
get_or_set(const struct wbxml_node *op, const struct wbxml_node **get,
	   const struct wbxml_node **set)
{
	*get = wbxml_node_child(op, EAS_SETTINGS_GET);
	*set = wbxml_node_child(op, EAS_SETTINGS_SET);
	if ((*get == NULL) == (*set == NULL))
		return -1;
	if ((*get != NULL && wbxml_node_next_same(*get) != NULL) ||
	    (*set != NULL && wbxml_node_next_same(*set) != NULL))
		return -1;
	return 0;
}

static int
decode_oof(const struct wbxml_node *n, struct settings_op *op)
{
	const struct wbxml_node *get, *set;

	if (get_or_set(n, &get, &set) != 0)
		return -1;
	if (get != NULL) {
		op->kind = SETTINGS_OOF_GET;
		/* MS-ASCMD 2.2.3.83.3: BodyType is required in a Get; a
		 * missing one is read as Text (iOS 9 sent none). */
		if (body_type(get, &op->get_html) < 0)
			op->status = SETTINGS_STATUS_PROTOCOL_ERROR;
		return 0;
	}
	op->kind = SETTINGS_OOF_SET;
	op->status = decode_oof_set(set, &op->oof);
	return 0;
}

static int
decode_device_info(const struct wbxml_node *n, struct settings_op *op)
{
	const struct wbxml_node *get, *set;
	struct settings_device_info *d = &op->info;
	enum wbxml_err err = WBXML_ERR_NONE;
	uint64_t v;
	const struct {
		uint16_t tag;
		const char **field;
	} texts[] = {
	    {EAS_SETTINGS_MODEL, &d->model},
	    {EAS_SETTINGS_IMEI, &d->imei},
	    {EAS_SETTINGS_FRIENDLY_NAME, &d->friendly_name},
	    {EAS_SETTINGS_OS, &d->os},
	    {EAS_SETTINGS_OS_LANGUAGE, &d->os_language},
	    {EAS_SETTINGS_PHONE_NUMBER, &d->phone_number},
	    {EAS_SETTINGS_MOBILE_OPERATOR, &d->mobile_operator},
	    {EAS_SETTINGS_USER_AGENT, &d->user_agent},
	};

	op->kind = SETTINGS_DEVICE_INFORMATION;
	/* MS-ASCMD 2.2.3.45: DeviceInformation has only Set. */
	if (get_or_set(n, &get, &set) != 0 || set == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (opt_str(set, texts[i].tag, CAS_DEVICE_INFO_MAX_BYTES,
			    texts[i].field) != 0) {
			op->status = SETTINGS_STATUS_INVALID_ARGUMENTS;
			return 0;
		}
	if (wbxml_child_uint(set, EAS_SETTINGS_ENABLE_OUTBOUND_SMS, 0, 1, &v,
			     &err) == 0)
		d->enable_outbound_sms = v == 1;
	else if (err != WBXML_ERR_MISSING)
		op->status = SETTINGS_STATUS_INVALID_ARGUMENTS;
	return 0;
}

static int
decode_device_password(const struct wbxml_node *n, struct settings_op *op)
{
	const struct wbxml_node *get, *set;
	enum wbxml_err err = WBXML_ERR_NONE;

	op->kind = SETTINGS_DEVICE_PASSWORD;
	if (get_or_set(n, &get, &set) != 0 || set == NULL)
		return -1;
	/* MS-ASCMD 2.2.3.130.1: Password is required in the Set. */
	if (wbxml_child_str(set, EAS_SETTINGS_PASSWORD,
			    SETTINGS_MAX_PASSWORD_BYTES, &op->password, NULL,
			    &err) != 0) {
		op->password = NULL;
		op->status = err == WBXML_ERR_TOO_LONG
				 ? SETTINGS_STATUS_INVALID_ARGUMENTS
				 : SETTINGS_STATUS_PROTOCOL_ERROR;
	}
	return 0;
}

/* UserInformation and RightsManagementInformation: Get only. */
static int
decode_get_only(const struct wbxml_node *n, struct settings_op *op,
		enum settings_kind kind)
{
	const struct wbxml_node *get, *set;

	op->kind = kind;
	if (get_or_set(n, &get, &set) != 0 || get == NULL)
		return -1;
	return 0;
}

int
settings_req_decode(const uint8_t *body, size_t len, struct settings_request *r)
{
	const struct wbxml_node *root, *n;
	bool seen[SETTINGS_RIGHTS_MANAGEMENT + 1] = {false};
	size_t count = 0;

	memset(r, 0, sizeof(*r));
	if (len == 0 || (r->body = malloc(len)) == NULL)
		goto fail;
	memcpy(r->body, body, len);
	if (wbxml_tree_parse(r->body, len, &r->tree, NULL, NULL) != 0)
		goto fail;
	root = wbxml_tree_root(r->tree);
	if (root == NULL || wbxml_node_tag(root) != EAS_SETTINGS_SETTINGS)
		goto fail;
	for (n = wbxml_node_first(root); n != NULL; n = wbxml_node_next(n))
		if (++count > SETTINGS_MAX_OPERATIONS)
			goto fail;
	if (count == 0)
		goto fail;
	for (n = wbxml_node_first(root); n != NULL; n = wbxml_node_next(n)) {
		struct settings_op *op = &r->ops[r->n_ops];
		int rc;

		memset(op, 0, sizeof(*op));
		op->status = SETTINGS_STATUS_SUCCESS;
		switch (wbxml_node_tag(n)) {
		case EAS_SETTINGS_OOF:
			rc = decode_oof(n, op);
			break;
		case EAS_SETTINGS_DEVICE_INFORMATION:
			rc = decode_device_info(n, op);
			break;
		case EAS_SETTINGS_DEVICE_PASSWORD:
			rc = decode_device_password(n, op);
			break;
		case EAS_SETTINGS_USER_INFORMATION:
			rc = decode_get_only(n, op, SETTINGS_USER_INFORMATION);
			break;
		case EAS_SETTINGS_RIGHTS_MANAGEMENT_INFORMATION:
			rc = decode_get_only(n, op, SETTINGS_RIGHTS_MANAGEMENT);
			break;
		default:
			rc = -1;
			break;
		}
		if (rc != 0)
			goto fail;
		/* Oof Get and Oof Set are one element: count it once. */
		{
			enum settings_kind k = op->kind == SETTINGS_OOF_SET
						   ? SETTINGS_OOF_GET
						   : op->kind;

			if (seen[k])
				goto fail;
			seen[k] = true;
		}
		r->n_ops++;
	}
	return 0;
fail:
	settings_req_clear(r);
	return -1;
}

void
settings_req_clear(struct settings_request *r)
{
	wbxml_tree_free(&r->tree);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------- responses */

int
settings_text_to_html(const char *text, struct buf *out)
{
	for (const char *p = text; *p != 0; p++) {
		int rc;

		switch (*p) {
		case '&':
			rc = buf_append_str(out, "&amp;");
			break;
		case '<':
			rc = buf_append_str(out, "&lt;");
			break;
		case '>':
			rc = buf_append_str(out, "&gt;");
			break;
		case '"':
			rc = buf_append_str(out, "&quot;");
			break;
		case '\r':
			rc = 0;
			break;
		case '\n':
			rc = buf_append_str(out, "<br>\n");
			break;
		default:
			rc = buf_append_byte(out, (uint8_t)*p);
			break;
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Tag names after which a line break stands in for the block. */
static bool
breaks_line(const char *tag, size_t len)
{
	static const char *const names[] = {"br",  "/p",  "/div", "/li",
					    "/tr", "/h1", "/h2",  "/h3"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);

		if (len >= n && strncasecmp(tag, names[i], n) == 0 &&
		    (len == n || tag[n] == ' ' || tag[n] == '/'))
			return true;
	}
	return false;
}

int
settings_html_to_text(const char *html, struct buf *out)
{
	static const struct {
		const char *entity;
		char c;
	} entities[] = {{"&amp;", '&'},  {"&lt;", '<'},   {"&gt;", '>'},
			{"&quot;", '"'}, {"&#39;", '\''}, {"&nbsp;", ' '}};
	const char *p = html;

	while (*p != 0) {
		if (*p == '<') {
			const char *end = strchr(p, '>');

			if (end == NULL)
				break; /* an unclosed tag ends the text */
			if (breaks_line(p + 1, (size_t)(end - p - 1)) &&
			    buf_append_byte(out, '\n') != 0)
				return -1;
			p = end + 1;
			continue;
		}
		if (*p == '&') {
			bool done = false;

			for (size_t i = 0;
			     i < sizeof(entities) / sizeof(entities[0]); i++) {
				size_t n = strlen(entities[i].entity);

				if (strncasecmp(p, entities[i].entity, n) ==
				    0) {
					if (buf_append_byte(
						out, (uint8_t)entities[i].c) !=
					    0)
						return -1;
					p += n;
					done = true;
					break;
				}
			}
			if (done)
				continue;
		}
		if (*p != '\r' && buf_append_byte(out, (uint8_t)*p) != 0)
			return -1;
		p++;
	}
	return 0;
}

int
settings_resp_oof_get(struct wbxml_enc *e, enum settings_status status,
		      const struct settings_oof_get *oof, bool want_html)
{
	static const uint16_t audience_tags[SETTINGS_MAX_OOF_MESSAGES] = {
	    EAS_SETTINGS_APPLIES_TO_INTERNAL,
	    EAS_SETTINGS_APPLIES_TO_EXTERNAL_KNOWN,
	    EAS_SETTINGS_APPLIES_TO_EXTERNAL_UNKNOWN,
	};
	char date[EMAIL_WBXML_DATE_BYTES];
	struct buf conv;
	int rc = 0;

	buf_init(&conv, SETTINGS_MAX_CONVERTED_BYTES);
	rc |= wbxml_enc_start(e, EAS_SETTINGS_OOF);
	rc |= wbxml_enc_uint(e, EAS_SETTINGS_STATUS, status);
	if (status != SETTINGS_STATUS_SUCCESS || oof == NULL)
		goto end;
	/* MS-ASCMD 2.2.3.83.3 Get (Oof) response: OofState, the window
	 * for a time-based Oof, then one OofMessage per audience. */
	rc |= wbxml_enc_start(e, EAS_SETTINGS_GET);
	rc |= wbxml_enc_uint(e, EAS_SETTINGS_OOF_STATE, oof->state);
	if (oof->state == 2) {
		email_wbxml_format_date(oof->start_time, date);
		rc |= wbxml_enc_str(e, EAS_SETTINGS_START_TIME, date);
		email_wbxml_format_date(oof->end_time, date);
		rc |= wbxml_enc_str(e, EAS_SETTINGS_END_TIME, date);
	}
	for (size_t i = 0; i < SETTINGS_MAX_OOF_MESSAGES; i++) {
		const struct settings_oof_get_message *m = &oof->msg[i];
		const char *text = m->reply != NULL ? m->reply : "";

		rc |= wbxml_enc_start(e, EAS_SETTINGS_OOF_MESSAGE);
		rc |= wbxml_enc_empty(e, audience_tags[i]);
		rc |= wbxml_enc_uint(e, EAS_SETTINGS_ENABLED, m->enabled);
		if (text[0] != 0) {
			if (m->is_html != want_html) {
				buf_reset(&conv);
				if ((want_html
					 ? settings_text_to_html(text, &conv)
					 : settings_html_to_text(text,
								 &conv)) != 0) {
					rc = -1;
					goto end;
				}
				text = buf_str(&conv);
			}
			rc |=
			    wbxml_enc_str(e, EAS_SETTINGS_REPLY_MESSAGE, text);
			rc |= wbxml_enc_str(e, EAS_SETTINGS_BODY_TYPE,
					    want_html ? "HTML" : "Text");
		}
		rc |= wbxml_enc_end(e);
	}
	rc |= wbxml_enc_end(e);
end:
	rc |= wbxml_enc_end(e);
	buf_free(&conv);
	return rc != 0 ? -1 : 0;
}

int
settings_resp_user_info(struct wbxml_enc *e, enum settings_status status,
			unsigned version, const struct settings_user_info *u)
{
	int rc = 0;

	rc |= wbxml_enc_start(e, EAS_SETTINGS_USER_INFORMATION);
	rc |= wbxml_enc_uint(e, EAS_SETTINGS_STATUS, status);
	if (status == SETTINGS_STATUS_SUCCESS && u != NULL) {
		rc |= wbxml_enc_start(e, EAS_SETTINGS_GET);
		if (version >= 141) {
			/* MS-ASCMD 2.2.3.3 Accounts (14.1+): one Account,
			 * the primary one (no AccountId). */
			rc |= wbxml_enc_start(e, EAS_SETTINGS_ACCOUNTS);
			rc |= wbxml_enc_start(e, EAS_SETTINGS_ACCOUNT);
			if (u->display_name != NULL && u->display_name[0] != 0)
				rc |= wbxml_enc_str(
				    e, EAS_SETTINGS_USER_DISPLAY_NAME,
				    u->display_name);
		}
		rc |= wbxml_enc_start(e, EAS_SETTINGS_EMAIL_ADDRESSES);
		/* MS-ASCMD 2.2.3.138 PrimarySmtpAddress (14.1+). */
		if (version >= 141 && u->n_addresses > 0)
			rc |=
			    wbxml_enc_str(e, EAS_SETTINGS_PRIMARY_SMTP_ADDRESS,
					  u->addresses[0]);
		for (size_t i = 0; i < u->n_addresses; i++)
			rc |= wbxml_enc_str(e, EAS_SETTINGS_SMTP_ADDRESS,
					    u->addresses[i]);
		rc |= wbxml_enc_end(e);
		if (version >= 141) {
			rc |= wbxml_enc_end(e);
			rc |= wbxml_enc_end(e);
		}
		rc |= wbxml_enc_end(e);
	}
	rc |= wbxml_enc_end(e);
	return rc != 0 ? -1 : 0;
}
