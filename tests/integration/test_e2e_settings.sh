#!/usr/bin/env bash
# The Settings command and Autodiscover end to end with the real daemons
# (easd-mailbox with LMTP and a send queue relaying to a local SMTP sink,
# easd-cas, easctl):
#  - Oof Set through Settings, Oof Get returning it;
#  - the user writes to carol (SendMail), which makes her a known sender;
#  - mail from two external senders and one internal sender over LMTP:
#    each gets exactly one auto-reply (MAIL FROM:<>, Auto-Submitted:
#    auto-replied, the audience's text: Known for carol, Unknown for the
#    stranger, internal for bob), a second message from the same sender
#    gets none;
#  - only AppliesToExternalKnown enabled: a stranger gets nothing, carol
#    the Known text;
#  - Oof switched off: no reply to a new sender;
#  - DeviceInformation (in Provision and in Settings) shown by `easctl
#    device list`; DevicePassword stored sealed (the directory's files
#    never hold it) and printed by `easctl device password`;
#  - start-up refusals: oof_reply_period out of range, a key file readable
#    by others;
#  - the upgrade: a recovery password stored in clear is sealed at start;
#  - UserInformation listing every address;
#  - Autodiscover POX (authenticated; 401 without credentials) and v2 JSON
#    (anonymous).
# Whether a reply was queued is decided inside the LMTP transaction, so
# "exactly one" is checked without waiting: the queue is drained (no
# pending entry) and the sink holds the expected number.  Every wait is
# bounded.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
source "$top/tests/integration/mailbox_lib.sh"
[ -x "$EASD_BIN/easd-mailbox" ] || fail "easd-mailbox not built"
SINK="$EASD_BUILD/tests/integration/smtp_dir_sink"
[ -x "$SINK" ] || fail "smtp_dir_sink not built"
CAS_PID=
trap 'rc=$?; if [ -n "$CAS_PID" ]; then kill -KILL "$CAS_PID" 2>/dev/null || true; wait "$CAS_PID" 2>/dev/null || true; fi; if [ $rc -ne 0 ]; then echo "--- cas log"; tail -n 30 "$T/cas.log" 2>/dev/null || true; fi; (exit $rc); mbx_cleanup' EXIT

SMTP_PORT=$(free_port)
mkdir -p "$T/sink"
"$SINK" "$SMTP_PORT" "$T/sink" 2>"$T/sink.log" &
MBX_EXTRA_PIDS+=($!)
write_conf "smtp_relay = smtp://127.0.0.1:$SMTP_PORT" \
	"[cas]" "http_listen = 127.0.0.1:0" "allow_plain_auth = loopback" \
	"mailbox = unix:$T/mailbox.sock" "log_level = debug" \
	"public_url = https://mail.example.org" \
	"autodiscover_domain = example.org"
start_mailbox
printf 'secret\n' | ctl user add alice --address smith@example.org \
	--password-stdin >/dev/null

"$EASD_BIN/easd-cas" --config "$T/easd.conf" 2>"$T/cas.log" &
CAS_PID=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.*listening on http:.*(port \([0-9]*\)).*/\1/p' "$T/cas.log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || fail "no CAS port"
host="http://127.0.0.1:$port"
base="$host/Microsoft-Server-ActiveSync"

enc() { "$EASD_BIN/easctl" wbxml encode >"$T/body"; }
post() { # post CMD KEY: body $T/body, reply $T/reply, prints the code
	rm -f "$T/reply.xml"
	curl -s --max-time 15 -u alice:secret -o "$T/reply" \
		-w '%{http_code}' -H "MS-ASProtocolVersion: 16.1" \
		-H "X-MS-PolicyKey: $2" -H 'User-Agent: E2E/1.0' \
		-H 'Content-Type: application/vnd.ms-sync.wbxml' \
		--data-binary @"$T/body" \
		"$base?Cmd=$1&DeviceId=SETPHONE&DeviceType=TestPhone&User=alice"
}
xml() {
	[ -f "$T/reply.xml" ] || "$EASD_BIN/easctl" wbxml decode "$T/reply" |
		tr -d '\n' | sed 's/>  */>/g' >"$T/reply.xml"
	cat "$T/reply.xml"
}
field() { xml | sed -n "s|.*<$1>\([^<]*\)</$1>.*|\1|p" | head -n1; }
settings() { # settings XML-INSIDE-SETTINGS
	printf '<Settings xmlns="Settings:">%s</Settings>' "$1" | enc
	[ "$(post Settings "$key")" = 200 ] || fail "Settings HTTP"
	[ "$(xml | sed -n 's|^[^>]*>[^<]*<Settings[^>]*><Status>\([0-9]*\)</Status>.*|\1|p')" = 1 ] ||
		{ xml; fail "Settings status"; }
}
deliver() { # deliver FROM SUBJECT
	local codes
	codes=$(printf 'From: %s\r\nTo: alice@example.org\r\nSubject: %s\r\nMessage-ID: <%s@e2e>\r\n\r\nhello\r\n' \
		"$1" "$2" "$2" | "$LMTP_LOAD" send "$LMTP_PORT" "$1" alice@example.org)
	[ "$codes" = 250 ] || fail "LMTP: $codes"
}
db=
pending() { sqlite3 "$db" "SELECT count(*) FROM send_queue WHERE state = 0"; }
sent() { find "$T/sink" -name 'msg.*' | wc -l; }
# wait_drained N: the queue is empty and the sink holds N messages.
wait_drained() {
	for _ in $(seq 200); do
		if [ "$(pending)" = 0 ] && [ "$(sent)" -ge "$1" ]; then break; fi
		sleep 0.05
	done
	[ "$(pending)" = 0 ] || fail "send queue not drained"
	[ "$(sent)" = "$1" ] || { ls -l "$T/sink"; fail "sink holds $(sent) messages, wanted $1"; }
}

