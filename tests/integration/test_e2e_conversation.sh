#!/usr/bin/env bash
# Conversations end to end with the real daemons (easd-mailbox with SQLite
# and LMTP, easd-cas, easctl) over a Unix socket, for a provisioned 14.1
# device:
#  - a thread delivered over LMTP (root, a reply with References, an
#    unrelated message) has one ConversationId in Sync;
#  - Search by ConversationId (MS-ASCMD 2.2.3.35.2) finds its two
#    messages, newest first, with Range/Total and the requested plain-text
#    body; within a folder it is scoped; outside an And it is Status 8;
#  - ItemOperations Move with MoveAlways (MS-ASCMD 2.2.3.118) files the
#    thread into a user folder; a held Ping on that folder is woken (Status
#    2) when the next reply, which names only its parent (In-Reply-To),
#    is delivered there instead of the Inbox;
#  - after a restart of easd-mailbox the rule still files the thread;
#  - once the folder is deleted, the next reply lands in the Inbox.
# Every wait is bounded.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
source "$top/tests/integration/mailbox_lib.sh"
[ -x "$EASD_BIN/easd-mailbox" ] || fail "easd-mailbox not built"
CAS_PID=
PING_PID=
trap 'rc=$?; for p in "$PING_PID" "$CAS_PID"; do if [ -n "$p" ]; then kill -KILL "$p" 2>/dev/null || true; fi; done; if [ $rc -ne 0 ]; then echo "--- cas log"; tail -n 30 "$T/cas.log" 2>/dev/null || true; fi; (exit $rc); mbx_cleanup' EXIT

write_conf "[cas]" "http_listen = 127.0.0.1:0" "allow_plain_auth = loopback" \
	"mailbox = unix:$T/mailbox.sock" "log_level = info"
start_mailbox
printf 'secret\n' | ctl user add alice --password-stdin >/dev/null

"$EASD_BIN/easd-cas" --config "$T/easd.conf" 2>"$T/cas.log" &
CAS_PID=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.*listening on http:.*(port \([0-9]*\)).*/\1/p' "$T/cas.log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || fail "no CAS port"
base="http://127.0.0.1:$port/Microsoft-Server-ActiveSync"

enc() { "$EASD_BIN/easctl" wbxml encode >"$T/body"; }
# post CMD KEY [OUT]: body $T/body, reply OUT ($T/reply), the HTTP code.
post() {
	local out=${3:-$T/reply}
	rm -f "$out.xml"
	curl -s --max-time "${CURL_MAX:-20}" -u alice:secret -o "$out" \
		-w '%{http_code}' -H "MS-ASProtocolVersion: 14.1" \
		-H "X-MS-PolicyKey: $2" -H 'User-Agent: E2E/1.0' \
		-H 'Content-Type: application/vnd.ms-sync.wbxml' \
		--data-binary @"$T/body" \
		"$base?Cmd=$1&DeviceId=CONVPHONE&DeviceType=TestPhone&User=alice"
}
xml() { # xml [FILE]: the reply as one line of XML
	local f=${1:-$T/reply}
	[ -f "$f.xml" ] || "$EASD_BIN/easctl" wbxml decode "$f" |
		tr -d '\n' | sed 's/>  */>/g' >"$f.xml"
	cat "$f.xml"
}
field() { xml | sed -n "s|.*<$1>\([^<]*\)</$1>.*|\1|p" | head -n1; }
first() { xml | grep -o "<$1>[^<]*</$1>" | head -n1 | sed "s|<$1>\(.*\)</$1>|\1|"; }
count() { xml | grep -o "<$1>" | wc -l; }
deliver() { # deliver SUBJECT MESSAGE-ID [EXTRA-HEADER-LINES]
	printf 'From: bob@example.com\r\nTo: alice@example.org\r\nSubject: %s\r\nMessage-ID: <%s>\r\n%bContent-Type: text/plain\r\n\r\nbody of %s\r\n' \
		"$1" "$2" "${3:-}" "$2" |
		"$LMTP_LOAD" send "$LMTP_PORT" bob@example.com alice@example.org |
		grep -qx 250 || fail "LMTP $2"
}

printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>' | enc
[ "$(post Provision 0)" = 200 ] || fail "Provision"
temp=$(field PolicyKey)
printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>%s</PolicyKey><Status>1</Status></Policy></Policies></Provision>' "$temp" | enc
[ "$(post Provision "$temp")" = 200 ] || fail "Provision ack"
key=$(field PolicyKey)
printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | enc
[ "$(post FolderSync "$key")" = 200 ] || fail "FolderSync"
inbox=$(xml | grep -o '<Add><ServerId>[^<]*</ServerId><ParentId>[^<]*</ParentId><DisplayName>[^<]*</DisplayName><Type>2</Type>' |
	sed -n 's|<Add><ServerId>\([^<]*\)</ServerId>.*|\1|p' | head -n1)
[ -n "$inbox" ] || { xml; fail "no Inbox"; }
printf '<FolderCreate xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey><ParentId>0</ParentId><DisplayName>Project</DisplayName><Type>12</Type></FolderCreate>' \
	"$(field SyncKey)" | enc
[ "$(post FolderCreate "$key")" = 200 ] || fail "FolderCreate"
project=$(field ServerId)
hkey=$(field SyncKey)
[ -n "$project" ] && [ -n "$hkey" ] || { xml; fail "no Project folder"; }

deliver "Plans" root@e2e
deliver "Re: Plans" r1@e2e 'In-Reply-To: <root@e2e>\r\nReferences: <root@e2e>\r\n'
deliver "Lunch" other@e2e

sync() { # sync KEY FOLDER
	printf '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId><WindowSize>100</WindowSize></Collection></Collections></Sync>' \
		"$1" "$2" | enc
	[ "$(post Sync "$key")" = 200 ] || fail "Sync $2"
}
sync 0 "$inbox"
sync "$(field SyncKey)" "$inbox"
[ "$(count Add)" = 3 ] || { xml; fail "three messages in the Inbox"; }
# The ConversationId of each subject.
conv=$(xml | sed 's|<Add>|\n<Add>|g' | grep '<email:Subject>Plans<' |
	sed -n 's|.*<email2:ConversationId opaque="base64">\([^<]*\)<.*|\1|p')
reply_conv=$(xml | sed 's|<Add>|\n<Add>|g' | grep '<email:Subject>Re: Plans<' |
	sed -n 's|.*<email2:ConversationId opaque="base64">\([^<]*\)<.*|\1|p')
other_conv=$(xml | sed 's|<Add>|\n<Add>|g' | grep '<email:Subject>Lunch<' |
	sed -n 's|.*<email2:ConversationId opaque="base64">\([^<]*\)<.*|\1|p')
[ -n "$conv" ] && [ "$conv" = "$reply_conv" ] || { xml; fail "root and reply differ: $conv $reply_conv"; }
[ -n "$other_conv" ] && [ "$other_conv" != "$conv" ] || fail "unrelated mail in the thread"

# Search by ConversationId.
search() { # search QUERY-XML [OPTIONS-XML]
	printf '<Search xmlns="Search:" xmlns:airsync="AirSync:" xmlns:airsyncbase="AirSyncBase:"><Store><Name>Mailbox</Name><Query>%s</Query><Options>%s</Options></Store></Search>' \
		"$1" "${2:-}" | enc
	[ "$(post Search "$key")" = 200 ] || fail "Search"
	[ "$(first Status)" = 1 ] || { xml; fail "Search status"; }
}
store_status() { xml | sed -n 's|.*<Store><Status>\([0-9]*\)</Status>.*|\1|p'; }
by_conv() { printf '<And><airsync:Class>Email</airsync:Class><ConversationId opaque="base64">%s</ConversationId>%s</And>' "$conv" "${1:-}"; }
search "$(by_conv)" "<airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type></airsyncbase:BodyPreference>"
[ "$(store_status)" = 1 ] || { xml; fail "conversation search status"; }
[ "$(field Total)" = 2 ] || { xml; fail "conversation total"; }
subjects=$(xml | grep -o '<email:Subject>[^<]*</email:Subject>' | sed 's/<[^>]*>//g' | tr '\n' '|')
[ "$subjects" = "Re: Plans|Plans|" ] || { xml; fail "conversation results: $subjects"; }
xml | grep -q 'body of r1@e2e' || { xml; fail "no plain-text body"; }
search "$(by_conv)" "<Range>1-1</Range>"
[ "$(field Total)" = 2 ] && [ "$(field Range)" = 1-1 ] || { xml; fail "conversation range"; }
[ "$(field email:Subject)" = Plans ] || { xml; fail "second result"; }
search "$(by_conv "<airsync:CollectionId>$project</airsync:CollectionId>")"
[ "$(field Total)" = 0 ] || { xml; fail "conversation in an empty folder"; }
search "<ConversationId opaque=\"base64\">$conv</ConversationId>"
[ "$(store_status)" = 8 ] || { xml; fail "ConversationId outside And"; }

