#!/usr/bin/env bash
# tests/integration/test_api_log.sh -- access log: client IP on every request, keys never
# logged, text and JSON line formats
# SPDX-License-Identifier: ISC
. "$(dirname "$0")/lib.sh"

# exercise: a fixed set of requests; sets MARK (a unique 404 path) and the keys used.
exercise() {
	MARK="/nope-$RANDOM$RANDOM"
	register_ok || fail "register ($1)" "no account"
	WRONG_KEY=$(printf 'K%.0s' $(seq 1 40))
	update "$(txt43 "log-$1")" >/dev/null
	update_as "$USERNAME" "$WRONG_KEY" "$SUBDOMAIN" "$(txt43 x)" >/dev/null
	curl -s -m 5 -o /dev/null "$(api_url "$MARK")"
	curl -s -m 5 -o /dev/null "$(api_url /health)"
	sleep 0.3
}

# never_contains NAME SECRET FILE...: SECRET appears in none of the files.
never_contains() {
	local name=$1 secret=$2 f
	shift 2
	for f in "$@"; do
		if [ -f "$f" ] && grep -qF -- "$secret" "$f"; then
			fail "$name" "found in $f: $(grep -F -- "$secret" "$f" | head -n 1)"
			return
		fi
	done
	ok "$name"
}

# --- text format, logtype = file, loglevel = debug --------------------------------
TEXTLOG=$T_DIR/text.log
LOGTYPE=file LOGFILE=$TEXTLOG LOGFORMAT=text LOGLEVEL=debug start_default ||
	{ fail start "dns01d did not start"; t_done; }
exercise text
check log_file_written [ -s "$TEXTLOG" ]
check_match log_text_register_with_ip "$(grep -F '/register' "$TEXTLOG")" '127\.0\.0\.1'
n=$(grep -F '/update' "$TEXTLOG" | grep -cF '127.0.0.1')
check log_text_each_update_with_ip [ "$n" -ge 2 ]
check_match log_text_unknown_path_with_ip_and_status "$(grep -F -- "$MARK" "$TEXTLOG")" '127\.0\.0\.1.*404|404.*127\.0\.0\.1'
check_match log_text_update_status "$(grep -F '/update' "$TEXTLOG")" '401'
check_eq log_text_not_json "$(head -c 1 "$TEXTLOG")" "$(head -c 1 "$TEXTLOG" | tr -d '{')"
never_contains log_text_key_never_logged "$PASSWORD" "$TEXTLOG" "$T_DIR/dns01d.log"
never_contains log_text_wrong_key_never_logged "$WRONG_KEY" "$TEXTLOG" "$T_DIR/dns01d.log"
stop_dns01d

# --- JSON format, loglevel = info (the default level logs requests) -----------------
JSONLOG=$T_DIR/json.log
LOGTYPE=file LOGFILE=$JSONLOG LOGFORMAT=json LOGLEVEL=info start_default ||
	{ fail start_json "dns01d did not start"; t_done; }
exercise json
check log_json_file_written [ -s "$JSONLOG" ]
r=$(python3 - "$JSONLOG" "$MARK" <<'PY'
import json, sys
bad, objs = [], []
for i, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    try:
        o = json.loads(line)
        if not isinstance(o, dict):
            raise ValueError("not an object")
        objs.append(o)
    except ValueError as e:
        bad.append("line %d: %s: %r" % (i, e, line[:120]))
print("bad=%d" % len(bad), *bad[:2])
print("fields=%d" % sum(1 for o in objs if {"time", "level", "msg"} <= set(o)))
def req(path_part):
    return [o for o in objs if any(isinstance(v, str) and path_part in v for v in o.values())
            and "127.0.0.1" in o.values()]
print("update=%d" % len(req("/update")))
print("mark=%d" % len(req(sys.argv[2])))
print("objs=%d" % len(objs))
PY
)
check_match log_json_every_line_parses "$r" 'bad=0'
check_eq log_json_every_line_has_time_level_msg "$(echo "$r" | sed -n 's/^fields=//p')" "$(echo "$r" | sed -n 's/^objs=//p')"
check_match log_json_update_with_ip_field "$r" 'update=[2-9]'
check_match log_json_unknown_path_with_ip_field "$r" 'mark=[1-9]'
never_contains log_json_key_never_logged "$PASSWORD" "$JSONLOG" "$T_DIR/dns01d.log"
never_contains log_json_wrong_key_never_logged "$WRONG_KEY" "$JSONLOG" "$T_DIR/dns01d.log"

t_done
