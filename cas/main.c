/*
 * easd-cas: the Exchange ActiveSync front-end daemon.  Reads the [cas]
 * section of the configuration, checks the TLS certificate chain, starts
 * the HTTP(S) listeners (cas/http.c) and runs in the foreground, logging to
 * stderr, until SIGTERM or SIGINT; then held requests are answered (their
 * handlers' shutdown hooks, else 503 with Retry-After) before exit.
 *
 * The password verifier and every command's data are the mailbox over
 * RPC (cas/mbox_client.c); a mailbox that is down gets 503 answers until
 * the client reconnects.
 */
#include "cas/auth.h"
#include "cas/autodiscover_http.h"
#include "cas/certverify.h"
#include "cas/cas_conf.h"
#include "cas/http.h"
#include "cas/mbox_client.h"
#include "cas/proxy.h"
#include "cas/request.h"
#include "cas/tlsconf.h"
#include "cas/watch.h"
#include "proto/conf.h"
#include "proto/log.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

int main(int argc, char **argv);

/* Version announced in MS-Server-ActiveSync (Exchange 2016 CU level). */
#define CAS_SERVER_VERSION "15.1"
/* How long SIGTERM waits for held requests' answers to go out. */
#define CAS_SHUTDOWN_WAIT_MS 3000u

static void
usage(void)
{
	fprintf(stderr, "usage: easd-cas [--config FILE]\n");
}

/* Held connections each keep a descriptor: use all the hard limit. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("cannot raise the descriptor limit");
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	log_info("descriptor limit %llu", (unsigned long long)rl.rlim_cur);
}

static void auth_sweep_tick(struct tw_timer *timer, void *ctx);

struct sweep {
	struct cas_http *http;
	struct cas_auth *auth;
	struct tw_timer timer;
};

/* Expired cache entries and old counters go once a minute. */
static void
auth_sweep_tick(struct tw_timer *timer, void *ctx)
{
	struct sweep *s = ctx;
	struct timespec ts;

	(void)timer;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	(void)cas_auth_sweep(s->auth, (uint64_t)ts.tv_sec);
	cas_http_timer_add(s->http, &s->timer, 60, auth_sweep_tick, s);
}

