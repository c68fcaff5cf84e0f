/*
 * The one watch table of easd-cas (see watch.h, "process-wide table"):
 * its timers are the HTTP server's wheel (driven by the ticker thread),
 * its events the mailbox client's subscription.  Events arrive on the
 * mailbox loop thread; each marks entries ready, and the first mark of a
 * batch posts one watch_run() task to the same loop, which runs after the
 * events already queued: a burst of deliveries wakes each held request
 * once (style rule 19).
 */
#include "cas/http.h"
#include "cas/mbox_client.h"
#include "cas/watch.h"
#include "proto/limits.h"
#include "proto/log.h"

#include <pthread.h>
#include <stdatomic.h>

static struct watch_settings settings = {
    .min_heartbeat_s = WATCH_DEFAULT_MIN_HEARTBEAT_S,
    .max_heartbeat_s = WATCH_DEFAULT_MAX_HEARTBEAT_S,
    .max_folders = PING_MAX_FOLDERS,
    .sync_keepalive_s = WATCH_DEFAULT_KEEPALIVE_S,
};

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct watch *shared;
static struct mbox_client *shared_mbox;
static atomic_bool run_posted;

void
watch_configure(const struct watch_settings *s)
{
	settings = *s;
	if (settings.max_folders == 0 ||
	    settings.max_folders > PING_MAX_FOLDERS)
		settings.max_folders = PING_MAX_FOLDERS;
	if (settings.sync_keepalive_s == 0)
		settings.sync_keepalive_s = WATCH_DEFAULT_KEEPALIVE_S;
}

void
watch_settings_get(struct watch_settings *s_r)
{
	*s_r = settings;
}

static void
timer_add(void *ctx, struct tw_timer *timer, uint64_t delay_s, tw_fn *fn,
	  void *arg)
{
	cas_http_timer_add(ctx, timer, delay_s, fn, arg);
}

static bool
timer_cancel(void *ctx, struct tw_timer *timer)
{
	return cas_http_timer_cancel(ctx, timer);
}

static void
run_task(void *arg)
{
	struct watch *w = arg;

	atomic_store(&run_posted, false);
	(void)watch_run(w);
}

/* Called with the table's lock released, from the event listener (the
 * loop thread) or a caller that marked entries. */
static void
schedule(void *ctx)
{
	struct watch *w = ctx != NULL ? ctx : shared;

	if (atomic_exchange(&run_posted, true))
		return;
	if (mbox_client_post(shared_mbox, run_task, w) != 0) {
		atomic_store(&run_posted, false);
		(void)watch_run(w);
	}
}

static void
on_event(void *arg, const Rpc__Event *ev)
{
	struct watch *w = arg;

	if (ev == NULL) {
		/* Reconnected: events may be lost; wake everyone (their
		 * clients sync, find nothing new and Ping again). */
		watch_all_changed(w);
		return;
	}
	switch (ev->kind_case) {
	case RPC__EVENT__KIND_CHANGED:
		if (ev->changed->folder_id != NULL)
			watch_changed(w, ev->user, ev->changed->folder_id,
				      ev->changed->modseq);
		break;
	case RPC__EVENT__KIND_HIERARCHY_CHANGED:
		/* MS-ASCMD 2.2.3.177.10 Ping Status 7, except for the
		 * device whose own folder command it was. */
		(void)watch_hierarchy(
		    w, ev->user,
		    ev->hierarchy_changed->origin_device_id != NULL &&
			    ev->hierarchy_changed->origin_device_id[0] != '\0'
			? ev->hierarchy_changed->origin_device_id
			: NULL);
		break;
	case RPC__EVENT__KIND_DEVICE_CHANGED:
		/* Wipe, block, policy change: release the device's held
		 * request at once so the client hears it. */
		(void)watch_device(w, ev->user,
				   ev->device_changed->device_id != NULL &&
					   ev->device_changed->device_id[0] !=
					       '\0'
				       ? ev->device_changed->device_id
				       : NULL);
		break;
	default:
		break;
	}
}

struct watch *
watch_shared(struct cas_http *http, struct mbox_client *mc)
{
	struct watch *w;

	pthread_mutex_lock(&shared_lock);
	if (shared == NULL && http != NULL && mc != NULL) {
		struct watch_timers t = {
		    .add = timer_add, .cancel = timer_cancel, .ctx = http};

		shared_mbox = mc;
		shared = watch_new(&t, schedule, NULL);
		if (shared != NULL &&
		    mbox_client_on_event(mc, on_event, shared) != 0) {
			log_error("watch: cannot listen to mailbox events");
			watch_free(&shared);
		}
	}
	w = shared;
	pthread_mutex_unlock(&shared_lock);
	return w;
}
