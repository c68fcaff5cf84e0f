/*
 * `easctl probe`: a phone-like ActiveSync session against a server URL, the
 * administrator's connectivity check and the integration tests' client.
 *
 * Steps, one output line each with its timing: OPTIONS (protocol versions
 * announced), Provision (the two-step exchange of MS-ASPROV 3.1.5.1:
 * temporary key, acknowledgement, final key), FolderSync from SyncKey 0
 * (finds the Inbox, type 2), Sync of the Inbox from SyncKey 0 to the end of
 * MoreAvailable (HTML bodies truncated to 5 KB, as phones ask), a Sync Fetch
 * of one whole body, and a Ping on the Inbox that must return Status 2 when
 * a message arrives (with --lmtp the probe delivers that message itself,
 * after the Ping is under way).  Then an ItemOperations Fetch of an
 * attachment by FileReference (MS-ASCMD 2.2.1.10): with --lmtp the
 * probe's own message carries a small attachment whose bytes are checked;
 * without it, the first attachment the Sync saw (skipped when there is
 * none).  With --send-to ADDR a last step sends a message (SendMail with
 * SaveInSentItems: WBXML from 14.1, raw MIME on 12.1) and waits for its
 * copy in Sent Items, which the server saves once its relay took it.
 * Exit status 0 when every step passed.
 *
 * The HTTP client is libcurl (this file is its only user in tools/); the
 * WBXML is ours (proto/wbxml.h), so the probe also exercises the codec the
 * way a client does.
 */
#include "tools/easctl.h"

#include "proto/buf.h"
#include "proto/wbxml.h"
#include "proto/wbxml_tree.h"
#include "proto/wbxml_xml.h"

#include <curl/curl.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A response larger than this is a failure of the probe step. */
#define PROBE_MAX_RESPONSE_BYTES (64u * 1024u * 1024u)
/* Requests the probe builds are small. */
#define PROBE_MAX_REQUEST_BYTES (64u * 1024u)
/* Bound on Sync rounds while draining MoreAvailable. */
#define PROBE_MAX_SYNC_ROUNDS 10000
#define PROBE_WINDOW_SIZE 100
#define PROBE_TRUNCATION_BYTES 5120
#define PROBE_PING_HEARTBEAT_S 120
#define PROBE_MAX_PASSWORD_BYTES 1024
/* The attachment of the probe's own LMTP message, and its base64 form. */
#define PROBE_ATTACHMENT \
	"easctl probe attachment: fetched with ItemOperations.\n"
#define PROBE_ATTACHMENT_B64                                                   \
	"ZWFzY3RsIHByb2JlIGF0dGFjaG1lbnQ6IGZldGNoZWQgd2l0aCBJdGVtT3BlcmF0aW9u" \
	"cy4K"

struct probe {
	const char *url;
	const char *user;
	char password[PROBE_MAX_PASSWORD_BYTES];
	const char *version;
	char device_id[33];
	const char *lmtp;
	const char *cacert;
	bool insecure;
	bool verbose;
	char policy_key[16];
	char inbox_id[128];
	char first_item[128];
	char file_ref[257]; /* first attachment seen in a Sync */
	int failures;
	/* -- send step -- */
	const char *send_to;      /* --send-to: run the send step */
	char sent_id[128];        /* Sent Items (FolderSync type 5) */
	const char *content_type; /* of POST bodies; NULL: WBXML */
};

struct http_result {
	long status;
	struct buf body;
	char versions[256]; /* MS-ASProtocolVersions header */
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void report(struct probe *p, bool ok, const char *step, double start_ms,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
report(struct probe *p, bool ok, const char *step, double start_ms,
       const char *fmt, ...)
{
	va_list ap;

	printf("%-4s %-12s %9.1f ms  ", ok ? "ok" : "FAIL", step,
	       now_ms() - start_ms);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		p->failures++;
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_result *r = arg;

	if (buf_append(&r->body, data, size * nmemb) != 0)
		return 0;
	return size * nmemb;
}

static size_t
header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	static const char name[] = "MS-ASProtocolVersions:";
	struct http_result *r = arg;
	size_t len = size * nmemb;

	if (len > sizeof(name) - 1 &&
	    strncasecmp(data, name, sizeof(name) - 1) == 0) {
		size_t n = len - (sizeof(name) - 1);
		const char *v = data + sizeof(name) - 1;

		while (n > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			n--;
		}
		while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n'))
			n--;
		if (n >= sizeof(r->versions))
			n = sizeof(r->versions) - 1;
		memcpy(r->versions, v, n);
		r->versions[n] = 0;
	}
	return len;
}

/*
 * One HTTP request: method OPTIONS (body NULL) or POST with a WBXML body.
 * Returns 0 when the transfer worked (whatever the HTTP status), -1 with a
 * message on a transport failure.
 */
static int
probe_http(const struct probe *p, const char *cmd, const struct buf *body,
	   long timeout_s, struct http_result *r, char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	struct buf url;
	char line[128];
	char *user_esc = NULL;
	CURLcode rc;
	int ret = -1;

	buf_init(&url, 4096);
	buf_init(&r->body, PROBE_MAX_RESPONSE_BYTES);
	r->status = 0;
	r->versions[0] = 0;
	if (c == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		goto out;
	}
	user_esc = curl_easy_escape(c, p->user, 0);
	if (buf_append_str(&url, p->url) != 0 ||
	    (strstr(p->url, "/Microsoft-Server-ActiveSync") == NULL &&
	     buf_append_str(&url, "/Microsoft-Server-ActiveSync") != 0) ||
	    (cmd != NULL &&
	     buf_printf(&url,
			"?Cmd=%s&User=%s&DeviceId=%s&DeviceType=EasdProbe", cmd,
			user_esc != NULL ? user_esc : "", p->device_id) != 0)) {
		snprintf(err, errlen, "URL too long");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, buf_str(&url));
	curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(c, CURLOPT_USERNAME, p->user);
	curl_easy_setopt(c, CURLOPT_PASSWORD, p->password);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "easctl-probe/1");
	if (p->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (p->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, p->cacert);
	snprintf(line, sizeof(line), "MS-ASProtocolVersion: %s", p->version);
	hdrs = curl_slist_append(hdrs, line);
	if (p->policy_key[0] != 0) {
		snprintf(line, sizeof(line), "X-MS-PolicyKey: %s",
			 p->policy_key);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (body == NULL) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "OPTIONS");
		curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
	} else {
		snprintf(line, sizeof(line), "Content-Type: %s",
			 p->content_type != NULL
			     ? p->content_type
			     : "application/vnd.ms-sync.wbxml");
		hdrs = curl_slist_append(hdrs, line);
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body->len);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	ret = 0;
out:
	curl_free(user_esc);
	curl_slist_free_all(hdrs);
	if (c != NULL)
		curl_easy_cleanup(c);
	buf_free(&url);
	return ret;
}

