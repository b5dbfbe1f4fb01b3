#!/usr/bin/env bash
# tests/integration/test_api_limits.sh -- the API on the open internet: slow clients, the request
# deadline, per-IP connections, failed-login and /register rates, registration token and
# allowfrom, and acme-dns's redirects for trailing and doubled slashes
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

SLOW=(python3 "$T_LIB_DIR/slowhttp.py")
OTHER=127.0.0.2		# "everyone else": another loopback source address
V1=$(txt43 l1) V2=$(txt43 l2) V3=$(txt43 l3)

# kv_of KEY LINE: the value of KEY in a "k=v k=v" line.
kv_of() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }
# lt A B: A < B for decimals.
lt() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$1" "$2"; }
# from SRC METHOD PATH [BODY] [curl args]: like http, from source address SRC.
from() { local src=$1; shift; local m=$1 p=$2 b=${3:-}; shift 3 2>/dev/null || shift $#; http "$m" "$p" "$b" --interface "$src" "$@"; }
# upd SRC USER KEY SUB TXT: POST /update from SRC; sets H_STATUS, H_BODY.
upd() { from "$1" POST /update "{\"subdomain\":\"$4\",\"txt\":\"$5\"}" -H "X-Api-User: $2" -H "X-Api-Key: $3"; }

if ! curl -s -o /dev/null --interface "$OTHER" "http://127.0.0.1:9/" 2>/dev/null && \
	! python3 -c 'import socket,sys; s=socket.socket(); s.bind(("'"$OTHER"'",0))' 2>/dev/null; then
	skip api_limits "cannot use $OTHER as a source address here"
	t_done
fi

# --- slow clients, at the defaults -----------------------------------------------------
echo "# ${SECONDS}s: slow clients, at the defaults"
# 1,000 sockets from 127.0.0.1 trickling a byte a second (reopened as the server closes
# them); /health from 127.0.0.2 timed every 0.5 s throughout.
start_default || { fail start "dns01d did not start"; t_done; }
r=$("${SLOW[@]}" --port "$API_PORT" slow --n 1000 --seconds 12 --probe-src "$OTHER")
echo "# slow clients: $r"
probes=$(kv_of probes "$r") okn=$(kv_of ok "$r") max=$(kv_of max_ms "$r")
check_eq slow_clients_health_always_200 "$okn" "$probes"
if [ "${probes:-0}" -ge 10 ] && lt "$max" 100; then
	ok slow_clients_health_under_100ms
else
	fail slow_clients_health_under_100ms "$r"
fi
check_eq slow_clients_health_after "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$(api_url /health)")" 200
stop_dns01d

# --- the absolute request deadline (idle timeout 10 s, deadline 2 s) -------------------
echo "# ${SECONDS}s: the absolute request deadline (idle timeout 10 s, deadline 2 s)"
start_default "" $'connection_timeout = 10\nrequest_timeout = 2' || { fail start_deadline "dns01d did not start"; t_done; }
r=$("${SLOW[@]}" --port "$API_PORT" trickle --every 0.5 --max 9)
check_re deadline_closes_trickling_headers "$r" '^closed=1 after=(1\.[5-9]|[2-4]\.[0-9]) '
r=$("${SLOW[@]}" --port "$API_PORT" trickle --body --every 0.5 --max 9)
check_re deadline_closes_trickling_body "$r" '^closed=1 after=(1\.[5-9]|[2-4]\.[0-9]) '
# A kept-alive connection serves request after request: each gets its own deadline.
r=$(curl -s -m 10 -o /dev/null -o /dev/null -w '%{http_code}:%{num_connects} ' "$(api_url /health)" "$(api_url /health)")
check_eq deadline_keepalive_reuses_connection "$r" "200:1 200:0 "
stop_dns01d

# --- per-IP connection limit ------------------------------------------------------------
echo "# ${SECONDS}s: per-IP connection limit"
start_default "" 'max_conns_per_ip = 4' || { fail start_perip "dns01d did not start"; t_done; }
r=$(python3 - "$API_PORT" "$OTHER" <<'PY'
import socket, sys, time
port, other = int(sys.argv[1]), sys.argv[2]
held = []
for _ in range(4):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.connect(("127.0.0.1", port)); held.append(s)
time.sleep(0.3)
def health(src):
    s = socket.socket(); s.bind((src, 0)); s.settimeout(3); s.connect(("127.0.0.1", port))
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        d = s.recv(100)
    except OSError:
        d = b""
    s.close()
    return d.split(b" ")[1].decode() if d.startswith(b"HTTP/") else "closed"
print("fifth=%s other=%s" % (health("127.0.0.1"), health(other)))
for s in held:
    s.close()
time.sleep(0.3)
print("after=%s" % health("127.0.0.1"))
PY
)
check_match per_ip_fifth_connection_closed "$r" 'fifth=closed'
check_match per_ip_other_address_served "$r" 'other=200'
check_match per_ip_freed_after_close "$r" 'after=200'
stop_dns01d

