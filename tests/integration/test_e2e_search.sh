#!/usr/bin/env bash
# Search, Find and MoveItems end to end with the real daemons (easd-mailbox
# with SQLite and LMTP, easd-cas, easctl) over a Unix socket.  Fifty
# messages with distinct words are delivered over LMTP (three of them into
# a subfolder with MoveItems, ten after a recorded instant); a 16.1
# device then searches: a word in exactly the expected messages, Range
# paging through all fifty with Total, DeepTraversal into the subfolder,
# GreaterThan/LessThan on DateReceived, a ConversationId (alone, with
# words, misplaced in an Or), the GAL; Find the same; MoveItems
# moves one message into the subfolder (Status 3, DstMsgId, found there by
# Search) while a move into the Calendar is refused (Status 2); a second
# device's next Syncs show the Delete in the Inbox and the Add in the
# subfolder, and the moving device is not told of its own move in
# either folder.  Every wait is bounded.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
source "$top/tests/integration/mailbox_lib.sh"
[ -x "$EASD_BIN/easd-mailbox" ] || fail "easd-mailbox not built"
CAS_PID=
trap 'rc=$?; if [ -n "$CAS_PID" ]; then kill -KILL "$CAS_PID" 2>/dev/null || true; fi; if [ $rc -ne 0 ]; then echo "--- cas log"; tail -n 30 "$T/cas.log" 2>/dev/null || true; fi; (exit $rc); mbx_cleanup' EXIT

write_conf "[cas]" "http_listen = 127.0.0.1:0" "allow_plain_auth = loopback" \
	"mailbox = unix:$T/mailbox.sock" "log_level = info"
start_mailbox
printf 'secret\n' | ctl user add alice --password-stdin >/dev/null
printf 'secret\n' | ctl user add bob --password-stdin >/dev/null

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
DEV=SEARCHPHONE
# post CMD KEY: body $T/body, reply $T/reply, prints the HTTP code.
post() {
	rm -f "$T/reply.xml"
	curl -s --max-time 15 -u alice:secret -o "$T/reply" \
		-w '%{http_code}' -H "MS-ASProtocolVersion: 16.1" \
		-H "X-MS-PolicyKey: $2" -H 'User-Agent: E2E/1.0' \
		-H 'Content-Type: application/vnd.ms-sync.wbxml' \
		--data-binary @"$T/body" \
		"$base?Cmd=$1&DeviceId=$DEV&DeviceType=TestPhone&User=alice"
}
xml() {
	[ -f "$T/reply.xml" ] || "$EASD_BIN/easctl" wbxml decode "$T/reply" |
		tr -d '\n' | sed 's/>  */>/g' >"$T/reply.xml"
	cat "$T/reply.xml"
}
field() { xml | sed -n "s|.*<$1>\([^<]*\)</$1>.*|\1|p" | head -n1; }
first() { xml | grep -o "<$1>[^<]*</$1>" | head -n1 | sed "s|<$1>\(.*\)</$1>|\1|"; }
count() { xml | grep -o "<$1>" | wc -l; }
# One LMTP session for every delivery (RFC 2033), on fd 4; each reply
# line is read with a bound.
lmtp_open() {
	exec 4<>"/dev/tcp/127.0.0.1/$LMTP_PORT"
	lmtp_reply 220
	printf 'LHLO e2e\r\n' >&4
	lmtp_reply 250
}
lmtp_reply() { # lmtp_reply CODE: read through the last line of a reply
	local line
	while IFS= read -r -t 10 line <&4; do
		case "$line" in
		"$1-"*) continue ;;
		"$1 "*) return 0 ;;
		*) fail "LMTP: expected $1, got $line" ;;
		esac
	done
	fail "LMTP: no $1 reply"
}
deliver() { # deliver N WORDS
	printf 'MAIL FROM:<carol@example.com>\r\n' >&4; lmtp_reply 250
	printf 'RCPT TO:<alice@example.org>\r\n' >&4; lmtp_reply 250
	printf 'DATA\r\n' >&4; lmtp_reply 354
	printf 'From: carol@example.com\r\nTo: alice@example.org\r\nSubject: msg %s\r\nMessage-ID: <m%s@e2e>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody of %s: %s\r\n.\r\n' \
		"$1" "$1" "$1" "$2" >&4
	lmtp_reply 250
}
provision() { # provision DEVICE -> policy key on stdout
	DEV=$1
	printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>' | enc
	[ "$(post Provision 0)" = 200 ] || fail "Provision $1"
	local temp
	temp=$(field PolicyKey)
	printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>%s</PolicyKey><Status>1</Status></Policy></Policies></Provision>' "$temp" | enc
	[ "$(post Provision "$temp")" = 200 ] || fail "Provision ack $1"
	field PolicyKey
}

