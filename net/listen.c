/*
 * Address parsing, listening and connecting for the RPC transports (see
 * listen.h).  Only sockets here: TLS is net/tls.c, framing net/conn.c.
 */
#include "net/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Queue of connections not yet accepted; a CAS fleet reconnecting after a
 * mailbox restart arrives at once. */
#define NET_LISTEN_BACKLOG 512

static int
copy_str(char *dst, size_t size, const char *src, size_t len)
{
	if (len == 0 || len >= size)
		return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

int
net_addr_parse(const char *text, struct net_addr *addr_r, const char **error_r)
{
	const char *host, *colon, *end;
	size_t i;

	memset(addr_r, 0, sizeof(*addr_r));
	if (strncmp(text, "unix:", 5) == 0) {
		addr_r->kind = NET_ADDR_UNIX;
		if (copy_str(addr_r->path, sizeof(addr_r->path), text + 5,
			     strlen(text + 5)) < 0) {
			*error_r = "rpc_listen: unix:PATH needs a path of 1 "
				   "to 107 bytes";
			return -1;
		}
		return 0;
	}
	if (strncmp(text, "tcp:", 4) != 0) {
		*error_r = "rpc_listen: expected unix:PATH or tcp:HOST:PORT";
		return -1;
	}
	addr_r->kind = NET_ADDR_TCP;
	host = text + 4;
	if (*host == '[') {
		end = strchr(host, ']');
		if (end == NULL || end[1] != ':') {
			*error_r = "rpc_listen: expected tcp:[IPV6]:PORT";
			return -1;
		}
		colon = end + 1;
		host++;
	} else {
		colon = strrchr(host, ':');
		if (colon == NULL) {
			*error_r = "rpc_listen: expected tcp:HOST:PORT";
			return -1;
		}
		end = colon;
	}
	if (copy_str(addr_r->host, sizeof(addr_r->host), host,
		     (size_t)(end - host)) < 0) {
		*error_r = "rpc_listen: tcp: host empty or too long";
		return -1;
	}
	if (copy_str(addr_r->port, sizeof(addr_r->port), colon + 1,
		     strlen(colon + 1)) < 0) {
		*error_r = "rpc_listen: tcp: port empty or too long";
		return -1;
	}
	for (i = 0; addr_r->port[i] != '\0'; i++) {
		if (addr_r->port[i] < '0' || addr_r->port[i] > '9') {
			*error_r = "rpc_listen: tcp: port must be a number";
			return -1;
		}
	}
	return 0;
}

static int
unix_sockaddr(const struct net_addr *addr, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, addr->path, strlen(addr->path) + 1);
	return 0;
}

static int
listen_unix(const struct net_addr *addr, const char **error_r)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	unix_sockaddr(addr, &sun);
	/* A socket file left by a crashed daemon: remove it, but never a
	 * file of another kind. */
	if (lstat(addr->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			*error_r =
			    "rpc_listen: path exists and is not a socket";
			return -1;
		}
		(void)unlink(addr->path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = "rpc_listen: socket() failed";
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		*error_r = "rpc_listen: bind() failed on the unix socket";
		goto fail;
	}
	/* Owner and group (the CAS and easctl users) only. */
	if (chmod(addr->path, 0660) < 0) {
		*error_r = "rpc_listen: chmod 0660 failed";
		goto fail;
	}
	if (listen(fd, NET_LISTEN_BACKLOG) < 0) {
		*error_r = "rpc_listen: listen() failed";
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static int
resolve(const struct net_addr *addr, bool passive, struct addrinfo **res_r,
	const char **error_r)
{
	struct addrinfo hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	if (getaddrinfo(addr->host, addr->port, &hints, res_r) != 0) {
		*error_r = "rpc: cannot resolve the tcp host";
		return -1;
	}
	return 0;
}

static int
listen_tcp(const struct net_addr *addr, const char **error_r)
{
	struct addrinfo *res = NULL, *ai;
	int fd = -1, one = 1;

	if (resolve(addr, true, &res, error_r) < 0)
		return -1;
	*error_r = "rpc_listen: cannot bind the tcp address";
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, NET_LISTEN_BACKLOG) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* TCP keepalive: a peer host that vanished (power loss, partition) is
 * noticed within about a minute even when no call is in flight, so a CAS
 * reconnects and a mailbox frees the connection.  Idle 30 s, then 3
 * probes 10 s apart. */
#define NET_KEEPALIVE_IDLE_S 30
#define NET_KEEPALIVE_INTERVAL_S 10
#define NET_KEEPALIVE_PROBES 3

static void
tcp_options(int fd)
{
	int one = 1, idle = NET_KEEPALIVE_IDLE_S,
	    intvl = NET_KEEPALIVE_INTERVAL_S, cnt = NET_KEEPALIVE_PROBES;

	/* Failures are harmless (e.g. a Unix socket): best effort. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

int
net_listen(const struct net_addr *addr, const char **error_r)
{
	if (addr->kind == NET_ADDR_UNIX)
		return listen_unix(addr, error_r);
	return listen_tcp(addr, error_r);
}

int
net_connect(const struct net_addr *addr, bool *in_progress_r,
	    const char **error_r)
{
	struct addrinfo *res = NULL, *ai;
	struct sockaddr_un sun;
	int fd = -1;

	*in_progress_r = false;
	if (addr->kind == NET_ADDR_UNIX) {
		unix_sockaddr(addr, &sun);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0);
		if (fd < 0) {
			*error_r = "rpc_connect: socket() failed";
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return fd;
		if (errno == EAGAIN || errno == EINPROGRESS) {
			*in_progress_r = true;
			return fd;
		}
		*error_r = "rpc_connect: cannot connect to the unix socket";
		close(fd);
		return -1;
	}
	if (resolve(addr, false, &res, error_r) < 0)
		return -1;
	*error_r = "rpc_connect: cannot connect to the tcp address";
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		tcp_options(fd);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			*in_progress_r = true;
			break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int
net_connect_finish(int fd, const char **error_r)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
		*error_r = "rpc_connect: connection refused or unreachable";
		return -1;
	}
	return 0;
}

int
net_accept(int listen_fd)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd >= 0)
		tcp_options(fd);
	return fd;
}
