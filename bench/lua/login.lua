-- POST /login of one account (BENCH_EMAIL, BENCH_PASSWORD), over and over.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local body = '{"email": "' .. os.getenv("BENCH_EMAIL") .. '", "password": "' ..
  os.getenv("BENCH_PASSWORD") .. '"}'
wrk.method = "POST"
wrk.path = "/login"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
