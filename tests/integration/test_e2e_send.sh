#!/usr/bin/env bash
# SendMail, SmartReply and SmartForward end to end with the real daemons:
# easd-mailbox relays through an SMTP sink on loopback (smtp_spool keeps
# every message it accepts), easd-cas serves a provisioned 14.1 device
# and a 16.0 one.  A message with an attachment is delivered over LMTP
# and synced; then SendMail (SaveInSentItems), SmartReply and SmartForward
# (16.0, with a Forwardee) without ReplaceMime arrive at the sink with the
# right envelope and headers (From, To, Subject, In-Reply-To, References),
# the quoted original, and the original's attachment; all three appear in
# Sent Items; the original shows LastVerbExecuted in the next Sync; a
# repeated ClientId -- before and after a mailbox restart -- is answered
# 200 and sent once; a 12.1 raw-MIME SendMail goes out too; a SmartReply to
# an unknown item is Status 150; `easctl probe --send-to` passes its send
# step on 14.1 and 12.1.  Every wait is bounded.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
source "$top/tests/integration/mailbox_lib.sh"
[ -x "$EASD_BIN/easd-mailbox" ] || fail "easd-mailbox not built"
SPOOL_BIN="$EASD_BUILD/tests/integration/smtp_spool"
[ -x "$SPOOL_BIN" ] || fail "smtp_spool not built"
CAS_PID=
SINK_PID=
cas_cleanup() {
	if [ -n "$CAS_PID" ]; then kill -KILL "$CAS_PID" 2>/dev/null || true; fi
	if [ -n "$SINK_PID" ]; then kill -TERM "$SINK_PID" 2>/dev/null || true; fi
}
trap 'rc=$?; cas_cleanup; if [ $rc -ne 0 ]; then echo "--- cas log"; tail -n 30 "$T/cas.log" 2>/dev/null || true; fi; (exit $rc); mbx_cleanup' EXIT

mkdir -p "$T/spool"
"$SPOOL_BIN" "$T/spool" 120 >"$T/sink.port" &
SINK_PID=$!
sink_port=
for _ in $(seq 100); do
	sink_port=$(head -n1 "$T/sink.port" 2>/dev/null || true)
	[ -n "$sink_port" ] && break
	sleep 0.05
done
[ -n "$sink_port" ] || fail "no SMTP sink port"

write_conf "smtp_relay = smtp://127.0.0.1:$sink_port" "queue_retry_s = 1" \
	"[cas]" "http_listen = 127.0.0.1:0" "allow_plain_auth = loopback" \
	"mailbox = unix:$T/mailbox.sock" "log_level = debug"
start_mailbox
printf 'secret\n' | ctl user add alice --password-stdin >/dev/null

"$EASD_BIN/easd-cas" --config "$T/easd.conf" 2>"$T/cas.log" &
CAS_PID=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.*listening on http:.*(port \([0-9]*\)).*/\1/p' "$T/cas.log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || fail "no CAS port"
base="http://127.0.0.1:$port/Microsoft-Server-ActiveSync"

enc() { "$EASD_BIN/easctl" wbxml encode >"$T/body"; }
VER=14.1
DEV=SENDPHONE
# post CMD KEY [CONTENT-TYPE [QUERY-EXTRA]]: body $T/body, reply $T/reply
post() {
	rm -f "$T/reply.xml"
	curl -s --max-time 15 -u alice:secret -o "$T/reply" \
		-w '%{http_code}' -H "MS-ASProtocolVersion: $VER" \
		-H "X-MS-PolicyKey: $2" -H 'User-Agent: E2E/1.0' \
		-H "Content-Type: ${3:-application/vnd.ms-sync.wbxml}" \
		--data-binary @"$T/body" \
		"$base?Cmd=$1&DeviceId=$DEV&DeviceType=TestPhone&User=alice${4:-}"
}
xml() {
	[ -f "$T/reply.xml" ] || "$EASD_BIN/easctl" wbxml decode "$T/reply" |
		tr -d '\n' | sed 's/>  */>/g' >"$T/reply.xml"
	cat "$T/reply.xml"
}
field() { xml | sed -n "s|.*<$1>\([^<]*\)</$1>.*|\1|p" | head -n1; }
# wait_msg N: the sink's N-th message (<= 15 s)
wait_msg() {
	for _ in $(seq 300); do
		[ -f "$T/spool/msg-$1.eml" ] && return 0
		sleep 0.05
	done
	fail "message $1 never reached the SMTP sink"
}
# hdr N NAME: a header line of the sink's N-th message
hdr() { grep -i -m1 "^$2:" "$T/spool/msg-$1.eml" | tr -d '\r'; }
b64() { base64 -w0; }

