/* Unit tests for cas/gal_wbxml.c, the GAL entry encoder shared by Search
 * and Find: every contact field in the spec's order inside the caller's
 * Result/Properties code page, unset fields left out, gal:Picture only
 * with a status (Data, opaque, with Status 1); and the Picture option of
 * Search and Find
 * requests (cas/search_req.c): empty or with MaxSize/MaxPictures,
 * malformed forms refused with the command's protocol status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas/gal_wbxml.h"
#include "cas/search_req.h"
#include "proto/buf.h"
#include "proto/wbxml_xml.h"

/* The XML of the WBXML in b, newlines and indentation removed. */
static char *
to_xml(const struct buf *b)
{
	struct buf x;
	struct wbxml_xml_error err;
	char *out, *o;

	buf_init(&x, 1u << 20);
	assert_int_equal(wbxml_xml_decode(b->data, b->len, &x, &err), 0);
	out = calloc(1, x.len + 1);
	assert_non_null(out);
	o = out;
	for (size_t i = 0; i < x.len; i++) {
		if (x.data[i] == '\n') {
			while (i + 1 < x.len && x.data[i + 1] == ' ')
				i++;
			continue;
		}
		*o++ = (char)x.data[i];
	}
	buf_free(&x);
	return out;
}

/* Encodes the entries under a root of the given page and returns XML. */
static char *
encode(uint16_t root, const Rpc__GalEntry *const *g, size_t n,
       const struct gal_wbxml_opts *opts)
{
	struct buf b;
	struct wbxml_enc e;
	char *xml;

	buf_init(&b, 1u << 16);
	wbxml_enc_init_buf(&e, &b);
	wbxml_enc_start(&e, root);
	for (size_t i = 0; i < n; i++)
		gal_wbxml_encode(&e, g[i], opts);
	wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	xml = to_xml(&b);
	buf_free(&b);
	return xml;
}

static void
full_entry(Rpc__GalEntry *g)
{
	rpc__gal_entry__init(g);
	g->display_name = "Ann Smith";
	g->email_address = "ann@example.org";
	g->alias = "asmith";
	g->phone = "+1 555 0101";
	g->office = "B2 101";
	g->title = "Engineer";
	g->company = "Example & Co";
	g->first_name = "Ann";
	g->last_name = "Smith";
	g->home_phone = "555 0123";
	g->mobile_phone = "+1 555 0199";
}

static void
test_search_full(void **state)
{
	Rpc__GalEntry g;
	const Rpc__GalEntry *list[] = {&g};
	const struct gal_wbxml_opts opts = {
	    .result_tag = EAS_SEARCH_RESULT,
	    .properties_tag = EAS_SEARCH_PROPERTIES,
	};
	char *xml;

	(void)state;
	full_entry(&g);
	xml = encode(EAS_SEARCH_STORE, list, 1, &opts);
	assert_non_null(
	    strstr(xml, "\"GAL:\"><Result><Properties>"
			"<gal:DisplayName>Ann Smith</gal:DisplayName>"
			"<gal:Phone>+1 555 0101</gal:Phone>"
			"<gal:Office>B2 101</gal:Office>"
			"<gal:Title>Engineer</gal:Title>"
			"<gal:Company>Example &amp; Co</gal:Company>"
			"<gal:Alias>asmith</gal:Alias>"
			"<gal:FirstName>Ann</gal:FirstName>"
			"<gal:LastName>Smith</gal:LastName>"
			"<gal:HomePhone>555 0123</gal:HomePhone>"
			"<gal:MobilePhone>+1 555 0199</gal:MobilePhone>"
			"<gal:EmailAddress>ann@example.org</gal:EmailAddress>"
			"</Properties></Result></Store>"));
	assert_null(strstr(xml, "Picture"));
	free(xml);
}

static void
test_find_sparse_picture(void **state)
{
	Rpc__GalEntry a, b;
	const Rpc__GalEntry *list[] = {&a, &b};
	const struct gal_wbxml_opts opts = {
	    .result_tag = EAS_FIND_RESULT,
	    .properties_tag = EAS_FIND_PROPERTIES,
	};
	static uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0x00, 'J'};
	char *xml;

	(void)state;
	full_entry(&a);
	a.picture_status = 1;
	a.picture.data = jpeg;
	a.picture.len = sizeof(jpeg);
	rpc__gal_entry__init(&b);
	b.display_name = "bob";
	b.alias = "bob";
	b.picture_status = 173;
	xml = encode(EAS_FIND_RESPONSE, list, 2, &opts);
	/* The Find page's Result/Properties; the unset fields of the
	 * second entry are left out, DisplayName is always there. */
	assert_non_null(strstr(
	    xml, "<Result><Properties><gal:DisplayName>bob</gal:DisplayName>"
		 "<gal:Alias>bob</gal:Alias>"
		 "<gal:Picture><gal:Status>173</gal:Status></gal:Picture>"
		 "</Properties></Result></Response>"));
	assert_non_null(strstr(xml, "<Response xmlns=\"Find:\""));
	/* Status 1 with the photo as opaque bytes (shown as base64). */
	assert_non_null(
	    strstr(xml, "<gal:EmailAddress>ann@example.org</gal:EmailAddress>"
			"<gal:Picture><gal:Status>1</gal:Status>"
			"<gal:Data opaque=\"base64\">/9j/AEo=</gal:Data>"
			"</gal:Picture></Properties>"));
	free(xml);
}

