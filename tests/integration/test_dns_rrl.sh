#!/usr/bin/env bash
# tests/integration/test_dns_rrl.sh -- response-rate limiting: a UDP flood from one address
# is held to rrl_rate answers a second, every rrl_slip-th limited answer goes out TC=1, TCP
# is never limited, and the default rate leaves ordinary traffic alone
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

Z=auth.example.org
RATE=10
N=400	# queries in the flood, sent in well under a second on an idle machine
start_default "rrl_rate = $RATE
rrl_slip = 2" || { fail start "dns01d did not start"; t_done; }
register_ok || fail register "no account"
update "$(txt43 rrl1)" >/dev/null

r=$(dw flood "$FULLDOMAIN" TXT --count "$N")
r1=$(printf '%s\n' "$r" | sed -n 1p)
answered=$(kv answered "$r1") tc=$(kv tc "$r1") other=$(kv other "$r1") secs=$(kv seconds "$r1")
# The flood spans at most ceil(secs) + 1 one-second windows, each with RATE tokens.
windows=$(python3 -c "import math; print(math.ceil(float('$secs')) + 1)")
max_answered=$((RATE * windows))
if [ "$answered" -ge "$RATE" ] && [ "$answered" -le "$max_answered" ]; then
	ok rrl_flood_limited_to_rate
else
	fail rrl_flood_limited_to_rate "$r1 (want $RATE..$max_answered answered)"
fi
# slip 2: every second limited answer is sent truncated, the others are dropped
limited=$((N - answered))
if [ "$tc" -ge $((limited / 2 - windows)) ] && [ "$tc" -le $((limited / 2 + windows)) ] &&
	[ "$other" = 0 ]; then
	ok rrl_slip_every_second_truncated
else
	fail rrl_slip_every_second_truncated "$r1 (want about $((limited / 2)) TC)"
fi
# a slipped answer: TC=1, the question, no records but the OPT
check_re rrl_slipped_answer_has_tc "$(printf '%s\n' "$r" | sed -n 2p)" \
	'flags=qr,aa,tc qd=1 an=0 ns=0 ar=1 .*opt_count=1 rcode=NOERROR'
# TCP is not rate-limited
r=$(q "$FULLDOMAIN" TXT +tcp +short)
check_eq rrl_tcp_not_limited "$r" "\"$(txt43 rrl1)\""
# another kind (NXDOMAIN) has its own bucket: after 2 s of quiet both answer again
sleep 2
check_match rrl_nxdomain_own_bucket "$(q "nope.$Z" A)" 'status: NXDOMAIN'
check_match rrl_refills_next_second "$(q "$FULLDOMAIN" TXT)" 'ANSWER: 1'
# /health's own SOA probe is never limited: 60 polls in a row, far over rrl_rate = $RATE
# (the apex SOA answers share one bucket), all 200
codes=$(for i in $(seq 1 60); do
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 "$(api_url /health)"
done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
check_eq rrl_health_probe_exempt "$codes" " 60 200;"
# ... while a client asking the same apex SOA from loopback is limited as before
r=$(dw flood "$Z" SOA --count 100 | sed -n 1p)
soa_answered=$(kv answered "$r")
if [ "$soa_answered" -lt 100 ]; then ok rrl_apex_soa_still_limited; else
	fail rrl_apex_soa_still_limited "$r"; fi
stop_dns01d 2>/dev/null

# --- the default rate (rrl_rate = 20) does not touch a client making ordinary queries --
start_default || { fail start_default_rrl "dns01d did not start"; t_done; }
register_ok || fail register "no account"
update "$(txt43 rrl2)" >/dev/null
good=0
for i in $(seq 1 15); do
	q "$FULLDOMAIN" TXT +short | grep -q "$(txt43 rrl2)" && good=$((good + 1))
done
check_eq rrl_default_ordinary_queries_answered "$good" 15
t_done
