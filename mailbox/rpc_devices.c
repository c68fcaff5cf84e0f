/*
 * RPC handlers for devices, policies and provisioning: DeviceRegister (the
 * CAS's upsert on each request), DeviceList, DeviceSetAccess and
 * DeviceWipe (easctl), DeviceWipeAck (MS-ASPROV 3.1.5.1.2), PolicyGet,
 * PolicySet, PolicyAssign and ProvisionGet/Set (MS-ASPROV two-step
 * Provision).  Devices live in the directory per (user, device id), so a
 * request about another user's device id finds nothing (invariant 6).
 * Every change is durable before the reply (G9) and announced with a
 * DeviceChanged event so a CAS can act on a wipe or block at once.
 */
#include "mailbox/rpc_server.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mailbox/devices.h"
#include "mailbox/directory.h"
#include "mailbox/notify.h"
#include "policy/policy.h"
#include "proto/limits.h"

static struct store_dir *
open_dir(struct mbox_req *r)
{
	enum store_status status;
	struct store_dir *dir = mbox_shard_dir(r->ctx, &status);

	if (dir == NULL)
		mbox_reply_store_error(r, status, "directory unavailable");
	return dir;
}

static void
reply_dir_error(struct mbox_req *r, struct store_dir *dir)
{
	mbox_reply_store_error(r, store_dir_last_error(dir)->status,
			       store_dir_last_error(dir)->msg);
}

static bool
valid_device(const char *device)
{
	size_t len = strlen(device);

	return len > 0 && len <= STORE_MAX_DEVICE_ID_BYTES;
}

static Rpc__DeviceAccess
access_to_rpc(enum dir_access a)
{
	switch (a) {
	case DIR_ACCESS_BLOCK:
		return RPC__DEVICE_ACCESS__ACCESS_BLOCK;
	case DIR_ACCESS_QUARANTINE:
		return RPC__DEVICE_ACCESS__ACCESS_QUARANTINE;
	case DIR_ACCESS_ALLOW:
		break;
	}
	return RPC__DEVICE_ACCESS__ACCESS_ALLOW;
}

static Rpc__WipeState
wipe_to_rpc(enum dev_wipe w)
{
	switch (w) {
	case DEV_WIPE_PENDING:
		return RPC__WIPE_STATE__WIPE_REQUESTED;
	case DEV_WIPE_PENDING_ACCOUNT_ONLY:
		return RPC__WIPE_STATE__WIPE_ACCOUNT_REQUESTED;
	case DEV_WIPE_ACKNOWLEDGED:
		return RPC__WIPE_STATE__WIPE_DONE;
	case DEV_WIPE_NONE:
		break;
	}
	return RPC__WIPE_STATE__WIPE_NONE;
}

static char *
dup_or_empty(struct mbox_req *r, const char *s)
{
	return mbox_strdup(r, s != NULL ? s : "");
}

static Rpc__Device *
device_msg(struct mbox_req *r, const struct dir_device *d)
{
	Rpc__Device *m = mbox_alloc(r, sizeof(*m));
	char key[16];

	if (m == NULL)
		return NULL;
	rpc__device__init(m);
	m->device_id = dup_or_empty(r, d->device_id);
	m->device_type = dup_or_empty(r, d->device_type);
	m->model = dup_or_empty(r, d->model);
	m->user_agent = dup_or_empty(r, d->user_agent);
	m->protocol_version = dup_or_empty(r, d->protocol_version);
	m->friendly_name = dup_or_empty(r, d->friendly_name);
	m->os = dup_or_empty(r, d->os);
	m->imei = dup_or_empty(r, d->imei);
	m->phone_number = dup_or_empty(r, d->phone_number);
	m->os_language = dup_or_empty(r, d->os_language);
	m->mobile_operator = dup_or_empty(r, d->mobile_operator);
	m->enable_outbound_sms = d->enable_outbound_sms;
	/* Only that there is one: the password itself is sealed at rest and
	 * opened for an administrator who asks for it by name
	 * (DevicePasswordGet, rpc_oof.c), never in a list. */
	m->has_recovery_password = d->recovery_sealed != NULL;
	m->first_seen = d->first_sync;
	m->last_seen = d->last_sync;
	m->access = access_to_rpc(d->access);
	m->wipe = wipe_to_rpc(d->wipe);
	if (d->policy_key != 0) {
		(void)snprintf(key, sizeof(key), "%" PRIu32, d->policy_key);
		m->policy_key = mbox_strdup(r, key);
	}
	if (m->device_id == NULL || m->policy_key == NULL)
		return NULL;
	return m;
}

