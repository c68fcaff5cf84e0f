/*
 * yescrypt hashing and constant-time verification (password.h).  The
 * salt comes from libxcrypt's crypt_gensalt_rn with a NULL entropy source,
 * which reads the kernel's random generator.  The crypt_data scratch area
 * holds derived secrets and is wiped with OPENSSL_cleanse after each use
 * (style rule 17).
 */
#include "mailbox/password.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "proto/limits.h"

int
password_hash(const char *password, char *hash, size_t hash_size)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *out;
	int ret = -1;

	if (password == NULL ||
	    strnlen(password, STORE_MAX_PASSWORD_BYTES + 1) >
		STORE_MAX_PASSWORD_BYTES)
		return -1;
	/* count 0: libxcrypt's default cost for yescrypt. */
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL)
		return -1;
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return -1;
	out = crypt_rn(password, salt, cd, sizeof(*cd));
	if (out != NULL && out[0] != '*' && strlen(out) < hash_size) {
		memcpy(hash, out, strlen(out) + 1);
		ret = 0;
	}
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ret;
}

bool
password_verify(const char *password, const char *hash)
{
	struct crypt_data *cd;
	const char *out;
	size_t len;
	bool ok = false;

	if (password == NULL || hash == NULL || hash[0] == 0 ||
	    strnlen(password, STORE_MAX_PASSWORD_BYTES + 1) >
		STORE_MAX_PASSWORD_BYTES)
		return false;
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return false;
	out = crypt_rn(password, hash, cd, sizeof(*cd));
	/* A failure output starts with '*'; lengths are not secret (both are
	 * public hash formats), the bytes are compared in constant time. */
	len = strlen(hash);
	if (out != NULL && out[0] != '*' && strlen(out) == len)
		ok = CRYPTO_memcmp(out, hash, len) == 0;
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ok;
}
