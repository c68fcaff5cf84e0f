/*
 * The calendar-specific parts of the item RPCs that rpc_sync.c delegates
 * (see mailbox/calendar.h for the stored form): a client's Add, Change or
 * Delete in a Calendar folder, including the 16.0 instance commands (a
 * Change or Delete with InstanceId alters one occurrence), and the
 * ItemData of a stored event.
 */
#ifndef EASD_MAILBOX_RPC_CALENDAR_H
#define EASD_MAILBOX_RPC_CALENDAR_H

#include "mailbox/items.h"
#include "mailbox/rpc_server.h"
#include "mailbox/syncstate.h"

/* True when the command is the calendar module's: any command on a
 * Calendar folder but Fetch, or one that carries an event (refused in
 * another folder). */
bool mbox_calendar_command(enum item_class cls, const Rpc__ClientChange *c);

/*
 * Apply an Add, Change or Delete to the Calendar folder `folder` inside
 * the open sync ss.  STATUS_INVALID (the CAS's Sync Status 6) for an
 * event that fails calendar_validate, email data in a Calendar folder or
 * an event elsewhere; the assigned ServerId of an Add in res->server_id.
 */
Rpc__Status mbox_calendar_apply(struct mbox_req *r, struct store *st,
				struct store_sync *ss, int64_t folder,
				enum item_class cls, const Rpc__ClientChange *c,
				Rpc__ClientChangeResult *res);

/* d->calendar from a stored event (allocated in r's arena).  -1 out of
 * memory; an event that does not parse leaves d->calendar NULL. */
int mbox_calendar_item_data(struct mbox_req *r, const struct item *it,
			    Rpc__ItemData *d);

/* ProtobufCAllocator over r's arena (frees nothing: the arena does). */
void mbox_calendar_allocator(struct mbox_req *r, ProtobufCAllocator *a_r);

#endif