# --- rate limits: failed logins and /register -------------------------------------------
echo "# ${SECONDS}s: rate limits: failed logins and /register"
# Per hour, so no token comes back while the test runs.
start_default "" $'auth_fail_rate = "5/hour"\nregister_rate = "3/hour"' ||
	{ fail start_rates "dns01d did not start"; t_done; }
register_ok || fail rate_register_1 "no account"
A_USER=$USERNAME A_KEY=$PASSWORD A_SUB=$SUBDOMAIN
WRONG_KEY=$(printf 'W%.0s' $(seq 1 40))
codes=""
for i in $(seq 1 50); do
	upd 127.0.0.1 "$A_USER" "$WRONG_KEY" "$A_SUB" "$V1"
	codes="$codes$H_STATUS "
	[ "$i" = 6 ] && { RA=$(header Retry-After); B6=$H_BODY; }
done
check_eq auth_rate_five_401_then_429 "$codes" "$(printf '401 %.0s' 1 2 3 4 5)$(printf '429 %.0s' $(seq 6 50))"
check_eq auth_rate_429_body "$B6" '{"error":"too_many_requests"}'
check_re auth_rate_retry_after "$RA" '^([1-9][0-9]?|[1-6][0-9][0-9]|7[01][0-9]|720)$'
upd 127.0.0.1 "$A_USER" "$A_KEY" "$A_SUB" "$V1"
check_eq auth_rate_limited_address_refused_even_right_key "$H_STATUS" 429
# The username is now over its rate too: the owner, from an address under its own
# limit, still gets in; a guesser from a fresh address is locked out after one try.
upd "$OTHER" "$A_USER" "$A_KEY" "$A_SUB" "$V2"
check_eq auth_rate_owner_other_address_accepted "$H_STATUS $H_BODY" "200 {\"txt\":\"$V2\"}"
upd 127.0.0.3 "$A_USER" "$WRONG_KEY" "$A_SUB" "$V1"
a1=$H_STATUS
upd 127.0.0.3 "$A_USER" "$WRONG_KEY" "$A_SUB" "$V1"
check_eq auth_rate_user_under_attack_one_try_per_address "$a1 $H_STATUS" "401 429"
upd "$OTHER" "$A_USER" "$A_KEY" "$A_SUB" "$V3"
check_eq auth_rate_owner_accepted_while_user_under_attack "$H_STATUS" 200
upd "$OTHER" "$A_USER" "$WRONG_KEY" "$A_SUB" "$V1"
check_eq auth_rate_other_address_wrong_key_still_401 "$H_STATUS" 401
# /register: 3 a minute per address (one used above).
codes=""
for i in 1 2 3; do from 127.0.0.1 POST /register ''; codes="$codes$H_STATUS "; done
RA=$(header Retry-After)
check_eq register_rate_then_429 "$codes" "201 201 429 "
check_eq register_rate_429_body "$H_BODY" '{"error":"too_many_requests"}'
check_re register_rate_retry_after "$RA" '^(1[01][0-9][0-9]|1200)$'
from "$OTHER" POST /register ''
check_eq register_rate_other_address_201 "$H_STATUS" 201
# The failed logins are logged with the user they tried, never with a key.
check_match failed_login_logged_with_user "$(grep 'status=401' "$T_DIR/dns01d.log" | head -n 1)" "user=$A_USER"
check_match rate_limited_logged_with_user "$(grep 'status=429' "$T_DIR/dns01d.log" | grep '/update' | head -n 1)" "user=$A_USER"
if grep -q -- "$WRONG_KEY" "$T_DIR/dns01d.log" || grep -q -- "$A_KEY" "$T_DIR/dns01d.log"; then
	fail failed_login_key_never_logged "a key is in the log"
else
	ok failed_login_key_never_logged
fi
from 127.0.0.1 POST /update '{}' -H 'X-Api-User: evil" user=x'"$(printf '\033')"'[31m' -H "X-Api-Key: $WRONG_KEY"
check_match failed_login_bad_user_sanitized "$(grep -a 'bad:evil' "$T_DIR/dns01d.log" | tail -n 1)" 'user=bad:evil\?\?user\?x\?\?31m'
stop_dns01d

# --- registration token and allowfrom ---------------------------------------------------
echo "# ${SECONDS}s: registration token and allowfrom"
TOKEN=Zm9vYmFyLXNlY3JldC10b2tlbi0xMjM0
start_default "" $'register_token = "'"$TOKEN"$'"\nregister_allowfrom = ["'"$OTHER"'/32", "::1"]' ||
	{ fail start_token "dns01d did not start"; t_done; }
