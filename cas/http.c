/*
 * libmicrohttpd glue for easd-cas; see http.h for the model.  This file is
 * the only includer of microhttpd.h (style rule 2).
 *
 * Threads: each MHD daemon runs a pool of epoll polling threads ([cas]
 * http_threads, one per CPU by default; each owns a share of the
 * connections) that call the access handler, the content reader and the
 * completion notifier, concurrently for different connections; our
 * ticker thread runs the timer wheel once a second and watches the sockets
 * of suspended connections for hang-ups (MHD does not notice a client
 * leaving while its connection is suspended).  Handlers, verifiers and
 * producers answer from any thread.
 *
 * Locks, in order: a request's lock, then the server's watch lock or wheel
 * lock (never both, never the other way round).  Callbacks into other
 * modules (handlers, hooks, timers) run with no lock of ours held.
 *
 * One request's life: created by the URI log callback (MHD guarantees the
 * completion notifier for it); first access call: headers copied, edge
 * filtering; upload calls: body into a bounded buffer; final call:
 * authentication and handler; then either an answer is stored and queued
 * at once, or the connection is suspended until cas_req_respond() or
 * cas_req_stream_begin() stores one and resumes it.  MHD then calls the
 * access handler again, which queues the stored answer.
 */
#include "cas/http.h"

#include "cas/dispatch.h"
#include "proto/buf.h"
#include "proto/limits.h"
#include "proto/log.h"

#include <errno.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* Chunk of the request arena; larger allocations get their own chunk. */
#define REQ_ARENA_CHUNK_BYTES 2048u
/* Bytes the content reader hands MHD per call. */
#define STREAM_BLOCK_BYTES (16u * 1024u)
/* Retry-After for "the mailbox cannot check passwords now". */
#define RETRY_UNAVAILABLE_S 30u
#define RETRY_SHUTDOWN_S 5u

struct http_listener {
	struct cas_http *http;
	struct MHD_Daemon *daemon;
	bool tls;
	uint16_t port;
};

struct watch_slot {
	struct cas_req *req; /* NULL when free */
	uint32_t gen;
};

struct cas_http {
	struct cas_http_config cfg;
	struct http_listener listeners[2]; /* [0] plain, [1] TLS */
	char *priorities;

	/* live requests, for shutdown */
	pthread_mutex_t reqs_lock;
	struct cas_req *reqs;
	size_t live;
	atomic_bool stopping;

	/* ticker: timer wheel and hang-up watch */
	pthread_t ticker;
	bool ticker_started;
	int epfd, timerfd, stopfd;
	pthread_mutex_t wheel_lock;
	struct tw wheel;
	pthread_mutex_t watch_lock;
	struct watch_slot *slots;
	size_t n_slots;
	size_t free_hint;
	bool shut;
};

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

enum req_state {
	REQ_RUNNING = 0, /* in MHD's hands or our access handler */
	REQ_SUSPENDED,   /* MHD_suspend_connection in effect */
	REQ_DONE,        /* MHD reported completion */
};

struct query_arg {
	const char *key, *value;
};

struct cas_req {
	pthread_mutex_t lock;
	atomic_uint refs;
	struct cas_http *http;
	struct http_listener *lst;
	struct MHD_Connection *conn;
	struct cas_req *live_prev, *live_next; /* http->reqs */
	struct arena_chunk *arena;

	/* request data, written by the first access call, then read-only */
	bool seen;
	char *method, *path, *query;
	char *target; /* the raw request target (Autodiscover JSON) */
	char *hdr[CAS_HDR_COUNT];
	struct query_arg *args;
	size_t n_args;
	char peer[CAS_PROXY_ADDR_STRLEN];
	char client[CAS_PROXY_ADDR_STRLEN];
	bool peer_loopback, peer_tls, https;
	struct buf body;
	bool body_too_large;
	atomic_bool processed; /* final access call ran (read by shutdown) */
	struct cas_user user;
	bool authenticated;
	uint8_t digest[CAS_AUTH_DIGEST_BYTES];

	/* answer state, under lock */
	enum req_state state;
	bool answered;
	struct MHD_Response *resp; /* stored answer not yet queued */
	unsigned status;
	bool streaming, stream_end, reader_waiting;
	struct buf stream;
	/* One-shot "the stream drained" hook (cas_req_stream_on_drain). */
	cas_req_drain_fn *drain_fn;
	void *drain_ctx;
	size_t drain_below;
	bool gone;
	bool cancel_done;
	cas_req_cancel_fn *cancel_fn;
	void *cancel_ctx;
	size_t watch_slot; /* index + 1; 0 when not watched */
	uint32_t watch_gen;
	struct tw_timer timer; /* under wheel lock */
	cas_req_timeout_fn *timeout_fn;
	void *timeout_ctx;
};

