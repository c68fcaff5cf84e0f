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
/*
 * Element nesting.  The deepest EAS documents (Sync > Collections >
 * Collection > Commands > Add > ApplicationData > Attendees > Attendee ...,
 * calendar exceptions, Find/Search results) stay under 12 levels; 32 leaves
 * room and bounds the decoder's and encoder's fixed stacks.
 */
#define WBXML_MAX_DEPTH 32
/*
 * A whole WBXML document.  Requests carry at most a SendMail MIME message or
 * a Sync with client Adds; the HTTP layer bounds bodies too, this is the
 * codec's own bound.  Trade-off: large attachments inline in SendMail.
 */
#define WBXML_MAX_DOC_BYTES (48u * 1024 * 1024)
/* One inline string (STR_I), e.g. an AirSyncBase:Data body. */
#define WBXML_MAX_STRING_BYTES (32u * 1024 * 1024)
/* One OPAQUE blob, e.g. ComposeMail:Mime or ItemOperations:Data. */
#define WBXML_MAX_OPAQUE_BYTES (32u * 1024 * 1024)
/*
 * Elements plus content pieces in one parsed tree.  A Sync request with a
 * WindowSize of 512 client Adds of ~100 elements is ~51 000; four times that
 * bounds the tree's memory (about 48 bytes a node) at ~10 MB.
 */
#define WBXML_MAX_NODES 262144

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
