# tests/integration/lib.sh -- start dns01d on random loopback ports, assert, and clean up.
# Source it from a test script. Every process started here is stopped by PID on exit.
# shellcheck shell=bash
set -u
: "${DNS01D_BIN:=$PWD/build/dns01d}"
# Daemons and admin tools (unbound, ip, ss) are in /usr/sbin and /sbin, off a normal
# user's PATH.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin ;; esac
case ":$PATH:" in *:/sbin:*) ;; *) PATH=$PATH:/sbin ;; esac
export PATH
T_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Where the daemon is reached: API_IP as the config says it (api_url adds brackets),
# DNS_SERVER the address dig and dw query.
API_IP=${API_IP:-127.0.0.1}
DNS_SERVER=${DNS_SERVER:-127.0.0.1}
T_DIR=$(mktemp -d /tmp/dns01d-it.XXXXXX)
T_PIDS=()
T_LOGS=()
T_CLEAN_DIRS=()
T_FAILED=0

# t_sanitizer_scan: a FAIL line for each daemon log holding an ASan/UBSan/LSan report or
# a seccomp "blocked system call" line
# (make check runs this suite with a sanitizer build). Returns non-zero if any.
t_sanitizer_scan() {
	local f bad=0 seen=" "
	for f in "${T_LOGS[@]}"; do
		case "$seen" in *" $f "*) continue ;; esac
		seen="$seen$f "
		[ -f "$f" ] || continue
		if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: |WARNING: ThreadSanitizer|seccomp: blocked system call' "$f"; then
			echo "FAIL - sanitizer_clean: $(grep -Em 3 'ERROR: |runtime error: |SUMMARY: |WARNING: |seccomp: blocked' "$f" | tr '\n' ' ' | cut -c1-600)"
			bad=1
		fi
	done
	return "$bad"
}

# t_mine PID: true if PID is still a child of this shell (not a reused PID).
t_mine() { [ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ]; }

