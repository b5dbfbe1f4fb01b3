-- bench/update.lua -- wrk script: POST /update, rotating over the bench's accounts and values
-- SPDX-License-Identifier: ISC
-- BENCH_ACCOUNTS names the TSV file accounts.py printed (username, key, subdomain, ...).
-- Each request updates the next account with a new valid value (43 base64url chars).
-- Any status other than 200 is counted, and done() prints bench-* lines for report.py.

local PREFIX = "benchBENCHbench0123456789-_abcdef"	-- 33 chars, + 10 digits = 43
local accounts = {}
local naccounts = 0
local counter = 0
local threads = {}
bad = 0		-- global: done() reads it from each thread with thread:get()

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	local path = os.getenv("BENCH_ACCOUNTS")
	assert(path, "BENCH_ACCOUNTS is not set")
	assert(#PREFIX == 33)
	for line in io.lines(path) do
		local user, key, sub = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)")
		if user then
			naccounts = naccounts + 1
			accounts[naccounts] = { user, key, sub }
		end
	end
	assert(naccounts > 0, "no accounts in " .. path)
end

function request()
	counter = counter + 1
	local a = accounts[counter % naccounts + 1]
	local txt = string.format("%s%010d", PREFIX, counter % 10000000000)
	return wrk.format("POST", "/update",
		{ ["X-Api-User"] = a[1], ["X-Api-Key"] = a[2] },
		'{"subdomain":"' .. a[3] .. '","txt":"' .. txt .. '"}')
end

function response(status, headers, body)
	if status ~= 200 then
		bad = bad + 1
	end
end

function done(summary, latency, requests)
	local nbad = 0
	for _, t in ipairs(threads) do
		nbad = nbad + (t:get("bad") or 0)
	end
	local e = summary.errors
	nbad = nbad + e.connect + e.read + e.write + e.timeout
	io.write(string.format("bench-requests: %d\n", summary.requests))
	io.write(string.format("bench-rps: %.1f\n", summary.requests / (summary.duration / 1e6)))
	io.write(string.format("bench-p99-us: %d\n", latency:percentile(99)))
	io.write(string.format("bench-non200: %d\n", nbad - e.connect - e.read - e.write - e.timeout))
	io.write(string.format("bench-socket-errors: %d\n", e.connect + e.read + e.write + e.timeout))
	io.write(string.format("bench-bad: %d\n", nbad))
end
