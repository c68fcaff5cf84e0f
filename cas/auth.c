/*
 * Basic authentication: header parsing with charset repair, the HMAC-keyed
 * credential cache and the failure throttle; see auth.h.  Both tables are
 * one structure: a chained hash on the first bytes of an HMAC digest (keyed
 * by a random per-process secret, so a client cannot aim collisions at a
 * bucket) plus a least-recently-used list that bounds the entry count.
 */
#include "cas/auth.h"

#include <assert.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUTH_BUCKETS 16384u /* power of two */
/* A textual IPv6 address with scope fits easily. */
#define AUTH_MAX_IP_BYTES 64u

struct auth_entry {
	uint8_t key[CAS_AUTH_DIGEST_BYTES];
	struct auth_entry *hnext;
	struct auth_entry *lru_prev, *lru_next; /* head = most recent */
	/* cache */
	uint64_t expires_s;
	char *user; /* owned; cache entries only */
	/* throttle */
	unsigned failures;
	uint64_t last_failure_s;
	uint64_t blocked_until_s;
};

struct auth_table {
	struct auth_entry *buckets[AUTH_BUCKETS];
	struct auth_entry *lru_head, *lru_tail;
	size_t count, max;
};

struct cas_auth {
	pthread_mutex_t lock;
	uint8_t key[32];
	unsigned ttl_s;
	struct auth_table cache;
	struct auth_table throttle;
};

/* ---------------------------------------------------------------- parse */

static int
b64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* RFC 4648 base64; padding optional, nothing after it. */
static int
b64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_max,
	   size_t *out_len_r)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t n = 0, i, pad = 0;

	for (i = 0; i < len; i++) {
		int v;

		if (in[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0)
			return -1;
		v = b64_value(in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= out_max)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (pad > 2 || (len % 4 == 1 && pad == 0))
		return -1;
	*out_len_r = n;
	return 0;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, <= U+10FFFF. */
static bool
utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		size_t need;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i - 1 < need)
			return false;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += need + 1;
	}
	return true;
}

/* ISO-8859-1 to UTF-8: every byte is the code point of the same value. */
static int
latin1_to_utf8(const uint8_t *in, size_t len, uint8_t *out, size_t out_max,
	       size_t *out_len_r)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] < 0x80) {
			if (n + 1 > out_max)
				return -1;
			out[n++] = in[i];
		} else {
			if (n + 2 > out_max)
				return -1;
			out[n++] = (uint8_t)(0xC0 | (in[i] >> 6));
			out[n++] = (uint8_t)(0x80 | (in[i] & 0x3F));
		}
	}
	*out_len_r = n;
	return 0;
}

static int
copy_text(char *dst, size_t dst_size, const uint8_t *src, size_t len)
{
	if (len >= dst_size)
		return -1;
	memcpy(dst, src, len);
	dst[len] = 0;
	return 0;
}

static int
split_login(struct cas_credentials *cred, const char **error_r)
{
	const char *login = cred->login;
	const char *bs = strchr(login, '\\');
	const char *at = strrchr(login, '@');
	size_t len = strlen(login);

	if (bs != NULL) {
		/* DOMAIN\user (NetBIOS form used by Outlook and Android) */
		size_t dlen = (size_t)(bs - login);

		if (dlen == 0 || bs[1] == 0 || strchr(bs + 1, '\\') != NULL) {
			*error_r = "malformed DOMAIN\\user login";
			return -1;
		}
		memcpy(cred->domain, login, dlen);
		cred->domain[dlen] = 0;
		memcpy(cred->user, bs + 1, len - dlen - 1);
		cred->user[len - dlen - 1] = 0;
	} else if (at != NULL) {
		/* user@domain (UPN form used by iOS and most phones) */
		size_t ulen = (size_t)(at - login);

		if (ulen == 0 || at[1] == 0) {
			*error_r = "malformed user@domain login";
			return -1;
		}
		memcpy(cred->user, login, ulen);
		cred->user[ulen] = 0;
		memcpy(cred->domain, at + 1, len - ulen - 1);
		cred->domain[len - ulen - 1] = 0;
	} else {
		memcpy(cred->user, login, len + 1);
		cred->domain[0] = 0;
	}
	return 0;
}

