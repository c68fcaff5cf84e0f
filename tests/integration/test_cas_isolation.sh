#!/usr/bin/env bash
# Cross-user isolation through HTTP (architecture invariant 6, the
# reliability test "user B replays A's ids"): the real easd-mailbox and
# easd-cas on loopback, users alice and bob.  Alice has a phone, a folder
# of her own and three messages, one of them read.  Bob, with his own
# credentials, names alice's folder id, item ids and device id in Sync
# (Change, Delete, Fetch, and as the collection), GetItemEstimate, Ping,
# FolderUpdate and FolderDelete, and sends User=alice in the query: each
# gets the protocol's "not found" status (Sync 8 per command or 12 for the
# collection, GetItemEstimate 2, Ping 7, FolderUpdate/FolderDelete 4) and
# nothing of alice's is returned or changed (checked with alice's own Sync
# and `easctl folder list`).  Then the edge: malformed WBXML, an unknown
# command, a path character in the DeviceId, a body over max_body_bytes:
# a protocol status or a 4xx, and both daemons stay up.  Bounded waits.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
source "$top/tests/integration/mailbox_lib.sh"
source "$top/tests/integration/cas_lib.sh"
[ -x "$EASD_BIN/easd-mailbox" ] || fail "easd-mailbox not built"

write_conf "[cas]" "http_listen = 127.0.0.1:0" "allow_plain_auth = loopback" \
	"mailbox = unix:$T/mailbox.sock" "log_level = info" \
	"max_body_bytes = 65536"
start_mailbox
printf 'secret\n' | ctl user add alice --password-stdin >/dev/null
printf 'hunter2\n' | ctl user add bob --password-stdin >/dev/null
start_cas
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 # easctl as codec only
B=bob:hunter2

for n in 1 2 3; do
	out=$(printf 'From: carol@example.com\r\nTo: alice@example.org\r\nSubject: private %s\r\nMessage-ID: <iso%s@e2e>\r\n\r\nfor alice only\r\n' "$n" "$n" |
		"$LMTP_LOAD" send "$LMTP_PORT" carol@example.com alice@example.org)
	[ "$out" = 250 ] || fail "LMTP $out"
done

# Alice: phone, Inbox, a folder of her own, her three items, one read.
akey=$(provision APHONE)
ainbox=$(inbox_of "$akey" APHONE)
[ -n "$ainbox" ] || fail "alice: no Inbox"
printf '<FolderCreate xmlns="FolderHierarchy:"><SyncKey>1</SyncKey><ParentId>0</ParentId><DisplayName>Secret</DisplayName><Type>12</Type></FolderCreate>' | enc
[ "$(post FolderCreate "$akey" APHONE)" = 200 ] || fail "alice FolderCreate"
[ "$(field Status)" = 1 ] || { xml; fail "alice FolderCreate status"; }
afolder=$(field ServerId)
async() { # async KEY [COMMANDS]: alice's Inbox Sync
	printf '<Sync xmlns="AirSync:" xmlns:email="Email:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId><WindowSize>100</WindowSize><Options><FilterType>0</FilterType></Options>%s</Collection></Collections></Sync>' \
		"$1" "$ainbox" "${2:+<Commands>$2</Commands>}" | enc
	[ "$(post Sync "$akey" APHONE)" = 200 ] || fail "alice Sync"
	[ "$(field Status)" = 1 ] || { xml; fail "alice Sync status"; }
}
async 0
ak=$(field SyncKey)
async "$ak"
ak=$(field SyncKey)
mapfile -t aitems < <(xml | grep -o '<Add><ServerId>[^<]*</ServerId>' | sed 's|<Add><ServerId>\(.*\)</ServerId>|\1|')
[ ${#aitems[@]} = 3 ] || { xml; fail "alice sees ${#aitems[@]} items"; }
async "$ak" "<Change><ServerId>${aitems[0]}</ServerId><ApplicationData><email:Read>1</email:Read></ApplicationData></Change>"
ak=$(field SyncKey)
snapshot() { ctl folder list alice | awk '{print $1, $2, $3, $4, $5}'; }
snapshot >"$T/alice.before"

# Bob: his own phone; then alice's ids.
bkey=$(provision BPHONE "$B")
binbox=$(inbox_of "$bkey" BPHONE "$B")
[ -n "$binbox" ] || fail "bob: no Inbox"
printf '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>0</SyncKey><CollectionId>%s</CollectionId></Collection></Collections></Sync>' "$binbox" | enc
[ "$(post Sync "$bkey" BPHONE "$B")" = 200 ] || fail "bob Sync 0"
bk=$(field SyncKey)

# Sync Change / Delete / Fetch of alice's ServerIds in bob's Inbox: each
# answered Status 8 (MS-ASCMD 2.2.3.177.17: object not found).
printf '<Sync xmlns="AirSync:" xmlns:email="Email:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId><DeletesAsMoves>0</DeletesAsMoves><Commands><Change><ServerId>%s</ServerId><ApplicationData><email:Read>1</email:Read></ApplicationData></Change><Delete><ServerId>%s</ServerId></Delete><Fetch><ServerId>%s</ServerId></Fetch></Commands></Collection></Collections></Sync>' \
	"$bk" "$binbox" "${aitems[1]}" "${aitems[2]}" "${aitems[0]}" | enc
[ "$(post Sync "$bkey" BPHONE "$B")" = 200 ] || fail "bob Sync commands"
resp=$(xml | sed -n 's|.*<Responses>\(.*\)</Responses>.*|\1|p')
for op in Change Delete Fetch; do
	printf '%s' "$resp" | grep -q "<$op><ServerId>[^<]*</ServerId><Status>8</Status>" ||
		{ xml; fail "bob's $op of alice's item: no Status 8"; }
done
xml | grep -q 'private' && fail "bob's Fetch returned alice's mail"

# Alice's folder id as bob's collection: Sync, GetItemEstimate, Ping.
for id in "$afolder" "$ainbox-x"; do
	printf '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>0</SyncKey><CollectionId>%s</CollectionId></Collection></Collections></Sync>' "$id" | enc
	[ "$(post Sync "$bkey" BPHONE "$B")" = 200 ] || fail "bob Sync of $id"
	st=$(field Status)
	# MS-ASCMD 2.2.3.177.17: 8 object not found or 12 hierarchy changed.
	case $st in 8 | 12) ;; *) xml; fail "bob Sync of alice's folder $id: Status $st" ;; esac
	echo "bob's Sync of collection $id: Status $st"
	xml | grep -q 'private' && fail "alice's mail in bob's Sync"
