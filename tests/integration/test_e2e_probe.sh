#!/usr/bin/env bash
# A phone's whole session against the real daemons (issue: the CAS slice):
# easd-mailbox and easd-cas on one host over a Unix socket, a user with a
# few hundred messages delivered over LMTP, then `easctl probe` for the
# protocol versions 12.1, 14.1 and 16.1 — OPTIONS, the two-step Provision,
# FolderSync, Sync of the Inbox to the end of MoreAvailable, a whole-body
# Fetch, and a Ping that returns Status 2 when the probe's own LMTP message
# arrives (Direct Push: the Ping is held first, then woken by the mailbox's
# change event).  Each probe is a new device, so each starts from SyncKey 0
# and must see every message.  Every wait is bounded.
set -euo pipefail
bin=${EASD_BIN:?EASD_BIN is not set (run through make test)}
build=${EASD_BUILD:?EASD_BUILD is not set (run through make test)}
for b in easd-mailbox easd-cas easctl; do
	[ -x "$bin/$b" ] || { echo "FAIL: $b not built"; exit 1; }
done
tmp=$(mktemp -d /tmp/easd-e2e.XXXXXX)
mpid=
cpid=
cleanup() {
	local rc=$?
	for p in $cpid $mpid; do kill -TERM "$p" 2>/dev/null || true; done
	for _ in $(seq 50); do
		kill -0 $cpid $mpid 2>/dev/null || break
		sleep 0.1
	done
	for p in $cpid $mpid; do kill -KILL "$p" 2>/dev/null || true; done
	if [ $rc -ne 0 ]; then
		echo "--- mailbox log"; tail -n 30 "$tmp/mailbox.log" 2>/dev/null || true
		echo "--- cas log"; tail -n 30 "$tmp/cas.log" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# Below the ephemeral port range; the daemon itself reports a bind failure.
lmtp_port=$((20000 + RANDOM % 12000))
cat >"$tmp/easd.conf" <<CONF
[mailbox]
data_dir = $tmp/data
rpc_listen = unix:$tmp/mailbox.sock
lmtp_listen = 127.0.0.1:$lmtp_port
domain = example.org
workers = 2

[cas]
http_listen = 127.0.0.1:0
allow_plain_auth = loopback
mailbox = unix:$tmp/mailbox.sock
CONF
ctl() { timeout 60 "$bin/easctl" --config "$tmp/easd.conf" "$@"; }

"$bin/easd-mailbox" --config "$tmp/easd.conf" >"$tmp/mailbox.log" 2>&1 &
mpid=$!
for _ in $(seq 200); do
	[ -S "$tmp/mailbox.sock" ] && break
	kill -0 "$mpid" || { echo "FAIL: easd-mailbox exited"; exit 1; }
	sleep 0.05
done
[ -S "$tmp/mailbox.sock" ] || { echo "FAIL: no mailbox socket"; exit 1; }
printf 'Secret-123\n' | ctl user add alice --password-stdin >/dev/null

# 300 messages of ~6 KB: three windows of 100 for the initial sync.
"$build/tests/integration/lmtp_load" load "$lmtp_port" alice@example.org \
	4 300 6000 - >"$tmp/load.out"
grep -q "acked 300 " "$tmp/load.out" || {
	echo "FAIL: delivery: $(cat "$tmp/load.out")"; exit 1; }

"$bin/easd-cas" --config "$tmp/easd.conf" 2>"$tmp/cas.log" &
cpid=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.*listening on http:.*(port \([0-9]*\)).*/\1/p' "$tmp/cas.log")
	[ -n "$port" ] && break
	kill -0 "$cpid" || { echo "FAIL: easd-cas exited"; exit 1; }
	sleep 0.1
done
[ -n "$port" ] || { echo "FAIL: no CAS port"; exit 1; }

expected=300
for v in 12.1 14.1 16.1; do
	echo "== probe, protocol $v"
	printf 'Secret-123\n' | timeout 200 "$bin/easctl" probe \
		"http://127.0.0.1:$port" alice --password-stdin --protocol "$v" \
		--lmtp "127.0.0.1:$lmtp_port" | tee "$tmp/probe-$v.out"
	grep -q "^probe passed" "$tmp/probe-$v.out" ||
		{ echo "FAIL: probe $v"; exit 1; }
	# A new device sees every message, the earlier probes' ones included.
	grep -q "ok   Sync .* $expected items in" "$tmp/probe-$v.out" ||
		{ echo "FAIL: probe $v did not sync $expected items"; exit 1; }
	expected=$((expected + 1))
done
echo "e2e probe: passed for 12.1, 14.1 and 16.1"
