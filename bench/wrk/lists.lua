-- GET /api/{user}/lists: an organizer's lists (three, each with ten tasks, subtasks included)
-- with their task_count and pending_count, for every organizer in turn.
dofile(os.getenv("BENCH_WRK") .. "/common.lua")

local next_request

function init(args)
   next_request = cycle(requests_for(function(user)
      return { { method = "GET", path = "/api/" .. user.name .. "/lists", headers = bearer(user) } }
   end, data.organizers))
end

function request()
   return next_request()
end
