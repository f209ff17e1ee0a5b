-- PATCH /api/{user}/tasks/{id}/complete without a body: flips `completed` of every seeded
-- task of every user, in turn.
dofile(os.getenv("BENCH_WRK") .. "/common.lua")

local next_request

function init(args)
   next_request = cycle(requests_for(function(user)
      local list = {}
      for _, id in ipairs(user.ids) do
         list[#list + 1] = { method = "PATCH", path = "/api/" .. user.name .. "/tasks/" .. id .. "/complete", headers = bearer(user) }
      end
      return list
   end))
end

function request()
   return next_request()
end
