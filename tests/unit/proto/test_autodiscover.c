/* Unit tests for proto/autodiscover.c: the MS-ASCMD request and response
 * examples, the HTTP-user fallback, refusal of DTDs, entities, oversized,
 * deep and malformed bodies, escaping of hostile values (checked by
 * re-reading the output with libxml2), the Outlook schema error and the v2
 * JSON forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "proto/autodiscover.h"

#define REQ_HEAD                                                            \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"                      \
	"<Autodiscover xmlns=\"" AUTODISCOVER_NS_MOBILESYNC_REQUEST "\">\n" \
	"  <Request>\n"
#define REQ_SCHEMA                                                           \
	"    <AcceptableResponseSchema>" AUTODISCOVER_NS_MOBILESYNC_RESPONSE \
	"</AcceptableResponseSchema>\n"
#define REQ_TAIL "  </Request>\n</Autodiscover>\n"

static int
parse(const char *body, struct autodiscover_request *req)
{
	return autodiscover_request_parse((const uint8_t *)body, strlen(body),
					  req);
}

/* MS-ASCMD 4.2.1: the request example. */
static void
test_parse_spec_request(void **state)
{
	struct autodiscover_request req;

	(void)state;
	assert_int_equal(parse(REQ_HEAD "    "
					"<EMailAddress>chris@woodgrovebank.com<"
					"/EMailAddress>\n" REQ_SCHEMA REQ_TAIL,
			       &req),
			 0);
	assert_string_equal(req.email, "chris@woodgrovebank.com");
	assert_string_equal(req.response_schema,
			    AUTODISCOVER_NS_MOBILESYNC_RESPONSE);
	assert_int_equal(req.schema, AUTODISCOVER_SCHEMA_MOBILESYNC);
	assert_false(req.outlook_request);
	assert_int_equal(req.status, AUTODISCOVER_OK);
}

/* Prefixed namespace, white space around values, CDATA, a UTF-16 body. */
static void
test_parse_variants(void **state)
{
	struct autodiscover_request req;
	const char *body;
	uint8_t utf16[1024];
	size_t n = 0;

	(void)state;
	assert_int_equal(
	    parse(
		"<a:Autodiscover xmlns:a=\"" AUTODISCOVER_NS_MOBILESYNC_REQUEST
		"\"><a:Request><a:EMailAddress>\n\t <![CDATA[jo@example."
		"org]]> </a:EMailAddress><a:LegacyDN>/o=x</a:LegacyDN>"
		"<a:AcceptableResponseSchema> "
		" " AUTODISCOVER_NS_MOBILESYNC_RESPONSE
		"\n</a:AcceptableResponseSchema></a:Request>"
		"</a:Autodiscover>",
		&req),
	    0);
	assert_string_equal(req.email, "jo@example.org");
	assert_int_equal(req.schema, AUTODISCOVER_SCHEMA_MOBILESYNC);

	/* UTF-16LE with a BOM: libxml2 detects it from the first bytes */
	body =
	    "<Autodiscover xmlns=\"" AUTODISCOVER_NS_MOBILESYNC_REQUEST
	    "\"><Request><EMailAddress>u@example.org</EMailAddress>" REQ_SCHEMA
	    "</Request></Autodiscover>";
	utf16[n++] = 0xff;
	utf16[n++] = 0xfe;
	for (size_t i = 0; body[i] != '\0' && n + 2 <= sizeof(utf16); i++) {
		utf16[n++] = (uint8_t)body[i];
		utf16[n++] = 0;
	}
	assert_int_equal(autodiscover_request_parse(utf16, n, &req), 0);
	assert_string_equal(req.email, "u@example.org");
}

