/*
 * ActiveSync load generator for the CAS benchmarks (tests/bench/bench_ping.sh
 * and bench_sync.sh).  One thread, epoll, plain HTTP/1.1 on loopback; every
 * simulated device is a small state machine (Provision in two steps,
 * FolderSync, Sync, Ping) on its own keep-alive connection, bound to one of
 * several 127.0.0.x source addresses so that 100,000 connections do not run
 * out of ephemeral ports.  The WBXML is ours (proto/wbxml.h), the HTTP
 * client is the minimum a benchmark needs (Content-Length and chunked
 * responses, no pipelining).
 *
 *   eas_load fill LMTP_PORT RCPT COUNT CONNS HTML_BYTES
 *       COUNT multipart/alternative messages (text + HTML part of about
 *       HTML_BYTES) over CONNS blocking LMTP connections (threads).
 *   eas_load sync HTTP_PORT USER PASSWORD DEVICE WINDOW TRUNC EXPECT NOCHG
 *       Provision, FolderSync, then the Inbox from SyncKey 0 to the end of
 *       MoreAvailable (WindowSize WINDOW, HTML truncated to TRUNC bytes;
 *       exactly EXPECT Adds or the run fails), then NOCHG no-change Syncs,
 *       each timed.  Prints one "sync ..." and one "nochange ..." line.
 *   eas_load ping HTTP_PORT PREFIX USERS DEVICES PASSWORD NSRC LMTP_PORT
 *                 NMSG CAS_PID MBOX_PID
 *       Prepares USERS x DEVICES devices (users PREFIX0.., all with
 *       PASSWORD): Provision, FolderSync, Sync key 0 and once more.  Then
 *       one held Ping per device from NSRC source addresses; waits until
 *       both daemons are idle (no CPU for a second) with no Ping answered;
 *       reads the CAS's VmRSS before and after and its CPU time over a
 *       5 s window with everything held; then delivers NMSG messages over
 *       LMTP, one at a time, to user (i % USERS), and times each of that
 *       user's Pings from the LMTP 250 to the first byte of its response
 *       (CLOCK_MONOTONIC, same process; the 250 is read with a blocking
 *       call, so a Ping answered before it counts as ~0).  Once all of
 *       that user's Pings are answered, each woken device syncs the new
 *       message (exactly one Add) and Pings again, as a phone does, so
 *       every push happens with all Pings held.  Prints key=value lines.
 *
 * EAS_LOAD_TRACE in the environment prints one line per response (state,
 * HTTP status, milliseconds) on stderr.
 *
 * Exit status 0 only if every response was the expected one: this is a
 * benchmark that never fails on time, only on broken behaviour.  Every
 * wait is bounded (LOAD_*_TIMEOUT_S).
 */
#include "proto/base64.h"
#include "proto/buf.h"
#include "proto/wbxml.h"
#include "proto/wbxml_tree.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv);

#define LOAD_MAX_RESPONSE_BYTES (64u * 1024u * 1024u)
#define LOAD_MAX_REQUEST_BYTES (64u * 1024u)
#define LOAD_MAX_DEVICES 200000u
#define LOAD_MAX_SRC 200
#define LOAD_MAX_ROUNDS 100000u
/* Devices prepared concurrently; connections being opened at once. */
#define LOAD_PREP_CONCURRENCY 32u
#define LOAD_MAX_CONNECTING 256u
#define LOAD_PING_HEARTBEAT_S 900u
/* Bounds on each phase (a broken server ends the run, never hangs it). */
#define LOAD_PHASE_TIMEOUT_S 600
#define LOAD_IDLE_TIMEOUT_S 120
#define LOAD_PUSH_TIMEOUT_S 30
#define LOAD_CPU_WINDOW_MS 5000
#define LOAD_LMTP_TIMEOUT_S 30
#define LOAD_FILL_MAX_CONNS 64
#define LOAD_FILL_MAX_HTML (1024 * 1024)

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *v_r)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != 0 || v > max)
		return -1;
	*v_r = v;
	return 0;
}

/* ------------------------------------------------------------- LMTP */

struct lmtp {
	int fd;
	char buf[4096];
	size_t len;
};

