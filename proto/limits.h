/*
 * Every limit on input that comes from the network, named once.  Parsers
 * and handlers check lengths, counts and depths against these before they
 * allocate; a violation becomes the protocol's error status or an HTTP 4xx
 * (architecture invariant 5).  Each value states where it comes from or
 * what it trades off.  Keep each area in its own section so that parallel
 * work on different areas never touches the same lines.
 */
#ifndef EASD_PROTO_LIMITS_H
#define EASD_PROTO_LIMITS_H

/* ---- WBXML (proto/wbxml_*.c) ---------------------------------------- */
/*
 * Element nesting.  The deepest EAS documents (Sync > Collections >
 * Collection > Commands > Add > ApplicationData > Attendees > Attendee ...,
 * calendar exceptions, Find/Search results) stay under 12 levels; 32 leaves
 * room and bounds the decoder's and encoder's fixed stacks.
 */
#define WBXML_MAX_DEPTH 32
/*
 * A whole WBXML document.  Requests carry at most a SendMail MIME message or
 * a Sync with client Adds; the HTTP layer bounds bodies too, this is the
 * codec's own bound.  Trade-off: large attachments inline in SendMail.
 */
#define WBXML_MAX_DOC_BYTES (48u * 1024 * 1024)
/* One inline string (STR_I), e.g. an AirSyncBase:Data body. */
#define WBXML_MAX_STRING_BYTES (32u * 1024 * 1024)
/* One OPAQUE blob, e.g. ComposeMail:Mime or ItemOperations:Data. */
#define WBXML_MAX_OPAQUE_BYTES (32u * 1024 * 1024)
/*
 * Elements plus content pieces in one parsed tree.  A Sync request with a
 * WindowSize of 512 client Adds of ~100 elements is ~51 000; four times that
 * bounds the tree's memory (about 48 bytes a node) at ~10 MB.
 */
#define WBXML_MAX_NODES 262144

/* ---- MS-ASHTTP request line and headers (proto/ashttp.c) ------------ */
/* The whole query string after '?'.  The longest legitimate plain query
 * carries a 256-byte LongId plus the fixed parameters; 2 KB leaves room for
 * percent-encoding while refusing megabyte URLs before any decoding. */
#define ASHTTP_MAX_QUERY_BYTES 2048
/* Parameters in a plain query (known and unknown): bounds the parse loop. */
#define ASHTTP_MAX_PARAMS 32
/* DeviceId: reliability.md edge filtering, [A-Za-z0-9]{1,64}.  In the base64
 * form the id is raw bytes shown as hex, so at most 32 bytes there. */
#define ASHTTP_MAX_DEVICE_ID_BYTES 64
/* DeviceType: real values are short ("iPhone", "Android", "SAMSUNGSMG991B",
 * "WindowsMail", "Outlook", "TbSync"); 64 matches the DeviceId bound. */
#define ASHTTP_MAX_DEVICE_TYPE_BYTES 64
/* User: an e-mail address or DOMAIN\user; RFC 5321 caps a path at 256. */
#define ASHTTP_MAX_USER_BYTES 256
/* CollectionId, ItemId, ParentId: server ids are at most 64 characters
 * (MS-ASDTYPE string limits on ServerId); 128 tolerates encoded forms. */
#define ASHTTP_MAX_ID_BYTES 128
/* LongId: at most 256 characters (MS-ASCMD 2.2.3.97). AttachmentName,
 * CollectionName and Occurrence share this bound. */
#define ASHTTP_MAX_LONG_PARAM_BYTES 256
/* User-Agent is only logged and matched by device access rules. */
#define ASHTTP_MAX_USER_AGENT_BYTES 256

/* ---- MS-ASCMD 3.1.5.10 per-command element limits ------------------- */
/* Sync, GetItemEstimate and Ping (cas/sync_req.c, cas/cmd_ping.c, ...). */
/* Client Add + Change + Delete + Fetch in one Sync: MS-ASCMD 3.1.5.10
 * (200, Exchange's value); more is answered with Sync Status 4. */
#define SYNC_MAX_COMMANDS 200
/* Collections in one Sync.  Exchange answers Status 15 with Limit above
 * its MaxSyncCollections; phones sync a few dozen folders at most.  The
 * partial-Sync cache keeps up to this many per device. */
#define SYNC_MAX_COLLECTIONS 128
/* WindowSize: MS-ASCMD 2.2.3.199 allows 1..512 (0 and larger values are
 * served as 512); the default when absent is 100. */
