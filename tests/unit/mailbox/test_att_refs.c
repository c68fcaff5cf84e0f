/* Unit tests for attachment refs in the store (mailbox/items.c,
 * store_attachment_get): refs and a draft's counter survive the props
 * blob and a reopen of the store; an attachment is found by its ref, not
 * its position, with the stored data of its position; a blob without refs
 * (written before they existed) reads back with ref = index; a ref over
 * STORE_MAX_ATTACHMENT_REF in a blob is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailbox/folders.h"
#include "mailbox/items.h"
#include "mailbox/store.h"
#include "proto/limits.h"

static const char msg_text[] = "From: a@example.org\r\nTo: b@example.org\r\n"
			       "Subject: hello\r\n\r\nbody\r\n";

static void
add_att(struct item_props *p, const char *name, const char *data)
{
	struct item_attachment a = {
	    .name = (char *)(uintptr_t)name,
	    .content_type = "text/plain",
	    .size = data != NULL ? (int64_t)strlen(data) : 5,
	    .data = (uint8_t *)(uintptr_t)data,
	    .data_len = data != NULL ? strlen(data) : 0,
	};

	assert_int_equal(item_props_add_attachment(p, &a), 0);
}

static void
test_refs_stored(void **state)
{
	char dir[64];
	struct store *st = NULL;
	struct store_error err;
	struct item_props p;
	struct item_new n;
	struct item *it = NULL;
	struct item_attachment got;
	int64_t drafts = 0, id;

	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/easd-attref-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, 1, &st, &err), 0);
	assert_int_equal(store_folder_by_type(st, FOLDER_TYPE_DRAFTS, &drafts),
			 0);

	/* A draft whose attachments 0..2 were deleted long ago. */
	item_props_init(&p);
	add_att(&p, "three.txt", NULL);
	add_att(&p, "four.txt", "stored");
	add_att(&p, "six.txt", NULL);
	assert_int_equal(p.attachments[1].ref, 1); /* default: the index */
	p.attachments[0].ref = 3;
	p.attachments[1].ref = 4;
	p.attachments[2].ref = 6;
	p.next_att_ref = 7;
	memset(&n, 0, sizeof(n));
	n.cls = ITEM_CLASS_EMAIL;
	n.date = 1700000000;
	n.props = &p;
	n.mime = (const uint8_t *)msg_text;
	n.mime_len = sizeof(msg_text) - 1;
	assert_int_equal(store_item_add(st, drafts, &n, &id, NULL), 0);
	item_props_clear(&p);

	/* Durable: read back through a fresh open. */
	store_close(&st);
	assert_int_equal(store_open(dir, 1, &st, &err), 0);
	assert_int_equal(store_item_get(st, id, 0, &it), 0);
	assert_int_equal(it->props.attachment_count, 3);
	assert_int_equal(it->props.attachments[0].ref, 3);
	assert_int_equal(it->props.attachments[1].ref, 4);
	assert_int_equal(it->props.attachments[2].ref, 6);
	assert_int_equal(it->props.attachments[2].index, 2);
	assert_int_equal(it->props.next_att_ref, 7);
	assert_int_equal(item_props_next_att_ref(&it->props), 7);
	item_free(&it);

	/* By ref: the position's metadata and stored data. */
	assert_int_equal(store_attachment_get(st, id, 4, &got), 0);
	assert_string_equal(got.name, "four.txt");
	assert_int_equal(got.index, 1);
	assert_int_equal(got.ref, 4);
	assert_int_equal(got.data_len, 6);
	assert_memory_equal(got.data, "stored", 6);
	item_attachment_clear(&got);
	assert_int_equal(store_attachment_get(st, id, 6, &got), 0);
	assert_string_equal(got.name, "six.txt");
	assert_int_equal(got.index, 2);
	assert_null(got.data);
	item_attachment_clear(&got);
	/* Positions are no references; spent refs are gone. */
	for (uint32_t ref = 0; ref < 3; ref++) {
		assert_int_equal(store_attachment_get(st, id, ref, &got), -1);
		assert_int_equal(store_last_error(st)->status, STORE_NOT_FOUND);
	}
	assert_int_equal(store_attachment_get(st, id, 5, &got), -1);
	assert_int_equal(store_attachment_get(st, id, 7, &got), -1);
	store_close(&st);
	{
		char cmd[96];

		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

static void
test_legacy_and_bounds(void **state)
{
	struct item_props p, q;
	struct buf b;

	(void)state;
	/* Delivered mail: no ref records, refs are the indexes. */
	item_props_init(&p);
	add_att(&p, "a", NULL);
	add_att(&p, "b", NULL);
	buf_init(&b, 1 << 20);
	assert_int_equal(item_props_serialize(&p, &b), 0);
	assert_int_equal(item_props_parse(b.data, b.len, &q), 0);
	assert_int_equal(q.attachments[0].ref, 0);
	assert_int_equal(q.attachments[1].ref, 1);
	assert_int_equal(q.next_att_ref, 0);
	assert_int_equal(item_props_next_att_ref(&q), 2);
	item_props_clear(&q);

	/* The counter never goes below a ref in use. */
	p.attachments[1].ref = 9;
	p.next_att_ref = 4;
	assert_int_equal(item_props_next_att_ref(&p), 10);

	/* A ref at the bound in a blob: refused. */
	p.attachments[1].ref = STORE_MAX_ATTACHMENT_REF;
	p.next_att_ref = 0;
	buf_reset(&b);
	assert_int_equal(item_props_serialize(&p, &b), 0);
	assert_int_equal(item_props_parse(b.data, b.len, &q), -1);
	p.attachments[1].ref = STORE_MAX_ATTACHMENT_REF - 1;
	buf_reset(&b);
	assert_int_equal(item_props_serialize(&p, &b), 0);
	assert_int_equal(item_props_parse(b.data, b.len, &q), 0);
	assert_int_equal(q.attachments[1].ref, STORE_MAX_ATTACHMENT_REF - 1);
	item_props_clear(&q);
	/* Every truncation parses a prefix or fails, never reads past. */
	for (size_t len = 1; len < b.len; len++) {
		uint8_t *copy = malloc(len);

		assert_non_null(copy);
		memcpy(copy, b.data, len);
		if (item_props_parse(copy, len, &q) == 0)
			item_props_clear(&q);
		free(copy);
	}
	buf_free(&b);
	item_props_clear(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refs_stored),
	    cmocka_unit_test(test_legacy_and_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