other_key=$(provision OTHERPHONE)
key=$(provision SEARCHPHONE)
DEV=SEARCHPHONE
printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | enc
[ "$(post FolderSync "$key")" = 200 ] || fail "FolderSync"
folder_of_type() {
	xml | grep -o "<Add><ServerId>[^<]*</ServerId><ParentId>[^<]*</ParentId><DisplayName>[^<]*</DisplayName><Type>$1</Type>" |
		sed -n 's|<Add><ServerId>\([^<]*\)</ServerId>.*|\1|p' | head -n1
}
inbox=$(folder_of_type 2)
calendar=$(folder_of_type 8)
hkey=$(field SyncKey)
[ -n "$inbox" ] && [ -n "$calendar" ] || { xml; fail "no Inbox/Calendar"; }
printf '<FolderCreate xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey><ParentId>%s</ParentId><DisplayName>Projects</DisplayName><Type>12</Type></FolderCreate>' \
	"$hkey" "$inbox" | enc
[ "$(post FolderCreate "$key")" = 200 ] || fail "FolderCreate"
sub=$(field ServerId)
[ -n "$sub" ] || { xml; fail "no subfolder id"; }

# 50 messages: "common" in all, "fizz" in every fifth of 0..46,
# "unique7word" in msg 7, "deepword" in 47..49 (moved into Projects
# below); 40..49 after the instant $cut.
lmtp_open
for n in $(seq 0 39); do
	w="common"
	[ $((n % 5)) = 0 ] && w="$w fizz"
	[ "$n" = 7 ] && w="$w unique7word"
	deliver "$n" "$w"
done
sleep 1.2
cut=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
sleep 1.2
for n in $(seq 40 46); do
	w="common"
	[ $((n % 5)) = 0 ] && w="$w fizz"
	deliver "$n" "$w"
done
for n in 47 48 49; do deliver "$n" "common deepword"; done
printf 'QUIT\r\n' >&4; lmtp_reply 221
exec 4>&-

search() { # search QUERY-XML [OPTIONS-XML]
	printf '<Search xmlns="Search:" xmlns:airsync="AirSync:" xmlns:email="Email:" xmlns:airsyncbase="AirSyncBase:"><Store><Name>Mailbox</Name><Query><And><airsync:Class>Email</airsync:Class>%s</And></Query><Options>%s</Options></Store></Search>' \
		"$1" "${2:-}" | enc
	[ "$(post Search "$key")" = 200 ] || fail "Search"
	[ "$(first Status)" = 1 ] || { xml; fail "Search status"; }
}
store_status() { xml | sed -n 's|.*<Store><Status>\([0-9]*\)</Status>.*|\1|p'; }

# The three "deepword" messages into the subfolder, by MoveItems.
DEV=SEARCHPHONE; pk=$key
search "<FreeText>deepword</FreeText>"
moves=
for id in $(xml | grep -o '<LongId>[^<]*</LongId>' | sed 's/<[^>]*>//g'); do
	moves="$moves<Move><SrcMsgId>$id</SrcMsgId><SrcFldId>$inbox</SrcFldId><DstFldId>$sub</DstFldId></Move>"
done
printf '<MoveItems xmlns="Move:">%s</MoveItems>' "$moves" | enc
[ "$(post MoveItems "$key")" = 200 ] || fail "MoveItems deepword"
[ "$(xml | grep -o '<Status>3</Status>' | wc -l)" = 3 ] || { xml; fail "deepword moves"; }

# Both devices sync the Inbox and the subfolder to hold state (before the
# move, so that the move shows up as a change).
sync() { # sync KEY FOLDER [WINDOW] -> reply
	printf '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId><WindowSize>%s</WindowSize></Collection></Collections></Sync>' \
		"$1" "$2" "${3:-512}" | enc
	[ "$(post Sync "$pk")" = 200 ] || fail "Sync $2"
	[ "$(field Status)" = 1 ] || { xml; fail "Sync $2 status"; }
}
prime() { # prime FOLDER -> final sync key after everything was sent
	local k
	sync 0 "$1"; k=$(field SyncKey)
	sync "$k" "$1"; field SyncKey
}
DEV=OTHERPHONE; pk=$other_key
o_inbox=$(prime "$inbox")
o_sub=$(prime "$sub")
DEV=SEARCHPHONE; pk=$key
s_inbox=$(prime "$inbox")
s_sub=$(prime "$sub")

