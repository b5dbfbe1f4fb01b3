#!/usr/bin/env bash
# tests/integration/test_pg.sh -- PostgreSQL (issue 8): the storage suite on PostgreSQL, an
# acme-dns PostgreSQL database opened in place, three instances on one database (propagation
# under 1 s, concurrent rotation), the server stopped and restarted, and the SQLite copy.
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"
: "${B:=build}"
PROP=(python3 "$T_LIB_DIR/pgprop.py")

if ! have_pg; then
	skip postgres "no PostgreSQL server binaries (Debian package postgresql) on this machine"
	t_done
fi
if ! pg_init; then
	fail pg_start "could not start a PostgreSQL server of our own"
	t_done
fi
ok pg_started_unprivileged

# bcrypt KEY: a "$2a$10$" hash, as acme-dns (Go's bcrypt) writes it (as test_acmedns_db.sh).
bcrypt() {
	python3 -W ignore -c '
import crypt, sys
salt = crypt.mksalt(crypt.METHOD_BLOWFISH)[-22:]
print(crypt.crypt(sys.argv[1], "$2a$10$" + salt))' "$1" 2>/dev/null
}
uuid() { cat /proc/sys/kernel/random/uuid; }
key40() { head -c 30 /dev/urandom | base64 | tr '+/' '-_'; }

# --- The storage unit suite, on PostgreSQL (each test gets a fresh database). ---
if [ -x "$B/tests/test_storage" ]; then
	out=$(DNS01D_TEST_PG="postgres://postgres@/postgres?host=$PG_DIR&port=$PG_PORT" \
		"$B/tests/test_storage" 2>&1)
	st=$?
	# A sanitizer report (make check) ends the run with a non-zero status after the lines.
	if [ "$st" -ne 0 ]; then
		fail storage_suite_pg_exit "status $st"
		printf '%s\n' "$out" | grep -E 'ERROR: |SUMMARY: |runtime error' | head -n 5 | sed 's/^/# /'
	fi
	n_ok=$(printf '%s\n' "$out" | grep -c '^ok - ')
	n_fail=$(printf '%s\n' "$out" | grep -c '^FAIL - ')
	printf '%s\n' "$out" | grep -E '^(ok|FAIL) - ' | sed -E 's/^(ok|FAIL) - /\1 - storage_suite_pg: /'
	printf '%s\n' "$out" | grep -E '^    ' | sed 's/^/# pg: /'
	if [ "$n_ok" -eq 0 ] || { [ "$n_fail" -eq 0 ] && [ "$(printf '%s\n' "$out" | grep -c '(postgres)$')" -eq 0 ]; }; then
		fail storage_suite_on_postgres "the suite did not run on PostgreSQL"
	fi
else
	fail storage_suite_on_postgres "$B/tests/test_storage not built"
fi

# --- An acme-dns PostgreSQL database (its schema, a bcrypt key) opens in place. ---
U1=$(uuid) S1=$(uuid) K1=$(key40) H1=$(bcrypt "$K1") OLD=$(txt43 old-pg)
check_re pg_bcrypt_hash_generated "$H1" '^\$2a\$10\$[./A-Za-z0-9]{53}$'
pg_sql acmedns "SET ROLE dns01d;
CREATE TABLE IF NOT EXISTS acmedns(Name TEXT, Value TEXT);
INSERT INTO acmedns (Name, Value) values('db_version', '1');
CREATE TABLE IF NOT EXISTS records(
	Username TEXT UNIQUE NOT NULL PRIMARY KEY,
	Password TEXT UNIQUE NOT NULL,
	Subdomain TEXT UNIQUE NOT NULL,
	AllowFrom TEXT);
CREATE TABLE IF NOT EXISTS txt(
	rowid SERIAL,
	Subdomain TEXT NOT NULL,
	Value TEXT NOT NULL DEFAULT '',
	LastUpdate INT);
INSERT INTO records(Username, Password, Subdomain, AllowFrom) values('$U1', '$H1', '$S1', '[]');
INSERT INTO txt (Subdomain, LastUpdate) values('$S1', 0);
INSERT INTO txt (Subdomain, LastUpdate) values('$S1', 0);
UPDATE txt SET Value='$OLD', LastUpdate=1700000000 WHERE rowid=(SELECT rowid FROM txt WHERE Subdomain='$S1' ORDER BY LastUpdate LIMIT 1);" >/dev/null ||
	fail pg_acmedns_schema "could not create acme-dns's tables"

