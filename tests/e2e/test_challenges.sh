#!/usr/bin/env bash
# tests/e2e/test_challenges.sh -- dns-account-01, dns-persist-01 and profiles (issue 9).
# SPDX-License-Identifier: MIT
#
# Debian's Pebble 2.4 has none of these, so the CA here is tests/e2e/acmeca.py, which
# validates through unbound to dns01d exactly as the drafts say (see its header).
. "$(dirname "$0")/bed.sh"

if ! bed_need unbound unbound-checkconf unbound-control dig curl openssl "$BED_PY"; then
	fail "challenges end to end: test tools" "missing:$BED_MISSING (sudo deploy/deps.sh --test)"
	t_done
fi
if ! "$BED_PY" -c 'import cryptography' 2>/dev/null; then
	fail "challenges end to end: python3-cryptography" "$BED_PY cannot import cryptography (sudo deploy/deps.sh --test)"
	t_done
fi
for b in "$DNS01D_BIN" "$DNS01_BIN"; do
	if [ ! -x "$b" ]; then
		fail "built: $(basename "$b")" "no executable $b (run make first)"
		t_done
	fi
done
cp "$DNS01_BIN" "$T_DIR/dns01" && DNS01_BIN=$T_DIR/dns01

if ! { bed_make_ca && bed_start_dns01d && bed_start_unbound && bed_start_acmeca CA --phantom-profile retired; }; then
	fail "test bed starts" "see the lines above"
	t_done
fi
ok "test bed starts (dns01d, unbound, scripted CA)"

STORE=$T_DIR/acmedns.json
RESOLVER=127.0.0.1:$UB_PORT
C=(--directory "$CA_DIR_URL" --ca-file "$BED_CA" --storage "$STORE" --state-dir "$T_DIR/state"
	--resolver "$RESOLVER" --agree-tos)

# store_get DOMAIN FIELD: a field of the storage file's entry for DOMAIN.
store_get() {
	"$BED_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' "$STORE" "$1" "$2" 2>/dev/null
}
fulldomain_of() { store_get "$1" fulldomain; }

# persist_post VALUE: publish example.test's dns-persist-01 record through dns01d's
# POST /persist (one record per issuer: a second POST replaces it). 0 if HTTP 200.
persist_post() {
	local body code
	body=$("$BED_PY" -c 'import json,sys; print(json.dumps({"subdomain": sys.argv[1], "value": sys.argv[2]}))' \
		"$(store_get example.test subdomain)" "$1")
	code=$(curl -s -m 5 -o "$T_DIR/persist.out" -w '%{http_code}' -X POST \
		-H "X-Api-User: $(store_get example.test username)" \
		-H "X-Api-Key: $(store_get example.test password)" \
		-H 'Content-Type: application/json' --data "$body" "$API_URL/persist")
	[ "$code" = 200 ] || { echo "# POST /persist answered $code: $(head -c 300 "$T_DIR/persist.out")"; return 1; }
}

# ca_orders BASE EXPR: a Python expression over the CA's order list "o" (GET /orders).
ca_orders() {
	curl -sf -m 5 --cacert "$BED_CA" "$1/orders" |
		"$BED_PY" -c 'import json,sys; o=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2" 2>&1
}

# ca_last KEY: a member of the CA's newest order ("profile", "validated_by", "identifiers").
ca_last() { ca_orders "$CA_BASE" "o[-1][\"$1\"] if o else None"; }
# ca_count: how many orders the CA has seen.
ca_count() { ca_orders "$CA_BASE" 'len(o)'; }
# json_field FIELD: a member of the --json line on the last command's stdout.
json_field() {
	"$BED_PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]).get(sys.argv[2]))' \
		"$OUT" "$1" 2>&1
}
# lifetime_hours CERT: notAfter - notBefore in hours.
lifetime_hours() {
	local a b
	a=$(date -d "$(openssl x509 -in "$1" -noout -startdate | cut -d= -f2)" +%s) &&
		b=$(date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s) &&
		echo $(((b - a) / 3600))
}
# chose NAME TYPE: the -v log of the last command says NAME was answered with TYPE.
chose() { grep -Fq "$1: $2 at " "$ERR"; }
# fulldomain_txt: the TXT values now at the acme-dns fulldomain (sorted, one line).
fulldomain_txt() { bed_dig "$FULL" TXT | awk '$4 == "TXT" { print $5 }' | sort | tr '\n' ' '; }
BOTH="*.example.test example.test"
NAMES=(-d example.test -d '*.example.test')

