/* Unit tests for policy/wipe.c: account-only by default where the device
 * supports it, never an unrequested full wipe, acknowledgements (failed,
 * replayed, unexpected) and the command gate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy/wipe.h"

static void
test_request(void **state)
{
	enum wipe_state s = WIPE_STATE_NONE;
	const char *error = NULL;

	(void)state;
	assert_int_equal(wipe_request(WIPE_STATE_NONE, WIPE_REQUEST_AUTO,
				      EAS_VERSION_16_1, &s, &error),
			 0);
	assert_int_equal(s, WIPE_STATE_PENDING_ACCOUNT_ONLY);
	assert_int_equal(wipe_request(WIPE_STATE_NONE, WIPE_REQUEST_AUTO,
				      EAS_VERSION_NONE, &s, &error),
			 0);
	assert_int_equal(s, WIPE_STATE_PENDING_ACCOUNT_ONLY);
	assert_int_equal(wipe_request(WIPE_STATE_NONE, WIPE_REQUEST_AUTO,
				      EAS_VERSION_14_1, &s, &error),
			 0);
	assert_int_equal(s, WIPE_STATE_PENDING);
	assert_int_equal(wipe_request(WIPE_STATE_NONE, WIPE_REQUEST_FULL,
				      EAS_VERSION_16_1, &s, &error),
			 0);
	assert_int_equal(s, WIPE_STATE_PENDING);
	assert_int_equal(wipe_request(WIPE_STATE_NONE,
				      WIPE_REQUEST_ACCOUNT_ONLY,
				      EAS_VERSION_16_0, &s, &error),
			 -1);
	assert_non_null(error);
	/* escalate a pending account-only wipe to a full one */
	assert_int_equal(wipe_request(WIPE_STATE_PENDING_ACCOUNT_ONLY,
				      WIPE_REQUEST_FULL, EAS_VERSION_16_1, &s,
				      &error),
			 0);
	assert_int_equal(s, WIPE_STATE_PENDING);
	assert_int_equal(wipe_request(WIPE_STATE_WIPED, WIPE_REQUEST_FULL,
				      EAS_VERSION_16_1, &s, &error),
			 -1);
}

static void
test_directive(void **state)
{
	(void)state;
	assert_int_equal(wipe_directive_for(WIPE_STATE_PENDING_ACCOUNT_ONLY,
					    EAS_VERSION_16_1),
			 WIPE_DIRECTIVE_ACCOUNT_ONLY);
	/* a downgraded client never gets a full wipe it was not meant for */
	assert_int_equal(wipe_directive_for(WIPE_STATE_PENDING_ACCOUNT_ONLY,
					    EAS_VERSION_14_1),
			 WIPE_DIRECTIVE_NONE);
	assert_int_equal(
	    wipe_directive_for(WIPE_STATE_PENDING, EAS_VERSION_2_5),
	    WIPE_DIRECTIVE_REMOTE_WIPE);
	assert_int_equal(wipe_directive_for(WIPE_STATE_WIPED, EAS_VERSION_16_1),
			 WIPE_DIRECTIVE_NONE);
	assert_string_equal(wipe_directive_element(WIPE_DIRECTIVE_REMOTE_WIPE),
			    "RemoteWipe");
	assert_string_equal(wipe_directive_element(WIPE_DIRECTIVE_ACCOUNT_ONLY),
			    "AccountOnlyRemoteWipe");
	assert_null(wipe_directive_element(WIPE_DIRECTIVE_NONE));
	assert_string_equal(wipe_state_name(WIPE_STATE_PENDING_ACCOUNT_ONLY),
			    "pending-account-only");
}

static void
test_acknowledge(void **state)
{
	enum wipe_state s = WIPE_STATE_NONE;

	(void)state;
	/* failure: still pending, so it is sent again */
	assert_int_equal(wipe_acknowledge(WIPE_STATE_PENDING,
					  WIPE_DIRECTIVE_REMOTE_WIPE,
					  WIPE_CLIENT_FAILURE, &s),
			 0);
	assert_int_equal(s, WIPE_STATE_PENDING);
	assert_int_equal(wipe_acknowledge(WIPE_STATE_PENDING,
					  WIPE_DIRECTIVE_REMOTE_WIPE,
					  WIPE_CLIENT_SUCCESS, &s),
			 0);
	assert_int_equal(s, WIPE_STATE_WIPED);
	/* replayed success */
	assert_int_equal(wipe_acknowledge(WIPE_STATE_WIPED,
					  WIPE_DIRECTIVE_REMOTE_WIPE,
					  WIPE_CLIENT_SUCCESS, &s),
			 0);
	assert_int_equal(s, WIPE_STATE_WIPED);
	assert_int_equal(wipe_acknowledge(WIPE_STATE_PENDING_ACCOUNT_ONLY,
					  WIPE_DIRECTIVE_ACCOUNT_ONLY,
					  WIPE_CLIENT_SUCCESS, &s),
			 0);
	assert_int_equal(s, WIPE_STATE_ACCOUNT_WIPED);
	/* acknowledging what was never sent */
	assert_int_equal(wipe_acknowledge(WIPE_STATE_NONE,
					  WIPE_DIRECTIVE_REMOTE_WIPE,
					  WIPE_CLIENT_SUCCESS, &s),
			 -1);
	assert_int_equal(wipe_acknowledge(WIPE_STATE_PENDING_ACCOUNT_ONLY,
					  WIPE_DIRECTIVE_REMOTE_WIPE,
					  WIPE_CLIENT_SUCCESS, &s),
			 -1);
	assert_int_equal(wipe_acknowledge(WIPE_STATE_PENDING,
					  WIPE_DIRECTIVE_NONE,
					  WIPE_CLIENT_SUCCESS, &s),
			 -1);
}

static void
gate(enum wipe_state st, enum eas_version v, enum eas_cmd_id cmd, bool allowed,
     unsigned http, unsigned status)
{
	struct wipe_answer a;

	wipe_check(st, v, eas_cmd_by_id(cmd), &a);
	assert_int_equal(a.allowed, allowed);
	assert_int_equal(a.http_status, http);
	assert_int_equal(a.eas_status, status);
}

static void
test_gate(void **state)
{
	(void)state;
	gate(WIPE_STATE_NONE, EAS_VERSION_14_0, EAS_CMD_SYNC, true, 200, 0);
	gate(WIPE_STATE_PENDING, EAS_VERSION_14_0, EAS_CMD_SYNC, false, 200,
	     140);
	gate(WIPE_STATE_PENDING, EAS_VERSION_12_1, EAS_CMD_PING, false, 449, 0);
	gate(WIPE_STATE_PENDING, EAS_VERSION_12_1, EAS_CMD_PROVISION, true, 200,
	     0);
	gate(WIPE_STATE_PENDING_ACCOUNT_ONLY, EAS_VERSION_16_1,
	     EAS_CMD_FOLDERSYNC, false, 200, 140);
	gate(WIPE_STATE_PENDING_ACCOUNT_ONLY, EAS_VERSION_14_1,
	     EAS_CMD_PROVISION, false, 403, 0);
	gate(WIPE_STATE_WIPED, EAS_VERSION_16_1, EAS_CMD_PROVISION, false, 403,
	     0);
	gate(WIPE_STATE_ACCOUNT_WIPED, EAS_VERSION_16_1, EAS_CMD_SYNC, false,
	     403, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request),
	    cmocka_unit_test(test_directive),
	    cmocka_unit_test(test_acknowledge),
	    cmocka_unit_test(test_gate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