static int
lmtp_write(struct lmtp *l, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(l->fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The code of one final (non-continuation) reply, or -1. */
static int
lmtp_reply(struct lmtp *l)
{
	for (;;) {
		char *nl = memchr(l->buf, '\n', l->len);
		ssize_t n;

		if (nl != NULL) {
			size_t line = (size_t)(nl - l->buf) + 1;
			bool cont = line > 4 && l->buf[3] == '-';
			int code = line > 3 ? (l->buf[0] - '0') * 100 +
						  (l->buf[1] - '0') * 10 +
						  (l->buf[2] - '0')
					    : -1;

			memmove(l->buf, nl + 1, l->len - line);
			l->len -= line;
			if (!cont)
				return code;
			continue;
		}
		if (l->len == sizeof(l->buf))
			return -1;
		n = recv(l->fd, l->buf + l->len, sizeof(l->buf) - l->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		l->len += (size_t)n;
	}
}

static int
lmtp_cmd(struct lmtp *l, const char *cmd, int want)
{
	if (lmtp_write(l, cmd, strlen(cmd)) != 0)
		return -1;
	return lmtp_reply(l) == want ? 0 : -1;
}

static int
lmtp_open(struct lmtp *l, unsigned port)
{
	struct sockaddr_in sa;
	struct timeval tv = {.tv_sec = LOAD_LMTP_TIMEOUT_S};

	memset(l, 0, sizeof(*l));
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		return -1;
	(void)setsockopt(l->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(l->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &(int){1},
			 sizeof(int));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(l->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    lmtp_reply(l) != 220 || lmtp_cmd(l, "LHLO bench\r\n", 250) != 0) {
		close(l->fd);
		l->fd = -1;
		return -1;
	}
	return 0;
}

/* A newsletter-like message: a short text part and an HTML part of about
 * html_bytes, lines under 80 characters (no dot at a line start, so no
 * dot-stuffing is needed), ending with the DATA terminator. */
static int
message_build(struct buf *m, const char *rcpt, unsigned long n,
	      size_t html_bytes)
{
	static const char *const words[] = {
	    "quarterly", "report",  "meeting", "schedule", "project",
	    "update",    "release", "budget",  "customer", "design"};
	size_t start;
	unsigned w = (unsigned)n;

	buf_reset(m);
	if (buf_printf(m,
		       "From: Bench Sender <sender@bench.example>\r\n"
		       "To: <%s>\r\nSubject: Bench message %lu\r\n"
		       "Date: Thu, 01 Jan 2026 10:00:00 +0000\r\n"
		       "Message-ID: <bench-%lu-%ld@bench.example>\r\n"
		       "MIME-Version: 1.0\r\n"
		       "Content-Type: multipart/alternative; "
		       "boundary=\"b1\"\r\n\r\n"
		       "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
		       "Message %lu of the benchmark.\r\n\r\n"
		       "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
		       "<html><body>\r\n",
		       rcpt, n, n, (long)getpid(), n) != 0)
		return -1;
	start = m->len;
	while (m->len - start < html_bytes) {
		if (buf_append_str(m, "<p>") != 0)
			return -1;
		for (int i = 0; i < 9; i++) {
			if (buf_append_str(m, words[w++ % 10]) != 0 ||
			    buf_append_byte(m, ' ') != 0)
				return -1;
		}
		if (buf_append_str(m, "</p>\r\n") != 0)
			return -1;
	}
	return buf_append_str(m, "</body></html>\r\n--b1--\r\n.\r\n");
}

/* One transaction; returns 0 when the recipient's final reply is 250. */
static int
lmtp_deliver(struct lmtp *l, const char *rcpt, const struct buf *msg)
{
	char cmd[512];

	(void)snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", rcpt);
	if (lmtp_cmd(l, "MAIL FROM:<sender@bench.example>\r\n", 250) != 0 ||
	    lmtp_cmd(l, cmd, 250) != 0 || lmtp_cmd(l, "DATA\r\n", 354) != 0 ||
	    lmtp_write(l, (const char *)msg->data, msg->len) != 0)
		return -1;
	return lmtp_reply(l) == 250 ? 0 : -1;
}

struct fill {
	unsigned port;
	const char *rcpt;
	unsigned long count;
	size_t html_bytes;
	atomic_ulong next;
	atomic_ulong acked;
	atomic_ulong failed;
};

static void *
fill_thread(void *arg)
{
	struct fill *f = arg;
	struct lmtp l;
	struct buf msg;
	unsigned long n;

	buf_init(&msg, LOAD_FILL_MAX_HTML + 4096);
	if (lmtp_open(&l, f->port) != 0) {
		atomic_fetch_add(&f->failed, 1);
		buf_free(&msg);
		return NULL;
	}
	while ((n = atomic_fetch_add(&f->next, 1)) < f->count) {
		if (message_build(&msg, f->rcpt, n, f->html_bytes) != 0 ||
		    lmtp_deliver(&l, f->rcpt, &msg) != 0) {
			atomic_fetch_add(&f->failed, 1);
			break;
		}
		atomic_fetch_add(&f->acked, 1);
	}
	(void)lmtp_cmd(&l, "QUIT\r\n", 221);
	close(l.fd);
	buf_free(&msg);
	return NULL;
}

static int
do_fill(int argc, char **argv)
{
	struct fill f;
	pthread_t th[LOAD_FILL_MAX_CONNS];
	unsigned long port, conns, html;
	unsigned started = 0;
	uint64_t t0;
	double s;

	memset(&f, 0, sizeof(f));
	if (argc != 7 || parse_uint(argv[2], 65535, &port) != 0 ||
	    parse_uint(argv[4], 10000000, &f.count) != 0 ||
	    parse_uint(argv[5], LOAD_FILL_MAX_CONNS, &conns) != 0 ||
	    conns == 0 || parse_uint(argv[6], LOAD_FILL_MAX_HTML, &html) != 0) {
		fprintf(stderr, "usage: eas_load fill LMTP_PORT RCPT COUNT "
				"CONNS HTML_BYTES\n");
		return 2;
	}
	f.port = (unsigned)port;
	f.rcpt = argv[3];
	f.html_bytes = html;
	t0 = now_ns();
	for (unsigned i = 0; i < conns; i++)
		if (pthread_create(&th[started], NULL, fill_thread, &f) == 0)
			started++;
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	s = (double)(now_ns() - t0) / 1e9;
	printf("fill acked %lu failed %lu seconds %.2f rate %.0f\n",
	       atomic_load(&f.acked), atomic_load(&f.failed), s,
	       (double)atomic_load(&f.acked) / (s > 0 ? s : 1));
	return atomic_load(&f.acked) == f.count ? 0 : 1;
}

/* ------------------------------------------------------------- HTTP */

enum dev_state {
	ST_IDLE,
	ST_PROV1,
	ST_PROV2,
	ST_FOLDERSYNC,
	ST_SYNC0,
	ST_SYNC,  /* draining, or the one extra Sync of preparation */
	ST_NOCHG, /* timed no-change Syncs */
	ST_PING,
	ST_PUSHWAIT, /* answered; waits for the rest of the push */
	ST_PUSHSYNC, /* a woken device fetching its new message */
	ST_DONE,
	ST_FAILED,
};

struct dev {
	char user[64];
	char device[40];
	char policy_key[16];
	char inbox[64];
	char sync_key[72];
	char auth[192]; /* base64 of user:password */
	enum dev_state state;
	unsigned src;
	/* connection */
	int fd;
	bool connecting, writing, in_flight;
	struct buf out;
	size_t out_off;
	struct buf in;
	uint64_t t_sent, t_first;
	/* results */
	unsigned long adds;
	unsigned rounds;
	bool more;
	bool woken;
};

enum run_mode {
	MODE_SYNC,
	MODE_PREPARE,
	MODE_PING,
};

struct run {
	int ep;
	unsigned port;
	unsigned nsrc;
	enum run_mode mode;
	bool trace; /* EAS_LOAD_TRACE set: one stderr line per response */
	struct dev *devs;
	size_t n_devs;
	size_t active;     /* devices with a request under way */
	size_t connecting; /* connections not yet established */
	size_t failed;
	size_t done;
	/* sync mode */
	unsigned window, trunc, nochg_total, nochg_done;
	unsigned long expect;
	uint64_t t_sync0, t_drained;
	uint64_t *nochg_ns;
	/* ping mode */
	size_t early;            /* Pings answered before any push */
	size_t push_wait;        /* woken devices not yet Pinging again */
	size_t pings_left;       /* woken Pings not yet answered */
	size_t push_lo, push_hi; /* the pushed user's devices */
	uint64_t *first_ns;      /* per push: its first Ping answered */
	size_t n_first;
	uint64_t t_250;
	uint64_t *lat_ns;
	size_t n_lat, max_lat;
	unsigned long push_adds;
};

static void dev_fail(struct run *run, struct dev *d, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
dev_close(struct run *run, struct dev *d)
{
	if (d->fd >= 0) {
		(void)epoll_ctl(run->ep, EPOLL_CTL_DEL, d->fd, NULL);
		close(d->fd);
	}
	if (d->connecting && run->connecting > 0)
		run->connecting--;
	d->fd = -1;
	d->connecting = d->writing = false;
	buf_reset(&d->in);
}

static void
dev_fail(struct run *run, struct dev *d, const char *fmt, ...)
{
	va_list ap;

	if (run->failed < 10) {
		fprintf(stderr, "eas_load: %s/%s: ", d->user, d->device);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	dev_close(run, d);
	if (d->in_flight && run->active > 0)
		run->active--;
	d->in_flight = false;
	d->state = ST_FAILED;
	run->failed++;
}

static int
dev_events(struct run *run, struct dev *d, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = d};

	return epoll_ctl(run->ep, EPOLL_CTL_MOD, d->fd, &ev);
}

static int
dev_connect(struct run *run, struct dev *d)
{
	struct sockaddr_in sa, src;
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = d};

	d->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0)
		return -1;
	(void)setsockopt(d->fd, IPPROTO_TCP, TCP_NODELAY, &(int){1},
			 sizeof(int));
	/* Source 127.0.0.(2 + src): each address has its own ephemeral
	 * ports; the port is chosen at connect time. */
	(void)setsockopt(d->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &(int){1},
			 sizeof(int));
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f000002u + d->src);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)run->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(d->fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
	    (connect(d->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
	     errno != EINPROGRESS) ||
	    epoll_ctl(run->ep, EPOLL_CTL_ADD, d->fd, &ev) != 0) {
		close(d->fd);
		d->fd = -1;
		return -1;
	}
	d->connecting = true;
	run->connecting++;
	return 0;
}

/* Queue one POST; body is WBXML.  The connection opens on demand. */
static void
dev_request(struct run *run, struct dev *d, const char *cmd,
	    const struct buf *body)
{
	buf_reset(&d->out);
	d->out_off = 0;
	if (buf_printf(&d->out,
		       "POST /Microsoft-Server-ActiveSync?Cmd=%s&User=%s"
		       "&DeviceId=%s&DeviceType=EasBench HTTP/1.1\r\n"
		       "Host: 127.0.0.1\r\nAuthorization: Basic %s\r\n"
		       "MS-ASProtocolVersion: 14.1\r\n"
		       "User-Agent: eas-load/1\r\n"
		       "Content-Type: application/vnd.ms-sync.wbxml\r\n",
		       cmd, d->user, d->device, d->auth) != 0 ||
	    (d->policy_key[0] != 0 &&
	     buf_printf(&d->out, "X-MS-PolicyKey: %s\r\n", d->policy_key) !=
		 0) ||
	    buf_printf(&d->out, "Content-Length: %zu\r\n\r\n", body->len) !=
		0 ||
	    buf_append(&d->out, body->data, body->len) != 0) {
		dev_fail(run, d, "request too large");
		return;
	}
	buf_reset(&d->in);
	d->in_flight = true;
	d->t_first = 0;
	d->t_sent = now_ns();
	run->active++;
	if (d->fd < 0) {
		if (dev_connect(run, d) != 0)
			dev_fail(run, d, "connect: %s", strerror(errno));
		return;
	}
	d->writing = true;
	if (dev_events(run, d, EPOLLIN | EPOLLOUT) != 0)
		dev_fail(run, d, "epoll: %s", strerror(errno));
}

/* ------------------------------------------------------------- WBXML */

static void
body_provision(struct buf *b, const char *ack_key)
{
	struct wbxml_enc e;

	wbxml_enc_init_buf(&e, b);
	wbxml_enc_start(&e, EAS_PROVISION_PROVISION);
	wbxml_enc_start(&e, EAS_PROVISION_POLICIES);
	wbxml_enc_start(&e, EAS_PROVISION_POLICY);
	wbxml_enc_str(&e, EAS_PROVISION_POLICY_TYPE,
		      "MS-EAS-Provisioning-WBXML");
	if (ack_key != NULL) {
		wbxml_enc_str(&e, EAS_PROVISION_POLICY_KEY, ack_key);
		wbxml_enc_str(&e, EAS_PROVISION_STATUS, "1");
	}
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	(void)wbxml_enc_finish(&e);
}

static void
body_foldersync(struct buf *b)
{
	struct wbxml_enc e;

	wbxml_enc_init_buf(&e, b);
	wbxml_enc_start(&e, EAS_FOLDERHIERARCHY_FOLDER_SYNC);
	wbxml_enc_str(&e, EAS_FOLDERHIERARCHY_SYNC_KEY, "0");
	wbxml_enc_end(&e);
	(void)wbxml_enc_finish(&e);
}

/* The Sync a phone sends for its Inbox (MS-ASCMD 2.2.1.21): key 0 carries
 * no options; later rounds ask for changes with the body preference. */
static void
body_sync(struct buf *b, const struct dev *d, unsigned window, unsigned trunc)
{
	struct wbxml_enc e;

	wbxml_enc_init_buf(&e, b);
	wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTIONS);
	wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTION);
	wbxml_enc_str(&e, EAS_AIRSYNC_SYNC_KEY, d->sync_key);
	wbxml_enc_str(&e, EAS_AIRSYNC_COLLECTION_ID, d->inbox);
	if (strcmp(d->sync_key, "0") != 0) {
		wbxml_enc_empty(&e, EAS_AIRSYNC_DELETES_AS_MOVES);
		wbxml_enc_empty(&e, EAS_AIRSYNC_GET_CHANGES);
		wbxml_enc_uint(&e, EAS_AIRSYNC_WINDOW_SIZE, window);
		wbxml_enc_start(&e, EAS_AIRSYNC_OPTIONS);
		wbxml_enc_start(&e, EAS_AIRSYNCBASE_BODY_PREFERENCE);
		wbxml_enc_uint(&e, EAS_AIRSYNCBASE_TYPE, 2);
		wbxml_enc_uint(&e, EAS_AIRSYNCBASE_TRUNCATION_SIZE, trunc);
		wbxml_enc_end(&e);
		wbxml_enc_end(&e);
	}
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	(void)wbxml_enc_finish(&e);
}

