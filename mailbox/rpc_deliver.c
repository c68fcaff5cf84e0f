/*
 * From raw RFC 5322 bytes to a stored item (see rpc_deliver.h), and the
 * Import RPC handler built on it (Submit is in rpc_submit.c).
 *
 * The mapping keeps what the CAS shows (MS-ASEMAIL): addresses as display
 * text, subject, Message-ID, message class, both bodies, the preview,
 * importance, conversation id and index, and the attachment list (content
 * is extracted from the raw MIME on Fetch), the content class and the
 * meeting data of a text/calendar part (message_meeting_encode).
 * ReceivedAsBcc is decided at LMTP delivery from the recipient's addresses
 * (mbox_message_store_rcpt).  The conversation id is settled against the
 * user's mailbox just before storing (store_conv_resolve: a reply joins
 * its parent's conversation even when its headers do not name the root).
 */
#include "mailbox/rpc_deliver.h"

#include <ctype.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mailbox/compose.h"
#include "mailbox/conversation.h"
#include "mailbox/directory.h"
#include "mailbox/folders.h"
#include "mailbox/mime.h"
#include "mailbox/notify.h"
#include "mailbox/rpc_server.h"
#include "proto/limits.h"
#include "proto/log.h"

static int
dup_field(char **dst, const char *src)
{
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst == NULL ? -1 : 0;
}

int
mbox_message_prepare(const uint8_t *raw, size_t len, int64_t received,
		     bool read, struct mbox_message *msg, const char **error_r)
{
	struct message_summary *s = NULL;
	struct item_props *p = &msg->props;
	int rc = -1;

	memset(msg, 0, sizeof(*msg));
	item_props_init(p);
	if (len > STORE_MAX_MIME_BYTES) {
		*error_r = "message too large";
		return -1;
	}
	if (mime_parse(raw, len, received, &s, error_r) < 0)
		return -1;
	if (dup_field(&p->from, s->from) < 0 || dup_field(&p->to, s->to) < 0 ||
	    dup_field(&p->cc, s->cc) < 0 ||
	    dup_field(&p->reply_to, s->reply_to) < 0 ||
	    dup_field(&p->subject, s->subject) < 0 ||
	    dup_field(&p->message_id, s->message_id) < 0 ||
	    dup_field(&p->message_class, s->message_class) < 0 ||
	    dup_field(&p->body_text, s->text) < 0 ||
	    dup_field(&p->body_html, s->html) < 0 ||
	    dup_field(&p->preview, s->preview) < 0)
		goto oom;
	if (dup_field(&p->content_class, s->content_class) < 0 ||
	    dup_field(&msg->in_reply_to, s->in_reply_to) < 0 ||
	    dup_field(&msg->references, s->references) < 0)
		goto oom;
	if (s->meeting != NULL) {
		struct buf mb;

		buf_init(&mb, STORE_MAX_PROPS_BYTES);
		if (message_meeting_encode(s->meeting, &mb) < 0) {
			buf_free(&mb);
			goto oom;
		}
		p->meeting = buf_steal(&mb, &p->meeting_len);
		buf_free(&mb);
		if (p->meeting == NULL)
			goto oom;
	}
	p->date = s->date;
	p->importance = (int)s->importance;
	p->conversation_id = malloc(MESSAGE_CONVERSATION_ID_BYTES);
	p->conversation_index = malloc(MESSAGE_CONVERSATION_INDEX_BYTES);
	if (p->conversation_id == NULL || p->conversation_index == NULL)
		goto oom;
	memcpy(p->conversation_id, s->conversation_id,
	       MESSAGE_CONVERSATION_ID_BYTES);
	p->conversation_id_len = MESSAGE_CONVERSATION_ID_BYTES;
	memcpy(p->conversation_index, s->conversation_index,
	       MESSAGE_CONVERSATION_INDEX_BYTES);
	p->conversation_index_len = MESSAGE_CONVERSATION_INDEX_BYTES;
	for (size_t i = 0; i < s->n_attachments; i++) {
		const struct message_attachment *a = &s->attachments[i];
		struct item_attachment att = {
		    .name = a->name,
		    .content_type = a->content_type,
		    .content_id = a->content_id,
		    .size = (int64_t)a->size,
		    .is_inline = a->is_inline,
		};

		if (item_props_add_attachment(p, &att) < 0)
			goto oom;
		/* Keep mime.c's index: Fetch extracts by it. */
		p->attachments[p->attachment_count - 1].index = a->index;
	}
	msg->item.cls = ITEM_CLASS_EMAIL;
	msg->item.date = received;
	msg->item.flags.read = read;
	msg->item.flags.importance = (int)s->importance;
	msg->item.props = p;
	msg->item.mime = raw;
	msg->item.mime_len = len;
	rc = 0;
	goto out;
oom:
	*error_r = "out of memory";
	mbox_message_clear(msg);
out:
	message_summary_free(&s);
	return rc;
}

