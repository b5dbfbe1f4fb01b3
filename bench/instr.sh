#!/bin/bash
# bench/instr.sh -- instructions per DNS answer under callgrind: RRL off, RRL on, a query
# with a client cookie (the server computes a SipHash cookie), and metrics_listen on
# (every answer counted), for `make bench` (phase 7) or alone with BENCH_ONLY=instr.
# SPDX-License-Identifier: ISC
#
# QPS ratios need a quiet machine; instruction counts do not: callgrind counts the same
# instructions for the same binary and input whatever else the machine runs. Each case
# starts dns01d under callgrind, warms it with INSTR_WARM queries, zeroes the counters,
# sends INSTR_N queries one at a time (UDP, from 127.0.0.1, the apex A record) and dumps.
# The dump holds those N answers and the idle threads' waits, nothing else.
# INSTR_KEEP=DIR keeps the dumps there (callgrind_annotate DIR/callgrind.rrl_on).
# Prints "instr.<case>.per_query N" rows and the ratios. These count user-space work only;
# the kernel's share of a UDP answer (recvmmsg, sendmmsg) is not in them, so a ratio here
# is an upper bound on the QPS cost, which the dnsperf rows measure.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
B=${B:-build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
DNS01D_BIN=$B/dns01d
INSTR_N=${INSTR_N:-5000}		# measured queries per case
INSTR_WARM=${INSTR_WARM:-500}		# queries before the counters are zeroed
DOMAIN=auth.example.org
RECORDS=("$DOMAIN. 3600 IN A 198.51.100.1" "$DOMAIN. 3600 IN NS $DOMAIN.")

for tp in valgrind:valgrind callgrind_control:valgrind python3:python3 curl:curl; do
	command -v "${tp%%:*}" >/dev/null 2>&1 ||
		{ echo "instr: missing ${tp%%:*} (Debian package ${tp#*:})" >&2; exit 2; }
done
[ -x "$DNS01D_BIN" ] || { echo "instr: $DNS01D_BIN not built" >&2; exit 2; }
case $INSTR_N$INSTR_WARM in *[!0-9]*) echo "instr: INSTR_* must be whole numbers" >&2; exit 2 ;; esac

# shellcheck source=../tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"

# send PORT COUNT COOKIE(0|1): COUNT queries for the apex A, each waiting for its answer.
send() {
	python3 - "$1" "$2" "$3" <<'PY'
import os, socket, struct, sys
port, count, cookie = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
qname = b"".join(bytes([len(l)]) + l for l in b"auth.example.org".split(b".")) + b"\0"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
ok = 0
for i in range(count):
    opt = b""
    if cookie:
        opt = struct.pack("!HH", 10, 8) + os.urandom(8)
    msg = struct.pack("!HHHHHH", i & 0xffff, 0, 1, 0, 0, 1) + qname + struct.pack("!HH", 1, 1)
    msg += b"\0" + struct.pack("!HHIH", 41, 1232, 0, len(opt)) + opt
    s.sendto(msg, ("127.0.0.1", port))
    try:
        r = s.recv(2048)
    except socket.timeout:
        continue
    ok += r[:2] == msg[:2] and (r[3] & 15) == 0
print(ok)
PY
}

# measure CASE RRL_RATE COOKIE [API_KEYS]: prints the instructions per answer for one case.
measure() {
	local name=$1 rrl=$2 cookie=$3 cfg log out pid i got dump ir
	new_ports
	cfg=$T_DIR/$name.cfg log=$T_DIR/$name.log out=$T_DIR/callgrind.$name
	DB=$T_DIR/$name.db PROTO=both4 write_config "$cfg" "rrl_rate = $rrl
seccomp = false" "register_rate = 0
${4:-}"
	valgrind --tool=callgrind --callgrind-out-file="$out.%p" "$DNS01D_BIN" -c "$cfg" >"$log" 2>&1 &
	pid=$!
	for i in $(seq 1 600); do
		[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$API_PORT/health")" = 200 ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	send "$DNS_PORT" "$INSTR_WARM" "$cookie" >/dev/null
	callgrind_control -z "$pid" >/dev/null 2>&1
	got=$(send "$DNS_PORT" "$INSTR_N" "$cookie")
	callgrind_control -d "$pid" >/dev/null 2>&1
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	dump=$(ls "$out.$pid".* 2>/dev/null | head -n 1)
	ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p; s/^totals: *\([0-9]*\).*/\1/p' "$dump" 2>/dev/null | head -n 1)
	if [ -z "$ir" ] || [ "$got" -ne "$INSTR_N" ]; then
		echo "instr: $name: no dump or $got of $INSTR_N answered; log:" >&2
		tail -n 5 "$log" | sed 's/^/instr:   /' >&2
		echo 0; return
	fi
	[ -n "${INSTR_KEEP:-}" ] && cp "$dump" "$INSTR_KEEP/callgrind.$name" && cp "$log" "$cfg" "$INSTR_KEEP/"
	echo $((ir / INSTR_N))
}

off=$(measure rrl_off 0 0)
on=$(measure rrl_on 1000000 0)
ck=$(measure cookie 0 1)
# metrics_listen on: every answer is counted in the worker's own counters (not scraped).
me=$(measure metrics 0 0 "metrics_listen = \"127.0.0.1:$(free_port)\"")
echo "instr.rrl_off.per_query $off"
echo "instr.rrl_on.per_query $on"
echo "instr.cookie.per_query $ck"
echo "instr.metrics.per_query $me"
[ "$off" -gt 0 ] && [ "$on" -gt 0 ] && [ "$ck" -gt 0 ] && [ "$me" -gt 0 ] ||
	{ echo "instr: a case failed" >&2; exit 1; }
python3 - "$off" "$on" "$ck" "$me" <<'PY'
import sys
off, on, ck, me = (int(a) for a in sys.argv[1:5])
print(f"instr.rrl_cost {on / off:.3f}  (RRL on / off, user-space instructions per answer)")
print(f"instr.cookie_cost {ck / off:.3f}  (client cookie / none)")
print(f"instr.metrics_cost {me / off:.3f}  (metrics on / off)")
PY