/* No EMailAddress (or an empty one): the HTTP user name stands in. */
static void
test_missing_address_fallback(void **state)
{
	struct autodiscover_request req;
	char addr[AUTODISCOVER_MAX_ADDRESS_BYTES + 1];

	(void)state;
	assert_int_equal(parse(REQ_HEAD REQ_SCHEMA REQ_TAIL, &req), 0);
	assert_string_equal(req.email, "");
	assert_int_equal(
	    parse(REQ_HEAD "<EMailAddress> </EMailAddress>" REQ_SCHEMA REQ_TAIL,
		  &req),
	    0);
	assert_string_equal(req.email, "");

	assert_int_equal(autodiscover_pick_address(req.email, "jdoe",
						   "example.org", addr,
						   sizeof(addr)),
			 0);
	assert_string_equal(addr, "jdoe@example.org");
	assert_int_equal(autodiscover_pick_address(NULL, "jane@example.com",
						   "example.org", addr,
						   sizeof(addr)),
			 0);
	assert_string_equal(addr, "jane@example.com");
	assert_int_equal(autodiscover_pick_address("", "CORP\\jdoe",
						   "example.org", addr,
						   sizeof(addr)),
			 0);
	assert_string_equal(addr, "jdoe@example.org");
	/* the body's address wins over the HTTP user */
	assert_int_equal(autodiscover_pick_address("b@example.net", "jdoe",
						   "example.org", addr,
						   sizeof(addr)),
			 0);
	assert_string_equal(addr, "b@example.net");
	/* no domain configured, bad user names, no user at all */
	assert_int_equal(
	    autodiscover_pick_address("", "jdoe", NULL, addr, sizeof(addr)),
	    -1);
	assert_string_equal(addr, "");
	assert_int_equal(autodiscover_pick_address(NULL, "a@b@c.org",
						   "example.org", addr,
						   sizeof(addr)),
			 -1);
	assert_int_equal(autodiscover_pick_address(NULL, "j doe", "example.org",
						   addr, sizeof(addr)),
			 -1);
	assert_int_equal(autodiscover_pick_address(
			     NULL, "CORP\\", "example.org", addr, sizeof(addr)),
			 -1);
	assert_int_equal(autodiscover_pick_address(NULL, NULL, "example.org",
						   addr, sizeof(addr)),
			 -1);
	assert_int_equal(autodiscover_pick_address("not-an-address", "jdoe",
						   "example.org", addr,
						   sizeof(addr)),
			 -1);
	/* too small an output buffer is a failure, not a truncation */
	assert_int_equal(
	    autodiscover_pick_address(NULL, "jdoe", "example.org", addr, 8),
	    -1);
}

static void
expect_fail(const char *body, enum autodiscover_status status)
{
	struct autodiscover_request req;

	assert_int_equal(parse(body, &req), -1);
	assert_int_equal(req.status, status);
	assert_true(req.error[0] != '\0');
	assert_string_equal(req.email, "");
}

static void
test_dtd_refused(void **state)
{
	(void)state;
	/* billion laughs */
	expect_fail("<?xml version=\"1.0\"?>\n"
		    "<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
		    "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
		    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
		    "<Autodiscover><Request><EMailAddress>&lol3;"
		    "</EMailAddress></Request></Autodiscover>",
		    AUTODISCOVER_ERR_DTD);
	/* external entity (XXE) */
	expect_fail("<!DOCTYPE Autodiscover [<!ENTITY x SYSTEM "
		    "\"file:///etc/passwd\">]>"
		    "<Autodiscover><Request><EMailAddress>&x;</EMailAddress>"
		    "</Request></Autodiscover>",
		    AUTODISCOVER_ERR_DTD);
	/* an external DTD, even without entities */
	expect_fail("<!DOCTYPE Autodiscover SYSTEM \"http://127.0.0.1/x.dtd\">"
		    "<Autodiscover/>",
		    AUTODISCOVER_ERR_DTD);
	expect_fail("<!DOCTYPE Autodiscover><Autodiscover/>",
		    AUTODISCOVER_ERR_DTD);
	assert_int_equal(autodiscover_status_http(AUTODISCOVER_ERR_DTD), 400);
	/* without a DTD an entity reference is undeclared: malformed */
	expect_fail(REQ_HEAD
		    "<EMailAddress>&x;</EMailAddress>" REQ_SCHEMA REQ_TAIL,
		    AUTODISCOVER_ERR_XML);
}

