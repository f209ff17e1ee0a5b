-- GET /api/{user}/changes without a cursor: the change feed from the start, i.e. a client's
-- first sync (every one of the reader's 50 tasks as an upsert, and the cursor to continue
-- from), for every reader in turn.
dofile(os.getenv("BENCH_WRK") .. "/common.lua")

each_user(function(user)
   return { { method = "GET", path = "/api/" .. user.name .. "/changes", headers = bearer(user) } }
end)
