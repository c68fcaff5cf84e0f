/*
 * Unit tests for proto/wbxml_xml.c: the exact XML form (namespaces and
 * prefixes, escaping, the opaque and wbxml-hex markings, layout), exact
 * round trips, what encode accepts from people, and the error messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/wbxml.h"
#include "proto/wbxml_xml.h"

#include <libxml/parser.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void);

#define T_MAX (1u << 20)

/* Header of every EAS document: WBXML 1.3, public id 1, UTF-8, no table. */
#define HDR 0x03, 0x01, 0x6a, 0x00

static char *
t_decode(const uint8_t *w, size_t len)
{
	struct wbxml_xml_error err;
	struct buf out;
	size_t n;

	buf_init(&out, T_MAX);
	if (wbxml_xml_decode(w, len, &out, &err) != 0) {
		fprintf(stderr, "decode: %s\n", err.msg);
		fail();
	}
	return (char *)buf_steal(&out, &n);
}

static void
t_encode(const char *xml, struct buf *out)
{
	struct wbxml_xml_error err;

	buf_init(out, T_MAX);
	if (wbxml_xml_encode((const uint8_t *)xml, strlen(xml), out, &err) !=
	    0) {
		fprintf(stderr, "encode: %s\n", err.msg);
		fail();
	}
}

/* decode then encode gives back w exactly; returns the XML. */
static char *
t_round_trip(const uint8_t *w, size_t len)
{
	char *xml = t_decode(w, len);
	struct buf back;

	t_encode(xml, &back);
	assert_int_equal(back.len, len);
	assert_memory_equal(back.data, w, len);
	buf_free(&back);
	return xml;
}

static void
t_encode_fails(const char *xml, const char *expect)
{
	struct wbxml_xml_error err;
	struct buf out;

	buf_init(&out, T_MAX);
	assert_int_equal(
	    wbxml_xml_encode((const uint8_t *)xml, strlen(xml), &out, &err),
	    -1);
	if (strstr(err.msg, expect) == NULL) {
		fprintf(stderr, "message '%s' lacks '%s'\n", err.msg, expect);
		fail();
	}
	buf_free(&out);
}