static uint64_t
http_now_s(const struct cas_http *http)
{
	struct timespec ts;

	if (http->cfg.clock_s != NULL)
		return http->cfg.clock_s();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* ---------------------------------------------------------------- arena */

void *
cas_req_alloc(struct cas_req *req, size_t size)
{
	struct arena_chunk *c = req->arena;
	size_t align = sizeof(max_align_t);
	size_t need = (size + align - 1) / align * align;
	void *p;

	if (size == 0 || need < size)
		return NULL;
	if (c == NULL || c->size - c->used < need) {
		size_t csize =
		    need > REQ_ARENA_CHUNK_BYTES ? need : REQ_ARENA_CHUNK_BYTES;

		c = malloc(sizeof(*c) + csize);
		if (c == NULL)
			return NULL;
		c->size = csize;
		c->used = 0;
		/* Keep the chunk with free room at the head. */
		if (req->arena != NULL && need > REQ_ARENA_CHUNK_BYTES) {
			c->next = req->arena->next;
			req->arena->next = c;
		} else {
			c->next = req->arena;
			req->arena = c;
		}
	}
	p = (uint8_t *)c->data + c->used;
	c->used += need;
	return p;
}

char *
cas_req_strdup(struct cas_req *req, const char *s)
{
	size_t len = strlen(s);
	char *p = cas_req_alloc(req, len + 1);

	if (p != NULL)
		memcpy(p, s, len + 1);
	return p;
}

static char *
req_strndup(struct cas_req *req, const char *s, size_t len)
{
	char *p = cas_req_alloc(req, len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = 0;
	}
	return p;
}

/* ---------------------------------------------------------------- refs */

static void
req_free(struct cas_req *req)
{
	struct arena_chunk *c = req->arena;

	while (c != NULL) {
		struct arena_chunk *next = c->next;

		free(c);
		c = next;
	}
	if (req->resp != NULL)
		MHD_destroy_response(req->resp);
	buf_free(&req->body);
	buf_free(&req->stream);
	OPENSSL_cleanse(req->digest, sizeof(req->digest));
	pthread_mutex_destroy(&req->lock);
	free(req);
}

void
cas_req_ref(struct cas_req *req)
{
	atomic_fetch_add(&req->refs, 1);
}

void
cas_req_unref(struct cas_req **reqp)
{
	struct cas_req *req = *reqp;

	if (req == NULL)
		return;
	*reqp = NULL;
	if (atomic_fetch_sub(&req->refs, 1) == 1)
		req_free(req);
}

/* ---------------------------------------------------------------- watch */

/* Watch a suspended connection's socket for hang-up (req lock held).  The
 * epoll entry carries a slot index and generation, never the pointer, so
 * an event that arrives after the request moved on finds a stale slot.
 * Trade-off: EPOLLRDHUP also fires for a client that only half-closes
 * (shutdown of its write side) after sending; such a client's held
 * request is cancelled.  EAS clients keep the connection open. */
static void
req_watch_locked(struct cas_req *req)
{
	struct cas_http *http = req->http;
	const union MHD_ConnectionInfo *ci;
	struct epoll_event ev;
	size_t i;

	if (req->watch_slot != 0)
		return;
	ci = MHD_get_connection_info(req->conn,
				     MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return;
	pthread_mutex_lock(&http->watch_lock);
	for (i = http->free_hint; i < http->n_slots; i++) {
		if (http->slots[i].req == NULL)
			break;
	}
	if (i == http->n_slots) {
		for (i = 0; i < http->n_slots; i++) {
			if (http->slots[i].req == NULL)
				break;
		}
	}
	if (i == http->n_slots) {
		size_t n = http->n_slots == 0 ? 64 : http->n_slots * 2;
		struct watch_slot *s;

		if (n > 2u * CAS_MAX_CONNECTIONS)
			goto out;
		s = realloc(http->slots, n * sizeof(*s));
		if (s == NULL)
			goto out;
		memset(s + http->n_slots, 0, (n - http->n_slots) * sizeof(*s));
		http->slots = s;
		http->n_slots = n;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLRDHUP | EPOLLHUP | EPOLLERR;
	ev.data.u64 = ((uint64_t)http->slots[i].gen << 32) | i;
	if (epoll_ctl(http->epfd, EPOLL_CTL_ADD, ci->connect_fd, &ev) != 0)
		goto out;
	http->slots[i].req = req;
	http->free_hint = i + 1;
	req->watch_slot = i + 1;
	req->watch_gen = http->slots[i].gen;
out:
	pthread_mutex_unlock(&http->watch_lock);
}

static void
req_unwatch_locked(struct cas_req *req)
{
	struct cas_http *http = req->http;
	const union MHD_ConnectionInfo *ci;
	size_t i;

	if (req->watch_slot == 0)
		return;
	i = req->watch_slot - 1;
	ci = MHD_get_connection_info(req->conn,
				     MHD_CONNECTION_INFO_CONNECTION_FD);
	pthread_mutex_lock(&http->watch_lock);
	if (ci != NULL)
		(void)epoll_ctl(http->epfd, EPOLL_CTL_DEL, ci->connect_fd,
				NULL);
	http->slots[i].req = NULL;
	http->slots[i].gen++;
	if (i < http->free_hint)
		http->free_hint = i;
	pthread_mutex_unlock(&http->watch_lock);
	req->watch_slot = 0;
}

/* Resume a suspended connection (req lock held): exactly once per
 * suspension, since the state changes under the same lock. */
static void
req_resume_locked(struct cas_req *req)
{
	if (req->state != REQ_SUSPENDED)
		return;
	req_unwatch_locked(req);
	req->state = REQ_RUNNING;
	req->reader_waiting = false;
	MHD_resume_connection(req->conn);
}

/* ---------------------------------------------------------------- timers */

void
cas_http_timer_add(struct cas_http *http, struct tw_timer *timer,
		   uint64_t delay_s, tw_fn *fn, void *ctx)
{
	pthread_mutex_lock(&http->wheel_lock);
	tw_add(&http->wheel, timer, delay_s, fn, ctx);
	pthread_mutex_unlock(&http->wheel_lock);
}

bool
cas_http_timer_cancel(struct cas_http *http, struct tw_timer *timer)
{
	bool was;

	pthread_mutex_lock(&http->wheel_lock);
	was = tw_cancel(&http->wheel, timer);
	pthread_mutex_unlock(&http->wheel_lock);
	return was;
}

static void
req_timer_fired(struct tw_timer *timer, void *ctx)
{
	struct cas_req *req = ctx;
	cas_req_timeout_fn *fn;
	void *fn_ctx;
	bool run;

	(void)timer;
	pthread_mutex_lock(&req->lock);
	run = !req->answered && !req->gone;
	fn = req->timeout_fn;
	fn_ctx = req->timeout_ctx;
	pthread_mutex_unlock(&req->lock);
	if (run && fn != NULL)
		fn(req, fn_ctx);
	cas_req_unref(&req); /* the timer's reference */
}

int
cas_req_set_timeout(struct cas_req *req, unsigned timeout_s,
		    cas_req_timeout_fn *fn, void *ctx)
{
	struct cas_http *http = req->http;
	bool rearmed;

	pthread_mutex_lock(&req->lock);
	if (req->answered || req->gone) {
		pthread_mutex_unlock(&req->lock);
		return -1;
	}
	req->timeout_fn = fn;
	req->timeout_ctx = ctx;
	pthread_mutex_lock(&http->wheel_lock);
	rearmed = tw_cancel(&http->wheel, &req->timer);
	tw_add(&http->wheel, &req->timer, timeout_s, req_timer_fired, req);
	pthread_mutex_unlock(&http->wheel_lock);
	if (!rearmed)
		cas_req_ref(req); /* held by the armed timer */
	pthread_mutex_unlock(&req->lock);
	return 0;
}

/* Disarm the request's timer (req lock held); drops the timer's reference,
 * never the last one since the caller holds another. */
static void
req_cancel_timer_locked(struct cas_req *req)
{
	struct cas_http *http = req->http;
	bool was;

	pthread_mutex_lock(&http->wheel_lock);
	was = tw_cancel(&http->wheel, &req->timer);
	pthread_mutex_unlock(&http->wheel_lock);
	if (was)
		atomic_fetch_sub(&req->refs, 1);
}

/* ---------------------------------------------------------------- ticker */

static void req_client_gone(struct cas_req *req);

static void
ticker_hangups(struct cas_http *http, const struct epoll_event *evs, int n)
{
	for (int k = 0; k < n; k++) {
		size_t i = (size_t)(evs[k].data.u64 & 0xFFFFFFFFu);
		uint32_t gen = (uint32_t)(evs[k].data.u64 >> 32);
		struct cas_req *req = NULL;

		pthread_mutex_lock(&http->watch_lock);
		if (i < http->n_slots && http->slots[i].gen == gen &&
		    http->slots[i].req != NULL) {
			/* A watched request is suspended, so the server's
			 * own reference keeps it alive here. */
			req = http->slots[i].req;
			cas_req_ref(req);
		}
		pthread_mutex_unlock(&http->watch_lock);
		if (req != NULL) {
			req_client_gone(req);
			cas_req_unref(&req);
		}
	}
}

static void
ticker_tick(struct cas_http *http)
{
	struct tw_timer *t;

	pthread_mutex_lock(&http->wheel_lock);
	t = tw_expire(&http->wheel, http_now_s(http));
	pthread_mutex_unlock(&http->wheel_lock);
	while (t != NULL) {
		struct tw_timer *next = t->next;

		t->next = NULL;
		t->fn(t, t->ctx);
		t = next;
	}
}

static void *
ticker_main(void *arg)
{
	struct cas_http *http = arg;
	struct epoll_event evs[64];

	for (;;) {
		int n = epoll_wait(http->epfd, evs, 64, -1);
		int k, m = 0;
		bool tick = false, stop = false;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("ticker: epoll_wait: %s", strerror(errno));
			break;
		}
		/* Control descriptors first; move hang-ups to the front. */
		for (k = 0; k < n; k++) {
			if (evs[k].data.u64 == UINT64_MAX - 1) {
				uint64_t x;

				tick = true;
				if (read(http->timerfd, &x, sizeof(x)) < 0 &&
				    errno != EAGAIN)
					log_warn("ticker: timerfd: %s",
						 strerror(errno));
			} else if (evs[k].data.u64 == UINT64_MAX) {
				stop = true;
			} else {
				evs[m++] = evs[k];
			}
		}
		ticker_hangups(http, evs, m);
		if (tick)
			ticker_tick(http);
		if (stop)
			break;
	}
	return NULL;
}

static int
ticker_start(struct cas_http *http)
{
	struct epoll_event ev;
	struct itimerspec its;

	http->epfd = epoll_create1(EPOLL_CLOEXEC);
	http->timerfd =
	    timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	http->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (http->epfd < 0 || http->timerfd < 0 || http->stopfd < 0)
		return -1;
	/* One tick per second: the wheel's resolution. */
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = 1;
	its.it_interval.tv_sec = 1;
	if (timerfd_settime(http->timerfd, 0, &its, NULL) != 0)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = UINT64_MAX - 1;
	if (epoll_ctl(http->epfd, EPOLL_CTL_ADD, http->timerfd, &ev) != 0)
		return -1;
	ev.data.u64 = UINT64_MAX;
	if (epoll_ctl(http->epfd, EPOLL_CTL_ADD, http->stopfd, &ev) != 0)
		return -1;
	if (pthread_create(&http->ticker, NULL, ticker_main, http) != 0)
		return -1;
	http->ticker_started = true;
	return 0;
}

/* ---------------------------------------------------------------- answers */

static struct MHD_Response *
make_response(const struct cas_header *headers, size_t n, const void *body,
	      size_t len)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
					       MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (MHD_add_response_header(resp, headers[i].name,
					    headers[i].value) != MHD_YES) {
			MHD_destroy_response(resp);
			return NULL;
		}
	}
	return resp;
}

