/*
 * The message catalogue of the internal RPC (after OpenSMTPD's one imsg
 * list): for each frame type, the request and the reply message of
 * proto/rpc.proto.  The server uses it to unpack requests, the client to
 * unpack replies, the fuzz target to try every message on every input.
 */
#include "proto/rpc_frame.h"

#include <string.h>

struct rpc_msg_entry {
	const char *name;
	const ProtobufCMessageDescriptor *request;
	const ProtobufCMessageDescriptor *reply;
};

#define MSG(type, name, req, rep)                                   \
	[RPC__MSG_TYPE__##type] = {name, &rpc__##req##__descriptor, \
				   &rpc__##rep##__descriptor}

static const struct rpc_msg_entry rpc_msgs[] = {
    MSG(MSG_HELLO, "Hello", hello, hello_reply),
    MSG(MSG_VERIFY_CREDENTIALS, "VerifyCredentials", verify_credentials_request,
	verify_credentials_reply),
    MSG(MSG_USER_ADD, "UserAdd", user_add_request, user_reply),
    MSG(MSG_USER_DELETE, "UserDelete", user_delete_request, status_reply),
    MSG(MSG_USER_SET_PASSWORD, "UserSetPassword", user_set_password_request,
	status_reply),
    MSG(MSG_USER_LIST, "UserList", user_list_request, user_list_reply),
    MSG(MSG_USER_GET, "UserGet", user_get_request, user_reply),
    MSG(MSG_FOLDER_SYNC, "FolderSync", folder_sync_request, folder_sync_reply),
    MSG(MSG_FOLDER_CREATE, "FolderCreate", folder_create_request,
	folder_change_reply),
    MSG(MSG_FOLDER_UPDATE, "FolderUpdate", folder_update_request,
	folder_change_reply),
    MSG(MSG_FOLDER_DELETE, "FolderDelete", folder_delete_request,
	folder_change_reply),
    MSG(MSG_GET_CHANGES, "GetChanges", get_changes_request, get_changes_reply),
    MSG(MSG_APPLY_CHANGES, "ApplyChanges", apply_changes_request,
	apply_changes_reply),
    MSG(MSG_ESTIMATE, "Estimate", estimate_request, estimate_reply),
    MSG(MSG_PING_CHECK, "PingCheck", ping_check_request, ping_check_reply),
    MSG(MSG_FETCH, "Fetch", fetch_request, fetch_reply),
    MSG(MSG_MOVE_ITEMS, "MoveItems", move_items_request, move_items_reply),
    MSG(MSG_EMPTY_FOLDER, "EmptyFolder", empty_folder_request, status_reply),
    MSG(MSG_SUBMIT, "Submit", submit_request, submit_reply),
    MSG(MSG_SEARCH, "Search", search_request, search_reply),
    MSG(MSG_DEVICE_REGISTER, "DeviceRegister", device_register_request,
	device_reply),
    MSG(MSG_DEVICE_LIST, "DeviceList", device_list_request, device_list_reply),
    MSG(MSG_DEVICE_SET_ACCESS, "DeviceSetAccess", device_set_access_request,
	device_reply),
    MSG(MSG_DEVICE_WIPE, "DeviceWipe", device_wipe_request, device_reply),
    MSG(MSG_DEVICE_WIPE_ACK, "DeviceWipeAck", device_wipe_ack_request,
	device_reply),
    MSG(MSG_POLICY_GET, "PolicyGet", policy_get_request, policy_reply),
    MSG(MSG_POLICY_SET, "PolicySet", policy_set_request, policy_reply),
    MSG(MSG_POLICY_ASSIGN, "PolicyAssign", policy_assign_request, status_reply),
    MSG(MSG_PROVISION_GET, "ProvisionGet", provision_get_request,
	provision_reply),
    MSG(MSG_PROVISION_SET, "ProvisionSet", provision_set_request,
	provision_reply),
    MSG(MSG_SUBSCRIBE, "Subscribe", subscribe_request, status_reply),
    /* Events are never replied to; the reply slot repeats the event so
     * the table has no holes. */
    MSG(MSG_EVENT, "Event", event, event),
    MSG(MSG_FOLDER_LIST, "FolderList", folder_list_request, folder_list_reply),
    MSG(MSG_IMPORT, "Import", import_request, import_reply),
    MSG(MSG_STATS, "Stats", stats_request, stats_reply),
    MSG(MSG_GAL_SEARCH, "GalSearch", gal_search_request, gal_search_reply),
    /* settings */
    MSG(MSG_OOF_GET, "OofGet", oof_get_request, oof_reply),
    MSG(MSG_OOF_SET, "OofSet", oof_set_request, status_reply),
    MSG(MSG_DEVICE_PASSWORD, "DevicePassword", device_password_request,
	status_reply),
    MSG(MSG_DEVICE_PASSWORD_GET, "DevicePasswordGet",
	device_password_get_request, device_password_get_reply),
    /* directory contact fields */
    MSG(MSG_USER_SET_CONTACT, "UserSetContact", user_set_contact_request,
	user_reply),
    MSG(MSG_USER_SET_PHOTO, "UserSetPhoto", user_set_photo_request, user_reply),
};

#define RPC_MSG_COUNT (sizeof(rpc_msgs) / sizeof(rpc_msgs[0]))

static const struct rpc_msg_entry *
msg_entry(uint16_t type)
{
	if (type >= RPC_MSG_COUNT || rpc_msgs[type].name == NULL)
		return NULL;
	return &rpc_msgs[type];
}

const ProtobufCMessageDescriptor *
rpc_msg_descriptor(uint16_t type, bool reply)
{
	const struct rpc_msg_entry *e = msg_entry(type);

	if (e == NULL)
		return NULL;
	return reply ? e->reply : e->request;
}

const char *
rpc_msg_name(uint16_t type)
{
	const struct rpc_msg_entry *e = msg_entry(type);

	return e != NULL ? e->name : "unknown";
}

ProtobufCMessage *
rpc_msg_unpack(const struct rpc_frame *frame)
{
	const ProtobufCMessageDescriptor *d;

	d = rpc_msg_descriptor(frame->type,
			       (frame->flags & RPC_FLAG_REPLY) != 0);
	if (d == NULL)
		return NULL;
	return protobuf_c_message_unpack(d, NULL, frame->payload_len,
					 frame->payload);
}

Rpc__Status
rpc_msg_status(const ProtobufCMessage *msg)
{
	const ProtobufCFieldDescriptor *f;
	int v;

	if (msg == NULL)
		return RPC__STATUS__STATUS_UNSPECIFIED;
	f = protobuf_c_message_descriptor_get_field(msg->descriptor, 1);
	if (f == NULL || f->type != PROTOBUF_C_TYPE_ENUM ||
	    f->descriptor != &rpc__status__descriptor ||
	    f->label == PROTOBUF_C_LABEL_REPEATED)
		return RPC__STATUS__STATUS_UNSPECIFIED;
	memcpy(&v, (const uint8_t *)msg + f->offset, sizeof(v));
	return (Rpc__Status)v;
}
