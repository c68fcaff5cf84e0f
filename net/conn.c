/*
 * Framed non-blocking connection (contract in conn.h).  States: connecting
 * (wait for writable, check SO_ERROR) -> handshaking (TLS only; SSL_do_-
 * handshake with WANT_READ/WANT_WRITE) -> open (frames both ways) ->
 * closing (flush, then report) -> dead.  epoll is level-triggered; a read
 * pass stops after CONN_READ_BUDGET reads and resumes from a 0 ms timer, so
 * one busy peer cannot starve the others and TLS bytes already decrypted
 * inside OpenSSL are not forgotten.
 */
#include "net/conn.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/listen.h"
#include "proto/limits.h"
#include "proto/log.h"

/* Bytes asked of the kernel (or OpenSSL) per read call. */
#define CONN_READ_CHUNK (64u * 1024u)
/* Reads per pass before yielding to other connections. */
#define CONN_READ_BUDGET 16
/* Bytes handed to one write call: a TLS record is 16 KiB anyway. */
#define CONN_WRITE_CHUNK (256u * 1024u)

enum conn_state {
	CONN_CONNECTING,
	CONN_HANDSHAKE,
	CONN_OPEN,
	CONN_CLOSING,
	CONN_DEAD,
};

struct conn {
	struct loop *loop;
	int fd;
	SSL *ssl;
	enum conn_state state;
	struct loop_watch *watch;
	struct loop_timer *resume; /* continue an interrupted read pass */
	const struct conn_ops *ops;
	void *arg;
	struct buf in;
	struct buf out;
	bool ssl_wants_write;  /* last SSL call asked for writability */
	bool read_wants_write; /* SSL_read asked for it: retry the read */
	bool want_drained;     /* call ops->drained at <= low_water */
	size_t low_water;
	unsigned depth; /* callbacks running */
	bool freed;     /* conn_free() called while depth > 0 */
	const char *close_reason;
	char peer[256];
};

static void conn_event(void *arg, unsigned events);

static void
release(struct conn *c)
{
	loop_watch_free(&c->watch);
	loop_timer_cancel(&c->resume);
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	/* Frames may have carried passwords (VerifyCredentials): wipe what
	 * the buffers still hold (style rule 17). */
	if (c->in.data != NULL)
		OPENSSL_cleanse(c->in.data, c->in.cap);
	if (c->out.data != NULL)
		OPENSSL_cleanse(c->out.data, c->out.cap);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

void
conn_free(struct conn **cp)
{
	struct conn *c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	if (c->depth > 0) {
		/* Inside one of our callbacks: stop all I/O now, release
		 * when the callback returns. */
		c->freed = true;
		c->state = CONN_DEAD;
		loop_watch_free(&c->watch);
		loop_timer_cancel(&c->resume);
		return;
	}
	release(c);
}

/*
 * Lifetime during callbacks: every entry point from the loop or from the
 * owner brackets its work with hold()/release_hold(); the owner's
 * callbacks may call conn_free(), which only marks the conn while it is
 * held, and the outermost release_hold() frees it.  Helpers below an entry
 * point never free, so they may keep using the conn after a callback
 * (checking c->freed or c->state).
 */
static void
hold(struct conn *c)
{
	c->depth++;
}

/* false if the conn was freed (it is gone when this returns false and
 * depth reached 0). */
static bool
release_hold(struct conn *c)
{
	c->depth--;
	if (c->freed) {
		if (c->depth == 0)
			release(c);
		return false;
	}
	return true;
}

static void
update_interest(struct conn *c)
{
	unsigned ev = 0;

	if (c->watch == NULL)
		return;
	switch (c->state) {
	case CONN_CONNECTING:
		ev = LOOP_WRITE;
		break;
	case CONN_HANDSHAKE:
		ev = LOOP_READ | (c->ssl_wants_write ? LOOP_WRITE : 0);
		break;
	case CONN_OPEN:
	case CONN_CLOSING:
		ev = LOOP_READ;
		if (c->out.len > 0 || c->ssl_wants_write || c->read_wants_write)
			ev |= LOOP_WRITE;
		break;
	case CONN_DEAD:
		break;
	}
	(void)loop_watch_set(c->watch, ev);
}

/* The connection is dead: tell the owner once. */
static void
fail(struct conn *c, const char *reason)
{
	if (c->state == CONN_DEAD)
		return;
	c->state = CONN_DEAD;
	loop_watch_free(&c->watch);
	loop_timer_cancel(&c->resume);
	ERR_clear_error();
	c->ops->closed(c->arg, reason); /* caller holds c */
}

static void
set_peer_name(struct conn *c)
{
	X509 *cert;
	GENERAL_NAMES *names;
	int i;

	if (c->ssl == NULL) {
		memcpy(c->peer, "unix", 5);
		return;
	}
	memcpy(c->peer, "tls", 4);
	cert = SSL_get0_peer_certificate(c->ssl);
	if (cert == NULL)
		return;
	names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		const unsigned char *s;
		int len;

		if (gn->type != GEN_DNS)
			continue;
		s = ASN1_STRING_get0_data(gn->d.dNSName);
		len = ASN1_STRING_length(gn->d.dNSName);
		if (len > 0 && (size_t)len < sizeof(c->peer)) {
			memcpy(c->peer, s, (size_t)len);
			c->peer[len] = '\0';
			break;
		}
	}
	GENERAL_NAMES_free(names);
}