/* A parsed response: the tree points into data, which lives as long. */
struct reply {
	struct wbxml_tree *tree;
	uint8_t *data;
};

static void
reply_free(struct reply *r)
{
	wbxml_tree_free(&r->tree);
	free(r->data);
	r->data = NULL;
}

/* --verbose: the request or response body as XML on stderr. */
static void
trace_body(const struct probe *p, const char *what, const char *cmd,
	   const struct buf *body)
{
	struct buf xml;
	struct wbxml_xml_error xerr = {{0}};

	if (!p->verbose || body == NULL || body->len == 0)
		return;
	buf_init(&xml, PROBE_MAX_RESPONSE_BYTES);
	if (wbxml_xml_decode(body->data, body->len, &xml, &xerr) == 0)
		fprintf(stderr, "--- %s %s\n%s\n", cmd, what, buf_str(&xml));
	else
		fprintf(stderr, "--- %s %s: %zu bytes, not WBXML: %s\n", cmd,
			what, body->len, xerr.msg);
	buf_free(&xml);
}

/* POST a WBXML request and parse a 200 response into a tree. */
static int
probe_command(const struct probe *p, const char *cmd, const struct buf *body,
	      long timeout_s, struct reply *rep_r, char *err, size_t errlen)
{
	struct http_result r;
	enum wbxml_err werr;
	size_t off;
	int ret = -1;

	rep_r->tree = NULL;
	rep_r->data = NULL;
	trace_body(p, "request", cmd, body);
	if (probe_http(p, cmd, body, timeout_s, &r, err, errlen) != 0)
		goto out;
	trace_body(p, "response", cmd, &r.body);
	if (r.status != 200) {
		snprintf(err, errlen, "HTTP %ld", r.status);
		goto out;
	}
	if (r.body.len == 0) {
		snprintf(err, errlen, "empty response body");
		goto out;
	}
	if (wbxml_tree_parse(r.body.data, r.body.len, &rep_r->tree, &werr,
			     &off) != 0) {
		snprintf(err, errlen, "bad WBXML at byte %zu: %s", off,
			 wbxml_strerror(werr));
		goto out;
	}
	/* The tree points into the body: it moves into the reply. */
	rep_r->data = buf_steal(&r.body, NULL);
	ret = 0;
out:
	buf_free(&r.body);
	return ret;
}

static uint64_t
child_uint(const struct wbxml_node *n, uint16_t tag, uint64_t def)
{
	uint64_t v;

	if (n == NULL || wbxml_child_uint(n, tag, 0, UINT32_MAX, &v, NULL) != 0)
		return def;
	return v;
}

static const char *
child_str(const struct wbxml_node *n, uint16_t tag)
{
	const char *s;

	if (n == NULL || wbxml_child_str(n, tag, 1024, &s, NULL, NULL) != 0)
		return NULL;
	return s;
}

static void
step_options(struct probe *p)
{
	double t0 = now_ms();
	struct http_result r;
	char err[256];

	if (probe_http(p, NULL, NULL, 30, &r, err, sizeof(err)) != 0) {
		report(p, false, "OPTIONS", t0, "%s", err);
		return;
	}
	if (r.status != 200 || strstr(r.versions, p->version) == NULL)
		report(p, false, "OPTIONS", t0,
		       "HTTP %ld, versions '%s' (want %s)", r.status,
		       r.versions, p->version);
	else
		report(p, true, "OPTIONS", t0, "versions %s", r.versions);
	buf_free(&r.body);
}

