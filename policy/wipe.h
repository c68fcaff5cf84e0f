/*
 * Remote wipe (MS-ASPROV, RemoteWipe elements): which directive a device gets
 * (RemoteWipe, or AccountOnlyRemoteWipe from protocol 16.1) and the wipe
 * status of a device record with its transitions.  The administrator asks
 * for a wipe through easctl; the mailbox stores the state durably
 * (reliability.md G9); the CAS gates every command on it and sends the
 * directive in the next Provision response until the device acknowledges.
 *
 * ★ By default a wipe is account-only wherever the device can do it: a
 * full RemoteWipe factory-resets a personal iPhone, which is rarely what
 * removing a mailbox from it should mean.
 */
#ifndef EASD_POLICY_WIPE_H
#define EASD_POLICY_WIPE_H

#include <stdbool.h>

#include "proto/eas_cmd.h"

enum wipe_state {
	WIPE_STATE_NONE = 0,
	WIPE_STATE_PENDING,              /* full RemoteWipe to be sent */
	WIPE_STATE_PENDING_ACCOUNT_ONLY, /* AccountOnlyRemoteWipe to send */
	WIPE_STATE_WIPED,                /* full wipe acknowledged */
	WIPE_STATE_ACCOUNT_WIPED,        /* account-only wipe acknowledged */
};

enum wipe_request {
	WIPE_REQUEST_AUTO,         /* account-only if supported, else full */
	WIPE_REQUEST_FULL,         /* always RemoteWipe */
	WIPE_REQUEST_ACCOUNT_ONLY, /* only AccountOnlyRemoteWipe */
};

enum wipe_directive {
	WIPE_DIRECTIVE_NONE = 0,
	WIPE_DIRECTIVE_REMOTE_WIPE,
	WIPE_DIRECTIVE_ACCOUNT_ONLY,
};

/*
 * Administrator request.  device_version is the protocol version the
 * device last used (EAS_VERSION_NONE if unknown).  AUTO picks account-only
 * for 16.1 and for unknown versions (the safe side: it is never silently
 * upgraded to a factory reset), full otherwise.  ACCOUNT_ONLY for a device
 * known to speak less than 16.1 is refused.  A device already wiped must
 * be cleared first.  Returns 0 or -1 with *error_r.
 */
int wipe_request(enum wipe_state cur, enum wipe_request req,
		 enum eas_version device_version, enum wipe_state *next_r,
		 const char **error_r);

/* The directive to put in a Provision response now (NONE if nothing may be
 * sent: no wipe pending, or account-only pending on a pre-16.1 client). */
enum wipe_directive wipe_directive_for(enum wipe_state state,
				       enum eas_version version);
/* The MS-ASPROV element name, or NULL for NONE. */
const char *wipe_directive_element(enum wipe_directive d);

/* MS-ASPROV Status (RemoteWipe): the client's wipe acknowledgement. */
#define WIPE_CLIENT_SUCCESS 1
#define WIPE_CLIENT_FAILURE 2

/*
 * The client acknowledged directive d with client_status.  Success moves
 * to the matching wiped state; failure keeps the wipe pending so that it
 * is sent again.  A repeated success acknowledgement is accepted
 * (idempotent).  -1 if nothing of that kind was pending.
 */
int wipe_acknowledge(enum wipe_state cur, enum wipe_directive d,
		     int client_status, enum wipe_state *next_r);

/* MS-ASCMD 2.2.2 common status 140 RemoteWipeRequested (from 14.0). */
#define WIPE_STATUS_REMOTE_WIPE_REQUESTED 140u

struct wipe_answer {
	bool allowed;         /* dispatch the command normally */
	unsigned http_status; /* 200, 449 (before 14.0) or 403 (blocked) */
	unsigned eas_status;  /* 0 or 140 */
};

/*
 * Gate a command on the wipe state: with a wipe pending only Provision
 * passes (it carries the directive) and everything else is sent to
 * Provision (449 before 14.0, Status 140 after); a pending wipe that this
 * client cannot receive, and a wiped device, get 403 until cleared.
 */
void wipe_check(enum wipe_state state, enum eas_version version,
		const struct eas_cmd *cmd, struct wipe_answer *ans_r);

/* "none", "pending", "pending-account-only", "wiped", "account-wiped". */
const char *wipe_state_name(enum wipe_state state);

#endif
