/*
 * The Provision command (MS-ASPROV 3.2.5.1): device information, the
 * two-step policy exchange, and remote wipe.  Runs after the request
 * pipeline (cas/request.h), which has already registered the device and
 * loaded its key record, wipe state and the user's policy; Provision is
 * the one command the policy key and wipe gates let through.
 *
 *   initial request (Policies/Policy without PolicyKey)
 *     -> temporary key stored (ProvisionSet KEY_TEMPORARY) + policy
 *        (EASProvisionDoc for 12.0+, MS-WAP-Provisioning-XML for 2.5)
 *   acknowledgement (PolicyKey = temporary key, Status = client result)
 *     -> final key stored (KEY_FINAL), or Policy Status 5 for a wrong key,
 *        or HTTP 403 when the device did not apply the policy and the
 *        policy does not allow non-compliant devices
 *   pending wipe (any request, often an empty <Provision/>)
 *     -> <RemoteWipe/> or, 16.1, <AccountOnlyRemoteWipe/> (policy/wipe.h)
 *   wipe acknowledgement (RemoteWipe/Status)
 *     -> DeviceWipeAck (durable in the mailbox) and Status 1, or Status 2
 *        with the directive again when the client reports failure
 *
 * Response element order is MS-ASPROV 6.3's schema: settings:
 * DeviceInformation, Status, Policies, RemoteWipe/AccountOnlyRemoteWipe.
 */
#include "cas/dispatch.h"
#include "cas/provision_wbxml.h"
#include "cas/request.h"

#include "policy/provision_doc.h"
#include "proto/limits.h"
#include "proto/log.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* MS-ASPROV 2.2.2.54.2 Status (Provision). */
#define PROV_STATUS_SUCCESS 1u
#define PROV_STATUS_PROTOCOL_ERROR 2u
#define PROV_STATUS_SERVER_ERROR 3u
/* MS-ASPROV 2.2.2.54.1 Status (Policy). */
#define POLICY_STATUS_SUCCESS 1u
#define POLICY_STATUS_UNKNOWN_TYPE 3u
#define POLICY_STATUS_WRONG_KEY 5u
/* MS-ASCMD 2.2.3.167.x Status (DeviceInformation). */
#define DEVINFO_STATUS_SUCCESS 1u

enum prov_kind {
	PROV_INITIAL,
	PROV_ACK,
	PROV_WIPE_ACK,
	PROV_WIPE_DIRECTIVE,
	PROV_DEVINFO_ONLY,
};

struct prov {
	enum prov_kind kind;
	bool has_devinfo;
	const char *model, *imei, *friendly_name, *os, *phone_number,
	    *user_agent;
	const char *os_language, *mobile_operator; /* settings: branch */
	uint64_t outbound_sms;
	const char *policy_type;
	bool has_key;
	uint32_t key;
	bool has_client_status;
	uint64_t client_status;
	enum wipe_directive ack_directive; /* PROV_WIPE_ACK */
	uint64_t wipe_status;
	/* outcome */
	struct policykey_device pk;
	uint32_t answer_key;
	unsigned policy_status;
	unsigned prov_status;
	enum wipe_directive directive; /* to send */
	bool send_doc;
};

static void prov_after_devinfo(struct cas_request *r);

/* ---------------------------------------------------------- replays */

/*
 * Acknowledgement replays: a client whose response was lost sends the
 * same acknowledgement again, and policy/policykey.h answers it with the
 * same final key when it knows which temporary key earned that key
 * (acked_key).  The RPC record holds only the current key, so this CAS
 * remembers (user, device, temporary -> final key) for PROV_REPLAY_TTL_S.
 * A replay that reaches another CAS, or comes later, gets Policy Status 5
 * and the client provisions again: safe, only slower.  A fixed ring, the
 * oldest entry overwritten first; Provision acknowledgements are rare.
 */
#define PROV_REPLAY_TTL_S 600u
#define PROV_REPLAY_MAX 1024u

struct prov_replay {
	uint64_t user;
	uint32_t temp_key, final_key;
	uint64_t when_s;
	char device_id[ASHTTP_MAX_DEVICE_ID_BYTES + 1];
};

