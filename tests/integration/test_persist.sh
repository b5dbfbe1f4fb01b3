#!/usr/bin/env bash
# tests/integration/test_persist.sh -- restart persistence, kill -9 right after a 200 or
# 201, and DNS answering while another process holds the database write-locked
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

start_default || { fail start "dns01d did not start"; t_done; }
register_ok || fail register "no account"
A_USER=$USERNAME A_KEY=$PASSWORD A_SUB=$SUBDOMAIN A_NAME=$FULLDOMAIN
register_ok || fail register "no account"
B_USER=$USERNAME B_KEY=$PASSWORD B_SUB=$SUBDOMAIN B_NAME=$FULLDOMAIN
V1=$(txt43 p1) V2=$(txt43 p2) V3=$(txt43 p3)
update_as "$A_USER" "$A_KEY" "$A_SUB" "$V1" >/dev/null
update_as "$A_USER" "$A_KEY" "$A_SUB" "$V2" >/dev/null

# Keys are stored hashed: neither key appears anywhere in the database files.
found=""
for f in "$DB" "$DB-wal"; do
	[ -f "$f" ] && grep -aqF -- "$A_KEY" "$f" && found="$found $f"
	[ -f "$f" ] && grep -aqF -- "$B_KEY" "$f" && found="$found $f"
done
[ -z "$found" ] && ok key_not_stored_in_plaintext || fail key_not_stored_in_plaintext "key found in$found"
check_eq key_column_is_a_hash "$(sqlite3 "$DB" "SELECT count(*) FROM records WHERE Username = '$A_USER' AND Password != '$A_KEY' AND length(Password) > 40")" 1

# --- TERM and start again: values and accounts are still there ---------------------------
stop_dns01d
if start_dns01d "$CFG"; then
	check_eq restart_values_served "$(txt_values "$A_NAME")" "$(sorted "$V1" "$V2")"
	r=$(dw query "$B_NAME" TXT)
	check_kv restart_account_without_value_is_nodata "$r" rcode=NOERROR an=0 auth_types=SOA
	r=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "$V3")
	check_eq restart_account_key_still_works "$r" "200 {\"txt\":\"$V3\"}"
	r=$(update_as "$B_USER" "$B_KEY" "$B_SUB" "$V1")
	check_eq restart_second_account_key_still_works "$r" "200 {\"txt\":\"$V1\"}"
	check_eq restart_then_update_served "$(txt_values "$A_NAME")" "$(sorted "$V2" "$V3")"
else
	fail restart "dns01d did not start again on the same database"
fi

# --- kill -9 right after the 200: the value is served after the restart ---------------------
bad=""
for i in 1 2 3 4 5; do
	v=$(txt43 "kill$i")
	r=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "$v")
	kill -9 "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	if [ "$r" != "200 {\"txt\":\"$v\"}" ]; then bad="round $i: update answered [$r]"; break; fi
	if ! start_dns01d "$CFG"; then bad="round $i: no restart after kill -9"; break; fi
	got=$(txt_values "$A_NAME")
	case " $got " in *" $v "*) ;; *) bad="round $i: served [$got] after kill -9, want $v"; break ;; esac
done
[ -z "$bad" ] && ok kill9_after_200_update_survives || fail kill9_after_200_update_survives "$bad"

# --- kill -9 right after the 201: the account works after the restart -----------------------
if register_ok; then
	kill -9 "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	if start_dns01d "$CFG"; then
		r=$(dw query "$FULLDOMAIN" TXT)
		check_kv kill9_after_201_name_exists "$r" rcode=NOERROR an=0 auth_types=SOA
		r=$(update "$V1")
		check_eq kill9_after_201_account_works "$r" 200
	else
		fail kill9_after_201 "no restart after kill -9"
	fi
else
	fail kill9_after_201 "registration failed"
fi

