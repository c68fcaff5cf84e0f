#!/usr/bin/env bash
# Calendar items (MS-ASCAL) end to end with the real daemons (easd-mailbox
# with an SMTP relay, easd-cas) and three devices of one user:
#  - a 14.1 phone adds a weekly meeting with a time zone, attendees,
#    categories, a deleted and a moved occurrence;
#  - a second 14.1 phone syncs it and sees the same fields, a 16.1 phone
#    sees the 16.x form (airsyncbase:Location, exceptions by InstanceId);
#  - the 16.1 phone moves one more occurrence by InstanceId (a Change) and
#    deletes another (a Delete with InstanceId), adds an event of its own
#    with ClientUid and gets a server UID; the 14.1 phones see it all;
#  - bad events get Status 6 and leave the collection working; a retried
#    Sync (lost answer) gets the same ServerId, not a second event;
#  - a Change replaces the subject and keeps UID and exceptions; a Delete
#    reaches the other phones;
#  - SmartForward of one occurrence (InstanceId) arrives at the SMTP relay
#    with a text/calendar METHOD:REQUEST part for that occurrence.
# Every wait is bounded.
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
trap 'rc=$?; cas_cleanup; if [ $rc -ne 0 ]; then echo "--- cas log"; tail -n 30 "$T/cas.log" 2>/dev/null || true; echo "--- mailbox log"; tail -n 30 "$T/mailbox.log" 2>/dev/null || true; fi; (exit $rc); mbx_cleanup' EXIT

mkdir -p "$T/spool"
"$SPOOL_BIN" "$T/spool" 120 >"$T/sink.port" &
SINK_PID=$!
for _ in $(seq 100); do [ -s "$T/sink.port" ] && break; sleep 0.05; done
sink_port=$(head -n1 "$T/sink.port")
[ -n "$sink_port" ] || fail "no SMTP sink port"

write_conf "smtp_relay = smtp://127.0.0.1:$sink_port" "queue_retry_s = 1" "[cas]" \
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

# The device of the next requests: DEV (DeviceId), VER (protocol).
DEV=PHONEA
VER=14.1
enc() { "$EASD_BIN/easctl" wbxml encode >"$T/body"; }
post() { # post CMD [QUERY]: body $T/body, reply $T/reply
	rm -f "$T/reply.xml"
	curl -s --max-time 15 -u alice:secret -o "$T/reply" \
		-w '%{http_code}' -H "MS-ASProtocolVersion: $VER" \
		-H "X-MS-PolicyKey: ${KEYS[$DEV]:-0}" -H 'User-Agent: E2E/1.0' \
		-H 'Content-Type: application/vnd.ms-sync.wbxml' \
		--data-binary @"$T/body" \
		"$base?Cmd=$1&DeviceId=$DEV&DeviceType=TestPhone&User=alice${2:-}"
}
xml() {
	[ -f "$T/reply.xml" ] || "$EASD_BIN/easctl" wbxml decode "$T/reply" |
		tr -d '\n' | sed 's/>  */>/g' >"$T/reply.xml"
	cat "$T/reply.xml"
}
field() { xml | sed -n "s|.*<$1>\([^<]*\)</$1>.*|\1|p" | head -n1; }
has() { xml | grep -q -- "$1" || { xml; echo; fail "$DEV: missing $1"; }; }
hasnt() { ! xml | grep -q -- "$1" || { xml; echo; fail "$DEV: unexpected $1"; }; }
folder_of() { # folder_of TYPE: the ServerId of the folder of that type
	xml | grep -o "<Add><ServerId>[^<]*</ServerId><ParentId>[^<]*</ParentId><DisplayName>[^<]*</DisplayName><Type>$1</Type>" |
		sed -n 's|<Add><ServerId>\([^<]*\)</ServerId>.*|\1|p' | head -n1
}
declare -A KEYS SK
setup() { # setup DEVICE VERSION: provision, FolderSync
	DEV=$1 VER=$2
	printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>' | enc
	[ "$(post Provision)" = 200 ] || fail "Provision"
	KEYS[$DEV]=$(field PolicyKey)
	printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>%s</PolicyKey><Status>1</Status></Policy></Policies></Provision>' "${KEYS[$DEV]}" | enc
	[ "$(post Provision)" = 200 ] || fail "Provision ack"
	KEYS[$DEV]=$(field PolicyKey)
	printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | enc
	[ "$(post FolderSync)" = 200 ] || fail "FolderSync"
	cal=$(folder_of 8)
	inbox=$(folder_of 2)
	[ -n "$cal" ] && [ -n "$inbox" ] || { xml; fail "folders"; }
	SK[$DEV]=0
}
use() { DEV=$1 VER=$2; }

