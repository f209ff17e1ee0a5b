-- POST /api/{user}/tasks with the body whose INSERT bench/sql/create.sql runs, for every
-- writer in turn (writers own no seeded tasks, so creates never change what lists return).
dofile(os.getenv("BENCH_WRK") .. "/common.lua")

local next_request

function init(args)
   next_request = cycle(requests_for(function(user)
      return { {
         method = "POST",
         path = "/api/" .. user.name .. "/tasks",
         headers = bearer(user, { ["Content-Type"] = "application/json" }),
         body = data.create_body,
      } }
   end, data.writers))
end

function request()
   return next_request()
end