static int
provision_request(struct probe *p, const char *ack_key, char *key_r,
		  size_t key_size, uint64_t *status_r, char *err, size_t errlen)
{
	struct buf body;
	struct wbxml_enc e;
	struct reply rep = {0};
	const struct wbxml_node *root, *policy;
	const char *key;
	int ret = -1;

	buf_init(&body, PROBE_MAX_REQUEST_BYTES);
	wbxml_enc_init_buf(&e, &body);
	wbxml_enc_start(&e, EAS_PROVISION_PROVISION);
	wbxml_enc_start(&e, EAS_PROVISION_POLICIES);
	wbxml_enc_start(&e, EAS_PROVISION_POLICY);
	wbxml_enc_str(&e, EAS_PROVISION_POLICY_TYPE,
		      "MS-EAS-Provisioning-WBXML");
	if (ack_key != NULL) {
		wbxml_enc_str(&e, EAS_PROVISION_POLICY_KEY, ack_key);
		wbxml_enc_str(&e, EAS_PROVISION_STATUS, "1");
	}
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	if (wbxml_enc_finish(&e) != 0) {
		snprintf(err, errlen, "encode: %s",
			 wbxml_strerror(wbxml_enc_error(&e)));
		goto out;
	}
	if (probe_command(p, "Provision", &body, 60, &rep, err, errlen) != 0)
		goto out;
	root = wbxml_tree_root(rep.tree);
	*status_r = child_uint(root, EAS_PROVISION_STATUS, 0);
	policy =
	    wbxml_node_child(wbxml_node_child(root, EAS_PROVISION_POLICIES),
			     EAS_PROVISION_POLICY);
	key =
	    policy != NULL ? child_str(policy, EAS_PROVISION_POLICY_KEY) : NULL;
	if (*status_r != 1 || key == NULL) {
		snprintf(err, errlen, "Provision Status %llu, %s",
			 (unsigned long long)*status_r,
			 key == NULL ? "no PolicyKey" : "key present");
		goto out;
	}
	if (child_uint(policy, EAS_PROVISION_STATUS, 0) != 1) {
		snprintf(err, errlen, "Policy Status %llu",
			 (unsigned long long)child_uint(
			     policy, EAS_PROVISION_STATUS, 0));
		goto out;
	}
	snprintf(key_r, key_size, "%s", key);
	ret = 0;
out:
	reply_free(&rep);
	buf_free(&body);
	return ret;
}

static void
step_provision(struct probe *p)
{
	double t0 = now_ms();
	char temp_key[16], final_key[16], err[256];
	uint64_t status;

	p->policy_key[0] = 0;
	if (provision_request(p, NULL, temp_key, sizeof(temp_key), &status, err,
			      sizeof(err)) != 0) {
		report(p, false, "Provision", t0, "initial: %s", err);
		return;
	}
	if (provision_request(p, temp_key, final_key, sizeof(final_key),
			      &status, err, sizeof(err)) != 0) {
		report(p, false, "Provision", t0, "acknowledge: %s", err);
		return;
	}
	snprintf(p->policy_key, sizeof(p->policy_key), "%s", final_key);
	report(p, true, "Provision", t0, "temporary key %s, final key %s",
	       temp_key, final_key);
}

static void
step_foldersync(struct probe *p)
{
	double t0 = now_ms();
	struct buf body;
	struct wbxml_enc e;
	struct reply rep = {0};
	const struct wbxml_node *root, *changes, *add;
	char err[256];
	unsigned folders = 0;

	p->inbox_id[0] = 0;
	buf_init(&body, PROBE_MAX_REQUEST_BYTES);
	wbxml_enc_init_buf(&e, &body);
	wbxml_enc_start(&e, EAS_FOLDERHIERARCHY_FOLDER_SYNC);
	wbxml_enc_str(&e, EAS_FOLDERHIERARCHY_SYNC_KEY, "0");
	wbxml_enc_end(&e);
	wbxml_enc_finish(&e);
	if (probe_command(p, "FolderSync", &body, 60, &rep, err, sizeof(err)) !=
	    0) {
		report(p, false, "FolderSync", t0, "%s", err);
		goto out;
	}
	root = wbxml_tree_root(rep.tree);
	if (child_uint(root, EAS_FOLDERHIERARCHY_STATUS, 0) != 1) {
		report(p, false, "FolderSync", t0, "Status %llu",
		       (unsigned long long)child_uint(
			   root, EAS_FOLDERHIERARCHY_STATUS, 0));
		goto out;
	}
	changes = wbxml_node_child(root, EAS_FOLDERHIERARCHY_CHANGES);
	WBXML_FOREACH(add, changes, EAS_FOLDERHIERARCHY_ADD)
	{
		const char *id = child_str(add, EAS_FOLDERHIERARCHY_SERVER_ID);

		folders++;
		if (child_uint(add, EAS_FOLDERHIERARCHY_TYPE, 0) == 2 &&
		    id != NULL)
			snprintf(p->inbox_id, sizeof(p->inbox_id), "%s", id);
		if (child_uint(add, EAS_FOLDERHIERARCHY_TYPE, 0) == 5 &&
		    id != NULL)
			snprintf(p->sent_id, sizeof(p->sent_id), "%s", id);
	}
	if (p->inbox_id[0] == 0)
		report(p, false, "FolderSync", t0, "%u folders, no Inbox",
		       folders);
	else
		report(p, true, "FolderSync", t0, "%u folders, Inbox id %s",
		       folders, p->inbox_id);
out:
	reply_free(&rep);
	buf_free(&body);
}

/* Encode one Sync request for the Inbox; fetch_id != NULL asks for that
 * item's whole body through a Fetch command. */
static int
sync_body(const struct probe *p, const char *key, const char *fetch_id,
	  struct buf *body)
{
	struct wbxml_enc e;
	bool initial = strcmp(key, "0") == 0;

	wbxml_enc_init_buf(&e, body);
	wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
	wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTIONS);
	wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTION);
	wbxml_enc_str(&e, EAS_AIRSYNC_SYNC_KEY, key);
	wbxml_enc_str(&e, EAS_AIRSYNC_COLLECTION_ID, p->inbox_id);
	if (!initial) {
		if (fetch_id == NULL) {
			wbxml_enc_empty(&e, EAS_AIRSYNC_DELETES_AS_MOVES);
			wbxml_enc_empty(&e, EAS_AIRSYNC_GET_CHANGES);
			wbxml_enc_uint(&e, EAS_AIRSYNC_WINDOW_SIZE,
				       PROBE_WINDOW_SIZE);
		} else {
			/* Only the fetched item, no other changes. */
			wbxml_enc_str(&e, EAS_AIRSYNC_GET_CHANGES, "0");
		}
		wbxml_enc_start(&e, EAS_AIRSYNC_OPTIONS);
		wbxml_enc_start(&e, EAS_AIRSYNCBASE_BODY_PREFERENCE);
		wbxml_enc_uint(&e, EAS_AIRSYNCBASE_TYPE, 2);
		if (fetch_id == NULL)
			wbxml_enc_uint(&e, EAS_AIRSYNCBASE_TRUNCATION_SIZE,
				       PROBE_TRUNCATION_BYTES);
		wbxml_enc_end(&e);
		wbxml_enc_end(&e);
		if (fetch_id != NULL) {
			wbxml_enc_start(&e, EAS_AIRSYNC_COMMANDS);
			wbxml_enc_start(&e, EAS_AIRSYNC_FETCH);
			wbxml_enc_str(&e, EAS_AIRSYNC_SERVER_ID, fetch_id);
			wbxml_enc_end(&e);
			wbxml_enc_end(&e);
		}
	}
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	return wbxml_enc_finish(&e);
}

