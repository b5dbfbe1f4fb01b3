#!/usr/bin/env bash
# tests/e2e/test_client.sh -- dns01's issue-9 features on the offline bed (Pebble, unbound, dns01d).
# SPDX-License-Identifier: MIT
#
# Progress lines, -q, --json; polling without fixed sleeps (-v logs every interval); the
# authoritative-server DNS check; the atomic certificate set (a reader during 20
# renewals); renew --all; --csr; --reuse-key; revoke --cert-key; a storage entry without
# server_url; IP and all-numeric identifiers refused.
. "$(dirname "$0")/bed.sh"

if ! bed_need pebble unbound unbound-checkconf unbound-control dig curl openssl python3; then
	fail "dns01 client: test tools" "missing:$BED_MISSING (sudo deploy/deps.sh --test)"
	t_done
fi
for b in "$DNS01D_BIN" "$DNS01_BIN"; do
	if [ ! -x "$b" ]; then
		fail "built: $(basename "$b")" "no executable $b (run make first)"
		t_done
	fi
done
cp "$DNS01_BIN" "$T_DIR/dns01" && DNS01_BIN=$T_DIR/dns01

if ! { bed_make_ca && bed_start_dns01d && bed_start_unbound && bed_start_pebble PEB; }; then
	fail "client: test bed starts" "see the lines above"
	t_done
fi
ok "client: test bed starts (dns01d, unbound, Pebble)"

STORE=$T_DIR/acmedns.json
STATE=$T_DIR/state
C=(--directory "$PEB_DIR_URL" --ca-file "$BED_CA" --storage "$STORE" --state-dir "$STATE"
	--resolver "127.0.0.1:$UB_PORT" --ns-port "$DNS_PORT" --agree-tos)
NAMES=(-d example.test -d '*.example.test')
BOTH="*.example.test example.test"
serial_of() { openssl x509 -in "$1" -noout -serial 2>/dev/null | cut -d= -f2; }

run_cmd "$DNS01_BIN" register --api "$API_URL" --storage "$STORE" example.test
expect_rc "register example.test" 0
FULL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["example.test"]["fulldomain"])' "$STORE" 2>/dev/null)
bed_cname example.test "$FULL" || fail "CNAME in unbound's zone" "reload failed"

# ---- progress lines by default; the authoritative check; no fixed sleeps (-v) ----
O=$T_DIR/out
run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$O" "${C[@]}" -v
echo "# issue wall time: $SECS s"
if expect_rc "issue wildcard + base" 0; then
	check_cert_dir "issue" "$O" "$PEB_ROOT" "$BOTH"
	for step in "registering" "order: " "publishing: " "waiting for DNS: .* on 1 authoritative server of auth\.example\.test" \
		"DNS: the TXT values are visible \([0-9.]+ s" "validating: " "finalizing: " "written to $O"; do
		check "progress line: $step" grep -Eq "^dns01: $step" "$ERR"
	done
	# Every poll interval logged with -v is the backoff (<= 1000 ms) or a Retry-After; the
	# first poll of each authorization goes out at once.
	polls=$(grep -Eo 'poll [0-9]+ in [0-9]+ ms' "$ERR" | awk '{ print $4 }' | sort -n | tail -n 1)
	echo "# polls logged: $(grep -c 'poll [0-9]* in' "$ERR"); longest interval: ${polls:-none} ms"
	if grep -q 'Retry-After' "$ERR" || [ -z "$polls" ] || [ "$polls" -le 1000 ]; then
		ok "poll intervals are the short backoff (longest ${polls:-0} ms), no fixed 1 s sleep"
	else
		fail "poll intervals are the short backoff" "longest ${polls} ms without Retry-After"
	fi
	check "authorizations valid after a logged number of polls" grep -Eq 'authorization valid after [0-9]+ polls' "$ERR"
fi