# ---- register; the _acme-challenge CNAME only ----
run_cmd "$DNS01_BIN" register --api "$API_URL" --storage "$STORE" example.test
expect_rc "register example.test" 0
FULL=$(fulldomain_of example.test)
check_match "register prints the dns-persist-01 CNAME" "$(cat "$OUT" "$ERR")" \
	"_validation-persist\.example\.test\.[[:space:]]+CNAME[[:space:]]+_validation-persist\.$FULL\."
bed_cname example.test "$FULL" || fail "CNAME in unbound's zone" "reload failed"

# ---- auto, with only the dns-01 CNAME in place: dns-01 ----
o=$T_DIR/out-auto-dns01
run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$o" "${C[@]}" --json -v
if expect_rc "auto (dns-01 CNAME only): issue" 0; then
	check_cert_dir "auto dns-01" "$o" "$CA_ROOT" "$BOTH"
	check_eq "auto (dns-01 CNAME only): the CA validated both names with dns-01" \
		"$(ca_last validated_by)" "{'example.test': 'dns-01', '*.example.test': 'dns-01'}"
	check_eq "auto: --json names the challenges answered" "$(json_field challenges)" "dns-01"
	check_eq "auto: no profile asked, none in newOrder" "$(ca_last profile)" "None"
	check "auto: no dns01.json written without a profile" test ! -e "$o/dns01.json"
fi

# ---- dns-account-01: the account's label CNAME ----
run_cmd "$DNS01_BIN" account show "${C[@]}"
ACCT=$(grep -oE 'https://127\.0\.0\.1:[0-9]+/acct/[A-Za-z0-9_-]+' "$OUT" | head -n 1)
LABEL=$("$BED_PY" -c 'import base64,hashlib,sys; print(base64.b32encode(hashlib.sha256(sys.argv[1].encode()).digest()[:10]).decode().lower())' "$ACCT")
check_match "account show prints the dns-account-01 name" "$(cat "$OUT")" "_${LABEL}\._acme-challenge\.<domain>"
if [ -n "$ACCT" ] && bed_zone_add "_$LABEL._acme-challenge.example.test. 0 IN CNAME $FULL."; then
	o=$T_DIR/out-account
	run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$o" "${C[@]}" -v
	if expect_rc "auto (label CNAME in place): issue" 0; then
		check_cert_dir "dns-account-01" "$o" "$CA_ROOT" "$BOTH"
		check_eq "auto (label CNAME in place): the CA validated both with dns-account-01" \
			"$(ca_last validated_by)" "{'example.test': 'dns-account-01', '*.example.test': 'dns-account-01'}"
		check "auto: the log names the rule (dns-account-01, CNAME)" chose "*.example.test" dns-account-01
	fi
	o=$T_DIR/out-account-forced
	run_cmd "$DNS01_BIN" issue -d example.test --out "$o" "${C[@]}" --challenge dns-account-01
	expect_rc "--challenge dns-account-01: issue" 0 &&
		check_eq "--challenge dns-account-01: the CA validated with it" \
			"$(ca_last validated_by)" "{'example.test': 'dns-account-01'}"
else
	fail "dns-account-01 CNAME in unbound's zone" "no account URL from account show ($ACCT), or the reload failed"
fi

# ---- dns-persist-01: a record longer than 255 octets, through dns01d's /persist ----
# The user's _validation-persist CNAME (register printed it) leads to dns01d, which serves
# the account's record there, split into character-strings of at most 255 octets.
UNTIL=$(($(date +%s) + 3600))
PAD=$(printf 'p%.0s' $(seq 1 180))
PVAL="acmeca.test; accounturi=$ACCT; policy=wildcard; persistUntil=$UNTIL; x-note=$PAD"
check "the persist record is longer than 255 octets" test "${#PVAL}" -gt 255
bed_zone_add "_validation-persist.example.test. 0 IN CNAME _validation-persist.$FULL." ||
	fail "persist CNAME in unbound's zone" "reload failed"
check "POST /persist (${#PVAL} octets)" persist_post "$PVAL"
check_match "dns01d serves it in several character-strings" \
	"$(bed_dig _validation-persist.example.test TXT | grep -E '[[:space:]]TXT[[:space:]]' | tr '\n' ' ')" \
	'TXT[[:space:]]+"acmeca\.test;[^"]*"[[:space:]]+"[^"]*"'
before=$(fulldomain_txt)
o=$T_DIR/out-persist
run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$o" "${C[@]}" -v --json
if expect_rc "auto (persist record published): issue" 0; then
	check_cert_dir "dns-persist-01" "$o" "$CA_ROOT" "$BOTH"
	check_eq "auto (persist record): the CA validated both with dns-persist-01 (policy=wildcard)" \
		"$(ca_last validated_by)" "{'example.test': 'dns-persist-01', '*.example.test': 'dns-persist-01'}"
	check_eq "dns-persist-01: no per-order DNS change (acme-dns TXT unchanged)" "$(fulldomain_txt)" "$before"
	check_eq "dns-persist-01: --json names it" "$(json_field challenges)" "dns-persist-01"
