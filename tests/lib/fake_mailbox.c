/*
 * The fake mailbox of CAS and easctl tests; see fake_mailbox.h.  State is
 * a few fixed arrays under one lock; the RPC server runs on a loop thread
 * of its own, exactly like the real daemon's I/O thread.
 */
#include "tests/lib/fake_mailbox.h"

#include "policy/policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FAKE_TYPES 64

struct ffolder {
	char id[32];
	char parent[32];
	char name[128];
	unsigned type;
	unsigned created, modified, deleted; /* hierarchy versions */
};

struct fuser {
	uint64_t id;
	char login[128];
	char password[128];
	char policy[64];
	struct ffolder folders[FAKE_MAX_FOLDERS];
	size_t n_folders;
	unsigned version;
	unsigned next_folder;
};

struct fpolicy {
	char name[64];
	char *text;
};

struct fhandler {
	fake_mailbox_fn *fn;
	void *arg;
};

struct fake_mailbox {
	char dir[64];
	bool tcp;
	struct tls_config tls; /* tcp: borrowed from the caller */
	char addr[128];
	char path[96];
	struct loop *loop;
	struct rpc_server *server;
	pthread_t thread;
	pthread_mutex_t lock;
	struct fuser users[FAKE_MAX_USERS];
	size_t n_users;
	struct fake_device devices[FAKE_MAX_DEVICES];
	size_t n_devices;
	struct fpolicy policies[FAKE_MAX_POLICIES];
	size_t n_policies;
	unsigned counts[FAKE_TYPES];
	Rpc__Status fail[FAKE_TYPES];
	struct fhandler handlers[FAKE_TYPES];
};

static void
copy_str(char *dst, size_t size, const char *src)
{
	(void)snprintf(dst, size, "%s", src != NULL ? src : "");
}

static char *
pb_str(const char *s)
{
	return (char *)(uintptr_t)(s != NULL ? s : "");
}

/* ---------------------------------------------------------- lookups */

static struct fuser *
user_by_id(struct fake_mailbox *fm, uint64_t id)
{
	for (size_t i = 0; i < fm->n_users; i++)
		if (fm->users[i].id == id)
			return &fm->users[i];
	return NULL;
}

static struct fuser *
user_by_login(struct fake_mailbox *fm, const char *login)
{
	for (size_t i = 0; i < fm->n_users; i++)
		if (strcmp(fm->users[i].login, login) == 0)
			return &fm->users[i];
	return NULL;
}

static struct fake_device *
device_find(struct fake_mailbox *fm, uint64_t user, const char *id)
{
	for (size_t i = 0; i < fm->n_devices; i++)
		if (fm->devices[i].user == user &&
		    strcmp(fm->devices[i].device_id, id) == 0)
			return &fm->devices[i];
	return NULL;
}

static struct ffolder *
folder_find(struct fuser *u, const char *id)
{
	for (size_t i = 0; i < u->n_folders; i++)
		if (u->folders[i].deleted == 0 &&
		    strcmp(u->folders[i].id, id) == 0)
			return &u->folders[i];
	return NULL;
}

static struct fpolicy *
policy_find(struct fake_mailbox *fm, const char *name)
{
	for (size_t i = 0; i < fm->n_policies; i++)
		if (strcmp(fm->policies[i].name, name) == 0)
			return &fm->policies[i];
	return NULL;
}

static bool
folder_special(unsigned type)
{
	/* MS-ASCMD 2.2.3.186.3: the default folders, 2-11 and 19. */
	return (type >= 2 && type <= 11) || type == 19;
}

static struct ffolder *
folder_add_locked(struct fuser *u, const char *id, const char *parent,
		  const char *name, unsigned type, unsigned version)
{
	struct ffolder *f;

	if (u->n_folders >= FAKE_MAX_FOLDERS)
		return NULL;
	f = &u->folders[u->n_folders++];
	memset(f, 0, sizeof(*f));
	copy_str(f->id, sizeof(f->id), id);
	copy_str(f->parent, sizeof(f->parent), parent);
	copy_str(f->name, sizeof(f->name), name);
	f->type = type;
	f->created = version;
	f->modified = version;
	return f;
}

/* ---------------------------------------------------------- replies */

int
fake_mailbox_reply(struct fake_mailbox *fm, const struct rpc_request *req,
		   const ProtobufCMessage *reply)
{
	return rpc_server_reply(fm->server, req->conn_id, req->id, req->type,
				reply, true);
}

int
fake_mailbox_reply_chunk(struct fake_mailbox *fm, const struct rpc_request *req,
			 const ProtobufCMessage *reply, bool last)
{
	return rpc_server_reply(fm->server, req->conn_id, req->id, req->type,
				reply, last);
}

/* A reply of the request's reply type carrying only a status. */
static void
reply_status(struct fake_mailbox *fm, const struct rpc_request *req,
	     Rpc__Status status)
{
	const ProtobufCMessageDescriptor *d =
	    rpc_msg_descriptor(req->type, true);
	uint8_t bytes[2] = {0x08, (uint8_t)status}; /* field 1, varint */
	ProtobufCMessage *m;

	if (d == NULL)
		return;
	m = protobuf_c_message_unpack(d, NULL, sizeof(bytes), bytes);
	if (m == NULL)
		return;
	(void)fake_mailbox_reply(fm, req, m);
	protobuf_c_message_free_unpacked(m, NULL);
}

