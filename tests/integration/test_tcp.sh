#!/usr/bin/env bash
# tests/integration/test_tcp.sh -- DNS over TCP per RFC 7766: pipelining, answers in order,
# partial writes, idle timeout (tcp_idle_timeout = 2)
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

Z=auth.example.org
start_default "tcp_idle_timeout = 2" || { fail start "dns01d did not start"; t_done; }
register_ok || fail register "no account"
update "$(txt43 t1)" >/dev/null

# --- several queries in one write, answered in order on one connection ---------------------
r=$(dw pipeline "$Z:SOA" "$FULLDOMAIN:TXT" "nope.$Z:A")
check_eq tcp_pipelined_three_answers "$(echo "$r" | grep -c 'rcode=')" 3
check_eq tcp_pipelined_ids_in_order "$(echo "$r" | sed -n 's/^id=\([0-9]*\) .*/\1/p' | tr '\n' ' ')" "1000 1001 1002 "
check_eq tcp_pipelined_rcodes "$(for l in 1 2 3; do kv rcode "$(echo "$r" | sed -n "${l}p")"; done | tr '\n' ' ')" \
	"NOERROR NOERROR NXDOMAIN "
check_eq tcp_pipelined_txt_answer "$(kv an "$(echo "$r" | sed -n 2p)")" 1

specs=()
for i in $(seq 1 20); do specs+=("$FULLDOMAIN:TXT"); done
r=$(dw pipeline "${specs[@]}")
check_eq tcp_pipelined_twenty "$(echo "$r" | grep -c 'rcode=NOERROR')" 20

r=$(dw pipeline --bytewise "$Z:SOA" "$FULLDOMAIN:TXT")
check_eq tcp_byte_by_byte_writes "$(echo "$r" | grep -c 'rcode=NOERROR')" 2

# --- idle timeout (RFC 7766 §6.2.3) ----------------------------------------------------
r=$(dw idle --max 8)
check_re tcp_idle_connection_closed "$r" '^closed=1 after=[1-4]\.'
r=$(dw idle --query "$Z:SOA" --max 8)
check_re tcp_idle_after_query_closed "$r" '^closed=1 after=[1-4]\..* got=[1-9]'
r=$(dw idle --send $'\x01\x40abc' --max 8)
check_re tcp_partial_message_closed "$r" '^closed=1 after=[1-4]\.'

# --- the server is still fine after all that --------------------------------------------
check_kv tcp_answers_after_idle_closes "$(dw query "$FULLDOMAIN" TXT --tcp)" rcode=NOERROR an=1
check_kv udp_answers_after_tcp_tests "$(dw query "$FULLDOMAIN" TXT)" rcode=NOERROR an=1

t_done