static void
body_ping(struct buf *b, const struct dev *d)
{
	struct wbxml_enc e;

	wbxml_enc_init_buf(&e, b);
	wbxml_enc_start(&e, EAS_PING_PING);
	wbxml_enc_uint(&e, EAS_PING_HEARTBEAT_INTERVAL, LOAD_PING_HEARTBEAT_S);
	wbxml_enc_start(&e, EAS_PING_FOLDERS);
	wbxml_enc_start(&e, EAS_PING_FOLDER);
	wbxml_enc_str(&e, EAS_PING_ID, d->inbox);
	wbxml_enc_str(&e, EAS_PING_CLASS, "Email");
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	(void)wbxml_enc_finish(&e);
}

static uint64_t
child_uint(const struct wbxml_node *n, uint16_t tag)
{
	uint64_t v;

	if (n == NULL || wbxml_child_uint(n, tag, 0, UINT32_MAX, &v, NULL) != 0)
		return 0;
	return v;
}

static int
child_copy(const struct wbxml_node *n, uint16_t tag, char *out, size_t size)
{
	const char *s;

	if (n == NULL ||
	    wbxml_child_str(n, tag, size - 1, &s, NULL, NULL) != 0 || s == NULL)
		return -1;
	(void)snprintf(out, size, "%s", s);
	return 0;
}

