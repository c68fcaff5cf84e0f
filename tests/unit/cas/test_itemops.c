/*
 * ItemOperations: request decoding (every operation shape, per-operation
 * failures, whole-request failures) and, end to end through the real CAS
 * against the fake mailbox serving a chunked attachment, the response:
 * inline Data byte for byte, Range with Range/Total, Status 8 and 15,
 * the multipart layout (count, offset/length table, WBXML part naming
 * Part 1, the bytes), item fetches without a server-side cap, Status 9
 * for a document library, EmptyFolderContents, and the windowing that
 * keeps CAS memory bounded (no mailbox call asks for more than a window).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas/itemops_req.h"
#include "cas/itemops_xfer.h"
#include "cas_harness.h"
#include "proto/buf.h"
#include "proto/wbxml_tree.h"

#define DEV "ITEMOPSDEV1"
#define VER "16.1"
#define ATT_REF "9:0"
#define ATT_TYPE "application/pdf"
#define ATT_BYTES 700001u
#define FAKE_CHUNK (64u * 1024u)

static struct cas_harness h;
static char key[16];
static uint8_t *att;
static atomic_ulong max_window;
static atomic_uint fetch_calls;

/* ---- decoding ---------------------------------------------------------- */

static void
doc_begin(struct buf *b, struct wbxml_enc *e)
{
	buf_init(b, 1u << 20);
	wbxml_enc_init_buf(e, b);
	wbxml_enc_start(e, EAS_ITEMOPERATIONS_ITEM_OPERATIONS);
}

static void
fetch_ref(struct wbxml_enc *e, const char *store, const char *ref,
	  const char *range)
{
	wbxml_enc_start(e, EAS_ITEMOPERATIONS_FETCH);
	wbxml_enc_str(e, EAS_ITEMOPERATIONS_STORE, store);
	wbxml_enc_str(e, EAS_AIRSYNCBASE_FILE_REFERENCE, ref);
	if (range != NULL) {
		wbxml_enc_start(e, EAS_ITEMOPERATIONS_OPTIONS);
		wbxml_enc_str(e, EAS_ITEMOPERATIONS_RANGE, range);
		wbxml_enc_end(e);
	}
	wbxml_enc_end(e);
}

static void
fetch_item(struct wbxml_enc *e, const char *coll, const char *sid,
	   unsigned type, unsigned trunc)
{
	wbxml_enc_start(e, EAS_ITEMOPERATIONS_FETCH);
	wbxml_enc_str(e, EAS_ITEMOPERATIONS_STORE, "Mailbox");
	wbxml_enc_str(e, EAS_AIRSYNC_COLLECTION_ID, coll);
	wbxml_enc_str(e, EAS_AIRSYNC_SERVER_ID, sid);
	wbxml_enc_start(e, EAS_ITEMOPERATIONS_OPTIONS);
	wbxml_enc_uint(e, EAS_AIRSYNC_MIME_SUPPORT, 1);
	wbxml_enc_start(e, EAS_AIRSYNCBASE_BODY_PREFERENCE);
	wbxml_enc_uint(e, EAS_AIRSYNCBASE_TYPE, type);
	if (trunc > 0)
		wbxml_enc_uint(e, EAS_AIRSYNCBASE_TRUNCATION_SIZE, trunc);
	wbxml_enc_end(e);
	wbxml_enc_start(e, EAS_AIRSYNCBASE_BODY_PART_PREFERENCE);
	wbxml_enc_uint(e, EAS_AIRSYNCBASE_TYPE, 2);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
}

