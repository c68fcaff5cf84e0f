/*
 * WBXML codec benchmark (`make bench`, release build).  Builds a realistic
 * Sync response with our encoder (100 emails with ~5 KB HTML bodies, the
 * usual Email properties and AirSyncBase attachments), then measures, each
 * for about a second: encode throughput, our event decoder, our tree parse,
 * and the libwbxml2 0.11.8 path (WBXML -> XML text -> libxml2 tree) that a
 * server built on libwbxml2 would pay.  It prints MB/s (of WBXML) and the
 * ratios next to the targets; a benchmark never fails on a target.  The
 * document uses only tokens libwbxml2 knows (no 16.x additions), so both
 * sides decode the same bytes.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <wbxml/wbxml.h>

#include "proto/wbxml.h"
#include "proto/wbxml_tree.h"

#define BENCH_EMAILS 100
#define BENCH_BODY_BYTES 5000
/* Each measurement runs at least this long (and at least 3 rounds). */
#define BENCH_MIN_NS 1000000000.0

int main(void);

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
make_body(char *body, size_t size, unsigned seed)
{
	static const char *const words[] = {"quarterly", "report",   "meeting",
					    "Thursday",  "budget",   "review",
					    "please",    "attached", "thanks",
					    "regards",   "schedule", "project"};
	size_t len = 0;
	unsigned w = seed;

	len += (size_t)snprintf(
	    body, size,
	    "<html><head><meta charset=\"utf-8\"></head><body><div>");
	while (len + 64 < size) {
		int n;

		w = w * 1103515245u + 12345u;
		if ((w >> 16) % 9 == 0)
			n = snprintf(body + len, size - len, "</p>\n<p>");
		else
			n = snprintf(body + len, size - len, "%s ",
				     words[(w >> 16) % 12]);
		len += (size_t)n;
	}
	snprintf(body + len, size - len, "</div></body></html>");
}

/* Bodies are made once: encode rounds measure the encoder, not snprintf. */
static char bodies[BENCH_EMAILS][BENCH_BODY_BYTES];

static void
make_bodies(void)
{
	for (unsigned i = 0; i < BENCH_EMAILS; i++)
		make_body(bodies[i], sizeof(bodies[i]), i);
}

