/*
 * LMTP client for the mailbox integration tests and the LMTP benchmark.
 *
 *   lmtp_load send PORT FROM RCPT... < message
 *       one transaction; prints each recipient's final reply code
 *       ("250", "550", ...) on its own line, in order.
 *   lmtp_load load PORT RCPT[,RCPT...] CONNS COUNT SIZE ACKLOG
 *       COUNT messages (connection i sends to the i-th recipient of the
 *       list, round robin) of about SIZE bytes over CONNS concurrent
 *       connections (threads).  Every attempt has a unique Message-ID
 *       <load-N-A@test>; each one acknowledged with 250 is appended to
 *       ACKLOG ("-" for none) as soon as the reply is read.  A connection
 *       that fails (the daemon was killed) is retried after
 *       LOAD_RETRY_MS, at most LOAD_MAX_ATTEMPTS times per message, so
 *       the run ends even if the daemon never comes back.  Prints
 *       "acked N failed M seconds S rate R".
 *
 * Only 127.0.0.1.  Every socket wait is bounded (SO_RCVTIMEO).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOAD_MAX_CONNS 64
#define LOAD_MAX_ATTEMPTS 400
#define LOAD_RETRY_MS 50
#define LOAD_TIMEOUT_S 20
/* send: a message with a 10 MB attachment (ItemOperations tests and
 * benchmarks) is about 14 MB once base64-encoded. */
#define LOAD_MAX_SIZE (32 * 1024 * 1024)
#define LINE_MAX_BYTES 1024

int main(int argc, char **argv);

struct lconn {
	int fd;
	char buf[8192];
	size_t len;
};

static int
lconn_open(struct lconn *c, int port)
{
	struct sockaddr_in sa;
	struct timeval tv = {.tv_sec = LOAD_TIMEOUT_S};

	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0)
		return -1;
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){1},
			 sizeof(int));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		(void)close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

static void
lconn_close(struct lconn *c)
{
	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = -1;
}

static int
lconn_write(struct lconn *c, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One reply line (without CRLF) into line; -1 on EOF/timeout. */
static int
lconn_line(struct lconn *c, char *line, size_t size)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		ssize_t n;

		if (nl != NULL) {
			size_t l = (size_t)(nl - c->buf);
			size_t keep = l;

			if (keep > 0 && c->buf[keep - 1] == '\r')
				keep--;
			if (keep >= size)
				keep = size - 1;
			memcpy(line, c->buf, keep);
			line[keep] = 0;
			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			return 0;
		}
		if (c->len == sizeof(c->buf))
			return -1;
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
	}
}

/* A final (non-continuation) reply; its code, or -1. */
static int
lconn_reply(struct lconn *c)
{
	char line[LINE_MAX_BYTES];

	for (;;) {
		if (lconn_line(c, line, sizeof(line)) < 0 || strlen(line) < 3)
			return -1;
		if (line[3] != '-')
			return (int)strtol(line, NULL, 10);
	}
}

static int
lconn_cmd(struct lconn *c, const char *cmd)
{
	if (lconn_write(c, cmd, strlen(cmd)) < 0 ||
	    lconn_write(c, "\r\n", 2) < 0)
		return -1;
	return lconn_reply(c);
}

static int
lconn_hello(struct lconn *c, int port)
{
	if (lconn_open(c, port) < 0)
		return -1;
	if (lconn_reply(c) != 220 || lconn_cmd(c, "LHLO test") != 250) {
		lconn_close(c);
		return -1;
	}
	return 0;
}

/* Writes msg with dot-stuffing and the final dot, in one send. */
static int
lconn_data(struct lconn *c, const char *msg, size_t len)
{
	char *out = malloc(2 * len + 8);
	size_t o = 0, start = 0;
	int rc;

	if (out == NULL)
		return -1;
	for (size_t i = 0; i <= len; i++) {
		size_t end;

		if (i < len && msg[i] != '\n')
			continue;
		end = i;
		if (end > start && msg[end - 1] == '\r')
			end--;
		if (start < len && msg[start] == '.')
			out[o++] = '.';
		memcpy(out + o, msg + start, end - start);
		o += end - start;
		if (i < len || end > start) {
			out[o++] = '\r';
			out[o++] = '\n';
		}
		start = i + 1;
	}
	memcpy(out + o, ".\r\n", 3);
	o += 3;
	rc = lconn_write(c, out, o);
	free(out);
	return rc;
}

static int
do_send(int argc, char **argv)
{
	static char msg[LOAD_MAX_SIZE];
	size_t len = fread(msg, 1, sizeof(msg), stdin);
	struct lconn c;
	char cmd[LINE_MAX_BYTES];
	int port = (int)strtol(argv[2], NULL, 10), n_ok = 0;
	int codes[64];
	int n_rcpt = argc - 4;

	if (n_rcpt <= 0 || n_rcpt > 64 || lconn_hello(&c, port) < 0)
		return 1;
	(void)snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>", argv[3]);
	if (lconn_cmd(&c, cmd) != 250)
		return 1;
	for (int i = 0; i < n_rcpt; i++) {
		(void)snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>", argv[4 + i]);
		codes[i] = lconn_cmd(&c, cmd);
		if (codes[i] == 250)
			n_ok++;
	}
	if (n_ok > 0) {
		if (lconn_cmd(&c, "DATA") != 354 ||
		    lconn_data(&c, msg, len) < 0)
			return 1;
		/* RFC 2033 4.2: one reply per accepted recipient. */
		for (int i = 0; i < n_rcpt; i++)
			if (codes[i] == 250)
				codes[i] = lconn_reply(&c);
	}
	for (int i = 0; i < n_rcpt; i++)
		printf("%d\n", codes[i]);
	(void)lconn_cmd(&c, "QUIT");
	lconn_close(&c);
	return 0;
}

