/*
 * Trusted reverse proxies (nginx, HAProxy) in front of easd-cas: the
 * `trusted_proxies` list of IPv4/IPv6 addresses and CIDR blocks, and the
 * client address and scheme derived from X-Forwarded-For and
 * X-Forwarded-Proto.  Those headers are honoured only when the TCP peer is
 * trusted; the client is then the rightmost X-Forwarded-For entry that is
 * not itself a trusted proxy (entries to its left are client-supplied and
 * cannot be believed).  Immutable after parsing: any thread may read.
 */
#ifndef EASD_CAS_PROXY_H
#define EASD_CAS_PROXY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Text form of any address we print ("ffff:...:255.255.255.255"). */
#define CAS_PROXY_ADDR_STRLEN 64

struct cas_proxies;

/* Parse a list separated by commas and/or white space ("" = none); -1
 * with a malloc'd *error_r naming the bad entry. */
int cas_proxies_parse(const char *spec, struct cas_proxies **proxies_r,
		      char **error_r);
void cas_proxies_free(struct cas_proxies **proxies);
bool cas_proxies_trusted(const struct cas_proxies *proxies,
			 const struct sockaddr *addr);

/* The client's address as text and whether the client reached the edge
 * over https.  peer is the TCP peer, tls whether that connection is TLS;
 * xff and xfp are the header values or NULL. */
void cas_proxies_client(const struct cas_proxies *proxies,
			const struct sockaddr *peer, bool tls, const char *xff,
			const char *xfp, char addr_r[CAS_PROXY_ADDR_STRLEN],
			bool *https_r);
/* Text form of a socket address ("?" when not IPv4/IPv6); IPv4-mapped
 * IPv6 addresses print as IPv4. */
void cas_proxies_addr_str(const struct sockaddr *addr,
			  char out[CAS_PROXY_ADDR_STRLEN]);
bool cas_proxies_is_loopback(const struct sockaddr *addr);

#endif
