#!/usr/bin/env bash
# ItemOperations Fetch of a 10 MB attachment through the real daemons
# (easd-mailbox over a Unix socket, easd-cas on loopback HTTP): throughput
# of the inline (WBXML Data) and multipart fetches, and how much the CAS's
# peak RSS grows while serving them (VmHWM after minus VmRSS before, peak
# reset through /proc/PID/clear_refs).  The target is growth well under
# 10 MB: the CAS streams window by window (cas/itemops_xfer.h) and never
# holds the attachment.  Figures are printed, not asserted (they depend
# on the machine), except that the bytes must be right.
. "$(dirname "$0")/../integration/mailbox_lib.sh"

SIZE=$((10 * 1024 * 1024))
CAS_PID=
trap 'rc=$?; [ -n "$CAS_PID" ] && kill -KILL "$CAS_PID" 2>/dev/null; (exit $rc); mbx_cleanup' EXIT
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
post() { # post CMD KEY [curl args]
	local cmd=$1 pk=$2
	shift 2
	curl -s --max-time 120 -u alice:secret -o "$T/reply" -w '%{http_code}' \
		-H "MS-ASProtocolVersion: 14.1" -H "X-MS-PolicyKey: $pk" \
		-H 'Content-Type: application/vnd.ms-sync.wbxml' \
		--data-binary @"$T/body" "$@" \
		"$base?Cmd=$cmd&DeviceId=BENCHPHONE&DeviceType=iPhone&User=alice"
}
field() { "$EASD_BIN/easctl" wbxml decode "$T/reply" | tr -d '\n' |
	sed -n "s|.*<$1>\([^<]*\)</$1>.*|\1|p" | head -n1; }

head -c "$SIZE" /dev/urandom >"$T/att.bin"
{
	printf 'From: bob@example.com\r\nTo: alice@example.org\r\nSubject: ten megabytes\r\n'
	printf 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
	printf -- '--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n'
	printf -- '--b\r\nContent-Type: application/octet-stream; name="big.bin"\r\n'
	printf 'Content-Disposition: attachment; filename="big.bin"\r\n'
	printf 'Content-Transfer-Encoding: base64\r\n\r\n'
	base64 -w 76 "$T/att.bin" | sed 's/$/\r/'
	printf -- '--b--\r\n'
} >"$T/msg.eml"
codes=$("$LMTP_LOAD" send "$LMTP_PORT" bob@example.com alice@example.org <"$T/msg.eml")
[ "$codes" = 250 ] || fail "LMTP: $codes"

printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>' | enc
post Provision 0 >/dev/null
temp=$(field PolicyKey)
printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>%s</PolicyKey><Status>1</Status></Policy></Policies></Provision>' "$temp" | enc
post Provision "$temp" >/dev/null
key=$(field PolicyKey)
printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | enc
post FolderSync "$key" >/dev/null
inbox=$("$EASD_BIN/easctl" wbxml decode "$T/reply" | tr -d '\n' | sed 's/>  */>/g' |
	grep -o '<Add><ServerId>[^<]*</ServerId><ParentId>[^<]*</ParentId><DisplayName>[^<]*</DisplayName><Type>2</Type>' |
	sed -n 's|<Add><ServerId>\([^<]*\)</ServerId>.*|\1|p' | head -n1)
for k in 0 next; do
	[ "$k" = next ] && k=$(field SyncKey)
	printf '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId></Collection></Collections></Sync>' "$k" "$inbox" | enc
	post Sync "$key" >/dev/null
done
ref=$(field airsyncbase:FileReference)
[ -n "$ref" ] || fail "no FileReference"
printf '<ItemOperations xmlns="ItemOperations:" xmlns:airsyncbase="AirSyncBase:"><Fetch><Store>Mailbox</Store><airsyncbase:FileReference>%s</airsyncbase:FileReference></Fetch></ItemOperations>' "$ref" | enc

kb() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$CAS_PID/status"; }
# measure LABEL [curl args]: prints "MB/s growth_kB"
measure() {
	local label=$1 t0 t1 rss hwm
	shift
	post ItemOperations "$key" "$@" >/dev/null # warm-up (first-use allocations)
	rss=$(kb VmRSS)
	echo 5 >"/proc/$CAS_PID/clear_refs" 2>/dev/null || true
	t0=$(date +%s%N)
	[ "$(post ItemOperations "$key" "$@")" = 200 ] || fail "$label fetch"
	t1=$(date +%s%N)
	hwm=$(kb VmHWM)
	awk -v b="$SIZE" -v ns=$((t1 - t0)) -v rss="$rss" -v hwm="$hwm" -v l="$label" \
		'BEGIN { printf "itemoperations fetch 10 MB attachment, %s: %.1f MB/s, CAS peak RSS growth %d kB (%.1f MB; target well under 10 MB)\n", l, b / 1048576 / (ns / 1e9), hwm - rss, (hwm - rss) / 1024 }'
}
measure inline
"$EASD_BIN/easctl" wbxml decode "$T/reply" | tr -d '\n' |
	sed -n 's|.*<Data opaque="base64">\([^<]*\)</Data>.*|\1|p' | base64 -d | cmp -s - "$T/att.bin" ||
	fail "inline bytes differ"
measure multipart -H 'MS-ASAcceptMultiPart: T'
tail -c "$SIZE" "$T/reply" | cmp -s - "$T/att.bin" || fail "multipart bytes differ"
