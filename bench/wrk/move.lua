-- POST /api/{user}/tasks/{id}/move with {"after": <the next seeded task>}: a drag and drop
-- between two siblings of the inbox (a position between two others; the server renumbers a
-- sibling set whose keys grow too long), for every task of every mover in turn. Movers own
-- only their own tasks, so the reads of the other workloads never change.
dofile(os.getenv("BENCH_WRK") .. "/common.lua")

each_user(function(user)
   local list = {}
   for i, id in ipairs(user.ids) do
      local after = user.ids[i % #user.ids + 1]
      list[#list + 1] = {
         method = "POST",
         path = "/api/" .. user.name .. "/tasks/" .. id .. "/move",
         headers = bearer(user, { ["Content-Type"] = "application/json" }),
         body = '{"after":' .. after .. '}',
      }
   end
   return list
end, data.movers)