provision() { # provision: the final policy key on stdout
	local temp
	printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>' | enc
	[ "$(post Provision 0)" = 200 ] || fail "Provision"
	temp=$(field PolicyKey)
	printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>%s</PolicyKey><Status>1</Status></Policy></Policies></Provision>' "$temp" | enc
	[ "$(post Provision "$temp")" = 200 ] || fail "Provision ack"
	field PolicyKey
}
key=$(provision)
printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | enc
[ "$(post FolderSync "$key")" = 200 ] || fail "FolderSync"
folder_id() { # folder_id TYPE
	xml | grep -o "<Add><ServerId>[^<]*</ServerId><ParentId>[^<]*</ParentId><DisplayName>[^<]*</DisplayName><Type>$1</Type>" |
		sed -n 's|<Add><ServerId>\([^<]*\)</ServerId>.*|\1|p' | head -n1
}
inbox=$(folder_id 2)
sent=$(folder_id 5)
[ -n "$inbox" ] && [ -n "$sent" ] || { xml; fail "no Inbox or Sent Items"; }

# The original: text with an attachment, from bob, to alice and carol.
codes=$(printf '%s\r\n' 'From: Bob <bob@remote.test>' 'To: alice@example.org' \
	'Cc: carol@remote.test' 'Subject: quarterly report' \
	'Message-ID: <report-1@remote.test>' 'References: <thread-0@remote.test>' \
	'Date: Wed, 25 Nov 2026 10:00:00 +0000' 'MIME-Version: 1.0' \
	'Content-Type: multipart/mixed; boundary="b1"' '' '--b1' \
	'Content-Type: text/plain; charset=us-ascii' '' \
	'Here are the figures for Q3.' '--b1' \
	'Content-Type: application/pdf; name="q3.pdf"' \
	'Content-Disposition: attachment; filename="q3.pdf"' \
	'Content-Transfer-Encoding: base64' '' 'JVBERi0xLjQKUTMgZmlndXJlcwo=' \
	'--b1--' | "$LMTP_LOAD" send "$LMTP_PORT" bob@remote.test alice@example.org)
[ "$codes" = 250 ] || fail "LMTP: $codes"

sync() { # sync COLLECTION SYNCKEY: the reply of one Sync
	printf '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId><Options><FilterType>0</FilterType></Options></Collection></Collections></Sync>' \
		"$2" "$1" | enc
	[ "$(post Sync "$key")" = 200 ] || fail "Sync $1 $2"
	[ "$(field Status)" = 1 ] || { xml; fail "Sync $1 $2 status"; }
}
sync "$inbox" 0
k1=$(field SyncKey)
sync "$inbox" "$k1"
k2=$(field SyncKey)
orig=$(field ServerId)
[ -n "$orig" ] || { xml; fail "the original was not synced"; }

MSG1=$(printf '%s\r\n' 'From: Alice <alice@example.org>' 'To: Dave <dave@remote.test>' \
	'Bcc: eve@remote.test' 'Subject: hello dave' '' 'First message.' | b64)
sendmail() { # sendmail CLIENTID MIME-B64
	printf '<SendMail xmlns="ComposeMail:"><ClientId>%s</ClientId><SaveInSentItems/><Mime opaque="base64">%s</Mime></SendMail>' "$1" "$2" | enc
	post SendMail "$key"
}

