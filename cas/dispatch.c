/*
 * Command table and dispatch; see dispatch.h.  The table is filled by
 * constructors before main() runs and only read afterwards, so lookups
 * take no lock.  It is small (CAS_DISPATCH_MAX_COMMANDS) and searched
 * linearly, case-sensitively: MS-ASHTTP command names are exact.
 */
#include "cas/dispatch.h"

#include "proto/limits.h"
#include "proto/log.h"

#include <string.h>

static const struct cas_command *dispatch_table[CAS_DISPATCH_MAX_COMMANDS];
static size_t dispatch_count;
static cas_route_fn *dispatch_autodiscover_fn;
static cas_dispatch_parser_fn *dispatch_parser_fn;

void
cas_dispatch_set_parser(cas_dispatch_parser_fn *fn)
{
	dispatch_parser_fn = fn;
}

int
cas_dispatch_register(const struct cas_command *command)
{
	if (command == NULL || command->name == NULL ||
	    command->handler == NULL ||
	    dispatch_count >= CAS_DISPATCH_MAX_COMMANDS ||
	    cas_dispatch_find(command->name) != NULL)
		return -1;
	dispatch_table[dispatch_count++] = command;
	return 0;
}

const struct cas_command *
cas_dispatch_find(const char *name)
{
	for (size_t i = 0; i < dispatch_count; i++) {
		if (strcmp(dispatch_table[i]->name, name) == 0)
			return dispatch_table[i];
	}
	return NULL;
}

int
cas_dispatch_parse_version(const char *text, unsigned *version_r)
{
	static const struct {
		const char *text;
		unsigned version;
	} versions[] = {
	    {"2.5", 25},   {"12.0", 120}, {"12.1", 121}, {"14.0", 140},
	    {"14.1", 141}, {"16.0", 160}, {"16.1", 161},
	};

	if (text == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		if (strcmp(text, versions[i].text) == 0) {
			*version_r = versions[i].version;
			return 0;
		}
	}
	return -1;
}

int
cas_dispatch_parse_request(struct cas_req *req, struct cas_eas_request *eas_r,
			   unsigned *status_r)
{
	/* ASHTTP-HOOK: the MS-ASHTTP parser installed by cas/request.c. */
	if (dispatch_parser_fn != NULL)
		return dispatch_parser_fn(req, eas_r, status_r);
	memset(eas_r, 0, sizeof(*eas_r));
	eas_r->command = cas_req_query_arg(req, "Cmd");
	eas_r->policy_key = cas_req_header(req, CAS_HDR_POLICY_KEY);
	/* MS-ASHTTP 2.2.2.1.1: 400 for a request the server cannot
	 * understand (no command, or a protocol version we do not speak). */
	if (eas_r->command == NULL || eas_r->command[0] == 0 ||
	    cas_dispatch_parse_version(
		cas_req_header(req, CAS_HDR_PROTOCOL_VERSION),
		&eas_r->version) != 0) {
		*status_r = 400;
		return -1;
	}
	return 0;
}

void
cas_dispatch(struct cas_req *req)
{
	struct cas_eas_request eas;
	const struct cas_command *command;
	unsigned status;

	if (cas_dispatch_parse_request(req, &eas, &status) != 0) {
		(void)cas_req_respond_status(req, status);
		return;
	}
	command = cas_dispatch_find(eas.command);
	if (command == NULL || eas.version < command->min_version) {
		/* MS-ASHTTP 2.2.2.1.1: a command the server does not
		 * support (or not in this protocol version) is a 400. */
		log_debug("user %s: command %.64s not available in %u",
			  cas_req_user(req) != NULL ? cas_req_user(req)->login
						    : "-",
			  eas.command, eas.version);
		(void)cas_req_respond_status(req, 400);
		return;
	}
	command->handler(req, &eas);
}

void
cas_dispatch_set_autodiscover(cas_route_fn *fn)
{
	dispatch_autodiscover_fn = fn;
}

cas_route_fn *
cas_dispatch_autodiscover(void)
{
	return dispatch_autodiscover_fn;
}
