/*
 * Change events: after every commit that changes a user's data, the
 * mailbox publishes an Event (proto/rpc.proto) to every RPC connection that
 * subscribed to that user, which is how a CAS wakes held Pings and
 * Sync-with-Wait requests (architecture "Direct Push").  Thread-safe: the
 * workers call these right after their commit; net/rpc_server packs the
 * event on the calling thread and queues it to the loop.  With no RPC
 * server (in-process tests) the events are only counted.
 */
#ifndef EASD_MAILBOX_NOTIFY_H
#define EASD_MAILBOX_NOTIFY_H

#include <stdint.h>

#include "mailbox/rpc_server.h"

/* Items of folder changed; modseq is the folder's after the commit. */
void notify_changed(struct mbox_ctx *ctx, int64_t user, int64_t folder,
		    int64_t modseq);
/* The folder hierarchy changed (create, rename, move, delete). */
void notify_hierarchy(struct mbox_ctx *ctx, int64_t user, int64_t hmodseq);
/* The same, made by a device's own folder command (origin_device). */
void notify_hierarchy_from(struct mbox_ctx *ctx, int64_t user, int64_t hmodseq,
			   const char *origin_device);
/* A device's access, wipe or policy state changed. */
void notify_device(struct mbox_ctx *ctx, int64_t user, const char *device_id,
		   Rpc__DeviceChange what);
/* Events published since start (tests). */
uint64_t notify_count(void);

#endif
