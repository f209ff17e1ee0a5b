-- GET /api/{user}/tasks/{id}: every seeded task of every user, in turn.
dofile(os.getenv("BENCH_WRK") .. "/common.lua")

each_user(function(user)
   local list = {}
   for _, id in ipairs(user.ids) do
      list[#list + 1] = { method = "GET", path = "/api/" .. user.name .. "/tasks/" .. id, headers = bearer(user) }
   end
   return list
end)
