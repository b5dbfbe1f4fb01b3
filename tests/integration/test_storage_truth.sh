#!/usr/bin/env bash
# tests/integration/test_storage_truth.sh -- the database deleted, replaced or made
# unwritable under the running daemon: /update never answers 200 for a value that is
# not durable, DNS does not serve it, and /health says 503.
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

UPDATES=5	# updates tried after each fault
Z=auth.example.org

# updates_after_fault NAME: UPDATES updates with fresh values; none may be 200, each must
# be a JSON db_error, and none of the values may be served.
updates_after_fault() {
	local name=$1 i v r codes="" served=0
	for i in $(seq 1 "$UPDATES"); do
		v=$(txt43 "$name-$i-$RANDOM")
		r=$(update_as "$USERNAME" "$PASSWORD" "$SUBDOMAIN" "$v")
		codes+="${r} "
		case "$(txt_values "$SUBDOMAIN.$Z")" in *"$v"*) served=$((served + 1)) ;; esac
	done
	check_match "${name}_update_never_200" "$codes" '^(500 \{"error":"db_error"\} )+$'
	check_eq "${name}_value_not_served" "$served" 0
}

health() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$(api_url /health)"; }

# --- deleted ---
start_default || { fail truth_start "dns01d did not start"; t_done; }
register_ok || fail truth_register "no account"
V0=$(txt43 before-delete)
check_eq truth_update_before_fault "$(update "$V0")" 200
rm -f "$DB" "$DB-wal" "$DB-shm"
updates_after_fault deleted
check_eq deleted_health_503 "$(health)" 503
check_eq deleted_register_refused "$(api POST /register '' | cut -c1-3)" 500
check_eq deleted_old_value_still_served "$(txt_values "$SUBDOMAIN.$Z")" "$V0"
stop_dns01d

# --- replaced: another database moved over ours ---
start_default || { fail truth_start_2 "dns01d did not start"; t_done; }
register_ok || fail truth_register_2 "no account"
check_eq replaced_update_before_fault "$(update "$(txt43 before-replace)")" 200
check_eq replaced_health_before "$(health)" 200
OTHER=$T_DIR/other.db
sqlite3 "$OTHER" "CREATE TABLE acmedns(Name TEXT, Value TEXT); INSERT INTO acmedns VALUES ('db_version', '1');"
mv -f "$OTHER" "$DB"
updates_after_fault replaced
check_eq replaced_health_503 "$(health)" 503
stop_dns01d

# --- unwritable: the -wal file immutable (root ignores file modes) ---
start_default || { fail truth_start_3 "dns01d did not start"; t_done; }
register_ok || fail truth_register_3 "no account"
check_eq unwritable_update_before_fault "$(update "$(txt43 before-ro)")" 200
if chattr +i "$DB-wal" 2>/dev/null; then
	updates_after_fault unwritable
	check_eq unwritable_health_503 "$(health)" 503
	chattr -i "$DB-wal"
	# Writable again: the fault was not sticky (the probe runs at most once a second).
	h=""
	for _ in $(seq 1 30); do h=$(health); [ "$h" = 200 ] && break; sleep 0.2; done
	check_eq unwritable_health_recovers "$h" 200
	V1=$(txt43 after-ro)
	check_eq unwritable_update_recovers "$(update "$V1")" 200
	stop_dns01d
	start_dns01d "$CFG" || fail unwritable_restart "dns01d did not start again"
	check_match unwritable_value_durable "$(txt_values "$SUBDOMAIN.$Z")" "$V1"
else
	skip unwritable "chattr +i is not possible on $(stat -f -c %T "$T_DIR") here"
fi
stop_dns01d
t_done
