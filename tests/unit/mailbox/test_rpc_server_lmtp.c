/*
 * LMTP delivery in process: the LMTP listener (mailbox/lmtp_server.c) on
 * the harness's loop, a raw client on loopback.  Recipients by address,
 * by bare login and with "+detail" (into the folder of that name when it
 * exists, else the Inbox); an unknown one gets 550; every 250 is followed
 * by a Changed event for the folder that got the message; pipelined
 * transactions are answered in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "mailbox/lmtp_server.h"
#include "tests/unit/mailbox/mbox_harness.h"

static struct mbox_harness H;
static struct mbox_client ADMIN, CAS;
static struct lmtp_server *LMTP;
static int lmtp_port;

/* The LMTP listener belongs to the loop thread: it is created and freed
 * by tasks posted there, and the test thread waits (bounded) for them. */
struct lmtp_start {
	bool done;
	int rc;
	pthread_mutex_t lock;
};

static void
start_lmtp_on_loop(void *arg)
{
	struct lmtp_start *s = arg;
	const char *error = NULL;
	char listen[32];

	(void)snprintf(listen, sizeof(listen), "127.0.0.1:%d", lmtp_port);
	pthread_mutex_lock(&s->lock);
	s->rc = lmtp_server_new(&H.ctx, listen, &LMTP, &error);
	s->done = true;
	pthread_mutex_unlock(&s->lock);
}

static void
stop_lmtp_on_loop(void *arg)
{
	struct lmtp_start *s = arg;

	pthread_mutex_lock(&s->lock);
	lmtp_server_free(&LMTP);
	s->done = true;
	pthread_mutex_unlock(&s->lock);
}

static bool
run_on_loop(loop_task_fn *fn)
{
	static struct lmtp_start s = {.lock = PTHREAD_MUTEX_INITIALIZER};
	bool done = false;

	s.done = false;
	if (loop_post(H.ctx.loop, fn, &s) < 0)
		return false;
	for (int i = 0; i < 500 && !done; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};

		pthread_mutex_lock(&s.lock);
		done = s.done;
		pthread_mutex_unlock(&s.lock);
		if (!done)
			(void)nanosleep(&ts, NULL);
	}
	return done && s.rc == 0;
}

static int
setup(void **state)
{
	(void)state;
	if (mbox_harness_start(&H, 0, 0, 0) < 0 ||
	    mbox_client_open(&ADMIN, &H, RPC__ROLE__ROLE_ADMIN) < 0 ||
	    mbox_client_open(&CAS, &H, RPC__ROLE__ROLE_CAS) < 0)
		return -1;
	/* A port below the ephemeral range, free at this moment. */
	for (int tries = 0; tries < 50 && LMTP == NULL; tries++) {
		lmtp_port = 20000 + (int)(loop_now_ms() * 7919 % 12000);
		if (!run_on_loop(start_lmtp_on_loop))
			LMTP = NULL;
	}
	return LMTP != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	(void)run_on_loop(stop_lmtp_on_loop);
	mbox_client_close(&CAS);
	mbox_client_close(&ADMIN);
	mbox_harness_stop(&H);
	return 0;
}

/* ------------------------------------------------------ LMTP client */

static int
lmtp_connect(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct timeval tv = {.tv_sec = 10};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	sa.sin_port = htons((uint16_t)lmtp_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Reads until `replies` final reply lines arrived; returns them
 * concatenated (codes only, space separated) in out. */
static void
lmtp_read(int fd, int replies, char *out, size_t size)
{
	char buf[4096];
	size_t len = 0, o = 0;

	out[0] = 0;
	while (replies > 0) {
		char *nl;
		ssize_t n;

		while ((nl = memchr(buf, '\n', len)) != NULL) {
			if (nl - buf >= 4 && buf[3] == ' ') {
				o += (size_t)snprintf(out + o, size - o,
						      "%s%.3s", o ? " " : "",
						      buf);
				replies--;
			}
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
			if (replies == 0)
				return;
		}
		n = recv(fd, buf + len, sizeof(buf) - len, 0);
		assert_true(n > 0);
		len += (size_t)n;
	}
}

static void
lmtp_send(int fd, const char *text)
{
	assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL),
			 (ssize_t)strlen(text));
}

