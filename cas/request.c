/*
 * The EAS request pipeline between dispatch and a command; see request.h.
 * Each step is one function; an RPC step's callback is the next step.
 * Every failure path ends in exactly one cas_request_respond*() call,
 * which answers the HTTP request (resuming it if it was suspended) and
 * releases the context.
 */
#include "cas/request.h"

#include "proto/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Retry-After for a mailbox that is down or busy (MS-ASHTTP 503). */
#define CAS_REQUEST_RETRY_AFTER_S 30u

static struct cas_request_config request_config;

/* ---------------------------------------------------------- registrations */

/*
 * DeviceRegister is an upsert the mailbox need not see on every request of
 * a busy device (Ping storms, Gmail's pairs of Pings): a device registered
 * with the same protocol version and user agent less than
 * CAS_REQUEST_REGISTER_INTERVAL_S ago is not registered again.  Access and
 * wipe state still come fresh from ProvisionGet on every request, and a
 * record that vanished meanwhile (ProvisionGet NOT_FOUND) is registered at
 * once.  Trade-off: last-seen times lag by up to the interval.  The table
 * is bounded (emptied when full) and shared by all threads under a lock.
 */
#define CAS_REQUEST_REGISTER_INTERVAL_S 60u
#define CAS_REQUEST_REGISTER_CACHE_MAX 16384u
#define REG_BUCKETS 4096u

