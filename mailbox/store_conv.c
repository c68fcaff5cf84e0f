/*
 * The SQL behind mailbox/conversation.h: the function that feeds the
 * conversation index from an item's property blob (called by the triggers
 * of schema.c v6, so the index commits with the item), the conversation
 * Move that reads the index instead of every folder, and the MoveAlways
 * rules: recorded by a Move, applied by delivery, pruned by age and count.
 *
 * Cost: a Move or a rule look-up is one range scan of conv_items_conv (the
 * conversation's members) joined by primary key to items and folders;
 * it grows with the conversation, never with the mailbox.
 */
#include "mailbox/conversation.h"
#include "mailbox/store_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/changes.h"
#include "mailbox/folders.h"
#include "mailbox/syncstate.h"
#include "proto/limits.h"

/* Members moved per transaction (see store_conv_move). */
#define CONV_MOVE_BATCH 256

void
conv_move_clear(struct conv_move *m)
{
	if (m == NULL)
		return;
	free(m->src_folders);
	free(m->src_modseqs);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------- index feed (triggers) */

/* What easd_conversation_id returns (schema.c v6). */
enum conv_field {
	CONV_FIELD_ID = 0,
	CONV_FIELD_MESSAGE_ID = 1,
	CONV_FIELD_THREAD = 2,
};

/* The thread GUID of a ConversationIndex: bytes 6-21 of its 22-byte
 * header block (MS-OXOMSG 2.2.1.3). */
#define CONV_THREAD_OFFSET 6
#define CONV_THREAD_BYTES 16

/*
 * easd_conversation_id(props BLOB, what INTEGER): the item's
 * ConversationId, Message-ID or thread GUID (enum conv_field); NULL when
 * it has none or its props do not parse (G8: a damaged item is left out
 * of the index rather than failing its delivery).
 */
static void
conv_id_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct item_props p;
	const void *blob;
	size_t len;

	(void)argc;
	blob = sqlite3_value_blob(argv[0]);
	len = (size_t)sqlite3_value_bytes(argv[0]);
	if (blob == NULL || item_props_parse(blob, len, &p) < 0) {
		sqlite3_result_null(ctx);
		return;
	}
	switch ((enum conv_field)sqlite3_value_int(argv[1])) {
	case CONV_FIELD_ID:
		if (p.conversation_id_len == 0 ||
		    p.conversation_id_len > CONV_MAX_ID_BYTES)
			sqlite3_result_null(ctx);
		else
			sqlite3_result_blob64(ctx, p.conversation_id,
					      p.conversation_id_len,
					      SQLITE_TRANSIENT);
		break;
	case CONV_FIELD_MESSAGE_ID:
		if (p.message_id == NULL || *p.message_id == '\0')
			sqlite3_result_null(ctx);
		else
			sqlite3_result_text(ctx, p.message_id, -1,
					    SQLITE_TRANSIENT);
		break;
	case CONV_FIELD_THREAD:
		if (p.conversation_index_len <
		    CONV_THREAD_OFFSET + CONV_THREAD_BYTES)
			sqlite3_result_null(ctx);
		else
			sqlite3_result_blob(
			    ctx, p.conversation_index + CONV_THREAD_OFFSET,
			    CONV_THREAD_BYTES, SQLITE_TRANSIENT);
		break;
	default:
		sqlite3_result_error(ctx, "easd_conversation_id: bad field",
				     -1);
		break;
	}
	item_props_clear(&p);
}

int
conv_sql_register(struct sqlite3 *db)
{
	return sqlite3_create_function_v2(db, "easd_conversation_id", 2,
					  SQLITE_UTF8 | SQLITE_DETERMINISTIC |
					      SQLITE_INNOCUOUS,
					  NULL, conv_id_fn, NULL, NULL, NULL);
}

/* ---------------------------------------------------------- helpers */

static int
conv_id_check(struct store *st, const uint8_t *conv, size_t len)
{
	if (conv == NULL || len == 0 || len > CONV_MAX_ID_BYTES) {
		sdb_fail(&st->sdb, STORE_INVALID, "bad conversation id");
		return -1;
	}
	return 0;
}

