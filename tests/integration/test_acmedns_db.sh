#!/usr/bin/env bash
# tests/integration/test_acmedns_db.sh -- dns01d opens a database written by acme-dns
# (its exact schema, bcrypt "$2a$10$" keys) and existing clients keep working
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

# bcrypt KEY: a "$2a$10$" hash of KEY, as acme-dns (Go's bcrypt, cost 10) writes it.
# $2a$, $2b$ and $2y$ compute the same hash for keys this short; only the prefix differs.
bcrypt() {
	local h=""
	h=$(python3 -W ignore -c '
import crypt, sys
salt = crypt.mksalt(crypt.METHOD_BLOWFISH)[-22:]
print(crypt.crypt(sys.argv[1], "$2a$10$" + salt))' "$1" 2>/dev/null)
	if [ -z "$h" ] && command -v mkpasswd >/dev/null; then
		h=$(mkpasswd -m bcrypt -R 10 "$1" | sed 's/^\$2[by]\$/$2a$/')
	fi
	if [ -z "$h" ] && command -v htpasswd >/dev/null; then
		h=$(htpasswd -nbBC 10 u "$1" | cut -d: -f2 | sed 's/^\$2[by]\$/$2a$/')
	fi
	printf '%s' "$h"
}
key40() { head -c 30 /dev/urandom | base64 | tr '+/' '-_'; }
uuid() { cat /proc/sys/kernel/random/uuid; }

new_ports
U1=$(uuid) S1=$(uuid) K1=$(key40)
U2=$(uuid) S2=$(uuid) K2=$(key40)
U3=$(uuid) S3=$(uuid) K3=$(key40)
U4=$(uuid) K4=$(key40)
H1=$(bcrypt "$K1") H2=$(bcrypt "$K2") H3=$(bcrypt "$K3") H4=$(bcrypt "$K4")
OLD=$(txt43 old-value)
check_re bcrypt_hash_generated "$H1" '^\$2a\$10\$[./A-Za-z0-9]{53}$'

# acme-dns v1.1's SQLite schema and rows, exactly as its db.go creates and fills them.
sqlite3 "$DB" <<SQL
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
INSERT INTO records(Username, Password, Subdomain, AllowFrom) values('$U1', '$H1', '$S1', '[]');
INSERT INTO txt (Subdomain, LastUpdate) values('$S1', 0);
INSERT INTO txt (Subdomain, LastUpdate) values('$S1', 0);
UPDATE txt SET Value='$OLD', LastUpdate=1700000000 WHERE rowid=(SELECT rowid FROM txt WHERE Subdomain='$S1' ORDER BY LastUpdate LIMIT 1);
INSERT INTO records(Username, Password, Subdomain, AllowFrom) values('$U2', '$H2', '$S2', '["192.0.2.0/24"]');
INSERT INTO txt (Subdomain, LastUpdate) values('$S2', 0);
INSERT INTO txt (Subdomain, LastUpdate) values('$S2', 0);
INSERT INTO records(Username, Password, Subdomain, AllowFrom) values('$U3', '$H3', '$S3', '[]');
INSERT INTO txt (Subdomain, LastUpdate) values('$S3', 0);
INSERT INTO txt (Subdomain, LastUpdate) values('$S3', 0);
INSERT INTO records(Username, Password, Subdomain, AllowFrom) values('$U4', '$H4', 'legacy_sub', '[]');
INSERT INTO txt (Subdomain, LastUpdate) values('legacy_sub', 0);
INSERT INTO txt (Subdomain, LastUpdate) values('legacy_sub', 0);
SQL
check_eq acmedns_db_prepared "$(sqlite3 "$DB" 'SELECT count(*) FROM records; SELECT count(*) FROM txt;' | tr '\n' ' ')" "4 8 "

CFG=$T_DIR/config.cfg
write_config "$CFG"
start_dns01d "$CFG" || { fail acmedns_db_opened "dns01d did not start on an acme-dns database"; t_done; }
ok acmedns_db_opened
Z=auth.example.org

check_eq acmedns_existing_value_served "$(txt_values "$S1.$Z")" "$OLD"
r=$(dw query "$S3.$Z" TXT)
check_kv acmedns_account_without_value_nodata "$r" rcode=NOERROR an=0 auth_types=SOA
r=$(dw query "$S2.$Z" A)
check_kv acmedns_account_other_type_nodata "$r" rcode=NOERROR an=0 auth_types=SOA

N1=$(txt43 new-1) N2=$(txt43 new-2) N3=$(txt43 new-3)
r=$(update_as "$U1" "$K1" "$S1" "$N1")
check_eq acmedns_update_with_original_key "$r" "200 {\"txt\":\"$N1\"}"
check_eq acmedns_update_served_with_old_value "$(txt_values "$S1.$Z")" "$(sorted "$OLD" "$N1")"
r=$(update_as "$U1" "$K1" "$S1" "$N2")
check_eq acmedns_second_update_with_original_key "$r" "200 {\"txt\":\"$N2\"}"
check_eq acmedns_rotation_drops_old_value "$(txt_values "$S1.$Z")" "$(sorted "$N1" "$N2")"
r=$(update_as "$U1" "$(key40)" "$S1" "$N3")
check_eq acmedns_wrong_key_forbidden "$r" '401 {"error":"forbidden"}'
r=$(update_as "$U3" "$K1" "$S3" "$N3")
check_eq acmedns_other_accounts_key_forbidden "$r" '401 {"error":"forbidden"}'
r=$(update_as "$U2" "$K2" "$S2" "$N3")
check_eq acmedns_allowfrom_enforced "$r" '401 {"error":"forbidden"}'
UPPER=$(printf '%s' "$U3" | tr 'a-f' 'A-F')
r=$(update_as "$UPPER" "$K3" "$S3" "$N3")
check_eq acmedns_user_header_upper_case "$r" "200 {\"txt\":\"$N3\"}"
check_eq acmedns_third_account_served "$(txt_values "$S3.$Z")" "$N3"
# A hand-edited row whose subdomain is not a label: acme-dns answers bad_subdomain.
r=$(update_as "$U4" "$K4" "legacy_sub" "$N3")
check_eq acmedns_bad_subdomain "$r" '400 {"error":"bad_subdomain"}'

register_ok || fail acmedns_register_new "no account"
r=$(update "$N3")
check_eq acmedns_new_account_in_old_db "$r" 200

# After a restart the original keys still verify (whatever the hash became).
stop_dns01d
if start_dns01d "$CFG"; then
	r=$(update_as "$U1" "$K1" "$S1" "$N3")
	check_eq acmedns_original_key_after_restart "$r" "200 {\"txt\":\"$N3\"}"
	check_eq acmedns_values_after_restart "$(txt_values "$S1.$Z")" "$(sorted "$N2" "$N3")"
	r=$(update_as "$U3" "$K3" "$S3" "$N1")
	check_eq acmedns_second_account_after_restart "$r" "200 {\"txt\":\"$N1\"}"
else
	fail acmedns_restart "dns01d did not start again"
fi

# The database is still one acme-dns can read: its tables and columns are there.
check_eq acmedns_tables_kept "$(sqlite3 "$DB" "SELECT count(*) FROM records WHERE Username = '$U1' AND Subdomain = '$S1'")" 1

t_done
