/* Unit tests for cas/auth.c: Basic parsing (user forms, UTF-8 and
 * ISO-8859-1, malformed input), the credential cache (TTL, drop on
 * password change) and throttling with an injected clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cas/auth.h"

/* Build "Basic base64(raw)" for raw bytes. */
static void
basic(const char *raw, size_t len, char *out, size_t out_size)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = 0;

	n += (size_t)snprintf(out, out_size, "Basic ");
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)(uint8_t)raw[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)(uint8_t)raw[i + 1] << 8;
		if (i + 2 < len)
			v |= (uint8_t)raw[i + 2];
		out[n++] = tbl[(v >> 18) & 63];
		out[n++] = tbl[(v >> 12) & 63];
		out[n++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		out[n++] = i + 2 < len ? tbl[v & 63] : '=';
	}
	out[n] = 0;
}

static int
parse(const char *raw, struct cas_credentials *cred)
{
	char hdr[2048];
	const char *err = NULL;

	basic(raw, strlen(raw), hdr, sizeof(hdr));
	return cas_auth_parse_basic((const uint8_t *)hdr, strlen(hdr), cred,
				    &err);
}

static void
test_user_forms(void **state)
{
	struct cas_credentials c;

	(void)state;
	assert_int_equal(parse("alice:secret", &c), 0);
	assert_string_equal(c.login, "alice");
	assert_string_equal(c.user, "alice");
	assert_string_equal(c.domain, "");
	assert_string_equal(c.password, "secret");
	assert_int_equal(parse("alice@example.org:pa:ss", &c), 0);
	assert_string_equal(c.user, "alice");
	assert_string_equal(c.domain, "example.org");
	assert_string_equal(c.password, "pa:ss");
	assert_int_equal(parse("EXAMPLE\\alice:x", &c), 0);
	assert_string_equal(c.login, "EXAMPLE\\alice");
	assert_string_equal(c.user, "alice");
	assert_string_equal(c.domain, "EXAMPLE");
	assert_false(c.latin1);
	cas_credentials_wipe(&c);
	assert_int_equal(c.password[0], 0);
}

static void
test_charsets(void **state)
{
	struct cas_credentials c;

	(void)state;
	/* UTF-8 kept as is: "jürgen:pässword" */
	assert_int_equal(parse("j\xc3\xbcrgen:p\xc3\xa4ssword", &c), 0);
	assert_string_equal(c.user, "j\xc3\xbcrgen");
	assert_string_equal(c.password, "p\xc3\xa4ssword");
	assert_false(c.latin1);
	/* ISO-8859-1 (Outlook desktop) converted to UTF-8. */
	assert_int_equal(parse("j\xfcrgen:p\xe4ssword", &c), 0);
	assert_string_equal(c.user, "j\xc3\xbcrgen");
	assert_string_equal(c.password, "p\xc3\xa4ssword");
	assert_true(c.latin1);
	/* Overlong UTF-8 is not UTF-8: read as Latin-1. */
	assert_int_equal(parse("a:\xc0\xaf", &c), 0);
	assert_true(c.latin1);
	assert_string_equal(c.password, "\xc3\x80\xc2\xaf");
}

static void
test_malformed(void **state)
{
	struct cas_credentials c;
	const char *err = NULL;
	char big[1200];
	const char *bad[] = {
	    "Bearer abc", "Basic",        "Basic ",
	    "Basic !!!!", "Basic YWJj=x", "Basicx YWxpY2U6cw==",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cas_auth_parse_basic((const uint8_t *)bad[i],
						      strlen(bad[i]), &c, &err),
				 -1);
		assert_non_null(err);
	}
	assert_int_equal(parse("nocolon", &c), -1);
	assert_int_equal(parse(":pw", &c), -1);
	assert_int_equal(parse("user:", &c), -1);
	assert_int_equal(parse("DOM\\:pw", &c), -1);
	assert_int_equal(parse("@dom:pw", &c), -1);
	assert_int_equal(parse("us\ter:pw", &c), -1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	big[10] = ':';
	assert_int_equal(parse(big, &c), -1);
	/* Case-insensitive scheme, extra spaces. */
	assert_int_equal(cas_auth_parse_basic((const uint8_t *)"bAsIc   YTpi  ",
					      14, &c, &err),
			 0);
	assert_string_equal(c.login, "a");
	assert_string_equal(c.password, "b");
}

