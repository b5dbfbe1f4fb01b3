#!/bin/bash
# bench/run.sh -- `make bench`: dns01d against Knot (DNS) and acme-dns's published figures (API), in one table
# SPDX-License-Identifier: ISC
#
# Phases (docs/performance.md explains each row):
#   1. dns01d on random 127.0.0.1 ports with a temporary config and database;
#      BENCH_N accounts (default 1,000) registered and given two values through the API.
#   2. Knot (knotd) on its own port, serving a zone generated from those accounts,
#      one UDP, one TCP and one background worker.
#   3. dnsperf -c 10 -T 1 -e, alternating dns01d and Knot, BENCH_ROUNDS rounds of
#      BENCH_SECONDS s each: UDP TXT hits (0x20 mixed case), UDP misses, TCP hits.
#      Both without RRL, dns01d with cookies on (its default).
#   3b. The cost of RRL (a second daemon with RRL on, alternating with the first) and of
#      cookies (UDP hits with and without a client cookie): BENCH_AB_ROUNDS (11) rounds,
#      each an on run and an off run of BENCH_AB_SECONDS (3) s back to back; the ratio is
#      the median of the rounds' on/off ratios (a pair shares the machine's state of the
#      moment, which on a shared VM drifts by tens of percent over a minute).
#   3c. The cost of the Prometheus counters: a third daemon with metrics_listen on (its
#      /metrics scraped every BENCH_SCRAPE_S s), alternating with the metrics-off one:
#      UDP and TCP hits, BENCH_AB_ROUNDS paired rounds as in 3b.
#   4. BENCH_SCALE_N accounts (default 100,000) written straight into an acme-dns
#      database: startup time, RSS, and UDP hits alternating with the 1,000-account daemon.
#   5. wrk on /update; dnsperf idle and while wrk saturates /update, alternating;
#      wrk on /register.
#   6. dns01d on PostgreSQL (bench/pg.sh): wrk on /update, and the delay from one
#      instance's 200 until another instance's DNS serves the value.
#   7. bench/instr.sh: user-space instructions per UDP answer under callgrind, RRL off
#      and on, and with a client cookie (counts that do not depend on the machine's load).
#   8. the dns01 client against uacme on the offline ACME bed (bench/client.sh): issue
#      wildcard + base, BENCH_CLIENT_ROUNDS (3) alternating runs each, median wall time.
# BENCH_ONLY=pg runs phase 6 alone, BENCH_ONLY=instr phase 7, BENCH_ONLY=client phase 8,
# BENCH_ONLY=metrics phases 1 and 3c.
# Every process is started in the background, recorded by PID and stopped by PID.
# Raw outputs are kept in $B/bench/. Exit status 0 when every row with a target passes.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
B=${B:-build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
export DNS01D_BIN=$B/dns01d
export PATH=$PATH:/usr/sbin:/sbin

N=${BENCH_N:-1000}			# accounts for the DNS and API comparisons
SCALE_N=${BENCH_SCALE_N:-100000}	# accounts for the scale phase
ROUNDS=${BENCH_ROUNDS:-3}		# dnsperf rounds per server and test (median taken)
AB_ROUNDS=${BENCH_AB_ROUNDS:-11}	# phases 3b and 3c: on/off pairs (median of the ratios)
AB_SECONDS=${BENCH_AB_SECONDS:-3}	# dnsperf -l of each run of a pair
DNS_SECONDS=${BENCH_SECONDS:-5}		# dnsperf -l
API_SECONDS=${BENCH_API_SECONDS:-8}	# wrk -d
DNS_THREADS=${BENCH_DNS_THREADS:-1}	# dns01d UDP workers; Knot gets udp-workers: 1 too
SCRAPE_S=${BENCH_SCRAPE_S:-2}		# phase 3c: seconds between two scrapes of /metrics
DOMAIN=auth.example.org
RECORDS=(
	"$DOMAIN. 3600 IN A 198.51.100.1"
	"$DOMAIN. 3600 IN AAAA 2001:db8::1"
	"$DOMAIN. 3600 IN NS $DOMAIN."
)
DNSPERF_ARGS=(-c 10 -T 1 -e)	# no -Q: as fast as the server answers; -l RUN_SECONDS

die() { echo "bench: $*" >&2; exit 2; }

# Tools first, with the Debian package that provides each.
for tp in dnsperf:dnsperf knotd:knot wrk:wrk sqlite3:sqlite3 curl:curl kdig:knot-dnsutils \
	python3:python3 timeout:coreutils; do
	command -v "${tp%%:*}" >/dev/null 2>&1 ||
		die "missing ${tp%%:*} (Debian package ${tp#*:}); run 'sudo make deps'"
done
[ -x "$DNS01D_BIN" ] || die "$DNS01D_BIN not built; run 'make $B/dns01d'"
case $N$SCALE_N$ROUNDS$DNS_SECONDS$API_SECONDS$DNS_THREADS$SCRAPE_S$AB_ROUNDS$AB_SECONDS in
*[!0-9]*) die "BENCH_* settings must be whole numbers" ;;
esac

