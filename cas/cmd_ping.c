/*
 * Ping (MS-ASCMD 2.2.1.13), Direct Push.  After the request pipeline
 * (cas/request.h) the body is decoded and completed from the device's
 * cached parameters (cas/ping_req.h); then the mailbox is asked, with
 * PingCheck, whether any watched folder changed since the device's sync
 * state -- a change that arrived before this Ping answers at once with
 * Status 2.  Otherwise the request is held in the shared watch table
 * (cas/watch.h) with its connection suspended, until a Changed event for
 * one of its folders (Status 2 with the folders), the heartbeat (Status
 * 1), a newer Ping of the same device (Status 1, as Exchange ends the
 * older one: Gmail sends two almost together), a wipe / block / policy
 * event for the device (Status 1: the next request meets the pipeline's
 * 140/129/143), a hierarchy change (Status 7) or a disconnect (no answer,
 * entry dropped).
 *
 * Folders the mailbox does not know are Status 7 (hierarchy out of date).
 * Folders that exist but the device never synced (iOS Pings them before
 * its first Sync) are not an error: the mailbox reports them neither
 * changed nor unknown, and they are watched like the others.
 */
#include "cas/dispatch.h"
#include "cas/ping_req.h"
#include "cas/request.h"
#include "cas/watch.h"
#include "cas/wbxml_resp.h"
#include "proto/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The held state, owned by whoever ends the wait (the watch callback, or
 * the disconnect hook when watch_remove() hands it back). */
struct ping_held {
	struct cas_request *r;
	struct ping_request pr;
	uint64_t *since_modseqs; /* PingCheckReply.folder_modseqs, or NULL */
};

static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static struct ping_cache *cache;

static void
cache_init(void)
{
	cache = ping_cache_new(PING_CACHE_MAX_DEVICES);
}

static void
held_free(struct ping_held *h)
{
	ping_req_clear(&h->pr);
	free(h->since_modseqs);
	free(h);
}

static void
answer(struct cas_request *r, enum ping_status status,
       const char *const *changed, size_t n_changed, uint32_t limit)
{
	struct cas_wbxml_out out;

	cas_wbxml_out_init(&out);
	ping_resp_encode(&out.enc, status, changed, n_changed, limit);
	cas_request_send(r, &out);
}

static void
on_fire(void *ctx, enum watch_end why, const char *const *changed,
	size_t n_changed)
{
	struct ping_held *h = ctx;

	switch (why) {
	case WATCH_CHANGED:
		answer(h->r, PING_STATUS_CHANGES, changed, n_changed, 0);
		break;
	case WATCH_HIERARCHY:
		answer(h->r, PING_STATUS_HIERARCHY, NULL, 0, 0);
		break;
	default:
		/* Expired, replaced by a newer Ping, device event, shutdown:
		 * "no changes" (MS-ASCMD 2.2.3.177.13 Status 1). */
		answer(h->r, PING_STATUS_EXPIRED, NULL, 0, 0);
		break;
	}
	held_free(h);
}

/* The client went away (or the server stops) while the Ping was held. */
static void
on_cancel(struct cas_req *req, enum cas_req_end why, void *ctx)
{
	struct watch *w = watch_shared(NULL, NULL);
	void *owned = NULL;
	struct ping_held *h;

	(void)req;
	if (w == NULL || !watch_remove(w, (uint64_t)(uintptr_t)ctx, &owned))
		return; /* the watch callback answers */
	h = owned;
	if (why == CAS_REQ_SHUTDOWN)
		answer(h->r, PING_STATUS_EXPIRED, NULL, 0, 0);
	else
		cas_request_done(h->r);
	held_free(h);
}

static void
hold(struct ping_held *h)
{
	struct cas_request *r = h->r;
	struct cas_req *req = r->req;
	struct watch *w = watch_shared(cas_req_server(req), cas_request_mbox());
	const char **folders;
	struct watch_params p;
	uint64_t id;

	folders = calloc(h->pr.n_folders, sizeof(*folders));
	if (w == NULL || folders == NULL) {
		free(folders);
		answer(r, PING_STATUS_SERVER_ERROR, NULL, 0, 0);
		held_free(h);
		return;
	}
	for (size_t i = 0; i < h->pr.n_folders; i++)
		folders[i] = h->pr.folders[i].id;
	memset(&p, 0, sizeof(p));
	p.user = r->user;
	p.device_id = r->ash.device_id;
	p.folders = folders;
	p.n_folders = h->pr.n_folders;
	p.heartbeat_s = h->pr.heartbeat_s;
	p.since_modseqs = h->since_modseqs;
	p.fn = on_fire;
	p.ctx = h;
	/* Our own reference: the entry may end (and r be released) before
	 * the disconnect hook is set. */
	cas_req_ref(req);
	if (watch_add(w, &p, &id) != 0) {
		free(folders);
		cas_req_unref(&req);
		answer(r, PING_STATUS_SERVER_ERROR, NULL, 0, 0);
		held_free(h);
		return;
	}
	free(folders);
	cas_req_on_cancel(req, on_cancel, (void *)(uintptr_t)id);
	cas_req_unref(&req);
}

