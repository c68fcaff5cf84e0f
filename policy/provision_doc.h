/*
 * The policy as a Provision response carries it (MS-ASPROV 2.2.2.24):
 * for protocol 2.5 the PolicyType "MS-WAP-Provisioning-XML" document, a
 * <wap-provisioningdoc> text built here; for 12.0 and later the
 * EASProvisionDoc element of PolicyType "MS-EAS-Provisioning-WBXML", given
 * to the CAS as a neutral ordered list of (element name, value) entries.
 * The CAS's WBXML writer maps each name to its Provision code-page token
 * by name; this module knows nothing of WBXML.
 */
#ifndef EASD_POLICY_PROVISION_DOC_H
#define EASD_POLICY_PROVISION_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"
#include "proto/buf.h"
#include "proto/eas_cmd.h"

/* MS-ASPROV 2.2.2.43 PolicyType values. */
#define PROVISION_DOC_TYPE_XML "MS-WAP-Provisioning-XML"
#define PROVISION_DOC_TYPE_WBXML "MS-EAS-Provisioning-WBXML"

/* The PolicyType a client of this version must ask for and get. */
const char *provision_doc_policy_type(enum eas_version version);

struct provision_doc_entry {
	const char *name; /* EASProvisionDoc child element, exact spelling */
	/* Scalar: decimal text, or "" for an empty element <Name/>. */
	char value[24];
	/* List (ApprovedApplicationList, UnapprovedInROMApplicationList):
	 * item_name is the child element ("Hash", "ApplicationName") and
	 * items borrow the policy's strings; NULL item_name for scalars. */
	const char *item_name;
	const char *const *items;
	size_t n_items;
};

/*
 * Fill out[0..cap) with the EASProvisionDoc children for this version, in
 * spec order, leaving out settings the version does not have (12.1
 * settings for 12.0 clients) and server-side settings.  Entries borrow
 * from p, which must outlive them.  -1 if version is 2.5 (use the XML
 * form) or cap is too small (POLICY_COUNT always suffices).
 */
int provision_doc_entries(const struct policy *p, enum eas_version version,
			  struct provision_doc_entry *out, size_t cap,
			  size_t *n_r);

/* Append the 2.5 <wap-provisioningdoc> text for p to out. */
int provision_doc_wap_xml(const struct policy *p, struct buf *out);

#endif
