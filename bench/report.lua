-- wrk script: one JSON line of results at the end.
-- `-- URLFILE` after the URL makes every request pick a random path from URLFILE
-- (one path per line): the random-article mix.
local paths = nil

function init(args)
  if args[1] then
    paths = {}
    for line in io.lines(args[1]) do
      if #line > 0 then paths[#paths + 1] = line end
    end
    math.randomseed(20250630)
  end
end

function request()
  if paths then
    return wrk.format("GET", paths[math.random(#paths)])
  end
  return wrk.format("GET")
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"duration_s":%.3f,"rps":%.2f,"bytes":%d,"p50_ms":%.3f,"p99_ms":%.3f,' ..
    '"errors":%d,"non_2xx":%d}\n',
    summary.requests, secs, summary.requests / secs, summary.bytes,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