# lib.sh: T_DIR (temporary), T_PIDS and the EXIT trap that stops them by PID, free_port.
# shellcheck source=../tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"
trap 'exit 130' INT TERM
OUT=$B/bench
rm -rf "$OUT"
mkdir -p "$OUT" || die "cannot create $OUT"
RES=$OUT/results
: >"$RES"
CLK_TCK=$(getconf CLK_TCK)
PY=(python3 "$ROOT/bench/report.py")
T_START=$(date +%s)

BUDGET_S=720	# no new phase starts after this many seconds, so the whole run stays under 14 min

note() { printf 'bench: %s\n' "$*" >&2; }
# budget PHASE: stop here (table so far, overall FAIL) if the run has already taken too long.
budget() {
	[ $(($(date +%s) - T_START)) -le "$BUDGET_S" ] && return 0
	note "over the ${BUDGET_S} s budget before $1; stopping"
	finish
}
result() { echo "$1 $2" >>"$RES"; }

# spawn CMD...: start CMD in the background and record its PID in LAST_PID and T_PIDS.
spawn() {
	"$@" &
	LAST_PID=$!
	T_PIDS+=("$LAST_PID")
}

# stop_pid PID: TERM, wait up to 5 s, then KILL; forget the PID.
stop_pid() {
	local p=$1 i keep=()
	kill "$p" 2>/dev/null
	for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	for i in "${T_PIDS[@]}"; do [ "$i" = "$p" ] || keep+=("$i"); done
	T_PIDS=("${keep[@]}")
}

# cpu_ticks PID: utime + stime of the whole process, in clock ticks (proc(5)).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# rss_mib PID: resident set size in MiB.
rss_mib() { awk '/^VmRSS:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status"; }
now_ns() { date +%s%N; }

# finish: print the table, copy it next to the raw outputs, exit with its verdict.
finish() {
	local rc
	note "raw outputs: $OUT; took $(($(date +%s) - T_START)) s"
	{
		echo
		echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), Linux $(uname -r)"
		echo "dns01d $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'), $(knotd --version | head -n1), dnsperf $(dnsperf -h 2>&1 | sed -n 's/^Version //p'), $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2)"
		echo "$N accounts, $ROUNDS rounds of ${DNS_SECONDS} s per DNS figure (median), dns01d dns_threads = $DNS_THREADS, Knot udp-workers = 1"
		echo
	} | tee "$OUT/table.md"
	"${PY[@]}" table "$RES" | tee -a "$OUT/table.md"
	rc=${PIPESTATUS[0]}
	exit "$rc"
}

