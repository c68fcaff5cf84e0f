/*
 * The EAS command table and protocol versions.  One row per command of
 * MS-ASCMD 2.2.1 (plus the legacy collection commands Exchange still
 * advertises): its name as it appears in the plain query's Cmd parameter,
 * its code in the base64 query form (MS-ASHTTP 2.2.1.1.1.1.2), the protocol
 * versions that carry it and whether it needs a current policy key.
 * proto/ashttp.c resolves Cmd through it; the CAS dispatch table keys its
 * handlers on it and answers OPTIONS with the two strings below.
 */
#ifndef EASD_PROTO_EAS_CMD_H
#define EASD_PROTO_EAS_CMD_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Protocol versions as integers: the version times ten for 12.0 and later
 * and 25 for 2.5.  This is exactly the "Protocol version" byte of the
 * base64 query form (MS-ASHTTP 2.2.1.1.1.1.1), and the natural integer
 * order is the version order, so comparisons are plain < and >=.
 */
enum eas_version {
	EAS_VERSION_NONE = 0,
	EAS_VERSION_2_5 = 25,
	EAS_VERSION_12_0 = 120,
	EAS_VERSION_12_1 = 121,
	EAS_VERSION_14_0 = 140,
	EAS_VERSION_14_1 = 141,
	EAS_VERSION_16_0 = 160,
	EAS_VERSION_16_1 = 161,
};

/* MS-ASHTTP 2.2.2.4: the OPTIONS response headers. */
#define EAS_PROTOCOL_VERSIONS "2.5,12.0,12.1,14.0,14.1,16.0,16.1"
#define EAS_PROTOCOL_COMMANDS                                               \
	"Sync,SendMail,SmartForward,SmartReply,GetAttachment,GetHierarchy," \
	"CreateCollection,DeleteCollection,MoveCollection,FolderSync,"      \
	"FolderCreate,FolderDelete,FolderUpdate,MoveItems,GetItemEstimate," \
	"MeetingResponse,Search,Settings,Ping,ItemOperations,Provision,"    \
	"ResolveRecipients,ValidateCert,Find"

enum eas_cmd_id {
	EAS_CMD_SYNC = 0,
	EAS_CMD_SENDMAIL,
	EAS_CMD_SMARTFORWARD,
	EAS_CMD_SMARTREPLY,
	EAS_CMD_GETATTACHMENT,
	EAS_CMD_GETHIERARCHY,
	EAS_CMD_CREATECOLLECTION,
	EAS_CMD_DELETECOLLECTION,
	EAS_CMD_MOVECOLLECTION,
	EAS_CMD_FOLDERSYNC,
	EAS_CMD_FOLDERCREATE,
	EAS_CMD_FOLDERDELETE,
	EAS_CMD_FOLDERUPDATE,
	EAS_CMD_MOVEITEMS,
	EAS_CMD_GETITEMESTIMATE,
	EAS_CMD_MEETINGRESPONSE,
	EAS_CMD_SEARCH,
	EAS_CMD_SETTINGS,
	EAS_CMD_PING,
	EAS_CMD_ITEMOPERATIONS,
	EAS_CMD_PROVISION,
	EAS_CMD_RESOLVERECIPIENTS,
	EAS_CMD_VALIDATECERT,
	EAS_CMD_FIND,
	EAS_CMD_COUNT
};

struct eas_cmd {
	enum eas_cmd_id id;
	const char *name;             /* spelling of MS-ASCMD and Cmd= */
	int code;                     /* base64 command code, -1 if none */
	enum eas_version min_version; /* first version carrying it */
	enum eas_version max_version; /* last version carrying it */
	bool needs_policy_key;        /* false only for Provision */
	bool body_is_mime;            /* SendMail & co. before 14.0 */
};

/* The whole table, EAS_CMD_COUNT rows indexed by enum eas_cmd_id. */
const struct eas_cmd *eas_cmd_table(void);
const struct eas_cmd *eas_cmd_by_id(enum eas_cmd_id id);
/* Exact, case-sensitive match of len bytes (clients send MS-ASCMD
 * spelling); NULL if unknown. */
const struct eas_cmd *eas_cmd_by_name(const char *name, size_t len);
/* By base64 command code; NULL if the code names no command. */
const struct eas_cmd *eas_cmd_by_code(int code);
/* Whether the command exists in protocol version v. */
bool eas_cmd_in_version(const struct eas_cmd *cmd, enum eas_version v);

/* "14.1" -> EAS_VERSION_14_1; -1 for anything but the seven versions. */
int eas_version_parse(const char *text, size_t len, enum eas_version *v_r);
/* From the base64 form's version byte; -1 if not one of the seven. */
int eas_version_from_byte(unsigned byte, enum eas_version *v_r);
/* "2.5" ... "16.1"; "?" for EAS_VERSION_NONE or an invalid value. */
const char *eas_version_str(enum eas_version v);
/* v >= min, with EAS_VERSION_NONE never satisfying anything. */
bool eas_version_at_least(enum eas_version v, enum eas_version min);

#endif
