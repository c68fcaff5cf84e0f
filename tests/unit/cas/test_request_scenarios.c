/* Protocol scenarios of the commands in this module, as data: every
 * tests/scenarios/cas/NAME-request.xml is converted to WBXML with
 * proto/wbxml_xml.h, posted through the real HTTP server and pipeline to the
 * fake mailbox, and the answer compared with NAME-response.xml (an empty body
 * when that file is absent).  Format: tests/scenarios/cas/README.md --
 * the XML form of tests/scenarios/README.md plus metadata keys for the
 * device's state, the policy key sent and the HTTP status, and two
 * conventions: the text "*" in the expected response matches any content
 * or subtree, and $TEMPKEY / $SYNCKEY in a request stand for the
 * temporary policy key and the current hierarchy key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <dirent.h>

#include "proto/wbxml_xml.h"
#include "tests/unit/cas/cas_harness.h"

#define SCENARIO_DIR_DEFAULT "tests/scenarios/cas"
#define SCENARIO_MAX_FILES 128

static struct cas_harness h;

struct scenario {
	char name[128];
	char device[65];
	char login[72];
	char userpwd[96];
	char version[8];
	char command[32];
	char state[32];
	char policy_key[16]; /* "final", "0", "none" */
	long http_status;
	char temp_key[24];
	char final_key[24];
	char sync_key[72];
};

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
set_field(char *dst, size_t size, const char *value)
{
	size_t len = strlen(value);

	if (len >= size)
		len = size - 1;
	memcpy(dst, value, len);
	dst[len] = 0;
}

/* "key: value" lines of the leading comment. */
static void
read_meta(const char *xml, struct scenario *s)
{
	const char *p = strstr(xml, "<!--");
	const char *end = p != NULL ? strstr(p, "-->") : NULL;

	while (p != NULL && end != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char line[256], key[64], value[128];
		size_t len = (nl != NULL ? nl : end) - p;

		(void)snprintf(line, sizeof(line), "%.*s", (int)len, p);
		if (sscanf(line, " %63[a-z-]: %127s", key, value) == 2) {
			if (strcmp(key, "protocol-version") == 0)
				set_field(s->version, sizeof(s->version),
					  value);
			else if (strcmp(key, "command") == 0)
				set_field(s->command, sizeof(s->command),
					  value);
			else if (strcmp(key, "state") == 0)
				set_field(s->state, sizeof(s->state), value);
			else if (strcmp(key, "policy-key") == 0)
				set_field(s->policy_key, sizeof(s->policy_key),
					  value);
			else if (strcmp(key, "http-status") == 0)
				s->http_status = strtol(value, NULL, 10);
		}
		p = nl != NULL ? nl + 1 : end;
	}
}

/* Append text to out with $TEMPKEY and $SYNCKEY replaced. */
static void
substitute(const char *text, const struct scenario *s, struct buf *out)
{
	const char *p = text;

	while (*p != 0) {
		if (strncmp(p, "$TEMPKEY", 8) == 0) {
			assert_int_equal(buf_append_str(out, s->temp_key), 0);
			p += 8;
		} else if (strncmp(p, "$SYNCKEY", 8) == 0) {
			assert_int_equal(buf_append_str(out, s->sync_key), 0);
			p += 8;
		} else {
			assert_int_equal(buf_append_byte(out, (uint8_t)*p), 0);
			p++;
		}
	}
}

/* path -> WBXML in out (with the shared XML form, proto/wbxml_xml.h);
 * false when the file does not exist. */
static bool
load_xml(const char *path, struct scenario *s, bool meta, struct buf *out)
{
	struct buf file, xml;
	struct wbxml_xml_error err;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return false;
	buf_init(&file, 1024 * 1024);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(&file, chunk, n), 0);
	fclose(f);
	if (meta)
		read_meta(buf_str(&file), s);
	buf_init(&xml, 1024 * 1024);
	substitute(buf_str(&file), s, &xml);
	buf_init(out, 1024 * 1024);
	if (wbxml_xml_encode(xml.data, xml.len, out, &err) != 0)
		fail_msg("%s: %s", path, err.msg);
	buf_free(&xml);
	buf_free(&file);
	return true;
}

