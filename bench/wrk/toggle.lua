-- PATCH /api/{user}/tasks/{id}/complete without a body: flips `completed` of every seeded
-- task of every user, in turn.
dofile(os.getenv("BENCH_WRK") .. "/common.lua")

each_user(function(user)
   local list = {}
   for _, id in ipairs(user.ids) do
      list[#list + 1] = { method = "PATCH", path = "/api/" .. user.name .. "/tasks/" .. id .. "/complete", headers = bearer(user) }
   end
   return list
end)