# A word: exactly the expected messages.
search "<airsync:CollectionId>$inbox</airsync:CollectionId><FreeText>fizz</FreeText>" "<Range>0-99</Range>"
[ "$(store_status)" = 1 ] || { xml; fail "fizz store status"; }
[ "$(field Total)" = 10 ] || { xml; fail "fizz total"; }
[ "$(count Result)" = 10 ] || fail "fizz results"
subjects=$(xml | grep -o '<email:Subject>msg [0-9]*</email:Subject>' | sed 's/[^0-9]//g' | sort -n | tr '\n' ' ')
[ "$subjects" = "0 5 10 15 20 25 30 35 40 45 " ] || fail "fizz subjects: $subjects"
search "<FreeText>unique7word</FreeText>" "<airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:TruncationSize>100</airsyncbase:TruncationSize></airsyncbase:BodyPreference>"
[ "$(field Total)" = 1 ] || { xml; fail "unique total"; }
[ "$(field email:Subject)" = "msg 7" ] || fail "unique subject"
xml | grep -q 'unique7word' || fail "no body in the result"
seven=$(field LongId)
[ -n "$seven" ] || fail "no LongId"
[ "$(field airsync:CollectionId)" = "$inbox" ] || fail "unique folder"

# ConversationId (MS-ASCMD 2.2.3.35.2): msg 7 is a conversation of its
# own; words narrow it further; outside an And it is Store Status 8.
conv7=$(xml | sed -n 's|.*<email2:ConversationId opaque="base64">\([^<]*\)</email2:ConversationId>.*|\1|p' | head -n1)
[ -n "$conv7" ] || { xml; fail "no ConversationId in the result"; }
search "<ConversationId opaque=\"base64\">$conv7</ConversationId>" "<Range>0-9</Range>"
[ "$(store_status)" = 1 ] || { xml; fail "conversation store status"; }
[ "$(field Total)" = 1 ] && [ "$(field LongId)" = "$seven" ] || { xml; fail "conversation of msg 7"; }
search "<ConversationId opaque=\"base64\">$conv7</ConversationId><FreeText>unique7word</FreeText>"
[ "$(field Total)" = 1 ] || { xml; fail "conversation and words"; }
search "<ConversationId opaque=\"base64\">$conv7</ConversationId><FreeText>fizz</FreeText>"
[ "$(field Total)" = 0 ] || { xml; fail "conversation and other words"; }
printf '<Search xmlns="Search:"><Store><Name>Mailbox</Name><Query><Or><ConversationId opaque="base64">%s</ConversationId><FreeText>fizz</FreeText></Or></Query></Store></Search>' "$conv7" | enc
[ "$(post Search "$key")" = 200 ] || fail "Search Or"
[ "$(store_status)" = 8 ] || { xml; fail "ConversationId in an Or"; }

# Range paging: two pages of 25 cover all fifty, once each.
: >"$T/ids"
for p in 0 1; do
	search "<FreeText>common</FreeText>" "<Range>$((p * 25))-$((p * 25 + 24))</Range>"
	[ "$(field Total)" = 50 ] || { xml; fail "common total page $p"; }
	[ "$(field Range)" = "$((p * 25))-$((p * 25 + 24))" ] || { xml; fail "page $p range"; }
	xml | grep -o '<LongId>[^<]*</LongId>' >>"$T/ids"
done
[ "$(sort -u "$T/ids" | wc -l)" = 50 ] || fail "pages overlap or miss"
# More than 100 in one Range: Store Status 12.
search "<FreeText>common</FreeText>" "<Range>0-100</Range>"
[ "$(store_status)" = 12 ] || { xml; fail "range status"; }

# DeepTraversal: the subfolder's messages only with it.
search "<airsync:CollectionId>$inbox</airsync:CollectionId><FreeText>deepword</FreeText>"
[ "$(field Total)" = 0 ] || { xml; fail "deepword without DeepTraversal"; }
search "<airsync:CollectionId>$inbox</airsync:CollectionId><FreeText>deepword</FreeText>" "<DeepTraversal/>"
[ "$(field Total)" = 3 ] || { xml; fail "deepword with DeepTraversal"; }
[ "$(field airsync:CollectionId)" = "$sub" ] || fail "deepword folder"

# Date range on DateReceived around $cut.
search "<FreeText>common</FreeText><GreaterThan><email:DateReceived/><Value>$cut</Value></GreaterThan>"
[ "$(field Total)" = 10 ] || { xml; fail "after $cut"; }
search "<FreeText>common</FreeText><LessThan><email:DateReceived/><Value>$cut</Value></LessThan>"
[ "$(field Total)" = 40 ] || { xml; fail "before $cut"; }

# GAL: the directory by prefix.
printf '<Search xmlns="Search:"><Store><Name>GAL</Name><Query>bo</Query><Options><Range>0-9</Range></Options></Store></Search>' | enc
[ "$(post Search "$key")" = 200 ] || fail "GAL"
[ "$(field gal:EmailAddress)" = bob@example.org ] || { xml; fail "GAL bob"; }
[ "$(field Total)" = 1 ] || fail "GAL total"

