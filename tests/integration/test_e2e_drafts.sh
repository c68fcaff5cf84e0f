#!/usr/bin/env bash
# Meeting requests and 16.0 drafts end to end with the real daemons
# (easd-mailbox with an SMTP relay, easd-cas, a 16.1 device):
#  - an invitation delivered over LMTP syncs as IPM.Schedule.Meeting.Request
#    with MeetingRequest (times, Recurrence, Reminder, TimeZone,
#    GlobalObjId) and ContentClass calendarmessage;
#  - a draft added in Drafts with an attachment gets a ServerId and the
#    attachment's FileReference, a Change replaces its subject and body and
#    keeps the attachment, a Fetch serves it back with IsDraft and Bcc;
#  - FileReferences are stable: a draft with three attachments loses its
#    first; the other two still fetch their own bytes by the references
#    the Add answered (ItemOperations, GetAttachment), the deleted one is
#    Status 15, also after a restart of easd-mailbox, and deleting it
#    again fails the Change with Status 8;
#  - Send relays it (tests/integration/smtp_sink_run) with the attachment,
#    and a retried Send (lost answer) is answered the same,
#    Bcc in the envelope only; Drafts no longer has it, Sent Items does,
#    with its Bcc (Sync and ItemOperations).
# Every wait is bounded.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
source "$top/tests/integration/mailbox_lib.sh"
[ -x "$EASD_BIN/easd-mailbox" ] || fail "easd-mailbox not built"
SINK="$EASD_BUILD/tests/integration/smtp_sink_run"
[ -x "$SINK" ] || fail "smtp_sink_run not built"
CAS_PID=
SINK_PID=
cas_cleanup() {
	if [ -n "$CAS_PID" ]; then kill -KILL "$CAS_PID" 2>/dev/null || true; fi
	if [ -n "$SINK_PID" ]; then kill -KILL "$SINK_PID" 2>/dev/null || true; fi
}
trap 'rc=$?; cas_cleanup; if [ $rc -ne 0 ]; then echo "--- cas log"; tail -n 30 "$T/cas.log" 2>/dev/null || true; echo "--- mailbox log"; tail -n 30 "$T/mailbox.log" 2>/dev/null || true; fi; (exit $rc); mbx_cleanup' EXIT

# The relay lives until the script is done (bounded: 300 s on a stuck run).
"$SINK" "$T/sink.stop" "$T/sent.eml" 300 >"$T/sink.port" &
SINK_PID=$!
for _ in $(seq 100); do [ -s "$T/sink.port" ] && break; sleep 0.05; done
sink_port=$(head -n1 "$T/sink.port")
[ -n "$sink_port" ] || fail "no SMTP sink port"

write_conf "smtp_relay = smtp://127.0.0.1:$sink_port" "[cas]" \
	"http_listen = 127.0.0.1:0" "allow_plain_auth = loopback" \
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
post() { # post CMD POLICYKEY: body $T/body, reply $T/reply
	rm -f "$T/reply.xml"
	curl -s --max-time 15 -u alice:secret -o "$T/reply" \
		-w '%{http_code}' -H "MS-ASProtocolVersion: 16.1" \
		-H "X-MS-PolicyKey: $2" -H 'User-Agent: E2E/1.0' \
		-H 'Content-Type: application/vnd.ms-sync.wbxml' \
		--data-binary @"$T/body" \
		"$base?Cmd=$1&DeviceId=DRAFTPHONE&DeviceType=TestPhone&User=alice"
}
xml() {
	[ -f "$T/reply.xml" ] || "$EASD_BIN/easctl" wbxml decode "$T/reply" |
		tr -d '\n' | sed 's/>  */>/g' >"$T/reply.xml"
	cat "$T/reply.xml"
}
field() { xml | sed -n "s|.*<$1>\([^<]*\)</$1>.*|\1|p" | head -n1; }
has() { xml | grep -q -- "$1" || { xml; echo; fail "missing $1"; }; }
folder_of() { # folder_of TYPE: the ServerId of the folder of that type
	xml | grep -o "<Add><ServerId>[^<]*</ServerId><ParentId>[^<]*</ParentId><DisplayName>[^<]*</DisplayName><Type>$1</Type>" |
		sed -n 's|<Add><ServerId>\([^<]*\)</ServerId>.*|\1|p' | head -n1
}

printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>' | enc
[ "$(post Provision 0)" = 200 ] || fail "Provision"
temp=$(field PolicyKey)
printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>%s</PolicyKey><Status>1</Status></Policy></Policies></Provision>' "$temp" | enc
[ "$(post Provision "$temp")" = 200 ] || fail "Provision ack"
key=$(field PolicyKey)
printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | enc
[ "$(post FolderSync "$key")" = 200 ] || fail "FolderSync"
inbox=$(folder_of 2)
drafts=$(folder_of 3)
sent=$(folder_of 5)
[ -n "$inbox" ] && [ -n "$drafts" ] && [ -n "$sent" ] || { xml; fail "folders"; }

NS='xmlns="AirSync:" xmlns:email="Email:" xmlns:email2="Email2:" xmlns:airsyncbase="AirSyncBase:"'
OPTS='<Options><airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type></airsyncbase:BodyPreference></Options>'
sync() { # sync COLLECTION SYNCKEY [COMMANDS]
	printf '<Sync %s><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId>%s%s</Collection></Collections></Sync>' \
		"$NS" "$2" "$1" "$OPTS" "${3:+<Commands>$3</Commands>}" | enc
	[ "$(post Sync "$key")" = 200 ] || fail "Sync $1/$2"
	# The last Status is the collection's unless a command answered.
	[ "${CHECK:-}" = no ] || [ "$(field Status)" = 1 ] ||
		{ xml; fail "Sync status"; }
}

# ---- a meeting request over LMTP
{
	printf 'From: bob@example.com\r\nTo: alice@example.org\r\nSubject: Planning\r\n'
	printf 'Message-ID: <invite@e2e>\r\nMIME-Version: 1.0\r\n'
	printf 'Content-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n'
	printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//e2e//EN\r\nMETHOD:REQUEST\r\n'
	printf 'BEGIN:VEVENT\r\nUID:e2e-meeting-1@example.com\r\nSUMMARY:Planning\r\n'
	printf 'DTSTART;TZID=Europe/Berlin:20261201T100000\r\n'
	printf 'DTEND;TZID=Europe/Berlin:20261201T110000\r\n'
	printf 'DTSTAMP:20261120T080000Z\r\nRRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=4\r\n'
	printf 'LOCATION:Room 1\r\nORGANIZER;CN=Bob:mailto:bob@example.com\r\n'
	printf 'ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alice@example.org\r\n'
	printf 'BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n'
	printf 'END:VEVENT\r\nEND:VCALENDAR\r\n'
} | "$LMTP_LOAD" send "$LMTP_PORT" bob@example.com alice@example.org >"$T/lmtp.code"
[ "$(cat "$T/lmtp.code")" = 250 ] || fail "LMTP $(cat "$T/lmtp.code")"
sync "$inbox" 0
ik=$(field SyncKey)
sync "$inbox" "$ik"
has '<email:MessageClass>IPM.Schedule.Meeting.Request</email:MessageClass>'
has '<email:ContentClass>urn:content-classes:calendarmessage</email:ContentClass>'
has '<email:MeetingRequest>'
has '<email:StartTime>2026-12-01T09:00:00.000Z</email:StartTime>'
has '<email:EndTime>2026-12-01T10:00:00.000Z</email:EndTime>'
has '<email:InstanceType>1</email:InstanceType>'
has '<email:Organizer>bob@example.com</email:Organizer>'
has '<email:Reminder>900</email:Reminder>'
has '<email:ResponseRequested>1</email:ResponseRequested>'
has '<email:Recurrence><email:Type>1</email:Type><email:Interval>1</email:Interval><email:Occurrences>4</email:Occurrences><email:DayOfWeek>4</email:DayOfWeek></email:Recurrence>'
has '<airsyncbase:DisplayName>Room 1</airsyncbase:DisplayName>'
has '<email2:MeetingMessageType>1</email2:MeetingMessageType>'
ik2=$(field SyncKey)
# Europe/Berlin: Bias -60 (0xFFFFFFC4 little-endian), base64 "xP///0".
tz=$(field email:TimeZone)
[ "${tz:0:6}" = "xP///0" ] || fail "TimeZone $tz"
# MS-ASEMAIL 2.2.2.37: class id, no instance date, zero time and
# reserved bytes, size 38, "vCal-Uid", version 1, the UID, NUL.
want=$({
	printf '\x04\x00\x00\x00\x82\x00\xe0\x00\x74\xc5\xb7\x10\x1a\x82\xe0\x08'
	head -c 20 /dev/zero
	printf '\x26\x00\x00\x00vCal-Uid\x01\x00\x00\x00e2e-meeting-1@example.com\x00'
} | base64 -w0)
[ "$(field email:GlobalObjId)" = "$want" ] || fail "GlobalObjId"