/* Run the cancel hook once (no lock held by the caller). */
static void
req_run_cancel(struct cas_req *req, enum cas_req_end why)
{
	cas_req_cancel_fn *fn;
	void *ctx;

	pthread_mutex_lock(&req->lock);
	fn = req->cancel_done ? NULL : req->cancel_fn;
	ctx = req->cancel_ctx;
	req->cancel_done = true;
	pthread_mutex_unlock(&req->lock);
	if (fn != NULL)
		fn(req, why, ctx);
}

int
cas_req_respond(struct cas_req *req, unsigned status,
		const struct cas_header *headers, size_t n_headers,
		const void *body, size_t len)
{
	struct MHD_Response *resp;

	/* Built before taking the lock: copying a body can be slow. */
	resp = make_response(headers, n_headers, body, len);
	if (resp == NULL)
		return -1;
	pthread_mutex_lock(&req->lock);
	if (req->answered || req->gone || req->state == REQ_DONE) {
		pthread_mutex_unlock(&req->lock);
		MHD_destroy_response(resp);
		return -1;
	}
	req->answered = true;
	req->resp = resp;
	req->status = status;
	req_cancel_timer_locked(req);
	req_resume_locked(req);
	pthread_mutex_unlock(&req->lock);
	return 0;
}

int
cas_req_respond_retry(struct cas_req *req, unsigned status,
		      unsigned retry_after_s)
{
	struct cas_header h[1];
	char v[16];

	if (retry_after_s == 0)
		return cas_req_respond(req, status, NULL, 0, NULL, 0);
	(void)snprintf(v, sizeof(v), "%u", retry_after_s);
	h[0].name = MHD_HTTP_HEADER_RETRY_AFTER;
	h[0].value = v;
	return cas_req_respond(req, status, h, 1, NULL, 0);
}

int
cas_req_respond_redirect(struct cas_req *req, const char *location)
{
	/* MS-ASHTTP 2.2.2.1.1 and 3.1.5.2.2: 451 with the new URL in
	 * X-MS-Location.  (libmicrohttpd 0.9.75 writes its own reason phrase,
	 * as for 449; clients act on the code.) */
	struct cas_header h = {"X-MS-Location", location};

	return cas_req_respond(req, 451, &h, 1, NULL, 0);
}

int
cas_req_respond_status(struct cas_req *req, unsigned status)
{
	/* RFC 7617 2: the challenge names the realm. */
	static const struct cas_header challenge = {
	    MHD_HTTP_HEADER_WWW_AUTHENTICATE,
	    "Basic realm=\"" CAS_HTTP_REALM "\""};

	if (status == 401)
		return cas_req_respond(req, 401, &challenge, 1, NULL, 0);
	if (status == 503 || status == 429)
		return cas_req_respond_retry(req, status, RETRY_UNAVAILABLE_S);
	return cas_req_respond(req, status, NULL, 0, NULL, 0);
}

/* ---------------------------------------------------------------- stream */

