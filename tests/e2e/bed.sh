# tests/e2e/bed.sh -- the offline ACME test bed: a throwaway CA, dns01d, unbound and Pebble.
# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Source it from a tests/e2e/test_*.sh script (run from the repository root, as
# tests/run.sh does). It sources tests/integration/lib.sh, so ok/fail/check_* and the
# PID-based cleanup at exit come from there. Every process started here is added to
# T_PIDS and stopped by PID when the script exits; every wait loop is bounded.
#
#  dns01 ──ACME/HTTPS──▶ pebble ──DNS (UDP, RD)──▶ unbound ──stub──▶ dns01d DNS
#    └── POST /update ──▶ dns01d API
#
# See ../shared/testbed/README.md for the recipe and what bites.

BED_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BED_ROOT=$(cd "$BED_HERE/../.." && pwd)
# shellcheck source=../integration/lib.sh
. "$BED_ROOT/tests/integration/lib.sh"
: "${DNS01_BIN:=$BED_ROOT/build/dns01}"

BED_ZONE=example.test		# the user's zone, served by unbound's auth-zone
BED_AUTH=auth.example.test	# the delegated zone, served by dns01d
BED_WAIT_TENTHS=150		# every start waits at most 15 s
BED_CMD_TIMEOUT=60		# a single client command may take at most 60 s
BED_PORTS=" "			# ports handed out in this run, so two never collide

# Nothing from the caller's environment may steer the client (DNS01_<OPTION> variables)
# or change Pebble's defaults (the 5% badNonce rejection stays on).
for _v in $(compgen -e); do
	case "$_v" in
	DNS01_BIN) ;;
	DNS01_* | PEBBLE_*) unset "$_v" ;;
	esac
done
unset _v

# skip NAME WHY: a check that cannot run here (a missing tool).
skip() { echo "SKIPPED - $1: ${2:-}"; }

# bed_need TOOL...: 0 if every tool is on PATH (or an executable path); else names the
# missing ones in BED_MISSING and returns 1.
bed_need() {
	local t
	BED_MISSING=""
	for t in "$@"; do
		if [ "${t#/}" != "$t" ]; then
			[ -x "$t" ] || BED_MISSING="$BED_MISSING $t"
		else
			command -v "$t" >/dev/null 2>&1 || BED_MISSING="$BED_MISSING $t"
		fi
	done
	[ -z "$BED_MISSING" ]
}

# bed_port VAR...: set each VAR to a free loopback port (TCP and UDP) not yet handed
# out in this run (not called in a subshell, so BED_PORTS remembers them).
bed_port() {
	local v p
	for v in "$@"; do
		p=""
		for _ in $(seq 1 20); do
			p=$(free_port)
			[ -n "$p" ] || continue
			case "$BED_PORTS" in *" $p "*) p=""; continue ;; esac
			break
		done
		[ -n "$p" ] || { echo "# no free port"; return 1; }
		BED_PORTS="$BED_PORTS$p "
		printf -v "$v" '%s' "$p"
	done
}

# bed_show FILE [N]: the last N (default 15) lines of FILE as '#' comment lines.
bed_show() {
	[ -f "$1" ] || return 0
	tail -n "${2:-15}" "$1" | sed 's/^/#   /'
}

# bed_wait_log PID LOG REGEX: wait until LOG matches REGEX while PID lives (max 15 s).
bed_wait_log() {
	local pid=$1 log=$2 re=$3
	for _ in $(seq 1 "$BED_WAIT_TENTHS"); do
		grep -Eq -- "$re" "$log" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { echo "# process $pid exited before /$re/:"; bed_show "$log"; return 1; }
		sleep 0.1
	done
	echo "# no /$re/ in $log after $((BED_WAIT_TENTHS / 10)) s:"
	bed_show "$log"
	return 1
}

