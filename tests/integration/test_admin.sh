#!/usr/bin/env bash
# tests/integration/test_admin.sh -- `dns01d admin` beside a running daemon: list (--json,
# --stale), show, note, clear (NODATA), delete (NXDOMAIN within 1 s, key 401), rotate-key,
# prune (dry run by default), bad input; on SQLite, and delete-within-1s on PostgreSQL;
# /health's write probe on PostgreSQL.
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

# admin ARGS...: run `dns01d admin -c $CFG ARGS...`; sets A_OUT, A_ERR, A_RC.
admin() {
	A_OUT=$("$DNS01D_BIN" admin -c "$CFG" "$@" 2>"$T_DIR/admin.err")
	A_RC=$?
	A_ERR=$(cat "$T_DIR/admin.err")
}

# rcode NAME: the DNS status of a TXT query for NAME (NOERROR, NXDOMAIN, ...).
rcode() { q "$1" TXT | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
# answers NAME: the ANSWER count of a TXT query.
answers() { q "$1" TXT | sed -n 's/.*ANSWER: \([0-9]*\),.*/\1/p'; }

# until_ms MS CMD...: run CMD every 50 ms until it succeeds; prints the elapsed ms, or
# returns 1 after MS.
until_ms() {
	local limit=$1 t0 now
	shift
	t0=$(date +%s%N)
	while :; do
		if "$@"; then
			now=$(date +%s%N)
			echo $(((now - t0) / 1000000))
			return 0
		fi
		now=$(date +%s%N)
		[ $(((now - t0) / 1000000)) -ge "$limit" ] && return 1
		sleep 0.05
	done
}
is_nx() { [ "$(rcode "$1")" = NXDOMAIN ]; }
is_nodata() { [ "$(rcode "$1")" = NOERROR ] && [ "$(answers "$1")" = 0 ]; }

# delete_within_1s LABEL: delete the registered account with the admin command while the
# daemon runs; its name must be NXDOMAIN within 1 s (margin: measured from after the
# command returned), and its key refused.
delete_within_1s() {
	local label=$1 ms
	check_eq "${label}_served_before" "$(txt_values "$FULLDOMAIN")" "$(txt43 "$label")"
	admin delete "$SUBDOMAIN"
	check_eq "${label}_delete_exit_0" "$A_RC $A_OUT" "0 $SUBDOMAIN: deleted"
	if ms=$(until_ms 1000 is_nx "$FULLDOMAIN"); then
		ok "${label}_nxdomain_within_1s"
		echo "# $label: NXDOMAIN ${ms} ms after the admin command returned"
	else
		fail "${label}_nxdomain_within_1s" "still $(rcode "$FULLDOMAIN") after 1 s"
	fi
	check_eq "${label}_old_key_401" "$(update_as "$USERNAME" "$PASSWORD" "$SUBDOMAIN" "$(txt43 x)")" \
		'401 {"error":"forbidden"}'
}

start_default || { fail start "dns01d did not start"; t_done; }

# --- bad input: one line, exit 2 for usage, 1 for errors -----------------------------
"$DNS01D_BIN" admin >/dev/null 2>"$T_DIR/e"; rc=$?
check_eq admin_no_config_exit_2_one_line "$rc $(cat "$T_DIR/e")" \
	"2 dns01d admin: -c FILE is needed (see dns01d admin --help)"
check_match admin_help "$("$DNS01D_BIN" admin --help)" 'rotate-key SUBDOMAIN'

admin frobnicate
check_eq admin_unknown_command_exit_2 "$A_RC $A_ERR" \
	"2 dns01d admin: unknown command: frobnicate (see dns01d admin --help)"
admin show not-a-uuid
check_eq admin_bad_subdomain_exit_2 "$A_RC $A_ERR" \
	"2 dns01d admin: not a subdomain (a UUID): not-a-uuid (see dns01d admin --help)"
admin list --stale -3
check_eq admin_bad_days_exit_2 "$A_RC" 2
admin prune
check_eq admin_prune_needs_days_exit_2 "$A_RC" 2
admin note 00000000-0000-4000-8000-000000000000 "$(printf 'a\tb')"
check_eq admin_note_control_char_exit_2 "$A_RC" 2
admin delete 00000000-0000-4000-8000-000000000000
check_eq admin_delete_unknown_exit_1 "$A_RC $A_ERR" \
	"1 dns01d admin: 00000000-0000-4000-8000-000000000000: no such account"
"$DNS01D_BIN" admin -c "$T_DIR/missing.cfg" list >/dev/null 2>"$T_DIR/e"; rc=$?
check_eq admin_missing_config_exit_1 "$rc $(wc -l <"$T_DIR/e")" "1 1"

# --- list, show, note -----------------------------------------------------------------
register_ok '{"note":"ci runner"}' || fail register "no account"
K_USER=$USERNAME K_KEY=$PASSWORD K_SUB=$SUBDOMAIN K_NAME=$FULLDOMAIN
register_ok || fail register "no account"
update_as "$USERNAME" "$PASSWORD" "$SUBDOMAIN" "$(txt43 sqlite)" >/dev/null
admin list
check_eq admin_list_exit_0 "$A_RC" 0
check_eq admin_list_header "$(printf '%s\n' "$A_OUT" | head -n 1)" \
	"$(printf 'SUBDOMAIN\tCREATED\tLAST_UPDATE\tALLOWFROM\tNOTE')"
check_re admin_list_row_with_note "$(printf '%s\n' "$A_OUT" | grep "^$K_SUB")" \
	"^$K_SUB	20[0-9-]+T[0-9:]+Z	-	-	ci runner\$"
check_re admin_list_row_updated "$(printf '%s\n' "$A_OUT" | grep "^$SUBDOMAIN")" \
	"^$SUBDOMAIN	20[0-9-]+T[0-9:]+Z	20[0-9-]+T[0-9:]+Z	-	-\$"
admin list --json
check_eq admin_list_json "$A_RC $(printf '%s' "$A_OUT" | python3 -c '
import json, sys
a = json.load(sys.stdin)
print(len(a), sorted(a[0]), [x["note"] for x in a if x["subdomain"] == sys.argv[1]][0],
      [x["last_update"] is None for x in a])' "$K_SUB")" \
	"0 2 ['allowfrom', 'created', 'last_update', 'note', 'subdomain', 'username'] ci runner [True, False]"
admin list --stale 0
check_eq admin_list_stale_0_shows_all "$(printf '%s\n' "$A_OUT" | tail -n +2 | wc -l)" 2
admin list --stale 1
check_eq admin_list_stale_1_shows_none "$(printf '%s\n' "$A_OUT" | tail -n +2 | wc -l)" 0
admin note "$K_SUB" "moved to team b"
check_eq admin_note_exit_0 "$A_RC $A_OUT" "0 $K_SUB: note set"
admin show "$SUBDOMAIN"
check_re admin_show_values "$A_OUT" "subdomain: $SUBDOMAIN
username: $USERNAME
created: 20[^
]*
last_update: 20[^
]*
allowfrom: -
note: -
txt: $(txt43 sqlite)\$"
admin show "$K_SUB" --json
check_eq admin_show_json "$(printf '%s' "$A_OUT" | python3 -c '
import json, sys; o = json.load(sys.stdin); print(o["note"], o["txt"], o["username"])')" \
	"moved to team b [] $K_USER"
# Upper case is the same name (DNS ignores case).
admin show "$(printf '%s' "$K_SUB" | tr a-f A-F)"
check_eq admin_show_upper_case "$A_RC" 0

# --- prune: a dry run by default ------------------------------------------------------
admin prune --unused-days 0
check_eq admin_prune_dry_run_lists "$A_RC $(printf '%s\n' "$A_OUT" | grep -c '^would delete ')" "0 2"
admin list
check_eq admin_prune_dry_run_changes_nothing "$(printf '%s\n' "$A_OUT" | tail -n +2 | wc -l)" 2
check_eq admin_prune_dry_run_still_served "$(txt_values "$FULLDOMAIN")" "$(txt43 sqlite)"
admin prune --unused-days 1 --yes
check_eq admin_prune_recent_kept "$A_RC $A_OUT" "0 0 accounts unused for 1 days, deleted"

# --- clear: NODATA, the account stays ---------------------------------------------------
admin clear "$SUBDOMAIN"
check_eq admin_clear_exit_0 "$A_RC $A_OUT" "0 $SUBDOMAIN: values cleared"
if ms=$(until_ms 1000 is_nodata "$FULLDOMAIN"); then
	ok admin_clear_nodata_within_1s
else
	fail admin_clear_nodata_within_1s "rcode $(rcode "$FULLDOMAIN"), answers $(answers "$FULLDOMAIN")"
fi
check_eq admin_clear_account_still_works "$(update_as "$USERNAME" "$PASSWORD" "$SUBDOMAIN" "$(txt43 sqlite)")" \
	"200 {\"txt\":\"$(txt43 sqlite)\"}"

# --- rotate-key: the old key fails, the new one works -----------------------------------
admin rotate-key "$K_SUB"
NEW_KEY=$A_OUT
check_re admin_rotate_prints_key "$A_RC $NEW_KEY" '^0 [A-Za-z0-9_-]{40}$'
check_eq admin_rotate_old_key_401 "$(update_as "$K_USER" "$K_KEY" "$K_SUB" "$(txt43 r1)")" '401 {"error":"forbidden"}'
check_eq admin_rotate_new_key_200 "$(update_as "$K_USER" "$NEW_KEY" "$K_SUB" "$(txt43 r2)")" \
	"200 {\"txt\":\"$(txt43 r2)\"}"
if grep -qF -- "$NEW_KEY" "$T_DIR/dns01d.log"; then
	fail admin_rotate_key_not_logged "the new key is in the daemon's log"
else
	ok admin_rotate_key_not_logged
fi

# --- delete while the daemon runs: NXDOMAIN within 1 s ----------------------------------
delete_within_1s sqlite
admin list --json
check_eq admin_list_after_delete "$(printf '%s' "$A_OUT" | python3 -c 'import json,sys; print([x["subdomain"] for x in json.load(sys.stdin)])')" \
	"['$K_SUB']"
stop_dns01d

# --- PostgreSQL: delete within 1 s ------------------------------------------------------
if ! have_pg; then
	skip admin_postgres "no PostgreSQL server binaries (Debian package postgresql) on this machine"
	t_done
fi
if ! pg_init; then
	fail admin_pg_start "could not start a PostgreSQL server of our own"
	t_done
fi
new_ports
CFG=$T_DIR/pg.cfg
pg_config "$CFG" "rrl_rate = 0"
start_dns01d "$CFG" "$T_DIR/pg.log" || { fail admin_pg_daemon "dns01d did not start on PostgreSQL"; t_done; }
register_ok '{"note":"on postgres"}' || fail register "no account"
update_as "$USERNAME" "$PASSWORD" "$SUBDOMAIN" "$(txt43 postgres)" >/dev/null
admin list
check_re admin_pg_list "$A_RC $(printf '%s\n' "$A_OUT" | tail -n +2)" "^0 $SUBDOMAIN	.*	on postgres\$"
delete_within_1s postgres

# --- /health on PostgreSQL also writes (rate-limited): a write refused is a 503 -----------
# health_is CODE: /health answers CODE within 3 s (the write result is cached up to 1 s).
health_is() {
	local i
	for i in $(seq 1 30); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$(api_url /health)")" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
check health_pg_200_before health_is 200
pg_sql acmedns "REVOKE INSERT ON acmedns FROM dns01d" >/dev/null
check health_pg_503_when_writes_fail health_is 503
pg_sql acmedns "GRANT INSERT ON acmedns TO dns01d" >/dev/null
check health_pg_200_when_writes_work health_is 200
t_done
