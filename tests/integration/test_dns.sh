#!/usr/bin/env bash
# tests/integration/test_dns.sh -- every DNS answer of docs/dns.md, with dig, kdig and
# hand-made packets (dnswire.py)
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

AA='flags~(^|,)aa(,|$)'
NOAA='flags!(^|,)aa(,|$)'
TC='flags~(^|,)tc(,|$)'
NOTC='flags!(^|,)tc(,|$)'
Z=auth.example.org

# A static TXT record bigger than 1232 bytes (six 250-byte strings, mixed case), and an MX
# below the apex (so the apex itself has no MX).
big=""
for i in 1 2 3 4 5 6; do big="$big \\\"Big$i$(printf 'aBcDeFgHiJ%.0s' $(seq 1 24))xYz$i\\\""; done
EXTRA_RECORDS="    \"big.$Z. TXT$big\",
    \"mail.$Z. MX 10 mx.example.net.\","
start_default "" "txt_values = 16" || { fail start "dns01d did not start"; t_done; }

register_ok || fail register "no account"
A_NAME=$FULLDOMAIN A_SUB=$SUBDOMAIN
V1=$(txt43 d1) V2=$(txt43 d2)
update "$V1" >/dev/null
update "$V2" >/dev/null
register_ok || fail register "no account"
B_NAME=$FULLDOMAIN
register_ok || fail register "no account"
C_NAME=$FULLDOMAIN
for i in $(seq 1 16); do update "$(txt43 "c$i")" >/dev/null; done

# --- positive answers ----------------------------------------------------------------
r=$(dw query "$A_NAME" TXT)
check_kv txt_hit_aa_two_values "$r" rcode=NOERROR "$AA" an=2 ans_types=TXT,TXT ns=0
check_kv txt_hit_ttl_1 "$r" ans_ttls=1,1
check_eq txt_hit_values "$(txt_values "$A_NAME")" "$(sorted "$V1" "$V2")"
r=$(kdig +norec -p "$DNS_PORT" @127.0.0.1 "$A_NAME" TXT)
check_match kdig_txt_hit_aa "$r" 'status: NOERROR'
check_match kdig_txt_hit_flags "$r" 'Flags: qr aa'
r=$(dw query "$Z" SOA)
check_kv soa_at_apex "$r" rcode=NOERROR "$AA" an=1 ans_types=SOA soa_minimum=60
check_eq soa_mname_rname "$(q "$Z" SOA +short | awk '{ print $1, $2 }')" "$Z. admin.example.org."
check_eq ns_at_apex "$(q "$Z" NS +short)" "$Z."
check_eq static_a "$(q "$Z" A +short)" "198.51.100.1"
check_eq static_aaaa "$(q "$Z" AAAA +short)" "2001:db8::1"
check_eq static_caa "$(q "$Z" CAA +short)" '0 issue "letsencrypt.org"'
check_eq static_mx "$(q "mail.$Z" MX +short)" "10 mx.example.net."
r=$(dw query "www.$Z" A)
check_kv cname_with_target_in_zone "$r" rcode=NOERROR "$AA" ans_types=CNAME,A
check_eq cname_chain_data "$(q "www.$Z" A +short | tr '\n' ' ')" "$Z. 198.51.100.1 "
check_match static_txt_case_kept "$(q "dkim._domainkey.$Z" TXT +short)" 'p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDMixedCase'

# --- refused: outside the zone -------------------------------------------------------
r=$(dw query example.com TXT)
check_kv refused_out_of_zone "$r" rcode=REFUSED "$NOAA" an=0
r=$(dw query example.org SOA)
check_kv refused_parent_zone "$r" rcode=REFUSED "$NOAA"
r=$(dw query "$A_SUB.other.zone" TXT)
check_kv refused_registered_label_in_other_zone "$r" rcode=REFUSED "$NOAA" an=0
r=$(dw query "$A_SUB.example.org" TXT)
check_kv refused_registered_label_under_parent "$r" rcode=REFUSED "$NOAA" an=0
r=$(dw query "$A_NAME.evil.test" TXT)
check_kv refused_zone_as_prefix "$r" rcode=REFUSED "$NOAA" an=0
r=$(dw query "x$Z" A)
check_kv refused_suffix_not_on_label_boundary "$r" rcode=REFUSED "$NOAA"
r=$(q example.com TXT)
check_match dig_refused_out_of_zone "$r" 'status: REFUSED'
check_match dig_refused_without_aa "$(echo "$r" | grep '^;; flags:')" '^;; flags: qr;'

