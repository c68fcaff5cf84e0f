/*
 * RPC handlers for credentials, users and statistics: VerifyCredentials
 * (the CAS's login check), UserAdd/Delete/SetPassword/List/Get (easctl)
 * and Stats.  Users live in the directory database; a user's store is
 * created on first use and removed with the user.  UserSetContact (easctl
 * user set) changes a user's contact fields, the names and phones GAL
 * Search and Find return, UserSetPhoto the photo of GAL Picture; UserAdd
 * takes the fields too, and every UserInfo carries them (with the photo's
 * size only: a user list must not carry every photo).
 *
 * VerifyCredentials answers STATUS_DENIED alike for an unknown login, a
 * bad password and a disabled user, after the same yescrypt work
 * (store_dir_authenticate hashes a dummy for unknown users), so neither
 * the answer nor its timing tells which (reliability.md).  Passwords are
 * copied into a NUL-terminated buffer, wiped after use together with the
 * request's copy, and never logged.
 */
#include "mailbox/rpc_server.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "mailbox/devices.h"
#include "mailbox/directory.h"
#include "mailbox/folders.h"
#include "mailbox/sendq.h"
#include "proto/limits.h"
#include "proto/log.h"

/* A password from the wire as a C string; -1 if too long or holding NUL.
 * The request's bytes are wiped here; the caller wipes buf. */
static int
take_password(ProtobufCBinaryData *pw, char *buf, size_t size)
{
	int rc = -1;

	if (pw->len < size &&
	    (pw->len == 0 || memchr(pw->data, 0, pw->len) == NULL)) {
		if (pw->len > 0)
			memcpy(buf, pw->data, pw->len);
		buf[pw->len] = 0;
		rc = 0;
	}
	if (pw->len > 0)
		OPENSSL_cleanse(pw->data, pw->len);
	return rc;
}

/* "DOMAIN\user" -> "user" (MS-ASHTTP Basic credentials may carry the
 * down-level form); "user" and "user@domain" stay as they are. */
static const char *
canonical_login(const char *login)
{
	const char *bs = strrchr(login, '\\');

	return bs != NULL ? bs + 1 : login;
}

void
mbox_rpc_verify_credentials(struct mbox_req *r)
{
	Rpc__VerifyCredentialsRequest *q = (void *)r->msg;
	Rpc__VerifyCredentialsReply rep;
	rpc__verify_credentials_reply__init(&rep);
	char pw[STORE_MAX_PASSWORD_BYTES + 1];
	struct store_dir *dir;
	enum store_status st;
	struct dir_user u = {0};
	char **addrs = NULL;
	size_t n_addrs = 0;
	int64_t id = 0;
	int rc;

	if (take_password(&q->password, pw, sizeof(pw)) < 0 ||
	    strlen(q->login) > STORE_MAX_LOGIN_BYTES) {
		/* Cannot match any stored password; still do the work of a
		 * check (an unknown login hashes against the dummy) so the
		 * answer takes as long as any other refusal. */
		dir = mbox_shard_dir(r->ctx, &st);
		if (dir != NULL)
			(void)store_dir_authenticate(dir, "", "x", &id);
		OPENSSL_cleanse(pw, sizeof(pw));
		rep.status = RPC__STATUS__STATUS_DENIED;
		mbox_reply(r, &rep.base);
		return;
	}
	dir = mbox_shard_dir(r->ctx, &st);
	if (dir == NULL) {
		OPENSSL_cleanse(pw, sizeof(pw));
		mbox_reply_store_error(r, st, "directory unavailable");
		return;
	}
	/* The directory authenticates logins; an address ("user@domain",
	 * what phones send) is mapped to its user's login first.  An
	 * unknown name stays as typed and costs the dummy hash. */
	{
		const char *name = canonical_login(q->login);

		if (store_dir_user_find(dir, name, &u) == 0 && u.login != NULL)
			name = u.login;
		rc = store_dir_authenticate(dir, name, pw, &id);
		dir_user_clear(&u);
	}
	OPENSSL_cleanse(pw, sizeof(pw));
	if (rc < 0) {
		st = store_dir_last_error(dir)->status;
		if (st == STORE_DENIED || st == STORE_NOT_FOUND) {
			log_info("login failed for '%s' from %s", q->login,
				 *q->remote_addr ? q->remote_addr : "?");
			rep.status = RPC__STATUS__STATUS_DENIED;
			mbox_reply(r, &rep.base);
		} else {
			mbox_reply_store_error(r, st,
					       store_dir_last_error(dir)->msg);
		}
		return;
	}
	rep.status = RPC__STATUS__STATUS_OK;
	rep.user = (uint64_t)id;
	if (store_dir_user_get(dir, id, &u) == 0 && u.login != NULL)
		rep.canonical_login = mbox_strdup(r, u.login);
	if (store_dir_address_list(dir, id, &addrs, &n_addrs) == 0 &&
	    n_addrs > 0)
		rep.primary_address = mbox_strdup(r, addrs[0]);
	if (rep.canonical_login == NULL)
		rep.canonical_login = "";
	if (rep.primary_address == NULL)
		rep.primary_address = "";
	mbox_reply(r, &rep.base);
	dir_user_clear(&u);
	dir_strings_free(&addrs, n_addrs);
}

