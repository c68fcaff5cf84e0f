/*
 * Autodiscover over HTTP: the route cas/http.c hands
 * /autodiscover/autodiscover.xml (POX, authenticated POST) and
 * /autodiscover/autodiscover.json[/v1.0/<address>] (v2, anonymous GET)
 * to, built on the pure document functions of proto/autodiscover.h.
 *
 * POX: the body (at most AUTODISCOVER_MAX_BODY_BYTES, else 413; a DTD is
 * 400) names the address, or the HTTP user name stands in for it
 * (autodiscover_pick_address).  The mailbox is asked (RPC UserGet, on the
 * mailbox client's thread: the HTTP thread never waits) for the
 * authenticated user's addresses: an address of theirs is answered with
 * the mobilesync settings -- [cas] public_url + /Microsoft-Server-
 * ActiveSync, and the primary address as EMailAddress, which the client
 * records (MS-ASCMD 2.2.3.56) -- and any other address with error 600,
 * as Exchange refuses to describe a mailbox the caller cannot open; the
 * answer does not say whether that address exists.  A client asking for
 * another schema (desktop Outlook) gets 601.
 *
 * v2: {"Protocol":"ActiveSync","Url":...} for Protocol=ActiveSync, 400
 * with the JSON error form otherwise.  It needs no credentials and
 * reveals only the configured URL, identical for every address.
 *
 * Without [cas] public_url the route is not registered and both paths
 * answer 404 (docs/configuration-cas.md).
 */
#include "cas/autodiscover_http.h"
#include "cas/dispatch.h"
#include "proto/autodiscover.h"
#include "proto/buf.h"
#include "proto/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define AUTODISCOVER_XML_TYPE "text/xml; charset=utf-8"
#define AUTODISCOVER_JSON_TYPE "application/json; charset=utf-8"

static struct {
	struct mbox_client *mbox;
	char url[CAS_PUBLIC_URL_MAX_BYTES + sizeof(CAS_HTTP_EAS_PATH)];
	char domain[AUTODISCOVER_MAX_ADDRESS_BYTES + 1];
} ad_config;

static void
respond_doc(struct cas_req *req, unsigned status, const char *type,
	    const struct buf *b)
{
	const struct cas_header h = {"Content-Type", type};

	(void)cas_req_respond(req, status, &h, 1, b->data, b->len);
}

static void
respond_error(struct cas_req *req, enum autodiscover_error_code code,
	      enum autodiscover_schema schema, const char *debug)
{
	struct autodiscover_error err = {
	    .code = code,
	    .schema = schema,
	    .debug_data = debug,
	    .time = time(NULL),
	};
	struct buf b;

	buf_init(&b, AUTODISCOVER_MAX_RESPONSE_BYTES);
	if (autodiscover_build_error(&b, &err) != 0)
		(void)cas_req_respond_status(req, 500);
	else
		respond_doc(req, 200, AUTODISCOVER_XML_TYPE, &b);
	buf_free(&b);
}

/* ---------------------------------------------------------- POX */

struct pox_call {
	struct cas_req *req; /* our reference */
	char email[AUTODISCOVER_MAX_ADDRESS_BYTES + 1];
};

static void
on_user(void *arg, Rpc__Status status, const ProtobufCMessage *reply)
{
	struct pox_call *c = arg;
	const Rpc__UserReply *rep = (const Rpc__UserReply *)reply;
	const Rpc__UserInfo *info = rep != NULL ? rep->info : NULL;
	bool owned = false;
	struct buf b;

	if (status != RPC__STATUS__STATUS_OK || info == NULL) {
		(void)cas_req_respond_retry(c->req, 503, 30);
		goto out;
	}
	for (size_t i = 0; i < info->n_addresses && !owned; i++)
		owned = strcasecmp(info->addresses[i], c->email) == 0;
	if (!owned && info->primary_address != NULL)
		owned = strcasecmp(info->primary_address, c->email) == 0;
	if (!owned) {
		log_info("autodiscover: %s asked for %s, not theirs",
			 info->login, c->email);
		respond_error(c->req, AUTODISCOVER_ERROR_INVALID_REQUEST,
			      AUTODISCOVER_SCHEMA_MOBILESYNC,
			      "the address is not the authenticated user's");
		goto out;
	}
	buf_init(&b, AUTODISCOVER_MAX_RESPONSE_BYTES);
	{
		struct autodiscover_user u = {
		    .email = info->primary_address != NULL &&
				     info->primary_address[0] != 0
				 ? info->primary_address
				 : c->email,
		    .display_name = info->display_name,
		};

		if (autodiscover_build_settings(&b, &u, ad_config.url) != 0)
			(void)cas_req_respond_status(c->req, 500);
		else
			respond_doc(c->req, 200, AUTODISCOVER_XML_TYPE, &b);
	}
	buf_free(&b);
out:
	cas_req_unref(&c->req);
	free(c);
}

