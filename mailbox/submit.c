/*
 * SMTP submission through libcurl, and the bounce we store when the relay
 * refuses a message for good.  libcurl speaks the protocol (EHLO,
 * STARTTLS, AUTH, MAIL/RCPT/DATA, dot-stuffing); this file only sets the
 * options, reads the outcome and classifies it.  To know the server's own
 * words (for the bounce) and which recipient was refused, a debug callback
 * watches the command/reply lines: each "RCPT TO" sent is paired with the
 * reply that follows (libcurl sends RCPTs one at a time, waiting for each
 * reply).  With CURLOPT_MAIL_RCPT_ALLOWFAILS a refused recipient does not
 * abort the others.
 *
 * Classification: transfer OK -> SUBMIT_OK; a failure whose last reply was
 * 5xx -> SUBMIT_PERMFAIL; everything else (no reply: refused connection,
 * DNS, timeout, TLS; 4xx; authentication refused, which is our
 * configuration and must not bounce the user's mail) -> SUBMIT_TEMPFAIL.
 */
#include "mailbox/submit.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SUBMIT_DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define SUBMIT_DEFAULT_TIMEOUT_MS 120000L

static pthread_once_t submit_once = PTHREAD_ONCE_INIT;

static void
submit_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
submit_init(void)
{
	pthread_once(&submit_once, submit_init_once);
}

struct upload {
	const uint8_t *data;
	size_t len;
	size_t off;
};

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	struct upload *u = userp;
	size_t room = size * nitems;
	size_t n = u->len - u->off;

	if (n > room)
		n = room;
	memcpy(buf, u->data + u->off, n);
	u->off += n;
	return n;
}

struct watch {
	struct submit_result *res;
	char pending_rcpt[260]; /* RCPT sent, reply not seen yet */
	bool have_pending;
	bool quitting; /* QUIT sent: its 221 must not hide the outcome */
};

/* Copy one protocol line without its line end, bounded. */
static void
copy_line(char *dst, size_t size, const char *src, size_t len)
{
	while (len > 0 && (src[len - 1] == '\n' || src[len - 1] == '\r'))
		len--;
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)dst[i] < 0x20)
			dst[i] = ' ';
}

static long
reply_code(const char *line, size_t len)
{
	if (len < 3 || !isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]))
		return 0;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

static int
debug_cb(CURL *curl, curl_infotype type, char *data, size_t size, void *userp)
{
	struct watch *w = userp;
	long code;

	(void)curl;
	if (type == CURLINFO_HEADER_OUT && size >= 4 &&
	    strncasecmp(data, "QUIT", 4) == 0)
		w->quitting = true;
	if (type == CURLINFO_HEADER_OUT && size > 8 &&
	    strncasecmp(data, "RCPT TO:", 8) == 0) {
		const char *p = data + 8;
		size_t n = size - 8;
		const char *lt = memchr(p, '<', n);
		const char *gt =
		    lt != NULL ? memchr(lt, '>', n - (size_t)(lt - p)) : NULL;

		if (lt != NULL && gt != NULL)
			copy_line(w->pending_rcpt, sizeof(w->pending_rcpt),
				  lt + 1, (size_t)(gt - lt - 1));
		else
			copy_line(w->pending_rcpt, sizeof(w->pending_rcpt), p,
				  n);
		w->have_pending = true;
		return 0;
	}
	if (type != CURLINFO_HEADER_IN || w->quitting)
		return 0;
	code = reply_code(data, size);
	if (code == 0)
		return 0;
	w->res->code = code;
	copy_line(w->res->text, sizeof(w->res->text), data, size);
	/* A multi-line reply ("250-") is final only at "250 ". */
	if (w->have_pending && (size < 4 || data[3] != '-')) {
		w->have_pending = false;
		if (code >= 400) {
			struct submit_result *r = w->res;

			if (r->n_failed < SUBMIT_MAX_FAILED) {
				struct submit_failure *f =
				    &r->failed[r->n_failed++];

				snprintf(f->address, sizeof(f->address), "%s",
					 w->pending_rcpt);
				f->code = code;
				snprintf(f->text, sizeof(f->text), "%s",
					 r->text);
			}
			r->n_failed_total++;
		}
	}
	return 0;
}

/* An address that may go into a command line or a header. */
static bool
address_ok(const char *a)
{
	size_t n = strlen(a);

	if (n > SUBMIT_MAX_ADDRESS_BYTES)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)a[i] < 0x20 || a[i] == 0x7f || a[i] == '<' ||
		    a[i] == '>')
			return false;
	return true;
}

