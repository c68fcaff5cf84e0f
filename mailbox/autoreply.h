/*
 * Out-of-Office auto-replies: the Settings Oof state a user sets from a
 * phone (MS-ASCMD 2.2.1.18, 2.2.3.119 OofState), the policy deciding
 * whether an incoming message gets an automatic reply (RFC 3834 section 2
 * plus the internal/external audiences of Oof), and the reply message
 * itself (RFC 3834 section 3).  LMTP delivery calls autoreply_process after
 * a message is committed; the reply goes into the send queue with an
 * empty envelope sender (RFC 3834 3.3: MAIL FROM:<> so that nothing ever
 * answers an auto-reply).
 *
 * The module holds no state: the "last replied to this sender" memory
 * lives in the store and is reached through struct autoreply_history, so
 * the policy is a pure function of its arguments and is tested as such.
 * The store should forget the history when the user changes the Oof
 * settings, so that a new absence answers everybody once again.
 */
#ifndef EASD_MAILBOX_AUTOREPLY_H
#define EASD_MAILBOX_AUTOREPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox/compose.h"
#include "proto/buf.h"
#include "proto/limits.h"

/* RFC 3834 2: "at most once per ... period"; its suggestion is 7 days. */
#define AUTOREPLY_DEFAULT_PERIOD_S (7 * 24 * 3600)
/* Longest period accepted from a setting (one year). */
#define AUTOREPLY_MAX_PERIOD_S (366 * 24 * 3600)
#define AUTOREPLY_SUBJECT_PREFIX "Automatic reply: "

/* MS-ASCMD 2.2.3.119 OofState values. */
enum autoreply_state {
	AUTOREPLY_OFF = 0,       /* disabled */
	AUTOREPLY_ON = 1,        /* global: until switched off */
	AUTOREPLY_SCHEDULED = 2, /* time-based: StartTime to EndTime */
};

/* Which senders outside the organization get the external message
 * (MS-ASCMD AppliesToExternalKnown / AppliesToExternalUnknown). */
enum autoreply_external {
	AUTOREPLY_EXTERNAL_NONE = 0,
	AUTOREPLY_EXTERNAL_KNOWN = 1, /* only senders the user knows */
	AUTOREPLY_EXTERNAL_ALL = 2,
};

/* One reply text (MS-ASCMD ReplyMessage and BodyType); NULL or "" means
 * this audience gets no reply.  The caller owns the strings. */
struct autoreply_message {
	const char *body;
	bool is_html;
};

struct autoreply_settings {
	enum autoreply_state state;
	int64_t start_time; /* UTC seconds; SCHEDULED: active in [start, end) */
	int64_t end_time;
	struct autoreply_message internal; /* same-organization senders */
	struct autoreply_message external;
	/* Known outside senders, when their text differs from external
	 * (both audiences enabled); empty: they get external. */
	struct autoreply_message external_known;
	enum autoreply_external external_audience;
	int64_t period_s; /* once per sender per period; 0: the default */
};

/* The user on whose behalf replies are sent. */
struct autoreply_user {
	const char *name; /* display name for From, may be NULL */
	const char *address;
	const char *const *aliases;
	size_t n_aliases;
	/* Domains whose senders are internal; none given: the domain of
	 * address. */
	const char *const *internal_domains;
	size_t n_internal_domains;
	const char *message_id_domain; /* NULL: the address's domain */
};

/* The store's memory of replies already sent (keys: lower-case
 * addresses). */
struct autoreply_history {
	/* 0 and *at_r if sender was answered before, 1 if never, -1 on a
	 * store error. */
	int (*last_replied)(void *ctx, const char *sender, int64_t *at_r);
	/* Remember that sender was answered at `at`; 0 or -1. */
	int (*record)(void *ctx, const char *sender, int64_t at);
	/* sender is known to the user (a contact, a correspondent): 1, 0
	 * when not, -1 on a store error.  Asked only for outside senders
	 * when the answer matters.  NULL: nobody is. */
	int (*is_known)(void *ctx, const char *sender);
	void *ctx;
};

enum autoreply_reason {
	AUTOREPLY_REPLY = 0, /* send the reply */
	AUTOREPLY_SKIP_INACTIVE,
	AUTOREPLY_SKIP_NO_RETURN_PATH,  /* empty, <> or unusable */
	AUTOREPLY_SKIP_AUTO_SUBMITTED,  /* Auto-Submitted other than "no" */
	AUTOREPLY_SKIP_PRECEDENCE,      /* Precedence bulk, list or junk */
	AUTOREPLY_SKIP_LIST,            /* List-* headers */
	AUTOREPLY_SKIP_SYSTEM_SENDER,   /* MAILER-DAEMON, noreply, ... */
	AUTOREPLY_SKIP_SELF,            /* from the user: a loop */
	AUTOREPLY_SKIP_NOT_ADDRESSED,   /* user not in To or Cc */
	AUTOREPLY_SKIP_AUDIENCE,        /* external sender not covered */
	AUTOREPLY_SKIP_NO_MESSAGE,      /* the audience's text is empty */
	AUTOREPLY_SKIP_ALREADY_REPLIED, /* within the period */
};

struct autoreply_decision {
	enum autoreply_reason reason;
	bool internal; /* the sender is in the organization */
	bool known;    /* an outside sender the user knows (is_known) */
	/* The reply's recipient: the return path, lower case. */
	char recipient[COMPOSE_MAX_ADDRESS_BYTES + 1];
};

/* The text a decision's reply carries: internal, known or external. */
const struct autoreply_message *
autoreply_decision_message(const struct autoreply_settings *s,
			   const struct autoreply_decision *d);

/* Check settings from a client (Settings Oof Set): states, times,
 * audience, period and message sizes.  -1 with *error_r if invalid. */
int autoreply_settings_validate(const struct autoreply_settings *s,
				const char **error_r);

/* The settings answer messages at time now. */
bool autoreply_active(const struct autoreply_settings *s, int64_t now);

/*
 * Decide whether the incoming message (headers from compose_headers_read)
 * gets an auto-reply.  envelope_from is the LMTP MAIL FROM ("" for <>);
 * NULL falls back to the Return-Path header.  Fills *d; returns -1 only if
 * the history or known-sender lookup failed (then no reply is sent).
 */
int autoreply_decide(const struct autoreply_settings *s,
		     const struct autoreply_user *user,
		     const struct compose_headers *in,
		     const char *envelope_from, int64_t now,
		     const struct autoreply_history *history,
		     struct autoreply_decision *d);

/*
 * Build the reply for a decision with reason AUTOREPLY_REPLY: To the
 * return path, From the user, "Automatic reply: <subject>",
 * Auto-Submitted: auto-replied, In-Reply-To and References, the
 * audience's text or HTML.  Appends raw MIME to out.
 */
int autoreply_build(const struct autoreply_settings *s,
		    const struct autoreply_user *user,
		    const struct compose_headers *in,
		    const struct autoreply_decision *d, int64_t now,
		    struct buf *out, const char **error_r);

/*
 * The delivery path in one call: decide, build, record.  0 with *d set;
 * out holds the reply only when d->reason is AUTOREPLY_REPLY.  -1 with
 * *error_r on a history or build failure (nothing recorded then).
 */
int autoreply_process(const struct autoreply_settings *s,
		      const struct autoreply_user *user,
		      const struct compose_headers *in,
		      const char *envelope_from, int64_t now,
		      const struct autoreply_history *history,
		      struct autoreply_decision *d, struct buf *out,
		      const char **error_r);

/* Short name of a reason, for logs. */
const char *autoreply_reason_name(enum autoreply_reason reason);

#endif
