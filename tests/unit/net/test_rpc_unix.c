/* End-to-end tests of the RPC over a Unix socket: net/rpc_server.c on its
 * own loop thread (as in the mailbox), net/rpc_client.c on the test's
 * loop.  Covers blocking and async calls, out-of-order replies matched by
 * id, replies from a worker thread, streamed (chunked) replies, timeouts,
 * unknown message types, frames over the limit, the version handshake on
 * both sides, events to two subscribers, and reconnecting after the server
 * restarts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/listen.h"
#include "proto/limits.h"
#include "tests/unit/net/rpc_harness.h"

/* ------------------------------------------------------------ server */

#define MAX_HELD 16

/* The test server's handler state: touched only on the server thread. */
struct held {
	uint64_t conn_id, id;
};

static struct {
	struct rpc_server *server;
	struct held held[MAX_HELD];
	int n_held;
} srv;

static void
reply_user(uint64_t conn_id, uint64_t id, uint64_t user, const char *login)
{
	Rpc__UserReply rep;
	Rpc__UserInfo info;

	rpc__user_reply__init(&rep);
	rpc__user_info__init(&info);
	rep.status = RPC__STATUS__STATUS_OK;
	info.user = user;
	info.login = (char *)(uintptr_t)login;
	rep.info = &info;
	assert_int_equal(rpc_server_reply(srv.server, conn_id, id,
					  RPC__MSG_TYPE__MSG_USER_GET,
					  &rep.base, true),
			 0);
}

struct worker_job {
	uint64_t conn_id, id;
	size_t n_collections;
};

/* A worker thread answering (as the mailbox's SQLite workers do). */
static void *
worker(void *arg)
{
	struct worker_job *job = arg;
	Rpc__PingCheckReply rep;
	char *changed[1] = {(char *)"from-worker"};

	rpc__ping_check_reply__init(&rep);
	rep.status = RPC__STATUS__STATUS_OK;
	rep.changed = changed;
	rep.n_changed = 1;
	rep.modseq = job->n_collections;
	assert_int_equal(rpc_server_reply(srv.server, job->conn_id, job->id,
					  RPC__MSG_TYPE__MSG_PING_CHECK,
					  &rep.base, true),
			 0);
	free(job);
	return NULL;
}

static void
send_chunks(const struct rpc_request *req)
{
	Rpc__FetchReply rep;
	static const char part[] = "0123456789";
	int i;

	for (i = 0; i < 4; i++) {
		rpc__fetch_reply__init(&rep);
		rep.status = RPC__STATUS__STATUS_OK;
		rep.offset = (uint64_t)i * 10u;
		rep.total_size = 40;
		rep.chunk.data = (uint8_t *)(uintptr_t)part;
		rep.chunk.len = 10;
		assert_int_equal(rpc_server_reply(srv.server, req->conn_id,
						  req->id,
						  RPC__MSG_TYPE__MSG_FETCH,
						  &rep.base, i == 3),
				 0);
	}
}

/* Streaming with flow control: a worker sends range_end bytes in
 * RPC_CHUNK_BYTES chunks, waiting before each until at most one chunk is
 * queued.  If the client stops reading, the wait times out and the worker
 * ends the stream with STATUS_BUSY. */
static struct {
	pthread_t thread;
	bool started;
	atomic_bool got_request;
	int timeouts;
	uint64_t sent;
} stream;

struct stream_job {
	uint64_t conn_id, id, total;
	int wait_ms;
};

static void *
stream_worker(void *arg)
{
	struct stream_job *job = arg;
	uint8_t *chunk = malloc(RPC_CHUNK_BYTES);
	Rpc__FetchReply rep;
	uint64_t off;
	size_t i;

	assert_non_null(chunk);
	for (off = 0; off < job->total; off += RPC_CHUNK_BYTES) {
		if (rpc_server_wait_output(srv.server, job->conn_id,
					   RPC_CHUNK_BYTES, job->wait_ms) < 0) {
			stream.timeouts++;
			rpc__fetch_reply__init(&rep);
			rep.status = RPC__STATUS__STATUS_BUSY;
			rep.offset = off;
			(void)rpc_server_reply(
			    srv.server, job->conn_id, job->id,
			    RPC__MSG_TYPE__MSG_FETCH, &rep.base, true);
			goto out;
		}
		for (i = 0; i < RPC_CHUNK_BYTES; i++)
			chunk[i] = (uint8_t)((off + i) % 253u);
		rpc__fetch_reply__init(&rep);
		rep.status = RPC__STATUS__STATUS_OK;
		rep.offset = off;
		rep.total_size = job->total;
		rep.chunk.data = chunk;
		rep.chunk.len = RPC_CHUNK_BYTES;
		assert_int_equal(
		    rpc_server_reply(srv.server, job->conn_id, job->id,
				     RPC__MSG_TYPE__MSG_FETCH, &rep.base,
				     off + RPC_CHUNK_BYTES >= job->total),
		    0);
		stream.sent += RPC_CHUNK_BYTES;
	}
out:
	free(chunk);
	free(job);
	return NULL;
}

static void
start_stream(const struct rpc_request *req)
{
	Rpc__FetchRequest *r = (Rpc__FetchRequest *)req->msg;
	struct stream_job *job = calloc(1, sizeof(*job));

	assert_non_null(job);
	job->conn_id = req->conn_id;
	job->id = req->id;
	job->total = r->range_end;
	job->wait_ms = (int)r->range_start; /* the test's wait deadline */
	atomic_store(&stream.got_request, true);
	assert_int_equal(
	    pthread_create(&stream.thread, NULL, stream_worker, job), 0);
	stream.started = true;
}

