#!/usr/bin/env bash
# tests/integration/test_legacy_bcrypt.sh -- an acme-dns database whose bcrypt hashes are
# BLOBs (as acme-dns's Go code stores a []byte): the upgrade works, only after allowfrom,
# is logged once; denials cost the same number of bcrypt calls whoever is asked; and
# bcrypt never takes more than one API thread, so /health stays fast under wrong keys.
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

CLIENTS=8		# concurrent clients sending wrong keys
ROUNDS=6		# requests each
HEALTH_PROBES=20	# /health requests during the storm

key40() { head -c 30 /dev/urandom | base64 | tr '+/' '-_'; }
uuid() { cat /proc/sys/kernel/random/uuid; }

new_ports
U1=$(uuid) S1=$(uuid) K1=$(key40)	# open account
U2=$(uuid) S2=$(uuid) K2=$(key40)	# allowfrom excludes 127.0.0.1
U3=$(uuid) S3=$(uuid) K3=$(key40)	# target of the wrong-key storm
NOBODY=$(uuid)

# acme-dns v1.1's schema, and rows written through Python's sqlite3 with the bcrypt
# hash as bytes, so the Password column holds a BLOB exactly as acme-dns leaves it.
python3 -W ignore - "$DB" "$U1" "$S1" "$K1" "$U2" "$S2" "$K2" "$U3" "$S3" "$K3" <<'PY'
import crypt, sqlite3, sys
db, rest = sys.argv[1], sys.argv[2:]
c = sqlite3.connect(db)
c.executescript("""
CREATE TABLE IF NOT EXISTS acmedns(Name TEXT, Value TEXT);
INSERT INTO acmedns (Name, Value) values('db_version', '1');
CREATE TABLE IF NOT EXISTS records(
        Username TEXT UNIQUE NOT NULL PRIMARY KEY,
        Password TEXT UNIQUE NOT NULL,
        Subdomain TEXT UNIQUE NOT NULL,
        AllowFrom TEXT
    );
CREATE TABLE IF NOT EXISTS txt(
		Subdomain TEXT NOT NULL,
		Value   TEXT NOT NULL DEFAULT '',
		LastUpdate INT
	);
""")
allow = ['[]', '["192.0.2.0/24"]', '[]']
for i in range(3):
    u, s, k = rest[3 * i: 3 * i + 3]
    salt = crypt.mksalt(crypt.METHOD_BLOWFISH)[-22:]
    h = crypt.crypt(k, "$2a$10$" + salt)
    assert h.startswith("$2a$10$") and len(h) == 60
    c.execute("INSERT INTO records VALUES (?, ?, ?, ?)", (u, h.encode(), s, allow[i]))
    c.execute("INSERT INTO txt (Subdomain, LastUpdate) VALUES (?, 0)", (s,))
    c.execute("INSERT INTO txt (Subdomain, LastUpdate) VALUES (?, 0)", (s,))
c.commit()
PY
typeof() { sqlite3 "$DB" "SELECT typeof(Password) || ' ' || substr(CAST(Password AS TEXT), 1, 7) FROM records WHERE Username = '$1'"; }
check_eq legacy_db_has_blob_hashes "$(typeof "$U1")" 'blob $2a$10$'

CFG=$T_DIR/config.cfg
LOG=$T_DIR/dns01d.log
# auth_fail_rate off: the storm must meet the bcrypt bound, not the address limit.
LOGLEVEL=debug write_config "$CFG" "" "auth_fail_rate = 0"
start_dns01d "$CFG" "$LOG" || { fail legacy_db_opened "dns01d did not start"; t_done; }
Z=auth.example.org
# bcrypt computations so far, from the daemon's debug log (one line per computation).
bcrypts() { grep -c 'storage: bcrypt check' "$LOG"; }
upgraded() { grep -c "$1: bcrypt key hash upgraded" "$LOG"; }
N1=$(txt43 legacy-1) N2=$(txt43 legacy-2) N3=$(txt43 legacy-3)

# Denials cost one bcrypt each, whether the user exists or not.
b0=$(bcrypts)
r=$(update_as "$U1" "$(key40)" "$S1" "$N1")
check_eq legacy_wrong_key_forbidden "$r" '401 {"error":"forbidden"}'
b1=$(bcrypts)
r=$(update_as "$NOBODY" "$(key40)" "$S1" "$N1")
check_eq legacy_unknown_user_forbidden "$r" '401 {"error":"forbidden"}'
b2=$(bcrypts)
echo "# bcrypt calls: wrong key $((b1 - b0)), unknown user $((b2 - b1))"
check_eq legacy_wrong_key_one_bcrypt "$((b1 - b0))" 1
check_eq legacy_unknown_user_same_bcrypt_count "$((b2 - b1))" "$((b1 - b0))"

