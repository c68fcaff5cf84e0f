/*
 * WBXML in and out of an EAS command: decoding a request body into a
 * typed tree (proto/wbxml_tree.h) with the MS-ASCMD 2.2.2 status that a
 * failure deserves, and sending a response encoded with proto/wbxml.h --
 * either built in a bounded buffer and answered at once, or streamed
 * through the http.h streaming API as it is produced (Sync's large
 * windows, with keep-alives).  Every WBXML answer carries
 * `Content-Type: application/vnd.ms-sync.wbxml`; an empty 200 carries no
 * body and no Content-Encoding (checklist: never gzip an empty body, iOS
 * waits for a timeout).
 *
 * Used by every cas/cmd_*.c and by cas/request.c (the Status 14x answers
 * of the pipeline).
 */
#ifndef EASD_CAS_WBXML_RESP_H
#define EASD_CAS_WBXML_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cas/http.h"
#include "proto/buf.h"
#include "proto/wbxml.h"
#include "proto/wbxml_tree.h"

#define CAS_WBXML_CONTENT_TYPE "application/vnd.ms-sync.wbxml"
/* A response built in memory (everything but streamed Sync/ItemOperations
 * replies): a full FolderSync of a large hierarchy is ~100 KB. */
#define CAS_WBXML_MAX_RESPONSE_BYTES (8u * 1024u * 1024u)

/* MS-ASCMD 2.2.2 common status codes the request layer produces. */
#define CAS_STATUS_INVALID_CONTENT 101u
#define CAS_STATUS_INVALID_WBXML 102u
#define CAS_STATUS_INVALID_XML 103u
#define CAS_STATUS_DEVICE_ID_INVALID 108u
#define CAS_STATUS_SERVER_ERROR 110u
#define CAS_STATUS_SERVER_ERROR_RETRY_LATER 111u
#define CAS_STATUS_USER_DISABLED 126u
#define CAS_STATUS_DEVICE_BLOCKED 129u
#define CAS_STATUS_REMOTE_WIPE_REQUESTED 140u
#define CAS_STATUS_LEGACY_DEVICE_STRICT_POLICY 141u
#define CAS_STATUS_DEVICE_NOT_PROVISIONED 142u
#define CAS_STATUS_POLICY_REFRESH 143u
#define CAS_STATUS_INVALID_POLICY_KEY 144u

/*
 * Decode body[0..len) and check that its root element is `root`.
 *  - 0 with *tree_r NULL: the body is empty (Ping, Sync and Provision
 *    allow that; other commands treat it as a protocol error);
 *  - 0 with *tree_r set: free it with wbxml_tree_free();
 *  - -1 with *eas_status_r = 102 (InvalidWBXML: the bytes do not decode,
 *    or exceed the codec's limits) or 103 (InvalidXML: valid WBXML but the
 *    wrong root element).
 */
int cas_wbxml_parse(const uint8_t *body, size_t len, uint16_t root,
		    struct wbxml_tree **tree_r, unsigned *eas_status_r);

/* ---- buffered responses ---------------------------------------------- */

struct cas_wbxml_out {
	struct buf buf;
	struct wbxml_enc enc; /* encode into this, then send */
};

/* Ready to encode into a buffer of at most CAS_WBXML_MAX_RESPONSE_BYTES. */
void cas_wbxml_out_init(struct cas_wbxml_out *out);
void cas_wbxml_out_free(struct cas_wbxml_out *out);
/*
 * Finish the document and answer 200 with it (then free the buffer).  -1
 * when encoding failed (the caller answers 500) or the request was already
 * answered; the buffer is freed either way.
 */
int cas_wbxml_out_send(struct cas_req *req, struct cas_wbxml_out *out);

/* 200 with an empty body (no Content-Type, no gzip). */
int cas_wbxml_respond_empty(struct cas_req *req);
/* 200 with <root><status_tag>status</status_tag></root>: the command's own
 * envelope carrying a failure status (e.g. <FolderSync><Status>142 ...). */
int cas_wbxml_respond_status(struct cas_req *req, uint16_t root,
			     uint16_t status_tag, unsigned status);

/* ---- streamed responses ---------------------------------------------- */

/*
 * A response written while it is produced: the encoder's sink passes each
 * chunk to cas_req_stream_write(); the 200 and the Content-Type header go
 * out with the first chunk (so an error found before any byte was produced
 * can still be answered with a plain status).  Use wbxml_enc_keepalive()
 * on s->enc during long waits.  cas_req_stream_write() refuses more than
 * CAS_STREAM_MAX_BUFFERED_BYTES pending: a producer of large output checks
 * cas_req_stream_pending() and paces itself.
 */
struct cas_wbxml_stream {
	struct cas_req *req; /* borrowed */
	bool begun;
	bool failed;
	struct wbxml_enc enc;
};

void cas_wbxml_stream_init(struct cas_wbxml_stream *s, struct cas_req *req);
/* True when bytes have gone out (the answer can no longer be changed). */
bool cas_wbxml_stream_begun(const struct cas_wbxml_stream *s);
/* Finish the document and end the stream.  -1 if anything failed (the
 * stream is ended anyway when it had begun). */
int cas_wbxml_stream_finish(struct cas_wbxml_stream *s);

#endif
