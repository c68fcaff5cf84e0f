/* Unit tests for mailbox/autoreply.c: Oof settings validation and
 * schedule, each RFC 3834 section 2 exclusion, internal and external
 * audiences, once per sender per period through a fake history store, and
 * the auto-reply's headers (read back with compose_headers_read and
 * mime_parse). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/autoreply.h"
#include "mailbox/compose.h"
#include "mailbox/mime.h"

#define NOW 1800000000
#define DAY (24 * 3600)

static const char *const aliases[] = {"robert@example.com"};
static const struct autoreply_user user = {
    .name = "Bob B",
    .address = "bob@example.com",
    .aliases = aliases,
    .n_aliases = 1,
};

/* A fake of the store's reply history and contact lookup. */
struct fake_history {
	char senders[8][COMPOSE_MAX_ADDRESS_BYTES + 1];
	int64_t at[8];
	size_t n;
	const char *known; /* the one known contact */
	bool fail;
	bool known_fail; /* the known-sender lookup fails */
	int records;
	int known_asked;
};

static int
fake_last(void *ctx, const char *sender, int64_t *at_r)
{
	struct fake_history *h = ctx;

	if (h->fail)
		return -1;
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->senders[i], sender) == 0) {
			*at_r = h->at[i];
			return 0;
		}
	return 1;
}

static int
fake_record(void *ctx, const char *sender, int64_t at)
{
	struct fake_history *h = ctx;
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->senders[i], sender) == 0)
			break;
	if (i == h->n) {
		assert_true(h->n < 8);
		snprintf(h->senders[h->n], sizeof(h->senders[0]), "%s", sender);
		h->n++;
	}
	h->at[i] = at;
	h->records++;
	return 0;
}

static int
fake_known(void *ctx, const char *sender)
{
	struct fake_history *h = ctx;

	h->known_asked++;
	if (h->known_fail)
		return -1;
	return h->known != NULL && strcmp(h->known, sender) == 0;
}

static struct autoreply_settings
settings_on(void)
{
	struct autoreply_settings s = {0};

	s.state = AUTOREPLY_ON;
	s.internal.body = "Away until Monday (internal).";
	s.external.body = "<p>Away until <b>Monday</b>.</p>";
	s.external.is_html = true;
	s.external_audience = AUTOREPLY_EXTERNAL_ALL;
	return s;
}

static struct compose_headers *
headers(const char *raw)
{
	struct compose_headers *h = NULL;
	const char *error = NULL;

	assert_int_equal(
	    compose_headers_read((const uint8_t *)raw, strlen(raw), &h, &error),
	    0);
	assert_non_null(h);
	return h;
}

#define BASE_MSG                                        \
	"From: Alice <alice@partner.example>\n"         \
	"To: Bob <bob@example.com>, team@example.com\n" \
	"Subject: Lunch\n"                              \
	"Message-ID: <m1@partner.example>\n"            \
	"References: <m0@partner.example>\n"

/* Decide on BASE_MSG plus extra headers from envelope sender env. */
static enum autoreply_reason
decide(const struct autoreply_settings *s, const char *extra, const char *env,
       struct fake_history *fh, int64_t now, struct autoreply_decision *d_r)
{
	struct autoreply_history hist = {fake_last, fake_record, fake_known,
					 fh};
	struct autoreply_decision d;
	struct compose_headers *h;
	char raw[2048];

	snprintf(raw, sizeof(raw), "%s%s\nbody\n", BASE_MSG, extra);
	h = headers(raw);
	assert_int_equal(autoreply_decide(s, &user, h, env, now, &hist, &d), 0);
	compose_headers_free(&h);
	if (d_r != NULL)
		*d_r = d;
	return d.reason;
}

