/*
 * SQL of the Out-of-Office setting and its reply memory (see oof.h):
 * tables oof (one row, id 1) and oof_replied (schema.c, user v3).
 */
#include "mailbox/oof.h"
#include "mailbox/store_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

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
	/* MS-ASCMD 2.2.3.10: AppliesToExternalUnknown covers every sender
	 * outside the organization, AppliesToExternalKnown only contacts. */
	if (unknown->enabled) {
		s_r->external_audience = AUTOREPLY_EXTERNAL_ALL;
		s_r->external.body = unknown->reply;
		s_r->external.is_html = unknown->is_html;
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