# start_inst NAME: an instance on the shared database; sets NAME_API, NAME_DNS, NAME_PID.
# RRL off: the tests poll one name many times a second (RRL has its own test).
start_inst() {
	new_ports
	pg_config "$T_DIR/$1.cfg" "rrl_rate = 0"
	start_dns01d "$T_DIR/$1.cfg" "$T_DIR/$1.log" || return 1
	printf -v "${1}_API" '%s' "$API_PORT"
	printf -v "${1}_DNS" '%s' "$DNS_PORT"
	printf -v "${1}_PID" '%s' "$DAEMON_PID"
}
# on NAME: point the lib.sh helpers (api, q, txt_values) at instance NAME.
on() { local a=${1}_API d=${1}_DNS; API_PORT=${!a} DNS_PORT=${!d}; }

start_inst A || { fail pg_instance_a "did not start"; t_done; }
check_eq pg_acmedns_old_value_served "$(txt_values "$S1.auth.example.org")" "$OLD"
NEW=$(txt43 new-pg)
r=$(update_as "$U1" "$K1" "$S1" "$NEW")
check_eq pg_acmedns_bcrypt_key_works "${r%% *}" 200
check_eq pg_acmedns_values_rotated "$(txt_values "$S1.auth.example.org")" "$(sorted "$OLD" "$NEW")"
check_re pg_acmedns_hash_upgraded "$(pg_sql acmedns "SELECT Password FROM records WHERE Username = '$U1'")" '^\$sha256\$'
r=$(update_as "$U1" "$K1" "$S1" "$NEW")
check_eq pg_acmedns_key_works_after_upgrade "${r%% *}" 200
check_eq pg_acmedns_db_version_kept "$(pg_sql acmedns "SELECT Value FROM acmedns WHERE Name = 'db_version'")" 1
# acme-dns's own read still works on the migrated table.
check_eq pg_acmedns_readable_by_acmedns \
	"$(pg_sql acmedns "SELECT Value FROM txt WHERE Subdomain = '$S1' ORDER BY LastUpdate DESC LIMIT 1")" "$NEW"

# --- Three instances on one database. ---
start_inst B || fail pg_instance_b "did not start"
start_inst C || fail pg_instance_c "did not start"
on A
if register_ok; then ok pg_register_on_a; else fail pg_register_on_a "no account"; fi
on B
v=$(txt43 "first-$SUBDOMAIN")
check_eq pg_update_on_b "$(update "$v")" 200
on C
for _ in $(seq 1 40); do [ "$(txt_values "$FULLDOMAIN")" = "$v" ] && break; sleep 0.05; done
check_eq pg_c_serves_b_update "$(txt_values "$FULLDOMAIN")" "$v"

out=$("${PROP[@]}" prop --update-api "http://127.0.0.1:$B_API" --dns "$C_DNS" --user "$USERNAME" \
	--key="$PASSWORD" --sub "$SUBDOMAIN" --rounds 20 --limit-ms 1000 2>&1)
echo "$out" | sed 's/^/# /'
stats=$(echo "$out" | tail -n 1)
if [ "$(kv late "$stats")" = 0 ] && [ "$(echo "$out" | grep -c '^round .* ms$')" = 20 ]; then
	ok "pg_propagation_under_1s_20_of_20 (median $(kv median_ms "$stats") ms, max $(kv max_ms "$stats") ms)"
else
	fail pg_propagation_under_1s_20_of_20 "$stats (pgprop.py: $(tail -n 3 <<<"$out" | tr '\n' ' '))"
fi

