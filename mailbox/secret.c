/*
 * The mailbox's secret key and AES-256-GCM sealing (see secret.h): the key
 * file's creation and checks, and seal/open through OpenSSL's EVP AEAD
 * interface.  No state besides the key; every call is thread-safe (each
 * makes its own EVP context).
 */
#include "mailbox/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct secret_key {
	uint8_t bytes[SECRET_KEY_BYTES];
};

/* The version byte, then the caller's associated data: both
 * authenticated. */
#define SECRET_AAD_PREFIX_BYTES 1

static int
key_error(char **error_r, const char *path, const char *what)
{
	char text[PATH_MAX + 256];

	(void)snprintf(text, sizeof(text), "[mailbox] secret_key_file %s: %s",
		       path, what);
	*error_r = strdup(text);
	return -1;
}

/* fsync the directory holding path, so that a created file survives a
 * crash. */
static int
sync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd, rc;

	if (slash == NULL) {
		dir[0] = '.';
		n = 1;
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir))
			return -1;
		memcpy(dir, path, n);
	}
	dir[n] = 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	(void)close(fd);
	return rc;
}

/* Make a new key file; 0 when made, 1 when it appeared meanwhile (another
 * process won the race: read that one), -1 with *error_r. */
static int
key_create(const char *path, char **error_r)
{
	uint8_t bytes[SECRET_KEY_BYTES];
	char what[256];
	ssize_t w;
	int fd, ret = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return 1;
	if (fd < 0) {
		(void)snprintf(what, sizeof(what), "cannot create: %s",
			       strerror(errno));
		return key_error(error_r, path, what);
	}
	if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
		(void)key_error(error_r, path, "no random bytes from OpenSSL");
		goto out;
	}
	w = write(fd, bytes, sizeof(bytes));
	if (w != (ssize_t)sizeof(bytes) || fsync(fd) < 0) {
		(void)snprintf(what, sizeof(what), "cannot write: %s",
			       w < 0 ? strerror(errno) : "short write");
		(void)key_error(error_r, path, what);
		goto out;
	}
	if (sync_parent(path) < 0) {
		(void)snprintf(what, sizeof(what),
			       "cannot sync its directory: %s",
			       strerror(errno));
		(void)key_error(error_r, path, what);
		goto out;
	}
	ret = 0;
out:
	OPENSSL_cleanse(bytes, sizeof(bytes));
	(void)close(fd);
	if (ret < 0)
		(void)unlink(path);
	return ret;
}

int
secret_key_load(const char *path, bool create, struct secret_key **key_r,
		char **error_r)
{
	struct secret_key *key = NULL;
	struct stat st;
	char what[256];
	ssize_t got;
	int fd = -1, ret = -1;

	*key_r = NULL;
	*error_r = NULL;
	if (path == NULL || path[0] == 0)
		return key_error(error_r, "\"\"", "must not be empty");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT && create) {
		if (key_create(path, error_r) < 0)
			return -1;
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0) {
		(void)snprintf(what, sizeof(what), "cannot open: %s",
			       strerror(errno));
		return key_error(error_r, path, what);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		(void)key_error(error_r, path, "not a regular file");
		goto out;
	}
	if (st.st_uid != geteuid()) {
		(void)key_error(error_r, path,
				"owned by another user (chown it to the "
				"mailbox's user)");
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		(void)snprintf(what, sizeof(what),
			       "mode %04o: readable or writable by group or "
			       "others (chmod 600)",
			       (unsigned)(st.st_mode & 07777));
		(void)key_error(error_r, path, what);
		goto out;
	}
	if (st.st_size != SECRET_KEY_BYTES) {
		(void)snprintf(what, sizeof(what),
			       "%lld bytes, expected %d random bytes "
			       "(head -c %d /dev/urandom)",
			       (long long)st.st_size, SECRET_KEY_BYTES,
			       SECRET_KEY_BYTES);
		(void)key_error(error_r, path, what);
		goto out;
	}
	key = calloc(1, sizeof(*key));
	if (key == NULL) {
		(void)key_error(error_r, path, "out of memory");
		goto out;
	}
	got = read(fd, key->bytes, sizeof(key->bytes));
	if (got != (ssize_t)sizeof(key->bytes)) {
		(void)snprintf(what, sizeof(what), "cannot read: %s",
			       got < 0 ? strerror(errno) : "short read");
		(void)key_error(error_r, path, what);
		goto out;
	}
	*key_r = key;
	key = NULL;
	ret = 0;
out:
	secret_key_free(&key);
	(void)close(fd);
	return ret;
}

int
secret_key_from_bytes(const uint8_t *bytes, size_t len,
		      struct secret_key **key_r)
{
	*key_r = NULL;
	if (bytes == NULL || len != SECRET_KEY_BYTES)
		return -1;
	*key_r = calloc(1, sizeof(**key_r));
	if (*key_r == NULL)
		return -1;
	memcpy((*key_r)->bytes, bytes, len);
	return 0;
}