# bed_make_ca: a throwaway CA and a localhost certificate (SAN DNS:localhost,
# IP:127.0.0.1) for Pebble's HTTPS and the bad-directory server. Sets BED_CA (the CA
# certificate the client trusts), BED_LH_CERT and BED_LH_KEY.
bed_make_ca() {
	local d=$T_DIR/ca
	mkdir -p "$d"
	BED_CA=$d/ca.pem BED_LH_CERT=$d/localhost.pem BED_LH_KEY=$d/localhost.key
	printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
		'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
		'extendedKeyUsage=serverAuth' >"$d/ext.cnf"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=dns01d e2e throwaway CA" -keyout "$d/ca.key" -out "$BED_CA" >"$d/log" 2>&1 &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj /CN=localhost -keyout "$BED_LH_KEY" -out "$d/localhost.csr" >>"$d/log" 2>&1 &&
	openssl x509 -req -in "$d/localhost.csr" -CA "$BED_CA" -CAkey "$d/ca.key" \
		-CAcreateserial -days 2 -extfile "$d/ext.cnf" -out "$BED_LH_CERT" >>"$d/log" 2>&1 ||
		{ echo "# openssl failed:"; bed_show "$d/log"; return 1; }
}

# bed_start_dns01d: dns01d on random loopback ports, authoritative for auth.example.test.
# Sets DNS_PORT, API_PORT, DB, API_URL and DAEMON_PID (lib.sh's start_dns01d).
bed_start_dns01d() {
	bed_port DNS_PORT API_PORT || return 1
	DB=$T_DIR/dns01d.db
	export API_URL=http://127.0.0.1:$API_PORT
	local -a RECORDS=("$BED_AUTH. A 127.0.0.1" "$BED_AUTH. NS $BED_AUTH.")
	DOMAIN=$BED_AUTH NSADMIN=admin.$BED_ZONE LOGLEVEL=info write_config "$T_DIR/dns01d.cfg"
	start_dns01d "$T_DIR/dns01d.cfg" "$T_DIR/dns01d.log"
}

# bed_zone_write: (re)write example.test's zone file from BED_ZONE_RECORDS.
BED_ZONE_RECORDS=()
bed_zone_write() {
	local r
	BED_ZONE_SERIAL=$(( ${BED_ZONE_SERIAL:-0} + 1 ))
	{
		echo "\$ORIGIN $BED_ZONE."
		echo "\$TTL 0"
		echo "@ 0 IN SOA ns.$BED_ZONE. hostmaster.$BED_ZONE. $BED_ZONE_SERIAL 3600 600 86400 0"
		echo "@ 0 IN NS ns.$BED_ZONE."
		echo "ns 0 IN A 127.0.0.1"
		for r in "${BED_ZONE_RECORDS[@]}"; do echo "$r"; done
	} >"$T_DIR/unbound/$BED_ZONE.zone.tmp" &&
		mv "$T_DIR/unbound/$BED_ZONE.zone.tmp" "$T_DIR/unbound/$BED_ZONE.zone"
}

# bed_start_unbound: unbound on a random port with an auth-zone for example.test and a
# stub-zone for auth.example.test pointing at dns01d (bed_start_dns01d first).
# Remote control is a unix socket in the temporary directory (no port, no certificates).
# Sets UB_PORT, UB_PID, UB_CONF.
bed_start_unbound() {
	local d=$T_DIR/unbound
	mkdir -p "$d"
	bed_port UB_PORT || return 1
	UB_CONF=$d/unbound.conf
	bed_zone_write || return 1
	cat >"$UB_CONF" <<CONF
server:
	interface: 127.0.0.1
	port: $UB_PORT
	do-ip6: no
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$d"
	pidfile: ""
	use-syslog: no
	logfile: ""
	verbosity: 1
	num-threads: 1
	so-reuseport: no
	do-not-query-localhost: no
	local-zone: "test." nodefault
	domain-insecure: "$BED_ZONE"
	module-config: "iterator"
	cache-max-ttl: 0
	cache-max-negative-ttl: 0
	infra-keep-probing: yes

remote-control:
	control-enable: yes
	control-interface: "$d/control.sock"
	control-use-cert: no

auth-zone:
	name: "$BED_ZONE"
	zonefile: "$d/$BED_ZONE.zone"
	for-upstream: yes
	for-downstream: no
	fallback-enabled: no

stub-zone:
	name: "$BED_AUTH"
	stub-addr: 127.0.0.1@$DNS_PORT
CONF
	if ! unbound-checkconf "$UB_CONF" >"$d/checkconf.log" 2>&1; then
		echo "# unbound-checkconf failed:"; bed_show "$d/checkconf.log"; return 1
	fi
	unbound -d -c "$UB_CONF" >"$d/unbound.log" 2>&1 &
	UB_PID=$!
	T_PIDS+=("$UB_PID")
	for _ in $(seq 1 "$BED_WAIT_TENTHS"); do
		if dig +time=1 +tries=1 -p "$UB_PORT" @127.0.0.1 "$BED_ZONE" SOA 2>/dev/null |
			grep -q "status: NOERROR"; then
			return 0
		fi
		kill -0 "$UB_PID" 2>/dev/null || { echo "# unbound exited:"; bed_show "$d/unbound.log"; return 1; }
		sleep 0.1
	done
	echo "# unbound does not answer the $BED_ZONE SOA after $((BED_WAIT_TENTHS / 10)) s:"
	bed_show "$d/unbound.log"
	return 1
}