# Find (16.1) over the same index and directory.
find_mail() { # find_mail QUERY-XML OPTIONS-XML
	printf '<Find xmlns="Find:" xmlns:airsync="AirSync:"><SearchId>6f1a9d2e-0b3c-4d5e-8f70-a1b2c3d4e5f6</SearchId><ExecuteSearch><MailBoxSearchCriterion><Query><airsync:Class>Email</airsync:Class>%s</Query><Options>%s</Options></MailBoxSearchCriterion></ExecuteSearch></Find>' \
		"$1" "$2" | enc
	[ "$(post Find "$key")" = 200 ] || fail "Find"
	[ "$(first Status)" = 1 ] || { xml; fail "Find status"; }
}
find_mail "<airsync:CollectionId>$inbox</airsync:CollectionId><FreeText>fizz</FreeText>" "<Range>0-4</Range>"
[ "$(field Total)" = 10 ] || { xml; fail "Find fizz total"; }
[ "$(count Result)" = 5 ] || fail "Find fizz page"
[ "$(field Range)" = 0-4 ] || fail "Find range"
xml | grep -q '<Preview>body of' || { xml; fail "Find preview"; }
find_mail "<airsync:CollectionId>$inbox</airsync:CollectionId><FreeText>deepword</FreeText>" "<Range>0-9</Range><DeepTraversal/>"
[ "$(field Total)" = 3 ] || { xml; fail "Find deepword"; }
printf '<Find xmlns="Find:"><SearchId>6f1a9d2e-0b3c-4d5e-8f70-a1b2c3d4e5f7</SearchId><ExecuteSearch><GalSearchCriterion><Query><FreeText>bo</FreeText></Query><Options><Range>0-9</Range></Options></GalSearchCriterion></ExecuteSearch></Find>' | enc
[ "$(post Find "$key")" = 200 ] || fail "Find GAL"
[ "$(field gal:Alias)" = bob ] || { xml; fail "Find GAL bob"; }

# MoveItems: msg 7 into the subfolder; msg 0 into the Calendar (refused).
zero=$(search "<FreeText>fizz</FreeText>" "<Range>0-99</Range>"; xml | grep -o '<Result><airsync:Class>Email</airsync:Class><LongId>[^<]*</LongId><airsync:CollectionId>[^<]*</airsync:CollectionId><Properties><email:To>[^<]*</email:To><email:From>[^<]*</email:From><email:Subject>msg 0<' | sed -n 's|.*<LongId>\([^<]*\)</LongId>.*|\1|p')
[ -n "$zero" ] || fail "no id for msg 0"
printf '<MoveItems xmlns="Move:"><Move><SrcMsgId>%s</SrcMsgId><SrcFldId>%s</SrcFldId><DstFldId>%s</DstFldId></Move><Move><SrcMsgId>%s</SrcMsgId><SrcFldId>%s</SrcFldId><DstFldId>%s</DstFldId></Move></MoveItems>' \
	"$seven" "$inbox" "$sub" "$zero" "$inbox" "$calendar" | enc
[ "$(post MoveItems "$key")" = 200 ] || fail "MoveItems"
statuses=$(xml | grep -o '<Status>[0-9]*</Status>' | tr -d '\n')
[ "$statuses" = "<Status>3</Status><Status>2</Status>" ] || { xml; fail "MoveItems statuses"; }
[ "$(field DstMsgId)" = "$seven" ] || fail "DstMsgId"
[ "$(count DstMsgId)" = 1 ] || fail "DstMsgId on a failed move"
search "<FreeText>unique7word</FreeText>"
[ "$(field airsync:CollectionId)" = "$sub" ] || { xml; fail "moved message not in the subfolder"; }

# The other device: a Delete in the Inbox, an Add in the subfolder.
DEV=OTHERPHONE; pk=$other_key
sync "$o_inbox" "$inbox"
xml | grep -q "<Delete><ServerId>$seven</ServerId></Delete>" || { xml; fail "no Delete in the Inbox"; }
[ "$(count Add)" = 0 ] || fail "Inbox Adds after the move"
sync "$o_sub" "$sub"
xml | grep -q "<Add><ServerId>$seven</ServerId>" || { xml; fail "no Add in the subfolder"; }
# The moving device is not told of its own move: no Delete in the
# source, no second Add in the destination (it holds the item already).
DEV=SEARCHPHONE; pk=$key
sync "$s_inbox" "$inbox"
xml | grep -q "<ServerId>$seven</ServerId>" && { xml; fail "own move echoed"; }
sync "$s_sub" "$sub"
xml | grep -q "<ServerId>$seven</ServerId>" && { xml; fail "own move added twice"; }
echo ok
