/* Unit tests for policy/provision_doc.c: the 2.5 WAP document is
 * well-formed XML (parsed with libxml2) carrying the policy's values, and
 * the EASProvisionDoc entry list is complete, ordered and filtered by
 * protocol version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "policy/provision_doc.h"

/* The value attribute of the parm named `name`, or NULL. */
static char *
parm_value(xmlDocPtr doc, const char *name)
{
	char expr[128];
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr obj;
	char *v = NULL;

	assert_non_null(ctx);
	(void)snprintf(expr, sizeof(expr), "//parm[@name='%s']/@value", name);
	obj = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	if (obj != NULL && obj->nodesetval != NULL &&
	    obj->nodesetval->nodeNr == 1)
		v = (char *)xmlNodeGetContent(obj->nodesetval->nodeTab[0]);
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	return v;
}

/* How many nodes match an XPath expression. */
static int
count(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr obj;
	int n = -1;

	assert_non_null(ctx);
	obj = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	if (obj != NULL && obj->nodesetval != NULL)
		n = obj->nodesetval->nodeNr;
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	return n;
}

static void
expect_parm(xmlDocPtr doc, const char *name, const char *value)
{
	char *v = parm_value(doc, name);

	if (value == NULL) {
		assert_null(v);
		return;
	}
	assert_non_null(v);
	assert_string_equal(v, value);
	xmlFree(v);
}

static xmlDocPtr
wap_doc(const struct policy *p)
{
	struct buf b;
	xmlDocPtr doc;

	buf_init(&b, 8192);
	assert_int_equal(provision_doc_wap_xml(p, &b), 0);
	doc = xmlReadMemory(buf_str(&b), (int)b.len, "wap.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR);
	buf_free(&b);
	assert_non_null(doc);
	assert_string_equal((const char *)xmlDocGetRootElement(doc)->name,
			    "wap-provisioningdoc");
	return doc;
}

static void
test_wap_default(void **state)
{
	struct policy *p = policy_new();
	xmlDocPtr doc;

	(void)state;
	doc = wap_doc(p);
	expect_parm(doc, "4131", "1"); /* no password required */
	expect_parm(doc, "4133", "1"); /* no wipe after failed attempts */
	expect_parm(doc, "MinimumPasswordLength", NULL);
	xmlFreeDoc(doc);
	policy_free(&p);
	assert_string_equal(provision_doc_policy_type(EAS_VERSION_2_5),
			    "MS-WAP-Provisioning-XML");
	assert_string_equal(provision_doc_policy_type(EAS_VERSION_12_0),
			    "MS-EAS-Provisioning-WBXML");
}

static void
test_wap_values(void **state)
{
	struct policy *p = policy_new();
	struct policy_error err;
	xmlDocPtr doc;

	(void)state;
	assert_int_equal(policy_set_pair(p, "DevicePasswordEnabled=1", &err),
			 0);
	assert_int_equal(policy_set_pair(p, "MinDevicePasswordLength=6", &err),
			 0);
	assert_int_equal(
	    policy_set_pair(p, "MaxInactivityTimeDeviceLock=900", &err), 0);
	assert_int_equal(
	    policy_set_pair(p, "MaxDevicePasswordFailedAttempts=8", &err), 0);
	assert_int_equal(
	    policy_set_pair(p, "AlphanumericDevicePasswordRequired=1", &err),
	    0);
	doc = wap_doc(p);
	expect_parm(doc, "4131", "0");
	expect_parm(doc, "4133", "0");
	expect_parm(doc, "AEFrequencyType", "1");
	expect_parm(doc, "AEFrequencyValue", "15");
	expect_parm(doc, "DeviceWipeThreshold", "8");
	expect_parm(doc, "CodewordFrequency", "4");
	expect_parm(doc, "MinimumPasswordLength", "6");
	expect_parm(doc, "PasswordComplexity", "0");
	/* the registry paths of MS-ASPROV 2.2.2.24.2, backslashes intact */
	assert_int_equal(
	    count(doc, "/wap-provisioningdoc/characteristic[@type='Registry']/"
		       "characteristic[@type='HKLM\\Comm\\Security\\Policy\\"
		       "LASSD\\AE\\{50C13377-C66D-400C-889E-C316FC4AB374}']/"
		       "parm"),
	    2);
	assert_int_equal(count(doc, "//characteristic[@type='HKLM\\Comm\\"
				    "Security\\Policy\\LASSD\\LAP\\"
				    "lap_pw']"),
			 2);
	assert_int_equal(count(doc, "//characteristic[@type='HKLM\\Comm\\"
				    "Security\\Policy\\LASSD']"),
			 2);
	xmlFreeDoc(doc);
	/* the codeword prompt interval is capped at 8; 61 s is 2 minutes */
	assert_int_equal(
	    policy_set_pair(p, "MaxDevicePasswordFailedAttempts=16", &err), 0);
	assert_int_equal(
	    policy_set_pair(p, "MaxInactivityTimeDeviceLock=61", &err), 0);
	doc = wap_doc(p);
	expect_parm(doc, "CodewordFrequency", "8");
	expect_parm(doc, "AEFrequencyValue", "2");
	xmlFreeDoc(doc);
	/* no lock, no wipe threshold, simple PIN allowed */
	assert_int_equal(
	    policy_set_pair(p, "MaxInactivityTimeDeviceLock=", &err), 0);
	assert_int_equal(
	    policy_set_pair(p, "MaxDevicePasswordFailedAttempts=", &err), 0);
	assert_int_equal(
	    policy_set_pair(p, "AlphanumericDevicePasswordRequired=0", &err),
	    0);
	doc = wap_doc(p);
	expect_parm(doc, "4133", "1");
	expect_parm(doc, "AEFrequencyType", "0");
	expect_parm(doc, "AEFrequencyValue", "0");
	expect_parm(doc, "DeviceWipeThreshold", "0");
	expect_parm(doc, "CodewordFrequency", "-1");
	expect_parm(doc, "PasswordComplexity", "2");
	xmlFreeDoc(doc);
	policy_free(&p);
}

static const struct provision_doc_entry *
find(const struct provision_doc_entry *e, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(e[i].name, name) == 0)
			return &e[i];
	}
	return NULL;
}

