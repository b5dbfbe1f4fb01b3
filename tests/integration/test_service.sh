#!/usr/bin/env bash
# tests/integration/test_service.sh -- the daemon as a service: readiness (sd_notify),
# SIGHUP (log reopen, settings that need a restart), journald priorities, and the
# privilege drop ([general] user) when started as root
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

# --- sd_notify: READY=1 arrives, and DNS answers when it does ---------------------------
# notify.py binds the socket, and on each datagram records it; on READY=1 it asks the
# daemon's DNS at once (one UDP query) and records whether an answer came.
NOTIFY=$T_DIR/notify.sock
NOTIFY_LOG=$T_DIR/notify.log
new_ports notify
CFG=$T_DIR/notify.cfg
write_config "$CFG"
python3 - "$NOTIFY" "$NOTIFY_LOG" "$DNS_PORT" <<'PY' &
import socket, struct, sys, time
path, out, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(30)
# A DNS query for auth.example.org SOA (id 0x4242, no recursion).
q = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0) + b"\x04auth\x07example\x03org\x00" + struct.pack(">HH", 6, 1)
with open(out, "a", buffering=1) as f:
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            msg = s.recv(4096).decode("utf-8", "replace")
        except socket.timeout:
            break
        f.write("msg " + msg.replace("\n", "|") + "\n")
        if "READY=1" in msg.split("\n") and "dns_at_ready" not in open(out).read():
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.settimeout(2)
            try:
                u.sendto(q, ("127.0.0.1", port))
                a = u.recv(4096)
                f.write("dns_at_ready id=%d rcode=%d\n" % (struct.unpack(">H", a[:2])[0], a[3] & 15))
            except OSError as e:
                f.write("dns_at_ready none (%s)\n" % e)
        if "STOPPING=1" in msg.split("\n"):
            break
PY
NOTIFY_PID=$!
T_PIDS+=("$NOTIFY_PID")
for _ in $(seq 1 50); do [ -S "$NOTIFY" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$NOTIFY start_dns01d "$CFG" || fail notify_start "dns01d did not start"
for _ in $(seq 1 50); do grep -q '^dns_at_ready' "$NOTIFY_LOG" 2>/dev/null && break; sleep 0.1; done
check_match notify_ready_sent "$(grep '^msg' "$NOTIFY_LOG" 2>/dev/null | head -n 1)" '^msg READY=1[|]STATUS=dns port [0-9]+, api port [0-9]+$'
check_eq notify_dns_answers_at_ready "$(grep '^dns_at_ready' "$NOTIFY_LOG" 2>/dev/null)" \
	"dns_at_ready id=16962 rcode=0"
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do [ "$(grep -c '^msg' "$NOTIFY_LOG")" -ge 3 ] && break; sleep 0.1; done
check_eq notify_reload_reloading_then_ready "$(grep '^msg' "$NOTIFY_LOG" | sed -n '2,3p' | tr '\n' ' ')" \
	"msg RELOADING=1 msg READY=1 "
stop_dns01d
for _ in $(seq 1 50); do grep -q '^msg STOPPING=1' "$NOTIFY_LOG" && break; sleep 0.1; done
check notify_stopping_on_term grep -q '^msg STOPPING=1$' "$NOTIFY_LOG"

# --- SIGHUP: the log file is reopened at its path; changed settings are named -----------
LOG=$T_DIR/rotate.log
LOGTYPE=file LOGFILE=$LOG LOGLEVEL=info start_default || fail hup_start "dns01d did not start"
check hup_log_written grep -q 'ready: dns' "$LOG"
mv "$LOG" "$LOG.1"
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do grep -q 'SIGHUP: log reopened' "$LOG" 2>/dev/null && break; sleep 0.1; done
check hup_new_file_at_old_path grep -q 'SIGHUP: log reopened' "$LOG"
check hup_old_file_not_written_after_move sh -c "! grep -q 'SIGHUP' '$LOG.1'"
check_eq hup_daemon_alive "$(kill -0 "$DAEMON_PID" 2>/dev/null && echo yes)" "yes"
# A changed setting is named in one line, not silently ignored.
sed -i 's/^debug = false$/debug = false\ntxt_ttl = 7/' "$CFG"
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do grep -q 'restart' "$LOG" 2>/dev/null && break; sleep 0.1; done
check_match hup_names_restart_settings "$(grep 'restart' "$LOG")" \
	'SIGHUP: .*config\.cfg: 1 changed setting takes effect only after a restart: \[general\] txt_ttl$'
# A broken config on HUP: a warning, and the daemon keeps serving.
echo 'listen = ' >>"$CFG"
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do grep -q 'running configuration stays' "$LOG" 2>/dev/null && break; sleep 0.1; done
check_match hup_bad_config_kept "$(grep 'running configuration stays' "$LOG")" 'config\.cfg:[0-9]+: '
check_eq hup_bad_config_still_answers "$(q auth.example.org A +short)" "198.51.100.1"
stop_dns01d

# --- journald: with JOURNAL_STREAM naming stderr, lines carry <N> priorities -------------
# An unknown key gives a warning line (<4>) next to the info lines (<6>).
JLOG=$T_DIR/journal.log
: >"$JLOG"
new_ports journal
write_config "$T_DIR/journal.cfg" 'no_such_key_for_the_journal = 1'
JOURNAL_STREAM=$(stat -c '%d:%i' "$JLOG") start_dns01d "$T_DIR/journal.cfg" "$JLOG" ||
	fail journal_start "dns01d did not start"
stop_dns01d
check_match journal_info_prio "$(grep 'ready: dns' "$JLOG" | head -n 1)" '^<6>[0-9-]+T'
check_match journal_warning_prio "$(grep 'no_such_key_for_the_journal' "$JLOG" | head -n 1)" '^<4>[0-9-]+T'
check journal_every_line_prefixed sh -c "! grep -qv '^<[0-7]>' '$JLOG'"
OTHER=$T_DIR/other.log
: >"$OTHER"
new_ports other
write_config "$T_DIR/other.cfg"
JOURNAL_STREAM=1:1 start_dns01d "$T_DIR/other.cfg" "$OTHER" || fail journal_other_start "dns01d did not start"
check_match journal_no_prefix_elsewhere "$(grep 'ready: dns' "$OTHER" | head -n 1)" '^[0-9-]+T'
stop_dns01d

# --- privilege drop: [general] user ------------------------------------------------------
# Missing users are a file:line error at check time (no root needed).
new_ports nouser
write_config "$T_DIR/nouser.cfg" 'user = "no-such-user-dns01d"'
out=$("$DNS01D_BIN" -n -c "$T_DIR/nouser.cfg" 2>&1)
check_eq privdrop_missing_user_exit "$?" "1"
check_match privdrop_missing_user_line "$out" "^$T_DIR/nouser\.cfg:[0-9]+: \[general\] user: no such user \"no-such-user-dns01d\"$"

# The rest needs root: root itself, or sudo without a password.
AS_ROOT=()
if [ "$(id -u)" -ne 0 ]; then
	if sudo -n true 2>/dev/null; then
		AS_ROOT=(sudo -n)
	else
		skip privdrop_as_root "not root and no password-less sudo: cannot start dns01d as root"
		t_done
	fi
fi

# start_root CFG LOG: start dns01d as root; sets RPID (the daemon) and LPID (what to kill).
start_root() {
	"${AS_ROOT[@]}" "$DNS01D_BIN" -c "$1" >"$2" 2>&1 &
	LPID=$!
	T_PIDS+=("$LPID")
	RPID=$LPID
	for _ in $(seq 1 100); do
		[ "${#AS_ROOT[@]}" -eq 0 ] || RPID=$(pgrep -P "$LPID" | head -n 1)
		[ -n "$RPID" ] && grep -q 'ready: dns' "$2" 2>/dev/null && return 0
		kill -0 "$LPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# stop_root: TERM the daemon and wait (at most 10 s).
stop_root() {
	"${AS_ROOT[@]}" kill "$RPID" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$LPID" 2>/dev/null || break; sleep 0.1; done
	wait "$LPID" 2>/dev/null
}

# user = "nobody" on privileged ports of a loopback address; 127.0.0.53:53 may be taken
# (systemd-resolved), so a random 127.x address and API port < 1024, tried five times.
chmod 0711 "$T_DIR"
PD=$T_DIR/pd
mkdir -p "$PD" && chmod 1777 "$PD"
started=0
for _ in 1 2 3 4 5; do
	DNS_SERVER=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 2))
	DNS_PORT=53 API_PORT=$((RANDOM % 300 + 600)) API_IP=$DNS_SERVER DB=$PD/dns01d.db
	rm -f "$PD"/dns01d.db*
	DNS_LISTEN=$DNS_SERVER write_config "$PD/nobody.cfg" 'user = "nobody"'
	if start_root "$PD/nobody.cfg" "$PD/nobody.log"; then started=1; break; fi
	stop_root
