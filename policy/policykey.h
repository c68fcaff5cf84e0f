/*
 * Policy keys and the two-step Provision of MS-ASPROV 3.1.5.1 / 3.2.5.1:
 * the client's first Provision gets a temporary key with the policy; its
 * acknowledgement with that key gets the final key, which the client then
 * sends with every command (X-MS-PolicyKey or the base64 query field).
 *
 * A device record (struct policykey_device) is what the mailbox stores per
 * device (reliability.md G9: keys survive crashes); the functions here are
 * pure transitions over it plus the per-command check the CAS runs before
 * dispatching.  Keys come from OpenSSL's RAND_bytes.
 */
#ifndef EASD_POLICY_POLICYKEY_H
#define EASD_POLICY_POLICYKEY_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/policy.h"
#include "proto/eas_cmd.h"

enum policykey_state {
	POLICYKEY_STATE_NONE = 0,  /* never provisioned (or reset) */
	POLICYKEY_STATE_TEMPORARY, /* policy sent, acknowledgement awaited */
	POLICYKEY_STATE_FINAL,     /* acknowledged: key valid for commands */
};

struct policykey_device {
	enum policykey_state state;
	uint32_t key; /* the temporary or final key; 0 in state NONE */
	/* The temporary key that earned the current final key, so that a
	 * repeated acknowledgement (its response was lost) gets the same
	 * final key again instead of Status 5.  0 if none. */
	uint32_t acked_key;
	/* Hash of the policy the key was issued for (policy_hash()). */
	uint8_t policy_hash[POLICY_HASH_BYTES];
};

/*
 * A fresh key: random, never 0 (the client's "no key", MS-ASPROV 3.1.5.1)
 * and never 0xFFFFFFFF (some clients print keys as signed integers, where
 * it reads as -1), and different from avoid (the key it replaces).
 * Returns -1 only if the random generator fails.
 */
int policykey_generate(uint32_t avoid, uint32_t *key_r);

/* The verdict on a command's policy key. */
enum policykey_verdict {
	POLICYKEY_OK = 0,
	POLICYKEY_NOT_PROVISIONED, /* no final key: provision first */
	POLICYKEY_POLICY_REFRESH,  /* key fine but the policy changed */
	POLICYKEY_INVALID_KEY,     /* a key that is not the device's */
};

/*
 * How the CAS answers a verdict other than OK.  Before 14.0 the answer is
 * HTTP 449 (MS-ASHTTP "Retry after sending a PROVISION command"); from
 * 14.0 it is HTTP 200 with the command's Status set to the MS-ASCMD 2.2.2
 * common status: 142 DeviceNotProvisioned, 143 PolicyRefresh,
 * 144 InvalidPolicyKey.
 */
#define POLICYKEY_HTTP_RETRY_AFTER_PROVISION 449u
#define POLICYKEY_STATUS_DEVICE_NOT_PROVISIONED 142u
#define POLICYKEY_STATUS_POLICY_REFRESH 143u
#define POLICYKEY_STATUS_INVALID_POLICY_KEY 144u

struct policykey_answer {
	enum policykey_verdict verdict;
	unsigned http_status; /* 200 or 449 */
	unsigned eas_status;  /* 0 (none) or 142..144 */
};

/*
 * Decide for a command.  has_key/key: what the request carried (ashttp's
 * has_policy_key/policy_key).  current_hash: the user's policy now.
 * allow_non_provisionable: the policy's AllowNonProvisionableDevices; a
 * request with no key at all is then let through (Outlook desktop never
 * provisions), but a wrong key never is.
 */
void policykey_check(const struct policykey_device *dev,
		     const struct eas_cmd *cmd, enum eas_version version,
		     bool has_key, uint32_t key,
		     const uint8_t current_hash[POLICY_HASH_BYTES],
		     bool allow_non_provisionable,
		     struct policykey_answer *ans_r);

/* MS-ASPROV 2.2.2.54.1: Policy Status in Provision responses. */
#define POLICYKEY_POLICY_STATUS_SUCCESS 1u
#define POLICYKEY_POLICY_STATUS_WRONG_KEY 5u
/* ... and the client's Status in the acknowledgement. */
#define POLICYKEY_CLIENT_APPLIED 1
#define POLICYKEY_CLIENT_PARTIAL 2
#define POLICYKEY_CLIENT_NOT_APPLIED 3
#define POLICYKEY_CLIENT_THIRD_PARTY 4

/*
 * The initial Provision request (no PolicyKey in the body, MS-ASPROV
 * 3.2.5.1.1): issue a temporary key for the policy with this hash.  Any
 * earlier key, temporary or final, stops being valid.
 */
int policykey_provision_initial(struct policykey_device *dev,
				const uint8_t hash[POLICY_HASH_BYTES],
				uint32_t *temp_key_r);

enum policykey_ack_result {
	POLICYKEY_ACK_FINAL,     /* final key issued; Policy Status 1 */
	POLICYKEY_ACK_REPLAY,    /* repeated ack: same final key, Status 1 */
	POLICYKEY_ACK_WRONG_KEY, /* Policy Status 5; device unchanged */
	/* The client did not apply the policy (client Status 2..4, or any
	 * unknown value) and non-compliant devices are not allowed: the
	 * temporary key is withdrawn and the CAS answers 403, as Exchange
	 * blocks such a device. */
	POLICYKEY_ACK_REFUSED,
};

/*
 * The acknowledgement (MS-ASPROV 3.2.5.1.2): the client echoes acked_key
 * with its client_status.  allow_non_compliant is the policy's
 * AllowNonProvisionableDevices.  *final_key_r is set for FINAL and REPLAY.
 * Returns -1 (device unchanged; answer Provision Status 3, server error)
 * only if no random key could be drawn.
 */
int policykey_provision_ack(struct policykey_device *dev, uint32_t acked_key,
			    int client_status, bool allow_non_compliant,
			    enum policykey_ack_result *result_r,
			    uint32_t *final_key_r);

#endif