# --- NODATA: the name exists, not this type --------------------------------------------
r=$(dw query "$A_NAME" A)
check_kv nodata_challenge_name_other_type "$r" rcode=NOERROR "$AA" an=0 auth_types=SOA
r=$(dw query "$B_NAME" TXT)
check_kv nodata_registered_without_value "$r" rcode=NOERROR "$AA" an=0 auth_types=SOA
r=$(dw query "$Z" MX)
check_kv nodata_apex_mx "$r" rcode=NOERROR "$AA" an=0 auth_types=SOA
r=$(dw query "$Z" TXT)
check_kv nodata_apex_txt "$r" rcode=NOERROR "$AA" an=0 auth_types=SOA
r=$(dw query "dkim._domainkey.$Z" A)
check_kv nodata_static_name_other_type "$r" rcode=NOERROR "$AA" an=0 auth_types=SOA
r=$(dw query "_domainkey.$Z" TXT)
check_kv nodata_empty_non_terminal "$r" rcode=NOERROR "$AA" an=0 auth_types=SOA
check_kv nodata_soa_ttl_60 "$(dw query "$A_NAME" AAAA)" auth_ttls=60 soa_minimum=60

# --- NXDOMAIN: the name does not exist -------------------------------------------------
r=$(dw query "nonexistent.$Z" A)
check_kv nxdomain_in_zone "$r" rcode=NXDOMAIN "$AA" an=0 auth_types=SOA
check_kv nxdomain_soa_ttl_60 "$r" auth_ttls=60 soa_minimum=60
r=$(dw query "x.$A_NAME" TXT)
check_kv nxdomain_below_challenge_name "$r" rcode=NXDOMAIN "$AA" an=0 auth_types=SOA
r=$(dw query "$(cat /proc/sys/kernel/random/uuid).$Z" TXT)
check_kv nxdomain_unregistered_uuid "$r" rcode=NXDOMAIN "$AA" auth_types=SOA
r=$(dw query "x.www.$Z" A)
check_kv nxdomain_below_cname "$r" rcode=NXDOMAIN auth_types=SOA
r=$(q "nonexistent.$Z" A)
check_match dig_nxdomain "$r" 'status: NXDOMAIN'
check_match dig_nxdomain_soa_in_authority "$(echo "$r" | sed -n '/AUTHORITY SECTION/,/^$/p')" "^$Z\.[[:space:]]+60[[:space:]]+IN[[:space:]]+SOA"

# --- case: 0x20 echoed, names matched case-insensitively -------------------------------
r=$(dw query AuTh.ExAmPlE.oRg SOA)
check_kv case_0x20_question_echoed "$r" rcode=NOERROR qname=AuTh.ExAmPlE.oRg. an=1
MIXED=$(printf '%s' "$A_NAME" | python3 -c 'import sys; s = sys.stdin.read(); print("".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(s)))')
r=$(dw query "$MIXED" TXT)
check_kv case_mixed_challenge_name_hit "$r" rcode=NOERROR an=2 "qname=$MIXED."
r=$(q AuTh.ExAmPlE.oRg SOA)
check_match dig_case_question_echoed "$(echo "$r" | sed -n '/QUESTION SECTION/,/^$/p')" '^;AuTh\.ExAmPlE\.oRg\.'
# (kdig 3.2 lower-cases the name before sending it, so it cannot show 0x20.)
r=$(dw query NONEXISTENT.AuTh.ExAmPlE.oRg A)
check_kv case_echoed_in_nxdomain "$r" rcode=NXDOMAIN qname=NONEXISTENT.AuTh.ExAmPlE.oRg.

# --- EDNS0 (RFC 6891) ------------------------------------------------------------------
r=$(dw query "$Z" SOA --edns 0 --bufsize 4096)
check_kv edns_payload_1232_advertised "$r" rcode=NOERROR opt_count=1 opt_udp=1232 opt_version=0 opt_owner=.
check_match dig_edns_udp_1232 "$(q "$Z" SOA +edns=0)" 'EDNS: version: 0, flags:.*udp: 1232'
r=$(dw query "$Z" SOA --edns 1)
check_kv edns_badvers "$r" rcode=BADVERS opt_version=0 an=0
check_match dig_edns_badvers "$(q "$Z" SOA +edns=1 +noednsnegotiation)" 'status: BADVERS'
r=$(dw query "$Z" SOA --edns 0 --opt2)
check_kv edns_two_opt_formerr "$r" rcode=FORMERR
r=$(dw query "$Z" SOA --edns 0 --optowner "$Z")
check_kv edns_opt_owner_not_root_formerr "$r" rcode=FORMERR
r=$(dw query "$A_NAME" TXT --edns 0 --do)
check_kv edns_do_bit_echoed "$r" rcode=NOERROR opt_do=1 an=2
r=$(dw query "$A_NAME" TXT --edns 0)
check_kv edns_do_bit_clear "$r" rcode=NOERROR opt_do=0
check_match dig_dnssec_do_echoed "$(q "$Z" SOA +dnssec)" 'EDNS: version: 0, flags: do;'
r=$(dw query "$Z" SOA)
check_kv no_opt_without_edns "$r" opt_count=0
check_match edns_unknown_option_ignored "$(q "$Z" SOA +ednsopt=65001:abcd)" 'status: NOERROR'

