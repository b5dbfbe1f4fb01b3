#!/usr/bin/env bash
# tests/integration/test_validation_persist.sh -- /persist (dns-persist-01 records): every
# error code, auth, replace, limit, GET, DELETE, the TXT at _validation-persist.<sub> (TTL,
# 255-byte character-strings on the wire), apart from /update's values, and a restart.
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

start_default || { fail start "dns01d did not start"; t_done; }
register_ok || fail register "no account"
PNAME=_validation-persist.$FULLDOMAIN
H=(-H "X-Api-User: $USERNAME" -H "X-Api-Key: $PASSWORD")
# body VALUE: a POST body for our subdomain (VALUE is put in a JSON string by python).
body() { python3 -c 'import json,sys; print(json.dumps({"subdomain": sys.argv[1], "value": sys.argv[2]}))' "$SUBDOMAIN" "$1"; }
# post VALUE: POST /persist as our account; prints "STATUS BODY".
post() { api POST /persist "$(body "$1")" "${H[@]}"; }
# want_err NAME STATUS CODE VALUE: POST VALUE gets STATUS {"error":"CODE"}.
want_err() { check_eq "$1" "$(post "$4")" "$2 {\"error\":\"$3\"}"; }

# --- Each kind of bad input has its own code. ---
want_err persist_empty_value 400 bad_persist_value ""
want_err persist_control_character 400 bad_persist_value "$(printf 'ca.example; accounturi=a\001')"
want_err persist_non_ascii 400 bad_persist_value "ca.example; accounturi=é"
long="ca.example; accounturi=https://ca.example/$(head -c 1100 /dev/zero | tr '\0' a)"
want_err persist_too_long_1025 400 persist_value_too_long "${long:0:1025}"
want_err persist_no_issuer 400 bad_issuer "; accounturi=https://ca.example/acct/1"
want_err persist_issuer_empty_label 400 bad_issuer "ca..example; accounturi=x"
want_err persist_issuer_leading_hyphen 400 bad_issuer "-ca.example; accounturi=x"
want_err persist_issuer_trailing_dot 400 bad_issuer "ca.example.; accounturi=x"
want_err persist_issuer_runs_on 400 bad_issuer "ca.example x; accounturi=x"
want_err persist_param_without_equals 400 bad_persist_parameter "ca.example; accounturi"
want_err persist_param_without_tag 400 bad_persist_parameter "ca.example; =x"
want_err persist_param_trailing_semicolon 400 bad_persist_parameter "ca.example; accounturi=x;"
want_err persist_param_space_in_value 400 bad_persist_parameter "ca.example; accounturi=a b"
want_err persist_duplicate_tag 400 duplicate_persist_parameter "ca.example; accounturi=a; AccountURI=b"
want_err persist_no_params 400 missing_accounturi "ca.example"
want_err persist_no_accounturi 400 missing_accounturi "ca.example; policy=wildcard"
want_err persist_empty_accounturi 400 missing_accounturi "ca.example; accounturi="
want_err persist_until_not_digits 400 bad_persist_until "ca.example; accounturi=x; persistUntil=soon"
want_err persist_until_empty 400 bad_persist_until "ca.example; accounturi=x; persistUntil="
check_eq persist_not_json "$(api POST /persist '{"subdomain":' "${H[@]}")" '400 {"error":"malformed_json_payload"}'
check_eq persist_value_not_string "$(api POST /persist "{\"subdomain\":\"$SUBDOMAIN\",\"value\":5}" "${H[@]}")" \
	'400 {"error":"malformed_json_payload"}'
check_eq persist_bad_subdomain "$(api POST /persist '{"subdomain":"a_b","value":"ca.example; accounturi=x"}' "${H[@]}")" \
	'400 {"error":"bad_subdomain"}'
check_eq persist_get_without_subdomain "$(api GET /persist "" "${H[@]}")" '400 {"error":"bad_subdomain"}'
check_eq persist_delete_bad_issuer "$(api DELETE /persist "{\"subdomain\":\"$SUBDOMAIN\",\"issuer\":\"ca example\"}" "${H[@]}")" \
	'400 {"error":"bad_issuer"}'
check_eq persist_delete_missing_issuer "$(api DELETE /persist "{\"subdomain\":\"$SUBDOMAIN\"}" "${H[@]}")" \
	'400 {"error":"bad_issuer"}'