#define SYNC_MAX_WINDOW_SIZE 512
#define SYNC_DEFAULT_WINDOW_SIZE 100
/* BodyPreference / BodyPartPreference elements per Options: one per body
 * type (1 plain, 2 HTML, 3 RTF, 4 MIME) is all a client needs. */
#define SYNC_MAX_BODY_PREFS 4
/* SyncKey text (ours are short; clients echo them). */
#define SYNC_MAX_KEY_BYTES 64
/* CollectionId, ServerId, ClientId (MS-ASDTYPE: ServerId <= 64 chars). */
#define SYNC_MAX_ID_BYTES 64
/* Class names ("Email", "Calendar", "Contacts", "Tasks", "Notes", "SMS"). */
#define SYNC_MAX_CLASS_BYTES 16
/* Categories of one email change: MS-ASEMAIL 2.2.2.13 allows 300, each a
 * string; 255 bytes per category (Outlook's limit). */
#define SYNC_MAX_CATEGORIES 300
#define SYNC_MAX_CATEGORY_BYTES 255
/* FlagType and other short strings of an email change. */
#define SYNC_MAX_SHORT_TEXT_BYTES 1024
/* Wait (minutes): MS-ASCMD 2.2.3.198, 1..59; Status 14 with Limit. */
#define SYNC_MIN_WAIT_MIN 1
#define SYNC_MAX_WAIT_MIN 59
/* Devices whose last full Sync request is cached for empty and partial
 * Syncs (12.1+).  Least recently used entries are evicted; an evicted
 * device gets Status 13 and sends a full request.  Each entry costs about
 * 600 bytes per cached collection. */
#define SYNC_CACHE_MAX_DEVICES 8192
/* GetItemEstimate collections: MS-ASCMD 3.1.5.10, 1000 (Status 103). */
#define GIE_MAX_COLLECTIONS 1000
/* Ping folders: Status 6 with MaxFolders above it.  Exchange's default
 * (300) covers a phone that pushes every folder it has. */
#define PING_MAX_FOLDERS 300
/* Devices whose last Ping parameters are cached for empty Pings. */
#define PING_CACHE_MAX_DEVICES 16384
/* Provision (cas/cmd_provision.c).  PolicyType values are 23-25 bytes
 * ("MS-EAS-Provisioning-WBXML"); 64 refuses junk early. */
#define CAS_PROVISION_MAX_POLICY_TYPE_BYTES 64
/* Settings:DeviceInformation strings (Model, IMEI, FriendlyName, OS,
 * OSLanguage, PhoneNumber, UserAgent, MobileOperator): MS-ASCMD 2.2.3
 * caps them at 1024 characters; they are only stored and listed. */
#define CAS_DEVICE_INFO_MAX_BYTES 1024
/* Folder commands (cas/cmd_folder*.c).  SyncKey, ServerId and ParentId:
 * at most 64 characters (MS-ASCMD 6.13, the FolderHierarchy schema).
 * DisplayName has no schema bound; 1024 bytes holds 256 characters of any
 * script and refuses megabyte names before the mailbox sees them. */
#define CAS_FOLDER_MAX_SYNC_KEY_BYTES 64
#define CAS_FOLDER_MAX_ID_BYTES 64
#define CAS_FOLDER_MAX_NAME_BYTES 1024

/* ---- ItemOperations and GetAttachment (cas/itemops_req.c) ----------- */
/* Fetch, EmptyFolderContents and Move operations in one request: the
 * checklist's MS-ASCMD 3.1.5.10 value (100); more is refused whole
 * with ItemOperations Status 11, as 3.1.5.10 specifies. */
#define ITEMOPS_MAX_OPERATIONS 100
/* Store name ("Mailbox", "Document Library"): MS-ASCMD 2.2.3.178.2 allows
 * up to 256 characters. */
#define ITEMOPS_MAX_STORE_BYTES 256
/* AirSyncBase FileReference and Search LongId: MS-ASCMD says up to 256
 * characters (ours are short "<item>:<index>" / decimal ids). */
#define ITEMOPS_MAX_REFERENCE_BYTES 256
/* Range "m-n" text: two 64-bit decimals and a dash. */
#define ITEMOPS_MAX_RANGE_BYTES 41
/* ConversationId of a Move: 16 bytes on the wire (MS-ASCMD 2.2.3.35.1);
 * 64 tolerates encoded forms and refuses junk. */