/* One Sync round; returns the collection element of the response. */
static int
sync_round(struct probe *p, char *key, size_t key_size, const char *fetch_id,
	   struct reply *rep_r, const struct wbxml_node **coll_r, char *err,
	   size_t errlen)
{
	struct buf body;
	const struct wbxml_node *coll;
	const char *newkey;
	uint64_t status;
	int ret = -1;

	buf_init(&body, PROBE_MAX_REQUEST_BYTES);
	if (sync_body(p, key, fetch_id, &body) != 0) {
		snprintf(err, errlen, "encode failed");
		goto out;
	}
	if (probe_command(p, "Sync", &body, 120, rep_r, err, errlen) != 0)
		goto out;
	coll = wbxml_node_child(wbxml_node_child(wbxml_tree_root(rep_r->tree),
						 EAS_AIRSYNC_COLLECTIONS),
				EAS_AIRSYNC_COLLECTION);
	status = child_uint(coll, EAS_AIRSYNC_STATUS, 0);
	newkey = child_str(coll, EAS_AIRSYNC_SYNC_KEY);
	if (coll == NULL || status != 1 || newkey == NULL) {
		snprintf(err, errlen, "Sync Status %llu%s",
			 (unsigned long long)status,
			 newkey == NULL ? ", no SyncKey" : "");
		goto out;
	}
	snprintf(key, key_size, "%s", newkey);
	*coll_r = coll;
	ret = 0;
out:
	buf_free(&body);
	return ret;
}

/* Remember the first attachment's FileReference of an Add (12.0+:
 * ApplicationData/airsyncbase:Attachments/Attachment). */
static void
note_file_ref(struct probe *p, const struct wbxml_node *add)
{
	const struct wbxml_node *data, *atts, *att;
	const char *ref;

	if (p->file_ref[0] != 0)
		return;
	data = wbxml_node_child(add, EAS_AIRSYNC_APPLICATION_DATA);
	atts = wbxml_node_child(data, EAS_AIRSYNCBASE_ATTACHMENTS);
	WBXML_FOREACH(att, atts, EAS_AIRSYNCBASE_ATTACHMENT)
	{
		ref = child_str(att, EAS_AIRSYNCBASE_FILE_REFERENCE);
		if (ref != NULL && ref[0] != 0) {
			snprintf(p->file_ref, sizeof(p->file_ref), "%s", ref);
			return;
		}
	}
}

static void
step_sync(struct probe *p, char *key, size_t key_size)
{
	double t0 = now_ms();
	struct reply rep = {0};
	const struct wbxml_node *coll, *cmds, *add;
	char err[256];
	unsigned items = 0, rounds = 0;
	bool more = true;

	snprintf(key, key_size, "0");
	p->first_item[0] = 0;
	p->file_ref[0] = 0;
	if (sync_round(p, key, key_size, NULL, &rep, &coll, err, sizeof(err)) !=
	    0) {
		report(p, false, "Sync", t0, "initial: %s", err);
		goto out;
	}
	reply_free(&rep);
	while (more && rounds < PROBE_MAX_SYNC_ROUNDS) {
		rounds++;
		if (sync_round(p, key, key_size, NULL, &rep, &coll, err,
			       sizeof(err)) != 0) {
			report(p, false, "Sync", t0, "round %u: %s", rounds,
			       err);
			goto out;
		}
		cmds = wbxml_node_child(coll, EAS_AIRSYNC_COMMANDS);
		WBXML_FOREACH(add, cmds, EAS_AIRSYNC_ADD)
		{
			const char *id = child_str(add, EAS_AIRSYNC_SERVER_ID);

			items++;
			if (p->first_item[0] == 0 && id != NULL)
				snprintf(p->first_item, sizeof(p->first_item),
					 "%s", id);
			note_file_ref(p, add);
		}
		more = wbxml_child_present(coll, EAS_AIRSYNC_MORE_AVAILABLE);
		reply_free(&rep);
	}
	report(p, !more, "Sync", t0, "%u items in %u rounds, SyncKey %s", items,
	       rounds, key);
out:
	reply_free(&rep);
}

static void
step_fetch(struct probe *p, char *key, size_t key_size)
{
	double t0 = now_ms();
	struct reply rep = {0};
	const struct wbxml_node *coll, *fetch, *data, *body;
	const uint8_t *bytes;
	size_t len = 0;
	char err[256];

	if (p->first_item[0] == 0) {
		report(p, true, "Fetch", t0, "skipped: the Inbox is empty");
		return;
	}
	if (sync_round(p, key, key_size, p->first_item, &rep, &coll, err,
		       sizeof(err)) != 0) {
		report(p, false, "Fetch", t0, "%s", err);
		goto out;
	}
	fetch = wbxml_node_child(wbxml_node_child(coll, EAS_AIRSYNC_RESPONSES),
				 EAS_AIRSYNC_FETCH);
	data = wbxml_node_child(fetch, EAS_AIRSYNC_APPLICATION_DATA);
	body = wbxml_node_child(data, EAS_AIRSYNCBASE_BODY);
	if (child_uint(fetch, EAS_AIRSYNC_STATUS, 0) != 1 || body == NULL ||
	    wbxml_child_bytes(body, EAS_AIRSYNCBASE_DATA,
			      PROBE_MAX_RESPONSE_BYTES, &bytes, &len,
			      NULL) != 0) {
		report(p, false, "Fetch", t0, "item %s: no body in response",
		       p->first_item);
		goto out;
	}
	if (child_uint(body, EAS_AIRSYNCBASE_TRUNCATED, 0) != 0)
		report(p, false, "Fetch", t0, "item %s: body still truncated",
		       p->first_item);
	else
		report(p, true, "Fetch", t0, "item %s: %zu bytes of body",
		       p->first_item, len);
out:
	reply_free(&rep);
}

