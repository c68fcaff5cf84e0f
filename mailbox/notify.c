/*
 * Publishing change events (see notify.h).  An event is tiny (user,
 * folder, modseq) and carries no data: the CAS asks for the changes
 * itself, so a lost event costs at most one late Ping answer, and a CAS
 * that reconnects treats every watched folder as changed
 * (net/rpc_client.h).  Publishing never fails the commit it reports.
 */
#include "mailbox/notify.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>

#include "proto/log.h"

static atomic_uint_fast64_t notify_published;

static void
publish(struct mbox_ctx *ctx, const Rpc__Event *ev)
{
	atomic_fetch_add(&notify_published, 1);
	if (ctx->rpc == NULL)
		return;
	if (rpc_server_publish(ctx->rpc, ev) < 0)
		log_warn("user %" PRIu64 ": event not published", ev->user);
}

void
notify_changed(struct mbox_ctx *ctx, int64_t user, int64_t folder,
	       int64_t modseq)
{
	Rpc__Event ev;
	rpc__event__init(&ev);
	Rpc__ChangedEvent ch;
	rpc__changed_event__init(&ch);
	char id[24];

	(void)snprintf(id, sizeof(id), "%" PRId64, folder);
	ch.folder_id = id;
	ch.modseq = (uint64_t)modseq;
	ev.user = (uint64_t)user;
	ev.kind_case = RPC__EVENT__KIND_CHANGED;
	ev.changed = &ch;
	publish(ctx, &ev);
}

void
notify_hierarchy(struct mbox_ctx *ctx, int64_t user, int64_t hmodseq)
{
	notify_hierarchy_from(ctx, user, hmodseq, NULL);
}

void
notify_hierarchy_from(struct mbox_ctx *ctx, int64_t user, int64_t hmodseq,
		      const char *origin_device)
{
	Rpc__Event ev;
	rpc__event__init(&ev);
	Rpc__HierarchyChangedEvent h;
	rpc__hierarchy_changed_event__init(&h);

	h.modseq = (uint64_t)hmodseq;
	if (origin_device != NULL)
		h.origin_device_id = (char *)(uintptr_t)origin_device;
	ev.user = (uint64_t)user;
	ev.kind_case = RPC__EVENT__KIND_HIERARCHY_CHANGED;
	ev.hierarchy_changed = &h;
	publish(ctx, &ev);
}

void
notify_device(struct mbox_ctx *ctx, int64_t user, const char *device_id,
	      Rpc__DeviceChange what)
{
	Rpc__Event ev;
	rpc__event__init(&ev);
	Rpc__DeviceChangedEvent d;
	rpc__device_changed_event__init(&d);

	d.device_id = (char *)(uintptr_t)device_id;
	d.what = what;
	ev.user = (uint64_t)user;
	ev.kind_case = RPC__EVENT__KIND_DEVICE_CHANGED;
	ev.device_changed = &d;
	publish(ctx, &ev);
}

uint64_t
notify_count(void)
{
	return atomic_load(&notify_published);
}