static pthread_mutex_t replay_lock = PTHREAD_MUTEX_INITIALIZER;
static struct prov_replay replays[PROV_REPLAY_MAX];
static size_t replay_next;

static uint64_t
replay_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static void
replay_remember(const struct cas_request *r, uint32_t temp_key,
		uint32_t final_key)
{
	struct prov_replay *e;

	pthread_mutex_lock(&replay_lock);
	e = &replays[replay_next++ % PROV_REPLAY_MAX];
	e->user = r->user;
	e->temp_key = temp_key;
	e->final_key = final_key;
	e->when_s = replay_now_s();
	(void)snprintf(e->device_id, sizeof(e->device_id), "%s",
		       r->ash.device_id);
	pthread_mutex_unlock(&replay_lock);
}

/* Fill pk->acked_key when this CAS issued pk's final key recently. */
static void
replay_lookup(const struct cas_request *r, struct policykey_device *pk)
{
	uint64_t now = replay_now_s();

	if (pk->state != POLICYKEY_STATE_FINAL)
		return;
	pthread_mutex_lock(&replay_lock);
	for (size_t i = 0; i < PROV_REPLAY_MAX; i++) {
		const struct prov_replay *e = &replays[i];

		if (e->final_key == pk->key && e->final_key != 0 &&
		    e->user == r->user && now - e->when_s < PROV_REPLAY_TTL_S &&
		    strcmp(e->device_id, r->ash.device_id) == 0) {
			pk->acked_key = e->temp_key;
			break;
		}
	}
	pthread_mutex_unlock(&replay_lock);
}

/* ---------------------------------------------------------- response */

static void
prov_respond(struct cas_request *r)
{
	struct prov *p = r->cmd_ctx;
	struct cas_wbxml_out out;
	struct wbxml_enc *e = &out.enc;
	struct buf xml;

	cas_wbxml_out_init(&out);
	buf_init(&xml, POLICY_MAX_TEXT_BYTES);
	(void)wbxml_enc_start(e, EAS_PROVISION_PROVISION);
	if (p->has_devinfo) {
		(void)wbxml_enc_start(e, EAS_SETTINGS_DEVICE_INFORMATION);
		(void)wbxml_enc_uint(e, EAS_SETTINGS_STATUS,
				     DEVINFO_STATUS_SUCCESS);
		(void)wbxml_enc_end(e);
	}
	(void)wbxml_enc_uint(e, EAS_PROVISION_STATUS, p->prov_status);
	if (p->policy_status != 0) {
		(void)wbxml_enc_start(e, EAS_PROVISION_POLICIES);
		(void)wbxml_enc_start(e, EAS_PROVISION_POLICY);
		(void)wbxml_enc_str(e, EAS_PROVISION_POLICY_TYPE,
				    provision_doc_policy_type(r->version));
		(void)wbxml_enc_uint(e, EAS_PROVISION_STATUS, p->policy_status);
		if (p->answer_key != 0)
			(void)wbxml_enc_uint(e, EAS_PROVISION_POLICY_KEY,
					     p->answer_key);
		if (p->send_doc) {
			(void)wbxml_enc_start(e, EAS_PROVISION_DATA);
			if (r->version < EAS_VERSION_12_0) {
				/* MS-ASPROV 2.2.2.24.2: the XML as text. */
				if (provision_doc_wap_xml(r->policy, &xml) !=
				    0) {
					buf_free(&xml);
					cas_wbxml_out_free(&out);
					cas_request_respond_http(r, 500);
					return;
				}
				(void)wbxml_enc_text(e, buf_str(&xml), xml.len);
			} else if (provision_wbxml_doc(e, r->policy,
						       r->version) != 0) {
				buf_free(&xml);
				cas_wbxml_out_free(&out);
				cas_request_respond_http(r, 500);
				return;
			}
			(void)wbxml_enc_end(e);
		}
		(void)wbxml_enc_end(e);
		(void)wbxml_enc_end(e);
	}
	if (p->directive == WIPE_DIRECTIVE_REMOTE_WIPE)
		(void)wbxml_enc_empty(e, EAS_PROVISION_REMOTE_WIPE);
	else if (p->directive == WIPE_DIRECTIVE_ACCOUNT_ONLY)
		(void)wbxml_enc_empty(e,
				      EAS_PROVISION_ACCOUNT_ONLY_REMOTE_WIPE);
	(void)wbxml_enc_end(e);
	buf_free(&xml);
	cas_request_send(r, &out);
}

