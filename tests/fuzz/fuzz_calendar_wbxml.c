/*
 * libFuzzer target for cas/calendar_wbxml.c, the decoder of a client's
 * calendar ApplicationData (MS-ASCAL).  The first input byte picks the
 * protocol version (2.5 ... 16.1), the rest is a WBXML document whose
 * root stands for ApplicationData, copied to an exact-size heap buffer so
 * that ASan sees any read past its end.  A decoded event must respect the
 * CAL_MAX_* limits it promises, every exception must carry its start, and
 * the encoder must write the decoded event back without error; a refused
 * one must leave nothing allocated (LeakSanitizer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cas/calendar_wbxml.h"
#include "proto/buf.h"
#include "proto/limits.h"
#include "proto/wbxml_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned versions[] = {25, 120, 121, 140, 141, 160, 161};

static void
check(const Rpc__Calendar *c, const Rpc__Body *body)
{
	if (c->n_attendees > CAL_MAX_ATTENDEES ||
	    c->n_categories > CAL_MAX_CATEGORIES ||
	    c->n_exceptions > CAL_MAX_EXCEPTIONS ||
	    c->uid.len > CAL_MAX_UID_BYTES ||
	    c->client_uid.len > CAL_MAX_UID_BYTES ||
	    (c->time_zone.len != 0 && c->time_zone.len != CAL_TZ_BLOB_BYTES) ||
	    strlen(c->subject) > CAL_MAX_TEXT_BYTES ||
	    (body != NULL && body->data.len > CAL_MAX_BODY_BYTES))
		abort();
	for (size_t i = 0; i < c->n_exceptions; i++)
		if (c->exceptions[i]->exception_start_time <= 0 ||
		    c->exceptions[i]->n_attendees > CAL_MAX_ATTENDEES)
			abort();
	if (c->recurrence != NULL &&
	    (c->recurrence->interval > CAL_MAX_INTERVAL ||
	     c->recurrence->occurrences > CAL_MAX_OCCURRENCES))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wbxml_tree *tree = NULL;
	Rpc__Calendar *cal = NULL;
	Rpc__Body *body = NULL;
	enum wbxml_err err;
	size_t offset;
	const char *error = NULL;
	unsigned version;
	uint8_t *doc;

	if (size < 2)
		return 0;
	version = versions[data[0] % (sizeof(versions) / sizeof(versions[0]))];
	doc = malloc(size - 1);
	if (doc == NULL)
		return 0;
	memcpy(doc, data + 1, size - 1);
	if (wbxml_tree_parse(doc, size - 1, &tree, &err, &offset) == 0) {
		const struct wbxml_node *root = wbxml_tree_root(tree);

		(void)calendar_wbxml_is_event(root);
		if (calendar_wbxml_decode(root, version, &cal, &body, &error) ==
		    0) {
			struct buf out;
			struct wbxml_enc e;

			check(cal, body);
			buf_init(&out, 64u << 20);
			wbxml_enc_init_buf(&e, &out);
			wbxml_enc_start(&e, EAS_AIRSYNC_APPLICATION_DATA);
			if (calendar_wbxml_encode(&e, cal, body, version) != 0)
				abort();
			wbxml_enc_end(&e);
			if (wbxml_enc_finish(&e) != 0)
				abort();
			buf_free(&out);
			calendar_wbxml_free(&cal, &body);
		} else if (cal != NULL || body != NULL || error == NULL) {
			abort();
		}
		wbxml_tree_free(&tree);
	}
	free(doc);
	return 0;
}
