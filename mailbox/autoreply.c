/*
 * Out-of-Office policy and reply building (API and data flow in
 * mailbox/autoreply.h).  Pure logic over plain strings: the incoming
 * message's headers come from compose_headers_read and the reply's MIME
 * from compose_simple_build (both mailbox/mime_compose.c, the GMime side).
 *
 * Checks run cheapest and most loop-preventing first: activity, the return
 * path (RFC 3834 2: never answer an empty one), Auto-Submitted,
 * Precedence, mailing-list headers, system senders, the user's own
 * address, being addressed directly in To/Cc, the audience, and last the
 * once-per-period lookup, which is the only step that touches the store.
 */
#include "mailbox/autoreply.h"

#include <string.h>
#include <strings.h>

/* Local parts that never get an automatic reply (RFC 3834 2 names
 * MAILER-DAEMON, owner- and -request; the rest are common conventions for
 * unattended senders). */
static const char *const system_locals[] = {
    "mailer-daemon", "postmaster",   "noreply",      "no-reply", "no_reply",
    "donotreply",    "do-not-reply", "do_not_reply", "listserv", "majordomo",
    "bounce",        "bounces",      "root",         "nobody",   NULL};

const char *
autoreply_reason_name(enum autoreply_reason reason)
{
	switch (reason) {
	case AUTOREPLY_REPLY:
		return "reply";
	case AUTOREPLY_SKIP_INACTIVE:
		return "inactive";
	case AUTOREPLY_SKIP_NO_RETURN_PATH:
		return "no return path";
	case AUTOREPLY_SKIP_AUTO_SUBMITTED:
		return "auto-submitted";
	case AUTOREPLY_SKIP_PRECEDENCE:
		return "precedence";
	case AUTOREPLY_SKIP_LIST:
		return "mailing list";
	case AUTOREPLY_SKIP_SYSTEM_SENDER:
		return "system sender";
	case AUTOREPLY_SKIP_SELF:
		return "own address";
	case AUTOREPLY_SKIP_NOT_ADDRESSED:
		return "not addressed";
	case AUTOREPLY_SKIP_AUDIENCE:
		return "audience";
	case AUTOREPLY_SKIP_NO_MESSAGE:
		return "no message";
	case AUTOREPLY_SKIP_ALREADY_REPLIED:
		return "already replied";
	}
	return "unknown";
}

static bool
message_empty(const struct autoreply_message *m)
{
	return m->body == NULL || m->body[0] == '\0';
}

const struct autoreply_message *
autoreply_decision_message(const struct autoreply_settings *s,
			   const struct autoreply_decision *d)
{
	if (d->internal)
		return &s->internal;
	if (d->known && !message_empty(&s->external_known))
		return &s->external_known;
	return &s->external;
}

int
autoreply_settings_validate(const struct autoreply_settings *s,
			    const char **error_r)
{
	const struct autoreply_message *msgs[3];

	*error_r = NULL;
	if (s == NULL) {
		*error_r = "no settings";
		return -1;
	}
	msgs[0] = &s->internal;
	msgs[1] = &s->external;
	msgs[2] = &s->external_known;
	if (s->state != AUTOREPLY_OFF && s->state != AUTOREPLY_ON &&
	    s->state != AUTOREPLY_SCHEDULED) {
		*error_r = "unknown Oof state";
		return -1;
	}
	/* MS-ASCMD 2.2.3.176 StartTime / 2.2.3.63 EndTime: both required
	 * for a time-based Oof, the end after the start. */
	if (s->state == AUTOREPLY_SCHEDULED &&
	    (s->start_time <= 0 || s->end_time <= s->start_time)) {
		*error_r = "scheduled Oof needs a start before its end";
		return -1;
	}
	if (s->external_audience != AUTOREPLY_EXTERNAL_NONE &&
	    s->external_audience != AUTOREPLY_EXTERNAL_KNOWN &&
	    s->external_audience != AUTOREPLY_EXTERNAL_ALL) {
		*error_r = "unknown external audience";
		return -1;
	}
	if (s->period_s < 0 || s->period_s > AUTOREPLY_MAX_PERIOD_S) {
		*error_r = "reply period out of range";
		return -1;
	}
	for (size_t i = 0; i < 3; i++)
		if (msgs[i]->body != NULL &&
		    strnlen(msgs[i]->body, AUTOREPLY_MAX_MESSAGE_BYTES + 1) >
			AUTOREPLY_MAX_MESSAGE_BYTES) {
			*error_r = "reply message too long";
			return -1;
		}
	return 0;
}

bool
autoreply_active(const struct autoreply_settings *s, int64_t now)
{
	switch (s->state) {
	case AUTOREPLY_ON:
		return true;
	case AUTOREPLY_SCHEDULED:
		return now >= s->start_time && now < s->end_time;
	case AUTOREPLY_OFF:
		break;
	}
	return false;
}