t_cleanup() {
	local p rc=$? live=()
	for p in "${T_PIDS[@]}"; do
		t_mine "$p" && live+=("$p")
	done
	for p in "${live[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${live[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	t_sanitizer_scan || rc=1
	rm -rf "$T_DIR" "${T_CLEAN_DIRS[@]}"
	exit "$rc"
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

# check_re NAME TEXT REGEX: like check_match, but TEXT as a whole must match (bash =~,
# so ^ and $ are the ends of the text, newlines included).
check_re() { if [[ $2 =~ $3 ]]; then ok "$1"; else fail "$1" "[$2] does not match /$3/"; fi; }
# skip NAME WHY: a check that cannot run here (never used to hide a failure).
skip() { echo "SKIPPED - $1: $2"; }

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
# Uses the globals DNS_PORT, API_PORT, DB, DNS_LISTEN (default 127.0.0.1), PROTO (default both),
# and optionally DOMAIN (auth.example.org), NSADMIN (admin.example.org), RECORDS (an array of
# zone-file lines, TOML-escaped; default: the test zone below), API_IP (127.0.0.1),
# DISABLE_REG (false), USE_HEADER (false), EXTRA_RECORDS (more lines inside records = [...],
# each quoted and ending in a comma), LOGTYPE (stdout), LOGFILE, LOGFORMAT (text),
# LOGLEVEL (debug). The test bed (tests/e2e) and the benchmark (bench/) use it too.
write_config() {
	local f=$1 extra_general=${2:-} extra_api=${3:-} d=${DOMAIN:-auth.example.org} r recs=""
	local -a lines
	if [ -n "${RECORDS+set}" ]; then
		lines=("${RECORDS[@]}")
	else
		lines=(
			"$d. A 198.51.100.1"
			"$d. AAAA 2001:db8::1"
			"$d. NS $d."
			"$d. CAA 0 issue \\\"letsencrypt.org\\\""
			"www.$d. CNAME $d."
			"dkim._domainkey.$d. TXT \\\"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDMixedCase\\\""
		)
	fi
	for r in "${lines[@]}"; do recs+="    \"$r\","$'\n'; done
	cat >"$f" <<CFG
[general]
listen = "${DNS_LISTEN:-127.0.0.1}:$DNS_PORT"
protocol = "${PROTO:-both}"
domain = "$d"
nsname = "$d"
nsadmin = "${NSADMIN:-admin.example.org}"
records = [
$recs${EXTRA_RECORDS:-}
]
debug = false
$extra_general

[database]
engine = "sqlite3"
connection = "$DB"

[api]
ip = "$API_IP"
disable_registration = ${DISABLE_REG:-false}
port = "$API_PORT"
tls = "${TLS:-none}"
corsorigins = [
    "*"
]
use_header = ${USE_HEADER:-false}
header_name = "X-Forwarded-For"
$extra_api

[logconfig]
loglevel = "${LOGLEVEL:-debug}"
logtype = "${LOGTYPE:-stdout}"
logfile = "${LOGFILE:-$T_DIR/dns01d-file.log}"
logformat = "${LOGFORMAT:-text}"
CFG
}

# start_dns01d CONFIG [LOG]: start the daemon, wait until /health is 200 (max 10 s).
# Sets DAEMON_PID. Returns non-zero if it did not become ready.
start_dns01d() {
	local cfg=$1 log=${2:-$T_DIR/dns01d.log}
	"$DNS01D_BIN" -c "$cfg" >>"$log" 2>&1 &
	DAEMON_PID=$!
	T_PIDS+=("$DAEMON_PID")
	T_LOGS+=("$log")
	local i
	for i in $(seq 1 100); do
		if curl -s -o /dev/null -w '%{http_code}' "$(api_url /health)" 2>/dev/null | grep -q 200; then
			return 0
		fi
		kill -0 "$DAEMON_PID" 2>/dev/null || { echo "# dns01d exited:"; sed 's/^/#   /' "$log"; return 1; }
		sleep 0.1
	done
	echo "# dns01d not ready after 10 s:"; sed 's/^/#   /' "$log"
	return 1
}

# stop_dns01d [SIGNAL]: stop the daemon started last (default TERM) and wait for it.
# With TERM, a daemon still running after 10 s, or exiting non-zero, is a FAIL line.
stop_dns01d() {
	local sig=${1:-TERM} st
	kill -"$sig" "$DAEMON_PID" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		[ "$sig" = TERM ] && fail dns01d_stops_on_term "pid $DAEMON_PID still running 10 s after SIGTERM"
		kill -9 "$DAEMON_PID" 2>/dev/null
	fi
	wait "$DAEMON_PID" 2>/dev/null
	st=$?
	if [ "$sig" = TERM ] && [ "$st" -ne 0 ] && [ "$st" -ne 127 ]; then
		fail dns01d_exit_status_after_term "pid $DAEMON_PID exited with status $st"
	fi
	return 0
}

# api METHOD PATH [BODY] [curl args...]: prints "STATUS BODY" on one line.
api() {
	local m=$1 p=$2 body=${3:-}; shift 3 2>/dev/null || shift $#
	curl -s -m 5 -X "$m" -w ' %{http_code}' --data-binary "$body" "$@" "$(api_url "$p")" |
		awk '{ code=$NF; $NF=""; sub(/ $/, ""); print code " " $0 }'
}

# register: POST /register; sets USERNAME, PASSWORD, SUBDOMAIN, FULLDOMAIN.
register() {
	local r
	r=$(curl -s -m 5 -X POST --data-binary "${1:-}" "$(api_url /register)")
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
		"$(api_url /update)"
}

# txt43 SEED: a valid 43-char base64url value derived from SEED.
txt43() { printf '%s' "$1" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n'; }

# q NAME TYPE [dig args...]: dig against the daemon over UDP.
q() { local n=$1 t=$2; shift 2; dig +norec +time=2 +tries=1 -p "$DNS_PORT" @"$DNS_SERVER" "$n" "$t" "$@"; }

# api_url PATH: the API's URL for PATH (brackets around an IPv6 API_IP).
api_url() {
	case "$API_IP" in
	*:*) printf 'http://[%s]:%s%s' "$API_IP" "$API_PORT" "$1" ;;
	*) printf 'http://%s:%s%s' "$API_IP" "$API_PORT" "$1" ;;
	esac
}

# new_ports: fresh DNS_PORT and API_PORT (distinct), and DB under T_DIR (DB name as $1).
new_ports() {
	DNS_PORT=$(free_port)
	API_PORT=$(free_port)
	while [ "$API_PORT" = "$DNS_PORT" ]; do API_PORT=$(free_port); done
	DB=$T_DIR/${1:-dns01d}.db
}

