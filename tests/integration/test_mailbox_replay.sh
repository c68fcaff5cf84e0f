#!/usr/bin/env bash
# Sync-state durability across a crash (issue 3, reliability.md G3/G4):
# a Sync with client commands (two Adds by ClientId, a Change, a Delete of
# an unknown item) sent as the CAS sends it (ApplyChanges then
# GetChanges) through a real easd-mailbox; its answer is "lost", the
# daemon is killed with SIGKILL and restarted, and the same request again
# gets the same answer byte for byte: same key, same statuses, same
# window, and no second change.  The two Adds are Email Adds outside
# Drafts, which the mailbox refuses (the CAS's Sync Status 6; only 16.0
# drafts may be added): their refusal must replay too.  Adds that succeed
# are replayed by ClientId in tests/unit/mailbox/test_sync.c and, for
# drafts, in test_e2e_drafts.sh.  Then the
# per-device hierarchy tracking: a folder created by device A is reported
# to B's PingCheck, not to A's, until B runs FolderSync; it survives a
# restart too.
. "$(dirname "$0")/mailbox_lib.sh"

SC="$EASD_BUILD/tests/integration/sync_client"
SOCK="$T/mailbox.sock"
write_conf
start_mailbox
ctl user add erin >/dev/null
uid=$(ctl user list | awk '$2 == "erin" {print $1}')
[ -n "$uid" ] || fail "no user id"
sc() { "$SC" "$SOCK" "$uid" "$@"; }

# Three messages, a device that holds them, then two more it has not seen.
msg() {
	printf 'From: a@example.org\r\nTo: erin@example.org\r\nSubject: %s\r\nMessage-ID: <%s@test>\r\n\r\nhello\r\n' "$1" "$1"
}
for i in 1 2 3; do
	[ "$(msg "m$i" | "$LMTP_LOAD" send "$LMTP_PORT" a@example.org erin@example.org)" = 250 ] || fail "delivery m$i"
done
inbox=$(sc PHONE inbox)
[ -n "$inbox" ] || fail "no inbox"
key=$(sc PHONE drain "$inbox")
first=$(sqlite3 "$(user_db erin)" "SELECT min(id) FROM items")
for i in 4 5; do
	[ "$(msg "m$i" | "$LMTP_LOAD" send "$LMTP_PORT" a@example.org erin@example.org)" = 250 ] || fail "delivery m$i"
done

sc PHONE sync "$inbox" "$key" "$first" >"$T/reply1"
cat "$T/reply1"
grep -q "^result op 1 status 4 client c-1 " "$T/reply1" || fail "Email Add c-1 outside Drafts not refused"
grep -q "^result op 2 status 1 " "$T/reply1" || fail "Change not applied"
grep -q "^result op 3 status 2 " "$T/reply1" || fail "unknown Delete not 'not found'"
[ "$(grep -c '^change op 1 ' "$T/reply1")" -eq 2 ] || fail "window lacks the 2 new messages"
count1=$(sqlite3 "$(user_db erin)" "SELECT count(*) FROM items")

kill9_mailbox
start_mailbox
sc PHONE sync "$inbox" "$key" "$first" >"$T/reply2"
diff -u "$T/reply1" "$T/reply2" || fail "the retried Sync got another answer"
count2=$(sqlite3 "$(user_db erin)" "SELECT count(*) FROM items")
[ "$count1" -eq "$count2" ] || fail "items $count1 -> $count2: commands applied twice"
# The device moves on with the key it finally got.
next=$(awk '/^key / {print $2}' "$T/reply2")
sc PHONE drain "$inbox" >/dev/null
[ "$next" -gt "$key" ] || fail "no new key"

# Hierarchy: A and B are synced; A creates a folder.
ka=$(sc DEVA foldersync 0 | cut -d' ' -f1)
kb=$(sc DEVB foldersync 0 | cut -d' ' -f1)
[ "$(sc DEVA pingcheck "$inbox")" = "hierarchy_changed 0" ] || fail "A changed before"
[ "$(sc DEVB pingcheck "$inbox")" = "hierarchy_changed 0" ] || fail "B changed before"
ka=$(sc DEVA foldercreate "$ka" Projects)
[ "$(sc DEVB pingcheck "$inbox")" = "hierarchy_changed 1" ] || fail "B not told"
[ "$(sc DEVA pingcheck "$inbox")" = "hierarchy_changed 0" ] || fail "A told of its own folder"
kill9_mailbox
start_mailbox
[ "$(sc DEVB pingcheck "$inbox")" = "hierarchy_changed 1" ] || fail "B's mark lost in the restart"
[ "$(sc DEVA pingcheck "$inbox")" = "hierarchy_changed 0" ] || fail "A's mark lost in the restart"
out=$(sc DEVA foldersync "$ka")
[ "${out#* }" = 0 ] || fail "A's FolderSync reported its own folder: $out"
out=$(sc DEVB foldersync "$kb")
[ "${out#* }" = 1 ] || fail "B's FolderSync: $out"
[ "$(sc DEVB pingcheck "$inbox")" = "hierarchy_changed 0" ] || fail "B still changed after FolderSync"
# A device that never ran FolderSync is sent to it.
[ "$(sc NEWDEV pingcheck "$inbox")" = "hierarchy_changed 1" ] || fail "new device not sent to FolderSync"
stop_mailbox
for d in "$T"/data/users/*/*.db; do
	[ "$(sqlite3 "$d" 'PRAGMA integrity_check')" = ok ] || fail "integrity $d"
done
echo ok
