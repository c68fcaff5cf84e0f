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

/* ---- LMTP (mailbox/lmtp.c) ------------------------------------------ */

/* ---- MIME and stored items (mailbox/) ------------------------------- */

/* ---- Autodiscover (cas/autodiscover.c) ------------------------------ */

/* ---- configuration files (proto/conf.c) ----------------------------- */
/* A configuration line longer than this is rejected with its line number. */
#define CONF_MAX_LINE_BYTES 4096
/* Bound on the number of key = value entries in one configuration file. */
#define CONF_MAX_ENTRIES 1024

#endif
