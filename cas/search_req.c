/*
 * Search and Find request decoding (see search_req.h).  Every string is
 * copied into a fixed field of struct search_req with its bound checked;
 * the query tree is walked with its depth and leaf count bounded, so no
 * input allocates anything here but the WBXML tree itself.
 */
#include "cas/search_req.h"
#include "proto/wbxml_tree.h"

#include <string.h>
#include <strings.h>

/* MS-ASAIRS 2.2.2.22 Type: 1 plain, 2 HTML, 3 RTF, 4 MIME. */
#define SEARCH_REQ_MAX_BODY_TYPE 4
/* MS-ASAIRS 2.2.2.37 Preview: up to 255. */
#define SEARCH_REQ_MAX_PREVIEW 255
/* MS-ASCMD 2.2.3.108 MIMESupport: 0, 1, 2. */
#define SEARCH_REQ_MAX_MIME_SUPPORT 2
/* Digits of one Range bound: 999 is the largest index a store serves;
 * 9 digits keep the arithmetic in 32 bits for anything larger. */
#define SEARCH_REQ_RANGE_DIGITS 9
/* A DateReceived value "2026-11-27T10:00:00.000Z" (MS-ASDTYPE 2.3). */
#define SEARCH_REQ_MAX_DATE_BYTES 64

struct walk {
	struct search_req *r;
	size_t conditions;
	enum search_req_status status; /* of the first failure */
};

static int
fail(struct walk *w, enum search_req_status status)
{
	if (w->status == SEARCH_REQ_OK)
		w->status = status;
	return -1;
}

int
search_req_parse_range(const char *text, uint32_t *start_r, uint32_t *end_r)
{
	uint32_t v[2] = {0, 0};
	const char *p = text;

	for (int i = 0; i < 2; i++) {
		size_t digits = 0;

		while (*p >= '0' && *p <= '9') {
			if (++digits > SEARCH_REQ_RANGE_DIGITS)
				return -1;
			v[i] = v[i] * 10u + (uint32_t)(*p - '0');
			p++;
		}
		if (digits == 0)
			return -1;
		if (i == 0 && *p++ != '-')
			return -1;
	}
	if (*p != '\0' || v[0] > v[1])
		return -1;
	*start_r = v[0];
	*end_r = v[1];
	return 0;
}

static int
add_text(struct walk *w, const struct wbxml_node *n)
{
	struct search_req *r = w->r;
	const char *s;
	size_t len, have = strlen(r->text);
	enum wbxml_err err;

	if (wbxml_node_str(n, SEARCH_MAX_QUERY_BYTES, &s, &len, &err) != 0)
		return fail(w, err == WBXML_ERR_TOO_LONG
				   ? SEARCH_REQ_TOO_COMPLEX
				   : SEARCH_REQ_PROTOCOL_ERROR);
	/* The words of all FreeTexts must match: one conjunction. */
	if (have + (have > 0) + len > SEARCH_MAX_QUERY_BYTES)
		return fail(w, SEARCH_REQ_TOO_COMPLEX);
	if (have > 0)
		r->text[have++] = ' ';
	memcpy(r->text + have, s, len + 1);
	return 0;
}

static int
add_collection(struct walk *w, const struct wbxml_node *n)
{
	struct search_req *r = w->r;
	const char *s;
	size_t len;

	if (wbxml_node_str(n, SYNC_MAX_ID_BYTES, &s, &len, NULL) != 0 ||
	    len == 0)
		return fail(w, SEARCH_REQ_PROTOCOL_ERROR);
	if (r->n_collections == SEARCH_MAX_COLLECTIONS)
		return fail(w, SEARCH_REQ_TOO_COMPLEX);
	memcpy(r->collections[r->n_collections++], s, len + 1);
	return 0;
}

/* Only email is indexed: MS-ASCMD 2.2.3.27.5 names Email (and SMS, which
 * easd does not store) as the classes of a mailbox search. */
