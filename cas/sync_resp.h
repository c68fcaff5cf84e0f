/*
 * Encoding of the Sync response (MS-ASCMD 2.2.1.21, server to client)
 * from the mailbox's replies, without I/O: cmd_sync.c feeds these to a
 * streaming encoder collection by collection.  Per collection: (2.5
 * Class), SyncKey, CollectionId, Status, Responses to the client's
 * commands (Add always; Change and Delete only when they failed, as
 * Exchange does, or a 16.0 draft Change that added attachments; an Add
 * or Change that added draft attachments carries their FileReferences;
 * Fetch with its ApplicationData), MoreAvailable, then the
 * server's Commands (Add / Change with ApplicationData, Delete,
 * SoftDelete), each item encoded and handed to the sink as it is written.
 */
#ifndef EASD_CAS_SYNC_RESP_H
#define EASD_CAS_SYNC_RESP_H

#include "cas/email_wbxml.h"
#include "cas/sync_req.h"
#include "proto/rpc.pb-c.h"
#include "proto/wbxml.h"

/* The outcome of one client command, for Responses. */
struct sync_result {
	enum sync_op op;
	enum sync_status status;
	const char *client_id;     /* Add */
	const char *server_id;     /* Add (assigned), Change, Delete, Fetch */
	const Rpc__ItemData *data; /* Fetch */
};

/* RPC status of a collection or a command to the Sync status. */
enum sync_status sync_resp_map_status(Rpc__Status status);
/* The email encoder's options from a collection's Options. */
void sync_resp_email_opts(const struct sync_collection *c, unsigned version,
			  struct email_wbxml_opts *opts_r);
/* A whole document carrying only a global Status (and Limit for 14/15). */
int sync_resp_status_doc(struct wbxml_enc *e, enum sync_status status,
			 uint32_t limit);
/*
 * One <Collection> in three steps, so that a streaming caller can pause
 * between items (a slow client): open writes everything up to and
 * including <Commands> (when has_commands), item writes one server change,
 * close ends Commands and the Collection.  Items are written only when
 * status is SYNC_STATUS_OK.
 */
int sync_resp_collection_open(struct wbxml_enc *e, unsigned version,
			      const struct sync_collection *c,
			      enum sync_status status, const char *sync_key,
			      const struct sync_result *results,
			      size_t n_results, bool more_available,
			      bool has_commands);
int sync_resp_item(struct wbxml_enc *e, unsigned version,
		   const struct sync_collection *c, const Rpc__Change *ch);
int sync_resp_collection_close(struct wbxml_enc *e, bool has_commands);
/* True when the reply has changes to write as Commands. */
bool sync_resp_has_commands(const Rpc__GetChangesReply *changes);
/*
 * One <Collection> at once.  changes may be NULL (nothing to send: SyncKey 0, a
 * failed collection); results may be empty.  The document's <Sync> and
 * <Collections> are the caller's.
 */
int sync_resp_collection(struct wbxml_enc *e, unsigned version,
			 const struct sync_collection *c,
			 enum sync_status status, const char *sync_key,
			 const struct sync_result *results, size_t n_results,
			 const Rpc__GetChangesReply *changes);

#endif
