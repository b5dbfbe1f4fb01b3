#!/usr/bin/env bash
# bench/client.sh -- phase 7 of `make bench`: `dns01 issue` against uacme, wildcard + base
# SPDX-License-Identifier: ISC
#
# Usage: bench/client.sh RESULTS_FILE  (run from the repository root; run.sh calls it)
#
# The offline bed of tests/e2e/bed.sh (Pebble with PEBBLE_VA_NOSLEEP and no authorization
# reuse, unbound, dns01d). Both clients get example.test and *.example.test in one
# order through the same acme-dns account, with an account that already exists, and
# alternate: dns01, uacme, dns01, uacme ... BENCH_CLIENT_ROUNDS times (default 3). Each
# run is wall time from exec to exit. Appends to RESULTS_FILE:
#   client.dns01.secs  one line per round    client.uacme.secs  one line per round
# uacme takes no private CA, so it runs in a private mount namespace with the throwaway
# CA bind-mounted over the system bundle (as tests/e2e/test_uacme.sh does); without
# that (not root, no user namespaces) the uacme rows say n/a.
set -u
RES=${1:?usage: bench/client.sh RESULTS_FILE}
ROUNDS=${BENCH_CLIENT_ROUNDS:-3}
case $ROUNDS in '' | *[!0-9]*) echo "bench: BENCH_CLIENT_ROUNDS must be a number" >&2; exit 2 ;; esac
# shellcheck source=../tests/e2e/bed.sh
. "$(dirname "$0")/../tests/e2e/bed.sh"
note() { printf 'bench: %s\n' "$*" >&2; }
SYS_BUNDLE=/etc/ssl/certs/ca-certificates.crt

if ! bed_need pebble unbound unbound-checkconf unbound-control dig curl openssl python3; then
	note "client phase skipped: missing$BED_MISSING"
	exit 0
fi
[ -x "$DNS01_BIN" ] || { note "client phase skipped: no $DNS01_BIN"; exit 0; }
if ! { bed_make_ca && bed_start_dns01d && bed_start_unbound && bed_start_pebble PEB; } >&2; then
	note "client phase: the test bed did not start"
	exit 1
fi
STORE=$T_DIR/acmedns.json
C=(--directory "$PEB_DIR_URL" --ca-file "$BED_CA" --storage "$STORE" --state-dir "$T_DIR/state"
	--resolver "127.0.0.1:$UB_PORT" --ns-port "$DNS_PORT" --agree-tos -q)
"$DNS01_BIN" register -q --api "$API_URL" --storage "$STORE" example.test >/dev/null || exit 1
eval "$(python3 - "$STORE" <<'PY'
import json, shlex, sys
e = json.load(open(sys.argv[1]))["example.test"]
for k, v in (("FULL", e["fulldomain"]), ("E2E_API_USER", e["username"]),
             ("E2E_API_KEY", e["password"]), ("E2E_API_SUB", e["subdomain"])):
    print("%s=%s" % (k, shlex.quote(v)))
PY
)"
export E2E_API_URL=$API_URL E2E_API_USER E2E_API_KEY E2E_API_SUB
bed_cname example.test "$FULL" >&2 || exit 1

# uacme in its namespace, if the machine allows one.
UNSHARE=(unshare -m --propagation private)
[ "$(id -u)" -eq 0 ] || UNSHARE=(unshare -r -m --propagation private)
HAVE_UACME=0
if command -v uacme >/dev/null 2>&1 && [ -f "$SYS_BUNDLE" ] &&
	"${UNSHARE[@]}" sh -c "mount --bind /dev/null $SYS_BUNDLE" >/dev/null 2>&1; then
	HAVE_UACME=1
else
	note "client phase: uacme cannot run here (not installed, or no private mount namespace)"
fi
U=$T_DIR/uacme
mkdir -p "$U"
uacme_run() {
	timeout -k 5 120 "${UNSHARE[@]}" sh -c 'mount --bind "$0" "$1" && shift && exec "$@"' \
		"$BED_CA" "$SYS_BUNDLE" uacme -c "$U" -a "$PEB_DIR_URL" -y -t EC "$@" >>"$T_DIR/uacme.log" 2>&1
}

# time_run LABEL CMD...: wall seconds of CMD (a command or function, time-limited by the
# caller) into RES as LABEL; non-zero if CMD failed.
time_run() {
	local label=$1 t0 t1
	shift
	t0=$(date +%s%N)
	"$@" </dev/null
	local rc=$?
	t1=$(date +%s%N)
	if [ "$rc" -ne 0 ]; then
		note "$label failed (exit $rc)"
		return 1
	fi
	awk -v a="$t0" -v b="$t1" -v l="$label" 'BEGIN { printf "%s %.3f\n", l, (b - a) / 1e9 }' >>"$RES"
}

# Warm-up, not timed: both accounts exist before the first timed run.
"$DNS01_BIN" issue -d example.test -d '*.example.test' --out "$T_DIR/out" "${C[@]}" >/dev/null ||
	{ note "client phase: dns01 warm-up issue failed"; exit 1; }
[ "$HAVE_UACME" = 1 ] && { uacme_run new || { note "uacme new failed"; HAVE_UACME=0; }; }
for r in $(seq 1 "$ROUNDS"); do
	note "client round $r: dns01 issue, then uacme issue (wildcard + base)"
	time_run client.dns01.secs timeout -k 5 120 "$DNS01_BIN" issue -d example.test -d '*.example.test' \
		--out "$T_DIR/out" "${C[@]}"
	[ "$HAVE_UACME" = 1 ] &&
		time_run client.uacme.secs uacme_run -f -h "$BED_HERE/uacme-hook.sh" issue example.test '*.example.test'
done
exit 0
