/*
 * mailbox/secret.c: AES-256-GCM sealing round trips (empty and long
 * values, a fresh nonce per seal), and every way opening must fail
 * cleanly -- another key, other associated data (another user or device),
 * any changed byte, a truncated or unknown-version value -- and the key
 * file: created 0600 with 32 bytes, the same key on reload, refused with
 * a readable error when its size or permissions are wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mailbox/secret.h"

static const uint8_t KEY_A[SECRET_KEY_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t KEY_B[SECRET_KEY_BYTES] = {8, 7, 6, 5, 4, 3, 2, 1};

struct fx {
	struct secret_key *a, *b;
	char dir[64];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL ||
	    secret_key_from_bytes(KEY_A, sizeof(KEY_A), &f->a) < 0 ||
	    secret_key_from_bytes(KEY_B, sizeof(KEY_B), &f->b) < 0)
		return -1;
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/easd-secret-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	secret_key_free(&f->a);
	secret_key_free(&f->b);
	(void)nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Seal text for (user, device) under key. */
static void
seal(const struct secret_key *key, int64_t user, const char *device,
     const char *text, uint8_t **sealed_r, size_t *len_r)
{
	uint8_t aad[SECRET_DEVPW_AAD_MAX];
	size_t aad_len = secret_devpw_aad(user, device, aad, sizeof(aad));

	assert_true(aad_len > 0);
	assert_int_equal(secret_seal(key, aad, aad_len, (const uint8_t *)text,
				     strlen(text), sealed_r, len_r),
			 0);
}

/* 0 and the text, or -1 (and nothing returned). */
static int
open_as(const struct secret_key *key, int64_t user, const char *device,
	const uint8_t *sealed, size_t len, char **text_r)
{
	uint8_t aad[SECRET_DEVPW_AAD_MAX], *plain = (uint8_t *)"x";
	size_t aad_len = secret_devpw_aad(user, device, aad, sizeof(aad));
	size_t plain_len = 99;

	*text_r = NULL;
	if (secret_open(key, aad, aad_len, sealed, len, &plain, &plain_len) <
	    0) {
		assert_null(plain);
		assert_int_equal(plain_len, 0);
		return -1;
	}
	assert_int_equal(strlen((const char *)plain), plain_len);
	*text_r = strdup((const char *)plain);
	secret_plain_free(&plain, plain_len);
	assert_null(plain);
	return 0;
}

