/* Unit tests for cas/proxy.c and cas/cas_conf.c: trusted proxy lists,
 * X-Forwarded-For client selection, and [cas] validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cas/cas_conf.h"
#include "cas/proxy.h"

static struct sockaddr_storage
sa(const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, &in->sin_addr), 1);
	}
	return ss;
}

static void
test_parse_and_match(void **state)
{
	struct cas_proxies *p = NULL;
	struct sockaddr_storage a;
	char *err = NULL;

	(void)state;
	assert_int_equal(
	    cas_proxies_parse("10.0.0.0/8, 192.168.1.5 2001:db8::/32,::1", &p,
			      &err),
	    0);
	a = sa("10.200.3.4");
	assert_true(cas_proxies_trusted(p, (struct sockaddr *)&a));
	a = sa("11.0.0.1");
	assert_false(cas_proxies_trusted(p, (struct sockaddr *)&a));
	a = sa("192.168.1.5");
	assert_true(cas_proxies_trusted(p, (struct sockaddr *)&a));
	a = sa("192.168.1.6");
	assert_false(cas_proxies_trusted(p, (struct sockaddr *)&a));
	a = sa("2001:db8:ffff::1");
	assert_true(cas_proxies_trusted(p, (struct sockaddr *)&a));
	a = sa("2001:db9::1");
	assert_false(cas_proxies_trusted(p, (struct sockaddr *)&a));
	a = sa("::1");
	assert_true(cas_proxies_trusted(p, (struct sockaddr *)&a));
	a = sa("::ffff:10.1.1.1"); /* v4-mapped matches the v4 block */
	assert_true(cas_proxies_trusted(p, (struct sockaddr *)&a));
	cas_proxies_free(&p);
	assert_null(p);
	assert_int_equal(cas_proxies_parse("10.0.0.0/33", &p, &err), -1);
	assert_non_null(strstr(err, "10.0.0.0/33"));
	free(err);
	assert_int_equal(cas_proxies_parse("nonsense", &p, &err), -1);
	free(err);
	assert_int_equal(cas_proxies_parse("1.2.3.4/", &p, &err), -1);
	free(err);
	assert_int_equal(cas_proxies_parse("", &p, &err), 0);
	a = sa("127.0.0.1");
	assert_false(cas_proxies_trusted(p, (struct sockaddr *)&a));
	cas_proxies_free(&p);
}

static void
test_xff(void **state)
{
	struct cas_proxies *p = NULL;
	struct sockaddr_storage peer;
	char addr[CAS_PROXY_ADDR_STRLEN], *err = NULL;
	bool https;

	(void)state;
	assert_int_equal(cas_proxies_parse("127.0.0.1 10.0.0.0/8", &p, &err),
			 0);
	/* Untrusted peer: headers ignored. */
	peer = sa("198.51.100.1");
	cas_proxies_client(p, (struct sockaddr *)&peer, false, "1.1.1.1",
			   "https", addr, &https);
	assert_string_equal(addr, "198.51.100.1");
	assert_false(https);
	/* Trusted peer: rightmost untrusted hop; spoofed left entries. */
	peer = sa("127.0.0.1");
	cas_proxies_client(p, (struct sockaddr *)&peer, false,
			   "6.6.6.6, 203.0.113.9, 10.1.2.3", "https", addr,
			   &https);
	assert_string_equal(addr, "203.0.113.9");
	assert_true(https);
	cas_proxies_client(p, (struct sockaddr *)&peer, true, "203.0.113.9",
			   "http", addr, &https);
	assert_false(https);
	/* Ports and IPv6 forms. */
	cas_proxies_client(p, (struct sockaddr *)&peer, false,
			   "[2001:db8::5]:443", NULL, addr, &https);
	assert_string_equal(addr, "2001:db8::5");
	cas_proxies_client(p, (struct sockaddr *)&peer, false,
			   "192.0.2.1:5555,", NULL, addr, &https);
	assert_string_equal(addr, "192.0.2.1");
	/* All hops trusted or garbage: the last trusted hop. */
	cas_proxies_client(p, (struct sockaddr *)&peer, false,
			   "garbage, 10.9.9.9", NULL, addr, &https);
	assert_string_equal(addr, "10.9.9.9");
	cas_proxies_client(p, (struct sockaddr *)&peer, false, NULL, NULL, addr,
			   &https);
	assert_string_equal(addr, "127.0.0.1");
	cas_proxies_free(&p);
}

static void
test_conf(void **state)
{
	struct conf *c = NULL;
	struct cas_conf *cc = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(
	    conf_parse("[cas]\nhttp_listen = 127.0.0.1:8080\n"
		       "https_listen = [::]:8443\ntls_cert = /c\ntls_key = /k\n"
		       "proxy_idle_timeout = 600\n",
		       "t", &c, &err),
	    0);
	assert_int_equal(cas_conf_load(c, &cc, &err), 0);
	assert_true(cc->https_listen.enabled);
	assert_int_equal(cc->https_listen.addr.ss_family, AF_INET6);
	assert_int_equal(cc->max_heartbeat_s, 540); /* 600 - 60 */
	assert_int_equal(cc->min_heartbeat_s, 60);
	assert_int_equal(cc->auth_cache_ttl_s, 300);
	assert_int_equal(cc->allow_plain_auth, CAS_PLAIN_AUTH_LOOPBACK);
	cas_conf_free(&cc);
	conf_free(&c);

	assert_int_equal(
	    conf_parse("[cas]\nhttps_listen = 0.0.0.0:8443\n", "t", &c, &err),
	    0);
	assert_int_equal(cas_conf_load(c, &cc, &err), -1);
	assert_non_null(strstr(err, "tls_cert"));
	free(err);
	conf_free(&c);
	assert_int_equal(
	    conf_parse("[cas]\nhttp_listen = nowhere\n", "t", &c, &err), 0);
	assert_int_equal(cas_conf_load(c, &cc, &err), -1);
	assert_non_null(strstr(err, "http_listen"));
	free(err);
	conf_free(&c);
	assert_int_equal(
	    conf_parse("[cas]\nmax_heartbeat = 9999\n", "t", &c, &err), 0);
	assert_int_equal(cas_conf_load(c, &cc, &err), -1);
	assert_non_null(strstr(err, "max_heartbeat"));
	free(err);
	conf_free(&c);
	assert_int_equal(conf_parse("[cas]\nmailbox =\n", "t", &c, &err), 0);
	assert_int_equal(cas_conf_load(c, &cc, &err), -1);
	assert_non_null(strstr(err, "mailbox"));
	free(err);
	conf_free(&c);
	assert_int_equal(
	    conf_parse("[cas]\nallow_plain_auth = maybe\n", "t", &c, &err), 0);
	assert_int_equal(cas_conf_load(c, &cc, &err), -1);
	assert_non_null(strstr(err, "allow_plain_auth"));
	free(err);
	conf_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_and_match),
	    cmocka_unit_test(test_xff),
	    cmocka_unit_test(test_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