NS='xmlns="AirSync:" xmlns:cal="Calendar:" xmlns:airsyncbase="AirSyncBase:"'
OPTS='<Options><airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type></airsyncbase:BodyPreference></Options>'
sync() { # sync [COMMANDS]: the device's calendar from its key
	printf '<Sync %s><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId>%s%s</Collection></Collections></Sync>' \
		"$NS" "${SK[$DEV]}" "$cal" "$OPTS" "${1:+<Commands>$1</Commands>}" | enc
	[ "$(post Sync)" = 200 ] || fail "Sync $DEV/${SK[$DEV]}"
	[ "${CHECK:-}" = no ] || [ "$(field Status)" = 1 ] ||
		{ xml; fail "Sync status"; }
	SK[$DEV]=$(field SyncKey)
}

# A TIME_ZONE_INFORMATION as Windows and iOS send it for Berlin: Bias -60,
# last Sunday of October 03:00 / last Sunday of March 02:00, DST -60.
name16() { local s=$1 i; for ((i = 0; i < ${#s}; i++)); do printf '%s\0' "${s:i:1}"; done; head -c $((64 - 2 * ${#s})) /dev/zero; }
TZ_BERLIN=$({
	printf '\xc4\xff\xff\xff'; name16 "W. Europe Standard Time"
	printf '\0\0\x0a\0\0\0\x05\0\x03\0\0\0\0\0\0\0'; printf '\0\0\0\0'
	name16 "W. Europe Daylight Time"
	printf '\0\0\x03\0\0\0\x05\0\x02\0\0\0\0\0\0\0'; printf '\xc4\xff\xff\xff'
} | base64 -w0)
[ "$(printf '%s' "$TZ_BERLIN" | base64 -d | wc -c)" = 172 ] || fail "tz blob"

EVENT="<cal:TimeZone>$TZ_BERLIN</cal:TimeZone><cal:AllDayEvent>0</cal:AllDayEvent><airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:Data>Agenda: plans</airsyncbase:Data></airsyncbase:Body><cal:BusyStatus>2</cal:BusyStatus><cal:OrganizerName>Alice</cal:OrganizerName><cal:OrganizerEmail>alice@example.org</cal:OrganizerEmail><cal:DtStamp>20261120T080000Z</cal:DtStamp><cal:EndTime>20261201T100000Z</cal:EndTime><cal:Location>Room 7</cal:Location><cal:Reminder>15</cal:Reminder><cal:Sensitivity>0</cal:Sensitivity><cal:Subject>Weekly sync</cal:Subject><cal:StartTime>20261201T090000Z</cal:StartTime><cal:UID>uid-weekly-1@example.org</cal:UID><cal:MeetingStatus>1</cal:MeetingStatus><cal:Attendees><cal:Attendee><cal:Email>bob@example.com</cal:Email><cal:Name>Bob</cal:Name><cal:AttendeeType>1</cal:AttendeeType></cal:Attendee><cal:Attendee><cal:Email>carol@example.net</cal:Email><cal:Name>Carol</cal:Name><cal:AttendeeType>2</cal:AttendeeType></cal:Attendee></cal:Attendees><cal:Categories><cal:Category>Work</cal:Category></cal:Categories><cal:Recurrence><cal:Type>1</cal:Type><cal:Interval>1</cal:Interval><cal:Occurrences>10</cal:Occurrences><cal:DayOfWeek>4</cal:DayOfWeek><cal:FirstDayOfWeek>1</cal:FirstDayOfWeek></cal:Recurrence><cal:Exceptions><cal:Exception><cal:Deleted>1</cal:Deleted><cal:ExceptionStartTime>20261208T090000Z</cal:ExceptionStartTime></cal:Exception><cal:Exception><cal:ExceptionStartTime>20261215T090000Z</cal:ExceptionStartTime><cal:Subject>Weekly sync (moved)</cal:Subject><cal:StartTime>20261216T130000Z</cal:StartTime><cal:EndTime>20261216T140000Z</cal:EndTime></cal:Exception></cal:Exceptions><cal:ResponseRequested>1</cal:ResponseRequested>"

setup PHONEA 14.1
setup PHONEB 14.1
setup PHONEC 16.1

# ---- the 14.1 phone adds the meeting
use PHONEA 14.1
sync
before_add=${SK[$DEV]}
sync "<Add><ClientId>c1</ClientId><ApplicationData>$EVENT</ApplicationData></Add>"
has '<Responses><Add><ClientId>c1</ClientId><ServerId>'
ev=$(xml | sed -n 's|.*<Add><ClientId>c1</ClientId><ServerId>\([^<]*\)</ServerId><Status>1</Status>.*|\1|p')
[ -n "$ev" ] || fail "no ServerId for the event"
first_answer=$(xml)
# The answer was lost: the same Add with the same key gets the same
# ServerId (reliability G4), and no second event exists.
SK[$DEV]=$before_add
sync "<Add><ClientId>c1</ClientId><ApplicationData>$EVENT</ApplicationData></Add>"
[ "$(xml)" = "$first_answer" ] || { xml; fail "retried Add answered differently"; }

# ---- the second 14.1 phone sees the same fields
use PHONEB 14.1
sync
sync
[ "$(xml | grep -o '<Add><ServerId>' | wc -l)" = 1 ] || { xml; fail "not exactly one event"; }
has "<Add><ServerId>$ev</ServerId><ApplicationData>"
has "<calendar:TimeZone>$TZ_BERLIN</calendar:TimeZone>"
has '<calendar:Subject>Weekly sync</calendar:Subject>'
has '<calendar:StartTime>20261201T090000Z</calendar:StartTime>'
has '<calendar:EndTime>20261201T100000Z</calendar:EndTime>'
has '<calendar:DtStamp>20261120T080000Z</calendar:DtStamp>'
has '<calendar:Location>Room 7</calendar:Location>'
has '<calendar:UID>uid-weekly-1@example.org</calendar:UID>'
has '<calendar:OrganizerEmail>alice@example.org</calendar:OrganizerEmail>'
has '<calendar:BusyStatus>2</calendar:BusyStatus>'
has '<calendar:Reminder>15</calendar:Reminder>'
has '<calendar:MeetingStatus>1</calendar:MeetingStatus>'
has '<airsyncbase:Data>Agenda: plans</airsyncbase:Data>'
has '<calendar:Attendee><calendar:Email>bob@example.com</calendar:Email><calendar:Name>Bob</calendar:Name><calendar:AttendeeType>1</calendar:AttendeeType></calendar:Attendee>'
has '<calendar:Attendee><calendar:Email>carol@example.net</calendar:Email><calendar:Name>Carol</calendar:Name><calendar:AttendeeType>2</calendar:AttendeeType></calendar:Attendee>'
has '<calendar:Categories><calendar:Category>Work</calendar:Category></calendar:Categories>'
has '<calendar:Recurrence><calendar:Type>1</calendar:Type><calendar:Occurrences>10</calendar:Occurrences><calendar:Interval>1</calendar:Interval><calendar:DayOfWeek>4</calendar:DayOfWeek><calendar:FirstDayOfWeek>1</calendar:FirstDayOfWeek></calendar:Recurrence>'
has '<calendar:Exception><calendar:Deleted>1</calendar:Deleted><calendar:ExceptionStartTime>20261208T090000Z</calendar:ExceptionStartTime></calendar:Exception>'
has '<calendar:Exception><calendar:ExceptionStartTime>20261215T090000Z</calendar:ExceptionStartTime><calendar:Subject>Weekly sync (moved)</calendar:Subject><calendar:StartTime>20261216T130000Z</calendar:StartTime><calendar:EndTime>20261216T140000Z</calendar:EndTime></calendar:Exception>'
has '<calendar:ResponseRequested>1</calendar:ResponseRequested>'

# ---- the 16.1 phone: 16.x form
use PHONEC 16.1
sync
sync
has "<Add><ServerId>$ev</ServerId>"
has '<airsyncbase:Location><airsyncbase:DisplayName>Room 7</airsyncbase:DisplayName></airsyncbase:Location>'
has '<calendar:Exception><calendar:Deleted>1</calendar:Deleted><airsyncbase:InstanceId>20261208T090000Z</airsyncbase:InstanceId></calendar:Exception>'
hasnt '<calendar:ExceptionStartTime>'
hasnt '<calendar:Location>'

# One occurrence moved (Change with InstanceId), another deleted.
sync "<Change><ServerId>$ev</ServerId><airsyncbase:InstanceId>20261222T090000Z</airsyncbase:InstanceId><ApplicationData><cal:Subject>Year end sync</cal:Subject><cal:StartTime>20261222T150000Z</cal:StartTime><cal:EndTime>20261222T160000Z</cal:EndTime></ApplicationData></Change><Delete><ServerId>$ev</ServerId><airsyncbase:InstanceId>20261229T090000Z</airsyncbase:InstanceId></Delete>"
hasnt '<Responses>'
# An event of its own: ClientUid, no UID; the server makes the UID.
sync "<Add><ClientId>n1</ClientId><ApplicationData><cal:TimeZone>$TZ_BERLIN</cal:TimeZone><cal:AllDayEvent>1</cal:AllDayEvent><cal:StartTime>20261224T230000Z</cal:StartTime><cal:EndTime>20261225T230000Z</cal:EndTime><cal:Subject>Holiday</cal:Subject><cal:ClientUid>0F1E2D3C-iOS-client-uid-0000001</cal:ClientUid><cal:BusyStatus>3</cal:BusyStatus></ApplicationData></Add>"
own=$(xml | sed -n 's|.*<Add><ClientId>n1</ClientId><ServerId>\([^<]*\)</ServerId><Status>1</Status>.*|\1|p')
[ -n "$own" ] || { xml; fail "no ServerId for the 16.1 Add"; }

# Bad events: Status 6 for each, the rest of the Sync works.
CHECK=no sync "<Add><ClientId>b1</ClientId><ApplicationData><cal:Subject>x</cal:Subject><cal:StartTime>20261201T100000Z</cal:StartTime><cal:EndTime>20261201T090000Z</cal:EndTime></ApplicationData></Add><Add><ClientId>b2</ClientId><ApplicationData><cal:TimeZone>AAAA</cal:TimeZone><cal:Subject>y</cal:Subject></ApplicationData></Add><Add><ClientId>b3</ClientId><ApplicationData><cal:Subject>z</cal:Subject><cal:StartTime>yesterday</cal:StartTime></ApplicationData></Add>"
has '<Add><ClientId>b1</ClientId><Status>6</Status></Add>'
has '<Add><ClientId>b2</ClientId><Status>6</Status></Add>'
has '<Add><ClientId>b3</ClientId><Status>6</Status></Add>'

# ---- the 14.1 phones see the new exceptions and the new event
use PHONEB 14.1
sync
has "<Change><ServerId>$ev</ServerId>"
has '<calendar:Exception><calendar:ExceptionStartTime>20261222T090000Z</calendar:ExceptionStartTime><calendar:Subject>Year end sync</calendar:Subject><calendar:StartTime>20261222T150000Z</calendar:StartTime><calendar:EndTime>20261222T160000Z</calendar:EndTime>'
has '<calendar:Exception><calendar:Deleted>1</calendar:Deleted><calendar:ExceptionStartTime>20261229T090000Z</calendar:ExceptionStartTime></calendar:Exception>'
has '<calendar:Exception><calendar:Deleted>1</calendar:Deleted><calendar:ExceptionStartTime>20261208T090000Z</calendar:ExceptionStartTime></calendar:Exception>'
has "<Add><ServerId>$own</ServerId>"
has '<calendar:Subject>Holiday</calendar:Subject>'
has '<calendar:AllDayEvent>1</calendar:AllDayEvent>'
uid=$(xml | sed -n "s|.*<Add><ServerId>$own</ServerId>.*<calendar:UID>\([^<]*\)</calendar:UID>.*|\1|p")
[ ${#uid} = 32 ] || { xml; fail "server UID '$uid'"; }
hasnt '<calendar:ClientUid>'

# ---- a Change from the first phone: subject replaced, UID and
# exceptions kept (no Exceptions element sent), ItemEstimate sees it.
use PHONEA 14.1
sync
sync "<Change><ServerId>$ev</ServerId><ApplicationData><cal:TimeZone>$TZ_BERLIN</cal:TimeZone><cal:OrganizerName>Alice</cal:OrganizerName><cal:OrganizerEmail>alice@example.org</cal:OrganizerEmail><cal:Subject>Weekly sync v2</cal:Subject><cal:StartTime>20261201T090000Z</cal:StartTime><cal:Attendees><cal:Attendee><cal:Email>bob@example.com</cal:Email><cal:Name>Bob</cal:Name><cal:AttendeeStatus>3</cal:AttendeeStatus><cal:AttendeeType>1</cal:AttendeeType></cal:Attendee></cal:Attendees><cal:EndTime>20261201T100000Z</cal:EndTime><cal:Recurrence><cal:Type>1</cal:Type><cal:Interval>1</cal:Interval><cal:Occurrences>10</cal:Occurrences><cal:DayOfWeek>4</cal:DayOfWeek></cal:Recurrence></ApplicationData></Change>"
hasnt '<Responses>'
use PHONEB 14.1
printf '<GetItemEstimate xmlns="GetItemEstimate:" xmlns:airsync="AirSync:"><Collections><Collection><airsync:SyncKey>%s</airsync:SyncKey><CollectionId>%s</CollectionId></Collection></Collections></GetItemEstimate>' "${SK[$DEV]}" "$cal" | enc
[ "$(post GetItemEstimate)" = 200 ] || fail "GetItemEstimate"
[ "$(field Estimate)" = 1 ] || { xml; fail "estimate"; }
sync
has "<Change><ServerId>$ev</ServerId>"
has '<calendar:Subject>Weekly sync v2</calendar:Subject>'
has '<calendar:UID>uid-weekly-1@example.org</calendar:UID>'
has '<calendar:ExceptionStartTime>20261222T090000Z</calendar:ExceptionStartTime>'
has '<airsyncbase:Data>Agenda: plans</airsyncbase:Data>'
# Fetch of one event by ServerId.
sync "<Fetch><ServerId>$ev</ServerId></Fetch>"
has "<Fetch><ServerId>$ev</ServerId><Status>1</Status><ApplicationData>"
has '<calendar:Subject>Weekly sync v2</calendar:Subject>'

# ---- SmartForward of one occurrence (14.1 WBXML, InstanceId), without
# ReplaceMime: the event becomes a text/calendar METHOD:REQUEST part.
use PHONEA 14.1
FWD=$(printf '%s\r\n' 'To: dave@remote.test' 'Subject: FW: Year end sync' '' 'Join us.' | base64 -w0)
printf '<SmartForward xmlns="ComposeMail:"><ClientId>f1</ClientId><Source><FolderId>%s</FolderId><ItemId>%s</ItemId><InstanceId>2026-12-22T09:00:00.000Z</InstanceId></Source><SaveInSentItems/><Mime opaque="base64">%s</Mime></SmartForward>' \
	"$cal" "$ev" "$FWD" | enc
[ "$(post SmartForward)" = 200 ] || { xml; fail "SmartForward"; }
[ ! -s "$T/reply" ] || { xml; fail "SmartForward answered with a status"; }
for _ in $(seq 300); do [ -f "$T/spool/msg-1.eml" ] && break; sleep 0.05; done
m="$T/spool/msg-1.eml"
[ -f "$m" ] || fail "the forward never reached the SMTP sink"
tr -d '\r' <"$m" >"$T/fwd.eml"
grep -qi '^X-Sink-Rcpts:.*dave@remote.test' "$T/fwd.eml" || { cat "$T/fwd.eml"; fail "forward RCPT"; }
grep -qi '^Content-Type: text/calendar; *method=REQUEST' "$T/fwd.eml" || { cat "$T/fwd.eml"; fail "no text/calendar part"; }
grep -q '^METHOD:REQUEST' "$T/fwd.eml" || { cat "$T/fwd.eml"; fail "no METHOD"; }
grep -q '^UID:uid-weekly-1@example.org' "$T/fwd.eml" || fail "UID"
[ -z "${SHOW_FORWARD:-}" ] || cat "$T/fwd.eml"
grep -q '^RECURRENCE-ID;TZID=Europe/Berlin:20261222T100000$' "$T/fwd.eml" || { cat "$T/fwd.eml"; fail "RECURRENCE-ID"; }
grep -q '^DTSTART;TZID=Europe/Berlin:20261222T160000$' "$T/fwd.eml" || fail "moved DTSTART"
grep -q '^SUMMARY:Year end sync' "$T/fwd.eml" || fail "SUMMARY"
grep -q '^TZID:Europe/Berlin' "$T/fwd.eml" || fail "VTIMEZONE"
grep -q 'ATTENDEE;CN=Bob;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED' "$T/fwd.eml" || { cat "$T/fwd.eml"; fail "ATTENDEE"; }
grep -q '^ORGANIZER;CN=Alice:mailto:alice@example.org' "$T/fwd.eml" || fail "ORGANIZER"
grep -q 'Join us.' "$T/fwd.eml" || fail "the client's text"
sed -n '/^BEGIN:VEVENT/,/^END:VEVENT/p' "$T/fwd.eml" >"$T/fwd.vevent"
[ "$(grep -c '^BEGIN:VEVENT' "$T/fwd.vevent")" = 1 ] || fail "not one VEVENT"
grep -q '^RRULE' "$T/fwd.vevent" && fail "an occurrence carries no RRULE"
# A deleted occurrence cannot be forwarded: Status 150 (item not found).
printf '<SmartForward xmlns="ComposeMail:"><ClientId>f2</ClientId><Source><FolderId>%s</FolderId><ItemId>%s</ItemId><InstanceId>2026-12-29T09:00:00.000Z</InstanceId></Source><Mime opaque="base64">%s</Mime></SmartForward>' \
	"$cal" "$ev" "$FWD" | enc
[ "$(post SmartForward)" = 200 ] || fail "SmartForward of a deleted occurrence"
[ "$(field Status)" = 150 ] || { xml; fail "deleted occurrence: Status $(field Status)"; }

# ---- ItemOperations Fetch of the event (14.1): Class Calendar.
use PHONEA 14.1
printf '<ItemOperations xmlns="ItemOperations:" xmlns:airsync="AirSync:"><Fetch><Store>Mailbox</Store><airsync:CollectionId>%s</airsync:CollectionId><airsync:ServerId>%s</airsync:ServerId></Fetch></ItemOperations>' \
	"$cal" "$ev" | enc
[ "$(post ItemOperations)" = 200 ] || fail "ItemOperations"
has '<airsync:Class>Calendar</airsync:Class><Properties>'
has '<calendar:Subject>Weekly sync v2</calendar:Subject>'

# ---- an event Added to the Inbox is refused (Status 6)
printf '<Sync %s><Collections><Collection><SyncKey>0</SyncKey><CollectionId>%s</CollectionId></Collection></Collections></Sync>' "$NS" "$inbox" | enc
[ "$(post Sync)" = 200 ] || fail "Inbox Sync 0"
ik=$(field SyncKey)
printf '<Sync %s><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId><Commands><Add><ClientId>i1</ClientId><ApplicationData><cal:Subject>misplaced</cal:Subject><cal:StartTime>20261201T090000Z</cal:StartTime></ApplicationData></Add></Commands></Collection></Collections></Sync>' "$NS" "$ik" "$inbox" | enc
[ "$(post Sync)" = 200 ] || fail "Inbox Sync"
has '<Add><ClientId>i1</ClientId><Status>6</Status></Add>'

# ---- FilterType (MS-ASCMD 2.2.3.68.2): 4 = two weeks back.  An event of
# 2020 stays on the server; the current ones reach a new phone.
use PHONEA 14.1
sync
sync "<Add><ClientId>old1</ClientId><ApplicationData><cal:Subject>Long ago</cal:Subject><cal:StartTime>20200101T090000Z</cal:StartTime><cal:EndTime>20200101T100000Z</cal:EndTime></ApplicationData></Add>"
has '<Add><ClientId>old1</ClientId><ServerId>'
setup PHONED 14.1
FOPTS='<Options><FilterType>4</FilterType></Options>'
for key in 0 next; do
	[ "$key" = 0 ] || key=${SK[$DEV]}
	printf '<Sync %s><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId>%s</Collection></Collections></Sync>' "$NS" "$key" "$cal" "$FOPTS" | enc
	[ "$(post Sync)" = 200 ] || fail "filtered Sync"
	SK[$DEV]=$(field SyncKey)
done
has "<Add><ServerId>$ev</ServerId>"
has "<Add><ServerId>$own</ServerId>"
hasnt 'Long ago'

# ---- a Delete from the 16.1 phone reaches the 14.1 phones
use PHONEC 16.1
sync
sync "<Delete><ServerId>$ev</ServerId></Delete>"
use PHONEB 14.1
sync
has "<Delete><ServerId>$ev</ServerId></Delete>"