static void
test_decode_shapes(void **state)
{
	struct buf b;
	struct wbxml_enc e;
	struct itemops_request r;
	enum itemops_status st;
	static const uint8_t conv[16] = {1, 2,  3,  4,  5,  6,  7,  8,
					 9, 10, 11, 12, 13, 14, 15, 16};

	(void)state;
	doc_begin(&b, &e);
	fetch_ref(&e, "Mailbox", "12:3", "10-99");
	fetch_item(&e, "2", "17", 2, 255);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_FETCH);
	wbxml_enc_str(&e, EAS_ITEMOPERATIONS_STORE, "mailbox");
	wbxml_enc_str(&e, EAS_SEARCH_LONG_ID, "4711");
	wbxml_enc_end(&e);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_EMPTY_FOLDER_CONTENTS);
	wbxml_enc_str(&e, EAS_AIRSYNC_COLLECTION_ID, "4");
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_OPTIONS);
	wbxml_enc_empty(&e, EAS_ITEMOPERATIONS_DELETE_SUB_FOLDERS);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_MOVE);
	wbxml_enc_opaque(&e, EAS_ITEMOPERATIONS_CONVERSATION_ID, conv, 16);
	wbxml_enc_str(&e, EAS_ITEMOPERATIONS_DST_FLD_ID, "12");
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_OPTIONS);
	wbxml_enc_empty(&e, EAS_ITEMOPERATIONS_MOVE_ALWAYS);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	/* Per-operation failures. */
	fetch_ref(&e, "Document Library", "x", NULL);
	fetch_ref(&e, "Mailbox", "12:3", "99-10");
	fetch_ref(&e, "Mailbox", "12:3", "1-x");
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_FETCH); /* no Store */
	wbxml_enc_str(&e, EAS_AIRSYNCBASE_FILE_REFERENCE, "1:0");
	wbxml_enc_end(&e);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_FETCH); /* ServerId alone */
	wbxml_enc_str(&e, EAS_ITEMOPERATIONS_STORE, "Mailbox");
	wbxml_enc_str(&e, EAS_AIRSYNC_SERVER_ID, "5");
	wbxml_enc_end(&e);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_EMPTY_FOLDER_CONTENTS);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);

	assert_int_equal(itemops_req_decode(b.data, b.len, 161, &r, &st), 0);
	assert_int_equal(r.n_ops, 11);
	assert_int_equal(r.ops[0].kind, ITEMOPS_FETCH);
	assert_int_equal(r.ops[0].status, ITEMOPS_STATUS_OK);
	assert_int_equal(r.ops[0].u.fetch.by, ITEMOPS_BY_FILE_REF);
	assert_string_equal(r.ops[0].u.fetch.reference, "12:3");
	assert_true(r.ops[0].u.fetch.has_range);
	assert_int_equal(r.ops[0].u.fetch.range_first, 10);
	assert_int_equal(r.ops[0].u.fetch.range_last, 99);
	assert_int_equal(r.ops[1].u.fetch.by, ITEMOPS_BY_ITEM);
	assert_string_equal(r.ops[1].u.fetch.collection_id, "2");
	assert_string_equal(r.ops[1].u.fetch.server_id, "17");
	assert_int_equal(r.ops[1].u.fetch.n_body_prefs, 1);
	assert_int_equal(r.ops[1].u.fetch.body_prefs[0].truncation_size, 255);
	assert_int_equal(r.ops[1].u.fetch.n_body_part_prefs, 1);
	assert_true(r.ops[1].u.fetch.has_mime_support);
	assert_int_equal(r.ops[2].u.fetch.by, ITEMOPS_BY_LONG_ID);
	assert_int_equal(r.ops[2].status, ITEMOPS_STATUS_OK);
	assert_int_equal(r.ops[3].kind, ITEMOPS_EMPTY_FOLDER);
	assert_true(r.ops[3].u.empty.delete_subfolders);
	assert_int_equal(r.ops[4].kind, ITEMOPS_MOVE);
	assert_int_equal(r.ops[4].status, ITEMOPS_STATUS_OK);
	assert_int_equal(r.ops[4].u.move.conversation_id_len, 16);
	assert_true(r.ops[4].u.move.move_always);
	assert_string_equal(r.ops[4].u.move.dst_folder_id, "12");
	assert_int_equal(r.ops[5].status, ITEMOPS_STATUS_STORE_UNKNOWN);
	assert_int_equal(r.ops[6].status, ITEMOPS_STATUS_BAD_RANGE);
	assert_int_equal(r.ops[7].status, ITEMOPS_STATUS_BAD_RANGE);
	assert_int_equal(r.ops[8].status, ITEMOPS_STATUS_PROTOCOL_ERROR);
	assert_int_equal(r.ops[9].status, ITEMOPS_STATUS_PROTOCOL_ERROR);
	assert_int_equal(r.ops[10].status, ITEMOPS_STATUS_PROTOCOL_ERROR);
	itemops_req_clear(&r);

	/* 14.0: BodyPartPreference is ignored; 12.1: Move is refused. */
	assert_int_equal(itemops_req_decode(b.data, b.len, 140, &r, &st), 0);
	assert_int_equal(r.ops[1].u.fetch.n_body_part_prefs, 0);
	itemops_req_clear(&r);
	assert_int_equal(itemops_req_decode(b.data, b.len, 121, &r, &st), 0);
	assert_int_equal(r.ops[4].status, ITEMOPS_STATUS_PROTOCOL_ERROR);
	itemops_req_clear(&r);
	buf_free(&b);
}

