#!/usr/bin/env bash
# tests/integration/test_install.sh -- make install honours PREFIX, DESTDIR, SYSCONFDIR and
# SYSTEMDUNITDIR; the installed unit passes systemd-analyze verify and rates 2.0 or lower
# in systemd-analyze security; the installed example config is valid and readable
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

B=${B:-build}
MAX_EXPOSURE=2.0	# issue 11: systemd-analyze security --offline=yes, at most this

# inst DIR VAR=VALUE...: make install into DIR with the given variables; FAIL if it fails.
inst() {
	local d=$1
	shift
	if ! make -s --no-print-directory install B="$B" DESTDIR="$d" "$@" >"$T_DIR/make.log" 2>&1; then
		fail "make install $*" "$(tail -n 5 "$T_DIR/make.log" | tr '\n' ' ')"
		return 1
	fi
}

# --- DESTDIR=$R PREFIX=/usr: the Debian layout ---------------------------------------
R=$T_DIR/root
inst "$R" PREFIX=/usr || t_done
for f in usr/sbin/dns01d usr/bin/dns01 usr/share/man/man8/dns01d.8 usr/share/man/man5/dns01d.conf.5 \
	usr/share/man/man1/dns01.1 lib/systemd/system/dns01d.service etc/dns01d/config.cfg; do
	check "installed: /$f" [ -f "$R/$f" ]
done
check "installed: binaries executable" [ -x "$R/usr/sbin/dns01d" ] && [ -x "$R/usr/bin/dns01" ]
UNIT=$R/lib/systemd/system/dns01d.service
check_eq unit_execstart "$(sed -n 's/^ExecStart=//p' "$UNIT")" "/usr/sbin/dns01d -c /etc/dns01d/config.cfg"
check_eq unit_execstartpre "$(sed -n 's/^ExecStartPre=//p' "$UNIT")" "/usr/sbin/dns01d -n -c /etc/dns01d/config.cfg"
check_eq unit_no_placeholder "$(grep -c '@[A-Z]*@' "$UNIT")" "0"
check_eq unit_type_notify "$(sed -n 's/^Type=//p' "$UNIT")" "notify"
check_match unit_reload_sighup "$(sed -n 's/^ExecReload=//p' "$UNIT")" 'kill -HUP \$MAINPID$'
check_eq unit_state_directory "$(sed -n 's/^StateDirectory=//p' "$UNIT")" "dns01d"

# The example config: valid, its database in the unit's StateDirectory, readable by the
# unit's (possibly dynamic) user, DNS on every address, API on localhost.
C=$R/etc/dns01d/config.cfg
out=$("$R/usr/sbin/dns01d" -n -c "$C" 2>&1)
check_eq example_config_valid "$out" "$C: configuration OK"
check_match example_config_db_in_state_dir "$(grep '^connection' "$C")" '^connection = "/var/lib/dns01d/[^/"]+"$'
check_eq example_config_mode "$(stat -c '%a' "$C")" "644"
check_eq example_config_dns_everywhere "$(grep '^listen' "$C")" 'listen = ":53"'
check_eq example_config_api_localhost "$(grep '^ip' "$C")" 'ip = "127.0.0.1"'
# An operator's config is never overwritten by a later install.
echo "# edited by the operator" >>"$C"
inst "$R" PREFIX=/usr && check_match install_keeps_config "$(tail -n 1 "$C")" '^# edited by the operator$'

# --- systemd-analyze: verify and security, offline, in the installed tree ---------------
# --root needs the targets the unit names and the kill of ExecReload inside the tree.
if ! command -v systemd-analyze >/dev/null; then
	fail systemd_analyze_installed "systemd-analyze is missing (Debian package systemd)"
else
	mkdir -p "$R/usr/bin"
	cp /lib/systemd/system/*.target "$R/lib/systemd/system/" 2>/dev/null
	cp "$(type -P kill)" "$R/usr/bin/kill"
	if v=$(systemd-analyze verify --man=no --root="$R" dns01d.service 2>&1); then
		ok unit_verify_clean
	else
		fail unit_verify_clean "$(printf '%s' "$v" | tr '\n' ' ')"
	fi
	check_eq unit_verify_no_output "$v" ""
	sec=$(systemd-analyze security --offline=yes --root="$R" dns01d.service 2>&1)
	score=$(printf '%s\n' "$sec" | sed -n 's/^.*Overall exposure level for dns01d.service: \([0-9.]*\).*/\1/p')
	echo "# exposure score: ${score:-none} (at most $MAX_EXPOSURE)"
	if [ -z "$score" ]; then
		fail unit_exposure_score "no score: $(printf '%s' "$sec" | tail -n 3 | tr '\n' ' ')"
	else
		check unit_exposure_at_most_2 awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'
	fi
fi

# --- every path variable moves its files: nothing lands outside /opt/dns01d ------------
R2=$T_DIR/root2
inst "$R2" PREFIX=/opt/dns01d SYSCONFDIR=/opt/dns01d/etc SYSTEMDUNITDIR=/opt/dns01d/units || t_done
check_eq install_paths_all_under_prefix "$(cd "$R2" && find . -type f | grep -vc '^\./opt/dns01d/')" "0"
for f in sbin/dns01d bin/dns01 share/man/man5/dns01d.conf.5 units/dns01d.service etc/dns01d/config.cfg; do
	check "installed with PREFIX etc.: /opt/dns01d/$f" [ -f "$R2/opt/dns01d/$f" ]
done
check_eq unit_execstart_prefix "$(sed -n 's/^ExecStart=//p' "$R2/opt/dns01d/units/dns01d.service")" \
	"/opt/dns01d/sbin/dns01d -c /opt/dns01d/etc/dns01d/config.cfg"
t_done
