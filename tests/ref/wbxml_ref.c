/*
 * libwbxml2 as an independent reference decoder for the differential tests
 * (see wbxml_ref.h for the canonical text form).  Data flow: WBXML bytes ->
 * libwbxml2 (WBXML_LANG_ACTIVESYNC, compact XML, whitespace kept) -> XML
 * text -> ref_parse_xml() -> canonical text.  The parser only has to read
 * what libwbxml2 writes (elements, xmlns attributes, the five predefined
 * entities and character references, raw bytes elsewhere); anything else
 * is reported as "unreadable libwbxml2 output" and the caller treats the
 * document as not comparable.
 */
#include "tests/ref/wbxml_ref.h"

#include <wbxml/wbxml.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Longest element or namespace name libwbxml2 writes for ActiveSync. */
#define REF_MAX_NAME 64
/* A child decoding one hostile document gets this long before SIGALRM. */
#define REF_CHILD_TIMEOUT_S 10

/* ---------------------------------------------------------- writer */

void
wbxml_ref_writer_init(struct wbxml_ref_writer *w, struct buf *out)
{
	w->out = out;
	for (size_t i = 0; i < sizeof(w->pending) / sizeof(w->pending[0]); i++)
		buf_init(&w->pending[i], WBXML_REF_MAX_CANON_BYTES);
	w->depth = 0;
	w->overflow = false;
}

void
wbxml_ref_writer_free(struct wbxml_ref_writer *w)
{
	for (size_t i = 0; i < sizeof(w->pending) / sizeof(w->pending[0]); i++)
		buf_free(&w->pending[i]);
}

static int
ref_indent(struct buf *out, unsigned depth)
{
	for (unsigned i = 0; i < depth; i++)
		if (buf_append_byte(out, ' ') != 0)
			return -1;
	return 0;
}

/* Writes the text of the element at depth (1 = root), indented under it. */
static int
ref_flush(struct wbxml_ref_writer *w, unsigned depth)
{
	struct buf *text = &w->pending[depth];

	if (text->len == 0)
		return 0;
	if (ref_indent(w->out, depth) != 0 || buf_append_byte(w->out, '"') != 0)
		return -1;
	for (size_t i = 0; i < text->len; i++) {
		uint8_t c = text->data[i];
		int r;

		if (c >= 0x20 && c <= 0x7e && c != '\\' && c != '"')
			r = buf_append_byte(w->out, c);
		else
			r = buf_printf(w->out, "\\x%02x", c);
		if (r != 0)
			return -1;
	}
	buf_reset(text);
	return buf_append_str(w->out, "\"\n");
}

int
wbxml_ref_writer_start(struct wbxml_ref_writer *w, const char *ns,
		       const char *name)
{
	if (w->depth >= WBXML_REF_MAX_DEPTH) {
		w->overflow = true;
		return -1;
	}
	if (ref_indent(w->out, w->depth) != 0 ||
	    buf_printf(w->out, "%s@%s\n", name, ns) != 0)
		return -1;
	w->depth++;
	return 0;
}

int
wbxml_ref_writer_text(struct wbxml_ref_writer *w, const uint8_t *text,
		      size_t len)
{
	if (w->depth == 0)
		return -1;
	return buf_append(&w->pending[w->depth], text, len);
}

int
wbxml_ref_writer_end(struct wbxml_ref_writer *w)
{
	if (w->depth == 0 || ref_flush(w, w->depth) != 0)
		return -1;
	w->depth--;
	return 0;
}

int
wbxml_ref_writer_finish(struct wbxml_ref_writer *w)
{
	return w->depth == 0 && !w->overflow ? 0 : -1;
}

/* ---------------------------------------------- libwbxml2 output parser */

struct ref_parser {
	bool b64; /* undo libwbxml2's base64 rendering of some elements */
	const uint8_t *p;
	const uint8_t *end;
	struct wbxml_ref_writer *w;
	unsigned depth;
	char ns[WBXML_REF_MAX_DEPTH][REF_MAX_NAME];
	char name[WBXML_REF_MAX_DEPTH][REF_MAX_NAME];
};