static void
test_decode_whole_failures(void **state)
{
	struct buf b;
	struct wbxml_enc e;
	struct itemops_request r;
	enum itemops_status st;
	uint64_t a, z;

	(void)state;
	/* Empty body, wrong root, no operation, unknown child. */
	assert_int_equal(itemops_req_decode(NULL, 0, 161, &r, &st), -1);
	assert_int_equal(st, ITEMOPS_STATUS_PROTOCOL_ERROR);
	buf_init(&b, 4096);
	wbxml_enc_init_buf(&e, &b);
	wbxml_enc_empty(&e, EAS_AIRSYNC_SYNC);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(itemops_req_decode(b.data, b.len, 161, &r, &st), -1);
	buf_free(&b);
	doc_begin(&b, &e);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(itemops_req_decode(b.data, b.len, 161, &r, &st), -1);
	assert_int_equal(st, ITEMOPS_STATUS_PROTOCOL_ERROR);
	buf_free(&b);
	doc_begin(&b, &e);
	wbxml_enc_str(&e, EAS_ITEMOPERATIONS_STORE, "Mailbox");
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(itemops_req_decode(b.data, b.len, 161, &r, &st), -1);
	buf_free(&b);
	/* ITEMOPS_MAX_OPERATIONS + 1 operations: refused whole. */
	doc_begin(&b, &e);
	for (int i = 0; i <= ITEMOPS_MAX_OPERATIONS; i++)
		fetch_ref(&e, "Mailbox", "1:0", NULL);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	assert_int_equal(itemops_req_decode(b.data, b.len, 161, &r, &st), -1);
	assert_int_equal(st, ITEMOPS_STATUS_TOO_MANY);
	/* Every strict prefix fails cleanly. */
	for (size_t n = 0; n < 64 && n < b.len; n++)
		assert_int_equal(itemops_req_decode(b.data, n, 161, &r, &st),
				 -1);
	buf_free(&b);
	/* Range syntax. */
	assert_int_equal(itemops_parse_range("0-0", &a, &z), 0);
	assert_int_equal(itemops_parse_range("5-18446744073709551615", &a, &z),
			 0);
	assert_int_equal(itemops_parse_range("5-18446744073709551616", &a, &z),
			 -1);
	assert_int_equal(itemops_parse_range("-5", &a, &z), -1);
	assert_int_equal(itemops_parse_range("5-", &a, &z), -1);
	assert_int_equal(itemops_parse_range("6-5", &a, &z), -1);
	assert_int_equal(itemops_parse_range("1 -5", &a, &z), -1);
}

/* ---- the fake mailbox's Fetch ------------------------------------------- */

