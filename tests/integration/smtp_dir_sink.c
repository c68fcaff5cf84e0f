/*
 * An SMTP server for integration scripts: `smtp_dir_sink PORT DIR` listens
 * on 127.0.0.1:PORT, accepts every transaction and writes each message to
 * DIR/msg.N (N counting from 1) as "X-Envelope-From: <from>" and
 * "X-Envelope-To: <rcpt>" lines followed by the data, dot-unstuffed.  The
 * file appears by rename once complete, so a script may poll the
 * directory.  Runs until killed; one connection at a time; every read
 * waits at most SINK_IO_TIMEOUT_S, and a line or message over its bound
 * ends the connection.  Used by tests/integration/test_e2e_settings.sh to
 * count Out-of-Office replies.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define SINK_IO_TIMEOUT_S 10
#define SINK_MAX_LINE_BYTES 4096
#define SINK_MAX_MESSAGE_BYTES (4u * 1024u * 1024u)
#define SINK_MAX_RCPTS 64

int main(int argc, char **argv);

struct conn {
	int fd;
	char in[SINK_MAX_LINE_BYTES * 2];
	size_t len;
};

static int
say(int fd, const char *line)
{
	size_t n = strlen(line);

	return write(fd, line, n) == (ssize_t)n ? 0 : -1;
}

/* One CRLF- or LF-terminated line without its end into out; -1 on EOF,
 * timeout or an over-long line. */
static int
read_line(struct conn *c, char *out, size_t size)
{
	for (;;) {
		char *nl = memchr(c->in, '\n', c->len);
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		ssize_t n;

		if (nl != NULL) {
			size_t l = (size_t)(nl - c->in);
			size_t keep = l;

			if (keep > 0 && c->in[keep - 1] == '\r')
				keep--;
			if (keep >= size)
				return -1;
			memcpy(out, c->in, keep);
			out[keep] = 0;
			memmove(c->in, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			return 0;
		}
		if (c->len >= sizeof(c->in))
			return -1;
		if (poll(&p, 1, SINK_IO_TIMEOUT_S * 1000) != 1)
			return -1;
		n = read(c->fd, c->in + c->len, sizeof(c->in) - c->len);
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
	}
}

static void
serve(int fd, const char *dir, unsigned *seq)
{
	struct conn c = {.fd = fd};
	char line[SINK_MAX_LINE_BYTES], from[SINK_MAX_LINE_BYTES] = "";
	char *rcpts[SINK_MAX_RCPTS];
	size_t n_rcpts = 0;

	if (say(fd, "220 sink ESMTP\r\n") != 0)
		return;
	while (read_line(&c, line, sizeof(line)) == 0) {
		if (strncasecmp(line, "EHLO", 4) == 0) {
			(void)say(fd, "250-sink\r\n250 8BITMIME\r\n");
		} else if (strncasecmp(line, "HELO", 4) == 0 ||
			   strncasecmp(line, "NOOP", 4) == 0) {
			(void)say(fd, "250 ok\r\n");
		} else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
			(void)snprintf(from, sizeof(from), "%s", line + 10);
			for (size_t i = 0; i < n_rcpts; i++)
				free(rcpts[i]);
			n_rcpts = 0;
			(void)say(fd, "250 ok\r\n");
		} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
			if (n_rcpts == SINK_MAX_RCPTS ||
			    (rcpts[n_rcpts] = strdup(line + 8)) == NULL) {
				(void)say(fd, "452 too many\r\n");
				continue;
			}
			n_rcpts++;
			(void)say(fd, "250 ok\r\n");
		} else if (strncasecmp(line, "RSET", 4) == 0) {
			for (size_t i = 0; i < n_rcpts; i++)
				free(rcpts[i]);
			n_rcpts = 0;
			(void)say(fd, "250 ok\r\n");
		} else if (strncasecmp(line, "DATA", 4) == 0) {
			char tmp[4096], final[4096];
			size_t total = 0;
			FILE *f;

			(void)snprintf(tmp, sizeof(tmp), "%s/.tmp", dir);
			f = fopen(tmp, "w");
			if (f == NULL || say(fd, "354 go\r\n") != 0)
				break;
			fprintf(f, "X-Envelope-From: %s\n", from);
			for (size_t i = 0; i < n_rcpts; i++)
				fprintf(f, "X-Envelope-To: %s\n", rcpts[i]);
			for (;;) {
				if (read_line(&c, line, sizeof(line)) != 0) {
					fclose(f);
					goto out;
				}
				if (strcmp(line, ".") == 0)
					break;
				total += strlen(line) + 1;
				if (total > SINK_MAX_MESSAGE_BYTES) {
					fclose(f);
					goto out;
				}
				fprintf(f, "%s\n",
					line[0] == '.' ? line + 1 : line);
			}
			fclose(f);
			(void)snprintf(final, sizeof(final), "%s/msg.%u", dir,
				       ++*seq);
			if (rename(tmp, final) != 0)
				break;
			(void)say(fd, "250 queued\r\n");
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			(void)say(fd, "221 bye\r\n");
			break;
		} else {
			(void)say(fd, "502 no\r\n");
		}
	}
out:
	for (size_t i = 0; i < n_rcpts; i++)
		free(rcpts[i]);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in a;
	unsigned seq = 0;
	long port;
	int fd, one = 1;

	if (argc != 3 || (port = strtol(argv[1], NULL, 10)) <= 0 ||
	    port > 65535) {
		fprintf(stderr, "usage: smtp_dir_sink PORT DIR\n");
		return 2;
	}
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(fd, 8) != 0) {
		perror("smtp_dir_sink");
		return 1;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			continue;
		serve(c, argv[2], &seq);
		close(c);
	}
}
