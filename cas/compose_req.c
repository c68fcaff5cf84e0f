/*
 * Decoding of SendMail, SmartReply and SmartForward requests (see
 * compose_req.h).  Pure functions over an already decoded WBXML tree or
 * the raw body and the parsed query; nothing here allocates except the
 * Forwardee array, whose length is bounded before the allocation.
 */
#include "cas/compose_req.h"

#include <stdlib.h>
#include <string.h>

#include "proto/limits.h"
#include "proto/wbxml.h"

uint16_t
compose_req_root(enum compose_req_kind kind)
{
	switch (kind) {
	case COMPOSE_REQ_SMART_REPLY:
		return EAS_COMPOSEMAIL_SMART_REPLY;
	case COMPOSE_REQ_SMART_FORWARD:
		return EAS_COMPOSEMAIL_SMART_FORWARD;
	case COMPOSE_REQ_SEND_MAIL:
	default:
		return EAS_COMPOSEMAIL_SEND_MAIL;
	}
}

void
compose_req_clear(struct compose_req *r)
{
	free(r->forwardees);
	memset(r, 0, sizeof(*r));
}

static void
req_init(struct compose_req *r, enum compose_req_kind kind)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->client_id = "";
	r->account_id = "";
	r->folder_id = "";
	r->item_id = "";
	r->long_id = "";
	r->instance_id = "";
}

/* An optional string child: 0 when absent (out stays ""), -1 when
 * malformed or longer than max. */
static int
opt_str(const struct wbxml_node *parent, uint16_t tag, size_t max,
	const char **out)
{
	enum wbxml_err err = WBXML_ERR_NONE;
	const char *s = NULL;

	if (wbxml_child_str(parent, tag, max, &s, NULL, &err) == 0) {
		*out = s;
		return 0;
	}
	return err == WBXML_ERR_MISSING ? 0 : -1;
}

/* MS-ASCMD 2.2.3.168 Source: ItemId (with its FolderId) or LongId, and
 * an InstanceId naming a calendar occurrence. */
static int
decode_source(const struct wbxml_node *root, struct compose_req *r)
{
	const struct wbxml_node *src =
	    wbxml_node_child(root, EAS_COMPOSEMAIL_SOURCE);

	if (src == NULL)
		return 0;
	if (opt_str(src, EAS_COMPOSEMAIL_FOLDER_ID, COMPOSE_MAX_SOURCE_ID_BYTES,
		    &r->folder_id) != 0 ||
	    opt_str(src, EAS_COMPOSEMAIL_ITEM_ID, COMPOSE_MAX_SOURCE_ID_BYTES,
		    &r->item_id) != 0 ||
	    opt_str(src, EAS_COMPOSEMAIL_LONG_ID, COMPOSE_MAX_LONG_ID_BYTES,
		    &r->long_id) != 0 ||
	    opt_str(src, EAS_COMPOSEMAIL_INSTANCE_ID,
		    COMPOSE_MAX_SOURCE_ID_BYTES, &r->instance_id) != 0)
		return -1;
	return 0;
}

/* MS-ASCMD 2.2.3.76 Forwardees (16.0+): each Forwardee has an Email and
 * may have a Name. */
static int
decode_forwardees(const struct wbxml_node *root, struct compose_req *r)
{
	const struct wbxml_node *list =
	    wbxml_node_child(root, EAS_COMPOSEMAIL_FORWARDEES);
	const struct wbxml_node *fw;
	size_t n;

	if (list == NULL)
		return 0;
	n = wbxml_node_count_children(list, EAS_COMPOSEMAIL_FORWARDEE);
	if (n == 0)
		return 0;
	if (n > COMPOSE_MAX_FORWARDEES)
		return -1;
	r->forwardees = calloc(n, sizeof(*r->forwardees));
	if (r->forwardees == NULL)
		return -1;
	for (fw = wbxml_node_child(list, EAS_COMPOSEMAIL_FORWARDEE); fw != NULL;
	     fw = wbxml_node_next_same(fw)) {
		struct compose_req_forwardee *f =
		    &r->forwardees[r->n_forwardees];
		enum wbxml_err err = WBXML_ERR_NONE;

		f->name = "";
		if (opt_str(fw, EAS_COMPOSEMAIL_NAME,
			    COMPOSE_MAX_FORWARDEE_NAME_BYTES, &f->name) != 0 ||
		    wbxml_child_str(fw, EAS_COMPOSEMAIL_EMAIL,
				    COMPOSE_MAX_ADDRESS_BYTES, &f->email, NULL,
				    &err) != 0 ||
		    f->email[0] == 0)
			return -1;
		r->n_forwardees++;
	}
	return 0;
}