/* Provision Status only (2 protocol error, 3 server error). */
static void
prov_fail(struct cas_request *r, unsigned status)
{
	struct prov *p = r->cmd_ctx;

	p->prov_status = status;
	p->policy_status = 0;
	p->directive = WIPE_DIRECTIVE_NONE;
	prov_respond(r);
}

/* ---------------------------------------------------------- request */

static const char *
opt_str(const struct wbxml_node *parent, uint16_t tag, size_t max, int *bad)
{
	const char *s = NULL;
	enum wbxml_err err = WBXML_ERR_NONE;

	if (wbxml_child_str(parent, tag, max, &s, NULL, &err) != 0) {
		if (err != WBXML_ERR_MISSING)
			*bad = 1;
		return NULL;
	}
	return s;
}

/* Fill p from the tree; -1 for a request that breaks the schema. */
static int
prov_parse(struct cas_request *r, struct prov *p)
{
	const struct wbxml_node *root, *n, *set, *policy;
	enum wbxml_err err = WBXML_ERR_NONE;
	int bad = 0;
	const char *key;

	if (r->tree == NULL)
		return 0; /* empty body: a wipe probe (MS-ASPROV 3.1.5.1.1) */
	root = wbxml_tree_root(r->tree);
	/* MS-ASPROV 2.2.2.53: settings:DeviceInformation (14.1+). */
	n = wbxml_node_child(root, EAS_SETTINGS_DEVICE_INFORMATION);
	if (n != NULL) {
		set = wbxml_node_child(n, EAS_SETTINGS_SET);
		if (set == NULL)
			return -1;
		p->has_devinfo = true;
		p->model = opt_str(set, EAS_SETTINGS_MODEL,
				   CAS_DEVICE_INFO_MAX_BYTES, &bad);
		p->imei = opt_str(set, EAS_SETTINGS_IMEI,
				  CAS_DEVICE_INFO_MAX_BYTES, &bad);
		p->friendly_name = opt_str(set, EAS_SETTINGS_FRIENDLY_NAME,
					   CAS_DEVICE_INFO_MAX_BYTES, &bad);
		p->os = opt_str(set, EAS_SETTINGS_OS, CAS_DEVICE_INFO_MAX_BYTES,
				&bad);
		p->phone_number = opt_str(set, EAS_SETTINGS_PHONE_NUMBER,
					  CAS_DEVICE_INFO_MAX_BYTES, &bad);
		p->user_agent = opt_str(set, EAS_SETTINGS_USER_AGENT,
					CAS_DEVICE_INFO_MAX_BYTES, &bad);
		p->os_language = opt_str(set, EAS_SETTINGS_OS_LANGUAGE,
					 CAS_DEVICE_INFO_MAX_BYTES, &bad);
		p->mobile_operator = opt_str(set, EAS_SETTINGS_MOBILE_OPERATOR,
					     CAS_DEVICE_INFO_MAX_BYTES, &bad);
		if (wbxml_child_uint(set, EAS_SETTINGS_ENABLE_OUTBOUND_SMS, 0,
				     1, &p->outbound_sms, &err) != 0 &&
		    err != WBXML_ERR_MISSING)
			bad = 1;
		if (bad)
			return -1;
	}
	/* MS-ASPROV 2.2.2.45 / 2.2.2.1: a wipe acknowledgement. */
	n = wbxml_node_child(root, EAS_PROVISION_REMOTE_WIPE);
	p->ack_directive = WIPE_DIRECTIVE_REMOTE_WIPE;
	if (n == NULL) {
		n = wbxml_node_child(root,
				     EAS_PROVISION_ACCOUNT_ONLY_REMOTE_WIPE);
		p->ack_directive = WIPE_DIRECTIVE_ACCOUNT_ONLY;
	}
	if (n != NULL) {
		if (wbxml_child_uint(n, EAS_PROVISION_STATUS, 1, 255,
				     &p->wipe_status, &err) != 0)
			return -1;
		p->kind = PROV_WIPE_ACK;
		return 0;
	}
	p->ack_directive = WIPE_DIRECTIVE_NONE;
	policy = wbxml_node_child(root, EAS_PROVISION_POLICIES);
	if (policy == NULL) {
		/* <Provision/> (a wipe probe) or device information alone;
		 * provision_run decides whether that can be answered. */
		p->kind = p->has_devinfo ? PROV_DEVINFO_ONLY : PROV_INITIAL;
		return 0;
	}
	policy = wbxml_node_child(policy, EAS_PROVISION_POLICY);
	if (policy == NULL)
		return -1;
	p->policy_type = opt_str(policy, EAS_PROVISION_POLICY_TYPE,
				 CAS_PROVISION_MAX_POLICY_TYPE_BYTES, &bad);
	key = opt_str(policy, EAS_PROVISION_POLICY_KEY, 10, &bad);
	if (bad || p->policy_type == NULL)
		return -1;
	if (key != NULL) {
		if (ashttp_parse_policy_key(key, &p->key) != 0)
			return -1;
		p->has_key = p->key != 0;
	}
	if (wbxml_child_uint(policy, EAS_PROVISION_STATUS, 0, 255,
			     &p->client_status, &err) == 0)
		p->has_client_status = true;
	else if (err != WBXML_ERR_MISSING)
		return -1;
	p->kind = p->has_key ? PROV_ACK : PROV_INITIAL;
	/* MS-ASPROV 3.1.5.1.2.1: an acknowledgement carries the client's
	 * Status. */
	if (p->kind == PROV_ACK && !p->has_client_status)
		return -1;
	return 0;
}

