#!/usr/bin/env bash
# Sync, GetItemEstimate and Ping end to end with the real daemons:
# easd-mailbox (SQLite, LMTP), easd-cas and easctl on one host over a Unix
# socket.  Mail delivered over LMTP is synced to a provisioned 14.1 device:
# SyncKey 0 -> first key without Commands, a window of 2 with MoreAvailable
# (HTML body, Importance), the rest, the previous key replaying the same
# window (reliability G4), GetItemEstimate, a client Read change and
# Delete, and a held Ping woken by a delivery with Status 2 naming the
# Inbox.  Until easd-mailbox exists in the tree there is nothing to run.
# Every wait is bounded.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -f "$top/mailbox/main.c" ]; then
	echo "no easd-mailbox in this tree yet: nothing to run end to end"
	exit 0
fi
source "$top/tests/integration/mailbox_lib.sh"
[ -x "$EASD_BIN/easd-mailbox" ] || fail "easd-mailbox not built"
CAS_PID=
cas_cleanup() {
	if [ -n "$CAS_PID" ]; then kill -KILL "$CAS_PID" 2>/dev/null || true; fi
	if [ -n "${PING_PID:-}" ]; then kill -KILL "$PING_PID" 2>/dev/null || true; fi
}
trap 'rc=$?; cas_cleanup; if [ $rc -ne 0 ]; then echo "--- cas log"; tail -n 30 "$T/cas.log" 2>/dev/null || true; fi; (exit $rc); mbx_cleanup' EXIT

write_conf "[cas]" "http_listen = 127.0.0.1:0" "allow_plain_auth = loopback" \
	"mailbox = unix:$T/mailbox.sock" "log_level = debug"
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
# post CMD KEY [OUT]: body $T/body, reply $T/reply (or OUT), prints the code
post() {
	rm -f "${3:-$T/reply}.xml"
	curl -s --max-time "${CURL_MAX:-15}" -u alice:secret -o "${3:-$T/reply}" \
		-w '%{http_code}' -H "MS-ASProtocolVersion: 14.1" \
		-H "X-MS-PolicyKey: $2" -H 'User-Agent: E2E/1.0' \
		-H 'Content-Type: application/vnd.ms-sync.wbxml' \
		--data-binary @"$T/body" \
		"$base?Cmd=$1&DeviceId=SYNCPHONE&DeviceType=TestPhone&User=alice"
}
# The reply as one line of XML (decoded once per reply).
xml() {
	local f=${1:-$T/reply}
	[ -f "$f.xml" ] || "$EASD_BIN/easctl" wbxml decode "$f" |
		tr -d '\n' | sed 's/>  */>/g' >"$f.xml"
	cat "$f.xml"
}
field() { xml | sed -n "s|.*<$1>\([^<]*\)</$1>.*|\1|p" | head -n1; }
count() { xml | grep -o "<$1>" | wc -l; }
deliver() { # deliver SUBJECT
	local codes
	codes=$(printf 'From: bob@example.com\r\nTo: alice@example.org\r\nSubject: %s\r\nMessage-ID: <%s@e2e>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>%s</p>\r\n' \
		"$1" "$1" "$1" | "$LMTP_LOAD" send "$LMTP_PORT" bob@example.com alice@example.org)
	[ "$codes" = 250 ] || fail "LMTP: $codes"
}

# Provision (two steps) and FolderSync for the Inbox's id.
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

for s in one two three; do deliver "$s"; done

sync() { # sync SYNCKEY [WINDOW]
	local win=
	[ -n "${2:-}" ] && win="<WindowSize>$2</WindowSize>"
	printf '<Sync xmlns="AirSync:" xmlns:airsyncbase="AirSyncBase:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId>%s<Options><FilterType>0</FilterType><airsyncbase:BodyPreference><airsyncbase:Type>2</airsyncbase:Type><airsyncbase:TruncationSize>200000</airsyncbase:TruncationSize></airsyncbase:BodyPreference></Options></Collection></Collections></Sync>' \
		"$1" "$inbox" "$win" | enc
	[ "$(post Sync "$key")" = 200 ] || fail "Sync $1"
}