static uint64_t
add_user(const char *login)
{
	Rpc__UserAddRequest q;
	ProtobufCMessage *rep;
	uint64_t id;

	rpc__user_add_request__init(&q);
	q.login = (char *)(uintptr_t)login;
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_USER_ADD, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	id = ((Rpc__UserReply *)(void *)rep)->info->user;
	mbox_free(rep);
	return id;
}

static uint64_t
items_in(uint64_t user, const char *name)
{
	Rpc__FolderListRequest q;
	ProtobufCMessage *rep;
	const Rpc__FolderListReply *l;
	uint64_t n = UINT64_MAX;

	rpc__folder_list_request__init(&q);
	q.user = user;
	assert_int_equal(
	    mbox_call(&ADMIN, RPC__MSG_TYPE__MSG_FOLDER_LIST, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	l = (const void *)rep;
	for (size_t i = 0; i < l->n_folders; i++)
		if (strcmp(l->folders[i]->folder->display_name, name) == 0)
			n = l->folders[i]->items;
	mbox_free(rep);
	return n;
}

struct events {
	int changed;
};

static void
on_event(void *arg, const Rpc__Event *ev)
{
	struct events *e = arg;

	if (ev->kind_case == RPC__EVENT__KIND_CHANGED)
		e->changed++;
}

static void
test_delivery(void **state)
{
	static struct events ev; /* the subscription outlives the test */
	uint64_t una = add_user("una");
	Rpc__FolderSyncRequest fs;
	Rpc__FolderCreateRequest fc;
	ProtobufCMessage *rep, *rep2;
	char got[256];
	int fd;

	(void)state;
	(void)add_user("vic");
	assert_int_equal(
	    rpc_client_subscribe(CAS.rpc, true, NULL, 0, on_event, &ev), 0);
	/* A folder "Lists" for the +detail delivery. */
	rpc__folder_sync_request__init(&fs);
	fs.user = una;
	fs.device_id = "D";
	fs.sync_key = "0";
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FOLDER_SYNC, &fs.base, &rep),
	    RPC__STATUS__STATUS_OK);
	rpc__folder_create_request__init(&fc);
	fc.user = una;
	fc.device_id = "D";
	fc.sync_key = ((Rpc__FolderSyncReply *)(void *)rep)->sync_key;
	fc.parent_id = "0";
	fc.display_name = "Lists";
	fc.type = 12;
	assert_int_equal(
	    mbox_call(&CAS, RPC__MSG_TYPE__MSG_FOLDER_CREATE, &fc.base, &rep2),
	    RPC__STATUS__STATUS_OK);
	mbox_free(rep2);
	mbox_free(rep);

	fd = lmtp_connect();
	lmtp_read(fd, 1, got, sizeof(got));
	assert_string_equal(got, "220");
	/* Two transactions pipelined, answered in order (RFC 2033 4.2: one
	 * reply per accepted recipient after the data). */
	lmtp_send(fd, "LHLO t\r\nMAIL FROM:<s@x>\r\n"
		      "RCPT TO:<una@example.org>\r\n"
		      "RCPT TO:<una+Lists@example.org>\r\n"
		      "RCPT TO:<una+Nowhere@example.org>\r\n"
		      "RCPT TO:<ghost@example.org>\r\n"
		      "RCPT TO:<vic>\r\nDATA\r\n");
	lmtp_read(fd, 8, got, sizeof(got));
	assert_string_equal(got, "250 250 250 250 250 550 250 354");
	lmtp_send(fd, "Subject: hi\r\n\r\nbody\r\n.\r\n");
	lmtp_read(fd, 4, got, sizeof(got));
	assert_string_equal(got, "250 250 250 250");
	lmtp_send(fd, "QUIT\r\n");
	lmtp_read(fd, 1, got, sizeof(got));
	assert_string_equal(got, "221");
	(void)close(fd);

	assert_int_equal(items_in(una, "Inbox"), 2); /* plain and +Nowhere */
	assert_int_equal(items_in(una, "Lists"), 1);
	for (int i = 0; i < 200 && ev.changed < 4; i++)
		(void)loop_run_once(CAS.loop, 20);
	assert_true(ev.changed >= 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_delivery),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
