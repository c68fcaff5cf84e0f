/*
 * Canonical text of our decoder's tree and test-data lookup (see
 * wbxml_canon.h).  The tree walk mirrors what tests/ref/wbxml_ref.c reads
 * from libwbxml2, so a differential test compares two strings.
 */
#include "tests/ref/wbxml_canon.h"

#include "tests/ref/wbxml_ref.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bound on the files a test lists (corpora included). */
#define CANON_MAX_FILES 100000

static int
canon_node(struct wbxml_ref_writer *w, const struct wbxml_node *node,
	   bool ref_names, struct wbxml_canon_info *info)
{
	uint16_t tag = wbxml_node_tag(node);
	char ns[64], name[64];
	const char *ref_ns, *ref_name;

	if (ref_names) {
		if (wbxml_ref_tag(WBXML_TAG_PAGE(tag), WBXML_TAG_TOKEN(tag),
				  &ref_ns, &ref_name)) {
			snprintf(ns, sizeof(ns), "%s", ref_ns);
			snprintf(name, sizeof(name), "%s", ref_name);
		} else {
			if (info->unknown_to_ref++ == 0)
				wbxml_tag_describe(tag, info->first_unknown,
						   sizeof(info->first_unknown));
			snprintf(ns, sizeof(ns), "?");
			snprintf(name, sizeof(name), "?");
		}
	} else {
		const char *page = wbxml_page_name(WBXML_TAG_PAGE(tag));
		const char *tname = wbxml_tag_name(tag);

		snprintf(ns, sizeof(ns), "%s:", page != NULL ? page : "?");
		if (tname != NULL)
			snprintf(name, sizeof(name), "%s", tname);
		else
			snprintf(name, sizeof(name), "0x%02x",
				 WBXML_TAG_TOKEN(tag));
	}
	if (wbxml_ref_writer_start(w, ns, name) != 0)
		return -1;
	for (const struct wbxml_node *c = wbxml_node_first(node); c != NULL;
	     c = wbxml_node_next(c))
		if (canon_node(w, c, ref_names, info) != 0)
			return -1;
	if (wbxml_ref_writer_text(w, node->data, node->len) != 0)
		return -1;
	return wbxml_ref_writer_end(w);
}

int
wbxml_canon_tree(const struct wbxml_node *root, bool ref_names, struct buf *out,
		 struct wbxml_canon_info *info_r)
{
	struct wbxml_ref_writer w;
	int ret;

	memset(info_r, 0, sizeof(*info_r));
	wbxml_ref_writer_init(&w, out);
	ret = canon_node(&w, root, ref_names, info_r);
	if (ret == 0)
		ret = wbxml_ref_writer_finish(&w);
	wbxml_ref_writer_free(&w);
	return ret;
}

static bool
canon_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Tries dir/rel, then the parents of dir (bounded: 16 levels). */
static int
canon_walk_up(const char *dir, const char *rel, char *path, size_t size)
{
	char cur[WBXML_CANON_PATH_BYTES];

	if (snprintf(cur, sizeof(cur), "%s", dir) >= (int)sizeof(cur))
		return -1;
	for (int level = 0; level < 16; level++) {
		char *slash;

		if (snprintf(path, size, "%s/%s", cur, rel) < (int)size &&
		    canon_is_dir(path))
			return 0;
		slash = strrchr(cur, '/');
		if (slash == NULL || slash == cur)
			break;
		*slash = 0;
	}
	return -1;
}

int
wbxml_canon_find(const char *rel, const char *argv0, char *path, size_t size)
{
	const char *env = getenv("EASD_SRCDIR");
	char cwd[WBXML_CANON_PATH_BYTES];
	char *resolved;
	int ret = -1;

	if (env != NULL && *env != 0 &&
	    snprintf(path, size, "%s/%s", env, rel) < (int)size &&
	    canon_is_dir(path))
		return 0;
	if (getcwd(cwd, sizeof(cwd)) != NULL &&
	    canon_walk_up(cwd, rel, path, size) == 0)
		return 0;
	if (argv0 == NULL)
		return -1;
	resolved = realpath(argv0, NULL);
	if (resolved != NULL) {
		char *slash = strrchr(resolved, '/');

		if (slash != NULL)
			*slash = 0;
		ret = canon_walk_up(resolved, rel, path, size);
		free(resolved);
	}
	return ret;
}

struct canon_list {
	char **paths;
	size_t count;
	size_t cap;
};

static int
canon_list_add(struct canon_list *l, const char *path)
{
	if (l->count == l->cap) {
		size_t cap = l->cap == 0 ? 64 : l->cap * 2;
		char **p;

		if (cap > CANON_MAX_FILES)
			return -1;
		p = realloc(l->paths, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		l->paths = p;
		l->cap = cap;
	}
	l->paths[l->count] = strdup(path);
	if (l->paths[l->count] == NULL)
		return -1;
	l->count++;
	return 0;
}

static int
canon_list_dir(struct canon_list *l, const char *dir, const char *suffix,
	       unsigned depth)
{
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (depth > 8)
		return -1;
	d = opendir(dir);
	if (d == NULL)
		return -1;
	while (ret == 0 && (de = readdir(d)) != NULL) {
		char sub[WBXML_CANON_PATH_BYTES];
		size_t n = strlen(de->d_name), s = strlen(suffix);
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) >=
			(int)sizeof(sub) ||
		    stat(sub, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			ret = canon_list_dir(l, sub, suffix, depth + 1);
		else if (S_ISREG(st.st_mode) && n >= s &&
			 strcmp(de->d_name + n - s, suffix) == 0)
			ret = canon_list_add(l, sub);
	}
	closedir(d);
	return ret;
}

static int
canon_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
wbxml_canon_list(const char *dir, const char *suffix, char ***paths_r,
		 size_t *count_r)
{
	struct canon_list l = {NULL, 0, 0};

	if (canon_list_dir(&l, dir, suffix, 0) != 0) {
		wbxml_canon_list_free(&l.paths, l.count);
		return -1;
	}
	if (l.count > 0)
		qsort(l.paths, l.count, sizeof(*l.paths), canon_cmp);
	*paths_r = l.paths;
	*count_r = l.count;
	return 0;
}

void
wbxml_canon_list_free(char ***paths, size_t count)
{
	if (*paths == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free((*paths)[i]);
	free(*paths);
	*paths = NULL;
}

int
wbxml_canon_read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	uint8_t chunk[65536];
	size_t n;
	int ret = 0;

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) != 0) {
			ret = -1;
			break;
		}
	if (ferror(f))
		ret = -1;
	fclose(f);
	return ret;
}
