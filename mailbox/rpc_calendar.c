/*
 * Calendar commands of Sync (see rpc_calendar.h).  An Add stores the
 * client's event with a UID of its own when the client sent none
 * (MS-ASCAL 2.2.2.46: 16.0 clients send ClientUid and leave the UID to
 * the server); a Change replaces the event but keeps what a client does
 * not resend: the UID and ClientUid, the body when no Body came, and the
 * exceptions when no Exceptions element came (16.0 clients alter
 * occurrences by InstanceId, MS-ASAIRS 2.2.2.25).  Times arrive and are
 * stored in UTC; the TimeZone blob is kept bit-exact, with the IANA zone
 * it matches (ical.c) beside it.
 */
#include "mailbox/rpc_calendar.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mailbox/calendar.h"
#include "mailbox/ical.h"
#include "proto/limits.h"
#include "proto/log.h"

static void *
arena_alloc(void *data, size_t size)
{
	return mbox_alloc(data, size);
}

static void
arena_free(void *data, void *ptr)
{
	(void)data;
	(void)ptr; /* freed with the request */
}

void
mbox_calendar_allocator(struct mbox_req *r, ProtobufCAllocator *a_r)
{
	a_r->alloc = arena_alloc;
	a_r->free = arena_free;
	a_r->allocator_data = r;
}

bool
mbox_calendar_command(enum item_class cls, const Rpc__ClientChange *c)
{
	if (c->op == RPC__APPLY_OP__APPLY_FETCH)
		return false;
	return cls == ITEM_CLASS_CALENDAR ||
	       (c->data != NULL && c->data->calendar != NULL);
}

/* The stored body of an item as an RPC Body (NULL: none). */
static const Rpc__Body *
stored_body(struct mbox_req *r, const struct item *it)
{
	const char *text = it->props.body_html != NULL ? it->props.body_html
						       : it->props.body_text;
	Rpc__Body *b;

	if (text == NULL)
		return NULL;
	b = mbox_alloc(r, sizeof(*b));
	if (b == NULL)
		return NULL;
	rpc__body__init(b);
	b->type = it->props.body_html != NULL ? 2 : 1;
	b->data.data = (uint8_t *)(uintptr_t)text;
	b->data.len = strlen(text);
	return b;
}

/* Validate ev, name its zone, store it as a new item or as item id's new
 * content.  -1 with *status_r. */
static int
put_event(struct mbox_req *r, struct store *st, struct store_sync *ss,
	  const Rpc__ClientChange *c, Rpc__Calendar *ev, const Rpc__Body *body,
	  int64_t id, int64_t *id_r, Rpc__Status *status_r)
{
	struct item_props props;
	const char *error = NULL;
	char tzid[CAL_MAX_TEXT_BYTES + 1];
	int ret = -1;

	item_props_init(&props);
	*status_r = RPC__STATUS__STATUS_INVALID;
	if (calendar_validate(ev, body, &error) < 0) {
		log_info("user %lld: calendar item refused: %s",
			 (long long)r->user, error);
		goto out;
	}
	/* MS-ASDTYPE 2.7: the blob is kept as sent; its IANA name, when
	 * one matches, serves iCalendar exports. */
	if (ev->time_zone.len == CAL_TZ_BLOB_BYTES &&
	    ical_tz_name_from_blob(ev->time_zone.data, tzid, sizeof(tzid)) == 0)
		ev->tzid = mbox_strdup(r, tzid);
	else
		ev->tzid = "";
	if (ev->tzid == NULL)
		goto oom;
	if (calendar_props_set(&props, ev, body) < 0)
		goto oom;
	if (id == 0) {
		struct item_new n = {.cls = ITEM_CLASS_CALENDAR,
				     .props = &props,
				     .date = calendar_item_date(ev)};

		n.flags.importance = 1;
		if (store_sync_client_add(ss, c->client_id, &n, id_r) < 0)
			goto store_fail;
	} else {
		struct item_change ch = {.mask = ITEM_CHANGE_PROPS |
						 ITEM_CHANGE_DATE,
					 .props = &props,
					 .date = calendar_item_date(ev)};

		if (store_sync_client_change(ss, id, &ch) < 0)
			goto store_fail;
	}
	*status_r = RPC__STATUS__STATUS_OK;
	ret = 0;
	goto out;
store_fail:
	*status_r = mbox_status_from_store(store_last_error(st)->status);
	goto out;
oom:
	*status_r = RPC__STATUS__STATUS_INTERNAL;
out:
	item_props_clear(&props);
	return ret;
}

static Rpc__Status
add_event(struct mbox_req *r, struct store *st, struct store_sync *ss,
	  const Rpc__ClientChange *c, Rpc__ClientChangeResult *res)
{
	Rpc__Calendar *ev = mbox_alloc(r, sizeof(*ev));
	char uid[33];
	int64_t id = 0;
	Rpc__Status status;

	if (*c->client_id == 0 ||
	    strlen(c->client_id) > STORE_MAX_CLIENT_ID_BYTES)
		return RPC__STATUS__STATUS_INVALID;
	if (ev == NULL)
		return RPC__STATUS__STATUS_INTERNAL;
	*ev = *c->data->calendar;
	if (ev->uid.len == 0) {
		/* MS-ASCAL 2.2.2.46: the server makes the UID when the
		 * client sends none (always in 16.0). */
		if (calendar_make_uid(uid, sizeof(uid)) < 0 ||
		    (ev->uid.data = mbox_memdup(r, uid, strlen(uid))) == NULL)
			return RPC__STATUS__STATUS_INTERNAL;
		ev->uid.len = strlen(uid);
	}
	if (put_event(r, st, ss, c, ev, c->data->body, 0, &id, &status) == 0)
		res->server_id = mbox_id_str(r, id);
	return status;
}

