-- The seed's POST /url with a token (BENCH_TOKEN) for BENCH_TARGET, Period 100 minutes.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
wrk.method = "POST"
wrk.path = "/url"
wrk.body = '{"URL": "' .. os.getenv("BENCH_TARGET") .. '", "Period": 100}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("BENCH_TOKEN")