#define ITEMOPS_MAX_CONVERSATION_ID_BYTES 64
/* UserName / Password of a Document Library fetch (only checked, the
 * store is not supported): MS-ASCMD caps both at 256. */
#define ITEMOPS_MAX_CREDENTIAL_BYTES 256

/* ---- HTTP front-end (cas/http.c) ------------------------------------ */
/* Default bound on a request body (config max_body_bytes).  Large enough
 * for a SendMail with attachments of a typical phone (Exchange's default
 * maxRequestLength is 10 MB); ItemOperations uploads stay far below. */
#define CAS_DEFAULT_MAX_BODY_BYTES (16u * 1024u * 1024u)
/* Hard ceiling for max_body_bytes: bodies are held in memory. */
#define CAS_MAX_BODY_BYTES_CEILING (64u * 1024u * 1024u)
/* The raw query string of one request (plain form with AttachmentName or a
 * LongId stays well under this; the base64 form is shorter still). */
#define CAS_MAX_QUERY_BYTES 4096
/* Any one request header value we copy into the request object. */
#define CAS_MAX_HEADER_VALUE_BYTES 4096
/* MHD's per-connection memory pool: request line plus all headers must
 * fit; a larger header block is answered 431 by the library. */
#define CAS_CONNECTION_MEMORY_BYTES (32u * 1024u)
/* Idle seconds before MHD drops a connection that is not suspended
 * (slowloris bound); held requests are suspended and use their own timer. */
#define CAS_CONNECTION_TIMEOUT_S 120
/* Bytes a streaming response may buffer ahead of the client; a producer
 * that outruns a slow client gets -1 and must wait or give up. */
#define CAS_STREAM_MAX_BUFFERED_BYTES (4u * 1024u * 1024u)
/* Upper bound on simultaneous connections per listener (fd budget). */
#define CAS_MAX_CONNECTIONS 60000
/* Authorization header: "Basic " + base64 of login:password. */
#define CAS_AUTH_MAX_HEADER_BYTES 1024
/* Login as typed (user, user@domain, DOMAIN\user) after conversion to
 * UTF-8; ISO-8859-1 input at most doubles in size. */
#define CAS_AUTH_MAX_LOGIN_BYTES 256
#define CAS_AUTH_MAX_PASSWORD_BYTES 256
/* Entries in the credential cache and in the throttling table; beyond
 * this the least recently used entry is evicted (memory stays bounded
 * under a password-spraying attack at the cost of forgetting the oldest
 * offenders). */
#define CAS_AUTH_CACHE_MAX_ENTRIES 65536
#define CAS_AUTH_THROTTLE_MAX_ENTRIES 65536
/* X-Forwarded-For: header bytes and hops examined. */
#define CAS_PROXY_MAX_XFF_BYTES 2048
#define CAS_PROXY_MAX_XFF_HOPS 32
/* Entries in trusted_proxies. */
#define CAS_PROXY_MAX_ENTRIES 256
/* Registered EAS commands (MS-ASCMD defines 24). */
#define CAS_DISPATCH_MAX_COMMANDS 64

/* ---- internal RPC (proto/rpc_frame.c, net/) -------------------------- */
/* Largest frame (header + protobuf payload).  A peer announcing more is
 * refused before anything is allocated.  Larger content (attachments, MIME)
 * travels as a sequence of chunks of RPC_CHUNK_BYTES. */
#define RPC_MAX_FRAME_BYTES (16u * 1024u * 1024u)
/* Chunk size for streamed replies: small enough that a CAS streams an
 * attachment with bounded memory, large enough that the frame overhead is
 * negligible. */
#define RPC_CHUNK_BYTES (256u * 1024u)
/* Bytes queued for output on one connection before it is dropped as too
 * slow: a peer that does not read cannot make the other side buffer
 * without bound.  Four full frames. */
#define RPC_MAX_OUTPUT_BYTES (4u * RPC_MAX_FRAME_BYTES)
/* Requests in flight on one client connection; calls beyond it fail at
 * once with STATUS_BUSY instead of queueing without bound. */
#define RPC_MAX_PENDING 4096u
/* Connections one RPC server accepts; more are closed at accept. */
#define RPC_MAX_CONNECTIONS 1024u
/* A connection must finish TLS and the Hello exchange within this. */
#define RPC_HANDSHAKE_TIMEOUT_MS 10000u
/* Users one subscription may name individually (a CAS subscribes "all"). */
#define RPC_MAX_SUBSCRIBED_USERS 65536u
/* Client reconnect backoff: first delay, doubled per failure up to max. */
#define RPC_RECONNECT_MIN_MS 100u
#define RPC_RECONNECT_MAX_MS 30000u
/* Default deadline of a call when the caller passes 0. */
#define RPC_DEFAULT_TIMEOUT_MS 30000u

