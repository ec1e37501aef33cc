-- wrk script for the load benchmark (benchmarks/load_clients.py): POSTs the JSON bodies of a file, one per line,
-- in order and round again, to one path; prints the run's figures as one JSON line at the end.
--   wrk -t1 -c32 -d10s -s benchmarks/wrk_post.lua http://127.0.0.1:PORT -- BODIES PATH "Bearer KEY"

local bodies = {}
local next_body = 0

function init(args)
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
  wrk.method = "POST"
  wrk.path = args[2]
  wrk.headers["Content-Type"] = "application/json"
  if args[3] and args[3] ~= "" then
    wrk.headers["Authorization"] = args[3]
  end
end

function request()
  next_body = next_body % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[next_body])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "seconds": %.6f, "errors": %d, "p50_ms": %.3f, "p95_ms": %.3f, '
      .. '"p99_ms": %.3f, "mean_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6,
    errors.connect + errors.read + errors.write + errors.status + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.mean / 1000))
end
