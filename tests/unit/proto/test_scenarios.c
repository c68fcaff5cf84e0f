/*
 * The scenario vectors (every .xml file under tests/scenarios: MS-ASCMD,
 * MS-ASPROV, MS-ASAIRS and MS-ASEMAIL examples) through our codec: each file is
 * encoded to WBXML, decoded back to XML and compared with the source
 * modulo layout whitespace and comments; the decoded XML re-encodes to the
 * same bytes; and the WBXML decodes with libwbxml2 to the same canonical
 * tree as with our decoder, for every vector whose tokens libwbxml2 knows
 * (the others are counted and named).  A coverage check makes sure every
 * WBXML command keeps at least one request and one response vector.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/wbxml_tree.h"
#include "proto/wbxml_xml.h"
#include "tests/ref/wbxml_canon.h"
#include "tests/ref/wbxml_ref.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv);

#define SC_MAX_FILE_BYTES (4u * 1024u * 1024u)

static const char *sc_argv0;

struct sc_vector {
	char *path;
	struct buf xml;
	struct buf wbxml;
};

struct sc_set {
	struct sc_vector *v;
	size_t count;
};

static const char *
sc_short(const char *path)
{
	const char *p = strstr(path, "tests/scenarios/");

	return p != NULL ? p + strlen("tests/scenarios/") : path;
}

static int
sc_setup(void **state)
{
	char dir[WBXML_CANON_PATH_BYTES];
	char **paths = NULL;
	size_t n = 0;
	struct sc_set *set;

	if (wbxml_canon_find("tests/scenarios", sc_argv0, dir, sizeof(dir)) !=
	    0) {
		fprintf(stderr, "cannot find tests/scenarios (set "
				"EASD_SRCDIR)\n");
		return -1;
	}
	if (wbxml_canon_list(dir, ".xml", &paths, &n) != 0 || n == 0)
		return -1;
	set = calloc(1, sizeof(*set));
	assert_non_null(set);
	set->v = calloc(n, sizeof(*set->v));
	assert_non_null(set->v);
	set->count = n;
	for (size_t i = 0; i < n; i++) {
		struct sc_vector *v = &set->v[i];
		struct wbxml_xml_error err;

		v->path = paths[i];
		paths[i] = NULL;
		buf_init(&v->xml, SC_MAX_FILE_BYTES);
		buf_init(&v->wbxml, SC_MAX_FILE_BYTES);
		if (wbxml_canon_read_file(v->path, &v->xml) != 0) {
			fprintf(stderr, "%s: cannot read\n", v->path);
			return -1;
		}
		if (wbxml_xml_encode(v->xml.data, v->xml.len, &v->wbxml,
				     &err) != 0) {
			fprintf(stderr, "%s: encode: %s\n", sc_short(v->path),
				err.msg);
			return -1;
		}
	}
	wbxml_canon_list_free(&paths, n);
	*state = set;
	return 0;
}

static int
sc_teardown(void **state)
{
	struct sc_set *set = *state;

	if (set == NULL)
		return 0;
	for (size_t i = 0; i < set->count; i++) {
		free(set->v[i].path);
		buf_free(&set->v[i].xml);
		buf_free(&set->v[i].wbxml);
	}
	free(set->v);
	free(set);
	return 0;
}

/* ------------------------------------------------ XML tree comparison */