static void
device_to_rpc(const struct fake_device *d, Rpc__Device *out)
{
	rpc__device__init(out);
	out->device_id = pb_str(d->device_id);
	out->device_type = pb_str(d->device_type);
	out->model = pb_str(d->model);
	out->user_agent = pb_str(d->user_agent);
	out->protocol_version = pb_str(d->protocol_version);
	out->first_seen = d->first_seen;
	out->last_seen = d->last_seen;
	out->access = d->access;
	out->wipe = d->wipe;
	out->policy_key = pb_str(d->policy_key);
	out->friendly_name = pb_str(d->friendly_name);
	out->os = pb_str(d->os);
}

static void
reply_device(struct fake_mailbox *fm, const struct rpc_request *req,
	     const struct fake_device *d)
{
	Rpc__DeviceReply r;
	Rpc__Device dev;

	rpc__device_reply__init(&r);
	r.status = RPC__STATUS__STATUS_OK;
	device_to_rpc(d, &dev);
	r.device = &dev;
	(void)fake_mailbox_reply(fm, req, &r.base);
}

/* ---------------------------------------------------------- handlers */

static void
h_verify(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__VerifyCredentialsRequest *m =
	    (const Rpc__VerifyCredentialsRequest *)req->msg;
	struct fuser *u = user_by_login(fm, m->login);
	Rpc__VerifyCredentialsReply r;

	rpc__verify_credentials_reply__init(&r);
	if (u == NULL || m->password.len != strlen(u->password) ||
	    memcmp(m->password.data, u->password, m->password.len) != 0) {
		r.status = RPC__STATUS__STATUS_DENIED;
	} else {
		r.status = RPC__STATUS__STATUS_OK;
		r.user = u->id;
		r.canonical_login = u->login;
		r.primary_address = u->login;
	}
	(void)fake_mailbox_reply(fm, req, &r.base);
}

static void
h_user_get(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__UserGetRequest *m = (const Rpc__UserGetRequest *)req->msg;
	struct fuser *u = m->user != 0 ? user_by_id(fm, m->user)
				       : user_by_login(fm, m->login);
	Rpc__UserReply r;
	Rpc__UserInfo info;

	if (u == NULL) {
		reply_status(fm, req, RPC__STATUS__STATUS_NOT_FOUND);
		return;
	}
	rpc__user_reply__init(&r);
	rpc__user_info__init(&info);
	info.user = u->id;
	info.login = u->login;
	info.primary_address = u->login;
	info.policy_name = u->policy;
	r.status = RPC__STATUS__STATUS_OK;
	r.info = &info;
	(void)fake_mailbox_reply(fm, req, &r.base);
}

static void
h_user_list(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__UserListRequest *m = (const Rpc__UserListRequest *)req->msg;
	Rpc__UserListReply r;
	Rpc__UserInfo infos[FAKE_MAX_USERS];
	Rpc__UserInfo *ptrs[FAKE_MAX_USERS];
	size_t n = 0;

	rpc__user_list_reply__init(&r);
	for (size_t i = 0; i < fm->n_users; i++) {
		struct fuser *u = &fm->users[i];

		if (u->id <= m->after_user)
			continue;
		if (m->limit != 0 && n >= m->limit) {
			r.more_available = true;
			break;
		}
		rpc__user_info__init(&infos[n]);
		infos[n].user = u->id;
		infos[n].login = u->login;
		infos[n].primary_address = u->login;
		infos[n].policy_name = u->policy;
		ptrs[n] = &infos[n];
		n++;
	}
	r.status = RPC__STATUS__STATUS_OK;
	r.users = ptrs;
	r.n_users = n;
	(void)fake_mailbox_reply(fm, req, &r.base);
}

static void
h_device_register(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__DeviceRegisterRequest *m =
	    (const Rpc__DeviceRegisterRequest *)req->msg;
	struct fake_device *d;

	if (user_by_id(fm, m->user) == NULL || m->device == NULL ||
	    m->device->device_id[0] == 0) {
		reply_status(fm, req, RPC__STATUS__STATUS_INVALID);
		return;
	}
	d = device_find(fm, m->user, m->device->device_id);
	if (d == NULL) {
		if (fm->n_devices >= FAKE_MAX_DEVICES) {
			reply_status(fm, req, RPC__STATUS__STATUS_DENIED);
			return;
		}
		d = &fm->devices[fm->n_devices++];
		memset(d, 0, sizeof(*d));
		d->user = m->user;
		copy_str(d->device_id, sizeof(d->device_id),
			 m->device->device_id);
		d->first_seen = m->device->last_seen;
		d->access = RPC__DEVICE_ACCESS__ACCESS_ALLOW;
	}
	d->registrations++;
	d->last_seen = m->device->last_seen;
#define SET_IF(field, value)                                         \
	do {                                                         \
		if ((value) != NULL && (value)[0] != 0)              \
			copy_str(d->field, sizeof(d->field), value); \
	} while (0)
	SET_IF(device_type, m->device->device_type);
	SET_IF(user_agent, m->device->user_agent);
	SET_IF(protocol_version, m->device->protocol_version);
	SET_IF(model, m->device->model);
	SET_IF(friendly_name, m->device->friendly_name);
	SET_IF(os, m->device->os);
#undef SET_IF
	reply_device(fm, req, d);
}

