/*
 * The EAS command table of easd-cas.  Each command lives in its own
 * cas/cmd_<command>.c and registers itself at start-up with CAS_COMMAND(),
 * the way easctl subcommands do, so adding a command edits no shared
 * table.  cas_dispatch() runs after authentication: it finds the command
 * and protocol version of the request, checks them against the table and
 * calls the handler, which answers through the http.h respond API (now or
 * later, from any thread).
 *
 * Link note: a command object inside libcas.a that nothing references is
 * dropped by the linker, constructor and all; easd-cas must link libcas.a
 * whole (-Wl,--whole-archive) once cmd_*.c files exist.
 */
#ifndef EASD_CAS_DISPATCH_H
#define EASD_CAS_DISPATCH_H

#include "cas/http.h"

#include <stdbool.h>

/* The fields of the request dispatch needs.  ASHTTP-HOOK: once
 * proto/ashttp.h exists, cas_dispatch_parse_request() fills this from its
 * validated request (plain and base64 query forms); until then it takes
 * Cmd from the plain query as split by libmicrohttpd and the version from
 * the MS-ASProtocolVersion header. */
struct cas_eas_request {
	const char *command;    /* Cmd */
	unsigned version;       /* x10: 25, 120, 121, 140, 141, 160, 161 */
	const char *policy_key; /* X-MS-PolicyKey or NULL */
};

typedef void cas_command_fn(struct cas_req *req,
			    const struct cas_eas_request *eas);

struct cas_command {
	const char *name;     /* the Cmd of the MS-ASHTTP request URI */
	unsigned min_version; /* x10, as above */
	/* MS-ASPROV: commands that need a current policy key (all but
	 * Provision and a few others); enforced by the provisioning layer,
	 * which reads this flag, not by cas_dispatch(). */
	bool needs_policy_key;
	cas_command_fn *handler;
};

/* -1 when the table is full, the name is taken or the entry is invalid. */
int cas_dispatch_register(const struct cas_command *command);
const struct cas_command *cas_dispatch_find(const char *name);

#define CAS_COMMAND(ident, ...)                                         \
	static const struct cas_command ident = {__VA_ARGS__};          \
	__attribute__((constructor)) static void ident##_register(void) \
	{                                                               \
		(void)cas_dispatch_register(&ident);                    \
	}

/* "2.5", "12.0", ... "16.1" to 25, 120 ... 161; -1 when not one of the
 * versions we announce (MS-ASHTTP 2.2.1.1.2.6). */
int cas_dispatch_parse_version(const char *text, unsigned *version_r);
/* The ASHTTP-HOOK (see struct cas_eas_request); -1 with *status_r the HTTP
 * status to answer. */
int cas_dispatch_parse_request(struct cas_req *req,
			       struct cas_eas_request *eas_r,
			       unsigned *status_r);
/* The full MS-ASHTTP parser (plain and base64 query forms) replaces the
 * built-in Cmd/header reading above when installed; cas/request.c installs
 * it in cas_request_init().  Set once at start-up, before requests. */
typedef int cas_dispatch_parser_fn(struct cas_req *req,
				   struct cas_eas_request *eas_r,
				   unsigned *status_r);
void cas_dispatch_set_parser(cas_dispatch_parser_fn *fn);
/* Route an authenticated POST to its command; answers 400 itself for an
 * unknown, unregistered or too-new command. */
void cas_dispatch(struct cas_req *req);

/* Autodiscover (POST /autodiscover/autodiscover.xml, GET or POST
 * /autodiscover/autodiscover.json) is served by a later module that
 * registers here; without one those paths answer 404. */
typedef void cas_route_fn(struct cas_req *req);
void cas_dispatch_set_autodiscover(cas_route_fn *fn);
cas_route_fn *cas_dispatch_autodiscover(void);

#endif