static void
test_settings_validate(void **state)
{
	struct autoreply_settings s = settings_on();
	const char *error;
	char *big;

	(void)state;
	assert_int_equal(autoreply_settings_validate(&s, &error), 0);
	s.state = (enum autoreply_state)7;
	assert_int_equal(autoreply_settings_validate(&s, &error), -1);
	assert_non_null(error);
	s.state = AUTOREPLY_SCHEDULED;
	s.start_time = NOW;
	s.end_time = NOW; /* empty window */
	assert_int_equal(autoreply_settings_validate(&s, &error), -1);
	s.end_time = NOW + DAY;
	assert_int_equal(autoreply_settings_validate(&s, &error), 0);
	s.external_audience = (enum autoreply_external)3;
	assert_int_equal(autoreply_settings_validate(&s, &error), -1);
	s.external_audience = AUTOREPLY_EXTERNAL_KNOWN;
	s.period_s = -1;
	assert_int_equal(autoreply_settings_validate(&s, &error), -1);
	s.period_s = AUTOREPLY_MAX_PERIOD_S + 1;
	assert_int_equal(autoreply_settings_validate(&s, &error), -1);
	s.period_s = DAY;
	big = malloc(AUTOREPLY_MAX_MESSAGE_BYTES + 2);
	assert_non_null(big);
	memset(big, 'a', AUTOREPLY_MAX_MESSAGE_BYTES + 1);
	big[AUTOREPLY_MAX_MESSAGE_BYTES + 1] = '\0';
	s.internal.body = big;
	assert_int_equal(autoreply_settings_validate(&s, &error), -1);
	big[AUTOREPLY_MAX_MESSAGE_BYTES] = '\0';
	assert_int_equal(autoreply_settings_validate(&s, &error), 0);
	free(big);
	assert_int_equal(autoreply_settings_validate(NULL, &error), -1);
}

static void
test_schedule(void **state)
{
	struct autoreply_settings s = settings_on();
	struct fake_history fh = {0};

	(void)state;
	assert_true(autoreply_active(&s, 0));
	s.state = AUTOREPLY_OFF;
	assert_false(autoreply_active(&s, NOW));
	assert_int_equal(
	    decide(&s, "", "alice@partner.example", &fh, NOW, NULL),
	    AUTOREPLY_SKIP_INACTIVE);
	s.state = AUTOREPLY_SCHEDULED;
	s.start_time = NOW;
	s.end_time = NOW + DAY;
	assert_false(autoreply_active(&s, NOW - 1));
	assert_true(autoreply_active(&s, NOW));
	assert_true(autoreply_active(&s, NOW + DAY - 1));
	assert_false(autoreply_active(&s, NOW + DAY));
	assert_int_equal(
	    decide(&s, "", "alice@partner.example", &fh, NOW + DAY, NULL),
	    AUTOREPLY_SKIP_INACTIVE);
	assert_int_equal(
	    decide(&s, "", "alice@partner.example", &fh, NOW + 10, NULL),
	    AUTOREPLY_REPLY);
}

/* Each RFC 3834 section 2 exclusion, against a message that otherwise
 * gets a reply. */
