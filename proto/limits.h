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
/* Largest raw message the store keeps (LMTP, SendMail, client Adds); larger
 * messages are refused before any allocation.  Exchange's default limits
 * are 25-35 MB; base64 inflates attachments by a third. */
#define STORE_MAX_MIME_BYTES (50u * 1024 * 1024)
/* Serialized item properties (bodies, recipients, attachment list). */
#define STORE_MAX_PROPS_BYTES (64u * 1024 * 1024)
/* Attachments listed per item; more are an abuse, not a message. */
#define STORE_MAX_ATTACHMENTS 1024
/* Application properties per non-email item (contacts have ~80 fields). */
#define STORE_MAX_APP_PROPS 4096
/* An item's categories, newline-separated (MS-ASEMAIL Categories allows
 * up to 300 of up to 255 characters; real clients send a handful). */
#define STORE_MAX_CATEGORIES_BYTES 8192
/* Folder display name in bytes (MS-ASCMD DisplayName, UTF-8). */
#define STORE_MAX_FOLDER_NAME_BYTES 256
/* Folder nesting depth, bounding the cycle check of a folder move. */
#define STORE_MAX_FOLDER_DEPTH 64
/* MS-ASCMD Sync WindowSize: at most 512 changes per Sync response. */
#define STORE_MAX_WINDOW_SIZE 512
/* MS-ASCMD Sync ClientId: up to 64 characters. */
#define STORE_MAX_CLIENT_ID_BYTES 64
/* MS-ASHTTP DeviceId: up to 64 characters (the CAS admits [A-Za-z0-9]). */
#define STORE_MAX_DEVICE_ID_BYTES 64
/* A device's self-description (MS-ASCMD Settings DeviceInformation
 * Model, IMEI, OS, FriendlyName, UserAgent...; MS-ASHTTP DeviceType). */
#define STORE_MAX_DEVICE_TEXT_BYTES 1024
/* Messages committed together by one group-commit delivery. */
#define STORE_MAX_DELIVERY_BATCH 256
/* Login names and addresses in the directory. */
#define STORE_MAX_LOGIN_BYTES 256
/* Passwords accepted for hashing: libxcrypt refuses phrases of
 * CRYPT_MAX_PASSPHRASE_SIZE (512) bytes or more. */
#define STORE_MAX_PASSWORD_BYTES 511

/* ---- Autodiscover (cas/autodiscover.c) ------------------------------ */

/* ---- configuration files (proto/conf.c) ----------------------------- */
/* A configuration line longer than this is rejected with its line number. */
#define CONF_MAX_LINE_BYTES 4096
/* Bound on the number of key = value entries in one configuration file. */
#define CONF_MAX_ENTRIES 1024

#endif
