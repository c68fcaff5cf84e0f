/*
 * The policy setting table and struct policy (see policy.h).  Ranges come
 * from MS-ASPROV 2.2.2.x where the spec gives one; where it gives only a
 * type, the bound is Exchange's (Set-MobileDeviceMailboxPolicy) and says
 * so.  Defaults are those of Exchange's "Default" mobile device mailbox
 * policy: nothing demanded, everything allowed, no limit set.
 */
#include "policy/policy.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#define V120 EAS_VERSION_12_0
#define V121 EAS_VERSION_12_1

/* MS-ASPROV 2.2.2.30: 0 all, 4 two weeks, 5 one month, 6 three months,
 * 7 six months. */
static const int64_t policy_calendar_filters[] = {0, 4, 5, 6, 7};

#define BOOL_SETTING(id, name, def, since)    \
	[id] = {id,  name,  POLICY_TYPE_BOOL, \
		0,   1,     NULL,             \
		0,   false, true,             \
		def, since, NULL,             \
		NULL}
#define INT_SETTING(id, name, lo, hi, def, since)                       \
	[id] = {id,   name, POLICY_TYPE_INT, lo,   hi,  NULL, 0, false, \
		true, def,  since,           NULL, NULL}
#define OPT_SETTING(id, name, lo, hi, since, empty)                      \
	[id] = {id,    name, POLICY_TYPE_INT, lo,   hi,   NULL, 0, true, \
		false, 0,    since,           NULL, empty}
#define LIST_SETTING(id, name, item, since)   \
	[id] = {id,  name,  POLICY_TYPE_LIST, \
		0,   0,     NULL,             \
		0,   false, true,             \
		0,   since, item,             \
		NULL}