static void
test_rfc3834_exclusions(void **state)
{
	struct autoreply_settings s = settings_on();
	struct fake_history fh = {0};
	struct autoreply_decision d;
	const char *ok = "alice@partner.example";

	(void)state;
	assert_int_equal(decide(&s, "", "Alice@Partner.Example", &fh, NOW, &d),
			 AUTOREPLY_REPLY);
	assert_string_equal(d.recipient, "alice@partner.example");
	assert_false(d.internal);
	assert_string_equal(autoreply_reason_name(d.reason), "reply");

	assert_int_equal(
	    decide(&s, "Auto-Submitted: auto-generated\n", ok, &fh, NOW, NULL),
	    AUTOREPLY_SKIP_AUTO_SUBMITTED);
	assert_int_equal(decide(&s, "Auto-Submitted: auto-replied; x=1\n", ok,
				&fh, NOW, NULL),
			 AUTOREPLY_SKIP_AUTO_SUBMITTED);
	assert_int_equal(decide(&s, "Auto-Submitted: No\n", ok, &fh, NOW, NULL),
			 AUTOREPLY_REPLY);
	assert_int_equal(decide(&s, "Precedence: bulk\n", ok, &fh, NOW, NULL),
			 AUTOREPLY_SKIP_PRECEDENCE);
	assert_int_equal(decide(&s, "Precedence: List\n", ok, &fh, NOW, NULL),
			 AUTOREPLY_SKIP_PRECEDENCE);
	assert_int_equal(decide(&s, "Precedence: junk\n", ok, &fh, NOW, NULL),
			 AUTOREPLY_SKIP_PRECEDENCE);
	assert_int_equal(
	    decide(&s, "Precedence: first-class\n", ok, &fh, NOW, NULL),
	    AUTOREPLY_REPLY);
	assert_int_equal(
	    decide(&s, "List-Id: <team.lists.example>\n", ok, &fh, NOW, NULL),
	    AUTOREPLY_SKIP_LIST);
	assert_int_equal(decide(&s,
				"List-Unsubscribe: <mailto:u@lists.example>\n",
				ok, &fh, NOW, NULL),
			 AUTOREPLY_SKIP_LIST);
	/* Empty return path, from LMTP or from the header. */
	assert_int_equal(decide(&s, "", "", &fh, NOW, NULL),
			 AUTOREPLY_SKIP_NO_RETURN_PATH);
	assert_int_equal(decide(&s, "", "<>", &fh, NOW, NULL),
			 AUTOREPLY_SKIP_NO_RETURN_PATH);
	assert_int_equal(decide(&s, "Return-Path: <>\n", NULL, &fh, NOW, NULL),
			 AUTOREPLY_SKIP_NO_RETURN_PATH);
	assert_int_equal(decide(&s, "", NULL, &fh, NOW, NULL),
			 AUTOREPLY_SKIP_NO_RETURN_PATH);
	assert_int_equal(decide(&s, "", "not an address", &fh, NOW, NULL),
			 AUTOREPLY_SKIP_NO_RETURN_PATH);
	assert_int_equal(decide(&s, "Return-Path: <alice@partner.example>\n",
				NULL, &fh, NOW, &d),
			 AUTOREPLY_REPLY);
	assert_string_equal(d.recipient, "alice@partner.example");
	/* System senders. */
	assert_int_equal(
	    decide(&s, "", "MAILER-DAEMON@mx.partner.example", &fh, NOW, NULL),
	    AUTOREPLY_SKIP_SYSTEM_SENDER);
	assert_int_equal(
	    decide(&s, "", "postmaster@partner.example", &fh, NOW, NULL),
	    AUTOREPLY_SKIP_SYSTEM_SENDER);
	assert_int_equal(
	    decide(&s, "", "no-reply@shop.example", &fh, NOW, NULL),
	    AUTOREPLY_SKIP_SYSTEM_SENDER);
	assert_int_equal(decide(&s, "", "noreply@shop.example", &fh, NOW, NULL),
			 AUTOREPLY_SKIP_SYSTEM_SENDER);
	assert_int_equal(
	    decide(&s, "", "owner-team@lists.example", &fh, NOW, NULL),
	    AUTOREPLY_SKIP_SYSTEM_SENDER);
	assert_int_equal(
	    decide(&s, "", "team-request@lists.example", &fh, NOW, NULL),
	    AUTOREPLY_SKIP_SYSTEM_SENDER);
	/* The user's own messages never get an answer (loops). */
	assert_int_equal(decide(&s, "", "Robert@example.com", &fh, NOW, NULL),
			 AUTOREPLY_SKIP_SELF);
	assert_int_equal(fh.records, 0); /* deciding records nothing */
}

/* RFC 3834 2: not addressed to the user in To or Cc (list, Bcc). */
static void
test_not_addressed(void **state)
{
	struct autoreply_settings s = settings_on();
	struct fake_history fh = {0};
	struct autoreply_history hist = {fake_last, fake_record, fake_known,
					 &fh};
	struct autoreply_decision d;
	struct compose_headers *h;

	(void)state;
	h = headers("From: alice@partner.example\nTo: team@example.com\n"
		    "Subject: x\n\nbody\n");
	assert_int_equal(autoreply_decide(&s, &user, h, "alice@partner.example",
					  NOW, &hist, &d),
			 0);
	assert_int_equal(d.reason, AUTOREPLY_SKIP_NOT_ADDRESSED);
	compose_headers_free(&h);
	/* In Cc, by an alias, in a group: addressed. */
	h = headers("From: alice@partner.example\nTo: team@example.com\n"
		    "Cc: friends: ROBERT@example.com;\nSubject: x\n\nbody\n");
	assert_int_equal(autoreply_decide(&s, &user, h, "alice@partner.example",
					  NOW, &hist, &d),
			 0);
	assert_int_equal(d.reason, AUTOREPLY_REPLY);
	compose_headers_free(&h);
}

