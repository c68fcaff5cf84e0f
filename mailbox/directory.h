/*
 * The directory database (data_dir/directory.db): users with their login,
 * password hash, creation time, disabled flag and contact fields (the
 * global address list's names and phones); their e-mail addresses
 * (many per user, each unique); device access rules and the default access
 * level; policies (name -> serialized text, a default one, per-user
 * assignment).  Devices are in devices.h.  The directory is shared by all
 * shards: every handle belongs to one thread, like a user store.
 */
#ifndef EASD_MAILBOX_DIRECTORY_H
#define EASD_MAILBOX_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox/store.h"

struct store_dir;

int store_dir_open(const char *data_dir, struct store_dir **dir_r,
		   struct store_error *error_r);
void store_dir_close(struct store_dir **dir);
const struct store_error *store_dir_last_error(const struct store_dir *dir);
int store_dir_check(struct store_dir *dir);

/*
 * A user's contact fields for the global address list: the GAL code
 * page's properties (MS-ASWBXML 2.1.2.1.17, MS-ASCMD 2.2.3.139.3 Search
 * Properties).  Indexed by enum dir_contact_field; NULL: not set.  Names
 * are UTF-8 without control characters, at most DIR_MAX_NAME_BYTES; the
 * alias is RFC 5322 atom characters and dots (a mail nickname); phones
 * are digits and separators, at most DIR_MAX_PHONE_BYTES
 * (proto/limits.h).
 */
enum dir_contact_field {
	DIR_CONTACT_DISPLAY_NAME = 0,
	DIR_CONTACT_FIRST_NAME,
	DIR_CONTACT_LAST_NAME,
	DIR_CONTACT_TITLE,
	DIR_CONTACT_COMPANY,
	DIR_CONTACT_OFFICE,
	DIR_CONTACT_PHONE,
	DIR_CONTACT_MOBILE_PHONE,
	DIR_CONTACT_HOME_PHONE,
	DIR_CONTACT_ALIAS,
	DIR_CONTACT_FIELDS
};

#define DIR_CONTACT_ALL ((1u << DIR_CONTACT_FIELDS) - 1u)

struct dir_contact {
	char *f[DIR_CONTACT_FIELDS];
};

void dir_contact_clear(struct dir_contact *c);
/* The field's name for messages ("display name", "mobile phone"). */
const char *dir_contact_field_label(enum dir_contact_field field);
/*
 * Checks the fields named by mask (bit 1 << field); NULL or "" (clear
 * the field) is always valid.  -1 with STORE_INVALID and a readable
 * message naming the field in *error_r.
 */
int dir_contact_validate(const struct dir_contact *c, unsigned mask,
			 struct store_error *error_r);

struct dir_user {
	int64_t id;
	char *login;
	int64_t created; /* unix seconds */
	bool disabled;
	char *policy; /* assigned policy name, NULL: the default */
	struct dir_contact contact;
	size_t photo_bytes; /* 0: no photo */
};

void dir_user_clear(struct dir_user *u);
/* Frees an array of strings and sets it NULL. */
void dir_strings_free(char ***strs, size_t count);

/* STORE_EXISTS if the login is taken; the password is hashed here. */
int store_dir_user_add(struct store_dir *dir, const char *login,
		       const char *password, int64_t now, int64_t *id_r);
/* Deletes the user with addresses and devices (the caller removes the
 * user's database with store_user_remove). */
int store_dir_user_del(struct store_dir *dir, int64_t id);
int store_dir_user_get(struct store_dir *dir, int64_t id, struct dir_user *u_r);
/* By login name or by any of the user's addresses (case-insensitive). */
int store_dir_user_find(struct store_dir *dir, const char *name,
			struct dir_user *u_r);
int store_dir_user_list(struct store_dir *dir, struct dir_user **users_r,
			size_t *count_r);
void dir_user_list_free(struct dir_user **users, size_t count);
int store_dir_user_set_password(struct store_dir *dir, int64_t id,
				const char *password);
/* Imports an existing crypt(3) hash (from /etc/shadow or Dovecot). */
int store_dir_user_set_password_hash(struct store_dir *dir, int64_t id,
				     const char *hash);
int store_dir_user_set_disabled(struct store_dir *dir, int64_t id,
				bool disabled);
/* Sets the contact fields named by mask (1 << enum dir_contact_field) to
 * c's values, NULL or "" clearing one; the others keep theirs.  One
 * statement: all or nothing.  STORE_INVALID (dir_contact_validate),
 * STORE_NOT_FOUND. */
int store_dir_user_set_contact(struct store_dir *dir, int64_t id,
			       const struct dir_contact *c, unsigned mask);