/* ---------------------------------------------------------- wipe */

static void
wipe_ack_done(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	struct cas_request *r = arg;
	struct prov *p = r->cmd_ctx;
	char who[160];

	(void)reply;
	if (status != RPC__STATUS__STATUS_OK) {
		cas_request_respond_rpc_error(r, status);
		return;
	}
	log_info("%s: wipe acknowledged with status %u",
		 cas_request_describe(r, who, sizeof(who)),
		 (unsigned)p->wipe_status);
	/* MS-ASPROV 3.2.5.1.2.2: 1 on success; on failure 2 and the
	 * directive again. */
	if (p->wipe_status == WIPE_CLIENT_SUCCESS) {
		p->prov_status = PROV_STATUS_SUCCESS;
	} else {
		p->prov_status = PROV_STATUS_PROTOCOL_ERROR;
		p->directive = p->ack_directive;
	}
	prov_respond(r);
}

static void
prov_wipe_ack(struct cas_request *r)
{
	struct prov *p = r->cmd_ctx;
	Rpc__DeviceWipeAckRequest m;
	enum wipe_state next;

	/* A wipe that was never asked for is a protocol error. */
	if (wipe_acknowledge(r->dev.wipe, p->ack_directive, (int)p->wipe_status,
			     &next) != 0) {
		prov_fail(r, PROV_STATUS_PROTOCOL_ERROR);
		return;
	}
	rpc__device_wipe_ack_request__init(&m);
	m.user = r->user;
	m.device_id = r->ash.device_id;
	m.client_status = (uint32_t)p->wipe_status;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_DEVICE_WIPE_ACK,
		      &m.base, 0, wipe_ack_done, r) != 0)
		cas_request_respond_http(r, 500);
}

/* ---------------------------------------------------------- policy */

static void
provision_set_done(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	struct cas_request *r = arg;

	(void)reply;
	if (status != RPC__STATUS__STATUS_OK) {
		cas_request_respond_rpc_error(r, status);
		return;
	}
	prov_respond(r);
}

