#!/usr/bin/env bash
# easd-mailbox end to end: start the daemon, manage users with easctl,
# deliver over LMTP (several recipients, an unknown one gets 550, a
# +detail address), list folders with counts, import an mbox and a
# maildir, stats, change a password, delete a user, and stop cleanly on
# SIGTERM.
. "$(dirname "$0")/mailbox_lib.sh"

write_conf
start_mailbox

printf 'secret1\n' | ctl user add alice --address alice.smith@example.net \
	--password-stdin >/dev/null
ctl user add bob >/dev/null
ctl user add carol >/dev/null
out=$(ctl user list)
echo "$out"
[ "$(echo "$out" | wc -l)" -eq 3 ] || fail "user list: $out"
echo "$out" | grep -q 'alice.smith@example.net' || fail "alias missing"
echo "$out" | grep -q 'bob@example.org' || fail "default address missing"
printf 'x\n' | ctl user add alice --password-stdin 2>/dev/null &&
	fail "duplicate user accepted"

msg=$'From: sender@example.com\r\nTo: alice@example.org\r\nSubject: hello\r\nMessage-ID: <m1@test>\r\n\r\nHi there.\r\n'
codes=$(printf '%s' "$msg" | "$LMTP_LOAD" send "$LMTP_PORT" sender@example.com \
	alice.smith@example.net bob nobody@example.org carol@EXAMPLE.org)
echo "$codes"
[ "$codes" = $'250\n250\n550\n250' ] || fail "LMTP replies: $codes"

# +detail: into the folder of that name when it exists, else the Inbox.
codes=$(printf '%s' "$msg" | "$LMTP_LOAD" send "$LMTP_PORT" s@x bob+nosuch@example.org)
[ "$codes" = "250" ] || fail "+detail: $codes"

inbox_count() { ctl folder list "$1" | awk '$6 == "Inbox" {print $4}'; }
[ "$(inbox_count alice)" = 1 ] || fail "alice inbox"
[ "$(inbox_count bob)" = 2 ] || fail "bob inbox"
ctl folder list carol
[ "$(ctl folder list carol | grep -c .)" -ge 11 ] || fail "default folders"
ctl folder list nobody 2>/dev/null && fail "folder list of unknown user"

# Import: an mbox of two messages (one with a quoted From line) and a
# maildir with a read message.
printf 'From a@b Sat Jan  1 00:00:00 2000\nSubject: one\nMessage-ID: <i1@test>\n\n>From the start\n\nFrom a@b Sat Jan  1 00:00:00 2000\nSubject: two\nMessage-ID: <i2@test>\n\nbody\n' >"$T/box.mbox"
ctl import carol mbox "$T/box.mbox"
mkdir -p "$T/md/cur" "$T/md/new" "$T/md/tmp"
printf 'Subject: three\nMessage-ID: <i3@test>\n\nx\n' >"$T/md/cur/1.host:2,S"
printf 'Subject: four\nMessage-ID: <i4@test>\n\nx\n' >"$T/md/new/2.host"
ctl import carol maildir "$T/md"
line=$(ctl folder list carol | awk '$6 == "Inbox"')
echo "$line"
# m1 and the four imported; the maildir S message is read.
[ "$(echo "$line" | awk '{print $4 "/" $5}')" = 5/4 ] || fail "carol after import: $line"
db=$(user_db carol)
[ "$(message_ids "$db" | sort | tr '\n' ' ')" = "i1@test i2@test i3@test i4@test m1@test " ] ||
	fail "imported ids: $(message_ids "$db")"
sqlite3 "$db" "SELECT CAST(mime AS TEXT) FROM items" | grep -q '^From the start' ||
	fail "mboxrd >From not unquoted"

stats=$(ctl stats)
echo "$stats"
echo "$stats" | grep -qx 'users 3' || fail "stats users"
echo "$stats" | grep -qx 'messages 8' || fail "stats messages"

# Passwords: the RPC check itself is covered by test_rpc_server; here
# the command must work and refuse an empty password.
printf 'newpass\n' | ctl user passwd alice --password-stdin >/dev/null ||
	fail "passwd"
printf '\n' | ctl user passwd alice --password-stdin 2>/dev/null &&
	fail "empty password accepted"

ctl user del bob >/dev/null
ctl user list | grep -q bob && fail "bob still listed"
codes=$(printf '%s' "$msg" | "$LMTP_LOAD" send "$LMTP_PORT" s@x bob@example.org)
[ "$codes" = 550 ] || fail "deleted user still receives: $codes"
[ -z "$(find "$T/data/users" -name '2.db')" ] || fail "bob's store kept"

stop_mailbox
grep -q 'stopping' "$T/mailbox.log" || fail "no clean stop"
# Restart: data survived, integrity ok.
start_mailbox
[ "$(inbox_count alice)" = 1 ] || fail "alice inbox after restart"
stop_mailbox
for db in "$T"/data/directory.db "$T"/data/users/*/*.db; do
	[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "integrity $db"
done
echo "ok"
