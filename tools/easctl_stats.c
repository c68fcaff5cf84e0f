/*
 * easctl stats: counts from the mailbox (users, messages, send queue,
 * devices, deliveries since start, RPC connections), one "name value"
 * line each so scripts can read them.
 */
#include <stdio.h>

#include "tools/easctl.h"
#include "tools/easctl_conn.h"

static int
stats_run(const struct easctl_ctx *ctx, int argc, char **argv)
{
	Rpc__StatsRequest q;
	ProtobufCMessage *reply;
	const Rpc__StatsReply *s;
	struct easctl_conn *c;
	const char *error;
	Rpc__Status st;

	(void)argv;
	if (argc != 1)
		return 2;
	c = easctl_conn_open(ctx);
	if (c == NULL)
		return 1;
	rpc__stats_request__init(&q);
	st = easctl_call(c, RPC__MSG_TYPE__MSG_STATS, &q.base, &reply, &error);
	if (st != RPC__STATUS__STATUS_OK) {
		fprintf(stderr, "easctl: stats: %s%s%s\n",
			easctl_status_name(st), *error ? ": " : "", error);
		easctl_conn_close(&c);
		return 1;
	}
	s = (const void *)reply;
	printf("users %llu\n", (unsigned long long)s->users);
	printf("messages %llu\n", (unsigned long long)s->messages);
	printf("queued %llu\n", (unsigned long long)s->queued);
	printf("devices %llu\n", (unsigned long long)s->devices);
	printf("delivered %llu\n", (unsigned long long)s->delivered);
	printf("delivery_failures %llu\n",
	       (unsigned long long)s->delivery_failures);
	printf("rpc_connections %llu\n",
	       (unsigned long long)s->rpc_connections);
	printf("workers %u\n", s->workers);
	protobuf_c_message_free_unpacked(reply, NULL);
	easctl_conn_close(&c);
	return 0;
}

static const struct easctl_command stats_cmd = {
    .name = "stats",
    .summary = "stats: users, messages, queue, devices, deliveries",
    .usage = "usage: easctl stats\n",
    .run = stats_run,
};
EASCTL_COMMAND(stats_cmd)
