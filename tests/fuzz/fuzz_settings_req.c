/*
 * libFuzzer target for cas/settings_req.c, the Settings request decoder,
 * and its response encoders.  The input is the WBXML body, copied to an
 * exact-size heap buffer so that ASan sees any read past its end.  A
 * decoded request must respect every bound it promises (operations,
 * message and field lengths, statuses from MS-ASCMD 2.2.3.177.15), and
 * every decoded Oof text must survive the Get encoder and both body
 * conversions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cas/settings_req.h"
#include "proto/buf.h"
#include "proto/wbxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_str(const char *s, size_t max)
{
	if (s != NULL && strlen(s) > max)
		abort();
}

static void
encode_oof(const struct settings_op *op)
{
	struct settings_oof_get get;
	struct buf b;
	struct wbxml_enc e;

	memset(&get, 0, sizeof(get));
	get.state = op->oof.state;
	get.start_time = op->oof.start_time;
	get.end_time = op->oof.end_time;
	for (size_t i = 0; i < SETTINGS_MAX_OOF_MESSAGES; i++) {
		get.msg[i].enabled = op->oof.msg[i].enabled;
		get.msg[i].reply = op->oof.msg[i].reply;
		get.msg[i].is_html = op->oof.msg[i].is_html;
	}
	for (int html = 0; html < 2; html++) {
		buf_init(&b, 8u * 1024u * 1024u);
		wbxml_enc_init_buf(&e, &b);
		if (settings_resp_oof_get(&e, SETTINGS_STATUS_SUCCESS, &get,
					  html != 0) != 0 ||
		    wbxml_enc_finish(&e) != 0)
			abort();
		buf_free(&b);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct settings_request r;
	uint8_t *body = malloc(size > 0 ? size : 1);

	if (body == NULL)
		return 0;
	if (size > 0)
		memcpy(body, data, size);
	if (settings_req_decode(body, size, &r) != 0) {
		if (r.tree != NULL || r.n_ops != 0)
			abort();
		free(body);
		return 0;
	}
	if (r.n_ops == 0 || r.n_ops > SETTINGS_MAX_OPERATIONS)
		abort();
	for (size_t i = 0; i < r.n_ops; i++) {
		const struct settings_op *op = &r.ops[i];

		if (op->status < SETTINGS_STATUS_SUCCESS ||
		    op->status > SETTINGS_STATUS_DENIED_BY_POLICY)
			abort();
		if (op->status != SETTINGS_STATUS_SUCCESS)
			continue;
		switch (op->kind) {
		case SETTINGS_OOF_SET:
			if (op->oof.has_state && op->oof.state > 2)
				abort();
			for (size_t j = 0; j < SETTINGS_MAX_OOF_MESSAGES; j++)
				check_str(op->oof.msg[j].reply,
					  AUTOREPLY_MAX_MESSAGE_BYTES);
			encode_oof(op);
			break;
		case SETTINGS_DEVICE_INFORMATION:
			check_str(op->info.model, CAS_DEVICE_INFO_MAX_BYTES);
			check_str(op->info.user_agent,
				  CAS_DEVICE_INFO_MAX_BYTES);
			check_str(op->info.mobile_operator,
				  CAS_DEVICE_INFO_MAX_BYTES);
			break;
		case SETTINGS_DEVICE_PASSWORD:
			if (op->password == NULL)
				abort();
			check_str(op->password, SETTINGS_MAX_PASSWORD_BYTES);
			break;
		case SETTINGS_OOF_GET:
		case SETTINGS_USER_INFORMATION:
		case SETTINGS_RIGHTS_MANAGEMENT:
			break;
		default:
			abort();
		}
	}
	settings_req_clear(&r);
	free(body);
	return 0;
}