# ---- a draft with an attachment
sync "$drafts" 0
dk=$(field SyncKey)
sync "$drafts" "$dk" '<Add><ClientId>d1</ClientId><ApplicationData><email:To>bob@example.com</email:To><email2:Bcc>carol@example.net</email2:Bcc><email:Subject>Draft one</email:Subject><email:Importance>2</email:Importance><airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:Data>hello</airsyncbase:Data></airsyncbase:Body><airsyncbase:Attachments><airsyncbase:Add><airsyncbase:ClientId>a1</airsyncbase:ClientId><airsyncbase:DisplayName>note.txt</airsyncbase:DisplayName><airsyncbase:Content>attached bytes</airsyncbase:Content><airsyncbase:ContentType>text/plain</airsyncbase:ContentType><airsyncbase:Method>1</airsyncbase:Method></airsyncbase:Add></airsyncbase:Attachments></ApplicationData></Add>'
dk=$(field SyncKey)
has '<Responses><Add><ClientId>d1</ClientId><ServerId>'
has '<airsyncbase:ClientId>a1</airsyncbase:ClientId><airsyncbase:FileReference>'
draft=$(xml | sed -n 's|.*<Add><ClientId>d1</ClientId><ServerId>\([^<]*\)</ServerId>.*|\1|p')
[ -n "$draft" ] || fail "no draft ServerId"

# An Email Add outside Drafts is refused with Status 6.
CHECK=no sync "$inbox" "$ik2" \
	'<Add><ClientId>x1</ClientId><ApplicationData><email:Subject>nope</email:Subject></ApplicationData></Add>'
has '<Status>1</Status><Responses><Add><ClientId>x1</ClientId><Status>6</Status></Add>'

# A Change replaces subject and body, keeps the attachment.
sync "$drafts" "$dk" "<Change><ServerId>$draft</ServerId><ApplicationData><email:Subject>Draft two</email:Subject><airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:Data>hello again</airsyncbase:Data></airsyncbase:Body></ApplicationData></Change>"
dk=$(field SyncKey)
xml | grep -q '<Responses>' && { xml; fail "a successful draft Change got a response"; }
# A second attachment added by a Change (its FileReference comes back),
# then deleted by that FileReference; the first one stays.
sync "$drafts" "$dk" "<Change><ServerId>$draft</ServerId><ApplicationData><airsyncbase:Attachments><airsyncbase:Add><airsyncbase:ClientId>a2</airsyncbase:ClientId><airsyncbase:DisplayName>extra.bin</airsyncbase:DisplayName><airsyncbase:Content>xyz</airsyncbase:Content><airsyncbase:Method>1</airsyncbase:Method></airsyncbase:Add></airsyncbase:Attachments></ApplicationData></Change>"
dk=$(field SyncKey)
has "<Responses><Change><ServerId>$draft</ServerId><ApplicationData><airsyncbase:Attachments><airsyncbase:Attachment><airsyncbase:ClientId>a2</airsyncbase:ClientId>"
ref2=$(field airsyncbase:FileReference)
[ -n "$ref2" ] || fail "no FileReference for a2"
sync "$drafts" "$dk" "<Change><ServerId>$draft</ServerId><ApplicationData><airsyncbase:Attachments><airsyncbase:Delete><airsyncbase:FileReference>$ref2</airsyncbase:FileReference></airsyncbase:Delete></airsyncbase:Attachments></ApplicationData></Change>"
dk=$(field SyncKey)
sync "$drafts" "$dk" "<Fetch><ServerId>$draft</ServerId></Fetch>"
dk=$(field SyncKey)
has '<email:Subject>Draft two</email:Subject>'
has 'hello again'
has '<airsyncbase:DisplayName>note.txt</airsyncbase:DisplayName>'
xml | grep -q 'extra.bin' && fail "deleted attachment still there"
has '<email2:IsDraft>1</email2:IsDraft>'
has '<email2:Bcc>carol@example.net</email2:Bcc>'
has '<email:Importance>2</email:Importance>'

