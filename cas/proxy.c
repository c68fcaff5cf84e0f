/*
 * Trusted proxies and X-Forwarded-* handling; see proxy.h.  Every address
 * is held as 16 bytes (IPv4 as IPv4-mapped IPv6) so one prefix comparison
 * serves both families.  The list is small (CAS_PROXY_MAX_ENTRIES) and
 * scanned linearly.
 */
#include "cas/proxy.h"

#include "proto/buf.h"
#include "proto/limits.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct proxy_net {
	uint8_t addr[16];
	unsigned prefix; /* bits, 0..128 */
};

struct cas_proxies {
	struct proxy_net *nets;
	size_t count;
};

static void
map_v4(const void *v4, uint8_t out[16])
{
	memset(out, 0, 10);
	out[10] = 0xFF;
	out[11] = 0xFF;
	memcpy(out + 12, v4, 4);
}

/* Parse "a.b.c.d" or an IPv6 address (optionally in brackets). */
static int
parse_addr(const char *s, size_t len, uint8_t out[16], bool *v4_r)
{
	char tmp[CAS_PROXY_ADDR_STRLEN];
	struct in_addr a4;

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = 0;
	if (inet_pton(AF_INET, tmp, &a4) == 1) {
		map_v4(&a4, out);
		*v4_r = true;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, out) == 1) {
		*v4_r = false;
		return 0;
	}
	return -1;
}

static bool
net_contains(const struct proxy_net *n, const uint8_t addr[16])
{
	unsigned full = n->prefix / 8, rest = n->prefix % 8;

	if (memcmp(n->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((n->addr[full] ^ addr[full]) & (uint8_t)(0xFF << (8 - rest))) ==
	       0;
}

static char *
proxy_error(const char *what, const char *tok, size_t len)
{
	struct buf b;

	buf_init(&b, 512);
	if (buf_printf(&b, "trusted_proxies: %s '%.*s'", what,
		       (int)(len > 100 ? 100 : len), tok) != 0) {
		buf_free(&b);
		return strdup("trusted_proxies: invalid entry");
	}
	return (char *)buf_steal(&b, NULL);
}

int
cas_proxies_parse(const char *spec, struct cas_proxies **proxies_r,
		  char **error_r)
{
	struct cas_proxies *p = calloc(1, sizeof(*p));
	const char *s = spec;

	*proxies_r = NULL;
	*error_r = NULL;
	if (p == NULL)
		goto fail;
	p->nets = calloc(CAS_PROXY_MAX_ENTRIES, sizeof(*p->nets));
	if (p->nets == NULL)
		goto fail;
	while (*s != 0) {
		const char *tok, *slash;
		size_t len, alen;
		struct proxy_net n;
		bool v4;

		while (*s == ',' || *s == ' ' || *s == '\t')
			s++;
		if (*s == 0)
			break;
		tok = s;
		while (*s != 0 && *s != ',' && *s != ' ' && *s != '\t')
			s++;
		len = (size_t)(s - tok);
		if (p->count >= CAS_PROXY_MAX_ENTRIES) {
			*error_r = proxy_error("too many entries at", tok, len);
			goto fail;
		}
		slash = memchr(tok, '/', len);
		alen = slash != NULL ? (size_t)(slash - tok) : len;
		if (parse_addr(tok, alen, n.addr, &v4) != 0) {
			*error_r = proxy_error("invalid address", tok, len);
			goto fail;
		}
		n.prefix = 128;
		if (slash != NULL) {
			unsigned bits = 0, max = v4 ? 32 : 128;
			size_t i = alen + 1;

			if (i == len || len - i > 3) {
				*error_r =
				    proxy_error("invalid prefix", tok, len);
				goto fail;
			}
			for (; i < len; i++) {
				if (tok[i] < '0' || tok[i] > '9') {
					*error_r = proxy_error("invalid prefix",
							       tok, len);
					goto fail;
				}
				bits = bits * 10 + (unsigned)(tok[i] - '0');
			}
			if (bits > max) {
				*error_r =
				    proxy_error("prefix too long", tok, len);
				goto fail;
			}
			n.prefix = v4 ? bits + 96 : bits;
		}
		p->nets[p->count++] = n;
	}
	*proxies_r = p;
	return 0;
fail:
	if (*error_r == NULL)
		*error_r = strdup("trusted_proxies: out of memory");
	cas_proxies_free(&p);
	return -1;
}

void
cas_proxies_free(struct cas_proxies **proxies)
{
	if (*proxies == NULL)
		return;
	free((*proxies)->nets);
	free(*proxies);
	*proxies = NULL;
}

static int
sockaddr_bytes(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		map_v4(&in->sin_addr, out);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)sa;

		memcpy(out, &in6->sin6_addr, 16);
		return 0;
	}
	return -1;
}

