#!/usr/bin/env bash
# Lost Sync responses through the real CAS (reliability G4/G6, invariant 2):
# easd-mailbox and easd-cas on loopback, a 14.1 client that syncs the Inbox
# in windows of 3 for a bounded number of rounds while mail arrives over
# LMTP between rounds and the client sends Read changes and Deletes in some
# rounds.  30% of the Sync responses are lost: the client reads and
# discards them, then resends the very same request (same body, so the
# PREVIOUS SyncKey and the same client commands).  Losses are drawn from a
# fixed-seed generator, so every run is the same run.  Checked on every
# accepted response: Status 1, no Add for a ServerId the client already
# holds.  At the end (after draining MoreAvailable) the client's view
# equals the folder: the same ServerIds as a fresh device's full Sync, the
# item and unread counts of `easctl folder list`, the client's Read flags
# as the fresh device sees them, deleted items gone.  No restarts (the
# ApplyChanges-across-restart case belongs to the mailbox's own tests).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
source "$top/tests/integration/mailbox_lib.sh"
[ -x "$EASD_BIN/easd-mailbox" ] || fail "easd-mailbox not built"
CAS_PID=
trap 'rc=$?; [ -n "$CAS_PID" ] && kill -KILL "$CAS_PID" 2>/dev/null; if [ $rc -ne 0 ]; then echo "--- cas log"; tail -n 30 "$T/cas.log" 2>/dev/null || true; fi; (exit $rc); mbx_cleanup' EXIT

ROUNDS=30     # bounded; the drain afterwards is bounded too
DROP_PCT=30   # share of Sync responses lost
MAX_TRIES=8   # resends of one request (0.3^8: never reached in practice)
seed=20261127 # fixed: the same losses on every run

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
# From here on easctl runs only as the WBXML encoder and decoder, about a
# hundred times: its leak check at exit is the slow part and not what this
# test is about (the daemons, started above, keep theirs).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

# A deterministic generator (the C library's LCG constants); never run in
# a subshell, so the sequence is the script's alone.
rnd=$seed
next_rand() { rnd=$(((rnd * 1103515245 + 12345) % 2147483648)); R=$((rnd / 65536 % 100)); }

enc() { "$EASD_BIN/easctl" wbxml encode >"$T/body"; }
post() { # post CMD POLICYKEY DEVICE: body $T/body, reply $T/reply
	rm -f "$T/reply.xml"
	curl -s --max-time 15 -u alice:secret -o "$T/reply" -w '%{http_code}' \
		-H "MS-ASProtocolVersion: 14.1" -H "X-MS-PolicyKey: $2" \
		-H 'Content-Type: application/vnd.ms-sync.wbxml' \
		--data-binary @"$T/body" \
		"$base?Cmd=$1&DeviceId=$3&DeviceType=TestPhone&User=alice"
}
xml() {
	[ -f "$T/reply.xml" ] || "$EASD_BIN/easctl" wbxml decode "$T/reply" |
		tr -d '\n' | sed 's/>  */>/g' >"$T/reply.xml"
	cat "$T/reply.xml"
}
field() { xml | sed -n "s|.*<$1>\([^<]*\)</$1>.*|\1|p" | head -n1; }

delivered=0
deliver() { # deliver N: N messages in one LMTP session
	local out
	[ "$1" -gt 0 ] || return 0
	out=$("$LMTP_LOAD" load "$LMTP_PORT" alice@example.org 1 "$1" 300 -)
	case $out in "acked $1 failed 0 "*) ;; *) fail "LMTP: $out" ;; esac
	delivered=$((delivered + $1))
}

provision() { # provision DEVICE: prints the final policy key
	printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>' | enc
	[ "$(post Provision 0 "$1")" = 200 ] || fail "Provision $1"
	local temp
	temp=$(field PolicyKey)
	printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>%s</PolicyKey><Status>1</Status></Policy></Policies></Provision>' "$temp" | enc
	[ "$(post Provision "$temp" "$1")" = 200 ] || fail "Provision ack $1"
	field PolicyKey
}

key=$(provision LOSSY)
printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | enc
[ "$(post FolderSync "$key" LOSSY)" = 200 ] || fail "FolderSync"
inbox=$(xml | grep -o '<Add><ServerId>[^<]*</ServerId><ParentId>[^<]*</ParentId><DisplayName>[^<]*</DisplayName><Type>2</Type>' |
	sed -n 's|<Add><ServerId>\([^<]*\)</ServerId>.*|\1|p' | head -n1)
[ -n "$inbox" ] || fail "no Inbox in FolderSync"

# The client's view: ServerId -> read flag (0/1).
declare -A held=()
declare -A marked_read=()
deleted=0 dropped=0 sent=0 adds=0

# apply_reply: fold an accepted Sync response into the view.
apply_reply() {
	local st cmds id
	st=$(xml | sed -n 's|.*<Collection>.*<Status>\([0-9]*\)</Status>.*|\1|p' | head -n1)
	[ "$(field Status)" = 1 ] || { xml; fail "Sync status $(field Status) (${st:-none})"; }
	synckey=$(field SyncKey)
	[ -n "$synckey" ] || { xml; fail "no SyncKey"; }
	more=0
	xml | grep -q '<MoreAvailable/>' && more=1
	# Server commands only (Responses may name ServerIds too).
	cmds=$(xml | sed -n 's|.*<Commands>\(.*\)</Commands>.*|\1|p')
	for id in $(printf '%s' "$cmds" | grep -o '<Add><ServerId>[^<]*</ServerId>' |
		sed 's|<Add><ServerId>\(.*\)</ServerId>|\1|'); do
		[ -z "${held[$id]+x}" ] || fail "duplicate Add of $id (held already)"
		held[$id]=0
		adds=$((adds + 1))
	done
	for id in $(printf '%s' "$cmds" | grep -oE '<(Delete|SoftDelete)><ServerId>[^<]*</ServerId>' |
		sed -E 's|<[A-Za-z]*><ServerId>(.*)</ServerId>|\1|'); do
		unset "held[$id]"
	done
}

