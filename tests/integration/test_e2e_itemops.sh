#!/usr/bin/env bash
# ItemOperations and GetAttachment end to end with the real daemons
# (easd-mailbox with SQLite and LMTP, easd-cas, easctl) on one host over a
# Unix socket.  A message with an HTML body and a 3 MB attachment is
# delivered over LMTP and synced by a provisioned 14.1 device, then:
#  - iOS preview-then-fetch: the Sync asks for a 255-byte HTML preview
#    (Truncated), ItemOperations fetches the item again with no
#    TruncationSize and gets the whole body, untruncated (checklist: never
#    cap fetches);
#  - ItemOperations Fetch by FileReference, inline: the Data bytes are the
#    attachment's, byte for byte;
#  - the same, multipart (MS-ASAcceptMultiPart: T): part count, offset and
#    length table, part 1 is the attachment;
#  - a Range (Range and Total in the answer), an unknown FileReference
#    (Status 15), a range past the end (Status 8);
#  - GetAttachment (12.1) streams the raw bytes with their Content-Type.
# Every wait is bounded.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
source "$top/tests/integration/mailbox_lib.sh"
[ -x "$EASD_BIN/easd-mailbox" ] || fail "easd-mailbox not built"
CAS_PID=
cas_cleanup() {
	if [ -n "$CAS_PID" ]; then kill -KILL "$CAS_PID" 2>/dev/null || true; fi
}
trap 'rc=$?; cas_cleanup; if [ $rc -ne 0 ]; then echo "--- cas log"; tail -n 30 "$T/cas.log" 2>/dev/null || true; fi; (exit $rc); mbx_cleanup' EXIT

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
# post CMD KEY [EXTRA-CURL-ARGS...]: body $T/body, reply $T/reply
post() {
	local cmd=$1 pk=$2
	shift 2
	rm -f "$T/reply.xml"
	curl -s --max-time 60 -u alice:secret -o "$T/reply" \
		-D "$T/headers" -w '%{http_code}' -H "MS-ASProtocolVersion: 14.1" \
		-H "X-MS-PolicyKey: $pk" -H 'User-Agent: E2E/1.0' \
		-H 'Content-Type: application/vnd.ms-sync.wbxml' \
		--data-binary @"$T/body" "$@" \
		"$base?Cmd=$cmd&DeviceId=ITEMOPSPHONE&DeviceType=iPhone&User=alice"
}
xml() {
	[ -f "$T/reply.xml" ] || "$EASD_BIN/easctl" wbxml decode "$T/reply" |
		tr -d '\n' | sed 's/>  */>/g' >"$T/reply.xml"
	cat "$T/reply.xml"
}
field() { xml | sed -n "s|.*<$1>\([^<]*\)</$1>.*|\1|p" | head -n1; }
# The opaque Data of the reply, decoded, into $1.
data_of() {
	xml | sed -n 's|.*<Data opaque="base64">\([^<]*\)</Data>.*|\1|p' |
		base64 -d >"$1"
}

# The message: an HTML body far longer than a preview, and 3 MB of
# random bytes as an attachment.
head -c 3145728 /dev/urandom >"$T/att.bin"
html=$(for i in $(seq 200); do printf '<p>paragraph %d of the long body</p>' "$i"; done)
{
	printf 'From: bob@example.com\r\nTo: alice@example.org\r\n'
	printf 'Subject: big attachment\r\nMessage-ID: <att1@e2e>\r\n'
	printf 'MIME-Version: 1.0\r\n'
	printf 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
	printf -- '--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n'
	printf '%s\r\n' "$html"
	printf -- '--b1\r\nContent-Type: application/pdf; name="report.pdf"\r\n'
	printf 'Content-Disposition: attachment; filename="report.pdf"\r\n'
	printf 'Content-Transfer-Encoding: base64\r\n\r\n'
	base64 -w 76 "$T/att.bin" | sed 's/$/\r/'
	printf -- '--b1--\r\n'
} >"$T/msg.eml"
codes=$("$LMTP_LOAD" send "$LMTP_PORT" bob@example.com alice@example.org <"$T/msg.eml")
[ "$codes" = 250 ] || fail "LMTP: $codes"

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
[ -n "$inbox" ] || { xml; fail "no Inbox in FolderSync"; }

# iOS: a 255-byte HTML preview in the Sync.
sync() {
	printf '<Sync xmlns="AirSync:" xmlns:airsyncbase="AirSyncBase:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId><Options><FilterType>0</FilterType><airsyncbase:BodyPreference><airsyncbase:Type>2</airsyncbase:Type><airsyncbase:TruncationSize>255</airsyncbase:TruncationSize></airsyncbase:BodyPreference></Options></Collection></Collections></Sync>' \
		"$1" "$inbox" | enc
	[ "$(post Sync "$key")" = 200 ] || fail "Sync $1"
}
sync 0
sync "$(field SyncKey)"
item=$(xml | sed -n 's|.*<Add><ServerId>\([^<]*\)</ServerId>.*|\1|p' | head -n1)
fileref=$(field airsyncbase:FileReference)
[ -n "$item" ] && [ -n "$fileref" ] || { xml; fail "no item or FileReference"; }
xml | grep -q '<airsyncbase:Truncated>1</airsyncbase:Truncated>' ||
	{ xml; fail "preview not truncated"; }