static void
h_device_list(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__DeviceListRequest *m =
	    (const Rpc__DeviceListRequest *)req->msg;
	Rpc__DeviceListReply r;
	Rpc__DeviceListEntry entries[FAKE_MAX_DEVICES];
	Rpc__DeviceListEntry *ptrs[FAKE_MAX_DEVICES];
	Rpc__Device devs[FAKE_MAX_DEVICES];
	size_t n = 0;

	rpc__device_list_reply__init(&r);
	for (size_t i = 0; i < fm->n_devices; i++) {
		if (m->user != 0 && fm->devices[i].user != m->user)
			continue;
		rpc__device_list_entry__init(&entries[n]);
		device_to_rpc(&fm->devices[i], &devs[n]);
		entries[n].user = fm->devices[i].user;
		entries[n].device = &devs[n];
		ptrs[n] = &entries[n];
		n++;
	}
	r.status = RPC__STATUS__STATUS_OK;
	r.devices = ptrs;
	r.n_devices = n;
	(void)fake_mailbox_reply(fm, req, &r.base);
}

static void
h_device_set_access(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__DeviceSetAccessRequest *m =
	    (const Rpc__DeviceSetAccessRequest *)req->msg;
	struct fake_device *d = device_find(fm, m->user, m->device_id);

	if (d == NULL) {
		reply_status(fm, req, RPC__STATUS__STATUS_NOT_FOUND);
		return;
	}
	d->access = m->access;
	reply_device(fm, req, d);
}

static void
h_device_wipe(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__DeviceWipeRequest *m =
	    (const Rpc__DeviceWipeRequest *)req->msg;
	struct fake_device *d = device_find(fm, m->user, m->device_id);

	if (d == NULL) {
		reply_status(fm, req, RPC__STATUS__STATUS_NOT_FOUND);
		return;
	}
	d->wipe = m->wipe;
	reply_device(fm, req, d);
}

static void
h_device_wipe_ack(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__DeviceWipeAckRequest *m =
	    (const Rpc__DeviceWipeAckRequest *)req->msg;
	struct fake_device *d = device_find(fm, m->user, m->device_id);

	if (d == NULL) {
		reply_status(fm, req, RPC__STATUS__STATUS_NOT_FOUND);
		return;
	}
	d->wipe_acks++;
	d->last_wipe_client_status = m->client_status;
	if (m->client_status == 1)
		d->wipe = RPC__WIPE_STATE__WIPE_DONE;
	reply_device(fm, req, d);
}

static void
h_policy_get(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__PolicyGetRequest *m =
	    (const Rpc__PolicyGetRequest *)req->msg;
	const char *name = m->name;
	struct fpolicy *p;
	Rpc__PolicyReply r;

	if (name == NULL || name[0] == 0) {
		struct fuser *u = user_by_id(fm, m->user);

		name = u != NULL && u->policy[0] != 0 ? u->policy : "default";
	}
	p = policy_find(fm, name);
	rpc__policy_reply__init(&r);
	if (p == NULL && strcmp(name, "default") != 0) {
		reply_status(fm, req, RPC__STATUS__STATUS_NOT_FOUND);
		return;
	}
	r.status = RPC__STATUS__STATUS_OK;
	r.name = pb_str(name);
	r.text = pb_str(p != NULL ? p->text : "");
	(void)fake_mailbox_reply(fm, req, &r.base);
}

static int
policy_store_locked(struct fake_mailbox *fm, const char *name, const char *text)
{
	struct fpolicy *p = policy_find(fm, name);
	char *copy = strdup(text);

	if (copy == NULL)
		return -1;
	if (p == NULL) {
		if (fm->n_policies >= FAKE_MAX_POLICIES) {
			free(copy);
			return -1;
		}
		p = &fm->policies[fm->n_policies++];
		copy_str(p->name, sizeof(p->name), name);
	}
	free(p->text);
	p->text = copy;
	return 0;
}

static void
h_policy_set(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__PolicySetRequest *m =
	    (const Rpc__PolicySetRequest *)req->msg;
	struct policy *pol = NULL;
	struct policy_error err;
	Rpc__PolicyReply r;

	rpc__policy_reply__init(&r);
	if (m->name[0] == 0 ||
	    policy_from_text(m->text, strlen(m->text), &pol, &err) != 0) {
		r.status = RPC__STATUS__STATUS_INVALID;
		r.error = m->name[0] == 0 ? pb_str("empty name") : err.message;
		(void)fake_mailbox_reply(fm, req, &r.base);
		return;
	}
	policy_free(&pol);
	if (policy_store_locked(fm, m->name, m->text) != 0) {
		reply_status(fm, req, RPC__STATUS__STATUS_STORAGE_FULL);
		return;
	}
	r.status = RPC__STATUS__STATUS_OK;
	r.name = m->name;
	r.text = m->text;
	(void)fake_mailbox_reply(fm, req, &r.base);
}

