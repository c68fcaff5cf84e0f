/*
 * Test helpers around the differential comparison: the canonical text
 * (tests/ref/wbxml_ref.h) of our own decoder's tree, and finding and
 * listing test data files relative to the source tree.  Tests only.
 */
#ifndef EASD_TESTS_REF_WBXML_CANON_H
#define EASD_TESTS_REF_WBXML_CANON_H

#include "proto/buf.h"
#include "proto/wbxml_tree.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WBXML_CANON_PATH_BYTES 4096

struct wbxml_canon_info {
	/* Elements whose tag libwbxml2 does not know (ref_names only). */
	unsigned unknown_to_ref;
	char first_unknown[64]; /* "Find:0x06" style, for messages */
};

/*
 * Canonical text of the subtree at root.  ref_names: name every element as
 * libwbxml2 does (through its probed table), so that the comparison is by
 * token, not by spelling; elements libwbxml2 lacks are named "?" and
 * counted in info_r.  Otherwise our own names (wbxml_tag_describe).
 */
int wbxml_canon_tree(const struct wbxml_node *root, bool ref_names,
		     struct buf *out, struct wbxml_canon_info *info_r);

/*
 * Directory of the source tree holding rel (e.g. "tests/scenarios"):
 * $EASD_SRCDIR, else the current directory and its parents, else the
 * parents of argv0's directory.  Writes "<dir>/<rel>" to path.
 */
int wbxml_canon_find(const char *rel, const char *argv0, char *path,
		     size_t size);

/* Regular files under dir (recursively) whose name ends in suffix ("" =
 * all), sorted; free with wbxml_canon_list_free. */
int wbxml_canon_list(const char *dir, const char *suffix, char ***paths_r,
		     size_t *count_r);
void wbxml_canon_list_free(char ***paths, size_t count);

/* Whole file into b (b's maximum bounds it). */
int wbxml_canon_read_file(const char *path, struct buf *b);

#endif
