#!/usr/bin/env bash
# tests/integration/test_config.sh -- `dns01d -n -c FILE`: exit 0 for a good config, and
# non-zero with "file:line: message" for a bad line
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

new_ports
GOOD=$T_DIR/good.cfg
write_config "$GOOD"

out=$(timeout 10 "$DNS01D_BIN" -n -c "$GOOD" 2>&1)
rc=$?
check_eq config_check_good_exit_0 "$rc" 0
check config_check_touches_no_database [ ! -e "$DB" ]
check config_check_binds_nothing python3 -c "
import socket
s = socket.socket(); s.bind(('127.0.0.1', $API_PORT)); s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', $DNS_PORT)); u.close()"

# bad_line NAME SED_EXPR MATCH: break the line of the good config that matches MATCH with
# SED_EXPR, then expect a non-zero exit and "FILE:LINE: message" for exactly that line.
bad_line() {
	local name=$1 expr=$2 match=$3 f=$T_DIR/$1.cfg line out rc
	line=$(grep -n -m 1 -- "$match" "$GOOD" | cut -d: -f1)
	if [ -z "$line" ]; then
		fail "$name" "no line matches $match in the test config"
		return
	fi
	sed "${line}${expr}" "$GOOD" >"$f"
	out=$(timeout 10 "$DNS01D_BIN" -n -c "$f" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] && printf '%s\n' "$out" | grep -Eq -- "^$f:$line: .+"; then
		ok "$name"
	else
		fail "$name" "exit $rc, output [$out], want non-zero and $f:$line: message"
	fi
}

bad_line config_unquoted_string 's/"\(.*\)"/\1/' '^listen = '
bad_line config_unterminated_string 's/"$//' '^domain = '
bad_line config_bad_protocol 's/= ".*"/= "carrier-pigeon"/' '^protocol = '
bad_line config_bad_port 's/= ".*"/= "notaport"/' '^port = '
bad_line config_port_out_of_range 's/= ".*"/= "70000"/' '^port = '
bad_line config_bad_boolean 's/= .*/= maybe/' '^use_header = '
bad_line config_bad_record_type 's/CNAME/BOGUS/' 'CNAME'
bad_line config_bad_record_address 's/198\.51\.100\.1/198.51.100.300/' 'A 198\.51\.100\.1'
bad_line config_bad_loglevel 's/= ".*"/= "chatty"/' '^loglevel = '
bad_line config_bad_engine 's/= ".*"/= "oracle"/' '^engine = '
bad_line config_bad_table_header 's/\[api\]/[api/' '^\[api\]'

out=$(timeout 10 "$DNS01D_BIN" -n -c "$T_DIR/missing.cfg" 2>&1)
rc=$?
check config_missing_file_fails [ "$rc" -ne 0 ]
check_match config_missing_file_names_it "$out" "missing\\.cfg"

# The daemon refuses to start on a bad config, with the same message.
sed 's/^protocol = .*/protocol = "carrier-pigeon"/' "$GOOD" >"$T_DIR/start-bad.cfg"
out=$(timeout 10 "$DNS01D_BIN" -c "$T_DIR/start-bad.cfg" 2>&1)
rc=$?
check config_bad_daemon_exits_non_zero [ "$rc" -ne 0 ]
check_match config_bad_daemon_message "$out" "^$T_DIR/start-bad\\.cfg:[0-9]+: "

# Issue 7: acme-dns's own sample config.cfg (the copy in tests/unit/test_config.c), with
# tls = "letsencryptstaging", passes -n unchanged: no CA is contacted, and the default
# acme_cache_dir "api-certs", which does not exist yet, counts as writable because it
# can be created.
ACME_DNS_CFG=$T_DIR/acme-dns/config.cfg
mkdir -p "$T_DIR/acme-dns"
python3 - "$T_LIB_DIR/../unit/test_config.c" >"$ACME_DNS_CFG" <<'PY'
import ast, re, sys
src = open(sys.argv[1]).read()
body = src.split("acme_dns_cfg[] =", 1)[1].split(";", 1)[0]
sys.stdout.write("".join(ast.literal_eval(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', body)))
PY
check_match acme_dns_sample_is_letsencryptstaging "$(cat "$ACME_DNS_CFG")" 'tls = "letsencryptstaging"'
# With no network at all (a new network namespace) when the machine allows one.
NONET=()
unshare -rn true 2>/dev/null && NONET=(unshare -rn)
out=$(cd "$T_DIR/acme-dns" && timeout 10 "${NONET[@]}" "$DNS01D_BIN" -n -c config.cfg 2>&1)
rc=$?
[ ${#NONET[@]} -gt 0 ] || echo "# no network namespace here: -n ran with the network up"
check_eq acme_dns_sample_letsencryptstaging_dash_n "$rc $out" "0 config.cfg: configuration OK"
check acme_dns_sample_dash_n_creates_nothing [ ! -e "$T_DIR/acme-dns/api-certs" ]
# A cache directory that cannot be created (below a plain file) is refused by -n.
: >"$T_DIR/acme-dns/afile"
sed "s|^acme_cache_dir = .*|acme_cache_dir = \"$T_DIR/acme-dns/afile/api-certs\"|" "$ACME_DNS_CFG" >"$T_DIR/acme-dns/bad.cfg"
out=$(timeout 10 "$DNS01D_BIN" -n -c "$T_DIR/acme-dns/bad.cfg" 2>&1)
rc=$?
check_eq acme_cache_dir_unwritable_exit_1 "$rc" 1
check_match acme_cache_dir_unwritable_message "$out" "acme_cache_dir $T_DIR/acme-dns/afile/api-certs: .*(Not a directory|is not a directory)"

t_done