struct load {
	int port;
	char rcpts[16][256];
	int n_rcpts;
	int count;
	size_t size;
	FILE *acklog;
	pthread_mutex_t lock;
	atomic_int next;
	atomic_int acked, failed;
	atomic_int thread_no;
};

static void
sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (ms % 1000) * 1000000L};

	(void)nanosleep(&ts, NULL);
}

static void *
load_thread(void *arg)
{
	struct load *l = arg;
	struct lconn c = {.fd = -1};
	char *msg = malloc(l->size + 512);
	char cmd[LINE_MAX_BYTES];
	const char *rcpt =
	    l->rcpts[atomic_fetch_add(&l->thread_no, 1) % l->n_rcpts];
	int n;

	if (msg == NULL)
		return NULL;
	while ((n = atomic_fetch_add(&l->next, 1)) < l->count) {
		int attempt;

		for (attempt = 0; attempt < LOAD_MAX_ATTEMPTS; attempt++) {
			size_t len;
			char id[64];

			if (c.fd < 0 && lconn_hello(&c, l->port) < 0) {
				sleep_ms(LOAD_RETRY_MS);
				continue;
			}
			(void)snprintf(id, sizeof(id), "load-%d-%d@test", n,
				       attempt);
			len = (size_t)snprintf(
			    msg, 512,
			    "From: load@test\r\nTo: %s\r\n"
			    "Subject: load %d\r\nMessage-ID: <%s>\r\n\r\n",
			    rcpt, n, id);
			while (len + 78 <= l->size + 256) {
				memset(msg + len, 'a' + (char)(len % 26), 76);
				memcpy(msg + len + 76, "\r\n", 2);
				len += 78;
			}
			(void)snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>", rcpt);
			if (lconn_cmd(&c, "MAIL FROM:<load@test>") != 250 ||
			    lconn_cmd(&c, cmd) != 250 ||
			    lconn_cmd(&c, "DATA") != 354 ||
			    lconn_data(&c, msg, len) < 0) {
				lconn_close(&c);
				sleep_ms(LOAD_RETRY_MS);
				continue;
			}
			if (lconn_reply(&c) == 250) {
				if (l->acklog != NULL) {
					pthread_mutex_lock(&l->lock);
					fprintf(l->acklog, "%s\n", id);
					(void)fflush(l->acklog);
					pthread_mutex_unlock(&l->lock);
				}
				atomic_fetch_add(&l->acked, 1);
				break;
			}
			lconn_close(&c);
			sleep_ms(LOAD_RETRY_MS);
		}
		if (attempt == LOAD_MAX_ATTEMPTS)
			atomic_fetch_add(&l->failed, 1);
	}
	if (c.fd >= 0)
		(void)lconn_cmd(&c, "QUIT");
	lconn_close(&c);
	free(msg);
	return NULL;
}

static int
do_load(char **argv)
{
	struct load l;
	pthread_t threads[LOAD_MAX_CONNS];
	int conns = (int)strtol(argv[4], NULL, 10);
	struct timespec t0, t1;
	double secs;

	memset(&l, 0, sizeof(l));
	l.port = (int)strtol(argv[2], NULL, 10);
	for (const char *p = argv[3]; *p && l.n_rcpts < 16;) {
		size_t len = strcspn(p, ",");

		if (len == 0 || len >= sizeof(l.rcpts[0]))
			return 2;
		memcpy(l.rcpts[l.n_rcpts], p, len);
		l.rcpts[l.n_rcpts++][len] = 0;
		p += len + (p[len] == ',');
	}
	l.count = (int)strtol(argv[5], NULL, 10);
	l.size = (size_t)strtoul(argv[6], NULL, 10);
	if (conns <= 0 || conns > LOAD_MAX_CONNS || l.count <= 0 ||
	    l.size > LOAD_MAX_SIZE)
		return 2;
	if (strcmp(argv[7], "-") != 0) {
		l.acklog = fopen(argv[7], "a");
		if (l.acklog == NULL)
			return 1;
	}
	pthread_mutex_init(&l.lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < conns; i++)
		if (pthread_create(&threads[i], NULL, load_thread, &l) != 0)
			return 1;
	for (int i = 0; i < conns; i++)
		pthread_join(threads[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("acked %d failed %d seconds %.2f rate %.0f\n",
	       atomic_load(&l.acked), atomic_load(&l.failed), secs,
	       secs > 0 ? atomic_load(&l.acked) / secs : 0.0);
	if (l.acklog != NULL)
		(void)fclose(l.acklog);
	pthread_mutex_destroy(&l.lock);
	return atomic_load(&l.failed) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "send") == 0)
		return do_send(argc, argv);
	if (argc == 8 && strcmp(argv[1], "load") == 0)
		return do_load(argv);
	fprintf(stderr, "usage: lmtp_load send PORT FROM RCPT... < msg\n"
			"       lmtp_load load PORT RCPT CONNS COUNT SIZE "
			"ACKLOG\n");
	return 2;
}
