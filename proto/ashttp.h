/*
 * MS-ASHTTP request parsing: the query string of
 * `POST /Microsoft-Server-ActiveSync?<query>` in its plain form
 * (MS-ASHTTP 2.2.1.1.1.2) or its base64 form (2.2.1.1.1.1), together with
 * the request headers that complete it (2.2.1.1.2), becomes one validated
 * struct ashttp_request.  No HTTP library here: cas/http.c hands over the
 * raw query bytes (after '?', still percent-encoded) and the header values,
 * and answers a failure with err.http_status and err.message.
 *
 * Everything is bounded by the MS-ASHTTP section of proto/limits.h; the
 * request holds fixed-size NUL-terminated fields, so parsing allocates
 * nothing and a request can live on the stack or in the request arena.
 * Text fields are guaranteed free of NUL and control characters.
 */
#ifndef EASD_PROTO_ASHTTP_H
#define EASD_PROTO_ASHTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/eas_cmd.h"
#include "proto/limits.h"

enum ashttp_form {
	ASHTTP_FORM_PLAIN = 1,
	ASHTTP_FORM_BASE64 = 2,
};

/* Why a request was refused.  Each maps to an HTTP status (see below). */
enum ashttp_status {
	ASHTTP_OK = 0,
	ASHTTP_ERR_QUERY_MISSING,       /* no query at all */
	ASHTTP_ERR_QUERY_TOO_LONG,      /* over ASHTTP_MAX_QUERY_BYTES */
	ASHTTP_ERR_QUERY_SYNTAX,        /* bad %-escape, too many parameters */
	ASHTTP_ERR_PARAM_REPEATED,      /* a known parameter given twice */
	ASHTTP_ERR_PARAM_TOO_LONG,      /* a value over its limit */
	ASHTTP_ERR_PARAM_VALUE,         /* control character, not T/F, ... */
	ASHTTP_ERR_BASE64,              /* not decodable as base64 */
	ASHTTP_ERR_BASE64_TRUNCATED,    /* a field runs past the end */
	ASHTTP_ERR_BASE64_FIELD,        /* bad length, unknown tag */
	ASHTTP_ERR_CMD_MISSING,         /* no Cmd */
	ASHTTP_ERR_CMD_UNKNOWN,         /* not an EAS command */
	ASHTTP_ERR_CMD_VERSION,         /* command absent from that version */
	ASHTTP_ERR_DEVICE_ID,           /* missing or not [A-Za-z0-9]{1,64} */
	ASHTTP_ERR_DEVICE_TYPE,         /* missing or bad characters */
	ASHTTP_ERR_VERSION_MISSING,     /* no MS-ASProtocolVersion */
	ASHTTP_ERR_VERSION_UNSUPPORTED, /* not one of the seven versions */
	ASHTTP_ERR_POLICY_KEY,          /* not an unsigned 32-bit decimal */
	ASHTTP_ERR_HEADER,              /* another header value is malformed */
};

#define ASHTTP_ERROR_MESSAGE_BYTES 160

struct ashttp_error {
	enum ashttp_status status;
	/*
	 * What the CAS answers.  Every refusal here is the client's fault
	 * and carries no protocol status yet (the WBXML body has not been
	 * read), so all are 400 Bad Request, MS-ASHTTP's answer to a
	 * malformed or unsupported request line (its status code table), and
	 * reliability.md wants any unknown Cmd or bad DeviceId refused with a
	 * 4xx at the edge.  An unsupported protocol version is also 400; the
	 * client then falls back after an OPTIONS request.
	 */
	unsigned http_status;
	char message[ASHTTP_ERROR_MESSAGE_BYTES]; /* e.g. "DeviceId contains
						     '/'" */
};

/* Header values as received, NUL-terminated; NULL when absent. */
struct ashttp_headers {
	const char *protocol_version; /* MS-ASProtocolVersion */
	const char *policy_key;       /* X-MS-PolicyKey */
	const char *accept_multipart; /* MS-ASAcceptMultiPart */
	const char *user_agent;       /* User-Agent */
};

struct ashttp_request {
	enum ashttp_form form;
	const struct eas_cmd *cmd; /* points into the static command table */
	enum eas_version version;
	/*
	 * Client-supplied User: for logs only, never an identity (the CAS
	 * authenticates from the Authorization header).  Empty if absent.
	 */
	char user[ASHTTP_MAX_USER_BYTES + 1];
	/* Plain form: as sent.  Base64 form: the raw bytes in uppercase hex
	 * (Windows Mail sends a 16-byte GUID: 32 hex digits). */
	char device_id[ASHTTP_MAX_DEVICE_ID_BYTES + 1];
	char device_type[ASHTTP_MAX_DEVICE_TYPE_BYTES + 1];
	/* Command parameters (MS-ASHTTP 2.2.1.1.1.2.5); empty if absent.
	 * CollectionName and ParentId exist only in the base64 form. */
	char attachment_name[ASHTTP_MAX_LONG_PARAM_BYTES + 1];
	char collection_id[ASHTTP_MAX_ID_BYTES + 1];
	char collection_name[ASHTTP_MAX_LONG_PARAM_BYTES + 1];
	char item_id[ASHTTP_MAX_ID_BYTES + 1];
	char long_id[ASHTTP_MAX_LONG_PARAM_BYTES + 1];
	char parent_id[ASHTTP_MAX_ID_BYTES + 1];
	char occurrence[ASHTTP_MAX_LONG_PARAM_BYTES + 1];
	char user_agent[ASHTTP_MAX_USER_AGENT_BYTES + 1];
	/* X-MS-PolicyKey or the base64 policy key field; "0" counts as a
	 * key (the client's "I have none" of MS-ASPROV 3.1.5.1). */
	bool has_policy_key;
	uint32_t policy_key;
	/* Base64 form only: the locale (a Windows LCID, little-endian). */
	bool has_locale;
	uint16_t locale;
	bool save_in_sent;     /* SaveInSent=T or Options bit 0x01 */
	bool accept_multipart; /* AcceptMultiPart, header or bit 0x02 */
};

/*
 * Parse query[0..len) and the headers into *req_r.  Returns 0, or -1 with
 * *err_r filled (req_r is then unspecified).  The form is recognised by
 * shape: a base64 query is one token of base64 characters (%-escapes
 * allowed) with at most a padding tail of '='; anything with '&' or an
 * inner '=' is the plain form.
 */
int ashttp_parse(const uint8_t *query, size_t len,
		 const struct ashttp_headers *headers,
		 struct ashttp_request *req_r, struct ashttp_error *err_r);

/* Validators shared with the CAS (e.g. device ids from other sources). */
int ashttp_check_device_id(const uint8_t *id, size_t len,
			   struct ashttp_error *err_r);
int ashttp_check_device_type(const uint8_t *type, size_t len,
			     struct ashttp_error *err_r);
/* Decimal unsigned 32-bit, 1-10 digits, nothing else. */
int ashttp_parse_policy_key(const char *text, uint32_t *key_r);

/* A short constant name for logs: "device-id", "cmd-unknown", ... */
const char *ashttp_status_name(enum ashttp_status status);

#endif
