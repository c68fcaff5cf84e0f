/*
 * `easctl device`: the devices (EAS partnerships) the mailbox knows.
 *
 *   easctl device list [USER]
 *   easctl device wipe USER DEVICEID [--account-only]
 *   easctl device cancel-wipe USER DEVICEID
 *   easctl device allow|block|quarantine USER DEVICEID
 *   easctl device password USER DEVICEID
 *
 * A wipe is account-only wherever the device can do it (16.1) unless it
 * is known to speak less (policy/wipe.h WIPE_REQUEST_AUTO); --account-only
 * refuses to fall back to a factory reset.  The device receives the
 * directive at its next command (Status 140 / HTTP 449, then Provision).
 * cancel-wipe also clears a wiped device, which otherwise stays refused.
 * password prints the recovery password the device stored with Settings
 * DevicePassword (MS-ASCMD 2.2.3.46), for the user locked out of the
 * phone; the mailbox keeps it sealed and logs each read-out.
 */
#include "tools/easctl.h"
#include "tools/easctl_rpc.h"

#include "policy/wipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char device_usage[] =
    "usage: easctl device list [USER]\n"
    "       easctl device wipe USER DEVICEID [--account-only]\n"
    "       easctl device cancel-wipe USER DEVICEID\n"
    "       easctl device allow|block|quarantine USER DEVICEID\n"
    "       easctl device password USER DEVICEID\n";

#define DEVICE_USER_PAGE 500u

static const char *
access_name(Rpc__DeviceAccess a)
{
	switch (a) {
	case RPC__DEVICE_ACCESS__ACCESS_BLOCK:
		return "blocked";
	case RPC__DEVICE_ACCESS__ACCESS_QUARANTINE:
		return "quarantined";
	case RPC__DEVICE_ACCESS__ACCESS_ALLOW:
	default:
		return "allowed";
	}
}

static const char *
wipe_name(Rpc__WipeState w)
{
	switch (w) {
	case RPC__WIPE_STATE__WIPE_REQUESTED:
		return "wipe-pending";
	case RPC__WIPE_STATE__WIPE_ACCOUNT_REQUESTED:
		return "account-wipe-pending";
	case RPC__WIPE_STATE__WIPE_DONE:
		return "wiped";
	case RPC__WIPE_STATE__WIPE_NONE:
	default:
		return "-";
	}
}

static void
fmt_time(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%dT%H:%MZ", &tm) == 0)
		(void)snprintf(out, size, "-");
}

static const char *
dash(const char *s)
{
	return s != NULL && s[0] != 0 ? s : "-";
}

/* The login of a user id, from a UserGet; "-" style fallback. */
static void
login_of(struct easctl_rpc *rpc, uint64_t user, char *out, size_t size)
{
	Rpc__UserGetRequest m;
	ProtobufCMessage *reply = NULL;
	const Rpc__UserReply *ur;

	rpc__user_get_request__init(&m);
	m.user = user;
	(void)snprintf(out, size, "#%llu", (unsigned long long)user);
	if (easctl_rpc_call(rpc, RPC__MSG_TYPE__MSG_USER_GET, &m.base,
			    &reply) == RPC__STATUS__STATUS_OK) {
		ur = (const Rpc__UserReply *)reply;
		if (ur != NULL && ur->info != NULL && ur->info->login != NULL)
			(void)snprintf(out, size, "%s", ur->info->login);
	}
	if (reply != NULL)
		protobuf_c_message_free_unpacked(reply, NULL);
}

/* What Settings DeviceInformation and DevicePassword stored, on an
 * indented line under the device's row (only when any was sent).  Of the
 * recovery password only whether one is stored. */
static void
device_print_info(const Rpc__Device *d)
{
	const struct {
		const char *label, *value;
	} f[] = {
	    {"name", d->friendly_name}, {"os", d->os},
	    {"lang", d->os_language},   {"imei", d->imei},
	    {"phone", d->phone_number}, {"operator", d->mobile_operator},
	};
	bool any = d->enable_outbound_sms || d->has_recovery_password;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]) && !any; i++)
		any = f[i].value != NULL && f[i].value[0] != 0;
	if (!any)
		return;
	printf("    info:");
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].value != NULL && f[i].value[0] != 0)
			printf(" %s=\"%s\"", f[i].label, f[i].value);
	if (d->enable_outbound_sms)
		printf(" outbound-sms=yes");
	/* The value itself: `easctl device password USER DEVICEID`. */
	if (d->has_recovery_password)
		printf(" recovery-password=set");
	printf("\n");
}

