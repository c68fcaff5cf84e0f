/*
 * libFuzzer target for the streaming WBXML decoder (proto/wbxml_dec.c):
 * pulls every event to the end of the document or the first error, and
 * checks the decoder's promises on the way: content points inside the
 * input, STR_I content is NUL-terminated in place, depth stays within
 * WBXML_MAX_DEPTH, offsets only grow, and errors are sticky.
 */
#include <stdint.h>
#include <stdlib.h>

#include "proto/wbxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wbxml_dec d;
	struct wbxml_event ev;
	size_t last_offset = 0;
	char name[64];

	if (wbxml_dec_init(&d, data, size) < 0)
		return 0;
	/* Each event consumes at least one byte: size + 1 calls suffice. */
	for (size_t i = 0; i <= size; i++) {
		if (wbxml_dec_next(&d, &ev) < 0) {
			size_t offset;

			if (wbxml_dec_error(&d, &offset) == WBXML_ERR_NONE ||
			    offset > size || wbxml_dec_next(&d, &ev) != -1)
				abort();
			return 0;
		}
		if (ev.type == WBXML_EV_EOD)
			return 0;
		if (ev.offset < last_offset || ev.offset >= size)
			abort();
		last_offset = ev.offset;
		switch (ev.type) {
		case WBXML_EV_START:
		case WBXML_EV_END:
			if (ev.depth == 0 || ev.depth > WBXML_MAX_DEPTH)
				abort();
			wbxml_tag_describe(ev.tag, name, sizeof(name));
			break;
		case WBXML_EV_STR:
			if (ev.data < data || ev.data + ev.len >= data + size ||
			    ev.data[ev.len] != 0)
				abort();
			break;
		case WBXML_EV_OPAQUE:
			if (ev.data < data || ev.data + ev.len > data + size)
				abort();
			break;
		case WBXML_EV_EOD:
			break;
		}
	}
	abort(); /* the decoder did not terminate */
}
