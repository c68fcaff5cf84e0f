/*
 * easctl folder list USER: a user's folders with item and unread counts
 * (FolderList RPC; no device sync state is touched).
 */
#include <stdio.h>
#include <string.h>

#include "tools/easctl.h"
#include "tools/easctl_conn.h"

static int
folder_run(const struct easctl_ctx *ctx, int argc, char **argv)
{
	Rpc__FolderListRequest q;
	ProtobufCMessage *reply;
	const Rpc__FolderListReply *l;
	struct easctl_conn *c;
	const char *error;
	Rpc__Status st;
	int rc = 1;

	if (argc != 3 || strcmp(argv[1], "list") != 0)
		return 2;
	c = easctl_conn_open(ctx);
	if (c == NULL)
		return 1;
	rpc__folder_list_request__init(&q);
	if (easctl_user_id(c, argv[2], &q.user) < 0)
		goto out;
	st = easctl_call(c, RPC__MSG_TYPE__MSG_FOLDER_LIST, &q.base, &reply,
			 &error);
	if (st != RPC__STATUS__STATUS_OK) {
		fprintf(stderr, "easctl: folder list: %s%s%s\n",
			easctl_status_name(st), *error ? ": " : "", error);
		goto out;
	}
	l = (const void *)reply;
	printf("%-6s %-6s %-4s %8s %8s  %s\n", "id", "parent", "type", "items",
	       "unread", "name");
	for (size_t i = 0; i < l->n_folders; i++) {
		const Rpc__FolderInfo *f = l->folders[i];

		printf("%-6s %-6s %-4u %8llu %8llu  %s\n", f->folder->server_id,
		       f->folder->parent_id, f->folder->type,
		       (unsigned long long)f->items,
		       (unsigned long long)f->unread, f->folder->display_name);
	}
	protobuf_c_message_free_unpacked(reply, NULL);
	rc = 0;
out:
	easctl_conn_close(&c);
	return rc;
}

static const struct easctl_command folder_cmd = {
    .name = "folder",
    .summary = "folder list USER: folders with item counts",
    .usage = "usage: easctl folder list USER\n",
    .run = folder_run,
};
EASCTL_COMMAND(folder_cmd)
