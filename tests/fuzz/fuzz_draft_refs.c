/*
 * libFuzzer target for the two readers that the 16.0 draft work added on
 * device-supplied bytes (mailbox/rpc_drafts.c, mailbox/mime_draft.c):
 *  - first byte even: the rest is a FileReference as ItemOperations,
 *    GetAttachment or an attachment Delete carry it; a parsed one must
 *    have its ref below STORE_MAX_ATTACHMENT_REF and print back to a
 *    reference that parses to the same pair;
 *  - first byte odd: the rest is a message as SendMail or a draft leaves
 *    it for Sent Items; the Bcc read from it must be bounded, non-empty
 *    and valid UTF-8.
 * Inputs are copied to exact-size heap buffers so ASan sees any read past
 * the end.
 */
#include <glib.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/draft.h"
#include "mailbox/rpc_drafts.h"
#include "proto/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
file_ref(const uint8_t *data, size_t size)
{
	char *ref = malloc(size + 1), again[48];
	int64_t item, item2;
	uint32_t n, n2;

	if (ref == NULL)
		return;
	memcpy(ref, data, size);
	ref[size] = 0;
	if (mbox_parse_file_ref(ref, &item, &n)) {
		if (n >= STORE_MAX_ATTACHMENT_REF)
			abort();
		(void)snprintf(again, sizeof(again), "%" PRId64 ":%" PRIu32,
			       item, n);
		if (!mbox_parse_file_ref(again, &item2, &n2) || item2 != item ||
		    n2 != n)
			abort();
	}
	free(ref);
}

static void
bcc(const uint8_t *data, size_t size)
{
	uint8_t *raw = malloc(size + 1);
	const char *error;
	char *list = NULL;

	if (raw == NULL)
		return;
	memcpy(raw, data, size);
	if (draft_read_bcc(raw, size, &list, &error) == 0 && list != NULL) {
		if (list[0] == '\0' ||
		    strlen(list) > SYNC_MAX_DRAFT_ADDRESS_BYTES ||
		    !g_utf8_validate(list, -1, NULL))
			abort();
	}
	free(list);
	free(raw);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		file_ref(data + 1, size - 1);
	else
		bcc(data + 1, size - 1);
	return 0;
}
