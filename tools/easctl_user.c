/*
 * easctl user: add, del, passwd, list, show, set (over the mailbox RPC as
 * ROLE_ADMIN).  Passwords come from stdin with --password-stdin (never
 * from the command line, where `ps` would show them); without it, `user
 * add` creates a user who cannot log in until `user passwd`.
 *
 * Contact fields (the names and phones GAL Search and Find return) are
 * options of `user add` and `user set`: --name, --first, --last, --title,
 * --company, --office, --phone, --mobile, --home-phone, --alias; with
 * `user set` an empty value ("") clears the field and the fields not
 * named keep theirs.  `user set --photo FILE` sets the GAL photo (a JPEG
 * or PNG of at most DIR_MAX_PHOTO_BYTES; --photo "" removes it).  The
 * mailbox checks the values (bounds in proto/limits.h) and its message
 * names the field it refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "proto/limits.h"
#include "tools/easctl.h"
#include "tools/easctl_conn.h"

#define USER_MAX_ADDRESSES 64

/* The contact options, in UserContact field order (bit i of
 * UserSetContactRequest.fields is field i + 1). */
static const struct {
	const char *option;
	const char *label;
} contact_opts[] = {
    {"--name", "display name"},     {"--first", "first name"},
    {"--last", "last name"},        {"--title", "title"},
    {"--company", "company"},       {"--office", "office"},
    {"--phone", "phone"},           {"--mobile", "mobile phone"},
    {"--home-phone", "home phone"}, {"--alias", "alias"},
};

#define CONTACT_OPTS (sizeof(contact_opts) / sizeof(contact_opts[0]))

static void
contact_slots(Rpc__UserContact *m, char **slots[CONTACT_OPTS])
{
	slots[0] = &m->display_name;
	slots[1] = &m->first_name;
	slots[2] = &m->last_name;
	slots[3] = &m->title;
	slots[4] = &m->company;
	slots[5] = &m->office;
	slots[6] = &m->phone;
	slots[7] = &m->mobile_phone;
	slots[8] = &m->home_phone;
	slots[9] = &m->alias;
}

/* If argv[*i] is a contact option with a value, stores it in m, sets its
 * bit in *mask and advances *i: 1; not a contact option: 0; an option
 * without its value or given twice: -1 after saying so. */
static int
contact_arg(Rpc__UserContact *m, uint32_t *mask, int argc, char **argv, int *i)
{
	char **slots[CONTACT_OPTS];

	contact_slots(m, slots);
	for (size_t k = 0; k < CONTACT_OPTS; k++) {
		if (strcmp(argv[*i], contact_opts[k].option) != 0)
			continue;
		if (*i + 1 >= argc) {
			fprintf(stderr, "easctl: %s needs a value\n",
				contact_opts[k].option);
			return -1;
		}
		if ((*mask & (1u << k)) != 0) {
			fprintf(stderr, "easctl: %s given twice\n",
				contact_opts[k].option);
			return -1;
		}
		*slots[k] = argv[++*i];
		*mask |= 1u << k;
		return 1;
	}
	return 0;
}

static int
fail_status(const char *what, Rpc__Status st, const char *error)
{
	fprintf(stderr, "easctl: %s: %s%s%s\n", what, easctl_status_name(st),
		*error ? ": " : "", error);
	return 1;
}