static void
test_oversized_refused(void **state)
{
	struct autodiscover_request req;
	static char body[AUTODISCOVER_MAX_BODY_BYTES + 2];
	const char *doc = REQ_HEAD
	    "<EMailAddress>a@example.org</EMailAddress>" REQ_SCHEMA REQ_TAIL;
	size_t len = strlen(doc);

	(void)state;
	/* exactly at the bound (padded with trailing white space): read */
	memcpy(body, doc, len);
	memset(body + len, ' ', AUTODISCOVER_MAX_BODY_BYTES - len);
	assert_int_equal(autodiscover_request_parse((const uint8_t *)body,
						    AUTODISCOVER_MAX_BODY_BYTES,
						    &req),
			 0);
	assert_string_equal(req.email, "a@example.org");
	/* one byte more: refused before parsing */
	body[AUTODISCOVER_MAX_BODY_BYTES] = ' ';
	assert_int_equal(
	    autodiscover_request_parse((const uint8_t *)body,
				       AUTODISCOVER_MAX_BODY_BYTES + 1, &req),
	    -1);
	assert_int_equal(req.status, AUTODISCOVER_ERR_TOO_LARGE);
	assert_int_equal(autodiscover_status_http(req.status), 413);
	assert_non_null(strstr(req.error, "8192"));
}

static void
test_depth_refused(void **state)
{
	char body[512];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(body + n, sizeof(body) - n,
			      "<Autodiscover><Request>");
	for (int i = 0; i < AUTODISCOVER_MAX_DEPTH; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "<x>");
	assert_true(n < sizeof(body));
	expect_fail(body, AUTODISCOVER_ERR_DEPTH);
	assert_int_equal(autodiscover_status_http(AUTODISCOVER_ERR_DEPTH), 400);
}

/* Malformed or wrong-shaped bodies get a readable reason (and error 600). */
static void
test_bad_xml_refused(void **state)
{
	struct autodiscover_request req;
	char body[1024];

	(void)state;
	assert_int_equal(parse(REQ_HEAD "<EMailAddress>a@b.org</EMail>", &req),
			 -1);
	assert_int_equal(req.status, AUTODISCOVER_ERR_XML);
	assert_non_null(strstr(req.error, "line 4"));
	assert_int_equal(autodiscover_status_http(req.status), 200);
	expect_fail("", AUTODISCOVER_ERR_XML);
	expect_fail("<Autodiscover>\xff\xfe</Autodiscover>",
		    AUTODISCOVER_ERR_XML);
	assert_int_equal(parse("<Autodiscover>\xff</Autodiscover>", &req), -1);
	/* libxml2's multi-line messages are folded into one line */
	assert_null(strchr(req.error, '\n'));
	/* an encoding error is raised outside the parser context: it is
	 * still this parse's error (and nothing goes to stderr) */
	assert_int_equal(parse("<?xml version=\"1.0\" encoding=\"EUC-JP\"?>"
			       "<Autodiscover><Request>\xff\xff</Request>"
			       "</Autodiscover>",
			       &req),
			 -1);
	assert_int_equal(req.status, AUTODISCOVER_ERR_XML);
	assert_non_null(strstr(req.error, "XML: input conversion failed"));
	expect_fail("<Autodiscover", AUTODISCOVER_ERR_XML);
	expect_fail("<a:Autodiscover/>", AUTODISCOVER_ERR_XML); /* prefix */
	expect_fail("<Other/>", AUTODISCOVER_ERR_SCHEMA);
	expect_fail("<Autodiscover/>", AUTODISCOVER_ERR_SCHEMA);
	expect_fail(REQ_HEAD
		    "<EMailAddress>a@example.org</EMailAddress>" REQ_TAIL,
		    AUTODISCOVER_ERR_SCHEMA);
	expect_fail(REQ_HEAD REQ_SCHEMA REQ_SCHEMA REQ_TAIL,
		    AUTODISCOVER_ERR_SCHEMA);
	expect_fail(REQ_HEAD
		    "<EMailAddress>a@x.org</EMailAddress>"
		    "<EMailAddress>b@x.org</EMailAddress>" REQ_SCHEMA REQ_TAIL,
		    AUTODISCOVER_ERR_SCHEMA);
	expect_fail(
	    REQ_HEAD
	    "<EMailAddress>a@x.org<b/></EMailAddress>" REQ_SCHEMA REQ_TAIL,
	    AUTODISCOVER_ERR_SCHEMA);
	/* MS-ASCMD 2.2.3.150.1: two Request elements */
	expect_fail("<Autodiscover><Request>" REQ_SCHEMA
		    "</Request><Request>" REQ_SCHEMA
		    "</Request></Autodiscover>",
		    AUTODISCOVER_ERR_SCHEMA);
	expect_fail(
	    REQ_HEAD
	    "<EMailAddress>not an address</EMailAddress>" REQ_SCHEMA REQ_TAIL,
	    AUTODISCOVER_ERR_ADDRESS);
	/* an address over the bound */
	snprintf(body, sizeof(body),
		 REQ_HEAD
		 "<EMailAddress>%0300d@example.org</EMailAddress>" REQ_SCHEMA
		     REQ_TAIL,
		 1);
	expect_fail(body, AUTODISCOVER_ERR_ADDRESS);
	/* text beyond the collection buffer */
	snprintf(body, sizeof(body),
		 REQ_HEAD "<AcceptableResponseSchema>%0600d"
			  "</AcceptableResponseSchema>" REQ_TAIL,
		 1);
	expect_fail(body, AUTODISCOVER_ERR_SCHEMA);
}

