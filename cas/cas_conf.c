/*
 * The [cas] configuration section; see cas_conf.h and
 * docs/configuration-cas.md.  The effective heartbeat ceiling is derived
 * here, once: min(max_heartbeat, proxy_idle_timeout - 60), so that a Ping
 * always ends before a reverse proxy or firewall drops the idle connection.
 */
#include "cas/cas_conf.h"

#include "cas/auth.h"
#include "cas/watch.h"
#include "proto/buf.h"
#include "proto/limits.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CAS_SECTION "cas"

static char *cas_conf_errorf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *
cas_conf_errorf(const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b, 1024);
	va_start(ap, fmt);
	if (buf_vprintf(&b, fmt, ap) != 0) {
		va_end(ap);
		buf_free(&b);
		return strdup("[cas] configuration error");
	}
	va_end(ap);
	return (char *)buf_steal(&b, NULL);
}

int
cas_conf_parse_listen(const char *text, struct cas_listen *listen_r)
{
	char host[64];
	const char *colon, *h = text;
	size_t hlen;
	char *end;
	unsigned long port;

	memset(listen_r, 0, sizeof(*listen_r));
	if (strlen(text) >= sizeof(listen_r->text))
		return -1;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		h = text + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL)
			return -1;
		hlen = (size_t)(colon - text);
	}
	if (hlen == 0 || hlen >= sizeof(host) || colon[1] == 0)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end != 0 || port > 65535 || colon[1] == '-' || colon[1] == '+')
		return -1;
	if (text[0] != '[') {
		struct sockaddr_in *in = (struct sockaddr_in *)&listen_r->addr;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -1;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		listen_r->addr_len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 =
		    (struct sockaddr_in6 *)&listen_r->addr;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -1;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		listen_r->addr_len = sizeof(*in6);
	}
	memcpy(listen_r->text, text, strlen(text) + 1);
	listen_r->enabled = true;
	return 0;
}

static int
get_listen(const struct conf *conf, const char *key, const char *def,
	   struct cas_listen *listen_r, char **error_r)
{
	const char *v = conf_get(conf, CAS_SECTION, key, def);

	memset(listen_r, 0, sizeof(*listen_r));
	if (v == NULL || v[0] == 0)
		return 0; /* listener off */
	if (cas_conf_parse_listen(v, listen_r) != 0) {
		*error_r = cas_conf_errorf("[cas] %s = %s: expected "
					   "ADDRESS:PORT or [IPV6]:PORT",
					   key, v);
		return -1;
	}
	return 0;
}

static int
get_str(const struct conf *conf, const char *key, const char *def,
	char **value_r)
{
	const char *v = conf_get(conf, CAS_SECTION, key, def);

	*value_r = NULL;
	if (v == NULL || v[0] == 0)
		return 0;
	*value_r = strdup(v);
	return *value_r != NULL ? 0 : -1;
}

static int
get_uint(const struct conf *conf, const char *key, int64_t def, int64_t min,
	 int64_t max, unsigned *value_r, char **error_r)
{
	int64_t v;

	if (conf_get_int(conf, CAS_SECTION, key, def, min, max, &v, error_r) !=
	    0)
		return -1;
	*value_r = (unsigned)v;
	return 0;
}

