/*
 * Strict base64 (see base64.h).  Table-free: the value of a character is
 * computed by range checks, which keeps the decoder short and obviously
 * bounded: every output byte is written after a capacity check.
 */
#include "proto/base64.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
base64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
base64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
	      size_t *out_len_r)
{
	uint32_t acc = 0;
	size_t i, n = 0, pad = 0, data_len;
	unsigned bits = 0;
	int v;

	/* Padding: at most two '=' and only as a 4-aligned tail. */
	while (pad < len && pad < 2 && in[len - 1 - pad] == '=')
		pad++;
	if (pad > 0 && len % 4 != 0)
		return -1;
	data_len = len - pad;
	if (data_len % 4 == 1)
		return -1;
	for (i = 0; i < data_len; i++) {
		v = base64_value(in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= out_cap)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1u;
		}
	}
	*out_len_r = n;
	return 0;
}

int
base64_encode(const uint8_t *in, size_t len, char *out, size_t out_cap)
{
	size_t i, n = 0;
	uint32_t triple;

	if (out_cap < (len + 2) / 3 * 4 + 1)
		return -1;
	for (i = 0; i + 2 < len; i += 3) {
		triple = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			 in[i + 2];
		out[n++] = base64_alphabet[(triple >> 18) & 63];
		out[n++] = base64_alphabet[(triple >> 12) & 63];
		out[n++] = base64_alphabet[(triple >> 6) & 63];
		out[n++] = base64_alphabet[triple & 63];
	}
	if (i < len) {
		triple = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			triple |= (uint32_t)in[i + 1] << 8;
		out[n++] = base64_alphabet[(triple >> 18) & 63];
		out[n++] = base64_alphabet[(triple >> 12) & 63];
		out[n++] =
		    i + 1 < len ? base64_alphabet[(triple >> 6) & 63] : '=';
		out[n++] = '=';
	}
	out[n] = '\0';
	return 0;
}
