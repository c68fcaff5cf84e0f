/*
 * easctl user: add, del, passwd, list (over the mailbox RPC as
 * ROLE_ADMIN).  Passwords come from stdin with --password-stdin (never
 * from the command line, where `ps` would show them); without it, `user
 * add` creates a user who cannot log in until `user passwd`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "proto/limits.h"
#include "tools/easctl.h"
#include "tools/easctl_conn.h"

#define USER_MAX_ADDRESSES 64

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
	char *addrs[USER_MAX_ADDRESSES];
	char pw[STORE_MAX_PASSWORD_BYTES + 2];
	bool from_stdin = false;
	ProtobufCMessage *reply;
	const char *error;
	Rpc__Status st;
	int rc = 1;

	rpc__user_add_request__init(&q);
	pw[0] = 0;
	q.login = argv[2];
	q.addresses = addrs;
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--address") == 0 && i + 1 < argc &&
		    q.n_addresses < USER_MAX_ADDRESSES)
			addrs[q.n_addresses++] = argv[++i];
		else if (strcmp(argv[i], "--password-stdin") == 0)
			from_stdin = true;
		else {
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
	else
		rc = 2;
	easctl_conn_close(&c);
	return rc;
}

static const struct easctl_command user_cmd = {
    .name = "user",
    .summary = "user add|del|passwd|list: manage mailbox users",
    .usage = "usage: easctl user add NAME [--address ADDR]... "
	     "[--password-stdin]\n"
	     "       easctl user del NAME\n"
	     "       easctl user passwd NAME [--password-stdin]\n"
	     "       easctl user list\n"
	     "Passwords are read from stdin (first line).\n",
    .run = user_run,
};
EASCTL_COMMAND(user_cmd)