/* Desktop Outlook's request parses; it is answered with error 601. */
static void
test_outlook_schema(void **state)
{
	struct autodiscover_request req;
	struct autodiscover_error err = {
	    .code = AUTODISCOVER_ERROR_NO_PROVIDER,
	    .time = (time_t)-1,
	};
	struct buf out;

	(void)state;
	assert_int_equal(
	    parse("<Autodiscover xmlns=\"" AUTODISCOVER_NS_OUTLOOK_REQUEST "\">"
		  "<Request><EMailAddress>user@contoso.com</EMailAddress>"
		  "<AcceptableResponseSchema>http://schemas.microsoft.com/"
		  "exchange/autodiscover/outlook/responseschema/2006a"
		  "</AcceptableResponseSchema></Request></Autodiscover>",
		  &req),
	    0);
	assert_true(req.outlook_request);
	assert_int_equal(req.schema, AUTODISCOVER_SCHEMA_OUTLOOK);
	assert_string_equal(req.email, "user@contoso.com");

	err.schema = req.schema;
	buf_init(&out, AUTODISCOVER_MAX_RESPONSE_BYTES);
	assert_int_equal(autodiscover_build_error(&out, &err), 0);
	assert_string_equal(
	    buf_str(&out),
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/"
	    "autodiscover/responseschema/2006\">\n"
	    "  <Response>\n"
	    "    <Error>\n"
	    "      <ErrorCode>601</ErrorCode>\n"
	    "      <Message>Provider is not available</Message>\n"
	    "      <DebugData />\n"
	    "    </Error>\n"
	    "  </Response>\n"
	    "</Autodiscover>\n");
	buf_free(&out);

	/* an unknown schema is "other", also 601 */
	assert_int_equal(parse(REQ_HEAD "<AcceptableResponseSchema>urn:x"
					"</AcceptableResponseSchema>" REQ_TAIL,
			       &req),
			 0);
	assert_int_equal(req.schema, AUTODISCOVER_SCHEMA_OTHER);
	assert_false(req.outlook_request);
}

