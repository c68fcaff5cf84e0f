/*
 * SQL of the Out-of-Office setting and its reply memory (see oof.h):
 * tables oof (one row, id 1) and oof_replied (schema.c, user v4), and the
 * "known sender" look-up of AppliesToExternalKnown: oof_correspondents
 * (user v6), filled when the user's own mail is queued, and the contact
 * items of the user's Contacts folders.
 */
#include "mailbox/oof.h"
#include "mailbox/store_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mailbox/compose.h"
#include "mailbox/items.h"
#include "proto/limits.h"

void
oof_settings_clear(struct oof_settings *o)
{
	for (int i = 0; i < OOF_AUDIENCES; i++)
		free(o->msg[i].reply);
	memset(o, 0, sizeof(*o));
}

int
store_oof_get(struct store *st, struct oof_settings *o_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	memset(o_r, 0, sizeof(*o_r));
	stmt = sdb_prepare(s, "SELECT state, start_time, end_time,"
			      " int_enabled, int_reply, int_html,"
			      " known_enabled, known_reply, known_html,"
			      " unknown_enabled, unknown_reply, unknown_html"
			      " FROM oof WHERE id = 1");
	if (stmt == NULL)
		return -1;
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	o_r->state = (enum autoreply_state)sqlite3_column_int(stmt, 0);
	o_r->start_time = sqlite3_column_int64(stmt, 1);
	o_r->end_time = sqlite3_column_int64(stmt, 2);
	for (int i = 0; i < OOF_AUDIENCES; i++) {
		struct oof_message *m = &o_r->msg[i];

		m->enabled = sqlite3_column_int(stmt, 3 + 3 * i) != 0;
		m->is_html = sqlite3_column_int(stmt, 5 + 3 * i) != 0;
		if (sqlite3_column_type(stmt, 4 + 3 * i) != SQLITE_NULL) {
			m->reply = sdb_col_strdup(stmt, 4 + 3 * i);
			if (m->reply == NULL) {
				sqlite3_reset(stmt);
				oof_settings_clear(o_r);
				sdb_fail(s, STORE_IO, "out of memory");
				return -1;
			}
		}
	}
	sqlite3_reset(stmt);
	return 0;
}

int
store_oof_set(struct store *st, const struct oof_settings *o)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;

	for (int i = 0; i < OOF_AUDIENCES; i++)
		if (o->msg[i].reply != NULL &&
		    strlen(o->msg[i].reply) > AUTOREPLY_MAX_MESSAGE_BYTES) {
			sdb_fail(s, STORE_INVALID, "oof reply too long");
			return -1;
		}
	if (sdb_begin(s) < 0)
		return -1;
	stmt = sdb_prepare(s, "INSERT OR REPLACE INTO oof(id, state,"
			      " start_time, end_time,"
			      " int_enabled, int_reply, int_html,"
			      " known_enabled, known_reply, known_html,"
			      " unknown_enabled, unknown_reply, unknown_html)"
			      " VALUES(1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		goto fail;
	sqlite3_bind_int(stmt, 1, (int)o->state);
	sqlite3_bind_int64(stmt, 2, o->start_time);
	sqlite3_bind_int64(stmt, 3, o->end_time);
	for (int i = 0; i < OOF_AUDIENCES; i++) {
		sqlite3_bind_int(stmt, 4 + 3 * i, o->msg[i].enabled);
		sdb_bind_text(stmt, 5 + 3 * i, o->msg[i].reply);
		sqlite3_bind_int(stmt, 6 + 3 * i, o->msg[i].is_html);
	}
	if (sdb_run(s, stmt) < 0)
		goto fail;
	/* autoreply.h: a new setting answers everybody once again. */
	if (sdb_exec(s, "DELETE FROM oof_replied") < 0)
		goto fail;
	return sdb_commit(s);
fail:
	sdb_rollback(s);
	return -1;
}