done
printf '<GetItemEstimate xmlns="GetItemEstimate:" xmlns:airsync="AirSync:"><Collections><Collection><airsync:SyncKey>%s</airsync:SyncKey><CollectionId>%s</CollectionId></Collection></Collections></GetItemEstimate>' \
	"$ak" "$afolder" | enc
[ "$(post GetItemEstimate "$bkey" BPHONE "$B")" = 200 ] || fail "bob GetItemEstimate"
# MS-ASCMD 2.2.3.177.7 Status 2: a collection that does not exist.
[ "$(field Status)" = 2 ] || { xml; fail "GetItemEstimate of alice's folder"; }
xml | grep -q '<Estimate>' && fail "an estimate of alice's folder"
printf '<Ping xmlns="Ping:"><HeartbeatInterval>60</HeartbeatInterval><Folders><Folder><Id>%s</Id><Class>Email</Class></Folder></Folders></Ping>' "$afolder" | enc
[ "$(post Ping "$bkey" BPHONE "$B")" = 200 ] || fail "bob Ping"
# MS-ASCMD 2.2.3.177.13 Status 7: the folder hierarchy is out of date.
[ "$(field Status)" = 7 ] || { xml; fail "Ping of alice's folder"; }

# FolderUpdate and FolderDelete of alice's folder: Status 4 (MS-ASCMD
# 2.2.3.177.5 / .3: the folder does not exist).
printf '<FolderUpdate xmlns="FolderHierarchy:"><SyncKey>1</SyncKey><ServerId>%s</ServerId><ParentId>0</ParentId><DisplayName>Owned</DisplayName></FolderUpdate>' "$afolder" | enc
[ "$(post FolderUpdate "$bkey" BPHONE "$B")" = 200 ] || fail "bob FolderUpdate"
[ "$(field Status)" = 4 ] || { xml; fail "FolderUpdate of alice's folder"; }
printf '<FolderDelete xmlns="FolderHierarchy:"><SyncKey>1</SyncKey><ServerId>%s</ServerId></FolderDelete>' "$afolder" | enc
[ "$(post FolderDelete "$bkey" BPHONE "$B")" = 200 ] || fail "bob FolderDelete"
[ "$(field Status)" = 4 ] || { xml; fail "FolderDelete of alice's folder"; }

