#!/usr/bin/env bash
# tests/integration/test_api_access.sh -- who may call the API: allowfrom (v4, v6),
# use_header with trusted_proxies, disable_registration, idle connection timeout
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

FORBIDDEN='401 {"error":"forbidden"}'
V1=$(txt43 a1) V2=$(txt43 a2) V3=$(txt43 a3)

# try_update NAME BODY WANT [curl args...]: register with BODY, update once, compare.
try_update() {
	local name=$1 body=$2 want=$3 r
	shift 3
	if ! register_ok "$body"; then
		fail "$name" "registration with $body failed"
		return
	fi
	r=$(update_as "$USERNAME" "$PASSWORD" "$SUBDOMAIN" "$V1" "$@")
	check_eq "$name" "$r" "$want"
}

start_default "" "connection_timeout = 2" || { fail start "dns01d did not start"; t_done; }

# --- allowfrom, IPv4 (the API is reached from 127.0.0.1) --------------------------
try_update allowfrom_v4_host_allowed '{"allowfrom":["127.0.0.1/32"]}' "200 {\"txt\":\"$V1\"}"
try_update allowfrom_v4_net_allowed '{"allowfrom":["127.0.0.0/8"]}' "200 {\"txt\":\"$V1\"}"
try_update allowfrom_v4_other_net_denied '{"allowfrom":["192.0.2.0/24"]}' "$FORBIDDEN"
try_update allowfrom_any_entry_matches '{"allowfrom":["192.0.2.0/24","127.0.0.1/32"]}' "200 {\"txt\":\"$V1\"}"
try_update allowfrom_v6_net_denies_v4_client '{"allowfrom":["2001:db8::/32"]}' "$FORBIDDEN"
try_update allowfrom_empty_allows_all '{"allowfrom":[]}' "200 {\"txt\":\"$V1\"}"
# A denied update publishes nothing.
register_ok '{"allowfrom":["192.0.2.0/24"]}'
update_as "$USERNAME" "$PASSWORD" "$SUBDOMAIN" "$V2" >/dev/null
check_kv allowfrom_denied_update_not_served "$(dw query "$FULLDOMAIN" TXT)" rcode=NOERROR an=0

# --- idle and slow connections (connection_timeout = 2) --------------------------
idle() { python3 "$T_LIB_DIR/dnswire.py" --host 127.0.0.1 --port "$API_PORT" idle --max 8 "$@"; }
r=$(idle)
check_re api_idle_connection_closed "$r" '^closed=1 after=[1-5]\.'
r=$(idle --send $'POST /update HTTP/1.1\r\nHost: 127.0.0.1\r\n')
check_re api_partial_headers_closed "$r" '^closed=1 after=[1-5]\.'
r=$(idle --send $'POST /register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"allow')
check_re api_partial_body_closed "$r" '^closed=1 after=[1-5]\.'
check_eq api_alive_after_idle_connections "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$(api_url /health)")" 200

# --- disable_registration (restart with it set; the database is kept) -------------
register_ok
K_USER=$USERNAME K_KEY=$PASSWORD K_SUB=$SUBDOMAIN
stop_dns01d
new_ports
DISABLE_REG=true write_config "$CFG"
if start_dns01d "$CFG"; then
	http POST /register ''
	check_eq disable_registration_register_404 "$H_STATUS $H_BODY" '404 {"error":"not_found"}'
	http POST /register '{"allowfrom":[]}'
	check_eq disable_registration_register_with_body_404 "$H_STATUS" 404
	r=$(update_as "$K_USER" "$K_KEY" "$K_SUB" "$V2")
	check_eq disable_registration_update_still_works "$r" "200 {\"txt\":\"$V2\"}"
	http GET /health
	check_eq disable_registration_health_200 "$H_STATUS" 200
	stop_dns01d
else
	fail disable_registration_start "dns01d did not start with disable_registration = true"
fi

# --- use_header from an untrusted peer: the header is ignored -----------------------
new_ports
USE_HEADER=true write_config "$CFG" "" 'trusted_proxies = ["192.0.2.1/32"]'
if start_dns01d "$CFG"; then
	try_update use_header_spoof_from_untrusted_peer_ignored '{"allowfrom":["198.51.100.7/32"]}' \
		"$FORBIDDEN" -H 'X-Forwarded-For: 198.51.100.7'
	try_update use_header_untrusted_peer_address_used '{"allowfrom":["127.0.0.1/32"]}' \
		"200 {\"txt\":\"$V1\"}" -H 'X-Forwarded-For: 198.51.100.7'
	stop_dns01d
