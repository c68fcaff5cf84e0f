/*
 * OpenSSL contexts for the RPC over TCP: mutual TLS 1.3 only, with a
 * private CA.  Both sides present a certificate signed by the CA file and
 * verify the peer's (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
 *
 * Peer names: the client checks that the server certificate matches
 * server_name: a DNS name (SSL_set1_host, subjectAltName DNS) or an IP
 * address literal (subjectAltName IP).  The server checks
 * the client certificate against allowed_names, a comma-separated list of
 * names (e.g. "cas1.example.net,cas2.example.net") when one is configured;
 * with no list, any certificate the private CA signed is a valid client --
 * the CA is then the access list, which is the right choice when the CA
 * only issues certificates for easd hosts.
 */
#ifndef EASD_NET_TLS_H
#define EASD_NET_TLS_H

#include <stdbool.h>

struct ssl_st;

struct tls_config {
	const char *ca_file;   /* PEM CA bundle that signs every peer */
	const char *cert_file; /* own certificate (PEM, chain allowed) */
	const char *key_file;  /* own private key (PEM) */
	/* client: the name the server certificate must carry (required) */
	const char *server_name;
	/* server: comma-separated client names, NULL or "" = any from CA */
	const char *allowed_names;
};

struct tls_ctx;

/* A context for the server or the client side; NULL with error_r on a
 * missing file, a key that does not match, or a missing server_name on a
 * client.  OpenSSL's own reason is logged. */
struct tls_ctx *tls_ctx_new(const struct tls_config *config, bool server,
			    const char **error_r);
void tls_ctx_free(struct tls_ctx **ctx);
bool tls_ctx_is_server(const struct tls_ctx *ctx);

/* An SSL object on fd, in accept or connect state. */
struct ssl_st *tls_ssl_new(struct tls_ctx *ctx, int fd, const char **error_r);

#endif