# bench_config FILE DB DNS_PORT API_PORT [RRL_RATE] [METRICS_PORT]: dns01d's config, written
# by lib.sh's write_config with the bench's zone (DOMAIN, RECORDS) and DNS_THREADS UDP
# workers; metrics_listen on 127.0.0.1:METRICS_PORT when given.
# register_rate = 0: the bench registers thousands of accounts a second from 127.0.0.1,
# far over the default "100/hour" per address (docs/performance.md). RRL is off
# (rrl_rate = 0) unless RRL_RATE is given: Knot runs without RRL too, and dnsperf sends
# everything from 127.0.0.1 (docs/performance.md). Cookies are on (the default).
bench_config() {
	DB=$2 DNS_PORT=$3 API_PORT=$4 PROTO=both4 LOGLEVEL=info \
		write_config "$1" "dns_threads = $DNS_THREADS
rrl_rate = ${5:-0}" "register_rate = 0${6:+
metrics_listen = \"127.0.0.1:$6\"}"
}

# start_daemon CONFIG LOG API_PORT: start dns01d, wait for /health 200 (at most 20 s).
# Sets DAEMON_PID and START_MS (exec to the first 200, measured from outside).
start_daemon() {
	local cfg=$1 log=$2 port=$3 t0 i
	t0=$(now_ns)
	spawn "$DNS01D_BIN" -c "$cfg" >>"$log" 2>&1
	DAEMON_PID=$LAST_PID
	for i in $(seq 1 1000); do
		if [ "$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ]; then
			START_MS=$((($(now_ns) - t0) / 1000000))
			return 0
		fi
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		[ $((($(now_ns) - t0) / 1000000)) -gt 20000 ] && break
		sleep 0.01
	done
	note "dns01d did not become ready; last log lines:"
	tail -n 20 "$log" | sed 's/^/bench:   /' >&2
	return 1
}

# run_dnsperf LABEL PORT PID QUERIES EXPECT_RCODE [dnsperf args]: one dnsperf run;
# appends LABEL.{qps,lat,cpu,ok} to the results, CPU taken from PID.
run_dnsperf() {
	local label=$1 port=$2 pid=$3 qf=$4 expect=$5 c0 c1 out
	shift 5
	out=$OUT/dnsperf.$label.$RANDOM.txt
	c0=$(cpu_ticks "$pid")
	spawn timeout $((DNS_SECONDS + 30)) dnsperf -s 127.0.0.1 -p "$port" -d "$qf" \
		"${DNSPERF_ARGS[@]}" -l "${RUN_SECONDS:-$DNS_SECONDS}" "$@" >"$out" 2>&1
	wait "$LAST_PID"
	kill -0 "$pid" 2>/dev/null || { note "the server (PID $pid) exited during $label"; finish; }
	c1=$(cpu_ticks "$pid")
	"${PY[@]}" dnsperf "$label" "$out" "$expect" $((c1 - c0)) "$CLK_TCK" | tee -a "$RES" |
		awk -v l="$label" '/\.qps /{ q = $2 } /\.lat /{ t = $2 } /\.cpu /{ c = $2 } /\.ok /{ o = $2 }
		END { printf "bench:   %-24s %9.0f QPS  %6.0f us  %6.2f us CPU  ok=%s\n", l, q, t, c, o }' >&2
}

# run_wrk LABEL SCRIPT SECONDS URL [ACCOUNTS_TSV]: start one wrk run in the background (WRK_PID);
# wrk_result LABEL waits for it and appends LABEL.{rps,p99,bad}.
run_wrk() {
	local label=$1 script=$2 secs=$3 url=$4 accounts=${5:-$T_DIR/accounts.tsv}
	WRK_OUT=$OUT/wrk.$label.$RANDOM.txt
	spawn env BENCH_ACCOUNTS="$accounts" BENCH_LUA_DIR="$ROOT/bench" timeout $((secs + 30)) \
		wrk -t1 -c4 -d"${secs}s" --latency -s "$ROOT/bench/$script" "$url" >"$WRK_OUT" 2>&1
	WRK_PID=$LAST_PID
}
wrk_result() {
	wait "$WRK_PID"
	"${PY[@]}" wrk "$1" "$WRK_OUT" | tee -a "$RES" | tr '\n' ' ' | sed 's/^/bench:   /' >&2
	echo >&2
}

# txt_set SERVER_PORT NAME: the TXT values of NAME, sorted, on one line.
txt_set() { kdig +short +time=2 +retry=1 -p "$1" @127.0.0.1 "$2" TXT | tr -d '"' | sort | tr '\n' ' '; }
rcode() { kdig +time=2 +retry=1 -p "$1" @127.0.0.1 "$2" TXT 2>/dev/null | sed -n 's/.*status: \([A-Z]*\).*/\1/p'; }

# shellcheck source=pg.sh
. "$ROOT/bench/pg.sh"
if [ "${BENCH_ONLY:-}" = pg ]; then
	pg_phase
	finish
fi
# instr_phase: bench/instr.sh's load-independent instruction counts (phase 7).
instr_phase() {
	local line
	note "callgrind: user-space instructions per UDP answer, RRL off/on, client cookie"
	while read -r line; do
		case $line in instr.*.per_query\ *) result "${line% *}" "${line##* }" ;; esac
		note "  $line"
	done < <(B=$B bash "$ROOT/bench/instr.sh")
}
if [ "${BENCH_ONLY:-}" = instr ]; then
	instr_phase
	finish
fi
# client_phase: phase 8 (bench/client.sh, its own test bed and temporary directory).
client_phase() {
	note "client: dns01 issue against uacme, wildcard + base, alternating"
	DNS01_BIN=$B/dns01 bash "$ROOT/bench/client.sh" "$RES" || note "client phase failed"
}
if [ "${BENCH_ONLY:-}" = client ]; then
	client_phase
	finish
fi

# ---------------------------------------------------------------- phase 1: dns01d, N accounts
# Ten distinct free ports: dns01d DNS and API, Knot, the scale daemon's two, the RRL one's
# two, the metrics one's three.
PORTS=()
for _ in $(seq 1 100); do
	p=$(free_port)
	[ -n "$p" ] && [[ " ${PORTS[*]} " != *" $p "* ]] && PORTS+=("$p")
	[ "${#PORTS[@]}" = 10 ] && break
done
[ "${#PORTS[@]}" = 10 ] || die "cannot find free ports on 127.0.0.1"
DNS_PORT=${PORTS[0]} API_PORT=${PORTS[1]} KNOT_PORT=${PORTS[2]}
SDNS_PORT=${PORTS[3]} SAPI_PORT=${PORTS[4]} RDNS_PORT=${PORTS[5]} RAPI_PORT=${PORTS[6]}
MDNS_PORT=${PORTS[7]} MAPI_PORT=${PORTS[8]} MMET_PORT=${PORTS[9]}
result accounts "$N"
bench_config "$T_DIR/dns01d.cfg" "$T_DIR/dns01d.db" "$DNS_PORT" "$API_PORT"
note "dns01d: DNS 127.0.0.1:$DNS_PORT, API 127.0.0.1:$API_PORT, $DNS_THREADS UDP worker(s)"
start_daemon "$T_DIR/dns01d.cfg" "$OUT/dns01d.log" "$API_PORT" || finish
D_PID=$DAEMON_PID

note "registering $N accounts with two values each through the API"
spawn timeout 300 python3 "$ROOT/bench/accounts.py" register "$API_PORT" "$N" >"$T_DIR/accounts.tsv"
wait "$LAST_PID" || { note "registration failed"; finish; }
cut -f3- "$T_DIR/accounts.tsv" >"$OUT/accounts-public.tsv"	# no keys in $OUT

# ---------------------------------------------------------------- phase 3c: metrics cost
# A daemon with metrics_listen on (so every UDP worker and the TCP loop count each query
# in their own cache lines), on a copy of the database, alternating with the metrics-off
# daemon; a scraper reads /metrics every SCRAPE_S s meanwhile. After each run the counter
# must have moved by at least the queries dnsperf saw answered (never fewer).
metrics_phase() {
	local r s order q0 q1 done_q
	budget "the metrics phase"
	python3 "$ROOT/bench/zonegen.py" hits "$DOMAIN" 5 <"$T_DIR/accounts.tsv" >"$T_DIR/mhits"
	sqlite3 "$T_DIR/dns01d.db" ".backup '$T_DIR/metrics.db'" || { note "cannot copy the database"; finish; }
	bench_config "$T_DIR/metrics.cfg" "$T_DIR/metrics.db" "$MDNS_PORT" "$MAPI_PORT" 0 "$MMET_PORT"
	start_daemon "$T_DIR/metrics.cfg" "$OUT/dns01d-metrics.log" "$MAPI_PORT" || finish
	M_PID=$DAEMON_PID
	spawn bash -c "while sleep $SCRAPE_S; do curl -s -m 2 -o /dev/null http://127.0.0.1:$MMET_PORT/metrics; done"
	SCRAPER_PID=$LAST_PID
	for r in $(seq 1 "$AB_ROUNDS"); do
		budget "metrics round $r"
		if [ $((r % 2)) = 1 ]; then order="on off"; else order="off on"; fi
		for t in udp_hits tcp_hits; do
			for s in $order; do
				local args=() port=$DNS_PORT pid=$D_PID
				[ "$t" = tcp_hits ] && args=(-m tcp)
				[ "$s" = on ] && port=$MDNS_PORT pid=$M_PID
				q0=$(metrics_answered)
				RUN_SECONDS=$AB_SECONDS run_dnsperf "metrics.$s.$t.dns01d" "$port" "$pid" "$T_DIR/mhits" NOERROR "${args[@]}"
				[ "$s" = on ] || continue
				q1=$(metrics_answered)
				done_q=$(sed -n 's/^[[:space:]]*Queries completed:[[:space:]]*\([0-9]*\).*/\1/p' \
					"$(ls -t "$OUT"/dnsperf."metrics.on.$t.dns01d".*.txt | head -n1)")
				result metrics.counted "$([ -n "$q1" ] && [ -n "$done_q" ] &&
					[ $((q1 - q0)) -ge "$done_q" ] && echo 1 || echo 0)"
			done
		done
	done
	stop_pid "$SCRAPER_PID"
	stop_pid "$M_PID"
}