/* ------------------------------------------------------------- steps */

static void
send_step(struct run *run, struct dev *d, enum dev_state st)
{
	struct buf b;
	const char *cmd = "Sync";

	buf_init(&b, LOAD_MAX_REQUEST_BYTES);
	d->state = st;
	switch (st) {
	case ST_PROV1:
		d->policy_key[0] = 0;
		body_provision(&b, NULL);
		cmd = "Provision";
		break;
	case ST_PROV2:
		body_provision(&b, d->policy_key);
		cmd = "Provision";
		break;
	case ST_FOLDERSYNC:
		body_foldersync(&b);
		cmd = "FolderSync";
		break;
	case ST_PING:
		body_ping(&b, d);
		cmd = "Ping";
		break;
	default:
		body_sync(&b, d, run->window, run->trunc);
		break;
	}
	dev_request(run, d, cmd, &b);
	buf_free(&b);
}

/* A Sync response: the collection's key, Adds and MoreAvailable.  An
 * empty body is "no changes" (MS-ASCMD 2.2.1.21: the server may answer
 * an unchanged Sync with an empty response). */
static int
parse_sync(struct dev *d, const struct wbxml_node *root, unsigned long *adds_r,
	   const char **err_r)
{
	const struct wbxml_node *coll, *cmds, *n;

	*adds_r = 0;
	d->more = false;
	if (root == NULL)
		return 0;
	coll = wbxml_node_child(wbxml_node_child(root, EAS_AIRSYNC_COLLECTIONS),
				EAS_AIRSYNC_COLLECTION);
	if (coll == NULL || child_uint(coll, EAS_AIRSYNC_STATUS) != 1 ||
	    child_copy(coll, EAS_AIRSYNC_SYNC_KEY, d->sync_key,
		       sizeof(d->sync_key)) != 0) {
		*err_r = "Sync: no collection with Status 1 and a SyncKey";
		return -1;
	}
	cmds = wbxml_node_child(coll, EAS_AIRSYNC_COMMANDS);
	WBXML_FOREACH(n, cmds, EAS_AIRSYNC_ADD)
	{
		(*adds_r)++;
	}
	d->more = wbxml_child_present(coll, EAS_AIRSYNC_MORE_AVAILABLE);
	return 0;
}

static int
find_inbox(struct dev *d, const struct wbxml_node *root)
{
	const struct wbxml_node *changes, *add;

	if (child_uint(root, EAS_FOLDERHIERARCHY_STATUS) != 1)
		return -1;
	changes = wbxml_node_child(root, EAS_FOLDERHIERARCHY_CHANGES);
	WBXML_FOREACH(add, changes, EAS_FOLDERHIERARCHY_ADD)
	{
		if (child_uint(add, EAS_FOLDERHIERARCHY_TYPE) == 2 &&
		    child_copy(add, EAS_FOLDERHIERARCHY_SERVER_ID, d->inbox,
			       sizeof(d->inbox)) == 0)
			return 0;
	}
	return -1;
}

/* Pings answer Status 2 with the Inbox listed (MS-ASCMD 2.2.3.177.13). */
static int
ping_woken(const struct dev *d, const struct wbxml_node *root)
{
	const struct wbxml_node *folders, *f;
	const char *id;

	if (child_uint(root, EAS_PING_STATUS) != 2)
		return -1;
	folders = wbxml_node_child(root, EAS_PING_FOLDERS);
	WBXML_FOREACH(f, folders, EAS_PING_FOLDER)
	{
		if (wbxml_node_str(f, 128, &id, NULL, NULL) == 0 &&
		    strcmp(id, d->inbox) == 0)
			return 0;
	}
	return -1;
}

static void
dev_done(struct run *run, struct dev *d)
{
	d->state = ST_DONE;
	run->done++;
}