static void
test_round_trip(void **state)
{
	struct fx *f = *state;
	uint8_t *s1 = NULL, *s2 = NULL;
	size_t l1, l2;
	char *text, big[2000];

	seal(f->a, 7, "PHONE1", "recover-42", &s1, &l1);
	assert_int_equal(l1, strlen("recover-42") + SECRET_OVERHEAD);
	assert_int_equal(s1[0], SECRET_VERSION);
	assert_null(memmem(s1, l1, "recover-42", 10));
	assert_int_equal(open_as(f->a, 7, "PHONE1", s1, l1, &text), 0);
	assert_string_equal(text, "recover-42");
	free(text);
	/* The same value sealed twice differs (a fresh nonce). */
	seal(f->a, 7, "PHONE1", "recover-42", &s2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_not_equal(s1, s2, l1);
	free(s1);
	free(s2);
	/* Empty and long values. */
	seal(f->a, 7, "PHONE1", "", &s1, &l1);
	assert_int_equal(l1, SECRET_OVERHEAD);
	assert_int_equal(open_as(f->a, 7, "PHONE1", s1, l1, &text), 0);
	assert_string_equal(text, "");
	free(text);
	free(s1);
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	seal(f->a, 7, "PHONE1", big, &s1, &l1);
	assert_int_equal(open_as(f->a, 7, "PHONE1", s1, l1, &text), 0);
	assert_string_equal(text, big);
	free(text);
	free(s1);
}

static void
test_wrong_key_fails(void **state)
{
	struct fx *f = *state;
	uint8_t *s = NULL;
	size_t l;
	char *text;

	seal(f->a, 7, "PHONE1", "recover-42", &s, &l);
	assert_int_equal(open_as(f->b, 7, "PHONE1", s, l, &text), -1);
	assert_int_equal(open_as(f->a, 7, "PHONE1", s, l, &text), 0);
	free(text);
	free(s);
}

static void
test_tampered_fails(void **state)
{
	struct fx *f = *state;
	uint8_t *s = NULL;
	size_t l;
	char *text;

	seal(f->a, 7, "PHONE1", "recover-42", &s, &l);
	/* Every byte: version, nonce, ciphertext, tag. */
	for (size_t i = 0; i < l; i++) {
		s[i] ^= 0x01;
		assert_int_equal(open_as(f->a, 7, "PHONE1", s, l, &text), -1);
		s[i] ^= 0x01;
	}
	/* Truncated, extended, too short to hold anything. */
	assert_int_equal(open_as(f->a, 7, "PHONE1", s, l - 1, &text), -1);
	assert_int_equal(
	    open_as(f->a, 7, "PHONE1", s, SECRET_OVERHEAD - 1, &text), -1);
	assert_int_equal(open_as(f->a, 7, "PHONE1", s, 0, &text), -1);
	assert_int_equal(open_as(f->a, 7, "PHONE1", s, l, &text), 0);
	free(text);
	free(s);
}

static void
test_aad_binding(void **state)
{
	struct fx *f = *state;
	uint8_t *s = NULL;
	size_t l;
	char *text;

	seal(f->a, 7, "PHONE1", "recover-42", &s, &l);
	/* Copied onto another device's or another user's record. */
	assert_int_equal(open_as(f->a, 7, "PHONE2", s, l, &text), -1);
	assert_int_equal(open_as(f->a, 8, "PHONE1", s, l, &text), -1);
	assert_int_equal(open_as(f->a, 7, "PHONE", s, l, &text), -1);
	free(s);
	/* The associated data itself: tag, user, device; bounded. */
	{
		uint8_t aad[SECRET_DEVPW_AAD_MAX];
		char id[SECRET_DEVPW_AAD_MAX];

		assert_int_equal(secret_devpw_aad(1, "AB", aad, sizeof(aad)),
				 sizeof("easd-devpw") + 8 + 2);
		assert_int_equal(aad[sizeof("easd-devpw") + 7], 1);
		memset(id, 'x', sizeof(id) - 1);
		id[sizeof(id) - 1] = 0;
		assert_int_equal(secret_devpw_aad(1, id, aad, sizeof(aad)), 0);
	}
}

static void
test_bad_arguments(void **state)
{
	struct fx *f = *state;
	struct secret_key *k = NULL;
	uint8_t *s = NULL, *big;
	size_t l = 0;

	assert_int_equal(secret_key_from_bytes(KEY_A, 31, &k), -1);
	assert_null(k);
	big = calloc(1, SECRET_MAX_PLAIN_BYTES + 1);
	assert_non_null(big);
	assert_int_equal(
	    secret_seal(f->a, NULL, 0, big, SECRET_MAX_PLAIN_BYTES + 1, &s, &l),
	    -1);
	assert_null(s);
	assert_int_equal(secret_seal(NULL, NULL, 0, big, 1, &s, &l), -1);
	free(big);
}

static void
write_file(const char *path, size_t len, mode_t mode)
{
	uint8_t bytes[64] = {0};
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
test_key_file(void **state)
{
	struct fx *f = *state;
	struct secret_key *k1 = NULL, *k2 = NULL;
	char path[128], *error = NULL;
	struct stat st;
	uint8_t *s = NULL;
	size_t l;
	char *text;

	(void)snprintf(path, sizeof(path), "%s/secret.key", f->dir);
	/* Missing and not to be created. */
	assert_int_equal(secret_key_load(path, false, &k1, &error), -1);
	assert_non_null(strstr(error, path));
	free(error);
	/* Created: 0600, 32 bytes; the same key when read again. */
	assert_int_equal(secret_key_load(path, true, &k1, &error), 0);
	assert_null(error);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, SECRET_KEY_BYTES);
	assert_int_equal(secret_key_load(path, true, &k2, &error), 0);
	seal(k1, 1, "D", "same key", &s, &l);
	assert_int_equal(open_as(k2, 1, "D", s, l, &text), 0);
	assert_string_equal(text, "same key");
	free(text);
	/* Not some fixed key. */
	assert_int_equal(open_as(f->a, 1, "D", s, l, &text), -1);
	free(s);
	secret_key_free(&k1);
	secret_key_free(&k2);
	assert_null(k1);

	/* Readable by others: refused, saying what to do. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(secret_key_load(path, true, &k1, &error), -1);
	assert_null(k1);
	assert_non_null(strstr(error, "chmod 600"));
	assert_non_null(strstr(error, "secret_key_file"));
	free(error);
	/* Wrong sizes. */
	write_file(path, 31, 0600);
	assert_int_equal(secret_key_load(path, true, &k1, &error), -1);
	assert_non_null(strstr(error, "31 bytes"));
	free(error);
	write_file(path, 33, 0600);
	assert_int_equal(secret_key_load(path, true, &k1, &error), -1);
	assert_non_null(strstr(error, "33 bytes"));
	free(error);
	write_file(path, 0, 0600);
	assert_int_equal(secret_key_load(path, true, &k1, &error), -1);
	free(error);
	/* A directory is not a key. */
	assert_int_equal(secret_key_load(f->dir, true, &k1, &error), -1);
	assert_non_null(strstr(error, "not a regular file"));
	free(error);
	/* Its directory missing: a readable error, not a crash. */
	(void)snprintf(path, sizeof(path), "%s/none/secret.key", f->dir);
	assert_int_equal(secret_key_load(path, true, &k1, &error), -1);
	assert_non_null(strstr(error, "cannot create"));
	free(error);
	assert_null(k1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_wrong_key_fails),
	    cmocka_unit_test(test_tampered_fails),
	    cmocka_unit_test(test_aad_binding),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_key_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
