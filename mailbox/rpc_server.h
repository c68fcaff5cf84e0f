/*
 * easd-mailbox's side of the internal RPC: the daemon context shared by the
 * RPC handlers, the LMTP server, the notifier and the send queue, and the
 * plumbing that moves a request from the loop thread (where net/rpc_server
 * hands it over) to the SQLite worker of the request's user
 * (mailbox/workers.h) and its reply back.
 *
 * Flow of one request: net/rpc_server calls us on the loop thread; we read
 * the request's `user` field (field 1 of nearly every request), pick the
 * handler from the table in rpc_server.c and queue it on that user's shard;
 * the handler opens (or reuses) the user's store on that thread, does the
 * work and calls mbox_reply, which packs the reply and posts it to the loop
 * (rpc_server_reply is thread-safe).  Every id in a request is resolved in
 * the store of the request's user, so another user's folder, item or device
 * id is simply not found there (invariant 6).
 *
 * Handlers are split by area: rpc_users.c (credentials, users, stats),
 * rpc_folders.c (hierarchy, folder list, empty), rpc_sync.c (changes,
 * estimate, ping, fetch, moves), rpc_devices.c (devices, policies,
 * provisioning), rpc_deliver.c (import, the MIME-to-item mapping LMTP
 * also uses), rpc_submit.c (SendMail & co.), rpc_search.c (Search).
 * rpc_shard.c holds the per-thread store handles.
 */
#ifndef EASD_MAILBOX_RPC_SERVER_H
#define EASD_MAILBOX_RPC_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox/mbox_conf.h"
#include "mailbox/store.h"
#include "mailbox/workers.h"
#include "net/loop.h"
#include "net/rpc_server.h"

struct secret_key;
struct sendq;
struct store_dir;

/* The daemon; owned by main.c, borrowed by everything else. */
struct mbox_ctx {
	const struct mbox_conf *conf;
	struct loop *loop;
	struct workers *workers;
	struct rpc_server *rpc; /* NULL: events are not published */
	struct sendq *sendq;    /* NULL: Submit answers STATUS_UNSUPPORTED */
	/* Seals values kept at rest (mailbox/secret.h); NULL: DevicePassword
	 * is refused (STATUS_UNSUPPORTED). */
	const struct secret_key *secret_key;
	/* Counters for `easctl stats` (any thread). */
	atomic_uint_fast64_t delivered;
	atomic_uint_fast64_t delivery_failures;
};

/* ------------------------------------------------------- per-shard state
 * (rpc_shard.c).  Each thread (worker or loop) keeps its own directory
 * handle and a small LRU of user stores; SQLite handles never cross
 * threads.  All of these run on the calling thread. */

/* Open user stores kept per thread; the least recently used is closed. */
#define MBOX_SHARD_STORES 32

/* The thread's directory handle, opened on first use; NULL on failure
 * (logged, *status_r says why). */
struct store_dir *mbox_shard_dir(const struct mbox_ctx *ctx,
				 enum store_status *status_r);
/* The thread's handle on a user's store; -1 with *status_r. */
int mbox_shard_store(const struct mbox_ctx *ctx, int64_t user,
		     struct store **st_r, enum store_status *status_r);
/* Close the thread's handle on a user's store (before deleting it). */
void mbox_shard_forget(int64_t user);
/* Close every handle of this thread (worker threads do it at exit). */
void mbox_shard_release(void);
/* Queue fn(arg) on the shard of user (also used by lmtp_server.c). */
int mbox_submit(const struct mbox_ctx *ctx, int64_t user, workers_task_fn *fn,
		void *arg);
/* The shard key of a user id (its decimal form). */
void mbox_user_key(int64_t user, char *key, size_t size);

/* ------------------------------------------------------------ requests */

/* One request on its way through a worker.  Owns the unpacked message and
 * everything allocated with mbox_alloc; freed after the final reply. */
struct mbox_req {
	struct mbox_ctx *ctx;
	uint64_t conn_id;
	uint64_t id;
	uint16_t type;
	Rpc__Role role;
	int64_t user; /* the request's `user` field, 0 if none */
	ProtobufCMessage *msg;
	void *arena; /* allocations freed with the request */
	bool replied;
};