check_eq persist_delete_not_found "$(api DELETE /persist "{\"subdomain\":\"$SUBDOMAIN\",\"issuer\":\"none.example\"}" "${H[@]}")" \
	'404 {"error":"persist_not_found"}'
http PUT /persist "{}" "${H[@]}"
check_eq persist_put_is_405 "$H_STATUS $(header Allow)" "405 GET, POST, DELETE, OPTIONS"
check_eq persist_nothing_stored_by_errors "$(q "$PNAME" TXT +short)" ""

# --- Authentication, exactly as /update: every failure is the same 401. ---
F='401 {"error":"forbidden"}'
V1="ca.example; accounturi=https://ca.example/acct/1"
check_eq persist_no_credentials "$(api POST /persist "$(body "$V1")")" "$F"
check_eq persist_wrong_key "$(api POST /persist "$(body "$V1")" -H "X-Api-User: $USERNAME" -H "X-Api-Key: $(wrong_key "$PASSWORD")")" "$F"
check_eq persist_get_wrong_key "$(api GET "/persist?subdomain=$SUBDOMAIN" "" -H "X-Api-User: $USERNAME" -H "X-Api-Key: $(wrong_key "$PASSWORD")")" "$F"
check_eq persist_delete_wrong_key "$(api DELETE /persist "{\"subdomain\":\"$SUBDOMAIN\",\"issuer\":\"ca.example\"}" -H "X-Api-User: $USERNAME" -H "X-Api-Key: $(wrong_key "$PASSWORD")")" "$F"
A_USER=$USERNAME A_KEY=$PASSWORD A_SUB=$SUBDOMAIN A_FULL=$FULLDOMAIN
register_ok '{"allowfrom":["192.0.2.0/24"]}' || fail register_allowfrom "no account"
check_eq persist_allowfrom_refused "$(api POST /persist "{\"subdomain\":\"$SUBDOMAIN\",\"value\":\"$V1\"}" \
	-H "X-Api-User: $USERNAME" -H "X-Api-Key: $PASSWORD")" "$F"
B_SUB=$SUBDOMAIN
check_eq persist_other_accounts_subdomain "$(api POST /persist "{\"subdomain\":\"$B_SUB\",\"value\":\"$V1\"}" \
	-H "X-Api-User: $A_USER" -H "X-Api-Key: $A_KEY")" "$F"
check_eq persist_get_other_accounts_subdomain "$(api GET "/persist?subdomain=$B_SUB" "" \
	-H "X-Api-User: $A_USER" -H "X-Api-Key: $A_KEY")" "$F"
USERNAME=$A_USER PASSWORD=$A_KEY SUBDOMAIN=$A_SUB FULLDOMAIN=$A_FULL

# --- Store, serve, replace. ---
r=$(post "$V1")
check_eq persist_post_200 "${r%% *}" 200
check_eq persist_reply_record "$(printf '%s' "${r#* }" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["record"]["issuer"], d["fqdn"], len(d["records"]))')" \
	"ca.example $PNAME 1"
d=$(dw query "$PNAME" TXT)
check_kv persist_served_with_default_ttl "$d" rcode=NOERROR flags~aa an=1 ans_ttls=3600 txt_lens=48
check_eq persist_served_value "$(q "$PNAME" TXT +short)" "\"$V1\""
check_kv persist_name_case_insensitive "$(dw query "_VALIDATION-Persist.$(echo "$FULLDOMAIN" | tr a-z A-Z)" TXT)" rcode=NOERROR an=1
check_kv persist_other_type_nodata "$(dw query "$PNAME" A)" rcode=NOERROR an=0 auth_types=SOA
check_kv persist_other_account_nxdomain "$(dw query "_validation-persist.$B_SUB.auth.example.org" TXT)" rcode=NXDOMAIN
V2="CA.Example; accounturi=https://ca.example/acct/2; policy=wildcard; persistUntil=1900000000"
check_eq persist_replace_same_issuer "$(post "$V2" | cut -d' ' -f1)" 200
check_eq persist_replaced_served "$(q "$PNAME" TXT +short)" "\"$V2\""
check_eq persist_get_lists_one "$(api GET "/persist?subdomain=$SUBDOMAIN" "" "${H[@]}" | cut -d' ' -f2- |
	python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["records"]), d["records"][0]["issuer"], d["records"][0]["value"])')" \
	"1 ca.example $V2"

