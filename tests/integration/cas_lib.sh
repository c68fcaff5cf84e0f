# Shared helpers of the CAS integration scripts that drive the real
# daemons over HTTP (sourced after mailbox_lib.sh, not run): start
# easd-cas on a free port, post a WBXML body written as XML (encoded by
# `easctl wbxml encode`), read the reply as one line of XML, provision a
# device and find the Inbox.  Every wait is bounded.
CAS_PID=
CAS_BASE=

# start_cas: run easd-cas on $T/easd.conf (http_listen = 127.0.0.1:0) and
# wait (<= 10 s) for its port.
start_cas() {
	local port=
	"$EASD_BIN/easd-cas" --config "$T/easd.conf" 2>>"$T/cas.log" &
	CAS_PID=$!
	MBX_EXTRA_PIDS+=("$CAS_PID")
	for _ in $(seq 100); do
		port=$(sed -n 's/.*listening on http:.*(port \([0-9]*\)).*/\1/p' "$T/cas.log" | tail -n1)
		[ -n "$port" ] && break
		kill -0 "$CAS_PID" 2>/dev/null || fail "easd-cas exited at start"
		sleep 0.1
	done
	[ -n "$port" ] || fail "no CAS port"
	CAS_BASE="http://127.0.0.1:$port/Microsoft-Server-ActiveSync"
}

# cas_alive: both daemons still run.
cas_alive() {
	kill -0 "$CAS_PID" 2>/dev/null || fail "easd-cas died"
	kill -0 "$MBX_PID" 2>/dev/null || fail "easd-mailbox died"
}

# enc: XML on stdin -> $T/body (WBXML).
enc() { "$EASD_BIN/easctl" wbxml encode >"$T/body"; }

# post CMD POLICYKEY DEVICE [LOGIN:PASSWORD]: POST $T/body as 14.1, the
# reply in $T/reply; prints the HTTP code.  The query names the login.
post() {
	local cred=${4:-alice:secret}
	rm -f "$T/reply.xml"
	curl -s --max-time 15 -u "$cred" -o "$T/reply" -w '%{http_code}' \
		-H "MS-ASProtocolVersion: 14.1" -H "X-MS-PolicyKey: $2" \
		-H 'Content-Type: application/vnd.ms-sync.wbxml' \
		--data-binary @"$T/body" \
		"$CAS_BASE?Cmd=$1&DeviceId=$3&DeviceType=TestPhone&User=${cred%%:*}"
}

# xml: the last reply as one line of XML (decoded once per reply).
xml() {
	[ -f "$T/reply.xml" ] || "$EASD_BIN/easctl" wbxml decode "$T/reply" |
		tr -d '\n' | sed 's/>  */>/g' >"$T/reply.xml"
	cat "$T/reply.xml"
}
field() { xml | sed -n "s|.*<$1>\([^<]*\)</$1>.*|\1|p" | head -n1; }

# provision DEVICE [LOGIN:PASSWORD]: the two-step Provision; prints the
# final policy key.
provision() {
	local temp
	printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>' | enc
	[ "$(post Provision 0 "$1" "${2:-}")" = 200 ] || fail "Provision $1"
	temp=$(field PolicyKey)
	printf '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>%s</PolicyKey><Status>1</Status></Policy></Policies></Provision>' "$temp" | enc
	[ "$(post Provision "$temp" "$1" "${2:-}")" = 200 ] || fail "Provision ack $1"
	field PolicyKey
}

# inbox_of POLICYKEY DEVICE [LOGIN:PASSWORD]: FolderSync 0, prints the
# Inbox's ServerId.
inbox_of() {
	printf '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | enc
	[ "$(post FolderSync "$1" "$2" "${3:-}")" = 200 ] || fail "FolderSync $2"
	xml | grep -o '<Add><ServerId>[^<]*</ServerId><ParentId>[^<]*</ParentId><DisplayName>[^<]*</DisplayName><Type>2</Type>' |
		sed -n 's|<Add><ServerId>\([^<]*\)</ServerId>.*|\1|p' | head -n1
}
