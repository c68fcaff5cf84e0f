/*
 * The typed layer over the WBXML decoder: builds an element tree from the
 * decoder's events and gives handlers bounded accessors (integers, UTF-8
 * strings, bytes, presence).  All memory of a tree comes from one arena
 * (a list of blocks) freed at once with the tree; nothing is freed
 * piecemeal.  Memory is bounded by WBXML_MAX_NODES (elements and content
 * pieces) and by the input size (content is copied at most once, only when
 * it came in several pieces or as OPAQUE).
 */
#include "proto/wbxml_tree.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* First arena block: a typical request (FolderSync, Ping, a small Sync)
 * fits in it; later blocks double up to the cap, so a big document takes
 * a few mallocs, not hundreds. */
#define ARENA_BLOCK_BYTES (16u * 1024)
#define ARENA_MAX_BLOCK_BYTES (1024u * 1024)
/* Everything in the arena is nodes, pieces and bytes: pointer alignment. */
#define ARENA_ALIGN alignof(struct wbxml_node)

struct arena_block {
	struct arena_block *next;
	size_t used;
	size_t size;
	alignas(ARENA_ALIGN) uint8_t data[];
};

struct wbxml_tree {
	struct arena_block *blocks;
	struct wbxml_node *root;
	size_t nodes;
};

/* Content pieces of one open element, while parsing. */
struct piece {
	struct piece *next;
	const uint8_t *data;
	size_t len;
};

/* The first piece is kept inline: most elements have exactly one. */
struct open_elem {
	struct wbxml_node *node;
	struct piece first;
	struct piece *last;
	size_t npieces;
	size_t total;
};

static void *
arena_alloc(struct wbxml_tree *t, size_t size)
{
	const size_t align = ARENA_ALIGN;
	struct arena_block *b = t->blocks;
	size_t need = (size + align - 1) & ~(align - 1);

	if (need < size)
		return NULL;
	if (b == NULL || b->size - b->used < need) {
		size_t bsize = b == NULL ? ARENA_BLOCK_BYTES : b->size * 2;

		if (bsize > ARENA_MAX_BLOCK_BYTES)
			bsize = ARENA_MAX_BLOCK_BYTES;
		if (bsize < need)
			bsize = need;

		if (bsize > SIZE_MAX - sizeof(*b))
			return NULL;
		b = malloc(sizeof(*b) + bsize);
		if (b == NULL)
			return NULL;
		b->size = bsize;
		b->used = 0;
		b->next = t->blocks;
		t->blocks = b;
	}
	b->used += need;
	return b->data + b->used - need;
}

