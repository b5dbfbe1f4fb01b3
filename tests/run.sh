#!/usr/bin/env bash
# tests/run.sh -- run unit, integration and end-to-end tests; the last line is
# "N passed, N failed, N skipped".
# Every test prints "ok - NAME", "FAIL - NAME" or "SKIPPED - NAME: why" per check. A skip
# is only for what the machine forbids (no IPv6, no mount namespaces); a missing test
# tool is a FAIL (sudo deploy/deps.sh --test installs them all).
# ONLY=unit|integration|e2e|fuzz runs one stage; a pattern as $1 filters test files by name.
set -u
cd "$(dirname "$0")/.."
# unbound, pebble's helpers and other daemons live in /usr/sbin and /sbin, which are not
# on a normal user's PATH.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin ;; esac
case ":$PATH:" in *:/sbin:*) ;; *) PATH=$PATH:/sbin ;; esac
export PATH
export B="${B:-build}"
export DNS01D_BIN="$PWD/$B/dns01d" DNS01_BIN="$PWD/$B/dns01"
pattern="${1:-}"
passed=0 failed=0 skipped=0
logdir=$(mktemp -d /tmp/dns01d-tests.XXXXXX)

# run_one NAME CMD...: run a test program, echo its output, count its result lines.
run_one() {
	local name=$1; shift
	local out="$logdir/$(echo "$name" | tr '/' '_').log" rc
	local t0=$SECONDS
	echo "# $name"
	timeout -k 10 900 "$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	echo "# $name took $((SECONDS - t0)) s"
	local p f s
	p=$(grep -c '^ok - ' "$out")
	f=$(grep -c '^FAIL - ' "$out")
	s=$(grep -c '^SKIPPED - ' "$out")
	# A skip must say why ("SKIPPED - NAME: why").
	if grep '^SKIPPED - ' "$out" | grep -qv '^SKIPPED - [^:]*: ..*'; then
		echo "FAIL - $name: a SKIPPED line without a reason"
		f=$((f + 1))
	fi
	grep '^SKIPPED - ' "$out" | sed "s|^|# skipped in $name: |" >>"$logdir/skips"
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
	p0=$passed f0=$failed s0=$skipped
	for t in tests/e2e/test_*.sh; do
		[ -f "$t" ] || continue
		case "$t" in *"$pattern"*) ;; *) continue ;; esac
		run_one "e2e/$(basename "$t")" bash "$t"
	done
	# The same stage as the README's normal user (with sudo) must count the same. Root
	# creates that user; a normal user's own run is that check.
	if [ -z "$pattern" ] && [ "$(id -u)" -eq 0 ]; then
		run_one "e2e/as_user.sh" bash tests/e2e/as_user.sh \
			"$((passed - p0))" "$((failed - f0))" "$((skipped - s0))"
	fi
fi
# The fuzz smoke (make fuzz): each libFuzzer target for FUZZ_SECONDS (default 30; targets
# run one per CPU at once, about 2 minutes in all on two CPUs with the clang build),
# ASan+UBSan, one "ok - fuzz_<target>" each.
# FUZZ_SECONDS=0 leaves the stage out (make check does: the targets already run under
# ASan+UBSan). A name pattern as $1 picks targets.
if stage fuzz && [ "${FUZZ_SECONDS:-30}" != 0 ]; then
	fuzz_targets=""
	for t in dns api config acme acmedns stored; do
		case "fuzz_$t" in *"$pattern"*) fuzz_targets="$fuzz_targets $t" ;; esac
	done
	[ -n "$fuzz_targets" ] && run_one "fuzz" make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-30}" \
	    FUZZ_TARGETS="${fuzz_targets# }"
fi
[ -s "$logdir/skips" ] && cat "$logdir/skips"
echo "# all stages took $SECONDS s"
rm -rf "$logdir"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
