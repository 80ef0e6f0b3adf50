-- POST /api/v1/monitors with a token (BENCH_TOKEN) for BENCH_TARGET every 6000 s, like
-- post_url.lua's Period 100. Names are unique per account: each thread numbers its own
-- after a prefix of the start time and its thread number, so runs on one account never clash.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local target = os.getenv("BENCH_TARGET")
local prefix, n

function init(args)
  prefix = string.format("bench %d-%d", os.time(), thread_id or 0)
  n = 0
  wrk.method = "POST"
  wrk.path = "/api/v1/monitors"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
end

function request()
  n = n + 1
  return wrk.format(nil, nil, nil, string.format(
    '{"url": "%s", "interval_seconds": 6000, "name": "%s %d"}', target, prefix, n))
end
