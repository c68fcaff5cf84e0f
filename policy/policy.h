/*
 * Device policies: the EASProvisionDoc setting set of MS-ASPROV 2.2.2 as a
 * table (element name, type, range, permissive default, first protocol
 * version), a struct policy holding one value per setting, administrator
 * input ("Name=value", as `easctl policy set` passes it) with range checks
 * and readable errors, a stable text form for the mailbox to store, and a
 * content hash so that a changed policy is noticed (Status 143).
 *
 * Pure logic: no sockets, no SQLite, no WBXML.  The mailbox stores the
 * text form; policy/provision_doc.c turns a policy into what a Provision
 * response carries; policy/policykey.c compares hashes.
 */
#ifndef EASD_POLICY_POLICY_H
#define EASD_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/eas_cmd.h"

/* Bounds on administrator input (app lists are the only open-ended part). */
#define POLICY_MAX_LIST_ITEMS 128
#define POLICY_MAX_ITEM_BYTES 128
/* One text line holds at most a full list; the text all settings. */
#define POLICY_MAX_LINE_BYTES \
	(POLICY_MAX_LIST_ITEMS * (POLICY_MAX_ITEM_BYTES + 1) + 64)
#define POLICY_MAX_TEXT_BYTES (64u * 1024u)
#define POLICY_HASH_BYTES 32 /* SHA-256 of the text form */
#define POLICY_ERROR_BYTES 160

enum policy_type {
	POLICY_TYPE_BOOL, /* 0 or 1 (MS-ASDTYPE boolean) */
	POLICY_TYPE_INT,  /* integer in [min, max] */
	POLICY_TYPE_ENUM, /* one of the listed values */
	POLICY_TYPE_LIST, /* list of strings (application lists) */
};

/*
 * In the order of the Provision code page (MS-ASWBXML page 14), which is
 * the order the spec lists EASProvisionDoc's children in; the provisioning
 * document walks this order.  The last row is server-side only.
 */
enum policy_id {
	POLICY_DEVICE_PASSWORD_ENABLED,
	POLICY_ALPHANUMERIC_DEVICE_PASSWORD_REQUIRED,
	POLICY_REQUIRE_STORAGE_CARD_ENCRYPTION,
	POLICY_PASSWORD_RECOVERY_ENABLED,
	POLICY_ATTACHMENTS_ENABLED,
	POLICY_MIN_DEVICE_PASSWORD_LENGTH,
	POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK,
	POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS,
	POLICY_MAX_ATTACHMENT_SIZE,
	POLICY_ALLOW_SIMPLE_DEVICE_PASSWORD,
	POLICY_DEVICE_PASSWORD_EXPIRATION,
	POLICY_DEVICE_PASSWORD_HISTORY,
	POLICY_ALLOW_STORAGE_CARD,
	POLICY_ALLOW_CAMERA,
	POLICY_REQUIRE_DEVICE_ENCRYPTION,
	POLICY_ALLOW_UNSIGNED_APPLICATIONS,
	POLICY_ALLOW_UNSIGNED_INSTALLATION_PACKAGES,
	POLICY_MIN_DEVICE_PASSWORD_COMPLEX_CHARACTERS,
	POLICY_ALLOW_WIFI,
	POLICY_ALLOW_TEXT_MESSAGING,
	POLICY_ALLOW_POPIMAP_EMAIL,
	POLICY_ALLOW_BLUETOOTH,
	POLICY_ALLOW_IRDA,
	POLICY_REQUIRE_MANUAL_SYNC_WHEN_ROAMING,
	POLICY_ALLOW_DESKTOP_SYNC,
	POLICY_MAX_CALENDAR_AGE_FILTER,
	POLICY_ALLOW_HTML_EMAIL,
	POLICY_MAX_EMAIL_AGE_FILTER,
	POLICY_MAX_EMAIL_BODY_TRUNCATION_SIZE,
	POLICY_MAX_EMAIL_HTML_BODY_TRUNCATION_SIZE,
	POLICY_REQUIRE_SIGNED_SMIME_MESSAGES,
	POLICY_REQUIRE_ENCRYPTED_SMIME_MESSAGES,
	POLICY_REQUIRE_SIGNED_SMIME_ALGORITHM,
	POLICY_REQUIRE_ENCRYPTION_SMIME_ALGORITHM,
	POLICY_ALLOW_SMIME_ENCRYPTION_ALGORITHM_NEGOTIATION,
	POLICY_ALLOW_SMIME_SOFT_CERTS,
	POLICY_ALLOW_BROWSER,
	POLICY_ALLOW_CONSUMER_EMAIL,
	POLICY_ALLOW_REMOTE_DESKTOP,
	POLICY_ALLOW_INTERNET_SHARING,
	POLICY_UNAPPROVED_IN_ROM_APPLICATION_LIST,
	POLICY_APPROVED_APPLICATION_LIST,
	/* Exchange's AllowNonProvisionableDevices: not in the document. */
	POLICY_ALLOW_NON_PROVISIONABLE_DEVICES,
	POLICY_COUNT
};

