/* Unit tests for proto/rpc_frame.c and proto/rpc_msg.c: frames survive
 * every split of the byte stream, bad lengths are refused before anything
 * is allocated or awaited, and the message table maps types both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto/limits.h"
#include "proto/rpc_frame.h"

/* Three frames of different shapes in one stream. */
static void
make_stream(struct buf *b)
{
	Rpc__UserGetRequest req;
	Rpc__FetchReply rep;
	static const uint8_t chunk[] = "attachment-bytes";

	rpc__user_get_request__init(&req);
	req.user = 42;
	req.login = (char *)"alice@example.org";
	assert_int_equal(rpc_frame_encode_msg(b, RPC__MSG_TYPE__MSG_USER_GET, 0,
					      7, &req.base),
			 0);
	rpc__fetch_reply__init(&rep);
	rep.status = RPC__STATUS__STATUS_OK;
	rep.offset = 1u << 20;
	rep.chunk.data = (uint8_t *)(uintptr_t)chunk;
	rep.chunk.len = sizeof(chunk);
	assert_int_equal(rpc_frame_encode_msg(b, RPC__MSG_TYPE__MSG_FETCH,
					      RPC_FLAG_REPLY, UINT64_MAX - 1,
					      &rep.base),
			 0);
	/* An empty payload is a valid frame (all-default message). */
	assert_int_equal(rpc_frame_encode(b, RPC__MSG_TYPE__MSG_EVENT,
					  RPC_FLAG_EVENT, 0, NULL, 0),
			 0);
}

static void
check_frames(const struct rpc_frame *f, size_t n)
{
	ProtobufCMessage *m;
	Rpc__UserGetRequest *req;
	Rpc__FetchReply *rep;

	assert_int_equal(n, 3);
	assert_int_equal(f[0].type, RPC__MSG_TYPE__MSG_USER_GET);
	assert_int_equal(f[0].flags, 0);
	assert_true(f[0].id == 7);
	m = rpc_msg_unpack(&f[0]);
	assert_non_null(m);
	assert_ptr_equal(m->descriptor, &rpc__user_get_request__descriptor);
	req = (Rpc__UserGetRequest *)m;
	assert_true(req->user == 42);
	assert_string_equal(req->login, "alice@example.org");
	protobuf_c_message_free_unpacked(m, NULL);

	assert_int_equal(f[1].flags, RPC_FLAG_REPLY);
	assert_true(f[1].id == UINT64_MAX - 1);
	m = rpc_msg_unpack(&f[1]);
	assert_non_null(m);
	rep = (Rpc__FetchReply *)m;
	assert_int_equal(rpc_msg_status(m), RPC__STATUS__STATUS_OK);
	assert_true(rep->offset == 1u << 20);
	assert_int_equal(rep->chunk.len, sizeof("attachment-bytes"));
	assert_memory_equal(rep->chunk.data, "attachment-bytes",
			    rep->chunk.len);
	protobuf_c_message_free_unpacked(m, NULL);

	assert_int_equal(f[2].type, RPC__MSG_TYPE__MSG_EVENT);
	assert_int_equal(f[2].payload_len, 0);
}

/* Feed the stream in pieces of at most step bytes, as a socket would,
 * keeping an unconsumed tail like net/conn.c does. */
static void
decode_in_steps(const struct buf *stream, size_t step)
{
	struct rpc_frame frames[3];
	uint8_t *acc = malloc(stream->len);
	size_t have = 0, fed = 0, n = 0;

	assert_non_null(acc);
	while (fed < stream->len) {
		size_t take =
		    stream->len - fed < step ? stream->len - fed : step;
		const uint8_t *pos;
		const char *error = NULL;
		struct rpc_frame f;
		enum rpc_frame_result r;

		memcpy(acc + have, stream->data + fed, take);
		have += take;
		fed += take;
		pos = acc;
		while ((r = rpc_frame_decode(&pos, acc + have, &f, NULL,
					     &error)) == RPC_FRAME_OK) {
			assert_true(n < 3);
			/* Copy out: the accumulator is compacted below. */
			frames[n] = f;
			frames[n].payload = malloc(f.payload_len + 1);
			memcpy((uint8_t *)(uintptr_t)frames[n].payload,
			       f.payload, f.payload_len);
			n++;
		}
		assert_int_equal(r, RPC_FRAME_NEED_MORE);
		memmove(acc, pos, (size_t)(acc + have - pos));
		have = (size_t)(acc + have - pos);
	}
	assert_int_equal(have, 0);
	check_frames(frames, n);
	while (n > 0)
		free((void *)(uintptr_t)frames[--n].payload);
	free(acc);
}