# ---- the set on disk: stable symlinks into live -> releases/N ----
check_eq "cert.pem is a symlink into live/" "$(readlink "$O/cert.pem")" "live/cert.pem"
check_eq "privkey.pem is a symlink into live/" "$(readlink "$O/privkey.pem")" "live/privkey.pem"
check_match "live points at a release" "$(readlink "$O/live")" "^releases/[0-9]+$"

# ---- -q: silence; --json: stdout is one JSON document, progress on stderr ----
run_cmd "$DNS01_BIN" renew "${NAMES[@]}" --out "$O" "${C[@]}" --force -q
expect_rc "renew --force -q" 0
check_eq "-q: nothing on stderr" "$(cat "$ERR")" ""
check_eq "-q: nothing on stdout" "$(cat "$OUT")" ""
run_cmd "$DNS01_BIN" renew "${NAMES[@]}" --out "$O" "${C[@]}" --force --json
expect_rc "renew --force --json" 0
check_eq "--json: stdout is pure JSON" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["status"])' "$OUT" 2>&1)" "renewed"
check "--json: progress still on stderr" grep -q '^dns01: finalizing' "$ERR"

# ---- atomic set: a reader in a loop during 20 renewals never sees a mismatched pair ----
READER_LOG=$T_DIR/reader.log
READER_STOP=$T_DIR/reader.stop
(
	n=0 bad=0
	# Bounded: stops when told, or after 600 rounds.
	while [ ! -e "$READER_STOP" ] && [ "$n" -lt 600 ]; do
		n=$((n + 1))
		d=$(readlink -f "$O/live") || { bad=$((bad + 1)); echo "no live link"; continue; }
		a=$(openssl pkey -in "$d/privkey.pem" -pubout 2>/dev/null)
		b=$(openssl x509 -in "$d/cert.pem" -noout -pubkey 2>/dev/null)
		if [ -z "$a" ] || [ "$a" != "$b" ]; then
			# The release may have been pruned between readlink and the reads:
			# only a live release counts as a mismatch.
			[ "$(readlink -f "$O/live")" = "$d" ] || [ -d "$d" ] || continue
			bad=$((bad + 1))
			echo "mismatch in $d"
		fi
		[ -s "$O/cert.pem" ] && [ -s "$O/privkey.pem" ] || { bad=$((bad + 1)); echo "a stable path is missing"; }
	done
	echo "reads=$n bad=$bad"
) >"$READER_LOG" 2>&1 &
READER=$!
T_PIDS+=("$READER")
renewed=0 t0=$(date +%s)
for i in $(seq 1 20); do
	run_cmd "$DNS01_BIN" renew "${NAMES[@]}" --out "$O" "${C[@]}" --force -q
	[ "$RC" -eq 0 ] && renewed=$((renewed + 1))
	[ "$RC" -eq 0 ] || { echo "# renewal $i: $(why_cmd)"; break; }
done
touch "$READER_STOP"
for _ in $(seq 1 100); do kill -0 "$READER" 2>/dev/null || break; sleep 0.1; done
echo "# 20 renewals in $(($(date +%s) - t0)) s; reader: $(tail -n 1 "$READER_LOG")"
check_eq "atomic set: 20 renewals" "$renewed" "20"
check_match "atomic set: the reader read and never saw a key that does not match its certificate" \
	"$(tail -n 1 "$READER_LOG")" "^reads=[1-9][0-9]* bad=0$"
check_eq "atomic set: old releases pruned to 3" "$(find "$O/releases" -mindepth 1 -maxdepth 1 | wc -l)" "3"
check_cert_dir "after 20 renewals" "$O" "$PEB_ROOT" "$BOTH"