# allowfrom refuses the client: the right key is not enough to rewrite the hash.
r=$(update_as "$U2" "$K2" "$S2" "$N1")
check_eq legacy_allowfrom_refused "$r" '401 {"error":"forbidden"}'
check_eq legacy_no_upgrade_when_allowfrom_refuses "$(typeof "$U2")" 'blob $2a$10$'
check_eq legacy_no_upgrade_log_when_refused "$(upgraded "$U2")" 0

# The first good update upgrades the BLOB to the fast hash, as TEXT.
r=$(update_as "$U1" "$K1" "$S1" "$N1")
check_eq legacy_first_update "$r" "200 {\"txt\":\"$N1\"}"
check_eq legacy_hash_upgraded "$(typeof "$U1")" 'text $sha256'
check_eq legacy_value_served "$(txt_values "$S1.$Z")" "$N1"
# The second is fast: no bcrypt at all.
b3=$(bcrypts)
r=$(update_as "$U1" "$K1" "$S1" "$N2")
check_eq legacy_second_update "$r" "200 {\"txt\":\"$N2\"}"
check_eq legacy_second_update_no_bcrypt "$(($(bcrypts) - b3))" 0
r=$(update_as "$U1" "$K1" "$S1" "$N3")
check_eq legacy_third_update "$r" "200 {\"txt\":\"$N3\"}"
check_eq legacy_upgrade_logged_once "$(upgraded "$U1")" 1

# 8 clients sending wrong keys to a legacy account: bcrypt runs one at a time, the
# queue is bounded, the excess gets 429 with Retry-After, and /health stays fast.
storm() {
	local i
	for i in $(seq 1 "$ROUNDS"); do
		curl -s -m 20 -o /dev/null -w '%{http_code}\n' -X POST \
			-H "X-Api-User: $U3" -H "X-Api-Key: $(key40)" \
			--data-binary "{\"subdomain\":\"$S3\",\"txt\":\"$N1\"}" "$(api_url /update)"
	done
}
pids=()
for c in $(seq 1 "$CLIENTS"); do storm >"$T_DIR/storm.$c" & pids+=("$!"); done
worst=0 bad=0
for i in $(seq 1 "$HEALTH_PROBES"); do
	out=$(curl -s -m 5 -o /dev/null -w '%{http_code} %{time_total}' "$(api_url /health)")
	[ "${out%% *}" = 200 ] || bad=$((bad + 1))
	worst=$(awk -v a="$worst" -v b="${out#* }" 'BEGIN { print (b > a) ? b : a }')
	sleep 0.05
done
for p in "${pids[@]}"; do wait "$p"; done
codes=$(cat "$T_DIR"/storm.* | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
echo "# storm replies: $codes; slowest /health ${worst}s"
check_eq legacy_storm_health_200 "$bad" 0
check_eq legacy_storm_only_401_or_429 "$(cat "$T_DIR"/storm.* | grep -cv '^40[1]$\|^429$')" 0
n429=$(cat "$T_DIR"/storm.* | grep -c '^429$')
check legacy_storm_excess_refused [ "$n429" -ge 1 ]
# One request alone is queued, never refused.
http POST /update "{\"subdomain\":\"$S3\",\"txt\":\"$N1\"}" -H "X-Api-User: $U3" -H "X-Api-Key: $(key40)"
check_eq legacy_single_wrong_key_after_storm "$H_STATUS $H_BODY" '401 {"error":"forbidden"}'
# The 429 shape, checked on a second burst of simultaneous wrong keys.
pids=()
for c in $(seq 1 "$CLIENTS"); do
	curl -s -m 20 -D "$T_DIR/h429.$c" -o "$T_DIR/b429.$c" -X POST \
		-H "X-Api-User: $U3" -H "X-Api-Key: $(key40)" \
		--data-binary "{\"subdomain\":\"$S3\",\"txt\":\"$N1\"}" "$(api_url /update)" &
	pids+=("$!")
done
for p in "${pids[@]}"; do wait "$p"; done
f=$(grep -l '^HTTP/1.1 429' "$T_DIR"/h429.* 2>/dev/null | head -n 1)
if [ -n "$f" ]; then
	b=$(cat "$T_DIR/b429.${f##*.}")
	check_eq legacy_429_body "$b" '{"error":"too_many_requests"}'
	check_match legacy_429_retry_after "$(tr -d '\r' <"$f" | grep -i '^retry-after:')" '^[Rr]etry-[Aa]fter: [1-9][0-9]*$'
else
	fail legacy_429_shape "no 429 among $CLIENTS simultaneous wrong keys"
fi
t_done