void
secret_key_free(struct secret_key **key)
{
	if (key == NULL || *key == NULL)
		return;
	OPENSSL_cleanse((*key)->bytes, sizeof((*key)->bytes));
	free(*key);
	*key = NULL;
}

/* One GCM pass: encrypt (enc 1) or decrypt (enc 0) in into out, the tag
 * written (enc) or checked (dec).  0 or -1. */
static int
gcm_run(const struct secret_key *key, int enc, const uint8_t *nonce,
	const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
	uint8_t *out, uint8_t *tag)
{
	const uint8_t version = SECRET_VERSION;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ret = -1;

	if (c == NULL || len > INT_MAX || aad_len > INT_MAX)
		goto out;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) !=
		1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SECRET_NONCE_BYTES,
				NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key->bytes, nonce, enc) != 1)
		goto out;
	/* Associated data: the version byte, then the caller's. */
	if (EVP_CipherUpdate(c, NULL, &n, &version, SECRET_AAD_PREFIX_BYTES) !=
		1 ||
	    (aad_len > 0 &&
	     EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) != 1))
		goto out;
	if (len > 0 && EVP_CipherUpdate(c, out, &n, in, (int)len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG,
					SECRET_TAG_BYTES, tag) != 1)
		goto out;
	/* Decrypting, this is where a wrong key, other associated data or a
	 * changed byte fails. */
	if (EVP_CipherFinal_ex(c, out + (len > 0 ? (size_t)n : 0), &n) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG,
				       SECRET_TAG_BYTES, tag) != 1)
		goto out;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return ret;
}

int
secret_seal(const struct secret_key *key, const uint8_t *aad, size_t aad_len,
	    const uint8_t *plain, size_t plain_len, uint8_t **sealed_r,
	    size_t *sealed_len_r)
{
	size_t total = plain_len + SECRET_OVERHEAD;
	uint8_t *out;

	*sealed_r = NULL;
	*sealed_len_r = 0;
	if (key == NULL || (plain == NULL && plain_len > 0) ||
	    plain_len > SECRET_MAX_PLAIN_BYTES)
		return -1;
	out = malloc(total);
	if (out == NULL)
		return -1;
	out[0] = SECRET_VERSION;
	/* A fresh 96-bit random nonce per value: with one key per
	 * installation and a value per device, far below the 2^32 values
	 * NIST SP 800-38D allows random nonces under one key. */
	if (RAND_bytes(out + 1, SECRET_NONCE_BYTES) != 1 ||
	    gcm_run(key, 1, out + 1, aad, aad_len, plain, plain_len,
		    out + 1 + SECRET_NONCE_BYTES,
		    out + 1 + SECRET_NONCE_BYTES + plain_len) < 0) {
		OPENSSL_cleanse(out, total);
		free(out);
		return -1;
	}
	*sealed_r = out;
	*sealed_len_r = total;
	return 0;
}

int
secret_open(const struct secret_key *key, const uint8_t *aad, size_t aad_len,
	    const uint8_t *sealed, size_t sealed_len, uint8_t **plain_r,
	    size_t *plain_len_r)
{
	uint8_t *out, tag[SECRET_TAG_BYTES];
	size_t len;

	*plain_r = NULL;
	*plain_len_r = 0;
	if (key == NULL || sealed == NULL || sealed_len < SECRET_OVERHEAD ||
	    sealed_len - SECRET_OVERHEAD > SECRET_MAX_PLAIN_BYTES ||
	    sealed[0] != SECRET_VERSION)
		return -1;
	len = sealed_len - SECRET_OVERHEAD;
	out = malloc(len + 1);
	if (out == NULL)
		return -1;
	memcpy(tag, sealed + 1 + SECRET_NONCE_BYTES + len, sizeof(tag));
	if (gcm_run(key, 0, sealed + 1, aad, aad_len,
		    sealed + 1 + SECRET_NONCE_BYTES, len, out, tag) < 0) {
		/* Unauthenticated plaintext never leaves. */
		OPENSSL_cleanse(out, len + 1);
		free(out);
		return -1;
	}
	out[len] = 0;
	*plain_r = out;
	*plain_len_r = len;
	return 0;
}

void
secret_plain_free(uint8_t **plain, size_t len)
{
	if (plain == NULL || *plain == NULL)
		return;
	OPENSSL_cleanse(*plain, len);
	free(*plain);
	*plain = NULL;
}

size_t
secret_devpw_aad(int64_t user_id, const char *device_id, uint8_t *out,
		 size_t size)
{
	static const char tag[] = "easd-devpw"; /* with its NUL */
	size_t id_len = device_id != NULL ? strlen(device_id) : 0;
	size_t need = sizeof(tag) + 8 + id_len;
	uint64_t u = (uint64_t)user_id;

	if (need > size)
		return 0;
	memcpy(out, tag, sizeof(tag));
	for (int i = 0; i < 8; i++)
		out[sizeof(tag) + (size_t)i] = (uint8_t)(u >> (56 - 8 * i));
	if (id_len > 0)
		memcpy(out + sizeof(tag) + 8, device_id, id_len);
	return need;
}
