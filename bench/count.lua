-- bench/count.lua -- shared by the wrk scripts: count unexpected replies and print totals
-- SPDX-License-Identifier: ISC
-- A script sets EXPECT (the one good status) and then loads this file with dofile().
-- done() prints the bench-* lines report.py reads; bench-bad counts every request that
-- got another status or a socket error.

local threads = {}
bad = 0		-- global: done() reads it from each thread with thread:get()

function setup(thread)
	table.insert(threads, thread)
end

function response(status, headers, body)
	if status ~= EXPECT then
		bad = bad + 1
	end
end

function done(summary, latency, requests)
	local nstatus = 0
	for _, t in ipairs(threads) do
		nstatus = nstatus + (t:get("bad") or 0)
	end
	local e = summary.errors
	local sock = e.connect + e.read + e.write + e.timeout
	io.write(string.format("bench-requests: %d\n", summary.requests))
	io.write(string.format("bench-rps: %.1f\n", summary.requests / (summary.duration / 1e6)))
	io.write(string.format("bench-p99-us: %d\n", latency:percentile(99)))
	io.write(string.format("bench-non%d: %d\n", EXPECT, nstatus))
	io.write(string.format("bench-socket-errors: %d\n", sock))
	io.write(string.format("bench-bad: %d\n", nstatus + sock))
end