static bool ref_renders_b64(const char *ns, const char *name);
static void ref_probe_all(void);
static int ref_b64_decode_inplace(struct buf *b);

static bool
ref_starts(const struct ref_parser *rp, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(rp->end - rp->p) >= n && memcmp(rp->p, s, n) == 0;
}

/* Skips to just past the first occurrence of s; -1 when absent. */
static int
ref_skip_past(struct ref_parser *rp, const char *s)
{
	size_t n = strlen(s);

	while ((size_t)(rp->end - rp->p) >= n) {
		if (memcmp(rp->p, s, n) == 0) {
			rp->p += n;
			return 0;
		}
		rp->p++;
	}
	return -1;
}

static bool
ref_name_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
	       c == ':';
}

static int
ref_read_name(struct ref_parser *rp, char *dst)
{
	size_t n = 0;

	while (rp->p < rp->end && ref_name_char(*rp->p)) {
		if (n + 1 >= REF_MAX_NAME)
			return -1;
		dst[n++] = (char)*rp->p++;
	}
	dst[n] = 0;
	return n > 0 ? 0 : -1;
}

static void
ref_skip_space(struct ref_parser *rp)
{
	while (rp->p < rp->end && (*rp->p == ' ' || *rp->p == '\n' ||
				   *rp->p == '\t' || *rp->p == '\r'))
		rp->p++;
}

static int
ref_put_utf8(struct wbxml_ref_writer *w, unsigned long cp)
{
	uint8_t u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | (cp >> 6));
		u[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (uint8_t)(0xe0 | (cp >> 12));
		u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else if (cp < 0x110000) {
		u[0] = (uint8_t)(0xf0 | (cp >> 18));
		u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	} else {
		return -1;
	}
	return wbxml_ref_writer_text(w, u, n);
}

/* One entity or character reference; rp->p is at '&'. */
static int
ref_entity(struct ref_parser *rp)
{
	static const struct {
		const char *ent;
		char c;
	} named[] = {{"&lt;", '<'},
		     {"&gt;", '>'},
		     {"&amp;", '&'},
		     {"&quot;", '"'},
		     {"&apos;", '\''}};
	unsigned long cp = 0;
	int base = 10, digits = 0;

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (ref_starts(rp, named[i].ent)) {
			rp->p += strlen(named[i].ent);
			return wbxml_ref_writer_text(
			    rp->w, (const uint8_t *)&named[i].c, 1);
		}
	if (!ref_starts(rp, "&#"))
		return -1;
	rp->p += 2;
	if (rp->p < rp->end && *rp->p == 'x') {
		base = 16;
		rp->p++;
	}
	while (rp->p < rp->end && *rp->p != ';') {
		uint8_t c = *rp->p++;
		unsigned v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return -1;
		if (++digits > 8)
			return -1;
		cp = cp * (unsigned long)base + v;
	}
	if (rp->p >= rp->end || digits == 0)
		return -1;
	rp->p++;
	return ref_put_utf8(rp->w, cp);
}

static int
ref_start_tag(struct ref_parser *rp)
{
	char name[REF_MAX_NAME], attr[REF_MAX_NAME];
	const char *ns = rp->depth > 0 ? rp->ns[rp->depth - 1] : "";
	char nsbuf[REF_MAX_NAME];
	bool empty = false;

	rp->p++; /* '<' */
	if (ref_read_name(rp, name) != 0)
		return -1;
	for (;;) {
		ref_skip_space(rp);
		if (ref_starts(rp, "/>")) {
			rp->p += 2;
			empty = true;
			break;
		}
		if (ref_starts(rp, ">")) {
			rp->p++;
			break;
		}
		if (ref_read_name(rp, attr) != 0 || strcmp(attr, "xmlns") != 0)
			return -1;
		if (!ref_starts(rp, "=\""))
			return -1;
		rp->p += 2;
		size_t n = 0;
		while (rp->p < rp->end && *rp->p != '"') {
			if (n + 1 >= sizeof(nsbuf))
				return -1;
			nsbuf[n++] = (char)*rp->p++;
		}
		if (rp->p >= rp->end)
			return -1;
		rp->p++;
		nsbuf[n] = 0;
		ns = nsbuf;
	}
	if (wbxml_ref_writer_start(rp->w, ns, name) != 0)
		return -1;
	if (empty)
		return wbxml_ref_writer_end(rp->w);
	if (rp->depth >= WBXML_REF_MAX_DEPTH)
		return -1;
	snprintf(rp->ns[rp->depth], REF_MAX_NAME, "%s", ns);
	snprintf(rp->name[rp->depth], REF_MAX_NAME, "%s", name);
	rp->depth++;
	return 0;
}

