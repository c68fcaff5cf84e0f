/*
 * OpenSSL 3 contexts for the RPC's mutual TLS 1.3 (policy in tls.h).
 * TLS 1.2 and older are refused by the minimum protocol version; plaintext
 * TCP does not exist.  Session tickets are off: connections are long-lived
 * and resumption would only add state.
 */
#include "net/tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"

/* Names in allowed_names; a handful of CAS hosts in practice. */
#define TLS_MAX_ALLOWED_NAMES 64
#define TLS_MAX_NAME_BYTES 255

struct tls_ctx {
	SSL_CTX *ssl_ctx;
	bool server;
	char *server_name;
	char *names[TLS_MAX_ALLOWED_NAMES];
	size_t n_names;
};

static int tls_ex_index = -1;

static void
log_ssl_errors(const char *what)
{
	unsigned long e;
	char msg[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, msg, sizeof(msg));
		log_error("%s: %s", what, msg);
	}
}

static int
parse_names(struct tls_ctx *t, const char *list, const char **error_r)
{
	const char *p = list, *comma;
	size_t len;

	while (p != NULL && *p != '\0') {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		while (len > 0 && *p == ' ') {
			p++;
			len--;
		}
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (len > 0) {
			if (t->n_names == TLS_MAX_ALLOWED_NAMES ||
			    len > TLS_MAX_NAME_BYTES) {
				*error_r = "tls: too many or too long "
					   "allowed_names";
				return -1;
			}
			t->names[t->n_names] = strndup(p, len);
			if (t->names[t->n_names] == NULL) {
				*error_r = "tls: out of memory";
				return -1;
			}
			t->n_names++;
		}
		p = comma != NULL ? comma + 1 : NULL;
	}
	return 0;
}

/* Server side: after the chain verified, the leaf certificate must carry
 * one of the allowed names.  Failing here sends the client an alert. */
static int
verify_client_name(int preverify_ok, X509_STORE_CTX *store)
{
	SSL *ssl;
	const struct tls_ctx *t;
	X509 *cert;
	size_t i;

	if (!preverify_ok || X509_STORE_CTX_get_error_depth(store) != 0)
		return preverify_ok;
	ssl = X509_STORE_CTX_get_ex_data(store,
					 SSL_get_ex_data_X509_STORE_CTX_idx());
	t = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_ex_index);
	if (t == NULL || t->n_names == 0)
		return 1;
	cert = X509_STORE_CTX_get_current_cert(store);
	for (i = 0; i < t->n_names; i++) {
		if (X509_check_host(cert, t->names[i], 0, 0, NULL) == 1)
			return 1;
	}
	log_warn("rpc tls: client certificate name not in allowed_names");
	X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
	return 0;
}

struct tls_ctx *
tls_ctx_new(const struct tls_config *config, bool server, const char **error_r)
{
	struct tls_ctx *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		*error_r = "tls: out of memory";
		return NULL;
	}
	t->server = server;
	if (config->ca_file == NULL || config->cert_file == NULL ||
	    config->key_file == NULL) {
		*error_r = "tls: ca_file, cert_file and key_file are required "
			   "for tcp (mutual TLS)";
		goto fail;
	}
	if (!server) {
		if (config->server_name == NULL ||
		    config->server_name[0] == '\0') {
			*error_r = "tls: a client needs the server_name to "
				   "verify";
			goto fail;
		}
		t->server_name = strdup(config->server_name);
		if (t->server_name == NULL) {
			*error_r = "tls: out of memory";
			goto fail;
		}
	} else if (parse_names(t, config->allowed_names, error_r) < 0) {
		goto fail;
	}
	if (tls_ex_index < 0) {
		/* First context is made at start-up, before threads. */
		tls_ex_index =
		    SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	}
	t->ssl_ctx =
	    SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (t->ssl_ctx == NULL) {
		*error_r = "tls: SSL_CTX_new failed";
		goto fail;
	}
	SSL_CTX_set_ex_data(t->ssl_ctx, tls_ex_index, t);
	if (SSL_CTX_set_min_proto_version(t->ssl_ctx, TLS1_3_VERSION) != 1) {
		*error_r = "tls: cannot require TLS 1.3";
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(t->ssl_ctx, config->ca_file, NULL) !=
	    1) {
		*error_r = "tls: cannot load ca_file";
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(t->ssl_ctx, config->cert_file) !=
	    1) {
		*error_r = "tls: cannot load cert_file";
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(t->ssl_ctx, config->key_file,
					SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(t->ssl_ctx) != 1) {
		*error_r = "tls: cannot load key_file or it does not match "
			   "cert_file";
		goto fail;
	}
	SSL_CTX_set_verify(t->ssl_ctx,
			   SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   server ? verify_client_name : NULL);
	SSL_CTX_set_mode(t->ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
					 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(t->ssl_ctx, SSL_OP_NO_TICKET);
	if (server)
		SSL_CTX_set_num_tickets(t->ssl_ctx, 0);
	return t;
fail:
	log_ssl_errors(*error_r);
	tls_ctx_free(&t);
	return NULL;
}

void
tls_ctx_free(struct tls_ctx **tp)
{
	struct tls_ctx *t = *tp;
	size_t i;

	if (t == NULL)
		return;
	*tp = NULL;
	SSL_CTX_free(t->ssl_ctx);
	for (i = 0; i < t->n_names; i++)
		free(t->names[i]);
	free(t->server_name);
	free(t);
}

bool
tls_ctx_is_server(const struct tls_ctx *t)
{
	return t->server;
}

static bool
is_ip_literal(const char *name)
{
	unsigned char addr[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, addr) == 1 ||
	       inet_pton(AF_INET6, name, addr) == 1;
}

SSL *
tls_ssl_new(struct tls_ctx *t, int fd, const char **error_r)
{
	SSL *ssl = SSL_new(t->ssl_ctx);

	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
		*error_r = "tls: SSL_new failed";
		goto fail;
	}
	if (t->server) {
		SSL_set_accept_state(ssl);
		return ssl;
	}
	/* The server certificate must name the host we meant: a DNS name
	 * (also sent as SNI), or an IP address matched against the
	 * certificate's IP subjectAltName (RFC 6066: no SNI for literals). */
	if (is_ip_literal(t->server_name)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
						  t->server_name) != 1) {
			*error_r = "tls: cannot set the expected server IP";
			goto fail;
		}
	} else if (SSL_set1_host(ssl, t->server_name) != 1 ||
		   SSL_set_tlsext_host_name(ssl, t->server_name) != 1) {
		*error_r = "tls: cannot set the expected server name";
		goto fail;
	}
	SSL_set_connect_state(ssl);
	return ssl;
fail:
	log_ssl_errors(*error_r);
	SSL_free(ssl);
	return NULL;
}
