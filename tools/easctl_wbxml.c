/*
 * easctl wbxml: WBXML <-> XML for people (proto/wbxml_xml.h).  Reads a
 * whole body from a file or standard input and writes the conversion to
 * standard output: `easctl wbxml decode < body.wbxml` shows what a client
 * sent, `easctl wbxml encode < body.xml` builds a body for a test.  Exit
 * status: 0 done, 1 bad input (the message names the byte offset or the
 * XML line), 2 usage.
 */
#include "tools/easctl.h"

#include "proto/buf.h"
#include "proto/wbxml_xml.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char wbxml_usage[] =
    "usage: easctl wbxml decode [FILE]   WBXML -> XML on standard output\n"
    "       easctl wbxml encode [FILE]   XML -> WBXML on standard output\n"
    "\n"
    "FILE defaults to standard input.  The XML puts every element in the\n"
    "namespace of its code page (<Sync xmlns=\"AirSync:\">, other pages\n"
    "with prefixes).  <X opaque=\"base64\">...</X> is opaque data,\n"
    "<?wbxml-opaque BASE64?> an opaque piece inside other content, and\n"
    "<?wbxml-hex 01 1f?> string bytes XML cannot hold (control\n"
    "characters, invalid UTF-8).  Decoding then encoding gives back the\n"
    "same bytes for canonical WBXML.\n"
    "Exit status: 0 ok, 1 bad input, 2 usage.\n";

static int
wbxml_read_all(FILE *in, const char *name, struct buf *b)
{
	uint8_t chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		if (buf_append(b, chunk, n) != 0) {
			fprintf(stderr,
				"easctl wbxml: %s: input larger than %zu "
				"bytes\n",
				name, b->max);
			return -1;
		}
	if (ferror(in)) {
		fprintf(stderr, "easctl wbxml: %s: read error\n", name);
		return -1;
	}
	return 0;
}

static int
wbxml_run(const struct easctl_ctx *ctx, int argc, char **argv)
{
	struct wbxml_xml_error err = {{0}};
	struct buf in, out;
	const char *name = "<stdin>";
	FILE *f = stdin;
	const uint8_t *data;
	bool decode;
	int ret = 1;

	(void)ctx;
	if (argc < 2 || argc > 3) {
		fputs(wbxml_usage, stderr);
		return 2;
	}
	if (strcmp(argv[1], "decode") == 0) {
		decode = true;
	} else if (strcmp(argv[1], "encode") == 0) {
		decode = false;
	} else {
		fprintf(stderr, "easctl wbxml: unknown action '%s'\n", argv[1]);
		fputs(wbxml_usage, stderr);
		return 2;
	}
	buf_init(&in, WBXML_XML_MAX_BYTES);
	buf_init(&out, WBXML_XML_MAX_BYTES);
	if (argc == 3 && strcmp(argv[2], "-") != 0) {
		name = argv[2];
		f = fopen(name, "rb");
		if (f == NULL) {
			fprintf(stderr, "easctl wbxml: %s: %s\n", name,
				strerror(errno));
			goto out;
		}
	}
	if (wbxml_read_all(f, name, &in) != 0)
		goto out;
	/* An empty input still needs a valid pointer. */
	data = in.len > 0 ? in.data : (const uint8_t *)"";
	if ((decode ? wbxml_xml_decode(data, in.len, &out, &err)
		    : wbxml_xml_encode(data, in.len, &out, &err)) != 0) {
		fprintf(stderr, "easctl wbxml %s: %s: %s\n", argv[1], name,
			err.msg);
		goto out;
	}
	if (fwrite(out.data, 1, out.len, stdout) != out.len ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "easctl wbxml: write error: %s\n",
			strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (f != NULL && f != stdin)
		fclose(f);
	buf_free(&out);
	buf_free(&in);
	return ret;
}

static const struct easctl_command wbxml_command = {
    .name = "wbxml",
    .summary = "wbxml decode|encode [FILE]: WBXML <-> XML",
    .usage = wbxml_usage,
    .run = wbxml_run,
};

EASCTL_COMMAND(wbxml_command)
