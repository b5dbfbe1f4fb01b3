# tests/integration/lib.sh -- start dns01d on random loopback ports, assert, and clean up.
# Source it from a test script. Every process started here is stopped by PID on exit.
# shellcheck shell=bash
set -u
: "${DNS01D_BIN:=$PWD/build/dns01d}"
T_DIR=$(mktemp -d /tmp/dns01d-it.XXXXXX)
T_PIDS=()
T_FAILED=0

t_cleanup() {
	local p
	for p in "${T_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${T_PIDS[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T_DIR"
}
trap t_cleanup EXIT

# ok NAME / fail NAME WHY: the result lines tests/run.sh counts.
ok() { echo "ok - $1"; }
fail() { echo "FAIL - $1: ${2:-}"; T_FAILED=1; }
# check NAME CMD...: pass if CMD succeeds.
check() { local n=$1; shift; if "$@"; then ok "$n"; else fail "$n" "command failed: $*"; fi; }
# check_eq NAME GOT WANT
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got [$2], want [$3]"; fi; }
# check_match NAME TEXT REGEX (extended)
check_match() { if printf '%s' "$2" | grep -Eq -- "$3"; then ok "$1"; else fail "$1" "[$2] does not match /$3/"; fi; }

# free_port: a currently unused TCP and UDP port on 127.0.0.1.
free_port() {
	python3 - <<'PY'
import socket, random
for _ in range(200):
    p = random.randint(20000, 60000)
    try:
        t = socket.socket(); t.bind(("127.0.0.1", p)); t.close()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", p)); u.close()
        print(p); break
    except OSError:
        pass
PY
}

# write_config FILE [EXTRA_GENERAL] [EXTRA_API]: a config with DNS_PORT, API_PORT, DB set.
# Uses the globals DNS_PORT, API_PORT, DB, DNS_LISTEN (default 127.0.0.1), PROTO (default both).
write_config() {
	local f=$1 extra_general=${2:-} extra_api=${3:-}
	cat >"$f" <<CFG
[general]
listen = "${DNS_LISTEN:-127.0.0.1}:$DNS_PORT"
protocol = "${PROTO:-both}"
domain = "auth.example.org"
nsname = "auth.example.org"
nsadmin = "admin.example.org"
records = [
    "auth.example.org. A 198.51.100.1",
    "auth.example.org. AAAA 2001:db8::1",
    "auth.example.org. NS auth.example.org.",
    "auth.example.org. CAA 0 issue \"letsencrypt.org\"",
    "www.auth.example.org. CNAME auth.example.org.",
    "dkim._domainkey.auth.example.org. TXT \"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDMixedCase\"",
]
debug = false
$extra_general

[database]
engine = "sqlite3"
connection = "$DB"

[api]
ip = "127.0.0.1"
disable_registration = false
port = "$API_PORT"
tls = "none"
corsorigins = [
    "*"
]
use_header = false
header_name = "X-Forwarded-For"
$extra_api

[logconfig]
loglevel = "debug"
logtype = "stdout"
logformat = "text"
CFG
}

# start_dns01d CONFIG [LOG]: start the daemon, wait until /health is 200 (max 10 s).
# Sets DAEMON_PID. Returns non-zero if it did not become ready.
start_dns01d() {
	local cfg=$1 log=${2:-$T_DIR/dns01d.log}
	"$DNS01D_BIN" -c "$cfg" >>"$log" 2>&1 &
	DAEMON_PID=$!
	T_PIDS+=("$DAEMON_PID")
	local i
	for i in $(seq 1 100); do
		if curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$API_PORT/health" 2>/dev/null | grep -q 200; then
			return 0
		fi
		kill -0 "$DAEMON_PID" 2>/dev/null || { echo "# dns01d exited:"; sed 's/^/#   /' "$log"; return 1; }
		sleep 0.1
	done
	echo "# dns01d not ready after 10 s:"; sed 's/^/#   /' "$log"
	return 1
}

# stop_dns01d [SIGNAL]: stop the daemon started last (default TERM) and wait for it.
stop_dns01d() {
	local sig=${1:-TERM}
	kill -"$sig" "$DAEMON_PID" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	return 0
}

# api METHOD PATH [BODY] [curl args...]: prints "STATUS BODY" on one line.
api() {
	local m=$1 p=$2 body=${3:-}; shift 3 2>/dev/null || shift $#
	curl -s -m 5 -X "$m" -w ' %{http_code}' --data-binary "$body" "$@" "http://127.0.0.1:$API_PORT$p" |
		awk '{ code=$NF; $NF=""; sub(/ $/, ""); print code " " $0 }'
}

# register: POST /register; sets USERNAME, PASSWORD, SUBDOMAIN, FULLDOMAIN.
register() {
	local r
	r=$(curl -s -m 5 -X POST --data-binary "${1:-}" "http://127.0.0.1:$API_PORT/register")
	USERNAME=$(printf '%s' "$r" | python3 -c 'import json,sys; print(json.load(sys.stdin)["username"])')
	PASSWORD=$(printf '%s' "$r" | python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])')
	SUBDOMAIN=$(printf '%s' "$r" | python3 -c 'import json,sys; print(json.load(sys.stdin)["subdomain"])')
	FULLDOMAIN=$(printf '%s' "$r" | python3 -c 'import json,sys; print(json.load(sys.stdin)["fulldomain"])')
}

# update TXT: POST /update for the registered account; prints the status code.
update() {
	curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST \
		-H "X-Api-User: $USERNAME" -H "X-Api-Key: $PASSWORD" \
		--data-binary "{\"subdomain\":\"$SUBDOMAIN\",\"txt\":\"$1\"}" \
		"http://127.0.0.1:$API_PORT/update"
}

# txt43 SEED: a valid 43-char base64url value derived from SEED.
txt43() { printf '%s' "$1" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n'; }

# q NAME TYPE [dig args...]: dig against the daemon over UDP.
q() { local n=$1 t=$2; shift 2; dig +norec +time=2 +tries=1 -p "$DNS_PORT" @127.0.0.1 "$n" "$t" "$@"; }

# t_done: end of a test file; exit status reflects failures.
t_done() { exit "$T_FAILED"; }