/* Store p->pk durably, then answer. */
static void
prov_store(struct cas_request *r)
{
	struct prov *p = r->cmd_ctx;
	Rpc__ProvisionSetRequest m;
	char key[32];

	rpc__provision_set_request__init(&m);
	cas_request_pk_to_text(&p->pk, key, sizeof(key));
	m.user = r->user;
	m.device_id = r->ash.device_id;
	m.policy_key = key;
	m.key_state = p->pk.state == POLICYKEY_STATE_FINAL
			  ? RPC__POLICY_KEY_STATE__KEY_FINAL
		      : p->pk.state == POLICYKEY_STATE_TEMPORARY
			  ? RPC__POLICY_KEY_STATE__KEY_TEMPORARY
			  : RPC__POLICY_KEY_STATE__KEY_NONE;
	m.policy_hash.data = p->pk.policy_hash;
	m.policy_hash.len =
	    p->pk.state == POLICYKEY_STATE_NONE ? 0 : POLICY_HASH_BYTES;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_PROVISION_SET,
		      &m.base, 0, provision_set_done, r) != 0)
		cas_request_respond_http(r, 500);
}

static void
refused_done(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	struct cas_request *r = arg;

	(void)reply;
	if (status != RPC__STATUS__STATUS_OK) {
		cas_request_respond_rpc_error(r, status);
		return;
	}
	/* policy/policykey.h: a device that did not apply the policy is
	 * blocked, as Exchange does. */
	cas_request_respond_http(r, 403);
}

static void
prov_policy(struct cas_request *r)
{
	struct prov *p = r->cmd_ctx;
	enum policykey_ack_result res;
	char who[160];

	p->prov_status = PROV_STATUS_SUCCESS;
	/* MS-ASPROV 2.2.2.43: the version decides the document type. */
	if (strcmp(p->policy_type, provision_doc_policy_type(r->version)) !=
	    0) {
		p->policy_status = POLICY_STATUS_UNKNOWN_TYPE;
		prov_respond(r);
		return;
	}
	p->pk = r->dev.pk;
	if (p->kind == PROV_INITIAL) {
		if (policykey_provision_initial(&p->pk, r->policy_hash,
						&p->answer_key) != 0) {
			prov_fail(r, PROV_STATUS_SERVER_ERROR);
			return;
		}
		p->policy_status = POLICY_STATUS_SUCCESS;
		p->send_doc = true;
		prov_store(r);
		return;
	}
	replay_lookup(r, &p->pk);
	if (policykey_provision_ack(
		&p->pk, p->key, (int)p->client_status,
		policy_num(r->policy, POLICY_ALLOW_NON_PROVISIONABLE_DEVICES) !=
		    0,
		&res, &p->answer_key) != 0) {
		prov_fail(r, PROV_STATUS_SERVER_ERROR);
		return;
	}
	switch (res) {
	case POLICYKEY_ACK_FINAL:
		p->policy_status = POLICY_STATUS_SUCCESS;
		replay_remember(r, p->pk.acked_key, p->answer_key);
		prov_store(r);
		return;
	case POLICYKEY_ACK_REPLAY:
		p->policy_status = POLICY_STATUS_SUCCESS;
		prov_respond(r);
		return;
	case POLICYKEY_ACK_WRONG_KEY:
		p->answer_key = 0;
		p->policy_status = POLICY_STATUS_WRONG_KEY;
		prov_respond(r);
		return;
	case POLICYKEY_ACK_REFUSED:
	default:
		log_info("%s: policy not applied (client status %u): refused",
			 cas_request_describe(r, who, sizeof(who)),
			 (unsigned)p->client_status);
		{
			Rpc__ProvisionSetRequest m;

			rpc__provision_set_request__init(&m);
			m.user = r->user;
			m.device_id = r->ash.device_id;
			m.key_state = RPC__POLICY_KEY_STATE__KEY_NONE;
			if (mbox_call(cas_request_mbox(),
				      RPC__MSG_TYPE__MSG_PROVISION_SET, &m.base,
				      0, refused_done, r) != 0)
				cas_request_respond_http(r, 500);
		}
		return;
	}
}

/* ---------------------------------------------------------- flow */

