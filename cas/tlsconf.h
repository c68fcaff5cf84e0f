/*
 * Start-up checks of the HTTPS certificate (OpenSSL).  Phones do not fetch
 * missing intermediates, so the certificate file must hold the leaf
 * followed by its intermediates, each issued (and signed) by the next;
 * a file with only a leaf is refused unless the configuration says
 * `tls_self_signed = yes`.  The key must match the leaf, and the leaf must
 * be within its validity period.  Run once, before listening.
 */
#ifndef EASD_CAS_TLSCONF_H
#define EASD_CAS_TLSCONF_H

#include <stdbool.h>
#include <stddef.h>

/* Check a PEM certificate chain and its key, both given in memory; -1
 * with a malloc'd *error_r saying what is wrong. */
int cas_tls_check(const char *cert_pem, size_t cert_len, const char *key_pem,
		  size_t key_len, bool self_signed_ok, char **error_r);
/* Read a whole (small) PEM file into a NUL-terminated malloc'd string. */
int cas_tls_read_file(const char *path, char **data_r, size_t *len_r,
		      char **error_r);

#endif