/* Read one (possibly multi-line) SMTP/LMTP reply; returns its code. */
static int
lmtp_reply(int fd, char *line, size_t size)
{
	size_t n = 0;

	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);

		if (r <= 0)
			return -1;
		if (n + 1 < size)
			line[n++] = ch;
		if (ch == '\n') {
			line[n] = 0;
			if (n >= 4 && line[3] == '-') {
				n = 0; /* continuation line */
				continue;
			}
			return n >= 3
				   ? (line[0] - '0') * 100 +
					 (line[1] - '0') * 10 + (line[2] - '0')
				   : -1;
		}
	}
}

static int
lmtp_cmd(int fd, const char *cmd, int want, char *line, size_t size)
{
	size_t len = strlen(cmd);

	if (write(fd, cmd, len) != (ssize_t)len)
		return -1;
	return lmtp_reply(fd, line, size) == want ? 0 : -1;
}

/* Deliver one small test message to the probed user over LMTP. */
static int
lmtp_deliver(const struct probe *p, char *err, size_t errlen)
{
	char host[256], line[1024], msg[2048], rcpt[512];
	const char *colon = strrchr(p->lmtp, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	int fd = -1, ret = -1;
	time_t now = time(NULL);
	struct tm tm;
	char date[64];

	if (colon == NULL || (size_t)(colon - p->lmtp) >= sizeof(host)) {
		snprintf(err, errlen, "--lmtp wants HOST:PORT");
		return -1;
	}
	memcpy(host, p->lmtp, (size_t)(colon - p->lmtp));
	host[colon - p->lmtp] = 0;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || ai == NULL) {
		snprintf(err, errlen, "cannot resolve %s", p->lmtp);
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		snprintf(err, errlen, "cannot connect to %s", p->lmtp);
		goto out;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(rcpt, sizeof(rcpt), "RCPT TO:<%s>\r\n", p->user);
	snprintf(
	    msg, sizeof(msg),
	    "From: easctl probe <probe@localhost>\r\nTo: <%s>\r\n"
	    "Subject: easctl probe %ld\r\nDate: %s\r\n"
	    "Message-ID: <probe-%ld-%d@localhost>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"probe\"\r\n\r\n"
	    "--probe\r\nContent-Type: text/plain\r\n\r\n"
	    "This message tests Direct Push and attachments.\r\n"
	    "--probe\r\nContent-Type: text/plain; name=\"probe.txt\"\r\n"
	    "Content-Disposition: attachment; filename=\"probe.txt\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n" PROBE_ATTACHMENT_B64
	    "\r\n--probe--\r\n.\r\n",
	    p->user, (long)now, date, (long)now, (int)getpid());
	if (lmtp_reply(fd, line, sizeof(line)) != 220 ||
	    lmtp_cmd(fd, "LHLO probe\r\n", 250, line, sizeof(line)) != 0 ||
	    lmtp_cmd(fd, "MAIL FROM:<probe@localhost>\r\n", 250, line,
		     sizeof(line)) != 0 ||
	    lmtp_cmd(fd, rcpt, 250, line, sizeof(line)) != 0 ||
	    lmtp_cmd(fd, "DATA\r\n", 354, line, sizeof(line)) != 0 ||
	    lmtp_cmd(fd, msg, 250, line, sizeof(line)) != 0) {
		snprintf(err, errlen, "LMTP refused: %.200s", line);
		goto out;
	}
	(void)lmtp_cmd(fd, "QUIT\r\n", 221, line, sizeof(line));
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return ret;
}

struct ping_job {
	struct probe *p;
	uint64_t status;
	bool folder_listed;
	char err[256];
	int ret;
};

static void *
ping_thread(void *arg)
{
	struct ping_job *job = arg;
	struct buf body;
	struct wbxml_enc e;
	struct reply rep = {0};
	const struct wbxml_node *root, *folders, *f;

	buf_init(&body, PROBE_MAX_REQUEST_BYTES);
	wbxml_enc_init_buf(&e, &body);
	wbxml_enc_start(&e, EAS_PING_PING);
	wbxml_enc_uint(&e, EAS_PING_HEARTBEAT_INTERVAL, PROBE_PING_HEARTBEAT_S);
	wbxml_enc_start(&e, EAS_PING_FOLDERS);
	wbxml_enc_start(&e, EAS_PING_FOLDER);
	wbxml_enc_str(&e, EAS_PING_ID, job->p->inbox_id);
	wbxml_enc_str(&e, EAS_PING_CLASS, "Email");
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	wbxml_enc_finish(&e);
	job->ret =
	    probe_command(job->p, "Ping", &body, PROBE_PING_HEARTBEAT_S + 30,
			  &rep, job->err, sizeof(job->err));
	if (job->ret == 0) {
		root = wbxml_tree_root(rep.tree);
		job->status = child_uint(root, EAS_PING_STATUS, 0);
		folders = wbxml_node_child(root, EAS_PING_FOLDERS);
		WBXML_FOREACH(f, folders, EAS_PING_FOLDER)
		{
			const char *id;

			if (wbxml_node_str(f, 128, &id, NULL, NULL) == 0 &&
			    strcmp(id, job->p->inbox_id) == 0)
				job->folder_listed = true;
		}
	}
	reply_free(&rep);
	buf_free(&body);
	return NULL;
}

static void
step_ping(struct probe *p)
{
	double t0 = now_ms();
	struct ping_job job = {.p = p};
	pthread_t th;
	char err[256];

	if (pthread_create(&th, NULL, ping_thread, &job) != 0) {
		report(p, false, "Ping", t0, "cannot start thread");
		return;
	}
	if (p->lmtp != NULL) {
		/* Let the Ping be held first, so the wake-up is a push. */
		sleep(1);
		if (lmtp_deliver(p, err, sizeof(err)) != 0)
			report(p, false, "LMTP", t0, "%s", err);
		else
			report(p, true, "LMTP", t0, "test message delivered");
	}
	pthread_join(th, NULL);
	if (job.ret != 0)
		report(p, false, "Ping", t0, "%s", job.err);
	else if (job.status != 2 || !job.folder_listed)
		report(p, false, "Ping", t0,
		       "Status %llu (want 2 with the Inbox listed)",
		       (unsigned long long)job.status);
	else
		report(p, true, "Ping", t0, "Status 2: new mail in the Inbox");
}

/* ---- send step ---------------------------------------------------- */

/* Bound on the wait for the Sent Items copy (the relay's answer). */
#define PROBE_SEND_WAIT_ROUNDS 100
#define PROBE_SEND_WAIT_MS 200

/* Whether Sent Items holds a message with this Subject: a Sync from
 * SyncKey 0 to the end of MoreAvailable. */
static int
send_in_sent(struct probe *p, const char *subject, bool *found_r, char *err,
	     size_t errlen)
{
	char key[64] = "0";
	bool more = true;

	*found_r = false;
	for (unsigned round = 0; more && round < PROBE_MAX_SYNC_ROUNDS;
	     round++) {
		struct buf body;
		struct wbxml_enc e;
		struct reply rep = {0};
		const struct wbxml_node *coll, *add;
		const char *k;

		buf_init(&body, PROBE_MAX_REQUEST_BYTES);
		wbxml_enc_init_buf(&e, &body);
		wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
		wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTIONS);
		wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTION);
		wbxml_enc_str(&e, EAS_AIRSYNC_SYNC_KEY, key);
		wbxml_enc_str(&e, EAS_AIRSYNC_COLLECTION_ID, p->sent_id);
		if (round > 0)
			wbxml_enc_uint(&e, EAS_AIRSYNC_WINDOW_SIZE,
				       PROBE_WINDOW_SIZE);
		wbxml_enc_end(&e);
		wbxml_enc_end(&e);
		wbxml_enc_end(&e);
		if (wbxml_enc_finish(&e) != 0 ||
		    probe_command(p, "Sync", &body, 60, &rep, err, errlen) !=
			0) {
			buf_free(&body);
			return -1;
		}
		buf_free(&body);
		coll =
		    wbxml_node_child(wbxml_node_child(wbxml_tree_root(rep.tree),
						      EAS_AIRSYNC_COLLECTIONS),
				     EAS_AIRSYNC_COLLECTION);
		k = child_str(coll, EAS_AIRSYNC_SYNC_KEY);
		if (child_uint(coll, EAS_AIRSYNC_STATUS, 0) != 1 || k == NULL) {
			snprintf(err, errlen, "Sent Items Sync Status %llu",
				 (unsigned long long)child_uint(
				     coll, EAS_AIRSYNC_STATUS, 0));
			reply_free(&rep);
			return -1;
		}
		snprintf(key, sizeof(key), "%s", k);
		WBXML_FOREACH(add, wbxml_node_child(coll, EAS_AIRSYNC_COMMANDS),
			      EAS_AIRSYNC_ADD)
		{
			const char *subj = child_str(
			    wbxml_node_child(add, EAS_AIRSYNC_APPLICATION_DATA),
			    EAS_EMAIL_SUBJECT);

			if (subj != NULL && strcmp(subj, subject) == 0)
				*found_r = true;
		}
		more = round == 0 ||
		       wbxml_child_present(coll, EAS_AIRSYNC_MORE_AVAILABLE);
		reply_free(&rep);
	}
	return 0;
}