# metrics_answered: the sum of dns01d_dns_queries_total on the metrics daemon.
metrics_answered() {
	curl -s -m 2 "http://127.0.0.1:$MMET_PORT/metrics" |
		awk '/^dns01d_dns_queries_total/ { t += $NF } END { printf "%d\n", t }'
}

if [ "${BENCH_ONLY:-}" = metrics ]; then
	result only.metrics 1
	metrics_phase
	stop_pid "$D_PID"
	finish
fi

# ---------------------------------------------------------------- phase 2: Knot, same records
SOA=$(kdig +noall +answer +time=2 +retry=1 -p "$DNS_PORT" @127.0.0.1 "$DOMAIN" SOA |
	awk '$4 == "SOA" { $1 = $1; print; exit }')
TXT_TTL=$(kdig +noall +answer +time=2 +retry=1 -p "$DNS_PORT" @127.0.0.1 \
	"$(head -n1 "$T_DIR/accounts.tsv" | cut -f3).$DOMAIN" TXT | awk '$4 == "TXT" { print $2; exit }')
[ -n "$SOA" ] && [ -n "$TXT_TTL" ] || { note "dns01d does not answer SOA/TXT over UDP"; finish; }
printf '%s\n' "${RECORDS[@]}" >"$T_DIR/records.txt"
python3 "$ROOT/bench/zonegen.py" zone "$DOMAIN" "$SOA" \
	"$T_DIR/records.txt" "$TXT_TTL" <"$T_DIR/accounts.tsv" >"$T_DIR/zone" || die "zonegen failed"