static void
test_entries(void **state)
{
	struct policy *p = policy_new();
	struct policy_error err;
	struct provision_doc_entry e[POLICY_COUNT];
	const struct provision_doc_entry *x;
	size_t n = 0;

	(void)state;
	assert_int_equal(policy_set_pair(p, "MinDevicePasswordLength=4", &err),
			 0);
	assert_int_equal(
	    policy_set_pair(p, "ApprovedApplicationList=h1,h2", &err), 0);
	assert_int_equal(
	    provision_doc_entries(p, EAS_VERSION_2_5, e, POLICY_COUNT, &n), -1);
	assert_int_equal(provision_doc_entries(p, EAS_VERSION_16_1, e, 10, &n),
			 -1);
	/* 12.1 and later: every EASProvisionDoc child, in token order */
	assert_int_equal(
	    provision_doc_entries(p, EAS_VERSION_14_1, e, POLICY_COUNT, &n), 0);
	assert_int_equal(n, 42);
	assert_string_equal(e[0].name, "DevicePasswordEnabled");
	assert_string_equal(e[0].value, "0");
	assert_string_equal(e[n - 1].name, "ApprovedApplicationList");
	assert_string_equal(e[n - 1].item_name, "Hash");
	assert_int_equal(e[n - 1].n_items, 2);
	assert_string_equal(e[n - 1].items[1], "h2");
	x = find(e, n, "MinDevicePasswordLength");
	assert_non_null(x);
	assert_string_equal(x->value, "4");
	x = find(e, n, "MaxAttachmentSize");
	assert_non_null(x);
	assert_string_equal(x->value, ""); /* empty element: no limit */
	assert_null(x->item_name);
	assert_null(find(e, n, "AllowNonProvisionableDevices"));
	assert_non_null(find(e, n, "AllowBluetooth"));
	/* 12.0 has only the first twelve settings */
	assert_int_equal(
	    provision_doc_entries(p, EAS_VERSION_12_0, e, POLICY_COUNT, &n), 0);
	assert_int_equal(n, 12);
	assert_null(find(e, n, "AllowBluetooth"));
	assert_null(find(e, n, "MinDevicePasswordComplexCharacters"));
	assert_non_null(find(e, n, "DevicePasswordHistory"));
	policy_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wap_default),
	    cmocka_unit_test(test_wap_values),
	    cmocka_unit_test(test_entries),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	xmlCleanupParser();
	return rc;
}
