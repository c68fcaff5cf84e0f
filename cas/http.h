/*
 * The HTTP(S) server of easd-cas, over libmicrohttpd (this header hides
 * it: http.c is its only includer).  One MHD daemon per listener (HTTPS
 * with GnuTLS, plain HTTP for use behind a reverse proxy), each with one
 * epoll polling thread, plus one "ticker" thread of ours that drives the
 * timer wheel and notices clients that vanish while their request is held.
 *
 * Data flow: MHD parses the request line and headers -> struct cas_req is
 * created (method, path, raw query, headers, peer) -> edge filtering (path,
 * method, Content-Length) -> the body is read into a bounded buffer ->
 * Basic authentication (cached, or the asynchronous verifier) -> OPTIONS is
 * answered here; POST goes to cas_dispatch() (dispatch.h), Autodiscover to
 * its registered handler -> the handler answers with cas_req_respond() or
 * a streaming response, now or later from any thread.
 *
 * A request that is not answered when its handler returns is *suspended*
 * (MHD_suspend_connection: no thread, a few KB) and resumed exactly once,
 * by whichever answer comes first: the handler's, its timeout's, a client
 * disconnect, or shutdown.  A struct cas_req is reference counted: the
 * server holds one reference until MHD reports the request complete; code
 * that keeps a request beyond the handler call (another thread, a watch
 * table) takes its own with cas_req_ref() and drops it with cas_req_unref().
 */
#ifndef EASD_CAS_HTTP_H
#define EASD_CAS_HTTP_H

#include "cas/auth.h"
#include "cas/cas_conf.h"
#include "cas/proxy.h"
#include "cas/timerwheel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAS_HTTP_EAS_PATH "/Microsoft-Server-ActiveSync"
#define CAS_HTTP_REALM "easd"
/* MS-ASHTTP 2.2.4.1.2.1 and 2.2.4.1.2.2: the commands and versions
 * announced to OPTIONS. */
#define CAS_HTTP_PROTOCOL_VERSIONS "2.5,12.0,12.1,14.0,14.1,16.0,16.1"
#define CAS_HTTP_PROTOCOL_COMMANDS                                          \
	"Sync,SendMail,SmartForward,SmartReply,GetAttachment,GetHierarchy," \
	"CreateCollection,DeleteCollection,MoveCollection,FolderSync,"      \
	"FolderCreate,FolderDelete,FolderUpdate,MoveItems,GetItemEstimate," \
	"MeetingResponse,Search,Settings,Ping,ItemOperations,Provision,"    \
	"ResolveRecipients,ValidateCert,Find"
/* TLS 1.2 and 1.3, AEAD ciphers and forward secrecy only (GnuTLS). */
#define CAS_HTTP_TLS_PRIORITIES                                            \
	"NONE:+VERS-TLS1.3:+VERS-TLS1.2:+AEAD:+AES-128-GCM:+AES-256-GCM:"  \
	"+CHACHA20-POLY1305:+ECDHE-RSA:+ECDHE-ECDSA:+SIGN-ALL:+GROUP-ALL:" \
	"+COMP-NULL"

struct cas_http;
struct cas_req;

struct cas_http_config {
	const struct cas_listen *http;  /* NULL or !enabled: no plain HTTP */
	const struct cas_listen *https; /* NULL or !enabled: no HTTPS */
	const char *tls_cert_pem;       /* leaf + intermediates */
	const char *tls_key_pem;
	const char *tls_priorities;        /* NULL: CAS_HTTP_TLS_PRIORITIES */
	const struct cas_proxies *proxies; /* may be NULL; not owned */
	struct cas_auth *auth;             /* not owned */
	/* .verify NULL: answer 503.  Every done() it was asked for must
	 * have been called before cas_http_free(). */
	struct cas_auth_verifier verifier;
	enum cas_plain_auth plain_auth;
	size_t max_body_bytes;
	const char *server_version; /* MS-Server-ActiveSync header */
	/* Polling threads per listener; 0 or 1: one.  More spread TLS
	 * handshakes over the cores and split the held connections, so that
	 * libmicrohttpd's resume pass (which walks every suspended connection
	 * of its daemon) walks 1/threads of them. */
	unsigned threads;
	/* Monotonic seconds; NULL: CLOCK_MONOTONIC.  Tests inject time. */
	uint64_t (*clock_s)(void);
};