static int
user_add(struct easctl_conn *c, int argc, char **argv)
{
	Rpc__UserAddRequest q;
	Rpc__UserContact contact;
	char *addrs[USER_MAX_ADDRESSES];
	char pw[STORE_MAX_PASSWORD_BYTES + 2];
	bool from_stdin = false;
	ProtobufCMessage *reply;
	const char *error;
	Rpc__Status st;
	uint32_t mask = 0;
	int rc = 1, c_rc;

	rpc__user_add_request__init(&q);
	rpc__user_contact__init(&contact);
	pw[0] = 0;
	q.login = argv[2];
	q.addresses = addrs;
	q.contact = &contact;
	for (int i = 3; i < argc; i++) {
		if ((c_rc = contact_arg(&contact, &mask, argc, argv, &i)) !=
		    0) {
			if (c_rc < 0)
				return 2;
		} else if (strcmp(argv[i], "--address") == 0 && i + 1 < argc &&
			   q.n_addresses < USER_MAX_ADDRESSES) {
			addrs[q.n_addresses++] = argv[++i];
		} else if (strcmp(argv[i], "--password-stdin") == 0) {
			from_stdin = true;
		} else {
			fprintf(stderr, "easctl: user add: bad argument %s\n",
				argv[i]);
			return 2;
		}
	}
	if (from_stdin && easctl_read_password(pw, sizeof(pw)) < 0) {
		fprintf(stderr, "easctl: no password on stdin\n");
		return 1;
	}
	q.password.data = (uint8_t *)pw;
	q.password.len = strlen(pw);
	st = easctl_call(c, RPC__MSG_TYPE__MSG_USER_ADD, &q.base, &reply,
			 &error);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (st != RPC__STATUS__STATUS_OK)
		return fail_status("user add", st, error);
	{
		const Rpc__UserInfo *info =
		    ((Rpc__UserReply *)(void *)reply)->info;

		printf("added %s (id %llu)", info->login,
		       (unsigned long long)info->user);
		for (size_t i = 0; i < info->n_addresses; i++)
			printf(" %s", info->addresses[i]);
		printf("\n");
	}
	protobuf_c_message_free_unpacked(reply, NULL);
	rc = 0;
	return rc;
}

/* One user's fields, one per line ("field: value"; unset ones "-"). */
static void
print_user(const Rpc__UserInfo *info)
{
	char **slots[CONTACT_OPTS];
	Rpc__UserContact empty;

	rpc__user_contact__init(&empty);
	contact_slots(info->contact != NULL ? info->contact : &empty, slots);
	printf("id: %llu\nlogin: %s\naddresses:",
	       (unsigned long long)info->user, info->login);
	for (size_t a = 0; a < info->n_addresses; a++)
		printf("%s%s", a == 0 ? " " : ", ", info->addresses[a]);
	printf("\npolicy: %s\n", *info->policy_name ? info->policy_name : "-");
	for (size_t k = 0; k < CONTACT_OPTS; k++)
		printf("%s: %s\n", contact_opts[k].label,
		       **slots[k] ? *slots[k] : "-");
	if (info->photo_bytes > 0)
		printf("photo: %u bytes\n", (unsigned)info->photo_bytes);
	else
		printf("photo: -\n");
}

static int
user_show(struct easctl_conn *c, const char *login)
{
	Rpc__UserGetRequest q;
	ProtobufCMessage *reply;
	const char *error;
	Rpc__Status st;

	rpc__user_get_request__init(&q);
	q.login = (char *)(uintptr_t)login;
	st = easctl_call(c, RPC__MSG_TYPE__MSG_USER_GET, &q.base, &reply,
			 &error);
	if (st != RPC__STATUS__STATUS_OK)
		return fail_status("user show", st, error);
	print_user(((Rpc__UserReply *)(void *)reply)->info);
	protobuf_c_message_free_unpacked(reply, NULL);
	return 0;
}

/* Reads a photo file (at most size bytes: one more than the mailbox
 * accepts, so that it sees and names a file that is too large); "" is no
 * photo.  -1 after saying why. */
static int
read_photo(const char *path, uint8_t *buf, size_t size, size_t *len_r)
{
	FILE *f;
	size_t n;

	*len_r = 0;
	if (path[0] == '\0')
		return 0;
	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "easctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, size, f);
	if (ferror(f)) {
		fprintf(stderr, "easctl: %s: read error\n", path);
		(void)fclose(f);
		return -1;
	}
	(void)fclose(f);
	*len_r = n;
	return 0;
}

