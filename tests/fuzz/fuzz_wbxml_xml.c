/*
 * libFuzzer target for proto/wbxml_xml.c, both directions on every input:
 * the bytes as XML (encode) and as WBXML (decode).  Besides "no crash, no
 * leak, no read past the end", it checks the round-trip promise of
 * wbxml_xml.h: whatever encode produces is canonical, so decoding it to
 * XML and encoding again gives the same bytes; and whatever decode
 * produces encodes again, after which the round trip is exact.  Inputs are
 * bounded so one run stays fast.
 */
#include "proto/buf.h"
#include "proto/wbxml_xml.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Larger inputs teach the fuzzer nothing new about the converter. */
#define FUZZ_MAX_INPUT_BYTES (256u * 1024u)
#define FUZZ_MAX_OUTPUT_BYTES (8u * 1024u * 1024u)

static void
fuzz_fail(const char *what, const char *msg)
{
	fprintf(stderr, "fuzz_wbxml_xml: %s: %s\n", what, msg);
	abort();
}

/* w is canonical WBXML: decode, encode, and expect the same bytes. */
static void
fuzz_check_canonical(const struct buf *w)
{
	struct wbxml_xml_error err;
	struct buf x, w2;

	buf_init(&x, FUZZ_MAX_OUTPUT_BYTES);
	buf_init(&w2, FUZZ_MAX_OUTPUT_BYTES);
	if (wbxml_xml_decode(w->data, w->len, &x, &err) != 0) {
		/* Only our own output bound may stop it. */
		if (strstr(err.msg, "too large") == NULL)
			fuzz_fail("decode of our own encoding", err.msg);
	} else if (wbxml_xml_encode(x.data, x.len, &w2, &err) != 0) {
		if (strstr(err.msg, "output buffer") == NULL)
			fuzz_fail("re-encode of decoded XML", err.msg);
	} else if (w2.len != w->len || memcmp(w2.data, w->data, w->len) != 0) {
		fuzz_fail("round trip", "WBXML -> XML -> WBXML not exact");
	}
	buf_free(&w2);
	buf_free(&x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wbxml_xml_error err;
	struct buf w, x, w2;

	if (size > FUZZ_MAX_INPUT_BYTES)
		return 0;
	buf_init(&w, FUZZ_MAX_OUTPUT_BYTES);
	buf_init(&x, FUZZ_MAX_OUTPUT_BYTES);
	buf_init(&w2, FUZZ_MAX_OUTPUT_BYTES);

	/* The input as XML. */
	if (wbxml_xml_encode(data, size, &w, &err) == 0)
		fuzz_check_canonical(&w);

	/* The input as WBXML: what decodes must encode again. */
	if (wbxml_xml_decode(data, size, &x, &err) == 0) {
		if (wbxml_xml_encode(x.data, x.len, &w2, &err) != 0) {
			if (strstr(err.msg, "output buffer") == NULL)
				fuzz_fail("encode of decoded XML", err.msg);
		} else {
			fuzz_check_canonical(&w2);
		}
	}
	buf_free(&w2);
	buf_free(&x);
	buf_free(&w);
	return 0;
}