/* ---- LMTP (mailbox/lmtp.c) ------------------------------------------ */
/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets with CRLF.
 * Longer lines get 500 5.5.2 and are discarded up to the next LF. */
#define LMTP_MAX_COMMAND_LINE_BYTES 512
/* RFC 5321 4.5.3.1.6 allows 1000 octets per text line; DATA is parsed as a
 * stream (no line is ever buffered whole), so longer lines are tolerated
 * and only the message size below bounds them. */
#define LMTP_MAX_TEXT_LINE_BYTES 1000
/* Default message size limit (advertised with SIZE, RFC 1870); the daemon
 * may configure a smaller one.  A bigger message is read to its final dot
 * and dropped with 552 so the session stays in sync. */
#define LMTP_MAX_MESSAGE_BYTES (64u * 1024u * 1024u)
/* Recipients per transaction (RFC 5321 4.5.3.1.8 requires at least 100);
 * the next RCPT gets 452 4.5.3. */
#define LMTP_MAX_RECIPIENTS 100
/* Recipient address length (RFC 5321 4.5.3.1.3: path of 256 octets). */
#define LMTP_MAX_ADDRESS_BYTES 256
/* Pipelined input held while a delivery is in flight.  Postfix waits for
 * the DATA replies before sending more, so this only bounds misbehaving
 * clients; the daemon stops reading while lmtp_session_waiting() is true. */
#define LMTP_MAX_PENDING_INPUT_BYTES (64u * 1024u)
/* Replies queued and not yet written (flow control towards the daemon). */
#define LMTP_MAX_OUTPUT_BYTES (256u * 1024u)

/* ---- MIME and stored items (mailbox/) ------------------------------- */
/* Largest raw message mime_parse accepts (matches the LMTP size limit). */
#define MIME_MAX_MESSAGE_BYTES (64u * 1024u * 1024u)
/* MIME nesting depth walked (multiparts and message/rfc822 parts); parts
 * below it are neither bodies nor attachments.  Real mail rarely nests
 * beyond 6; 32 bounds recursion and stack use. */
#define MIME_MAX_DEPTH 32
/* Attachments listed per message; more are ignored (and counted). */
#define MIME_MAX_ATTACHMENTS 512
/* Text and HTML bodies kept in the summary (UTF-8 bytes each); longer
 * bodies are cut on a character boundary and flagged truncated.  The raw
 * MIME stays complete in the store. */
#define MIME_MAX_BODY_BYTES (4u * 1024u * 1024u)
/* Preview length in characters (MS-ASAIRS 2.2.2.18 Preview: up to 255). */
#define MIME_PREVIEW_CHARS 255
/* One header field or address list kept in the summary (a 100 KB header
 * is cut here, on a character boundary). */
#define MIME_MAX_HEADER_BYTES (16u * 1024u)
/* Calendar parts handed to libical; bigger ones are ignored. */
#define MIME_MAX_CALENDAR_BYTES (1024u * 1024u)
/* Attendees kept per meeting. */
#define MIME_MAX_ATTENDEES 256
/* A serialized summary: fields are length-prefixed; a field or count
 * above these bounds makes message_summary_decode fail. */
#define MESSAGE_MAX_BLOB_BYTES (16u * 1024u * 1024u)
/* Largest raw message the store keeps (LMTP, SendMail, client Adds); larger
 * messages are refused before any allocation.  Exchange's default limits
 * are 25-35 MB; base64 inflates attachments by a third. */
#define STORE_MAX_MIME_BYTES (50u * 1024 * 1024)
/* Serialized item properties (bodies, recipients, attachment list). */
#define STORE_MAX_PROPS_BYTES (64u * 1024 * 1024)
/* Attachments listed per item; more are an abuse, not a message. */
#define STORE_MAX_ATTACHMENTS 1024
/* Application properties per non-email item (contacts have ~80 fields). */
#define STORE_MAX_APP_PROPS 4096
/* An item's categories, newline-separated (MS-ASEMAIL Categories allows
 * up to 300 of up to 255 characters; real clients send a handful). */
