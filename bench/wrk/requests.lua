-- Cycle through pre-rendered HTTP requests, one a line in the file named by BENCH_REQUESTS
-- ("\r\n" written as "\1"). Thread k of n takes lines k, k+n, k+2n, ... so single-use
-- credentials (codes, refresh tokens) are never sent twice while the list lasts; past its end
-- a thread starts over and those requests fail, which done() reports as non-2xx.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  reqs = {}
  local i = 0
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    if i % nthreads == tid then
      reqs[#reqs + 1] = line:gsub("\1", "\r\n")
    end
    i = i + 1
  end
  -- Fewer lines than threads (one fixed request): every thread sends them all.
  if #reqs == 0 then
    for line in io.lines(os.getenv("BENCH_REQUESTS")) do
      reqs[#reqs + 1] = line:gsub("\1", "\r\n")
    end
  end
  pos = 0
  wrapped = 0
end

function request()
  pos = pos + 1
  if pos > #reqs then
    pos = 1
    wrapped = wrapped + 1
  end
  return reqs[pos]
end

function done(summary, latency, requests)
  local wraps = 0
  for _, thread in ipairs(threads) do
    wraps = wraps + (thread:get("wrapped") or 0)
  end
  io.write(string.format(
    "BENCH_JSON {\"requests\": %d, \"duration_us\": %d, \"non2xx\": %d, \"connect_err\": %d, " ..
    "\"read_err\": %d, \"write_err\": %d, \"timeouts\": %d, \"wrapped\": %d, " ..
    "\"p50_us\": %d, \"p90_us\": %d, \"p95_us\": %d, \"p99_us\": %d, \"max_us\": %d, \"mean_us\": %.1f}\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout, wraps,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
