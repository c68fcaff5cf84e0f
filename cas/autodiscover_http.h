/*
 * Autodiscover over HTTP (cas/autodiscover_http.c): the handler of the
 * /autodiscover/ paths, registered with cas_dispatch_set_autodiscover()
 * at start-up when [cas] public_url is set.
 */
#ifndef EASD_CAS_AUTODISCOVER_HTTP_H
#define EASD_CAS_AUTODISCOVER_HTTP_H

#include "cas/cas_conf.h"
#include "cas/http.h"
#include "cas/mbox_client.h"

struct cas_autodiscover_config {
	/* "https://mail.example.org" (no trailing '/'); NULL or "": not
	 * served (404).  Copied. */
	const char *public_url;
	/* Appended to a bare HTTP user name; NULL: none.  Copied. */
	const char *domain;
	struct mbox_client *mbox; /* borrowed; outlives the server */
};

/* Once, before the HTTP server starts.  -1 when the URL is too long or
 * no mailbox client is given. */
int cas_autodiscover_configure(const struct cas_autodiscover_config *config);

#endif