static void
test_cache(void **state)
{
	struct cas_auth *auth = NULL;
	struct cas_credentials c, wrong;
	uint8_t d[CAS_AUTH_DIGEST_BYTES], dw[CAS_AUTH_DIGEST_BYTES];
	size_t nc, nt;

	(void)state;
	assert_int_equal(cas_auth_new(300, &auth), 0);
	assert_int_equal(parse("Alice@example.org:secret", &c), 0);
	assert_int_equal(parse("Alice@example.org:secreT", &wrong), 0);
	cas_auth_digest(auth, &c, d);
	cas_auth_digest(auth, &wrong, dw);
	assert_memory_not_equal(d, dw, sizeof(d));
	assert_false(cas_auth_cache_lookup(auth, d, 100));
	assert_int_equal(cas_auth_cache_add(auth, d, c.user, 100), 0);
	assert_true(cas_auth_cache_lookup(auth, d, 399));
	assert_false(cas_auth_cache_lookup(auth, dw, 101));
	assert_false(cas_auth_cache_lookup(auth, d, 400)); /* TTL over */
	assert_int_equal(cas_auth_cache_add(auth, d, c.user, 500), 0);
	/* Password change: drop by user name, any case. */
	assert_int_equal(cas_auth_drop_user(auth, "alice"), 1);
	assert_false(cas_auth_cache_lookup(auth, d, 501));
	assert_int_equal(cas_auth_cache_add(auth, d, c.user, 600), 0);
	assert_int_equal(cas_auth_sweep(auth, 899), 0);
	assert_int_equal(cas_auth_sweep(auth, 900), 1);
	cas_auth_counts(auth, &nc, &nt);
	assert_int_equal(nc, 0);
	cas_auth_free(&auth);
	assert_null(auth);
	/* Keys are per process: another instance digests differently. */
	assert_int_equal(cas_auth_new(300, &auth), 0);
	cas_auth_digest(auth, &c, dw);
	assert_memory_not_equal(d, dw, sizeof(d));
	cas_auth_free(&auth);
}

static void
test_throttle(void **state)
{
	struct cas_auth *auth = NULL;
	unsigned retry = 0;
	uint64_t now = 1000;
	unsigned i;

	(void)state;
	assert_int_equal(cas_auth_new(300, &auth), 0);
	/* The allowance passes unthrottled. */
	for (i = 0; i < CAS_AUTH_FREE_FAILURES_USER_IP; i++) {
		assert_false(
		    cas_auth_throttled(auth, "bob", "192.0.2.1", now, &retry));
		cas_auth_record_failure(auth, "bob", "192.0.2.1", now);
	}
	assert_false(cas_auth_throttled(auth, "bob", "192.0.2.1", now, &retry));
	/* Then 1, 2, 4 seconds of backoff. */
	cas_auth_record_failure(auth, "bob", "192.0.2.1", now);
	assert_true(cas_auth_throttled(auth, "BOB", "192.0.2.1", now, &retry));
	assert_int_equal(retry, 1);
	assert_false(
	    cas_auth_throttled(auth, "bob", "192.0.2.1", now + 1, &retry));
	cas_auth_record_failure(auth, "bob", "192.0.2.1", now + 1);
	assert_true(
	    cas_auth_throttled(auth, "bob", "192.0.2.1", now + 1, &retry));
	assert_int_equal(retry, 2);
	cas_auth_record_failure(auth, "bob", "192.0.2.1", now + 3);
	assert_true(
	    cas_auth_throttled(auth, "bob", "192.0.2.1", now + 3, &retry));
	assert_int_equal(retry, 4);
	/* Same user from another address, another user here: unaffected. */
	assert_false(
	    cas_auth_throttled(auth, "bob", "198.51.100.7", now + 3, &retry));
	assert_false(
	    cas_auth_throttled(auth, "carol", "192.0.2.1", now + 3, &retry));
	/* Backoff is capped. */
	for (i = 0; i < 30; i++)
		cas_auth_record_failure(auth, "bob", "192.0.2.9", now);
	assert_true(cas_auth_throttled(auth, "bob", "192.0.2.9", now, &retry));
	assert_int_equal(retry, CAS_AUTH_MAX_BACKOFF_S);
	/* Spraying many users from one address trips the per-IP counter. */
	for (i = 0; i < CAS_AUTH_FREE_FAILURES_IP + 1; i++) {
		char user[16];

		(void)snprintf(user, sizeof(user), "u%u", i);
		cas_auth_record_failure(auth, user, "203.0.113.5", now);
	}
	assert_true(
	    cas_auth_throttled(auth, "newuser", "203.0.113.5", now, &retry));
	assert_false(
	    cas_auth_throttled(auth, "newuser", "203.0.113.6", now, &retry));
	/* A quiet window forgets; success clears (user, ip). */
	cas_auth_record_failure(auth, "dave", "192.0.2.2", now);
	cas_auth_record_success(auth, "dave", "192.0.2.2", now);
	now += CAS_AUTH_WINDOW_S + CAS_AUTH_MAX_BACKOFF_S;
	assert_false(cas_auth_throttled(auth, "bob", "192.0.2.1", now, &retry));
	assert_true(cas_auth_sweep(auth, now) > 0);
	cas_auth_free(&auth);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_user_forms), cmocka_unit_test(test_charsets),
	    cmocka_unit_test(test_malformed),  cmocka_unit_test(test_cache),
	    cmocka_unit_test(test_throttle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
