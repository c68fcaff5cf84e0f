/*
 * MS-ASHTTP query and header parsing (see ashttp.h).  Two front ends fill
 * the same struct ashttp_request: the plain form, a list of name=value
 * pairs, and the base64 form, a packed byte sequence.  After either, one
 * common pass checks what both must satisfy (command known in the version,
 * device id and type present) and folds in the headers.
 *
 * Bounds: the query is refused above ASHTTP_MAX_QUERY_BYTES before any
 * decoding; every value is decoded into a fixed buffer of its own limit;
 * the plain parser handles at most ASHTTP_MAX_PARAMS pairs; the base64
 * parser reads each length byte and checks it against the bytes left
 * before touching the field.  Nothing is allocated.
 */
#include "proto/ashttp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto/base64.h"

#define ASHTTP_HTTP_BAD_REQUEST 400u

/* Plain-form parameters (MS-ASHTTP 2.2.1.1.1.2) and base64 tags
 * (2.2.1.1.1.1.3) share these ids; the tag is the base64 code. */
enum ashttp_param {
	ASHTTP_P_ATTACHMENT_NAME = 0,
	ASHTTP_P_COLLECTION_ID = 1,
	ASHTTP_P_COLLECTION_NAME = 2,
	ASHTTP_P_ITEM_ID = 3,
	ASHTTP_P_LONG_ID = 4,
	ASHTTP_P_PARENT_ID = 5,
	ASHTTP_P_OCCURRENCE = 6,
	ASHTTP_P_OPTIONS = 7,
	ASHTTP_P_USER = 8,
	/* plain form only */
	ASHTTP_P_CMD,
	ASHTTP_P_DEVICE_ID,
	ASHTTP_P_DEVICE_TYPE,
	ASHTTP_P_SAVE_IN_SENT,
	ASHTTP_P_ACCEPT_MULTIPART,
	ASHTTP_P_COUNT
};

/* Base64 Options bits (MS-ASHTTP 2.2.1.1.1.1.3). */
#define ASHTTP_OPT_SAVE_IN_SENT 0x01u
#define ASHTTP_OPT_ACCEPT_MULTIPART 0x02u

/* Base64 device ids are raw bytes shown as hex: half the text bound. */
#define ASHTTP_MAX_DEVICE_ID_RAW (ASHTTP_MAX_DEVICE_ID_BYTES / 2)

struct ashttp_param_desc {
	const char *name;
	size_t max;  /* decoded bytes */
	bool plain;  /* accepted in the plain form */
	bool base64; /* accepted as a base64 tag */
};

/*
 * CollectionName and ParentId are base64 tags of earlier MS-ASHTTP
 * revisions (2 and 5); the plain form never had them.  The DeviceId limit
 * here is the text limit; the base64 form has its own raw limit.
 */
static const struct ashttp_param_desc ashttp_params[ASHTTP_P_COUNT] = {
    [ASHTTP_P_ATTACHMENT_NAME] = {"AttachmentName", ASHTTP_MAX_LONG_PARAM_BYTES,
				  true, true},
    [ASHTTP_P_COLLECTION_ID] = {"CollectionId", ASHTTP_MAX_ID_BYTES, true,
				true},
    [ASHTTP_P_COLLECTION_NAME] = {"CollectionName", ASHTTP_MAX_LONG_PARAM_BYTES,
				  false, true},
    [ASHTTP_P_ITEM_ID] = {"ItemId", ASHTTP_MAX_ID_BYTES, true, true},
    [ASHTTP_P_LONG_ID] = {"LongId", ASHTTP_MAX_LONG_PARAM_BYTES, true, true},
    [ASHTTP_P_PARENT_ID] = {"ParentId", ASHTTP_MAX_ID_BYTES, false, true},
    [ASHTTP_P_OCCURRENCE] = {"Occurrence", ASHTTP_MAX_LONG_PARAM_BYTES, true,
			     true},
    [ASHTTP_P_OPTIONS] = {"Options", 1, false, true},
    [ASHTTP_P_USER] = {"User", ASHTTP_MAX_USER_BYTES, true, true},
    [ASHTTP_P_CMD] = {"Cmd", 32, true, false},
    [ASHTTP_P_DEVICE_ID] = {"DeviceId", ASHTTP_MAX_DEVICE_ID_BYTES, true,
			    false},
    [ASHTTP_P_DEVICE_TYPE] = {"DeviceType", ASHTTP_MAX_DEVICE_TYPE_BYTES, true,
			      false},
    [ASHTTP_P_SAVE_IN_SENT] = {"SaveInSent", 8, true, false},
    [ASHTTP_P_ACCEPT_MULTIPART] = {"AcceptMultiPart", 8, true, false},
};