static int
serve_attachment(struct fake_mailbox *fm, const struct rpc_request *req,
		 const Rpc__FetchRequest *q)
{
	Rpc__FetchReply rep;
	uint64_t start = q->range_start, end = q->range_end;
	unsigned long want;

	rpc__fetch_reply__init(&rep);
	if (strcmp(q->file_reference, ATT_REF) != 0) {
		rep.status = RPC__STATUS__STATUS_NOT_FOUND;
		return fake_mailbox_reply(fm, req, &rep.base);
	}
	if (end == 0 || end > ATT_BYTES)
		end = ATT_BYTES;
	if (start >= end) {
		rep.status = RPC__STATUS__STATUS_INVALID;
		return fake_mailbox_reply(fm, req, &rep.base);
	}
	rep.status = RPC__STATUS__STATUS_OK;
	rep.total_size = ATT_BYTES;
	rep.content_type = ATT_TYPE;
	if (q->size_only)
		return fake_mailbox_reply(fm, req, &rep.base);
	want = (unsigned long)(end - start);
	if (want > atomic_load(&max_window))
		atomic_store(&max_window, want);
	for (uint64_t off = start; off < end;) {
		size_t n = end - off > FAKE_CHUNK ? FAKE_CHUNK : end - off;

		rep.offset = off;
		rep.chunk.data = att + off;
		rep.chunk.len = n;
		off += n;
		if (fake_mailbox_reply_chunk(fm, req, &rep.base, off >= end) !=
		    0)
			return -1;
		rep.total_size = 0;
		rep.content_type = "";
	}
	return 0;
}

static char full_html[3000];

static int
on_fetch(void *arg, struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__FetchRequest *q = (const Rpc__FetchRequest *)req->msg;
	Rpc__FetchReply rep;
	Rpc__ItemData d;
	Rpc__Email m;
	Rpc__Body body;

	(void)arg;
	atomic_fetch_add(&fetch_calls, 1);
	if (q->kind == RPC__FETCH_KIND__FETCH_ATTACHMENT)
		return serve_attachment(fm, req, q);
	rpc__fetch_reply__init(&rep);
	if (q->kind != RPC__FETCH_KIND__FETCH_ITEM ||
	    strcmp(q->server_id, "17") != 0 ||
	    strcmp(q->collection_id, "2") != 0) {
		rep.status = RPC__STATUS__STATUS_NOT_FOUND;
		return fake_mailbox_reply(fm, req, &rep.base);
	}
	rpc__item_data__init(&d);
	rpc__email__init(&m);
	rpc__body__init(&body);
	body.type = 2;
	body.data.data = (uint8_t *)full_html;
	body.data.len = strlen(full_html);
	m.subject = "preview then fetch";
	m.body = &body;
	d.email = &m;
	rep.status = RPC__STATUS__STATUS_OK;
	rep.data = &d;
	return fake_mailbox_reply(fm, req, &rep.base);
}

static int
on_empty(void *arg, struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__EmptyFolderRequest *q =
	    (const Rpc__EmptyFolderRequest *)req->msg;
	Rpc__StatusReply rep;

	(void)arg;
	rpc__status_reply__init(&rep);
	rep.status = strcmp(q->collection_id, "4") == 0 && q->delete_subfolders
			 ? RPC__STATUS__STATUS_OK
			 : RPC__STATUS__STATUS_NOT_FOUND;
	return fake_mailbox_reply(fm, req, &rep.base);
}

