-- GET /api/{user}/lists: an organizer's lists (three, each with ten tasks, subtasks included)
-- with their task_count and pending_count, for every organizer in turn.
dofile(os.getenv("BENCH_WRK") .. "/common.lua")

each_user(function(user)
   return { { method = "GET", path = "/api/" .. user.name .. "/lists", headers = bearer(user) } }
end, data.organizers)