static void
become_open(struct conn *c)
{
	c->state = CONN_OPEN;
	set_peer_name(c);
	update_interest(c);
	c->ops->ready(c->arg); /* caller holds c */
}

static const char *
ssl_failure(struct conn *c, const char *what)
{
	long v = SSL_get_verify_result(c->ssl);
	unsigned long e = ERR_peek_error();

	if (v != X509_V_OK) {
		log_warn("rpc %s: certificate verification failed: %s", what,
			 X509_verify_cert_error_string(v));
		return "rpc tls: peer certificate refused";
	}
	if (e != 0) {
		char msg[256];

		ERR_error_string_n(e, msg, sizeof(msg));
		log_warn("rpc %s: %s", what, msg);
	}
	return "rpc tls: handshake or record failure";
}

static void
do_handshake(struct conn *c)
{
	int r = SSL_do_handshake(c->ssl);

	if (r == 1) {
		c->ssl_wants_write = false;
		become_open(c);
		return;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		c->ssl_wants_write = false;
		break;
	case SSL_ERROR_WANT_WRITE:
		c->ssl_wants_write = true;
		break;
	default:
		fail(c, ssl_failure(c, "tls handshake"));
		return;
	}
	update_interest(c);
}

/* Write as much queued output as the socket takes.  0, or -1 after fail. */
static int
flush(struct conn *c)
{
	c->ssl_wants_write = false;
	while (c->out.len > 0) {
		size_t len = c->out.len < CONN_WRITE_CHUNK ? c->out.len
							   : CONN_WRITE_CHUNK;
		ssize_t n;

		if (c->ssl != NULL) {
			int r = SSL_write(c->ssl, c->out.data, (int)len);

			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);

				if (e == SSL_ERROR_WANT_WRITE ||
				    e == SSL_ERROR_WANT_READ) {
					c->ssl_wants_write =
					    e == SSL_ERROR_WANT_WRITE;
					break;
				}
				fail(c, ssl_failure(c, "tls write"));
				return -1;
			}
			n = r;
		} else {
			n = send(c->fd, c->out.data, len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				fail(c, "rpc: write failed (peer gone)");
				return -1;
			}
		}
		buf_consume(&c->out, (size_t)n);
	}
	if (c->out.len == 0 && c->state == CONN_CLOSING) {
		if (c->ssl != NULL)
			(void)SSL_shutdown(c->ssl);
		else
			(void)shutdown(c->fd, SHUT_WR);
		fail(c, c->close_reason);
		return -1;
	}
	update_interest(c);
	if (c->want_drained && c->out.len <= c->low_water &&
	    c->ops->drained != NULL) {
		c->want_drained = false;
		c->ops->drained(c->arg); /* caller holds c */
		if (c->freed || c->state == CONN_DEAD)
			return -1;
	}
	return 0;
}

