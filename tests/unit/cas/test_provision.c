/* Provision end to end: the HTTP server, the request pipeline and
 * cas/cmd_provision.c against the fake mailbox.  The two-step exchange
 * for 12.1, 14.1 (with DeviceInformation) and 16.1, the 2.5 WAP XML form,
 * acknowledgement replay and wrong keys, a changed policy, remote wipe and
 * account-only wipe with their acknowledgements, and malformed bodies.
 * Responses are decoded with the project's WBXML tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/cas/cas_harness.h"

static struct cas_harness h;

static const uint16_t P_STATUS[] = {EAS_PROVISION_STATUS};
static const uint16_t P_POLICY_STATUS[] = {
    EAS_PROVISION_POLICIES, EAS_PROVISION_POLICY, EAS_PROVISION_STATUS};
static const uint16_t P_POLICY_KEY[] = {
    EAS_PROVISION_POLICIES, EAS_PROVISION_POLICY, EAS_PROVISION_POLICY_KEY};
static const uint16_t P_POLICY_TYPE[] = {
    EAS_PROVISION_POLICIES, EAS_PROVISION_POLICY, EAS_PROVISION_POLICY_TYPE};
static const uint16_t P_DOC[] = {EAS_PROVISION_POLICIES, EAS_PROVISION_POLICY,
				 EAS_PROVISION_DATA,
				 EAS_PROVISION_EAS_PROVISION_DOC};
static const uint16_t P_DATA[] = {EAS_PROVISION_POLICIES, EAS_PROVISION_POLICY,
				  EAS_PROVISION_DATA};
static const uint16_t FS_STATUS[] = {EAS_FOLDERHIERARCHY_STATUS};

static int
setup(void **state)
{
	(void)state;
	return cas_harness_start(&h);
}

static int
teardown(void **state)
{
	(void)state;
	cas_harness_stop(&h);
	return 0;
}

static void
post_provision(const char *dev, const char *version, const char *key_hdr,
	       uint32_t ack_key, unsigned client_status, bool devinfo,
	       struct cas_reply *r)
{
	struct buf b;
	char q[256];

	cas_harness_query(q, sizeof(q), "Provision", dev);
	cas_harness_provision_body(&b, cas_harness_policy_type(version),
				   ack_key, client_status, devinfo);
	assert_int_equal(cas_harness_post(&h, q, version, key_hdr,
					  HARNESS_USERPWD, b.data, b.len, r),
			 0);
	buf_free(&b);
}

static void
post_raw(const char *dev, const char *version, const void *body, size_t len,
	 struct cas_reply *r)
{
	char q[256];

	cas_harness_query(q, sizeof(q), "Provision", dev);
	assert_int_equal(cas_harness_post(&h, q, version, "0", HARNESS_USERPWD,
					  body, len, r),
			 0);
}

/* The whole exchange for one version; returns the final key. */
static uint32_t
two_step(const char *dev, const char *version, bool devinfo)
{
	struct cas_reply r;
	struct fake_device d;
	const struct wbxml_node *doc, *n;
	long temp, final;
	char key[24];

	post_provision(dev, version, "0", 0, 0, devinfo, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, CAS_WBXML_CONTENT_TYPE);
	assert_non_null(r.tree);
	assert_int_equal(wbxml_node_tag(wbxml_tree_root(r.tree)),
			 EAS_PROVISION_PROVISION);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 1);
	assert_int_equal(cas_reply_uint(&r, P_POLICY_STATUS, 3), 1);
	assert_string_equal(cas_reply_str(&r, P_POLICY_TYPE, 3),
			    "MS-EAS-Provisioning-WBXML");
	temp = cas_reply_uint(&r, P_POLICY_KEY, 3);
	assert_true(temp > 0);
	/* The default policy: a complete document that demands nothing. */
	doc = wbxml_node_path(wbxml_tree_root(r.tree), P_DOC, 4);
	assert_non_null(doc);
	n = wbxml_node_child(doc, EAS_PROVISION_DEVICE_PASSWORD_ENABLED);
	assert_non_null(n);
	assert_memory_equal(n->data, "0", 2);
	assert_non_null(
	    wbxml_node_child(doc, EAS_PROVISION_REQUIRE_DEVICE_ENCRYPTION));
	assert_non_null(wbxml_node_child(doc, EAS_PROVISION_ALLOW_CAMERA));
	/* MS-ASPROV 6.3: DeviceInformation first, then Status. */
	n = wbxml_node_first(wbxml_tree_root(r.tree));
	if (devinfo) {
		static const uint16_t di[] = {EAS_SETTINGS_DEVICE_INFORMATION,
					      EAS_SETTINGS_STATUS};

		assert_int_equal(wbxml_node_tag(n),
				 EAS_SETTINGS_DEVICE_INFORMATION);
		assert_int_equal(cas_reply_uint(&r, di, 2), 1);
	} else {
		assert_int_equal(wbxml_node_tag(n), EAS_PROVISION_STATUS);
	}
	cas_reply_free(&r);
	assert_int_equal(fake_mailbox_device(h.fm, h.user, dev, &d), 0);
	assert_int_equal(d.key_state, RPC__POLICY_KEY_STATE__KEY_TEMPORARY);
	if (devinfo) {
		assert_string_equal(d.model, "Pixel 8");
		assert_string_equal(d.os, "Android 14");
	}

	/* Acknowledgement: the final key. */
	(void)snprintf(key, sizeof(key), "%ld", temp);
	post_provision(dev, version, key, (uint32_t)temp, 1, false, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 1);
	assert_int_equal(cas_reply_uint(&r, P_POLICY_STATUS, 3), 1);
	final = cas_reply_uint(&r, P_POLICY_KEY, 3);
	assert_true(final > 0);
	assert_true(final != temp);
	assert_null(wbxml_node_path(wbxml_tree_root(r.tree), P_DATA, 3));
	cas_reply_free(&r);
	assert_int_equal(fake_mailbox_device(h.fm, h.user, dev, &d), 0);
	assert_int_equal(d.key_state, RPC__POLICY_KEY_STATE__KEY_FINAL);

	/* A repeated acknowledgement (lost response) gets the same key. */
	post_provision(dev, version, key, (uint32_t)temp, 1, false, &r);
	assert_int_equal(cas_reply_uint(&r, P_POLICY_STATUS, 3), 1);
	assert_int_equal(cas_reply_uint(&r, P_POLICY_KEY, 3), final);
	cas_reply_free(&r);

	/* A key that was never issued: Policy Status 5. */
	post_provision(dev, version, key, 12345u, 1, false, &r);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 1);
	assert_int_equal(cas_reply_uint(&r, P_POLICY_STATUS, 3), 5);
	cas_reply_free(&r);

	/* The final key opens other commands. */
	(void)snprintf(key, sizeof(key), "%ld", final);
	assert_int_equal(cas_harness_foldersync(&h, dev, version, key, "0", &r),
			 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(cas_reply_uint(&r, FS_STATUS, 1), 1);
	cas_reply_free(&r);
	return (uint32_t) final;
}

