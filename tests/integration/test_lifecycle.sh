#!/usr/bin/env bash
# tests/integration/test_lifecycle.sh -- account lifecycle over the API (DELETE /update clears,
# DELETE /register deregisters, the /register note), with their wire bytes and refusals, and
# value expiry ([general] txt_expiry).
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

JSON_CT='^application/json'
rcode() { q "$1" TXT | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
answers() { q "$1" TXT | sed -n 's/.*ANSWER: \([0-9]*\),.*/\1/p'; }

start_default "txt_expiry = 2" || { fail start "dns01d did not start"; t_done; }

# --- /register with a note: stored, never echoed --------------------------------------
http POST /register '{"note":"ci runner 7"}'
check_re register_note_reply_unchanged "$H_STATUS $H_BODY" \
	'^201 \{"username":"[0-9a-f-]{36}","password":"[A-Za-z0-9_-]{40}","fulldomain":"[0-9a-f-]{36}\.auth\.example\.org","subdomain":"[0-9a-f-]{36}","allowfrom":\[\]\}$'
sub=$(printf '%s' "$H_BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["subdomain"])')
check_eq register_note_stored "$("$DNS01D_BIN" admin -c "$CFG" show "$sub" | sed -n 's/^note: //p')" "ci runner 7"
http POST /register '{"note":"bad\u0007bell"}'
check_eq register_note_control_char_400 "$H_STATUS $H_BODY" '400 {"error":"bad_note"}'
check_re register_note_error_json "$H_CT" "$JSON_CT"
http POST /register "{\"note\":\"$(head -c 257 /dev/zero | tr '\0' n)\"}"
check_eq register_note_too_long_400 "$H_STATUS $H_BODY" '400 {"error":"bad_note"}'
http POST /register '{"note":7}'
check_eq register_note_not_string_400 "$H_STATUS $H_BODY" '400 {"error":"malformed_json_payload"}'
http POST /register '{"note":null}'
check_eq register_note_null_201 "$H_STATUS" 201

# --- DELETE /update: the values go, the name answers NODATA ----------------------------
register_ok '{"allowfrom":["127.0.0.0/8"]}' || fail register "no account"
V=$(txt43 life1)
update_as "$USERNAME" "$PASSWORD" "$SUBDOMAIN" "$V" >/dev/null
check_eq clear_served_before "$(txt_values "$FULLDOMAIN")" "$V"
WRONG=$(wrong_key "$PASSWORD")
http DELETE /update '' -H "X-Api-User: $USERNAME" -H "X-Api-Key: $WRONG"
check_eq clear_wrong_key_401 "$H_STATUS $H_BODY" '401 {"error":"forbidden"}'
http DELETE /update '' -H "X-Api-User: 00000000-0000-4000-8000-000000000000" -H "X-Api-Key: $PASSWORD"
check_eq clear_unknown_user_401 "$H_STATUS $H_BODY" '401 {"error":"forbidden"}'
http DELETE /update '' -H "X-Api-User: $USERNAME"
check_eq clear_no_key_401 "$H_STATUS $H_BODY" '401 {"error":"forbidden"}'
check_eq clear_refused_still_served "$(txt_values "$FULLDOMAIN")" "$V"
http DELETE /update '' -H "X-Api-User: $USERNAME" -H "X-Api-Key: $PASSWORD"
check_eq clear_200_wire "$H_STATUS $H_BODY" "200 {\"subdomain\":\"$SUBDOMAIN\",\"cleared\":true}"
check_re clear_content_type_json "$H_CT" "$JSON_CT"
check_eq clear_nodata_at_once "$(rcode "$FULLDOMAIN") $(answers "$FULLDOMAIN")" "NOERROR 0"
check_eq clear_again_200 "$(api DELETE /update '' -H "X-Api-User: $USERNAME" -H "X-Api-Key: $PASSWORD" | cut -c1-3)" 200
V2=$(txt43 life2)
check_eq clear_then_update_200 "$(update_as "$USERNAME" "$PASSWORD" "$SUBDOMAIN" "$V2")" "200 {\"txt\":\"$V2\"}"
check_eq clear_then_served "$(txt_values "$FULLDOMAIN")" "$V2"

# --- allowfrom applies to DELETE as to /update ------------------------------------------
register_ok '{"allowfrom":["192.0.2.0/24"]}' || fail register "no account"
O_USER=$USERNAME O_KEY=$PASSWORD O_SUB=$SUBDOMAIN O_NAME=$FULLDOMAIN
http DELETE /register '' -H "X-Api-User: $O_USER" -H "X-Api-Key: $O_KEY"
check_eq deregister_allowfrom_refused_401 "$H_STATUS $H_BODY" '401 {"error":"forbidden"}'
check_eq deregister_refused_name_stays "$(rcode "$O_NAME")" NOERROR

# --- DELETE /register: NXDOMAIN, the credentials stop working ----------------------------
register_ok || fail register "no account"
update_as "$USERNAME" "$PASSWORD" "$SUBDOMAIN" "$V" >/dev/null
http DELETE /register '' -H "X-Api-User: $USERNAME" -H "X-Api-Key: x$PASSWORD"
check_eq deregister_wrong_key_401 "$H_STATUS $H_BODY" '401 {"error":"forbidden"}'
http DELETE /register '{"ignored":true}' -H "X-Api-User: $USERNAME" -H "X-Api-Key: $PASSWORD"
check_eq deregister_200_wire "$H_STATUS $H_BODY" "200 {\"subdomain\":\"$SUBDOMAIN\",\"deleted\":true}"
check_re deregister_content_type_json "$H_CT" "$JSON_CT"
check_eq deregister_nxdomain_at_once "$(rcode "$FULLDOMAIN")" NXDOMAIN
check_eq deregister_update_401 "$(update_as "$USERNAME" "$PASSWORD" "$SUBDOMAIN" "$V")" '401 {"error":"forbidden"}'
http DELETE /register '' -H "X-Api-User: $USERNAME" -H "X-Api-Key: $PASSWORD"
check_eq deregister_twice_401 "$H_STATUS $H_BODY" '401 {"error":"forbidden"}'
http DELETE /update '' -H "X-Api-User: $USERNAME" -H "X-Api-Key: $PASSWORD"
check_eq deregister_then_clear_401 "$H_STATUS $H_BODY" '401 {"error":"forbidden"}'
http PUT /register '{}'
check_eq register_put_405_allow "$H_STATUS $(header Allow)" '405 POST, DELETE, OPTIONS'
check_eq deregister_logged "$(grep -c "$SUBDOMAIN: deregistered by its owner" "$T_DIR/dns01d.log")" 1

# --- txt_expiry = 2: a value is no longer served after 2 s --------------------------------
register_ok || fail register "no account"
E=$(txt43 expiring)
t0=$(date +%s%N)
update_as "$USERNAME" "$PASSWORD" "$SUBDOMAIN" "$E" >/dev/null
check_eq expiry_served_at_first "$(txt_values "$FULLDOMAIN")" "$E"
gone=""
for _ in $(seq 1 60); do	# at most 6 s: 2 s, plus 1 s of LastUpdate resolution, plus the sweep
	if [ -z "$(txt_values "$FULLDOMAIN")" ]; then
		gone=$(( ($(date +%s%N) - t0) / 1000000 ))
		break
	fi
	sleep 0.1
done
if [ -z "$gone" ]; then
	fail expiry_gone_after_2s "still served 6 s later"
elif [ "$gone" -lt 2000 ]; then
	fail expiry_not_before_2s "gone after $gone ms"
else
	ok expiry_gone_after_2s
	echo "# txt_expiry = 2: value gone $gone ms after the update"
fi
check_eq expiry_nodata "$(rcode "$FULLDOMAIN") $(answers "$FULLDOMAIN")" "NOERROR 0"
check_eq expiry_dropped_from_storage "$("$DNS01D_BIN" admin -c "$CFG" show "$SUBDOMAIN" | grep -c '^txt: ')" 0
check_eq expiry_account_works "$(update_as "$USERNAME" "$PASSWORD" "$SUBDOMAIN" "$V2")" "200 {\"txt\":\"$V2\"}"
stop_dns01d

# --- registration disabled: DELETE /register still deregisters ---------------------------
DISABLE_REG=true
write_config "$CFG"
start_dns01d "$CFG" || { fail restart "dns01d did not start"; t_done; }
http POST /register '{}'
check_eq disabled_register_404 "$H_STATUS" 404
USERNAME=$O_USER PASSWORD=$O_KEY SUBDOMAIN=$O_SUB
http DELETE /register '' -H "X-Api-User: $O_USER" -H "X-Api-Key: $O_KEY"
check_eq disabled_deregister_allowfrom_still_401 "$H_STATUS" 401
t_done
