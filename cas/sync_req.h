/*
 * Decoding of the Sync request (MS-ASCMD 2.2.1.21) into plain structures,
 * before cmd_sync.c asks the mailbox anything.  The WBXML body becomes a
 * struct sync_request: the global Wait / HeartbeatInterval / WindowSize /
 * Partial, then each Collection with its SyncKey, CollectionId, GetChanges,
 * WindowSize, Options (FilterType, BodyPreference, BodyPartPreference,
 * MIMESupport, MIMETruncation, Conflict, 2.5 Truncation) and the client's
 * Commands (Add, Change, Delete, Fetch).  Every count, length and range is
 * checked here against the MS-ASCMD limits of proto/limits.h; a violation
 * is a Sync status (4 protocol error, 14 bad Wait/HeartbeatInterval with
 * its Limit, 15 too many collections with its Limit) and never a crash.
 *
 * Empty and partial Sync (12.1+, MS-ASCMD 2.2.3.128 Partial): the
 * parameters of a collection (not its commands) are plain values copied
 * into the structure, so that cmd_sync.c can keep the last full request of
 * a device in a struct sync_cache and fill an empty or partial request from
 * it with sync_req_merge().  Commands point into the parsed tree, which the
 * request owns; the body bytes must outlive the request.
 */
#ifndef EASD_CAS_SYNC_REQ_H
#define EASD_CAS_SYNC_REQ_H

#include "proto/limits.h"
#include "proto/wbxml_tree.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sync status codes (MS-ASCMD 2.2.3.177.17). */
enum sync_status {
	SYNC_STATUS_OK = 1,
	SYNC_STATUS_INVALID_SYNC_KEY = 3,
	SYNC_STATUS_PROTOCOL_ERROR = 4,
	SYNC_STATUS_SERVER_ERROR = 5,
	SYNC_STATUS_CONVERSION_ERROR = 6,
	SYNC_STATUS_CONFLICT = 7,
	SYNC_STATUS_NOT_FOUND = 8,
	SYNC_STATUS_CANNOT_COMPLETE = 9,
	SYNC_STATUS_HIERARCHY_CHANGED = 12,
	SYNC_STATUS_INCOMPLETE = 13,
	SYNC_STATUS_INVALID_INTERVAL = 14,
	SYNC_STATUS_INVALID_COMMAND = 15,
	SYNC_STATUS_RETRY = 16,
};

/* MS-ASAIRS 2.2.2.22 body types. */
enum sync_body_type {
	SYNC_BODY_PLAIN = 1,
	SYNC_BODY_HTML = 2,
	SYNC_BODY_RTF = 3,
	SYNC_BODY_MIME = 4,
};

/* BodyPreference / BodyPartPreference (MS-ASAIRS 2.2.2.7 / 2.2.2.9). */
struct sync_body_pref {
	uint32_t type;            /* enum sync_body_type */
	uint32_t truncation_size; /* bytes; 0 = not given (no truncation) */
	bool all_or_none;
	uint32_t preview; /* 14.0+: Preview bytes, 0 = none (max 255) */
};

struct sync_options {
	char class[SYNC_MAX_CLASS_BYTES + 1]; /* "" = the collection's */
	bool has_filter_type;
	uint32_t filter_type; /* MS-ASCMD 2.2.3.68.2: 0..8 for email */
	size_t n_body_prefs;
	struct sync_body_pref body_prefs[SYNC_MAX_BODY_PREFS];
	size_t n_body_part_prefs;
	struct sync_body_pref body_part_prefs[SYNC_MAX_BODY_PREFS];
	bool has_mime_support;
	uint32_t mime_support; /* 0 never, 1 S/MIME only, 2 always */
	bool has_mime_truncation;
	uint32_t mime_truncation; /* MS-ASCMD 2.2.3.109 code 0..8 */
	bool has_truncation;
	uint32_t truncation; /* 2.5 airsync:Truncation code 0..9 */
	bool has_conflict;
	uint32_t conflict; /* 0 client wins, 1 server wins (default) */
};

enum sync_op {
	SYNC_OP_ADD = 1,
	SYNC_OP_CHANGE,
	SYNC_OP_DELETE,
	SYNC_OP_FETCH,
};

/* The email properties a client may change (MS-ASEMAIL 3.1.5.3: Read,
 * Flag, Categories; anything else in a Change is ignored). */
struct sync_email_change {
	int read; /* -1 absent, 0 unread, 1 read */
	bool has_flag;
	bool flag_cleared; /* <Flag/>: remove the flag */
	uint32_t flag_status;
	const char *flag_type; /* NULL when absent */
	int64_t flag_start_s, flag_due_s, flag_complete_s; /* 0 = absent */
	bool has_categories; /* <Categories/> empty clears them */
	size_t n_categories;
	const char **categories; /* into the tree */
};

/* An attachment a 16.0 draft adds (MS-ASAIRS 2.2.2.2 Add). */
struct sync_draft_att {
	const char *client_id;
	const char *display_name;
	const char *content_type; /* NULL when absent */
	const char *content_id;   /* NULL when absent */
	const uint8_t *content;   /* into the tree */
	size_t content_len;
	uint32_t method;
	bool is_inline;
};