int
cas_conf_load(const struct conf *conf, struct cas_conf **cas_conf_r,
	      char **error_r)
{
	struct cas_conf *c = calloc(1, sizeof(*c));
	const char *plain;
	int64_t body;
	unsigned cap;

	*cas_conf_r = NULL;
	*error_r = NULL;
	if (c == NULL)
		goto fail;
	if (get_listen(conf, "https_listen", "", &c->https_listen, error_r) !=
		0 ||
	    get_listen(conf, "http_listen", "127.0.0.1:8080", &c->http_listen,
		       error_r) != 0)
		goto fail;
	if (get_str(conf, "tls_cert", NULL, &c->tls_cert) != 0 ||
	    get_str(conf, "tls_key", NULL, &c->tls_key) != 0 ||
	    get_str(conf, "mailbox", "unix:/run/easd/mailbox.sock",
		    &c->mailbox) != 0 ||
	    get_str(conf, "tls_ca", NULL, &c->tls_ca) != 0 ||
	    get_str(conf, "trusted_proxies", "", &c->trusted_proxies) != 0 ||
	    get_str(conf, "log_level", "info", &c->log_level) != 0)
		goto fail;
	if (c->https_listen.enabled &&
	    (c->tls_cert == NULL || c->tls_key == NULL)) {
		*error_r = cas_conf_errorf("[cas] https_listen needs tls_cert "
					   "and tls_key");
		goto fail;
	}
	if (!c->https_listen.enabled && !c->http_listen.enabled) {
		*error_r = cas_conf_errorf("[cas] neither https_listen nor "
					   "http_listen is set");
		goto fail;
	}
	if (c->mailbox == NULL || (strncmp(c->mailbox, "unix:", 5) != 0 &&
				   strncmp(c->mailbox, "tcp:", 4) != 0)) {
		*error_r =
		    cas_conf_errorf("[cas] mailbox = %s: expected "
				    "unix:PATH or tcp:HOST:PORT",
				    c->mailbox != NULL ? c->mailbox : "");
		goto fail;
	}
	if (conf_get_bool(conf, CAS_SECTION, "tls_self_signed", false,
			  &c->tls_self_signed, error_r) != 0)
		goto fail;
	plain = conf_get(conf, CAS_SECTION, "allow_plain_auth", "loopback");
	if (strcasecmp(plain, "loopback") == 0) {
		c->allow_plain_auth = CAS_PLAIN_AUTH_LOOPBACK;
	} else if (strcasecmp(plain, "yes") == 0) {
		c->allow_plain_auth = CAS_PLAIN_AUTH_YES;
	} else if (strcasecmp(plain, "no") == 0) {
		c->allow_plain_auth = CAS_PLAIN_AUTH_NO;
	} else {
		*error_r = cas_conf_errorf("[cas] allow_plain_auth = %s: "
					   "expected loopback, yes or no",
					   plain);
		goto fail;
	}
	/* MS-ASCMD Ping: HeartbeatInterval 60..3540 seconds. */
	if (get_uint(conf, "proxy_idle_timeout", 1800, 120, 86400,
		     &c->proxy_idle_timeout_s, error_r) != 0 ||
	    get_uint(conf, "min_heartbeat", 60, 1, 3540, &c->min_heartbeat_s,
		     error_r) != 0 ||
	    get_uint(conf, "max_heartbeat", 3540, 60, 3540, &c->max_heartbeat_s,
		     error_r) != 0 ||
	    get_uint(conf, "auth_cache_ttl", CAS_AUTH_DEFAULT_CACHE_TTL_S, 0,
		     3600, &c->auth_cache_ttl_s, error_r) != 0 ||
	    get_uint(conf, "keepalive_interval", CAS_KEEPALIVE_DEFAULT_S,
		     CAS_KEEPALIVE_MIN_S, CAS_KEEPALIVE_MAX_S,
		     &c->keepalive_interval_s, error_r) != 0 ||
	    get_uint(conf, "http_threads", 0, 0, CAS_HTTP_THREADS_MAX,
		     &c->http_threads, error_r) != 0)
		goto fail;
	if (c->http_threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		c->http_threads = n < 1 ? 1u
				  : (unsigned long)n > CAS_HTTP_THREADS_MAX
				      ? CAS_HTTP_THREADS_MAX
				      : (unsigned)n;
	}
	if (conf_get_int(conf, CAS_SECTION, "max_body_bytes",
			 CAS_DEFAULT_MAX_BODY_BYTES, 1024,
			 CAS_MAX_BODY_BYTES_CEILING, &body, error_r) != 0)
		goto fail;
	c->max_body_bytes = (size_t)body;
	cap = c->proxy_idle_timeout_s - 60;
	if (c->max_heartbeat_s > cap)
		c->max_heartbeat_s = cap;
	if (c->min_heartbeat_s > c->max_heartbeat_s) {
		*error_r = cas_conf_errorf(
		    "[cas] min_heartbeat = %u exceeds the effective maximum "
		    "heartbeat %u (min(max_heartbeat, proxy_idle_timeout - "
		    "60))",
		    c->min_heartbeat_s, c->max_heartbeat_s);
		goto fail;
	}
	if (get_str(conf, "public_url", "", &c->public_url) != 0 ||
	    get_str(conf, "autodiscover_domain", "", &c->autodiscover_domain) !=
		0 ||
	    get_str(conf, "smime_ca_file", "", &c->smime_ca_file) != 0 ||
	    get_str(conf, "smime_crl_file", "", &c->smime_crl_file) != 0)
		goto fail;
	if (c->public_url != NULL) {
		size_t n = strlen(c->public_url);

		/* Written into every Autodiscover answer: a plain URL. */
		while (n > 0 && c->public_url[n - 1] == '/')
			c->public_url[--n] = 0;
		if ((strncmp(c->public_url, "https://", 8) != 0 &&
		     strncmp(c->public_url, "http://", 7) != 0) ||
		    n > CAS_PUBLIC_URL_MAX_BYTES ||
		    strpbrk(c->public_url, " \t\"<>") != NULL) {
			*error_r = cas_conf_errorf(
			    "[cas] public_url = %s: expected an https:// URL "
			    "of at most %u bytes without spaces or quotes",
			    c->public_url, CAS_PUBLIC_URL_MAX_BYTES);
			goto fail;
		}
	}
	*cas_conf_r = c;
	return 0;
fail:
	if (*error_r == NULL)
		*error_r = strdup("[cas] out of memory");
	cas_conf_free(&c);
	return -1;
}

void
cas_conf_watch_settings(const struct cas_conf *cas_conf,
			struct watch_settings *settings_r)
{
	memset(settings_r, 0, sizeof(*settings_r));
	/* Heartbeat bounds for Ping and Sync-with-Wait (MS-ASCMD
	 * 2.2.3.88): [cas] min_heartbeat and the effective max_heartbeat. */
	settings_r->min_heartbeat_s = cas_conf->min_heartbeat_s;
	settings_r->max_heartbeat_s = cas_conf->max_heartbeat_s;
	settings_r->sync_keepalive_s = cas_conf->keepalive_interval_s;
}

void
cas_conf_free(struct cas_conf **cas_conf)
{
	struct cas_conf *c = *cas_conf;

	if (c == NULL)
		return;
	free(c->tls_cert);
	free(c->tls_key);
	free(c->mailbox);
	free(c->tls_ca);
	free(c->trusted_proxies);
	free(c->log_level);
	free(c->public_url);
	free(c->autodiscover_domain);
	free(c->smime_ca_file);
	free(c->smime_crl_file);
	free(c);
	*cas_conf = NULL;
}
