/* The mailbox side of Settings: OofGet/OofSet through the RPC server
 * (defaults, round trip, refusals that leave the stored setting alone),
 * the reply memory forgotten by a new setting (store level), and the
 * device fields of DeviceInformation and DevicePassword (stored, listed
 * as "one is stored"; its value: test_devpw.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mailbox/oof.h"
#include "tests/unit/mailbox/mbox_harness.h"

struct env {
	struct mbox_harness h;
	struct mbox_client admin, cas;
	uint64_t user;
};

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	Rpc__UserAddRequest q;
	ProtobufCMessage *rep;

	if (e == NULL || mbox_harness_start(&e->h, 0, 1, 1) != 0 ||
	    mbox_client_open(&e->admin, &e->h, RPC__ROLE__ROLE_ADMIN) != 0 ||
	    mbox_client_open(&e->cas, &e->h, RPC__ROLE__ROLE_CAS) != 0)
		return -1;
	rpc__user_add_request__init(&q);
	q.login = "sam";
	if (mbox_call(&e->admin, RPC__MSG_TYPE__MSG_USER_ADD, &q.base, &rep) !=
	    RPC__STATUS__STATUS_OK)
		return -1;
	e->user = ((Rpc__UserReply *)(void *)rep)->info->user;
	mbox_free(rep);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;

	mbox_client_close(&e->cas);
	mbox_client_close(&e->admin);
	mbox_harness_stop(&e->h);
	free(e);
	return 0;
}

static Rpc__OofReply *
oof_get(struct env *e)
{
	Rpc__OofGetRequest q;
	ProtobufCMessage *rep;

	rpc__oof_get_request__init(&q);
	q.user = e->user;
	assert_int_equal(
	    mbox_call(&e->cas, RPC__MSG_TYPE__MSG_OOF_GET, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	return (Rpc__OofReply *)(void *)rep;
}

static Rpc__Status
oof_set(struct env *e, uint32_t state, int64_t start, int64_t end,
	const char *internal, const char *external, bool external_html)
{
	Rpc__OofSetRequest q;
	Rpc__OofSettings s;
	Rpc__OofMessage in, known, unknown;
	ProtobufCMessage *rep;
	Rpc__Status st;

	rpc__oof_set_request__init(&q);
	rpc__oof_settings__init(&s);
	rpc__oof_message__init(&in);
	rpc__oof_message__init(&known);
	rpc__oof_message__init(&unknown);
	s.state = state;
	s.start_time = start;
	s.end_time = end;
	in.enabled = internal != NULL;
	in.reply = (char *)(uintptr_t)(internal != NULL ? internal : "");
	unknown.enabled = external != NULL;
	unknown.reply = (char *)(uintptr_t)(external != NULL ? external : "");
	unknown.is_html = external_html;
	s.internal = &in;
	s.external_known = &known;
	s.external_unknown = &unknown;
	q.user = e->user;
	q.oof = &s;
	st = mbox_call(&e->cas, RPC__MSG_TYPE__MSG_OOF_SET, &q.base, &rep);
	mbox_free(rep);
	return st;
}

static void
test_oof_default_and_round_trip(void **state)
{
	struct env *e = *state;
	Rpc__OofReply *r;

	r = oof_get(e);
	assert_non_null(r->oof);
	assert_int_equal(r->oof->state, 0);
	assert_false(r->oof->internal->enabled);
	assert_string_equal(r->oof->internal->reply, "");
	mbox_free(&r->base);

	assert_int_equal(oof_set(e, 2, 1800000000, 1800086400, "In text",
				 "<b>Out</b>", true),
			 RPC__STATUS__STATUS_OK);
	r = oof_get(e);
	assert_int_equal(r->oof->state, 2);
	assert_int_equal(r->oof->start_time, 1800000000);
	assert_int_equal(r->oof->end_time, 1800086400);
	assert_true(r->oof->internal->enabled);
	assert_string_equal(r->oof->internal->reply, "In text");
	assert_false(r->oof->internal->is_html);
	assert_false(r->oof->external_known->enabled);
	assert_true(r->oof->external_unknown->enabled);
	assert_true(r->oof->external_unknown->is_html);
	assert_string_equal(r->oof->external_unknown->reply, "<b>Out</b>");
	mbox_free(&r->base);
}

static void
test_oof_refused(void **state)
{
	struct env *e = *state;
	Rpc__OofReply *r;
	char *big = malloc(AUTOREPLY_MAX_MESSAGE_BYTES + 2);

	assert_int_equal(oof_set(e, 1, 0, 0, "kept", NULL, false),
			 RPC__STATUS__STATUS_OK);
	/* a window ending before it starts; an unknown state */
	assert_int_equal(
	    oof_set(e, 2, 1800086400, 1800000000, "x", NULL, false),
	    RPC__STATUS__STATUS_INVALID);
	assert_int_equal(oof_set(e, 7, 0, 0, "x", NULL, false),
			 RPC__STATUS__STATUS_INVALID);
	/* a reply over AUTOREPLY_MAX_MESSAGE_BYTES */
	memset(big, 'x', AUTOREPLY_MAX_MESSAGE_BYTES + 1);
	big[AUTOREPLY_MAX_MESSAGE_BYTES + 1] = 0;
	assert_int_equal(oof_set(e, 1, 0, 0, big, NULL, false),
			 RPC__STATUS__STATUS_TOO_LARGE);
	free(big);
	r = oof_get(e);
	assert_int_equal(r->oof->state, 1);
	assert_string_equal(r->oof->internal->reply, "kept");
	mbox_free(&r->base);
}