# ---- --reuse-key: the key stays across a renewal ----
k0=$(openssl pkey -in "$O/privkey.pem" -pubout 2>/dev/null | sha256sum)
s0=$(serial_of "$O/cert.pem")
run_cmd "$DNS01_BIN" renew "${NAMES[@]}" --out "$O" "${C[@]}" --force --reuse-key
if expect_rc "renew --reuse-key" 0; then
	check_eq "--reuse-key kept the private key" "$(openssl pkey -in "$O/privkey.pem" -pubout 2>/dev/null | sha256sum)" "$k0"
	if [ "$(serial_of "$O/cert.pem")" != "$s0" ]; then ok "--reuse-key: a new certificate"; else
		fail "--reuse-key: a new certificate" "same serial $s0"; fi
	check_cert_dir "--reuse-key" "$O" "$PEB_ROOT" "$BOTH"
fi
run_cmd "$DNS01_BIN" renew "${NAMES[@]}" --out "$O" "${C[@]}" --force
expect_rc "renew without --reuse-key" 0
if [ "$(openssl pkey -in "$O/privkey.pem" -pubout 2>/dev/null | sha256sum)" != "$k0" ]; then
	ok "without --reuse-key the key is new"
else
	fail "without --reuse-key the key is new" "same key"
fi

# ---- --csr: PEM and DER, names from the CSR, -d must match ----
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=example.test \
	-addext 'subjectAltName=DNS:example.test,DNS:*.example.test' \
	-keyout "$T_DIR/own.key" -out "$T_DIR/own.csr" >/dev/null 2>&1
openssl req -in "$T_DIR/own.csr" -outform DER -out "$T_DIR/own.der" 2>/dev/null
OC=$T_DIR/out-csr
run_cmd "$DNS01_BIN" issue --csr "$T_DIR/own.csr" --out "$OC" "${C[@]}"
if expect_rc "issue --csr (PEM), names from the CSR" 0; then
	check_eq "--csr: SANs" "$(cert_sans "$OC/cert.pem")" "$BOTH"
	check "--csr: the certificate carries the CSR's key" key_matches_cert "$T_DIR/own.key" "$OC/cert.pem"
	check "--csr: no privkey.pem written" test ! -e "$OC/privkey.pem"
fi
run_cmd "$DNS01_BIN" issue --csr "$T_DIR/own.der" "${NAMES[@]}" --out "$T_DIR/out-der" "${C[@]}"
expect_rc "issue --csr (DER) with matching -d" 0 &&
	check "--csr DER: the CSR's key" key_matches_cert "$T_DIR/own.key" "$T_DIR/out-der/cert.pem"
run_cmd "$DNS01_BIN" issue --csr "$T_DIR/own.csr" -d other.example.test --out "$T_DIR/out-x" "${C[@]}"
expect_rc "--csr with other -d names exits 2" 2
expect_msg "--csr with other -d names: one clear line" "differs from the -d names"
echo garbage >"$T_DIR/bad.csr"
run_cmd "$DNS01_BIN" issue --csr "$T_DIR/bad.csr" --out "$T_DIR/out-x" "${C[@]}"
expect_rc "--csr garbage exits 2" 2
expect_msg "--csr garbage: one clear line" "PKCS #10"

# ---- renew --all: every recorded certificate, one line each ----
run_cmd "$DNS01_BIN" renew --all "${C[@]}"
expect_rc "renew --all with nothing due exits 1" 1
check_eq "renew --all: one line per certificate (3)" "$(grep -c ': not due' "$OUT")" "3"
s0=$(serial_of "$O/cert.pem")
run_cmd "$DNS01_BIN" renew --all --force "${C[@]}"
if expect_rc "renew --all --force" 0; then
	check_eq "renew --all --force: 3 renewed lines" "$(grep -c ': renewed in ' "$OUT")" "3"
	if [ "$(serial_of "$O/cert.pem")" != "$s0" ]; then ok "renew --all renewed $O"; else
		fail "renew --all renewed $O" "same serial"; fi
	check "renew --all kept the --csr certificate's key" key_matches_cert "$T_DIR/own.key" "$OC/cert.pem"