full=$(field airsyncbase:EstimatedDataSize)

# ios_preview_then_fetch: the whole body, untruncated.
printf '<ItemOperations xmlns="ItemOperations:" xmlns:airsync="AirSync:" xmlns:airsyncbase="AirSyncBase:"><Fetch><Store>Mailbox</Store><airsync:CollectionId>%s</airsync:CollectionId><airsync:ServerId>%s</airsync:ServerId><Options><airsyncbase:BodyPreference><airsyncbase:Type>2</airsyncbase:Type></airsyncbase:BodyPreference></Options></Fetch></ItemOperations>' \
	"$inbox" "$item" | enc
[ "$(post ItemOperations "$key")" = 200 ] || fail "ItemOperations item"
[ "$(field Status)" = 1 ] || { xml; fail "item fetch status"; }
xml | grep -q '<airsyncbase:Truncated>1</airsyncbase:Truncated>' &&
	{ xml; fail "fetched body is truncated"; }
"$EASD_BIN/easctl" wbxml decode "$T/reply" | grep -c 'paragraph 200 of the long body' >/dev/null ||
	fail "fetched body lacks its end"
[ -n "$full" ] && [ "$(field airsyncbase:EstimatedDataSize)" = "$full" ] ||
	fail "fetched size differs from the estimate ($full)"

# The attachment inline: byte for byte.
fetch_ref() { # fetch_ref REF [RANGE]
	local opt=
	[ -n "${2:-}" ] && opt="<Options><Range>$2</Range></Options>"
	printf '<ItemOperations xmlns="ItemOperations:" xmlns:airsyncbase="AirSyncBase:"><Fetch><Store>Mailbox</Store><airsyncbase:FileReference>%s</airsyncbase:FileReference>%s</Fetch></ItemOperations>' \
		"$1" "$opt" | enc
}
fetch_ref "$fileref"
[ "$(post ItemOperations "$key")" = 200 ] || fail "ItemOperations inline"
[ "$(field Status)" = 1 ] || { xml; fail "inline status"; }
[ "$(field airsyncbase:ContentType)" = application/pdf ] || fail "content type"
data_of "$T/got.bin"
cmp -s "$T/att.bin" "$T/got.bin" || fail "inline bytes differ ($(stat -c %s "$T/got.bin") bytes)"

# Multipart: the part table, then the bytes.
[ "$(post ItemOperations "$key" -H 'MS-ASAcceptMultiPart: T')" = 200 ] ||
	fail "ItemOperations multipart"
grep -qi '^content-type: application/vnd.ms-sync.multipart' "$T/headers" ||
	fail "multipart content type"
read -r count off0 len0 off1 len1 < <(od -An -t u4 -N 20 -v "$T/reply" | tr -s ' \n' ' '; echo) || true
[ "$count" = 2 ] || fail "part count $count"
[ "$off0" = 20 ] && [ "$off1" = $((off0 + len0)) ] || fail "part offsets"
[ "$len1" = 3145728 ] || fail "part 1 length $len1"
[ "$(stat -c %s "$T/reply")" = $((off1 + len1)) ] || fail "multipart body length"
tail -c +$((off1 + 1)) "$T/reply" >"$T/part1.bin"
cmp -s "$T/att.bin" "$T/part1.bin" || fail "multipart bytes differ"
head -c $((off0 + len0)) "$T/reply" | tail -c "$len0" >"$T/part0.wbxml"
"$EASD_BIN/easctl" wbxml decode "$T/part0.wbxml" | grep -q '<Part>1</Part>' ||
	fail "WBXML part does not name Part 1"

# A range, an unknown reference, a range past the end.
fetch_ref "$fileref" 1000000-1000099
[ "$(post ItemOperations "$key")" = 200 ] || fail "range"
[ "$(field Range)" = 1000000-1000099 ] && [ "$(field Total)" = 3145728 ] ||
	{ xml; fail "Range/Total"; }
data_of "$T/range.bin"
head -c 1000100 "$T/att.bin" | tail -c 100 >"$T/want.bin"
cmp -s "$T/want.bin" "$T/range.bin" ||
	fail "range bytes differ"
fetch_ref "${item}:7"
[ "$(post ItemOperations "$key")" = 200 ] || fail "bad reference"
xml | grep -q '<Fetch><Status>15</Status>' || { xml; fail "bad reference status"; }
fetch_ref "$fileref" 4000000-4000001
[ "$(post ItemOperations "$key")" = 200 ] || fail "range past the end"
xml | grep -q '<Fetch><Status>8</Status>' || { xml; fail "range past end status"; }

