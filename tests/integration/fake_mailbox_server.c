/*
 * The fake mailbox (tests/lib/fake_mailbox.h) as a process, for
 * integration scripts that drive easctl or easd-cas: it creates user
 * alice (password "secret") with two devices -- IPHONE161 (iPhone, 16.1)
 * and ANDROID121 (Android, 12.1) -- prints its RPC address on stdout, and
 * serves until stdin reaches end of file, SIGTERM, or 120 s pass.
 * With `--tls CA CERT KEY` it listens on TCP 127.0.0.1 with mutual TLS.
 */
#include "tests/lib/fake_mailbox.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv);

#define FAKE_SERVER_MAX_LIFETIME_MS 120000

int
main(int argc, char **argv)
{
	struct fake_mailbox *fm;
	struct tls_config tls;
	uint64_t user;
	struct pollfd pfd = {.fd = 0, .events = POLLIN};
	char byte;
	sigset_t sigs;

	/* SIGTERM ends poll() with EINTR through the default action. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (argc == 5 && strcmp(argv[1], "--tls") == 0) {
		memset(&tls, 0, sizeof(tls));
		tls.ca_file = argv[2];
		tls.cert_file = argv[3];
		tls.key_file = argv[4];
		fm = fake_mailbox_start_tcp(&tls);
	} else if (argc == 1) {
		fm = fake_mailbox_start();
	} else {
		fprintf(stderr, "usage: fake_mailbox_server [--tls CA CERT "
				"KEY]\n");
		return 2;
	}
	if (fm == NULL)
		return 1;
	user = fake_mailbox_add_user(fm, "alice", "secret");
	if (user == 0 ||
	    fake_mailbox_add_device(fm, user, "IPHONE161", "iPhone", "16.1") !=
		0 ||
	    fake_mailbox_add_device(fm, user, "ANDROID121", "Android",
				    "12.1") != 0) {
		fake_mailbox_stop(&fm);
		return 1;
	}
	printf("%s\n", fake_mailbox_addr(fm));
	fflush(stdout);
	/* Bounded: end of input, or the lifetime. */
	while (poll(&pfd, 1, FAKE_SERVER_MAX_LIFETIME_MS) > 0) {
		if (read(0, &byte, 1) <= 0)
			break;
	}
	fake_mailbox_stop(&fm);
	return 0;
}