struct policy_setting {
	enum policy_id id;
	const char *name; /* MS-ASPROV element name, exact spelling */
	enum policy_type type;
	int64_t min, max;       /* POLICY_TYPE_INT (BOOL: 0, 1) */
	const int64_t *allowed; /* POLICY_TYPE_ENUM values */
	size_t n_allowed;
	bool optional;           /* may be empty ("...OrEmpty" types) */
	bool default_set;        /* false: empty by default */
	int64_t default_value;   /* the permissive default */
	enum eas_version since;  /* first version with the element;
				    EAS_VERSION_NONE: server-side only */
	const char *item_name;   /* LIST: child element name */
	const char *empty_means; /* what an empty value says, for errors */
};

struct policy_value {
	bool set; /* false: empty (optional settings only) */
	int64_t num;
	char **items; /* LIST: owned strings */
	size_t n_items;
};

/* Owned by whoever created it (the mailbox cache, a CAS request). */
struct policy {
	struct policy_value v[POLICY_COUNT];
};

struct policy_error {
	char message[POLICY_ERROR_BYTES];
};

/* The table, POLICY_COUNT rows indexed by enum policy_id. */
const struct policy_setting *policy_settings(void);
/* Case-insensitive lookup (administrators type these); NULL if unknown. */
const struct policy_setting *policy_setting_by_name(const char *name,
						    size_t len);

/* A complete policy with every default: demands nothing of the device. */
struct policy *policy_new(void);
void policy_free(struct policy **p);
int policy_copy(const struct policy *src, struct policy **dst_r);

/*
 * Set one setting from text.  Empty value: "empty" for optional settings,
 * the empty list for lists, an error otherwise.  Booleans take 0/1 or
 * true/false; lists take comma-separated items (no ',' inside an item).
 * On error the policy is unchanged.
 */
int policy_set(struct policy *p, const char *name, const char *value,
	       struct policy_error *err_r);
/* The same from one "Name=value" argument. */
int policy_set_pair(struct policy *p, const char *pair,
		    struct policy_error *err_r);

/* Accessors; id must be of the right type (asserted). */
bool policy_is_set(const struct policy *p, enum policy_id id);
int64_t policy_num(const struct policy *p, enum policy_id id);
const char *const *policy_items(const struct policy *p, enum policy_id id,
				size_t *n_r);

/* Render one value as text ("" if empty, "a,b" for a list). */
int policy_value_text(const struct policy *p, enum policy_id id,
		      struct buf *out);

/*
 * The stable text form: every setting, one "Name=value\n" line, in table
 * order.  Parsing starts from the defaults, so a text written by an older
 * easd (fewer settings) still loads; unknown names and repeated names are
 * errors naming the line.
 */
int policy_to_text(const struct policy *p, struct buf *out);
int policy_from_text(const char *text, size_t len, struct policy **p_r,
		     struct policy_error *err_r);

/* SHA-256 of the text form of the settings sent to devices: equal
 * documents, equal hashes; server-side settings do not count. */
int policy_hash(const struct policy *p, uint8_t hash_r[POLICY_HASH_BYTES]);
/* The hash as 64 lowercase hex digits plus NUL. */
int policy_hash_hex(const struct policy *p,
		    char hex_r[2 * POLICY_HASH_BYTES + 1]);

#endif