/* MS-ASCMD 4.2.4 (the MobileSync server of the example). */
static void
test_build_settings_spec(void **state)
{
	const struct autodiscover_user user = {
	    .email = "chris@woodgrovebank.com",
	    .display_name = "Chris Gray",
	};
	struct buf out;

	(void)state;
	buf_init(&out, AUTODISCOVER_MAX_RESPONSE_BYTES);
	assert_int_equal(
	    autodiscover_build_settings(
		&out, &user,
		"https://loandept.woodgrovebank.com/Microsoft-Server-"
		"ActiveSync"),
	    0);
	assert_string_equal(
	    buf_str(&out),
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/"
	    "autodiscover/responseschema/2006\">\n"
	    "  <Response xmlns=\"http://schemas.microsoft.com/exchange/"
	    "autodiscover/mobilesync/responseschema/2006\">\n"
	    "    <Culture>en:us</Culture>\n"
	    "    <User>\n"
	    "      <DisplayName>Chris Gray</DisplayName>\n"
	    "      <EMailAddress>chris@woodgrovebank.com</EMailAddress>\n"
	    "    </User>\n"
	    "    <Action>\n"
	    "      <Settings>\n"
	    "        <Server>\n"
	    "          <Type>MobileSync</Type>\n"
	    "          <Url>https://loandept.woodgrovebank.com/"
	    "Microsoft-Server-ActiveSync</Url>\n"
	    "          <Name>https://loandept.woodgrovebank.com/"
	    "Microsoft-Server-ActiveSync</Name>\n"
	    "        </Server>\n"
	    "      </Settings>\n"
	    "    </Action>\n"
	    "  </Response>\n"
	    "</Autodiscover>\n");
	buf_free(&out);
}

/* The text of the first element called name (depth-first), or NULL. */
static xmlNodePtr
find_element(xmlNodePtr node, const char *name)
{
	for (; node != NULL; node = node->next) {
		xmlNodePtr found;

		if (node->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)node->name, name) == 0)
			return node;
		found = find_element(node->children, name);
		if (found != NULL)
			return found;
	}
	return NULL;
}