int
store_conv_count(struct store *st, const uint8_t *conv, size_t len,
		 size_t *count_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;

	if (conv_id_check(st, conv, len) < 0)
		return -1;
	stmt = sdb_prepare(s, "SELECT count(*) FROM conv_items WHERE conv = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_blob64(stmt, 1, conv, len, SQLITE_STATIC);
	if (sdb_step(s, stmt) != SQLITE_ROW)
		return -1;
	*count_r = (size_t)sqlite3_column_int64(stmt, 0);
	sdb_reset(stmt);
	return 0;
}

/* ------------------------------------------------------------ rules */

/* Drops rules unused since before now - CONV_RULE_KEEP_S, then the least
 * recently applied ones past CONV_MAX_RULES. */
static int
rules_prune(struct store *st, int64_t now)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;

	stmt = sdb_prepare(s, "DELETE FROM conv_rules WHERE last_used < ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, now - CONV_RULE_KEEP_S);
	if (sdb_run(s, stmt) < 0)
		return -1;
	stmt = sdb_prepare(
	    s, "DELETE FROM conv_rules WHERE conv IN (SELECT conv FROM"
	       " conv_rules ORDER BY last_used, created LIMIT"
	       " max(0, (SELECT count(*) FROM conv_rules) - ?))");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int(stmt, 1, CONV_MAX_RULES);
	return sdb_run(s, stmt);
}

/* Records (or, for the Inbox, removes) the rule of a conversation. */
static int
rule_set(struct store *st, const uint8_t *conv, size_t len, int64_t dst,
	 int64_t now)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int64_t inbox;

	if (store_folder_by_type(st, FOLDER_TYPE_INBOX, &inbox) < 0)
		return -1;
	if (dst == inbox) {
		/* Filing into the Inbox is what delivery does anyway. */
		stmt = sdb_prepare(s, "DELETE FROM conv_rules WHERE conv = ?");
		if (stmt == NULL)
			return -1;
		sqlite3_bind_blob64(stmt, 1, conv, len, SQLITE_STATIC);
		return sdb_run(s, stmt);
	}
	stmt = sdb_prepare(
	    s, "INSERT INTO conv_rules(conv, folder_id, created, last_used)"
	       " VALUES(?1, ?2, ?3, ?3) ON CONFLICT(conv) DO UPDATE SET"
	       " folder_id = ?2, created = ?3, last_used = ?3");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_blob64(stmt, 1, conv, len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, dst);
	sqlite3_bind_int64(stmt, 3, now);
	if (sdb_run(s, stmt) < 0)
		return -1;
	return rules_prune(st, now);
}

int
store_conv_rule_get(struct store *st, const uint8_t *conv, size_t len,
		    struct conv_rule *rule_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	if (conv_id_check(st, conv, len) < 0)
		return -1;
	stmt = sdb_prepare(s, "SELECT folder_id, created, last_used"
			      " FROM conv_rules WHERE conv = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_blob64(stmt, 1, conv, len, SQLITE_STATIC);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE) {
		sdb_fail(s, STORE_NOT_FOUND, "no rule for the conversation");
		return -1;
	}
	if (rc != SQLITE_ROW)
		return -1;
	rule_r->folder_id = sqlite3_column_int64(stmt, 0);
	rule_r->created = sqlite3_column_int64(stmt, 1);
	rule_r->last_used = sqlite3_column_int64(stmt, 2);
	sdb_reset(stmt);
	return 0;
}

int
store_conv_rule_count(struct store *st, size_t *count_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt = sdb_prepare(s, "SELECT count(*) FROM conv_rules");

	if (stmt == NULL || sdb_step(s, stmt) != SQLITE_ROW)
		return -1;
	*count_r = (size_t)sqlite3_column_int64(stmt, 0);
	sdb_reset(stmt);
	return 0;
}

int
store_conv_rule_target(struct store *st, const struct item_props *props,
		       int64_t now, int64_t *folder_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int64_t folder, last_used;
	bool usable;
	int rc;

	*folder_r = 0;
	if (props == NULL || props->conversation_id_len == 0 ||
	    props->conversation_id_len > CONV_MAX_ID_BYTES)
		return 0;
	stmt = sdb_prepare(
	    s, "SELECT r.folder_id, r.last_used, f.class = 1 AND f.deleted = 0"
	       " FROM conv_rules r LEFT JOIN folders f ON f.id = r.folder_id"
	       " WHERE r.conv = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_blob64(stmt, 1, props->conversation_id,
			    props->conversation_id_len, SQLITE_STATIC);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	folder = sqlite3_column_int64(stmt, 0);
	last_used = sqlite3_column_int64(stmt, 1);
	usable = sqlite3_column_int(stmt, 2) == 1 &&
		 now - last_used <= CONV_RULE_KEEP_S;
	sdb_reset(stmt);
	if (usable) {
		/* A rule in use stays alive (MS-OXOCFG 3.1.6.1: expiry
		 * counts from the last time it was applied). */
		stmt = sdb_prepare(s, "UPDATE conv_rules SET last_used ="
				      " max(last_used, ?2) WHERE conv = ?1");
	} else {
		stmt = sdb_prepare(s, "DELETE FROM conv_rules WHERE conv = ?1"
				      " AND ?2 = ?2");
	}
	if (stmt == NULL)
		return -1;
	sqlite3_bind_blob64(stmt, 1, props->conversation_id,
			    props->conversation_id_len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, now);
	if (sdb_run(s, stmt) < 0)
		return -1;
	if (usable)
		*folder_r = folder;
	return 0;
}

