/* The Settings command and Autodiscover over HTTP, end to end through
 * the real HTTP server and request pipeline against the fake mailbox
 * (tests/unit/cas/cas_harness.h).  The fake's Oof, DevicePassword and
 * UserGet answers come from handlers below that keep what was set, so a
 * Get shows what a Set stored.
 *
 * Settings: Oof set then get (body conversion both ways), a partial Set
 * keeping the stored messages, conflicting times (Status 6, mailbox not
 * asked), mailbox refusals (5) and outages (4), DeviceInformation on the
 * device record, DevicePassword, UserInformation before and from 14.1,
 * RightsManagementInformation, malformed bodies (Status 2).
 * Autodiscover: authenticated POX (own address, alias, user-name
 * fallback, another user's address), 401 before the body is sent, 413,
 * DTD refused, GET refused, v2 JSON anonymous in both forms, another
 * protocol (400). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cas/autodiscover_http.h"
#include "proto/autodiscover.h"
#include "tests/unit/cas/cas_harness.h"

#define DEV "SETTINGSDEV"
#define PUBLIC_URL "https://mail.example.org"

static struct cas_harness h;
static char key[24];

/* ------------------------------------------------ fake mailbox state */

static struct {
	pthread_mutex_t lock;
	uint8_t oof[64 * 1024]; /* packed Rpc__OofSettings */
	size_t oof_len;
	char password[300];
	char password_device[80];
} fk = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int
on_oof_get(void *arg, struct fake_mailbox *fm, const struct rpc_request *req)
{
	Rpc__OofReply r;
	Rpc__OofSettings *s = NULL;
	int rc;

	(void)arg;
	rpc__oof_reply__init(&r);
	r.status = RPC__STATUS__STATUS_OK;
	pthread_mutex_lock(&fk.lock);
	if (fk.oof_len > 0)
		s = rpc__oof_settings__unpack(NULL, fk.oof_len, fk.oof);
	pthread_mutex_unlock(&fk.lock);
	r.oof = s;
	rc = fake_mailbox_reply(fm, req, &r.base);
	if (s != NULL)
		rpc__oof_settings__free_unpacked(s, NULL);
	return rc;
}

static int
on_oof_set(void *arg, struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__OofSetRequest *m = (const Rpc__OofSetRequest *)req->msg;
	Rpc__StatusReply r;

	(void)arg;
	rpc__status_reply__init(&r);
	r.status = RPC__STATUS__STATUS_OK;
	pthread_mutex_lock(&fk.lock);
	if (m->oof == NULL || m->user != h.user ||
	    rpc__oof_settings__get_packed_size(m->oof) > sizeof(fk.oof))
		r.status = RPC__STATUS__STATUS_INVALID;
	else
		fk.oof_len = rpc__oof_settings__pack(m->oof, fk.oof);
	pthread_mutex_unlock(&fk.lock);
	return fake_mailbox_reply(fm, req, &r.base);
}

static int
on_device_password(void *arg, struct fake_mailbox *fm,
		   const struct rpc_request *req)
{
	const Rpc__DevicePasswordRequest *m =
	    (const Rpc__DevicePasswordRequest *)req->msg;
	Rpc__StatusReply r;

	(void)arg;
	rpc__status_reply__init(&r);
	r.status = RPC__STATUS__STATUS_OK;
	pthread_mutex_lock(&fk.lock);
	(void)snprintf(fk.password, sizeof(fk.password), "%s", m->password);
	(void)snprintf(fk.password_device, sizeof(fk.password_device), "%s",
		       m->device_id);
	pthread_mutex_unlock(&fk.lock);
	return fake_mailbox_reply(fm, req, &r.base);
}

/* alice's directory entry: two addresses, primary first. */
static int
on_user_get(void *arg, struct fake_mailbox *fm, const struct rpc_request *req)
{
	const Rpc__UserGetRequest *m = (const Rpc__UserGetRequest *)req->msg;
	static char *addrs[] = {"alice@example.org", "a.smith@example.org"};
	Rpc__UserReply r;
	Rpc__UserInfo info;

	(void)arg;
	if (m->user != h.user && strcmp(m->login, HARNESS_LOGIN) != 0)
		return -1; /* the built-in answer */
	rpc__user_reply__init(&r);
	rpc__user_info__init(&info);
	info.user = h.user;
	info.login = HARNESS_LOGIN;
	info.primary_address = addrs[0];
	info.addresses = addrs;
	info.n_addresses = 2;
	info.display_name = "Alice Smith";
	r.status = RPC__STATUS__STATUS_OK;
	r.info = &info;
	return fake_mailbox_reply(fm, req, &r.base);
}