#define STORE_MAX_CATEGORIES_BYTES 8192
/* Folder display name in bytes (MS-ASCMD DisplayName, UTF-8). */
#define STORE_MAX_FOLDER_NAME_BYTES 256
/* Folder nesting depth, bounding the cycle check of a folder move. */
#define STORE_MAX_FOLDER_DEPTH 64
/* MS-ASCMD Sync WindowSize: at most 512 changes per Sync response. */
#define STORE_MAX_WINDOW_SIZE 512
/* MS-ASCMD Sync ClientId: up to 64 characters. */
#define STORE_MAX_CLIENT_ID_BYTES 64
/* MS-ASHTTP DeviceId: up to 64 characters (the CAS admits [A-Za-z0-9]). */
#define STORE_MAX_DEVICE_ID_BYTES 64
/* A device's self-description (MS-ASCMD Settings DeviceInformation
 * Model, IMEI, OS, FriendlyName, UserAgent...; MS-ASHTTP DeviceType). */
#define STORE_MAX_DEVICE_TEXT_BYTES 1024
/* Messages committed together by one group-commit delivery. */
#define STORE_MAX_DELIVERY_BATCH 256
/* Login names and addresses in the directory. */
#define STORE_MAX_LOGIN_BYTES 256
/* Passwords accepted for hashing: libxcrypt refuses phrases of
 * CRYPT_MAX_PASSPHRASE_SIZE (512) bytes or more. */
#define STORE_MAX_PASSWORD_BYTES 511

/* ---- Mailbox search (mailbox/store_search.c) ------------------------ */
/* The user's words of one Search or Find query (FreeText).  Phones send
 * what was typed in a search box; 1 KB is far beyond that and bounds the
 * compiled MATCH expression (each byte at most doubles when quoted). */
#define SEARCH_MAX_QUERY_BYTES 1024
/* Words in one query, phrases counted word by word.  Each word is an FTS5
 * prefix lookup whose doclist is intersected with the others, so the cost
 * grows with the count; beyond this the query is "too complex"
 * (MS-ASCMD 2.2.3.177.13 Store Status 8). */
#define SEARCH_MAX_TERMS 16
/* Highest Range index: MS-ASCMD 2.2.3.143.1 (Find) allows
 * 0 <= m <= n <= 999; Search uses the same bound for paging. */
#define SEARCH_MAX_RANGE_INDEX 999
/* Results in one Search Mailbox response (MS-ASCMD 2.2.3.143.3: default
 * Range 0-99, at most 100 results); the CAS enforces it per command. */
#define SEARCH_MAILBOX_MAX_RESULTS 100
/* Folders one search may cover (a DeepTraversal subtree).  The scope is an
 * OR of one index token per folder; past this the search is "too
 * complex" rather than an unbounded expression. */
#define SEARCH_MAX_SCOPE_FOLDERS 256

/* ---- MoveItems, Search, Find (cas/moveitems_req.c, search_req.c) ---- */
/* Move elements in one MoveItems: MS-ASCMD 3.1.5.10 (1000, Exchange's
 * value); more is answered with MoveItems Status 103. */
#define MOVEITEMS_MAX_MOVES 1000
/* SrcMsgId, SrcFldId, DstFldId: MS-ASCMD 2.2.3.175 / .174 / .52 allow 64
 * characters. */
#define MOVEITEMS_MAX_ID_BYTES 64

/* ---- ValidateCert (cas/validatecert_req.c) -------------------------- */
/* Certificates to validate in one request: MS-ASCMD 3.1.5.10 (100). */
#define VALIDATECERT_MAX_CERTS 100
/* Intermediates in CertificateChain: real S/MIME chains have 1-3; ten
 * covers any sane hierarchy and bounds the verifier's work. */
#define VALIDATECERT_MAX_CHAIN 10
/* One DER certificate: RSA-4096 certificates with long extension lists
 * are about 2 KB; 16 KB leaves room for anything a CA issues. */
#define VALIDATECERT_MAX_CERT_BYTES (16u * 1024u)
/* airsync:CollectionId elements in one Search or Find query.  A phone
 * names one folder (or none); a desktop client a handful.  Each becomes a
 * folder scope of the index query, so this bounds that expression. */
#define SEARCH_MAX_COLLECTIONS 32
/* And/Or nesting in a Search Query (MS-ASCMD 2.2.3.8 / 2.2.3.128): real
 * clients send one And; deeper trees are "too complex" (Store Status 8). */
#define SEARCH_MAX_QUERY_DEPTH 4
/* Leaf conditions (FreeText, Class, CollectionId, ConversationId,
 * GreaterThan, LessThan) in one Query; beyond it Store Status 8. */
