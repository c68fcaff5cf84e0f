/*
 * `easctl policy`: device policies (MS-ASPROV settings) in the mailbox.
 *
 *   easctl policy set NAME Setting=value ...   create or change a policy
 *   easctl policy show NAME                    print its settings
 *   easctl policy list                         policies in use, by users
 *   easctl policy assign USER NAME             give USER the policy
 *                                              ("default": the default)
 *
 * Values are checked here with policy/ (ranges, enums, lists) before
 * anything is sent, so a typo is reported with the setting's name and
 * bounds and changes nothing.  The mailbox stores the policy's text form
 * (policy_to_text); devices see a change at their next command (Status
 * 143, MS-ASPROV 3.1.5.2).
 */
#include "tools/easctl.h"
#include "tools/easctl_rpc.h"

#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char policy_usage[] =
    "usage: easctl policy set NAME Setting=value ...\n"
    "       easctl policy show NAME\n"
    "       easctl policy list\n"
    "       easctl policy assign USER NAME\n"
    "Settings are the MS-ASPROV EASProvisionDoc names, e.g.\n"
    "DevicePasswordEnabled=1 MinDevicePasswordLength=6\n"
    "AllowNonProvisionableDevices=0 (case does not matter).\n";

/* Users listed per UserList page. */
#define POLICY_LIST_PAGE 500u
/* Distinct policy names shown by `policy list`. */
#define POLICY_LIST_MAX_NAMES 256u

/* The policy called name, or NULL when the mailbox has none by that name
 * (*status_r tells which). */
static struct policy *
policy_fetch(struct easctl_rpc *rpc, const char *name, Rpc__Status *status_r)
{
	Rpc__PolicyGetRequest m;
	ProtobufCMessage *reply = NULL;
	const Rpc__PolicyReply *pr;
	struct policy *p = NULL;
	struct policy_error err;

	rpc__policy_get_request__init(&m);
	m.name = (char *)(uintptr_t)name;
	*status_r = easctl_rpc_call(rpc, RPC__MSG_TYPE__MSG_POLICY_GET, &m.base,
				    &reply);
	pr = (const Rpc__PolicyReply *)reply;
	if (*status_r == RPC__STATUS__STATUS_OK && pr != NULL) {
		if (pr->text == NULL || pr->text[0] == 0)
			p = policy_new();
		else if (policy_from_text(pr->text, strlen(pr->text), &p,
					  &err) != 0)
			fprintf(stderr,
				"easctl: policy %s as stored is unreadable: "
				"%s\n",
				name, err.message);
		if (p == NULL)
			*status_r = RPC__STATUS__STATUS_INTERNAL;
	}
	if (reply != NULL)
		protobuf_c_message_free_unpacked(reply, NULL);
	return p;
}

static int
policy_cmd_set(struct easctl_rpc *rpc, const char *name, int argc, char **argv)
{
	struct policy *p;
	struct policy_error err;
	Rpc__PolicySetRequest m;
	ProtobufCMessage *reply = NULL;
	Rpc__Status st;
	struct buf text;
	int rc = EASCTL_EXIT_FAIL;

	p = policy_fetch(rpc, name, &st);
	if (p == NULL && st == RPC__STATUS__STATUS_NOT_FOUND)
		p = policy_new();
	if (p == NULL) {
		fprintf(stderr, "easctl: reading policy %s: %s\n", name,
			easctl_rpc_status_text(st));
		return EASCTL_EXIT_FAIL;
	}
	for (int i = 0; i < argc; i++) {
		if (policy_set_pair(p, argv[i], &err) != 0) {
			fprintf(stderr, "easctl: %s\n", err.message);
			policy_free(&p);
			return EASCTL_EXIT_USAGE;
		}
	}
	buf_init(&text, POLICY_MAX_TEXT_BYTES);
	if (policy_to_text(p, &text) != 0) {
		fprintf(stderr, "easctl: policy %s is too large\n", name);
		goto out;
	}
	rpc__policy_set_request__init(&m);
	m.name = (char *)(uintptr_t)name;
	m.text = (char *)(uintptr_t)buf_str(&text);
	st = easctl_rpc_call(rpc, RPC__MSG_TYPE__MSG_POLICY_SET, &m.base,
			     &reply);
	if (st != RPC__STATUS__STATUS_OK) {
		const Rpc__PolicyReply *pr = (const Rpc__PolicyReply *)reply;

		fprintf(stderr, "easctl: storing policy %s: %s%s%s\n", name,
			easctl_rpc_status_text(st),
			pr != NULL && pr->error != NULL && pr->error[0] != 0
			    ? ": "
			    : "",
			pr != NULL && pr->error != NULL ? pr->error : "");
		goto out;
	}
	printf("policy %s saved\n", name);
	rc = EASCTL_EXIT_OK;
out:
	if (reply != NULL)
		protobuf_c_message_free_unpacked(reply, NULL);
	buf_free(&text);
	policy_free(&p);
	return rc;
}

static int
policy_cmd_show(struct easctl_rpc *rpc, const char *name)
{
	struct policy *p;
	Rpc__Status st;
	struct buf text;
	int rc = EASCTL_EXIT_FAIL;

	p = policy_fetch(rpc, name, &st);
	if (p == NULL) {
		if (st == RPC__STATUS__STATUS_NOT_FOUND)
			fprintf(stderr, "easctl: no such policy: %s\n", name);
		else
			fprintf(stderr, "easctl: reading policy %s: %s\n", name,
				easctl_rpc_status_text(st));
		return EASCTL_EXIT_FAIL;
	}
	buf_init(&text, POLICY_MAX_TEXT_BYTES);
	if (policy_to_text(p, &text) == 0) {
		printf("# policy %s\n%s", name, buf_str(&text));
		rc = EASCTL_EXIT_OK;
	}
	buf_free(&text);
	policy_free(&p);
	return rc;
}