static const struct policy_setting policy_table[POLICY_COUNT] = {
    /* 2.2.2.25 */
    BOOL_SETTING(POLICY_DEVICE_PASSWORD_ENABLED, "DevicePasswordEnabled", 0,
		 V120),
    /* 2.2.2.20 */
    BOOL_SETTING(POLICY_ALPHANUMERIC_DEVICE_PASSWORD_REQUIRED,
		 "AlphanumericDevicePasswordRequired", 0, V120),
    BOOL_SETTING(POLICY_REQUIRE_STORAGE_CARD_ENCRYPTION,
		 "RequireStorageCardEncryption", 0, V120),
    BOOL_SETTING(POLICY_PASSWORD_RECOVERY_ENABLED, "PasswordRecoveryEnabled", 0,
		 V120),
    BOOL_SETTING(POLICY_ATTACHMENTS_ENABLED, "AttachmentsEnabled", 1, V120),
    /* 2.2.2.38: empty or 1..16 */
    OPT_SETTING(POLICY_MIN_DEVICE_PASSWORD_LENGTH, "MinDevicePasswordLength", 1,
		16, V120, "no minimum"),
    /* 2.2.2.36: seconds; 9999 and above mean unlimited */
    OPT_SETTING(POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK,
		"MaxInactivityTimeDeviceLock", 1, 9999, V120, "no lock"),
    /* 2.2.2.32: empty or 4..16 */
    OPT_SETTING(POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS,
		"MaxDevicePasswordFailedAttempts", 4, 16, V120, "no maximum"),
    /* bytes, unsignedIntOrEmpty */
    OPT_SETTING(POLICY_MAX_ATTACHMENT_SIZE, "MaxAttachmentSize", 1,
		INT64_C(4294967295), V120, "no limit"),
    BOOL_SETTING(POLICY_ALLOW_SIMPLE_DEVICE_PASSWORD,
		 "AllowSimpleDevicePassword", 1, V120),
    /* days; the spec gives only unsignedIntOrEmpty, Exchange 1..730 */
    OPT_SETTING(POLICY_DEVICE_PASSWORD_EXPIRATION, "DevicePasswordExpiration",
		1, 730, V120, "never expires"),
    /* Exchange's bound 0..50 */
    INT_SETTING(POLICY_DEVICE_PASSWORD_HISTORY, "DevicePasswordHistory", 0, 50,
		0, V120),
    BOOL_SETTING(POLICY_ALLOW_STORAGE_CARD, "AllowStorageCard", 1, V121),
    BOOL_SETTING(POLICY_ALLOW_CAMERA, "AllowCamera", 1, V121),
    BOOL_SETTING(POLICY_REQUIRE_DEVICE_ENCRYPTION, "RequireDeviceEncryption", 0,
		 V121),
    BOOL_SETTING(POLICY_ALLOW_UNSIGNED_APPLICATIONS,
		 "AllowUnsignedApplications", 1, V121),
    BOOL_SETTING(POLICY_ALLOW_UNSIGNED_INSTALLATION_PACKAGES,
		 "AllowUnsignedInstallationPackages", 1, V121),
    /* 2.2.2.37: 1..4 character groups */
    INT_SETTING(POLICY_MIN_DEVICE_PASSWORD_COMPLEX_CHARACTERS,
		"MinDevicePasswordComplexCharacters", 1, 4, 1, V121),
    BOOL_SETTING(POLICY_ALLOW_WIFI, "AllowWiFi", 1, V121),
    BOOL_SETTING(POLICY_ALLOW_TEXT_MESSAGING, "AllowTextMessaging", 1, V121),
    BOOL_SETTING(POLICY_ALLOW_POPIMAP_EMAIL, "AllowPOPIMAPEmail", 1, V121),
    /* 0 disabled, 1 hands-free only, 2 allowed */
    INT_SETTING(POLICY_ALLOW_BLUETOOTH, "AllowBluetooth", 0, 2, 2, V121),
    BOOL_SETTING(POLICY_ALLOW_IRDA, "AllowIrDA", 1, V121),
    BOOL_SETTING(POLICY_REQUIRE_MANUAL_SYNC_WHEN_ROAMING,
		 "RequireManualSyncWhenRoaming", 0, V121),
    BOOL_SETTING(POLICY_ALLOW_DESKTOP_SYNC, "AllowDesktopSync", 1, V121),
    [POLICY_MAX_CALENDAR_AGE_FILTER] = {POLICY_MAX_CALENDAR_AGE_FILTER,
					"MaxCalendarAgeFilter",
					POLICY_TYPE_ENUM, 0, 7,
					policy_calendar_filters,
					sizeof(policy_calendar_filters) /
					    sizeof(policy_calendar_filters[0]),
					false, true, 0, V121, NULL, NULL},
    BOOL_SETTING(POLICY_ALLOW_HTML_EMAIL, "AllowHTMLEmail", 1, V121),
    /* 0 all, 1 one day, 2 three days, 3 one week, 4 two weeks, 5 month */
    INT_SETTING(POLICY_MAX_EMAIL_AGE_FILTER, "MaxEmailAgeFilter", 0, 5, 0,
		V121),
    /* KB; -1 no truncation, 0 headers only */
    INT_SETTING(POLICY_MAX_EMAIL_BODY_TRUNCATION_SIZE,
		"MaxEmailBodyTruncationSize", -1, INT32_MAX, -1, V121),
    INT_SETTING(POLICY_MAX_EMAIL_HTML_BODY_TRUNCATION_SIZE,
		"MaxEmailHTMLBodyTruncationSize", -1, INT32_MAX, -1, V121),
    BOOL_SETTING(POLICY_REQUIRE_SIGNED_SMIME_MESSAGES,
		 "RequireSignedSMIMEMessages", 0, V121),
    BOOL_SETTING(POLICY_REQUIRE_ENCRYPTED_SMIME_MESSAGES,
		 "RequireEncryptedSMIMEMessages", 0, V121),
    /* 0 SHA1, 1 MD5 */
    INT_SETTING(POLICY_REQUIRE_SIGNED_SMIME_ALGORITHM,
		"RequireSignedSMIMEAlgorithm", 0, 1, 0, V121),
    /* 0 TripleDES, 1 DES, 2 RC2 128, 3 RC2 64, 4 RC2 40 */
    INT_SETTING(POLICY_REQUIRE_ENCRYPTION_SMIME_ALGORITHM,
		"RequireEncryptionSMIMEAlgorithm", 0, 4, 0, V121),
    /* 0 none, 1 strong only, 2 any */
    INT_SETTING(POLICY_ALLOW_SMIME_ENCRYPTION_ALGORITHM_NEGOTIATION,
		"AllowSMIMEEncryptionAlgorithmNegotiation", 0, 2, 2, V121),
    BOOL_SETTING(POLICY_ALLOW_SMIME_SOFT_CERTS, "AllowSMIMESoftCerts", 1, V121),
    BOOL_SETTING(POLICY_ALLOW_BROWSER, "AllowBrowser", 1, V121),
    BOOL_SETTING(POLICY_ALLOW_CONSUMER_EMAIL, "AllowConsumerEmail", 1, V121),
    BOOL_SETTING(POLICY_ALLOW_REMOTE_DESKTOP, "AllowRemoteDesktop", 1, V121),
    BOOL_SETTING(POLICY_ALLOW_INTERNET_SHARING, "AllowInternetSharing", 1,
		 V121),
    LIST_SETTING(POLICY_UNAPPROVED_IN_ROM_APPLICATION_LIST,
		 "UnapprovedInROMApplicationList", "ApplicationName", V121),
    LIST_SETTING(POLICY_APPROVED_APPLICATION_LIST, "ApprovedApplicationList",
		 "Hash", V121),
    /*
     * Exchange's AllowNonProvisionableDevices: a device that never sends
     * a policy key (Outlook desktop) may still sync.  True by default,
     * like the rest of the permissive default.
     */
    BOOL_SETTING(POLICY_ALLOW_NON_PROVISIONABLE_DEVICES,
		 "AllowNonProvisionableDevices", 1, EAS_VERSION_NONE),
};