#define SEARCH_MAX_CONDITIONS 48
/* ConversationId: 16 bytes on the wire (MS-ASEMAIL 2.2.2.14); 64 leaves
 * room for clients that send other forms. */
#define SEARCH_MAX_CONVERSATION_ID_BYTES 64
/* Store Name ("Mailbox", "GAL", "DocumentLibrary"). */
#define SEARCH_MAX_STORE_NAME_BYTES 32
/* Find SearchId: a GUID string (MS-ASCMD 2.2.3.159), 36 characters. */
#define FIND_MAX_SEARCH_ID_BYTES 64
/* GAL results per Search or Find response (MS-ASCMD 2.2.3.143.3: default
 * Range 0-99, at most 100). */
#define GAL_MAX_RESULTS 100
/* A GAL query: names and addresses are short; the directory matches it
 * as a prefix of login and addresses. */
#define GAL_MAX_QUERY_BYTES 256

/* ---- Autodiscover (proto/autodiscover.c) ---------------------------- */
/* POX request body (reliability.md: Autodiscover bodies <= 8 KB).  A real
 * request is under 500 bytes; the margin covers pretty-printing. */
#define AUTODISCOVER_MAX_BODY_BYTES 8192
/* Element nesting in a request; a valid one is 3 deep (Autodiscover,
 * Request, EMailAddress).  Stops deep-nesting attacks long before libxml2's
 * own limit of 256. */
#define AUTODISCOVER_MAX_DEPTH 8
/* An e-mail address: RFC 5321 4.5.3.1.3 limits a path to 256 octets
 * including the angle brackets, and the local part to 64 (4.5.3.1.1). */
#define AUTODISCOVER_MAX_ADDRESS_BYTES 254
#define AUTODISCOVER_MAX_LOCAL_PART_BYTES 64
/* AcceptableResponseSchema: known schema URIs are under 100 bytes. */
#define AUTODISCOVER_MAX_SCHEMA_BYTES 256
/* v2 JSON request target (path and query); browsers' practical URL bound. */
#define AUTODISCOVER_MAX_TARGET_BYTES 2048
/* Query parameters looked at in a v2 request (Email, Protocol,
 * RedirectCount and a few more in practice). */
#define AUTODISCOVER_MAX_QUERY_PARAMS 16
/* The Protocol value of a v2 request (longest known name is
 * "SubstrateNotificationService", 28 bytes). */
#define AUTODISCOVER_MAX_PROTOCOL_BYTES 64
/* A built response (XML or JSON); a settings document is about 700 bytes
 * plus the display name and URL. */
#define AUTODISCOVER_MAX_RESPONSE_BYTES 16384

/* ---- message composition and Out-of-Office (mailbox/mime_compose.c,
 *      mailbox/autoreply.c) ------------------------------------------- */
/* The client's MIME in SendMail/SmartReply/SmartForward: it arrives as one
 * ComposeMail:Mime OPAQUE (or a raw pre-14 body), so the WBXML bound is
 * also ours. */
#define COMPOSE_MAX_CLIENT_MIME_BYTES WBXML_MAX_OPAQUE_BYTES
/* The client's header block; real ones are a few KB.  Checked before GMime
 * sees the message. */
#define COMPOSE_MAX_HEADER_BLOCK_BYTES (256u * 1024u)
/* Envelope recipients after deduplication (Exchange Online's default
 * recipient limit is 500); more fail the whole message. */
#define COMPOSE_MAX_RECIPIENTS 500
/* Address entries read from To, Cc, Bcc and Forwardees before
 * deduplication: bounds the quadratic dedup at 2000 x 500 compares. */
#define COMPOSE_MAX_ADDRESS_ENTRIES 2000
/* Bytes of one envelope address (RFC 5321 4.5.3.1.3: path of 256 with
 * the angle brackets). */
#define COMPOSE_MAX_ADDRESS_BYTES 254
/* The composed message: the client's part plus a stored original
 * (MIME_MAX_MESSAGE_BYTES) and quoting overhead. */
#define COMPOSE_MAX_OUTPUT_BYTES (112u * 1024u * 1024u)

/* ---- SendMail, SmartReply, SmartForward requests (cas/compose_req.c) -- */
/* ClientId: "up to 40 characters" (MS-ASCMD 2.2.3.28.1); 64 tolerates
 * clients that send a braced GUID plus a prefix, and is the store's bound
 * (STORE_MAX_CLIENT_ID_BYTES). */