static int
ref_end_tag(struct ref_parser *rp)
{
	char name[REF_MAX_NAME];

	rp->p += 2; /* "</" */
	if (ref_read_name(rp, name) != 0 || rp->depth == 0 ||
	    strcmp(name, rp->name[rp->depth - 1]) != 0)
		return -1;
	ref_skip_space(rp);
	if (!ref_starts(rp, ">"))
		return -1;
	rp->p++;
	rp->depth--;
	if (rp->b64 && ref_renders_b64(rp->ns[rp->depth], name) &&
	    ref_b64_decode_inplace(&rp->w->pending[rp->w->depth]) != 0)
		return -1;
	return wbxml_ref_writer_end(rp->w);
}

static int
ref_parse_xml(struct ref_parser *rp)
{
	bool seen_root = false;

	/* Prolog: the XML declaration and libwbxml2's DOCTYPE. */
	for (;;) {
		ref_skip_space(rp);
		if (ref_starts(rp, "<?")) {
			if (ref_skip_past(rp, "?>") != 0)
				return -1;
		} else if (ref_starts(rp, "<!DOCTYPE")) {
			if (ref_skip_past(rp, ">") != 0)
				return -1;
		} else {
			break;
		}
	}
	while (rp->p < rp->end) {
		if (rp->depth == 0 && seen_root) {
			ref_skip_space(rp);
			if (rp->p < rp->end)
				return -1;
			break;
		}
		if (ref_starts(rp, "</")) {
			if (ref_end_tag(rp) != 0)
				return -1;
		} else if (*rp->p == '<') {
			if (ref_start_tag(rp) != 0)
				return -1;
			seen_root = true;
		} else if (*rp->p == '&') {
			if (rp->depth == 0 || ref_entity(rp) != 0)
				return -1;
		} else {
			if (rp->depth == 0) {
				ref_skip_space(rp);
				if (rp->p < rp->end && *rp->p != '<')
					return -1;
				continue;
			}
			if (wbxml_ref_writer_text(rp->w, rp->p, 1) != 0)
				return -1;
			rp->p++;
		}
	}
	return rp->depth == 0 && seen_root ? 0 : -1;
}

/* ------------------------------------------------------------ decode */