# --- Persist records (dns-persist-01) go through the change feed: a POST on A is answered
# by B within 1 s (5 rounds, each replacing the same issuer's record), a DELETE on B
# empties A's answer, and TXT values are untouched. ---
PH=(-H "X-Api-User: $USERNAME" -H "X-Api-Key: $PASSWORD")
PNAME=_validation-persist.$FULLDOMAIN
on B
tv=$(txt_values "$FULLDOMAIN")
late=0 worst=0
for i in 1 2 3 4 5; do
	pv="ca.example; accounturi=https://ca.example/acct/$i-$SUBDOMAIN"
	on A
	r=$(api POST /persist "{\"subdomain\":\"$SUBDOMAIN\",\"value\":\"$pv\"}" "${PH[@]}")
	t0=$(date +%s%N)
	[ "${r%% *}" = 200 ] || fail "pg_persist_post_on_a_$i" "$r"
	on B
	for _ in $(seq 1 200); do
		[ "$(q "$PNAME" TXT +short)" = "\"$pv\"" ] && break
		[ $(( ($(date +%s%N) - t0) / 1000000 )) -gt 3000 ] && break
		sleep 0.01
	done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ "$(q "$PNAME" TXT +short)" = "\"$pv\"" ] || ms=99999
	[ "$ms" -gt "$worst" ] && worst=$ms
	[ "$ms" -lt 1000 ] || late=$((late + 1))
done
if [ "$late" = 0 ]; then ok "pg_persist_a_to_b_under_1s_5_of_5 (max $worst ms)"; else fail pg_persist_a_to_b_under_1s_5_of_5 "$late late, max $worst ms"; fi
check_eq pg_persist_one_record_per_issuer "$(pg_sql acmedns "SELECT count(*) FROM dns01d_persist WHERE Subdomain = '$SUBDOMAIN'")" 1
check_eq pg_persist_change_kind "$(pg_sql acmedns "SELECT Kind FROM dns01d_changes WHERE Subdomain = '$SUBDOMAIN' ORDER BY id DESC LIMIT 1")" 1
on B
r=$(api DELETE /persist "{\"subdomain\":\"$SUBDOMAIN\",\"issuer\":\"ca.example\"}" "${PH[@]}")
check_eq pg_persist_delete_on_b "${r%% *}" 200
on A
for _ in $(seq 1 100); do [ -z "$(q "$PNAME" TXT +short)" ] && break; sleep 0.01; done
check_kv pg_persist_delete_reaches_a "$(dw query "$PNAME" TXT)" rcode=NOERROR an=0
on B
check_eq pg_persist_txt_untouched "$(txt_values "$FULLDOMAIN")" "$tv"

# --- Concurrent updates of one account from two instances, 100 each. ---
out=$("${PROP[@]}" race --api "http://127.0.0.1:$A_API,http://127.0.0.1:$B_API" --user "$USERNAME" \
	--key="$PASSWORD" --sub "$SUBDOMAIN" --count 100 2>&1)
check_eq pg_race_all_200 "$out" "ok=200 fail=0"
newest=$(pg_sql acmedns "SELECT Value FROM txt WHERE Subdomain = '$SUBDOMAIN' ORDER BY Seq DESC, rowid DESC LIMIT 2" | sort | tr '\n' ' ' | sed 's/ $//')
check_eq pg_race_no_duplicate_rows "$(pg_sql acmedns "SELECT count(*), count(DISTINCT Value), count(DISTINCT Seq) FROM txt WHERE Subdomain = '$SUBDOMAIN'")" "2|2|2"
check_eq pg_race_newest_seq_is_last "$(pg_sql acmedns "SELECT max(Seq) FROM txt WHERE Subdomain = '$SUBDOMAIN'")" \
	"$((1 + 20 + 200))"
for i in A B C; do
	on "$i"
	for _ in $(seq 1 40); do [ "$(txt_values "$FULLDOMAIN")" = "$newest" ] && break; sleep 0.05; done
	check_eq "pg_race_${i}_serves_newest" "$(txt_values "$FULLDOMAIN")" "$newest"
done

# --- The server stopped: DNS from memory, 503 fast; restarted: back within 5 s, caught up. ---
pg_stop
for i in A B C; do
	on "$i"
	check_eq "pg_down_${i}_dns_answers" "$(txt_values "$FULLDOMAIN")" "$newest"