void
wbxml_tree_free(struct wbxml_tree **tree)
{
	struct arena_block *b, *next;

	if (*tree == NULL)
		return;
	for (b = (*tree)->blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(*tree);
	*tree = NULL;
}

/* Empty content: a NUL byte shared by every empty node. */
static const uint8_t empty_content[1] = {0};

static int
tree_add_piece(struct wbxml_tree *t, struct open_elem *o,
	       const struct wbxml_event *ev)
{
	struct piece *p;

	if (ev->len == 0 && ev->type == WBXML_EV_STR)
		return 0;
	if (ev->type == WBXML_EV_OPAQUE)
		o->node->has_opaque = true;
	if (o->npieces == 0) {
		p = &o->first;
	} else {
		p = arena_alloc(t, sizeof(*p));
		if (p == NULL)
			return -1;
		o->last->next = p;
	}
	p->next = NULL;
	p->data = ev->data;
	p->len = ev->len;
	o->last = p;
	o->npieces++;
	o->total += ev->len;
	return 0;
}

/* The element closes: settle its content into one NUL-terminated run. */
static int
tree_close(struct wbxml_tree *t, struct open_elem *o)
{
	struct wbxml_node *n = o->node;
	uint8_t *copy;
	size_t at = 0;

	if (o->npieces == 0)
		return 0;
	if (o->npieces == 1 && !n->has_opaque) {
		/* One STR_I: already followed by its NUL in the input. */
		n->data = o->first.data;
		n->len = o->first.len;
		return 0;
	}
	if (o->total == SIZE_MAX)
		return -1;
	copy = arena_alloc(t, o->total + 1);
	if (copy == NULL)
		return -1;
	for (const struct piece *p = &o->first; p != NULL; p = p->next) {
		memcpy(copy + at, p->data, p->len);
		at += p->len;
	}
	copy[at] = 0;
	n->data = copy;
	n->len = at;
	return 0;
}

static struct wbxml_node *
tree_new_node(struct wbxml_tree *t, struct open_elem *parent,
	      const struct wbxml_event *ev)
{
	struct wbxml_node *n = arena_alloc(t, sizeof(*n));

	if (n == NULL)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->tag = ev->tag;
	n->has_content = ev->has_content;
	n->data = empty_content;
	if (parent == NULL) {
		t->root = n;
		return n;
	}
	n->parent = parent->node;
	if (parent->node->last_child == NULL)
		parent->node->first_child = n;
	else
		parent->node->last_child->next = n;
	parent->node->last_child = n;
	return n;
}

/*
 * Apply one decoder event to the tree.  The decoder already guarantees
 * balance and depth; the checks here keep this function safe on its own.
 */
static enum wbxml_err
tree_event(struct wbxml_tree *t, struct open_elem *stack, unsigned *depth,
	   const struct wbxml_event *ev)
{
	struct wbxml_node *n;

	switch (ev->type) {
	case WBXML_EV_START:
		if (*depth >= WBXML_MAX_DEPTH)
			return WBXML_ERR_DEPTH;
		n = tree_new_node(t, *depth > 0 ? &stack[*depth - 1] : NULL,
				  ev);
		if (n == NULL)
			return WBXML_ERR_NOMEM;
		if (ev->has_content) {
			memset(&stack[*depth], 0, sizeof(stack[*depth]));
			stack[(*depth)++].node = n;
		}
		return WBXML_ERR_NONE;
	case WBXML_EV_END:
		if (*depth == 0)
			return WBXML_ERR_UNBALANCED;
		if (tree_close(t, &stack[--*depth]) < 0)
			return WBXML_ERR_NOMEM;
		return WBXML_ERR_NONE;
	case WBXML_EV_STR:
	case WBXML_EV_OPAQUE:
		if (*depth == 0)
			return WBXML_ERR_OUTSIDE_ROOT;
		if (tree_add_piece(t, &stack[*depth - 1], ev) < 0)
			return WBXML_ERR_NOMEM;
		return WBXML_ERR_NONE;
	case WBXML_EV_EOD:
		break;
	}
	return WBXML_ERR_NONE;
}

int
wbxml_tree_parse(const uint8_t *data, size_t len, struct wbxml_tree **tree_r,
		 enum wbxml_err *err_r, size_t *offset_r)
{
	struct open_elem stack[WBXML_MAX_DEPTH];
	unsigned depth = 0;
	struct wbxml_tree *t = NULL;
	struct wbxml_event ev;
	struct wbxml_dec dec;
	enum wbxml_err err = WBXML_ERR_NONE;
	size_t offset = 0;
	int ret = -1;

	*tree_r = NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		err = WBXML_ERR_NOMEM;
		goto out;
	}
	if (wbxml_dec_init(&dec, data, len) < 0)
		goto dec_error;
	for (;;) {
		if (wbxml_dec_next(&dec, &ev) < 0)
			goto dec_error;
		offset = ev.offset;
		if (ev.type == WBXML_EV_EOD)
			break;
		if (ev.type != WBXML_EV_END && ++t->nodes > WBXML_MAX_NODES) {
			err = WBXML_ERR_TOO_MANY_NODES;
			goto out;
		}
		err = tree_event(t, stack, &depth, &ev);
		if (err != WBXML_ERR_NONE)
			goto out;
	}
	*tree_r = t;
	t = NULL;
	ret = 0;
	goto out;
dec_error:
	err = wbxml_dec_error(&dec, &offset);
out:
	wbxml_tree_free(&t);
	if (err_r != NULL)
		*err_r = err;
	if (offset_r != NULL)
		*offset_r = offset;
	return ret;
}