static ssize_t
stream_reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct cas_req *req = cls;
	cas_req_drain_fn *drain = NULL;
	void *drain_ctx = NULL;
	ssize_t n;

	(void)pos;
	pthread_mutex_lock(&req->lock);
	if (req->gone) {
		n = MHD_CONTENT_READER_END_WITH_ERROR;
	} else if (req->stream.len > 0) {
		size_t take = req->stream.len < max ? req->stream.len : max;

		memcpy(out, req->stream.data, take);
		buf_consume(&req->stream, take);
		n = (ssize_t)take;
		if (req->drain_fn != NULL &&
		    req->stream.len <= req->drain_below) {
			drain = req->drain_fn;
			drain_ctx = req->drain_ctx;
			req->drain_fn = NULL;
		}
	} else if (req->stream_end) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		/* Nothing yet: park the connection until a write or the end
		 * resumes it (0 is only legal together with a suspend). */
		req->reader_waiting = true;
		req->state = REQ_SUSPENDED;
		MHD_suspend_connection(req->conn);
		req_watch_locked(req);
		n = 0;
	}
	pthread_mutex_unlock(&req->lock);
	if (drain != NULL)
		drain(req, drain_ctx);
	return n;
}

static void
stream_reader_free(void *cls)
{
	struct cas_req *req = cls;

	cas_req_unref(&req); /* the response's reference */
}

int
cas_req_stream_begin(struct cas_req *req, unsigned status,
		     const struct cas_header *headers, size_t n_headers)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_callback(
	    MHD_SIZE_UNKNOWN, STREAM_BLOCK_BYTES, stream_reader, req,
	    stream_reader_free);
	if (resp == NULL)
		return -1;
	cas_req_ref(req);
	for (size_t i = 0; i < n_headers; i++) {
		if (MHD_add_response_header(resp, headers[i].name,
					    headers[i].value) != MHD_YES) {
			MHD_destroy_response(resp); /* drops the ref */
			return -1;
		}
	}
	pthread_mutex_lock(&req->lock);
	if (req->answered || req->gone || req->state == REQ_DONE) {
		pthread_mutex_unlock(&req->lock);
		MHD_destroy_response(resp);
		return -1;
	}
	req->answered = true;
	req->streaming = true;
	req->resp = resp;
	req->status = status;
	req_cancel_timer_locked(req);
	req_resume_locked(req);
	pthread_mutex_unlock(&req->lock);
	return 0;
}

int
cas_req_stream_write(struct cas_req *req, const void *data, size_t len)
{
	int ret = -1;

	pthread_mutex_lock(&req->lock);
	if (req->streaming && !req->stream_end && !req->gone &&
	    req->state != REQ_DONE &&
	    buf_append(&req->stream, data, len) == 0) {
		ret = 0;
		if (req->reader_waiting)
			req_resume_locked(req);
	}
	pthread_mutex_unlock(&req->lock);
	return ret;
}

int
cas_req_stream_end(struct cas_req *req)
{
	int ret = -1;

	pthread_mutex_lock(&req->lock);
	if (req->streaming && !req->stream_end) {
		req->stream_end = true;
		req->cancel_done = true; /* the handler is done */
		ret = 0;
		if (req->reader_waiting)
			req_resume_locked(req);
	}
	pthread_mutex_unlock(&req->lock);
	return ret;
}

int
cas_req_stream_on_drain(struct cas_req *req, size_t below_bytes,
			cas_req_drain_fn *fn, void *ctx)
{
	int ret;

	pthread_mutex_lock(&req->lock);
	if (!req->streaming || req->stream_end || req->gone ||
	    req->state == REQ_DONE) {
		ret = -1;
	} else if (req->stream.len <= below_bytes) {
		ret = 1;
	} else {
		req->drain_fn = fn;
		req->drain_ctx = ctx;
		req->drain_below = below_bytes;
		ret = 0;
	}
	pthread_mutex_unlock(&req->lock);
	return ret;
}

size_t
cas_req_stream_pending(struct cas_req *req)
{
	size_t n;

	pthread_mutex_lock(&req->lock);
	n = req->stream.len;
	pthread_mutex_unlock(&req->lock);
	return n;
}

/* The client hung up while its request was held (ticker thread). */
static void
req_client_gone(struct cas_req *req)
{
	bool was_answered;

	pthread_mutex_lock(&req->lock);
	if (req->gone || req->state != REQ_SUSPENDED) {
		pthread_mutex_unlock(&req->lock);
		return;
	}
	req_unwatch_locked(req);
	req->gone = true;
	was_answered = req->answered && !req->streaming;
	req->answered = true;
	req_cancel_timer_locked(req);
	pthread_mutex_unlock(&req->lock);
	if (!was_answered)
		req_run_cancel(req, CAS_REQ_GONE);
	/* Hand the connection back to MHD so that it sees the hang-up and
	 * completes the request; the answer goes nowhere. */
	pthread_mutex_lock(&req->lock);
	if (req->resp == NULL && !req->streaming)
		req->resp = make_response(NULL, 0, NULL, 0);
	req->status = 500;
	req_resume_locked(req);
	pthread_mutex_unlock(&req->lock);
}

/* ---------------------------------------------------------------- routes */

enum route {
	ROUTE_OTHER = 0,
	ROUTE_EAS,
	ROUTE_AUTODISCOVER,      /* POX: authenticated POST */
	ROUTE_AUTODISCOVER_JSON, /* v2: anonymous GET */
};

#define AUTODISCOVER_JSON_PATH "/autodiscover/autodiscover.json"

static enum route
route_of(const char *path)
{
	/* IIS, and so Exchange, matches paths case-insensitively; clients
	 * differ in case ("/autodiscover/..." vs "/Autodiscover/..."). */
	if (strcasecmp(path, CAS_HTTP_EAS_PATH) == 0)
		return ROUTE_EAS;
	if (strcasecmp(path, "/autodiscover/autodiscover.xml") == 0)
		return ROUTE_AUTODISCOVER;
	/* Outlook mobile: .../autodiscover.json/v1.0/<address> */
	if (strcasecmp(path, AUTODISCOVER_JSON_PATH) == 0 ||
	    strncasecmp(path, AUTODISCOVER_JSON_PATH "/v1.0/",
			strlen(AUTODISCOVER_JSON_PATH "/v1.0/")) == 0)
		return ROUTE_AUTODISCOVER_JSON;
	return ROUTE_OTHER;
}

/* Edge filtering before the body is read (reliability.md): 0 when the
 * request may go on, else the status to answer. */