static int
check_class(struct walk *w, const struct wbxml_node *n)
{
	const char *s;

	if (wbxml_node_str(n, SYNC_MAX_CLASS_BYTES, &s, NULL, NULL) != 0 ||
	    strcmp(s, "Email") != 0)
		return fail(w, SEARCH_REQ_PROTOCOL_ERROR);
	return 0;
}

/* GreaterThan / LessThan: <email:DateReceived/><Value>date</Value>
 * (MS-ASCMD 2.2.3.79, 2.2.3.93); the tighter of repeated bounds wins. */
static int
add_date(struct walk *w, const struct wbxml_node *n, bool greater)
{
	struct search_req *r = w->r;
	const char *s;
	int64_t secs;

	if (!wbxml_child_present(n, EAS_EMAIL_DATE_RECEIVED) ||
	    wbxml_child_str(n, EAS_SEARCH_VALUE, SEARCH_REQ_MAX_DATE_BYTES, &s,
			    NULL, NULL) != 0 ||
	    sync_parse_datetime(s, &secs) != 0)
		return fail(w, SEARCH_REQ_PROTOCOL_ERROR);
	if (greater) {
		/* 0 means "no bound": the epoch itself bounds nothing. */
		if (secs > r->greater_than)
			r->greater_than = secs;
	} else if (r->less_than == 0 || secs < r->less_than) {
		/* A LessThan at or before the epoch matches nothing; -1
		 * keeps it a bound. */
		r->less_than = secs > 0 ? secs : -1;
	}
	return 0;
}

/* True when every element under n is a CollectionId or Class (or an
 * And/Or of them): such an Or only widens the folder scope. */
static bool
scope_only(const struct wbxml_node *n, unsigned depth)
{
	const struct wbxml_node *c;

	if (depth > SEARCH_MAX_QUERY_DEPTH)
		return false;
	WBXML_FOREACH_CHILD(c, n)
	{
		uint16_t t = wbxml_node_tag(c);

		if (t == EAS_SEARCH_AND || t == EAS_SEARCH_OR) {
			if (!scope_only(c, depth + 1))
				return false;
		} else if (t != EAS_AIRSYNC_COLLECTION_ID &&
			   t != EAS_AIRSYNC_CLASS) {
			return false;
		}
	}
	return true;
}

/* ConversationId (MS-ASCMD 2.2.3.35.2): a child of And only (elsewhere
 * Status 8), at most once (the result of two is undefined: Status 2). */
static int
add_conversation(struct walk *w, const struct wbxml_node *n, uint16_t parent)
{
	struct search_req *r = w->r;
	const uint8_t *id;
	size_t len;

	if (parent != EAS_SEARCH_AND)
		return fail(w, SEARCH_REQ_TOO_COMPLEX);
	if (r->conversation_id_len > 0 ||
	    wbxml_node_bytes(n, SEARCH_MAX_CONVERSATION_ID_BYTES, &id, &len,
			     NULL) != 0 ||
	    len == 0)
		return fail(w, SEARCH_REQ_PROTOCOL_ERROR);
	memcpy(r->conversation_id, id, len);
	r->conversation_id_len = len;
	return 0;
}