const struct policy_setting *
policy_settings(void)
{
	return policy_table;
}

const struct policy_setting *
policy_setting_by_name(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < POLICY_COUNT; i++) {
		if (strlen(policy_table[i].name) == len &&
		    strncasecmp(policy_table[i].name, name, len) == 0)
			return &policy_table[i];
	}
	return NULL;
}

static int policy_fail(struct policy_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
policy_fail(struct policy_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

static void
policy_items_free(struct policy_value *v)
{
	size_t i;

	for (i = 0; i < v->n_items; i++)
		free(v->items[i]);
	free(v->items);
	v->items = NULL;
	v->n_items = 0;
}

static void
policy_reset(struct policy *p)
{
	size_t i;

	for (i = 0; i < POLICY_COUNT; i++) {
		policy_items_free(&p->v[i]);
		p->v[i].set = policy_table[i].default_set;
		p->v[i].num = policy_table[i].default_value;
	}
}

struct policy *
policy_new(void)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	policy_reset(p);
	return p;
}

void
policy_free(struct policy **p)
{
	size_t i;

	if (p == NULL || *p == NULL)
		return;
	for (i = 0; i < POLICY_COUNT; i++)
		policy_items_free(&(*p)->v[i]);
	free(*p);
	*p = NULL;
}

/* Duplicate an item list; 0 or -1 (out of memory, dst left empty). */
static int
policy_items_dup(const struct policy_value *src, struct policy_value *dst)
{
	size_t i;

	dst->items = NULL;
	dst->n_items = 0;
	if (src->n_items == 0)
		return 0;
	dst->items = calloc(src->n_items, sizeof(char *));
	if (dst->items == NULL)
		return -1;
	for (i = 0; i < src->n_items; i++) {
		dst->items[i] = strdup(src->items[i]);
		if (dst->items[i] == NULL) {
			dst->n_items = i;
			policy_items_free(dst);
			return -1;
		}
	}
	dst->n_items = src->n_items;
	return 0;
}

int
policy_copy(const struct policy *src, struct policy **dst_r)
{
	struct policy *p = policy_new();
	size_t i;

	if (p == NULL)
		return -1;
	for (i = 0; i < POLICY_COUNT; i++) {
		p->v[i].set = src->v[i].set;
		p->v[i].num = src->v[i].num;
		if (policy_items_dup(&src->v[i], &p->v[i]) < 0) {
			policy_free(&p);
			return -1;
		}
	}
	*dst_r = p;
	return 0;
}

/* Decimal integer, optional leading '-', nothing else; -1 on junk or
 * overflow of int64_t. */
static int
policy_parse_int(const char *s, int64_t *v_r)
{
	char *end;
	long long v;

	if (s[0] == '\0' || s[0] == '+' || s[0] == ' ')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v_r = v;
	return 0;
}

/* The range part of an error message: "1..16 (or empty for no minimum)". */
static int
policy_range_fail(const struct policy_setting *s, struct policy_error *err)
{
	char allowed[64] = "";
	size_t i, n = 0;

	switch (s->type) {
	case POLICY_TYPE_BOOL:
		return policy_fail(err, "%s must be 0 or 1", s->name);
	case POLICY_TYPE_ENUM:
		for (i = 0; i < s->n_allowed && n < sizeof(allowed); i++)
			n += (size_t)snprintf(allowed + n, sizeof(allowed) - n,
					      "%s%lld", i > 0 ? ", " : "",
					      (long long)s->allowed[i]);
		return policy_fail(err, "%s must be one of %s", s->name,
				   allowed);
	case POLICY_TYPE_INT:
		if (s->optional)
			return policy_fail(err,
					   "%s must be %lld..%lld (or empty "
					   "for %s)",
					   s->name, (long long)s->min,
					   (long long)s->max, s->empty_means);
		return policy_fail(err, "%s must be %lld..%lld", s->name,
				   (long long)s->min, (long long)s->max);
	case POLICY_TYPE_LIST:
		break;
	}
	return policy_fail(err, "%s has an invalid value", s->name);
}

/* Split "a,b,c" into a fresh list; empty text is the empty list. */
static int
policy_parse_list(const struct policy_setting *s, const char *value,
		  struct policy_value *out, struct policy_error *err)
{
	const char *pos = value, *comma;
	size_t len, i, n = 0;
	char **items = NULL;

	out->items = NULL;
	out->n_items = 0;
	if (value[0] == '\0')
		return 0;
	/* count first so that the bound is checked before allocating */
	for (i = 0, n = 1; value[i] != '\0'; i++) {
		if (value[i] == ',')
			n++;
	}
	if (n > POLICY_MAX_LIST_ITEMS)
		return policy_fail(err, "%s has more than %d items", s->name,
				   POLICY_MAX_LIST_ITEMS);
	items = calloc(n, sizeof(char *));
	if (items == NULL)
		return policy_fail(err, "out of memory");
	for (i = 0; i < n; i++) {
		size_t k;

		comma = strchr(pos, ',');
		len = comma != NULL ? (size_t)(comma - pos) : strlen(pos);
		if (len == 0 || len > POLICY_MAX_ITEM_BYTES) {
			(void)policy_fail(err,
					  "%s items must be 1..%d characters",
					  s->name, POLICY_MAX_ITEM_BYTES);
			goto fail;
		}
		for (k = 0; k < len; k++) {
			if ((unsigned char)pos[k] < 0x20 || pos[k] == 0x7f) {
				(void)policy_fail(err,
						  "%s items must not contain "
						  "control characters",
						  s->name);
				goto fail;
			}
		}
		items[i] = strndup(pos, len);
		if (items[i] == NULL) {
			(void)policy_fail(err, "out of memory");
			goto fail;
		}
		pos += len + 1;
	}
	out->items = items;
	out->n_items = n;
	return 0;
fail:
	for (i = 0; i < n; i++)
		free(items[i]);
	free(items);
	return -1;
}

int
policy_set(struct policy *p, const char *name, const char *value,
	   struct policy_error *err_r)
{
	const struct policy_setting *s;
	struct policy_value nv = {false, 0, NULL, 0};
	int64_t v;
	size_t i;

	s = policy_setting_by_name(name, strlen(name));
	if (s == NULL)
		return policy_fail(err_r, "unknown policy setting \"%.64s\"",
				   name);
	switch (s->type) {
	case POLICY_TYPE_LIST:
		if (policy_parse_list(s, value, &nv, err_r) < 0)
			return -1;
		nv.set = true;
		break;
	case POLICY_TYPE_BOOL:
		if (strcasecmp(value, "true") == 0)
			v = 1;
		else if (strcasecmp(value, "false") == 0)
			v = 0;
		else if (policy_parse_int(value, &v) < 0 || v < 0 || v > 1)
			return policy_range_fail(s, err_r);
		nv.set = true;
		nv.num = v;
		break;
	case POLICY_TYPE_INT:
	case POLICY_TYPE_ENUM:
		if (value[0] == '\0' && s->optional)
			break; /* empty */
		if (policy_parse_int(value, &v) < 0)
			return policy_range_fail(s, err_r);
		if (s->type == POLICY_TYPE_INT && (v < s->min || v > s->max))
			return policy_range_fail(s, err_r);
		if (s->type == POLICY_TYPE_ENUM) {
			for (i = 0; i < s->n_allowed; i++) {
				if (s->allowed[i] == v)
					break;
			}
			if (i == s->n_allowed)
				return policy_range_fail(s, err_r);
		}
		nv.set = true;
		nv.num = v;
		break;
	}
	policy_items_free(&p->v[s->id]);
	p->v[s->id] = nv;
	return 0;
}

int
policy_set_pair(struct policy *p, const char *pair, struct policy_error *err_r)
{
	const char *eq = strchr(pair, '=');
	char name[64];
	size_t len;

	if (eq == NULL)
		return policy_fail(err_r, "expected Name=value, got \"%.64s\"",
				   pair);
	len = (size_t)(eq - pair);
	if (len == 0 || len >= sizeof(name))
		return policy_fail(err_r, "unknown policy setting \"%.*s\"",
				   (int)(len < 64 ? len : 64), pair);
	memcpy(name, pair, len);
	name[len] = '\0';
	return policy_set(p, name, eq + 1, err_r);
}

bool
policy_is_set(const struct policy *p, enum policy_id id)
{
	assert(id < POLICY_COUNT);
	return p->v[id].set;
}

int64_t
policy_num(const struct policy *p, enum policy_id id)
{
	assert(id < POLICY_COUNT && policy_table[id].type != POLICY_TYPE_LIST);
	return p->v[id].num;
}

const char *const *
policy_items(const struct policy *p, enum policy_id id, size_t *n_r)
{
	assert(id < POLICY_COUNT && policy_table[id].type == POLICY_TYPE_LIST);
	*n_r = p->v[id].n_items;
	return (const char *const *)p->v[id].items;
}

int
policy_value_text(const struct policy *p, enum policy_id id, struct buf *out)
{
	const struct policy_value *v = &p->v[id];
	size_t i;

	if (policy_table[id].type == POLICY_TYPE_LIST) {
		for (i = 0; i < v->n_items; i++) {
			if ((i > 0 && buf_append_byte(out, ',') < 0) ||
			    buf_append_str(out, v->items[i]) < 0)
				return -1;
		}
		return 0;
	}
	if (!v->set)
		return 0;
	return buf_printf(out, "%lld", (long long)v->num);
}

int
policy_to_text(const struct policy *p, struct buf *out)
{
	size_t i;

	for (i = 0; i < POLICY_COUNT; i++) {
		if (buf_printf(out, "%s=", policy_table[i].name) < 0 ||
		    policy_value_text(p, (enum policy_id)i, out) < 0 ||
		    buf_append_byte(out, '\n') < 0)
			return -1;
	}
	return 0;
}

/* Prefix an error message with "line N: " (truncating its tail). */
static void
policy_prefix_line(struct policy_error *err, size_t line_no)
{
	char prefix[32];
	size_t plen, mlen;

	plen = (size_t)snprintf(prefix, sizeof(prefix), "line %zu: ", line_no);
	mlen = strnlen(err->message, sizeof(err->message) - 1);
	if (plen + mlen >= sizeof(err->message))
		mlen = sizeof(err->message) - 1 - plen;
	memmove(err->message + plen, err->message, mlen);
	memcpy(err->message, prefix, plen);
	err->message[plen + mlen] = '\0';
}

int
policy_from_text(const char *text, size_t len, struct policy **p_r,
		 struct policy_error *err_r)
{
	struct policy *p = NULL;
	bool seen[POLICY_COUNT] = {false};
	const struct policy_setting *s;
	char line[POLICY_MAX_LINE_BYTES];
	size_t pos = 0, line_no = 0, n;
	const char *eq;
	int ret = -1;

	if (len > POLICY_MAX_TEXT_BYTES)
		return policy_fail(err_r, "policy text over %u bytes",
				   POLICY_MAX_TEXT_BYTES);
	p = policy_new();
	if (p == NULL)
		return policy_fail(err_r, "out of memory");
	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);

		n = nl != NULL ? (size_t)(nl - start) : len - pos;
		pos += n + (nl != NULL ? 1 : 0);
		line_no++;
		if (n == 0)
			continue;
		if (n >= sizeof(line) || memchr(start, '\0', n) != NULL) {
			(void)policy_fail(err_r, "line %zu: too long or binary",
					  line_no);
			goto out;
		}
		memcpy(line, start, n);
		line[n] = '\0';
		eq = strchr(line, '=');
		s = eq != NULL
			? policy_setting_by_name(line, (size_t)(eq - line))
			: NULL;
		if (s != NULL && seen[s->id]) {
			(void)policy_fail(err_r, "line %zu: %s repeated",
					  line_no, s->name);
			goto out;
		}
		if (policy_set_pair(p, line, err_r) < 0) {
			if (err_r != NULL)
				policy_prefix_line(err_r, line_no);
			goto out;
		}
		if (s != NULL)
			seen[s->id] = true;
	}
	*p_r = p;
	p = NULL;
	ret = 0;