int cas_http_start(const struct cas_http_config *config,
		   struct cas_http **http_r, char **error_r);
/* The bound port of a listener (useful with port 0); 0 when off. */
uint16_t cas_http_port(const struct cas_http *http, bool tls);
/* Stop accepting work: held requests get their cancel hook
 * (CAS_REQ_SHUTDOWN) and, if still unanswered, 503 with Retry-After;
 * streams are ended.  Waits up to wait_ms for them to be sent. */
void cas_http_shutdown(struct cas_http *http, unsigned wait_ms);
/* Shut down (if not done) and stop the daemons and threads. */
void cas_http_free(struct cas_http **http);
/* Requests alive (created and not yet completed). */
size_t cas_http_live_requests(struct cas_http *http);

/* Timers on the server's wheel, run on the ticker thread (1 s ticks).
 * The timer must stay valid until it fires or is cancelled. */
void cas_http_timer_add(struct cas_http *http, struct tw_timer *timer,
			uint64_t delay_s, tw_fn *fn, void *ctx);
bool cas_http_timer_cancel(struct cas_http *http, struct tw_timer *timer);

/* ---- the request ---------------------------------------------------- */

enum cas_hdr {
	CAS_HDR_PROTOCOL_VERSION = 0, /* MS-ASProtocolVersion */
	CAS_HDR_POLICY_KEY,           /* X-MS-PolicyKey */
	CAS_HDR_ACCEPT_MULTIPART,     /* MS-ASAcceptMultiPart */
	CAS_HDR_USER_AGENT,
	CAS_HDR_CONTENT_TYPE,
	CAS_HDR_CONTENT_LENGTH,
	CAS_HDR_X_FORWARDED_FOR,
	CAS_HDR_X_FORWARDED_PROTO,
	CAS_HDR_COUNT
};

/* The authenticated user, as typed and split (auth.h). */
struct cas_user {
	const char *login;
	const char *user;
	const char *domain; /* "" when none */
};

struct cas_header {
	const char *name;
	const char *value;
};

const char *cas_req_method(const struct cas_req *req);
const char *cas_req_path(const struct cas_req *req);
/* The request target as received (path and query, still
 * percent-encoded); "" when longer than AUTODISCOVER_MAX_TARGET_BYTES. */
const char *cas_req_target(const struct cas_req *req);
/* The request passed Basic authentication (false for the anonymous
 * Autodiscover v2 route). */
bool cas_req_authenticated(const struct cas_req *req);
/* The raw query string after '?' (still percent-encoded), "" if none. */
const char *cas_req_query(const struct cas_req *req);
/* A plain-form query argument as split and percent-decoded by MHD (NULL
 * when absent; "" for a key without a value). */
const char *cas_req_query_arg(const struct cas_req *req, const char *key);
/* Header value or NULL; Authorization is deliberately not kept. */
const char *cas_req_header(const struct cas_req *req, enum cas_hdr hdr);
/* Client address after trusted-proxy processing, and the TCP peer's. */
const char *cas_req_client_addr(const struct cas_req *req);
const char *cas_req_peer_addr(const struct cas_req *req);
bool cas_req_https(const struct cas_req *req);
const uint8_t *cas_req_body(const struct cas_req *req, size_t *len_r);
const struct cas_user *cas_req_user(const struct cas_req *req);
struct cas_http *cas_req_server(const struct cas_req *req);