/* A complete response arrived: check it and send the next request. */
static void
on_response(struct run *run, struct dev *d, int status, const uint8_t *body,
	    size_t len)
{
	struct wbxml_tree *tree = NULL;
	const struct wbxml_node *root = NULL;
	const char *err = NULL;
	enum wbxml_err werr;
	unsigned long adds;
	size_t off;
	uint64_t lat, t_done = now_ns();

	d->in_flight = false;
	run->active--;
	if (run->trace)
		fprintf(stderr, "%s/%s state %d HTTP %d %.2f ms\n", d->user,
			d->device, (int)d->state, status,
			(double)(t_done - d->t_sent) / 1e6);
	if (status != 200) {
		dev_fail(run, d, "state %d: HTTP %d", (int)d->state, status);
		return;
	}
	if (len > 0) {
		if (wbxml_tree_parse(body, len, &tree, &werr, &off) != 0) {
			dev_fail(run, d, "bad WBXML: %s", wbxml_strerror(werr));
			return;
		}
		root = wbxml_tree_root(tree);
	}
	switch (d->state) {
	case ST_PROV1:
	case ST_PROV2: {
		const struct wbxml_node *pol = wbxml_node_child(
		    wbxml_node_child(root, EAS_PROVISION_POLICIES),
		    EAS_PROVISION_POLICY);

		if (root == NULL ||
		    child_uint(root, EAS_PROVISION_STATUS) != 1 ||
		    child_copy(pol, EAS_PROVISION_POLICY_KEY, d->policy_key,
			       sizeof(d->policy_key)) != 0)
			err = "Provision failed";
		else
			send_step(run, d,
				  d->state == ST_PROV1 ? ST_PROV2
						       : ST_FOLDERSYNC);
		break;
	}
	case ST_FOLDERSYNC:
		if (root == NULL || find_inbox(d, root) != 0) {
			err = "FolderSync: no Inbox";
			break;
		}
		(void)snprintf(d->sync_key, sizeof(d->sync_key), "0");
		run->t_sync0 = now_ns();
		send_step(run, d, ST_SYNC0);
		break;
	case ST_SYNC0:
		if (root == NULL || parse_sync(d, root, &adds, &err) != 0) {
			err = err != NULL ? err : "Sync 0: empty response";
			break;
		}
		send_step(run, d, ST_SYNC);
		break;
	case ST_SYNC:
		if (parse_sync(d, root, &adds, &err) != 0)
			break;
		d->adds += adds;
		d->rounds++;
		if (run->mode == MODE_PREPARE) {
			dev_close(run, d);
			dev_done(run, d);
		} else if (d->more && d->rounds < LOAD_MAX_ROUNDS) {
			send_step(run, d, ST_SYNC);
		} else {
			run->t_drained = t_done;
			if (d->adds != run->expect) {
				dev_fail(run, d, "drained %lu items, want %lu",
					 d->adds, run->expect);
				break;
			}
			if (run->nochg_total > 0)
				send_step(run, d, ST_NOCHG);
			else
				dev_done(run, d);
		}
		break;
	case ST_NOCHG:
		if (parse_sync(d, root, &adds, &err) != 0)
			break;
		if (adds > 0 || d->more) {
			err = "no-change Sync returned changes";
			break;
		}
		run->nochg_ns[run->nochg_done++] = t_done - d->t_sent;
		if (run->nochg_done < run->nochg_total)
			send_step(run, d, ST_NOCHG);
		else
			dev_done(run, d);
		break;
	case ST_PING:
		if (root == NULL || ping_woken(d, root) != 0) {
			err = "Ping: not Status 2 with the Inbox";
			break;
		}
		if (!d->woken) {
			/* No push was aimed at this device. */
			run->early++;
			err = "Ping answered without a push";
			break;
		}
		lat = d->t_first > run->t_250 ? d->t_first - run->t_250 : 0;
		if (run->n_lat < run->max_lat)
			run->lat_ns[run->n_lat++] = lat;
		if (run->first_ns[run->n_first] == 0 ||
		    lat < run->first_ns[run->n_first])
			run->first_ns[run->n_first] = lat;
		/* The device syncs once every Ping of this push is answered:
		 * the timing is the fan-out alone, not fan-out plus the
		 * Syncs it causes (100 devices of one user is the
		 * benchmark's layout, not a phone's). */
		d->state = ST_PUSHWAIT;
		if (--run->pings_left == 0)
			for (size_t k = run->push_lo; k < run->push_hi; k++)
				if (run->devs[k].state == ST_PUSHWAIT)
					send_step(run, &run->devs[k],
						  ST_PUSHSYNC);
		break;
	case ST_PUSHSYNC:
		if (parse_sync(d, root, &adds, &err) != 0)
			break;
		run->push_adds += adds;
		d->woken = false;
		run->push_wait--;
		send_step(run, d, ST_PING);
		break;
	default:
		err = "response in an unexpected state";
		break;
	}
	if (err != NULL)
		dev_fail(run, d, "%s", err);
	wbxml_tree_free(&tree);
}

/* Chunked body (RFC 9112 7.1) starting at p: decoded into out; returns 1
 * when complete, 0 when more input is needed, -1 on a malformed body. */
static int
dechunk(const uint8_t *p, const uint8_t *end, struct buf *out)
{
	buf_reset(out);
	for (;;) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		unsigned long long size;
		char *stop;

		if (nl == NULL)
			return 0;
		size = strtoull((const char *)p, &stop, 16);
		if ((const uint8_t *)stop == p ||
		    size > LOAD_MAX_RESPONSE_BYTES)
			return -1;
		p = nl + 1;
		if (size == 0) {
			/* No trailers from our server: the final CRLF. */
			return end - p >= 2 ? 1 : 0;
		}
		if ((size_t)(end - p) < size + 2)
			return 0;
		if (buf_append(out, p, (size_t)size) != 0)
			return -1;
		p += size + 2;
	}
}

/* Try to complete a response from the bytes read so far. */
static void
try_response(struct run *run, struct dev *d)
{
	const uint8_t *data = d->in.data;
	const uint8_t *hend, *end = data + d->in.len;
	const char *h;
	struct buf body;
	unsigned long long clen = 0;
	bool chunked = false, close_after = false;
	int status, rc;

	hend = memmem(data, d->in.len, "\r\n\r\n", 4);
	if (hend == NULL)
		return;
	hend += 4;
	if (d->in.len < 12 || memcmp(data, "HTTP/1.1 ", 9) != 0) {
		dev_fail(run, d, "bad status line");
		return;
	}
	status =
	    (data[9] - '0') * 100 + (data[10] - '0') * 10 + (data[11] - '0');
	for (h = (const char *)data; h < (const char *)hend;) {
		const char *eol =
		    memchr(h, '\n', (size_t)((const char *)hend - h));

		if (eol == NULL)
			break;
		if (strncasecmp(h, "Content-Length:", 15) == 0)
			clen = strtoull(h + 15, NULL, 10);
		else if (strncasecmp(h, "Transfer-Encoding:", 18) == 0 &&
			 memmem(h, (size_t)(eol - h), "chunked", 7) != NULL)
			chunked = true;
		else if (strncasecmp(h, "Connection:", 11) == 0 &&
			 memmem(h, (size_t)(eol - h), "close", 5) != NULL)
			close_after = true;
		h = eol + 1;
	}
	buf_init(&body, LOAD_MAX_RESPONSE_BYTES);
	if (chunked) {
		rc = dechunk(hend, end, &body);
		if (rc < 0) {
			dev_fail(run, d, "bad chunked body");
			goto out;
		}
		if (rc == 0)
			goto out;
	} else {
		if (clen > LOAD_MAX_RESPONSE_BYTES) {
			dev_fail(run, d, "response too large");
			goto out;
		}
		if ((size_t)(end - hend) < clen)
			goto out;
		(void)buf_append(&body, hend, (size_t)clen);
	}
	if (close_after)
		dev_close(run, d);
	else
		buf_reset(&d->in);
	on_response(run, d, status, body.data, body.len);
out:
	buf_free(&body);
}

