#!/usr/bin/env bash
# tests/integration/test_metrics.sh -- [api] metrics_listen: GET /metrics passes promtool's
# check, every counter moves by exactly the queries and requests sent (each QTYPE class,
# RCODE and transport, truncation, malformed drops, cookies, RRL, TCP connections, API
# routes and statuses, auth failures, storage writes), only GET /metrics is served, the
# listener holds a bounded number of connections, and all of it runs under seccomp.
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

Z=auth.example.org
N=3	# queries (and requests) of each kind
BIG=$(printf 'x%.0s' $(seq 1 250))	# three of these TXT strings do not fit 512 bytes
EXTRA_RECORDS="    \"big.$Z. TXT \\\"$BIG\\\"\",
    \"big.$Z. TXT \\\"y$BIG\\\"\",
    \"big.$Z. TXT \\\"z$BIG\\\"\","

# scrape FILE: GET /metrics into FILE; prints the HTTP status.
scrape() { curl -s -m 5 -o "$1" -w '%{http_code}' "http://127.0.0.1:$M_PORT/metrics"; }

# delta SERIES: the value of SERIES (name{labels} as written) in $T_DIR/after minus
# $T_DIR/before; a series absent from a scrape counts as 0. (awk: python3 takes seconds
# to start on a loaded machine.)
delta() {
	awk -v s="$1" 'FNR == 1 { f++ } /^#/ { next }
		{ v = $NF; sub(/ [^ ]+$/, "") } $0 == s { if (f == 1) b = v; else a = v }
		END { printf "%.12g\n", a - b }' "$T_DIR/before" "$T_DIR/after"
}

# send: each stdin line "TRANSPORT NAME TYPE [FLAG...]" is one query, sent from one
# process (dig costs a fork and 0.2 s each), answers awaited (1 s at most). FLAGs: noedns,
# cookie (a client cookie alone), qr (a response: dropped), short (4 bytes: dropped).
# TCP: one connection per query. Prints the number of queries answered.
cat >"$T_DIR/send.py" <<'PY'
import os, socket, struct, sys
host, port = sys.argv[1], int(sys.argv[2])
types = {"A": 1, "NS": 2, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28, "ANY": 255}
answered = 0
for n, line in enumerate(sys.stdin):
    f = line.split()
    if not f:
        continue
    tr, name, qtype, flags = f[0], f[1], f[2], set(f[3:])
    q = struct.pack(">HHHHHH", n & 0xFFFF, 0x8000 if "qr" in flags else 0, 1, 0, 0,
                    0 if "noedns" in flags else 1)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".") if l) + b"\0"
    q += struct.pack(">HH", types[qtype], 1)
    if "noedns" not in flags:
        opt = struct.pack(">HH", 10, 8) + os.urandom(8) if "cookie" in flags else b""
        q += b"\0" + struct.pack(">HHIH", 41, 1232, 0, len(opt)) + opt
    if "short" in flags:
        q = q[:4]
    if tr == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.3 if flags & {"qr", "short"} else 1.0)
        s.sendto(q, (host, port))
        try:
            s.recv(65535)
            answered += 1
        except socket.timeout:
            pass
    else:
        s = socket.create_connection((host, port), timeout=1.0)
        s.sendall(struct.pack(">H", len(q)) + q)
        s.shutdown(socket.SHUT_WR)
        try:
            answered += 1 if len(s.recv(65535)) > 0 else 0
        except socket.timeout:
            pass
    s.close()
print(answered)
PY
send() { python3 "$T_DIR/send.py" "$DNS_SERVER" "$DNS_PORT"; }

qs() { printf 'dns01d_dns_queries_total{transport="%s",qtype="%s",rcode="%s"}' "$1" "$2" "$3"; }

M_PORT=$(free_port)
start_default "rrl_rate = 0" "metrics_listen = \"127.0.0.1:$M_PORT\"
txt_values = 2" || { fail start "dns01d did not start"; t_done; }
DNS_SERVER=${DNS_SERVER:-127.0.0.1}
register_ok || fail metrics_register "no account"
check_eq metrics_update_first "$(update "$(txt43 m0)")" 200

