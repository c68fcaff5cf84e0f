/* Unit tests for proto/ashttp.c: both query forms field by field, the
 * header rules, percent-decoding edge cases and every refusal path,
 * including a base64 query truncated at every byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "proto/ashttp.h"
#include "proto/base64.h"

static const struct ashttp_headers hdr140 = {"14.0", NULL, NULL, NULL};

static int
parse(const char *q, const struct ashttp_headers *h, struct ashttp_request *req,
      struct ashttp_error *err)
{
	return ashttp_parse((const uint8_t *)q, strlen(q), h, req, err);
}

/* Expect a refusal with this status and a message containing `needle`. */
static void
expect_fail(const char *q, const struct ashttp_headers *h,
	    enum ashttp_status status, const char *needle)
{
	struct ashttp_request req;
	struct ashttp_error err;

	if (parse(q, h, &req, &err) != -1 || err.status != status ||
	    strstr(err.message, needle) == NULL) {
		print_error("query %s: status %s message \"%s\"\n", q,
			    ashttp_status_name(err.status), err.message);
		fail();
	}
	assert_int_equal(err.http_status, 400);
}

static void
test_plain_all_fields(void **state)
{
	struct ashttp_headers h = {"14.1", "3735928559", "T",
				   "Apple-iPhone9C1/1402.100"};
	struct ashttp_request req;
	struct ashttp_error err;

	(void)state;
	assert_int_equal(
	    parse("Cmd=SmartReply&User=alice%40example.com&DeviceId="
		  "ApplDNPX1234&DeviceType=iPhone&CollectionId=5&ItemId=5%3A12"
		  "&LongId=RgAAAA&Occurrence=2026-01-01T10%3A00%3A00.000Z"
		  "&SaveInSent=T&AttachmentName=a+b.txt",
		  &h, &req, &err),
	    0);
	assert_int_equal(req.form, ASHTTP_FORM_PLAIN);
	assert_int_equal(req.cmd->id, EAS_CMD_SMARTREPLY);
	assert_int_equal(req.version, EAS_VERSION_14_1);
	assert_string_equal(req.user, "alice@example.com");
	assert_string_equal(req.device_id, "ApplDNPX1234");
	assert_string_equal(req.device_type, "iPhone");
	assert_string_equal(req.collection_id, "5");
	assert_string_equal(req.item_id, "5:12");
	assert_string_equal(req.long_id, "RgAAAA");
	assert_string_equal(req.occurrence, "2026-01-01T10:00:00.000Z");
	assert_string_equal(req.attachment_name, "a b.txt");
	assert_true(req.save_in_sent);
	assert_true(req.accept_multipart);
	assert_true(req.has_policy_key);
	assert_int_equal(req.policy_key, 3735928559u);
	assert_false(req.has_locale);
	assert_string_equal(req.user_agent, "Apple-iPhone9C1/1402.100");
	assert_int_equal(err.status, ASHTTP_OK);
}

static void
test_plain_minimal_and_flags(void **state)
{
	struct ashttp_request req;
	struct ashttp_error err;
	struct ashttp_headers h = {"2.5", "0", "F", NULL};

	(void)state;
	assert_int_equal(parse("Cmd=Sync&DeviceId=validate&DeviceType=Android",
			       &hdr140, &req, &err),
			 0);
	assert_string_equal(req.user, "");
	assert_false(req.has_policy_key);
	assert_false(req.save_in_sent);
	assert_false(req.accept_multipart);
	/* "0" is a key: the client's "none yet" of MS-ASPROV */
	assert_int_equal(
	    parse("Cmd=Provision&DeviceId=a&DeviceType=b", &h, &req, &err), 0);
	assert_true(req.has_policy_key);
	assert_int_equal(req.policy_key, 0);
	assert_int_equal(req.version, EAS_VERSION_2_5);
	/* AcceptMultiPart as a query parameter (and empty policy key) */
	h.policy_key = "";
	h.accept_multipart = NULL;
	assert_int_equal(parse("Cmd=ItemOperations&DeviceId=a&DeviceType=b&"
			       "AcceptMultiPart=T",
			       &(struct ashttp_headers){"16.1", "", NULL, NULL},
			       &req, &err),
			 0);
	assert_true(req.accept_multipart);
	assert_false(req.has_policy_key);
	/* case-insensitive names; unknown and empty parameters skipped, and
	 * an unknown parameter's value is never decoded or inspected */
	assert_int_equal(
	    parse("&cmd=Ping&&deviceid=X1&DEVICETYPE=SAMSUNGSMG991B"
		  "&foo=bar&Foo&x=%ZZ&",
		  &hdr140, &req, &err),
	    0);
	assert_int_equal(req.cmd->id, EAS_CMD_PING);
	assert_string_equal(req.device_type, "SAMSUNGSMG991B");
	/* model-like device types with '-', '_' and '.' */
	assert_int_equal(parse("Cmd=Sync&DeviceId=a&DeviceType=SAMSUNG-SM_G991B"
			       ".v2",
			       &hdr140, &req, &err),
			 0);
	assert_string_equal(req.device_type, "SAMSUNG-SM_G991B.v2");
}

