/* Unit tests for policy/policykey.c: key generation bounds, the two-step
 * Provision state machine (including a replayed acknowledgement and a
 * re-provision) and the per-command verdicts before and from 14.0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "policy/policykey.h"

static const uint8_t hash_a[POLICY_HASH_BYTES] = {1, 2, 3};
static const uint8_t hash_b[POLICY_HASH_BYTES] = {9, 9, 9};

static void
test_generate(void **state)
{
	uint32_t k, prev = 0;
	int i, distinct = 0;

	(void)state;
	for (i = 0; i < 200; i++) {
		assert_int_equal(policykey_generate(prev, &k), 0);
		assert_true(k != 0 && k != UINT32_MAX && k != prev);
		distinct += k != prev;
		prev = k;
	}
	assert_int_equal(distinct, 200);
}

/* Run the whole two-step Provision; returns the final key. */
static uint32_t
provision(struct policykey_device *dev, const uint8_t *hash)
{
	enum policykey_ack_result res;
	uint32_t temp, final;

	assert_int_equal(policykey_provision_initial(dev, hash, &temp), 0);
	assert_int_equal(dev->state, POLICYKEY_STATE_TEMPORARY);
	assert_int_equal(dev->key, temp);
	assert_int_equal(policykey_provision_ack(dev, temp,
						 POLICYKEY_CLIENT_APPLIED,
						 false, &res, &final),
			 0);
	assert_int_equal(res, POLICYKEY_ACK_FINAL);
	assert_int_not_equal(final, temp);
	assert_int_equal(dev->state, POLICYKEY_STATE_FINAL);
	assert_int_equal(dev->key, final);
	assert_int_equal(dev->acked_key, temp);
	return final;
}

static void
test_two_step_and_replay(void **state)
{
	struct policykey_device dev;
	enum policykey_ack_result res;
	uint32_t final, again, temp;

	(void)state;
	memset(&dev, 0, sizeof(dev));
	final = provision(&dev, hash_a);
	/* the acknowledgement's response was lost: the client repeats it */
	assert_int_equal(policykey_provision_ack(&dev, dev.acked_key,
						 POLICYKEY_CLIENT_APPLIED,
						 false, &res, &again),
			 0);
	assert_int_equal(res, POLICYKEY_ACK_REPLAY);
	assert_int_equal(again, final);
	assert_int_equal(dev.key, final);
	/* acknowledging the final key itself, or any other key: Status 5 */
	assert_int_equal(policykey_provision_ack(&dev, final,
						 POLICYKEY_CLIENT_APPLIED,
						 false, &res, &again),
			 0);
	assert_int_equal(res, POLICYKEY_ACK_WRONG_KEY);
	assert_int_equal(again, 0);
	assert_int_equal(dev.key, final);
	/* re-provisioning invalidates the old final key and the replay */
	temp = dev.acked_key;
	assert_int_equal(policykey_provision_initial(&dev, hash_b, &again), 0);
	assert_int_equal(policykey_provision_ack(&dev, temp,
						 POLICYKEY_CLIENT_APPLIED,
						 false, &res, &again),
			 0);
	assert_int_equal(res, POLICYKEY_ACK_WRONG_KEY);
	assert_memory_equal(dev.policy_hash, hash_b, POLICY_HASH_BYTES);
}

static void
test_ack_without_initial(void **state)
{
	struct policykey_device dev;
	enum policykey_ack_result res;
	uint32_t k;

	(void)state;
	memset(&dev, 0, sizeof(dev));
	assert_int_equal(policykey_provision_ack(&dev, 0,
						 POLICYKEY_CLIENT_APPLIED,
						 false, &res, &k),
			 0);
	assert_int_equal(res, POLICYKEY_ACK_WRONG_KEY);
	assert_int_equal(policykey_provision_ack(&dev, 1234,
						 POLICYKEY_CLIENT_APPLIED, true,
						 &res, &k),
			 0);
	assert_int_equal(res, POLICYKEY_ACK_WRONG_KEY);
	assert_int_equal(dev.state, POLICYKEY_STATE_NONE);
}