static void
test_every_split(void **state)
{
	struct buf b;
	size_t step;

	(void)state;
	buf_init(&b, 1u << 20);
	make_stream(&b);
	/* Byte by byte, then every chunk size up to the whole stream. */
	for (step = 1; step <= b.len; step++)
		decode_in_steps(&b, step);
	buf_free(&b);
}

static void
test_need_more_reports_size(void **state)
{
	struct buf b;
	struct rpc_frame f;
	const uint8_t *pos;
	const char *error = NULL;
	size_t need = 0;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(rpc_frame_encode(&b, RPC__MSG_TYPE__MSG_USER_LIST, 0,
					  1, (const uint8_t *)"abc", 3),
			 0);
	pos = b.data;
	assert_int_equal(rpc_frame_decode(&pos, b.data + 2, &f, &need, &error),
			 RPC_FRAME_NEED_MORE);
	assert_int_equal(rpc_frame_decode(&pos, b.data + 5, &f, &need, &error),
			 RPC_FRAME_NEED_MORE);
	assert_int_equal(need, b.len);
	assert_ptr_equal(pos, b.data);
	assert_int_equal(
	    rpc_frame_decode(&pos, b.data + b.len, &f, &need, &error),
	    RPC_FRAME_OK);
	assert_ptr_equal(pos, b.data + b.len);
	assert_int_equal(f.payload_len, 3);
	buf_free(&b);
}

static void
test_oversize_refused_from_length_alone(void **state)
{
	/* Only the 4 length bytes arrived: an over-limit length is an
	 * error now, not a wait for 4 GiB or an allocation. */
	static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff};
	uint8_t over[4];
	const uint32_t len = RPC_MAX_FRAME_BYTES + 1;
	const uint8_t *pos = huge;
	const char *error = NULL;
	struct rpc_frame f;
	size_t need = 0;

	(void)state;
	assert_int_equal(rpc_frame_decode(&pos, huge + 4, &f, &need, &error),
			 RPC_FRAME_ERROR);
	assert_ptr_equal(pos, huge);
	assert_non_null(strstr(error, "RPC_MAX_FRAME_BYTES"));
	over[0] = (uint8_t)(len >> 24);
	over[1] = (uint8_t)(len >> 16);
	over[2] = (uint8_t)(len >> 8);
	over[3] = (uint8_t)len;
	pos = over;
	assert_int_equal(rpc_frame_decode(&pos, over + 4, &f, &need, &error),
			 RPC_FRAME_ERROR);
}

static void
test_bad_headers(void **state)
{
	/* length 11 (< header), then length 12 with bad flags/reserved */
	static const uint8_t short_len[] = {0, 0, 0, 11};
	static const uint8_t bad_flags[] = {0, 0, 0, 12, 0, 1, 0x80, 0,
					    0, 0, 0, 0,  0, 0, 0,    1};
	static const uint8_t bad_reserved[] = {0, 0, 0, 12, 0, 1, 0, 1,
					       0, 0, 0, 0,  0, 0, 0, 1};
	static const uint8_t good[] = {0, 0, 0, 12, 0, 1, 0, 0,
				       0, 0, 0, 0,  0, 0, 0, 1};
	const uint8_t *pos;
	const char *error = NULL;
	struct rpc_frame f;

	(void)state;
	pos = short_len;
	assert_int_equal(
	    rpc_frame_decode(&pos, short_len + 4, &f, NULL, &error),
	    RPC_FRAME_ERROR);
	pos = bad_flags;
	assert_int_equal(rpc_frame_decode(&pos, bad_flags + sizeof(bad_flags),
					  &f, NULL, &error),
			 RPC_FRAME_ERROR);
	pos = bad_reserved;
	assert_int_equal(rpc_frame_decode(&pos,
					  bad_reserved + sizeof(bad_reserved),
					  &f, NULL, &error),
			 RPC_FRAME_ERROR);
	pos = good;
	assert_int_equal(
	    rpc_frame_decode(&pos, good + sizeof(good), &f, NULL, &error),
	    RPC_FRAME_OK);
	assert_int_equal(f.type, RPC__MSG_TYPE__MSG_HELLO);
	assert_true(f.id == 1);
}

