#!/usr/bin/env bash
# tests/integration/test_api_wire.sh -- the acme-dns wire contract of /register, /update, /health
# SPDX-License-Identifier: ISC
# One check per point of docs/api.md and ../shared/reference/acme-dns-api.md: exact JSON,
# status and error codes, Content-Type handling, body limits, 404/405, CORS.
. "$(dirname "$0")/lib.sh"

UUID4='[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
JSON_CT='^application/json(;.*)?$'

start_default || { fail start "dns01d did not start"; t_done; }

# --- /register ----------------------------------------------------------------
http POST /register ""
check_eq register_empty_body_201 "$H_STATUS" 201
check_re register_exact_one_line_json_in_order "$H_BODY" \
	"^\\{\"username\":\"$UUID4\",\"password\":\"[A-Za-z0-9_-]{40}\",\"fulldomain\":\"$UUID4\\.auth\\.example\\.org\",\"subdomain\":\"$UUID4\",\"allowfrom\":\\[\\]\\}$"
check_re register_content_type_json "$H_CT" "$JSON_CT"
if [[ $H_BODY =~ \"fulldomain\":\"([^\"]*)\",\"subdomain\":\"([^\"]*)\" ]]; then
	check_eq register_fulldomain_is_subdomain_dot_domain "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}.auth.example.org"
else
	fail register_fulldomain_is_subdomain_dot_domain "no fulldomain/subdomain in [$H_BODY]"
fi
first_user=$(printf '%s' "$H_BODY" | sed -n 's/.*"username":"\([^"]*\)".*/\1/p')
http POST /register ""
second_user=$(printf '%s' "$H_BODY" | sed -n 's/.*"username":"\([^"]*\)".*/\1/p')
if [ -n "$first_user" ] && [ -n "$second_user" ] && [ "$first_user" != "$second_user" ]; then
	ok register_accounts_are_distinct
else
	fail register_accounts_are_distinct "[$first_user] [$second_user]"
fi

http POST /register "{}"
check_re register_empty_object_201 "$H_STATUS $H_BODY" '^201 \{"username":.*"allowfrom":\[\]\}$'

http POST /register '{"allowfrom":["192.0.2.0/24","2001:db8::/32"]}'
check_re register_allowfrom_echoed "$H_STATUS $H_BODY" \
	'^201 \{"username":.*,"allowfrom":\["192\.0\.2\.0/24","2001:db8::/32"\]\}$'

http POST /register '{"AllowFrom":["192.0.2.0/24"]}'
check_re register_AllowFrom_key_case_insensitive "$H_STATUS $H_BODY" \
	'^201 \{"username":.*,"allowfrom":\["192\.0\.2\.0/24"\]\}$'

http POST /register '{"allowfrom":["192.0.2.0/24"]}' -H 'Content-Type:'
check_eq register_without_content_type "$H_STATUS" 201
http POST /register '{"allowfrom":["192.0.2.0/24"]}' -H 'Content-Type: text/plain'
check_eq register_with_wrong_content_type "$H_STATUS" 201

http POST /register '{"allowfrom":["not-a-cidr"]}'
check_eq register_invalid_cidr "$H_STATUS $H_BODY" '400 {"error":"invalid_allowfrom_cidr"}'
check_re register_error_content_type_json "$H_CT" "$JSON_CT"
http POST /register '{"allowfrom":["192.0.2.0/33"]}'
check_eq register_invalid_cidr_prefix "$H_STATUS $H_BODY" '400 {"error":"invalid_allowfrom_cidr"}'

b=$(python3 -c 'import json; print(json.dumps({"allowfrom": ["192.0.2.%d/32" % i for i in range(64)]}))')
http POST /register "$b"
check_eq register_64_allowfrom_entries "$H_STATUS" 201
b=$(python3 -c 'import json; print(json.dumps({"allowfrom": ["192.0.2.%d/32" % i for i in range(65)]}))')
http POST /register "$b"
check_eq register_65_allowfrom_entries "$H_STATUS $H_BODY" '400 {"error":"invalid_allowfrom_cidr"}'

# Like Go's json.Unmarshal into acme-dns's struct: wrong types and trailing data are malformed.
http POST /register '{"allowfrom":"192.0.2.0/24"}'
check_eq register_allowfrom_not_array "$H_STATUS $H_BODY" '400 {"error":"malformed_json_payload"}'
http POST /register '{"allowfrom":[1]}'
check_eq register_allowfrom_entry_not_string "$H_STATUS $H_BODY" '400 {"error":"malformed_json_payload"}'
http POST /register '["192.0.2.0/24"]'
check_eq register_top_level_array "$H_STATUS $H_BODY" '400 {"error":"malformed_json_payload"}'
http POST /register '{"allowfrom":[]} trailing'
check_eq register_trailing_garbage "$H_STATUS $H_BODY" '400 {"error":"malformed_json_payload"}'
http POST /register '{"allowfrom":'
check_eq register_bad_json "$H_STATUS $H_BODY" '400 {"error":"malformed_json_payload"}'
http POST /register 'hello'
check_eq register_not_json "$H_STATUS $H_BODY" '400 {"error":"malformed_json_payload"}'
# Invalid UTF-8 in an otherwise valid body (a lone 0xff byte inside a string).
printf '{"allowfrom":["192.0.2.0/24"],"note":"\377\376"}' >"$T_DIR/bad_utf8.json"
http POST /register "@$T_DIR/bad_utf8.json"
check_eq register_invalid_utf8 "$H_STATUS $H_BODY" '400 {"error":"malformed_json_payload"}'
# 1000 levels of nesting, well under the body cap.
python3 -c 'import sys; sys.stdout.write("{\"allowfrom\":" + "[" * 1000 + "]" * 1000 + "}")' >"$T_DIR/deep.json"
http POST /register "@$T_DIR/deep.json"
check_eq register_deep_nesting "$H_STATUS $H_BODY" '400 {"error":"malformed_json_payload"}'
check_eq health_after_deep_nesting "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$(api_url /health)")" 200

# --- /update ------------------------------------------------------------------
register_ok || fail register_account "no account"
A_USER=$USERNAME A_KEY=$PASSWORD A_SUB=$SUBDOMAIN
register_ok || fail register_account "no account"
B_SUB=$SUBDOMAIN
V1=$(txt43 v1) V2=$(txt43 v2) V3=$(txt43 v3) V4=$(txt43 v4) V5=$(txt43 v5)

http POST /update "{\"subdomain\":\"$A_SUB\",\"txt\":\"$V1\"}" -H "X-Api-User: $A_USER" -H "X-Api-Key: $A_KEY"
check_eq update_200_txt_echoed "$H_STATUS $H_BODY" "200 {\"txt\":\"$V1\"}"
check_re update_content_type_json "$H_CT" "$JSON_CT"

http POST /update "{\"SubDomain\":\"$A_SUB\",\"Txt\":\"$V2\"}" -H "X-Api-User: $A_USER" -H "X-Api-Key: $A_KEY"
check_eq update_keys_case_insensitive "$H_STATUS $H_BODY" "200 {\"txt\":\"$V2\"}"

r=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "$V3" -H 'Content-Type:')
check_eq update_without_content_type "$r" "200 {\"txt\":\"$V3\"}"
r=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "$V4" -H 'Content-Type: text/plain')
check_eq update_with_text_plain "$r" "200 {\"txt\":\"$V4\"}"
# curl's default for --data-binary is application/x-www-form-urlencoded: still JSON to us.
r=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "$V5")
check_eq update_with_form_urlencoded "$r" "200 {\"txt\":\"$V5\"}"
r=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "$V1" -H 'Content-Type: multipart/form-data; boundary=xyz')
check_eq update_with_multipart_content_type "$r" "200 {\"txt\":\"$V1\"}"
check_eq update_served_by_dns "$(txt_values "$A_SUB.auth.example.org")" "$(sorted "$V5" "$V1")"

