/*
 * The EAS command table (see eas_cmd.h) and protocol version helpers.  The
 * table is data only: names and base64 codes from MS-ASHTTP 2.2.1.1.1.1.2,
 * version ranges from each command's "Protocol Versions" table in MS-ASCMD
 * 2.2.1.  The CAS dispatch and the request parser both read it, so a
 * command is known, or not, in exactly one place.
 */
#include "proto/eas_cmd.h"

#include <string.h>

#define V25 EAS_VERSION_2_5
#define V120 EAS_VERSION_12_0
#define V121 EAS_VERSION_12_1
#define V161 EAS_VERSION_16_1

/*
 * Codes 5..8 (GetHierarchy and the collection commands) appear in earlier
 * revisions of MS-ASHTTP's command code table and are absent from the
 * current one; they still fall in the base64 form's range (12.1 uses both).
 * GetAttachment and GetHierarchy end at 12.1 (MS-ASCMD 2.2.1.7, 2.2.1.8).
 * Only Provision works without a policy key (MS-ASPROV 3.2.5.1): Exchange
 * also demands one for Ping, where Z-Push does not; we follow Exchange so a
 * device never holds a push channel without accepting the policy.
 * Before 14.0 SendMail, SmartForward and SmartReply carry raw MIME
 * (MS-ASCMD 2.2.1.17, 2.2.1.19, 2.2.1.20).
 */
static const struct eas_cmd eas_cmds[EAS_CMD_COUNT] = {
    {EAS_CMD_SYNC, "Sync", 0, V25, V161, true, false},
    {EAS_CMD_SENDMAIL, "SendMail", 1, V25, V161, true, true},
    {EAS_CMD_SMARTFORWARD, "SmartForward", 2, V25, V161, true, true},
    {EAS_CMD_SMARTREPLY, "SmartReply", 3, V25, V161, true, true},
    {EAS_CMD_GETATTACHMENT, "GetAttachment", 4, V25, V121, true, false},
    {EAS_CMD_GETHIERARCHY, "GetHierarchy", 5, V25, V121, true, false},
    {EAS_CMD_CREATECOLLECTION, "CreateCollection", 6, V25, V121, true, false},
    {EAS_CMD_DELETECOLLECTION, "DeleteCollection", 7, V25, V121, true, false},
    {EAS_CMD_MOVECOLLECTION, "MoveCollection", 8, V25, V121, true, false},
    {EAS_CMD_FOLDERSYNC, "FolderSync", 9, V25, V161, true, false},
    {EAS_CMD_FOLDERCREATE, "FolderCreate", 10, V25, V161, true, false},
    {EAS_CMD_FOLDERDELETE, "FolderDelete", 11, V25, V161, true, false},
    {EAS_CMD_FOLDERUPDATE, "FolderUpdate", 12, V25, V161, true, false},
    {EAS_CMD_MOVEITEMS, "MoveItems", 13, V25, V161, true, false},
    {EAS_CMD_GETITEMESTIMATE, "GetItemEstimate", 14, V25, V161, true, false},
    {EAS_CMD_MEETINGRESPONSE, "MeetingResponse", 15, V25, V161, true, false},
    {EAS_CMD_SEARCH, "Search", 16, V25, V161, true, false},
    {EAS_CMD_SETTINGS, "Settings", 17, V120, V161, true, false},
    {EAS_CMD_PING, "Ping", 18, V25, V161, true, false},
    {EAS_CMD_ITEMOPERATIONS, "ItemOperations", 19, V120, V161, true, false},
    {EAS_CMD_PROVISION, "Provision", 20, V25, V161, false, false},
    {EAS_CMD_RESOLVERECIPIENTS, "ResolveRecipients", 21, V25, V161, true,
     false},
    {EAS_CMD_VALIDATECERT, "ValidateCert", 22, V25, V161, true, false},
    {EAS_CMD_FIND, "Find", 23, V161, V161, true, false},
};

static const struct {
	enum eas_version v;
	const char *text;
} eas_versions[] = {
    {EAS_VERSION_2_5, "2.5"},   {EAS_VERSION_12_0, "12.0"},
    {EAS_VERSION_12_1, "12.1"}, {EAS_VERSION_14_0, "14.0"},
    {EAS_VERSION_14_1, "14.1"}, {EAS_VERSION_16_0, "16.0"},
    {EAS_VERSION_16_1, "16.1"},
};

#define EAS_VERSION_COUNT (sizeof(eas_versions) / sizeof(eas_versions[0]))

const struct eas_cmd *
eas_cmd_table(void)
{
	return eas_cmds;
}

const struct eas_cmd *
eas_cmd_by_id(enum eas_cmd_id id)
{
	if ((int)id < 0 || id >= EAS_CMD_COUNT)
		return NULL;
	return &eas_cmds[id];
}

const struct eas_cmd *
eas_cmd_by_name(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < EAS_CMD_COUNT; i++) {
		if (strlen(eas_cmds[i].name) == len &&
		    memcmp(eas_cmds[i].name, name, len) == 0)
			return &eas_cmds[i];
	}
	return NULL;
}

const struct eas_cmd *
eas_cmd_by_code(int code)
{
	size_t i;

	for (i = 0; i < EAS_CMD_COUNT; i++) {
		if (eas_cmds[i].code >= 0 && eas_cmds[i].code == code)
			return &eas_cmds[i];
	}
	return NULL;
}

bool
eas_cmd_in_version(const struct eas_cmd *cmd, enum eas_version v)
{
	return v != EAS_VERSION_NONE && v >= cmd->min_version &&
	       v <= cmd->max_version;
}

int
eas_version_parse(const char *text, size_t len, enum eas_version *v_r)
{
	size_t i;

	for (i = 0; i < EAS_VERSION_COUNT; i++) {
		if (strlen(eas_versions[i].text) == len &&
		    memcmp(eas_versions[i].text, text, len) == 0) {
			*v_r = eas_versions[i].v;
			return 0;
		}
	}
	return -1;
}

int
eas_version_from_byte(unsigned byte, enum eas_version *v_r)
{
	size_t i;

	for (i = 0; i < EAS_VERSION_COUNT; i++) {
		if ((unsigned)eas_versions[i].v == byte) {
			*v_r = eas_versions[i].v;
			return 0;
		}
	}
	return -1;
}

const char *
eas_version_str(enum eas_version v)
{
	size_t i;

	for (i = 0; i < EAS_VERSION_COUNT; i++) {
		if (eas_versions[i].v == v)
			return eas_versions[i].text;
	}
	return "?";
}

bool
eas_version_at_least(enum eas_version v, enum eas_version min)
{
	return v != EAS_VERSION_NONE && v >= min;
}