int
main(int argc, char **argv)
{
	const char *path = CONF_DEFAULT_PATH;
	struct conf *conf = NULL;
	struct cas_conf *cc = NULL;
	struct cas_proxies *proxies = NULL;
	struct cas_auth *auth = NULL;
	struct cas_http *http = NULL;
	struct mbox_client *mbox = NULL;
	struct mbox_client_config mcc;
	struct cas_request_config rqc;
	struct cas_http_config hc;
	struct certverify *smime = NULL;
	struct sweep sweep;
	char *cert = NULL, *key = NULL, *error = NULL;
	size_t cert_len = 0, key_len = 0;
	enum log_level level = LOG_LEVEL_INFO;
	sigset_t sigs;
	int sig, ret = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else {
			usage();
			return 2;
		}
	}
	log_init("easd-cas", LOG_LEVEL_INFO);
	if (conf_load(path, &conf, &error) != 0 ||
	    cas_conf_load(conf, &cc, &error) != 0)
		goto out;
	if (log_level_parse(cc->log_level, &level) != 0) {
		log_error("[cas] log_level = %s: expected error, warn, info "
			  "or debug",
			  cc->log_level);
		goto out;
	}
	log_init("easd-cas", level);
	raise_nofile();
	if (cc->https_listen.enabled) {
		if (cas_tls_read_file(cc->tls_cert, &cert, &cert_len, &error) !=
			0 ||
		    cas_tls_read_file(cc->tls_key, &key, &key_len, &error) !=
			0 ||
		    cas_tls_check(cert, cert_len, key, key_len,
				  cc->tls_self_signed, &error) != 0)
			goto out;
	}
	if (cas_proxies_parse(cc->trusted_proxies != NULL ? cc->trusted_proxies
							  : "",
			      &proxies, &error) != 0)
		goto out;
	if (cas_auth_new(cc->auth_cache_ttl_s, &auth) != 0) {
		log_error("cannot initialise authentication");
		goto out;
	}
	/* Signals are taken synchronously by this thread only. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	/* After the signal mask: the mailbox client's thread inherits it. */
	memset(&mcc, 0, sizeof(mcc));
	mcc.addr = cc->mailbox;
	mcc.tls_ca = cc->tls_ca;
	mcc.tls_cert = cc->tls_cert;
	mcc.tls_key = cc->tls_key;
	if (mbox_client_start(&mcc, &mbox, &error) != 0)
		goto out;
	memset(&rqc, 0, sizeof(rqc));
	rqc.mbox = mbox;
	cas_request_init(&rqc);
	/* Heartbeat bounds and the Sync keep-alive interval. */
	{
		struct watch_settings ws;

		cas_conf_watch_settings(cc, &ws);
		watch_configure(&ws);
	}

	/* Autodiscover: served only when [cas] public_url says where. */
	{
		struct cas_autodiscover_config ac = {
		    .public_url = cc->public_url,
		    .domain = cc->autodiscover_domain,
		    .mbox = mbox,
		};

		if (cas_autodiscover_configure(&ac) != 0) {
			log_error("[cas] public_url: cannot configure "
				  "Autodiscover");
			goto out;
		}
		if (cc->public_url == NULL)
			log_info("no [cas] public_url: Autodiscover is off");
	}
	/* ValidateCert: the system's anchors plus the configured files; a
	 * file that cannot be read stops the start. */
	if (certverify_new(cc->smime_ca_file, cc->smime_crl_file, &smime,
			   &error) != 0)
		goto out;
	certverify_set_default(smime);
	memset(&hc, 0, sizeof(hc));
	hc.http = &cc->http_listen;
	hc.https = &cc->https_listen;
	hc.tls_cert_pem = cert;
	hc.tls_key_pem = key;
	hc.proxies = proxies;
	hc.auth = auth;
	hc.verifier = mbox_client_verifier(mbox);
	hc.plain_auth = cc->allow_plain_auth;
	hc.max_body_bytes = cc->max_body_bytes;
	hc.server_version = CAS_SERVER_VERSION;
	hc.threads = cc->http_threads;
	if (cas_http_start(&hc, &http, &error) != 0)
		goto out;
	if (cc->http_listen.enabled)
		log_info("listening on http://%s (port %u)",
			 cc->http_listen.text, cas_http_port(http, false));
	if (cc->https_listen.enabled)
		log_info("listening on https://%s (port %u)",
			 cc->https_listen.text, cas_http_port(http, true));
	if (hc.verifier.verify == NULL)
		log_warn("no mailbox verifier: authenticated requests get 503");
	sweep.http = http;
	sweep.auth = auth;
	memset(&sweep.timer, 0, sizeof(sweep.timer));
	cas_http_timer_add(http, &sweep.timer, 60, auth_sweep_tick, &sweep);

	sigdelset(&sigs, SIGPIPE);
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	log_info("signal %d: answering held requests and stopping", sig);
	cas_http_shutdown(http, CAS_SHUTDOWN_WAIT_MS);
	(void)cas_http_timer_cancel(http, &sweep.timer);
	/* Calls still pending answer their requests (and auth's done())
	 * before the server goes. */
	mbox_client_free(&mbox);
	ret = 0;
out:
	if (error != NULL) {
		log_error("%s", error);
		free(error);
	}
	mbox_client_free(&mbox);
	cas_http_free(&http);
	certverify_set_default(NULL);
	certverify_free(&smime);
	cas_auth_free(&auth);
	cas_proxies_free(&proxies);
	if (key != NULL) {
		OPENSSL_cleanse(key, key_len);
		free(key);
	}
	free(cert);
	cas_conf_free(&cc);
	conf_free(&conf);
	return ret;
}
