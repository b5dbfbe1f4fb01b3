#!/usr/bin/env bash
# tests/e2e/test_acme.sh -- the dns01 client end to end: Pebble, unbound, dns01d (issue 3).
# SPDX-License-Identifier: MIT
#
# The eight steps of issue 3's end-to-end test, on the bed of bed.sh. Pebble keeps its
# default 5% badNonce rejection, so the client's retry runs on every execution.
# When the client misbehaves, the FAIL line carries the command, exit code and stderr.
. "$(dirname "$0")/bed.sh"

if ! bed_need pebble unbound unbound-checkconf unbound-control dig curl openssl python3; then
	fail "dns01 end to end: test tools" "missing:$BED_MISSING (sudo deploy/deps.sh --test)"
	t_done
fi
for b in "$DNS01D_BIN" "$DNS01_BIN"; do
	if [ ! -x "$b" ]; then
		fail "built: $(basename "$b")" "no executable $b (run make first)"
		t_done
	fi
done
# One client binary for the whole run, even if build/ is rebuilt meanwhile.
echo "# client: $DNS01_BIN, copied to $T_DIR/dns01"
cp "$DNS01_BIN" "$T_DIR/dns01" && DNS01_BIN=$T_DIR/dns01

if ! { bed_make_ca && bed_start_dns01d && bed_start_unbound && bed_start_pebble PEB; }; then
	fail "test bed starts" "see the lines above"
	t_done
fi
ok "test bed starts (dns01d, unbound, Pebble)"

STORE=$T_DIR/acmedns.json
STATE=$T_DIR/state
RESOLVER=127.0.0.1:$UB_PORT
# The common options of issue/renew/revoke/account against the main Pebble.
C=(--directory "$PEB_DIR_URL" --ca-file "$BED_CA" --storage "$STORE" --state-dir "$STATE"
	--resolver "$RESOLVER" --ns-port "$DNS_PORT" --agree-tos)
NAMES=(-d example.test -d '*.example.test')
BOTH="*.example.test example.test"

# store_get DOMAIN FIELD: a field of the storage file's entry for DOMAIN.
store_get() {
	python3 - "$1" "$2" "${3:-$STORE}" <<'PY' 2>/dev/null
import json, sys
print(json.load(open(sys.argv[3]))[sys.argv[1]][sys.argv[2]])
PY
}

