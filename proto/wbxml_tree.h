/*
 * Typed access to a decoded WBXML document, so that command handlers never
 * touch raw tokens.  wbxml_tree_parse() pulls every event of the streaming
 * decoder (proto/wbxml.h) into an element tree owned by one arena (freed
 * with the tree); the accessors below find children by tag and read their
 * content as bounded integers, strings or opaque bytes.
 *
 * Content.  An element's content may arrive in several STR_I/OPAQUE pieces;
 * the tree concatenates them (in document order) into one byte string that
 * is always followed by a NUL byte.  A single STR_I piece is not copied: it
 * points into the input, so the input must outlive the tree.  Text mixed
 * with child elements is kept, concatenated, but EAS never uses it.
 *
 * Errors.  Fallible accessors return 0 or -1 and set *err_r (may be NULL)
 * to a wbxml_err; a handler maps any of them to its command's "protocol
 * error" status (e.g. Sync Status 4, FolderSync Status 10, or from 14.0 the
 * common status 102 InvalidWBXML / 103 InvalidXML of MS-ASCMD 2.2.2).  A
 * missing element is WBXML_ERR_MISSING so that optional elements can be
 * told apart from malformed ones.
 *
 * Unknown tokens of known pages are kept as nodes (a walk over all
 * children sees them); lookups by EAS_* constant never match them.
 */
#ifndef EASD_PROTO_WBXML_TREE_H
#define EASD_PROTO_WBXML_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/wbxml.h"

struct wbxml_tree;

/* One element.  Read-only for users; fields are private. */
struct wbxml_node {
	uint16_t tag;
	bool has_opaque;  /* some content arrived as OPAQUE */
	bool has_content; /* start tag had the content bit */
	struct wbxml_node *parent;
	struct wbxml_node *first_child;
	struct wbxml_node *last_child;
	struct wbxml_node *next; /* next sibling */
	const uint8_t *data;     /* content; data[len] == 0; never NULL */
	size_t len;
	void *pieces_; /* private: content pieces while parsing */
};

/*
 * Parse a whole document (bounded by the limits of proto/limits.h and by
 * WBXML_MAX_NODES).  On failure returns -1 with *err_r and *offset_r (both
 * may be NULL) telling what and where.
 */
int wbxml_tree_parse(const uint8_t *data, size_t len,
		     struct wbxml_tree **tree_r, enum wbxml_err *err_r,
		     size_t *offset_r);
void wbxml_tree_free(struct wbxml_tree **tree);
const struct wbxml_node *wbxml_tree_root(const struct wbxml_tree *tree);
/* Elements plus content pieces counted against WBXML_MAX_NODES. */
size_t wbxml_tree_node_count(const struct wbxml_tree *tree);

/* Navigation; all return NULL when there is no such node. */
const struct wbxml_node *wbxml_node_child(const struct wbxml_node *parent,
					  uint16_t tag);
const struct wbxml_node *wbxml_node_next_same(const struct wbxml_node *node);
const struct wbxml_node *wbxml_node_first(const struct wbxml_node *parent);
const struct wbxml_node *wbxml_node_next(const struct wbxml_node *node);
/* First element found by following a path of tags from parent. */
const struct wbxml_node *wbxml_node_path(const struct wbxml_node *parent,
					 const uint16_t *tags, size_t ntags);
size_t wbxml_node_count_children(const struct wbxml_node *parent, uint16_t tag);

/* Every child of parent with the given tag, in document order. */
#define WBXML_FOREACH(var, parent, tag)                                \
	for ((var) = wbxml_node_child((parent), (tag)); (var) != NULL; \
	     (var) = wbxml_node_next_same(var))
/* Every child element of parent. */
#define WBXML_FOREACH_CHILD(var, parent)                      \
	for ((var) = wbxml_node_first(parent); (var) != NULL; \
	     (var) = wbxml_node_next(var))

static inline uint16_t
wbxml_node_tag(const struct wbxml_node *node)
{
	return node->tag;
}

/* True when the element has neither child elements nor content bytes. */
bool wbxml_node_is_empty(const struct wbxml_node *node);

/*
 * Content as a decimal unsigned integer within [min, max]: digits only, no
 * sign or space, at most 20 digits (MS-ASDTYPE 2.6).
 */
int wbxml_node_uint(const struct wbxml_node *node, uint64_t min, uint64_t max,
		    uint64_t *val_r, enum wbxml_err *err_r);
/*
 * Content as a UTF-8 string of at most max_len bytes, without NUL bytes and
 * without child elements.  *str_r is NUL-terminated and lives as long as the
 * tree (and the input).  len_r may be NULL.
 */
int wbxml_node_str(const struct wbxml_node *node, size_t max_len,
		   const char **str_r, size_t *len_r, enum wbxml_err *err_r);
/* Content as raw bytes (STR_I and OPAQUE alike), at most max_len. */
int wbxml_node_bytes(const struct wbxml_node *node, size_t max_len,
		     const uint8_t **data_r, size_t *len_r,
		     enum wbxml_err *err_r);

/* The same, on the first child with tag; WBXML_ERR_MISSING when absent. */
int wbxml_child_uint(const struct wbxml_node *parent, uint16_t tag,
		     uint64_t min, uint64_t max, uint64_t *val_r,
		     enum wbxml_err *err_r);
int wbxml_child_str(const struct wbxml_node *parent, uint16_t tag,
		    size_t max_len, const char **str_r, size_t *len_r,
		    enum wbxml_err *err_r);
int wbxml_child_bytes(const struct wbxml_node *parent, uint16_t tag,
		      size_t max_len, const uint8_t **data_r, size_t *len_r,
		      enum wbxml_err *err_r);
/* Presence of a child (flag elements such as <DeletesAsMoves/>). */
bool wbxml_child_present(const struct wbxml_node *parent, uint16_t tag);

/*
 * Encode node and its subtree with e (content as STR_I, or OPAQUE when any
 * piece was opaque or it holds a NUL).  Used to echo request parts and by
 * the tree fuzz target.
 */
int wbxml_tree_encode(const struct wbxml_node *node, struct wbxml_enc *e);
/*
 * Structural equality: same tags, same content bytes, same children, in
 * order.
 */
bool wbxml_node_equal(const struct wbxml_node *a, const struct wbxml_node *b);

#endif
