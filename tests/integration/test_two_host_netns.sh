#!/usr/bin/env bash
# Two hosts: easd-mailbox and easd-cas in two network namespaces joined by
# a veth pair (10.231.0.1 mailbox, 10.231.0.2 CAS), each with its own
# configuration file, talking TCP with mutual TLS 1.3 under a private CA
# made here with openssl (mailbox certificate naming its address, CAS and
# admin client certificates).  From the CAS namespace `easctl probe`
# plays a phone against the CAS (Provision, FolderSync, Sync, fetch, Ping
# woken by its own message delivered over LMTP across the link) and must
# pass; a second CAS whose certificate comes from another CA is refused at
# the handshake (503 with Retry-After, nothing served).  Needs root and
# iproute2: otherwise it says why and passes (exit 0).  The namespaces,
# and so the veth pair, are removed on exit.  Every wait is bounded.
set -euo pipefail
: "${EASD_BIN:?EASD_BIN is not set (run through make test)}"
if [ "$(id -u)" != 0 ]; then
	echo "skip: network namespaces need root"
	exit 0
fi
if ! command -v ip >/dev/null || ! command -v openssl >/dev/null; then
	echo "skip: no ip (iproute2) or openssl"
	exit 0
fi
NSM=easd-mbx-$$
NSC=easd-cas-$$
if ! ip netns add "$NSM" 2>/dev/null; then
	echo "skip: cannot create a network namespace here"
	exit 0
fi
T=$(mktemp -d /tmp/easd-2host.XXXXXX)
declare -a PIDS=()
cleanup() {
	local rc=$?
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ $rc -ne 0 ]; then
		for f in mailbox.log cas.log rogue.log; do
			[ -f "$T/$f" ] && { echo "--- $f"; tail -n 20 "$T/$f"; }
		done
	fi
	ip netns del "$NSM" 2>/dev/null || true
	ip netns del "$NSC" 2>/dev/null || true
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

ip netns add "$NSC"
ip link add "vm$$" type veth peer name "vc$$"
ip link set "vm$$" netns "$NSM"
ip link set "vc$$" netns "$NSC"
ip -n "$NSM" addr add 10.231.0.1/24 dev "vm$$"
ip -n "$NSC" addr add 10.231.0.2/24 dev "vc$$"
for ns in "$NSM" "$NSC"; do
	ip -n "$ns" link set lo up
done
ip -n "$NSM" link set "vm$$" up
ip -n "$NSC" link set "vc$$" up
# (the link is checked below by connecting to the mailbox)

# The private PKI.
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { # ca NAME
	key "$T/$1.key"
	openssl req -x509 -new -key "$T/$1.key" -subj "/CN=$1" -days 2 \
		-out "$T/$1.crt" 2>/dev/null
}
cert() { # cert NAME CA EXTENSIONS
	key "$T/$1.key"
	openssl req -new -key "$T/$1.key" -subj "/CN=$1" -out "$T/$1.csr" 2>/dev/null
	printf '%s\n' "$3" >"$T/$1.ext"
	openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.crt" -CAkey "$T/$2.key" \
		-CAcreateserial -days 2 -extfile "$T/$1.ext" -out "$T/$1.crt" 2>/dev/null
}
ca easd-ca
ca other-ca
cert mailbox easd-ca $'subjectAltName=IP:10.231.0.1,DNS:mailbox.easd.test\nextendedKeyUsage=serverAuth'
cert cas easd-ca $'subjectAltName=DNS:cas.easd.test\nextendedKeyUsage=clientAuth'
cert admin easd-ca $'extendedKeyUsage=clientAuth'
cert rogue other-ca $'subjectAltName=DNS:cas.easd.test\nextendedKeyUsage=clientAuth'

RPC_PORT=$((20000 + RANDOM % 6000))
LMTP_PORT=$((26000 + RANDOM % 6000))
mkdir -p "$T/mhost" "$T/chost"
cat >"$T/mhost/easd.conf" <<CONF
[mailbox]
data_dir = $T/mhost/data
rpc_listen = tcp:10.231.0.1:$RPC_PORT
tls_cert = $T/mailbox.crt
tls_key = $T/mailbox.key
tls_ca = $T/easd-ca.crt
lmtp_listen = 10.231.0.1:$LMTP_PORT
domain = example.org
workers = 2

