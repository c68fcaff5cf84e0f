/*
 * Every limit on input that comes from the network, named once.  Parsers
 * and handlers check lengths, counts and depths against these before they
 * allocate; a violation becomes the protocol's error status or an HTTP 4xx
 * (architecture invariant 5).  Each value states where it comes from or
 * what it trades off.  Keep each area in its own section so that parallel
 * work on different areas never touches the same lines.
 */
#ifndef EASD_PROTO_LIMITS_H
#define EASD_PROTO_LIMITS_H

/* ---- WBXML (proto/wbxml_*.c) ---------------------------------------- */

/* ---- MS-ASHTTP request line and headers (proto/ashttp.c) ------------ */

/* ---- MS-ASCMD 3.1.5.10 per-command element limits ------------------- */

/* ---- HTTP front-end (cas/http.c) ------------------------------------ */
/* Default bound on a request body (config max_body_bytes).  Large enough
 * for a SendMail with attachments of a typical phone (Exchange's default
 * maxRequestLength is 10 MB); ItemOperations uploads stay far below. */
#define CAS_DEFAULT_MAX_BODY_BYTES (16u * 1024u * 1024u)
/* Hard ceiling for max_body_bytes: bodies are held in memory. */
#define CAS_MAX_BODY_BYTES_CEILING (64u * 1024u * 1024u)
/* The raw query string of one request (plain form with AttachmentName or a
 * LongId stays well under this; the base64 form is shorter still). */
#define CAS_MAX_QUERY_BYTES 4096
/* Any one request header value we copy into the request object. */
#define CAS_MAX_HEADER_VALUE_BYTES 4096
/* MHD's per-connection memory pool: request line plus all headers must
 * fit; a larger header block is answered 431 by the library. */
#define CAS_CONNECTION_MEMORY_BYTES (32u * 1024u)
/* Idle seconds before MHD drops a connection that is not suspended
 * (slowloris bound); held requests are suspended and use their own timer. */
#define CAS_CONNECTION_TIMEOUT_S 120
/* Bytes a streaming response may buffer ahead of the client; a producer
 * that outruns a slow client gets -1 and must wait or give up. */
#define CAS_STREAM_MAX_BUFFERED_BYTES (4u * 1024u * 1024u)
/* Upper bound on simultaneous connections per listener (fd budget). */
#define CAS_MAX_CONNECTIONS 60000
/* Authorization header: "Basic " + base64 of login:password. */
#define CAS_AUTH_MAX_HEADER_BYTES 1024
/* Login as typed (user, user@domain, DOMAIN\user) after conversion to
 * UTF-8; ISO-8859-1 input at most doubles in size. */
#define CAS_AUTH_MAX_LOGIN_BYTES 256
#define CAS_AUTH_MAX_PASSWORD_BYTES 256
/* Entries in the credential cache and in the throttling table; beyond
 * this the least recently used entry is evicted (memory stays bounded
 * under a password-spraying attack at the cost of forgetting the oldest
 * offenders). */
#define CAS_AUTH_CACHE_MAX_ENTRIES 65536
#define CAS_AUTH_THROTTLE_MAX_ENTRIES 65536
/* X-Forwarded-For: header bytes and hops examined. */
#define CAS_PROXY_MAX_XFF_BYTES 2048
#define CAS_PROXY_MAX_XFF_HOPS 32
/* Entries in trusted_proxies. */
#define CAS_PROXY_MAX_ENTRIES 256
/* Registered EAS commands (MS-ASCMD defines 24). */
#define CAS_DISPATCH_MAX_COMMANDS 64

/* ---- internal RPC (proto/rpc_frame.c, net/) -------------------------- */

/* ---- LMTP (mailbox/lmtp.c) ------------------------------------------ */

/* ---- MIME and stored items (mailbox/) ------------------------------- */

/* ---- Autodiscover (cas/autodiscover.c) ------------------------------ */

/* ---- configuration files (proto/conf.c) ----------------------------- */
/* A configuration line longer than this is rejected with its line number. */
#define CONF_MAX_LINE_BYTES 4096
/* Bound on the number of key = value entries in one configuration file. */
#define CONF_MAX_ENTRIES 1024

#endif