static void
h_policy_assign(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__PolicyAssignRequest *m =
	    (const Rpc__PolicyAssignRequest *)req->msg;
	struct fuser *u = user_by_id(fm, m->user);

	if (u == NULL || (m->name[0] != 0 && policy_find(fm, m->name) == NULL &&
			  strcmp(m->name, "default") != 0)) {
		reply_status(fm, req, RPC__STATUS__STATUS_NOT_FOUND);
		return;
	}
	copy_str(u->policy, sizeof(u->policy), m->name);
	reply_status(fm, req, RPC__STATUS__STATUS_OK);
}

static void
reply_provision(struct fake_mailbox *fm, const struct rpc_request *req,
		struct fake_device *d)
{
	Rpc__ProvisionReply r;

	rpc__provision_reply__init(&r);
	r.status = RPC__STATUS__STATUS_OK;
	r.policy_key = d->policy_key;
	r.key_state = d->key_state;
	r.policy_hash.data = d->policy_hash;
	r.policy_hash.len = d->policy_hash_len;
	r.wipe = d->wipe;
	r.access = d->access;
	(void)fake_mailbox_reply(fm, req, &r.base);
}

static void
h_provision_get(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__ProvisionGetRequest *m =
	    (const Rpc__ProvisionGetRequest *)req->msg;
	struct fake_device *d = device_find(fm, m->user, m->device_id);

	if (d == NULL) {
		reply_status(fm, req, RPC__STATUS__STATUS_NOT_FOUND);
		return;
	}
	reply_provision(fm, req, d);
}

static void
h_provision_set(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__ProvisionSetRequest *m =
	    (const Rpc__ProvisionSetRequest *)req->msg;
	struct fake_device *d = device_find(fm, m->user, m->device_id);

	/* Like the mailbox: the key is a decimal u32 or "" (none). */
	for (const char *c = m->policy_key; *c != 0; c++) {
		if (*c < '0' || *c > '9' || c - m->policy_key >= 10) {
			reply_status(fm, req, RPC__STATUS__STATUS_INVALID);
			return;
		}
	}
	if (d == NULL || m->policy_hash.len > sizeof(d->policy_hash)) {
		reply_status(fm, req,
			     d == NULL ? RPC__STATUS__STATUS_NOT_FOUND
				       : RPC__STATUS__STATUS_INVALID);
		return;
	}
	copy_str(d->policy_key, sizeof(d->policy_key), m->policy_key);
	d->key_state = m->key_state;
	if (m->policy_hash.len > 0)
		memcpy(d->policy_hash, m->policy_hash.data, m->policy_hash.len);
	d->policy_hash_len = m->policy_hash.len;
	reply_provision(fm, req, d);
}

/* A client's hierarchy key: "0", or a version we issued. */
static int
sync_key_check(const struct fuser *u, const char *key, bool allow_zero,
	       unsigned *k_r)
{
	char *end;
	unsigned long k;

	if (key == NULL || key[0] == 0)
		return -1;
	k = strtoul(key, &end, 10);
	if (*end != 0 || k > u->version || (k == 0 && !allow_zero))
		return -1;
	*k_r = (unsigned)k;
	return 0;
}

static void
h_folder_sync(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__FolderSyncRequest *m =
	    (const Rpc__FolderSyncRequest *)req->msg;
	struct fuser *u = user_by_id(fm, m->user);
	Rpc__FolderSyncReply r;
	Rpc__Folder adds[FAKE_MAX_FOLDERS], updates[FAKE_MAX_FOLDERS];
	Rpc__Folder *padds[FAKE_MAX_FOLDERS], *pupdates[FAKE_MAX_FOLDERS];
	char *dels[FAKE_MAX_FOLDERS];
	char key[16];
	unsigned k;

	if (u == NULL) {
		reply_status(fm, req, RPC__STATUS__STATUS_NOT_FOUND);
		return;
	}
	if (sync_key_check(u, m->sync_key, true, &k) != 0) {
		reply_status(fm, req, RPC__STATUS__STATUS_INVALID_SYNC_KEY);
		return;
	}
	rpc__folder_sync_reply__init(&r);
	r.adds = padds;
	r.updates = pupdates;
	r.deletes = dels;
	for (size_t i = 0; i < u->n_folders; i++) {
		struct ffolder *f = &u->folders[i];
		Rpc__Folder *out = NULL;

		if (f->deleted != 0) {
			if (f->deleted > k && f->created <= k && k != 0)
				dels[r.n_deletes++] = f->id;
			continue;
		}
		if (f->created > k || k == 0) {
			out = &adds[r.n_adds];
			padds[r.n_adds++] = out;
		} else if (f->modified > k) {
			out = &updates[r.n_updates];
			pupdates[r.n_updates++] = out;
		}
		if (out != NULL) {
			rpc__folder__init(out);
			out->server_id = f->id;
			out->parent_id = f->parent;
			out->display_name = f->name;
			out->type = f->type;
		}
	}
	(void)snprintf(key, sizeof(key), "%u", u->version);
	r.status = RPC__STATUS__STATUS_OK;
	r.sync_key = key;
	(void)fake_mailbox_reply(fm, req, &r.base);
}