struct reg_entry {
	struct reg_entry *next;
	uint64_t user;
	uint64_t when_s;
	uint32_t ua_hash;
	enum eas_version version;
	char device_id[ASHTTP_MAX_DEVICE_ID_BYTES + 1];
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reg_entry *reg_table[REG_BUCKETS];
static size_t reg_count;

static uint32_t
reg_hash(uint32_t h, const char *s)
{
	for (; *s != 0; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static uint64_t
reg_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static struct reg_entry **
reg_slot_locked(const struct cas_request *r)
{
	uint32_t b =
	    reg_hash(2166136261u ^ (uint32_t)r->user, r->ash.device_id) %
	    REG_BUCKETS;
	struct reg_entry **p = &reg_table[b];

	while (*p != NULL && ((*p)->user != r->user ||
			      strcmp((*p)->device_id, r->ash.device_id) != 0))
		p = &(*p)->next;
	return p;
}

static bool
reg_recent(const struct cas_request *r)
{
	struct reg_entry *e;
	bool recent = false;

	pthread_mutex_lock(&reg_lock);
	e = *reg_slot_locked(r);
	if (e != NULL && e->version == r->version &&
	    e->ua_hash == reg_hash(2166136261u, r->ash.user_agent) &&
	    reg_now_s() - e->when_s < CAS_REQUEST_REGISTER_INTERVAL_S)
		recent = true;
	pthread_mutex_unlock(&reg_lock);
	return recent;
}

static void
reg_clear_locked(void)
{
	for (size_t i = 0; i < REG_BUCKETS; i++) {
		while (reg_table[i] != NULL) {
			struct reg_entry *e = reg_table[i];

			reg_table[i] = e->next;
			free(e);
		}
	}
	reg_count = 0;
}

static void
reg_remember(const struct cas_request *r)
{
	struct reg_entry **p, *e;

	pthread_mutex_lock(&reg_lock);
	p = reg_slot_locked(r);
	e = *p;
	if (e == NULL) {
		if (reg_count >= CAS_REQUEST_REGISTER_CACHE_MAX) {
			reg_clear_locked();
			p = reg_slot_locked(r);
		}
		e = calloc(1, sizeof(*e));
		if (e == NULL)
			goto out;
		e->user = r->user;
		(void)snprintf(e->device_id, sizeof(e->device_id), "%s",
			       r->ash.device_id);
		*p = e;
		reg_count++;
	}
	e->version = r->version;
	e->ua_hash = reg_hash(2166136261u, r->ash.user_agent);
	e->when_s = reg_now_s();
out:
	pthread_mutex_unlock(&reg_lock);
}

static void
reg_forget(const struct cas_request *r)
{
	struct reg_entry **p, *e;

	pthread_mutex_lock(&reg_lock);
	p = reg_slot_locked(r);
	e = *p;
	if (e != NULL) {
		*p = e->next;
		free(e);
		reg_count--;
	}
	pthread_mutex_unlock(&reg_lock);
}

static void
request_headers(struct cas_req *req, struct ashttp_headers *h)
{
	h->protocol_version = cas_req_header(req, CAS_HDR_PROTOCOL_VERSION);
	h->policy_key = cas_req_header(req, CAS_HDR_POLICY_KEY);
	h->accept_multipart = cas_req_header(req, CAS_HDR_ACCEPT_MULTIPART);
	h->user_agent = cas_req_header(req, CAS_HDR_USER_AGENT);
}

/* dispatch's ASHTTP-HOOK: MS-ASHTTP 2.2.1.1.1 plain and base64 forms. */
static int
request_parse(struct cas_req *req, struct cas_eas_request *eas_r,
	      unsigned *status_r)
{
	struct ashttp_headers h;
	struct ashttp_request *ash = cas_req_alloc(req, sizeof(*ash));
	struct ashttp_error err;
	const char *query = cas_req_query(req);

	memset(eas_r, 0, sizeof(*eas_r));
	if (ash == NULL) {
		*status_r = 500;
		return -1;
	}
	request_headers(req, &h);
	if (ashttp_parse((const uint8_t *)query, strlen(query), &h, ash,
			 &err) != 0) {
		const struct cas_user *u = cas_req_user(req);

		log_info("user %s: bad request line: %s (%s)",
			 u != NULL ? u->login : "-", err.message,
			 ashttp_status_name(err.status));
		*status_r = err.http_status;
		return -1;
	}
	eas_r->command = ash->cmd->name;
	eas_r->version = (unsigned)ash->version;
	eas_r->policy_key = h.policy_key;
	return 0;
}

void
cas_request_init(const struct cas_request_config *config)
{
	static const struct cas_command *const commands[] = {
	    &cas_cmd_provision,    &cas_cmd_foldersync,   &cas_cmd_foldercreate,
	    &cas_cmd_folderdelete, &cas_cmd_folderupdate,
	};

	request_config = *config;
	cas_dispatch_set_parser(request_parse);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (cas_dispatch_find(commands[i]->name) == NULL)
			(void)cas_dispatch_register(commands[i]);
}

struct mbox_client *
cas_request_mbox(void)
{
	return request_config.mbox;
}

/* Protobuf-c string fields are `char *` but never written through. */
static char *
pb_str(const char *s)
{
	return (char *)(uintptr_t)(s != NULL ? s : "");
}

/* ---------------------------------------------------------- envelopes */

/* MS-ASCMD 2.2.1: each command's response root and its Status element
 * (the namespace of both is the command's code page). */
static const struct {
	enum eas_cmd_id id;
	const char *ns;
	const char *root;
} envelopes[] = {
    {EAS_CMD_SYNC, "AirSync", "Sync"},
    {EAS_CMD_SENDMAIL, "ComposeMail", "SendMail"},
    {EAS_CMD_SMARTFORWARD, "ComposeMail", "SmartForward"},
    {EAS_CMD_SMARTREPLY, "ComposeMail", "SmartReply"},
    {EAS_CMD_FOLDERSYNC, "FolderHierarchy", "FolderSync"},
    {EAS_CMD_FOLDERCREATE, "FolderHierarchy", "FolderCreate"},
    {EAS_CMD_FOLDERDELETE, "FolderHierarchy", "FolderDelete"},
    {EAS_CMD_FOLDERUPDATE, "FolderHierarchy", "FolderUpdate"},
    {EAS_CMD_MOVEITEMS, "Move", "MoveItems"},
    {EAS_CMD_GETITEMESTIMATE, "GetItemEstimate", "GetItemEstimate"},
    {EAS_CMD_MEETINGRESPONSE, "MeetingResponse", "MeetingResponse"},
    {EAS_CMD_SEARCH, "Search", "Search"},
    {EAS_CMD_SETTINGS, "Settings", "Settings"},
    {EAS_CMD_PING, "Ping", "Ping"},
    {EAS_CMD_ITEMOPERATIONS, "ItemOperations", "ItemOperations"},
    {EAS_CMD_PROVISION, "Provision", "Provision"},
    {EAS_CMD_RESOLVERECIPIENTS, "ResolveRecipients", "ResolveRecipients"},
    {EAS_CMD_VALIDATECERT, "ValidateCert", "ValidateCert"},
    {EAS_CMD_FIND, "Find", "Find"},
};

int
cas_request_envelope(enum eas_cmd_id id, uint16_t *root_r, uint16_t *status_r)
{
	for (size_t i = 0; i < sizeof(envelopes) / sizeof(envelopes[0]); i++) {
		if (envelopes[i].id != id)
			continue;
		if (wbxml_tag_lookup(envelopes[i].ns, envelopes[i].root,
				     root_r) != 0 ||
		    wbxml_tag_lookup(envelopes[i].ns, "Status", status_r) != 0)
			return -1;
		return 0;
	}
	return -1;
}

/* ---------------------------------------------------------- answers */

static void
release(struct cas_request *r)
{
	struct cas_req *req = r->req;

	/* r lives in req's arena: touch nothing of it after the unref. */
	wbxml_tree_free(&r->tree);
	policy_free(&r->policy);
	r->req = NULL;
	cas_req_unref(&req);
}

void
cas_request_done(struct cas_request *r)
{
	release(r);
}

void
cas_request_respond_http(struct cas_request *r, unsigned http_status)
{
	(void)cas_req_respond_status(r->req, http_status);
	release(r);
}

void
cas_request_respond_unavailable(struct cas_request *r)
{
	(void)cas_req_respond_retry(r->req, 503, CAS_REQUEST_RETRY_AFTER_S);
	release(r);
}

void
cas_request_respond_status(struct cas_request *r, unsigned eas_status)
{
	uint16_t root, status_tag;

	if (r->cmd == NULL ||
	    cas_request_envelope(r->cmd->id, &root, &status_tag) != 0) {
		/* No envelope (legacy commands): the HTTP equivalent. */
		(void)cas_req_respond_status(r->req,
					     eas_status >= 142 ? 449 : 500);
	} else {
		(void)cas_wbxml_respond_status(r->req, root, status_tag,
					       eas_status);
	}
	release(r);
}

void
cas_request_respond_empty(struct cas_request *r)
{
	(void)cas_wbxml_respond_empty(r->req);
	release(r);
}

void
cas_request_send(struct cas_request *r, struct cas_wbxml_out *out)
{
	if (cas_wbxml_out_send(r->req, out) != 0)
		(void)cas_req_respond_status(r->req, 500);
	release(r);
}

void
cas_request_respond_rpc_error(struct cas_request *r, Rpc__Status status)
{
	bool retry = status == RPC__STATUS__STATUS_DISCONNECTED ||
		     status == RPC__STATUS__STATUS_TIMEOUT ||
		     status == RPC__STATUS__STATUS_BUSY ||
		     status == RPC__STATUS__STATUS_STORAGE_ERROR;
	char who[160];

	log_warn("%s: mailbox answered status %d",
		 cas_request_describe(r, who, sizeof(who)), (int)status);
	if (r->version >= EAS_VERSION_14_0 && r->cmd != NULL) {
		cas_request_respond_status(
		    r, retry ? CAS_STATUS_SERVER_ERROR_RETRY_LATER
			     : CAS_STATUS_SERVER_ERROR);
	} else if (retry) {
		cas_request_respond_unavailable(r);
	} else {
		cas_request_respond_http(r, 500);
	}
}

const char *
cas_request_describe(const struct cas_request *r, char *out, size_t size)
{
	(void)snprintf(out, size, "user %s device %s cmd %s",
		       r->login != NULL ? r->login : "-",
		       r->ash.device_id[0] != 0 ? r->ash.device_id : "-",
		       r->cmd != NULL ? r->cmd->name : "-");
	return out;
}

/* ---------------------------------------------------------- body */

int
cas_request_parse_body(struct cas_request *r, uint16_t root, bool allow_empty,
		       unsigned protocol_error_status)
{
	const uint8_t *body;
	size_t len;
	unsigned st = 0;
	char who[160];

	body = cas_req_body(r->req, &len);
	wbxml_tree_free(&r->tree);
	if (cas_wbxml_parse(body, len, root, &r->tree, &st) == 0 &&
	    (r->tree != NULL || allow_empty))
		return 0;
	if (st == 0)
		st = CAS_STATUS_INVALID_XML; /* empty where not allowed */
	log_info("%s: malformed request body (%u)",
		 cas_request_describe(r, who, sizeof(who)), st);
	if (protocol_error_status != 0)
		cas_request_respond_status(r, protocol_error_status);
	else if (r->version >= EAS_VERSION_14_0)
		cas_request_respond_status(r, st);
	else
		cas_request_respond_http(r, 400);
	return -1;
}

/* ---------------------------------------------------------- conversions */

enum wipe_state
cas_request_wipe_from_rpc(Rpc__WipeState w)
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

Rpc__WipeState
cas_request_wipe_to_rpc(enum wipe_state w)
{
	switch (w) {
	case WIPE_STATE_PENDING:
		return RPC__WIPE_STATE__WIPE_REQUESTED;
	case WIPE_STATE_PENDING_ACCOUNT_ONLY:
		return RPC__WIPE_STATE__WIPE_ACCOUNT_REQUESTED;
	case WIPE_STATE_WIPED:
	case WIPE_STATE_ACCOUNT_WIPED:
		return RPC__WIPE_STATE__WIPE_DONE;
	case WIPE_STATE_NONE:
	default:
		return RPC__WIPE_STATE__WIPE_NONE;
	}
}

int
cas_request_pk_from_rpc(const char *text, Rpc__PolicyKeyState state,
			const uint8_t *hash, size_t hash_len,
			struct policykey_device *pk_r)
{
	memset(pk_r, 0, sizeof(*pk_r));
	switch (state) {
	case RPC__POLICY_KEY_STATE__KEY_TEMPORARY:
		pk_r->state = POLICYKEY_STATE_TEMPORARY;
		break;
	case RPC__POLICY_KEY_STATE__KEY_FINAL:
		pk_r->state = POLICYKEY_STATE_FINAL;
		break;
	case RPC__POLICY_KEY_STATE__KEY_NONE:
	default:
		pk_r->state = POLICYKEY_STATE_NONE;
		return 0;
	}
	if (text == NULL || ashttp_parse_policy_key(text, &pk_r->key) != 0 ||
	    pk_r->key == 0) {
		/* An unreadable record means "not provisioned": the device
		 * is sent to Provision, which rewrites it. */
		memset(pk_r, 0, sizeof(*pk_r));
		return -1;
	}
	if (hash != NULL && hash_len == POLICY_HASH_BYTES)
		memcpy(pk_r->policy_hash, hash, POLICY_HASH_BYTES);
	return 0;
}

void
cas_request_pk_to_text(const struct policykey_device *pk, char *out,
		       size_t size)
{
	if (pk->state == POLICYKEY_STATE_NONE)
		(void)snprintf(out, size, "%s", "");
	else
		(void)snprintf(out, size, "%u", (unsigned)pk->key);
}

void
cas_request_device_fill(struct cas_request *r, Rpc__Device *dev)
{
	rpc__device__init(dev);
	dev->device_id = r->ash.device_id;
	dev->device_type = r->ash.device_type;
	dev->user_agent = r->ash.user_agent;
	dev->protocol_version = pb_str(eas_version_str(r->version));
	dev->last_seen = (int64_t)time(NULL);
	dev->remote_addr = pb_str(cas_req_client_addr(r->req));
}

/* ---------------------------------------------------------- pipeline */

static void step_user(struct cas_request *r);
static void step_register(struct cas_request *r);
static void step_register_maybe(struct cas_request *r);
static void step_provision_get(struct cas_request *r);
static void step_policy_get(struct cas_request *r);
static void step_gate(struct cas_request *r);

static void
call_or_fail(struct cas_request *r, Rpc__MsgType type,
	     const ProtobufCMessage *msg, mbox_reply_fn *fn)
{
	if (mbox_call(request_config.mbox, type, msg,
		      request_config.rpc_timeout_ms, fn, r) != 0)
		cas_request_respond_http(r, 500);
}

void
cas_request_run(struct cas_req *req, const struct cas_eas_request *eas,
		cas_request_fn *fn)
{
	struct cas_request *r = cas_req_alloc(req, sizeof(*r));
	struct ashttp_headers h;
	struct ashttp_error err;
	const char *query = cas_req_query(req);
	const struct cas_user *u = cas_req_user(req);

	(void)eas; /* re-parsed below in full: dispatch keeps only a part */
	if (r == NULL) {
		(void)cas_req_respond_status(req, 500);
		return;
	}
	memset(r, 0, sizeof(*r));
	cas_req_ref(req);
	r->req = req;
	r->run_ = fn;
	r->login = u != NULL ? u->login : NULL;
	request_headers(req, &h);
	if (ashttp_parse((const uint8_t *)query, strlen(query), &h, &r->ash,
			 &err) != 0) {
		log_info("user %s: bad request line: %s (%s)",
			 r->login != NULL ? r->login : "-", err.message,
			 ashttp_status_name(err.status));
		cas_request_respond_http(r, err.http_status);
		return;
	}
	r->cmd = r->ash.cmd;
	r->version = r->ash.version;
	if (r->login == NULL) {
		cas_request_respond_http(r, 401);
		return;
	}
	if (request_config.mbox == NULL) {
		cas_request_respond_unavailable(r);
		return;
	}
	if (mbox_user_lookup(request_config.mbox, r->login, &r->user))
		step_register_maybe(r);
	else
		step_user(r);
}

static void
user_done(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	struct cas_request *r = arg;
	const Rpc__UserReply *ur = (const Rpc__UserReply *)reply;

	if (status == RPC__STATUS__STATUS_NOT_FOUND ||
	    status == RPC__STATUS__STATUS_DENIED) {
		/* Deleted since its credentials were cached. */
		cas_request_respond_http(r, 401);
		return;
	}
	if (status != RPC__STATUS__STATUS_OK || ur == NULL ||
	    ur->info == NULL || ur->info->user == 0) {
		cas_request_respond_rpc_error(r, status);
		return;
	}
	r->user = ur->info->user;
	mbox_user_remember(request_config.mbox, r->login, r->user);
	step_register_maybe(r);
}

static void
step_user(struct cas_request *r)
{
	Rpc__UserGetRequest m;

	rpc__user_get_request__init(&m);
	m.login = pb_str(r->login);
	call_or_fail(r, RPC__MSG_TYPE__MSG_USER_GET, &m.base, user_done);
}

/*
 * Quarantine, as Exchange's device access rules define it, is "connected
 * but waiting for an administrator": unlike a blocked device, a
 * quarantined one still sets up its partnership -- Provision (so the
 * administrator sees its DeviceInformation, model, OS and policy state
 * in `easctl device list` before deciding), FolderSync (the hierarchy:
 * folder names, no item) and Settings -- while every command that would
 * move mail, calendar or contacts content (Sync, Ping, GetItemEstimate,
 * ItemOperations, SendMail, Search, ...) is refused like a block until
 * `easctl device allow`.  Exchange additionally drops a notice mail into
 * the Inbox and lets the device sync only that message; easd has no
 * notice item, so the Inbox is refused too rather than half-served (a
 * faked empty Inbox would hand out sync keys the real folder cannot
 * honour after approval).
 */
static bool
quarantine_allows(const struct cas_request *r)
{
	if (r->cmd == NULL)
		return false;
	switch (r->cmd->id) {
	case EAS_CMD_PROVISION:
	case EAS_CMD_FOLDERSYNC:
	case EAS_CMD_SETTINGS:
		return true;
	default:
		return false;
	}
}

/* Blocked, or quarantined for a content command: before 14.0 the device
 * only understands 403; from 14.0 Status 129 DeviceIsBlockedForThisUser
 * (MS-ASCMD 2.2.2), the status Exchange gives both. */
static bool
access_refused(struct cas_request *r)
{
	char who[160];

	if (r->dev.access != RPC__DEVICE_ACCESS__ACCESS_BLOCK &&
	    r->dev.access != RPC__DEVICE_ACCESS__ACCESS_QUARANTINE)
		return false;
	if (r->dev.access == RPC__DEVICE_ACCESS__ACCESS_QUARANTINE &&
	    quarantine_allows(r))
		return false;
	log_info("%s: device %s", cas_request_describe(r, who, sizeof(who)),
		 r->dev.access == RPC__DEVICE_ACCESS__ACCESS_BLOCK
		     ? "blocked"
		     : "quarantined");
	if (r->version >= EAS_VERSION_14_0)
		cas_request_respond_status(r, CAS_STATUS_DEVICE_BLOCKED);
	else
		cas_request_respond_http(r, 403);
	return true;
}

static void
register_done(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	struct cas_request *r = arg;
	const Rpc__DeviceReply *dr = (const Rpc__DeviceReply *)reply;

	if (status == RPC__STATUS__STATUS_DENIED) {
		/* The mailbox refuses the partnership (device limit). */
		if (r->version >= EAS_VERSION_14_0)
			cas_request_respond_status(r,
						   CAS_STATUS_DEVICE_BLOCKED);
		else
			cas_request_respond_http(r, 403);
		return;
	}
	if (status != RPC__STATUS__STATUS_OK || dr == NULL) {
		cas_request_respond_rpc_error(r, status);
		return;
	}
	if (dr->device != NULL) {
		r->dev.access = dr->device->access;
		r->dev.wipe = cas_request_wipe_from_rpc(dr->device->wipe);
	}
	reg_remember(r);
	if (access_refused(r))
		return;
	step_provision_get(r);
}

static void
step_register(struct cas_request *r)
{
	Rpc__DeviceRegisterRequest m;
	Rpc__Device dev;

	rpc__device_register_request__init(&m);
	cas_request_device_fill(r, &dev);
	m.user = r->user;
	m.device = &dev;
	call_or_fail(r, RPC__MSG_TYPE__MSG_DEVICE_REGISTER, &m.base,
		     register_done);
}

static void
step_register_maybe(struct cas_request *r)
{
	if (reg_recent(r)) {
		r->reg_skipped_ = true;
		step_provision_get(r);
	} else {
		step_register(r);
	}
}

static void
provision_get_done(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	struct cas_request *r = arg;
	const Rpc__ProvisionReply *pr = (const Rpc__ProvisionReply *)reply;
	char who[160];

	if (status == RPC__STATUS__STATUS_NOT_FOUND && r->reg_skipped_) {
		/* The record went away since we last registered it. */
		reg_forget(r);
		r->reg_skipped_ = false;
		step_register(r);
		return;
	}
	if (status == RPC__STATUS__STATUS_NOT_FOUND) {
		memset(&r->dev.pk, 0, sizeof(r->dev.pk));
		step_policy_get(r);
		return;
	}
	if (status != RPC__STATUS__STATUS_OK || pr == NULL) {
		cas_request_respond_rpc_error(r, status);
		return;
	}
	if (cas_request_pk_from_rpc(pr->policy_key, pr->key_state,
				    pr->policy_hash.data, pr->policy_hash.len,
				    &r->dev.pk) != 0)
		log_warn("%s: unreadable policy key record",
			 cas_request_describe(r, who, sizeof(who)));
	/* ProvisionGet is the authority on wipe and access. */
	r->dev.wipe = cas_request_wipe_from_rpc(pr->wipe);
	if (pr->access != RPC__DEVICE_ACCESS__ACCESS_UNSPECIFIED)
		r->dev.access = pr->access;
	if (access_refused(r))
		return;
	step_policy_get(r);
}

static void
step_provision_get(struct cas_request *r)
{
	Rpc__ProvisionGetRequest m;

	rpc__provision_get_request__init(&m);
	m.user = r->user;
	m.device_id = r->ash.device_id;
	call_or_fail(r, RPC__MSG_TYPE__MSG_PROVISION_GET, &m.base,
		     provision_get_done);
}

static void
policy_get_done(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	struct cas_request *r = arg;
	const Rpc__PolicyReply *pr = (const Rpc__PolicyReply *)reply;
	struct policy_error perr;
	char who[160];

	if (status == RPC__STATUS__STATUS_NOT_FOUND ||
	    (status == RPC__STATUS__STATUS_OK && pr != NULL &&
	     (pr->text == NULL || pr->text[0] == 0))) {
		/* No policy: the default one, which demands nothing. */
		r->policy = policy_new();
		if (r->policy == NULL) {
			cas_request_respond_http(r, 500);
			return;
		}
	} else if (status != RPC__STATUS__STATUS_OK || pr == NULL) {
		cas_request_respond_rpc_error(r, status);
		return;
	} else if (policy_from_text(pr->text, strlen(pr->text), &r->policy,
				    &perr) != 0) {
		log_error("%s: policy %s unreadable: %s",
			  cas_request_describe(r, who, sizeof(who)),
			  pr->name != NULL ? pr->name : "-", perr.message);
		cas_request_respond_rpc_error(r, RPC__STATUS__STATUS_INTERNAL);
		return;
	}
	if (pr != NULL && pr->name != NULL)
		(void)snprintf(r->policy_name, sizeof(r->policy_name), "%s",
			       pr->name);
	if (policy_hash(r->policy, r->policy_hash) != 0) {
		cas_request_respond_http(r, 500);
		return;
	}
	step_gate(r);
}

static void
step_policy_get(struct cas_request *r)
{
	Rpc__PolicyGetRequest m;

	rpc__policy_get_request__init(&m);
	m.user = r->user;
	m.name = pb_str("");
	call_or_fail(r, RPC__MSG_TYPE__MSG_POLICY_GET, &m.base,
		     policy_get_done);
}

static void
step_gate(struct cas_request *r)
{
	struct wipe_answer wa;
	struct policykey_answer pa;
	char who[160];

	/* MS-ASPROV 3.2.5.2: a pending wipe is delivered by Provision. */
	wipe_check(r->dev.wipe, r->version, r->cmd, &wa);
	if (!wa.allowed) {
		log_info("%s: wipe state %s",
			 cas_request_describe(r, who, sizeof(who)),
			 wipe_state_name(r->dev.wipe));
		if (wa.eas_status != 0)
			cas_request_respond_status(r, wa.eas_status);
		else
			cas_request_respond_http(r, wa.http_status);
		return;
	}
	/* A pending wipe skips the key check: Provision carries it. */
	if (r->dev.wipe == WIPE_STATE_NONE) {
		policykey_check(
		    &r->dev.pk, r->cmd, r->version, r->ash.has_policy_key,
		    r->ash.policy_key, r->policy_hash,
		    policy_num(r->policy,
			       POLICY_ALLOW_NON_PROVISIONABLE_DEVICES) != 0,
		    &pa);
		if (pa.verdict != POLICYKEY_OK) {
			log_debug("%s: policy key verdict %d",
				  cas_request_describe(r, who, sizeof(who)),
				  (int)pa.verdict);
			if (pa.eas_status != 0)
				cas_request_respond_status(r, pa.eas_status);
			else
				cas_request_respond_http(r, pa.http_status);
			return;
		}
	}
	r->run_(r);
}