/* MS-ASCMD 2.2.1.17 SendMail to --send-to, saved in Sent Items. */
static void
step_send(struct probe *p)
{
	double t0 = now_ms();
	struct buf mime, body;
	struct wbxml_enc e;
	struct http_result r;
	char subject[96], client_id[40], err[256];
	unsigned char rnd[8];
	bool found = false;

	if (p->sent_id[0] == 0) {
		report(p, false, "Send", t0, "no Sent Items in FolderSync");
		return;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	snprintf(client_id, sizeof(client_id), "probe");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(client_id + 5 + 2 * i, 3, "%02x", rnd[i]);
	snprintf(subject, sizeof(subject), "easctl probe %s", client_id);
	buf_init(&mime, PROBE_MAX_REQUEST_BYTES);
	buf_init(&body, PROBE_MAX_REQUEST_BYTES);
	/* No From: the server sets the account's address. */
	(void)buf_printf(&mime,
			 "To: <%s>\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
			 "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
			 "Sent by easctl probe.\r\n",
			 p->send_to, subject);
	if (strcmp(p->version, "12.1") == 0) {
		/* Before 14.0 the body is the message (MS-ASCMD 2.2.1.17). */
		p->content_type = "message/rfc822";
		if (buf_append(&body, mime.data, mime.len) != 0) {
			report(p, false, "Send", t0, "message too large");
			goto out;
		}
	} else {
		wbxml_enc_init_buf(&e, &body);
		wbxml_enc_start(&e, EAS_COMPOSEMAIL_SEND_MAIL);
		wbxml_enc_str(&e, EAS_COMPOSEMAIL_CLIENT_ID, client_id);
		wbxml_enc_empty(&e, EAS_COMPOSEMAIL_SAVE_IN_SENT_ITEMS);
		wbxml_enc_opaque(&e, EAS_COMPOSEMAIL_MIME, mime.data, mime.len);
		wbxml_enc_end(&e);
		if (wbxml_enc_finish(&e) != 0) {
			report(p, false, "Send", t0, "encode failed");
			goto out;
		}
	}
	trace_body(p, "request", "SendMail", &body);
	if (probe_http(p,
		       p->content_type != NULL ? "SendMail&SaveInSent=T"
					       : "SendMail",
		       &body, 120, &r, err, sizeof(err)) != 0) {
		report(p, false, "Send", t0, "%s", err);
		goto out;
	}
	trace_body(p, "response", "SendMail", &r.body);
	/* Success is an empty 200; a failure has a Status (14.0+). */
	if (r.status != 200 || r.body.len != 0) {
		struct wbxml_tree *t = NULL;
		uint64_t st = 0;

		if (r.body.len > 0 && wbxml_tree_parse(r.body.data, r.body.len,
						       &t, NULL, NULL) == 0)
			st = child_uint(wbxml_tree_root(t),
					EAS_COMPOSEMAIL_STATUS, 0);
		wbxml_tree_free(&t);
		report(p, false, "Send", t0, "HTTP %ld, Status %llu", r.status,
		       (unsigned long long)st);
		buf_free(&r.body);
		goto out;
	}
	buf_free(&r.body);
	p->content_type = NULL;
	for (int i = 0; i < PROBE_SEND_WAIT_ROUNDS && !found; i++) {
		struct timespec ts = {0, PROBE_SEND_WAIT_MS * 1000000L};

		if (send_in_sent(p, subject, &found, err, sizeof(err)) != 0) {
			report(p, false, "Send", t0, "%s", err);
			goto out;
		}
		if (!found)
			nanosleep(&ts, NULL);
	}
	if (found)
		report(p, true, "Send", t0, "to %s, in Sent Items", p->send_to);
	else
		report(p, false, "Send", t0,
		       "sent to %s, never saved in Sent Items (relay?)",
		       p->send_to);
out:
	p->content_type = NULL;
	buf_free(&mime);
	buf_free(&body);
}

/* ItemOperations Fetch of p->file_ref (MS-ASCMD 2.2.1.10); with --lmtp
 * the probe's own message, synced now, provides it. */
static void
step_attachment(struct probe *p, char *key, size_t key_size)
{
	double t0 = now_ms();
	struct reply rep = {0};
	const struct wbxml_node *coll, *add, *fetch, *props;
	const uint8_t *bytes;
	struct wbxml_enc e;
	struct buf body;
	size_t len = 0;
	char err[256];

	buf_init(&body, PROBE_MAX_REQUEST_BYTES);
	if (p->lmtp != NULL) {
		/* The message the Ping step delivered. */
		p->file_ref[0] = 0;
		if (sync_round(p, key, key_size, NULL, &rep, &coll, err,
			       sizeof(err)) != 0) {
			report(p, false, "Attachment", t0, "Sync: %s", err);
			goto out;
		}
		WBXML_FOREACH(add, wbxml_node_child(coll, EAS_AIRSYNC_COMMANDS),
			      EAS_AIRSYNC_ADD)
		note_file_ref(p, add);
		reply_free(&rep);
		if (p->file_ref[0] == 0) {
			report(p, false, "Attachment", t0,
			       "the test message has no attachment");
			goto out;
		}
	} else if (p->file_ref[0] == 0) {
		report(p, true, "Attachment", t0,
		       "skipped: no attachment seen");
		goto out;
	}
	wbxml_enc_init_buf(&e, &body);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_ITEM_OPERATIONS);
	wbxml_enc_start(&e, EAS_ITEMOPERATIONS_FETCH);
	wbxml_enc_str(&e, EAS_ITEMOPERATIONS_STORE, "Mailbox");
	wbxml_enc_str(&e, EAS_AIRSYNCBASE_FILE_REFERENCE, p->file_ref);
	wbxml_enc_end(&e);
	wbxml_enc_end(&e);
	if (wbxml_enc_finish(&e) != 0 ||
	    probe_command(p, "ItemOperations", &body, 120, &rep, err,
			  sizeof(err)) != 0) {
		report(p, false, "Attachment", t0, "%s", err);
		goto out;
	}
	fetch = wbxml_node_child(wbxml_node_child(wbxml_tree_root(rep.tree),
						  EAS_ITEMOPERATIONS_RESPONSE),
				 EAS_ITEMOPERATIONS_FETCH);
	props = wbxml_node_child(fetch, EAS_ITEMOPERATIONS_PROPERTIES);
	if (child_uint(fetch, EAS_ITEMOPERATIONS_STATUS, 0) != 1 ||
	    wbxml_child_bytes(props, EAS_ITEMOPERATIONS_DATA,
			      PROBE_MAX_RESPONSE_BYTES, &bytes, &len,
			      NULL) != 0) {
		report(p, false, "Attachment", t0, "%s: Status %llu, no Data",
		       p->file_ref,
		       (unsigned long long)child_uint(
			   fetch, EAS_ITEMOPERATIONS_STATUS, 0));
		goto out;
	}
	if (p->lmtp != NULL && (len != sizeof(PROBE_ATTACHMENT) - 1 ||
				memcmp(bytes, PROBE_ATTACHMENT, len) != 0))
		report(p, false, "Attachment", t0,
		       "%s: %zu bytes, not the ones sent", p->file_ref, len);
	else
		report(p, true, "Attachment", t0,
		       "%s: %zu bytes by ItemOperations", p->file_ref, len);
out:
	reply_free(&rep);
	buf_free(&body);
}