static void
reply_folder_change(struct fake_mailbox *fm, const struct rpc_request *req,
		    const struct fuser *u, const char *server_id)
{
	Rpc__FolderChangeReply r;
	char key[16];

	rpc__folder_change_reply__init(&r);
	(void)snprintf(key, sizeof(key), "%u", u->version);
	r.status = RPC__STATUS__STATUS_OK;
	r.sync_key = key;
	r.server_id = pb_str(server_id);
	(void)fake_mailbox_reply(fm, req, &r.base);
}

static bool
name_taken(const struct fuser *u, const char *parent, const char *name,
	   const struct ffolder *except)
{
	for (size_t i = 0; i < u->n_folders; i++) {
		const struct ffolder *f = &u->folders[i];

		if (f != except && f->deleted == 0 &&
		    strcmp(f->parent, parent) == 0 &&
		    strcmp(f->name, name) == 0)
			return true;
	}
	return false;
}

static void
h_folder_create(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__FolderCreateRequest *m =
	    (const Rpc__FolderCreateRequest *)req->msg;
	struct fuser *u = user_by_id(fm, m->user);
	char id[32];
	unsigned k;

	if (u == NULL) {
		reply_status(fm, req, RPC__STATUS__STATUS_NOT_FOUND);
		return;
	}
	if (sync_key_check(u, m->sync_key, false, &k) != 0) {
		reply_status(fm, req, RPC__STATUS__STATUS_INVALID_SYNC_KEY);
		return;
	}
	if (m->display_name[0] == 0 ||
	    !(m->type == 1 || (m->type >= 12 && m->type <= 17))) {
		reply_status(fm, req, RPC__STATUS__STATUS_INVALID);
		return;
	}
	if (strcmp(m->parent_id, "0") != 0 &&
	    folder_find(u, m->parent_id) == NULL) {
		reply_status(fm, req, RPC__STATUS__STATUS_NOT_FOUND);
		return;
	}
	if (name_taken(u, m->parent_id, m->display_name, NULL)) {
		reply_status(fm, req, RPC__STATUS__STATUS_EXISTS);
		return;
	}
	(void)snprintf(id, sizeof(id), "u%u", ++u->next_folder);
	if (folder_add_locked(u, id, m->parent_id, m->display_name, m->type,
			      u->version + 1) == NULL) {
		reply_status(fm, req, RPC__STATUS__STATUS_STORAGE_FULL);
		return;
	}
	u->version++;
	reply_folder_change(fm, req, u, id);
}

static void
h_folder_update(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__FolderUpdateRequest *m =
	    (const Rpc__FolderUpdateRequest *)req->msg;
	struct fuser *u = user_by_id(fm, m->user);
	struct ffolder *f;
	const char *parent;
	unsigned k;

	if (u == NULL) {
		reply_status(fm, req, RPC__STATUS__STATUS_NOT_FOUND);
		return;
	}
	if (sync_key_check(u, m->sync_key, false, &k) != 0) {
		reply_status(fm, req, RPC__STATUS__STATUS_INVALID_SYNC_KEY);
		return;
	}
	f = folder_find(u, m->server_id);
	if (f == NULL) {
		reply_status(fm, req, RPC__STATUS__STATUS_NOT_FOUND);
		return;
	}
	if (folder_special(f->type)) {
		reply_status(fm, req, RPC__STATUS__STATUS_DENIED);
		return;
	}
	parent = m->parent_id[0] != 0 ? m->parent_id : f->parent;
	if (strcmp(parent, "0") != 0 && folder_find(u, parent) == NULL) {
		reply_status(fm, req, RPC__STATUS__STATUS_NOT_FOUND);
		return;
	}
	if (name_taken(u, parent, m->display_name, f)) {
		reply_status(fm, req, RPC__STATUS__STATUS_EXISTS);
		return;
	}
	copy_str(f->parent, sizeof(f->parent), parent);
	if (m->display_name[0] != 0)
		copy_str(f->name, sizeof(f->name), m->display_name);
	f->modified = ++u->version;
	reply_folder_change(fm, req, u, f->id);
}

