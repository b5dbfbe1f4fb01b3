#!/usr/bin/env bash
# tests/e2e/test_autocert.sh -- the API gets its own certificate through dns01d's own DNS
# and renews it with no restart (issue 7): tls = "acme" against Pebble, whose -dnsserver
# is dns01d's DNS port (no unbound, no CNAME, no client).
# SPDX-License-Identifier: MIT
. "$(dirname "$0")/bed.sh"

if ! bed_need pebble dig curl openssl python3; then
	skip "autocert end to end" "missing:$BED_MISSING"
	t_done
fi
D=$BED_AUTH
if ! { bed_make_ca && bed_port DNS_PORT API_PORT; }; then
	fail "autocert: test bed" "see the lines above"
	t_done
fi
DB=$T_DIR/dns01d.db
CACHE=$T_DIR/api-certs
CFG=$T_DIR/dns01d.cfg
LOG=$T_DIR/dns01d.log
# Pebble asks dns01d itself (bed_start_pebble takes its DNS server from UB_PORT).
start_pebble() { UB_PORT=$DNS_PORT bed_start_pebble PEB; }
# config EXTRA_API: tls = "acme" at Pebble, cache in $CACHE.
config() {
	local -a RECORDS=("$D. A 127.0.0.1" "$D. NS $D.")
	DOMAIN=$D NSADMIN=admin.$BED_ZONE LOGLEVEL=info TLS=acme write_config "$CFG" "rrl_rate = 0" \
		"acme_directory = \"$PEB_DIR_URL\"
acme_ca_file = \"$BED_CA\"
acme_cache_dir = \"$CACHE\"
notification_email = \"ops@example.test\"
$1"
}
CURL() { curl -s -m 3 --cacert "$PEB_ROOT" --resolve "$D:$API_PORT:127.0.0.1" "$@"; }
URL="https://$D:$API_PORT"
health() { CURL -o /dev/null -w '%{http_code}' "$URL/health"; }
# wait_health SECONDS: until /health over HTTPS is 200.
wait_health() {
	local end=$((SECONDS + $1))
	while [ "$SECONDS" -lt "$end" ]; do [ "$(health)" = 200 ] && return 0; sleep 0.25; done
	return 1
}
# served: "SERIAL SAN" of the certificate a new handshake gets.
served() {
	local pem
	pem=$(openssl s_client -connect "127.0.0.1:$API_PORT" -servername "$D" </dev/null 2>/dev/null |
		openssl x509 2>/dev/null) || return 1
	printf '%s %s\n' "$(printf '%s\n' "$pem" | openssl x509 -noout -serial | cut -d= -f2)" \
		"$(printf '%s\n' "$pem" | openssl x509 -noout -ext subjectAltName | sed -n 's/^ *DNS://p')"
}
# orders: how many orders Pebble has received so far.
orders() { grep -c 'POST /order-plz' "$PEB_LOG" 2>/dev/null; }
start_daemon() {
	"$DNS01D_BIN" -c "$CFG" >>"$LOG" 2>&1 &
	DAEMON_PID=$!
	T_PIDS+=("$DAEMON_PID")
	T_LOGS+=("$LOG")
}

# 1. A CA that accepts connections and never answers (a black hole): DNS must not wait
# for it (an HTTP request to it takes ACME_HTTP_TIMEOUT, 30 s).
HOLE_PORT=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); time.sleep(120)' "$HOLE_PORT" &
HOLE_PID=$!
T_PIDS+=("$HOLE_PID")
sleep 0.3
PEB_DIR_URL=https://127.0.0.1:$HOLE_PORT/dir PEB_ROOT=/dev/null
config ""
t0=$(date +%s%N)
start_daemon
dns_ms=""
for _ in $(seq 1 1000); do
	if dig +time=1 +tries=1 -p "$DNS_PORT" @127.0.0.1 "$D" SOA 2>/dev/null | grep -q 'status: NOERROR'; then
		dns_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		break
	fi
	sleep 0.01
done
ready=$(sed -n 's/.*ready: .*started in \([0-9]*\) ms.*/\1/p' "$LOG" | tail -n 1)
echo "# CA a black hole: DNS answered ${dns_ms:-never} ms after the launch (dig included); the daemon was ready in ${ready:-?} ms"
check ca_hole_dns_answers_before_any_ca_timeout test -n "$dns_ms" -a "${dns_ms:-99999}" -lt 10000
check_eq ca_hole_https_not_up "$(health)" 000
kill "$HOLE_PID" 2>/dev/null
kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
start_pebble || { fail "autocert: Pebble starts" "see above"; t_done; }
PEB_LOG=$T_DIR/pebble-PEB/pebble.log
# restart_pebble: Pebble again on the same ports (a new root, fetched again).
restart_pebble() {
	local d=$T_DIR/pebble-PEB
	PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 \
		pebble -config "$d/pebble.json" -dnsserver "127.0.0.1:$DNS_PORT" >>"$PEB_LOG" 2>&1 &
	PEB_PID=$!
	T_PIDS+=("$PEB_PID")
	for _ in $(seq 1 150); do
		curl -sf -m 2 --cacert "$BED_CA" -o "$PEB_ROOT" "$PEB_MGMT/roots/0" && return 0
		sleep 0.1
	done
	return 1
}
# Now the real directory, but Pebble stopped first: the daemon must retry.
kill "$PEB_PID"; wait "$PEB_PID" 2>/dev/null
config ""
start_daemon
sleep 3
check_eq ca_down_no_https_yet "$(health)" 000
check_match ca_down_warns "$(cat "$LOG")" 'autocert: certificate for .* failed \(attempt 1\)'
check_match ca_down_dns_still_answers "$(dig +short -p "$DNS_PORT" @127.0.0.1 "$D" A)" '^127\.0\.0\.1$'
restart_pebble || { fail "autocert: Pebble restarts" "see above"; t_done; }
if wait_health 60; then ok "ca_back_api_comes_up"; else fail ca_back_api_comes_up "see the log"; sed "s/^/# /" "$LOG" | tail -20; tail -20 "$PEB_LOG" | sed "s/^/# P /"; fi
check_match https_listener_logged "$(cat "$LOG")" 'api: HTTPS listener started on port'