/* Reply with the device as stored now. */
static void
reply_device(struct mbox_req *r, struct store_dir *dir, const char *device)
{
	Rpc__DeviceReply rep;
	rpc__device_reply__init(&rep);
	struct dir_device d = {0};

	if (store_dir_device_get(dir, r->user, device, &d) < 0) {
		reply_dir_error(r, dir);
		return;
	}
	rep.device = device_msg(r, &d);
	dir_device_clear(&d);
	if (rep.device == NULL)
		return;
	rep.status = RPC__STATUS__STATUS_OK;
	mbox_reply(r, &rep.base);
}

static const char *
nonempty(const char *s)
{
	return s != NULL && *s ? s : NULL;
}

void
mbox_rpc_device_register(struct mbox_req *r)
{
	Rpc__DeviceRegisterRequest *q = (void *)r->msg;
	struct dir_device info = {0};
	struct store_dir *dir;
	const Rpc__Device *d = q->device;

	if (d == NULL || !valid_device(d->device_id)) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "device id missing or too long");
		return;
	}
	dir = open_dir(r);
	if (dir == NULL)
		return;
	if (store_dir_device_seen(
		dir, r->user, d->device_id, nonempty(d->device_type),
		nonempty(d->user_agent), nonempty(d->protocol_version),
		(int64_t)time(NULL), NULL) < 0) {
		reply_dir_error(r, dir);
		return;
	}
	info.model = (char *)(uintptr_t)nonempty(d->model);
	info.imei = (char *)(uintptr_t)nonempty(d->imei);
	info.os = (char *)(uintptr_t)nonempty(d->os);
	info.friendly_name = (char *)(uintptr_t)nonempty(d->friendly_name);
	info.phone_number = (char *)(uintptr_t)nonempty(d->phone_number);
	info.os_language = (char *)(uintptr_t)nonempty(d->os_language);
	info.mobile_operator = (char *)(uintptr_t)nonempty(d->mobile_operator);
	info.enable_outbound_sms = d->enable_outbound_sms;
	if ((info.model || info.imei || info.os || info.friendly_name ||
	     info.phone_number || info.os_language || info.mobile_operator) &&
	    store_dir_device_set_info(dir, r->user, d->device_id, &info) < 0) {
		reply_dir_error(r, dir);
		return;
	}
	reply_device(r, dir, d->device_id);
}

void
mbox_rpc_device_list(struct mbox_req *r)
{
	Rpc__DeviceListReply rep;
	rpc__device_list_reply__init(&rep);
	struct dir_device *devs = NULL;
	struct store_dir *dir;
	size_t n = 0;

	/* Every user's devices is an administrator's question. */
	if (r->user == 0 && !mbox_req_is_admin(r)) {
		mbox_reply_status(r, RPC__STATUS__STATUS_DENIED,
				  "administrative request");
		return;
	}
	dir = open_dir(r);
	if (dir == NULL)
		return;
	if (store_dir_device_list(dir, r->user, &devs, &n) < 0) {
		reply_dir_error(r, dir);
		return;
	}
	rep.devices = mbox_alloc(r, (n + 1) * sizeof(*rep.devices));
	if (rep.devices == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		Rpc__DeviceListEntry *e = mbox_alloc(r, sizeof(*e));

		if (e == NULL)
			goto out;
		rpc__device_list_entry__init(e);
		e->user = (uint64_t)devs[i].user_id;
		e->device = device_msg(r, &devs[i]);
		if (e->device == NULL)
			goto out;
		rep.devices[rep.n_devices++] = e;
	}
	rep.status = RPC__STATUS__STATUS_OK;
	mbox_reply(r, &rep.base);
out:
	dir_device_list_free(&devs, n);
}

void
mbox_rpc_device_set_access(struct mbox_req *r)
{
	Rpc__DeviceSetAccessRequest *q = (void *)r->msg;
	struct store_dir *dir;
	enum dir_access level;

	switch (q->access) {
	case RPC__DEVICE_ACCESS__ACCESS_ALLOW:
		level = DIR_ACCESS_ALLOW;
		break;
	case RPC__DEVICE_ACCESS__ACCESS_BLOCK:
		level = DIR_ACCESS_BLOCK;
		break;
	case RPC__DEVICE_ACCESS__ACCESS_QUARANTINE:
		level = DIR_ACCESS_QUARANTINE;
		break;
	default:
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "access level");
		return;
	}
	dir = open_dir(r);
	if (dir == NULL)
		return;
	if (store_dir_device_set_access(dir, r->user, q->device_id, level,
					"administrator") < 0) {
		reply_dir_error(r, dir);
		return;
	}
	notify_device(r->ctx, r->user, q->device_id,
		      RPC__DEVICE_CHANGE__DEVICE_CHANGE_ACCESS);
	reply_device(r, dir, q->device_id);
}

