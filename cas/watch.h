/*
 * The watch table: requests held for Direct Push (Ping, and Sync with Wait
 * or HeartbeatInterval).  A handler registers (user, device, folders,
 * heartbeat) with a callback and leaves its connection suspended; the
 * table calls the callback exactly once, with the reason the wait ended:
 *
 *  - WATCH_CHANGED: the mailbox published a Changed event for a watched
 *    (user, folder); the callback gets the changed folders.  Events only
 *    mark entries ready; one pass (watch_run) answers all of them, the
 *    way Redis wakes blocked clients in a batch (style rule 19);
 *  - WATCH_EXPIRED: the heartbeat passed (a timer of cas/timerwheel.h);
 *  - WATCH_REPLACED: a newer held request of the same (user, device)
 *    arrived (Gmail sends two Pings almost together; Exchange ends the
 *    older one with "no changes");
 *  - WATCH_DEVICE: a wipe, block or policy change for the device: the
 *    client must come back at once to be told;
 *  - WATCH_HIERARCHY: the user's folder hierarchy changed (Ping answers
 *    Status 7 so the client runs FolderSync);
 *  - WATCH_SHUTDOWN: the server is stopping.
 *
 * A client that disconnects is removed with watch_remove(), and then the
 * callback never runs.  Entries are named by a 64-bit id, never by
 * pointer, so a disconnect racing an event is safe.
 *
 * Memory per held request: sizeof(struct watch_entry) (about 200 bytes on
 * LP64) plus the folder ids packed once (their lengths + 1 and a pointer
 * each): about 500 bytes for a phone watching 10 folders, at most
 * ~90 KB at PING_MAX_FOLDERS of 64-byte ids.  watch_bytes() reports it.
 *
 * Threads: one mutex; callbacks run outside it, on the thread that fired
 * them (the RPC loop for events, the HTTP ticker for expiry, the caller of
 * watch_add for replacement) and may answer the request at once.
 */
#ifndef EASD_CAS_WATCH_H
#define EASD_CAS_WATCH_H

#include "cas/timerwheel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct watch;

enum watch_end {
	WATCH_CHANGED = 1,
	WATCH_EXPIRED,
	WATCH_REPLACED,
	WATCH_DEVICE,
	WATCH_HIERARCHY,
	WATCH_SHUTDOWN,
};

/* The end of a wait; changed[] (folder ids, valid during the call) is set
 * for WATCH_CHANGED only. */
typedef void watch_fire_fn(void *ctx, enum watch_end why,
			   const char *const *changed, size_t n_changed);

/* Where timers come from: the HTTP server's wheel in easd-cas
 * (cas_http_timer_add / cas_http_timer_cancel), a wheel driven by a fake
 * clock in tests.  cancel returns true when the timer was still armed. */
struct watch_timers {
	void (*add)(void *ctx, struct tw_timer *timer, uint64_t delay_s,
		    tw_fn *fn, void *arg);
	bool (*cancel)(void *ctx, struct tw_timer *timer);
	void *ctx;
};

/* Called (outside the lock) when the ready list becomes non-empty, so the
 * owner can schedule one watch_run() pass (e.g. loop_post).  NULL: the
 * owner calls watch_run() itself after feeding events. */
typedef void watch_schedule_fn(void *ctx);

struct watch_params {
	uint64_t user;
	const char *device_id;
	const char *const *folders; /* copied */
	size_t n_folders;
	unsigned heartbeat_s;
	/* Per folder, its modseq when the mailbox last checked it
	 * (PingCheckReply.folder_modseqs, n_folders entries); a Changed
	 * event above it that the table saw before this entry existed wakes
	 * it at once (an empty folder is at 0).  NULL: no check. */
	const uint64_t *since_modseqs;
	watch_fire_fn *fn;
	void *ctx;
};

/*
 * A malloc'd copy of a PingCheckReply's folder_modseqs for
 * watch_params.since_modseqs, or NULL (no replay) when the reply does not
 * carry one modseq per folder or memory runs out.
 */
uint64_t *watch_since_copy(const uint64_t *modseqs, size_t n, size_t n_folders);

struct watch *watch_new(const struct watch_timers *timers,
			watch_schedule_fn *schedule, void *schedule_ctx);
