/*
 * Framing of the internal RPC (CAS/easctl <-> mailbox), without sockets.
 * A frame on the wire is
 *
 *   u32 length   big-endian: bytes that follow (header + payload)
 *   u16 type     big-endian: enum Rpc__MsgType (proto/rpc.proto)
 *   u8  flags    RPC_FLAG_REPLY | RPC_FLAG_EVENT | RPC_FLAG_LAST
 *   u8  reserved must be 0
 *   u64 id       big-endian request id; a reply echoes it, events use 0
 *   payload      one protobuf message, chosen by (type, reply flag)
 *
 * Replies may come back in any order and many requests share a connection:
 * the id is what matches them.  A streamed reply is several frames with the
 * same id, the last one flagged RPC_FLAG_LAST; a single reply carries
 * RPC_FLAG_LAST too.  The length is checked against RPC_MAX_FRAME_BYTES
 * (proto/limits.h) before anything is allocated or waited for.  The
 * message table (rpc_msg_*) maps a type to its request and reply
 * descriptors; it is what both the server and the fuzz target use.
 */
#ifndef EASD_PROTO_RPC_FRAME_H
#define EASD_PROTO_RPC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/rpc.pb-c.h"

/* Bumped on any incompatible change of rpc.proto or of this framing; the
 * Hello handshake refuses a peer with another version. */
#define RPC_PROTOCOL_VERSION 1u

#define RPC_FRAME_LENGTH_BYTES 4u
#define RPC_FRAME_HEADER_BYTES 12u /* type, flags, reserved, id */

#define RPC_FLAG_REPLY 0x01u
#define RPC_FLAG_EVENT 0x02u
#define RPC_FLAG_LAST 0x04u
#define RPC_FLAGS_KNOWN (RPC_FLAG_REPLY | RPC_FLAG_EVENT | RPC_FLAG_LAST)

/* A decoded frame; payload points into the decoder's input. */
struct rpc_frame {
	uint16_t type;
	uint8_t flags;
	uint64_t id;
	const uint8_t *payload;
	size_t payload_len;
};

enum rpc_frame_result {
	RPC_FRAME_ERROR = -1,
	RPC_FRAME_NEED_MORE = 0,
	RPC_FRAME_OK = 1,
};

/*
 * Decode one frame from [*pos, end).  On RPC_FRAME_OK *pos moves past the
 * frame and frame_r points into the input.  RPC_FRAME_NEED_MORE leaves *pos
 * alone (an incomplete frame); need_r, when not NULL, gets the total bytes
 * the frame needs so a reader can reserve them (already checked against
 * the limit).  RPC_FRAME_ERROR means the stream is unusable (length over
 * the limit or under the header, unknown flags, non-zero reserved byte);
 * error_r says why.
 */
enum rpc_frame_result rpc_frame_decode(const uint8_t **pos, const uint8_t *end,
				       struct rpc_frame *frame_r,
				       size_t *need_r, const char **error_r);

/* Append a frame carrying payload to out.  -1 if it would exceed
 * RPC_MAX_FRAME_BYTES or out's maximum. */
int rpc_frame_encode(struct buf *out, uint16_t type, uint8_t flags, uint64_t id,
		     const uint8_t *payload, size_t payload_len);

/* Append a frame carrying the packed message (msg may be NULL: empty
 * payload).  -1 if it would exceed the limit or out's maximum. */
int rpc_frame_encode_msg(struct buf *out, uint16_t type, uint8_t flags,
			 uint64_t id, const ProtobufCMessage *msg);

/* The message descriptor for a frame type: the reply's when reply is
 * true.  NULL for an unknown type. */
const ProtobufCMessageDescriptor *rpc_msg_descriptor(uint16_t type, bool reply);
/* "FolderSync" etc. for logs; "unknown" for an unknown type. */
const char *rpc_msg_name(uint16_t type);
/* Unpack a frame's payload with the table; NULL if the type is unknown or
 * the payload is malformed.  Free with protobuf_c_message_free_unpacked. */
ProtobufCMessage *rpc_msg_unpack(const struct rpc_frame *frame);
/* Fetch the `status` field (field number 1) of a reply message, or
 * RPC__STATUS__STATUS_UNSPECIFIED if it has none. */
Rpc__Status rpc_msg_status(const ProtobufCMessage *msg);

#endif
