-- bench/update.lua -- wrk script: POST /update, rotating over the bench's accounts and values
-- SPDX-License-Identifier: ISC
-- BENCH_ACCOUNTS names the TSV file accounts.py printed (username, key, subdomain, ...).
-- Each request updates the next account with a new valid value (43 base64url chars).
-- Any status other than 200 is counted (bench/count.lua).

local PREFIX = "benchBENCHbench0123456789-_abcdef"	-- 33 chars, + 10 digits = 43
local accounts = {}
local naccounts = 0
local counter = 0
EXPECT = 200
dofile(os.getenv("BENCH_LUA_DIR") .. "/count.lua")

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
