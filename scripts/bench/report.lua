-- wrk hook shared by every benchmarked endpoint: one machine-readable line at the end of a run.
-- wrk counts a response with a status of 400 or more as a status error (`summary.errors.status`);
-- run.sh checks beforehand that each endpoint answers 2xx, and no route of the API answers 3xx.
-- Socket errors are wrk's connect, read, write and timeout counters.

function done(summary, latency, requests)
   local e = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "BENCH_RESULT requests=%d seconds=%.3f rps=%.2f p50_us=%d p99_us=%d "
         .. "status_errors=%d connect=%d read=%d write=%d timeout=%d\n",
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50), latency:percentile(99),
      e.status, e.connect, e.read, e.write, e.timeout))
end