# SyncKey 0: a key, no Commands (MS-ASCMD 2.2.3.166.4).
sync 0
[ "$(field Status)" = 1 ] || { xml; fail "Sync 0 status"; }
k1=$(field SyncKey)
[ -n "$k1" ] && [ "$k1" != 0 ] || fail "no first key"
[ "$(count Commands)" = 0 ] || fail "Commands on SyncKey 0"

# A window of 2 of the 3 messages, with MoreAvailable.
sync "$k1" 2
k2=$(field SyncKey)
[ "$(count Add)" = 2 ] || { xml; fail "window of 2"; }
xml | grep -q '<MoreAvailable/>' || fail "no MoreAvailable"
xml | grep -q "Importance>" || { xml; fail "no Importance"; }
xml | grep -q '<airsyncbase:Type>2</airsyncbase:Type>' || fail "no HTML body"
xml | grep -o '<ServerId>[^<]*</ServerId>' >"$T/window1"
first_item=$(sed -n '1s|<ServerId>\(.*\)</ServerId>|\1|p' "$T/window1")

# The previous key again: the same window (reliability G4).
sync "$k1" 2
xml | grep -o '<ServerId>[^<]*</ServerId>' >"$T/window1b"
cmp -s "$T/window1" "$T/window1b" || fail "replayed window differs"
[ "$(field SyncKey)" = "$k2" ] || fail "replay issued another key"

# GetItemEstimate with the current key: what is left.
printf '<GetItemEstimate xmlns="GetItemEstimate:" xmlns:airsync="AirSync:"><Collections><Collection><airsync:SyncKey>%s</airsync:SyncKey><CollectionId>%s</CollectionId><airsync:Options><airsync:FilterType>0</airsync:FilterType></airsync:Options></Collection></Collections></GetItemEstimate>' \
	"$k2" "$inbox" | enc
[ "$(post GetItemEstimate "$key")" = 200 ] || fail "GetItemEstimate"
[ "$(field Status)" = 1 ] || { xml; fail "GetItemEstimate status"; }
[ -n "$(field Estimate)" ] || fail "no Estimate"

# The rest of the window.
sync "$k2"
k3=$(field SyncKey)
[ "$(count Add)" = 1 ] || { xml; fail "rest of the window"; }
xml | grep -q '<MoreAvailable/>' && fail "MoreAvailable at the end"

# Client commands: mark the first read, delete it.
printf '<Sync xmlns="AirSync:" xmlns:email="Email:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId><Commands><Change><ServerId>%s</ServerId><ApplicationData><email:Read>1</email:Read></ApplicationData></Change></Commands></Collection></Collections></Sync>' \
	"$k3" "$inbox" "$first_item" | enc
[ "$(post Sync "$key")" = 200 ] || fail "Sync change"
[ "$(field Status)" = 1 ] || { xml; fail "Sync change status"; }
k4=$(field SyncKey)
printf '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId><DeletesAsMoves>1</DeletesAsMoves><Commands><Delete><ServerId>%s</ServerId></Delete></Commands></Collection></Collections></Sync>' \
	"$k4" "$inbox" "$first_item" | enc
[ "$(post Sync "$key")" = 200 ] || fail "Sync delete"
[ "$(field Status)" = 1 ] || { xml; fail "Sync delete status"; }
xml | grep -q '<Responses>' && { xml; fail "a successful Delete got a response"; }

# Direct Push: a held Ping is woken by a delivery with Status 2.
printf '<Ping xmlns="Ping:"><HeartbeatInterval>120</HeartbeatInterval><Folders><Folder><Id>%s</Id><Class>Email</Class></Folder></Folders></Ping>' "$inbox" | enc
CURL_MAX=60 post Ping "$key" "$T/ping" >"$T/ping.code" &
PING_PID=$!
sleep 1
kill -0 "$PING_PID" 2>/dev/null || { xml "$T/ping"; fail "Ping answered before any change"; }
deliver four
for _ in $(seq 200); do
	kill -0 "$PING_PID" 2>/dev/null || break
	sleep 0.05
done
wait "$PING_PID" || fail "Ping curl failed"
PING_PID=
[ "$(cat "$T/ping.code")" = 200 ] || fail "Ping HTTP $(cat "$T/ping.code")"
xml "$T/ping" | grep -q '<Status>2</Status>' || { xml "$T/ping"; fail "Ping status"; }
xml "$T/ping" | grep -q "<Folder>$inbox</Folder>" || fail "Ping folder"
echo ok