fi
o=$T_DIR/out-persist-forced
run_cmd "$DNS01_BIN" issue -d example.test --out "$o" --challenge dns-persist-01 \
	--directory "$CA_DIR_URL" --ca-file "$BED_CA" --state-dir "$T_DIR/state" --resolver "$RESOLVER"
expect_rc "--challenge dns-persist-01 needs no --storage" 0 &&
	check_eq "--challenge dns-persist-01: validated with it" "$(ca_last validated_by)" "{'example.test': 'dns-persist-01'}"

# Without policy=wildcard the wildcard falls back (per name) to dns-account-01.
check "POST /persist (no policy=wildcard)" persist_post "acmeca.test; accounturi=$ACCT"
run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$T_DIR/out-mixed" "${C[@]}" -v
expect_rc "auto (persist record without policy=wildcard): issue" 0 &&
	check_eq "auto: base by dns-persist-01, wildcard by dns-account-01" \
		"$(ca_last validated_by)" "{'example.test': 'dns-persist-01', '*.example.test': 'dns-account-01'}"

# An expired persistUntil is not used: auto falls back to dns-account-01.
check "POST /persist (persistUntil passed)" persist_post "acmeca.test; accounturi=$ACCT; persistUntil=$(($(date +%s) - 60))"
run_cmd "$DNS01_BIN" issue -d example.test --out "$T_DIR/out-expired" "${C[@]}" -v
expect_rc "auto (persistUntil passed): issue" 0 &&
	check_eq "auto (persistUntil passed): dns-account-01, not the expired record" \
		"$(ca_last validated_by)" "{'example.test': 'dns-account-01'}"

# ---- profiles ----
o=$T_DIR/out-profile
run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$o" "${C[@]}" --profile shortlived --json
if expect_rc "--profile shortlived: issue" 0; then
	check_eq "--profile: sent in newOrder (the CA recorded it)" "$(ca_last profile)" "shortlived"
	h=$(lifetime_hours "$o/cert.pem")
	check "--profile shortlived: the certificate lives less than 7 days ($h h)" test "${h:-9999}" -lt 168
	check_eq "--profile: --json gives the profile" "$(json_field profile)" "shortlived"
	check_match "--profile: recorded in --out/dns01.json" "$(cat "$o/dns01.json" 2>&1)" '"profile": *"shortlived"'
	run_cmd "$DNS01_BIN" renew "${NAMES[@]}" --out "$o" "${C[@]}" --force --json
	expect_rc "renew --force (no --profile): renewed" 0 &&
		check_eq "renew reuses the recorded profile" "$(ca_last profile) $(json_field profile)" "shortlived shortlived"
fi
n0=$(ca_count)
run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$T_DIR/out-noprofile" "${C[@]}" --profile nosuch
expect_rc "--profile nosuch exits 2" 2
expect_msg "--profile nosuch: one clear line naming the offered profiles" "no profile 'nosuch'.*classic.*shortlived"
check_eq "--profile nosuch: no order sent" "$(ca_count)" "$n0"
run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$T_DIR/out-phantom" "${C[@]}" --profile retired
expect_rc "a listed profile the CA refuses exits 2" 2
expect_msg "the CA's invalidProfile: one clear line" "invalidProfile"

# ---- a CA that offers dns-01 only ----
if bed_start_acmeca DNS01ONLY --challenges dns-01; then
	C1=("${C[@]/"$CA_DIR_URL"/$DNS01ONLY_DIR_URL}")
	C1=("${C1[@]/"$T_DIR/state"/$T_DIR/state1}")
	run_cmd "$DNS01_BIN" issue -d example.test --out "$T_DIR/out-only" "${C1[@]}" --challenge dns-account-01
	expect_rc "--challenge dns-account-01 at a dns-01-only CA exits 2" 2
	expect_msg "--challenge not offered: one clear line" "offers no dns-account-01 challenge.*dns-01"
	run_cmd "$DNS01_BIN" issue -d example.test --out "$T_DIR/out-only" "${C1[@]}" -v
	expect_rc "auto at a dns-01-only CA: issue" 0 &&
		check_eq "auto at a dns-01-only CA: dns-01" \
			"$(ca_orders "$DNS01ONLY_BASE" 'o[-1]["validated_by"]')" "{'example.test': 'dns-01'}"
else
	fail "dns-01-only CA starts" "see the lines above"
fi

check "dns01d still running" kill -0 "$DAEMON_PID"
t_done