static int
setup(void **state)
{
	uint32_t k;
	struct cas_autodiscover_config ac = {
	    .public_url = PUBLIC_URL,
	    .domain = "example.org",
	};

	(void)state;
	if (cas_harness_start(&h) != 0 ||
	    cas_harness_provision(&h, DEV, "16.1", &k) != 0)
		return -1;
	(void)snprintf(key, sizeof(key), "%u", (unsigned)k);
	fake_mailbox_set_handler(h.fm, RPC__MSG_TYPE__MSG_OOF_GET, on_oof_get,
				 NULL);
	fake_mailbox_set_handler(h.fm, RPC__MSG_TYPE__MSG_OOF_SET, on_oof_set,
				 NULL);
	fake_mailbox_set_handler(h.fm, RPC__MSG_TYPE__MSG_DEVICE_PASSWORD,
				 on_device_password, NULL);
	fake_mailbox_set_handler(h.fm, RPC__MSG_TYPE__MSG_USER_GET, on_user_get,
				 NULL);
	ac.mbox = h.mc;
	return cas_autodiscover_configure(&ac);
}

static int
teardown(void **state)
{
	(void)state;
	cas_harness_stop(&h);
	return 0;
}

/* ------------------------------------------------------------ Settings */

/* Post <Settings>...</Settings> built by fill; the reply's tree. */
static void
settings_post(const char *version, void (*fill)(struct wbxml_enc *e),
	      struct cas_reply *r)
{
	struct buf b;
	struct wbxml_enc e;
	char q[256];

	buf_init(&b, 1u << 20);
	wbxml_enc_init_buf(&e, &b);
	(void)wbxml_enc_start(&e, EAS_SETTINGS_SETTINGS);
	fill(&e);
	(void)wbxml_enc_end(&e);
	assert_int_equal(wbxml_enc_finish(&e), 0);
	cas_harness_query(q, sizeof(q), "Settings", DEV);
	assert_int_equal(cas_harness_post(&h, q, version, key, HARNESS_USERPWD,
					  b.data, b.len, r),
			 0);
	buf_free(&b);
	assert_int_equal(r->status, 200);
	assert_non_null(r->tree);
	assert_int_equal(wbxml_node_tag(wbxml_tree_root(r->tree)),
			 EAS_SETTINGS_SETTINGS);
}

/* Status of the operation element `tag` in the reply. */
static long
op_status(const struct cas_reply *r, uint16_t tag)
{
	const uint16_t path[] = {tag, EAS_SETTINGS_STATUS};

	return cas_reply_uint(r, path, 2);
}

static void
oof_message(struct wbxml_enc *e, uint16_t audience, int enabled,
	    const char *reply, const char *body_type)
{
	wbxml_enc_start(e, EAS_SETTINGS_OOF_MESSAGE);
	wbxml_enc_empty(e, audience);
	wbxml_enc_uint(e, EAS_SETTINGS_ENABLED, (uint64_t)enabled);
	if (reply != NULL)
		wbxml_enc_str(e, EAS_SETTINGS_REPLY_MESSAGE, reply);
	if (body_type != NULL)
		wbxml_enc_str(e, EAS_SETTINGS_BODY_TYPE, body_type);
	wbxml_enc_end(e);
}

static void
fill_oof_set_on(struct wbxml_enc *e)
{
	wbxml_enc_start(e, EAS_SETTINGS_OOF);
	wbxml_enc_start(e, EAS_SETTINGS_SET);
	wbxml_enc_uint(e, EAS_SETTINGS_OOF_STATE, 1);
	oof_message(e, EAS_SETTINGS_APPLIES_TO_INTERNAL, 1, "Back Monday <3",
		    "Text");
	oof_message(e, EAS_SETTINGS_APPLIES_TO_EXTERNAL_UNKNOWN, 1,
		    "<p>Out of office</p>", "HTML");
	wbxml_enc_end(e);
	wbxml_enc_end(e);
}

