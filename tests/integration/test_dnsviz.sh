#!/usr/bin/env bash
# tests/integration/test_dnsviz.sh -- DNSViz finds nothing to warn about, for the zone and
# for a registered name (dnsviz probe -A -E -x ..., then dnsviz grok -l warning)
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

Z=auth.example.org
if ! command -v dnsviz >/dev/null; then
	fail dnsviz_installed "dnsviz is not installed (Debian package dnsviz)"
	t_done
fi
start_default || { fail start "dns01d did not start"; t_done; }
register_ok || fail register "no account"
update "$(txt43 viz1)" >/dev/null
update "$(txt43 viz2)" >/dev/null
NAME=$FULLDOMAIN
register_ok || fail register "no account"
EMPTY_NAME=$FULLDOMAIN

# probe NAME OUT [args...]: an authoritative analysis of NAME against our server only
# ("+": no queries to the ancestors of the zone), with the EDNS compatibility probes.
probe() {
	local name=$1 out=$2
	shift 2
	timeout 60 dnsviz probe -A -E -x "$Z+:$Z=127.0.0.1:$DNS_PORT" -o "$out" "$@" "$name" \
		>"$out.log" 2>&1
}

# grok_clean NAME PROBE_JSON: grok -l warning prints nothing, and the full grok output
# has no "errors" or "warnings" anywhere.
grok_clean() {
	local name=$1 in=$2 out
	out=$(dnsviz grok -l warning -r "$in" 2>&1)
	if [ $? -ne 0 ]; then
		fail "$name" "dnsviz grok failed: $out"
		return
	fi
	if [ -n "$(printf '%s' "$out" | tr -d ' \n{}')" ]; then
		fail "$name" "dnsviz grok -l warning reported: $(printf '%s' "$out" | tr '\n' ' ' | cut -c1-1500)"
		return
	fi
	out=$(dnsviz grok -r "$in" 2>&1 | python3 -c '
import json, sys
found = []
def walk(o, path):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("errors", "warnings") and v:
                found.append("%s/%s: %s" % (path, k, json.dumps(v)[:300]))
            walk(v, path + "/" + k)
    elif isinstance(o, list):
        for v in o:
            walk(v, path)
d = json.load(sys.stdin)
print("names=%d" % len(d))
print("\n".join(found))')
	if [ "$(printf '%s\n' "$out" | sed -n 1p)" = "names=0" ] || ! printf '%s' "$out" | grep -q '^names='; then
		fail "$name" "dnsviz grok analysed nothing: $out"
	elif [ "$(printf '%s\n' "$out" | wc -l)" -gt 1 ]; then
		fail "$name" "$(printf '%s' "$out" | tr '\n' ' ' | cut -c1-1500)"
	else
		ok "$name"
	fi
}

if probe "$Z" "$T_DIR/zone.json"; then
	ok dnsviz_probe_zone
	check dnsviz_probe_zone_reached_server grep -q '"responses": {"127\.0\.0\.1"' "$T_DIR/zone.json"
	grok_clean dnsviz_grok_zone_nothing_to_report "$T_DIR/zone.json"
	# The audit saw NO_COOKIE_OPT: every probe query that carried a cookie must get
	# a server cookie back (dnsviz's cookie_status; queries sent without one are skipped).
	out=$(dnsviz grok -l info -r "$T_DIR/zone.json" 2>&1 | python3 -c '
import json, sys
seen, bad = 0, []
def walk(o):
    global seen
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "cookie_status":
                for srv, st in v.items():
                    if st.get("request") != "NO_COOKIE":
                        seen += 1
                        if st.get("response") != "CLIENT_AND_SERVER_COOKIE":
                            bad.append("%s %s" % (st.get("request"), st.get("response")))
            else:
                walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(json.load(sys.stdin))
print("seen=%d bad=%s" % (seen, ",".join(sorted(set(bad))) or "none"))')
	if printf '%s' "$out" | grep -qE '^seen=[1-9][0-9]* bad=none$'; then
		ok dnsviz_zone_answers_cookies
	else
		fail dnsviz_zone_answers_cookies "cookie status: $out"
	fi
else
	fail dnsviz_probe_zone "$(tail -n 5 "$T_DIR/zone.json.log")"
fi

if probe "$NAME" "$T_DIR/name.json" -R TXT,A,AAAA,CAA,MX; then
	ok dnsviz_probe_registered_name
	if dnsviz grok -r "$T_DIR/name.json" 2>/dev/null | grep -qF -- "$(txt43 viz1)"; then
		ok dnsviz_probe_name_has_txt
	else
		fail dnsviz_probe_name_has_txt "the TXT value is not in the probe of $NAME"
	fi
	grok_clean dnsviz_grok_registered_name_nothing_to_report "$T_DIR/name.json"
else
	fail dnsviz_probe_registered_name "$(tail -n 5 "$T_DIR/name.json.log")"
fi

if probe "$EMPTY_NAME" "$T_DIR/empty.json" -R TXT,A,AAAA; then
	grok_clean dnsviz_grok_name_without_value_nothing_to_report "$T_DIR/empty.json"
else
	fail dnsviz_probe_name_without_value "$(tail -n 5 "$T_DIR/empty.json.log")"
fi

t_done
