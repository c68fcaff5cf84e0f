/*
 * The [mailbox] section of the shared INI file (proto/conf.h), read once by
 * easd-mailbox at start and by easctl to find the RPC socket.  Every key,
 * its default and its bounds are listed in docs/configuration-mailbox.md;
 * a value out of range is an error naming the key, never a silent clamp.
 * The struct borrows its strings from the struct conf it was read from.
 */
#ifndef EASD_MAILBOX_MBOX_CONF_H
#define EASD_MAILBOX_MBOX_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/conf.h"
#include "proto/log.h"

#define MBOX_CONF_SECTION "mailbox"
#define MBOX_DEFAULT_DATA_DIR "/var/lib/easd"
#define MBOX_DEFAULT_RPC_LISTEN "unix:/run/easd/mailbox.sock"
#define MBOX_DEFAULT_LMTP_LISTEN "127.0.0.1:2424"
/* Default largest message accepted over LMTP and Submit (bytes). */
#define MBOX_DEFAULT_MAX_MESSAGE_BYTES (50u * 1024u * 1024u)
/* Default shard threads: MBOX_WORKERS_PER_CORE per core, at least
 * MBOX_MIN_WORKERS, at most WORKERS_MAX_THREADS (see mbox_conf.c). */
#define MBOX_WORKERS_PER_CORE 4u
#define MBOX_MIN_WORKERS 8u
/* [mailbox] oof_reply_period: how long a sender who got an Out-of-Office
 * reply gets no other (RFC 3834 2 suggests 7 days).  Below an hour a
 * sender writing back and forth would get a reply per message; above 30
 * days a long absence would answer a correspondent once. */
#define MBOX_DEFAULT_OOF_REPLY_PERIOD_S (7 * 24 * 3600)
#define MBOX_MIN_OOF_REPLY_PERIOD_S 3600
#define MBOX_MAX_OOF_REPLY_PERIOD_S (30 * 24 * 3600)
/* [mailbox] secret_key_file default, relative to data_dir. */
#define MBOX_DEFAULT_SECRET_KEY_NAME "secret.key"
/* Longest file path taken from the configuration. */
#define MBOX_MAX_PATH_BYTES 4096

struct mbox_conf {
	const char *data_dir;
	const char *rpc_listen;  /* unix:PATH or tcp:HOST:PORT */
	const char *lmtp_listen; /* HOST:PORT or unix:PATH; "" = off */
	const char *smtp_relay;  /* smtp:// or smtps:// URL; "" = none */
	const char *smtp_user;   /* "" = no AUTH */
	const char *smtp_password;
	bool smtp_starttls;       /* require STARTTLS on smtp:// */
	const char *tls_cert;     /* TCP RPC: own certificate */
	const char *tls_key;      /* TCP RPC: its key */
	const char *tls_ca;       /* TCP RPC: the private CA */
	const char *tls_clients;  /* TCP RPC: allowed client names, "" any */
	const char *domain;       /* default address NAME@domain */
	const char *hostname;     /* LMTP greeting, bounce reporter */
	unsigned workers;         /* shard threads */
	size_t max_message_bytes; /* LMTP and Submit */
	enum log_level log_level;
	/* Out-of-Office reply period and the key sealing values at rest
	 * (mailbox/secret.h); secret_key_file points into the conf or, by
	 * default, at secret_key_default (data_dir/secret.key). */
	int64_t oof_reply_period_s;
	const char *secret_key_file;
	char secret_key_default[MBOX_MAX_PATH_BYTES];
};

/* Read [mailbox] from conf into conf_r; -1 with a malloc'd *error_r naming
 * the key on a bad value. */
unsigned mbox_default_workers(unsigned cores);
int mbox_conf_read(const struct conf *conf, struct mbox_conf *conf_r,
		   char **error_r);
/* A duration: an integer with an optional unit, s (default), m, h or d
 * ("7d", "36h", "3600").  -1 on anything else or an overflow. */
int mbox_conf_parse_duration(const char *text, int64_t *seconds_r);

#endif