static int
setup(void **state)
{
	uint32_t k;

	(void)state;
	att = malloc(ATT_BYTES);
	if (att == NULL)
		return -1;
	for (size_t i = 0; i < ATT_BYTES; i++)
		att[i] = (uint8_t)(i * 31 + 7 + (i >> 16));
	for (size_t i = 0; i + 1 < sizeof(full_html); i++)
		full_html[i] = (char)('a' + i % 26);
	full_html[sizeof(full_html) - 1] = 0;
	if (cas_harness_start(&h) != 0 ||
	    cas_harness_provision(&h, DEV, VER, &k) != 0)
		return -1;
	(void)snprintf(key, sizeof(key), "%u", (unsigned)k);
	fake_mailbox_set_handler(h.fm, RPC__MSG_TYPE__MSG_FETCH, on_fetch,
				 NULL);
	fake_mailbox_set_handler(h.fm, RPC__MSG_TYPE__MSG_EMPTY_FOLDER,
				 on_empty, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cas_harness_stop(&h);
	free(att);
	return 0;
}

static void
post(struct buf *b, bool multipart, struct cas_reply *r)
{
	char q[256];

	cas_harness_query(q, sizeof(q), "ItemOperations", DEV);
	if (multipart)
		strncat(q, "&AcceptMultiPart=T", sizeof(q) - strlen(q) - 1);
	assert_int_equal(
	    cas_harness_post(&h, q, VER, key, h.userpwd, b->data, b->len, r),
	    0);
	assert_int_equal(r->status, 200);
}

static const struct wbxml_node *
nth_response(const struct cas_reply *r, size_t n)
{
	const struct wbxml_node *resp, *op;

	assert_non_null(r->tree);
	resp = wbxml_node_child(wbxml_tree_root(r->tree),
				EAS_ITEMOPERATIONS_RESPONSE);
	assert_non_null(resp);
	op = wbxml_node_first(resp);
	while (op != NULL && n-- > 0)
		op = wbxml_node_next(op);
	assert_non_null(op);
	return op;
}

static long
op_status(const struct wbxml_node *op)
{
	uint64_t v;

	assert_int_equal(
	    wbxml_child_uint(op, EAS_ITEMOPERATIONS_STATUS, 0, 1000, &v, NULL),
	    0);
	return (long)v;
}

static void
test_fetch_inline_and_range(void **state)
{
	struct buf b;
	struct wbxml_enc e;
	struct cas_reply r;
	const struct wbxml_node *op, *props;
	const uint8_t *data;
	const char *s;
	size_t len;

	(void)state;
	atomic_store(&max_window, 0);
	doc_begin(&b, &e);
	fetch_ref(&e, "Mailbox", ATT_REF, NULL);
	fetch_ref(&e, "Mailbox", ATT_REF, "100-199");
	fetch_ref(&e, "Mailbox", ATT_REF, "700000-800000");
	fetch_ref(&e, "Mailbox", ATT_REF, "800000-800001");
	fetch_ref(&e, "Mailbox", "9:7", NULL);
	fetch_ref(&e, "Document Library", ATT_REF, NULL);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	post(&b, false, &r);
	assert_string_equal(r.content_type, "application/vnd.ms-sync.wbxml");
	assert_int_equal(
	    cas_reply_uint(&r, (const uint16_t[]){EAS_ITEMOPERATIONS_STATUS},
			   1),
	    1);
	/* The whole attachment, byte for byte. */
	op = nth_response(&r, 0);
	assert_int_equal(wbxml_node_tag(op), EAS_ITEMOPERATIONS_FETCH);
	assert_int_equal(op_status(op), 1);
	assert_int_equal(wbxml_child_str(op, EAS_AIRSYNCBASE_FILE_REFERENCE, 64,
					 &s, NULL, NULL),
			 0);
	assert_string_equal(s, ATT_REF);
	props = wbxml_node_child(op, EAS_ITEMOPERATIONS_PROPERTIES);
	assert_non_null(props);
	assert_int_equal(wbxml_child_str(props, EAS_AIRSYNCBASE_CONTENT_TYPE,
					 64, &s, NULL, NULL),
			 0);
	assert_string_equal(s, ATT_TYPE);
	assert_false(wbxml_child_present(props, EAS_ITEMOPERATIONS_RANGE));
	assert_int_equal(wbxml_child_bytes(props, EAS_ITEMOPERATIONS_DATA,
					   SIZE_MAX, &data, &len, NULL),
			 0);
	assert_int_equal(len, ATT_BYTES);
	assert_memory_equal(data, att, ATT_BYTES);
	/* Range 100-199: 100 bytes, Range and Total. */
	props = wbxml_node_child(nth_response(&r, 1),
				 EAS_ITEMOPERATIONS_PROPERTIES);
	assert_non_null(props);
	assert_int_equal(wbxml_child_str(props, EAS_ITEMOPERATIONS_RANGE, 64,
					 &s, NULL, NULL),
			 0);
	assert_string_equal(s, "100-199");
	assert_int_equal(wbxml_child_str(props, EAS_ITEMOPERATIONS_TOTAL, 64,
					 &s, NULL, NULL),
			 0);
	assert_string_equal(s, "700001");
	assert_int_equal(wbxml_child_bytes(props, EAS_ITEMOPERATIONS_DATA,
					   SIZE_MAX, &data, &len, NULL),
			 0);
	assert_int_equal(len, 100);
	assert_memory_equal(data, att + 100, 100);
	/* A range past the end is cut to it; one starting past it is 8. */
	props = wbxml_node_child(nth_response(&r, 2),
				 EAS_ITEMOPERATIONS_PROPERTIES);
	assert_int_equal(wbxml_child_str(props, EAS_ITEMOPERATIONS_RANGE, 64,
					 &s, NULL, NULL),
			 0);
	assert_string_equal(s, "700000-700000");
	assert_int_equal(op_status(nth_response(&r, 3)), 8);
	assert_int_equal(op_status(nth_response(&r, 4)), 15);
	assert_int_equal(op_status(nth_response(&r, 5)), 9);
	/* Memory bound: no mailbox call asked for more than a window. */
	assert_true(atomic_load(&max_window) <= ITEMOPS_XFER_WINDOW_BYTES);
	assert_true(atomic_load(&max_window) > 0);
	cas_reply_free(&r);
	buf_free(&b);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void
test_fetch_multipart(void **state)
{
	struct buf b;
	struct wbxml_enc e;
	struct cas_reply r;
	struct wbxml_tree *tree = NULL;
	const struct wbxml_node *resp, *op, *props;
	const uint8_t *body;
	uint32_t count, off0, len0, off1, len1, off2, len2;
	uint64_t part;

	(void)state;
	doc_begin(&b, &e);
	fetch_ref(&e, "Mailbox", ATT_REF, NULL);
	fetch_ref(&e, "Mailbox", "9:7", NULL);
	fetch_ref(&e, "Mailbox", ATT_REF, "5-9");
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	post(&b, true, &r);
	assert_string_equal(r.content_type,
			    "application/vnd.ms-sync.multipart");
	body = r.body.data;
	assert_true(r.body.len > 4 + 3 * 8);
	count = le32(body);
	assert_int_equal(count, 3);
	off0 = le32(body + 4);
	len0 = le32(body + 8);
	off1 = le32(body + 12);
	len1 = le32(body + 16);
	off2 = le32(body + 20);
	len2 = le32(body + 24);
	assert_int_equal(off0, 4 + 3 * 8);
	assert_int_equal(off1, off0 + len0);
	assert_int_equal(len1, ATT_BYTES);
	assert_int_equal(off2, off1 + len1);
	assert_int_equal(len2, 5);
	assert_int_equal(r.body.len, off2 + len2);
	assert_memory_equal(body + off1, att, ATT_BYTES);
	assert_memory_equal(body + off2, att + 5, 5);
	assert_int_equal(wbxml_tree_parse(body + off0, len0, &tree, NULL, NULL),
			 0);
	resp = wbxml_node_child(wbxml_tree_root(tree),
				EAS_ITEMOPERATIONS_RESPONSE);
	op = wbxml_node_first(resp);
	props = wbxml_node_child(op, EAS_ITEMOPERATIONS_PROPERTIES);
	assert_int_equal(wbxml_child_uint(props, EAS_ITEMOPERATIONS_PART, 0,
					  100, &part, NULL),
			 0);
	assert_int_equal(part, 1);
	assert_false(wbxml_child_present(props, EAS_ITEMOPERATIONS_DATA));
	op = wbxml_node_next(op);
	assert_int_equal(op_status(op), 15);
	op = wbxml_node_next(op);
	props = wbxml_node_child(op, EAS_ITEMOPERATIONS_PROPERTIES);
	assert_int_equal(wbxml_child_uint(props, EAS_ITEMOPERATIONS_PART, 0,
					  100, &part, NULL),
			 0);
	assert_int_equal(part, 2);
	wbxml_tree_free(&tree);
	cas_reply_free(&r);
	buf_free(&b);
}

static void
test_fetch_item_and_empty(void **state)
{
	struct buf b;
	struct wbxml_enc e;
	struct cas_reply r;
	const struct wbxml_node *op, *props, *bodyn;
	const char *s;
	size_t len;

	(void)state;
	doc_begin(&b, &e);
	/* iOS: the full body after a truncated preview; no TruncationSize
	 * means no cap at all. */
	fetch_item(&e, "2", "17", 2, 0);
	fetch_item(&e, "2", "18", 2, 0);
	fetch_item(&e, "2", "17", 2, 100);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_EMPTY_FOLDER_CONTENTS);
	wbxml_enc_str(&e, EAS_AIRSYNC_COLLECTION_ID, "4");
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_OPTIONS);
	wbxml_enc_empty(&e, EAS_ITEMOPERATIONS_DELETE_SUB_FOLDERS);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_EMPTY_FOLDER_CONTENTS);
	wbxml_enc_str(&e, EAS_AIRSYNC_COLLECTION_ID, "99");
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	post(&b, false, &r);
	op = nth_response(&r, 0);
	assert_int_equal(op_status(op), 1);
	assert_int_equal(
	    wbxml_child_str(op, EAS_AIRSYNC_CLASS, 16, &s, NULL, NULL), 0);
	assert_string_equal(s, "Email");
	props = wbxml_node_child(op, EAS_ITEMOPERATIONS_PROPERTIES);
	bodyn = wbxml_node_child(props, EAS_AIRSYNCBASE_BODY);
	assert_non_null(bodyn);
	assert_int_equal(wbxml_child_str(bodyn, EAS_AIRSYNCBASE_DATA, 100000,
					 &s, &len, NULL),
			 0);
	assert_int_equal(len, strlen(full_html));
	{
		uint64_t t = 0;

		/* Truncated is absent or 0. */
		(void)wbxml_child_uint(bodyn, EAS_AIRSYNCBASE_TRUNCATED, 0, 1,
				       &t, NULL);
		assert_int_equal(t, 0);
	}
	assert_int_equal(op_status(nth_response(&r, 1)), 6);
	/* The client's own TruncationSize still applies. */
	bodyn =
	    wbxml_node_child(wbxml_node_child(nth_response(&r, 2),
					      EAS_ITEMOPERATIONS_PROPERTIES),
			     EAS_AIRSYNCBASE_BODY);
	assert_int_equal(wbxml_child_str(bodyn, EAS_AIRSYNCBASE_DATA, 100000,
					 &s, &len, NULL),
			 0);
	assert_int_equal(len, 100);
	op = nth_response(&r, 3);
	assert_int_equal(wbxml_node_tag(op),
			 EAS_ITEMOPERATIONS_EMPTY_FOLDER_CONTENTS);
	assert_int_equal(op_status(op), 1);
	assert_int_equal(op_status(nth_response(&r, 4)), 6);
	cas_reply_free(&r);
	buf_free(&b);
}