static int
read_password(struct probe *p, bool from_stdin)
{
	const char *env = getenv("EASCTL_PASSWORD");
	size_t n;

	if (from_stdin) {
		if (fgets(p->password, sizeof(p->password), stdin) == NULL)
			return -1;
		n = strlen(p->password);
		while (n > 0 && (p->password[n - 1] == '\n' ||
				 p->password[n - 1] == '\r'))
			p->password[--n] = 0;
		return 0;
	}
	if (env == NULL || strlen(env) >= sizeof(p->password))
		return -1;
	snprintf(p->password, sizeof(p->password), "%s", env);
	return 0;
}

static const char probe_usage[] =
    "usage: easctl probe URL USER [--password-stdin] "
    "[--protocol 12.1|14.1|16.1]\n"
    "                    [--lmtp HOST:PORT] [--device-id ID] "
    "[--insecure] [--cacert FILE] [--verbose]\n"
    "                    [--send-to ADDR]\n"
    "Runs a phone-like session: OPTIONS, Provision, FolderSync, Sync of\n"
    "the Inbox to the end, a whole-body fetch, a Ping woken by a new\n"
    "message (delivered by the probe itself with --lmtp) and an\n"
    "ItemOperations fetch of an attachment.  The password\n"
    "comes from standard input (--password-stdin) or EASCTL_PASSWORD.\n"
    "--verbose prints every request and response body as XML on stderr.\n"
    "--send-to ADDR adds a SendMail to ADDR, checked by its copy in Sent\n"
    "Items (the server needs an smtp_relay).\n";

