/*
 * RPC endpoint addresses and sockets: "unix:PATH" (one host; the socket
 * file gets mode 0660 and a stale one is removed at listen) or
 * "tcp:HOST:PORT" (between hosts; always wrapped in mutual TLS by the
 * callers, there is no plaintext TCP mode).  IPv6 hosts are written in
 * brackets: tcp:[::1]:4190.  Every socket is non-blocking and close-on-exec.
 */
#ifndef EASD_NET_LISTEN_H
#define EASD_NET_LISTEN_H

#include <stdbool.h>
#include <sys/un.h>

enum net_addr_kind {
	NET_ADDR_UNIX = 1,
	NET_ADDR_TCP = 2,
};

#define NET_HOST_MAX 256
#define NET_PORT_MAX 8

struct net_addr {
	enum net_addr_kind kind;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char host[NET_HOST_MAX];
	char port[NET_PORT_MAX];
};

/* Parse an address; error_r: "rpc_listen: expected unix:PATH or
 * tcp:HOST:PORT" and friends. */
int net_addr_parse(const char *text, struct net_addr *addr_r,
		   const char **error_r);
/* A listening socket, or -1. */
int net_listen(const struct net_addr *addr, const char **error_r);
/* Start a non-blocking connect.  *in_progress_r is true when the socket
 * must become writable before net_connect_finish() tells the outcome.
 * Name resolution (getaddrinfo) blocks; use numeric hosts or a local
 * resolver. */
int net_connect(const struct net_addr *addr, bool *in_progress_r,
		const char **error_r);
/* The outcome of a connect that was in progress: 0 or -1. */
int net_connect_finish(int fd, const char **error_r);
/* Accept one connection (non-blocking, close-on-exec); -1 with errno. */
int net_accept(int listen_fd);

#endif