# ---- stable FileReferences (MS-ASAIRS 2.2.2.24.1)
ref_of() { # ref_of CLIENTID: the FileReference the response gave it
	xml | sed -n "s|.*<airsyncbase:ClientId>$1</airsyncbase:ClientId><airsyncbase:FileReference>\([^<]*\)</airsyncbase:FileReference>.*|\1|p" | head -n1
}
att_add() { # att_add CLIENTID NAME TEXT
	printf '<airsyncbase:Add><airsyncbase:ClientId>%s</airsyncbase:ClientId><airsyncbase:DisplayName>%s</airsyncbase:DisplayName><airsyncbase:Content>%s</airsyncbase:Content><airsyncbase:ContentType>text/plain</airsyncbase:ContentType><airsyncbase:Method>1</airsyncbase:Method></airsyncbase:Add>' "$1" "$2" "$3"
}
fetch_ref() { # fetch_ref REF: ItemOperations Fetch by FileReference
	printf '<ItemOperations xmlns="ItemOperations:" xmlns:airsyncbase="AirSyncBase:"><Fetch><Store>Mailbox</Store><airsyncbase:FileReference>%s</airsyncbase:FileReference></Fetch></ItemOperations>' "$1" | enc
	[ "$(post ItemOperations "$key")" = 200 ] || fail "ItemOperations $1"
}
fetched_is() { # fetched_is REF TEXT: Status 1 and exactly TEXT
	fetch_ref "$1"
	[ "$(field Status)" = 1 ] || { xml; fail "fetch $1 status"; }
	got=$(xml | sed -n 's|.*<Data opaque="base64">\([^<]*\)</Data>.*|\1|p' | base64 -d)
	[ "$got" = "$2" ] || fail "fetch $1: '$got', not '$2'"
}
not_found() { # not_found REF: ItemOperations Status 15
	fetch_ref "$1"
	xml | grep -q '<Fetch><Status>15</Status>' || { xml; fail "$1 still found"; }
}
three="<Add><ClientId>d2</ClientId><ApplicationData><email:To>bob@example.com</email:To><email:Subject>Three files</email:Subject><airsyncbase:Attachments>$(att_add b1 one.txt 'first file')$(att_add b2 two.txt 'second file')$(att_add b3 three.txt 'third file')</airsyncbase:Attachments></ApplicationData></Add>"
before_add=$dk
sync "$drafts" "$dk" "$three"
first_answer=$(xml)
dk=$(field SyncKey)
# The answer was lost: the same request again gets the same bytes, the
# same ServerId and FileReferences (the recorded outcome), no second draft.
sync "$drafts" "$before_add" "$three"
[ "$(xml)" = "$first_answer" ] || { xml; fail "the resent draft Add got another answer"; }
d2=$(xml | sed -n 's|.*<Add><ClientId>d2</ClientId><ServerId>\([^<]*\)</ServerId>.*|\1|p')
b1=$(ref_of b1)
b2=$(ref_of b2)
b3=$(ref_of b3)
[ -n "$d2" ] && [ -n "$b1" ] && [ -n "$b2" ] && [ -n "$b3" ] || { xml; fail "three-file draft"; }
fetched_is "$b2" 'second file'
sync "$drafts" "$dk" "<Change><ServerId>$d2</ServerId><ApplicationData><airsyncbase:Attachments><airsyncbase:Delete><airsyncbase:FileReference>$b1</airsyncbase:FileReference></airsyncbase:Delete></airsyncbase:Attachments></ApplicationData></Change>"
dk=$(field SyncKey)
fetched_is "$b3" 'third file'
fetched_is "$b2" 'second file'
not_found "$b1"
code=$(curl -s --max-time 15 -u alice:secret -o "$T/ga.bin" -w '%{http_code}' \
	-X POST -H "MS-ASProtocolVersion: 12.1" -H "X-MS-PolicyKey: $key" \
	"$base?Cmd=GetAttachment&AttachmentName=$b3&DeviceId=DRAFTPHONE&DeviceType=TestPhone&User=alice")
[ "$code" = 200 ] && [ "$(cat "$T/ga.bin")" = 'third file' ] || fail "GetAttachment $b3: $code"
# The references survive a restart of the mailbox (the CAS reconnects).
stop_mailbox
start_mailbox
for _ in $(seq 100); do
	fetch_ref "$b3"
	[ "$(field Status)" = 1 ] && break
	sleep 0.1
done
fetched_is "$b3" 'third file'
fetched_is "$b2" 'second file'
not_found "$b1"
sync "$drafts" "$dk" "<Fetch><ServerId>$d2</ServerId></Fetch>"
dk=$(field SyncKey)
[ "$(xml | grep -o '<airsyncbase:FileReference>[^<]*</airsyncbase:FileReference>' | tr '\n' ' ')" = \
	"<airsyncbase:FileReference>$b2</airsyncbase:FileReference> <airsyncbase:FileReference>$b3</airsyncbase:FileReference> " ] ||
	{ xml; fail "listed references after the delete"; }
