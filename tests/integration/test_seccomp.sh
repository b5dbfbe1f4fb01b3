#!/usr/bin/env bash
# tests/integration/test_seccomp.sh -- the daemon runs under its seccomp allow-list by
# default (Seccomp: 2 in /proc/PID/status) and does all its work there: register, update,
# DNS over UDP and TCP, health, SIGHUP, a clean stop. seccomp = false leaves it off.
# (A blocked call, and its one log line, are tested in tests/unit/test_sandbox.c.)
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

# seccomp_mode PID: the Seccomp field of /proc/PID/status (0 off, 2 filter).
seccomp_mode() { awk '$1 == "Seccomp:" { print $2 }' "/proc/$1/status" 2>/dev/null; }

LOGTYPE=file start_default || { fail start "dns01d did not start"; t_done; }
check_eq seccomp_on_by_default "$(seccomp_mode "$DAEMON_PID")" 2
# Every thread carries the filter (TSYNC), not only the one that loaded it.
modes=$(for t in /proc/"$DAEMON_PID"/task/*; do awk '$1 == "Seccomp:" { print $2 }' "$t/status"; done | sort -u)
check_eq seccomp_every_thread "$modes" 2
check_match seccomp_ready_line "$(cat "$T_DIR/dns01d-file.log")" 'ready: .*seccomp on'

register_ok && ok seccomp_register || fail seccomp_register "no account"
V=$(txt43 seccomp)
check_eq seccomp_update "$(update "$V")" 200
check_eq seccomp_dns_udp "$(txt_values "$FULLDOMAIN")" "$V"
check_eq seccomp_dns_tcp "$(txt_values "$FULLDOMAIN" +tcp)" "$V"
check_eq seccomp_health "$(api GET /health)" "200 "
# SIGHUP (log reopen, configuration check) runs under the filter too.
kill -HUP "$DAEMON_PID"
sleep 0.5
check_eq seccomp_health_after_sighup "$(api GET /health)" "200 "
check_eq seccomp_update_after_sighup "$(update "$(txt43 seccomp2)")" 200
stop_dns01d
if grep -q 'seccomp: blocked' "$T_DIR/dns01d.log" "$T_DIR/dns01d-file.log" 2>/dev/null; then
	fail seccomp_nothing_blocked "$(grep -h 'seccomp: blocked' "$T_DIR"/dns01d*.log)"
else
	ok seccomp_nothing_blocked
fi

# The switch: seccomp = false in [general].
start_default "seccomp = false" || { fail start_off "dns01d did not start"; t_done; }
check_eq seccomp_off_by_config "$(seccomp_mode "$DAEMON_PID")" 0
check_match seccomp_off_ready_line "$(cat "$T_DIR/dns01d.log")" 'ready: .*seccomp off'
stop_dns01d
t_done