# printed_cname DOMAIN: the target of the "_acme-challenge.DOMAIN. CNAME X." line the
# last command printed (stdout or stderr), without the trailing dot.
printed_cname() {
	local d=${1//./\\.}
	cat "$OUT" "$ERR" | grep -oE "_acme-challenge\.$d\.?[[:space:]]+([0-9]+[[:space:]]+)?(IN[[:space:]]+)?CNAME[[:space:]]+[^[:space:]]+" |
		head -n 1 | awk '{ print $NF }' | sed 's/\.$//'
}

# serial_of CERT
serial_of() { openssl x509 -in "$1" -noout -serial 2>/dev/null | cut -d= -f2; }

# account_url: the Pebble account URL in the last command's output.
account_url() { cat "$OUT" "$ERR" | grep -oE 'https://[^[:space:]"]*/my-account/[^[:space:]"]+' | head -n 1; }

# key_files DIR: a fingerprint of the private keys in DIR (names and contents).
key_files() {
	local f
	for f in $(grep -rlE 'PRIVATE KEY|"d" *:' "$1" 2>/dev/null | sort); do
		printf '%s %s\n' "${f#"$1"/}" "$(sha256sum <"$f" | cut -c1-16)"
	done
}

# ---- step 1: register, then the CNAME into unbound's zone ----
run_cmd "$DNS01_BIN" register --api "$API_URL" --storage "$STORE" example.test
expect_rc "1 register example.test" 0
FULL=$(printed_cname example.test)
check_match "1 register prints _acme-challenge.example.test. CNAME <fulldomain>." "$FULL" \
	"^[0-9a-f-]{36}\.auth\.example\.test$"
check_eq "1 storage: fulldomain" "$(store_get example.test fulldomain)" "$FULL"
check_match "1 storage: subdomain, username, password" \
	"$(store_get example.test subdomain) $(store_get example.test username) $(store_get example.test password)" \
	"^[0-9a-f-]{36} [0-9a-f-]{36} [A-Za-z0-9_-]{40}$"
check_match "1 storage: server_url" "$(store_get example.test server_url)" "^$API_URL/?$"
check_eq "1 storage file mode" "$(file_mode "$STORE")" "600"
API_PASSWORD=$(store_get example.test password)
expect_no_secret "1 register does not print the API password" "$API_PASSWORD"

run_cmd "$DNS01_BIN" register --api "$API_URL" --storage "$STORE" '*.example.test'
expect_rc "1 register *.example.test" 0
check_eq "1 wildcard maps to the base domain's account" "$(printed_cname example.test)" "$FULL"
check_eq "1 storage keeps one entry" \
	"$(python3 -c 'import json,sys; print(" ".join(sorted(json.load(open(sys.argv[1])))))' "$STORE" 2>&1)" \
	"example.test"

if [ -n "$FULL" ] && bed_cname example.test "$FULL"; then
	ans=$(bed_dig _acme-challenge.example.test TXT | tr '\n' ' ')
	check_match "1 unbound follows _acme-challenge.example.test to dns01d" "$ans" \
		"status: NOERROR.*CNAME[[:space:]]+$FULL\."
else
	fail "1 CNAME in unbound's zone" "no fulldomain printed, or the reload failed"
fi

# ---- step 2: wildcard + base in one order ----
OUT1=$T_DIR/out-ec256
# -v: the secrets must stay out of the verbose log too.
run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$OUT1" "${C[@]}" -v
echo "# step 2 wall time: $SECS s"
if expect_rc "2 issue example.test + *.example.test" 0; then
	check_cert_dir "2 issue" "$OUT1" "$PEB_ROOT" "$BOTH"
	check_eq "2 default key type" "$(key_desc "$OUT1/privkey.pem")" "ec prime256v1"
fi
expect_no_secret "2 issue -v does not print the API password" "$API_PASSWORD"
expect_no_secret "2 issue -v does not print the certificate key" \
	"$(sed -n 2p "$OUT1/privkey.pem" 2>/dev/null)"
keys=$(key_files "$STATE")
if [ -n "$keys" ]; then
	ok "2 account key created in --state-dir"
	modes=$(grep -rlE 'PRIVATE KEY|"d" *:' "$STATE" | xargs stat -c '%a' | sort -u | tr '\n' ' ')
	check_eq "2 account key mode" "$modes" "600 "
else
	fail "2 account key created in --state-dir" "no private key file under $STATE: $(ls -lR "$STATE" 2>&1 | tr '\n' ' ')"
fi

# ---- step 3: other certificate key types ----
for kt in rsa2048 ec384; do
	o=$T_DIR/out-$kt
	run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$o" --key-type "$kt" "${C[@]}"
	if expect_rc "3 issue --key-type $kt" 0; then
		want="rsa 2048"
		[ "$kt" = ec384 ] && want="ec secp384r1"
		check_eq "3 $kt: key type" "$(key_desc "$o/privkey.pem")" "$want"
		check_cert_dir "3 $kt" "$o" "$PEB_ROOT" "$BOTH"
	fi
done

# ---- step 4: renew ----
HOOKED=$T_DIR/deploy-hook-ran
printf '#!/bin/sh\ntouch %q\n' "$HOOKED" >"$T_DIR/deploy-hook.sh"
chmod +x "$T_DIR/deploy-hook.sh"
s0=$(serial_of "$OUT1/cert.pem")
run_cmd "$DNS01_BIN" renew "${NAMES[@]}" --out "$OUT1" --deploy-hook "$T_DIR/deploy-hook.sh" "${C[@]}"
expect_rc "4 renew on a fresh certificate exits 1" 1
check_eq "4 renew left the certificate alone" "$(serial_of "$OUT1/cert.pem")" "$s0"
check "4 renew ran no deploy hook" test ! -e "$HOOKED"
run_cmd "$DNS01_BIN" renew "${NAMES[@]}" --out "$OUT1" --force --deploy-hook "$T_DIR/deploy-hook.sh" "${C[@]}"
if expect_rc "4 renew --force" 0; then
	s1=$(serial_of "$OUT1/cert.pem")
	if [ -n "$s1" ] && [ "$s1" != "$s0" ]; then ok "4 renew --force wrote a new certificate"; else
		fail "4 renew --force wrote a new certificate" "serial still [$s1]"; fi
	check_cert_dir "4 renew --force" "$OUT1" "$PEB_ROOT" "$BOTH"
	check "4 renew --force ran the deploy hook" test -e "$HOOKED"
fi

# ---- step 5: revoke ----
check_eq "5 Pebble knows the certificate" "$(bed_cert_status "$PEB_MGMT" "$OUT1/cert.pem")" "Valid"
run_cmd "$DNS01_BIN" revoke --cert "$OUT1/cert.pem" "${C[@]}"
expect_rc "5 revoke" 0
check_eq "5 Pebble says Revoked" "$(bed_cert_status "$PEB_MGMT" "$OUT1/cert.pem")" "Revoked"

# ---- step 6: account key rollover ----
run_cmd "$DNS01_BIN" account show "${C[@]}"
expect_rc "6 account show" 0
ACCT=$(account_url)
check_match "6 account show prints the account URL" "$ACCT" "^${PEB_DIR_URL%/dir}/my-account/"
check_match "6 account show prints the status" "$(cat "$OUT" "$ERR")" "(^|[^a-z])valid([^a-z]|$)"

# ---- step 6b: register prints the dns-persist-01 and dns-account-01 CNAMEs; dns01 persist ----
run_cmd "$DNS01_BIN" register --api "$API_URL" "${C[@]}" example.test
expect_rc "6b register with --directory" 0
LABEL=_$(python3 -c 'import base64, hashlib, sys
print(base64.b32encode(hashlib.sha256(sys.argv[1].encode()).digest()[:10]).decode().lower())' "$ACCT")
check_match "6b register prints the dns-account-01 CNAME (label from the account URL)" "$(cat "$OUT")" \
	"^${LABEL}\._acme-challenge\.example\.test\. CNAME ${FULL//./\\.}\.$"
check_match "6b register prints the dns-persist-01 CNAME" "$(cat "$OUT")" \
	"^_validation-persist\.example\.test\. CNAME _validation-persist\.${FULL//./\\.}\.$"
run_cmd "$DNS01_BIN" register --api "$API_URL" "${C[@]}" --json example.test
check_eq "6b register --json carries the three CNAMEs" "$(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["records"]
print(len(r), sum(x.startswith(sys.argv[2]) for x in r), sum(x.startswith("_validation-persist.") for x in r))' "$OUT" "$LABEL")" "3 1 1"
run_cmd "$DNS01_BIN" persist -d example.test --issuer pebble.test --wildcard "${C[@]}"
expect_rc "6b persist" 0
check_eq "6b persist record served by dns01d" \
	"$(dig +short +norec -p "$DNS_PORT" @127.0.0.1 "_validation-persist.$FULL" TXT)" \
	"\"pebble.test; accounturi=$ACCT; policy=wildcard\""
run_cmd "$DNS01_BIN" persist -d example.test "${C[@]}"
expect_rc "6b persist without --issuer when the directory has no caaIdentities" 2
check_match "6b persist asks for --issuer" "$(cat "$ERR")" "give --issuer"
rm -rf "$T_DIR/state-old"
cp -a "$STATE" "$T_DIR/state-old"
keys0=$(key_files "$STATE")
run_cmd "$DNS01_BIN" account rollover "${C[@]}"
expect_rc "6 account rollover" 0
keys1=$(key_files "$STATE")
if [ -n "$keys1" ] && [ "$keys1" != "$keys0" ]; then ok "6 rollover replaced the account key"; else
	fail "6 rollover replaced the account key" "key files in $STATE unchanged: [$keys1]"; fi
run_cmd "$DNS01_BIN" account show "${C[@]}"
expect_rc "6 account show after rollover" 0
check_eq "6 same account after rollover" "$(account_url)" "$ACCT"
run_cmd "$DNS01_BIN" account show "${C[@]/"$STATE"/$T_DIR/state-old}"
if [ "$RC" -ne 0 ] || [ "$(account_url)" != "$ACCT" ]; then
	ok "6 the old key no longer speaks for the account"
else
	fail "6 the old key no longer speaks for the account" "old key still shows $ACCT; $(why_cmd)"
fi
o=$T_DIR/out-rollover
run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$o" "${C[@]}"
expect_rc "6 issue with the new account key" 0 && check_cert_dir "6 issue" "$o" "$PEB_ROOT" "$BOTH"

# ---- step 7: External Account Binding ----
EAB_KEY=$(bed_b64url_key)
if bed_start_pebble EAB kid-1 "$EAB_KEY"; then
	CE=(--directory "$EAB_DIR_URL" --ca-file "$BED_CA" --storage "$STORE" --state-dir "$T_DIR/state-eab"
		--resolver "$RESOLVER" --ns-port "$DNS_PORT" --agree-tos)
	o=$T_DIR/out-eab
	run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$o" "${CE[@]}"
	expect_rc "7 EAB CA without --eab-* exits 2" 2
	expect_msg "7 EAB CA without --eab-*: one clear line" "external account|eab"
	run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$o" "${CE[@]}" --eab-kid kid-1 \
		--eab-hmac-key "$(bed_b64url_key)"
	expect_rc "7 EAB with a wrong HMAC key exits 2" 2
	expect_msg "7 EAB with a wrong HMAC key: one clear line" "external account|eab|hmac|unauthori[sz]ed"
	run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$o" "${CE[@]}" --eab-kid kid-1 --eab-hmac-key "$EAB_KEY" -v
	expect_rc "7 EAB issue with --eab-kid/--eab-hmac-key" 0 && check_cert_dir "7 EAB" "$o" "$EAB_ROOT" "$BOTH"
	expect_no_secret "7 issue -v does not print the EAB key" "$EAB_KEY"
	# CI secrets come from the environment (DNS01_<OPTION>), never the command line.
	o=$T_DIR/out-eab-env
	run_cmd env DNS01_EAB_KID=kid-1 DNS01_EAB_HMAC_KEY="$EAB_KEY" "$DNS01_BIN" issue "${NAMES[@]}" \
		--out "$o" --directory "$EAB_DIR_URL" --ca-file "$BED_CA" --storage "$STORE" \
		--state-dir "$T_DIR/state-eab-env" --resolver "$RESOLVER" --ns-port "$DNS_PORT" --agree-tos
	expect_rc "7 EAB from DNS01_EAB_KID/DNS01_EAB_HMAC_KEY" 0 && check_cert_dir "7 EAB env" "$o" "$EAB_ROOT" "$BOTH"
else
	fail "7 EAB Pebble starts" "see the lines above"
fi

# ---- step 8: failure paths, each exit 2 with one clear line ----
# No CNAME in place: registered at the API, but unbound's zone has no record for it.
run_cmd "$DNS01_BIN" register --api "$API_URL" --storage "$STORE" nocname.example.test
expect_rc "8 register nocname.example.test" 0
NOFULL=$(printed_cname nocname.example.test)
run_cmd "$DNS01_BIN" issue -d nocname.example.test --out "$T_DIR/out-nocname" "${C[@]}" --dns-timeout 5
echo "# no-CNAME failure took $SECS s"
expect_rc "8 no CNAME in place exits 2" 2
expect_msg "8 no CNAME: one line with the CNAME instruction" \
	"_acme-challenge\.nocname\.example\.test.*CNAME.*${NOFULL:-MISSING}"
check "8 no CNAME: nothing written" test ! -e "$T_DIR/out-nocname/cert.pem"

# Wrong API password: the storage file's password edited.
BAD_STORE=$T_DIR/acmedns-bad.json
BAD_PW=$(printf 'x%.0s' $(seq 1 40))
python3 - "$STORE" "$BAD_STORE" "$BAD_PW" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
d["example.test"]["password"] = sys.argv[3]
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, json.dumps(d).encode())
os.close(fd)
PY
run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$T_DIR/out-badpw" "${C[@]/"$STORE"/$BAD_STORE}"
expect_rc "8 wrong API password exits 2" 2
expect_msg "8 wrong API password: one clear line" "password|credential|forbidden|401|unauthori[sz]ed|api"
expect_no_secret "8 wrong API password is not printed" "$BAD_PW"

# CA unreachable: nothing listens on the port.
bed_port CLOSED
run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$T_DIR/out-closed" "${C[@]/"$PEB_DIR_URL"/https://127.0.0.1:$CLOSED/dir}"
expect_rc "8 CA unreachable exits 2" 2
expect_msg "8 CA unreachable: one clear line" "127\.0\.0\.1:$CLOSED|connect|reach|refused"

# Malformed directories from a small HTTPS server.
bed_port BADDIR_PORT
python3 "$BED_HERE/baddir.py" "$BADDIR_PORT" "$BED_LH_CERT" "$BED_LH_KEY" >"$T_DIR/baddir.log" 2>&1 &
BADDIR_PID=$!
T_PIDS+=("$BADDIR_PID")
if bed_wait_log "$BADDIR_PID" "$T_DIR/baddir.log" "^ready"; then
	for p in truncated array empty html; do
		run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$T_DIR/out-bad-$p" \
			"${C[@]/"$PEB_DIR_URL"/https://127.0.0.1:$BADDIR_PORT/$p}"
		expect_rc "8 malformed directory ($p) exits 2" 2
		expect_msg "8 malformed directory ($p): one clear line" "director"
	done
else
	fail "8 malformed-directory server starts" "see the lines above"
fi

echo "# badNonce retries logged by the -v runs: $(cat "$T_DIR"/cmd*.err | grep -ci badnonce)"
check "dns01d still running" kill -0 "$DAEMON_PID"
check "Pebble still running" kill -0 "$PEB_PID"
t_done
