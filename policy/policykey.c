/*
 * Policy key generation and the Provision state machine (see
 * policykey.h).  States: NONE -> (initial Provision) -> TEMPORARY ->
 * (acknowledgement with that key) -> FINAL; an initial Provision from any
 * state starts over with a new temporary key.  Keys are checked with a
 * plain compare: they are not secrets (they travel in every request next
 * to Basic credentials), only state markers.
 */
#include "policy/policykey.h"

#include <string.h>

#include <openssl/rand.h>

/* RAND_bytes failing twice in a row means the generator is broken;
 * rejected values (0, ~0, avoid) are 3 in 2^32, so 8 tries never run out
 * in practice and bound the loop. */
#define POLICYKEY_MAX_TRIES 8

int
policykey_generate(uint32_t avoid, uint32_t *key_r)
{
	unsigned char b[4];
	uint32_t k;
	int i;

	for (i = 0; i < POLICYKEY_MAX_TRIES; i++) {
		if (RAND_bytes(b, sizeof(b)) != 1)
			return -1;
		k = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
		    (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
		if (k != 0 && k != UINT32_MAX && k != avoid) {
			*key_r = k;
			return 0;
		}
	}
	return -1;
}

static void
policykey_answer_set(struct policykey_answer *ans,
		     enum policykey_verdict verdict, enum eas_version version)
{
	ans->verdict = verdict;
	ans->http_status = 200;
	ans->eas_status = 0;
	if (verdict == POLICYKEY_OK)
		return;
	/* MS-ASCMD 2.2.2: the common status values exist from 14.0. */
	if (version < EAS_VERSION_14_0) {
		ans->http_status = POLICYKEY_HTTP_RETRY_AFTER_PROVISION;
		return;
	}
	switch (verdict) {
	case POLICYKEY_NOT_PROVISIONED:
		ans->eas_status = POLICYKEY_STATUS_DEVICE_NOT_PROVISIONED;
		break;
	case POLICYKEY_POLICY_REFRESH:
		ans->eas_status = POLICYKEY_STATUS_POLICY_REFRESH;
		break;
	case POLICYKEY_INVALID_KEY:
		ans->eas_status = POLICYKEY_STATUS_INVALID_POLICY_KEY;
		break;
	case POLICYKEY_OK:
		break;
	}
}

void
policykey_check(const struct policykey_device *dev, const struct eas_cmd *cmd,
		enum eas_version version, bool has_key, uint32_t key,
		const uint8_t current_hash[POLICY_HASH_BYTES],
		bool allow_non_provisionable, struct policykey_answer *ans_r)
{
	enum policykey_verdict v;

	if (!cmd->needs_policy_key) {
		v = POLICYKEY_OK;
	} else if (!has_key && allow_non_provisionable) {
		/* A client that does not do provisioning at all. */
		v = POLICYKEY_OK;
	} else if (!has_key || key == 0) {
		/* "0" is the client saying it holds no key. */
		v = POLICYKEY_NOT_PROVISIONED;
	} else if (dev->state != POLICYKEY_STATE_FINAL) {
		/* A temporary key only serves the acknowledgement, and an old
		 * final key died when a new temporary one was issued: either
		 * way the device has to finish provisioning. */
		v = POLICYKEY_NOT_PROVISIONED;
	} else if (key != dev->key) {
		v = POLICYKEY_INVALID_KEY;
	} else if (memcmp(dev->policy_hash, current_hash, POLICY_HASH_BYTES) !=
		   0) {
		v = POLICYKEY_POLICY_REFRESH;
	} else {
		v = POLICYKEY_OK;
	}
	policykey_answer_set(ans_r, v, version);
}

int
policykey_provision_initial(struct policykey_device *dev,
			    const uint8_t hash[POLICY_HASH_BYTES],
			    uint32_t *temp_key_r)
{
	uint32_t k;

	if (policykey_generate(dev->key, &k) < 0)
		return -1;
	dev->state = POLICYKEY_STATE_TEMPORARY;
	dev->key = k;
	dev->acked_key = 0;
	memcpy(dev->policy_hash, hash, POLICY_HASH_BYTES);
	*temp_key_r = k;
	return 0;
}

int
policykey_provision_ack(struct policykey_device *dev, uint32_t acked_key,
			int client_status, bool allow_non_compliant,
			enum policykey_ack_result *result_r,
			uint32_t *final_key_r)
{
	uint32_t k;

	*final_key_r = 0;
	if (dev->state == POLICYKEY_STATE_FINAL && dev->acked_key != 0 &&
	    acked_key == dev->acked_key) {
		*result_r = POLICYKEY_ACK_REPLAY;
		*final_key_r = dev->key;
		return 0;
	}
	if (dev->state != POLICYKEY_STATE_TEMPORARY || acked_key == 0 ||
	    acked_key != dev->key) {
		*result_r = POLICYKEY_ACK_WRONG_KEY;
		return 0;
	}
	if (client_status != POLICYKEY_CLIENT_APPLIED && !allow_non_compliant) {
		dev->state = POLICYKEY_STATE_NONE;
		dev->key = 0;
		dev->acked_key = 0;
		*result_r = POLICYKEY_ACK_REFUSED;
		return 0;
	}
	/* No randomness: the temporary key stays, so a retry can work. */
	if (policykey_generate(dev->key, &k) < 0)
		return -1;
	dev->acked_key = dev->key;
	dev->key = k;
	dev->state = POLICYKEY_STATE_FINAL;
	*result_r = POLICYKEY_ACK_FINAL;
	*final_key_r = k;
	return 0;
}