/* One reply frame of range_end bytes (a pattern the client checks). */
static void
send_big(const struct rpc_request *req)
{
	Rpc__FetchRequest *r = (Rpc__FetchRequest *)req->msg;
	Rpc__FetchReply rep;
	uint8_t *data = malloc(r->range_end);
	uint64_t i;

	assert_non_null(data);
	for (i = 0; i < r->range_end; i++)
		data[i] = (uint8_t)(i * 7u);
	rpc__fetch_reply__init(&rep);
	rep.status = RPC__STATUS__STATUS_OK;
	rep.chunk.data = data;
	rep.chunk.len = r->range_end;
	assert_int_equal(rpc_server_reply(srv.server, req->conn_id, req->id,
					  req->type, &rep.base, true),
			 0);
	free(data);
}

/* Answers with the size and a checksum of the MIME it received. */
static void
check_submit(const struct rpc_request *req)
{
	Rpc__SubmitRequest *r = (Rpc__SubmitRequest *)req->msg;
	Rpc__SubmitReply rep;
	char text[64];
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < r->mime.len; i++)
		sum = sum * 31u + r->mime.data[i];
	(void)snprintf(text, sizeof(text), "%zu:%u", r->mime.len, sum);
	rpc__submit_reply__init(&rep);
	rep.status = RPC__STATUS__STATUS_OK;
	rep.sent_item_id = text;
	assert_int_equal(rpc_server_reply(srv.server, req->conn_id, req->id,
					  req->type, &rep.base, true),
			 0);
}

static void
handler(void *arg, struct rpc_request *req)
{
	(void)arg;
	switch (req->type) {
	case RPC__MSG_TYPE__MSG_USER_GET: {
		Rpc__UserGetRequest *r = (Rpc__UserGetRequest *)req->msg;

		if (strncmp(r->login, "hold", 4) == 0 &&
		    srv.n_held < MAX_HELD) {
			/* Held: answered later, in reverse order. */
			srv.held[srv.n_held].conn_id = req->conn_id;
			srv.held[srv.n_held].id = req->id;
			srv.n_held++;
		} else if (strcmp(r->login, "release") == 0) {
			while (srv.n_held > 0) {
				struct held *h = &srv.held[--srv.n_held];

				reply_user(h->conn_id, h->id, 1000u + h->id,
					   "held");
			}
			reply_user(req->conn_id, req->id, r->user, r->login);
		} else {
			reply_user(req->conn_id, req->id, r->user, r->login);
		}
		break;
	}
	case RPC__MSG_TYPE__MSG_PING_CHECK: {
		struct worker_job *job = calloc(1, sizeof(*job));
		pthread_t th;

		assert_non_null(job);
		job->conn_id = req->conn_id;
		job->id = req->id;
		job->n_collections =
		    ((Rpc__PingCheckRequest *)req->msg)->n_collections;
		assert_int_equal(pthread_create(&th, NULL, worker, job), 0);
		pthread_detach(th);
		break;
	}
	case RPC__MSG_TYPE__MSG_FETCH:
		if (((Rpc__FetchRequest *)req->msg)->kind ==
		    RPC__FETCH_KIND__FETCH_MIME)
			start_stream(req);
		else if (((Rpc__FetchRequest *)req->msg)->range_end > 0)
			send_big(req);
		else
			send_chunks(req);
		break;
	case RPC__MSG_TYPE__MSG_SUBMIT:
		check_submit(req);
		break;
	default:
		/* USER_DELETE and the rest: never answered (timeouts). */
		break;
	}
	protobuf_c_message_free_unpacked(req->msg, NULL);
}

/* ------------------------------------------------------------ fixture */

struct fixture {
	char *dir;
	char addr[320];
	char path[300];
	struct harness_server hs;
	struct loop *loop;
};

static const char *const tmp_files[] = {"rpc.sock", "fake.sock", "file", NULL};

