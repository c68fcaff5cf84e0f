/*
 * Provisioning documents (see provision_doc.h).
 *
 * The 2.5 form follows the string schema of MS-ASPROV 2.2.2.24.2, with
 * the values Exchange 2007 puts there: a SecurityPolicy characteristic
 * with parm 4131 (0: a device password is required, 1: not) and 4133 (0:
 * the device wipes after failed attempts, 1: it does not), and Registry
 * characteristics for the lock timeout (AEFrequencyType 0/1 and
 * AEFrequencyValue in whole minutes, rounded up), the failed-attempt wipe
 * threshold (DeviceWipeThreshold, 0 for none) with CodewordFrequency
 * (half the threshold, at most 8; -1 for none), the minimum length and
 * PasswordComplexity (0 alphanumeric, 2 simple PIN).  Without a required
 * password the Registry part would set nothing a device enforces, so it
 * is left out.  Every value is a number rendered here, so the text needs
 * no escaping; the tests parse it with libxml2.
 */
#include "policy/provision_doc.h"

#include <stdio.h>
#include <string.h>

const char *
provision_doc_policy_type(enum eas_version version)
{
	return version < EAS_VERSION_12_0 ? PROVISION_DOC_TYPE_XML
					  : PROVISION_DOC_TYPE_WBXML;
}

int
provision_doc_entries(const struct policy *p, enum eas_version version,
		      struct provision_doc_entry *out, size_t cap, size_t *n_r)
{
	const struct policy_setting *t = policy_settings();
	size_t i, n = 0;

	if (version < EAS_VERSION_12_0)
		return -1;
	for (i = 0; i < POLICY_COUNT; i++) {
		struct provision_doc_entry *e;

		if (t[i].since == EAS_VERSION_NONE || t[i].since > version)
			continue;
		if (n >= cap)
			return -1;
		e = &out[n++];
		memset(e, 0, sizeof(*e));
		e->name = t[i].name;
		if (t[i].type == POLICY_TYPE_LIST) {
			e->item_name = t[i].item_name;
			e->items =
			    policy_items(p, (enum policy_id)i, &e->n_items);
		} else if (policy_is_set(p, (enum policy_id)i)) {
			(void)snprintf(
			    e->value, sizeof(e->value), "%lld",
			    (long long)policy_num(p, (enum policy_id)i));
		}
	}
	*n_r = n;
	return 0;
}

#define PROVISION_DOC_LASSD "HKLM\\Comm\\Security\\Policy\\LASSD"

/* Exchange caps the codeword prompt interval at 8 failed attempts. */
#define PROVISION_DOC_MAX_CODEWORD_FREQUENCY 8

int
provision_doc_wap_xml(const struct policy *p, struct buf *out)
{
	bool pw = policy_num(p, POLICY_DEVICE_PASSWORD_ENABLED) != 0;
	bool lock =
	    policy_is_set(p, POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK) &&
	    policy_num(p, POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK) < 9999;
	bool wipe =
	    policy_is_set(p, POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS);
	int64_t minutes = 0, threshold = 0, codeword = -1, min_len = 1;

	if (lock)
		minutes =
		    (policy_num(p, POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK) +
		     59) /
		    60;
	if (wipe) {
		threshold =
		    policy_num(p, POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS);
		codeword = threshold / 2;
		if (codeword > PROVISION_DOC_MAX_CODEWORD_FREQUENCY)
			codeword = PROVISION_DOC_MAX_CODEWORD_FREQUENCY;
	}
	if (policy_is_set(p, POLICY_MIN_DEVICE_PASSWORD_LENGTH))
		min_len = policy_num(p, POLICY_MIN_DEVICE_PASSWORD_LENGTH);

	if (buf_printf(out,
		       "<wap-provisioningdoc>"
		       "<characteristic type=\"SecurityPolicy\">"
		       "<parm name=\"4131\" value=\"%d\"/>"
		       "<parm name=\"4133\" value=\"%d\"/>"
		       "</characteristic>",
		       pw ? 0 : 1, pw && wipe ? 0 : 1) < 0)
		return -1;
	if (pw) {
		if (buf_printf(
			out,
			"<characteristic type=\"Registry\">"
			"<characteristic type=\"" PROVISION_DOC_LASSD
			"\\AE\\{50C13377-C66D-400C-889E-C316FC4AB374}\">"
			"<parm name=\"AEFrequencyType\" value=\"%d\"/>"
			"<parm name=\"AEFrequencyValue\" value=\"%lld\"/>"
			"</characteristic>"
			"<characteristic type=\"" PROVISION_DOC_LASSD "\">"
			"<parm name=\"DeviceWipeThreshold\" value=\"%lld\"/>"
			"</characteristic>"
			"<characteristic type=\"" PROVISION_DOC_LASSD "\">"
			"<parm name=\"CodewordFrequency\" value=\"%lld\"/>"
			"</characteristic>"
			"<characteristic type=\"" PROVISION_DOC_LASSD
			"\\LAP\\lap_pw\">"
			"<parm name=\"MinimumPasswordLength\" value=\"%lld\"/>"
			"</characteristic>"
			"<characteristic type=\"" PROVISION_DOC_LASSD
			"\\LAP\\lap_pw\">"
			"<parm name=\"PasswordComplexity\" value=\"%d\"/>"
			"</characteristic>"
			"</characteristic>",
			lock ? 1 : 0, (long long)minutes, (long long)threshold,
			(long long)codeword, (long long)min_len,
			policy_num(p,
				   POLICY_ALPHANUMERIC_DEVICE_PASSWORD_REQUIRED)
			    ? 0
			    : 2) < 0)
			return -1;
	}
	return buf_append_str(out, "</wap-provisioningdoc>");
}
