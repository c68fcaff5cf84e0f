/*
 * ValidateCert request decoding and response encoding; see
 * validatecert_req.h.  Certificate texts are base64 of DER (MS-ASCMD
 * 2.2.3.19); clients are known to wrap long base64 in line breaks, so
 * CR, LF, tab and space are dropped before decoding.
 */
#include "cas/validatecert_req.h"
#include "proto/base64.h"
#include "proto/wbxml_tree.h"

#include <stdlib.h>
#include <string.h>

/* Longest base64 text of a VALIDATECERT_MAX_CERT_BYTES DER, with room for
 * line breaks every 64 characters (PEM style). */
#define CERT_TEXT_MAX                                \
	((VALIDATECERT_MAX_CERT_BYTES + 2) / 3 * 4 + \
	 (VALIDATECERT_MAX_CERT_BYTES + 2) / 3 * 4 / 64 * 2 + 4)

/* Decode one Certificate text; an undecodable one stays der == NULL. */
static int
cert_decode(const char *text, size_t len, struct validatecert_cert *c)
{
	uint8_t *clean = malloc(len + 1), *der;
	size_t n = 0, out;

	if (clean == NULL)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char ch = text[i];

		if (ch != '\r' && ch != '\n' && ch != ' ' && ch != '\t')
			clean[n++] = (uint8_t)ch;
	}
	der = malloc(BASE64_DECODED_MAX(n) + 1);
	if (der == NULL) {
		free(clean);
		return -1;
	}
	if (n == 0 ||
	    base64_decode(clean, n, der, BASE64_DECODED_MAX(n) + 1, &out) !=
		0 ||
	    out == 0 || out > VALIDATECERT_MAX_CERT_BYTES) {
		free(der);
		der = NULL;
		out = 0;
	}
	free(clean);
	c->der = der;
	c->len = out;
	return 0;
}

/* The Certificate children of n into *list_r (at most max). */
static int
cert_list(const struct wbxml_node *n, size_t max,
	  struct validatecert_cert **list_r, size_t *n_r)
{
	const struct wbxml_node *c;
	size_t count =
	    wbxml_node_count_children(n, EAS_VALIDATECERT_CERTIFICATE);

	if (count > max)
		return -1;
	*list_r = count > 0 ? calloc(count, sizeof(**list_r)) : NULL;
	if (count > 0 && *list_r == NULL)
		return -1;
	WBXML_FOREACH(c, n, EAS_VALIDATECERT_CERTIFICATE)
	{
		const uint8_t *text;
		size_t len;
		enum wbxml_err err;

		if (*list_r == NULL || *n_r >= count)
			return -1;
		/* STR_I or OPAQUE: both are seen from clients. */
		if (wbxml_node_bytes(c, CERT_TEXT_MAX, &text, &len, &err) != 0)
			return -1;
		if (cert_decode((const char *)text, len, &(*list_r)[*n_r]) != 0)
			return -1;
		(*n_r)++;
	}
	return 0;
}

int
validatecert_req_decode(const uint8_t *body, size_t len,
			struct validatecert_request *r)
{
	struct wbxml_tree *tree = NULL;
	const struct wbxml_node *root, *certs, *chain;
	uint64_t crl = 0;
	enum wbxml_err err;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (len == 0 || wbxml_tree_parse(body, len, &tree, NULL, NULL) != 0)
		goto out;
	root = wbxml_tree_root(tree);
	if (root == NULL ||
	    wbxml_node_tag(root) != EAS_VALIDATECERT_VALIDATE_CERT)
		goto out;
	certs = wbxml_node_child(root, EAS_VALIDATECERT_CERTIFICATES);
	if (certs == NULL ||
	    cert_list(certs, VALIDATECERT_MAX_CERTS, &r->certs, &r->n_certs) !=
		0 ||
	    r->n_certs == 0)
		goto out;
	chain = wbxml_node_child(root, EAS_VALIDATECERT_CERTIFICATE_CHAIN);
	if (chain != NULL && cert_list(chain, VALIDATECERT_MAX_CHAIN, &r->chain,
				       &r->n_chain) != 0)
		goto out;
	if (wbxml_child_uint(root, EAS_VALIDATECERT_CHECK_CRL, 0, 1, &crl,
			     &err) != 0 &&
	    err != WBXML_ERR_MISSING)
		goto out;
	r->check_crl = crl == 1;
	ret = 0;
out:
	wbxml_tree_free(&tree);
	if (ret != 0)
		validatecert_req_clear(r);
	return ret;
}

void
validatecert_req_clear(struct validatecert_request *r)
{
	for (size_t i = 0; r->certs != NULL && i < r->n_certs; i++)
		free(r->certs[i].der);
	for (size_t i = 0; r->chain != NULL && i < r->n_chain; i++)
		free(r->chain[i].der);
	free(r->certs);
	free(r->chain);
	memset(r, 0, sizeof(*r));
}

void
validatecert_resp_encode(struct wbxml_enc *e, enum validatecert_status status,
			 const enum validatecert_status *statuses, size_t n)
{
	wbxml_enc_start(e, EAS_VALIDATECERT_VALIDATE_CERT);
	wbxml_enc_uint(e, EAS_VALIDATECERT_STATUS, (uint64_t)status);
	for (size_t i = 0; i < n; i++) {
		wbxml_enc_start(e, EAS_VALIDATECERT_CERTIFICATE);
		wbxml_enc_uint(e, EAS_VALIDATECERT_STATUS,
			       (uint64_t)statuses[i]);
		wbxml_enc_end(e);
	}
	wbxml_enc_end(e);
}