static void
devinfo_done(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	struct cas_request *r = arg;

	(void)reply;
	if (status != RPC__STATUS__STATUS_OK) {
		cas_request_respond_rpc_error(r, status);
		return;
	}
	prov_after_devinfo(r);
}

static void
prov_after_devinfo(struct cas_request *r)
{
	struct prov *p = r->cmd_ctx;

	switch (p->kind) {
	case PROV_WIPE_ACK:
		prov_wipe_ack(r);
		return;
	case PROV_WIPE_DIRECTIVE:
		p->prov_status = PROV_STATUS_SUCCESS;
		prov_respond(r);
		return;
	case PROV_DEVINFO_ONLY:
		p->prov_status = PROV_STATUS_SUCCESS;
		prov_respond(r);
		return;
	case PROV_INITIAL:
	case PROV_ACK:
	default:
		prov_policy(r);
		return;
	}
}

static void
provision_run(struct cas_request *r)
{
	struct prov *p = cas_req_alloc(r->req, sizeof(*p));
	Rpc__DeviceRegisterRequest m;
	Rpc__Device dev;

	if (p == NULL) {
		cas_request_respond_http(r, 500);
		return;
	}
	memset(p, 0, sizeof(*p));
	r->cmd_ctx = p;
	if (cas_request_parse_body(r, EAS_PROVISION_PROVISION, true,
				   PROV_STATUS_PROTOCOL_ERROR) != 0)
		return;
	if (prov_parse(r, p) != 0) {
		prov_fail(r, PROV_STATUS_PROTOCOL_ERROR);
		return;
	}
	/* A pending wipe overrides any policy request (MS-ASPROV 3.2.5.1.1:
	 * the response to the initial request carries the directive). */
	p->directive = wipe_directive_for(r->dev.wipe, r->version);
	if (p->kind != PROV_WIPE_ACK && p->directive != WIPE_DIRECTIVE_NONE)
		p->kind = PROV_WIPE_DIRECTIVE;
	else if (p->kind != PROV_WIPE_ACK)
		p->directive = WIPE_DIRECTIVE_NONE;
	if (p->kind == PROV_WIPE_ACK)
		p->directive = WIPE_DIRECTIVE_NONE;
	if (p->kind == PROV_INITIAL && p->policy_type == NULL) {
		/* An empty Provision without a wipe to deliver. */
		prov_fail(r, PROV_STATUS_PROTOCOL_ERROR);
		return;
	}
	if (!p->has_devinfo) {
		prov_after_devinfo(r);
		return;
	}
	/* MS-ASPROV 3.2.5.1.1: store the device information. */
	rpc__device_register_request__init(&m);
	cas_request_device_fill(r, &dev);
	dev.model = (char *)(uintptr_t)(p->model != NULL ? p->model : "");
	dev.imei = (char *)(uintptr_t)(p->imei != NULL ? p->imei : "");
	dev.friendly_name =
	    (char *)(uintptr_t)(p->friendly_name != NULL ? p->friendly_name
							 : "");
	dev.os = (char *)(uintptr_t)(p->os != NULL ? p->os : "");
	dev.phone_number =
	    (char *)(uintptr_t)(p->phone_number != NULL ? p->phone_number : "");
	if (p->user_agent != NULL && r->ash.user_agent[0] == 0)
		dev.user_agent = (char *)(uintptr_t)p->user_agent;
	dev.os_language =
	    (char *)(uintptr_t)(p->os_language != NULL ? p->os_language : "");
	dev.mobile_operator =
	    (char *)(uintptr_t)(p->mobile_operator != NULL ? p->mobile_operator
							   : "");
	dev.enable_outbound_sms = p->outbound_sms == 1;
	m.user = r->user;
	m.device = &dev;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_DEVICE_REGISTER,
		      &m.base, 0, devinfo_done, r) != 0)
		cas_request_respond_http(r, 500);
}

static void
cmd_provision(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, provision_run);
}

CAS_REQUEST_COMMAND(cas_cmd_provision, .name = "Provision", .min_version = 25,
		    .needs_policy_key = false, .handler = cmd_provision)
