#!/usr/bin/env bash
# The RPC over TCP with mutual TLS 1.3: a throwaway PKI made with the
# openssl CLI; easctl with a client certificate of the private CA works
# (user add, stats), one signed by another CA is refused, and so is a
# client without a certificate.  Also: tcp: without the TLS files is a
# configuration error (no plaintext TCP).
. "$(dirname "$0")/mailbox_lib.sh"

pki="$T/pki"
mkdir -p "$pki"
cd "$pki"
mkca() { # name
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=$1" \
		>/dev/null 2>&1
}
mkcert() { # name ca san
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1.key" -out "$1.csr" -subj "/CN=$1" >/dev/null 2>&1
	printf 'subjectAltName=%s\n' "$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
		-CAcreateserial -out "$1.pem" -days 2 -extfile "$1.ext" \
		>/dev/null 2>&1
}
mkca ca
mkca otherca
mkcert server ca "IP:127.0.0.1"
mkcert client ca "DNS:easctl.test"
mkcert rogue otherca "DNS:easctl.test"
cd - >/dev/null

RPC_PORT=$(free_port)
write_conf
sed -i "s|^rpc_listen = .*|rpc_listen = tcp:127.0.0.1:$RPC_PORT|" "$T/easd.conf"
# No TLS files: refused at start.
if "$EASD_BIN/easd-mailbox" --config "$T/easd.conf" >"$T/notls.log" 2>&1; then
	fail "tcp: without TLS was accepted"
fi
grep -q 'tls_cert' "$T/notls.log" || fail "no reason given: $(cat "$T/notls.log")"

cat >>"$T/easd.conf" <<CONF
tls_cert = $pki/server.pem
tls_key = $pki/server.key
tls_ca = $pki/ca.pem

[easctl]
tls_cert = $pki/client.pem
tls_key = $pki/client.key
CONF
"$EASD_BIN/easd-mailbox" --config "$T/easd.conf" >>"$T/mailbox.log" 2>&1 &
MBX_PID=$!
for _ in $(seq 1 200); do
	(exec 3<>"/dev/tcp/127.0.0.1/$RPC_PORT") 2>/dev/null && break
	kill -0 "$MBX_PID" 2>/dev/null || fail "easd-mailbox exited at start"
	sleep 0.05
done

ctl user add tina >/dev/null || fail "user add over mutual TLS"
ctl stats | grep -qx 'users 1' || fail "stats over mutual TLS"

# A client certificate from another CA: the handshake is refused.
sed "s|$pki/client|$pki/rogue|g" "$T/easd.conf" >"$T/rogue.conf"
if "$EASD_BIN/easctl" --config "$T/rogue.conf" stats >"$T/rogue.out" 2>&1; then
	fail "a certificate of another CA was accepted"
fi
cat "$T/rogue.out"
grep -q 'peer certificate refused' "$T/mailbox.log" || fail "rogue cert not refused by the mailbox"
# No client certificate at all.  In TLS 1.3 the client may finish its
# side of the handshake before the server's alert arrives, so the proof
# is the server's refusal (the connection never reaches Hello).
refused() { grep -c 'closed before handshake' "$T/mailbox.log" || true; }
before=$(refused)
timeout 10 openssl s_client -connect "127.0.0.1:$RPC_PORT" -tls1_3 \
	-CAfile "$pki/ca.pem" </dev/null >"$T/s_client.out" 2>&1 || true
for _ in $(seq 1 100); do
	[ "$(refused)" -gt "$before" ] && break
	sleep 0.05
done
[ "$(refused)" -gt "$before" ] || fail "a client without a certificate was not refused"
grep -q 'did not return a certificate' "$T/mailbox.log" || fail "no-cert reason"
# TLS 1.2 is refused (TLS 1.3 only between hosts).
if timeout 10 openssl s_client -connect "127.0.0.1:$RPC_PORT" -tls1_2 \
	-cert "$pki/client.pem" -key "$pki/client.key" -CAfile "$pki/ca.pem" \
	</dev/null >"$T/tls12.out" 2>&1 && grep -q 'Cipher is ECDHE' "$T/tls12.out"; then
	fail "TLS 1.2 accepted"
fi
# The daemon is still serving.
ctl stats >/dev/null || fail "mailbox unusable after refused clients"
stop_mailbox
echo ok