int
cas_auth_parse_basic(const uint8_t *value, size_t len,
		     struct cas_credentials *cred_r, const char **error_r)
{
	/* Decoded and converted credentials; wiped on every exit. */
	uint8_t raw[CAS_AUTH_MAX_HEADER_BYTES] = {0};
	uint8_t utf8[CAS_AUTH_MAX_HEADER_BYTES * 2] = {0};
	const uint8_t *text, *colon;
	size_t raw_len = 0, text_len, i = 0, login_len;
	int ret = -1;

	memset(cred_r, 0, sizeof(*cred_r));
	if (len > CAS_AUTH_MAX_HEADER_BYTES) {
		*error_r = "Authorization header too long";
		goto out;
	}
	/* RFC 7617 2: the scheme name is case-insensitive. */
	if (len < 6 || strncasecmp((const char *)value, "Basic", 5) != 0 ||
	    (value[5] != ' ' && value[5] != '\t')) {
		*error_r = "not Basic authentication";
		goto out;
	}
	i = 5;
	while (i < len && (value[i] == ' ' || value[i] == '\t'))
		i++;
	while (len > i && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	if (i == len ||
	    b64_decode(value + i, len - i, raw, sizeof(raw), &raw_len) != 0) {
		*error_r = "malformed base64 credentials";
		goto out;
	}
	if (memchr(raw, 0, raw_len) != NULL) {
		*error_r = "NUL byte in credentials";
		goto out;
	}
	if (utf8_valid(raw, raw_len)) {
		text = raw;
		text_len = raw_len;
	} else {
		/* Outlook desktop encodes in the ANSI code page. */
		if (latin1_to_utf8(raw, raw_len, utf8, sizeof(utf8),
				   &text_len) != 0) {
			*error_r = "credentials too long";
			goto out;
		}
		text = utf8;
		cred_r->latin1 = true;
	}
	/* RFC 7617 2: the user-id cannot contain a colon; the password can. */
	colon = memchr(text, ':', text_len);
	if (colon == NULL) {
		*error_r = "no colon in credentials";
		goto out;
	}
	login_len = (size_t)(colon - text);
	for (i = 0; i < login_len; i++) {
		if (text[i] < 0x20 || text[i] == 0x7F) {
			*error_r = "control character in login";
			goto out;
		}
	}
	if (login_len == 0 || text_len - login_len - 1 == 0) {
		*error_r = "empty login or password";
		goto out;
	}
	if (copy_text(cred_r->login, sizeof(cred_r->login), text, login_len) !=
		0 ||
	    copy_text(cred_r->password, sizeof(cred_r->password), colon + 1,
		      text_len - login_len - 1) != 0) {
		*error_r = "login or password too long";
		goto out;
	}
	if (split_login(cred_r, error_r) != 0)
		goto out;
	ret = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(utf8, sizeof(utf8));
	if (ret != 0)
		cas_credentials_wipe(cred_r);
	return ret;
}

void
cas_credentials_wipe(struct cas_credentials *cred)
{
	OPENSSL_cleanse(cred, sizeof(*cred));
}

/* ---------------------------------------------------------------- tables */

static size_t
table_bucket(const uint8_t key[CAS_AUTH_DIGEST_BYTES])
{
	size_t h;

	memcpy(&h, key, sizeof(h));
	return h & (AUTH_BUCKETS - 1);
}

static void
lru_unlink(struct auth_table *t, struct auth_entry *e)
{
	if (e->lru_prev != NULL)
		e->lru_prev->lru_next = e->lru_next;
	else
		t->lru_head = e->lru_next;
	if (e->lru_next != NULL)
		e->lru_next->lru_prev = e->lru_prev;
	else
		t->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void
lru_push(struct auth_table *t, struct auth_entry *e)
{
	e->lru_prev = NULL;
	e->lru_next = t->lru_head;
	if (t->lru_head != NULL)
		t->lru_head->lru_prev = e;
	t->lru_head = e;
	if (t->lru_tail == NULL)
		t->lru_tail = e;
}

static struct auth_entry *
table_find(struct auth_table *t, const uint8_t key[CAS_AUTH_DIGEST_BYTES])
{
	struct auth_entry *e = t->buckets[table_bucket(key)];

	while (e != NULL && CRYPTO_memcmp(e->key, key, sizeof(e->key)) != 0)
		e = e->hnext;
	if (e != NULL) {
		lru_unlink(t, e);
		lru_push(t, e);
	}
	return e;
}

static void
table_remove(struct auth_table *t, struct auth_entry *e)
{
	struct auth_entry **pp = &t->buckets[table_bucket(e->key)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(t, e);
	t->count--;
	free(e->user);
	OPENSSL_cleanse(e, sizeof(*e));
	free(e);
}

/* Find or create; the least recently used entry makes room when full. */
static struct auth_entry *
table_get(struct auth_table *t, const uint8_t key[CAS_AUTH_DIGEST_BYTES])
{
	struct auth_entry *e = table_find(t, key);
	size_t b;

	if (e != NULL)
		return e;
	if (t->count >= t->max && t->lru_tail != NULL)
		table_remove(t, t->lru_tail);
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	memcpy(e->key, key, sizeof(e->key));
	b = table_bucket(key);
	e->hnext = t->buckets[b];
	t->buckets[b] = e;
	lru_push(t, e);
	t->count++;
	return e;
}

static void
table_clear(struct auth_table *t)
{
	while (t->lru_head != NULL)
		table_remove(t, t->lru_head);
}

/* ---------------------------------------------------------------- state */

int
cas_auth_new(unsigned cache_ttl_s, struct cas_auth **auth_r)
{
	struct cas_auth *auth = calloc(1, sizeof(*auth));

	*auth_r = NULL;
	if (auth == NULL)
		return -1;
	if (RAND_bytes(auth->key, sizeof(auth->key)) != 1 ||
	    pthread_mutex_init(&auth->lock, NULL) != 0) {
		OPENSSL_cleanse(auth->key, sizeof(auth->key));
		free(auth);
		return -1;
	}
	auth->ttl_s = cache_ttl_s;
	auth->cache.max = CAS_AUTH_CACHE_MAX_ENTRIES;
	auth->throttle.max = CAS_AUTH_THROTTLE_MAX_ENTRIES;
	*auth_r = auth;
	return 0;
}

void
cas_auth_free(struct cas_auth **authp)
{
	struct cas_auth *auth = *authp;

	if (auth == NULL)
		return;
	table_clear(&auth->cache);
	table_clear(&auth->throttle);
	pthread_mutex_destroy(&auth->lock);
	OPENSSL_cleanse(auth->key, sizeof(auth->key));
	free(auth);
	*authp = NULL;
}

static void
auth_hmac(const struct cas_auth *auth, const void *a, size_t alen,
	  const void *b, size_t blen, uint8_t out[CAS_AUTH_DIGEST_BYTES])
{
	uint8_t msg[CAS_AUTH_MAX_LOGIN_BYTES + CAS_AUTH_MAX_PASSWORD_BYTES +
		    AUTH_MAX_IP_BYTES + 8];
	unsigned out_len = CAS_AUTH_DIGEST_BYTES;
	size_t n = 0;

	/* Inputs are bounded by the parser and throttle_key(). */
	assert(alen + blen + 1 <= sizeof(msg));
	memcpy(msg, a, alen);
	n = alen;
	msg[n++] = 0;
	memcpy(msg + n, b, blen);
	n += blen;
	if (HMAC(EVP_sha256(), auth->key, (int)sizeof(auth->key), msg, n, out,
		 &out_len) == NULL)
		memset(out, 0, CAS_AUTH_DIGEST_BYTES);
	OPENSSL_cleanse(msg, sizeof(msg));
}

void
cas_auth_digest(const struct cas_auth *auth, const struct cas_credentials *cred,
		uint8_t digest_r[CAS_AUTH_DIGEST_BYTES])
{
	auth_hmac(auth, cred->login, strlen(cred->login), cred->password,
		  strlen(cred->password), digest_r);
}

bool
cas_auth_cache_lookup(struct cas_auth *auth,
		      const uint8_t digest[CAS_AUTH_DIGEST_BYTES],
		      uint64_t now_s)
{
	struct auth_entry *e;
	bool hit = false;

	pthread_mutex_lock(&auth->lock);
	e = table_find(&auth->cache, digest);
	if (e != NULL) {
		if (e->expires_s > now_s)
			hit = true;
		else
			table_remove(&auth->cache, e);
	}
	pthread_mutex_unlock(&auth->lock);
	return hit;
}

int
cas_auth_cache_add(struct cas_auth *auth,
		   const uint8_t digest[CAS_AUTH_DIGEST_BYTES],
		   const char *user, uint64_t now_s)
{
	struct auth_entry *e;
	char *copy;
	int ret = -1;

	if (auth->ttl_s == 0)
		return 0; /* caching disabled */
	copy = strdup(user);
	if (copy == NULL)
		return -1;
	pthread_mutex_lock(&auth->lock);
	e = table_get(&auth->cache, digest);
	if (e != NULL) {
		free(e->user);
		e->user = copy;
		copy = NULL;
		e->expires_s = now_s + auth->ttl_s;
		ret = 0;
	}
	pthread_mutex_unlock(&auth->lock);
	free(copy);
	return ret;
}

size_t
cas_auth_drop_user(struct cas_auth *auth, const char *user)
{
	struct auth_entry *e, *next;
	size_t n = 0;

	/* Linear in the cache size: a password change is rare. */
	pthread_mutex_lock(&auth->lock);
	for (e = auth->cache.lru_head; e != NULL; e = next) {
		next = e->lru_next;
		if (e->user != NULL && strcasecmp(e->user, user) == 0) {
			table_remove(&auth->cache, e);
			n++;
		}
	}
	pthread_mutex_unlock(&auth->lock);
	return n;
}

/* Throttle keys: "U" user NUL ip, and "I" NUL ip, HMAC'd so that the
 * table holds no user names and the buckets cannot be aimed at. */
static void
throttle_key(const struct cas_auth *auth, const char *user, const char *ip,
	     uint8_t out[CAS_AUTH_DIGEST_BYTES])
{
	char tagged[CAS_AUTH_MAX_LOGIN_BYTES + 2];
	const char *u = user != NULL ? user : "";
	size_t ulen = strnlen(u, CAS_AUTH_MAX_LOGIN_BYTES);

	tagged[0] = user != NULL ? 'U' : 'I';
	for (size_t i = 0; i < ulen; i++) {
		char c = u[i];

		tagged[i + 1] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	auth_hmac(auth, tagged, ulen + 1, ip, strnlen(ip, AUTH_MAX_IP_BYTES),
		  out);
}

static unsigned
backoff_s(unsigned failures, unsigned allowance)
{
	unsigned over;

	if (failures <= allowance)
		return 0;
	over = failures - allowance - 1;
	if (over >= 10)
		return CAS_AUTH_MAX_BACKOFF_S;
	return (1u << over) < CAS_AUTH_MAX_BACKOFF_S ? (1u << over)
						     : CAS_AUTH_MAX_BACKOFF_S;
}

static bool
entry_blocked(struct auth_table *t, const uint8_t key[CAS_AUTH_DIGEST_BYTES],
	      uint64_t now_s, unsigned *retry_r)
{
	struct auth_entry *e = table_find(t, key);

	if (e == NULL || e->blocked_until_s <= now_s)
		return false;
	if (e->blocked_until_s - now_s > *retry_r)
		*retry_r = (unsigned)(e->blocked_until_s - now_s);
	return true;
}

bool
cas_auth_throttled(struct cas_auth *auth, const char *user, const char *ip,
		   uint64_t now_s, unsigned *retry_after_s_r)
{
	uint8_t ku[CAS_AUTH_DIGEST_BYTES], ki[CAS_AUTH_DIGEST_BYTES];
	unsigned retry = 0;
	bool blocked;

	throttle_key(auth, user, ip, ku);
	throttle_key(auth, NULL, ip, ki);
	pthread_mutex_lock(&auth->lock);
	blocked = entry_blocked(&auth->throttle, ku, now_s, &retry);
	blocked = entry_blocked(&auth->throttle, ki, now_s, &retry) || blocked;
	pthread_mutex_unlock(&auth->lock);
	*retry_after_s_r = retry;
	return blocked;
}

static void
entry_fail(struct auth_table *t, const uint8_t key[CAS_AUTH_DIGEST_BYTES],
	   unsigned allowance, uint64_t now_s)
{
	struct auth_entry *e = table_get(t, key);

	if (e == NULL)
		return;
	/* The count is forgotten after a quiet window (an approximation of
	 * a sliding window that needs one timestamp per key). */
	if (e->failures > 0 && now_s - e->last_failure_s >= CAS_AUTH_WINDOW_S)
		e->failures = 0;
	if (e->failures < UINT32_MAX)
		e->failures++;
	e->last_failure_s = now_s;
	e->blocked_until_s = now_s + backoff_s(e->failures, allowance);
}

void
cas_auth_record_failure(struct cas_auth *auth, const char *user, const char *ip,
			uint64_t now_s)
{
	uint8_t ku[CAS_AUTH_DIGEST_BYTES], ki[CAS_AUTH_DIGEST_BYTES];

	throttle_key(auth, user, ip, ku);
	throttle_key(auth, NULL, ip, ki);
	pthread_mutex_lock(&auth->lock);
	entry_fail(&auth->throttle, ku, CAS_AUTH_FREE_FAILURES_USER_IP, now_s);
	entry_fail(&auth->throttle, ki, CAS_AUTH_FREE_FAILURES_IP, now_s);
	pthread_mutex_unlock(&auth->lock);
}

void
cas_auth_record_success(struct cas_auth *auth, const char *user, const char *ip,
			uint64_t now_s)
{
	uint8_t ku[CAS_AUTH_DIGEST_BYTES];
	struct auth_entry *e;

	(void)now_s;
	throttle_key(auth, user, ip, ku);
	pthread_mutex_lock(&auth->lock);
	e = table_find(&auth->throttle, ku);
	if (e != NULL)
		table_remove(&auth->throttle, e);
	pthread_mutex_unlock(&auth->lock);
}

size_t
cas_auth_sweep(struct cas_auth *auth, uint64_t now_s)
{
	struct auth_entry *e, *next;
	size_t n = 0;

	pthread_mutex_lock(&auth->lock);
	for (e = auth->cache.lru_head; e != NULL; e = next) {
		next = e->lru_next;
		if (e->expires_s <= now_s) {
			table_remove(&auth->cache, e);
			n++;
		}
	}
	for (e = auth->throttle.lru_head; e != NULL; e = next) {
		next = e->lru_next;
		if (e->blocked_until_s <= now_s &&
		    now_s - e->last_failure_s >= CAS_AUTH_WINDOW_S) {
			table_remove(&auth->throttle, e);
			n++;
		}
	}
	pthread_mutex_unlock(&auth->lock);
	return n;
}

void
cas_auth_counts(struct cas_auth *auth, size_t *cache_r, size_t *throttle_r)
{
	pthread_mutex_lock(&auth->lock);
	*cache_r = auth->cache.count;
	*throttle_r = auth->throttle.count;
	pthread_mutex_unlock(&auth->lock);
}
