/* Unit tests for mailbox/mime_compose.c (compose.h): SmartReply quoting
 * in text and HTML, SmartForward with attachments and an inline image,
 * ReplaceMime, the SendMail header rules (Bcc, Date, Message-ID, From),
 * Forwardees, envelope deduplication and bounds, and refused client MIME.
 * Composed messages are read back with mailbox/mime.c, an independent
 * reader, so structure is checked the way the store will see it.  Samples
 * are in tests/unit/mailbox/data/compose/; run from the top of the tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/compose.h"
#include "mailbox/mime.h"
#include "proto/buf.h"
#include "proto/limits.h"

#define DATA_DIR "tests/unit/mailbox/data/compose/"
#define NOW 1800000000 /* Fri, 15 Jan 2027 08:00:00 +0000 */

static const char *const aliases[] = {"robert@example.com"};
static const struct compose_user user = {
    .address = "bob@example.com",
    .display_name = "Bob B",
    .aliases = aliases,
    .n_aliases = 1,
    .message_id_domain = "mail.example.com",
};

static uint8_t *
load(const char *name, size_t *len_r)
{
	char path[256];
	FILE *f;
	uint8_t *data;
	long len;

	snprintf(path, sizeof(path), DATA_DIR "%s", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	data = malloc((size_t)len);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*len_r = (size_t)len;
	return data;
}

/* The header block of a composed message with CR removed (caller frees). */
static char *
header_block(const uint8_t *raw, size_t len)
{
	char *out = malloc(len + 1);
	size_t j = 0;

	assert_non_null(out);
	for (size_t i = 0; i < len; i++) {
		if (raw[i] == '\r')
			continue;
		out[j++] = (char)raw[i];
		if (j >= 2 && out[j - 1] == '\n' && out[j - 2] == '\n')
			break;
	}
	out[j] = '\0';
	return out;
}

static struct compose_result *
compose_ok(enum compose_mode mode, const char *client, const char *original,
	   bool replace, const struct compose_forwardee *fw, size_t n_fw)
{
	struct compose_request req = {0};
	struct compose_result *r = NULL;
	enum compose_status st;
	const char *error = NULL;
	uint8_t *c, *o = NULL;
	size_t cl, ol = 0;

	c = load(client, &cl);
	if (original != NULL)
		o = load(original, &ol);
	req.mode = mode;
	req.mime = c;
	req.mime_len = cl;
	req.original = o;
	req.original_len = ol;
	req.replace_mime = replace;
	req.forwardees = fw;
	req.n_forwardees = n_fw;
	req.now = NOW;
	assert_int_equal(compose_message(&user, &req, &r, &st, &error), 0);
	assert_int_equal(st, COMPOSE_STATUS_OK);
	assert_null(error);
	assert_non_null(r);
	assert_string_equal(r->mail_from, "bob@example.com");
	assert_non_null(r->message_id);
	free(c);
	free(o);
	return r;
}

static void
strip_cr(char *text)
{
	size_t j = 0;

	if (text == NULL)
		return;
	for (size_t i = 0; text[i] != '\0'; i++)
		if (text[i] != '\r')
			text[j++] = text[i];
	text[j] = '\0';
}

static struct message_summary *
read_back(const struct compose_result *r)
{
	struct message_summary *s = NULL;
	const char *error = NULL;

	assert_int_equal(mime_parse(r->wire, r->wire_len, 1, &s, &error), 0);
	/* The wire has CRLF line ends; compare bodies with LF only. */
	strip_cr(s->text);
	strip_cr(s->html);
	return s;
}

static const struct message_attachment *
find_attachment(const struct message_summary *s, const char *name)
{
	for (size_t i = 0; i < s->n_attachments; i++)
		if (strcmp(s->attachments[i].name, name) == 0)
			return &s->attachments[i];
	return NULL;
}

static void
test_reply_plain(void **state)
{
	struct compose_result *r;
	struct message_summary *s;
	char *h;

	(void)state;
	r = compose_ok(COMPOSE_REPLY, "client_reply_plain.eml",
		       "original_plain.eml", false, NULL, 0);
	h = header_block(r->wire, r->wire_len);
	/* RFC 5322 3.6.4 threading from the original. */
	assert_non_null(strstr(h, "\nIn-Reply-To: <lunch-2@example.org>\n"));
	assert_non_null(strstr(
	    h, "\nReferences: <root-1@example.org> <lunch-2@example.org>\n"));
	/* Missing Date and Message-ID were added. */
	assert_non_null(strstr(h, "\nDate: Fri, 15 Jan 2027 08:00:00 +0000\n"));
	assert_non_null(strstr(r->message_id, "@mail.example.com"));
	assert_true(r->from_is_user);
	assert_int_equal(r->n_rcpts, 1);
	assert_string_equal(r->rcpts[0], "alice@example.org");

	s = read_back(r);
	assert_null(s->html); /* text in, text out */
	assert_non_null(s->text);
	assert_non_null(strstr(
	    s->text, "Yes, see you there.\n\nOn Tue, 24 Nov 2026 09:30:00 "
		     "+0100, Alice Example <alice@example.org> wrote:\n"
		     "> Hi Bob,\n>\n> shall we meet at the caf\xc3\xa9 at "
		     "noon?\n>> an older quoted line\n>\n> Alice\n"));
	assert_int_equal(s->n_attachments, 0);
	message_summary_free(&s);
	free(h);
	compose_result_free(&r);
	compose_result_free(&r); /* NULL-safe */
}

static void
test_reply_html(void **state)
{
	struct compose_result *r;
	struct message_summary *s;
	const struct message_attachment *logo;
	const char *quote, *mine;
	char *h;

	(void)state;
	r = compose_ok(COMPOSE_REPLY, "client_reply_html.eml",
		       "original_html_attach.eml", false, NULL, 0);
	h = header_block(r->wire, r->wire_len);
	/* The client's own Date and Message-ID are kept. */
	assert_string_equal(r->message_id, "client-chosen@phone.example");
	assert_non_null(strstr(h, "\nDate: Fri, 27 Nov 2026 10:00:00 +0000\n"));
	assert_non_null(strstr(h, "In-Reply-To: <q3-report@partner.example>"));
	assert_non_null(strstr(h, "Content-Type: multipart/alternative"));
	assert_int_equal(r->n_rcpts, 2);
	assert_string_equal(r->rcpts[0], "carol@partner.example");
	assert_string_equal(r->rcpts[1], "dave@example.com");

	s = read_back(r);
	assert_non_null(s->text);
	assert_non_null(strstr(s->text, "Thanks, looks good.\n\nOn Wed, 25 Nov "
					"2026 14:00:00 +0000, Carol "
					"<carol@partner.example> wrote:\n"
					"> Please find the report attached.\n"
					"> Regards, Carol\n"));
	assert_non_null(s->html);
	mine = strstr(s->html, "<p>Thanks, <i>looks good</i>.</p>");
	quote = strstr(s->html, "<blockquote type=\"cite\"");
	assert_non_null(mine);
	assert_non_null(quote);
	assert_true(mine < quote);
	assert_non_null(strstr(s->html, "Carol &lt;carol@partner.example&gt; "
					"wrote:"));
	assert_non_null(
	    strstr(quote, "<p class=\"x\">Please find the <b>report</b>"));
	assert_non_null(strstr(quote, "<img src=\"cid:logo@partner.example\""));
	assert_non_null(strstr(quote, "<a href=\"https://partner.example/\">"));
	/* Sanitized: no script, handler, javascript: URL, frame or head. */
	assert_null(strstr(s->html, "<script"));
	assert_null(strstr(s->html, "alert(1)"));
	assert_null(strstr(s->html, "document.cookie"));
	assert_null(strstr(s->html, "onload"));
	assert_null(strstr(s->html, "javascript:"));
	assert_null(strstr(s->html, "iframe"));
	assert_null(strstr(s->html, "color:red"));
	/* One document: the quote sits inside the client's body. */
	assert_non_null(strstr(quote, "</blockquote></div>\n</body></html>"));
	/* The quoted image comes along (related), the attachments do not. */
	logo = find_attachment(s, "logo.png");
	assert_non_null(logo);
	assert_true(logo->is_inline);
	assert_string_equal(logo->content_id, "logo@partner.example");
	assert_null(find_attachment(s, "report.pdf"));
	assert_null(find_attachment(s, "figures.csv"));
	assert_non_null(strstr((const char *)r->wire, "multipart/related"));
	assert_non_null(strstr((const char *)r->wire, "type=\"text/html\""));
	message_summary_free(&s);
	free(h);
	compose_result_free(&r);
}

/* A text-only client answering an HTML original still gets an HTML part,
 * with its own text escaped. */
static void
test_reply_text_to_html(void **state)
{
	struct compose_result *r;
	struct message_summary *s;

	(void)state;
	r = compose_ok(COMPOSE_REPLY, "client_reply_plain.eml",
		       "original_html_attach.eml", false, NULL, 0);
	s = read_back(r);
	assert_non_null(s->html);
	assert_non_null(strstr(s->html, "<div>Yes, see you there.<br>"));
	assert_non_null(strstr(s->html, "<blockquote"));
	assert_non_null(strstr(s->text, "> Please find the report attached."));
	message_summary_free(&s);
	compose_result_free(&r);
}

/* Sink for mime_attachment_extract: bytes without CR into a buf. */
static int
collect(void *ctx, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (data[i] != '\r' && buf_append_byte(ctx, data[i]) != 0)
			return -1;
	return 0;
}

static void
test_forward_attachments(void **state)
{
	static const struct compose_forwardee fw[] = {
	    {"Frank", "frank@example.com"},
	    {NULL, "ERIN@example.com"}, /* already in To */
	};
	struct compose_result *r;
	struct message_summary *s, *orig;
	const struct message_attachment *a;
	const char *error = NULL;
	uint8_t *o;
	size_t ol;
	char *h;

	(void)state;
	r = compose_ok(COMPOSE_FORWARD, "client_forward_mixed.eml",
		       "original_html_attach.eml", false, fw, 2);
	h = header_block(r->wire, r->wire_len);
	assert_non_null(strstr(
	    h, "\nTo: Erin <erin@example.com>, Frank <frank@example.com>\n"));
	assert_null(strstr(h, "In-Reply-To"));
	assert_non_null(strstr(h, "Content-Type: multipart/mixed"));
	assert_int_equal(r->n_rcpts, 2);
	assert_string_equal(r->rcpts[0], "erin@example.com");
	assert_string_equal(r->rcpts[1], "frank@example.com");

	s = read_back(r);
	assert_non_null(strstr(
	    s->text, "Erin, FYI.\n\n---------- Forwarded message ----------\n"
		     "From: Carol <carol@partner.example>\n"
		     "Date: Wed, 25 Nov 2026 14:00:00 +0000\n"
		     "Subject: Quarterly report\n"
		     "To: Bob <bob@example.com>, dave@example.com\n\n"
		     "Please find the report attached.\n"));
	assert_null(strstr(s->text, "> Please")); /* not quoted */
	assert_non_null(strstr(s->html, "Subject: Quarterly report<br>"));
	assert_non_null(strstr(s->html, "Please find the <b>report</b>"));
	assert_null(strstr(s->html, "<script"));
	/* The client's attachment, the inline image, both attachments. */
	assert_int_equal(s->n_attachments, 4);
	assert_non_null(find_attachment(s, "notes.txt"));
	a = find_attachment(s, "logo.png");
	assert_non_null(a);
	assert_true(a->is_inline);
	assert_string_equal(a->content_type, "image/png");
	assert_string_equal(a->content_id, "logo@partner.example");
	a = find_attachment(s, "report.pdf");
	assert_non_null(a);
	assert_false(a->is_inline);
	assert_string_equal(a->content_type, "application/pdf");
	a = find_attachment(s, "figures.csv");
	assert_non_null(a);
	assert_string_equal(a->content_type, "text/csv");

	/* Attachment content survives (text in canonical CRLF form). */
	o = load("original_html_attach.eml", &ol);
	assert_int_equal(mime_parse(o, ol, 1, &orig, &error), 0);
	for (size_t i = 0; i < orig->n_attachments; i++) {
		struct buf want, got;

		a = find_attachment(s, orig->attachments[i].name);
		assert_non_null(a);
		buf_init(&want, 1u << 20);
		buf_init(&got, 1u << 20);
		assert_int_equal(
		    mime_attachment_extract(o, ol, orig->attachments[i].index,
					    collect, &want, &error),
		    0);
		assert_int_equal(mime_attachment_extract(r->wire, r->wire_len,
							 a->index, collect,
							 &got, &error),
				 0);
		assert_true(want.len > 0);
		assert_int_equal(want.len, got.len);
		assert_memory_equal(want.data, got.data, want.len);
		buf_free(&want);
		buf_free(&got);
	}
	message_summary_free(&orig);
	free(o);
	message_summary_free(&s);
	free(h);
	compose_result_free(&r);
}

/* A forward of a text-only message stays text-only. */
static void
test_forward_plain(void **state)
{
	struct compose_result *r;
	struct message_summary *s;

	(void)state;
	r = compose_ok(COMPOSE_FORWARD, "client_reply_plain.eml",
		       "original_plain.eml", false, NULL, 0);
	s = read_back(r);
	assert_null(s->html);
	assert_non_null(strstr(s->text, "Subject: Lunch on Friday?\n"));
	assert_non_null(strstr(s->text, "\nshall we meet at the caf\xc3\xa9"));
	assert_int_equal(s->n_attachments, 0);
	message_summary_free(&s);
	compose_result_free(&r);
}

/* An embedded message is forwarded whole; the original's meeting part
 * is not (meetings are answered with MeetingResponse). */
static void
test_forward_embedded(void **state)
{
	struct compose_result *r;
	struct message_summary *s;

	(void)state;
	r = compose_ok(COMPOSE_FORWARD, "client_reply_plain.eml",
		       "original_embedded.eml", false, NULL, 0);
	s = read_back(r);
	assert_non_null(strstr(s->text, "\n\nSee the attached message."));
	assert_null(strstr(s->text, "Inner body."));
	assert_int_equal(s->n_attachments, 1);
	assert_true(s->attachments[0].is_message);
	assert_string_equal(s->attachments[0].content_type, "message/rfc822");
	assert_string_equal(s->attachments[0].name,
			    "The contract \xc3\xa9.eml");
	assert_null(s->meeting);
	assert_null(strstr((const char *)r->wire, "VCALENDAR"));
	message_summary_free(&s);
	compose_result_free(&r);
}

static void
test_replace_mime(void **state)
{
	struct compose_result *r;
	struct message_summary *s;
	char *wire_h, *saved_h;

	(void)state;
	/* The original is given but must not be used. */
	r = compose_ok(COMPOSE_REPLY, "sendmail_replace.eml",
		       "original_plain.eml", true, NULL, 0);
	wire_h = header_block(r->wire, r->wire_len);
	saved_h = header_block(r->saved, r->saved_len);
	assert_null(strstr(wire_h, "Bcc"));
	assert_null(strstr((const char *)r->wire, "hidden@example.net"));
	assert_non_null(strstr(saved_h, "\nBcc: hidden@example.net\n"));
	assert_string_equal(r->message_id, "whole-by-client@example.com");
	assert_int_equal(r->n_rcpts, 2);
	assert_string_equal(r->rcpts[0], "alice@example.org");
	assert_string_equal(r->rcpts[1], "hidden@example.net");
	s = read_back(r);
	assert_string_equal(s->text, "The client composed all of this "
				     "itself.\n\n> quoted by the client\n");
	message_summary_free(&s);
	free(wire_h);
	free(saved_h);
	compose_result_free(&r);
}

static void
test_sendmail_headers(void **state)
{
	struct compose_result *r;
	char *wire_h, *saved_h;

	(void)state;
	r = compose_ok(COMPOSE_SENDMAIL, "sendmail_bcc.eml", NULL, false, NULL,
		       0);
	/* To, Cc (with a group), Bcc, deduplicated ignoring case. */
	assert_int_equal(r->n_rcpts, 4);
	assert_string_equal(r->rcpts[0], "alice@example.org");
	assert_string_equal(r->rcpts[1], "carol@partner.example");
	assert_string_equal(r->rcpts[2], "dave@example.com");
	assert_string_equal(r->rcpts[3], "secret@example.net");
	wire_h = header_block(r->wire, r->wire_len);
	saved_h = header_block(r->saved, r->saved_len);
	assert_null(strstr(wire_h, "Bcc"));
	assert_null(strstr((const char *)r->wire, "secret@"));
	assert_non_null(strstr(saved_h, "Bcc: secret@example.net"));
	assert_true(r->saved_len > r->wire_len);
	/* From, Date and Message-ID were missing. */
	assert_non_null(strstr(wire_h, "\nFrom: Bob B <bob@example.com>\n"));
	assert_string_equal(r->from_address, "bob@example.com");
	assert_true(r->from_is_user);
	assert_non_null(
	    strstr(wire_h, "\nDate: Fri, 15 Jan 2027 08:00:00 +0000\n"));
	assert_non_null(strstr(wire_h, r->message_id));
	assert_non_null(strstr(r->message_id, "@mail.example.com"));
	/* Same message otherwise: same id in the saved copy. */
	assert_non_null(strstr(saved_h, r->message_id));
	/* CRLF line ends on the wire. */
	assert_non_null(strstr((const char *)r->wire, "\r\n\r\nHello team."));
	free(wire_h);
	free(saved_h);
	compose_result_free(&r);
}

/* Compose an in-memory client message; returns the status. */
static enum compose_status
compose_text(enum compose_mode mode, const char *mime, size_t len,
	     const struct compose_forwardee *fw, size_t n_fw,
	     struct compose_result **r_r)
{
	struct compose_request req = {0};
	struct compose_result *r = NULL;
	enum compose_status st;
	const char *error = NULL;
	int ret;

	req.mode = mode;
	req.mime = (const uint8_t *)mime;
	req.mime_len = len;
	req.forwardees = fw;
	req.n_forwardees = n_fw;
	req.now = NOW;
	ret = compose_message(&user, &req, &r, &st, &error);
	if (ret == 0) {
		assert_int_equal(st, COMPOSE_STATUS_OK);
		assert_non_null(r);
	} else {
		assert_int_equal(ret, -1);
		assert_null(r);
		assert_non_null(error);
		assert_int_not_equal(st, COMPOSE_STATUS_OK);
	}
	if (r_r != NULL)
		*r_r = r;
	else
		compose_result_free(&r);
	return st;
}

static void
test_from_check(void **state)
{
	static const char other[] = "From: Mallory <mallory@evil.example>\n"
				    "To: a@example.org\n\nhi\n";
	static const char alias[] = "From: Robert <ROBERT@example.com>\n"
				    "To: a@example.org\n\nhi\n";
	struct compose_result *r;

	(void)state;
	compose_text(COMPOSE_SENDMAIL, other, sizeof(other) - 1, NULL, 0, &r);
	assert_false(r->from_is_user);
	assert_string_equal(r->from_address, "mallory@evil.example");
	assert_string_equal(r->mail_from, "bob@example.com");
	compose_result_free(&r);
	compose_text(COMPOSE_SENDMAIL, alias, sizeof(alias) - 1, NULL, 0, &r);
	assert_true(r->from_is_user);
	compose_result_free(&r);
	assert_true(compose_address_is_user(&user, "Bob@Example.com"));
	assert_false(compose_address_is_user(&user, "bobby@example.com"));
	assert_false(compose_address_is_user(&user, NULL));
}

/* "To: " followed by n addresses; distinct or all the same. */
static char *
many_recipients(size_t n, bool distinct, size_t *len_r)
{
	struct buf b;

	buf_init(&b, 1u << 20);
	assert_int_equal(buf_append_str(&b, "Subject: many\nTo: "), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(buf_printf(&b, "%su%zu@example.org",
					    i ? ",\n " : "",
					    distinct ? i : (size_t)0),
				 0);
	assert_int_equal(buf_append_str(&b, "\n\nbody\n"), 0);
	return (char *)buf_steal(&b, len_r);
}

static void
test_envelope_bounds(void **state)
{
	static const char none[] = "Subject: x\nFrom: bob@example.com\n\nhi\n";
	static const char bad[] = "To: bob\nSubject: x\n\nhi\n";
	static const struct compose_forwardee bad_fw[] = {{"X", "not-mail"}};
	struct compose_result *r;
	size_t len;
	char *m;

	(void)state;
	m = many_recipients(COMPOSE_MAX_RECIPIENTS, true, &len);
	assert_int_equal(compose_text(COMPOSE_SENDMAIL, m, len, NULL, 0, &r),
			 COMPOSE_STATUS_OK);
	assert_int_equal(r->n_rcpts, COMPOSE_MAX_RECIPIENTS);
	compose_result_free(&r);
	free(m);
	m = many_recipients(COMPOSE_MAX_RECIPIENTS + 1, true, &len);
	assert_int_equal(compose_text(COMPOSE_SENDMAIL, m, len, NULL, 0, NULL),
			 COMPOSE_STATUS_TOO_MANY_RECIPIENTS);
	free(m);
	/* Duplicates collapse... */
	m = many_recipients(COMPOSE_MAX_RECIPIENTS * 2, false, &len);
	assert_int_equal(compose_text(COMPOSE_SENDMAIL, m, len, NULL, 0, &r),
			 COMPOSE_STATUS_OK);
	assert_int_equal(r->n_rcpts, 1);
	compose_result_free(&r);
	free(m);
	/* ...but the entries read are bounded too. */
	m = many_recipients(COMPOSE_MAX_ADDRESS_ENTRIES + 1, false, &len);
	assert_int_equal(compose_text(COMPOSE_SENDMAIL, m, len, NULL, 0, NULL),
			 COMPOSE_STATUS_TOO_MANY_RECIPIENTS);
	free(m);
	assert_int_equal(compose_text(COMPOSE_SENDMAIL, none, sizeof(none) - 1,
				      NULL, 0, NULL),
			 COMPOSE_STATUS_NO_RECIPIENTS);
	assert_int_equal(
	    compose_text(COMPOSE_SENDMAIL, bad, sizeof(bad) - 1, NULL, 0, NULL),
	    COMPOSE_STATUS_BAD_ADDRESS);
	assert_int_equal(compose_text(COMPOSE_SENDMAIL, none, sizeof(none) - 1,
				      bad_fw, 1, NULL),
			 COMPOSE_STATUS_BAD_ADDRESS);
}

/* Forwardees alone make a message sendable (16.0 SmartForward). */
static void
test_forwardees_only(void **state)
{
	static const char msg[] = "Subject: fw\n\nsee below\n";
	static const struct compose_forwardee fw[] = {
	    {"Gina G", "gina@example.net"}, {NULL, "hal@example.net"}};
	struct compose_result *r;
	char *h;

	(void)state;
	assert_int_equal(
	    compose_text(COMPOSE_SENDMAIL, msg, sizeof(msg) - 1, fw, 2, &r),
	    COMPOSE_STATUS_OK);
	assert_int_equal(r->n_rcpts, 2);
	h = header_block(r->wire, r->wire_len);
	assert_non_null(strstr(h, "To: Gina G <gina@example.net>, "
				  "hal@example.net\n"));
	free(h);
	compose_result_free(&r);
}

static void
test_broken_mime(void **state)
{
	static const char no_header[] = "just some text\n\nand more\n";
	static const char nul[] = "To: a@example.org\nSubj\0ect: x\n\nhi\n";
	static const char folded[] = " To: a@example.org\n\nhi\n";
	static const char colon[] = ": x\nTo: a@example.org\n\nhi\n";
	struct compose_request req = {0};
	struct compose_result *r = NULL;
	enum compose_status st;
	const char *error;
	struct buf b;
	size_t len;
	char *m;

	(void)state;
	assert_int_equal(compose_text(COMPOSE_SENDMAIL, "", 0, NULL, 0, NULL),
			 COMPOSE_STATUS_MIME);
	assert_int_equal(compose_text(COMPOSE_SENDMAIL, no_header,
				      sizeof(no_header) - 1, NULL, 0, NULL),
			 COMPOSE_STATUS_MIME);
	assert_int_equal(
	    compose_text(COMPOSE_SENDMAIL, nul, sizeof(nul) - 1, NULL, 0, NULL),
	    COMPOSE_STATUS_MIME);
	assert_int_equal(compose_text(COMPOSE_SENDMAIL, folded,
				      sizeof(folded) - 1, NULL, 0, NULL),
			 COMPOSE_STATUS_MIME);
	assert_int_equal(compose_text(COMPOSE_SENDMAIL, colon,
				      sizeof(colon) - 1, NULL, 0, NULL),
			 COMPOSE_STATUS_MIME);

	/* A header block over its bound. */
	buf_init(&b, COMPOSE_MAX_HEADER_BLOCK_BYTES * 2);
	assert_int_equal(buf_append_str(&b, "To: a@example.org\n"), 0);
	while (b.len <= COMPOSE_MAX_HEADER_BLOCK_BYTES)
		assert_int_equal(buf_append_str(&b, "X-Pad: 0123456789012345678"
						    "90123456789\n"),
				 0);
	assert_int_equal(buf_append_str(&b, "\nhi\n"), 0);
	assert_int_equal(compose_text(COMPOSE_SENDMAIL, (const char *)b.data,
				      b.len, NULL, 0, NULL),
			 COMPOSE_STATUS_MIME);
	buf_free(&b);

	/* Nesting deeper than MIME_MAX_DEPTH. */
	buf_init(&b, 1u << 20);
	assert_int_equal(buf_append_str(&b, "To: a@example.org\n"), 0);
	for (int i = 0; i < MIME_MAX_DEPTH + 4; i++)
		assert_int_equal(buf_printf(&b,
					    "Content-Type: multipart/mixed; "
					    "boundary=\"b%d\"\n\n--b%d\n",
					    i, i),
				 0);
	assert_int_equal(buf_append_str(&b, "Content-Type: text/plain\n\nx\n"),
			 0);
	m = (char *)buf_steal(&b, &len);
	assert_int_equal(compose_text(COMPOSE_SENDMAIL, m, len, NULL, 0, NULL),
			 COMPOSE_STATUS_MIME);
	free(m);

	/* Over the size bound: refused before anything is read. */
	req.mode = COMPOSE_SENDMAIL;
	req.mime = (const uint8_t *)no_header;
	req.mime_len = (size_t)COMPOSE_MAX_CLIENT_MIME_BYTES + 1;
	assert_int_equal(compose_message(&user, &req, &r, &st, &error), -1);
	assert_int_equal(st, COMPOSE_STATUS_TOO_LARGE);

	/* A smart command without its source item. */
	req.mode = COMPOSE_REPLY;
	req.mime = (const uint8_t *)"To: a@example.org\n\nx\n";
	req.mime_len = strlen((const char *)req.mime);
	assert_int_equal(compose_message(&user, &req, &r, &st, &error), -1);
	assert_int_equal(st, COMPOSE_STATUS_ORIGINAL);
	/* ... which ReplaceMime does not need. */
	req.replace_mime = true;
	assert_int_equal(compose_message(&user, &req, &r, &st, &error), 0);
	compose_result_free(&r);

	/* A user without a usable address is the caller's bug. */
	{
		struct compose_user nobody = {.address = "nobody"};

		assert_int_equal(
		    compose_message(&nobody, &req, &r, &st, &error), -1);
		assert_int_equal(st, COMPOSE_STATUS_INTERNAL);
	}
}

/* Subject from the original when the client sent none; repeated Bcc
 * fields all leave the wire copy. */
static void
test_smart_subject_and_bcc(void **state)
{
	static const char client[] =
	    "To: alice@example.org\n"
	    "Bcc: x1@example.net\nBcc: x2@example.net\n"
	    "\nok\n";
	struct compose_request req = {0};
	struct compose_result *r = NULL;
	enum compose_status st;
	const char *error;
	char *h;
	uint8_t *o;
	size_t ol;

	(void)state;
	o = load("original_plain.eml", &ol);
	req.mime = (const uint8_t *)client;
	req.mime_len = sizeof(client) - 1;
	req.original = o;
	req.original_len = ol;
	req.now = NOW;
	req.mode = COMPOSE_REPLY;
	assert_int_equal(compose_message(&user, &req, &r, &st, &error), 0);
	h = header_block(r->wire, r->wire_len);
	assert_non_null(strstr(h, "\nSubject: RE: Lunch on Friday?\n"));
	assert_null(strstr(h, "Bcc"));
	assert_null(strstr((const char *)r->wire, "x2@example.net"));
	assert_int_equal(r->n_rcpts, 3);
	free(h);
	h = header_block(r->saved, r->saved_len);
	assert_non_null(strstr(h, "x1@example.net"));
	assert_non_null(strstr(h, "x2@example.net"));
	free(h);
	compose_result_free(&r);
	req.mode = COMPOSE_FORWARD;
	assert_int_equal(compose_message(&user, &req, &r, &st, &error), 0);
	h = header_block(r->wire, r->wire_len);
	assert_non_null(strstr(h, "\nSubject: FW: Lunch on Friday?\n"));
	free(h);
	compose_result_free(&r);
	free(o);
}

/* Tricks against the structural sanitizer, in a quoted original. */
static void
test_sanitizer_tricks(void **state)
{
	static const char client[] = "To: alice@example.org\n"
				     "Content-Type: text/html\n\n<p>ok</p>\n";
	static const char orig[] =
	    "From: alice@example.org\nMessage-ID: <t@example.org>\n"
	    "Content-Type: text/html\n\n"
	    "<a href=\"jav&#x61;script:a()\">1</a>"
	    "<a href=\"java&#115;cript&colon;b()\">2</a>"
	    "<IMG SRC=JaVaScRiPt:c()>"
	    "<a href=\" \tjava\tscript:d()\">3</a>"
	    "<div style=\"width: EXPRESSION(e())\">4</div>"
	    "<p ONCLICK=\"f()\" title='x\"y'>5</p>"
	    "<scr<script>g()</script>ipt>"
	    "<SCRIPT SRC=//evil.example/h.js></SCRIPT>"
	    "<!-- <script>i()</script> -->"
	    "<object data=\"x.swf\"><param name=a value=b></object>"
	    "<svg><a xlink:href=\"javascript:j()\"><text>k()</text></a></svg>"
	    "<a href=\"https://ok.example/?a=1&amp;b=2\">6</a>"
	    "<unterminated attr=\"";
	struct compose_request req = {0};
	struct compose_result *r = NULL;
	struct message_summary *s;
	enum compose_status st;
	const char *error;

	(void)state;
	req.mode = COMPOSE_REPLY;
	req.mime = (const uint8_t *)client;
	req.mime_len = sizeof(client) - 1;
	req.original = (const uint8_t *)orig;
	req.original_len = sizeof(orig) - 1;
	req.now = NOW;
	assert_int_equal(compose_message(&user, &req, &r, &st, &error), 0);
	s = read_back(r);
	assert_non_null(s->html);
	/* Split tags leave harmless text ("g()ipt>"), never a script. */
	assert_null(strcasestr(s->html, "<script"));
	for (const char *f = "abcdefhijk"; *f != '\0'; f++) {
		char call[4] = {*f, '(', ')', '\0'};

		assert_null(strstr(s->html, call));
	}
	assert_null(strstr(s->html, "evil.example"));
	assert_null(strstr(s->html, "<object"));
	assert_null(strstr(s->html, "unterminated"));
	assert_non_null(strstr(s->html, "<a>1</a><a>2</a><IMG><a>3</a>"));
	assert_non_null(strstr(s->html, "<div>4</div>"));
	assert_non_null(strstr(s->html, "<p title=\"x&quot;y\">5</p>"));
	assert_non_null(strstr(s->html, "<a href=\"https://ok.example/"
					"?a=1&amp;b=2\">6</a>"));
	message_summary_free(&s);
	compose_result_free(&r);
}

/* The service for mailbox/autoreply.c: a one-body message. */
static void
test_simple_build(void **state)
{
	struct compose_simple m = {0};
	struct compose_headers *h = NULL;
	const char *error;
	struct buf b;

	(void)state;
	buf_init(&b, 1u << 20);
	m.from_name = "Bob B";
	m.from_address = "bob@example.com";
	m.to_address = "alice@example.org";
	m.subject = "Automatic reply: caf\xc3\xa9";
	m.in_reply_to = "m2@example.org";
	m.references = "<m0@example.org> <m1@example.org>";
	m.body = "<p>Away</p>";
	m.body_is_html = true;
	m.auto_submitted = "auto-replied";
	m.now = NOW;
	assert_int_equal(compose_simple_build(&m, &b, &error), 0);
	assert_non_null(strstr(buf_str(&b), "Content-Type: text/html"));
	assert_non_null(strstr(buf_str(&b), "In-Reply-To: <m2@example.org>"));
	assert_non_null(strstr(buf_str(&b), "References: <m0@example.org> "
					    "<m1@example.org> "
					    "<m2@example.org>"));
	assert_int_equal(compose_headers_read(b.data, b.len, &h, &error), 0);
	assert_string_equal(h->auto_submitted, "auto-replied");
	assert_string_equal(h->subject, "Automatic reply: caf\xc3\xa9");
	assert_string_equal(h->from_address, "bob@example.com");
	assert_int_equal(h->n_recipients, 1);
	assert_string_equal(h->recipients[0], "alice@example.org");
	compose_headers_free(&h);
	compose_headers_free(&h);
	m.to_address = "nobody";
	assert_int_equal(compose_simple_build(&m, &b, &error), -1);
	assert_non_null(error);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reply_plain),
	    cmocka_unit_test(test_reply_html),
	    cmocka_unit_test(test_reply_text_to_html),
	    cmocka_unit_test(test_forward_attachments),
	    cmocka_unit_test(test_forward_plain),
	    cmocka_unit_test(test_forward_embedded),
	    cmocka_unit_test(test_replace_mime),
	    cmocka_unit_test(test_sendmail_headers),
	    cmocka_unit_test(test_from_check),
	    cmocka_unit_test(test_envelope_bounds),
	    cmocka_unit_test(test_forwardees_only),
	    cmocka_unit_test(test_broken_mime),
	    cmocka_unit_test(test_smart_subject_and_bcc),
	    cmocka_unit_test(test_sanitizer_tricks),
	    cmocka_unit_test(test_simple_build),
	};

	mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