static bool
is_user(const struct autoreply_user *u, const char *a)
{
	if (strcasecmp(u->address, a) == 0)
		return true;
	for (size_t i = 0; i < u->n_aliases; i++)
		if (u->aliases[i] != NULL && strcasecmp(u->aliases[i], a) == 0)
			return true;
	return false;
}

static const char *
domain_of(const char *a)
{
	const char *at = strrchr(a, '@');

	return at != NULL ? at + 1 : "";
}

static bool
is_internal(const struct autoreply_user *u, const char *sender)
{
	const char *d = domain_of(sender);

	if (u->n_internal_domains == 0)
		return strcasecmp(d, domain_of(u->address)) == 0;
	for (size_t i = 0; i < u->n_internal_domains; i++)
		if (u->internal_domains[i] != NULL &&
		    strcasecmp(d, u->internal_domains[i]) == 0)
			return true;
	return false;
}

/* The first token of a header value ("auto-replied; x" -> auto-replied)
 * equals word, ignoring case. */
static bool
token_is(const char *value, const char *word)
{
	size_t n = strlen(word);

	while (*value == ' ' || *value == '\t')
		value++;
	return strncasecmp(value, word, n) == 0 &&
	       (value[n] == '\0' || value[n] == ';' || value[n] == ' ' ||
		value[n] == '\t' || value[n] == '(');
}

static bool
system_sender(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t n = at != NULL ? (size_t)(at - addr) : strlen(addr);

	for (size_t i = 0; system_locals[i] != NULL; i++)
		if (strlen(system_locals[i]) == n &&
		    strncasecmp(addr, system_locals[i], n) == 0)
			return true;
	/* RFC 3834 2: owner-* and *-request are list addresses. */
	if (n >= 6 && strncasecmp(addr, "owner-", 6) == 0)
		return true;
	if (n >= 8 && strncasecmp(addr + n - 8, "-request", 8) == 0)
		return true;
	return false;
}

/* Copy a return path: "<a@b>" or "a@b", lower case; false if unusable. */
static bool
canonical_sender(const char *rp, char *out, size_t size)
{
	size_t n, k = 0;

	while (*rp == ' ' || *rp == '\t')
		rp++;
	n = strlen(rp);
	while (n > 0 && (rp[n - 1] == ' ' || rp[n - 1] == '\t'))
		n--;
	if (n >= 2 && rp[0] == '<' && rp[n - 1] == '>') {
		rp++;
		n -= 2;
	}
	if (n == 0 || n >= size)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)rp[i];

		if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',')
			return false;
		out[k++] =
		    (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
	}
	out[k] = '\0';
	/* One '@' with text on both sides. */
	return strchr(out, '@') != NULL && out[0] != '@' &&
	       strchr(out, '@') == strrchr(out, '@') && out[k - 1] != '@';
}

int
autoreply_decide(const struct autoreply_settings *s,
		 const struct autoreply_user *user,
		 const struct compose_headers *in, const char *envelope_from,
		 int64_t now, const struct autoreply_history *history,
		 struct autoreply_decision *d)
{
	const char *rp =
	    envelope_from != NULL ? envelope_from : in->return_path;
	const struct autoreply_message *msg;
	int64_t period =
	    s->period_s > 0 ? s->period_s : AUTOREPLY_DEFAULT_PERIOD_S;
	bool addressed = false;

