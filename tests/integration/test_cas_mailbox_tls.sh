#!/usr/bin/env bash
# easd-cas reaching its mailbox over TCP with mutual TLS 1.3 ([cas] mailbox
# = tcp:..., tls_ca, tls_cert, tls_key): with a client certificate from the
# private CA the pipeline works (a FolderSync before Provision is Status
# 142, so credentials were verified over the RPC); with a certificate from
# another CA the handshake is refused and requests get 503 with
# Retry-After.  The throwaway PKI is made with the openssl command line.
# Every wait is bounded.
set -euo pipefail
cas=${EASD_BIN:?}/easd-cas
easctl=${EASD_BIN:?}/easctl
helper=${EASD_BUILD:?}/tests/integration/fake_mailbox_server
tmp=$(mktemp -d)
pid=
hpid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
	exec 3>&- 2>/dev/null || true
	if [ -n "$hpid" ]; then
		for _ in $(seq 50); do kill -0 "$hpid" 2>/dev/null || break; sleep 0.1; done
		kill "$hpid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { # ca NAME
	key "$tmp/$1.key"
	openssl req -x509 -new -key "$tmp/$1.key" -subj "/CN=$1" -days 2 \
		-out "$tmp/$1.crt" 2>/dev/null
}
cert() { # cert NAME CA EXTENSIONS
	key "$tmp/$1.key"
	openssl req -new -key "$tmp/$1.key" -subj "/CN=$1" -out "$tmp/$1.csr" 2>/dev/null
	printf '%s\n' "$3" >"$tmp/$1.ext"
	openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/$2.crt" -CAkey "$tmp/$2.key" \
		-CAcreateserial -days 2 -extfile "$tmp/$1.ext" -out "$tmp/$1.crt" 2>/dev/null
}
ca ca
ca otherca
cert mailbox ca $'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'
cert cas ca $'extendedKeyUsage=clientAuth'
cert rogue otherca $'extendedKeyUsage=clientAuth'

mkfifo "$tmp/in"
"$helper" --tls "$tmp/ca.crt" "$tmp/mailbox.crt" "$tmp/mailbox.key" \
	<"$tmp/in" >"$tmp/addr" 2>"$tmp/helper.log" &
hpid=$!
exec 3>"$tmp/in"
addr=
for _ in $(seq 100); do
	addr=$(head -n1 "$tmp/addr" 2>/dev/null || true)
	[ -n "$addr" ] && break
	sleep 0.1
done
case "$addr" in tcp:*) ;; *) echo "fake mailbox did not start: $addr"; exit 1 ;; esac

start_cas() { # start_cas CLIENT-CERT-NAME
	cat >"$tmp/easd.conf" <<CONF
[cas]
http_listen = 127.0.0.1:0
allow_plain_auth = loopback
mailbox = $addr
tls_ca = $tmp/ca.crt
tls_cert = $tmp/$1.crt
tls_key = $tmp/$1.key
log_level = debug
CONF
	"$cas" --config "$tmp/easd.conf" 2>"$tmp/log" &
	pid=$!
	port=
	for _ in $(seq 100); do
		port=$(sed -n 's/.*listening on http:.*(port \([0-9]*\)).*/\1/p' "$tmp/log")
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || { cat "$tmp/log"; echo "no port"; exit 1; }
}
stop_cas() {
	kill "$pid"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	wait "$pid" || { cat "$tmp/log"; exit 1; }
	pid=
}
post() {
	curl -s --max-time 10 -u alice:secret -o "$tmp/reply" -D "$tmp/headers" \
		-w '%{http_code}' -H 'MS-ASProtocolVersion: 14.1' \
		-H 'X-MS-PolicyKey: 0' \
		-H 'Content-Type: application/vnd.ms-sync.wbxml' \
		--data-binary @"$tmp/body" \
		"http://127.0.0.1:$port/Microsoft-Server-ActiveSync?Cmd=FolderSync&DeviceId=TLS1&DeviceType=T&User=alice"
}
printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' |
	"$easctl" wbxml encode >"$tmp/body"

start_cas cas
[ "$(post)" = 200 ] || { cat "$tmp/log"; exit 1; }
"$easctl" wbxml decode "$tmp/reply" | grep -q '<Status>142</Status>'
stop_cas

start_cas rogue
[ "$(post)" = 503 ] || { cat "$tmp/log"; exit 1; }
grep -qi '^Retry-After:' "$tmp/headers"
stop_cas
echo ok
