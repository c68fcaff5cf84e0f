/*
 * Strict base64 decoding (RFC 4648 section 4 alphabet) for network input:
 * the MS-ASHTTP base64 query value and, later, other short base64 fields.
 * No whitespace, no line breaks, padding only at the end; unpadded input
 * is accepted because URL producers sometimes strip '='.  Decoding writes
 * into a caller-provided buffer whose size bounds the output.
 */
#ifndef EASD_PROTO_BASE64_H
#define EASD_PROTO_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed to decode len characters (an upper bound). */
#define BASE64_DECODED_MAX(len) (((len) + 3) / 4 * 3)

/*
 * Decode in[0..len) into out (capacity out_cap).  Returns 0 and the decoded
 * length in *out_len_r, or -1 on an invalid character, misplaced padding,
 * an impossible length (len % 4 == 1) or insufficient capacity.
 */
int base64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
		  size_t *out_len_r);

/*
 * Encode in[0..len) with padding into out (capacity out_cap, which must
 * hold 4 * ceil(len / 3) + 1 bytes for the NUL).  Returns 0 or -1.
 */
int base64_encode(const uint8_t *in, size_t len, char *out, size_t out_cap);

#endif
