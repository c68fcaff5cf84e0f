/*
 * Encryption at rest of the few values the mailbox must keep and give
 * back, so that cannot hash: today the recovery password a device sends
 * with Settings DevicePassword (MS-ASCMD 2.2.3.50), which the user or an
 * administrator reads back to unlock the phone (`easctl device password`).
 *
 * One key per installation: 32 random bytes in [mailbox] secret_key_file
 * (default data_dir/secret.key), created with mode 0600 at the first start
 * and refused at start when its size or permissions are wrong.  A value is
 * sealed with AES-256-GCM (OpenSSL EVP) under a fresh random 96-bit nonce;
 * the caller's associated data (for a recovery password: the user id and
 * the device id, secret_devpw_aad) is authenticated, so a sealed value
 * copied onto another device's row does not open there.
 *
 * Sealed form: version byte SECRET_VERSION | nonce (12) | ciphertext |
 * tag (16).  The version byte is authenticated with the associated data.
 *
 * Trade-off: the key sits on the same host as the database, so this
 * protects the value in database copies, backups and stray files (and
 * grep), not against someone who can read both the key and the database.
 * Losing the key loses the sealed values (they fail to open; nothing else
 * depends on them).
 */
#ifndef EASD_MAILBOX_SECRET_H
#define EASD_MAILBOX_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECRET_KEY_BYTES 32
#define SECRET_NONCE_BYTES 12
#define SECRET_TAG_BYTES 16
#define SECRET_VERSION 1u
/* Bytes a seal adds to the plaintext. */
#define SECRET_OVERHEAD (1 + SECRET_NONCE_BYTES + SECRET_TAG_BYTES)
/* Largest plaintext sealed or opened: far above any device text
 * (STORE_MAX_DEVICE_TEXT_BYTES); bounds what a damaged row can make us
 * allocate. */
#define SECRET_MAX_PLAIN_BYTES (64u * 1024u)
/* Associated data of a recovery password: tag, user id, device id. */
#define SECRET_DEVPW_AAD_MAX 128

/* The key; wiped when freed.  Owned by easd-mailbox's main (one for the
 * process, read by every shard thread: it never changes after load). */
struct secret_key;

/*
 * Load the key file at path; when it does not exist and create is set,
 * make it first (32 bytes from the OpenSSL CSPRNG, O_EXCL, mode 0600,
 * fsync'd with its directory).  Refused: not a regular file, a size other
 * than SECRET_KEY_BYTES, any group or other permission bit, another
 * owner.  -1 with a malloc'd *error_r naming the path and what to do.
 */
int secret_key_load(const char *path, bool create, struct secret_key **key_r,
		    char **error_r);
/* A key from bytes (tests, tools); -1 when len is not SECRET_KEY_BYTES. */
int secret_key_from_bytes(const uint8_t *bytes, size_t len,
			  struct secret_key **key_r);
void secret_key_free(struct secret_key **key);

/* Seal plain (plain_len <= SECRET_MAX_PLAIN_BYTES) into a malloc'd
 * *sealed_r of plain_len + SECRET_OVERHEAD bytes.  -1 on a bad argument or
 * an OpenSSL failure. */
int secret_seal(const struct secret_key *key, const uint8_t *aad,
		size_t aad_len, const uint8_t *plain, size_t plain_len,
		uint8_t **sealed_r, size_t *sealed_len_r);
/* Open a sealed value into a malloc'd, NUL-terminated *plain_r (the NUL
 * is not counted in *plain_len_r).  -1 when the value is too short or too
 * long, of another version, or fails authentication (wrong key, other
 * associated data, any changed byte): nothing is returned then. */
int secret_open(const struct secret_key *key, const uint8_t *aad,
		size_t aad_len, const uint8_t *sealed, size_t sealed_len,
		uint8_t **plain_r, size_t *plain_len_r);
/* Wipe and free what secret_open returned (NULL is fine). */
void secret_plain_free(uint8_t **plain, size_t len);

/* The associated data binding a recovery password to its device record:
 * "easd-devpw" NUL, the user id as 8 big-endian bytes, the device id.
 * Returns its length, 0 when it does not fit size. */
size_t secret_devpw_aad(int64_t user_id, const char *device_id, uint8_t *out,
			size_t size);

#endif