static void
on_event(struct run *run, struct dev *d, uint32_t events)
{
	uint8_t tmp[65536];
	ssize_t n;

	if (d->connecting) {
		int err = 0;
		socklen_t el = sizeof(err);

		if (getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 ||
		    err != 0) {
			dev_fail(run, d, "connect: %s", strerror(err));
			return;
		}
		d->connecting = false;
		run->connecting--;
		d->writing = true;
	}
	if (d->writing && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		while (d->out_off < d->out.len) {
			n = send(d->fd, d->out.data + d->out_off,
				 d->out.len - d->out_off, MSG_NOSIGNAL);
			if (n < 0 && errno == EAGAIN)
				return;
			if (n <= 0) {
				dev_fail(run, d, "send: %s", strerror(errno));
				return;
			}
			d->out_off += (size_t)n;
		}
		d->writing = false;
		if (dev_events(run, d, EPOLLIN) != 0) {
			dev_fail(run, d, "epoll: %s", strerror(errno));
			return;
		}
	}
	if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		return;
	for (;;) {
		n = recv(d->fd, tmp, sizeof(tmp), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			if (!d->in_flight) {
				dev_close(run, d); /* idle keep-alive ended */
				return;
			}
			dev_fail(run, d, "connection closed in state %d",
				 (int)d->state);
			return;
		}
		if (!d->in_flight) {
			dev_fail(run, d, "bytes without a request");
			return;
		}
		if (d->t_first == 0)
			d->t_first = now_ns();
		if (buf_append(&d->in, tmp, (size_t)n) != 0) {
			dev_fail(run, d, "response too large");
			return;
		}
		/* Level-triggered: the rest (if any) comes next pass; the
		 * response may have queued a request on a new socket. */
		try_response(run, d);
		return;
	}
}

/* One pass of the event loop, at most timeout_ms. */
static void
run_once(struct run *run, int timeout_ms)
{
	struct epoll_event evs[256];
	int n = epoll_wait(run->ep, evs, 256, timeout_ms);

	for (int i = 0; i < n; i++)
		on_event(run, evs[i].data.ptr, evs[i].events);
}

static int
run_init(struct run *run, unsigned port, size_t n_devs)
{
	memset(run, 0, sizeof(*run));
	run->port = port;
	run->nsrc = 1;
	run->trace = getenv("EAS_LOAD_TRACE") != NULL;
	run->ep = epoll_create1(EPOLL_CLOEXEC);
	run->devs = calloc(n_devs, sizeof(*run->devs));
	if (run->ep < 0 || run->devs == NULL)
		return -1;
	run->n_devs = n_devs;
	for (size_t i = 0; i < n_devs; i++) {
		run->devs[i].fd = -1;
		buf_init(&run->devs[i].out, LOAD_MAX_REQUEST_BYTES);
		buf_init(&run->devs[i].in, LOAD_MAX_RESPONSE_BYTES);
	}
	return 0;
}

static void
run_free(struct run *run)
{
	for (size_t i = 0; i < run->n_devs; i++) {
		dev_close(run, &run->devs[i]);
		buf_free(&run->devs[i].out);
		buf_free(&run->devs[i].in);
	}
	free(run->devs);
	free(run->nochg_ns);
	free(run->lat_ns);
	free(run->first_ns);
	if (run->ep >= 0)
		close(run->ep);
}

static void
dev_setup(struct dev *d, const char *user, const char *device,
	  const char *password, unsigned src)
{
	char cred[160];

	(void)snprintf(d->user, sizeof(d->user), "%s", user);
	(void)snprintf(d->device, sizeof(d->device), "%s", device);
	(void)snprintf(cred, sizeof(cred), "%s:%s", user, password);
	(void)base64_encode((const uint8_t *)cred, strlen(cred), d->auth,
			    sizeof(d->auth));
	d->src = src;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of n sorted values, in milliseconds. */
static double
pct_ms(const uint64_t *v, size_t n, unsigned pct)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (n * pct + 99) / 100;
	if (i == 0)
		i = 1;
	return (double)v[i - 1] / 1e6;
}

/* ------------------------------------------------------------- sync */

