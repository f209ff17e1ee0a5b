-- GET /api/{user}/tasks across every seeded user: a different token on each request.
dofile(os.getenv("BENCH_WRK") .. "/common.lua")

each_user(function(user)
   return { { method = "GET", path = "/api/" .. user.name .. "/tasks", headers = bearer(user) } }
end)
