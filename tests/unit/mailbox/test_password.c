/* Unit tests for mailbox/password.c: yescrypt hashes verify, wrong
 * passwords and malformed hashes do not, salts differ, limits hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/password.h"
#include "proto/limits.h"

static void
test_hash_and_verify(void **state)
{
	char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];

	(void)state;
	assert_int_equal(password_hash("correct horse", h1, sizeof(h1)), 0);
	assert_memory_equal(h1, "$y$", 3);
	assert_true(password_verify("correct horse", h1));
	assert_false(password_verify("correct horsE", h1));
	assert_false(password_verify("", h1));
	/* A fresh salt every time. */
	assert_int_equal(password_hash("correct horse", h2, sizeof(h2)), 0);
	assert_string_not_equal(h1, h2);
	assert_true(password_verify("correct horse", h2));
	/* Too small an output buffer. */
	assert_int_equal(password_hash("x", h2, 8), -1);
}

static void
test_malformed_hashes(void **state)
{
	(void)state;
	assert_false(password_verify("x", ""));
	assert_false(password_verify("x", "*"));
	assert_false(password_verify("x", "$y$"));
	assert_false(password_verify("x", "$y$j9T$garbage"));
	assert_false(password_verify("x", "not a hash at all"));
	assert_false(password_verify(NULL, "$y$"));
	assert_false(password_verify("x", NULL));
}

static void
test_other_methods(void **state)
{
	/* An imported SHA-512 crypt hash ("password", from /etc/shadow
	 * style tooling) verifies too. */
	static const char sha512[] =
	    "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterL"
	    "p8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/";

	(void)state;
	assert_true(password_verify("password", sha512));
	assert_false(password_verify("Password", sha512));
}

static void
test_length_limit(void **state)
{
	char h[PASSWORD_HASH_MAX];
	char *big = malloc(STORE_MAX_PASSWORD_BYTES + 2);

	(void)state;
	memset(big, 'a', STORE_MAX_PASSWORD_BYTES + 1);
	big[STORE_MAX_PASSWORD_BYTES + 1] = 0;
	assert_int_equal(password_hash(big, h, sizeof(h)), -1);
	big[STORE_MAX_PASSWORD_BYTES] = 0;
	assert_int_equal(password_hash(big, h, sizeof(h)), 0);
	assert_true(password_verify(big, h));
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_and_verify),
	    cmocka_unit_test(test_malformed_hashes),
	    cmocka_unit_test(test_other_methods),
	    cmocka_unit_test(test_length_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