static const char *const ashttp_status_names[] = {
    [ASHTTP_OK] = "ok",
    [ASHTTP_ERR_QUERY_MISSING] = "query-missing",
    [ASHTTP_ERR_QUERY_TOO_LONG] = "query-too-long",
    [ASHTTP_ERR_QUERY_SYNTAX] = "query-syntax",
    [ASHTTP_ERR_PARAM_REPEATED] = "param-repeated",
    [ASHTTP_ERR_PARAM_TOO_LONG] = "param-too-long",
    [ASHTTP_ERR_PARAM_VALUE] = "param-value",
    [ASHTTP_ERR_BASE64] = "base64",
    [ASHTTP_ERR_BASE64_TRUNCATED] = "base64-truncated",
    [ASHTTP_ERR_BASE64_FIELD] = "base64-field",
    [ASHTTP_ERR_CMD_MISSING] = "cmd-missing",
    [ASHTTP_ERR_CMD_UNKNOWN] = "cmd-unknown",
    [ASHTTP_ERR_CMD_VERSION] = "cmd-version",
    [ASHTTP_ERR_DEVICE_ID] = "device-id",
    [ASHTTP_ERR_DEVICE_TYPE] = "device-type",
    [ASHTTP_ERR_VERSION_MISSING] = "version-missing",
    [ASHTTP_ERR_VERSION_UNSUPPORTED] = "version-unsupported",
    [ASHTTP_ERR_POLICY_KEY] = "policy-key",
    [ASHTTP_ERR_HEADER] = "header",
};

const char *
ashttp_status_name(enum ashttp_status status)
{
	if ((size_t)status >=
	    sizeof(ashttp_status_names) / sizeof(ashttp_status_names[0]))
		return "unknown";
	return ashttp_status_names[status];
}