# start_default [EXTRA_GENERAL] [EXTRA_API]: new ports, a config at $T_DIR/config.cfg
# (CFG), and the daemon started. Returns non-zero if it did not become ready.
start_default() {
	new_ports
	CFG=$T_DIR/config.cfg
	write_config "$CFG" "${1:-}" "${2:-}"
	start_dns01d "$CFG"
}

# http METHOD PATH [BODY|@FILE] [curl args...]: one request; sets H_STATUS, H_BODY (exact,
# also in $T_DIR/h_body) and H_CT (the Content-Type value); $T_DIR/h_headers keeps the headers.
http() {
	local m=$1 p=$2 body=${3:-}
	shift 3 2>/dev/null || shift $#
	local data=()
	[ -n "$body" ] || [ "$m" = POST ] && data=(--data-binary "$body")
	: >"$T_DIR/h_body"
	: >"$T_DIR/h_headers"
	H_STATUS=$(curl -s -m 10 -X "$m" -D "$T_DIR/h_headers" -o "$T_DIR/h_body" \
		-w '%{http_code}' "${data[@]}" "$@" "$(api_url "$p")")
	H_BODY=$(cat "$T_DIR/h_body"; printf x)
	H_BODY=${H_BODY%x}
	H_CT=$(tr -d '\r' <"$T_DIR/h_headers" | sed -n 's/^[Cc]ontent-[Tt]ype: *//p' | tail -n 1)
}

# header NAME: the value of response header NAME from the last http call ("" if absent).
header() {
	tr -d '\r' <"$T_DIR/h_headers" | awk -v n="$1" 'BEGIN { n = tolower(n) ":" }
		tolower($1) == n { sub(/^[^:]*: */, ""); v = $0 } END { print v }'
}

# wrong_key KEY: a key of the same shape with its last character changed (never to itself:
# a key ending in the replacement would be the right key again, one time in 64).
wrong_key() { case $1 in *x) printf '%sy' "${1%?}" ;; *) printf '%sx' "${1%?}" ;; esac; }

# register_ok [BODY]: register, and FAIL if the reply was not an account.
register_ok() {
	USERNAME="" PASSWORD="" SUBDOMAIN="" FULLDOMAIN=""
	register "${1:-}" 2>/dev/null
	[ -n "$USERNAME" ] && [ -n "$PASSWORD" ] && [ -n "$SUBDOMAIN" ]
}

# update_as USER KEY SUBDOMAIN TXT [curl args...]: POST /update; prints "STATUS BODY".
update_as() {
	local u=$1 k=$2 s=$3 t=$4
	shift 4
	api POST /update "{\"subdomain\":\"$s\",\"txt\":\"$t\"}" \
		-H "X-Api-User: $u" -H "X-Api-Key: $k" "$@"
}

# txt_values NAME [dig args...]: the TXT strings served at NAME, sorted, space separated.
txt_values() {
	local n=$1
	shift
	q "$n" TXT +short "$@" | tr -d '"' | sort | tr '\n' ' ' | sed 's/ $//'
}

# sorted WORD...: the words sorted, space separated (to compare with txt_values).
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }

# dw ARGS...: tests/integration/dnswire.py against the daemon (hand-made packets);
# prints "key=value ..." lines (see that file).
dw() { python3 "$T_LIB_DIR/dnswire.py" --host "$DNS_SERVER" --port "$DNS_PORT" "$@"; }

# kv KEY LINE: the value of KEY in a dw output line.
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

# check_kv NAME LINE SPEC...: every SPEC holds for the dw output LINE. A SPEC is KEY=VALUE
# (exact), KEY~REGEX (matches) or KEY!REGEX (does not match); flags are comma-separated.
check_kv() {
	local name=$1 line=$2 spec key val got why=""
	shift 2
	for spec in "$@"; do
		case "$spec" in
		*=*) key=${spec%%=*} val=${spec#*=}; got=$(kv "$key" "$line")
			[ "$got" = "$val" ] || why="$why $key=[$got] want [$val];" ;;
		*~*) key=${spec%%~*} val=${spec#*~}; got=$(kv "$key" "$line")
			[[ $got =~ $val ]] || why="$why $key=[$got] does not match /$val/;" ;;
		*!*) key=${spec%%!*} val=${spec#*!}; got=$(kv "$key" "$line")
			[[ $got =~ $val ]] && why="$why $key=[$got] matches /$val/;" ;;
		esac
	done
	if [ -z "$why" ]; then ok "$name"; else fail "$name" "${why# } (answer: $line)"; fi
}

