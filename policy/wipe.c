/*
 * Remote wipe state transitions (see wipe.h).  Everything here is a pure
 * function of its arguments; persistence is the mailbox's job.
 */
#include "policy/wipe.h"

#include <stddef.h>

int
wipe_request(enum wipe_state cur, enum wipe_request req,
	     enum eas_version device_version, enum wipe_state *next_r,
	     const char **error_r)
{
	bool knows_account_only =
	    device_version == EAS_VERSION_NONE ||
	    eas_version_at_least(device_version, EAS_VERSION_16_1);

	if (cur == WIPE_STATE_WIPED || cur == WIPE_STATE_ACCOUNT_WIPED) {
		*error_r = "device already wiped; clear its wipe state first";
		return -1;
	}
	switch (req) {
	case WIPE_REQUEST_AUTO:
		*next_r = knows_account_only ? WIPE_STATE_PENDING_ACCOUNT_ONLY
					     : WIPE_STATE_PENDING;
		return 0;
	case WIPE_REQUEST_FULL:
		*next_r = WIPE_STATE_PENDING;
		return 0;
	case WIPE_REQUEST_ACCOUNT_ONLY:
		/* MS-ASPROV: AccountOnlyRemoteWipe exists in 16.1 only. */
		if (!knows_account_only) {
			*error_r = "device protocol is older than 16.1: "
				   "account-only wipe unsupported";
			return -1;
		}
		*next_r = WIPE_STATE_PENDING_ACCOUNT_ONLY;
		return 0;
	}
	*error_r = "unknown wipe request";
	return -1;
}

enum wipe_directive
wipe_directive_for(enum wipe_state state, enum eas_version version)
{
	switch (state) {
	case WIPE_STATE_PENDING:
		return WIPE_DIRECTIVE_REMOTE_WIPE;
	case WIPE_STATE_PENDING_ACCOUNT_ONLY:
		/* Never escalate to a full wipe behind the admin's back. */
		return eas_version_at_least(version, EAS_VERSION_16_1)
			   ? WIPE_DIRECTIVE_ACCOUNT_ONLY
			   : WIPE_DIRECTIVE_NONE;
	case WIPE_STATE_NONE:
	case WIPE_STATE_WIPED:
	case WIPE_STATE_ACCOUNT_WIPED:
		break;
	}
	return WIPE_DIRECTIVE_NONE;
}

const char *
wipe_directive_element(enum wipe_directive d)
{
	switch (d) {
	case WIPE_DIRECTIVE_REMOTE_WIPE:
		return "RemoteWipe";
	case WIPE_DIRECTIVE_ACCOUNT_ONLY:
		return "AccountOnlyRemoteWipe";
	case WIPE_DIRECTIVE_NONE:
		break;
	}
	return NULL;
}

int
wipe_acknowledge(enum wipe_state cur, enum wipe_directive d, int client_status,
		 enum wipe_state *next_r)
{
	enum wipe_state pending, done;

	if (d == WIPE_DIRECTIVE_REMOTE_WIPE) {
		pending = WIPE_STATE_PENDING;
		done = WIPE_STATE_WIPED;
	} else if (d == WIPE_DIRECTIVE_ACCOUNT_ONLY) {
		pending = WIPE_STATE_PENDING_ACCOUNT_ONLY;
		done = WIPE_STATE_ACCOUNT_WIPED;
	} else {
		return -1;
	}
	if (cur == done && client_status == WIPE_CLIENT_SUCCESS) {
		*next_r = done; /* replayed acknowledgement */
		return 0;
	}
	if (cur != pending)
		return -1;
	*next_r = client_status == WIPE_CLIENT_SUCCESS ? done : pending;
	return 0;
}

void
wipe_check(enum wipe_state state, enum eas_version version,
	   const struct eas_cmd *cmd, struct wipe_answer *ans_r)
{
	ans_r->allowed = false;
	ans_r->http_status = 403;
	ans_r->eas_status = 0;
	switch (state) {
	case WIPE_STATE_NONE:
		ans_r->allowed = true;
		ans_r->http_status = 200;
		return;
	case WIPE_STATE_PENDING:
	case WIPE_STATE_PENDING_ACCOUNT_ONLY:
		if (wipe_directive_for(state, version) == WIPE_DIRECTIVE_NONE)
			return; /* cannot be told: stays blocked */
		if (cmd->id == EAS_CMD_PROVISION) {
			ans_r->allowed = true;
			ans_r->http_status = 200;
		} else if (version < EAS_VERSION_14_0) {
			ans_r->http_status = 449;
		} else {
			ans_r->http_status = 200;
			ans_r->eas_status = WIPE_STATUS_REMOTE_WIPE_REQUESTED;
		}
		return;
	case WIPE_STATE_WIPED:
	case WIPE_STATE_ACCOUNT_WIPED:
		return;
	}
}

const char *
wipe_state_name(enum wipe_state state)
{
	switch (state) {
	case WIPE_STATE_NONE:
		return "none";
	case WIPE_STATE_PENDING:
		return "pending";
	case WIPE_STATE_PENDING_ACCOUNT_ONLY:
		return "pending-account-only";
	case WIPE_STATE_WIPED:
		return "wiped";
	case WIPE_STATE_ACCOUNT_WIPED:
		return "account-wiped";
	}
	return "?";
}
