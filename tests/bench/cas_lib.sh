# Shared helpers of the CAS benchmarks (tests/bench/bench_ping.sh,
# bench_sync.sh; sourced, not run, and not named bench_* so that `make
# bench` does not run it): on top of tests/integration/mailbox_lib.sh (temp
# directory, ports, easd-mailbox, the cleanup trap), a [cas] section and
# easd-cas started on a free loopback port, plus the load generator
# (tests/integration/eas_load.c).  Needs EASD_BIN and EASD_BUILD (set by
# make bench).
. "$(dirname "${BASH_SOURCE[0]}")/../integration/mailbox_lib.sh"

EAS_LOAD="$EASD_BUILD/tests/integration/eas_load"
[ -x "$EAS_LOAD" ] || fail "$EAS_LOAD not built"
CAS_PID=
CAS_PORT=
SHM_DIR= # a tmpfs directory to remove at exit

bench_cleanup() {
	local rc=$?
	if [ -n "$SHM_DIR" ]; then rm -rf "$SHM_DIR"; fi
	(exit $rc)
	mbx_cleanup
}
trap bench_cleanup EXIT

# write_cas_conf [extra lines...]: append the [cas] section.
write_cas_conf() {
	{
		echo
		echo "[cas]"
		echo "http_listen = 127.0.0.1:0"
		echo "allow_plain_auth = loopback"
		echo "mailbox = unix:$T/mailbox.sock"
		echo "log_level = warn"
		# BENCH_HTTP_THREADS: compare polling-thread counts (default:
		# one per CPU).
		[ -z "${BENCH_HTTP_THREADS:-}" ] ||
			echo "http_threads = $BENCH_HTTP_THREADS"
		for l in "$@"; do echo "$l"; done
	} >>"$T/easd.conf"
}

# start_cas: run easd-cas and wait (<= 10 s) for its HTTP port.
start_cas() {
	# The port is only in an info line: keep that one line.
	sed -i '/^\[cas\]/,$ s/^log_level = .*/log_level = info/' "$T/easd.conf"
	"$EASD_BIN/easd-cas" --config "$T/easd.conf" 2>>"$T/cas.log" &
	CAS_PID=$!
	MBX_EXTRA_PIDS+=("$CAS_PID")
	for _ in $(seq 1 100); do
		CAS_PORT=$(sed -n 's/.*listening on http:.*(port \([0-9]*\)).*/\1/p' \
			"$T/cas.log")
		[ -n "$CAS_PORT" ] && return 0
		kill -0 "$CAS_PID" 2>/dev/null || fail "easd-cas exited at start"
		sleep 0.1
	done
	fail "easd-cas did not start"
}

stop_cas() {
	kill -TERM "$CAS_PID" 2>/dev/null || true
	wait "$CAS_PID" 2>/dev/null || true
	CAS_PID=
}

# add_users PREFIX COUNT PASSWORD: users PREFIX0..PREFIX<COUNT-1>, created
# two at a time (the yescrypt hash dominates).
add_users() {
	local i pids=()
	for i in $(seq 0 $(($2 - 1))); do
		printf '%s\n' "$3" | ctl user add "$1$i" --password-stdin \
			>/dev/null &
		pids+=($!)
		if [ ${#pids[@]} -eq 2 ]; then
			wait "${pids[@]}" || fail "user add $1$i"
			pids=()
		fi
	done
	[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}" || fail "user add"
}