static void
test_provision_12_1(void **state)
{
	(void)state;
	(void)two_step("PROV121", "12.1", false);
}

static void
test_provision_14_1_device_information(void **state)
{
	(void)state;
	(void)two_step("PROV141", "14.1", true);
}

static void
test_provision_16_1(void **state)
{
	(void)state;
	(void)two_step("PROV161", "16.1", true);
}

/* Protocol 2.5: the MS-WAP-Provisioning-XML document as text. */
static void
test_provision_2_5_wap_xml(void **state)
{
	struct cas_reply r;
	const char *data;
	long temp;
	char key[24];

	(void)state;
	post_provision("PROV25", "2.5", "0", 0, 0, false, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 1);
	assert_string_equal(cas_reply_str(&r, P_POLICY_TYPE, 3),
			    "MS-WAP-Provisioning-XML");
	data = cas_reply_str(&r, P_DATA, 3);
	assert_non_null(data);
	assert_non_null(strstr(data, "<wap-provisioningdoc>"));
	temp = cas_reply_uint(&r, P_POLICY_KEY, 3);
	assert_true(temp > 0);
	cas_reply_free(&r);
	(void)snprintf(key, sizeof(key), "%ld", temp);
	post_provision("PROV25", "2.5", key, (uint32_t)temp, 1, false, &r);
	assert_int_equal(cas_reply_uint(&r, P_POLICY_STATUS, 3), 1);
	assert_true(cas_reply_uint(&r, P_POLICY_KEY, 3) > 0);
	cas_reply_free(&r);
}