# 2. The certificate names general.domain; /register and /update work over HTTPS.
read -r SERIAL1 SAN < <(served)
check_eq san_is_general_domain "$SAN" "$D"
r=$(CURL -X POST "$URL/register")
check_match register_over_https "$r" '"username":"[0-9a-f-]{36}"'
U=$(printf '%s' "$r" | python3 -c 'import json,sys; print(json.load(sys.stdin)["username"])')
K=$(printf '%s' "$r" | python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])')
S=$(printf '%s' "$r" | python3 -c 'import json,sys; print(json.load(sys.stdin)["subdomain"])')
TXT=$(txt43 autocert)
check_eq update_over_https "$(CURL -o /dev/null -w '%{http_code}' -H "X-Api-User: $U" \
	-H "X-Api-Key: $K" -d "{\"subdomain\":\"$S\",\"txt\":\"$TXT\"}" "$URL/update")" 200
check_eq challenge_txt_removed "$(dig +short -p "$DNS_PORT" @127.0.0.1 "_acme-challenge.$D" TXT)" ""
check_eq cache_files_0600 "$(stat -c %a "$CACHE/cert.pem" "$CACHE/key.pem" "$CACHE/account.key" | sort -u)" 600

# 3. A restart reuses the cache: same serial, no new order at Pebble.
n_orders=$(orders)
check orders_counted [ "${n_orders:-0}" -ge 1 ]
kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
start_daemon
wait_health 10
read -r SERIAL2 _ < <(served)
check_eq restart_same_serial "$SERIAL2" "$SERIAL1"
sleep 2
check_eq restart_no_new_order "$(orders)" "$n_orders"
check_match restart_served_from_cache "$(cat "$LOG")" 'serving the cached certificate'

# 4. Forced renewal (acme_renew_before: due 10 s after the restart): the serial changes
# with no restart while clients keep sending requests; none may fail.
not_after=$(date -d "$(openssl x509 -in "$CACHE/cert.pem" -noout -enddate | cut -d= -f2)" +%s)
kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
config "acme_renew_before = $((not_after - $(date +%s) - 10))"
start_daemon
wait_health 10
python3 - "$API_PORT" "$PEB_ROOT" "$D" >"$T_DIR/keepalive.out" 2>&1 <<'PY' &
import http.client, ssl, sys, time
port, ca, host = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False  # the address is 127.0.0.1; the chain is still verified
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=5)
ok = fail = 0
first = None
t0 = time.time()
import signal
signal.signal(signal.SIGINT, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
while time.time() - t0 < 45:
    try:
        c.request("GET", "/health", headers={"Host": host})
        r = c.getresponse(); r.read()
        ok += r.status == 200; fail += r.status != 200
        name = c.sock.getsockname() if c.sock else None
        first = first or name
        if name != first:
            fail += 1; print("reconnected"); break
    except KeyboardInterrupt:
        break
    except Exception as e:
        fail += 1; print("error", e); break
    try:
        time.sleep(0.05)
    except KeyboardInterrupt:
        break
print("keepalive ok=%d fail=%d" % (ok, fail), flush=True)
PY
KA_PID=$!
loop_ok=0 loop_fail=0 SERIAL3=$SERIAL1 after=0
for _ in $(seq 1 300); do
	if [ "$(health)" = 200 ]; then loop_ok=$((loop_ok + 1)); else loop_fail=$((loop_fail + 1)); fi
	read -r SERIAL3 _ < <(served)
	if [ -n "$SERIAL3" ] && [ "$SERIAL3" != "$SERIAL1" ]; then
		after=$((after + 1))
		[ "$after" -ge 10 ] && break	# ten more requests on the new certificate
	fi
	sleep 0.1
done
kill -INT "$KA_PID" 2>/dev/null; wait "$KA_PID" 2>/dev/null
check renewal_serial_changes [ -n "$SERIAL3" ] && [ "$SERIAL3" != "$SERIAL1" ]
echo "# requests during the renewal: $loop_ok ok, $loop_fail failed"
check_eq renewal_no_request_fails "$loop_fail" 0
check_eq renewal_no_restart "$(kill -0 "$DAEMON_PID" && echo alive)" alive
check_match renewal_logged "$(cat "$LOG")" 'autocert: new certificate for'
ka=$(grep '^keepalive' "$T_DIR/keepalive.out")
echo "# $ka"
check_match renewal_keepalive_connection_survives "$ka" '^keepalive ok=[1-9][0-9]* fail=0$'
kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
t_done