static int
start_server(struct fixture *fx)
{
	struct rpc_server_config cfg;
	const char *error = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = fx->addr;
	cfg.software = "test-mailbox";
	memset(&srv, 0, sizeof(srv));
	if (harness_server_start(&fx->hs, &cfg, handler, NULL, &error) < 0) {
		fprintf(stderr, "server: %s\n", error);
		return -1;
	}
	srv.server = fx->hs.server;
	return 0;
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *error = NULL;

	if (fx == NULL)
		return -1;
	fx->dir = harness_tmpdir();
	if (fx->dir == NULL)
		return -1;
	(void)snprintf(fx->path, sizeof(fx->path), "%s/rpc.sock", fx->dir);
	(void)snprintf(fx->addr, sizeof(fx->addr), "unix:%s", fx->path);
	fx->loop = loop_new(&error);
	if (fx->loop == NULL || start_server(fx) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	harness_server_stop(&fx->hs, NULL);
	loop_free(&fx->loop);
	harness_rmdir(fx->dir, tmp_files);
	free(fx);
	return 0;
}

static struct rpc_client *
connect_client(struct fixture *fx, bool reconnect, uint32_t version,
	       rpc_client_state_fn *state_fn, void *state_arg)
{
	struct rpc_client_config cfg;
	const char *error = NULL;
	struct rpc_client *c;

	memset(&cfg, 0, sizeof(cfg));
	cfg.addr = fx->addr;
	cfg.role = RPC__ROLE__ROLE_TEST;
	cfg.software = "test-client";
	cfg.reconnect = reconnect;
	cfg.protocol_version = version;
	cfg.state_fn = state_fn;
	cfg.state_arg = state_arg;
	c = rpc_client_connect(fx->loop, &cfg, &error);
	assert_non_null(c);
	return c;
}

static Rpc__Status
get_user(struct rpc_client *c, uint64_t user, const char *login,
	 Rpc__UserReply **rep_r)
{
	Rpc__UserGetRequest req;
	ProtobufCMessage *rep = NULL;
	Rpc__Status st;

	rpc__user_get_request__init(&req);
	req.user = user;
	req.login = (char *)(uintptr_t)login;
	st = rpc_client_call_sync(c, RPC__MSG_TYPE__MSG_USER_GET, &req.base,
				  2000, &rep);
	*rep_r = (Rpc__UserReply *)rep;
	return st;
}

/* ------------------------------------------------------------ tests */

static void
test_sync_call(void **state)
{
	struct fixture *fx = *state;
	struct rpc_client *c = connect_client(fx, false, 0, NULL, NULL);
	const char *error = NULL;
	Rpc__UserReply *rep;

	assert_int_equal(rpc_client_wait_ready(c, 2000, &error), 0);
	assert_true(rpc_client_is_up(c));
	assert_int_equal(get_user(c, 7, "alice", &rep), RPC__STATUS__STATUS_OK);
	assert_non_null(rep);
	assert_int_equal(rep->status, RPC__STATUS__STATUS_OK);
	assert_true(rep->info->user == 7);
	assert_string_equal(rep->info->login, "alice");
	rpc__user_reply__free_unpacked(rep, NULL);
	rpc_client_free(&c);
	assert_null(c);
}

struct async_call {
	bool done;
	Rpc__Status status;
	uint64_t user;
	int order;
};

static int completion_counter;

static void
async_done(void *arg, Rpc__Status status, ProtobufCMessage *reply, bool last)
{
	struct async_call *a = arg;

	assert_true(last);
	a->done = true;
	a->status = status;
	a->order = completion_counter++;
	if (reply != NULL) {
		a->user = ((Rpc__UserReply *)reply)->info->user;
		protobuf_c_message_free_unpacked(reply, NULL);
	}
}

static void
test_out_of_order_replies(void **state)
{
	struct fixture *fx = *state;
	/* Calls are queued before the handshake completes. */
	struct rpc_client *c = connect_client(fx, false, 0, NULL, NULL);
	struct async_call calls[6];
	Rpc__UserGetRequest req;
	int i;

	memset(calls, 0, sizeof(calls));
	completion_counter = 0;
	rpc__user_get_request__init(&req);
	for (i = 0; i < 5; i++) {
		req.login = (char *)"hold";
		assert_int_equal(rpc_client_call(c, RPC__MSG_TYPE__MSG_USER_GET,
						 &req.base, 2000, async_done,
						 &calls[i]),
				 0);
	}
	req.login = (char *)"release";
	req.user = 55;
	assert_int_equal(rpc_client_call(c, RPC__MSG_TYPE__MSG_USER_GET,
					 &req.base, 2000, async_done,
					 &calls[5]),
			 0);
	assert_true(harness_pump(fx->loop, &calls[5].done, 3000));
	for (i = 0; i < 6; i++) {
		assert_true(calls[i].done);
		assert_int_equal(calls[i].status, RPC__STATUS__STATUS_OK);
	}
	/* Request ids are 1..6 in call order: the server encoded each id
	 * in the reply, so every callback got its own answer... */
	for (i = 0; i < 5; i++)
		assert_true(calls[i].user == 1000u + (uint64_t)(i + 1));
	assert_true(calls[5].user == 55);
	/* ...although they came back in reverse order. */
	for (i = 0; i < 5; i++)
		assert_int_equal(calls[i].order, 4 - i);
	rpc_client_free(&c);
}

static void
test_reply_from_worker_thread(void **state)
{
	struct fixture *fx = *state;
	struct rpc_client *c = connect_client(fx, false, 0, NULL, NULL);
	Rpc__PingCheckRequest req;
	Rpc__PingCollection col[3], *cols[3] = {&col[0], &col[1], &col[2]};
	ProtobufCMessage *rep = NULL;
	Rpc__PingCheckReply *pr;
	int i;

	rpc__ping_check_request__init(&req);
	for (i = 0; i < 3; i++)
		rpc__ping_collection__init(&col[i]);
	req.collections = cols;
	req.n_collections = 3;
	assert_int_equal(rpc_client_call_sync(c, RPC__MSG_TYPE__MSG_PING_CHECK,
					      &req.base, 2000, &rep),
			 RPC__STATUS__STATUS_OK);
	pr = (Rpc__PingCheckReply *)rep;
	assert_int_equal(pr->n_changed, 1);
	assert_string_equal(pr->changed[0], "from-worker");
	assert_true(pr->modseq == 3);
	protobuf_c_message_free_unpacked(rep, NULL);
	rpc_client_free(&c);
}

struct chunks {
	int frames;
	uint64_t next_offset;
	bool last;
	bool bad;
};

static void
chunk_done(void *arg, Rpc__Status status, ProtobufCMessage *reply, bool last)
{
	struct chunks *ch = arg;
	Rpc__FetchReply *fr = (Rpc__FetchReply *)reply;

	if (status != RPC__STATUS__STATUS_OK || fr == NULL) {
		ch->bad = true;
		ch->last = true;
		return;
	}
	if (fr->offset != ch->next_offset || fr->chunk.len != 10)
		ch->bad = true;
	ch->next_offset += fr->chunk.len;
	ch->frames++;
	ch->last = last;
	protobuf_c_message_free_unpacked(reply, NULL);
}

static void
test_chunked_reply(void **state)
{
	struct fixture *fx = *state;
	struct rpc_client *c = connect_client(fx, false, 0, NULL, NULL);
	Rpc__FetchRequest req;
	struct chunks ch;

	memset(&ch, 0, sizeof(ch));
	rpc__fetch_request__init(&req);
	req.kind = RPC__FETCH_KIND__FETCH_ATTACHMENT;
	req.file_reference = (char *)"5:1:1";
	assert_int_equal(rpc_client_call(c, RPC__MSG_TYPE__MSG_FETCH, &req.base,
					 2000, chunk_done, &ch),
			 0);
	assert_true(harness_pump(fx->loop, &ch.last, 3000));
	assert_false(ch.bad);
	assert_int_equal(ch.frames, 4);
	assert_true(ch.next_offset == 40);
	rpc_client_free(&c);
}

static void
test_timeout_and_disconnect_status(void **state)
{
	struct fixture *fx = *state;
	struct rpc_client *c = connect_client(fx, false, 0, NULL, NULL);
	Rpc__UserDeleteRequest req;
	ProtobufCMessage *rep = NULL;
	struct async_call pending;
	uint64_t start = loop_now_ms();

	rpc__user_delete_request__init(&req);
	/* The server never answers UserDelete. */
	assert_int_equal(rpc_client_call_sync(c, RPC__MSG_TYPE__MSG_USER_DELETE,
					      &req.base, 100, &rep),
			 RPC__STATUS__STATUS_TIMEOUT);
	assert_null(rep);
	assert_true(loop_now_ms() - start >= 100);
	/* A call still pending when the client goes away is failed with a
	 * clear status, exactly once. */
	memset(&pending, 0, sizeof(pending));
	assert_int_equal(rpc_client_call(c, RPC__MSG_TYPE__MSG_USER_DELETE,
					 &req.base, 5000, async_done, &pending),
			 0);
	rpc_client_free(&c);
	assert_true(pending.done);
	assert_int_equal(pending.status, RPC__STATUS__STATUS_DISCONNECTED);
	/* Unknown types and Hello are refused locally. */
	c = connect_client(fx, false, 0, NULL, NULL);
	assert_int_equal(rpc_client_call(c, 999, NULL, 0, async_done, NULL),
			 -1);
	assert_int_equal(rpc_client_call(c, RPC__MSG_TYPE__MSG_HELLO, NULL, 0,
					 async_done, NULL),
			 -1);
	rpc_client_free(&c);
}

/* ------------------------------------------------- raw socket peer */

static int
raw_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct timeval tv = {2, 0};

	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void
raw_send_msg(int fd, uint16_t type, uint8_t flags, uint64_t id,
	     const ProtobufCMessage *msg)
{
	struct buf b;

	buf_init(&b, 1u << 20);
	assert_int_equal(rpc_frame_encode_msg(&b, type, flags, id, msg), 0);
	assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
	buf_free(&b);
}

/* Read one frame; its payload is copied into *store (caller frees).
 * Returns 0, or -1 on EOF. */
static int
raw_read_frame(int fd, struct rpc_frame *f, uint8_t **store)
{
	uint8_t *acc = malloc(4096);
	size_t have = 0;

	assert_non_null(acc);
	for (;;) {
		const uint8_t *pos = acc;
		const char *error = NULL;
		ssize_t n;

		if (rpc_frame_decode(&pos, acc + have, f, NULL, &error) ==
		    RPC_FRAME_OK) {
			*store = acc;
			return 0;
		}
		assert_true(have < 4096);
		n = read(fd, acc + have, 4096 - have);
		if (n <= 0) {
			free(acc);
			return -1;
		}
		have += (size_t)n;
	}
}

static void
raw_hello(int fd, uint32_t version, Rpc__Status expect)
{
	Rpc__Hello hello;
	Rpc__HelloReply *rep;
	struct rpc_frame f;
	uint8_t *store;

	rpc__hello__init(&hello);
	hello.protocol_version = version;
	hello.role = RPC__ROLE__ROLE_TEST;
	raw_send_msg(fd, RPC__MSG_TYPE__MSG_HELLO, 0, 0, &hello.base);
	assert_int_equal(raw_read_frame(fd, &f, &store), 0);
	assert_int_equal(f.type, RPC__MSG_TYPE__MSG_HELLO);
	assert_true(f.flags & RPC_FLAG_REPLY);
	rep = rpc__hello_reply__unpack(NULL, f.payload_len, f.payload);
	assert_non_null(rep);
	assert_int_equal(rep->status, expect);
	assert_int_equal(rep->protocol_version, RPC_PROTOCOL_VERSION);
	if (expect == RPC__STATUS__STATUS_VERSION_MISMATCH)
		assert_non_null(strstr(rep->error, "version"));
	rpc__hello_reply__free_unpacked(rep, NULL);
	free(store);
}

static void
test_unknown_type_and_oversize(void **state)
{
	struct fixture *fx = *state;
	int fd = raw_connect(fx->path);
	static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff};
	Rpc__StatusReply *sr;
	struct rpc_frame f;
	uint8_t *store;
	char c;

	raw_hello(fd, RPC_PROTOCOL_VERSION, RPC__STATUS__STATUS_OK);
	/* A type this server does not know: refused, connection kept. */
	raw_send_msg(fd, 999, 0, 4242, NULL);
	assert_int_equal(raw_read_frame(fd, &f, &store), 0);
	assert_int_equal(f.type, 999);
	assert_true(f.id == 4242);
	assert_int_equal(f.flags, RPC_FLAG_REPLY | RPC_FLAG_LAST);
	sr = rpc__status_reply__unpack(NULL, f.payload_len, f.payload);
	assert_non_null(sr);
	assert_int_equal(sr->status, RPC__STATUS__STATUS_UNSUPPORTED);
	rpc__status_reply__free_unpacked(sr, NULL);
	free(store);
	/* A 2 GiB frame announced: dropped at once, nothing allocated. */
	assert_int_equal(write(fd, huge, sizeof(huge)), 4);
	assert_int_equal(read(fd, &c, 1), 0);
	close(fd);
}