static void
test_whole_request_errors(void **state)
{
	struct buf b;
	struct wbxml_enc e;
	struct cas_reply r;

	(void)state;
	doc_begin(&b, &e);
	for (int i = 0; i <= ITEMOPS_MAX_OPERATIONS; i++)
		fetch_ref(&e, "Mailbox", ATT_REF, "0-0");
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	post(&b, false, &r);
	assert_int_equal(
	    cas_reply_uint(&r, (const uint16_t[]){EAS_ITEMOPERATIONS_STATUS},
			   1),
	    11); /* MS-ASCMD 3.1.5.10 */
	cas_reply_free(&r);
	buf_free(&b);
	/* Mailbox unreachable before anything was sent: Status 111. */
	fake_mailbox_fail(h.fm, RPC__MSG_TYPE__MSG_FETCH,
			  RPC__STATUS__STATUS_BUSY);
	doc_begin(&b, &e);
	fetch_ref(&e, "Mailbox", ATT_REF, NULL);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	post(&b, false, &r);
	assert_true(
	    cas_reply_uint(&r, (const uint16_t[]){EAS_ITEMOPERATIONS_STATUS},
			   1) != 1);
	fake_mailbox_fail(h.fm, RPC__MSG_TYPE__MSG_FETCH,
			  RPC__STATUS__STATUS_UNSPECIFIED);
	cas_reply_free(&r);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_shapes),
	    cmocka_unit_test(test_decode_whole_failures),
	    cmocka_unit_test(test_fetch_inline_and_range),
	    cmocka_unit_test(test_fetch_multipart),
	    cmocka_unit_test(test_fetch_item_and_empty),
	    cmocka_unit_test(test_whole_request_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