# Provision (two steps); the first carries 16.1's DeviceInformation
# (MS-ASPROV 2.2.2.53), stored on the device record too.
printf '<Provision xmlns="Provision:" xmlns:settings="Settings:"><settings:DeviceInformation><settings:Set><settings:Model>Prov-Model</settings:Model><settings:MobileOperator>ProvCarrier</settings:MobileOperator><settings:EnableOutboundSMS>1</settings:EnableOutboundSMS></settings:Set></settings:DeviceInformation><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>' | enc
[ "$(post Provision 0)" = 200 ] || fail "Provision"
temp=$(field PolicyKey)
printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>%s</PolicyKey><Status>1</Status></Policy></Policies></Provision>' "$temp" | enc
[ "$(post Provision "$temp")" = 200 ] || fail "Provision ack"
key=$(field PolicyKey)
db=$(user_db alice)
ctl device list alice >"$T/devices"
grep SETPHONE "$T/devices" | grep -q Prov-Model || { cat "$T/devices"; fail "Provision model"; }
grep -q 'operator="ProvCarrier"' "$T/devices" || { cat "$T/devices"; fail "Provision operator"; }
grep -q 'outbound-sms=yes' "$T/devices" || { cat "$T/devices"; fail "Provision sms"; }

# --- Alice writes to carol (SendMail): carol is a known sender from now.
msg=$(printf '%s\r\n' 'From: alice@example.org' 'To: Carol <Carol@Example.NET>' \
	'Cc: bob@example.org' 'Subject: plans' '' 'See you soon.' | base64 -w0)
printf '<SendMail xmlns="ComposeMail:"><ClientId>s1</ClientId><Mime opaque="base64">%s</Mime></SendMail>' "$msg" | enc
[ "$(post SendMail "$key")" = 200 ] || { xml; fail "SendMail"; }
wait_drained 1
[ "$(sqlite3 "$db" "SELECT group_concat(address) FROM oof_correspondents")" = carol@example.net ] ||
	fail "correspondents: $(sqlite3 "$db" 'SELECT * FROM oof_correspondents')"

# --- Oof on (three audiences), then read back.
settings '<Oof><Set><OofState>1</OofState><OofMessage><AppliesToInternal/><Enabled>1</Enabled><ReplyMessage>Internal: back Monday</ReplyMessage><BodyType>Text</BodyType></OofMessage><OofMessage><AppliesToExternalKnown/><Enabled>1</Enabled><ReplyMessage>Known: see you Monday</ReplyMessage><BodyType>Text</BodyType></OofMessage><OofMessage><AppliesToExternalUnknown/><Enabled>1</Enabled><ReplyMessage>External: away until Monday</ReplyMessage><BodyType>Text</BodyType></OofMessage></Set></Oof>'
[ "$(field Status)" = 1 ] || { xml; fail "Oof Set"; }
xml | grep -q '<Oof><Status>1</Status></Oof>' || { xml; fail "Oof Set status"; }
settings '<Oof><Get><BodyType>Text</BodyType></Get></Oof>'
xml | grep -q '<OofState>1</OofState>' || { xml; fail "Oof Get state"; }
xml | grep -q '<ReplyMessage>Internal: back Monday</ReplyMessage>' || { xml; fail "Oof Get internal"; }
xml | grep -q '<ReplyMessage>Known: see you Monday</ReplyMessage>' || { xml; fail "Oof Get known"; }
xml | grep -q '<ReplyMessage>External: away until Monday</ReplyMessage>' || { xml; fail "Oof Get external"; }