# ---- the format
check_eq metrics_get_200 "$(scrape "$T_DIR/before")" 200
if out=$(promtool check metrics <"$T_DIR/before" 2>&1); then
	ok metrics_promtool_check
else
	fail metrics_promtool_check "$out"
fi
check_match metrics_build_info "$(cat "$T_DIR/before")" '^dns01d_build_info\{version="[0-9.]+"\} 1$'
check_match metrics_accounts "$(cat "$T_DIR/before")" '^dns01d_accounts 1$'
check_match metrics_values "$(cat "$T_DIR/before")" '^dns01d_txt_values 1$'
if grep -q '^dns01d_api_certificate_expiry_seconds' "$T_DIR/before"; then
	fail metrics_no_cert_expiry_without_tls "the family is there with tls = none"
else
	ok metrics_no_cert_expiry_without_tls
fi
http_m() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$@"; }
check_eq metrics_post_404 "$(http_m -X POST "http://127.0.0.1:$M_PORT/metrics")" 404
check_eq metrics_head_404 "$(http_m -I "http://127.0.0.1:$M_PORT/metrics")" 404
check_eq metrics_other_path_404 "$(http_m "http://127.0.0.1:$M_PORT/metrics/x")" 404
check_eq metrics_root_404 "$(http_m "http://127.0.0.1:$M_PORT/")" 404
check_eq metrics_not_on_api_port "$(api GET /metrics | cut -d' ' -f1)" 404

# ---- DNS: N queries of each class over each transport
scrape "$T_DIR/before" >/dev/null
for _ in $(seq 1 "$N"); do
	for t in udp tcp; do
		echo "$t $FULLDOMAIN TXT"
		echo "$t $Z SOA"
		echo "$t $Z NS"
		echo "$t $Z A"
		echo "$t $Z AAAA"
		echo "$t $Z ANY"
		echo "$t $Z MX"
		echo "$t nx.$Z TXT"
		echo "$t example.com A"
		echo "$t $Z SOA qr"	# a response: dropped
	done
	echo "udp $Z SOA cookie"	# a client cookie alone
	echo "udp big.$Z TXT noedns"	# over 512 bytes: TC=1
	echo "udp $Z SOA short"	# shorter than a header: dropped
done >"$T_DIR/queries"
check_eq metrics_dns_sent "$(send <"$T_DIR/queries")" $((20 * N))
scrape "$T_DIR/after" >/dev/null
for t in udp tcp; do
	# UDP: the challenge name, and big.$Z cut to TC=1 (still NOERROR); TCP: the name
	check_eq "metrics_dns_${t}_txt_noerror" "$(delta "$(qs $t TXT NOERROR)")" \
		"$([ $t = udp ] && echo $((2 * N)) || echo "$N")"
	check_eq "metrics_dns_${t}_txt_nxdomain" "$(delta "$(qs $t TXT NXDOMAIN)")" "$N"
	check_eq "metrics_dns_${t}_soa" "$(delta "$(qs $t SOA NOERROR)")" \
		"$([ $t = udp ] && echo $((2 * N)) || echo "$N")"
	check_eq "metrics_dns_${t}_ns" "$(delta "$(qs $t NS NOERROR)")" "$N"
	check_eq "metrics_dns_${t}_a_aaaa" "$(delta "$(qs $t A/AAAA NOERROR)")" $((2 * N))
	check_eq "metrics_dns_${t}_refused" "$(delta "$(qs $t A/AAAA REFUSED)")" "$N"
	check_eq "metrics_dns_${t}_any" "$(delta "$(qs $t ANY NOERROR)")" "$N"
	check_eq "metrics_dns_${t}_other" "$(delta "$(qs $t other NOERROR)")" "$N"
	check_eq "metrics_dns_${t}_malformed" "$(delta "dns01d_dns_malformed_total{transport=\"$t\"}")" \
		"$([ $t = udp ] && echo $((2 * N)) || echo "$N")"