static void
fill_oof_get_text(struct wbxml_enc *e)
{
	wbxml_enc_start(e, EAS_SETTINGS_OOF);
	wbxml_enc_start(e, EAS_SETTINGS_GET);
	wbxml_enc_str(e, EAS_SETTINGS_BODY_TYPE, "Text");
	wbxml_enc_end(e);
	wbxml_enc_end(e);
}

static void
fill_oof_get_html(struct wbxml_enc *e)
{
	wbxml_enc_start(e, EAS_SETTINGS_OOF);
	wbxml_enc_start(e, EAS_SETTINGS_GET);
	wbxml_enc_str(e, EAS_SETTINGS_BODY_TYPE, "HTML");
	wbxml_enc_end(e);
	wbxml_enc_end(e);
}

static void
fill_oof_state_off(struct wbxml_enc *e)
{
	wbxml_enc_start(e, EAS_SETTINGS_OOF);
	wbxml_enc_start(e, EAS_SETTINGS_SET);
	wbxml_enc_uint(e, EAS_SETTINGS_OOF_STATE, 0);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
}

static void
fill_oof_timed_no_window(struct wbxml_enc *e)
{
	wbxml_enc_start(e, EAS_SETTINGS_OOF);
	wbxml_enc_start(e, EAS_SETTINGS_SET);
	wbxml_enc_uint(e, EAS_SETTINGS_OOF_STATE, 2);
	wbxml_enc_end(e);
	wbxml_enc_end(e);
}

/* The n-th OofMessage of an Oof Get reply: enabled and reply text. */
static void
oof_get_message(const struct cas_reply *r, int n, long *enabled,
		const char **reply)
{
	const uint16_t path[] = {EAS_SETTINGS_OOF, EAS_SETTINGS_GET};
	const struct wbxml_node *get =
	    wbxml_node_path(wbxml_tree_root(r->tree), path, 2);
	const struct wbxml_node *m;
	uint64_t v = 0;

	assert_non_null(get);
	m = wbxml_node_child(get, EAS_SETTINGS_OOF_MESSAGE);
	for (int i = 0; i < n && m != NULL; i++)
		m = wbxml_node_next_same(m);
	assert_non_null(m);
	assert_int_equal(
	    wbxml_child_uint(m, EAS_SETTINGS_ENABLED, 0, 1, &v, NULL), 0);
	*enabled = (long)v;
	*reply = NULL;
	(void)wbxml_child_str(m, EAS_SETTINGS_REPLY_MESSAGE, 4096, reply, NULL,
			      NULL);
}

static void
test_oof_set_then_get(void **state)
{
	struct cas_reply r;
	const uint16_t state_path[] = {EAS_SETTINGS_OOF, EAS_SETTINGS_GET,
				       EAS_SETTINGS_OOF_STATE};
	long enabled;
	const char *text;
	unsigned sets = fake_mailbox_count(h.fm, RPC__MSG_TYPE__MSG_OOF_SET);

	(void)state;
	settings_post("16.1", fill_oof_set_on, &r);
	assert_int_equal(
	    cas_reply_uint(&r, (const uint16_t[]){EAS_SETTINGS_STATUS}, 1), 1);
	assert_int_equal(op_status(&r, EAS_SETTINGS_OOF), 1);
	cas_reply_free(&r);
	assert_int_equal(fake_mailbox_count(h.fm, RPC__MSG_TYPE__MSG_OOF_SET),
			 sets + 1);

	settings_post("16.1", fill_oof_get_text, &r);
	assert_int_equal(op_status(&r, EAS_SETTINGS_OOF), 1);
	assert_int_equal(cas_reply_uint(&r, state_path, 3), 1);
	oof_get_message(&r, 0, &enabled, &text);
	assert_int_equal(enabled, 1);
	assert_string_equal(text, "Back Monday <3");
	oof_get_message(&r, 1, &enabled, &text);
	assert_int_equal(enabled, 0);
	assert_null(text);
	oof_get_message(&r, 2, &enabled, &text);
	assert_int_equal(enabled, 1);
	assert_string_equal(text, "Out of office\n"); /* HTML as text */
	cas_reply_free(&r);

	settings_post("14.1", fill_oof_get_html, &r);
	oof_get_message(&r, 0, &enabled, &text);
	assert_string_equal(text, "Back Monday &lt;3"); /* text as HTML */
	cas_reply_free(&r);

	/* A Set naming only the state keeps the stored messages. */
	settings_post("16.1", fill_oof_state_off, &r);
	assert_int_equal(op_status(&r, EAS_SETTINGS_OOF), 1);
	cas_reply_free(&r);
	settings_post("16.1", fill_oof_get_text, &r);
	assert_int_equal(cas_reply_uint(&r, state_path, 3), 0);
	oof_get_message(&r, 0, &enabled, &text);
	assert_string_equal(text, "Back Monday <3");
	cas_reply_free(&r);
}

