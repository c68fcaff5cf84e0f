/*
 * The request dispatcher of easd-mailbox (see rpc_server.h): from
 * net/rpc_server's callback on the loop thread to the handler on the
 * user's shard worker, and the reply helpers the handlers share.
 *
 * Authorization happens here, before any handler runs: administrative
 * messages (user management, policies, stats, import) are refused with
 * STATUS_DENIED unless the peer said ROLE_ADMIN or ROLE_TEST in Hello;
 * messages about one user's data need a non-zero `user`.  The peer's role
 * is what the transport admitted (a Unix socket of mode 0660 or a client
 * certificate of the private CA), so a CAS cannot become an admin by
 * asking.  A type missing from the table is answered
 * STATUS_UNSUPPORTED.
 */
#include "mailbox/rpc_server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/limits.h"
#include "proto/log.h"

enum {
	H_ADMIN = 1 << 0, /* ROLE_ADMIN / ROLE_TEST only */
	H_USER = 1 << 1,  /* `user` must be set */
};

struct handler {
	mbox_handler_fn *fn;
	unsigned flags;
};

#define H(type, f, fl) [RPC__MSG_TYPE__##type] = {f, fl}

static const struct handler handlers[] = {
    H(MSG_VERIFY_CREDENTIALS, mbox_rpc_verify_credentials, 0),
    H(MSG_USER_ADD, mbox_rpc_user_add, H_ADMIN),
    H(MSG_USER_DELETE, mbox_rpc_user_delete, H_ADMIN | H_USER),
    H(MSG_USER_SET_PASSWORD, mbox_rpc_user_set_password, H_ADMIN | H_USER),
    H(MSG_USER_LIST, mbox_rpc_user_list, H_ADMIN),
    H(MSG_USER_GET, mbox_rpc_user_get, 0),
    H(MSG_FOLDER_SYNC, mbox_rpc_folder_sync, H_USER),
    H(MSG_FOLDER_CREATE, mbox_rpc_folder_create, H_USER),
    H(MSG_FOLDER_UPDATE, mbox_rpc_folder_update, H_USER),
    H(MSG_FOLDER_DELETE, mbox_rpc_folder_delete, H_USER),
    H(MSG_GET_CHANGES, mbox_rpc_get_changes, H_USER),
    H(MSG_APPLY_CHANGES, mbox_rpc_apply_changes, H_USER),
    H(MSG_ESTIMATE, mbox_rpc_estimate, H_USER),
    H(MSG_PING_CHECK, mbox_rpc_ping_check, H_USER),
    H(MSG_FETCH, mbox_rpc_fetch, H_USER),
    H(MSG_MOVE_ITEMS, mbox_rpc_move_items, H_USER),
    H(MSG_EMPTY_FOLDER, mbox_rpc_empty_folder, H_USER),
    H(MSG_SUBMIT, mbox_rpc_submit, H_USER),
    H(MSG_SEARCH, mbox_rpc_search, H_USER),
    H(MSG_DEVICE_REGISTER, mbox_rpc_device_register, H_USER),
    H(MSG_DEVICE_LIST, mbox_rpc_device_list, 0),
    H(MSG_DEVICE_SET_ACCESS, mbox_rpc_device_set_access, H_ADMIN | H_USER),
    H(MSG_DEVICE_WIPE, mbox_rpc_device_wipe, H_ADMIN | H_USER),
    H(MSG_DEVICE_WIPE_ACK, mbox_rpc_device_wipe_ack, H_USER),
    H(MSG_POLICY_GET, mbox_rpc_policy_get, 0),
    H(MSG_POLICY_SET, mbox_rpc_policy_set, H_ADMIN),
    H(MSG_POLICY_ASSIGN, mbox_rpc_policy_assign, H_ADMIN | H_USER),
    H(MSG_PROVISION_GET, mbox_rpc_provision_get, H_USER),
    H(MSG_PROVISION_SET, mbox_rpc_provision_set, H_USER),
    H(MSG_FOLDER_LIST, mbox_rpc_folder_list, H_ADMIN | H_USER),
    H(MSG_IMPORT, mbox_rpc_import, H_ADMIN | H_USER),
    H(MSG_STATS, mbox_rpc_stats, H_ADMIN),
    H(MSG_GAL_SEARCH, mbox_rpc_gal_search, H_USER),
    /* settings */
    H(MSG_OOF_GET, mbox_rpc_oof_get, H_USER),
    H(MSG_OOF_SET, mbox_rpc_oof_set, H_USER),
    H(MSG_DEVICE_PASSWORD, mbox_rpc_device_password, H_USER),
    H(MSG_DEVICE_PASSWORD_GET, mbox_rpc_device_password_get, H_ADMIN | H_USER),
    /* directory contact fields */
    H(MSG_USER_SET_CONTACT, mbox_rpc_user_set_contact, H_ADMIN | H_USER),
    H(MSG_USER_SET_PHOTO, mbox_rpc_user_set_photo, H_ADMIN | H_USER),
};