fi
# The entries carry their own directory and storage: neither is needed on the command line.
run_cmd "$DNS01_BIN" renew --all --state-dir "$STATE" --ca-file "$BED_CA" --resolver "127.0.0.1:$UB_PORT"
expect_rc "renew --all without --directory and --storage (nothing due) exits 1" 1
check_eq "renew --all from the recorded options: 3 not-due lines" "$(grep -c ': not due' "$OUT")" "3"
run_cmd "$DNS01_BIN" renew --all --json "${C[@]}"
expect_rc "renew --all --json (nothing due) exits 1" 1
check_eq "renew --all --json: one JSON document per line, one per certificate" \
	"$(python3 -c 'import json,sys; print(" ".join(json.loads(l)["status"] for l in open(sys.argv[1])))' "$OUT" 2>&1)" \
	"not-due not-due not-due"
# One entry that fails (its storage file lost its account) makes the exit status 2.
cp "$STORE" "$T_DIR/store-backup.json"
printf '{}' >"$STORE"
run_cmd "$DNS01_BIN" renew --all --force "${C[@]}"
expect_rc "renew --all with failures exits 2" 2
check_eq "renew --all: a FAILED line per failing certificate" "$(grep -c ': FAILED in ' "$OUT")" "3"
cp "$T_DIR/store-backup.json" "$STORE"

# ---- legacy storage entry without server_url (acme-dns-auth.py, older goacmedns) ----
LEG=$T_DIR/legacy.json
python3 - "$STORE" "$LEG" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
e = d["example.test"]
del e["server_url"]
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, json.dumps({"example.test": e}).encode())
os.close(fd)
PY
run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$T_DIR/out-leg" "${C[@]/"$STORE"/$LEG}"
expect_rc "legacy entry without server_url and no --api exits 2" 2
expect_msg "legacy entry without server_url: one clear line" "no server_url.*--api"
run_cmd "$DNS01_BIN" issue "${NAMES[@]}" --out "$T_DIR/out-leg" "${C[@]/"$STORE"/$LEG}" --api "$API_URL"
expect_rc "legacy entry without server_url + --api issues" 0 &&
	check_cert_dir "legacy + --api" "$T_DIR/out-leg" "$PEB_ROOT" "$BOTH"
run_cmd env DNS01_API="$API_URL" "$DNS01_BIN" issue "${NAMES[@]}" --out "$T_DIR/out-leg2" "${C[@]/"$STORE"/$LEG}"
expect_rc "legacy entry without server_url + DNS01_API issues" 0

# ---- revoke --cert-key: signed by the certificate's own key, no account ----
cp "$O/cert.pem" "$T_DIR/rev.pem"
cp "$O/privkey.pem" "$T_DIR/rev.key"
run_cmd "$DNS01_BIN" revoke --cert "$T_DIR/rev.pem" --cert-key "$T_DIR/own.key" "${C[@]}"
expect_rc "revoke --cert-key with another key exits 2" 2
expect_msg "revoke --cert-key with another key: one clear line" "not the private key"
run_cmd "$DNS01_BIN" revoke --cert "$T_DIR/rev.pem" --cert-key "$T_DIR/rev.key" "${C[@]/"$STATE"/$T_DIR/no-state}"
expect_rc "revoke --cert-key (no account state at all)" 0
check_eq "revoke --cert-key: Pebble says Revoked" "$(bed_cert_status "$PEB_MGMT" "$T_DIR/rev.pem")" "Revoked"

# ---- identifiers: IP addresses and all-numeric names are refused ----
for bad in 127.0.0.1 123 ::1 example.123; do
	run_cmd "$DNS01_BIN" issue -d "$bad" --out "$T_DIR/out-bad" "${C[@]}"
	expect_rc "identifier $bad refused (exit 2)" 2
	expect_msg "identifier $bad: one clear line" "IP address or an all-numeric name"
done
run_cmd "$DNS01_BIN" register --api "$API_URL" --storage "$STORE" 10.0.0.1
expect_rc "register 10.0.0.1 refused (exit 2)" 2

check "dns01d still running" kill -0 "$DAEMON_PID"
check "Pebble still running" kill -0 "$PEB_PID"
t_done
