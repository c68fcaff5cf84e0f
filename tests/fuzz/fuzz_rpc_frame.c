/*
 * libFuzzer target for the RPC frame decoder and the protobuf-c unpack of
 * every message: the input is decoded as a stream of frames; each frame's
 * payload is unpacked as the message its header names, and also as the
 * request and the reply of every type (a peer may lie about the type).  The
 * raw input is unpacked as every message too, so the protobuf-c decoder is
 * exercised even when no frame header parses.
 */
#include <stddef.h>
#include <stdint.h>

#include "proto/rpc_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Message types to try, beyond the last known one (unknown types). */
#define FUZZ_TYPES (RPC__MSG_TYPE__MSG_EVENT + 2)

static void
unpack_all(const uint8_t *p, size_t len)
{
	unsigned t;
	int reply;

	for (t = 0; t < FUZZ_TYPES; t++) {
		for (reply = 0; reply < 2; reply++) {
			const ProtobufCMessageDescriptor *d =
			    rpc_msg_descriptor((uint16_t)t, reply != 0);
			ProtobufCMessage *m;

			if (d == NULL)
				continue;
			m = protobuf_c_message_unpack(d, NULL, len, p);
			if (m != NULL) {
				(void)rpc_msg_status(m);
				/* Re-pack what was accepted. */
				(void)protobuf_c_message_get_packed_size(m);
				protobuf_c_message_free_unpacked(m, NULL);
			}
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *pos = data, *end = data + size;
	const char *error = NULL;
	struct rpc_frame f;
	size_t need;

	while (rpc_frame_decode(&pos, end, &f, &need, &error) == RPC_FRAME_OK) {
		ProtobufCMessage *m = rpc_msg_unpack(&f);

		(void)rpc_msg_name(f.type);
		if (m != NULL)
			protobuf_c_message_free_unpacked(m, NULL);
		unpack_all(f.payload, f.payload_len);
	}
	if (size <= 4096)
		unpack_all(data, size);
	return 0;
}