/* Structural match with "*" as a wildcard for content or subtree. */
static bool
node_match(const struct wbxml_node *want, const struct wbxml_node *got,
	   const char *name)
{
	const struct wbxml_node *w, *g;
	char a[64], b[64];

	if (wbxml_node_tag(want) != wbxml_node_tag(got)) {
		(void)wbxml_tag_describe(wbxml_node_tag(want), a, sizeof(a));
		(void)wbxml_tag_describe(wbxml_node_tag(got), b, sizeof(b));
		print_error("%s: expected <%s>, got <%s>\n", name, a, b);
		return false;
	}
	if (wbxml_node_first(want) == NULL && want->len == 1 &&
	    want->data[0] == '*')
		return true;
	if (want->len != got->len || memcmp(want->data, got->data, want->len)) {
		(void)wbxml_tag_describe(wbxml_node_tag(want), a, sizeof(a));
		print_error("%s: <%s> is \"%s\", expected \"%s\"\n", name, a,
			    (const char *)got->data, (const char *)want->data);
		return false;
	}
	for (w = wbxml_node_first(want), g = wbxml_node_first(got);
	     w != NULL || g != NULL;
	     w = wbxml_node_next(w), g = wbxml_node_next(g)) {
		if (w == NULL || g == NULL) {
			(void)wbxml_tag_describe(
			    wbxml_node_tag(w != NULL ? w : g), a, sizeof(a));
			print_error("%s: %s <%s>\n", name,
				    w == NULL ? "unexpected" : "missing", a);
			return false;
		}
		if (!node_match(w, g, name))
			return false;
	}
	return true;
}

static void
device_name(const char *name, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = name; *p != 0 && n + 1 < size; p++)
		if (isalnum((unsigned char)*p))
			out[n++] = (char)toupper((unsigned char)*p);
	out[n] = 0;
}

static void
get_temp_key(struct scenario *s)
{
	static const uint16_t key_path[] = {EAS_PROVISION_POLICIES,
					    EAS_PROVISION_POLICY,
					    EAS_PROVISION_POLICY_KEY};
	struct cas_reply r;
	struct buf b;
	char q[256];

	cas_harness_query(q, sizeof(q), "Provision", s->device);
	cas_harness_provision_body(&b, cas_harness_policy_type(s->version), 0,
				   0, false);
	assert_int_equal(cas_harness_post(&h, q, s->version, "0", h.userpwd,
					  b.data, b.len, &r),
			 0);
	buf_free(&b);
	(void)snprintf(s->temp_key, sizeof(s->temp_key), "%ld",
		       cas_reply_uint(&r, key_path, 3));
	cas_reply_free(&r);
}

/* Bring the device into the scenario's state. */
static void
prepare(struct scenario *s)
{
	uint32_t key;
	bool provision =
	    strcmp(s->state, "new") != 0 && strcmp(s->state, "temporary") != 0;

	if (provision) {
		assert_int_equal(
		    cas_harness_provision(&h, s->device, s->version, &key), 0);
		(void)snprintf(s->final_key, sizeof(s->final_key), "%u",
			       (unsigned)key);
	}
	if (strcmp(s->state, "temporary") == 0)
		get_temp_key(s);
	else if (strcmp(s->state, "wipe-requested") == 0)
		assert_int_equal(
		    fake_mailbox_set_wipe(h.fm, h.user, s->device,
					  RPC__WIPE_STATE__WIPE_REQUESTED),
		    0);
	else if (strcmp(s->state, "account-wipe-requested") == 0)
		assert_int_equal(fake_mailbox_set_wipe(
				     h.fm, h.user, s->device,
				     RPC__WIPE_STATE__WIPE_ACCOUNT_REQUESTED),
				 0);
	else if (strcmp(s->state, "blocked") == 0)
		assert_int_equal(
		    fake_mailbox_set_access(h.fm, h.user, s->device,
					    RPC__DEVICE_ACCESS__ACCESS_BLOCK),
		    0);
	if (provision) {
		struct cas_reply r;

		assert_int_equal(cas_harness_foldersync(&h, s->device,
							s->version,
							s->final_key, "0", &r),
				 0);
		if (r.tree != NULL) {
			static const uint16_t k[] = {
			    EAS_FOLDERHIERARCHY_SYNC_KEY};
			const char *sk = cas_reply_str(&r, k, 1);

			(void)snprintf(s->sync_key, sizeof(s->sync_key), "%s",
				       sk != NULL ? sk : "");
		}
		cas_reply_free(&r);
	}
}

