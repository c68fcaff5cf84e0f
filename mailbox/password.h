/*
 * Password hashing for the directory: yescrypt ("$y$") through libxcrypt,
 * the format of current Debian /etc/shadow and of Dovecot, so hashes can be
 * imported from either.  Verification compares in constant time and wipes
 * the hashing state; callers wipe the plaintext they hold.
 */
#ifndef EASD_MAILBOX_PASSWORD_H
#define EASD_MAILBOX_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/* Large enough for any crypt(3) output (CRYPT_OUTPUT_SIZE is 384). */
#define PASSWORD_HASH_MAX 384

/* Hashes password with a fresh random salt into hash (NUL-terminated);
 * -1 if the password is too long or hashing fails. */
int password_hash(const char *password, char *hash, size_t hash_size);
/* True if password matches a stored crypt(3) hash of any method libxcrypt
 * supports; false for a malformed hash. */
bool password_verify(const char *password, const char *hash);

#endif
