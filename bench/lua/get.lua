-- GET BENCH_PATH with a bearer token (BENCH_TOKEN). `{id}` in the path becomes a random
-- monitor id between BENCH_ID_MIN and BENCH_ID_MAX for each request.
--
-- The requests are formatted once, in init: formatting one per request (gsub and
-- wrk.format in Lua) cost wrk a good share of the CPU the server needs on the same cores.
-- Without `{id}` no request() is defined, so wrk sends its one static request.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local path = os.getenv("BENCH_PATH")
local lo = tonumber(os.getenv("BENCH_ID_MIN") or "0")
local hi = tonumber(os.getenv("BENCH_ID_MAX") or "0")
local token = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Authorization"] = token

if path:find("{id}", 1, true) then
  local requests = {}

  function init(args)
    seed_random()
    for id = lo, hi do
      local p = path:gsub("{id}", tostring(id))
      requests[#requests + 1] = wrk.format("GET", p, { ["Authorization"] = token })
    end
  end

  function request()
    return requests[math.random(1, #requests)]
  end
else
  wrk.path = path
end
