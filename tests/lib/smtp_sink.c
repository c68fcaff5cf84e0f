/*
 * The loopback SMTP sink (see tests/lib/smtp_sink.h).  One thread accepts
 * a connection, speaks a minimal RFC 5321 dialogue with line reads bounded
 * to SINK_LINE_BYTES and a message bounded to SINK_MAX_DATA_BYTES, and
 * goes back to accept until stopped.  Receive timeouts bound every read.
 */
#include "tests/lib/smtp_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define SINK_LINE_BYTES 2048
#define SINK_MAX_DATA_BYTES (8u * 1024u * 1024u)
#define SINK_POLL_MS 50
#define SINK_RECV_TIMEOUT_S 5

struct conn {
	int fd;
	char buf[SINK_LINE_BYTES * 2];
	size_t len;
};

/* Bounded copy that always terminates (and may cut). */
static void
copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int
send_str(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
reply(int fd, int code, const char *text)
{
	char line[256];

	snprintf(line, sizeof(line), "%d %s\r\n", code, text);
	return send_str(fd, line);
}

/* One line without CRLF into line; -1 on EOF, error or timeout. */
static int
read_line(struct conn *c, char *line, size_t size)
{
	for (;;) {
		char *lf = memchr(c->buf, '\n', c->len);
		ssize_t r;

		if (lf != NULL) {
			size_t n = (size_t)(lf - c->buf);
			size_t copy = n;

			if (copy > 0 && c->buf[copy - 1] == '\r')
				copy--;
			if (copy >= size)
				copy = size - 1;
			memcpy(line, c->buf, copy);
			line[copy] = '\0';
			memmove(c->buf, lf + 1, c->len - n - 1);
			c->len -= n + 1;
			return 0;
		}
		if (c->len == sizeof(c->buf))
			return -1;
		r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (r <= 0)
			return -1;
		c->len += (size_t)r;
	}
}

/* Base64 decode for AUTH PLAIN (RFC 4616), NUL shown as '|'. */
static void
decode_plain(const char *in, char *out, size_t size)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
				  "rstuvwxyz0123456789+/";
	unsigned bits = 0, nbits = 0;
	size_t o = 0;

	for (; *in != '\0' && *in != '=' && o + 1 < size; in++) {
		const char *p = strchr(tab, *in);

		if (p == NULL)
			break;
		bits = (bits << 6) | (unsigned)(p - tab);
		nbits += 6;
		if (nbits >= 8) {
			char ch = (char)((bits >> (nbits - 8)) & 0xff);

			nbits -= 8;
			out[o++] = ch == '\0' ? '|' : ch;
		}
	}
	out[o] = '\0';
}

/* The accepted message into the spool directory (see smtp_sink.h). */
static void
spool(struct smtp_sink *s, int n)
{
	char tmp[512], path[512];
	FILE *f;

	(void)snprintf(tmp, sizeof(tmp), "%s/.msg-%d.tmp", s->cfg.spool_dir, n);
	(void)snprintf(path, sizeof(path), "%s/msg-%d.eml", s->cfg.spool_dir,
		       n);
	f = fopen(tmp, "wb");
	if (f == NULL)
		return;
	fprintf(f, "X-Sink-Mail-From: %s\r\nX-Sink-Rcpts: %s\r\n", s->mail_from,
		s->rcpts);
	if (s->data_len > 0)
		(void)fwrite(s->data, 1, s->data_len, f);
	if (fclose(f) == 0)
		(void)rename(tmp, path);
}

static void
read_data(struct smtp_sink *s, struct conn *c)
{
	char line[SINK_LINE_BYTES];

	free(s->data);
	s->data = malloc(SINK_MAX_DATA_BYTES);
	s->data_len = 0;
	if (s->data == NULL)
		return;
	while (read_line(c, line, sizeof(line)) == 0) {
		const char *p = line;
		size_t n;

		if (strcmp(line, ".") == 0) {
			int code = s->cfg.dot_code ? s->cfg.dot_code : 250;

			if (code < 300) {
				int seq = atomic_fetch_add(&s->messages, 1) + 1;

				if (s->cfg.spool_dir != NULL)
					spool(s, seq);
			}
			reply(c->fd, code, "2.0.0 queued");
			return;
		}
		if (*p == '.')
			p++; /* RFC 5321 4.5.2 */
		n = strlen(p);
		if (s->data_len + n + 2 <= SINK_MAX_DATA_BYTES) {
			memcpy(s->data + s->data_len, p, n);
			memcpy(s->data + s->data_len + n, "\r\n", 2);
			s->data_len += n + 2;
		}
	}
}