FORBIDDEN='401 {"error":"forbidden"}'
OTHER_KEY=$(printf 'x%.0s' $(seq 1 40))
r=$(update_as "$(cat /proc/sys/kernel/random/uuid)" "$A_KEY" "$A_SUB" "$V2")
check_eq update_unknown_user "$r" "$FORBIDDEN"
r=$(update_as "$A_USER" "$OTHER_KEY" "$A_SUB" "$V2")
check_eq update_wrong_key "$r" "$FORBIDDEN"
r=$(update_as "not-a-uuid" "$A_KEY" "$A_SUB" "$V2")
check_eq update_bad_user_header_format "$r" "$FORBIDDEN"
r=$(update_as "$A_USER" "short" "$A_SUB" "$V2")
check_eq update_bad_key_header_format "$r" "$FORBIDDEN"
r=$(update_as "$A_USER" "${A_KEY}x" "$A_SUB" "$V2")
check_eq update_key_one_char_too_long "$r" "$FORBIDDEN"
r=$(api POST /update "{\"subdomain\":\"$A_SUB\",\"txt\":\"$V2\"}")
check_eq update_without_auth_headers "$r" "$FORBIDDEN"
r=$(update_as "$A_USER" "$A_KEY" "$B_SUB" "$V2")
check_eq update_foreign_subdomain "$r" "$FORBIDDEN"
r=$(api POST /update "{\"subdomain\":" -H "X-Api-User: $A_USER" -H "X-Api-Key: $A_KEY")
check_eq update_undecodable_body "$r" "$FORBIDDEN"
r=$(api POST /update "" -H "X-Api-User: $A_USER" -H "X-Api-Key: $A_KEY")
check_eq update_empty_body "$r" "$FORBIDDEN"
printf '{"subdomain":"%s","txt":"%s","x":"\377"}' "$A_SUB" "$V2" >"$T_DIR/upd_utf8.json"
http POST /update "@$T_DIR/upd_utf8.json" -H "X-Api-User: $A_USER" -H "X-Api-Key: $A_KEY"
check_eq update_invalid_utf8_body "$H_STATUS $H_BODY" "$FORBIDDEN"
python3 -c 'import sys; sys.stdout.write("{\"subdomain\":\"%s\",\"txt\":\"%s\",\"x\":" % (sys.argv[1], sys.argv[2]) + "[" * 1000 + "]" * 1000 + "}")' \
	"$A_SUB" "$V2" >"$T_DIR/upd_deep.json"
