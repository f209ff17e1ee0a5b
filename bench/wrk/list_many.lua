-- GET /api/{user}/tasks across every seeded user: a different token on each request.
dofile(os.getenv("BENCH_WRK") .. "/common.lua")

local next_request

function init(args)
   next_request = cycle(requests_for(function(user)
      return { { method = "GET", path = "/api/" .. user.name .. "/tasks", headers = bearer(user) } }
   end))
end

function request()
   return next_request()
end
