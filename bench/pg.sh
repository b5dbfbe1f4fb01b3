# bench/pg.sh -- phase 6 of bench/run.sh: dns01d on PostgreSQL (sourced; uses run.sh's helpers)
# SPDX-License-Identifier: ISC
# shellcheck shell=bash
#
# A PostgreSQL server of our own (lib.sh pg_init, fsync on: commits are durable, as in
# production), two dns01d instances A and B on it, BENCH_PG_N accounts registered on A.
#   pg.update.{rps,p99,bad}   wrk on A's /update (the same script and load as phase 5)
#   pg.prop.{median,p99}      BENCH_PG_ROUNDS updates on A, each timed from its 200 until
#                             B's DNS serves the value (tests/integration/pgprop.py)
PG_N=${BENCH_PG_N:-200}
PG_ROUNDS=${BENCH_PG_ROUNDS:-100}

# pg_phase: run the phase; results go to $RES. Returns non-zero if it could not run.
pg_phase() {
	local pa pb da db_ out
	if ! have_pg; then
		note "PostgreSQL phase skipped: no server binaries (Debian package postgresql)"
		return 1
	fi
	PG_FSYNC=on pg_init || { note "PostgreSQL phase: could not start a server"; return 1; }
	pa=$(free_port) pb=$(free_port) da=$(free_port) db_=$(free_port)
	DB=unused DNS_PORT=$da API_PORT=$pa PROTO=both4 LOGLEVEL=info \
		pg_config "$T_DIR/pg_a.cfg" "dns_threads = $DNS_THREADS
rrl_rate = 0" "register_rate = 0"
	DB=unused DNS_PORT=$db_ API_PORT=$pb PROTO=both4 LOGLEVEL=info \
		pg_config "$T_DIR/pg_b.cfg" "dns_threads = $DNS_THREADS
rrl_rate = 0" "register_rate = 0"
	start_daemon "$T_DIR/pg_a.cfg" "$OUT/dns01d.pg_a.log" "$pa" || return 1
	PGA_PID=$DAEMON_PID
	start_daemon "$T_DIR/pg_b.cfg" "$OUT/dns01d.pg_b.log" "$pb" || return 1
	PGB_PID=$DAEMON_PID
	note "PostgreSQL: registering $PG_N accounts on instance A"
	timeout 300 python3 "$ROOT/bench/accounts.py" register "$pa" "$PG_N" >"$T_DIR/pg_accounts.tsv" ||
		{ note "PostgreSQL: registration failed"; return 1; }
	note "wrk: /update on PostgreSQL for ${API_SECONDS} s"
	run_wrk pg.update update.lua "$API_SECONDS" "http://127.0.0.1:$pa/update" "$T_DIR/pg_accounts.tsv"
	wrk_result pg.update
	note "PostgreSQL: $PG_ROUNDS updates on A, timed until B's DNS serves each"
	IFS=$'\t' read -r u k s _ <"$T_DIR/pg_accounts.tsv"
	out=$(python3 "$ROOT/tests/integration/pgprop.py" prop --update-api "http://127.0.0.1:$pa" \
		--dns "$db_" --user "$u" --key="$k" --sub "$s" --domain "$DOMAIN" --rounds "$PG_ROUNDS")
	echo "$out" >"$OUT/pg.prop.txt"
	out=$(tail -n 1 <<<"$out")
	note "  $out"
	result pg.prop.median "$(kv median_ms "$out")"
	result pg.prop.p99 "$(kv p99_ms "$out")"
	result pg.prop.late "$(kv late "$out")"
	stop_pid "$PGA_PID"
	stop_pid "$PGB_PID"
	pg_stop
}
