/*
 * Devices (partnerships) in the directory database, per user and device
 * id: what the device told us (MS-ASCMD Settings DeviceInformation and the
 * MS-ASHTTP request), its first and last sync, its policy key and the
 * state of the provisioning handshake, its access state (allow, block,
 * quarantine) and its remote-wipe state.  All of it is committed durably,
 * so policy keys and wipe states survive crashes (G9).
 */
#ifndef EASD_MAILBOX_DEVICES_H
#define EASD_MAILBOX_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox/directory.h"

/* MS-ASPROV two-step Provision: a temporary key issued, then acked. */
enum dev_policy_state {
	DEV_POLICY_NONE = 0,
	DEV_POLICY_PROVISIONAL = 1,
	DEV_POLICY_ACKNOWLEDGED = 2,
};

/* MS-ASPROV RemoteWipe / AccountOnlyRemoteWipe (16.1). */
enum dev_wipe {
	DEV_WIPE_NONE = 0,
	DEV_WIPE_PENDING = 1,
	DEV_WIPE_PENDING_ACCOUNT_ONLY = 2,
	DEV_WIPE_ACKNOWLEDGED = 3,
};

struct dir_device {
	int64_t user_id;
	char *device_id;
	char *device_type, *model, *imei, *os, *user_agent;
	char *friendly_name, *protocol_version;
	int64_t first_sync, last_sync; /* unix seconds */
	uint32_t policy_key;
	enum dev_policy_state policy_state;
	char *policy_hash; /* of the policy the key was issued for */
	enum dir_access access;
	char *access_reason;
	enum dev_wipe wipe;
	int64_t wipe_requested, wipe_acked;
	/* Settings DeviceInformation and DevicePassword (dir schema v2). */
	char *phone_number, *os_language, *mobile_operator;
	bool enable_outbound_sms;
	/* Settings DevicePassword, sealed (mailbox/secret.h; dir schema v3):
	 * NULL: none. */
	uint8_t *recovery_sealed;
	size_t recovery_sealed_len;
};

void dir_device_clear(struct dir_device *d);
void dir_device_list_free(struct dir_device **devs, size_t count);

/*
 * Records a request from a device: creates the partnership on first
 * contact (its access level from the rules, see store_dir_access_evaluate)
 * and updates type, user agent, protocol version (non-NULL ones) and the
 * last sync time.  *d_r gets the device as stored (may be NULL).
 */
int store_dir_device_seen(struct store_dir *dir, int64_t user_id,
			  const char *device_id, const char *device_type,
			  const char *user_agent, const char *protocol_version,
			  int64_t now, struct dir_device *d_r);
/* Settings DeviceInformation: stores the non-NULL text fields of info
 * (model, imei, os, friendly_name, user_agent, device_type, phone_number,
 * os_language, mobile_operator) and, when any of those is given,
 * enable_outbound_sms. */
int store_dir_device_set_info(struct store_dir *dir, int64_t user_id,
			      const char *device_id,
			      const struct dir_device *info);
/* Settings DevicePassword (MS-ASCMD 2.2.3.46): the recovery password as
 * sealed by secret_seal (the caller seals; the store never sees it in
 * clear); NULL clears it.  STORE_INVALID when longer than
 * STORE_MAX_DEVICE_TEXT_BYTES + SECRET_OVERHEAD. */
int store_dir_device_set_recovery_sealed(struct store_dir *dir, int64_t user_id,
					 const char *device_id,
					 const uint8_t *sealed,
					 size_t sealed_len);
/*
 * Upgrade from dir schema v2, where recovery passwords were stored in
 * clear: seal(ctx, user, device, plain, &sealed, &len) each one, store the
 * sealed value and empty the plain column, in one transaction with
 * SQLite's secure_delete on (the freed bytes are zeroed), then checkpoint
 * and truncate the WAL so that no copy of a plain value stays in either
 * file.  *count_r: values sealed (0 on every later start).
 */
typedef int store_dir_seal_fn(void *ctx, int64_t user_id, const char *device_id,
			      const char *plain, uint8_t **sealed_r,
			      size_t *sealed_len_r);
int store_dir_devpw_migrate(struct store_dir *dir, store_dir_seal_fn *seal,
			    void *ctx, size_t *count_r);
int store_dir_device_get(struct store_dir *dir, int64_t user_id,
			 const char *device_id, struct dir_device *d_r);
/* A user's devices (user_id 0: every user's). */
int store_dir_device_list(struct store_dir *dir, int64_t user_id,
			  struct dir_device **devs_r, size_t *count_r);
int store_dir_device_del(struct store_dir *dir, int64_t user_id,
			 const char *device_id);
int store_dir_device_set_policy(struct store_dir *dir, int64_t user_id,
				const char *device_id, uint32_t policy_key,
				enum dev_policy_state state,
				const char *policy_hash);
int store_dir_device_set_access(struct store_dir *dir, int64_t user_id,
				const char *device_id, enum dir_access level,
				const char *reason);
/* Marks a wipe pending; it stays pending until acknowledged. */
int store_dir_device_wipe_request(struct store_dir *dir, int64_t user_id,
				  const char *device_id, bool account_only,
				  int64_t now);
/* The device acknowledged the wipe: it stays blocked until cleared. */
int store_dir_device_wipe_ack(struct store_dir *dir, int64_t user_id,
			      const char *device_id, int64_t now);
/* Administrator: no wipe state, access allowed again. */
int store_dir_device_wipe_clear(struct store_dir *dir, int64_t user_id,
				const char *device_id);
/* The level of the first rule matching the device (by rule id), else the
 * default access level. */
int store_dir_access_evaluate(struct store_dir *dir, const struct dir_device *d,
			      enum dir_access *level_r);

#endif
