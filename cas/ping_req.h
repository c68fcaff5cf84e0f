/*
 * The Ping command's request and response (MS-ASCMD 2.2.1.13), without
 * I/O: decoding HeartbeatInterval and Folders with their bounds (Status 5
 * with the nearest allowed HeartbeatInterval, Status 6 with MaxFolders,
 * Status 4 for malformed WBXML), the per-device cache of the last
 * parameters that an empty Ping or one omitting an element reuses
 * (Status 3 when nothing is cached), and the response document.
 * cmd_ping.c runs the command around these.
 */
#ifndef EASD_CAS_PING_REQ_H
#define EASD_CAS_PING_REQ_H

#include "proto/limits.h"
#include "proto/wbxml.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MS-ASCMD 2.2.3.177.13 Ping status. */
enum ping_status {
	PING_STATUS_EXPIRED = 1,        /* heartbeat passed, no changes */
	PING_STATUS_CHANGES = 2,        /* Folders lists the changed ones */
	PING_STATUS_MISSING_PARAMS = 3, /* send the full request */
	PING_STATUS_PROTOCOL_ERROR = 4,
	PING_STATUS_BAD_HEARTBEAT = 5, /* with HeartbeatInterval: the bound */
	PING_STATUS_TOO_MANY_FOLDERS = 6, /* with MaxFolders */
	PING_STATUS_HIERARCHY = 7,        /* FolderSync first */
	PING_STATUS_SERVER_ERROR = 8,
};

struct ping_folder {
	char id[SYNC_MAX_ID_BYTES + 1];
	char class[SYNC_MAX_CLASS_BYTES + 1]; /* Email, Calendar, ... */
};

struct ping_request {
	bool has_heartbeat;
	uint32_t heartbeat_s;
	bool has_folders;
	size_t n_folders;
	struct ping_folder *folders; /* owned */
};

/*
 * Decode a Ping body (len 0: empty Ping).  Heartbeat bounds and the folder
 * limit come from the configuration.  On -1, *status_r is 4, 5 or 6 and
 * *limit_r the value to send with 5 (HeartbeatInterval) or 6 (MaxFolders).
 * r is cleared first; free with ping_req_clear().
 */
int ping_req_decode(const uint8_t *body, size_t len, unsigned min_heartbeat_s,
		    unsigned max_heartbeat_s, unsigned max_folders,
		    struct ping_request *r, enum ping_status *status_r,
		    uint32_t *limit_r);
void ping_req_clear(struct ping_request *r);

/* ---- last parameters per (user, device) ------------------------------- */

struct ping_cache;

struct ping_cache *ping_cache_new(size_t max_devices);
void ping_cache_free(struct ping_cache **cache);
/*
 * Complete r from the cache (an omitted HeartbeatInterval or Folders
 * takes the cached one) and then remember the complete r.  -1 with
 * PING_STATUS_MISSING_PARAMS when something is still missing, or
 * PING_STATUS_SERVER_ERROR when out of memory.  Thread-safe.
 */
int ping_cache_merge(struct ping_cache *cache, uint64_t user,
		     const char *device_id, struct ping_request *r,
		     enum ping_status *status_r);
size_t ping_cache_count(struct ping_cache *cache);

/* ---- response --------------------------------------------------------- */

/*
 * <Ping><Status/>...</Ping>: with Folders for Status 2, HeartbeatInterval
 * for 5, MaxFolders for 6 (limit).  Encodes the whole document.
 */
int ping_resp_encode(struct wbxml_enc *e, enum ping_status status,
		     const char *const *changed, size_t n_changed,
		     uint32_t limit);

#endif