# 1. SendMail: 200 without a body; at the sink with its envelope.
[ "$(sendmail c1 "$MSG1")" = 200 ] || { xml; fail "SendMail"; }
[ ! -s "$T/reply" ] || { xml; fail "SendMail answered a body"; }
wait_msg 1
hdr 1 X-Sink-Mail-From | grep -q 'alice@example.org' || fail "MAIL FROM"
hdr 1 X-Sink-Rcpts | grep -q 'dave@remote.test' || fail "RCPT dave"
hdr 1 X-Sink-Rcpts | grep -q 'eve@remote.test' || fail "Bcc not in the envelope"
grep -qi '^Bcc:' "$T/spool/msg-1.eml" && fail "Bcc header relayed"
hdr 1 From | grep -q 'alice@example.org' || fail "From"
hdr 1 To | grep -q 'dave@remote.test' || fail "To"
hdr 1 Subject | grep -q 'hello dave' || fail "Subject"
hdr 1 Message-Id | grep -q '@' || fail "no Message-ID added"
hdr 1 Date | grep -q '20' || fail "no Date added"

# 2. The same ClientId again (a lost answer): 200, not sent again -- the
#    next message the sink sees is the SmartReply below.
[ "$(sendmail c1 "$MSG1")" = 200 ] || fail "repeated SendMail"

# 3. SmartReply without ReplaceMime: quoted, threaded.
REPLY=$(printf '%s\r\n' 'To: bob@remote.test' 'Subject: RE: quarterly report' \
	'Content-Type: text/plain; charset=us-ascii' '' 'Thanks, looks good.' | b64)
printf '<SmartReply xmlns="ComposeMail:"><ClientId>c2</ClientId><Source><FolderId>%s</FolderId><ItemId>%s</ItemId></Source><SaveInSentItems/><Mime opaque="base64">%s</Mime></SmartReply>' \
	"$inbox" "$orig" "$REPLY" | enc
[ "$(post SmartReply "$key")" = 200 ] || { xml; fail "SmartReply"; }
wait_msg 2
hdr 2 Subject | grep -q 'RE: quarterly report' || { cat "$T/spool/msg-2.eml"; fail "message 2 is not the reply"; }
hdr 2 In-Reply-To | grep -q '<report-1@remote.test>' || fail "In-Reply-To"
hdr 2 References | grep -q '<thread-0@remote.test> <report-1@remote.test>' || fail "References"
hdr 2 X-Sink-Rcpts | grep -q 'bob@remote.test' || fail "reply RCPT"
grep -q 'Thanks, looks good.' "$T/spool/msg-2.eml" || fail "reply text"
grep -q '^> Here are the figures for Q3.' "$T/spool/msg-2.eml" || { cat "$T/spool/msg-2.eml"; fail "original not quoted"; }

# 4. SmartForward from a 16.0 device with a Forwardee: the attachment.
VER=16.0
DEV=SENDPHONE16
key16=$(provision)
FWD=$(printf '%s\r\n' 'To: carol@remote.test' 'Subject: FW: quarterly report' \
	'' 'See below.' | b64)
printf '<SmartForward xmlns="ComposeMail:"><ClientId>c3</ClientId><Source><FolderId>%s</FolderId><ItemId>%s</ItemId></Source><SaveInSentItems/><Forwardees><Forwardee><Name>Frank</Name><Email>frank@remote.test</Email></Forwardee></Forwardees><Mime opaque="base64">%s</Mime></SmartForward>' \
	"$inbox" "$orig" "$FWD" | enc
[ "$(post SmartForward "$key16")" = 200 ] || { xml; fail "SmartForward"; }
wait_msg 3
hdr 3 Subject | grep -q 'FW: quarterly report' || fail "message 3 is not the forward"
hdr 3 X-Sink-Rcpts | grep -q 'carol@remote.test' || fail "forward RCPT"
hdr 3 X-Sink-Rcpts | grep -q 'frank@remote.test' || fail "Forwardee RCPT"
hdr 3 To | grep -q 'frank@remote.test' || fail "Forwardee not in To"
grep -q 'filename="q3.pdf"' "$T/spool/msg-3.eml" || fail "attachment not forwarded"
grep -q 'JVBERi0xLjQKUTMgZmlndXJlcwo=' "$T/spool/msg-3.eml" || fail "attachment bytes"
grep -q 'Here are the figures for Q3.' "$T/spool/msg-3.eml" || fail "forwarded text"
VER=14.1
DEV=SENDPHONE