#define N_HANDLERS (sizeof(handlers) / sizeof(handlers[0]))

/* ------------------------------------------------------------- arena */

struct arena_block {
	struct arena_block *next;
	max_align_t data[];
};

void *
mbox_alloc(struct mbox_req *r, size_t size)
{
	struct arena_block *b;

	if (size > SIZE_MAX - sizeof(*b))
		return NULL;
	b = calloc(1, sizeof(*b) + size);
	if (b == NULL)
		return NULL;
	b->next = r->arena;
	r->arena = b;
	return b->data;
}

char *
mbox_strdup(struct mbox_req *r, const char *s)
{
	size_t len = strlen(s);
	char *p = mbox_alloc(r, len + 1);

	if (p != NULL)
		memcpy(p, s, len);
	return p;
}

uint8_t *
mbox_memdup(struct mbox_req *r, const void *data, size_t len)
{
	uint8_t *p = mbox_alloc(r, len + 1);

	if (p != NULL && len > 0)
		memcpy(p, data, len);
	return p;
}

static void
req_free(struct mbox_req **rp)
{
	struct mbox_req *r = *rp;
	struct arena_block *b;

	if (r == NULL)
		return;
	b = r->arena;
	while (b != NULL) {
		struct arena_block *next = b->next;

		free(b);
		b = next;
	}
	if (r->msg != NULL)
		protobuf_c_message_free_unpacked(r->msg, NULL);
	free(r);
	*rp = NULL;
}

/* ------------------------------------------------------------- replies */

void
mbox_reply_chunk(struct mbox_req *r, const ProtobufCMessage *msg, bool last)
{
	if (r->ctx->rpc == NULL)
		return;
	if (rpc_server_reply(r->ctx->rpc, r->conn_id, r->id, r->type, msg,
			     last) < 0) {
		/* Over RPC_MAX_FRAME_BYTES: say so rather than leave the
		 * caller waiting for its deadline. */
		log_error("%s: reply too large or out of memory",
			  rpc_msg_name(r->type));
		if (last)
			mbox_reply_status(r, RPC__STATUS__STATUS_TOO_LARGE,
					  "reply too large");
		return;
	}
	if (last)
		r->replied = true;
}

void
mbox_reply(struct mbox_req *r, const ProtobufCMessage *msg)
{
	mbox_reply_chunk(r, msg, true);
}

void
mbox_reply_status(struct mbox_req *r, Rpc__Status status, const char *error)
{
	const ProtobufCMessageDescriptor *d = rpc_msg_descriptor(r->type, true);
	const ProtobufCFieldDescriptor *f;
	ProtobufCMessage *m;

	if (d == NULL || r->ctx->rpc == NULL)
		return;
	m = calloc(1, d->sizeof_message);
	if (m == NULL)
		return;
	protobuf_c_message_init(d, m);
	f = protobuf_c_message_descriptor_get_field(d, 1);
	if (f != NULL && f->type == PROTOBUF_C_TYPE_ENUM)
		*(int *)(void *)((char *)m + f->offset) = (int)status;
	f = protobuf_c_message_descriptor_get_field_by_name(d, "error");
	if (f != NULL && f->type == PROTOBUF_C_TYPE_STRING && error != NULL)
		*(const char **)(void *)((char *)m + f->offset) = error;
	if (rpc_server_reply(r->ctx->rpc, r->conn_id, r->id, r->type, m,
			     true) == 0)
		r->replied = true;
	free(m);
}

Rpc__Status
mbox_status_from_store(enum store_status status)
{
	switch (status) {
	case STORE_OK:
		return RPC__STATUS__STATUS_OK;
	case STORE_NOT_FOUND:
		return RPC__STATUS__STATUS_NOT_FOUND;
	case STORE_EXISTS:
		return RPC__STATUS__STATUS_EXISTS;
	case STORE_INVALID:
		return RPC__STATUS__STATUS_INVALID;
	case STORE_DENIED:
		return RPC__STATUS__STATUS_DENIED;
	case STORE_FULL:
		return RPC__STATUS__STATUS_STORAGE_FULL;
	case STORE_BUSY:
		return RPC__STATUS__STATUS_BUSY;
	case STORE_IO:
	case STORE_CORRUPT:
		break;
	}
	return RPC__STATUS__STATUS_STORAGE_ERROR;
}

