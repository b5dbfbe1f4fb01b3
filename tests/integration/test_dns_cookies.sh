#!/usr/bin/env bash
# tests/integration/test_dns_cookies.sh -- DNS cookies (RFC 7873, RFC 9018 server cookies) with
# dig +cookie, and OPT in NOTIMP and FORMERR answers (RFC 6891 §6, §7)
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

Z=auth.example.org
start_default || { fail start "dns01d did not start"; t_done; }
register_ok || fail register "no account"
update "$(txt43 ck1)" >/dev/null

# cookie TEXT: the COOKIE dig printed (hex), and whether dig called it good
cookie() { printf '%s\n' "$1" | sed -n 's/^; COOKIE: \([0-9a-f]*\).*/\1/p' | head -n 1; }

CC=0123456789abcdef
r=$(q "$FULLDOMAIN" TXT +cookie="$CC")
C1=$(cookie "$r")
check_re cookie_server_cookie_given "$C1" "^${CC}01000000[0-9a-f]{24}\$"
check_re cookie_answer_with_first_cookie "$r" 'status: NOERROR.*ANSWER: 1'

# sent back: accepted (no BADCOOKIE), echoed unchanged, dig checks it ("good")
r=$(q "$FULLDOMAIN" TXT +cookie="$C1")
check_re cookie_accepted_next_query "$r" 'status: NOERROR.*ANSWER: 1'
check_eq cookie_echoed "$(cookie "$r")" "$C1"
check_match cookie_dig_says_good "$r" '; COOKIE: [0-9a-f]+ \(good\)'

# a server cookie we did not make: answered, with a fresh one
BAD=${C1:0:40}$(printf '%s' "${C1:40:8}" | tr '0-9a-f' 'f0-9a-e')
r=$(q "$FULLDOMAIN" TXT +cookie="$BAD")
C2=$(cookie "$r")
check_re cookie_bad_server_cookie_answered "$r" 'status: NOERROR.*ANSWER: 1'
if [ "${C2:0:16}" = "$CC" ] && [ "${C2:16}" != "${BAD:16}" ] && [ ${#C2} = 48 ]; then
	ok cookie_bad_server_cookie_replaced
else
	fail cookie_bad_server_cookie_replaced "sent $BAD, got [$C2]"
fi

# a malformed COOKIE option (5 bytes): FORMERR, with an OPT
r=$(dw query "$FULLDOMAIN" TXT --edns 0 --cookie 0102030405)
check_re cookie_malformed_formerr_with_opt "$r" 'opt_count=1 rcode=FORMERR'
r=$(dw query "$FULLDOMAIN" TXT --edns 0 --cookie "${C1}$(printf '00%.0s' $(seq 1 17))")	# 41 bytes
check_re cookie_malformed_41_bytes_formerr "$r" 'opt_count=1 rcode=FORMERR'

# NOTIMP carries OPT when the query had one, and none when it had none
check_re notimp_carries_opt "$(dw query "$Z" SOA --opcode 4 --edns 0)" 'opt_count=1 rcode=NOTIMP'
check_re notimp_no_opt_without_edns "$(dw query "$Z" SOA --opcode 4)" 'opt_count=0 rcode=NOTIMP'
# FORMERR carries OPT when the query's OPT was readable (QTYPE OPT), none when not (two OPTs)
check_re formerr_carries_opt "$(dw query "$Z" OPT --edns 0)" 'opt_count=1 rcode=FORMERR'
check_re formerr_unreadable_opt_none "$(dw query "$Z" SOA --edns 0 --opt2)" 'opt_count=0 rcode=FORMERR'
stop_dns01d

# cookies = false: the option is ignored
start_default "cookies = false" || { fail start_nocookies "dns01d did not start"; t_done; }
r=$(q "$Z" SOA +cookie="$CC")
check_match cookies_off_answered "$r" 'status: NOERROR'
check_eq cookies_off_no_cookie "$(cookie "$r")" ""
t_done
