/*
 * The EASProvisionDoc element of a Provision response (MS-ASPROV
 * 2.2.2.27), written with the WBXML encoder from the neutral entry list
 * of policy/provision_doc.h: each setting's element name is looked up in
 * the Provision code page by name, so policy/ stays free of WBXML and a
 * setting added there needs no change here.  Used by cas/cmd_provision.c.
 */
#ifndef EASD_CAS_PROVISION_WBXML_H
#define EASD_CAS_PROVISION_WBXML_H

#include "policy/policy.h"
#include "proto/eas_cmd.h"
#include "proto/wbxml.h"

/* Write <EASProvisionDoc>...</EASProvisionDoc> for protocol 12.0 and
 * later.  -1 when the version has no such document (2.5), a name has no
 * token (a bug: logged), or the encoder failed. */
int provision_wbxml_doc(struct wbxml_enc *e, const struct policy *p,
			enum eas_version version);

#endif
