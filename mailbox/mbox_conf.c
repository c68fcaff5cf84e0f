/*
 * Reading and checking the [mailbox] section (see mbox_conf.h).  Checks
 * happen here, at start, so the daemon refuses a bad file before it opens
 * any socket: TCP RPC without the three TLS files, a zero worker count, a
 * message limit above what the LMTP engine and the store can hold.
 */
#include "mailbox/mbox_conf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailbox/workers.h"
#include "proto/limits.h"

static int
fail(char **error_r, const char *key, const char *what)
{
	char text[256];

	(void)snprintf(text, sizeof(text), "[mailbox] %s: %s", key, what);
	*error_r = strdup(text);
	return -1;
}

unsigned
mbox_default_workers(unsigned cores)
{
	unsigned n = cores * MBOX_WORKERS_PER_CORE;

	if (n < MBOX_MIN_WORKERS)
		n = MBOX_MIN_WORKERS;
	return n > WORKERS_MAX_THREADS ? WORKERS_MAX_THREADS : n;
}

int
mbox_conf_parse_duration(const char *text, int64_t *seconds_r)
{
	const char *p = text;
	int64_t v = 0, unit = 1;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	switch (*p) {
	case 's':
		unit = 1;
		p++;
		break;
	case 'm':
		unit = 60;
		p++;
		break;
	case 'h':
		unit = 3600;
		p++;
		break;
	case 'd':
		unit = 86400;
		p++;
		break;
	default:
		break;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != 0 || v > INT64_MAX / unit)
		return -1;
	*seconds_r = v * unit;
	return 0;
}

/* The Out-of-Office reply period and the secret key file. */
static int
read_oof_and_secret(const struct conf *conf, struct mbox_conf *c,
		    char **error_r)
{
	const char *s = MBOX_CONF_SECTION;
	const char *period = conf_get(conf, s, "oof_reply_period", NULL);
	int n;

	c->oof_reply_period_s = MBOX_DEFAULT_OOF_REPLY_PERIOD_S;
	if (period != NULL &&
	    (mbox_conf_parse_duration(period, &c->oof_reply_period_s) < 0 ||
	     c->oof_reply_period_s < MBOX_MIN_OOF_REPLY_PERIOD_S ||
	     c->oof_reply_period_s > MBOX_MAX_OOF_REPLY_PERIOD_S))
		return fail(error_r, "oof_reply_period",
			    "expected a duration from 1h to 30d (a number "
			    "with s, m, h or d)");
	c->secret_key_file = conf_get(conf, s, "secret_key_file", NULL);
	if (c->secret_key_file != NULL && *c->secret_key_file == 0)
		return fail(error_r, "secret_key_file", "must not be empty");
	if (c->secret_key_file == NULL) {
		n = snprintf(c->secret_key_default,
			     sizeof(c->secret_key_default), "%s/%s",
			     c->data_dir, MBOX_DEFAULT_SECRET_KEY_NAME);
		if (n < 0 || (size_t)n >= sizeof(c->secret_key_default))
			return fail(error_r, "data_dir", "path too long");
		c->secret_key_file = c->secret_key_default;
	}
	return 0;
}

int
mbox_conf_read(const struct conf *conf, struct mbox_conf *c, char **error_r)
{
	const char *s = MBOX_CONF_SECTION;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int64_t v;

	memset(c, 0, sizeof(*c));
	c->data_dir = conf_get(conf, s, "data_dir", MBOX_DEFAULT_DATA_DIR);
	c->rpc_listen =
	    conf_get(conf, s, "rpc_listen", MBOX_DEFAULT_RPC_LISTEN);
	c->lmtp_listen =
	    conf_get(conf, s, "lmtp_listen", MBOX_DEFAULT_LMTP_LISTEN);
	c->smtp_relay = conf_get(conf, s, "smtp_relay", "");
	c->smtp_user = conf_get(conf, s, "smtp_user", "");
	c->smtp_password = conf_get(conf, s, "smtp_password", "");
	c->tls_cert = conf_get(conf, s, "tls_cert", "");
	c->tls_key = conf_get(conf, s, "tls_key", "");
	c->tls_ca = conf_get(conf, s, "tls_ca", "");
	c->tls_clients = conf_get(conf, s, "tls_clients", "");
	c->domain = conf_get(conf, s, "domain", "");
	c->hostname = conf_get(conf, s, "hostname", "localhost");
	if (*c->data_dir == 0)
		return fail(error_r, "data_dir", "must not be empty");
	if (strncmp(c->rpc_listen, "unix:", 5) != 0 &&
	    strncmp(c->rpc_listen, "tcp:", 4) != 0)
		return fail(error_r, "rpc_listen",
			    "expected unix:PATH or tcp:HOST:PORT");
	/* reliability.md: no plaintext mode over TCP. */
	if (strncmp(c->rpc_listen, "tcp:", 4) == 0 &&
	    (*c->tls_cert == 0 || *c->tls_key == 0 || *c->tls_ca == 0))
		return fail(error_r, "rpc_listen",
			    "tcp: needs tls_cert, tls_key and tls_ca "
			    "(mutual TLS)");
	if (*c->smtp_relay != 0 && strncmp(c->smtp_relay, "smtp://", 7) != 0 &&
	    strncmp(c->smtp_relay, "smtps://", 8) != 0)
		return fail(error_r, "smtp_relay",
			    "expected smtp://HOST:PORT or smtps://HOST:PORT");
	if (conf_get_bool(conf, s, "smtp_starttls", false, &c->smtp_starttls,
			  error_r) < 0)
		return -1;
	/* A shard thread mostly waits for its users' fsyncs (one per
	 * commit, synchronous=FULL), not for a core: with one thread per
	 * core, deliveries to different users of a shard queue behind each
	 * other's fsync.  MBOX_WORKERS_PER_CORE threads per core let those
	 * fsyncs overlap; each idle thread costs a stack and no CPU. */
	if (conf_get_int(conf, s, "workers",
			 mbox_default_workers(cores > 0 ? (unsigned)cores : 1),
			 1, WORKERS_MAX_THREADS, &v, error_r) < 0)
		return -1;
	c->workers = (unsigned)v;
	if (conf_get_int(conf, s, "max_message_bytes",
			 MBOX_DEFAULT_MAX_MESSAGE_BYTES, 1024,
			 STORE_MAX_MIME_BYTES, &v, error_r) < 0)
		return -1;
	c->max_message_bytes = (size_t)v;
	if (log_level_parse(conf_get(conf, s, "log_level", "info"),
			    &c->log_level) < 0)
		return fail(error_r, "log_level",
			    "expected error, warn, info or debug");
	return read_oof_and_secret(conf, c, error_r);
}