/* ---------------------------------------------------------- resolve */

/* The conversation of the newest item whose column (msgid or thread)
 * equals the bound value; *found_r false when none. */
static int
conv_lookup(struct store *st, sqlite3_stmt *stmt, uint8_t *conv_r,
	    size_t *len_r, bool *found_r)
{
	struct sdb *s = &st->sdb;
	int rc = sdb_step(s, stmt);

	*found_r = false;
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	*len_r = (size_t)sqlite3_column_bytes(stmt, 0);
	if (*len_r > 0 && *len_r <= CONV_MAX_ID_BYTES) {
		memcpy(conv_r, sqlite3_column_blob(stmt, 0), *len_r);
		*found_r = true;
	}
	sdb_reset(stmt);
	return 0;
}

/* Looks up one Message-ID of ids[0..len) (no brackets, as mime.c keeps
 * them). */
static int
by_message_id(struct store *st, const char *id, size_t len, uint8_t *conv_r,
	      size_t *len_r, bool *found_r)
{
	sqlite3_stmt *stmt =
	    sdb_prepare(&st->sdb, "SELECT conv FROM conv_items WHERE msgid = ?"
				  " ORDER BY item_id DESC LIMIT 1");

	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, id, (int)len, SQLITE_STATIC);
	return conv_lookup(st, stmt, conv_r, len_r, found_r);
}

/* The n-th id from the end of a space-separated list; false past its
 * start. */
static bool
nth_from_end(const char *list, size_t n, const char **id_r, size_t *len_r)
{
	const char *end = list + strlen(list), *p;

	for (size_t i = 0;; i++) {
		while (end > list && end[-1] == ' ')
			end--;
		if (end == list)
			return false;
		p = end;
		while (p > list && p[-1] != ' ')
			p--;
		if (i == n) {
			*id_r = p;
			*len_r = (size_t)(end - p);
			return true;
		}
		end = p;
	}
}

int
store_conv_resolve(struct store *st, const char *in_reply_to,
		   const char *references, struct item_props *props)
{
	uint8_t conv[CONV_MAX_ID_BYTES];
	size_t len = 0, idlen, looked = 0, n;
	const char *lists[2] = {in_reply_to, references};
	const char *id;
	bool found = false, computed_index;
	uint8_t *copy;

	if (props->conversation_id_len == 0)
		return 0;
	/* The parent first (In-Reply-To), then the thread from its newest
	 * reference back to its root, within the bound. */
	for (size_t l = 0; l < 2 && !found; l++) {
		for (n = 0; !found && lists[l] != NULL &&
			    looked < CONV_MAX_REFERENCE_LOOKUPS &&
			    nth_from_end(lists[l], n, &id, &idlen);
		     n++, looked++)
			if (by_message_id(st, id, idlen, conv, &len, &found) <
			    0)
				return -1;
	}
	computed_index = props->conversation_index_len >=
			     CONV_THREAD_OFFSET + CONV_THREAD_BYTES &&
			 props->conversation_id_len == CONV_THREAD_BYTES &&
			 memcmp(props->conversation_index + CONV_THREAD_OFFSET,
				props->conversation_id, CONV_THREAD_BYTES) == 0;
	/* No parent in the mailbox, but an Outlook Thread-Index (the index
	 * is not ours): the thread's first message kept by this user. */
	if (!found && !computed_index &&
	    props->conversation_index_len >=
		CONV_THREAD_OFFSET + CONV_THREAD_BYTES) {
		sqlite3_stmt *stmt = sdb_prepare(
		    &st->sdb, "SELECT conv FROM conv_items WHERE"
			      " thread = ? ORDER BY item_id LIMIT 1");

		if (stmt == NULL)
			return -1;
		sqlite3_bind_blob(
		    stmt, 1, props->conversation_index + CONV_THREAD_OFFSET,
		    CONV_THREAD_BYTES, SQLITE_STATIC);
		if (conv_lookup(st, stmt, conv, &len, &found) < 0)
			return -1;
	}
	if (!found || (len == props->conversation_id_len &&
		       memcmp(conv, props->conversation_id, len) == 0))
		return 0;
	copy = malloc(len);
	if (copy == NULL) {
		sdb_fail(&st->sdb, STORE_IO, "out of memory");
		return -1;
	}
	memcpy(copy, conv, len);
	/* A header block we computed carries the id: keep them equal. */
	if (computed_index && len == CONV_THREAD_BYTES)
		memcpy(props->conversation_index + CONV_THREAD_OFFSET, conv,
		       CONV_THREAD_BYTES);
	free(props->conversation_id);
	props->conversation_id = copy;
	props->conversation_id_len = len;
	return 0;
}