/* The string fields of a UserContact in enum dir_contact_field order. */
static void
contact_slots(Rpc__UserContact *m, char **slots[DIR_CONTACT_FIELDS])
{
	slots[DIR_CONTACT_DISPLAY_NAME] = &m->display_name;
	slots[DIR_CONTACT_FIRST_NAME] = &m->first_name;
	slots[DIR_CONTACT_LAST_NAME] = &m->last_name;
	slots[DIR_CONTACT_TITLE] = &m->title;
	slots[DIR_CONTACT_COMPANY] = &m->company;
	slots[DIR_CONTACT_OFFICE] = &m->office;
	slots[DIR_CONTACT_PHONE] = &m->phone;
	slots[DIR_CONTACT_MOBILE_PHONE] = &m->mobile_phone;
	slots[DIR_CONTACT_HOME_PHONE] = &m->home_phone;
	slots[DIR_CONTACT_ALIAS] = &m->alias;
}

/* A request's UserContact as a dir_contact borrowing its strings (NULL
 * for absent or ""); the mask of the non-empty fields in *set_r. */
static void
contact_from_rpc(Rpc__UserContact *m, struct dir_contact *c, unsigned *set_r)
{
	char **slots[DIR_CONTACT_FIELDS];

	memset(c, 0, sizeof(*c));
	*set_r = 0;
	if (m == NULL)
		return;
	contact_slots(m, slots);
	for (size_t i = 0; i < DIR_CONTACT_FIELDS; i++) {
		if (*slots[i] != NULL && (*slots[i])[0] != '\0') {
			c->f[i] = *slots[i];
			*set_r |= 1u << i;
		}
	}
}

/* A stored contact as a UserContact in r's arena; NULL out of memory. */
static Rpc__UserContact *
contact_to_rpc(struct mbox_req *r, const struct dir_contact *c)
{
	Rpc__UserContact *m = mbox_alloc(r, sizeof(*m));
	char **slots[DIR_CONTACT_FIELDS];

	if (m == NULL)
		return NULL;
	rpc__user_contact__init(m);
	contact_slots(m, slots);
	for (size_t i = 0; i < DIR_CONTACT_FIELDS; i++) {
		*slots[i] = mbox_strdup(r, c->f[i] != NULL ? c->f[i] : "");
		if (*slots[i] == NULL)
			return NULL;
	}
	return m;
}

/* Fill a UserInfo from the directory; -1 with *status_r. */
static int
user_info(struct mbox_req *r, struct store_dir *dir, const struct dir_user *u,
	  Rpc__UserInfo *info, enum store_status *status_r)
{
	char **addrs = NULL;
	size_t n = 0;
	int rc = -1;

	rpc__user_info__init(info);
	info->user = (uint64_t)u->id;
	info->login = mbox_strdup(r, u->login != NULL ? u->login : "");
	info->policy_name = mbox_strdup(r, u->policy != NULL ? u->policy : "");
	info->contact = contact_to_rpc(r, &u->contact);
	if (info->contact == NULL) {
		*status_r = STORE_IO;
		return -1;
	}
	/* Autodiscover and Settings UserInformation show it. */
	info->display_name = info->contact->display_name;
	info->photo_bytes = (uint32_t)u->photo_bytes;
	if (store_dir_address_list(dir, u->id, &addrs, &n) < 0) {
		*status_r = store_dir_last_error(dir)->status;
		return -1;
	}
	info->addresses = mbox_alloc(r, (n + 1) * sizeof(char *));
	if (info->addresses == NULL || info->login == NULL ||
	    info->policy_name == NULL) {
		*status_r = STORE_IO;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		info->addresses[i] = mbox_strdup(r, addrs[i]);
		if (info->addresses[i] == NULL) {
			*status_r = STORE_IO;
			goto out;
		}
	}
	info->n_addresses = n;
	info->primary_address = n > 0 ? info->addresses[0] : "";
	rc = 0;
out:
	dir_strings_free(&addrs, n);
	return rc;
}

