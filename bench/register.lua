-- bench/register.lua -- wrk script: POST /register with an empty body
-- SPDX-License-Identifier: ISC
-- Any status other than 201 is counted (bench/count.lua).

EXPECT = 201
dofile(os.getenv("BENCH_LUA_DIR") .. "/count.lua")

wrk.method = "POST"
wrk.body = ""
