#!/usr/bin/env bash
# easd-cas as a process: starts with a config on 127.0.0.1 port 0, answers
# OPTIONS without credentials with 401, other paths with 404 and methods
# with 405, refuses a leaf-only certificate at start-up, and exits 0 on
# SIGTERM.  Without a mailbox verifier, credentials get 503 (no faked
# answers).  Every wait is bounded.
set -euo pipefail
bin=${EASD_BIN:?}/easd-cas
tmp=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/easd.conf" <<CONF
[cas]
http_listen = 127.0.0.1:0
log_level = debug
CONF
"$bin" --config "$tmp/easd.conf" 2>"$tmp/log" &
pid=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.*listening on http:.*(port \([0-9]*\)).*/\1/p' "$tmp/log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/log"; echo "no port"; exit 1; }
url=http://127.0.0.1:$port/Microsoft-Server-ActiveSync

code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
[ "$(code -X OPTIONS "$url")" = 401 ]
[ "$(code -X OPTIONS -u alice:secret "$url")" = 503 ]
[ "$(code -X GET "$url")" = 405 ]
[ "$(code -X POST http://127.0.0.1:$port/owa/)" = 404 ]
curl -s -D - -o /dev/null --max-time 10 -X OPTIONS "$url" |
	grep -qi '^WWW-Authenticate: Basic realm="easd"'

kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then echo "still running"; exit 1; fi
wait "$pid"
pid=
grep -q "answering held requests and stopping" "$tmp/log"

# A certificate file without its chain is refused at start-up.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-batch -days 2 -keyout "$tmp/k.pem" -out "$tmp/c.pem" \
	-subj /CN=localhost 2>/dev/null
cat >"$tmp/tls.conf" <<CONF
[cas]
http_listen =
https_listen = 127.0.0.1:0
tls_cert = $tmp/c.pem
tls_key = $tmp/k.pem
CONF
if "$bin" --config "$tmp/tls.conf" 2>"$tmp/log2"; then
	echo "started with a self-signed certificate"; exit 1
fi
grep -q "tls_self_signed" "$tmp/log2"
echo "tls_self_signed = yes" >>"$tmp/tls.conf"
"$bin" --config "$tmp/tls.conf" 2>"$tmp/log3" &
pid=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.*listening on https:.*(port \([0-9]*\)).*/\1/p' "$tmp/log3")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/log3"; exit 1; }
[ "$(code --cacert "$tmp/c.pem" -X OPTIONS https://localhost:$port/Microsoft-Server-ActiveSync)" = 401 ]
kill -TERM "$pid"
wait "$pid"
pid=
echo "easd-cas integration ok"