static void
test_plain_percent_decoding(void **state)
{
	struct ashttp_request req;
	struct ashttp_error err;

	(void)state;
	/* %XX in names and values, both hex cases; '+' is a space */
	assert_int_equal(parse("%43md=Sync&DeviceId=%41b&DeviceType=a&User="
			       "DOM%5cuser+x%2By",
			       &hdr140, &req, &err),
			 0);
	assert_string_equal(req.device_id, "Ab");
	assert_string_equal(req.user, "DOM\\user x+y");
	expect_fail("Cmd=Sync&DeviceId=a&DeviceType=b&User=%4", &hdr140,
		    ASHTTP_ERR_QUERY_SYNTAX, "User");
	expect_fail("Cmd=Sync&DeviceId=a&DeviceType=b&User=%", &hdr140,
		    ASHTTP_ERR_QUERY_SYNTAX, "User");
	expect_fail("Cmd=Sync&DeviceId=a&DeviceType=b&User=%G0", &hdr140,
		    ASHTTP_ERR_QUERY_SYNTAX, "User");
	/* decoded NUL and controls never reach a field */
	expect_fail("Cmd=Sync&DeviceId=a&DeviceType=b&User=a%00b", &hdr140,
		    ASHTTP_ERR_PARAM_VALUE, "User contains \\x00");
	expect_fail("Cmd=Sync&DeviceId=a&DeviceType=b&ItemId=a%0Ab", &hdr140,
		    ASHTTP_ERR_PARAM_VALUE, "ItemId contains \\x0A");
	expect_fail("Cmd=Sync%00&DeviceId=a&DeviceType=b", &hdr140,
		    ASHTTP_ERR_CMD_UNKNOWN, "Cmd");
	/* an encoded '&' or '=' is data, not structure */
	assert_int_equal(parse("Cmd=Sync&DeviceId=a&DeviceType=b&CollectionId="
			       "x%26y%3Dz",
			       &hdr140, &req, &err),
			 0);
	assert_string_equal(req.collection_id, "x&y=z");
}