# 5. A SmartReply to an item that does not exist: Status 150.
printf '<SmartReply xmlns="ComposeMail:"><ClientId>c9</ClientId><Source><FolderId>%s</FolderId><ItemId>99999</ItemId></Source><Mime opaque="base64">%s</Mime></SmartReply>' \
	"$inbox" "$REPLY" | enc
[ "$(post SmartReply "$key")" = 200 ] || fail "SmartReply unknown item"
[ "$(field Status)" = 150 ] || { xml; fail "unknown source: Status $(field Status)"; }

# 6. Sent Items holds the three (each saved after its relay).
n=0
for _ in $(seq 100); do
	sync "$sent" 0
	s1=$(field SyncKey)
	sync "$sent" "$s1"
	n=$(xml | grep -o '<Add>' | wc -l)
	[ "$n" -ge 3 ] && break
	sleep 0.1
done
[ "$n" = 3 ] || { xml; fail "Sent Items holds $n messages"; }
xml | grep -q 'hello dave' || fail "SendMail not in Sent Items"

# 7. The original's reply/forward state in the next Inbox Sync.
sync "$inbox" "$k2"
xml | grep -q "<ServerId>$orig</ServerId>" || { xml; fail "no change for the original"; }
xml | grep -Eq 'LastVerbExecuted>3<' || { xml; fail "no LastVerbExecuted 3"; }
xml | grep -q 'LastVerbExecutionTime>' || fail "no LastVerbExecutionTime"

# 8. A restart, then ClientId c1 once more: still sent only once.
stop_mailbox
start_mailbox
for _ in $(seq 100); do
	code=$(sendmail c1 "$MSG1")
	[ "$code" = 200 ] && break
	sleep 0.1 # the CAS reconnects to the restarted mailbox
done
[ "$code" = 200 ] || fail "SendMail after the restart: $code"
MSG4=$(printf '%s\r\n' 'To: dave@remote.test' 'Subject: after restart' '' 'Fourth.' | b64)
[ "$(sendmail c4 "$MSG4")" = 200 ] || fail "SendMail c4"
wait_msg 4
hdr 4 Subject | grep -q 'after restart' || fail "a ClientId was sent twice across a restart"

# 9. A 12.1 device: raw MIME body, SaveInSent=T in the query.
VER=12.1
DEV=SENDPHONE12
key12=$(provision)
printf '%s\r\n' 'From: alice@example.org' 'To: dave@remote.test' \
	'Subject: from an old phone' '' 'Raw MIME.' >"$T/body"
[ "$(post SendMail "$key12" message/rfc822 '&SaveInSent=T')" = 200 ] || fail "12.1 SendMail"
wait_msg 5
hdr 5 Subject | grep -q 'from an old phone' || fail "12.1 message"

# 10. easctl probe's send step, WBXML (14.1) and raw (12.1).
n=6
for v in 14.1 12.1; do
	printf 'secret\n' | timeout 120 "$EASD_BIN/easctl" probe "$base" alice \
		--password-stdin --protocol "$v" --lmtp "127.0.0.1:$LMTP_PORT" \
		--send-to alice@example.org >"$T/probe-$v.out" 2>&1 ||
		{ cat "$T/probe-$v.out"; fail "probe $v"; }
	grep -q '^ok   Send .*in Sent Items' "$T/probe-$v.out" ||
		{ cat "$T/probe-$v.out"; fail "probe $v: no Send step"; }
	wait_msg "$n"
	hdr "$n" Subject | grep -q 'easctl probe' || fail "probe $v message"
	n=$((n + 1))
done
[ ! -f "$T/spool/msg-$n.eml" ] || fail "an extra message reached the sink"
echo "ok: SendMail, SmartReply, SmartForward, de-duplication, 12.1 raw form"
