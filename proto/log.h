/*
 * Logging to stderr, one line per event, prefixed with a UTC timestamp, the
 * program name and the level.  Daemons run in the foreground under systemd
 * (or `make run`), which collects stderr.  Rule: name the user, device id
 * and command; never log passwords or message bodies (style rule 11).
 */
#ifndef EASD_PROTO_LOG_H
#define EASD_PROTO_LOG_H

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3,
};

/* Set once at start-up, before threads start. */
void log_init(const char *progname, enum log_level level);
/* Parse "error", "warn", "info" or "debug"; -1 if unknown. */
int log_level_parse(const char *name, enum log_level *level_r);
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