/* Re-read a built document; fails the test when it is not well-formed. */
static xmlDocPtr
reread(const struct buf *out)
{
	xmlDocPtr doc = xmlReadMemory(
	    (const char *)out->data, (int)out->len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

	assert_non_null(doc);
	return doc;
}

static void
assert_element_text(xmlDocPtr doc, const char *name, const char *expected)
{
	xmlNodePtr n = find_element(xmlDocGetRootElement(doc), name);
	xmlChar *text;

	assert_non_null(n);
	text = xmlNodeGetContent(n);
	assert_non_null(text);
	assert_string_equal((const char *)text, expected);
	xmlFree(text);
}

/* Hostile display names cannot break out of their element. */
static void
test_escape_hostile(void **state)
{
	const struct autodiscover_user user = {
	    .email = "o'brien+tag@example.org",
	    .display_name = "</DisplayName><Evil>&amp;\"'\x01\r\xff x",
	    .culture = "en:us",
	};
	struct buf out;
	xmlDocPtr doc;

	(void)state;
	buf_init(&out, AUTODISCOVER_MAX_RESPONSE_BYTES);
	assert_int_equal(
	    autodiscover_build_settings(&out, &user,
					"https://mail.example.org/"
					"Microsoft-Server-ActiveSync?a=1&b=2"),
	    0);
	assert_null(strstr(buf_str(&out), "<Evil>"));
	doc = reread(&out);
	assert_null(find_element(xmlDocGetRootElement(doc), "Evil"));
	assert_element_text(doc, "DisplayName",
			    "</DisplayName><Evil>&amp;\"'\xef\xbf\xbd\r"
			    "\xef\xbf\xbd x");
	assert_element_text(doc, "EMailAddress", "o'brien+tag@example.org");
	assert_element_text(doc, "Url",
			    "https://mail.example.org/"
			    "Microsoft-Server-ActiveSync?a=1&b=2");
	xmlFreeDoc(doc);
	buf_free(&out);
}

static void
test_build_redirect_and_error(void **state)
{
	const struct autodiscover_user user = {.email = "a@example.org"};
	struct autodiscover_error err = {
	    .code = AUTODISCOVER_ERROR_INVALID_REQUEST,
	    .schema = AUTODISCOVER_SCHEMA_MOBILESYNC,
	    .debug_data = "XML line 1: <bad> & \"worse\"",
	    .time = 16 * 3600 + 56 * 60 + 32,
	    .server_id = 1054084152,
	};
	struct buf out;
	xmlDocPtr doc;

	(void)state;
	buf_init(&out, AUTODISCOVER_MAX_RESPONSE_BYTES);
	assert_int_equal(
	    autodiscover_build_redirect(&out, &user, "a@other.example.org"), 0);
	doc = reread(&out);
	assert_element_text(doc, "Redirect", "a@other.example.org");
	assert_element_text(doc, "EMailAddress", "a@example.org");
	assert_null(find_element(xmlDocGetRootElement(doc), "Settings"));
	xmlFreeDoc(doc);

	/* MS-ASCMD 4.2.x error example: mobilesync Response, Time and Id */
	buf_reset(&out);
	assert_int_equal(autodiscover_build_error(&out, &err), 0);
	assert_non_null(strstr(
	    buf_str(&out),
	    "  <Response xmlns=\"" AUTODISCOVER_NS_MOBILESYNC_RESPONSE "\">\n"
	    "    <Error Time=\"16:56:32\" Id=\"1054084152\">\n"
	    "      <ErrorCode>600</ErrorCode>\n"
	    "      <Message>Invalid Request</Message>\n"));
	doc = reread(&out);
	assert_element_text(doc, "DebugData", "XML line 1: <bad> & \"worse\"");
	xmlFreeDoc(doc);

	/* an unknown code is refused */
	err.code = (enum autodiscover_error_code)500;
	assert_int_equal(autodiscover_build_error(&out, &err), -1);
	buf_free(&out);
}

/* Bad arguments and a full buffer fail and leave the buffer unchanged. */
static void
test_build_failures(void **state)
{
	const struct autodiscover_user user = {
	    .email = "a@example.org",
	    .display_name = "A",
	};
	const struct autodiscover_user bad = {.email = "nope"};
	const char *url = "https://h.example.org/Microsoft-Server-ActiveSync";
	struct buf out;
	unsigned status = 0;

	(void)state;
	buf_init(&out, 300);
	assert_int_equal(buf_append_str(&out, "keep"), 0);
	assert_int_equal(autodiscover_build_settings(&out, &user, url), -1);
	assert_string_equal(buf_str(&out), "keep");
	assert_int_equal(autodiscover_build_settings(&out, &bad, url), -1);
	assert_int_equal(
	    autodiscover_build_settings(&out, &user, "ftp://h.example.org/"),
	    -1);
	assert_int_equal(autodiscover_build_settings(
			     &out, &user, "https://h.example.org/a b"),
			 -1);
	assert_int_equal(autodiscover_build_redirect(&out, NULL, "x"), -1);
	assert_int_equal(autodiscover_json_build(&out, "a@example.org",
						 "ActiveSync", "javascript:x",
						 &status),
			 -1);
	assert_string_equal(buf_str(&out), "keep");
	assert_int_equal(out.len, 4);
	buf_free(&out);
}

static void
test_address_valid(void **state)
{
	char long_local[80], long_addr[300];

	(void)state;
	assert_true(autodiscover_address_valid("a@b.c"));
	assert_true(autodiscover_address_valid("first.last+tag@example.org"));
	assert_true(autodiscover_address_valid("j\xc3\xb6rg@example.de"));
	assert_false(autodiscover_address_valid(NULL));
	assert_false(autodiscover_address_valid(""));
	assert_false(autodiscover_address_valid("a@"));
	assert_false(autodiscover_address_valid("@b.org"));
	assert_false(autodiscover_address_valid("ab.org"));
	assert_false(autodiscover_address_valid("a@b@c.org"));
	assert_false(autodiscover_address_valid("a b@c.org"));
	assert_false(autodiscover_address_valid("a\t@c.org"));
	assert_false(autodiscover_address_valid("a\x7f@c.org"));
	assert_false(autodiscover_address_valid("<a@c.org>"));
	assert_false(autodiscover_address_valid("\"a\"@c.org"));
	assert_false(autodiscover_address_valid("a@.c.org"));
	assert_false(autodiscover_address_valid("a@c.org."));
	assert_false(autodiscover_address_valid("a..b@c.org"));
	assert_false(autodiscover_address_valid("a@c..org"));
	assert_false(autodiscover_address_valid("a\xff@c.org"));
	assert_false(autodiscover_address_valid("a\xc0\xaf@c.org"));
	memset(long_local, 'x', 65);
	snprintf(long_local + 65, sizeof(long_local) - 65, "@c.org");
	assert_false(autodiscover_address_valid(long_local));
	memset(long_addr, 'd', sizeof(long_addr) - 1);
	long_addr[0] = 'a';
	long_addr[1] = '@';
	long_addr[AUTODISCOVER_MAX_ADDRESS_BYTES] = '\0';
	assert_true(autodiscover_address_valid(long_addr));
	long_addr[AUTODISCOVER_MAX_ADDRESS_BYTES] = 'd';
	long_addr[AUTODISCOVER_MAX_ADDRESS_BYTES + 1] = '\0';
	assert_false(autodiscover_address_valid(long_addr));
}

static int
json_parse(const char *target, struct autodiscover_json_request *req,
	   const char **error)
{
	return autodiscover_json_parse(target, strlen(target), req, error);
}

static void
test_json_parse(void **state)
{
	struct autodiscover_json_request req;
	const char *error = NULL;
	char big[AUTODISCOVER_MAX_TARGET_BYTES + 16];
	size_t n;

	(void)state;
	assert_int_equal(
	    json_parse("/autodiscover/autodiscover.json?Email=user%40example."
		       "org&Protocol=ActiveSync&RedirectCount=1",
		       &req, &error),
	    0);
	assert_string_equal(req.email, "user@example.org");
	assert_string_equal(req.protocol, "ActiveSync");
	/* keys and path are case-insensitive; '+' stays '+' */
	assert_int_equal(json_parse("/AutoDiscover/AutoDiscover.JSON?"
				    "protocol=activesync&EMAIL=a+b@c.org",
				    &req, &error),
			 0);
	assert_string_equal(req.email, "a+b@c.org");
	assert_string_equal(req.protocol, "activesync");
	/* Outlook mobile's form: the address in the path */
	assert_int_equal(json_parse("/autodiscover/autodiscover.json/v1.0/"
				    "jo%40example.org?Protocol=ActiveSync",
				    &req, &error),
			 0);
	assert_string_equal(req.email, "jo@example.org");
	/* nothing at all: parses, build answers InvalidRequest */
	assert_int_equal(
	    json_parse("/autodiscover/autodiscover.json", &req, &error), 0);
	assert_string_equal(req.email, "");
	assert_string_equal(req.protocol, "");

	assert_int_equal(json_parse("/autodiscover/autodiscover.json?Email=%4",
				    &req, &error),
			 -1);
	assert_string_equal(error, "malformed percent escape");
	assert_int_equal(json_parse("/autodiscover/autodiscover.json?Email=%zz",
				    &req, &error),
			 -1);
	assert_int_equal(
	    json_parse("/autodiscover/autodiscover.json?Email=a%00@b.org", &req,
		       &error),
	    -1);
	assert_string_equal(error, "NUL byte in a value");
	assert_int_equal(json_parse("/autodiscover/autodiscover.json?"
				    "Protocol=ActiveSync&protocol=Ews",
				    &req, &error),
			 -1);
	assert_string_equal(error, "Protocol given twice");
	assert_int_equal(json_parse("/autodiscover/autodiscover.json/v1.0/"
				    "a@b.org?Email=c@d.org",
				    &req, &error),
			 -1);
	assert_int_equal(
	    json_parse("/autodiscover/autodiscover.json/other", &req, &error),
	    -1);
	assert_int_equal(
	    json_parse("/autodiscover/autodiscover.xml", &req, &error), -1);
	assert_int_equal(
	    json_parse(
		"/autodiscover/autodiscover.json?Protocol="
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		"AAAAAAAAAAAAAAAAAAAAAAAAA",
		&req, &error),
	    -1);
	assert_string_equal(error, "value too long");
	assert_int_equal(json_parse("/autodiscover/autodiscover.json?a&b&c&d&e"
				    "&f&g&h&i&j&k&l&m&n&o&p&q",
				    &req, &error),
			 -1);
	assert_string_equal(error, "too many query parameters");
	assert_int_equal(
	    autodiscover_json_parse("/autodiscover.json\0?x", 21, &req, &error),
	    -1);
	n = (size_t)snprintf(big, sizeof(big), "/autodiscover.json?x=");
	memset(big + n, 'a', sizeof(big) - n - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(json_parse(big, &req, &error), -1);
	assert_string_equal(error, "request target too long");
}

static void
test_json_build(void **state)
{
	const char *url =
	    "https://mail.example.org/Microsoft-Server-ActiveSync";
	struct buf out;
	unsigned status = 0;

	(void)state;
	buf_init(&out, AUTODISCOVER_MAX_RESPONSE_BYTES);
	assert_int_equal(autodiscover_json_build(&out, "a@example.org",
						 "ActiveSync", url, &status),
			 0);
	assert_int_equal(status, 200);
	assert_string_equal(buf_str(&out),
			    "{\"Protocol\":\"ActiveSync\",\"Url\":\"https://"
			    "mail.example.org/Microsoft-Server-ActiveSync\"}");

	buf_reset(&out);
	assert_int_equal(
	    autodiscover_json_build(&out, "a@example.org", "Ews", url, &status),
	    0);
	assert_int_equal(status, 400);
	assert_string_equal(
	    buf_str(&out),
	    "{\"ErrorCode\":\"InvalidProtocol\",\"ErrorMessage\":"
	    "\"The given protocol value \\u0027Ews\\u0027 is "
	    "invalid. Supported values are "
	    "\\u0027ActiveSync\\u0027\"}");

	/* a hostile protocol value is escaped, never echoed raw */
	buf_reset(&out);
	assert_int_equal(autodiscover_json_build(&out, "a@example.org",
						 "\"}</script>\\\n\x01\xff",
						 url, &status),
			 0);
	assert_int_equal(status, 400);
	assert_null(strstr(buf_str(&out), "</script>"));
	assert_non_null(strstr(
	    buf_str(&out), "\\\"}\\u003c/script\\u003e\\\\\\n\\u0001\\ufffd"));

	buf_reset(&out);
	assert_int_equal(autodiscover_json_build(&out, "no-at-sign",
						 "activesync", url, &status),
			 0);
	assert_int_equal(status, 400);
	assert_non_null(strstr(buf_str(&out), "\"ErrorCode\":\"InvalidUser\""));

	buf_reset(&out);
	assert_int_equal(
	    autodiscover_json_build(&out, "", "ActiveSync", url, &status), 0);
	assert_int_equal(status, 400);
	assert_non_null(
	    strstr(buf_str(&out), "\"ErrorCode\":\"InvalidRequest\""));
	buf_free(&out);
}

static void
test_xml_escape(void **state)
{
	struct buf out;

	(void)state;
	buf_init(&out, 64);
	assert_int_equal(
	    autodiscover_xml_escape(&out, "a<b>&\"'\x02\t\xc3\xa9"), 0);
	assert_string_equal(
	    buf_str(&out), "a&lt;b&gt;&amp;&quot;&apos;\xef\xbf\xbd\t\xc3\xa9");
	buf_free(&out);
	/* no room: nothing half-written */
	buf_init(&out, 8);
	assert_int_equal(autodiscover_xml_escape(&out, "<<<<"), -1);
	assert_int_equal(out.len, 0);
	assert_int_equal(autodiscover_json_escape(&out, "\"\"\"\"\"\"\"\""),
			 -1);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_spec_request),
	    cmocka_unit_test(test_parse_variants),
	    cmocka_unit_test(test_missing_address_fallback),
	    cmocka_unit_test(test_dtd_refused),
	    cmocka_unit_test(test_oversized_refused),
	    cmocka_unit_test(test_depth_refused),
	    cmocka_unit_test(test_bad_xml_refused),
	    cmocka_unit_test(test_outlook_schema),
	    cmocka_unit_test(test_build_settings_spec),
	    cmocka_unit_test(test_escape_hostile),
	    cmocka_unit_test(test_build_redirect_and_error),
	    cmocka_unit_test(test_build_failures),
	    cmocka_unit_test(test_address_valid),
	    cmocka_unit_test(test_json_parse),
	    cmocka_unit_test(test_json_build),
	    cmocka_unit_test(test_xml_escape),
	};
	int ret;

	autodiscover_init();
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return ret;
}