static void
test_audiences(void **state)
{
	struct autoreply_settings s = settings_on();
	struct fake_history fh = {0};
	struct autoreply_decision d;
	static const char *const domains[] = {"example.com", "example.net"};
	struct autoreply_user u2 = user;

	(void)state;
	/* Same domain: internal, gets the internal message. */
	assert_int_equal(decide(&s, "", "carol@example.com", &fh, NOW, &d),
			 AUTOREPLY_REPLY);
	assert_true(d.internal);
	s.external_audience = AUTOREPLY_EXTERNAL_NONE;
	assert_int_equal(decide(&s, "", "carol@example.com", &fh, NOW, NULL),
			 AUTOREPLY_REPLY);
	assert_int_equal(decide(&s, "", "alice@partner.example", &fh, NOW, &d),
			 AUTOREPLY_SKIP_AUDIENCE);
	assert_false(d.internal);
	/* Known senders only. */
	s.external_audience = AUTOREPLY_EXTERNAL_KNOWN;
	assert_int_equal(
	    decide(&s, "", "alice@partner.example", &fh, NOW, NULL),
	    AUTOREPLY_SKIP_AUDIENCE);
	fh.known = "alice@partner.example";
	assert_int_equal(
	    decide(&s, "", "alice@partner.example", &fh, NOW, NULL),
	    AUTOREPLY_REPLY);
	/* An audience without a text gets nothing. */
	s.external.body = "";
	assert_int_equal(
	    decide(&s, "", "alice@partner.example", &fh, NOW, NULL),
	    AUTOREPLY_SKIP_NO_MESSAGE);
	s.internal.body = NULL;
	assert_int_equal(decide(&s, "", "carol@example.com", &fh, NOW, NULL),
			 AUTOREPLY_SKIP_NO_MESSAGE);

	/* Configured internal domains replace the address's domain. */
	s = settings_on();
	u2.internal_domains = domains;
	u2.n_internal_domains = 2;
	{
		struct autoreply_history hist = {fake_last, fake_record,
						 fake_known, &fh};
		struct compose_headers *h = headers(BASE_MSG "\nbody\n");

		assert_int_equal(autoreply_decide(&s, &u2, h, "dan@EXAMPLE.net",
						  NOW, &hist, &d),
				 0);
		assert_true(d.internal);
		assert_int_equal(autoreply_decide(&s, &u2, h,
						  "alice@partner.example", NOW,
						  &hist, &d),
				 0);
		assert_false(d.internal);
		compose_headers_free(&h);
	}
}

/* MS-ASCMD 2.2.3.9 / 2.2.3.10: with both outside audiences enabled, a
 * known sender gets the Known text and a stranger the Unknown one; the
 * lookup runs only when it decides something, and its failure sends
 * nothing. */
static void
test_known_and_unknown_texts(void **state)
{
	struct autoreply_settings s = settings_on();
	struct fake_history fh = {.known = "alice@partner.example"};
	struct autoreply_history hist = {fake_last, fake_record, fake_known,
					 &fh};
	struct autoreply_decision d;
	struct compose_headers *h = headers(BASE_MSG "\nbody\n");
	const char *error;
	struct buf out;

	(void)state;
	s.external.body = "Unknown text";
	s.external.is_html = false;
	s.external_known.body = "Known text";
	buf_init(&out, 1u << 20);
	assert_int_equal(autoreply_process(&s, &user, h,
					   "alice@partner.example", NOW, &hist,
					   &d, &out, &error),
			 0);
	assert_int_equal(d.reason, AUTOREPLY_REPLY);
	assert_true(d.known);
	assert_string_equal(autoreply_decision_message(&s, &d)->body,
			    "Known text");
	assert_non_null(memmem(out.data, out.len, "Known text", 10));
	assert_null(memmem(out.data, out.len, "Unknown text", 12));
	buf_reset(&out);
	assert_int_equal(autoreply_process(&s, &user, h, "zed@stranger.example",
					   NOW, &hist, &d, &out, &error),
			 0);
	assert_int_equal(d.reason, AUTOREPLY_REPLY);
	assert_false(d.known);
	assert_non_null(memmem(out.data, out.len, "Unknown text", 12));
	buf_reset(&out);
	/* Internal senders: the internal text, no lookup. */
	fh.known_asked = 0;
	assert_int_equal(decide(&s, "", "carol@example.com", &fh, NOW, &d),
			 AUTOREPLY_REPLY);
	assert_true(d.internal);
	assert_string_equal(autoreply_decision_message(&s, &d)->body,
			    s.internal.body);
	assert_int_equal(fh.known_asked, 0);
	/* Unknown only (no Known text): everybody outside alike, no
	 * lookup. */
	s.external_known.body = NULL;
	assert_int_equal(decide(&s, "", "bea@partner.example", &fh, NOW, &d),
			 AUTOREPLY_REPLY);
	assert_int_equal(fh.known_asked, 0);
	/* A failing lookup: an error, no reply. */
	s.external_audience = AUTOREPLY_EXTERNAL_KNOWN;
	fh.known_fail = true;
	assert_int_equal(autoreply_process(&s, &user, h, "dan@partner.example",
					   NOW, &hist, &d, &out, &error),
			 -1);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	compose_headers_free(&h);
}

