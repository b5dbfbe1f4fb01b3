#!/usr/bin/env bash
# tests/fuzz/run.sh -- run libFuzzer targets for FUZZ_SECONDS each; "ok - fuzz_<target>" per target.
# Usage: B=build-fuzz FUZZ_SECONDS=30 bash tests/fuzz/run.sh dns api ...  (make fuzz builds first)
# Each target runs on a temporary copy of tests/fuzz/corpus/<target>/, so the tree is
# never written. A finding (crash, leak, UBSan report, timeout, out of memory) is a FAIL
# whose reproducer is kept in $B/fuzz/artifacts/<target>/ and printed with the command
# that replays it.
set -u
cd "$(dirname "$0")/../.."
B="${B:-build-fuzz}"
secs="${FUZZ_SECONDS:-30}"
rss_mb="${FUZZ_RSS_MB:-2048}"		# libFuzzer -rss_limit_mb: more is a finding
unit_timeout="${FUZZ_TIMEOUT:-10}"	# seconds one input may take; more is a finding
work=$(mktemp -d /tmp/dns01d-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0

for t in "$@"; do
	bin="$B/fuzz/fuzz_$t" art="$B/fuzz/artifacts/$t" log="$work/$t.log"
	if [ ! -x "$bin" ]; then
		echo "FAIL - fuzz_$t: $bin not built (make fuzz)"
		failed=1
		continue
	fi
	mkdir -p "$work/corpus/$t" "$work/tmp/$t" "$art"
	# fuzz_api: dnsd frees replaced answers after a grace period and SQLite keeps caches,
	# so allocations never balance within one input, and libFuzzer's per-input leak
	# check would run LeakSanitizer on nearly every input (12 times slower). Leaks are
	# still reported by LeakSanitizer when the process exits.
	extra=()
	[ "$t" = api ] && extra=(-detect_leaks=0)
	cp tests/fuzz/corpus/"$t"/* "$work/corpus/$t/" 2>/dev/null
	# The outer timeout is a backstop for a hung process; libFuzzer stops itself.
	TMPDIR="$work/tmp/$t" timeout -k 10 $((secs * 2 + 120)) "$bin" \
	    -max_total_time="$secs" -rss_limit_mb="$rss_mb" -timeout="$unit_timeout" \
	    -print_final_stats=1 -artifact_prefix="$art/" "${extra[@]}" "$work/corpus/$t" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	echo "# fuzz_$t: ${runs:-?} runs, ${speed:-?} exec/s, ${cov:-cov: ?}, ${secs} s"
	if [ "$rc" -eq 0 ]; then
		echo "ok - fuzz_$t"
		continue
	fi
	grep -v '^INFO\|^#[0-9]' "$log" | tail -n 60
	repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	echo "FAIL - fuzz_$t: exit $rc; reproducer: ${repro:-none written}" \
	    "(replay: $bin ${repro:-})"
	failed=1
done
exit "$failed"
