#!/usr/bin/env bash
# CAS Sync benchmarks (issue 4) against the real release daemons on
# loopback, plain HTTP, the load generator tests/integration/eas_load.c:
#  - initial sync: 10,000 HTML emails (about 8 KB of HTML each) drained
#    from SyncKey 0 to the end of MoreAvailable with WindowSize 100 and
#    HTML truncated to 5 KB (target <= 2 s; SOGo 5.8: 251 s);
#  - no-change Sync: 200 timed no-change Syncs on a 100,000-item Inbox
#    and on a 100-item Inbox after each was synced to the end; p50 of
#    both and their ratio (target <= 1.2: cost follows changes, not
#    folder size; SOGo 5.8: 117 ms p50 on 10,000).
# The mail (110,100 messages) is delivered once over LMTP into a mailbox
# whose data lives on tmpfs, then kept in $EASD_BUILD/bench-cache and
# copied for every run (the benchmark runs on the copy, on disk, with
# durable commits).  Figures are printed, never asserted; the run fails
# only on wrong behaviour (an item count that is not the folder's, a
# no-change Sync that returns changes, an HTTP error).
#
# BENCH_SYNC_INITIAL (10000) and BENCH_SYNC_BIG (100000) resize the
# folders (the cache is keyed by both).
. "$(dirname "$0")/cas_lib.sh"

INITIAL=${BENCH_SYNC_INITIAL:-10000}
BIG=${BENCH_SYNC_BIG:-100000}
SMALL=100
NOCHG=200
PW=Bench-Secret-1
CACHE="$EASD_BUILD/bench-cache/sync-v1-$INITIAL-$BIG"

# The fixture: users init (INITIAL messages), big (BIG), small (SMALL).
make_fixture() {
	local shm
	shm=$(mktemp -d /dev/shm/easd-bench.XXXXXX)
	SHM_DIR="$shm"
	write_conf
	sed -i "s|^data_dir = .*|data_dir = $shm/data|; \
		s/^log_level = .*/log_level = warn/" "$T/easd.conf"
	start_mailbox
	for u in init big small; do
		printf '%s\n' "$PW" | ctl user add "$u" --password-stdin \
			>/dev/null 2>&1 || true
	done
	echo "fixture: delivering $INITIAL + $BIG + $SMALL messages over LMTP (once)"
	"$EAS_LOAD" fill "$LMTP_PORT" init@example.org "$INITIAL" 8 8000 ||
		fail "fill init"
	"$EAS_LOAD" fill "$LMTP_PORT" big@example.org "$BIG" 8 1000 ||
		fail "fill big"
	"$EAS_LOAD" fill "$LMTP_PORT" small@example.org "$SMALL" 2 8000 ||
		fail "fill small"
	stop_mailbox
	rm -rf "$CACHE.tmp"
	mkdir -p "$(dirname "$CACHE")"
	cp -a "$shm/data" "$CACHE.tmp"
	rm -rf "$shm"
	SHM_DIR=
	mv "$CACHE.tmp" "$CACHE"
}

[ -d "$CACHE" ] || make_fixture
write_conf
sed -i 's/^log_level = .*/log_level = warn/' "$T/easd.conf"
write_cas_conf
cp -a "$CACHE" "$T/data"
start_mailbox
start_cas

dev=$(date +%s)$$
out=$("$EAS_LOAD" sync "$CAS_PORT" init "$PW" "init$dev" 100 5120 \
	"$INITIAL" 0) || fail "initial sync"
echo "$out" | sed 's/^/  /'
set -- $(echo "$out" | sed -n 's/^sync items \([0-9]*\) .*seconds \([0-9.]*\) items_per_s \([0-9]*\)/\1 \2 \3/p')
echo "initial sync, $1 emails, WindowSize 100, HTML truncated to 5 KB: $2 s, $3 items/s (target <= 2 s; SOGo 5.8: 251 s)"

big=$("$EAS_LOAD" sync "$CAS_PORT" big "$PW" "big$dev" 512 5120 "$BIG" \
	"$NOCHG") || fail "big folder"
echo "$big" | sed 's/^/  /'
small=$("$EAS_LOAD" sync "$CAS_PORT" small "$PW" "small$dev" 100 5120 \
	"$SMALL" "$NOCHG") || fail "small folder"
echo "$small" | sed 's/^/  /'
stop_cas
stop_mailbox

p50() { echo "$1" | sed -n 's/^nochange .* p50_ms \([0-9.]*\) .*/\1/p'; }
p99() { echo "$1" | sed -n 's/^nochange .* p99_ms \([0-9.]*\) .*/\1/p'; }
bp50=$(p50 "$big"); sp50=$(p50 "$small")
ratio=$(awk -v a="$bp50" -v b="$sp50" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
echo "no-change Sync p50: $BIG items $bp50 ms (p99 $(p99 "$big")), $SMALL items $sp50 ms (p99 $(p99 "$small")); ratio $ratio (target <= 1.2; SOGo 5.8: 117 ms on 10,000)"
