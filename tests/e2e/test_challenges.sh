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

if ! { bed_make_ca && bed_start_dns01d && bed_start_unbound && bed_start_acmeca CA; }; then
	fail "test bed starts" "see the lines above"
	t_done
fi
ok "test bed starts (dns01d, unbound, scripted CA)"

STORE=$T_DIR/acmedns.json
RESOLVER=127.0.0.1:$UB_PORT
C=(--directory "$CA_DIR_URL" --ca-file "$BED_CA" --storage "$STORE" --state-dir "$T_DIR/state"
	--resolver "$RESOLVER" --agree-tos)

# fulldomain_of DOMAIN: the storage file's fulldomain for DOMAIN.
fulldomain_of() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]["fulldomain"])' "$STORE" "$1" 2>/dev/null
}

# ca_orders BASE EXPR: a Python expression over the CA's order list "o" (GET /orders).
ca_orders() {
	curl -sf -m 5 --cacert "$BED_CA" "$1/orders" |
		python3 -c 'import json,sys; o=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2" 2>&1
}

# ---- dns-01 through the scripted CA (the baseline) ----
run_cmd "$DNS01_BIN" register --api "$API_URL" --storage "$STORE" example.test
expect_rc "register example.test" 0
FULL=$(fulldomain_of example.test)
bed_cname example.test "$FULL" || fail "CNAME in unbound's zone" "reload failed"
o=$T_DIR/out-dns01
run_cmd "$DNS01_BIN" issue -d example.test -d '*.example.test' --out "$o" "${C[@]}"
expect_rc "dns-01: issue through the scripted CA" 0 &&
	check_cert_dir "dns-01" "$o" "$CA_ROOT" "*.example.test example.test"
check_eq "dns-01: the CA validated both names with dns-01" \
	"$(ca_orders "$CA_BASE" 'sorted(set(v for x in o[-1:] for v in x["validated_by"].values()))')" "['dns-01']"

check "dns01d still running" kill -0 "$DAEMON_PID"
t_done