static void
encode_sync_response(struct wbxml_enc *e)
{
	char buf[128];

	wbxml_enc_start(e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(e, EAS_AIRSYNC_COLLECTIONS);
	wbxml_enc_start(e, EAS_AIRSYNC_COLLECTION);
	wbxml_enc_str(e, EAS_AIRSYNC_SYNC_KEY, "{8b1c}42");
	wbxml_enc_str(e, EAS_AIRSYNC_COLLECTION_ID, "5");
	wbxml_enc_uint(e, EAS_AIRSYNC_STATUS, 1);
	wbxml_enc_start(e, EAS_AIRSYNC_COMMANDS);
	for (unsigned i = 0; i < BENCH_EMAILS; i++) {
		const char *body = bodies[i];

		wbxml_enc_start(e, EAS_AIRSYNC_ADD);
		snprintf(buf, sizeof(buf), "5:%u", 1000 + i);
		wbxml_enc_str(e, EAS_AIRSYNC_SERVER_ID, buf);
		wbxml_enc_start(e, EAS_AIRSYNC_APPLICATION_DATA);
		wbxml_enc_str(e, EAS_EMAIL_TO,
			      "\"Alice Example\" <alice@example.com>, "
			      "\"Bob\" <bob@example.org>");
		wbxml_enc_str(e, EAS_EMAIL_CC, "\"Carol\" <carol@example.net>");
		snprintf(buf, sizeof(buf),
			 "\"Sender %u\" <sender%u@example.com>", i, i);
		wbxml_enc_str(e, EAS_EMAIL_FROM, buf);
		snprintf(buf, sizeof(buf), "Re: quarterly report, part %u", i);
		wbxml_enc_str(e, EAS_EMAIL_SUBJECT, buf);
		wbxml_enc_str(e, EAS_EMAIL_REPLY_TO, "list@example.com");
		wbxml_enc_str(e, EAS_EMAIL_DATE_RECEIVED,
			      "2026-11-27T15:42:00.000Z");
		wbxml_enc_str(e, EAS_EMAIL_DISPLAY_TO, "Alice Example; Bob");
		wbxml_enc_str(e, EAS_EMAIL_THREAD_TOPIC, "quarterly report");
		wbxml_enc_uint(e, EAS_EMAIL_IMPORTANCE, 1);
		wbxml_enc_uint(e, EAS_EMAIL_READ, i % 2);
		wbxml_enc_start(e, EAS_AIRSYNCBASE_BODY);
		wbxml_enc_uint(e, EAS_AIRSYNCBASE_TYPE, 2);
		wbxml_enc_uint(e, EAS_AIRSYNCBASE_ESTIMATED_DATA_SIZE,
			       strlen(body));
		wbxml_enc_str(e, EAS_AIRSYNCBASE_DATA, body);
		wbxml_enc_end(e);
		wbxml_enc_str(e, EAS_EMAIL_MESSAGE_CLASS, "IPM.Note");
		wbxml_enc_uint(e, EAS_EMAIL_INTERNET_CPID, 65001);
		wbxml_enc_start(e, EAS_EMAIL_FLAG);
		wbxml_enc_end(e);
		wbxml_enc_str(e, EAS_EMAIL_CONTENT_CLASS,
			      "urn:content-classes:message");
		wbxml_enc_uint(e, EAS_AIRSYNCBASE_NATIVE_BODY_TYPE, 2);
		if (i % 3 == 0) {
			wbxml_enc_start(e, EAS_AIRSYNCBASE_ATTACHMENTS);
			for (unsigned a = 0; a < 2; a++) {
				wbxml_enc_start(e, EAS_AIRSYNCBASE_ATTACHMENT);
				snprintf(buf, sizeof(buf), "report-%u.pdf", a);
				wbxml_enc_str(e, EAS_AIRSYNCBASE_DISPLAY_NAME,
					      buf);
				snprintf(buf, sizeof(buf), "5:%u:%u", 1000 + i,
					 a);
				wbxml_enc_str(e, EAS_AIRSYNCBASE_FILE_REFERENCE,
					      buf);
				wbxml_enc_uint(e, EAS_AIRSYNCBASE_METHOD, 1);
				wbxml_enc_uint(
				    e, EAS_AIRSYNCBASE_ESTIMATED_DATA_SIZE,
				    123456 + a);
				wbxml_enc_end(e);
			}
			wbxml_enc_end(e);
		}
		wbxml_enc_end(e);
		wbxml_enc_end(e);
	}
	wbxml_enc_end(e);
	wbxml_enc_empty(e, EAS_AIRSYNC_MORE_AVAILABLE);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
}

struct bench_doc {
	const uint8_t *data;
	size_t len;
};

/* Each runner does one round and returns a value that defeats DCE. */
static size_t
run_encode(const struct bench_doc *doc)
{
	static struct buf out;
	struct wbxml_enc e;

	(void)doc;
	if (out.max == 0)
		buf_init(&out, 16u << 20);
	buf_reset(&out);
	wbxml_enc_init_buf(&e, &out);
	encode_sync_response(&e);
	if (wbxml_enc_finish(&e) < 0)
		abort();
	return out.len;
}

static size_t
run_decode(const struct bench_doc *doc)
{
	struct wbxml_dec d;
	struct wbxml_event ev;
	size_t sum = 0;

	if (wbxml_dec_init(&d, doc->data, doc->len) < 0)
		abort();
	do {
		if (wbxml_dec_next(&d, &ev) < 0)
			abort();
		sum += ev.len + ev.tag;
	} while (ev.type != WBXML_EV_EOD);
	return sum;
}

static size_t
run_tree(const struct bench_doc *doc)
{
	struct wbxml_tree *tree;
	size_t n;

	if (wbxml_tree_parse(doc->data, doc->len, &tree, NULL, NULL) < 0)
		abort();
	n = wbxml_tree_node_count(tree);
	wbxml_tree_free(&tree);
	return n;
}

static size_t
run_libwbxml2(const struct bench_doc *doc)
{
	WBXMLConvWBXML2XML *conv = NULL;
	WB_UTINY *xml = NULL;
	WB_ULONG xml_len = 0;
	xmlDocPtr x;
	size_t n;

	if (wbxml_conv_wbxml2xml_create(&conv) != WBXML_OK)
		abort();
	wbxml_conv_wbxml2xml_set_language(conv, WBXML_LANG_ACTIVESYNC);
	wbxml_conv_wbxml2xml_set_gen_type(conv, WBXML_GEN_XML_COMPACT);
	/* The library takes a non-const pointer but does not write. */
	if (wbxml_conv_wbxml2xml_run(conv, (WB_UTINY *)(uintptr_t)doc->data,
				     (WB_ULONG)doc->len, &xml,
				     &xml_len) != WBXML_OK)
		abort();
	wbxml_conv_wbxml2xml_destroy(conv);
	x = xmlReadMemory((const char *)xml, (int)xml_len, "sync.xml", NULL,
			  XML_PARSE_NONET | XML_PARSE_HUGE);
	if (x == NULL)
		abort();
	n = xml_len;
	xmlFreeDoc(x);
	free(xml);
	return n;
}

/* Runs fn for at least BENCH_MIN_NS; returns MB/s of WBXML processed. */
static double
measure(const char *label, size_t (*fn)(const struct bench_doc *),
	const struct bench_doc *doc)
{
	volatile size_t sink = 0;
	unsigned rounds = 0;
	double start = now_ns(), elapsed;
	double mbps;

	sink += fn(doc); /* warm-up */
	do {
		sink += fn(doc);
		rounds++;
		elapsed = now_ns() - start;
	} while (elapsed < BENCH_MIN_NS || rounds < 3);
	mbps = (double)doc->len * rounds / (elapsed / 1e9) / 1e6;
	printf("%-34s %9.1f MB/s  (%u rounds, %.3f ms each)\n", label, mbps,
	       rounds, elapsed / rounds / 1e6);
	(void)sink;
	return mbps;
}

int
main(void)
{
	struct bench_doc doc;
	struct wbxml_enc e;
	struct buf out;
	double enc, dec, tree, ref;

	/* A long-running daemon's heap keeps freed request memory; a fresh
	 * process would hand it back to the kernel after every round and
	 * re-fault it (very costly in a VM), which measures page faults, not
	 * decoders.  Keep it, for both sides alike. */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	make_bodies();
	buf_init(&out, 16u << 20);
	wbxml_enc_init_buf(&e, &out);
	encode_sync_response(&e);
	if (wbxml_enc_finish(&e) < 0) {
		fprintf(stderr, "encode failed: %s\n",
			wbxml_strerror(wbxml_enc_error(&e)));
		return 1;
	}
	doc.data = out.data;
	doc.len = out.len;
	printf("Sync response: %u emails, %zu bytes of WBXML\n", BENCH_EMAILS,
	       doc.len);

	enc = measure("encode (our encoder, into buf)", run_encode, &doc);
	dec = measure("decode (our events)", run_decode, &doc);
	tree = measure("decode (our tree)", run_tree, &doc);
	ref = measure("libwbxml2 -> XML -> libxml2 tree", run_libwbxml2, &doc);

	printf("encode: %.1f MB/s\n", enc);
	printf("decoder vs libwbxml2 path: %.1fx (target >= 10x); "
	       "%.1f MB/s (target >= 300 MB/s)\n",
	       dec / ref, dec);
	printf("tree vs libwbxml2 path: %.1fx\n", tree / ref);
	xmlCleanupParser();
	buf_free(&out);
	return 0;
}