void
mbox_reply_store_error(struct mbox_req *r, enum store_status status,
		       const char *msg)
{
	Rpc__Status st = mbox_status_from_store(status);

	if (st == RPC__STATUS__STATUS_STORAGE_ERROR ||
	    st == RPC__STATUS__STATUS_STORAGE_FULL)
		log_error("user %" PRId64 " %s: %s", r->user,
			  rpc_msg_name(r->type), msg);
	else
		log_debug("user %" PRId64 " %s: %s", r->user,
			  rpc_msg_name(r->type), msg);
	mbox_reply_status(r, st, msg);
}

bool
mbox_req_is_admin(const struct mbox_req *r)
{
	return r->role == RPC__ROLE__ROLE_ADMIN ||
	       r->role == RPC__ROLE__ROLE_TEST;
}

bool
mbox_parse_id(const char *text, int64_t *id_r)
{
	char *end;
	long long v;

	if (text == NULL || *text < '1' || *text > '9')
		return false;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || *end != 0 || v <= 0)
		return false;
	*id_r = v;
	return true;
}

char *
mbox_id_str(struct mbox_req *r, int64_t id)
{
	char text[24];

	(void)snprintf(text, sizeof(text), "%" PRId64, id);
	return mbox_strdup(r, text);
}

/* ------------------------------------------------------------ dispatch */

static void
run_request(void *arg)
{
	struct mbox_req *r = arg;
	const struct handler *h = &handlers[r->type];

	h->fn(r);
	if (!r->replied)
		/* A handler that could not build its reply (out of memory)
		 * still answers, so no caller waits for its deadline. */
		mbox_reply_status(r, RPC__STATUS__STATUS_INTERNAL,
				  "no reply built");
	req_free(&r);
}

/* Field 1 of a request when it is `uint64 user`. */
static int64_t
request_user(const ProtobufCMessage *msg)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field(msg->descriptor, 1);

	if (f == NULL || f->type != PROTOBUF_C_TYPE_UINT64 ||
	    strcmp(f->name, "user") != 0)
		return 0;
	return (int64_t) *
	       (const uint64_t *)(const void *)((const char *)msg + f->offset);
}

void
mbox_rpc_on_request(void *arg, struct rpc_request *req)
{
	struct mbox_ctx *ctx = arg;
	struct mbox_req *r;
	const struct handler *h =
	    req->type < N_HANDLERS ? &handlers[req->type] : NULL;
	char key[STORE_MAX_LOGIN_BYTES + 1];

	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		protobuf_c_message_free_unpacked(req->msg, NULL);
		return;
	}
	r->ctx = ctx;
	r->conn_id = req->conn_id;
	r->id = req->id;
	r->type = req->type;
	r->role = req->role;
	r->msg = req->msg;
	r->user = request_user(req->msg);
	if (h == NULL || h->fn == NULL) {
		mbox_reply_status(r, RPC__STATUS__STATUS_UNSUPPORTED,
				  "not served by this mailbox");
		goto out;
	}
	if ((h->flags & H_ADMIN) != 0 && !mbox_req_is_admin(r)) {
		log_warn("%s from %s refused: not an admin peer",
			 rpc_msg_name(r->type), req->peer);
		mbox_reply_status(r, RPC__STATUS__STATUS_DENIED,
				  "administrative request");
		goto out;
	}
	if ((h->flags & H_USER) != 0 && (r->user <= 0)) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "request names no user");
		goto out;
	}
	if (r->type == RPC__MSG_TYPE__MSG_VERIFY_CREDENTIALS) {
		/* Spread password hashing over the shards by login. */
		const Rpc__VerifyCredentialsRequest *v = (const void *)r->msg;

		(void)snprintf(key, sizeof(key), "%s", v->login);
	} else {
		mbox_user_key(r->user, key, sizeof(key));
	}
	if (workers_submit(ctx->workers, key, run_request, r) < 0) {
		mbox_reply_status(r, RPC__STATUS__STATUS_BUSY,
				  "cannot queue the request");
		goto out;
	}
	return;
out:
	req_free(&r);
}

int
mbox_rpc_start(struct mbox_ctx *ctx, const char **error_r)
{
	struct tls_config tls = {
	    .ca_file = ctx->conf->tls_ca,
	    .cert_file = ctx->conf->tls_cert,
	    .key_file = ctx->conf->tls_key,
	    .allowed_names = ctx->conf->tls_clients,
	};
	struct rpc_server_config cfg = {
	    .listen = ctx->conf->rpc_listen,
	    .tls = strncmp(ctx->conf->rpc_listen, "tcp:", 4) == 0 ? &tls : NULL,
	    .software = "easd-mailbox 0.1",
	};

	ctx->rpc =
	    rpc_server_new(ctx->loop, &cfg, mbox_rpc_on_request, ctx, error_r);
	return ctx->rpc == NULL ? -1 : 0;
}