static unsigned
req_edge_status(struct cas_req *req)
{
	enum route r = route_of(req->path);
	const char *cl = req->hdr[CAS_HDR_CONTENT_LENGTH];

	if (r == ROUTE_OTHER)
		return 404;
	if (r == ROUTE_AUTODISCOVER || r == ROUTE_AUTODISCOVER_JSON) {
		if (cas_dispatch_autodiscover() == NULL)
			return 404;
		/* POX is a POST (MS-ASCMD 2.2.1.1), v2 a GET. */
		if (strcmp(req->method,
			   r == ROUTE_AUTODISCOVER ? "POST" : "GET") != 0)
			return 405;
		/* The credentials are asked for before the body is read:
		 * an unauthenticated client sends no 8 KB for nothing. */
		if (r == ROUTE_AUTODISCOVER &&
		    MHD_lookup_connection_value(
			req->conn, MHD_HEADER_KIND,
			MHD_HTTP_HEADER_AUTHORIZATION) == NULL)
			return 401;
		if (r == ROUTE_AUTODISCOVER && cl != NULL) {
			char *end;
			unsigned long long n;

			errno = 0;
			n = strtoull(cl, &end, 10);
			if (errno == 0 && end != cl && *end == 0 &&
			    n > AUTODISCOVER_MAX_BODY_BYTES)
				return 413;
		}
	} else if (strcmp(req->method, "POST") != 0 &&
		   strcmp(req->method, "OPTIONS") != 0) {
		return 405;
	}
	if (cl != NULL) {
		char *end;
		unsigned long long n;

		errno = 0;
		n = strtoull(cl, &end, 10);
		if (errno != 0 || end == cl || *end != 0)
			return 400;
		if (n > req->http->cfg.max_body_bytes)
			return 413;
	}
	return 0;
}

static void
respond_options(struct cas_req *req)
{
	/* MS-ASHTTP 2.2.4 and 3.2.5.2: the OPTIONS response headers. */
	const struct cas_header h[] = {
	    {"MS-Server-ActiveSync", req->http->cfg.server_version},
	    {"MS-ASProtocolVersions", CAS_HTTP_PROTOCOL_VERSIONS},
	    {"MS-ASProtocolCommands", CAS_HTTP_PROTOCOL_COMMANDS},
	    {"Allow", "OPTIONS,POST"},
	    {"Public", "OPTIONS,POST"},
	};

	(void)cas_req_respond(req, 200, h, sizeof(h) / sizeof(h[0]), NULL, 0);
}

/* Authenticated: hand the request to its route. */
static void
req_authenticated(struct cas_req *req)
{
	req->authenticated = true;
	if (route_of(req->path) == ROUTE_AUTODISCOVER) {
		cas_route_fn *fn = cas_dispatch_autodiscover();

		if (fn != NULL)
			fn(req);
		else
			(void)cas_req_respond_status(req, 404);
	} else if (strcmp(req->method, "OPTIONS") == 0) {
		respond_options(req);
	} else {
		cas_dispatch(req);
	}
}

static void
auth_done(void *cookie, enum cas_auth_result result)
{
	struct cas_req *req = cookie;
	struct cas_http *http = req->http;
	uint64_t now = http_now_s(http);
	bool dead;

	/* Answered meanwhile (shutdown) or the client left: the result is
	 * still remembered, but no handler runs for nobody. */
	pthread_mutex_lock(&req->lock);
	dead = req->answered || req->gone || req->state == REQ_DONE;
	pthread_mutex_unlock(&req->lock);
	switch (result) {
	case CAS_AUTH_OK:
		(void)cas_auth_cache_add(http->cfg.auth, req->digest,
					 req->user.user, now);
		cas_auth_record_success(http->cfg.auth, req->user.user,
					req->client, now);
		if (!dead)
			req_authenticated(req);
		break;
	case CAS_AUTH_DENIED:
		/* Same answer for an unknown user and a wrong password. */
		log_info("auth failed for %s from %s", req->user.login,
			 req->client);
		cas_auth_record_failure(http->cfg.auth, req->user.user,
					req->client, now);
		(void)cas_req_respond_status(req, 401);
		break;
	case CAS_AUTH_UNAVAILABLE:
	default:
		(void)cas_req_respond_retry(req, 503, RETRY_UNAVAILABLE_S);
		break;
	}
	cas_req_unref(&req); /* the verifier's reference */
}

static bool
plain_auth_allowed(const struct cas_req *req)
{
	if (req->https)
		return true;
	switch (req->http->cfg.plain_auth) {
	case CAS_PLAIN_AUTH_YES:
		return true;
	case CAS_PLAIN_AUTH_LOOPBACK:
		/* A trusted proxy on loopback saying "http" is still plain
		 * HTTP on the wire outside: only a direct local client. */
		return req->peer_loopback &&
		       req->hdr[CAS_HDR_X_FORWARDED_FOR] == NULL;
	case CAS_PLAIN_AUTH_NO:
	default:
		return false;
	}
}

/* Final access call: authenticate, then route (MHD thread). */
static void
req_process(struct cas_req *req)
{
	struct cas_http *http = req->http;
	struct cas_credentials cred;
	const char *authz, *error = NULL;
	unsigned retry;
	uint64_t now = http_now_s(http);
	int rc;

	if (req->body_too_large) {
		(void)cas_req_respond_status(req, 413);
		return;
	}
	if (atomic_load(&http->stopping)) {
		(void)cas_req_respond_retry(req, 503, RETRY_SHUTDOWN_S);
		return;
	}
	/* Autodiscover v2 is anonymous: its answer is the configured URL,
	 * the same for every address (docs/autodiscover.md). */
	if (route_of(req->path) == ROUTE_AUTODISCOVER_JSON) {
		cas_route_fn *fn = cas_dispatch_autodiscover();

		if (fn != NULL)
			fn(req);
		else
			(void)cas_req_respond_status(req, 404);
		return;
	}
	authz = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
					    MHD_HTTP_HEADER_AUTHORIZATION);
	if (authz == NULL) {
		(void)cas_req_respond_status(req, 401);
		return;
	}
	if (!plain_auth_allowed(req)) {
		log_warn("refused Basic credentials over plain HTTP from %s",
			 req->client);
		(void)cas_req_respond_status(req, 403);
		return;
	}
	if (cas_auth_parse_basic((const uint8_t *)authz, strlen(authz), &cred,
				 &error) != 0) {
		log_info("bad Authorization header from %s: %s", req->client,
			 error);
		(void)cas_req_respond_status(req, 401);
		return;
	}
	req->user.login = cas_req_strdup(req, cred.login);
	req->user.user = cas_req_strdup(req, cred.user);
	req->user.domain = cas_req_strdup(req, cred.domain);
	if (req->user.login == NULL || req->user.user == NULL ||
	    req->user.domain == NULL) {
		cas_credentials_wipe(&cred);
		(void)cas_req_respond_status(req, 500);
		return;
	}
	cas_auth_digest(http->cfg.auth, &cred, req->digest);
	/* Known-good credentials skip the throttle: a device that keeps
	 * working is not locked out by a sprayer behind the same NAT. */
	if (cas_auth_cache_lookup(http->cfg.auth, req->digest, now)) {
		cas_credentials_wipe(&cred);
		req_authenticated(req);
		return;
	}
	if (cas_auth_throttled(http->cfg.auth, cred.user, req->client, now,
			       &retry)) {
		cas_credentials_wipe(&cred);
		log_info("throttled login of %s from %s for %u s",
			 req->user.login, req->client, retry);
		(void)cas_req_respond_retry(req, 503, retry > 0 ? retry : 1);
		return;
	}
	if (http->cfg.verifier.verify == NULL) {
		cas_credentials_wipe(&cred);
		(void)cas_req_respond_retry(req, 503, RETRY_UNAVAILABLE_S);
		return;
	}
	cas_req_ref(req); /* for auth_done */
	rc = http->cfg.verifier.verify(http->cfg.verifier.ctx, cred.login,
				       cred.password, auth_done, req);
	cas_credentials_wipe(&cred);
	if (rc != 0) {
		struct cas_req *ref = req;

		/* done will not be called: drop its reference (the server's
		 * own keeps req alive) and answer here. */
		cas_req_unref(&ref);
		(void)cas_req_respond_retry(req, 503, RETRY_UNAVAILABLE_S);
	}
}