/* Store level: a new setting forgets who was answered. */
static void
test_new_setting_forgets_replies(void **state)
{
	struct env *e = *state;
	struct store *st = NULL;
	struct store_error err;
	struct oof_settings o;
	struct autoreply_settings as;
	int64_t at = 0;

	(void)e;
	assert_int_equal(store_open(e->h.dir, 4242, &st, &err), 0);
	assert_int_equal(store_oof_last_replied(st, "x@example.net", &at), 1);
	assert_int_equal(store_oof_record_reply(st, "x@example.net", 100), 0);
	assert_int_equal(store_oof_last_replied(st, "x@example.net", &at), 0);
	assert_int_equal(at, 100);
	memset(&o, 0, sizeof(o));
	o.state = AUTOREPLY_ON;
	o.msg[OOF_EXTERNAL_KNOWN].enabled = true;
	o.msg[OOF_EXTERNAL_KNOWN].reply = "known only";
	assert_int_equal(store_oof_set(st, &o), 0);
	assert_int_equal(store_oof_last_replied(st, "x@example.net", &at), 1);
	/* The policy view: only contacts outside get the known text. */
	assert_int_equal(store_oof_get(st, &o), 0);
	oof_to_autoreply(&o, &as);
	assert_int_equal(as.external_audience, AUTOREPLY_EXTERNAL_KNOWN);
	assert_string_equal(as.external.body, "known only");
	assert_null(as.internal.body);
	oof_settings_clear(&o);
	store_close(&st);
}

static Rpc__DeviceListReply *
device_list(struct mbox_client *c, uint64_t user)
{
	Rpc__DeviceListRequest q;
	ProtobufCMessage *rep;

	rpc__device_list_request__init(&q);
	q.user = user;
	assert_int_equal(
	    mbox_call(c, RPC__MSG_TYPE__MSG_DEVICE_LIST, &q.base, &rep),
	    RPC__STATUS__STATUS_OK);
	return (Rpc__DeviceListReply *)(void *)rep;
}

static Rpc__Status
device_password(struct env *e, const char *device, const char *password)
{
	Rpc__DevicePasswordRequest q;
	ProtobufCMessage *rep;
	Rpc__Status st;

	rpc__device_password_request__init(&q);
	q.user = e->user;
	q.device_id = (char *)(uintptr_t)device;
	q.password = (char *)(uintptr_t)password;
	st = mbox_call(&e->cas, RPC__MSG_TYPE__MSG_DEVICE_PASSWORD, &q.base,
		       &rep);
	mbox_free(rep);
	return st;
}

static void
test_device_information_and_password(void **state)
{
	struct env *e = *state;
	Rpc__DeviceRegisterRequest q;
	Rpc__Device d;
	ProtobufCMessage *rep;
	Rpc__DeviceListReply *l;

	rpc__device_register_request__init(&q);
	rpc__device__init(&d);
	d.device_id = "PHONE1";
	d.device_type = "iPhone";
	d.model = "iPhone15,2";
	d.os_language = "de";
	d.mobile_operator = "Carrier";
	d.phone_number = "+49301234";
	d.enable_outbound_sms = true;
	q.user = e->user;
	q.device = &d;
	assert_int_equal(mbox_call(&e->cas, RPC__MSG_TYPE__MSG_DEVICE_REGISTER,
				   &q.base, &rep),
			 RPC__STATUS__STATUS_OK);
	mbox_free(rep);
	/* A plain request later (no DeviceInformation) keeps the fields. */
	rpc__device__init(&d);
	d.device_id = "PHONE1";
	d.device_type = "iPhone";
	assert_int_equal(mbox_call(&e->cas, RPC__MSG_TYPE__MSG_DEVICE_REGISTER,
				   &q.base, &rep),
			 RPC__STATUS__STATUS_OK);
	mbox_free(rep);

	assert_int_equal(device_password(e, "PHONE1", "pw-1234"),
			 RPC__STATUS__STATUS_OK);
	assert_int_equal(device_password(e, "NOSUCH", "pw"),
			 RPC__STATUS__STATUS_NOT_FOUND);

	l = device_list(&e->admin, e->user);
	assert_int_equal(l->n_devices, 1);
	assert_string_equal(l->devices[0]->device->os_language, "de");
	assert_string_equal(l->devices[0]->device->mobile_operator, "Carrier");
	assert_string_equal(l->devices[0]->device->phone_number, "+49301234");
	assert_true(l->devices[0]->device->enable_outbound_sms);
	/* A list says that there is one, even to an administrator; the
	 * value is opened only on request (test_devpw.c). */
	assert_true(l->devices[0]->device->has_recovery_password);
	assert_string_equal(l->devices[0]->device->recovery_password, "");
	mbox_free(&l->base);
	l = device_list(&e->cas, e->user);
	assert_true(l->devices[0]->device->has_recovery_password);
	assert_string_equal(l->devices[0]->device->recovery_password, "");
	mbox_free(&l->base);
	/* "" clears it. */
	assert_int_equal(device_password(e, "PHONE1", ""),
			 RPC__STATUS__STATUS_OK);
	l = device_list(&e->admin, e->user);
	assert_false(l->devices[0]->device->has_recovery_password);
	mbox_free(&l->base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_oof_default_and_round_trip),
	    cmocka_unit_test(test_oof_refused),
	    cmocka_unit_test(test_new_setting_forgets_replies),
	    cmocka_unit_test(test_device_information_and_password),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