from "$OTHER" POST /register ''
check_eq register_token_missing_401 "$H_STATUS $H_BODY" '401 {"error":"forbidden"}'
from "$OTHER" POST /register '' -H "Authorization: Bearer ${TOKEN}x"
check_eq register_token_wrong_401 "$H_STATUS $H_BODY" '401 {"error":"forbidden"}'
from "$OTHER" POST /register '' -H "Authorization: Basic $TOKEN"
check_eq register_token_wrong_scheme_401 "$H_STATUS" 401
from "$OTHER" POST /register '{"allowfrom":["192.0.2.0/24"]}' -H "Authorization: Bearer $TOKEN"
check_eq register_token_right_201 "$H_STATUS" 201
check_match register_token_right_reply "$H_BODY" '^\{"username":"[0-9a-f-]{36}","password":"[A-Za-z0-9_-]{40}",'
from 127.0.0.1 POST /register '' -H "Authorization: Bearer $TOKEN"
check_eq register_allowfrom_outside_401 "$H_STATUS $H_BODY" '401 {"error":"forbidden"}'
if have_ipv6; then
	r=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
		"http://[::1]:$API_PORT/register")
	# The API listens on 127.0.0.1 only here; ::1 cannot reach it.
	[ "$r" = 000 ] && ok register_allowfrom_v6_unreachable_here || fail register_allowfrom_v6_unreachable_here "$r"
fi
if grep -q -- "$TOKEN" "$T_DIR/dns01d.log"; then
	fail register_token_never_logged "the token is in the log"
else
	ok register_token_never_logged
fi
r=$("$DNS01D_BIN" -n -c "$CFG" 2>&1)
check_match register_token_check_ok "$r" 'configuration OK'
[[ $r == *"$TOKEN"* ]] && fail register_token_not_printed_by_n "$r" || ok register_token_not_printed_by_n
sed 's/^register_token = .*/register_token = "'"$TOKEN"' oops"/' "$CFG" >"$T_DIR/bad.cfg"
r=$("$DNS01D_BIN" -n -c "$T_DIR/bad.cfg" 2>&1)
check_match register_token_bad_config_error "$r" 'register_token: must be 16 to 256 characters'
[[ $r == *"$TOKEN"* ]] && fail register_token_not_printed_by_error "$r" || ok register_token_not_printed_by_error
stop_dns01d
DISABLE_REG=true start_default "" 'register_token = "'"$TOKEN"'"' || { fail start_disabled "dns01d did not start"; t_done; }
http POST /register '' -H "Authorization: Bearer $TOKEN"
check_eq register_disabled_wins_over_token "$H_STATUS $H_BODY" '404 {"error":"not_found"}'
stop_dns01d

# --- trailing and doubled slashes: httprouter's redirects --------------------------------
echo "# ${SECONDS}s: trailing and doubled slashes: httprouter's redirects"
start_default || { fail start_redirect "dns01d did not start"; t_done; }
register_ok || fail redirect_register "no account"
http POST /update/ '{}'
check_eq redirect_post_trailing_slash "$H_STATUS|$(header Location)|$H_BODY|$H_CT" '307|/update||'
http POST //update '{}'
check_eq redirect_post_doubled_slash "$H_STATUS|$(header Location)" '307|/update'
http GET /health/
check_eq redirect_get_health "$H_STATUS|$(header Location)|$H_CT" '301|/health|text/html; charset=utf-8'
check_eq redirect_get_health_body "$H_BODY" $'<a href="/health">Moved Permanently</a>.\n\n'
http GET /update/
check_eq redirect_none_for_get_update "$H_STATUS" 404
# Followed as clients follow it: curl -L and python-requests keep POST, headers and body.
r=$(curl -s -m 5 -L -X POST -H "X-Api-User: $USERNAME" -H "X-Api-Key: $PASSWORD" \
	--data-binary "{\"subdomain\":\"$SUBDOMAIN\",\"txt\":\"$V1\"}" -w ' %{http_code} %{num_redirects}' \
	"$(api_url /update/)")
check_eq redirect_followed_by_curl "$r" "{\"txt\":\"$V1\"} 200 1"
r=$(python3 - "http://127.0.0.1:$API_PORT/" "$USERNAME" "$PASSWORD" "$SUBDOMAIN" "$V2" <<'PY' 2>&1
import sys, requests
base, user, key, sub, txt = sys.argv[1:]
r = requests.post(base + "/update", json={"subdomain": sub, "txt": txt},
                  headers={"X-Api-User": user, "X-Api-Key": key}, timeout=5)
print(r.status_code, [h.status_code for h in r.history], r.text)
PY
)
check_eq redirect_followed_by_python_requests "$r" "200 [307] {\"txt\":\"$V2\"}"
check_eq redirect_value_served "$(txt_values "$FULLDOMAIN")" "$(sorted "$V1" "$V2")"
stop_dns01d

t_done
