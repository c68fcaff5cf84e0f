/*
 * easctl import USER maildir|mbox PATH: migration of existing mail into a
 * user's Inbox through the Import RPC (each message stored durably, as
 * LMTP would).  Maildir: the files of cur/ and new/, read when the info
 * part holds the "S" flag (":2,S", the maildir convention).  mbox
 * (mboxrd/mboxo): messages start at "From " lines; ">From " quoting is
 * undone one level (mboxrd).  Progress every IMPORT_PROGRESS_EVERY
 * messages and a summary go to stderr; a message that fails is counted and
 * the import goes on.  Messages above IMPORT_MAX_MESSAGE_BYTES are skipped
 * (the daemon would refuse them anyway, by max_message_bytes).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/buf.h"
#include "proto/limits.h"
#include "tools/easctl.h"
#include "tools/easctl_conn.h"

#define IMPORT_MAX_MESSAGE_BYTES STORE_MAX_MIME_BYTES
#define IMPORT_PROGRESS_EVERY 100

struct import {
	struct easctl_conn *conn;
	uint64_t user;
	unsigned long ok, failed, skipped;
};

static void
import_one(struct import *im, const uint8_t *data, size_t len, bool read,
	   const char *where)
{
	Rpc__ImportRequest q;
	ProtobufCMessage *reply;
	const char *error;
	Rpc__Status st;

	if (len == 0 || len > IMPORT_MAX_MESSAGE_BYTES) {
		fprintf(stderr, "easctl: %s: skipped (%zu bytes)\n", where,
			len);
		im->skipped++;
		return;
	}
	rpc__import_request__init(&q);
	q.user = im->user;
	q.mime.data = (uint8_t *)(uintptr_t)data;
	q.mime.len = len;
	q.read = read;
	st = easctl_call(im->conn, RPC__MSG_TYPE__MSG_IMPORT, &q.base, &reply,
			 &error);
	if (st != RPC__STATUS__STATUS_OK) {
		fprintf(stderr, "easctl: %s: %s%s%s\n", where,
			easctl_status_name(st), *error ? ": " : "", error);
		im->failed++;
		return;
	}
	protobuf_c_message_free_unpacked(reply, NULL);
	if (++im->ok % IMPORT_PROGRESS_EVERY == 0)
		fprintf(stderr, "easctl: %lu messages imported\n", im->ok);
}

/* Reads a whole file, bounded; -1 on error or when too large. */
static int
read_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	uint8_t chunk[65536];
	size_t n;
	int rc = 0;

	buf_reset(out);
	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(out, chunk, n) < 0) {
			rc = -1;
			break;
		}
	if (ferror(f))
		rc = -1;
	(void)fclose(f);
	return rc;
}

static int
import_maildir(struct import *im, const char *path)
{
	static const char *const subdirs[] = {"cur", "new"};
	struct buf msg;
	char file[4096];

	buf_init(&msg, IMPORT_MAX_MESSAGE_BYTES);
	for (size_t s = 0; s < 2; s++) {
		DIR *d;
		struct dirent *e;

		(void)snprintf(file, sizeof(file), "%s/%s", path, subdirs[s]);
		d = opendir(file);
		if (d == NULL) {
			fprintf(stderr, "easctl: %s: %s\n", file,
				strerror(errno));
			buf_free(&msg);
			return -1;
		}
		while ((e = readdir(d)) != NULL) {
			const char *info;
			bool read;

			if (e->d_name[0] == '.')
				continue;
			(void)snprintf(file, sizeof(file), "%s/%s/%s", path,
				       subdirs[s], e->d_name);
			if (read_file(file, &msg) < 0) {
				fprintf(stderr,
					"easctl: %s: unreadable or too large\n",
					file);
				im->skipped++;
				continue;
			}
			info = strstr(e->d_name, ":2,");
			read = info != NULL && strchr(info + 3, 'S') != NULL;
			import_one(im, msg.data, msg.len, read, file);
		}
		(void)closedir(d);
	}
	buf_free(&msg);
	return 0;
}

/* "From " at the start of a line separates mbox messages. */
static int
import_mbox(struct import *im, const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf msg;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long count = 0;
	bool in_msg = false, too_big = false;
	char where[4200];

	if (f == NULL) {
		fprintf(stderr, "easctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf_init(&msg, IMPORT_MAX_MESSAGE_BYTES);
	while ((n = getline(&line, &cap, f)) >= 0) {
		const char *p = line;
		size_t len = (size_t)n;

		if (len >= 5 && memcmp(line, "From ", 5) == 0) {
			if (in_msg) {
				(void)snprintf(where, sizeof(where),
					       "%s message %lu", path, count);
				if (too_big)
					im->skipped++;
				else
					import_one(im, msg.data, msg.len, false,
						   where);
			}
			buf_reset(&msg);
			in_msg = true;
			too_big = false;
			count++;
			continue;
		}
		if (!in_msg)
			continue;
		/* mboxrd: ">From ", ">>From "... lose one '>'. */
		if (len > 5 && line[0] == '>') {
			size_t k = 0;

			while (k < len && line[k] == '>')
				k++;
			if (len - k >= 5 && memcmp(line + k, "From ", 5) == 0) {
				p++;
				len--;
			}
		}
		if (!too_big && buf_append(&msg, p, len) < 0)
			too_big = true;
	}
	if (in_msg) {
		(void)snprintf(where, sizeof(where), "%s message %lu", path,
			       count);
		if (too_big)
			im->skipped++;
		else
			import_one(im, msg.data, msg.len, false, where);
	}
	free(line);
	buf_free(&msg);
	(void)fclose(f);
	return 0;
}

static int
import_run(const struct easctl_ctx *ctx, int argc, char **argv)
{
	struct import im = {0};
	int rc;

	if (argc != 4 ||
	    (strcmp(argv[2], "maildir") != 0 && strcmp(argv[2], "mbox") != 0))
		return 2;
	im.conn = easctl_conn_open(ctx);
	if (im.conn == NULL)
		return 1;
	if (easctl_user_id(im.conn, argv[1], &im.user) < 0) {
		easctl_conn_close(&im.conn);
		return 1;
	}
	if (strcmp(argv[2], "maildir") == 0)
		rc = import_maildir(&im, argv[3]);
	else
		rc = import_mbox(&im, argv[3]);
	fprintf(stderr,
		"easctl: import into %s: %lu imported, %lu failed, "
		"%lu skipped\n",
		argv[1], im.ok, im.failed, im.skipped);
	easctl_conn_close(&im.conn);
	return rc == 0 && im.failed == 0 && im.skipped == 0 ? 0 : 1;
}

static const struct easctl_command import_cmd = {
    .name = "import",
    .summary = "import USER maildir|mbox PATH: migrate mail",
    .usage = "usage: easctl import USER maildir|mbox PATH\n"
	     "Messages go to the user's Inbox; maildir files with the S\n"
	     "flag are marked read.  Progress and a summary on stderr.\n",
    .run = import_run,
};
EASCTL_COMMAND(import_cmd)
