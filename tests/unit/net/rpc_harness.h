/*
 * Test harness shared by the RPC tests: a server running its own loop on a
 * thread (as the mailbox does), a bounded way to pump a client loop until
 * a condition holds, and a scratch directory.  Functions are static inline
 * so each test binary takes only what it uses.
 */
#ifndef EASD_TESTS_RPC_HARNESS_H
#define EASD_TESTS_RPC_HARNESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/loop.h"
#include "net/rpc_client.h"
#include "net/rpc_server.h"

struct harness_server {
	struct loop *loop;
	struct rpc_server *server;
	pthread_t thread;
	bool running;
};

static inline void *
harness_server_main(void *arg)
{
	struct harness_server *h = arg;

	(void)loop_run(h->loop);
	return NULL;
}

/* Create the server on this thread, then run its loop on a new one.
 * 0, or -1 with error_r. */
static inline int
harness_server_start(struct harness_server *h,
		     const struct rpc_server_config *config,
		     rpc_server_request_fn *fn, void *arg, const char **error_r)
{
	memset(h, 0, sizeof(*h));
	h->loop = loop_new(error_r);
	if (h->loop == NULL)
		return -1;
	h->server = rpc_server_new(h->loop, config, fn, arg, error_r);
	if (h->server == NULL) {
		loop_free(&h->loop);
		return -1;
	}
	if (pthread_create(&h->thread, NULL, harness_server_main, h) != 0) {
		rpc_server_free(&h->server);
		loop_free(&h->loop);
		*error_r = "pthread_create failed";
		return -1;
	}
	h->running = true;
	return 0;
}

/* Stop the loop thread; stats_r (may be NULL) gets the final counters. */
static inline void
harness_server_stop(struct harness_server *h, struct rpc_server_stats *stats_r)
{
	if (!h->running)
		return;
	loop_stop(h->loop);
	pthread_join(h->thread, NULL);
	if (stats_r != NULL)
		rpc_server_get_stats(h->server, stats_r);
	rpc_server_free(&h->server);
	loop_free(&h->loop);
	h->running = false;
}

/* Run loop until *flag is true or timeout_ms passed; returns *flag. */
static inline bool
harness_pump(struct loop *loop, const bool *flag, int timeout_ms)
{
	uint64_t deadline = loop_now_ms() + (uint64_t)timeout_ms;

	while (!*flag) {
		uint64_t now = loop_now_ms();

		if (now >= deadline)
			break;
		if (loop_run_once(
			loop,
			(int)(deadline - now > 50 ? 50 : deadline - now)) < 0)
			break;
	}
	return *flag;
}

/* Run loop for about ms milliseconds (to see that nothing arrives). */
static inline void
harness_idle(struct loop *loop, int ms)
{
	bool never = false;

	(void)harness_pump(loop, &never, ms);
}

static inline char *
harness_tmpdir(void)
{
	char tmpl[] = "/tmp/easd-rpc-test-XXXXXX";
	char *dir = mkdtemp(tmpl);

	return dir != NULL ? strdup(dir) : NULL;
}

static inline void
harness_rmdir(char *dir, const char *const *files)
{
	char path[512];
	size_t i;

	for (i = 0; files != NULL && files[i] != NULL; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
	free(dir);
}

#endif
