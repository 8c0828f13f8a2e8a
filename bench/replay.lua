-- wrk script: replays pre-built requests (bench/wrk.py writes them as a Lua file named by BENCH_DATA), counts
-- answers per HTTP status, and prints one JSON line in done() that bench/wrk.py reads.
-- BENCH_ONCE=1: each thread sends its share of the list once, then bench/wrk.py stops wrk (count-bounded);
-- otherwise it cycles through the list until wrk's -d runs out (time-bounded). wrk divides by its whole -d even when threads stop
-- early, so the run's own span is measured here with gettimeofday.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local function now_us()
  local tv = ffi.new("bench_timeval")
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000000 + tonumber(tv.tv_usec)
end

local threads, made = {}, 0
function setup(thread)
  made = made + 1
  thread:set("tid", made)
  table.insert(threads, thread)
end

function init(args)
  local data = dofile(os.getenv("BENCH_DATA"))
  local nthreads = tonumber(os.getenv("BENCH_THREADS"))
  once = os.getenv("BENCH_ONCE") == "1"
  marks = os.getenv("BENCH_MARKS")
  -- Round-robin split: neighbours in the list (the copies of one notification, the redeems of one code) go to
  -- different threads and connections, so they are in flight at the same moment.
  -- A list shorter than the thread count (S0, S1: one request) goes whole to every thread.
  local split = #data >= nthreads
  reqs = {}
  for i, r in ipairs(data) do
    if not split or (i - 1) % nthreads == tid - 1 then
      reqs[#reqs + 1] = wrk.format(r[1], r[2], r[3], r[4])
    end
  end
  idx, count, statuses, first, last, marked = 0, 0, {}, 0, 0, false
end

function request()
  if first == 0 then first = now_us() end
  idx = idx % #reqs + 1
  return reqs[idx]
end

function response(status, headers, body)
  count = count + 1
  statuses[status] = (statuses[status] or 0) + 1
  last = now_us()
  -- Done with its share: tell bench/wrk.py, which ends wrk once every thread is. The thread goes on cycling
  -- until then (at most ~50 ms): stopping it here with wrk.thread:stop() left the other thread's last requests
  -- stalled for seconds (2 s with -d3, 4 s with -d60) in wrk 4.1.0.
  if once and not marked and count >= #reqs then
    marked = true
    local f = io.open(marks .. "/" .. tid, "w")
    f:write("done")
    f:close()
  end
end

function done(summary, latency, requests)
  local parts, total, t0, t1 = {}, {}, nil, 0
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do total[status] = (total[status] or 0) + n end
    local f, l = t:get("first"), t:get("last")
    if f > 0 and (t0 == nil or f < t0) then t0 = f end
    if l > t1 then t1 = l end
  end
  for status, n in pairs(total) do parts[#parts + 1] = string.format('"%d": %d', status, n) end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %d, "wrk_duration_us": %d, "span_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"p999_us": %d, "max_us": %d, "socket_errors": %d, "timeouts": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, t1 - (t0 or t1), latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), latency.max, e.connect + e.read + e.write, e.timeout, table.concat(parts, ", ")))
end