/* The one place libwbxml2 runs: WBXML -> compact XML text. */
static int
ref_libwbxml2(const uint8_t *data, size_t len, uint8_t **xml_r,
	      size_t *xml_len_r, const char **error_r)
{
	WBXMLConvWBXML2XML *conv = NULL;
	WB_UTINY *xml = NULL;
	WB_ULONG xml_len = 0;
	WBXMLError err;
	uint8_t *copy;

	*xml_r = NULL;
	/* libwbxml2 takes a non-const pointer and must never see len 0. */
	copy = malloc(len + 1);
	if (copy == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	memcpy(copy, data, len);
	if (wbxml_conv_wbxml2xml_create(&conv) != WBXML_OK) {
		free(copy);
		*error_r = "libwbxml2: cannot create converter";
		return -1;
	}
	wbxml_conv_wbxml2xml_set_language(conv, WBXML_LANG_ACTIVESYNC);
	wbxml_conv_wbxml2xml_set_gen_type(conv, WBXML_GEN_XML_COMPACT);
	wbxml_conv_wbxml2xml_enable_preserve_whitespaces(conv);
	err =
	    wbxml_conv_wbxml2xml_run(conv, copy, (WB_ULONG)len, &xml, &xml_len);
	wbxml_conv_wbxml2xml_destroy(conv);
	free(copy);
	if (err != WBXML_OK || xml == NULL) {
		static char msg[160];

		snprintf(msg, sizeof(msg), "libwbxml2 rejects: %s",
			 (const char *)wbxml_errors_string(err));
		free(xml);
		*error_r = msg;
		return -1;
	}
	*xml_r = xml;
	*xml_len_r = xml_len;
	return 0;
}

static int
ref_canon(const uint8_t *data, size_t len, bool b64, struct buf *out,
	  const char **error_r)
{
	struct wbxml_ref_writer w;
	struct ref_parser *rp = NULL;
	uint8_t *xml = NULL;
	size_t xml_len = 0;
	int ret = -1;

	wbxml_ref_writer_init(&w, out);
	if (len == 0) {
		*error_r = "libwbxml2 rejects: empty document";
		goto out;
	}
	if (ref_libwbxml2(data, len, &xml, &xml_len, error_r) != 0)
		goto out;
	rp = calloc(1, sizeof(*rp));
	if (rp == NULL) {
		*error_r = "out of memory";
		goto out;
	}
	rp->b64 = b64;
	rp->p = xml;
	rp->end = xml + xml_len;
	rp->w = &w;
	if (ref_parse_xml(rp) != 0 || wbxml_ref_writer_finish(&w) != 0) {
		*error_r = "unreadable libwbxml2 output (raw opaque data?)";
		goto out;
	}
	ret = 0;
out:
	free(rp);
	free(xml);
	wbxml_ref_writer_free(&w);
	return ret;
}

int
wbxml_ref_canon(const uint8_t *data, size_t len, struct buf *out,
		const char **error_r)
{
	return ref_canon(data, len, true, out, error_r);
}

/*
 * Isolation.  One long-lived child process runs libwbxml2 on the documents
 * the parent sends it over a pipe (4-byte length, a flags byte, then the bytes)
 * and answers with a status byte ('O' canonical text, 'E' message), a 4-byte
 * length and the text.  When the child dies (abort() inside libwbxml2, or
 * SIGALRM after REF_CHILD_TIMEOUT_S on one document) the parent reports
 * the crash and starts a new child for the next document, so a fork is
 * paid per crash rather than per document (a fork of a sanitized process
 * costs about 0.1 s).
 */
struct ref_server {
	pid_t pid;
	int to_child;
	int from_child;
};

static struct ref_server ref_srv = {0, -1, -1};

/* Request flag: the child aborts as libwbxml2 would on hostile input. */
#define REF_FLAG_ABORT 0x01u
static bool ref_abort_next;

void
wbxml_ref_test_abort_next(void)
{
	ref_abort_next = true;
}

static int
ref_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t k = write(fd, b, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

static int
ref_read_all(int fd, void *p, size_t n)
{
	uint8_t *b = p;

	while (n > 0) {
		ssize_t k = read(fd, b, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The child's loop; never returns. */
static void
ref_child_loop(int in, int out)
{
	struct buf doc, text;

	buf_init(&doc, WBXML_REF_MAX_CANON_BYTES);
	buf_init(&text, WBXML_REF_MAX_CANON_BYTES);
	for (;;) {
		const char *error = NULL;
		uint32_t len;
		uint8_t status;

		uint8_t flags;

		if (ref_read_all(in, &len, sizeof(len)) != 0 ||
		    ref_read_all(in, &flags, 1) != 0)
			_exit(0);
		/* The parent's test of its own crash handling. */
		if (flags & REF_FLAG_ABORT)
			abort();
		buf_reset(&doc);
		buf_reset(&text);
		if (buf_reserve(&doc, len) != 0 ||
		    (len > 0 && ref_read_all(in, doc.data, len) != 0))
			_exit(3);
		doc.len = len;
		alarm(REF_CHILD_TIMEOUT_S);
		status = 'O';
		if (wbxml_ref_canon(len > 0 ? doc.data : (const uint8_t *)"",
				    len, &text, &error) != 0) {
			status = 'E';
			buf_reset(&text);
			if (buf_append_str(&text,
					   error != NULL ? error : "?") != 0)
				_exit(3);
		}
		alarm(0);
		len = (uint32_t)text.len;
		if (ref_write_all(out, &status, 1) != 0 ||
		    ref_write_all(out, &len, sizeof(len)) != 0 ||
		    ref_write_all(out, text.data, text.len) != 0)
			_exit(3);
	}
}

static int
ref_server_start(void)
{
	int down[2], up[2];
	pid_t pid;

	if (pipe(down) != 0)
		return -1;
	if (pipe(up) != 0) {
		close(down[0]);
		close(down[1]);
		return -1;
	}
	/* Writing to a dead child must be an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(down[0]);
		close(down[1]);
		close(up[0]);
		close(up[1]);
		return -1;
	}
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		ref_child_loop(down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	ref_srv.pid = pid;
	ref_srv.to_child = down[1];
	ref_srv.from_child = up[0];
	return 0;
}

/* Stops the child; returns its wait status. */
static int
ref_server_stop(void)
{
	int status = 0;

	if (ref_srv.pid <= 0)
		return 0;
	close(ref_srv.to_child);
	close(ref_srv.from_child);
	while (waitpid(ref_srv.pid, &status, 0) < 0 && errno == EINTR)
		;
	ref_srv.pid = 0;
	ref_srv.to_child = ref_srv.from_child = -1;
	return status;
}

void
wbxml_ref_shutdown(void)
{
	ref_server_stop();
}

int
wbxml_ref_canon_isolated(const uint8_t *data, size_t len, struct buf *out,
			 const char **error_r)
{
	static char msg[200];
	uint32_t n = (uint32_t)len, rlen;
	uint8_t status, flags;
	int ret = -1;

	if (len > WBXML_REF_MAX_CANON_BYTES) {
		*error_r = "document too large for the reference decoder";
		return -1;
	}
	/* Probe the tag table here, once, so children inherit it. */
	ref_probe_all();
	if (ref_srv.pid <= 0 && ref_server_start() != 0) {
		*error_r = "cannot start the libwbxml2 child";
		return -1;
	}
	flags = ref_abort_next ? REF_FLAG_ABORT : 0;
	ref_abort_next = false;
	if (ref_write_all(ref_srv.to_child, &n, sizeof(n)) != 0 ||
	    ref_write_all(ref_srv.to_child, &flags, 1) != 0 ||
	    ref_write_all(ref_srv.to_child, data, len) != 0 ||
	    ref_read_all(ref_srv.from_child, &status, 1) != 0 ||
	    ref_read_all(ref_srv.from_child, &rlen, sizeof(rlen)) != 0 ||
	    rlen > WBXML_REF_MAX_CANON_BYTES) {
		int st = ref_server_stop();

		if (WIFSIGNALED(st))
			snprintf(msg, sizeof(msg),
				 "libwbxml2 crashed (signal %d)", WTERMSIG(st));
		else
			snprintf(msg, sizeof(msg), "libwbxml2 child failed");
		*error_r = msg;
		return -1;
	}
	if (buf_reserve(out, rlen) != 0) {
		*error_r = "canonical text too long";
		ref_server_stop();
		return -1;
	}
	if (rlen > 0 &&
	    ref_read_all(ref_srv.from_child, out->data + out->len, rlen) != 0) {
		ref_server_stop();
		*error_r = "libwbxml2 child failed";
		return -1;
	}
	if (status == 'O') {
		out->len += rlen;
		if (out->data != NULL)
			out->data[out->len] = 0;
		ret = 0;
	} else {
		snprintf(msg, sizeof(msg), "%.*s", (int)rlen,
			 out->data != NULL ? (const char *)out->data + out->len
					   : "");
		if (out->data != NULL)
			out->data[out->len] = 0;
		*error_r = msg;
	}
	return ret;
}

/* ------------------------------------------------------- token table */

struct ref_tag {
	bool probed;
	bool known;
	bool b64; /* libwbxml2 writes this element's content in base64 */
	char ns[REF_MAX_NAME];
	char name[REF_MAX_NAME];
};

static struct ref_tag ref_tags[WBXML_REF_PAGES][WBXML_REF_TOKENS];

/* Decodes the one-element document <page, token>AB</...> and reads the
 * name back from the canonical text ("Name@Ns:\n \"AB\"\n"); content
 * rendered as "QUI=" means libwbxml2 base64-encodes that element. */
static void
ref_probe(unsigned page, unsigned token, struct ref_tag *t)
{
	/* WBXML 1.3, unknown public id, UTF-8, empty string table. */
	const uint8_t doc[] = {0x03,
			       0x01,
			       0x6a,
			       0x00,
			       0x00,
			       (uint8_t)page,
			       (uint8_t)(token | 0x40),
			       0x03,
			       'A',
			       'B',
			       0x00,
			       0x01};
	const char *error = NULL;
	struct buf out;
	char *at, *nl;

	t->probed = true;
	t->known = false;
	t->b64 = false;
	buf_init(&out, 4096);
	if (ref_canon(doc, sizeof(doc), false, &out, &error) != 0)
		goto out;
	at = strchr((char *)out.data, '@');
	nl = strchr((char *)out.data, '\n');
	if (at == NULL || nl == NULL || nl < at ||
	    (size_t)(at - (char *)out.data) >= REF_MAX_NAME ||
	    (size_t)(nl - at) >= REF_MAX_NAME)
		goto out;
	snprintf(t->name, sizeof(t->name), "%.*s", (int)(at - (char *)out.data),
		 (const char *)out.data);
	snprintf(t->ns, sizeof(t->ns), "%.*s", (int)(nl - at - 1), at + 1);
	t->known = strcmp(t->name, "unknown") != 0;
	t->b64 = strstr(nl, "\"QUI=\"") != NULL;
out:
	buf_free(&out);
}

static void
ref_probe_all(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	for (unsigned p = 0; p < WBXML_REF_PAGES; p++)
		for (unsigned t = 0x05; t < WBXML_REF_TOKENS; t++)
			if (!ref_tags[p][t].probed)
				ref_probe(p, t, &ref_tags[p][t]);
}

static bool
ref_renders_b64(const char *ns, const char *name)
{
	ref_probe_all();
	for (unsigned p = 0; p < WBXML_REF_PAGES; p++)
		for (unsigned t = 0x05; t < WBXML_REF_TOKENS; t++) {
			const struct ref_tag *tag = &ref_tags[p][t];

			if (tag->known && tag->b64 &&
			    strcmp(tag->name, name) == 0 &&
			    strcmp(tag->ns, ns) == 0)
				return true;
		}
	return false;
}

/* Base64 text -> bytes, in place; -1 if it is not base64. */
static int
ref_b64_decode_inplace(struct buf *b)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	if (b->len == 0)
		return 0;
	for (size_t i = 0; i < b->len; i++) {
		uint8_t c = b->data[i];
		const char *p;

		if (c == '=' || c == '\n' || c == '\r' || c == ' ')
			continue;
		p = c != 0 ? strchr(alphabet, c) : NULL;
		if (p == NULL)
			return -1;
		acc = acc << 6 | (uint32_t)(p - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			b->data[o++] = (uint8_t)(acc >> bits);
		}
	}
	b->len = o;
	b->data[o] = 0;
	return 0;
}

bool
wbxml_ref_tag(unsigned page, unsigned token, const char **ns_r,
	      const char **name_r)
{
	struct ref_tag *t;

	if (page >= WBXML_REF_PAGES || token < 0x05 ||
	    token >= WBXML_REF_TOKENS)
		return false;
	ref_probe_all();
	t = &ref_tags[page][token];
	if (!t->known)
		return false;
	*ns_r = t->ns;
	*name_r = t->name;
	return true;
}