static void
run_scenario(const char *dir, const char *request_file)
{
	struct scenario s;
	struct buf req, want;
	struct wbxml_tree *want_tree = NULL;
	struct cas_reply r;
	char path[512], q[256];
	const char *key;
	size_t base;
	bool have_response;

	memset(&s, 0, sizeof(s));
	base = strlen(request_file) - strlen("-request.xml");
	(void)snprintf(s.name, sizeof(s.name), "%.*s", (int)base, request_file);
	device_name(s.name, s.device, sizeof(s.device));
	/* A user of its own: scenarios must not see each other's folders. */
	(void)snprintf(s.login, sizeof(s.login), "u%s", s.device);
	(void)snprintf(s.userpwd, sizeof(s.userpwd), "%s:pw", s.login);
	h.user = fake_mailbox_add_user(h.fm, s.login, "pw");
	assert_true(h.user != 0);
	h.userpwd = s.userpwd;
	(void)snprintf(s.state, sizeof(s.state), "provisioned");
	s.http_status = 200;
	(void)snprintf(path, sizeof(path), "%s/%s", dir, request_file);
	/* Metadata first (the request may need state for $TEMPKEY). */
	assert_true(load_xml(path, &s, true, &req));
	buf_free(&req);
	if (s.policy_key[0] == 0)
		(void)snprintf(s.policy_key, sizeof(s.policy_key), "%s",
			       strcmp(s.state, "provisioned") == 0 ? "final"
								   : "0");
	assert_true(s.version[0] != 0 && s.command[0] != 0);
	prepare(&s);
	assert_true(load_xml(path, &s, false, &req));
	(void)snprintf(path, sizeof(path), "%s/%s-response.xml", dir, s.name);
	have_response = load_xml(path, &s, false, &want);

	key = strcmp(s.policy_key, "final") == 0  ? s.final_key
	      : strcmp(s.policy_key, "none") == 0 ? NULL
						  : s.policy_key;
	cas_harness_query(q, sizeof(q), s.command, s.device);
	assert_int_equal(cas_harness_post(&h, q, s.version, key, h.userpwd,
					  req.data, req.len, &r),
			 0);
	if (r.status != s.http_status)
		fail_msg("%s: HTTP %ld, expected %ld", s.name, r.status,
			 s.http_status);
	if (have_response) {
		assert_string_equal(r.content_type, CAS_WBXML_CONTENT_TYPE);
		assert_non_null(r.tree);
		assert_int_equal(wbxml_tree_parse(want.data, want.len,
						  &want_tree, NULL, NULL),
				 0);
		if (!node_match(wbxml_tree_root(want_tree),
				wbxml_tree_root(r.tree), s.name))
			fail_msg("%s: response differs", s.name);
		wbxml_tree_free(&want_tree);
		buf_free(&want);
	} else {
		assert_int_equal(r.body.len, 0);
	}
	cas_reply_free(&r);
	buf_free(&req);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_scenarios(void **state)
{
	const char *dir = getenv("EASD_CAS_SCENARIOS");
	char *names[SCENARIO_MAX_FILES];
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	(void)state;
	if (dir == NULL)
		dir = SCENARIO_DIR_DEFAULT;
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL && n < SCENARIO_MAX_FILES) {
		size_t len = strlen(de->d_name);

		if (len > 12 &&
		    strcmp(de->d_name + len - 12, "-request.xml") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	/* Provision (all phases), the folder commands, quirks. */
	assert_true(n >= 15);
	for (size_t i = 0; i < n; i++) {
		print_message("scenario %s\n", names[i]);
		run_scenario(dir, names[i]);
		free(names[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scenarios),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
