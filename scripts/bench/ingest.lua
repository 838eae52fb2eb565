-- ingest.lua - wrk script of bench.sh's ingest scenario:
--   wrk ... -s ingest.lua http://HOST:PORT/events -- API_KEY TYPE PAD_BYTES
-- POST /events with {"type":TYPE,"data":{"pad":"xx..."}} (PAD_BYTES x's)
-- and counts the 201 answers only: a 201 means the event and its outbox row
-- were committed. Anything else (429, 503, ...) is not an ingested event.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   created = 0
   local headers = {
      ["Authorization"] = "Bearer " .. args[1],
      ["Content-Type"] = "application/json",
   }
   local body = '{"type":"' .. args[2] .. '","data":{"pad":"' ..
      string.rep("x", tonumber(args[3])) .. '"}}'
   req = wrk.format("POST", nil, headers, body)
end

function request()
   return req
end

function response(status, headers, body)
   if status == 201 then
      created = created + 1
   end
end

function done(summary, latency, requests)
   local total = 0
   for _, t in ipairs(threads) do
      total = total + (t:get("created") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d created=%d duration_us=%d status_errors=%d socket_errors=%d p50_us=%d p99_us=%d max_us=%d\n",
      summary.requests, total, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
      latency:percentile(50), latency:percentile(99), latency.max))
end
