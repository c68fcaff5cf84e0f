/*
 * easd-mailbox: the daemon that owns the data.  Reads [mailbox] from the
 * shared INI file (--config FILE, default /etc/easd/easd.conf), runs in the
 * foreground logging to stderr, and wires together the event loop (socket
 * I/O: RPC and LMTP), the shard workers (SQLite), the RPC server
 * (rpc_server.c), the LMTP listener (lmtp_server.c) and the send queue
 * (sendq.c).
 *
 * Stop (SIGTERM/SIGINT, through the loop's signalfd): stop accepting RPC
 * and LMTP connections, let the workers finish every queued task (in-flight
 * deliveries commit or fail), run the loop's posted tasks so their replies
 * are written, then close the sessions and the databases.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mailbox/devices.h"
#include "mailbox/directory.h"
#include "mailbox/lmtp_server.h"
#include "mailbox/mbox_conf.h"
#include "mailbox/mime.h"
#include "mailbox/rpc_server.h"
#include "mailbox/secret.h"
#include "mailbox/sendq.h"
#include "mailbox/submit.h"
#include "proto/conf.h"
#include "proto/log.h"

int main(int argc, char **argv);

/* Send-queue retry base and attempt bound: [mailbox] queue_retry_s and
 * queue_max_attempts (a day of retries at the defaults). */
#define MAIN_DEFAULT_RETRY_S 60
#define MAIN_DEFAULT_MAX_ATTEMPTS 24
/* Free memory kept by malloc before it is returned to the system. */
#define MAIN_MALLOC_TRIM_BYTES (64 * 1024 * 1024)

static int
usage(void)
{
	fprintf(stderr, "usage: easd-mailbox [--config FILE]\n");
	return 2;
}

/* mkdir -p for data_dir (0700: mail is private). */
static int
make_dirs(const char *path)
{
	char tmp[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* store_dir_devpw_migrate's sealing step: bound to user and device. */
static int
devpw_seal(void *arg, int64_t user_id, const char *device_id, const char *plain,
	   uint8_t **sealed_r, size_t *sealed_len_r)
{
	uint8_t aad[SECRET_DEVPW_AAD_MAX];
	size_t aad_len = secret_devpw_aad(user_id, device_id, aad, sizeof(aad));

	if (aad_len == 0)
		return -1;
	return secret_seal(arg, aad, aad_len, (const uint8_t *)plain,
			   strlen(plain), sealed_r, sealed_len_r);
}

/* Recovery passwords stored in clear before dir schema v3 are sealed at
 * the first start with a key (devices.h); later starts find none. */
static int
devpw_migrate(struct store_dir *dir, struct secret_key *key)
{
	size_t n = 0;

	if (store_dir_devpw_migrate(dir, devpw_seal, key, &n) < 0) {
		log_error("sealing stored recovery passwords: %s",
			  store_dir_last_error(dir)->msg);
		return -1;
	}
	if (n > 0)
		log_info("sealed %zu recovery passwords stored in clear by an "
			 "older version",
			 n);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *config_path = CONF_DEFAULT_PATH;
	struct conf *conf = NULL;
	struct mbox_conf mc;
	struct mbox_ctx ctx;
	struct lmtp_server *lmtp = NULL;
	struct secret_key *secret_key = NULL;
	struct store_dir *dir;
	enum store_status status;
	const char *error = NULL;
	char *cerr = NULL;
	int64_t v;
	unsigned retry_s, max_attempts;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config_path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			config_path = argv[i] + 9;
		else
			return usage();
	}
	memset(&ctx, 0, sizeof(ctx));
	/* Keep freed memory instead of handing it back after every message:
	 * glibc's trimming of thread arenas (madvise) costs a TLB shootdown
	 * across threads per delivery batch.  Bounded by the trim threshold. */
	(void)mallopt(M_TRIM_THRESHOLD, MAIN_MALLOC_TRIM_BYTES);
	log_init("easd-mailbox", LOG_LEVEL_INFO);
	if (conf_load(config_path, &conf, &cerr) < 0 ||
	    mbox_conf_read(conf, &mc, &cerr) < 0) {
		log_error("%s", cerr != NULL ? cerr : "configuration");
		goto out;
	}
	if (conf_get_int(conf, MBOX_CONF_SECTION, "queue_retry_s",
			 MAIN_DEFAULT_RETRY_S, 1, 86400, &v, &cerr) < 0) {
		log_error("%s", cerr);
		goto out;
	}
	retry_s = (unsigned)v;
	if (conf_get_int(conf, MBOX_CONF_SECTION, "queue_max_attempts",
			 MAIN_DEFAULT_MAX_ATTEMPTS, 1, 1000, &v, &cerr) < 0) {
		log_error("%s", cerr);
		goto out;
	}
	max_attempts = (unsigned)v;
	log_init("easd-mailbox", mc.log_level);
	ctx.conf = &mc;
	if (make_dirs(mc.data_dir) < 0) {
		log_error("data_dir %s: %s", mc.data_dir, strerror(errno));
		goto out;
	}
	mime_init();
	if (*mc.smtp_relay != 0)
		submit_init();
	ctx.loop = loop_new(&error);
	if (ctx.loop == NULL || loop_handle_signals(ctx.loop, &error) < 0) {
		log_error("event loop: %s", error);
		goto out;
	}
	/* The key sealing values at rest, made at the first start. */
	if (secret_key_load(mc.secret_key_file, true, &secret_key, &cerr) < 0) {
		log_error("%s", cerr);
		goto out;
	}
	ctx.secret_key = secret_key;
	/* Opens (and migrates) the directory before anything is served. */
	if ((dir = mbox_shard_dir(&ctx, &status)) == NULL) {
		log_error("directory in %s: %s", mc.data_dir,
			  store_status_name(status));
		goto out;
	}
	if (devpw_migrate(dir, secret_key) < 0)
		goto out;
	if (workers_new(mc.workers, &ctx.workers) < 0) {
		log_error("cannot start %u workers", mc.workers);
		goto out;
	}
	if (mbox_rpc_start(&ctx, &error) < 0) {
		log_error("rpc_listen %s: %s", mc.rpc_listen, error);
		goto out;
	}
	if (*mc.lmtp_listen != 0 &&
	    lmtp_server_new(&ctx, mc.lmtp_listen, &lmtp, &error) < 0) {
		log_error("lmtp_listen %s: %s", mc.lmtp_listen, error);
		goto out;
	}
	if (*mc.smtp_relay != 0 &&
	    sendq_new(&ctx, retry_s, max_attempts, &ctx.sendq, &error) < 0) {
		log_error("send queue: %s", error);
		goto out;
	}
	log_info("ready: rpc %s, lmtp %s, %u workers, data %s", mc.rpc_listen,
		 *mc.lmtp_listen ? mc.lmtp_listen : "off", mc.workers,
		 mc.data_dir);
	rc = loop_run(ctx.loop) == 0 ? 0 : 1;
	log_info("stopping");
out:
	if (lmtp != NULL)
		lmtp_server_stop_accepting(lmtp);
	/* Every queued task runs; results are posted to the loop. */
	workers_free(&ctx.workers);
	if (ctx.loop != NULL)
		loop_run_posted(ctx.loop);
	lmtp_server_free(&lmtp);
	rpc_server_free(&ctx.rpc);
	sendq_free(&ctx.sendq);
	mbox_shard_release();
	loop_free(&ctx.loop);
	secret_key_free(&secret_key);
	conf_free(&conf);
	free(cerr);
	return rc;
}