# sync_round COMMANDS: one request, resent while its response is lost.
sync_round() {
	local tries=0 cmd=
	[ -n "$1" ] && cmd="<Commands>$1</Commands>"
	printf '<Sync xmlns="AirSync:" xmlns:email="Email:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId><DeletesAsMoves>1</DeletesAsMoves><GetChanges>1</GetChanges><WindowSize>3</WindowSize><Options><FilterType>0</FilterType></Options>%s</Collection></Collections></Sync>' \
		"$synckey" "$inbox" "$cmd" | enc
	while :; do
		tries=$((tries + 1))
		[ $tries -le $MAX_TRIES ] || fail "$MAX_TRIES responses in a row lost"
		sent=$((sent + 1))
		[ "$(post Sync "$key" LOSSY)" = 200 ] || fail "Sync HTTP"
		next_rand
		if [ $R -lt $DROP_PCT ]; then
			dropped=$((dropped + 1)) # read, then thrown away
			continue
		fi
		echo "round ${round:-0} key $synckey cmd '$1': $(xml)" >>"$T/trace"
		apply_reply
		return 0
	done
}

# SyncKey 0: no Commands (MS-ASCMD 2.2.3.166.4); its loss is fine too.
synckey=0
printf '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>0</SyncKey><CollectionId>%s</CollectionId></Collection></Collections></Sync>' "$inbox" | enc
[ "$(post Sync "$key" LOSSY)" = 200 ] || fail "Sync 0"
synckey=$(field SyncKey)
deliver 5

for round in $(seq 1 $ROUNDS); do
	# Mail between rounds: 0-2 messages.
	next_rand
	deliver $((R % 3))
	# Client changes in some rounds, on items it holds.
	commands=
	ids=("${!held[@]}")
	if [ ${#ids[@]} -gt 0 ]; then
		next_rand
		pick=${ids[$((R % ${#ids[@]}))]}
		if [ $((round % 4)) = 1 ] && [ "${held[$pick]}" = 0 ]; then
			commands="<Change><ServerId>$pick</ServerId><ApplicationData><email:Read>1</email:Read></ApplicationData></Change>"
			held[$pick]=1
			marked_read[$pick]=1
		elif [ $((round % 6)) = 3 ]; then
			commands="<Delete><ServerId>$pick</ServerId></Delete>"
			unset "held[$pick]"
			unset "marked_read[$pick]"
			deleted=$((deleted + 1))
		fi
	fi
	sync_round "$commands"
done
# Drain what is left (bounded: each window takes 3).
for _ in $(seq 1 $((delivered / 3 + 5))); do
	[ $more = 1 ] || break
	sync_round ""
done
sync_round ""
[ $more = 0 ] || fail "MoreAvailable after the drain"
[ $dropped -gt 0 ] || fail "no response was dropped: the test tested nothing"

# The folder as a fresh device sees it, without losses.
key2=$(provision VERIFIER)
printf '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>0</SyncKey><CollectionId>%s</CollectionId></Collection></Collections></Sync>' "$inbox" | enc
[ "$(post Sync "$key2" VERIFIER)" = 200 ] || fail "verifier Sync 0"
k=$(field SyncKey)
printf '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId><WindowSize>512</WindowSize><Options><FilterType>0</FilterType></Options></Collection></Collections></Sync>' "$k" "$inbox" | enc
[ "$(post Sync "$key2" VERIFIER)" = 200 ] || fail "verifier Sync"
xml | grep -q '<MoreAvailable/>' && fail "verifier: MoreAvailable"
xml | sed 's/<Add>/\n<Add>/g' | grep '^<Add>' >"$T/verifier" || true
sed -n 's|^<Add><ServerId>\([^<]*\)</ServerId>.*|\1|p' "$T/verifier" | sort >"$T/server_ids"
printf '%s\n' "${!held[@]}" | sed '/^$/d' | sort >"$T/client_ids"
if ! cmp -s "$T/server_ids" "$T/client_ids"; then
	echo "client only:"; comm -13 "$T/server_ids" "$T/client_ids"
	echo "server only:"; comm -23 "$T/server_ids" "$T/client_ids"
	[ -n "${TRACE:-}" ] && cp "$T/trace" "$TRACE"
	fail "the client's view differs from the folder"
fi
# Read flags the client set are on the server.
for id in "${!marked_read[@]}"; do
	grep "^<Add><ServerId>$id</ServerId>" "$T/verifier" | grep -q 'Read>1</' ||
		fail "Read flag of $id lost"
done
# The store's own counts (easctl folder list: id parent type items unread).
read -r items unread < <(ctl folder list alice | awk -v id="$inbox" '$1 == id {print $4, $5}')
expect=$((delivered - deleted))
[ "$items" = "$expect" ] || fail "Inbox holds $items items, expected $expect"
[ "${#held[@]}" = "$expect" ] || fail "client holds ${#held[@]}, expected $expect"
[ "$unread" = $((expect - ${#marked_read[@]})) ] ||
	fail "unread $unread, expected $((expect - ${#marked_read[@]}))"
echo "lost responses: $sent requests, $dropped responses dropped," \
	"$delivered delivered, $deleted deleted by the client," \
	"${#marked_read[@]} marked read, $adds Adds, 0 lost, 0 duplicated"
echo ok