static void
test_plain_refusals(void **state)
{
	char q[ASHTTP_MAX_QUERY_BYTES + 64];
	char id[ASHTTP_MAX_DEVICE_ID_BYTES + 2];

	(void)state;
	expect_fail("", &hdr140, ASHTTP_ERR_QUERY_MISSING, "no query");
	expect_fail("Cmd=Bogus&DeviceId=a&DeviceType=b", &hdr140,
		    ASHTTP_ERR_CMD_UNKNOWN, "Cmd");
	expect_fail("Cmd=sync&DeviceId=a&DeviceType=b", &hdr140,
		    ASHTTP_ERR_CMD_UNKNOWN, "Cmd");
	expect_fail("Cmd=&DeviceId=a&DeviceType=b", &hdr140,
		    ASHTTP_ERR_CMD_MISSING, "empty");
	expect_fail("DeviceId=a&DeviceType=b", &hdr140, ASHTTP_ERR_CMD_MISSING,
		    "missing");
	expect_fail("Cmd=Sync&DeviceType=b", &hdr140, ASHTTP_ERR_DEVICE_ID,
		    "missing");
	expect_fail("Cmd=Sync&DeviceId=a", &hdr140, ASHTTP_ERR_DEVICE_TYPE,
		    "missing");
	expect_fail("Cmd=Sync&DeviceId=a/b&DeviceType=b", &hdr140,
		    ASHTTP_ERR_DEVICE_ID, "DeviceId contains '/'");
	expect_fail("Cmd=Sync&DeviceId=..%2F..&DeviceType=b", &hdr140,
		    ASHTTP_ERR_DEVICE_ID, "'.'");
	expect_fail("Cmd=Sync&DeviceId=a+b&DeviceType=b", &hdr140,
		    ASHTTP_ERR_DEVICE_ID, "\\x20");
	expect_fail("Cmd=Sync&DeviceId=&DeviceType=b", &hdr140,
		    ASHTTP_ERR_DEVICE_ID, "empty");
	expect_fail("Cmd=Sync&DeviceId&DeviceType=b", &hdr140,
		    ASHTTP_ERR_PARAM_VALUE, "DeviceId has no value");
	expect_fail("Cmd=Sync&DeviceId=a&DeviceType=a%2Fb", &hdr140,
		    ASHTTP_ERR_DEVICE_TYPE, "DeviceType contains '/'");
	expect_fail("Cmd=Sync&DeviceId=a&DeviceType=..", &hdr140,
		    ASHTTP_ERR_DEVICE_TYPE, "starts with '.'");
	expect_fail("Cmd=Sync&DeviceId=a&DeviceType=i+Phone", &hdr140,
		    ASHTTP_ERR_DEVICE_TYPE, "\\x20");
	expect_fail("Cmd=Sync&DeviceId=a&DeviceType=b&User=x&User=x", &hdr140,
		    ASHTTP_ERR_PARAM_REPEATED, "User given more than once");
	expect_fail("Cmd=Sync&cmd=Ping&DeviceId=a&DeviceType=b", &hdr140,
		    ASHTTP_ERR_PARAM_REPEATED, "Cmd");
	expect_fail("Cmd=SendMail&DeviceId=a&DeviceType=b&SaveInSent=yes",
		    &hdr140, ASHTTP_ERR_PARAM_VALUE,
		    "SaveInSent must be T or F");
	/* over-long values at their own limits */
	memset(id, 'a', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	(void)snprintf(q, sizeof(q), "Cmd=Sync&DeviceType=b&DeviceId=%s", id);
	expect_fail(q, &hdr140, ASHTTP_ERR_DEVICE_ID, "longer than 64");
	id[sizeof(id) - 2] = '\0'; /* exactly 64: accepted */
	(void)snprintf(q, sizeof(q), "Cmd=Sync&DeviceType=b&DeviceId=%s", id);
	{
		struct ashttp_request req;
		struct ashttp_error err;

		assert_int_equal(parse(q, &hdr140, &req, &err), 0);
		assert_int_equal(strlen(req.device_id), 64);
	}
	(void)snprintf(q, sizeof(q), "Cmd=Sync&DeviceId=a&DeviceType=%s%s", id,
		       "x");
	expect_fail(q, &hdr140, ASHTTP_ERR_DEVICE_TYPE, "longer than 64");
	memset(q, 'a', sizeof(q));
	memcpy(q, "Cmd=Sync&DeviceId=a&DeviceType=b&ItemId=", 40);
	q[40 + ASHTTP_MAX_ID_BYTES + 1] = '\0';
	expect_fail(q, &hdr140, ASHTTP_ERR_PARAM_TOO_LONG, "ItemId longer");
	memset(q, 'a', sizeof(q));
	q[ASHTTP_MAX_QUERY_BYTES + 1] = '\0';
	memcpy(q, "Cmd=Sync&", 9);
	expect_fail(q, &hdr140, ASHTTP_ERR_QUERY_TOO_LONG, "2048");
	/* too many (unknown) parameters */
	{
		size_t n = 0;
		int i;

		n += (size_t)snprintf(q, sizeof(q),
				      "Cmd=Sync&DeviceId=a&DeviceType=b");
		for (i = 0; i < ASHTTP_MAX_PARAMS; i++)
			n +=
			    (size_t)snprintf(q + n, sizeof(q) - n, "&x%d=1", i);
		expect_fail(q, &hdr140, ASHTTP_ERR_QUERY_SYNTAX,
			    "more than 32");
	}
}

static void
test_headers(void **state)
{
	const char *q = "Cmd=Sync&DeviceId=a&DeviceType=b";
	char ua[ASHTTP_MAX_USER_AGENT_BYTES + 2];

	(void)state;
	expect_fail(q, NULL, ASHTTP_ERR_VERSION_MISSING,
		    "MS-ASProtocolVersion");
	expect_fail(q, &(struct ashttp_headers){"", NULL, NULL, NULL},
		    ASHTTP_ERR_VERSION_MISSING, "missing");
	expect_fail(q, &(struct ashttp_headers){"1.0", NULL, NULL, NULL},
		    ASHTTP_ERR_VERSION_UNSUPPORTED, "2.5,12.0");
	expect_fail(q, &(struct ashttp_headers){"14.0x", NULL, NULL, NULL},
		    ASHTTP_ERR_VERSION_UNSUPPORTED, "MS-ASProtocolVersion");
	expect_fail(q, &(struct ashttp_headers){"14.0", "-1", NULL, NULL},
		    ASHTTP_ERR_POLICY_KEY, "X-MS-PolicyKey");
	expect_fail(q,
		    &(struct ashttp_headers){"14.0", "4294967296", NULL, NULL},
		    ASHTTP_ERR_POLICY_KEY, "32-bit");
	expect_fail(q, &(struct ashttp_headers){"14.0", "12 ", NULL, NULL},
		    ASHTTP_ERR_POLICY_KEY, "X-MS-PolicyKey");
	expect_fail(q, &(struct ashttp_headers){"14.0", NULL, "yes", NULL},
		    ASHTTP_ERR_HEADER, "MS-ASAcceptMultiPart");
	expect_fail(q, &(struct ashttp_headers){"14.0", NULL, NULL, "a\tb"},
		    ASHTTP_ERR_HEADER, "User-Agent contains \\x09");
	memset(ua, 'u', sizeof(ua) - 1);
	ua[sizeof(ua) - 1] = '\0';
	expect_fail(q, &(struct ashttp_headers){"14.0", NULL, NULL, ua},
		    ASHTTP_ERR_HEADER, "User-Agent longer");
	/* command outside its protocol versions */
	expect_fail("Cmd=GetAttachment&DeviceId=a&DeviceType=b&"
		    "AttachmentName=1%3A2",
		    &hdr140, ASHTTP_ERR_CMD_VERSION,
		    "GetAttachment is not part of protocol 14.0");
	expect_fail("Cmd=Find&DeviceId=a&DeviceType=b",
		    &(struct ashttp_headers){"16.0", NULL, NULL, NULL},
		    ASHTTP_ERR_CMD_VERSION, "Find");
}

static void
test_policy_key_parse(void **state)
{
	uint32_t k = 7;

	(void)state;
	assert_int_equal(ashttp_parse_policy_key("4294967295", &k), 0);
	assert_int_equal(k, 4294967295u);
	assert_int_equal(ashttp_parse_policy_key("0000000001", &k), 0);
	assert_int_equal(k, 1);
	assert_int_equal(ashttp_parse_policy_key("00000000001", &k), -1);
	assert_int_equal(ashttp_parse_policy_key("", &k), -1);
	assert_int_equal(ashttp_parse_policy_key("+1", &k), -1);
	assert_int_equal(ashttp_parse_policy_key("0x10", &k), -1);
}

/* The spec's example: Sync, 14.0, en-US, "v140Device", "SmartPhone". */
static void
test_base64_spec_example(void **state)
{
	struct ashttp_request req;
	struct ashttp_error err;

	(void)state;
	assert_int_equal(
	    parse("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l", NULL, &req, &err), 0);
	assert_int_equal(req.form, ASHTTP_FORM_BASE64);
	assert_int_equal(req.version, EAS_VERSION_14_0);
	assert_int_equal(req.cmd->id, EAS_CMD_SYNC);
	assert_true(req.has_locale);
	assert_int_equal(req.locale, 0x0409);
	/* raw bytes "v140Device" in uppercase hex */
	assert_string_equal(req.device_id, "76313430446576696365");
	assert_false(req.has_policy_key);
	assert_string_equal(req.device_type, "SmartPhone");
	/* headers may still add AcceptMultiPart and User-Agent, but never
	 * override the version and key that the query carries */
	assert_int_equal(parse("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l",
			       &(struct ashttp_headers){"2.5", "99", "T", "UA"},
			       &req, &err),
			 0);
	assert_int_equal(req.version, EAS_VERSION_14_0);
	assert_false(req.has_policy_key);
	assert_true(req.accept_multipart);
	assert_string_equal(req.user_agent, "UA");
}

/* Encode raw bytes as a base64 query into q (NUL-terminated). */
static void
encode(const uint8_t *raw, size_t len, char *q, size_t cap)
{
	assert_int_equal(base64_encode(raw, len, q, cap), 0);
}

/* A Windows Mail-like SmartForward: 16-byte GUID, policy key, every
 * parameter tag. */
static const uint8_t winmail[] = {
    141,  2,    0x07, 0x04, /* 14.1, SmartForward, de-DE */
    16,   0x3A, 0x9F, 0x01, 0x22, 0x5B, 0xC4, 0x4D, 0x1E, /* device id */
    0x8A, 0x00, 0xFF, 0x10, 0x42, 0x99, 0xAB, 0xCD,       /* ... */
    4,    0x78, 0x56, 0x34, 0x12,                         /* policy key */
    11,   'W',  'i',  'n',  'd',  'o',  'w',  's',  'M',  'a',
    'i',  'l',  8,    5,    'a',  'l',  'i',  'c',  'e', /* User */
    1,    2,    '1',  '7',                               /* CollectionId */
    3,    4,    '1',  '7',  ':',  '3',                   /* ItemId */
    4,    2,    'L',  'I',                               /* LongId */
    6,    3,    'o',  'c',  'c',                         /* Occurrence */
    0,    3,    'a',  't',  't',                         /* AttachmentName */
    2,    4,    'n',  'a',  'm',  'e',                   /* CollectionName */
    5,    1,    '9',                                     /* ParentId */
    7,    1,    0x03,                                    /* Options */
};

static void
test_base64_all_fields(void **state)
{
	char q[512];
	struct ashttp_request req;
	struct ashttp_error err;

	(void)state;
	encode(winmail, sizeof(winmail), q, sizeof(q));
	assert_int_equal(parse(q, NULL, &req, &err), 0);
	assert_int_equal(req.version, EAS_VERSION_14_1);
	assert_int_equal(req.cmd->id, EAS_CMD_SMARTFORWARD);
	assert_int_equal(req.locale, 0x0407);
	assert_string_equal(req.device_id, "3A9F01225BC44D1E8A00FF104299ABCD");
	assert_true(req.has_policy_key);
	assert_int_equal(req.policy_key, 0x12345678u);
	assert_string_equal(req.device_type, "WindowsMail");
	assert_string_equal(req.user, "alice");
	assert_string_equal(req.collection_id, "17");
	assert_string_equal(req.item_id, "17:3");
	assert_string_equal(req.long_id, "LI");
	assert_string_equal(req.occurrence, "occ");
	assert_string_equal(req.attachment_name, "att");
	assert_string_equal(req.collection_name, "name");
	assert_string_equal(req.parent_id, "9");
	assert_true(req.save_in_sent);
	assert_true(req.accept_multipart);
}

static void
test_base64_escaped_and_unpadded(void **state)
{
	char q[512], esc[1024];
	size_t i, n = 0;
	struct ashttp_request req;
	struct ashttp_error err;

	(void)state;
	encode(winmail, sizeof(winmail), q, sizeof(q));
	/* percent-escape '+', '/' and '=' as a URL encoder would */
	for (i = 0; q[i] != '\0'; i++) {
		if (q[i] == '+' || q[i] == '/' || q[i] == '=')
			n += (size_t)snprintf(esc + n, sizeof(esc) - n,
					      "%%%02X", (unsigned char)q[i]);
		else
			esc[n++] = q[i];
	}
	esc[n] = '\0';
	assert_int_equal(parse(esc, NULL, &req, &err), 0);
	assert_string_equal(req.device_type, "WindowsMail");
	/* and without padding */
	n = strlen(q);
	while (n > 0 && q[n - 1] == '=')
		q[--n] = '\0';
	assert_int_equal(parse(q, NULL, &req, &err), 0);
	assert_string_equal(req.parent_id, "9");
}

/* Every proper prefix of the byte sequence is refused (never read past the
 * end), except the prefixes that end exactly on a field boundary after the
 * device type, which are complete requests with fewer parameters. */
static void
test_base64_truncated_everywhere(void **state)
{
	char q[512];
	struct ashttp_request req;
	struct ashttp_error err;
	size_t cut, head = 4 + 17 + 5 + 12, accepted = 0;

	(void)state;
	for (cut = 0; cut < sizeof(winmail); cut++) {
		encode(winmail, cut, q, sizeof(q));
		if (parse(q, NULL, &req, &err) == 0) {
			assert_true(cut >= head);
			accepted++;
			continue;
		}
		assert_true(err.status == ASHTTP_ERR_BASE64_TRUNCATED ||
			    err.status == ASHTTP_ERR_QUERY_MISSING ||
			    err.status == ASHTTP_ERR_DEVICE_TYPE ||
			    err.status == ASHTTP_ERR_BASE64_FIELD);
		if (cut > 0 && cut < head)
			assert_int_equal(err.status,
					 ASHTTP_ERR_BASE64_TRUNCATED);
	}
	/* head itself plus one per complete parameter but the last */
	assert_int_equal(accepted, 9);
}

static void
test_base64_refusals(void **state)
{
	uint8_t raw[sizeof(winmail) + 8];
	char q[512];

	(void)state;
	expect_fail("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob", NULL,
		    ASHTTP_ERR_BASE64, "base64"); /* length % 4 == 1 */
	expect_fail("jAAJB==", NULL, ASHTTP_ERR_BASE64, "base64");
	/* an inner '=' makes it a plain query, which then lacks Cmd */
	expect_fail("jA=AJBAp2", NULL, ASHTTP_ERR_CMD_MISSING, "Cmd");
	expect_fail("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l%2", NULL,
		    ASHTTP_ERR_QUERY_SYNTAX, "%-escape");
	expect_fail("jAAJ%00Ap2", NULL, ASHTTP_ERR_BASE64, "base64");

#define MUTATE(off, val, status, needle)                    \
	do {                                                \
		memcpy(raw, winmail, sizeof(winmail));      \
		raw[off] = (val);                           \
		encode(raw, sizeof(winmail), q, sizeof(q)); \
		expect_fail(q, NULL, status, needle);       \
	} while (0)
	MUTATE(0, 25, ASHTTP_ERR_VERSION_UNSUPPORTED, "2.5 cannot");
	MUTATE(0, 120, ASHTTP_ERR_VERSION_UNSUPPORTED, "12.0 cannot");
	MUTATE(0, 100, ASHTTP_ERR_VERSION_UNSUPPORTED, "byte 100");
	MUTATE(1, 24, ASHTTP_ERR_CMD_UNKNOWN, "command code 24");
	MUTATE(1, 23, ASHTTP_ERR_CMD_VERSION, "Find");
	MUTATE(4, 0, ASHTTP_ERR_DEVICE_ID, "empty");
	MUTATE(4, 33, ASHTTP_ERR_DEVICE_ID, "33 bytes");
	MUTATE(21, 3, ASHTTP_ERR_POLICY_KEY, "length is 3");
	MUTATE(27, '/', ASHTTP_ERR_DEVICE_TYPE, "DeviceType contains '/'");
	MUTATE(26, 0, ASHTTP_ERR_DEVICE_TYPE, "empty");
	MUTATE(38, 9, ASHTTP_ERR_BASE64_FIELD, "unknown parameter tag 9");
	MUTATE(38, 200, ASHTTP_ERR_BASE64_FIELD, "tag 200");
	MUTATE(38, 1, ASHTTP_ERR_PARAM_REPEATED, "CollectionId");
	MUTATE(40, 0x01, ASHTTP_ERR_PARAM_VALUE, "User contains \\x01");
	MUTATE(sizeof(winmail) - 2, 2, ASHTTP_ERR_BASE64_TRUNCATED, "Options");
#undef MUTATE
	/* Options must be exactly one byte */
	memcpy(raw, winmail, sizeof(winmail));
	raw[sizeof(winmail) - 2] = 0;
	raw[sizeof(winmail) - 1] = 7;
	encode(raw, sizeof(winmail), q, sizeof(q));
	expect_fail(q, NULL, ASHTTP_ERR_BASE64_FIELD, "Options is 0 bytes");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_all_fields),
	    cmocka_unit_test(test_plain_minimal_and_flags),
	    cmocka_unit_test(test_plain_percent_decoding),
	    cmocka_unit_test(test_plain_refusals),
	    cmocka_unit_test(test_headers),
	    cmocka_unit_test(test_policy_key_parse),
	    cmocka_unit_test(test_base64_spec_example),
	    cmocka_unit_test(test_base64_all_fields),
	    cmocka_unit_test(test_base64_escaped_and_unpadded),
	    cmocka_unit_test(test_base64_truncated_everywhere),
	    cmocka_unit_test(test_base64_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
