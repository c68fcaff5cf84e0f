/*
 * The reply half shared by FolderCreate, FolderUpdate and FolderDelete
 * (MS-ASCMD 2.2.1.3, 2.2.1.6, 2.2.1.4): the three commands answer the same
 * RPC reply (FolderChangeReply) with the same document shape, only the
 * root element and the Status numbers differ.  Each command describes its
 * own in a struct folder_change_cmd and calls folder_change_reply() from
 * its RPC callback.
 */
#ifndef CAS_FOLDER_CHANGE_H
#define CAS_FOLDER_CHANGE_H

#include "cas/request.h"

#include <stdbool.h>
#include <stdint.h>

struct folder_change_cmd {
	uint16_t root_tag;   /* EAS_FOLDERHIERARCHY_FOLDER_{CREATE,...} */
	bool with_server_id; /* FolderCreate returns the new ServerId */
	/* Command Status for each RPC outcome; 0: never expected, answered
	 * as server_error. */
	unsigned success, exists, denied, not_found, invalid_key, bad_request,
	    server_error;
};

/*
 * Answer r from a FolderChangeReply: the Status document, or on success
 * Status + the new hierarchy SyncKey (+ ServerId).  Transport failures
 * (disconnected, timeout, busy) get the pipeline's HTTP answer.
 */
void folder_change_reply(struct cas_request *r,
			 const struct folder_change_cmd *cmd,
			 Rpc__Status status, const ProtobufCMessage *reply);

#endif
