/*
 * Harness for end-to-end CAS command tests: the fake mailbox
 * (tests/lib/fake_mailbox.h), the real mailbox client, the request
 * pipeline and the real HTTP server on 127.0.0.1 (port 0, plain HTTP with
 * Basic allowed), and a libcurl client that posts WBXML bodies built with
 * the project's encoder and returns the response decoded with the tree
 * API.  Static inline so each test binary takes what it uses.  Every wait
 * is bounded (curl timeouts).
 */
#ifndef EASD_TESTS_CAS_HARNESS_H
#define EASD_TESTS_CAS_HARNESS_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas/auth.h"
#include "cas/cas_conf.h"
#include "cas/http.h"
#include "cas/mbox_client.h"
#include "cas/request.h"
#include "proto/buf.h"
#include "proto/wbxml.h"
#include "proto/wbxml_tree.h"
#include "tests/lib/fake_mailbox.h"

#define HARNESS_LOGIN "alice"
#define HARNESS_PASSWORD "secret"
#define HARNESS_USERPWD HARNESS_LOGIN ":" HARNESS_PASSWORD

struct cas_harness {
	struct fake_mailbox *fm;
	struct mbox_client *mc;
	struct cas_auth *auth;
	struct cas_http *http;
	struct cas_listen listen;
	char base_url[64];
	uint64_t user;       /* the current user's id ... */
	const char *userpwd; /* ... and credentials for the helpers */
};

static inline int
cas_harness_start(struct cas_harness *h)
{
	struct mbox_client_config mcc;
	struct cas_request_config rqc;
	struct cas_http_config hc;
	char *error = NULL;

	memset(h, 0, sizeof(*h));
	h->fm = fake_mailbox_start();
	if (h->fm == NULL)
		return -1;
	h->user = fake_mailbox_add_user(h->fm, HARNESS_LOGIN, HARNESS_PASSWORD);
	h->userpwd = HARNESS_USERPWD;
	memset(&mcc, 0, sizeof(mcc));
	mcc.addr = fake_mailbox_addr(h->fm);
	mcc.default_timeout_ms = 5000;
	if (mbox_client_start(&mcc, &h->mc, &error) != 0) {
		fprintf(stderr, "mbox_client_start: %s\n",
			error != NULL ? error : "?");
		free(error);
		return -1;
	}
	memset(&rqc, 0, sizeof(rqc));
	rqc.mbox = h->mc;
	cas_request_init(&rqc);
	if (cas_auth_new(300, &h->auth) != 0 ||
	    cas_conf_parse_listen("127.0.0.1:0", &h->listen) != 0)
		return -1;
	memset(&hc, 0, sizeof(hc));
	hc.http = &h->listen;
	hc.auth = h->auth;
	hc.verifier = mbox_client_verifier(h->mc);
	hc.plain_auth = CAS_PLAIN_AUTH_YES;
	hc.max_body_bytes = 1024 * 1024;
	hc.server_version = "15.1";
	if (cas_http_start(&hc, &h->http, &error) != 0) {
		fprintf(stderr, "cas_http_start: %s\n",
			error != NULL ? error : "?");
		free(error);
		return -1;
	}
	(void)snprintf(h->base_url, sizeof(h->base_url), "http://127.0.0.1:%u",
		       (unsigned)cas_http_port(h->http, false));
	return 0;
}

static inline void
cas_harness_stop(struct cas_harness *h)
{
	if (h->http != NULL)
		cas_http_shutdown(h->http, 2000);
	mbox_client_free(&h->mc);
	cas_http_free(&h->http);
	cas_auth_free(&h->auth);
	fake_mailbox_stop(&h->fm);
}

struct cas_reply {
	long status;
	struct buf body;
	char content_type[128];
	struct wbxml_tree *tree; /* decoded body, when WBXML */
};