/* Answer a UserReply with user `id` as the directory has it now (after a
 * change the handler made); a failed look-up answers the store's error. */
static void
reply_user(struct mbox_req *r, struct store_dir *dir, int64_t id)
{
	Rpc__UserReply rep;
	Rpc__UserInfo *info = mbox_alloc(r, sizeof(*info));
	enum store_status status;
	struct dir_user u = {0};

	rpc__user_reply__init(&rep);
	if (info == NULL) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INTERNAL,
				  "out of memory");
		return;
	}
	if (store_dir_user_get(dir, id, &u) < 0) {
		mbox_reply_store_error(r, store_dir_last_error(dir)->status,
				       store_dir_last_error(dir)->msg);
		return;
	}
	if (user_info(r, dir, &u, info, &status) < 0) {
		mbox_reply_store_error(r, status, "user lookup");
	} else {
		rep.status = RPC__STATUS__STATUS_OK;
		rep.info = info;
		mbox_reply(r, &rep.base);
	}
	dir_user_clear(&u);
}

static bool
valid_login(const char *login)
{
	size_t len = strlen(login);

	if (len == 0 || len > STORE_MAX_LOGIN_BYTES)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)login[i];

		/* No separators a login form could confuse: "DOMAIN\user",
		 * "+detail", white space, control bytes. */
		if (c <= ' ' || c == '\\' || c == '+' || c == '/' ||
		    c == 0x7f || c == ':' || c == '<' || c == '>')
			return false;
	}
	return true;
}