done
check_eq metrics_dns_truncated "$(delta dns01d_dns_truncated_total)" "$N"
check_eq metrics_dns_cookie_client_only "$(delta 'dns01d_dns_cookies_total{result="client_only"}')" "$N"
check_eq metrics_dns_tcp_accepted "$(delta dns01d_dns_tcp_accepted_total)" $((10 * N))
check_match metrics_dns_tcp_open "$(cat "$T_DIR/after")" '^dns01d_dns_tcp_connections 0$'
# The sum over every series equals what was sent: nothing counted twice.
total=$(awk 'FNR == 1 { f++ } /^dns01d_dns_queries_total/ { t += (f == 1 ? -$NF : $NF) }
	END { printf "%.12g\n", t }' "$T_DIR/before" "$T_DIR/after")
check_eq metrics_dns_queries_sum "$total" $((20 * N))	# 11 a round over UDP, 9 over TCP

# ---- API: N requests of each kind
scrape "$T_DIR/before" >/dev/null
for i in $(seq 1 "$N"); do
	api POST /register "" >/dev/null
	update "$(txt43 "m$i")" >/dev/null
	update_as "$USERNAME" "wrongwrongwrongwrongwrongwrongwrongwrong" "$SUBDOMAIN" \
		"$(txt43 bad)" >/dev/null
	api GET /health >/dev/null
	api GET /nope >/dev/null
done
scrape "$T_DIR/after" >/dev/null
check_eq metrics_api_register_201 "$(delta 'dns01d_api_requests_total{route="register",status="201"}')" "$N"
check_eq metrics_api_update_200 "$(delta 'dns01d_api_requests_total{route="update",status="200"}')" "$N"
check_eq metrics_api_update_401 "$(delta 'dns01d_api_requests_total{route="update",status="401"}')" "$N"
check_eq metrics_api_health_200 "$(delta 'dns01d_api_requests_total{route="health",status="200"}')" "$N"
check_eq metrics_api_other_404 "$(delta 'dns01d_api_requests_total{route="other",status="404"}')" "$N"
check_eq metrics_api_auth_failures "$(delta 'dns01d_api_auth_failures_total{route="update"}')" "$N"
check_eq metrics_api_latency_count "$(delta 'dns01d_api_request_duration_seconds_count{route="update"}')" $((2 * N))
check_eq metrics_api_latency_inf "$(delta 'dns01d_api_request_duration_seconds_bucket{route="update",le="+Inf"}')" $((2 * N))
check_eq metrics_storage_writes "$(delta dns01d_storage_write_duration_seconds_count)" $((2 * N))
check_eq metrics_storage_errors "$(delta dns01d_storage_write_errors_total)" 0
check_eq metrics_accounts_after "$(delta dns01d_accounts)" "$N"
check_eq metrics_values_after "$(delta dns01d_txt_values)" 1	# txt_values = 2: 1 -> 2
# /health's own SOA probe is a UDP query of ours, counted like any other.
check_eq metrics_health_probe_counted "$(delta "$(qs udp SOA NOERROR)")" "$N"
if out=$(promtool check metrics <"$T_DIR/after" 2>&1); then
	ok metrics_promtool_check_after_traffic
else
	fail metrics_promtool_check_after_traffic "$out"
fi

# ---- bounded connections: the daemon takes at most 16 at once (more wait in the backlog)
held=$(python3 - "$M_PORT" "$DAEMON_PID" <<'PY'
import socket, subprocess, sys, time
port, pid = sys.argv[1], sys.argv[2]
socks = [socket.create_connection(("127.0.0.1", int(port)), timeout=2) for _ in range(40)]
time.sleep(0.5)
out = subprocess.run(["ss", "-Htnp", "state", "established", "( sport = :%s )" % port],
                     capture_output=True, text=True).stdout
print(sum(1 for l in out.splitlines() if "pid=%s," % pid in l))
for s in socks:
    s.close()
PY
)
if [ "$held" -ge 1 ] && [ "$held" -le 16 ]; then ok metrics_connections_bounded; else
	fail metrics_connections_bounded "the daemon holds $held of 40 idle connections (limit 16)"; fi
check_eq metrics_serves_after_flood "$(scrape "$T_DIR/after")" 200
stop_dns01d

# ---- RRL: every UDP answer is counted once, as answered or as dropped
new_ports
write_config "$T_DIR/rrl.cfg" "rrl_rate = 5
rrl_slip = 2" "metrics_listen = \"127.0.0.1:$M_PORT\""
start_dns01d "$T_DIR/rrl.cfg" || { fail start_rrl "dns01d did not start"; t_done; }
scrape "$T_DIR/before" >/dev/null
F=60
r=$(dw flood "$Z" SOA --count "$F" | head -n 1)
scrape "$T_DIR/after" >/dev/null
answered=$(delta "$(qs udp SOA NOERROR)") dropped=$(delta 'dns01d_dns_rrl_total{action="drop"}')
slipped=$(delta 'dns01d_dns_rrl_total{action="slip"}')
check_eq metrics_rrl_every_query_once "$((answered + dropped))" "$F"
check_eq metrics_rrl_slip_is_tc "$slipped" "$(kv tc "$r")"
check_eq metrics_rrl_slip_truncated "$(delta dns01d_dns_truncated_total)" "$slipped"
if [ "$dropped" -gt 0 ] && [ "$slipped" -gt 0 ]; then ok metrics_rrl_moved; else
	fail metrics_rrl_moved "dropped $dropped, slipped $slipped ($r)"; fi
stop_dns01d

# ---- tls = "cert": the seconds until the served certificate expires
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$Z" \
	-keyout "$T_DIR/key.pem" -out "$T_DIR/cert.pem" 2>/dev/null
new_ports
TLS=cert write_config "$T_DIR/tls.cfg" "" "metrics_listen = \"127.0.0.1:$M_PORT\"
tls_cert_privkey = \"$T_DIR/key.pem\"
tls_cert_fullchain = \"$T_DIR/cert.pem\""
"$DNS01D_BIN" -c "$T_DIR/tls.cfg" >>"$T_DIR/dns01d-tls.log" 2>&1 &
DAEMON_PID=$!
T_PIDS+=("$DAEMON_PID")
T_LOGS+=("$T_DIR/dns01d-tls.log")
for _ in $(seq 1 100); do
	[ "$(scrape "$T_DIR/after")" = 200 ] && break
	sleep 0.1
done
left=$(awk '/^dns01d_api_certificate_expiry_seconds / { print $2 }' "$T_DIR/after")
if [ -n "$left" ] && [ "$left" -le 172800 ] && [ "$left" -ge $((172800 - 300)) ]; then
	ok metrics_cert_expiry_seconds
else
	fail metrics_cert_expiry_seconds "got [$left], want about 172800 (a 2-day certificate)"
fi
if out=$(promtool check metrics <"$T_DIR/after" 2>&1); then ok metrics_promtool_check_tls; else
	fail metrics_promtool_check_tls "$out"; fi
stop_dns01d

# ---- config: metrics_listen wants an address; "" is off
for bad in ':9153' 'localhost:9153' '127.0.0.1' '[::1]'; do
	write_config "$T_DIR/bad.cfg" "" "metrics_listen = \"$bad\""
	out=$("$DNS01D_BIN" -n -c "$T_DIR/bad.cfg" 2>&1)
	check_match "metrics_listen_rejects_${bad//[^a-z0-9]/_}" "$out" 'metrics_listen: .* is not'
done
write_config "$T_DIR/off.cfg" "" 'metrics_listen = ""'
if out=$("$DNS01D_BIN" -n -c "$T_DIR/off.cfg" 2>&1); then ok metrics_listen_empty_is_off; else
	fail metrics_listen_empty_is_off "$out"; fi
t_done
