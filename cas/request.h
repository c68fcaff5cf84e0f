/*
 * The per-request EAS context and the pipeline every EAS command runs
 * through after HTTP authentication (cas/http.c) and dispatch
 * (cas/dispatch.c):
 *
 *   ashttp_parse (plain or base64 query + headers; 400 on failure)
 *   -> user id of the authenticated login (remembered by the verifier, or
 *      RPC UserGet)
 *   -> RPC DeviceRegister (type, user agent, version, last seen, client
 *      address; the first request creates the device record; repeated
 *      within CAS_REQUEST_REGISTER_INTERVAL_S only when something changed)
 *   -> device access: blocked (or quarantined, except for Provision,
 *      FolderSync and Settings) -> HTTP 403 before 14.0, Status 129 from
 *      14.0
 *   -> RPC ProvisionGet + PolicyGet (the device's key state, the user's
 *      policy, parsed with policy_from_text and hashed)
 *   -> wipe gate (policy/wipe.h: a pending wipe sends everything but
 *      Provision to Provision: 449 / Status 140)
 *   -> policy key (policy/policykey.h: 449 before 14.0, Status
 *      142/143/144 from 14.0 in the command's own envelope)
 *   -> the command's function, with a struct cas_request filled in.
 *
 * Nothing here blocks an HTTP thread: each RPC step continues in the
 * mailbox client's callback (cas/mbox_client.h), so the command function
 * runs on the mailbox loop thread (or on the HTTP thread for a request
 * that needs no RPC, which no EAS command is).  The command answers with
 * one of the cas_request_respond*() / cas_request_send*() functions below,
 * exactly once; that also releases the context (the struct lives in the
 * HTTP request's arena; the decoded tree, the policy and our reference to
 * the HTTP request are released by the answer).
 *
 * Threading: a struct cas_request belongs to whichever thread is running
 * its current step; steps never overlap.
 */
#ifndef EASD_CAS_REQUEST_H
#define EASD_CAS_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cas/dispatch.h"
#include "cas/http.h"
#include "cas/mbox_client.h"
#include "cas/wbxml_resp.h"
#include "policy/policy.h"
#include "policy/policykey.h"
#include "policy/wipe.h"
#include "proto/ashttp.h"
#include "proto/rpc_frame.h"
#include "proto/wbxml_tree.h"

/* Module settings, set once at start-up before the HTTP server starts. */
struct cas_request_config {
	struct mbox_client *mbox; /* required; borrowed */
	/* Deadline of the pipeline's own RPC calls (0: the client default). */
	uint32_t rpc_timeout_ms;
};

/* Also installs the MS-ASHTTP parser in dispatch (its ASHTTP-HOOK) and
 * registers this module's commands if their constructors have not. */
void cas_request_init(const struct cas_request_config *config);

/*
 * A command with an external name: like CAS_COMMAND (dispatch.h), but
 * the object can be referenced, so linking the pipeline links the command
 * (a constructor alone in an archive member would be dropped).
 */
#define CAS_REQUEST_COMMAND(ident, ...)                                 \
	const struct cas_command ident = {__VA_ARGS__};                 \
	__attribute__((constructor)) static void ident##_register(void) \
	{                                                               \
		(void)cas_dispatch_register(&ident);                    \
	}

/* This module's commands (cas/cmd_*.c). */
extern const struct cas_command cas_cmd_provision;
extern const struct cas_command cas_cmd_foldersync;
extern const struct cas_command cas_cmd_foldercreate;
extern const struct cas_command cas_cmd_folderdelete;
extern const struct cas_command cas_cmd_folderupdate;
/* The mailbox client configured above (for command handlers). */
struct mbox_client *cas_request_mbox(void);

/* Device access as the pipeline saw it (copied from the mailbox reply). */
struct cas_request_device {
	Rpc__DeviceAccess access;
	enum wipe_state wipe;
	struct policykey_device pk; /* key state from ProvisionGet */
};