const struct wbxml_node *
wbxml_tree_root(const struct wbxml_tree *tree)
{
	return tree->root;
}

size_t
wbxml_tree_node_count(const struct wbxml_tree *tree)
{
	return tree->nodes;
}

const struct wbxml_node *
wbxml_node_first(const struct wbxml_node *parent)
{
	return parent == NULL ? NULL : parent->first_child;
}

const struct wbxml_node *
wbxml_node_next(const struct wbxml_node *node)
{
	return node == NULL ? NULL : node->next;
}

const struct wbxml_node *
wbxml_node_child(const struct wbxml_node *parent, uint16_t tag)
{
	if (parent == NULL)
		return NULL;
	for (const struct wbxml_node *n = parent->first_child; n != NULL;
	     n = n->next) {
		if (n->tag == tag)
			return n;
	}
	return NULL;
}

const struct wbxml_node *
wbxml_node_next_same(const struct wbxml_node *node)
{
	if (node == NULL)
		return NULL;
	for (const struct wbxml_node *n = node->next; n != NULL; n = n->next) {
		if (n->tag == node->tag)
			return n;
	}
	return NULL;
}

const struct wbxml_node *
wbxml_node_path(const struct wbxml_node *parent, const uint16_t *tags,
		size_t ntags)
{
	const struct wbxml_node *n = parent;

	for (size_t i = 0; i < ntags && n != NULL; i++)
		n = wbxml_node_child(n, tags[i]);
	return n;
}

size_t
wbxml_node_count_children(const struct wbxml_node *parent, uint16_t tag)
{
	const struct wbxml_node *n;
	size_t count = 0;

	WBXML_FOREACH(n, parent, tag)
	count++;
	return count;
}

bool
wbxml_node_is_empty(const struct wbxml_node *node)
{
	return node->first_child == NULL && node->len == 0;
}

static int
set_err(enum wbxml_err *err_r, enum wbxml_err err)
{
	if (err_r != NULL)
		*err_r = err;
	return err == WBXML_ERR_NONE ? 0 : -1;
}

int
wbxml_node_uint(const struct wbxml_node *node, uint64_t min, uint64_t max,
		uint64_t *val_r, enum wbxml_err *err_r)
{
	uint64_t val = 0;

	if (node->first_child != NULL)
		return set_err(err_r, WBXML_ERR_NOT_TEXT);
	/* MS-ASDTYPE 2.6: decimal digits; 20 digits hold any uint64. */
	if (node->len == 0 || node->len > 20)
		return set_err(err_r, WBXML_ERR_BAD_INTEGER);
	for (size_t i = 0; i < node->len; i++) {
		unsigned digit = (unsigned)node->data[i] - '0';

		if (digit > 9)
			return set_err(err_r, WBXML_ERR_BAD_INTEGER);
		if (val > (UINT64_MAX - digit) / 10)
			return set_err(err_r, WBXML_ERR_RANGE);
		val = val * 10 + digit;
	}
	if (val < min || val > max)
		return set_err(err_r, WBXML_ERR_RANGE);
	*val_r = val;
	return set_err(err_r, WBXML_ERR_NONE);
}

/* RFC 3629: shortest form, no surrogates, nothing above U+10FFFF. */
static bool
utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1fu;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0fu;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07u;
		} else {
			return false;
		}
		if (len - i - 1 < n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0u) != 0x80u)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3fu);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += n + 1;
	}
	return true;
}