	memset(d, 0, sizeof(*d));
	d->reason = AUTOREPLY_SKIP_INACTIVE;
	if (!autoreply_active(s, now))
		return 0;
	/* RFC 3834 2 and 3.1.1: the reply goes to the return path only;
	 * an empty one (bounces, auto-replies) is never answered. */
	d->reason = AUTOREPLY_SKIP_NO_RETURN_PATH;
	if (rp == NULL ||
	    !canonical_sender(rp, d->recipient, sizeof(d->recipient)))
		return 0;
	/* RFC 3834 5: anything but "no" was sent by a machine. */
	d->reason = AUTOREPLY_SKIP_AUTO_SUBMITTED;
	if (in->auto_submitted != NULL && !token_is(in->auto_submitted, "no"))
		return 0;
	/* RFC 3834 2: Precedence bulk, list or junk (RFC 2076). */
	d->reason = AUTOREPLY_SKIP_PRECEDENCE;
	if (in->precedence != NULL && (token_is(in->precedence, "bulk") ||
				       token_is(in->precedence, "list") ||
				       token_is(in->precedence, "junk")))
		return 0;
	d->reason = AUTOREPLY_SKIP_LIST;
	if (in->has_list_headers)
		return 0;
	d->reason = AUTOREPLY_SKIP_SYSTEM_SENDER;
	if (system_sender(d->recipient) ||
	    (in->from_address != NULL && system_sender(in->from_address)))
		return 0;
	d->reason = AUTOREPLY_SKIP_SELF;
	if (is_user(user, d->recipient))
		return 0;
	/* RFC 3834 2: only messages addressed to the user directly (To or
	 * Cc), not via a list or Bcc. */
	for (size_t i = 0; i < in->n_recipients && !addressed; i++)
		addressed = is_user(user, in->recipients[i]);
	d->reason = AUTOREPLY_SKIP_NOT_ADDRESSED;
	if (!addressed)
		return 0;
	d->internal = is_internal(user, d->recipient);
	if (!d->internal) {
		d->reason = AUTOREPLY_SKIP_AUDIENCE;
		if (s->external_audience == AUTOREPLY_EXTERNAL_NONE)
			return 0;
		/* MS-ASCMD 2.2.3.9 AppliesToExternalKnown: asked only when
		 * it decides something -- the Known audience alone, or a
		 * separate text for known senders. */
		if ((s->external_audience == AUTOREPLY_EXTERNAL_KNOWN ||
		     !message_empty(&s->external_known)) &&
		    history != NULL && history->is_known != NULL) {
			int k = history->is_known(history->ctx, d->recipient);

			if (k < 0)
				return -1;
			d->known = k > 0;
		}
		if (s->external_audience == AUTOREPLY_EXTERNAL_KNOWN &&
		    !d->known)
			return 0;
	}
	msg = autoreply_decision_message(s, d);
	d->reason = AUTOREPLY_SKIP_NO_MESSAGE;
	if (message_empty(msg))
		return 0;
	/* RFC 3834 2: at most once per sender per period. */
	if (history != NULL && history->last_replied != NULL) {
		int64_t at = 0;
		int r = history->last_replied(history->ctx, d->recipient, &at);

		if (r < 0)
			return -1;
		d->reason = AUTOREPLY_SKIP_ALREADY_REPLIED;
		if (r == 0 && now - at < period)
			return 0;
	}
	d->reason = AUTOREPLY_REPLY;
	return 0;
}

int
autoreply_build(const struct autoreply_settings *s,
		const struct autoreply_user *user,
		const struct compose_headers *in,
		const struct autoreply_decision *d, int64_t now,
		struct buf *out, const char **error_r)
{
	const struct autoreply_message *msg = autoreply_decision_message(s, d);
	struct compose_simple m;
	struct buf subject;
	int ret;

	*error_r = NULL;
	if (d->reason != AUTOREPLY_REPLY || message_empty(msg)) {
		*error_r = "the decision is not to reply";
		return -1;
	}
	/* RFC 3834 3.1.5: a subject derived from the original's. */
	buf_init(&subject,
		 MIME_MAX_HEADER_BYTES + sizeof(AUTOREPLY_SUBJECT_PREFIX));
	if (in->subject != NULL && in->subject[0] != '\0')
		ret = buf_printf(&subject, AUTOREPLY_SUBJECT_PREFIX "%s",
				 in->subject);
	else
		ret = buf_append_str(&subject, "Automatic reply");
	if (ret != 0) {
		buf_free(&subject);
		*error_r = "subject too long";
		return -1;
	}
	memset(&m, 0, sizeof(m));
	m.from_name = user->name;
	m.from_address = user->address;
	m.to_address = d->recipient;
	m.subject = buf_str(&subject);
	/* RFC 3834 3.1.3-3.1.4: thread the reply to the message. */
	m.in_reply_to = in->message_id;
	m.references = in->references;
	m.body = msg->body;
	m.body_is_html = msg->is_html;
	/* RFC 3834 3.1.7 / 5.2. */
	m.auto_submitted = "auto-replied";
	m.message_id_domain = user->message_id_domain;
	m.now = now;
	ret = compose_simple_build(&m, out, error_r);
	buf_free(&subject);
	return ret;
}

int
autoreply_process(const struct autoreply_settings *s,
		  const struct autoreply_user *user,
		  const struct compose_headers *in, const char *envelope_from,
		  int64_t now, const struct autoreply_history *history,
		  struct autoreply_decision *d, struct buf *out,
		  const char **error_r)
{
	*error_r = NULL;
	if (autoreply_decide(s, user, in, envelope_from, now, history, d) !=
	    0) {
		*error_r = "reply history or known-sender lookup failed";
		return -1;
	}
	if (d->reason != AUTOREPLY_REPLY)
		return 0;
	if (autoreply_build(s, user, in, d, now, out, error_r) != 0)
		return -1;
	if (history != NULL && history->record != NULL &&
	    history->record(history->ctx, d->recipient, now) != 0) {
		*error_r = "recording the reply failed";
		return -1;
	}
	return 0;
}
