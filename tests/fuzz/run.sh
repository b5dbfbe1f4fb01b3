#!/usr/bin/env bash
# tests/fuzz/run.sh -- run libFuzzer targets for FUZZ_SECONDS each; "ok - fuzz_<target>" per target.
# Usage: B=build-fuzz FUZZ_SECONDS=30 bash tests/fuzz/run.sh dns api ...  (make fuzz builds first)
# FUZZ_JOBS (default: the number of CPUs) targets run at once, one process each.
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
jobs="${FUZZ_JOBS:-$(nproc)}"		# targets run at once (one core each)
work=$(mktemp -d /tmp/dns01d-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
case $jobs in '' | *[!0-9]* | 0) jobs=1 ;; esac

# one TARGET: run it; its report lines go to stdout, and the status is 1 on a finding.
one() {
	local t=$1 bin="$B/fuzz/fuzz_$1" art="$B/fuzz/artifacts/$1" log="$work/$1.log" rc runs speed cov repro
	local -a extra
	if [ ! -x "$bin" ]; then
		echo "FAIL - fuzz_$t: $bin not built (make fuzz)"
		return 1
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
		return 0
	fi
	grep -v '^INFO\|^#[0-9]' "$log" | tail -n 60
	repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	echo "FAIL - fuzz_$t: exit $rc; reproducer: ${repro:-none written}" \
	    "(replay: $bin ${repro:-})"
	return 1
}

# Up to $jobs targets at once, each into its own file; the reports come out in order.
pids=()
for t in "$@"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
	one "$t" >"$work/$t.out" 2>&1 &
	pids+=("$!")
done
i=0
for t in "$@"; do
	wait "${pids[$i]}" || failed=1
	cat "$work/$t.out"
	i=$((i + 1))
done
exit "$failed"