done
on A
# timed PATH BODY [curl args]: "STATUS BODY MS" with curl's own request time.
timed() {
	local p=$1 body=$2 out
	shift 2
	out=$(curl -s -m 10 -X POST --data-binary "$body" -w '\n%{http_code} %{time_total}' "$@" "$(api_url "$p")")
	printf '%s %s %s' "$(tail -n 1 <<<"$out" | cut -d' ' -f1)" "$(head -n 1 <<<"$out")" \
		"$(tail -n 1 <<<"$out" | awk '{ printf "%d", $2 * 1000 }')"
}
r=$(timed /update "{\"subdomain\":\"$SUBDOMAIN\",\"txt\":\"$(txt43 down)\"}" -H "X-Api-User: $USERNAME" -H "X-Api-Key: $PASSWORD")
check_eq pg_down_update_503 "${r% *}" '503 {"error":"db_unavailable"}'
ms=${r##* }
if [ "$ms" -lt 1000 ]; then ok "pg_down_update_503_within_1s ($ms ms)"; else fail pg_down_update_503_within_1s "$ms ms"; fi
r=$(timed /register '')
check_eq pg_down_register_503 "${r% *}" '503 {"error":"db_unavailable"}'
ms=${r##* }
if [ "$ms" -lt 1000 ]; then ok "pg_down_register_503_within_1s ($ms ms)"; else fail pg_down_register_503_within_1s "$ms ms"; fi
http GET /health
check_eq pg_down_health_503 "$H_STATUS" 503

pg_start || fail pg_restart "server did not come back"
t0=$(date +%s%N) st=""
v=$(txt43 "after-$SUBDOMAIN")
for _ in $(seq 1 100); do
	st=$(update "$v")
	[ "$st" = 200 ] && break
	sleep 0.05
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ "$st" = 200 ] && [ "$ms" -lt 5000 ]; then ok "pg_up_update_ok_within_5s ($ms ms)"; else fail pg_up_update_ok_within_5s "status $st after $ms ms"; fi
for i in B C; do
	on "$i"
	for _ in $(seq 1 60); do txt_values "$FULLDOMAIN" | grep -q -- "$v" && break; sleep 0.05; done
	check_match "pg_up_${i}_sees_a_write" "$(txt_values "$FULLDOMAIN")" "$v"
done
# A write no notification announced (another instance crashed before its NOTIFY, say):
# the periodic catch-up by change id still brings it to every instance.
quiet=$(txt43 "quiet-$SUBDOMAIN")
pg_sql acmedns "UPDATE txt SET Value = '$quiet', Seq = (SELECT max(Seq) + 1 FROM txt WHERE Subdomain = '$SUBDOMAIN')
	WHERE rowid = (SELECT rowid FROM txt WHERE Subdomain = '$SUBDOMAIN' ORDER BY Seq LIMIT 1);
	INSERT INTO dns01d_changes(Subdomain, At) VALUES ('$SUBDOMAIN', 0)" >/dev/null
for i in A B C; do
	on "$i"
	for _ in $(seq 1 60); do txt_values "$FULLDOMAIN" | grep -q -- "$quiet" && break; sleep 0.05; done
	check_match "pg_catchup_${i}_without_notify" "$(txt_values "$FULLDOMAIN")" "$quiet"
done
on A
http GET /health
check_eq pg_up_health_200 "$H_STATUS" 200

# --- A gap in the change log (its rows pruned while instances were away): each instance
# reloads every account, and the accounts deleted in the gap, which no row names any more,
# stop answering (NXDOMAIN), while the others keep their values. ---
KEEP_SUB=$SUBDOMAIN KEEP_FULL=$FULLDOMAIN KEEP_V=$(txt_values "$FULLDOMAIN")
if register_ok; then
	gv=$(txt43 "gap-$SUBDOMAIN")
	update "$gv" >/dev/null
	on C
	for _ in $(seq 1 60); do [ "$(txt_values "$FULLDOMAIN")" = "$gv" ] && break; sleep 0.05; done
	check_eq pg_gap_account_served_before "$(txt_values "$FULLDOMAIN")" "$gv"
	pg_sql acmedns "BEGIN; SELECT pg_advisory_xact_lock($((0x646e7330316368)));
		DELETE FROM txt WHERE Subdomain = '$SUBDOMAIN';
		DELETE FROM records WHERE Subdomain = '$SUBDOMAIN';
		DELETE FROM dns01d_accounts WHERE Subdomain = '$SUBDOMAIN';
		SELECT setval(pg_get_serial_sequence('dns01d_changes', 'id'), (SELECT max(id) + 10 FROM dns01d_changes));
		INSERT INTO dns01d_changes(Subdomain, At) VALUES ('$KEEP_SUB', 0);
		NOTIFY dns01d_changes; COMMIT" >/dev/null || fail pg_gap_made "psql failed"
	for i in A B C; do
		on "$i"
		for _ in $(seq 1 60); do
			[ "$(kv rcode "$(dw query "$FULLDOMAIN" TXT)")" = NXDOMAIN ] && break
			sleep 0.05
		done
		check_kv "pg_gap_${i}_deleted_account_nxdomain" "$(dw query "$FULLDOMAIN" TXT)" rcode=NXDOMAIN
		check_eq "pg_gap_${i}_kept_account_served" "$(txt_values "$KEEP_FULL")" "$KEEP_V"
		log=$T_DIR/$i.log
		check_match "pg_gap_${i}_logs_reload" "$(cat "$log")" "change log has a gap after id"
		check_match "pg_gap_${i}_logs_sweep" "$(cat "$log")" "full reload: 1 deleted names no longer answer"
	done
else
	fail pg_gap_register "no account"
fi

# --- Copy an SQLite database into PostgreSQL (dns01d -c CONFIG -i FILE). ---
SQLDB=$T_DIR/old.db
new_ports
DB=$SQLDB
write_config "$T_DIR/sqlite.cfg"
if start_dns01d "$T_DIR/sqlite.cfg" "$T_DIR/sqlite.log" && register_ok; then
	cv=$(txt43 "copied-$SUBDOMAIN")
	update "$cv" >/dev/null
	cp="ca.example; accounturi=https://ca.example/acct/copied"
	r=$(api POST /persist "{\"subdomain\":\"$SUBDOMAIN\",\"value\":\"$cp\"}" \
		-H "X-Api-User: $USERNAME" -H "X-Api-Key: $PASSWORD")
	[ "${r%% *}" = 200 ] || fail pg_copy_persist_source "$r"
	stop_dns01d
	"$DNS01D_BIN" admin -c "$T_DIR/sqlite.cfg" note "$SUBDOMAIN" "moved from sqlite" >/dev/null 2>&1 ||
		fail pg_copy_note_source "dns01d admin note failed on the SQLite database"
	created=$(sqlite3 "$SQLDB" "SELECT Created FROM dns01d_accounts WHERE Subdomain = '$SUBDOMAIN'")
	out=$("$DNS01D_BIN" -c "$T_DIR/A.cfg" -i "$SQLDB" 2>&1)
	check_match pg_copy_reports "$out" "1 accounts copied"
	check_eq pg_copy_note_and_created "$(pg_sql acmedns "SELECT Created, Note FROM dns01d_accounts WHERE Subdomain = '$SUBDOMAIN'")" \
		"$created|moved from sqlite"
	on B
	for _ in $(seq 1 60); do [ "$(txt_values "$FULLDOMAIN")" = "$cv" ] && break; sleep 0.05; done
	check_eq pg_copy_value_served_by_running_instance "$(txt_values "$FULLDOMAIN")" "$cv"
	for _ in $(seq 1 60); do [ -n "$(q "_validation-persist.$FULLDOMAIN" TXT +short)" ] && break; sleep 0.05; done
	check_eq pg_copy_persist_served_by_running_instance "$(q "_validation-persist.$FULLDOMAIN" TXT +short)" "\"$cp\""
	check_eq pg_copy_key_works "$(update "$(txt43 "copied2-$SUBDOMAIN")")" 200
	out=$("$DNS01D_BIN" -c "$T_DIR/A.cfg" -i "$SQLDB" 2>&1)
	check_match pg_copy_again_skips "$out" "0 accounts copied"
else
	fail pg_copy_source "could not build the SQLite database to copy"
fi

# --- The password in the connection string never reaches a log line. ---
leaks=$(grep -l -- "$PG_PASS" "$T_DIR"/*.log 2>/dev/null)
check_eq pg_password_not_logged "$leaks" ""
check_match pg_log_names_server "$(cat "$T_DIR/A.log")" "postgres://dns01d@127.0.0.1:$PG_PORT/acmedns"

pg_stop
t_done
