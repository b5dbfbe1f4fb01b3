-- bench/register.lua -- wrk script: POST /register with an empty body
-- SPDX-License-Identifier: ISC
-- Any status other than 201 is counted, and done() prints bench-* lines for report.py.

local threads = {}
bad = 0		-- global: done() reads it from each thread with thread:get()

wrk.method = "POST"
wrk.body = ""

function setup(thread)
	table.insert(threads, thread)
end

function response(status, headers, body)
	if status ~= 201 then
		bad = bad + 1
	end
end

function done(summary, latency, requests)
	local nbad = 0
	for _, t in ipairs(threads) do
		nbad = nbad + (t:get("bad") or 0)
	end
	local e = summary.errors
	local sock = e.connect + e.read + e.write + e.timeout
	io.write(string.format("bench-requests: %d\n", summary.requests))
	io.write(string.format("bench-rps: %.1f\n", summary.requests / (summary.duration / 1e6)))
	io.write(string.format("bench-p99-us: %d\n", latency:percentile(99)))
	io.write(string.format("bench-non201: %d\n", nbad))
	io.write(string.format("bench-socket-errors: %d\n", sock))
	io.write(string.format("bench-bad: %d\n", nbad + sock))
end