static void
test_request_before_hello_closed(void **state)
{
	struct fixture *fx = *state;
	int fd = raw_connect(fx->path);
	Rpc__UserGetRequest req;
	struct rpc_server_stats st;
	char c;

	rpc__user_get_request__init(&req);
	raw_send_msg(fd, RPC__MSG_TYPE__MSG_USER_GET, 0, 1, &req.base);
	assert_int_equal(read(fd, &c, 1), 0);
	close(fd);
	harness_server_stop(&fx->hs, &st);
	assert_true(st.refused == 1);
	assert_true(st.requests == 0);
}

static void
test_version_mismatch_refused_by_server(void **state)
{
	struct fixture *fx = *state;
	struct rpc_client *c = connect_client(fx, false, 2, NULL, NULL);
	const char *error = NULL;
	struct rpc_server_stats st;
	int fd;
	char ch;

	assert_int_equal(rpc_client_wait_ready(c, 2000, &error), -1);
	assert_non_null(strstr(error, "refused"));
	assert_non_null(strstr(error, "version 2"));
	assert_false(rpc_client_is_up(c));
	/* Closed: calls fail at once. */
	assert_int_equal(rpc_client_call(c, RPC__MSG_TYPE__MSG_USER_GET, NULL,
					 0, async_done, NULL),
			 -1);
	rpc_client_free(&c);
	/* Same refusal seen from a raw peer, and the server closes. */
	fd = raw_connect(fx->path);
	raw_hello(fd, 77, RPC__STATUS__STATUS_VERSION_MISMATCH);
	assert_int_equal(read(fd, &ch, 1), 0);
	close(fd);
	harness_server_stop(&fx->hs, &st);
	assert_true(st.refused == 2);
	assert_true(st.handshakes == 0);
}

