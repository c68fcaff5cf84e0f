#!/usr/bin/env bash
# easd-cas as a process wired to a mailbox over the RPC (cas/main.c's
# mailbox client and verifier), with the fake mailbox process standing in
# for easd-mailbox: a wrong password is 401, FolderSync before Provision is
# Status 142, the two-step Provision gives a final key that opens
# FolderSync, a 12.1 client without a key gets 449, and the daemon exits
# 0 on SIGTERM.  Bodies are built and read with `easctl wbxml`.  Every wait
# is bounded.
set -euo pipefail
cas=${EASD_BIN:?}/easd-cas
easctl=${EASD_BIN:?}/easctl
helper=${EASD_BUILD:?}/tests/integration/fake_mailbox_server
tmp=$(mktemp -d)
pid=
hpid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
	exec 3>&- 2>/dev/null || true
	if [ -n "$hpid" ]; then
		for _ in $(seq 50); do kill -0 "$hpid" 2>/dev/null || break; sleep 0.1; done
		kill "$hpid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

mkfifo "$tmp/in"
"$helper" <"$tmp/in" >"$tmp/addr" &
hpid=$!
exec 3>"$tmp/in"
addr=
for _ in $(seq 100); do
	addr=$(head -n1 "$tmp/addr" 2>/dev/null || true)
	[ -n "$addr" ] && break
	sleep 0.1
done
[ -n "$addr" ] || { echo "fake mailbox did not start"; exit 1; }

cat >"$tmp/easd.conf" <<CONF
[cas]
http_listen = 127.0.0.1:0
allow_plain_auth = loopback
mailbox = $addr
log_level = debug
CONF
"$cas" --config "$tmp/easd.conf" 2>"$tmp/log" &
pid=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.*listening on http:.*(port \([0-9]*\)).*/\1/p' "$tmp/log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/log"; echo "no port"; exit 1; }
base="http://127.0.0.1:$port/Microsoft-Server-ActiveSync"
q="DeviceId=INTEGRATION1&DeviceType=TestPhone&User=alice"

wbxml() { "$easctl" wbxml encode >"$tmp/body"; }
# post CMD VERSION KEY USERPWD: body from $tmp/body, reply in $tmp/reply
post() {
	local key=()
	[ -n "$3" ] && key=(-H "X-MS-PolicyKey: $3")
	curl -s --max-time 10 -u "$4" -o "$tmp/reply" -w '%{http_code}' \
		-H "MS-ASProtocolVersion: $2" "${key[@]}" \
		-H 'Content-Type: application/vnd.ms-sync.wbxml' \
		--data-binary @"$tmp/body" "$base?Cmd=$1&$q"
}
decoded() { "$easctl" wbxml decode "$tmp/reply"; }
# The text of the first <NAME> in the decoded reply.
field() { decoded | tr -d '\n ' | sed -n "s|.*<$1>\([^<]*\)</$1>.*|\1|p" | head -n1; }

printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | wbxml
[ "$(post FolderSync 14.1 0 alice:wrong)" = 401 ]
[ "$(post FolderSync 14.1 0 alice:secret)" = 200 ]
[ "$(field Status)" = 142 ] || { decoded; exit 1; }
[ "$(post FolderSync 12.1 0 alice:secret)" = 449 ]

printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>' | wbxml
[ "$(post Provision 14.1 0 alice:secret)" = 200 ]
decoded | grep -q '<EASProvisionDoc>' || { decoded; exit 1; }
temp=$(field PolicyKey)
[ -n "$temp" ]
printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>%s</PolicyKey><Status>1</Status></Policy></Policies></Provision>' "$temp" | wbxml
[ "$(post Provision 14.1 "$temp" alice:secret)" = 200 ]
final=$(field PolicyKey)
[ -n "$final" ] && [ "$final" != "$temp" ]

printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | wbxml
[ "$(post FolderSync 14.1 "$final" alice:secret)" = 200 ]
[ "$(field Status)" = 1 ] || { decoded; exit 1; }
decoded | grep -q '<DisplayName>Inbox</DisplayName>'
# Garbage instead of WBXML: the command's protocol error, daemon alive.
printf '\x03\x01\x6a\x00\x00\x07\x56\x52' >"$tmp/body"
[ "$(post FolderSync 14.1 "$final" alice:secret)" = 200 ]
[ "$(field Status)" = 10 ]

kill "$pid"
rc=0
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || { cat "$tmp/log"; echo "exit $rc"; exit 1; }
echo ok