# GetAttachment (12.1): the raw bytes with their Content-Type.
code=$(curl -s --max-time 60 -u alice:secret -o "$T/ga.bin" -D "$T/headers" \
	-w '%{http_code}' -X POST -H "MS-ASProtocolVersion: 12.1" \
	-H "X-MS-PolicyKey: $key" -H 'User-Agent: E2E/1.0' \
	"$base?Cmd=GetAttachment&AttachmentName=$fileref&DeviceId=ITEMOPSPHONE&DeviceType=iPhone&User=alice")
[ "$code" = 200 ] || fail "GetAttachment HTTP $code"
grep -qi '^content-type: application/pdf' "$T/headers" || fail "GetAttachment type"
cmp -s "$T/att.bin" "$T/ga.bin" || fail "GetAttachment bytes differ"
code=$(curl -s --max-time 20 -u alice:secret -o /dev/null -w '%{http_code}' \
	-X POST -H "MS-ASProtocolVersion: 12.1" -H "X-MS-PolicyKey: $key" \
	"$base?Cmd=GetAttachment&AttachmentName=${item}:9&DeviceId=ITEMOPSPHONE&DeviceType=iPhone&User=alice")
[ "$code" = 500 ] || fail "GetAttachment of nothing: HTTP $code"

# Move of a conversation (14.0+): the reply delivered later joins the
# conversation; both leave the Inbox for Deleted Items.
printf 'From: bob@example.com\r\nTo: alice@example.org\r\nSubject: Re: big attachment\r\nMessage-ID: <att2@e2e>\r\nIn-Reply-To: <att1@e2e>\r\nReferences: <att1@e2e>\r\n\r\nthanks\r\n' |
	"$LMTP_LOAD" send "$LMTP_PORT" bob@example.com alice@example.org | grep -qx 250 || fail "LMTP reply"
printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | enc
[ "$(post FolderSync "$key")" = 200 ] || fail "FolderSync 2"
deleted=$(xml | grep -o '<Add><ServerId>[^<]*</ServerId><ParentId>[^<]*</ParentId><DisplayName>[^<]*</DisplayName><Type>4</Type>' |
	sed -n 's|<Add><ServerId>\([^<]*\)</ServerId>.*|\1|p' | head -n1)
[ -n "$deleted" ] || fail "no Deleted Items"
sync 0
sync "$(field SyncKey)"
conv=$(xml | sed -n 's|.*<email2:ConversationId opaque="base64">\([^<]*\)</email2:ConversationId>.*|\1|p' | head -n1)
[ -n "$conv" ] || { xml; fail "no ConversationId"; }
item2=$(xml | grep -o '<Add><ServerId>[^<]*</ServerId>' | sed -n 's|<Add><ServerId>\(.*\)</ServerId>|\1|p' | grep -vx "$item" | head -n1)
[ -n "$item2" ] || fail "no second item"
move() { # move CONVERSATION-BASE64 DST
	printf '<ItemOperations xmlns="ItemOperations:"><Move><ConversationId opaque="base64">%s</ConversationId><DstFldId>%s</DstFldId></Move></ItemOperations>' "$1" "$2" | enc
	[ "$(post ItemOperations "$key")" = 200 ] || fail "ItemOperations Move"
}
move AAAAAAAAAAAAAAAAAAAAAA== "$deleted"
xml | grep -q '<Move><Status>6</Status>' || { xml; fail "unknown conversation status"; }
move "$conv" "$deleted"
xml | grep -q '<Move><Status>1</Status>' || { xml; fail "Move status"; }
for it in "$item" "$item2"; do
	printf '<ItemOperations xmlns="ItemOperations:" xmlns:airsync="AirSync:"><Fetch><Store>Mailbox</Store><airsync:CollectionId>%s</airsync:CollectionId><airsync:ServerId>%s</airsync:ServerId></Fetch><Fetch><Store>Mailbox</Store><airsync:CollectionId>%s</airsync:CollectionId><airsync:ServerId>%s</airsync:ServerId></Fetch></ItemOperations>' \
		"$inbox" "$it" "$deleted" "$it" | enc
	[ "$(post ItemOperations "$key")" = 200 ] || fail "fetch after move"
	xml | grep -q '<Fetch><Status>6</Status>.*<Fetch><Status>1</Status>' ||
		{ xml; fail "item $it not moved"; }
done

# EmptyFolderContents of Deleted Items: both gone.
printf '<ItemOperations xmlns="ItemOperations:" xmlns:airsync="AirSync:"><EmptyFolderContents><airsync:CollectionId>%s</airsync:CollectionId></EmptyFolderContents><Fetch><Store>Mailbox</Store><airsync:CollectionId>%s</airsync:CollectionId><airsync:ServerId>%s</airsync:ServerId></Fetch></ItemOperations>' \
	"$deleted" "$deleted" "$item" | enc
[ "$(post ItemOperations "$key")" = 200 ] || fail "EmptyFolderContents"
xml | grep -q '<EmptyFolderContents><Status>1</Status>.*<Fetch><Status>6</Status>' ||
	{ xml; fail "EmptyFolderContents"; }
echo ok
