-- wrk script for `make loadtest` (bench/loadtest.py): every request picks a random
-- path from the file given after `--`, responses are counted by status class, and
-- one JSON line of results is written at the end.
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

local paths = {}
counts = { s2 = 0, s3 = 0, s4 = 0, s5 = 0, other = 0 }  -- global: done() reads it from each thread

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  math.randomseed(os.time() + #threads * 7919)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function response(status, headers, body)
  local class = math.floor(status / 100)
  local key = "s" .. class
  if counts[key] then counts[key] = counts[key] + 1 else counts.other = counts.other + 1 end
end

function done(summary, latency, requests)
  local total = { s2 = 0, s3 = 0, s4 = 0, s5 = 0, other = 0 }
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for key, value in pairs(c) do total[key] = total[key] + value end
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"duration_s":%.3f,"rps":%.2f,"bytes":%d,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,' ..
    '"max_ms":%.3f,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"status_2xx":%d,"status_3xx":%d,"status_4xx":%d,"status_5xx":%d,"status_other":%d}\n',
    summary.requests, secs, summary.requests / secs, summary.bytes,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.connect, e.read, e.write, e.timeout,
    total.s2, total.s3, total.s4, total.s5, total.other))
end