void
mbox_rpc_user_add(struct mbox_req *r)
{
	Rpc__UserAddRequest *q = (void *)r->msg;
	Rpc__UserReply rep;
	rpc__user_reply__init(&rep);
	Rpc__UserInfo *info = mbox_alloc(r, sizeof(*info));
	char pw[STORE_MAX_PASSWORD_BYTES + 1];
	char addr[STORE_MAX_LOGIN_BYTES + 1];
	struct store_dir *dir;
	struct store *st = NULL;
	enum store_status status;
	struct dir_user u = {0};
	struct dir_contact contact;
	struct store_error cerr;
	unsigned contact_set;
	int64_t id;
	bool has_default = false;

	if (info == NULL)
		return;
	if (!valid_login(q->login)) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "invalid login name");
		return;
	}
	contact_from_rpc(q->contact, &contact, &contact_set);
	if (contact.f[DIR_CONTACT_DISPLAY_NAME] == NULL &&
	    q->display_name[0] != '\0') {
		contact.f[DIR_CONTACT_DISPLAY_NAME] = q->display_name;
		contact_set |= 1u << DIR_CONTACT_DISPLAY_NAME;
	}
	/* Checked before the user exists: a refused name adds nobody. */
	if (dir_contact_validate(&contact, contact_set, &cerr) < 0) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID, cerr.msg);
		return;
	}
	if (take_password(&q->password, pw, sizeof(pw)) < 0) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "password too long or holds NUL");
		goto out;
	}
	dir = mbox_shard_dir(r->ctx, &status);
	if (dir == NULL) {
		mbox_reply_store_error(r, status, "directory unavailable");
		goto out;
	}
	/* An empty password means: no login until `user passwd`.  The
	 * store hashes whatever it gets, so give it a random one. */
	if (pw[0] == 0) {
		FILE *f = fopen("/dev/urandom", "rb");
		unsigned char raw[24];

		if (f == NULL || fread(raw, 1, sizeof(raw), f) != sizeof(raw)) {
			if (f != NULL)
				(void)fclose(f);
			mbox_reply_status(r, RPC__STATUS__STATUS_INTERNAL,
					  "no randomness");
			goto out;
		}
		(void)fclose(f);
		for (size_t i = 0; i < sizeof(raw); i++)
			pw[i] = (char)('a' + raw[i] % 26);
		pw[sizeof(raw)] = 0;
		OPENSSL_cleanse(raw, sizeof(raw));
	}
	if (store_dir_user_add(dir, q->login, pw, (int64_t)time(NULL), &id) <
	    0) {
		status = store_dir_last_error(dir)->status;
		mbox_reply_store_error(r, status,
				       store_dir_last_error(dir)->msg);
		goto out;
	}
	if (*r->ctx->conf->domain != 0 && strchr(q->login, '@') == NULL)
		(void)snprintf(addr, sizeof(addr), "%s@%s", q->login,
			       r->ctx->conf->domain);
	else
		addr[0] = 0;
	for (size_t i = 0; i < q->n_addresses; i++) {
		if (strchr(q->addresses[i], '@') == NULL ||
		    strlen(q->addresses[i]) > STORE_MAX_LOGIN_BYTES ||
		    store_dir_address_add(dir, id, q->addresses[i]) < 0) {
			const char *why = strchr(q->addresses[i], '@') == NULL
					      ? "address without @"
					      : store_dir_last_error(dir)->msg;

			/* All or nothing: a user with half its addresses
			 * would receive some of its mail. */
			(void)store_dir_user_del(dir, id);
			mbox_reply_status(
			    r,
			    strchr(q->addresses[i], '@') == NULL
				? RPC__STATUS__STATUS_INVALID
				: mbox_status_from_store(
				      store_dir_last_error(dir)->status),
			    why);
			goto out;
		}
		if (strcasecmp(q->addresses[i], addr) == 0)
			has_default = true;
	}
	if (addr[0] != 0 && !has_default &&
	    store_dir_address_add(dir, id, addr) < 0)
		log_warn("user %s: default address %s not added: %s", q->login,
			 addr, store_dir_last_error(dir)->msg);
	if (contact_set != 0 &&
	    store_dir_user_set_contact(dir, id, &contact, contact_set) < 0) {
		status = store_dir_last_error(dir)->status;
		mbox_reply_status(r, mbox_status_from_store(status),
				  store_dir_last_error(dir)->msg);
		(void)store_dir_user_del(dir, id);
		goto out;
	}
	/* Create the store (default folders) now, so a bad data_dir shows
	 * at `user add` rather than at the first delivery. */
	if (mbox_shard_store(r->ctx, id, &st, &status) < 0) {
		(void)store_dir_user_del(dir, id);
		mbox_reply_store_error(r, status, "cannot create the store");
		goto out;
	}
	/* The store lives on the user's shard, not necessarily this one. */
	mbox_shard_forget(id);
	if (store_dir_user_get(dir, id, &u) < 0 ||
	    user_info(r, dir, &u, info, &status) < 0) {
		mbox_reply_store_error(r, STORE_IO,
				       "user added, lookup failed");
		goto out;
	}
	log_info("user %s added (id %" PRId64 ")", q->login, id);
	rep.status = RPC__STATUS__STATUS_OK;
	rep.info = info;
	mbox_reply(r, &rep.base);
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	dir_user_clear(&u);
}

void
mbox_rpc_user_delete(struct mbox_req *r)
{
	struct store_dir *dir;
	enum store_status status;
	struct store_error err;

	dir = mbox_shard_dir(r->ctx, &status);
	if (dir == NULL) {
		mbox_reply_store_error(r, status, "directory unavailable");
		return;
	}
	/* This runs on the user's shard: no other thread holds the store. */
	mbox_shard_forget(r->user);
	if (store_dir_user_del(dir, r->user) < 0) {
		mbox_reply_store_error(r, store_dir_last_error(dir)->status,
				       store_dir_last_error(dir)->msg);
		return;
	}
	if (store_user_remove(r->ctx->conf->data_dir, r->user, &err) < 0)
		log_warn("user %" PRId64 ": store not removed: %s", r->user,
			 err.msg);
	log_info("user %" PRId64 " deleted", r->user);
	mbox_reply_status(r, RPC__STATUS__STATUS_OK, NULL);
}

