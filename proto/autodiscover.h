/*
 * Autodiscover documents: how a phone, given only an e-mail address and a
 * password, learns the ActiveSync URL.  Two protocols are covered, both as
 * pure functions on bytes (no sockets, no HTTP library): the CAS HTTP layer
 * hands in a request body or request target and sends back what is built
 * here.
 *
 *  - POX ("plain old XML", MS-ASCMD 2.2.1.1): POST /autodiscover/
 *    autodiscover.xml with the mobilesync request schema.  The request is
 *    parsed by a streaming libxml2 SAX parser that refuses any DOCTYPE (so
 *    no entity can be declared, let alone expanded), never touches the
 *    network, and stops at AUTODISCOVER_MAX_DEPTH and at the body and field
 *    bounds of proto/limits.h.  Responses (settings, redirect, error) are
 *    written with every text value escaped.
 *  - v2 JSON: GET /autodiscover/autodiscover.json?Email=a@b&Protocol=
 *    ActiveSync (or .../autodiscover.json/v1.0/a@b?Protocol=ActiveSync),
 *    answered with {"Protocol":"ActiveSync","Url":"..."} or an error object
 *    and the HTTP status to send.
 *
 * The public URL always comes from configuration, never from the request's
 * Host header (docs/autodiscover.md).  Deciding whether the authenticated
 * user may ask about the address is the caller's job.
 */
#ifndef EASD_PROTO_AUTODISCOVER_H
#define EASD_PROTO_AUTODISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proto/buf.h"
#include "proto/limits.h"

/* MS-ASCMD 6.3 / 6.2 / 6.4 and the Outlook POX schemas. */
#define AUTODISCOVER_NS_MOBILESYNC_REQUEST                               \
	"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/" \
	"requestschema/2006"
#define AUTODISCOVER_NS_MOBILESYNC_RESPONSE                              \
	"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/" \
	"responseschema/2006"
#define AUTODISCOVER_NS_RESPONSE                                             \
	"http://schemas.microsoft.com/exchange/autodiscover/responseschema/" \
	"2006"
#define AUTODISCOVER_NS_OUTLOOK_REQUEST                               \
	"http://schemas.microsoft.com/exchange/autodiscover/outlook/" \
	"requestschema/2006"

/* Culture sent when the caller gives none (MS-ASCMD 2.2.3.38 format). */
#define AUTODISCOVER_DEFAULT_CULTURE "en:us"

/* Why a POX request was refused; each maps to an HTTP status or an
 * Autodiscover error response (see autodiscover_request_parse). */
enum autodiscover_status {
	AUTODISCOVER_OK = 0,
	/* body over AUTODISCOVER_MAX_BODY_BYTES: HTTP 413 */
	AUTODISCOVER_ERR_TOO_LARGE,
	/* a DOCTYPE or entity declaration: HTTP 400 */
	AUTODISCOVER_ERR_DTD,
	/* nesting over AUTODISCOVER_MAX_DEPTH: HTTP 400 */
	AUTODISCOVER_ERR_DEPTH,
	/* not well-formed XML: error 600 */
	AUTODISCOVER_ERR_XML,
	/* well-formed but not an Autodiscover request: error 600 */
	AUTODISCOVER_ERR_SCHEMA,
	/* EMailAddress present but not a valid address: error 600 */
	AUTODISCOVER_ERR_ADDRESS,
};

/* What the client asked to be answered in (AcceptableResponseSchema). */
enum autodiscover_schema {
	/* mobilesync/responseschema/2006: the only one served (MS-ASCMD
	 * 2.2.3.1) */
	AUTODISCOVER_SCHEMA_MOBILESYNC,
	/* outlook/responseschema/2006a: desktop Outlook; answered with
	 * error 601, no provider */
	AUTODISCOVER_SCHEMA_OUTLOOK,
	/* anything else: error 601 too */
	AUTODISCOVER_SCHEMA_OTHER,
};

/* A parsed POX request.  Fixed-size fields: parsing allocates nothing
 * that outlives the call. */
struct autodiscover_request {
	/* "" when the body has no (or an empty) EMailAddress; otherwise a
	 * valid address (autodiscover_address_valid) */
	char email[AUTODISCOVER_MAX_ADDRESS_BYTES + 1];
	char response_schema[AUTODISCOVER_MAX_SCHEMA_BYTES + 1];
	enum autodiscover_schema schema;
	/* the root element is in the Outlook request namespace */
	bool outlook_request;
	/* on failure: what went wrong, readable, for logs and DebugData */
	enum autodiscover_status status;
	char error[160];
};

/* Call once at process start, before threads: initialises libxml2 (its
 * lazy initialisation is not thread-safe in 2.9). */
void autodiscover_init(void);

/*
 * Parse a POX request body (MS-ASCMD 2.2.1.1, schema 6.3).  Returns 0 with
 * *req_r filled, or -1 with req_r->status and req_r->error set.  The body
 * need not be NUL-terminated.  A request whose AcceptableResponseSchema is
 * not mobilesync still parses (0): the caller answers it with
 * autodiscover_build_error(AUTODISCOVER_ERROR_NO_PROVIDER).
 */
int autodiscover_request_parse(const uint8_t *body, size_t len,
			       struct autodiscover_request *req_r);

/* HTTP status for a parse failure: 413 for TOO_LARGE, 400 for DTD and
 * DEPTH (hostile input gets no document), 200 for the rest (they are
 * answered with an Autodiscover error document, as Exchange does). */
