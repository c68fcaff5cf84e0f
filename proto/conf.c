/*
 * INI parser for easd.conf; see conf.h.  Entries are kept in file order in
 * one array; a later duplicate key overrides an earlier one (lookups scan
 * from the end).  Files are small, so linear lookups are fine.
 */
#include "proto/conf.h"

#include "proto/buf.h"
#include "proto/limits.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct conf_entry {
	char *section;
	char *key;
	char *value;
};

struct conf {
	struct conf_entry *entries;
	size_t count;
};

static char *conf_errorf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *
conf_errorf(const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b, CONF_MAX_LINE_BYTES * 2);
	va_start(ap, fmt);
	if (buf_vprintf(&b, fmt, ap) != 0) {
		va_end(ap);
		buf_free(&b);
		return strdup("configuration error");
	}
	va_end(ap);
	return (char *)buf_steal(&b, NULL);
}

static char *
trim(char *s)
{
	char *end;

	while (*s != 0 && isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = 0;
	return s;
}

static int
conf_add(struct conf *conf, const char *section, const char *key,
	 const char *value)
{
	struct conf_entry *e;

	if (conf->count >= CONF_MAX_ENTRIES)
		return -1;
	e = realloc(conf->entries, (conf->count + 1) * sizeof(*e));
	if (e == NULL)
		return -1;
	conf->entries = e;
	e = &conf->entries[conf->count];
	e->section = strdup(section);
	e->key = strdup(key);
	e->value = strdup(value);
	if (e->section == NULL || e->key == NULL || e->value == NULL) {
		free(e->section);
		free(e->key);
		free(e->value);
		return -1;
	}
	conf->count++;
	return 0;
}

int
conf_parse(const char *text, const char *name, struct conf **conf_r,
	   char **error_r)
{
	struct conf *conf = calloc(1, sizeof(*conf));
	char section[CONF_MAX_LINE_BYTES] = "";
	char line[CONF_MAX_LINE_BYTES + 1];
	const char *p = text;
	unsigned lineno = 0;

	*error_r = NULL;
	if (conf == NULL) {
		*error_r = strdup("out of memory");
		return -1;
	}
	while (*p != 0) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char *s, *eq;

		lineno++;
		if (len > CONF_MAX_LINE_BYTES) {
			*error_r =
			    conf_errorf("%s:%u: line longer than %u bytes",
					name, lineno, CONF_MAX_LINE_BYTES);
			goto fail;
		}
		memcpy(line, p, len);
		line[len] = 0;
		p = nl != NULL ? nl + 1 : p + len;
		s = trim(line);
		if (*s == 0 || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');

			if (close == NULL || trim(close + 1)[0] != 0) {
				*error_r = conf_errorf(
				    "%s:%u: malformed section header", name,
				    lineno);
				goto fail;
			}
			*close = 0;
			snprintf(section, sizeof(section), "%s", trim(s + 1));
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			*error_r = conf_errorf("%s:%u: expected 'key = value'",
					       name, lineno);
			goto fail;
		}
		*eq = 0;
		if (*trim(s) == 0) {
			*error_r =
			    conf_errorf("%s:%u: empty key", name, lineno);
			goto fail;
		}
		if (conf_add(conf, section, trim(s), trim(eq + 1)) != 0) {
			*error_r = conf_errorf("%s:%u: too many entries", name,
					       lineno);
			goto fail;
		}
	}
	*conf_r = conf;
	return 0;
fail:
	conf_free(&conf);
	return -1;
}

int
conf_load(const char *path, struct conf **conf_r, char **error_r)
{
	FILE *f = fopen(path, "r");
	struct buf b;
	char chunk[4096];
	size_t n;
	int ret;

	if (f == NULL) {
		*error_r =
		    conf_errorf("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	buf_init(&b, (size_t)CONF_MAX_ENTRIES * CONF_MAX_LINE_BYTES);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) != 0) {
			fclose(f);
			buf_free(&b);
			*error_r = conf_errorf("%s: file too large", path);
			return -1;
		}
	}
	fclose(f);
	ret = conf_parse(buf_str(&b), path, conf_r, error_r);
	buf_free(&b);
	return ret;
}

void
conf_free(struct conf **conf)
{
	if (*conf == NULL)
		return;
	for (size_t i = 0; i < (*conf)->count; i++) {
		free((*conf)->entries[i].section);
		free((*conf)->entries[i].key);
		free((*conf)->entries[i].value);
	}
	free((*conf)->entries);
	free(*conf);
	*conf = NULL;
}

const char *
conf_get(const struct conf *conf, const char *section, const char *key,
	 const char *def)
{
	for (size_t i = conf->count; i > 0; i--) {
		const struct conf_entry *e = &conf->entries[i - 1];

		if (strcmp(e->section, section) == 0 &&
		    strcmp(e->key, key) == 0)
			return e->value;
	}
	return def;
}

int
conf_get_int(const struct conf *conf, const char *section, const char *key,
	     int64_t def, int64_t min, int64_t max, int64_t *value_r,
	     char **error_r)
{
	const char *s = conf_get(conf, section, key, NULL);
	char *end;
	long long v;

	if (s == NULL) {
		*value_r = def;
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != 0 || v < min || v > max) {
		*error_r = conf_errorf("[%s] %s = %s: expected an integer from "
				       "%lld to %lld",
				       section, key, s, (long long)min,
				       (long long)max);
		return -1;
	}
	*value_r = v;
	return 0;
}

int
conf_get_bool(const struct conf *conf, const char *section, const char *key,
	      bool def, bool *value_r, char **error_r)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	const char *s = conf_get(conf, section, key, NULL);

	if (s == NULL) {
		*value_r = def;
		return 0;
	}
	for (unsigned i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*value_r = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*value_r = false;
			return 0;
		}
	}
	*error_r =
	    conf_errorf("[%s] %s = %s: expected yes or no", section, key, s);
	return -1;
}