# --- truncation and TCP --------------------------------------------------------------
r=$(dw query "$C_NAME" TXT)
check_kv tc_without_edns_over_512 "$r" rcode=NOERROR "$TC" an=0
n=$(kv size "$r")
check tc_answer_fits_512 [ "${n:-9999}" -le 512 ]
r=$(dw query "$C_NAME" TXT --edns 0 --bufsize 512)
check_kv tc_with_edns_512 "$r" "$TC" an=0 opt_count=1
r=$(dw query "$C_NAME" TXT --edns 0 --bufsize 1232)
check_kv no_tc_with_edns_1232 "$r" rcode=NOERROR "$NOTC" an=16
r=$(dw query "$A_NAME" TXT --edns 0 --bufsize 100)
check_kv edns_payload_below_512_counts_as_512 "$r" rcode=NOERROR "$NOTC" an=2
r=$(dw query "$C_NAME" TXT --tcp)
check_kv tcp_full_answer "$r" rcode=NOERROR "$NOTC" an=16
check_match dig_tc_flag "$(q "$C_NAME" TXT +noedns +ignore)" 'flags: qr aa tc;'
check_eq dig_retries_over_tcp "$(q "$C_NAME" TXT +noedns +short | wc -l)" 16
check_eq kdig_tcp_16_values "$(kdig +tcp +norec +short -p "$DNS_PORT" @127.0.0.1 "$C_NAME" TXT | wc -l)" 16
r=$(dw query "big.$Z" TXT --edns 0 --bufsize 1232)
check_kv tc_over_1232_with_edns "$r" "$TC" an=0
r=$(dw query "big.$Z" TXT --tcp)
check_kv tcp_big_static_txt "$r" rcode=NOERROR "$NOTC" an=1 'size~^1[0-9]{3}$'
check_match dig_big_txt_over_tcp_case_kept "$(q "big.$Z" TXT +short)" 'Big6aBcDeFgHiJ.*xYz6'

# --- ANY (RFC 8482), zone transfer, classes, opcodes -------------------------------------
r=$(dw query "$Z" ANY)
check_kv any_at_apex_answered "$r" rcode=NOERROR "$AA" 'an~^[1-9]'
types=$(kv ans_types "$r" | tr ',' '\n' | sort -u | wc -l)
check_eq any_at_apex_one_rrset_only "$types" 1
r=$(dw query "$A_NAME" ANY)
check_kv any_at_challenge_name "$r" rcode=NOERROR 'an~^[12]$' 'ans_types~^(TXT|HINFO)(,TXT)?$'
r=$(dw query "$Z" AXFR --tcp)
check_kv axfr_refused "$r" rcode=REFUSED an=0
r=$(dw query "$Z" IXFR --tcp)
check_kv ixfr_refused "$r" rcode=REFUSED an=0
r=$(dw query "$Z" SOA --qclass 3)
check_kv class_chaos_refused "$r" rcode=REFUSED an=0
r=$(dw query "$Z" SOA --opcode 2)
check_kv opcode_status_notimp "$r" rcode=NOTIMP opcode=2
r=$(dw query "$Z" SOA --opcode 4)
check_kv opcode_notify_notimp "$r" rcode=NOTIMP opcode=4
r=$(dw query "$Z" SOA --opcode 5)
check_kv opcode_update_notimp "$r" rcode=NOTIMP
r=$(dw query "$Z" SOA --rd --id 777)
check_kv rd_copied_no_ra_id_echoed "$r" rcode=NOERROR id=777 'flags~(^|,)rd(,|$)' 'flags!(^|,)ra(,|$)'

# --- malformed packets: FORMERR or silence, never a crash --------------------------------
r=$(dw --timeout 1 query "$Z" SOA --truncate 5)
check_eq malformed_short_header_dropped "$r" "timeout=1"
r=$(dw --timeout 1 query "$Z" SOA --qdcount 2)
check_re malformed_qdcount_2 "$r" '^timeout=1$|rcode=FORMERR'
r=$(dw --timeout 1 query "$Z" SOA --qdcount 0)
check_re malformed_qdcount_0 "$r" '^timeout=1$|rcode=FORMERR'
r=$(dw --timeout 1 query "$Z" SOA --truncate 20)
check_re malformed_question_cut_short "$r" '^timeout=1$|rcode=FORMERR'
r=$(dw --timeout 1 query --hex 123400000001000000000000c00c00060001)
check_re malformed_compression_loop "$r" '^timeout=1$|rcode=FORMERR'
r=$(dw --timeout 1 query --hex 1234000000010000000000003f)
check_re malformed_label_past_end "$r" '^timeout=1$|rcode=FORMERR'
r=$(dw --timeout 1 query "$Z" SOA --qr)
check_eq response_packet_dropped "$r" "timeout=1"
r=$(dw fuzz --count 400 --seed 20261124 --valid "$A_NAME")
check_match fuzz_packets_sent "$r" '^sent=400 '
r=$(dw query "$A_NAME" TXT)
check_kv server_answers_after_malformed "$r" rcode=NOERROR an=2

t_done