#define COMPOSE_MAX_CLIENT_ID_BYTES 64
/* Source FolderId, ItemId: server ids (MS-ASHTTP's bound on the same
 * ids); InstanceId: a date-time string (MS-ASDTYPE 2.3, 24 characters). */
#define COMPOSE_MAX_SOURCE_ID_BYTES ASHTTP_MAX_ID_BYTES
#define COMPOSE_MAX_LONG_ID_BYTES ASHTTP_MAX_LONG_PARAM_BYTES
/* AccountId: an opaque account identifier of the Settings response. */
#define COMPOSE_MAX_ACCOUNT_ID_BYTES 256
/* Forwardees (16.0+): each becomes an envelope recipient, so the
 * recipient bound applies; a Name of 1 KB holds 256 characters of any
 * script. */
#define COMPOSE_MAX_FORWARDEES COMPOSE_MAX_RECIPIENTS
#define COMPOSE_MAX_FORWARDEE_NAME_BYTES 1024
/* Bytes of an original body that are quoted, and of a body converted
 * between text and HTML; longer ones are cut on a character boundary
 * (escaping can grow text six times; this bounds the copy). */
#define COMPOSE_MAX_QUOTE_BYTES (4u * 1024u * 1024u)
/* Message ids kept in a reply's References (RFC 5322 3.6.4); the oldest
 * after the first are dropped beyond it, as many clients do. */
#define COMPOSE_MAX_REFERENCES 64
/* One Out-of-Office reply message as the user set it (Settings Oof
 * ReplyMessage); Exchange's editor caps it far below this. */
#define AUTOREPLY_MAX_MESSAGE_BYTES (128u * 1024u)

/* ---- Settings command (cas/settings_req.c) --------------------------- */
/* Operations in one Settings request: each of the five (Oof,
 * DevicePassword, DeviceInformation, UserInformation,
 * RightsManagementInformation) at most once (MS-ASCMD 2.2.3.168.2). */
#define SETTINGS_MAX_OPERATIONS 5
/* OofMessage elements in one Oof Set: one per audience. */
#define SETTINGS_MAX_OOF_MESSAGES 3
/* DevicePassword Password (MS-ASCMD 2.2.3.130.1): a device PIN or
 * passphrase; the store's device text bound is far above it. */
#define SETTINGS_MAX_PASSWORD_BYTES 256
/* BodyType text ("Text", "HTML"). */
#define SETTINGS_MAX_BODY_TYPE_BYTES 16
/* StartTime / EndTime text ("2026-11-27T10:00:00.000Z"). */
#define SETTINGS_MAX_DATE_BYTES 32

/* ---- configuration files (proto/conf.c) ----------------------------- */
/* A configuration line longer than this is rejected with its line number. */
#define CONF_MAX_LINE_BYTES 4096
/* Bound on the number of key = value entries in one configuration file. */
#define CONF_MAX_ENTRIES 1024

/* ---- 16.0 drafts in Sync (cas/sync_req.c, emailprops) ---------------- */
/* Attachments added or deleted by one draft Add or Change (MS-ASAIRS
 * 2.2.2.2 Add, 2.2.2.21 Delete); a phone attaches a handful. */
#define SYNC_MAX_DRAFT_ATTACHMENTS 64
/* A draft's To, Cc or Bcc as the device typed it (about 200 addresses). */
#define SYNC_MAX_DRAFT_ADDRESS_BYTES (32u * 1024u)
/* Body Data or one attachment's Content of a draft; the whole request is
 * bounded by the CAS body limit anyway. */
#define SYNC_MAX_DRAFT_DATA_BYTES (32u * 1024u * 1024u)

/* ---- stable draft attachment references (mailbox/rpc_drafts.c) ------- */
/* The ref part of a FileReference "<item>:<ref>" (items.h): a draft's
 * attachments are numbered by a counter that never goes back, so a draft
 * edited forever would exhaust any bound; 16 million attachment Adds on
 * one draft are refused rather than wrapped, and a
 * FileReference naming a larger ref is not found. */
#define STORE_MAX_ATTACHMENT_REF (1u << 24)

/* ---- Conversations (mailbox/store_conv.c) --------------------------- */
/* A ConversationId the store looks up (MS-ASEMAIL 2.2.2.14: ours are 16
 * bytes); the same bound as the wire's ITEMOPS_/SEARCH_MAX_CONVERSATION_ID_
 * BYTES, so any id a request can carry is accepted and compared. */