out:
	policy_free(&p);
	return ret;
}

/*
 * The hash covers only what devices receive (settings with a protocol
 * version), so that changing a server-side setting such as
 * AllowNonProvisionableDevices does not send every device back to
 * Provision with Status 143.
 */
int
policy_hash(const struct policy *p, uint8_t hash_r[POLICY_HASH_BYTES])
{
	struct buf text;
	unsigned int n = 0;
	size_t i;
	int ret = -1;

	buf_init(&text, POLICY_MAX_TEXT_BYTES * 2);
	for (i = 0; i < POLICY_COUNT; i++) {
		if (policy_table[i].since == EAS_VERSION_NONE)
			continue;
		if (buf_printf(&text, "%s=", policy_table[i].name) < 0 ||
		    policy_value_text(p, (enum policy_id)i, &text) < 0 ||
		    buf_append_byte(&text, '\n') < 0)
			goto out;
	}
	if (EVP_Digest(text.data, text.len, hash_r, &n, EVP_sha256(), NULL) !=
		1 ||
	    n != POLICY_HASH_BYTES)
		goto out;
	ret = 0;
out:
	buf_free(&text);
	return ret;
}

int
policy_hash_hex(const struct policy *p, char hex_r[2 * POLICY_HASH_BYTES + 1])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t h[POLICY_HASH_BYTES];
	size_t i;

	if (policy_hash(p, h) < 0)
		return -1;
	for (i = 0; i < POLICY_HASH_BYTES; i++) {
		hex_r[2 * i] = digits[h[i] >> 4];
		hex_r[2 * i + 1] = digits[h[i] & 15];
	}
	hex_r[2 * POLICY_HASH_BYTES] = '\0';
	return 0;
}