/* RFC 3834 2: once per sender per period, through the history. */
static void
test_once_per_period(void **state)
{
	struct autoreply_settings s = settings_on();
	struct fake_history fh = {0};
	struct autoreply_history hist = {fake_last, fake_record, fake_known,
					 &fh};
	struct autoreply_decision d;
	struct compose_headers *h = headers(BASE_MSG "\nbody\n");
	const char *error;
	struct buf out;

	(void)state;
	buf_init(&out, 1u << 20);
	assert_int_equal(autoreply_process(&s, &user, h,
					   "Alice@partner.example", NOW, &hist,
					   &d, &out, &error),
			 0);
	assert_int_equal(d.reason, AUTOREPLY_REPLY);
	assert_true(out.len > 0);
	assert_int_equal(fh.records, 1);
	assert_string_equal(fh.senders[0], "alice@partner.example");
	buf_reset(&out);
	/* Within the default week: no second reply. */
	assert_int_equal(
	    autoreply_process(&s, &user, h, "alice@partner.example",
			      NOW + 6 * DAY, &hist, &d, &out, &error),
	    0);
	assert_int_equal(d.reason, AUTOREPLY_SKIP_ALREADY_REPLIED);
	assert_int_equal(out.len, 0);
	assert_int_equal(fh.records, 1);
	/* Another sender is independent. */
	assert_int_equal(autoreply_process(&s, &user, h, "carol@example.com",
					   NOW + DAY, &hist, &d, &out, &error),
			 0);
	assert_int_equal(d.reason, AUTOREPLY_REPLY);
	buf_reset(&out);
	/* After the period, again. */
	assert_int_equal(autoreply_process(&s, &user, h,
					   "alice@partner.example",
					   NOW + AUTOREPLY_DEFAULT_PERIOD_S,
					   &hist, &d, &out, &error),
			 0);
	assert_int_equal(d.reason, AUTOREPLY_REPLY);
	/* A shorter configured period. */
	s.period_s = DAY;
	assert_int_equal(decide(&s, "", "alice@partner.example", &fh,
				NOW + AUTOREPLY_DEFAULT_PERIOD_S + DAY - 1,
				NULL),
			 AUTOREPLY_SKIP_ALREADY_REPLIED);
	assert_int_equal(decide(&s, "", "alice@partner.example", &fh,
				NOW + AUTOREPLY_DEFAULT_PERIOD_S + DAY, NULL),
			 AUTOREPLY_REPLY);
	/* A failing store: no reply, an error. */
	fh.fail = true;
	buf_reset(&out);
	assert_int_equal(autoreply_process(&s, &user, h, "erin@partner.example",
					   NOW, &hist, &d, &out, &error),
			 -1);
	assert_non_null(error);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	compose_headers_free(&h);
}

static void
strip_cr(char *text)
{
	size_t j = 0;

	for (size_t i = 0; text != NULL && text[i] != '\0'; i++)
		if (text[i] != '\r')
			text[j++] = text[i];
	if (text != NULL)
		text[j] = '\0';
}