struct cas_request {
	struct cas_req *req; /* our reference, dropped by the answer */
	struct ashttp_request ash;
	const struct eas_cmd *cmd;
	enum eas_version version;
	const char *login; /* as typed (auth) */
	uint64_t user;     /* mailbox user id */
	struct cas_request_device dev;
	/* The user's policy (never NULL once the command runs: the default
	 * policy when the mailbox has none) and its hash. */
	struct policy *policy;
	char policy_name[64];
	uint8_t policy_hash[POLICY_HASH_BYTES];
	/* Decoded body, when the command asked for it (see
	 * cas_request_parse_body); freed by the answer. */
	struct wbxml_tree *tree;
	/* The command's own state (arena or owned by the command). */
	void *cmd_ctx;
	/* private */
	void (*run_)(struct cas_request *r);
	bool reg_skipped_;
};

typedef void cas_request_fn(struct cas_request *r);

/*
 * Entry point for a command handler registered with CAS_COMMAND: runs the
 * pipeline and then fn(r) -- or answers the request itself (400, 401,
 * 403, 449, 503, Status 129/140/142-144) and never calls fn.
 *   static void provision(struct cas_request *r);
 *   static void handler(struct cas_req *req, const struct cas_eas_request
 *   *eas) { cas_request_run(req, eas, provision); }
 */
void cas_request_run(struct cas_req *req, const struct cas_eas_request *eas,
		     cas_request_fn *fn);

/*
 * Decode the body into r->tree, expecting root.  0 on success (r->tree is
 * NULL for an empty body when allow_empty; an empty body otherwise counts
 * as malformed).  On failure the request has been answered and -1 is
 * returned (the command just returns): with the command's envelope and
 * protocol_error_status when it is not 0 (FolderSync 10, Provision 2:
 * every version knows those), else with the common Status 102/103 from
 * 14.0 and HTTP 400 before (MS-ASCMD 2.2.2).
 */
int cas_request_parse_body(struct cas_request *r, uint16_t root,
			   bool allow_empty, unsigned protocol_error_status);

/* The command's response envelope: its root tag and its Status tag
 * (MS-ASCMD per command).  -1 for commands without one (GetAttachment). */
int cas_request_envelope(enum eas_cmd_id id, uint16_t *root_r,
			 uint16_t *status_r);

/* ---- answers: exactly one per request; each releases r ------------- */

/* A bare HTTP status (400, 403, 449, 500, ...), empty body. */
void cas_request_respond_http(struct cas_request *r, unsigned http_status);
/* 503 with Retry-After (mailbox unreachable or busy). */
void cas_request_respond_unavailable(struct cas_request *r);
/* 200 with the command's envelope and this Status. */
void cas_request_respond_status(struct cas_request *r, unsigned eas_status);
/* 200 with an empty body. */
void cas_request_respond_empty(struct cas_request *r);
/* Send a finished buffered document (500 when encoding failed). */
void cas_request_send(struct cas_request *r, struct cas_wbxml_out *out);
/* Release r after the command answered through other means (a stream it
 * ended, cas_req_respond directly). */
void cas_request_done(struct cas_request *r);

/*
 * Map an RPC failure to the answer MS-ASCMD gives for "the server cannot
 * do this now": STATUS_DISCONNECTED/TIMEOUT/BUSY -> 503 with Retry-After
 * before 14.0, Status 111 from 14.0; anything else -> 500 / Status 110.
 */
void cas_request_respond_rpc_error(struct cas_request *r, Rpc__Status status);

/* A short tag for logs: "user alice device ABC cmd FolderSync". */
const char *cas_request_describe(const struct cas_request *r, char *out,
				 size_t size);

/* Device record fields for DeviceRegister, filled from the request (the
 * Provision command adds Settings:DeviceInformation to it). */
void cas_request_device_fill(struct cas_request *r, Rpc__Device *dev);

/* WipeState <-> enum wipe_state (DONE maps to WIPE_STATE_WIPED). */
enum wipe_state cas_request_wipe_from_rpc(Rpc__WipeState w);
Rpc__WipeState cas_request_wipe_to_rpc(enum wipe_state w);

/* Policy keys travel in the RPC as decimal text ("" when none); the
 * record's hash comes alongside.  acked_key is not part of the RPC record
 * (cas/cmd_provision.c keeps it for acknowledgement replays). */
int cas_request_pk_from_rpc(const char *text, Rpc__PolicyKeyState state,
			    const uint8_t *hash, size_t hash_len,
			    struct policykey_device *pk_r);
/* Into out (at least 11 bytes). */
void cas_request_pk_to_text(const struct policykey_device *pk, char *out,
			    size_t size);

#endif