int
wbxml_node_str(const struct wbxml_node *node, size_t max_len,
	       const char **str_r, size_t *len_r, enum wbxml_err *err_r)
{
	if (node->first_child != NULL)
		return set_err(err_r, WBXML_ERR_NOT_TEXT);
	if (node->len > max_len)
		return set_err(err_r, WBXML_ERR_TOO_LONG);
	if (memchr(node->data, 0, node->len) != NULL)
		return set_err(err_r, WBXML_ERR_NUL_IN_STRING);
	if (!utf8_valid(node->data, node->len))
		return set_err(err_r, WBXML_ERR_INVALID_UTF8);
	*str_r = (const char *)node->data;
	if (len_r != NULL)
		*len_r = node->len;
	return set_err(err_r, WBXML_ERR_NONE);
}

int
wbxml_node_bytes(const struct wbxml_node *node, size_t max_len,
		 const uint8_t **data_r, size_t *len_r, enum wbxml_err *err_r)
{
	if (node->first_child != NULL)
		return set_err(err_r, WBXML_ERR_NOT_TEXT);
	if (node->len > max_len)
		return set_err(err_r, WBXML_ERR_TOO_LONG);
	*data_r = node->data;
	*len_r = node->len;
	return set_err(err_r, WBXML_ERR_NONE);
}

int
wbxml_child_uint(const struct wbxml_node *parent, uint16_t tag, uint64_t min,
		 uint64_t max, uint64_t *val_r, enum wbxml_err *err_r)
{
	const struct wbxml_node *n = wbxml_node_child(parent, tag);

	if (n == NULL)
		return set_err(err_r, WBXML_ERR_MISSING);
	return wbxml_node_uint(n, min, max, val_r, err_r);
}

int
wbxml_child_str(const struct wbxml_node *parent, uint16_t tag, size_t max_len,
		const char **str_r, size_t *len_r, enum wbxml_err *err_r)
{
	const struct wbxml_node *n = wbxml_node_child(parent, tag);

	if (n == NULL)
		return set_err(err_r, WBXML_ERR_MISSING);
	return wbxml_node_str(n, max_len, str_r, len_r, err_r);
}

int
wbxml_child_bytes(const struct wbxml_node *parent, uint16_t tag, size_t max_len,
		  const uint8_t **data_r, size_t *len_r, enum wbxml_err *err_r)
{
	const struct wbxml_node *n = wbxml_node_child(parent, tag);

	if (n == NULL)
		return set_err(err_r, WBXML_ERR_MISSING);
	return wbxml_node_bytes(n, max_len, data_r, len_r, err_r);
}

bool
wbxml_child_present(const struct wbxml_node *parent, uint16_t tag)
{
	return wbxml_node_child(parent, tag) != NULL;
}

int
wbxml_tree_encode(const struct wbxml_node *node, struct wbxml_enc *e)
{
	/* Recursion is bounded by WBXML_MAX_DEPTH (the decoder's limit). */
	if (wbxml_enc_start(e, node->tag) < 0)
		return -1;
	if (node->len > 0) {
		bool opaque = node->has_opaque ||
			      memchr(node->data, 0, node->len) != NULL;
		/* Content joined from pieces may exceed one piece's limit. */
		size_t step =
		    opaque ? WBXML_MAX_OPAQUE_BYTES : WBXML_MAX_STRING_BYTES;

		for (size_t at = 0; at < node->len; at += step) {
			size_t n =
			    node->len - at < step ? node->len - at : step;

			if (opaque)
				wbxml_enc_data(e, node->data + at, n);
			else
				wbxml_enc_text(e, (const char *)node->data + at,
					       n);
		}
	}
	for (const struct wbxml_node *c = node->first_child; c != NULL;
	     c = c->next) {
		if (wbxml_tree_encode(c, e) < 0)
			return -1;
	}
	return wbxml_enc_end(e);
}

bool
wbxml_node_equal(const struct wbxml_node *a, const struct wbxml_node *b)
{
	const struct wbxml_node *ca, *cb;

	if (a->tag != b->tag || a->len != b->len ||
	    memcmp(a->data, b->data, a->len) != 0)
		return false;
	for (ca = a->first_child, cb = b->first_child; ca && cb;
	     ca = ca->next, cb = cb->next) {
		if (!wbxml_node_equal(ca, cb))
			return false;
	}
	return ca == NULL && cb == NULL;
}