void
mbox_message_clear(struct mbox_message *msg)
{
	item_props_clear(&msg->props);
	free(msg->in_reply_to);
	free(msg->references);
	msg->in_reply_to = msg->references = NULL;
}

/* The conversation of the message it answers, when the user has that one
 * (mailbox/conversation.h), then the delivery itself. */
static int
message_deliver(struct store *st, int64_t folder, struct mbox_message *msg,
		struct store_delivery *d_r)
{
	/* The ids are needed only here: released at once. */
	char *in_reply_to = msg->in_reply_to, *references = msg->references;
	int rc;

	msg->in_reply_to = msg->references = NULL;
	rc = store_conv_resolve(st, in_reply_to, references, &msg->props);
	free(in_reply_to);
	free(references);
	if (rc < 0)
		return -1;
	return store_deliver(st, folder, &msg->item, d_r);
}

int
mbox_message_store(struct store *st, int64_t folder, const uint8_t *raw,
		   size_t len, int64_t received, bool read,
		   struct store_delivery *d_r, enum store_status *status_r)
{
	struct mbox_message msg;
	const char *error = NULL;
	int rc;

	if (mbox_message_prepare(raw, len, received, read, &msg, &error) < 0) {
		log_warn("message refused: %s", error);
		*status_r = STORE_INVALID;
		return -1;
	}
	rc = message_deliver(st, folder, &msg, d_r);
	*status_r = rc < 0 ? store_last_error(st)->status : STORE_OK;
	mbox_message_clear(&msg);
	return rc;
}

/* "local+detail@domain" and "local@domain" name the same mailbox (the
 * LMTP server delivers both to the user): compare without the detail,
 * ASCII case-insensitively. */
static bool
same_mailbox(const char *a, const char *b)
{
	const char *at_a = strrchr(a, '@'), *at_b = strrchr(b, '@');
	size_t la, lb;

	if (at_a == NULL || at_b == NULL || strcasecmp(at_a, at_b) != 0)
		return false;
	la = strcspn(a, "+@");
	lb = strcspn(b, "+@");
	return la == lb && strncasecmp(a, b, la) == 0;
}

bool
mbox_message_is_bcc(const uint8_t *raw, size_t len, const char *const *addrs,
		    size_t n_addrs)
{
	struct compose_headers *h = NULL;
	const char *error;
	bool bcc = true;

	/* Headers that cannot be read say nothing: not Bcc. */
	if (n_addrs == 0 || compose_headers_read(raw, len, &h, &error) < 0)
		return false;
	for (size_t i = 0; bcc && i < h->n_recipients; i++)
		for (size_t j = 0; bcc && j < n_addrs; j++)
			if (h->recipients[i] != NULL &&
			    same_mailbox(h->recipients[i], addrs[j]))
				bcc = false;
	compose_headers_free(&h);
	return bcc;
}

int
mbox_message_store_rcpt(struct store *st, int64_t folder, const uint8_t *raw,
			size_t len, int64_t received, const char *const *addrs,
			size_t n_addrs, struct store_delivery *d_r,
			enum store_status *status_r)
{
	struct mbox_message msg;
	const char *error = NULL;
	int rc;

	if (mbox_message_prepare(raw, len, received, false, &msg, &error) < 0) {
		log_warn("message refused: %s", error);
		*status_r = STORE_INVALID;
		return -1;
	}
	/* MS-ASEMAIL 2.2.2.60: the user is in neither To nor Cc. */
	msg.props.received_as_bcc =
	    mbox_message_is_bcc(raw, len, addrs, n_addrs);
	rc = message_deliver(st, folder, &msg, d_r);
	*status_r = rc < 0 ? store_last_error(st)->status : STORE_OK;
	mbox_message_clear(&msg);
	return rc;
}

/* ------------------------------------------------------- recipients */

/* Appends the addresses of one header value: "<a@b>" forms, else bare
 * words holding an @ (group names and display names are skipped). */