/* Fires WATCH_SHUTDOWN for every held entry, then frees the table. */
void watch_free(struct watch **w);

/*
 * Hold a request.  An older entry of the same (user, device) is ended with
 * WATCH_REPLACED first.  *id_r names the entry for watch_remove().  -1
 * when out of memory (fn never runs).
 */
int watch_add(struct watch *w, const struct watch_params *p, uint64_t *id_r);
/* The client went away: forget the entry without calling its callback,
 * and hand back its ctx (ctx_r may be NULL): the caller now owns it.
 * False when it had already ended (its callback ran or is running, and
 * owns ctx). */
bool watch_remove(struct watch *w, uint64_t id, void **ctx_r);

/* A Changed event of the mailbox: marks every entry of user watching
 * folder_id ready.  Cost: the user's held entries and their folders.  The
 * event is also kept in a ring of the last WATCH_RECENT_EVENTS, for
 * entries added just after it (see since_modseq): the mailbox's answer
 * to PingCheck and its events travel on different connections, so an
 * event may overtake the answer it postdates. */
#define WATCH_RECENT_EVENTS 1024u
void watch_changed(struct watch *w, uint64_t user, const char *folder_id,
		   uint64_t modseq);
/* Every entry treated as changed in all its folders (the RPC connection
 * was lost: events may have been missed). */
void watch_all_changed(struct watch *w);
/* Answer every ready entry with WATCH_CHANGED; returns how many. */
size_t watch_run(struct watch *w);
/* Wipe, block or policy change: end the device's entry (device_id NULL:
 * every entry of the user) with WATCH_DEVICE. */
size_t watch_device(struct watch *w, uint64_t user, const char *device_id);
/* End the entries of user (device_id NULL: all its devices) with why. */
size_t watch_end_user(struct watch *w, uint64_t user, const char *device_id,
		      enum watch_end why);
/* The user's folder hierarchy changed: end the entries of every device
 * of user but except_device (NULL: none excepted; the device that made
 * the change knows it) with WATCH_HIERARCHY. */
size_t watch_hierarchy(struct watch *w, uint64_t user,
		       const char *except_device);

size_t watch_count(struct watch *w);
/* Bytes held by the entries (the bound documented above). */
size_t watch_bytes(struct watch *w);

/* ---- the process-wide table of easd-cas (cas/watch_shared.c) --------- */

struct cas_http;
struct mbox_client;

/* Heartbeat bounds for Ping and Sync (MS-ASCMD 2.2.3.88): [cas]
 * min_heartbeat and the effective max_heartbeat (already capped below
 * proxy_idle_timeout by cas_conf.c).  Until watch_configure() is called
 * the defaults are 60 and min(3540, 1800 - 60) = 1740, the values of an
 * unconfigured easd.conf. */
struct watch_settings {
	unsigned min_heartbeat_s;
	unsigned max_heartbeat_s;
	unsigned max_folders; /* Ping MaxFolders; 0: PING_MAX_FOLDERS */
	/* Seconds between WBXML keep-alives of a streamed Sync response
	 * while the mailbox works (Gmail's read timeout is about 30 s);
	 * 0: WATCH_DEFAULT_KEEPALIVE_S. */
	unsigned sync_keepalive_s;
};

#define WATCH_DEFAULT_MIN_HEARTBEAT_S 60u
#define WATCH_DEFAULT_MAX_HEARTBEAT_S 1740u
#define WATCH_DEFAULT_KEEPALIVE_S 10u

/* Set once at start-up, before requests (main.c). */
void watch_configure(const struct watch_settings *s);
void watch_settings_get(struct watch_settings *s_r);
/*
 * The table shared by Ping and Sync: created on first use with timers on
 * http's wheel, fed by the mailbox's events (Changed, HierarchyChanged,
 * DeviceChanged, and "events missed" after a reconnect), its batched pass
 * run on the mailbox loop.  NULL when out of memory.  Lives until exit,
 * bound to the first (http, mc): one HTTP server per process, as in
 * easd-cas and in each test program.
 */
struct watch *watch_shared(struct cas_http *http, struct mbox_client *mc);

#endif
