/*
 * HTTP Basic authentication for easd-cas: the Authorization header parser,
 * the credential cache and the failed-login throttle.  The password check
 * itself belongs to the mailbox (over RPC); the CAS reaches it through an
 * asynchronous verifier callback and caches successes for auth_cache_ttl
 * seconds under an HMAC-SHA256 of login and password (random per-process
 * key), so no plaintext password outlives the request and a Ping storm
 * calls the verifier once.  Failures are counted per (user, client IP) and
 * per client IP with exponential backoff.  Every table is bounded
 * (CAS_AUTH_*_MAX_ENTRIES, least recently used evicted) and locked
 * internally: any thread may call.  Time is passed in (monotonic seconds)
 * so tests inject it.
 */
#ifndef EASD_CAS_AUTH_H
#define EASD_CAS_AUTH_H

#include "proto/limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAS_AUTH_DIGEST_BYTES 32
#define CAS_AUTH_DEFAULT_CACHE_TTL_S 300

/* Failed logins tolerated per (user, IP) and per IP before backoff starts;
 * the per-IP allowance is larger because many devices share a carrier NAT.
 * A counter is forgotten after CAS_AUTH_WINDOW_S without a failure. */
#define CAS_AUTH_FREE_FAILURES_USER_IP 5u
#define CAS_AUTH_FREE_FAILURES_IP 20u
#define CAS_AUTH_WINDOW_S 900u
/* Backoff after the allowance: 1, 2, 4, ... seconds, capped. */
#define CAS_AUTH_MAX_BACKOFF_S 900u

/* Decoded Basic credentials, all UTF-8 and NUL-terminated.  Wipe with
 * cas_credentials_wipe() once used (style rule 17). */
struct cas_credentials {
	char login[CAS_AUTH_MAX_LOGIN_BYTES + 1];  /* as typed */
	char user[CAS_AUTH_MAX_LOGIN_BYTES + 1];   /* without domain */
	char domain[CAS_AUTH_MAX_LOGIN_BYTES + 1]; /* "" when none */
	char password[CAS_AUTH_MAX_PASSWORD_BYTES + 1];
	bool latin1; /* bytes were not UTF-8 and were read as ISO-8859-1 */
};

/* Parse an Authorization header value ("Basic <base64>"; RFC 7617).  The
 * login may be `user`, `user@domain` or `DOMAIN\user`.  Credentials that
 * are not valid UTF-8 are converted from ISO-8859-1 (Outlook desktop).  -1
 * with a static *error_r for anything malformed or over the limits. */
int cas_auth_parse_basic(const uint8_t *value, size_t len,
			 struct cas_credentials *cred_r, const char **error_r);
void cas_credentials_wipe(struct cas_credentials *cred);

/* Asynchronous verifier (the mailbox over RPC).  verify() must copy what
 * it needs before returning and call done(cookie, result) exactly once,
 * from any thread, possibly before verify() returns; it returns -1 when
 * the check could not even start (done is then never called).  Unknown
 * users and wrong passwords must both be CAS_AUTH_DENIED. */
enum cas_auth_result {
	CAS_AUTH_OK = 0,
	CAS_AUTH_DENIED,
	CAS_AUTH_UNAVAILABLE, /* the mailbox could not answer */
};
typedef void cas_auth_done_fn(void *cookie, enum cas_auth_result result);
struct cas_auth_verifier {
	int (*verify)(void *ctx, const char *login, const char *password,
		      cas_auth_done_fn *done, void *cookie);
	void *ctx;
};

struct cas_auth;

int cas_auth_new(unsigned cache_ttl_s, struct cas_auth **auth_r);
void cas_auth_free(struct cas_auth **auth);

/* HMAC-SHA256(process key, login NUL password): the cache key. */
void cas_auth_digest(const struct cas_auth *auth,
		     const struct cas_credentials *cred,
		     uint8_t digest_r[CAS_AUTH_DIGEST_BYTES]);
/* True when these credentials were verified less than the TTL ago. */
bool cas_auth_cache_lookup(struct cas_auth *auth,
			   const uint8_t digest[CAS_AUTH_DIGEST_BYTES],
			   uint64_t now_s);
/* Remember a successful verification (user is kept to drop it later). */
int cas_auth_cache_add(struct cas_auth *auth,
		       const uint8_t digest[CAS_AUTH_DIGEST_BYTES],
		       const char *user, uint64_t now_s);
/* Forget every cached verification of user (compared case-insensitively
 * with the user part of the login: a password change); returns how many. */
size_t cas_auth_drop_user(struct cas_auth *auth, const char *user);

/* True when (user, ip) or ip is in backoff; *retry_after_s_r is then the
 * number of seconds to announce in Retry-After. */
bool cas_auth_throttled(struct cas_auth *auth, const char *user, const char *ip,
			uint64_t now_s, unsigned *retry_after_s_r);
void cas_auth_record_failure(struct cas_auth *auth, const char *user,
			     const char *ip, uint64_t now_s);
/* A good login clears the (user, ip) counter; the per-IP one stays. */
void cas_auth_record_success(struct cas_auth *auth, const char *user,
			     const char *ip, uint64_t now_s);
/* Drop expired cache entries and forgotten counters; returns how many. */
size_t cas_auth_sweep(struct cas_auth *auth, uint64_t now_s);
/* Entries held (cache, throttle): for tests and statistics. */
void cas_auth_counts(struct cas_auth *auth, size_t *cache_r,
		     size_t *throttle_r);

#endif
