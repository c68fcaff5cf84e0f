/*
 * libFuzzer target for cas/sync_req.c, the Sync request decoder.  The first
 * input byte picks the protocol version (2.5 ... 16.1), the rest is the
 * WBXML body, copied to an exact-size heap buffer so that ASan sees any
 * read past its end.  A decoded request must respect every limit it
 * promises (collections, commands, window, key and id lengths); a refused
 * one must carry a Sync status, and the partial-Sync cache must accept
 * whatever the decoder produced.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cas/sync_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned versions[] = {25, 120, 121, 140, 141, 160, 161};

static void
check(const struct sync_request *r)
{
	size_t commands = 0;

	if (r->n_collections > SYNC_MAX_COLLECTIONS)
		abort();
	for (size_t i = 0; i < r->n_collections; i++) {
		const struct sync_collection *c = &r->collections[i];

		if (strlen(c->sync_key) > SYNC_MAX_KEY_BYTES ||
		    strlen(c->collection_id) > SYNC_MAX_ID_BYTES ||
		    sync_req_window(r, c) > SYNC_MAX_WINDOW_SIZE ||
		    sync_req_window(r, c) == 0 ||
		    c->options.n_body_prefs > SYNC_MAX_BODY_PREFS)
			abort();
		commands += c->n_commands;
		for (size_t j = 0; j < c->n_commands; j++) {
			const struct sync_command *cmd = &c->commands[j];

			if (cmd->op == SYNC_OP_ADD && cmd->client_id == NULL)
				abort();
			if (cmd->op != SYNC_OP_ADD && cmd->server_id == NULL)
				abort();
			if (cmd->email.n_categories > SYNC_MAX_CATEGORIES)
				abort();
			/* 16.0 drafts: attachment counts and their bytes. */
			if (cmd->draft.n_add > SYNC_MAX_DRAFT_ATTACHMENTS ||
			    cmd->draft.n_delete > SYNC_MAX_DRAFT_ATTACHMENTS)
				abort();
			for (size_t k = 0; k < cmd->draft.n_add; k++)
				if (cmd->draft.add[k].client_id == NULL ||
				    (cmd->draft.add[k].content == NULL &&
				     cmd->draft.add[k].content_len > 0))
					abort();
		}
	}
	if (commands > SYNC_MAX_COMMANDS)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sync_cache *cache;
	struct sync_request *r = NULL;
	enum sync_status st;
	uint32_t limit;
	unsigned version;
	uint8_t *body = NULL;

	if (size < 1)
		return 0;
	if (cache == NULL)
		cache = sync_cache_new(4);
	version = versions[data[0] % (sizeof(versions) / sizeof(versions[0]))];
	if (size > 1) {
		body = malloc(size - 1);
		if (body == NULL)
			return 0;
		memcpy(body, data + 1, size - 1);
	}
	if (sync_req_decode(body, size - 1, version, 60, 3540, &r, &st,
			    &limit) == 0) {
		if (r == NULL || st != SYNC_STATUS_OK)
			abort();
		check(r);
		if (sync_req_merge(cache, 1, "fuzz", version, r, &st) == 0) {
			check(r);
			(void)sync_cache_store(cache, 1, "fuzz", r);
		} else if (st == SYNC_STATUS_OK) {
			abort();
		}
		sync_req_free(&r);
	} else if (r != NULL || st == SYNC_STATUS_OK) {
		abort();
	}
	free(body);
	return 0;
}