python3 "$ROOT/bench/zonegen.py" hits "$DOMAIN" 1 <"$T_DIR/accounts.tsv" >"$T_DIR/hits"
python3 "$ROOT/bench/zonegen.py" misses "$DOMAIN" "$N" 2 >"$T_DIR/misses"
mkdir -p "$T_DIR/knot/db"
cat >"$T_DIR/knot.conf" <<KNOT
server:
    listen: 127.0.0.1@$KNOT_PORT
    rundir: $T_DIR/knot
    pidfile: $T_DIR/knot/knot.pid
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: $T_DIR/knot/db
control:
    listen: $T_DIR/knot/knot.sock
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: $T_DIR/knot
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: $DOMAIN
    file: $T_DIR/zone
KNOT
spawn knotd -c "$T_DIR/knot.conf" >"$OUT/knotd.log" 2>&1
K_PID=$LAST_PID
for _ in $(seq 1 100); do
	[ "$(rcode "$KNOT_PORT" "$DOMAIN" | head -n1)" = NOERROR ] && break
	kill -0 "$K_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$K_PID" 2>/dev/null || { note "knotd exited:"; sed 's/^/bench:   /' "$OUT/knotd.log" >&2; finish; }
note "knotd: 127.0.0.1:$KNOT_PORT, zone of $(wc -l <"$T_DIR/zone") lines"