/* ------------------------------------------------------------- move */

/* Adds folder to the distinct source folders of m. */
static int
note_source(struct store *st, struct conv_move *m, int64_t folder)
{
	int64_t *f, *q;

	for (size_t i = 0; i < m->n_src; i++)
		if (m->src_folders[i] == folder)
			return 0;
	f = realloc(m->src_folders, (m->n_src + 1) * sizeof(*f));
	if (f == NULL)
		goto nomem;
	m->src_folders = f;
	q = realloc(m->src_modseqs, (m->n_src + 1) * sizeof(*q));
	if (q == NULL)
		goto nomem;
	m->src_modseqs = q;
	m->src_folders[m->n_src] = folder;
	m->src_modseqs[m->n_src] = 0;
	m->n_src++;
	return 0;
nomem:
	sdb_fail(&st->sdb, STORE_IO, "out of memory");
	return -1;
}

/*
 * One batch: the next members outside dst and outside the folders a Move
 * leaves alone (Drafts 3, Sent Items 5, Outbox 6: enum folder_type),
 * collected before any is moved (a statement is not stepped while its
 * tables change).  *n_r < CONV_MOVE_BATCH: the last batch.
 */
static int
move_batch(struct store *st, const char *device, const uint8_t *conv,
	   size_t len, int64_t dst, struct conv_move *m, size_t *n_r)
{
	struct sdb *s = &st->sdb;
	int64_t ids[CONV_MOVE_BATCH], src[CONV_MOVE_BATCH];
	sqlite3_stmt *stmt;
	size_t n = 0;
	int rc;

	stmt = sdb_prepare(
	    s, "SELECT c.item_id, i.folder_id FROM conv_items c"
	       " JOIN items i ON i.id = c.item_id"
	       " JOIN folders f ON f.id = i.folder_id"
	       " WHERE c.conv = ?1 AND i.folder_id != ?2"
	       " AND f.type NOT IN (3, 5, 6) ORDER BY c.item_id LIMIT ?3");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_blob64(stmt, 1, conv, len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, dst);
	sqlite3_bind_int(stmt, 3, CONV_MOVE_BATCH);
	while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		ids[n] = sqlite3_column_int64(stmt, 0);
		src[n] = sqlite3_column_int64(stmt, 1);
		n++;
	}
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (note_source(st, m, src[i]) < 0 ||
		    store_sync_client_move(st, device, ids[i], dst,
					   &m->dst_modseq) < 0)
			return -1;
		m->moved++;
	}
	*n_r = n;
	return 0;
}

int
store_conv_move(struct store *st, const char *device, const uint8_t *conv,
		size_t len, int64_t dst, bool always, int64_t now,
		struct conv_move *m_r)
{
	struct sdb *s = &st->sdb;
	struct folder f;
	size_t members, n = CONV_MOVE_BATCH;
	enum item_class cls;
	bool first = true;

	memset(m_r, 0, sizeof(*m_r));
	if (conv_id_check(st, conv, len) < 0 ||
	    store_folder_get(st, dst, &f) < 0)
		return -1;
	cls = f.cls;
	folder_clear(&f);
	if (cls != ITEM_CLASS_EMAIL) {
		sdb_fail(s, STORE_INVALID, "folder %lld holds no mail",
			 (long long)dst);
		return -1;
	}
	/* Every pass moves a full batch out of the other folders, or is
	 * the last: the loop ends within members / batch + 1 passes. */
	while (n == CONV_MOVE_BATCH) {
		size_t moved0 = m_r->moved;
		int64_t modseq0 = m_r->dst_modseq;

		if (sdb_begin(s) < 0)
			return -1;
		if (first) {
			/* Nothing is recorded for a conversation the user
			 * does not have. */
			if (store_conv_count(st, conv, len, &members) < 0)
				goto rollback;
			if (members == 0) {
				sdb_fail(s, STORE_NOT_FOUND,
					 "no such conversation");
				goto rollback;
			}
			if (always && rule_set(st, conv, len, dst, now) < 0)
				goto rollback;
		}
		if (move_batch(st, device, conv, len, dst, m_r, &n) < 0)
			goto rollback;
		if (sdb_commit(s) < 0) {
			m_r->moved = moved0;
			m_r->dst_modseq = modseq0;
			return -1;
		}
		first = false;
		continue;
	rollback:
		/* The batches committed before stay moved: m_r reports
		 * them, so the caller still publishes their changes. */
		sdb_rollback(s);
		m_r->moved = moved0;
		m_r->dst_modseq = modseq0;
		return -1;
	}
	for (size_t i = 0; i < m_r->n_src; i++)
		if (store_folder_modseq(st, m_r->src_folders[i],
					&m_r->src_modseqs[i]) < 0)
			return -1;
	return 0;
}
