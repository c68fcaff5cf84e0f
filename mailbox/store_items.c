/*
 * Folders, items, the change log and LMTP delivery over one user's
 * database (the SQL behind folders.h, items.h and changes.h).  Each public
 * function is one transaction; the *_tx variants run inside a caller's
 * transaction (a Sync applying client commands, a delivery batch).  Every
 * query names the folder or item id and runs on this user's database only,
 * so an id from another user is simply not found (invariant 6).
 */
#include "mailbox/changes.h"
#include "mailbox/conversation.h"
#include "mailbox/folders.h"
#include "mailbox/items.h"
#include "mailbox/store_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "proto/limits.h"

/* ---------------------------------------------------------- helpers */

/* Next modseq of a live folder (the counter lives in the folder row). */
static int
folder_next_modseq(struct store *st, int64_t folder_id, int64_t *modseq_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	stmt = sdb_prepare(s, "UPDATE folders SET modseq = modseq + 1"
			      " WHERE id = ? AND deleted = 0 RETURNING modseq");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, folder_id);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE) {
		sdb_fail(s, STORE_NOT_FOUND, "no folder %lld",
			 (long long)folder_id);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return -1;
	*modseq_r = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return 0;
}

static int
change_record(struct store *st, int64_t folder_id, int64_t item_id,
	      int64_t modseq, enum change_kind kind)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;

	stmt = sdb_prepare(
	    s, "INSERT INTO changes(folder_id, item_id, modseq, kind)"
	       " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(folder_id, item_id)"
	       " DO UPDATE SET modseq = ?3, kind = ?4");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, folder_id);
	sqlite3_bind_int64(stmt, 2, item_id);
	sqlite3_bind_int64(stmt, 3, modseq);
	sqlite3_bind_int(stmt, 4, kind);
	return sdb_run(s, stmt);
}

static int
hier_next_modseq(struct store *st, int64_t *hmodseq_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;

	stmt = sdb_prepare(s, "UPDATE meta SET value = value + 1"
			      " WHERE key = 'hier_modseq' RETURNING value");
	if (stmt == NULL || sdb_step(s, stmt) != SQLITE_ROW)
		return -1;
	*hmodseq_r = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return 0;
}

int
folders_class_tx(struct store *st, int64_t folder_id, int *cls_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	stmt = sdb_prepare(
	    s, "SELECT class FROM folders WHERE id = ? AND deleted = 0");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, folder_id);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE) {
		sdb_fail(s, STORE_NOT_FOUND, "no folder %lld",
			 (long long)folder_id);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return -1;
	*cls_r = sqlite3_column_int(stmt, 0);
	sqlite3_reset(stmt);
	return 0;
}

/* Folder and class of an item; STORE_NOT_FOUND if no such item. */
static int
item_locate(struct store *st, int64_t id, int64_t *folder_r, int *cls_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	stmt =
	    sdb_prepare(s, "SELECT folder_id, class FROM items WHERE id = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE) {
		sdb_fail(s, STORE_NOT_FOUND, "no item %lld", (long long)id);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return -1;
	*folder_r = sqlite3_column_int64(stmt, 0);
	if (cls_r != NULL)
		*cls_r = sqlite3_column_int(stmt, 1);
	sqlite3_reset(stmt);
	return 0;
}

static bool
class_valid(int cls)
{
	return cls >= ITEM_CLASS_EMAIL && cls <= ITEM_CLASS_NOTES;
}

static bool
categories_valid(const char *categories)
{
	return categories == NULL ||
	       strnlen(categories, STORE_MAX_CATEGORIES_BYTES + 1) <=
		   STORE_MAX_CATEGORIES_BYTES;
}

/* Stores the decoded content of attachments that carry one. */
static int
attachments_store(struct store *st, int64_t item_id, const struct item_props *p)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;

	for (size_t i = 0; p != NULL && i < p->attachment_count; i++) {
		const struct item_attachment *a = &p->attachments[i];

		if (a->data == NULL)
			continue;
		stmt = sdb_prepare(s, "INSERT OR REPLACE INTO attachments"
				      "(item_id, idx, data) VALUES(?, ?, ?)");
		if (stmt == NULL)
			return -1;
		sqlite3_bind_int64(stmt, 1, item_id);
		sqlite3_bind_int64(stmt, 2, (int64_t)i);
		sqlite3_bind_blob64(stmt, 3, a->data, a->data_len,
				    SQLITE_STATIC);
		if (sdb_run(s, stmt) < 0)
			return -1;
	}
	return 0;
}