void
oof_to_autoreply(const struct oof_settings *o, struct autoreply_settings *s_r)
{
	const struct oof_message *in = &o->msg[OOF_INTERNAL];
	const struct oof_message *known = &o->msg[OOF_EXTERNAL_KNOWN];
	const struct oof_message *unknown = &o->msg[OOF_EXTERNAL_UNKNOWN];

	memset(s_r, 0, sizeof(*s_r));
	s_r->state = o->state;
	s_r->start_time = o->start_time;
	s_r->end_time = o->end_time;
	if (in->enabled) {
		s_r->internal.body = in->reply;
		s_r->internal.is_html = in->is_html;
	}
	/* MS-ASCMD 2.2.3.10 / 2.2.3.9: AppliesToExternalUnknown covers the
	 * senders outside the organization the user does not know,
	 * AppliesToExternalKnown those the user knows (oof.h); a known
	 * sender gets the Known text when it is enabled, else the Unknown
	 * one. */
	if (unknown->enabled) {
		s_r->external_audience = AUTOREPLY_EXTERNAL_ALL;
		s_r->external.body = unknown->reply;
		s_r->external.is_html = unknown->is_html;
		if (known->enabled) {
			s_r->external_known.body = known->reply;
			s_r->external_known.is_html = known->is_html;
		}
	} else if (known->enabled) {
		s_r->external_audience = AUTOREPLY_EXTERNAL_KNOWN;
		s_r->external.body = known->reply;
		s_r->external.is_html = known->is_html;
	} else {
		s_r->external_audience = AUTOREPLY_EXTERNAL_NONE;
	}
}

int
store_oof_last_replied(struct store *st, const char *sender, int64_t *at_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	stmt = sdb_prepare(s, "SELECT at FROM oof_replied WHERE sender = ?");
	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, sender);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE)
		return 1;
	if (rc != SQLITE_ROW)
		return -1;
	*at_r = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return 0;
}

int
store_oof_record_reply(struct store *st, const char *sender, int64_t at)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;

	stmt = sdb_prepare(s, "INSERT OR REPLACE INTO oof_replied(sender, at)"
			      " VALUES(?, ?)");
	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, sender);
	sqlite3_bind_int64(stmt, 2, at);
	return sdb_run(s, stmt);
}

/* ------------------------------------------------- known senders */

/* A lower-case copy of an address with one '@' and text on both sides;
 * false for anything else (too long, blanks, angle brackets). */
static bool
address_lower(const char *a, size_t n, char *out, size_t size)
{
	const char *at;

	if (n == 0 || n >= size)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];

		if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',')
			return false;
		out[i] =
		    (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
	}
	out[n] = 0;
	at = strchr(out, '@');
	return at != NULL && at != out && at == strrchr(out, '@') && at[1] != 0;
}

static const char *
domain_part(const char *a)
{
	const char *at = strrchr(a, '@');

	return at != NULL ? at + 1 : "";
}

int
store_oof_record_correspondents(struct store *st, const char *mail_from,
				const char *rcpts, int64_t now)
{
	struct sdb *s = &st->sdb;
	const char *own, *p, *nl;
	char addr[COMPOSE_MAX_ADDRESS_BYTES + 1];
	sqlite3_stmt *stmt;
	bool any = false;

	/* RFC 3834 3.3: the null sender marks automatic mail (our own
	 * Out-of-Office replies): answering a stranger does not make them
	 * known. */
	if (mail_from == NULL || mail_from[0] == 0 || rcpts == NULL)
		return 0;
	own = domain_part(mail_from);
	for (p = rcpts; *p != 0; p = nl[0] != 0 ? nl + 1 : nl) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (!address_lower(p, (size_t)(nl - p), addr, sizeof(addr)))
			continue;
		/* Senders of the user's own domain are internal and get the
		 * internal text whatever this table says: keep the room for
		 * outside addresses.  With [mailbox] domain other than the
		 * user's address domain, that domain's recipients are kept
		 * too; they are never asked about. */
		if (strcasecmp(domain_part(addr), own) == 0)
			continue;
		stmt = sdb_prepare(s, "INSERT OR REPLACE INTO"
				      " oof_correspondents(address, last_sent)"
				      " VALUES(?, ?)");
		if (stmt == NULL)
			return -1;
		sdb_bind_text(stmt, 1, addr);
		sqlite3_bind_int64(stmt, 2, now);
		if (sdb_run(s, stmt) < 0)
			return -1;
		any = true;
	}
	if (!any)
		return 0;
	/* The bound: every row older than the newest
	 * STORE_MAX_OOF_CORRESPONDENTS goes (rowids grow with each write). */
	stmt = sdb_prepare(s, "DELETE FROM oof_correspondents WHERE id <="
			      " (SELECT id FROM oof_correspondents"
			      " ORDER BY id DESC LIMIT 1 OFFSET ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int(stmt, 1, STORE_MAX_OOF_CORRESPONDENTS);
	return sdb_run(s, stmt);
}