static void
test_oof_statuses(void **state)
{
	struct cas_reply r;
	unsigned sets;

	(void)state;
	/* Time-based without a window: 6, and the mailbox is not asked. */
	sets = fake_mailbox_count(h.fm, RPC__MSG_TYPE__MSG_OOF_SET);
	settings_post("16.1", fill_oof_timed_no_window, &r);
	assert_int_equal(op_status(&r, EAS_SETTINGS_OOF), 6);
	cas_reply_free(&r);
	assert_int_equal(fake_mailbox_count(h.fm, RPC__MSG_TYPE__MSG_OOF_SET),
			 sets);
	/* The mailbox refuses the values: 5; it is down: 4. */
	fake_mailbox_fail(h.fm, RPC__MSG_TYPE__MSG_OOF_SET,
			  RPC__STATUS__STATUS_INVALID);
	settings_post("16.1", fill_oof_set_on, &r);
	assert_int_equal(op_status(&r, EAS_SETTINGS_OOF), 5);
	cas_reply_free(&r);
	fake_mailbox_fail(h.fm, RPC__MSG_TYPE__MSG_OOF_SET,
			  RPC__STATUS__STATUS_UNSPECIFIED);
	fake_mailbox_fail(h.fm, RPC__MSG_TYPE__MSG_OOF_GET,
			  RPC__STATUS__STATUS_BUSY);
	settings_post("16.1", fill_oof_get_text, &r);
	assert_int_equal(op_status(&r, EAS_SETTINGS_OOF), 4);
	cas_reply_free(&r);
	fake_mailbox_fail(h.fm, RPC__MSG_TYPE__MSG_OOF_GET,
			  RPC__STATUS__STATUS_UNSPECIFIED);
}

static void
fill_device_info(struct wbxml_enc *e)
{
	wbxml_enc_start(e, EAS_SETTINGS_DEVICE_INFORMATION);
	wbxml_enc_start(e, EAS_SETTINGS_SET);
	wbxml_enc_str(e, EAS_SETTINGS_MODEL, "iPhone15,2");
	wbxml_enc_str(e, EAS_SETTINGS_FRIENDLY_NAME, "Alice's iPhone");
	wbxml_enc_str(e, EAS_SETTINGS_OS, "iOS 17.1");
	wbxml_enc_str(e, EAS_SETTINGS_OS_LANGUAGE, "en");
	wbxml_enc_end(e);
	wbxml_enc_end(e);
}

static void
fill_device_password(struct wbxml_enc *e)
{
	wbxml_enc_start(e, EAS_SETTINGS_DEVICE_PASSWORD);
	wbxml_enc_start(e, EAS_SETTINGS_SET);
	wbxml_enc_str(e, EAS_SETTINGS_PASSWORD, "recover-me-42");
	wbxml_enc_end(e);
	wbxml_enc_end(e);
}