done
if [ "$started" -ne 1 ]; then
	fail privdrop_start "dns01d did not start as root: $(tail -n 3 "$PD/nobody.log" | tr '\n' ' ')"
	t_done
fi
st=/proc/$RPID/status
check_match privdrop_uid "$(grep '^Uid:' "$st")" '^Uid:\s+65534\s+65534\s+65534\s+65534$'
check_match privdrop_gid "$(grep '^Gid:' "$st")" '^Gid:\s+65534\s+65534\s+65534\s+65534$'
check_match privdrop_no_supplementary_root "$(grep '^Groups:' "$st")" '^Groups:\s*(65534\s*)?$'
check_match privdrop_cap_eff_zero "$(grep '^CapEff:' "$st")" '^CapEff:\s+0+$'
check_match privdrop_cap_prm_zero "$(grep '^CapPrm:' "$st")" '^CapPrm:\s+0+$'
check_match privdrop_logs_uid "$(cat "$PD/nobody.log")" 'running as user nobody \(uid 65534, gid 65534\)'
check_eq privdrop_dns_answers "$(q auth.example.org A +short)" "198.51.100.1"
check_eq privdrop_api_answers "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$(api_url /health)")" "200"
register_ok || fail privdrop_register_after_drop "no account"
check_eq privdrop_update_after_drop "$(update "$(txt43 pd)")" "200"
check_eq privdrop_db_owned_by_user "$(stat -c '%u' "$PD/dns01d.db")" "65534"
check_eq privdrop_no_root_warning "$(grep -c 'running as root' "$PD/nobody.log")" "0"
stop_root

# As root with no user key: one warning.
DNS_PORT=$(free_port) API_PORT=$(free_port) DNS_SERVER=127.0.0.1 API_IP=127.0.0.1 DB=$PD/root.db
DNS_LISTEN=127.0.0.1 write_config "$PD/root.cfg"
if start_root "$PD/root.cfg" "$PD/root.log"; then
	check_eq privdrop_root_warns_once "$(grep -c 'running as root: set \[general\] user' "$PD/root.log")" "1"
else
	fail privdrop_root_start "$(tail -n 3 "$PD/root.log" | tr '\n' ' ')"
fi
stop_root
t_done