static void
h_folder_delete(struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__FolderDeleteRequest *m =
	    (const Rpc__FolderDeleteRequest *)req->msg;
	struct fuser *u = user_by_id(fm, m->user);
	struct ffolder *f;
	unsigned k;

	if (u == NULL) {
		reply_status(fm, req, RPC__STATUS__STATUS_NOT_FOUND);
		return;
	}
	if (sync_key_check(u, m->sync_key, false, &k) != 0) {
		reply_status(fm, req, RPC__STATUS__STATUS_INVALID_SYNC_KEY);
		return;
	}
	f = folder_find(u, m->server_id);
	if (f == NULL) {
		reply_status(fm, req, RPC__STATUS__STATUS_NOT_FOUND);
		return;
	}
	if (folder_special(f->type)) {
		reply_status(fm, req, RPC__STATUS__STATUS_DENIED);
		return;
	}
	f->deleted = ++u->version;
	reply_folder_change(fm, req, u, f->id);
}

static void
on_request(void *arg, struct rpc_request *req)
{
	struct fake_mailbox *fm = arg;
	unsigned t = req->type < FAKE_TYPES ? req->type : 0;
	struct fhandler h;
	Rpc__Status fail;

	pthread_mutex_lock(&fm->lock);
	fm->counts[t]++;
	h = fm->handlers[t];
	fail = fm->fail[t];
	pthread_mutex_unlock(&fm->lock);
	if (fail != RPC__STATUS__STATUS_UNSPECIFIED) {
		reply_status(fm, req, fail);
		goto out;
	}
	if (h.fn != NULL && h.fn(h.arg, fm, req) == 0)
		goto out;
	pthread_mutex_lock(&fm->lock);
	switch (req->type) {
	case RPC__MSG_TYPE__MSG_VERIFY_CREDENTIALS:
		h_verify(fm, req);
		break;
	case RPC__MSG_TYPE__MSG_USER_GET:
		h_user_get(fm, req);
		break;
	case RPC__MSG_TYPE__MSG_USER_LIST:
		h_user_list(fm, req);
		break;
	case RPC__MSG_TYPE__MSG_DEVICE_REGISTER:
		h_device_register(fm, req);
		break;
	case RPC__MSG_TYPE__MSG_DEVICE_LIST:
		h_device_list(fm, req);
		break;
	case RPC__MSG_TYPE__MSG_DEVICE_SET_ACCESS:
		h_device_set_access(fm, req);
		break;
	case RPC__MSG_TYPE__MSG_DEVICE_WIPE:
		h_device_wipe(fm, req);
		break;
	case RPC__MSG_TYPE__MSG_DEVICE_WIPE_ACK:
		h_device_wipe_ack(fm, req);
		break;
	case RPC__MSG_TYPE__MSG_POLICY_GET:
		h_policy_get(fm, req);
		break;
	case RPC__MSG_TYPE__MSG_POLICY_SET:
		h_policy_set(fm, req);
		break;
	case RPC__MSG_TYPE__MSG_POLICY_ASSIGN:
		h_policy_assign(fm, req);
		break;
	case RPC__MSG_TYPE__MSG_PROVISION_GET:
		h_provision_get(fm, req);
		break;
	case RPC__MSG_TYPE__MSG_PROVISION_SET:
		h_provision_set(fm, req);
		break;
	case RPC__MSG_TYPE__MSG_FOLDER_SYNC:
		h_folder_sync(fm, req);
		break;
	case RPC__MSG_TYPE__MSG_FOLDER_CREATE:
		h_folder_create(fm, req);
		break;
	case RPC__MSG_TYPE__MSG_FOLDER_UPDATE:
		h_folder_update(fm, req);
		break;
	case RPC__MSG_TYPE__MSG_FOLDER_DELETE:
		h_folder_delete(fm, req);
		break;
	default:
		reply_status(fm, req, RPC__STATUS__STATUS_UNSUPPORTED);
		break;
	}
	pthread_mutex_unlock(&fm->lock);
out:
	protobuf_c_message_free_unpacked(req->msg, NULL);
}

/* ---------------------------------------------------------- public */

static void *
fake_main(void *arg)
{
	struct fake_mailbox *fm = arg;

	(void)loop_run(fm->loop);
	return NULL;
}

/* A free TCP port on 127.0.0.1 (the usual tiny race of test suites). */
static int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int
fake_listen(struct fake_mailbox *fm, const char **error_r)
{
	struct rpc_server_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = fm->addr;
	cfg.tls = fm->tcp ? &fm->tls : NULL;
	cfg.software = "fake-mailbox";
	fm->server = rpc_server_new(fm->loop, &cfg, on_request, fm, error_r);
	return fm->server != NULL ? 0 : -1;
}