/* A 12.x client asking for the 2.5 document: Policy Status 3. */
static void
test_provision_wrong_policy_type(void **state)
{
	struct cas_reply r;
	struct buf b;
	char q[256];

	(void)state;
	cas_harness_query(q, sizeof(q), "Provision", "PROVTYPE");
	cas_harness_provision_body(&b, "MS-WAP-Provisioning-XML", 0, 0, false);
	assert_int_equal(cas_harness_post(&h, q, "14.0", "0", HARNESS_USERPWD,
					  b.data, b.len, &r),
			 0);
	buf_free(&b);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 1);
	assert_int_equal(cas_reply_uint(&r, P_POLICY_STATUS, 3), 3);
	cas_reply_free(&r);
}

/* An administrator's policy is sent, and a change means Status 143. */
static void
test_provision_policy_change(void **state)
{
	struct cas_reply r;
	struct policy *p = policy_new();
	struct policy_error err;
	struct buf text;
	uint32_t key;
	char k[24];
	const struct wbxml_node *n;

	(void)state;
	assert_int_equal(cas_harness_provision(&h, "PROVPOL", "14.1", &key), 0);
	(void)snprintf(k, sizeof(k), "%u", (unsigned)key);
	assert_int_equal(policy_set(p, "DevicePasswordEnabled", "1", &err), 0);
	assert_int_equal(policy_set(p, "MinDevicePasswordLength", "6", &err),
			 0);
	buf_init(&text, POLICY_MAX_TEXT_BYTES);
	assert_int_equal(policy_to_text(p, &text), 0);
	assert_int_equal(
	    fake_mailbox_set_policy(h.fm, "strict", buf_str(&text)), 0);
	assert_int_equal(fake_mailbox_assign_policy(h.fm, h.user, "strict"), 0);
	buf_free(&text);
	policy_free(&p);

	assert_int_equal(
	    cas_harness_foldersync(&h, "PROVPOL", "14.1", k, "0", &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(cas_reply_uint(&r, FS_STATUS, 1), 143);
	cas_reply_free(&r);
	/* ... before 14.0 the same situation is HTTP 449. */
	assert_int_equal(
	    cas_harness_foldersync(&h, "PROVPOL", "12.1", k, "0", &r), 0);
	assert_int_equal(r.status, 449);
	cas_reply_free(&r);

	post_provision("PROVPOL", "14.1", "0", 0, 0, false, &r);
	n = wbxml_node_path(wbxml_tree_root(r.tree), P_DOC, 4);
	assert_non_null(n);
	n = wbxml_node_child(n, EAS_PROVISION_MIN_DEVICE_PASSWORD_LENGTH);
	assert_non_null(n);
	assert_memory_equal(n->data, "6", 2);
	cas_reply_free(&r);
	assert_int_equal(cas_harness_provision(&h, "PROVPOL", "14.1", &key), 0);
	(void)snprintf(k, sizeof(k), "%u", (unsigned)key);
	assert_int_equal(
	    cas_harness_foldersync(&h, "PROVPOL", "14.1", k, "0", &r), 0);
	assert_int_equal(cas_reply_uint(&r, FS_STATUS, 1), 1);
	cas_reply_free(&r);
	assert_int_equal(fake_mailbox_assign_policy(h.fm, h.user, ""), 0);
}

/* A device that did not apply a strict policy is refused (403). */
static void
test_provision_not_applied(void **state)
{
	struct cas_reply r;
	long temp;
	char k[24];

	(void)state;
	assert_int_equal(
	    fake_mailbox_set_policy(h.fm, "pin",
				    "DevicePasswordEnabled=1\n"
				    "AllowNonProvisionableDevices=0\n"),
	    0);
	assert_int_equal(fake_mailbox_assign_policy(h.fm, h.user, "pin"), 0);
	post_provision("PROVNA", "14.1", "0", 0, 0, false, &r);
	temp = cas_reply_uint(&r, P_POLICY_KEY, 3);
	assert_true(temp > 0);
	cas_reply_free(&r);
	(void)snprintf(k, sizeof(k), "%ld", temp);
	post_provision("PROVNA", "14.1", k, (uint32_t)temp, 2, false, &r);
	assert_int_equal(r.status, 403);
	cas_reply_free(&r);
	assert_int_equal(fake_mailbox_assign_policy(h.fm, h.user, ""), 0);
}

static void
wipe_body(struct buf *b, uint16_t element, unsigned status)
{
	struct wbxml_enc e;

	buf_init(b, 1024);
	wbxml_enc_init_buf(&e, b);
	(void)wbxml_enc_start(&e, EAS_PROVISION_PROVISION);
	(void)wbxml_enc_start(&e, element);
	(void)wbxml_enc_uint(&e, EAS_PROVISION_STATUS, status);
	(void)wbxml_enc_end(&e);
	(void)wbxml_enc_end(&e);
	(void)wbxml_enc_finish(&e);
}

/* RemoteWipe: Status 140 elsewhere, the directive in Provision, the
 * acknowledgement stored durably, then the device is refused. */
static void
test_provision_remote_wipe(void **state)
{
	struct cas_reply r;
	struct fake_device d;
	struct buf b;
	uint32_t key;
	char k[24];

	(void)state;
	assert_int_equal(cas_harness_provision(&h, "WIPE141", "14.1", &key), 0);
	(void)snprintf(k, sizeof(k), "%u", (unsigned)key);
	assert_int_equal(fake_mailbox_set_wipe(h.fm, h.user, "WIPE141",
					       RPC__WIPE_STATE__WIPE_REQUESTED),
			 0);
	assert_int_equal(
	    cas_harness_foldersync(&h, "WIPE141", "14.1", k, "0", &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(cas_reply_uint(&r, FS_STATUS, 1), 140);
	cas_reply_free(&r);

	/* MS-ASPROV 3.1.5.1.1: the client sends an empty Provision. */
	post_raw("WIPE141", "14.1", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 1);
	assert_non_null(wbxml_node_child(wbxml_tree_root(r.tree),
					 EAS_PROVISION_REMOTE_WIPE));
	assert_null(
	    wbxml_node_child(wbxml_tree_root(r.tree), EAS_PROVISION_POLICIES));
	cas_reply_free(&r);
	/* An initial policy request gets the directive too. */
	post_provision("WIPE141", "14.1", "0", 0, 0, false, &r);
	assert_non_null(wbxml_node_child(wbxml_tree_root(r.tree),
					 EAS_PROVISION_REMOTE_WIPE));
	cas_reply_free(&r);

	/* A failed wipe: Status 2 and the directive again. */
	wipe_body(&b, EAS_PROVISION_REMOTE_WIPE, 2);
	post_raw("WIPE141", "14.1", b.data, b.len, &r);
	buf_free(&b);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 2);
	assert_non_null(wbxml_node_child(wbxml_tree_root(r.tree),
					 EAS_PROVISION_REMOTE_WIPE));
	cas_reply_free(&r);
	assert_int_equal(fake_mailbox_device(h.fm, h.user, "WIPE141", &d), 0);
	assert_int_equal(d.wipe, RPC__WIPE_STATE__WIPE_REQUESTED);

	wipe_body(&b, EAS_PROVISION_REMOTE_WIPE, 1);
	post_raw("WIPE141", "14.1", b.data, b.len, &r);
	buf_free(&b);
	assert_int_equal(r.status, 200);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 1);
	cas_reply_free(&r);
	assert_int_equal(fake_mailbox_device(h.fm, h.user, "WIPE141", &d), 0);
	assert_int_equal(d.wipe, RPC__WIPE_STATE__WIPE_DONE);
	assert_int_equal(d.wipe_acks, 2);
	assert_int_equal(d.last_wipe_client_status, 1);

	/* Wiped: refused until an administrator clears it. */
	assert_int_equal(
	    cas_harness_foldersync(&h, "WIPE141", "14.1", k, "0", &r), 0);
	assert_int_equal(r.status, 403);
	cas_reply_free(&r);
}

/* 16.1: AccountOnlyRemoteWipe. Before 14.0 a pending wipe is 449. */
static void
test_provision_account_only_wipe(void **state)
{
	struct cas_reply r;
	struct fake_device d;
	struct buf b;
	uint32_t key;
	char k[24];

	(void)state;
	assert_int_equal(cas_harness_provision(&h, "WIPE161", "16.1", &key), 0);
	(void)snprintf(k, sizeof(k), "%u", (unsigned)key);
	assert_int_equal(
	    fake_mailbox_set_wipe(h.fm, h.user, "WIPE161",
				  RPC__WIPE_STATE__WIPE_ACCOUNT_REQUESTED),
	    0);
	post_raw("WIPE161", "16.1", NULL, 0, &r);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 1);
	assert_non_null(wbxml_node_child(
	    wbxml_tree_root(r.tree), EAS_PROVISION_ACCOUNT_ONLY_REMOTE_WIPE));
	assert_null(wbxml_node_child(wbxml_tree_root(r.tree),
				     EAS_PROVISION_REMOTE_WIPE));
	cas_reply_free(&r);
	wipe_body(&b, EAS_PROVISION_ACCOUNT_ONLY_REMOTE_WIPE, 1);
	post_raw("WIPE161", "16.1", b.data, b.len, &r);
	buf_free(&b);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 1);
	cas_reply_free(&r);
	assert_int_equal(fake_mailbox_device(h.fm, h.user, "WIPE161", &d), 0);
	assert_int_equal(d.wipe, RPC__WIPE_STATE__WIPE_DONE);

	assert_int_equal(cas_harness_provision(&h, "WIPE121", "12.1", &key), 0);
	(void)snprintf(k, sizeof(k), "%u", (unsigned)key);
	assert_int_equal(fake_mailbox_set_wipe(h.fm, h.user, "WIPE121",
					       RPC__WIPE_STATE__WIPE_REQUESTED),
			 0);
	assert_int_equal(
	    cas_harness_foldersync(&h, "WIPE121", "12.1", k, "0", &r), 0);
	assert_int_equal(r.status, 449);
	cas_reply_free(&r);
	/* A wipe acknowledgement nobody asked for: protocol error. */
	wipe_body(&b, EAS_PROVISION_ACCOUNT_ONLY_REMOTE_WIPE, 1);
	post_raw("WIPE121", "12.1", b.data, b.len, &r);
	buf_free(&b);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 2);
	cas_reply_free(&r);
}