[easctl]
tls_cert = $T/admin.crt
tls_key = $T/admin.key
CONF
cas_conf() { # cas_conf CERT-NAME FILE
	cat >"$2" <<CONF
[cas]
http_listen = 127.0.0.1:0
allow_plain_auth = loopback
mailbox = tcp:10.231.0.1:$RPC_PORT
tls_ca = $T/easd-ca.crt
tls_cert = $T/$1.crt
tls_key = $T/$1.key
CONF
}
cas_conf cas "$T/chost/easd.conf"
cas_conf rogue "$T/chost/rogue.conf"

ip netns exec "$NSM" "$EASD_BIN/easd-mailbox" --config "$T/mhost/easd.conf" \
	>"$T/mailbox.log" 2>&1 &
PIDS+=($!)
up=
for _ in $(seq 200); do
	if ip netns exec "$NSC" bash -c "exec 3<>/dev/tcp/10.231.0.1/$LMTP_PORT" 2>/dev/null; then
		up=1; break
	fi
	kill -0 "${PIDS[0]}" 2>/dev/null || fail "easd-mailbox exited"
	sleep 0.05
done
[ -n "$up" ] || fail "easd-mailbox did not start"
# Administration over the same mutual TLS, from the mailbox host.
printf 'Probe-123\n' | ip netns exec "$NSM" "$EASD_BIN/easctl" \
	--config "$T/mhost/easd.conf" user add alice --password-stdin >/dev/null ||
	fail "easctl user add over TCP"

start_cas() { # start_cas CONF LOG: sets CAS_PORT
	CAS_PORT=
	ip netns exec "$NSC" "$EASD_BIN/easd-cas" --config "$1" >>"$2" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do
		CAS_PORT=$(sed -n 's/.*listening on http:.*(port \([0-9]*\)).*/\1/p' "$2")
		[ -n "$CAS_PORT" ] && break
		sleep 0.1
	done
	[ -n "$CAS_PORT" ] || fail "no CAS port in $2"
}
# The RPC link speaks TLS 1.3 only, and names the mailbox as configured.
ip netns exec "$NSC" timeout 20 openssl s_client -connect "10.231.0.1:$RPC_PORT" \
	-tls1_3 -CAfile "$T/easd-ca.crt" -verify_ip 10.231.0.1 -verify_return_error \
	-cert "$T/cas.crt" -key "$T/cas.key" </dev/null >"$T/s_client13" 2>&1 ||
	{ cat "$T/s_client13"; fail "TLS 1.3 handshake with the CAS certificate"; }
grep -q "^New, TLSv1.3," "$T/s_client13" || { cat "$T/s_client13"; fail "not TLS 1.3"; }
if ip netns exec "$NSC" timeout 20 openssl s_client -connect "10.231.0.1:$RPC_PORT" \
	-tls1_2 -CAfile "$T/easd-ca.crt" -cert "$T/cas.crt" -key "$T/cas.key" \
	</dev/null >"$T/s_client12" 2>&1; then
	fail "the mailbox accepted TLS 1.2"
fi
start_cas "$T/chost/easd.conf" "$T/cas.log"
port=$CAS_PORT
printf 'Probe-123\n' | ip netns exec "$NSC" timeout 120 "$EASD_BIN/easctl" probe \
	"http://127.0.0.1:$port" alice --password-stdin --protocol 14.1 \
	--lmtp "10.231.0.1:$LMTP_PORT" >"$T/probe.out" 2>&1 || true
cat "$T/probe.out"
grep -q "^probe passed" "$T/probe.out" || fail "probe across the two hosts"

# A CAS with a certificate from another CA: the mailbox refuses it.
start_cas "$T/chost/rogue.conf" "$T/rogue.log"
rport=$CAS_PORT
printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' |
	"$EASD_BIN/easctl" wbxml encode >"$T/body"
code=$(ip netns exec "$NSC" curl -s --max-time 20 -u alice:Probe-123 \
	-o "$T/reply" -D "$T/headers" -w '%{http_code}' \
	-H 'MS-ASProtocolVersion: 14.1' -H 'X-MS-PolicyKey: 0' \
	-H 'Content-Type: application/vnd.ms-sync.wbxml' --data-binary @"$T/body" \
	"http://127.0.0.1:$rport/Microsoft-Server-ActiveSync?Cmd=FolderSync&DeviceId=ROGUE1&DeviceType=T&User=alice")
[ "$code" = 503 ] || fail "a CAS from another CA got HTTP $code"
grep -qi '^Retry-After:' "$T/headers" || fail "no Retry-After"
# The genuine CAS still serves.
kill -0 "${PIDS[1]}" 2>/dev/null || fail "the genuine CAS died"
echo "two hosts: probe passed over mutual TLS 1.3; the other CA's CAS refused"