static int ashttp_fail(struct ashttp_error *err, enum ashttp_status status,
		       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fill *err and return -1, so that callers can `return ashttp_fail(...)`. */
static int
ashttp_fail(struct ashttp_error *err, enum ashttp_status status,
	    const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	err->http_status = ASHTTP_HTTP_BAD_REQUEST;
	va_start(ap, fmt);
	(void)vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* A byte shown safely in a message: 'x' or \xNN. */
static void
ashttp_show_byte(uint8_t c, char out[8])
{
	if (c > 0x20 && c < 0x7f && c != '\'')
		(void)snprintf(out, 8, "'%c'", c);
	else
		(void)snprintf(out, 8, "\\x%02X", c);
}

static int
ashttp_hex(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode in[0..len) into out (capacity cap).  plus_is_space is the
 * form-encoding rule of the plain query; the base64 form keeps '+', which
 * is a base64 character.  Returns 0, -1 on a bad escape, -2 if the decoded
 * value exceeds cap.
 */
static int
ashttp_pct_decode(const uint8_t *in, size_t len, bool plus_is_space,
		  uint8_t *out, size_t cap, size_t *out_len_r)
{
	size_t i = 0, n = 0;
	int hi, lo;
	uint8_t c;

	while (i < len) {
		c = in[i];
		if (c == '%') {
			if (len - i < 3)
				return -1;
			hi = ashttp_hex(in[i + 1]);
			lo = ashttp_hex(in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (uint8_t)(hi << 4 | lo);
			i += 3;
		} else {
			if (c == '+' && plus_is_space)
				c = ' ';
			i++;
		}
		if (n >= cap)
			return -2;
		out[n++] = c;
	}
	*out_len_r = n;
	return 0;
}

int
ashttp_check_device_id(const uint8_t *id, size_t len,
		       struct ashttp_error *err_r)
{
	char shown[8];
	size_t i;

	/* reliability.md edge filtering: [A-Za-z0-9]{1,64}. */
	if (len == 0)
		return ashttp_fail(err_r, ASHTTP_ERR_DEVICE_ID,
				   "DeviceId is empty");
	if (len > ASHTTP_MAX_DEVICE_ID_BYTES)
		return ashttp_fail(err_r, ASHTTP_ERR_DEVICE_ID,
				   "DeviceId longer than %d characters",
				   ASHTTP_MAX_DEVICE_ID_BYTES);
	for (i = 0; i < len; i++) {
		uint8_t c = id[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9'))
			continue;
		ashttp_show_byte(c, shown);
		return ashttp_fail(err_r, ASHTTP_ERR_DEVICE_ID,
				   "DeviceId contains %s", shown);
	}
	return 0;
}

int
ashttp_check_device_type(const uint8_t *type, size_t len,
			 struct ashttp_error *err_r)
{
	char shown[8];
	size_t i;

	/*
	 * Real values are letters and digits ("iPhone", "Android",
	 * "SAMSUNGSMG991B", "WindowsMail", "Outlook", "TbSync"); a few
	 * clients put a model with '-', '_' or '.' there.  No path
	 * characters, spaces or controls: the value reaches logs, device
	 * access rules and the admin's device list.
	 */
	if (len == 0)
		return ashttp_fail(err_r, ASHTTP_ERR_DEVICE_TYPE,
				   "DeviceType is empty");
	if (len > ASHTTP_MAX_DEVICE_TYPE_BYTES)
		return ashttp_fail(err_r, ASHTTP_ERR_DEVICE_TYPE,
				   "DeviceType longer than %d characters",
				   ASHTTP_MAX_DEVICE_TYPE_BYTES);
	for (i = 0; i < len; i++) {
		uint8_t c = type[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')
			continue;
		ashttp_show_byte(c, shown);
		return ashttp_fail(err_r, ASHTTP_ERR_DEVICE_TYPE,
				   "DeviceType contains %s", shown);
	}
	if (type[0] == '.')
		return ashttp_fail(err_r, ASHTTP_ERR_DEVICE_TYPE,
				   "DeviceType starts with '.'");
	return 0;
}

int
ashttp_parse_policy_key(const char *text, uint32_t *key_r)
{
	uint64_t v = 0;
	size_t i;

	/* MS-ASPROV 2.2.2.42: a string form of a 32-bit unsigned integer. */
	for (i = 0; text[i] != '\0'; i++) {
		if (i >= 10 || text[i] < '0' || text[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(text[i] - '0');
	}
	if (i == 0 || v > UINT32_MAX)
		return -1;
	*key_r = (uint32_t)v;
	return 0;
}

/* Copy a decoded text value into a NUL-terminated field, refusing NUL and
 * control characters (they would break logs, XML and SQL-free lookups). */
static int
ashttp_set_text(char *field, size_t field_cap, const char *name,
		const uint8_t *v, size_t len, struct ashttp_error *err)
{
	char shown[8];
	size_t i;

	if (len + 1 > field_cap)
		return ashttp_fail(err, ASHTTP_ERR_PARAM_TOO_LONG,
				   "%s longer than %zu bytes", name,
				   field_cap - 1);
	for (i = 0; i < len; i++) {
		if (v[i] < 0x20 || v[i] == 0x7f) {
			ashttp_show_byte(v[i], shown);
			return ashttp_fail(err, ASHTTP_ERR_PARAM_VALUE,
					   "%s contains %s", name, shown);
		}
	}
	memcpy(field, v, len);
	field[len] = '\0';
	return 0;
}

/* "T" or "F" (MS-ASHTTP 2.2.1.1.1.2.5, 2.2.1.1.2.5). */
static int
ashttp_parse_tf(const char *name, const uint8_t *v, size_t len, bool *b_r,
		enum ashttp_status status, struct ashttp_error *err)
{
	if (len == 1 && (v[0] == 'T' || v[0] == 'F')) {
		*b_r = v[0] == 'T';
		return 0;
	}
	return ashttp_fail(err, status, "%s must be T or F", name);
}

/* Store one command parameter (shared by both forms). */
static int
ashttp_set_param(struct ashttp_request *req, enum ashttp_param p,
		 const uint8_t *v, size_t len, struct ashttp_error *err)
{
	const char *name = ashttp_params[p].name;

	switch (p) {
	case ASHTTP_P_ATTACHMENT_NAME:
		return ashttp_set_text(req->attachment_name,
				       sizeof(req->attachment_name), name, v,
				       len, err);
	case ASHTTP_P_COLLECTION_ID:
		return ashttp_set_text(req->collection_id,
				       sizeof(req->collection_id), name, v, len,
				       err);
	case ASHTTP_P_COLLECTION_NAME:
		return ashttp_set_text(req->collection_name,
				       sizeof(req->collection_name), name, v,
				       len, err);
	case ASHTTP_P_ITEM_ID:
		return ashttp_set_text(req->item_id, sizeof(req->item_id), name,
				       v, len, err);
	case ASHTTP_P_LONG_ID:
		return ashttp_set_text(req->long_id, sizeof(req->long_id), name,
				       v, len, err);
	case ASHTTP_P_PARENT_ID:
		return ashttp_set_text(req->parent_id, sizeof(req->parent_id),
				       name, v, len, err);
	case ASHTTP_P_OCCURRENCE:
		return ashttp_set_text(req->occurrence, sizeof(req->occurrence),
				       name, v, len, err);
	case ASHTTP_P_USER:
		return ashttp_set_text(req->user, sizeof(req->user), name, v,
				       len, err);
	case ASHTTP_P_OPTIONS:
		/* A single-byte bitmask; unknown bits are ignored so that a
		 * future flag does not lock a client out. */
		if (len != 1)
			return ashttp_fail(err, ASHTTP_ERR_BASE64_FIELD,
					   "Options is %zu bytes, not 1", len);
		req->save_in_sent = (v[0] & ASHTTP_OPT_SAVE_IN_SENT) != 0;
		req->accept_multipart =
		    (v[0] & ASHTTP_OPT_ACCEPT_MULTIPART) != 0;
		return 0;
	case ASHTTP_P_CMD:
		if (len == 0)
			return ashttp_fail(err, ASHTTP_ERR_CMD_MISSING,
					   "Cmd is empty");
		req->cmd = eas_cmd_by_name((const char *)v, len);
		if (req->cmd == NULL)
			return ashttp_fail(err, ASHTTP_ERR_CMD_UNKNOWN,
					   "Cmd is not an EAS command");
		return 0;
	case ASHTTP_P_DEVICE_ID:
		if (ashttp_check_device_id(v, len, err) < 0)
			return -1;
		memcpy(req->device_id, v, len);
		req->device_id[len] = '\0';
		return 0;
	case ASHTTP_P_DEVICE_TYPE:
		if (ashttp_check_device_type(v, len, err) < 0)
			return -1;
		memcpy(req->device_type, v, len);
		req->device_type[len] = '\0';
		return 0;
	case ASHTTP_P_SAVE_IN_SENT:
		return ashttp_parse_tf(name, v, len, &req->save_in_sent,
				       ASHTTP_ERR_PARAM_VALUE, err);
	case ASHTTP_P_ACCEPT_MULTIPART:
		return ashttp_parse_tf(name, v, len, &req->accept_multipart,
				       ASHTTP_ERR_PARAM_VALUE, err);
	case ASHTTP_P_COUNT:
		break;
	}
	return ashttp_fail(err, ASHTTP_ERR_QUERY_SYNTAX, "internal: param %d",
			   (int)p);
}

/* Case-insensitive lookup of a plain-form parameter name. */
static int
ashttp_plain_param(const uint8_t *name, size_t len, enum ashttp_param *p_r)
{
	size_t i;

	for (i = 0; i < ASHTTP_P_COUNT; i++) {
		const struct ashttp_param_desc *d = &ashttp_params[i];

		if (d->plain && strlen(d->name) == len &&
		    strncasecmp(d->name, (const char *)name, len) == 0) {
			*p_r = (enum ashttp_param)i;
			return 0;
		}
	}
	return -1;
}

/*
 * The plain form (MS-ASHTTP 2.2.1.1.1.2): name=value pairs joined by '&'.
 * Deliberate choices: names match case-insensitively; a known parameter
 * given twice is refused (two User or DeviceId values are ambiguous, and
 * ambiguity between layers is how request smuggling starts); unknown
 * parameters are skipped but count toward ASHTTP_MAX_PARAMS; empty pairs
 * ("&&") are skipped.
 */
static int
ashttp_parse_plain(const uint8_t *q, size_t len, struct ashttp_request *req,
		   struct ashttp_error *err)
{
	uint8_t value[ASHTTP_MAX_QUERY_BYTES];
	uint8_t name[32];
	bool seen[ASHTTP_P_COUNT] = {false};
	size_t pos = 0, npairs = 0, name_len, value_len;
	enum ashttp_param p;
	int rc;

	while (pos < len) {
		const uint8_t *pair = q + pos, *amp, *eq;
		size_t pair_len;

		amp = memchr(pair, '&', len - pos);
		pair_len = amp != NULL ? (size_t)(amp - pair) : len - pos;
		pos += pair_len + (amp != NULL ? 1 : 0);
		if (pair_len == 0)
			continue;
		if (++npairs > ASHTTP_MAX_PARAMS)
			return ashttp_fail(err, ASHTTP_ERR_QUERY_SYNTAX,
					   "more than %d query parameters",
					   ASHTTP_MAX_PARAMS);
		eq = memchr(pair, '=', pair_len);
		rc = ashttp_pct_decode(
		    pair, eq != NULL ? (size_t)(eq - pair) : pair_len, true,
		    name, sizeof(name), &name_len);
		if (rc == -1)
			return ashttp_fail(err, ASHTTP_ERR_QUERY_SYNTAX,
					   "bad %%-escape in a parameter name");
		if (rc == -2 || ashttp_plain_param(name, name_len, &p) < 0)
			continue; /* unknown parameter */
		if (seen[p])
			return ashttp_fail(err, ASHTTP_ERR_PARAM_REPEATED,
					   "%s given more than once",
					   ashttp_params[p].name);
		seen[p] = true;
		if (eq == NULL)
			return ashttp_fail(err, ASHTTP_ERR_PARAM_VALUE,
					   "%s has no value",
					   ashttp_params[p].name);
		rc = ashttp_pct_decode(eq + 1,
				       pair_len - (size_t)(eq + 1 - pair), true,
				       value, ashttp_params[p].max, &value_len);
		if (rc == -1)
			return ashttp_fail(err, ASHTTP_ERR_QUERY_SYNTAX,
					   "bad %%-escape in %s",
					   ashttp_params[p].name);
		if (rc == -2) {
			if (p == ASHTTP_P_DEVICE_ID)
				return ashttp_fail(
				    err, ASHTTP_ERR_DEVICE_ID,
				    "DeviceId longer than %d characters",
				    ASHTTP_MAX_DEVICE_ID_BYTES);
			if (p == ASHTTP_P_DEVICE_TYPE)
				return ashttp_fail(
				    err, ASHTTP_ERR_DEVICE_TYPE,
				    "DeviceType longer than %d characters",
				    ASHTTP_MAX_DEVICE_TYPE_BYTES);
			if (p == ASHTTP_P_CMD)
				return ashttp_fail(err, ASHTTP_ERR_CMD_UNKNOWN,
						   "Cmd is not an EAS command");
			return ashttp_fail(err, ASHTTP_ERR_PARAM_TOO_LONG,
					   "%s longer than %zu bytes",
					   ashttp_params[p].name,
					   ashttp_params[p].max);
		}
		if (ashttp_set_param(req, p, value, value_len, err) < 0)
			return -1;
	}
	if (!seen[ASHTTP_P_CMD])
		return ashttp_fail(err, ASHTTP_ERR_CMD_MISSING,
				   "Cmd is missing");
	if (!seen[ASHTTP_P_DEVICE_ID])
		return ashttp_fail(err, ASHTTP_ERR_DEVICE_ID,
				   "DeviceId is missing");
	if (!seen[ASHTTP_P_DEVICE_TYPE])
		return ashttp_fail(err, ASHTTP_ERR_DEVICE_TYPE,
				   "DeviceType is missing");
	return 0;
}

/* Bounded reader over the decoded base64 bytes. */
struct ashttp_cursor {
	const uint8_t *pos;
	const uint8_t *end;
};

/* The next n bytes, or NULL (with *err filled) if fewer remain. */
static const uint8_t *
ashttp_take(struct ashttp_cursor *c, size_t n, const char *what,
	    struct ashttp_error *err)
{
	const uint8_t *field = c->pos;

	if ((size_t)(c->end - c->pos) < n) {
		(void)ashttp_fail(err, ASHTTP_ERR_BASE64_TRUNCATED,
				  "base64 query ends inside %s", what);
		return NULL;
	}
	c->pos += n;
	return field;
}

/*
 * The base64 form (MS-ASHTTP 2.2.1.1.1.1): version (1 byte), command code
 * (1), locale (2, little-endian), device id length (1) and bytes, policy
 * key length (1: 0 or 4) and key (little-endian uint32), device type
 * length (1) and bytes, then parameters as tag (1), length (1), value.
 */
static int
ashttp_parse_base64(const uint8_t *q, size_t len, struct ashttp_request *req,
		    struct ashttp_error *err)
{
	uint8_t text[ASHTTP_MAX_QUERY_BYTES];
	uint8_t raw[BASE64_DECODED_MAX(ASHTTP_MAX_QUERY_BYTES)];
	static const char hexdig[] = "0123456789ABCDEF";
	struct ashttp_cursor c;
	const uint8_t *f;
	bool seen[ASHTTP_P_COUNT] = {false};
	size_t text_len, raw_len, i, n;
	unsigned tag;

	if (ashttp_pct_decode(q, len, false, text, sizeof(text), &text_len) < 0)
		return ashttp_fail(err, ASHTTP_ERR_QUERY_SYNTAX,
				   "bad %%-escape in the base64 query");
	if (base64_decode(text, text_len, raw, sizeof(raw), &raw_len) < 0)
		return ashttp_fail(err, ASHTTP_ERR_BASE64,
				   "query is not valid base64");
	c.pos = raw;
	c.end = raw + raw_len;

	if ((f = ashttp_take(&c, 1, "the protocol version", err)) == NULL)
		return -1;
	if (eas_version_from_byte(f[0], &req->version) < 0)
		return ashttp_fail(err, ASHTTP_ERR_VERSION_UNSUPPORTED,
				   "protocol version byte %u is not supported",
				   f[0]);
	/* MS-ASHTTP 2.2.1.1.1.1: 2.5 and 12.0 use the plain form only. */
	if (req->version < EAS_VERSION_12_1)
		return ashttp_fail(err, ASHTTP_ERR_VERSION_UNSUPPORTED,
				   "protocol %s cannot use the base64 query",
				   eas_version_str(req->version));

	if ((f = ashttp_take(&c, 1, "the command code", err)) == NULL)
		return -1;
	req->cmd = eas_cmd_by_code(f[0]);
	if (req->cmd == NULL)
		return ashttp_fail(err, ASHTTP_ERR_CMD_UNKNOWN,
				   "command code %u is not an EAS command",
				   f[0]);

	if ((f = ashttp_take(&c, 2, "the locale", err)) == NULL)
		return -1;
	req->has_locale = true;
	req->locale = (uint16_t)(f[0] | f[1] << 8);

	if ((f = ashttp_take(&c, 1, "the device id length", err)) == NULL)
		return -1;
	n = f[0];
	if (n == 0)
		return ashttp_fail(err, ASHTTP_ERR_DEVICE_ID,
				   "DeviceId is empty");
	if (n > ASHTTP_MAX_DEVICE_ID_RAW)
		return ashttp_fail(err, ASHTTP_ERR_DEVICE_ID,
				   "DeviceId is %zu bytes, over %d", n,
				   ASHTTP_MAX_DEVICE_ID_RAW);
	if ((f = ashttp_take(&c, n, "the device id", err)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		req->device_id[2 * i] = hexdig[f[i] >> 4];
		req->device_id[2 * i + 1] = hexdig[f[i] & 15];
	}
	req->device_id[2 * n] = '\0';

	if ((f = ashttp_take(&c, 1, "the policy key length", err)) == NULL)
		return -1;
	n = f[0];
	if (n != 0 && n != 4)
		return ashttp_fail(err, ASHTTP_ERR_POLICY_KEY,
				   "policy key length is %zu, not 0 or 4", n);
	if (n == 4) {
		if ((f = ashttp_take(&c, 4, "the policy key", err)) == NULL)
			return -1;
		req->has_policy_key = true;
		req->policy_key = (uint32_t)f[0] | (uint32_t)f[1] << 8 |
				  (uint32_t)f[2] << 16 | (uint32_t)f[3] << 24;
	}

	if ((f = ashttp_take(&c, 1, "the device type length", err)) == NULL)
		return -1;
	n = f[0];
	if ((f = ashttp_take(&c, n, "the device type", err)) == NULL)
		return -1;
	if (ashttp_check_device_type(f, n, err) < 0)
		return -1;
	memcpy(req->device_type, f, n);
	req->device_type[n] = '\0';

	/* Parameters until the end.  Unknown tags are refused: the byte
	 * layout has no extension rule, so skipping could misparse. */
	while (c.pos < c.end) {
		if ((f = ashttp_take(&c, 1, "a parameter tag", err)) == NULL)
			return -1;
		tag = f[0];
		if (tag >= ASHTTP_P_COUNT || !ashttp_params[tag].base64)
			return ashttp_fail(err, ASHTTP_ERR_BASE64_FIELD,
					   "unknown parameter tag %u", tag);
		if (seen[tag])
			return ashttp_fail(err, ASHTTP_ERR_PARAM_REPEATED,
					   "%s given more than once",
					   ashttp_params[tag].name);
		seen[tag] = true;
		if ((f = ashttp_take(&c, 1, "a parameter length", err)) == NULL)
			return -1;
		n = f[0];
		if ((f = ashttp_take(&c, n, ashttp_params[tag].name, err)) ==
		    NULL)
			return -1;
		if (ashttp_set_param(req, (enum ashttp_param)tag, f, n, err) <
		    0)
			return -1;
	}
	return 0;
}

/* A base64 query: base64 characters and %-escapes, with at most two
 * padding characters ('=' or its escape %3D) as the tail. */
static bool
ashttp_looks_base64(const uint8_t *q, size_t len)
{
	size_t i, pad;

	for (pad = 0; pad < 2; pad++) {
		if (len >= 1 && q[len - 1] == '=')
			len -= 1;
		else if (len >= 3 && q[len - 3] == '%' && q[len - 2] == '3' &&
			 (q[len - 1] == 'D' || q[len - 1] == 'd'))
			len -= 3;
		else
			break;
	}
	for (i = 0; i < len; i++) {
		uint8_t c = q[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/' ||
		      c == '%'))
			return false;
	}
	return true;
}

static int
ashttp_apply_headers(const struct ashttp_headers *h, struct ashttp_request *req,
		     struct ashttp_error *err)
{
	size_t len;
	bool amp = false;

	/*
	 * MS-ASHTTP 2.2.1.1.2.6 and 2.2.1.1.2.8: with the base64 form the
	 * version and key come from the query and these headers SHOULD NOT
	 * be sent; if a client sends both, the query wins.
	 */
	if (req->form == ASHTTP_FORM_PLAIN) {
		if (h == NULL || h->protocol_version == NULL ||
		    h->protocol_version[0] == '\0')
			return ashttp_fail(err, ASHTTP_ERR_VERSION_MISSING,
					   "MS-ASProtocolVersion is missing");
		len = strnlen(h->protocol_version, 8);
		if (eas_version_parse(h->protocol_version, len, &req->version) <
		    0)
			return ashttp_fail(err, ASHTTP_ERR_VERSION_UNSUPPORTED,
					   "MS-ASProtocolVersion is not one "
					   "of " EAS_PROTOCOL_VERSIONS);
		/* An empty X-MS-PolicyKey is the same as none. */
		if (h->policy_key != NULL && h->policy_key[0] != '\0') {
			if (ashttp_parse_policy_key(h->policy_key,
						    &req->policy_key) < 0)
				return ashttp_fail(
				    err, ASHTTP_ERR_POLICY_KEY,
				    "X-MS-PolicyKey is not an unsigned "
				    "32-bit decimal");
			req->has_policy_key = true;
		}
	}
	if (h == NULL)
		return 0;
	/* MS-ASHTTP 2.2.1.1.2.5: "T" asks for a multipart response; the
	 * query parameter or Options bit may also ask for it. */
	if (h->accept_multipart != NULL) {
		len = strnlen(h->accept_multipart, 2);
		if (ashttp_parse_tf("MS-ASAcceptMultiPart",
				    (const uint8_t *)h->accept_multipart, len,
				    &amp, ASHTTP_ERR_HEADER, err) < 0)
			return -1;
		req->accept_multipart = req->accept_multipart || amp;
	}
	if (h->user_agent != NULL) {
		len = strnlen(h->user_agent, ASHTTP_MAX_USER_AGENT_BYTES + 1);
		if (ashttp_set_text(
			req->user_agent, sizeof(req->user_agent), "User-Agent",
			(const uint8_t *)h->user_agent, len, err) < 0) {
			err->status = ASHTTP_ERR_HEADER;
			return -1;
		}
	}
	return 0;
}

int
ashttp_parse(const uint8_t *query, size_t len,
	     const struct ashttp_headers *headers, struct ashttp_request *req_r,
	     struct ashttp_error *err_r)
{
	memset(req_r, 0, sizeof(*req_r));
	memset(err_r, 0, sizeof(*err_r));
	if (query == NULL || len == 0)
		return ashttp_fail(err_r, ASHTTP_ERR_QUERY_MISSING,
				   "request has no query");
	if (len > ASHTTP_MAX_QUERY_BYTES)
		return ashttp_fail(err_r, ASHTTP_ERR_QUERY_TOO_LONG,
				   "query longer than %d bytes",
				   ASHTTP_MAX_QUERY_BYTES);
	if (ashttp_looks_base64(query, len)) {
		req_r->form = ASHTTP_FORM_BASE64;
		if (ashttp_parse_base64(query, len, req_r, err_r) < 0)
			return -1;
	} else {
		req_r->form = ASHTTP_FORM_PLAIN;
		if (ashttp_parse_plain(query, len, req_r, err_r) < 0)
			return -1;
	}
	if (ashttp_apply_headers(headers, req_r, err_r) < 0)
		return -1;
	if (!eas_cmd_in_version(req_r->cmd, req_r->version))
		return ashttp_fail(err_r, ASHTTP_ERR_CMD_VERSION,
				   "%s is not part of protocol %s",
				   req_r->cmd->name,
				   eas_version_str(req_r->version));
	err_r->status = ASHTTP_OK;
	err_r->http_status = 0;
	return 0;
}