void
mbox_rpc_device_wipe(struct mbox_req *r)
{
	Rpc__DeviceWipeRequest *q = (void *)r->msg;
	struct store_dir *dir = open_dir(r);
	int rc;

	if (dir == NULL)
		return;
	switch (q->wipe) {
	case RPC__WIPE_STATE__WIPE_REQUESTED:
	case RPC__WIPE_STATE__WIPE_ACCOUNT_REQUESTED:
		rc = store_dir_device_wipe_request(
		    dir, r->user, q->device_id,
		    q->wipe == RPC__WIPE_STATE__WIPE_ACCOUNT_REQUESTED,
		    (int64_t)time(NULL));
		break;
	case RPC__WIPE_STATE__WIPE_NONE:
		rc = store_dir_device_wipe_clear(dir, r->user, q->device_id);
		break;
	default:
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID, "wipe state");
		return;
	}
	if (rc < 0) {
		reply_dir_error(r, dir);
		return;
	}
	notify_device(r->ctx, r->user, q->device_id,
		      RPC__DEVICE_CHANGE__DEVICE_CHANGE_WIPE_REQUESTED);
	reply_device(r, dir, q->device_id);
}

void
mbox_rpc_device_wipe_ack(struct mbox_req *r)
{
	Rpc__DeviceWipeAckRequest *q = (void *)r->msg;
	struct store_dir *dir = open_dir(r);
	struct dir_device d = {0};

	if (dir == NULL)
		return;
	if (store_dir_device_get(dir, r->user, q->device_id, &d) < 0) {
		reply_dir_error(r, dir);
		return;
	}
	/* Only a wipe that was asked for can be acknowledged. */
	if (d.wipe != DEV_WIPE_PENDING &&
	    d.wipe != DEV_WIPE_PENDING_ACCOUNT_ONLY) {
		dir_device_clear(&d);
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "no wipe pending");
		return;
	}
	dir_device_clear(&d);
	if (store_dir_device_wipe_ack(dir, r->user, q->device_id,
				      (int64_t)time(NULL)) < 0) {
		reply_dir_error(r, dir);
		return;
	}
	reply_device(r, dir, q->device_id);
}

/* ------------------------------------------------------------- policies */

static void
reply_policy(struct mbox_req *r, const char *name, const char *text)
{
	Rpc__PolicyReply rep;
	rpc__policy_reply__init(&rep);
	struct policy_error perr;
	struct policy *p = NULL;
	uint8_t *hash = mbox_alloc(r, POLICY_HASH_BYTES);

	if (hash == NULL)
		return;
	if (policy_from_text(text, strlen(text), &p, &perr) < 0 ||
	    policy_hash(p, hash) < 0) {
		policy_free(&p);
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "stored policy does not parse");
		return;
	}
	policy_free(&p);
	rep.status = RPC__STATUS__STATUS_OK;
	rep.name = (char *)(uintptr_t)name;
	rep.text = (char *)(uintptr_t)text;
	rep.hash.data = hash;
	rep.hash.len = POLICY_HASH_BYTES;
	mbox_reply(r, &rep.base);
}

void
mbox_rpc_policy_get(struct mbox_req *r)
{
	Rpc__PolicyGetRequest *q = (void *)r->msg;
	struct store_dir *dir = open_dir(r);
	char *name = NULL, *body = NULL;
	int rc;

	if (dir == NULL)
		return;
	if (*q->name != 0) {
		rc = store_dir_policy_get(dir, q->name, &body);
		name = strdup(q->name);
	} else if (r->user == 0) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "neither a name nor a user");
		return;
	} else {
		rc = store_dir_policy_for_user(dir, r->user, &name, &body);
	}
	if (rc < 0) {
		enum store_status s = store_dir_last_error(dir)->status;

		/* No policy at all: the default demands nothing
		 * (reliability.md), an empty policy text. */
		if (s == STORE_NOT_FOUND && *q->name == 0)
			reply_policy(r, "", "");
		else
			reply_dir_error(r, dir);
	} else {
		reply_policy(r, name != NULL ? name : "",
			     body != NULL ? body : "");
	}
	free(name);
	free(body);
}