static int
device_cmd_list(struct easctl_rpc *rpc, const char *login)
{
	Rpc__DeviceListRequest m;
	ProtobufCMessage *reply = NULL;
	const Rpc__DeviceListReply *dl;
	Rpc__Status st;
	uint64_t user = 0, last_user = 0;
	char name[256] = "", first[32], last[32];

	if (login != NULL && easctl_rpc_user_id(rpc, login, &user) != 0)
		return EASCTL_EXIT_FAIL;
	rpc__device_list_request__init(&m);
	m.user = user;
	st = easctl_rpc_call(rpc, RPC__MSG_TYPE__MSG_DEVICE_LIST, &m.base,
			     &reply);
	dl = (const Rpc__DeviceListReply *)reply;
	if (st != RPC__STATUS__STATUS_OK || dl == NULL) {
		fprintf(stderr, "easctl: listing devices: %s\n",
			easctl_rpc_status_text(st));
		if (reply != NULL)
			protobuf_c_message_free_unpacked(reply, NULL);
		return EASCTL_EXIT_FAIL;
	}
	printf("%-16s %-24s %-12s %-16s %-24s %-5s %-17s %-17s %-11s %-8s "
	       "%s\n",
	       "USER", "DEVICE", "TYPE", "MODEL", "USER-AGENT", "VER",
	       "FIRST-SYNC", "LAST-SYNC", "ACCESS", "POLICY", "WIPE");
	for (size_t i = 0; i < dl->n_devices; i++) {
		const Rpc__Device *d = dl->devices[i]->device;

		if (d == NULL)
			continue;
		if (login != NULL)
			(void)snprintf(name, sizeof(name), "%s", login);
		else if (dl->devices[i]->user != last_user || name[0] == 0)
			login_of(rpc, dl->devices[i]->user, name, sizeof(name));
		last_user = dl->devices[i]->user;
		fmt_time(d->first_seen, first, sizeof(first));
		fmt_time(d->last_seen, last, sizeof(last));
		printf("%-16s %-24s %-12s %-16s %-24s %-5s %-17s %-17s %-11s "
		       "%-8s %s\n",
		       name, dash(d->device_id), dash(d->device_type),
		       dash(d->model), dash(d->user_agent),
		       dash(d->protocol_version), first, last,
		       access_name(d->access),
		       d->policy_key != NULL && d->policy_key[0] != 0
			   ? "applied"
			   : "none",
		       wipe_name(d->wipe));
		device_print_info(d);
	}
	protobuf_c_message_free_unpacked(reply, NULL);
	return EASCTL_EXIT_OK;
}

/* The device's record (for its wipe state and protocol version). */
static int
device_find(struct easctl_rpc *rpc, uint64_t user, const char *device_id,
	    Rpc__WipeState *wipe_r, enum eas_version *version_r)
{
	Rpc__DeviceListRequest m;
	ProtobufCMessage *reply = NULL;
	const Rpc__DeviceListReply *dl;
	Rpc__Status st;
	int rc = -1;

	rpc__device_list_request__init(&m);
	m.user = user;
	st = easctl_rpc_call(rpc, RPC__MSG_TYPE__MSG_DEVICE_LIST, &m.base,
			     &reply);
	dl = (const Rpc__DeviceListReply *)reply;
	if (st != RPC__STATUS__STATUS_OK || dl == NULL) {
		fprintf(stderr, "easctl: listing devices: %s\n",
			easctl_rpc_status_text(st));
		goto out;
	}
	for (size_t i = 0; i < dl->n_devices; i++) {
		const Rpc__Device *d = dl->devices[i]->device;

		if (d == NULL || strcmp(d->device_id, device_id) != 0)
			continue;
		*wipe_r = d->wipe;
		if (d->protocol_version == NULL ||
		    eas_version_parse(d->protocol_version,
				      strlen(d->protocol_version),
				      version_r) != 0)
			*version_r = EAS_VERSION_NONE;
		rc = 0;
		goto out;
	}
	fprintf(stderr, "easctl: no such device for this user: %s\n",
		device_id);
out:
	if (reply != NULL)
		protobuf_c_message_free_unpacked(reply, NULL);
	return rc;
}

static enum wipe_state
wipe_from_rpc(Rpc__WipeState w)
{
	switch (w) {
	case RPC__WIPE_STATE__WIPE_REQUESTED:
		return WIPE_STATE_PENDING;
	case RPC__WIPE_STATE__WIPE_ACCOUNT_REQUESTED:
		return WIPE_STATE_PENDING_ACCOUNT_ONLY;
	case RPC__WIPE_STATE__WIPE_DONE:
		return WIPE_STATE_WIPED;
	case RPC__WIPE_STATE__WIPE_NONE:
	default:
		return WIPE_STATE_NONE;
	}
}