static int
user_set(struct easctl_conn *c, int argc, char **argv)
{
	Rpc__UserSetContactRequest q;
	Rpc__UserSetPhotoRequest pq;
	Rpc__UserContact contact;
	ProtobufCMessage *reply = NULL;
	const char *error, *photo = NULL;
	static uint8_t buf[DIR_MAX_PHOTO_BYTES + 1];
	Rpc__Status st;

	rpc__user_set_contact_request__init(&q);
	rpc__user_set_photo_request__init(&pq);
	rpc__user_contact__init(&contact);
	q.contact = &contact;
	for (int i = 3; i < argc; i++) {
		int rc;

		if (strcmp(argv[i], "--photo") == 0 && i + 1 < argc &&
		    photo == NULL) {
			photo = argv[++i];
			continue;
		}
		rc = contact_arg(&contact, &q.fields, argc, argv, &i);
		if (rc == 0)
			fprintf(stderr, "easctl: user set: bad argument %s\n",
				argv[i]);
		if (rc <= 0)
			return 2;
	}
	if (q.fields == 0 && photo == NULL) {
		fprintf(stderr, "easctl: user set: no field to change\n");
		return 2;
	}
	if (photo != NULL &&
	    read_photo(photo, buf, sizeof(buf), &pq.photo.len) < 0)
		return 1;
	pq.photo.data = buf;
	if (easctl_user_id(c, argv[2], &q.user) < 0)
		return 1;
	if (q.fields != 0) {
		st = easctl_call(c, RPC__MSG_TYPE__MSG_USER_SET_CONTACT,
				 &q.base, &reply, &error);
		if (st != RPC__STATUS__STATUS_OK)
			return fail_status("user set", st, error);
	}
	if (photo != NULL) {
		if (reply != NULL)
			protobuf_c_message_free_unpacked(reply, NULL);
		pq.user = q.user;
		st = easctl_call(c, RPC__MSG_TYPE__MSG_USER_SET_PHOTO, &pq.base,
				 &reply, &error);
		if (st != RPC__STATUS__STATUS_OK)
			return fail_status("user set --photo", st, error);
	}
	if (reply == NULL) /* unreachable: a field or a photo was sent */
		return 1;
	print_user(((Rpc__UserReply *)(void *)reply)->info);
	protobuf_c_message_free_unpacked(reply, NULL);
	return 0;
}

static int
user_del(struct easctl_conn *c, const char *login)
{
	Rpc__UserDeleteRequest q;
	ProtobufCMessage *reply;
	const char *error;
	Rpc__Status st;

	rpc__user_delete_request__init(&q);
	if (easctl_user_id(c, login, &q.user) < 0)
		return 1;
	st = easctl_call(c, RPC__MSG_TYPE__MSG_USER_DELETE, &q.base, &reply,
			 &error);
	if (st != RPC__STATUS__STATUS_OK)
		return fail_status("user del", st, error);
	protobuf_c_message_free_unpacked(reply, NULL);
	printf("deleted %s\n", login);
	return 0;
}

static int
user_passwd(struct easctl_conn *c, const char *login)
{
	Rpc__UserSetPasswordRequest q;
	char pw[STORE_MAX_PASSWORD_BYTES + 2];
	ProtobufCMessage *reply;
	const char *error;
	Rpc__Status st;

	rpc__user_set_password_request__init(&q);
	if (easctl_user_id(c, login, &q.user) < 0)
		return 1;
	if (easctl_read_password(pw, sizeof(pw)) < 0) {
		fprintf(stderr, "easctl: no password on stdin\n");
		return 1;
	}
	q.password.data = (uint8_t *)pw;
	q.password.len = strlen(pw);
	st = easctl_call(c, RPC__MSG_TYPE__MSG_USER_SET_PASSWORD, &q.base,
			 &reply, &error);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (st != RPC__STATUS__STATUS_OK)
		return fail_status("user passwd", st, error);
	protobuf_c_message_free_unpacked(reply, NULL);
	printf("password changed for %s\n", login);
	return 0;
}