# bed_zone_add RECORD...: add zone-file lines (relative or absolute owner names) to
# example.test, then reload the auth-zone. Waits until unbound serves the new serial.
bed_zone_add() {
	BED_ZONE_RECORDS+=("$@")
	bed_zone_reload
}

# bed_zone_reload: rewrite the zone file and make unbound serve it (max 15 s).
bed_zone_reload() {
	bed_zone_write || return 1
	local out
	if ! out=$(unbound-control -c "$UB_CONF" auth_zone_reload "$BED_ZONE" 2>&1); then
		echo "# unbound-control auth_zone_reload failed: $out"
		return 1
	fi
	for _ in $(seq 1 "$BED_WAIT_TENTHS"); do
		dig +short +time=1 +tries=1 -p "$UB_PORT" @127.0.0.1 "$BED_ZONE" SOA 2>/dev/null |
			awk '{ print $3 }' | grep -qx "$BED_ZONE_SERIAL" && return 0
		sleep 0.1
	done
	echo "# unbound does not serve serial $BED_ZONE_SERIAL after reload"
	return 1
}

# bed_cname DOMAIN FULLDOMAIN: _acme-challenge.DOMAIN CNAME FULLDOMAIN. in unbound's zone.
bed_cname() {
	bed_zone_add "_acme-challenge.$1. 0 IN CNAME ${2%.}."
}

# bed_start_pebble TAG [EAB_KID EAB_KEY]: a Pebble on random ports that asks unbound.
# With EAB_KID and EAB_KEY it requires External Account Binding. Sets TAG_DIR_URL,
# TAG_MGMT, TAG_ROOT (root.pem), TAG_INTER (intermediate.pem) and TAG_PID.
bed_start_pebble() {
	local tag=$1 kid=${2:-} key=${3:-} d=$T_DIR/pebble-$1 port mgmt hport tport eab=false macs=""
	mkdir -p "$d"
	bed_port port mgmt hport tport || return 1
	if [ -n "$kid" ]; then
		eab=true
		macs=", \"externalAccountMACKeys\": {\"$kid\": \"$key\"}"
	fi
	cat >"$d/pebble.json" <<JSON
{
  "pebble": {
    "listenAddress": "127.0.0.1:$port",
    "managementListenAddress": "127.0.0.1:$mgmt",
    "certificate": "$BED_LH_CERT",
    "privateKey": "$BED_LH_KEY",
    "httpPort": $hport,
    "tlsPort": $tport,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": $eab$macs
  }
}
JSON
	PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 \
		pebble -config "$d/pebble.json" -dnsserver "127.0.0.1:$UB_PORT" >"$d/pebble.log" 2>&1 &
	local pid=$!
	T_PIDS+=("$pid")
	printf -v "${tag}_PID" '%s' "$pid"
	printf -v "${tag}_DIR_URL" '%s' "https://127.0.0.1:$port/dir"
	printf -v "${tag}_MGMT" '%s' "https://127.0.0.1:$mgmt"
	printf -v "${tag}_ROOT" '%s' "$d/root.pem"
	printf -v "${tag}_INTER" '%s' "$d/intermediate.pem"
	printf -v "${tag}_LOG" '%s' "$d/pebble.log"
	bed_wait_log "$pid" "$d/pebble.log" "Listening on: 127.0.0.1:$port" || return 1
	bed_wait_log "$pid" "$d/pebble.log" "Management interface listening on: 127.0.0.1:$mgmt" || return 1
	curl -sf -m 5 --cacert "$BED_CA" -o "$d/root.pem" "https://127.0.0.1:$mgmt/roots/0" &&
		curl -sf -m 5 --cacert "$BED_CA" -o "$d/intermediate.pem" "https://127.0.0.1:$mgmt/intermediates/0" &&
		grep -q 'BEGIN CERTIFICATE' "$d/root.pem" ||
		{ echo "# cannot fetch Pebble's root from https://127.0.0.1:$mgmt/roots/0"; return 1; }
}

