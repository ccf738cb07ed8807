-- wrk script for the serve benchmark: POSTs one JSON body, then prints the run's figures as
-- one JSON line (latency percentiles in microseconds, as wrk records them).
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("WRK_AUTH")

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"p50_us":%d,"p99_us":%d,"p999_us":%d,"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d}\n',
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout))
end
