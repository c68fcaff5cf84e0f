#!/usr/bin/env bash
# Real clients' core-path habits (../shared/docs/eas-checklist.md, "Real
# clients and their known behaviour") against the real daemons, one block
# per client; the ones already pinned elsewhere are not repeated (Outlook's
# ISO-8859-1 credentials: tests/unit/cas/test_http.c; Windows Mail's base64
# query: test_request.c; Gmail's two near-simultaneous Pings:
# test_ping_push.c and test_watch.c).
#  - Gmail for Android: HTML with TruncationSize 200000 and never a
#    re-fetch, so a 199,000-byte body arrives whole (no Truncated) and a
#    250,000-byte one exactly 200,000 bytes long with Truncated and the
#    full EstimatedDataSize; FolderSync SyncKey 0 on refresh keeps the
#    folder ids AND the Inbox's item sync state (the old Sync key still
#    works, nothing is sent twice).
#  - Android: DeviceId "validate" during account setup gets the ordinary
#    provisioning answer (Status 142 at 14.1, HTTP 449 at 12.1), not an
#    error, and does not disturb the real device id that follows.
#  - Thunderbird TbSync: OPTIONS advertises 2.5, 14.0, 14.1 and 16.1, and
#    each of them provisions and FolderSyncs.
#  - MS-ASCMD 3.1.5.10 through HTTP: 201 Sync commands get Status 4, more
#    collections than the limit Status 15 with the Limit.
# Every wait is bounded.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
source "$top/tests/integration/mailbox_lib.sh"
source "$top/tests/integration/cas_lib.sh"
[ -x "$EASD_BIN/easd-mailbox" ] || fail "easd-mailbox not built"

write_conf "[cas]" "http_listen = 127.0.0.1:0" "allow_plain_auth = loopback" \
	"mailbox = unix:$T/mailbox.sock" "log_level = info"
start_mailbox
printf 'secret\n' | ctl user add alice --password-stdin >/dev/null
start_cas
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 # easctl as codec only

deliver_html() { # deliver_html SUBJECT BYTES: an HTML body of BYTES letters
	local out
	out=$({
		printf 'From: bob@example.com\nTo: alice@example.org\nSubject: %s\nMessage-ID: <%s@clients>\nContent-Type: text/html; charset=us-ascii\n\n' "$1" "$1"
		head -c "$2" /dev/zero | tr '\0' 'g' | fold -w 998
		echo
	} | sed 's/$/\r/' | "$LMTP_LOAD" send "$LMTP_PORT" bob@example.com alice@example.org)
	[ "$out" = 250 ] || fail "LMTP $out"
}

# ---- Gmail: 200 KB HTML honoured exactly --------------------------------
# (fold breaks the letters into lines; the body's bytes are the letters
# plus CRLFs, so the sizes below are counted from the stored body.)
gkey=$(provision GMAIL1)
inbox=$(inbox_of "$gkey" GMAIL1)
[ -n "$inbox" ] || fail "no Inbox"
gsync() { # gsync KEY: Gmail's Inbox Sync
	printf '<Sync xmlns="AirSync:" xmlns:airsyncbase="AirSyncBase:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId><GetChanges>1</GetChanges><WindowSize>25</WindowSize><Options><FilterType>0</FilterType><airsyncbase:BodyPreference><airsyncbase:Type>2</airsyncbase:Type><airsyncbase:TruncationSize>200000</airsyncbase:TruncationSize></airsyncbase:BodyPreference></Options></Collection></Collections></Sync>' \
		"$1" "$inbox" | enc
	[ "$(post Sync "$gkey" GMAIL1)" = 200 ] || fail "Gmail Sync"
	[ "$(field Status)" = 1 ] || { xml | head -c 2000; fail "Gmail Sync status"; }
}
gsync 0
k1=$(field SyncKey)
deliver_html small 150000
deliver_html large 250000
gsync "$k1"
k2=$(field SyncKey)
xml | sed 's/<Add>/\n<Add>/g' | grep '^<Add>' >"$T/adds"
[ "$(wc -l <"$T/adds")" = 2 ] || fail "Gmail: expected 2 Adds"
body_of() { # body_of SUBJECT: "DATA-LENGTH ESTIMATED TRUNCATED"
	local line data est tr
	line=$(grep "Subject>$1<" "$T/adds")
	# The XML text has each CR as a character reference, and xml() took
	# the LFs out: count a reference as its CR plus the LF after it.
	data=$(printf '%s' "$line" | sed -n 's|.*<airsyncbase:Data>\([^<]*\)</airsyncbase:Data>.*|\1|p' |
		sed 's/&#*[A-Za-z0-9]*;/XX/g')
	est=$(printf '%s' "$line" | sed -n 's|.*<airsyncbase:EstimatedDataSize>\([0-9]*\)<.*|\1|p')
	tr=$(printf '%s' "$line" | sed -n 's|.*<airsyncbase:Truncated>\([0-9]*\)<.*|\1|p')
	echo "${#data} ${est:-none} ${tr:-0}"
}
read -r slen sest strunc < <(body_of small)
[ "$strunc" = 0 ] || fail "Gmail: a body under 200000 bytes was truncated"
[ "$slen" = "$sest" ] || fail "Gmail: small body $slen bytes of $sest"
[ "$slen" -ge 150000 ] || { head -c 1500 "$T/adds"; fail "Gmail: small body only $slen bytes"; }
read -r llen lest ltrunc < <(body_of large)
[ "$ltrunc" = 1 ] || fail "Gmail: the large body is not marked Truncated"
[ "$llen" = 200000 ] || fail "Gmail: truncated to $llen bytes, not 200000"
[ "$lest" -ge 250000 ] || fail "Gmail: EstimatedDataSize $lest"

