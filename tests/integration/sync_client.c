/*
 * A CAS-like RPC client for the sync-state durability test
 * (test_mailbox_replay.sh): it speaks to a real easd-mailbox over its Unix
 * socket the way cas/cmd_sync.c and cas/cmd_ping.c do, and prints each
 * answer in a canonical text form, so the script can kill the daemon,
 * restart it, send the same request again and compare the two answers
 * byte for byte.
 *
 *   sync_client SOCK USER DEVICE inbox
 *       FolderSync from key 0; prints the Inbox id.
 *   sync_client SOCK USER DEVICE drain FOLDER
 *       GetChanges from key 0 until MoreAvailable is false; prints the key.
 *   sync_client SOCK USER DEVICE sync FOLDER KEY ITEM
 *       one Sync with client commands, as the CAS sends it:
 *       ApplyChanges(KEY: Add ClientId c-1, Add ClientId c-2, Change Read
 *       of ITEM, Delete of an item the device never had) then
 *       GetChanges(KEY); prints both replies.
 *   sync_client SOCK USER DEVICE foldersync KEY
 *       prints the new hierarchy key and the number of changes.
 *   sync_client SOCK USER DEVICE foldercreate KEY NAME
 *       creates a mail folder under the root; prints the new key.
 *   sync_client SOCK USER DEVICE pingcheck FOLDER
 *       prints "hierarchy_changed 0|1".
 *
 * Exits 1 on any status but OK.  Every call has a 10 s deadline.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/loop.h"
#include "net/rpc_client.h"

#define CALL_TIMEOUT_MS 10000

static struct rpc_client *rpc;
static uint64_t user;
static const char *device;

static ProtobufCMessage *
call(uint16_t type, const ProtobufCMessage *msg)
{
	ProtobufCMessage *rep = NULL;
	Rpc__Status st;

	st = rpc_client_call_sync(rpc, type, msg, CALL_TIMEOUT_MS, &rep);
	if (st == RPC__STATUS__STATUS_OK && rep != NULL)
		st = rpc_msg_status(rep);
	if (st != RPC__STATUS__STATUS_OK) {
		fprintf(stderr, "sync_client: %s: status %d\n",
			rpc_msg_name(type), (int)st);
		exit(1);
	}
	return rep;
}

static void
cmd_inbox(void)
{
	Rpc__FolderSyncRequest q;
	Rpc__FolderSyncReply *r;

	rpc__folder_sync_request__init(&q);
	q.user = user;
	q.device_id = (char *)(uintptr_t)device;
	q.sync_key = "0";
	r = (void *)call(RPC__MSG_TYPE__MSG_FOLDER_SYNC, &q.base);
	for (size_t i = 0; i < r->n_adds; i++)
		if (r->adds[i]->type == 2)
			printf("%s\n", r->adds[i]->server_id);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

static Rpc__GetChangesReply *
get_changes(const char *folder, const char *key)
{
	Rpc__GetChangesRequest q;

	rpc__get_changes_request__init(&q);
	q.user = user;
	q.device_id = (char *)(uintptr_t)device;
	q.collection_id = (char *)(uintptr_t)folder;
	q.sync_key = (char *)(uintptr_t)key;
	q.window_size = 25;
	q.item_class = "Email";
	q.get_changes = strcmp(key, "0") != 0;
	return (void *)call(RPC__MSG_TYPE__MSG_GET_CHANGES, &q.base);
}

static void
cmd_drain(const char *folder)
{
	char key[32] = "0";
	bool more = true;

	for (int round = 0; more && round < 1000; round++) {
		Rpc__GetChangesReply *r = get_changes(folder, key);

		more = r->more_available || strcmp(key, "0") == 0;
		(void)snprintf(key, sizeof(key), "%s", r->sync_key);
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	printf("%s\n", key);
}

static void
cmd_sync(const char *folder, const char *key, const char *item)
{
	Rpc__ApplyChangesRequest q;
	Rpc__ApplyChangesReply *a;
	Rpc__GetChangesReply *g;
	Rpc__ClientChange c[4], *cp[4];
	Rpc__ItemData d[3];
	Rpc__Email e[3];
	const char *subjects[2] = {"draft one", "draft two"};

	rpc__apply_changes_request__init(&q);
	for (size_t i = 0; i < 4; i++) {
		rpc__client_change__init(&c[i]);
		cp[i] = &c[i];
	}
	for (size_t i = 0; i < 3; i++) {
		rpc__item_data__init(&d[i]);
		rpc__email__init(&e[i]);
		d[i].email = &e[i];
	}
	for (size_t i = 0; i < 2; i++) {
		c[i].op = RPC__APPLY_OP__APPLY_ADD;
		c[i].client_id = i == 0 ? "c-1" : "c-2";
		e[i].subject = (char *)(uintptr_t)subjects[i];
		e[i].to = "someone@example.org";
		e[i].date_received = 1700000000 + (int64_t)i;
		c[i].data = &d[i];
	}
	c[2].op = RPC__APPLY_OP__APPLY_CHANGE;
	c[2].server_id = (char *)(uintptr_t)item;
	e[2].read = true;
	c[2].data = &d[2];
	c[3].op = RPC__APPLY_OP__APPLY_DELETE;
	c[3].server_id = "999999"; /* never had: not found */
	q.user = user;
	q.device_id = (char *)(uintptr_t)device;
	q.collection_id = (char *)(uintptr_t)folder;
	q.sync_key = (char *)(uintptr_t)key;
	q.item_class = "Email";
	q.deletes_as_moves = true;
	q.changes = cp;
	q.n_changes = 4;
	q.conflict = 1;
	a = (void *)call(RPC__MSG_TYPE__MSG_APPLY_CHANGES, &q.base);
	printf("apply key %s\n", a->sync_key);
	for (size_t i = 0; i < a->n_results; i++)
		printf("result op %d status %d client %s server %s\n",
		       (int)a->results[i]->op, (int)a->results[i]->status,
		       a->results[i]->client_id, a->results[i]->server_id);
	protobuf_c_message_free_unpacked(&a->base, NULL);
	g = get_changes(folder, key);
	printf("key %s more %d\n", g->sync_key, (int)g->more_available);
	for (size_t i = 0; i < g->n_changes; i++)
		printf("change op %d server %s subject %s\n",
		       (int)g->changes[i]->op, g->changes[i]->server_id,
		       g->changes[i]->data != NULL &&
			       g->changes[i]->data->email != NULL
			   ? g->changes[i]->data->email->subject
			   : "-");
	protobuf_c_message_free_unpacked(&g->base, NULL);
}

