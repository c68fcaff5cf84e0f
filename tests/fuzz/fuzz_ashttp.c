/*
 * libFuzzer target for proto/ashttp.c.  The input is split at '\n' into
 * the raw query followed by up to four header values in the order
 * MS-ASProtocolVersion, X-MS-PolicyKey, MS-ASAcceptMultiPart, User-Agent;
 * a missing line means an absent header.  The query is copied into an
 * exact-size heap buffer so that ASan sees any read past its end.  A
 * successful parse must leave NUL-terminated, control-free fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ashttp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_HEADERS 4

static void
fuzz_check_text(const char *field, size_t cap)
{
	size_t len = strnlen(field, cap);
	size_t i;

	if (len >= cap)
		abort();
	for (i = 0; i < len; i++) {
		if ((unsigned char)field[i] < 0x20)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *hdr[FUZZ_HEADERS] = {NULL};
	struct ashttp_headers h;
	struct ashttp_request req;
	struct ashttp_error err;
	const uint8_t *nl, *end = data + size;
	uint8_t *query;
	size_t qlen, i;

	nl = memchr(data, '\n', size);
	qlen = nl != NULL ? (size_t)(nl - data) : size;
	query = malloc(qlen > 0 ? qlen : 1);
	if (query == NULL)
		return 0;
	if (qlen > 0)
		memcpy(query, data, qlen);
	for (i = 0; i < FUZZ_HEADERS && nl != NULL; i++) {
		const uint8_t *start = nl + 1;
		size_t len;

		nl = memchr(start, '\n', (size_t)(end - start));
		len = nl != NULL ? (size_t)(nl - start) : (size_t)(end - start);
		hdr[i] = malloc(len + 1);
		if (hdr[i] == NULL)
			goto out;
		memcpy(hdr[i], start, len);
		hdr[i][len] = '\0';
	}
	h.protocol_version = hdr[0];
	h.policy_key = hdr[1];
	h.accept_multipart = hdr[2];
	h.user_agent = hdr[3];
	if (ashttp_parse(query, qlen, &h, &req, &err) == 0) {
		if (req.cmd == NULL || req.device_id[0] == '\0' ||
		    req.device_type[0] == '\0' ||
		    !eas_cmd_in_version(req.cmd, req.version))
			abort();
		fuzz_check_text(req.user, sizeof(req.user));
		fuzz_check_text(req.device_id, sizeof(req.device_id));
		fuzz_check_text(req.device_type, sizeof(req.device_type));
		fuzz_check_text(req.item_id, sizeof(req.item_id));
		fuzz_check_text(req.long_id, sizeof(req.long_id));
		fuzz_check_text(req.user_agent, sizeof(req.user_agent));
	} else if (err.http_status != 400 || err.message[0] == '\0') {
		abort();
	}
out:
	for (i = 0; i < FUZZ_HEADERS; i++)
		free(hdr[i]);
	free(query);
	return 0;
}