void
mbox_rpc_policy_set(struct mbox_req *r)
{
	Rpc__PolicySetRequest *q = (void *)r->msg;
	struct store_dir *dir;
	struct policy_error perr;
	struct policy *p = NULL;

	if (*q->name == 0 || strlen(q->name) > STORE_MAX_LOGIN_BYTES) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "policy name");
		return;
	}
	if (policy_from_text(q->text, strlen(q->text), &p, &perr) < 0) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "policy text does not parse");
		return;
	}
	policy_free(&p);
	dir = open_dir(r);
	if (dir == NULL)
		return;
	if (store_dir_policy_set(dir, q->name, q->text) < 0) {
		reply_dir_error(r, dir);
		return;
	}
	reply_policy(r, q->name, q->text);
}

void
mbox_rpc_policy_assign(struct mbox_req *r)
{
	Rpc__PolicyAssignRequest *q = (void *)r->msg;
	struct store_dir *dir = open_dir(r);

	if (dir == NULL)
		return;
	if (store_dir_user_set_policy(dir, r->user, *q->name ? q->name : NULL) <
	    0) {
		reply_dir_error(r, dir);
		return;
	}
	mbox_reply_status(r, RPC__STATUS__STATUS_OK, NULL);
}

/* --------------------------------------------------------- provisioning */

static void
reply_provision(struct mbox_req *r, struct store_dir *dir, const char *device)
{
	Rpc__ProvisionReply rep;
	rpc__provision_reply__init(&rep);
	struct dir_device d = {0};
	char key[16];

	if (store_dir_device_get(dir, r->user, device, &d) < 0) {
		reply_dir_error(r, dir);
		return;
	}
	(void)snprintf(key, sizeof(key), "%" PRIu32, d.policy_key);
	rep.status = RPC__STATUS__STATUS_OK;
	rep.policy_key = d.policy_key != 0 ? key : "";
	rep.key_state = d.policy_state == DEV_POLICY_ACKNOWLEDGED
			    ? RPC__POLICY_KEY_STATE__KEY_FINAL
			: d.policy_state == DEV_POLICY_PROVISIONAL
			    ? RPC__POLICY_KEY_STATE__KEY_TEMPORARY
			    : RPC__POLICY_KEY_STATE__KEY_NONE;
	if (d.policy_hash != NULL) {
		/* Stored as hex (ProvisionSet): back to the bytes. */
		size_t n = strlen(d.policy_hash) / 2;
		uint8_t *h = mbox_alloc(r, n + 1);

		for (size_t i = 0; h != NULL && i < n; i++) {
			unsigned v;

			if (sscanf(d.policy_hash + 2 * i, "%2x", &v) != 1)
				break;
			h[i] = (uint8_t)v;
			rep.policy_hash.len = i + 1;
		}
		rep.policy_hash.data = h;
	}
	rep.wipe = wipe_to_rpc(d.wipe);
	rep.access = access_to_rpc(d.access);
	mbox_reply(r, &rep.base);
	dir_device_clear(&d);
}

void
mbox_rpc_provision_get(struct mbox_req *r)
{
	Rpc__ProvisionGetRequest *q = (void *)r->msg;
	struct store_dir *dir = open_dir(r);

	if (dir != NULL)
		reply_provision(r, dir, q->device_id);
}

void
mbox_rpc_provision_set(struct mbox_req *r)
{
	Rpc__ProvisionSetRequest *q = (void *)r->msg;
	struct store_dir *dir;
	enum dev_policy_state state;
	unsigned long key = 0;
	char *end = NULL;
	char hash[2 * POLICY_HASH_BYTES + 1];

	if (*q->policy_key != 0) {
		key = strtoul(q->policy_key, &end, 10);
		if (*end != 0 || key > UINT32_MAX) {
			mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
					  "policy key");
			return;
		}
	}
	/* The directory keeps the hash as text: store it hex-encoded. */
	if (q->policy_hash.len > POLICY_HASH_BYTES) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "policy hash");
		return;
	}
	for (size_t i = 0; i < q->policy_hash.len; i++)
		(void)snprintf(hash + 2 * i, 3, "%02x", q->policy_hash.data[i]);
	hash[2 * q->policy_hash.len] = 0;
	state = q->key_state == RPC__POLICY_KEY_STATE__KEY_FINAL
		    ? DEV_POLICY_ACKNOWLEDGED
		: q->key_state == RPC__POLICY_KEY_STATE__KEY_TEMPORARY
		    ? DEV_POLICY_PROVISIONAL
		    : DEV_POLICY_NONE;
	dir = open_dir(r);
	if (dir == NULL)
		return;
	if (store_dir_device_set_policy(dir, r->user, q->device_id,
					(uint32_t)key, state, hash) < 0) {
		reply_dir_error(r, dir);
		return;
	}
	reply_provision(r, dir, q->device_id);
}
