#!/usr/bin/env bash
# easctl device and policy subcommands against the fake mailbox process
# (tests/integration/fake_mailbox_server.c): listing, access changes,
# wipes (account-only where the device speaks 16.1, refused for 12.1),
# cancelling, policies (set with range checks, show, list, assign), and
# the exit codes 0 (done), 1 (failed), 2 (usage).  Every wait is bounded.
set -euo pipefail
easctl=${EASD_BIN:?}/easctl
helper=${EASD_BUILD:?}/tests/integration/fake_mailbox_server
tmp=$(mktemp -d)
pid=
cleanup() {
	exec 3>&- 2>/dev/null || true
	if [ -n "$pid" ]; then
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

mkfifo "$tmp/in"
"$helper" <"$tmp/in" >"$tmp/addr" &
pid=$!
exec 3>"$tmp/in"
addr=
for _ in $(seq 100); do
	addr=$(head -n1 "$tmp/addr" 2>/dev/null || true)
	[ -n "$addr" ] && break
	sleep 0.1
done
[ -n "$addr" ] || { echo "fake mailbox did not start"; exit 1; }
printf '[easctl]\nmailbox = %s\n' "$addr" >"$tmp/easd.conf"
ctl() { timeout 20 "$easctl" --config "$tmp/easd.conf" "$@"; }
# expect CODE CMD...: run, check the exit code, keep output in $tmp/out
expect() {
	local want=$1 rc=0
	shift
	ctl "$@" >"$tmp/out" 2>&1 || rc=$?
	if [ "$rc" != "$want" ]; then
		echo "easctl $*: exit $rc, wanted $want"; cat "$tmp/out"; exit 1
	fi
}
has() { grep -q -- "$1" "$tmp/out" || { echo "missing '$1' in:"; cat "$tmp/out"; exit 1; }; }

expect 0 device list alice
has IPHONE161; has ANDROID121; has iPhone; has allowed
expect 0 device list
has alice

expect 0 device block alice IPHONE161
expect 0 device list alice
grep IPHONE161 "$tmp/out" | grep -q blocked
expect 0 device quarantine alice IPHONE161
expect 0 device allow alice IPHONE161
expect 1 device block alice NOSUCHDEVICE
has "no such device"

# A 16.1 device gets the account-only wipe by default.
expect 0 device wipe alice IPHONE161
has account-only
expect 0 device list alice
grep IPHONE161 "$tmp/out" | grep -q account-wipe-pending
expect 0 device cancel-wipe alice IPHONE161
expect 1 device cancel-wipe alice IPHONE161
has "no wipe pending"
# A 12.1 device cannot do account-only: refused, or a full wipe.
expect 1 device wipe alice ANDROID121 --account-only
expect 0 device wipe alice ANDROID121
has "full wipe"
expect 1 device wipe bob ANDROID121
has "no such user"
expect 2 device wipe alice ANDROID121 --everything
expect 2 device frobnicate
expect 2 device

expect 0 policy set strict DevicePasswordEnabled=1 MinDevicePasswordLength=6
expect 0 policy show strict
has "MinDevicePasswordLength=6"; has "DevicePasswordEnabled=1"
expect 0 policy set strict allowcamera=0
expect 0 policy show strict
has "AllowCamera=0"; has "MinDevicePasswordLength=6"
expect 2 policy set strict MinDevicePasswordLength=999
has MinDevicePasswordLength
expect 2 policy set strict NoSuchSetting=1
expect 1 policy show nope
has "no such policy"
expect 0 policy assign alice strict
expect 0 policy list
grep -E '^strict +1$' "$tmp/out" >/dev/null || { cat "$tmp/out"; exit 1; }
expect 1 policy assign alice nope
expect 1 policy assign bob strict
expect 0 policy assign alice default
expect 2 policy

# An unreachable mailbox is a readable failure.
printf '[easctl]\nmailbox = unix:%s/none.sock\n' "$tmp" >"$tmp/bad.conf"
rc=0
timeout 20 "$easctl" --config "$tmp/bad.conf" device list >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 1 ] || { echo "exit $rc"; cat "$tmp/out"; exit 1; }
has "cannot reach the mailbox"
echo ok