int
compose_req_from_tree(enum compose_req_kind kind, const struct wbxml_node *root,
		      struct compose_req *r, unsigned *status_r)
{
	enum wbxml_err err = WBXML_ERR_NONE;
	bool smart = kind != COMPOSE_REQ_SEND_MAIL;

	req_init(r, kind);
	*status_r = COMPOSE_REQ_STATUS_INVALID_XML;
	if (root == NULL || wbxml_node_tag(root) != compose_req_root(kind))
		goto fail;
	/* MS-ASCMD 2.2.3.28.1: ClientId is required. */
	if (wbxml_child_str(root, EAS_COMPOSEMAIL_CLIENT_ID,
			    COMPOSE_MAX_CLIENT_ID_BYTES, &r->client_id, NULL,
			    &err) != 0 ||
	    r->client_id[0] == 0)
		goto fail;
	if (opt_str(root, EAS_COMPOSEMAIL_ACCOUNT_ID,
		    COMPOSE_MAX_ACCOUNT_ID_BYTES, &r->account_id) != 0)
		goto fail;
	/* SaveInSentItems and ReplaceMime are empty elements: presence is
	 * the value (MS-ASCMD 2.2.3.157, 2.2.3.151). */
	r->save_in_sent =
	    wbxml_child_present(root, EAS_COMPOSEMAIL_SAVE_IN_SENT_ITEMS);
	if (smart) {
		r->replace_mime =
		    wbxml_child_present(root, EAS_COMPOSEMAIL_REPLACE_MIME);
		if (decode_source(root, r) != 0)
			goto fail;
		/* The source is required: an item, a LongId, or (with an
		 * InstanceId) the calendar item of the occurrence. */
		if (r->item_id[0] == 0 && r->long_id[0] == 0)
			goto fail;
	}
	if (kind == COMPOSE_REQ_SMART_FORWARD &&
	    decode_forwardees(root, r) != 0)
		goto fail;
	err = WBXML_ERR_NONE;
	if (wbxml_child_bytes(root, EAS_COMPOSEMAIL_MIME,
			      COMPOSE_MAX_CLIENT_MIME_BYTES, &r->mime,
			      &r->mime_len, &err) != 0)
		goto fail;
	if (r->mime_len == 0) {
		*status_r = COMPOSE_REQ_STATUS_INVALID_MIME;
		goto fail;
	}
	*status_r = 0;
	return 0;
fail:
	compose_req_clear(r);
	return -1;
}

int
compose_req_from_raw(enum compose_req_kind kind,
		     const struct ashttp_request *ash, const uint8_t *body,
		     size_t len, struct compose_req *r, unsigned *http_status_r)
{
	req_init(r, kind);
	*http_status_r = 400;
	if (body == NULL || len == 0)
		goto fail;
	if (len > COMPOSE_MAX_CLIENT_MIME_BYTES) {
		*http_status_r = 413;
		goto fail;
	}
	/* MS-ASHTTP 2.2.1.1.1.2.5: SaveInSent=T (or the base64 Options
	 * bit), ItemId + CollectionId or LongId for the smart commands,
	 * Occurrence for one instance of a recurring meeting. */
	r->save_in_sent = ash->save_in_sent;
	if (kind != COMPOSE_REQ_SEND_MAIL) {
		r->folder_id = ash->collection_id;
		r->item_id = ash->item_id;
		r->long_id = ash->long_id;
		r->instance_id = ash->occurrence;
		if (r->item_id[0] == 0 && r->long_id[0] == 0)
			goto fail;
	}
	r->mime = body;
	r->mime_len = len;
	*http_status_r = 0;
	return 0;
fail:
	compose_req_clear(r);
	return -1;
}