/* ------------------------------------------------ the Picture option */

static int
xml_body(const char *xml, struct buf *b)
{
	struct wbxml_xml_error err;

	buf_init(b, 1u << 16);
	return wbxml_xml_encode((const uint8_t *)xml, strlen(xml), b, &err);
}

static int
search_decode(const char *options, struct search_req *r,
	      enum search_req_status *st)
{
	char xml[1024];
	struct buf b;
	int rc;

	(void)snprintf(xml, sizeof(xml),
		       "<Search xmlns=\"Search:\"><Store><Name>GAL</Name>"
		       "<Query>ann</Query><Options>%s</Options></Store>"
		       "</Search>",
		       options);
	assert_int_equal(xml_body(xml, &b), 0);
	rc = search_req_decode(b.data, b.len, r, st);
	buf_free(&b);
	return rc;
}

static int
find_decode(const char *options, struct search_req *r, enum find_status *st)
{
	char xml[1024];
	struct buf b;
	int rc;

	(void)snprintf(xml, sizeof(xml),
		       "<Find xmlns=\"Find:\"><SearchId>6f1a9d2e</SearchId>"
		       "<ExecuteSearch><GalSearchCriterion><Query><FreeText>"
		       "ann</FreeText></Query><Options>%s</Options>"
		       "</GalSearchCriterion></ExecuteSearch></Find>",
		       options);
	assert_int_equal(xml_body(xml, &b), 0);
	rc = find_req_decode(b.data, b.len, r, st);
	buf_free(&b);
	return rc;
}

static void
test_picture_option(void **state)
{
	struct search_req r;
	enum search_req_status st;
	enum find_status fst;

	(void)state;
	assert_int_equal(search_decode("<Range>0-9</Range>", &r, &st), 0);
	assert_false(r.picture);
	assert_int_equal(search_decode("<Range>0-9</Range><Picture/>", &r, &st),
			 0);
	assert_true(r.picture);
	assert_int_equal(search_decode("<Picture><MaxSize>4096</MaxSize>"
				       "<MaxPictures>0</MaxPictures></Picture>",
				       &r, &st),
			 0);
	assert_true(r.picture);
	assert_int_equal(r.picture_max_bytes, 4096);
	assert_true(r.has_max_pictures);
	assert_int_equal(r.max_pictures, 0);
	assert_int_equal(r.range_end, 0); /* no Range: not set */
	/* Into the mailbox request; not before 14.1 (allowed false). */
	{
		Rpc__GalSearchRequest q;

		rpc__gal_search_request__init(&q);
		gal_wbxml_picture_request(&r, true, &q);
		assert_true(q.pictures);
		assert_int_equal(q.picture_max_bytes, 4096);
		assert_true(q.has_max_pictures);
		assert_int_equal(q.max_pictures, 0);
		gal_wbxml_picture_request(&r, false, &q);
		assert_false(q.pictures);
	}
	/* Not integers, out of 32 bits, twice: protocol error. */
	assert_int_equal(search_decode("<Picture><MaxPictures>x</MaxPictures>"
				       "</Picture>",
				       &r, &st),
			 -1);
	assert_int_equal(st, SEARCH_REQ_PROTOCOL_ERROR);
	assert_int_equal(search_decode("<Picture><MaxSize>4294967296</MaxSize>"
				       "</Picture>",
				       &r, &st),
			 -1);
	assert_int_equal(st, SEARCH_REQ_PROTOCOL_ERROR);
	assert_int_equal(search_decode("<Picture/><Picture/>", &r, &st), -1);

	assert_int_equal(find_decode("<Range>0-4</Range>", &r, &fst), 0);
	assert_false(r.picture);
	assert_int_equal(find_decode("<Picture><MaxPictures>3</MaxPictures>"
				     "</Picture>",
				     &r, &fst),
			 0);
	assert_true(r.picture);
	assert_int_equal(r.max_pictures, 3);
	assert_int_equal(r.picture_max_bytes, 0);
	assert_int_equal(
	    find_decode("<Picture><MaxSize>-1</MaxSize></Picture>", &r, &fst),
	    -1);
	assert_int_equal(fst, FIND_STATUS_INVALID_REQUEST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_search_full),
	    cmocka_unit_test(test_find_sparse_picture),
	    cmocka_unit_test(test_picture_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