static int
probe_run(const struct easctl_ctx *ctx, int argc, char **argv)
{
	struct probe p;
	bool pw_stdin = false;
	char key[64];
	unsigned char rnd[8];
	int ret;

	(void)ctx;
	memset(&p, 0, sizeof(p));
	p.version = "14.1";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--password-stdin") == 0)
			pw_stdin = true;
		else if (strcmp(a, "--insecure") == 0)
			p.insecure = true;
		else if (strcmp(a, "--verbose") == 0)
			p.verbose = true;
		else if (strcmp(a, "--protocol") == 0 && i + 1 < argc)
			p.version = argv[++i];
		else if (strcmp(a, "--lmtp") == 0 && i + 1 < argc)
			p.lmtp = argv[++i];
		else if (strcmp(a, "--cacert") == 0 && i + 1 < argc)
			p.cacert = argv[++i];
		else if (strcmp(a, "--send-to") == 0 && i + 1 < argc)
			p.send_to = argv[++i];
		else if (strcmp(a, "--device-id") == 0 && i + 1 < argc)
			snprintf(p.device_id, sizeof(p.device_id), "%s",
				 argv[++i]);
		else if (a[0] == '-') {
			fprintf(stderr, "easctl probe: unknown option %s\n%s",
				a, probe_usage);
			return 2;
		} else if (p.url == NULL)
			p.url = a;
		else if (p.user == NULL)
			p.user = a;
		else {
			fputs(probe_usage, stderr);
			return 2;
		}
	}
	if (p.url == NULL || p.user == NULL) {
		fputs(probe_usage, stderr);
		return 2;
	}
	if (strcmp(p.version, "12.1") != 0 && strcmp(p.version, "14.1") != 0 &&
	    strcmp(p.version, "16.1") != 0) {
		fprintf(stderr, "easctl probe: --protocol must be 12.1, 14.1 "
				"or 16.1\n");
		return 2;
	}
	for (const char *c = p.device_id; *c != 0; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= 'A' && *c <= 'Z'))) {
			fprintf(stderr, "easctl probe: --device-id must be "
					"letters and digits\n");
			return 2;
		}
	if (p.send_to != NULL &&
	    (strchr(p.send_to, '@') == NULL || strlen(p.send_to) > 254 ||
	     strpbrk(p.send_to, " <>\r\n\t\"") != NULL)) {
		fprintf(stderr, "easctl probe: --send-to wants an address\n");
		return 2;
	}
	if (read_password(&p, pw_stdin) != 0) {
		fprintf(stderr, "easctl probe: no password (use "
				"--password-stdin or EASCTL_PASSWORD)\n");
		return 2;
	}
	if (p.device_id[0] == 0) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return 1;
		snprintf(p.device_id, sizeof(p.device_id), "probe");
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(p.device_id + 5 + 2 * i, 3, "%02x", rnd[i]);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	printf("probe %s as %s, protocol %s, device %s\n", p.url, p.user,
	       p.version, p.device_id);
	step_options(&p);
	if (p.failures == 0)
		step_provision(&p);
	if (p.failures == 0)
		step_foldersync(&p);
	if (p.failures == 0)
		step_sync(&p, key, sizeof(key));
	if (p.failures == 0)
		step_fetch(&p, key, sizeof(key));
	if (p.failures == 0)
		step_ping(&p);
	if (p.failures == 0)
		step_attachment(&p, key, sizeof(key));
	if (p.failures == 0 && p.send_to != NULL)
		step_send(&p);
	OPENSSL_cleanse(p.password, sizeof(p.password));
	curl_global_cleanup();
	ret = p.failures == 0 ? 0 : 1;
	printf("%s\n", ret == 0 ? "probe passed" : "probe FAILED");
	return ret;
}

static const struct easctl_command probe_command_def = {
    .name = "probe",
    .summary = "probe URL USER: run a phone-like session and time it",
    .usage = probe_usage,
    .run = probe_run,
};
EASCTL_COMMAND(probe_command_def)
