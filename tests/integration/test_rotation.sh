#!/usr/bin/env bash
# tests/integration/test_rotation.sh -- TXT value rotation (txt_values) and "served when 200"
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

start_default || { fail start "dns01d did not start"; t_done; }

# --- default: two values per account -----------------------------------------------
register_ok || fail register "no account"
A_USER=$USERNAME A_KEY=$PASSWORD A_SUB=$SUBDOMAIN A_NAME=$FULLDOMAIN
register_ok || fail register "no account"
B_USER=$USERNAME B_KEY=$PASSWORD B_SUB=$SUBDOMAIN B_NAME=$FULLDOMAIN
V1=$(txt43 r1) V2=$(txt43 r2) V3=$(txt43 r3) V4=$(txt43 r4) W1=$(txt43 w1)

t0=$(date +%s)
s1=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "$V1")
s2=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "$V2")
got12=$(txt_values "$A_NAME")
s3=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "$V3")
got23=$(txt_values "$A_NAME")
t1=$(date +%s)
check_eq rotation_updates_200 "$s1|$s2|$s3" "200 {\"txt\":\"$V1\"}|200 {\"txt\":\"$V2\"}|200 {\"txt\":\"$V3\"}"
check_eq rotation_two_values_kept "$got12" "$(sorted "$V1" "$V2")"
check_eq rotation_third_drops_oldest "$got23" "$(sorted "$V2" "$V3")"
echo "# three updates took seconds $t0..$t1"
update_as "$A_USER" "$A_KEY" "$A_SUB" "$V4" >/dev/null
check_eq rotation_fourth_drops_oldest "$(txt_values "$A_NAME")" "$(sorted "$V3" "$V4")"

# Many updates within one second: the newest two always win.
for i in 1 2 3 4 5 6; do
	update_as "$A_USER" "$A_KEY" "$A_SUB" "$(txt43 "burst$i")" >/dev/null
done
check_eq rotation_burst_keeps_newest_two "$(txt_values "$A_NAME")" "$(sorted "$(txt43 burst5)" "$(txt43 burst6)")"

update_as "$B_USER" "$B_KEY" "$B_SUB" "$W1" >/dev/null
check_eq rotation_other_account_separate "$(txt_values "$B_NAME")|$(txt_values "$A_NAME")" \
	"$W1|$(sorted "$(txt43 burst5)" "$(txt43 burst6)")"

# A value the account already holds becomes the newest again, never a duplicate
# (docs/api.md; RFC 2181 §5).
W2=$(txt43 w2) W3=$(txt43 w3)
update_as "$B_USER" "$B_KEY" "$B_SUB" "$W2" >/dev/null
r=$(update_as "$B_USER" "$B_KEY" "$B_SUB" "$W1")
check_eq rotation_same_value_again_200 "$r" "200 {\"txt\":\"$W1\"}"
check_eq rotation_same_value_not_duplicated "$(txt_values "$B_NAME")" "$(sorted "$W1" "$W2")"
update_as "$B_USER" "$B_KEY" "$B_SUB" "$W3" >/dev/null
check_eq rotation_same_value_became_newest "$(txt_values "$B_NAME")" "$(sorted "$W1" "$W3")"

# --- the value is served the moment /update returns 200 ------------------------------
bad=""
for i in $(seq 1 10); do
	v=$(txt43 "now$i")
	r=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "$v")
	got=$(q "$A_NAME" TXT +short | tr -d '"')
	if [ "$r" != "200 {\"txt\":\"$v\"}" ] || ! printf '%s\n' "$got" | grep -qx -- "$v"; then
		bad="round $i: update [$r], served [$got]"
		break
	fi
done
[ -z "$bad" ] && ok served_immediately_after_200_udp || fail served_immediately_after_200_udp "$bad"
bad=""
for i in $(seq 1 5); do
	v=$(txt43 "tcp$i")
	r=$(update_as "$A_USER" "$A_KEY" "$A_SUB" "$v")
	got=$(kdig +tcp +norec +short -p "$DNS_PORT" @127.0.0.1 "$A_NAME" TXT | tr -d '"')
	if [ "$r" != "200 {\"txt\":\"$v\"}" ] || ! printf '%s\n' "$got" | grep -qx -- "$v"; then
		bad="round $i: update [$r], served [$got]"
		break
	fi
done
[ -z "$bad" ] && ok served_immediately_after_200_tcp || fail served_immediately_after_200_tcp "$bad"

# The order is kept in storage: after a restart the newest two are served.
update_as "$A_USER" "$A_KEY" "$A_SUB" "$V1" >/dev/null
update_as "$A_USER" "$A_KEY" "$A_SUB" "$V2" >/dev/null
update_as "$A_USER" "$A_KEY" "$A_SUB" "$V3" >/dev/null
stop_dns01d
if start_dns01d "$CFG"; then
	check_eq rotation_order_survives_restart "$(txt_values "$A_NAME")" "$(sorted "$V2" "$V3")"
	update_as "$A_USER" "$A_KEY" "$A_SUB" "$V4" >/dev/null
	check_eq rotation_after_restart_drops_oldest "$(txt_values "$A_NAME")" "$(sorted "$V3" "$V4")"
else
	fail rotation_restart "dns01d did not restart"
fi
stop_dns01d

# --- txt_values = 3 --------------------------------------------------------------------
new_ports
write_config "$CFG" "" "txt_values = 3"
if start_dns01d "$CFG"; then
	register_ok || fail register3 "no account"
	for i in 1 2 3; do update "$(txt43 "three$i")" >/dev/null; done
	check_eq txt_values_3_keeps_three "$(txt_values "$FULLDOMAIN")" \
		"$(sorted "$(txt43 three1)" "$(txt43 three2)" "$(txt43 three3)")"
	update "$(txt43 three4)" >/dev/null
	check_eq txt_values_3_fourth_drops_oldest "$(txt_values "$FULLDOMAIN")" \
		"$(sorted "$(txt43 three2)" "$(txt43 three3)" "$(txt43 three4)")"
	# An account from the two-value run grows to three with its next update.
	update_as "$A_USER" "$A_KEY" "$A_SUB" "$W1" >/dev/null
	check_eq txt_values_3_existing_account "$(txt_values "$A_NAME")" "$(sorted "$V3" "$V4" "$W1")"
else
	fail txt_values_3_start "dns01d did not start with txt_values = 3"
fi

t_done