void
mbox_rpc_user_set_password(struct mbox_req *r)
{
	Rpc__UserSetPasswordRequest *q = (void *)r->msg;
	char pw[STORE_MAX_PASSWORD_BYTES + 1];
	struct store_dir *dir;
	enum store_status status;
	struct dir_user u = {0};

	if (take_password(&q->password, pw, sizeof(pw)) < 0 || pw[0] == 0) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "empty or too long password");
		goto out;
	}
	dir = mbox_shard_dir(r->ctx, &status);
	if (dir == NULL) {
		mbox_reply_store_error(r, status, "directory unavailable");
		goto out;
	}
	if (store_dir_user_get(dir, r->user, &u) < 0 ||
	    store_dir_user_set_password(dir, r->user, pw) < 0) {
		mbox_reply_store_error(r, store_dir_last_error(dir)->status,
				       store_dir_last_error(dir)->msg);
		goto out;
	}
	log_info("user %" PRId64 ": password changed", r->user);
	mbox_reply_status(r, RPC__STATUS__STATUS_OK, NULL);
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	dir_user_clear(&u);
}

void
mbox_rpc_user_list(struct mbox_req *r)
{
	Rpc__UserListRequest *q = (void *)r->msg;
	Rpc__UserListReply rep;
	rpc__user_list_reply__init(&rep);
	struct dir_user *users = NULL;
	struct store_dir *dir;
	enum store_status status;
	size_t n = 0;
	uint32_t limit = q->limit == 0 || q->limit > 1000 ? 1000 : q->limit;

	dir = mbox_shard_dir(r->ctx, &status);
	if (dir == NULL) {
		mbox_reply_store_error(r, status, "directory unavailable");
		return;
	}
	if (store_dir_user_list(dir, &users, &n) < 0) {
		mbox_reply_store_error(r, store_dir_last_error(dir)->status,
				       store_dir_last_error(dir)->msg);
		return;
	}
	rep.users = mbox_alloc(r, (n + 1) * sizeof(*rep.users));
	if (rep.users == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		Rpc__UserInfo *info;

		if (users[i].id <= (int64_t)q->after_user)
			continue;
		if (rep.n_users == limit) {
			rep.more_available = true;
			break;
		}
		info = mbox_alloc(r, sizeof(*info));
		if (info == NULL ||
		    user_info(r, dir, &users[i], info, &status) < 0) {
			mbox_reply_store_error(r, STORE_IO, "user list");
			goto out;
		}
		rep.users[rep.n_users++] = info;
	}
	rep.status = RPC__STATUS__STATUS_OK;
	mbox_reply(r, &rep.base);
out:
	dir_user_list_free(&users, n);
}

void
mbox_rpc_user_get(struct mbox_req *r)
{
	Rpc__UserGetRequest *q = (void *)r->msg;
	Rpc__UserReply rep;
	rpc__user_reply__init(&rep);
	Rpc__UserInfo *info = mbox_alloc(r, sizeof(*info));
	struct store_dir *dir;
	enum store_status status;
	struct dir_user u = {0};
	int rc;

	if (info == NULL)
		return;
	dir = mbox_shard_dir(r->ctx, &status);
	if (dir == NULL) {
		mbox_reply_store_error(r, status, "directory unavailable");
		return;
	}
	if (q->user != 0)
		rc = store_dir_user_get(dir, (int64_t)q->user, &u);
	else
		rc = store_dir_user_find(dir, canonical_login(q->login), &u);
	if (rc < 0) {
		mbox_reply_store_error(r, store_dir_last_error(dir)->status,
				       store_dir_last_error(dir)->msg);
		goto out;
	}
	if (user_info(r, dir, &u, info, &status) < 0) {
		mbox_reply_store_error(r, status, "addresses");
		goto out;
	}
	rep.status = RPC__STATUS__STATUS_OK;
	rep.info = info;
	mbox_reply(r, &rep.base);
out:
	dir_user_clear(&u);
}

void
mbox_rpc_user_set_contact(struct mbox_req *r)
{
	Rpc__UserSetContactRequest *q = (void *)r->msg;
	struct dir_contact contact;
	struct store_dir *dir;
	enum store_status status;
	unsigned present;

	if (q->fields == 0 || (q->fields & ~DIR_CONTACT_ALL) != 0) {
		mbox_reply_status(r, RPC__STATUS__STATUS_INVALID,
				  "no contact field or an unknown one");
		return;
	}
	/* Fields named in the mask but empty in the message are cleared
	 * (dir_contact NULL). */
	contact_from_rpc(q->contact, &contact, &present);
	dir = mbox_shard_dir(r->ctx, &status);
	if (dir == NULL) {
		mbox_reply_store_error(r, status, "directory unavailable");
		return;
	}
	if (store_dir_user_set_contact(dir, r->user, &contact, q->fields) < 0) {
		mbox_reply_store_error(r, store_dir_last_error(dir)->status,
				       store_dir_last_error(dir)->msg);
		return;
	}
	log_info("user %" PRId64 ": contact fields changed (mask %#x)", r->user,
		 q->fields);
	reply_user(r, dir, r->user);
}