static void
test_device_information_and_password(void **state)
{
	struct cas_reply r;
	struct fake_device d;

	(void)state;
	settings_post("16.1", fill_device_info, &r);
	assert_int_equal(op_status(&r, EAS_SETTINGS_DEVICE_INFORMATION), 1);
	cas_reply_free(&r);
	assert_int_equal(fake_mailbox_device(h.fm, h.user, DEV, &d), 0);
	assert_string_equal(d.model, "iPhone15,2");
	assert_string_equal(d.friendly_name, "Alice's iPhone");
	assert_string_equal(d.os, "iOS 17.1");

	settings_post("16.1", fill_device_password, &r);
	assert_int_equal(op_status(&r, EAS_SETTINGS_DEVICE_PASSWORD), 1);
	cas_reply_free(&r);
	pthread_mutex_lock(&fk.lock);
	assert_string_equal(fk.password, "recover-me-42");
	assert_string_equal(fk.password_device, DEV);
	pthread_mutex_unlock(&fk.lock);
}

static void
fill_user_and_rights(struct wbxml_enc *e)
{
	wbxml_enc_start(e, EAS_SETTINGS_USER_INFORMATION);
	wbxml_enc_empty(e, EAS_SETTINGS_GET);
	wbxml_enc_end(e);
	wbxml_enc_start(e, EAS_SETTINGS_RIGHTS_MANAGEMENT_INFORMATION);
	wbxml_enc_empty(e, EAS_SETTINGS_GET);
	wbxml_enc_end(e);
}

static void
test_user_information_and_rights(void **state)
{
	struct cas_reply r;
	const uint16_t p161[] = {
	    EAS_SETTINGS_USER_INFORMATION, EAS_SETTINGS_GET,
	    EAS_SETTINGS_ACCOUNTS,         EAS_SETTINGS_ACCOUNT,
	    EAS_SETTINGS_EMAIL_ADDRESSES,  EAS_SETTINGS_PRIMARY_SMTP_ADDRESS};
	const uint16_t name[] = {EAS_SETTINGS_USER_INFORMATION,
				 EAS_SETTINGS_GET, EAS_SETTINGS_ACCOUNTS,
				 EAS_SETTINGS_ACCOUNT,
				 EAS_SETTINGS_USER_DISPLAY_NAME};
	const uint16_t p140[] = {EAS_SETTINGS_USER_INFORMATION,
				 EAS_SETTINGS_GET,
				 EAS_SETTINGS_EMAIL_ADDRESSES};
	const uint16_t rights[] = {
	    EAS_SETTINGS_RIGHTS_MANAGEMENT_INFORMATION, EAS_SETTINGS_GET,
	    EAS_RIGHTSMANAGEMENT_RIGHTS_MANAGEMENT_TEMPLATES};
	const struct wbxml_node *n;

	(void)state;
	settings_post("16.1", fill_user_and_rights, &r);
	assert_int_equal(op_status(&r, EAS_SETTINGS_USER_INFORMATION), 1);
	assert_string_equal(cas_reply_str(&r, p161, 6), "alice@example.org");
	assert_string_equal(cas_reply_str(&r, name, 5), "Alice Smith");
	assert_int_equal(
	    op_status(&r, EAS_SETTINGS_RIGHTS_MANAGEMENT_INFORMATION), 1);
	n = wbxml_node_path(wbxml_tree_root(r.tree), rights, 3);
	assert_non_null(n);
	assert_true(wbxml_node_is_empty(n));
	cas_reply_free(&r);

	/* 14.0: the addresses directly, every alias, primary first. */
	settings_post("14.0", fill_user_and_rights, &r);
	n = wbxml_node_path(wbxml_tree_root(r.tree), p140, 3);
	assert_non_null(n);
	assert_int_equal(
	    wbxml_node_count_children(n, EAS_SETTINGS_SMTP_ADDRESS), 2);
	assert_string_equal(
	    cas_reply_str(&r,
			  (const uint16_t[]){EAS_SETTINGS_USER_INFORMATION,
					     EAS_SETTINGS_GET,
					     EAS_SETTINGS_EMAIL_ADDRESSES,
					     EAS_SETTINGS_SMTP_ADDRESS},
			  4),
	    "alice@example.org");
	cas_reply_free(&r);
}

static void
fill_malformed(struct wbxml_enc *e)
{
	wbxml_enc_start(e, EAS_SETTINGS_OOF);
	wbxml_enc_empty(e, EAS_SETTINGS_GET);
	wbxml_enc_empty(e, EAS_SETTINGS_SET);
	wbxml_enc_end(e);
}