/* Hand every complete frame in the input to the owner.  0, or -1 when the
 * conn is gone or failed. */
static int
deliver(struct conn *c)
{
	const uint8_t *pos = c->in.data, *end = c->in.data + c->in.len;
	const char *error = NULL;
	struct rpc_frame f;
	int ret = 0;

	if (c->in.len == 0)
		return 0;
	while (c->state == CONN_OPEN) {
		enum rpc_frame_result r =
		    rpc_frame_decode(&pos, end, &f, NULL, &error);

		if (r == RPC_FRAME_NEED_MORE)
			break;
		if (r == RPC_FRAME_ERROR) {
			log_warn("rpc: %s from %s", error, c->peer);
			fail(c, error);
			ret = -1;
			break;
		}
		c->ops->frame(c->arg, &f); /* caller holds c */
		if (c->freed)
			break;
	}
	if (c->freed || c->state == CONN_DEAD)
		return -1;
	buf_consume(&c->in, (size_t)(pos - c->in.data));
	return ret;
}

static void
resume_read(void *arg)
{
	struct conn *c = arg;

	c->resume = NULL;
	conn_event(c, LOOP_READ);
}

/* Read until the socket is empty or the budget is spent. */
static void
read_pass(struct conn *c)
{
	int budget = CONN_READ_BUDGET;

	while (c->state == CONN_OPEN || c->state == CONN_CLOSING) {
		ssize_t n;

		if (budget-- == 0) {
			if (c->resume == NULL)
				c->resume =
				    loop_timer_add(c->loop, 0, resume_read, c);
			return;
		}
		if (buf_reserve(&c->in, CONN_READ_CHUNK) < 0) {
			fail(c, "rpc: out of memory for input");
			return;
		}
		if (c->ssl != NULL) {
			int r = SSL_read(c->ssl, c->in.data + c->in.len,
					 (int)CONN_READ_CHUNK);

			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);

				if (e == SSL_ERROR_WANT_READ)
					return;
				if (e == SSL_ERROR_WANT_WRITE) {
					c->read_wants_write = true;
					update_interest(c);
					return;
				}
				if (e == SSL_ERROR_ZERO_RETURN) {
					fail(c, "rpc: peer closed");
					return;
				}
				fail(c, ssl_failure(c, "tls read"));
				return;
			}
			n = r;
		} else {
			n = recv(c->fd, c->in.data + c->in.len, CONN_READ_CHUNK,
				 0);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return;
				fail(c, "rpc: read failed");
				return;
			}
			if (n == 0) {
				fail(c, "rpc: peer closed");
				return;
			}
		}
		c->in.len += (size_t)n;
		if (c->state == CONN_CLOSING) {
			/* Not interested any more: drop it. */
			buf_reset(&c->in);
			continue;
		}
		if (deliver(c) < 0)
			return;
	}
}

static void
conn_event(void *arg, unsigned events)
{
	struct conn *c = arg;
	const char *error = NULL;

	hold(c);
	switch (c->state) {
	case CONN_CONNECTING:
		if (net_connect_finish(c->fd, &error) < 0) {
			fail(c, error);
			break;
		}
		if (c->ssl != NULL) {
			c->state = CONN_HANDSHAKE;
			do_handshake(c);
		} else {
			become_open(c);
		}
		break;
	case CONN_HANDSHAKE:
		do_handshake(c);
		break;
	case CONN_OPEN:
	case CONN_CLOSING: {
		/* An SSL_read that needed to write is retried once the
		 * socket is writable (TLS 1.3 key updates). */
		bool retry_read = c->read_wants_write && (events & LOOP_WRITE);

		if (retry_read)
			c->read_wants_write = false;
		if ((events & LOOP_WRITE) || c->ssl_wants_write) {
			if (flush(c) < 0)
				break;
		}
		if ((events & (LOOP_READ | LOOP_ERROR)) || retry_read)
			read_pass(c);
		break;
	}
	case CONN_DEAD:
		break;
	}
	(void)release_hold(c);
}