# replies_to ADDR: the auto-replies (MAIL FROM:<>) the sink got for ADDR.
replies_to() {
	grep -l "^X-Envelope-To: <$1>" "$T"/sink/msg.* 2>/dev/null |
		xargs -r grep -l '^X-Envelope-From: <>' || true
}

# --- Two external senders and one internal, the first one twice.
deliver carol@example.net m1
deliver dave@example.com m2
deliver carol@example.net m3
deliver bob@example.org m4
wait_drained 4
[ "$(sqlite3 "$db" 'SELECT count(*) FROM oof_replied')" = 3 ] || fail "oof memory"
for who in carol@example.net dave@example.com bob@example.org; do
	f=$(replies_to "$who")
	[ "$(echo "$f" | grep -c .)" = 1 ] || fail "replies to $who: $f"
	grep -qi '^Auto-Submitted: auto-replied' "$f" || { cat "$f"; fail "no Auto-Submitted"; }
	grep -q '^Subject: Automatic reply: ' "$f" || { cat "$f"; fail "subject"; }
done
grep -q 'Known: see you Monday' "$(replies_to carol@example.net)" || fail "known text"
grep -q 'External' "$(replies_to carol@example.net)" && fail "carol got the unknown text"
grep -q 'External: away until Monday' "$(replies_to dave@example.com)" || fail "external text"
grep -q 'Internal: back Monday' "$(replies_to bob@example.org)" || fail "internal text"

# --- Known only (Unknown switched off; a new Set answers everyone again):
#     a stranger gets nothing, carol the Known text.
settings '<Oof><Set><OofState>1</OofState><OofMessage><AppliesToExternalUnknown/><Enabled>0</Enabled></OofMessage></Set></Oof>'
xml | grep -q '<Oof><Status>1</Status></Oof>' || { xml; fail "Oof known only"; }
deliver frank@example.net m5
deliver carol@example.net m6
wait_drained 5
[ -z "$(replies_to frank@example.net)" ] || fail "a stranger was answered with only Known on"
[ "$(replies_to carol@example.net | grep -c .)" = 2 ] || fail "carol not answered again"

# --- Oof off: a new sender gets nothing.
settings '<Oof><Set><OofState>0</OofState></Set></Oof>'
xml | grep -q '<Oof><Status>1</Status></Oof>' || { xml; fail "Oof off"; }
deliver erin@example.net m7
wait_drained 5
settings '<Oof><Get><BodyType>Text</BodyType></Get></Oof>'
xml | grep -q '<OofState>0</OofState>' || { xml; fail "Oof Get after off"; }

# --- DeviceInformation, DevicePassword, UserInformation.
settings '<DeviceInformation><Set><Model>E2E-Model</Model><FriendlyName>Alice phone</FriendlyName><OS>TestOS 1</OS><OSLanguage>English</OSLanguage><MobileOperator>Carrier</MobileOperator><EnableOutboundSMS>1</EnableOutboundSMS></Set></DeviceInformation><DevicePassword><Set><Password>recover-42</Password></Set></DevicePassword><UserInformation><Get/></UserInformation>'
xml | grep -q '<DeviceInformation><Status>1</Status></DeviceInformation>' || { xml; fail "DeviceInformation"; }
xml | grep -q '<DevicePassword><Status>1</Status></DevicePassword>' || { xml; fail "DevicePassword"; }
xml | grep -q '<PrimarySmtpAddress>alice@example.org</PrimarySmtpAddress>' || { xml; fail "primary"; }
xml | grep -q '<SMTPAddress>smith@example.org</SMTPAddress>' || { xml; fail "alias"; }
ctl device list alice >"$T/devices"
grep SETPHONE "$T/devices" | grep -q E2E-Model || { cat "$T/devices"; fail "model"; }
grep -q 'name="Alice phone"' "$T/devices" || { cat "$T/devices"; fail "friendly name"; }
grep -q 'lang="English"' "$T/devices" || { cat "$T/devices"; fail "language"; }
grep -q 'operator="Carrier"' "$T/devices" || { cat "$T/devices"; fail "operator"; }
grep -q 'outbound-sms=yes' "$T/devices" || { cat "$T/devices"; fail "sms"; }
grep -q 'recovery-password=set' "$T/devices" || { cat "$T/devices"; fail "recovery password listed"; }
grep -q 'recover-42' "$T/devices" && fail "device list shows the recovery password"
[ "$(ctl device password alice SETPHONE)" = recover-42 ] || fail "easctl device password"
if ctl device password alice NOSUCH 2>"$T/err"; then fail "password of an unknown device"; fi
grep -q 'no such device' "$T/err" || { cat "$T/err"; fail "unknown device message"; }
# Sealed at rest: not in the directory's database nor its WAL.
for f in "$T/data/directory.db" "$T/data/directory.db-wal"; do
	[ ! -e "$f" ] || ! grep -qa 'recover-42' "$f" || fail "recovery password in clear in $f"