static void
test_encode_limits(void **state)
{
	struct buf b;
	uint8_t *big;
	size_t len = RPC_MAX_FRAME_BYTES - RPC_FRAME_HEADER_BYTES + 1;

	(void)state;
	big = calloc(1, len);
	assert_non_null(big);
	buf_init(&b, 2u * RPC_MAX_FRAME_BYTES);
	assert_int_equal(rpc_frame_encode(&b, 1, 0, 1, big, len), -1);
	assert_int_equal(b.len, 0);
	assert_int_equal(rpc_frame_encode(&b, 1, 0, 1, big, len - 1), 0);
	assert_int_equal(b.len, RPC_FRAME_LENGTH_BYTES + RPC_MAX_FRAME_BYTES);
	/* Unknown flags are never written. */
	assert_int_equal(rpc_frame_encode(&b, 1, 0x40, 1, NULL, 0), -1);
	buf_free(&b);
	/* A buffer with a small maximum refuses and keeps its content. */
	buf_init(&b, 30);
	assert_int_equal(rpc_frame_encode(&b, 1, 0, 1, big, 8), 0);
	assert_int_equal(rpc_frame_encode(&b, 1, 0, 1, big, 8), -1);
	assert_int_equal(b.len, 16 + 8);
	buf_free(&b);
	free(big);
}

static void
test_message_table(void **state)
{
	struct rpc_frame f;
	unsigned t;

	(void)state;
	assert_ptr_equal(
	    rpc_msg_descriptor(RPC__MSG_TYPE__MSG_GET_CHANGES, false),
	    &rpc__get_changes_request__descriptor);
	assert_ptr_equal(
	    rpc_msg_descriptor(RPC__MSG_TYPE__MSG_GET_CHANGES, true),
	    &rpc__get_changes_reply__descriptor);
	assert_string_equal(rpc_msg_name(RPC__MSG_TYPE__MSG_FOLDER_SYNC),
			    "FolderSync");
	/* Unknown types: no descriptor, no unpack, a readable name. */
	assert_null(rpc_msg_descriptor(0, false));
	assert_null(rpc_msg_descriptor(999, true));
	assert_string_equal(rpc_msg_name(999), "unknown");
	memset(&f, 0, sizeof(f));
	f.type = 999;
	assert_null(rpc_msg_unpack(&f));
	/* Every known type has both messages, and every reply carries the
	 * shared Status as field 1 (clients rely on it). */
	for (t = 1; t < RPC__MSG_TYPE__MSG_EVENT; t++) {
		const ProtobufCMessageDescriptor *d = rpc_msg_descriptor(t, 1);
		const ProtobufCFieldDescriptor *fd;

		assert_non_null(rpc_msg_descriptor(t, 0));
		assert_non_null(d);
		fd = protobuf_c_message_descriptor_get_field(d, 1);
		assert_non_null(fd);
		assert_ptr_equal(fd->descriptor, &rpc__status__descriptor);
	}
}

static void
test_malformed_payload(void **state)
{
	/* Field 2 (string) announcing more bytes than follow. */
	static const uint8_t bad[] = {0x12, 0x40, 'a'};
	struct rpc_frame f;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.type = RPC__MSG_TYPE__MSG_USER_GET;
	f.payload = bad;
	f.payload_len = sizeof(bad);
	assert_null(rpc_msg_unpack(&f));
	assert_int_equal(rpc_msg_status(NULL), RPC__STATUS__STATUS_UNSPECIFIED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_split),
	    cmocka_unit_test(test_need_more_reports_size),
	    cmocka_unit_test(test_oversize_refused_from_length_alone),
	    cmocka_unit_test(test_bad_headers),
	    cmocka_unit_test(test_encode_limits),
	    cmocka_unit_test(test_message_table),
	    cmocka_unit_test(test_malformed_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