static int
props_blob(struct store *st, const struct item_props *p, struct buf *b)
{
	buf_init(b, STORE_MAX_PROPS_BYTES);
	if (p != NULL && item_props_serialize(p, b) < 0) {
		buf_free(b);
		sdb_fail(&st->sdb, STORE_INVALID,
			 "item properties too large or out of memory");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ items */

int
items_add_tx(struct store *st, int64_t folder_id, const struct item_new *item,
	     int64_t *id_r, int64_t *modseq_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	struct buf props;
	int64_t modseq, id;
	int cls, ret = -1;

	if (!class_valid((int)item->cls) ||
	    !categories_valid(item->flags.categories) ||
	    item->mime_len > STORE_MAX_MIME_BYTES ||
	    (item->mime == NULL && item->mime_len > 0)) {
		sdb_fail(s, STORE_INVALID, "bad item class or size");
		return -1;
	}
	if (folders_class_tx(st, folder_id, &cls) < 0)
		return -1;
	if (cls != (int)item->cls) {
		sdb_fail(s, STORE_INVALID, "a %s item in a %s folder",
			 item_class_name(item->cls),
			 item_class_name((enum item_class)cls));
		return -1;
	}
	if (props_blob(st, item->props, &props) < 0)
		return -1;
	if (folder_next_modseq(st, folder_id, &modseq) < 0)
		goto out;
	stmt = sdb_prepare(
	    s, "INSERT INTO items(folder_id, class, modseq, date, read,"
	       " flag_status, flag_start, flag_due, flag_complete, categories,"
	       " last_verb, last_verb_time, importance, size, props, mime)"
	       " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		goto out;
	sqlite3_bind_int64(stmt, 1, folder_id);
	sqlite3_bind_int(stmt, 2, (int)item->cls);
	sqlite3_bind_int64(stmt, 3, modseq);
	sqlite3_bind_int64(stmt, 4, item->date);
	sqlite3_bind_int(stmt, 5, item->flags.read);
	sqlite3_bind_int(stmt, 6, (int)item->flags.flag_status);
	sqlite3_bind_int64(stmt, 7, item->flags.flag_start);
	sqlite3_bind_int64(stmt, 8, item->flags.flag_due);
	sqlite3_bind_int64(stmt, 9, item->flags.flag_complete);
	sdb_bind_text(stmt, 10, item->flags.categories);
	sqlite3_bind_int(stmt, 11, (int)item->flags.last_verb);
	sqlite3_bind_int64(stmt, 12, item->flags.last_verb_time);
	sqlite3_bind_int(stmt, 13,
			 item->props != NULL ? item->props->importance
					     : item->flags.importance);
	sqlite3_bind_int64(stmt, 14, (int64_t)item->mime_len);
	if (props.len > 0)
		sqlite3_bind_blob64(stmt, 15, props.data, props.len,
				    SQLITE_STATIC);
	if (item->mime != NULL)
		sqlite3_bind_blob64(stmt, 16, item->mime, item->mime_len,
				    SQLITE_STATIC);
	if (sdb_run(s, stmt) < 0)
		goto out;
	id = sqlite3_last_insert_rowid(s->db);
	if (attachments_store(st, id, item->props) < 0 ||
	    change_record(st, folder_id, id, modseq, CHANGE_ADD) < 0)
		goto out;
	if (id_r != NULL)
		*id_r = id;
	if (modseq_r != NULL)
		*modseq_r = modseq;
	ret = 0;
out:
	buf_free(&props);
	return ret;
}

int
items_change_tx(struct store *st, int64_t id, const struct item_change *ch,
		int64_t *folder_r, int64_t *modseq_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	struct buf props;
	int64_t folder_id, modseq;
	unsigned m = ch->mask;
	int ret = -1;

	if (((m & ITEM_CHANGE_PROPS) != 0 && ch->props == NULL) ||
	    ((m & ITEM_CHANGE_CATEGORIES) != 0 &&
	     !categories_valid(ch->flags.categories)) ||
	    ((m & ITEM_CHANGE_MIME) != 0 &&
	     (ch->mime_len > STORE_MAX_MIME_BYTES ||
	      (ch->mime == NULL && ch->mime_len > 0)))) {
		sdb_fail(s, STORE_INVALID, "bad item change");
		return -1;
	}
	if (item_locate(st, id, &folder_id, NULL) < 0)
		return -1;
	if (props_blob(st, (m & ITEM_CHANGE_PROPS) ? ch->props : NULL, &props) <
	    0)
		return -1;
	if (folder_next_modseq(st, folder_id, &modseq) < 0)
		goto out;
	/* One statement whatever the mask: each column keeps its value
	 * unless its mask bit (?N) is set. */
	stmt = sdb_prepare(
	    s, "UPDATE items SET modseq = ?2,"
	       " read = CASE WHEN ?3 THEN ?4 ELSE read END,"
	       " flag_status = CASE WHEN ?5 THEN ?6 ELSE flag_status END,"
	       " flag_start = CASE WHEN ?5 THEN ?7 ELSE flag_start END,"
	       " flag_due = CASE WHEN ?5 THEN ?8 ELSE flag_due END,"
	       " flag_complete = CASE WHEN ?5 THEN ?9 ELSE flag_complete END,"
	       " categories = CASE WHEN ?10 THEN ?11 ELSE categories END,"
	       " last_verb = CASE WHEN ?12 THEN ?13 ELSE last_verb END,"
	       " last_verb_time = CASE WHEN ?12 THEN ?14"
	       "  ELSE last_verb_time END,"
	       " importance = CASE WHEN ?15 THEN ?16 ELSE importance END,"
	       " props = CASE WHEN ?17 THEN ?18 ELSE props END,"
	       " date = CASE WHEN ?19 THEN ?20 ELSE date END,"
	       " mime = CASE WHEN ?21 THEN ?22 ELSE mime END,"
	       " size = CASE WHEN ?21 THEN ?23 ELSE size END"
	       " WHERE id = ?1");
	if (stmt == NULL)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, modseq);
	sqlite3_bind_int(stmt, 3, (m & ITEM_CHANGE_READ) != 0);
	sqlite3_bind_int(stmt, 4, ch->flags.read);
	sqlite3_bind_int(stmt, 5, (m & ITEM_CHANGE_FLAG) != 0);
	sqlite3_bind_int(stmt, 6, (int)ch->flags.flag_status);
	sqlite3_bind_int64(stmt, 7, ch->flags.flag_start);
	sqlite3_bind_int64(stmt, 8, ch->flags.flag_due);
	sqlite3_bind_int64(stmt, 9, ch->flags.flag_complete);
	sqlite3_bind_int(stmt, 10, (m & ITEM_CHANGE_CATEGORIES) != 0);
	sdb_bind_text(stmt, 11, ch->flags.categories);
	sqlite3_bind_int(stmt, 12, (m & ITEM_CHANGE_VERB) != 0);
	sqlite3_bind_int(stmt, 13, (int)ch->flags.last_verb);
	sqlite3_bind_int64(stmt, 14, ch->flags.last_verb_time);
	sqlite3_bind_int(stmt, 15, (m & ITEM_CHANGE_IMPORTANCE) != 0);
	sqlite3_bind_int(stmt, 16, ch->flags.importance);
	sqlite3_bind_int(stmt, 17, (m & ITEM_CHANGE_PROPS) != 0);
	if (props.len > 0)
		sqlite3_bind_blob64(stmt, 18, props.data, props.len,
				    SQLITE_STATIC);
	sqlite3_bind_int(stmt, 19, (m & ITEM_CHANGE_DATE) != 0);
	sqlite3_bind_int64(stmt, 20, ch->date);
	sqlite3_bind_int(stmt, 21, (m & ITEM_CHANGE_MIME) != 0);
	if (ch->mime != NULL)
		sqlite3_bind_blob64(stmt, 22, ch->mime, ch->mime_len,
				    SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 23, (int64_t)ch->mime_len);
	if (sdb_run(s, stmt) < 0)
		goto out;
	if ((m & ITEM_CHANGE_PROPS) != 0) {
		stmt =
		    sdb_prepare(s, "DELETE FROM attachments WHERE item_id = ?");
		if (stmt == NULL)
			goto out;
		sqlite3_bind_int64(stmt, 1, id);
		if (sdb_run(s, stmt) < 0 ||
		    attachments_store(st, id, ch->props) < 0)
			goto out;
	}
	if (change_record(st, folder_id, id, modseq, CHANGE_MODIFY) < 0)
		goto out;
	if (folder_r != NULL)
		*folder_r = folder_id;
	if (modseq_r != NULL)
		*modseq_r = modseq;
	ret = 0;
out:
	buf_free(&props);
	return ret;
}

int
items_move_tx(struct store *st, int64_t id, int64_t dst_folder_id,
	      int64_t *src_r, int64_t *modseq_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int64_t src, m_src, m_dst;
	int cls, dst_cls;

	if (item_locate(st, id, &src, &cls) < 0 ||
	    folders_class_tx(st, dst_folder_id, &dst_cls) < 0)
		return -1;
	/* MS-ASCMD 2.2.1.12 MoveItems Status 4: same source and
	 * destination; a move across classes has no meaning. */
	if (src == dst_folder_id || cls != dst_cls) {
		sdb_fail(s, STORE_INVALID,
			 src == dst_folder_id
			     ? "source and destination are the same"
			     : "destination folder of another class");
		return -1;
	}
	if (folder_next_modseq(st, src, &m_src) < 0 ||
	    change_record(st, src, id, m_src, CHANGE_DELETE) < 0 ||
	    folder_next_modseq(st, dst_folder_id, &m_dst) < 0)
		return -1;
	stmt = sdb_prepare(
	    s, "UPDATE items SET folder_id = ?, modseq = ? WHERE id = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, dst_folder_id);
	sqlite3_bind_int64(stmt, 2, m_dst);
	sqlite3_bind_int64(stmt, 3, id);
	if (sdb_run(s, stmt) < 0 ||
	    change_record(st, dst_folder_id, id, m_dst, CHANGE_ADD) < 0)
		return -1;
	if (src_r != NULL)
		*src_r = src;
	if (modseq_r != NULL)
		*modseq_r = m_dst;
	return 0;
}

int
items_delete_tx(struct store *st, int64_t id, int64_t *folder_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int64_t folder_id, modseq;

	if (item_locate(st, id, &folder_id, NULL) < 0 ||
	    folder_next_modseq(st, folder_id, &modseq) < 0 ||
	    change_record(st, folder_id, id, modseq, CHANGE_DELETE) < 0)
		return -1;
	stmt = sdb_prepare(s, "DELETE FROM items WHERE id = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	if (sdb_run(s, stmt) < 0)
		return -1;
	if (folder_r != NULL)
		*folder_r = folder_id;
	return 0;
}

/* Runs fn as one transaction: commit on success, rollback on failure. */
#define STORE_TX(st, call)                        \
	do {                                      \
		if (sdb_begin(&(st)->sdb) < 0)    \
			return -1;                \
		if ((call) < 0) {                 \
			sdb_rollback(&(st)->sdb); \
			return -1;                \
		}                                 \
		return sdb_commit(&(st)->sdb);    \
	} while (0)

int
store_item_add(struct store *st, int64_t folder_id, const struct item_new *item,
	       int64_t *id_r, int64_t *modseq_r)
{
	STORE_TX(st, items_add_tx(st, folder_id, item, id_r, modseq_r));
}

int
store_item_change(struct store *st, int64_t id,
		  const struct item_change *change, int64_t *modseq_r)
{
	STORE_TX(st, items_change_tx(st, id, change, NULL, modseq_r));
}

int
store_item_move(struct store *st, int64_t id, int64_t dst_folder_id,
		int64_t *modseq_r)
{
	STORE_TX(st, items_move_tx(st, id, dst_folder_id, NULL, modseq_r));
}

int
store_item_delete(struct store *st, int64_t id)
{
	STORE_TX(st, items_delete_tx(st, id, NULL));
}

int
store_item_get(struct store *st, int64_t id, unsigned get_flags,
	       struct item **item_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	struct item *it = NULL;
	const void *blob;
	int rc, ret = -1;

	*item_r = NULL;
	stmt = sdb_prepare(
	    s, "SELECT folder_id, class, modseq, date, read, flag_status,"
	       " flag_start, flag_due, flag_complete, categories, last_verb,"
	       " last_verb_time, importance, size, props,"
	       " CASE WHEN ?2 THEN mime END FROM items WHERE id = ?1");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int(stmt, 2, (get_flags & STORE_GET_MIME) != 0);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE) {
		sdb_fail(s, STORE_NOT_FOUND, "no item %lld", (long long)id);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return -1;
	it = calloc(1, sizeof(*it));
	if (it == NULL) {
		sdb_fail(s, STORE_IO, "out of memory");
		goto out;
	}
	item_props_init(&it->props);
	it->id = id;
	it->folder_id = sqlite3_column_int64(stmt, 0);
	it->cls = (enum item_class)sqlite3_column_int(stmt, 1);
	it->modseq = sqlite3_column_int64(stmt, 2);
	it->date = sqlite3_column_int64(stmt, 3);
	it->flags.read = sqlite3_column_int(stmt, 4) != 0;
	it->flags.flag_status =
	    (enum item_flag_status)sqlite3_column_int(stmt, 5);
	it->flags.flag_start = sqlite3_column_int64(stmt, 6);
	it->flags.flag_due = sqlite3_column_int64(stmt, 7);
	it->flags.flag_complete = sqlite3_column_int64(stmt, 8);
	it->flags.categories = sdb_col_strdup(stmt, 9);
	it->flags.last_verb = (enum item_verb)sqlite3_column_int(stmt, 10);
	it->flags.last_verb_time = sqlite3_column_int64(stmt, 11);
	it->flags.importance = sqlite3_column_int(stmt, 12);
	it->size = sqlite3_column_int64(stmt, 13);
	blob = sqlite3_column_blob(stmt, 14);
	if (blob != NULL &&
	    item_props_parse(blob, (size_t)sqlite3_column_bytes(stmt, 14),
			     &it->props) < 0) {
		/* G8: a damaged blob is reported, never crashes. */
		sdb_fail(s, STORE_CORRUPT, "item %lld: bad properties",
			 (long long)id);
		goto out;
	}
	if (sdb_col_blobdup(s, stmt, 15, &it->mime, &it->mime_len) < 0)
		goto out;
	ret = 0;
out:
	sqlite3_reset(stmt);
	if (ret < 0)
		item_free(&it);
	*item_r = it;
	return ret;
}

int
store_folder_items(struct store *st, int64_t folder_id, size_t offset,
		   size_t limit, int64_t *ids, size_t *count_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	size_t n = 0;
	int cls, rc = SQLITE_DONE;

	*count_r = 0;
	if (folders_class_tx(st, folder_id, &cls) < 0)
		return -1;
	stmt = sdb_prepare(s, "SELECT id FROM items WHERE folder_id = ?"
			      " ORDER BY date DESC, id DESC LIMIT ? OFFSET ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, folder_id);
	sqlite3_bind_int64(stmt, 2, (int64_t)limit);
	sqlite3_bind_int64(stmt, 3, (int64_t)offset);
	while (n < limit && (rc = sdb_step(s, stmt)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(stmt, 0);
	if (n == limit)
		sqlite3_reset(stmt);
	else if (rc < 0)
		return -1;
	*count_r = n;
	return 0;
}

int
store_attachment_get(struct store *st, int64_t item_id, uint32_t ref,
		     struct item_attachment *att_r)
{
	struct sdb *s = &st->sdb;
	struct item *it = NULL;
	sqlite3_stmt *stmt;
	size_t index;
	int rc, ret = -1;

	memset(att_r, 0, sizeof(*att_r));
	if (store_item_get(st, item_id, 0, &it) < 0)
		return -1;
	/* By ref, not position: a draft's refs outlive deletions (items.h).
	 * Linear: at most STORE_MAX_ATTACHMENTS, and the item was parsed. */
	for (index = 0; index < it->props.attachment_count; index++)
		if (it->props.attachments[index].ref == ref)
			break;
	if (index == it->props.attachment_count) {
		sdb_fail(s, STORE_NOT_FOUND, "item %lld has no attachment %u",
			 (long long)item_id, ref);
		goto out;
	}
	/* Move the metadata out of the item rather than copying it. */
	*att_r = it->props.attachments[index];
	memset(&it->props.attachments[index], 0, sizeof(*att_r));
	stmt = sdb_prepare(
	    s, "SELECT data FROM attachments WHERE item_id = ? AND idx = ?");
	if (stmt == NULL)
		goto out;
	sqlite3_bind_int64(stmt, 1, item_id);
	sqlite3_bind_int64(stmt, 2, (int64_t)index);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_ROW) {
		rc =
		    sdb_col_blobdup(s, stmt, 0, &att_r->data, &att_r->data_len);
		sqlite3_reset(stmt);
		if (rc < 0)
			goto out;
	} else if (rc != SQLITE_DONE) {
		goto out;
	}
	ret = 0;
out:
	item_free(&it);
	if (ret < 0)
		item_attachment_clear(att_r);
	return ret;
}

/* --------------------------------------------------------- delivery */

/* A message for the Inbox (folder_id 0) goes where its conversation's
 * MoveAlways rule says, if it has one (mailbox/conversation.h), decided
 * and recorded in the delivery's own transaction; date (the time of
 * receipt) is the rule's clock. */
static int
deliver_tx(struct store *st, int64_t folder_id, const struct item_new *msgs,
	   size_t count, struct store_delivery *results)
{
	int64_t inbox = 0, target;

	if (folder_id == 0 &&
	    store_folder_by_type(st, FOLDER_TYPE_INBOX, &inbox) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		if (msgs[i].cls != ITEM_CLASS_EMAIL || msgs[i].mime == NULL) {
			sdb_fail(&st->sdb, STORE_INVALID,
				 "delivery of a non-message");
			return -1;
		}
		target = folder_id;
		if (target == 0) {
			if (store_conv_rule_target(st, msgs[i].props,
						   msgs[i].date, &target) < 0)
				return -1;
			if (target == 0)
				target = inbox;
		}
		if (items_add_tx(st, target, &msgs[i], &results[i].item_id,
				 &results[i].modseq) < 0)
			return -1;
		results[i].folder_id = target;
	}
	return 0;
}

int
store_deliver(struct store *st, int64_t folder_id, const struct item_new *msg,
	      struct store_delivery *r)
{
	STORE_TX(st, deliver_tx(st, folder_id, msg, 1, r));
}

int
store_deliver_batch(struct store *st, int64_t folder_id,
		    const struct item_new *msgs, size_t count,
		    struct store_delivery *results)
{
	if (count == 0 || count > STORE_MAX_DELIVERY_BATCH) {
		sdb_fail(&st->sdb, STORE_INVALID, "batch of %zu messages",
			 count);
		return -1;
	}
	STORE_TX(st, deliver_tx(st, folder_id, msgs, count, results));
}

/* ----------------------------------------------------------- changes */

int
store_changes_since(struct store *st, int64_t folder_id, int64_t since,
		    struct change *out, size_t limit, size_t *count_r,
		    bool *more_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	size_t n = 0;
	int rc;

	*count_r = 0;
	*more_r = false;
	stmt = sdb_prepare(s, "SELECT item_id, modseq, kind FROM changes"
			      " WHERE folder_id = ? AND modseq > ?"
			      " ORDER BY modseq LIMIT ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, folder_id);
	sqlite3_bind_int64(stmt, 2, since);
	sqlite3_bind_int64(stmt, 3, (int64_t)limit + 1);
	while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		if (n == limit) {
			*more_r = true;
			sqlite3_reset(stmt);
			break;
		}
		out[n].item_id = sqlite3_column_int64(stmt, 0);
		out[n].modseq = sqlite3_column_int64(stmt, 1);
		out[n].kind = (enum change_kind)sqlite3_column_int(stmt, 2);
		n++;
	}
	if (rc < 0)
		return -1;
	*count_r = n;
	return 0;
}

int
store_folder_modseq(struct store *st, int64_t folder_id, int64_t *modseq_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	stmt = sdb_prepare(
	    s, "SELECT modseq FROM folders WHERE id = ? AND deleted = 0");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, folder_id);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE) {
		sdb_fail(s, STORE_NOT_FOUND, "no folder %lld",
			 (long long)folder_id);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return -1;
	*modseq_r = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return 0;
}

/* ----------------------------------------------------------- folders */

void
folder_clear(struct folder *f)
{
	free(f->name);
	memset(f, 0, sizeof(*f));
}

void
folder_list_free(struct folder_list **list)
{
	if (list == NULL || *list == NULL)
		return;
	for (size_t i = 0; i < (*list)->count; i++)
		folder_clear(&(*list)->folders[i]);
	free((*list)->folders);
	free(*list);
	*list = NULL;
}

#define FOLDER_COLS "id, parent_id, name, type, class, special, modseq"

static int
folder_from_row(struct sdb *s, sqlite3_stmt *stmt, struct folder *f)
{
	memset(f, 0, sizeof(*f));
	f->id = sqlite3_column_int64(stmt, 0);
	f->parent_id = sqlite3_column_int64(stmt, 1);
	f->name = sdb_col_strdup(stmt, 2);
	f->type = (enum folder_type)sqlite3_column_int(stmt, 3);
	f->cls = (enum item_class)sqlite3_column_int(stmt, 4);
	f->special = sqlite3_column_int(stmt, 5) != 0;
	f->modseq = sqlite3_column_int64(stmt, 6);
	if (f->name == NULL) {
		sdb_fail(s, STORE_IO, "out of memory");
		return -1;
	}
	return 0;
}

int
store_folder_get(struct store *st, int64_t id, struct folder *f_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc, ret;

	memset(f_r, 0, sizeof(*f_r));
	stmt = sdb_prepare(s, "SELECT " FOLDER_COLS
			      " FROM folders WHERE id = ? AND deleted = 0");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE) {
		sdb_fail(s, STORE_NOT_FOUND, "no folder %lld", (long long)id);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return -1;
	ret = folder_from_row(s, stmt, f_r);
	sqlite3_reset(stmt);
	return ret;
}

int
store_folder_by_type(struct store *st, enum folder_type type, int64_t *id_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	stmt = sdb_prepare(s, "SELECT id FROM folders WHERE type = ? AND"
			      " deleted = 0 ORDER BY special DESC, id LIMIT 1");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int(stmt, 1, (int)type);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE) {
		sdb_fail(s, STORE_NOT_FOUND, "no folder of type %d", (int)type);
		return -1;
	}
	if (rc != SQLITE_ROW)
		return -1;
	*id_r = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return 0;
}

int
store_folder_by_name(struct store *st, int64_t parent_id, const char *name,
		     int64_t *id_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	stmt = sdb_prepare(s, "SELECT id FROM folders WHERE parent_id = ? AND"
			      " name = ? COLLATE NOCASE AND deleted = 0");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, parent_id);
	sdb_bind_text(stmt, 2, name);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_DONE) {
		sdb_fail(s, STORE_NOT_FOUND, "no folder named \"%s\"",
			 name != NULL ? name : "");
		return -1;
	}
	if (rc != SQLITE_ROW)
		return -1;
	*id_r = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return 0;
}

/* Reorders folders so that every parent precedes its children (a moved
 * folder can sit under a younger one).  O(n^2) over the user's folders,
 * which are few (hundreds at most). */
static void
folders_parent_first(struct folder *f, size_t n)
{
	size_t done = 0;

	while (done < n) {
		size_t before = done;

		for (size_t i = done; i < n; i++) {
			bool parent_done = f[i].parent_id == 0;

			for (size_t j = 0; j < done && !parent_done; j++)
				parent_done = f[j].id == f[i].parent_id;
			if (parent_done) {
				struct folder tmp = f[i];

				memmove(&f[done + 1], &f[done],
					(i - done) * sizeof(*f));
				f[done++] = tmp;
			}
		}
		if (done == before)
			break; /* orphans (cannot happen): keep order */
	}
}

int
store_folder_list(struct store *st, bool with_counts,
		  struct folder_list **list_r)
{
	struct sdb *s = &st->sdb;
	struct folder_list *list;
	sqlite3_stmt *stmt;
	int rc, ret = -1;

	*list_r = NULL;
	list = calloc(1, sizeof(*list));
	if (list == NULL) {
		sdb_fail(s, STORE_IO, "out of memory");
		return -1;
	}
	stmt = sdb_prepare(s, "SELECT " FOLDER_COLS
			      ", CASE WHEN ?1 THEN (SELECT count(*)"
			      " FROM items i WHERE i.folder_id = f.id) END,"
			      " CASE WHEN ?1 THEN (SELECT count(*) FROM items i"
			      " WHERE i.folder_id = f.id AND i.read = 0) END"
			      " FROM folders f WHERE deleted = 0 ORDER BY id");
	if (stmt == NULL)
		goto out;
	sqlite3_bind_int(stmt, 1, with_counts);
	while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		struct folder *n =
		    realloc(list->folders, (list->count + 1) * sizeof(*n));

		if (n == NULL) {
			sqlite3_reset(stmt);
			sdb_fail(s, STORE_IO, "out of memory");
			goto out;
		}
		list->folders = n;
		if (folder_from_row(s, stmt, &n[list->count]) < 0) {
			sqlite3_reset(stmt);
			goto out;
		}
		n[list->count].items = sqlite3_column_int64(stmt, 7);
		n[list->count].unread = sqlite3_column_int64(stmt, 8);
		list->count++;
	}
	if (rc < 0)
		goto out;
	folders_parent_first(list->folders, list->count);
	ret = 0;
out:
	if (ret < 0)
		folder_list_free(&list);
	*list_r = list;
	return ret;
}

static enum item_class
class_of_user_type(enum folder_type type)
{
	switch (type) {
	case FOLDER_TYPE_USER_MAIL:
		return ITEM_CLASS_EMAIL;
	case FOLDER_TYPE_USER_CALENDAR:
		return ITEM_CLASS_CALENDAR;
	case FOLDER_TYPE_USER_CONTACTS:
		return ITEM_CLASS_CONTACTS;
	case FOLDER_TYPE_USER_TASKS:
		return ITEM_CLASS_TASKS;
	case FOLDER_TYPE_USER_NOTES:
		return ITEM_CLASS_NOTES;
	default:
		return 0;
	}
}

static bool
name_valid(const char *name)
{
	size_t len = name != NULL ? strlen(name) : 0;

	return len > 0 && len <= STORE_MAX_FOLDER_NAME_BYTES;
}

/* STORE_EXISTS if a live sibling (other than self) has the name. */
static int
folder_name_free(struct store *st, int64_t parent_id, const char *name,
		 int64_t self)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int rc;

	stmt = sdb_prepare(s, "SELECT id FROM folders WHERE parent_id = ? AND"
			      " name = ? COLLATE NOCASE AND deleted = 0"
			      " AND id != ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, parent_id);
	sdb_bind_text(stmt, 2, name);
	sqlite3_bind_int64(stmt, 3, self);
	rc = sdb_step(s, stmt);
	if (rc == SQLITE_ROW) {
		sqlite3_reset(stmt);
		sdb_fail(s, STORE_EXISTS, "a folder named \"%s\" exists", name);
		return -1;
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
folder_create_tx(struct store *st, int64_t parent_id, const char *name,
		 enum folder_type type, int64_t *id_r)
{
	struct sdb *s = &st->sdb;
	enum item_class cls = class_of_user_type(type);
	sqlite3_stmt *stmt;
	int64_t hmodseq;
	int parent_cls;

	if (cls == 0 || !name_valid(name)) {
		sdb_fail(s, STORE_INVALID, "bad folder type or name");
		return -1;
	}
	if (parent_id != 0) {
		if (folders_class_tx(st, parent_id, &parent_cls) < 0)
			return -1;
		if (parent_cls != (int)cls) {
			sdb_fail(s, STORE_INVALID,
				 "parent folder of another class");
			return -1;
		}
	}
	if (folder_name_free(st, parent_id, name, 0) < 0 ||
	    hier_next_modseq(st, &hmodseq) < 0)
		return -1;
	stmt = sdb_prepare(s, "INSERT INTO folders(parent_id, name, type,"
			      " class, created_hmodseq, hmodseq)"
			      " VALUES(?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, parent_id);
	sdb_bind_text(stmt, 2, name);
	sqlite3_bind_int(stmt, 3, (int)type);
	sqlite3_bind_int(stmt, 4, (int)cls);
	sqlite3_bind_int64(stmt, 5, hmodseq);
	sqlite3_bind_int64(stmt, 6, hmodseq);
	if (sdb_run(s, stmt) < 0)
		return -1;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_folder_create(struct store *st, int64_t parent_id, const char *name,
		    enum folder_type type, int64_t *id_r)
{
	STORE_TX(st, folder_create_tx(st, parent_id, name, type, id_r));
}

/* Special folders are fixed (MS-ASCMD FolderUpdate/FolderDelete status
 * for a special folder). */
static int
folder_user_get(struct store *st, int64_t id, struct folder *f_r)
{
	if (store_folder_get(st, id, f_r) < 0)
		return -1;
	if (f_r->special) {
		sdb_fail(&st->sdb, STORE_DENIED, "\"%s\" is a special folder",
			 f_r->name);
		folder_clear(f_r);
		return -1;
	}
	return 0;
}

static int
folder_update_tx(struct store *st, int64_t id, int64_t new_parent_id,
		 const char *new_name)
{
	struct sdb *s = &st->sdb;
	struct folder f, p;
	sqlite3_stmt *stmt;
	int64_t hmodseq, cur;
	int ret = -1;

	memset(&p, 0, sizeof(p));
	if (!name_valid(new_name)) {
		sdb_fail(s, STORE_INVALID, "bad folder name");
		return -1;
	}
	if (folder_user_get(st, id, &f) < 0)
		return -1;
	/* Walk up from the new parent: the folder must not be among its
	 * ancestors (a cycle), within the depth bound. */
	cur = new_parent_id;
	for (int depth = 0; cur != 0; depth++) {
		if (cur == id || depth >= STORE_MAX_FOLDER_DEPTH) {
			sdb_fail(s, STORE_INVALID,
				 "cannot move a folder under itself");
			goto out;
		}
		if (store_folder_get(st, cur, &p) < 0)
			goto out;
		if (cur == new_parent_id && p.cls != f.cls) {
			sdb_fail(s, STORE_INVALID,
				 "parent folder of another class");
			goto out;
		}
		cur = p.parent_id;
		folder_clear(&p);
	}
	if (folder_name_free(st, new_parent_id, new_name, id) < 0 ||
	    hier_next_modseq(st, &hmodseq) < 0)
		goto out;
	stmt = sdb_prepare(s, "UPDATE folders SET parent_id = ?, name = ?,"
			      " hmodseq = ? WHERE id = ?");
	if (stmt == NULL)
		goto out;
	sqlite3_bind_int64(stmt, 1, new_parent_id);
	sdb_bind_text(stmt, 2, new_name);
	sqlite3_bind_int64(stmt, 3, hmodseq);
	sqlite3_bind_int64(stmt, 4, id);
	ret = sdb_run(s, stmt);
out:
	folder_clear(&p);
	folder_clear(&f);
	return ret;
}

int
store_folder_update(struct store *st, int64_t id, int64_t new_parent_id,
		    const char *new_name)
{
	STORE_TX(st, folder_update_tx(st, id, new_parent_id, new_name));
}

/*
 * Removes a folder subtree: items (attachments cascade), change log and
 * sync state of each folder, then the folders become tombstones at one
 * new hierarchy modseq.  The statements share one recursive CTE naming the
 * subtree.
 */
#define SUBTREE                                                           \
	"WITH RECURSIVE sub(id) AS (SELECT ?1 UNION ALL SELECT f.id FROM" \
	" folders f JOIN sub ON f.parent_id = sub.id WHERE f.deleted = 0) "

static int
folder_subtree_delete(struct store *st, int64_t id)
{
	static const char *const sqls[] = {
	    SUBTREE "DELETE FROM items WHERE folder_id IN sub",
	    SUBTREE "DELETE FROM changes WHERE folder_id IN sub",
	    SUBTREE "DELETE FROM sync_view WHERE coll IN sub",
	    SUBTREE "DELETE FROM sync_journal WHERE coll IN sub",
	    SUBTREE "DELETE FROM sync_keys WHERE coll IN sub",
	    SUBTREE "DELETE FROM sync_clientids WHERE coll IN sub",
	    SUBTREE "DELETE FROM sync_outcomes WHERE coll IN sub",
	    SUBTREE "UPDATE folders SET deleted = 1, hmodseq = ?2"
		    " WHERE id IN sub",
	};
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int64_t hmodseq;

	if (hier_next_modseq(st, &hmodseq) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++) {
		stmt = sdb_prepare(s, sqls[i]);
		if (stmt == NULL)
			return -1;
		sqlite3_bind_int64(stmt, 1, id);
		if (i == sizeof(sqls) / sizeof(sqls[0]) - 1)
			sqlite3_bind_int64(stmt, 2, hmodseq);
		if (sdb_run(s, stmt) < 0)
			return -1;
	}
	return 0;
}

static int
folder_delete_tx(struct store *st, int64_t id)
{
	struct folder f;

	if (folder_user_get(st, id, &f) < 0)
		return -1;
	folder_clear(&f);
	return folder_subtree_delete(st, id);
}

int
store_folder_delete(struct store *st, int64_t id)
{
	STORE_TX(st, folder_delete_tx(st, id));
}

/* Ids returned by a one-parameter query, collected before they are acted
 * on (a statement is not stepped while others modify its table). */
static int
collect_ids(struct store *st, const char *sql, int64_t param, int64_t **ids_r,
	    size_t *count_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt;
	int64_t *ids = NULL, *n;
	size_t count = 0;
	int rc;

	*ids_r = NULL;
	*count_r = 0;
	stmt = sdb_prepare(s, sql);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, param);
	while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		n = realloc(ids, (count + 1) * sizeof(*ids));
		if (n == NULL) {
			sqlite3_reset(stmt);
			free(ids);
			sdb_fail(s, STORE_IO, "out of memory");
			return -1;
		}
		ids = n;
		ids[count++] = sqlite3_column_int64(stmt, 0);
	}
	if (rc < 0) {
		free(ids);
		return -1;
	}
	*ids_r = ids;
	*count_r = count;
	return 0;
}

static int
folder_empty_tx(struct store *st, int64_t id, bool subfolders)
{
	struct folder f;
	int64_t *ids = NULL;
	size_t count;
	int ret = -1;

	if (store_folder_get(st, id, &f) < 0)
		return -1;
	folder_clear(&f);
	/* Each item leaves a tombstone: O(items), inherent to emptying. */
	if (collect_ids(st, "SELECT id FROM items WHERE folder_id = ?", id,
			&ids, &count) < 0)
		return -1;
	for (size_t i = 0; i < count; i++)
		if (items_delete_tx(st, ids[i], NULL) < 0)
			goto out;
	free(ids);
	ids = NULL;
	if (subfolders) {
		if (collect_ids(st,
				"SELECT id FROM folders WHERE parent_id = ?"
				" AND deleted = 0",
				id, &ids, &count) < 0)
			return -1;
		for (size_t i = 0; i < count; i++)
			if (folder_subtree_delete(st, ids[i]) < 0)
				goto out;
	}
	ret = 0;
out:
	free(ids);
	return ret;
}

int
store_folder_empty(struct store *st, int64_t id, bool subfolders)
{
	STORE_TX(st, folder_empty_tx(st, id, subfolders));
}

int
store_hier_modseq(struct store *st, int64_t *hmodseq_r)
{
	struct sdb *s = &st->sdb;
	sqlite3_stmt *stmt =
	    sdb_prepare(s, "SELECT value FROM meta WHERE key = 'hier_modseq'");

	if (stmt == NULL || sdb_step(s, stmt) != SQLITE_ROW)
		return -1;
	*hmodseq_r = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return 0;
}

void
folder_changes_free(struct folder_changes **ch)
{
	if (ch == NULL || *ch == NULL)
		return;
	for (size_t i = 0; i < (*ch)->count; i++)
		folder_clear(&(*ch)->changes[i].folder);
	free((*ch)->changes);
	free(*ch);
	*ch = NULL;
}

int
store_folder_changes(struct store *st, int64_t since_hmodseq,
		     struct folder_changes **ch_r)
{
	return folder_changes_for(st, 0, since_hmodseq, ch_r);
}

/*
 * The device dev's view (sync_hier_own, schema v3): a folder whose last
 * change is one the device made itself is left out (it knows), and a
 * folder the device created itself is known to it, so a later change by
 * someone else is an update (or a delete), never an add.  dev 0: nobody's.
 */
int
folder_changes_for(struct store *st, int64_t dev, int64_t since_hmodseq,
		   struct folder_changes **ch_r)
{
	struct sdb *s = &st->sdb;
	struct folder_changes *ch;
	sqlite3_stmt *stmt;
	int rc, ret = -1;

	*ch_r = NULL;
	ch = calloc(1, sizeof(*ch));
	if (ch == NULL) {
		sdb_fail(s, STORE_IO, "out of memory");
		return -1;
	}
	if (store_hier_modseq(st, &ch->hmodseq) < 0)
		goto out;
	/* Adds ordered by creation so a parent precedes its children. */
	stmt = sdb_prepare(
	    s, "SELECT " FOLDER_COLS ", created_hmodseq, deleted,"
	       " EXISTS (SELECT 1 FROM sync_hier_own o WHERE o.dev = ?2 AND"
	       " o.hmodseq = folders.created_hmodseq) FROM folders"
	       " WHERE hmodseq > ?1 AND NOT EXISTS (SELECT 1 FROM"
	       " sync_hier_own o WHERE o.dev = ?2 AND"
	       " o.hmodseq = folders.hmodseq)"
	       " ORDER BY created_hmodseq, id");
	if (stmt == NULL)
		goto out;
	sqlite3_bind_int64(stmt, 1, since_hmodseq);
	sqlite3_bind_int64(stmt, 2, dev);
	while ((rc = sdb_step(s, stmt)) == SQLITE_ROW) {
		bool created = sqlite3_column_int64(stmt, 7) > since_hmodseq &&
			       sqlite3_column_int(stmt, 9) == 0;
		bool deleted = sqlite3_column_int(stmt, 8) != 0;
		struct folder_change *n;

		if (created && deleted)
			continue; /* never seen, already gone */
		n = realloc(ch->changes, (ch->count + 1) * sizeof(*n));
		if (n == NULL) {
			sqlite3_reset(stmt);
			sdb_fail(s, STORE_IO, "out of memory");
			goto out;
		}
		ch->changes = n;
		n[ch->count].kind = deleted   ? FOLDER_CHANGE_DELETE
				    : created ? FOLDER_CHANGE_ADD
					      : FOLDER_CHANGE_UPDATE;
		if (folder_from_row(s, stmt, &n[ch->count].folder) < 0) {
			sqlite3_reset(stmt);
			goto out;
		}
		ch->count++;
	}
	if (rc < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		folder_changes_free(&ch);
	*ch_r = ch;
	return ret;
}