static enum submit_status
classify(CURLcode rc, long code)
{
	if (rc == CURLE_OK)
		return SUBMIT_OK;
	if (rc == CURLE_LOGIN_DENIED)
		return SUBMIT_TEMPFAIL;
	if (code >= 500 && code < 600)
		return SUBMIT_PERMFAIL;
	return SUBMIT_TEMPFAIL;
}

int
submit_send(const struct submit_config *relay, const char *mail_from,
	    const char *const *rcpts, size_t n_rcpts, const uint8_t *mime,
	    size_t len, struct submit_result *res)
{
	struct upload up = {mime, len, 0};
	struct watch w;
	struct curl_slist *list = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	char from[300];
	CURL *curl = NULL;
	CURLcode rc = CURLE_FAILED_INIT;
	long use_ssl;

	memset(res, 0, sizeof(*res));
	memset(&w, 0, sizeof(w));
	w.res = res;
	submit_init();
	if (n_rcpts == 0 || relay->url == NULL) {
		res->status = n_rcpts == 0 ? SUBMIT_PERMFAIL : SUBMIT_TEMPFAIL;
		snprintf(res->text, sizeof(res->text), "%s",
			 n_rcpts == 0 ? "no recipients" : "no relay");
		return -1;
	}
	/* Addresses go into SMTP command lines: no CR/LF injection. */
	if (!address_ok(mail_from != NULL ? mail_from : ""))
		goto bad_address;
	for (size_t i = 0; i < n_rcpts; i++)
		if (!address_ok(rcpts[i]) || rcpts[i][0] == '\0')
			goto bad_address;
	for (size_t i = 0; i < n_rcpts; i++) {
		char rcpt[300];
		struct curl_slist *next;

		snprintf(rcpt, sizeof(rcpt), "<%s>", rcpts[i]);
		next = curl_slist_append(list, rcpt);
		if (next == NULL)
			goto out;
		list = next;
	}
	curl = curl_easy_init();
	if (curl == NULL)
		goto out;
	snprintf(from, sizeof(from), "<%s>",
		 mail_from != NULL ? mail_from : "");
	use_ssl = relay->tls == SUBMIT_TLS_REQUIRED ? (long)CURLUSESSL_ALL
		  : relay->tls == SUBMIT_TLS_TRY    ? (long)CURLUSESSL_TRY
						    : (long)CURLUSESSL_NONE;
	curl_easy_setopt(curl, CURLOPT_URL, relay->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(curl, CURLOPT_USE_SSL, use_ssl);
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, list);
#ifdef CURLOPT_MAIL_RCPT_ALLOWFAILS
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#else
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(curl, CURLOPT_READDATA, &up);
	curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
			 relay->connect_timeout_ms > 0
			     ? relay->connect_timeout_ms
			     : SUBMIT_DEFAULT_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
			 relay->timeout_ms > 0 ? relay->timeout_ms
					       : SUBMIT_DEFAULT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &w);
	curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
	if (relay->username != NULL) {
		curl_easy_setopt(curl, CURLOPT_USERNAME, relay->username);
		curl_easy_setopt(curl, CURLOPT_PASSWORD,
				 relay->password != NULL ? relay->password
							 : "");
	}
	if (relay->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, relay->ca_file);
	rc = curl_easy_perform(curl);
out:
	res->status = classify(rc, res->code);
	if (rc != CURLE_OK && (res->code == 0 || res->code < 400)) {
		/* No failing reply: say what went wrong locally. */
		snprintf(res->text, sizeof(res->text), "%s",
			 errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	}
	if (curl != NULL)
		curl_easy_cleanup(curl);
	curl_slist_free_all(list);
	return res->status == SUBMIT_OK ? 0 : -1;
bad_address:
	res->status = SUBMIT_PERMFAIL;
	snprintf(res->text, sizeof(res->text), "%s",
		 "550 5.1.3 bad address syntax");
	res->code = 550;
	return -1;
}

/* ------------------------------------------------------------- bounce */

/* The enhanced status code in a reply text ("550 5.1.1 ..."), or one
 * derived from the reply class (RFC 3463). */
static void
status_of(long code, const char *text, char *out, size_t size)
{
	const char *p = text;
	int a, b, c, n = 0;

	if (strlen(p) > 4 && isdigit((unsigned char)p[0]))
		p += 4;
	if (sscanf(p, "%1d.%3d.%3d%n", &a, &b, &c, &n) == 3 && n > 0 &&
	    (a == 4 || a == 5)) {
		snprintf(out, size, "%d.%d.%d", a, b, c);
		return;
	}
	snprintf(out, size, "%ld.0.0", code >= 500 ? 5L : 4L);
}

