#!/usr/bin/env bash
# Test runner: runs each test program or script given on the command line,
# each bounded by a timeout, and ends with one summary line
# "N passed, N failed".  Fuzz targets (fuzz_*) replay their committed corpus
# (tests/fuzz/corpus/<name>/).  Output of a failing test is shown in full;
# a passing test's output is kept in build/test-logs/.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
logs="$top/build/test-logs"
mkdir -p "$logs"
timeout_s=${EASD_TEST_TIMEOUT:-900}
passed=0
failed=0
failures=()
for t in "$@"; do
	name=$(basename "$t")
	args=()
	case "$name" in
	fuzz_*)
		corpus="$top/tests/fuzz/corpus/${name#fuzz_}"
		mkdir -p "$corpus"
		args=("$corpus")
		;;
	esac
	log="$logs/$name.log"
	start=$(date +%s)
	if [[ "$t" == *.sh ]]; then
		timeout -k 10 "$timeout_s" bash "$t" >"$log" 2>&1
	else
		timeout -k 10 "$timeout_s" "$t" "${args[@]}" >"$log" 2>&1
	fi
	rc=$?
	secs=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf 'PASS %-40s %4ss\n' "$name" "$secs"
	else
		failed=$((failed + 1))
		failures+=("$name")
		printf 'FAIL %-40s %4ss (exit %s)\n' "$name" "$secs" "$rc"
		sed 's/^/    /' "$log" | tail -n 80
	fi
done
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