static void
start(void *arg)
{
	struct conn *c = arg;

	c->resume = NULL;
	hold(c);
	if (c->ssl != NULL) {
		c->state = CONN_HANDSHAKE;
		do_handshake(c);
	} else {
		become_open(c);
	}
	(void)release_hold(c);
}

/* OpenSSL writes with write(2), which raises SIGPIPE on a dead peer: the
 * RPC process ignores SIGPIPE and handles EPIPE instead. */
static pthread_once_t sigpipe_once = PTHREAD_ONCE_INIT;

static void
ignore_sigpipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
}

struct conn *
conn_new(struct loop *loop, int fd, SSL *ssl, bool connecting,
	 const struct conn_ops *ops, void *arg)
{
	struct conn *c = calloc(1, sizeof(*c));

	(void)pthread_once(&sigpipe_once, ignore_sigpipe);
	if (c == NULL) {
		if (ssl != NULL)
			SSL_free(ssl);
		close(fd);
		return NULL;
	}
	c->loop = loop;
	c->fd = fd;
	c->ssl = ssl;
	c->ops = ops;
	c->arg = arg;
	memcpy(c->peer, "?", 2);
	/* One frame plus one read chunk: complete frames are consumed
	 * before the next read, so input never holds more. */
	buf_init(&c->in, RPC_FRAME_LENGTH_BYTES + RPC_MAX_FRAME_BYTES +
			     CONN_READ_CHUNK);
	buf_init(&c->out, RPC_MAX_OUTPUT_BYTES);
	c->state = CONN_CONNECTING;
	c->watch = loop_watch_add(loop, fd, LOOP_WRITE, conn_event, c);
	if (c->watch == NULL) {
		release(c);
		return NULL;
	}
	if (!connecting) {
		/* Start from the loop, so the owner has stored the pointer
		 * before the first callback runs. */
		c->state = CONN_HANDSHAKE;
		(void)loop_watch_set(c->watch, 0);
		c->resume = loop_timer_add(loop, 0, start, c);
		if (c->resume == NULL) {
			release(c);
			return NULL;
		}
	}
	return c;
}

static int
queued(struct conn *c, int r)
{
	if (r < 0) {
		if (c->out.len + RPC_MAX_FRAME_BYTES > c->out.max)
			fail(c, "rpc: peer not reading, output over "
				"RPC_MAX_OUTPUT_BYTES");
		return -1;
	}
	if (c->state == CONN_OPEN)
		update_interest(c);
	return 0;
}

int
conn_send(struct conn *c, uint16_t type, uint8_t flags, uint64_t id,
	  const ProtobufCMessage *msg)
{
	int r;

	if (c->state == CONN_DEAD || c->state == CONN_CLOSING)
		return -1;
	hold(c);
	r = queued(c, rpc_frame_encode_msg(&c->out, type, flags, id, msg));
	(void)release_hold(c);
	return r;
}

int
conn_send_raw(struct conn *c, const uint8_t *data, size_t len)
{
	int r;

	if (c->state == CONN_DEAD || c->state == CONN_CLOSING)
		return -1;
	hold(c);
	r = queued(c, buf_append(&c->out, data, len));
	(void)release_hold(c);
	return r;
}

void
conn_close_after_flush(struct conn *c, const char *reason)
{
	if (c->state != CONN_OPEN) {
		hold(c);
		fail(c, reason);
		(void)release_hold(c);
		return;
	}
	c->state = CONN_CLOSING;
	c->close_reason = reason;
	update_interest(c);
	(void)loop_watch_set(c->watch, LOOP_READ | LOOP_WRITE);
}

bool
conn_notify_drained(struct conn *c, size_t low_water)
{
	if (c->out.len <= low_water)
		return true;
	c->want_drained = true;
	c->low_water = low_water;
	return false;
}

size_t
conn_output_pending(const struct conn *c)
{
	return c->out.len;
}

bool
conn_is_ready(const struct conn *c)
{
	return c->state == CONN_OPEN;
}

const char *
conn_peer_name(struct conn *c)
{
	return c->peer;
}