/* Broken bodies: Status 2 (protocol error), and the server stays up. */
static void
test_provision_malformed(void **state)
{
	static const uint8_t garbage[] = {0x03, 0x01, 0x6a, 0x00, 0x00,
					  0x0e, 0x45, 0x46, 0x47};
	static const uint8_t wrong_root[] = {0x03, 0x01, 0x6a, 0x00,
					     0x00, 0x07, 0x56, 0x01};
	struct cas_reply r;
	struct buf b;
	struct wbxml_enc e;

	(void)state;
	post_raw("PROVBAD", "14.1", garbage, sizeof(garbage), &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 2);
	cas_reply_free(&r);
	post_raw("PROVBAD", "14.1", wrong_root, sizeof(wrong_root), &r);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 2);
	cas_reply_free(&r);
	post_raw("PROVBAD", "14.1", "\x03\x01", 2, &r);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 2);
	cas_reply_free(&r);
	/* No wipe pending and nothing asked for. */
	post_raw("PROVBAD", "14.1", NULL, 0, &r);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 2);
	cas_reply_free(&r);
	/* An acknowledgement without the client's Status. */
	buf_init(&b, 1024);
	wbxml_enc_init_buf(&e, &b);
	(void)wbxml_enc_start(&e, EAS_PROVISION_PROVISION);
	(void)wbxml_enc_start(&e, EAS_PROVISION_POLICIES);
	(void)wbxml_enc_start(&e, EAS_PROVISION_POLICY);
	(void)wbxml_enc_str(&e, EAS_PROVISION_POLICY_TYPE,
			    "MS-EAS-Provisioning-WBXML");
	(void)wbxml_enc_str(&e, EAS_PROVISION_POLICY_KEY, "12x");
	(void)wbxml_enc_end(&e);
	(void)wbxml_enc_end(&e);
	(void)wbxml_enc_end(&e);
	(void)wbxml_enc_finish(&e);
	post_raw("PROVBAD", "14.1", b.data, b.len, &r);
	buf_free(&b);
	assert_int_equal(cas_reply_uint(&r, P_STATUS, 1), 2);
	cas_reply_free(&r);
	/* Still serving. */
	(void)two_step("PROVBAD", "14.1", false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_provision_12_1),
	    cmocka_unit_test(test_provision_14_1_device_information),
	    cmocka_unit_test(test_provision_16_1),
	    cmocka_unit_test(test_provision_2_5_wap_xml),
	    cmocka_unit_test(test_provision_wrong_policy_type),
	    cmocka_unit_test(test_provision_policy_change),
	    cmocka_unit_test(test_provision_not_applied),
	    cmocka_unit_test(test_provision_remote_wipe),
	    cmocka_unit_test(test_provision_account_only_wipe),
	    cmocka_unit_test(test_provision_malformed),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