static struct fake_mailbox *
fake_start(const struct tls_config *tls)
{
	struct fake_mailbox *fm = calloc(1, sizeof(*fm));
	const char *error = NULL;
	char tmpl[] = "/tmp/easd-fakembox-XXXXXX";

	if (fm == NULL)
		return NULL;
	pthread_mutex_init(&fm->lock, NULL);
	if (mkdtemp(tmpl) == NULL)
		goto fail;
	copy_str(fm->dir, sizeof(fm->dir), tmpl);
	(void)snprintf(fm->path, sizeof(fm->path), "%s/mailbox.sock", fm->dir);
	if (tls != NULL) {
		int port = free_port();

		if (port < 0)
			goto fail;
		fm->tcp = true;
		fm->tls = *tls;
		(void)snprintf(fm->addr, sizeof(fm->addr), "tcp:127.0.0.1:%d",
			       port);
	} else {
		(void)snprintf(fm->addr, sizeof(fm->addr), "unix:%s", fm->path);
	}
	fm->loop = loop_new(&error);
	if (fm->loop == NULL || fake_listen(fm, &error) != 0)
		goto fail;
	if (pthread_create(&fm->thread, NULL, fake_main, fm) != 0)
		goto fail;
	return fm;
fail:
	fprintf(stderr, "fake mailbox: %s\n", error != NULL ? error : "failed");
	if (fm->server != NULL)
		rpc_server_free(&fm->server);
	if (fm->loop != NULL)
		loop_free(&fm->loop);
	if (fm->dir[0] != 0)
		(void)rmdir(fm->dir);
	pthread_mutex_destroy(&fm->lock);
	free(fm);
	return NULL;
}

struct fake_mailbox *
fake_mailbox_start(void)
{
	return fake_start(NULL);
}

struct fake_mailbox *
fake_mailbox_start_tcp(const struct tls_config *tls)
{
	return tls != NULL ? fake_start(tls) : NULL;
}

int
fake_mailbox_bounce(struct fake_mailbox *fm)
{
	const char *error = NULL;

	loop_stop(fm->loop);
	pthread_join(fm->thread, NULL);
	rpc_server_free(&fm->server);
	loop_run_posted(fm->loop);
	loop_free(&fm->loop);
	if (!fm->tcp)
		(void)unlink(fm->path);
	/* A stopped loop stays stopped: a new one. */
	fm->loop = loop_new(&error);
	if (fm->loop == NULL || fake_listen(fm, &error) != 0) {
		fprintf(stderr, "fake mailbox: %s\n", error);
		return -1;
	}
	if (pthread_create(&fm->thread, NULL, fake_main, fm) != 0)
		return -1;
	return 0;
}

void
fake_mailbox_stop(struct fake_mailbox **fmp)
{
	struct fake_mailbox *fm = *fmp;

	if (fm == NULL)
		return;
	*fmp = NULL;
	loop_stop(fm->loop);
	pthread_join(fm->thread, NULL);
	rpc_server_free(&fm->server);
	loop_free(&fm->loop);
	(void)unlink(fm->path);
	(void)rmdir(fm->dir);
	for (size_t i = 0; i < fm->n_policies; i++)
		free(fm->policies[i].text);
	pthread_mutex_destroy(&fm->lock);
	free(fm);
}

const char *
fake_mailbox_addr(const struct fake_mailbox *fm)
{
	return fm->addr;
}

uint64_t
fake_mailbox_add_user(struct fake_mailbox *fm, const char *login,
		      const char *password)
{
	static const struct {
		const char *id, *name;
		unsigned type;
	} std[] = {
	    {"inbox", "Inbox", 2},           {"drafts", "Drafts", 3},
	    {"deleted", "Deleted Items", 4}, {"sent", "Sent Items", 5},
	    {"outbox", "Outbox", 6},         {"tasks", "Tasks", 7},
	    {"calendar", "Calendar", 8},     {"contacts", "Contacts", 9},
	    {"notes", "Notes", 10},
	};
	struct fuser *u;
	uint64_t id = 0;

	pthread_mutex_lock(&fm->lock);
	if (fm->n_users < FAKE_MAX_USERS) {
		u = &fm->users[fm->n_users++];
		memset(u, 0, sizeof(*u));
		u->id = 1000 + fm->n_users;
		copy_str(u->login, sizeof(u->login), login);
		copy_str(u->password, sizeof(u->password), password);
		u->version = 1;
		for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++)
			(void)folder_add_locked(u, std[i].id, "0", std[i].name,
						std[i].type, 1);
		id = u->id;
	}
	pthread_mutex_unlock(&fm->lock);
	return id;
}

int
fake_mailbox_add_folder(struct fake_mailbox *fm, uint64_t user,
			const char *server_id, const char *parent_id,
			const char *name, unsigned type)
{
	struct fuser *u;
	int rc = -1;

	pthread_mutex_lock(&fm->lock);
	u = user_by_id(fm, user);
	if (u != NULL && folder_add_locked(u, server_id, parent_id, name, type,
					   u->version + 1) != NULL) {
		u->version++;
		rc = 0;
	}
	pthread_mutex_unlock(&fm->lock);
	return rc;
}

int
fake_mailbox_rename_folder(struct fake_mailbox *fm, uint64_t user,
			   const char *server_id, const char *name)
{
	struct fuser *u;
	struct ffolder *f = NULL;

	pthread_mutex_lock(&fm->lock);
	u = user_by_id(fm, user);
	if (u != NULL)
		f = folder_find(u, server_id);
	if (f != NULL) {
		copy_str(f->name, sizeof(f->name), name);
		f->modified = ++u->version;
	}
	pthread_mutex_unlock(&fm->lock);
	return f != NULL ? 0 : -1;
}