static void
serve_pox(struct cas_req *req)
{
	struct autodiscover_request ar;
	const struct cas_user *user = cas_req_user(req);
	const uint8_t *body;
	size_t len;
	struct pox_call *c;
	Rpc__UserGetRequest m;
	uint64_t id = 0;

	body = cas_req_body(req, &len);
	if (autodiscover_request_parse(body, len, &ar) != 0) {
		unsigned http = autodiscover_status_http(ar.status);

		log_info("autodiscover from %s: %s", cas_req_client_addr(req),
			 ar.error);
		if (http != 200)
			(void)cas_req_respond_status(req, http);
		else
			respond_error(req, AUTODISCOVER_ERROR_INVALID_REQUEST,
				      AUTODISCOVER_SCHEMA_MOBILESYNC, ar.error);
		return;
	}
	if (ar.schema != AUTODISCOVER_SCHEMA_MOBILESYNC) {
		/* MS-ASCMD 2.2.3.64: no provider for that schema. */
		respond_error(req, AUTODISCOVER_ERROR_NO_PROVIDER, ar.schema,
			      NULL);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		(void)cas_req_respond_status(req, 500);
		return;
	}
	if (autodiscover_pick_address(ar.email, user->login, ad_config.domain,
				      c->email, sizeof(c->email)) != 0) {
		free(c);
		respond_error(req, AUTODISCOVER_ERROR_INVALID_REQUEST,
			      AUTODISCOVER_SCHEMA_MOBILESYNC,
			      "no valid e-mail address");
		return;
	}
	rpc__user_get_request__init(&m);
	if (mbox_user_lookup(ad_config.mbox, user->login, &id))
		m.user = id;
	else
		m.login = (char *)(uintptr_t)user->login;
	cas_req_ref(req);
	c->req = req;
	if (mbox_call(ad_config.mbox, RPC__MSG_TYPE__MSG_USER_GET, &m.base, 0,
		      on_user, c) != 0) {
		(void)cas_req_respond_status(req, 500);
		cas_req_unref(&c->req);
		free(c);
	}
}

/* ---------------------------------------------------------- v2 JSON */

static void
serve_json(struct cas_req *req)
{
	struct autodiscover_json_request jr;
	const char *target = cas_req_target(req);
	const char *error = NULL;
	unsigned status = 400;
	struct buf b;
	int rc;

	buf_init(&b, AUTODISCOVER_MAX_RESPONSE_BYTES);
	if (target[0] == 0 ||
	    autodiscover_json_parse(target, strlen(target), &jr, &error) != 0) {
		log_info("autodiscover.json from %s: %s",
			 cas_req_client_addr(req),
			 error != NULL ? error : "target too long");
		/* Missing values: the InvalidRequest error form. */
		rc =
		    autodiscover_json_build(&b, "", "", ad_config.url, &status);
	} else {
		rc = autodiscover_json_build(&b, jr.email, jr.protocol,
					     ad_config.url, &status);
	}
	if (rc != 0)
		(void)cas_req_respond_status(req, 500);
	else
		respond_doc(req, status, AUTODISCOVER_JSON_TYPE, &b);
	buf_free(&b);
}

static void
autodiscover_route(struct cas_req *req)
{
	/* http.c routes only the two Autodiscover paths here; only the
	 * POX one has been authenticated. */
	if (cas_req_authenticated(req) &&
	    strcasecmp(cas_req_method(req), "POST") == 0)
		serve_pox(req);
	else if (strcasecmp(cas_req_method(req), "GET") == 0)
		serve_json(req);
	else
		(void)cas_req_respond_status(req, 405);
}

int
cas_autodiscover_configure(const struct cas_autodiscover_config *config)
{
	int n;

	memset(&ad_config, 0, sizeof(ad_config));
	if (config->public_url == NULL || config->public_url[0] == 0) {
		cas_dispatch_set_autodiscover(NULL);
		return 0;
	}
	n = snprintf(ad_config.url, sizeof(ad_config.url), "%s%s",
		     config->public_url, CAS_HTTP_EAS_PATH);
	if (n < 0 || (size_t)n >= sizeof(ad_config.url) || config->mbox == NULL)
		return -1;
	if (config->domain != NULL &&
	    strlen(config->domain) < sizeof(ad_config.domain))
		memcpy(ad_config.domain, config->domain,
		       strlen(config->domain) + 1);
	ad_config.mbox = config->mbox;
	cas_dispatch_set_autodiscover(autodiscover_route);
	return 0;
}
