# Shared helpers of the tests/integration/test_mailbox_*.sh scripts (sourced,
# not run): a temp directory, free loopback ports, a config file, starting
# and stopping easd-mailbox, and a trap that kills every daemon we started
# even when a test fails.  Needs EASD_BIN and EASD_BUILD (set by make test).
set -euo pipefail

: "${EASD_BIN:?EASD_BIN is not set (run through make test)}"
: "${EASD_BUILD:?EASD_BUILD is not set (run through make test)}"
LMTP_LOAD="$EASD_BUILD/tests/integration/lmtp_load"
T=$(mktemp -d /tmp/easd-mbx.XXXXXX)
MBX_PID=
declare -a MBX_EXTRA_PIDS=()

mbx_cleanup() {
	local rc=$?
	if [ -n "$MBX_PID" ]; then kill -KILL "$MBX_PID" 2>/dev/null || true; fi
	for p in "${MBX_EXTRA_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ $rc -ne 0 ] && [ -f "$T/mailbox.log" ]; then
		echo "--- mailbox log (tail)"; tail -n 40 "$T/mailbox.log"
	fi
	rm -rf "$T"
	exit $rc
}
trap mbx_cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# A loopback port nobody listens on (bounded tries).  Below Linux's
# ephemeral range (32768-60999), so no outgoing connection of the test
# itself can hold the port when a restarted daemon binds it again.
free_port() {
	local p
	for _ in $(seq 1 100); do
		p=$((20000 + RANDOM % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"; return 0
		fi
	done
	return 1
}

LMTP_PORT=$(free_port)
# write_conf [extra lines...]: the [mailbox] section for this test.
write_conf() {
	{
		echo "[mailbox]"
		echo "data_dir = $T/data"
		echo "rpc_listen = unix:$T/mailbox.sock"
		echo "lmtp_listen = 127.0.0.1:$LMTP_PORT"
		echo "domain = example.org"
		echo "workers = 2"
		echo "log_level = info"
		for l in "$@"; do echo "$l"; done
	} >"$T/easd.conf"
}

ctl() { "$EASD_BIN/easctl" --config "$T/easd.conf" "$@"; }

# start_mailbox: run the daemon in the background and wait (<= 10 s) until
# LMTP accepts connections.
start_mailbox() {
	"$EASD_BIN/easd-mailbox" --config "$T/easd.conf" >>"$T/mailbox.log" 2>&1 &
	MBX_PID=$!
	for _ in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$LMTP_PORT") 2>/dev/null &&
			[ -S "$T/mailbox.sock" ]; then
			return 0
		fi
		kill -0 "$MBX_PID" 2>/dev/null || fail "easd-mailbox exited at start"
		sleep 0.05
	done
	fail "easd-mailbox did not start"
}

# stop_mailbox: SIGTERM and wait (<= 10 s) for a clean exit (status 0).
stop_mailbox() {
	local rc=0
	kill -TERM "$MBX_PID"
	for _ in $(seq 1 200); do
		kill -0 "$MBX_PID" 2>/dev/null || break
		sleep 0.05
	done
	wait "$MBX_PID" || rc=$?
	MBX_PID=
	[ $rc -eq 0 ] || fail "easd-mailbox exited with $rc after SIGTERM"
}

# kill9_mailbox: SIGKILL, as a crash.
kill9_mailbox() {
	kill -KILL "$MBX_PID" 2>/dev/null || true
	wait "$MBX_PID" 2>/dev/null || true
	MBX_PID=
}

# user_db LOGIN: path of a user's database (via its id).
user_db() {
	local id
	id=$(ctl user list | awk -v u="$1" '$2 == u {print $1}')
	[ -n "$id" ] || fail "no user $1"
	find "$T/data/users" -name "$id.db" | head -n 1
}

# message_ids DB: the Message-ID of every stored item, one per line.
message_ids() {
	sqlite3 "$1" "SELECT substr(m, instr(m, 'Message-ID: <') + 13,
		instr(substr(m, instr(m, 'Message-ID: <') + 13), '>') - 1)
		FROM (SELECT CAST(mime AS TEXT) AS m FROM items)
		WHERE instr(m, 'Message-ID: <') > 0;"
}