static bool
bytes_trusted(const struct cas_proxies *p, const uint8_t addr[16])
{
	for (size_t i = 0; p != NULL && i < p->count; i++) {
		if (net_contains(&p->nets[i], addr))
			return true;
	}
	return false;
}

bool
cas_proxies_trusted(const struct cas_proxies *proxies,
		    const struct sockaddr *addr)
{
	uint8_t b[16];

	return sockaddr_bytes(addr, b) == 0 && bytes_trusted(proxies, b);
}

static void
bytes_str(const uint8_t b[16], char out[CAS_PROXY_ADDR_STRLEN])
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0,    0,
					   0, 0, 0, 0, 0xFF, 0xFF};

	if (memcmp(b, prefix, sizeof(prefix)) == 0) {
		if (inet_ntop(AF_INET, b + 12, out, CAS_PROXY_ADDR_STRLEN) !=
		    NULL)
			return;
	} else if (inet_ntop(AF_INET6, b, out, CAS_PROXY_ADDR_STRLEN) != NULL) {
		return;
	}
	memcpy(out, "?", 2);
}

void
cas_proxies_addr_str(const struct sockaddr *addr,
		     char out[CAS_PROXY_ADDR_STRLEN])
{
	uint8_t b[16];

	if (sockaddr_bytes(addr, b) != 0) {
		memcpy(out, "?", 2);
		return;
	}
	bytes_str(b, out);
}

bool
cas_proxies_is_loopback(const struct sockaddr *addr)
{
	static const uint8_t v6_loop[16] = {0, 0, 0, 0, 0, 0, 0, 0,
					    0, 0, 0, 0, 0, 0, 0, 1};
	static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0,    0,
					      0, 0, 0, 0, 0xFF, 0xFF};
	uint8_t b[16];

	if (sockaddr_bytes(addr, b) != 0)
		return false;
	if (memcmp(b, v6_loop, 16) == 0)
		return true;
	return memcmp(b, v4_mapped, 12) == 0 && b[12] == 127;
}

/* Strip an optional ":port" from an IPv4 entry or "[v6]:port". */
static size_t
strip_port(const char *tok, size_t len)
{
	const char *colon = memchr(tok, ':', len);

	if (len > 0 && tok[0] == '[') {
		const char *close = memchr(tok, ']', len);

		return close != NULL ? (size_t)(close - tok) + 1 : len;
	}
	if (colon != NULL &&
	    memchr(colon + 1, ':', len - (size_t)(colon - tok) - 1) == NULL)
		return (size_t)(colon - tok); /* a.b.c.d:port */
	return len;
}

void
cas_proxies_client(const struct cas_proxies *proxies,
		   const struct sockaddr *peer, bool tls, const char *xff,
		   const char *xfp, char addr_r[CAS_PROXY_ADDR_STRLEN],
		   bool *https_r)
{
	uint8_t cur[16];
	size_t len, hops = 0;

	*https_r = tls;
	if (sockaddr_bytes(peer, cur) != 0) {
		memcpy(addr_r, "?", 2);
		return;
	}
	if (!bytes_trusted(proxies, cur)) {
		bytes_str(cur, addr_r);
		return;
	}
	/* The peer is a trusted proxy: believe its scheme header. */
	if (xfp != NULL)
		*https_r = strcasecmp(xfp, "https") == 0;
	len = xff != NULL ? strnlen(xff, CAS_PROXY_MAX_XFF_BYTES + 1) : 0;
	if (len > CAS_PROXY_MAX_XFF_BYTES)
		len = 0; /* oversized: ignore it, the proxy is the client */
	/* Walk right to left while the hop is trusted. */
	while (len > 0 && hops < CAS_PROXY_MAX_XFF_HOPS) {
		size_t end = len, start, tlen;
		uint8_t next[16];
		bool v4;

		while (end > 0 && (xff[end - 1] == ' ' || xff[end - 1] == '\t'))
			end--;
		start = end;
		while (start > 0 && xff[start - 1] != ',')
			start--;
		len = start > 0 ? start - 1 : 0;
		while (start < end && (xff[start] == ' ' || xff[start] == '\t'))
			start++;
		if (start == end)
			continue;
		hops++;
		tlen = strip_port(xff + start, end - start);
		if (parse_addr(xff + start, tlen, next, &v4) != 0)
			break; /* garbage: keep the last trusted hop */
		memcpy(cur, next, 16);
		if (!bytes_trusted(proxies, cur))
			break;
	}
	bytes_str(cur, addr_r);
}