static int
do_sync(int argc, char **argv)
{
	struct run run;
	unsigned long port, window, trunc, expect, nochg;
	struct dev *d;
	uint64_t deadline;
	double s;
	int ret = 1;

	if (argc != 10 || parse_uint(argv[2], 65535, &port) != 0 ||
	    parse_uint(argv[6], SYNC_MAX_WINDOW_SIZE, &window) != 0 ||
	    window == 0 || parse_uint(argv[7], UINT32_MAX, &trunc) != 0 ||
	    parse_uint(argv[8], 100000000, &expect) != 0 ||
	    parse_uint(argv[9], 100000, &nochg) != 0) {
		fprintf(stderr, "usage: eas_load sync HTTP_PORT USER PASSWORD "
				"DEVICE WINDOW TRUNC EXPECT NOCHG\n");
		return 2;
	}
	if (run_init(&run, (unsigned)port, 1) != 0)
		return 1;
	run.mode = MODE_SYNC;
	run.window = (unsigned)window;
	run.trunc = (unsigned)trunc;
	run.expect = expect;
	run.nochg_total = (unsigned)nochg;
	run.nochg_ns = calloc(nochg + 1, sizeof(*run.nochg_ns));
	if (run.nochg_ns == NULL)
		goto out;
	d = &run.devs[0];
	dev_setup(d, argv[3], argv[5], argv[4], 0);
	send_step(&run, d, ST_PROV1);
	deadline = now_ns() + (uint64_t)LOAD_PHASE_TIMEOUT_S * 1000000000ull;
	while (d->state != ST_DONE && d->state != ST_FAILED &&
	       now_ns() < deadline)
		run_once(&run, 100);
	if (d->state != ST_DONE) {
		if (d->state != ST_FAILED)
			fprintf(stderr, "eas_load: sync timed out\n");
		goto out;
	}
	s = (double)(run.t_drained - run.t_sync0) / 1e9;
	printf("sync items %lu rounds %u window %lu seconds %.3f "
	       "items_per_s %.0f\n",
	       d->adds, d->rounds + 1, window, s,
	       (double)d->adds / (s > 0 ? s : 1e-9));
	qsort(run.nochg_ns, run.nochg_done, sizeof(uint64_t), cmp_u64);
	printf("nochange n %u p50_ms %.3f p99_ms %.3f max_ms %.3f\n",
	       run.nochg_done, pct_ms(run.nochg_ns, run.nochg_done, 50),
	       pct_ms(run.nochg_ns, run.nochg_done, 99),
	       pct_ms(run.nochg_ns, run.nochg_done, 100));
	ret = 0;
out:
	run_free(&run);
	return ret;
}

/* ------------------------------------------------------------- ping */

