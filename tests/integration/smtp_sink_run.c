/*
 * An SMTP relay for integration scripts: tests/lib/smtp_sink on a loopback
 * port, printed on stdout.  It runs until the file named by argv[1]
 * exists (the script's "done" signal) or argv[3] seconds pass, then writes
 * the last message received to argv[2] and its envelope ("MAIL FROM" line,
 * then the recipients) to argv[2].env.  Exit 0 when a message came.
 */
#include "tests/lib/smtp_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct smtp_sink_config cfg;
	struct smtp_sink *sink;
	char envpath[4096];
	long seconds;
	FILE *f;
	int rc = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: smtp_sink_run STOPFILE OUT SECONDS\n");
		return 2;
	}
	seconds = strtol(argv[3], NULL, 10);
	memset(&cfg, 0, sizeof(cfg));
	sink = smtp_sink_start(&cfg);
	if (sink == NULL)
		return 2;
	printf("%d\n", smtp_sink_port(sink));
	fflush(stdout);
	/* Bounded: at most seconds * 20 polls. */
	for (long i = 0; i < seconds * 20 && access(argv[1], F_OK) != 0; i++)
		usleep(50000);
	smtp_sink_stop(sink);
	if (sink->data != NULL) {
		f = fopen(argv[2], "wb");
		if (f != NULL) {
			fwrite(sink->data, 1, sink->data_len, f);
			fclose(f);
		}
		(void)snprintf(envpath, sizeof(envpath), "%s.env", argv[2]);
		f = fopen(envpath, "w");
		if (f != NULL) {
			fprintf(f, "%s\n%s\n", sink->mail_from, sink->rcpts);
			fclose(f);
		}
		rc = 0;
	}
	smtp_sink_free(&sink);
	return rc;
}
