/*
 * Builds a draft's RFC 5322 message with GMime (see draft.h).  The layout
 * is what a mail client writes: a single text part, or multipart/mixed
 * with the text first and each attachment base64-encoded with a
 * Content-Disposition carrying its file name.  Addresses go through
 * GMime's list parser, so what the device typed ("Name <a@b>, c@d") comes
 * out as valid, RFC 2047-encoded header fields; a list that yields no
 * address is refused rather than written as garbage.  draft_read_bcc
 * parses a message back for its Bcc list (the send queue's Sent Items
 * copy).
 */
#include "mailbox/draft.h"

#include <gmime/gmime.h>
#include <string.h>

#include "mailbox/mime.h"
#include "proto/limits.h"

static int
add_addresses(GMimeMessage *msg, GMimeAddressType type, const char *list)
{
	InternetAddressList *parsed;
	int n;

	if (list == NULL || list[0] == '\0')
		return 0;
	parsed = internet_address_list_parse(NULL, list);
	if (parsed == NULL)
		return -1;
	n = internet_address_list_length(parsed);
	if (n > 0)
		internet_address_list_append(
		    g_mime_message_get_addresses(msg, type), parsed);
	g_object_unref(parsed);
	return n > 0 ? 0 : -1;
}

static GMimeObject *
text_part(const struct draft_spec *d)
{
	GMimeTextPart *tp =
	    g_mime_text_part_new_with_subtype(d->html ? "html" : "plain");
	char *text = g_strndup(d->body != NULL ? d->body : "",
			       d->body != NULL ? d->body_len : 0);

	/* set_text picks the charset (UTF-8 when needed) and an encoding
	 * that keeps the part 7-bit clean. */
	g_mime_text_part_set_text(tp, text);
	g_free(text);
	g_mime_part_set_content_encoding(
	    GMIME_PART(tp), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	return GMIME_OBJECT(tp);
}

static GMimeObject *
attachment_part(const struct draft_attachment *a)
{
	const char *ct = a->content_type != NULL && strchr(a->content_type, '/')
			     ? a->content_type
			     : "application/octet-stream";
	GMimeContentType *type = g_mime_content_type_parse(NULL, ct);
	GMimePart *part;
	GMimeStream *st;
	GMimeDataWrapper *dw;
	bool text;

	if (type == NULL)
		type =
		    g_mime_content_type_parse(NULL, "application/octet-stream");
	part = g_mime_part_new_with_type(
	    g_mime_content_type_get_media_type(type),
	    g_mime_content_type_get_media_subtype(type));
	text = g_ascii_strcasecmp(g_mime_content_type_get_media_type(type),
				  "text") == 0;
	g_object_unref(type);
	st = g_mime_stream_mem_new_with_buffer((const char *)a->data, a->len);
	dw = g_mime_data_wrapper_new_with_stream(
	    st, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(part, dw);
	g_object_unref(dw);
	g_object_unref(st);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	/* A text part not marked "attachment" is read back as a body or the
	 * meeting (mime.c's body selection), and the draft would lose it
	 * and its reference: text is always an attachment.  Trade-off: an
	 * inline text attachment reads back without IsInline. */
	g_mime_object_set_disposition(GMIME_OBJECT(part), a->is_inline && !text
							      ? "inline"
							      : "attachment");
	g_mime_part_set_filename(part, a->name != NULL && a->name[0] != '\0'
					   ? a->name
					   : "attachment");
	if (a->content_id != NULL && a->content_id[0] != '\0')
		g_mime_part_set_content_id(part, a->content_id);
	return GMIME_OBJECT(part);
}

int
draft_build(const struct draft_spec *d, struct buf *out, const char **error_r)
{
	GMimeMessage *msg = NULL;
	GMimeStream *stream = NULL;
	GMimeFormatOptions *fo = NULL;
	GMimeObject *body;
	GByteArray *ba;
	GDateTime *dt;
	int ret = -1;

	*error_r = NULL;
	if (d->from == NULL || d->n_attachments > STORE_MAX_ATTACHMENTS) {
		*error_r = "no sender or too many attachments";
		return -1;
	}
	mime_init();
	msg = g_mime_message_new(TRUE);
	if (add_addresses(msg, GMIME_ADDRESS_TYPE_FROM, d->from) < 0 ||
	    add_addresses(msg, GMIME_ADDRESS_TYPE_TO, d->to) < 0 ||
	    add_addresses(msg, GMIME_ADDRESS_TYPE_CC, d->cc) < 0 ||
	    add_addresses(msg, GMIME_ADDRESS_TYPE_BCC, d->bcc) < 0) {
		*error_r = "an address list has no valid address";
		goto out;
	}
	g_mime_message_set_subject(msg, d->subject != NULL ? d->subject : "",
				   "utf-8");
	dt = g_date_time_new_from_unix_utc(d->date);
	if (dt != NULL) {
		g_mime_message_set_date(msg, dt);
		g_date_time_unref(dt);
	}
	if (d->message_id != NULL && d->message_id[0] != '\0') {
		g_mime_message_set_message_id(msg, d->message_id);
	} else {
		char *id = g_mime_utils_generate_message_id(
		    d->message_id_domain != NULL ? d->message_id_domain
						 : "localhost");

		g_mime_message_set_message_id(msg, id);
		g_free(id);
	}
	/* RFC 2156 Importance, as Outlook writes it. */
	if (d->importance == 0 || d->importance == 2)
		g_mime_object_set_header(GMIME_OBJECT(msg), "Importance",
					 d->importance == 0 ? "low" : "high",
					 NULL);
	body = text_part(d);
	if (d->n_attachments > 0) {
		GMimeMultipart *mp = g_mime_multipart_new_with_subtype("mixed");

		g_mime_multipart_add(mp, body);
		g_object_unref(body);
		for (size_t i = 0; i < d->n_attachments; i++) {
			GMimeObject *a = attachment_part(&d->attachments[i]);

			g_mime_multipart_add(mp, a);
			g_object_unref(a);
		}
		body = GMIME_OBJECT(mp);
	}
	g_mime_message_set_mime_part(msg, body);
	g_object_unref(body);
	stream = g_mime_stream_mem_new();
	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	if (g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, stream) < 0) {
		*error_r = "cannot write the message";
		goto out;
	}
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
	if (ba == NULL || buf_append(out, ba->data, ba->len) < 0) {
		*error_r = "draft too large";
		goto out;
	}
	ret = 0;
out:
	if (fo != NULL)
		g_mime_format_options_free(fo);
	if (stream != NULL)
		g_object_unref(stream);
	g_object_unref(msg);
	return ret;
}

int
draft_read_bcc(const uint8_t *raw, size_t len, char **bcc_r,
	       const char **error_r)
{
	GMimeParserOptions *opts;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	InternetAddressList *list;
	char *text;
	int ret = -1;

	*bcc_r = NULL;
	*error_r = NULL;
	if (raw == NULL || len == 0 || len > STORE_MAX_MIME_BYTES) {
		*error_r = "empty or oversized message";
		return -1;
	}
	mime_init();
	opts = g_mime_parser_options_new();
	g_mime_parser_options_set_address_compliance_mode(
	    opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_rfc2047_compliance_mode(
	    opts, GMIME_RFC_COMPLIANCE_LOOSE);
	stream = g_mime_stream_mem_new_with_buffer((const char *)raw, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, opts);
	g_object_unref(parser);
	g_object_unref(stream);
	g_mime_parser_options_free(opts);
	if (msg == NULL) {
		*error_r = "not an RFC 5322 message";
		return -1;
	}
	list = g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_BCC);
	ret = 0;
	if (list != NULL && internet_address_list_length(list) > 0) {
		text = internet_address_list_to_string(list, NULL, FALSE);
		/* Bounded and valid text, or nothing: a Bcc is a courtesy
		 * to the device, never a reason to lose the copy. */
		if (text != NULL && text[0] != '\0' &&
		    strlen(text) <= SYNC_MAX_DRAFT_ADDRESS_BYTES &&
		    g_utf8_validate(text, -1, NULL)) {
			*bcc_r = strdup(text);
			if (*bcc_r == NULL) {
				*error_r = "out of memory";
				ret = -1;
			}
		}
		g_free(text);
	}
	g_object_unref(msg);
	return ret;
}
