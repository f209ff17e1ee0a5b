-- Shared by every workload: loads the data bench/run.sh wrote (users, tokens, task ids) and
-- prints one machine-readable result line that bench/run.sh parses.
--
-- Errors are socket errors, timeouts and any status >= 400, except in a workload that sets
-- `expected_status` (the 401 workload): there, every status other than that one is an error.

data = dofile(os.getenv("BENCH_DATA"))

local threads = {}

function setup(thread)
   threads[#threads + 1] = thread
   thread:set("thread_number", #threads)
end

-- The requests `build(user)` returns for every user of `users` (default: the readers, who
-- own the seeded tasks), flattened, as raw HTTP requests.
function requests_for(build, users)
   local list = {}
   for _, user in ipairs(users or data.users) do
      for _, r in ipairs(build(user)) do
         list[#list + 1] = wrk.format(r.method, r.path, r.headers, r.body)
      end
   end
   return list
end

-- Cycles through `list`, each thread from its own starting point.
function cycle(list)
   local i = ((thread_number or 1) * 7919) % #list
   return function()
      i = i % #list + 1
      return list[i]
   end
end

-- Makes this script's requests those `build(user)` returns for every user of `users` (default:
-- the readers), sent in turn: defines wrk's `init` and `request`.
function each_user(build, users)
   local next_request
   function init(args)
      next_request = cycle(requests_for(build, users))
   end
   function request()
      return next_request()
   end
end

function bearer(user, extra)
   local headers = { ["Authorization"] = "Bearer " .. user.token }
   for k, v in pairs(extra or {}) do headers[k] = v end
   return headers
end

function done(summary, latency, requests)
   local e = summary.errors
   local errors = e.connect + e.read + e.write + e.timeout
   if expected_status then
      for _, thread in ipairs(threads) do
         errors = errors + (thread:get("unexpected") or 0)
      end
   else
      errors = errors + e.status
   end
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "BENCH_RESULT requests=%d rps=%.1f p50_us=%d p99_us=%d errors=%d\n",
      summary.requests, summary.requests / seconds,
      latency:percentile(50), latency:percentile(99), errors))
end