/* The stored event id of folder, unpacked in r's arena. */
static Rpc__Status
load_event(struct mbox_req *r, struct store *st, int64_t folder,
	   const char *server_id, int64_t *id_r, struct item **it_r,
	   Rpc__Calendar **ev_r)
{
	ProtobufCAllocator alloc;

	mbox_calendar_allocator(r, &alloc);
	if (!mbox_parse_id(server_id, id_r))
		return RPC__STATUS__STATUS_NOT_FOUND;
	if (store_item_get(st, *id_r, 0, it_r) < 0)
		return store_last_error(st)->status == STORE_NOT_FOUND
			   ? RPC__STATUS__STATUS_NOT_FOUND
			   : mbox_status_from_store(
				 store_last_error(st)->status);
	if ((*it_r)->folder_id != folder || (*it_r)->cls != ITEM_CLASS_CALENDAR)
		return RPC__STATUS__STATUS_NOT_FOUND;
	*ev_r = calendar_from_props(&(*it_r)->props, &alloc);
	return RPC__STATUS__STATUS_OK;
}

static Rpc__Status
change_event(struct mbox_req *r, struct store *st, struct store_sync *ss,
	     int64_t folder, const Rpc__ClientChange *c, bool deleted)
{
	struct item *it = NULL;
	Rpc__Calendar *old = NULL, *ev;
	const Rpc__Body *body;
	ProtobufCAllocator alloc;
	const char *error = NULL;
	int64_t id = 0;
	Rpc__Status status;

	mbox_calendar_allocator(r, &alloc);
	status = load_event(r, st, folder, c->server_id, &id, &it, &old);
	if (status != RPC__STATUS__STATUS_OK)
		goto out;
	body = stored_body(r, it);
	if (c->instance_start != 0) {
		/* MS-ASAIRS 2.2.2.25: one occurrence changes or goes. */
		if (old == NULL ||
		    calendar_set_instance(old, c->instance_start, deleted,
					  deleted ? NULL : c->data->calendar,
					  &alloc, &error) < 0) {
			log_info("user %lld: instance command refused: %s",
				 (long long)r->user,
				 error != NULL ? error : "no event");
			status = RPC__STATUS__STATUS_INVALID;
			goto out;
		}
		ev = old;
	} else {
		ev = mbox_alloc(r, sizeof(*ev));
		if (ev == NULL) {
			status = RPC__STATUS__STATUS_INTERNAL;
			goto out;
		}
		*ev = *c->data->calendar;
		if (c->data->body != NULL)
			body = c->data->body;
		if (old != NULL && ev->uid.len == 0)
			ev->uid = old->uid;
		if (old != NULL && ev->client_uid.len == 0)
			ev->client_uid = old->client_uid;
		if (old != NULL && !ev->has_exceptions &&
		    ev->recurrence != NULL) {
			ev->exceptions = old->exceptions;
			ev->n_exceptions = old->n_exceptions;
		}
	}
	(void)put_event(r, st, ss, c, ev, body, id, NULL, &status);
out:
	item_free(&it);
	return status;
}

Rpc__Status
mbox_calendar_apply(struct mbox_req *r, struct store *st, struct store_sync *ss,
		    int64_t folder, enum item_class cls,
		    const Rpc__ClientChange *c, Rpc__ClientChangeResult *res)
{
	int64_t id;

	/* An event outside a Calendar folder, or other data inside one:
	 * a conversion error (MS-ASCMD Sync Status 6). */
	if (cls != ITEM_CLASS_CALENDAR)
		return RPC__STATUS__STATUS_INVALID;
	switch (c->op) {
	case RPC__APPLY_OP__APPLY_ADD:
		if (c->data == NULL || c->data->calendar == NULL)
			return RPC__STATUS__STATUS_INVALID;
		return add_event(r, st, ss, c, res);
	case RPC__APPLY_OP__APPLY_CHANGE:
		if (c->data == NULL || c->data->calendar == NULL)
			return RPC__STATUS__STATUS_INVALID;
		return change_event(r, st, ss, folder, c, false);
	case RPC__APPLY_OP__APPLY_DELETE:
		if (c->instance_start != 0)
			return change_event(r, st, ss, folder, c, true);
		if (!mbox_parse_id(c->server_id, &id))
			return RPC__STATUS__STATUS_NOT_FOUND;
		/* Calendar deletes are never moves (MS-ASCMD 2.2.3.42
		 * DeletesAsMoves concerns the Deleted Items of mail). */
		if (store_sync_client_delete(ss, id, 0) < 0)
			return mbox_status_from_store(
			    store_last_error(st)->status);
		return RPC__STATUS__STATUS_OK;
	default:
		return RPC__STATUS__STATUS_INVALID;
	}
}

int
mbox_calendar_item_data(struct mbox_req *r, const struct item *it,
			Rpc__ItemData *d)
{
	ProtobufCAllocator alloc;

	mbox_calendar_allocator(r, &alloc);
	d->calendar = calendar_from_props(&it->props, &alloc);
	if (d->calendar == NULL &&
	    item_props_find(&it->props, CALENDAR_PROP_KEY) != NULL)
		log_warn("user %lld: calendar item %lld unreadable",
			 (long long)r->user, (long long)it->id);
	return 0;
}