static inline size_t
cas_harness_on_body(char *data, size_t size, size_t n, void *ud)
{
	struct cas_reply *r = ud;

	if (buf_append(&r->body, data, size * n) != 0)
		return 0;
	return size * n;
}

static inline void
cas_reply_free(struct cas_reply *r)
{
	wbxml_tree_free(&r->tree);
	buf_free(&r->body);
}

/*
 * POST query (after '?') with the given version header, optional policy
 * key and credentials, and body.  0 when the exchange happened; r->tree
 * is set when the body decodes as WBXML.
 */
static inline int
cas_harness_post(struct cas_harness *h, const char *query, const char *version,
		 const char *policy_key, const char *userpwd, const void *body,
		 size_t len, struct cas_reply *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[512], line[256];
	char *ct = NULL;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	buf_init(&r->body, 4 * 1024 * 1024);
	(void)snprintf(url, sizeof(url), "%s/Microsoft-Server-ActiveSync?%s",
		       h->base_url, query);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, cas_harness_on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	if (userpwd != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
	}
	hdrs = curl_slist_append(hdrs,
				 "Content-Type: application/vnd.ms-sync.wbxml");
	hdrs = curl_slist_append(hdrs, "User-Agent: Harness/1.0");
	if (version != NULL) {
		(void)snprintf(line, sizeof(line), "MS-ASProtocolVersion: %s",
			       version);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (policy_key != NULL) {
		(void)snprintf(line, sizeof(line), "X-MS-PolicyKey: %s",
			       policy_key);
		hdrs = curl_slist_append(hdrs, line);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		if (ct != NULL)
			(void)snprintf(r->content_type, sizeof(r->content_type),
				       "%s", ct);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		fprintf(stderr, "curl: %s\n", curl_easy_strerror(rc));
		return -1;
	}
	if (r->body.len > 0)
		(void)wbxml_tree_parse(r->body.data, r->body.len, &r->tree,
				       NULL, NULL);
	return 0;
}

/* The standard plain query for a command from device HARNESSDEV1. */
static inline void
cas_harness_query(char *out, size_t size, const char *cmd,
		  const char *device_id)
{
	(void)snprintf(out, size,
		       "Cmd=%s&User=alice&DeviceId=%s&DeviceType=TestPhone",
		       cmd, device_id);
}

/* Integer content of the element at path under the reply's root, or -1. */
static inline long
cas_reply_uint(const struct cas_reply *r, const uint16_t *path, size_t n)
{
	const struct wbxml_node *node;
	uint64_t v;

	if (r->tree == NULL)
		return -1;
	node = n == 0 ? wbxml_tree_root(r->tree)
		      : wbxml_node_path(wbxml_tree_root(r->tree), path, n);
	if (node == NULL || wbxml_node_uint(node, 0, UINT32_MAX, &v, NULL) != 0)
		return -1;
	return (long)v;
}

static inline const char *
cas_reply_str(const struct cas_reply *r, const uint16_t *path, size_t n)
{
	const struct wbxml_node *node;
	const char *s = NULL;

	if (r->tree == NULL)
		return NULL;
	node = wbxml_node_path(wbxml_tree_root(r->tree), path, n);
	if (node == NULL || wbxml_node_str(node, 4096, &s, NULL, NULL) != 0)
		return NULL;
	return s;
}

/* Provision request bodies (MS-ASPROV 3.1.5.1). */
static inline void
cas_harness_provision_body(struct buf *b, const char *policy_type,
			   uint32_t ack_key, unsigned client_status,
			   bool device_info)
{
	struct wbxml_enc e;

	buf_init(b, 64 * 1024);
	wbxml_enc_init_buf(&e, b);
	(void)wbxml_enc_start(&e, EAS_PROVISION_PROVISION);
	if (device_info) {
		(void)wbxml_enc_start(&e, EAS_SETTINGS_DEVICE_INFORMATION);
		(void)wbxml_enc_start(&e, EAS_SETTINGS_SET);
		(void)wbxml_enc_str(&e, EAS_SETTINGS_MODEL, "Pixel 8");
		(void)wbxml_enc_str(&e, EAS_SETTINGS_OS, "Android 14");
		(void)wbxml_enc_str(&e, EAS_SETTINGS_FRIENDLY_NAME, "Phone");
		(void)wbxml_enc_end(&e);
		(void)wbxml_enc_end(&e);
	}
	(void)wbxml_enc_start(&e, EAS_PROVISION_POLICIES);
	(void)wbxml_enc_start(&e, EAS_PROVISION_POLICY);
	(void)wbxml_enc_str(&e, EAS_PROVISION_POLICY_TYPE, policy_type);
	if (ack_key != 0) {
		(void)wbxml_enc_uint(&e, EAS_PROVISION_POLICY_KEY, ack_key);
		(void)wbxml_enc_uint(&e, EAS_PROVISION_STATUS, client_status);
	}
	(void)wbxml_enc_end(&e);
	(void)wbxml_enc_end(&e);
	(void)wbxml_enc_end(&e);
	(void)wbxml_enc_finish(&e);
}

static inline const char *
cas_harness_policy_type(const char *version)
{
	return strcmp(version, "2.5") == 0 ? "MS-WAP-Provisioning-XML"
					   : "MS-EAS-Provisioning-WBXML";
}

/* Full two-step Provision; the final key into key_r.  0 on success. */
static inline int
cas_harness_provision(struct cas_harness *h, const char *device_id,
		      const char *version, uint32_t *key_r)
{
	static const uint16_t key_path[] = {EAS_PROVISION_POLICIES,
					    EAS_PROVISION_POLICY,
					    EAS_PROVISION_POLICY_KEY};
	struct cas_reply r;
	struct buf b;
	char q[256], tk[24];
	long temp, final;

	cas_harness_query(q, sizeof(q), "Provision", device_id);
	cas_harness_provision_body(&b, cas_harness_policy_type(version), 0, 0,
				   false);
	if (cas_harness_post(h, q, version, "0", h->userpwd, b.data, b.len,
			     &r) != 0) {
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	temp = cas_reply_uint(&r, key_path, 3);
	cas_reply_free(&r);
	if (temp <= 0)
		return -1;
	cas_harness_provision_body(&b, cas_harness_policy_type(version),
				   (uint32_t)temp, 1, false);
	(void)snprintf(tk, sizeof(tk), "%ld", temp);
	if (cas_harness_post(h, q, version, tk, h->userpwd, b.data, b.len,
			     &r) != 0) {
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	final = cas_reply_uint(&r, key_path, 3);
	cas_reply_free(&r);
	if (final <= 0 || final == temp)
		return -1;
	*key_r = (uint32_t) final;
	return 0;
}

/* A FolderSync body with this SyncKey. */
static inline void
cas_harness_foldersync_body(struct buf *b, const char *sync_key)
{
	struct wbxml_enc e;

	buf_init(b, 4096);
	wbxml_enc_init_buf(&e, b);
	(void)wbxml_enc_start(&e, EAS_FOLDERHIERARCHY_FOLDER_SYNC);
	(void)wbxml_enc_str(&e, EAS_FOLDERHIERARCHY_SYNC_KEY, sync_key);
	(void)wbxml_enc_end(&e);
	(void)wbxml_enc_finish(&e);
}

/* POST a FolderSync with key; the reply in r. */
static inline int
cas_harness_foldersync(struct cas_harness *h, const char *device_id,
		       const char *version, const char *policy_key,
		       const char *sync_key, struct cas_reply *r)
{
	struct buf b;
	char q[256];
	int rc;

	cas_harness_query(q, sizeof(q), "FolderSync", device_id);
	cas_harness_foldersync_body(&b, sync_key);
	rc = cas_harness_post(h, q, version, policy_key, h->userpwd, b.data,
			      b.len, r);
	buf_free(&b);
	return rc;
}

#endif