int
store_oof_correspondent_count(struct store *st, int64_t *count_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	*count_r = 0;
	stmt = sdb_prepare(s, "SELECT count(*) FROM oof_correspondents");
	if (stmt == NULL)
		return -1;
	rc = sdb_step(s, stmt);
	if (rc != SQLITE_ROW)
		return -1;
	*count_r = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return 0;
}

static int
is_correspondent(struct store *st, const char *sender, bool *known_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	stmt = sdb_prepare(s, "SELECT 1 FROM oof_correspondents"
			      " WHERE address = ?");
	if (stmt == NULL)
		return -1;
	sdb_bind_text(stmt, 1, sender);
	rc = sdb_step(s, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	sqlite3_reset(stmt);
	*known_r = rc == SQLITE_ROW;
	return 0;
}

/* MS-ASCNTC 2.2.2.27-29 Email1Address..Email3Address hold "addr" or
 * "Name <addr>" (phones send both). */
static bool
contact_value_matches(const struct item_prop *p, const char *sender)
{
	char buf[COMPOSE_MAX_ADDRESS_BYTES + 1];
	const char *v = (const char *)p->value, *lt, *gt;
	size_t n = p->value_len;

	if (v == NULL || n == 0)
		return false;
	lt = memchr(v, '<', n);
	if (lt != NULL) {
		gt = memchr(lt, '>', n - (size_t)(lt - v));
		if (gt == NULL)
			return false;
		v = lt + 1;
		n = (size_t)(gt - v);
	}
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return address_lower(v, n, buf, sizeof(buf)) &&
	       strcmp(buf, sender) == 0;
}

/*
 * The contact items of the user's Contacts folders (class Contacts), in
 * their application properties (items.h: the EAS element names).  Today
 * no client path stores contact items yet (a later work item), so this
 * finds nothing in practice; it is the one place to extend (an index of
 * contact addresses) when contacts sync.  Bound: the first
 * STORE_MAX_OOF_CONTACT_SCAN contacts; a damaged props blob is skipped.
 */
static int
is_contact(struct store *st, const char *sender, bool *known_r)
{
	static const char *const keys[] = {"Email1Address", "Email2Address",
					   "Email3Address"};
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	*known_r = false;
	stmt = sdb_prepare(s, "SELECT i.props FROM folders f"
			      " JOIN items i ON i.folder_id = f.id"
			      " WHERE f.class = 3 AND f.deleted = 0"
			      " AND i.props IS NOT NULL LIMIT ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int(stmt, 1, STORE_MAX_OOF_CONTACT_SCAN);
	rc = SQLITE_DONE;
	while (!*known_r && (rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(stmt, 0);
		int len = sqlite3_column_bytes(stmt, 0);
		struct item_props p;

		if (blob == NULL || len <= 0 ||
		    item_props_parse(blob, (size_t)len, &p) < 0)
			continue;
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			for (size_t i = 0; i < p.app_count && !*known_r; i++)
				*known_r =
				    strcmp(p.app[i].key, keys[k]) == 0 &&
				    contact_value_matches(&p.app[i], sender);
		item_props_clear(&p);
	}
	if (rc == SQLITE_ROW) {
		sqlite3_reset(stmt);
		return 0;
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_oof_is_known(struct store *st, const char *sender, bool *known_r)
{
	char addr[COMPOSE_MAX_ADDRESS_BYTES + 1];

	*known_r = false;
	if (sender == NULL ||
	    !address_lower(sender, strlen(sender), addr, sizeof(addr)))
		return 0;
	if (is_correspondent(st, addr, known_r) < 0)
		return -1;
	if (*known_r)
		return 0;
	return is_contact(st, addr, known_r);
}