else
	fail use_header_untrusted_start "dns01d did not start with use_header and trusted_proxies"
fi

# --- use_header from a trusted proxy: the header is honoured ------------------------
new_ports
USE_HEADER=true write_config "$CFG" "" 'trusted_proxies = ["127.0.0.1/32"]'
if start_dns01d "$CFG"; then
	register_ok '{"allowfrom":["198.51.100.7/32"]}'
	X_USER=$USERNAME X_KEY=$PASSWORD X_SUB=$SUBDOMAIN
	r=$(update_as "$X_USER" "$X_KEY" "$X_SUB" "$V1" -H 'X-Forwarded-For: 198.51.100.7')
	check_eq use_header_from_trusted_proxy_honoured "$r" "200 {\"txt\":\"$V1\"}"
	r=$(update_as "$X_USER" "$X_KEY" "$X_SUB" "$V2")
	check_eq use_header_missing_means_peer "$r" "$FORBIDDEN"
	r=$(update_as "$X_USER" "$X_KEY" "$X_SUB" "$V2" -H 'X-Forwarded-For: 203.0.113.9')
	check_eq use_header_other_client_denied "$r" "$FORBIDDEN"
	r=$(update_as "$X_USER" "$X_KEY" "$X_SUB" "$V2" -H 'X-Forwarded-For: 198.51.100.7, 127.0.0.1')
	check_eq use_header_skips_trusted_hops "$r" "200 {\"txt\":\"$V2\"}"
	r=$(update_as "$X_USER" "$X_KEY" "$X_SUB" "$V3" -H 'X-Forwarded-For: 198.51.100.7, 203.0.113.9')
	check_eq use_header_spoofed_left_entry_ignored "$r" "$FORBIDDEN"
	r=$(update_as "$X_USER" "$X_KEY" "$X_SUB" "$V3" -H 'X-Forwarded-For: not-an-ip')
	check_eq use_header_garbage_denied "$r" "$FORBIDDEN"
	stop_dns01d
else
	fail use_header_trusted_start "dns01d did not start with trusted_proxies = [127.0.0.1/32]"
fi

# --- IPv4-mapped IPv6 peers match IPv4 networks (API on ::ffff:127.0.0.1) -----------------
new_ports
API_IP=::ffff:127.0.0.1
write_config "$CFG"
if start_dns01d "$CFG"; then
	try_update allowfrom_v4_mapped_peer_allowed '{"allowfrom":["127.0.0.1/32"]}' "200 {\"txt\":\"$V1\"}"
	try_update allowfrom_v4_mapped_peer_denied '{"allowfrom":["192.0.2.0/24"]}' "$FORBIDDEN"
	stop_dns01d
else
	fail api_on_v4_mapped_start "dns01d did not start with ip = \"::ffff:127.0.0.1\""
fi
API_IP=127.0.0.1

# --- allowfrom, IPv6 (the API on ::1) ------------------------------------------
if have_ipv6; then
	new_ports
	API_IP=::1
	write_config "$CFG"
	if start_dns01d "$CFG"; then
		try_update allowfrom_v6_host_allowed '{"allowfrom":["::1/128"]}' "200 {\"txt\":\"$V1\"}"
		try_update allowfrom_v6_other_net_denied '{"allowfrom":["2001:db8::/32"]}' "$FORBIDDEN"
		try_update allowfrom_v4_net_denies_v6_client '{"allowfrom":["127.0.0.0/8"]}' "$FORBIDDEN"
		try_update allowfrom_v6_in_mixed_list '{"allowfrom":["192.0.2.0/24","::1/128"]}' "200 {\"txt\":\"$V1\"}"
		stop_dns01d
	else
		fail api_on_ipv6_start "dns01d did not start with ip = \"::1\""
	fi
	API_IP=127.0.0.1
else
	skip allowfrom_v6 "::1 cannot be bound on this machine"
fi

t_done
