/*
 * A fake easd-mailbox for CAS and easctl tests: a real net/ RPC server on
 * a Unix socket in a scratch directory, running its own loop thread, that
 * keeps a tiny in-memory mailbox -- users and passwords, devices (access,
 * wipe, policy key records), named policies and their assignment, and a
 * folder hierarchy with a change counter -- and answers the RPC messages
 * of users, devices, policies, provisioning and folders the way the real
 * mailbox must (proto/rpc.proto).  Everything else (GetChanges, Ping
 * checks, ...) is answered by handlers a test installs with
 * fake_mailbox_set_handler(), with canned replies.
 *
 * Hierarchy sync keys are the decimal hierarchy version: "0" asks for
 * everything, a key above the current version or not a number is
 * STATUS_INVALID_SYNC_KEY.  Folder ids never change (Gmail's SyncKey 0
 * refresh must find the same ids).
 *
 * All fake_mailbox_* functions are thread-safe (one lock around the
 * state); handlers run on the fake's loop thread.
 */
#ifndef EASD_TESTS_FAKE_MAILBOX_H
#define EASD_TESTS_FAKE_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/rpc_server.h"
#include "net/tls.h"
#include "proto/rpc_frame.h"

#define FAKE_MAX_USERS 64
#define FAKE_MAX_DEVICES 64
#define FAKE_MAX_FOLDERS 128
#define FAKE_MAX_POLICIES 8

struct fake_mailbox;

/* Start on a fresh Unix socket; NULL on failure (message on stderr). */
struct fake_mailbox *fake_mailbox_start(void);
/* The same on tcp:127.0.0.1:<free port> with mutual TLS (tls: the
 * server's CA, certificate and key; it must outlive the fake). */
struct fake_mailbox *fake_mailbox_start_tcp(const struct tls_config *tls);
void fake_mailbox_stop(struct fake_mailbox **fm);
/* Drop every connection and listen again on the same address, state
 * kept: what clients see when easd-mailbox restarts.  0 or -1. */
int fake_mailbox_bounce(struct fake_mailbox *fm);
/* "unix:/tmp/.../mailbox.sock" or "tcp:127.0.0.1:PORT" */
const char *fake_mailbox_addr(const struct fake_mailbox *fm);

/* A user with the standard folders (Inbox 2, Drafts 3, Deleted Items 4,
 * Sent Items 5, Outbox 6, Calendar 8, Contacts 9, Tasks 7, Notes 10);
 * returns the user id (> 0), 0 when full. */
uint64_t fake_mailbox_add_user(struct fake_mailbox *fm, const char *login,
			       const char *password);

/* Server-side hierarchy changes (as if made by another client). */
int fake_mailbox_add_folder(struct fake_mailbox *fm, uint64_t user,
			    const char *server_id, const char *parent_id,
			    const char *name, unsigned type);
int fake_mailbox_rename_folder(struct fake_mailbox *fm, uint64_t user,
			       const char *server_id, const char *name);
int fake_mailbox_delete_folder(struct fake_mailbox *fm, uint64_t user,
			       const char *server_id);

/* Policies: text in policy_to_text() form; "" name = default policy. */
int fake_mailbox_set_policy(struct fake_mailbox *fm, const char *name,
			    const char *text);
int fake_mailbox_assign_policy(struct fake_mailbox *fm, uint64_t user,
			       const char *name);

/* A device's record as the mailbox holds it; -1 when unknown. */
struct fake_device {
	uint64_t user;
	char device_id[65];
	char device_type[65];
	char user_agent[257];
	char protocol_version[8];
	char model[65];
	char friendly_name[65];
	char os[65];
	int64_t first_seen, last_seen;
	Rpc__DeviceAccess access;
	Rpc__WipeState wipe;
	char policy_key[32];
	Rpc__PolicyKeyState key_state;
	uint8_t policy_hash[32];
	size_t policy_hash_len;
	unsigned registrations;
	unsigned wipe_acks;
	unsigned last_wipe_client_status;
};
int fake_mailbox_device(struct fake_mailbox *fm, uint64_t user,
			const char *device_id, struct fake_device *dev_r);
/* Create a device record as a first request would (tests of easctl). */
int fake_mailbox_add_device(struct fake_mailbox *fm, uint64_t user,
			    const char *device_id, const char *device_type,
			    const char *protocol_version);
/* Drop a device record (an administrator removing the partnership). */
int fake_mailbox_forget_device(struct fake_mailbox *fm, uint64_t user,
			       const char *device_id);
int fake_mailbox_set_access(struct fake_mailbox *fm, uint64_t user,
			    const char *device_id, Rpc__DeviceAccess access);
int fake_mailbox_set_wipe(struct fake_mailbox *fm, uint64_t user,
			  const char *device_id, Rpc__WipeState wipe);

/* Requests of a type received so far. */
unsigned fake_mailbox_count(struct fake_mailbox *fm, Rpc__MsgType type);

/* Answer every request of `type` with a reply carrying only this status
 * (STATUS_UNSPECIFIED: back to normal). */
void fake_mailbox_fail(struct fake_mailbox *fm, Rpc__MsgType type,
		       Rpc__Status status);

/* Custom handling: return 0 after replying with fake_mailbox_reply(), or
 * -1 to let the built-in behaviour answer.  Runs on the loop thread. */
typedef int fake_mailbox_fn(void *arg, struct fake_mailbox *fm,
			    const struct rpc_request *req);
void fake_mailbox_set_handler(struct fake_mailbox *fm, Rpc__MsgType type,
			      fake_mailbox_fn *fn, void *arg);
int fake_mailbox_reply(struct fake_mailbox *fm, const struct rpc_request *req,
		       const ProtobufCMessage *reply);
/* One frame of a streamed reply (FetchReply chunks): last = false for
 * every frame but the final one. */
int fake_mailbox_reply_chunk(struct fake_mailbox *fm,
			     const struct rpc_request *req,
			     const ProtobufCMessage *reply, bool last);
/* Push an event to subscribed clients. */
int fake_mailbox_publish(struct fake_mailbox *fm, const Rpc__Event *ev);

#endif
