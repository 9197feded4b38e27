-- wrk script of bench/http.sh for the login flood: POST /login with a JSON body
--   wrk ... -s bench/http_login.lua URL/login -- USERNAME PASSWORD
-- (letters and digits only: they are put into the JSON as they are). Every answer is
-- counted by status, and done() prints one line that http.sh reads:
--   LOGIN ok=N unauthorized=N busy=N other=N requests=N duration_us=N p50_us=N p99_us=N ...
-- ok = 200 (a session was created), unauthorized = 401, busy = 503 (password queue full).
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.body = string.format('{"username":"%s","password":"%s"}', args[1], args[2])
   ok, unauthorized, busy, other = 0, 0, 0, 0
end

function response(status, headers, body)
   if status == 200 then
      ok = ok + 1
   elseif status == 401 then
      unauthorized = unauthorized + 1
   elseif status == 503 then
      busy = busy + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local n = { ok = 0, unauthorized = 0, busy = 0, other = 0 }
   for _, t in ipairs(threads) do
      for k, v in pairs(n) do
         n[k] = v + (t:get(k) or 0)
      end
   end
   local e = summary.errors
   io.write(string.format(
      "LOGIN ok=%d unauthorized=%d busy=%d other=%d requests=%d duration_us=%d "
         .. "p50_us=%d p99_us=%d max_us=%d connect_errors=%d read_errors=%d "
         .. "write_errors=%d timeouts=%d\n",
      n.ok, n.unauthorized, n.busy, n.other, summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(99), latency.max, e.connect, e.read,
      e.write, e.timeout))
end