static int
device_set_wipe(struct easctl_rpc *rpc, uint64_t user, const char *device_id,
		Rpc__WipeState wipe)
{
	Rpc__DeviceWipeRequest m;
	ProtobufCMessage *reply = NULL;
	Rpc__Status st;

	rpc__device_wipe_request__init(&m);
	m.user = user;
	m.device_id = (char *)(uintptr_t)device_id;
	m.wipe = wipe;
	st = easctl_rpc_call(rpc, RPC__MSG_TYPE__MSG_DEVICE_WIPE, &m.base,
			     &reply);
	if (reply != NULL)
		protobuf_c_message_free_unpacked(reply, NULL);
	if (st != RPC__STATUS__STATUS_OK) {
		fprintf(stderr, "easctl: device %s: %s\n", device_id,
			easctl_rpc_status_text(st));
		return EASCTL_EXIT_FAIL;
	}
	return EASCTL_EXIT_OK;
}

static int
device_cmd_wipe(struct easctl_rpc *rpc, const char *login,
		const char *device_id, bool account_only)
{
	uint64_t user;
	Rpc__WipeState cur;
	enum eas_version version;
	enum wipe_state next;
	const char *error = NULL;

	if (easctl_rpc_user_id(rpc, login, &user) != 0 ||
	    device_find(rpc, user, device_id, &cur, &version) != 0)
		return EASCTL_EXIT_FAIL;
	if (wipe_request(wipe_from_rpc(cur),
			 account_only ? WIPE_REQUEST_ACCOUNT_ONLY
				      : WIPE_REQUEST_AUTO,
			 version, &next, &error) != 0) {
		fprintf(stderr, "easctl: cannot wipe %s: %s\n", device_id,
			error != NULL ? error : "refused");
		return EASCTL_EXIT_FAIL;
	}
	if (device_set_wipe(rpc, user, device_id,
			    next == WIPE_STATE_PENDING_ACCOUNT_ONLY
				? RPC__WIPE_STATE__WIPE_ACCOUNT_REQUESTED
				: RPC__WIPE_STATE__WIPE_REQUESTED) != 0)
		return EASCTL_EXIT_FAIL;
	printf("%s wipe requested for %s of %s; it is sent at the device's "
	       "next connection\n",
	       next == WIPE_STATE_PENDING_ACCOUNT_ONLY ? "account-only"
						       : "full",
	       device_id, login);
	return EASCTL_EXIT_OK;
}

static int
device_cmd_cancel_wipe(struct easctl_rpc *rpc, const char *login,
		       const char *device_id)
{
	uint64_t user;
	Rpc__WipeState cur;
	enum eas_version version;

	if (easctl_rpc_user_id(rpc, login, &user) != 0 ||
	    device_find(rpc, user, device_id, &cur, &version) != 0)
		return EASCTL_EXIT_FAIL;
	if (cur == RPC__WIPE_STATE__WIPE_NONE) {
		fprintf(stderr, "easctl: no wipe pending for %s\n", device_id);
		return EASCTL_EXIT_FAIL;
	}
	if (device_set_wipe(rpc, user, device_id, RPC__WIPE_STATE__WIPE_NONE) !=
	    0)
		return EASCTL_EXIT_FAIL;
	printf("wipe state of %s cleared\n", device_id);
	return EASCTL_EXIT_OK;
}

static int
device_cmd_access(struct easctl_rpc *rpc, const char *login,
		  const char *device_id, Rpc__DeviceAccess access)
{
	Rpc__DeviceSetAccessRequest m;
	ProtobufCMessage *reply = NULL;
	Rpc__Status st;
	uint64_t user;

	if (easctl_rpc_user_id(rpc, login, &user) != 0)
		return EASCTL_EXIT_FAIL;
	rpc__device_set_access_request__init(&m);
	m.user = user;
	m.device_id = (char *)(uintptr_t)device_id;
	m.access = access;
	st = easctl_rpc_call(rpc, RPC__MSG_TYPE__MSG_DEVICE_SET_ACCESS, &m.base,
			     &reply);
	if (reply != NULL)
		protobuf_c_message_free_unpacked(reply, NULL);
	if (st == RPC__STATUS__STATUS_NOT_FOUND) {
		fprintf(stderr, "easctl: no such device for this user: %s\n",
			device_id);
		return EASCTL_EXIT_FAIL;
	}
	if (st != RPC__STATUS__STATUS_OK) {
		fprintf(stderr, "easctl: device %s: %s\n", device_id,
			easctl_rpc_status_text(st));
		return EASCTL_EXIT_FAIL;
	}
	printf("device %s of %s is now %s\n", device_id, login,
	       access_name(access));
	return EASCTL_EXIT_OK;
}