http POST /update "@$T_DIR/upd_deep.json" -H "X-Api-User: $A_USER" -H "X-Api-Key: $A_KEY"
check_eq update_deep_nesting_body "$H_STATUS $H_BODY" "$FORBIDDEN"
http POST /update "{\"subdomain\":\"$B_SUB\",\"txt\":\"$V2\"}" -H "X-Api-User: $A_USER" -H "X-Api-Key: $OTHER_KEY"
check_re forbidden_content_type_json "$H_CT" "$JSON_CT"
check_eq dns_unchanged_after_refused_updates "$(txt_values "$A_SUB.auth.example.org")" "$(sorted "$V5" "$V1")"
check_kv foreign_subdomain_not_published "$(dw query "$B_SUB.auth.example.org" TXT)" rcode=NOERROR an=0

BAD_TXT='400 {"error":"bad_txt"}'
r=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "${V2:0:42}")
check_eq update_txt_42_chars "$r" "$BAD_TXT"
r=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "${V2}A")
check_eq update_txt_44_chars "$r" "$BAD_TXT"
r=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "${V2:0:42}=")
check_eq update_txt_with_padding "$r" "$BAD_TXT"
r=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "${V2:0:42}+")
check_eq update_txt_with_plus "$r" "$BAD_TXT"
r=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "")
check_eq update_txt_empty "$r" "$BAD_TXT"
r=$(api POST /update "{\"subdomain\":\"$A_SUB\"}" -H "X-Api-User: $A_USER" -H "X-Api-Key: $A_KEY")
check_eq update_txt_missing "$r" "$BAD_TXT"

# --- limits, unknown paths and methods ------------------------------------------
python3 -c 'import sys; sys.stdout.write("{\"allowfrom\":[]}" + " " * (4096 - 16))' >"$T_DIR/body4096.json"
python3 -c 'import sys; sys.stdout.write("{\"allowfrom\":[]}" + " " * (4097 - 16))' >"$T_DIR/body4097.json"
http POST /register "@$T_DIR/body4096.json"
check_eq register_body_of_exactly_max_body "$H_STATUS" 201
http POST /register "@$T_DIR/body4097.json"
check_eq register_body_over_max_body "$H_STATUS $H_BODY" '413 {"error":"payload_too_large"}'
check_re oversized_content_type_json "$H_CT" "$JSON_CT"
python3 -c 'import sys; sys.stdout.write("{\"subdomain\":\"x\",\"txt\":\"" + "a" * 20000 + "\"}")' >"$T_DIR/big.json"
http POST /update "@$T_DIR/big.json" -H "X-Api-User: $A_USER" -H "X-Api-Key: $A_KEY"
check_eq update_body_oversized "$H_STATUS $H_BODY" '413 {"error":"payload_too_large"}'
http POST /register "@$T_DIR/big.json" -H 'Transfer-Encoding: chunked'
check_eq register_chunked_oversized "$H_STATUS $H_BODY" '413 {"error":"payload_too_large"}'
http POST /register '{"allowfrom":[]}' -H 'Transfer-Encoding: chunked'
check_eq register_chunked_small "$H_STATUS" 201

http GET /nope
check_eq unknown_path_404 "$H_STATUS $H_BODY" '404 {"error":"not_found"}'
http POST /register/extra '{}'
check_eq register_subpath_404 "$H_STATUS" 404
http GET /register
check_eq register_get_405 "$H_STATUS $H_BODY" '405 {"error":"method_not_allowed"}'
check_match register_405_allow_header "$(header Allow)" 'POST'
http GET /update
check_eq update_get_405 "$H_STATUS" 405
http PUT /update
check_eq update_put_405 "$H_STATUS" 405
check_eq update_405_allow_header "$(header Allow)" 'POST, DELETE, OPTIONS'
http DELETE /update
check_eq update_delete_without_credentials_401 "$H_STATUS $H_BODY" '401 {"error":"forbidden"}'
http POST /health ''
check_eq health_post_405 "$H_STATUS" 405

http GET /health
check_eq health_200_empty "$H_STATUS [$H_BODY]" "200 []"

# --- CORS (corsorigins = ["*"]) ------------------------------------------------
http GET /health '' -H 'Origin: https://client.example'
check_eq cors_allow_origin_on_get "$(header Access-Control-Allow-Origin)" '*'
http POST /register '{}' -H 'Origin: https://client.example'
check_eq cors_allow_origin_on_register "$H_STATUS $(header Access-Control-Allow-Origin)" '201 *'
http OPTIONS /update '' -H 'Origin: https://client.example' -H 'Access-Control-Request-Method: POST' \
	-H 'Access-Control-Request-Headers: X-Api-User, X-Api-Key'
check_re cors_preflight "$H_STATUS $(header Access-Control-Allow-Origin)" '^(200|204) \*$'

t_done
