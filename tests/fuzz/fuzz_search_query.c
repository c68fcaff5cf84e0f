/*
 * Fuzz target for the search query compiler and the HTML-to-text stripper
 * (mailbox/store_search.c, search.h).  The input is the user's words: the
 * compiled MATCH expression must be accepted by FTS5 (run against an
 * in-memory table with the index's columns and tokenizer, as store_search
 * wraps it), so no input can make a query fail or carry FTS5 syntax of its
 * own; the same bytes as an HTML body must give text within the bound.
 */
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox/search.h"
#include "proto/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_HTML_MAX_BYTES 512

/* One in-memory database for the whole run (closed at exit by the OS). */
static sqlite3 *db;
static sqlite3_stmt *stmt;

static void
fuzz_open(void)
{
	if (db != NULL)
		return;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db,
			 "CREATE VIRTUAL TABLE search_fts USING fts5("
			 " subject, sender, recipients, body, folder,"
			 " tokenize = 'unicode61 remove_diacritics 2',"
			 " prefix = '2 3');"
			 "INSERT INTO search_fts VALUES('near and or not',"
			 " 'alice example org', 'bob', 'the quick brown fox',"
			 " 'f1');",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT count(*) FROM search_fts"
			       " WHERE search_fts MATCH ?",
			       -1, &stmt, NULL) != SQLITE_OK)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum search_status status;
	struct buf match, text;
	size_t terms = 0;
	int rc;

	fuzz_open();
	buf_init(&match, 8 * SEARCH_MAX_QUERY_BYTES);
	(void)buf_append_str(&match, "{subject sender recipients body} : (");
	if (search_query_compile((const char *)data, size, &match, &terms,
				 &status) == 0) {
		if (status != SEARCH_OK || terms > SEARCH_MAX_TERMS)
			abort();
		if (terms > 0) {
			(void)buf_append_str(&match, ") AND folder : (\"f1\")");
			sqlite3_bind_text(stmt, 1, buf_str(&match),
					  (int)match.len, SQLITE_STATIC);
			rc = sqlite3_step(stmt);
			sqlite3_reset(stmt);
			if (rc != SQLITE_ROW)
				abort(); /* FTS5 refused the expression */
		}
	} else if (status == SEARCH_OK) {
		abort();
	}
	buf_free(&match);

	buf_init(&text, 4 * FUZZ_HTML_MAX_BYTES);
	if (search_html_text((const char *)data, size, FUZZ_HTML_MAX_BYTES,
			     &text) < 0 ||
	    text.len > FUZZ_HTML_MAX_BYTES)
		abort();
	buf_free(&text);
	return 0;
}