done
[ "$(stat -c %a "$T/data/secret.key")" = 600 ] || fail "key file mode"
[ "$(stat -c %s "$T/data/secret.key")" = 32 ] || fail "key file size"

# --- Autodiscover.
pox='<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"><Request><EMailAddress>smith@example.org</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema></Request></Autodiscover>'
code=$(curl -s --max-time 15 -o "$T/ad" -w '%{http_code}' -u alice:secret \
	-H 'Content-Type: text/xml' --data-binary "$pox" "$host/Autodiscover/Autodiscover.xml")
[ "$code" = 200 ] || fail "POX: $code"
grep -q '<Url>https://mail.example.org/Microsoft-Server-ActiveSync</Url>' "$T/ad" || { cat "$T/ad"; fail "POX Url"; }
grep -q '<EMailAddress>alice@example.org</EMailAddress>' "$T/ad" || { cat "$T/ad"; fail "POX address"; }
code=$(curl -s --max-time 15 -o /dev/null -w '%{http_code}' \
	-H 'Content-Type: text/xml' --data-binary "$pox" "$host/autodiscover/autodiscover.xml")
[ "$code" = 401 ] || fail "POX without credentials: $code"
code=$(curl -s --max-time 15 -o "$T/ad" -w '%{http_code}' \
	"$host/autodiscover/autodiscover.json?Email=alice%40example.org&Protocol=ActiveSync")
[ "$code" = 200 ] || fail "JSON: $code"
[ "$(cat "$T/ad")" = '{"Protocol":"ActiveSync","Url":"https://mail.example.org/Microsoft-Server-ActiveSync"}' ] ||
	{ cat "$T/ad"; fail "JSON body"; }
code=$(curl -s --max-time 15 -o "$T/ad" -w '%{http_code}' \
	"$host/autodiscover/autodiscover.json/v1.0/alice@example.org?Protocol=Rest")
[ "$code" = 400 ] || fail "JSON other protocol: $code"
grep -q InvalidProtocol "$T/ad" || { cat "$T/ad"; fail "JSON error"; }

# --- Start-up refusals, each with a readable message.
stop_mailbox
refused() { # refused PATTERN: easd-mailbox exits at start saying PATTERN
	if timeout 20 "$EASD_BIN/easd-mailbox" --config "$T/easd.conf" 2>"$T/refused.log"; then
		fail "easd-mailbox started"
	fi
	grep -q -- "$1" "$T/refused.log" || { cat "$T/refused.log"; fail "no '$1'"; }
}
write_conf "smtp_relay = smtp://127.0.0.1:$SMTP_PORT" "oof_reply_period = 30m"
refused '\[mailbox\] oof_reply_period: expected a duration from 1h to 30d'
write_conf "smtp_relay = smtp://127.0.0.1:$SMTP_PORT" "oof_reply_period = 2h"
chmod 644 "$T/data/secret.key"
refused 'secret_key_file .*secret.key: mode 0644.*chmod 600'
chmod 600 "$T/data/secret.key"
start_mailbox
[ "$(ctl device password alice SETPHONE)" = recover-42 ] || fail "password after restart"

# --- Upgrade: a value in clear, as the previous version stored it, is
#     sealed at the next start and leaves the files.
stop_mailbox
sqlite3 "$T/data/directory.db" "UPDATE devices SET recovery_password = 'legacy-77',
	recovery_password_sealed = NULL WHERE device_id = 'SETPHONE'"
grep -qa 'legacy-77' "$T/data/directory.db" || fail "the old value is not in the file to begin with"
start_mailbox
grep -q 'sealed 1 recovery passwords' "$T/mailbox.log" || fail "no migration logged"
[ "$(ctl device password alice SETPHONE)" = legacy-77 ] || fail "migrated password"
for f in "$T/data/directory.db" "$T/data/directory.db-wal"; do
	[ ! -e "$f" ] || ! grep -qa 'legacy-77' "$f" || fail "migrated password still in clear in $f"
done

echo "e2e settings: ok"
