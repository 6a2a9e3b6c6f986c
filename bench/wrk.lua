-- wrk script for bench/tokens.sh.
--   wrk ... -s bench/wrk.lua URL                 -> GET URL
--   wrk ... -s bench/wrk.lua URL -- 'a=1&b=2'    -> POST the form body to URL
-- Counts responses whose status is not 200 and, when done, prints one line:
--   RESULT secs=<n> req_per_s=<n> p50_ms=<n> p99_ms=<n> non200=<n> socket_errors=<n>

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non200 = 0
  if args[1] then
    wrk.method = "POST"
    wrk.body = args[1]
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non200")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT secs=%.3f req_per_s=%.1f p50_ms=%.2f p99_ms=%.2f non200=%d socket_errors=%d\n",
    summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    bad, e.connect + e.read + e.write + e.timeout))
end