static void
test_non_compliant_client(void **state)
{
	struct policykey_device dev;
	enum policykey_ack_result res;
	uint32_t temp, k;

	(void)state;
	memset(&dev, 0, sizeof(dev));
	assert_int_equal(policykey_provision_initial(&dev, hash_a, &temp), 0);
	assert_int_equal(policykey_provision_ack(&dev, temp,
						 POLICYKEY_CLIENT_NOT_APPLIED,
						 false, &res, &k),
			 0);
	assert_int_equal(res, POLICYKEY_ACK_REFUSED);
	assert_int_equal(dev.state, POLICYKEY_STATE_NONE);
	assert_int_equal(k, 0);
	/* allowed by the policy: the final key is issued anyway */
	assert_int_equal(policykey_provision_initial(&dev, hash_a, &temp), 0);
	assert_int_equal(policykey_provision_ack(&dev, temp,
						 POLICYKEY_CLIENT_PARTIAL, true,
						 &res, &k),
			 0);
	assert_int_equal(res, POLICYKEY_ACK_FINAL);
	assert_int_equal(dev.state, POLICYKEY_STATE_FINAL);
}

static void
check(const struct policykey_device *dev, enum eas_cmd_id cmd,
      enum eas_version v, bool has_key, uint32_t key, const uint8_t *hash,
      bool allow_np, enum policykey_verdict verdict, unsigned http,
      unsigned status)
{
	struct policykey_answer a;

	policykey_check(dev, eas_cmd_by_id(cmd), v, has_key, key, hash,
			allow_np, &a);
	assert_int_equal(a.verdict, verdict);
	assert_int_equal(a.http_status, http);
	assert_int_equal(a.eas_status, status);
}

static void
test_check_verdicts(void **state)
{
	struct policykey_device dev;
	uint32_t final, temp;

	(void)state;
	memset(&dev, 0, sizeof(dev));
	/* nothing yet */
	check(&dev, EAS_CMD_SYNC, EAS_VERSION_14_1, false, 0, hash_a, false,
	      POLICYKEY_NOT_PROVISIONED, 200, 142);
	check(&dev, EAS_CMD_SYNC, EAS_VERSION_12_1, true, 0, hash_a, false,
	      POLICYKEY_NOT_PROVISIONED, 449, 0);
	check(&dev, EAS_CMD_FOLDERSYNC, EAS_VERSION_2_5, false, 0, hash_a,
	      false, POLICYKEY_NOT_PROVISIONED, 449, 0);
	/* Provision never needs a key */
	check(&dev, EAS_CMD_PROVISION, EAS_VERSION_14_1, false, 0, hash_a,
	      false, POLICYKEY_OK, 200, 0);
	/* a client that never provisions, where the policy allows it */
	check(&dev, EAS_CMD_SYNC, EAS_VERSION_16_1, false, 0, hash_a, true,
	      POLICYKEY_OK, 200, 0);
	/* ... but a bogus key is still refused */
	check(&dev, EAS_CMD_SYNC, EAS_VERSION_16_1, true, 77, hash_a, true,
	      POLICYKEY_NOT_PROVISIONED, 200, 142);
	/* temporary key: only good for the acknowledgement */
	assert_int_equal(policykey_provision_initial(&dev, hash_a, &temp), 0);
	check(&dev, EAS_CMD_PING, EAS_VERSION_14_0, true, temp, hash_a, false,
	      POLICYKEY_NOT_PROVISIONED, 200, 142);
	final = provision(&dev, hash_a);
	check(&dev, EAS_CMD_PING, EAS_VERSION_14_0, true, final, hash_a, false,
	      POLICYKEY_OK, 200, 0);
	check(&dev, EAS_CMD_PING, EAS_VERSION_14_0, true, final + 1, hash_a,
	      false, POLICYKEY_INVALID_KEY, 200, 144);
	check(&dev, EAS_CMD_PING, EAS_VERSION_12_0, true, final + 1, hash_a,
	      false, POLICYKEY_INVALID_KEY, 449, 0);
	/* the administrator changed the policy */
	check(&dev, EAS_CMD_SYNC, EAS_VERSION_16_1, true, final, hash_b, false,
	      POLICYKEY_POLICY_REFRESH, 200, 143);
	check(&dev, EAS_CMD_SYNC, EAS_VERSION_2_5, true, final, hash_b, false,
	      POLICYKEY_POLICY_REFRESH, 449, 0);
	/* no key sent although the device is provisioned */
	check(&dev, EAS_CMD_SYNC, EAS_VERSION_16_1, false, 0, hash_a, false,
	      POLICYKEY_NOT_PROVISIONED, 200, 142);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_generate),
	    cmocka_unit_test(test_two_step_and_replay),
	    cmocka_unit_test(test_ack_without_initial),
	    cmocka_unit_test(test_non_compliant_client),
	    cmocka_unit_test(test_check_verdicts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
