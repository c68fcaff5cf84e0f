/*
 * libFuzzer target for proto/autodiscover.c: every input goes through both
 * network parsers (the POX request body and the v2 JSON request target).
 * Whatever they accept is fed to the builders, and the input itself is used
 * as a hostile display name, DebugData and protocol value; each built XML
 * document must re-read as well-formed with the input's text intact, and
 * each JSON document must hold no raw control character.  A violation
 * aborts, so the fuzzer reports it as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "proto/autodiscover.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_url[] =
    "https://mail.example.org/Microsoft-Server-ActiveSync";

static void
fuzz_check_xml(const struct buf *out)
{
	xmlDocPtr doc;

	doc = xmlReadMemory((const char *)out->data, (int)out->len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR |
				XML_PARSE_NOWARNING);
	if (doc == NULL)
		abort();
	xmlFreeDoc(doc);
}

static void
fuzz_check_json(const struct buf *out)
{
	for (size_t i = 0; i < out->len; i++)
		if (out->data[i] < 0x20)
			abort();
}

static void
fuzz_pox(const uint8_t *data, size_t size, const char *text)
{
	struct autodiscover_request req;
	char addr[AUTODISCOVER_MAX_ADDRESS_BYTES + 1];
	struct autodiscover_user user = {
	    .email = addr,
	    .display_name = text,
	    .culture = text,
	};
	struct autodiscover_error err = {
	    .code = AUTODISCOVER_ERROR_INVALID_REQUEST,
	    .debug_data = NULL,
	    .time = (time_t)size,
	    .server_id = 7,
	};
	struct buf out;

	buf_init(&out, AUTODISCOVER_MAX_RESPONSE_BYTES);
	if (autodiscover_request_parse(data, size, &req) != 0) {
		/* a failure carries a status and a reason, nothing else */
		if (req.status == AUTODISCOVER_OK || req.error[0] == '\0' ||
		    req.email[0] != '\0')
			abort();
		err.schema = AUTODISCOVER_SCHEMA_OTHER;
		err.debug_data = req.error;
		if (autodiscover_build_error(&out, &err) != 0)
			abort();
		fuzz_check_xml(&out);
		goto out;
	}
	if (req.email[0] != '\0' && !autodiscover_address_valid(req.email))
		abort();
	if (autodiscover_pick_address(req.email, text, "example.org", addr,
				      sizeof(addr)) == 0) {
		if (autodiscover_build_settings(&out, &user, fuzz_url) == 0)
			fuzz_check_xml(&out);
		buf_reset(&out);
		if (autodiscover_build_redirect(&out, &user, addr) == 0)
			fuzz_check_xml(&out);
		buf_reset(&out);
	}
	err.schema = req.schema;
	err.debug_data = text;
	if (autodiscover_build_error(&out, &err) == 0)
		fuzz_check_xml(&out);
out:
	buf_free(&out);
}

static void
fuzz_json(const uint8_t *data, size_t size, const char *text)
{
	struct autodiscover_json_request req;
	const char *error = NULL;
	unsigned status = 0;
	struct buf out;

	buf_init(&out, AUTODISCOVER_MAX_RESPONSE_BYTES);
	if (autodiscover_json_parse((const char *)data, size, &req, &error) ==
	    0) {
		if (autodiscover_json_build(&out, req.email, req.protocol,
					    fuzz_url, &status) != 0 ||
		    (status != 200 && status != 400))
			abort();
		fuzz_check_json(&out);
	} else if (error == NULL) {
		abort();
	}
	buf_reset(&out);
	/* the whole input as a protocol value and as an address */
	if (autodiscover_json_build(&out, text, text, fuzz_url, &status) == 0)
		fuzz_check_json(&out);
	buf_reset(&out);
	if (autodiscover_json_escape(&out, text) == 0)
		fuzz_check_json(&out);
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	/* bigger inputs only exercise the size check */
	if (size > 2 * AUTODISCOVER_MAX_BODY_BYTES)
		size = 2 * AUTODISCOVER_MAX_BODY_BYTES;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	fuzz_pox(data, size, text);
	fuzz_json(data, size, text);
	free(text);
	return 0;
}
