/*
 * The Settings command's request and response (MS-ASCMD 2.2.1.18),
 * without I/O: settings_req_decode reads a request body into a list of
 * operations (Oof Get/Set, DeviceInformation Set, DevicePassword Set,
 * UserInformation Get, RightsManagementInformation Get), each with the
 * status its decoding deserves; cas/cmd_settings.c runs them against the
 * mailbox and writes the answer with the encoders below.
 *
 * Bounds: at most SETTINGS_MAX_OPERATIONS operations (each kind once),
 * SETTINGS_MAX_OOF_MESSAGES OofMessage elements (each audience once),
 * ReplyMessage up to AUTOREPLY_MAX_MESSAGE_BYTES, device texts up to
 * CAS_DEVICE_INFO_MAX_BYTES, Password up to SETTINGS_MAX_PASSWORD_BYTES.
 * A request that breaks the schema (wrong root, unknown or repeated
 * operation, Get and Set together) is refused whole with Status 2; a
 * bad value inside one operation gets that operation's own Status.
 */
#ifndef EASD_CAS_SETTINGS_REQ_H
#define EASD_CAS_SETTINGS_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/limits.h"
#include "proto/wbxml.h"
#include "proto/wbxml_tree.h"

/* MS-ASCMD 2.2.3.177.15 Status (Settings), top level and per operation. */
enum settings_status {
	SETTINGS_STATUS_SUCCESS = 1,
	SETTINGS_STATUS_PROTOCOL_ERROR = 2,
	SETTINGS_STATUS_ACCESS_DENIED = 3,
	SETTINGS_STATUS_SERVER_UNAVAILABLE = 4,
	SETTINGS_STATUS_INVALID_ARGUMENTS = 5,
	SETTINGS_STATUS_CONFLICTING_ARGUMENTS = 6,
	SETTINGS_STATUS_DENIED_BY_POLICY = 7,
};

enum settings_kind {
	SETTINGS_OOF_GET = 1,
	SETTINGS_OOF_SET,
	SETTINGS_DEVICE_INFORMATION, /* Set */
	SETTINGS_DEVICE_PASSWORD,    /* Set */
	SETTINGS_USER_INFORMATION,   /* Get */
	SETTINGS_RIGHTS_MANAGEMENT,  /* Get */
};

/* MS-ASCMD 2.2.3.8-10: the audiences of an OofMessage. */
enum settings_audience {
	SETTINGS_AUDIENCE_INTERNAL = 0,
	SETTINGS_AUDIENCE_EXTERNAL_KNOWN = 1,
	SETTINGS_AUDIENCE_EXTERNAL_UNKNOWN = 2,
};

struct settings_oof_message {
	bool present; /* an OofMessage for this audience was sent */
	bool has_enabled;
	bool enabled;
	const char *reply; /* NULL: not sent; borrowed from the tree */
	bool has_body_type;
	bool is_html;
};

/* An Oof Set: only what was sent (has_*); cmd_settings.c overlays it on
 * the stored setting. */
struct settings_oof_set {
	bool has_state;
	unsigned state; /* MS-ASCMD 2.2.3.119: 0, 1, 2 */
	bool has_start, has_end;
	int64_t start_time, end_time; /* UTC seconds */
	struct settings_oof_message msg[SETTINGS_MAX_OOF_MESSAGES];
};

/* DeviceInformation Set (MS-ASCMD 2.2.3.45); NULL: not sent. */
struct settings_device_info {
	const char *model, *imei, *friendly_name, *os, *os_language;
	const char *phone_number, *mobile_operator, *user_agent;
	bool enable_outbound_sms;
};

struct settings_op {
	enum settings_kind kind;
	/* SUCCESS when the operation decoded, else the Status to answer
	 * it with (the mailbox is not asked then). */
	enum settings_status status;
	bool get_html;               /* Oof Get: BodyType HTML */
	struct settings_oof_set oof; /* Oof Set */
	struct settings_device_info info;
	const char *password; /* DevicePassword; "" clears */
};

struct settings_request {
	/* A copy of the body and its tree: together they own every
	 * string above (the tree's strings point into the body). */
	uint8_t *body;
	struct wbxml_tree *tree;
	size_t n_ops;
	struct settings_op ops[SETTINGS_MAX_OPERATIONS];
};

/* 0, or -1 with r cleared (Status 2: the request is refused whole). */
int settings_req_decode(const uint8_t *body, size_t len,
			struct settings_request *r);
void settings_req_clear(struct settings_request *r);

/* ---- response pieces ------------------------------------------------ */

/* One OofMessage of an Oof Get answer.  reply is converted to the
 * requested BodyType (text <-> HTML) when stored in the other. */
struct settings_oof_get_message {
	bool enabled;
	const char *reply; /* NULL or "" : none */
	bool is_html;
};

struct settings_oof_get {
	unsigned state;
	int64_t start_time, end_time;
	struct settings_oof_get_message msg[SETTINGS_MAX_OOF_MESSAGES];
};

/* <Oof><Status/><Get>...</Get></Oof> (status 1) or <Oof><Status/></Oof>.
 * -1 when the encoder or the conversion buffer failed. */
int settings_resp_oof_get(struct wbxml_enc *e, enum settings_status status,
			  const struct settings_oof_get *oof, bool want_html);

/* The account for UserInformation (MS-ASCMD 2.2.3.192): addresses
 * primary first. */
struct settings_user_info {
	const char *display_name; /* NULL or "": omitted */
	const char *const *addresses;
	size_t n_addresses;
};

/* <UserInformation><Status/><Get>...</Get></UserInformation>: 12.1 and
 * 14.0 list SMTPAddress elements; 14.1+ wrap them in
 * Accounts/Account with UserDisplayName and PrimarySmtpAddress. */
int settings_resp_user_info(struct wbxml_enc *e, enum settings_status status,
			    unsigned version,
			    const struct settings_user_info *u);

/* Text to HTML (escaped, line breaks as <br>) and HTML to text (tags
 * dropped, block ends as line breaks, the common entities decoded);
 * appended to out. */
int settings_text_to_html(const char *text, struct buf *out);
int settings_html_to_text(const char *html, struct buf *out);

#endif
