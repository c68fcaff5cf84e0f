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
/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets with CRLF.
 * Longer lines get 500 5.5.2 and are discarded up to the next LF. */
#define LMTP_MAX_COMMAND_LINE_BYTES 512
/* RFC 5321 4.5.3.1.6 allows 1000 octets per text line; DATA is parsed as a
 * stream (no line is ever buffered whole), so longer lines are tolerated
 * and only the message size below bounds them. */
#define LMTP_MAX_TEXT_LINE_BYTES 1000
/* Default message size limit (advertised with SIZE, RFC 1870); the daemon
 * may configure a smaller one.  A bigger message is read to its final dot
 * and dropped with 552 so the session stays in sync. */
#define LMTP_MAX_MESSAGE_BYTES (64u * 1024u * 1024u)
/* Recipients per transaction (RFC 5321 4.5.3.1.8 requires at least 100);
 * the next RCPT gets 452 4.5.3. */
#define LMTP_MAX_RECIPIENTS 100
/* Recipient address length (RFC 5321 4.5.3.1.3: path of 256 octets). */
#define LMTP_MAX_ADDRESS_BYTES 256
/* Pipelined input held while a delivery is in flight.  Postfix waits for
 * the DATA replies before sending more, so this only bounds misbehaving
 * clients; the daemon stops reading while lmtp_session_waiting() is true. */
#define LMTP_MAX_PENDING_INPUT_BYTES (64u * 1024u)
/* Replies queued and not yet written (flow control towards the daemon). */
#define LMTP_MAX_OUTPUT_BYTES (256u * 1024u)

/* ---- MIME and stored items (mailbox/) ------------------------------- */
/* Largest raw message mime_parse accepts (matches the LMTP size limit). */
#define MIME_MAX_MESSAGE_BYTES (64u * 1024u * 1024u)
/* MIME nesting depth walked (multiparts and message/rfc822 parts); parts
 * below it are neither bodies nor attachments.  Real mail rarely nests
 * beyond 6; 32 bounds recursion and stack use. */
#define MIME_MAX_DEPTH 32
/* Attachments listed per message; more are ignored (and counted). */
#define MIME_MAX_ATTACHMENTS 512
/* Text and HTML bodies kept in the summary (UTF-8 bytes each); longer
 * bodies are cut on a character boundary and flagged truncated.  The raw
 * MIME stays complete in the store. */
#define MIME_MAX_BODY_BYTES (4u * 1024u * 1024u)
/* Preview length in characters (MS-ASAIRS 2.2.2.18 Preview: up to 255). */
#define MIME_PREVIEW_CHARS 255
/* One header field or address list kept in the summary (a 100 KB header
 * is cut here, on a character boundary). */
#define MIME_MAX_HEADER_BYTES (16u * 1024u)
/* Calendar parts handed to libical; bigger ones are ignored. */
#define MIME_MAX_CALENDAR_BYTES (1024u * 1024u)
/* Attendees kept per meeting. */
#define MIME_MAX_ATTENDEES 256
/* A serialized summary: fields are length-prefixed; a field or count
 * above these bounds makes message_summary_decode fail. */
#define MESSAGE_MAX_BLOB_BYTES (16u * 1024u * 1024u)

/* ---- Autodiscover (cas/autodiscover.c) ------------------------------ */

/* ---- configuration files (proto/conf.c) ----------------------------- */
/* A configuration line longer than this is rejected with its line number. */
#define CONF_MAX_LINE_BYTES 4096
/* Bound on the number of key = value entries in one configuration file. */
#define CONF_MAX_ENTRIES 1024

#endif