int
fake_mailbox_delete_folder(struct fake_mailbox *fm, uint64_t user,
			   const char *server_id)
{
	struct fuser *u;
	struct ffolder *f = NULL;

	pthread_mutex_lock(&fm->lock);
	u = user_by_id(fm, user);
	if (u != NULL)
		f = folder_find(u, server_id);
	if (f != NULL)
		f->deleted = ++u->version;
	pthread_mutex_unlock(&fm->lock);
	return f != NULL ? 0 : -1;
}

int
fake_mailbox_set_policy(struct fake_mailbox *fm, const char *name,
			const char *text)
{
	int rc;

	pthread_mutex_lock(&fm->lock);
	rc = policy_store_locked(fm, name, text);
	pthread_mutex_unlock(&fm->lock);
	return rc;
}

int
fake_mailbox_assign_policy(struct fake_mailbox *fm, uint64_t user,
			   const char *name)
{
	struct fuser *u;

	pthread_mutex_lock(&fm->lock);
	u = user_by_id(fm, user);
	if (u != NULL)
		copy_str(u->policy, sizeof(u->policy), name);
	pthread_mutex_unlock(&fm->lock);
	return u != NULL ? 0 : -1;
}

int
fake_mailbox_device(struct fake_mailbox *fm, uint64_t user,
		    const char *device_id, struct fake_device *dev_r)
{
	struct fake_device *d;

	pthread_mutex_lock(&fm->lock);
	d = device_find(fm, user, device_id);
	if (d != NULL)
		*dev_r = *d;
	pthread_mutex_unlock(&fm->lock);
	return d != NULL ? 0 : -1;
}

int
fake_mailbox_add_device(struct fake_mailbox *fm, uint64_t user,
			const char *device_id, const char *device_type,
			const char *protocol_version)
{
	struct fake_device *d = NULL;

	pthread_mutex_lock(&fm->lock);
	if (user_by_id(fm, user) != NULL &&
	    device_find(fm, user, device_id) == NULL &&
	    fm->n_devices < FAKE_MAX_DEVICES) {
		d = &fm->devices[fm->n_devices++];
		memset(d, 0, sizeof(*d));
		d->user = user;
		copy_str(d->device_id, sizeof(d->device_id), device_id);
		copy_str(d->device_type, sizeof(d->device_type), device_type);
		copy_str(d->protocol_version, sizeof(d->protocol_version),
			 protocol_version);
		d->first_seen = d->last_seen = (int64_t)time(NULL);
		d->access = RPC__DEVICE_ACCESS__ACCESS_ALLOW;
	}
	pthread_mutex_unlock(&fm->lock);
	return d != NULL ? 0 : -1;
}

int
fake_mailbox_forget_device(struct fake_mailbox *fm, uint64_t user,
			   const char *device_id)
{
	struct fake_device *d;

	pthread_mutex_lock(&fm->lock);
	d = device_find(fm, user, device_id);
	if (d != NULL) {
		*d = fm->devices[fm->n_devices - 1];
		fm->n_devices--;
	}
	pthread_mutex_unlock(&fm->lock);
	return d != NULL ? 0 : -1;
}

int
fake_mailbox_set_access(struct fake_mailbox *fm, uint64_t user,
			const char *device_id, Rpc__DeviceAccess access)
{
	struct fake_device *d;

	pthread_mutex_lock(&fm->lock);
	d = device_find(fm, user, device_id);
	if (d != NULL)
		d->access = access;
	pthread_mutex_unlock(&fm->lock);
	return d != NULL ? 0 : -1;
}

int
fake_mailbox_set_wipe(struct fake_mailbox *fm, uint64_t user,
		      const char *device_id, Rpc__WipeState wipe)
{
	struct fake_device *d;

	pthread_mutex_lock(&fm->lock);
	d = device_find(fm, user, device_id);
	if (d != NULL)
		d->wipe = wipe;
	pthread_mutex_unlock(&fm->lock);
	return d != NULL ? 0 : -1;
}

unsigned
fake_mailbox_count(struct fake_mailbox *fm, Rpc__MsgType type)
{
	unsigned n;

	pthread_mutex_lock(&fm->lock);
	n = (unsigned)type < FAKE_TYPES ? fm->counts[type] : 0;
	pthread_mutex_unlock(&fm->lock);
	return n;
}

void
fake_mailbox_fail(struct fake_mailbox *fm, Rpc__MsgType type,
		  Rpc__Status status)
{
	pthread_mutex_lock(&fm->lock);
	if ((unsigned)type < FAKE_TYPES)
		fm->fail[type] = status;
	pthread_mutex_unlock(&fm->lock);
}

void
fake_mailbox_set_handler(struct fake_mailbox *fm, Rpc__MsgType type,
			 fake_mailbox_fn *fn, void *arg)
{
	pthread_mutex_lock(&fm->lock);
	if ((unsigned)type < FAKE_TYPES) {
		fm->handlers[type].fn = fn;
		fm->handlers[type].arg = arg;
	}
	pthread_mutex_unlock(&fm->lock);
}

int
fake_mailbox_publish(struct fake_mailbox *fm, const Rpc__Event *ev)
{
	return rpc_server_publish(fm->server, ev);
}