unsigned autodiscover_status_http(enum autodiscover_status status);

/*
 * A well-formed e-mail address: 3 to AUTODISCOVER_MAX_ADDRESS_BYTES bytes
 * of valid UTF-8, exactly one '@' with a local part of 1 to
 * AUTODISCOVER_MAX_LOCAL_PART_BYTES bytes and a domain that neither starts
 * nor ends with '.' nor holds "..", no space, control character, quote,
 * angle bracket, backslash or comma.  Stricter than RFC 5322 (no quoted
 * local parts): such addresses never name an ActiveSync account.
 */
bool autodiscover_address_valid(const char *address);

/*
 * The address to answer for (MS-ASCMD 2.2.3.56; checklist: "the address
 * may also arrive only as the HTTP user name"): the body's address when it
 * has one; else the HTTP Basic user name when it is an address; else the
 * user name (after any "DOMAIN\" prefix, as Windows-style clients send)
 * plus '@' plus default_domain.  Any argument may be NULL or "".  Returns 0
 * with a valid address in address_r (size address_size), -1 when no valid
 * address can be formed.
 */
int autodiscover_pick_address(const char *body_address, const char *http_user,
			      const char *default_domain, char *address_r,
			      size_t address_size);

/* The user and server for a settings or redirect response. */
struct autodiscover_user {
	const char *email;        /* required, a valid address */
	const char *display_name; /* NULL or "": no DisplayName element */
	const char *culture;      /* NULL: AUTODISCOVER_DEFAULT_CULTURE */
};

/*
 * Append the mobilesync settings response (MS-ASCMD 4.2.4, schema 6.2):
 * Culture, User (DisplayName, EMailAddress), Action/Settings/Server with
 * Type MobileSync and the ActiveSync URL as Url and Name.  url is the
 * configured public URL (https://host/Microsoft-Server-ActiveSync).  On
 * failure (bad argument, out of room in out) out is left as it was.
 */
int autodiscover_build_settings(struct buf *out,
				const struct autodiscover_user *user,
				const char *url);

/* Append a redirect response (MS-ASCMD 2.2.3.147): the client must start
 * again with the address redirect_address.  user may be NULL (no User). */
int autodiscover_build_redirect(struct buf *out,
				const struct autodiscover_user *user,
				const char *redirect_address);

/* MS-ASCMD 2.2.3.64 ErrorCode values. */
enum autodiscover_error_code {
	/* the request was not a valid Autodiscover request */
	AUTODISCOVER_ERROR_INVALID_REQUEST = 600,
	/* no provider for the AcceptableResponseSchema */
	AUTODISCOVER_ERROR_NO_PROVIDER = 601,
};

struct autodiscover_error {
	enum autodiscover_error_code code;
	/* the Response namespace: mobilesync for mobilesync clients
	 * (MS-ASCMD 4.2.x error example), the generic response schema
	 * (6.4) for everyone else */
	enum autodiscover_schema schema;
	const char *debug_data; /* NULL or "": empty DebugData */
	/* Error Time attribute (MS-ASCMD 2.2.3.63, UTC hh:mm:ss); omitted
	 * when (time_t)-1 */
	time_t time;
	/* Error Id attribute, identifying this server; omitted when 0 */
	uint32_t server_id;
};

/* Append an error response: Response/Error with ErrorCode, Message
 * ("Invalid Request" or "Provider is not available") and DebugData. */
int autodiscover_build_error(struct buf *out,
			     const struct autodiscover_error *error);

/* A v2 JSON request target, split and percent-decoded.  Absent values are
 * "". */
struct autodiscover_json_request {
	char email[AUTODISCOVER_MAX_ADDRESS_BYTES + 1];
	char protocol[AUTODISCOVER_MAX_PROTOCOL_BYTES + 1];
};

/*
 * Parse a v2 request target ("/autodiscover/autodiscover.json?Email=
 * a%40b&Protocol=ActiveSync" or ".../autodiscover.json/v1.0/a@b?Protocol=
 * ActiveSync"; the path is matched case-insensitively, as are the query
 * keys).  Returns 0 or -1 with a static message in *error_r (malformed
 * escape, NUL byte, over-long value, repeated key, too many parameters,
 * target over AUTODISCOVER_MAX_TARGET_BYTES).  Values are not validated
 * here: autodiscover_json_build does that.
 */
int autodiscover_json_parse(const char *target, size_t len,
			    struct autodiscover_json_request *req_r,
			    const char **error_r);

/*
 * Append the v2 answer for email and protocol (already decoded, e.g. by
 * autodiscover_json_parse or by the HTTP library) and set *http_status_r:
 * 200 and {"Protocol":"ActiveSync","Url":url} for Protocol=ActiveSync
 * (case-insensitive) and a valid address; 400 and {"ErrorCode":...,
 * "ErrorMessage":...} otherwise (InvalidProtocol, InvalidUser,
 * InvalidRequest when a value is missing).  -1 only when out has no room.
 */
int autodiscover_json_build(struct buf *out, const char *email,
			    const char *protocol, const char *url,
			    unsigned *http_status_r);

/* Append s as the body of a JSON string (no quotes): '"', '\\' and control
 * characters escaped, invalid UTF-8 replaced by U+FFFD. */
int autodiscover_json_escape(struct buf *out, const char *s);
/* Append s escaped for XML text or attribute values: & < > " ' as
 * entities, characters XML 1.0 forbids and invalid UTF-8 as U+FFFD. */
int autodiscover_xml_escape(struct buf *out, const char *s);

#endif
