-- POST /api/{user}/tasks with the body whose INSERT bench/sql/create.sql runs, for every
-- writer in turn (writers own no seeded tasks, so creates never change what lists return).
dofile(os.getenv("BENCH_WRK") .. "/common.lua")

each_user(function(user)
   return { {
      method = "POST",
      path = "/api/" .. user.name .. "/tasks",
      headers = bearer(user, { ["Content-Type"] = "application/json" }),
      body = data.create_body,
   } }
end, data.writers)