# ---- Gmail: FolderSync SyncKey 0 refresh keeps item state -------------
printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | enc
[ "$(post FolderSync "$gkey" GMAIL1)" = 200 ] || fail "FolderSync refresh"
xml | grep -o '<ServerId>[^<]*</ServerId>' | sort >"$T/ids2"
inbox2=$(xml | grep -o '<Add><ServerId>[^<]*</ServerId><ParentId>[^<]*</ParentId><DisplayName>[^<]*</DisplayName><Type>2</Type>' |
	sed -n 's|<Add><ServerId>\([^<]*\)</ServerId>.*|\1|p')
[ "$inbox2" = "$inbox" ] || fail "Gmail refresh: Inbox id $inbox became $inbox2"
gsync "$k2"
xml | grep -q '<Add>' && fail "Gmail refresh: items sent again"
deliver_html after 100
gsync "$(field SyncKey)"
[ "$(xml | grep -o '<Add>' | wc -l)" = 1 ] || fail "Gmail refresh: new mail not synced once"

# ---- Android: DeviceId "validate" ---------------------------------------
printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | enc
[ "$(post FolderSync 0 validate)" = 200 ] || fail "validate: HTTP"
[ "$(field Status)" = 142 ] || { xml; fail "validate at 14.1: not Status 142"; }
code=$(curl -s --max-time 15 -u alice:secret -o /dev/null -w '%{http_code}' \
	-H "MS-ASProtocolVersion: 12.1" -H "X-MS-PolicyKey: 0" \
	-H "Content-Type: application/vnd.ms-sync.wbxml" \
	--data-binary @"$T/body" \
	"$CAS_BASE?Cmd=FolderSync&DeviceId=validate&DeviceType=Android&User=alice")
[ "$code" = 449 ] || fail "validate at 12.1: HTTP $code"
akey=$(provision androidc0ffee)
[ -n "$(inbox_of "$akey" androidc0ffee)" ] || fail "Android after validate"
ctl device list alice | grep -q androidc0ffee || fail "Android device not listed"

# ---- Thunderbird TbSync: its four versions ------------------------------
versions=$(curl -s --max-time 15 -u alice:secret -X OPTIONS -D - -o /dev/null "$CAS_BASE" |
	tr -d '\r' | sed -n 's/^MS-ASProtocolVersions: *//Ip')
for v in 2.5 14.0 14.1 16.1; do
	case ",$versions," in *",$v,"*) ;; *) fail "OPTIONS lacks $v ($versions)" ;; esac
done
for v in 2.5 14.0 14.1 16.1; do
	dev=TbSync${v/./x}
	if [ "$v" = 2.5 ]; then
		ptype=MS-WAP-Provisioning-XML
	else
		ptype=MS-EAS-Provisioning-WBXML
	fi
	printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>%s</PolicyType></Policy></Policies></Provision>' "$ptype" | enc
	tpost() {
		curl -s --max-time 15 -u alice:secret -o "$T/reply" -w '%{http_code}' \
			-H "MS-ASProtocolVersion: $v" -H "X-MS-PolicyKey: $2" \
			-H 'User-Agent: Thunderbird ActiveSync' \
			-H 'Content-Type: application/vnd.ms-sync.wbxml' --data-binary @"$T/body" \
			"$CAS_BASE?Cmd=$1&DeviceId=$dev&DeviceType=TbSync&User=alice"
	}
	rm -f "$T/reply.xml"
	[ "$(tpost Provision 0)" = 200 ] || fail "TbSync $v Provision"
	temp=$(field PolicyKey)
	[ -n "$temp" ] || { xml; fail "TbSync $v: no temporary key"; }
	printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>%s</PolicyType><PolicyKey>%s</PolicyKey><Status>1</Status></Policy></Policies></Provision>' "$ptype" "$temp" | enc
	rm -f "$T/reply.xml"
	[ "$(tpost Provision "$temp")" = 200 ] || fail "TbSync $v Provision ack"
	final=$(field PolicyKey)
	printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | enc
	rm -f "$T/reply.xml"
	[ "$(tpost FolderSync "$final")" = 200 ] || fail "TbSync $v FolderSync"
	[ "$(field Status)" = 1 ] || { xml; fail "TbSync $v FolderSync status"; }
	xml | grep -q "<ServerId>$inbox</ServerId>" || fail "TbSync $v: no Inbox"
done

# ---- MS-ASCMD 3.1.5.10 limits through HTTP -----------------------------
cmds=
for i in $(seq 1 201); do cmds="$cmds<Fetch><ServerId>$i</ServerId></Fetch>"; done
printf '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId><Commands>%s</Commands></Collection></Collections></Sync>' \
	"$(field SyncKey)" "$inbox" "$cmds" | enc
[ "$(post Sync "$gkey" GMAIL1)" = 200 ] || fail "201 commands: HTTP"
[ "$(field Status)" = 4 ] || { xml; fail "201 commands: not Status 4"; }
colls=
for i in $(seq 1 129); do colls="$colls<Collection><SyncKey>0</SyncKey><CollectionId>$i</CollectionId></Collection>"; done
printf '<Sync xmlns="AirSync:"><Collections>%s</Collections></Sync>' "$colls" | enc
[ "$(post Sync "$gkey" GMAIL1)" = 200 ] || fail "129 collections: HTTP"
[ "$(field Status)" = 15 ] || { xml; fail "129 collections: not Status 15"; }
[ "$(field Limit)" = 128 ] || { xml; fail "129 collections: Limit"; }
cas_alive
echo ok
