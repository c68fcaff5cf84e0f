#!/usr/bin/env bash
# Crash test (reliability.md G1, G7): 1,000 messages over LMTP from 4
# connections while easd-mailbox is killed with SIGKILL at random moments
# (KILLS times, bounded) and restarted.  Afterwards every message that got
# a 250 is in the store exactly once (by its unique Message-ID) and
# PRAGMA integrity_check is ok on every database.  Then the same under
# SIGTERM: a clean stop in the middle of deliveries loses nothing.
. "$(dirname "$0")/mailbox_lib.sh"

COUNT=${CRASH_COUNT:-1000}
KILLS=${CRASH_KILLS:-6}
kills=0
write_conf
start_mailbox
ctl user add dave >/dev/null

"$LMTP_LOAD" load "$LMTP_PORT" dave@example.org 4 "$COUNT" 8192 "$T/acked" \
	>"$T/load.out" 2>&1 &
LOAD_PID=$!
MBX_EXTRA_PIDS+=("$LOAD_PID")

for k in $(seq 1 "$KILLS"); do
	# 0.05 to 0.30 s of delivery, then a crash, then a restart.
	sleep "0.$((5 + RANDOM % 26))"
	kill -0 "$LOAD_PID" 2>/dev/null || break
	kill9_mailbox
	kills=$k
	echo "kill $k after $(wc -l <"$T/acked" 2>/dev/null || echo 0) acks"
	sleep 0.1
	start_mailbox
done
# The load ends by itself (bounded retries per message).
for _ in $(seq 1 1200); do
	kill -0 "$LOAD_PID" 2>/dev/null || break
	sleep 0.05
done
wait "$LOAD_PID" || fail "load client: $(cat "$T/load.out")"
cat "$T/load.out"
# A run that ended before the daemon was killed proves nothing.
[ "$kills" -ge 2 ] || fail "only $kills kills happened during the load"
db=$(user_db dave)
stop_mailbox

acked=$(sort "$T/acked" | uniq | wc -l)
[ "$acked" -eq "$(wc -l <"$T/acked")" ] || fail "an id was acknowledged twice"
[ "$acked" -eq "$COUNT" ] || fail "only $acked of $COUNT acknowledged"
message_ids "$db" | sort >"$T/stored"
dups=$(uniq -d "$T/stored" | wc -l)
[ "$dups" -eq 0 ] || fail "$dups Message-IDs stored twice"
missing=$(sort "$T/acked" | comm -23 - "$T/stored" | wc -l)
[ "$missing" -eq 0 ] || fail "$missing acknowledged messages lost"
echo "acked $acked, stored $(wc -l <"$T/stored") (unacked attempts may be stored)"

# SIGTERM during delivery: the daemon stops accepting, answers what is in
# flight, exits 0, and every acknowledged message is stored.
start_mailbox
: >"$T/acked2"
"$LMTP_LOAD" load "$LMTP_PORT" dave@example.org 4 400 8192 "$T/acked2" \
	>"$T/load2.out" 2>&1 &
LOAD_PID=$!
MBX_EXTRA_PIDS+=("$LOAD_PID")
for _ in $(seq 1 200); do
	[ "$(wc -l <"$T/acked2")" -ge 20 ] && break
	sleep 0.02
done
stop_mailbox
n_before=$(wc -l <"$T/acked2")
echo "SIGTERM after $n_before acks"
start_mailbox
wait "$LOAD_PID" || true
stop_mailbox
message_ids "$db" | sort >"$T/stored2"
missing=$(sort "$T/acked2" | comm -23 - "$T/stored2" | wc -l)
[ "$missing" -eq 0 ] || fail "$missing messages acknowledged around SIGTERM lost"
grep -q 'stopping' "$T/mailbox.log" || fail "no clean stop logged"

for d in "$T"/data/directory.db "$T"/data/users/*/*.db; do
	[ "$(sqlite3 "$d" 'PRAGMA integrity_check')" = ok ] || fail "integrity $d"
done
echo ok