/* Zeroed memory that lives until the request is freed; aborts the
 * request's handler with STATUS_INTERNAL semantics on NULL (callers check).
 */
void *mbox_alloc(struct mbox_req *r, size_t size);
char *mbox_strdup(struct mbox_req *r, const char *s);
uint8_t *mbox_memdup(struct mbox_req *r, const void *data, size_t len);

/* Send the final reply (or a chunk with last = false). */
void mbox_reply(struct mbox_req *r, const ProtobufCMessage *msg);
void mbox_reply_chunk(struct mbox_req *r, const ProtobufCMessage *msg,
		      bool last);
/* Reply with the type's reply message holding only a status (and the
 * error text when the message has an `error` field). */
void mbox_reply_status(struct mbox_req *r, Rpc__Status status,
		       const char *error);
/* The RPC status for a store error. */
Rpc__Status mbox_status_from_store(enum store_status status);
/* Reply with the status of a failed store call and log it. */
void mbox_reply_store_error(struct mbox_req *r, enum store_status status,
			    const char *msg);
/* True for easctl and tests: administrative requests are theirs. */
bool mbox_req_is_admin(const struct mbox_req *r);

/* Parse a decimal id ("17"); false for anything else (empty, sign,
 * trailing bytes, zero, above INT64_MAX). */
bool mbox_parse_id(const char *text, int64_t *id_r);
/* Format an id into the request's arena ("17"). */
char *mbox_id_str(struct mbox_req *r, int64_t id);

/* ItemData of a stored item for the device's body preferences
 * (rpc_sync.c); NULL when out of memory.  Allocated in r's arena; the
 * item must outlive the reply. */
struct item;
Rpc__ItemData *mbox_item_data(struct mbox_req *r, const struct item *it,
			      Rpc__BodyPreference **prefs, size_t n_prefs,
			      uint32_t mime_support);

/* Handlers, by area (each runs on the user's shard and replies). */
typedef void mbox_handler_fn(struct mbox_req *r);
mbox_handler_fn mbox_rpc_verify_credentials, mbox_rpc_user_add,
    mbox_rpc_user_delete, mbox_rpc_user_set_password, mbox_rpc_user_list,
    mbox_rpc_user_get, mbox_rpc_stats;
mbox_handler_fn mbox_rpc_folder_sync, mbox_rpc_folder_create,
    mbox_rpc_folder_update, mbox_rpc_folder_delete, mbox_rpc_folder_list,
    mbox_rpc_empty_folder;
mbox_handler_fn mbox_rpc_get_changes, mbox_rpc_apply_changes, mbox_rpc_estimate,
    mbox_rpc_ping_check, mbox_rpc_fetch, mbox_rpc_move_items;
/* ItemOperations Move of a conversation (rpc_itemops.c), reached from
 * mbox_rpc_move_items when conversation_id is set. */
mbox_handler_fn mbox_rpc_move_conversation;
mbox_handler_fn mbox_rpc_device_register, mbox_rpc_device_list,
    mbox_rpc_device_set_access, mbox_rpc_device_wipe, mbox_rpc_device_wipe_ack,
    mbox_rpc_policy_get, mbox_rpc_policy_set, mbox_rpc_policy_assign,
    mbox_rpc_provision_get, mbox_rpc_provision_set;
mbox_handler_fn mbox_rpc_import, mbox_rpc_submit;
mbox_handler_fn mbox_rpc_search;
mbox_handler_fn mbox_rpc_gal_search;
/* settings (rpc_oof.c) */
mbox_handler_fn mbox_rpc_oof_get, mbox_rpc_oof_set, mbox_rpc_device_password;
/* easctl device password (rpc_oof.c): the recovery password, opened. */
mbox_handler_fn mbox_rpc_device_password_get;
/* directory contact fields (rpc_users.c) */
mbox_handler_fn mbox_rpc_user_set_contact, mbox_rpc_user_set_photo;

/* Create the RPC server on ctx->loop from ctx->conf (sets ctx->rpc). */
int mbox_rpc_start(struct mbox_ctx *ctx, const char **error_r);
/* The callback given to rpc_server_new (exposed for in-process tests). */
void mbox_rpc_on_request(void *arg, struct rpc_request *req);

#endif
