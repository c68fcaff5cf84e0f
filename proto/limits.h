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

/* ---- internal RPC (proto/rpc_frame.c, net/) -------------------------- */
/* Largest frame (header + protobuf payload).  A peer announcing more is
 * refused before anything is allocated.  Larger content (attachments, MIME)
 * travels as a sequence of chunks of RPC_CHUNK_BYTES. */
#define RPC_MAX_FRAME_BYTES (16u * 1024u * 1024u)
/* Chunk size for streamed replies: small enough that a CAS streams an
 * attachment with bounded memory, large enough that the frame overhead is
 * negligible. */
#define RPC_CHUNK_BYTES (256u * 1024u)
/* Bytes queued for output on one connection before it is dropped as too
 * slow: a peer that does not read cannot make the other side buffer
 * without bound.  Four full frames. */
#define RPC_MAX_OUTPUT_BYTES (4u * RPC_MAX_FRAME_BYTES)
/* Requests in flight on one client connection; calls beyond it fail at
 * once with STATUS_BUSY instead of queueing without bound. */
#define RPC_MAX_PENDING 4096u
/* Connections one RPC server accepts; more are closed at accept. */
#define RPC_MAX_CONNECTIONS 1024u
/* A connection must finish TLS and the Hello exchange within this. */
#define RPC_HANDSHAKE_TIMEOUT_MS 10000u
/* Users one subscription may name individually (a CAS subscribes "all"). */
#define RPC_MAX_SUBSCRIBED_USERS 65536u
/* Client reconnect backoff: first delay, doubled per failure up to max. */
#define RPC_RECONNECT_MIN_MS 100u
#define RPC_RECONNECT_MAX_MS 30000u
/* Default deadline of a call when the caller passes 0. */
#define RPC_DEFAULT_TIMEOUT_MS 30000u

/* ---- LMTP (mailbox/lmtp.c) ------------------------------------------ */

/* ---- MIME and stored items (mailbox/) ------------------------------- */

/* ---- Autodiscover (cas/autodiscover.c) ------------------------------ */

/* ---- configuration files (proto/conf.c) ----------------------------- */
/* A configuration line longer than this is rejected with its line number. */
#define CONF_MAX_LINE_BYTES 4096
/* Bound on the number of key = value entries in one configuration file. */
#define CONF_MAX_ENTRIES 1024

#endif
