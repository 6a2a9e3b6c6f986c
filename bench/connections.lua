-- wrk script for bench/connections.sh.
--   wrk ... -s bench/connections.lua URL -- TOKEN         -> GET URL
--   wrk ... -s bench/connections.lua URL -- TOKEN BODY    -> PUT BODY to URL, whose
--       ".../new?..." segment becomes a fresh random 32-hex-digit id per request
-- Sends "Authorization: Bearer TOKEN", counts responses whose status is not
-- 2xx and, when done, prints one line:
--   RESULT secs=<n> req_per_s=<n> p50_ms=<n> p99_ms=<n> non2xx=<n> socket_errors=<n>

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local prefix, suffix, body, get

function init(args)
  non2xx = 0
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  body = args[2]
  get = wrk.format()
  if body then
    wrk.headers["Content-Type"] = "application/json"
    prefix, suffix = wrk.path:match("^(.*/)new(%?.*)$")
    assert(prefix, "the PUT URL must end in /new?...")
    -- Each thread has its own Lua state: seed it from the kernel.
    local f = assert(io.open("/dev/urandom", "rb"))
    local b1, b2, b3, b4 = f:read(4):byte(1, 4)
    f:close()
    math.randomseed(((b1 * 256 + b2) * 256 + b3) * 256 + b4)
  end
end

local function id()
  local parts = {}
  for i = 1, 8 do
    parts[i] = string.format("%04x", math.random(0, 0xffff))
  end
  return table.concat(parts)
end

-- Defining request() makes wrk call it for every request, GETs included; the
-- GET request is built once.
function request()
  if not body then
    return get
  end
  return wrk.format("PUT", prefix .. id() .. suffix, nil, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT secs=%.3f req_per_s=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    bad, e.connect + e.read + e.write + e.timeout))
end
