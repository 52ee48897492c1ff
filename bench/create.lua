-- bench/create.sh's load for wrk: POST /v1/approvals with the body of
-- bench_create.c, authenticated by HP_BENCH_KEY for HP_BENCH_AGENT. When the
-- run is done it prints one JSON line: the requests answered, how many of
-- them were not 2xx, the socket errors, the run's length and the latency of
-- the answers (p50, p99, max in milliseconds).
wrk.method = "POST"
wrk.body = '{"question":"Deploy to production?","context_markdown":"Build #123 passed CI.",'
    .. '"options":[{"label":"Approve","value":"approve"},{"label":"Reject","value":"reject"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("HP_BENCH_KEY")
wrk.headers["X-Agent-Id"] = os.getenv("HP_BENCH_AGENT")

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        '{"requests":%d,"status_errors":%d,"socket_errors":%d,"duration_us":%d,'
            .. '"p50_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f}\n',
        summary.requests, e.status, e.connect + e.read + e.write + e.timeout, summary.duration,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
