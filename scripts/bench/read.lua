-- read.lua - wrk script of bench.sh's read scenario:
--   wrk ... -s read.lua URL -- IDS_FILE API_KEY
-- GET /events/{id} over ids drawn at random from IDS_FILE (one per line),
-- with the tenant's Bearer key. The same script drives the bare server,
-- which ignores path and key: the same load on both.
-- Requests are built once in init() so that wrk's own cost stays low.

local threads = {}
local count = 0

function setup(thread)
   count = count + 1
   thread:set("tid", count)
   table.insert(threads, thread)
end

function init(args)
   local headers = { ["Authorization"] = "Bearer " .. args[2] }
   reqs = {}
   for id in io.lines(args[1]) do
      if id ~= "" then
         reqs[#reqs + 1] = wrk.format("GET", "/events/" .. id, headers)
      end
   end
   math.randomseed(os.time() * 100 + (tid or 0))
end

function request()
   return reqs[math.random(#reqs)]
end

-- One machine-readable line; latencies in microseconds. status_errors:
-- answers with a status above 399 (wrk's own count).
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d status_errors=%d socket_errors=%d p50_us=%d p99_us=%d max_us=%d\n",
      summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
      latency:percentile(50), latency:percentile(99), latency.max))
end