# MoveAlways into Project.
printf '<ItemOperations xmlns="ItemOperations:"><Move><ConversationId opaque="base64">%s</ConversationId><DstFldId>%s</DstFldId><Options><MoveAlways/></Options></Move></ItemOperations>' \
	"$conv" "$project" | enc
[ "$(post ItemOperations "$key")" = 200 ] || fail "ItemOperations Move"
xml | grep -q '<Move><Status>1</Status>' || { xml; fail "Move status"; }
search "$(by_conv "<airsync:CollectionId>$project</airsync:CollectionId>")"
[ "$(field Total)" = 2 ] || { xml; fail "thread not in Project"; }

# A held Ping on Project wakes for the next reply, which names only its
# parent and is filed into Project.
sync 0 "$project"
sync "$(field SyncKey)" "$project"
pkey=$(field SyncKey)
[ "$(count Add)" = 2 ] || { xml; fail "Project holds the thread"; }
printf '<Ping xmlns="Ping:"><HeartbeatInterval>120</HeartbeatInterval><Folders><Folder><Id>%s</Id><Class>Email</Class></Folder></Folders></Ping>' "$project" | enc
CURL_MAX=60 post Ping "$key" "$T/ping" >"$T/ping.code" &
PING_PID=$!
sleep 1
kill -0 "$PING_PID" 2>/dev/null || { xml "$T/ping"; fail "Ping answered before any change"; }
deliver "Re: Plans" r2@e2e 'In-Reply-To: <r1@e2e>\r\n'
for _ in $(seq 200); do
	kill -0 "$PING_PID" 2>/dev/null || break
	sleep 0.05
done
wait "$PING_PID" || fail "Ping curl failed"
PING_PID=
[ "$(cat "$T/ping.code")" = 200 ] || fail "Ping HTTP $(cat "$T/ping.code")"
xml "$T/ping" | grep -q '<Status>2</Status>' || { xml "$T/ping"; fail "Ping status"; }
xml "$T/ping" | grep -q "<Folder>$project</Folder>" || { xml "$T/ping"; fail "Ping folder"; }
sync "$pkey" "$project"
xml | grep -q '<email:Subject>Re: Plans</email:Subject>' || { xml; fail "r2 not in Project"; }
[ "$(count Add)" = 1 ] || { xml; fail "one Add in Project"; }

# The rule survives a restart of the mailbox.
stop_mailbox
start_mailbox
deliver "Re: Plans" r3@e2e 'References: <root@e2e> <r2@e2e>\r\n'
for _ in $(seq 100); do
	printf '<Search xmlns="Search:" xmlns:airsync="AirSync:"><Store><Name>Mailbox</Name><Query>%s</Query></Store></Search>' \
		"$(by_conv)" | enc
	code=$(post Search "$key")
	[ "$code" = 200 ] && [ "$(first Status)" = 1 ] && break
	sleep 0.1 # the CAS reconnects to the restarted mailbox
done
[ "$(field Total)" = 4 ] || { xml; fail "thread after the restart"; }
[ "$(xml | grep -o "<airsync:CollectionId>$project</airsync:CollectionId>" | wc -l)" = 4 ] ||
	{ xml; fail "r3 not filed into Project after the restart"; }

# The folder deleted: the rule ends, the next reply goes to the Inbox.
printf '<FolderDelete xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey><ServerId>%s</ServerId></FolderDelete>' "$hkey" "$project" | enc
[ "$(post FolderDelete "$key")" = 200 ] || fail "FolderDelete"
[ "$(field Status)" = 1 ] || { xml; fail "FolderDelete status"; }
# (The thread's messages went with the folder: r4 names its root.)
deliver "Re: Plans" r4@e2e 'In-Reply-To: <r3@e2e>\r\nReferences: <root@e2e> <r3@e2e>\r\n'
search "$(by_conv)"
[ "$(field Total)" = 1 ] || { xml; fail "after the folder delete"; }
[ "$(field airsync:CollectionId)" = "$inbox" ] || { xml; fail "r4 not in the Inbox"; }
echo ok