#define CONV_MAX_ID_BYTES 64
/* MoveAlways rules (MS-ASCMD 2.2.3.118) kept per user.  A user sets a few
 * by hand; a client looping on MoveAlways must not grow the table without
 * end, so past the bound the least recently applied rule is dropped. */
#define CONV_MAX_RULES 1000
/* A MoveAlways rule ends this long after it was last applied (set, or used
 * to file a delivered message): Exchange expires conversation actions
 * after a period of disuse (MS-OXOCFG 2.2.8, 3.1.6.1
 * PidLidConversationActionLastAppliedTime), 30 days in Outlook and
 * Exchange.  A conversation quiet for a month starts afresh in the Inbox. */
#define CONV_RULE_KEEP_S (30 * 24 * 3600)
/* Message-IDs of a delivered message's In-Reply-To and References looked
 * up in the mailbox to find its conversation (store_conv_resolve): one
 * index probe each.  References lists are trimmed by clients to about 20
 * (RFC 5322 3.6.4 lets them); the parent and the newest ids come first. */
#define CONV_MAX_REFERENCE_LOOKUPS 32

/* ---- Calendar items (MS-ASCAL; cas/calendar_wbxml.c, mailbox/calendar.c) */
/* Attendees of one event or exception.  Exchange caps a meeting at 500
 * recipients by default; a phone sends what the organizer typed. */
#define CAL_MAX_ATTENDEES 500
/* Exceptions of one recurring series: a daily series for two years with
 * every occurrence moved is ~730; beyond this it is abuse. */
#define CAL_MAX_EXCEPTIONS 1024
/* Categories per event (MS-ASCAL 2.2.2.8 allows up to 300). */
#define CAL_MAX_CATEGORIES 300
/* UID and ClientUid: 300 characters (MS-ASCAL 2.2.2.13, 2.2.2.46),
 * as UTF-8 bytes. */
#define CAL_MAX_UID_BYTES 1200
/* Subject, Location, names, addresses, links: one short text field. */
#define CAL_MAX_TEXT_BYTES 4096
/* The body of an event (plain or HTML). */
#define CAL_MAX_BODY_BYTES (1024u * 1024u)
/* MS-ASCAL 2.2.2.39.x Interval: 1..999. */
#define CAL_MAX_INTERVAL 999
/* MS-ASCAL 2.2.2.34 Occurrences: 1..999. */
#define CAL_MAX_OCCURRENCES 999
/* MS-ASDTYPE 2.7 TIME_ZONE_INFORMATION: the decoded blob's size. */
#define CAL_TZ_BLOB_BYTES 172

/* ---- Out-of-Office known senders (mailbox/store_oof.c, oofpw) ------- */
/* Addresses remembered as the user's correspondents (recipients of the
 * user's own mail) for Oof AppliesToExternalKnown; past it the least
 * recently written-to is forgotten.  10,000 covers years of a busy
 * mailbox at about 100 bytes a row. */
#define STORE_MAX_OOF_CORRESPONDENTS 10000
/* Contact items looked through for one sender's address, so that one
 * delivery's "is this sender known" costs a bounded scan until contacts
 * get an address index. */
#define STORE_MAX_OOF_CONTACT_SCAN 20000
/* ---- directory contact fields (mailbox/store_dir.c, easctl user) ----- */
/* DisplayName, FirstName, LastName, Title, Company, Office and Alias of a
 * directory user, returned by GAL Search and Find (MS-ASCMD 2.2.3.49 and
 * siblings).  Exchange caps displayName at 256 characters; names longer
 * than that are data errors, not people. */
#define DIR_MAX_NAME_BYTES 256
/* Phone, MobilePhone and HomePhone: E.164 is 15 digits; the margin covers
 * separators and an extension ("+49 (30) 1234-5678 x123"). */
#define DIR_MAX_PHONE_BYTES 64
/* A user's photo (GAL Picture Data, MS-ASCMD 2.2.3.39.4): Active
 * Directory caps thumbnailPhoto at 100 KB; phones show 96x96 pixels. */
#define DIR_MAX_PHOTO_BYTES (100u * 1024u)
/* Photo bytes in one GAL Search or Find response: 40 full-size photos,
 * well inside RPC_MAX_FRAME_BYTES and CAS_WBXML_MAX_RESPONSE_BYTES (8 MB);
 * entries past it get Picture Status 175, "limit reached". */
#define GAL_MAX_PICTURE_REPLY_BYTES (4u * 1024u * 1024u)

#endif
