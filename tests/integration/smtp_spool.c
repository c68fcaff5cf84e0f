/*
 * An SMTP sink for the integration scripts (test_e2e_send.sh):
 *
 *   smtp_spool DIR SECONDS
 *       listens on 127.0.0.1 (kernel-chosen port), prints the port on
 *       standard output as one line, and accepts every message into
 *       DIR/msg-<n>.eml (tests/lib/smtp_sink.h: envelope as X-Sink-*
 *       lines, then the message) until SIGTERM or SECONDS have passed,
 *       so a script that dies never leaves it running for long.
 *
 * Only loopback; every wait is bounded by the sink's own timeouts.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/lib/smtp_sink.h"

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct smtp_sink_config cfg = {0};
	struct smtp_sink *sink;
	struct sigaction sa;
	long seconds;
	char *end = NULL;

	if (argc != 3) {
		fprintf(stderr, "usage: smtp_spool DIR SECONDS\n");
		return 2;
	}
	seconds = strtol(argv[2], &end, 10);
	if (end == argv[2] || *end != '\0' || seconds <= 0 || seconds > 3600) {
		fprintf(stderr, "smtp_spool: bad SECONDS\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	cfg.spool_dir = argv[1];
	sink = smtp_sink_start(&cfg);
	if (sink == NULL) {
		fprintf(stderr, "smtp_spool: cannot listen\n");
		return 1;
	}
	printf("%d\n", smtp_sink_port(sink));
	fflush(stdout);
	for (long i = 0; i < seconds * 10 && !stop; i++) {
		struct timespec ts = {0, 100 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
	smtp_sink_stop(sink);
	smtp_sink_free(&sink);
	return 0;
}