static int
bounce_recipient(struct buf *out, const char *rcpt, long code, const char *text)
{
	char status[16];

	status_of(code, text, status, sizeof(status));
	/* RFC 3464 2.3: per-recipient fields */
	return buf_printf(out,
			  "\r\nFinal-Recipient: rfc822; %s\r\n"
			  "Action: failed\r\n"
			  "Status: %s\r\n"
			  "Diagnostic-Code: smtp; %s\r\n",
			  rcpt, status, text);
}

/* The original header block: up to the first empty line, bounded. */
static size_t
header_block_len(const uint8_t *m, size_t len)
{
	size_t limit = len < SUBMIT_BOUNCE_MAX_HEADER_BYTES
			   ? len
			   : SUBMIT_BOUNCE_MAX_HEADER_BYTES;

	for (size_t i = 0; i + 1 < limit; i++) {
		if (m[i] == '\n' && m[i + 1] == '\n')
			return i + 1;
		if (m[i] == '\n' && m[i + 1] == '\r' && i + 2 < limit &&
		    m[i + 2] == '\n')
			return i + 1;
	}
	return limit;
}

int
submit_build_bounce(const char *reporting_host, const char *to,
		    const char *const *rcpts, size_t n_rcpts,
		    const struct submit_result *res, const uint8_t *original,
		    size_t original_len, int64_t now, struct buf *out)
{
	char date[64], boundary[64];
	struct tm tm;
	time_t t = (time_t)now;
	size_t hdr_len = header_block_len(original, original_len);
	size_t n_perm = 0;
	unsigned salt = 0;

	if (res->status == SUBMIT_PERMFAIL)
		n_perm = n_rcpts;
	else
		for (size_t i = 0; i < res->n_failed; i++)
			if (res->failed[i].code >= 500)
				n_perm++;
	if (n_perm == 0 || !address_ok(to) ||
	    !address_ok(reporting_host != NULL ? reporting_host : ""))
		return -1;
	for (size_t i = 0; i < n_rcpts; i++)
		if (!address_ok(rcpts[i]))
			return -1;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm) ==
		0)
		return -1;
	/* A boundary that does not occur in the quoted headers. */
	do {
		snprintf(boundary, sizeof(boundary), "=_easd_dsn_%llx_%u",
			 (unsigned long long)now, salt++);
	} while (memmem(original, hdr_len, boundary, strlen(boundary)) !=
		     NULL &&
		 salt < 1000);
	if (buf_printf(out,
		       "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
		       "To: <%s>\r\n"
		       "Subject: Undelivered Mail Returned to Sender\r\n"
		       "Date: %s\r\n"
		       "Auto-Submitted: auto-replied\r\n"
		       "MIME-Version: 1.0\r\n"
		       "Content-Type: multipart/report; "
		       "report-type=delivery-status;\r\n"
		       "\tboundary=\"%s\"\r\n"
		       "\r\n"
		       "--%s\r\n"
		       "Content-Type: text/plain; charset=utf-8\r\n"
		       "\r\n"
		       "Your message could not be delivered to one or more "
		       "recipients.\r\n"
		       "The mail relay answered: %s\r\n"
		       "\r\n"
		       "--%s\r\n"
		       "Content-Type: message/delivery-status\r\n"
		       "\r\n"
		       "Reporting-MTA: dns; %s\r\n"
		       "Arrival-Date: %s\r\n",
		       reporting_host, to, date, boundary, boundary, res->text,
		       boundary, reporting_host, date) != 0)
		return -1;
	if (res->status == SUBMIT_PERMFAIL) {
		for (size_t i = 0; i < n_rcpts; i++)
			if (bounce_recipient(out, rcpts[i], res->code,
					     res->text) != 0)
				return -1;
	} else {
		for (size_t i = 0; i < res->n_failed; i++)
			if (res->failed[i].code >= 500 &&
			    bounce_recipient(out, res->failed[i].address,
					     res->failed[i].code,
					     res->failed[i].text) != 0)
				return -1;
	}
	/* RFC 6522: the third part returns the original (headers only). */
	if (buf_printf(out,
		       "\r\n--%s\r\n"
		       "Content-Type: text/rfc822-headers\r\n"
		       "\r\n",
		       boundary) != 0 ||
	    buf_append(out, original, hdr_len) != 0 ||
	    buf_printf(out, "\r\n--%s--\r\n", boundary) != 0)
		return -1;
	return 0;
}