static void
on_check(void *arg, Rpc__Status status, const ProtobufCMessage *msg)
{
	struct ping_held *h = arg;
	const Rpc__PingCheckReply *reply = (const Rpc__PingCheckReply *)msg;

	if (reply == NULL) {
		cas_request_respond_rpc_error(h->r, status);
		held_free(h);
		return;
	}
	if (status != RPC__STATUS__STATUS_OK) {
		answer(h->r,
		       status == RPC__STATUS__STATUS_NOT_FOUND
			   ? PING_STATUS_HIERARCHY
			   : PING_STATUS_SERVER_ERROR,
		       NULL, 0, 0);
		held_free(h);
		return;
	}
	/* MS-ASCMD 2.2.3.177.13 Status 7: unknown folders or a changed
	 * hierarchy send the client to FolderSync. */
	if (reply->hierarchy_changed || reply->n_not_found > 0) {
		answer(h->r, PING_STATUS_HIERARCHY, NULL, 0, 0);
		held_free(h);
		return;
	}
	if (reply->n_changed > 0) {
		answer(h->r, PING_STATUS_CHANGES,
		       (const char *const *)reply->changed, reply->n_changed,
		       0);
		held_free(h);
		return;
	}
	h->since_modseqs = watch_since_copy(
	    reply->folder_modseqs, reply->n_folder_modseqs, h->pr.n_folders);
	hold(h);
}

static void
ping_run(struct cas_request *r)
{
	struct watch_settings ws;
	struct ping_held *h;
	Rpc__PingCheckRequest req;
	Rpc__PingCollection *colls = NULL, **ptrs = NULL;
	enum ping_status st;
	uint32_t limit;
	const uint8_t *body;
	size_t len;

	pthread_once(&cache_once, cache_init);
	watch_settings_get(&ws);
	h = calloc(1, sizeof(*h));
	if (h == NULL || cache == NULL) {
		free(h);
		answer(r, PING_STATUS_SERVER_ERROR, NULL, 0, 0);
		return;
	}
	h->r = r;
	body = cas_req_body(r->req, &len);
	if (ping_req_decode(body, len, ws.min_heartbeat_s, ws.max_heartbeat_s,
			    ws.max_folders, &h->pr, &st, &limit) != 0 ||
	    ping_cache_merge(cache, r->user, r->ash.device_id, &h->pr, &st) !=
		0) {
		answer(r, st, NULL, 0, limit);
		held_free(h);
		return;
	}
	colls = calloc(h->pr.n_folders, sizeof(*colls));
	ptrs = calloc(h->pr.n_folders, sizeof(*ptrs));
	if (colls == NULL || ptrs == NULL)
		goto fail;
	rpc__ping_check_request__init(&req);
	req.user = r->user;
	req.device_id = r->ash.device_id;
	for (size_t i = 0; i < h->pr.n_folders; i++) {
		rpc__ping_collection__init(&colls[i]);
		colls[i].collection_id = h->pr.folders[i].id;
		colls[i].item_class = h->pr.folders[i].class;
		ptrs[i] = &colls[i];
	}
	req.collections = ptrs;
	req.n_collections = h->pr.n_folders;
	if (mbox_call(cas_request_mbox(), RPC__MSG_TYPE__MSG_PING_CHECK,
		      &req.base, 0, on_check, h) != 0)
		goto fail;
	free(colls);
	free(ptrs);
	return;
fail:
	free(colls);
	free(ptrs);
	answer(r, PING_STATUS_SERVER_ERROR, NULL, 0, 0);
	held_free(h);
}

static void
ping_handler(struct cas_req *req, const struct cas_eas_request *eas)
{
	cas_request_run(req, eas, ping_run);
}

CAS_COMMAND(ping_command, .name = "Ping", .min_version = 25,
	    .needs_policy_key = true, .handler = ping_handler)
