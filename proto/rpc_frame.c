/*
 * Frame encoder and decoder of the internal RPC (format in rpc_frame.h).
 * The decoder is the first code that touches bytes from a peer: it reads
 * only inside [pos, end) and rejects an announced length over
 * RPC_MAX_FRAME_BYTES before a reader would reserve room for it.
 */
#include "proto/rpc_frame.h"

#include <string.h>

#include "proto/limits.h"

static uint32_t
get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static uint64_t
get_be64(const uint8_t *p)
{
	return ((uint64_t)get_be32(p) << 32) | get_be32(p + 4);
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

enum rpc_frame_result
rpc_frame_decode(const uint8_t **pos, const uint8_t *end,
		 struct rpc_frame *frame_r, size_t *need_r,
		 const char **error_r)
{
	const uint8_t *p = *pos;
	size_t avail = (size_t)(end - p);
	uint32_t len;

	if (need_r != NULL)
		*need_r = RPC_FRAME_LENGTH_BYTES + RPC_FRAME_HEADER_BYTES;
	if (avail < RPC_FRAME_LENGTH_BYTES)
		return RPC_FRAME_NEED_MORE;
	len = get_be32(p);
	/* Bound first: a huge length is an error now, not a wait. */
	if (len > RPC_MAX_FRAME_BYTES) {
		*error_r = "rpc frame: length over RPC_MAX_FRAME_BYTES";
		return RPC_FRAME_ERROR;
	}
	if (len < RPC_FRAME_HEADER_BYTES) {
		*error_r = "rpc frame: length shorter than the header";
		return RPC_FRAME_ERROR;
	}
	if (need_r != NULL)
		*need_r = RPC_FRAME_LENGTH_BYTES + (size_t)len;
	if (avail - RPC_FRAME_LENGTH_BYTES < len)
		return RPC_FRAME_NEED_MORE;
	p += RPC_FRAME_LENGTH_BYTES;
	if ((p[2] & ~RPC_FLAGS_KNOWN) != 0) {
		*error_r = "rpc frame: unknown flags";
		return RPC_FRAME_ERROR;
	}
	if (p[3] != 0) {
		*error_r = "rpc frame: reserved byte not zero";
		return RPC_FRAME_ERROR;
	}
	frame_r->type = (uint16_t)((p[0] << 8) | p[1]);
	frame_r->flags = p[2];
	frame_r->id = get_be64(p + 4);
	frame_r->payload = p + RPC_FRAME_HEADER_BYTES;
	frame_r->payload_len = len - RPC_FRAME_HEADER_BYTES;
	*pos = p + len;
	return RPC_FRAME_OK;
}

static int
frame_header(struct buf *out, uint16_t type, uint8_t flags, uint64_t id,
	     size_t payload_len, size_t *start_r)
{
	uint8_t hdr[RPC_FRAME_LENGTH_BYTES + RPC_FRAME_HEADER_BYTES];

	if (payload_len > RPC_MAX_FRAME_BYTES - RPC_FRAME_HEADER_BYTES)
		return -1;
	if ((flags & ~RPC_FLAGS_KNOWN) != 0)
		return -1;
	put_be32(hdr, (uint32_t)(RPC_FRAME_HEADER_BYTES + payload_len));
	hdr[4] = (uint8_t)(type >> 8);
	hdr[5] = (uint8_t)type;
	hdr[6] = flags;
	hdr[7] = 0;
	put_be64(hdr + 8, id);
	if (buf_reserve(out, sizeof(hdr) + payload_len) < 0)
		return -1;
	*start_r = out->len;
	return buf_append(out, hdr, sizeof(hdr));
}

int
rpc_frame_encode(struct buf *out, uint16_t type, uint8_t flags, uint64_t id,
		 const uint8_t *payload, size_t payload_len)
{
	size_t start;

	if (frame_header(out, type, flags, id, payload_len, &start) < 0)
		return -1;
	if (payload_len > 0 && buf_append(out, payload, payload_len) < 0) {
		out->len = start;
		return -1;
	}
	return 0;
}

int
rpc_frame_encode_msg(struct buf *out, uint16_t type, uint8_t flags, uint64_t id,
		     const ProtobufCMessage *msg)
{
	size_t len = msg != NULL ? protobuf_c_message_get_packed_size(msg) : 0;
	size_t start;

	if (frame_header(out, type, flags, id, len, &start) < 0)
		return -1;
	/* frame_header reserved the room: pack in place, no copy. */
	if (len > 0) {
		protobuf_c_message_pack(msg, out->data + out->len);
		out->len += len;
		out->data[out->len] = 0;
	}
	return 0;
}