static int
add_addresses(const char *v, size_t len, struct buf *out)
{
	size_t i = 0;
	int n = 0;

	while (i < len) {
		size_t start, end;

		while (i < len && (v[i] == ',' || isspace((unsigned char)v[i])))
			i++;
		start = i;
		/* One list element: up to a comma outside quotes and <>. */
		{
			bool quoted = false, angle = false;

			while (i < len && (quoted || angle || v[i] != ',')) {
				if (v[i] == '"' && !angle)
					quoted = !quoted;
				else if (v[i] == '<' && !quoted)
					angle = true;
				else if (v[i] == '>' && !quoted)
					angle = false;
				i++;
			}
		}
		end = i;
		if (end == start)
			continue;
		{
			const char *lt = memchr(v + start, '<', end - start);
			const char *a = v + start, *b = v + end;

			if (lt != NULL) {
				const char *gt =
				    memchr(lt, '>', (size_t)(b - lt));

				a = lt + 1;
				b = gt != NULL ? gt : b;
			}
			while (a < b && isspace((unsigned char)*a))
				a++;
			while (b > a && isspace((unsigned char)b[-1]))
				b--;
			if (b > a && memchr(a, '@', (size_t)(b - a)) != NULL &&
			    (size_t)(b - a) <= STORE_MAX_LOGIN_BYTES &&
			    memchr(a, ' ', (size_t)(b - a)) == NULL) {
				if (buf_append(out, a, (size_t)(b - a)) < 0 ||
				    buf_append_byte(out, '\n') < 0)
					return -1;
				n++;
			}
		}
	}
	return n;
}

int
mbox_message_recipients(const uint8_t *raw, size_t len, struct buf *out)
{
	const char *p = (const char *)raw, *end = p + len;
	struct buf field;
	int total = 0;

	buf_init(&field, MIME_MAX_HEADER_BYTES * 4);
	/* RFC 5322 2.2: header fields up to the first empty line; folded
	 * lines start with white space. */
	while (p < end && *p != '\r' && *p != '\n') {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = eol != NULL ? eol : end;
		bool want = false;

		buf_reset(&field);
		if (line_end - p > 3 && (strncasecmp(p, "To:", 3) == 0 ||
					 strncasecmp(p, "Cc:", 3) == 0))
			want = true, p += 3;
		else if (line_end - p > 4 && strncasecmp(p, "Bcc:", 4) == 0)
			want = true, p += 4;
		for (;;) {
			if (want &&
			    buf_append(&field, p, (size_t)(line_end - p)) < 0) {
				total = -1;
				goto out;
			}
			p = eol != NULL ? eol + 1 : end;
			if (p >= end || (*p != ' ' && *p != '\t'))
				break;
			eol = memchr(p, '\n', (size_t)(end - p));
			line_end = eol != NULL ? eol : end;
		}
		if (want) {
			int n = add_addresses((const char *)field.data,
					      field.len, out);

			if (n < 0) {
				total = -1;
				goto out;
			}
			total += n;
		}
	}
out:
	buf_free(&field);
	return total > 0 ? 0 : -1;
}

/* ------------------------------------------------------------- handlers */

void
mbox_rpc_import(struct mbox_req *r)
{
	Rpc__ImportRequest *q = (void *)r->msg;
	Rpc__ImportReply rep;
	rpc__import_reply__init(&rep);
	struct store_delivery d;
	struct store *st;
	enum store_status status;
	int64_t folder = 0;

	if (*q->folder_id != 0 && !mbox_parse_id(q->folder_id, &folder)) {
		mbox_reply_status(r, RPC__STATUS__STATUS_NOT_FOUND,
				  "no such folder");
		return;
	}
	if (q->mime.len == 0 || q->mime.len > r->ctx->conf->max_message_bytes) {
		mbox_reply_status(r, RPC__STATUS__STATUS_TOO_LARGE,
				  "empty or over max_message_bytes");
		return;
	}
	if (mbox_shard_store(r->ctx, r->user, &st, &status) < 0) {
		mbox_reply_store_error(r, status, "store unavailable");
		return;
	}
	if (mbox_message_store(st, folder, q->mime.data, q->mime.len,
			       q->received != 0 ? q->received
						: (int64_t)time(NULL),
			       q->read, &d, &status) < 0) {
		mbox_reply_store_error(r, status,
				       status == STORE_INVALID
					   ? "message cannot be parsed"
					   : store_last_error(st)->msg);
		return;
	}
	notify_changed(r->ctx, r->user, d.folder_id, d.modseq);
	rep.status = RPC__STATUS__STATUS_OK;
	rep.server_id = mbox_id_str(r, d.item_id);
	if (rep.server_id != NULL)
		mbox_reply(r, &rep.base);
}