# --- Apart from /update: values at <sub>, records at _validation-persist.<sub>; no rotation. ---
T1=$(txt43 pv1) T2=$(txt43 pv2) T3=$(txt43 pv3)
for t in "$T1" "$T2" "$T3"; do update "$t" >/dev/null; done
check_eq persist_txt_values_apart "$(txt_values "$FULLDOMAIN")" "$(sorted "$T2" "$T3")"
check_eq persist_not_rotated_by_update "$(q "$PNAME" TXT +short)" "\"$V2\""

# --- 1024 bytes: one TXT RR of five character-strings (255+255+255+255+4), on the wire. ---
big="ca.example; accounturi=https://ca.example/$(head -c 1100 /dev/zero | tr '\0' a)"
big=${big:0:1024}
check_eq persist_1024_bytes_200 "$(post "$big" | cut -d' ' -f1)" 200
d=$(dw query "$PNAME" TXT --tcp)
check_kv persist_split_into_255_byte_strings "$d" an=1 txt_lens=255+255+255+255+4 \
	txt_sha="$(printf '%s' "$big" | sha256sum | cut -c1-16)"
check_kv persist_big_fits_edns_udp "$(dw query "$PNAME" TXT --edns 0 --bufsize 1232)" an=1 flags!tc txt_lens=255+255+255+255+4
check_kv persist_big_truncated_without_edns "$(dw query "$PNAME" TXT)" flags~tc
check_eq persist_dig_sees_strings "$(q "$PNAME" TXT +tcp +short | grep -o '" "' | wc -l)" 4

# --- At most 8 issuers; the 9th gets its code; DELETE makes room. ---
for i in 2 3 4 5 6 7 8; do
	r=$(post "ca$i.example; accounturi=https://ca$i.example/acct/$i")
	[ "${r%% *}" = 200 ] || fail "persist_issuer_$i" "$r"
done
check_eq persist_ninth_issuer_refused "$(post "ca9.example; accounturi=x")" '400 {"error":"persist_limit_reached"}'
check_eq persist_replace_when_full "$(post "ca8.example; accounturi=y" | cut -d' ' -f1)" 200
check_kv persist_eight_rrs_over_tcp "$(dw query "$PNAME" TXT --tcp)" an=8 flags!tc
r=$(api DELETE /persist "{\"subdomain\":\"$SUBDOMAIN\",\"issuer\":\"CA2.example\"}" "${H[@]}")
check_eq persist_delete_200 "$(printf '%s' "$r" | cut -d' ' -f2- | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["records"]))')" 7
check_kv persist_delete_served "$(dw query "$PNAME" TXT --tcp)" an=7
check_eq persist_ninth_after_delete "$(post "ca9.example; accounturi=x" | cut -d' ' -f1)" 200
check_eq persist_get_lists_eight "$(api GET "/persist?subdomain=$SUBDOMAIN" "" "${H[@]}" | cut -d' ' -f2- |
	python3 -c 'import json,sys; print(len(json.load(sys.stdin)["records"]))')" 8

# --- A restart keeps them (and persist_ttl is read from the config). ---
before=$(q "$PNAME" TXT +tcp +short | sort | sha256sum)
stop_dns01d
write_config "$CFG" "persist_ttl = 77"
if start_dns01d "$CFG"; then
	check_eq persist_survives_restart "$(q "$PNAME" TXT +tcp +short | sort | sha256sum)" "$before"
	check_kv persist_ttl_from_config "$(dw query "$PNAME" TXT --tcp)" an=8 ans_ttls~'^77(,77){7}$'
	check_kv persist_txt_ttl_unchanged "$(dw query "$FULLDOMAIN" TXT)" ans_ttls=1,1
	check_eq persist_still_not_in_txt "$(txt_values "$FULLDOMAIN")" "$(sorted "$T2" "$T3")"
else
	fail persist_survives_restart "dns01d did not start again"
fi
check_eq persist_table_in_sqlite "$(sqlite3 "$DB" "SELECT count(*) FROM dns01d_persist WHERE Subdomain = '$SUBDOMAIN'")" 8
t_done
