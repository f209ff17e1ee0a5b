-- GET /api/{user}/tasks with a well-formed token signed with the wrong key (HS256: another
-- secret; EdDSA: another Ed25519 key under the published kid): the signature check fails and
-- the answer is a 401 problem. Touches no database.
dofile(os.getenv("BENCH_WRK") .. "/common.lua")

expected_status = 401
unexpected = 0

local user = data.users[1]
wrk.method = "GET"
wrk.path = "/api/" .. user.name .. "/tasks"
wrk.headers["Authorization"] = "Bearer " .. data.forged_token

function response(status, headers, body)
   if status ~= expected_status then
      unexpected = unexpected + 1
   end
end