# Alice's DeviceId with alice's policy key under bob's credentials: bob
# has no such partnership (MS-ASPROV 14.0+: Status 142, not provisioned).
printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | enc
code=$(post FolderSync "$akey" APHONE "$B")
if [ "$code" = 200 ]; then
	[ "$(field Status)" = 142 ] || { xml; fail "bob used alice's device and key"; }
else
	fail "bob with alice's device: HTTP $code"
fi
# Bob provisions the same DeviceId: a partnership of his own, and alice's
# key and sync state stay valid.
bkey2=$(provision APHONE "$B")
[ -n "$bkey2" ] || fail "bob could not provision APHONE"
# User=alice in the query with bob's credentials: bob's own data only.
printf '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>0</SyncKey><CollectionId>%s</CollectionId></Collection></Collections></Sync>' "$binbox" | enc
code=$(curl -s --max-time 15 -u "$B" -o "$T/reply" -w '%{http_code}' \
	-H "MS-ASProtocolVersion: 14.1" -H "X-MS-PolicyKey: $bkey" \
	-H 'Content-Type: application/vnd.ms-sync.wbxml' --data-binary @"$T/body" \
	"$CAS_BASE?Cmd=Sync&DeviceId=BPHONE&DeviceType=TestPhone&User=alice")
rm -f "$T/reply.xml"
echo "User=alice with bob's credentials: HTTP $code"
case $code in
200) xml | grep -q 'private' && fail "User=alice gave bob alice's mail" ;;
4??) ;;
*) fail "User=alice: HTTP $code" ;;
esac

# Alice's mailbox is as it was: same counts, her key and items intact,
# the read flag hers alone.
snapshot >"$T/alice.after"
cmp -s "$T/alice.before" "$T/alice.after" ||
	{ diff "$T/alice.before" "$T/alice.after"; fail "alice's folders changed"; }
async "$ak"
[ "$(xml | grep -c '<Commands>')" = 0 ] || { xml; fail "alice sees changes bob made"; }
akey_v=$(provision AVERIFY)
printf '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>0</SyncKey><CollectionId>%s</CollectionId></Collection></Collections></Sync>' "$ainbox" | enc
[ "$(post Sync "$akey_v" AVERIFY)" = 200 ] || fail "verifier Sync 0"
vk=$(field SyncKey)
printf '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId><Options><FilterType>0</FilterType></Options></Collection></Collections></Sync>' "$vk" "$ainbox" | enc
[ "$(post Sync "$akey_v" AVERIFY)" = 200 ] || fail "verifier Sync"
[ "$(xml | grep -o '<Add>' | wc -l)" = 3 ] || { xml; fail "alice lost items"; }
[ "$(xml | grep -o 'Read>1<' | wc -l)" = 1 ] || { xml; fail "alice's read flags changed"; }
printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | enc
[ "$(post FolderSync "$akey_v" AVERIFY)" = 200 ] || fail "verifier FolderSync"
xml | grep -q '<DisplayName>Secret</DisplayName>' || fail "alice's folder renamed or gone"

# The edge: bad input gets a status or a 4xx, and the daemons stay up.
printf '\x03\x01\x6a\x00\x45\x5c\x4f\x4b\x03' >"$T/body" # truncated WBXML
[ "$(post Sync "$bkey" BPHONE "$B")" = 200 ] || fail "truncated WBXML: HTTP"
[ "$(field Status)" = 4 ] || { xml; fail "truncated WBXML: Status"; }
head -c 300 /dev/urandom >"$T/body"
code=$(post FolderSync "$bkey" BPHONE "$B")
case $code in 200 | 400) ;; *) fail "random bytes: HTTP $code" ;; esac
printf '<Sync xmlns="AirSync:"/>' | enc
code=$(post NoSuchCommand "$bkey" BPHONE "$B")
[ "$code" = 400 ] || [ "$code" = 501 ] || fail "unknown command: HTTP $code"
code=$(post Sync "$bkey" '..%2Fetc' "$B")
[ "${code:0:1}" = 4 ] || fail "DeviceId with a path: HTTP $code"
head -c 70000 /dev/zero >"$T/body"
[ "$(post Sync "$bkey" BPHONE "$B")" = 413 ] || fail "body over max_body_bytes"
cas_alive
# Still serving: bob's Inbox Sync with his key works.
printf '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId></Collection></Collections></Sync>' "$bk" "$binbox" | enc
[ "$(post Sync "$bkey" BPHONE "$B")" = 200 ] || fail "after the edge cases"
echo ok
