#!/usr/bin/env bash
# tests/run.sh -- run unit, integration and end-to-end tests; end with "N passed, N failed".
# Every test prints "ok - NAME", "FAIL - NAME" or "SKIPPED - NAME: why" per check.
# ONLY=unit|integration|e2e runs one stage; a pattern as $1 filters test files by name.
set -u
cd "$(dirname "$0")/.."
export B="${B:-build}"
export DNS01D_BIN="$PWD/$B/dns01d" DNS01_BIN="$PWD/$B/dns01"
pattern="${1:-}"
passed=0 failed=0 skipped=0
logdir=$(mktemp -d /tmp/dns01d-tests.XXXXXX)

# run_one NAME CMD...: run a test program, echo its output, count its result lines.
run_one() {
	local name=$1; shift
	local out="$logdir/$(echo "$name" | tr '/' '_').log" rc
	echo "# $name"
	timeout -k 10 900 "$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	local p f s
	p=$(grep -c '^ok - ' "$out")
	f=$(grep -c '^FAIL - ' "$out")
	s=$(grep -c '^SKIPPED - ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL - $name: exited with status $rc"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

stage() { [ -z "${ONLY:-}" ] || [ "$ONLY" = "$1" ]; }

if stage unit; then
	for t in "$B"/tests/test_*; do
		[ -x "$t" ] || continue
		case "$t" in *"$pattern"*) ;; *) continue ;; esac
		run_one "unit/$(basename "$t")" "$t"
	done
fi
if stage integration; then
	for t in tests/integration/test_*.sh; do
		[ -f "$t" ] || continue
		case "$t" in *"$pattern"*) ;; *) continue ;; esac
		run_one "integration/$(basename "$t")" bash "$t"
	done
fi
if stage e2e; then
	for t in tests/e2e/test_*.sh; do
		[ -f "$t" ] || continue
		case "$t" in *"$pattern"*) ;; *) continue ;; esac
		run_one "e2e/$(basename "$t")" bash "$t"
	done
fi
rm -rf "$logdir"
[ "$skipped" -gt 0 ] && echo "($skipped skipped)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