/* A fake server that accepts the Hello but claims version 7. */
static void *
fake_server(void *arg)
{
	int lfd = *(int *)arg, fd;
	Rpc__HelloReply rep;
	struct rpc_frame f;
	uint8_t *store;

	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	if (raw_read_frame(fd, &f, &store) == 0) {
		free(store);
		rpc__hello_reply__init(&rep);
		rep.status = RPC__STATUS__STATUS_OK;
		rep.protocol_version = 7;
		raw_send_msg(fd, RPC__MSG_TYPE__MSG_HELLO,
			     RPC_FLAG_REPLY | RPC_FLAG_LAST, 0, &rep.base);
	}
	/* Wait for the client to hang up. */
	while (read(fd, &f, 1) > 0)
		;
	close(fd);
	return NULL;
}

static void
test_version_mismatch_refused_by_client(void **state)
{
	struct fixture *fx = *state;
	struct rpc_client_config cfg;
	struct sockaddr_un sun;
	char addr[340], path[300];
	const char *error = NULL;
	struct rpc_client *c;
	pthread_t th;
	int lfd;

	(void)snprintf(path, sizeof(path), "%s/fake.sock", fx->dir);
	(void)snprintf(addr, sizeof(addr), "unix:%s", path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(pthread_create(&th, NULL, fake_server, &lfd), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.addr = addr;
	cfg.role = RPC__ROLE__ROLE_TEST;
	c = rpc_client_connect(fx->loop, &cfg, &error);
	assert_non_null(c);
	assert_int_equal(rpc_client_wait_ready(c, 2000, &error), -1);
	assert_non_null(strstr(error, "server speaks protocol version 7"));
	rpc_client_free(&c);
	pthread_join(th, NULL);
	close(lfd);
}

static void
test_large_frames_both_ways(void **state)
{
	struct fixture *fx = *state;
	struct rpc_client *c = connect_client(fx, false, 0, NULL, NULL);
	const size_t up = 5u * 1024u * 1024u, down = 4u * 1024u * 1024u;
	Rpc__SubmitRequest sub;
	Rpc__FetchRequest fetch;
	ProtobufCMessage *rep = NULL;
	Rpc__FetchReply *fr;
	uint8_t *mime = malloc(RPC_MAX_FRAME_BYTES + 1);
	uint32_t sum = 0;
	char expect[64];
	size_t i;

	assert_non_null(mime);
	for (i = 0; i < up; i++) {
		mime[i] = (uint8_t)(i % 251u);
		sum = sum * 31u + mime[i];
	}
	(void)snprintf(expect, sizeof(expect), "%zu:%u", up, sum);
	rpc__submit_request__init(&sub);
	sub.mime.data = mime;
	sub.mime.len = up;
	/* Many reads and partial writes on the way; intact at the end. */
	assert_int_equal(rpc_client_call_sync(c, RPC__MSG_TYPE__MSG_SUBMIT,
					      &sub.base, 5000, &rep),
			 RPC__STATUS__STATUS_OK);
	assert_string_equal(((Rpc__SubmitReply *)rep)->sent_item_id, expect);
	protobuf_c_message_free_unpacked(rep, NULL);
	rpc__fetch_request__init(&fetch);
	fetch.range_end = down;
	assert_int_equal(rpc_client_call_sync(c, RPC__MSG_TYPE__MSG_FETCH,
					      &fetch.base, 5000, &rep),
			 RPC__STATUS__STATUS_OK);
	fr = (Rpc__FetchReply *)rep;
	assert_int_equal(fr->chunk.len, down);
	for (i = 0; i < down; i++) {
		if (fr->chunk.data[i] != (uint8_t)(i * 7u))
			fail_msg("byte %zu differs", i);
	}
	protobuf_c_message_free_unpacked(rep, NULL);
	/* A request over RPC_MAX_FRAME_BYTES is refused before sending. */
	sub.mime.len = RPC_MAX_FRAME_BYTES + 1;
	assert_int_equal(rpc_client_call(c, RPC__MSG_TYPE__MSG_SUBMIT,
					 &sub.base, 0, async_done, NULL),
			 -1);
	assert_true(rpc_client_is_up(c));
	free(mime);
	rpc_client_free(&c);
}

struct streamed {
	uint64_t bytes, next_offset;
	Rpc__Status final;
	bool last, bad;
};

static void
stream_chunk(void *arg, Rpc__Status status, ProtobufCMessage *reply, bool last)
{
	struct streamed *st = arg;
	Rpc__FetchReply *fr = (Rpc__FetchReply *)reply;
	size_t i;

	st->last = last;
	if (status != RPC__STATUS__STATUS_OK) {
		st->final = status;
		st->bad = true;
		return;
	}
	st->final = fr->status;
	if (fr->chunk.len > 0 && fr->offset != st->next_offset)
		st->bad = true;
	for (i = 0; i < fr->chunk.len; i++) {
		if (fr->chunk.data[i] != (uint8_t)((fr->offset + i) % 253u)) {
			st->bad = true;
			break;
		}
	}
	st->bytes += fr->chunk.len;
	st->next_offset += fr->chunk.len;
	protobuf_c_message_free_unpacked(reply, NULL);
}

static void
stream_call(struct rpc_client *c, uint64_t total, int wait_ms,
	    struct streamed *st)
{
	Rpc__FetchRequest req;

	memset(st, 0, sizeof(*st));
	memset(&stream, 0, sizeof(stream));
	rpc__fetch_request__init(&req);
	req.kind = RPC__FETCH_KIND__FETCH_MIME;
	req.range_end = total;
	req.range_start = (uint64_t)wait_ms;
	assert_int_equal(rpc_client_call(c, RPC__MSG_TYPE__MSG_FETCH, &req.base,
					 10000, stream_chunk, st),
			 0);
}

static void
test_streamed_reply_with_flow_control(void **state)
{
	struct fixture *fx = *state;
	struct rpc_client *c = connect_client(fx, false, 0, NULL, NULL);
	const uint64_t total = 96u * RPC_CHUNK_BYTES; /* 24 MiB */
	struct streamed st;
	const char *error = NULL;
	uint64_t waited;

	assert_int_equal(rpc_client_wait_ready(c, 2000, &error), 0);
	/* A reading client gets every byte, in order. */
	stream_call(c, total, 5000, &st);
	assert_true(harness_pump(fx->loop, &st.last, 20000));
	pthread_join(stream.thread, NULL);
	assert_false(st.bad);
	assert_true(st.bytes == total);
	assert_int_equal(stream.timeouts, 0);
	/* A client that stops reading: the worker is held back (it does not
	 * queue the whole stream), times out and ends the stream. */
	stream_call(c, total, 200, &st);
	while (!atomic_load(&stream.got_request))
		harness_idle(fx->loop, 5);
	waited = loop_now_ms();
	while (loop_now_ms() - waited < 500)
		usleep(10 * 1000);
	assert_true(harness_pump(fx->loop, &st.last, 20000));
	pthread_join(stream.thread, NULL);
	assert_int_equal(stream.timeouts, 1);
	assert_true(stream.sent < total / 4);
	assert_int_equal(st.final, RPC__STATUS__STATUS_BUSY);
	assert_true(st.bytes == stream.sent);
	assert_true(rpc_client_is_up(c));
	rpc_client_free(&c);
}

static void
test_silent_peer_dropped_after_handshake_timeout(void **state)
{
	struct fixture *fx = *state;
	struct rpc_server_config cfg;
	struct rpc_server_stats st;
	uint64_t start;
	const char *error = NULL;
	char c;
	int fd;

	/* Restart the server with a short deadline. */
	harness_server_stop(&fx->hs, NULL);
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = fx->addr;
	cfg.handshake_timeout_ms = 100;
	assert_int_equal(
	    harness_server_start(&fx->hs, &cfg, handler, NULL, &error), 0);
	start = loop_now_ms();
	fd = raw_connect(fx->path);
	/* Say nothing: the server hangs up after about 100 ms. */
	assert_int_equal(read(fd, &c, 1), 0);
	assert_true(loop_now_ms() - start >= 100);
	close(fd);
	harness_server_stop(&fx->hs, &st);
	assert_true(st.refused == 1);
}

/* A mailbox that accepts but never answers Hello (hung). */
static void *
mute_server(void *arg)
{
	int lfd = *(int *)arg, fd;
	char byte;

	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	while (read(fd, &byte, 1) > 0)
		;
	close(fd);
	return NULL;
}

static void
test_client_handshake_timeout(void **state)
{
	struct fixture *fx = *state;
	struct rpc_client_config cfg;
	struct sockaddr_un sun;
	char addr[340], path[300];
	const char *error = NULL;
	struct rpc_client *c;
	uint64_t start;
	pthread_t th;
	int lfd;

	(void)snprintf(path, sizeof(path), "%s/fake.sock", fx->dir);
	(void)snprintf(addr, sizeof(addr), "unix:%s", path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(pthread_create(&th, NULL, mute_server, &lfd), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.addr = addr;
	cfg.role = RPC__ROLE__ROLE_TEST;
	cfg.handshake_timeout_ms = 150;
	c = rpc_client_connect(fx->loop, &cfg, &error);
	assert_non_null(c);
	start = loop_now_ms();
	assert_int_equal(rpc_client_wait_ready(c, 5000, &error), -1);
	assert_string_equal(error, "rpc: handshake timed out");
	assert_true(loop_now_ms() - start >= 150);
	rpc_client_free(&c);
	pthread_join(th, NULL);
	close(lfd);
}

/* ------------------------------------------------------------ events */

struct sub {
	uint64_t users[8];
	uint64_t modseq[8];
	int n;
	bool got2;
};

static void
on_event(void *arg, const Rpc__Event *ev)
{
	struct sub *s = arg;

	if (s->n < 8) {
		s->users[s->n] = ev->user;
		s->modseq[s->n] =
		    ev->kind_case == RPC__EVENT__KIND_CHANGED
			? ev->changed->modseq
			: (ev->kind_case == RPC__EVENT__KIND_HIERARCHY_CHANGED
			       ? ev->hierarchy_changed->modseq
			       : 0);
		s->n++;
	}
	s->got2 = s->n >= 2;
}

static void
publish(struct rpc_server *server, uint64_t user, bool hierarchy,
	uint64_t modseq)
{
	Rpc__Event ev;
	Rpc__ChangedEvent ch;
	Rpc__HierarchyChangedEvent hc;

	rpc__event__init(&ev);
	ev.user = user;
	if (hierarchy) {
		rpc__hierarchy_changed_event__init(&hc);
		hc.modseq = modseq;
		ev.kind_case = RPC__EVENT__KIND_HIERARCHY_CHANGED;
		ev.hierarchy_changed = &hc;
	} else {
		rpc__changed_event__init(&ch);
		ch.folder_id = (char *)"5";
		ch.modseq = modseq;
		ev.kind_case = RPC__EVENT__KIND_CHANGED;
		ev.changed = &ch;
	}
	/* From this (non-loop) thread, as a mailbox worker would. */
	assert_int_equal(rpc_server_publish(server, &ev), 0);
}

static void
test_events_to_two_subscribers(void **state)
{
	struct fixture *fx = *state;
	struct rpc_client *a = connect_client(fx, false, 0, NULL, NULL);
	struct rpc_client *b = connect_client(fx, false, 0, NULL, NULL);
	static const uint64_t only5[] = {5};
	struct sub sa, sb;
	Rpc__UserReply *rep;

	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	assert_int_equal(rpc_client_subscribe(a, true, NULL, 0, on_event, &sa),
			 0);
	assert_int_equal(
	    rpc_client_subscribe(b, false, only5, 1, on_event, &sb), 0);
	/* A round trip on each makes sure the Subscribe was handled. */
	assert_int_equal(get_user(a, 1, "a", &rep), RPC__STATUS__STATUS_OK);
	rpc__user_reply__free_unpacked(rep, NULL);
	assert_int_equal(get_user(b, 1, "b", &rep), RPC__STATUS__STATUS_OK);
	rpc__user_reply__free_unpacked(rep, NULL);
	publish(fx->hs.server, 6, true, 10);
	publish(fx->hs.server, 5, false, 11);
	assert_true(harness_pump(fx->loop, &sa.got2, 3000));
	assert_true(sa.users[0] == 6 && sa.modseq[0] == 10);
	assert_true(sa.users[1] == 5 && sa.modseq[1] == 11);
	/* b got user 5's event only: a round trip after it proves nothing
	 * else is on the way. */
	assert_int_equal(get_user(b, 1, "b", &rep), RPC__STATUS__STATUS_OK);
	rpc__user_reply__free_unpacked(rep, NULL);
	assert_int_equal(sb.n, 1);
	assert_true(sb.users[0] == 5 && sb.modseq[0] == 11);
	rpc_client_free(&a);
	rpc_client_free(&b);
}

/* ------------------------------------------------------------ reconnect */

struct updown {
	int ups, downs;
	bool up, down;
};

static void
on_state(void *arg, bool up, const char *reason)
{
	struct updown *u = arg;

	assert_non_null(reason);
	if (up) {
		u->ups++;
		u->up = true;
	} else {
		u->downs++;
		u->down = true;
	}
}

static void
test_reconnect_after_server_restart(void **state)
{
	struct fixture *fx = *state;
	struct updown ud;
	struct rpc_client *c;
	struct async_call inflight;
	struct sub s;
	Rpc__UserReply *rep;
	Rpc__UserDeleteRequest del;

	memset(&ud, 0, sizeof(ud));
	memset(&s, 0, sizeof(s));
	c = connect_client(fx, true, 0, on_state, &ud);
	assert_int_equal(rpc_client_subscribe(c, true, NULL, 0, on_event, &s),
			 0);
	assert_true(harness_pump(fx->loop, &ud.up, 3000));
	assert_int_equal(get_user(c, 3, "before", &rep),
			 RPC__STATUS__STATUS_OK);
	rpc__user_reply__free_unpacked(rep, NULL);
	/* A call in flight when the mailbox goes away. */
	memset(&inflight, 0, sizeof(inflight));
	rpc__user_delete_request__init(&del);
	assert_int_equal(rpc_client_call(c, RPC__MSG_TYPE__MSG_USER_DELETE,
					 &del.base, 10000, async_done,
					 &inflight),
			 0);
	harness_idle(fx->loop, 20);
	harness_server_stop(&fx->hs, NULL);
	assert_true(harness_pump(fx->loop, &ud.down, 3000));
	assert_true(inflight.done);
	assert_int_equal(inflight.status, RPC__STATUS__STATUS_DISCONNECTED);
	assert_false(rpc_client_is_up(c));
	assert_true(rpc_client_error(c)[0] != '\0');
	/* While down, calls fail at once instead of waiting. */
	assert_int_equal(rpc_client_call(c, RPC__MSG_TYPE__MSG_USER_GET, NULL,
					 0, async_done, NULL),
			 -1);
	/* Let a retry or two fail against the missing socket. */
	harness_idle(fx->loop, 250);
	ud.up = false;
	assert_int_equal(start_server(fx), 0);
	assert_true(harness_pump(fx->loop, &ud.up, 5000));
	assert_int_equal(ud.ups, 2);
	assert_int_equal(get_user(c, 4, "after", &rep), RPC__STATUS__STATUS_OK);
	assert_string_equal(rep->info->login, "after");
	rpc__user_reply__free_unpacked(rep, NULL);
	/* The subscription was renewed on the new connection (the round
	 * trip above follows the Subscribe on the wire). */
	publish(fx->hs.server, 9, false, 1);
	publish(fx->hs.server, 9, false, 2);
	assert_true(harness_pump(fx->loop, &s.got2, 3000));
	assert_true(s.users[0] == 9 && s.modseq[1] == 2);
	rpc_client_free(&c);
}

/* ------------------------------------------------------------ addresses */

static void
test_addresses_and_socket_file(void **state)
{
	struct fixture *fx = *state;
	struct rpc_server_config cfg;
	struct rpc_server *s;
	struct net_addr a;
	struct stat st;
	const char *error = NULL;
	char addr[340], path[300];
	FILE *f;

	assert_int_equal(net_addr_parse("foo", &a, &error), -1);
	assert_string_equal(error,
			    "rpc_listen: expected unix:PATH or tcp:HOST:PORT");
	assert_int_equal(net_addr_parse("unix:", &a, &error), -1);
	assert_int_equal(net_addr_parse("tcp:host", &a, &error), -1);
	assert_int_equal(net_addr_parse("tcp:host:12x", &a, &error), -1);
	assert_int_equal(net_addr_parse("tcp:[::1]:4190", &a, &error), 0);
	assert_string_equal(a.host, "::1");
	assert_string_equal(a.port, "4190");
	assert_int_equal(net_addr_parse("tcp:127.0.0.1:4190", &a, &error), 0);
	assert_string_equal(a.host, "127.0.0.1");
	/* The running server's socket is 0660. */
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	/* No plaintext TCP. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = "tcp:127.0.0.1:0";
	assert_null(rpc_server_new(fx->loop, &cfg, handler, NULL, &error));
	assert_non_null(strstr(error, "tcp requires TLS"));
	/* A stale socket (the running server's, after it is gone without
	 * cleanup) is replaced; a regular file is not. */
	cfg.listen = fx->addr;
	s = rpc_server_new(fx->loop, &cfg, handler, NULL, &error);
	assert_non_null(s);
	rpc_server_free(&s);
	(void)snprintf(path, sizeof(path), "%s/file", fx->dir);
	(void)snprintf(addr, sizeof(addr), "unix:%s", path);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	cfg.listen = addr;
	assert_null(rpc_server_new(fx->loop, &cfg, handler, NULL, &error));
	assert_non_null(strstr(error, "not a socket"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sync_call, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_of_order_replies, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_reply_from_worker_thread,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chunked_reply, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_and_disconnect_status,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_type_and_oversize,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_before_hello_closed,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_version_mismatch_refused_by_server, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_version_mismatch_refused_by_client, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_handshake_timeout,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events_to_two_subscribers,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reconnect_after_server_restart,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_large_frames_both_ways, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_streamed_reply_with_flow_control, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_silent_peer_dropped_after_handshake_timeout, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_addresses_and_socket_file,
					    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
