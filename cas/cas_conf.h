/*
 * The [cas] section of easd.conf, read and validated once at start-up into
 * an immutable struct cas_conf (owned by main.c, read by every thread).
 * Each key, its default and its range are documented in
 * docs/configuration-cas.md; an invalid value is an error naming the key.
 */
#ifndef EASD_CAS_CAS_CONF_H
#define EASD_CAS_CAS_CONF_H

#include "proto/conf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum cas_plain_auth {
	CAS_PLAIN_AUTH_NO = 0,       /* Basic only over TLS */
	CAS_PLAIN_AUTH_LOOPBACK = 1, /* plus plain HTTP from loopback */
	CAS_PLAIN_AUTH_YES = 2,      /* anywhere (not recommended) */
};

/* [cas] public_url: the URL with "/Microsoft-Server-ActiveSync" appended
 * must fit an Autodiscover answer. */
#define CAS_PUBLIC_URL_MAX_BYTES 512u

struct cas_listen {
	bool enabled;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char text[128]; /* as configured, for logs */
};

struct cas_conf {
	struct cas_listen https_listen;
	struct cas_listen http_listen;
	char *tls_cert; /* path, NULL when HTTPS is off */
	char *tls_key;  /* path */
	bool tls_self_signed;
	char *mailbox; /* "unix:PATH" or "tcp:HOST:PORT" */
	char *tls_ca;  /* CA file for the RPC's mutual TLS, may be NULL */
	char *trusted_proxies; /* list text; parsed by cas/proxy.c */
	enum cas_plain_auth allow_plain_auth;
	unsigned proxy_idle_timeout_s;
	unsigned min_heartbeat_s;
	unsigned max_heartbeat_s; /* effective: already capped, see below */
	size_t max_body_bytes;
	unsigned auth_cache_ttl_s;
	char *log_level;
	/* Seconds between WBXML keep-alives of a Sync response while the
	 * mailbox works (CAS_KEEPALIVE_MIN_S..CAS_KEEPALIVE_MAX_S). */
	unsigned keepalive_interval_s;
	/* Autodiscover (cas/autodiscover_http.c): the base URL phones reach
	 * ("https://mail.example.org", no trailing '/'; NULL: Autodiscover
	 * is not served) and the domain for a bare HTTP user name. */
	char *public_url;
	char *autodiscover_domain;
	/* Polling threads per listener (CAS_HTTP_THREADS_MAX at most); 0 in
	 * the file means one per online CPU. */
	unsigned http_threads;
	/* ValidateCert (cas/certverify.h): extra S/MIME trust anchors and
	 * CRLs, PEM files; NULL: the system's anchors, no CRLs. */
	char *smime_ca_file;
	char *smime_crl_file;
};

/* [cas] keepalive_interval: at least 1 s; at most 25 s so that a
 * keep-alive always lands inside Gmail for Android's ~30 s read timeout
 * even with a few seconds of network delay. */
#define CAS_KEEPALIVE_MIN_S 1u
#define CAS_KEEPALIVE_MAX_S 25u
#define CAS_KEEPALIVE_DEFAULT_S 10u

/* [cas] http_threads: libmicrohttpd worker daemons per listener. */
#define CAS_HTTP_THREADS_MAX 64u

struct watch_settings;

/* Read [cas]; -1 with a malloc'd *error_r naming the key. */
int cas_conf_load(const struct conf *conf, struct cas_conf **cas_conf_r,
		  char **error_r);
void cas_conf_free(struct cas_conf **cas_conf);
/* Parse "HOST:PORT" / "[V6]:PORT" (numeric host, port 0 = any); -1 when
 * malformed. */
int cas_conf_parse_listen(const char *text, struct cas_listen *listen_r);
/* The held-request and keep-alive settings (cas/watch.h) that follow from
 * the configuration: heartbeat bounds and the keep-alive interval. */
void cas_conf_watch_settings(const struct cas_conf *cas_conf,
			     struct watch_settings *settings_r);

#endif
