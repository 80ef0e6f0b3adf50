-- The seed's load test: POST /register with a random 23-character email and a random
-- 12-character password, lowercase keys.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local chars = "abcdefghijklmnopqrstuvwxyz0123456789"

local function random_text(n)
  local out = {}
  for i = 1, n do
    local k = math.random(1, #chars)
    out[i] = chars:sub(k, k)
  end
  return table.concat(out)
end

function init(args)
  seed_random()
end

function request()
  local email = random_text(11) .. "@example.com" -- 11 + 12 = 23 characters
  local body = '{"email": "' .. email .. '", "password": "' .. random_text(12) .. '"}'
  return wrk.format("POST", "/register", { ["Content-Type"] = "application/json" }, body)
end