static int
user_list(struct easctl_conn *c)
{
	Rpc__UserListRequest q;
	uint64_t after = 0;

	rpc__user_list_request__init(&q);
	/* Paged; bounded by the number of users. */
	for (;;) {
		ProtobufCMessage *reply;
		const Rpc__UserListReply *l;
		const char *error;
		Rpc__Status st;
		bool more;

		q.after_user = after;
		q.limit = 500;
		st = easctl_call(c, RPC__MSG_TYPE__MSG_USER_LIST, &q.base,
				 &reply, &error);
		if (st != RPC__STATUS__STATUS_OK)
			return fail_status("user list", st, error);
		l = (const void *)reply;
		for (size_t i = 0; i < l->n_users; i++) {
			printf("%llu\t%s",
			       (unsigned long long)l->users[i]->user,
			       l->users[i]->login);
			for (size_t a = 0; a < l->users[i]->n_addresses; a++)
				printf("%s%s", a == 0 ? "\t" : ",",
				       l->users[i]->addresses[a]);
			/* The display name last: it may hold spaces. */
			if (*l->users[i]->display_name != '\0')
				printf("%s\t%s",
				       l->users[i]->n_addresses == 0 ? "\t-"
								     : "",
				       l->users[i]->display_name);
			printf("\n");
			after = l->users[i]->user;
		}
		more = l->more_available && l->n_users > 0;
		protobuf_c_message_free_unpacked(reply, NULL);
		if (!more)
			return 0;
	}
}

static int
user_run(const struct easctl_ctx *ctx, int argc, char **argv)
{
	struct easctl_conn *c;
	int rc;

	if (argc < 2 || (strcmp(argv[1], "list") != 0 && argc < 3))
		return 2;
	c = easctl_conn_open(ctx);
	if (c == NULL)
		return 1;
	if (strcmp(argv[1], "add") == 0)
		rc = user_add(c, argc, argv);
	else if (strcmp(argv[1], "del") == 0 && argc == 3)
		rc = user_del(c, argv[2]);
	else if (strcmp(argv[1], "passwd") == 0 &&
		 (argc == 3 ||
		  (argc == 4 && strcmp(argv[3], "--password-stdin") == 0)))
		rc = user_passwd(c, argv[2]);
	else if (strcmp(argv[1], "list") == 0)
		rc = user_list(c);
	else if (strcmp(argv[1], "show") == 0 && argc == 3)
		rc = user_show(c, argv[2]);
	else if (strcmp(argv[1], "set") == 0)
		rc = user_set(c, argc, argv);
	else
		rc = 2;
	easctl_conn_close(&c);
	return rc;
}

static const struct easctl_command user_cmd = {
    .name = "user",
    .summary = "user add|del|passwd|list|show|set: manage mailbox users",
    .usage =
	"usage: easctl user add NAME [--address ADDR]... "
	"[--password-stdin] [CONTACT]...\n"
	"       easctl user del NAME\n"
	"       easctl user passwd NAME [--password-stdin]\n"
	"       easctl user list\n"
	"       easctl user show NAME\n"
	"       easctl user set NAME [CONTACT]... [--photo FILE]\n"
	"Passwords are read from stdin (first line).\n"
	"CONTACT (shown by GAL Search and Find): --name DISPLAY-NAME,\n"
	"  --first NAME, --last NAME, --title T, --company C, --office O,\n"
	"  --phone P, --mobile P, --home-phone P, --alias NICKNAME;\n"
	"  with `set`, \"\" clears a field and unnamed fields stay.\n"
	"--photo FILE: the GAL photo (JPEG or PNG, at most 100 KB);\n"
	"  --photo \"\" removes it.\n",
    .run = user_run,
};
EASCTL_COMMAND(user_cmd)
