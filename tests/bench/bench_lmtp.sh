#!/usr/bin/env bash
# LMTP ingestion with durability on (synchronous=FULL, 250 only after the
# commit): 10 concurrent senders, 10 KB messages, to one user (the case
# group commit serves: concurrent deliveries share one transaction and one
# fsync) and spread over 10 users (one commit per user).  Prints
# messages/s next to the target; the figure depends on the disk's fsync
# latency, so it is reported, not asserted.
. "$(dirname "$0")/../integration/mailbox_lib.sh"

COUNT=${BENCH_LMTP_COUNT:-3000}
write_conf
sed -i 's/^log_level = .*/log_level = warn/' "$T/easd.conf"
# The daemon's default shard count, unless BENCH_LMTP_WORKERS pins one
# (to compare: BENCH_LMTP_WORKERS=2 is the old default on 2 cores).
sed -i '/^workers = /d' "$T/easd.conf"
if [ -n "${BENCH_LMTP_WORKERS:-}" ]; then
	sed -i "/^\[mailbox\]/a workers = $BENCH_LMTP_WORKERS" "$T/easd.conf"
fi
start_mailbox
users=""
for i in 0 1 2 3 4 5 6 7 8 9; do
	ctl user add "bench$i" >/dev/null
	users="$users${users:+,}bench$i@example.org"
done
# Warm-up: stores created, caches filled.
"$LMTP_LOAD" load "$LMTP_PORT" "$users" 10 200 10240 - >/dev/null

one=$("$LMTP_LOAD" load "$LMTP_PORT" bench0@example.org 10 "$COUNT" 10240 -)
many=$("$LMTP_LOAD" load "$LMTP_PORT" "$users" 10 "$COUNT" 10240 -)
stop_mailbox
rate() { echo "$1" | awk '{print $8}'; }
echo "lmtp ingestion, 10 senders, 10 KB, durable, one user:  $(rate "$one") messages/s (target >= 1000/s)  [$one]"
echo "lmtp ingestion, 10 senders, 10 KB, durable, 10 users:  $(rate "$many") messages/s  [$many]"