static void
test_malformed(void **state)
{
	struct cas_reply r;

	(void)state;
	settings_post("16.1", fill_malformed, &r);
	assert_int_equal(
	    cas_reply_uint(&r, (const uint16_t[]){EAS_SETTINGS_STATUS}, 1), 2);
	assert_null(
	    wbxml_node_child(wbxml_tree_root(r.tree), EAS_SETTINGS_OOF));
	cas_reply_free(&r);
	/* The server goes on serving. */
	settings_post("16.1", fill_user_and_rights, &r);
	assert_int_equal(op_status(&r, EAS_SETTINGS_USER_INFORMATION), 1);
	cas_reply_free(&r);
}

/* -------------------------------------------------------- Autodiscover */

struct http_reply {
	long status;
	struct buf body;
	bool challenge; /* WWW-Authenticate: Basic */
};

static size_t
on_header(char *data, size_t size, size_t n, void *ud)
{
	struct http_reply *r = ud;

	if (size * n > 17 && strncasecmp(data, "WWW-Authenticate:", 17) == 0 &&
	    strstr(data, "Basic") != NULL)
		r->challenge = true;
	return size * n;
}

static size_t
on_body(char *data, size_t size, size_t n, void *ud)
{
	struct http_reply *r = ud;

	return buf_append(&r->body, data, size * n) == 0 ? size * n : 0;
}

/* A request to path (with query) by method, with body (POST) and
 * optional credentials. */
static void
http_do(const char *method, const char *path, const char *body, size_t len,
	const char *userpwd, struct http_reply *r)
{
	CURL *c = curl_easy_init();
	char url[1024];

	memset(r, 0, sizeof(*r));
	buf_init(&r->body, 1u << 20);
	(void)snprintf(url, sizeof(url), "%s%s", h.base_url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	if (userpwd != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
	}
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	(void)buf_str(&r->body);
}

static void
pox_body(const char *email, char *out, size_t size)
{
	(void)snprintf(
	    out, size,
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	    "<Autodiscover xmlns=\"" AUTODISCOVER_NS_MOBILESYNC_REQUEST
	    "\"><Request><EMailAddress>%s</EMailAddress>"
	    "<AcceptableResponseSchema>" AUTODISCOVER_NS_MOBILESYNC_RESPONSE
	    "</AcceptableResponseSchema></Request></Autodiscover>",
	    email);
}

static void
test_autodiscover_pox(void **state)
{
	struct http_reply r;
	char body[2048];
	const char *url =
	    "<Url>" PUBLIC_URL "/Microsoft-Server-ActiveSync</Url>";

	(void)state;
	/* Own address. */
	pox_body("alice@example.org", body, sizeof(body));
	http_do("POST", "/autodiscover/autodiscover.xml", body, strlen(body),
		HARNESS_USERPWD, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(buf_str(&r.body), url));
	assert_non_null(
	    strstr(buf_str(&r.body),
		   "<EMailAddress>alice@example.org</EMailAddress>"));
	assert_non_null(strstr(buf_str(&r.body), "Alice Smith"));
	buf_free(&r.body);
	/* An alias, any case of the path: the primary is returned. */
	pox_body("A.Smith@example.org", body, sizeof(body));
	http_do("POST", "/Autodiscover/Autodiscover.xml", body, strlen(body),
		HARNESS_USERPWD, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(buf_str(&r.body), url));
	assert_non_null(
	    strstr(buf_str(&r.body),
		   "<EMailAddress>alice@example.org</EMailAddress>"));
	buf_free(&r.body);
	/* No address in the body: the user name + autodiscover_domain. */
	pox_body("", body, sizeof(body));
	http_do("POST", "/autodiscover/autodiscover.xml", body, strlen(body),
		HARNESS_USERPWD, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(buf_str(&r.body), url));
	buf_free(&r.body);
	/* Someone else's address: error 600, no URL. */
	pox_body("bob@example.org", body, sizeof(body));
	http_do("POST", "/autodiscover/autodiscover.xml", body, strlen(body),
		HARNESS_USERPWD, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(buf_str(&r.body), "<ErrorCode>600</ErrorCode>"));
	assert_null(strstr(buf_str(&r.body), "<Url>"));
	buf_free(&r.body);
	/* Wrong password: 401 with the challenge. */
	http_do("POST", "/autodiscover/autodiscover.xml", body, strlen(body),
		HARNESS_LOGIN ":wrong", &r);
	assert_int_equal(r.status, 401);
	assert_true(r.challenge);
	buf_free(&r.body);
	/* GET is not POX. */
	http_do("GET", "/autodiscover/autodiscover.xml", NULL, 0,
		HARNESS_USERPWD, &r);
	assert_int_equal(r.status, 405);
	buf_free(&r.body);
}

static void
test_autodiscover_limits(void **state)
{
	struct http_reply r;
	char *big = malloc(AUTODISCOVER_MAX_BODY_BYTES + 100);
	const char *dtd = "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x "
			  "\"y\">]><Autodiscover><Request><EMailAddress>&x;"
			  "</EMailAddress></Request></Autodiscover>";

	(void)state;
	assert_non_null(big);
	memset(big, ' ', AUTODISCOVER_MAX_BODY_BYTES + 100);
	http_do("POST", "/autodiscover/autodiscover.xml", big,
		AUTODISCOVER_MAX_BODY_BYTES + 100, HARNESS_USERPWD, &r);
	assert_int_equal(r.status, 413);
	buf_free(&r.body);
	free(big);
	http_do("POST", "/autodiscover/autodiscover.xml", dtd, strlen(dtd),
		HARNESS_USERPWD, &r);
	assert_int_equal(r.status, 400);
	buf_free(&r.body);
}

/* 401 arrives although the announced body was never sent. */
static void
test_autodiscover_401_before_body(void **state)
{
	struct sockaddr_in a;
	char req[256], resp[1024];
	size_t got = 0;
	int fd;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)cas_http_port(h.http, false));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	(void)snprintf(req, sizeof(req),
		       "POST /autodiscover/autodiscover.xml HTTP/1.1\r\n"
		       "Host: mail.example.org\r\n"
		       "Content-Type: text/xml\r\n"
		       "Content-Length: 4000\r\n\r\n");
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	/* Bounded wait: 5 s for the status line. */
	while (got < sizeof(resp) - 1 && memchr(resp, '\n', got) == NULL) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		assert_int_equal(poll(&p, 1, 5000), 1);
		n = read(fd, resp + got, sizeof(resp) - 1 - got);
		assert_true(n > 0);
		got += (size_t)n;
	}
	resp[got] = 0;
	close(fd);
	assert_non_null(strstr(resp, " 401 "));
}