# Measure only answers known to be right: a sample of names answers the same on both.
agree=1
while read -r name _; do
	a=$(txt_set "$DNS_PORT" "$name") b=$(txt_set "$KNOT_PORT" "$name")
	[ -n "$a" ] && [ "$a" = "$b" ] || { agree=0; note "$name: dns01d [$a] Knot [$b]"; }
done < <(head -n 20 "$T_DIR/hits")
while read -r name _; do
	a=$(rcode "$DNS_PORT" "$name") b=$(rcode "$KNOT_PORT" "$name")
	[ "$a" = NXDOMAIN ] && [ "$b" = NXDOMAIN ] || { agree=0; note "$name: dns01d $a Knot $b"; }
done < <(head -n 5 "$T_DIR/misses")
result answers.agree "$agree"

# ---------------------------------------------------------------- phase 3: dnsperf, alternating
for r in $(seq 1 "$ROUNDS"); do
	budget "DNS round $r"
	if [ $((r % 2)) = 1 ]; then order="dns01d knot"; else order="knot dns01d"; fi
	for t in udp_hits udp_misses tcp_hits; do
		for s in $order; do
			if [ "$s" = dns01d ]; then port=$DNS_PORT pid=$D_PID; else port=$KNOT_PORT pid=$K_PID; fi
			case $t in
			udp_hits) run_dnsperf "$t.$s" "$port" "$pid" "$T_DIR/hits" NOERROR ;;
			udp_misses) run_dnsperf "$t.$s" "$port" "$pid" "$T_DIR/misses" NXDOMAIN ;;
			tcp_hits) run_dnsperf "$t.$s" "$port" "$pid" "$T_DIR/hits" NOERROR -m tcp ;;
			esac
		done
	done
done
stop_pid "$K_PID"

# ---------------------------------------------------------------- phase 3b: RRL and cookie cost
# A second daemon on a copy of the database with RRL on at a rate no bucket reaches, so
# every answer pays the whole RRL bookkeeping (hash, bucket load and store) and none is
# limited, alternating with the RRL-off daemon; then the RRL-off daemon with and without a
# client cookie in every query (each such answer computes a SipHash server cookie).
budget "the RRL and cookie phase"
sqlite3 "$T_DIR/dns01d.db" ".backup '$T_DIR/rrl.db'" || { note "cannot copy the database"; finish; }
bench_config "$T_DIR/rrl.cfg" "$T_DIR/rrl.db" "$RDNS_PORT" "$RAPI_PORT" 1000000
start_daemon "$T_DIR/rrl.cfg" "$OUT/dns01d-rrl.log" "$RAPI_PORT" || finish
R_PID=$DAEMON_PID
for r in $(seq 1 "$AB_ROUNDS"); do
	budget "RRL round $r"
	if [ $((r % 2)) = 1 ]; then order="on off"; else order="off on"; fi
	for s in $order; do
		if [ "$s" = on ]; then
			RUN_SECONDS=$AB_SECONDS run_dnsperf rrl.on.udp_hits.dns01d "$RDNS_PORT" "$R_PID" "$T_DIR/hits" NOERROR
		else
			RUN_SECONDS=$AB_SECONDS run_dnsperf rrl.off.udp_hits.dns01d "$DNS_PORT" "$D_PID" "$T_DIR/hits" NOERROR
		fi
	done
	for s in $order; do
		if [ "$s" = on ]; then
			RUN_SECONDS=$AB_SECONDS run_dnsperf cookie.on.udp_hits.dns01d "$DNS_PORT" "$D_PID" "$T_DIR/hits" NOERROR \
				-E 10:0123456789abcdef
		else
			RUN_SECONDS=$AB_SECONDS run_dnsperf cookie.off.udp_hits.dns01d "$DNS_PORT" "$D_PID" "$T_DIR/hits" NOERROR
		fi
	done
done
stop_pid "$R_PID"
metrics_phase