/* Print the device's recovery password, opened by the mailbox. */
static int
device_cmd_password(struct easctl_rpc *rpc, const char *login,
		    const char *device_id)
{
	Rpc__DevicePasswordGetRequest m;
	ProtobufCMessage *reply = NULL;
	const Rpc__DevicePasswordGetReply *pr;
	Rpc__Status st;
	uint64_t user;
	int rc = EASCTL_EXIT_FAIL;

	if (easctl_rpc_user_id(rpc, login, &user) != 0)
		return EASCTL_EXIT_FAIL;
	rpc__device_password_get_request__init(&m);
	m.user = user;
	m.device_id = (char *)(uintptr_t)device_id;
	st = easctl_rpc_call(rpc, RPC__MSG_TYPE__MSG_DEVICE_PASSWORD_GET,
			     &m.base, &reply);
	pr = (const Rpc__DevicePasswordGetReply *)reply;
	if (st == RPC__STATUS__STATUS_OK && pr != NULL &&
	    pr->password != NULL) {
		printf("%s\n", pr->password);
		rc = EASCTL_EXIT_OK;
	} else if (st == RPC__STATUS__STATUS_NOT_FOUND) {
		fprintf(stderr,
			"easctl: %s of %s: no such device or no recovery "
			"password stored\n",
			device_id, login);
	} else {
		fprintf(stderr, "easctl: device %s: %s%s%s\n", device_id,
			easctl_rpc_status_text(st),
			pr != NULL && pr->error != NULL && pr->error[0] != 0
			    ? ": "
			    : "",
			pr != NULL && pr->error != NULL ? pr->error : "");
	}
	if (reply != NULL)
		protobuf_c_message_free_unpacked(reply, NULL);
	return rc;
}

static int
device_run(const struct easctl_ctx *ctx, int argc, char **argv)
{
	struct easctl_rpc *rpc = NULL;
	const char *sub = argc > 1 ? argv[1] : "";
	bool account_only = false;
	Rpc__DeviceAccess access = RPC__DEVICE_ACCESS__ACCESS_UNSPECIFIED;
	int rc;

	if (strcmp(sub, "allow") == 0)
		access = RPC__DEVICE_ACCESS__ACCESS_ALLOW;
	else if (strcmp(sub, "block") == 0)
		access = RPC__DEVICE_ACCESS__ACCESS_BLOCK;
	else if (strcmp(sub, "quarantine") == 0)
		access = RPC__DEVICE_ACCESS__ACCESS_QUARANTINE;
	if (strcmp(sub, "wipe") == 0 && argc == 5) {
		if (strcmp(argv[4], "--account-only") != 0) {
			fputs(device_usage, stderr);
			return EASCTL_EXIT_USAGE;
		}
		account_only = true;
		argc = 4;
	}
	if (!((strcmp(sub, "list") == 0 && (argc == 2 || argc == 3)) ||
	      (strcmp(sub, "wipe") == 0 && argc == 4) ||
	      (strcmp(sub, "cancel-wipe") == 0 && argc == 4) ||
	      (strcmp(sub, "password") == 0 && argc == 4) ||
	      (access != RPC__DEVICE_ACCESS__ACCESS_UNSPECIFIED &&
	       argc == 4))) {
		fputs(device_usage, stderr);
		return EASCTL_EXIT_USAGE;
	}
	if (easctl_rpc_open(ctx, &rpc) != 0)
		return EASCTL_EXIT_FAIL;
	if (strcmp(sub, "list") == 0)
		rc = device_cmd_list(rpc, argc == 3 ? argv[2] : NULL);
	else if (strcmp(sub, "wipe") == 0)
		rc = device_cmd_wipe(rpc, argv[2], argv[3], account_only);
	else if (strcmp(sub, "cancel-wipe") == 0)
		rc = device_cmd_cancel_wipe(rpc, argv[2], argv[3]);
	else if (strcmp(sub, "password") == 0)
		rc = device_cmd_password(rpc, argv[2], argv[3]);
	else
		rc = device_cmd_access(rpc, argv[2], argv[3], access);
	easctl_rpc_close(&rpc);
	return rc;
}

static const struct easctl_command device_command = {
    .name = "device",
    .summary = "devices: list, wipe, cancel-wipe, allow, block, "
	       "quarantine, password",
    .usage = device_usage,
    .run = device_run,
};
EASCTL_COMMAND(device_command)
