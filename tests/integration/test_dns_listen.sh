#!/usr/bin/env bash
# tests/integration/test_dns_listen.sh -- general.listen and general.protocol (IPv6
# listener, UDP only, TCP only, IPv4 only), negative_ttl and txt_ttl
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
