-- GET /api/{user}/tasks?parent_id={parent}&sort=position: the subtasks of one parent (four),
-- in their manual order, for every parent of every organizer in turn.
dofile(os.getenv("BENCH_WRK") .. "/common.lua")

each_user(function(user)
   local list = {}
   for _, parent in ipairs(user.parents) do
      list[#list + 1] = {
         method = "GET",
         path = "/api/" .. user.name .. "/tasks?parent_id=" .. parent .. "&sort=position",
         headers = bearer(user),
      }
   end
   return list
end, data.organizers)