/* ---------------------------------------------------------------- MHD */

static void *
http_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_listener *lst = cls;
	struct cas_http *http = lst->http;
	struct cas_req *req = calloc(1, sizeof(*req));
	const union MHD_ConnectionInfo *ci;
	const char *q;

	/* MHD calls the completion notifier for whatever we return here,
	 * so this is where a request object is born (NULL: MHD answers
	 * with an error of its own; nothing to free). */
	if (req == NULL || pthread_mutex_init(&req->lock, NULL) != 0) {
		free(req);
		return NULL;
	}
	atomic_init(&req->refs, 1); /* the server's, until completion */
	req->http = http;
	req->lst = lst;
	req->conn = conn;
	req->peer_tls = lst->tls;
	buf_init(&req->body, http->cfg.max_body_bytes);
	buf_init(&req->stream, CAS_STREAM_MAX_BUFFERED_BYTES);
	q = strchr(uri, '?');
	/* Kept raw (still percent-encoded) for the Autodiscover v2 parser;
	 * longer targets than it accepts are not kept ("" is refused). */
	req->target = cas_req_strdup(
	    req, strlen(uri) <= AUTODISCOVER_MAX_TARGET_BYTES ? uri : "");
	if (q != NULL && strlen(q + 1) <= CAS_MAX_QUERY_BYTES)
		req->query = cas_req_strdup(req, q + 1);
	else
		req->query = cas_req_strdup(req, q != NULL ? "\x01" : "");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL) {
		cas_proxies_addr_str(ci->client_addr, req->peer);
		req->peer_loopback = cas_proxies_is_loopback(ci->client_addr);
	} else {
		memcpy(req->peer, "?", 2);
	}
	pthread_mutex_lock(&http->reqs_lock);
	req->live_next = http->reqs;
	if (http->reqs != NULL)
		http->reqs->live_prev = req;
	http->reqs = req;
	http->live++;
	pthread_mutex_unlock(&http->reqs_lock);
	return req;
}

static const char *const hdr_names[CAS_HDR_COUNT] = {
    [CAS_HDR_PROTOCOL_VERSION] = "MS-ASProtocolVersion",
    [CAS_HDR_POLICY_KEY] = "X-MS-PolicyKey",
    [CAS_HDR_ACCEPT_MULTIPART] = "MS-ASAcceptMultiPart",
    [CAS_HDR_USER_AGENT] = "User-Agent",
    [CAS_HDR_CONTENT_TYPE] = "Content-Type",
    [CAS_HDR_CONTENT_LENGTH] = "Content-Length",
    [CAS_HDR_X_FORWARDED_FOR] = "X-Forwarded-For",
    [CAS_HDR_X_FORWARDED_PROTO] = "X-Forwarded-Proto",
};

static enum MHD_Result
count_arg(void *cls, enum MHD_ValueKind kind, const char *key,
	  const char *value)
{
	size_t *n = cls;

	(void)kind;
	(void)key;
	(void)value;
	(*n)++;
	return MHD_YES;
}

static enum MHD_Result
copy_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct cas_req *req = cls;
	struct query_arg *a = &req->args[req->n_args];

	(void)kind;
	a->key = cas_req_strdup(req, key);
	a->value = cas_req_strdup(req, value != NULL ? value : "");
	if (a->key == NULL || a->value == NULL)
		return MHD_NO;
	req->n_args++;
	return MHD_YES;
}

/* First access call: copy what the request object keeps.  0, or the
 * status to answer. */
static unsigned
req_capture(struct cas_req *req, const char *method, const char *url)
{
	struct cas_http *http = req->http;
	size_t n_args = 0;
	bool tls;

	req->method = cas_req_strdup(req, method);
	req->path = cas_req_strdup(req, url);
	if (req->method == NULL || req->path == NULL || req->query == NULL)
		return 500;
	if (req->query[0] == '\x01')
		return 414; /* query over CAS_MAX_QUERY_BYTES */
	for (size_t i = 0; i < CAS_HDR_COUNT; i++) {
		const char *v;
		size_t len;

		if (MHD_lookup_connection_value_n(
			req->conn, MHD_HEADER_KIND, hdr_names[i],
			strlen(hdr_names[i]), &v, &len) != MHD_YES)
			continue;
		if (len > CAS_MAX_HEADER_VALUE_BYTES)
			return 400;
		req->hdr[i] = req_strndup(req, v, len);
		if (req->hdr[i] == NULL)
			return 500;
	}
	(void)MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND,
					count_arg, &n_args);
	if (n_args > 0) {
		req->args = cas_req_alloc(req, n_args * sizeof(*req->args));
		if (req->args == NULL)
			return 500;
		if (MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND,
					      copy_arg, req) != (int)n_args)
			return 500;
	}
	{
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		    req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

		cas_proxies_client(
		    http->cfg.proxies, ci != NULL ? ci->client_addr : NULL,
		    req->peer_tls, req->hdr[CAS_HDR_X_FORWARDED_FOR],
		    req->hdr[CAS_HDR_X_FORWARDED_PROTO], req->client, &tls);
		req->https = tls;
	}
	if (atomic_load(&http->stopping))
		return 503;
	return req_edge_status(req);
}

