#!/usr/bin/env bash
# Direct Push benchmarks (issue 4) against the real release daemons on
# loopback, plain HTTP, the load generator tests/integration/eas_load.c:
#  - held Pings: BENCH_PINGS (10,000; 100,000 needs a descriptor hard
#    limit above 100,000) devices, 100 users x BENCH_PINGS/100 devices,
#    each provisioned, FolderSynced and Synced, then one held Ping each
#    from several 127.0.0.x source addresses; prints the CAS's RSS per held
#    connection (VmRSS after minus before, over N; target <= 16 KB; PHP
#    peers: ~2 MB per waiting Ping) and its CPU over 5 s with all held
#    (target near 0);
#  - push latency: with all Pings held, 100 messages over LMTP, one at a
#    time, each to a different user; every Ping of that user is timed from
#    the LMTP 250 to the first byte of its response (targets p50 5 ms, p99
#    50 ms; SOGo 5.8 polls every 10 s), and the first Ping answered per
#    message.  Once all of a message's Pings are answered, the woken
#    devices sync (exactly one new Add each) and Ping again, so every push
#    happens with all held.
# The mailbox's data lives on tmpfs: preparing 10,000 devices is five
# durable commits each, and on this class of disk (5 ms per fsync) that
# alone would take a quarter of an hour; what is measured here is the CAS
# (the LMTP 250 comes after the commit either way, so the push latency is
# from the commit to the phone).
# Figures are printed, never asserted; the run fails on wrong behaviour (a
# Ping answered without a push, a push that wakes no Ping, HTTP errors).
. "$(dirname "$0")/cas_lib.sh"

N=${BENCH_PINGS:-10000}
USERS=100
MSGS=${BENCH_PUSHES:-100}
PW=Bench-Secret-1
[ "$N" -ge "$USERS" ] && [ $((N % USERS)) -eq 0 ] ||
	fail "BENCH_PINGS must be a multiple of $USERS"
DEVICES=$((N / USERS))
# One descriptor per connection in each process, plus the daemons' own.
need=$((N + 1024))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge "$need" ] ||
	fail "BENCH_PINGS=$N needs a descriptor limit of $need (hard limit $(ulimit -Hn); raise it, e.g. in /etc/security/limits.conf)"
# Each source address holds at most 5,000 Pings and 5,000 closed
# preparation connections (TIME_WAIT) in its 28,000 ephemeral ports.
NSRC=$((N / 5000 + 1))

# Users cost a yescrypt hash each: created once, kept in the cache.
CACHE="$EASD_BUILD/bench-cache/ping-v1-$USERS"
if [ ! -d "$CACHE" ]; then
	write_conf
	sed -i 's/^log_level = .*/log_level = warn/' "$T/easd.conf"
	start_mailbox
	add_users pb "$USERS" "$PW"
	stop_mailbox
	rm -rf "$CACHE.tmp"
	mkdir -p "$(dirname "$CACHE")"
	cp -a "$T/data" "$CACHE.tmp"
	mv "$CACHE.tmp" "$CACHE"
	rm -rf "$T/data"
fi
SHM_DIR=$(mktemp -d /dev/shm/easd-bench.XXXXXX)
write_conf
sed -i "s|^data_dir = .*|data_dir = $SHM_DIR/data|; \
	s/^log_level = .*/log_level = warn/" "$T/easd.conf"
write_cas_conf
cp -a "$CACHE" "$SHM_DIR/data"
start_mailbox
start_cas

out=$("$EAS_LOAD" ping "$CAS_PORT" pb "$USERS" "$DEVICES" "$PW" "$NSRC" \
	"$LMTP_PORT" "$MSGS" "$CAS_PID" "$MBX_PID") ||
	{ echo "$out"; fail "ping load"; }
echo "$out" | sed 's/^/  /'
stop_cas
stop_mailbox

field() { echo "$out" | sed -n "s/^$1 .* $2 \([0-9.]*\).*/\1/p"; }
per=$(field cas_rss_kb per_conn_bytes)
echo "held Pings: $N over plain HTTP, CAS RSS $(awk -v b="$per" 'BEGIN { printf "%.1f", b / 1024 }') KB per held connection (target <= 16 KB; PHP peers ~2 MB per waiting Ping)"
echo "held Pings: CAS CPU $(field cpu_held cas_ms) ms over 5 s with $N held ($(field cpu_held cas_pct)%; mailbox $(field cpu_held mailbox_ms) ms) (target near 0)"
echo "push latency, LMTP 250 -> Ping response, $MSGS messages with $N held, every Ping of the user ($DEVICES each): p50 $(field push p50_ms) ms, p99 $(field push p99_ms) ms (targets 5 ms / 50 ms; SOGo 5.8 polls every 10 s)"
echo "push latency, first Ping answered per message: p50 $(field push_first p50_ms) ms, p99 $(field push_first p99_ms) ms"