struct name_count {
	char *name;
	unsigned users;
};

/* There is no PolicyList message in the RPC: list the policies that
 * users are assigned (and "default"), with how many users have each. */
static int
policy_cmd_list(struct easctl_rpc *rpc)
{
	struct name_count names[POLICY_LIST_MAX_NAMES];
	size_t n_names = 0;
	uint64_t after = 0;
	bool more = true;
	int rc = EASCTL_EXIT_OK;

	names[n_names].name = strdup("default");
	names[n_names++].users = 0;
	while (more && rc == EASCTL_EXIT_OK) {
		Rpc__UserListRequest m;
		ProtobufCMessage *reply = NULL;
		const Rpc__UserListReply *ul;
		Rpc__Status st;

		rpc__user_list_request__init(&m);
		m.after_user = after;
		m.limit = POLICY_LIST_PAGE;
		st = easctl_rpc_call(rpc, RPC__MSG_TYPE__MSG_USER_LIST, &m.base,
				     &reply);
		ul = (const Rpc__UserListReply *)reply;
		if (st != RPC__STATUS__STATUS_OK || ul == NULL) {
			fprintf(stderr, "easctl: listing users: %s\n",
				easctl_rpc_status_text(st));
			rc = EASCTL_EXIT_FAIL;
		} else {
			for (size_t i = 0; i < ul->n_users; i++) {
				const char *pn = ul->users[i]->policy_name;
				size_t j;

				if (pn == NULL || pn[0] == 0)
					pn = "default";
				for (j = 0; j < n_names; j++)
					if (strcmp(names[j].name, pn) == 0)
						break;
				if (j == n_names &&
				    n_names < POLICY_LIST_MAX_NAMES) {
					names[n_names].name = strdup(pn);
					names[n_names++].users = 0;
				}
				if (j < n_names)
					names[j].users++;
				if (ul->users[i]->user > after)
					after = ul->users[i]->user;
			}
			more = ul->more_available && ul->n_users > 0;
		}
		if (reply != NULL)
			protobuf_c_message_free_unpacked(reply, NULL);
	}
	if (rc == EASCTL_EXIT_OK) {
		printf("%-32s %s\n", "POLICY", "USERS");
		for (size_t j = 0; j < n_names; j++)
			printf("%-32s %u\n",
			       names[j].name != NULL ? names[j].name : "?",
			       names[j].users);
	}
	for (size_t j = 0; j < n_names; j++)
		free(names[j].name);
	return rc;
}

static int
policy_cmd_assign(struct easctl_rpc *rpc, const char *login, const char *name)
{
	Rpc__PolicyAssignRequest m;
	ProtobufCMessage *reply = NULL;
	Rpc__Status st;
	uint64_t user;

	if (easctl_rpc_user_id(rpc, login, &user) != 0)
		return EASCTL_EXIT_FAIL;
	rpc__policy_assign_request__init(&m);
	m.user = user;
	m.name = (char *)(uintptr_t)(strcmp(name, "default") == 0 ? "" : name);
	st = easctl_rpc_call(rpc, RPC__MSG_TYPE__MSG_POLICY_ASSIGN, &m.base,
			     &reply);
	if (reply != NULL)
		protobuf_c_message_free_unpacked(reply, NULL);
	if (st == RPC__STATUS__STATUS_NOT_FOUND) {
		fprintf(stderr, "easctl: no such policy: %s\n", name);
		return EASCTL_EXIT_FAIL;
	}
	if (st != RPC__STATUS__STATUS_OK) {
		fprintf(stderr, "easctl: assigning %s to %s: %s\n", name, login,
			easctl_rpc_status_text(st));
		return EASCTL_EXIT_FAIL;
	}
	printf("policy %s assigned to %s\n", name, login);
	return EASCTL_EXIT_OK;
}

static int
policy_run(const struct easctl_ctx *ctx, int argc, char **argv)
{
	struct easctl_rpc *rpc = NULL;
	const char *sub = argc > 1 ? argv[1] : "";
	int rc;

	if ((strcmp(sub, "set") == 0 && argc >= 3) ||
	    (strcmp(sub, "show") == 0 && argc == 3) ||
	    (strcmp(sub, "list") == 0 && argc == 2) ||
	    (strcmp(sub, "assign") == 0 && argc == 4)) {
		if (easctl_rpc_open(ctx, &rpc) != 0)
			return EASCTL_EXIT_FAIL;
	} else {
		fputs(policy_usage, stderr);
		return EASCTL_EXIT_USAGE;
	}
	if (strcmp(sub, "set") == 0)
		rc = policy_cmd_set(rpc, argv[2], argc - 3, argv + 3);
	else if (strcmp(sub, "show") == 0)
		rc = policy_cmd_show(rpc, argv[2]);
	else if (strcmp(sub, "list") == 0)
		rc = policy_cmd_list(rpc);
	else
		rc = policy_cmd_assign(rpc, argv[2], argv[3]);
	easctl_rpc_close(&rpc);
	return rc;
}

static const struct easctl_command policy_command = {
    .name = "policy",
    .summary = "device policies: set, show, list, assign",
    .usage = policy_usage,
    .run = policy_run,
};
EASCTL_COMMAND(policy_command)
