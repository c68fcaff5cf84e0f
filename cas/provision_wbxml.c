/*
 * EASProvisionDoc writer; see provision_wbxml.h.  Scalars become
 * <Name>value</Name>, or <Name/> when the policy leaves them empty
 * (MS-ASPROV 3.2.5.1.1: an unset setting is sent as an empty tag); the
 * two application lists become a parent element with one child per item.
 */
#include "cas/provision_wbxml.h"

#include "policy/provision_doc.h"
#include "proto/log.h"

#define PROVISION_NS "Provision"

static int
lookup(const char *name, uint16_t *tag_r)
{
	if (wbxml_tag_lookup(PROVISION_NS, name, tag_r) != 0) {
		log_error("provision: no Provision token for %s", name);
		return -1;
	}
	return 0;
}

int
provision_wbxml_doc(struct wbxml_enc *e, const struct policy *p,
		    enum eas_version version)
{
	struct provision_doc_entry entries[POLICY_COUNT];
	size_t n = 0;
	uint16_t tag, item_tag;

	if (provision_doc_entries(p, version, entries, POLICY_COUNT, &n) != 0)
		return -1;
	if (wbxml_enc_start(e, EAS_PROVISION_EAS_PROVISION_DOC) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct provision_doc_entry *en = &entries[i];

		if (lookup(en->name, &tag) != 0)
			return -1;
		if (en->item_name == NULL) {
			if (wbxml_enc_str(e, tag, en->value) != 0)
				return -1;
			continue;
		}
		if (lookup(en->item_name, &item_tag) != 0 ||
		    wbxml_enc_start(e, tag) != 0)
			return -1;
		for (size_t j = 0; j < en->n_items; j++)
			if (wbxml_enc_str(e, item_tag, en->items[j]) != 0)
				return -1;
		if (wbxml_enc_end(e) != 0)
			return -1;
	}
	return wbxml_enc_end(e);
}