# have_ipv6: true if ::1 can be bound here.
have_ipv6() {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); s.close()' 2>/dev/null
}

# t_done: end of a test file; exit status reflects failures.
t_done() { exit "$T_FAILED"; }

# --- PostgreSQL (issue 8): a throwaway server of our own, stopped by PID ---
# PG_BIN: where Debian keeps initdb and postgres (not on PATH).
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_PID=""

# have_pg: true if a PostgreSQL server can be run here.
have_pg() { [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/postgres" ]; }

# pg_as CMD...: run CMD as the unprivileged owner of the cluster (initdb refuses root).
pg_as() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env -- "$@"
	else
		"$@"
	fi
}

# pg_init: initdb a cluster in PG_DIR (a fresh temp directory owned by nobody, removed on
# exit), with a password-protected role dns01d and a database acmedns. Sets PG_DIR, PG_PORT,
# PG_PASS, and PG_CONN (a URI as acme-dns takes, with the password). Returns non-zero on failure.
pg_init() {
	have_pg || return 1
	PG_DIR=$(mktemp -d /tmp/dns01d-pg.XXXXXX)
	T_CLEAN_DIRS+=("$PG_DIR")
	chmod 755 "$PG_DIR"
	[ "$(id -u)" = 0 ] && chown nobody:nogroup "$PG_DIR"
	PG_PORT=$(free_port)
	PG_PASS="pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-locale -E UTF8 \
		--no-sync >"$PG_DIR/initdb.log" 2>&1 || { sed 's/^/#   /' "$PG_DIR/initdb.log"; return 1; }
	# Loopback TCP asks for the password; the Unix socket (the tests' psql) is trusted.
	printf 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$PG_DIR/data/pg_hba.conf"
	pg_start || return 1
	pg_sql postgres "CREATE ROLE dns01d LOGIN PASSWORD '$PG_PASS'" >/dev/null &&
		pg_sql postgres "CREATE DATABASE acmedns OWNER dns01d" >/dev/null || return 1
	PG_CONN="postgres://dns01d:$PG_PASS@127.0.0.1:$PG_PORT/acmedns?sslmode=disable"
}

# pg_start: start the cluster of pg_init (again) on PG_PORT; wait until it accepts (10 s).
# Durability is off (the tests do not test PostgreSQL's fsync) unless PG_FSYNC=on.
pg_start() {
	local -a as=()
	[ "$(id -u)" = 0 ] && as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env --)
	# exec: the PID recorded is the postmaster itself, so stopping it by PID stops the server.
	( exec "${as[@]}" "$PG_BIN/postgres" -D "$PG_DIR/data" -p "$PG_PORT" -k "$PG_DIR" \
		-c listen_addresses=127.0.0.1 -c fsync="${PG_FSYNC:-off}" \
		-c synchronous_commit="${PG_FSYNC:-off}" -c max_connections=100 \
		>>"$PG_DIR/server.log" 2>&1 ) &
	PG_PID=$!
	T_PIDS+=("$PG_PID")
	local i
	for i in $(seq 1 100); do
		pg_sql postgres "SELECT 1" >/dev/null 2>&1 && return 0
		kill -0 "$PG_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "# postgres did not start:"; tail -n 20 "$PG_DIR/server.log" | sed 's/^/#   /'
	return 1
}

# pg_stop: fast shutdown of the server started by pg_start (SIGINT to its PID), and wait.
pg_stop() {
	[ -n "$PG_PID" ] || return 0
	kill -INT "$PG_PID" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$PG_PID" 2>/dev/null
	wait "$PG_PID" 2>/dev/null
	PG_PID=""
}

# pg_sql DB SQL: run SQL as the superuser over the Unix socket; prints rows unaligned.
pg_sql() { pg_as "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U postgres -d "$1" -c "$2"; }

# pg_config FILE [EXTRA_GENERAL] [EXTRA_API]: write_config with engine postgres and PG_CONN.
pg_config() {
	write_config "$@"
	sed -i -e 's/^engine = .*/engine = "postgres"/' \
		-e "s|^connection = .*|connection = \"$PG_CONN\"|" "$1"
}