static void
cmd_foldersync(const char *key)
{
	Rpc__FolderSyncRequest q;
	Rpc__FolderSyncReply *r;

	rpc__folder_sync_request__init(&q);
	q.user = user;
	q.device_id = (char *)(uintptr_t)device;
	q.sync_key = (char *)(uintptr_t)key;
	r = (void *)call(RPC__MSG_TYPE__MSG_FOLDER_SYNC, &q.base);
	printf("%s %zu\n", r->sync_key,
	       r->n_adds + r->n_updates + r->n_deletes);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void
cmd_foldercreate(const char *key, const char *name)
{
	Rpc__FolderCreateRequest q;
	Rpc__FolderChangeReply *r;

	rpc__folder_create_request__init(&q);
	q.user = user;
	q.device_id = (char *)(uintptr_t)device;
	q.sync_key = (char *)(uintptr_t)key;
	q.parent_id = "0";
	q.display_name = (char *)(uintptr_t)name;
	q.type = 12; /* MS-ASCMD 2.2.3.186.3: user-created mail folder */
	r = (void *)call(RPC__MSG_TYPE__MSG_FOLDER_CREATE, &q.base);
	printf("%s\n", r->sync_key);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void
cmd_pingcheck(const char *folder)
{
	Rpc__PingCheckRequest q;
	Rpc__PingCollection pc, *pcp = &pc;
	Rpc__PingCheckReply *r;

	rpc__ping_check_request__init(&q);
	rpc__ping_collection__init(&pc);
	pc.collection_id = (char *)(uintptr_t)folder;
	pc.item_class = "Email";
	q.user = user;
	q.device_id = (char *)(uintptr_t)device;
	q.collections = &pcp;
	q.n_collections = 1;
	r = (void *)call(RPC__MSG_TYPE__MSG_PING_CHECK, &q.base);
	printf("hierarchy_changed %d\n", (int)r->hierarchy_changed);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

int
main(int argc, char **argv)
{
	struct rpc_client_config cfg = {
	    .role = RPC__ROLE__ROLE_CAS,
	    .software = "sync_client",
	};
	const char *error = NULL;
	struct loop *loop;
	char addr[256];
	int ok = 1;

	if (argc < 5) {
		fprintf(stderr, "usage: sync_client SOCK USER DEVICE CMD...\n");
		return 2;
	}
	(void)snprintf(addr, sizeof(addr), "unix:%s", argv[1]);
	cfg.addr = addr;
	user = strtoull(argv[2], NULL, 10);
	device = argv[3];
	loop = loop_new(&error);
	if (loop == NULL)
		return 1;
	rpc = rpc_client_connect(loop, &cfg, &error);
	if (rpc == NULL ||
	    rpc_client_wait_ready(rpc, CALL_TIMEOUT_MS, &error) < 0) {
		fprintf(stderr, "sync_client: connect: %s\n",
			error ? error : "?");
		return 1;
	}
	if (strcmp(argv[4], "inbox") == 0)
		cmd_inbox();
	else if (strcmp(argv[4], "drain") == 0 && argc == 6)
		cmd_drain(argv[5]);
	else if (strcmp(argv[4], "sync") == 0 && argc == 8)
		cmd_sync(argv[5], argv[6], argv[7]);
	else if (strcmp(argv[4], "foldersync") == 0 && argc == 6)
		cmd_foldersync(argv[5]);
	else if (strcmp(argv[4], "foldercreate") == 0 && argc == 7)
		cmd_foldercreate(argv[5], argv[6]);
	else if (strcmp(argv[4], "pingcheck") == 0 && argc == 6)
		cmd_pingcheck(argv[5]);
	else
		ok = 0;
	rpc_client_free(&rpc);
	loop_free(&loop);
	if (!ok) {
		fprintf(stderr, "sync_client: bad command\n");
		return 2;
	}
	return 0;
}