/* Queue the stored answer, or suspend until there is one. */
static enum MHD_Result
req_finish_call(struct cas_req *req)
{
	struct MHD_Response *resp;
	unsigned status;
	enum MHD_Result ret;

	pthread_mutex_lock(&req->lock);
	resp = req->resp;
	if (resp == NULL) {
		if (req->answered) {
			/* Gone and no answer could be built: close. */
			pthread_mutex_unlock(&req->lock);
			return MHD_NO;
		}
		req->state = REQ_SUSPENDED;
		MHD_suspend_connection(req->conn);
		req_watch_locked(req);
		pthread_mutex_unlock(&req->lock);
		return MHD_YES;
	}
	req->resp = NULL;
	status = req->status;
	pthread_mutex_unlock(&req->lock);
	ret = MHD_queue_response(req->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *conn, const char *url,
	    const char *method, const char *version, const char *upload_data,
	    size_t *upload_data_size, void **con_cls)
{
	struct cas_req *req = *con_cls;
	unsigned status;

	(void)cls;
	(void)conn;
	(void)version;
	if (req == NULL)
		return MHD_NO;
	if (!req->seen) {
		req->seen = true;
		status = req_capture(req, method, url);
		if (status == 503)
			(void)cas_req_respond_retry(req, 503, RETRY_SHUTDOWN_S);
		else if (status != 0)
			(void)cas_req_respond_status(req, status);
		if (status != 0)
			return req_finish_call(req);
		return MHD_YES; /* wait for the body */
	}
	if (*upload_data_size > 0) {
		/* Bounded by max_body_bytes: past it the rest is drained
		 * and dropped (MHD cannot answer in the middle of an
		 * upload); a declared Content-Length over the bound was
		 * already answered 413 without reading the body. */
		if (!req->body_too_large &&
		    buf_append(&req->body, upload_data, *upload_data_size) !=
			0) {
			req->body_too_large = true;
			buf_free(&req->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!atomic_load(&req->processed)) {
		atomic_store(&req->processed, true);
		req_process(req);
	}
	return req_finish_call(req);
}

static void
http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	       enum MHD_RequestTerminationCode toe)
{
	struct cas_req *req = *con_cls;
	struct cas_http *http;
	bool cancel;

	(void)cls;
	(void)conn;
	if (req == NULL)
		return;
	*con_cls = NULL;
	http = req->http;
	pthread_mutex_lock(&req->lock);
	req_unwatch_locked(req);
	req->state = REQ_DONE;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		req->gone = true;
	/* Ended before the handler was done: tell it. */
	cancel = !req->cancel_done &&
		 (!req->answered || (req->streaming && !req->stream_end));
	req->answered = true;
	req_cancel_timer_locked(req);
	pthread_mutex_unlock(&req->lock);
	if (cancel)
		req_run_cancel(req, CAS_REQ_GONE);
	pthread_mutex_lock(&http->reqs_lock);
	if (req->live_prev != NULL)
		req->live_prev->live_next = req->live_next;
	else
		http->reqs = req->live_next;
	if (req->live_next != NULL)
		req->live_next->live_prev = req->live_prev;
	http->live--;
	pthread_mutex_unlock(&http->reqs_lock);
	cas_req_unref(&req);
}

static void http_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = 0;
	log_debug("libmicrohttpd: %s", line);
}

/* ---------------------------------------------------------------- server */

static int
listener_start(struct cas_http *http, struct http_listener *lst,
	       const struct cas_listen *where, bool tls, char **error_r)
{
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *di;
	/* MHD: a pool size of 0 or 1 means the one internal thread.  With a
	 * pool, each worker has its own epoll set, suspended list and share
	 * of CONNECTION_LIMIT; a resumed connection is resumed by its own
	 * worker, and every callback here already takes the request's lock. */
	unsigned pool = http->cfg.threads > 1 ? http->cfg.threads : 0;
	struct buf b;

	lst->http = http;
	lst->tls = tls;
	if (where->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (tls) {
		flags |= MHD_USE_TLS;
		lst->daemon = MHD_start_daemon(
		    flags, 0, NULL, NULL, http_access, lst,
		    MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&where->addr,
		    MHD_OPTION_URI_LOG_CALLBACK, http_uri_log, lst,
		    MHD_OPTION_NOTIFY_COMPLETED, http_completed, lst,
		    MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, lst,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		    (size_t)CAS_CONNECTION_MEMORY_BYTES,
		    MHD_OPTION_CONNECTION_TIMEOUT,
		    (unsigned)CAS_CONNECTION_TIMEOUT_S,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CAS_MAX_CONNECTIONS,
		    MHD_OPTION_HTTPS_MEM_CERT, http->cfg.tls_cert_pem,
		    MHD_OPTION_HTTPS_MEM_KEY, http->cfg.tls_key_pem,
		    MHD_OPTION_HTTPS_PRIORITIES, http->priorities,
		    MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_END);
	} else {
		lst->daemon = MHD_start_daemon(
		    flags, 0, NULL, NULL, http_access, lst,
		    MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&where->addr,
		    MHD_OPTION_URI_LOG_CALLBACK, http_uri_log, lst,
		    MHD_OPTION_NOTIFY_COMPLETED, http_completed, lst,
		    MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, lst,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		    (size_t)CAS_CONNECTION_MEMORY_BYTES,
		    MHD_OPTION_CONNECTION_TIMEOUT,
		    (unsigned)CAS_CONNECTION_TIMEOUT_S,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CAS_MAX_CONNECTIONS,
		    MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_END);
	}
	if (lst->daemon == NULL) {
		buf_init(&b, 512);
		(void)buf_printf(&b, "cannot start %s listener on %s%s",
				 tls ? "HTTPS" : "HTTP", where->text,
				 tls ? " (check certificate, key and TLS "
				       "priorities)"
				     : " (address in use?)");
		*error_r = (char *)buf_steal(&b, NULL);
		return -1;
	}
	di = MHD_get_daemon_info(lst->daemon, MHD_DAEMON_INFO_BIND_PORT);
	lst->port = di != NULL ? di->port : 0;
	return 0;
}

int
cas_http_start(const struct cas_http_config *config, struct cas_http **http_r,
	       char **error_r)
{
	struct cas_http *http = calloc(1, sizeof(*http));

	*http_r = NULL;
	*error_r = NULL;
	if (http == NULL)
		goto fail;
	http->cfg = *config;
	http->epfd = http->timerfd = http->stopfd = -1;
	if (http->cfg.server_version == NULL)
		http->cfg.server_version = "15.1";
	pthread_mutex_init(&http->reqs_lock, NULL);
	pthread_mutex_init(&http->wheel_lock, NULL);
	pthread_mutex_init(&http->watch_lock, NULL);
	tw_init(&http->wheel, http_now_s(http));
	http->priorities =
	    strdup(config->tls_priorities != NULL ? config->tls_priorities
						  : CAS_HTTP_TLS_PRIORITIES);
	if (http->priorities == NULL)
		goto fail;
	if (ticker_start(http) != 0) {
		*error_r = strdup("cannot start the ticker thread");
		goto fail;
	}
	if (config->http != NULL && config->http->enabled &&
	    listener_start(http, &http->listeners[0], config->http, false,
			   error_r) != 0)
		goto fail;
	if (config->https != NULL && config->https->enabled) {
		if (config->tls_cert_pem == NULL ||
		    config->tls_key_pem == NULL) {
			*error_r = strdup("HTTPS needs a certificate and key");
			goto fail;
		}
		if (listener_start(http, &http->listeners[1], config->https,
				   true, error_r) != 0)
			goto fail;
	}
	*http_r = http;
	return 0;
fail:
	if (*error_r == NULL)
		*error_r = strdup("out of memory");
	cas_http_free(&http);
	return -1;
}

uint16_t
cas_http_port(const struct cas_http *http, bool tls)
{
	return http->listeners[tls ? 1 : 0].port;
}

size_t
cas_http_live_requests(struct cas_http *http)
{
	size_t n;

	pthread_mutex_lock(&http->reqs_lock);
	n = http->live;
	pthread_mutex_unlock(&http->reqs_lock);
	return n;
}

void
cas_http_shutdown(struct cas_http *http, unsigned wait_ms)
{
	struct cas_req **held = NULL;
	size_t n = 0, i;

	pthread_mutex_lock(&http->reqs_lock);
	if (http->shut) {
		pthread_mutex_unlock(&http->reqs_lock);
		return;
	}
	http->shut = true;
	atomic_store(&http->stopping, true);
	if (http->live > 0) {
		held = calloc(http->live, sizeof(*held));
		if (held == NULL)
			log_error("shutdown: out of memory; held requests "
				  "are closed without an answer");
	}
	for (struct cas_req *r = http->reqs; held != NULL && r != NULL;
	     r = r->live_next) {
		cas_req_ref(r);
		held[n++] = r;
	}
	pthread_mutex_unlock(&http->reqs_lock);
	for (i = 0; i < n; i++) {
		struct cas_req *req = held[i];
		bool hook, stream;

		pthread_mutex_lock(&req->lock);
		hook = atomic_load(&req->processed) && !req->cancel_done &&
		       req->state != REQ_DONE &&
		       (!req->answered || (req->streaming && !req->stream_end));
		pthread_mutex_unlock(&req->lock);
		if (hook)
			req_run_cancel(req, CAS_REQ_SHUTDOWN);
		pthread_mutex_lock(&req->lock);
		stream = req->streaming;
		pthread_mutex_unlock(&req->lock);
		if (stream)
			(void)cas_req_stream_end(req);
		else if (atomic_load(&req->processed))
			(void)cas_req_respond_retry(req, 503, RETRY_SHUTDOWN_S);
		cas_req_unref(&held[i]);
	}
	free(held);
	/* Let the answers go out (bounded wait, 10 ms steps). */
	for (unsigned waited = 0; waited < wait_ms; waited += 10) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		bool suspended = false;

		pthread_mutex_lock(&http->reqs_lock);
		for (struct cas_req *r = http->reqs; r != NULL;
		     r = r->live_next) {
			if (atomic_load(&r->processed))
				suspended = true;
		}
		pthread_mutex_unlock(&http->reqs_lock);
		if (!suspended)
			break;
		nanosleep(&ts, NULL);
	}
}

void
cas_http_free(struct cas_http **httpp)
{
	struct cas_http *http = *httpp;

	if (http == NULL)
		return;
	if (http->ticker_started)
		cas_http_shutdown(http, 2000);
	for (size_t i = 0; i < 2; i++) {
		if (http->listeners[i].daemon != NULL)
			MHD_stop_daemon(http->listeners[i].daemon);
	}
	if (http->ticker_started) {
		uint64_t one = 1;

		if (write(http->stopfd, &one, sizeof(one)) < 0)
			log_warn("ticker stop: %s", strerror(errno));
		pthread_join(http->ticker, NULL);
	}
	if (http->epfd >= 0)
		close(http->epfd);
	if (http->timerfd >= 0)
		close(http->timerfd);
	if (http->stopfd >= 0)
		close(http->stopfd);
	free(http->slots);
	free(http->priorities);
	pthread_mutex_destroy(&http->reqs_lock);
	pthread_mutex_destroy(&http->wheel_lock);
	pthread_mutex_destroy(&http->watch_lock);
	free(http);
	*httpp = NULL;
}

/* ---------------------------------------------------------------- getters */

const char *
cas_req_method(const struct cas_req *req)
{
	return req->method;
}

const char *
cas_req_path(const struct cas_req *req)
{
	return req->path;
}

const char *
cas_req_target(const struct cas_req *req)
{
	return req->target != NULL ? req->target : "";
}

bool
cas_req_authenticated(const struct cas_req *req)
{
	return req->authenticated;
}

const char *
cas_req_query(const struct cas_req *req)
{
	return req->query;
}

const char *
cas_req_query_arg(const struct cas_req *req, const char *key)
{
	for (size_t i = 0; i < req->n_args; i++) {
		if (strcmp(req->args[i].key, key) == 0)
			return req->args[i].value;
	}
	return NULL;
}

const char *
cas_req_header(const struct cas_req *req, enum cas_hdr hdr)
{
	return hdr < CAS_HDR_COUNT ? req->hdr[hdr] : NULL;
}

const char *
cas_req_client_addr(const struct cas_req *req)
{
	return req->client;
}

const char *
cas_req_peer_addr(const struct cas_req *req)
{
	return req->peer;
}

bool
cas_req_https(const struct cas_req *req)
{
	return req->https;
}

const uint8_t *
cas_req_body(const struct cas_req *req, size_t *len_r)
{
	*len_r = req->body.len;
	return req->body.data;
}

const struct cas_user *
cas_req_user(const struct cas_req *req)
{
	return req->authenticated ? &req->user : NULL;
}

struct cas_http *
cas_req_server(const struct cas_req *req)
{
	return req->http;
}

void
cas_req_on_cancel(struct cas_req *req, cas_req_cancel_fn *fn, void *ctx)
{
	pthread_mutex_lock(&req->lock);
	req->cancel_fn = fn;
	req->cancel_ctx = ctx;
	pthread_mutex_unlock(&req->lock);
}
