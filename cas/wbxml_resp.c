/*
 * WBXML request decoding and response sending for EAS commands; see
 * wbxml_resp.h.  The decoder's errors all become 102 InvalidWBXML, a
 * document whose root is not the command's becomes 103 InvalidXML
 * (MS-ASCMD 2.2.2: "the XML provided in the request does not follow the
 * protocol requirements").
 */
#include "cas/wbxml_resp.h"

#include "proto/log.h"

#include <string.h>

int
cas_wbxml_parse(const uint8_t *body, size_t len, uint16_t root,
		struct wbxml_tree **tree_r, unsigned *eas_status_r)
{
	struct wbxml_tree *tree = NULL;
	enum wbxml_err err = WBXML_ERR_NONE;
	size_t offset = 0;

	*tree_r = NULL;
	*eas_status_r = 0;
	if (len == 0)
		return 0;
	if (wbxml_tree_parse(body, len, &tree, &err, &offset) != 0) {
		log_debug("request body: %s at byte %zu", wbxml_strerror(err),
			  offset);
		*eas_status_r = CAS_STATUS_INVALID_WBXML;
		return -1;
	}
	if (wbxml_node_tag(wbxml_tree_root(tree)) != root) {
		char name[64];

		(void)wbxml_tag_describe(wbxml_node_tag(wbxml_tree_root(tree)),
					 name, sizeof(name));
		log_debug("request body: root %s is not the command's", name);
		wbxml_tree_free(&tree);
		*eas_status_r = CAS_STATUS_INVALID_XML;
		return -1;
	}
	*tree_r = tree;
	return 0;
}

void
cas_wbxml_out_init(struct cas_wbxml_out *out)
{
	buf_init(&out->buf, CAS_WBXML_MAX_RESPONSE_BYTES);
	wbxml_enc_init_buf(&out->enc, &out->buf);
}

void
cas_wbxml_out_free(struct cas_wbxml_out *out)
{
	buf_free(&out->buf);
}

int
cas_wbxml_out_send(struct cas_req *req, struct cas_wbxml_out *out)
{
	static const struct cas_header h[] = {
	    {"Content-Type", CAS_WBXML_CONTENT_TYPE},
	};
	int rc = -1;

	if (wbxml_enc_finish(&out->enc) != 0) {
		log_error("response encoding failed: %s",
			  wbxml_strerror(wbxml_enc_error(&out->enc)));
		goto out;
	}
	rc = cas_req_respond(req, 200, h, sizeof(h) / sizeof(h[0]),
			     out->buf.data, out->buf.len);
out:
	cas_wbxml_out_free(out);
	return rc;
}

int
cas_wbxml_respond_empty(struct cas_req *req)
{
	/* No Content-Type for no content, and nothing to compress. */
	return cas_req_respond(req, 200, NULL, 0, NULL, 0);
}

int
cas_wbxml_respond_status(struct cas_req *req, uint16_t root,
			 uint16_t status_tag, unsigned status)
{
	struct cas_wbxml_out out;

	cas_wbxml_out_init(&out);
	(void)wbxml_enc_start(&out.enc, root);
	(void)wbxml_enc_uint(&out.enc, status_tag, status);
	(void)wbxml_enc_end(&out.enc);
	if (cas_wbxml_out_send(req, &out) != 0) {
		(void)cas_req_respond_status(req, 500);
		return -1;
	}
	return 0;
}

/* The encoder's sink: begin the HTTP answer with the first bytes. */
static int
stream_sink(void *ctx, const uint8_t *data, size_t len)
{
	static const struct cas_header h[] = {
	    {"Content-Type", CAS_WBXML_CONTENT_TYPE},
	};
	struct cas_wbxml_stream *s = ctx;

	if (s->failed)
		return -1;
	if (!s->begun) {
		if (cas_req_stream_begin(s->req, 200, h,
					 sizeof(h) / sizeof(h[0])) != 0) {
			s->failed = true;
			return -1;
		}
		s->begun = true;
	}
	if (len > 0 && cas_req_stream_write(s->req, data, len) != 0) {
		s->failed = true;
		return -1;
	}
	return 0;
}

void
cas_wbxml_stream_init(struct cas_wbxml_stream *s, struct cas_req *req)
{
	memset(s, 0, sizeof(*s));
	s->req = req;
	wbxml_enc_init_sink(&s->enc, stream_sink, s);
}

bool
cas_wbxml_stream_begun(const struct cas_wbxml_stream *s)
{
	return s->begun;
}

int
cas_wbxml_stream_finish(struct cas_wbxml_stream *s)
{
	int rc = wbxml_enc_finish(&s->enc);

	if (s->begun) {
		if (cas_req_stream_end(s->req) != 0)
			rc = -1;
	} else if (rc == 0) {
		/* Nothing was produced: cannot happen for a finished
		 * document, which has at least the header and root. */
		rc = -1;
	}
	return rc != 0 || s->failed ? -1 : 0;
}