static bool
sc_blank(const xmlChar *s)
{
	for (; s != NULL && *s != 0; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

static bool
sc_has_elements(const xmlNode *n)
{
	for (const xmlNode *c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return true;
	return false;
}

/* Next child that carries meaning: elements, instructions, and text
 * unless it is layout (blank text beside child elements). */
static const xmlNode *
sc_next(const xmlNode *c, bool layout)
{
	for (; c != NULL; c = c->next) {
		if (c->type == XML_COMMENT_NODE)
			continue;
		if (c->type == XML_TEXT_NODE && layout && sc_blank(c->content))
			continue;
		return c;
	}
	return NULL;
}

static bool
sc_same_str(const xmlChar *a, const xmlChar *b)
{
	return strcmp(a != NULL ? (const char *)a : "",
		      b != NULL ? (const char *)b : "") == 0;
}

static bool
sc_same(const xmlNode *a, const xmlNode *b, char *why, size_t size)
{
	const xmlNode *ca, *cb;
	bool la, lb;

	if (a->type != b->type) {
		snprintf(why, size, "line %ld: node type differs",
			 xmlGetLineNo(a));
		return false;
	}
	if (a->type != XML_ELEMENT_NODE) {
		if (!sc_same_str(a->name, b->name) ||
		    !sc_same_str(a->content, b->content)) {
			snprintf(why, size, "line %ld: content differs",
				 xmlGetLineNo(a->parent));
			return false;
		}
		return true;
	}
	if (!sc_same_str(a->name, b->name) || a->ns == NULL || b->ns == NULL ||
	    !sc_same_str(a->ns->href, b->ns->href)) {
		snprintf(why, size, "line %ld: element %s vs %s",
			 xmlGetLineNo(a), (const char *)a->name,
			 (const char *)b->name);
		return false;
	}
	{
		xmlChar *oa = xmlGetProp(a, (const xmlChar *)"opaque");
		xmlChar *ob = xmlGetProp(b, (const xmlChar *)"opaque");
		bool same = sc_same_str(oa, ob);

		xmlFree(oa);
		xmlFree(ob);
		if (!same) {
			snprintf(why, size, "line %ld: opaque marking differs",
				 xmlGetLineNo(a));
			return false;
		}
	}
	la = sc_has_elements(a);
	lb = sc_has_elements(b);
	ca = sc_next(a->children, la);
	cb = sc_next(b->children, lb);
	while (ca != NULL && cb != NULL) {
		if (!sc_same(ca, cb, why, size))
			return false;
		ca = sc_next(ca->next, la);
		cb = sc_next(cb->next, lb);
	}
	if (ca != NULL || cb != NULL) {
		snprintf(why, size, "line %ld: children of %s differ",
			 xmlGetLineNo(a), (const char *)a->name);
		return false;
	}
	return true;
}

static xmlDocPtr
sc_parse(const struct buf *b)
{
	return xmlReadMemory((const char *)b->data, (int)b->len, NULL, "UTF-8",
			     XML_PARSE_NONET | XML_PARSE_NOCDATA);
}

/* XML -> WBXML -> XML equals the source (modulo layout and comments), and
 * WBXML -> XML -> WBXML is byte-exact. */
static void
test_round_trip(void **state)
{
	struct sc_set *set = *state;
	unsigned failed = 0;

	for (size_t i = 0; i < set->count; i++) {
		struct sc_vector *v = &set->v[i];
		struct wbxml_xml_error err;
		struct buf xml2, wbxml2;
		xmlDocPtr d1 = NULL, d2 = NULL;
		char why[512] = "";

		buf_init(&xml2, SC_MAX_FILE_BYTES * 2);
		buf_init(&wbxml2, SC_MAX_FILE_BYTES);
		if (wbxml_xml_decode(v->wbxml.data, v->wbxml.len, &xml2,
				     &err) != 0) {
			snprintf(why, sizeof(why), "decode: %s", err.msg);
		} else if (wbxml_xml_encode(xml2.data, xml2.len, &wbxml2,
					    &err) != 0) {
			snprintf(why, sizeof(why), "re-encode: %s", err.msg);
		} else if (wbxml2.len != v->wbxml.len ||
			   memcmp(wbxml2.data, v->wbxml.data, wbxml2.len) !=
			       0) {
			snprintf(why, sizeof(why),
				 "WBXML -> XML -> WBXML not byte-exact");
		} else {
			d1 = sc_parse(&v->xml);
			d2 = sc_parse(&xml2);
			if (d1 == NULL || d2 == NULL)
				snprintf(why, sizeof(why), "XML unreadable");
			else if (!sc_same(xmlDocGetRootElement(d1),
					  xmlDocGetRootElement(d2), why,
					  sizeof(why)))
				;
			else
				why[0] = 0;
		}
		if (why[0] != 0) {
			fprintf(stderr, "FAIL %s: %s\n", sc_short(v->path),
				why);
			failed++;
		}
		if (d1 != NULL)
			xmlFreeDoc(d1);
		if (d2 != NULL)
			xmlFreeDoc(d2);
		buf_free(&xml2);
		buf_free(&wbxml2);
	}
	printf("round trip: %zu vectors, %u failed\n", set->count, failed);
	assert_int_equal(failed, 0);
}

/* Our decoder and libwbxml2 agree on every vector libwbxml2 fully knows. */
static void
test_against_libwbxml2(void **state)
{
	struct sc_set *set = *state;
	unsigned compared = 0, excluded = 0, failed = 0;

	for (size_t i = 0; i < set->count; i++) {
		struct sc_vector *v = &set->v[i];
		struct wbxml_tree *tree = NULL;
		struct wbxml_canon_info info;
		struct buf ours, ref;
		const char *error = NULL;
		enum wbxml_err werr;

		buf_init(&ours, WBXML_REF_MAX_CANON_BYTES);
		buf_init(&ref, WBXML_REF_MAX_CANON_BYTES);
		if (wbxml_tree_parse(v->wbxml.data, v->wbxml.len, &tree, &werr,
				     NULL) != 0) {
			fprintf(stderr, "FAIL %s: our decoder: %s\n",
				sc_short(v->path), wbxml_strerror(werr));
			failed++;
		} else if (wbxml_canon_tree(wbxml_tree_root(tree), true, &ours,
					    &info) != 0) {
			fprintf(stderr, "FAIL %s: canonical text\n",
				sc_short(v->path));
			failed++;
		} else if (info.unknown_to_ref > 0) {
			printf("excluded %s: libwbxml2 lacks %u tag(s), e.g. "
			       "%s\n",
			       sc_short(v->path), info.unknown_to_ref,
			       info.first_unknown);
			excluded++;
		} else if (wbxml_ref_canon(v->wbxml.data, v->wbxml.len, &ref,
					   &error) != 0) {
			fprintf(stderr, "FAIL %s: %s\n", sc_short(v->path),
				error);
			failed++;
		} else if (strcmp(buf_str(&ours), buf_str(&ref)) != 0) {
			fprintf(stderr,
				"FAIL %s: trees differ\n--- ours\n%s--- "
				"libwbxml2\n%s",
				sc_short(v->path), buf_str(&ours),
				buf_str(&ref));
			failed++;
		} else {
			compared++;
		}
		wbxml_tree_free(&tree);
		buf_free(&ours);
		buf_free(&ref);
	}
	printf("libwbxml2: %u compared, %u excluded (tokens it lacks), %u "
	       "failed\n",
	       compared, excluded, failed);
	assert_int_equal(failed, 0);
	/* The comparison must not silently become vacuous. */
	assert_true(compared >= set->count / 2);
}

/* Every WBXML command of MS-ASCMD keeps a request and a response. */
static void
test_coverage(void **state)
{
	static const char *const commands[] = {"FolderSync",
					       "FolderCreate",
					       "FolderDelete",
					       "FolderUpdate",
					       "GetItemEstimate",
					       "ItemOperations",
					       "MeetingResponse",
					       "MoveItems",
					       "Ping",
					       "Provision",
					       "ResolveRecipients",
					       "Search",
					       "SendMail",
					       "Settings",
					       "SmartForward",
					       "SmartReply",
					       "Sync",
					       "ValidateCert",
					       "Find"};
	struct sc_set *set = *state;
	unsigned missing = 0;

	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		bool req = false, resp = false;

		for (size_t i = 0; i < set->count; i++) {
			xmlDocPtr d = sc_parse(&set->v[i].xml);
			const char *text = buf_str(&set->v[i].xml);

			assert_non_null(d);
			if (strcmp((const char *)xmlDocGetRootElement(d)->name,
				   commands[c]) == 0) {
				if (strstr(text, "direction: request") != NULL)
					req = true;
				if (strstr(text, "direction: response") != NULL)
					resp = true;
			}
			xmlFreeDoc(d);
		}
		if (!req || !resp) {
			fprintf(stderr, "no %s vector for %s\n",
				!req ? "request" : "response", commands[c]);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_against_libwbxml2),
	    cmocka_unit_test(test_coverage),
	};
	int ret;

	(void)argc;
	sc_argv0 = argv[0];
	ret = cmocka_run_group_tests(tests, sc_setup, sc_teardown);
	xmlCleanupParser();
	return ret;
}
