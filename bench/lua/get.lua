-- GET BENCH_PATH with a bearer token (BENCH_TOKEN). `{id}` in the path becomes a random
-- monitor id between BENCH_ID_MIN and BENCH_ID_MAX for each request.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local path = os.getenv("BENCH_PATH")
local lo = tonumber(os.getenv("BENCH_ID_MIN") or "0")
local hi = tonumber(os.getenv("BENCH_ID_MAX") or "0")
local headers = { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") }

function init(args)
  seed_random()
end

function request()
  local p = path:gsub("{id}", tostring(math.random(lo, hi)))
  return wrk.format("GET", p, headers)
end