# Deleting the spent reference again: Status 8 (MS-ASCMD 2.2.3.177.17).
CHECK=no sync "$drafts" "$dk" "<Change><ServerId>$d2</ServerId><ApplicationData><airsyncbase:Attachments><airsyncbase:Delete><airsyncbase:FileReference>$b1</airsyncbase:FileReference></airsyncbase:Delete></airsyncbase:Attachments></ApplicationData></Change>"
dk=$(field SyncKey)
has "<Responses><Change><ServerId>$d2</ServerId><Status>8</Status></Change>"
# An edit with Read and Categories in the same Change: all of it applies;
# then Categories alone (a flag change: the draft is not rebuilt) keeps
# Read and the references.
sync "$drafts" "$dk" "<Change><ServerId>$d2</ServerId><ApplicationData><email:Subject>Two files</email:Subject><email:Read>1</email:Read><email:Categories><email:Category>Blue</email:Category></email:Categories></ApplicationData></Change>"
dk=$(field SyncKey)
sync "$drafts" "$dk" "<Change><ServerId>$d2</ServerId><ApplicationData><email:Categories><email:Category>Red</email:Category></email:Categories></ApplicationData></Change>"
dk=$(field SyncKey)
sync "$drafts" "$dk" "<Fetch><ServerId>$d2</ServerId></Fetch>"
dk=$(field SyncKey)
has '<email:Subject>Two files</email:Subject>'
has '<email:Read>1</email:Read>'
has '<email:Categories><email:Category>Red</email:Category></email:Categories>'
fetched_is "$b3" 'third file'

# Send: relayed with the attachment, Bcc only in the envelope.
before_send=$dk
sync "$drafts" "$dk" "<Change><ServerId>$draft</ServerId><email2:Send/><ApplicationData/></Change>"
first_answer=$(xml)
dk=$(field SyncKey)
# The answer was lost: the phone sends the same request with the same key
# and must get the same answer (reliability.md G3/G4), not Status 8 for a
# draft that is already gone; the mailbox replays the recorded outcome
# instead of sending again.
sync "$drafts" "$before_send" "<Change><ServerId>$draft</ServerId><email2:Send/><ApplicationData/></Change>"
[ "$(xml)" = "$first_answer" ] || { xml; fail "the retried Send got another answer"; }
sync "$sent" 0
sk=$(field SyncKey)
got=
for _ in $(seq 100); do
	sync "$sent" "$sk"
	sk=$(field SyncKey)
	if xml | grep -q '<email:Subject>Draft two</email:Subject>'; then got=1; break; fi
	sleep 0.1
done
[ -n "$got" ] || fail "Sent Items has no copy"
# The Sent Items copy keeps the Bcc (MS-ASEMAIL 2.2.2.10), in Sync and in
# ItemOperations; it is no draft any more.
has '<email2:Bcc>carol@example.net</email2:Bcc>'
has '<email2:IsDraft>0</email2:IsDraft>'
sent_id=$(xml | sed -n 's|.*<Add><ServerId>\([^<]*\)</ServerId>.*|\1|p' | head -n1)
[ -n "$sent_id" ] || fail "no Sent Items ServerId"
printf '<ItemOperations xmlns="ItemOperations:" xmlns:airsync="AirSync:" xmlns:airsyncbase="AirSyncBase:"><Fetch><Store>Mailbox</Store><airsync:CollectionId>%s</airsync:CollectionId><airsync:ServerId>%s</airsync:ServerId><Options><airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type></airsyncbase:BodyPreference></Options></Fetch></ItemOperations>' \
	"$sent" "$sent_id" | enc
[ "$(post ItemOperations "$key")" = 200 ] || fail "ItemOperations Sent Items"
has '<email2:Bcc>carol@example.net</email2:Bcc>'
has '<email:Subject>Draft two</email:Subject>'
touch "$T/sink.stop"
wait "$SINK_PID" || fail "the relay received nothing"
SINK_PID=
grep -q '^Subject: Draft two' "$T/sent.eml" || fail "relayed subject"
grep -q 'note.txt' "$T/sent.eml" || fail "relayed attachment"
grep -qi '^Bcc:' "$T/sent.eml" && fail "Bcc header relayed"
grep -q 'carol@example.net' "$T/sent.eml.env" || fail "Bcc not in the envelope"
grep -q 'bob@example.com' "$T/sent.eml.env" || fail "To not in the envelope"
# Drafts no longer has it.
CHECK=no sync "$drafts" "$dk" "<Fetch><ServerId>$draft</ServerId></Fetch>"
has "<Fetch><ServerId>$draft</ServerId><Status>8</Status>"
echo ok
