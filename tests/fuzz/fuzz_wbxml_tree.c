/*
 * libFuzzer target for the typed WBXML layer (proto/wbxml_tree.c): parses
 * the input into a tree, runs every accessor on every node, re-encodes the
 * tree with the encoder and parses the result again.  A tree the decoder
 * accepted must re-encode, the re-encoded bytes must decode, and the second
 * tree must equal the first.
 */
#include <stdint.h>
#include <stdlib.h>

#include "proto/wbxml_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
visit(const struct wbxml_node *node, unsigned depth)
{
	const struct wbxml_node *child;
	const uint8_t *bytes;
	enum wbxml_err err;
	const char *s;
	uint64_t v;
	size_t len;

	if (depth > WBXML_MAX_DEPTH)
		abort();
	if (wbxml_node_uint(node, 0, UINT64_MAX, &v, &err) < 0 &&
	    err == WBXML_ERR_NONE)
		abort();
	if (wbxml_node_str(node, 1024, &s, &len, &err) == 0 && s[len] != 0)
		abort();
	if (wbxml_node_bytes(node, SIZE_MAX, &bytes, &len, &err) == 0 &&
	    len != node->len)
		abort();
	(void)wbxml_child_present(node, EAS_AIRSYNC_SYNC_KEY);
	WBXML_FOREACH_CHILD(child, node)
	{
		if (child->parent != node)
			abort();
		visit(child, depth + 1);
	}
	WBXML_FOREACH(child, node, wbxml_node_tag(node))
	{
		if (wbxml_node_tag(child) != wbxml_node_tag(node))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wbxml_tree *tree = NULL, *again = NULL;
	struct wbxml_enc e;
	struct buf out;

	if (wbxml_tree_parse(data, size, &tree, NULL, NULL) < 0) {
		if (tree != NULL)
			abort();
		return 0;
	}
	visit(wbxml_tree_root(tree), 1);
	/* Re-encoding never grows a document by more than its header. */
	buf_init(&out, size + 64);
	wbxml_enc_init_buf(&e, &out);
	if (wbxml_tree_encode(wbxml_tree_root(tree), &e) < 0 ||
	    wbxml_enc_finish(&e) < 0)
		abort();
	if (wbxml_tree_parse(out.data, out.len, &again, NULL, NULL) < 0)
		abort();
	if (!wbxml_node_equal(wbxml_tree_root(tree), wbxml_tree_root(again)))
		abort();
	wbxml_tree_free(&again);
	wbxml_tree_free(&tree);
	buf_free(&out);
	return 0;
}