/* A 16.0 draft in an Email Add or Change (MS-ASCMD 2.2.1.21, MS-ASEMAIL
 * 2.2.2 To/Cc/Email2 Bcc/Subject/Importance, AirSyncBase Body and
 * Attachments, Email2 Send).  Strings point into the tree; NULL means the
 * element was absent (an empty element is "" and clears the field). */
struct sync_draft {
	bool present; /* an Add of an email, or a Change with draft fields */
	bool send;
	const char *to, *cc, *bcc, *subject;
	int importance; /* -1 absent */
	bool has_body;
	uint32_t body_type; /* 1 plain, 2 HTML */
	const uint8_t *body;
	size_t body_len;
	size_t n_add;
	struct sync_draft_att *add;
	size_t n_delete;
	const char **del; /* FileReferences */
};

struct sync_command {
	enum sync_op op;
	const char *server_id;             /* Change, Delete, Fetch */
	const char *client_id;             /* Add */
	const struct wbxml_node *app_data; /* Add, Change; NULL otherwise */
	struct sync_email_change email;    /* Change of an email */
	struct sync_draft draft;           /* 16.0+ email Add / Change */
	/* calendar: 16.0+ airsyncbase:InstanceId of a Change or Delete
	 * (MS-ASAIRS 2.2.2.25), Unix seconds; 0 when absent. */
	int64_t instance_start;
};

struct sync_collection {
	char sync_key[SYNC_MAX_KEY_BYTES + 1];
	char collection_id[SYNC_MAX_ID_BYTES + 1];
	char class[SYNC_MAX_CLASS_BYTES + 1]; /* 2.5 Class; "" when absent */
	bool has_get_changes;
	bool get_changes;
	bool has_window_size;
	uint32_t window_size;
	bool has_deletes_as_moves;
	bool deletes_as_moves;
	bool has_conversation_mode;
	bool conversation_mode;
	bool has_options;
	struct sync_options options;
	/* Client commands: not cached, point into the request's tree. */
	size_t n_commands;
	struct sync_command *commands;
};

struct sync_request {
	bool empty; /* no body: reuse everything cached (12.1+) */
	bool partial;
	bool has_wait;
	uint32_t wait_min;
	bool has_heartbeat;
	uint32_t heartbeat_s;
	bool has_window_size;
	uint32_t window_size;
	size_t n_collections;
	struct sync_collection *collections;
	struct wbxml_tree *tree; /* owned */
};

/*
 * Decode a Sync body (len 0: an empty Sync).  On -1, *status_r is the
 * Sync status to answer and *limit_r the Limit to send with Status 14 or
 * 15 (0 otherwise).  heartbeat bounds come from the configuration (the
 * same as Ping's).  A collection's commands are counted across the whole
 * request against SYNC_MAX_COMMANDS.
 */
int sync_req_decode(const uint8_t *body, size_t len, unsigned version,
		    unsigned min_heartbeat_s, unsigned max_heartbeat_s,
		    struct sync_request **req_r, enum sync_status *status_r,
		    uint32_t *limit_r);
void sync_req_free(struct sync_request **req);

/* Effective values, defaults applied (MS-ASCMD 2.2.3.199, 2.2.3.79). */
uint32_t sync_req_window(const struct sync_request *req,
			 const struct sync_collection *coll);
bool sync_req_get_changes(const struct sync_collection *coll);
bool sync_req_deletes_as_moves(const struct sync_collection *coll);
/* Seconds to hold the request when nothing changed; 0 = do not hold. */
unsigned sync_req_hold_s(const struct sync_request *req);

/* EAS date-time "2026-11-27T10:00:00.000Z" (MS-ASDTYPE 2.3) to Unix
 * seconds; -1 when malformed. */
int sync_parse_datetime(const char *text, int64_t *secs_r);

/* ---- the per-device cache of the last full request (12.1+) ----------- */

struct sync_cache;

/* max_devices: entries kept (least recently used evicted). */
struct sync_cache *sync_cache_new(size_t max_devices);
void sync_cache_free(struct sync_cache **cache);
/*
 * Remember the effective parameters of req (not its commands) for
 * (user, device).  Thread-safe.  -1 when out of memory.
 */
int sync_cache_store(struct sync_cache *cache, uint64_t user,
		     const char *device_id, const struct sync_request *req);
/*
 * Update the cached SyncKey of one collection after a response issued a
 * new one (the next partial request may omit the collection).
 */
void sync_cache_set_key(struct sync_cache *cache, uint64_t user,
			const char *device_id, const char *collection_id,
			const char *sync_key);
/*
 * Complete an empty or partial request from the cache (MS-ASCMD
 * 2.2.3.128, 2.2.3.180): an empty request takes every cached collection and
 * interval; a partial one adds the cached collections it does not name,
 * and a named collection without Options / WindowSize takes the cached
 * ones.  Returns -1 with SYNC_STATUS_INCOMPLETE (13) when there is nothing
 * cached for the device.  A full request is left alone (0).
 */
int sync_req_merge(struct sync_cache *cache, uint64_t user,
		   const char *device_id, unsigned version,
		   struct sync_request *req, enum sync_status *status_r);
size_t sync_cache_count(struct sync_cache *cache);

#endif