void
mbox_rpc_user_set_photo(struct mbox_req *r)
{
	Rpc__UserSetPhotoRequest *q = (void *)r->msg;
	struct store_dir *dir;
	enum store_status status;

	dir = mbox_shard_dir(r->ctx, &status);
	if (dir == NULL) {
		mbox_reply_store_error(r, status, "directory unavailable");
		return;
	}
	if (store_dir_user_set_photo(dir, r->user, q->photo.data,
				     q->photo.len) < 0) {
		mbox_reply_store_error(r, store_dir_last_error(dir)->status,
				       store_dir_last_error(dir)->msg);
		return;
	}
	log_info("user %" PRId64 ": photo %s (%zu bytes)", r->user,
		 q->photo.len > 0 ? "set" : "removed", q->photo.len);
	reply_user(r, dir, r->user);
}

struct stats_task {
	struct mbox_ctx *ctx;
	uint64_t conn_id, id;
	Rpc__StatsReply rep; /* scalars only: a plain copy */
};

static void
stats_on_loop(void *arg)
{
	struct stats_task *t = arg;
	struct rpc_server_stats rs;

	if (t->ctx->rpc != NULL) {
		rpc_server_get_stats(t->ctx->rpc, &rs);
		t->rep.rpc_connections = rs.connections;
		(void)rpc_server_reply(t->ctx->rpc, t->conn_id, t->id,
				       RPC__MSG_TYPE__MSG_STATS, &t->rep.base,
				       true);
	}
	free(t);
}

void
mbox_rpc_stats(struct mbox_req *r)
{
	Rpc__StatsReply rep;
	rpc__stats_reply__init(&rep);
	struct dir_user *users = NULL;
	struct dir_device *devs = NULL;
	struct store_dir *dir;
	enum store_status status;
	size_t n = 0, n_devs = 0;
	struct stats_task *t;

	dir = mbox_shard_dir(r->ctx, &status);
	if (dir == NULL) {
		mbox_reply_store_error(r, status, "directory unavailable");
		return;
	}
	if (store_dir_user_list(dir, &users, &n) < 0 ||
	    store_dir_device_list(dir, 0, &devs, &n_devs) < 0) {
		mbox_reply_store_error(r, store_dir_last_error(dir)->status,
				       store_dir_last_error(dir)->msg);
		goto out;
	}
	rep.users = n;
	rep.devices = n_devs;
	/* O(users): each store is opened read-mostly on this thread (SQLite
	 * WAL lets it read beside the owning shard's writer). */
	for (size_t i = 0; i < n; i++) {
		struct store *st = NULL;
		struct store_error err;
		struct folder_list *fl = NULL;
		int64_t pending = 0;

		if (store_open(r->ctx->conf->data_dir, users[i].id, &st, &err) <
		    0)
			continue;
		if (store_folder_list(st, true, &fl) == 0) {
			for (size_t f = 0; f < fl->count; f++)
				rep.messages += (uint64_t)fl->folders[f].items;
			folder_list_free(&fl);
		}
		if (store_queue_count(st, &pending) == 0)
			rep.queued += (uint64_t)pending;
		store_close(&st);
	}
	rep.delivered = atomic_load(&r->ctx->delivered);
	rep.delivery_failures = atomic_load(&r->ctx->delivery_failures);
	rep.workers = workers_count(r->ctx->workers);
	rep.status = RPC__STATUS__STATUS_OK;
	/* The connection count belongs to the loop thread: the reply is
	 * finished and sent there. */
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto out;
	t->ctx = r->ctx;
	t->conn_id = r->conn_id;
	t->id = r->id;
	t->rep = rep;
	if (loop_post(r->ctx->loop, stats_on_loop, t) < 0) {
		free(t);
		goto out;
	}
	r->replied = true;
out:
	dir_user_list_free(&users, n);
	dir_device_list_free(&devs, n_devs);
}
