#!/usr/bin/env bash
# Fault injection on the LMTP delivery path (reliability.md: "injected
# SQLite I/O errors -> LMTP 451/452"): for each step N of the delivery
# transaction, the store's fault hook (armed by EASD_TEST_FAULT=N:CODE,
# honoured by sanitizer test builds only) fails the Nth SQLite step.  The
# recipient gets 451 (I/O) or 452 (disk full), never 250 for what was not
# committed, and nothing half-stored remains: the stored messages are
# exactly the acknowledged ones and integrity_check is ok.
. "$(dirname "$0")/mailbox_lib.sh"

case "$EASD_BUILD" in
*asan*) ;;
*) echo "SKIP: the fault hook exists only in sanitizer test builds"; exit 0 ;;
esac

write_conf
start_mailbox
ctl user add fred >/dev/null
db=$(user_db fred)
stop_mailbox

acked=0
failed=0
for spec in 1:10 2:10 3:10 4:10 5:10 6:10 7:10 8:10 10:10 14:10 2:13 5:13; do
	step=${spec%%:*}
	EASD_TEST_FAULT=$spec start_mailbox
	msg=$(printf 'Subject: fault %s\r\nMessage-ID: <fault-%s@test>\r\n\r\nx\r\n' "$spec" "$spec")
	code=$(printf '%s' "$msg" | "$LMTP_LOAD" send "$LMTP_PORT" s@x fred@example.org)
	echo "fault $spec -> $code"
	case "$code" in
	250) acked=$((acked + 1)); echo "fault-$spec@test" >>"$T/acked" ;;
	451) [ "${spec#*:}" = 10 ] || fail "I/O fault answered $code" ;&
	452) [ "$code" = 451 ] || [ "${spec#*:}" = 13 ] || fail "disk-full fault answered $code"
		failed=$((failed + 1)) ;;
	*) fail "step $step: unexpected reply $code" ;;
	esac
	stop_mailbox
done
[ "$failed" -ge 6 ] || fail "only $failed deliveries hit the fault"
touch "$T/acked"
message_ids "$db" | sort >"$T/stored"
sort "$T/acked" | diff - "$T/stored" || fail "stored messages differ from the acknowledged ones"
[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "integrity"
# Without the fault the same daemon delivers again.
start_mailbox
code=$(printf 'Subject: ok\r\n\r\nx\r\n' | "$LMTP_LOAD" send "$LMTP_PORT" s@x fred@example.org)
[ "$code" = 250 ] || fail "delivery after the faults: $code"
stop_mailbox
echo "ok: $failed failed with 4xx, $acked acknowledged and stored"