static void
test_exact_form(void **state)
{
	/* <Sync><SyncKey>0</SyncKey><Options><airsyncbase:BodyPreference>
	 * <airsyncbase:Type>1</...></...></Options></Sync> */
	static const uint8_t w[] = {HDR,  0x45, 0x4b, 0x03, '0',  0x00, 0x01,
				    0x57, 0x00, 0x11, 0x45, 0x46, 0x03, '1',
				    0x00, 0x01, 0x01, 0x01, 0x01};
	static const char expect[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Sync xmlns=\"AirSync:\" xmlns:airsyncbase=\"AirSyncBase:\">\n"
	    "  <SyncKey>0</SyncKey>\n"
	    "  <Options>\n"
	    "    <airsyncbase:BodyPreference>\n"
	    "      <airsyncbase:Type>1</airsyncbase:Type>\n"
	    "    </airsyncbase:BodyPreference>\n"
	    "  </Options>\n"
	    "</Sync>\n";
	char *xml;

	(void)state;
	xml = t_round_trip(w, sizeof(w));
	assert_string_equal(xml, expect);
	free(xml);
}

static void
test_encode_bytes(void **state)
{
	static const uint8_t w[] = {HDR, 0x45, 0x4b, 0x03,
				    '0', 0x00, 0x01, 0x01};
	struct buf out;

	(void)state;
	t_encode("<Sync xmlns=\"AirSync:\">\n  <SyncKey>0</SyncKey>\n</Sync>",
		 &out);
	assert_int_equal(out.len, sizeof(w));
	assert_memory_equal(out.data, w, sizeof(w));
	buf_free(&out);
}

/* Prefixes are free, the colon optional, the page name in any case, and
 * an element from another page may be the root. */
static void
test_namespaces_accepted(void **state)
{
	struct buf a, b;

	(void)state;
	t_encode("<s:Search xmlns:s=\"Search:\" xmlns:g=\"gal\"><s:Response>"
		 "<s:Store><s:Result><s:Properties><g:DisplayName>A"
		 "</g:DisplayName></s:Properties></s:Result></s:Store>"
		 "</s:Response></s:Search>",
		 &a);
	t_encode("<Search xmlns=\"Search:\" xmlns:gal=\"GAL:\"><Response>"
		 "<Store><Result><Properties><gal:DisplayName>A"
		 "</gal:DisplayName></Properties></Result></Store>"
		 "</Response></Search>",
		 &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	{
		char *xml = t_round_trip(a.data, a.len);

		assert_non_null(strstr(xml, "<Search xmlns=\"Search:\" "
					    "xmlns:gal=\"GAL:\">"));
		assert_non_null(strstr(xml, "<gal:DisplayName>A<"));
		free(xml);
	}
	buf_free(&a);
	buf_free(&b);
}

static void
test_escaping(void **state)
{
	/* <Subject>a<b & "c" 'd' >\r\n\ttab</Subject> (Email page) */
	static const uint8_t w[] = {HDR,  0x00, 0x02, 0x54, 0x03, 'a',  '<',
				    'b',  ' ',  '&',  ' ',  '"',  'c',  '"',
				    ' ',  '\'', 'd',  '\'', ' ',  '>',  '\r',
				    '\n', '\t', 't',  'a',  'b',  0x00, 0x01};
	char *xml;

	(void)state;
	xml = t_round_trip(w, sizeof(w));
	assert_non_null(strstr(xml, "<Subject xmlns=\"Email:\">a&lt;b &amp; "
				    "\"c\" 'd' &gt;&#13;\n\ttab</Subject>"));
	free(xml);
}

static void
test_control_and_invalid_utf8(void **state)
{
	/* "x\x01\x1f" "é" "\xff\xc3" "\xef\xbf\xbf" "y" in SyncKey */
	static const uint8_t w[] = {HDR,  0x45, 0x4b, 0x03, 'x',  0x01,
				    0x1f, 0xc3, 0xa9, 0xff, 0xc3, 0xef,
				    0xbf, 0xbf, 'y',  0x00, 0x01, 0x01};
	char *xml;

	(void)state;
	xml = t_round_trip(w, sizeof(w));
	assert_non_null(strstr(xml, "<SyncKey>x<?wbxml-hex 01 1f?>\xc3\xa9"
				    "<?wbxml-hex ff c3 ef bf bf?>y</SyncKey>"));
	free(xml);
	/* Written by hand, pieces coalesce into one STR_I. */
	{
		struct buf out;

		t_encode("<Sync xmlns='AirSync:'><SyncKey>x<?wbxml-hex 01 "
			 "1f?>&#xe9;<?wbxml-hex ff c3 ef bf bf?>y</SyncKey>"
			 "</Sync>",
			 &out);
		assert_int_equal(out.len, sizeof(w));
		assert_memory_equal(out.data, w, sizeof(w));
		buf_free(&out);
	}
}

static void
test_opaque(void **state)
{
	/* Whole content opaque: attribute form. */
	static const uint8_t whole[] = {HDR,  0x00, 0x16, 0x49, 0xc3, 0x04,
					0x00, 0xff, 0x3c, 0x26, 0x01};
	/* Opaque among text: instruction form. */
	static const uint8_t mixed[] = {HDR,  0x45, 0x4b, 0x03, 'a',
					0x00, 0xc3, 0x02, 0x00, 0x01,
					0x03, 'b',  0x00, 0x01, 0x01};
	char *xml;

	(void)state;
	xml = t_round_trip(whole, sizeof(whole));
	assert_non_null(strstr(xml, "<ConversationId xmlns=\"Email2:\" "
				    "opaque=\"base64\">AP88Jg==</"
				    "ConversationId>"));
	free(xml);
	xml = t_round_trip(mixed, sizeof(mixed));
	assert_non_null(
	    strstr(xml, "<SyncKey>a<?wbxml-opaque AAE=?>b</SyncKey>"));
	free(xml);
	/* base64 may be wrapped over lines by people. */
	{
		struct buf out;

		t_encode("<ConversationId xmlns=\"Email2:\" "
			 "opaque=\"base64\">\n  AP88\n  Jg==\n"
			 "</ConversationId>",
			 &out);
		assert_int_equal(out.len, sizeof(whole));
		assert_memory_equal(out.data, whole, sizeof(whole));
		buf_free(&out);
	}
}

static void
test_unknown_token_and_empty(void **state)
{
	/* AirSync 0x3f is unassigned; <Sync/> children empty and with
	 * the content bit but nothing inside (non-canonical). */
	static const uint8_t w[] = {HDR, 0x45, 0x3f, 0x0b, 0x01};
	static const uint8_t noncanon[] = {HDR, 0x45, 0x4b, 0x01, 0x01};
	static const uint8_t canon[] = {HDR, 0x45, 0x0b, 0x01};
	struct buf out;
	char *xml;

	(void)state;
	xml = t_round_trip(w, sizeof(w));
	assert_non_null(strstr(xml, "<wbxml-token-0x3f/>"));
	assert_non_null(strstr(xml, "<SyncKey/>"));
	free(xml);
	xml = t_decode(noncanon, sizeof(noncanon));
	t_encode(xml, &out);
	assert_int_equal(out.len, sizeof(canon));
	assert_memory_equal(out.data, canon, sizeof(canon));
	buf_free(&out);
	free(xml);
}

static void
test_layout_whitespace(void **state)
{
	static const uint8_t w[] = {HDR, 0x45, 0x4b, 0x03, ' ',
				    ' ', 0x00, 0x01, 0x01};
	struct buf out;

	(void)state;
	/* Blank text beside elements is layout, in a leaf it is content. */
	t_encode("<Sync xmlns=\"AirSync:\">\n\t <SyncKey>  </SyncKey>\n"
		 "<!-- comment -->\n</Sync>",
		 &out);
	assert_int_equal(out.len, sizeof(w));
	assert_memory_equal(out.data, w, sizeof(w));
	buf_free(&out);
}

static void
test_decode_errors(void **state)
{
	static const uint8_t truncated[] = {HDR, 0x45, 0x4b, 0x03, 'a'};
	static const uint8_t version[] = {0x02, 0x01, 0x6a, 0x00, 0x05};
	struct wbxml_xml_error err;
	struct buf out;

	(void)state;
	buf_init(&out, T_MAX);
	assert_int_equal(
	    wbxml_xml_decode(truncated, sizeof(truncated), &out, &err), -1);
	assert_non_null(strstr(err.msg, "offset "));
	assert_non_null(strstr(err.msg, wbxml_strerror(WBXML_ERR_TRUNCATED)));
	assert_int_equal(wbxml_xml_decode(version, sizeof(version), &out, &err),
			 -1);
	assert_non_null(strstr(err.msg, "offset 0"));
	assert_int_equal(wbxml_xml_decode((const uint8_t *)"", 0, &out, &err),
			 -1);
	assert_true(err.msg[0] != 0);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void
test_encode_errors(void **state)
{
	char deep[4096];
	size_t n = 0;

	(void)state;
	t_encode_fails("<Sync xmlns=\"AirSync:\">\n<Foo/></Sync>",
		       "line 2: unknown element Foo in namespace AirSync:");
	t_encode_fails("<Sync/>", "line 1: element Sync has no namespace");
	t_encode_fails("<Sync xmlns=\"urn:x\"/>",
		       "namespace urn:x is not an ActiveSync code page");
	t_encode_fails("<Sync xmlns=\"AirSync:\"><SyncKey>", "line 1: ");
	t_encode_fails("not xml", "line 1: ");
	t_encode_fails("<!DOCTYPE Sync [<!ENTITY e \"x\">]>"
		       "<Sync xmlns=\"AirSync:\">&e;</Sync>",
		       "DTDs are not accepted");
	t_encode_fails("<Sync xmlns=\"AirSync:\" id=\"1\"/>",
		       "attribute id not allowed");
	t_encode_fails("<Sync xmlns=\"AirSync:\" opaque=\"hex\"/>",
		       "attribute opaque not allowed");
	t_encode_fails(
	    "<Sync xmlns=\"AirSync:\"><SyncKey opaque=\"base64\">A*==</SyncKey>"
	    "</Sync>",
	    "opaque data is not base64");
	t_encode_fails("<Sync xmlns=\"AirSync:\"><SyncKey opaque=\"base64\">"
		       "<Status/></SyncKey></Sync>",
		       "only base64 text");
	t_encode_fails("<Sync xmlns=\"AirSync:\"><SyncKey><?wbxml-hex 0?>"
		       "</SyncKey></Sync>",
		       "bad <?wbxml-hex?>");
	t_encode_fails("<Sync xmlns=\"AirSync:\"><SyncKey><?wbxml-hex 00?>"
		       "</SyncKey></Sync>",
		       "NUL byte");
	t_encode_fails("<Sync xmlns=\"AirSync:\"><?php x?></Sync>",
		       "unknown processing instruction <?php?>");
	t_encode_fails("<Sync xmlns=\"AirSync:\"><wbxml-token-0x04/></Sync>",
		       "unknown element wbxml-token-0x04");
	n += (size_t)snprintf(deep + n, sizeof(deep) - n,
			      "<Sync xmlns=\"AirSync:\">");
	for (int i = 0; i < WBXML_MAX_DEPTH + 2; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "<Add>");
	for (int i = 0; i < WBXML_MAX_DEPTH + 2; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "</Add>");
	snprintf(deep + n, sizeof(deep) - n, "</Sync>");
	t_encode_fails(deep, "nesting deeper than");
}

/* The output buffer's maximum bounds what encode writes. */
static void
test_encode_bounded(void **state)
{
	struct wbxml_xml_error err;
	struct buf out;
	const char *xml = "<Sync xmlns=\"AirSync:\"><SyncKey>0123456789"
			  "</SyncKey></Sync>";

	(void)state;
	buf_init(&out, 8);
	assert_int_equal(
	    wbxml_xml_encode((const uint8_t *)xml, strlen(xml), &out, &err),
	    -1);
	assert_non_null(strstr(err.msg, "output buffer full"));
	buf_free(&out);
}

/* The libxml2 tree is bounded in both directions (WBXML_MAX_NODES). */
static void
test_node_bounds(void **state)
{
	size_t n = WBXML_MAX_NODES + 1, len = 4 + 1 + n + 1;
	uint8_t *w = malloc(len);
	char *xml;
	struct wbxml_xml_error err;
	struct buf out;
	size_t pos = 0;

	(void)state;
	assert_non_null(w);
	/* <Sync> with WBXML_MAX_NODES + 1 empty <SyncKey/> children */
	memcpy(w, (const uint8_t[]){HDR, 0x45}, 5);
	memset(w + 5, 0x0b, n);
	w[len - 1] = 0x01;
	buf_init(&out, 64u * 1024u * 1024u);
	assert_int_equal(wbxml_xml_decode(w, len, &out, &err), -1);
	assert_non_null(strstr(err.msg, "more than"));
	free(w);

	xml = malloc(64 + 4 * (2 * (size_t)WBXML_MAX_NODES + 1));
	assert_non_null(xml);
	pos += (size_t)snprintf(xml, 64, "<Sync xmlns=\"AirSync:\">");
	for (size_t i = 0; i < 2 * (size_t)WBXML_MAX_NODES; i++) {
		memcpy(xml + pos, "<a/>", 4);
		pos += 4;
	}
	memcpy(xml + pos, "</Sync>", 8);
	buf_reset(&out);
	assert_int_equal(
	    wbxml_xml_encode((const uint8_t *)xml, strlen(xml), &out, &err),
	    -1);
	assert_non_null(strstr(err.msg, "more than"));
	free(xml);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_form),
	    cmocka_unit_test(test_encode_bytes),
	    cmocka_unit_test(test_namespaces_accepted),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_control_and_invalid_utf8),
	    cmocka_unit_test(test_opaque),
	    cmocka_unit_test(test_unknown_token_and_empty),
	    cmocka_unit_test(test_layout_whitespace),
	    cmocka_unit_test(test_decode_errors),
	    cmocka_unit_test(test_encode_errors),
	    cmocka_unit_test(test_encode_bounded),
	    cmocka_unit_test(test_node_bounds),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);

	xmlCleanupParser();
	return ret;
}