/* The user's photo for GAL Picture (MS-ASCMD 2.2.3.135): a JPEG or PNG
 * of at most DIR_MAX_PHOTO_BYTES (STORE_INVALID otherwise, with a
 * readable message); len 0 removes it.  STORE_NOT_FOUND: no such user. */
int store_dir_user_set_photo(struct store_dir *dir, int64_t id,
			     const uint8_t *data, size_t len);
/* The photo in a malloc'd *data_r; STORE_NOT_FOUND when there is none. */
int store_dir_user_photo(struct store_dir *dir, int64_t id, uint8_t **data_r,
			 size_t *len_r);
/*
 * Checks credentials.  STORE_DENIED for an unknown user, a wrong password
 * or a disabled user alike, after the same hashing work (an unknown user
 * is verified against a dummy hash), so the answer's timing does not tell
 * which (reliability.md "identical response and timing").
 */
int store_dir_authenticate(struct store_dir *dir, const char *login,
			   const char *password, int64_t *id_r);

/* Addresses: STORE_EXISTS if another user (or this one) has it. */
int store_dir_address_add(struct store_dir *dir, int64_t user_id,
			  const char *address);
int store_dir_address_del(struct store_dir *dir, const char *address);
int store_dir_address_list(struct store_dir *dir, int64_t user_id,
			   char ***addrs_r, size_t *count_r);

/* Policies: a name and its serialized settings (policy/ defines the
 * text); at most one is the default. */
int store_dir_policy_set(struct store_dir *dir, const char *name,
			 const char *body);
int store_dir_policy_get(struct store_dir *dir, const char *name,
			 char **body_r);
int store_dir_policy_del(struct store_dir *dir, const char *name);
int store_dir_policy_list(struct store_dir *dir, char ***names_r,
			  size_t *count_r);
/* NULL: no default policy (the device demands nothing). */
int store_dir_policy_set_default(struct store_dir *dir, const char *name);
/* NULL: back to the default. */
int store_dir_user_set_policy(struct store_dir *dir, int64_t user_id,
			      const char *name);
/* The user's policy, else the default; STORE_NOT_FOUND if neither. */
int store_dir_policy_for_user(struct store_dir *dir, int64_t user_id,
			      char **name_r, char **body_r);

/* Device access levels (Exchange ActiveSync device access states). */
enum dir_access {
	DIR_ACCESS_ALLOW = 0,
	DIR_ACCESS_BLOCK = 1,
	DIR_ACCESS_QUARANTINE = 2,
};

enum dir_rule_kind {
	DIR_RULE_DEVICE_TYPE = 1,
	DIR_RULE_MODEL = 2,
	DIR_RULE_OS = 3,
	DIR_RULE_USER_AGENT = 4,
};

struct dir_rule {
	int64_t id;
	enum dir_rule_kind kind;
	char *pattern; /* fnmatch(3) glob, case-insensitive */
	enum dir_access level;
};

int store_dir_rule_add(struct store_dir *dir, enum dir_rule_kind kind,
		       const char *pattern, enum dir_access level,
		       int64_t *id_r);
int store_dir_rule_del(struct store_dir *dir, int64_t id);
/* Rules in evaluation order (oldest first). */
int store_dir_rule_list(struct store_dir *dir, struct dir_rule **rules_r,
			size_t *count_r);
void dir_rule_list_free(struct dir_rule **rules, size_t count);
int store_dir_default_access_set(struct store_dir *dir, enum dir_access level);
int store_dir_default_access_get(struct store_dir *dir,
				 enum dir_access *level_r);

/*
 * The global address list (EAS Search Store "GAL", Find
 * GALSearchCriterion): enabled users of whom the display name, first
 * name, last name, alias, login or any address starts with prefix, or
 * whose first and last names start with the two words of a "first last"
 * or "last first" prefix (Exchange's ambiguous name resolution, by
 * prefix; case-insensitive; LIKE's '%' and '_' are only text), ordered
 * by display name.  Skips `first` matches and returns at most max in
 * *entries_r (free with dir_gal_entries_free), with the number of all
 * matches in *total_r.  STORE_INVALID for an empty prefix.
 */
struct dir_gal_entry {
	int64_t id;
	size_t photo_bytes; /* 0: no photo (store_dir_user_photo loads it) */
	char *login;
	char *address; /* the primary (first) address, "" if none */
	/* The display name, else the primary address's local part, else
	 * the login: never empty. */
	char *display_name;
	struct dir_contact contact; /* as stored (NULL: not set) */
};

int store_dir_gal_search(struct store_dir *dir, const char *prefix,
			 size_t first, size_t max,
			 struct dir_gal_entry **entries_r, size_t *count_r,
			 size_t *total_r);
void dir_gal_entries_free(struct dir_gal_entry **entries, size_t count);

#endif
