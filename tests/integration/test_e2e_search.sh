#!/usr/bin/env bash
# Search, Find and MoveItems end to end with the real daemons (easd-mailbox
# with SQLite and LMTP, easd-cas, easctl) over a Unix socket.  Fifty
# messages with distinct words are delivered over LMTP (three of them into
# a subfolder with MoveItems, ten after a recorded instant); a 16.1
# device then searches: a word in exactly the expected messages, Range
# paging through all fifty with Total, DeepTraversal into the subfolder,
# GreaterThan/LessThan on DateReceived, a ConversationId (alone, with
# words, misplaced in an Or), the GAL (users with contact fields set by
# easctl: names, phones, alias, photo; prefix matching of names, paging,
# Picture statuses 1/173/174/175, bad input refused); Find the same;
# MoveItems moves one message into the subfolder (Status 3, DstMsgId, found there by
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
# Directory contact fields for the GAL.
ctl user add ann --name "Ann Smith" --first Ann --last Smith \
	--phone "+1 555 0101" --office "B2 101" --title Engineer \
	--company Example --mobile "+1 555 0199" >/dev/null
ctl user add annette >/dev/null
ctl user add andy --name "Andrew Anderson" --alias aanderson \
	--home-phone "555 0123" >/dev/null
# Bad input: a readable refusal naming the field, nothing added.
if ctl user add zed --phone "call me" 2>"$T/err"; then fail "bad phone accepted"; fi
grep -q "phone: only digits" "$T/err" || { cat "$T/err"; fail "bad phone message"; }
ctl user list | grep -q zed && fail "refused user added"
if ctl user set ann --alias "a b" 2>"$T/err"; then fail "bad alias accepted"; fi
grep -q "alias:" "$T/err" || { cat "$T/err"; fail "bad alias message"; }
long=$(printf 'x%.0s' $(seq 300))
if ctl user set ann --title "$long" 2>"$T/err"; then fail "long title accepted"; fi
grep -q "title longer than 256 bytes" "$T/err" || { cat "$T/err"; fail "long title message"; }
ctl user show ann | grep -q "^display name: Ann Smith$" || fail "user show"
ctl user show ann | grep -q "^alias: -$" || fail "user show unset alias"
ctl user list | grep -q "Ann Smith$" || fail "user list display name"
# A photo (a JPEG's first bytes are enough for the format check).
printf '\377\330\377\340photo-of-ann' >"$T/ann.jpg"
ctl user set ann --photo "$T/ann.jpg" >/dev/null
ctl user show ann | grep -q "^photo: 16 bytes$" || fail "user show photo"
printf 'GIF89a' >"$T/x.gif"
if ctl user set annette --photo "$T/x.gif" 2>"$T/err"; then fail "GIF photo accepted"; fi
grep -q "not a JPEG or PNG" "$T/err" || { cat "$T/err"; fail "photo message"; }

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
gal() { # gal QUERY RANGE [OPTIONS-XML]
	printf '<Search xmlns="Search:"><Store><Name>GAL</Name><Query>%s</Query><Options><Range>%s</Range>%s</Options></Store></Search>' \
		"$1" "$2" "${3:-}" | enc
	[ "$(post Search "$key")" = 200 ] || fail "GAL $1"
	[ "$(first Status)" = 1 ] || { xml; fail "GAL $1 status"; }
}
# "ann": Ann Smith (names, login) and annette (login; no name: the
# address's local part stands in), by display name, one per page.
gal ann 0-0
[ "$(field Total)" = 2 ] || { xml; fail "GAL ann total"; }
[ "$(field gal:DisplayName)" = "Ann Smith" ] || { xml; fail "GAL ann page 1"; }
[ "$(field gal:FirstName)" = Ann ] || fail "GAL FirstName"
[ "$(field gal:LastName)" = Smith ] || fail "GAL LastName"
[ "$(field gal:Phone)" = "+1 555 0101" ] || fail "GAL Phone"
[ "$(field gal:MobilePhone)" = "+1 555 0199" ] || fail "GAL MobilePhone"
[ "$(field gal:Office)" = "B2 101" ] || fail "GAL Office"
[ "$(field gal:Title)" = Engineer ] || fail "GAL Title"
[ "$(field gal:Company)" = Example ] || fail "GAL Company"
[ "$(field gal:Alias)" = ann ] || fail "GAL Alias defaults to the login"
[ "$(field gal:EmailAddress)" = ann@example.org ] || fail "GAL EmailAddress"
[ "$(field Range)" = 0-0 ] || fail "GAL range"
xml | grep -q "<gal:Picture>" && fail "Picture without asking"
gal ann 1-1 "<Picture><MaxPictures>5</MaxPictures></Picture>"
[ "$(field Total)" = 2 ] || fail "GAL ann page 2 total"
[ "$(count Result)" = 1 ] || fail "GAL ann page 2 count"
[ "$(field gal:DisplayName)" = annette ] || { xml; fail "GAL default display name"; }
[ "$(field Range)" = 1-1 ] || fail "GAL page 2 range"
xml | grep -q "<gal:Picture><gal:Status>173</gal:Status></gal:Picture>" || { xml; fail "GAL Picture status"; }
xml | grep -q "<gal:Phone>" && fail "GAL unset phone sent"
# Ann's photo: Status 1 with the bytes (base64 in the XML form); 174
# above MaxSize; 175 past MaxPictures 0.
gal "ann sm" 0-9 "<Picture/>"
photo64=$(base64 -w0 "$T/ann.jpg")
xml | grep -q "<gal:Picture><gal:Status>1</gal:Status><gal:Data opaque=\"base64\">$photo64</gal:Data></gal:Picture>" || { xml; fail "GAL photo"; }
gal "ann sm" 0-9 "<Picture><MaxSize>10</MaxSize></Picture>"
xml | grep -q "<gal:Picture><gal:Status>174</gal:Status></gal:Picture>" || { xml; fail "GAL photo MaxSize"; }
gal "ann sm" 0-9 "<Picture><MaxPictures>0</MaxPictures></Picture>"
xml | grep -q "<gal:Picture><gal:Status>175</gal:Status></gal:Picture>" || { xml; fail "GAL photo MaxPictures"; }
# Last name, "first last", alias prefixes; the home phone.
gal smi 0-9
[ "$(field gal:DisplayName)" = "Ann Smith" ] || { xml; fail "GAL last name"; }
gal "ann sm" 0-9
[ "$(field Total)" = 1 ] || { xml; fail "GAL first last"; }
gal "smith a" 0-9
[ "$(field gal:DisplayName)" = "Ann Smith" ] || { xml; fail "GAL last first"; }
gal AAND 0-9
[ "$(field gal:DisplayName)" = "Andrew Anderson" ] || { xml; fail "GAL alias"; }
[ "$(field gal:Alias)" = aanderson ] || fail "GAL stored alias"
[ "$(field gal:HomePhone)" = "555 0123" ] || fail "GAL HomePhone"
# user set: a new name is found at once; "" clears it again.
ctl user set annette --name "Annette Berg" --mobile "+1 555 0100" >/dev/null
gal "annette b" 0-9
[ "$(field gal:DisplayName)" = "Annette Berg" ] || { xml; fail "GAL after set"; }
[ "$(field gal:MobilePhone)" = "+1 555 0100" ] || fail "GAL set mobile"
ctl user set annette --name "" >/dev/null
gal "annette b" 0-9
[ "$(field Total)" = 0 ] || { xml; fail "GAL cleared name still matches"; }
gal annette 0-9
[ "$(field gal:DisplayName)" = annette ] || { xml; fail "GAL cleared name"; }
[ "$(field gal:MobilePhone)" = "+1 555 0100" ] || fail "GAL mobile kept"

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
[ "$(count email2:IsDraft)" = 5 ] || { xml; fail "Find IsDraft"; }
[ "$(field email2:IsDraft)" = 0 ] || fail "Find IsDraft value"
find_mail "<airsync:CollectionId>$inbox</airsync:CollectionId><FreeText>deepword</FreeText>" "<Range>0-9</Range><DeepTraversal/>"
[ "$(field Total)" = 3 ] || { xml; fail "Find deepword"; }
printf '<Find xmlns="Find:"><SearchId>6f1a9d2e-0b3c-4d5e-8f70-a1b2c3d4e5f7</SearchId><ExecuteSearch><GalSearchCriterion><Query><FreeText>bo</FreeText></Query><Options><Range>0-9</Range></Options></GalSearchCriterion></ExecuteSearch></Find>' | enc
[ "$(post Find "$key")" = 200 ] || fail "Find GAL"
[ "$(field gal:Alias)" = bob ] || { xml; fail "Find GAL bob"; }
printf '<Find xmlns="Find:"><SearchId>6f1a9d2e-0b3c-4d5e-8f70-a1b2c3d4e5f8</SearchId><ExecuteSearch><GalSearchCriterion><Query><FreeText>ann</FreeText></Query><Options><Range>0-9</Range><Picture/></Options></GalSearchCriterion></ExecuteSearch></Find>' | enc
[ "$(post Find "$key")" = 200 ] || fail "Find GAL ann"
[ "$(field Total)" = 2 ] || { xml; fail "Find GAL ann total"; }
[ "$(first gal:DisplayName)" = "Ann Smith" ] || { xml; fail "Find GAL name"; }
[ "$(first gal:Phone)" = "+1 555 0101" ] || fail "Find GAL phone"
[ "$(count gal:Picture)" = 2 ] || { xml; fail "Find GAL Picture"; }

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