# --- another process holds BEGIN EXCLUSIVE on the database ----------------------------
check_eq lock_precondition_value_served "$(txt_values "$A_NAME" | wc -w)" 2
before=$(txt_values "$A_NAME")
LOCK_OUT=$T_DIR/lock.out
(
	printf 'BEGIN EXCLUSIVE;\nSELECT '"'"'locked'"'"';\n'
	sleep 6
	printf 'COMMIT;\n'
) | sqlite3 "$DB" >"$LOCK_OUT" 2>&1 &
LOCK_PID=$!
T_PIDS+=("$LOCK_PID")
for _ in $(seq 1 50); do grep -q locked "$LOCK_OUT" && break; sleep 0.1; done
if grep -q locked "$LOCK_OUT"; then
	ok lock_taken_by_sqlite3
	got=$(q "$A_NAME" TXT +short +time=1 | tr -d '"' | sort | tr '\n' ' ' | sed 's/ $//')
	check_eq locked_db_txt_still_answered "$got" "$before"
	# The time from the query to its answer, measured inside dnswire.py: a loaded
	# machine can take seconds to start a program, which says nothing about dnsd.
	r=$(dw --timeout 1 --rtt query "$A_NAME" TXT)
	check_kv locked_db_txt_answered_fast "$r" rcode=NOERROR an=2 'rtt_ms~^([0-9]|[1-9][0-9]|[1-4][0-9][0-9])$'
	r=$(dw query "$B_NAME" TXT)
	check_kv locked_db_other_name_still_answered "$r" rcode=NOERROR an=1
	# /update waits for the lock in the background; DNS must not wait with it.
	V4=$(txt43 locked)
	(
		t0=$(date +%s%N)
		r=$(curl -s -m 20 -w ' %{http_code}' -X POST -H "X-Api-User: $A_USER" -H "X-Api-Key: $A_KEY" \
			--data-binary "{\"subdomain\":\"$A_SUB\",\"txt\":\"$V4\"}" "$(api_url /update)")
		echo "$r $((($(date +%s%N) - t0) / 1000000))"
	) >"$T_DIR/locked_update.out" 2>&1 &
	UPD_PID=$!
	T_PIDS+=("$UPD_PID")
	sleep 0.5
	r=$(dw --timeout 1 --rtt query "$A_NAME" TXT)
	check_kv locked_db_dns_answers_during_blocked_update "$r" rcode=NOERROR an=2
	check_kv locked_db_dns_fast_during_blocked_update "$r" 'rtt_ms~^([0-9]|[1-9][0-9]|[1-4][0-9][0-9])$'
	check_kv locked_db_soa_answered "$(dw --timeout 1 query auth.example.org SOA --tcp)" rcode=NOERROR an=1
	for _ in $(seq 1 250); do kill -0 "$UPD_PID" 2>/dev/null || break; sleep 0.1; done
	upd=$(cat "$T_DIR/locked_update.out")
	echo "# /update during the lock: $upd"
	check_re locked_db_update_200_or_db_error "$upd" \
		"^(\\{\"txt\":\"$V4\"\\} 200|\\{\"error\":\"db_error\"\\} 500) [0-9]+$"
	check locked_db_update_did_not_hang [ "${upd##* }" -lt 15000 ] 2>/dev/null
	case "$upd" in
	*" 200 "*) check_match locked_db_update_200_served "$(txt_values "$A_NAME")" "$V4" ;;
	esac
else
	fail lock_taken_by_sqlite3 "sqlite3 could not lock $DB: $(cat "$LOCK_OUT")"
fi
for _ in $(seq 1 100); do kill -0 "$LOCK_PID" 2>/dev/null || break; sleep 0.1; done
V5=$(txt43 unlocked)
r=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "$V5")
check_eq after_lock_update_200 "$r" "200 {\"txt\":\"$V5\"}"
check_match after_lock_update_served "$(txt_values "$A_NAME")" "$V5"
check_eq after_lock_health_200 "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$(api_url /health)")" 200

t_done