/* RFC 3834 3: the reply's headers and body. */
static void
test_reply_message(void **state)
{
	struct autoreply_settings s = settings_on();
	struct fake_history fh = {0};
	struct autoreply_history hist = {fake_last, fake_record, fake_known,
					 &fh};
	struct autoreply_decision d;
	struct compose_headers *in = headers(BASE_MSG "\nbody\n"), *out_h;
	struct message_summary *sum;
	const char *error;
	struct buf out;
	char *raw;

	(void)state;
	buf_init(&out, 1u << 20);
	assert_int_equal(autoreply_process(&s, &user, in,
					   "alice@partner.example", NOW, &hist,
					   &d, &out, &error),
			 0);
	assert_int_equal(d.reason, AUTOREPLY_REPLY);
	raw = strdup(buf_str(&out));
	assert_non_null(raw);
	strip_cr(raw);
	assert_non_null(strstr(raw, "\nAuto-Submitted: auto-replied\n"));
	assert_non_null(strstr(raw, "\nIn-Reply-To: <m1@partner.example>\n"));
	assert_non_null(strstr(
	    raw, "\nReferences: <m0@partner.example> <m1@partner.example>\n"));
	assert_non_null(strstr(raw, "\nSubject: Automatic reply: Lunch\n"));
	assert_non_null(strstr(raw, "From: Bob B <bob@example.com>\n"));
	assert_non_null(strstr(raw, "\nTo: alice@partner.example\n"));
	assert_non_null(strstr(raw, "Content-Type: text/html"));
	assert_int_equal(
	    compose_headers_read(out.data, out.len, &out_h, &error), 0);
	/* A reply to the reply would be refused by this very policy. */
	assert_string_equal(out_h->auto_submitted, "auto-replied");
	assert_int_equal(out_h->n_recipients, 1);
	assert_string_equal(out_h->recipients[0], "alice@partner.example");
	compose_headers_free(&out_h);
	assert_int_equal(mime_parse(out.data, out.len, 1, &sum, &error), 0);
	assert_non_null(sum->html);
	assert_non_null(strstr(sum->html, "Away until <b>Monday</b>."));
	message_summary_free(&sum);
	free(raw);

	/* Internal sender: the plain-text message; no subject: generic. */
	compose_headers_free(&in);
	in = headers("From: carol@example.com\nTo: bob@example.com\n\nx\n");
	buf_reset(&out);
	assert_int_equal(autoreply_process(&s, &user, in, "carol@example.com",
					   NOW, &hist, &d, &out, &error),
			 0);
	assert_true(d.internal);
	raw = strdup(buf_str(&out));
	assert_non_null(raw);
	strip_cr(raw);
	assert_non_null(strstr(raw, "\nSubject: Automatic reply\n"));
	assert_non_null(strstr(raw, "Content-Type: text/plain"));
	assert_null(strstr(raw, "In-Reply-To"));
	assert_int_equal(mime_parse(out.data, out.len, 1, &sum, &error), 0);
	assert_non_null(strstr(sum->text, "Away until Monday (internal)."));
	message_summary_free(&sum);
	free(raw);

	/* build refuses a decision not to reply. */
	d.reason = AUTOREPLY_SKIP_LIST;
	assert_int_equal(autoreply_build(&s, &user, in, &d, NOW, &out, &error),
			 -1);
	compose_headers_free(&in);
	buf_free(&out);
}

static void
test_headers_read_refuses(void **state)
{
	struct compose_headers *h = NULL;
	const char *error = NULL;

	(void)state;
	assert_int_equal(compose_headers_read(NULL, 0, &h, &error), -1);
	assert_non_null(error);
	assert_null(h);
	/* Return-Path forms. */
	h = headers("Return-Path: <>\nFrom: a@b.example\n\nx\n");
	assert_string_equal(h->return_path, "");
	compose_headers_free(&h);
	h = headers("Return-Path:  <x@y.example> \nFrom: a@b.example\n\nx\n");
	assert_string_equal(h->return_path, "x@y.example");
	assert_false(h->has_list_headers);
	assert_null(h->auto_submitted);
	compose_headers_free(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_settings_validate),
	    cmocka_unit_test(test_schedule),
	    cmocka_unit_test(test_rfc3834_exclusions),
	    cmocka_unit_test(test_not_addressed),
	    cmocka_unit_test(test_audiences),
	    cmocka_unit_test(test_known_and_unknown_texts),
	    cmocka_unit_test(test_once_per_period),
	    cmocka_unit_test(test_reply_message),
	    cmocka_unit_test(test_headers_read_refuses),
	};

	mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
