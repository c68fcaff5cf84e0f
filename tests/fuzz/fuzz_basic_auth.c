/* libFuzzer target: the Authorization header parser of cas/auth.c, with
 * its base64 decoding, UTF-8 validation and ISO-8859-1 conversion.  The
 * input is the header value.  On success the outputs must be NUL-
 * terminated, valid UTF-8 strings within their bounds, and the login must
 * be rebuilt from its parts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cas/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_utf8(const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1);

	if (len > max)
		abort();
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t need = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;

		if (c >= 0x80 && c < 0xC2)
			abort();
		for (size_t k = 1; k <= need; k++) {
			if (i + k >= len ||
			    ((unsigned char)s[i + k] & 0xC0) != 0x80)
				abort();
		}
		i += need;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cas_credentials cred;
	const char *err = NULL;

	if (cas_auth_parse_basic(data, size, &cred, &err) != 0) {
		if (err == NULL || cred.login[0] != 0 || cred.password[0] != 0)
			abort();
		return 0;
	}
	check_utf8(cred.login, CAS_AUTH_MAX_LOGIN_BYTES);
	check_utf8(cred.password, CAS_AUTH_MAX_PASSWORD_BYTES);
	if (cred.login[0] == 0 || cred.password[0] == 0 || cred.user[0] == 0)
		abort();
	if (cred.domain[0] != 0 && strstr(cred.login, cred.user) == NULL)
		abort();
	cas_credentials_wipe(&cred);
	return 0;
}
