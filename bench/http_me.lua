-- wrk script of bench/http.sh for the GET load (authkit's /me and nginx's `return 200`).
-- The request is wrk's static one (URL and -H headers from the command line), so wrk stays
-- on its fast path; this only prints, at the end, one line that http.sh reads:
--   WRK requests=N duration_us=N p50_us=N p90_us=N p99_us=N max_us=N ... (errors)
-- Latencies are in microseconds. status_errors counts answers with a status >= 400.
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "WRK requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d "
         .. "connect_errors=%d read_errors=%d write_errors=%d status_errors=%d timeouts=%d\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
