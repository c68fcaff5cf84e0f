/*
 * The INI configuration file shared by easd-mailbox, easd-cas and easctl
 * (default /etc/easd/easd.conf).  Sections in [brackets], `key = value`
 * lines, `#` or `;` comments, surrounding white space trimmed.  Unknown
 * keys are kept (each daemon reads its own section); a malformed line is an
 * error naming the file and line.
 */
#ifndef EASD_PROTO_CONF_H
#define EASD_PROTO_CONF_H

#include <stdbool.h>
#include <stdint.h>

#define CONF_DEFAULT_PATH "/etc/easd/easd.conf"

struct conf;

/* Parse a file; on failure *error_r is a malloc'd message to free(). */
int conf_load(const char *path, struct conf **conf_r, char **error_r);
/* Parse text already in memory (tests, embedded defaults). */
int conf_parse(const char *text, const char *name, struct conf **conf_r,
	       char **error_r);
void conf_free(struct conf **conf);

/* The value of [section] key, or def when absent.  The string is owned by
 * the conf and lives as long as it. */
const char *conf_get(const struct conf *conf, const char *section,
		     const char *key, const char *def);
/* Integer value with bounds; -1 with *error_r (malloc'd) when present but
 * not an integer in [min, max]. */
int conf_get_int(const struct conf *conf, const char *section, const char *key,
		 int64_t def, int64_t min, int64_t max, int64_t *value_r,
		 char **error_r);
/* Boolean: yes/no, true/false, on/off, 1/0. */
int conf_get_bool(const struct conf *conf, const char *section, const char *key,
		  bool def, bool *value_r, char **error_r);

#endif