/* The request's arena: freed with the request; NULL when out of memory. */
void *cas_req_alloc(struct cas_req *req, size_t size);
char *cas_req_strdup(struct cas_req *req, const char *s);

void cas_req_ref(struct cas_req *req);
void cas_req_unref(struct cas_req **req);

/* Why a request ended before its handler was done. */
enum cas_req_end {
	CAS_REQ_GONE = 1,     /* the client closed the connection */
	CAS_REQ_SHUTDOWN = 2, /* the server is stopping: answer now */
};
/* Called at most once, on an internal thread, when the request ends
 * before the handler answered (or ended its stream).  After CAS_REQ_GONE
 * every answer is refused with -1; during CAS_REQ_SHUTDOWN the hook may
 * still answer (else the server sends 503).  The hook must not block. */
typedef void cas_req_cancel_fn(struct cas_req *req, enum cas_req_end why,
			       void *ctx);
void cas_req_on_cancel(struct cas_req *req, cas_req_cancel_fn *fn, void *ctx);

/* Run fn(req, ctx) on the ticker thread after timeout_s seconds unless the
 * request was answered by then (a held Ping's heartbeat expiry).  fn is
 * expected to answer.  One timeout per request; setting it again re-arms.
 * -1 when the request is already answered. */
typedef void cas_req_timeout_fn(struct cas_req *req, void *ctx);
int cas_req_set_timeout(struct cas_req *req, unsigned timeout_s,
			cas_req_timeout_fn *fn, void *ctx);

/* Answer once, from any thread (resumes a suspended request).  The
 * headers and body are copied.  -1 when already answered or gone. */
int cas_req_respond(struct cas_req *req, unsigned status,
		    const struct cas_header *headers, size_t n_headers,
		    const void *body, size_t len);
/* Standard answers with empty bodies (MS-ASHTTP 2.2.2.1.1): 400, 403,
 * 404, 413, 449 (pre-14.0 "provision first"), 500 ...; 401 adds
 * WWW-Authenticate: Basic realm="easd"; 503 and 429 add Retry-After
 * (cas_req_respond_retry for a chosen delay); 451 with X-MS-Location via
 * cas_req_respond_redirect.  libmicrohttpd 0.9.75 chooses the reason
 * phrase ("449 Reply With"); clients act on the code. */
int cas_req_respond_status(struct cas_req *req, unsigned status);
int cas_req_respond_retry(struct cas_req *req, unsigned status,
			  unsigned retry_after_s);
int cas_req_respond_redirect(struct cas_req *req, const char *location);

/* Streaming answer: begin (counts as the answer), write any number of
 * times from any thread, end.  Sent with chunked encoding as data comes;
 * when nothing is buffered the connection waits, suspended.  write
 * returns -1 when the stream is ended, the client is gone, or more than
 * CAS_STREAM_MAX_BUFFERED_BYTES would be pending. */
int cas_req_stream_begin(struct cas_req *req, unsigned status,
			 const struct cas_header *headers, size_t n_headers);
int cas_req_stream_write(struct cas_req *req, const void *data, size_t len);
int cas_req_stream_end(struct cas_req *req);
/* Bytes written but not yet taken by the connection. */
size_t cas_req_stream_pending(struct cas_req *req);
/* Flow control for a producer faster than the client (ItemOperations
 * streaming an attachment): fn(req, ctx) runs once, on an HTTP thread
 * with no lock held, when the connection has taken enough that at most
 * below_bytes are pending.  Returns 0 when armed, 1 when already below
 * (nothing armed: go on), -1 when the stream is over or the client gone
 * (fn never runs; the cancel hook tells about a client that leaves while
 * armed).  fn must not block. */
typedef void cas_req_drain_fn(struct cas_req *req, void *ctx);
int cas_req_stream_on_drain(struct cas_req *req, size_t below_bytes,
			    cas_req_drain_fn *fn, void *ctx);

#endif