# bed_start_acmeca TAG [ARG...]: the scripted CA (acmeca.py: profiles, dns-account-01,
# dns-persist-01) on a random port, validating through unbound; ARGs go to acmeca.py
# (e.g. --challenges dns-01). Needs Debian's python3-cryptography (BED_PY is the
# python3 that has it). Sets TAG_DIR_URL, TAG_BASE (for GET /orders), TAG_ROOT, TAG_LOG
# and TAG_PID.
BED_PY=/usr/bin/python3
[ -x "$BED_PY" ] || BED_PY=python3
bed_start_acmeca() {
	local tag=$1 d=$T_DIR/acmeca-$1 port
	shift
	mkdir -p "$d"
	bed_port port || return 1
	"$BED_PY" "$BED_HERE/acmeca.py" --port "$port" --cert "$BED_LH_CERT" --key "$BED_LH_KEY" \
		--dns "127.0.0.1:$UB_PORT" "$@" >"$d/acmeca.log" 2>&1 &
	local pid=$!
	T_PIDS+=("$pid")
	printf -v "${tag}_PID" '%s' "$pid"
	printf -v "${tag}_DIR_URL" '%s' "https://127.0.0.1:$port/dir"
	printf -v "${tag}_BASE" '%s' "https://127.0.0.1:$port"
	printf -v "${tag}_ROOT" '%s' "$d/root.pem"
	printf -v "${tag}_LOG" '%s' "$d/acmeca.log"
	bed_wait_log "$pid" "$d/acmeca.log" "^ready" || return 1
	curl -sf -m 5 --cacert "$BED_CA" -o "$d/root.pem" "https://127.0.0.1:$port/roots/0" &&
		grep -q 'BEGIN CERTIFICATE' "$d/root.pem" ||
		{ echo "# cannot fetch the scripted CA's root"; return 1; }
}

# bed_cert_status MGMT CERT: Pebble's status ("Valid", "Revoked") of CERT by its serial.
bed_cert_status() {
	local serial
	serial=$(openssl x509 -in "$2" -noout -serial 2>/dev/null | cut -d= -f2)
	[ -n "$serial" ] || return 1
	curl -s -m 5 --cacert "$BED_CA" "$1/cert-status-by-serial/$serial" |
		python3 -c 'import json,sys; print(json.load(sys.stdin).get("Status", ""))' 2>/dev/null
}

# bed_b64url_key: 32 random bytes, base64url without padding (an EAB HMAC key).
bed_b64url_key() {
	openssl rand 32 | base64 | tr '+/' '-_' | tr -d '=\n'
}

# bed_dig NAME TYPE: dig through unbound (recursion desired, as Pebble asks).
bed_dig() {
	dig +time=2 +tries=1 -p "$UB_PORT" @127.0.0.1 "$1" "$2"
}

# run_cmd CMD...: run CMD with a time limit; sets RC, OUT (stdout file), ERR (stderr
# file), CMD_LINE and SECS (wall time, seconds with one decimal).
RUN_SEQ=0
run_cmd() {
	RUN_SEQ=$((RUN_SEQ + 1))
	OUT=$T_DIR/cmd$RUN_SEQ.out ERR=$T_DIR/cmd$RUN_SEQ.err
	CMD_LINE=$(printf '%q ' "$@")
	local t0 t1
	t0=$(date +%s%N)
	timeout -k 5 "$BED_CMD_TIMEOUT" "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	t1=$(date +%s%N)
	SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	[ -n "${BED_TIMES:-}" ] && echo "# $SECS s: ${CMD_LINE:0:120}"
	[ "$RC" -eq 124 ] && echo "# timed out after $BED_CMD_TIMEOUT s: $CMD_LINE"
	return 0
}

# why_cmd: the last command, its exit code and output, for a FAIL line.
why_cmd() {
	printf 'command: %s| exit %s after %s s| stderr: %s| stdout: %s' "$CMD_LINE" "$RC" "$SECS" \
		"$(tail -n 8 "$ERR" | tr '\n' ' ' | cut -c1-900)" "$(tail -n 4 "$OUT" | tr '\n' ' ' | cut -c1-300)"
}

