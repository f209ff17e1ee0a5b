-- GET /api/{user}/tasks: one user's 50 tasks, the same token on every request.
dofile(os.getenv("BENCH_WRK") .. "/common.lua")

local user = data.users[1]
wrk.method = "GET"
wrk.path = "/api/" .. user.name .. "/tasks"
wrk.headers["Authorization"] = "Bearer " .. user.token