static void
test_autodiscover_json(void **state)
{
	struct http_reply r;
	const char *want = "{\"Protocol\":\"ActiveSync\",\"Url\":\"" PUBLIC_URL
			   "/Microsoft-Server-ActiveSync\"}";

	(void)state;
	http_do("GET",
		"/autodiscover/autodiscover.json?Email=alice%40example.org&"
		"Protocol=ActiveSync",
		NULL, 0, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(buf_str(&r.body), want);
	buf_free(&r.body);
	http_do("GET",
		"/autodiscover/autodiscover.json/v1.0/alice@example.org?"
		"Protocol=ActiveSync",
		NULL, 0, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(buf_str(&r.body), want);
	buf_free(&r.body);
	http_do("GET",
		"/autodiscover/autodiscover.json?Email=alice@example.org&"
		"Protocol=Ews",
		NULL, 0, NULL, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(buf_str(&r.body), "InvalidProtocol"));
	buf_free(&r.body);
	http_do("GET", "/autodiscover/autodiscover.json?Email=%zz", NULL, 0,
		NULL, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(buf_str(&r.body), "ErrorCode"));
	buf_free(&r.body);
	http_do("POST", "/autodiscover/autodiscover.json", "", 0, NULL, &r);
	assert_int_equal(r.status, 405);
	buf_free(&r.body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_oof_set_then_get),
	    cmocka_unit_test(test_oof_statuses),
	    cmocka_unit_test(test_device_information_and_password),
	    cmocka_unit_test(test_user_information_and_rights),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_autodiscover_pox),
	    cmocka_unit_test(test_autodiscover_limits),
	    cmocka_unit_test(test_autodiscover_401_before_body),
	    cmocka_unit_test(test_autodiscover_json),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
