#!/usr/bin/env bash
# tests/integration/test_tls_cert.sh -- tls = "cert": served over HTTPS, swapped on file
# change and on SIGHUP with no restart and no failed request, a bad pair refused (issue 7).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

D=auth.example.org
P=$T_DIR/pki
mkdir -p "$P"
# A CA and leaves for $D: A and B (good pairs), and a key that matches neither.
mkcert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=$1" -keyout "$P/$1.key" -out "$P/$1.pem" ${2:+-addext "$2"} 2>/dev/null
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=test CA" \
	-keyout "$P/ca.key" -out "$P/ca.pem" 2>/dev/null
leaf() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$D" \
		-keyout "$P/$1.key" -out "$P/$1.csr" 2>/dev/null
	printf 'subjectAltName=DNS:%s\n' "$D" >"$P/ext"
	openssl x509 -req -in "$P/$1.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -days 2 \
		-set_serial "$2" -extfile "$P/ext" -out "$P/$1.crt" 2>/dev/null
	cat "$P/$1.crt" "$P/ca.pem" >"$P/$1.full"
}
leaf a 0xA1
leaf b 0xB2
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out "$P/other.key" 2>/dev/null
LIVE=$T_DIR/live
mkdir -p "$LIVE"
install_pair() { cp "$P/$1.full" "$LIVE/fullchain.pem.tmp"; cp "$2" "$LIVE/privkey.pem.tmp"
	mv "$LIVE/privkey.pem.tmp" "$LIVE/privkey.pem"; mv "$LIVE/fullchain.pem.tmp" "$LIVE/fullchain.pem"; }
install_pair a "$P/a.key"

new_ports
CFG=$T_DIR/config.cfg
# /health asks dnsd for its SOA each time; no RRL on that loop of self-queries.
TLS=cert write_config "$CFG" "rrl_rate = 0" "tls_cert_privkey = \"$LIVE/privkey.pem\"
tls_cert_fullchain = \"$LIVE/fullchain.pem\"
hsts_enabled = true
hsts_max_age = 600
hsts_include_subdomains = true"
LOG=$T_DIR/dns01d.log
URL="https://$D:$API_PORT"
CURL=(curl -s -m 5 --cacert "$P/ca.pem" --resolve "$D:$API_PORT:127.0.0.1")
# serial: the serial of the certificate a new handshake gets, e.g. "A1".
serial() {
	openssl s_client -connect "127.0.0.1:$API_PORT" -servername "$D" -CAfile "$P/ca.pem" \
		</dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//'
}
# wait_serial WANT SECONDS: poll until the served serial is WANT.
wait_serial() {
	local i
	for i in $(seq 1 $(($2 * 5))); do [ "$(serial)" = "$1" ] && return 0; sleep 0.2; done
	return 1
}

"$DNS01D_BIN" -n -c "$CFG" >"$T_DIR/n.out" 2>&1
check_eq dash_n_good_pair "$?" 0
"$DNS01D_BIN" -c "$CFG" >>"$LOG" 2>&1 &
DAEMON_PID=$!
T_PIDS+=("$DAEMON_PID")
T_LOGS+=("$LOG")
for _ in $(seq 1 100); do
	[ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$URL/health")" = 200 ] && break
	sleep 0.1
done
check_eq https_health_200 "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$URL/health")" 200
check_eq serves_serial_a "$(serial)" A1
hsts=$("${CURL[@]}" -D - -o /dev/null "$URL/health" | tr -d '\r' | sed -n 's/^[Ss]trict-[Tt]ransport-[Ss]ecurity: //p')
check_eq hsts_header "$hsts" "max-age=600; includeSubDomains"
r=$("${CURL[@]}" -X POST "$URL/register")
check_match register_over_https "$r" '"username":"[0-9a-f-]{36}"'

# A keep-alive connection opened before the swap, and new connections in a loop
# during it: none may fail.
python3 - "$API_PORT" "$P/ca.pem" "$D" >"$T_DIR/keepalive.out" 2>&1 <<'PY' &
import http.client, ssl, sys, time
port, ca, host = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False  # the address is 127.0.0.1; the chain is still verified
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=5)
ok = fail = 0
first = None
t0 = time.time()
while time.time() - t0 < 8:
    try:
        c.request("GET", "/health", headers={"Host": host})
        r = c.getresponse(); r.read()
        ok += r.status == 200; fail += r.status != 200
        if r.status != 200: print("status", r.status, r.getheaders())
        name = c.sock.getsockname() if c.sock else None
        first = first or name
        if name != first:  # the server closed it and http.client reconnected
            fail += 1; print("reconnected"); break
    except Exception as e:
        fail += 1; print("error", e)
        break
    time.sleep(0.05)
print("keepalive ok=%d fail=%d" % (ok, fail))
PY
KA_PID=$!
loop_fail=0 loop_ok=0
install_pair b "$P/b.key"
for _ in $(seq 1 60); do
	if [ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$URL/health")" = 200 ]; then
		loop_ok=$((loop_ok + 1))
	else
		loop_fail=$((loop_fail + 1))
	fi
	[ "$(serial)" = B2 ] && [ "$loop_ok" -ge 20 ] && break
	sleep 0.1
done
check_eq file_change_serves_serial_b "$(serial)" B2
echo "# requests during the swap: $loop_ok ok, $loop_fail failed"
check_eq no_request_fails_during_swap "$loop_fail" 0
wait "$KA_PID"
ka=$(grep '^keepalive' "$T_DIR/keepalive.out")
echo "# $ka"; sed "s/^/#   /" "$T_DIR/keepalive.out"
check_match keepalive_connection_survives_swap "$ka" '^keepalive ok=[1-9][0-9]* fail=0$'
check_eq no_restart "$(kill -0 "$DAEMON_PID" && echo alive)" alive

# A key that does not match: refused with one error line, B still served.
install_pair a "$P/other.key"
sleep 3
check_eq mismatched_key_keeps_old "$(serial)" B2
check_match mismatched_key_logged "$(grep -c "new certificate refused: .*does not match the certificate; still serving serial B2" "$LOG")" "^1$"
"$DNS01D_BIN" -n -c "$CFG" >"$T_DIR/n.out" 2>&1
check_eq dash_n_mismatch_exits_1 "$?" 1
check_match dash_n_mismatch_message "$(cat "$T_DIR/n.out")" 'does not match the certificate'

# SIGHUP: the files again, at once.
install_pair a "$P/a.key"
kill -HUP "$DAEMON_PID"
wait_serial A1 10
check_eq sighup_serves_serial_a "$(serial)" A1
check_match sighup_logged "$(cat "$LOG")" 'SIGHUP: certificate files re-read'

# dns01d -n: a missing key file is an error, not "configuration OK".
rm -f "$LIVE/privkey.pem"
"$DNS01D_BIN" -n -c "$CFG" >"$T_DIR/n.out" 2>&1
check_eq dash_n_missing_key_exits_1 "$?" 1
check_match dash_n_missing_key_message "$(cat "$T_DIR/n.out")" 'privkey.pem: No such file'
check_eq still_serving_after_key_removed "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$URL/health")" 200
stop_dns01d
t_done