static void
serve(struct smtp_sink *s, int fd)
{
	struct conn c = {.fd = fd};
	char line[SINK_LINE_BYTES];
	struct timeval tv = {SINK_RECV_TIMEOUT_S, 0};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (s->cfg.greet_delay_ms > 0) {
		struct timespec ts = {s->cfg.greet_delay_ms / 1000,
				      (s->cfg.greet_delay_ms % 1000) *
					  1000000L};

		nanosleep(&ts, NULL);
	}
	if (reply(fd, 220, "sink ESMTP") != 0)
		return;
	while (read_line(&c, line, sizeof(line)) == 0) {
		if (strncasecmp(line, "EHLO", 4) == 0) {
			send_str(fd, "250-sink\r\n250-8BITMIME\r\n");
			if (s->cfg.auth)
				send_str(fd, "250-AUTH PLAIN\r\n");
			send_str(fd, "250 SIZE 10000000\r\n");
		} else if (strncasecmp(line, "HELO", 4) == 0) {
			reply(fd, 250, "sink");
		} else if (strncasecmp(line, "AUTH PLAIN", 10) == 0) {
			const char *p = line + 10;

			while (*p == ' ')
				p++;
			if (*p == '\0') {
				send_str(fd, "334 \r\n");
				if (read_line(&c, line, sizeof(line)) != 0)
					break;
				p = line;
			}
			decode_plain(p, s->auth, sizeof(s->auth));
			reply(fd, 235, "2.7.0 Authentication successful");
		} else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
			char *gt = strchr(line + 10, '>');

			if (gt != NULL)
				gt[1] = '\0'; /* drop SIZE= and BODY= */
			copy_str(s->mail_from, sizeof(s->mail_from), line + 10);
			s->rcpts[0] = '\0';
			reply(fd, s->cfg.mail_code ? s->cfg.mail_code : 250,
			      s->cfg.mail_code >= 400 ? "4.3.2 try later"
						      : "2.1.0 ok");
		} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
			int code = s->cfg.rcpt_code ? s->cfg.rcpt_code : 250;

			if (s->cfg.reject_rcpt != NULL &&
			    strstr(line, s->cfg.reject_rcpt) != NULL)
				code = s->cfg.reject_code;
			if (code < 400) {
				size_t n = strlen(s->rcpts);

				if (n > 0 && n + 1 < sizeof(s->rcpts))
					s->rcpts[n++] = ',';
				copy_str(s->rcpts + n, sizeof(s->rcpts) - n,
					 line + 8);
			}
			reply(fd, code,
			      code >= 500   ? "5.1.1 no such user here"
			      : code >= 400 ? "4.2.2 mailbox full"
					    : "2.1.5 ok");
		} else if (strncasecmp(line, "DATA", 4) == 0) {
			int code = s->cfg.data_code ? s->cfg.data_code : 354;

			reply(fd, code, code == 354 ? "go ahead" : "no");
			if (code == 354)
				read_data(s, &c);
		} else if (strncasecmp(line, "RSET", 4) == 0 ||
			   strncasecmp(line, "NOOP", 4) == 0) {
			reply(fd, 250, "2.0.0 ok");
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			reply(fd, 221, "2.0.0 bye");
			break;
		} else {
			reply(fd, 502, "5.5.2 unknown command");
		}
	}
}

static void *
sink_main(void *arg)
{
	struct smtp_sink *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd pfd = {s->listen_fd, POLLIN, 0};
		int fd;

		if (poll(&pfd, 1, SINK_POLL_MS) <= 0)
			continue;
		fd = accept(s->listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		s->sessions++;
		serve(s, fd);
		close(fd);
	}
	return NULL;
}

struct smtp_sink *
smtp_sink_start(const struct smtp_sink_config *cfg)
{
	struct smtp_sink *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof(sa);
	int one = 1;

	if (s == NULL)
		return NULL;
	s->cfg = *cfg;
	atomic_init(&s->stop, 0);
	s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (s->listen_fd < 0)
		goto fail;
	setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(s->listen_fd, 8) != 0 ||
	    getsockname(s->listen_fd, (struct sockaddr *)&sa, &sl) != 0)
		goto fail;
	s->port = ntohs(sa.sin_port);
	if (pthread_create(&s->thread, NULL, sink_main, s) != 0)
		goto fail;
	return s;
fail:
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	free(s);
	return NULL;
}

int
smtp_sink_port(const struct smtp_sink *s)
{
	return s->port;
}

void
smtp_sink_stop(struct smtp_sink *s)
{
	if (atomic_exchange(&s->stop, 1) == 0)
		pthread_join(s->thread, NULL);
}

void
smtp_sink_free(struct smtp_sink **sink)
{
	struct smtp_sink *s = *sink;

	if (s == NULL)
		return;
	smtp_sink_stop(s);
	close(s->listen_fd);
	free(s->data);
	free(s);
	*sink = NULL;
}