# expect_rc NAME WANT: a check that the last run_cmd exited WANT; prints why if not.
expect_rc() {
	if [ "$RC" = "$2" ]; then ok "$1"; else fail "$1" "want exit $2; $(why_cmd)"; fi
	[ "$RC" = "$2" ]
}

# expect_msg NAME REGEX: the last command's error is one readable line matching REGEX
# (extended, case-insensitive), as issue 3 asks of every error: the last stderr line;
# any lines before it are dns01's progress lines ("dns01: ...", absent with -q).
expect_msg() {
	local lines last other
	lines=$(grep -c . "$ERR")
	last=$(grep . "$ERR" | tail -n 1)
	other=$(grep . "$ERR" | head -n -1 | grep -vc '^dns01: ')
	if [ "$lines" -ge 1 ] && [ "$other" -eq 0 ] && printf '%s\n' "$last" | grep -Eiq -- "$2"; then
		ok "$1"
		echo "#   $(printf '%s' "$last" | head -c 400)"
	else
		fail "$1" "want a last stderr line matching /$2/ after progress lines only, got $lines lines; $(why_cmd)"
	fi
}

# expect_no_secret NAME SECRET: neither output of the last command contains SECRET.
expect_no_secret() {
	if [ -n "$2" ] && grep -Fq -- "$2" "$OUT" "$ERR"; then
		fail "$1" "a secret appears in the output of: $CMD_LINE"
	else
		ok "$1"
	fi
}

# file_mode FILE: the octal permission bits of FILE (of its target if it is a symlink:
# dns01's --out files are symlinks into the live release).
file_mode() { stat -L -c '%a' "$1" 2>/dev/null; }

# cert_sans CERT: the DNS SANs of CERT, sorted, space-separated.
cert_sans() {
	openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null |
		grep -oE 'DNS:[^, ]+' | sed 's/^DNS://' | sort | tr '\n' ' ' | sed 's/ $//'
}

# key_desc KEY: "rsa BITS" or "ec CURVE" for a private key file.
key_desc() {
	local txt
	txt=$(openssl pkey -in "$1" -noout -text 2>/dev/null) || return 1
	case "$txt" in
	*"NIST CURVE:"* | *"ASN1 OID:"*)
		echo "ec $(printf '%s\n' "$txt" | sed -n 's/^ASN1 OID: //p' | head -n 1)" ;;
	*"Private-Key: ("*)
		if printf '%s\n' "$txt" | grep -q '^modulus:'; then
			echo "rsa $(printf '%s\n' "$txt" | sed -n 's/^Private-Key: (\([0-9]*\) bit.*/\1/p')"
		else
			echo "other"
		fi ;;
	*) echo "other" ;;
	esac
}

# key_matches_cert KEY CERT: the key is the certificate's key.
key_matches_cert() {
	local a b
	a=$(openssl pkey -in "$1" -pubout 2>/dev/null) && b=$(openssl x509 -in "$2" -noout -pubkey 2>/dev/null) &&
		[ -n "$a" ] && [ "$a" = "$b" ]
}

# check_cert_dir NAME DIR ROOT NAMES: the usual checks on an issued certificate in DIR:
# the chain verifies against ROOT, the SANs are NAMES (sorted, space-separated),
# privkey.pem is 0600 and matches cert.pem, and fullchain.pem is cert + chain.
check_cert_dir() {
	local n=$1 d=$2 root=$3 names=$4 v
	if v=$(openssl verify -CAfile "$root" -untrusted "$d/chain.pem" "$d/cert.pem" 2>&1); then
		ok "$n: chain verifies against Pebble's root"
	else
		fail "$n: chain verifies against Pebble's root" "$(echo "$v" | tr '\n' ' ')"
	fi
	check_eq "$n: SANs" "$(cert_sans "$d/cert.pem")" "$names"
	check_eq "$n: privkey.pem mode" "$(file_mode "$d/privkey.pem")" "600"
	check "$n: privkey.pem is the certificate's key" key_matches_cert "$d/privkey.pem" "$d/cert.pem"
	if [ -f "$d/fullchain.pem" ] && [ "$(cat "$d/cert.pem" "$d/chain.pem" | grep -v '^$')" = "$(grep -v '^$' "$d/fullchain.pem")" ]; then
		ok "$n: fullchain.pem is cert.pem + chain.pem"
	else
		fail "$n: fullchain.pem is cert.pem + chain.pem" "differs or missing in $d"
	fi
}
