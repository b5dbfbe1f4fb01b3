#!/usr/bin/env bash
# tests/integration/test_dns_listen.sh -- general.listen and general.protocol (IPv6
# listener, several listen addresses, UDP only, TCP only, IPv4 only), negative_ttl and txt_ttl
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

Z=auth.example.org

# --- IPv6: listen = "[::1]:PORT" ---------------------------------------------------------
if have_ipv6; then
	DNS_LISTEN="[::1]" start_default || fail ipv6_listener_start "dns01d did not start on [::1]"
	DNS_SERVER=::1
	r=$(dw query "$Z" SOA)
	check_kv ipv6_udp_answers "$r" rcode=NOERROR an=1 ans_types=SOA
	r=$(dw query "$Z" SOA --tcp)
	check_kv ipv6_tcp_answers "$r" rcode=NOERROR an=1 ans_types=SOA
	check_eq ipv6_dig_answers "$(q "$Z" A +short)" "198.51.100.1"
	check_eq ipv6_kdig_tcp_answers "$(kdig +tcp +norec +short -p "$DNS_PORT" @::1 "$Z" A)" "198.51.100.1"
	register_ok || fail ipv6_register "no account"
	update "$(txt43 six)" >/dev/null
	check_eq ipv6_txt_served "$(txt_values "$FULLDOMAIN")" "$(txt43 six)"
	DNS_SERVER=127.0.0.1
	r=$(dw --timeout 1 query "$Z" SOA)
	check_eq ipv6_listener_not_on_ipv4 "$r" "timeout=1"
	stop_dns01d
else
	skip ipv6_listener "::1 cannot be bound on this machine"
fi

# --- listen = ["127.0.0.1:PORT", "[::1]:PORT"]: both answered ----------------------------
if have_ipv6; then
	new_ports
	CFG=$T_DIR/multi.cfg
	write_config "$CFG"
	sed -i "s|^listen = .*|listen = [\"127.0.0.1:$DNS_PORT\", \"[::1]:$DNS_PORT\"]|" "$CFG"
	if start_dns01d "$CFG"; then
		register_ok || fail multi_register "no account"
		update "$(txt43 multi)" >/dev/null
		for srv in 127.0.0.1 ::1; do
			DNS_SERVER=$srv
			check_kv "multi_listen_udp_$srv" "$(dw query "$Z" SOA)" rcode=NOERROR an=1
			check_kv "multi_listen_tcp_$srv" "$(dw query "$Z" SOA --tcp)" rcode=NOERROR an=1
			check_eq "multi_listen_txt_$srv" "$(txt_values "$FULLDOMAIN")" "$(txt43 multi)"
		done
		DNS_SERVER=127.0.0.1
		check_match multi_listen_logged "$(grep ' ready: ' "$T_DIR/dns01d.log")" \
			"dns 127\.0\.0\.1:$DNS_PORT, \[::1\]:$DNS_PORT "
		stop_dns01d
	else
		fail multi_listen_start "dns01d did not start with two listen addresses"
	fi
else
	skip multi_listen "::1 cannot be bound on this machine"
fi

# --- listen arrays that cannot work: one line, exit 1 (dns01d -n) -------------------------
# listen_bad NAME VALUE WANT: the config check refuses listen = VALUE with a line matching WANT.
listen_bad() {
	local out rc
	write_config "$T_DIR/bad.cfg"
	sed -i "s|^listen = .*|listen = $2|" "$T_DIR/bad.cfg"
	out=$("$DNS01D_BIN" -n -c "$T_DIR/bad.cfg" 2>&1)
	rc=$?
	check_re "$1" "$rc $out" "^1 [^
]*$3[^
]*\$"
}
listen_bad listen_array_two_ports '["127.0.0.1:5300", "127.0.0.2:5301"]' 'every address must use the same port'
listen_bad listen_array_duplicate '["127.0.0.1:5300", "127.0.0.1:5300"]' 'overlaps'
listen_bad listen_array_wildcard_overlap '["0.0.0.0:5300", "127.0.0.1:5300"]' 'overlaps'
listen_bad listen_array_any_overlap '[":5300", "[::1]:5300"]' 'overlaps'
listen_bad listen_array_empty '[]' '0 addresses'
listen_bad listen_array_too_many "[$(for i in 1 2 3 4 5 6 7 8 9; do printf '"127.0.0.%s:5300",' "$i"; done)]" '9 addresses'
listen_bad listen_array_bad_entry '["127.0.0.1:5300", "localhost:5300"]' 'is not'
write_config "$T_DIR/good.cfg"
sed -i 's|^listen = .*|listen = ["127.0.0.1:5300", "127.0.0.2:5300", "[::1]:5300"]|' "$T_DIR/good.cfg"
check_eq listen_array_config_ok "$("$DNS01D_BIN" -n -c "$T_DIR/good.cfg" 2>&1)" "$T_DIR/good.cfg: configuration OK"

# --- protocol = "udp": no TCP listener ----------------------------------------------------
PROTO=udp start_default || fail udp_only_start "dns01d did not start with protocol = udp"
r=$(dw query "$Z" SOA)
check_kv udp_only_udp_answers "$r" rcode=NOERROR an=1
r=$(dw query "$Z" SOA --tcp)
check_eq udp_only_tcp_refused "$r" "refused=1"
stop_dns01d

# --- protocol = "tcp": no UDP listener ----------------------------------------------------
PROTO=tcp start_default || fail tcp_only_start "dns01d did not start with protocol = tcp"
r=$(dw query "$Z" SOA --tcp)
check_kv tcp_only_tcp_answers "$r" rcode=NOERROR an=1
r=$(dw --timeout 1 query "$Z" SOA)
check_eq tcp_only_udp_silent "$r" "timeout=1"
stop_dns01d

# --- protocol = "both4" on 127.0.0.1, with negative_ttl and txt_ttl set ------------------
PROTO=both4 start_default "negative_ttl = 30
txt_ttl = 5" || fail both4_start "dns01d did not start with protocol = both4"
check_kv both4_udp_answers "$(dw query "$Z" SOA)" rcode=NOERROR an=1
check_kv both4_tcp_answers "$(dw query "$Z" SOA --tcp)" rcode=NOERROR an=1
check_kv negative_ttl_soa_minimum "$(dw query "$Z" SOA)" soa_minimum=30
check_kv negative_ttl_nxdomain_soa_ttl "$(dw query "nope.$Z" A)" rcode=NXDOMAIN auth_ttls=30
register_ok || fail register "no account"
check_kv negative_ttl_nodata_soa_ttl "$(dw query "$FULLDOMAIN" TXT)" rcode=NOERROR an=0 auth_ttls=30
update "$(txt43 ttl)" >/dev/null
check_kv txt_ttl_configured "$(dw query "$FULLDOMAIN" TXT)" rcode=NOERROR an=1 ans_ttls=5

t_done