static int
walk_query(struct walk *w, const struct wbxml_node *n, unsigned depth)
{
	const struct wbxml_node *c;

	if (depth > SEARCH_MAX_QUERY_DEPTH)
		return fail(w, SEARCH_REQ_TOO_COMPLEX);
	/* Mixed content: text beside elements is not a mailbox query. */
	if (n->len > 0)
		return fail(w, SEARCH_REQ_PROTOCOL_ERROR);
	WBXML_FOREACH_CHILD(c, n)
	{
		uint16_t t = wbxml_node_tag(c);
		int rc;

		if (t != EAS_SEARCH_AND && t != EAS_SEARCH_OR &&
		    ++w->conditions > SEARCH_MAX_CONDITIONS)
			return fail(w, SEARCH_REQ_TOO_COMPLEX);
		switch (t) {
		case EAS_SEARCH_AND:
			rc = walk_query(w, c, depth + 1);
			break;
		case EAS_SEARCH_OR:
			/* A one-branch Or is an And. */
			if (wbxml_node_first(c) != NULL &&
			    wbxml_node_next(wbxml_node_first(c)) != NULL &&
			    !scope_only(c, depth + 1))
				return fail(w, SEARCH_REQ_TOO_COMPLEX);
			rc = walk_query(w, c, depth + 1);
			break;
		case EAS_SEARCH_FREE_TEXT:
			rc = add_text(w, c);
			break;
		case EAS_AIRSYNC_COLLECTION_ID:
			rc = add_collection(w, c);
			break;
		case EAS_AIRSYNC_CLASS:
			rc = check_class(w, c);
			break;
		case EAS_SEARCH_GREATER_THAN:
			rc = add_date(w, c, true);
			break;
		case EAS_SEARCH_LESS_THAN:
			rc = add_date(w, c, false);
			break;
		case EAS_SEARCH_CONVERSATION_ID:
			rc = add_conversation(w, c, wbxml_node_tag(n));
			break;
		default:
			/* EqualTo (DocumentLibrary LinkId) and anything
			 * outside the schema. */
			rc = fail(w, SEARCH_REQ_PROTOCOL_ERROR);
			break;
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int
decode_pref(const struct wbxml_node *n, struct sync_body_pref *p)
{
	uint64_t v;
	enum wbxml_err err;

	memset(p, 0, sizeof(*p));
	if (wbxml_child_uint(n, EAS_AIRSYNCBASE_TYPE, 1,
			     SEARCH_REQ_MAX_BODY_TYPE, &v, NULL) != 0)
		return -1;
	p->type = (uint32_t)v;
	if (wbxml_child_uint(n, EAS_AIRSYNCBASE_TRUNCATION_SIZE, 0, UINT32_MAX,
			     &v, &err) == 0)
		p->truncation_size = (uint32_t)v;
	else if (err != WBXML_ERR_MISSING)
		return -1;
	if (wbxml_child_uint(n, EAS_AIRSYNCBASE_ALL_OR_NONE, 0, 1, &v, &err) ==
	    0)
		p->all_or_none = v != 0;
	else if (err != WBXML_ERR_MISSING)
		return -1;
	if (wbxml_child_uint(n, EAS_AIRSYNCBASE_PREVIEW, 0,
			     SEARCH_REQ_MAX_PREVIEW, &v, &err) == 0)
		p->preview = (uint32_t)v;
	else if (err != WBXML_ERR_MISSING)
		return -1;
	return 0;
}

static int
decode_prefs(const struct wbxml_node *opt, uint16_t tag,
	     struct sync_body_pref *prefs, size_t *n_r)
{
	const struct wbxml_node *n;

	WBXML_FOREACH(n, opt, tag)
	{
		if (*n_r == SYNC_MAX_BODY_PREFS ||
		    decode_pref(n, &prefs[*n_r]) != 0)
			return -1;
		(*n_r)++;
	}
	return 0;
}

/* Range: "m-n" in the given tag; absent leaves the store's default. */
static int
decode_range(const struct wbxml_node *opt, uint16_t tag, struct search_req *r)
{
	const char *s;
	enum wbxml_err err;

	if (wbxml_child_str(opt, tag, 2 * SEARCH_REQ_RANGE_DIGITS + 1, &s, NULL,
			    &err) != 0)
		return err == WBXML_ERR_MISSING ? 0 : -1;
	if (search_req_parse_range(s, &r->range_start, &r->range_end) != 0)
		return -1;
	r->has_range = true;
	return 0;
}

/* Options/Picture (MS-ASCMD 2.2.3.135.3 Search, .1 Find): empty, or
 * MaxSize (bytes, 2.2.3.105) and MaxPictures (2.2.3.104, "MUST NOT be
 * less than 0"), each an integer that fits 32 bits. */
static int
decode_picture(const struct wbxml_node *opt, uint16_t picture_tag,
	       uint16_t max_size_tag, uint16_t max_pictures_tag,
	       struct search_req *r)
{
	const struct wbxml_node *pic = wbxml_node_child(opt, picture_tag);
	uint64_t v;
	enum wbxml_err err;

	if (pic == NULL)
		return 0;
	if (wbxml_node_next_same(pic) != NULL)
		return -1;
	if (wbxml_child_uint(pic, max_size_tag, 0, UINT32_MAX, &v, &err) == 0)
		r->picture_max_bytes = (uint32_t)v;
	else if (err != WBXML_ERR_MISSING)
		return -1;
	if (wbxml_child_uint(pic, max_pictures_tag, 0, UINT32_MAX, &v, &err) ==
	    0) {
		r->has_max_pictures = true;
		r->max_pictures = (uint32_t)v;
	} else if (err != WBXML_ERR_MISSING) {
		return -1;
	}
	r->picture = true;
	return 0;
}

/* Search Options (MS-ASCMD 2.2.3.125.2). */
static int
decode_search_options(const struct wbxml_node *opt, struct search_req *r)
{
	uint64_t v;
	enum wbxml_err err;

	if (decode_range(opt, EAS_SEARCH_RANGE, r) != 0 ||
	    decode_prefs(opt, EAS_AIRSYNCBASE_BODY_PREFERENCE, r->body_prefs,
			 &r->n_body_prefs) != 0 ||
	    decode_prefs(opt, EAS_AIRSYNCBASE_BODY_PART_PREFERENCE,
			 r->body_part_prefs, &r->n_body_part_prefs) != 0)
		return -1;
	if (wbxml_child_uint(opt, EAS_AIRSYNC_MIME_SUPPORT, 0,
			     SEARCH_REQ_MAX_MIME_SUPPORT, &v, &err) == 0) {
		r->has_mime_support = true;
		r->mime_support = (uint32_t)v;
	} else if (err != WBXML_ERR_MISSING) {
		return -1;
	}
	r->deep_traversal = wbxml_child_present(opt, EAS_SEARCH_DEEP_TRAVERSAL);
	r->rebuild_results =
	    wbxml_child_present(opt, EAS_SEARCH_REBUILD_RESULTS);
	return decode_picture(opt, EAS_SEARCH_PICTURE, EAS_SEARCH_MAX_SIZE,
			      EAS_SEARCH_MAX_PICTURES, r);
}

static int
decode_store_name(const struct wbxml_node *store, struct search_req *r)
{
	const char *s;

	if (wbxml_child_str(store, EAS_SEARCH_NAME, SEARCH_MAX_STORE_NAME_BYTES,
			    &s, NULL, NULL) != 0)
		return -1;
	/* MS-ASCMD 2.2.3.110.2: "Mailbox", "DocumentLibrary", "GAL";
	 * clients differ in case. */
	if (strcasecmp(s, "Mailbox") == 0)
		r->store = SEARCH_REQ_STORE_MAILBOX;
	else if (strcasecmp(s, "GAL") == 0)
		r->store = SEARCH_REQ_STORE_GAL;
	else if (strcasecmp(s, "DocumentLibrary") == 0)
		r->store = SEARCH_REQ_STORE_DOCUMENT_LIBRARY;
	else
		return -1;
	return 0;
}

/* GAL and DocumentLibrary queries are plain text (MS-ASCMD 2.2.3.142.2). */
static int
decode_text_query(const struct wbxml_node *q, struct walk *w)
{
	const char *s;
	size_t len;
	enum wbxml_err err;

	if (wbxml_node_str(q, GAL_MAX_QUERY_BYTES, &s, &len, &err) != 0)
		return fail(w, err == WBXML_ERR_TOO_LONG
				   ? SEARCH_REQ_TOO_COMPLEX
				   : SEARCH_REQ_PROTOCOL_ERROR);
	if (len == 0)
		return fail(w, SEARCH_REQ_PROTOCOL_ERROR);
	memcpy(w->r->text, s, len + 1);
	return 0;
}

int
search_req_decode(const uint8_t *body, size_t len, struct search_req *r,
		  enum search_req_status *status_r)
{
	struct wbxml_tree *tree = NULL;
	const struct wbxml_node *root, *store, *q, *opt;
	struct walk w = {.r = r, .status = SEARCH_REQ_OK};
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (len == 0 || wbxml_tree_parse(body, len, &tree, NULL, NULL) != 0)
		goto protocol;
	root = wbxml_tree_root(tree);
	if (root == NULL || wbxml_node_tag(root) != EAS_SEARCH_SEARCH)
		goto protocol;
	/* MS-ASCMD 2.2.3.178: exactly one Store. */
	store = wbxml_node_child(root, EAS_SEARCH_STORE);
	if (store == NULL || wbxml_node_next_same(store) != NULL ||
	    decode_store_name(store, r) != 0)
		goto protocol;
	q = wbxml_node_child(store, EAS_SEARCH_QUERY);
	if (q == NULL || wbxml_node_next_same(q) != NULL)
		goto protocol;
	opt = wbxml_node_child(store, EAS_SEARCH_OPTIONS);
	if (opt != NULL && decode_search_options(opt, r) != 0)
		goto protocol;
	/* DocumentLibrary is not served (cas/cmd_search.c answers it): its
	 * LinkId query is not read. */
	if (r->store == SEARCH_REQ_STORE_MAILBOX) {
		if (walk_query(&w, q, 0) != 0)
			goto out;
		/* The index finds words or a conversation: a query with
		 * neither is not one it can answer (MS-ASCMD 2.2.3.73
		 * FreeText). */
		if (r->text[0] == '\0' && r->conversation_id_len == 0)
			goto protocol;
	} else if (r->store == SEARCH_REQ_STORE_GAL &&
		   decode_text_query(q, &w) != 0) {
		goto out;
	}
	ret = 0;
	goto out;
protocol:
	(void)fail(&w, SEARCH_REQ_PROTOCOL_ERROR);
out:
	wbxml_tree_free(&tree);
	*status_r = ret == 0 ? SEARCH_REQ_OK : w.status;
	return ret;
}

/* Find's MailBoxSearchCriterion Query (MS-ASCMD 2.2.3.142.1): Class,
 * CollectionId and FreeText, with no And/Or. */
static int
find_mailbox_query(struct walk *w, const struct wbxml_node *q)
{
	const struct wbxml_node *c;

	if (q->len > 0)
		return fail(w, SEARCH_REQ_PROTOCOL_ERROR);
	WBXML_FOREACH_CHILD(c, q)
	{
		int rc;

		if (++w->conditions > SEARCH_MAX_CONDITIONS)
			return fail(w, SEARCH_REQ_TOO_COMPLEX);
		switch (wbxml_node_tag(c)) {
		case EAS_FIND_FREE_TEXT:
			rc = add_text(w, c);
			break;
		case EAS_AIRSYNC_COLLECTION_ID:
			rc = add_collection(w, c);
			break;
		case EAS_AIRSYNC_CLASS:
			rc = check_class(w, c);
			break;
		default:
			rc = fail(w, SEARCH_REQ_PROTOCOL_ERROR);
			break;
		}
		if (rc != 0)
			return -1;
	}
	return w->r->text[0] == '\0' ? fail(w, SEARCH_REQ_PROTOCOL_ERROR) : 0;
}

int
find_req_decode(const uint8_t *body, size_t len, struct search_req *r,
		enum find_status *status_r)
{
	struct wbxml_tree *tree = NULL;
	const struct wbxml_node *root, *exec, *crit, *q, *opt;
	struct walk w = {.r = r, .status = SEARCH_REQ_OK};
	const char *s;
	size_t slen;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	*status_r = FIND_STATUS_INVALID_REQUEST;
	if (len == 0 || wbxml_tree_parse(body, len, &tree, NULL, NULL) != 0)
		goto out;
	root = wbxml_tree_root(tree);
	if (root == NULL || wbxml_node_tag(root) != EAS_FIND_FIND)
		goto out;
	/* MS-ASCMD 2.2.3.159 SearchId: required, a GUID string. */
	if (wbxml_child_str(root, EAS_FIND_SEARCH_ID, FIND_MAX_SEARCH_ID_BYTES,
			    &s, &slen, NULL) != 0 ||
	    slen == 0)
		goto out;
	memcpy(r->search_id, s, slen + 1);
	exec = wbxml_node_child(root, EAS_FIND_EXECUTE_SEARCH);
	if (exec == NULL)
		goto out;
	/* MS-ASCMD 2.2.3.66: exactly one criterion. */
	crit = wbxml_node_child(exec, EAS_FIND_MAIL_BOX_SEARCH_CRITERION);
	r->store = SEARCH_REQ_STORE_MAILBOX;
	if (crit == NULL) {
		crit = wbxml_node_child(exec, EAS_FIND_GAL_SEARCH_CRITERION);
		r->store = SEARCH_REQ_STORE_GAL;
	} else if (wbxml_node_child(exec, EAS_FIND_GAL_SEARCH_CRITERION) !=
		   NULL) {
		goto out;
	}
	if (crit == NULL || wbxml_node_next_same(crit) != NULL)
		goto out;
	q = wbxml_node_child(crit, EAS_FIND_QUERY);
	if (q == NULL || wbxml_node_next_same(q) != NULL)
		goto out;
	if (r->store == SEARCH_REQ_STORE_MAILBOX) {
		if (find_mailbox_query(&w, q) != 0)
			goto out;
	} else {
		/* GAL: the words in FreeText. */
		const struct wbxml_node *ft =
		    wbxml_node_child(q, EAS_FIND_FREE_TEXT);

		if (ft == NULL || decode_text_query(ft, &w) != 0)
			goto out;
	}
	opt = wbxml_node_child(crit, EAS_FIND_OPTIONS);
	if (opt != NULL) {
		if (decode_range(opt, EAS_FIND_RANGE, r) != 0)
			goto out;
		r->deep_traversal =
		    wbxml_child_present(opt, EAS_FIND_DEEP_TRAVERSAL);
		if (decode_picture(opt, EAS_FIND_PICTURE, EAS_FIND_MAX_SIZE,
				   EAS_FIND_MAX_PICTURES, r) != 0)
			goto out;
	}
	*status_r = FIND_STATUS_OK;
	ret = 0;
out:
	wbxml_tree_free(&tree);
	return ret;
}

void
search_req_to_rpc(const struct search_req *r, uint64_t user,
		  const char *device_id, uint32_t first, uint32_t last,
		  struct search_req_rpc *out)
{
	Rpc__SearchRequest *q = &out->msg;
	/* BodyPartPreference alone (14.1+ clients asking for the part of
	 * a conversation) is served as the Body it describes. */
	const struct sync_body_pref *prefs =
	    r->n_body_prefs > 0 ? r->body_prefs : r->body_part_prefs;
	size_t n_prefs =
	    r->n_body_prefs > 0 ? r->n_body_prefs : r->n_body_part_prefs;

	rpc__search_request__init(q);
	q->user = user;
	q->device_id = (char *)(uintptr_t)device_id;
	q->query = (char *)(uintptr_t)r->text;
	q->item_class = "Email";
	q->range_start = first;
	q->range_end = last;
	q->deep_traversal = r->deep_traversal;
	q->greater_than = r->greater_than;
	q->less_than = r->less_than;
	q->mime_support = r->has_mime_support ? r->mime_support : 0;
	q->conversation_id.data = (uint8_t *)(uintptr_t)r->conversation_id;
	q->conversation_id.len = r->conversation_id_len;
	if (r->n_collections > 0) {
		q->collection_id = (char *)(uintptr_t)r->collections[0];
		for (size_t i = 1; i < r->n_collections; i++)
			out->more[i - 1] = (char *)(uintptr_t)r->collections[i];
		q->more_collection_ids = out->more;
		q->n_more_collection_ids = r->n_collections - 1;
	}
	for (size_t i = 0; i < n_prefs; i++) {
		rpc__body_preference__init(&out->prefs[i]);
		out->prefs[i].type = prefs[i].type;
		out->prefs[i].truncation_size = prefs[i].truncation_size;
		out->prefs[i].all_or_none = prefs[i].all_or_none;
		out->prefs[i].preview = prefs[i].preview;
		out->pref_ptrs[i] = &out->prefs[i];
	}
	q->body_preferences = out->pref_ptrs;
	q->n_body_preferences = n_prefs;
}