/* utime + stime of a process, in clock ticks; -1 when unreadable. */
static long long
proc_cpu_ticks(long pid)
{
	char path[64], line[4096];
	unsigned long long ut, st;
	const char *p;
	FILE *f;
	size_t n;

	(void)snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = 0;
	/* Fields after the command name, which may hold spaces. */
	p = strrchr(line, ')');
	if (p == NULL || sscanf(p + 2,
				"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
				"%*u %llu %llu",
				&ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

static long long
proc_rss_kb(long pid)
{
	char path[64], line[256];
	long long kb = -1;
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtoll(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

/* Run the loop until pred() or the deadline; 0 when pred() held. */
static int
run_until(struct run *run, bool (*pred)(const struct run *), int timeout_s)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_s * 1000000000ull;

	while (!pred(run)) {
		if (now_ns() >= deadline)
			return -1;
		run_once(run, 50);
	}
	return 0;
}

static bool
prepared(const struct run *run)
{
	return run->done + run->failed >= run->n_devs && run->active == 0;
}

static bool
pings_written(const struct run *run)
{
	if (run->failed > 0)
		return true;
	for (size_t i = 0; i < run->n_devs; i++)
		if (run->devs[i].connecting || run->devs[i].writing ||
		    run->devs[i].fd < 0)
			return false;
	return true;
}

static bool
push_answered(const struct run *run)
{
	return run->push_wait == 0 || run->failed > 0;
}

/* Poll the loop for ms milliseconds (events are answered meanwhile). */
static void
run_for(struct run *run, unsigned ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;
	uint64_t t;

	while ((t = now_ns()) < end)
		run_once(run, (int)((end - t) / 1000000ull) + 1);
}

static int
do_ping(int argc, char **argv)
{
	struct run run;
	unsigned long port, users, devices, nsrc, lmtp_port, nmsg, cas_pid,
	    mbx_pid;
	struct lmtp lm = {.fd = -1};
	struct buf msg;
	long long rss0, rss1, cpu0, cpu1, mcpu0, mcpu1, c_prev = -1,
							m_prev = -1;
	size_t n, next = 0;
	unsigned quiet = 0;
	uint64_t t0, deadline;
	double tick_ms = 1000.0 / (double)sysconf(_SC_CLK_TCK);
	int ret = 1;

	buf_init(&msg, 64 * 1024);
	if (argc != 12 || parse_uint(argv[2], 65535, &port) != 0 ||
	    parse_uint(argv[4], 100000, &users) != 0 || users == 0 ||
	    parse_uint(argv[5], 100000, &devices) != 0 || devices == 0 ||
	    users * devices > LOAD_MAX_DEVICES ||
	    parse_uint(argv[7], LOAD_MAX_SRC, &nsrc) != 0 || nsrc == 0 ||
	    parse_uint(argv[8], 65535, &lmtp_port) != 0 ||
	    parse_uint(argv[9], 100000, &nmsg) != 0 ||
	    parse_uint(argv[10], 1u << 22, &cas_pid) != 0 ||
	    parse_uint(argv[11], 1u << 22, &mbx_pid) != 0) {
		fprintf(stderr,
			"usage: eas_load ping HTTP_PORT PREFIX USERS DEVICES "
			"PASSWORD NSRC LMTP_PORT NMSG CAS_PID MBOX_PID\n");
		return 2;
	}
	n = users * devices;
	if (run_init(&run, (unsigned)port, n) != 0)
		return 1;
	run.nsrc = (unsigned)nsrc;
	run.window = 100;
	run.trunc = 5120;
	run.max_lat = n * (nmsg / users + 1);
	run.lat_ns = calloc(run.max_lat, sizeof(*run.lat_ns));
	run.first_ns = calloc(nmsg + 1, sizeof(*run.first_ns));
	if (run.lat_ns == NULL || run.first_ns == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char user[64], device[40];

		(void)snprintf(user, sizeof(user), "%s%zu", argv[3],
			       i / devices);
		(void)snprintf(device, sizeof(device), "bench%zuu%zu",
			       i % devices, i / devices);
		dev_setup(&run.devs[i], user, device, argv[6],
			  (unsigned)(i % nsrc));
	}

	/* 1. Devices: Provision, FolderSync, Sync 0 and once more. */
	run.mode = MODE_PREPARE;
	t0 = now_ns();
	deadline = t0 + (uint64_t)LOAD_PHASE_TIMEOUT_S * 1000000000ull;
	/* Each user's first device alone: the first request of a user
	 * costs a password hash (the CAS caches the verdict), so the rest
	 * of that user's devices start once it is cached, as the phones of
	 * one person do not all appear in the same millisecond. */
	for (int pass = 0; pass < 2; pass++) {
		next = 0;
		while (run.failed == 0 && now_ns() < deadline) {
			while (next < n && run.active < LOAD_PREP_CONCURRENCY) {
				struct dev *d = &run.devs[next];
				bool first = next++ % devices == 0;

				if (first != (pass == 0))
					continue;
				send_step(&run, d, ST_PROV1);
			}
			if (next >= n && run.active == 0)
				break;
			run_once(&run, 50);
		}
	}
	if (run.failed > 0 || !prepared(&run)) {
		fprintf(stderr, "eas_load: preparation failed (%zu failed)\n",
			run.failed);
		goto out;
	}
	printf("prepared devices %zu users %lu seconds %.1f\n", n, users,
	       (double)(now_ns() - t0) / 1e9);
	fflush(stdout);
	run_for(&run, 1000);
	rss0 = proc_rss_kb((long)cas_pid);

	/* 2. One held Ping per device, LOAD_MAX_CONNECTING opening at once. */
	run.mode = MODE_PING;
	t0 = now_ns();
	next = 0;
	while (next < n && run.failed == 0 && now_ns() < deadline) {
		while (next < n && run.connecting < LOAD_MAX_CONNECTING)
			send_step(&run, &run.devs[next++], ST_PING);
		run_once(&run, 10);
	}
	if (run_until(&run, pings_written, LOAD_IDLE_TIMEOUT_S) != 0 ||
	    run.failed > 0) {
		fprintf(stderr, "eas_load: Pings not sent (%zu failed)\n",
			run.failed);
		goto out;
	}
	/* Held = every Ping written, none answered, and both daemons
	 * idle for a second (PingCheck done for all). */
	deadline = now_ns() + (uint64_t)LOAD_IDLE_TIMEOUT_S * 1000000000ull;
	while (quiet < 4 && run.failed == 0 && now_ns() < deadline) {
		long long c = proc_cpu_ticks((long)cas_pid);
		long long m = proc_cpu_ticks((long)mbx_pid);

		quiet = (c == c_prev && m == m_prev) ? quiet + 1 : 0;
		c_prev = c;
		m_prev = m;
		run_for(&run, 250);
	}
	if (quiet < 4 || run.failed > 0) {
		fprintf(stderr, "eas_load: Pings not held (%zu failed)\n",
			run.failed);
		goto out;
	}
	printf("held pings %zu sources %lu seconds %.1f\n", n, nsrc,
	       (double)(now_ns() - t0) / 1e9);
	rss1 = proc_rss_kb((long)cas_pid);
	cpu0 = proc_cpu_ticks((long)cas_pid);
	mcpu0 = proc_cpu_ticks((long)mbx_pid);
	run_for(&run, LOAD_CPU_WINDOW_MS);
	cpu1 = proc_cpu_ticks((long)cas_pid);
	mcpu1 = proc_cpu_ticks((long)mbx_pid);
	if (run.failed > 0)
		goto out;
	printf("cas_rss_kb before %lld after %lld per_conn_bytes %.0f\n", rss0,
	       rss1, (double)(rss1 - rss0) * 1024.0 / (double)n);
	printf("cpu_held window_ms %u cas_ms %.0f mailbox_ms %.0f "
	       "cas_pct %.2f\n",
	       LOAD_CPU_WINDOW_MS, (double)(cpu1 - cpu0) * tick_ms,
	       (double)(mcpu1 - mcpu0) * tick_ms,
	       (double)(cpu1 - cpu0) * tick_ms * 100.0 / LOAD_CPU_WINDOW_MS);
	fflush(stdout);

	/* 3. Pushes: one message at a time to user i % users. */
	if (nmsg > 0 && lmtp_open(&lm, (unsigned)lmtp_port) != 0) {
		fprintf(stderr, "eas_load: cannot open LMTP\n");
		goto out;
	}
	for (unsigned long i = 0; i < nmsg; i++) {
		size_t u = i % users;
		char rcpt[128];

		(void)snprintf(rcpt, sizeof(rcpt), "%s%zu@example.org", argv[3],
			       u);
		if (message_build(&msg, rcpt, 1000000 + i, 2048) != 0)
			goto out;
		for (size_t k = u * devices; k < (u + 1) * devices; k++)
			run.devs[k].woken = true;
		run.push_wait = devices;
		run.pings_left = devices;
		run.push_lo = u * devices;
		run.push_hi = (u + 1) * devices;
		run.n_first = i;
		if (lmtp_deliver(&lm, rcpt, &msg) != 0) {
			fprintf(stderr, "eas_load: LMTP delivery refused\n");
			goto out;
		}
		run.t_250 = now_ns();
		if (run_until(&run, push_answered, LOAD_PUSH_TIMEOUT_S) != 0 ||
		    run.failed > 0) {
			fprintf(stderr,
				"eas_load: push %lu: %zu Pings not answered "
				"(%zu failed)\n",
				i, run.push_wait, run.failed);
			goto out;
		}
	}
	/* The last re-Pings reach the server before the summary. */
	if (run_until(&run, pings_written, LOAD_IDLE_TIMEOUT_S) != 0 ||
	    run.failed > 0)
		goto out;
	if (run.push_adds != nmsg * devices) {
		fprintf(stderr,
			"eas_load: woken devices synced %lu Adds, want %lu\n",
			run.push_adds, nmsg * devices);
		goto out;
	}
	qsort(run.lat_ns, run.n_lat, sizeof(uint64_t), cmp_u64);
	qsort(run.first_ns, nmsg, sizeof(uint64_t), cmp_u64);
	printf("push messages %lu pings_woken %zu p50_ms %.2f p99_ms %.2f "
	       "max_ms %.2f\n",
	       nmsg, run.n_lat, pct_ms(run.lat_ns, run.n_lat, 50),
	       pct_ms(run.lat_ns, run.n_lat, 99),
	       pct_ms(run.lat_ns, run.n_lat, 100));
	printf("push_first messages %lu p50_ms %.2f p99_ms %.2f\n", nmsg,
	       pct_ms(run.first_ns, nmsg, 50), pct_ms(run.first_ns, nmsg, 99));
	ret = 0;
out:
	if (lm.fd >= 0)
		close(lm.fd);
	buf_free(&msg);
	run_free(&run);
	return ret;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "fill") == 0)
		return do_fill(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "sync") == 0)
		return do_sync(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "ping") == 0)
		return do_ping(argc, argv);
	fprintf(stderr, "usage: eas_load fill|sync|ping ...\n");
	return 2;
}