# ---------------------------------------------------------------- phase 4: scale
# The 100,000-account daemon runs next to the 1,000-account one, and dnsperf
# alternates between them, so the ratio is not skewed by load that comes and goes.
budget "the scale phase"
note "scale: $SCALE_N accounts written into an acme-dns database"
result scale.accounts "$SCALE_N"
python3 "$ROOT/bench/accounts.py" acmedb "$T_DIR/scale.db" "$SCALE_N" >"$T_DIR/scale.tsv" ||
	{ note "cannot write the acme-dns database"; finish; }
python3 "$ROOT/bench/zonegen.py" hits "$DOMAIN" 3 <"$T_DIR/scale.tsv" >"$T_DIR/scale-hits"
# The reference runs query the N names from a file as long as the scale one, so dnsperf's
# own work is the same in both and only the server's table size differs.
python3 "$ROOT/bench/zonegen.py" hits "$DOMAIN" 4 "$SCALE_N" <"$T_DIR/accounts.tsv" >"$T_DIR/scale-ref-hits"
bench_config "$T_DIR/scale.cfg" "$T_DIR/scale.db" "$SDNS_PORT" "$SAPI_PORT"
start_daemon "$T_DIR/scale.cfg" "$OUT/dns01d-scale.log" "$SAPI_PORT" || finish
result scale.migrate_ms "$START_MS"
note "scale: first start (acme-dns database opened in place) took $START_MS ms"
stop_pid "$DAEMON_PID"
start_daemon "$T_DIR/scale.cfg" "$OUT/dns01d-scale.log" "$SAPI_PORT" || finish
S_PID=$DAEMON_PID
result scale.start_ms "$START_MS"
result scale.rss_start "$(rss_mib "$S_PID")"
note "scale: restart took $START_MS ms, RSS $(rss_mib "$S_PID") MiB"
agree=1
while IFS=$'\t' read -r _ _ sub v1 v2; do
	want=$(printf '%s\n%s\n' "$v1" "$v2" | sort | tr '\n' ' ')
	got=$(txt_set "$SDNS_PORT" "$sub.$DOMAIN")
	[ "$got" = "$want" ] || { agree=0; note "$sub: got [$got], want [$want]"; }
done < <(awk 'NR % 9973 == 1' "$T_DIR/scale.tsv")
result scale.agree "$agree"
for r in $(seq 1 "$ROUNDS"); do
	budget "scale round $r"
	if [ $((r % 2)) = 1 ]; then order="big small"; else order="small big"; fi
	for s in $order; do
		if [ "$s" = big ]; then
			run_dnsperf scale.udp_hits.dns01d "$SDNS_PORT" "$S_PID" "$T_DIR/scale-hits" NOERROR
		else
			run_dnsperf scale.ref.udp_hits.dns01d "$DNS_PORT" "$D_PID" "$T_DIR/scale-ref-hits" NOERROR
		fi
	done
done
result scale.rss_after "$(rss_mib "$S_PID")"
stop_pid "$S_PID"

# ---------------------------------------------------------------- phase 5: API, isolation
budget "the API phase"
note "wrk: /update for ${API_SECONDS} s"
run_wrk update update.lua "$API_SECONDS" "http://127.0.0.1:$API_PORT/update"
wrk_result update
note "isolation: dnsperf UDP hits, idle and while wrk saturates /update, alternating"
for r in $(seq 1 "$ROUNDS"); do
	budget "isolation round $r"
	run_dnsperf iso.idle.dns01d "$DNS_PORT" "$D_PID" "$T_DIR/hits" NOERROR
	run_wrk iso.update update.lua $((DNS_SECONDS + 2)) "http://127.0.0.1:$API_PORT/update"
	sleep 1
	run_dnsperf iso.udp_hits.dns01d "$DNS_PORT" "$D_PID" "$T_DIR/hits" NOERROR
	wrk_result iso.update
done
note "wrk: /register for ${API_SECONDS} s"
run_wrk register register.lua "$API_SECONDS" "http://127.0.0.1:$API_PORT/register"
wrk_result register
stop_pid "$D_PID"
# ---------------------------------------------------------------- phase 6: PostgreSQL
budget "the PostgreSQL phase"
pg_phase
# ---------------------------------------------------------------- phase 7: instructions
budget "the instruction-count phase"
instr_phase
# ---------------------------------------------------------------- phase 8: the dns01 client
budget "the client phase"
client_phase
finish
